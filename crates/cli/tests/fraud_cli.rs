//! `vigil train` and `vigil score` on Fraud Detector's cold-start sample
//! (`shared/data/afd_transaction_data_2K_coldstart.csv`), and on a file with bad rows.

use std::path::PathBuf;
use std::process::Command;

/// Fraud Detector's cold-start sample, from the reference data.
fn coldstart() -> Option<PathBuf> {
    vigil_testkit::shared_data("afd_transaction_data_2K_coldstart.csv")
}

fn vigil(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_vigil"))
        .args(args)
        .output()
        .unwrap()
}

fn temp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("vigil-cli-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn refit_keeps_the_early_stopped_tree_count_and_refits_on_more_rows() {
    let dir = temp("refit");
    let Some(input) = coldstart() else { return };
    let mut saved = Vec::new();
    for refit in [false, true] {
        let model = dir.join(format!("model-{refit}.json"));
        let mut args = vec![
            "train",
            "--input",
            input.to_str().unwrap(),
            "--model",
            model.to_str().unwrap(),
            "--bag",
            "1",
        ];
        // Refitting is the default; `--no-refit` keeps the early-stopped fit.
        if !refit {
            args.push("--no-refit");
        }
        let out = vigil(&args);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{stdout}");
        assert_eq!(
            stdout.contains("refitted on the training and early-stopping rows"),
            refit
        );
        let json: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&model).unwrap()).unwrap();
        saved.push(json);
    }
    let (first, refitted) = (&saved[0], &saved[1]);
    assert_eq!(first["training"]["refit"], false);
    assert_eq!(refitted["training"]["refit"], true);
    let trees = |m: &serde_json::Value| m["ensemble"]["leaf"].as_array().unwrap().len() >> 6;
    assert_eq!(
        trees(refitted),
        trees(first),
        "the tree count early stopping chose"
    );
    assert_eq!(
        refitted["early_stopping"], first["early_stopping"],
        "metrics of the first fit"
    );
    assert_ne!(
        refitted["ensemble"], first["ensemble"],
        "fitted again on more rows"
    );
    assert!(refitted["validation"]["pr_auc"].as_f64().unwrap() > 0.0);
}

#[test]
fn train_then_score_keeps_input_order_and_ids() {
    let dir = temp("train");
    let Some(input) = coldstart() else { return };
    let model = dir.join("model.json");
    let out = vigil(&[
        "train",
        "--input",
        input.to_str().unwrap(),
        "--model",
        model.to_str().unwrap(),
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("ROC-AUC"), "{stdout}");
    let saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&model).unwrap()).unwrap();
    assert_eq!(saved["format"], "vigil-gbdt");
    assert_eq!(
        saved["training"]["input"],
        "afd_transaction_data_2K_coldstart.csv"
    );
    assert_eq!(
        saved["training"]["input_sha256"].as_str().unwrap().len(),
        64
    );

    let scored = dir.join("scored.ndjson");
    let out = vigil(&[
        "score",
        "--model",
        model.to_str().unwrap(),
        "--input",
        input.to_str().unwrap(),
        "--output",
        scored.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let ids: Vec<String> = csv::Reader::from_path(&input)
        .unwrap()
        .records()
        .map(|r| r.unwrap()[3].to_owned())
        .collect();
    let lines: Vec<serde_json::Value> = std::fs::read_to_string(&scored)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), ids.len(), "one record per input row");
    for (line, id) in lines.iter().zip(&ids) {
        assert_eq!(line["event_id"], id.as_str(), "input order");
        let score = line["fd"]["model_scores"]["vigil_gbdt"].as_f64().unwrap();
        assert!((0.0..=1000.0).contains(&score));
        assert!(["approve", "review", "block"].contains(&line["fd"]["outcome"].as_str().unwrap()));
        assert!(line["fd"]["reasons"].is_array());
        assert!(line["transaction_amt"].is_number());
    }
}

