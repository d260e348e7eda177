//! Scoring one event: features from the entity's past, the model's score on Fraud
//! Detector's 0–1000 scale, the rules' outcome, and reasons an analyst can read.

use std::time::Instant;

use chrono::DateTime;
use vigil_core::{FraudAssessment, ShadowAssessment};

use crate::features::{
    CATEGORIES, DAYTIME, EntityStore, FEATURE_NAMES, Features, LARGE, N_FEATURES, category_code,
};
use crate::gbdt::{Explainer, sigmoid};
use crate::input::Event;
use crate::model::ModelFile;
use crate::rules::Rules;

/// How many feature reasons each record carries.
pub const TOP_REASONS: usize = 3;

/// Events per [`Scorer::assess_batch`] call in `vigil score` and the benchmark: the
/// scoring Lambda's MSK batch size in `template.yaml`.
pub const BATCH: usize = 500;

pub struct Scorer {
    model: ModelFile,
    explainer: Explainer,
    rules: Rules,
    versions: Option<Versions>,
    shadow: Option<Candidate>,
}

/// The registry ids of a model and rules (`fd.model_version`, `fd.rules_version`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Versions {
    pub model: String,
    pub rules: String,
}

/// A model and rules scored beside the active ones, whose decision is recorded in
/// `fd.shadow` and never acted on. It sees the same features: entity state is the
/// active scorer's, advanced once per event.
pub struct Candidate {
    pub model: ModelFile,
    pub rules: Rules,
    pub versions: Versions,
}

/// The model's view of one event.
#[derive(Debug, Clone, PartialEq)]
pub struct Scored {
    pub features: Features,
    /// Each feature's push on the raw score (log-odds).
    pub contributions: [f32; N_FEATURES],
    /// 0–1000.
    pub score: f64,
}

impl Scorer {
    pub fn new(model: ModelFile, rules: Rules) -> Self {
        let explainer = Explainer::new(model.ensemble.clone());
        Self {
            model,
            explainer,
            rules,
            versions: None,
            shadow: None,
        }
    }

    /// The model and rules Vigil ships, with their version ids.
    pub fn shipped() -> Result<Self, crate::Error> {
        Ok(
            Self::new(crate::model::default_model()?, Rules::default_rules()).with_versions(
                Versions {
                    model: crate::versions::shipped_model_id(),
                    rules: crate::versions::shipped_rules_id(),
                },
            ),
        )
    }

    /// Records `versions` in every assessment.
    pub fn with_versions(mut self, versions: Versions) -> Self {
        self.versions = Some(versions);
        self
    }

    /// Scores `candidate` beside this scorer, into `fd.shadow`.
    pub fn with_shadow(mut self, candidate: Candidate) -> Self {
        self.shadow = Some(candidate);
        self
    }

    pub fn versions(&self) -> Option<&Versions> {
        self.versions.as_ref()
    }

    pub fn shadow(&self) -> Option<&Candidate> {
        self.shadow.as_ref()
    }

    pub fn rules(&self) -> &Rules {
        &self.rules
    }

    pub fn model(&self) -> &ModelFile {
        &self.model
    }

    /// Features and score of `event`, remembering it in the entity's state.
    #[inline]
    pub fn score(&self, store: &mut impl EntityStore, event: &Event) -> Scored {
        let features = store.state(&event.entity_id).observe(event);
        // The contributions sum to the raw score: one pass over the trees gives both.
        let contributions = self.explainer.contributions(&features);
        self.scored(features, contributions)
    }

    fn scored(&self, features: Features, contributions: [f32; N_FEATURES]) -> Scored {
        let p = sigmoid(self.explainer.bias() + contributions.iter().sum::<f32>());
        Scored {
            features,
            contributions,
            score: (f64::from(p) * 100_000.0).round() / 100.0,
        }
    }

