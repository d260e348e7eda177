//! `vigil console` over a demo's folder: every API route over HTTP (good calls, bad input,
//! errors as JSON), and the page in a real browser (Debian's chromium driven through
//! chromedriver): upload a PDF and see its verdict, label an alert and find the label
//! stored, read a chart's value. Screenshots of each page are kept in
//! `$CARGO_TARGET_TMPDIR/console-screenshots/`.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use serde_json::{Value, json};
use vigil_testkit::browser::{self, wait_for};

/// One demo run (2,000 transactions, 4 documents) shared by the tests of this file.
fn demo() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("vigil-console-test-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let out = Command::new(env!("CARGO_BIN_EXE_vigil"))
            .args([
                "demo",
                "--count",
                "2000",
                "--seed",
                "5",
                "--documents",
                "4",
                "--no-ner",
                "--out",
            ])
            .arg(&dir)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        dir
    })
}

/// A running `vigil console`, stopped when dropped.
struct Console {
    child: Child,
    url: String,
}

impl Console {
    fn start(data: &Path) -> Console {
        let mut child = Command::new(env!("CARGO_BIN_EXE_vigil"))
            .args(["console", "--port", "0", "--no-ner", "--data"])
            .arg(data)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let url = line
            .split_whitespace()
            .find(|w| w.starts_with("http://"))
            .unwrap_or_else(|| panic!("no address in {line:?}"))
            .trim_end_matches('/')
            .to_owned();
        Console { child, url }
    }

    fn at(&self, path: &str) -> String {
        format!("{}{path}", self.url)
    }
}

impl Drop for Console {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// reqwest and fantoccini take TLS from the process's crypto provider (none is chosen while
/// two are compiled in): the AWS SDK's, aws-lc-rs.
fn tls() {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
}

fn client() -> reqwest::Client {
    tls();
    reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap()
}

/// Status and JSON body.
async fn call(request: reqwest::RequestBuilder) -> (u16, Value) {
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let body = response.json().await.unwrap_or(Value::Null);
    (status, body)
}

fn archived(dir: &Path) -> Vec<Value> {
    let mut out = Vec::new();
    for part in std::fs::read_dir(dir.join("archive/processed")).unwrap() {
        for f in std::fs::read_dir(part.unwrap().path()).unwrap() {
            for line in std::fs::read_to_string(f.unwrap().path()).unwrap().lines() {
                out.push(serde_json::from_str(line).unwrap());
            }
        }
    }
    out
}

/// A filed PDF of the demo's, to upload again.
fn some_pdf(dir: &Path, bucket: &str) -> Vec<u8> {
    let folder = dir.join("documents").join(bucket);
    let first = std::fs::read_dir(&folder)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "pdf"))
        .unwrap_or_else(|| panic!("no PDF in {}", folder.display()));
    std::fs::read(first).unwrap()
}

fn pdf_part(bytes: Vec<u8>, name: &str) -> reqwest::multipart::Form {
    reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(bytes)
            .file_name(name.to_owned())
            .mime_str("application/pdf")
            .unwrap(),
    )
}

