//! Causal entity features: each event is described using only earlier events of the same
//! entity, then folded into that entity's state. The state is fixed-size (a ring of recent
//! events, a few remembered IP addresses and browsers), so memory stays flat however long
//! the stream runs.

use std::collections::HashMap;

use chrono::{DateTime, Datelike, Timelike};
use serde::{Deserialize, Serialize};

use crate::input::Event;

/// Feature names, in the order of the vector the model sees.
pub const FEATURE_NAMES: [&str; N_FEATURES] = [
    "amount",
    "category",
    "hour",
    "weekday",
    "card_bin",
    "state",
    "txn_number",
    "secs_since_prev",
    "count_1h",
    "amount_1h",
    "count_24h",
    "amount_24h",
    "count_7d",
    "amount_7d",
    "amount_vs_mean",
    "amount_zscore",
    "new_ip",
    "new_user_agent",
    "new_category",
    "hour_share",
    "categories_24h",
    "amount_vs_max",
    "night_24h",
    "large_7d",
];
pub const N_FEATURES: usize = 24;

pub type Features = [f32; N_FEATURES];

/// Index of a feature by name.
pub fn feature_index(name: &str) -> Option<usize> {
    FEATURE_NAMES.iter().position(|n| *n == name)
}

/// Categories of the reference data; others share one code.
pub use vigil_core::PRODUCT_CATEGORIES as CATEGORIES;

const STATES: [&str; 51] = [
    "AK", "AL", "AR", "AZ", "CA", "CO", "CT", "DC", "DE", "FL", "GA", "HI", "IA", "ID", "IL", "IN",
    "KS", "KY", "LA", "MA", "MD", "ME", "MI", "MN", "MO", "MS", "MT", "NC", "ND", "NE", "NH", "NJ",
    "NM", "NV", "NY", "OH", "OK", "OR", "PA", "RI", "SC", "SD", "TN", "TX", "UT", "VA", "VT", "WA",
    "WI", "WV", "WY",
];

pub fn category_code(category: &str) -> u8 {
    let category = category.trim();
    // Most records spell the category exactly; folding case is the fallback.
    CATEGORIES
        .iter()
        .position(|c| *c == category)
        .or_else(|| {
            CATEGORIES
                .iter()
                .position(|c| c.eq_ignore_ascii_case(category))
        })
        .unwrap_or(CATEGORIES.len()) as u8
}

fn state_code(state: &str) -> f32 {
    // STATES is sorted: a binary search on the upper-cased code, no per-candidate folding.
    let code = match state.trim().as_bytes() {
        [a, b] => [a.to_ascii_uppercase(), b.to_ascii_uppercase()],
        _ => return STATES.len() as f32,
    };
    STATES
        .binary_search_by(|s| s.as_bytes().cmp(&code[..]))
        .unwrap_or(STATES.len()) as f32
}

/// The first six digits of a card BIN as a number (issuer ranges are contiguous); -1 if none.
fn bin_number(bin: &str) -> f32 {
    let digits = bin.bytes().filter(u8::is_ascii_digit).take(6);
    let (n, count) = digits.fold((0u32, 0), |(n, k), d| (n * 10 + u32::from(d - b'0'), k + 1));
    if count == 0 { -1.0 } else { n as f32 }
}

const RING: usize = 32;
/// IP addresses and browsers remembered per entity.
const SEEN: usize = 8;
const HOUR: i64 = 3_600;
const DAY: i64 = 24 * HOUR;
/// Day hours (UTC); the rest, 22:00 to 03:59, are night for `night_24h`.
pub(crate) const DAYTIME: std::ops::Range<i64> = 4..22;
fn at_night(time: i64) -> bool {
    !DAYTIME.contains(&(time.rem_euclid(DAY) / HOUR))
}
/// A transaction over this many times the customer's mean counts as large in `large_7d`.
pub(crate) const LARGE: f64 = 3.0;

#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
struct Recent {
    time: i64,
    amount: f32,
    category: u8,
}

/// Remembers the last `SEEN` distinct values (by hash), forgetting the oldest.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct Seen {
    hashes: [u64; SEEN],
    len: u8,
    next: u8,
}

impl Seen {
    fn contains(&self, h: u64) -> bool {
        self.hashes[..self.len as usize].contains(&h)
    }

    fn insert(&mut self, h: u64) {
        if self.contains(h) {
            return;
        }
        self.hashes[self.next as usize] = h;
        self.next = ((self.next as usize + 1) % SEEN) as u8;
        self.len = (self.len as usize + 1).min(SEEN) as u8;
    }
}

/// What Vigil remembers of one entity: a few hundred bytes, whatever its history.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EntityState {
    count: u32,
    mean: f64,
    m2: f64,
    max_amount: f32,
    last_time: i64,
    recent: [Recent; RING],
    head: u8,
    ips: Seen,
    agents: Seen,
    categories: u32,
    hours: [u16; 24],
}

