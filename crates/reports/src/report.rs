//! The report's figures, from the results of its queries, whichever engine ran them.

use std::future::Future;
use std::str::FromStr;

use chrono::NaiveDateTime;
use vigil_core::Outcome;

use crate::queries::{self, TimeUnit};
use crate::{Error, Table};

/// Runs one report query: Athena on AWS, DataFusion locally.
pub trait Runner {
    fn run(&mut self, name: &str, sql: &str) -> impl Future<Output = Result<Table, Error>>;
}

/// Counts in `Outcome::ALL` order (approve, review, block).
pub type Counts = [u64; 3];

#[derive(Debug, Clone, PartialEq)]
pub struct Period {
    pub label: String,
    pub counts: Counts,
}

#[derive(Debug, Clone, PartialEq)]
pub struct AmountRow {
    pub outcome: Outcome,
    pub transactions: u64,
    pub total: f64,
    pub mean: f64,
    pub median: f64,
    pub p99: f64,
    pub max: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    pub first_event: String,
    pub last_event: String,
    pub unit: TimeUnit,
    pub totals: Counts,
    pub periods: Vec<Period>,
    pub amounts: Vec<AmountRow>,
    pub bands: Vec<(String, Counts)>,
    pub reasons: Vec<(String, u64)>,
    /// Matches per rule, most first.
    pub rule_hits: Vec<(String, u64)>,
    /// Per rule: labelled transactions matched, of which fraud, and the share.
    pub precision: Vec<(String, u64, u64, f64)>,
    /// A shadow run: active versions, shadow versions, active outcome, shadow outcome, count.
    pub shadow: Vec<[String; 5]>,
    /// The raw results, saved beside the charts.
    pub tables: Vec<Table>,
    /// What the engine skipped or could not read, shown on the page.
    pub notes: Vec<String>,
}

fn index(outcome: Outcome) -> usize {
    match outcome {
        Outcome::Approve => 0,
        Outcome::Review => 1,
        Outcome::Block => 2,
    }
}

fn parse_time(s: &str) -> Option<NaiveDateTime> {
    let s = s.trim().trim_end_matches(" UTC");
    NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f").ok()
}

impl Report {
    pub fn total(&self) -> u64 {
        self.totals.iter().sum()
    }

    /// Share of transactions that raised an alert (`block`) and that need a look (`review`).
    pub fn alert_rate(&self) -> f64 {
        let t = self.total();
        if t == 0 {
            0.0
        } else {
            self.totals[2] as f64 / t as f64
        }
    }

