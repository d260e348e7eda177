//! The evidence on whose a value is: what the ownership model reads.
//!
//! Each feature is a number in `0..=1` computed from the text around a value, the page's
//! layout and the document as a whole. None of them names a value, a layout or a
//! producer: they are the cues a reader uses on any document (a label before the value,
//! an organisation next to it, a letterhead repeated on every page, the e-mail's domain).

use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

use regex::Regex;
use vigil_core::EntityKind;

use crate::recognizers::{Candidate, has, nearest};

/// The features, in the order of the model's weights: a name (in the model file) and the
/// words a finding's evidence is told in.
pub const FEATURES: &[(&str, &str)] = &[
    ("personal_label", "a personal label before it"),
    ("business_label", "a business label before it"),
    ("contact_label", "a plain contact label before it"),
    ("organisation_on_line", "an organisation named on its line"),
    (
        "organisation_near",
        "an organisation named within two lines",
    ),
    ("job_title_near", "a job title within two lines"),
    ("web_address_near", "a web address within one line"),
    (
        "running_header",
        "in the header or footer band of several pages",
    ),
    (
        "contact_block",
        "other contact details and an organisation next to it",
    ),
    ("repeated_pages", "repeated on several pages"),
    ("fictional", "a number reserved for fiction (555-01xx)"),
    (
        "many_of_kind",
        "one of many values of its kind in the document",
    ),
    ("free_mail", "a personal mail provider's domain"),
    ("role_mailbox", "a role mailbox"),
    (
        "shared_domain",
        "a domain other addresses in the document share",
    ),
    (
        "organisation_domain",
        "the domain of an organisation the document names",
    ),
    ("toll_free", "a toll-free number"),
    ("document_about_person", "a document about a named person"),
    ("document_addressed", "a letter addressed to a named person"),
    (
        "document_about_data",
        "a document about personal data or its formats",
    ),
    ("blank_form", "a form with blank fields"),
    ("example_context", "example or sample wording nearby"),
    (
        "letterhead",
        "in a letterhead (the page's top lines, with an organisation or a web address)",
    ),
    ("opening_hours", "opening hours next to it"),
    (
        "free_mail_on_line",
        "a personal mail address on its line (a person's contact row)",
    ),
    (
        "machine_context",
        "in a machine's record (key=value, a port, a log line)",
    ),
    (
        "payment_instructions",
        "under payment instructions (remit to, pay to, wire instructions)",
    ),
    (
        "holder_organisation",
        "an organisation named as the account's holder",
    ),
    (
        "repeated_account",
        "an account number repeated on several pages (a statement's subject)",
    ),
    (
        "postal_block",
        "a name over an address (a postal address block)",
    ),
    (
        "beside_business_contact",
        "a fax, toll-free or service number next to it",
    ),
    (
        "writer_owns",
        "the writer's own (\"our\", \"we\") before it",
    ),
    (
        "business_premises",
        "a suite, floor or building (business premises)",
    ),
    (
        "residential_unit",
        "an apartment or a unit in the address (a home)",
    ),
];

/// The number of features.
pub const N: usize = FEATURES.len();

/// Feature indices, named.
pub mod f {
    pub const PERSONAL_LABEL: usize = 0;
    pub const BUSINESS_LABEL: usize = 1;
    pub const CONTACT_LABEL: usize = 2;
    pub const ORGANISATION_ON_LINE: usize = 3;
    pub const ORGANISATION_NEAR: usize = 4;
    pub const JOB_TITLE_NEAR: usize = 5;
    pub const WEB_ADDRESS_NEAR: usize = 6;
    pub const RUNNING_HEADER: usize = 7;
    pub const CONTACT_BLOCK: usize = 8;
    pub const REPEATED_PAGES: usize = 9;
    pub const FICTIONAL: usize = 10;
    pub const MANY_OF_KIND: usize = 11;
    pub const FREE_MAIL: usize = 12;
    pub const ROLE_MAILBOX: usize = 13;
    pub const SHARED_DOMAIN: usize = 14;
    pub const ORGANISATION_DOMAIN: usize = 15;
    pub const TOLL_FREE: usize = 16;
    pub const DOCUMENT_ABOUT_PERSON: usize = 17;
    pub const DOCUMENT_ADDRESSED: usize = 18;
    pub const DOCUMENT_ABOUT_DATA: usize = 19;
    pub const BLANK_FORM: usize = 20;
    pub const EXAMPLE_CONTEXT: usize = 21;
    pub const LETTERHEAD: usize = 22;
    pub const OPENING_HOURS: usize = 23;
    pub const FREE_MAIL_ON_LINE: usize = 24;
    pub const MACHINE_CONTEXT: usize = 25;
    pub const PAYMENT_INSTRUCTIONS: usize = 26;
    pub const HOLDER_ORGANISATION: usize = 27;
    pub const REPEATED_ACCOUNT: usize = 28;
    pub const POSTAL_BLOCK: usize = 29;
    pub const BESIDE_BUSINESS_CONTACT: usize = 30;
    pub const WRITER_OWNS: usize = 31;
    pub const BUSINESS_PREMISES: usize = 32;
    pub const RESIDENTIAL_UNIT: usize = 33;
}

