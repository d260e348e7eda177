//! `vigil train-ownership`: learns the ownership model's weights from labelled documents
//! of several sources, and says how well it does on documents it did not learn from.
//!
//! Every value the recognizers find in a labelled document becomes one row: its evidence,
//! and whether the labels list it as a private person's. Cross-validation holds out whole
//! kinds of documents (a pay stub's layout is never both learned and scored), so the
//! figures say how the model does on layouts it has not seen.

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::Args;
use serde::Deserialize;
use serde_json::json;
use vigil_core::EntityKind;
use vigil_documents::ownership::model::{self, TrainParams};
use vigil_documents::ownership::{DocumentContext, Evidence, judged};
use vigil_documents::{
    Limits, ModelFiles, NerModel, OwnershipModel, classify, extract, recognizers,
};

#[derive(Args)]
pub struct TrainOwnershipArgs {
    /// A folder of labelled PDFs with `labels.jsonl` (pii-dev's layout) or `truth.jsonl`
    /// (`vigil corpus`'s); give several, from different sources.
    #[arg(long = "labelled", required = true)]
    labelled: Vec<PathBuf>,
    /// The folder to write the models to (`model.json` for identifiers, `names.json`
    /// for names and addresses). Without it, only the cross-validation runs.
    #[arg(long)]
    out: Option<PathBuf>,
    /// The NER model's folder: with it, the names and addresses the NER finds are
    /// learned from too (slower: the NER reads every line that may hold one).
    #[arg(long)]
    model: Option<PathBuf>,
    /// Cross-validation folds, by kind of document.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(2..=20))]
    folds: u64,
    /// Write every value's evidence, label and held-out probability here (JSON lines;
    /// positions, not values), to see what the model gets wrong.
    #[arg(long)]
    dump: Option<PathBuf>,
    /// L2 penalty on the weights.
    #[arg(long, default_value_t = TrainParams::default().l2)]
    l2: f32,
}

#[derive(Deserialize)]
struct LabelLine {
    file: String,
    #[serde(alias = "pii", alias = "contains_pii")]
    positive: bool,
    #[serde(default)]
    entities: Vec<LabelEntity>,
    #[serde(alias = "layout")]
    kind: String,
}

#[derive(Deserialize)]
struct LabelEntity {
    #[serde(rename = "type")]
    kind: String,
    value: String,
}

/// One recognized value of a labelled document.
struct Row {
    evidence: Evidence,
    personal: bool,
    kind: EntityKind,
    /// A name or an address of the NER's (judged by the names model).
    named: bool,
    /// Index into the documents.
    document: usize,
    /// Page (1-based) and character offsets, for the dump.
    at: (usize, usize, usize),
}

struct Document {
    file: String,
    source: String,
    group: String,
    positive: bool,
    /// Whether a value the model does not judge (an SSN, a card) already makes it `pii`.
    decided_without_model: bool,
}

fn normalise(value: &str) -> String {
    value
        .chars()
        .filter(|c| c.is_alphanumeric() || *c == '@')
        .flat_map(char::to_lowercase)
        .collect()
}

/// Whether a recognized value is one of the labelled personal values.
fn labelled_personal(value: &str, labels: &[String]) -> bool {
    let v = normalise(value);
    labels
        .iter()
        .any(|l| *l == v || (v.len() >= 6 && (l.contains(&v) || v.contains(l.as_str()))))
}