    /// The whole scoring step: score, rules, outcome and reasons. The timings are the
    /// original's: `frauddetector_time` is the model's, `proc_time` the whole step's; `ttdf`
    /// (event to decision) is for the caller, who knows when the event arrived.
    pub fn assess(&self, store: &mut impl EntityStore, event: &Event) -> FraudAssessment {
        let began = Instant::now();
        let scored = self.score(store, event);
        let model_time = began.elapsed();
        let mut fd = self.decide(&scored, event);
        fd.proc_time = began.elapsed().as_millis() as u64;
        fd.frauddetector_time = model_time.as_millis() as u64;
        fd
    }

    /// [`Scorer::assess`] for a batch of events, in order: the same assessments (entity
    /// state still advances one event at a time), with the model run over the whole batch
    /// by the blocked kernel. Each event's timings are its share of the batch's.
    pub fn assess_batch<E: AsRef<Event>>(
        &self,
        store: &mut impl EntityStore,
        events: &[E],
    ) -> Vec<FraudAssessment> {
        let began = Instant::now();
        let features: Vec<Features> = events
            .iter()
            .map(|e| store.state(&e.as_ref().entity_id).observe(e.as_ref()))
            .collect();
        let mut contributions = vec![[0f32; N_FEATURES]; events.len()];
        self.explainer
            .contributions_batch(&features, &mut contributions);
        let model_time = began.elapsed();
        let mut out: Vec<FraudAssessment> = features
            .into_iter()
            .zip(contributions)
            .zip(events)
            .map(|((x, c), e)| self.decide(&self.scored(x, c), e.as_ref()))
            .collect();
        let n = events.len().max(1) as u32;
        let (proc_time, model_time) = (began.elapsed() / n, model_time / n);
        for fd in &mut out {
            fd.proc_time = proc_time.as_millis() as u64;
            fd.frauddetector_time = model_time.as_millis() as u64;
        }
        out
    }

    /// Rules, outcome and reasons for a scored event (timings left at zero).
    fn decide(&self, scored: &Scored, event: &Event) -> FraudAssessment {
        let decision = self.rules.decide(scored.score, &scored.features, event);
        let mut reasons = self.reasons(scored, event);
        reasons.extend(decision.reasons);
        let mut model_scores = std::collections::BTreeMap::new();
        model_scores.insert(self.model.name.clone(), scored.score);
        FraudAssessment {
            outcome: decision.outcome,
            model_scores,
            rule_results: decision.rule_results,
            reasons,
            ttdf: 0,
            proc_time: 0,
            frauddetector_time: 0,
            model_version: self.versions.as_ref().map(|v| v.model.clone()),
            rules_version: self.versions.as_ref().map(|v| v.rules.clone()),
            shadow: self
                .shadow
                .as_ref()
                .map(|c| c.assess(&scored.features, event)),
        }
    }

    /// The features that pushed this score up the most, in words.
    pub fn reasons(&self, scored: &Scored, event: &Event) -> Vec<String> {
        let c = &scored.contributions;
        let mut order: Vec<usize> = (0..N_FEATURES).filter(|i| c[*i] > 0.05).collect();
        order.sort_by(|a, b| c[*b].total_cmp(&c[*a]));
        order
            .into_iter()
            .take(TOP_REASONS)
            .map(|i| describe(i, &scored.features, event))
            .collect()
    }
}

impl Candidate {
    /// The candidate's decision on features the active scorer computed.
    fn assess(&self, features: &Features, event: &Event) -> ShadowAssessment {
        let p = sigmoid(self.model.ensemble.predict_raw(features));
        let score = (f64::from(p) * 100_000.0).round() / 100.0;
        let decision = self.rules.decide(score, features, event);
        ShadowAssessment {
            outcome: decision.outcome,
            model_version: self.versions.model.clone(),
            rules_version: self.versions.rules.clone(),
            score,
            rules: decision.rule_results.into_iter().map(|r| r.rule).collect(),
        }
    }
}

fn duration(secs: f32) -> String {
    let s = secs.max(0.0) as u64;
    match s {
        0..=119 => format!("{s} s"),
        120..=7_199 => format!("{} min", s / 60),
        7_200..=172_799 => format!("{} h", s / 3_600),
        _ => format!("{} days", s / 86_400),
    }
}