/// Lines at the top and at the bottom of a page that make its header and footer bands.
const BAND_LINES: usize = 4;
/// How far above bank details a payment-instructions heading still governs them: a
/// section of four label-and-value pairs printed a field per line.
const PAYMENT_SECTION_LINES: usize = 8;
/// Pages shorter than this have no bands.
const MIN_LINES_FOR_BANDS: usize = 12;

/// One value's evidence.
pub type Evidence = [f32; N];

/// Whether the model decides the owner of a kind. Government ids, cards and birth dates
/// are a person's wherever they are printed; contact details, accounts and network
/// addresses belong to people and to organisations alike.
pub fn judged(kind: EntityKind) -> bool {
    matches!(
        kind,
        EntityKind::Phone
            | EntityKind::Email
            | EntityKind::IpAddress
            | EntityKind::BankAccount
            | EntityKind::Iban
            | EntityKind::RoutingNumber
            | EntityKind::Ein
    )
}

/// Labels that say a value is a private person's (lower case, matched on word starts).
const PERSONAL_LABELS: &[&str] = &[
    "borrower",
    "co-borrower",
    "applicant",
    "co-applicant",
    "employee",
    "customer",
    "client",
    "home",
    "cell",
    "mobile",
    "personal",
    "private",
    "my ",
    "your",
    "tenant",
    "patient",
    "debtor",
    "account holder",
    "accountholder",
    "member",
    "insured",
    "policyholder",
    "beneficiary",
    "recipient",
    "guarantor",
    "candidate",
    "spouse",
    "emergency contact",
    "session",
    "login",
    "device",
    "direct deposit",
    "sole proprietor",
    "individual",
    "remitter",
    "originator",
    "ordering customer",
    "student",
    "resident",
    "domicile",
    "particulier",
    "titular",
    "solicitante",
    "emprunteur",
];

/// Labels that say a value is an organisation's.
const BUSINESS_LABELS: &[&str] = &[
    "customer service",
    "service",
    "customer care",
    "client services",
    "member services",
    "support",
    "help",
    "toll-free",
    "toll free",
    "fax",
    "office",
    "headquarters",
    "branch",
    "main",
    "media",
    "press",
    "investor",
    "hotline",
    "helpline",
    "billing",
    "payroll",
    "questions",
    "direct:",
    "direct line",
    "direct dial",
    "desk",
    "department",
    "dept",
    "servicing",
    "wire services",
    "sponsorship",
    "registration",
    "events",
    "sales",
    "employer",
    "payer",
    "lender",
    "servicer",
    "creditor",
    "company",
    "agency",
    "vendor",
    "supplier",
    "remit",
    "pay to",
    "call us",
    "contact us",
    "email us",
    "write to us",
    "reach us",
    "our ",
    "nmls",
    "server",
    "host",
    "gateway",
    "firewall",
    "router",
    "dns",
    "proxy",
    "load balancer",
    "lost or stolen",
    "reservations",
    "prepared by",
    "switchboard",
    "atención",
    "service client",
    "standard",
    "siège",
    "empresa",
    "entreprise",
    "sociedad",
    "société",
];

/// Labels that say only that a value is a phone number or an address.
const CONTACT_LABELS: &[&str] = &[
    "tel",
    "phone",
    "telephone",
    "email",
    "e-mail",
    "mail",
    "ip",
    "iban",
    "account",
    "routing",
    "téléphone",
    "teléfono",
    "courriel",
    "correo",
];

/// Personal mail providers.
const FREE_MAIL: &[&str] = &[
    "gmail",
    "googlemail",
    "yahoo",
    "ymail",
    "hotmail",
    "outlook",
    "live",
    "msn",
    "aol",
    "icloud",
    "me",
    "mac",
    "protonmail",
    "proton",
    "gmx",
    "web",
    "mail",
    "yandex",
    "zoho",
    "fastmail",
    "orange",
    "free",
    "wanadoo",
    "laposte",
    "sfr",
    "libero",
    "virgilio",
    "t-online",
    "freenet",
    "comcast",
    "verizon",
    "att",
    "sbcglobal",
    "bellsouth",
    "cox",
    "charter",
    "earthlink",
    "juno",
    "qq",
    "163",
    "126",
    "naver",
    "rediffmail",
    "uol",
    "bol",
    "terra",
    "btinternet",
    "sky",
    "telefonica",
    "movistar",
    "tutanota",
    "hey",
    "pm",
];

