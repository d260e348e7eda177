//! Every hostile file (empty, truncated, PNG renamed, encrypted, image-only, zero pages,
//! 300 pages, cyclic page tree, a 1 MB line, arrays nested 100,000 deep, an inflate
//! bomb) gets a verdict or the expected clear error, within the time budget, with the
//! model loaded. Needs `VIGIL_TEST_MODEL_DIR`: infra/test.sh sets it.

use std::time::{Duration, Instant};

use vigil_core::Verdict;
use vigil_documents::{Classifier, Limits, ModelFiles, NerMode, NerModel};

/// A classifier with the imported model; `None` (the test skipped) without it.
fn classifier(mode: NerMode, budget: Duration) -> Option<Classifier> {
    let dir = vigil_testkit::peer("VIGIL_TEST_MODEL_DIR", "the imported NER model")?;
    let model = NerModel::load(&ModelFiles::in_dir(dir.as_ref())).unwrap();
    let limits = Limits {
        time_budget: budget,
        ..Limits::default()
    };
    Some(Classifier::new(Some(model), limits).with_mode(mode))
}

#[test]
fn hostile_files_get_a_verdict_or_a_clear_error_in_time() {
    let budget = Duration::from_secs(5);
    for mode in [NerMode::Verdict, NerMode::Everywhere] {
        let Some(classifier) = classifier(mode, budget) else {
            return;
        };
        for (name, bytes, expected) in vigil_corpus::hostile::files() {
            let started = Instant::now();
            let result = classifier.classify(&bytes).verdict;
            let took = started.elapsed();
            // The budget is checked between steps, so one step may run past it a little.
            assert!(took < budget * 2, "{name} ({mode:?}) took {took:?}");
            match (expected, result.verdict) {
                (None, Verdict::Error) if mode == NerMode::Everywhere => {
                    // Tagging a 1 MB line everywhere cannot fit the budget: that must be
                    // said, not guessed.
                    let error = result.error.unwrap();
                    assert!(error.contains("time budget"), "{name}: {error}");
                }
                (None, v) => assert_ne!(v, Verdict::Error, "{name} ({mode:?}): {:?}", result.error),
                (Some(word), Verdict::Error) => {
                    let error = result.error.unwrap();
                    assert!(
                        error.contains(word),
                        "{name}: `{error}` should say `{word}`"
                    );
                }
                (Some(_), v) => panic!("{name} ({mode:?}) got {v:?}, expected an error"),
            }
        }
    }
}

#[test]
fn a_valid_document_after_hostile_ones_is_still_classified() {
    let Some(classifier) = classifier(NerMode::Verdict, Duration::from_secs(5)) else {
        return;
    };
    for (_, bytes, _) in vigil_corpus::hostile::files() {
        let _ = classifier.classify(&bytes);
    }
    let people = vigil_corpus::people().unwrap();
    let doc = vigil_corpus::generate(&people, 3, 0);
    assert_eq!(
        classifier.classify(&doc.bytes).verdict.verdict,
        Verdict::Pii
    );
}
