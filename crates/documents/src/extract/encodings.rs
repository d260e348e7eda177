//! Simple fonts' one-byte encodings: code → glyph name → Unicode, and the widths of the
//! standard 14 fonts, which PDFs may use without a `/Widths` array.
//!
//! The tables come from maintained crates rather than being written out here: the
//! standard 14 fonts' Adobe AFM files (`pdf-core-14-font-afms`, which also carry the
//! StandardEncoding, Symbol and ZapfDingbats code tables), the Adobe Glyph List for New
//! Fonts (`glyph-names`), and Windows-1252 and Mac Roman from `encoding_rs`.

use std::collections::HashMap;
use std::sync::LazyLock;

/// An encoding a simple font can name in `/Encoding` or `/BaseEncoding`, or the built-in
/// encoding of a standard font.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum BaseEncoding {
    Standard,
    WinAnsi,
    MacRoman,
    Symbol,
    ZapfDingbats,
}

impl BaseEncoding {
    pub(super) fn from_name(name: &[u8]) -> Option<Self> {
        match name {
            b"StandardEncoding" => Some(Self::Standard),
            b"WinAnsiEncoding" => Some(Self::WinAnsi),
            // MacExpertEncoding holds small caps and old-style figures: the Mac Roman
            // letters are the nearest readable text.
            b"MacRomanEncoding" | b"MacExpertEncoding" => Some(Self::MacRoman),
            _ => None,
        }
    }

    /// The glyph name at `code`, if the encoding defines one.
    pub(super) fn glyph_name(self, code: u8) -> Option<&'static str> {
        match self {
            Self::Standard => STANDARD.codes[code as usize],
            Self::Symbol => SYMBOL.codes[code as usize],
            Self::ZapfDingbats => DINGBATS.codes[code as usize],
            Self::WinAnsi | Self::MacRoman => self
                .unicode(code)
                .and_then(|c| glyph_names::glyph_name(c as u32).and_then(static_name)),
        }
    }

    /// The character at `code`.
    pub(super) fn unicode(self, code: u8) -> Option<char> {
        match self {
            Self::WinAnsi => single_byte(encoding_rs::WINDOWS_1252, code),
            Self::MacRoman => single_byte(encoding_rs::MACINTOSH, code),
            Self::Standard | Self::Symbol | Self::ZapfDingbats => self
                .glyph_name(code)
                .and_then(glyph_unicode)
                .and_then(|s| s.chars().next()),
        }
    }
}

/// The glyph names of `glyph-names` are `Cow`s of static strings for AGLFN names and
/// owned `uniXXXX` strings otherwise; only the static ones are worth keeping as names.
fn static_name(name: std::borrow::Cow<'static, str>) -> Option<&'static str> {
    match name {
        std::borrow::Cow::Borrowed(s) => Some(s),
        std::borrow::Cow::Owned(_) => None,
    }
}

fn single_byte(encoding: &'static encoding_rs::Encoding, code: u8) -> Option<char> {
    if code < 0x20 {
        return None;
    }
    let byte = [code];
    let (text, _, bad) = encoding.decode(&byte);
    if bad {
        return None;
    }
    text.chars().next().filter(|c| !c.is_control())
}

/// Glyph names the Adobe Glyph List for New Fonts leaves out but fonts use for text.
const EXTRA_NAMES: &[(&str, &str)] = &[
    ("ff", "ff"),
    ("ffi", "ffi"),
    ("ffl", "ffl"),
    ("fi", "fi"),
    ("fl", "fl"),
    ("dotlessj", "ȷ"),
    ("nbspace", "\u{a0}"),
    ("sfthyphen", "-"),
    ("softhyphen", "-"),
    ("hyphenminus", "-"),
    ("minus", "-"),
    ("bullet", "•"),
    ("quotesingle", "'"),
    ("middot", "·"),
    ("Euro", "€"),
    ("apple", ""),
];

static GLYPHS: LazyLock<HashMap<&'static str, String>> = LazyLock::new(|| {
    let mut map: HashMap<&'static str, String> = glyph_names::GLYPH_NAME_PAIRS
        .iter()
        .map(|&(c, name)| (name, c.to_string()))
        .collect();
    for &(name, text) in EXTRA_NAMES {
        map.insert(name, text.to_string());
    }
    map
});

