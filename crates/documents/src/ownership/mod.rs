//! Whose is a value: a private person's, or an organisation's?
//!
//! A phone number, an e-mail, an account or a network address is personal data only when
//! it belongs to a private individual. [`evidence`] reads the cues around each value (its
//! label, an organisation or a job title next to it, a letterhead repeated on every page,
//! the e-mail's domain, what the document is about); [`model`] weighs them with weights
//! learned from labelled documents of several sources; [`allow`] applies what an
//! organisation declares public. Each decision keeps the evidence that made it.

pub mod allow;
pub mod evidence;
pub mod model;

pub use allow::AllowList;
pub use evidence::{DocumentContext, Evidence, judged};
pub use model::OwnershipModel;

use vigil_core::EntityKind;

use crate::recognizers::Candidate;

/// How many pieces of evidence a finding carries.
const EVIDENCE_SHOWN: usize = 3;

/// The owner of one value, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Judgement {
    pub personal: bool,
    /// The model's probability that the value is a person's (1 for kinds it does not
    /// judge, 0 for allowed values).
    pub probability: f32,
    /// The evidence, in words without values: "business contact: a business label
    /// before it; repeated on 3 pages".
    pub evidence: Vec<String>,
}

/// The models and the allow list together.
#[derive(Debug, Clone)]
pub struct Ownership {
    /// Weighs the evidence on identifiers (phones, e-mails, accounts, network addresses).
    model: OwnershipModel,
    /// Weighs the same evidence on the model's names and addresses: the same cues mean
    /// other things there (many names on a page is a directory; many phones, a table).
    names: OwnershipModel,
    allow: AllowList,
}

impl Default for Ownership {
    fn default() -> Self {
        Ownership {
            model: OwnershipModel::built_in(),
            names: OwnershipModel::built_in_names(),
            allow: AllowList::default(),
        }
    }
}

impl Ownership {
    pub fn new(model: OwnershipModel, names: OwnershipModel, allow: AllowList) -> Self {
        Ownership {
            model,
            names,
            allow,
        }
    }

    pub fn with_allow_list(mut self, allow: AllowList) -> Self {
        self.allow = allow;
        self
    }

    /// Judges candidate `c` on page `page` (0-based) of the document `ctx` describes.
    pub fn judge(
        &self,
        ctx: &DocumentContext<'_>,
        page: usize,
        c: &Candidate,
        value: &str,
    ) -> Judgement {
        if let Some(rule) = self.allow.matches(c.kind, value) {
            return Judgement {
                personal: false,
                probability: 0.0,
                evidence: vec![format!("declared public: {rule}")],
            };
        }
        let model = match c.kind {
            EntityKind::Person | EntityKind::Address => &self.names,
            kind if judged(kind) => &self.model,
            _ => {
                return Judgement {
                    personal: true,
                    probability: 1.0,
                    evidence: Vec::new(),
                };
            }
        };
        let x = ctx.evidence(page, c);
        let probability = model.probability(&x);
        let personal = probability >= model.threshold;
        let reasons: Vec<String> = model
            .deciding(&x)
            .into_iter()
            .take(EVIDENCE_SHOWN)
            .map(|d| describe(d.feature, x[d.feature], ctx, value))
            .collect();
        let head = if personal {
            "personal"
        } else {
            "business contact"
        };
        let evidence = if reasons.is_empty() {
            vec![format!(
                "{head}: no evidence either way (p {probability:.2})"
            )]
        } else {
            vec![format!(
                "{head} (p {probability:.2}): {}",
                reasons.join("; ")
            )]
        };
        Judgement {
            personal,
            probability,
            evidence,
        }
    }
}

