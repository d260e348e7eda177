//! The classifier: text → findings → verdict, by the definition in docs/architecture.md (Records).
//!
//! A document is `pii` when it holds a direct identifier of a private person (SSN, ITIN,
//! card, bank account, IBAN, passport, driver licence, a person's own e-mail or phone,
//! date of birth), or a person's name together with an address. Public business
//! contacts (role mailboxes, toll-free and "call us" numbers, an executive's name, an
//! office address) are not.

use std::time::Instant;

use vigil_core::{Detector, DocumentVerdict, EntityKind, Finding, Verdict, mask};

use crate::Error;
use crate::extract::{self, Limits, Page};
use crate::ner::{NerModel, Span, Tag};
use crate::ownership::{DocumentContext, Judgement, Ownership};
use crate::recognizers::{self, Candidate};
use crate::scanned::{self, OcrUse, Reading};

/// NER spans below this mean probability are dropped.
const NER_THRESHOLD: f32 = 0.6;
/// The score of a name read from its place over an address (no model score).
const ADDRESSEE_SCORE: f32 = 0.7;

/// A name field's label: on its own line, or followed by a colon and the value.
static NAME_LABEL: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
    regex::Regex::new(concat!(
        // A form's field number (`1 Name`), the label, a note in brackets (`(as shown on
        // your income tax return)`), nothing else on the line.
        r"(?im)(?:^[ \t]*(?:\d{1,2}[a-z]?[ \t]+)?(?:(?:full |legal |employee |borrower |applicant |customer |insured )?name|",
        r"named insured\(s\)|named insureds?|nombre y apellidos|nombre completo|nom et prénom|",
        r"nom complet|vor- und nachname|borrower|co-borrower|applicant|employee|account holder)",
        r"(?:[ \t]*\([^)\n]*\))?[ \t]*:?[ \t]*$|\b(?:full |legal |employee |borrower |applicant |customer )?name[ \t]*:)"
    ))
    .expect("a valid built-in pattern")
});
/// Words that make a line an organisation's name, not a person's.
static ORGANISATION_WORD: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
    regex::Regex::new(
        r"(?i)\b(?:inc|llc|llp|ltd|corp|corporation|company|co|bank|trust|credit union|group|services|associates|partners|agency|insurance|financial|lending|mortgage|holdings|university|hospital|department|dept|office|attn|c/o|gmbh|s\.?a|s\.?l|sarl|bv|plc)\b\.?",
    )
    .expect("a valid built-in pattern")
});

/// Words before a name that make it a public business contact.
const OFFICER_WORDS: &[&str] = &[
    "ceo",
    "chief",
    "president",
    "officer",
    "director",
    "chair",
    "founder",
    "spokesperson",
    "manager",
    "vice",
    "head of",
    "said",
    "says",
    "according to",
    "attn",
    "attention",
    "sincerely",
    "regards",
    "analyst",
    "partner",
    "secretary",
    "treasurer",
    "counsel",
    "editor",
];
/// Departments a named employee is addressed in (`Attn: Kyle Martinez, Accounts Payable`).
const DEPARTMENTS: &[&str] = &[
    "accounts payable",
    "accounts receivable",
    "procurement",
    "purchasing",
    "human resources",
    "treasury",
    "billing",
    "payroll",
];
/// Capitalised words printed next to a name that are not part of it: salutations, and
/// the labels of the fields beside an address block (`Stephen Powell Employee ID:`,
/// `James Beasley Statement Date:`).
const NOT_NAME_WORDS: &[&str] = &[
    "dear",
    "attn",
    "attention",
    "to",
    "from",
    "re",
    "name",
    "employee",
    "borrower",
    "applicant",
    "customer",
    "client",
    "member",
    "insured",
    "tenant",
    "payee",
    "recipient",
    "statement",
    "date",
    "account",
    "loan",
    "policy",
    "number",
    "page",
    "pay",
    "period",
    "id",
    "ssn",
    "tin",
    "ein",
    "phone",
    "tel",
    "email",
    "address",
    "invoice",
    "reference",
    "amount",
    "due",
    "balance",
    "total",
    "signature",
    "signed",
    "the",
    "and",
    "of",
    "information",
    "contact",
    "details",
    "mailing",
    "billing",
    "shipping",
    "property",
    "location",
    "corporate",
    "headquarters",
    "shareholder",
    "shareholders",
    "investor",
    "relations",
    "notice",
    "summary",
    "services",
    "center",
    "centre",
    "social",
    "security",
    "birth",
    "employer",
    "employment",
    "income",
    "occupation",
    "marital",
    "status",
    "citizenship",
    "routing",
    "mobile",
    "cell",
    "work",
    "home",
    "current",
    "previous",
    "street",
    "city",
    "state",
    "zip",
    "country",
    "county",
];
/// Words before an address that make it a business's office.
const OFFICE_WORDS: &[&str] = &[
    "headquarter",
    "office",
    "lending",
    "loans",
    "mortgage",
    "group",
    "write to",
    "branch",
    "inc",
    "llc",
    "corp",
    "bank",
    "n.a.",
    "visit us",
    "mail to",
    "mailing address:",
    "remit",
    "located at",
    "our address",
    "credit union",
    "company",
    "financial",
];

