//! Deterministic recognizers: patterns, checksums and context words.
//!
//! Each candidate value is checked by the rules of its kind (SSN area/group/serial, Luhn
//! and issuer ranges, ABA and IBAN checksums). Bare numbers (accounts, passports,
//! licences, 9-digit ids) count only with a context word before them, and the nearest
//! word decides which kind they are. Words such as "example" or "sample" lower scores.

use std::sync::LazyLock;

use regex::Regex;
use vigil_core::EntityKind;

/// A recognized value: byte offsets into the page text.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    pub kind: EntityKind,
    pub start: usize,
    pub end: usize,
    pub score: f32,
}

/// The score from which a candidate is reported.
pub const THRESHOLD: f32 = 0.5;

macro_rules! re {
    ($name:ident, $pattern:expr) => {
        static $name: LazyLock<Regex> =
            LazyLock::new(|| Regex::new($pattern).expect("a valid built-in pattern"));
    };
}

re!(
    SSN,
    r"\b\d{3}-\d{2}-\d{4}\b|\b\d{3} \d{2} \d{4}\b|\b\d{3}\.\d{2}\.\d{4}\b"
);
re!(
    EMAIL,
    r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b"
);
re!(
    PHONE,
    r"(?:\+1[ .-]?|\b1[ .-])?(?:\(([2-9]\d{2})\) ?|\b([2-9]\d{2})[.-])([2-9]\d{2})[ .-](\d{4})\b"
);
re!(CARD, r"\b\d(?:[ -]?\d){12,18}\b");
re!(IBAN, r"\b[A-Z]{2}\d{2}(?:[ -]?[A-Z0-9]{1,4}){3,8}\b");
// Phone numbers in other countries' formats: international (+ or 00 and a country
// code), or national with separators; each is checked against libphonenumber's metadata.
re!(
    PHONE_INTL,
    r"(?:\+|\b00)[1-9]\d{0,2}[ .-]?(?:\(\d{1,4}\)[ .-]?)?\d{1,5}(?:[ .-]\d{1,5}){0,4}\b"
);
re!(
    PHONE_NATIONAL,
    r"(?:\(\d{2,5}\)|\b\d{2,5})(?:[ .-]?\d{2,8}){1,4}\b"
);
// Candidate IPv6 addresses: hex groups and colons (two at least), an embedded IPv4
// tail, a zone and a prefix length; std's parser decides.
re!(
    IPV6,
    r"[0-9A-Fa-f:]*:[0-9A-Fa-f]*:[0-9A-Fa-f:.]*(?:%[0-9A-Za-z]+)?(?:/\d{1,4})?"
);
// Routing numbers as printed on cheques: nine digits, or the MICR-style 4-4-1 form.
re!(ROUTING, r"\b\d{9}\b|\b\d{4}-\d{4}-\d\b");
re!(
    IPV4,
    r"\b(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\b"
);
re!(EIN, r"\b(\d{2})-(\d{7})\b");
// Dates: numeric (day and month in either order, ISO), and with the month's name in
// English (`Sep 20, 1982`, `20 September 1982`, `20-SEP-1982`), Spanish (`7 de junio de
// 1993`), French (`24 mars 1980`), German (`24. März 1980`) and Italian.
re!(
    DATE,
    concat!(
        r"(?i)\b(?:\d{1,2}[/.-]\d{1,2}[/.-](?:19|20)\d{2}|(?:19|20)\d{2}-\d{2}-\d{2}",
        r"|(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.? \d{1,2},? (?:19|20)\d{2}",
        r"|\d{1,2}\.?[ -](?:de )?(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec|enero|febrero|marzo|abril|mayo|junio|julio|agosto|septiembre|setiembre|octubre|noviembre|diciembre|janvier|février|mars|avril|mai|juin|juillet|août|septembre|octobre|novembre|décembre|januar|februar|märz|april|juni|juli|oktober|dezember|gennaio|febbraio|marzo|aprile|maggio|giugno|luglio|settembre|ottobre|dicembre)[a-zé]*\.?[ -](?:de )?(?:19|20)\d{2})\b"
    )
);
// A rule's cut-off ("born before", "born on or after"), wherever the date falls after it.
re!(
    BORN_CUT_OFF,
    r"\bborn (?:on or )?(?:before|after|prior to|between|since)\b"
);
// A span of years (`2021-2026`), not a phone number.
re!(YEAR_RANGE, r"^(?:19|20)\d\d ?[-–] ?(?:19|20)\d\d$");
// Bare identifiers: digits, or one or two letters and digits, possibly dashed.
re!(BARE, r"\b[A-Z]{0,2}\d[\d-]{4,18}\d\b");
// Passport numbers as other countries print them: letters and digits mixed
// (`PBJ150932`, `50GQ76731`), read only after a passport label.
re!(PASSPORT_VALUE, r"\b[A-Z0-9]{8,9}\b");

