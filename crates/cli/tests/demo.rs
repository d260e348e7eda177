//! `vigil demo` in process: every generated transaction is archived once, with an outcome,
//! and every `block` has exactly one masked alert in the outbox.

use std::collections::HashSet;
use std::path::Path;
use std::process::Command;

fn files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut pending = vec![dir.to_owned()];
    while let Some(d) = pending.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                pending.push(p)
            } else {
                out.push(p)
            }
        }
    }
    out.sort();
    out
}

#[test]
fn demo_archives_every_transaction_and_alerts_each_block_masked() {
    let dir = std::env::temp_dir().join(format!("vigil-demo-test-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let out = Command::new(env!("CARGO_BIN_EXE_vigil"))
        .args(["demo", "--count", "3000", "--seed", "11", "--out"])
        .arg(&dir)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("Vigil demo summary"), "{stdout}");

    let mut ids = HashSet::new();
    let mut blocked = HashSet::new();
    let archive = files(&dir.join("archive/processed"));
    assert!(!archive.is_empty());
    for object in &archive {
        let name = object.file_name().unwrap().to_string_lossy().into_owned();
        assert!(
            name.starts_with("processed_transactions-") && name.ends_with(".json"),
            "{name}"
        );
        let partition_dir = object
            .parent()
            .unwrap()
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        assert!(partition_dir.starts_with("dt=2024-01-"), "{partition_dir}");
        for line in std::fs::read_to_string(object).unwrap().lines() {
            let record: serde_json::Value = serde_json::from_str(line).unwrap();
            let id = record["event_id"].as_str().unwrap().to_owned();
            let outcome = record["fd"]["outcome"].as_str().unwrap();
            assert!(["approve", "review", "block"].contains(&outcome));
            if outcome == "block" {
                blocked.insert(id.clone());
            }
            assert!(ids.insert(id), "archived once");
        }
    }
    assert_eq!(ids.len(), 3000);

    let alerts = files(&dir.join("outbox"));
    assert_eq!(alerts.len(), blocked.len(), "one alert per block");
    let customers = vigil_generator::default_customers().unwrap();
    for alert in &alerts {
        let text = std::fs::read_to_string(alert).unwrap();
        let id = alert.file_stem().unwrap().to_string_lossy().into_owned();
        assert!(blocked.contains(&id), "alert for a block");
        assert!(text.contains("Subject: FRAUD ALERT: Transaction has been flagged!"));
        let entity = text
            .lines()
            .find(|l| l.trim_start().starts_with("Entity:"))
            .unwrap();
        let last4 = &entity.trim()[entity.trim().len() - 4..];
        let customer = customers
            .iter()
            .find(|c| c.entity_id.ends_with(last4))
            .unwrap();
        assert!(
            !text.contains(&customer.email) && !text.contains(&customer.phone),
            "unmasked contact in {id}"
        );
        assert!(!text.contains(&customer.billing_street), "address in {id}");
    }
}
