//! Pages without a text layer (scans, photos, image-only exports), read by OCR
//! (`vigil-ocr`) into the same page text the recognizers and the model read.
//!
//! Findings on such a page say so: their detector is `ocr`, their `ocr_confidence` the
//! lowest confidence of the words they span, and their evidence keeps which part of the
//! classifier found them. A page OCR could not read (the page limit, the time budget, a
//! page too large to render) leaves the verdict standing only when the pages read
//! already make the document `pii`; a `no_pii` that skipped pages would be a guess.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use vigil_core::{Detector, DocumentVerdict, EntityKind, Finding, Verdict};
use vigil_ocr::{Ocr, Word};

use crate::recognizers::{self, THRESHOLD};
use crate::{Error, Page};

/// Whether, and with what, pages without a text layer are read.
#[derive(Clone, Default)]
pub enum OcrUse {
    /// Such pages stay empty; a document of only such pages is an error that says so.
    #[default]
    Off,
    /// OCR was asked for but could not start (the reason says what to install).
    Unavailable(String),
    On(Arc<Ocr>),
}

impl OcrUse {
    /// Tesseract with `settings`, or why it cannot start: documents with a text layer are
    /// still read; scans then get an error verdict that says this.
    pub fn open(settings: vigil_ocr::OcrSettings) -> OcrUse {
        match Ocr::open(settings) {
            Ok(ocr) => OcrUse::On(Arc::new(ocr)),
            Err(e) => OcrUse::Unavailable(e.to_string()),
        }
    }
}

/// What OCR did for one document.
#[derive(Debug, Default)]
pub struct Reading {
    /// Each page read by OCR, with its words.
    pub words: BTreeMap<u32, Vec<Word>>,
    /// Pages without text that OCR did not read, with why.
    pub unread: Vec<(u32, String)>,
    /// Byte ranges, by page, where OCR's misreadings inside a value were undone (see
    /// [`read_misreadings`]).
    pub confusions: BTreeMap<u32, Vec<(usize, usize)>>,
    pub ms: f64,
}

impl Reading {
    pub fn pages_read(&self) -> u32 {
        self.words.len() as u32
    }
}

/// An invisible OCR layer whose share of word-like tokens is below this is read again.
/// Printed English scores 0.9 and more (names, numbers and codes are word-like); layers
/// from a poor OCR, full of `l1|` and `rn`-for-`m` fragments, score far less.
const GOOD_LAYER: f32 = 0.8;

/// The share of tokens (two characters or more, punctuation around them set aside) that
/// look like words or numbers: letters only, in one case or capitalised, with a vowel
/// (or in a script without Latin vowels); or digits with number punctuation.
pub fn word_share(text: &str) -> f32 {
    let (mut seen, mut plausible) = (0u32, 0u32);
    for token in text.split_whitespace() {
        let t = token.trim_matches(|c: char| !c.is_alphanumeric());
        if t.chars().count() < 2 {
            continue;
        }
        seen += 1;
        let letters = t.chars().all(char::is_alphabetic);
        let cased =
            t.chars().skip(1).all(char::is_lowercase) || t.chars().all(|c| !c.is_lowercase());
        let voiced = t
            .chars()
            .any(|c| "aeiouyAEIOUY".contains(c) || (c.is_alphabetic() && !c.is_ascii()));
        let number = t.chars().any(|c| c.is_ascii_digit())
            && t.chars()
                .all(|c| c.is_ascii_digit() || ".,/-:$%()".contains(c));
        if (letters && cased && voiced) || number {
            plausible += 1;
        }
    }
    if seen == 0 {
        0.0
    } else {
        plausible as f32 / seen as f32
    }
}

