//! A content stream lexer that keeps going, as viewers do.
//!
//! lopdf's content parser gives up on a whole stream at the first thing it does not
//! expect: an inline image's binary data, a stray byte, an unbalanced bracket. One such
//! page lost all its text. This lexer reads operators and their operands, skips inline
//! image data (`BI … ID … EI`) and anything it does not understand, and borrows strings
//! and names from the stream instead of allocating an object per operand.

use std::borrow::Cow;

/// Deepest array nesting kept; deeper arrays are read and dropped.
const MAX_ARRAY_DEPTH: usize = 8;

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Operand<'a> {
    Number(f32),
    Name(&'a [u8]),
    String(Cow<'a, [u8]>),
    Array(Vec<Operand<'a>>),
    /// Dictionaries, booleans, null: read past, not needed for text.
    Other,
}

impl Operand<'_> {
    pub fn number(&self) -> Option<f32> {
        match self {
            Operand::Number(n) => Some(*n),
            _ => None,
        }
    }
}

pub(super) struct Lexer<'a> {
    data: &'a [u8],
    pos: usize,
}

fn is_white(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n' | b'\x0c' | b'\0')
}

fn is_delimiter(b: u8) -> bool {
    matches!(
        b,
        b'(' | b')' | b'<' | b'>' | b'[' | b']' | b'{' | b'}' | b'/' | b'%'
    )
}

impl<'a> Lexer<'a> {
    pub fn new(data: &'a [u8]) -> Self {
        Lexer { data, pos: 0 }
    }

    /// The next operator, with its operands in `operands` (cleared first); `None` at
    /// the end of the stream.
    pub fn next_op(&mut self, operands: &mut Vec<Operand<'a>>) -> Option<&'a [u8]> {
        operands.clear();
        loop {
            self.skip_white();
            let &b = self.data.get(self.pos)?;
            match b {
                b']' | b')' | b'>' | b'}' | b'{' => self.pos += 1,
                b'/' | b'(' | b'<' | b'[' | b'+' | b'-' | b'.' | b'0'..=b'9' => {
                    let operand = self.operand(0);
                    if operands.len() < 64 {
                        operands.push(operand);
                    }
                }
                _ => {
                    let word = self.word();
                    match word {
                        b"true" | b"false" | b"null" => operands.push(Operand::Other),
                        b"BI" => {
                            self.skip_inline_image();
                            operands.clear();
                            return Some(word);
                        }
                        _ => return Some(word),
                    }
                }
            }
        }
    }

    fn skip_white(&mut self) {
        while let Some(&b) = self.data.get(self.pos) {
            if is_white(b) {
                self.pos += 1;
            } else if b == b'%' {
                while let Some(&b) = self.data.get(self.pos) {
                    if b == b'\n' || b == b'\r' {
                        break;
                    }
                    self.pos += 1;
                }
            } else {
                break;
            }
        }
    }

    /// A run of regular characters (at least one byte, so that the lexer always moves).
    fn word(&mut self) -> &'a [u8] {
        let start = self.pos;
        self.pos += 1;
        while let Some(&b) = self.data.get(self.pos) {
            if is_white(b) || is_delimiter(b) {
                break;
            }
            self.pos += 1;
        }
        &self.data[start..self.pos]
    }

