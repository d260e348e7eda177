//! The content stream walk: every glyph a page shows, with where it starts, how far it
//! advances and which way its baseline runs, in device space. Form XObjects are
//! followed (depth-limited, no cycles); graphics and text state are tracked only as far
//! as placement needs. Operators come from the lenient [`Lexer`].

use std::collections::HashMap;
use std::rc::Rc;
use std::time::Instant;

use lopdf::{Dictionary, Document, Object, ObjectId};

use super::fonts::Font;
use super::lexer::{Lexer, Operand};
use super::{Limits, check_nesting, check_time, filters};
use crate::Error;

/// Deepest nesting of Form XObjects followed.
const MAX_FORM_DEPTH: usize = 12;

/// One shown glyph.
#[derive(Debug, Clone, Copy)]
pub(super) struct Glyph {
    /// Origin on the page.
    pub x: f32,
    pub y: f32,
    /// Advance along the baseline, in page units.
    pub advance: f32,
    /// Unit vector along the baseline.
    pub ux: f32,
    pub uy: f32,
    /// Font size on the page.
    pub size: f32,
    /// Drawn mirrored across the baseline (lines then stack upwards).
    pub mirrored: bool,
    /// Byte range of its text in [`Glyphs::text`]; empty for a space.
    pub start: u32,
    pub end: u32,
}

/// A page's glyphs and the text they share.
#[derive(Default)]
pub(super) struct Glyphs {
    pub glyphs: Vec<Glyph>,
    pub text: String,
    /// Glyphs with text drawn in an invisible render mode (`3 Tr`, `7 Tr`), and in any
    /// mode: a page whose every glyph is invisible carries an OCR layer over a scan.
    pub invisible: u32,
    pub drawn: u32,
}

/// Fonts read once per document, by object.
pub(super) type FontCache = HashMap<ObjectId, Rc<Font>>;

#[derive(Clone, Copy)]
pub(super) struct Matrix(pub [f32; 6]);

impl Matrix {
    pub const IDENTITY: Matrix = Matrix([1.0, 0.0, 0.0, 1.0, 0.0, 0.0]);

    /// `self` then `o`: the PDF convention, points are row vectors.
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

    fn point(&self, x: f32, y: f32) -> (f32, f32) {
        let m = self.0;
        (x * m[0] + y * m[2] + m[4], x * m[1] + y * m[3] + m[5])
    }

    fn vector(&self, x: f32, y: f32) -> (f32, f32) {
        let m = self.0;
        (x * m[0] + y * m[2], x * m[1] + y * m[3])
    }

    fn from_operands(n: &[f32]) -> Option<Matrix> {
        (n.len() == 6 && n.iter().all(|v| v.is_finite()))
            .then(|| Matrix([n[0], n[1], n[2], n[3], n[4], n[5]]))
    }
}

/// Graphics and text state that `q`/`Q` save and restore.
#[derive(Clone)]
struct State {
    ctm: Matrix,
    font: Option<Rc<Font>>,
    size: f32,
    char_spacing: f32,
    word_spacing: f32,
    scale: f32,
    leading: f32,
    rise: f32,
    /// Text render mode 3 (neither fill nor stroke) or 7 (clip only).
    invisible: bool,
}

pub(super) struct Walk<'a> {
    pub doc: &'a Document,
    pub fonts: &'a mut FontCache,
    pub budget: &'a mut usize,
    pub deadline: Instant,
    pub limits: &'a Limits,
    pub out: Glyphs,
    forms: Vec<ObjectId>,
}

impl<'a> Walk<'a> {
    pub fn new(
        doc: &'a Document,
        fonts: &'a mut FontCache,
        budget: &'a mut usize,
        deadline: Instant,
        limits: &'a Limits,
    ) -> Self {
        Walk {
            doc,
            fonts,
            budget,
            deadline,
            limits,
            out: Glyphs::default(),
            forms: Vec::new(),
        }
    }