/// Reads, in place, the pages of `pages` that have no text, and those whose only text is
/// an invisible OCR layer of poor quality (kept when OCR reads them no better).
pub fn read_blank_pages(
    ocr: &OcrUse,
    bytes: &[u8],
    pages: &mut [Page],
    deadline: Instant,
) -> Result<Reading, Error> {
    let t = Instant::now();
    let blank: Vec<u32> = pages
        .iter()
        .filter(|p| p.text.trim().is_empty())
        .map(|p| p.number)
        .collect();
    let poor_layers: Vec<u32> = pages
        .iter()
        .filter(|p| p.hidden_layer && !p.text.trim().is_empty() && word_share(&p.text) < GOOD_LAYER)
        .map(|p| p.number)
        .collect();
    let mut reading = Reading::default();
    if blank.is_empty() && poor_layers.is_empty() {
        return Ok(reading);
    }
    let all_blank = blank.len() == pages.len();
    let ocr = match ocr {
        OcrUse::On(ocr) => ocr,
        // Off, pages without text are left as they were before OCR existed: only a
        // document with no text at all is refused.
        OcrUse::Off if all_blank => {
            return Err(Error::NoText(
                "OCR is off (`--ocr auto`, or OCR=auto on Lambda, reads such pages)".into(),
            ));
        }
        OcrUse::Unavailable(why) if all_blank => {
            return Err(Error::NoText(format!("OCR is unavailable: {why}")));
        }
        OcrUse::Off | OcrUse::Unavailable(_) => return Ok(reading),
    };
    let mut wanted: Vec<u32> = blank.iter().chain(&poor_layers).copied().collect();
    wanted.sort_unstable();
    let answers = ocr.read(bytes, &wanted, deadline);
    for (number, answer) in wanted.iter().zip(answers) {
        let Some(page) = pages.iter_mut().find(|p| p.number == *number) else {
            continue;
        };
        let had_layer = !page.text.trim().is_empty();
        match answer {
            Ok(read) if !read.text.trim().is_empty() => {
                if had_layer && word_share(&read.text) <= word_share(&page.text) {
                    continue;
                }
                page.text = read.text;
                let mut words = read.words;
                let fixed = read_misreadings(&mut page.text, &mut words);
                if !fixed.is_empty() {
                    reading.confusions.insert(*number, fixed);
                }
                reading.words.insert(*number, words);
            }
            // A blank page (a separator sheet, the back of a form) has nothing to read.
            Ok(_) => {}
            // A page with a layer still has that layer's text.
            Err(_) if had_layer => {}
            Err(e) => reading.unread.push((*number, e.to_string())),
        }
    }
    reading.ms = t.elapsed().as_secs_f64() * 1e3;
    if pages.iter().all(|p| p.text.trim().is_empty()) {
        return Err(Error::NoText(match reading.unread.first() {
            Some((page, why)) => format!("OCR could not read it (page {page}: {why})"),
            None => "OCR found no words on it".into(),
        }));
    }
    Ok(reading)
}

/// Undoes OCR's regular misreadings inside identifiers (`4l11` → `4111`, a space after
/// a narrow `1` inside digits, `1S14` → `IS14` in an IBAN; see `vigil_ocr::confusions`)
/// where the value then passes its own rules and the text as read found nothing there: a
/// card number is taken only if Luhn and the issuer ranges pass, an IBAN only if its
/// checksum does, and so on. `words` are moved with the text. Answers the byte ranges
/// changed, in the new text.
pub fn read_misreadings(text: &mut String, words: &mut [Word]) -> Vec<(usize, usize)> {
    let alternatives = vigil_ocr::confusions::alternatives(text);
    if alternatives.is_empty() {
        return Vec::new();
    }
    let as_read = recognizers::recognize(text);
    // (original range, replacement), from every reading; the first taken wins a place.
    let mut fixes: Vec<(usize, usize, String)> = Vec::new();
    for reading in &alternatives {
        for c in recognizers::recognize(&reading.text) {
            if c.score < THRESHOLD || (reading.for_ibans && c.kind != EntityKind::Iban) {
                continue;
            }
            let (start, end) = reading.original_range(c.start, c.end);
            let value = &reading.text[c.start..c.end];
            let taken = as_read
                .iter()
                .filter(|r| r.score >= THRESHOLD)
                .map(|r| (r.start, r.end))
                .chain(fixes.iter().map(|f| (f.0, f.1)))
                .any(|(s, e)| s < end && start < e);
            if taken || text[start..end] == *value {
                continue;
            }
            fixes.push((start, end, value.to_owned()));
        }
    }
    // Last first: a fix never moves the ones before it.
    fixes.sort_by_key(|f| std::cmp::Reverse(f.0));
    let mut fixed = Vec::with_capacity(fixes.len());
    for (start, end, value) in fixes {
        let shrink = (end - start) - value.len();
        // Readings only replace ASCII bytes or drop them, so `start..end` is on character
        // boundaries, and the value is never longer than what it replaces.
        text.replace_range(start..end, &value);
        for w in words.iter_mut() {
            w.start = moved(w.start, start, end, shrink);
            w.end = moved(w.end, start, end, shrink);
        }
        for (s, e) in &mut fixed {
            *s -= shrink;
            *e -= shrink;
        }
        fixed.push((start, start + value.len()));
    }
    fixed
}

