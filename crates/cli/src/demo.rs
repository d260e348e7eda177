//! `vigil demo`: the transaction pipeline end to end on this machine: generate → score →
//! alert (outbox) → archive (local directory), with a closing summary. The runners are
//! `vigil_pipeline::run` (in process by default, through a broker with `--broker`); this
//! module parses nothing but draws their progress and prints what they did.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use vigil_fraud::scorer::Scorer;
use vigil_generator::{Generated, Generator, default_customers};
use vigil_pipeline::alert::AlertPolicy;
use vigil_pipeline::run::broker::{self, StageProgress};
use vigil_pipeline::run::{self, InProcess, LocalOutputs, Progress, Tally};
use vigil_pipeline::score::ScoreStage;

use crate::DemoArgs;

fn style(bar: &ProgressBar) {
    bar.set_style(
        ProgressStyle::with_template("{msg:>10} [{bar:40}] {pos}/{len} ({per_sec}, {elapsed})")
            .expect("constant template")
            .progress_chars("=> "),
    );
}

fn bar(len: usize, what: &str) -> ProgressBar {
    let bar = ProgressBar::new(len as u64).with_message(what.to_owned());
    style(&bar);
    bar
}

/// The runners' progress drawn as indicatif bars (hidden when stderr is no terminal).
struct Bar(ProgressBar);

impl Progress for Bar {
    fn inc(&self, n: u64) {
        self.0.inc(n);
    }

    fn set_length(&self, n: u64) {
        self.0.set_length(n);
    }

    fn position(&self) -> u64 {
        self.0.position()
    }

    /// A line on stderr above the bars.
    fn say(&self, line: &str) {
        self.0.suspend(|| eprintln!("{line}"));
    }

    fn finish(&self) {
        self.0.finish();
    }
}

fn rate(count: usize, took: Duration) -> String {
    format!("{:.0}/s", count as f64 / took.as_secs_f64().max(1e-9))
}

/// The in-process pipeline's threads: `--workers`, or one per core.
fn workers(args: &DemoArgs) -> usize {
    args.workers.map(usize::from).unwrap_or_else(|| {
        std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
    })
}

/// The scoring stage with the model and rules Vigil ships (their versions in each record).
fn new_stage() -> Result<ScoreStage, vigil_pipeline::Error> {
    Ok(ScoreStage::new(Scorer::shipped()?))
}

fn outputs(args: &DemoArgs) -> LocalOutputs {
    LocalOutputs::under(
        &args.out,
        AlertPolicy {
            on_review: args.alert_on_review,
        },
    )
}

