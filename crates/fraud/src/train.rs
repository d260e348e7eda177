//! Training from a labeled CSV: causal features in event-time order, a split by time
//! (train / early-stopping / held-out validation), gradient boosting, and held-out metrics.

use std::io::{Read, Write};
use std::path::Path;

use chrono::DateTime;
use sha2::{Digest, Sha256};

use crate::Error;
use crate::features::{EntityStore, FEATURE_NAMES, Features, MemoryStore};
use crate::gbdt::{self, Params};
use crate::input::{Event, LabeledReader, open};
use crate::metrics::{Metrics, evaluate};
use crate::model::{FORMAT, FORMAT_VERSION, ModelFile, TrainingInfo};

/// Featurised rows of a labeled file, in event-time order.
pub struct Dataset {
    pub features: Vec<Features>,
    pub labels: Vec<Option<u8>>,
    pub times: Vec<i64>,
    pub rejected: usize,
    /// The first few rejected rows' errors (row numbers and reasons, no values).
    pub first_errors: Vec<String>,
    pub sha256: String,
}

/// Reads `path` (CSV, or gzipped CSV), orders rows by event time (stable) and computes each
/// row's features from the entity's earlier rows only.
pub fn featurize(path: &Path, progress: &mut dyn FnMut(usize)) -> Result<Dataset, Error> {
    let mut hasher = Sha256::new();
    let mut raw = open(path)?;
    let mut bytes = Vec::new();
    raw.read_to_end(&mut bytes).map_err(|source| Error::Io {
        path: path.display().to_string(),
        source,
    })?;
    hasher.update(&bytes);
    let (mut events, mut rejected, mut first_errors) = (Vec::new(), 0, Vec::new());
    for (i, row) in LabeledReader::new(bytes.as_slice())?.enumerate() {
        match row {
            Ok(r) => events.push((r.event, r.label)),
            Err(e) => {
                rejected += 1;
                if first_errors.len() < 10 {
                    first_errors.push(e.to_string());
                }
            }
        }
        if i % 10_000 == 0 {
            progress(i);
        }
    }
    let mut data = featurize_events(events, format!("{:x}", hasher.finalize()), progress);
    data.rejected = rejected;
    data.first_errors = first_errors;
    Ok(data)
}

/// Featurises events already read (labels: 1 fraud, 0 legit, none unknown: such rows count
/// as history but are not trained on), in event-time order (stable); `sha256` names the
/// input they came from.
pub fn featurize_events(
    mut events: Vec<(Event, Option<u8>)>,
    sha256: String,
    progress: &mut dyn FnMut(usize),
) -> Dataset {
    events.sort_by_key(|(e, _)| e.time);
    let mut store = MemoryStore::default();
    let features = events
        .iter()
        .enumerate()
        .map(|(i, (e, _))| {
            if i % 10_000 == 0 {
                progress(i);
            }
            store.state(&e.entity_id).observe(e)
        })
        .collect();
    Dataset {
        features,
        labels: events.iter().map(|(_, l)| *l).collect(),
        times: events.iter().map(|(e, _)| e.time).collect(),
        rejected: 0,
        first_errors: Vec::new(),
        sha256,
    }
}

/// How to split by time.
#[derive(Debug, Clone, PartialEq)]
pub struct Split {
    /// Rows from this time on are held out for validation; `None`: the last third of the
    /// time span. Pass a time after the data to train on everything.
    pub validation_from: Option<i64>,
    /// The latest share of the training rows used for early stopping.
    pub early_stopping_share: f64,
    /// After early stopping, fit again on the training and early-stopping rows together
    /// with the tree count it chose, so the newest rows also shape the trees.
    pub refit: bool,
}

impl Default for Split {
    fn default() -> Self {
        Self {
            validation_from: None,
            early_stopping_share: 0.15,
            refit: false,
        }
    }
}

/// Row indices of the three parts (labeled rows only).
pub struct Parts {
    pub train: Vec<usize>,
    pub early_stopping: Vec<usize>,
    pub validation: Vec<usize>,
    pub validation_from: i64,
}

pub fn split(data: &Dataset, split: &Split) -> Parts {
    let (first, last) = (
        data.times.first().copied().unwrap_or_default(),
        data.times.last().copied().unwrap_or_default(),
    );
    let from = split
        .validation_from
        .unwrap_or(first + (last - first) * 2 / 3);
    let labeled: Vec<usize> = (0..data.labels.len())
        .filter(|i| data.labels[*i].is_some())
        .collect();
    let (before, validation): (Vec<usize>, Vec<usize>) =
        labeled.into_iter().partition(|i| data.times[*i] < from);
    let cut = before.len() - (before.len() as f64 * split.early_stopping_share) as usize;
    Parts {
        train: before[..cut].to_vec(),
        early_stopping: before[cut..].to_vec(),
        validation,
        validation_from: from,
    }
}