/// Where a byte offset goes when `start..end` shrinks by `shrink` bytes.
fn moved(at: usize, start: usize, end: usize, shrink: usize) -> usize {
    if at <= start {
        at
    } else if at >= end {
        at - shrink
    } else {
        at.min(end - shrink)
    }
}

/// Marks the findings on pages read by OCR and settles what unread pages mean for the
/// verdict (see the module's documentation).
pub fn account_for(
    verdict: &mut DocumentVerdict,
    pages: &[Page],
    reading: &Reading,
) -> Result<(), Error> {
    if reading.words.is_empty() && reading.unread.is_empty() {
        return Ok(());
    }
    for finding in verdict
        .entities
        .iter_mut()
        .chain(verdict.business.iter_mut())
    {
        let (Some(words), Some(page)) = (
            reading.words.get(&finding.page),
            pages.iter().find(|p| p.number == finding.page),
        ) else {
            continue;
        };
        let fixed = reading.confusions.get(&finding.page);
        mark(
            finding,
            &page.text,
            words,
            fixed.map_or(&[][..], Vec::as_slice),
        );
    }
    if !reading.words.is_empty() {
        let read: Vec<String> = reading.words.keys().map(u32::to_string).collect();
        verdict.reasons.push(format!(
            "read by OCR: page{} {}",
            if read.len() == 1 { "" } else { "s" },
            read.join(", ")
        ));
    }
    if let Some((_, why)) = reading.unread.first() {
        let unread: Vec<String> = reading.unread.iter().map(|(p, _)| p.to_string()).collect();
        let pages = format!(
            "page{} {}",
            if unread.len() == 1 { "" } else { "s" },
            unread.join(", ")
        );
        if verdict.verdict == Verdict::Pii {
            verdict
                .reasons
                .push(format!("{pages} without text not read ({why})"));
        } else {
            return Err(Error::Ocr(format!(
                "{pages} without text not read ({why}); the pages read hold no personal data, but those might"
            )));
        }
    }
    Ok(())
}

