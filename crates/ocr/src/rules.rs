//! Fill-in blanks: the rules of a form's empty fields (`Borrower: ________`, a signature
//! line), which Tesseract removes before it reads and never reports.
//!
//! A text layer keeps a typed blank as underscores, and the classifier reads them: a
//! label followed by a blank labels nothing, and a page of blanks is a form nobody filled
//! in. Read by OCR, `Borrower: ______ Prepared by: David Smith, (321) 806-2772` became
//! `Borrower: Prepared by: …`, and the preparer's phone number read as if it were under
//! the borrower's label. So rules are found in the pixels and put back as `____` where
//! they are empty: not under printed words (an underline, a table's rules under its rows)
//! and not the edge of a box or a grid (vertical strokes meet it).

/// Ink is this much darker than the paper (0 black … 255 white): a scanner's noise stays
/// within it, and a thin rule blurred to grey still passes it.
const INK_CONTRAST: u8 = 45;
/// The paper's grey is taken from every this-many-th pixel.
const PAPER_SAMPLE: usize = 7;
/// A run of ink may skip this many lighter pixels (JPEG and noise break a thin rule).
const GAP: u32 = 4;
/// A blank is at least this long, in inches (a short one holds a date's two digits).
const MIN_LENGTH_IN: f32 = 0.3;
/// A rule is at most this thick, in inches (a typed underscore, a 1-point rule, blurred).
const MAX_THICKNESS_IN: f32 = 0.04;
/// Pieces of one rule, broken where JPEG or noise paled it, are joined across gaps up to
/// this long, in inches.
const JOIN_IN: f32 = 0.1;
/// A stroke that meets a rule is part of a box or a grid when it runs this far, in inches
/// (letters standing on a rule, too, make it an underline).
const STROKE_IN: f32 = 0.08;
/// Paper around a rule: the rows this far above and below it, in inches, ...
const MARGIN_IN: f32 = 0.02;
/// ... hold at most this share of ink over its length. Letters fail it: the rows through a
/// line of text, where its letters touch, have letters above and below them too.
const MARGIN_INK: f32 = 0.1;

/// A rule's box in pixels: left, top, width, height.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    pub left: u32,
    pub top: u32,
    pub width: u32,
    pub height: u32,
}

impl Rule {
    pub fn right(&self) -> u32 {
        self.left + self.width
    }

    pub fn bottom(&self) -> u32 {
        self.top + self.height
    }
}

/// The free-standing horizontal rules of a grey page (`width` × `height`, rows packed)
/// scanned at `dpi`.
pub fn fill_in_rules(pixels: &[u8], width: u32, height: u32, dpi: u32) -> Vec<Rule> {
    let (w, h) = (width as usize, height as usize);
    if pixels.len() != w * h || w == 0 {
        return Vec::new();
    }
    let inches = |i: f32| (i * dpi as f32).round().max(1.0) as u32;
    let (min_length, max_thickness) = (inches(MIN_LENGTH_IN), inches(MAX_THICKNESS_IN));
    // The paper's grey: most of a page is paper, so the median pixel.
    let mut histogram = [0usize; 256];
    let sample = pixels.iter().step_by(PAPER_SAMPLE);
    let sampled = sample.len();
    for &p in sample {
        histogram[p as usize] += 1;
    }
    let mut seen = 0;
    let paper = (0..=255u8)
        .find(|&v| {
            seen += histogram[v as usize];
            seen * 2 >= sampled
        })
        .unwrap_or(255);
    let threshold = paper.saturating_sub(INK_CONTRAST);
    let dark = |x: u32, y: u32| pixels[y as usize * w + x as usize] < threshold;
    // Ink where the pixel or one above or below it is dark: noise and JPEG leave holes in
    // a thin grey rule, seldom in the same column of three rows.
    let ink = |x: u32, y: u32| {
        dark(x, y) || (y > 0 && dark(x, y - 1)) || (y + 1 < height && dark(x, y + 1))
    };
    let row = |y: usize| &pixels[y * w..(y + 1) * w];

    // Long runs of ink row by row, joined into rules across touching rows.
    let mut open: Vec<Rule> = Vec::new();
    let mut done: Vec<Rule> = Vec::new();
    let mut inked = vec![false; w];
    for y in 0..h {
        let (above, here, below) = (row(y.saturating_sub(1)), row(y), row((y + 1).min(h - 1)));
        for (((i, a), b), c) in inked.iter_mut().zip(above).zip(here).zip(below) {
            *i = (*a).min(*b).min(*c) < threshold;
        }
        let mut runs = Vec::new();
        let mut x = 0;
        while x < w {
            if !inked[x] {
                x += 1;
                continue;
            }
            let (start, mut end) = (x, x);
            while x < w && x <= end + GAP as usize + 1 {
                if inked[x] {
                    end = x;
                }
                x += 1;
            }
            if end + 1 - start >= min_length as usize {
                runs.push((start as u32, end as u32 + 1));
            }
        }
        let y = y as u32;
        let mut still_open = Vec::new();
        for rule in open.drain(..) {
            let joined = runs
                .iter()
                .position(|&(a, b)| overlaps(rule.left, rule.right(), a, b));
            match joined {
                Some(i) => {
                    let (a, b) = runs.swap_remove(i);
                    let left = rule.left.min(a);
                    still_open.push(Rule {
                        left,
                        top: rule.top,
                        width: rule.right().max(b) - left,
                        height: rule.height + 1,
                    });
                }
                None => done.push(rule),
            }
        }
        still_open.extend(runs.into_iter().map(|(a, b)| Rule {
            left: a,
            top: y,
            width: b - a,
            height: 1,
        }));
        open = still_open;
    }
    done.extend(open);

    let (stroke, margin) = (inches(STROKE_IN), inches(MARGIN_IN));
    let clear = |r: &Rule, y: Option<u32>| {
        y.filter(|&y| y < height).is_none_or(|y| {
            let inked = (r.left..r.right()).filter(|&x| dark(x, y)).count();
            (inked as f32) <= MARGIN_INK * r.width as f32
        })
    };
    done.retain(|r| {
        r.height <= max_thickness
            && clear(r, r.top.checked_sub(margin))
            && clear(r, Some(r.bottom() + margin))
            && !met_by_stroke(r, stroke, &ink, height)
    });
    done.sort_by_key(|r| (r.left, r.top));
    let join = inches(JOIN_IN);
    let mut rules: Vec<Rule> = Vec::new();
    for r in done {
        let piece_of = rules
            .iter_mut()
            .find(|q| q.top < r.bottom() && r.top < q.bottom() && r.left <= q.right() + join);
        match piece_of {
            Some(q) => {
                let (top, bottom) = (q.top.min(r.top), q.bottom().max(r.bottom()));
                let right = q.right().max(r.right());
                *q = Rule {
                    left: q.left,
                    top,
                    width: right - q.left,
                    height: bottom - top,
                };
            }
            None => rules.push(r),
        }
    }
    rules.sort_by_key(|r| (r.top, r.left));
    rules
}

