//! The reference customers (`ref_data.csv` of the original sample: no header, 13 columns).

use std::io::Read;

use crate::Error;

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
        customers.push(Customer {
            habit: vigil_core::stable_hash(&r[0]),
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
