//! The review queue: blocked and reviewed transactions newest first, with the customer
//! masked; analysts' labels, stored where training and backtests read them; and the full
//! value of a masked field, to analysts only, each reveal logged.

use std::collections::HashMap;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use vigil_core::{ObjectRef, ObjectStore, mask};
use vigil_fraud::labels::Label;

use crate::sql::{literal, number};
use crate::{Console, Error, Sql, User};

/// Most alerts one call returns.
pub const MAX_ALERTS: usize = 500;
const DEFAULT_ALERTS: usize = 100;

/// Fields of a transaction an analyst may reveal, and how the queue masks them.
const REVEALABLE: [&str; 6] = [
    "customer_name",
    "email_address",
    "entity_id",
    "phone",
    "billing_street",
    "ip_address",
];

/// What the queue shows: `outcome` (`block` or `review`), text found in a reason, a time range.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct AlertFilter {
    pub outcome: Option<String>,
    pub reason: Option<String>,
    /// RFC 3339; inclusive.
    pub from: Option<String>,
    /// RFC 3339; exclusive.
    pub to: Option<String>,
    pub limit: Option<usize>,
}

/// One transaction in the queue.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Alert {
    pub event_id: String,
    pub event_time: String,
    pub amount: Option<f64>,
    pub currency: Option<String>,
    pub category: Option<String>,
    pub outcome: String,
    pub score: Option<f64>,
    pub reasons: Vec<String>,
    /// Masked.
    pub customer: String,
    /// Masked.
    pub email: String,
    /// Masked.
    pub entity: String,
    /// The latest analyst label, if any.
    pub label: Option<String>,
    pub labelled_by: Option<String>,
}

/// `POST /api/labels`.
#[derive(Debug, Clone, Deserialize)]
pub struct LabelRequest {
    pub event_id: String,
    pub label: String,
}

/// An event id as the producers make them (a UUID) or any id of letters, digits, `-`, `_`
/// and `.`: nothing else goes into a statement.
fn check_event_id(id: &str) -> Result<(), Error> {
    let ok = !id.is_empty()
        && id.len() <= 100
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':'));
    if ok {
        Ok(())
    } else {
        Err(Error::BadRequest(
            "event_id: letters, digits, `-`, `_`, `.` and `:` only".into(),
        ))
    }
}

fn check_time(name: &str, value: &str) -> Result<String, Error> {
    DateTime::parse_from_rfc3339(value.trim())
        .map(|t| {
            t.with_timezone(&Utc)
                .to_rfc3339_opts(SecondsFormat::Millis, true)
        })
        .map_err(|_| {
            Error::BadRequest(format!(
                "{name}: not an RFC 3339 time (like 2024-01-01T00:00:00Z)"
            ))
        })
}

fn text(row: &Map<String, Value>, key: &str) -> Option<String> {
    row.get(key).and_then(Value::as_str).map(str::to_owned)
}

impl AlertFilter {
    /// `json` puts an array or map column in the engine's JSON form ([`Sql::json`]).
    fn to_sql(&self, json: impl Fn(&str) -> String) -> Result<String, Error> {
        let mut clauses = vec!["fd.outcome IN ('block', 'review')".to_owned()];
        if let Some(o) = self.outcome.as_deref().filter(|o| !o.is_empty()) {
            if !matches!(o, "block" | "review") {
                return Err(Error::BadRequest(format!(
                    "outcome: `block` or `review`, not `{}`",
                    o.chars().take(20).collect::<String>()
                )));
            }
            clauses.push(format!("fd.outcome = '{o}'"));
        }
        if let Some(r) = self
            .reason
            .as_deref()
            .map(str::trim)
            .filter(|r| !r.is_empty())
        {
            if r.len() > 100 {
                return Err(Error::BadRequest("reason: at most 100 characters".into()));
            }
            let pattern = format!("%{}%", r.to_lowercase().replace(['%', '_'], ""));
            clauses.push(format!(
                "lower(array_join(fd.reasons, ' | ')) LIKE {}",
                literal(&pattern)
            ));
        }
        for (name, value, op) in [("from", &self.from, ">="), ("to", &self.to, "<")] {
            if let Some(v) = value.as_deref().filter(|v| !v.is_empty()) {
                let t = check_time(name, v)?;
                clauses.push(format!(
                    "from_iso8601_timestamp(event_time) {op} from_iso8601_timestamp({})",
                    literal(&t)
                ));
            }
        }
        let limit = self.limit.unwrap_or(DEFAULT_ALERTS).clamp(1, MAX_ALERTS);
        Ok(format!(
            "SELECT event_id, event_time, transaction_amt, transaction_currency, product_category, \
             customer_name, email_address, entity_id, fd.outcome AS outcome, {} AS reasons, \
             {} AS model_scores FROM txn_processedtxns WHERE {} \
             ORDER BY from_iso8601_timestamp(event_time) DESC, event_id LIMIT {limit}",
            json("fd.reasons"),
            json("fd.model_scores"),
            clauses.join(" AND ")
        ))
    }
}