    /// Runs the report's queries and reads their results.
    pub async fn build<R: Runner>(runner: &mut R) -> Result<Report, Error> {
        let span = runner.run("span", queries::SPAN).await?;
        let (first_event, last_event) = if span.rows.is_empty() {
            (String::new(), String::new())
        } else {
            (
                span.text(0, span.column("first_event")?).to_owned(),
                span.text(0, span.column("last_event")?).to_owned(),
            )
        };
        let seconds = match (parse_time(&first_event), parse_time(&last_event)) {
            (Some(a), Some(b)) => (b - a).num_seconds(),
            _ => 0,
        };
        let unit = TimeUnit::for_span(seconds);

        let over_time = runner
            .run("outcomes_over_time", &queries::outcomes_over_time(unit))
            .await?;
        let mut notes = Vec::new();
        let mut periods: Vec<Period> = Vec::new();
        let mut totals = [0u64; 3];
        let (p, o, n) = (
            over_time.column("period")?,
            over_time.column("outcome")?,
            over_time.column("transactions")?,
        );
        let mut unknown = 0u64;
        for row in 0..over_time.rows.len() {
            let count = over_time.number(row, n)? as u64;
            let Ok(outcome) = Outcome::from_str(over_time.text(row, o)) else {
                unknown += count;
                continue;
            };
            let label = over_time.text(row, p);
            let label = if label.is_empty() { "no time" } else { label };
            if periods.last().is_none_or(|l| l.label != label) {
                periods.push(Period {
                    label: label.to_owned(),
                    counts: [0; 3],
                });
            }
            let last = periods.last_mut().expect("pushed above");
            last.counts[index(outcome)] += count;
            totals[index(outcome)] += count;
        }
        if unknown > 0 {
            notes.push(format!(
                "{unknown} transaction(s) without a known outcome are not counted"
            ));
        }

        let amounts_table = runner
            .run("amounts_by_outcome", queries::AMOUNTS_BY_OUTCOME)
            .await?;
        let mut amounts = Vec::new();
        let cols = [
            "outcome",
            "transactions",
            "total_amount",
            "mean_amount",
            "median_amount",
            "p99_amount",
            "max_amount",
        ]
        .map(|c| amounts_table.column(c));
        let [o, n, total, mean, median, p99, max] = cols;
        let (o, n, total, mean, median, p99, max) = (o?, n?, total?, mean?, median?, p99?, max?);
        for row in 0..amounts_table.rows.len() {
            let Ok(outcome) = Outcome::from_str(amounts_table.text(row, o)) else {
                continue;
            };
            amounts.push(AmountRow {
                outcome,
                transactions: amounts_table.number(row, n)? as u64,
                total: amounts_table.number(row, total)?,
                mean: amounts_table.number(row, mean)?,
                median: amounts_table.number(row, median)?,
                p99: amounts_table.number(row, p99)?,
                max: amounts_table.number(row, max)?,
            });
        }

        let bands_table = runner.run("amount_bands", queries::AMOUNT_BANDS).await?;
        let mut bands: Vec<(String, Counts)> = Vec::new();
        let (b, o, n) = (
            bands_table.column("band")?,
            bands_table.column("outcome")?,
            bands_table.column("transactions")?,
        );
        for row in 0..bands_table.rows.len() {
            let Ok(outcome) = Outcome::from_str(bands_table.text(row, o)) else {
                continue;
            };
            let band = bands_table.text(row, b);
            if bands.last().is_none_or(|l| l.0 != band) {
                bands.push((band.to_owned(), [0; 3]));
            }
            bands.last_mut().expect("pushed above").1[index(outcome)] +=
                bands_table.number(row, n)? as u64;
        }

        let reasons_table = runner.run("top_reasons", queries::TOP_REASONS).await?;
        let (r, n) = (
            reasons_table.column("reason")?,
            reasons_table.column("transactions")?,
        );
        let reasons = (0..reasons_table.rows.len())
            .map(|row| {
                Ok((
                    reasons_table.text(row, r).to_owned(),
                    reasons_table.number(row, n)? as u64,
                ))
            })
            .collect::<Result<_, Error>>()?;

        let hits_table = runner.run("rule_hits", queries::RULE_HITS).await?;
        let (r, n) = (hits_table.column("rule")?, hits_table.column("hits")?);
        let rule_hits = (0..hits_table.rows.len())
            .map(|row| {
                Ok((
                    hits_table.text(row, r).to_owned(),
                    hits_table.number(row, n)? as u64,
                ))
            })
            .collect::<Result<_, Error>>()?;

        let shadow_table = runner
            .run("shadow_vs_active", queries::SHADOW_VS_ACTIVE)
            .await?;
        let columns = [
            shadow_table.column("active_versions")?,
            shadow_table.column("shadow_versions")?,
            shadow_table.column("active_outcome")?,
            shadow_table.column("shadow_outcome")?,
            shadow_table.column("transactions")?,
        ];
        let shadow = (0..shadow_table.rows.len())
            .map(|row| columns.map(|c| shadow_table.text(row, c).to_owned()))
            .collect();

        let precision_table = runner
            .run("precision_by_rule", queries::PRECISION_BY_RULE)
            .await?;
        let (r, n, f, p) = (
            precision_table.column("rule")?,
            precision_table.column("labelled")?,
            precision_table.column("fraud")?,
            precision_table.column("precision")?,
        );
        let precision = (0..precision_table.rows.len())
            .map(|row| {
                Ok((
                    precision_table.text(row, r).to_owned(),
                    precision_table.number(row, n)? as u64,
                    precision_table.number(row, f)? as u64,
                    precision_table.number(row, p)?,
                ))
            })
            .collect::<Result<_, Error>>()?;

        Ok(Report {
            first_event,
            last_event,
            unit,
            totals,
            periods,
            amounts,
            bands,
            reasons,
            rule_hits,
            precision,
            shadow,
            tables: vec![
                span,
                over_time,
                amounts_table,
                bands_table,
                reasons_table,
                hits_table,
                shadow_table,
                precision_table,
            ],
            notes,
        })
    }
}
