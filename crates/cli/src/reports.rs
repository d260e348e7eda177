//! `vigil query` and `vigil report`: SQL and charts over the processed transactions.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result};
use clap::Args;
use vigil_query::Engine;
use vigil_reports::{Report, Runner, Table};

#[derive(Args)]
pub struct QueryArgs {
    /// An archive folder as the demo writes it (`dt=YYYY-MM-DD/*.json`, or the demo's output
    /// folder), or a folder of exported CSVs.
    #[arg(long)]
    data: PathBuf,
    /// The statement, over the table `txn_processedtxns` (Athena's `from_iso8601_timestamp`,
    /// `approx_percentile` and `date_trunc` work as there).
    sql: String,
}

#[derive(Args)]
pub struct ReportArgs {
    /// The data, as for `vigil query`.
    #[arg(long, required_unless_present = "sql")]
    data: Option<PathBuf>,
    /// Where to write `index.html`, the chart PNGs and the query results.
    #[arg(long, required_unless_present = "sql")]
    out: Option<PathBuf>,
    /// Print the report's named queries (name, tab, SQL; the same texts as the template's
    /// Athena named queries) and exit.
    #[arg(long)]
    sql: bool,
}

/// Exit codes: 0 done, 1 no data or unreadable, 2 the statement failed in the engine.
pub async fn query(args: &QueryArgs) -> i32 {
    let mut engine = match Engine::open(&args.data).await {
        Ok(e) => e,
        Err(e) => {
            eprintln!("error: {e}");
            return 1;
        }
    };
    let out = std::io::BufWriter::with_capacity(1 << 20, std::io::stdout().lock());
    let written = engine
        .query_csv(&args.sql, out)
        .await
        .and_then(|mut out| out.flush().map_err(|e| vigil_query::Error::io("output", e)));
    report_warnings(&engine);
    match written {
        Ok(()) => 0,
        Err(vigil_query::Error::Sql(message)) => {
            eprintln!("error: {message}");
            2
        }
        // A closed pipe (`| head`) is the reader's choice, not an error.
        Err(vigil_query::Error::Io { source, .. })
            if source.kind() == std::io::ErrorKind::BrokenPipe =>
        {
            0
        }
        Err(e) => {
            eprintln!("error: {e}");
            1
        }
    }
}

fn report_warnings(engine: &Engine) {
    for w in engine.warnings() {
        eprintln!("warning: {w}");
    }
}

/// The report queries, run by the local engine.
struct Local<'a>(&'a mut Engine);

impl Runner for Local<'_> {
    async fn run(&mut self, name: &str, sql: &str) -> Result<Table, vigil_reports::Error> {
        let failed = |message: String| vigil_reports::Error::Query {
            name: name.to_owned(),
            message,
        };
        let answer = self.0.query(sql).await.map_err(|e| failed(e.to_string()))?;
        let csv = vigil_query::to_csv_string(&answer).map_err(|e| failed(e.to_string()))?;
        Table::from_csv(name, &csv)
    }
}

/// Builds the report of the data under `data` into `out`; returns the page's path.
pub async fn build_report(data: &Path, out: &Path) -> Result<(PathBuf, Report)> {
    let mut engine = Engine::open(data)
        .await
        .with_context(|| format!("reading {}", data.display()))?;
    engine
        .keep_in_memory(vigil_reports::queries::COLUMNS)
        .await
        .context("reading the report's columns")?;
    let mut report = Report::build(&mut Local(&mut engine)).await?;
    report.notes.extend(engine.warnings());
    let written = vigil_reports::write(&report, out, &data.display().to_string())?;
    Ok((written.index, report))
}

pub async fn report(args: &ReportArgs) -> Result<()> {
    let (Some(data), Some(out)) = (&args.data, &args.out) else {
        let mut out = std::io::stdout().lock();
        for (name, sql) in vigil_reports::queries::named_queries() {
            if let Err(e) = writeln!(out, "{name}\t{sql}") {
                // A closed pipe (`| head`) is the reader's choice, not an error.
                if e.kind() == std::io::ErrorKind::BrokenPipe {
                    return Ok(());
                }
                return Err(e.into());
            }
        }
        return Ok(());
    };
    let started = Instant::now();
    eprintln!("report: reading {} …", data.display());
    let (index, report) = build_report(data, out).await?;
    for n in &report.notes {
        eprintln!("warning: {n}");
    }
    println!(
        "report: {} transactions ({} approve, {} review, {} block) from {} to {}, per {}; {} in {:.2} s",
        report.total(),
        report.totals[0],
        report.totals[1],
        report.totals[2],
        report.first_event,
        report.last_event,
        report.unit.as_str(),
        index.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