/// Context words for bare identifiers, by kind (lower case; matched on word starts).
const BARE_CONTEXT: &[(&str, EntityKind)] = &[
    ("social security", EntityKind::Ssn),
    ("ssn", EntityKind::Ssn),
    ("soc. sec", EntityKind::Ssn),
    ("taxpayer identification", EntityKind::Itin),
    ("itin", EntityKind::Itin),
    ("routing", EntityKind::RoutingNumber),
    ("aba", EntityKind::RoutingNumber),
    ("rtn", EntityKind::RoutingNumber),
    ("transit", EntityKind::RoutingNumber),
    ("account", EntityKind::BankAccount),
    ("acct", EntityKind::BankAccount),
    ("a/c", EntityKind::BankAccount),
    ("checking", EntityKind::BankAccount),
    ("savings", EntityKind::BankAccount),
    ("passport", EntityKind::Passport),
    ("pasaporte", EntityKind::Passport),
    ("passeport", EntityKind::Passport),
    ("reisepass", EntityKind::Passport),
    ("passaporto", EntityKind::Passport),
    ("passaporte", EntityKind::Passport),
    ("permis de conduire", EntityKind::DriverLicense),
    ("licencia de conducir", EntityKind::DriverLicense),
    ("carnet de conducir", EntityKind::DriverLicense),
    ("führerschein", EntityKind::DriverLicense),
    ("patente di guida", EntityKind::DriverLicense),
    ("driver", EntityKind::DriverLicense),
    ("licence", EntityKind::DriverLicense),
    ("license", EntityKind::DriverLicense),
    ("dl #", EntityKind::DriverLicense),
    ("dl no", EntityKind::DriverLicense),
    ("dl:", EntityKind::DriverLicense),
];

const DOB_CONTEXT: &[&str] = &[
    "date of birth",
    "birth date",
    "birthdate",
    "dob",
    "d.o.b",
    "born",
    "fecha de nacimiento",
    "nacido",
    "nacida",
    "date de naissance",
    "né le",
    "née le",
    "né(e) le",
    "geburtsdatum",
    "geboren",
    "data di nascita",
    "nato il",
    "nata il",
    "data de nascimento",
];
const SSN_CONTEXT: &[&str] = &["ssn", "social security", "soc. sec", "taxpayer"];
const EIN_CONTEXT: &[&str] = &[
    "ein",
    "employer identification",
    "federal tax id",
    "tax id",
    "fein",
];
const PHONE_CONTEXT: &[&str] = &["phone", "tel", "mobile", "cell", "home", "contact"];
/// Words before a number in another country's national format that make it a phone
/// number (without one, a national format is as likely a reference or a date).
const FOREIGN_PHONE_CONTEXT: &[&str] = &[
    "phone",
    "tel ",
    "tel:",
    "tel.",
    "mobile",
    "cell",
    "number is",
    "my",
    "call",
    "fax",
    "whatsapp",
    "telefon",
    "téléphone",
    "teléfono",
    "telefone",
    "móvil",
    "celular",
    "handy",
    "portable",
];
/// Regions whose national formats are tried, in this order: the larger EU countries,
/// the UK, Brazil, Mexico, India, Japan, China, Israel and Australia (North America is
/// the PHONE pattern's).
const PHONE_REGIONS: &[phonenumber::country::Id] = {
    use phonenumber::country::Id::*;
    &[GB, DE, FR, IT, ES, NL, BR, MX, IN, JP, CN, IL, AU]
};
const NEGATIVE: &[&str] = &[
    "example",
    "sample",
    "e.g.",
    "such as",
    "format",
    "xxx",
    "fictitious",
    "test card",
    "test data",
    "test number",
    "specimen",
    "dummy",
    "placeholder",
];
/// The text before `start` that a label for the value may be in: the rest of the line
/// before it and, for forms with labels above values, the line above.
pub(crate) fn context_before(text: &str, start: usize) -> String {
    let before = &text[..start];
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let mut ctx = tail_chars(&before[line_start..], 48).to_owned();
    if line_start > 0 {
        let prev = &before[..line_start - 1];
        let prev = &prev[prev.rfind('\n').map_or(0, |i| i + 1)..];
        // A label line above (`Date of birth` over `24/03/1980`), or a table's header row
        // above its first row (`Full Name Date of Birth` over `Leon Stewart 01/03/2001`):
        // a line without digits labels the values under it; one with digits holds values
        // of its own and labels nothing below it.
        let label_row = !prev.bytes().any(|b| b.is_ascii_digit());
        if ctx.trim().len() < 3 || label_row {
            ctx = format!("{} {}", tail_chars(prev, 64), ctx);
        }
    }
    ctx.to_lowercase()
}

fn tail_chars(s: &str, n: usize) -> &str {
    match s.char_indices().rev().nth(n.saturating_sub(1)) {
        Some((i, _)) => &s[i..],
        None => s,
    }
}

/// Where the last of `words` occurs in `ctx` (higher = nearer the value).
pub(crate) fn nearest(ctx: &str, words: &[&str]) -> Option<usize> {
    words
        .iter()
        .filter_map(|w| {
            ctx.match_indices(w)
                .filter(|(i, _)| *i == 0 || !ctx.as_bytes()[i - 1].is_ascii_alphanumeric())
                .map(|(i, _)| i + w.len())
                .last()
        })
        .max()
}

/// Whether one of `words` starts a word in `ctx` (lower case).
pub(crate) fn has(ctx: &str, words: &[&str]) -> bool {
    nearest(ctx, words).is_some()
}

/// A value written right after mask characters (`XXXX-1234`, `***1234`, `•• 1234`) is
/// the visible tail of a masked value, not a value. The mask is a run of two or more
/// (or one `*` or `•`) that is not the end of a word: `Amex 3782…`, `Fax 555…` and
/// `Box 12` are not masks.
fn after_mask(text: &str, start: usize) -> bool {
    let before = text[..start].trim_end_matches([' ', '-', '.']);
    let is_mask = |c: char| matches!(c, 'X' | 'x' | '*' | '•' | '#');
    let run: Vec<char> = before.chars().rev().take_while(|&c| is_mask(c)).collect();
    if run.is_empty() {
        return false;
    }
    let rest_len = before.len() - run.iter().map(|c| c.len_utf8()).sum::<usize>();
    let in_word = before[..rest_len]
        .chars()
        .next_back()
        .is_some_and(char::is_alphanumeric);
    !in_word && (run.len() >= 2 || matches!(run[0], '*' | '•'))
}

