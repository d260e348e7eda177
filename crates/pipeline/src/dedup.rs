//! Passing over repeated copies of an event before a consumer acts on a batch: each record
//! claims its `event_id` for its own position ([`EventClaims`]); a copy at another position
//! than the claimed one is a repeat (a scoring batch that was retried after delivery).

use std::borrow::Cow;

use futures::StreamExt;
use serde::Deserialize;
use vigil_core::EventClaims;

use crate::Error;
use crate::batch::Record;

/// Claims made at once (each is a round trip to the claims table).
const IN_FLIGHT: usize = 32;

/// The one field read to claim a record.
#[derive(Deserialize)]
struct EventIdOf<'a> {
    #[serde(borrow)]
    event_id: std::borrow::Cow<'a, str>,
}

/// The records of `records` that are not repeats within `scope`, in order, and how many
/// were passed over. A record without a readable `event_id` is kept: the consumer skips it
/// with its own reason. Without repeats (the usual batch) the records are not copied.
pub async fn first_copies<'a>(
    claims: &impl EventClaims,
    scope: &str,
    records: &'a [Record],
) -> Result<(Cow<'a, [Record]>, usize), Error> {
    let calls: Vec<_> = records.iter().map(|r| is_first(claims, scope, r)).collect();
    let firsts: Vec<Result<bool, vigil_core::Error>> = futures::stream::iter(calls)
        .buffered(IN_FLIGHT)
        .collect()
        .await;
    let mut repeated = Vec::new();
    for (i, first) in firsts.into_iter().enumerate() {
        if !first? {
            let r = &records[i];
            tracing::info!(scope, topic = %r.topic, partition = r.partition, offset = r.offset, "repeated event passed over");
            repeated.push(i);
        }
    }
    if repeated.is_empty() {
        return Ok((Cow::Borrowed(records), 0));
    }
    let kept = records
        .iter()
        .enumerate()
        .filter(|(i, _)| repeated.binary_search(i).is_err())
        .map(|(_, r)| r.clone())
        .collect();
    Ok((Cow::Owned(kept), repeated.len()))
}

async fn is_first(
    claims: &impl EventClaims,
    scope: &str,
    r: &Record,
) -> Result<bool, vigil_core::Error> {
    let Some(id) = r
        .value
        .as_deref()
        .ok()
        .and_then(|v| sonic_rs::from_slice::<EventIdOf>(v).ok())
    else {
        return Ok(true);
    };
    let position = format!("{}/{}/{}", r.topic, r.partition, r.offset);
    claims.claim(scope, &id.event_id, &position).await
}

#[cfg(test)]
mod tests {
    use vigil_core::MemoryClaims;

    use super::*;

    fn record(offset: i64, value: &str) -> Record {
        Record {
            topic: "processed_transactions".into(),
            partition: 0,
            offset,
            key: None,
            value: Ok(value.as_bytes().to_vec()),
        }
    }

    #[tokio::test]
    async fn a_repeat_is_passed_over_and_a_retried_batch_keeps_its_claims() {
        let claims = MemoryClaims::default();
        let batch = vec![
            record(0, r#"{"event_id": "a", "fd": {}}"#),
            record(1, r#"{"event_id": "b"}"#),
            record(2, "not json"),
            // the scoring batch retried after delivery: `a` again
            record(3, r#"{"event_id": "a", "fd": {}}"#),
        ];
        let (kept, repeats) = first_copies(&claims, "archive", &batch).await.unwrap();
        assert_eq!(
            kept.iter().map(|r| r.offset).collect::<Vec<_>>(),
            vec![0, 1, 2]
        );
        assert_eq!(repeats, 1);
        // The same consumer batch again (its invocation failed after the claims): same work.
        let (again, repeats) = first_copies(&claims, "archive", &batch).await.unwrap();
        assert_eq!((again.len(), repeats), (3, 1));
        // Another consumer claims for itself.
        let (alerts, _) = first_copies(&claims, "alert", &batch[3..]).await.unwrap();
        assert_eq!(alerts.len(), 1);
    }
}
