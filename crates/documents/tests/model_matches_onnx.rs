//! The imported model (candle, f32 safetensors) gives the ONNX model's logits
//! (onnxruntime, the 4-bit original) on a fixed loan-file text.
//!
//! Needs `VIGIL_TEST_MODEL_DIR` (the imported model), `VIGIL_TEST_ONNX` (the original
//! `model_q4.onnx`) and `VIGIL_TEST_PYTHON` (a Python with onnxruntime): infra/test.sh
//! sets all three.

use std::process::Command;

use vigil_documents::{ModelFiles, NerModel};

const TEXT: &str = "Borrower: Maria Delgado, 4417 Juniper Court Apt 2B, Tucson, AZ 85719. \
    SSN 536-22-8726, phone (520) 555-0147, maria.delgado@example.org. \
    Checking account 004417889201 at routing 122105155. Driver's license D08954417.";

#[test]
fn candle_logits_match_onnxruntime() {
    let (Some(model_dir), Some(onnx), Some(python)) = (
        vigil_testkit::peer("VIGIL_TEST_MODEL_DIR", "the imported NER model"),
        vigil_testkit::peer("VIGIL_TEST_ONNX", "the original model_q4.onnx"),
        vigil_testkit::peer("VIGIL_TEST_PYTHON", "a Python with onnxruntime"),
    ) else {
        return;
    };
    let model =
        NerModel::load(&ModelFiles::in_dir(model_dir.as_ref())).expect("the imported model loads");
    let ids = model.token_ids(TEXT).unwrap();
    assert!(ids.len() > 60, "the text is tokenized ({} ids)", ids.len());
    let ours = model.logits(&ids).unwrap();

    let dir = std::env::temp_dir().join(format!("vigil-logits-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let ids_path = dir.join("ids.json");
    std::fs::write(&ids_path, serde_json::to_vec(&ids).unwrap()).unwrap();
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../infra/tools/onnx_logits.py"
    );
    let out = Command::new(python)
        .args([script, &onnx, ids_path.to_str().unwrap()])
        .output()
        .expect("python runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let reference: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let reference: Vec<Vec<f32>> = serde_json::from_value(reference["logits"].clone()).unwrap();

    assert_eq!(reference.len(), ours.len());
    let mut max_diff = 0f32;
    for (i, (a, b)) in ours.iter().zip(&reference).enumerate() {
        assert_eq!(a.len(), b.len());
        for (x, y) in a.iter().zip(b) {
            max_diff = max_diff.max((x - y).abs());
        }
        let argmax = |v: &[f32]| {
            v.iter()
                .enumerate()
                .max_by(|p, q| p.1.total_cmp(q.1))
                .map(|p| p.0)
        };
        assert_eq!(argmax(a), argmax(b), "token {i}: same label");
    }
    eprintln!(
        "{} tokens, max |logit difference| = {max_diff:e}",
        ours.len()
    );
    assert!(max_diff < 1e-3, "max difference {max_diff}");
}
