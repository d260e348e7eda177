//! Athena (Presto) functions the reports and the original query use, so that their SQL
//! runs here verbatim. `date_trunc` is DataFusion's own.

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, NaiveDateTime};
use datafusion::arrow::array::{Array, ArrayRef, TimestampMillisecondArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, FieldRef};
use datafusion::common::{Result, ScalarValue, exec_err};
use datafusion::execution::context::SessionContext;
use datafusion::functions_aggregate::approx_percentile_cont::ApproxPercentileCont;
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::{
    Accumulator, AggregateUDF, AggregateUDFImpl, ColumnarValue, ScalarFunctionArgs, ScalarUDF,
    ScalarUDFImpl, Signature, Volatility,
};

use crate::schema::timestamp_type;

/// Adds the Presto functions to a session.
pub fn register(ctx: &SessionContext) {
    ctx.register_udf(ScalarUDF::from(FromIso8601Timestamp::new()));
    ctx.register_udaf(AggregateUDF::from(ApproxPercentile::default()));
}

/// `from_iso8601_timestamp(string)`: an ISO 8601 date or date-time, with or without an
/// offset (none means UTC, Athena's session zone), as a millisecond timestamp in UTC.
/// Unparsable text gives NULL rather than failing the whole query over one bad record.
#[derive(Debug, PartialEq, Eq, Hash)]
struct FromIso8601Timestamp {
    signature: Signature,
}

impl FromIso8601Timestamp {
    fn new() -> Self {
        Self {
            signature: Signature::string(1, Volatility::Immutable),
        }
    }
}

/// Milliseconds since the epoch of an ISO 8601 text, if it is one.
pub fn parse_iso8601_millis(s: &str) -> Option<i64> {
    let s = s.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.timestamp_millis());
    }
    // Offsets without a colon (`+0000`) and the forms without any offset.
    for f in ["%Y-%m-%dT%H:%M:%S%.f%z", "%Y-%m-%d %H:%M:%S%.f%z"] {
        if let Ok(t) = DateTime::parse_from_str(s, f) {
            return Some(t.timestamp_millis());
        }
    }
    for f in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M:%S%.f",
    ] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, f) {
            return Some(t.and_utc().timestamp_millis());
        }
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc().timestamp_millis())
}

impl ScalarUDFImpl for FromIso8601Timestamp {
    fn name(&self) -> &str {
        "from_iso8601_timestamp"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _args: &[DataType]) -> Result<DataType> {
        Ok(timestamp_type())
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let [arg] = args.args.as_slice() else {
            return exec_err!("from_iso8601_timestamp takes one argument");
        };
        let array: ArrayRef = match arg {
            ColumnarValue::Array(a) => cast(a, &DataType::Utf8)?,
            ColumnarValue::Scalar(s) => {
                let text = match s {
                    ScalarValue::Utf8(v) | ScalarValue::LargeUtf8(v) | ScalarValue::Utf8View(v) => {
                        v.as_deref()
                    }
                    _ => None,
                };
                let ms = text.and_then(parse_iso8601_millis);
                return Ok(ColumnarValue::Scalar(ScalarValue::TimestampMillisecond(
                    ms,
                    Some("UTC".into()),
                )));
            }
        };
        let strings = array
            .as_any()
            .downcast_ref::<datafusion::arrow::array::StringArray>()
            .expect("cast to Utf8 gives a StringArray");
        let out: TimestampMillisecondArray = strings
            .iter()
            .map(|s| s.and_then(parse_iso8601_millis))
            .collect::<TimestampMillisecondArray>()
            .with_timezone("UTC");
        Ok(ColumnarValue::Array(Arc::new(out) as ArrayRef))
    }
}

/// Presto's `approx_percentile(x, p)`: DataFusion's t-digest `approx_percentile_cont`,
/// called the Presto way (the value first, no `WITHIN GROUP`).
#[derive(Debug, Default, PartialEq, Eq, Hash)]
struct ApproxPercentile(ApproxPercentileCont);

impl AggregateUDFImpl for ApproxPercentile {
    fn name(&self) -> &str {
        "approx_percentile"
    }

    fn signature(&self) -> &Signature {
        self.0.signature()
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        self.0.return_type(arg_types)
    }

    fn accumulator(&self, acc_args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        self.0.accumulator(acc_args)
    }

    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        self.0.state_fields(args)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso8601_forms_athena_accepts() {
        let t = 1_690_974_755_856; // 2023-08-02T11:12:35.856Z
        assert_eq!(parse_iso8601_millis("2023-08-02T11:12:35.856Z"), Some(t));
        assert_eq!(parse_iso8601_millis("2023-08-02T11:12:35.856868"), Some(t));
        assert_eq!(
            parse_iso8601_millis("2023-08-02T13:12:35.856+02:00"),
            Some(t)
        );
        assert_eq!(
            parse_iso8601_millis("2023-08-02T13:12:35.856+0200"),
            Some(t)
        );
        assert_eq!(
            parse_iso8601_millis("2023-08-02"),
            Some(1_690_934_400_000),
            "a date alone is midnight UTC"
        );
        assert_eq!(parse_iso8601_millis("yesterday"), None);
        assert_eq!(parse_iso8601_millis(""), None);
    }
}
