use std::collections::VecDeque;
use std::time::Duration;

use crate::context::{Auth, prime};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::producer::{DeliveryFuture, FutureProducer, FutureRecord, Producer};
use tracing::{debug, warn};

use crate::{Error, KafkaConfig};

/// What happened to a batch: how many records the brokers acknowledged, and which (by
/// index in the batch) they did not, with the reason.
#[derive(Debug, Default)]
pub struct DeliveryReport {
    pub delivered: usize,
    pub failed: Vec<(usize, String)>,
}

/// An idempotent producer (`enable.idempotence`, `acks=all`): librdkafka retries without
/// duplicating or reordering, and a record is acknowledged only once every in-sync
/// replica has it.
pub struct KeyedProducer {
    inner: FutureProducer<Auth>,
}

impl KeyedProducer {
    pub fn new(config: &KafkaConfig) -> Result<Self, Error> {
        let inner: FutureProducer<Auth> = config
            .client_config()
            .set("enable.idempotence", "true")
            .set("acks", "all")
            .set("linger.ms", "5")
            .set(
                "message.timeout.ms",
                config.delivery_timeout.as_millis().to_string(),
            )
            .create_with_context(config.context())?;
        prime(inner.client(), config.iam())?;
        Ok(Self { inner })
    }

    /// Sends `(key, payload)` pairs to `topic` and waits for every acknowledgement.
    /// Records keep their order per key (one key stays on one partition).
    pub async fn send_all<I, K, P>(&self, topic: &str, records: I) -> DeliveryReport
    where
        I: IntoIterator<Item = (K, P)>,
        K: AsRef<[u8]>,
        P: AsRef<[u8]>,
    {
        let mut report = DeliveryReport::default();
        let mut in_flight: VecDeque<(usize, DeliveryFuture)> = VecDeque::new();
        for (index, (key, payload)) in records.into_iter().enumerate() {
            loop {
                let record = FutureRecord::to(topic)
                    .key(key.as_ref())
                    .payload(payload.as_ref());
                match self.inner.send_result(record) {
                    Ok(future) => {
                        in_flight.push_back((index, future));
                        break;
                    }
                    Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), _)) => {
                        // The local queue is full: wait for the oldest delivery, then retry.
                        match in_flight.pop_front() {
                            Some((i, f)) => settle(&mut report, i, f.await),
                            None => tokio::time::sleep(Duration::from_millis(10)).await,
                        }
                    }
                    Err((e, _)) => {
                        report.failed.push((index, e.to_string()));
                        break;
                    }
                }
            }
        }
        while let Some((i, f)) = in_flight.pop_front() {
            settle(&mut report, i, f.await);
        }
        debug!(
            topic,
            delivered = report.delivered,
            failed = report.failed.len(),
            "batch sent"
        );
        report
    }

    /// Sends `records` and then, with a growing pause, sends again only those that did not
    /// get through, until all are delivered or `budget` has passed. `on_retry` hears of each
    /// failed round (records left, first reason). Records that were acknowledged are never
    /// sent twice, so a broker outage shorter than the budget costs time, not duplicates.
    pub async fn send_reliably(
        &self,
        topic: &str,
        records: Vec<(String, Vec<u8>)>,
        budget: Duration,
        on_retry: &mut (dyn FnMut(usize, &str) + Send),
    ) -> Result<usize, Error> {
        let total = records.len();
        let began = std::time::Instant::now();
        let mut pause = Duration::from_millis(200);
        let mut pending = records;
        loop {
            // Collected first: a lazy map over borrows would make the future not `Send`.
            let batch: Vec<(&[u8], &[u8])> = pending
                .iter()
                .map(|(k, p)| (k.as_bytes(), p.as_slice()))
                .collect();
            let report = self.send_all(topic, batch).await;
            let Some((_, first)) = report.failed.first() else {
                return Ok(total);
            };
            let failed: std::collections::HashSet<usize> =
                report.failed.iter().map(|(i, _)| *i).collect();
            if began.elapsed() + pause > budget {
                return Err(Error::Delivery {
                    topic: topic.to_owned(),
                    failed: failed.len(),
                    total,
                    first: first.clone(),
                });
            }
            on_retry(failed.len(), first);
            pending = pending
                .into_iter()
                .enumerate()
                .filter(|(i, _)| failed.contains(i))
                .map(|(_, r)| r)
                .collect();
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_secs(5));
        }
    }

    /// Waits until everything queued is delivered or `timeout` passes.
    pub fn flush(&self, timeout: Duration) -> Result<(), Error> {
        self.inner.flush(timeout).map_err(Error::from)
    }
}

type Settled = <DeliveryFuture as std::future::Future>::Output;

fn settle(report: &mut DeliveryReport, index: usize, outcome: Settled) {
    match outcome {
        Ok(Ok(_)) => report.delivered += 1,
        Ok(Err((e, _))) => {
            warn!(index, error = %e, "record not delivered");
            report.failed.push((index, e.to_string()));
        }
        Err(_) => report
            .failed
            .push((index, "producer dropped the delivery".into())),
    }
}

/// The Kafka adapter of the record sink: [`KeyedProducer::send_reliably`], with each round
/// of re-sending logged.
impl vigil_core::RecordSink for KeyedProducer {
    async fn deliver(
        &self,
        topic: &str,
        records: Vec<(String, Vec<u8>)>,
        budget: Duration,
    ) -> Result<usize, vigil_core::Error> {
        self.send_reliably(topic, records, budget, &mut |left, reason| {
            warn!(
                topic,
                left, reason, "records not delivered; sending them again"
            )
        })
        .await
        .map_err(|e| vigil_core::Error::Delivery(e.to_string()))
    }
}