#[tokio::test]
async fn documents_upload_list_findings_and_download() {
    let dir = demo();
    let console = Console::start(dir);
    let http = client();

    let pdf = some_pdf(dir, "pii");
    let (status, record) = call(
        http.post(console.at("/api/documents"))
            .multipart(pdf_part(pdf.clone(), "my loan (copy).pdf")),
    )
    .await;
    assert_eq!(status, 201, "{record}");
    let id = record["id"].as_str().unwrap().to_owned();
    assert!(id.ends_with("-my_loan__copy_.pdf"), "{id}");
    assert_eq!(record["verdict"], "pii", "{record}");
    assert!(record["findings"].as_u64().unwrap() > 0);

    let (status, list) = call(http.get(console.at("/api/documents"))).await;
    assert_eq!(status, 200);
    let docs = list["documents"].as_array().unwrap();
    assert_eq!(docs.len(), 5, "the demo's 4 and the upload: {list}");
    assert!(docs.iter().any(|d| d["id"] == id.as_str()));

    let (status, detail) = call(http.get(console.at(&format!("/api/documents/{id}")))).await;
    assert_eq!(status, 200);
    let findings = detail["findings"]["entities"].as_array().unwrap();
    assert!(!findings.is_empty());
    for f in findings {
        assert!(f["page"].as_u64().unwrap() >= 1);
        assert!(f["masked"].as_str().unwrap().contains('*'), "{f}");
    }
    assert!(
        detail["findings"].get("destination").is_none(),
        "bucket names stay inside"
    );

    let response = http
        .get(console.at(&format!("/api/documents/{id}/pdf")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.bytes().await.unwrap().as_ref(), pdf.as_slice());

    // Bad uploads: clear errors as JSON, nothing stored.
    let (status, body) = call(
        http.post(console.at("/api/documents"))
            .multipart(pdf_part(b"PK\x03\x04 a zip file".to_vec(), "x.pdf")),
    )
    .await;
    assert_eq!(status, 415, "{body}");
    assert!(body["error"].as_str().unwrap().contains("not a PDF"));
    let mut big = b"%PDF-1.4\n".to_vec();
    big.resize(21 * 1024 * 1024, b' ');
    let (status, body) = call(
        http.post(console.at("/api/documents"))
            .multipart(pdf_part(big, "big.pdf")),
    )
    .await;
    assert_eq!(status, 413, "{body}");
    let (status, body) = call(
        http.post(console.at("/api/documents"))
            .multipart(reqwest::multipart::Form::new().text("other", "x")),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert!(body["error"].as_str().unwrap().contains("field `file`"));
    let (status, _) = call(http.get(console.at("/api/documents/..%2Fsecret"))).await;
    assert_eq!(status, 400);
    let (status, _) = call(http.get(console.at("/api/documents/nope.pdf"))).await;
    assert_eq!(status, 404);
    let (_, list) = call(http.get(console.at("/api/documents"))).await;
    assert_eq!(list["documents"].as_array().unwrap().len(), 5);
}

#[tokio::test]
async fn review_queue_labels_and_reveals() {
    let dir = demo();
    let console = Console::start(dir);
    let http = client();
    let records = archived(dir);
    let flagged = records
        .iter()
        .filter(|r| r["fd"]["outcome"] != "approve")
        .count();

    let (status, body) = call(http.get(console.at("/api/alerts?limit=500"))).await;
    assert_eq!(status, 200, "{body}");
    let alerts = body["alerts"].as_array().unwrap();
    assert_eq!(alerts.len(), flagged.min(500));
    let times: Vec<&str> = alerts
        .iter()
        .map(|a| a["event_time"].as_str().unwrap())
        .collect();
    assert!(times.windows(2).all(|w| w[0] >= w[1]), "newest first");
    for a in alerts {
        assert!(a["outcome"] == "block" || a["outcome"] == "review");
        assert!(a["customer"].as_str().unwrap().contains('*'), "{a}");
        assert!(a["email"].as_str().unwrap().contains("*****@"), "{a}");
    }

    let (_, body) = call(http.get(console.at("/api/alerts?outcome=block"))).await;
    let blocks = body["alerts"].as_array().unwrap();
    assert!(!blocks.is_empty() && blocks.iter().all(|a| a["outcome"] == "block"));
    let (_, body) = call(http.get(console.at("/api/alerts?reason=new%20IP&limit=500"))).await;
    let by_reason = body["alerts"].as_array().unwrap();
    assert!(!by_reason.is_empty());
    assert!(by_reason.len() < alerts.len());
    for a in by_reason {
        let reasons = a["reasons"].to_string().to_lowercase();
        assert!(reasons.contains("new ip"), "{reasons}");
    }
    let (status, body) = call(http.get(console.at("/api/alerts?outcome=approve"))).await;
    assert_eq!(status, 400, "{body}");
    let (status, _) = call(http.get(console.at("/api/alerts?from=yesterday"))).await;
    assert_eq!(status, 400);

    // A label goes to the archive's labels/, where training and backtests read it.
    let event_id = alerts[0]["event_id"].as_str().unwrap().to_owned();
    let (status, stored) = call(
        http.post(console.at("/api/labels"))
            .json(&json!({"event_id": event_id, "label": "fraud"})),
    )
    .await;
    assert_eq!(status, 201, "{stored}");
    let labels_dir = dir.join("archive/labels");
    let files: Vec<String> = std::fs::read_dir(&labels_dir)
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .collect();
    assert!(
        files
            .iter()
            .any(|f| f.contains(&event_id) && f.contains("\"fraud\""))
    );
    let (_, body) = call(http.get(console.at("/api/alerts?limit=1"))).await;
    assert_eq!(body["alerts"][0]["label"], "fraud");
    let (status, _) = call(
        http.post(console.at("/api/labels"))
            .json(&json!({"event_id": "00000000-0000-0000-0000-000000000000", "label": "fraud"})),
    )
    .await;
    assert_eq!(status, 404);
    let (status, body) = call(
        http.post(console.at("/api/labels"))
            .json(&json!({"event_id": event_id, "label": "maybe"})),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    let (status, _) = call(
        http.post(console.at("/api/labels"))
            .header("content-type", "application/json")
            .body("{not json"),
    )
    .await;
    assert_eq!(status, 400);

    // The full value, for an analyst, on request.
    let raw = records
        .iter()
        .find(|r| r["event_id"] == event_id.as_str())
        .unwrap()["customer_name"]
        .clone();
    let (status, body) = call(
        http.post(console.at("/api/reveal"))
            .json(&json!({"event_id": event_id, "field": "customer_name"})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["value"], raw);
    let (status, _) = call(
        http.post(console.at("/api/reveal"))
            .json(&json!({"event_id": event_id, "field": "fd"})),
    )
    .await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn reports_series_reasons_and_sql() {
    let dir = demo();
    let console = Console::start(dir);
    let http = client();
    let records = archived(dir);

    let (status, s) = call(http.get(console.at("/api/series"))).await;
    assert_eq!(status, 200, "{s}");
    let points = s["times"].as_array().unwrap().len();
    assert!((10..=300).contains(&points), "{points} points");
    let total: u64 = ["approve", "review", "block"]
        .iter()
        .flat_map(|k| s[k].as_array().unwrap().iter().map(|v| v.as_u64().unwrap()))
        .sum();
    assert_eq!(total as usize, records.len());
    let blocks: u64 = s["block"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap())
        .sum();
    assert_eq!(
        blocks as usize,
        records
            .iter()
            .filter(|r| r["fd"]["outcome"] == "block")
            .count()
    );

    // Zoomed into an hour: narrower buckets.
    let from = s["from"].as_i64().unwrap();
    let (_, z) =
        call(http.get(console.at(&format!("/api/series?from={from}&to={}", from + 3600)))).await;
    assert!(z["bucket_seconds"].as_i64().unwrap() < s["bucket_seconds"].as_i64().unwrap());
    let (status, _) =
        call(http.get(console.at(&format!("/api/series?from={from}&to={from}")))).await;
    assert_eq!(status, 400);

    let (status, r) = call(http.get(console.at("/api/reasons"))).await;
    assert_eq!(status, 200);
    assert!(!r["reasons"].as_array().unwrap().is_empty());

    let (status, q) = call(
        http.post(console.at("/api/query"))
            .json(&json!({"sql": "SELECT email_address, fd.outcome AS outcome FROM txn_processedtxns LIMIT 3"})),
    )
    .await;
    assert_eq!(status, 200, "{q}");
    assert_eq!(q["columns"], json!(["email_address", "outcome"]));
    assert_eq!(q["rows"].as_array().unwrap().len(), 3);
    assert!(
        q["rows"][0]["email_address"]
            .as_str()
            .unwrap()
            .contains("*****@")
    );
    let (status, body) = call(
        http.post(console.at("/api/query"))
            .json(&json!({"sql": "DROP TABLE txn_processedtxns"})),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    let (status, body) = call(http.get(console.at("/api/nothing"))).await;
    assert_eq!(status, 404);
    assert_eq!(body["status"], 404);
}

// ---------- the page in a browser ----------

fn screenshots() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("console-screenshots")
}

async fn screenshot(c: &fantoccini::Client, name: &str) {
    browser::screenshot(c, &screenshots(), name).await;
}

#[tokio::test]
async fn the_page_uploads_labels_and_charts_in_chromium() {
    let Some((chromium, driver)) = browser::peers() else {
        return;
    };
    let dir = demo();
    let console = Console::start(dir);
    tls();
    let (_driver, c) = browser::open(&chromium, &driver, 1280, 900).await;

    // Documents: upload through the file input; the verdict appears in the list.
    c.goto(&console.at("/#documents")).await.unwrap();
    let upload = dir.join("upload-from-browser.pdf");
    std::fs::write(&upload, some_pdf(dir, "clean")).unwrap();
    let input = c.find(fantoccini::Locator::Css("#file")).await.unwrap();
    input.send_keys(upload.to_str().unwrap()).await.unwrap();
    let row = wait_for(
        &c,
        "#doc-list tr",
        |id| id.ends_with("-upload-from-browser.pdf"),
        Some("data-id"),
    )
    .await;
    let verdict = row.attr("data-verdict").await.unwrap().unwrap();
    assert!(verdict == "no_pii" || verdict == "pii", "{verdict}");
    wait_for(
        &c,
        "#doc-detail h3",
        |t| t.contains("upload-from-browser"),
        None,
    )
    .await;
    screenshot(&c, "documents-1280.png").await;

    // Review: mark the newest alert as fraud; the label is stored.
    c.goto(&console.at("/#review")).await.unwrap();
    let first = wait_for(
        &c,
        "#alert-list tr",
        |id| !id.is_empty(),
        Some("data-event"),
    )
    .await;
    let event_id = first.attr("data-event").await.unwrap().unwrap();
    first
        .find(fantoccini::Locator::Css("button[data-label=legit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for(
        &c,
        &format!("#alert-list tr[data-event='{event_id}']"),
        |l| l == "legit",
        Some("data-labelled"),
    )
    .await;
    let stored: Vec<String> = std::fs::read_dir(dir.join("archive/labels"))
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .collect();
    assert!(
        stored
            .iter()
            .any(|f| f.contains(&event_id) && f.contains("\"legit\""))
    );
    screenshot(&c, "review-1280.png").await;

    // Reports: hover the chart and read a bucket's counts, as the API gives them.
    c.goto(&console.at("/#reports")).await.unwrap();
    let plot = wait_for(&c, "#chart .u-over", |_| true, None).await;
    use fantoccini::actions::InputSource;
    c.perform_actions(fantoccini::actions::MouseActions::new("mouse".into()).then(
        fantoccini::actions::PointerAction::MoveToElement {
            element: plot.clone(),
            duration: None,
            x: 0.0,
            y: 0.0,
        },
    ))
    .await
    .unwrap();
    let hover = wait_for(&c, "#chart-hover", |t| t.contains("approve"), None).await;
    let text = hover.text().await.unwrap();
    let index: usize = hover
        .attr("data-index")
        .await
        .unwrap()
        .unwrap()
        .parse()
        .unwrap();
    let (_, series) = call(client().get(console.at("/api/series"))).await;
    for k in ["approve", "review", "block"] {
        let expected = format!("{k} {}", series[k][index]);
        assert!(text.contains(&expected), "{text} lacks {expected}");
    }
    screenshot(&c, "reports-1280.png").await;

    // The SQL box answers.
    let sql = c
        .find(fantoccini::Locator::Css("#sql-form button"))
        .await
        .unwrap();
    sql.click().await.unwrap();
    wait_for(&c, "#sql-status", |t| t.ends_with("rows"), None).await;

    // A phone's width: the review queue as cards.
    c.set_window_size(390, 844).await.unwrap();
    c.goto(&console.at("/#review")).await.unwrap();
    wait_for(
        &c,
        "#alert-list tr",
        |id| !id.is_empty(),
        Some("data-event"),
    )
    .await;
    screenshot(&c, "review-390.png").await;
    c.goto(&console.at("/#documents")).await.unwrap();
    wait_for(&c, "#doc-list tr", |id| !id.is_empty(), Some("data-id")).await;
    screenshot(&c, "documents-390.png").await;
    c.close().await.unwrap();
    eprintln!("screenshots in {}", screenshots().display());
}
