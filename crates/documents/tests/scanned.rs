//! Pages without a text layer, read by Tesseract (`VIGIL_TEST_TESSERACT`: the library
//! infra/test.sh installs): a generated loan application turned into a scan files as
//! `pii` with findings read by OCR; OCR off, or a library that is not there, gives an
//! error that says what to do; real-world scans (JBIG2, CCITT-era, JPEG) are read into
//! words a viewer shows on them.

use std::sync::Arc;
use std::time::{Duration, Instant};

use vigil_core::{Detector, Verdict};
use vigil_corpus::scan::{ScanStyle, scan_copy};
use vigil_documents::{Classifier, Limits, Ocr, OcrSettings, OcrUse};

fn ocr() -> Option<Arc<Ocr>> {
    let library = vigil_testkit::peer("VIGIL_TEST_TESSERACT", "Tesseract's library")?;
    let settings = OcrSettings {
        library: Some(library.into()),
        ..OcrSettings::default()
    };
    Some(Arc::new(Ocr::open(settings).expect("Tesseract opens")))
}

/// An office scanner's copy: 200 dpi, a degree of skew, a little noise, JPEG.
fn scanned_application(seed: u64) -> (Vec<u8>, vigil_corpus::Generated) {
    let people = vigil_corpus::people().unwrap();
    let application = vigil_corpus::generate(&people, seed, 0);
    assert!(application.truth.pii);
    let style = ScanStyle {
        dpi: 200,
        skew: 1.2,
        blur: 0.6,
        noise: 6.0,
        quality: 70,
    };
    (
        scan_copy(&application.bytes, &style, seed).unwrap(),
        application,
    )
}

#[test]
fn a_scanned_application_is_personal_with_findings_read_by_ocr() {
    let Some(ocr) = ocr() else {
        return;
    };
    let (scan, original) = scanned_application(11);
    let classifier = Classifier::new(None, Limits::default()).with_ocr(OcrUse::On(ocr));
    let scanned = classifier.classify(&scan);
    let v = &scanned.verdict;
    assert_eq!(v.verdict, Verdict::Pii, "{:?}", v.error);
    assert!(v.reasons.iter().any(|r| r.starts_with("read by OCR: page")));
    assert!(v.entities.iter().all(|f| f.detector == Detector::Ocr));
    assert!(
        v.entities
            .iter()
            .all(|f| f.ocr_confidence.is_some_and(|c| c > 0.0 && c <= 1.0))
    );
    // The identifiers planted in the original are found in the scan, by type.
    let text_layer = Classifier::new(None, Limits::default()).classify(&original.bytes);
    assert_eq!(scanned.ocr_pages as usize, text_layer.pages.len());
    let kinds = |v: &vigil_core::DocumentVerdict| {
        let mut k: Vec<_> = v.entities.iter().map(|f| f.kind).collect();
        k.sort_by_key(|k| k.as_str());
        k.dedup();
        k
    };
    assert_eq!(kinds(v), kinds(&text_layer.verdict));
}

#[test]
fn without_ocr_a_scan_is_an_error_that_says_what_to_do() {
    let (scan, _) = scanned_application(12);
    let off = Classifier::new(None, Limits::default()).classify(&scan);
    assert_eq!(off.verdict.verdict, Verdict::Error);
    let why = off.verdict.error.unwrap();
    assert!(
        why.contains("no text layer") && why.contains("--ocr auto"),
        "{why}"
    );

    let missing = Ocr::open(OcrSettings {
        library: Some("/nonexistent/libtesseract.so.5".into()),
        ..OcrSettings::default()
    });
    let Err(e) = missing else {
        panic!("a library that is not there opened");
    };
    let unavailable = Classifier::new(None, Limits::default())
        .with_ocr(OcrUse::Unavailable(e.to_string()))
        .classify(&scan);
    let why = unavailable.verdict.error.unwrap();
    assert!(why.contains("install Debian's tesseract-ocr"), "{why}");
}

#[test]
fn a_language_without_data_is_a_clear_error() {
    let Some(library) = vigil_testkit::peer("VIGIL_TEST_TESSERACT", "Tesseract's library") else {
        return;
    };
    let e = Ocr::open(OcrSettings {
        library: Some(library.into()),
        languages: "xyz".into(),
        ..OcrSettings::default()
    })
    .err()
    .expect("no data for xyz");
    assert!(e.to_string().contains("no language data for xyz"), "{e}");
}

