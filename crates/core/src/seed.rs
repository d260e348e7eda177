//! Reading the original system's exported result CSVs of `txn_processedtxns`.
//!
//! Those files render `fd` the way Athena prints a struct (`{ttdf=853, outcome=approve, …}`)
//! and are often padded with empty `,,,` rows, which are skipped and counted.

use std::io::Read;

use crate::{Error, FraudAssessment, Outcome, ProcessedTransaction, Transaction};

/// What one CSV held.
#[derive(Debug, Default)]
pub struct SeedRead {
    pub records: Vec<ProcessedTransaction>,
    /// Rows whose every field was empty.
    pub padding_rows: usize,
    /// Rows that could not be read; the others were still read.
    pub rejected: Vec<Error>,
}

/// Reads a processed-transactions CSV: the 19 transaction columns plus `fd`, in any order,
/// extra columns ignored. Fails only when the header cannot be read or lacks a required
/// column ([`Error::MissingColumn`]: the file is some other export).
pub fn read_processed_csv<R: Read>(input: R) -> Result<SeedRead, Error> {
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(input);
    let headers = reader.headers()?.clone();
    let index = |name: &str| -> Result<usize, Error> {
        headers
            .iter()
            .position(|h| h.trim() == name)
            .ok_or_else(|| Error::MissingColumn(name.to_owned()))
    };
    let mut columns = [0usize; 19];
    for (slot, name) in columns.iter_mut().zip(Transaction::COLUMNS) {
        *slot = index(name)?;
    }
    let fd_column = index("fd")?;

    let mut out = SeedRead::default();
    for (row, record) in reader.records().enumerate() {
        let line = row as u64 + 2;
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                out.rejected.push(Error::Csv(e));
                continue;
            }
        };
        if record.iter().all(|f| f.trim().is_empty()) {
            out.padding_rows += 1;
            continue;
        }
        let field = |i: usize| record.get(columns[i]).unwrap_or("").to_owned();
        let amount = match field(0).trim().parse::<f64>() {
            Ok(a) => a,
            Err(_) => {
                out.rejected.push(Error::Record {
                    line,
                    message: "transaction_amt is not a number".into(),
                });
                continue;
            }
        };
        let fd = match parse_fd_rendering(record.get(fd_column).unwrap_or("")) {
            Ok(fd) => fd,
            Err(message) => {
                out.rejected.push(Error::Record { line, message });
                continue;
            }
        };
        out.records.push(ProcessedTransaction {
            transaction: Transaction {
                transaction_amt: amount,
                email_address: field(1),
                ip_address: field(2),
                transaction_currency: field(3),
                event_id: field(4),
                entity_id: field(5),
                event_time: field(6),
                billing_longitude: field(7),
                billing_state: field(8),
                user_agent: field(9),
                billing_street: field(10),
                billing_city: field(11),
                card_bin: field(12),
                customer_name: field(13),
                product_category: field(14),
                customer_job: field(15),
                phone: field(16),
                billing_latitude: field(17),
                billing_zip: field(18),
            },
            fd,
        });
    }
    Ok(out)
}

/// Parses Athena's rendering of the `fd` struct: `{ttdf=853, outcome=approve, proc_time=612,
/// frauddetector_time=241}`. Missing timings are 0; a missing or unknown outcome is an error.
pub fn parse_fd_rendering(text: &str) -> Result<FraudAssessment, String> {
    let inner = text
        .trim()
        .strip_prefix('{')
        .and_then(|t| t.strip_suffix('}'))
        .ok_or_else(|| "fd is not a `{key=value, …}` struct".to_owned())?;
    let mut outcome = None;
    let (mut ttdf, mut proc_time, mut fd_time) = (0, 0, 0);
    for pair in inner.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (key, value) = pair
            .split_once('=')
            .ok_or_else(|| format!("fd entry `{pair}` has no `=`"))?;
        let millis = || {
            value
                .trim()
                .parse::<u64>()
                .map_err(|_| format!("fd.{key} is not a whole number of milliseconds"))
        };
        match key.trim() {
            "outcome" => outcome = Some(value.parse::<Outcome>().map_err(|e| e.to_string())?),
            "ttdf" => ttdf = millis()?,
            "proc_time" => proc_time = millis()?,
            "frauddetector_time" => fd_time = millis()?,
            _ => {} // later versions may add fields
        }
    }
    Ok(FraudAssessment {
        outcome: outcome.ok_or_else(|| "fd has no outcome".to_owned())?,
        model_scores: Default::default(),
        rule_results: Vec::new(),
        reasons: Vec::new(),
        ttdf,
        proc_time,
        frauddetector_time: fd_time,
        model_version: None,
        rules_version: None,
        shadow: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_fd_rendering() {
        let fd = parse_fd_rendering(
            "{ttdf=853, outcome=approve, proc_time=612, frauddetector_time=241}",
        )
        .unwrap();
        assert_eq!(fd.outcome, Outcome::Approve);
        assert_eq!(
            (fd.ttdf, fd.proc_time, fd.frauddetector_time),
            (853, 612, 241)
        );
    }

    #[test]
    fn rejects_bad_fd_renderings() {
        assert!(parse_fd_rendering("ttdf=1").unwrap_err().contains("struct"));
        assert!(
            parse_fd_rendering("{ttdf=1}")
                .unwrap_err()
                .contains("no outcome")
        );
        assert!(
            parse_fd_rendering("{outcome=deny}")
                .unwrap_err()
                .contains("deny")
        );
        assert!(
            parse_fd_rendering("{outcome=block, ttdf=x}")
                .unwrap_err()
                .contains("ttdf")
        );
    }

    #[test]
    fn bad_row_is_rejected_and_the_rest_is_read() {
        let header = Transaction::COLUMNS.join(",") + ",fd";
        let good = "5,a@b.c,1.2.3.4,usd,e1,111-11-1111,2023-08-02T11:12:35,1,TN,ua,st,city,1,N,home,job,1,2,3,\"{outcome=block, ttdf=1}\"";
        let bad = "x,a@b.c,1.2.3.4,usd,e2,111-11-1111,2023-08-02T11:12:35,1,TN,ua,st,city,1,N,home,job,1,2,3,\"{outcome=block}\"";
        let csv = format!("{header}\n{good}\n,,,\n{bad}\n");
        let read = read_processed_csv(csv.as_bytes()).unwrap();
        assert_eq!(read.records.len(), 1);
        assert_eq!(read.records[0].fd.outcome, Outcome::Block);
        assert_eq!(read.padding_rows, 1);
        assert_eq!(read.rejected.len(), 1);
        assert!(read.rejected[0].to_string().contains("line 4"));
    }

    #[test]
    fn header_without_fd_is_an_error() {
        let header = Transaction::COLUMNS.join(",");
        let err = read_processed_csv(header.as_bytes()).unwrap_err();
        assert!(err.to_string().contains("`fd`"));
    }
}
