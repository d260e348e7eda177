//! A small PDF writer on lopdf: pages of positioned Helvetica text.

use lopdf::content::{Content, Operation};
use lopdf::{Document, Object, ObjectId, Stream, dictionary};

/// One piece of text at a position (points from the bottom left of a US Letter page).
#[derive(Debug, Clone)]
pub struct Text {
    pub x: f32,
    pub y: f32,
    pub size: f32,
    pub bold: bool,
    pub text: String,
}

/// Pages of placed text → PDF bytes (content streams compressed).
pub fn write(pages: &[Vec<Text>]) -> Vec<u8> {
    let mut doc = Document::with_version("1.5");
    let pages_id = doc.new_object_id();
    let regular = doc.add_object(dictionary! {
        "Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Helvetica", "Encoding" => "WinAnsiEncoding",
    });
    let bold = doc.add_object(dictionary! {
        "Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Helvetica-Bold", "Encoding" => "WinAnsiEncoding",
    });
    let resources = doc.add_object(dictionary! {
        "Font" => dictionary! { "F1" => regular, "F2" => bold },
    });
    let mut kids = Vec::new();
    for page in pages {
        let mut ops = Vec::new();
        for t in page {
            ops.push(Operation::new("BT", vec![]));
            let font = if t.bold { "F2" } else { "F1" };
            ops.push(Operation::new("Tf", vec![font.into(), t.size.into()]));
            ops.push(Operation::new("Td", vec![t.x.into(), t.y.into()]));
            ops.push(Operation::new(
                "Tj",
                vec![Object::string_literal(latin1(&t.text))],
            ));
            ops.push(Operation::new("ET", vec![]));
        }
        let content = Content { operations: ops };
        let mut stream = Stream::new(dictionary! {}, content.encode().unwrap_or_default());
        let _ = stream.compress();
        let content_id = doc.add_object(stream);
        let page_id = doc.add_object(dictionary! {
            "Type" => "Page",
            "Parent" => pages_id,
            "Contents" => content_id,
            "Resources" => resources,
            "MediaBox" => vec![0.into(), 0.into(), 612.into(), 792.into()],
        });
        kids.push(Object::from(page_id));
    }
    finish(doc, pages_id, kids)
}

/// Adds the page tree (`pages` with `kids`) and the catalog, and writes the file.
pub fn finish(mut doc: Document, pages: ObjectId, kids: Vec<Object>) -> Vec<u8> {
    let count = kids.len() as i64;
    doc.objects.insert(
        pages,
        Object::Dictionary(dictionary! { "Type" => "Pages", "Kids" => kids, "Count" => count }),
    );
    let catalog = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages });
    doc.trailer.set("Root", catalog);
    let mut out = Vec::new();
    doc.save_to(&mut out).expect("writing to memory");
    out
}

/// WinAnsi covers Latin-1; anything else becomes `?`.
fn latin1(s: &str) -> Vec<u8> {
    s.chars()
        .map(|c| if (c as u32) < 256 { c as u8 } else { b'?' })
        .collect()
}

/// Lays out lines top to bottom, breaking pages, for documents built line by line.
pub struct Layout {
    pub pages: Vec<Vec<Text>>,
    y: f32,
    pub left: f32,
    pub size: f32,
}

impl Layout {
    pub fn new(left: f32, size: f32) -> Layout {
        Layout {
            pages: vec![Vec::new()],
            y: 740.0,
            left,
            size,
        }
    }

    fn room(&mut self, height: f32) {
        if self.y - height < 50.0 {
            self.pages.push(Vec::new());
            self.y = 740.0;
        }
        self.y -= height;
    }

    pub fn line(&mut self, text: impl Into<String>) {
        self.styled(text, self.size, false);
    }

    pub fn heading(&mut self, text: impl Into<String>) {
        self.styled(text, self.size + 4.0, true);
    }

    pub fn styled(&mut self, text: impl Into<String>, size: f32, bold: bool) {
        self.room(size * 1.5);
        let (x, y) = (self.left, self.y);
        self.page().push(Text {
            x,
            y,
            size,
            bold,
            text: text.into(),
        });
    }

    pub fn gap(&mut self) {
        self.room(self.size);
    }

    /// A table row: cells at column positions. With `by_column`, the cells are written
    /// in an order other than left to right, as some producers do.
    pub fn row(&mut self, cells: &[(f32, String)], reversed: bool) {
        self.room(self.size * 1.6);
        let (left, y, size) = (self.left, self.y, self.size);
        let mut placed: Vec<Text> = cells
            .iter()
            .map(|(x, t)| Text {
                x: left + x,
                y,
                size,
                bold: false,
                text: t.clone(),
            })
            .collect();
        if reversed {
            placed.reverse();
        }
        self.page().extend(placed);
    }

    fn page(&mut self) -> &mut Vec<Text> {
        self.pages.last_mut().expect("one page at least")
    }

    pub fn finish(self) -> Vec<u8> {
        write(&self.pages)
    }
}
