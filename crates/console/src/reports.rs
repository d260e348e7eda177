//! The reports page: outcomes over time with a bucket chosen for the range shown (so that a
//! chart has tens to a few hundred points whatever the range), and the top reasons.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use vigil_core::ObjectStore;

use crate::sql::number;
use crate::{Console, Error, Sql, User};

/// Bucket widths to choose from, in seconds: one minute to one week.
const BUCKETS: [i64; 12] = [
    60,
    120,
    300,
    600,
    900,
    1_800,
    3_600,
    3 * 3_600,
    6 * 3_600,
    12 * 3_600,
    86_400,
    7 * 86_400,
];

/// Most points a chart gets.
pub const MAX_POINTS: i64 = 300;

const OUTCOMES: [&str; 3] = ["approve", "review", "block"];

/// The narrowest bucket that keeps a range of `span` seconds within [`MAX_POINTS`].
pub fn bucket_for(span: i64) -> i64 {
    BUCKETS
        .iter()
        .copied()
        .find(|b| ceil_div(span.max(1), *b) <= MAX_POINTS)
        .unwrap_or(BUCKETS[BUCKETS.len() - 1])
}

/// `a / b` rounded up, for positive `a` and `b`.
fn ceil_div(a: i64, b: i64) -> i64 {
    (a + b - 1) / b
}

/// `GET /api/series`: unix seconds; without them, the archive's whole span.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Range {
    pub from: Option<i64>,
    pub to: Option<i64>,
}

/// Outcome counts per bucket, every bucket of the range present (zeros where nothing
/// happened), as the chart wants them.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Series {
    pub from: i64,
    pub to: i64,
    pub bucket_seconds: i64,
    /// Each bucket's start, unix seconds.
    pub times: Vec<i64>,
    pub approve: Vec<u64>,
    pub review: Vec<u64>,
    pub block: Vec<u64>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Reason {
    pub reason: String,
    pub transactions: u64,
}

const EPOCH_SECONDS: &str = "to_unixtime(from_iso8601_timestamp(event_time))";

fn range_clause(from: i64, to: i64) -> String {
    format!("{EPOCH_SECONDS} >= {from} AND {EPOCH_SECONDS} < {to}")
}

impl<S: ObjectStore, Q: Sql> Console<S, Q> {
    /// The first and last event times, unix seconds (none for an empty archive).
    async fn span(&self) -> Result<Option<(i64, i64)>, Error> {
        let rows = self
            .sql
            .query(&format!(
                "SELECT min({EPOCH_SECONDS}) AS first, max({EPOCH_SECONDS}) AS last FROM txn_processedtxns"
            ))
            .await?;
        let row = rows.rows.first();
        Ok(
            match (
                number(row.and_then(|r| r.get("first"))),
                number(row.and_then(|r| r.get("last"))),
            ) {
                (Some(a), Some(b)) => Some((a.floor() as i64, b.floor() as i64 + 1)),
                _ => None,
            },
        )
    }

    pub async fn series(&self, user: &User, range: &Range) -> Result<Series, Error> {
        user.require_analyst()?;
        let (from, to) = match (range.from, range.to) {
            (Some(a), Some(b)) => (a, b),
            (a, b) => {
                let (first, last) = self.span().await?.unwrap_or((0, 1));
                (a.unwrap_or(first), b.unwrap_or(last))
            }
        };
        if to <= from {
            return Err(Error::BadRequest(format!(
                "the range is empty: from {from} is not before to {to}"
            )));
        }
        let bucket = bucket_for(to - from);
        let start = from.div_euclid(bucket) * bucket;
        let n = ceil_div(to - start, bucket) as usize;
        let rows = self
            .sql
            .query(&format!(
                "SELECT floor({EPOCH_SECONDS} / {bucket}) * {bucket} AS t, fd.outcome AS outcome, count(*) AS n \
                 FROM txn_processedtxns WHERE {} GROUP BY 1, 2",
                range_clause(from, to)
            ))
            .await?;
        let mut counts = [vec![0u64; n], vec![0u64; n], vec![0u64; n]];
        for r in &rows.rows {
            let (Some(t), Some(c)) = (number(r.get("t")), number(r.get("n"))) else {
                continue;
            };
            let Some(k) = OUTCOMES
                .iter()
                .position(|o| Some(*o) == r.get("outcome").and_then(Value::as_str))
            else {
                continue;
            };
            let i = ((t as i64 - start) / bucket) as usize;
            if let Some(slot) = counts[k].get_mut(i) {
                *slot += c as u64;
            }
        }
        let [approve, review, block] = counts;
        Ok(Series {
            from,
            to,
            bucket_seconds: bucket,
            times: (0..n as i64).map(|i| start + i * bucket).collect(),
            approve,
            review,
            block,
        })
    }

    /// The most common reasons of reviewed and blocked transactions in the range, numbers
    /// folded to `N` so that "3 categories" and "4 categories" count together.
    pub async fn reasons(&self, user: &User, range: &Range) -> Result<Vec<Reason>, Error> {
        user.require_analyst()?;
        let within = match (range.from, range.to) {
            (Some(a), Some(b)) => format!(" AND {}", range_clause(a, b)),
            _ => String::new(),
        };
        let rows = self
            .sql
            .query(&format!(
                "SELECT regexp_replace(reason, '[0-9]+([.][0-9]+)?', 'N') AS reason, count(*) AS transactions \
                 FROM (SELECT fd.reasons[k.i] AS reason FROM txn_processedtxns CROSS JOIN (VALUES (1), (2), (3)) AS k (i) \
                 WHERE fd.outcome <> 'approve' AND cardinality(fd.reasons) >= k.i{within}) r \
                 GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 10"
            ))
            .await?;
        Ok(rows
            .rows
            .iter()
            .filter_map(|r| {
                Some(Reason {
                    reason: r.get("reason")?.as_str()?.to_owned(),
                    transactions: number(r.get("transactions"))? as u64,
                })
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_keep_charts_between_tens_and_hundreds_of_points() {
        assert_eq!(bucket_for(3_600), 60);
        assert_eq!(bucket_for(18 * 3_600), 300);
        assert_eq!(bucket_for(30 * 86_400), 3 * 3_600);
        assert_eq!(bucket_for(10 * 365 * 86_400), 7 * 86_400);
        for span in [
            600,
            3_600,
            18 * 3_600,
            5 * 86_400,
            60 * 86_400,
            365 * 86_400,
        ] {
            let points = span / bucket_for(span);
            assert!((10..=MAX_POINTS).contains(&points), "{span}: {points}");
        }
    }
}
