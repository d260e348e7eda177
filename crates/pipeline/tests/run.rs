//! The in-process runner over generated transactions, its outputs in a temporary folder.

use std::path::Path;

use vigil_fraud::model::default_model;
use vigil_fraud::rules::Rules;
use vigil_fraud::scorer::Scorer;
use vigil_generator::{Generator, GeneratorConfig, default_customers};
use vigil_pipeline::alert::AlertPolicy;
use vigil_pipeline::run::{Counter, InProcess, LocalOutputs, Progress, in_process};
use vigil_pipeline::score::ScoreStage;

fn transactions(count: usize) -> Vec<vigil_core::Transaction> {
    let customers = default_customers().unwrap();
    let config = GeneratorConfig {
        seed: 7,
        ..GeneratorConfig::default()
    };
    Generator::new(&customers, &config)
        .unwrap()
        .take(count)
        .map(|g| g.transaction)
        .collect()
}

fn built_in() -> Result<ScoreStage, vigil_pipeline::Error> {
    Ok(ScoreStage::new(Scorer::new(
        default_model()?,
        Rules::default_rules(),
    )))
}

/// Lines of every archive object under `dir`.
/// A fresh folder for one test's outputs.
fn out_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("vigil-run-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn archived_lines(dir: &Path) -> usize {
    let mut lines = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            lines += archived_lines(&path);
        } else {
            lines += std::fs::read_to_string(&path).unwrap().lines().count();
        }
    }
    lines
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_transaction_is_scored_and_archived_once() {
    let out = out_dir("once");
    let outputs = LocalOutputs::under(&out, AlertPolicy { on_review: false });
    let progress = Counter::default();
    let shape = InProcess {
        workers: 3,
        batch_size: 100,
    };
    let tally = in_process(
        shape,
        &outputs,
        &built_in,
        transactions(1_000),
        &progress,
        &tokio::runtime::Handle::current(),
    )
    .unwrap();
    assert_eq!(progress.position(), 1_000);
    assert_eq!(tally.scored() + tally.dead_letters, 1_000);
    assert_eq!(tally.archived, tally.scored());
    assert_eq!(archived_lines(&out.join("archive")), tally.archived);
    let blocks = tally
        .outcomes
        .get(&vigil_core::Outcome::Block)
        .copied()
        .unwrap_or(0);
    assert!(blocks > 0, "the generated run has fraud in it: {tally:?}");
    assert_eq!(tally.alerts, blocks, "one alert per blocked transaction");
    let _ = std::fs::remove_dir_all(&out);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stage_that_cannot_start_is_an_error_not_a_panic() {
    let out = out_dir("broken");
    let outputs = LocalOutputs::under(&out, AlertPolicy { on_review: false });
    let broken = || Err(vigil_pipeline::Error::Stage("no model".into()));
    let shape = InProcess {
        workers: 2,
        batch_size: 10,
    };
    let err = in_process(
        shape,
        &outputs,
        &broken,
        transactions(50),
        &Counter::default(),
        &tokio::runtime::Handle::current(),
    )
    .unwrap_err();
    assert_eq!(err.to_string(), "no model");
}
