//! Amounts by category, record assembly and the fraud patterns.

use chrono::{DateTime, Duration, Timelike, Utc};
use rand::Rng;
use rand::seq::SliceRandom;
use vigil_core::Transaction;

use crate::{Customer, FraudPattern};

pub use vigil_core::PRODUCT_CATEGORIES as CATEGORIES;

/// Browsers and tools a customer never uses: what account misuse looks like.
const UNUSUAL_AGENTS: [&str; 5] = [
    "python-requests/2.31.0",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/120.0.0.0 Safari/537.36",
    "curl/8.5.0",
    "Mozilla/5.0 (Linux; Android 6.0; Nexus 5 Build/MRA58N) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/61.0.3163.100 Mobile Safari/537.36",
    "Opera/9.80 (Windows NT 6.1; U; en) Presto/2.8.131 Version/11.11",
];

/// Typical (median) amount per category, in the card's currency.
pub fn median_amount(category: &str) -> f64 {
    match category {
        "travel" => 120.0,
        "shopping_net" => 80.0,
        "shopping_pos" => 70.0,
        "grocery_pos" => 60.0,
        "home" => 55.0,
        "entertainment" | "grocery_net" => 50.0,
        "gas_transport" | "health_fitness" | "misc_pos" => 45.0,
        "kids_pets" | "misc_net" => 40.0,
        "food_dining" => 35.0,
        _ => 30.0,
    }
}

fn round_cents(amount: f64) -> f64 {
    (amount * 100.0).round() / 100.0
}

fn event_time(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

fn random_ip<R: Rng>(rng: &mut R) -> String {
    format!(
        "{}.{}.{}.{}",
        rng.random_range(11..=223),
        rng.random_range(0..=255),
        rng.random_range(0..=255),
        rng.random_range(1..=254)
    )
}

fn event_id<R: Rng>(rng: &mut R) -> String {
    uuid::Builder::from_random_bytes(rng.random())
        .into_uuid()
        .to_string()
}

pub(crate) fn transaction<R: Rng>(
    rng: &mut R,
    c: &Customer,
    at: DateTime<Utc>,
    amount: f64,
    category: &str,
    ip_address: String,
    user_agent: String,
) -> Transaction {
    Transaction {
        transaction_amt: round_cents(amount),
        email_address: c.email.clone(),
        ip_address,
        transaction_currency: c.currency().to_owned(),
        event_id: event_id(rng),
        entity_id: c.entity_id.clone(),
        event_time: event_time(at),
        billing_longitude: c.billing_longitude.clone(),
        billing_state: c.billing_state.clone(),
        user_agent,
        billing_street: c.billing_street.clone(),
        billing_city: c.billing_city.clone(),
        card_bin: c.card_bin.clone(),
        customer_name: c.customer_name.clone(),
        product_category: category.to_owned(),
        customer_job: c.customer_job.clone(),
        phone: c.phone.clone(),
        billing_latitude: c.billing_latitude.clone(),
        billing_zip: c.billing_zip.clone(),
    }
}

/// The records of one pattern occurrence, with their event times.
pub(crate) fn inject<R: Rng>(
    rng: &mut R,
    pattern: FraudPattern,
    c: &Customer,
    at: DateTime<Utc>,
) -> Vec<(Transaction, DateTime<Utc>)> {
    let ip = random_ip(rng);
    let unusual = UNUSUAL_AGENTS[rng.random_range(0..UNUSUAL_AGENTS.len())].to_owned();
    let mut out = Vec::new();
    match pattern {
        FraudPattern::CardTesting => {
            let mut t = at;
            for _ in 0..rng.random_range(3..=6) {
                let amount = rng.random_range(0.5..4.99);
                let category = if rng.random_bool(0.5) {
                    "misc_net"
                } else {
                    "shopping_net"
                };
                let agent = if rng.random_bool(0.5) {
                    unusual.clone()
                } else {
                    c.user_agent().to_owned()
                };
                out.push((
                    transaction(rng, c, t, amount, category, ip.clone(), agent),
                    t,
                ));
                t += Duration::seconds(rng.random_range(2..20));
            }
        }
        FraudPattern::NightHighAmount => {
            // At night (01:00–04:59 UTC): the next such night time from `at` on.
            let night_hour = rng.random_range(1..5);
            let mut t = at
                .with_hour(night_hour)
                .and_then(|t| t.with_minute(rng.random_range(0..60)))
                .unwrap_or(at);
            if t < at {
                t += Duration::days(1);
            }
            let amount = rng.random_range(600.0..2_500.0);
            let category = if rng.random_bool(0.5) {
                "shopping_net"
            } else {
                "misc_net"
            };
            out.push((transaction(rng, c, t, amount, category, ip, unusual), t));
        }
        FraudPattern::CategoryBurst => {
            let mut categories = CATEGORIES;
            categories.shuffle(rng);
            let mut t = at;
            let new_ip = rng.random_bool(0.5);
            for category in categories.iter().take(rng.random_range(4..=6)) {
                let amount = rng.random_range(150.0..900.0);
                let address = if new_ip {
                    ip.clone()
                } else {
                    c.ip_address.clone()
                };
                out.push((
                    transaction(
                        rng,
                        c,
                        t,
                        amount,
                        category,
                        address,
                        c.user_agent().to_owned(),
                    ),
                    t,
                ));
                t += Duration::seconds(rng.random_range(30..180));
            }
        }
    }
    out
}
