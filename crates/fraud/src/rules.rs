//! Rules and outcomes in the manner of Amazon Fraud Detector: rules evaluated in order
//! (`FIRST_MATCHED` stops at the first match, `ALL_MATCHED` collects every match), each
//! with an outcome; an event that no rule matches gets the default outcome.
//!
//! ```toml
//! mode = "FIRST_MATCHED"
//! default_outcome = "approve"
//!
//! [lists]
//! deny_card_bins = ["400000"]
//! deny_email_domains = ["fraudmail.example"]
//! allow_emails = ["vip@example.com"]
//!
//! [[rule]]
//! name = "deny_listed"
//! in_list = ["deny_card_bins", "deny_emails", "deny_email_domains", "deny_ips"]
//! outcome = "block"
//!
//! [[rule]]
//! name = "high_score"
//! min_score = 900
//! outcome = "block"
//!
//! [[rule]]
//! name = "card_testing"
//! outcome = "review"
//! features = [{ name = "count_1h", min = 3 }, { name = "amount", max = 5 }]
//! ```

use std::collections::HashSet;

use serde::{Deserialize, Serialize};
use vigil_core::{Outcome, RuleResult};

use crate::Error;
use crate::features::{Features, feature_index};
use crate::input::Event;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Mode {
    #[default]
    #[serde(rename = "FIRST_MATCHED")]
    FirstMatched,
    #[serde(rename = "ALL_MATCHED")]
    AllMatched,
}

/// Allow and deny lists. Values are compared case-insensitively.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lists {
    #[serde(default)]
    pub allow_card_bins: Vec<String>,
    #[serde(default)]
    pub allow_emails: Vec<String>,
    #[serde(default)]
    pub allow_email_domains: Vec<String>,
    #[serde(default)]
    pub allow_ips: Vec<String>,
    #[serde(default)]
    pub deny_card_bins: Vec<String>,
    #[serde(default)]
    pub deny_emails: Vec<String>,
    #[serde(default)]
    pub deny_email_domains: Vec<String>,
    #[serde(default)]
    pub deny_ips: Vec<String>,
}

/// A threshold on one feature.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeatureBound {
    pub name: String,
    pub min: Option<f32>,
    pub max: Option<f32>,
}

/// A rule as written in the file: every condition given must hold.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSpec {
    pub name: String,
    pub outcome: Outcome,
    /// Words for the analyst; defaults to the rule's name.
    pub description: Option<String>,
    pub min_score: Option<f64>,
    pub max_score: Option<f64>,
    #[serde(default)]
    pub features: Vec<FeatureBound>,
    /// The event matches when it is on any of these lists.
    #[serde(default)]
    pub in_list: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
struct RulesFile {
    #[serde(default)]
    mode: Mode,
    default_outcome: Outcome,
    #[serde(default)]
    lists: Lists,
    #[serde(default, rename = "rule")]
    rules: Vec<RuleSpec>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ListKind {
    CardBin,
    Email,
    EmailDomain,
    Ip,
}

struct Rule {
    name: String,
    outcome: Outcome,
    description: String,
    min_score: Option<f64>,
    max_score: Option<f64>,
    features: Vec<(usize, f32, f32)>,
    lists: Vec<(ListKind, HashSet<String>)>,
}

/// A checked rule set, ready to evaluate.
pub struct Rules {
    mode: Mode,
    default_outcome: Outcome,
    rules: Vec<Rule>,
}

/// What the rules decided.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    pub outcome: Outcome,
    pub rule_results: Vec<RuleResult>,
    /// Descriptions of the matched rules.
    pub reasons: Vec<String>,
}

/// The rules Vigil ships with (`rules/default.toml`).
pub const DEFAULT_RULES: &str = include_str!("../rules/default.toml");

/// Whether `value`, trimmed and in lower case, is in `values` (which `lower_set` made). Every
/// event meets every list rule, and lists are mostly empty or short: this allocates only
/// for a value with capitals in it.
fn listed(values: &HashSet<String>, value: &str) -> bool {
    if values.is_empty() {
        return false;
    }
    let value = value.trim();
    if value.bytes().any(|b| b.is_ascii_uppercase()) {
        values.contains(&value.to_ascii_lowercase())
    } else {
        values.contains(value)
    }
}

fn lower_set(values: &[String]) -> HashSet<String> {
    values
        .iter()
        .map(|v| v.trim().to_ascii_lowercase())
        .collect()
}

impl Rules {
    pub fn default_rules() -> Self {
        Self::parse(DEFAULT_RULES).expect("the shipped rules are valid")
    }

