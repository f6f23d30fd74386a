//! The planning tables: `forecasts` (a forecast run's intervals) and
//! `staffing` (the agents each forecast interval needs), stored in the
//! lake like every other table so analysts query plans beside actuals:
//!
//! ```sql
//! SELECT f.interval_start, f.volume, s.offered
//! FROM forecasts f JOIN interval_stats s USING (queue, interval_start)
//! WHERE f.run_id = '…'
//! ```
//!
//! A run is written once, in one commit, and never changed (a new run has
//! a new id). Both tables are partitioned by the UTC date of `created_at`,
//! so a run is one file per table; both are scoped by `queue`.

use std::collections::BTreeMap;
use std::sync::{Arc, LazyLock};

use arrow::array::{
    ArrayRef, Float64Builder, Int64Builder, RecordBatch, StringBuilder, TimestampMicrosecondBuilder,
};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};

use crate::error::Result;
use crate::lake::{Lake, Snapshot, TableWriter, WriterLock, WriterSettings};

/// Name of the forecasts table.
pub const FORECASTS: &str = "forecasts";
/// Name of the staffing table.
pub const STAFFING: &str = "staffing";

/// Index of `created_at` (the partitioning column) in both schemas.
const CREATED_AT_COLUMN: usize = 1;

pub(crate) fn timestamp(name: &str) -> Field {
    Field::new(
        name,
        DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
        false,
    )
}

pub(crate) fn number(name: &str, nullable: bool) -> Field {
    Field::new(name, DataType::Float64, nullable)
}

/// Schema of `forecasts`: one row per run, queue and future interval.
pub static FORECASTS_SCHEMA: LazyLock<SchemaRef> = LazyLock::new(|| {
    Arc::new(Schema::new(vec![
        Field::new("run_id", DataType::Utf8, false),
        timestamp("created_at"),
        Field::new("queue", DataType::Utf8, false),
        timestamp("interval_start"),
        Field::new("interval_s", DataType::Int64, false),
        number("volume", false),
        number("volume_lo", false),
        number("volume_hi", false),
        number("aht_s", true),
        Field::new("model", DataType::Utf8, false),
        number("backtest_mase", true),
        number("backtest_wape", true),
        number("backtest_smape", true),
        Field::new("special_day", DataType::Utf8, true),
    ]))
});

/// Schema of `staffing`: one row per run, queue and interval.
pub static STAFFING_SCHEMA: LazyLock<SchemaRef> = LazyLock::new(|| {
    Arc::new(Schema::new(vec![
        Field::new("run_id", DataType::Utf8, false),
        timestamp("created_at"),
        Field::new("forecast_run_id", DataType::Utf8, true),
        Field::new("queue", DataType::Utf8, false),
        timestamp("interval_start"),
        Field::new("interval_s", DataType::Int64, false),
        number("volume", false),
        number("aht_s", false),
        Field::new("agents_required", DataType::Int64, false),
        Field::new("agents_with_shrinkage", DataType::Int64, false),
        number("service_level_expected", false),
        number("asa_expected", false),
        number("occupancy_expected", false),
        number("abandon_expected", false),
        Field::new("method", DataType::Utf8, false),
        Field::new("target", DataType::Utf8, false),
        number("patience_s", true),
        number("shrinkage", false),
        number("max_occupancy", false),
    ]))
});

/// One `forecasts` row.
#[derive(Debug, Clone, PartialEq)]
pub struct ForecastRow {
    /// The run's id.
    pub run_id: String,
    /// When the run was made, microseconds since the epoch.
    pub created_at_us: i64,
    /// The queue.
    pub queue: String,
    /// The interval's start (UTC instant), microseconds since the epoch.
    pub interval_start_us: i64,
    /// Interval length, seconds.
    pub interval_s: i64,
    /// Calls expected.
    pub volume: f64,
    /// Lower bound of the 90 % prediction interval.
    pub volume_lo: f64,
    /// Upper bound.
    pub volume_hi: f64,
    /// Expected AHT, seconds (unknown without answered history).
    pub aht_s: Option<f64>,
    /// The model that made it.
    pub model: String,
    /// The model's rolling-origin backtest scores.
    pub backtest: Option<BacktestScores>,
    /// The special day the interval falls on.
    pub special_day: Option<String>,
}

