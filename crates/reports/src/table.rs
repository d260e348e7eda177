//! A query result as both engines hand it over: a header and rows of text.

use crate::Error;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Table {
    pub name: String,
    pub columns: Vec<String>,
    /// Each column's SQL type where the engine says (Athena: `varchar`, `double`, `json`…);
    /// empty where it does not (CSV).
    pub types: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

impl Table {
    /// Reads CSV with a header row (as `vigil query` and Athena's result files write it).
    pub fn from_csv(name: &str, text: &str) -> Result<Self, Error> {
        let err = |e: csv::Error| Error::Result {
            name: name.to_owned(),
            message: e.to_string(),
        };
        let mut reader = csv::ReaderBuilder::new().from_reader(text.as_bytes());
        let columns = reader
            .headers()
            .map_err(err)?
            .iter()
            .map(str::to_owned)
            .collect();
        let rows = reader
            .records()
            .map(|r| r.map(|r| r.iter().map(str::to_owned).collect()))
            .collect::<Result<_, _>>()
            .map_err(err)?;
        Ok(Table {
            name: name.to_owned(),
            columns,
            types: Vec::new(),
            rows,
        })
    }

    /// Writes the table back as CSV.
    pub fn to_csv(&self) -> String {
        let mut w = csv::Writer::from_writer(Vec::new());
        // Writing to memory cannot fail.
        let _ = w.write_record(&self.columns);
        for r in &self.rows {
            let _ = w.write_record(r);
        }
        String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
    }

    pub fn column(&self, name: &str) -> Result<usize, Error> {
        self.columns
            .iter()
            .position(|c| c == name)
            .ok_or_else(|| Error::Result {
                name: self.name.clone(),
                message: format!("no column {name} (has {})", self.columns.join(", ")),
            })
    }

    /// A numeric cell; empty (NULL) reads as 0.
    pub fn number(&self, row: usize, col: usize) -> Result<f64, Error> {
        let cell = self.rows[row].get(col).map(String::as_str).unwrap_or("");
        if cell.is_empty() {
            return Ok(0.0);
        }
        cell.parse().map_err(|_| Error::Result {
            name: self.name.clone(),
            message: format!("row {}: {:?} is not a number", row + 1, cell),
        })
    }

    pub fn text(&self, row: usize, col: usize) -> &str {
        self.rows[row].get(col).map(String::as_str).unwrap_or("")
    }
}