    fn operand(&mut self, depth: usize) -> Operand<'a> {
        self.skip_white();
        let Some(&b) = self.data.get(self.pos) else {
            return Operand::Other;
        };
        match b {
            b'/' => {
                self.pos += 1;
                let start = self.pos;
                while let Some(&b) = self.data.get(self.pos) {
                    if is_white(b) || is_delimiter(b) {
                        break;
                    }
                    self.pos += 1;
                }
                Operand::Name(&self.data[start..self.pos])
            }
            b'(' => Operand::String(self.literal()),
            b'<' if self.data.get(self.pos + 1) == Some(&b'<') => {
                self.skip_dictionary();
                Operand::Other
            }
            b'<' => Operand::String(Cow::Owned(self.hex())),
            b'[' => {
                self.pos += 1;
                let mut items = Vec::new();
                loop {
                    self.skip_white();
                    match self.data.get(self.pos) {
                        None => break,
                        Some(b']') => {
                            self.pos += 1;
                            break;
                        }
                        Some(&b)
                            if is_delimiter(b)
                                || b == b'+'
                                || b == b'-'
                                || b == b'.'
                                || b.is_ascii_digit() =>
                        {
                            if b == b')' || b == b'>' || b == b'}' || b == b'{' {
                                self.pos += 1;
                                continue;
                            }
                            let item = self.operand(depth + 1);
                            if depth < MAX_ARRAY_DEPTH {
                                items.push(item);
                            }
                        }
                        Some(_) => {
                            // An operator inside an array: the array was never closed.
                            break;
                        }
                    }
                }
                Operand::Array(items)
            }
            _ => {
                let word = self.word();
                Operand::Number(parse_number(word))
            }
        }
    }

    /// A literal string with its escapes resolved; borrowed when it has none.
    fn literal(&mut self) -> Cow<'a, [u8]> {
        self.pos += 1;
        let start = self.pos;
        let mut level = 1usize;
        let mut plain = true;
        while let Some(&b) = self.data.get(self.pos) {
            match b {
                b'\\' => {
                    plain = false;
                    self.pos += 1;
                }
                b'(' => level += 1,
                b')' => {
                    level -= 1;
                    if level == 0 {
                        break;
                    }
                }
                _ => {}
            }
            self.pos += 1;
        }
        let raw = &self.data[start..self.pos.min(self.data.len())];
        self.pos = (self.pos + 1).min(self.data.len());
        if plain {
            return Cow::Borrowed(raw);
        }
        let mut out = Vec::with_capacity(raw.len());
        let mut i = 0;
        while i < raw.len() {
            let b = raw[i];
            i += 1;
            if b != b'\\' {
                out.push(b);
                continue;
            }
            let Some(&e) = raw.get(i) else { break };
            i += 1;
            match e {
                b'n' => out.push(b'\n'),
                b'r' => out.push(b'\r'),
                b't' => out.push(b'\t'),
                b'b' => out.push(8),
                b'f' => out.push(12),
                b'0'..=b'7' => {
                    let mut v = (e - b'0') as u32;
                    for _ in 0..2 {
                        match raw.get(i) {
                            Some(&d @ b'0'..=b'7') => {
                                v = v * 8 + (d - b'0') as u32;
                                i += 1;
                            }
                            _ => break,
                        }
                    }
                    out.push(v as u8);
                }
                // A backslash before an end of line continues the string.
                b'\r' => {
                    if raw.get(i) == Some(&b'\n') {
                        i += 1;
                    }
                }
                b'\n' => {}
                other => out.push(other),
            }
        }
        Cow::Owned(out)
    }

    fn hex(&mut self) -> Vec<u8> {
        self.pos += 1;
        let mut digits = Vec::new();
        while let Some(&b) = self.data.get(self.pos) {
            self.pos += 1;
            if b == b'>' {
                break;
            }
            if let Some(d) = (b as char).to_digit(16) {
                digits.push(d as u8);
            }
        }
        digits
            .chunks(2)
            .map(|p| p[0] << 4 | p.get(1).copied().unwrap_or(0))
            .collect()
    }

    /// Past a `<< … >>` dictionary, nested ones and strings included.
    fn skip_dictionary(&mut self) {
        let mut level = 0usize;
        while self.pos < self.data.len() {
            match (self.data[self.pos], self.data.get(self.pos + 1)) {
                (b'<', Some(b'<')) => {
                    level += 1;
                    self.pos += 2;
                }
                (b'>', Some(b'>')) => {
                    self.pos += 2;
                    level = level.saturating_sub(1);
                    if level == 0 {
                        return;
                    }
                }
                (b'(', _) => {
                    self.literal();
                }
                _ => self.pos += 1,
            }
        }
    }

    /// Past an inline image: its dictionary up to `ID`, then its data up to an `EI`
    /// that stands alone between white space.
    fn skip_inline_image(&mut self) {
        while self.pos < self.data.len() {
            self.skip_white();
            if self.data[self.pos..].starts_with(b"ID")
                && self.data.get(self.pos + 2).is_none_or(|&b| is_white(b))
            {
                self.pos += 3;
                break;
            }
            let Some(&b) = self.data.get(self.pos) else {
                return;
            };
            if b == b'/' || b == b'(' || b == b'<' || b == b'[' || b.is_ascii_digit() || b == b'-' {
                self.operand(0);
            } else {
                self.word();
            }
        }
        while self.pos + 2 <= self.data.len() {
            if self.data[self.pos..].starts_with(b"EI")
                && self.pos > 0
                && is_white(self.data[self.pos - 1])
                && self
                    .data
                    .get(self.pos + 2)
                    .is_none_or(|&b| is_white(b) || is_delimiter(b))
            {
                self.pos += 2;
                return;
            }
            self.pos += 1;
        }
        self.pos = self.data.len();
    }
}

