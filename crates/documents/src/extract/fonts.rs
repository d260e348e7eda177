//! A PDF font as text extraction needs it: how a shown string splits into character
//! codes, the text each code stands for, and how far each advances.
//!
//! Simple fonts (Type1, TrueType, Type3) have one-byte codes: their text comes from the
//! `ToUnicode` CMap, else the glyph names of `/Encoding` and `/Differences` over the base
//! encoding (the font's own for a standard or embedded Type1 font). Composite (Type0)
//! fonts split codes with their encoding CMap (Identity-H/V, a predefined CMap or an
//! embedded one), and take their text from `ToUnicode`, else the Adobe character
//! collection's UCS-2 map, else the embedded TrueType font's `cmap` table. CMaps are
//! parsed by `hayro-cmap` (with the predefined ones it ships), TrueType tables by
//! `ttf-parser`.

use std::cell::Cell;
use std::collections::HashMap;

use hayro_cmap::{BfString, CMap, CMapName, CidFamily, WritingMode};
use lopdf::{Dictionary, Document, Object};

use super::encodings::{self, BaseEncoding};
use super::filters;

/// Largest number of CID widths read from one `/W` array.
const MAX_CID_WIDTHS: usize = 1 << 17;
/// Largest font program read for its encoding or `cmap` table.
const MAX_FONT_PROGRAM: usize = 16 << 20;

/// One character code of a shown string.
pub(super) struct Code<'a> {
    /// The text it stands for; empty when the font does not say.
    pub text: &'a str,
    /// Its advance, in text space units for a font size of 1 (horizontal fonts) or the
    /// downward advance (vertical fonts).
    pub width: f32,
    /// A one-byte code 32, to which word spacing (`Tw`) applies.
    pub word_space: bool,
}

pub(super) struct Font {
    kind: Kind,
    vertical: bool,
}

enum Kind {
    Simple {
        /// The text of each code.
        text: Vec<String>,
        widths: Box<[f32; 256]>,
    },
    Composite(Box<Composite>),
}

/// A Type0 font: its code splitting, text sources and CID widths.
struct Composite {
    encoding: CMap,
    identity: bool,
    to_unicode: Option<CMap>,
    /// CID → text, for fonts without `ToUnicode` (Adobe collections, TrueType cmap).
    cid_text: CidText,
    /// The encoding CMap maps Unicode code points (UniGB-UCS2-H and kin): a code is
    /// its own text.
    unicode_codes: bool,
    widths: HashMap<u32, f32>,
    default_width: f32,
}

enum CidText {
    None,
    Collection(Box<CMap>),
    /// GID → text from the embedded TrueType font, and the CID → GID map.
    TrueType {
        glyphs: HashMap<u16, char>,
        cid_to_gid: Option<Vec<u16>>,
    },
}

fn resolve<'a>(doc: &'a Document, object: &'a Object) -> Option<&'a Object> {
    doc.dereference(object).ok().map(|(_, o)| o)
}

fn get<'a>(doc: &'a Document, dict: &'a Dictionary, key: &[u8]) -> Option<&'a Object> {
    dict.get(key).ok().and_then(|o| resolve(doc, o))
}

fn number(o: &Object) -> Option<f32> {
    o.as_float().ok().filter(|v| v.is_finite())
}

/// The bytes of a stream object, decoded within `limit` and within what is left of the
/// document's budget of decompressed bytes, which they are charged to.
fn stream_data(
    doc: &Document,
    object: &Object,
    limit: usize,
    budget: &Cell<usize>,
) -> Option<Vec<u8>> {
    let stream = resolve(doc, object)?.as_stream().ok()?;
    let data = filters::decode(doc, stream, limit.min(budget.get())).ok()?;
    budget.set(budget.get().saturating_sub(data.len()));
    Some(data)
}

fn parse_cmap(data: &[u8]) -> Option<CMap> {
    CMap::parse(data, hayro_cmap::load_embedded)
}

/// A CMap given by name (predefined) or as an embedded stream.
fn cmap_object(doc: &Document, object: &Object, budget: &Cell<usize>) -> Option<CMap> {
    match resolve(doc, object)? {
        Object::Name(name) => match name.as_slice() {
            b"Identity-H" => Some(CMap::identity_h()),
            b"Identity-V" => Some(CMap::identity_v()),
            other => hayro_cmap::load_embedded(CMapName::from_bytes(other)).and_then(parse_cmap),
        },
        Object::Stream(_) => parse_cmap(&stream_data(doc, object, MAX_FONT_PROGRAM, budget)?),
        _ => None,
    }
}