pub struct Classifier {
    ner: Option<NerModel>,
    limits: Limits,
    mode: NerMode,
    ownership: Ownership,
    ocr: OcrUse,
}

/// Where the model runs. It costs about half a millisecond per token on one core, a
/// hundred times the recognizers, so by default it runs only where it can change the
/// verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum NerMode {
    /// Only on documents with no direct identifier, and there only around address
    /// candidates that are not a business's: without an address, a name alone cannot
    /// make a document personal. Persons and addresses are then reported only where
    /// they decided the verdict.
    #[default]
    Verdict,
    /// On every line that may hold a name or an address: the full findings record.
    Everywhere,
}

static ADDRESS_CANDIDATE: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
    regex::Regex::new(concat!(
        "(?m)",
        r"\b\d{1,6}[A-Z]? (?:[NSEW]\.? )?[A-Z][a-z'-]+(?: [A-Z][a-z'-]+){0,3}(?:,|\.? *$| (?:Apt|Suite|Unit|Ste|#))|\b[A-Z][a-z]+(?: [A-Z][a-z]+)*, [A-Z]{2},? \d{5}(?:-\d{4})?\b",
    ))
    .expect("a valid built-in pattern")
});

/// Lines around address candidates that are not a business's, for [`NerMode::Verdict`]:
/// the name of an address block sits in the lines just above it.
fn address_regions(text: &str) -> Vec<(usize, usize)> {
    let line_starts: Vec<usize> = std::iter::once(0)
        .chain(text.match_indices('\n').map(|(i, _)| i + 1))
        .filter(|&i| i < text.len())
        .collect();
    let line_of = |byte: usize| line_starts.partition_point(|&s| s <= byte) - 1;
    let mut regions: Vec<(usize, usize)> = Vec::new();
    for m in ADDRESS_CANDIDATE.find_iter(text) {
        // A number glued to a slash, colon or dash is a date, a time or a code.
        let glued = text[..m.start()]
            .chars()
            .next_back()
            .is_some_and(|c| matches!(c, '/' | ':' | '-' | '.' | '$'));
        if glued || recognizers::has(&line_and_above(text, m.start()), OFFICE_WORDS) {
            continue;
        }
        let line = line_of(m.start());
        let from = line_starts[line.saturating_sub(2)];
        let to = line_starts.get(line + 2).copied().unwrap_or(text.len());
        match regions.last_mut() {
            Some((_, e)) if *e >= from => *e = (*e).max(to),
            _ => regions.push((from, to)),
        }
    }
    regions
}

/// What the classifier saw in one document, with the time each part took.
#[derive(Debug, Clone)]
pub struct Classified {
    pub verdict: DocumentVerdict,
    /// The text of each page (empty when the file could not be read): what the
    /// findings' offsets refer to.
    pub pages: Vec<String>,
    pub extract_ms: f64,
    /// Pages read by OCR, and the time it took (rendering and reading).
    pub ocr_pages: u32,
    pub ocr_ms: f64,
    pub recognize_ms: f64,
    pub ner_ms: f64,
}

impl Classifier {
    /// `ner: None` runs the recognizers alone (names and addresses are then not found).
    pub fn new(ner: Option<NerModel>, limits: Limits) -> Classifier {
        Classifier {
            ner,
            limits,
            mode: NerMode::default(),
            ownership: Ownership::default(),
            ocr: OcrUse::Off,
        }
    }

    /// How pages without a text layer are read (off by default).
    pub fn with_ocr(mut self, ocr: OcrUse) -> Classifier {
        self.ocr = ocr;
        self
    }

    pub fn ocr(&self) -> &OcrUse {
        &self.ocr
    }

    /// Replaces the built-in ownership model and the (empty) allow list.
    pub fn with_ownership(mut self, ownership: Ownership) -> Classifier {
        self.ownership = ownership;
        self
    }

    pub fn with_mode(mut self, mode: NerMode) -> Classifier {
        self.mode = mode;
        self
    }

    pub fn has_ner(&self) -> bool {
        self.ner.is_some()
    }

    /// Classifies a file's bytes. Never fails: a file that can't be read gets the
    /// `error` verdict with the reason.
    pub fn classify(&self, bytes: &[u8]) -> Classified {
        let t0 = Instant::now();
        let deadline = t0 + self.limits.time_budget;
        let failed =
            |e: &Error, pages: Vec<String>, extract_ms: f64, ocr: Option<&Reading>| Classified {
                verdict: error_verdict(e),
                pages,
                extract_ms,
                ocr_pages: ocr.map_or(0, Reading::pages_read),
                ocr_ms: ocr.map_or(0.0, |r| r.ms),
                recognize_ms: 0.0,
                ner_ms: 0.0,
            };
        let mut pages = match extract::extract_pages(bytes, &self.limits) {
            Ok(pages) => pages,
            Err(e) => return failed(&e, Vec::new(), ms(t0), None),
        };
        let extract_ms = ms(t0);
        let reading = match scanned::read_blank_pages(&self.ocr, bytes, &mut pages, deadline) {
            Ok(r) => r,
            Err(e) => return failed(&e, Vec::new(), extract_ms, None),
        };
        let result = self.classify_pages_until(&pages, Some(deadline)).and_then(
            |(mut verdict, recognize_ms, ner_ms)| {
                scanned::account_for(&mut verdict, &pages, &reading)?;
                Ok((verdict, recognize_ms, ner_ms))
            },
        );
        let texts = pages.into_iter().map(|p| p.text).collect();
        match result {
            Ok((verdict, recognize_ms, ner_ms)) => Classified {
                verdict,
                pages: texts,
                extract_ms,
                ocr_pages: reading.pages_read(),
                ocr_ms: reading.ms,
                recognize_ms,
                ner_ms,
            },
            Err(e) => failed(&e, texts, extract_ms, Some(&reading)),
        }
    }

