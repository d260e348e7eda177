//! `classify-document` under `cargo lambda watch`, invoked with S3 ObjectCreated events
//! against moto's S3: uploads are filed to the PII or the clean bucket under the same key,
//! tagged, with a findings record; a broken file stays in the upload bucket with an
//! `error` verdict; keys with `+` and `%20` are decoded; a repeated event does no harm; a
//! scheduled sweep files the uploads whose event never filed them.
//! Needs `VIGIL_TEST_MODEL_DIR` (the imported NER model): infra/test.sh sets it.

mod common;

/// Four fresh buckets: uploads, pii, clean, findings.
async fn buckets(s3: &aws_sdk_s3::Client) -> [String; 4] {
    let id = uuid::Uuid::new_v4().simple().to_string();
    let names = ["uploads", "pii", "clean", "findings"].map(|b| format!("vigil-test-{b}-{id}"));
    for b in &names {
        s3.create_bucket().bucket(b).send().await.unwrap();
    }
    names
}

/// The function under `cargo lambda watch`, filing into these buckets, its allow list
/// read from `config/allow-list.toml` in the findings bucket (if there is one).
fn watch_classify(endpoint: &str, model: &str, [pii, clean, findings]: [&str; 3]) -> common::Watch {
    watch_classify_with(endpoint, model, [pii, clean, findings], &[])
}

fn watch_classify_with(
    endpoint: &str,
    model: &str,
    [pii, clean, findings]: [&str; 3],
    more: &[(&'static str, String)],
) -> common::Watch {
    let aws = common::aws_env(endpoint);
    let mut extra = vec![
        ("PII_BUCKET", pii.to_owned()),
        ("CLEAN_BUCKET", clean.to_owned()),
        ("FINDINGS_BUCKET", findings.to_owned()),
        ("MODEL_DIR", model.to_owned()),
        (
            "ALLOW_LIST_OBJECT",
            format!("s3://{findings}/config/allow-list.toml"),
        ),
    ];
    extra.extend_from_slice(more);
    common::watch(
        env!("CARGO_BIN_EXE_classify-document"),
        &common::env_for(&aws, &extra),
    )
}

#[tokio::test]
async fn uploads_are_filed_with_findings_and_tags_once() {
    let (Some(endpoint), Some(model)) = (common::moto(), common::model()) else {
        return;
    };
    let s3 = common::s3_client(&endpoint);
    let [uploads, pii, clean, findings] = buckets(&s3).await;

    // An application (personal), a rate sheet (not personal), a truncated file.
    let people = vigil_corpus::people().unwrap();
    let application = vigil_corpus::generate(&people, 7, 0);
    let rate_sheet = vigil_corpus::generate(&people, 7, 8);
    assert_eq!((application.truth.pii, rate_sheet.truth.pii), (true, false));
    let objects = [
        ("loan file (2024).pdf", application.bytes.clone()),
        ("rates/daily rates.pdf", rate_sheet.bytes.clone()),
        ("broken.pdf", application.bytes[..200].to_vec()),
    ];
    for (key, body) in &objects {
        s3.put_object()
            .bucket(&uploads)
            .key(*key)
            .body(body.clone().into())
            .send()
            .await
            .unwrap();
    }

    let watch = watch_classify(&endpoint, &model, [&pii, &clean, &findings]);
    // Keys as S3 sends them: URL-encoded, `+` for a space.
    let event = common::s3_event(
        &uploads,
        &[
            "loan+file+%282024%29.pdf",
            "rates/daily%20rates.pdf",
            "broken.pdf",
        ],
        "classify",
    );
    let first = common::invoke(&watch, &event);
    assert_eq!(first["filed"], 3, "{first}");

    let keys = |bucket: String| {
        let s3 = s3.clone();
        async move { common::s3_keys(&s3, &bucket).await }
    };
    assert_eq!(keys(pii.clone()).await, ["loan file (2024).pdf"]);
    assert_eq!(keys(clean.clone()).await, ["rates/daily rates.pdf"]);
    assert_eq!(
        keys(uploads.clone()).await,
        ["broken.pdf"],
        "filed uploads are deleted; the broken one stays"
    );
    let tag = |bucket: String, key: &'static str| {
        let s3 = s3.clone();
        async move {
            let tags = s3
                .get_object_tagging()
                .bucket(bucket)
                .key(key)
                .send()
                .await
                .unwrap();
            tags.tag_set()
                .iter()
                .find(|t| t.key() == "vigil-verdict")
                .map(|t| t.value().to_owned())
        }
    };
    assert_eq!(
        tag(pii.clone(), "loan file (2024).pdf").await.as_deref(),
        Some("pii")
    );
    assert_eq!(
        tag(clean.clone(), "rates/daily rates.pdf").await.as_deref(),
        Some("no_pii")
    );
    assert_eq!(
        tag(uploads.clone(), "broken.pdf").await.as_deref(),
        Some("error")
    );

    let records = common::s3_objects(&s3, &findings, "findings/").await;
    let names: Vec<&str> = records.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        names,
        [
            "findings/broken.pdf.json",
            "findings/loan file (2024).pdf.json",
            "findings/rates/daily rates.pdf.json"
        ]
    );
    let record: serde_json::Value = serde_json::from_str(&records[1].1).unwrap();
    assert_eq!(record["verdict"], "pii", "{record}");
    assert!(
        record["entities"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["type"] == "SSN")
    );
    let broken: serde_json::Value = serde_json::from_str(&records[0].1).unwrap();
    assert_eq!(broken["verdict"], "error");
    assert!(
        broken["error"].as_str().unwrap().contains("damaged"),
        "{broken}"
    );
    // The findings never hold a planted value in clear.
    for entity in &application.truth.entities {
        for (_, body) in &records {
            assert!(
                !body.contains(&entity.value),
                "findings leak a {} value",
                entity.kind
            );
        }
    }

    // The same event again: nothing new, nothing lost, nothing duplicated.
    let second = common::invoke(&watch, &event);
    assert_eq!(second["filed"], 3, "{second}");
    assert_eq!(keys(pii.clone()).await, ["loan file (2024).pdf"]);
    assert_eq!(keys(clean.clone()).await, ["rates/daily rates.pdf"]);
    assert_eq!(keys(uploads.clone()).await, ["broken.pdf"]);
    assert_eq!(
        common::s3_objects(&s3, &findings, "findings/").await,
        records
    );
}

