//! Vigil's labeled document corpus.
//!
//! [`generate`] writes loan-file PDFs of many layouts (applications, pay stubs,
//! statements, letters, ID checks, wire forms) about synthetic people, and documents
//! without personal data (blank templates, rate sheets, privacy policies, press
//! releases, notices with masked numbers), each with its truth: the verdict and every
//! planted entity with its page. [`hostile`] writes files that must fail cleanly;
//! [`scan`] makes image-only copies of PDFs, as a scanner would.

pub mod eval;
pub mod hostile;
pub mod pdf;
mod people;
pub mod scan;

use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use vigil_core::EntityKind;

use pdf::Layout;
pub use people::Person;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("reference customers: {0}")]
    Customers(String),
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("truth file: {0}")]
    Json(#[from] serde_json::Error),
    #[error("scan copy: {0}")]
    Scan(String),
}

/// A planted entity: what it is, on which page, with which value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TruthEntity {
    #[serde(rename = "type")]
    pub kind: EntityKind,
    pub page: u32,
    pub value: String,
}

/// The truth of one generated document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Truth {
    pub file: String,
    pub layout: String,
    pub pii: bool,
    pub entities: Vec<TruthEntity>,
}

/// A generated document: its PDF bytes and its truth.
pub struct Generated {
    pub bytes: Vec<u8>,
    pub truth: Truth,
}

/// The layouts, personal first.
pub const LAYOUTS: &[&str] = &[
    "application",
    "paystub",
    "statement",
    "letter",
    "id_check",
    "wire_form",
    "card_form",
    "blank_application",
    "rate_sheet",
    "privacy_policy",
    "press_release",
    "masked_notice",
    "marketing_letter",
];

/// A document under construction: a layout plus the entities placed on it.
struct Doc {
    layout: Layout,
    entities: Vec<TruthEntity>,
    rng: ChaCha8Rng,
}

impl Doc {
    fn new(rng: ChaCha8Rng) -> Doc {
        let mut rng = rng;
        let left = rng.random_range(40.0..90.0);
        let size = [9.0, 10.0, 10.5, 11.0, 12.0][rng.random_range(0..5)];
        Doc {
            layout: Layout::new(left, size),
            entities: Vec::new(),
            rng,
        }
    }

    fn page(&self) -> u32 {
        self.layout.pages.len() as u32
    }

    fn mark(&mut self, kind: EntityKind, value: &str) {
        let page = self.page();
        self.entities.push(TruthEntity {
            kind,
            page,
            value: value.to_owned(),
        });
    }

    fn line(&mut self, text: impl Into<String>) {
        self.layout.line(text);
    }

    /// `Label: value` on one line, or the label above the value, or as a table row
    /// written right to left.
    fn field(&mut self, label: &str, value: &str, kind: Option<EntityKind>) {
        match self.rng.random_range(0..4) {
            0 => {
                self.layout.line(label.to_owned());
                self.layout.line(format!("  {value}"));
            }
            1 => {
                let reversed = self.rng.random_bool(0.5);
                self.layout.row(
                    &[(0.0, format!("{label}:")), (170.0, value.to_owned())],
                    reversed,
                );
            }
            _ => self.layout.line(format!("{label}: {value}")),
        }
        if let Some(kind) = kind {
            self.mark(kind, value);
        }
    }

    /// Two fields on one row, as in form grids.
    fn pair(&mut self, a: (&str, &str, Option<EntityKind>), b: (&str, &str, Option<EntityKind>)) {
        let reversed = self.rng.random_bool(0.3);
        self.layout.row(
            &[
                (0.0, format!("{}: {}", a.0, a.1)),
                (260.0, format!("{}: {}", b.0, b.1)),
            ],
            reversed,
        );
        for (_, v, k) in [a, b] {
            if let Some(k) = k {
                self.mark(k, v);
            }
        }
    }

    fn prose(&mut self, paragraphs: &[&str]) {
        for p in paragraphs {
            for line in wrap(p, 90) {
                self.layout.line(line);
            }
            self.layout.gap();
        }
    }

    fn finish(self, file: String, layout: &str, pii: bool) -> Generated {
        Generated {
            bytes: self.layout.finish(),
            truth: Truth {
                file,
                layout: layout.to_owned(),
                pii,
                entities: self.entities,
            },
        }
    }
}

fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = vec![String::new()];
    for word in text.split_whitespace() {
        let last = lines.last_mut().expect("one line");
        if !last.is_empty() && last.len() + word.len() + 1 > width {
            lines.push(word.to_owned());
        } else {
            if !last.is_empty() {
                last.push(' ');
            }
            last.push_str(word);
        }
    }
    lines
}

const LENDERS: &[&str] = &[
    "Northwind Lending",
    "Bluebird Bank, N.A.",
    "Granite Federal Credit Union",
    "Harbor Mortgage LLC",
    "Summit Home Loans",
    "Cedar Financial Group",
];
const LENDER_ADDRESSES: &[&str] = &[
    "1200 Market Street, Suite 400, Philadelphia, PA 19107",
    "55 Water Street, New York, NY 10041",
    "700 Congress Avenue, Austin, TX 78701",
    "2 Commerce Square, Denver, CO 80202",
    "400 Pine Street, Seattle, WA 98101",
];

/// Writes document `index` of the corpus for `seed`: the same pair always gives the same
/// document. Layouts cycle so that every kind is represented.
pub fn generate(people: &[Person], seed: u64, index: usize) -> Generated {
    let mut rng =
        ChaCha8Rng::seed_from_u64(seed ^ (index as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15));
    let layout = LAYOUTS[index % LAYOUTS.len()];
    let person = people
        .choose(&mut rng)
        .expect("people")
        .clone()
        .with_numbers(&mut rng);
    let lender = *LENDERS.choose(&mut rng).expect("lenders");
    let office = *LENDER_ADDRESSES.choose(&mut rng).expect("addresses");
    let doc = Doc::new(ChaCha8Rng::seed_from_u64(rng.random()));
    let file = format!("{index:05}-{layout}.pdf");
    let (doc, pii) = match layout {
        "application" => (application(doc, &person, lender), true),
        "paystub" => (paystub(doc, &person), true),
        "statement" => (statement(doc, &person, lender, office), true),
        "letter" => (letter(doc, &person, lender, office), true),
        "id_check" => (id_check(doc, &person, lender), true),
        "wire_form" => (wire_form(doc, &person, lender), true),
        "card_form" => (card_form(doc, &person, lender), true),
        "blank_application" => (blank_application(doc, lender), false),
        "rate_sheet" => (rate_sheet(doc, lender, office), false),
        "privacy_policy" => (privacy_policy(doc, lender, office), false),
        "press_release" => (press_release(doc, &person, lender, office), false),
        "masked_notice" => (masked_notice(doc, &person, lender), false),
        _ => (marketing_letter(doc, lender, office), false),
    };
    doc.finish(file, layout, pii)
}

use EntityKind as K;

fn header(doc: &mut Doc, lender: &str, title: &str) {
    doc.layout.heading(lender.to_owned());
    doc.layout.heading(title.to_owned());
    doc.layout.gap();
}

fn application(mut doc: Doc, p: &Person, lender: &str) -> Doc {
    header(&mut doc, lender, "Uniform Residential Loan Application");
    doc.line("Section 1: Borrower Information");
    doc.field("Name (First, Middle, Last)", &p.name, Some(K::Person));
    if doc.rng.random_bool(0.5) {
        doc.pair(
            ("Social Security Number", &p.ssn, Some(K::Ssn)),
            ("Date of Birth", &p.dob, Some(K::DateOfBirth)),
        );
    } else {
        doc.field("Social Security Number", &p.ssn, Some(K::Ssn));
        doc.field("Date of Birth (mm/dd/yyyy)", &p.dob, Some(K::DateOfBirth));
    }
    doc.field("Current Address", &p.street, Some(K::Address));
    doc.line(format!("{}, {} {}", p.city, p.state, p.zip));
    doc.pair(
        ("Home Phone", &p.phone, Some(K::Phone)),
        ("Email", &p.email, Some(K::Email)),
    );
    doc.field("Marital Status", "Married", None);
    doc.gap_lines(1);
    doc.line("Section 2: Employment and Income");
    doc.field("Employer", &p.employer, None);
    doc.field("Position", &p.job, None);
    let income = format!(
        "${},{:03}.00",
        doc.rng.random_range(2..19),
        doc.rng.random_range(0..1000)
    );
    doc.field("Gross Monthly Income", &income, None);
    if doc.rng.random_bool(0.6) {
        doc.gap_lines(1);
        doc.line("Section 3: Assets");
        doc.field("Bank Name", "First Community Bank", None);
        doc.field("Account Number", &p.account, Some(K::BankAccount));
        doc.field("Routing Number", &p.routing, Some(K::RoutingNumber));
    }
    doc.gap_lines(1);
    doc.prose(&[
        "I certify that the information provided in this application is true and correct as of the date set forth opposite my signature.",
    ]);
    doc.field("Borrower Signature", &p.name, Some(K::Person));
    doc
}

