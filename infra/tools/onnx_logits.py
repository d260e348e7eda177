"""Reference logits of the Rampart ONNX model, by onnxruntime, for token ids given as JSON.

Usage: python onnx_logits.py MODEL.onnx IDS.json  → prints {"logits": [[...], ...]}
Used by crates/documents/tests/model_matches_onnx.rs to check the candle import.
"""
import json
import sys

import numpy as np
import onnxruntime as ort

model, ids_path = sys.argv[1], sys.argv[2]
ids = np.array([json.load(open(ids_path))], dtype=np.int64)
session = ort.InferenceSession(model, providers=["CPUExecutionProvider"])
(logits,) = session.run(
    ["logits"],
    {"input_ids": ids, "attention_mask": np.ones_like(ids), "token_type_ids": np.zeros_like(ids)},
)
json.dump({"logits": logits[0].tolist()}, sys.stdout)