fn read_source(
    dir: &Path,
    ner: Option<&NerModel>,
    rows: &mut Vec<Row>,
    docs: &mut Vec<Document>,
) -> Result<usize> {
    let labels = ["labels.jsonl", "truth.jsonl"]
        .iter()
        .map(|f| dir.join(f))
        .find(|p| p.exists())
        .with_context(|| format!("{}: no labels.jsonl or truth.jsonl", dir.display()))?;
    let source = dir.file_name().map_or_else(
        || dir.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let text = std::fs::read_to_string(&labels).with_context(|| labels.display().to_string())?;
    let limits = Limits::default();
    let mut read = 0;
    for (i, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let label: LabelLine = serde_json::from_str(line)
            .with_context(|| format!("{} line {}", labels.display(), i + 1))?;
        let Ok(bytes) = std::fs::read(dir.join(&label.file)) else {
            eprintln!("skipped {}: cannot read it", label.file);
            continue;
        };
        let Ok(pages) = extract::extract(&bytes, &limits) else {
            continue;
        };
        read += 1;
        let values_of = |names: bool| -> Vec<String> {
            label
                .entities
                .iter()
                .filter(|e| names == matches!(e.kind.as_str(), "PERSON" | "ADDRESS"))
                .map(|e| normalise(&e.value))
                .filter(|v| !v.is_empty())
                .collect()
        };
        let (personal_values, personal_names) = (values_of(false), values_of(true));
        let texts: Vec<&str> = pages.iter().map(|p| p.text.as_str()).collect();
        let candidates: Vec<_> = texts.iter().map(|t| recognizers::recognize(t)).collect();
        let mut context = DocumentContext::new(&texts, &candidates);
        let named: Vec<Vec<recognizers::Candidate>> = match ner {
            Some(ner) => texts
                .iter()
                .map(|t| classify::names_everywhere(ner, t))
                .collect::<Result<_, _>>()?,
            None => Vec::new(),
        };
        context.add_names(&named);
        let document = docs.len();
        let row = |page: usize, c: &recognizers::Candidate, named: bool| {
            let labelled = if named {
                &personal_names
            } else {
                &personal_values
            };
            let text = texts[page];
            let char_at = |b: usize| text[..b].chars().count();
            Row {
                at: (page + 1, char_at(c.start), char_at(c.end)),
                evidence: context.evidence(page, c),
                personal: label.positive && labelled_personal(&text[c.start..c.end], labelled),
                kind: c.kind,
                named,
                document,
            }
        };
        let mut decided = false;
        for (page, found) in candidates.iter().enumerate() {
            for c in found {
                if judged(c.kind) {
                    rows.push(row(page, c, false));
                } else {
                    decided |= c.kind.is_direct_identifier();
                }
            }
        }
        for (page, found) in named.iter().enumerate() {
            rows.extend(found.iter().map(|c| row(page, c, true)));
        }
        docs.push(Document {
            file: dir.join(&label.file).display().to_string(),
            source: source.clone(),
            group: format!("{source}/{}", label.kind),
            positive: label.positive,
            decided_without_model: decided,
        });
    }
    Ok(read)
}

/// Document-level counts of the identifier-only decision (names with addresses are the
/// NER's and not counted here).
#[derive(Default)]
struct Board {
    tp: usize,
    fp: usize,
    fn_: usize,
    tn: usize,
    values: usize,
    values_wrong: usize,
    names: usize,
    names_wrong: usize,
}

impl Board {
    fn line(&self) -> String {
        let p = self.tp as f64 / (self.tp + self.fp).max(1) as f64;
        let r = self.tp as f64 / (self.tp + self.fn_).max(1) as f64;
        let f1 = 2.0 * p * r / (p + r).max(f64::EPSILON);
        format!(
            "documents TP {} FP {} FN {} TN {}  precision {p:.3} recall {r:.3} F1 {f1:.3}   values {} wrong {} ({:.1} %)   names/addresses {} wrong {} ({:.1} %)",
            self.tp,
            self.fp,
            self.fn_,
            self.tn,
            self.values,
            self.values_wrong,
            100.0 * self.values_wrong as f64 / self.values.max(1) as f64,
            self.names,
            self.names_wrong,
            100.0 * self.names_wrong as f64 / self.names.max(1) as f64
        )
    }
}

pub fn train_ownership(args: &TrainOwnershipArgs) -> Result<()> {
    let ner = match &args.model {
        Some(dir) => Some(
            NerModel::load(&ModelFiles::in_dir(dir))
                .with_context(|| format!("loading the NER model from {}", dir.display()))?,
        ),
        None => None,
    };
    let (mut rows, mut docs) = (Vec::new(), Vec::new());
    for dir in &args.labelled {
        let n = read_source(dir, ner.as_ref(), &mut rows, &mut docs)?;
        eprintln!("{}: {n} documents read", dir.display());
    }
    if rows.iter().all(|r| r.personal) || rows.iter().all(|r| !r.personal) {
        bail!("the labelled documents must hold both personal and business values");
    }
    let params = TrainParams {
        l2: args.l2,
        ..TrainParams::default()
    };

    // Folds by kind of document: groups sorted by name, dealt round.
    let mut groups: Vec<&str> = docs.iter().map(|d| d.group.as_str()).collect();
    groups.sort_unstable();
    groups.dedup();
    let fold_of: HashMap<&str, usize> = groups
        .iter()
        .enumerate()
        .map(|(i, g)| (*g, i % args.folds as usize))
        .collect();
    let doc_fold: Vec<usize> = docs.iter().map(|d| fold_of[d.group.as_str()]).collect();
    let mut held_out = vec![0.0f32; rows.len()];
    for named in [false, true] {
        if !rows.iter().any(|r| r.named == named) {
            continue;
        }
        for fold in 0..args.folds as usize {
            let train: Vec<&Row> = rows
                .iter()
                .filter(|r| r.named == named && doc_fold[r.document] != fold)
                .collect();
            let x: Vec<Evidence> = train.iter().map(|r| r.evidence).collect();
            let y: Vec<bool> = train.iter().map(|r| r.personal).collect();
            let m = model::train(&x, &y, params)?;
            for (i, r) in rows.iter().enumerate() {
                if r.named == named && doc_fold[r.document] == fold {
                    held_out[i] = m.probability(&r.evidence);
                }
            }
        }
    }
    let threshold = OwnershipModel::untrained().threshold;
    if let Some(path) = &args.dump {
        let mut w = std::io::BufWriter::new(std::fs::File::create(path)?);
        for (r, p) in rows.iter().zip(&held_out) {
            let d = &docs[r.document];
            writeln!(
                w,
                "{}",
                json!({"file": d.file, "group": d.group, "page": r.at.0, "start": r.at.1, "end": r.at.2,
                       "type": r.kind.as_str(), "named": r.named, "personal": r.personal, "p": p, "evidence": r.evidence.to_vec()})
            )?;
        }
    }
    let mut boards: BTreeMap<String, Board> = BTreeMap::new();
    let mut flagged = vec![false; docs.len()];
    let (mut person, mut address) = (vec![false; docs.len()], vec![false; docs.len()]);
    for (r, p) in rows.iter().zip(&held_out) {
        let personal = *p >= threshold;
        let board = boards.entry(docs[r.document].source.clone()).or_default();
        if r.named {
            board.names += 1;
            board.names_wrong += usize::from(personal != r.personal);
        } else {
            board.values += 1;
            board.values_wrong += usize::from(personal != r.personal);
        }
        flagged[r.document] |= personal && r.kind.is_direct_identifier();
        person[r.document] |= personal && r.kind == EntityKind::Person;
        address[r.document] |= personal && r.kind == EntityKind::Address;
    }
    for (i, f) in flagged.iter_mut().enumerate() {
        *f |= person[i] && address[i];
    }
    let mut wrong_kinds: BTreeMap<String, usize> = BTreeMap::new();
    for (d, flagged) in docs.iter().zip(&flagged) {
        let pii = *flagged || d.decided_without_model;
        let board = boards.entry(d.source.clone()).or_default();
        match (pii, d.positive) {
            (true, true) => board.tp += 1,
            (true, false) => {
                board.fp += 1;
                *wrong_kinds.entry(format!("FP {}", d.group)).or_default() += 1;
            }
            (false, true) => {
                board.fn_ += 1;
                *wrong_kinds.entry(format!("FN {}", d.group)).or_default() += 1;
            }
            (false, false) => board.tn += 1,
        }
    }
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "{} values from {} documents; {}-fold cross-validation by kind of document (documents: identifiers, and names with addresses when --model is given):",
        rows.len(),
        docs.len(),
        args.folds
    )?;
    for (source, board) in &boards {
        writeln!(out, "  {source:<24} {}", board.line())?;
    }
    for (what, n) in &wrong_kinds {
        writeln!(out, "    {what}: {n}")?;
    }

    let cross_validation: BTreeMap<String, String> =
        boards.iter().map(|(s, b)| (s.clone(), b.line())).collect();
    for (named, file) in [(false, "model.json"), (true, "names.json")] {
        let x: Vec<Evidence> = rows
            .iter()
            .filter(|r| r.named == named)
            .map(|r| r.evidence)
            .collect();
        let y: Vec<bool> = rows
            .iter()
            .filter(|r| r.named == named)
            .map(|r| r.personal)
            .collect();
        if x.is_empty() {
            continue;
        }
        let mut model = model::train(&x, &y, params)?;
        let what = if named {
            "names and addresses"
        } else {
            "identifiers"
        };
        writeln!(
            out,
            "weights for {what} (log-odds per unit of evidence; bias {}):",
            model.bias
        )?;
        for (name, w) in model.features.iter().zip(&model.weights) {
            writeln!(out, "  {name:<24} {w:+.3}")?;
        }
        if let Some(dir) = &args.out {
            model.provenance = json!({
                "trained_by": "vigil train-ownership",
                "judges": what,
                "sources": args.labelled.iter().map(|d| d.file_name().map(|n| n.to_string_lossy().into_owned())).collect::<Vec<_>>(),
                "values": x.len(),
                "documents": docs.len(),
                "l2": args.l2,
                "cross_validation": cross_validation,
            });
            let mut text = serde_json::to_string_pretty(&model)?;
            text.push('\n');
            std::fs::create_dir_all(dir)?;
            let path = dir.join(file);
            std::fs::write(&path, text).with_context(|| path.display().to_string())?;
            writeln!(out, "wrote {}", path.display())?;
        }
    }
    Ok(())
}
