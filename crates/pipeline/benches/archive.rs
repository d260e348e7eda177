//! Criterion benchmark of the archive's encoding: a batch of 500 processed records as
//! NDJSON, by `archive::ndjson` and, for comparison, by serde (sonic-rs) record by record.
//! Run: `cargo bench -p vigil-pipeline`.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use vigil_core::{FraudAssessment, Outcome, ProcessedTransaction, RuleResult, Transaction};
use vigil_pipeline::archive::ndjson;

const BATCH: usize = 500;

fn batch() -> Vec<ProcessedTransaction> {
    let t: Transaction =
        serde_json::from_str(include_str!("../../../test_data/transaction.json")).unwrap();
    (0..BATCH)
        .map(|i| {
            let mut t = t.clone();
            t.event_id = format!("{:032x}", i * 7919);
            t.transaction_amt = 3.0 + i as f64 * 1.37;
            ProcessedTransaction {
                transaction: t,
                fd: FraudAssessment {
                    outcome: Outcome::Review,
                    model_scores: [("vigil_gbdt".to_owned(), 400.0 + i as f64 / 7.0)].into(),
                    rule_results: vec![RuleResult {
                        rule: "model_medium_risk".into(),
                        outcomes: vec!["review".into()],
                    }],
                    reasons: vec![
                        "new IP address for the customer".into(),
                        "first purchase in category gas_transport".into(),
                        "model score of medium risk".into(),
                    ],
                    ttdf: 92_299_276_781 + i as u64,
                    proc_time: 5,
                    frauddetector_time: 0,
                    model_version: None,
                    rules_version: None,
                    shadow: None,
                },
            }
        })
        .collect()
}

fn archive(c: &mut Criterion) {
    let records = batch();
    let mut g = c.benchmark_group("archive");
    g.throughput(Throughput::Elements(BATCH as u64));
    g.bench_function("ndjson", |b| b.iter(|| ndjson(&records).unwrap()));
    g.bench_function("serde_per_record", |b| {
        b.iter(|| {
            let mut out = Vec::with_capacity(BATCH * 1024);
            for r in &records {
                sonic_rs::to_writer(&mut out, r).unwrap();
                out.push(b'\n');
            }
            out
        })
    });
    g.finish();
}

criterion_group!(benches, archive);
criterion_main!(benches);
