//! The `pacing_decisions` table: every pacing decision served, with the
//! inputs it rested on. A dialer polling many times a second gets the
//! same decision again and again, so identical consecutive decisions of a
//! campaign are one row that counts them (`served`, from `first_at` to
//! `last_at`): nothing is dropped, and the table stays small. Scoped by
//! campaign.

use std::collections::BTreeMap;
use std::sync::{Arc, LazyLock};

use arrow::array::RecordBatch;
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};

use crate::error::Result;
use crate::lake::{Lake, Snapshot, TableWriter, WriterLock, WriterSettings};
use crate::plans::{floats, integers, number, texts, timestamp, timestamps};

/// Name of the table.
pub const PACING_DECISIONS: &str = "pacing_decisions";

/// Schema of `pacing_decisions`.
pub static PACING_DECISIONS_SCHEMA: LazyLock<SchemaRef> = LazyLock::new(|| {
    let int = |name: &str| Field::new(name, DataType::Int64, false);
    Arc::new(Schema::new(vec![
        timestamp("first_at"),
        timestamp("last_at"),
        int("served"),
        Field::new("campaign", DataType::Utf8, false),
        Field::new("mode", DataType::Utf8, false),
        int("calls"),
        number("ratio", false),
        number("projected_abandon", false),
        number("projected_abandon_upper", false),
        number("allowed_abandon", false),
        number("budget_left", false),
        int("agents_free"),
        int("agents_on_call"),
        int("agents_wrapup"),
        int("calls_in_flight"),
        number("live_answer_rate", false),
        number("live_answer_se", false),
        number("ring_s", false),
        number("talk_s", false),
        number("wrap_s", false),
        number("window_answered", false),
        number("window_dropped", false),
        number("target", false),
    ]))
});

/// One row: a decision and how often it was served.
#[derive(Debug, Clone, PartialEq)]
pub struct DecisionRow {
    /// First served, microseconds since the epoch.
    pub first_at_us: i64,
    /// Last served.
    pub last_at_us: i64,
    /// Times served.
    pub served: i64,
    /// The campaign.
    pub campaign: String,
    /// `preview`, `progressive`, `power` or `predictive`.
    pub mode: String,
    /// The decision's integers: calls, agents free, on call, in wrap-up,
    /// calls in flight.
    pub counts: [i64; 5],
    /// The decision's figures: ratio, projected abandon, its upper bound,
    /// allowed abandon, budget left, live answer rate, its standard
    /// error, ring s, talk s, wrap s, window answered, window dropped,
    /// target.
    pub figures: [f64; 13],
}

impl DecisionRow {
    /// Whether `other` is the same decision on the same inputs.
    pub fn same_decision(&self, other: &DecisionRow) -> bool {
        self.campaign == other.campaign
            && self.mode == other.mode
            && self.counts == other.counts
            && self.figures == other.figures
    }
}

/// `rows` as a batch.
pub fn decisions_batch(rows: &[DecisionRow]) -> Result<RecordBatch> {
    let r = || rows.iter();
    let mut columns = vec![
        timestamps(r().map(|x| x.first_at_us)),
        timestamps(r().map(|x| x.last_at_us)),
        integers(r().map(|x| x.served)),
        texts(r().map(|x| Some(x.campaign.as_str()))),
        texts(r().map(|x| Some(x.mode.as_str()))),
        integers(r().map(|x| x.counts[0])),
    ];
    for f in 0..5 {
        columns.push(floats(r().map(|x| Some(x.figures[f]))));
    }
    for c in 1..5 {
        columns.push(integers(r().map(|x| x.counts[c])));
    }
    for f in 5..13 {
        columns.push(floats(r().map(|x| Some(x.figures[f]))));
    }
    Ok(RecordBatch::try_new(
        PACING_DECISIONS_SCHEMA.clone(),
        columns,
    )?)
}

/// The writer of `pacing_decisions` (the caller holds the lake's lock).
pub struct DecisionWriter {
    writer: TableWriter,
}

impl DecisionWriter {
    /// Opens it.
    pub async fn open(lake: &Lake, lock: &WriterLock) -> Result<Self> {
        Ok(DecisionWriter {
            writer: lake
                .table_writer(
                    lock,
                    PACING_DECISIONS,
                    PACING_DECISIONS_SCHEMA.clone(),
                    0,
                    WriterSettings::default(),
                )
                .await?,
        })
    }

    /// Commits `rows`; returns the new snapshot.
    pub async fn append(&mut self, rows: &[DecisionRow]) -> Result<Snapshot> {
        if !rows.is_empty() {
            self.writer
                .append(vec![decisions_batch(rows)?], BTreeMap::new())
                .await?;
        }
        Ok(self.writer.snapshot().clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_fill_every_column_in_order() {
        let row = DecisionRow {
            first_at_us: 1,
            last_at_us: 2,
            served: 3,
            campaign: "renewals".into(),
            mode: "predictive".into(),
            counts: [4, 5, 6, 7, 8],
            figures: [
                0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.1, 1.2, 1.3,
            ],
        };
        let batch = decisions_batch(std::slice::from_ref(&row)).unwrap();
        assert_eq!(batch.num_columns(), PACING_DECISIONS_SCHEMA.fields().len());
        let calls_in_flight = batch.column_by_name("calls_in_flight").unwrap();
        use arrow::array::AsArray;
        assert_eq!(
            calls_in_flight
                .as_primitive::<arrow::datatypes::Int64Type>()
                .value(0),
            8
        );
        let target = batch.column_by_name("target").unwrap();
        assert_eq!(
            target
                .as_primitive::<arrow::datatypes::Float64Type>()
                .value(0),
            1.3
        );
        assert!(row.same_decision(&row.clone()));
    }
}
