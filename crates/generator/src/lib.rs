//! Synthetic card transactions: customers drawn from the reference customers
//! (`test_data/ref_data.csv`), fresh UUID event ids, ISO-8601 UTC event times, and fraud
//! patterns injected at a configurable rate so that the pipeline has something to catch.
//!
//! The output is a pure function of the customers and [`GeneratorConfig`]: the same seed
//! and start time give the same records, which makes a retried Lambda invocation
//! reproduce (not duplicate) its records.

mod customers;
mod patterns;

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, Duration, Timelike, Utc};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Exp, LogNormal};
use vigil_core::Transaction;

pub use customers::{Customer, default_customers, read_customers};

/// The one error type of `vigil-generator`.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("reference customers: {0}")]
    Csv(#[from] csv::Error),
    #[error("reference customers: line {line} has {found} columns, expected 13")]
    Columns { line: u64, found: usize },
    #[error("reference customers: none found")]
    NoCustomers,
    #[error("invalid generator setting: {0}")]
    Config(String),
}

/// The fraud patterns the generator injects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FraudPattern {
    /// A burst of tiny amounts from a new IP address: someone checking that a stolen card works.
    CardTesting,
    /// One high amount at night, from a new IP address and user agent.
    NightHighAmount,
    /// A quick run of sizeable purchases across many categories.
    CategoryBurst,
}

impl FraudPattern {
    pub const ALL: [FraudPattern; 3] = [
        FraudPattern::CardTesting,
        FraudPattern::NightHighAmount,
        FraudPattern::CategoryBurst,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            FraudPattern::CardTesting => "card_testing",
            FraudPattern::NightHighAmount => "night_high_amount",
            FraudPattern::CategoryBurst => "category_burst",
        }
    }

    /// Mean number of records one occurrence produces.
    fn mean_len(self) -> f64 {
        match self {
            FraudPattern::CardTesting => 4.5,
            FraudPattern::NightHighAmount => 1.0,
            FraudPattern::CategoryBurst => 5.0,
        }
    }
}

impl fmt::Display for FraudPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A generated transaction and, for injected fraud, the pattern it belongs to (ground
/// truth for the demo's summary; it is not part of the record).
#[derive(Debug, Clone, PartialEq)]
pub struct Generated {
    pub transaction: Transaction,
    pub pattern: Option<FraudPattern>,
    /// Which occurrence of a pattern the record belongs to (numbered from 0 in the order
    /// drawn); none for an ordinary record.
    pub occurrence: Option<u64>,
}

/// What to generate.
#[derive(Debug, Clone, PartialEq)]
pub struct GeneratorConfig {
    /// Share of records that belong to a fraud pattern, 0–1.
    pub fraud_rate: f64,
    pub seed: u64,
    /// Event time of the first record.
    pub start: DateTime<Utc>,
    /// Mean seconds between two customers' transactions.
    pub mean_gap_secs: f64,
}

impl Default for GeneratorConfig {
    fn default() -> Self {
        Self {
            fraud_rate: 0.05,
            seed: 0,
            start: Utc::now(),
            mean_gap_secs: 20.0,
        }
    }
}

impl GeneratorConfig {
    pub fn validate(&self) -> Result<(), Error> {
        if !(0.0..=1.0).contains(&self.fraud_rate) {
            return Err(Error::Config(format!(
                "fraud rate must be between 0 and 1, got {}",
                self.fraud_rate
            )));
        }
        if !(self.mean_gap_secs.is_finite() && self.mean_gap_secs > 0.0) {
            return Err(Error::Config(format!(
                "mean gap must be a positive number of seconds, got {}",
                self.mean_gap_secs
            )));
        }
        Ok(())
    }
}

/// Each UTC hour's activity relative to the day's mean, as in the legitimate transactions
/// of the reference training data (`transactions_train.csv.gz`: about 8,450 an hour from
/// 00:00 to 11:59 and 13,500 from 12:00 to 23:59).
const HOURLY_ACTIVITY: [f64; 24] = [
    0.77, 0.77, 0.77, 0.77, 0.77, 0.77, 0.77, 0.77, 0.77, 0.77, 0.77, 0.77, 1.23, 1.23, 1.23, 1.23,
    1.23, 1.23, 1.23, 1.23, 1.23, 1.23, 1.23, 1.23,
];

/// An endless, deterministic stream of transactions; take as many as needed.
pub struct Generator<'a> {
    customers: &'a [Customer],
    rng: ChaCha8Rng,
    clock: DateTime<Utc>,
    gap: Exp<f64>,
    pattern_start_probability: f64,
    /// Records drawn but not yet due, by event time (then the order drawn): a pattern's
    /// later records, a night-time record waiting for the night. The stream comes out in
    /// event-time order, as a live feed would, with normal records between them.
    scheduled: BTreeMap<(DateTime<Utc>, u64), Generated>,
    drawn: u64,
    occurrences: u64,
}

