//! Backtests: history replayed in event-time order, with entity state starting empty,
//! under two model-and-rules pairs at once: the active versions and a candidate. The
//! features are computed once per event (they do not depend on the model); each side's
//! model scores the batch with the blocked kernel and its rules decide without allocating.
//! The report counts what each side decided, per rule and per day, what changed between
//! them (with a sample), and, where events carry labels, precision, recall and the fraud
//! amount each would have caught.

use std::collections::BTreeMap;

use serde::Serialize;
use vigil_core::Outcome;

use crate::features::{EntityStore, Features, MemoryStore};
use crate::gbdt::sigmoid;
use crate::input::Event;
use crate::model::ModelFile;
use crate::rules::Rules;
use crate::scorer::Versions;

/// Events scored together.
const BATCH: usize = 512;
/// Changed decisions kept as examples.
pub const SAMPLE: usize = 20;
const DAY: i64 = 86_400;

/// One event of history, with its label (fraud or not) and the outcome recorded when it
/// was scored, where known.
#[derive(Debug, Clone)]
pub struct Item {
    pub event: Event,
    pub label: Option<bool>,
    pub recorded: Option<Outcome>,
}

/// A model and rules to replay.
pub struct Side<'a> {
    pub model: &'a ModelFile,
    pub rules: &'a Rules,
    pub versions: Versions,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Labelled {
    pub fraud: u64,
    pub legit: u64,
    /// Fraud sent to review or blocked.
    pub fraud_flagged: u64,
    /// Legitimate transactions sent to review or blocked.
    pub legit_flagged: u64,
    pub fraud_blocked: u64,
    /// Of the flagged with a label, the share that is fraud.
    pub precision: Option<f64>,
    /// Of the fraud, the share flagged.
    pub recall: Option<f64>,
    pub fraud_amount: f64,
    pub fraud_amount_flagged: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RuleHits {
    pub rule: String,
    pub hits: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SideReport {
    pub model_version: String,
    pub rules_version: String,
    pub outcomes: BTreeMap<Outcome, u64>,
    /// In the rules' order; with FIRST_MATCHED only the deciding rule counts.
    pub rule_hits: Vec<RuleHits>,
    /// Reviews and blocks per day (UTC), `YYYY-MM-DD`.
    pub alerts_per_day: BTreeMap<String, u64>,
    pub labelled: Option<Labelled>,
}

/// A decision the candidate changes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Change {
    pub event_id: String,
    pub event_time: String,
    pub amount: f64,
    pub active: Outcome,
    pub candidate: Outcome,
    pub active_score: f64,
    pub candidate_score: f64,
    /// The candidate's matched rules.
    pub candidate_rules: Vec<String>,
    pub label: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub events: u64,
    /// RFC 3339; none without events.
    pub from: Option<String>,
    pub to: Option<String>,
    /// The outcomes recorded in the history (an archive's `fd.outcome`), where known.
    pub recorded: Option<BTreeMap<Outcome, u64>>,
    pub active: SideReport,
    pub candidate: SideReport,
    /// `"approve→block"` and the like: how many decisions moved each way.
    pub changed: BTreeMap<String, u64>,
    /// The first [`SAMPLE`] changed decisions, in event-time order.
    pub changed_sample: Vec<Change>,
}

/// The model's score on Fraud Detector's 0–1000 scale, as the scorer rounds it.
fn score(raw: f32) -> f64 {
    (f64::from(sigmoid(raw)) * 100_000.0).round() / 100.0
}

fn time_text(secs: i64) -> String {
    chrono::DateTime::from_timestamp(secs, 0)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn day_text(day: i64) -> String {
    chrono::DateTime::from_timestamp(day * DAY, 0)
        .unwrap_or_default()
        .format("%Y-%m-%d")
        .to_string()
}

/// Counts kept while replaying one side.
struct Tally<'a> {
    side: &'a Side<'a>,
    outcomes: BTreeMap<Outcome, u64>,
    hits: Vec<u64>,
    per_day: BTreeMap<i64, u64>,
    labelled: Labelled,
    any_label: bool,
}

impl<'a> Tally<'a> {
    fn new(side: &'a Side<'a>) -> Self {
        Self {
            side,
            outcomes: BTreeMap::new(),
            hits: vec![0; side.rules.rule_names().count()],
            per_day: BTreeMap::new(),
            labelled: Labelled::default(),
            any_label: false,
        }
    }

    /// Decides `item` and counts it; returns the outcome.
    fn decide(&mut self, item: &Item, x: &Features, score: f64) -> Outcome {
        let hits = &mut self.hits;
        let outcome = self
            .side
            .rules
            .evaluate(score, x, &item.event, |i| hits[i] += 1);
        *self.outcomes.entry(outcome).or_default() += 1;
        let flagged = outcome != Outcome::Approve;
        if flagged {
            *self
                .per_day
                .entry(item.event.time.div_euclid(DAY))
                .or_default() += 1;
        }
        if let Some(fraud) = item.label {
            self.any_label = true;
            let l = &mut self.labelled;
            if fraud {
                l.fraud += 1;
                l.fraud_amount += item.event.amount;
                if flagged {
                    l.fraud_flagged += 1;
                    l.fraud_amount_flagged += item.event.amount;
                }
                l.fraud_blocked += u64::from(outcome == Outcome::Block);
            } else {
                l.legit += 1;
                l.legit_flagged += u64::from(flagged);
            }
        }
        outcome
    }

    fn report(self) -> SideReport {
        let mut labelled = self.labelled;
        let flagged = labelled.fraud_flagged + labelled.legit_flagged;
        labelled.precision = (flagged > 0).then(|| labelled.fraud_flagged as f64 / flagged as f64);
        labelled.recall =
            (labelled.fraud > 0).then(|| labelled.fraud_flagged as f64 / labelled.fraud as f64);
        SideReport {
            model_version: self.side.versions.model.clone(),
            rules_version: self.side.versions.rules.clone(),
            outcomes: self.outcomes,
            rule_hits: self
                .side
                .rules
                .rule_names()
                .zip(self.hits)
                .map(|(rule, hits)| RuleHits {
                    rule: rule.to_owned(),
                    hits,
                })
                .collect(),
            alerts_per_day: self
                .per_day
                .into_iter()
                .map(|(d, n)| (day_text(d), n))
                .collect(),
            labelled: self.any_label.then_some(labelled),
        }
    }
}

/// Replays `items` (sorted here by event time; equal times keep their order) under both
/// sides, calling `progress` with the events done after each batch.
pub fn replay(
    mut items: Vec<Item>,
    active: &Side<'_>,
    candidate: &Side<'_>,
    mut progress: impl FnMut(usize),
) -> Report {
    items.sort_by_key(|i| i.event.time);
    let mut store = MemoryStore::default();
    let (mut a, mut c) = (Tally::new(active), Tally::new(candidate));
    let mut recorded: BTreeMap<Outcome, u64> = BTreeMap::new();
    let mut any_recorded = false;
    let mut changed: BTreeMap<String, u64> = BTreeMap::new();
    let mut sample = Vec::new();
    let mut features: Vec<Features> = Vec::with_capacity(BATCH);
    let (mut raw_a, mut raw_c) = (vec![0f32; BATCH], vec![0f32; BATCH]);
    let same_model = std::ptr::eq(active.model, candidate.model);
    let mut done = 0;
    for chunk in items.chunks(BATCH) {
        features.clear();
        features.extend(
            chunk
                .iter()
                .map(|i| store.state(&i.event.entity_id).observe(&i.event)),
        );
        let n = chunk.len();
        active
            .model
            .ensemble
            .predict_raw_batch(&features, &mut raw_a[..n]);
        if same_model {
            raw_c[..n].copy_from_slice(&raw_a[..n]);
        } else {
            candidate
                .model
                .ensemble
                .predict_raw_batch(&features, &mut raw_c[..n]);
        }
        for (k, item) in chunk.iter().enumerate() {
            let (sa, sc) = (score(raw_a[k]), score(raw_c[k]));
            let oa = a.decide(item, &features[k], sa);
            let oc = c.decide(item, &features[k], sc);
            if let Some(r) = item.recorded {
                any_recorded = true;
                *recorded.entry(r).or_default() += 1;
            }
            if oa != oc {
                *changed.entry(format!("{oa}→{oc}")).or_default() += 1;
                if sample.len() < SAMPLE {
                    let mut rules = Vec::new();
                    candidate
                        .rules
                        .evaluate(sc, &features[k], &item.event, |i| rules.push(i));
                    let names: Vec<&str> = candidate.rules.rule_names().collect();
                    sample.push(Change {
                        event_id: item.event.event_id.clone(),
                        event_time: time_text(item.event.time),
                        amount: item.event.amount,
                        active: oa,
                        candidate: oc,
                        active_score: sa,
                        candidate_score: sc,
                        candidate_rules: rules.into_iter().map(|i| names[i].to_owned()).collect(),
                        label: item.label,
                    });
                }
            }
        }
        done += n;
        progress(done);
    }
    Report {
        events: items.len() as u64,
        from: items.first().map(|i| time_text(i.event.time)),
        to: items.last().map(|i| time_text(i.event.time)),
        recorded: any_recorded.then_some(recorded),
        active: a.report(),
        candidate: c.report(),
        changed,
        changed_sample: sample,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::default_model;
    use crate::scorer::Scorer;

    fn item(i: i64, entity: &str, amount: f64, label: Option<bool>) -> Item {
        Item {
            event: Event {
                event_id: format!("e{i}"),
                entity_id: entity.into(),
                time: 1_700_000_000 + i * 3_000,
                amount,
                category: "shopping_net".into(),
                ip_address: format!("10.0.0.{}", i % 5),
                user_agent: "ua".into(),
                card_bin: "400000".into(),
                billing_state: "VA".into(),
                email: "a@b.c".into(),
            },
            label,
            recorded: None,
        }
    }

    #[test]
    fn the_active_side_decides_as_the_scorer_does() {
        let model = default_model().unwrap();
        let rules = Rules::default_rules();
        let versions = Versions {
            model: "m".into(),
            rules: "r".into(),
        };
        let items: Vec<Item> = (0..2_000)
            .map(|i| {
                let amount = if i % 97 == 0 {
                    2_000.0
                } else {
                    (i % 50) as f64 + 1.0
                };
                item(i, &format!("c{}", i % 37), amount, Some(i % 97 == 0))
            })
            .rev() // out of order: the replay sorts
            .collect();
        let side = || Side {
            model: &model,
            rules: &rules,
            versions: versions.clone(),
        };
        let strict = Rules::parse(
            "default_outcome = \"approve\"\n[[rule]]\nname = \"big\"\nwhen = \"$amount >= 1000\"\noutcome = \"block\"\n",
        )
        .unwrap();
        let candidate = Side {
            model: &model,
            rules: &strict,
            versions: versions.clone(),
        };
        let mut calls = 0;
        let report = replay(items.clone(), &side(), &candidate, |_| calls += 1);
        assert_eq!(calls, 4);
        assert_eq!(report.events, 2_000);

        // The scorer, event by event in time order: the same outcomes.
        let scorer = Scorer::new(default_model().unwrap(), Rules::default_rules());
        let mut store = MemoryStore::default();
        let mut sorted = items;
        sorted.sort_by_key(|i| i.event.time);
        let mut expected: BTreeMap<Outcome, u64> = BTreeMap::new();
        for i in &sorted {
            *expected
                .entry(scorer.assess(&mut store, &i.event).outcome)
                .or_default() += 1;
        }
        assert_eq!(report.active.outcomes, expected);

        let strict_side = &report.candidate;
        assert_eq!(strict_side.rule_hits[0].hits, 21);
        assert_eq!(strict_side.outcomes[&Outcome::Block], 21);
        let l = strict_side.labelled.as_ref().unwrap();
        assert_eq!((l.fraud, l.fraud_flagged, l.legit_flagged), (21, 21, 0));
        assert_eq!((l.precision, l.recall), (Some(1.0), Some(1.0)));
        assert_eq!(l.fraud_amount_flagged, 21.0 * 2_000.0);
        let moved: u64 = report.changed.values().sum();
        let differ = (report
            .active
            .outcomes
            .get(&Outcome::Approve)
            .copied()
            .unwrap_or(0))
        .abs_diff(strict_side.outcomes[&Outcome::Approve]);
        assert!(moved >= differ, "{:?}", report.changed);
        assert!(report.changed_sample.len() <= SAMPLE);
        assert!(
            report
                .changed_sample
                .windows(2)
                .all(|w| w[0].event_time <= w[1].event_time)
        );
    }
}
