//! Scoring input: the labeled CSV layout (Fraud Detector's "Transaction Fraud Insights"
//! sample: `EVENT_LABEL, EVENT_TIMESTAMP, …, order_price, payment_currency, merchant`) and
//! live [`Transaction`]s, both normalised to an [`Event`].

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

use chrono::{DateTime, NaiveDateTime, Utc};
use flate2::read::MultiGzDecoder;
use vigil_core::Transaction;

use crate::Error;

/// What the scorer needs of a transaction.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub event_id: String,
    pub entity_id: String,
    /// Seconds since the Unix epoch, UTC.
    pub time: i64,
    pub amount: f64,
    pub category: String,
    pub ip_address: String,
    pub user_agent: String,
    pub card_bin: String,
    pub billing_state: String,
    pub email: String,
}

/// A labeled CSV row: the event, the label if any (1 fraud, 0 legit) and the transaction
/// record it stands for (the original producer's field names).
#[derive(Debug, Clone, PartialEq)]
pub struct LabeledRow {
    pub label: Option<u8>,
    pub event: Event,
    pub transaction: Transaction,
}

impl AsRef<Event> for Event {
    fn as_ref(&self) -> &Event {
        self
    }
}

impl AsRef<Event> for LabeledRow {
    fn as_ref(&self) -> &Event {
        &self.event
    }
}

/// Parses an ISO-8601 time: `2023-07-01T00:00:01Z`, with an offset, or without a zone (UTC).
pub fn parse_time(text: &str) -> Option<DateTime<Utc>> {
    let text = text.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Some(t.with_timezone(&Utc));
    }
    ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(text, f).ok())
        .map(|t| t.and_utc())
}

/// Amounts beyond this are treated as errors, not transactions.
pub const MAX_AMOUNT: f64 = 1e9;

fn parse_amount(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(a) if a.is_finite() && a.abs() <= MAX_AMOUNT => Ok(a),
        Ok(_) => Err(format!(
            "amount is not a finite number within ±{MAX_AMOUNT:e}"
        )),
        Err(_) if text.trim().is_empty() => Err("amount is missing".into()),
        Err(_) => Err("amount is not a number".into()),
    }
}

impl Event {
    /// The scorer's view of a live transaction.
    pub fn from_transaction(t: &Transaction) -> Result<Self, String> {
        let time = Self::check(t)?;
        Ok(Self::of(t, time.timestamp()))
    }

    /// [`Event::from_transaction`], with the transaction's strings moved into the event
    /// rather than copied, and the event's time as parsed: a stage that scores transactions
    /// and passes them on saves eight allocations, copies and frees per transaction. The
    /// strings go back with [`Event::give_back`]. A transaction refused is left as it was.
    pub fn take_from(t: &mut Transaction) -> Result<(Self, DateTime<Utc>), String> {
        let time = Self::check(t)?;
        use std::mem::take;
        let event = Event {
            event_id: take(&mut t.event_id),
            entity_id: take(&mut t.entity_id),
            time: time.timestamp(),
            amount: t.transaction_amt,
            category: take(&mut t.product_category),
            ip_address: take(&mut t.ip_address),
            user_agent: take(&mut t.user_agent),
            card_bin: take(&mut t.card_bin),
            billing_state: take(&mut t.billing_state),
            email: take(&mut t.email_address),
        };
        Ok((event, time))
    }

    /// Returns the strings [`Event::take_from`] took from `t`.
    pub fn give_back(self, t: &mut Transaction) {
        t.event_id = self.event_id;
        t.entity_id = self.entity_id;
        t.product_category = self.category;
        t.ip_address = self.ip_address;
        t.user_agent = self.user_agent;
        t.card_bin = self.card_bin;
        t.billing_state = self.billing_state;
        t.email_address = self.email;
    }

    /// The transaction's time, if it has one and a sane amount.
    fn check(t: &Transaction) -> Result<DateTime<Utc>, String> {
        let time = parse_time(&t.event_time).ok_or("event_time is not an ISO-8601 time")?;
        if !(t.transaction_amt.is_finite() && t.transaction_amt.abs() <= MAX_AMOUNT) {
            return Err(format!(
                "transaction_amt is not a finite number within ±{MAX_AMOUNT:e}"
            ));
        }
        Ok(time)
    }