/// Local parts of e-mail addresses a role, not a person, reads.
const ROLE_MAILBOXES: &[&str] = &[
    "info",
    "support",
    "help",
    "service",
    "services",
    "customerservice",
    "customercare",
    "contact",
    "privacy",
    "press",
    "media",
    "news",
    "investors",
    "ir",
    "careers",
    "jobs",
    "hr",
    "noreply",
    "no-reply",
    "donotreply",
    "sales",
    "admin",
    "office",
    "compliance",
    "legal",
    "loans",
    "lending",
    "mortgage",
    "hello",
    "team",
    "feedback",
    "billing",
    "accounts",
    "accounting",
    "payroll",
    "webmaster",
    "security",
    "dpo",
    "events",
    "sponsors",
    "wires",
    "lockdesk",
    "operations",
    "ops",
    "orders",
    "invoices",
    "ap",
    "ar",
    "collections",
    "servicing",
    "claims",
    "underwriting",
    "abuse",
    "postmaster",
    "root",
    "marketing",
    "partners",
    "reception",
    "frontdesk",
    "appointments",
    "registration",
    "communications",
    "recruiting",
    "reclamations",
    "reclamaciones",
    "talent",
    "treasury",
    "finance",
    "enquiries",
    "inquiries",
    "atencion",
    "contacto",
    "kontakt",
    "servicio",
    "clientes",
    "service-client",
    "rgpd",
    "dpd",
    "soporte",
];

/// Toll-free area codes of the North American Numbering Plan.
const TOLL_FREE: &[&str] = &["800", "888", "877", "866", "855", "844", "833"];

/// Words that make a document one about a person.
const PERSON_DOCUMENT: &[&str] = &[
    "borrower",
    "applicant",
    "employee name",
    "employee's name",
    "customer name",
    "patient",
    "tenant",
    "debtor",
    "account holder",
    "insured",
    "policyholder",
    "recipient's name",
    "candidate",
    "date of birth",
    "social security",
    "emprunteur",
    "solicitante",
    "titular",
];

/// Words that make a document one about personal data rather than holding it.
const DATA_DOCUMENT: &[&str] = &[
    "privacy",
    "personal data",
    "personal information",
    "example",
    "sample",
    "for illustration",
    "training",
    "format",
    "données personnelles",
    "datos personales",
    "protección de datos",
    "instructions",
];

const EXAMPLE_WORDS: &[&str] = &[
    "example",
    "sample",
    "e.g.",
    "such as",
    "format",
    "fictitious",
    "ejemplo",
    "exemple",
    "dummy",
    "test",
];

const JOB_TITLES: &[&str] = &[
    "manager",
    "officer",
    "director",
    "agent",
    "executive",
    "representative",
    "specialist",
    "advisor",
    "adviser",
    "professional",
    "recruiter",
    "coordinator",
    "ceo",
    "cfo",
    "coo",
    "cto",
    "president",
    "vp",
    "analyst",
    "counsel",
    "attorney",
    "esq",
    "underwriter",
    "processor",
    "broker",
    "realtor",
    "teller",
    "banker",
    "consultant",
    "administrator",
    "supervisor",
    "clerk",
    "paralegal",
    "partner",
    "controller",
    "treasurer",
    "secretary",
    "head of",
    "lead",
    "associate",
    "closer",
    "escrow",
    "loan officer",
    // Departments a named person writes for.
    "accounts payable",
    "accounts receivable",
    "procurement",
    "purchasing",
    "human resources",
    "treasury",
    "operations",
    "compliance",
];

