//! Rules and outcomes in the manner of Amazon Fraud Detector: rules evaluated in order
//! (`FIRST_MATCHED` stops at the first match, `ALL_MATCHED` collects every match), each
//! with an outcome; an event that no rule matches gets the default outcome. A rule's
//! condition is an expression in Fraud Detector's rule language ([`parser`]), compiled
//! once ([`compile`]); lists are named sets of texts, written in the rules file and/or
//! kept as files beside it that change without a new rules version.
//!
//! ```toml
//! mode = "FIRST_MATCHED"
//! default_outcome = "approve"
//!
//! [lists]
//! deny_email_domains = ["fraudmail.example"]
//! allow_emails = []          # entries may also come from lists/allow_emails.txt
//!
//! [[rule]]
//! name = "deny_listed"
//! when = "$email_domain in @deny_email_domains"
//! outcome = "block"
//!
//! [[rule]]
//! name = "card_testing"
//! description = "several small amounts within an hour"
//! when = "$count_1h >= 3 and $amount <= 5"
//! outcome = "review"
//! ```

mod compile;
mod lexer;
mod parser;

use std::collections::{BTreeMap, HashSet};

use serde::{Deserialize, Serialize};
use vigil_core::{Outcome, RuleResult};

pub use self::compile::variable_names;
use self::compile::{Cond, Facts};
use crate::Error;
use crate::features::Features;
use crate::input::Event;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Mode {
    #[default]
    #[serde(rename = "FIRST_MATCHED")]
    FirstMatched,
    #[serde(rename = "ALL_MATCHED")]
    AllMatched,
}

/// A rule as written in the file.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleSpec {
    name: String,
    outcome: Outcome,
    /// Words for the analyst; defaults to the rule's name.
    description: Option<String>,
    /// The condition, in Fraud Detector's rule language.
    when: toml::Spanned<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
struct RulesFile {
    #[serde(default)]
    mode: Mode,
    default_outcome: Outcome,
    #[serde(default)]
    lists: BTreeMap<String, Vec<String>>,
    #[serde(default, rename = "rule")]
    rules: Vec<RuleSpec>,
}

struct Rule {
    name: String,
    outcome: Outcome,
    description: String,
    when: Cond,
}

