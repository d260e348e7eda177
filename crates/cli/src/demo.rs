//! `vigil demo`: the transaction pipeline end to end on this machine: generate → score →
//! alert (outbox) → archive (local directory), with a closing summary. The runners are
//! `vigil_pipeline::run` (in process by default, through a broker with `--broker`); this
//! module parses nothing but draws their progress and prints what they did.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use vigil_core::Outcome;
use vigil_fraud::features::{EntityStore, MemoryStore};
use vigil_fraud::scorer::Scorer;
use vigil_generator::{FraudPattern, Generated, Generator, default_customers};
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

/// Mixed into the seed for the history, so that it is not the run's own stream again.
const HISTORY_SEED: u64 = 0x5eed_4157_0e11_u64;

/// The customers' state as a bank's scorer holds it when the demo's window opens: every
/// customer's ordinary transactions of the `days` before, folded into their
/// features (not scored, archived or alerted). Without it every customer would be new at
/// the start of the run, which no scorer in service sees and the model did not learn from.
fn customer_history(
    customers: &[vigil_generator::Customer],
    run: &vigil_generator::GeneratorConfig,
    days: u16,
) -> Result<MemoryStore> {
    if days == 0 {
        return Ok(MemoryStore::default());
    }
    let history = vigil_generator::GeneratorConfig {
        fraud_rate: 0.0,
        seed: run.seed ^ HISTORY_SEED,
        start: run.start - chrono::Duration::days(i64::from(days)),
        ..run.clone()
    };
    let mut store = MemoryStore::default();
    for g in Generator::new(customers, &history)? {
        let t = g.transaction;
        let Some(at) = vigil_fraud::input::parse_time(&t.event_time) else {
            continue;
        };
        if at >= run.start {
            break;
        }
        if let Ok(event) = vigil_fraud::input::Event::from_transaction(&t) {
            store.state(&event.entity_id).observe(&event);
        }
    }
    Ok(store)
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
    let truth: HashMap<String, Truth> = generated
        .iter()
        .map(|g| {
            let truth = g.pattern.zip(g.occurrence);
            (g.transaction.event_id.clone(), truth)
        })
        .collect();
    let history = customer_history(&customers, &settings, args.history_days)?;
    let new_stage = || -> Result<ScoreStage, vigil_pipeline::Error> {
        Ok(ScoreStage::with_store(Scorer::shipped()?, history.clone()))
    };
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
    lines.extend(detection(&args.out.join("archive"), &truth)?);
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
    println!(
        "Console: vigil console --data {}   (then open http://127.0.0.1:8080/)",
        args.out.display()
    );
    Ok(())
}

/// What the generator injected into a record: the pattern and its occurrence, or none.
type Truth = Option<(FraudPattern, u64)>;

/// What the scorer made of the injected fraud and of the ordinary transactions, read back
/// from the archive against what the generator injected (the ground truth it keeps). An
/// occurrence of a pattern is caught when any of its transactions is reviewed or blocked:
/// the analyst then sees the card's run.
fn detection(archive: &Path, truth: &HashMap<String, Truth>) -> Result<Vec<String>> {
    let (records, _, _) = crate::history::archive(archive, &HashMap::new())?;
    // Per pattern (None: ordinary): transactions, reviewed, blocked.
    let mut counts: BTreeMap<Option<FraudPattern>, [usize; 3]> = BTreeMap::new();
    // Per occurrence: its pattern and whether any of its transactions was flagged.
    let mut occurrences: HashMap<u64, (FraudPattern, bool)> = HashMap::new();
    for r in &records {
        let Some(injected) = truth.get(&r.event.event_id) else {
            continue; // an earlier run's record
        };
        let flagged = r.recorded != Outcome::Approve;
        let c = counts.entry(injected.map(|(p, _)| p)).or_default();
        c[0] += 1;
        c[1] += usize::from(r.recorded == Outcome::Review);
        c[2] += usize::from(r.recorded == Outcome::Block);
        if let Some((pattern, n)) = injected {
            occurrences.entry(*n).or_insert((*pattern, false)).1 |= flagged;
        }
    }
    let pct = |n: usize, of: usize| 100.0 * n as f64 / of.max(1) as f64;
    let mut by_pattern: BTreeMap<FraudPattern, (usize, usize)> = BTreeMap::new();
    for (pattern, caught) in occurrences.values() {
        let e = by_pattern.entry(*pattern).or_default();
        e.0 += 1;
        e.1 += usize::from(*caught);
    }
    let (runs, caught) = by_pattern
        .values()
        .fold((0, 0), |(r, c), (n, k)| (r + n, c + k));
    let patterns: Vec<String> = by_pattern
        .iter()
        .map(|(p, (n, k))| format!("{p} {k}/{n}"))
        .collect();
    let fraud = counts
        .iter()
        .filter(|(p, _)| p.is_some())
        .fold([0; 3], |a, (_, c)| [a[0] + c[0], a[1] + c[1], a[2] + c[2]]);
    let normal = counts.get(&None).copied().unwrap_or_default();
    Ok(vec![
        format!(
            "caught                  {caught} of {runs} injected fraud patterns ({:.1} %; {}), missed {}",
            pct(caught, runs),
            patterns.join(", "),
            runs - caught
        ),
        format!(
            "                        {} of their {} transactions flagged ({:.1} %: review {}, block {})",
            fraud[1] + fraud[2],
            fraud[0],
            pct(fraud[1] + fraud[2], fraud[0]),
            fraud[1],
            fraud[2]
        ),
        format!(
            "false alarms            {} of {} ordinary transactions ({:.2} %: review {}, block {})",
            normal[1] + normal[2],
            normal[0],
            pct(normal[1] + normal[2], normal[0]),
            normal[1],
            normal[2]
        ),
    ])
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