static ORGANISATION: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"\b(?:Inc|LLC|L\.L\.C|Ltd|Limited|Corp|Corporation|Co|PLC|LLP|LP|GmbH|AG|S\.A|SA|SAS|SARL|S\.L|SL|SpA|N\.A|",
        r"Bank|Bancorp|Banque|Banco|Caja|Caisse|Credit Union|Savings|Mortgage|Insurance|Assurance|Services|",
        r"Group|Partners|Capital|Financial|Finance|Realty|Title|Agency|Associates|Health|Hospital|Clinic|",
        r"Medical|University|College|Court|Company|Trust|Federal|Lending|Loans|Servicing|Investments?|Wealth|",
        r"Management|Holdings|Solutions|Systems|Technologies|Communications|Utilities|Energy|Electric|",
        r"Power|Water|Telecom|Markets|Securities|Brokerage|Advisors|Consulting|Industries|Enterprises|",
        r"Center|Centre|Institute|Foundation|Museum|Society|Council|Association|Committee|Library|",
        r"School|Church|Ministry|Department|Authority|Commission|",
        r"Financiera|Financière|Crédit|Sparkasse|Versicherung|Versicherungen|Seguros|Assurances|Mutuelle|",
        r"Compañía|Compagnie|Société|Sociedad|Grupo|Groupe|Gruppe|Banca)\b"
    ))
    .expect("a valid built-in pattern")
});
static WEB_ADDRESS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)\bwww\.|https?://|\b[a-z0-9-]+\.(?:com|org|net|bank|fr|es|de|co\.uk)\b(?:/|\s|$)",
    )
    .expect("a valid built-in pattern")
});
static EMAIL_LIKE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\S+@\S+").expect("a valid built-in pattern"));
static DEAR: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b(?:Dear|Estimado|Estimada|Cher|Chère|Sehr geehrte[rs]?)\s+(?:(?:Mr|Mrs|Ms|Miss|Dr|Mx|Sr|Sra|M|Mme|Herr|Frau)\.?\s+)?([A-Z][a-z'-]+)")
        .expect("a valid built-in pattern")
});
static BLANK: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"_{4,}|\[ \]|☐|\.{8,}").expect("a valid built-in pattern"));
static OPENING_HOURS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(?:M-F|M-Th|Mon(?:day)?\s*[-–]\s*Fri(?:day)?|Sat\s+\d|24/7|\d{1,2}(?::\d{2})?\s*(?:am|pm|a\.m\.|p\.m\.)\s*[-–]|\d{1,2}(?::\d{2})?-\d{1,2}(?::\d{2})?\b)")
        .expect("a valid built-in pattern")
});
static MACHINE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)(?:[a-z_]+=\S*$|\b(?:server|host|upstream|peer|gateway|proxy|dns|firewall|router|node|db|from|to|src|dst|client)\s*[:=]?\s*\[?$)")
        .expect("a valid built-in pattern")
});
/// Headings and labels over a payee's bank details.
const PAYMENT_INSTRUCTIONS: &[&str] = &[
    "remit",
    "remittance",
    "pay to",
    "payable to",
    "make payments to",
    "wire instructions",
    "wiring instructions",
    "payment instructions",
    "payment details",
    "bank details",
    "banking details",
    "our bank",
    "coordonnées bancaires",
    "datos bancarios",
    "bankverbindung",
];
/// The secondary unit of business premises, by the USPS's designators and their
/// equivalents: people live in an apartment or a unit; offices are in a suite, on a
/// floor, in a building.
static BUSINESS_PREMISES: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"\b(?:Suite|Ste\.?|Floor|Fl\.|Bldg\.?|Building|Piso|Planta|Étage|Etage|Bureau|Stock)\s*#?\s*\d",
    )
    .expect("a valid built-in pattern")
});
/// A home's secondary unit (the USPS's APT, UNIT, LOT, TRLR and `#`, and their
/// equivalents): the other side of [`BUSINESS_PREMISES`].
static RESIDENTIAL_UNIT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)(?:\b(?:apt|apartment|unit|lot|trlr|trailer|appt|appartement|piso|wohnung)\b\.?\s*#?\s*|#\s*)\w*\d")
        .expect("a valid built-in pattern")
});
/// The last line of a postal address: `Philadelphia, PA 19106`, `48619 Renaud`,
/// `SW1A 1AA London`.
static CITY_LINE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"(?m)^\s*(?:[A-Z][\w .'-]*,? [A-Z]{2},? \d{5}(?:-\d{4})?",
        r"|\d{4,5} [A-Z][\w'-]+(?: [\w'-]+)*",
        r"|[A-Z]{1,2}\d[A-Z\d]? \d[A-Z]{2} [A-Z][\w'-]+)\s*$"
    ))
    .expect("a valid built-in pattern")
});
/// The writer speaking of what is theirs: an organisation's letter or notice.
static WRITER_OWNS: LazyLock<Regex> = LazyLock::new(|| {
    // Case matters: `US` is a country.
    Regex::new(
        r"\b(?:[Oo]urs?|[Ww]e|us|[Nn]uestr[oa]s?|[Nn]otre|[Nn]os|[Uu]nser[emn]?|[Oo]nze|[Ww]ij)\b",
    )
    .expect("a valid built-in pattern")
});
static HOLDER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(?:account name|account holder|beneficiary|payee|titulaire|titular|kontoinhaber)\b\s*(?:name)?\s*:?\s*(.*)")
        .expect("a valid built-in pattern")
});
static CAPITALISED_RUN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"[A-Z][A-Za-z&'-]*(?:[ -][A-Z][A-Za-z&'-]*){0,3}")
        .expect("a valid built-in pattern")
});

/// Greetings that name no one.
const GENERIC_SALUTATIONS: &[&str] = &[
    "customer",
    "sir",
    "madam",
    "valued",
    "member",
    "colleague",
    "colleagues",
    "client",
    "partner",
    "partners",
    "team",
    "all",
    "friends",
    "shareholders",
    "investor",
    "investors",
    "applicant",
    "borrower",
    "homeowner",
    "cardholder",
    "vendor",
    "supplier",
    "hiring",
];

