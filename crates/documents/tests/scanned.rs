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

/// The text OCR reads on page 1 of an image-only copy of a presidio-cases file, within
/// 20 s; `None` when Tesseract or the shared data is not there.
fn read_presidio_copy(name: &str, style: ScanStyle, seed: u64) -> Option<String> {
    let (ocr, dir) = (ocr()?, vigil_testkit::shared_data("presidio-cases/pdf")?);
    let bytes = std::fs::read(dir.join(name)).unwrap();
    let scan = scan_copy(&bytes, &style, seed).unwrap();
    let page = ocr
        .read(&scan, &[1], Instant::now() + Duration::from_secs(20))
        .remove(0)
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    Some(page.text)
}

#[test]
fn a_sparse_page_with_sensor_noise_is_read_not_lost_in_specks() {
    // One line on a letter page, scanned at 300 dpi with strong noise: one threshold
    // for the whole page (Tesseract's default) took the paper's grain for ink and ran
    // for minutes; the local one reads the line.
    let style = ScanStyle {
        dpi: 300,
        skew: 1.6,
        blur: 0.0,
        noise: 14.0,
        quality: 84,
    };
    let Some(text) = read_presidio_copy("credit_card_004.pdf", style, 2026) else {
        return;
    };
    assert!(text.contains("credit card"), "{text}");
}

#[test]
fn a_lone_askew_line_the_layout_analysis_misses_is_still_read() {
    // One long line, almost three degrees askew, with noise (the copy that `vigil corpus
    // --seed 2026 --scan-copies-of` makes of it): Tesseract's automatic layout finds no
    // text on the page; read as one block, the line is there.
    let style = ScanStyle {
        dpi: 300,
        skew: -2.820_581_7,
        blur: 0.6,
        noise: 8.0,
        quality: 73,
    };
    let Some(text) = read_presidio_copy("phone_022.pdf", style, 2573) else {
        return;
    };
    assert!(text.contains("international"), "{text}");
}

/// A statement's first page: a large letterhead beside small contact lines, the
/// customer's address beside boxed key values, and a ruled table of amounts.
fn statement_page() -> Vec<u8> {
    use lopdf::content::{Content, Operation};
    use lopdf::{Document, Object, Stream, dictionary};
    let mut doc = Document::with_version("1.5");
    let pages_id = doc.new_object_id();
    let font = |base: &str| {
        dictionary! { "Type" => "Font", "Subtype" => "Type1", "BaseFont" => base.to_owned() }
    };
    let resources = dictionary! { "Font" => dictionary! {
        "F1" => doc.add_object(font("Helvetica")), "F2" => doc.add_object(font("Helvetica-Bold")),
    } };
    let mut ops = vec![Operation::new("w", vec![0.7.into()])];
    // (x, y from the top, size, text), as laid out on the page.
    let mut texts: Vec<(f32, f32, f32, String)> = vec![
        (
            50.0,
            60.0,
            8.0,
            "Harbor Lending Group | Loan 7712004519".into(),
        ),
        (50.0, 100.0, 20.0, "Harbor Lending".into()),
        (50.0, 126.0, 20.0, "Group".into()),
        (400.0, 95.0, 11.0, "Tel 913-418-2139".into()),
        (400.0, 112.0, 11.0, "Toll-free 1-877-640-3433".into()),
        (50.0, 150.0, 11.0, "1336 Michelle Cove, Ste. 1506,".into()),
        (50.0, 215.0, 12.0, "Mortgage Statement".into()),
        (50.0, 232.0, 11.0, "Taylor Cruz".into()),
        (50.0, 247.0, 11.0, "87605 Smith Canyon Apt. 686".into()),
        (50.0, 262.0, 11.0, "Lake Evelyn, MT 59566".into()),
    ];
    let boxed = [
        ("Statement Date", "06/05/2024"),
        ("Loan Number", "7712004519"),
    ];
    for (i, (label, value)) in boxed.iter().enumerate() {
        let top = 220.0 + 34.0 * i as f32;
        ops.push(Operation::new(
            "re",
            vec![
                355.into(),
                (792.0 - top - 34.0).into(),
                205.into(),
                34.into(),
            ],
        ));
        texts.push((360.0, top + 12.0, 8.0, (*label).into()));
        texts.push((360.0, top + 28.0, 11.0, (*value).into()));
    }
    let table = [
        ("Description", "Amount"),
        ("Principal", "$943.01"),
        ("Interest", "$2,065.70"),
        ("Escrow (for Taxes and Insurance)", "$536.15"),
        ("Total Payment Amount", "$3,544.86"),
    ];
    for (i, (item, amount)) in table.iter().enumerate() {
        let top = 420.0 + 20.0 * i as f32;
        ops.push(Operation::new(
            "re",
            vec![
                45.into(),
                (792.0 - top - 20.0).into(),
                515.into(),
                20.into(),
            ],
        ));
        ops.push(Operation::new("m", vec![470.into(), (792.0 - top).into()]));
        ops.push(Operation::new(
            "l",
            vec![470.into(), (792.0 - top - 20.0).into()],
        ));
        texts.push((50.0, top + 15.0, 11.0, (*item).into()));
        texts.push((480.0, top + 15.0, 11.0, (*amount).into()));
    }
    ops.push(Operation::new("S", vec![]));
    for (x, top, size, text) in texts {
        let font = if size >= 20.0 { "F2" } else { "F1" };
        ops.push(Operation::new("BT", vec![]));
        ops.push(Operation::new("Tf", vec![font.into(), size.into()]));
        ops.push(Operation::new("Td", vec![x.into(), (792.0 - top).into()]));
        ops.push(Operation::new("Tj", vec![Object::string_literal(text)]));
        ops.push(Operation::new("ET", vec![]));
    }
    let content = doc.add_object(Stream::new(
        dictionary! {},
        Content { operations: ops }.encode().unwrap(),
    ));
    let page = doc.add_object(dictionary! {
        "Type" => "Page", "Parent" => pages_id, "Contents" => content, "Resources" => resources,
        "MediaBox" => vec![0.into(), 0.into(), 612.into(), 792.into()],
    });
    vigil_corpus::pdf::finish(doc, pages_id, vec![page.into()])
}

