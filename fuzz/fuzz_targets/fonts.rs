//! Fuzzed fonts, CMaps and content in a well-formed file: random bytes rarely get past
//! a PDF's structure, so this target builds the structure and fuzzes what sits inside
//! it. The input is split into a `ToUnicode` CMap, an encoding CMap, a `/W` widths
//! string, a Type1 font program's cleartext and the page's content stream; the page
//! shows its text with a simple, a composite and a Type3 font. Any input gives pages or
//! an error, never a panic or a hang.
#![no_main]

use libfuzzer_sys::fuzz_target;
use lopdf::{Document, Object, Stream, dictionary};
use vigil_documents::extract::{Limits, extract};

/// Splits the input at `\xff\xfe` markers into at most five parts.
fn parts(data: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut rest = data;
    while out.len() < 4 {
        match rest.windows(2).position(|w| w == b"\xff\xfe") {
            Some(at) => {
                out.push(&rest[..at]);
                rest = &rest[at + 2..];
            }
            None => break,
        }
    }
    out.push(rest);
    while out.len() < 5 {
        out.push(b"");
    }
    out
}

fn pdf(data: &[u8]) -> Vec<u8> {
    let p = parts(data);
    let (to_unicode, encoding, widths, program, content) = (p[0], p[1], p[2], p[3], p[4]);
    let mut doc = Document::with_version("1.7");
    let pages = doc.new_object_id();
    let to_unicode = doc.add_object(Stream::new(dictionary! {}, to_unicode.to_vec()));
    let encoding = doc.add_object(Stream::new(
        dictionary! { "Type" => "CMap", "CMapName" => "Fuzz" },
        encoding.to_vec(),
    ));
    let program = doc.add_object(Stream::new(
        dictionary! { "Length1" => program.len() as i64 },
        program.to_vec(),
    ));
    // The widths string read as numbers, so that /W gets odd shapes.
    let numbers: Vec<Object> = widths
        .split(|b| *b == b' ')
        .filter_map(|w| std::str::from_utf8(w).ok()?.parse::<i64>().ok())
        .map(Object::Integer)
        .collect();
    let mut w = Vec::new();
    for (i, n) in numbers.into_iter().enumerate() {
        if i % 3 == 1 {
            w.push(Object::Array(vec![n]));
        } else {
            w.push(n);
        }
    }
    let simple = doc.add_object(dictionary! {
        "Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Fuzz",
        "ToUnicode" => to_unicode,
        "FontDescriptor" => dictionary! { "FontFile" => program, "Flags" => 32 },
        "Encoding" => dictionary! { "Differences" => vec![65.into(), Object::Name(b"uni0041".to_vec()), Object::Name(b"f_i".to_vec())] },
    });
    let composite = doc.add_object(dictionary! {
        "Type" => "Font", "Subtype" => "Type0", "BaseFont" => "FuzzCID",
        "Encoding" => encoding, "ToUnicode" => to_unicode,
        "DescendantFonts" => vec![Object::Dictionary(dictionary! {
            "Subtype" => "CIDFontType2", "W" => w, "DW" => 700,
            "CIDSystemInfo" => dictionary! {
                "Registry" => Object::string_literal("Adobe"),
                "Ordering" => Object::string_literal("Japan1"),
                "Supplement" => 6,
            },
        })],
    });
    let type3 = doc.add_object(dictionary! {
        "Type" => "Font", "Subtype" => "Type3",
        "FontMatrix" => vec![0.01.into(), 0.into(), 0.into(), 0.01.into(), 0.into(), 0.into()],
        "FirstChar" => 0, "Widths" => vec![Object::Integer(50); 256],
        "Encoding" => dictionary! { "Differences" => vec![0.into(), Object::Name(b"a65".to_vec())] },
        "CharProcs" => dictionary! {},
    });
    let content = doc.add_object(Stream::new(dictionary! {}, content.to_vec()));
    let page = doc.add_object(dictionary! {
        "Type" => "Page", "Parent" => pages, "Contents" => content,
        "Resources" => dictionary! { "Font" => dictionary! { "F1" => simple, "F2" => composite, "F3" => type3 } },
        "MediaBox" => vec![0.into(), 0.into(), 612.into(), 792.into()],
    });
    doc.objects.insert(
        pages,
        Object::Dictionary(
            dictionary! { "Type" => "Pages", "Kids" => vec![page.into()], "Count" => 1 },
        ),
    );
    let catalog = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages });
    doc.trailer.set("Root", catalog);
    let mut out = Vec::new();
    doc.save_to(&mut out).expect("writing to memory");
    out
}

fuzz_target!(|data: &[u8]| {
    let limits = Limits {
        time_budget: std::time::Duration::from_secs(2),
        ..Limits::default()
    };
    let _ = extract(&pdf(data), &limits);
});