impl Font {
    /// Reads a font dictionary. Never fails: what cannot be read gives codes without
    /// text, whose widths still place the text around them.
    /// The font's CMaps and programs are charged to `budget`, the document's remaining
    /// decompressed bytes.
    pub(super) fn load(doc: &Document, dict: &Dictionary, budget: &mut usize) -> Font {
        let subtype = get(doc, dict, b"Subtype").and_then(|o| o.as_name().ok());
        let left = Cell::new(*budget);
        let font = if subtype == Some(b"Type0".as_slice()) {
            Self::composite(doc, dict, &left)
        } else {
            Self::simple(doc, dict, subtype == Some(b"Type3".as_slice()), &left)
        };
        *budget = left.get();
        font
    }

    pub(super) fn vertical(&self) -> bool {
        self.vertical
    }

    fn simple(doc: &Document, dict: &Dictionary, type3: bool, budget: &Cell<usize>) -> Font {
        let base_font = get(doc, dict, b"BaseFont")
            .and_then(|o| o.as_name().ok())
            .map(|n| String::from_utf8_lossy(strip_subset(n)).into_owned())
            .unwrap_or_default();
        let descriptor = get(doc, dict, b"FontDescriptor").and_then(|o| o.as_dict().ok());
        let standard = if descriptor.is_some_and(|d| has_font_file(doc, d)) {
            None
        } else {
            encodings::standard_font(&base_font)
        };
        let symbolic = descriptor
            .and_then(|d| get(doc, d, b"Flags"))
            .and_then(|o| o.as_i64().ok())
            .is_some_and(|flags| flags & 4 != 0);

        // Glyph names: the base encoding, then the differences.
        let encoding = get(doc, dict, b"Encoding");
        let mut base = match encoding {
            Some(Object::Name(name)) => BaseEncoding::from_name(name),
            Some(Object::Dictionary(d)) => get(doc, d, b"BaseEncoding")
                .and_then(|o| o.as_name().ok())
                .and_then(BaseEncoding::from_name),
            _ => None,
        };
        let builtin = if base.is_none() {
            descriptor.and_then(|d| {
                type1_builtin_encoding(doc, d, budget)
                    .or_else(|| cff_builtin_encoding(doc, d, budget))
            })
        } else {
            None
        };
        if base.is_none() && builtin.is_none() {
            base = Some(match standard {
                Some((_, enc)) => enc,
                // A symbolic TrueType font maps codes through its own table; the codes
                // producers use for text in them are nearly always Windows codes.
                None if symbolic && !type3 => BaseEncoding::WinAnsi,
                None => BaseEncoding::Standard,
            });
        }
        let mut names: Vec<Option<String>> = (0..=255u8)
            .map(|code| match (&builtin, base) {
                (Some(b), _) => b[code as usize].clone(),
                (None, Some(base)) => base.glyph_name(code).map(str::to_string),
                (None, None) => None,
            })
            .collect();
        if let Some(Object::Dictionary(d)) = encoding
            && let Some(Object::Array(diffs)) = get(doc, d, b"Differences")
        {
            let mut code = 0usize;
            for item in diffs {
                match resolve(doc, item) {
                    Some(Object::Integer(n)) => code = (*n).clamp(0, 256) as usize,
                    Some(Object::Name(name)) => {
                        if let Some(slot) = names.get_mut(code) {
                            *slot = Some(String::from_utf8_lossy(name).into_owned());
                        }
                        code += 1;
                    }
                    _ => {}
                }
            }
        }

        let to_unicode = get(doc, dict, b"ToUnicode")
            .filter(|o| o.as_stream().is_ok())
            .and_then(|o| stream_data(doc, o, MAX_FONT_PROGRAM, budget))
            .and_then(|data| parse_cmap(&data));
        let text: Vec<String> = (0..=255u8)
            .map(|code| {
                if let Some(t) = to_unicode
                    .as_ref()
                    .and_then(|m| m.lookup_bf_string(code as u32))
                {
                    return bf_text(t);
                }
                let name = names[code as usize].as_deref();
                if let Some(t) = name.and_then(encodings::glyph_unicode) {
                    return t;
                }
                // Type3 fonts (TeX bitmap fonts) name glyphs by their code: `a65`, `g65`.
                if let Some(t) = name.filter(|_| type3).and_then(encodings::numbered_glyph) {
                    return t;
                }
                // Unnamed or unknown glyph: the base encoding's character, if any.
                match (name, base) {
                    (None, Some(base)) => base.unicode(code).map(String::from).unwrap_or_default(),
                    _ => String::new(),
                }
            })
            .map(|t| clean(&t))
            .collect();

        // Widths: /Widths, else the standard font's metrics, else /MissingWidth.
        let scale = if type3 {
            get(doc, dict, b"FontMatrix")
                .and_then(|o| o.as_array().ok())
                .and_then(|m| m.first())
                .and_then(number)
                .map(f32::abs)
                .unwrap_or(0.001)
        } else {
            0.001
        };
        let missing = descriptor
            .and_then(|d| get(doc, d, b"MissingWidth"))
            .and_then(number)
            .filter(|w| *w > 0.0);
        let mut widths = [missing.map_or(0.5, |w| w * scale); 256];
        let mut from_array = [false; 256];
        if let Some(Object::Array(list)) = get(doc, dict, b"Widths") {
            let first = get(doc, dict, b"FirstChar")
                .and_then(|o| o.as_i64().ok())
                .unwrap_or(0)
                .clamp(0, 255) as usize;
            for (i, w) in list.iter().enumerate() {
                let Some(slot) = widths.get_mut(first + i) else {
                    break;
                };
                if let Some(w) = resolve(doc, w).and_then(number) {
                    *slot = w * scale;
                    from_array[first + i] = true;
                }
            }
        }
        if let Some((afm, _)) = standard {
            for code in 0..256 {
                if from_array[code] {
                    continue;
                }
                if let Some(w) = names[code].as_deref().and_then(|n| afm.width(n)) {
                    widths[code] = w * 0.001;
                }
            }
        }
        Font {
            kind: Kind::Simple {
                text,
                widths: Box::new(widths),
            },
            vertical: false,
        }
    }