#[test]
fn every_column_box_and_table_cell_of_a_statement_is_read() {
    let Some(ocr) = ocr() else {
        return;
    };
    let style = ScanStyle {
        dpi: 300,
        skew: 0.0,
        blur: 0.0,
        noise: 0.0,
        quality: 90,
    };
    let scan = scan_copy(&statement_page(), &style, 3).unwrap();
    let page = ocr
        .read(&scan, &[1], Instant::now() + Duration::from_secs(60))
        .remove(0)
        .expect("read");
    // Read as one uniform block of text (the C API's default layout), the ruled table's
    // first rows were never read.
    for words in [
        "Harbor Lending",
        "Tel 913-418-2139",
        "87605 Smith Canyon Apt. 686",
        "Lake Evelyn, MT 59566",
        "06/05/2024",
        "Description Amount",
        "Principal $943.01",
        "Interest $2,065.70",
        "Total Payment Amount $3,544.86",
    ] {
        assert!(
            page.text.contains(words),
            "`{words}` not read:\n{}",
            page.text
        );
    }
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

/// Page 1 of document `index` of the corpus (seed 7) scanned in `style`, as OCR reads it,
/// with the original; `None` when Tesseract is not there.
fn read_generated_copy(
    index: usize,
    style: ScanStyle,
    seed: u64,
) -> Option<(vigil_corpus::Generated, String)> {
    let ocr = ocr()?;
    let people = vigil_corpus::people().unwrap();
    let original = vigil_corpus::generate(&people, 7, index);
    let scan = scan_copy(&original.bytes, &style, seed).unwrap();
    let page = ocr
        .read(&scan, &[1], Instant::now() + Duration::from_secs(60))
        .remove(0)
        .expect("read");
    Some((original, page.text))
}

#[test]
fn an_askew_letter_is_read_whole() {
    // A letter scanned 2.5° askew: Tesseract's page layout took parts of its paragraphs
    // for pictures and left them unread (67 of its 82 words); turned upright first, every
    // word is read.
    let style = ScanStyle {
        dpi: 200,
        skew: -2.5,
        blur: 0.6,
        noise: 8.0,
        quality: 80,
    };
    let Some((letter, text)) = read_generated_copy(3, style, 5) else {
        return;
    };
    assert_eq!(letter.truth.layout, "letter");
    let text_layer = vigil_documents::extract::extract(&letter.bytes, &Limits::default())
        .unwrap()
        .remove(0)
        .text;
    let read: std::collections::HashSet<&str> = text.split_whitespace().collect();
    let words: Vec<&str> = text_layer
        .split_whitespace()
        .filter(|w| w.len() >= 3)
        .collect();
    let missed: Vec<&&str> = words.iter().filter(|w| !read.contains(**w)).collect();
    assert!(
        missed.len() * 30 <= words.len(),
        "{} of {} words not read: {missed:?}",
        missed.len(),
        words.len()
    );
}

#[test]
fn a_form_s_fill_in_blanks_are_read_as_blanks() {
    // Tesseract removes rules before it reads and never reports them; the text layer's
    // typed blanks (`Borrower Signature: ______`) are what tells the classifier that a
    // label labels nothing and that a form is blank.
    let style = ScanStyle {
        dpi: 200,
        skew: 1.0,
        blur: 0.6,
        noise: 6.0,
        quality: 75,
    };
    let Some((form, text)) = read_generated_copy(7, style, 9) else {
        return;
    };
    assert_eq!(form.truth.layout, "blank_application");
    for blank in ["Routing Number: ____", "Borrower Signature: ____"] {
        assert!(text.contains(blank), "`{blank}` not read:\n{text}");
    }
}