/// Whether two spans share most of the shorter one.
fn overlaps(a0: u32, a1: u32, b0: u32, b1: u32) -> bool {
    let shared = a1.min(b1).saturating_sub(a0.max(b0));
    shared * 2 >= (a1 - a0).min(b1 - b0)
}

/// Whether some column of the rule has ink running `stroke` pixels straight up or down
/// from it: a box's side, a grid's column line, the letters of underlined words.
fn met_by_stroke(rule: &Rule, stroke: u32, ink: &impl Fn(u32, u32) -> bool, height: u32) -> bool {
    let up = |x: u32| (1..=stroke).all(|d| rule.top >= d && ink(x, rule.top - d));
    let down =
        |x: u32| (0..stroke).all(|d| rule.bottom() + d < height && ink(x, rule.bottom() + d));
    (rule.left..rule.right()).any(|x| up(x) || down(x))
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Canvas {
        width: u32,
        pixels: Vec<u8>,
    }

    impl Canvas {
        fn new(width: u32, height: u32) -> Canvas {
            Canvas {
                width,
                pixels: vec![245; (width * height) as usize],
            }
        }

        fn fill(&mut self, left: u32, top: u32, width: u32, height: u32) {
            for y in top..top + height {
                for x in left..left + width {
                    self.pixels[(y * self.width + x) as usize] = 20;
                }
            }
        }

        fn rules(&self) -> Vec<Rule> {
            let height = self.pixels.len() as u32 / self.width;
            fill_in_rules(&self.pixels, self.width, height, 300)
        }
    }

    #[test]
    fn a_blank_after_a_label_is_found_with_its_box() {
        let mut page = Canvas::new(1200, 300);
        // `Name:` as five letter-sized blocks, then a 3-pixel rule in three pieces (a
        // short gap, then a 20-pixel one), a row lower after the gap.
        for i in 0..5 {
            page.fill(100 + i * 30, 100, 22, 30);
        }
        page.fill(300, 128, 200, 3);
        page.fill(502, 128, 300, 3);
        page.fill(822, 129, 100, 3);
        // Found a pixel wider each way: ink is looked for a row up and down.
        assert_eq!(
            page.rules(),
            vec![Rule {
                left: 300,
                top: 127,
                width: 622,
                height: 6
            }]
        );
    }

    #[test]
    fn boxes_grids_underlines_and_short_or_thick_strokes_are_not_blanks() {
        let mut page = Canvas::new(1500, 600);
        // A box: top and bottom meet its sides.
        page.fill(100, 100, 400, 3);
        page.fill(100, 180, 400, 3);
        page.fill(100, 100, 3, 83);
        page.fill(497, 100, 3, 83);
        // An underlined word: letters stand on the rule.
        for i in 0..6 {
            page.fill(700 + i * 30, 270, 22, 30);
        }
        page.fill(700, 300, 200, 3);
        // Too short for a blank; a bar too thick for a rule.
        page.fill(100, 400, 60, 3);
        page.fill(300, 400, 400, 40);
        assert_eq!(page.rules(), vec![]);
    }

    #[test]
    fn a_page_that_does_not_match_its_size_has_no_rules() {
        assert_eq!(fill_in_rules(&[0; 10], 4, 4, 300), vec![]);
    }
}
