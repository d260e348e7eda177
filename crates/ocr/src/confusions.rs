//! What OCR gets wrong inside identifiers, and the readings that undo it.
//!
//! Measured on image-only copies of a peer's recognizer test cases (presidio-cases), the
//! misreadings that cost a value were few and regular:
//! - a letter for a digit inside a number (`4l11`, `O78-05-1120`, `CRO5`);
//! - a space after a narrow `1` inside a long run of digits (`AL4721211 0090000…`,
//!   `601 1000400000000`): the glyph is narrow, its advance is not, and Tesseract takes
//!   the white for a space;
//! - a digit for a letter in an IBAN's country code (`1S14…` for `IS14…`, `F121` for
//!   `FI21`).
//!
//! [`alternatives`] gives the page text read with those undone, with where each byte came
//! from. They are readings to check, not the page's text: the classifier takes one only
//! where it makes a value its rules accept (Luhn, the IBAN checksum, SSN ranges, a date,
//! an address) and the text as read found nothing there (see `vigil-documents`' scanned
//! pages).

/// Each confusable letter and the digit it is read as.
const AS_DIGIT: &[(u8, u8)] = &[
    (b'O', b'0'),
    (b'o', b'0'),
    (b'D', b'0'),
    (b'Q', b'0'),
    (b'l', b'1'),
    (b'I', b'1'),
    (b'i', b'1'),
    (b'|', b'1'),
    (b'!', b'1'),
    (b'S', b'5'),
    (b's', b'5'),
    (b'B', b'8'),
    (b'Z', b'2'),
    (b'z', b'2'),
    (b'G', b'6'),
    (b'b', b'6'),
    (b'g', b'9'),
    (b'q', b'9'),
];

/// Each digit OCR reads where a capital was printed, and that capital.
const AS_LETTER: &[(u8, u8)] = &[
    (b'1', b'I'),
    (b'0', b'O'),
    (b'5', b'S'),
    (b'8', b'B'),
    (b'2', b'Z'),
    (b'6', b'G'),
];

/// A token needs this many digits before its letters are read as digits: one digit and a
/// letter (`l2`, `S1`) are as likely words, codes or ordinals as numbers.
const MIN_DIGITS: usize = 2;

/// The longest group printed with spaces between (cards and IBANs print fours).
const GROUP: usize = 4;

/// An IBAN as printed: in groups of four, or as one token of at least this many
/// characters (Norway's, the shortest, has 15).
const IBAN_MIN: usize = 15;

fn digit_for(c: u8) -> Option<u8> {
    AS_DIGIT.iter().find(|(l, _)| *l == c).map(|(_, d)| *d)
}

fn letter_for(c: u8) -> Option<u8> {
    AS_LETTER.iter().find(|(d, _)| *d == c).map(|(_, l)| *l)
}

/// Another reading of a text, and for each of its bytes the byte of the original it came
/// from (`origin[text.len()]` is the original's length).
#[derive(Debug, Clone, PartialEq)]
pub struct Reading {
    pub text: String,
    pub origin: Vec<usize>,
    /// IBAN country codes read as letters: only IBANs are to be taken from this reading
    /// (elsewhere its digits may have become letters).
    pub for_ibans: bool,
}

impl Reading {
    /// The original's byte range under `start..end` of this reading.
    pub fn original_range(&self, start: usize, end: usize) -> (usize, usize) {
        let last = end.max(start + 1) - 1;
        (
            self.origin[start],
            self.origin[last.min(self.text.len() - 1)] + 1,
        )
    }
}

/// The readings worth checking: numbers (letters read as digits, a space after a `1`
/// inside digits dropped), and the same with IBAN country codes read as letters. Empty
/// when neither differs from the text.
pub fn alternatives(text: &str) -> Vec<Reading> {
    let digits = as_digits(text);
    let ibans = iban_country_codes(&digits);
    let mut out = Vec::new();
    if digits.text != text {
        out.push(digits);
    }
    if let Some(ibans) = ibans {
        out.push(ibans);
    }
    out
}

