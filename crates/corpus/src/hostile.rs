//! Hostile and broken PDFs: each must get a verdict or a clear error, in time, without
//! taking the rest of a batch down.

use std::io::Write;

use lopdf::content::{Content, Operation};
use lopdf::{Document, Object, Stream, dictionary};

use crate::pdf::{Layout, Text, finish, write};

/// `(file name, bytes, what the classifier must say)`: `None` = a verdict, `Some(word)` =
/// an error whose message contains the word.
pub fn files() -> Vec<(&'static str, Vec<u8>, Option<&'static str>)> {
    let normal = {
        let mut l = Layout::new(60.0, 11.0);
        l.heading("Loan estimate");
        l.line("Applicant SSN: 536-22-8726");
        l.finish()
    };
    vec![
        ("empty.pdf", Vec::new(), Some("not a PDF")),
        (
            "truncated.pdf",
            normal[..normal.len() / 3].to_vec(),
            Some(""),
        ),
        ("png-renamed.pdf", png(), Some("not a PDF")),
        ("encrypted.pdf", encrypted(), Some("needs a password")),
        ("image-only.pdf", image_only(), Some("no text layer")),
        ("zero-pages.pdf", zero_pages(), Some("no pages")),
        ("300-pages.pdf", many_pages(300), None),
        ("cyclic-pages.pdf", cyclic(), Some("")),
        ("one-line-1mb.pdf", one_long_line(1 << 20), None),
        ("nested-arrays.pdf", nested_arrays(100_000), Some("")),
        ("inflate-bomb.pdf", inflate_bomb(), Some("decompressed")),
    ]
}

fn save(mut doc: Document) -> Vec<u8> {
    let mut out = Vec::new();
    doc.save_to(&mut out).expect("writing to memory");
    out
}

fn png() -> Vec<u8> {
    let mut v = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x02\0\0\0".to_vec();
    v.extend_from_slice(&[0x90, 0x77, 0x53, 0xde]);
    v
}

/// A document with its objects and a password-protected security handler: the user
/// password is not empty, so nothing can be read.
fn encrypted() -> Vec<u8> {
    let mut doc = Document::with_version("1.4");
    let pages = doc.new_object_id();
    let page = doc.add_object(dictionary! { "Type" => "Page", "Parent" => pages });
    doc.objects.insert(
        pages,
        Object::Dictionary(
            dictionary! { "Type" => "Pages", "Kids" => vec![page.into()], "Count" => 1 },
        ),
    );
    let catalog = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages });
    let encrypt = doc.add_object(dictionary! {
        "Filter" => "Standard", "V" => 1, "R" => 2, "P" => -44,
        "O" => Object::string_literal(vec![0x5au8; 32]),
        "U" => Object::string_literal(vec![0xa5u8; 32]),
    });
    doc.trailer.set("Root", catalog);
    doc.trailer.set("Encrypt", encrypt);
    doc.trailer.set(
        "ID",
        vec![
            Object::string_literal(vec![1u8; 16]),
            Object::string_literal(vec![1u8; 16]),
        ],
    );
    save(doc)
}

fn page_with(
    doc: &mut Document,
    pages: lopdf::ObjectId,
    ops: Vec<Operation>,
    resources: lopdf::Dictionary,
) -> Object {
    let content = Content { operations: ops }.encode().expect("content");
    let content_id = doc.add_object(Stream::new(dictionary! {}, content));
    doc.add_object(dictionary! {
        "Type" => "Page", "Parent" => pages, "Contents" => content_id, "Resources" => resources,
        "MediaBox" => vec![0.into(), 0.into(), 612.into(), 792.into()],
    })
    .into()
}