/// The text a glyph name stands for, by the Adobe Glyph List's rules: a listed name,
/// `uniXXXX…` (groups of four hex digits), `uXXXX` to `uXXXXXX`, and a name with a
/// `.suffix` (variants such as `a.sc`) or `_` (ligatures such as `f_f_i`).
pub(super) fn glyph_unicode(name: &str) -> Option<String> {
    if let Some(text) = GLYPHS.get(name) {
        return Some(text.clone());
    }
    let base = name.split('.').next().unwrap_or(name);
    if base.is_empty() {
        return None;
    }
    if base.contains('_') {
        let parts: Option<String> = base.split('_').map(glyph_unicode).collect();
        return parts.filter(|s| !s.is_empty());
    }
    if base != name {
        return glyph_unicode(base);
    }
    if let Some(hex) = name.strip_prefix("uni")
        && !hex.is_empty()
        && hex.len() % 4 == 0
        && hex.bytes().all(|b| b.is_ascii_hexdigit())
    {
        return hex
            .as_bytes()
            .chunks(4)
            .map(|c| {
                std::str::from_utf8(c)
                    .ok()
                    .and_then(|h| u32::from_str_radix(h, 16).ok())
                    .and_then(char::from_u32)
            })
            .collect();
    }
    if let Some(hex) = name.strip_prefix('u')
        && (4..=6).contains(&hex.len())
        && hex.bytes().all(|b| b.is_ascii_hexdigit())
    {
        return u32::from_str_radix(hex, 16)
            .ok()
            .and_then(char::from_u32)
            .map(String::from);
    }
    None
}

/// A glyph named by a character code, as TeX's bitmap fonts and some converters write
/// them: one or two letters then a decimal code (`a65`, `g65`, `Cd65`), read as that
/// code's character (poppler's rule for unknown names).
pub(super) fn numbered_glyph(name: &str) -> Option<String> {
    let digits = name.trim_start_matches(|c: char| c.is_ascii_alphabetic());
    let prefix = name.len() - digits.len();
    if !(1..=2).contains(&prefix) || !(2..=3).contains(&digits.len()) {
        return None;
    }
    let code: u32 = digits.parse().ok()?;
    (32..127)
        .contains(&code)
        .then(|| char::from_u32(code).map(String::from))
        .flatten()
}

/// One standard font's AFM: the code table of its built-in encoding and its widths.
pub(super) struct Afm {
    codes: [Option<&'static str>; 256],
    widths: HashMap<&'static str, f32>,
}

impl Afm {
    /// The advance width of a glyph, in thousandths of the font size.
    pub(super) fn width(&self, glyph: &str) -> Option<f32> {
        self.widths.get(glyph).copied()
    }

