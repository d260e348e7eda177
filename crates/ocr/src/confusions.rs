//! The letters OCR reads where digits were printed: `O` for `0`, `l` or `I` for `1`, `S`
//! for `5`, `B` for `8`. Inside a run of digits the letter is almost always the misread
//! digit (`4l11 1111 1111 1111`, `O78-05-1120`), and a card, an SSN or a date with one
//! such letter in it is no longer one to the recognizers.
//!
//! [`as_digits`] gives the page text with those letters read as digits, byte for byte the
//! same length, so every offset into the text (the words' places, a finding's span) stays
//! valid. It is a reading to check, not the page's text: the classifier takes it only
//! where a value's own rules (Luhn, the IBAN checksum, SSN ranges, a date, an address)
//! then pass, and where the text as read found nothing (see `vigil-documents`' scanned
//! pages).

/// Each confusable character and the digit it is read as. ASCII on both sides: the text
/// keeps its length and its character boundaries.
const CONFUSIONS: &[(u8, u8)] = &[
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

/// A token needs this many digits before its letters are read as digits: one digit and a
/// letter (`l2`, `S1`) are as likely words, codes or ordinals as numbers.
const MIN_DIGITS: usize = 2;

fn digit_for(c: u8) -> Option<u8> {
    CONFUSIONS.iter().find(|(l, _)| *l == c).map(|(_, d)| *d)
}

/// The text with confusable letters read as digits inside number-like tokens, or `None`
/// when no token has any. Same length as `text`; only ASCII bytes change.
///
/// A token (between white space, punctuation around it set aside) is number-like when
/// every letter in it is confusable, it has at least [`MIN_DIGITS`] digits and no more
/// confusable letters than digits. Left alone: a leading capital before digits only
/// (`D1234567`, a licence; `S12345678`), and a leading country code (`GB82…`), which are
/// letters by design.
pub fn as_digits(text: &str) -> Option<String> {
    let mut out = text.as_bytes().to_vec();
    let mut changed = false;
    let bytes = text.as_bytes();
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
        changed |= read_token(&bytes[start..at], &mut out[start..at]);
    }
    // Only ASCII letters were replaced by ASCII digits, so the bytes are still UTF-8.
    changed.then(|| String::from_utf8(out).unwrap_or_else(|_| text.to_owned()))
}

/// Reads one token into `out` (its bytes); whether anything changed.
fn read_token(token: &[u8], out: &mut [u8]) -> bool {
    let kept = |c: u8| c.is_ascii_alphanumeric() || digit_for(c).is_some();
    let Some(first) = token.iter().position(|&c| kept(c)) else {
        return false;
    };
    let last = token.iter().rposition(|&c| kept(c)).unwrap_or(first);
    let core = &token[first..=last];
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
        return false;
    }
    let rest = &core[1..];
    let letter_prefix = core[0].is_ascii_uppercase()
        && (rest.iter().all(u8::is_ascii_digit)
            || (core.len() >= 4
                && core[1].is_ascii_uppercase()
                && core[2..4].iter().all(u8::is_ascii_digit)));
    let skip = if letter_prefix {
        if core[1].is_ascii_uppercase() { 2 } else { 1 }
    } else {
        0
    };
    let mut changed = false;
    for (i, &c) in core.iter().enumerate().skip(skip) {
        if c.is_ascii_digit() {
            continue;
        }
        if let Some(d) = digit_for(c) {
            out[first + i] = d;
            changed = true;
        }
    }
    changed
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> String {
        as_digits(text).unwrap_or_else(|| text.to_owned())
    }

    #[test]
    fn letters_inside_numbers_are_read_as_digits() {
        assert_eq!(
            read("Card: 4l11 1111 1111 111l"),
            "Card: 4111 1111 1111 1111"
        );
        assert_eq!(read("SSN O78-05-1I20."), "SSN 078-05-1120.");
        assert_eq!(read("born 0S/l2/1980"), "born 05/12/1980");
        assert_eq!(read("IP 192.168.l.1O"), "IP 192.168.1.10");
        assert_eq!(read("(|)"), "(|)");
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
            assert_eq!(as_digits(text), None, "{text}");
        }
    }

    #[test]
    fn the_length_and_the_other_bytes_are_kept() {
        let text = "Né le 1O/O2/1975 à Lyon — n° 4O12";
        let read = as_digits(text).unwrap();
        assert_eq!(read.len(), text.len());
        assert_eq!(read, "Né le 10/02/1975 à Lyon — n° 4012");
    }
}