    /// Classifies text already extracted, page by page.
    pub fn classify_pages(&self, pages: &[Page]) -> Result<(DocumentVerdict, f64, f64), Error> {
        self.classify_pages_until(pages, None)
    }

    /// As [`Classifier::classify_pages`], with the model stopped at `deadline`: then the
    /// verdict stands only if identifiers already make the document `pii`; otherwise it is
    /// an error (a `no_pii` from half a search would be a guess).
    pub fn classify_pages_until(
        &self,
        pages: &[Page],
        deadline: Option<Instant>,
    ) -> Result<(DocumentVerdict, f64, f64), Error> {
        let (mut recognize_ms, mut ner_ms) = (0.0, 0.0);
        let t = Instant::now();
        let candidates: Vec<Vec<Candidate>> = pages
            .iter()
            .map(|p| recognizers::recognize(&p.text))
            .collect();
        let texts: Vec<&str> = pages.iter().map(|p| p.text.as_str()).collect();
        let mut context = DocumentContext::new(&texts, &candidates);
        let judge =
            |context: &DocumentContext<'_>, found: &[Vec<Candidate>]| -> Vec<Vec<Judgement>> {
                found
                    .iter()
                    .enumerate()
                    .map(|(i, found)| {
                        found
                            .iter()
                            .map(|c| {
                                self.ownership
                                    .judge(context, i, c, &texts[i][c.start..c.end])
                            })
                            .collect()
                    })
                    .collect()
            };
        let judgements = judge(&context, &candidates);
        recognize_ms += ms(t);
        let settled = candidates
            .iter()
            .flatten()
            .zip(judgements.iter().flatten())
            .any(|(c, j)| j.personal && c.kind.is_direct_identifier());
        let mut cut_at = None;
        let mut page_spans = Vec::with_capacity(pages.len());
        for page in pages {
            let t = Instant::now();
            let regions = match (&self.ner, self.mode) {
                (None, _) => Vec::new(),
                (Some(_), NerMode::Everywhere) => ner_regions(&page.text),
                (Some(_), NerMode::Verdict) if settled => Vec::new(),
                (Some(_), NerMode::Verdict) => address_regions(&calm_shouting(&page.text)),
            };
            let mut spans = Vec::new();
            if let Some(ner) = self
                .ner
                .as_ref()
                .filter(|_| !regions.is_empty() && cut_at.is_none())
            {
                let complete;
                (spans, complete) = spans_in_regions(ner, &page.text, &regions, deadline)?;
                if !complete {
                    cut_at = Some(page.number);
                }
            }
            ner_ms += ms(t);
            page_spans.push(spans);
        }
        // Names and addresses are judged once every page's are known: how many a
        // document holds is part of the evidence.
        let named: Vec<Vec<Candidate>> = pages
            .iter()
            .zip(&page_spans)
            .zip(&candidates)
            .map(|((page, spans), found)| named_candidates(&page.text, spans, found))
            .collect();
        context.add_names(&named);
        let named_judgements = judge(&context, &named);
        let mut findings = Vec::new();
        for (i, page) in pages.iter().enumerate() {
            findings.extend(page_findings(
                &page.text,
                page.number,
                (&candidates[i], &judgements[i]),
                (&named[i], &named_judgements[i]),
                &page_spans[i],
            ));
        }
        let mut verdict = decide(&texts, findings);
        if let Some(page) = cut_at {
            if verdict.verdict == Verdict::Pii {
                verdict.reasons.push(format!(
                    "names and addresses not searched from page {page} on (time budget)"
                ));
            } else {
                return Err(Error::TimeBudget(self.limits.time_budget.as_millis() as u64));
            }
        }
        Ok((verdict, recognize_ms, ner_ms))
    }
}

/// The model's spans in `regions` of `text`, in page offsets, and whether it finished
/// before `deadline`. One pass over the regions joined: each forward pass reads every
/// weight once, so a few long calls cost far less than many short ones.
fn spans_in_regions(
    ner: &NerModel,
    text: &str,
    regions: &[(usize, usize)],
    deadline: Option<Instant>,
) -> Result<(Vec<Span>, bool), Error> {
    let (joined, starts) = join_regions(text, regions);
    let (found, complete) = ner.spans_until(&calm_shouting(&joined), deadline)?;
    let spans = found
        .into_iter()
        .filter_map(|s| {
            let i = starts
                .partition_point(|&(j, _)| j <= s.start)
                .checked_sub(1)?;
            let (j, from) = starts[i];
            Some(Span {
                start: s.start - j + from,
                end: s.end - j + from,
                ..s
            })
        })
        .collect();
    Ok((spans, complete))
}