    fn composite(doc: &Document, dict: &Dictionary, budget: &Cell<usize>) -> Font {
        let encoding = get(doc, dict, b"Encoding")
            .and_then(|o| cmap_object(doc, o, budget))
            .unwrap_or_else(CMap::identity_h);
        let encoding_name = encoding.metadata().name.clone().unwrap_or_default();
        let identity = encoding_name.starts_with(b"Identity");
        let unicode_codes = encoding_name.starts_with(b"Uni")
            && (encoding_name
                .windows(4)
                .any(|w| w == b"UCS2" || w == b"UTF1"));
        let vertical = encoding.metadata().writing_mode == Some(WritingMode::Vertical);
        let to_unicode = get(doc, dict, b"ToUnicode").and_then(|o| match o {
            Object::Stream(_) => {
                stream_data(doc, o, MAX_FONT_PROGRAM, budget).and_then(|d| parse_cmap(&d))
            }
            _ => None,
        });
        let descendant = get(doc, dict, b"DescendantFonts")
            .and_then(|o| o.as_array().ok())
            .and_then(|a| a.first())
            .and_then(|o| resolve(doc, o))
            .and_then(|o| o.as_dict().ok());

        let (mut widths, mut default_width) = (HashMap::new(), 1.0);
        let mut cid_text = CidText::None;
        if let Some(cid_font) = descendant {
            if let Some(dw) = get(doc, cid_font, b"DW").and_then(number) {
                default_width = dw * 0.001;
            }
            if vertical {
                // Vertical advance: the second number of /DW2, −1000 by default.
                default_width = get(doc, cid_font, b"DW2")
                    .and_then(|o| o.as_array().ok())
                    .and_then(|a| a.get(1))
                    .and_then(number)
                    .map(|v| v.abs() * 0.001)
                    .unwrap_or(1.0);
            } else if let Some(Object::Array(w)) = get(doc, cid_font, b"W") {
                widths = cid_widths(doc, w);
            }
            if to_unicode.is_none() {
                cid_text = cid_text_source(doc, cid_font, budget);
            }
        }
        Font {
            kind: Kind::Composite(Box::new(Composite {
                encoding,
                identity,
                to_unicode,
                cid_text,
                unicode_codes,
                widths,
                default_width,
            })),
            vertical,
        }
    }

