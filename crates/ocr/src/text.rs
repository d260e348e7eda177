//! Tesseract's TSV → the page's text in reading order, with each word's place in it.
//!
//! Tesseract splits a page into blocks, and a form's label and its value often land in
//! different blocks (`Date of Birth:` on the left, the date in a column block on the
//! right). Read block by block, the value would come lines after its label, and the
//! recognizers, which read the words before a value, would miss what it is. So lines are
//! put back into visual rows: Tesseract's lines (skew-tolerant, as it found them) that
//! share most of their height are one row, read left to right, as the text layer's
//! layout does for born-digital pages.
//!
//! A scan is rarely square to the page. Over a 7-inch line, 2° of skew moves the line's
//! end by a quarter of an inch, so the upright box of a long line covers the two rows
//! below its start, and a letterhead's three lines would read as one. Rows are therefore
//! found in the page's own frame: each word's height is measured across the page's slope
//! (estimated from Tesseract's lines, which follow the skew), not straight down.

use std::collections::BTreeMap;

use crate::rules::Rule;

/// A Tesseract line must share this much of the smaller height with a row to join it.
const ROW_OVERLAP: f32 = 0.5;
/// A line tells the page's slope only when its words span this many pixels (an inch at
/// 300 dpi): over a short run, one tall letter tilts the estimate.
const MIN_SLOPE_SPAN: f32 = 300.0;
/// Scans are fed by hand, not thrown: a slope past tan 10° is a misread line, not skew.
const MAX_SLOPE: f32 = 0.176;
/// What an empty fill-in rule reads as: the underscores a text layer types for a blank,
/// which the classifier knows.
pub const BLANK: &str = "____";

/// One word as read, with its place in the page text.
#[derive(Debug, Clone, PartialEq)]
pub struct Word {
    /// Byte range in the page text.
    pub start: usize,
    pub end: usize,
    /// Tesseract's confidence, 0 … 1.
    pub confidence: f32,
    /// Box in pixels of the rendered page: left, top, width, height.
    pub bbox: [u32; 4],
}

struct TsvWord {
    text: String,
    confidence: f32,
    left: u32,
    top: u32,
    width: u32,
    height: u32,
}

struct Line {
    words: Vec<TsvWord>,
}

/// Where a line lies in the page's frame (see [`Line::extent`]).
struct Extent {
    top: f32,
    bottom: f32,
    left: u32,
}

/// Lines read as one visual row, each with its left edge.
struct Row {
    top: f32,
    bottom: f32,
    lines: Vec<(u32, Line)>,
}

impl Line {
    /// The least-squares slope of the words' centres, with the span it was measured
    /// over; `None` for a line too short to tell.
    fn slope(&self) -> Option<(f32, f32)> {
        let centres: Vec<(f32, f32)> = self.words.iter().map(TsvWord::centre).collect();
        let n = centres.len() as f32;
        let (mean_x, mean_y) = centres
            .iter()
            .fold((0.0, 0.0), |(sx, sy), (x, y)| (sx + x / n, sy + y / n));
        let (sxx, sxy) = centres.iter().fold((0.0, 0.0), |(sxx, sxy), (x, y)| {
            (
                sxx + (x - mean_x) * (x - mean_x),
                sxy + (x - mean_x) * (y - mean_y),
            )
        });
        let span = centres.iter().map(|c| c.0).fold(f32::MIN, f32::max)
            - centres.iter().map(|c| c.0).fold(f32::MAX, f32::min);
        (centres.len() >= 2 && span >= MIN_SLOPE_SPAN && sxx > 0.0).then(|| (sxy / sxx, span))
    }

    /// Top, bottom and left of the line in the page's frame: each word's box moved up or
    /// down by what the slope adds at its centre.
    fn extent(&self, slope: f32) -> Extent {
        self.words.iter().fold(
            Extent {
                top: f32::MAX,
                bottom: f32::MIN,
                left: u32::MAX,
            },
            |e, w| {
                let shift = slope * w.centre().0;
                Extent {
                    top: e.top.min(w.top as f32 - shift),
                    bottom: e.bottom.max((w.top + w.height) as f32 - shift),
                    left: e.left.min(w.left),
                }
            },
        )
    }
}

impl TsvWord {
    fn centre(&self) -> (f32, f32) {
        (
            self.left as f32 + self.width as f32 / 2.0,
            self.top as f32 + self.height as f32 / 2.0,
        )
    }
}

