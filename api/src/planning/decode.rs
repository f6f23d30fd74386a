//! Query results back into plan rows. The queries in [`super::runs`]
//! select the columns in the order these functions read them, with
//! timestamps as epoch microseconds (`BIGINT`).

use std::collections::BTreeMap;

use datafusion::arrow::array::{Array, AsArray, RecordBatch};
use datafusion::arrow::datatypes::{Float64Type, Int64Type};
use queuelake_engine::plans::{BacktestScores, ForecastRow, StaffingRow};

/// Typed access to one row of a batch; a NULL or mistyped cell reads as
/// `None` (the planning tables' non-null columns never are).
pub struct Cells<'a> {
    batch: &'a RecordBatch,
    row: usize,
}

impl Cells<'_> {
    /// A UTF-8 cell.
    pub fn text(&self, column: usize) -> Option<String> {
        let c = self.batch.column(column).as_string_opt::<i32>()?;
        c.is_valid(self.row).then(|| c.value(self.row).to_owned())
    }

    /// An `Int64` cell.
    pub fn int(&self, column: usize) -> Option<i64> {
        let c = self.batch.column(column).as_primitive_opt::<Int64Type>()?;
        c.is_valid(self.row).then(|| c.value(self.row))
    }

    /// A `Float64` cell.
    pub fn float(&self, column: usize) -> Option<f64> {
        let c = self
            .batch
            .column(column)
            .as_primitive_opt::<Float64Type>()?;
        c.is_valid(self.row).then(|| c.value(self.row))
    }
}

/// Each row of `batches` that `read` makes a value of.
pub fn rows<T>(batches: &[RecordBatch], read: impl Fn(&Cells<'_>) -> Option<T>) -> Vec<T> {
    batches
        .iter()
        .flat_map(|batch| (0..batch.num_rows()).map(move |row| Cells { batch, row }))
        .filter_map(|cells| read(&cells))
        .collect()
}

/// `forecasts` rows (columns as `runs::read_forecast` selects them).
pub fn forecast_rows(batches: &[RecordBatch]) -> Vec<ForecastRow> {
    rows(batches, |c| {
        Some(ForecastRow {
            run_id: c.text(0)?,
            created_at_us: c.int(1)?,
            queue: c.text(2)?,
            interval_start_us: c.int(3)?,
            interval_s: c.int(4)?,
            volume: c.float(5)?,
            volume_lo: c.float(6)?,
            volume_hi: c.float(7)?,
            aht_s: c.float(8),
            model: c.text(9)?,
            backtest: match (c.float(10), c.float(11), c.float(12)) {
                (Some(mase), Some(wape), Some(smape)) => Some(BacktestScores { mase, wape, smape }),
                _ => None,
            },
            special_day: c.text(13),
        })
    })
}

/// `staffing` rows (columns as `runs::read_staffing` selects them).
pub fn staffing_rows(batches: &[RecordBatch]) -> Vec<StaffingRow> {
    rows(batches, |c| {
        Some(StaffingRow {
            run_id: c.text(0)?,
            created_at_us: c.int(1)?,
            forecast_run_id: c.text(2),
            queue: c.text(3)?,
            interval_start_us: c.int(4)?,
            interval_s: c.int(5)?,
            volume: c.float(6)?,
            aht_s: c.float(7)?,
            agents_required: c.int(8)?,
            agents_with_shrinkage: c.int(9)?,
            service_level_expected: c.float(10)?,
            asa_expected: c.float(11)?,
            occupancy_expected: c.float(12)?,
            abandon_expected: c.float(13)?,
            method: c.text(14)?,
            target: c.text(15)?,
            patience_s: c.float(16),
            shrinkage: c.float(17)?,
            max_occupancy: c.float(18)?,
        })
    })
}

/// `(queue, interval start µs) → offered` from `queue, start, offered` rows.
pub fn offered(batches: &[RecordBatch]) -> BTreeMap<(String, i64), f64> {
    rows(batches, |c| Some(((c.text(0)?, c.int(1)?), c.float(2)?)))
        .into_iter()
        .collect()
}

/// One run of `forecasts` or `staffing` per queue (columns as
/// `runs::list_runs` selects them).
pub fn run_queue_rows(batches: &[RecordBatch]) -> Vec<super::runs::RunQueueRow> {
    rows(batches, |c| {
        Some(super::runs::RunQueueRow {
            run_id: c.text(0)?,
            forecast_run_id: c.text(1),
            queue: c.text(2)?,
            created_at_us: c.int(3)?,
            first_interval_us: c.int(4)?,
            last_interval_us: c.int(5)?,
        })
    })
}