/// The model's persons and addresses on a page, as candidates, except where a
/// recognized identifier already is.
fn named_candidates(text: &str, spans: &[Span], identifiers: &[Candidate]) -> Vec<Candidate> {
    let mut named: Vec<Candidate> = group_spans(text, spans)
        .into_iter()
        .filter(|(_, start, end, _)| !identifiers.iter().any(|c| c.start < *end && *start < c.end))
        .map(|(kind, start, end, score)| Candidate {
            kind,
            start,
            end,
            score,
        })
        .collect();
    let addressees: Vec<Candidate> = named
        .iter()
        .filter(|c| c.kind == EntityKind::Address)
        .filter_map(|address| addressee(text, address.start))
        .chain(labelled_names(text))
        .filter(|p| {
            !named.iter().any(|c| c.start < p.end && p.start < c.end)
                && !identifiers
                    .iter()
                    .any(|c| c.start < p.end && p.start < c.end)
        })
        .collect();
    named.extend(addressees);
    named.sort_by_key(|c| c.start);
    named.dedup_by_key(|c| c.start);
    named
}

/// The name heading an address block: the line above an address that starts its line,
/// when that line begins with two to four words written as a name (`Paul Wood`,
/// `DANIELLE R. GAMBLE`, `James Beasley` before a column's `Statement Date:`). The model
/// misses many such names (alone on a line, in capitals, in a row of labels); the postal
/// convention does not. An organisation's name there (`Acme Lending LLC`) is not one.
fn addressee(text: &str, address_start: usize) -> Option<Candidate> {
    let line_start = text[..address_start].rfind('\n').map_or(0, |i| i + 1);
    if line_start == 0 || !text[line_start..address_start].trim().is_empty() {
        return None;
    }
    let above_start = text[..line_start - 1].rfind('\n').map_or(0, |i| i + 1);
    name_at(text, above_start, line_start - 1)
}

/// The names a form's name field holds: after `Name:` on its line, or on the line under a
/// label standing alone (`Full Name`, `Nombre y apellidos`, `Named Insured(s)`).
fn labelled_names(text: &str) -> Vec<Candidate> {
    NAME_LABEL
        .find_iter(text)
        .filter_map(|m| {
            let rest = &text[m.end()..];
            let line_end = m.end() + rest.find('\n').unwrap_or(rest.len());
            if text[m.end()..line_end].trim().is_empty() {
                // A label alone: the value is the next line.
                let next = line_end + 1;
                let next_end = text[next.min(text.len())..]
                    .find('\n')
                    .map_or(text.len(), |i| next + i);
                (next < text.len())
                    .then(|| name_at(text, next, next_end))
                    .flatten()
            } else {
                let start = m.end() + (rest.len() - rest.trim_start_matches(' ').len());
                name_at(text, start, line_end)
            }
        })
        .collect()
}

/// The run of two to four name words (an initial only after the first) that `text` holds
/// from `start`, up to `end` at most, as a person candidate. A line naming an
/// organisation holds none.
fn name_at(text: &str, start: usize, end: usize) -> Option<Candidate> {
    let line = &text[start..end];
    if ORGANISATION_WORD.is_match(line) {
        return None;
    }
    // A name in capitals is in capitals throughout (`DANIELLE R. GAMBLE Statement Date`).
    let shouting = line
        .split(' ')
        .next()
        .is_some_and(|w| w.len() >= 2 && !w.chars().any(char::is_lowercase));
    let is_name_word = |word: &str| {
        let lower = word.to_lowercase();
        word.len() >= 2
            && word.starts_with(char::is_uppercase)
            && word
                .chars()
                .all(|c| c.is_alphabetic() || c == '\'' || c == '-')
            && shouting != word.chars().any(char::is_lowercase)
            && !NOT_NAME_WORDS.contains(&lower.as_str())
            && !OFFICER_WORDS.contains(&lower.as_str())
    };
    let is_initial =
        |word: &str| word.len() == 2 && word.ends_with('.') && word.starts_with(char::is_uppercase);
    let (mut len, mut at, mut full) = (0, 0, 0);
    for (words, word) in line.split(' ').take(4).enumerate() {
        // `Kyle Martinez, Accounts Payable`: the comma ends the name.
        let bare = word.strip_suffix(',').unwrap_or(word);
        let name = is_name_word(bare);
        if !(name || (words > 0 && is_initial(bare))) {
            break;
        }
        len = at + bare.len();
        at = len + 1;
        full += usize::from(name);
        if bare.len() < word.len() {
            break;
        }
    }
    (full >= 2 && !line[..len].ends_with('.')).then_some(Candidate {
        kind: EntityKind::Person,
        start,
        end: start + len,
        score: ADDRESSEE_SCORE,
    })
}

/// The persons and addresses the NER finds everywhere in a text (as
/// [`NerMode::Everywhere`] does), for training the ownership model on them.
pub fn names_everywhere(ner: &NerModel, text: &str) -> Result<Vec<Candidate>, Error> {
    let identifiers = recognizers::recognize(text);
    let (spans, _) = spans_in_regions(ner, text, &ner_regions(text), None)?;
    Ok(named_candidates(text, &spans, &identifiers))
}

