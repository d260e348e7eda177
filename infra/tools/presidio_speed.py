"""Presidio's analyze() time per page on the pages `vigil extract` read, on one core.

Usage (from infra/bench-documents.sh, which pins the core):
    python presidio_speed.py EXTRACT.jsonl
Prints one JSON object: pages, seconds, ms_per_page. Loading Presidio and spaCy is not
counted: only analyze(), as a long-running Presidio service would spend it.
"""
import json
import sys
import time

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from compare_presidio import offline_presidio  # noqa: E402


def main():
    pages = []
    for line in open(sys.argv[1]):
        record = json.loads(line)
        pages.extend(record.get("pages", []))
    analyzer = offline_presidio()
    analyzer.analyze(text="warm up John Smith 555-123-4567", language="en")
    started = time.perf_counter()
    for text in pages:
        analyzer.analyze(text=text, language="en")
    seconds = time.perf_counter() - started
    print(json.dumps({"pages": len(pages), "seconds": round(seconds, 3),
                      "ms_per_page": round(seconds * 1000 / max(len(pages), 1), 2)}))


if __name__ == "__main__":
    main()