/// A page's text with its line starts.
struct PageLines<'a> {
    text: &'a str,
    starts: Vec<usize>,
}

impl<'a> PageLines<'a> {
    fn new(text: &'a str) -> Self {
        let starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .filter(|&i| i < text.len())
            .collect();
        PageLines { text, starts }
    }

    fn count(&self) -> usize {
        self.starts.len()
    }

    fn line_of(&self, byte: usize) -> usize {
        self.starts
            .partition_point(|&s| s <= byte)
            .saturating_sub(1)
    }

    /// Lines `from..=to` (clamped), as one string.
    fn lines(&self, from: usize, to: usize) -> &'a str {
        let Some(&start) = self.starts.get(from.min(self.count().saturating_sub(1))) else {
            return "";
        };
        let end = self.starts.get(to + 1).copied().unwrap_or(self.text.len());
        &self.text[start..end.max(start)]
    }
}

/// What the whole document says, computed once for all its values.
pub struct DocumentContext<'a> {
    pages: Vec<PageLines<'a>>,
    /// Normalised value → the pages it is on.
    value_pages: HashMap<String, HashSet<usize>>,
    /// Domain → distinct local parts seen with it.
    domains: HashMap<String, HashSet<String>>,
    /// Lower-case runs of capitalised words with spaces removed: organisation names a
    /// domain may spell.
    names: HashSet<String>,
    /// Candidates per kind.
    kinds: HashMap<EntityKind, usize>,
    /// Where each page's phone numbers and e-mail addresses start, and whether each is
    /// plainly a business's (a business label before it, or a toll-free number).
    contacts: Vec<Vec<(usize, bool)>>,
    /// Each page's names and addresses: kind, first line and last line.
    named_lines: Vec<Vec<(EntityKind, usize, usize)>>,
    about_person: f32,
    addressed: f32,
    about_data: f32,
    blank_form: f32,
}

fn normalise(value: &str) -> String {
    value
        .chars()
        .filter(|c| c.is_alphanumeric() || *c == '@' || *c == '.')
        .flat_map(char::to_lowercase)
        .collect()
}

/// The ten digits of a North American number (`1-800-…` without its `1`).
fn north_american(value: &str) -> Option<String> {
    let digits: String = value.chars().filter(char::is_ascii_digit).collect();
    let national = digits
        .strip_prefix('1')
        .filter(|d| d.len() == 10)
        .unwrap_or(&digits);
    (national.len() == 10).then(|| national.to_owned())
}

fn toll_free(value: &str) -> bool {
    north_american(value).is_some_and(|n| TOLL_FREE.contains(&&n[..3]))
}

/// `count` over a document of `pages`, as if on a page of a short document: `at` per
/// page (beyond the first two) saturates.
fn per_page(count: usize, pages: usize, at: usize) -> f32 {
    saturate(count, at * pages.saturating_sub(2).max(1))
}

fn saturate(count: usize, at: usize) -> f32 {
    count.min(at) as f32 / at as f32
}

fn count_words(text: &str, words: &[&str]) -> usize {
    words
        .iter()
        .map(|w| {
            text.match_indices(w)
                .filter(|(i, _)| *i == 0 || !text.as_bytes()[i - 1].is_ascii_alphanumeric())
                .count()
        })
        .sum()
}

