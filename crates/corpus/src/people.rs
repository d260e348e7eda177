//! Synthetic people: names from common US first names and surnames, places and jobs from
//! the reference customers, identifiers generated valid by their rules.

use rand::Rng;
use rand::seq::IndexedRandom;

use crate::Error;

const FIRST: &[&str] = &[
    "Mary",
    "James",
    "Patricia",
    "Robert",
    "Jennifer",
    "Michael",
    "Linda",
    "David",
    "Elizabeth",
    "William",
    "Barbara",
    "Richard",
    "Susan",
    "Joseph",
    "Jessica",
    "Thomas",
    "Karen",
    "Charles",
    "Sarah",
    "Christopher",
    "Lisa",
    "Daniel",
    "Nancy",
    "Matthew",
    "Sandra",
    "Anthony",
    "Ashley",
    "Mark",
    "Kimberly",
    "Steven",
    "Donna",
    "Andrew",
    "Michelle",
    "Kenneth",
    "Carol",
    "Joshua",
    "Amanda",
    "Kevin",
    "Melissa",
    "Brian",
    "Deborah",
    "Timothy",
    "Laura",
    "Ronald",
    "Rebecca",
    "Jason",
    "Sharon",
    "Jeffrey",
    "Cynthia",
    "Ryan",
    "Angela",
    "Jacob",
    "Emily",
    "Gary",
    "Brenda",
    "Nicholas",
    "Amy",
    "Eric",
    "Anna",
    "Jonathan",
    "Maria",
    "Juan",
    "Aisha",
    "Wei",
    "Priya",
    "Carlos",
    "Fatima",
    "Dmitri",
    "Keisha",
    "Hiroshi",
];
const LAST: &[&str] = &[
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Rodriguez",
    "Martinez",
    "Hernandez",
    "Lopez",
    "Gonzalez",
    "Wilson",
    "Anderson",
    "Thomas",
    "Taylor",
    "Moore",
    "Jackson",
    "Martin",
    "Lee",
    "Perez",
    "Thompson",
    "White",
    "Harris",
    "Sanchez",
    "Clark",
    "Ramirez",
    "Lewis",
    "Robinson",
    "Walker",
    "Young",
    "Allen",
    "King",
    "Wright",
    "Scott",
    "Torres",
    "Nguyen",
    "Hill",
    "Flores",
    "Green",
    "Adams",
    "Nelson",
    "Baker",
    "Hall",
    "Rivera",
    "Campbell",
    "Mitchell",
    "Carter",
    "Roberts",
    "Okafor",
    "Kowalski",
    "Patel",
    "Nakamura",
    "Schmidt",
    "O'Brien",
    "Delgado",
    "Fitzgerald",
    "Washington",
    "Chen",
];
const EMPLOYERS: &[&str] = &[
    "Acme Logistics Inc.",
    "Riverside Medical Center",
    "Pioneer Software LLC",
    "County School District",
    "Lakeview Manufacturing Co.",
    "Sunrise Hospitality Group",
];
const MAIL: &[&str] = &[
    "gmail.com",
    "yahoo.com",
    "outlook.com",
    "hotmail.com",
    "icloud.com",
    "proton.me",
];
const MONTHS: &[&str] = &[
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// A person of the corpus, with every identifier a document may show.
#[derive(Debug, Clone)]
pub struct Person {
    pub name: String,
    pub street: String,
    pub city: String,
    pub state: String,
    pub zip: String,
    pub job: String,
    pub employer: String,
    pub email: String,
    pub phone: String,
    pub ssn: String,
    pub dob: String,
    pub account: String,
    pub routing: String,
    pub passport: String,
    pub license: String,
    pub iban: String,
    pub card: String,
}

pub(crate) fn from_reference() -> Result<Vec<Person>, Error> {
    let customers =
        vigil_generator::default_customers().map_err(|e| Error::Customers(e.to_string()))?;
    Ok(customers
        .into_iter()
        .enumerate()
        .map(|(i, c)| {
            // Names are assigned from the lists by position, so a customer keeps one.
            let first = FIRST[i % FIRST.len()];
            let last = LAST[(i / FIRST.len() + i * 7) % LAST.len()];
            Person {
                name: format!("{first} {last}"),
                street: c.billing_street,
                city: c.billing_city,
                state: c.billing_state,
                zip: c.billing_zip,
                job: c.customer_job,
                employer: EMPLOYERS[i % EMPLOYERS.len()].to_owned(),
                email: String::new(),
                phone: String::new(),
                ssn: String::new(),
                dob: String::new(),
                account: String::new(),
                routing: String::new(),
                passport: String::new(),
                license: String::new(),
                iban: String::new(),
                card: String::new(),
            }
        })
        .collect())
}

fn digits(rng: &mut impl Rng, n: usize) -> String {
    (0..n)
        .map(|_| char::from(b'0' + rng.random_range(0..10u8)))
        .collect()
}

fn luhn_digit(body: &[u32]) -> u32 {
    let sum: u32 = body
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| {
            if i % 2 == 0 {
                let x = d * 2;
                if x > 9 { x - 9 } else { x }
            } else {
                d
            }
        })
        .sum();
    (10 - sum % 10) % 10
}