    /// Splits `bytes` into codes and gives each to `each`.
    pub(super) fn decode(&self, bytes: &[u8], mut each: impl FnMut(Code<'_>)) {
        match &self.kind {
            Kind::Simple { text, widths } => {
                for &b in bytes {
                    each(Code {
                        text: &text[b as usize],
                        width: widths[b as usize],
                        word_space: b == b' ',
                    });
                }
            }
            Kind::Composite(composite) => {
                let Composite {
                    encoding,
                    identity,
                    to_unicode,
                    cid_text,
                    unicode_codes,
                    widths,
                    default_width,
                } = &**composite;
                let mut i = 0;
                let (mut raw, mut text) = (String::new(), String::new());
                while i < bytes.len() {
                    let (code, len, cid) = if *identity {
                        let hi = bytes[i] as u32;
                        let lo = bytes.get(i + 1).copied().unwrap_or(0) as u32;
                        let code = hi << 8 | lo;
                        (code, 2, code)
                    } else {
                        split_code(encoding, &bytes[i..])
                    };
                    i += len;
                    raw.clear();
                    if let Some(t) = to_unicode.as_ref().and_then(|m| m.lookup_bf_string(code)) {
                        push_bf(&mut raw, t);
                    } else if *unicode_codes {
                        raw.extend(char::from_u32(code));
                    } else {
                        match cid_text {
                            CidText::Collection(map) => {
                                if let Some(t) = map.lookup_bf_string(cid) {
                                    push_bf(&mut raw, t);
                                }
                            }
                            CidText::TrueType { glyphs, cid_to_gid } => {
                                let gid = match cid_to_gid {
                                    Some(map) => map.get(cid as usize).copied(),
                                    None => u16::try_from(cid).ok(),
                                };
                                raw.extend(gid.and_then(|g| glyphs.get(&g)).copied());
                            }
                            CidText::None => {}
                        }
                    }
                    text.clear();
                    text.extend(raw.chars().filter_map(clean_char));
                    each(Code {
                        text: &text,
                        width: widths.get(&cid).copied().unwrap_or(*default_width),
                        word_space: len == 1 && code == 32,
                    });
                }
            }
        }
    }
}

/// The code at the start of `bytes` by the CMap's ranges, shortest match first: its
/// value, its length in bytes and its CID. A byte no range covers is a code of its own.
fn split_code(cmap: &CMap, bytes: &[u8]) -> (u32, usize, u32) {
    let mut code = 0u32;
    for len in 1..=bytes.len().min(4) {
        code = code << 8 | bytes[len - 1] as u32;
        if let Some(cid) = cmap.lookup_cid_code(code, len as u8) {
            return (code, len, cid);
        }
    }
    (bytes[0] as u32, 1, 0)
}

fn bf_text(t: BfString) -> String {
    match t {
        BfString::Char(c) => c.to_string(),
        BfString::String(s) => s,
    }
}

fn push_bf(buf: &mut String, t: BfString) {
    match t {
        BfString::Char(c) => buf.push(c),
        BfString::String(s) => buf.push_str(&s),
    }
}

/// Text as it should reach the page: control characters and U+FFFD dropped (fonts map
/// unused codes to them), a no-break space made a space; ligatures and compatibility
/// forms are left to the recognizers.
fn clean_char(c: char) -> Option<char> {
    match c {
        '\u{A0}' => Some(' '),
        '\u{FFFD}' | '\u{FEFF}' => None,
        c if c.is_control() => None,
        c => Some(c),
    }
}

fn clean(text: &str) -> String {
    text.chars().filter_map(clean_char).collect()
}

/// `ABCDEF+Name` → `Name`.
fn strip_subset(name: &[u8]) -> &[u8] {
    match name.get(6) {
        Some(b'+') if name[..6].iter().all(u8::is_ascii_uppercase) => &name[7..],
        _ => name,
    }
}

fn has_font_file(doc: &Document, descriptor: &Dictionary) -> bool {
    [b"FontFile".as_slice(), b"FontFile2", b"FontFile3"]
        .iter()
        .any(|k| get(doc, descriptor, k).is_some())
}

/// The built-in encoding of an embedded Type1 font program: its cleartext part's
/// `dup CODE /name put` entries. `None` when the font uses StandardEncoding or is not
/// a Type1 program.
fn type1_builtin_encoding(
    doc: &Document,
    descriptor: &Dictionary,
    budget: &Cell<usize>,
) -> Option<Vec<Option<String>>> {
    let program = get(doc, descriptor, b"FontFile")?;
    let stream = program.as_stream().ok()?;
    let clear_len = get(doc, &stream.dict, b"Length1")
        .and_then(|o| o.as_i64().ok())
        .unwrap_or(i64::MAX)
        .clamp(0, MAX_FONT_PROGRAM as i64) as usize;
    let data = stream_data(doc, program, MAX_FONT_PROGRAM, budget)?;
    let clear = &data[..data.len().min(clear_len)];
    let text = String::from_utf8_lossy(clear);
    let start = text.find("/Encoding")?;
    let rest = &text[start..];
    if rest[9..].trim_start().starts_with("StandardEncoding") {
        return None;
    }
    let mut codes = vec![None; 256];
    let mut words = rest.split_whitespace().peekable();
    let mut found = false;
    while let Some(word) = words.next() {
        if word == "readonly" || word == "eexec" || word.ends_with("def") && found {
            break;
        }
        if word != "dup" {
            continue;
        }
        let (Some(code), Some(name)) = (words.next(), words.next()) else {
            break;
        };
        if let (Ok(code), Some(name)) = (code.parse::<usize>(), name.strip_prefix('/'))
            && code < 256
        {
            codes[code] = Some(name.to_string());
            found = true;
        }
    }
    found.then_some(codes)
}

/// The built-in encoding of an embedded CFF (Type1C) font program, by `ttf-parser`'s
/// CFF reader: each code's glyph name through the font's encoding and charset.
fn cff_builtin_encoding(
    doc: &Document,
    descriptor: &Dictionary,
    budget: &Cell<usize>,
) -> Option<Vec<Option<String>>> {
    let data = get(doc, descriptor, b"FontFile3")
        .and_then(|o| stream_data(doc, o, MAX_FONT_PROGRAM, budget))?;
    let table = ttf_parser::cff::Table::parse(&data)?;
    let codes: Vec<Option<String>> = (0..=255u8)
        .map(|code| {
            table
                .glyph_index(code)
                .filter(|g| g.0 != 0)
                .and_then(|g| table.glyph_name(g))
                .map(str::to_string)
        })
        .collect();
    codes.iter().any(Option::is_some).then_some(codes)
}

/// `/W [c [w1 w2 …] cfirst clast w …]` in text space units. At most `MAX_CID_WIDTHS`
/// widths are written in all, so that overlapping ranges cannot make it slow.
fn cid_widths(doc: &Document, w: &[Object]) -> HashMap<u32, f32> {
    let mut widths = HashMap::new();
    let mut work = 0usize;
    let mut i = 0;
    while i < w.len() && work < MAX_CID_WIDTHS {
        let Some(first) = resolve(doc, &w[i]).and_then(|o| o.as_i64().ok()) else {
            i += 1;
            continue;
        };
        let first = first.clamp(0, u32::MAX as i64) as u32;
        match w.get(i + 1).and_then(|o| resolve(doc, o)) {
            Some(Object::Array(list)) => {
                for (k, v) in list.iter().enumerate().take(MAX_CID_WIDTHS - work) {
                    if let Some(v) = resolve(doc, v).and_then(number) {
                        widths.insert(first.wrapping_add(k as u32), v * 0.001);
                    }
                }
                work += list.len().max(1);
                i += 2;
            }
            Some(last) => {
                let last = last.as_i64().unwrap_or(first as i64);
                let v = w.get(i + 2).and_then(|o| resolve(doc, o)).and_then(number);
                if let Some(v) = v {
                    let span =
                        (last - first as i64).clamp(0, (MAX_CID_WIDTHS - work) as i64) as u32;
                    for cid in 0..=span {
                        widths.insert(first.wrapping_add(cid), v * 0.001);
                    }
                    work += span as usize + 1;
                } else {
                    work += 1;
                }
                i += 3;
            }
            None => break,
        }
    }
    widths
}

/// Where the text of a CID comes from when the font has no `ToUnicode`.
fn cid_text_source(doc: &Document, cid_font: &Dictionary, budget: &Cell<usize>) -> CidText {
    let info = get(doc, cid_font, b"CIDSystemInfo").and_then(|o| o.as_dict().ok());
    let field = |k: &[u8]| {
        info.and_then(|d| get(doc, d, k))
            .and_then(|o| o.as_str().ok())
            .map(<[u8]>::to_vec)
            .unwrap_or_default()
    };
    let family = CidFamily::from_registry_ordering(&field(b"Registry"), &field(b"Ordering"));
    if let Some(map) = family
        .ucs2_cmap()
        .and_then(hayro_cmap::load_embedded)
        .and_then(parse_cmap)
    {
        return CidText::Collection(Box::new(map));
    }
    let program = get(doc, cid_font, b"FontDescriptor")
        .and_then(|o| o.as_dict().ok())
        .and_then(|d| d.get(b"FontFile2").ok())
        .and_then(|o| stream_data(doc, o, MAX_FONT_PROGRAM, budget));
    let Some(program) = program else {
        return CidText::None;
    };
    let glyphs = truetype_glyph_text(&program);
    let cid_to_gid = get(doc, cid_font, b"CIDToGIDMap")
        .filter(|o| o.as_stream().is_ok())
        .and_then(|o| stream_data(doc, o, 1 << 17, budget))
        .map(|d| {
            d.chunks_exact(2)
                .map(|c| u16::from_be_bytes([c[0], c[1]]))
                .collect()
        });
    CidText::TrueType { glyphs, cid_to_gid }
}

/// GID → character from a TrueType font's Unicode `cmap` subtables.
fn truetype_glyph_text(program: &[u8]) -> HashMap<u16, char> {
    let mut glyphs = HashMap::new();
    let Ok(face) = ttf_parser::Face::parse(program, 0) else {
        return glyphs;
    };
    let Some(cmap) = face.tables().cmap else {
        return glyphs;
    };
    for table in cmap.subtables {
        if !table.is_unicode() {
            continue;
        }
        table.codepoints(|cp| {
            if let (Some(gid), Some(c)) = (table.glyph_index(cp), char::from_u32(cp)) {
                glyphs.entry(gid.0).or_insert(c);
            }
        });
    }
    glyphs
}

#[cfg(test)]
mod tests {
    use super::*;
    use lopdf::dictionary;