fn take(data: &Dataset, rows: &[usize]) -> (Vec<Features>, Vec<f32>) {
    (
        rows.iter().map(|i| data.features[*i]).collect(),
        rows.iter()
            .map(|i| f32::from(data.labels[*i].unwrap_or(0)))
            .collect(),
    )
}

/// Trains a model on `data` split by `split`; metrics are on the validation part, which
/// neither training nor early stopping saw.
pub fn train(
    data: &Dataset,
    input: &str,
    split_spec: &Split,
    params: &Params,
    progress: &mut dyn FnMut(usize, Option<f64>),
) -> Result<ModelFile, Error> {
    let parts = split(data, split_spec);
    let (x, y) = take(data, &parts.train);
    let (ex, ey) = take(data, &parts.early_stopping);
    let early = (!ex.is_empty()).then_some((ex.as_slice(), ey.as_slice()));
    let (first, log) = gbdt::train(&x, &y, early, params, progress)?;
    let measure = |ensemble: &gbdt::Ensemble, x: &[Features], y: &[f32]| -> Option<Metrics> {
        let mut raw = vec![0f32; x.len()];
        ensemble.predict_raw_batch(x, &mut raw);
        let pairs: Vec<(f64, bool)> = raw
            .iter()
            .zip(y)
            .map(|(r, y)| (f64::from(*r), *y > 0.5))
            .collect();
        evaluate(&pairs)
    };
    let early_stopping = measure(&first, &ex, &ey);
    let refit = split_spec.refit && !ex.is_empty();
    // With refit, the training and early-stopping rows together.
    let (ax, ay) = if refit {
        let rows: Vec<usize> = parts
            .train
            .iter()
            .chain(&parts.early_stopping)
            .copied()
            .collect();
        take(data, &rows)
    } else {
        Default::default()
    };
    // With refit, every model of the bag takes the tree count the first model's early
    // stopping chose; without, each stops early on its own.
    let fit = |seed: u64, progress: &mut dyn FnMut(usize, Option<f64>)| {
        let params = Params {
            seed,
            ..params.clone()
        };
        if refit {
            let params = Params {
                trees: log.trees,
                ..params
            };
            gbdt::train(&ax, &ay, None, &params, progress).map(|t| t.0)
        } else {
            gbdt::train(&x, &y, early, &params, progress).map(|t| t.0)
        }
    };
    let mut bag = vec![if refit {
        fit(params.seed, progress)?
    } else {
        first
    }];
    for k in 1..params.bag.max(1) {
        bag.push(fit(params.seed + k as u64, progress)?);
    }
    let ensemble = if bag.len() == 1 {
        bag.remove(0)
    } else {
        gbdt::Ensemble::average(&bag)?
    };
    let (vx, vy) = take(data, &parts.validation);
    let validation = measure(&ensemble, &vx, &vy);
    Ok(ModelFile {
        format: FORMAT.into(),
        format_version: FORMAT_VERSION,
        name: "vigil_gbdt".into(),
        features: FEATURE_NAMES.iter().map(|s| s.to_string()).collect(),
        training: TrainingInfo {
            input: input.into(),
            input_sha256: data.sha256.clone(),
            rows: data.features.len(),
            rejected_rows: data.rejected,
            train_rows: parts.train.len(),
            early_stopping_rows: parts.early_stopping.len(),
            validation_rows: parts.validation.len(),
            validation_from: DateTime::from_timestamp(parts.validation_from, 0)
                .map(|t| t.to_rfc3339()),
            params: params.clone(),
            trees: ensemble.trees(),
            refit,
            vigil_version: env!("CARGO_PKG_VERSION").into(),
        },
        early_stopping,
        validation,
        ensemble,
    })
}

/// Writes `train.csv`, `early_stopping.csv` and `validation.csv` (features + `label`) to
/// `dir`, so that other learners are compared on exactly the same rows and features.
pub fn export(data: &Dataset, split_spec: &Split, dir: &Path) -> Result<(), Error> {
    let parts = split(data, split_spec);
    std::fs::create_dir_all(dir).map_err(|source| Error::Io {
        path: dir.display().to_string(),
        source,
    })?;
    for (name, rows) in [
        ("train", &parts.train),
        ("early_stopping", &parts.early_stopping),
        ("validation", &parts.validation),
    ] {
        let path = dir.join(format!("{name}.csv"));
        let io = |source| Error::Io {
            path: path.display().to_string(),
            source,
        };
        let mut out = std::io::BufWriter::new(std::fs::File::create(&path).map_err(io)?);
        writeln!(out, "{},label", FEATURE_NAMES.join(",")).map_err(io)?;
        for &i in rows.iter() {
            let values: Vec<String> = data.features[i].iter().map(|v| v.to_string()).collect();
            writeln!(out, "{},{}", values.join(","), data.labels[i].unwrap_or(0)).map_err(io)?;
        }
        out.flush().map_err(io)?;
    }
    Ok(())
}