/// A scanned page: one image, no text.
fn image_only() -> Vec<u8> {
    let mut doc = Document::with_version("1.5");
    let pages = doc.new_object_id();
    let image = doc.add_object(Stream::new(
        dictionary! {
            "Type" => "XObject", "Subtype" => "Image", "Width" => 2, "Height" => 2,
            "ColorSpace" => "DeviceGray", "BitsPerComponent" => 8,
        },
        vec![0, 255, 255, 0],
    ));
    let ops = vec![
        Operation::new("q", vec![]),
        Operation::new(
            "cm",
            vec![
                500.into(),
                0.into(),
                0.into(),
                700.into(),
                50.into(),
                50.into(),
            ],
        ),
        Operation::new("Do", vec!["Im1".into()]),
        Operation::new("Q", vec![]),
    ];
    let kid = page_with(
        &mut doc,
        pages,
        ops,
        dictionary! { "XObject" => dictionary! { "Im1" => image } },
    );
    finish(doc, pages, vec![kid])
}

fn zero_pages() -> Vec<u8> {
    let mut doc = Document::with_version("1.5");
    let pages = doc.new_object_id();
    finish(doc, pages, Vec::new())
}

fn many_pages(n: usize) -> Vec<u8> {
    let pages: Vec<Vec<Text>> = (1..=n)
        .map(|i| {
            vec![Text {
                x: 72.0,
                y: 720.0,
                size: 11.0,
                bold: false,
                text: format!("Terms and conditions, page {i} of {n}. Rates subject to change."),
            }]
        })
        .collect();
    write(&pages)
}

/// A page tree whose Kids point back at itself.
fn cyclic() -> Vec<u8> {
    let mut doc = Document::with_version("1.5");
    let pages = doc.new_object_id();
    let inner = doc.new_object_id();
    doc.objects.insert(
        inner,
        Object::Dictionary(dictionary! { "Type" => "Pages", "Parent" => pages, "Kids" => vec![pages.into(), inner.into()], "Count" => 1 }),
    );
    finish(doc, pages, vec![inner.into()])
}

fn one_long_line(len: usize) -> Vec<u8> {
    let text: String = "lorem ipsum dolor sit amet "
        .chars()
        .cycle()
        .take(len)
        .collect();
    write(&[vec![Text {
        x: 10.0,
        y: 700.0,
        size: 10.0,
        bold: false,
        text,
    }]])
}

/// A content stream of arrays nested 100,000 deep: a recursive parser's stack overflow.
fn nested_arrays(depth: usize) -> Vec<u8> {
    let mut doc = Document::with_version("1.5");
    let pages = doc.new_object_id();
    let content = format!("BT {}(x){} TJ ET", "[".repeat(depth), "]".repeat(depth));
    let content_id = doc.add_object(Stream::new(dictionary! {}, content.into_bytes()));
    let kid: Object = doc
        .add_object(dictionary! { "Type" => "Page", "Parent" => pages, "Contents" => content_id })
        .into();
    finish(doc, pages, vec![kid])
}

/// A small compressed content stream that inflates to 1 GiB of spaces.
fn inflate_bomb() -> Vec<u8> {
    let mut enc = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    let chunk = vec![b' '; 1 << 20];
    for _ in 0..1024 {
        enc.write_all(&chunk).expect("memory");
    }
    let bomb = enc.finish().expect("memory");
    let mut doc = Document::with_version("1.5");
    let pages = doc.new_object_id();
    let font = doc.add_object(dictionary! { "Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Helvetica", "Encoding" => "WinAnsiEncoding" });
    let resources = dictionary! { "Font" => dictionary! { "F1" => font } };
    let good = page_with(
        &mut doc,
        pages,
        vec![
            Operation::new("BT", vec![]),
            Operation::new("Tf", vec!["F1".into(), 12.into()]),
            Operation::new("Td", vec![72.into(), 700.into()]),
            Operation::new("Tj", vec![Object::string_literal("Account statement")]),
            Operation::new("ET", vec![]),
        ],
        resources.clone(),
    );
    let bomb_id = doc.add_object(
        Stream::new(dictionary! { "Filter" => "FlateDecode" }, bomb).with_compression(false),
    );
    let bad: Object = doc
        .add_object(dictionary! { "Type" => "Page", "Parent" => pages, "Contents" => bomb_id, "Resources" => resources })
        .into();
    finish(doc, pages, vec![good, bad])
}