/// True when the match is glued to more digits (part of a longer number).
fn glued(text: &str, start: usize, end: usize) -> bool {
    let b = text.as_bytes();
    let before =
        start >= 2 && matches!(b[start - 1], b'-' | b'.' | b'/') && b[start - 2].is_ascii_digit();
    let after =
        end + 1 < b.len() && matches!(b[end], b'-' | b'.' | b'/') && b[end + 1].is_ascii_digit();
    before || after
}

fn digits(s: &str) -> Vec<u8> {
    s.bytes()
        .filter(u8::is_ascii_digit)
        .map(|b| b - b'0')
        .collect()
}

fn number(d: &[u8]) -> u32 {
    d.iter().fold(0, |n, &x| n * 10 + u32::from(x))
}

/// SSA rules: area not 000, 666 or 9xx; group not 00; serial not 0000; not one
/// repeated digit; not the numbers printed on sample cards.
pub fn valid_ssn(d: &[u8]) -> bool {
    if d.len() != 9 {
        return false;
    }
    let (area, group, serial) = (number(&d[..3]), number(&d[3..5]), number(&d[5..]));
    area != 0
        && area != 666
        && area < 900
        && group != 0
        && serial != 0
        && !d.iter().all(|&x| x == d[0])
        && !matches!(number(d), 123_456_789 | 78_051_120 | 219_099_999)
}

/// IRS rules: 9xx, group 50–65, 70–88, 90–92 or 94–99.
pub fn valid_itin(d: &[u8]) -> bool {
    d.len() == 9 && d[0] == 9 && matches!(number(&d[3..5]), 50..=65 | 70..=88 | 90..=92 | 94..=99)
}

/// IRS campus prefixes that are never issued.
pub fn valid_ein(d: &[u8]) -> bool {
    d.len() == 9
        && !matches!(number(&d[..2]), 0 | 7..=9 | 17..=19 | 28 | 29 | 49 | 69 | 70 | 78 | 79 | 89 | 96 | 97)
}