impl<'a> DocumentContext<'a> {
    /// `candidates[i]` are the recognizers' candidates on `pages[i]`.
    pub fn new(pages: &[&'a str], candidates: &[Vec<Candidate>]) -> Self {
        let mut value_pages: HashMap<String, HashSet<usize>> = HashMap::new();
        let mut domains: HashMap<String, HashSet<String>> = HashMap::new();
        let mut kinds: HashMap<EntityKind, usize> = HashMap::new();
        let contacts = pages
            .iter()
            .zip(candidates)
            .map(|(text, found)| {
                found
                    .iter()
                    .filter(|c| matches!(c.kind, EntityKind::Email | EntityKind::Phone))
                    .map(|c| {
                        let label = crate::recognizers::context_before(text, c.start);
                        let business = match (
                            nearest(&label, BUSINESS_LABELS),
                            nearest(&label, PERSONAL_LABELS),
                        ) {
                            (Some(b), Some(p)) => b > p,
                            (Some(_), None) => true,
                            _ => false,
                        };
                        (c.start, business || toll_free(&text[c.start..c.end]))
                    })
                    .collect()
            })
            .collect();
        for (page, (text, found)) in pages.iter().zip(candidates).enumerate() {
            for c in found {
                let value = &text[c.start..c.end];
                value_pages
                    .entry(normalise(value))
                    .or_default()
                    .insert(page);
                *kinds.entry(c.kind).or_default() += 1;
                if c.kind == EntityKind::Email
                    && let Some((local, domain)) = value.rsplit_once('@')
                {
                    domains
                        .entry(domain.to_lowercase())
                        .or_default()
                        .insert(local.to_lowercase());
                }
            }
        }
        let mut names = HashSet::new();
        let mut lower = String::new();
        let mut blanks = 0;
        let mut addressed = false;
        for text in pages {
            for m in CAPITALISED_RUN.find_iter(text) {
                let joined: String = m
                    .as_str()
                    .chars()
                    .filter(|c| c.is_alphanumeric())
                    .flat_map(char::to_lowercase)
                    .collect();
                // Two words at least: one capitalised word is as often a surname
                // (`Gauss` and `c.gauss@gauss.com`) as a company.
                let words = m.as_str().split([' ', '-']).count();
                if joined.len() >= 4 && words >= 2 {
                    names.insert(joined);
                }
            }
            blanks += BLANK.find_iter(text).count();
            addressed |= DEAR.captures_iter(text).any(|c| {
                let word = c.get(1).map_or("", |m| m.as_str()).to_lowercase();
                !GENERIC_SALUTATIONS.contains(&word.as_str())
            });
            lower.push_str(&text.to_lowercase());
            lower.push('\n');
        }
        DocumentContext {
            pages: pages.iter().map(|t| PageLines::new(t)).collect(),
            value_pages,
            domains,
            names,
            kinds,
            contacts,
            named_lines: Vec::new(),
            // Rates per page, not counts: a 260-page manual holds any word somewhere.
            about_person: per_page(count_words(&lower, PERSON_DOCUMENT), pages.len(), 4),
            addressed: if addressed { 1.0 } else { 0.0 },
            about_data: per_page(count_words(&lower, DATA_DOCUMENT), pages.len(), 4),
            blank_form: per_page(blanks, pages.len(), 8),
        }
    }

    /// Adds the NER's names and addresses (as candidates of kind `Person` and `Address`)
    /// to the counts, before they are judged: `named[i]` are page `i`'s.
    pub fn add_names(&mut self, named: &[Vec<Candidate>]) {
        self.named_lines = vec![Vec::new(); self.pages.len()];
        for (page, found) in named.iter().enumerate() {
            let Some(lines) = self.pages.get(page) else {
                continue;
            };
            for c in found {
                self.named_lines[page].push((
                    c.kind,
                    lines.line_of(c.start),
                    lines.line_of(c.end.saturating_sub(1)),
                ));
                self.value_pages
                    .entry(normalise(&lines.text[c.start..c.end]))
                    .or_default()
                    .insert(page);
                *self.kinds.entry(c.kind).or_default() += 1;
            }
        }
    }

    /// On how many pages `value` is printed.
    pub fn pages_with(&self, value: &str) -> usize {
        self.value_pages
            .get(&normalise(value))
            .map_or(1, HashSet::len)
    }

    /// The evidence on the candidate `c` of page `page` (0-based).
    pub fn evidence(&self, page: usize, c: &Candidate) -> Evidence {
        let mut x = [0.0f32; N];
        let Some(lines) = self.pages.get(page) else {
            return x;
        };
        let text = lines.text;
        let value = &text[c.start..c.end];
        let line = lines.line_of(c.start);

        // The label before the value: the nearer of a personal and a business one.
        let label = crate::recognizers::context_before(text, c.start);
        let personal = nearest(&label, PERSONAL_LABELS);
        let business = nearest(&label, BUSINESS_LABELS);
        match (personal, business) {
            (Some(p), Some(b)) if p > b => {
                (x[f::PERSONAL_LABEL], x[f::BUSINESS_LABEL]) = (1.0, 0.5)
            }
            (Some(_), Some(_)) => (x[f::PERSONAL_LABEL], x[f::BUSINESS_LABEL]) = (0.5, 1.0),
            (Some(_), None) => x[f::PERSONAL_LABEL] = 1.0,
            (None, Some(_)) => x[f::BUSINESS_LABEL] = 1.0,
            (None, None) => {}
        }
        // A plain label counts when it is the value's own: the nearest label before it
        // (in `Tel 919-938-0481 Fax 415-896-0069` the fax number's label is Fax).
        if nearest(&label, CONTACT_LABELS).is_some_and(|at| Some(at) > personal.max(business)) {
            x[f::CONTACT_LABEL] = 1.0;
        }

        let own_line = lines.lines(line, line);
        let around = lines.lines(line.saturating_sub(2), line + 2);
        let nearby = lines.lines(line.saturating_sub(1), line + 1);
        // The value itself is no evidence about its surroundings.
        let without = |s: &str| s.replace(value, " ");
        if ORGANISATION.is_match(&without(own_line)) {
            x[f::ORGANISATION_ON_LINE] = 1.0;
        }
        // Within two lines, or heading the postal block the value is printed under
        // (`National Constitution Center / 525 Arch Street / Independence Mall /
        // Philadelphia, PA 19106 / (215) 409-6600`).
        let block_above = line > 0
            && CITY_LINE.is_match(lines.lines(line - 1, line - 1))
            && ORGANISATION.is_match(lines.lines(line.saturating_sub(5), line - 1));
        if ORGANISATION.is_match(&without(around)) || block_above {
            x[f::ORGANISATION_NEAR] = 1.0;
        }
        let around_lower = around.to_lowercase();
        if has(&around_lower, JOB_TITLES) {
            x[f::JOB_TITLE_NEAR] = 1.0;
        }
        // An address's own suite or floor; for other values, one within two lines. (A
        // name or an address two lines from the servicer's suite is still the customer's.)
        let premises_in = match c.kind {
            EntityKind::Person | EntityKind::Address => value,
            _ => around,
        };
        if BUSINESS_PREMISES.is_match(premises_in) {
            x[f::BUSINESS_PREMISES] = 1.0;
        }
        if c.kind == EntityKind::Address && RESIDENTIAL_UNIT.is_match(value) {
            x[f::RESIDENTIAL_UNIT] = 1.0;
        }
        let nearby_plain = EMAIL_LIKE.replace_all(nearby, " ");
        if WEB_ADDRESS.is_match(&nearby_plain) {
            x[f::WEB_ADDRESS_NEAR] = 1.0;
        }

        // A page of a few lines has no header or footer: all of it is body.
        let in_band = lines.count() >= MIN_LINES_FOR_BANDS
            && (line < BAND_LINES || line + BAND_LINES >= lines.count());
        let in_header = lines.count() >= MIN_LINES_FOR_BANDS && line < BAND_LINES;
        let pages_with = self.pages_with(value);
        // Repeated on several pages: a contact detail so is a letterhead's; an account so
        // is the subject of a statement when it heads every page (in the upper half), and
        // a business's bank details when every page's footer prints it (an invoice's IBAN).
        if pages_with > 1 {
            let repeated = saturate(pages_with - 1, 3);
            let account = matches!(
                c.kind,
                EntityKind::BankAccount | EntityKind::Iban | EntityKind::RoutingNumber
            );
            if account && 2 * line < lines.count() {
                x[f::REPEATED_ACCOUNT] = repeated;
            } else {
                x[f::REPEATED_PAGES] = repeated;
            }
            if in_band {
                x[f::RUNNING_HEADER] = 1.0;
            }
        }
        let line_end = lines.starts.get(line + 1).copied().unwrap_or(text.len());
        let line_start = lines.starts.get(line).copied().unwrap_or(0);
        let others = self.contacts[page]
            .iter()
            .filter(|&&(at, _)| at != c.start && (line_start..line_end).contains(&at))
            .count();
        // A business contact within two lines: a letterhead's or a footer's row of
        // numbers (`Tel …`, `Fax …`, `Toll-free …`); a person's rows say Home or Cell.
        let (near_from, near_to) = (
            lines.starts[line.saturating_sub(2)],
            lines.starts.get(line + 3).copied().unwrap_or(text.len()),
        );
        if self.contacts[page]
            .iter()
            .any(|&(at, business)| business && at != c.start && (near_from..near_to).contains(&at))
        {
            x[f::BESIDE_BUSINESS_CONTACT] = 1.0;
        }
        let before_lines = &text[lines.starts[line.saturating_sub(1)]..c.start];
        if WRITER_OWNS.is_match(before_lines) {
            x[f::WRITER_OWNS] = 1.0;
        }
        if others > 0 && (x[f::ORGANISATION_NEAR] > 0.0 || x[f::WEB_ADDRESS_NEAR] > 0.0) {
            x[f::CONTACT_BLOCK] = 1.0;
        }
        let same_kind = self.kinds.get(&c.kind).copied().unwrap_or(1);
        x[f::MANY_OF_KIND] = saturate(same_kind.saturating_sub(1), 8);

        match c.kind {
            EntityKind::Email => self.email_evidence(value, &mut x),
            EntityKind::Phone => {
                if toll_free(value) {
                    x[f::TOLL_FREE] = 1.0;
                }
                if north_american(value).is_some_and(|n| &n[3..8] == "55501") {
                    x[f::FICTIONAL] = 1.0;
                }
            }
            _ => {}
        }

        if in_header && (x[f::ORGANISATION_NEAR] > 0.0 || x[f::WEB_ADDRESS_NEAR] > 0.0) {
            x[f::LETTERHEAD] = 1.0;
        }
        if OPENING_HOURS.is_match(&without(nearby)) {
            x[f::OPENING_HOURS] = 1.0;
        }
        let free_mail_on_line = EMAIL_LIKE.find_iter(own_line).any(|m| {
            let domain = m
                .as_str()
                .rsplit_once('@')
                .map_or("", |(_, d)| d)
                .to_lowercase();
            domain_name(&domain).is_some_and(|name| FREE_MAIL.contains(&name))
        });
        if free_mail_on_line && c.kind != EntityKind::Email {
            x[f::FREE_MAIL_ON_LINE] = 1.0;
        }
        let before_on_line = &text[line_start..c.start];
        let port_after = text[c.end..].starts_with(':')
            && text[c.end + 1..].starts_with(|ch: char| ch.is_ascii_digit());
        if port_after || MACHINE.is_match(before_on_line.trim_end()) {
            x[f::MACHINE_CONTEXT] = 1.0;
        }

        if matches!(
            c.kind,
            EntityKind::BankAccount | EntityKind::Iban | EntityKind::RoutingNumber
        ) {
            let above = lines
                .lines(line.saturating_sub(PAYMENT_SECTION_LINES), line)
                .to_lowercase();
            if has(&above, PAYMENT_INSTRUCTIONS) {
                x[f::PAYMENT_INSTRUCTIONS] = 1.0;
            }
            let holder_is_organisation = HOLDER
                .captures_iter(around)
                .filter_map(|c| c.get(1))
                .any(|name| ORGANISATION.is_match(name.as_str()));
            if holder_is_organisation {
                x[f::HOLDER_ORGANISATION] = 1.0;
            }
        }

        if self.postal_block(page, c, lines) {
            x[f::POSTAL_BLOCK] = 1.0;
        }

        x[f::DOCUMENT_ABOUT_PERSON] = self.about_person;
        x[f::DOCUMENT_ADDRESSED] = self.addressed;
        x[f::DOCUMENT_ABOUT_DATA] = self.about_data;
        x[f::BLANK_FORM] = self.blank_form;
        if has(&around_lower, EXAMPLE_WORDS) {
            x[f::EXAMPLE_CONTEXT] = 1.0;
        }
        x
    }

    /// A name on the line just above an address, or on the address's first line before
    /// it: how a letter or a statement prints whom it is for. A business's block puts its
    /// name, a title or a department between them.
    fn postal_block(&self, page: usize, c: &Candidate, lines: &PageLines<'_>) -> bool {
        let Some(named) = self.named_lines.get(page) else {
            return false;
        };
        let (first, last) = (
            lines.line_of(c.start),
            lines.line_of(c.end.saturating_sub(1)),
        );
        let (other, name_line, address_line) = match c.kind {
            EntityKind::Person => (EntityKind::Address, last, None),
            EntityKind::Address => (EntityKind::Person, first, Some(first)),
            _ => return false,
        };
        named.iter().any(|&(kind, from, to)| {
            kind == other
                && match address_line {
                    // An address: a name ending on its first line or the one above.
                    Some(at) => to == at || to + 1 == at,
                    // A name: an address starting on its line or the one below.
                    None => from == name_line || from == name_line + 1,
                }
        })
    }

    fn email_evidence(&self, value: &str, x: &mut Evidence) {
        let Some((local, domain)) = value.rsplit_once('@') else {
            return;
        };
        let (local, domain) = (local.to_lowercase(), domain.to_lowercase());
        let name = domain_name(&domain).unwrap_or(&domain);
        if FREE_MAIL.contains(&name) {
            x[f::FREE_MAIL] = 1.0;
        }
        let base = local.split(['+', '.', '-', '_']).next().unwrap_or(&local);
        if ROLE_MAILBOXES.contains(&local.as_str()) || ROLE_MAILBOXES.contains(&base) {
            x[f::ROLE_MAILBOX] = 1.0;
        }
        let locals = self.domains.get(&domain).map_or(1, HashSet::len);
        if locals > 1 && x[f::FREE_MAIL] == 0.0 {
            x[f::SHARED_DOMAIN] = saturate(locals - 1, 2);
        }
        let name: String = name.chars().filter(|c| c.is_alphanumeric()).collect();
        if name.len() >= 4
            && x[f::FREE_MAIL] == 0.0
            && self
                .names
                .iter()
                // `summitlending.com` and "Summit Lending", or "Lakeshore Investment
                // Services" and `lakeshoreinvestment.com`.
                .any(|n| {
                    n == &name
                        || (n.len() >= 6 && name.starts_with(n.as_str()))
                        || (name.len() >= 6 && n.starts_with(name.as_str()))
                })
        {
            x[f::ORGANISATION_DOMAIN] = 1.0;
        }
    }
}

/// The name part of a domain: `mail.summitlending.com` → `summitlending` (none for a
/// domain of one label).
fn domain_name(domain: &str) -> Option<&str> {
    let labels: Vec<&str> = domain.split('.').collect();
    labels.len().checked_sub(2).map(|i| labels[i])
}