    /// The event of an already checked transaction at `time` (Unix seconds).
    fn of(t: &Transaction, time: i64) -> Self {
        Event {
            event_id: t.event_id.clone(),
            entity_id: t.entity_id.clone(),
            time,
            amount: t.transaction_amt,
            category: t.product_category.clone(),
            ip_address: t.ip_address.clone(),
            user_agent: t.user_agent.clone(),
            card_bin: t.card_bin.clone(),
            billing_state: t.billing_state.clone(),
            email: t.email_address.clone(),
        }
    }
}

const COLUMNS: [&str; 22] = [
    "EVENT_LABEL",
    "EVENT_TIMESTAMP",
    "EVENT_ID",
    "ENTITY_ID",
    "card_bin",
    "customer_name",
    "billing_street",
    "billing_city",
    "billing_state",
    "billing_zip",
    "billing_latitude",
    "billing_longitude",
    "customer_job",
    "ip_address",
    "customer_email",
    "billing_phone",
    "user_agent",
    "product_category",
    "order_price",
    "payment_currency",
    // Optional in practice but part of the layout; unused by the model.
    "ENTITY_TYPE",
    "merchant",
];
const REQUIRED: usize = 20;

/// Opens a CSV, transparently gunzipping `*.gz`.
pub fn open(path: &Path) -> Result<Box<dyn Read + Send>, Error> {
    let file = File::open(path).map_err(|source| Error::Io {
        path: path.display().to_string(),
        source,
    })?;
    let reader = BufReader::with_capacity(1 << 20, file);
    Ok(if path.extension().is_some_and(|e| e == "gz") {
        Box::new(MultiGzDecoder::new(reader))
    } else {
        Box::new(reader)
    })
}

/// Streams labeled rows. Each item is a row or that row's error (numbered from 2, the
/// header being row 1); a bad row never stops the stream.
pub struct LabeledReader<R: Read> {
    records: csv::StringRecordsIntoIter<R>,
    index: [usize; REQUIRED],
    row: u64,
}

impl<R: Read> LabeledReader<R> {
    pub fn new(input: R) -> Result<Self, Error> {
        let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(input);
        let headers = reader.headers()?.clone();
        let mut index = [0; REQUIRED];
        for (slot, name) in index.iter_mut().zip(COLUMNS) {
            *slot = headers
                .iter()
                .position(|h| h.trim() == name)
                .ok_or(Error::MissingColumn(name))?;
        }
        Ok(Self {
            records: reader.into_records(),
            index,
            row: 1,
        })
    }

    fn parse(&self, record: &csv::StringRecord) -> Result<LabeledRow, String> {
        let f = |i: usize| record.get(self.index[i]).unwrap_or("").trim();
        let label = match f(0) {
            "" => None,
            "0" => Some(0),
            "1" => Some(1),
            _ => return Err("EVENT_LABEL must be 0, 1 or empty".into()),
        };
        let time = parse_time(f(1)).ok_or("EVENT_TIMESTAMP is not an ISO-8601 time")?;
        if f(2).is_empty() {
            return Err("EVENT_ID is missing".into());
        }
        if f(3).is_empty() {
            return Err("ENTITY_ID is missing".into());
        }
        let amount = parse_amount(f(18))?;
        let transaction = Transaction {
            transaction_amt: amount,
            email_address: f(14).to_owned(),
            ip_address: f(13).to_owned(),
            transaction_currency: f(19).to_owned(),
            event_id: f(2).to_owned(),
            entity_id: f(3).to_owned(),
            event_time: f(1).to_owned(),
            billing_longitude: f(11).to_owned(),
            billing_state: f(8).to_owned(),
            user_agent: f(16).to_owned(),
            billing_street: f(6).to_owned(),
            billing_city: f(7).to_owned(),
            card_bin: f(4).to_owned(),
            customer_name: f(5).to_owned(),
            product_category: f(17).to_owned(),
            customer_job: f(12).to_owned(),
            phone: f(15).to_owned(),
            billing_latitude: f(10).to_owned(),
            billing_zip: f(9).to_owned(),
        };
        let event = Event::of(&transaction, time.timestamp());
        Ok(LabeledRow {
            label,
            event,
            transaction,
        })
    }
}