    /// Walks one content stream (a page's, or a form's) with its resources.
    pub fn run(
        &mut self,
        data: &[u8],
        resources: Option<&Dictionary>,
        ctm: Matrix,
    ) -> Result<(), Error> {
        check_nesting(data, false)?;
        let mut state = State {
            ctm,
            font: None,
            size: 10.0,
            char_spacing: 0.0,
            word_spacing: 0.0,
            scale: 1.0,
            leading: 0.0,
            rise: 0.0,
            invisible: false,
        };
        let mut stack: Vec<State> = Vec::new();
        let (mut tm, mut tlm) = (Matrix::IDENTITY, Matrix::IDENTITY);
        let mut n = Vec::with_capacity(6);
        let mut operands = Vec::new();
        let mut lexer = Lexer::new(data);
        let mut count = 0usize;
        while let Some(op) = lexer.next_op(&mut operands) {
            count += 1;
            if count.is_multiple_of(4096) {
                check_time(self.deadline, self.limits)?;
            }
            n.clear();
            n.extend(operands.iter().filter_map(Operand::number));
            match op {
                b"q" if stack.len() < 256 => stack.push(state.clone()),
                b"Q" => {
                    if let Some(saved) = stack.pop() {
                        state = saved;
                    }
                }
                b"cm" => {
                    if let Some(m) = Matrix::from_operands(&n) {
                        state.ctm = m.mul(state.ctm);
                    }
                }
                b"BT" => {
                    tm = Matrix::IDENTITY;
                    tlm = Matrix::IDENTITY;
                }
                b"Tf" => {
                    let name = operands.iter().find_map(|o| match o {
                        Operand::Name(name) => Some(*name),
                        _ => None,
                    });
                    state.font = name.and_then(|name| self.font(resources, name));
                    if let Some(&s) = n.last() {
                        state.size = s;
                    }
                }
                b"Tc" if !n.is_empty() => state.char_spacing = n[0],
                b"Tw" if !n.is_empty() => state.word_spacing = n[0],
                b"Tz" if !n.is_empty() => state.scale = n[0] / 100.0,
                b"TL" if !n.is_empty() => state.leading = n[0],
                b"Ts" if !n.is_empty() => state.rise = n[0],
                b"Tr" if !n.is_empty() => state.invisible = n[0] == 3.0 || n[0] == 7.0,
                b"Td" | b"TD" if n.len() == 2 => {
                    if op == b"TD" {
                        state.leading = -n[1];
                    }
                    tlm = Matrix::translate(n[0], n[1]).mul(tlm);
                    tm = tlm;
                }
                b"Tm" => {
                    if let Some(m) = Matrix::from_operands(&n) {
                        tlm = m;
                        tm = tlm;
                    }
                }
                b"T*" => {
                    tlm = Matrix::translate(0.0, -state.leading).mul(tlm);
                    tm = tlm;
                }
                b"Tj" | b"TJ" | b"'" | b"\"" => {
                    if op == b"\"" && n.len() >= 2 {
                        state.word_spacing = n[0];
                        state.char_spacing = n[1];
                    }
                    if op == b"'" || op == b"\"" {
                        tlm = Matrix::translate(0.0, -state.leading).mul(tlm);
                        tm = tlm;
                    }
                    let Some(font) = state.font.clone() else {
                        continue;
                    };
                    for operand in &operands {
                        match operand {
                            Operand::String(bytes) => self.show(&font, &state, &mut tm, bytes),
                            Operand::Array(items) => {
                                for item in items {
                                    match item {
                                        Operand::String(bytes) => {
                                            self.show(&font, &state, &mut tm, bytes)
                                        }
                                        Operand::Number(k) => {
                                            let shift = -k / 1000.0 * state.size;
                                            tm = if font.vertical() {
                                                Matrix::translate(0.0, shift).mul(tm)
                                            } else {
                                                Matrix::translate(shift * state.scale, 0.0).mul(tm)
                                            };
                                        }
                                        _ => {}
                                    }
                                }
                            }
                            _ => {}
                        }
                    }
                }
                b"Do" => {
                    if let Some(Operand::Name(name)) = operands.first() {
                        self.form(resources, name, state.ctm)?;
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }

    fn font(&mut self, resources: Option<&Dictionary>, name: &[u8]) -> Option<Rc<Font>> {
        let fonts = resource(self.doc, resources, b"Font")?;
        let entry = fonts.get(name).ok()?;
        match entry {
            Object::Reference(id) => {
                if let Some(font) = self.fonts.get(id) {
                    return Some(font.clone());
                }
                let dict = self.doc.get_object(*id).ok()?.as_dict().ok()?;
                let font = Rc::new(Font::load(self.doc, dict, self.budget));
                self.fonts.insert(*id, font.clone());
                Some(font)
            }
            Object::Dictionary(dict) => Some(Rc::new(Font::load(self.doc, dict, self.budget))),
            _ => None,
        }
    }

    /// Places the glyphs of one string and moves the text matrix past them.
    fn show(&mut self, font: &Font, state: &State, tm: &mut Matrix, bytes: &[u8]) {
        let vertical = font.vertical();
        let size = state.size;
        let out = &mut self.out;
        font.decode(bytes, |code| {
            let m = tm.mul(state.ctm);
            let width = code.width * size;
            let spacing = state.char_spacing
                + if code.word_space {
                    state.word_spacing
                } else {
                    0.0
                };
            let (x, y) = m.point(0.0, state.rise);
            // Letter spacing (a positive character spacing up to half the font size)
            // widens every glyph alike: it belongs to the glyph, so that letter-spaced
            // headings read as words, not letters. Larger values are layout tricks
            // (spreadsheets spacing digits across a cell), taken back by `TJ` offsets.
            let letter_spacing = state.char_spacing.clamp(0.0, size.abs() * 0.5);
            let letter_spacing = if letter_spacing < state.char_spacing {
                0.0
            } else {
                letter_spacing
            };
            let drawn = width + letter_spacing;
            let (ex, ey) = if vertical {
                m.point(0.0, state.rise - drawn)
            } else {
                m.point(drawn * state.scale, state.rise)
            };
            let (vx, vy) = if vertical {
                m.vector(0.0, -1.0)
            } else {
                m.vector(1.0, 0.0)
            };
            let len = (vx * vx + vy * vy).sqrt();
            let (hx, hy) = if vertical {
                m.vector(1.0, 0.0)
            } else {
                m.vector(0.0, 1.0)
            };
            let scale = (hx * hx + hy * hy).sqrt();
            // A code without text (an unmapped glyph) takes room but is neither a letter
            // nor a space.
            if !code.text.is_empty()
                && len > 0.0
                && len.is_finite()
                && x.is_finite()
                && y.is_finite()
            {
                let start = out.text.len() as u32;
                if !code.text.trim().is_empty() {
                    out.text.push_str(code.text);
                    out.drawn += 1;
                    out.invisible += u32::from(state.invisible);
                }
                out.glyphs.push(Glyph {
                    x,
                    y,
                    advance: ((ex - x) * vx + (ey - y) * vy) / len,
                    ux: vx / len,
                    uy: vy / len,
                    size: (size.abs() * scale).max(0.01),
                    mirrored: (vx * hy - vy * hx) * size.signum() < 0.0,
                    start,
                    end: out.text.len() as u32,
                });
            }
            *tm = if vertical {
                Matrix::translate(0.0, -(width + spacing)).mul(*tm)
            } else {
                Matrix::translate((width + spacing) * state.scale, 0.0).mul(*tm)
            };
        });
    }

    /// Follows `Do` into a Form XObject.
    fn form(
        &mut self,
        resources: Option<&Dictionary>,
        name: &[u8],
        ctm: Matrix,
    ) -> Result<(), Error> {
        let Some(xobjects) = resource(self.doc, resources, b"XObject") else {
            return Ok(());
        };
        let Ok(&Object::Reference(id)) = xobjects.get(name) else {
            return Ok(());
        };
        let doc = self.doc;
        let Ok(stream) = doc.get_object(id).and_then(Object::as_stream) else {
            return Ok(());
        };
        if stream.dict.get(b"Subtype").and_then(Object::as_name).ok() != Some(b"Form") {
            return Ok(());
        }
        let matrix = matrix_entry(&stream.dict, b"Matrix").unwrap_or(Matrix::IDENTITY);
        self.form_stream(id, resources, matrix.mul(ctm))
    }

    /// Walks the form (or appearance) stream `id` with `ctm`; its own resources, if it
    /// has any, else the caller's.
    fn form_stream(
        &mut self,
        id: ObjectId,
        resources: Option<&Dictionary>,
        ctm: Matrix,
    ) -> Result<(), Error> {
        if self.forms.len() >= MAX_FORM_DEPTH || self.forms.contains(&id) {
            return Ok(());
        }
        let doc = self.doc;
        let Ok(stream) = doc.get_object(id).and_then(Object::as_stream) else {
            return Ok(());
        };
        let data = match filters::decode(doc, stream, *self.budget) {
            Ok(d) => d,
            Err(Error::Filter(_)) => return Ok(()),
            Err(e) => return Err(e),
        };
        *self.budget = self.budget.saturating_sub(data.len());
        let own = stream
            .dict
            .get(b"Resources")
            .ok()
            .and_then(|o| doc.dereference(o).ok())
            .and_then(|(_, o)| o.as_dict().ok());
        self.forms.push(id);
        let result = self.run(&data, own.or(resources), ctm);
        self.forms.pop();
        result
    }

    /// Draws the page's annotations as a viewer shows them: each visible one's normal
    /// appearance, fitted into its rectangle (PDF 32000-1, 12.5.5). Signature fields,
    /// stamps and filled form fields show their text this way.
    pub fn annotations(
        &mut self,
        page: &Dictionary,
        resources: Option<&Dictionary>,
        ctm: Matrix,
    ) -> Result<(), Error> {
        let doc = self.doc;
        let Some(Object::Array(annots)) = page
            .get(b"Annots")
            .ok()
            .and_then(|o| doc.dereference(o).ok())
            .map(|(_, o)| o)
        else {
            return Ok(());
        };
        for annot in annots.iter().take(MAX_ANNOTATIONS) {
            let Some(dict) = doc
                .dereference(annot)
                .ok()
                .and_then(|(_, o)| o.as_dict().ok())
            else {
                continue;
            };
            let flags = dict.get(b"F").and_then(Object::as_i64).unwrap_or(0);
            // Hidden (2) or not to be viewed (32).
            if flags & (2 | 32) != 0 {
                continue;
            }
            let Some(id) = appearance(doc, dict) else {
                continue;
            };
            let Ok(stream) = doc.get_object(id).and_then(Object::as_stream) else {
                continue;
            };
            let Some(rect) = rectangle(doc, dict.get(b"Rect").ok()) else {
                continue;
            };
            let Some(bbox) = rectangle(doc, stream.dict.get(b"BBox").ok()) else {
                continue;
            };
            let matrix = matrix_entry(&stream.dict, b"Matrix").unwrap_or(Matrix::IDENTITY);
            // The appearance's box, transformed by its matrix, is mapped onto the rectangle.
            let corners = [
                (bbox[0], bbox[1]),
                (bbox[2], bbox[1]),
                (bbox[0], bbox[3]),
                (bbox[2], bbox[3]),
            ]
            .map(|(x, y)| matrix.point(x, y));
            let (x0, x1) = corners.iter().fold((f32::MAX, f32::MIN), |(lo, hi), p| {
                (lo.min(p.0), hi.max(p.0))
            });
            let (y0, y1) = corners.iter().fold((f32::MAX, f32::MIN), |(lo, hi), p| {
                (lo.min(p.1), hi.max(p.1))
            });
            let (w, h) = (x1 - x0, y1 - y0);
            if w.abs() < 1e-3 || h.abs() < 1e-3 {
                continue;
            }
            let sx = (rect[2] - rect[0]) / w;
            let sy = (rect[3] - rect[1]) / h;
            let fit = Matrix([sx, 0.0, 0.0, sy, rect[0] - x0 * sx, rect[1] - y0 * sy]);
            self.form_stream(id, resources, matrix.mul(fit).mul(ctm))?;
        }
        Ok(())
    }
}

/// Most annotations drawn on one page.
const MAX_ANNOTATIONS: usize = 2_000;

/// The normal appearance stream of an annotation: `/AP /N`, or the state `/AS` picks.
fn appearance(doc: &Document, annot: &Dictionary) -> Option<ObjectId> {
    let ap = doc
        .dereference(annot.get(b"AP").ok()?)
        .ok()?
        .1
        .as_dict()
        .ok()?;
    match ap.get(b"N").ok()? {
        Object::Reference(id) => match doc.get_object(*id).ok()? {
            Object::Stream(_) => Some(*id),
            Object::Dictionary(states) => state_stream(annot, states),
            _ => None,
        },
        Object::Dictionary(states) => state_stream(annot, states),
        _ => None,
    }
}

fn state_stream(annot: &Dictionary, states: &Dictionary) -> Option<ObjectId> {
    let state = annot.get(b"AS").and_then(Object::as_name).ok()?;
    states.get(state).and_then(Object::as_reference).ok()
}

/// A rectangle `[x0 y0 x1 y1]`, normalised so that x0 ≤ x1 and y0 ≤ y1.
fn rectangle(doc: &Document, o: Option<&Object>) -> Option<[f32; 4]> {
    let list = doc.dereference(o?).ok()?.1.as_array().ok()?;
    let n: Vec<f32> = list.iter().filter_map(|v| v.as_float().ok()).collect();
    let [a, b, c, d] = n[..] else { return None };
    if ![a, b, c, d].iter().all(|v| v.is_finite()) {
        return None;
    }
    Some([a.min(c), b.min(d), a.max(c), b.max(d)])
}

fn matrix_entry(dict: &Dictionary, key: &[u8]) -> Option<Matrix> {
    let list = dict.get(key).and_then(Object::as_array).ok()?;
    Matrix::from_operands(
        &list
            .iter()
            .filter_map(|o| o.as_float().ok())
            .collect::<Vec<_>>(),
    )
}

/// A sub-dictionary of a resources dictionary (`/Font`, `/XObject`).
fn resource<'d>(
    doc: &'d Document,
    resources: Option<&'d Dictionary>,
    key: &[u8],
) -> Option<&'d Dictionary> {
    let entry = resources?.get(key).ok()?;
    doc.dereference(entry).ok()?.1.as_dict().ok()
}