#[test]
fn pages_past_the_deadline_are_not_read() {
    let Some(ocr) = ocr() else {
        return;
    };
    let people = vigil_corpus::people().unwrap();
    let rate_sheet = vigil_corpus::generate(&people, 5, 8);
    assert!(!rate_sheet.truth.pii);
    let style = ScanStyle {
        dpi: 150,
        skew: 0.0,
        blur: 0.0,
        noise: 0.0,
        quality: 80,
    };
    let scan = scan_copy(&rate_sheet.bytes, &style, 5).unwrap();
    // A deadline already past: no page is read, and that is said, not taken as clean.
    let answers = ocr.read(&scan, &[1], Instant::now());
    assert!(matches!(
        answers[0],
        Err(vigil_documents::OcrError::TimeBudget)
    ));
}

#[test]
fn a_page_that_outlasts_the_budget_stops_inside_tesseract() {
    let Some(ocr) = ocr() else {
        return;
    };
    let (scan, _) = scanned_application(13);
    let far = Instant::now() + Duration::from_secs(60);
    let full = ocr.read(&scan, &[1], far).remove(0).expect("read in full");
    // The deadline falls after the page is drawn, early in Tesseract's reading.
    let deadline = Duration::from_secs_f64(full.render_ms * 1.5 / 1e3);
    let t = Instant::now();
    let bounded = ocr.read(&scan, &[1], Instant::now() + deadline);
    let took = t.elapsed().as_secs_f64() * 1e3;
    assert!(
        matches!(bounded[0], Err(vigil_documents::OcrError::TimeBudget)),
        "{:?}",
        bounded[0].as_ref().map(|p| p.words.len())
    );
    assert!(
        took < full.render_ms * 1.5 + full.read_ms / 2.0,
        "Tesseract ran on past its deadline: {took:.0} ms (a full read: {:.0} + {:.0} ms)",
        full.render_ms,
        full.read_ms
    );
}

#[test]
fn a_sparse_page_with_sensor_noise_is_read_not_lost_in_specks() {
    let (Some(ocr), Some(dir)) = (ocr(), vigil_testkit::shared_data("presidio-cases/pdf")) else {
        return;
    };
    // One line on a letter page, scanned at 300 dpi with strong noise: one threshold
    // for the whole page (Tesseract's default) took the paper's grain for ink and ran
    // for minutes; the local one reads the line.
    let bytes = std::fs::read(dir.join("credit_card_004.pdf")).unwrap();
    let style = ScanStyle {
        dpi: 300,
        skew: 1.6,
        blur: 0.0,
        noise: 14.0,
        quality: 84,
    };
    let scan = scan_copy(&bytes, &style, 2026).unwrap();
    let page = ocr
        .read(&scan, &[1], Instant::now() + Duration::from_secs(20))
        .remove(0)
        .expect("read within the budget");
    assert!(page.text.contains("credit card"), "{}", page.text);
}

#[test]
fn real_world_scans_are_read() {
    let (Some(ocr), Some(dir)) = (ocr(), vigil_testkit::shared_data("real-pdfs/files")) else {
        return;
    };
    // Each file's words as a viewer shows them (checked by eye on the rendered page).
    for (name, words) in [
        (
            "ocr_wikipedia_print_scan.pdf",
            &["Optical", "character", "recognition"][..],
        ),
        ("pdfminer_jbig2_scan.pdf", &["Doesn't"][..]),
        ("pdfminer_grumman_scan.pdf", &["ACCESSORY", "KIT"][..]),
        ("ocr_skew_scan.pdf", &["LinnSequencer", "MIDI"][..]),
    ] {
        let bytes = std::fs::read(dir.join(name)).unwrap();
        let pages = ocr.read(&bytes, &[1], Instant::now() + Duration::from_secs(60));
        let page = pages[0].as_ref().unwrap_or_else(|e| panic!("{name}: {e}"));
        for w in words {
            assert!(page.text.contains(w), "{name}: `{w}` not read");
        }
        let read = page.words.iter().filter(|w| w.confidence > 0.8).count();
        assert!(read * 2 > page.words.len(), "{name}: most words unsure");
    }
}
