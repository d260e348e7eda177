//! Glyphs → text: words from the gaps between glyphs, lines from shared baselines, read
//! top to bottom and left to right in the direction each line's text runs.
//!
//! A space is written where the producer left a gap wider than a fraction of the font
//! size (a drawn space glyph leaves one), never one per glyph: producers that place
//! every glyph on its own (Chromium's Skia, many invoicing tools) then read as words,
//! not letters.

use super::content::Glyphs;

/// A gap wider than this share of the font size is a word break (poppler uses 0.1).
const WORD_GAP: f32 = 0.12;
/// … or wider than this share of the mean glyph advance, where that is smaller.
const WORD_GAP_OF_ADVANCE: f32 = 0.3;
/// Glyphs further apart than this many font sizes on one baseline start a new run; the
/// line is still put together from its runs.
const RUN_GAP: f32 = 1.0;
/// Baselines closer than this share of the font size are one line.
const LINE_TOLERANCE: f32 = 0.4;

/// A stretch of glyphs drawn one after another on one baseline.
struct Run {
    /// Which of the four directions the baseline runs in: 0 right, 1 up, 2 left, 3 down;
    /// 4 to 7 the same, mirrored across the baseline.
    turn: u8,
    x: f32,
    y: f32,
    end: f32,
    size: f32,
    text: String,
    /// Where a space glyph after the run's last glyph was drawn.
    space_at: Option<f32>,
    /// Sum and count of the glyphs' advances.
    advances: f32,
    glyphs: u32,
}

impl Run {
    /// The gap that breaks a word: a share of the font size, or of the glyphs' mean
    /// advance where that is smaller. Type3 fonts scale their glyphs by their own
    /// matrix, so their nominal size says little; the advances say how large the
    /// letters are.
    fn word_gap(&self, size: f32, next_advance: f32) -> f32 {
        let mean = (self.advances + next_advance.max(0.0)) / (self.glyphs + 1) as f32;
        (WORD_GAP * size).min(WORD_GAP_OF_ADVANCE * mean)
    }
}

/// The page's text: one line per `\n`.
pub(super) fn lay_out(page: &Glyphs) -> String {
    let mut runs: Vec<Run> = Vec::new();
    for g in &page.glyphs {
        let turn = turn_of(g.ux, g.uy) + if g.mirrored { 4 } else { 0 };
        let (x, y) = rotate(turn, g.x, g.y);
        let text = &page.text[g.start as usize..g.end as usize];
        let space = text.is_empty();
        let end = x + g.advance.max(0.0);
        if let Some(run) = runs.last_mut() {
            let same_line = run.turn == turn && (y - run.y).abs() <= run.size.min(g.size) * 0.3;
            let gap = x - run.end;
            let size = run.size.max(g.size);
            if same_line && gap > -0.5 * size && gap < RUN_GAP * size {
                if space {
                    // A space drawn over the previous glyph (ligatures built from two
                    // glyphs, kerned titles) is not a word break.
                    if gap > -0.05 * size {
                        run.space_at.get_or_insert(x);
                    }
                } else {
                    let spaced = run.space_at.is_some_and(|at| x >= at - 0.05 * size);
                    if (spaced || gap > run.word_gap(size, g.advance)) && !run.text.ends_with(' ') {
                        run.text.push(' ');
                    }
                    run.text.push_str(text);
                    run.end = end;
                    run.space_at = None;
                    run.advances += g.advance.max(0.0);
                    run.glyphs += 1;
                }
                continue;
            }
        }
        if space {
            continue;
        }
        runs.push(Run {
            turn,
            x,
            y,
            end,
            size: g.size,
            text: text.to_string(),
            space_at: None,
            advances: g.advance.max(0.0),
            glyphs: 1,
        });
    }
    join_lines(runs)
}

fn turn_of(ux: f32, uy: f32) -> u8 {
    if ux.abs() >= uy.abs() {
        if ux >= 0.0 { 0 } else { 2 }
    } else if uy > 0.0 {
        1
    } else {
        3
    }
}

/// Coordinates in which a baseline running in direction `turn` runs to the right, and
/// lines follow each other downwards.
fn rotate(turn: u8, x: f32, y: f32) -> (f32, f32) {
    let (x, y) = match turn % 4 {
        1 => (y, -x),
        2 => (-x, -y),
        3 => (-y, x),
        _ => (x, y),
    };
    if turn >= 4 { (x, -y) } else { (x, y) }
}

