//! PDF → text, page by page, with lopdf.
//!
//! Text pieces are placed by their position on the page and read top to bottom, left to
//! right, so that a table row (label, value, next label, …) stays on one line whatever
//! order the producer wrote it in. Every step is bounded: file size, pages, objects,
//! decompressed content and wall time, so that a hostile file gets a clear error.

use std::collections::BTreeMap;
use std::io::Read;
use std::time::{Duration, Instant};

use lopdf::Encoding;
use lopdf::content::Content;
use lopdf::{Document, Object, ObjectId};

use crate::Error;

/// Bounds on the work one document may cause.
#[derive(Debug, Clone)]
pub struct Limits {
    pub max_bytes: u64,
    pub max_pages: usize,
    pub max_objects: usize,
    /// Decompressed content streams, summed over the document.
    pub max_content_bytes: usize,
    pub time_budget: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_bytes: 50 * 1024 * 1024,
            max_pages: 1_000,
            max_objects: 500_000,
            max_content_bytes: 64 * 1024 * 1024,
            time_budget: Duration::from_secs(20),
        }
    }
}

/// One page's text in reading order; lines end with `\n`.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    pub number: u32,
    pub text: String,
}

/// Extracts the text of every page, or says why it can't.
pub fn extract(bytes: &[u8], limits: &Limits) -> Result<Vec<Page>, Error> {
    let started = Instant::now();
    if bytes.len() as u64 > limits.max_bytes {
        return Err(Error::TooLarge {
            size: bytes.len() as u64,
            limit: limits.max_bytes,
        });
    }
    // The header may follow a little junk, as readers allow.
    let head = &bytes[..bytes.len().min(1024)];
    if !head.windows(5).any(|w| w == b"%PDF-") {
        return Err(Error::NotPdf);
    }
    // lopdf's parser recurses into nested arrays and dictionaries: refuse nesting that
    // would overflow the stack before it sees it.
    check_nesting(bytes, true)?;
    let doc = Document::load_mem(bytes).map_err(|e| Error::Damaged(e.to_string()))?;
    if doc.trailer.get(b"Encrypt").is_ok() && doc.encryption_state.is_none() {
        return Err(Error::Encrypted);
    }
    if doc.objects.len() > limits.max_objects {
        return Err(Error::TooMany {
            what: "objects",
            count: doc.objects.len(),
            limit: limits.max_objects,
        });
    }
    let deadline = started + limits.time_budget;
    let mut pages = Vec::new();
    let mut content_budget = limits.max_content_bytes;
    for (index, page_id) in doc.page_iter().enumerate() {
        if index >= limits.max_pages {
            return Err(Error::TooMany {
                what: "pages",
                count: doc.page_iter().count(),
                limit: limits.max_pages,
            });
        }
        check_time(deadline, limits)?;
        let text = page_text(&doc, page_id, &mut content_budget, deadline, limits)?;
        pages.push(Page {
            number: index as u32 + 1,
            text,
        });
    }
    if pages.is_empty() {
        return Err(Error::NoPages);
    }
    if pages.iter().all(|p| p.text.trim().is_empty()) {
        return Err(Error::NoText);
    }
    Ok(pages)
}

fn check_time(deadline: Instant, limits: &Limits) -> Result<(), Error> {
    if Instant::now() > deadline {
        Err(Error::TimeBudget(limits.time_budget.as_millis() as u64))
    } else {
        Ok(())
    }
}

