//! The original system's sample output (`shared/data/seed-test-data`) reads into Vigil's types
//! and survives a JSON round trip.

use std::collections::BTreeMap;

use vigil_core::seed::read_processed_csv;
use vigil_core::{Outcome, ProcessedTransaction};

/// Every full-table export's records by id, how many such files, how many padding rows;
/// `None` (the test skipped) without the reference data.
fn read_all() -> Option<(BTreeMap<String, ProcessedTransaction>, usize, usize)> {
    let dir = vigil_testkit::shared_data("seed-test-data")?;
    let mut by_id = BTreeMap::new();
    let (mut files, mut padding) = (0, 0);
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        let text = std::fs::read_to_string(&path).unwrap();
        let header = text.lines().next().unwrap_or("");
        // Only full-table exports carry `fd`; the others are query results and chart series.
        if !header.contains("\"fd\"") {
            continue;
        }
        let read = read_processed_csv(text.as_bytes()).unwrap();
        assert!(
            read.rejected.is_empty(),
            "{}: {:?}",
            path.display(),
            read.rejected
        );
        files += 1;
        padding += read.padding_rows;
        for r in read.records {
            by_id.insert(r.transaction.event_id.clone(), r);
        }
    }
    Some((by_id, files, padding))
}

#[test]
fn seed_exports_parse_into_eleven_approved_transactions() {
    let Some((by_id, files, padding)) = read_all() else {
        return;
    };
    assert!(files >= 8, "expected the full-table exports, found {files}");
    assert!(
        padding > 0,
        "the padding rows should have been seen and skipped"
    );
    assert_eq!(by_id.len(), 11);
    assert!(by_id.values().all(|r| r.fd.outcome == Outcome::Approve));
    let first = &by_id["cd3c04cd-caf5-4082-b641-0a54069afb26"];
    assert_eq!(first.transaction.transaction_amt, 255.0);
    assert_eq!(first.transaction.billing_state, "TN");
    assert_eq!(
        (
            first.fd.ttdf,
            first.fd.proc_time,
            first.fd.frauddetector_time
        ),
        (853, 612, 241)
    );
}

#[test]
fn processed_records_round_trip_through_json_with_original_column_names() {
    let Some((by_id, _, _)) = read_all() else {
        return;
    };
    for record in by_id.values() {
        let json = serde_json::to_value(record).unwrap();
        let object = json.as_object().unwrap();
        for column in vigil_core::Transaction::COLUMNS {
            assert!(object.contains_key(column), "missing {column}");
        }
        assert_eq!(json["fd"]["outcome"], "approve");
        let back: ProcessedTransaction = serde_json::from_value(json).unwrap();
        assert_eq!(&back, record);
    }
}