fn ms(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1000.0
}

/// The stretches of a page worth giving the model: runs of lines that may hold a name or
/// an address (two capitalised words in a row, a number before a capitalised word, a
/// "City, ST 12345" tail). Prose, tables of figures and headings in one word are skipped:
/// the model costs about a millisecond per token, the test a microsecond per line.
fn ner_regions(text: &str) -> Vec<(usize, usize)> {
    let mut regions: Vec<(usize, usize)> = Vec::new();
    let mut at = 0;
    for line in text.split_inclusive('\n') {
        let (start, end) = (at, at + line.len());
        at = end;
        if !may_name_or_place(line) {
            continue;
        }
        match regions.last_mut() {
            Some((_, e)) if *e == start => *e = end,
            _ => regions.push((start, end)),
        }
    }
    regions
}

/// The text with runs of words in capitals (`DANIELLE R. GAMBLE`, `9672 ZUNIGA JUNCTION
/// APT. 480` before a column's `Loan Number:`) in title case, for the model: it learned
/// names from mixed case and misses most shouted ones, and address blocks are often
/// printed in capitals. A run holds two shouted words at least, so that a lone acronym
/// (`LLC`, `FDIC`) stays; words of one or two letters (state codes, initials) and numbers
/// stay as they are. Only ASCII letters change, so every byte offset stays the same.
fn calm_shouting(text: &str) -> String {
    let shouted = |w: &str| {
        w.chars().filter(char::is_ascii_alphabetic).count() >= 3
            && !w.chars().any(char::is_lowercase)
    };
    // Neither shouted nor quiet: numbers, initials, state codes, punctuation.
    let neutral = |w: &str| {
        w.chars().filter(char::is_ascii_alphabetic).count() <= 2
            && !w.chars().any(char::is_lowercase)
    };
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        let words: Vec<&str> = line.split(' ').collect();
        let mut calm = vec![false; words.len()];
        let mut i = 0;
        while i < words.len() {
            if !shouted(words[i]) {
                i += 1;
                continue;
            }
            let mut j = i;
            while j < words.len() && (shouted(words[j]) || neutral(words[j])) {
                j += 1;
            }
            if (i..j).filter(|&k| shouted(words[k])).count() >= 2 {
                for (k, flag) in calm.iter_mut().enumerate().take(j).skip(i) {
                    *flag = shouted(words[k]);
                }
            }
            i = j;
        }
        for (k, word) in words.iter().enumerate() {
            if k > 0 {
                out.push(' ');
            }
            if !calm[k] {
                out.push_str(word);
                continue;
            }
            let mut previous_letter = false;
            for c in word.chars() {
                out.push(if previous_letter && c.is_ascii_uppercase() {
                    c.to_ascii_lowercase()
                } else {
                    c
                });
                previous_letter = c.is_alphabetic();
            }
        }
    }
    out
}

/// The regions' text one after the other, each ending with a line break, and where each
/// starts in the joined text and in the page.
fn join_regions(text: &str, regions: &[(usize, usize)]) -> (String, Vec<(usize, usize)>) {
    let mut joined = String::new();
    let mut starts = Vec::with_capacity(regions.len());
    for &(from, to) in regions {
        starts.push((joined.len(), from));
        joined.push_str(&text[from..to]);
        if !joined.ends_with('\n') {
            joined.push('\n');
        }
    }
    (joined, starts)
}

fn may_name_or_place(line: &str) -> bool {
    let words: Vec<&str> = line
        .split(|c: char| c.is_whitespace() || c == ',' || c == ':' || c == ';')
        .filter(|w| !w.is_empty())
        .collect();
    let capitalised = |w: &str| {
        let mut chars = w.chars();
        chars.next().is_some_and(|c| c.is_uppercase())
            && w.chars().filter(|c| c.is_alphabetic()).count() >= 2
    };
    let number = |w: &str| w.chars().next().is_some_and(|c| c.is_ascii_digit());
    words
        .windows(2)
        .any(|p| (capitalised(p[0]) && capitalised(p[1])) || (number(p[0]) && capitalised(p[1])))
}

pub fn error_verdict(e: &Error) -> DocumentVerdict {
    DocumentVerdict {
        verdict: Verdict::Error,
        pages: 0,
        entities: Vec::new(),
        reasons: Vec::new(),
        business: Vec::new(),
        error: Some(e.to_string()),
    }
}

fn char_offset(text: &str, byte: usize) -> usize {
    text[..byte].chars().count()
}

/// The masked form of a value: never the value itself.
fn masked(kind: EntityKind, value: &str) -> String {
    match kind {
        EntityKind::Email => mask::email(value),
        EntityKind::Person => value
            .split_whitespace()
            .map(mask::name)
            .collect::<Vec<_>>()
            .join(" "),
        EntityKind::Address | EntityKind::DateOfBirth => value
            .chars()
            .map(|c| if c.is_alphanumeric() { '*' } else { c })
            .collect(),
        _ => mask::identifier(value),
    }
}

