//! What `sam build` made (`infra/sam-build.sh` → `VIGIL_TEST_SAM_BUILD`), run as Lambda
//! would run it: `classify-document`'s arm64 `bootstrap` under qemu's user-mode emulation
//! (`VIGIL_TEST_QEMU`), attached to `cargo lambda`'s Runtime API, reading its model from
//! the built `NerModelLayer` as from `/opt/model` and Tesseract from the built `OcrLayer`,
//! files PDFs (one of them a scan) from moto's S3.

mod common;

use std::path::PathBuf;

#[tokio::test]
async fn the_built_classifier_files_documents_with_the_built_model() {
    let (Some(build), Some(qemu), Some(endpoint)) = (
        vigil_testkit::peer(
            "VIGIL_TEST_SAM_BUILD",
            "sam build's output (.aws-sam/build)",
        ),
        vigil_testkit::peer("VIGIL_TEST_QEMU", "qemu-aarch64, to run arm64 packages"),
        common::moto(),
    ) else {
        return;
    };
    let build = PathBuf::from(build);
    let bootstrap = build.join("ClassifyDocumentFunction/bootstrap");
    let model = build.join("NerModelLayer/model");
    let ocr = build.join("OcrLayer");
    assert!(
        ocr.join("lib/libtesseract.so.5").is_file()
            && ocr.join("tessdata/eng.traineddata").is_file(),
        "no Tesseract in {}",
        ocr.display()
    );
    assert!(bootstrap.is_file(), "no {}", bootstrap.display());
    assert!(
        model.join("model.safetensors").is_file(),
        "no model in {}",
        model.display()
    );

    let s3 = common::s3_client(&endpoint);
    let id = uuid::Uuid::new_v4().simple().to_string();
    let [uploads, pii, clean, findings] =
        ["uploads", "pii", "clean", "findings"].map(|b| format!("vigil-built-{b}-{id}"));
    for b in [&uploads, &pii, &clean, &findings] {
        s3.create_bucket().bucket(b).send().await.unwrap();
    }
    let people = vigil_corpus::people().unwrap();
    let application = vigil_corpus::generate(&people, 5, 0);
    let rate_sheet = vigil_corpus::generate(&people, 5, 8);
    assert_eq!((application.truth.pii, rate_sheet.truth.pii), (true, false));
    // The application again, as an office scanner would send it: no text layer.
    let style = vigil_corpus::scan::ScanStyle {
        dpi: 200,
        skew: 1.0,
        blur: 0.0,
        noise: 4.0,
        quality: 75,
    };
    let scan = vigil_corpus::scan::scan_copy(&application.bytes, &style, 5).unwrap();
    for (key, bytes) in [
        ("application.pdf", &application.bytes),
        ("rates.pdf", &rate_sheet.bytes),
        ("scanned application.pdf", &scan),
    ] {
        s3.put_object()
            .bucket(&uploads)
            .key(key)
            .body(bytes.clone().into())
            .send()
            .await
            .unwrap();
    }

    let aws = common::aws_env(&endpoint);
    let extra = [
        ("PII_BUCKET", pii.clone()),
        ("CLEAN_BUCKET", clean.clone()),
        ("FINDINGS_BUCKET", findings.clone()),
        ("MODEL_DIR", model.to_string_lossy().into_owned()),
        // The model on every page, so that the findings show it ran from the layer.
        ("NER_MODE", "everywhere".to_owned()),
        // The layer's Tesseract, as /opt/lib and /opt/tessdata would hold it.
        ("OCR", "auto".to_owned()),
        (
            "OCR_LIBRARY",
            ocr.join("lib/libtesseract.so.5")
                .to_string_lossy()
                .into_owned(),
        ),
        (
            "OCR_DATA",
            ocr.join("tessdata").to_string_lossy().into_owned(),
        ),
    ];
    let watch = common::watch_arm64(&qemu, &bootstrap, &common::env_for(&aws, &extra));
    let event = common::s3_event(
        &uploads,
        &["application.pdf", "rates.pdf", "scanned+application.pdf"],
        "built",
    );
    let answer = common::invoke(&watch, &event);
    assert_eq!(answer["filed"], 3, "{answer}");
    let scanned = common::s3_bytes(&s3, &findings, "findings/scanned application.pdf.json").await;
    let scanned: serde_json::Value = serde_json::from_slice(&scanned).unwrap();
    assert_eq!(scanned["verdict"], "pii", "{scanned}");
    assert_eq!(
        common::s3_keys(&s3, &pii).await,
        ["application.pdf", "scanned application.pdf"]
    );
    assert_eq!(common::s3_keys(&s3, &clean).await, ["rates.pdf"]);
    let record = common::s3_bytes(&s3, &findings, "findings/application.pdf.json").await;
    let record: serde_json::Value = serde_json::from_slice(&record).unwrap();
    assert_eq!(record["verdict"], "pii", "{record}");
    // The model took part: some findings are its own or confirmed by it.
    let text = record.to_string();
    assert!(
        text.contains("\"detector\":\"ner\"") || text.contains("\"detector\":\"both\""),
        "no finding from the model: {record}"
    );
    // The scan was read by the layer's Tesseract: its findings say so.
    let record = common::s3_bytes(&s3, &findings, "findings/scanned application.pdf.json").await;
    let record: serde_json::Value = serde_json::from_slice(&record).unwrap();
    assert_eq!(record["verdict"], "pii", "{record}");
    let entities = record["entities"].as_array().unwrap();
    assert!(
        entities.iter().any(
            |e| e["detector"] == "ocr" && e["ocr_confidence"].as_f64().is_some_and(|c| c > 0.5)
        ),
        "no finding read by OCR: {record}"
    );
}
