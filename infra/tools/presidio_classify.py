"""Microsoft Presidio as a document classifier, with `vigil classify --json`'s output, so
that the same scorers judge both.

Usage (from infra/evaluate-documents.sh, which installs Presidio in its own venv):
    python presidio_classify.py VIGIL_BINARY THRESHOLD PDF... > out.jsonl

Presidio sees the text `vigil extract` reads from each page (the same text as Vigil).
Its entities at or above THRESHOLD are mapped to Vigil's types and the document rule of
ARCHITECTURE.md is applied: `pii` on a direct identifier, or on a person together with
an address. The threshold is fixed by the caller, not chosen on the documents scored.
"""
import json
import subprocess
import sys

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from compare_presidio import MAP, DIRECT, offline_presidio  # noqa: E402


def main():
    vigil, threshold, files = sys.argv[1], float(sys.argv[2]), sys.argv[3:]
    analyzer = offline_presidio()
    for path in files:
        out = subprocess.run([vigil, "extract", path], capture_output=True, text=True).stdout
        record = json.loads(out.splitlines()[0]) if out.strip() else {"error": "no output"}
        if "error" in record:
            print(json.dumps({"file": path, "verdict": "error", "entities": [], "error": record["error"]}))
            continue
        entities = []
        for number, text in enumerate(record["pages"], 1):
            for r in analyzer.analyze(text=text, language="en"):
                kind = MAP.get(r.entity_type)
                # Any date is a date, not a birth date: dates never decide.
                if kind is None or kind == "DATE_OF_BIRTH" or r.score < threshold:
                    continue
                entities.append(
                    {"type": kind, "start": r.start, "end": r.end, "page": number, "score": round(r.score, 3)}
                )
        kinds = {e["type"] for e in entities}
        personal = bool(kinds & DIRECT) or ("PERSON" in kinds and "ADDRESS" in kinds)
        print(json.dumps({"file": path, "verdict": "pii" if personal else "no_pii", "entities": entities, "error": None}))
        sys.stdout.flush()


if __name__ == "__main__":
    main()
