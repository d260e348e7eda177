//! The table `txn_processedtxns`: the transaction's columns as the archive writes them
//! (docs/architecture.md, Records), `fd` a struct, and the `dt` partition.

use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, Field, Fields, Schema, SchemaRef, TimeUnit};

pub const TABLE: &str = "txn_processedtxns";
pub const PARTITION: &str = "dt";

fn utf8(name: &str) -> Field {
    Field::new(name, DataType::Utf8, true)
}

fn string_list(name: &str) -> Field {
    Field::new(
        name,
        DataType::List(Arc::new(Field::new("item", DataType::Utf8, true))),
        true,
    )
}

/// `fd` as the scorer writes it; the columns the original system lacked are simply null there.
pub fn fd_type() -> DataType {
    let model_scores = DataType::Map(
        Arc::new(Field::new(
            "entries",
            DataType::Struct(Fields::from(vec![
                Field::new("keys", DataType::Utf8, false),
                Field::new("values", DataType::Float64, true),
            ])),
            false,
        )),
        false,
    );
    let rule_result = DataType::Struct(Fields::from(vec![utf8("rule"), string_list("outcomes")]));
    DataType::Struct(Fields::from(vec![
        utf8("outcome"),
        Field::new("model_scores", model_scores, true),
        Field::new(
            "rule_results",
            DataType::List(Arc::new(Field::new("item", rule_result, true))),
            true,
        ),
        string_list("reasons"),
        Field::new("ttdf", DataType::Int64, true),
        Field::new("proc_time", DataType::Int64, true),
        Field::new("frauddetector_time", DataType::Int64, true),
        utf8("model_version"),
        utf8("rules_version"),
        Field::new(
            "shadow",
            DataType::Struct(Fields::from(vec![
                utf8("outcome"),
                utf8("model_version"),
                utf8("rules_version"),
                Field::new("score", DataType::Float64, true),
                string_list("rules"),
            ])),
            true,
        ),
    ]))
}

/// The columns stored in each record (no partition column).
pub fn record_schema() -> SchemaRef {
    let mut fields = vec![Field::new("transaction_amt", DataType::Float64, true)];
    fields.extend(
        vigil_core::Transaction::COLUMNS
            .iter()
            .filter(|c| **c != "transaction_amt")
            .map(|c| utf8(c)),
    );
    fields.push(Field::new("fd", fd_type(), true));
    Arc::new(Schema::new(fields))
}

/// The whole table: the record columns and `dt`.
pub fn table_schema() -> SchemaRef {
    let record = record_schema();
    let mut fields: Vec<Field> = record.fields().iter().map(|f| f.as_ref().clone()).collect();
    fields.push(utf8(PARTITION));
    Arc::new(Schema::new(fields))
}

/// Presto's `timestamp(3) with time zone`.
pub fn timestamp_type() -> DataType {
    DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into()))
}