/// Groups runs into lines by baseline, top to bottom, each line left to right; lines of
/// upright text first, then each other direction.
fn join_lines(mut runs: Vec<Run>) -> String {
    runs.sort_by(|a, b| {
        a.turn
            .cmp(&b.turn)
            .then(b.y.total_cmp(&a.y))
            .then(a.x.total_cmp(&b.x))
    });
    let mut lines: Vec<Vec<Run>> = Vec::new();
    for run in runs {
        match lines.last_mut() {
            Some(line)
                if line[0].turn == run.turn
                    && (line[0].y - run.y).abs() <= (line[0].size * LINE_TOLERANCE).max(1.0) =>
            {
                line.push(run)
            }
            _ => lines.push(vec![run]),
        }
    }
    let mut out = String::new();
    // Where the previous line's last run started, its font size, and whether it ended
    // in a hyphen after a letter.
    let mut previous: Option<(u8, f32, f32, bool)> = None;
    for mut line in lines {
        line.sort_by(|a, b| a.x.total_cmp(&b.x));
        let first = &line[0];
        // A word hyphenated at the end of the previous line, continued in lower case
        // where that line's last run started (the same column), is joined again, as
        // pdftotext does.
        let continued = previous.is_some_and(|(turn, x, size, hyphen)| {
            hyphen
                && turn == first.turn
                && (first.x - x).abs() < 2.0 * size
                && first.text.chars().next().is_some_and(char::is_lowercase)
        });
        if continued {
            out.pop(); // the newline
            out.pop(); // the hyphen
        }
        let line_start = out.len();
        let mut prev: Option<&Run> = None;
        for run in &line {
            if let Some(p) = prev {
                // The same text drawn twice at nearly the same place (fake bold).
                if p.text == run.text && (run.x - p.x).abs() < 0.5 * run.size {
                    continue;
                }
                let gap = run.x - p.end;
                let threshold = p.word_gap(p.size.min(run.size), run.advances / run.glyphs as f32);
                if (p.space_at.is_some() || gap > threshold) && !out.ends_with(' ') {
                    out.push(' ');
                }
            }
            out.push_str(&run.text);
            prev = Some(run);
        }
        let trimmed = out.trim_end_matches(' ').len();
        out.truncate(trimmed);
        if let Some(logical) = logical_order(&out[line_start..]) {
            out.truncate(line_start);
            out.push_str(&logical);
        }
        let mut tail = out[line_start..].chars().rev();
        let hyphen = matches!(tail.next(), Some('-' | '\u{AD}' | '\u{2010}'))
            && tail.next().is_some_and(char::is_alphabetic);
        let last = line.last().unwrap_or(first);
        previous = Some((last.turn, last.x, last.size, hyphen && !continued));
        out.push('\n');
    }
    out
}

/// Hebrew and Arabic letters; Arabic-Indic digits run left to right like other digits.
fn is_rtl(c: char) -> bool {
    matches!(c as u32, 0x0590..=0x08FF | 0xFB1D..=0xFDFF | 0xFE70..=0xFEFF)
        && !matches!(c as u32, 0x0660..=0x0669 | 0x06F0..=0x06F9)
}

