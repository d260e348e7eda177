//! Analysts' verdicts on scored events: `event_id`, `label` (`fraud` or `legit`), and
//! optionally when and by whom, as CSV (with a header) or NDJSON. They feed backtests'
//! precision and recall and `vigil train --archive … --labels …`.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::Error;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Label {
    pub event_id: String,
    /// `fraud` or `legit` as written; [`Label::is_fraud`] reads it.
    pub label: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub who: Option<String>,
}

impl Label {
    /// `fraud` (or `1`, `true`) or `legit` (or `0`, `false`, `legitimate`), any case.
    pub fn is_fraud(&self) -> Option<bool> {
        match self.label.trim().to_ascii_lowercase().as_str() {
            "fraud" | "1" | "true" => Some(true),
            "legit" | "legitimate" | "0" | "false" => Some(false),
            _ => None,
        }
    }
}

/// Labels read from a file, and the rows that could not be read (by number, with why).
#[derive(Debug, Default)]
pub struct Labels {
    /// `event_id` → fraud or not; a later row for the same event wins.
    pub by_event: HashMap<String, bool>,
    pub rows: usize,
    pub rejected: Vec<String>,
}

/// Label rows as written (checked and normalised: trimmed id, `fraud` or `legit`), and the
/// rows that could not be read.
#[derive(Debug, Default)]
pub struct Rows {
    pub labels: Vec<Label>,
    pub rejected: Vec<String>,
}

/// Reads CSV (a header naming `event_id` and `label`) or NDJSON (one object per line).
pub fn parse(bytes: &[u8]) -> Result<Labels, Error> {
    let rows = parse_rows(bytes)?;
    let mut out = Labels {
        rows: rows.labels.len() + rows.rejected.len(),
        rejected: rows.rejected,
        ..Labels::default()
    };
    for l in rows.labels {
        out.by_event.insert(l.event_id, l.label == "fraud");
    }
    Ok(out)
}

/// [`parse`], keeping every row with its time and author.
pub fn parse_rows(bytes: &[u8]) -> Result<Rows, Error> {
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
    let mut out = Rows::default();
    let mut take = |row: usize, label: Result<Label, String>| match label.and_then(|l| {
        if l.event_id.trim().is_empty() {
            return Err("event_id is empty".into());
        }
        let fraud = l
            .is_fraud()
            .ok_or_else(|| "label must be fraud or legit".to_owned())?;
        Ok(Label {
            event_id: l.event_id.trim().to_owned(),
            label: if fraud { "fraud" } else { "legit" }.to_owned(),
            time: l.time.filter(|t| !t.trim().is_empty()),
            who: l.who.filter(|w| !w.trim().is_empty()),
        })
    }) {
        Ok(label) => out.labels.push(label),
        Err(why) => out.rejected.push(format!("row {row}: {why}")),
    };
    if first == Some(&b'{') {
        for (i, line) in bytes.split(|b| *b == b'\n').enumerate() {
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            let parsed = serde_json::from_slice::<Label>(line)
                .map_err(|e| format!("not a label object ({})", e.classify_text()));
            take(i + 1, parsed);
        }
    } else {
        let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(bytes);
        let headers = reader.headers()?.clone();
        let column = |name: &str| headers.iter().position(|h| h.trim() == name);
        let (Some(id), Some(label)) = (column("event_id"), column("label")) else {
            return Err(Error::Row {
                row: 1,
                message: "the labels' header must name event_id and label".into(),
            });
        };
        let (time, who) = (column("time"), column("who"));
        for (i, record) in reader.records().enumerate() {
            let parsed = record.map_err(|e| e.to_string()).map(|r| {
                let get = |c: Option<usize>| c.and_then(|c| r.get(c)).map(str::to_owned);
                Label {
                    event_id: get(Some(id)).unwrap_or_default(),
                    label: get(Some(label)).unwrap_or_default(),
                    time: get(time),
                    who: get(who),
                }
            });
            take(i + 2, parsed);
        }
    }
    Ok(out)
}

trait ClassifyText {
    fn classify_text(&self) -> &'static str;
}

impl ClassifyText for serde_json::Error {
    /// The kind of error, never the input (which may hold what an analyst wrote).
    fn classify_text(&self) -> &'static str {
        match self.classify() {
            serde_json::error::Category::Data => "a field is missing or of the wrong type",
            serde_json::error::Category::Syntax => "malformed JSON",
            serde_json::error::Category::Eof => "truncated JSON",
            serde_json::error::Category::Io => "unreadable",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_and_ndjson_read_alike() {
        let csv = "event_id,label,time,who\ne1,fraud,2024-01-01T00:00:00Z,ana\ne2,legit,,\ne3,maybe,,\n,fraud,,\ne1,LEGIT,,bob\n";
        let l = parse(csv.as_bytes()).unwrap();
        assert_eq!(l.rows, 5);
        assert_eq!(l.by_event.len(), 2);
        assert!(!l.by_event["e1"], "a later row wins");
        assert_eq!(
            l.rejected,
            vec![
                "row 4: label must be fraud or legit",
                "row 5: event_id is empty"
            ]
        );

        let ndjson = "{\"event_id\": \"e1\", \"label\": \"fraud\", \"who\": \"ana\"}\n\n{\"event_id\": \"e2\", \"label\": \"0\"}\n{\"event_id\": 7}\n";
        let l = parse(ndjson.as_bytes()).unwrap();
        assert_eq!((l.rows, l.by_event.len()), (3, 2));
        assert!(l.by_event["e1"] && !l.by_event["e2"]);
        assert_eq!(
            l.rejected,
            vec!["row 4: not a label object (a field is missing or of the wrong type)"]
        );

        let err = parse(b"id,verdict\n1,fraud\n").unwrap_err().to_string();
        assert!(err.contains("event_id and label"), "{err}");
    }
}
