//! Fraud operations through the `vigil` command: rules and versions published to a
//! directory registry, refused with the line and column, activated and listed; a backtest
//! over the demo's archive that reproduces the outcomes the demo recorded, and a candidate's
//! changes against the active versions.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn vigil(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_vigil"))
        .args(args)
        .env_remove("VIGIL_REGISTRY")
        .output()
        .unwrap()
}

fn ok(args: &[&str]) -> String {
    let out = vigil(args);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "vigil {args:?}: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

fn temp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("vigil-ops-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The status `vigil versions` shows for `id`.
fn status<'a>(listed: &'a str, id: &str) -> Option<&'a str> {
    listed
        .lines()
        .find(|l| l.starts_with(id))
        .and_then(|l| l.split_whitespace().nth(1))
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

const STRICT: &str = "default_outcome = \"approve\"\n[lists]\ndeny_ips = []\n[[rule]]\nname = \"model_high_risk\"\nwhen = \"$score >= 900\"\noutcome = \"block\"\n[[rule]]\nname = \"listed\"\nwhen = \"$ip in @deny_ips\"\noutcome = \"block\"\n[[rule]]\nname = \"large_at_night\"\nwhen = '$night_24h >= 1 and $amount > 500'\noutcome = \"review\"\n";

#[test]
fn rules_are_published_refused_activated_and_listed() {
    let dir = temp("registry");
    let registry = dir.join("registry");
    let reg = path(&registry);
    let bad = dir.join("bad.toml");
    std::fs::write(
        &bad,
        "default_outcome = \"approve\"\n\n[[rule]]\nname = \"typo\"\nwhen = \"$amount > 5 and $cout_1h > 2\"\noutcome = \"review\"\n",
    )
    .unwrap();
    let out = vigil(&["publish", "rules", path(&bad), "--registry", reg]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(
            "line 5, column 25: rule `typo`: unknown variable `$cout_1h`; did you mean `$count_1h`?"
        ),
        "{stderr}"
    );

    let rules = dir.join("strict.toml");
    std::fs::write(&rules, STRICT).unwrap();
    let published = ok(&["publish", "rules", path(&rules), "--registry", reg]);
    let id = published
        .split_whitespace()
        .nth(1)
        .expect("published <id>")
        .to_owned();
    assert!(id.starts_with("rules-"), "{published}");
    assert!(ok(&["publish", "rules", path(&rules), "--registry", reg]).contains("already in"));
    let listed = ok(&["versions", "--registry", reg]);
    assert_eq!(status(&listed, &id), Some("draft"), "{listed}");
    assert!(
        listed.contains("active: model (shipped), rules (shipped)"),
        "{listed}"
    );

    ok(&["activate", &id, "--registry", reg]);
    let list = dir.join("deny_ips.txt");
    std::fs::write(&list, "# blocked\n203.0.113.9\n").unwrap();
    assert!(ok(&["publish", "list", path(&list), "--registry", reg]).contains("1 entries"));
    let listed = ok(&["versions", "--registry", reg]);
    assert_eq!(status(&listed, &id), Some("active"), "{listed}");
    assert!(listed.contains("list deny_ips: 1 entries"), "{listed}");
    let out = vigil(&["activate", "rules-000000000000", "--registry", reg]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("no version `rules-000000000000`"));
}

#[test]
fn a_backtest_of_the_demo_reproduces_its_outcomes_and_shows_a_candidate() {
    let dir = temp("backtest");
    let demo = dir.join("demo");
    ok(&[
        "demo",
        "--out",
        path(&demo),
        "--count",
        "6000",
        "--seed",
        "21",
        "--documents",
        "0",
        // Fresh entity state, as a backtest starts from: the same records scored afresh.
        "--history-days",
        "0",
    ]);
    let registry = dir.join("registry");
    let report_path = dir.join("same.json");
    ok(&[
        "backtest",
        "--archive",
        path(&demo.join("archive")),
        "--registry",
        path(&registry),
        "--json",
        path(&report_path),
    ]);
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&report_path).unwrap()).unwrap();
    assert_eq!(report["events"], 6000);
    assert_eq!(report["active"]["outcomes"], report["recorded"], "{report}");
    assert_eq!(report["candidate"]["outcomes"], report["recorded"]);
    assert_eq!(report["changed"], serde_json::json!({}));

    // A candidate: its changes add up, its rules count their hits.
    let rules = dir.join("strict.toml");
    std::fs::write(&rules, STRICT).unwrap();
    let report_path = dir.join("strict.json");
    let stdout = ok(&[
        "backtest",
        "--archive",
        path(&demo.join("archive")),
        "--registry",
        path(&registry),
        "--rules",
        path(&rules),
        "--json",
        path(&report_path),
    ]);
    assert!(stdout.contains("changed decisions:"), "{stdout}");
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&report_path).unwrap()).unwrap();
    let count = |side: &str, outcome: &str| report[side]["outcomes"][outcome].as_u64().unwrap_or(0);
    let hits: u64 = report["candidate"]["rule_hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["hits"].as_u64().unwrap())
        .sum();
    assert_eq!(
        hits,
        count("candidate", "review") + count("candidate", "block")
    );
    let moved = |from: &str, to: &str| {
        report["changed"][format!("{from}→{to}")]
            .as_u64()
            .unwrap_or(0) as i64
    };
    // Per outcome, the candidate's count is the active's plus what moved in, less what moved out.
    for o in ["approve", "review", "block"] {
        let others: Vec<&str> = ["approve", "review", "block"]
            .into_iter()
            .filter(|x| *x != o)
            .collect();
        let net: i64 = others.iter().map(|x| moved(x, o) - moved(o, x)).sum();
        assert_eq!(
            count("candidate", o) as i64,
            count("active", o) as i64 + net,
            "{o}"
        );
    }
    let sample = report["changed_sample"].as_array().unwrap();
    assert!(!sample.is_empty() && sample.len() <= 20);
    assert!(sample.iter().all(|c| c["active"] != c["candidate"]));
}

