//! `vigil classify` as docs/architecture.md (Records) defines it: one JSON line per file, values never
//! printed, exit code 1 when any file got `error`, and one bad file never stops a batch.
//! Needs `VIGIL_TEST_MODEL_DIR`: infra/test.sh sets it.

use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;

fn model() -> Option<String> {
    vigil_testkit::peer("VIGIL_TEST_MODEL_DIR", "the imported NER model")
}

fn dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("vigil-classify-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn a_folder_with_hostile_files_is_classified_file_by_file() {
    let Some(model) = model() else { return };
    let d = dir("mixed");
    let people = vigil_corpus::people().unwrap();
    let docs: Vec<_> = (0..13)
        .map(|i| vigil_corpus::generate(&people, 21, i))
        .collect();
    for doc in &docs {
        std::fs::write(d.join(&doc.truth.file), &doc.bytes).unwrap();
    }
    let hostile = vigil_corpus::hostile::files();
    for (name, bytes, _) in &hostile {
        std::fs::write(d.join(format!("zz-{name}")), bytes).unwrap();
    }
    let out = Command::new(env!("CARGO_BIN_EXE_vigil"))
        .args(["classify", "--json", "--model", &model])
        .arg(&d)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "errors → exit code 1\n{stdout}");
    let lines: Vec<Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), docs.len() + hostile.len(), "one line per file");
    for line in &lines {
        let keys: Vec<&str> = line
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        // the contract's keys (docs/architecture.md), and the business contacts set aside.
        assert_eq!(
            keys,
            ["business", "entities", "error", "file", "verdict"],
            "{line}"
        );
        for e in line["entities"]
            .as_array()
            .unwrap()
            .iter()
            .chain(line["business"].as_array().unwrap())
        {
            let keys: Vec<&str> = e.as_object().unwrap().keys().map(String::as_str).collect();
            let contract = ["end", "page", "score", "start", "type"];
            assert!(contract.iter().all(|k| keys.contains(k)), "{e}");
            assert!(
                keys.iter().all(|k| contract.contains(k)
                    || ["masked", "evidence", "detector", "ocr_confidence"].contains(k)),
                "{e}"
            );
        }
    }
    for doc in &docs {
        let line = lines
            .iter()
            .find(|l| l["file"].as_str().unwrap().ends_with(&doc.truth.file))
            .unwrap();
        let want = if doc.truth.pii { "pii" } else { "no_pii" };
        assert_eq!(line["verdict"], want, "{}: {line}", doc.truth.file);
        for entity in &doc.truth.entities {
            assert!(
                !stdout.contains(&entity.value),
                "a {} value is printed",
                entity.kind
            );
        }
    }
    let errors = lines.iter().filter(|l| l["verdict"] == "error").count();
    assert!(errors >= 8, "the hostile files that must fail do: {errors}");
    std::fs::remove_dir_all(d).unwrap();
}

#[test]
fn good_files_exit_zero_and_a_missing_model_is_explained() {
    let Some(model) = model() else { return };
    let d = dir("good");
    let people = vigil_corpus::people().unwrap();
    let doc = vigil_corpus::generate(&people, 5, 0);
    let file = d.join("application.pdf");
    std::fs::write(&file, &doc.bytes).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_vigil"))
        .args(["classify", "--model", &model])
        .arg(&file)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(stdout.contains("application.pdf: PII"), "{stdout}");

    let out = Command::new(env!("CARGO_BIN_EXE_vigil"))
        .args(["classify", "--model", "/nonexistent/model"])
        .arg(&file)
        .env_remove("RUST_BACKTRACE")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("--no-ner") && stderr.contains("/nonexistent/model"),
        "{stderr}"
    );
    std::fs::remove_dir_all(d).unwrap();
}

#[test]
fn an_allow_list_sets_declared_values_aside_and_says_so() {
    let d = dir("allow");
    let mut layout = vigil_corpus::pdf::Layout::new(72.0, 11.0);
    layout.line("Loan application");
    layout.line("Applicant mobile: (412) 867-2147");
    let file = d.join("application.pdf");
    std::fs::write(&file, layout.finish()).unwrap();
    let run = |extra: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_vigil"))
            .args(["classify", "--json", "--no-ner"])
            .args(extra)
            .arg(&file)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        (
            out.status.code(),
            stdout,
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (_, stdout, _) = run(&[]);
    let line: Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(line["verdict"], "pii", "{line}");
    let evidence = line["entities"][0]["evidence"][0].as_str().unwrap();
    assert!(evidence.starts_with("personal"), "{evidence}");

    let allow = d.join("allow.toml");
    std::fs::write(&allow, "values = [\"412-867-2147\"]\n").unwrap();
    let (code, stdout, _) = run(&["--allow", allow.to_str().unwrap()]);
    assert_eq!(code, Some(0));
    let line: Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(line["verdict"], "no_pii", "{line}");
    assert_eq!(line["business"][0]["type"], "PHONE");
    assert_eq!(
        line["business"][0]["evidence"][0],
        "declared public: a value on the allow list"
    );
    assert!(
        !stdout.contains("867-2147"),
        "the value is printed: {stdout}"
    );

    std::fs::write(&allow, "patterns = [\"(\"]\n").unwrap();
    let (code, _, stderr) = run(&["--allow", allow.to_str().unwrap()]);
    assert_ne!(code, Some(0));
    assert!(
        stderr.contains("allow.toml") && stderr.contains("patterns[0]"),
        "{stderr}"
    );
    std::fs::remove_dir_all(d).unwrap();
}
