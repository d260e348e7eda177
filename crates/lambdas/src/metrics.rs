//! Counts for CloudWatch alarms, written as log lines in the Embedded Metric Format: the
//! Lambda service turns each into a metric point (namespace `Vigil`, dimension the
//! function's name), with no API call and no log group resource to declare first.

/// The namespace of Vigil's own metrics (the template's alarms name it).
pub const NAMESPACE: &str = "Vigil";

/// One EMF line counting one `metric` event for `function`, at `timestamp_ms`.
pub fn count_line(metric: &str, function: &str, timestamp_ms: i64) -> String {
    serde_json::json!({
        "_aws": {
            "Timestamp": timestamp_ms,
            "CloudWatchMetrics": [{
                "Namespace": NAMESPACE,
                "Dimensions": [["FunctionName"]],
                "Metrics": [{"Name": metric, "Unit": "Count"}],
            }],
        },
        "FunctionName": function,
        metric: 1,
    })
    .to_string()
}

/// Counts one `metric` event for this function (stdout, where Lambda reads EMF).
pub fn count(metric: &str) {
    let function = std::env::var("AWS_LAMBDA_FUNCTION_NAME").unwrap_or_default();
    println!(
        "{}",
        count_line(metric, &function, chrono::Utc::now().timestamp_millis())
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_embedded_metric_format() {
        let line: serde_json::Value = serde_json::from_str(&count_line(
            "VersionRefused",
            "stack-score",
            1_700_000_000_000,
        ))
        .unwrap();
        assert_eq!(line["VersionRefused"], 1);
        assert_eq!(line["FunctionName"], "stack-score");
        let spec = &line["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(spec["Namespace"], "Vigil");
        assert_eq!(spec["Metrics"][0]["Name"], "VersionRefused");
        assert_eq!(spec["Dimensions"][0][0], "FunctionName");
        assert_eq!(line["_aws"]["Timestamp"], 1_700_000_000_000i64);
    }
}