/// The page's content streams, decompressed within the remaining budget.
fn page_content(doc: &Document, page_id: ObjectId, budget: &mut usize) -> Result<Vec<u8>, Error> {
    let mut content = Vec::new();
    for id in doc.get_page_contents(page_id) {
        let Ok(stream) = doc.get_object(id).and_then(Object::as_stream) else {
            continue;
        };
        let filters = stream.filters().unwrap_or_default();
        let data = match filters.as_slice() {
            [] => stream.content.clone(),
            [f] if *f == b"FlateDecode" => inflate(&stream.content, *budget)?,
            // Rare filters on content: lopdf decodes them; the budget is checked after.
            _ => stream
                .decompressed_content()
                .unwrap_or_else(|_| stream.content.clone()),
        };
        *budget = budget.checked_sub(data.len()).ok_or(Error::TooMany {
            what: "bytes of decompressed content",
            count: data.len(),
            limit: *budget,
        })?;
        content.extend_from_slice(&data);
        content.push(b'\n');
    }
    Ok(content)
}

/// Deepest nesting of arrays and dictionaries lopdf is given.
const MAX_NESTING: usize = 256;

/// Scans PDF syntax for the depth of `[` and `<<` nesting, skipping strings, comments
/// and (in a whole file) stream data.
fn check_nesting(bytes: &[u8], file: bool) -> Result<(), Error> {
    let (mut depth, mut max, mut i) = (0usize, 0usize, 0usize);
    while i < bytes.len() {
        match bytes[i] {
            b'(' => {
                // A literal string: balanced parentheses, backslash escapes.
                let mut level = 1;
                i += 1;
                while i < bytes.len() && level > 0 {
                    match bytes[i] {
                        b'\\' => i += 1,
                        b'(' => level += 1,
                        b')' => level -= 1,
                        _ => {}
                    }
                    i += 1;
                }
                continue;
            }
            b'%' => {
                while i < bytes.len() && bytes[i] != b'\n' && bytes[i] != b'\r' {
                    i += 1;
                }
            }
            b'[' => depth += 1,
            b']' => depth = depth.saturating_sub(1),
            b'<' if bytes.get(i + 1) == Some(&b'<') => {
                depth += 1;
                i += 1;
            }
            b'>' if bytes.get(i + 1) == Some(&b'>') => {
                depth = depth.saturating_sub(1);
                i += 1;
            }
            b's' if file && bytes[i..].starts_with(b"stream") && !bytes[..i].ends_with(b"end") => {
                // Stream data is binary: skip to its end.
                match find(&bytes[i..], b"endstream") {
                    Some(end) => i += end + 9,
                    None => break,
                }
                continue;
            }
            _ => {}
        }
        max = max.max(depth);
        if max > MAX_NESTING {
            return Err(Error::TooMany {
                what: "levels of nested arrays or dictionaries",
                count: max,
                limit: MAX_NESTING,
            });
        }
        i += 1;
    }
    Ok(())
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn inflate(data: &[u8], limit: usize) -> Result<Vec<u8>, Error> {
    let mut out = Vec::new();
    let mut decoder = flate2::read::ZlibDecoder::new(data).take(limit as u64 + 1);
    // A truncated stream still yields what was readable, as viewers show it.
    let _ = decoder.read_to_end(&mut out);
    if out.len() > limit {
        return Err(Error::TooMany {
            what: "bytes of decompressed content",
            count: out.len(),
            limit,
        });
    }
    Ok(out)
}

/// A piece of text placed on the page.
struct Piece {
    x: f32,
    y: f32,
    size: f32,
    text: String,
}

/// Text state of the content-stream walk: only what placement needs.
#[derive(Clone, Copy)]
struct Matrix([f32; 6]);

impl Matrix {
    const IDENTITY: Matrix = Matrix([1.0, 0.0, 0.0, 1.0, 0.0, 0.0]);

    fn mul(self, o: Matrix) -> Matrix {
        let (a, b) = (self.0, o.0);
        Matrix([
            a[0] * b[0] + a[1] * b[2],
            a[0] * b[1] + a[1] * b[3],
            a[2] * b[0] + a[3] * b[2],
            a[2] * b[1] + a[3] * b[3],
            a[4] * b[0] + a[5] * b[2] + b[4],
            a[4] * b[1] + a[5] * b[3] + b[5],
        ])
    }

    fn translate(tx: f32, ty: f32) -> Matrix {
        Matrix([1.0, 0.0, 0.0, 1.0, tx, ty])
    }
}

fn numbers(operands: &[Object]) -> Vec<f32> {
    operands.iter().filter_map(|o| o.as_float().ok()).collect()
}

fn page_text(
    doc: &Document,
    page_id: ObjectId,
    budget: &mut usize,
    deadline: Instant,
    limits: &Limits,
) -> Result<String, Error> {
    let fonts = doc.get_page_fonts(page_id).unwrap_or_default();
    let encodings: BTreeMap<Vec<u8>, Encoding> = fonts
        .into_iter()
        .filter_map(|(name, font)| font.get_font_encoding(doc).ok().map(|e| (name, e)))
        .collect();
    let data = page_content(doc, page_id, budget)?;
    check_nesting(&data, false)?;
    let Ok(content) = Content::decode(&data) else {
        // Undecodable content: the page has no readable text, the rest of the file may.
        return Ok(String::new());
    };

    let mut pieces = Vec::new();
    let mut ctm = Matrix::IDENTITY;
    let mut stack = Vec::new();
    let (mut tm, mut tlm) = (Matrix::IDENTITY, Matrix::IDENTITY);
    let (mut leading, mut size) = (0.0f32, 10.0f32);
    let mut encoding = None;
    for (i, op) in content.operations.iter().enumerate() {
        if i % 4096 == 0 {
            check_time(deadline, limits)?;
        }
        let n = numbers(&op.operands);
        match op.operator.as_str() {
            "q" => stack.push(ctm),
            "Q" => ctm = stack.pop().unwrap_or(Matrix::IDENTITY),
            "cm" if n.len() == 6 => {
                ctm = Matrix([n[0], n[1], n[2], n[3], n[4], n[5]]).mul(ctm);
            }
            "BT" => {
                tm = Matrix::IDENTITY;
                tlm = Matrix::IDENTITY;
            }
            "Tf" => {
                encoding = op
                    .operands
                    .first()
                    .and_then(|o| o.as_name().ok())
                    .and_then(|name| encodings.get(name));
                if let Some(&s) = n.first() {
                    size = s;
                }
            }
            "TL" if !n.is_empty() => leading = n[0],
            "Td" | "TD" if n.len() == 2 => {
                if op.operator == "TD" {
                    leading = -n[1];
                }
                tlm = Matrix::translate(n[0], n[1]).mul(tlm);
                tm = tlm;
            }
            "Tm" if n.len() == 6 => {
                tlm = Matrix([n[0], n[1], n[2], n[3], n[4], n[5]]);
                tm = tlm;
            }
            "T*" => {
                tlm = Matrix::translate(0.0, -leading).mul(tlm);
                tm = tlm;
            }
            "Tj" | "TJ" | "'" | "\"" => {
                if op.operator == "'" || op.operator == "\"" {
                    tlm = Matrix::translate(0.0, -leading).mul(tlm);
                    tm = tlm;
                }
                let Some(enc) = encoding else { continue };
                let text = decode_operands(enc, &op.operands);
                if text.trim().is_empty() {
                    continue;
                }
                let m = tm.mul(ctm);
                let scale = (m.0[2] * m.0[2] + m.0[3] * m.0[3]).sqrt().max(0.01);
                let chars = text.chars().count() as f32;
                pieces.push(Piece {
                    x: m.0[4],
                    y: m.0[5],
                    size: size * scale,
                    text,
                });
                // Advance roughly by an average glyph width, so that the next piece
                // written without a move lands after this one.
                tm = Matrix::translate(chars * size * 0.5, 0.0).mul(tm);
            }
            _ => {}
        }
    }
    Ok(lay_out(pieces))
}

fn decode_operands(encoding: &Encoding, operands: &[Object]) -> String {
    let mut text = String::new();
    for operand in operands {
        match operand {
            Object::String(bytes, _) => {
                if let Ok(s) = encoding.bytes_to_string(bytes) {
                    text.push_str(&s);
                }
            }
            Object::Array(items) => {
                for item in items {
                    match item {
                        Object::String(bytes, _) => {
                            if let Ok(s) = encoding.bytes_to_string(bytes) {
                                text.push_str(&s);
                            }
                        }
                        // A large negative kern is a word gap in TJ arrays.
                        other => {
                            if other.as_float().is_ok_and(|k| k < -200.0) && !text.ends_with(' ') {
                                text.push(' ');
                            }
                        }
                    }
                }
            }
            _ => {}
        }
    }
    text.replace(['\r', '\n', '\0'], " ")
}

/// Groups pieces into lines by baseline, top to bottom, and orders each line left to right.
fn lay_out(mut pieces: Vec<Piece>) -> String {
    pieces.sort_by(|a, b| b.y.total_cmp(&a.y).then(a.x.total_cmp(&b.x)));
    let mut lines: Vec<(f32, f32, Vec<Piece>)> = Vec::new();
    for piece in pieces {
        match lines.last_mut() {
            Some((y, tol, line)) if (*y - piece.y).abs() <= *tol => line.push(piece),
            _ => {
                let tol = (piece.size * 0.4).max(1.0);
                lines.push((piece.y, tol, vec![piece]));
            }
        }
    }
    let mut out = String::new();
    for (_, _, mut line) in lines {
        line.sort_by(|a, b| a.x.total_cmp(&b.x));
        let mut first = true;
        for piece in line {
            if !first && !out.ends_with(' ') && !piece.text.starts_with(' ') {
                out.push(' ');
            }
            out.push_str(&piece.text);
            first = false;
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn not_a_pdf_is_said() {
        assert!(matches!(
            extract(b"\x89PNG\r\n\x1a\n....", &Limits::default()),
            Err(Error::NotPdf)
        ));
        assert!(matches!(
            extract(b"", &Limits::default()),
            Err(Error::NotPdf)
        ));
    }

    #[test]
    fn truncated_is_damaged() {
        let r = extract(b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog", &Limits::default());
        assert!(
            matches!(r, Err(Error::Damaged(_)) | Err(Error::NoPages)),
            "{r:?}"
        );
    }

    #[test]
    fn deep_nesting_is_refused() {
        let deep = format!("BT {}(x){} TJ ET", "[".repeat(10_000), "]".repeat(10_000));
        assert!(matches!(
            check_nesting(deep.as_bytes(), false),
            Err(Error::TooMany { .. })
        ));
        let strings = format!("BT ({}) Tj ET", "[".repeat(10_000));
        assert!(
            check_nesting(strings.as_bytes(), false).is_ok(),
            "brackets in strings"
        );
        let stream = format!(
            "1 0 obj <<>> stream\n{}\nendstream endobj",
            "[".repeat(10_000)
        );
        assert!(
            check_nesting(stream.as_bytes(), true).is_ok(),
            "stream data is skipped"
        );
    }

    #[test]
    fn too_large_is_refused_before_parsing() {
        let limits = Limits {
            max_bytes: 4,
            ..Limits::default()
        };
        assert!(matches!(
            extract(b"%PDF-1.4 .....", &limits),
            Err(Error::TooLarge { .. })
        ));
    }

    #[test]
    fn lines_group_by_baseline_and_order_by_x() {
        let p = |x, y, t: &str| Piece {
            x,
            y,
            size: 10.0,
            text: t.into(),
        };
        // Written column by column, read row by row.
        let text = lay_out(vec![
            p(50.0, 700.0, "Name:"),
            p(50.0, 680.0, "SSN:"),
            p(200.0, 700.5, "Jane"),
            p(200.0, 680.0, "123"),
        ]);
        assert_eq!(text, "Name: Jane\nSSN: 123\n");
    }
}
