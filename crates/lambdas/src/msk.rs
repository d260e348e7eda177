//! Records of an MSK event (the Lambda event source mapping's batch), decoded.

use aws_lambda_events::event::kafka::KafkaEvent;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use vigil_pipeline::batch::Record;

/// The batch's records, ordered by topic, partition and offset (the event's map has no order).
pub fn records(event: &KafkaEvent) -> Vec<Record> {
    let mut out: Vec<Record> = event
        .records
        .iter()
        .flat_map(|(topic_partition, records)| {
            records.iter().map(move |r| {
                let topic = r.topic.clone().unwrap_or_else(|| {
                    // The map key is "<topic>-<partition>".
                    topic_partition
                        .rsplit_once('-')
                        .map_or(topic_partition.as_str(), |(t, _)| t)
                        .to_owned()
                });
                let value = match &r.value {
                    None => Err("the record has no value".to_owned()),
                    Some(v) => STANDARD
                        .decode(v)
                        // The decoder's message quotes the offending byte: keep it out.
                        .map_err(|_| "the value is not base64".to_owned()),
                };
                Record {
                    topic,
                    partition: r.partition as i32,
                    offset: r.offset,
                    key: r.key.as_ref().and_then(|k| STANDARD.decode(k).ok()),
                    value,
                }
            })
        })
        .collect();
    out.sort_by(|a, b| (&a.topic, a.partition, a.offset).cmp(&(&b.topic, b.partition, b.offset)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_the_fixture() {
        let event: KafkaEvent = serde_json::from_str(include_str!(
            "../../../infra/events/example-kafka-event.json"
        ))
        .unwrap();
        let r = records(&event);
        assert_eq!(r.len(), 1);
        assert_eq!(
            (r[0].topic.as_str(), r[0].partition, r[0].offset),
            ("AWSKafkaTopic", 0, 0)
        );
        assert_eq!(
            r[0].value.as_deref().unwrap(),
            b"8d5596b4-1813-4238-b24b-6dad8e3d1c0c"
        );
    }

    #[test]
    fn bad_values_are_errors_and_order_is_by_partition_and_offset() {
        let event: KafkaEvent = serde_json::from_value(serde_json::json!({
            "records": {
                "t-1": [{"partition": 1, "offset": 5, "timestamp": 0, "value": "!!", "headers": []}],
                "t-0": [
                    {"partition": 0, "offset": 9, "timestamp": 0, "value": "eA==", "headers": []},
                    {"partition": 0, "offset": 3, "timestamp": 0, "headers": [], "value": null}
                ]
            }
        }))
        .unwrap();
        let r = records(&event);
        let order: Vec<(i32, i64)> = r.iter().map(|r| (r.partition, r.offset)).collect();
        assert_eq!(order, vec![(0, 3), (0, 9), (1, 5)]);
        assert_eq!(r[0].topic, "t");
        assert!(r[0].value.as_ref().unwrap_err().contains("no value"));
        assert_eq!(r[1].value.as_deref().unwrap(), b"x");
        assert!(r[2].value.as_ref().unwrap_err().contains("not base64"));
    }
}