/// What describing and remembering an event both need, computed once.
struct Parts {
    time: i64,
    hour: usize,
    weekday: u32,
    category: u8,
    ip: u64,
    agent: u64,
}

/// Identifies an IP address or user agent in the entity's "seen before" sets. XXH3
/// rather than the byte-at-a-time FNV of `vigil_core::stable_hash`: user agents run to
/// 150 bytes and this is on every transaction's path; XXH3 is a specified algorithm, so
/// hashes kept in the DynamoDB state stay comparable across versions.
fn seen_hash(text: &str) -> u64 {
    twox_hash::XxHash3_64::oneshot(text.as_bytes())
}

impl Parts {
    fn of(e: &Event) -> Self {
        let when = DateTime::from_timestamp(e.time, 0).unwrap_or_default();
        Self {
            time: e.time,
            hour: when.hour() as usize,
            weekday: when.weekday().num_days_from_monday(),
            category: category_code(&e.category),
            ip: seen_hash(&e.ip_address),
            agent: seen_hash(&e.user_agent),
        }
    }
}

impl EntityState {
    /// How many transactions of the entity have been seen.
    pub fn transactions(&self) -> u32 {
        self.count
    }

    /// Describes `event` from this entity's past, then remembers it.
    pub fn observe(&mut self, event: &Event) -> Features {
        let parts = Parts::of(event);
        let features = self.features(event, &parts);
        self.update(event, &parts);
        features
    }

    /// The features of `event` given the past, without remembering it.
    pub fn describe(&self, e: &Event) -> Features {
        self.features(e, &Parts::of(e))
    }

    fn features(&self, e: &Event, p: &Parts) -> Features {
        let (t, hour, category) = (p.time, p.hour, p.category);
        let amount = e.amount as f32;

        // Windows over the recent ring; events later than this one (out of order) are not its past.
        let (mut c1, mut a1, mut c24, mut a24, mut c7, mut a7) =
            (0f32, 0f32, 0f32, 0f32, 0f32, 0f32);
        // A fraud burst repeats itself: night-time and large purchases, one after another.
        let (mut night24, mut large7) = (0f32, 0f32);
        let large = (self.mean * LARGE) as f32;
        let mut categories_24h = 1u32 << category.min(31);
        let filled = (self.count as usize).min(RING);
        for r in &self.recent[..filled] {
            let age = t - r.time;
            if !(0..7 * DAY).contains(&age) {
                continue;
            }
            c7 += 1.0;
            a7 += r.amount;
            large7 += f32::from(r.amount > large);
            if age < DAY {
                c24 += 1.0;
                a24 += r.amount;
                night24 += f32::from(at_night(r.time));
                categories_24h |= 1 << r.category.min(31);
                if age < HOUR {
                    c1 += 1.0;
                    a1 += r.amount;
                }
            }
        }
        let n = self.count as f32;
        let (vs_mean, zscore, vs_max) = if self.count == 0 {
            (-1.0, 0.0, -1.0)
        } else {
            let std = if self.count > 1 {
                (self.m2 / (self.count - 1) as f64).sqrt()
            } else {
                0.0
            };
            let z = if std > 1e-6 {
                ((e.amount - self.mean) / std) as f32
            } else {
                0.0
            };
            (
                (e.amount / self.mean.max(0.01)) as f32,
                z,
                amount / self.max_amount.max(0.01),
            )
        };
        let hour_share = if self.count == 0 {
            -1.0
        } else {
            let around = self.hours[hour] as u32
                + self.hours[(hour + 23) % 24] as u32
                + self.hours[(hour + 1) % 24] as u32;
            around as f32 / self.hours.iter().map(|h| *h as u32).sum::<u32>().max(1) as f32
        };
        [
            amount,
            category as f32,
            hour as f32,
            p.weekday as f32,
            bin_number(&e.card_bin),
            state_code(&e.billing_state),
            n,
            if self.count == 0 {
                -1.0
            } else {
                (t - self.last_time).max(0) as f32
            },
            c1,
            a1,
            c24,
            a24,
            c7,
            a7,
            vs_mean,
            zscore,
            f32::from(!self.ips.contains(p.ip)),
            f32::from(!self.agents.contains(p.agent)),
            f32::from(self.categories & (1 << category.min(31)) == 0),
            hour_share,
            categories_24h.count_ones() as f32,
            vs_max,
            night24,
            large7,
        ]
    }