/// A model's mean backtest scores.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BacktestScores {
    /// MASE (weekly seasonal naive scale).
    pub mase: f64,
    /// WAPE, a share.
    pub wape: f64,
    /// sMAPE, a share.
    pub smape: f64,
}

/// One `staffing` row.
#[derive(Debug, Clone, PartialEq)]
pub struct StaffingRow {
    /// The staffing run's id.
    pub run_id: String,
    /// When it was made, microseconds since the epoch.
    pub created_at_us: i64,
    /// The forecast run it staffs (`None` for a request of its own).
    pub forecast_run_id: Option<String>,
    /// The queue.
    pub queue: String,
    /// The interval's start, microseconds since the epoch.
    pub interval_start_us: i64,
    /// Interval length, seconds.
    pub interval_s: i64,
    /// Calls staffed for.
    pub volume: f64,
    /// AHT staffed for, seconds.
    pub aht_s: f64,
    /// Agents on the phones needed.
    pub agents_required: i64,
    /// Agents to schedule (shrinkage added).
    pub agents_with_shrinkage: i64,
    /// Expected service level, a share.
    pub service_level_expected: f64,
    /// Expected ASA, seconds.
    pub asa_expected: f64,
    /// Expected occupancy, a share.
    pub occupancy_expected: f64,
    /// Expected abandon rate, a share (0 under Erlang C).
    pub abandon_expected: f64,
    /// `erlang_c` or `erlang_a`.
    pub method: String,
    /// The target, as `80/20` or `asa<=15`.
    pub target: String,
    /// Mean patience used by Erlang A, seconds.
    pub patience_s: Option<f64>,
    /// Shrinkage applied, a share.
    pub shrinkage: f64,
    /// Occupancy cap applied, a share.
    pub max_occupancy: f64,
}

pub(crate) fn timestamps(values: impl Iterator<Item = i64>) -> ArrayRef {
    let mut b = TimestampMicrosecondBuilder::new().with_timezone("UTC");
    values.for_each(|v| b.append_value(v));
    Arc::new(b.finish())
}

pub(crate) fn texts<'a>(values: impl Iterator<Item = Option<&'a str>>) -> ArrayRef {
    let mut b = StringBuilder::new();
    values.for_each(|v| b.append_option(v));
    Arc::new(b.finish())
}

pub(crate) fn floats(values: impl Iterator<Item = Option<f64>>) -> ArrayRef {
    let mut b = Float64Builder::new();
    values.for_each(|v| b.append_option(v));
    Arc::new(b.finish())
}

pub(crate) fn integers(values: impl Iterator<Item = i64>) -> ArrayRef {
    let mut b = Int64Builder::new();
    values.for_each(|v| b.append_value(v));
    Arc::new(b.finish())
}

/// `rows` as a `forecasts` batch.
pub fn forecasts_batch(rows: &[ForecastRow]) -> Result<RecordBatch> {
    let r = || rows.iter();
    let columns = vec![
        texts(r().map(|x| Some(x.run_id.as_str()))),
        timestamps(r().map(|x| x.created_at_us)),
        texts(r().map(|x| Some(x.queue.as_str()))),
        timestamps(r().map(|x| x.interval_start_us)),
        integers(r().map(|x| x.interval_s)),
        floats(r().map(|x| Some(x.volume))),
        floats(r().map(|x| Some(x.volume_lo))),
        floats(r().map(|x| Some(x.volume_hi))),
        floats(r().map(|x| x.aht_s)),
        texts(r().map(|x| Some(x.model.as_str()))),
        floats(r().map(|x| x.backtest.map(|b| b.mase))),
        floats(r().map(|x| x.backtest.map(|b| b.wape))),
        floats(r().map(|x| x.backtest.map(|b| b.smape))),
        texts(r().map(|x| x.special_day.as_deref())),
    ];
    Ok(RecordBatch::try_new(FORECASTS_SCHEMA.clone(), columns)?)
}

