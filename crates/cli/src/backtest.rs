//! `vigil backtest`: replays history (an archive of processed transactions, or a labelled
//! CSV) under the active model and rules and a candidate, and prints what would have
//! changed (`vigil_fraud::backtest`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::Args;
use vigil_core::Outcome;
use vigil_fraud::backtest::{Item, Report, Side, SideReport, replay};
use vigil_fraud::input::{LabeledReader, open};
use vigil_fraud::model::ModelFile;
use vigil_fraud::rules::Rules;
use vigil_fraud::scorer::Versions;
use vigil_fraud::versions::{self, Kind};
use vigil_pipeline::local::LocalStore;
use vigil_pipeline::registry::Registry;

use crate::fraud::spinner;

#[derive(Args)]
pub struct BacktestArgs {
    /// An archive of processed transactions (as `vigil demo` writes it: DIR/processed/…).
    #[arg(long, conflicts_with = "input", required_unless_present = "input")]
    archive: Option<PathBuf>,
    /// A labelled CSV (the layout `vigil train` reads) instead of an archive.
    #[arg(long)]
    input: Option<PathBuf>,
    /// Analysts' labels (CSV or NDJSON: event_id, label fraud|legit) for an archive, besides
    /// those in the archive's labels/.
    #[arg(long)]
    labels: Option<PathBuf>,
    /// The candidate model: a file, or a version id in the registry. Default: the active.
    #[arg(long)]
    model: Option<String>,
    /// The candidate rules: a file, or a version id in the registry. Default: the active.
    #[arg(long)]
    rules: Option<String>,
    /// The registry whose active versions are the baseline (a directory; none there: the
    /// shipped versions).
    #[arg(long, env = "VIGIL_REGISTRY", default_value = "vigil-registry")]
    registry: PathBuf,
    /// Writes the whole report as JSON.
    #[arg(long)]
    json: Option<PathBuf>,
}

/// The archive's records as backtest items, with their labels.
fn read_archive(dir: &Path, labels_file: Option<&Path>) -> Result<(Vec<Item>, u64)> {
    let labels = crate::history::labels(dir, labels_file)?;
    let (records, bad, _) = crate::history::archive(dir, &labels)?;
    let items = records
        .into_iter()
        .map(|r| Item {
            event: r.event,
            label: r.label,
            recorded: Some(r.recorded),
        })
        .collect();
    Ok((items, bad))
}

fn read_csv(path: &Path) -> Result<(Vec<Item>, u64)> {
    let rows =
        LabeledReader::new(open(path)?).with_context(|| format!("reading {}", path.display()))?;
    let (mut items, mut bad) = (Vec::new(), 0u64);
    for row in rows {
        match row {
            Ok(r) => items.push(Item {
                label: r.label.map(|l| l == 1),
                event: r.event,
                recorded: None,
            }),
            Err(_) => bad += 1,
        }
    }
    Ok((items, bad))
}

async fn candidate_model(
    registry: &Registry<LocalStore>,
    given: &str,
) -> Result<(ModelFile, String)> {
    if versions::kind_of(given) == Some(Kind::Model) && !Path::new(given).exists() {
        let bytes = registry.artifact(Kind::Model, given).await?;
        let (model, _) = versions::check_model(&bytes)?;
        return Ok((model, given.to_owned()));
    }
    let bytes = std::fs::read(given).with_context(|| format!("reading model {given}"))?;
    let (model, _) = versions::check_model(&bytes).with_context(|| format!("model {given}"))?;
    Ok((model, versions::version_id(Kind::Model, &bytes)))
}

async fn candidate_rules(registry: &Registry<LocalStore>, given: &str) -> Result<(Rules, String)> {
    let lists = registry.lists().await?;
    let (bytes, id) = if versions::kind_of(given) == Some(Kind::Rules) && !Path::new(given).exists()
    {
        (
            registry.artifact(Kind::Rules, given).await?,
            given.to_owned(),
        )
    } else {
        let bytes = std::fs::read(given).with_context(|| format!("reading rules {given}"))?;
        let id = versions::version_id(Kind::Rules, &bytes);
        (bytes, id)
    };
    let (rules, _) =
        versions::check_rules(&bytes, &lists).with_context(|| format!("rules {given}"))?;
    Ok((rules, id))
}