    /// Parses the `C code ; WX width ; N name ;` lines of an AFM file. The files are
    /// fixed data shipped by a crate; a line that does not parse is skipped.
    fn parse(text: &'static str) -> Afm {
        let mut afm = Afm {
            codes: [None; 256],
            widths: HashMap::new(),
        };
        for line in text.lines().filter(|l| l.starts_with("C ")) {
            let (mut code, mut width, mut name) = (None, None, None);
            for field in line.split(';') {
                let mut words = field.split_whitespace();
                match (words.next(), words.next()) {
                    (Some("C"), Some(v)) => code = v.parse::<i32>().ok(),
                    (Some("WX"), Some(v)) => width = v.parse::<f32>().ok(),
                    (Some("N"), Some(v)) => name = Some(v),
                    _ => {}
                }
            }
            let Some(name) = name else { continue };
            if let Some(w) = width {
                afm.widths.insert(name, w);
            }
            if let Some(c) = code.and_then(|c| u8::try_from(c).ok()) {
                afm.codes[c as usize] = Some(name);
            }
        }
        afm
    }
}

static STANDARD: LazyLock<Afm> = LazyLock::new(|| Afm::parse(pdf_core_14_font_afms::TIMES_ROMAN));
static SYMBOL: LazyLock<Afm> = LazyLock::new(|| Afm::parse(pdf_core_14_font_afms::SYMBOL));
static DINGBATS: LazyLock<Afm> = LazyLock::new(|| Afm::parse(pdf_core_14_font_afms::ZAPF_DINGBATS));

macro_rules! afm {
    ($name:ident, $data:ident) => {
        static $name: LazyLock<Afm> = LazyLock::new(|| Afm::parse(pdf_core_14_font_afms::$data));
    };
}
afm!(HELVETICA, HELVETICA);
afm!(HELVETICA_BOLD, HELVETICA_BOLD);
afm!(TIMES_BOLD, TIMES_BOLD);
afm!(TIMES_ITALIC, TIMES_ITALIC);
afm!(TIMES_BOLD_ITALIC, TIMES_BOLD_ITALIC);
afm!(COURIER, COURIER);

/// A standard 14 font (or a common alias of one), by its base font name with any
/// subset prefix removed: its metrics and built-in encoding.
pub(super) fn standard_font(base_font: &str) -> Option<(&'static Afm, BaseEncoding)> {
    let name = base_font.replace([' ', '-', ','], "").to_ascii_lowercase();
    let bold = name.contains("bold");
    let italic = name.contains("italic") || name.contains("oblique");
    let afm: &'static Afm = if name.starts_with("courier") {
        &COURIER
    } else if name.starts_with("helvetica") || name.starts_with("arial") {
        if bold { &HELVETICA_BOLD } else { &HELVETICA }
    } else if name.starts_with("times") {
        match (bold, italic) {
            (true, true) => &TIMES_BOLD_ITALIC,
            (true, false) => &TIMES_BOLD,
            (false, true) => &TIMES_ITALIC,
            (false, false) => &STANDARD,
        }
    } else if name.starts_with("symbol") {
        return Some((&SYMBOL, BaseEncoding::Symbol));
    } else if name.starts_with("zapfdingbats") {
        return Some((&DINGBATS, BaseEncoding::ZapfDingbats));
    } else {
        return None;
    };
    Some((afm, BaseEncoding::Standard))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glyph_names_follow_the_glyph_list_rules() {
        assert_eq!(glyph_unicode("A").as_deref(), Some("A"));
        assert_eq!(glyph_unicode("eacute").as_deref(), Some("é"));
        assert_eq!(glyph_unicode("uni00410042").as_deref(), Some("AB"));
        assert_eq!(glyph_unicode("u1F600").as_deref(), Some("😀"));
        assert_eq!(glyph_unicode("f_f_i").as_deref(), Some("ffi"));
        assert_eq!(glyph_unicode("a.sc").as_deref(), Some("a"));
        assert_eq!(glyph_unicode("g123"), None);
        assert_eq!(numbered_glyph("a65").as_deref(), Some("A"));
        assert_eq!(numbered_glyph("alpha"), None);
    }

    #[test]
    fn base_encodings_map_codes() {
        assert_eq!(BaseEncoding::WinAnsi.unicode(0x80), Some('€'));
        assert_eq!(BaseEncoding::MacRoman.unicode(0x8E), Some('é'));
        assert_eq!(BaseEncoding::Standard.unicode(0x27), Some('’'));
        assert_eq!(BaseEncoding::Standard.glyph_name(b'A'), Some("A"));
        assert_eq!(BaseEncoding::Symbol.unicode(b'a'), Some('α'));
        assert_eq!(BaseEncoding::WinAnsi.glyph_name(b'e'), Some("e"));
    }

    #[test]
    fn standard_fonts_have_widths() {
        let (afm, enc) = standard_font("Helvetica-Bold").unwrap();
        assert_eq!(enc, BaseEncoding::Standard);
        assert_eq!(afm.width("space"), Some(278.0));
        assert_eq!(standard_font("Courier").unwrap().0.width("A"), Some(600.0));
        assert!(standard_font("Calibri").is_none());
    }
}