/// The page's slope (dy/dx): the median of its measurable lines' slopes, each line
/// counted by its span so that a heading's two words do not outvote a paragraph.
/// 0 when no line is long enough to tell.
fn page_slope(lines: &[Line]) -> f32 {
    let mut slopes: Vec<(f32, f32)> = lines
        .iter()
        .filter_map(Line::slope)
        .filter(|(slope, _)| slope.abs() <= MAX_SLOPE)
        .collect();
    slopes.sort_by(|a, b| a.0.total_cmp(&b.0));
    let half = slopes.iter().map(|s| s.1).sum::<f32>() / 2.0;
    let mut seen = 0.0;
    for (slope, span) in slopes {
        seen += span;
        if seen >= half {
            return slope;
        }
    }
    0.0
}

/// A blank's label ends at most this many word heights before the rule starts when it
/// ends with a colon (forms align their blanks in a column: `Borrower:` and its blank
/// were an inch apart), and at most one word height when it does not (`Name ______`).
const LABEL_GAP: u32 = 10;

/// The fill-in `rules` (see [`crate::rules`]) that are blanks: a label ends before the
/// rule on its baseline (`Borrower: ______`), and no printed word stands on it. A ruled
/// table's lines and a total's rule have no label on their line. Each becomes a line
/// of one [`BLANK`] word as tall as the page's words, so that it joins the label's row.
fn blanks(rules: &[Rule], lines: &[Line]) -> Vec<Line> {
    let words = || lines.iter().flat_map(|l| &l.words);
    let mut heights: Vec<u32> = words().map(|w| w.height).collect();
    heights.sort_unstable();
    let Some(&word_height) = heights.get(heights.len() / 2) else {
        return Vec::new();
    };
    let on_it = |r: &Rule| {
        words().any(|w| {
            w.left < r.right()
                && w.left + w.width > r.left
                && w.top + w.height + word_height >= r.top
                && w.top <= r.bottom()
        })
    };
    let labelled = |r: &Rule| {
        words().any(|w| {
            let (right, baseline) = (w.left + w.width, w.top + w.height);
            let gap = if w.text.ends_with(':') {
                LABEL_GAP * word_height
            } else {
                word_height
            };
            right <= r.left + word_height / 4
                && right + gap >= r.left
                && baseline + word_height / 3 >= r.top
                && baseline <= r.bottom() + word_height / 3
        })
    };
    rules
        .iter()
        .filter(|r| labelled(r) && !on_it(r))
        .map(|r| Line {
            words: vec![TsvWord {
                text: BLANK.to_owned(),
                confidence: 1.0,
                left: r.left,
                top: r.bottom().saturating_sub(word_height),
                width: r.width,
                height: word_height.max(r.height),
            }],
        })
        .collect()
}

/// The page text (one row per `\n`) and its words; rows that failed to parse are skipped.
/// `rules` are the page's fill-in rules, read as blanks where they are empty.
pub fn from_tsv(tsv: &str, rules: &[Rule]) -> (String, Vec<Word>) {
    let mut lines: BTreeMap<(u32, u32, u32), Line> = BTreeMap::new();
    for row in tsv.lines().skip(1) {
        let cells: Vec<&str> = row.splitn(12, '\t').collect();
        if cells.len() < 12 || cells[0] != "5" {
            continue;
        }
        let num = |i: usize| cells[i].trim().parse::<u32>().ok();
        let (Some(block), Some(par), Some(line)) = (num(2), num(3), num(4)) else {
            continue;
        };
        let (Some(left), Some(top), Some(width), Some(height)) = (num(6), num(7), num(8), num(9))
        else {
            continue;
        };
        let Ok(confidence) = cells[10].trim().parse::<f32>() else {
            continue;
        };
        let text = cells[11].trim();
        if text.is_empty() || confidence < 0.0 {
            continue;
        }
        lines
            .entry((block, par, line))
            .or_insert(Line { words: Vec::new() })
            .words
            .push(TsvWord {
                text: text.to_owned(),
                confidence: (confidence / 100.0).clamp(0.0, 1.0),
                left,
                top,
                width,
                height,
            });
    }
    let mut lines: Vec<Line> = lines.into_values().collect();
    let slope = page_slope(&lines);
    lines.extend(blanks(rules, &lines));
    let mut lines: Vec<(Extent, Line)> = lines.into_iter().map(|l| (l.extent(slope), l)).collect();
    lines.sort_by(|a, b| a.0.top.total_cmp(&b.0.top).then(a.0.left.cmp(&b.0.left)));
    // Rows: lines that overlap vertically by most of the smaller height.
    let mut rows: Vec<Row> = Vec::new();
    for (extent, line) in lines {
        let height = (extent.bottom - extent.top).max(1.0);
        let joined = rows.iter_mut().find(|row| {
            let overlap = (extent.bottom.min(row.bottom) - extent.top.max(row.top)).max(0.0);
            overlap >= ROW_OVERLAP * height.min((row.bottom - row.top).max(1.0))
        });
        match joined {
            Some(row) => {
                row.top = row.top.min(extent.top);
                row.bottom = row.bottom.max(extent.bottom);
                row.lines.push((extent.left, line));
            }
            None => rows.push(Row {
                top: extent.top,
                bottom: extent.bottom,
                lines: vec![(extent.left, line)],
            }),
        }
    }
    rows.sort_by(|a, b| a.top.total_cmp(&b.top));
    let mut text = String::new();
    let mut words = Vec::new();
    for mut row in rows {
        row.lines.sort_by_key(|(left, _)| *left);
        let mut first = true;
        for (_, line) in row.lines {
            let mut line_words = line.words;
            line_words.sort_by_key(|w| w.left);
            for (i, w) in line_words.iter().enumerate() {
                let after = line_words.get(i + 1).map(|n| n.text.as_str());
                if !first && !joins(&text, &w.text, after) {
                    text.push(' ');
                }
                first = false;
                let start = text.len();
                text.push_str(&w.text);
                words.push(Word {
                    start,
                    end: text.len(),
                    confidence: w.confidence,
                    bbox: [w.left, w.top, w.width, w.height],
                });
            }
        }
        text.push('\n');
    }
    (text, words)
}

