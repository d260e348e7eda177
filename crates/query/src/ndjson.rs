//! Archive lines into Arrow columns. simd-json parses each line into a tape in place (no
//! copy: the file's buffer is padded once and each line parsed where it lies), and only the
//! columns a query projects are built from it; the other keys are stepped over on the tape.
//! This is 2–3× faster than arrow-json's reader, whose tokenizer was most of every query.
//!
//! Semantics follow arrow-json's: a missing key or `null` is a null, an unknown key is
//! ignored, a value of the wrong JSON type makes the line an error (left out and counted). Errors name the column and the
//! expected type, never the value (the archive holds personal data).

use std::ops::Range;
use std::sync::Arc;

use datafusion::arrow::array::{
    ArrayBuilder, ArrayRef, BooleanBuilder, Float64Builder, Int64Builder, ListArray, MapArray,
    StringBuilder, StructArray,
};
use datafusion::arrow::buffer::{NullBuffer, OffsetBuffer};
use datafusion::arrow::datatypes::{DataType, FieldRef, Fields};
use simd_json::{Buffers, INPUT_PADDING, Node, StaticNode, Tape, fill_tape_padded};

/// Why a line could not be decoded.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LineError {
    #[error("invalid JSON ({0})")]
    Json(String),
    #[error("not a JSON object")]
    NotAnObject,
    #[error("column {column}: expected {expected}")]
    Type {
        column: String,
        expected: &'static str,
    },
    #[error("column {0}: a key appears twice")]
    DuplicateKey(String),
}

impl LineError {
    /// The error as seen from the struct `parent` (its column name prefixed).
    fn within(self, parent: &str) -> Self {
        let prefix = |c: String| {
            if parent.is_empty() {
                c
            } else {
                format!("{parent}.{c}")
            }
        };
        match self {
            LineError::Type { column, expected } => LineError::Type {
                column: prefix(column),
                expected,
            },
            LineError::DuplicateKey(c) => LineError::DuplicateKey(prefix(c)),
            other => other,
        }
    }
}

fn mismatch(column: &str, expected: &'static str) -> LineError {
    LineError::Type {
        column: column.to_owned(),
        expected,
    }
}

/// Nodes a value spans on the tape, its header included.
fn span(node: &Node<'_>) -> usize {
    match node {
        Node::Object { count, .. } | Node::Array { count, .. } => count + 1,
        _ => 1,
    }
}

