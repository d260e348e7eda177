//! Scores verdicts and findings against the corpus truth.

use std::collections::BTreeMap;

use serde::Serialize;
use vigil_core::{EntityKind, Finding, Verdict};

use crate::Truth;

/// Document-level counts and entity recall by type.
#[derive(Debug, Default, Clone, Serialize)]
pub struct Scoreboard {
    pub documents: usize,
    pub pages: usize,
    pub true_positives: usize,
    pub false_positives: usize,
    pub false_negatives: usize,
    pub true_negatives: usize,
    pub errors: usize,
    /// False positives on blank templates (the `blank_application` layout).
    pub blank_template_false_positives: usize,
    /// Per entity type: (planted, found).
    pub entities: BTreeMap<String, (usize, usize)>,
    /// Per layout: (documents, wrong verdicts).
    pub layouts: BTreeMap<String, (usize, usize)>,
}

impl Scoreboard {
    /// Adds one document: its truth, the verdict, the findings and the page texts the
    /// findings' offsets refer to.
    pub fn add(&mut self, truth: &Truth, verdict: Verdict, findings: &[Finding], pages: &[String]) {
        self.documents += 1;
        self.pages += pages.len();
        let said_pii = verdict == Verdict::Pii;
        let wrong = match (verdict, truth.pii) {
            (Verdict::Error, _) => {
                self.errors += 1;
                // An unreadable document is a miss if it held personal data.
                if truth.pii {
                    self.false_negatives += 1;
                }
                truth.pii
            }
            (_, true) if said_pii => {
                self.true_positives += 1;
                false
            }
            (_, true) => {
                self.false_negatives += 1;
                true
            }
            (_, false) if said_pii => {
                self.false_positives += 1;
                if truth.layout == "blank_application" {
                    self.blank_template_false_positives += 1;
                }
                true
            }
            _ => {
                self.true_negatives += 1;
                false
            }
        };
        let layout = self.layouts.entry(truth.layout.clone()).or_default();
        layout.0 += 1;
        layout.1 += usize::from(wrong);

        for planted in &truth.entities {
            let entry = self
                .entities
                .entry(planted.kind.as_str().to_owned())
                .or_default();
            entry.0 += 1;
            let text = pages
                .get(planted.page as usize - 1)
                .map_or("", String::as_str);
            if found(planted.kind, &planted.value, text, planted.page, findings) {
                entry.1 += 1;
            }
        }
    }

    pub fn precision(&self) -> f64 {
        ratio(
            self.true_positives,
            self.true_positives + self.false_positives,
        )
    }

    pub fn recall(&self) -> f64 {
        ratio(
            self.true_positives,
            self.true_positives + self.false_negatives,
        )
    }

    pub fn f1(&self) -> f64 {
        let (p, r) = (self.precision(), self.recall());
        if p + r == 0.0 {
            0.0
        } else {
            2.0 * p * r / (p + r)
        }
    }
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 { 0.0 } else { a as f64 / b as f64 }
}

/// A planted value counts as found when a finding of its type on its page overlaps one
/// of the value's occurrences in the page text (whitespace in the value may be a line
/// break in the text).
fn found(kind: EntityKind, value: &str, text: &str, page: u32, findings: &[Finding]) -> bool {
    let chars: Vec<char> = text.chars().collect();
    let want: Vec<char> = value.chars().collect();
    if want.is_empty() {
        return false;
    }
    let same = |a: char, b: char| a == b || (a.is_whitespace() && b.is_whitespace());
    (0..chars.len().saturating_sub(want.len() - 1))
        .filter(|&i| want.iter().enumerate().all(|(j, &c)| same(chars[i + j], c)))
        .any(|i| {
            let (s, e) = (i, i + want.len());
            findings
                .iter()
                .any(|f| f.kind == kind && f.page == page && f.start < e && s < f.end)
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::TruthEntity;
    use vigil_core::Detector;

    fn finding(kind: EntityKind, start: usize, end: usize) -> Finding {
        Finding {
            kind,
            start,
            end,
            page: 1,
            score: 0.9,
            detector: Detector::Recognizer,
            masked: String::new(),
            evidence: Vec::new(),
            ocr_confidence: None,
        }
    }

    #[test]
    fn counts_verdicts_and_entity_recall() {
        let truth = Truth {
            file: "a.pdf".into(),
            layout: "application".into(),
            pii: true,
            entities: vec![
                TruthEntity {
                    kind: EntityKind::Ssn,
                    page: 1,
                    value: "536-22-8726".into(),
                },
                TruthEntity {
                    kind: EntityKind::Person,
                    page: 1,
                    value: "Mary Jones".into(),
                },
            ],
        };
        let pages = vec!["Name: Mary Jones\nSSN: 536-22-8726\n".to_owned()];
        let mut board = Scoreboard::default();
        board.add(
            &truth,
            Verdict::Pii,
            &[finding(EntityKind::Ssn, 22, 33)],
            &pages,
        );
        assert_eq!(board.true_positives, 1);
        assert_eq!(board.entities["SSN"], (1, 1));
        assert_eq!(board.entities["PERSON"], (1, 0));
        let blank = Truth {
            pii: false,
            layout: "blank_application".into(),
            entities: vec![],
            ..truth
        };
        board.add(&blank, Verdict::Pii, &[], &pages);
        assert_eq!(board.blank_template_false_positives, 1);
        assert!((board.precision() - 0.5).abs() < 1e-9);
        assert!((board.recall() - 1.0).abs() < 1e-9);
    }
}
