//! The shipped model and rules: they load, score, explain, and keep memory flat.

use vigil_fraud::features::{EntityStore, MemoryStore};
use vigil_fraud::input::Event;
use vigil_fraud::model::{ModelFile, default_model};
use vigil_fraud::rules::Rules;
use vigil_fraud::scorer::Scorer;

fn event(entity: &str, t: i64, amount: f64, ip: &str, category: &str) -> Event {
    Event {
        event_id: format!("{entity}-{t}"),
        entity_id: entity.into(),
        time: t,
        amount,
        category: category.into(),
        ip_address: ip.into(),
        user_agent: "Mozilla/5.0".into(),
        card_bin: "423768".into(),
        billing_state: "VA".into(),
        email: "someone@example.com".into(),
    }
}

#[test]
fn shipped_model_carries_its_provenance_and_held_out_metrics() {
    let model = default_model().unwrap();
    assert_eq!(model.training.input, "transactions_train.csv.gz");
    assert_eq!(model.training.input_sha256.len(), 64);
    let v = model.validation.expect("held-out metrics");
    assert!(
        v.rows > 100_000 && v.roc_auc > 0.99 && v.pr_auc > 0.9,
        "{v:?}"
    );
    assert!(model.ensemble.trees() > 0);
}

#[test]
fn model_files_are_checked() {
    let text = vigil_fraud::model::DEFAULT_MODEL;
    let newer = text.replacen("\"format_version\":1", "\"format_version\":99", 1);
    assert!(
        ModelFile::parse(&newer)
            .unwrap_err()
            .to_string()
            .contains("format version 99")
    );
    let other = text.replacen("\"amount\"", "\"price\"", 1);
    assert!(
        ModelFile::parse(&other)
            .unwrap_err()
            .to_string()
            .contains("other features")
    );
    assert!(
        ModelFile::parse("not json")
            .unwrap_err()
            .to_string()
            .contains("not a Vigil model file")
    );
}

#[test]
fn a_night_spree_from_a_new_ip_scores_higher_than_routine_and_is_explained() {
    let scorer = Scorer::new(default_model().unwrap(), Rules::default_rules());
    let mut store = MemoryStore::default();
    let day = 86_400;
    let t0 = 1_700_006_400; // 2023-11-15 00:00 UTC
    // Two weeks of routine: one grocery purchase a day at 17:00 from home.
    let mut routine = 0.0;
    for d in 0..14 {
        routine = scorer
            .assess(
                &mut store,
                &event(
                    "c1",
                    t0 + d * day + 17 * 3_600,
                    42.0,
                    "10.0.0.1",
                    "grocery_pos",
                ),
            )
            .model_scores["vigil_gbdt"];
    }
    // Then, at 02:00, large online purchases from an unseen IP, minutes apart.
    let mut last = None;
    for k in 0..4 {
        last = Some(scorer.assess(
            &mut store,
            &event(
                "c1",
                t0 + 14 * day + 2 * 3_600 + k * 120,
                900.0 + k as f64,
                "203.0.113.9",
                "shopping_net",
            ),
        ));
    }
    let spree = last.unwrap();
    let score = spree.model_scores["vigil_gbdt"];
    assert!((0.0..=1000.0).contains(&score));
    assert!(
        score > routine * 5.0 && score > 300.0,
        "spree {score} vs routine {routine}"
    );
    assert!(!spree.reasons.is_empty() && spree.reasons.len() <= 3 + spree.rule_results.len());
    for r in &spree.reasons {
        assert!(
            !r.contains("someone") && !r.contains("203.0.113"),
            "reason leaks: {r}"
        );
    }
}

#[test]
fn memory_stays_flat_per_entity_over_a_long_stream() {
    let scorer = Scorer::new(default_model().unwrap(), Rules::default_rules());
    let mut store = MemoryStore::default();
    for i in 0..200_000i64 {
        let entity = format!("c{}", i % 500);
        scorer.assess(
            &mut store,
            &event(
                &entity,
                1_700_000_000 + i * 30,
                10.0 + (i % 97) as f64,
                &format!("10.0.{}.{}", i % 7, i % 250),
                "home",
            ),
        );
    }
    assert_eq!(
        store.len(),
        500,
        "one bounded state per entity, however long the stream"
    );
    let bytes = serde_json::to_vec(store.state("c1")).unwrap().len();
    assert!(bytes < 4_000, "{bytes}");
}

#[test]
fn batch_kernels_agree_with_one_row_at_a_time_on_the_shipped_model() {
    let model = default_model().unwrap();
    let mut store = MemoryStore::default();
    let rows: Vec<_> = (0..5_003i64)
        .map(|i| {
            let e = event(
                &format!("c{}", i % 37),
                1_700_000_000 + i * 97,
                (i * 7919 % 2_000) as f64 / 3.0,
                &format!("10.0.0.{}", i % 11),
                ["home", "travel", "shopping_net", "misc_net"][(i % 4) as usize],
            );
            store.state(&e.entity_id).observe(&e)
        })
        .collect();
    let mut batch = vec![0f32; rows.len()];
    model.ensemble.predict_raw_batch(&rows, &mut batch);
    for (row, b) in rows.iter().zip(&batch) {
        let single = model.ensemble.predict_raw(row);
        assert!((single - b).abs() < 1e-4, "{single} vs {b}");
    }
}

#[test]
fn batches_assess_exactly_as_one_event_at_a_time() {
    // Real rows, so that the shipped model's trees take many paths; 20,021 rows cover full
    // kernel blocks and a ragged tail in the last batch.
    let Some(path) = vigil_testkit::shared_data("transactions_train.csv.gz") else {
        return;
    };
    let input = vigil_fraud::input::open(&path).unwrap();
    let events: Vec<Event> = vigil_fraud::input::LabeledReader::new(input)
        .unwrap()
        .filter_map(Result::ok)
        .take(20_021)
        .map(|r| r.event)
        .collect();
    assert_eq!(events.len(), 20_021);
    let scorer = Scorer::new(default_model().unwrap(), Rules::default_rules());
    let (mut one, mut many) = (MemoryStore::default(), MemoryStore::default());
    let single: Vec<_> = events.iter().map(|e| scorer.assess(&mut one, e)).collect();
    let batched: Vec<_> = events
        .chunks(vigil_fraud::scorer::BATCH)
        .flat_map(|chunk| scorer.assess_batch(&mut many, chunk))
        .collect();
    assert_eq!(single.len(), batched.len());
    let mut blocked = 0;
    for (a, b) in single.iter().zip(&batched) {
        assert_eq!(
            (&a.outcome, &a.model_scores, &a.rule_results, &a.reasons),
            (&b.outcome, &b.model_scores, &b.rule_results, &b.reasons)
        );
        blocked += usize::from(a.outcome == vigil_core::Outcome::Block);
    }
    assert!(blocked > 0, "the rows include some the rules block");
}