impl<R: Read> Iterator for LabeledReader<R> {
    type Item = Result<LabeledRow, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        let record = self.records.next()?;
        self.row += 1;
        let row = self.row;
        Some(match record {
            Ok(r) => self
                .parse(&r)
                .map_err(|message| Error::Row { row, message }),
            Err(e) => Err(Error::Row {
                row,
                message: format!("unreadable CSV record: {e}"),
            }),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "EVENT_LABEL,EVENT_TIMESTAMP,LABEL_TIMESTAMP,EVENT_ID,ENTITY_TYPE,ENTITY_ID,card_bin,customer_name,billing_street,billing_city,billing_state,billing_zip,billing_latitude,billing_longitude,billing_country,customer_job,ip_address,customer_email,billing_phone,user_agent,product_category,order_price,payment_currency,merchant";

    fn rows(body: &str) -> Vec<Result<LabeledRow, Error>> {
        LabeledReader::new(format!("{HEADER}\n{body}").as_bytes())
            .unwrap()
            .collect()
    }

    #[test]
    fn parses_a_row() {
        let r = rows(
            "1,2023-07-01T00:00:01Z,,e1,customer,111-22-3333,180075,Brian,1 St,Town,RI,02891,41.3,-71.8,US,Animator,1.2.3.4,a@b.com,555,UA,gas_transport,9.52,usd,m\n",
        );
        let row = r[0].as_ref().unwrap();
        assert_eq!(row.label, Some(1));
        assert_eq!(row.event.amount, 9.52);
        assert_eq!(row.event.time, 1688169601);
        assert_eq!(row.transaction.billing_zip, "02891");
        assert_eq!(row.transaction.phone, "555");
    }

    #[test]
    fn an_event_taken_from_a_transaction_gives_its_strings_back() {
        let r = rows(
            "0,2023-07-01T00:00:01.250Z,,e1,customer,111-22-3333,180075,Brian,1 St,Town,RI,02891,41.3,-71.8,US,Animator,1.2.3.4,a@b.com,555,UA,gas_transport,9.52,usd,m\n",
        );
        let original = r[0].as_ref().unwrap().transaction.clone();
        let mut t = original.clone();
        let (event, time) = Event::take_from(&mut t).unwrap();
        assert_eq!(event, Event::from_transaction(&original).unwrap());
        assert_eq!(time.timestamp_millis(), 1688169601250);
        assert!(
            t.entity_id.is_empty() && t.email_address.is_empty(),
            "moved, not copied"
        );
        event.give_back(&mut t);
        assert_eq!(t, original);

        let mut refused = original.clone();
        refused.event_time = "soon".into();
        let before = refused.clone();
        assert!(Event::take_from(&mut refused).is_err());
        assert_eq!(refused, before, "a refused transaction keeps its strings");
    }

    #[test]
    fn bad_rows_are_errors_and_the_rest_is_read() {
        let good = ",2023-07-01T00:00:01Z,,e1,customer,1,1,N,s,c,RI,1,1,1,US,j,1.2.3.4,a@b.com,5,UA,home,5,usd,m";
        let body = [
            good.replace(",5,usd", ",abc,usd"),
            good.replace(",5,usd", ",,usd"),
            good.replace(",5,usd", ",inf,usd"),
            good.replace("2023-07-01T00:00:01Z", "yesterday"),
            good.replace(",e1,", ",,"),
            format!("2{good}"),
            good.to_owned(),
        ]
        .join("\n");
        let r = rows(&body);
        assert_eq!(r.len(), 7);
        let messages: Vec<String> = r[..6]
            .iter()
            .map(|x| x.as_ref().unwrap_err().to_string())
            .collect();
        assert_eq!(messages[0], "row 2: amount is not a number");
        assert_eq!(messages[1], "row 3: amount is missing");
        assert!(messages[2].contains("finite"));
        assert!(messages[3].contains("EVENT_TIMESTAMP"));
        assert!(messages[4].contains("EVENT_ID is missing"));
        assert!(messages[5].contains("EVENT_LABEL"));
        assert!(r[6].is_ok());
    }

    #[test]
    fn missing_column_is_named() {
        let err = LabeledReader::new("EVENT_LABEL,EVENT_TIMESTAMP\n".as_bytes())
            .err()
            .unwrap();
        assert_eq!(err.to_string(), "the CSV header lacks column `EVENT_ID`");
    }

    #[test]
    fn parses_times_with_and_without_zone() {
        assert_eq!(
            parse_time("2023-08-02T11:12:35.856868")
                .unwrap()
                .timestamp(),
            1690974755
        );
        assert_eq!(
            parse_time("2023-08-02T11:12:35Z").unwrap().timestamp(),
            1690974755
        );
        assert_eq!(
            parse_time("2023-08-02T13:12:35+02:00").unwrap().timestamp(),
            1690974755
        );
        assert!(parse_time("02/08/2023").is_none());
    }
}
