//! `vigil`: runs Vigil's pipelines locally. See `vigil --help`.

mod backtest;
mod console;
mod demo;
mod documents;
mod fraud;
mod generate;
mod history;
mod ownership;
mod reports;
mod versions;

use std::path::PathBuf;

// Scoring allocates many small strings per record: an allocator with thread-local free
// lists (and memory it keeps) makes the pipeline markedly faster than glibc's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use anyhow::Result;
use chrono::{DateTime, Utc};
use clap::{Args, Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "vigil",
    version,
    about = "Fraud and compliance pipelines, run locally"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Print synthetic card transactions as NDJSON (one JSON record per line).
    Generate(GenerateArgs),
    /// Run the pipeline end to end on this machine and summarise what happened.
    Demo(DemoArgs),
    /// Train the built-in fraud model on a labeled CSV; prints held-out metrics.
    Train(fraud::TrainArgs),
    /// Score a CSV of transactions: one processed record per row, as NDJSON.
    Score(fraud::ScoreArgs),
    /// Measure the fraud scorer's speed on one thread (inference alone and the whole step).
    BenchFraud(fraud::BenchArgs),
    /// Classify PDF files as holding personal data or not, with the findings.
    Classify(documents::ClassifyArgs),
    /// Manage the NER model (`vigil model import`).
    #[command(subcommand)]
    Model(documents::ModelCommand),
    /// Write a labeled corpus of synthetic loan documents (or the hostile files).
    Corpus(documents::CorpusArgs),
    /// Classify a corpus written by `vigil corpus` and score the verdicts against its truth.
    EvaluateDocuments(documents::EvaluateArgs),
    /// Print the text of PDF files, page by page, as JSON lines.
    Extract(documents::ExtractArgs),
    /// Learn the weights of the ownership model (whose is a value?) from labelled PDFs.
    TrainOwnership(ownership::TrainOwnershipArgs),
    /// Run SQL over the processed transactions (table `txn_processedtxns`); prints CSV.
    Query(reports::QueryArgs),
    /// Build the transactions report (HTML page with charts, PNGs, CSV results).
    Report(reports::ReportArgs),
    /// Replay history under the active and a candidate model and rules; what would change.
    Backtest(backtest::BacktestArgs),
    /// Store analysts' verdicts (CSV or NDJSON: event_id, label fraud|legit, time, who) in an
    /// archive's labels/, where backtests, training and the txn_labels table read them.
    Labels(LabelsArgs),
    /// Publish a model, rules or a list to the registry of versions (a draft until activated).
    Publish(versions::PublishArgs),
    /// Make a published model or rules version the one that scores.
    Activate(versions::ActivateArgs),
    /// Score candidate versions beside the active ones (in `fd.shadow`, never acted on).
    Shadow(versions::ShadowArgs),
    /// List the registry's versions, which are active, and its lists.
    Versions(versions::VersionsArgs),
    /// Serve the console (documents, review queue, reports) over a demo's folder.
    Console(console::ConsoleArgs),
}

/// What to generate; shared by `generate` and `demo`.
#[derive(Args, Clone)]
struct GeneratorArgs {
    /// Share of records that belong to an injected fraud pattern (0–1).
    #[arg(long, default_value_t = 0.05, value_parser = parse_rate)]
    fraud_rate: f64,
    /// Seed of the generator: the same seed gives the same records.
    #[arg(long)]
    seed: Option<u64>,
    /// Event time of the first record (RFC 3339). Default: early enough that the run's
    /// times end about now (mean gap 20 s), or 2024-01-01T00:00:00Z with --seed.
    #[arg(long)]
    start: Option<DateTime<Utc>>,
}

#[derive(Args)]
struct GenerateArgs {
    /// How many transactions.
    #[arg(long, short = 'n', default_value_t = 50, value_parser = clap::value_parser!(u64).range(1..=100_000_000))]
    count: u64,
    #[command(flatten)]
    generator: GeneratorArgs,
}

#[derive(Args)]
struct LabelsArgs {
    /// The labels file.
    file: PathBuf,
    /// The archive (as `vigil demo` writes it) whose labels/ receives them.
    #[arg(long)]
    archive: PathBuf,
}

#[derive(Args)]
struct DemoArgs {
    /// Where the demo writes its results.
    #[arg(long, default_value = "vigil-demo")]
    out: PathBuf,
    /// A Kafka-protocol broker (host:port) to run the pipeline through; without it the
    /// stages run in process. TLS and SASL come from the same variables as the Lambda
    /// functions': KAFKA_SECURITY_PROTOCOL (plaintext|ssl), KAFKA_SSL_CA_FILE,
    /// KAFKA_AUTH (none|scram|iam), KAFKA_SCRAM_USERNAME/PASSWORD, KAFKA_IAM_REGION.
    ///
    /// stages run in process.
    #[arg(long, env = "VIGIL_BROKER")]
    broker: Option<String>,
    /// Topic the producer writes to.
    #[arg(long, default_value = "transactions")]
    topic: String,
    /// How many transactions.
    #[arg(long, short = 'n', default_value_t = 2_000, value_parser = clap::value_parser!(u64).range(1..=10_000_000))]
    count: u64,
    /// Records per batch in each stage, as an event source mapping's `BatchSize`.
    #[arg(long, default_value_t = 500, value_parser = clap::value_parser!(u64).range(1..=10_000))]
    batch_size: u64,
    /// Threads of the in-process pipeline, each with its own share of the customers
    /// (default: one per core). Ignored with --broker.
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..=256))]
    workers: Option<u16>,
    /// Alert on `review` as well as `block`.
    #[arg(long)]
    alert_on_review: bool,
    /// Days of ordinary history each customer has before the run, folded into the
    /// scorer's state as a scorer in service holds it (0: every customer starts new).
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u16).range(0..=365))]
    history_days: u16,
    /// How many loan documents to upload and classify (layouts cycle; 0 skips them).
    #[arg(long, default_value_t = 26)]
    documents: usize,
    #[command(flatten)]
    model: documents::ModelArgs,
    #[command(flatten)]
    generator: GeneratorArgs,
}