/// `detector: ocr` with the lowest confidence of the words under the value; which part
/// of the classifier found it goes to the evidence.
fn mark(finding: &mut Finding, text: &str, words: &[Word], fixed: &[(usize, usize)]) {
    let found_by = match finding.detector {
        Detector::Recognizer => "the recognizers",
        Detector::Ner => "the model",
        Detector::Both => "the recognizers and the model",
        Detector::Ocr => return,
    };
    let byte = |chars: usize| {
        text.char_indices()
            .nth(chars)
            .map_or(text.len(), |(i, _)| i)
    };
    let (start, end) = (byte(finding.start), byte(finding.end));
    let confidence = words
        .iter()
        .filter(|w| w.start < end && start < w.end)
        .map(|w| w.confidence)
        .fold(None, |low: Option<f32>, c| {
            Some(low.map_or(c, |l| l.min(c)))
        });
    finding.detector = Detector::Ocr;
    finding.ocr_confidence = confidence;
    finding.evidence.push(format!(
        "read by OCR (word confidence {:.2}); found by {found_by}",
        confidence.unwrap_or(0.0)
    ));
    if fixed.iter().any(|&(s, e)| s < end && start < e) {
        finding.evidence.push(
            "OCR's misreadings inside the value undone (letters for digits, a space after a 1, digits in an IBAN's country code); its rules pass"
                .into(),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use vigil_core::EntityKind;

    fn finding(start: usize, end: usize) -> Finding {
        Finding {
            kind: EntityKind::Ssn,
            start,
            end,
            page: 2,
            score: 0.9,
            detector: Detector::Recognizer,
            masked: "***-**-6789".into(),
            evidence: Vec::new(),
            ocr_confidence: None,
        }
    }

    fn verdict(verdict: Verdict, entities: Vec<Finding>) -> DocumentVerdict {
        DocumentVerdict {
            verdict,
            pages: 2,
            entities,
            reasons: Vec::new(),
            business: Vec::new(),
            error: None,
        }
    }

    fn pages() -> Vec<Page> {
        vec![
            Page {
                number: 1,
                text: "Loan summary\n".into(),
                hidden_layer: false,
            },
            Page {
                number: 2,
                text: "Née SSN: 123-45-6789\n".into(),
                hidden_layer: false,
            },
        ]
    }

    fn word(start: usize, end: usize, confidence: f32) -> Word {
        Word {
            start,
            end,
            confidence,
            bbox: [0, 0, 1, 1],
        }
    }

    #[test]
    fn findings_on_read_pages_carry_the_lowest_word_confidence() {
        let pages = pages();
        // "Née" is 4 bytes, 3 characters: offsets in findings are characters.
        let words = vec![word(0, 4, 0.99), word(5, 9, 0.97), word(10, 21, 0.81)];
        let reading = Reading {
            words: BTreeMap::from([(2, words)]),
            ..Reading::default()
        };
        let mut v = verdict(Verdict::Pii, vec![finding(9, 20)]);
        account_for(&mut v, &pages, &reading).unwrap();
        let f = &v.entities[0];
        assert_eq!(f.detector, Detector::Ocr);
        assert_eq!(f.ocr_confidence, Some(0.81));
        assert!(
            f.evidence[0].contains("found by the recognizers"),
            "{:?}",
            f.evidence
        );
        assert_eq!(v.reasons, vec!["read by OCR: page 2"]);
    }

    #[test]
    fn unread_pages_stop_a_clean_verdict_but_not_a_personal_one() {
        let pages = pages();
        let reading = Reading {
            unread: vec![(
                3,
                "not read: OCR reads at most 30 pages of a document".into(),
            )],
            ..Reading::default()
        };
        let mut clean = verdict(Verdict::NoPii, Vec::new());
        let err = account_for(&mut clean, &pages, &reading).unwrap_err();
        assert!(
            err.to_string().contains("page 3 without text not read"),
            "{err}"
        );
        let mut personal = verdict(Verdict::Pii, vec![finding(9, 20)]);
        account_for(&mut personal, &pages, &reading).unwrap();
        assert!(personal.reasons[0].starts_with("page 3 without text not read"));
        assert_eq!(personal.entities[0].detector, Detector::Recognizer);
    }

    #[test]
    fn misreadings_are_undone_only_where_a_value_then_passes() {
        let mut text = "Card 4l11 1111 1111 1111 in stock: SOS-12 l0 boxes\n\
                        SSN O52-4I-3018 IBAN AL4721211 0090000000235698741 end\n"
            .to_owned();
        let at = |t: &str, w: &str| t.find(w).unwrap();
        let end = at(&text, "end");
        let mut words = vec![word(end, end + 3, 0.9)];
        let fixed = read_misreadings(&mut text, &mut words);
        assert_eq!(
            text,
            "Card 4111 1111 1111 1111 in stock: SOS-12 l0 boxes\n\
             SSN 052-41-3018 IBAN AL47212110090000000235698741 end\n"
        );
        assert_eq!(fixed.len(), 3);
        assert_eq!(&text[words[0].start..words[0].end], "end");
        for (s, e) in fixed {
            assert!(text[s..e].ends_with(['1', '8']), "{}", &text[s..e]);
        }
        // A Luhn failure stays as read.
        let mut bad = "Card 4l11 1111 1111 1112\n".to_owned();
        assert!(read_misreadings(&mut bad, &mut []).is_empty());
        assert_eq!(bad, "Card 4l11 1111 1111 1112\n");
    }

    #[test]
    fn word_share_tells_text_from_a_poor_ocr_layer() {
        let good = "Borrower: Diane Vasquez, SSN 123-45-6789. Date of Birth: 11/06/1948\n\
                    The loan amount is $16,518.89 plus costs and interest.";
        assert!(word_share(good) > 0.9, "{}", word_share(good));
        let poor = "Tl1e l0an arn0unt |s $l6,5l8 p|us c0sts aud iuterest rn| 8o;r0 wer";
        assert!(word_share(poor) < 0.6, "{}", word_share(poor));
        assert_eq!(word_share(" \n "), 0.0);
    }

    #[test]
    fn with_ocr_off_only_a_document_without_any_text_is_refused() {
        let mut mixed = pages();
        mixed[0].text = String::new();
        let reading = read_blank_pages(&OcrUse::Off, b"", &mut mixed, Instant::now()).unwrap();
        assert!(reading.words.is_empty() && reading.unread.is_empty());
        let mut blank = pages();
        for p in &mut blank {
            p.text = "  \n".into();
        }
        let err = read_blank_pages(&OcrUse::Off, b"", &mut blank, Instant::now()).unwrap_err();
        assert!(err.to_string().contains("OCR is off"), "{err}");
        let err = read_blank_pages(
            &OcrUse::Unavailable("no libtesseract".into()),
            b"",
            &mut blank,
            Instant::now(),
        )
        .unwrap_err();
        assert!(err.to_string().contains("no libtesseract"), "{err}");
    }
}