/// A number as PDF writes it, leniently: `-.5`, `+3`, `1.`, and junk such as `--2` or
/// `1.2.3` read as far as it makes sense; no number at all reads as 0.
fn parse_number(word: &[u8]) -> f32 {
    let mut i = 0;
    let mut negative = false;
    while i < word.len() && (word[i] == b'-' || word[i] == b'+') {
        negative ^= word[i] == b'-';
        i += 1;
    }
    let mut value = 0f64;
    while i < word.len() && word[i].is_ascii_digit() {
        value = value * 10.0 + (word[i] - b'0') as f64;
        i += 1;
    }
    if i < word.len() && word[i] == b'.' {
        i += 1;
        let mut scale = 0.1;
        while i < word.len() && word[i].is_ascii_digit() {
            value += (word[i] - b'0') as f64 * scale;
            scale *= 0.1;
            i += 1;
        }
    }
    let value = if negative { -value } else { value } as f32;
    if value.is_finite() { value } else { 0.0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ops(data: &[u8]) -> Vec<(String, Vec<Operand<'_>>)> {
        let mut lexer = Lexer::new(data);
        let mut operands = Vec::new();
        let mut out = Vec::new();
        while let Some(op) = lexer.next_op(&mut operands) {
            out.push((String::from_utf8_lossy(op).into_owned(), operands.clone()));
        }
        out
    }

    #[test]
    fn operators_and_operands() {
        let got =
            ops(b"BT /F1 12 Tf 1 0 0 1 -.5 +3. Tm [(a\\)b) -120 <4142>] TJ (x\\101\\\ny) Tj ET");
        let names: Vec<&str> = got.iter().map(|(o, _)| o.as_str()).collect();
        assert_eq!(names, ["BT", "Tf", "Tm", "TJ", "Tj", "ET"]);
        assert_eq!(got[1].1, [Operand::Name(b"F1"), Operand::Number(12.0)]);
        assert_eq!(got[2].1[4], Operand::Number(-0.5));
        assert_eq!(got[2].1[5], Operand::Number(3.0));
        assert_eq!(
            got[3].1[0],
            Operand::Array(vec![
                Operand::String(Cow::Owned(b"a)b".to_vec())),
                Operand::Number(-120.0),
                Operand::String(Cow::Owned(b"AB".to_vec())),
            ])
        );
        assert_eq!(got[4].1[0], Operand::String(Cow::Owned(b"xAy".to_vec())));
    }

    #[test]
    fn inline_images_and_junk_are_skipped() {
        let data = b"q BI/W 4/H 1/CS/G/BPC 8 ID \x00EI\xff\x01 EI Q BT (after) Tj ET ) ] >> BT (more) Tj ET";
        let got = ops(data);
        let names: Vec<&str> = got.iter().map(|(o, _)| o.as_str()).collect();
        assert_eq!(names, ["q", "BI", "Q", "BT", "Tj", "ET", "BT", "Tj", "ET"]);
        assert_eq!(got[4].1[0], Operand::String(Cow::Borrowed(b"after")));
    }

    #[test]
    fn properties_dictionaries_are_read_past() {
        let got = ops(b"/Span <</ActualText (x>>y) /MCID 3>> BDC (t) Tj EMC");
        assert_eq!(got[0].0, "BDC");
        assert_eq!(got[0].1, [Operand::Name(b"Span"), Operand::Other]);
        assert_eq!(got[1].0, "Tj");
    }
}