/// Letters read as digits inside number-like tokens, and spaces after a `1` inside runs of
/// digits dropped.
///
/// A token (between white space, punctuation around it set aside) is number-like when
/// every letter in it is confusable, it has at least [`MIN_DIGITS`] digits and no more
/// confusable letters than digits. Left alone: a leading capital before digits only
/// (`D1234567`, a licence), and a leading country code (`GB82…`), which are letters by
/// design.
fn as_digits(text: &str) -> Reading {
    let mut bytes = text.as_bytes().to_vec();
    let mut at = 0;
    while at < bytes.len() {
        if bytes[at].is_ascii_whitespace() {
            at += 1;
            continue;
        }
        let start = at;
        while at < bytes.len() && !bytes[at].is_ascii_whitespace() {
            at += 1;
        }
        read_token(&mut bytes[start..at]);
    }
    let mut out = Vec::with_capacity(bytes.len());
    let mut origin = Vec::with_capacity(bytes.len() + 1);
    // Runs of letters and digits on either side of a byte.
    let run_before = |i: usize| {
        bytes[..i]
            .iter()
            .rev()
            .take_while(|c| c.is_ascii_alphanumeric())
            .count()
    };
    let run_after = |i: usize| {
        bytes[i + 1..]
            .iter()
            .take_while(|c| c.is_ascii_alphanumeric())
            .count()
    };
    for (i, &b) in bytes.iter().enumerate() {
        // Groups of four (cards, IBANs as printed) are spaced on purpose: only a space
        // beside a longer run is taken for a misread one.
        let narrow_one_gap = b == b' '
            && i >= 2
            && bytes[i - 1] == b'1'
            && bytes[i - 2].is_ascii_digit()
            && bytes.get(i + 1).is_some_and(u8::is_ascii_digit)
            && run_before(i).max(run_after(i)) > GROUP;
        if !narrow_one_gap {
            out.push(b);
            origin.push(i);
        }
    }
    origin.push(bytes.len());
    Reading {
        for_ibans: false,
        // Only ASCII bytes were replaced or dropped, between or inside ASCII runs: the
        // bytes are still UTF-8.
        text: String::from_utf8(out).unwrap_or_else(|_| text.to_owned()),
        origin,
    }
}

/// Reads one token in place.
fn read_token(token: &mut [u8]) {
    let kept = |c: u8| c.is_ascii_alphanumeric() || digit_for(c).is_some();
    let Some(first) = token.iter().position(|&c| kept(c)) else {
        return;
    };
    let last = token.iter().rposition(|&c| kept(c)).unwrap_or(first);
    let core = &mut token[first..=last];
    let digits = core.iter().filter(|c| c.is_ascii_digit()).count();
    let confusable = core
        .iter()
        .filter(|&&c| !c.is_ascii_digit() && digit_for(c).is_some())
        .count();
    // Non-ASCII letters (accented words, other scripts) make it a word.
    let other_letters = core
        .iter()
        .filter(|&&c| (c.is_ascii_alphabetic() && digit_for(c).is_none()) || c >= 0x80)
        .count();
    if confusable == 0 || other_letters > 0 || digits < MIN_DIGITS || confusable > digits {
        return;
    }
    let letter_prefix = core[0].is_ascii_uppercase()
        && (core[1..].iter().all(u8::is_ascii_digit)
            || (core.len() >= 4
                && core[1].is_ascii_uppercase()
                && core[2..4].iter().all(u8::is_ascii_digit)));
    let skip = match (letter_prefix, core.get(1)) {
        (false, _) => 0,
        (true, Some(c)) if c.is_ascii_uppercase() => 2,
        (true, _) => 1,
    };
    for c in core.iter_mut().skip(skip) {
        if let Some(d) = digit_for(*c) {
            *c = d;
        }
    }
}