/// Whether `next` continues the word `text` ends with: Tesseract often splits an e-mail
/// address at its `@` (`jane@ example.com`, `jane @ example.com`: the `@` glyph is wide
/// and spaced), and an address with a space in it is no address to the recognizers.
/// `after` is the word after `next`, which tells an address's lone `@` from `write @ us`.
fn joins(text: &str, next: &str, after: Option<&str>) -> bool {
    let before = text.rsplit([' ', '\n']).next().unwrap_or("");
    let local_part = !before.is_empty() && !before.ends_with(':');
    (before.ends_with('@') && before.len() > 1 && next.contains('.'))
        || (next.starts_with('@') && next.len() > 1 && local_part)
        || (next == "@" && local_part && after.is_some_and(|a| a.contains('.')))
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight\tconf\ttext";

    fn word(block: u32, line: u32, n: u32, left: u32, top: u32, conf: f32, text: &str) -> String {
        format!("5\t1\t{block}\t1\t{line}\t{n}\t{left}\t{top}\t80\t30\t{conf}\t{text}")
    }

    #[test]
    fn a_label_and_its_value_in_two_blocks_read_as_one_row() {
        let tsv = [
            HEADER.to_owned(),
            "1\t1\t0\t0\t0\t0\t0\t0\t2000\t3000\t-1\t".to_owned(),
            word(1, 1, 1, 100, 100, 96.5, "Date"),
            word(1, 1, 2, 190, 102, 95.0, "of"),
            word(1, 1, 3, 260, 101, 94.0, "Birth:"),
            word(1, 2, 1, 100, 200, 90.0, "Name:"),
            word(2, 1, 1, 900, 104, 88.0, "11/06/1948"),
            word(2, 2, 1, 900, 198, 91.0, "Diane"),
            word(2, 2, 2, 1000, 199, 91.0, "Vasquez"),
        ]
        .join("\n");
        let (text, words) = from_tsv(&tsv, &[]);
        assert_eq!(text, "Date of Birth: 11/06/1948\nName: Diane Vasquez\n");
        assert_eq!(words.len(), 7);
        let date = &words[3];
        assert_eq!(&text[date.start..date.end], "11/06/1948");
        assert!((date.confidence - 0.88).abs() < 1e-6);
        assert_eq!(date.bbox, [900, 104, 80, 30]);
    }

    #[test]
    fn an_address_split_at_its_at_sign_is_joined() {
        let tsv = [
            HEADER.to_owned(),
            word(1, 1, 1, 100, 100, 96.0, "Email:"),
            word(1, 1, 2, 200, 100, 91.0, "jane.doe@"),
            word(1, 1, 3, 330, 100, 93.0, "gmail.com"),
            word(1, 1, 4, 500, 100, 96.0, "bob"),
            word(1, 1, 5, 560, 100, 96.0, "@"),
            word(1, 1, 6, 600, 100, 96.0, "bank.com"),
            word(1, 2, 1, 100, 200, 96.0, "Write"),
            word(1, 2, 2, 200, 200, 96.0, "@"),
            word(1, 2, 3, 300, 200, 96.0, "us"),
        ]
        .join("\n");
        let (text, words) = from_tsv(&tsv, &[]);
        assert_eq!(text, "Email: jane.doe@gmail.com bob@bank.com\nWrite @ us\n");
        assert_eq!(&text[words[2].start..words[2].end], "gmail.com");
    }

    /// Words as Tesseract read a letterhead scanned 2.8° askew (200 dpi): the upright box
    /// of the bank's name, which climbs 23 pixels over its length, covers the telephone
    /// and web lines of the right column, which belong to the two rows below it.
    #[test]
    fn an_askew_letterhead_keeps_its_rows() {
        let words = [
            (1, 1, 102, 209, 103, 33, "Lone"),
            (1, 1, 220, 201, 83, 36, "Oak"),
            (1, 1, 316, 190, 241, 43, "Community"),
            (1, 1, 573, 184, 107, 37, "Bank"),
            (1, 2, 1356, 199, 28, 16, "Tel"),
            (1, 2, 1391, 193, 126, 21, "815-620-2001"),
            (1, 3, 1363, 220, 158, 21, "www.loneoak.net"),
            (2, 1, 102, 255, 43, 17, "4571"),
            (2, 1, 154, 253, 62, 17, "Robert"),
            (2, 1, 223, 250, 33, 16, "Flat"),
            (3, 1, 103, 282, 45, 16, "Lake"),
            (3, 1, 154, 278, 92, 21, "Maryberg,"),
            (3, 1, 254, 275, 28, 16, "NC"),
            (3, 1, 290, 272, 57, 18, "28245"),
            (4, 1, 125, 360, 227, 41, "Community"),
            (4, 1, 366, 350, 271, 39, "Reinvestment"),
            (4, 1, 650, 345, 65, 31, "Act"),
            (4, 1, 729, 338, 125, 35, "Notice"),
        ];
        let tsv = std::iter::once(HEADER.to_owned())
            .chain(words.iter().enumerate().map(
                |(n, (block, line, left, top, width, height, text))| {
                    format!("5\t1\t{block}\t1\t{line}\t{n}\t{left}\t{top}\t{width}\t{height}\t95\t{text}")
                },
            ))
            .collect::<Vec<_>>()
            .join("\n");
        let (text, _) = from_tsv(&tsv, &[]);
        assert_eq!(
            text,
            "Lone Oak Community Bank\n\
             4571 Robert Flat Tel 815-620-2001\n\
             Lake Maryberg, NC 28245 www.loneoak.net\n\
             Community Reinvestment Act Notice\n"
        );
    }

    #[test]
    fn a_page_without_a_long_line_is_taken_as_square() {
        let lines = [Line {
            words: vec![
                TsvWord {
                    text: "Name:".into(),
                    confidence: 0.9,
                    left: 100,
                    top: 100,
                    width: 80,
                    height: 30,
                },
                TsvWord {
                    text: "Jo".into(),
                    confidence: 0.9,
                    left: 200,
                    top: 140,
                    width: 40,
                    height: 30,
                },
            ],
        }];
        assert_eq!(page_slope(&lines), 0.0);
    }

    #[test]
    fn a_labelled_rule_reads_as_a_blank_and_a_table_s_rule_does_not() {
        let tsv = [
            HEADER.to_owned(),
            word(1, 1, 1, 100, 100, 96.0, "Borrower:"),
            word(2, 1, 1, 900, 100, 96.0, "Prepared"),
            word(2, 1, 2, 990, 100, 96.0, "by:"),
            word(3, 1, 1, 100, 300, 96.0, "Sales"),
            word(3, 1, 2, 190, 300, 96.0, "Tax"),
            word(3, 1, 3, 500, 300, 96.0, "$18.97"),
            word(4, 1, 1, 100, 400, 96.0, "Total"),
            word(4, 1, 2, 500, 400, 96.0, "$20.00"),
        ]
        .join("\n");
        let rule = |left, top, width| Rule {
            left,
            top,
            width,
            height: 4,
        };
        // The borrower's blank, an inch after its label; the total's rule under the tax
        // amount (no label on its line); an underline under `Total`.
        let rules = [rule(480, 129, 380), rule(480, 350, 120), rule(100, 430, 80)];
        let (text, words) = from_tsv(&tsv, &rules);
        assert_eq!(
            text,
            "Borrower: ____ Prepared by:\nSales Tax $18.97\nTotal $20.00\n"
        );
        assert_eq!(&text[words[1].start..words[1].end], BLANK);
    }

    #[test]
    fn rows_that_do_not_parse_are_skipped() {
        let tsv = [
            HEADER,
            "5\t1\tx\t1\t1\t1\t0\t0\t1\t1\t90\tbad",
            "5\t1\t1\t1\t1\t1\t0\t0\t10\t10\t-1\t",
            "garbage",
        ]
        .join("\n");
        assert_eq!(from_tsv(&tsv, &[]), (String::new(), Vec::new()));
    }
}