fn paystub(mut doc: Doc, p: &Person) -> Doc {
    header(&mut doc, &p.employer, "Earnings Statement");
    doc.field("Employee", &p.name, Some(K::Person));
    doc.line(p.street.clone());
    doc.mark(K::Address, &p.street);
    doc.line(format!("{}, {} {}", p.city, p.state, p.zip));
    // Pay stubs often print only the last four digits: not an identifier.
    let masked = format!("XXX-XX-{}", &p.ssn[p.ssn.len() - 4..]);
    doc.field("SSN", &masked, None);
    doc.field("Pay Period", "03/01/2024 - 03/15/2024", None);
    let rows = [
        ("Regular", 80, 31.25),
        ("Overtime", 6, 46.88),
        ("Holiday", 8, 31.25),
    ];
    doc.layout.row(
        &[
            (0.0, "Earnings".into()),
            (150.0, "Hours".into()),
            (250.0, "Rate".into()),
            (350.0, "Amount".into()),
        ],
        false,
    );
    for (name, hours, rate) in rows {
        let reversed = doc.rng.random_bool(0.5);
        doc.layout.row(
            &[
                (0.0, name.into()),
                (150.0, hours.to_string()),
                (250.0, format!("{rate:.2}")),
                (350.0, format!("{:.2}", f64::from(hours) * rate)),
            ],
            reversed,
        );
    }
    doc.field("Direct Deposit Account", &p.account, Some(K::BankAccount));
    doc
}

fn statement(mut doc: Doc, p: &Person, lender: &str, office: &str) -> Doc {
    header(&mut doc, lender, "Monthly Account Statement");
    doc.line(office.to_owned());
    doc.gap_lines(1);
    doc.address_block(p);
    doc.gap_lines(1);
    doc.field("Account Number", &p.account, Some(K::BankAccount));
    doc.field("Statement Period", "February 1 - February 29, 2024", None);
    let merchants = [
        "GROCERY OUTLET",
        "SHELL OIL 5541",
        "AMAZON MKTPLACE",
        "CITY WATER UTIL",
        "PAYROLL DEPOSIT",
    ];
    let pages = doc.rng.random_range(1..4);
    for _ in 0..pages * 18 {
        let m = *merchants.choose(&mut doc.rng).expect("merchants");
        let day = doc.rng.random_range(1..29);
        let amount = doc.rng.random_range(5.0..900.0);
        doc.layout.row(
            &[
                (0.0, format!("02/{day:02}/2024")),
                (90.0, m.into()),
                (330.0, format!("{amount:.2}")),
            ],
            false,
        );
    }
    let n = doc.rng.random_range(100..9999);
    doc.prose(&[&format!(
        "Questions? Call Customer Service at 1-800-555-{n:04} or write to {office}."
    )]);
    doc
}

fn letter(mut doc: Doc, p: &Person, lender: &str, office: &str) -> Doc {
    doc.layout.heading(lender.to_owned());
    doc.line(office.to_owned());
    doc.gap_lines(2);
    doc.line("March 4, 2024");
    doc.gap_lines(1);
    doc.address_block(p);
    doc.gap_lines(1);
    let first = p
        .name
        .split_whitespace()
        .next()
        .unwrap_or("Customer")
        .to_owned();
    doc.line(format!("Dear {first},"));
    doc.prose(&[
        "Thank you for choosing us for your home financing. We have received your application and our underwriting team is reviewing the documents you provided.",
        "Please send the items listed below within ten business days so that we can continue processing your loan: two most recent pay stubs, the last two months of bank statements, and a copy of your homeowners insurance declaration page.",
    ]);
    doc.line("Sincerely,");
    doc.line("Loan Processing Department");
    doc
}

