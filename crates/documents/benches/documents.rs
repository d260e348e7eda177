//! Criterion benchmarks of the document classifier, per page, on corpus documents (two of
//! every layout): text extraction, recognizers, the NER model on a whole page, and the
//! whole classification in both model modes. One thread: run with RAYON_NUM_THREADS=1
//! for per-core figures. The model comes from `VIGIL_MODEL_DIR` (or the default cache
//! directory). Run: `cargo bench -p vigil-documents`.

use std::path::PathBuf;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use vigil_documents::extract::{Limits, extract};
use vigil_documents::recognizers::recognize;
use vigil_documents::{Classifier, ModelFiles, NerMode, NerModel};

fn model_dir() -> PathBuf {
    ["VIGIL_MODEL_DIR", "VIGIL_TEST_MODEL_DIR"]
        .iter()
        .find_map(std::env::var_os)
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").expect("HOME"))
                .join(".cache/vigil/models/rampart")
        })
}

fn benches(c: &mut Criterion) {
    let people = vigil_corpus::people().unwrap();
    let layouts = vigil_corpus::LAYOUTS.len();
    let docs: Vec<Vec<u8>> = (0..2 * layouts)
        .map(|i| vigil_corpus::generate(&people, 99, i).bytes)
        .collect();
    let limits = Limits::default();
    let pages: Vec<String> = docs
        .iter()
        .flat_map(|d| extract(d, &limits).unwrap())
        .map(|p| p.text)
        .collect();
    let files = ModelFiles::in_dir(&model_dir());

    let mut g = c.benchmark_group("documents");
    g.sample_size(10);
    g.throughput(Throughput::Elements(pages.len() as u64));
    g.bench_function("extract per page", |b| {
        b.iter(|| {
            docs.iter()
                .map(|d| extract(d, &limits).unwrap().len())
                .sum::<usize>()
        })
    });
    g.bench_function("recognizers per page", |b| {
        b.iter(|| pages.iter().map(|p| recognize(p).len()).sum::<usize>())
    });
    let ner = NerModel::load(&files).unwrap();
    g.bench_function("NER on the whole page", |b| {
        b.iter(|| {
            pages
                .iter()
                .map(|p| ner.spans(p).unwrap().len())
                .sum::<usize>()
        })
    });
    for (name, mode) in [
        (
            "classify per page (model where it decides)",
            NerMode::Verdict,
        ),
        ("classify per page (model everywhere)", NerMode::Everywhere),
    ] {
        let classifier =
            Classifier::new(Some(NerModel::load(&files).unwrap()), limits.clone()).with_mode(mode);
        g.bench_function(name, |b| {
            b.iter(|| {
                docs.iter()
                    .map(|d| classifier.classify(d).verdict.entities.len())
                    .sum::<usize>()
            })
        });
    }
    g.finish();

    let mut g = c.benchmark_group("model");
    g.sample_size(10);
    g.bench_function("load", |b| b.iter(|| NerModel::load(&files).unwrap()));
    g.finish();
}

criterion_group!(documents, benches);
criterion_main!(documents);