/// A line of mostly right-to-left script comes off the page in visual order, glyphs left
/// to right; readers and recognizers need logical order. The line is reversed, and the
/// left-to-right runs inside it (numbers, Latin words) are turned back. `None` when the
/// line is not mostly right-to-left.
fn logical_order(line: &str) -> Option<String> {
    let rtl = line.chars().filter(|&c| is_rtl(c)).count();
    let ltr = line
        .chars()
        .filter(|&c| c.is_alphanumeric() && !is_rtl(c))
        .count();
    if rtl == 0 || rtl < ltr {
        return None;
    }
    let chars: Vec<char> = line.chars().rev().collect();
    let mut out = String::with_capacity(line.len());
    let mut i = 0;
    while i < chars.len() {
        if is_rtl(chars[i]) || chars[i].is_whitespace() {
            out.push(chars[i]);
            i += 1;
            continue;
        }
        let start = i;
        while i < chars.len() && !is_rtl(chars[i]) && !chars[i].is_whitespace() {
            i += 1;
        }
        out.extend(chars[start..i].iter().rev());
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::super::content::Glyph;
    use super::*;

    /// Glyphs of `text` from `x` on baseline `y`, each `advance` wide, `gap` apart.
    fn push(page: &mut Glyphs, text: &str, x: f32, y: f32, advance: f32, gap: f32) {
        let mut at = x;
        for c in text.chars() {
            let start = page.text.len() as u32;
            if c != ' ' {
                page.text.push(c);
            }
            page.glyphs.push(Glyph {
                x: at,
                y,
                advance,
                ux: 1.0,
                uy: 0.0,
                size: 10.0,
                mirrored: false,
                start,
                end: page.text.len() as u32,
            });
            at += advance + gap;
        }
    }

    #[test]
    fn glyphs_placed_one_by_one_read_as_words() {
        let mut page = Glyphs::default();
        // Letters 0.5 apart (kerning), words 3 apart: no space glyphs at all.
        push(&mut page, "SSN", 10.0, 700.0, 6.0, 0.5);
        push(&mut page, "123-45-6789", 40.0, 700.0, 6.0, 0.2);
        assert_eq!(lay_out(&page), "SSN 123-45-6789\n");
    }

    #[test]
    fn lines_group_by_baseline_and_order_by_x() {
        let mut page = Glyphs::default();
        // Written column by column, read row by row.
        push(&mut page, "Name:", 50.0, 700.0, 5.0, 0.0);
        push(&mut page, "SSN:", 50.0, 680.0, 5.0, 0.0);
        push(&mut page, "Jane", 200.0, 700.5, 5.0, 0.0);
        push(&mut page, "123", 200.0, 680.0, 5.0, 0.0);
        assert_eq!(lay_out(&page), "Name: Jane\nSSN: 123\n");
    }

    #[test]
    fn right_to_left_lines_come_out_in_logical_order() {
        // Drawn in visual order: the number at the left, the word's last letter first.
        assert_eq!(
            logical_order("2024 ﺔﻴﺑﺮﻌﻟا").as_deref(),
            Some("اﻟﻌﺮﺑﻴﺔ 2024")
        );
        assert_eq!(logical_order("plain text"), None);
    }

    #[test]
    fn words_hyphenated_at_a_line_end_are_joined() {
        let mut page = Glyphs::default();
        push(&mut page, "pellen-", 10.0, 700.0, 5.0, 0.0);
        push(&mut page, "tesque and", 10.0, 688.0, 5.0, 0.0);
        push(&mut page, "555-", 10.0, 676.0, 5.0, 0.0);
        push(&mut page, "1234", 10.0, 664.0, 5.0, 0.0);
        assert_eq!(lay_out(&page), "pellentesque and\n555-\n1234\n");
    }

    #[test]
    fn vertical_columns_read_top_down_right_to_left() {
        let mut page = Glyphs::default();
        // Two columns of glyphs advancing downwards; the right one is read first.
        for (column, x) in [("あい", 100.0), ("うえ", 120.0)] {
            for (i, c) in column.chars().enumerate() {
                let start = page.text.len() as u32;
                page.text.push(c);
                page.glyphs.push(Glyph {
                    x,
                    y: 700.0 - 10.0 * i as f32,
                    advance: 10.0,
                    ux: 0.0,
                    uy: -1.0,
                    size: 10.0,
                    mirrored: false,
                    start,
                    end: page.text.len() as u32,
                });
            }
        }
        assert_eq!(lay_out(&page), "うえ\nあい\n");
    }

    #[test]
    fn space_glyphs_and_rotated_lines() {
        let mut page = Glyphs::default();
        push(&mut page, "two words", 10.0, 500.0, 5.0, 0.0);
        let start = page.text.len() as u32;
        page.text.push_str("Up");
        page.glyphs.push(Glyph {
            x: 300.0,
            y: 100.0,
            advance: 12.0,
            ux: 0.0,
            uy: 1.0,
            size: 10.0,
            mirrored: false,
            start,
            end: page.text.len() as u32,
        });
        assert_eq!(lay_out(&page), "two words\nUp\n");
    }
}
