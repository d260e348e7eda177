//! The reference customers (`ref_data.csv` of the original sample: no header, 13 columns).

use std::io::Read;

use chrono::{DateTime, Utc};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use vigil_core::PRODUCT_CATEGORIES;

use crate::Error;

/// How long a customer keeps to one category. The reference data's customers
/// (`transactions_train.csv.gz`) buy in one category for about two weeks and then move on
/// (14 categories over six months); 91 % of their legitimate purchases are the only
/// category of the customer's last 24 hours. The generator's customers do the same, so the
/// model meets the habits it learned from rather than a customer who shops in every
/// category every day, which it rightly finds odd.
const STRETCH_SECS: f64 = 13.0 * 86_400.0;

/// Share of a stretch at its end in which the next category already appears: about one
/// day in thirteen, as the reference data's 9 % of purchases made next to another
/// category within 24 hours.
const OVERLAP: f64 = 0.08;

/// The reference customers shipped with Vigil, embedded so that the Lambda needs no file.
const REF_DATA: &str = include_str!("../../../test_data/ref_data.csv");

/// Stable, ordinary browsers; each customer keeps one (chosen from a hash of the id).
const USER_AGENTS: [&str; 10] = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:125.0) Gecko/20100101 Firefox/125.0",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/123.0.0.0 Safari/537.36",
    "Mozilla/5.0 (iPad; CPU OS 17_3 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.3 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 Edg/124.0.0.0",
    "Mozilla/5.0 (Linux; Android 13; SM-S911B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/123.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
];

const CURRENCIES: [&str; 4] = ["cad", "eur", "gbp", "usd"];

/// A reference customer, with the habits the generator gives them.
#[derive(Debug, Clone, PartialEq)]
pub struct Customer {
    pub entity_id: String,
    pub card_bin: String,
    pub customer_name: String,
    pub billing_street: String,
    pub billing_city: String,
    pub billing_state: String,
    pub billing_zip: String,
    pub billing_latitude: String,
    pub billing_longitude: String,
    pub customer_job: String,
    pub ip_address: String,
    pub email: String,
    pub phone: String,
    habit: u64,
    /// The order in which this customer moves through the categories.
    categories: [&'static str; PRODUCT_CATEGORIES.len()],
}

impl Customer {
    /// The browser this customer always uses.
    pub fn user_agent(&self) -> &'static str {
        USER_AGENTS[(self.habit % USER_AGENTS.len() as u64) as usize]
    }

    /// Most customers pay in dollars; a few in another currency, always the same one.
    pub fn currency(&self) -> &'static str {
        if (self.habit >> 8) % 100 < 85 {
            "usd"
        } else {
            CURRENCIES[((self.habit >> 16) % 3) as usize]
        }
    }

    /// The category of an ordinary purchase at `at`: the customer's current one, or near
    /// the end of a stretch sometimes already the next.
    pub fn category_at<R: Rng>(&self, at: DateTime<Utc>, rng: &mut R) -> &'static str {
        // Each customer starts their sequence at their own point in time.
        let phase = (self.habit >> 24) as f64 % STRETCH_SECS;
        let position = (at.timestamp() as f64 + phase) / STRETCH_SECS;
        let mut stretch = position.floor();
        if position - stretch > 1.0 - OVERLAP && rng.random_bool(0.5) {
            stretch += 1.0;
        }
        let n = self.categories.len();
        self.categories[(stretch.rem_euclid(n as f64)) as usize % n]
    }
}

/// A customer's own order of the categories, fixed by their id.
fn category_order(habit: u64) -> [&'static str; PRODUCT_CATEGORIES.len()] {
    let mut order = PRODUCT_CATEGORIES;
    order.shuffle(&mut ChaCha8Rng::seed_from_u64(habit));
    order
}

/// Reads customers in the `ref_data.csv` layout.
pub fn read_customers<R: Read>(input: R) -> Result<Vec<Customer>, Error> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(input);
    let mut customers = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let r = record?;
        if r.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        if r.len() != 13 {
            return Err(Error::Columns {
                line: i as u64 + 1,
                found: r.len(),
            });
        }
        let f = |n: usize| r[n].trim().to_owned();
        let habit = vigil_core::stable_hash(&r[0]);
        customers.push(Customer {
            habit,
            categories: category_order(habit),
            entity_id: f(0),
            card_bin: f(1),
            customer_name: f(2),
            billing_street: f(3),
            billing_city: f(4),
            billing_state: f(5),
            billing_zip: f(6),
            billing_latitude: f(7),
            billing_longitude: f(8),
            customer_job: f(9),
            ip_address: f(10),
            email: f(11),
            phone: f(12),
        });
    }
    if customers.is_empty() {
        return Err(Error::NoCustomers);
    }
    Ok(customers)
}

/// The reference customers shipped with Vigil.
pub fn default_customers() -> Result<Vec<Customer>, Error> {
    read_customers(REF_DATA.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_all_reference_customers() {
        let customers = default_customers().unwrap();
        assert_eq!(customers.len(), 3_427);
        assert_eq!(customers[0].entity_id, "269-37-3393");
        assert_eq!(customers[0].email, "davideaton@hotmail.com");
        assert!(customers.iter().any(|c| c.currency() != "usd"));
    }

    #[test]
    fn a_customer_keeps_to_one_category_for_days_and_then_moves_on() {
        let customers = default_customers().unwrap();
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let start: DateTime<Utc> = "2024-01-01T00:00:00Z".parse().unwrap();
        let hourly: Vec<&str> = (0..24 * 180)
            .map(|h| customers[0].category_at(start + chrono::Duration::hours(h), &mut rng))
            .collect();
        let distinct_per_day: Vec<usize> = hourly
            .chunks(24)
            .map(|day| day.iter().collect::<std::collections::HashSet<_>>().len())
            .collect();
        let single = distinct_per_day.iter().filter(|&&n| n == 1).count();
        assert!(
            single * 100 >= distinct_per_day.len() * 80,
            "{single} single-category days"
        );
        assert!(distinct_per_day.iter().all(|&n| n <= 2));
        let all: std::collections::HashSet<_> = hourly.iter().collect();
        assert!(all.len() >= 12, "{} categories in half a year", all.len());
        assert_ne!(customers[0].categories, customers[1].categories);
    }

    #[test]
    fn wrong_column_count_names_the_line() {
        let err = read_customers("a,b,c\n".as_bytes()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "reference customers: line 1 has 3 columns, expected 13"
        );
        assert!(matches!(
            read_customers("".as_bytes()),
            Err(Error::NoCustomers)
        ));
    }
}