    /// Parses and checks a rules file: unknown keys, features and lists are errors.
    pub fn parse(text: &str) -> Result<Self, Error> {
        let file: RulesFile = toml::from_str(text).map_err(|e| Error::Rules(e.to_string()))?;
        let mut rules = Vec::new();
        let mut names = HashSet::new();
        for spec in file.rules {
            if !names.insert(spec.name.clone()) {
                return Err(Error::Rules(format!(
                    "rule `{}` is defined twice",
                    spec.name
                )));
            }
            let mut features = Vec::new();
            for b in &spec.features {
                let index = feature_index(&b.name).ok_or_else(|| {
                    Error::Rules(format!(
                        "rule `{}`: unknown feature `{}`",
                        spec.name, b.name
                    ))
                })?;
                if b.min.is_none() && b.max.is_none() {
                    return Err(Error::Rules(format!(
                        "rule `{}`: feature `{}` needs min or max",
                        spec.name, b.name
                    )));
                }
                features.push((
                    index,
                    b.min.unwrap_or(f32::NEG_INFINITY),
                    b.max.unwrap_or(f32::INFINITY),
                ));
            }
            let mut lists = Vec::new();
            for name in &spec.in_list {
                let l = &file.lists;
                let (kind, values) = match name.as_str() {
                    "allow_card_bins" => (ListKind::CardBin, &l.allow_card_bins),
                    "allow_emails" => (ListKind::Email, &l.allow_emails),
                    "allow_email_domains" => (ListKind::EmailDomain, &l.allow_email_domains),
                    "allow_ips" => (ListKind::Ip, &l.allow_ips),
                    "deny_card_bins" => (ListKind::CardBin, &l.deny_card_bins),
                    "deny_emails" => (ListKind::Email, &l.deny_emails),
                    "deny_email_domains" => (ListKind::EmailDomain, &l.deny_email_domains),
                    "deny_ips" => (ListKind::Ip, &l.deny_ips),
                    other => {
                        return Err(Error::Rules(format!(
                            "rule `{}`: unknown list `{other}`",
                            spec.name
                        )));
                    }
                };
                // An empty list matches nothing; leaving it out saves work per event.
                if !values.is_empty() {
                    lists.push((kind, lower_set(values)));
                }
            }
            if spec.min_score.is_none()
                && spec.max_score.is_none()
                && features.is_empty()
                && spec.in_list.is_empty()
            {
                return Err(Error::Rules(format!(
                    "rule `{}` has no condition",
                    spec.name
                )));
            }
            if !spec.in_list.is_empty() && lists.is_empty() {
                continue; // only empty lists: it can never match
            }
            rules.push(Rule {
                description: spec
                    .description
                    .clone()
                    .unwrap_or_else(|| spec.name.replace('_', " ")),
                name: spec.name,
                outcome: spec.outcome,
                min_score: spec.min_score,
                max_score: spec.max_score,
                features,
                lists,
            });
        }
        Ok(Self {
            mode: file.mode,
            default_outcome: file.default_outcome,
            rules,
        })
    }

    fn matches(rule: &Rule, score: f64, x: &Features, e: &Event) -> bool {
        if rule.min_score.is_some_and(|m| score < m) || rule.max_score.is_some_and(|m| score >= m) {
            return false;
        }
        if !rule
            .features
            .iter()
            .all(|(i, lo, hi)| x[*i] >= *lo && x[*i] <= *hi)
        {
            return false;
        }
        if rule.lists.is_empty() {
            return true;
        }
        rule.lists.iter().any(|(kind, values)| {
            let value = match kind {
                ListKind::CardBin => &e.card_bin,
                ListKind::Email => &e.email,
                ListKind::EmailDomain => e.email.rsplit_once('@').map_or("", |(_, d)| d),
                ListKind::Ip => &e.ip_address,
            };
            listed(values, value)
        })
    }

