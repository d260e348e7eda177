//! Results as CSV, formatted as Athena prints them (timestamps `2023-08-02 11:12:35.856`).

use std::io::Write;

use chrono::DateTime;
use chrono::format::{Item, StrftimeItems};
use datafusion::arrow::array::{Array, ArrayRef, RecordBatch, TimestampMillisecondArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Schema, TimeUnit};
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};

use crate::{Answer, Error};

const TIMESTAMP: &str = "%Y-%m-%d %H:%M:%S%.3f";

const OPTIONS: FormatOptions<'static> = FormatOptions::new()
    .with_null("")
    .with_timestamp_format(Some(TIMESTAMP))
    .with_timestamp_tz_format(Some("%Y-%m-%d %H:%M:%S%.3f %Z"));

/// Writes CSV a batch at a time, so that a query's first rows are printed while the
/// rest are still being read.
pub struct CsvWriter<W: Write> {
    w: csv::Writer<W>,
    cell: String,
    /// Parsed once: arrow's formatter parses the pattern again for every value, which was
    /// a tenth of the time of a query returning a million timestamps.
    items: Vec<Item<'static>>,
}

/// Keeps the kind of an I/O error (a closed pipe stays `BrokenPipe` for the caller).
fn io(e: csv::Error) -> Error {
    let source = match e.into_kind() {
        csv::ErrorKind::Io(e) => e,
        other => std::io::Error::other(format!("{other:?}")),
    };
    Error::io("output", source)
}

impl<W: Write> CsvWriter<W> {
    /// Writes the header row.
    pub fn new(out: W, schema: &Schema) -> Result<Self, Error> {
        let mut w = csv::Writer::from_writer(out);
        w.write_record(schema.fields().iter().map(|f| f.name()))
            .map_err(io)?;
        Ok(CsvWriter {
            w,
            cell: String::new(),
            items: StrftimeItems::new(TIMESTAMP).collect(),
        })
    }

    pub fn write_batch(&mut self, batch: &RecordBatch) -> Result<(), Error> {
        let columns = batch
            .columns()
            .iter()
            .map(Cells::new)
            .collect::<Result<Vec<_>, _>>()?;
        let formatters = columns
            .iter()
            .map(|c| match c {
                Cells::Any(c) => ArrayFormatter::try_new(c.as_ref(), &OPTIONS).map(Some),
                Cells::Timestamp(_) => Ok(None),
            })
            .collect::<Result<Vec<_>, _>>()?;
        for row in 0..batch.num_rows() {
            for (column, f) in columns.iter().zip(&formatters) {
                self.cell.clear();
                use std::fmt::Write as _;
                match (column, f) {
                    (Cells::Timestamp(t), _) if t.is_valid(row) => {
                        if let Some(at) = DateTime::from_timestamp_millis(t.value(row)) {
                            let at = at.naive_utc();
                            let _ =
                                write!(self.cell, "{}", at.format_with_items(self.items.iter()));
                        }
                    }
                    (_, Some(f)) => {
                        let _ = write!(self.cell, "{}", f.value(row));
                    }
                    _ => {}
                }
                self.w.write_field(&self.cell).map_err(io)?;
            }
            self.w.write_record(None::<&[u8]>).map_err(io)?;
        }
        Ok(())
    }

    /// Flushes and hands the output back.
    pub fn finish(self) -> Result<W, Error> {
        self.w.into_inner().map_err(|e| {
            Error::io(
                "output",
                std::io::Error::new(e.error().kind(), e.to_string()),
            )
        })
    }
}

/// Writes the header row, then every row.
pub fn write_csv<W: Write>(answer: &Answer, out: W) -> Result<(), Error> {
    let mut w = CsvWriter::new(out, &answer.schema)?;
    for batch in &answer.batches {
        w.write_batch(batch)?;
    }
    w.finish()?;
    Ok(())
}

/// A column to print: timestamps without a zone (printed to the millisecond, as Athena
/// does) are formatted here, anything else by arrow.
enum Cells {
    Timestamp(TimestampMillisecondArray),
    Any(ArrayRef),
}

impl Cells {
    fn new(c: &ArrayRef) -> Result<Self, Error> {
        Ok(match c.data_type() {
            DataType::Timestamp(_, None) => {
                let ms = cast(c, &DataType::Timestamp(TimeUnit::Millisecond, None))?;
                Cells::Timestamp(
                    ms.as_any()
                        .downcast_ref::<TimestampMillisecondArray>()
                        .cloned()
                        .ok_or_else(|| Error::Sql("timestamp column".into()))?,
                )
            }
            _ => Cells::Any(c.clone()),
        })
    }
}

/// The same, as a string (for the report, which reads results back as tables).
pub fn to_csv_string(answer: &Answer) -> Result<String, Error> {
    let mut out = Vec::new();
    write_csv(answer, &mut out)?;
    String::from_utf8(out).map_err(|e| Error::Sql(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{RecordBatch, StringArray, TimestampMicrosecondArray};
    use datafusion::arrow::datatypes::{Field, Schema};
    use std::sync::Arc;

    #[test]
    fn timestamps_print_as_arrow_would_with_the_athena_pattern() {
        let micros = vec![
            Some(1_690_974_755_856_999),
            None,
            Some(0),
            Some(1_700_000_000_000_001),
        ];
        let ts: ArrayRef = Arc::new(TimestampMicrosecondArray::from(micros));
        let name: ArrayRef = Arc::new(StringArray::from(vec![
            Some("a,b"),
            None,
            Some(""),
            Some("x"),
        ]));
        let schema = Arc::new(Schema::new(vec![
            Field::new("at", ts.data_type().clone(), true),
            Field::new("name", DataType::Utf8, true),
        ]));
        let batch = RecordBatch::try_new(schema.clone(), vec![ts.clone(), name]).unwrap();
        let answer = Answer {
            schema,
            batches: vec![batch],
        };
        let expected: Vec<String> = {
            let f = ArrayFormatter::try_new(ts.as_ref(), &OPTIONS).unwrap();
            (0..4).map(|i| f.value(i).to_string()).collect()
        };
        assert_eq!(expected[0], "2023-08-02 11:12:35.856");
        let text = to_csv_string(&answer).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines,
            vec![
                "at,name".to_owned(),
                format!("{},\"a,b\"", expected[0]),
                ",".to_owned(),
                format!("{},", expected[2]),
                format!("{},x", expected[3]),
            ]
        );
    }
}