    fn update(&mut self, e: &Event, p: &Parts) {
        self.count = self.count.saturating_add(1);
        // Welford's running mean and variance.
        let delta = e.amount - self.mean;
        self.mean += delta / self.count as f64;
        self.m2 += delta * (e.amount - self.mean);
        self.max_amount = self.max_amount.max(e.amount as f32);
        self.last_time = self.last_time.max(e.time);
        self.recent[self.head as usize] = Recent {
            time: e.time,
            amount: e.amount as f32,
            category: p.category,
        };
        self.head = ((self.head as usize + 1) % RING) as u8;
        self.ips.insert(p.ip);
        self.agents.insert(p.agent);
        self.categories |= 1 << p.category.min(31);
        let hour = p.hour;
        // Halve the histogram before it saturates, keeping its shape.
        if self.hours[hour] == u16::MAX {
            self.hours.iter_mut().for_each(|h| *h /= 2);
        }
        self.hours[hour] += 1;
    }
}

/// Where entity state lives: memory for local runs and tests; a table on AWS.
pub trait EntityStore {
    /// The state of `entity` (empty for a new one), for reading and updating.
    fn state(&mut self, entity: &str) -> &mut EntityState;
}

/// A stored entity state and the version it was read at.
#[derive(Debug, Clone, PartialEq)]
pub struct Versioned {
    pub state: EntityState,
    pub version: u64,
}

/// What a conditional save did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Saved {
    /// Written; the new version.
    Written(u64),
    /// Someone else wrote the entity since it was read: reload and apply the events again.
    Conflict,
}

/// Entity state kept outside the process (a DynamoDB table on AWS), read per batch and
/// written back with optimistic concurrency, so that two scorers never lose each other's
/// updates.
pub trait StateTable: Send + Sync {
    /// The stored states of `entities`; entities never seen are absent.
    fn load(
        &self,
        entities: &[String],
    ) -> impl std::future::Future<Output = Result<HashMap<String, Versioned>, crate::Error>> + Send;

    /// Writes `state` if the stored version is still `read_version` (`None`: not stored yet).
    fn save(
        &self,
        entity: &str,
        state: &EntityState,
        read_version: Option<u64>,
    ) -> impl std::future::Future<Output = Result<Saved, crate::Error>> + Send;
}

/// Entity state in a hash map: one entry per entity, each a few hundred bytes.
#[derive(Debug, Default, Clone)]
pub struct MemoryStore {
    // foldhash: fast on short keys, and seeded per process so that crafted ids cannot
    // force collisions. hashbrown's map for `entry_ref`: one lookup per event, and a key
    // allocated only for a new entity.
    states: hashbrown::HashMap<String, EntityState, foldhash::fast::RandomState>,
}

impl MemoryStore {
    pub fn len(&self) -> usize {
        self.states.len()
    }

    pub fn is_empty(&self) -> bool {
        self.states.is_empty()
    }

    /// Sets the state of `entity`, as loaded from a [`StateTable`].
    pub fn insert(&mut self, entity: &str, state: EntityState) {
        self.states.insert(entity.to_owned(), state);
    }

    pub fn get(&self, entity: &str) -> Option<&EntityState> {
        self.states.get(entity)
    }
}

