//! Extraction on real-world PDFs the project did not make (`../shared/data/real-pdfs`,
//! read in place): each case is a kind of file that extraction once got wrong, with words
//! a viewer shows on it. The full comparison with pdftotext is a measurement
//! (`../shared/tools/compare_text.py`, figures in docs/documents.md), not a test.

use std::path::{Path, PathBuf};

use vigil_documents::Error;
use vigil_documents::extract::{Limits, extract};

/// The real-world PDFs of the reference data; `None` (the test skipped) without it.
fn pdfs() -> Option<PathBuf> {
    vigil_testkit::shared_data("real-pdfs/files")
}

fn file(dir: &Path, name: &str) -> Vec<u8> {
    let path = dir.join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn text(dir: &Path, name: &str) -> String {
    match extract(&file(dir, name), &Limits::default()) {
        Ok(pages) => pages
            .into_iter()
            .map(|p| p.text)
            .collect::<Vec<_>>()
            .join("\n"),
        Err(e) => panic!("{name}: {e}"),
    }
}

#[track_caller]
fn shows(dir: &Path, name: &str, words: &[&str]) {
    let text = text(dir, name);
    for w in words {
        assert!(text.contains(w), "{name}: `{w}` not in the extracted text");
    }
}

#[test]
fn glyphs_placed_one_by_one_read_as_words() {
    let Some(dir) = pdfs() else { return };
    // Google Docs (Skia): every glyph placed on its own.
    shows(
        &dir,
        "pypdf_gdocs.pdf",
        &["Example document", "Beautiful is better than ugly."],
    );
    // Kerned titles and ligatures drawn with a space glyph moved back over.
    shows(
        &dir,
        "pdflib_us_constitution.pdf",
        &["office", "ratified", "first"],
    );
}

#[test]
fn composite_and_type3_fonts() {
    let Some(dir) = pdfs() else { return };
    // Identity-H with a ToUnicode CMap (a Polish invoice, owner-password encrypted too).
    shows(
        &dir,
        "pdfminer_pl_invoice.pdf",
        &["Faktura nr FV 1/2021", "Data sprzedaży"],
    );
    // A CID font without ToUnicode: the Adobe-Japan1 collection's UCS-2 map.
    shows(&dir, "pdfminer_jp_short.pdf", &["わたくしといふ現象は"]);
    // A Type3 font with a ToUnicode CMap and near-zero-width spaces.
    shows(
        &dir,
        "pdfjs_citi_type3.pdf",
        &["Page 3 of 3", "Please be sure to pay on time."],
    );
    // A Type3 bitmap font whose glyphs are named by their codes (a45, a66, …).
    let tex = text(&dir, "pdfjs_type3_tex.pdf");
    assert!(tex.split_whitespace().count() > 150, "{tex}");
}

#[test]
fn damaged_files_are_read_as_viewers_read_them() {
    let Some(dir) = pdfs() else { return };
    // Flate data with a wrong checksum.
    shows(
        &dir,
        "pdfminer_zen_corrupted.pdf",
        &["Beautiful is better than ugly."],
    );
    // A banner before the header, and junk before each `endstream`.
    shows(
        &dir,
        "plumber_mirrored_text.pdf",
        &["The movie opens with a news report"],
    );
    // Filters given by reference.
    shows(&dir, "pdfminer_nl_invoice.pdf", &["Lenze B.V."]);
}

#[test]
fn encryption_opens_with_the_empty_user_password_or_says_a_password_is_needed() {
    let Some(dir) = pdfs() else { return };
    // RC4 40-bit with a /Length lopdf refuses, and RC4 128.
    shows(
        &dir,
        "pdfminer_dmca_rc4.pdf",
        &["THE DIGITAL MILLENNIUM COPYRIGHT ACT OF 1998"],
    );
    shows(
        &dir,
        "plumber_homeloan_rates.pdf",
        &["Home Loan Interest Rates"],
    );
    // AES-128 with an XFA form.
    assert!(!text(&dir, "pdfjs_es_xfa_form.pdf").trim().is_empty());
    for name in ["plumber_password.pdf", "pypdf_lo_password.pdf"] {
        let err = extract(&file(&dir, name), &Limits::default()).unwrap_err();
        assert!(matches!(err, Error::NeedsPassword), "{name}: {err}");
        assert!(err.to_string().contains("needs a password"));
    }
}

#[test]
fn form_data_is_read_where_the_field_sits() {
    let Some(dir) = pdfs() else { return };
    // A filled AcroForm saved as an incremental update: the SSN and birth date.
    shows(
        &dir,
        "pdflib_hr_form_filled.pdf",
        &["111-11-1111", "08/29/2020", "133 Tin Drive"],
    );
    // An XFA form whose data lives only in its datasets.
    shows(
        &dir,
        "pdfjs_imm1344_xfa_filled.pdf",
        &["FamilyName: Gauss", "GivenName: Carl Friedrich"],
    );
    // A signature's appearance stream.
    shows(&dir, "pdfjs_signed_de.pdf", &["Contatto: frey@sedipa.ch"]);
}

#[test]
fn an_unknown_filter_is_named() {
    let Some(dir) = pdfs() else { return };
    let err = extract(&file(&dir, "pdfjs_brotli_filter.pdf"), &Limits::default()).unwrap_err();
    assert!(err.to_string().contains("BrotliDecode"), "{err}");
}

#[test]
fn right_to_left_lines_read_in_logical_order() {
    let Some(dir) = pdfs() else { return };
    // "Types of Arabic calligraphy", drawn in visual order.
    shows(&dir, "pdfjs_arabic_cid.pdf", &["العربية"]);
}