/// A checked rule set, ready to evaluate.
pub struct Rules {
    mode: Mode,
    default_outcome: Outcome,
    rules: Vec<Rule>,
    /// List names, in the slots the compiled conditions refer to.
    list_names: Vec<String>,
    /// Each list's entries, trimmed and in lower case.
    lists: Vec<HashSet<String>>,
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
pub const DEFAULT_RULES: &str = include_str!("../../rules/default.toml");

/// Whether `value`, trimmed and in lower case, is in `values` (trimmed and in lower case).
/// Lists are mostly empty or short: this allocates only for a value with capitals in it.
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

/// The entries of a list file: one per line; blank lines and `#` comments are skipped.
pub fn parse_list(text: &str) -> Vec<String> {
    text.lines()
        .map(|line| line.split_once('#').map_or(line, |(entry, _)| entry).trim())
        .filter(|entry| !entry.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Whether `name` may name a list (and its file, `lists/<name>.txt`).
pub fn is_list_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// 1-based line and column (in characters) of a byte offset.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

/// Where in the file an offset within a `when` value is: exact when the value is written
/// without escapes (as expressions mostly are), else the start of the value.
fn file_offset(file: &str, value: &toml::Spanned<String>, offset: usize) -> usize {
    let span = value.span();
    let raw = &file[span.clone()];
    let quote = if raw.starts_with("\"\"\"") || raw.starts_with("'''") {
        3
    } else {
        1
    };
    let mut start = span.start + quote;
    // A newline right after a multi-line string's opening quotes is not part of it.
    if quote == 3 {
        let rest = &file[start..];
        start += if rest.starts_with("\r\n") {
            2
        } else {
            usize::from(rest.starts_with('\n'))
        };
    }
    let written = file.get(start..span.end.saturating_sub(quote));
    if written == Some(value.get_ref().as_str()) {
        start + offset
    } else {
        span.start
    }
}

impl Rules {
    pub fn default_rules() -> Self {
        Self::parse(DEFAULT_RULES).expect("the shipped rules are valid")
    }

    /// Parses and checks a rules file whose lists are all written in it.
    pub fn parse(text: &str) -> Result<Self, Error> {
        Self::parse_with_lists(text, &BTreeMap::new())
    }

    /// Parses and checks a rules file; `files` are lists kept beside it (name → entries),
    /// whose entries join those the file writes for the same name. A rule may use a list
    /// either declares. Unknown keys, variables, functions and lists are errors naming the
    /// line and column.
    pub fn parse_with_lists(
        text: &str,
        files: &BTreeMap<String, Vec<String>>,
    ) -> Result<Self, Error> {
        let file: RulesFile = toml::from_str(text).map_err(|e| Error::Rules(e.to_string()))?;
        let mut all = file.lists.clone();
        for (name, entries) in files {
            all.entry(name.clone())
                .or_default()
                .extend(entries.iter().cloned());
        }
        if let Some(bad) = all.keys().find(|n| !is_list_name(n)) {
            return Err(Error::Rules(format!(
                "list name `{bad}`: use lower-case letters, digits and `_`"
            )));
        }
        let list_names: Vec<String> = all.keys().cloned().collect();
        let lists = all
            .values()
            .map(|entries| {
                entries
                    .iter()
                    .map(|v| v.trim().to_ascii_lowercase())
                    .collect()
            })
            .collect();
        let mut rules = Vec::new();
        let mut names = HashSet::new();
        for spec in file.rules {
            if !names.insert(spec.name.clone()) {
                return Err(Error::Rules(format!(
                    "rule `{}` is defined twice",
                    spec.name
                )));
            }
            let located = |offset: usize, message: String| {
                let (line, column) = line_column(text, file_offset(text, &spec.when, offset));
                Error::RuleExpression {
                    rule: spec.name.clone(),
                    line,
                    column,
                    message,
                }
            };
            let expression = spec.when.get_ref();
            let tokens = lexer::tokens(expression)
                .map_err(|at| located(at, lexer::unexpected_at(expression, at)))?;
            let tree = parser::parse(&tokens, expression.len())
                .map_err(|e| located(e.offset, e.message))?;
            let when = compile::compile(&tree, &list_names)
                .map_err(|e| located(e.span.start, e.message))?;
            rules.push(Rule {
                description: spec
                    .description
                    .clone()
                    .unwrap_or_else(|| spec.name.replace('_', " ")),
                name: spec.name,
                outcome: spec.outcome,
                when,
            });
        }
        Ok(Self {
            mode: file.mode,
            default_outcome: file.default_outcome,
            rules,
            list_names,
            lists,
        })
    }

    /// The rules' names, in order.
    pub fn rule_names(&self) -> impl Iterator<Item = &str> {
        self.rules.iter().map(|r| r.name.as_str())
    }

    /// The lists' names and how many entries each holds.
    pub fn list_sizes(&self) -> impl Iterator<Item = (&str, usize)> {
        self.list_names
            .iter()
            .zip(&self.lists)
            .map(|(n, l)| (n.as_str(), l.len()))
    }

    /// The outcome for a scored event, calling `on_match` with the index (in
    /// [`Rules::rule_names`] order) of each rule that matched; allocates nothing.
    pub fn evaluate(
        &self,
        score: f64,
        x: &Features,
        e: &Event,
        mut on_match: impl FnMut(usize),
    ) -> Outcome {
        let facts = Facts {
            score,
            features: x,
            event: e,
            lists: &self.lists,
        };
        let mut matched: Option<Outcome> = None;
        for (i, rule) in self.rules.iter().enumerate() {
            if !rule.when.eval(&facts) {
                continue;
            }
            on_match(i);
            // With ALL_MATCHED the outcome is the first match's, as Fraud Detector reports
            // every match but acts on the first.
            matched.get_or_insert(rule.outcome);
            if self.mode == Mode::FirstMatched {
                break;
            }
        }
        matched.unwrap_or(self.default_outcome)
    }

    /// Applies the rules to a scored event.
    pub fn decide(&self, score: f64, x: &Features, e: &Event) -> Decision {
        let mut rule_results = Vec::new();
        let mut reasons = Vec::new();
        let outcome = self.evaluate(score, x, e, |i| {
            let rule = &self.rules[i];
            rule_results.push(RuleResult {
                rule: rule.name.clone(),
                outcomes: vec![rule.outcome.to_string()],
            });
            reasons.push(rule.description.clone());
        });
        Decision {
            outcome,
            rule_results,
            reasons,
        }
    }
}

#[cfg(test)]
mod tests;