    fn texts(font: &Font, bytes: &[u8]) -> Vec<(String, f32)> {
        let mut out = Vec::new();
        font.decode(bytes, |c| out.push((c.text.to_string(), c.width)));
        out
    }

    #[test]
    fn a_standard_font_uses_its_metrics_and_differences() {
        let doc = Document::with_version("1.5");
        let dict = dictionary! {
            "Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Helvetica",
            "Encoding" => dictionary! {
                "BaseEncoding" => "WinAnsiEncoding",
                "Differences" => vec![65.into(), Object::Name(b"eacute".to_vec())],
            },
        };
        let font = Font::load(&doc, &dict, &mut { usize::MAX });
        let out = texts(&font, b"AB ");
        assert_eq!(out[0].0, "é");
        assert_eq!(out[1].0, "B");
        assert!((out[1].1 - 0.667).abs() < 1e-6, "{out:?}");
        assert!((out[2].1 - 0.278).abs() < 1e-6);
    }

    #[test]
    fn overlapping_width_ranges_stay_bounded() {
        let doc = Document::new();
        let mut w = Vec::new();
        for _ in 0..10_000 {
            w.extend([
                Object::Integer(0),
                Object::Integer(1_000_000),
                Object::Integer(500),
            ]);
        }
        let started = std::time::Instant::now();
        let widths = cid_widths(&doc, &w);
        assert!(widths.len() <= MAX_CID_WIDTHS + 1);
        assert!(started.elapsed() < std::time::Duration::from_secs(2));
    }

    #[test]
    fn identity_h_without_to_unicode_is_two_byte_codes() {
        let doc = Document::with_version("1.5");
        let dict = dictionary! {
            "Subtype" => "Type0", "Encoding" => "Identity-H",
            "DescendantFonts" => vec![Object::Dictionary(dictionary! {
                "Subtype" => "CIDFontType0", "DW" => 500,
                "W" => vec![3.into(), vec![Object::Integer(250)].into()],
                "CIDSystemInfo" => dictionary! {
                    "Registry" => Object::string_literal("Adobe"),
                    "Ordering" => Object::string_literal("Japan1"),
                    "Supplement" => 2,
                },
            })],
        };
        let font = Font::load(&doc, &dict, &mut { usize::MAX });
        // CID 843 of Adobe-Japan1 is HIRAGANA LETTER A.
        let out = texts(&font, &[0x03, 0x4B, 0x00, 0x03]);
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].0, "あ");
        assert!((out[0].1 - 0.5).abs() < 1e-6);
        assert!((out[1].1 - 0.25).abs() < 1e-6);
    }
}
