//! The optional Glue crawler, for users who want the original's behaviour: start it (or join
//! a run already going) and wait, inside a time budget, for it to finish.

use std::time::{Duration, Instant};

use aws_sdk_glue::Client;
use aws_sdk_glue::error::DisplayErrorContext;
use aws_sdk_glue::types::{CrawlerState, LastCrawlStatus};
use vigil_reports::Error;

#[derive(Clone)]
pub struct Crawler {
    client: Client,
    name: String,
    pub budget: Duration,
    pub poll: Duration,
}

impl Crawler {
    pub fn new(client: Client, name: &str) -> Self {
        Self {
            client,
            name: name.to_owned(),
            budget: Duration::from_secs(600),
            poll: Duration::from_secs(10),
        }
    }

    pub fn from_sdk_config(config: &aws_config::SdkConfig, name: &str) -> Self {
        Self::new(Client::new(config), name)
    }

    fn error(&self, message: String) -> Error {
        Error::Crawler {
            name: self.name.clone(),
            message,
        }
    }

    /// Runs the crawler to its end; returns how long it took.
    pub async fn run(&self) -> Result<Duration, Error> {
        let started = Instant::now();
        if let Err(e) = self.client.start_crawler().name(&self.name).send().await {
            // Already running (a schedule of its own, or a previous invocation): wait for it.
            if !e
                .as_service_error()
                .is_some_and(|s| s.is_crawler_running_exception())
            {
                return Err(self.error(format!("starting: {}", DisplayErrorContext(e))));
            }
        }
        tracing::info!(crawler = %self.name, "crawler started");
        loop {
            tokio::time::sleep(self.poll).await;
            let crawler = self
                .client
                .get_crawler()
                .name(&self.name)
                .send()
                .await
                .map_err(|e| self.error(format!("polling: {}", DisplayErrorContext(e))))?;
            let Some(crawler) = crawler.crawler() else {
                return Err(self.error("Glue returned no crawler".into()));
            };
            if crawler.state() == Some(&CrawlerState::Ready) {
                let last = crawler.last_crawl();
                return match last.and_then(|l| l.status()) {
                    Some(LastCrawlStatus::Failed) | Some(LastCrawlStatus::Cancelled) => Err(self
                        .error(format!(
                            "the crawl ended {}: {}",
                            last.and_then(|l| l.status()).map_or("", |s| s.as_str()),
                            last.and_then(|l| l.error_message()).unwrap_or("no message")
                        ))),
                    _ => Ok(started.elapsed()),
                };
            }
            if started.elapsed() > self.budget {
                return Err(self.error(format!(
                    "still {} after {} s",
                    crawler.state().map_or("running", |s| s.as_str()),
                    self.budget.as_secs()
                )));
            }
        }
    }
}