impl Person {
    /// Fills in identifiers, valid by their checksums and rules, in varied formats.
    pub fn with_numbers(mut self, rng: &mut impl Rng) -> Person {
        let (first, last) = self.name.split_once(' ').unwrap_or((&self.name, ""));
        let user = match rng.random_range(0..3) {
            0 => format!(
                "{}.{}",
                first.to_lowercase(),
                last.to_lowercase().replace('\'', "")
            ),
            1 => format!(
                "{}{}{}",
                &first[..1].to_lowercase(),
                last.to_lowercase().replace('\'', ""),
                rng.random_range(1..99)
            ),
            _ => format!("{}{}", first.to_lowercase(), rng.random_range(1950..2005)),
        };
        self.email = format!("{user}@{}", MAIL.choose(rng).expect("domains"));
        let (a, b, c) = (
            rng.random_range(201..990),
            rng.random_range(200..999),
            rng.random_range(0..10000),
        );
        self.phone = match rng.random_range(0..4) {
            0 => format!("({a}) {b}-{c:04}"),
            1 => format!("{a}-{b}-{c:04}"),
            2 => format!("{a}.{b}.{c:04}"),
            _ => format!("+1 {a}-{b}-{c:04}"),
        };
        let area = loop {
            let area = rng.random_range(1..900);
            if area != 666 {
                break area;
            }
        };
        let (group, serial) = (rng.random_range(1..100), rng.random_range(1..10000));
        self.ssn = if rng.random_bool(0.9) {
            format!("{area:03}-{group:02}-{serial:04}")
        } else {
            format!("{area:03} {group:02} {serial:04}")
        };
        let (year, month, day) = (
            rng.random_range(1945..2004),
            rng.random_range(1..13),
            rng.random_range(1..29),
        );
        self.dob = match rng.random_range(0..3) {
            0 => format!("{month:02}/{day:02}/{year}"),
            1 => format!("{} {day}, {year}", MONTHS[month - 1]),
            _ => format!("{year}-{month:02}-{day:02}"),
        };
        let len = rng.random_range(8..15);
        self.account = digits(rng, len);
        self.routing = {
            let prefix = [
                1u32, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 21, 22, 26, 31, 32, 61, 63, 67,
            ]
            .choose(rng)
            .copied()
            .expect("prefixes");
            let mut d: Vec<u32> = format!("{prefix:02}{}", digits(rng, 6))
                .chars()
                .map(|c| c.to_digit(10).expect("digit"))
                .collect();
            let partial = 3 * (d[0] + d[3] + d[6]) + 7 * (d[1] + d[4] + d[7]) + d[2] + d[5];
            d.push((10 - partial % 10) % 10);
            d.iter().map(|x| x.to_string()).collect()
        };
        self.passport = if rng.random_bool(0.5) {
            digits(rng, 9)
        } else {
            format!(
                "{}{}",
                char::from(b'A' + rng.random_range(0..26u8)),
                digits(rng, 8)
            )
        };
        self.license = match rng.random_range(0..3) {
            0 => format!(
                "{}{}",
                char::from(b'A' + rng.random_range(0..26u8)),
                digits(rng, 7)
            ),
            1 => digits(rng, 9),
            _ => format!(
                "{}{}",
                char::from(b'A' + rng.random_range(0..26u8)),
                digits(rng, 12)
            ),
        };
        self.iban = {
            let bban = digits(rng, 18);
            // Check digits: 98 − (BBAN + "DE00" as digits) mod 97.
            let numeric = format!("{bban}131400");
            let rem = numeric
                .chars()
                .fold(0u32, |r, c| (r * 10 + c.to_digit(10).expect("digit")) % 97);
            let raw = format!("DE{:02}{bban}", 98 - rem);
            raw.as_bytes()
                .chunks(4)
                .map(|c| String::from_utf8_lossy(c).into_owned())
                .collect::<Vec<_>>()
                .join(" ")
        };
        self.card = {
            let (prefix, len) = match rng.random_range(0..3) {
                0 => ("4".to_owned(), 16),
                1 => (format!("5{}", rng.random_range(1..6)), 16),
                _ => (["34", "37"].choose(rng).expect("amex").to_string(), 15),
            };
            let body = format!("{prefix}{}", digits(rng, len - 1 - prefix.len()));
            let d: Vec<u32> = body
                .chars()
                .map(|c| c.to_digit(10).expect("digit"))
                .collect();
            let full = format!("{body}{}", luhn_digit(&d));
            if len == 15 {
                format!("{} {} {}", &full[..4], &full[4..10], &full[10..])
            } else {
                full.as_bytes()
                    .chunks(4)
                    .map(|c| String::from_utf8_lossy(c).into_owned())
                    .collect::<Vec<_>>()
                    .join(" ")
            }
        };
        self
    }
}