/// A feature in words; the repetition with its count.
fn describe(feature: usize, value: f32, ctx: &DocumentContext<'_>, text: &str) -> String {
    let (_, words) = evidence::FEATURES[feature];
    if matches!(
        feature,
        evidence::f::REPEATED_PAGES | evidence::f::REPEATED_ACCOUNT
    ) && value > 0.0
    {
        return format!("repeated on {} pages", ctx.pages_with(text));
    }
    words.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recognizers::recognize;
    use evidence::f;

    /// The evidence and the judgement of every recognized value of a one-page text.
    fn judge_all(text: &str) -> Vec<(String, Evidence, Judgement)> {
        let candidates = vec![recognize(text)];
        let ctx = DocumentContext::new(&[text], &candidates);
        let ownership = Ownership::default();
        candidates[0]
            .iter()
            .map(|c| {
                let value = &text[c.start..c.end];
                (
                    value.to_owned(),
                    ctx.evidence(0, c),
                    ownership.judge(&ctx, 0, c, value),
                )
            })
            .collect()
    }

    #[test]
    fn the_built_in_model_loads_and_matches_the_features() {
        for text in [include_str!("model.json"), include_str!("names.json")] {
            let model = OwnershipModel::from_json(text).expect("the shipped model is valid");
            assert_eq!(model.weights.len(), evidence::N);
            assert!(
                model.weights.iter().any(|w| *w != 0.0),
                "the shipped model is trained"
            );
        }
    }

    #[test]
    fn a_model_of_other_features_is_refused_with_what_to_do() {
        let mut model = OwnershipModel::untrained();
        model.features.pop();
        model.weights.pop();
        let e = OwnershipModel::from_json(&serde_json::to_string(&model).unwrap()).unwrap_err();
        assert!(e.to_string().contains("vigil train-ownership"), "{e}");
    }

    #[test]
    fn evidence_reads_labels_domains_and_letterheads() {
        let text = "Borrower mobile: (412) 555-2147  Email: mary.jones@gmail.com\n";
        let all = judge_all(text);
        assert_eq!(all.len(), 2);
        assert_eq!(all[0].1[f::PERSONAL_LABEL], 1.0);
        assert_eq!(all[1].1[f::FREE_MAIL], 1.0);
        assert!(all.iter().all(|(_, _, j)| j.personal), "{all:?}");

        let text = "Customer Service: 1-800-555-0199 | support@firstbank.com\n";
        let all = judge_all(text);
        assert_eq!(all[0].1[f::BUSINESS_LABEL], 1.0);
        assert_eq!(all[0].1[f::TOLL_FREE], 1.0);
        assert_eq!(all[1].1[f::ROLE_MAILBOX], 1.0);
        assert!(all.iter().all(|(_, _, j)| !j.personal), "{all:?}");
        assert!(all[0].2.evidence[0].starts_with("business contact"));
    }

    #[test]
    fn an_account_heading_every_page_is_a_statements_and_one_in_every_footer_a_business() {
        let body = "Line of the body text\n".repeat(10);
        let header = format!("Account: 12345678\n{body}");
        let footer = format!("{body}IBAN: NL67 DEUT 0265 1909 75\n");
        for (page, feature) in [(header, f::REPEATED_ACCOUNT), (footer, f::REPEATED_PAGES)] {
            let pages = [page.as_str(), page.as_str()];
            let candidates: Vec<_> = pages.iter().map(|t| recognize(t)).collect();
            let ctx = DocumentContext::new(&pages, &candidates);
            let x = ctx.evidence(1, &candidates[1][0]);
            assert!(x[feature] > 0.0, "{page}");
        }
    }

    #[test]
    fn machine_addresses_are_not_a_persons() {
        let text = "2024-03-01T10:00:00Z WARN upstream=10.22.192.155:8080 latency_ms=107\n";
        let all = judge_all(text);
        assert_eq!(all[0].1[f::MACHINE_CONTEXT], 1.0);
        assert!(!all[0].2.personal);
    }

    #[test]
    fn allowed_values_are_set_aside_whatever_the_model_says() {
        let allow = AllowList::parse("values = [\"(412) 555-2147\"]", "test").unwrap();
        let ownership = Ownership::default().with_allow_list(allow);
        let text = "Home phone: (412) 555-2147\n";
        let candidates = vec![recognize(text)];
        let ctx = DocumentContext::new(&[text], &candidates);
        let c = &candidates[0][0];
        assert_eq!(c.kind, EntityKind::Phone);
        let j = ownership.judge(&ctx, 0, c, &text[c.start..c.end]);
        assert!(!j.personal);
        assert_eq!(
            j.evidence,
            vec!["declared public: a value on the allow list"]
        );
    }

    #[test]
    fn training_learns_the_direction_of_evidence() {
        let mut rows = Vec::new();
        let mut labels = Vec::new();
        for i in 0..40 {
            let mut x = [0.0; evidence::N];
            let personal = i % 2 == 0;
            x[if personal {
                f::FREE_MAIL
            } else {
                f::ROLE_MAILBOX
            }] = 1.0;
            rows.push(x);
            labels.push(personal);
        }
        let model = model::train(&rows, &labels, model::TrainParams::default()).unwrap();
        assert!(model.weights[f::FREE_MAIL] > 0.0);
        assert!(model.weights[f::ROLE_MAILBOX] < 0.0);
        assert!(model::train(&rows[..1], &labels[..1], model::TrainParams::default()).is_err());
    }
}