/// The line up to `start` and the line above it, in lower case: where a letterhead or a
/// "headquartered at" would be.
fn line_and_above(text: &str, start: usize) -> String {
    let before = &text[..start];
    let from = before
        .trim_end_matches('\n')
        .rfind('\n')
        .map_or(0, |i| i + 1);
    let from = before[..from]
        .trim_end_matches('\n')
        .rfind('\n')
        .map_or(0, |i| i + 1)
        .min(from);
    before[from..].to_lowercase()
}

fn lower_before(text: &str, start: usize, chars: usize) -> String {
    let before = &text[..start];
    let from = before
        .char_indices()
        .rev()
        .nth(chars.saturating_sub(1))
        .map_or(0, |(i, _)| i);
    before[from..].to_lowercase()
}

/// Person and address spans out of the model's name and address-part tags.
fn group_spans(text: &str, spans: &[Span]) -> Vec<(EntityKind, usize, usize, f32)> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < spans.len() {
        let first = &spans[i];
        let family = |t: Tag| {
            if t.is_name() {
                1
            } else if t.is_address() {
                2
            } else {
                0
            }
        };
        let fam = family(first.tag);
        if fam == 0 {
            i += 1;
            continue;
        }
        let (mut end, mut score, mut n, mut j) = (first.end, first.score, 1.0, i + 1);
        let mut tags = vec![first.tag];
        while j < spans.len() && family(spans[j].tag) == fam {
            let gap = text.get(end..spans[j].start).unwrap_or("x");
            let max_gap = if fam == 1 { 3 } else { 4 };
            if gap.len() > max_gap || gap.chars().any(|c| c.is_alphanumeric()) {
                break;
            }
            end = spans[j].end;
            score += spans[j].score;
            n += 1.0;
            tags.push(spans[j].tag);
            j += 1;
        }
        let score = score / n;
        let mut start = first.start;
        if fam == 1 {
            // The model often tags one word of a name standing alone on a line (an
            // address block): a capitalised word next to it is the rest of the name.
            (start, end) = extend_name(text, start, end);
        }
        let value = &text[start..end];
        let kind = if fam == 1 {
            // A name needs two words: a lone given name or surname identifies no one.
            (value.split_whitespace().count() >= 2).then_some(EntityKind::Person)
        } else {
            // An address needs a street, a number or a place, and two words: one word
            // and a number is as often an index entry (`Zwischenwertsatz, 107`).
            let street = tags.contains(&Tag::StreetName);
            let place = tags.iter().any(|t| matches!(t, Tag::City | Tag::ZipCode));
            let number = tags.contains(&Tag::BuildingNumber);
            let words = value
                .split_whitespace()
                .filter(|w| w.chars().any(char::is_alphabetic))
                .count();
            (street && words >= 2 && (place || number)).then_some(EntityKind::Address)
        };
        if let Some(kind) = kind.filter(|_| score >= NER_THRESHOLD) {
            out.push((kind, start, end, score));
        }
        i = j;
    }
    out
}

/// Grows a name span over capitalised words right next to it on its line, to three
/// words in all.
fn extend_name(text: &str, mut start: usize, mut end: usize) -> (usize, usize) {
    let shouting = text[start..end].chars().all(|c| !c.is_lowercase());
    let is_name_word = |w: &str| {
        w.chars().next().is_some_and(char::is_uppercase)
            && w.len() >= 2
            && w.chars()
                .all(|c| c.is_alphabetic() || c == '\'' || c == '-')
            // Not a title (CEO, Director) next to the name.
            && (shouting || w.chars().any(char::is_lowercase))
            && !OFFICER_WORDS.contains(&w.to_lowercase().as_str())
            && !NOT_NAME_WORDS.contains(&w.to_lowercase().as_str())
    };
    for _ in 0..2 {
        if text[start..end].split_whitespace().count() >= 3 {
            break;
        }
        let rest = &text[end..];
        let next = rest
            .strip_prefix(' ')
            .and_then(|r| r.split([' ', '\n', ',', ':', ';', ')']).next());
        if let Some(word) = next.filter(|w| is_name_word(w)) {
            end += 1 + word.len();
            continue;
        }
        let before = &text[..start];
        let prev = before
            .strip_suffix(' ')
            .and_then(|b| b.rsplit([' ', '\n']).next());
        if let Some(word) = prev.filter(|w| is_name_word(w) && !w.ends_with(':')) {
            start -= 1 + word.len();
            continue;
        }
        break;
    }
    (start, end)
}