impl<S: ObjectStore, Q: Sql> Console<S, Q> {
    pub async fn alerts(&self, user: &User, filter: &AlertFilter) -> Result<Vec<Alert>, Error> {
        user.require_analyst()?;
        let rows = self
            .sql
            .query(&filter.to_sql(|e| self.sql.json(e))?)
            .await?;
        let ids: Vec<String> = rows
            .rows
            .iter()
            .filter_map(|r| text(r, "event_id"))
            .collect();
        let labels = self.labels_of(&ids).await?;
        Ok(rows
            .rows
            .iter()
            .map(|r| {
                let event_id = text(r, "event_id").unwrap_or_default();
                let label = labels.get(&event_id);
                Alert {
                    event_time: text(r, "event_time").unwrap_or_default(),
                    amount: number(r.get("transaction_amt")),
                    currency: text(r, "transaction_currency"),
                    category: text(r, "product_category"),
                    outcome: text(r, "outcome").unwrap_or_default(),
                    score: r
                        .get("model_scores")
                        .and_then(Value::as_object)
                        .and_then(|m| m.values().filter_map(|v| number(Some(v))).reduce(f64::max)),
                    reasons: r
                        .get("reasons")
                        .and_then(Value::as_array)
                        .map(|a| {
                            a.iter()
                                .filter_map(Value::as_str)
                                .map(str::to_owned)
                                .collect()
                        })
                        .unwrap_or_default(),
                    customer: mask::name(&text(r, "customer_name").unwrap_or_default()),
                    email: mask::email(&text(r, "email_address").unwrap_or_default()),
                    entity: mask::identifier(&text(r, "entity_id").unwrap_or_default()),
                    label: label.map(|l| l.label.clone()),
                    labelled_by: label.and_then(|l| l.who.clone()),
                    event_id,
                }
            })
            .collect())
    }

    /// The latest label of each of `ids` (by time, then by the order read).
    async fn labels_of(&self, ids: &[String]) -> Result<HashMap<String, Label>, Error> {
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        let list = ids
            .iter()
            .map(|id| literal(id))
            .collect::<Vec<_>>()
            .join(", ");
        let rows = self
            .sql
            .query(&format!(
                "SELECT event_id, label, \"time\", who FROM txn_labels WHERE event_id IN ({list})"
            ))
            .await?;
        let mut out: HashMap<String, Label> = HashMap::new();
        for r in &rows.rows {
            let label = Label {
                event_id: text(r, "event_id").unwrap_or_default(),
                label: text(r, "label").unwrap_or_default(),
                time: text(r, "time"),
                who: text(r, "who"),
            };
            match out.get(&label.event_id) {
                Some(seen) if seen.time > label.time => {}
                _ => {
                    out.insert(label.event_id.clone(), label);
                }
            }
        }
        Ok(out)
    }