fn id_check(mut doc: Doc, p: &Person, lender: &str) -> Doc {
    header(
        &mut doc,
        lender,
        "Customer Identification Program - Verification Record",
    );
    doc.field("Customer Name", &p.name, Some(K::Person));
    doc.field("Date of Birth", &p.dob, Some(K::DateOfBirth));
    if doc.rng.random_bool(0.5) {
        doc.field("Passport Number", &p.passport, Some(K::Passport));
        doc.field("Issuing Country", "United States", None);
    } else {
        doc.field(
            "Driver's License Number",
            &p.license,
            Some(K::DriverLicense),
        );
        doc.field("Issuing State", &p.state, None);
    }
    doc.field("Verified By", "Branch Operations", None);
    doc.prose(&[
        "Documentary verification completed in accordance with the bank's CIP procedures.",
    ]);
    doc
}

fn wire_form(mut doc: Doc, p: &Person, lender: &str) -> Doc {
    header(&mut doc, lender, "International Wire Transfer Request");
    doc.field("Sender Name", &p.name, Some(K::Person));
    doc.field("Sender Account", &p.account, Some(K::BankAccount));
    doc.field("Beneficiary IBAN", &p.iban, Some(K::Iban));
    doc.field("Amount", "EUR 12,500.00", None);
    doc.field("Purpose", "Down payment for property purchase", None);
    doc
}

fn card_form(mut doc: Doc, p: &Person, lender: &str) -> Doc {
    header(&mut doc, lender, "Recurring Payment Authorization");
    doc.prose(&[
        "I authorize the lender to charge my card for the monthly loan payment listed below.",
    ]);
    doc.field("Cardholder Name", &p.name, Some(K::Person));
    doc.field("Card Number", &p.card, Some(K::CreditCard));
    doc.field("Expiration", "08/27", None);
    doc.field("Billing Phone", &p.phone, Some(K::Phone));
    doc.field("Monthly Amount", "$1,845.20", None);
    doc
}

fn blank_application(mut doc: Doc, lender: &str) -> Doc {
    header(&mut doc, lender, "Uniform Residential Loan Application");
    doc.line("Section 1: Borrower Information");
    for label in [
        "Name (First, Middle, Last)",
        "Social Security Number",
        "Date of Birth (mm/dd/yyyy)",
        "Current Address",
        "Home Phone",
        "Email",
        "Employer",
        "Account Number",
        "Routing Number",
    ] {
        let blank = ["______________________", "___-__-____", "", "[          ]"]
            .choose(&mut doc.rng)
            .expect("blanks")
            .to_string();
        doc.field(label, &blank, None);
    }
    doc.prose(&[
        "I certify that the information provided in this application is true and correct as of the date set forth opposite my signature.",
    ]);
    doc.field("Borrower Signature", "______________________", None);
    doc
}

fn rate_sheet(mut doc: Doc, lender: &str, office: &str) -> Doc {
    header(
        &mut doc,
        lender,
        "Daily Rate Sheet - Effective 03/04/2024 9:00 AM",
    );
    doc.layout.row(
        &[
            (0.0, "Product".into()),
            (160.0, "Rate".into()),
            (240.0, "APR".into()),
            (320.0, "Points".into()),
            (400.0, "Lock".into()),
        ],
        false,
    );
    for product in [
        "30-Year Fixed",
        "20-Year Fixed",
        "15-Year Fixed",
        "10/6 ARM",
        "7/6 ARM",
        "5/6 ARM",
        "FHA 30-Year",
        "VA 30-Year",
        "Jumbo 30-Year",
    ] {
        let rate = doc.rng.random_range(5.0..7.5);
        doc.layout.row(
            &[
                (0.0, product.into()),
                (160.0, format!("{rate:.3}%")),
                (240.0, format!("{:.3}%", rate + 0.12)),
                (320.0, format!("{:.3}", doc.rng.random_range(0.0..1.5))),
                (400.0, "30 days".into()),
            ],
            false,
        );
    }
    let (code, desk) = (
        doc.rng.random_range(0..999_999),
        doc.rng.random_range(100..9999),
    );
    doc.line(format!("Loan program code 4410-{code:06}"));
    doc.prose(&[
        "Rates are subject to change without notice. Not a commitment to lend. NMLS ID 402311.",
        &format!("Lock desk: 1-888-555-{desk:04}. {office}."),
    ]);
    doc
}