pub fn luhn(d: &[u8]) -> bool {
    let sum: u32 = d
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &x)| {
            let x = u32::from(x);
            if i % 2 == 1 {
                let y = x * 2;
                if y > 9 { y - 9 } else { y }
            } else {
                x
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// Issuer ranges and lengths (ISO/IEC 7812 prefixes as the networks publish them):
/// Visa, Mastercard, American Express, Discover, JCB, Diners Club, Maestro, UnionPay,
/// Mir, RuPay and UATP.
pub fn card_issuer(d: &[u8]) -> bool {
    let p = |n: usize| number(&d[..n.min(d.len())]);
    let len = d.len();
    let visa = d[0] == 4 && matches!(len, 13 | 16 | 19);
    let mastercard = len == 16 && ((51..=55).contains(&p(2)) || (2221..=2720).contains(&p(4)));
    let amex = len == 15 && matches!(p(2), 34 | 37);
    let discover =
        (16..=19).contains(&len) && (p(4) == 6011 || p(2) == 65 || (644..=649).contains(&p(3)));
    let jcb = (16..=19).contains(&len) && (3528..=3589).contains(&p(4));
    let diners =
        (14..=19).contains(&len) && (matches!(p(2), 36 | 38 | 39) || (300..=305).contains(&p(3)));
    let maestro = (13..=19).contains(&len) && (p(2) == 50 || (56..=69).contains(&p(2)));
    let unionpay = (16..=19).contains(&len) && p(2) == 62;
    let mir = (16..=19).contains(&len) && (2200..=2204).contains(&p(4));
    let rupay = len == 16 && matches!(p(2), 60 | 81 | 82);
    let uatp = len == 15 && d[0] == 1;
    visa || mastercard
        || amex
        || discover
        || jcb
        || diners
        || maestro
        || unionpay
        || mir
        || rupay
        || uatp
}

/// ABA checksum: 3·(d1+d4+d7) + 7·(d2+d5+d8) + (d3+d6+d9) ≡ 0 (mod 10), with a
/// Federal Reserve prefix.
pub fn valid_routing(d: &[u8]) -> bool {
    if d.len() != 9 || !matches!(number(&d[..2]), 1..=12 | 21..=32 | 61..=72 | 80) {
        return false;
    }
    let w = [3u32, 7, 1];
    d.iter()
        .enumerate()
        .map(|(i, &x)| w[i % 3] * u32::from(x))
        .sum::<u32>()
        % 10
        == 0
}

/// IBAN lengths by country, from the SWIFT IBAN registry.
const IBAN_LENGTHS: &[(&str, usize)] = &[
    ("AD", 24),
    ("AE", 23),
    ("AL", 28),
    ("AT", 20),
    ("AZ", 28),
    ("BA", 20),
    ("BE", 16),
    ("BG", 22),
    ("BH", 22),
    ("BI", 27),
    ("BR", 29),
    ("BY", 28),
    ("CH", 21),
    ("CR", 22),
    ("CY", 28),
    ("CZ", 24),
    ("DE", 22),
    ("DJ", 27),
    ("DK", 18),
    ("DO", 28),
    ("EE", 20),
    ("EG", 29),
    ("ES", 24),
    ("FI", 18),
    ("FK", 18),
    ("FO", 18),
    ("FR", 27),
    ("GB", 22),
    ("GE", 22),
    ("GI", 23),
    ("GL", 18),
    ("GR", 27),
    ("GT", 28),
    ("HN", 28),
    ("HR", 21),
    ("HU", 28),
    ("IE", 22),
    ("IL", 23),
    ("IQ", 23),
    ("IS", 26),
    ("IT", 27),
    ("JO", 30),
    ("KW", 30),
    ("KZ", 20),
    ("LB", 28),
    ("LC", 32),
    ("LI", 21),
    ("LT", 20),
    ("LU", 20),
    ("LV", 21),
    ("LY", 25),
    ("MC", 27),
    ("MD", 24),
    ("ME", 22),
    ("MK", 19),
    ("MN", 20),
    ("MR", 27),
    ("MT", 31),
    ("MU", 30),
    ("NI", 28),
    ("NL", 18),
    ("NO", 15),
    ("OM", 23),
    ("PK", 24),
    ("PL", 28),
    ("PS", 29),
    ("PT", 25),
    ("QA", 29),
    ("RO", 24),
    ("RS", 22),
    ("RU", 33),
    ("SA", 24),
    ("SC", 31),
    ("SD", 18),
    ("SE", 24),
    ("SI", 19),
    ("SK", 24),
    ("SM", 27),
    ("SO", 23),
    ("ST", 25),
    ("SV", 28),
    ("TL", 23),
    ("TN", 24),
    ("TR", 26),
    ("UA", 29),
    ("VA", 22),
    ("VG", 24),
    ("XK", 20),
    ("YE", 30),
];

/// ISO 13616 mod-97 with the country's length (0 for a country not in the registry
/// table: then any length from 15 to 34).
pub fn valid_iban(s: &str) -> bool {
    let s: String = s
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .collect();
    if s.len() < 4 || !s.is_ascii() {
        return false;
    }
    let expected = iban_length(&s[..2]);
    if s.len() < 15 || s.len() > 34 || (expected != 0 && s.len() != expected) {
        return false;
    }
    let rearranged = format!("{}{}", &s[4..], &s[..4]);
    let mut rem = 0u32;
    for c in rearranged.chars() {
        let v = match c {
            '0'..='9' => c as u32 - '0' as u32,
            'A'..='Z' => c as u32 - 'A' as u32 + 10,
            _ => return false,
        };
        rem = if v >= 10 {
            (rem * 100 + v) % 97
        } else {
            (rem * 10 + v) % 97
        };
    }
    rem == 1
}

fn iban_length(country: &str) -> usize {
    IBAN_LENGTHS
        .iter()
        .find(|(c, _)| *c == country)
        .map_or(0, |&(_, n)| n)
}

/// A printed IBAN is grouped in fours (the last group shorter), or not at all.
fn iban_grouping(value: &str) -> bool {
    let groups: Vec<&str> = value.split([' ', '-']).collect();
    groups.len() == 1 || groups[..groups.len() - 1].iter().all(|g| g.len() == 4)
}

fn plausible_birth_date(s: &str) -> bool {
    let year = s
        .split(|c: char| !c.is_ascii_digit())
        .filter(|p| p.len() == 4)
        .find_map(|p| p.parse::<u32>().ok());
    // 1900 is the null date of many systems (01/01/1900), not a birth year.
    year.is_some_and(|y| (1901..=2012).contains(&y))
}

/// What an example or sample word before a value takes off its score.
fn negative(ctx: &str) -> f32 {
    if has(ctx, NEGATIVE) { 0.5 } else { 0.0 }
}

/// The same for the words after a value on its line: `6011 1111 1111 1117 (test card)`.
fn negative_after(text: &str, end: usize) -> f32 {
    let rest = &text[end..];
    let line = &rest[..rest.find('\n').unwrap_or(rest.len())];
    let after: String = line.chars().take(32).collect::<String>().to_lowercase();
    negative(&after)
}

/// Card numbers are printed unbroken, in fours (the last group may be shorter), or in
/// Amex and Diners' 4-6-5 and 4-6-4: a run of small groups is a row of figures.
fn card_grouping(value: &str) -> bool {
    let groups: Vec<usize> = value.split([' ', '-']).map(str::len).collect();
    match groups.as_slice() {
        [_] | [4, 6, 5] | [4, 6, 4] => true,
        [init @ .., last] => init.iter().all(|&g| g == 4) && (1..=4).contains(last),
        [] => false,
    }
}

/// A licence of a trade or a business ("Australian credit licence 234945"), not a
/// driver's.
fn business_licence(ctx: &str) -> bool {
    if has(ctx, &["driver"]) {
        return false;
    }
    has(
        ctx,
        &[
            "credit licence",
            "credit license",
            "business licen",
            "contractor",
            "dealer",
            "broker",
            "trade licen",
            "liquor",
            "software licen",
            "financial services licen",
            "nmls",
        ],
    )
}

/// Domains reserved for documentation and tests (RFC 2606, RFC 6761): no one's mailbox.
fn reserved_domain(email: &str) -> bool {
    let domain = email
        .rsplit_once('@')
        .map_or("", |(_, d)| d)
        .to_ascii_lowercase();
    let labels: Vec<&str> = domain.split('.').collect();
    let tld = labels.last().copied().unwrap_or("");
    let name = labels.len().checked_sub(2).map_or("", |i| labels[i]);
    matches!(tld, "test" | "example" | "invalid" | "localhost")
        || (name == "example" && matches!(tld, "com" | "net" | "org"))
}

/// An identifier made mostly of one digit (`X00000000`, `000123000`): a placeholder, not
/// anyone's. (Cards are left alone: test cards such as `4111 1111 1111 1111` are what
/// card-data scanners are tested with, and a real card may print them.)
fn placeholder_digits(d: &[u8]) -> bool {
    (0..10).any(|digit| d.iter().filter(|&&x| x == digit).count() * 4 >= d.len() * 3)
}

/// All candidates in `text`, overlapping ones resolved in favour of the higher score.
pub fn recognize(text: &str) -> Vec<Candidate> {
    let mut out = Vec::new();
    let mut push = |kind, start, end, score: f32| {
        out.push(Candidate {
            kind,
            start,
            end,
            score: score.clamp(0.0, 1.0),
        })
    };

    for m in SSN.find_iter(text) {
        if glued(text, m.start(), m.end()) || after_mask(text, m.start()) {
            continue;
        }
        let d = digits(m.as_str());
        let ctx = context_before(text, m.start());
        let boost = if has(&ctx, SSN_CONTEXT) { 0.1 } else { 0.0 };
        if valid_itin(&d) {
            push(
                EntityKind::Itin,
                m.start(),
                m.end(),
                0.85 + boost - negative(&ctx).max(negative_after(text, m.end())),
            );
        } else if valid_ssn(&d) {
            // Spaces instead of dashes are weaker evidence without a label.
            let base = if m.as_str().contains('-') { 0.85 } else { 0.55 };
            push(
                EntityKind::Ssn,
                m.start(),
                m.end(),
                base + boost - negative(&ctx).max(negative_after(text, m.end())),
            );
        }
    }
    for m in EIN.find_iter(text) {
        if glued(text, m.start(), m.end()) || after_mask(text, m.start()) {
            continue;
        }
        let ctx = context_before(text, m.start());
        if valid_ein(&digits(m.as_str())) && has(&ctx, EIN_CONTEXT) {
            push(
                EntityKind::Ein,
                m.start(),
                m.end(),
                0.9 - negative(&ctx).max(negative_after(text, m.end())),
            );
        }
    }
    for m in EMAIL.find_iter(text) {
        if reserved_domain(m.as_str()) {
            continue;
        }
        let ctx = context_before(text, m.start());
        push(
            EntityKind::Email,
            m.start(),
            m.end(),
            0.9 - negative(&ctx).max(negative_after(text, m.end())),
        );
    }
    for c in PHONE.captures_iter(text) {
        let m = c.get(0).expect("match");
        if glued(text, m.start(), m.end()) || after_mask(text, m.start()) {
            continue;
        }
        let ctx = context_before(text, m.start());
        let boost = if has(&ctx, PHONE_CONTEXT) { 0.15 } else { 0.0 };
        push(
            EntityKind::Phone,
            m.start(),
            m.end(),
            0.7 + boost - negative(&ctx).max(negative_after(text, m.end())),
        );
    }
    for m in CARD.find_iter(text) {
        let d = digits(m.as_str());
        if after_mask(text, m.start())
            || !card_grouping(m.as_str())
            || !card_issuer(&d)
            || !luhn(&d)
        {
            continue;
        }
        let ctx = context_before(text, m.start());
        push(
            EntityKind::CreditCard,
            m.start(),
            m.end(),
            0.9 - negative(&ctx).max(negative_after(text, m.end())),
        );
    }
    for m in IBAN.find_iter(text) {
        // The pattern may run on into the words after the IBAN ("… 8741 ALL CAPS"): the
        // longest valid IBAN ending at one of its separators is the value.
        let value = m.as_str();
        // Words after it can only be cut off where the country's length is known.
        let known = iban_length(&value[..2]) != 0;
        let ends = std::iter::once(value.len()).chain(
            value
                .match_indices([' ', '-'])
                .map(|(i, _)| i)
                .rev()
                .filter(|_| known),
        );
        if let Some(end) = ends
            .into_iter()
            .find(|&e| valid_iban(&value[..e]) && iban_grouping(&value[..e]))
        {
            let ctx = context_before(text, m.start());
            push(
                EntityKind::Iban,
                m.start(),
                m.start() + end,
                0.95 - negative(&ctx).max(negative_after(text, m.end())),
            );
        }
    }
    for m in IPV4.find_iter(text) {
        let end = m.end() + cidr_suffix(&text[m.end()..], 32);
        // Glued to more digits by a dash or a dot, it is part of a longer number; an
        // invalid prefix length after a slash leaves the address itself.
        let rest = &text[end..];
        let longer =
            rest.starts_with(['.', '-']) && rest[1..].starts_with(|c: char| c.is_ascii_digit());
        let before = &text[..m.start()];
        let after_digit = before.ends_with(['.', '-'])
            && before[..before.len() - 1].ends_with(|c: char| c.is_ascii_digit());
        if !longer && !after_digit {
            push(EntityKind::IpAddress, m.start(), end, 0.6);
        }
    }
    for m in IPV6.find_iter(text) {
        if let Some(len) = ipv6_len(text, m.start(), m.as_str()) {
            push(EntityKind::IpAddress, m.start(), m.start() + len, 0.6);
        }
    }
    for m in ROUTING.find_iter(text) {
        if glued(text, m.start(), m.end()) || after_mask(text, m.start()) {
            continue;
        }
        if valid_routing(&digits(m.as_str())) {
            // Reported, never deciding: a routing number is a bank's, not a person's.
            let ctx = context_before(text, m.start());
            push(
                EntityKind::RoutingNumber,
                m.start(),
                m.end(),
                0.6 - negative(&ctx).max(negative_after(text, m.end())),
            );
        }
    }
    foreign_phones(text, &mut push);
    for m in DATE.find_iter(text) {
        let ctx = context_before(text, m.start());
        // "born before January 2, 1946" is a rule's cut-off date, not someone's birth.
        let cut_off = ["before", "after", "prior to", "between", "since"]
            .iter()
            .any(|w| ctx.trim_end().ends_with(w))
            || BORN_CUT_OFF.is_match(&ctx);
        if has(&ctx, DOB_CONTEXT) && !cut_off && plausible_birth_date(m.as_str()) {
            push(
                EntityKind::DateOfBirth,
                m.start(),
                m.end(),
                0.9 - negative(&ctx).max(negative_after(text, m.end())),
            );
        }
    }
    let passports = PASSPORT_VALUE
        .find_iter(text)
        .filter(|m| !BARE.is_match(m.as_str()));
    for m in BARE.find_iter(text).chain(passports) {
        if glued(text, m.start(), m.end()) || after_mask(text, m.start()) {
            continue;
        }
        let ctx = context_before(text, m.start());
        if let Some(kind) = bare_kind(&ctx, m.as_str()) {
            push(
                kind,
                m.start(),
                m.end(),
                0.85 - negative(&ctx).max(negative_after(text, m.end())),
            );
        }
    }
    resolve_overlaps(out)
}

/// What a bare identifier is: the kind of the nearest label before it whose rules the
/// value meets. (Under a header row, `Account Number Routing Number`, the nearest label
/// is not always the value's own column.)
fn bare_kind(ctx: &str, value: &str) -> Option<EntityKind> {
    let mut labels: Vec<(usize, EntityKind)> = BARE_CONTEXT
        .iter()
        .filter_map(|(w, k)| nearest(ctx, &[w]).map(|at| (at, *k)))
        .collect();
    labels.sort_by_key(|&(at, _)| std::cmp::Reverse(at));
    let d = digits(value);
    if placeholder_digits(&d) {
        return None;
    }
    let letters = value.chars().filter(char::is_ascii_alphabetic).count();
    labels.into_iter().map(|(_, k)| k).find(|kind| match kind {
        EntityKind::Ssn => letters == 0 && valid_ssn(&d),
        EntityKind::Itin => letters == 0 && valid_itin(&d),
        EntityKind::RoutingNumber => letters == 0 && valid_routing(&d),
        EntityKind::BankAccount => letters == 0 && (6..=17).contains(&d.len()),
        // Nine digits (US), a letter and eight, or the mixed forms of other countries.
        EntityKind::Passport => {
            (letters == 0 && d.len() == 9)
                || (letters == 1 && d.len() == 8)
                || ((1..=3).contains(&letters) && d.len() >= 5 && !value.contains('-'))
        }
        EntityKind::DriverLicense => {
            (5..=14).contains(&d.len()) && letters <= 2 && !business_licence(ctx)
        }
        _ => false,
    })
}

/// The length of a `/prefix` after an address, if it is a valid one (at most `max`).
fn cidr_suffix(after: &str, max: u32) -> usize {
    let Some(rest) = after.strip_prefix('/') else {
        return 0;
    };
    let digits: String = rest
        .chars()
        .take_while(char::is_ascii_digit)
        .take(4)
        .collect();
    match digits.parse::<u32>() {
        Ok(bits) if bits <= max && !digits.is_empty() && digits.len() <= 3 => 1 + digits.len(),
        _ => 0,
    }
}

/// The length of a valid IPv6 address at `start` (with its zone and prefix), if the
/// candidate is one: std's parser on the address, a digit somewhere (so that `A::B` in
/// code is not an address), nothing alphanumeric glued before it.
fn ipv6_len(text: &str, start: usize, candidate: &str) -> Option<usize> {
    if text[..start]
        .chars()
        .next_back()
        .is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '.')
    {
        return None;
    }
    let address_end = candidate.find(['%', '/']).unwrap_or(candidate.len());
    let mut address = &candidate[..address_end];
    // A sentence's full stop after the address.
    let mut trimmed = 0;
    while address.ends_with('.') {
        address = &address[..address.len() - 1];
        trimmed += 1;
    }
    if !address.bytes().any(|b| b.is_ascii_digit())
        || address.parse::<std::net::Ipv6Addr>().is_err()
    {
        return None;
    }
    if trimmed > 0 {
        return Some(address.len());
    }
    // Letters glued after it (`fe80::1text`): not an address.
    if text[start + candidate.len()..]
        .chars()
        .next()
        .is_some_and(|c| c.is_alphanumeric() || c == '_')
    {
        return None;
    }
    let mut len = address_end;
    let rest = &candidate[address_end..];
    if let Some(zone) = rest.strip_prefix('%') {
        len += 1 + zone.find('/').unwrap_or(zone.len());
    }
    Some(len + cidr_suffix(&candidate[len..], 128))
}

/// Phone numbers in other countries' formats, checked with libphonenumber's metadata:
/// international ones (`+55 11 98456 5666`) anywhere, national ones only after a word
/// that says it is a phone number.
fn foreign_phones(text: &str, push: &mut impl FnMut(EntityKind, usize, usize, f32)) {
    let mut seen: Vec<(usize, usize)> = Vec::new();
    for m in PHONE_INTL.find_iter(text) {
        if glued(text, m.start(), m.end()) || after_mask(text, m.start()) {
            continue;
        }
        let raw = m.as_str();
        let dialable = raw
            .strip_prefix("00")
            .map_or_else(|| raw.to_string(), |r| format!("+{r}"));
        let valid = phonenumber::parse(None, &dialable).is_ok_and(|n| phonenumber::is_valid(&n));
        if valid {
            let ctx = context_before(text, m.start());
            let boost = if has(&ctx, PHONE_CONTEXT) { 0.15 } else { 0.0 };
            push(
                EntityKind::Phone,
                m.start(),
                m.end(),
                0.7 + boost - negative(&ctx).max(negative_after(text, m.end())),
            );
            seen.push((m.start(), m.end()));
        }
    }
    for m in PHONE_NATIONAL.find_iter(text) {
        if seen.iter().any(|&(s, e)| s < m.end() && m.start() < e)
            || glued(text, m.start(), m.end())
            || after_mask(text, m.start())
            || text[..m.start()].ends_with(['+', '/', '.', '-'])
        {
            continue;
        }
        let count = m.as_str().bytes().filter(u8::is_ascii_digit).count();
        let unbroken = count == m.as_str().len();
        let ctx = context_before(text, m.start());
        // A label of another kind (account, routing, passport …) says what it is.
        let other_label = BARE_CONTEXT.iter().any(|(w, _)| has(&ctx, &[w]));
        if !(8..=12).contains(&count)
            || (unbroken && count < 10)
            || YEAR_RANGE.is_match(m.as_str())
            || other_label
            || !has(&ctx, FOREIGN_PHONE_CONTEXT)
            || DATE.is_match(m.as_str())
        {
            continue;
        }
        let valid = PHONE_REGIONS.iter().any(|&region| {
            phonenumber::parse(Some(region), m.as_str()).is_ok_and(|n| phonenumber::is_valid(&n))
        });
        if valid {
            push(
                EntityKind::Phone,
                m.start(),
                m.end(),
                0.65 - negative(&ctx).max(negative_after(text, m.end())),
            );
        }
    }
}

/// Keeps the best of overlapping candidates (the longer on equal scores).
fn resolve_overlaps(mut all: Vec<Candidate>) -> Vec<Candidate> {
    all.retain(|c| c.score >= THRESHOLD);
    all.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then((b.end - b.start).cmp(&(a.end - a.start)))
    });
    let mut kept: Vec<Candidate> = Vec::new();
    for c in all {
        if !kept.iter().any(|k| k.start < c.end && c.start < k.end) {
            kept.push(c);
        }
    }
    kept.sort_by_key(|c| c.start);
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<(EntityKind, &str)> {
        recognize(text)
            .into_iter()
            .map(|c| (c.kind, &text[c.start..c.end]))
            .collect()
    }

    #[test]
    fn ssn_rules() {
        assert_eq!(
            kinds("SSN: 536-22-8726"),
            vec![(EntityKind::Ssn, "536-22-8726")]
        );
        for bad in [
            "000-12-3456",
            "666-12-3456",
            "536-00-1234",
            "536-22-0000",
            "123-45-6789",
        ] {
            assert!(kinds(&format!("SSN: {bad}")).is_empty(), "{bad}");
        }
        assert_eq!(kinds("ITIN 912-78-1234")[0].0, EntityKind::Itin);
    }

    #[test]
    fn blank_and_masked_fields_are_not_findings() {
        assert!(kinds("SSN: ___-__-____   Account number: ____________").is_empty());
        assert!(
            kinds("Card: XXXX-XXXX-XXXX-1234, account ending ****5678, SSN XXX-XX-1234").is_empty()
        );
    }

    #[test]
    fn cards_need_luhn_and_an_issuer() {
        assert_eq!(
            kinds("card 4111 1111 1111 1111")[0].0,
            EntityKind::CreditCard
        );
        assert!(kinds("order 4111 1111 1111 1112").is_empty());
        assert!(
            kinds("ref 1234 5678 9012 3452").is_empty(),
            "no issuer starts with 1"
        );
    }

    #[test]
    fn bare_numbers_take_the_kind_of_the_nearest_label() {
        assert_eq!(
            kinds("Routing number: 021000021 Account number: 123456789012"),
            vec![
                (EntityKind::RoutingNumber, "021000021"),
                (EntityKind::BankAccount, "123456789012")
            ]
        );
        assert!(
            kinds("Invoice 123456789012").is_empty(),
            "no label, no finding"
        );
        assert!(
            kinds("Routing number: 021000022").is_empty(),
            "bad checksum"
        );
        assert_eq!(kinds("Passport No. C03005988")[0].0, EntityKind::Passport);
        assert_eq!(
            kinds("Driver's License: D1234567")[0].0,
            EntityKind::DriverLicense
        );
    }

    #[test]
    fn birth_dates_need_context() {
        assert_eq!(
            kinds("Date of Birth: 04/12/1986")[0].0,
            EntityKind::DateOfBirth
        );
        assert!(kinds("Statement date: 04/12/2024").is_empty());
    }

    #[test]
    fn iban_mod_97() {
        assert_eq!(
            kinds("IBAN GB82 WEST 1234 5698 7654 32")[0].0,
            EntityKind::Iban
        );
        assert!(kinds("IBAN GB82 WEST 1234 5698 7654 33").is_empty());
    }

    #[test]
    fn examples_are_not_findings() {
        assert!(kinds("Enter your SSN in the format 536-22-8726 (example)").is_empty());
        assert!(kinds("Card number 6011 1111 1111 1117 (test card)").is_empty());
        assert!(kinds("Passport X00000000").is_empty());
        assert!(kinds("Email john.public@example.net").is_empty());
        assert!(kinds("Date of birth 01/01/1900").is_empty());
        assert_eq!(kinds("Card 4111 1111 1111 1111").len(), 1);
        assert!(kinds("Ohio 1,228 389 4 0 0 0 21 22 1 1 0 1 81").is_empty());
        assert!(kinds("if you were born before January 2, 1946, check").is_empty());
        assert!(kinds("Australian credit licence 234945").is_empty());
        assert_eq!(
            kinds("Driver licence 234945")[0].0,
            EntityKind::DriverLicense
        );
    }

    #[test]
    fn formats_of_other_writers() {
        assert_eq!(kinds("SSN 078.05.1123")[0].0, EntityKind::Ssn);
        assert_eq!(
            kinds("5019717010103742")[0].0,
            EntityKind::CreditCard,
            "Dankort"
        );
        assert_eq!(
            kinds("6759649826438453")[0].0,
            EntityKind::CreditCard,
            "Maestro"
        );
        assert_eq!(
            kinds("Dash as iban separator: AL47-2121-1009-0000-0002-3569-8741"),
            vec![(EntityKind::Iban, "AL47-2121-1009-0000-0002-3569-8741")]
        );
        assert_eq!(
            kinds("AL47212110090000000235698741 ALL CAPS"),
            vec![(EntityKind::Iban, "AL47212110090000000235698741")]
        );
        assert_eq!(
            kinds("Subnet: 192.168.1.0/24"),
            vec![(EntityKind::IpAddress, "192.168.1.0/24")]
        );
        assert_eq!(
            kinds("Connect to [2001:db8::1]:8080"),
            vec![(EntityKind::IpAddress, "2001:db8::1")]
        );
        assert_eq!(
            kinds("fe80::1%eth0/64 up"),
            vec![(EntityKind::IpAddress, "fe80::1%eth0/64")]
        );
        assert!(kinds("at 10:30:00 use Vec::new and A::B or fe80::1text").is_empty());
        assert!(
            kinds("HR12 001 0051 8630 0016 A").is_empty(),
            "grouped in threes"
        );
        assert_eq!(kinds("121000358")[0].0, EntityKind::RoutingNumber);
        assert_eq!(
            kinds("Brazil: +55 11 98456 5666"),
            vec![(EntityKind::Phone, "+55 11 98456 5666")]
        );
        assert_eq!(
            kinds("My Japanese number is 090-1234-5678")[0].0,
            EntityKind::Phone
        );
        assert!(
            kinds("Invoice 2021-04-26 ref 090-1234-5678").is_empty(),
            "no phone word"
        );
    }

    #[test]
    fn labels_above_values_and_table_headers() {
        assert_eq!(
            kinds("Full Name Date of Birth\nLeon Stewart 01/03/2001"),
            vec![(EntityKind::DateOfBirth, "01/03/2001")]
        );
        assert_eq!(
            kinds("Social Security # Driver License # / State\n222-12-6011 R0431036 / CA"),
            vec![
                (EntityKind::Ssn, "222-12-6011"),
                (EntityKind::DriverLicense, "R0431036")
            ]
        );
        assert_eq!(
            kinds("Document Title: U.S. Passport\nDocument Number: 746130012"),
            vec![(EntityKind::Passport, "746130012")]
        );
        // The nearest label's rules fail (not a routing number): the account's hold.
        assert_eq!(
            kinds("Account Number Routing Number\n84161140"),
            vec![(EntityKind::BankAccount, "84161140")]
        );
        // A line with values of its own labels nothing below it.
        assert!(kinds("Date of birth: 02/11/1969\nSigned 03/04/1985").len() == 1);
    }

    #[test]
    fn other_languages_labels_and_dates() {
        assert_eq!(
            kinds("Fecha de nacimiento: 7 de junio de 1993")[0],
            (EntityKind::DateOfBirth, "7 de junio de 1993")
        );
        assert_eq!(kinds("Né(e) le\n24/03/1980")[0].0, EntityKind::DateOfBirth);
        assert_eq!(
            kinds("Geburtsdatum: 24. März 1980")[0].0,
            EntityKind::DateOfBirth
        );
        assert_eq!(
            kinds("Date of Birth\n20-SEP-1982")[0],
            (EntityKind::DateOfBirth, "20-SEP-1982")
        );
        assert_eq!(
            kinds("Pasaporte no: XDV873956"),
            vec![(EntityKind::Passport, "XDV873956")]
        );
        assert_eq!(
            kinds("Passeport n°: 50GQ76731"),
            vec![(EntityKind::Passport, "50GQ76731")]
        );
        assert!(kinds("Passport office: ABCDEFGH").is_empty(), "no digits");
    }

    #[test]
    fn ein_needs_its_label() {
        assert_eq!(kinds("EIN: 12-3456789")[0].0, EntityKind::Ein);
        assert!(kinds("Part no. 12-3456789").is_empty());
    }
}