impl<'a> Generator<'a> {
    pub fn new(customers: &'a [Customer], config: &GeneratorConfig) -> Result<Self, Error> {
        config.validate()?;
        if customers.is_empty() {
            return Err(Error::NoCustomers);
        }
        let mean_len = FraudPattern::ALL.iter().map(|p| p.mean_len()).sum::<f64>()
            / FraudPattern::ALL.len() as f64;
        let rate = config.fraud_rate;
        // Each step either starts a pattern (mean_len records) or emits one normal record;
        // this start probability makes the expected share of fraud records equal `rate`.
        let pattern_start_probability = rate / (mean_len * (1.0 - rate) + rate);
        Ok(Self {
            customers,
            rng: ChaCha8Rng::seed_from_u64(config.seed),
            clock: config.start,
            gap: Exp::new(1.0 / config.mean_gap_secs).map_err(|e| Error::Config(e.to_string()))?,
            pattern_start_probability,
            scheduled: BTreeMap::new(),
            drawn: 0,
            occurrences: 0,
        })
    }

    fn advance(&mut self) -> DateTime<Utc> {
        // Card traffic is busier in the afternoon and evening (UTC) than at night and in the
        // morning: the gap to the next transaction shrinks with the hour's activity.
        let hour = self.clock.hour() as usize;
        let secs: f64 = self.gap.sample(&mut self.rng) / HOURLY_ACTIVITY[hour];
        self.clock += Duration::microseconds((secs * 1e6) as i64);
        self.clock
    }

    fn pick_customer(&mut self) -> &'a Customer {
        &self.customers[self.rng.random_range(0..self.customers.len())]
    }

    fn normal(&mut self) -> Generated {
        let at = self.advance();
        let customer = self.pick_customer();
        let category = customer.category_at(at, &mut self.rng);
        let median = patterns::median_amount(category);
        let amount = LogNormal::new(median.ln(), 0.7)
            .expect("constant parameters are valid")
            .sample(&mut self.rng)
            .clamp(1.0, 5_000.0);
        let txn = patterns::transaction(
            &mut self.rng,
            customer,
            at,
            amount,
            category,
            customer.ip_address.clone(),
            customer.user_agent().to_owned(),
        );
        Generated {
            transaction: txn,
            pattern: None,
            occurrence: None,
        }
    }
}

impl Generator<'_> {
    fn schedule(&mut self, at: DateTime<Utc>, g: Generated) {
        self.scheduled.insert((at, self.drawn), g);
        self.drawn += 1;
    }

    /// One step: a normal record at the next tick, or a pattern's records from it on.
    fn draw(&mut self) {
        if self.rng.random_bool(self.pattern_start_probability) {
            let pattern = FraudPattern::ALL[self.rng.random_range(0..FraudPattern::ALL.len())];
            let at = self.advance();
            let customer = self.pick_customer();
            let occurrence = self.occurrences;
            self.occurrences += 1;
            for (transaction, t) in patterns::inject(&mut self.rng, pattern, customer, at) {
                let g = Generated {
                    transaction,
                    pattern: Some(pattern),
                    occurrence: Some(occurrence),
                };
                self.schedule(t, g);
            }
        } else {
            let g = self.normal();
            self.schedule(self.clock, g);
        }
    }
}

