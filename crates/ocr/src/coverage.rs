//! Where a page has print that Tesseract's automatic layout left unread.
//!
//! The automatic layout finds columns, blocks and table cells, and now and then takes a
//! region of print for a picture and reads nothing there (on a résumé scanned a few
//! degrees askew, the name and contact line under a large heading). The reading as one
//! uniform block reads such regions, but loses others (ruled tables, a large letterhead
//! beside small print). So the page is read the automatic way, the bands of pixel rows
//! that hold ink but no word are found here, and only words of the one-block reading
//! that fall in those bands are added.

use crate::text::Word;

/// A pixel darker than this is ink (paper is about 240 on the copies measured, print
/// under 120 even at 150 dpi with blur).
const INK: u8 = 128;
/// Runs of ink longer than this (inches) are rules and borders, not print.
const RULE_IN: f32 = 0.4;
/// A pixel row is uncovered when it has at least this many ink pixels (in short runs)
/// outside every word's box: a table's vertical borders give a few per row.
const MIN_INK_PER_ROW: usize = 24;
/// An uncovered band must be this tall (inches) to be a line of print: about the height
/// of 6-point capitals.
const MIN_BAND_IN: f32 = 0.06;
/// Uncovered rows closer than this (inches) are one band.
const JOIN_IN: f32 = 0.03;
/// Words' boxes are grown by this much (inches) before ink is counted as theirs: the
/// boxes are tight and anti-aliased edges fall just outside.
const MARGIN_IN: f32 = 0.02;

/// Bands `(top, bottom)` of pixel rows with print outside every word's box.
pub fn uncovered_bands(
    pixels: &[u8],
    width: u32,
    height: u32,
    dpi: u32,
    words: &[Word],
) -> Vec<(u32, u32)> {
    let (w, h) = (width as usize, height as usize);
    if pixels.len() != w * h || w == 0 {
        return Vec::new();
    }
    let inch = dpi as f32;
    let margin = (MARGIN_IN * inch) as i64;
    let rule = (RULE_IN * inch) as usize;
    // The pixels that belong to a word (its box, grown by the margin).
    let mut covered = vec![false; w * h];
    for word in words {
        let [left, top, bw, bh] = word.bbox.map(i64::from);
        let (x0, x1) = (
            (left - margin).max(0) as usize,
            (left + bw + margin).min(w as i64),
        );
        let (y0, y1) = (
            (top - margin).max(0) as usize,
            (top + bh + margin).min(h as i64),
        );
        let x1 = (x1.max(0) as usize).max(x0);
        for y in y0..(y1.max(0) as usize) {
            covered[y * w + x0..y * w + x1].fill(true);
        }
    }
    let mut uncovered = vec![false; h];
    for (y, flag) in uncovered.iter_mut().enumerate() {
        let row = y * w..(y + 1) * w;
        let (mut ink, mut run) = (0usize, 0usize);
        for (&p, &mine) in pixels[row.clone()].iter().zip(&covered[row]) {
            if p < INK && !mine {
                run += 1;
            } else {
                if run <= rule {
                    ink += run;
                }
                run = 0;
            }
        }
        if run <= rule {
            ink += run;
        }
        *flag = ink >= MIN_INK_PER_ROW;
    }
    let (min_band, join) = ((MIN_BAND_IN * inch) as u32, (JOIN_IN * inch) as u32);
    let mut bands: Vec<(u32, u32)> = Vec::new();
    for (y, _) in uncovered.iter().enumerate().filter(|(_, u)| **u) {
        let y = y as u32;
        match bands.last_mut() {
            Some((_, bottom)) if y <= *bottom + join => *bottom = y + 1,
            _ => bands.push((y, y + 1)),
        }
    }
    bands.retain(|(top, bottom)| bottom - top >= min_band);
    bands
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page() -> (Vec<u8>, u32, u32) {
        (vec![240u8; 600 * 400], 600, 400)
    }

    fn ink(pixels: &mut [u8], width: u32, x: std::ops::Range<u32>, y: std::ops::Range<u32>) {
        for row in y {
            for col in x.clone() {
                pixels[(row * width + col) as usize] = 20;
            }
        }
    }

    fn word(bbox: [u32; 4]) -> Word {
        Word {
            start: 0,
            end: 1,
            confidence: 0.9,
            bbox,
        }
    }

    #[test]
    fn print_without_words_is_a_band_and_print_with_words_is_not() {
        let (mut px, w, h) = page();
        // Two "lines" of letters: short strokes every 10 pixels.
        for x in (20..560).step_by(10) {
            ink(&mut px, w, x..x + 3, 50..80);
            ink(&mut px, w, x..x + 3, 200..230);
        }
        let read = [word([15, 45, 560, 40])];
        assert_eq!(uncovered_bands(&px, w, h, 300, &read), vec![(200, 230)]);
    }

    #[test]
    fn rules_borders_and_specks_are_not_print() {
        let (mut px, w, h) = page();
        ink(&mut px, w, 10..590, 100..103); // a horizontal rule
        ink(&mut px, w, 300..302, 0..400); // a vertical border
        ink(&mut px, w, 50..52, 300..302); // a speck
        assert_eq!(uncovered_bands(&px, w, h, 300, &[]), Vec::new());
    }
}