/// One feature's value in an analyst's words. Never includes personal data.
fn describe(feature: usize, x: &Features, e: &Event) -> String {
    let v = x[feature];
    let category = || {
        CATEGORIES
            .get(category_code(&e.category) as usize)
            .copied()
            .unwrap_or("other")
    };
    match FEATURE_NAMES[feature] {
        "amount" => format!("amount {:.2}", e.amount),
        "category" => format!("category {}", category()),
        "hour" => format!("at {:02}:00 UTC", v as u32),
        "weekday" => {
            let day = DateTime::from_timestamp(e.time, 0)
                .unwrap_or_default()
                .format("%A");
            format!("on a {day}")
        }
        "card_bin" => "card BIN range".into(),
        "state" => "billing state".into(),
        "txn_number" if v == 0.0 => "customer's first transaction".into(),
        "txn_number" => format!("only the customer's transaction no. {}", v as u64 + 1),
        "secs_since_prev" if v < 0.0 => "no earlier transaction".into(),
        "secs_since_prev" => format!("{} since the previous transaction", duration(v)),
        "count_1h" => format!("{} earlier transactions in the last hour", v as u64),
        "amount_1h" => format!("{v:.2} spent in the last hour before this"),
        "count_24h" => format!("{} earlier transactions in the last 24 h", v as u64),
        "amount_24h" => format!("{v:.2} spent in the last 24 h before this"),
        "count_7d" => format!("{} earlier transactions in the last 7 days", v as u64),
        "amount_7d" => format!("{v:.2} spent in the last 7 days before this"),
        "amount_vs_mean" if v < 0.0 => "no spending history".into(),
        "amount_vs_mean" => format!("amount {v:.1}x the customer's mean"),
        "amount_zscore" => format!("amount {v:.1} standard deviations from the customer's usual"),
        "new_ip" if v > 0.5 => "new IP address for the customer".into(),
        "new_ip" => "IP address the customer used before".into(),
        "new_user_agent" if v > 0.5 => "new browser or device for the customer".into(),
        "new_user_agent" => "browser the customer used before".into(),
        "new_category" if v > 0.5 => format!("first purchase in category {}", category()),
        "new_category" => format!("usual category {}", category()),
        "hour_share" if v < 0.0 => "no history of the customer's hours".into(),
        "hour_share" => format!(
            "unusual hour for the customer ({:.0}% of past transactions near it)",
            v * 100.0
        ),
        "categories_24h" => format!("{} categories in the last 24 h", v as u64),
        "amount_vs_max" if v < 0.0 => "no spending history".into(),
        "amount_vs_max" => format!("amount {v:.1}x the customer's largest so far"),
        // The words name the features' own limits, so that they cannot drift apart.
        "night_24h" => format!(
            "{} night-time transactions ({:02}:00-{:02}:00 UTC) in the last 24 h",
            v as u64, DAYTIME.end, DAYTIME.start
        ),
        "large_7d" => format!(
            "{} large transactions (over {LARGE}x the customer's mean) in the last 7 days",
            v as u64
        ),
        other => other.replace('_', " "),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_feature_has_words_without_personal_data() {
        let e = Event {
            event_id: "e".into(),
            entity_id: "123-45-6789".into(),
            time: 1_700_000_000,
            amount: 12.5,
            category: "travel".into(),
            ip_address: "1.2.3.4".into(),
            user_agent: "ua".into(),
            card_bin: "423768".into(),
            billing_state: "VA".into(),
            email: "someone@example.com".into(),
        };
        let x = [1f32; N_FEATURES];
        for i in 0..N_FEATURES {
            let text = describe(i, &x, &e);
            assert!(!text.contains('_'), "{text}");
            for secret in ["123-45", "someone", "1.2.3.4", "423768"] {
                assert!(!text.contains(secret), "{text}");
            }
        }
        assert_eq!(
            describe(
                14,
                &{
                    let mut y = x;
                    y[14] = 14.0;
                    y
                },
                &e
            ),
            "amount 14.0x the customer's mean"
        );
    }
}
