//! A real browser for the console's page tests: Debian's Chromium, headless, driven through
//! chromedriver (WebDriver) by fantoccini.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator, elements::Element};

/// How long a page gets to show what a test waits for.
const WAIT: Duration = Duration::from_secs(30);

/// The Chromium and the chromedriver infra/test.sh names (`VIGIL_TEST_CHROMIUM`,
/// `VIGIL_TEST_CHROMEDRIVER`), or `None` after saying why the test is skipped.
pub fn peers() -> Option<(String, String)> {
    let chromium = crate::peer("VIGIL_TEST_CHROMIUM", "a Chromium for the page")?;
    let driver = crate::peer("VIGIL_TEST_CHROMEDRIVER", "chromedriver to drive it")?;
    Some((chromium, driver))
}

/// chromedriver on a free port, stopped when dropped.
pub struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A headless Chromium at `width`×`height` under a new chromedriver. The process's rustls
/// crypto provider must be installed first (the AWS SDK's, aws-lc-rs).
pub async fn open(chromium: &str, driver: &str, width: u32, height: u32) -> (Driver, Client) {
    let port = crate::free_port();
    let child = Command::new(driver)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver starts");
    let driver = Driver(child);
    // Debian's /usr/bin/chromium is a wrapper script; chromedriver wants the binary.
    let binary = if Path::new("/usr/lib/chromium/chromium").exists()
        && chromium.ends_with("/usr/bin/chromium")
    {
        "/usr/lib/chromium/chromium".to_owned()
    } else {
        chromium.to_owned()
    };
    let caps: serde_json::Map<String, serde_json::Value> =
        serde_json::from_value(serde_json::json!({
            "goog:chromeOptions": {
                "binary": binary,
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                         "--disable-dev-shm-usage", format!("--window-size={width},{height}"),
                         "--hide-scrollbars"]
            }
        }))
        .expect("capabilities are an object");
    let started = Instant::now();
    let client = loop {
        match ClientBuilder::rustls()
            .expect("rustls with the process's provider")
            .capabilities(caps.clone())
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
        {
            Ok(c) => break c,
            Err(_) if started.elapsed() < Duration::from_secs(20) => {
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(e) => panic!("chromedriver: {e}"),
        }
    };
    (driver, client)
}

/// Waits for `css` to match an element whose text (or `attribute`) satisfies `ok`.
pub async fn wait_for(
    c: &Client,
    css: &str,
    ok: impl Fn(&str) -> bool,
    attribute: Option<&str>,
) -> Element {
    let started = Instant::now();
    loop {
        if let Ok(found) = c.find_all(Locator::Css(css)).await {
            for e in found {
                let value = match attribute {
                    Some(a) => e.attr(a).await.ok().flatten().unwrap_or_default(),
                    None => e.text().await.unwrap_or_default(),
                };
                if ok(&value) {
                    return e;
                }
            }
        }
        assert!(
            started.elapsed() < WAIT,
            "nothing matched {css} within {} s",
            WAIT.as_secs()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Types `text` into the field `css` (cleared first).
pub async fn fill(c: &Client, css: &str, text: &str) {
    let field = c.find(Locator::Css(css)).await.expect("the field is there");
    field.clear().await.expect("the field clears");
    field.send_keys(text).await.expect("the field takes keys");
}

/// Clicks the element `css`.
pub async fn click(c: &Client, css: &str) {
    c.find(Locator::Css(css))
        .await
        .expect("the element is there")
        .click()
        .await
        .expect("the element takes a click");
}

/// Saves the page as `dir/name` (PNG).
pub async fn screenshot(c: &Client, dir: &Path, name: &str) {
    std::fs::create_dir_all(dir).expect("screenshot folder");
    let png = c.screenshot().await.expect("a screenshot");
    std::fs::write(dir.join(name), png).expect("screenshot written");
}