#[test]
fn bad_rows_are_reported_and_the_rest_is_scored() {
    let dir = temp("bad");
    let Some(input) = coldstart() else { return };
    let text = std::fs::read_to_string(input).unwrap();
    let mut lines: Vec<String> = text.lines().take(21).map(str::to_owned).collect();
    // Row 3: amount not a number; row 5: bad time; row 7: too few fields; row 9: absurd amount.
    let corrupt = |line: &str, from: &str, to: &str| line.replacen(from, to, 1);
    let fields = |line: &str| line.split(',').map(str::to_owned).collect::<Vec<_>>();
    let mut f = fields(&lines[2]);
    let price = f.len() - 3;
    f[price] = "twelve".into();
    lines[2] = f.join(",");
    lines[4] = corrupt(&lines[4], "T", "X");
    lines[6] = "1,2".into();
    let mut f = fields(&lines[8]);
    let price = f.len() - 3;
    f[price] = "1e300".into();
    lines[8] = f.join(",");
    let input = dir.join("bad.csv");
    std::fs::write(&input, lines.join("\n")).unwrap();
    let scored = dir.join("scored.ndjson");
    let out = vigil(&[
        "score",
        "--input",
        input.to_str().unwrap(),
        "--output",
        scored.to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("row 3: amount is not a number"), "{stderr}");
    assert!(stderr.contains("row 5: EVENT_TIMESTAMP"), "{stderr}");
    assert!(stderr.contains("row 7:"), "{stderr}");
    assert!(
        stderr.contains("row 9: amount is not a finite number"),
        "{stderr}"
    );
    let scored_rows = std::fs::read_to_string(&scored).unwrap().lines().count();
    assert_eq!(scored_rows, 20 - 4);
}

#[test]
fn missing_or_bad_model_is_a_clear_error() {
    let dir = temp("model");
    let Some(input) = coldstart() else { return };
    let bogus = dir.join("bogus.json");
    std::fs::write(&bogus, "{\"format\": \"something-else\"}").unwrap();
    for model in [dir.join("absent.json"), bogus] {
        let out = vigil(&[
            "score",
            "--model",
            model.to_str().unwrap(),
            "--input",
            input.to_str().unwrap(),
            "--output",
            dir.join("o.ndjson").to_str().unwrap(),
        ]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{stderr}");
        assert!(stderr.contains("loading model"), "{stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}

/// `vigil extract FILE… | head -1`: the command ends quietly when its reader goes away,
/// as any Unix tool does (no `Error: Broken pipe`, no panic).
#[cfg(unix)]
#[test]
fn a_closed_pipe_ends_the_command_quietly() {
    use std::io::{BufRead, BufReader};
    use std::os::unix::process::ExitStatusExt;
    use std::process::Stdio;

    let people = vigil_corpus::people().unwrap();
    let doc = vigil_corpus::generate(&people, 7, 0);
    let pdf = std::env::temp_dir().join(format!("vigil-pipe-{}.pdf", std::process::id()));
    std::fs::write(&pdf, &doc.bytes).unwrap();
    // Far more text than a pipe's buffer holds, so a write meets the closed pipe.
    let mut child = Command::new(env!("CARGO_BIN_EXE_vigil"))
        .arg("extract")
        .args(std::iter::repeat_n(&pdf, 2_000))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    assert!(first.starts_with('{'), "{first}");
    // The reader is gone now.
    let out = child.wait_with_output().unwrap();
    let _ = std::fs::remove_file(&pdf);
    let stderr = String::from_utf8_lossy(&out.stderr);
    for said in ["Broken pipe", "Error", "panicked"] {
        assert!(!stderr.contains(said), "{stderr}");
    }
    assert!(
        out.status.success() || out.status.signal() == Some(SIGPIPE),
        "{:?}",
        out.status
    );
}

/// SIGPIPE's number on Linux and the BSDs.
#[cfg(unix)]
const SIGPIPE: i32 = 13;
