//! Results as CSV, formatted as Athena prints them (timestamps `2023-08-02 11:12:35.856`).

use std::io::Write;

use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};

use crate::{Answer, Error};

const OPTIONS: FormatOptions<'static> = FormatOptions::new()
    .with_null("")
    .with_timestamp_format(Some("%Y-%m-%d %H:%M:%S%.3f"))
    .with_timestamp_tz_format(Some("%Y-%m-%d %H:%M:%S%.3f %Z"));

/// Writes the header row, then every row.
pub fn write_csv<W: Write>(answer: &Answer, out: W) -> Result<(), Error> {
    let mut w = csv::Writer::from_writer(out);
    let io = |e: csv::Error| Error::io("output", std::io::Error::other(e));
    w.write_record(answer.schema.fields().iter().map(|f| f.name()))
        .map_err(io)?;
    let mut cell = String::new();
    for batch in &answer.batches {
        let formatters = batch
            .columns()
            .iter()
            .map(|c| ArrayFormatter::try_new(c.as_ref(), &OPTIONS))
            .collect::<Result<Vec<_>, _>>()?;
        for row in 0..batch.num_rows() {
            for f in &formatters {
                cell.clear();
                use std::fmt::Write as _;
                let _ = write!(cell, "{}", f.value(row));
                w.write_field(&cell).map_err(io)?;
            }
            w.write_record(None::<&[u8]>).map_err(io)?;
        }
    }
    w.flush().map_err(|e| Error::io("output", e))?;
    Ok(())
}

/// The same, as a string (for the report, which reads results back as tables).
pub fn to_csv_string(answer: &Answer) -> Result<String, Error> {
    let mut out = Vec::new();
    write_csv(answer, &mut out)?;
    String::from_utf8(out).map_err(|e| Error::Sql(e.to_string()))
}