/// The reading with each IBAN-shaped token's country code read as letters and its check
/// digits as digits (`1S14…` → `IS14…`, `F121` → `FI21`, `CRO5` → `CR05`), or `None` when
/// no token changes. Same length as the reading it starts from.
fn iban_country_codes(reading: &Reading) -> Option<Reading> {
    let mut bytes = reading.text.as_bytes().to_vec();
    let mut changed = false;
    let mut at = 0;
    while at < bytes.len() {
        let boundary = at == 0 || !bytes[at - 1].is_ascii_alphanumeric();
        let end = bytes[at..]
            .iter()
            .position(|c| !c.is_ascii_alphanumeric())
            .map_or(bytes.len(), |n| at + n);
        let grouped = end - at == GROUP
            && bytes.get(end).is_some_and(|&c| c == b' ' || c == b'-')
            && bytes.get(end + 1).is_some_and(u8::is_ascii_alphanumeric);
        // A group of four is a country code only with a capital in it: the groups after
        // the first are digits as often as not.
        let capital = bytes[at..at + 2.min(end - at)]
            .iter()
            .any(u8::is_ascii_uppercase);
        if boundary && ((grouped && capital) || end - at >= IBAN_MIN) {
            let code = &mut bytes[at..at + 4];
            let letters = code[..2]
                .iter()
                .all(|&c| c.is_ascii_uppercase() || letter_for(c).is_some());
            let check = code[2..]
                .iter()
                .all(|&c| c.is_ascii_digit() || digit_for(c).is_some());
            let misread = code[..2].iter().any(u8::is_ascii_digit)
                || code[2..].iter().any(|c| !c.is_ascii_digit());
            if letters && check && misread {
                for c in &mut code[..2] {
                    *c = letter_for(*c).unwrap_or(*c);
                }
                for c in &mut code[2..] {
                    *c = digit_for(*c).unwrap_or(*c);
                }
                changed = true;
            }
        }
        at = end.max(at + 1);
    }
    changed.then(|| Reading {
        for_ibans: true,
        text: String::from_utf8(bytes).unwrap_or_else(|_| reading.text.clone()),
        origin: reading.origin.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn digits(text: &str) -> String {
        as_digits(text).text
    }

    #[test]
    fn letters_inside_numbers_are_read_as_digits() {
        assert_eq!(
            digits("Card: 4l11 1111 1111 111l"),
            "Card: 4111 1111 1111 1111"
        );
        assert_eq!(digits("SSN O78-05-1I20."), "SSN 078-05-1120.");
        assert_eq!(digits("born 0S/l2/1980"), "born 05/12/1980");
        assert_eq!(digits("IP 192.168.l.1O"), "IP 192.168.1.10");
        assert_eq!(digits("(|)"), "(|)");
    }

    #[test]
    fn words_codes_and_letter_prefixes_are_left_alone() {
        for text in [
            "Social Security Number",
            "SOS is 1 word",
            "l2 is short",
            "D1234567",
            "GB82 WEST 1234 5698 7654 32",
            "Zoë 12",
            "B2B",
            "ISO 8601",
        ] {
            assert_eq!(alternatives(text), Vec::new(), "{text}");
        }
    }

    #[test]
    fn a_space_after_a_one_inside_digits_is_dropped_and_mapped_back() {
        let text = "IBAN AL4721211 0090000000235698741, card 601 1000400000000 ok";
        let r = as_digits(text);
        assert_eq!(
            r.text,
            "IBAN AL47212110090000000235698741, card 6011000400000000 ok"
        );
        let start = r.text.find("6011").unwrap();
        let (s, e) = r.original_range(start, start + 16);
        assert_eq!(&text[s..e], "601 1000400000000");
        // A lone "1" or a 1 after a word is left as it was.
        assert_eq!(digits("Apt 1 12 May"), "Apt 1 12 May");
    }

    #[test]
    fn iban_country_codes_are_read_as_letters() {
        for (read, meant) in [
            ("1S14015926007654551", "IS14015926007654551"),
            ("F121 1234 5600 0007 85", "FI21 1234 5600 0007 85"),
            ("CRO5 0152 0200", "CR05 0152 0200"),
        ] {
            let all = alternatives(read);
            assert!(all.iter().any(|r| r.text == meant), "{read}: {all:?}");
        }
    }

    #[test]
    fn the_other_bytes_are_kept() {
        let text = "Né le 1O/O2/1975 à Lyon — n° 4O12";
        assert_eq!(digits(text), "Né le 10/02/1975 à Lyon — n° 4012");
    }
}
