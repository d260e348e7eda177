//! `vigil query` and `vigil report` on a demo's archive and on the original system's
//! exported CSVs; the report page opened in a real headless browser (Debian's chromium).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

const ORIGINAL: &str = r#"SELECT transaction_amt, email_address, event_id, CAST("from_iso8601_timestamp"(event_time) AS timestamp) event_ts, fd.outcome FROM txn_processedtxns;"#;

fn vigil(args: &[&str], data: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_vigil"))
        .args(&args[..1])
        .arg("--data")
        .arg(data)
        .args(&args[1..])
        .output()
        .unwrap()
}

fn stdout_of(out: &Output) -> String {
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

/// One demo run (2,000 transactions, no documents) shared by the tests of this file.
fn demo() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("vigil-report-test-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let out = Command::new(env!("CARGO_BIN_EXE_vigil"))
            .args([
                "demo",
                "--count",
                "2000",
                "--seed",
                "5",
                "--documents",
                "0",
                "--out",
            ])
            .arg(&dir)
            .output()
            .unwrap();
        stdout_of(&out);
        dir
    })
}

/// (event id, outcome) of every archived record, read straight from the NDJSON files.
fn archived(dir: &Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for part in std::fs::read_dir(dir.join("archive/processed")).unwrap() {
        for f in std::fs::read_dir(part.unwrap().path()).unwrap() {
            for line in std::fs::read_to_string(f.unwrap().path()).unwrap().lines() {
                let v: serde_json::Value = serde_json::from_str(line).unwrap();
                out.push((
                    v["event_id"].as_str().unwrap().to_owned(),
                    v["fd"]["outcome"].as_str().unwrap().to_owned(),
                ));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn the_original_query_runs_verbatim_over_the_archive() {
    let dir = demo();
    let text = stdout_of(&vigil(&["query", ORIGINAL], dir));
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some("transaction_amt,email_address,event_id,event_ts,outcome")
    );
    let mut rows: Vec<(String, String)> = Vec::new();
    for line in lines {
        let cells: Vec<&str> = line.split(',').collect();
        assert_eq!(cells.len(), 5, "{line}");
        let ts = cells[3];
        assert_eq!(ts.len(), 23, "Athena's timestamp format: {ts}");
        assert!(ts.starts_with("2024-01-") && &ts[10..11] == " ", "{ts}");
        rows.push((cells[2].to_owned(), cells[4].to_owned()));
    }
    rows.sort();
    assert_eq!(
        rows,
        archived(dir),
        "every archived record, with its outcome"
    );
}

#[test]
fn report_queries_agree_with_the_archive() {
    let dir = demo();
    let records = archived(dir);
    let text = stdout_of(&vigil(
        &[
            "query",
            "SELECT fd.outcome AS outcome, count(*) AS n, approx_percentile(transaction_amt, 0.5) AS median FROM txn_processedtxns GROUP BY 1 ORDER BY 1",
        ],
        dir,
    ));
    for line in text.lines().skip(1) {
        let cells: Vec<&str> = line.split(',').collect();
        let want = records.iter().filter(|(_, o)| o == cells[0]).count();
        assert_eq!(cells[1].parse::<usize>().unwrap(), want, "{line}");
        assert!(cells[2].parse::<f64>().unwrap() > 0.0);
    }
    // Partitions come from the folder names.
    let text = stdout_of(&vigil(
        &[
            "query",
            "SELECT count(DISTINCT dt) AS days, min(dt) AS first FROM txn_processedtxns WHERE dt >= '2024-01-01'",
        ],
        dir,
    ));
    assert!(text.lines().nth(1).unwrap().contains(",2024-01-"), "{text}");
}

#[test]
fn a_bad_statement_exits_2_with_the_engines_message() {
    let out = vigil(
        &["query", "SELECT no_such_column FROM txn_processedtxns"],
        demo(),
    );
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("no_such_column"), "{stderr}");
    // Statements that would write are refused.
    let out = vigil(&["query", "CREATE TABLE x AS SELECT 1"], demo());
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn malformed_lines_are_skipped_with_a_count() {
    let src = demo().join("archive/processed");
    let dir = std::env::temp_dir().join(format!("vigil-report-bad-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let part = std::fs::read_dir(&src)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let target = dir.join(part.file_name().unwrap());
    std::fs::create_dir_all(&target).unwrap();
    let mut good = 0;
    for (i, f) in std::fs::read_dir(&part).unwrap().enumerate() {
        let f = f.unwrap().path();
        let mut text = std::fs::read_to_string(&f).unwrap();
        good += text.lines().count();
        if i == 0 {
            text.push_str(
                "{\"transaction_amt\": \"not a number\", \"fd\": {}}\n{ this is not json\n",
            );
        }
        std::fs::write(target.join(f.file_name().unwrap()), text).unwrap();
    }
    // An empty partition is not an error either.
    std::fs::create_dir_all(dir.join("dt=2024-02-30")).unwrap();
    // The query reads transaction_amt, so the line whose amount is not a number is left out
    // as well as the one that is not JSON.
    let out = vigil(
        &[
            "query",
            "SELECT count(*) AS n, sum(transaction_amt) AS total FROM txn_processedtxns",
        ],
        &dir,
    );
    let text = stdout_of(&out);
    let counted = text.lines().nth(1).and_then(|l| l.split(',').next());
    assert_eq!(counted, Some(good.to_string().as_str()), "{text}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("2 malformed archive line(s) skipped"),
        "{stderr}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_original_exports_read_as_the_same_table() {
    let Some(data) = vigil_testkit::shared_data("seed-test-data") else {
        return;
    };
    let out = vigil(
        &[
            "query",
            "SELECT count(*) AS n, count(DISTINCT event_id) AS ids, min(fd.outcome) AS o, max(fd.ttdf) AS ttdf FROM txn_processedtxns",
        ],
        &data,
    );
    let text = stdout_of(&out);
    assert_eq!(text.lines().nth(1), Some("11,11,approve,1700"), "{text}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("padding row(s) skipped"), "{stderr}");
    assert!(stderr.contains("are not exports of the table"), "{stderr}");
    // The original query too, as it ran on Athena.
    let text = stdout_of(&vigil(&["query", ORIGINAL], &data));
    assert_eq!(text.lines().count(), 12);
    assert!(text.contains(",2023-08-02 11:12:35.856,approve"), "{text}");
}

fn chromium() -> Option<String> {
    vigil_testkit::peer("VIGIL_TEST_CHROMIUM", "a Chromium to render the page in")
}

fn headless(chromium: &str, args: &[&str]) -> Output {
    Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
        ])
        .args([
            "--no-first-run",
            "--disable-extensions",
            "--hide-scrollbars",
        ])
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn the_report_renders_with_its_charts_in_headless_chromium() {
    let Some(chromium) = chromium() else { return };
    let dir = demo();
    let out_dir = dir.join("report-test");
    let text = stdout_of(&vigil(&["report", "--out", out_dir.to_str().unwrap()], dir));
    assert!(text.contains("report: 2000 transactions"), "{text}");
    let page = out_dir.join("index.html");
    let url = format!("file://{}", page.display());

    // The DOM chromium built: the four charts, each an SVG with drawn series.
    let dom = headless(&chromium, &["--dump-dom", &url]);
    let dom = String::from_utf8_lossy(&dom.stdout);
    for (name, _) in vigil_reports_charts() {
        let at = dom
            .find(&format!("id=\"{name}\""))
            .unwrap_or_else(|| panic!("chart {name} missing from the DOM"));
        let figure = &dom[at..at + dom[at..].find("</figure>").unwrap()];
        assert!(figure.contains("<svg"), "{name}");
        assert!(
            figure.contains("<polyline") || figure.contains("<rect"),
            "{name} has drawn series"
        );
    }
    for fetch in ["<script", "<link", " src=", "url("] {
        assert!(!dom.contains(fetch), "the page loads nothing ({fetch})");
    }

    // The pixels: the screenshot holds the outcome colours of the charts.
    let shot = out_dir.join("screenshot.png");
    let out = headless(
        &chromium,
        &[
            "--window-size=1000,2400",
            &format!("--screenshot={}", shot.display()),
            &url,
        ],
    );
    assert!(shot.exists(), "{}", String::from_utf8_lossy(&out.stderr));
    let image = image::open(&shot).unwrap().to_rgb8();
    let near = |c: &image::Rgb<u8>, want: [u8; 3]| {
        c.0.iter()
            .zip(want)
            .all(|(a, b)| (i16::from(*a) - i16::from(b)).abs() <= 12)
    };
    for (what, colour) in [
        ("approve green", [46, 139, 87]),
        ("review orange", [230, 145, 30]),
        ("block red", [200, 40, 40]),
    ] {
        let n = image.pixels().filter(|p| near(p, colour)).count();
        assert!(n > 200, "{what}: {n} pixels");
    }
    // And the PNG files beside the page.
    for (name, _) in vigil_reports_charts() {
        let png = image::open(out_dir.join(format!("{name}.png"))).unwrap();
        assert_eq!((png.width(), png.height()), (900, 420));
    }
}

fn vigil_reports_charts() -> [(&'static str, &'static str); 4] {
    vigil_reports::charts::CHARTS
}