pub async fn run(args: &DemoArgs) -> Result<()> {
    let customers = default_customers()?;
    let settings = args.generator.config(args.count);
    let count = args.count as usize;
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;
    eprintln!(
        "Vigil demo: {count} transactions, fraud rate {}, seed {}, results in {}",
        settings.fraud_rate,
        settings.seed,
        args.out.display()
    );

    // The broker first: an absent one is reported before any work, and its set-up is not
    // counted as the pipeline's time.
    let link = match &args.broker {
        Some(broker) => {
            let security = vigil_kafka::Security::from_lookup(|name| std::env::var(name).ok())?;
            Some(broker::connect(broker, security, &args.topic).await?)
        }
        None => None,
    };
    let progress = bar(count, "generate");
    let generated: Vec<Generated> = Generator::new(&customers, &settings)?
        .take(count)
        .inspect(|_| progress.inc(1))
        .collect();
    progress.finish();
    let mut by_pattern: BTreeMap<&str, usize> = BTreeMap::new();
    for g in &generated {
        if let Some(p) = g.pattern {
            *by_pattern.entry(p.as_str()).or_default() += 1;
        }
    }
    let fraud: usize = by_pattern.values().sum();
    let patterns = by_pattern
        .iter()
        .map(|(p, n)| format!("{p} {n}"))
        .collect::<Vec<_>>()
        .join(", ");
    let mut lines = vec![format!(
        "transactions generated  {count} ({fraud} in fraud patterns: {patterns})"
    )];

    let began = Instant::now();
    let tally = match link {
        Some(link) => {
            lines.push(format!(
                "stages                  through the broker on {}: a producer and the consumer groups score, alert, archive",
                link.config.bootstrap_servers
            ));
            lines.push(format!(
                "broker set-up           {:.2} s before the run (topics, producer, where the topics end)",
                link.took.as_secs_f64()
            ));
            let bars = MultiProgress::new();
            let stage_bar =
                |what| -> Arc<dyn Progress> { Arc::new(Bar(bars.add(bar(count, what)))) };
            let progress = StageProgress {
                produce: stage_bar("produce"),
                score: stage_bar("score"),
                alert: stage_bar("alert"),
                archive: stage_bar("archive"),
            };
            let transactions = generated.into_iter().map(|g| g.transaction).collect();
            broker::through_broker(
                link,
                args.batch_size as usize,
                outputs(args),
                new_stage()?,
                transactions,
                &progress,
            )
            .await?
        }
        None => {
            lines.push(format!(
                "stages                  in process on {} threads (pass --broker HOST:PORT to go through Kafka)",
                workers(args)
            ));
            let shape = InProcess {
                workers: workers(args),
                batch_size: args.batch_size as usize,
            };
            run::in_process(
                shape,
                &outputs(args),
                &new_stage,
                generated.into_iter().map(|g| g.transaction),
                &Bar(bar(count, "process")),
                &tokio::runtime::Handle::current(),
            )?
        }
    };
    let took = began.elapsed();
    lines.extend(summary(args, &tally));
    lines.push(format!(
        "end to end              {count} transactions in {:.2} s ({})",
        took.as_secs_f64(),
        rate(count, took)
    ));

    if args.documents > 0 {
        let seed = args.generator.seed.unwrap_or(1);
        lines.extend(crate::documents::demo(&args.out, args.documents, seed, &args.model).await?);
    }

    let began = Instant::now();
    let report =
        crate::reports::build_report(&args.out.join("archive"), &args.out.join("report")).await;
    match &report {
        Ok((_, report)) => {
            lines.push(format!(
                "report                  {} transactions charted in {:.2} s ({} note(s) on the data)",
                report.total(),
                began.elapsed().as_secs_f64(),
                report.notes.len()
            ));
            // The archive, read back, should hold each transaction this run scored once.
            let scored = tally.scored();
            if report.total() != scored as u64 {
                lines.push(format!(
                    "WARNING                 the archive holds {} transactions for {scored} scored in this run: an earlier run's records in the same folder, or records lost or archived twice",
                    report.total()
                ));
            }
        }
        Err(e) => lines.push(format!("report                  not built: {e:#}")),
    }

    println!("\nVigil demo summary");
    for line in lines {
        println!("  {line}");
    }
    if let Ok((index, _)) = report {
        println!("\nReport: {}", index.display());
    }
    Ok(())
}

fn summary(args: &DemoArgs, tally: &Tally) -> Vec<String> {
    let scored = tally.scored();
    let outcome_text = tally
        .outcomes
        .iter()
        .map(|(o, n)| format!("{o} {n}"))
        .collect::<Vec<_>>()
        .join(", ");
    let mut lines = vec![format!(
        "scored                  {scored} ({outcome_text}); {} dead letters; {} customers",
        tally.dead_letters, tally.entities
    )];
    lines.push(format!(
        "alerts                  {} in {} (on block{})",
        tally.alerts,
        args.out.join("outbox").display(),
        if args.alert_on_review {
            " and review"
        } else {
            ""
        }
    ));
    lines.push(format!(
        "archive                 {} records in {} objects under {}",
        tally.archived,
        tally.objects,
        Path::new(&args.out).join("archive/processed").display(),
    ));
    for (stage, n, took) in &tally.stage_times {
        lines.push(format!(
            "{:<24}{n} records in {:.2} s ({})",
            format!("  {stage}"),
            took.as_secs_f64(),
            rate(*n, *took)
        ));
    }
    lines
}
