//! The report's SQL, one text for both engines: Athena on AWS and `vigil query`'s DataFusion
//! locally. Only functions both know are used (`from_iso8601_timestamp`, `date_trunc`,
//! `approx_percentile`, `cardinality`, `regexp_replace`, subscripts guarded by a length check),
//! and the template's named queries are these same texts (a test compares them).

/// The columns the report's queries read.
pub const COLUMNS: &[&str] = &["event_id", "event_time", "transaction_amt", "fd"];

/// The original system's query, verbatim.
pub const ORIGINAL: &str = r#"SELECT transaction_amt, email_address, event_id, CAST("from_iso8601_timestamp"(event_time) AS timestamp) event_ts, fd.outcome FROM txn_processedtxns;"#;

/// The time covered, to choose the chart's time unit.
pub const SPAN: &str = "SELECT CAST(min(from_iso8601_timestamp(event_time)) AS timestamp) AS first_event, CAST(max(from_iso8601_timestamp(event_time)) AS timestamp) AS last_event, count(*) AS transactions FROM txn_processedtxns";

/// Outcomes per time unit; `{unit}` is `minute`, `hour` or `day`.
const OUTCOMES_OVER_TIME: &str = "SELECT CAST(date_trunc('{unit}', from_iso8601_timestamp(event_time)) AS timestamp) AS period, fd.outcome AS outcome, count(*) AS transactions FROM txn_processedtxns GROUP BY 1, 2 ORDER BY 1, 2";

pub fn outcomes_over_time(unit: TimeUnit) -> String {
    OUTCOMES_OVER_TIME.replace("{unit}", unit.as_str())
}

/// Amount statistics per outcome.
pub const AMOUNTS_BY_OUTCOME: &str = "SELECT fd.outcome AS outcome, count(*) AS transactions, sum(transaction_amt) AS total_amount, avg(transaction_amt) AS mean_amount, approx_percentile(transaction_amt, 0.5) AS median_amount, approx_percentile(transaction_amt, 0.99) AS p99_amount, max(transaction_amt) AS max_amount FROM txn_processedtxns GROUP BY 1 ORDER BY 1";

/// Transactions per amount band and outcome (the bands are powers of ten).
pub const AMOUNT_BANDS: &str = "SELECT CASE WHEN transaction_amt < 10 THEN '0-10' WHEN transaction_amt < 100 THEN '10-100' WHEN transaction_amt < 1000 THEN '100-1k' WHEN transaction_amt < 10000 THEN '1k-10k' ELSE '10k+' END AS band, fd.outcome AS outcome, count(*) AS transactions FROM txn_processedtxns GROUP BY 1, 2 ORDER BY 1, 2";

/// The most frequent reasons given for `review` and `block`, numbers replaced by N so that
/// "amount 14.2x the customer's mean" and "amount 9.0x …" count as one reason. The records
/// carry up to three reasons; a cross join with (1, 2, 3) reads them in one scan (Athena
/// bills by bytes scanned; a UNION of three subscripts would scan three times).
pub const TOP_REASONS: &str = "SELECT regexp_replace(reason, '[0-9]+([.][0-9]+)?', 'N') AS reason, count(*) AS transactions FROM (SELECT fd.reasons[k.i] AS reason FROM txn_processedtxns CROSS JOIN (VALUES (1), (2), (3)) AS k (i) WHERE fd.outcome <> 'approve' AND cardinality(fd.reasons) >= k.i) r GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 10";

/// How often each rule matched. A record lists its matched rules in `fd.rule_results` (one
/// with FIRST_MATCHED, every match with ALL_MATCHED); the cross join reads up to eight per
/// record in one scan, as [`TOP_REASONS`] does.
pub const RULE_HITS: &str = "SELECT r.hit.rule AS rule, count(*) AS hits FROM (SELECT fd.rule_results[k.i] AS hit FROM txn_processedtxns CROSS JOIN (VALUES (1), (2), (3), (4), (5), (6), (7), (8)) AS k (i) WHERE cardinality(fd.rule_results) >= k.i) r GROUP BY 1 ORDER BY 2 DESC, 1";

/// A shadow run against the active versions: how the candidate's decisions (`fd.shadow`)
/// compare with the ones acted on, per pair of versions.
pub const SHADOW_VS_ACTIVE: &str = "SELECT fd.model_version || ' ' || fd.rules_version AS active_versions, fd.shadow.model_version || ' ' || fd.shadow.rules_version AS shadow_versions, fd.outcome AS active_outcome, fd.shadow.outcome AS shadow_outcome, count(*) AS transactions FROM txn_processedtxns WHERE fd.shadow.outcome IS NOT NULL GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4";

/// For each rule, the labelled transactions it matched and the share of them analysts
/// called fraud (`txn_labels`: `vigil labels` locally, the archive bucket's `labels/` on
/// AWS). An event labelled twice the same way counts once.
pub const PRECISION_BY_RULE: &str = "SELECT r.hit.rule AS rule, count(*) AS labelled, sum(CASE WHEN l.label = 'fraud' THEN 1 ELSE 0 END) AS fraud, sum(CASE WHEN l.label = 'fraud' THEN 1 ELSE 0 END) / CAST(count(*) AS double) AS precision FROM (SELECT event_id, fd.rule_results[k.i] AS hit FROM txn_processedtxns CROSS JOIN (VALUES (1), (2), (3), (4), (5), (6), (7), (8)) AS k (i) WHERE cardinality(fd.rule_results) >= k.i) r JOIN (SELECT DISTINCT event_id, label FROM txn_labels) l ON l.event_id = r.event_id GROUP BY 1 ORDER BY 1";

/// The time unit of the charts: about 20 to 2,000 points whatever the span.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeUnit {
    Minute,
    Hour,
    Day,
}

impl TimeUnit {
    pub fn as_str(self) -> &'static str {
        match self {
            TimeUnit::Minute => "minute",
            TimeUnit::Hour => "hour",
            TimeUnit::Day => "day",
        }
    }

    /// Minutes for up to a day and a half, hours for up to 60 days, days beyond.
    pub fn for_span(seconds: i64) -> Self {
        if seconds <= 36 * 3_600 {
            TimeUnit::Minute
        } else if seconds <= 60 * 86_400 {
            TimeUnit::Hour
        } else {
            TimeUnit::Day
        }
    }
}

/// The named queries of the template (`AWS::Athena::NamedQuery`), with the SQL they hold.
pub fn named_queries() -> Vec<(&'static str, String)> {
    vec![
        ("original", ORIGINAL.to_owned()),
        ("outcomes_per_hour", outcomes_over_time(TimeUnit::Hour)),
        ("amounts_by_outcome", AMOUNTS_BY_OUTCOME.to_owned()),
        ("amount_bands", AMOUNT_BANDS.to_owned()),
        ("top_reasons", TOP_REASONS.to_owned()),
        ("rule_hits", RULE_HITS.to_owned()),
        ("shadow_vs_active", SHADOW_VS_ACTIVE.to_owned()),
        ("precision_by_rule", PRECISION_BY_RULE.to_owned()),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_unit_follows_the_span() {
        assert_eq!(TimeUnit::for_span(300), TimeUnit::Minute);
        assert_eq!(TimeUnit::for_span(7 * 86_400), TimeUnit::Hour);
        assert_eq!(TimeUnit::for_span(180 * 86_400), TimeUnit::Day);
        assert!(outcomes_over_time(TimeUnit::Day).contains("date_trunc('day'"));
    }
}