fn parse_rate(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(r) if (0.0..=1.0).contains(&r) => Ok(r),
        _ => Err(format!("`{text}` is not a number from 0 to 1")),
    }
}

impl GeneratorArgs {
    /// The generator's settings for a run of `count` records.
    fn config(&self, count: u64) -> vigil_generator::GeneratorConfig {
        let fixed_start = "2024-01-01T00:00:00Z".parse().expect("constant timestamp");
        let defaults = vigil_generator::GeneratorConfig::default();
        // A run that started now would be dated mostly in the future (a million records
        // span eight months): it is placed to end about now instead.
        let span =
            chrono::Duration::milliseconds((count as f64 * defaults.mean_gap_secs * 1e3) as i64);
        vigil_generator::GeneratorConfig {
            fraud_rate: self.fraud_rate,
            seed: self.seed.unwrap_or_else(rand_seed),
            start: self.start.unwrap_or_else(|| {
                if self.seed.is_some() {
                    fixed_start
                } else {
                    Utc::now() - span
                }
            }),
            ..defaults
        }
    }
}

fn rand_seed() -> u64 {
    Utc::now().timestamp_nanos_opt().unwrap_or_default() as u64 ^ u64::from(std::process::id())
}

fn main() -> Result<()> {
    quiet_on_closed_pipe();
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("VIGIL_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn,lopdf=error")),
        )
        .init();
    match Cli::parse().command {
        Command::Generate(args) => generate::run(&args),
        Command::Demo(args) => tokio::runtime::Runtime::new()?.block_on(demo::run(&args)),
        Command::Train(args) => fraud::train(&args),
        Command::Score(args) => fraud::score(&args),
        Command::BenchFraud(args) => fraud::bench(&args),
        Command::Classify(args) => {
            let code = documents::classify(&args)?;
            std::process::exit(code)
        }
        Command::Model(command) => documents::model(&command),
        Command::Corpus(args) => documents::corpus(&args),
        Command::EvaluateDocuments(args) => documents::evaluate(&args),
        Command::Extract(args) => documents::extract(&args),
        Command::TrainOwnership(args) => ownership::train_ownership(&args),
        Command::Query(args) => {
            let code = tokio::runtime::Runtime::new()?.block_on(reports::query(&args));
            std::process::exit(code)
        }
        Command::Backtest(args) => backtest::run(&args),
        Command::Labels(args) => {
            let (path, n, rejected) = history::import_labels(&args.archive, &args.file)?;
            println!("{n} labels ({rejected} rows skipped) → {}", path.display());
            Ok(())
        }
        Command::Publish(args) => versions::run(versions::Command::Publish(args)),
        Command::Activate(args) => versions::run(versions::Command::Activate(args)),
        Command::Shadow(args) => versions::run(versions::Command::Shadow(args)),
        Command::Versions(args) => versions::run(versions::Command::Versions(args)),
        Command::Report(args) => tokio::runtime::Runtime::new()?.block_on(reports::report(&args)),
        Command::Console(args) => tokio::runtime::Runtime::new()?.block_on(console::run(&args)),
    }
}

/// `vigil extract FILE | head`: when the reader goes away, the command ends as any Unix
/// tool does (SIGPIPE's default action), not with `Error: Broken pipe` or a panic in
/// `println!`. Rust's runtime ignores SIGPIPE; this puts the default back.
fn quiet_on_closed_pipe() {
    #[cfg(unix)]
    // SAFETY: called first in `main`, before any thread exists; restoring a signal's
    // default disposition has no other effect on the process.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(seed: Option<u64>, start: Option<&str>) -> GeneratorArgs {
        GeneratorArgs {
            fraud_rate: 0.05,
            seed,
            start: start.map(|s| s.parse().unwrap()),
        }
    }

    #[test]
    fn an_unseeded_run_is_dated_to_end_about_now() {
        let count = 1_000_000;
        let config = args(None, None).config(count);
        let end =
            config.start + chrono::Duration::seconds((count as f64 * config.mean_gap_secs) as i64);
        assert!((end - Utc::now()).num_seconds().abs() < 60, "ends at {end}");
        assert!(config.start < Utc::now() - chrono::Duration::days(200));
    }

    #[test]
    fn a_seed_or_a_start_fixes_the_dates() {
        let fixed: DateTime<Utc> = "2024-01-01T00:00:00Z".parse().unwrap();
        assert_eq!(args(Some(3), None).config(10).start, fixed);
        let given = "2025-06-01T12:00:00Z";
        assert_eq!(
            args(None, Some(given)).config(10).start,
            given.parse::<DateTime<Utc>>().unwrap()
        );
    }
}
