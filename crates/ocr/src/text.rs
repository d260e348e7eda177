//! Tesseract's TSV → the page's text in reading order, with each word's place in it.
//!
//! Tesseract splits a page into blocks, and a form's label and its value often land in
//! different blocks (`Date of Birth:` on the left, the date in a column block on the
//! right). Read block by block, the value would come lines after its label, and the
//! recognizers, which read the words before a value, would miss what it is. So lines are
//! put back into visual rows: Tesseract's lines (skew-tolerant, as it found them) that
//! share most of their height are one row, read left to right, as the text layer's
//! layout does for born-digital pages.

use std::collections::BTreeMap;

/// A Tesseract line must share this much of the smaller height with a row to join it.
const ROW_OVERLAP: f32 = 0.5;

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
    top: u32,
    bottom: u32,
    left: u32,
}

/// The page text (one row per `\n`) and its words; rows that failed to parse are skipped.
pub fn from_tsv(tsv: &str) -> (String, Vec<Word>) {
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
        let word = TsvWord {
            text: text.to_owned(),
            confidence: (confidence / 100.0).clamp(0.0, 1.0),
            left,
            top,
            width,
            height,
        };
        let l = lines.entry((block, par, line)).or_insert(Line {
            top,
            bottom: top + height,
            left,
            words: Vec::new(),
        });
        l.top = l.top.min(top);
        l.bottom = l.bottom.max(top + height);
        l.left = l.left.min(left);
        l.words.push(word);
    }
    let mut lines: Vec<Line> = lines.into_values().collect();
    lines.sort_by_key(|l| (l.top, l.left));
    // Rows: lines that overlap vertically by most of the smaller height.
    let mut rows: Vec<(u32, u32, Vec<Line>)> = Vec::new();
    for line in lines {
        let height = (line.bottom - line.top).max(1) as f32;
        let joined = rows.iter_mut().find(|(top, bottom, _)| {
            let overlap = line.bottom.min(*bottom).saturating_sub(line.top.max(*top)) as f32;
            let row_height = (*bottom - *top).max(1) as f32;
            overlap >= ROW_OVERLAP * height.min(row_height)
        });
        match joined {
            Some((top, bottom, members)) => {
                *top = (*top).min(line.top);
                *bottom = (*bottom).max(line.bottom);
                members.push(line);
            }
            None => rows.push((line.top, line.bottom, vec![line])),
        }
    }
    rows.sort_by_key(|(top, _, _)| *top);
    let mut text = String::new();
    let mut words = Vec::new();
    for (_, _, mut members) in rows {
        members.sort_by_key(|l| l.left);
        let mut first = true;
        for line in members {
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
        let (text, words) = from_tsv(&tsv);
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
        let (text, words) = from_tsv(&tsv);
        assert_eq!(text, "Email: jane.doe@gmail.com bob@bank.com\nWrite @ us\n");
        assert_eq!(&text[words[2].start..words[2].end], "gmail.com");
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
        assert_eq!(from_tsv(&tsv), (String::new(), Vec::new()));
    }
}