fn is_null(v: &[Node<'_>]) -> bool {
    matches!(v.first(), Some(Node::Static(StaticNode::Null)))
}

/// The nodes of each element of an array or each value of an object (`pairs`), in order.
fn items<'t, 'n>(
    v: &'t [Node<'n>],
    len: usize,
    pairs: bool,
) -> impl Iterator<Item = Result<(Option<&'n str>, &'t [Node<'n>]), LineError>> + 't {
    let mut at = 1;
    (0..len).map(move |_| {
        let key = if pairs {
            let Some(Node::String(k)) = v.get(at) else {
                return Err(LineError::Json("object key".into()));
            };
            at += 1;
            Some(*k)
        } else {
            None
        };
        let width = v.get(at).map(span).unwrap_or(1);
        let value = v
            .get(at..at + width)
            .ok_or_else(|| LineError::Json("truncated tape".into()))?;
        at += width;
        Ok((key, value))
    })
}

/// Whether `v` fits `data_type` (the checks `Column::append` makes, without building
/// anything), so that a line is taken whole or skipped whole, whatever the projection.
fn check(name: &str, data_type: &DataType, v: &[Node<'_>]) -> Result<(), LineError> {
    let Some(first) = v.first() else {
        return Err(LineError::Json("empty value".into()));
    };
    if is_null(v) {
        return Ok(());
    }
    let fits = match (data_type, first) {
        (DataType::Utf8, Node::String(_)) => true,
        (DataType::Float64, _) => as_f64(first).is_some(),
        (DataType::Int64, _) => as_i64(first).is_some(),
        (DataType::Boolean, Node::Static(StaticNode::Bool(_))) => true,
        (DataType::List(item), Node::Array { len, .. }) => {
            for element in items(v, *len, false) {
                check(name, item.data_type(), element?.1)?;
            }
            true
        }
        (DataType::Map(entries, _), Node::Object { len, .. }) => {
            let DataType::Struct(kv) = entries.data_type() else {
                return Err(mismatch(name, "a map"));
            };
            for pair in items(v, *len, true) {
                check(name, kv[1].data_type(), pair?.1)?;
            }
            true
        }
        (DataType::Struct(fields), Node::Object { .. }) => {
            check_object(fields, v, |_, _| ()).map_err(|e| e.within(name))?;
            true
        }
        _ => false,
    };
    if fits {
        Ok(())
    } else {
        Err(mismatch(name, expected(data_type)))
    }
}

/// Checks each key of the object `v` that names one of `fields` against its type, and
/// hands `found` the field's index and where its value is in `v`. Errors name the field.
fn check_object(
    fields: &Fields,
    v: &[Node<'_>],
    mut found: impl FnMut(usize, Range<usize>),
) -> Result<(), LineError> {
    let Some(Node::Object { len, .. }) = v.first() else {
        return Err(LineError::NotAnObject);
    };
    let mut seen = 0u64;
    let mut hint = 0;
    let mut at = 1;
    for _ in 0..*len {
        let Some(Node::String(key)) = v.get(at) else {
            return Err(LineError::Json("object key".into()));
        };
        let width = v.get(at + 1).map(span).unwrap_or(1);
        let range = at + 1..at + 1 + width;
        let value = v
            .get(range.clone())
            .ok_or_else(|| LineError::Json("truncated tape".into()))?;
        at += 1 + width;
        let Some(i) = find_field(fields, key, &mut hint) else {
            continue;
        };
        let bit = 1u64 << i;
        if seen & bit != 0 {
            return Err(LineError::DuplicateKey((*key).to_owned()));
        }
        seen |= bit;
        check(key, fields[i].data_type(), value)?;
        found(i, range);
    }
    Ok(())
}

fn expected(data_type: &DataType) -> &'static str {
    match data_type {
        DataType::Utf8 => "a string",
        DataType::Float64 => "a number",
        DataType::Int64 => "an integer",
        DataType::Boolean => "true or false",
        DataType::List(_) => "an array",
        _ => "an object",
    }
}

/// One conversion for the check and the column, so that they cannot disagree.
fn as_f64(node: &Node<'_>) -> Option<f64> {
    match node {
        Node::Static(StaticNode::F64(x)) => Some(*x),
        Node::Static(StaticNode::I64(x)) => Some(*x as f64),
        Node::Static(StaticNode::U64(x)) => Some(*x as f64),
        Node::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn as_i64(node: &Node<'_>) -> Option<i64> {
    match node {
        Node::Static(StaticNode::I64(x)) => Some(*x),
        Node::Static(StaticNode::U64(x)) => i64::try_from(*x).ok(),
        Node::Static(StaticNode::F64(x)) if x.fract() == 0.0 && x.abs() < 9.0e15 => Some(*x as i64),
        Node::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// The field named `key`, trying first the one after the last found: records keep their
/// keys in schema order, so that is nearly always it.
fn find_field(fields: &Fields, key: &str, hint: &mut usize) -> Option<usize> {
    let n = fields.len();
    if n == 0 {
        return None;
    }
    let guess = *hint % n;
    let found = if fields[guess].name() == key {
        guess
    } else {
        fields.iter().position(|f| f.name() == key)?
    };
    *hint = found + 1;
    Some(found)
}

/// Validity bits kept only once a null has been seen, as Arrow prefers.
#[derive(Default)]
struct Validity {
    bits: Vec<bool>,
    any_null: bool,
}

impl Validity {
    fn push(&mut self, valid: bool) {
        self.any_null |= !valid;
        self.bits.push(valid);
    }

    fn finish(&mut self) -> Option<NullBuffer> {
        let bits = std::mem::take(&mut self.bits);
        std::mem::take(&mut self.any_null).then(|| NullBuffer::from(bits))
    }
}

/// The fields of a struct (or of the record itself) being built, by key.
struct StructColumn {
    name: String,
    fields: Fields,
    children: Vec<Column>,
    seen: Vec<bool>,
    /// Where the last key matched: archive records keep their keys in schema order, so the
    /// next key is most often the next field.
    hint: usize,
    validity: Validity,
}

impl StructColumn {
    fn new(name: &str, fields: &Fields) -> Result<Self, String> {
        let children = fields
            .iter()
            .map(|f| Column::new(&format!("{name}{}", f.name()), f.data_type()))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(StructColumn {
            name: name.trim_end_matches('.').to_owned(),
            fields: fields.clone(),
            seen: vec![false; children.len()],
            children,
            hint: 0,
            validity: Validity::default(),
        })
    }

    /// `v` is an object's nodes, its header first.
    fn append_object(&mut self, v: &[Node<'_>]) -> Result<(), LineError> {
        let Some(Node::Object { len, .. }) = v.first() else {
            return Err(mismatch(&self.name, "an object"));
        };
        self.seen.iter_mut().for_each(|s| *s = false);
        self.hint = 0;
        for pair in items(v, *len, true) {
            let (key, value) = pair?;
            if let Some(i) = find_field(&self.fields, key.unwrap_or_default(), &mut self.hint) {
                if std::mem::replace(&mut self.seen[i], true) {
                    return Err(LineError::DuplicateKey(self.children[i].name().to_owned()));
                }
                self.children[i].append(value)?;
            }
        }
        for (child, seen) in self.children.iter_mut().zip(&self.seen) {
            if !seen {
                child.append_null();
            }
        }
        self.validity.push(true);
        Ok(())
    }

    fn append_null(&mut self) {
        self.children.iter_mut().for_each(Column::append_null);
        self.validity.push(false);
    }

    fn finish_columns(&mut self) -> Vec<ArrayRef> {
        self.children.iter_mut().map(Column::finish).collect()
    }

    fn finish(&mut self) -> ArrayRef {
        let columns = self.finish_columns();
        let nulls = self.validity.finish();
        Arc::new(StructArray::new(self.fields.clone(), columns, nulls))
    }
}

/// Offsets and validity of a list or map.
struct Offsets {
    offsets: Vec<i32>,
    validity: Validity,
}

impl Offsets {
    fn new() -> Self {
        Offsets {
            offsets: vec![0],
            validity: Validity::default(),
        }
    }

    fn close(&mut self, child_len: usize, valid: bool) {
        self.offsets.push(child_len as i32);
        self.validity.push(valid);
    }

    fn finish(&mut self) -> (OffsetBuffer<i32>, Option<NullBuffer>) {
        let offsets = std::mem::replace(&mut self.offsets, vec![0]);
        (OffsetBuffer::new(offsets.into()), self.validity.finish())
    }
}

enum Column {
    Utf8(String, StringBuilder),
    Float64(String, Float64Builder),
    Int64(String, Int64Builder),
    Boolean(String, BooleanBuilder),
    List {
        name: String,
        item: FieldRef,
        offsets: Offsets,
        child: Box<Column>,
    },
    Map {
        name: String,
        entries: FieldRef,
        offsets: Offsets,
        keys: StringBuilder,
        values: Box<Column>,
    },
    Struct(Box<StructColumn>),
}

impl Column {
    fn new(name: &str, data_type: &DataType) -> Result<Self, String> {
        let name = name.to_owned();
        Ok(match data_type {
            DataType::Utf8 => Column::Utf8(name, StringBuilder::new()),
            DataType::Float64 => Column::Float64(name, Float64Builder::new()),
            DataType::Int64 => Column::Int64(name, Int64Builder::new()),
            DataType::Boolean => Column::Boolean(name, BooleanBuilder::new()),
            DataType::List(item) => Column::List {
                child: Box::new(Column::new(&format!("{name}[]"), item.data_type())?),
                name,
                item: item.clone(),
                offsets: Offsets::new(),
            },
            DataType::Map(entries, _) => {
                let DataType::Struct(kv) = entries.data_type() else {
                    return Err(format!("{name}: map entries are not a struct"));
                };
                if kv.len() != 2 || kv[0].data_type() != &DataType::Utf8 {
                    return Err(format!("{name}: only maps with string keys are read"));
                }
                Column::Map {
                    values: Box::new(Column::new(&format!("{name}{{}}"), kv[1].data_type())?),
                    name,
                    entries: entries.clone(),
                    offsets: Offsets::new(),
                    keys: StringBuilder::new(),
                }
            }
            DataType::Struct(fields) => {
                Column::Struct(Box::new(StructColumn::new(&format!("{name}."), fields)?))
            }
            other => return Err(format!("{name}: type {other} is not read from the archive")),
        })
    }

    fn name(&self) -> &str {
        match self {
            Column::Utf8(n, _)
            | Column::Float64(n, _)
            | Column::Int64(n, _)
            | Column::Boolean(n, _)
            | Column::List { name: n, .. }
            | Column::Map { name: n, .. } => n,
            Column::Struct(s) => &s.name,
        }
    }

    fn len(&self) -> usize {
        match self {
            Column::Utf8(_, b) => b.len(),
            Column::Float64(_, b) => b.len(),
            Column::Int64(_, b) => b.len(),
            Column::Boolean(_, b) => b.len(),
            Column::List { offsets, .. } | Column::Map { offsets, .. } => offsets.offsets.len() - 1,
            Column::Struct(s) => s.validity.bits.len(),
        }
    }

    fn append_null(&mut self) {
        match self {
            Column::Utf8(_, b) => b.append_null(),
            Column::Float64(_, b) => b.append_null(),
            Column::Int64(_, b) => b.append_null(),
            Column::Boolean(_, b) => b.append_null(),
            Column::List { offsets, child, .. } => offsets.close(child.len(), false),
            Column::Map { offsets, keys, .. } => offsets.close(keys.len(), false),
            Column::Struct(s) => s.append_null(),
        }
    }

    /// `v` is one value's nodes.
    fn append(&mut self, v: &[Node<'_>]) -> Result<(), LineError> {
        if is_null(v) {
            self.append_null();
            return Ok(());
        }
        match self {
            Column::Utf8(name, b) => match v.first() {
                Some(Node::String(s)) => b.append_value(s),
                _ => return Err(mismatch(name, "a string")),
            },
            Column::Float64(name, b) => {
                let x = v
                    .first()
                    .and_then(as_f64)
                    .ok_or_else(|| mismatch(name, "a number"))?;
                b.append_value(x);
            }
            Column::Int64(name, b) => {
                let x = v
                    .first()
                    .and_then(as_i64)
                    .ok_or_else(|| mismatch(name, "an integer"))?;
                b.append_value(x);
            }
            Column::Boolean(name, b) => match v.first() {
                Some(Node::Static(StaticNode::Bool(x))) => b.append_value(*x),
                _ => return Err(mismatch(name, "true or false")),
            },
            Column::List {
                name,
                offsets,
                child,
                ..
            } => {
                let Some(Node::Array { len, .. }) = v.first() else {
                    return Err(mismatch(name, "an array"));
                };
                for element in items(v, *len, false) {
                    child.append(element?.1)?;
                }
                offsets.close(child.len(), true);
            }
            Column::Map {
                name,
                offsets,
                keys,
                values,
                ..
            } => {
                let Some(Node::Object { len, .. }) = v.first() else {
                    return Err(mismatch(name, "an object"));
                };
                for pair in items(v, *len, true) {
                    let (key, value) = pair?;
                    keys.append_value(key.unwrap_or_default());
                    values.append(value)?;
                }
                offsets.close(keys.len(), true);
            }
            Column::Struct(s) => s.append_object(v)?,
        }
        Ok(())
    }

    fn finish(&mut self) -> ArrayRef {
        match self {
            Column::Utf8(_, b) => Arc::new(b.finish()),
            Column::Float64(_, b) => Arc::new(b.finish()),
            Column::Int64(_, b) => Arc::new(b.finish()),
            Column::Boolean(_, b) => Arc::new(b.finish()),
            Column::List {
                item,
                offsets,
                child,
                ..
            } => {
                let (offsets, nulls) = offsets.finish();
                Arc::new(ListArray::new(item.clone(), offsets, child.finish(), nulls))
            }
            Column::Map {
                entries,
                offsets,
                keys,
                values,
                ..
            } => {
                let (offsets, nulls) = offsets.finish();
                let DataType::Struct(kv) = entries.data_type() else {
                    unreachable!("checked when the column was made")
                };
                let entries_array = StructArray::new(
                    kv.clone(),
                    vec![Arc::new(keys.finish()), values.finish()],
                    None,
                );
                Arc::new(MapArray::new(
                    entries.clone(),
                    offsets,
                    entries_array,
                    nulls,
                    false,
                ))
            }
            Column::Struct(s) => s.finish(),
        }
    }
}

/// A line left out, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Skipped {
    /// From 1.
    pub line: usize,
    pub reason: LineError,
}

/// Decodes NDJSON buffers into the columns of a projection of the record. A line that is
/// not JSON, or not an object, is left out of every query; one with a value of the wrong
/// type, of the queries that read that column (as DataFusion's and DuckDB's readers do:
/// checking every column on every query cost a quarter of the scan).
pub struct LineDecoder {
    projected: StructColumn,
    /// Where each projected column's value is on the current line's tape.
    slots: Vec<Option<Range<usize>>>,
    rows: usize,
    tape: Tape<'static>,
    buffers: Buffers,
}

/// Structs are checked for repeated keys with a 64-bit mask.
fn widest_struct(data_type: &DataType) -> usize {
    match data_type {
        DataType::Struct(fields) => fields
            .iter()
            .map(|f| widest_struct(f.data_type()))
            .max()
            .unwrap_or(0)
            .max(fields.len()),
        DataType::List(item) => widest_struct(item.data_type()),
        DataType::Map(entries, _) => widest_struct(entries.data_type()),
        _ => 0,
    }
}

impl LineDecoder {
    /// `projected` are the columns to build. Fails on a column type the archive does not
    /// use.
    pub fn new(projected: &Fields) -> Result<Self, String> {
        if widest_struct(&DataType::Struct(projected.clone())) > 64 {
            return Err("a struct of more than 64 fields is not read from the archive".into());
        }
        Ok(LineDecoder {
            slots: vec![None; projected.len()],
            projected: StructColumn::new("", projected)?,
            rows: 0,
            tape: Tape(Vec::new()),
            buffers: Buffers::default(),
        })
    }

    /// Rows decoded since the last `finish`.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Pads a buffer for [`LineDecoder::decode`]; call once after filling it.
    pub fn pad(buf: &mut Vec<u8>) {
        buf.extend(std::iter::repeat_n(b' ', INPUT_PADDING));
    }

    /// Decodes every non-blank line of `buf[..len]` (a padded buffer: see [`pad`]), and
    /// returns how many were taken and the lines left out.
    ///
    /// [`pad`]: LineDecoder::pad
    pub fn decode(&mut self, buf: &mut [u8], len: usize) -> (usize, Vec<Skipped>) {
        debug_assert!(buf.len() >= len + INPUT_PADDING);
        let mut start = 0;
        let mut line = 0;
        let mut decoded = 0;
        let mut skipped = vec![];
        while start < len {
            line += 1;
            let end = memchr::memchr(b'\n', &buf[start..len]).map_or(len, |i| start + i);
            if !buf[start..end].iter().all(u8::is_ascii_whitespace) {
                match self.decode_line(&mut buf[start..], end - start) {
                    Ok(()) => decoded += 1,
                    Err(reason) => skipped.push(Skipped { line, reason }),
                }
            }
            start = end + 1;
        }
        (decoded, skipped)
    }

    fn decode_line(&mut self, doc: &mut [u8], len: usize) -> Result<(), LineError> {
        // The tape borrows the line only while it is read; its allocation is kept.
        let mut tape: Tape<'_> = std::mem::replace(&mut self.tape, Tape(Vec::new())).reset();
        let result = match fill_tape_padded(doc, len, &mut self.buffers, &mut tape) {
            Err(e) => Err(LineError::Json(format!(
                "{:?} at byte {}",
                e.error(),
                e.index()
            ))),
            // Checked first, so that the columns are only ever given a whole row.
            Ok(()) => {
                let slots = &mut self.slots;
                slots.iter_mut().for_each(|s| *s = None);
                let nodes = &tape.0;
                check_object(&self.projected.fields, nodes, |i, range| {
                    slots[i] = Some(range);
                })
                .and_then(|()| {
                    for (column, slot) in self.projected.children.iter_mut().zip(&self.slots) {
                        match slot {
                            Some(range) => column.append(&nodes[range.clone()])?,
                            None => column.append_null(),
                        }
                    }
                    Ok(())
                })
            }
        };
        self.tape = tape.reset();
        if result.is_ok() {
            self.rows += 1;
        }
        result
    }

    /// The columns of the rows decoded so far, in the order of the projection.
    pub fn finish(&mut self) -> Vec<ArrayRef> {
        self.rows = 0;
        self.projected.finish_columns()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::record_schema;
    use datafusion::arrow::json::ReaderBuilder;
    use datafusion::arrow::record_batch::RecordBatch;

    fn ours(text: &str, schema: &datafusion::arrow::datatypes::SchemaRef) -> RecordBatch {
        let mut d = LineDecoder::new(schema.fields()).unwrap();
        let mut buf = text.as_bytes().to_vec();
        let len = buf.len();
        LineDecoder::pad(&mut buf);
        let (rows, skipped) = d.decode(&mut buf, len);
        assert_eq!(skipped, vec![]);
        assert_eq!(rows, d.rows());
        let columns = d.finish();
        RecordBatch::try_new_with_options(
            schema.clone(),
            columns,
            &datafusion::arrow::record_batch::RecordBatchOptions::new().with_row_count(Some(rows)),
        )
        .unwrap()
    }

    fn arrow_json(text: &str, schema: &datafusion::arrow::datatypes::SchemaRef) -> RecordBatch {
        let mut d = ReaderBuilder::new(schema.clone()).build_decoder().unwrap();
        d.decode(text.as_bytes()).unwrap();
        d.flush().unwrap().unwrap()
    }

    const LINES: &str = concat!(
        r#"{"transaction_amt":12.5,"email_address":"a@b.c","event_time":"2023-11-01T00:00:00Z","fd":{"outcome":"block","model_scores":{"vigil_gbdt":912.5},"rule_results":[{"rule":"high","outcomes":["block","review"]}],"reasons":["amount 14x the mean","new IP \"x\" \\ \u00e9"],"ttdf":5,"proc_time":0,"frauddetector_time":0}}"#,
        "\n\n",
        r#"{"fd":null,"transaction_amt":3,"unknown":{"deep":[1,2,{"x":null}]},"email_address":null}"#,
        "\n",
        r#"{"event_time":"2023-11-02T00:00:00Z","fd":{"outcome":"approve","model_scores":{},"rule_results":[],"reasons":[],"ttdf":7}}"#,
        "\r\n",
        r#"{"fd":{"rule_results":null,"reasons":["a",null],"model_scores":{"m":1,"n":null}}}"#,
    );

    #[test]
    fn decodes_as_arrow_json_does() {
        let schema = record_schema();
        assert_eq!(ours(LINES, &schema), arrow_json(LINES, &schema));
        // A projection, in another order than the record's keys.
        let projected = Arc::new(schema.project(&[19, 6, 0]).unwrap());
        assert_eq!(ours(LINES, &projected), arrow_json(LINES, &projected));
    }

    #[test]
    fn no_columns_still_counts_and_checks_rows() {
        let mut d = LineDecoder::new(&Fields::empty()).unwrap();
        let mut buf = LINES.as_bytes().to_vec();
        let len = buf.len();
        LineDecoder::pad(&mut buf);
        assert_eq!(d.decode(&mut buf, len), (4, vec![]));
        assert_eq!(d.rows(), 4);
        // Not JSON, or not an object: left out even when no column is read; a value of the
        // wrong type in a column not read: kept.
        let mut bad = b"{}\n{\"a\":\n{\"fd\":{\"reasons\":[1]}}\n[]\n".to_vec();
        let len = bad.len();
        LineDecoder::pad(&mut bad);
        let (rows, skipped) = d.decode(&mut bad, len);
        assert_eq!(rows, 2);
        let lines: Vec<usize> = skipped.iter().map(|s| s.line).collect();
        assert_eq!(lines, vec![2, 4]);
        assert!(matches!(skipped[0].reason, LineError::Json(_)));
        assert_eq!(skipped[1].reason, LineError::NotAnObject);
        let mut d = LineDecoder::new(record_schema().fields()).unwrap();
        let (rows, skipped) = d.decode(&mut bad, len);
        assert_eq!(rows, 1);
        assert_eq!(
            skipped[1].reason.to_string(),
            "column fd.reasons: expected a string"
        );
    }

    /// Bad lines among good ones, broken at every depth: read whole, the rows are exactly
    /// those of the good lines alone; read in part, the lines broken elsewhere are kept.
    #[test]
    fn bad_lines_are_left_out_whole() {
        let bad = [
            r#"{"transaction_amt":"secret@x.com"}"#,
            r#"{"email_address":12345}"#,
            "[1,2]",
            r#"{"event_id":"a","fd":{"ttdf":1.5}}"#,
            r#"{"event_id":"a","event_id":"b"}"#,
            r#"{"event_id":"a","fd":{"outcome":"x","rule_results":[{"rule":"r","outcomes":["a",7]}]}}"#,
            r#"{"event_id":"a","fd":{"model_scores":{"m":"high"}}}"#,
            r#"{"event_id":"a","fd":{"reasons":["a","b",{"c":1}]}}"#,
            r#"{"event_id": "a", "#,
        ];
        let good: Vec<&str> = LINES.lines().collect();
        let mut mixed = String::new();
        for (i, g) in good.iter().enumerate() {
            mixed.push_str(bad[i % bad.len()]);
            mixed.push('\n');
            mixed.push_str(g);
            mixed.push('\n');
        }
        for b in &bad[good.len()..] {
            mixed.push_str(b);
            mixed.push('\n');
        }
        let schema = record_schema();
        // Projection, and the bad lines it leaves out.
        let cases: [(Vec<usize>, usize); 3] = [
            ((0..20).collect(), bad.len()),
            (vec![19, 6, 0], bad.len() - 2),
            (vec![4], 3),
        ];
        for (projection, left_out) in cases {
            let projected = Arc::new(schema.project(&projection).unwrap());
            let mut d = LineDecoder::new(projected.fields()).unwrap();
            let mut buf = mixed.clone().into_bytes();
            let len = buf.len();
            LineDecoder::pad(&mut buf);
            let (rows, skipped) = d.decode(&mut buf, len);
            assert_eq!(skipped.len(), left_out, "{projection:?}: {skipped:?}");
            if left_out < bad.len() {
                assert_eq!(rows, 4 + bad.len() - left_out);
                continue;
            }
            let batch = RecordBatch::try_new_with_options(
                projected.clone(),
                d.finish(),
                &datafusion::arrow::record_batch::RecordBatchOptions::new()
                    .with_row_count(Some(rows)),
            )
            .unwrap();
            assert_eq!(batch, arrow_json(&good.join("\n"), &projected));
            for s in &skipped {
                let message = s.reason.to_string();
                assert!(
                    !message.contains("secret") && !message.contains("12345"),
                    "{message}"
                );
            }
        }
    }
}
