//! PDF → text, page by page, with lopdf.
//!
//! [`open`] loads the file (rebuilding a damaged cross-reference table, opening files
//! encrypted with an empty user password); [`content`] walks each page's content
//! streams and places every glyph, with [`fonts`] saying what text each character code
//! stands for and how wide it is; [`layout`] turns glyphs into words and lines, read top
//! to bottom and left to right so that a table row (label, value, next label, …) stays
//! on one line whatever order the producer wrote it in; [`forms`] adds the values of
//! filled form fields. Every step is bounded: file size, pages, objects, decompressed
//! content and wall time, so that a hostile file gets a clear error.

mod content;
mod encodings;
mod filters;
mod fonts;
mod forms;
mod layout;
mod lexer;
mod open;

use std::time::{Duration, Instant};

use lopdf::{Dictionary, Document, Object, ObjectId};

use crate::Error;
use content::{FontCache, Matrix, Walk};

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
    /// Every glyph with text is drawn invisibly: the text is an OCR layer laid over a
    /// scan by whoever scanned it, as good as their OCR was.
    pub hidden_layer: bool,
}

/// Extracts the text of every page, or says why it can't (also when no page has text:
/// see [`extract_pages`] for reading such pages another way).
pub fn extract(bytes: &[u8], limits: &Limits) -> Result<Vec<Page>, Error> {
    let pages = extract_pages(bytes, limits)?;
    if pages.iter().all(|p| p.text.trim().is_empty()) {
        return Err(Error::NoText(
            "this reads text layers only (`vigil classify` reads such pages by OCR)".into(),
        ));
    }
    Ok(pages)
}

/// As [`extract`], with pages that have no text (scans, image-only pages) kept, empty.
pub fn extract_pages(bytes: &[u8], limits: &Limits) -> Result<Vec<Page>, Error> {
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
    let doc = open::load(bytes)?;
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
    let mut fonts = FontCache::new();
    let page_ids: Vec<ObjectId> = doc.page_iter().take(limits.max_pages + 1).collect();
    if page_ids.len() > limits.max_pages {
        return Err(Error::TooMany {
            what: "pages",
            count: doc.page_iter().count(),
            limit: limits.max_pages,
        });
    }
    let mut fields = forms::field_text(&doc, &page_ids, content_budget);
    for (index, &page_id) in page_ids.iter().enumerate() {
        check_time(deadline, limits)?;
        let mut walk = Walk::new(&doc, &mut fonts, &mut content_budget, deadline, limits);
        let data = page_content(&doc, page_id, walk.budget)?;
        let resources = page_resources(&doc, page_id);
        let matrix = page_matrix(&doc, page_id);
        walk.run(&data, resources, matrix)?;
        if let Ok(page) = doc.get_dictionary(page_id) {
            walk.annotations(page, resources, matrix)?;
        }
        let mut text = compatibility_forms(layout::lay_out(&walk.out));
        let hidden_layer = walk.out.drawn > 0 && walk.out.invisible == walk.out.drawn;
        if let Some(extra) = fields.remove(&index) {
            text.push_str(&extra);
        }
        pages.push(Page {
            number: index as u32 + 1,
            text,
            hidden_layer,
        });
    }
    if pages.is_empty() {
        return Err(Error::NoPages);
    }
    Ok(pages)
}

/// Ligatures (ﬁ), presentation forms (Arabic, full-width digits) and other compatibility
/// characters replaced by what they stand for (NFKC), so that the recognizers see
/// `office` and `123` however the font drew them.
fn compatibility_forms(text: String) -> String {
    use unicode_normalization::UnicodeNormalization;
    if text.is_ascii() {
        text
    } else {
        text.nfkc().collect()
    }
}

fn check_time(deadline: Instant, limits: &Limits) -> Result<(), Error> {
    if Instant::now() > deadline {
        Err(Error::TimeBudget(limits.time_budget.as_millis() as u64))
    } else {
        Ok(())
    }
}

/// The page's content streams, decoded within the remaining budget. A stream whose
/// filter this reader does not know is an error naming it; a missing one is skipped.
fn page_content(doc: &Document, page_id: ObjectId, budget: &mut usize) -> Result<Vec<u8>, Error> {
    let mut content = Vec::new();
    for id in doc.get_page_contents(page_id) {
        let Ok(stream) = doc.get_object(id).and_then(Object::as_stream) else {
            continue;
        };
        let data = filters::decode(doc, stream, *budget)?;
        *budget -= data.len();
        content.extend_from_slice(&data);
        content.push(b'\n');
    }
    Ok(content)
}

/// A page attribute, inherited from its ancestors in the page tree when not its own.
fn inherited<'d>(doc: &'d Document, page_id: ObjectId, key: &[u8]) -> Option<&'d Object> {
    let mut node = doc.get_dictionary(page_id).ok()?;
    for _ in 0..64 {
        if let Ok(value) = node.get(key) {
            return doc.dereference(value).ok().map(|(_, o)| o);
        }
        node = doc
            .get_dictionary(node.get(b"Parent").ok()?.as_reference().ok()?)
            .ok()?;
    }
    None
}

fn page_resources(doc: &Document, page_id: ObjectId) -> Option<&Dictionary> {
    inherited(doc, page_id, b"Resources").and_then(|o| o.as_dict().ok())
}

/// The page's rotation as a matrix, so that text reads upright as a viewer shows it.
fn page_matrix(doc: &Document, page_id: ObjectId) -> Matrix {
    let rotate = inherited(doc, page_id, b"Rotate")
        .and_then(|o| o.as_i64().ok())
        .unwrap_or(0)
        .rem_euclid(360);
    match rotate {
        90 => Matrix([0.0, -1.0, 1.0, 0.0, 0.0, 0.0]),
        180 => Matrix([-1.0, 0.0, 0.0, -1.0, 0.0, 0.0]),
        270 => Matrix([0.0, 1.0, -1.0, 0.0, 0.0, 0.0]),
        _ => Matrix::IDENTITY,
    }
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
}