    /// Applies the rules to a scored event.
    pub fn decide(&self, score: f64, x: &Features, e: &Event) -> Decision {
        let mut decision = Decision {
            outcome: self.default_outcome,
            rule_results: Vec::new(),
            reasons: Vec::new(),
        };
        let mut matched: Option<Outcome> = None;
        for rule in &self.rules {
            if !Self::matches(rule, score, x, e) {
                continue;
            }
            decision.rule_results.push(RuleResult {
                rule: rule.name.clone(),
                outcomes: vec![rule.outcome.to_string()],
            });
            decision.reasons.push(rule.description.clone());
            // With ALL_MATCHED the outcome is the first match's, as Fraud Detector reports
            // every match but acts on the first.
            matched.get_or_insert(rule.outcome);
            if self.mode == Mode::FirstMatched {
                break;
            }
        }
        if let Some(outcome) = matched {
            decision.outcome = outcome;
        }
        decision
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::features::N_FEATURES;

    fn event(email: &str, bin: &str) -> Event {
        Event {
            event_id: "e".into(),
            entity_id: "c".into(),
            time: 0,
            amount: 3.0,
            category: "misc_net".into(),
            ip_address: "1.2.3.4".into(),
            user_agent: "ua".into(),
            card_bin: bin.into(),
            billing_state: "VA".into(),
            email: email.into(),
        }
    }

    #[test]
    fn shipped_rules_parse() {
        let r = Rules::default_rules();
        assert!(!r.rules.is_empty());
        assert_eq!(r.default_outcome, Outcome::Approve);
    }

    #[test]
    fn first_matched_lists_scores_features_and_default() {
        let rules = Rules::parse(
            r#"
            default_outcome = "approve"
            [lists]
            deny_email_domains = ["Bad.example"]
            allow_card_bins = ["111111"]
            [[rule]]
            name = "allowed"
            in_list = ["allow_card_bins"]
            outcome = "approve"
            [[rule]]
            name = "denied"
            in_list = ["deny_email_domains"]
            outcome = "block"
            [[rule]]
            name = "high"
            min_score = 900
            outcome = "block"
            [[rule]]
            name = "card_testing"
            description = "several small amounts within an hour"
            features = [{ name = "count_1h", min = 3 }, { name = "amount", max = 5 }]
            outcome = "review"
            "#,
        )
        .unwrap();
        let mut x = [0f32; N_FEATURES];
        let d = rules.decide(950.0, &x, &event("a@bad.EXAMPLE", "2"));
        assert_eq!((d.outcome, d.rule_results.len()), (Outcome::Block, 1));
        assert_eq!(d.rule_results[0].rule, "denied");
        // Lists compare trimmed and in lower case, with capitals in the value or not.
        for (email, bin, rule) in [
            ("a@b.c", "111111", "allowed"),
            ("a@b.c", " 111111 ", "allowed"),
            ("a@bad.example", "2", "denied"),
            ("a@ Bad.Example ", "2", "denied"),
        ] {
            let d = rules.decide(10.0, &x, &event(email, bin));
            assert_eq!(d.rule_results[0].rule, rule, "{email} {bin}");
        }
        let d = rules.decide(10.0, &x, &event("a@b.c", "1111112"));
        assert!(d.rule_results.is_empty());
        assert_eq!(
            rules.decide(950.0, &x, &event("a@b.c", "2")).rule_results[0].rule,
            "high"
        );
        x[feature_index("count_1h").unwrap()] = 4.0;
        x[0] = 2.0;
        let d = rules.decide(10.0, &x, &event("a@b.c", "2"));
        assert_eq!(d.outcome, Outcome::Review);
        assert_eq!(
            d.reasons,
            vec!["several small amounts within an hour".to_owned()]
        );
        x[0] = 50.0;
        let d = rules.decide(10.0, &x, &event("a@b.c", "2"));
        assert_eq!((d.outcome, d.rule_results.len()), (Outcome::Approve, 0));
    }

    #[test]
    fn all_matched_reports_every_match() {
        let rules = Rules::parse(
            r#"
            mode = "ALL_MATCHED"
            default_outcome = "review"
            [[rule]]
            name = "a"
            min_score = 100
            outcome = "block"
            [[rule]]
            name = "b"
            min_score = 50
            outcome = "review"
            "#,
        )
        .unwrap();
        let x = [0f32; N_FEATURES];
        let d = rules.decide(200.0, &x, &event("a@b.c", "1"));
        assert_eq!(d.outcome, Outcome::Block);
        assert_eq!(d.rule_results.len(), 2);
        assert_eq!(
            rules.decide(10.0, &x, &event("a@b.c", "1")).outcome,
            Outcome::Review
        );
    }

    #[test]
    fn bad_rule_files_are_clear_errors() {
        let cases = [
            ("default_outcome = \"deny\"", "deny"),
            (
                "default_outcome = \"approve\"\n[[rule]]\nname = \"x\"\noutcome = \"block\"",
                "no condition",
            ),
            (
                "default_outcome = \"approve\"\n[[rule]]\nname = \"x\"\noutcome = \"block\"\nfeatures = [{ name = \"nope\", min = 1 }]",
                "unknown feature `nope`",
            ),
            (
                "default_outcome = \"approve\"\n[[rule]]\nname = \"x\"\noutcome = \"block\"\nin_list = [\"deny_phones\"]",
                "unknown list",
            ),
            ("default_outcome = \"approve\"\ncolour = 1", "colour"),
            (
                "mode = \"SOME_MATCHED\"\ndefault_outcome = \"approve\"",
                "SOME_MATCHED",
            ),
        ];
        for (text, expected) in cases {
            let err = Rules::parse(text).err().unwrap().to_string();
            assert!(err.contains(expected), "{text}: {err}");
        }
    }
}
