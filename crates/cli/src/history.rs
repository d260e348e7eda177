//! History the fraud commands read back: an archive of processed transactions (as the
//! pipeline writes it: `processed/dt=…/*.json`) and analysts' labels, for `vigil backtest`
//! and `vigil train --archive`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use sha2::{Digest, Sha256};
use vigil_core::{Outcome, ProcessedTransaction};
use vigil_fraud::input::Event;

/// Where labels live in an archive (as `labels/` in the archive bucket on AWS).
pub const LABELS_DIR: &str = "labels";

/// The NDJSON and JSON files under `dir` (hidden ones and `labels/` left out), in path order.
fn json_files(dir: &Path, skip_labels: bool) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(d) = pending.pop() {
        for entry in std::fs::read_dir(&d).with_context(|| format!("reading {}", d.display()))? {
            let path = entry?.path();
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            if name.starts_with('.') || (skip_labels && name == LABELS_DIR && d == dir) {
                continue;
            }
            if path.is_dir() {
                pending.push(path);
            } else if name.ends_with(".json") || name.ends_with(".ndjson") {
                files.push(path);
            }
        }
    }
    files.sort();
    Ok(files)
}

/// The labels of `--labels FILE` and of the archive's `labels/` files (later files win for
/// the same event); rows that cannot be read are reported, not fatal.
pub fn labels(archive: &Path, file: Option<&Path>) -> Result<HashMap<String, bool>> {
    let mut sources = Vec::new();
    let folder = archive.join(LABELS_DIR);
    if folder.is_dir() {
        sources.extend(json_files(&folder, false)?);
    }
    sources.extend(file.map(Path::to_path_buf));
    let mut out = HashMap::new();
    for path in sources {
        let bytes = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
        let read = vigil_fraud::labels::parse(&bytes)
            .with_context(|| format!("labels {}", path.display()))?;
        for why in read.rejected.iter().take(5) {
            eprintln!("labels {}: skipped {why}", path.display());
        }
        out.extend(read.by_event);
    }
    Ok(out)
}

/// One processed transaction read back: the scorer's view, its label, what was decided.
pub struct Record {
    pub event: Event,
    pub label: Option<bool>,
    pub recorded: Outcome,
}

/// Every readable record of an archive (unreadable lines counted), and the SHA-256 of the
/// archive's files and the labels, in that order, to name the training input.
pub fn archive(dir: &Path, labels: &HashMap<String, bool>) -> Result<(Vec<Record>, u64, String)> {
    let files = json_files(dir, true)?;
    if files.is_empty() {
        bail!(
            "{} holds no processed transactions (*.json): give an archive as `vigil demo` writes it",
            dir.display()
        );
    }
    let mut hasher = Sha256::new();
    let (mut records, mut bad) = (Vec::new(), 0u64);
    for file in files {
        let bytes = std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
        hasher.update(&bytes);
        for line in bytes.split(|b| *b == b'\n') {
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            let Ok(mut p) = sonic_rs::from_slice::<ProcessedTransaction>(line) else {
                bad += 1;
                continue;
            };
            match Event::take_from(&mut p.transaction) {
                Ok((event, _)) => records.push(Record {
                    label: labels.get(&event.event_id).copied(),
                    event,
                    recorded: p.fd.outcome,
                }),
                Err(_) => bad += 1,
            }
        }
    }
    let mut ids: Vec<(&String, &bool)> = labels.iter().collect();
    ids.sort();
    for (id, fraud) in ids {
        hasher.update(id.as_bytes());
        hasher.update([u8::from(*fraud)]);
    }
    Ok((records, bad, format!("{:x}", hasher.finalize())))
}

/// Events to train on, each with its label if it has one (1 fraud, 0 legit).
pub type TrainingEvents = Vec<(Event, Option<u8>)>;

/// [`archive`] as training events and the input's SHA-256.
pub fn archive_events(
    dir: &Path,
    labels: &HashMap<String, bool>,
) -> Result<(TrainingEvents, String)> {
    let (records, bad, digest) = archive(dir, labels)?;
    if bad > 0 {
        eprintln!("{}: {bad} unreadable lines skipped", dir.display());
    }
    if !records.iter().any(|r| r.label.is_some()) {
        bail!(
            "none of the {} transactions in {} has a label: give --labels FILE (event_id, label fraud|legit)",
            records.len(),
            dir.display()
        );
    }
    Ok((
        records
            .into_iter()
            .map(|r| (r.event, r.label.map(u8::from)))
            .collect(),
        digest,
    ))
}

/// Stores analysts' labels (CSV or NDJSON) in the archive's `labels/` as NDJSON, the layout
/// the `txn_labels` table reads, under a name derived from the content (importing the same
/// file twice writes one file). Returns the file written, and how many labels it holds.
pub fn import_labels(archive: &Path, file: &Path) -> Result<(PathBuf, usize, usize)> {
    let bytes = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    let read = vigil_fraud::labels::parse_rows(&bytes)
        .with_context(|| format!("labels {}", file.display()))?;
    for why in read.rejected.iter().take(5) {
        eprintln!("labels {}: skipped {why}", file.display());
    }
    if read.labels.is_empty() {
        bail!("{} holds no readable label", file.display());
    }
    let mut out = Vec::new();
    for label in &read.labels {
        serde_json::to_writer(&mut out, label)?;
        out.push(b'\n');
    }
    let digest = format!("{:x}", Sha256::digest(&out));
    let dir = archive.join(LABELS_DIR);
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let path = dir.join(format!("labels-{}.json", &digest[..12]));
    std::fs::write(&path, &out).with_context(|| format!("writing {}", path.display()))?;
    Ok((path, read.labels.len(), read.rejected.len()))
}