/// Findings of one page: the recognizers' candidates and the model's persons and
/// addresses, each with its judgement, and the model's identifier tags where they
/// confirm a candidate.
fn page_findings(
    text: &str,
    page: u32,
    (candidates, judgements): (&[Candidate], &[Judgement]),
    (named, named_judgements): (&[Candidate], &[Judgement]),
    spans: &[Span],
) -> Vec<(Finding, bool)> {
    let mut out = Vec::new();
    for (c, judgement) in candidates.iter().zip(judgements) {
        let confirmed = spans
            .iter()
            .any(|s| s.start < c.end && c.start < s.end && !s.tag.is_name() && !s.tag.is_address());
        let finding = Finding {
            kind: c.kind,
            start: char_offset(text, c.start),
            end: char_offset(text, c.end),
            page,
            score: if confirmed {
                c.score.max(0.95)
            } else {
                c.score
            },
            detector: if confirmed {
                Detector::Both
            } else {
                Detector::Recognizer
            },
            masked: masked(c.kind, &text[c.start..c.end]),
            evidence: judgement.evidence.clone(),
            ocr_confidence: None,
        };
        out.push((finding, !judgement.personal));
    }
    for (c, judgement) in named.iter().zip(named_judgements) {
        // A title or an office word next to it settles it before any weighing. A title
        // may sit on the line above a name (`Sincerely,`); an office word counts on the
        // address's own line or, for an address starting a line, on the line above:
        // further up it is a heading (`Mortgage Statement`) over the customer's block.
        let titled = match c.kind {
            EntityKind::Person => {
                recognizers::has(&lower_before(text, c.start, 48), OFFICER_WORDS)
                    || officer_after(text, c.end)
            }
            _ => recognizers::has(&recognizers::context_before(text, c.start), OFFICE_WORDS),
        };
        let (business, evidence) = match (titled, c.kind) {
            (false, _) => (!judgement.personal, judgement.evidence.clone()),
            (true, EntityKind::Person) => (
                true,
                vec!["business contact: a job title or a department next to the name".to_owned()],
            ),
            (true, _) => (
                true,
                vec!["business contact: an office or a company named before it".to_owned()],
            ),
        };
        out.push((
            Finding {
                kind: c.kind,
                start: char_offset(text, c.start),
                end: char_offset(text, c.end),
                page,
                score: c.score,
                detector: Detector::Ner,
                masked: masked(c.kind, &text[c.start..c.end]),
                evidence,
                ocr_confidence: None,
            },
            business,
        ));
    }
    out
}

/// `Jane Doe, Chief Executive Officer` or `Jane Doe (CEO)`.
fn officer_after(text: &str, end: usize) -> bool {
    let after: String = text[end..]
        .chars()
        .take(30)
        .collect::<String>()
        .to_lowercase();
    let after = after.trim_start_matches([',', ' ', '(', '-', '–']);
    OFFICER_WORDS.iter().any(|w| after.starts_with(w))
        || DEPARTMENTS.iter().any(|w| after.starts_with(w))
        || after.starts_with("ceo")
        || after.starts_with("cfo")
}

/// How many lines apart a name and an address may be and still be one person's: an
/// address block, or a form's name and address fields.
const NAME_ADDRESS_LINES: usize = 12;

/// The line of a character offset on a page.
fn line_at(text: &str, chars: usize) -> usize {
    text.chars().take(chars).filter(|&c| c == '\n').count()
}

/// Whether a person's name and an address sit together on a page: a name on page 3 of a
/// manual and a street on page 200 say where no one lives.
fn name_with_address(pages: &[&str], entities: &[Finding]) -> bool {
    let at = |f: &Finding| {
        let text = pages.get(f.page as usize - 1).copied().unwrap_or("");
        (f.page, line_at(text, f.start))
    };
    let of_kind = |kind| {
        entities
            .iter()
            .filter(move |f| f.kind == kind)
            .map(at)
            .collect::<Vec<_>>()
    };
    let addresses = of_kind(EntityKind::Address);
    of_kind(EntityKind::Person).iter().any(|&(page, line)| {
        addresses
            .iter()
            .any(|&(p, l)| p == page && line.abs_diff(l) <= NAME_ADDRESS_LINES)
    })
}

