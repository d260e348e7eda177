//! `refresh-reports` under `cargo lambda watch` against moto's Athena, Glue and S3. moto
//! answers the API calls but runs no SQL: the report's queries are run here by the local
//! engine (`vigil query`'s DataFusion) over an archive, their results queued in moto as
//! Athena's answers, and the function's charts and CSVs compared with them.

mod common;

use std::path::Path;
use std::process::Command;

use serde_json::json;
use vigil_core::{FraudAssessment, Outcome, ProcessedTransaction, Transaction};
use vigil_reports::{Report, Runner, Table};

fn record(i: usize) -> ProcessedTransaction {
    let mut t: Transaction =
        serde_json::from_str(include_str!("../../../test_data/transaction.json")).unwrap();
    t.event_id = format!("evt-{i}");
    t.event_time = format!("2024-03-0{}T{:02}:{:02}:00Z", 1 + i % 3, i % 24, i % 60);
    t.transaction_amt = (i % 97) as f64 * 13.7 + 1.0;
    let outcome = match i % 10 {
        0 => Outcome::Block,
        1 | 2 => Outcome::Review,
        _ => Outcome::Approve,
    };
    ProcessedTransaction {
        transaction: t,
        fd: FraudAssessment {
            outcome,
            model_scores: [("vigil_gbdt".to_owned(), (i % 1000) as f64)].into(),
            rule_results: vec![],
            reasons: vec![
                format!("amount {}.5x the customer's mean", i % 7),
                "first purchase in category travel".into(),
            ],
            ttdf: 5,
            proc_time: 1,
            frauddetector_time: 0,
            model_version: None,
            rules_version: None,
            shadow: None,
        },
    }
}

/// An archive in the layout the archive function writes.
fn archive(dir: &Path) {
    let records: Vec<ProcessedTransaction> = (0..600).map(record).collect();
    for (n, chunk) in records.chunks(100).enumerate() {
        let first = Some(chunk[0].transaction.event_time.as_str());
        let key = vigil_pipeline::archive::key("processed_transactions", 0, n as i64 * 100, first);
        let path = dir.join(key);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, vigil_pipeline::archive::ndjson(chunk).unwrap()).unwrap();
    }
}

/// The local engine, remembering every query and its result in order.
struct Recording {
    engine: vigil_query::Engine,
    runs: Vec<(String, Table)>,
}

impl Runner for Recording {
    async fn run(&mut self, name: &str, sql: &str) -> Result<Table, vigil_reports::Error> {
        let answer = self.engine.query(sql).await.unwrap();
        let table = Table::from_csv(name, &vigil_query::to_csv_string(&answer).unwrap())?;
        self.runs.push((sql.to_owned(), table.clone()));
        Ok(table)
    }
}

/// Athena's result shape: the header as the first row, every value as text.
fn athena_result(table: &Table) -> serde_json::Value {
    let row = |cells: &[String]| json!({"Data": cells.iter().map(|c| json!({"VarCharValue": c})).collect::<Vec<_>>()});
    let mut rows = vec![row(&table.columns)];
    rows.extend(table.rows.iter().map(|r| row(r)));
    json!({
        "rows": rows,
        "column_info": table.columns.iter().map(|c| json!({
            "CatalogName": "hive", "SchemaName": "", "TableName": "", "Name": c, "Label": c,
            "Type": "varchar", "Precision": 0, "Scale": 0, "Nullable": "UNKNOWN", "CaseSensitive": true
        })).collect::<Vec<_>>()
    })
}

/// Empties moto's queue of canned Athena results (left by an interrupted run): each new
/// execution takes the next one; an execution that gets no columns means the queue is empty.
async fn drain_athena_queue(client: &aws_sdk_athena::Client) {
    for _ in 0..100 {
        let id = client
            .start_query_execution()
            .query_string("SELECT 1")
            .send()
            .await
            .unwrap()
            .query_execution_id
            .unwrap();
        let result = client
            .get_query_results()
            .query_execution_id(id)
            .send()
            .await
            .unwrap();
        let columns = result
            .result_set()
            .and_then(|s| s.result_set_metadata())
            .map_or(0, |m| m.column_info().len());
        if columns == 0 {
            return;
        }
    }
    panic!("moto's Athena result queue does not empty");
}