#[tokio::test]
async fn the_allow_list_object_is_read_at_start_and_applied() {
    let (Some(endpoint), Some(model)) = (common::moto(), common::model()) else {
        return;
    };
    let s3 = common::s3_client(&endpoint);
    let [uploads, pii, clean, findings] = buckets(&s3).await;
    // A letter whose only personal-looking value is the company's own number.
    let mut layout = vigil_corpus::pdf::Layout::new(72.0, 11.0);
    layout.line("Account update");
    layout.line("Applicant mobile: (412) 867-2147");
    s3.put_object()
        .bucket(&uploads)
        .key("letter.pdf")
        .body(layout.finish().into())
        .send()
        .await
        .unwrap();
    s3.put_object()
        .bucket(&findings)
        .key("config/allow-list.toml")
        .body(b"values = [\"412-867-2147\"]\n".to_vec().into())
        .send()
        .await
        .unwrap();
    let watch = watch_classify(&endpoint, &model, [&pii, &clean, &findings]);
    let event = common::s3_event(&uploads, &["letter.pdf"], "allow");
    let answer = common::invoke(&watch, &event);
    assert_eq!(answer["filed"], 1, "{answer}");
    assert_eq!(common::s3_keys(&s3, &clean).await, ["letter.pdf"]);
    let records = common::s3_objects(&s3, &findings, "findings/").await;
    let record: serde_json::Value = serde_json::from_str(&records[0].1).unwrap();
    assert_eq!(record["verdict"], "no_pii", "{record}");
    assert_eq!(
        record["business"][0]["evidence"][0], "declared public: a value on the allow list",
        "{record}"
    );
    assert!(!records[0].1.contains("867-2147"), "the value is in clear");
}

#[tokio::test]
async fn a_malformed_event_is_an_error_not_a_crash() {
    let Some(endpoint) = common::moto() else {
        return;
    };
    let aws = common::aws_env(&endpoint);
    let Some(model) = common::model() else { return };
    let extra = [
        ("PII_BUCKET", "p".to_owned()),
        ("CLEAN_BUCKET", "c".to_owned()),
        ("FINDINGS_BUCKET", "f".to_owned()),
        ("MODEL_DIR", model),
    ];
    let watch = common::watch(
        env!("CARGO_BIN_EXE_classify-document"),
        &common::env_for(&aws, &extra),
    );
    let path = std::env::temp_dir().join(format!("vigil-s3-{}-bad.json", std::process::id()));
    std::fs::write(&path, r#"{"Records": [{"s3": 1}]}"#).unwrap();
    let out = common::invoke_raw(&watch, &path);
    assert!(
        !out.status.success(),
        "a malformed event fails the invocation"
    );
    // The function is still alive and answers the next event.
    let ok = common::s3_event("no-such-bucket", &[], "empty");
    let answer = common::invoke(&watch, &ok);
    assert_eq!(answer["filed"], 0, "{answer}");
}

#[tokio::test]
async fn a_scheduled_sweep_files_what_no_event_filed() {
    let (Some(endpoint), Some(model)) = (common::moto(), common::model()) else {
        return;
    };
    let s3 = common::s3_client(&endpoint);
    let [uploads, pii, clean, findings] = buckets(&s3).await;
    let people = vigil_corpus::people().unwrap();
    let application = vigil_corpus::generate(&people, 11, 0);
    // Two uploads whose events were lost (or gave up): a document and a broken file.
    for (key, body) in [
        ("lost/application.pdf", application.bytes.clone()),
        ("lost/broken.pdf", application.bytes[..200].to_vec()),
    ] {
        s3.put_object()
            .bucket(&uploads)
            .key(key)
            .body(body.into())
            .send()
            .await
            .unwrap();
    }
    let watch = watch_classify_with(
        &endpoint,
        &model,
        [&pii, &clean, &findings],
        &[
            ("UPLOAD_BUCKET", uploads.clone()),
            ("SWEEP_AFTER_MINUTES", "0".into()),
        ],
    );
    let schedule = common::workspace_root().join("infra/events/eventbridge-schedule.json");
    let first = common::invoke(&watch, &schedule);
    assert_eq!(
        (
            first["unfiled"].as_u64(),
            first["filed"].as_u64(),
            first["failed"].as_u64()
        ),
        (Some(2), Some(2), Some(0)),
        "{first}"
    );
    assert_eq!(common::s3_keys(&s3, &pii).await, ["lost/application.pdf"]);
    assert_eq!(common::s3_keys(&s3, &uploads).await, ["lost/broken.pdf"]);
    // The broken file was filed as unreadable (tagged `error`, with its findings): the next
    // sweep leaves it where it is.
    let second = common::invoke(&watch, &schedule);
    assert_eq!(second["unfiled"].as_u64(), Some(0), "{second}");
    let records = common::s3_keys(&s3, &findings).await;
    assert!(
        records.contains(&"findings/lost/broken.pdf.json".to_owned()),
        "{records:?}"
    );
}