/// The team's own history: Fraud Detector's cold-start sample scored into an archive, its
/// labels given back as analysts' verdicts (`vigil labels`), and `vigil train --archive`
/// trains the very model `vigil train --input` trains on the labelled CSV.
#[test]
fn training_on_the_archive_and_labels_reproduces_the_csv_model() {
    let Some(csv) = vigil_testkit::shared_data("afd_transaction_data_2K_coldstart.csv") else {
        return;
    };
    let dir = temp("train");
    let archive = dir.join("archive");
    let day = archive.join("processed/dt=2023-01-01");
    std::fs::create_dir_all(&day).unwrap();
    ok(&[
        "score",
        "--input",
        path(&csv),
        "--output",
        path(&day.join("part-0.json")),
    ]);
    let mut reader = csv::Reader::from_path(&csv).unwrap();
    let headers = reader.headers().unwrap().clone();
    let column = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let (id, label) = (column("EVENT_ID"), column("EVENT_LABEL"));
    let mut verdicts = String::new();
    for row in reader.records() {
        let row = row.unwrap();
        let verdict = match &row[label] {
            "1" => "fraud",
            "0" => "legit",
            _ => continue, // unlabelled rows stay history only, as in the CSV
        };
        verdicts.push_str(&format!(
            "{{\"event_id\": \"{}\", \"label\": \"{verdict}\", \"who\": \"analyst\"}}\n",
            &row[id]
        ));
    }
    let labels = dir.join("verdicts.ndjson");
    std::fs::write(&labels, verdicts).unwrap();
    let stored = ok(&["labels", path(&labels), "--archive", path(&archive)]);
    assert!(stored.contains("810 labels"), "{stored}");

    let from_csv = dir.join("csv.json");
    let from_archive = dir.join("archive.json");
    ok(&["train", "--input", path(&csv), "--model", path(&from_csv)]);
    let stdout = ok(&[
        "train",
        "--archive",
        path(&archive),
        "--model",
        path(&from_archive),
    ]);
    assert!(
        stdout.contains("refitted"),
        "the recipe is the default: {stdout}"
    );
    let read = |p: &Path| -> serde_json::Value {
        serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap()
    };
    let (a, b) = (read(&from_csv), read(&from_archive));
    assert_eq!(a["ensemble"], b["ensemble"]);
    assert_eq!(a["validation"], b["validation"]);
    assert_eq!(a["training"]["params"]["bag"], 2);
    assert_ne!(a["training"]["input_sha256"], b["training"]["input_sha256"]);

    // Without labels there is nothing to learn from: a clear error.
    let bare = dir.join("bare");
    std::fs::create_dir_all(bare.join("processed")).unwrap();
    std::fs::copy(day.join("part-0.json"), bare.join("processed/p.json")).unwrap();
    let out = vigil(&[
        "train",
        "--archive",
        path(&bare),
        "--model",
        path(&dir.join("x.json")),
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("has a label"));
}