/// `rows` as a `staffing` batch.
pub fn staffing_batch(rows: &[StaffingRow]) -> Result<RecordBatch> {
    let r = || rows.iter();
    let columns = vec![
        texts(r().map(|x| Some(x.run_id.as_str()))),
        timestamps(r().map(|x| x.created_at_us)),
        texts(r().map(|x| x.forecast_run_id.as_deref())),
        texts(r().map(|x| Some(x.queue.as_str()))),
        timestamps(r().map(|x| x.interval_start_us)),
        integers(r().map(|x| x.interval_s)),
        floats(r().map(|x| Some(x.volume))),
        floats(r().map(|x| Some(x.aht_s))),
        integers(r().map(|x| x.agents_required)),
        integers(r().map(|x| x.agents_with_shrinkage)),
        floats(r().map(|x| Some(x.service_level_expected))),
        floats(r().map(|x| Some(x.asa_expected))),
        floats(r().map(|x| Some(x.occupancy_expected))),
        floats(r().map(|x| Some(x.abandon_expected))),
        texts(r().map(|x| Some(x.method.as_str()))),
        texts(r().map(|x| Some(x.target.as_str()))),
        floats(r().map(|x| x.patience_s)),
        floats(r().map(|x| Some(x.shrinkage))),
        floats(r().map(|x| Some(x.max_occupancy))),
    ];
    Ok(RecordBatch::try_new(STAFFING_SCHEMA.clone(), columns)?)
}

/// The writer of both planning tables (the caller holds the lake's writer
/// lock). Each run is one commit.
pub struct PlanWriter {
    forecasts: TableWriter,
    staffing: TableWriter,
}

impl PlanWriter {
    /// Opens both tables' writers.
    pub async fn open(lake: &Lake, lock: &WriterLock) -> Result<Self> {
        let open = |name: &'static str, schema: &SchemaRef| {
            lake.table_writer(
                lock,
                name,
                schema.clone(),
                CREATED_AT_COLUMN,
                WriterSettings::default(),
            )
        };
        Ok(PlanWriter {
            forecasts: open(FORECASTS, &FORECASTS_SCHEMA).await?,
            staffing: open(STAFFING, &STAFFING_SCHEMA).await?,
        })
    }

    /// Commits a forecast run's rows; returns the table's new snapshot.
    pub async fn append_forecasts(&mut self, rows: &[ForecastRow]) -> Result<Snapshot> {
        append(&mut self.forecasts, forecasts_batch(rows)?).await
    }

    /// Commits a staffing run's rows; returns the table's new snapshot.
    pub async fn append_staffing(&mut self, rows: &[StaffingRow]) -> Result<Snapshot> {
        append(&mut self.staffing, staffing_batch(rows)?).await
    }
}

pub(crate) async fn append(writer: &mut TableWriter, batch: RecordBatch) -> Result<Snapshot> {
    if batch.num_rows() > 0 {
        writer.append(vec![batch], BTreeMap::new()).await?;
    }
    Ok(writer.snapshot().clone())
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{Array, AsArray};
    use arrow::datatypes::Float64Type;

    #[test]
    fn rows_become_batches_with_nulls_where_unknown() {
        let row = ForecastRow {
            run_id: "fc-1".into(),
            created_at_us: 1_700_000_000_000_000,
            queue: "sales".into(),
            interval_start_us: 1_700_000_900_000_000,
            interval_s: 900,
            volume: 12.5,
            volume_lo: 8.0,
            volume_hi: 17.0,
            aht_s: None,
            model: "seasonal_naive".into(),
            backtest: Some(BacktestScores {
                mase: 0.9,
                wape: 0.1,
                smape: 0.12,
            }),
            special_day: None,
        };
        let batch = forecasts_batch(&[row.clone(), row]).unwrap();
        assert_eq!(batch.num_rows(), 2);
        let aht = batch.column_by_name("aht_s").unwrap();
        assert!(aht.is_null(0));
        let mase = batch.column_by_name("backtest_mase").unwrap();
        assert_eq!(mase.as_primitive::<Float64Type>().value(1), 0.9);
        assert_eq!(staffing_batch(&[]).unwrap().num_rows(), 0);
    }
}