    /// Stores an analyst's verdict on a transaction in the archive's `labels/`.
    pub async fn label(&self, user: &User, request: &LabelRequest) -> Result<Label, Error> {
        user.require_analyst()?;
        let event_id = request.event_id.trim();
        check_event_id(event_id)?;
        let label = match request.label.trim().to_ascii_lowercase().as_str() {
            "fraud" => "fraud",
            "legit" | "legitimate" => "legit",
            other => {
                return Err(Error::BadRequest(format!(
                    "label: `fraud` or `legit`, not `{}`",
                    other.chars().take(20).collect::<String>()
                )));
            }
        };
        let found = self
            .sql
            .query(&format!(
                "SELECT event_id FROM txn_processedtxns WHERE event_id = {} LIMIT 1",
                literal(event_id)
            ))
            .await?;
        if found.rows.is_empty() {
            return Err(Error::NotFound(format!("transaction {event_id}")));
        }
        let now = Utc::now();
        let stored = Label {
            event_id: event_id.to_owned(),
            label: label.to_owned(),
            time: Some(now.to_rfc3339_opts(SecondsFormat::Millis, true)),
            who: Some(user.name.clone()),
        };
        let mut line = serde_json::to_vec(&stored)
            .map_err(|e| Error::Internal(format!("encoding a label: {e}")))?;
        line.push(b'\n');
        // Named by time, so that files sort in the order labels were given.
        let key = format!(
            "labels/console-{}-{event_id}.json",
            now.format("%Y%m%dT%H%M%S%.6fZ")
        );
        self.store
            .put(
                &ObjectRef::new(&self.layout.archive, key),
                line,
                "application/x-ndjson",
            )
            .await?;
        tracing::info!(user = %user.id, event_id, label, "transaction labelled");
        Ok(stored)
    }

    /// The unmasked value of one field of one transaction, for an analyst; logged.
    pub async fn reveal(&self, user: &User, event_id: &str, field: &str) -> Result<String, Error> {
        user.require_analyst()?;
        check_event_id(event_id)?;
        let Some(field) = REVEALABLE.iter().find(|f| **f == field) else {
            return Err(Error::BadRequest(format!(
                "field: one of {}",
                REVEALABLE.join(", ")
            )));
        };
        let rows = self
            .sql
            .query(&format!(
                "SELECT {field} AS value FROM txn_processedtxns WHERE event_id = {} LIMIT 1",
                literal(event_id)
            ))
            .await?;
        let Some(row) = rows.rows.first() else {
            return Err(Error::NotFound(format!("transaction {event_id}")));
        };
        // The log says who saw which field of which transaction, never the value.
        tracing::info!(user = %user.id, who = %user.name, event_id, field, "personal data revealed");
        Ok(text(row, "value").unwrap_or_default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_become_checked_sql() {
        let sql = AlertFilter {
            outcome: Some("block".into()),
            reason: Some("New IP'; DROP".into()),
            from: Some("2024-01-01T00:00:00+01:00".into()),
            to: None,
            limit: Some(10_000),
        }
        .to_sql(|e| format!("CAST({e} AS JSON)"))
        .unwrap();
        assert!(sql.contains("CAST(fd.reasons AS JSON) AS reasons"));
        assert!(sql.contains("fd.outcome = 'block'"));
        assert!(sql.contains("LIKE '%new ip''; drop%'"), "{sql}");
        assert!(sql.contains("from_iso8601_timestamp('2023-12-31T23:00:00.000Z')"));
        assert!(sql.ends_with(&format!("LIMIT {MAX_ALERTS}")));
        for bad in [
            AlertFilter {
                outcome: Some("approve".into()),
                ..AlertFilter::default()
            },
            AlertFilter {
                from: Some("yesterday".into()),
                ..AlertFilter::default()
            },
        ] {
            assert!(matches!(
                bad.to_sql(str::to_owned),
                Err(Error::BadRequest(_))
            ));
        }
        assert!(check_event_id("0d829b26-4920-4e2d-bc09-5c6c72cc8164").is_ok());
        assert!(check_event_id("x' OR '1'='1").is_err());
    }
}