impl Iterator for Generator<'_> {
    type Item = Generated;

    fn next(&mut self) -> Option<Generated> {
        loop {
            if let Some(entry) = self.scheduled.first_entry()
                && entry.key().0 <= self.clock
            {
                return Some(entry.remove());
            }
            self.draw();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(seed: u64, rate: f64) -> GeneratorConfig {
        GeneratorConfig {
            fraud_rate: rate,
            seed,
            start: "2024-01-01T00:00:00Z".parse().unwrap(),
            mean_gap_secs: 20.0,
        }
    }

    #[test]
    fn same_seed_same_records_other_seed_other_records() {
        let customers = default_customers().unwrap();
        let a: Vec<_> = Generator::new(&customers, &config(7, 0.1))
            .unwrap()
            .take(200)
            .collect();
        let b: Vec<_> = Generator::new(&customers, &config(7, 0.1))
            .unwrap()
            .take(200)
            .collect();
        let c: Vec<_> = Generator::new(&customers, &config(8, 0.1))
            .unwrap()
            .take(200)
            .collect();
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn records_are_well_formed_and_drawn_from_reference_customers() {
        let customers = default_customers().unwrap();
        let ids: std::collections::HashSet<_> =
            customers.iter().map(|c| c.entity_id.as_str()).collect();
        let mut event_ids = std::collections::HashSet::new();
        for g in Generator::new(&customers, &config(1, 0.2))
            .unwrap()
            .take(2_000)
        {
            let t = &g.transaction;
            assert!(ids.contains(t.entity_id.as_str()));
            assert!(uuid::Uuid::parse_str(&t.event_id).is_ok());
            assert!(event_ids.insert(t.event_id.clone()), "event ids are unique");
            assert!(t.event_time.ends_with('Z'));
            assert!(DateTime::parse_from_rfc3339(&t.event_time).is_ok());
            assert!(t.transaction_amt > 0.0 && t.transaction_amt.is_finite());
            assert!(patterns::CATEGORIES.contains(&t.product_category.as_str()));
        }
    }

    #[test]
    fn fraud_share_follows_the_rate_and_every_pattern_appears() {
        let customers = default_customers().unwrap();
        let records: Vec<_> = Generator::new(&customers, &config(3, 0.05))
            .unwrap()
            .take(20_000)
            .collect();
        let fraud =
            records.iter().filter(|g| g.pattern.is_some()).count() as f64 / records.len() as f64;
        assert!((0.035..0.065).contains(&fraud), "fraud share {fraud}");
        for p in FraudPattern::ALL {
            assert!(records.iter().any(|g| g.pattern == Some(p)), "{p} missing");
        }
        let none: Vec<_> = Generator::new(&customers, &config(3, 0.0))
            .unwrap()
            .take(5_000)
            .collect();
        assert!(none.iter().all(|g| g.pattern.is_none()));
    }

    #[test]
    fn patterns_have_their_shape() {
        let customers = default_customers().unwrap();
        let records: Vec<_> = Generator::new(&customers, &config(5, 0.3))
            .unwrap()
            .take(5_000)
            .collect();
        for g in &records {
            let t = &g.transaction;
            let customer = customers
                .iter()
                .find(|c| c.entity_id == t.entity_id)
                .unwrap();
            match g.pattern {
                Some(FraudPattern::CardTesting) => {
                    assert!(t.transaction_amt < 5.0);
                    assert_ne!(t.ip_address, customer.ip_address);
                }
                Some(FraudPattern::NightHighAmount) => {
                    assert!(t.transaction_amt >= 600.0);
                    let hour = DateTime::parse_from_rfc3339(&t.event_time)
                        .unwrap()
                        .format("%H")
                        .to_string();
                    assert!(("01".."05").contains(&hour.as_str()), "hour {hour}");
                    assert_ne!(t.user_agent, customer.user_agent());
                }
                Some(FraudPattern::CategoryBurst) => assert!(t.transaction_amt >= 150.0),
                None => {
                    assert_eq!(t.ip_address, customer.ip_address);
                    assert_eq!(t.user_agent, customer.user_agent());
                }
            }
        }
    }

    #[test]
    fn records_come_in_event_time_order() {
        let customers = default_customers().unwrap();
        let times: Vec<String> = Generator::new(&customers, &config(11, 0.2))
            .unwrap()
            .take(5_000)
            .map(|g| g.transaction.event_time)
            .collect();
        assert!(times.windows(2).all(|w| w[0] <= w[1]));
    }

    #[test]
    fn bad_settings_are_clear_errors() {
        let customers = default_customers().unwrap();
        let err = Generator::new(&customers, &config(1, 1.5)).err().unwrap();
        assert!(
            err.to_string()
                .contains("fraud rate must be between 0 and 1")
        );
        let mut c = config(1, 0.1);
        c.mean_gap_secs = 0.0;
        assert!(Generator::new(&customers, &c).is_err());
        assert!(matches!(
            Generator::new(&[], &config(1, 0.1)),
            Err(Error::NoCustomers)
        ));
    }
}