#[tokio::test(flavor = "multi_thread")]
async fn reports_are_built_from_athena_results_and_filed_in_s3() {
    let Some(endpoint) = common::moto() else {
        return;
    };
    let dir = std::env::temp_dir().join(format!("vigil-reports-{}", uuid::Uuid::new_v4().simple()));
    archive(&dir);

    // The SQL, run by the local engine.
    let mut local = Recording {
        engine: vigil_query::Engine::open(&dir).await.unwrap(),
        runs: vec![],
    };
    let expected = Report::build(&mut local).await.unwrap();
    assert_eq!(expected.total(), 600);
    assert_eq!(expected.totals, [420, 120, 60]);

    // moto's Athena, answering with those results in the order the function asks.
    let client = common::athena_client(&endpoint);
    drain_athena_queue(&client).await;
    let workgroup = format!("vigil-test-{}", uuid::Uuid::new_v4().simple());
    client
        .create_work_group()
        .name(&workgroup)
        .send()
        .await
        .unwrap();
    let results: Vec<_> = local.runs.iter().map(|(_, t)| athena_result(t)).collect();
    let posted = Command::new("curl")
        .args(["-sf", "-X", "POST", "-H", "Content-Type: application/json"])
        .arg(format!("{endpoint}/moto-api/static/athena/query-results"))
        .arg("--data")
        .arg(json!({"region": "us-east-1", "results": results}).to_string())
        .status()
        .expect("curl is installed by infra/setup.sh");
    assert!(posted.success(), "queuing Athena results in moto");

    let s3 = common::s3_client(&endpoint);
    let bucket = format!("vigil-test-reports-{}", uuid::Uuid::new_v4().simple());
    s3.create_bucket().bucket(&bucket).send().await.unwrap();
    let aws = common::aws_env(&endpoint);
    let extra = [
        ("ATHENA_WORKGROUP", workgroup.clone()),
        ("GLUE_DATABASE", "txn_database".to_owned()),
        ("REPORTS_BUCKET", bucket.clone()),
    ];
    let watch = common::watch(
        env!("CARGO_BIN_EXE_refresh-reports"),
        &common::env_for(&aws, &extra),
    );
    let event = dir.join("scheduled.json");
    std::fs::write(
        &event,
        json!({
            "version": "0", "id": "a1b2", "detail-type": "Scheduled Event", "source": "aws.events",
            "account": "123456789012", "time": "2024-03-04T06:00:00Z", "region": "us-east-1",
            "resources": ["arn:aws:events:us-east-1:123456789012:rule/refresh"], "detail": {}
        })
        .to_string(),
    )
    .unwrap();
    let answer = common::invoke(&watch, &event);
    assert_eq!(answer["prefix"], "reports/2024-03-04/");
    assert_eq!(answer["transactions"], 600);
    assert_eq!(answer["blocked"], 60);

    // Athena was asked exactly the report's SQL, in the workgroup and database given.
    let listed = client
        .list_query_executions()
        .work_group(&workgroup)
        .send()
        .await
        .unwrap();
    let mut asked = Vec::new();
    for id in listed.query_execution_ids() {
        let execution = client
            .get_query_execution()
            .query_execution_id(id)
            .send()
            .await
            .unwrap();
        let q = execution.query_execution().unwrap();
        assert_eq!(
            q.query_execution_context().and_then(|c| c.database()),
            Some("txn_database")
        );
        asked.push(q.query().unwrap_or_default().to_owned());
    }
    let mut want: Vec<String> = local.runs.iter().map(|(sql, _)| sql.clone()).collect();
    asked.sort();
    want.sort();
    assert_eq!(asked, want);

    // The filed results are the engine's, and the page and charts are there.
    let objects = common::s3_objects(&s3, &bucket, "reports/2024-03-04/data/").await;
    assert_eq!(objects.len(), local.runs.len(), "one CSV per query");
    for (_, table) in &local.runs {
        let key = format!("reports/2024-03-04/data/{}.csv", table.name);
        let body = &objects
            .iter()
            .find(|(k, _)| *k == key)
            .unwrap_or_else(|| panic!("no {key}"))
            .1;
        assert_eq!(Table::from_csv(&table.name, body).unwrap(), *table);
    }
    let page = &common::s3_objects(&s3, &bucket, "reports/2024-03-04/index.html").await[0].1;
    assert_eq!(page.matches("<svg").count(), 4, "four inline charts");
    assert!(page.contains("<b>600</b>"));
    for (name, _) in vigil_reports::charts::CHARTS {
        let png = common::s3_bytes(&s3, &bucket, &format!("reports/2024-03-04/{name}.png")).await;
        assert!(png.starts_with(b"\x89PNG"), "{name}.png is a PNG");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