impl EntityStore for MemoryStore {
    fn state(&mut self, entity: &str) -> &mut EntityState {
        self.states.entry_ref(entity).or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(t: i64, amount: f64, ip: &str, category: &str) -> Event {
        Event {
            event_id: format!("e{t}"),
            entity_id: "c1".into(),
            time: t,
            amount,
            category: category.into(),
            ip_address: ip.into(),
            user_agent: "ua".into(),
            card_bin: "423768".into(),
            billing_state: "VA".into(),
            email: "a@b.c".into(),
        }
    }

    fn f(features: &Features, name: &str) -> f32 {
        features[feature_index(name).unwrap()]
    }

    #[test]
    fn states_and_bins_code_as_documented() {
        for (i, state) in STATES.iter().enumerate() {
            assert_eq!(state_code(state), i as f32);
            assert_eq!(state_code(&format!(" {} ", state.to_lowercase())), i as f32);
        }
        for unknown in ["", "V", "XX", "VAX", "ÄA"] {
            assert_eq!(state_code(unknown), STATES.len() as f32, "{unknown}");
        }
        assert_eq!(bin_number("423768"), 423_768.0);
        assert_eq!(bin_number("4237-6812"), 423_768.0);
        assert_eq!(bin_number("12"), 12.0);
        assert_eq!(bin_number("n/a"), -1.0);
    }

    #[test]
    fn first_event_has_no_history() {
        let x = EntityState::default().observe(&event(1_700_000_000, 10.0, "1.1.1.1", "home"));
        assert_eq!(f(&x, "txn_number"), 0.0);
        assert_eq!(f(&x, "secs_since_prev"), -1.0);
        assert_eq!(f(&x, "amount_vs_mean"), -1.0);
        assert_eq!(f(&x, "count_24h"), 0.0);
        assert_eq!(f(&x, "card_bin"), 423768.0);
        assert_eq!(f(&x, "category"), 6.0);
    }

    #[test]
    fn windows_counts_and_novelty_use_only_the_past() {
        let mut s = EntityState::default();
        let t0 = 1_700_000_000;
        for i in 0..5 {
            s.observe(&event(t0 + i * 600, 20.0, "1.1.1.1", "home"));
        }
        let x = s.observe(&event(t0 + 3_000 + 60, 280.0, "9.9.9.9", "travel"));
        assert_eq!(f(&x, "txn_number"), 5.0);
        assert_eq!(f(&x, "secs_since_prev"), 660.0);
        assert_eq!(f(&x, "count_1h"), 5.0);
        assert_eq!(f(&x, "amount_1h"), 100.0);
        assert_eq!(f(&x, "amount_vs_mean"), 14.0);
        assert_eq!(f(&x, "new_ip"), 1.0);
        assert_eq!(f(&x, "new_user_agent"), 0.0);
        assert_eq!(f(&x, "new_category"), 1.0);
        assert_eq!(f(&x, "categories_24h"), 2.0);
        // A day later the hour window is empty, the week window is not.
        let y = s.describe(&event(t0 + DAY + 4_000, 20.0, "9.9.9.9", "home"));
        assert_eq!(
            (f(&y, "count_1h"), f(&y, "count_24h"), f(&y, "count_7d")),
            (0.0, 0.0, 6.0)
        );
        assert_eq!(f(&y, "new_ip"), 0.0);
    }

    #[test]
    fn bursts_count_earlier_night_and_large_transactions() {
        let mut s = EntityState::default();
        let midnight = 1_700_006_400; // 2023-11-15T00:00:00Z
        assert_eq!(midnight % DAY, 0);
        // A week of daytime purchases of 20, then a night of large ones.
        for day in 1..=6 {
            s.observe(&event(
                midnight - day * DAY + 12 * HOUR,
                20.0,
                "1.1.1.1",
                "home",
            ));
        }
        let first = s.observe(&event(midnight - 2 * HOUR, 400.0, "1.1.1.1", "home"));
        assert_eq!((f(&first, "night_24h"), f(&first, "large_7d")), (0.0, 0.0));
        s.observe(&event(midnight + HOUR, 20.0, "1.1.1.1", "home"));
        let x = s.observe(&event(midnight + 3 * HOUR, 500.0, "1.1.1.1", "home"));
        // 22:00 and 01:00 were at night; only the 400 was over 3x the mean (~67) then.
        assert_eq!(f(&x, "night_24h"), 2.0);
        assert_eq!(f(&x, "large_7d"), 1.0);
        // Two days on, the night has left the 24 h window, the large one not the week's.
        let y = s.describe(&event(
            midnight + 2 * DAY + 12 * HOUR,
            20.0,
            "1.1.1.1",
            "home",
        ));
        assert_eq!((f(&y, "night_24h"), f(&y, "large_7d")), (0.0, 2.0));
        assert!(at_night(midnight + 22 * HOUR) && at_night(midnight + 3 * HOUR + 3_599));
        assert!(!at_night(midnight + 4 * HOUR) && !at_night(midnight + 21 * HOUR + 3_599));
        assert!(at_night(-1), "times before 1970 wrap the same way");
    }

    #[test]
    fn out_of_order_events_do_not_count_the_future() {
        let mut s = EntityState::default();
        s.observe(&event(2_000_000, 10.0, "1.1.1.1", "home"));
        let x = s.observe(&event(1_000_000, 10.0, "1.1.1.1", "home"));
        assert_eq!(f(&x, "secs_since_prev"), 0.0);
        assert_eq!(f(&x, "count_7d"), 0.0);
    }

    #[test]
    fn state_stays_bounded_and_round_trips() {
        let mut s = EntityState::default();
        for i in 0..10_000 {
            s.observe(&event(
                i * 60,
                5.0,
                &format!("10.0.{}.{}", i / 256 % 256, i % 256),
                "home",
            ));
        }
        let json = serde_json::to_string(&s).unwrap();
        assert!(json.len() < 4_000, "state grew to {} bytes", json.len());
        let back: EntityState = serde_json::from_str(&json).unwrap();
        assert_eq!(back, s);
        assert_eq!(
            std::mem::size_of::<EntityState>(),
            std::mem::size_of_val(&s)
        );
    }

    #[test]
    fn memory_store_keeps_one_state_per_entity() {
        let mut store = MemoryStore::default();
        store.state("a").observe(&event(1, 1.0, "i", "home"));
        store.state("a").observe(&event(2, 1.0, "i", "home"));
        store.state("b").observe(&event(3, 1.0, "i", "home"));
        assert_eq!(store.len(), 2);
        assert_eq!(
            f(
                &store.state("a").describe(&event(4, 1.0, "i", "home")),
                "txn_number"
            ),
            2.0
        );
    }
}
