//! The transactions report: its queries (one SQL text for Athena and DataFusion), the
//! figures read from their results, the charts (plotters) and a self-contained HTML page.

pub mod charts;
mod error;
pub mod html;
pub mod queries;
mod report;
mod table;

use std::path::{Path, PathBuf};

pub use error::Error;
pub use report::{AmountRow, Counts, Period, Report, Runner};
pub use table::Table;

/// What [`write`] produced.
#[derive(Debug, Clone)]
pub struct Written {
    pub index: PathBuf,
    pub pngs: Vec<PathBuf>,
    pub csvs: Vec<PathBuf>,
}

fn io(path: &Path, source: std::io::Error) -> Error {
    Error::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Writes `index.html`, the charts as PNG and each query's result as `data/<name>.csv`.
pub fn write(report: &Report, out: &Path, source: &str) -> Result<Written, Error> {
    let data = out.join("data");
    std::fs::create_dir_all(&data).map_err(|e| io(&data, e))?;
    let svgs = charts::svgs(report)?;
    let index = out.join("index.html");
    std::fs::write(&index, html::page(report, &svgs, source)).map_err(|e| io(&index, e))?;
    let pngs = charts::write_pngs(report, out)?;
    let mut csvs = Vec::new();
    for t in &report.tables {
        let path = data.join(format!("{}.csv", t.name));
        std::fs::write(&path, t.to_csv()).map_err(|e| io(&path, e))?;
        csvs.push(path);
    }
    Ok(Written { index, pngs, csvs })
}