pub fn run(args: &BacktestArgs) -> Result<()> {
    let runtime = tokio::runtime::Runtime::new()?;
    let registry = crate::versions::local(&args.registry)?;
    let active = runtime.block_on(registry.load())?;
    let active_versions = active.versions().cloned().context("the active versions")?;
    let model = match &args.model {
        Some(m) => Some(runtime.block_on(candidate_model(&registry, m))?),
        None => None,
    };
    let rules = match &args.rules {
        Some(r) => Some(runtime.block_on(candidate_rules(&registry, r))?),
        None => None,
    };

    let began = Instant::now();
    let (items, bad) = match (&args.archive, &args.input) {
        (Some(dir), _) => read_archive(dir, args.labels.as_deref())?,
        (None, Some(csv)) => read_csv(csv)?,
        (None, None) => bail!("give --archive DIR or --input CSV"),
    };
    if items.is_empty() {
        bail!("no transaction to replay ({bad} unreadable)");
    }
    let read = began.elapsed();

    let active_side = Side {
        model: active.model(),
        rules: active.rules(),
        versions: active_versions.clone(),
    };
    let candidate_side = Side {
        model: model.as_ref().map_or(active.model(), |(m, _)| m),
        rules: rules.as_ref().map_or(active.rules(), |(r, _)| r),
        versions: Versions {
            model: model
                .as_ref()
                .map_or(active_versions.model.clone(), |(_, id)| id.clone()),
            rules: rules
                .as_ref()
                .map_or(active_versions.rules.clone(), |(_, id)| id.clone()),
        },
    };
    let progress = spinner("replaying");
    let began = Instant::now();
    let report = replay(items, &active_side, &candidate_side, |done| {
        progress.set_position(done as u64)
    });
    let replayed = began.elapsed();
    progress.finish_and_clear();

    print_report(&report);
    println!(
        "read {} events in {:.2} s ({bad} unreadable skipped); replayed both sides in {:.2} s ({:.0} events/s, one thread)",
        report.events,
        read.as_secs_f64(),
        replayed.as_secs_f64(),
        report.events as f64 / replayed.as_secs_f64().max(1e-9)
    );
    if let Some(path) = &args.json {
        std::fs::write(path, serde_json::to_vec_pretty(&report)?)
            .with_context(|| format!("writing {}", path.display()))?;
        println!("report written to {}", path.display());
    }
    Ok(())
}

fn count(map: &BTreeMap<Outcome, u64>, o: Outcome) -> u64 {
    map.get(&o).copied().unwrap_or(0)
}

fn per_day(side: &SideReport) -> String {
    let days = side.alerts_per_day.len().max(1) as f64;
    let total: u64 = side.alerts_per_day.values().sum();
    let max = side.alerts_per_day.values().max().copied().unwrap_or(0);
    format!("{:.1} (max {max})", total as f64 / days)
}

fn print_report(r: &Report) {
    let (a, c) = (&r.active, &r.candidate);
    println!(
        "backtest of {} events from {} to {}",
        r.events,
        r.from.as_deref().unwrap_or("-"),
        r.to.as_deref().unwrap_or("-")
    );
    println!("{:<24} {:>26} {:>26}", "", "active", "candidate");
    println!(
        "{:<24} {:>26} {:>26}",
        "model", a.model_version, c.model_version
    );
    println!(
        "{:<24} {:>26} {:>26}",
        "rules", a.rules_version, c.rules_version
    );
    for o in [Outcome::Approve, Outcome::Review, Outcome::Block] {
        println!(
            "{:<24} {:>26} {:>26}",
            o.to_string(),
            count(&a.outcomes, o),
            count(&c.outcomes, o)
        );
    }
    println!(
        "{:<24} {:>26} {:>26}",
        "alerts per day",
        per_day(a),
        per_day(c)
    );
    if let (Some(la), Some(lc)) = (&a.labelled, &c.labelled) {
        let pct = |v: Option<f64>| v.map_or("-".into(), |v| format!("{:.1} %", v * 100.0));
        println!("{:<24} {:>26} {:>26}", "labelled fraud", la.fraud, lc.fraud);
        println!(
            "{:<24} {:>26} {:>26}",
            "precision (review+block)",
            pct(la.precision),
            pct(lc.precision)
        );
        println!(
            "{:<24} {:>26} {:>26}",
            "recall (review+block)",
            pct(la.recall),
            pct(lc.recall)
        );
        println!(
            "{:<24} {:>26} {:>26}",
            "fraud amount caught",
            format!("{:.2} of {:.2}", la.fraud_amount_flagged, la.fraud_amount),
            format!("{:.2} of {:.2}", lc.fraud_amount_flagged, lc.fraud_amount)
        );
    }
    if let Some(recorded) = &r.recorded {
        println!(
            "recorded in the archive: approve {}, review {}, block {}",
            count(recorded, Outcome::Approve),
            count(recorded, Outcome::Review),
            count(recorded, Outcome::Block)
        );
    }
    println!("rule hits (active | candidate):");
    let mut rules: BTreeMap<&str, (Option<u64>, Option<u64>)> = BTreeMap::new();
    for h in &a.rule_hits {
        rules.entry(&h.rule).or_default().0 = Some(h.hits);
    }
    for h in &c.rule_hits {
        rules.entry(&h.rule).or_default().1 = Some(h.hits);
    }
    for (rule, (x, y)) in rules {
        let show = |v: Option<u64>| v.map_or("-".to_owned(), |v| v.to_string());
        println!("  {rule:<30} {:>10} {:>10}", show(x), show(y));
    }
    if r.changed.is_empty() {
        println!("no decision changes");
        return;
    }
    let moved: Vec<String> = r.changed.iter().map(|(k, v)| format!("{k} {v}")).collect();
    println!("changed decisions: {}", moved.join(", "));
    for ch in &r.changed_sample {
        println!(
            "  {} {} {:>10.2}  {} → {}  score {:.0} → {:.0}  {}{}",
            ch.event_id,
            ch.event_time,
            ch.amount,
            ch.active,
            ch.candidate,
            ch.active_score,
            ch.candidate_score,
            ch.candidate_rules.join(","),
            match ch.label {
                Some(true) => "  [fraud]",
                Some(false) => "  [legit]",
                None => "",
            }
        );
    }
}