fn decide(pages: &[&str], found: Vec<(Finding, bool)>) -> DocumentVerdict {
    let (business, mut entities): (Vec<_>, Vec<_>) = found.into_iter().partition(|(_, b)| *b);
    let mut business: Vec<Finding> = business.into_iter().map(|(f, _)| f).collect();
    let mut entities: Vec<Finding> = entities.drain(..).map(|(f, _)| f).collect();
    business.sort_by_key(|f| (f.page, f.start));
    entities.sort_by_key(|f| (f.page, f.start));
    let mut reasons = Vec::new();
    let direct: Vec<&str> = {
        let mut kinds: Vec<EntityKind> = entities
            .iter()
            .filter(|f| f.kind.is_direct_identifier())
            .map(|f| f.kind)
            .collect();
        kinds.sort();
        kinds.dedup();
        kinds.into_iter().map(EntityKind::as_str).collect()
    };
    let person = entities.iter().any(|f| f.kind == EntityKind::Person);
    let address = entities.iter().any(|f| f.kind == EntityKind::Address);
    if !direct.is_empty() {
        reasons.push(format!("direct identifiers: {}", direct.join(", ")));
    }
    if name_with_address(pages, &entities) {
        reasons.push("a person's name with an address".to_owned());
    }
    let verdict = if reasons.is_empty() {
        Verdict::NoPii
    } else {
        Verdict::Pii
    };
    if verdict == Verdict::NoPii {
        if person || address {
            reasons.push(
                "names or addresses, but no name with its address and no other identifier"
                    .to_owned(),
            );
        }
        if !business.is_empty() {
            reasons.push(format!("{} business contact(s) set aside", business.len()));
        }
    }
    DocumentVerdict {
        verdict,
        pages: pages.len() as u32,
        entities,
        reasons,
        business,
        error: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(text: &str) -> Vec<Page> {
        vec![Page {
            number: 1,
            text: text.to_owned(),
            hidden_layer: false,
        }]
    }

    #[test]
    fn shouted_lines_are_read_in_title_case_at_the_same_offsets() {
        let text = "MORTGAGE STATEMENT\nDANIELLE R. GAMBLE\n52 ROBERT STREET\nSOUTH MICHAEL, MS 39174\nLoan ID: AB12\n9672 ZUNIGA JUNCTION APT. 480 Loan Number: LN6\nMember FDIC and LLC\n";
        let calm = calm_shouting(text);
        assert_eq!(calm.len(), text.len());
        assert_eq!(
            calm,
            "Mortgage Statement\nDanielle R. Gamble\n52 Robert Street\nSouth Michael, MS 39174\nLoan ID: AB12\n9672 Zuniga Junction Apt. 480 Loan Number: LN6\nMember FDIC and LLC\n"
        );
    }

    #[test]
    fn a_name_does_not_grow_over_a_salutation_or_a_field_label() {
        let text = "Dear Julie Davis:";
        let at = text.find("Julie").unwrap();
        assert_eq!(extend_name(text, at, at + 5), (at, text.find(':').unwrap()));
        let text = "James Beasley Statement Date: 12/16/2024";
        assert_eq!(extend_name(text, 0, 5), (0, 13));
    }

    #[test]
    fn names_are_read_from_address_blocks_and_name_fields() {
        let value = |text: &str, c: Option<Candidate>| c.map(|c| text[c.start..c.end].to_owned());
        let text = "July 24, 2024\nPaul Wood\n958 Rebecca Islands Apt 19D\n";
        let at = text.find("958").unwrap();
        assert_eq!(
            value(text, addressee(text, at)).as_deref(),
            Some("Paul Wood")
        );
        let text = "DANIELLE R. GAMBLE Statement Date\n52 ROBERT STREET\n";
        let at = text.find("52").unwrap();
        assert_eq!(
            value(text, addressee(text, at)).as_deref(),
            Some("DANIELLE R. GAMBLE")
        );
        for company in [
            "Acme Lending LLC\n12 Main St\n",
            "Shareholder Information\n12 Main St\n",
        ] {
            let at = company.find("12").unwrap();
            assert_eq!(addressee(company, at), None, "{company}");
        }
        let text = "Originator\nName\nMike R. Collier\nAddress\nName: Kyle Martinez, Accounts Payable\nName\n__________\n";
        let names: Vec<&str> = labelled_names(text)
            .iter()
            .map(|c| &text[c.start..c.end])
            .collect();
        assert_eq!(names, vec!["Mike R. Collier", "Kyle Martinez"]);
    }

    #[test]
    fn recognizers_alone_decide_direct_identifiers() {
        let c = Classifier::new(None, Limits::default());
        let (v, _, _) = c
            .classify_pages(&page("Applicant SSN: 536-22-8726\n"))
            .unwrap();
        assert_eq!(v.verdict, Verdict::Pii);
        assert_eq!(v.entities[0].masked, "***-**-8726");
        assert_eq!((v.entities[0].start, v.entities[0].end), (15, 26));
        let (v, _, _) = c
            .classify_pages(&page(
                "Questions? Call us at 1-800-555-0199 or info@bank.com\n",
            ))
            .unwrap();
        assert_eq!(v.verdict, Verdict::NoPii);
        assert!(v.entities.is_empty());
    }

    #[test]
    fn names_and_addresses_group_and_business_context_counts() {
        let text = "Borrower: Mary Jones, 12 Oak Street, Denver\nCEO Tom Hill\n";
        let span = |tag, s: &str, score| {
            let start = text.find(s).unwrap();
            Span {
                tag,
                start,
                end: start + s.len(),
                score,
            }
        };
        let spans = vec![
            span(Tag::GivenName, "Mary", 0.9),
            span(Tag::Surname, "Jones", 0.9),
            span(Tag::BuildingNumber, "12", 0.9),
            span(Tag::StreetName, "Oak Street", 0.9),
            span(Tag::City, "Denver", 0.9),
            span(Tag::GivenName, "Tom", 0.9),
            span(Tag::Surname, "Hill", 0.9),
        ];
        let named = named_candidates(text, &spans, &[]);
        let judged: Vec<Judgement> = named
            .iter()
            .map(|_| Judgement {
                personal: true,
                probability: 1.0,
                evidence: Vec::new(),
            })
            .collect();
        let found = page_findings(text, 1, (&[], &[]), (&named, &judged), &spans);
        let kinds: Vec<_> = found.iter().map(|(f, b)| (f.kind, *b)).collect();
        assert_eq!(
            kinds,
            vec![
                (EntityKind::Person, false),
                (EntityKind::Address, false),
                (EntityKind::Person, true)
            ]
        );
        assert_eq!(found[0].0.masked, "M**** J****");
        let v = decide(&[text], found);
        assert_eq!(v.verdict, Verdict::Pii);
    }
}