fn privacy_policy(mut doc: Doc, lender: &str, office: &str) -> Doc {
    header(
        &mut doc,
        lender,
        "Privacy Notice - What Do We Do With Your Personal Information?",
    );
    doc.prose(&[
        "Financial companies choose how they share your personal information. Federal law gives consumers the right to limit some but not all sharing.",
        "The types of personal information we collect and share depend on the product or service you have with us. This information can include your Social Security number, date of birth, income, account balances, payment history, credit card numbers and employment information.",
        "When you are no longer our customer, we continue to share your information as described in this notice. To limit our sharing, call 1-877-555-0142 or visit us online.",
        "We protect your personal information with security measures that comply with federal law, including computer safeguards and secured files and buildings.",
    ]);
    doc.line(format!("Mail: Privacy Office, {office}"));
    doc.line(format!(
        "Email: privacy@{}.com",
        lender
            .split_whitespace()
            .next()
            .unwrap_or("bank")
            .to_lowercase()
    ));
    let form = doc.rng.random_range(10000..99999);
    doc.line(format!("Revised 01/2024. Form PN-{form:05}"));
    doc
}

fn press_release(mut doc: Doc, p: &Person, lender: &str, office: &str) -> Doc {
    header(&mut doc, lender, "For Immediate Release");
    let ceo = &p.name;
    doc.prose(&[
        &format!("{lender} reports record mortgage originations for the fourth quarter, up 18 percent from the prior year, driven by first-time home buyers."),
        &format!("\"Our customers trust us with the biggest purchase of their lives,\" said {ceo}, Chief Executive Officer of {lender}. \"We will keep investing in faster closings.\""),
        &format!("{lender} is headquartered at {office} and serves customers in 14 states."),
        "Media contact: press@example-bank.com, 1-866-555-0110.",
    ]);
    doc
}

fn masked_notice(mut doc: Doc, p: &Person, lender: &str) -> Doc {
    header(&mut doc, lender, "Important Notice About Your Account");
    let last4 = &p.account[p.account.len() - 4..];
    let card4 = &p.card.replace(' ', "")[12..];
    let n = doc.rng.random_range(100..9999);
    doc.prose(&[
        &format!("Dear Customer, this notice concerns your account ending in {last4}."),
        &format!("Your card XXXX-XXXX-XXXX-{card4} will be replaced with a new chip card before its expiration date."),
        &format!("If you did not request this change, call us at 1-800-555-{n:04}."),
    ]);
    doc.field(
        "Reference",
        &format!("SSN on file: XXX-XX-{}", &p.ssn[p.ssn.len() - 4..]),
        None,
    );
    doc
}

fn marketing_letter(mut doc: Doc, lender: &str, office: &str) -> Doc {
    doc.layout.heading(lender.to_owned());
    doc.line(office.to_owned());
    doc.gap_lines(1);
    doc.line("Dear Neighbor,");
    doc.prose(&[
        "Spring is the season to refinance. With rates near their lowest level this year, homeowners in your area could lower their monthly payment.",
        "Visit any branch or call our loan officers at 1-855-555-0199, Monday through Saturday. Equal Housing Lender.",
    ]);
    doc
}

impl Doc {
    /// A person's name and postal address, one line each, as on an envelope.
    fn address_block(&mut self, p: &Person) {
        self.line(p.name.clone());
        self.mark(K::Person, &p.name);
        self.line(p.street.clone());
        self.mark(K::Address, &p.street);
        self.line(format!("{}, {} {}", p.city, p.state, p.zip));
    }

    fn gap_lines(&mut self, n: usize) {
        for _ in 0..n {
            self.layout.gap();
        }
    }
}

/// The people of the corpus: the reference customers, with generated identifiers.
pub fn people() -> Result<Vec<Person>, Error> {
    people::from_reference()
}
