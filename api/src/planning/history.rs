//! What a forecast learns from, read from the lake through a session (so
//! a scoped token's run sees only its queues): per queue, the interval
//! series of offered calls, answered calls and AHT from `interval_stats`,
//! and callers' mean patience from `calls`.
//!
//! The series end at the start of the interval the lake's newest line
//! falls in: that interval is still filling, so it is forecast, not
//! learnt from. Intervals without calls since a queue's last one are gaps
//! up to there, so every queue's forecast starts at the same instant.

use std::collections::BTreeMap;

use datafusion::arrow::array::{Array, AsArray, RecordBatch};
use datafusion::arrow::datatypes::{Float64Type, Int64Type};
use queuelake_engine::EngineError;
use queuelake_engine::session::QueryEngine;
use queuelake_forecast::Series;
use queuelake_forecast::plan::QueueHistory;

/// Abandons needed before the lake's patience estimate is used.
pub const MIN_ABANDONS_FOR_PATIENCE: i64 = 20;

/// Weeks of calls the patience estimate looks at.
const PATIENCE_WEEKS: i64 = 4;

/// The queues' histories and the instant forecasts start at.
#[derive(Debug, Clone)]
pub struct LakeHistory {
    /// Per queue.
    pub queues: BTreeMap<String, QueueHistory>,
    /// The first forecast interval (Unix seconds): the start of the
    /// interval the newest line falls in.
    pub origin_s: i64,
}

/// Reads the histories of `queues` (all the session sees when empty) over
/// the last `weeks` weeks on the `step_s` grid.
pub async fn read(
    engine: &QueryEngine,
    queues: &[String],
    weeks: u32,
    step_s: i64,
) -> Result<Option<LakeHistory>, EngineError> {
    let newest = engine
        .query("SELECT CAST(date_part('epoch', MAX(ts)) AS BIGINT) FROM queue_log")
        .await?;
    let Some(newest_s) = first_i64(&newest.batches) else {
        return Ok(None);
    };
    let origin_s = newest_s.div_euclid(step_s) * step_s;
    let since_s = origin_s - i64::from(weeks) * 7 * 86_400;
    let result = engine
        .query(&format!(
            "SELECT queue, CAST(date_part('epoch', interval_start) AS BIGINT), \
             CAST(offered AS DOUBLE), CAST(answered AS DOUBLE), CAST(aht_s AS DOUBLE) \
             FROM interval_stats \
             WHERE interval_start >= to_timestamp({since_s}) AND interval_start < to_timestamp({origin_s}) \
             {} ORDER BY 1, 2",
            queue_filter(queues, "AND")
        ))
        .await?;
    let mut points: BTreeMap<String, [Vec<(i64, f64)>; 3]> = BTreeMap::new();
    for batch in &result.batches {
        let queue = batch.column(0).as_string::<i32>();
        let start = batch.column(1).as_primitive::<Int64Type>();
        let columns = [2, 3, 4].map(|c| batch.column(c).as_primitive::<Float64Type>());
        for row in 0..batch.num_rows() {
            if queue.is_null(row) || start.is_null(row) {
                continue;
            }
            let entry = points.entry(queue.value(row).to_owned()).or_default();
            for (series, column) in entry.iter_mut().zip(&columns) {
                if column.is_valid(row) {
                    series.push((start.value(row), column.value(row)));
                }
            }
        }
    }
    let mut histories = BTreeMap::new();
    for (queue, [offered, answered, aht]) in points {
        let grid = |points: &[(i64, f64)]| aligned(points, step_s, since_s, origin_s);
        histories.insert(
            queue,
            QueueHistory {
                offered: grid(&offered),
                answered: grid(&answered),
                aht_s: grid(&aht),
            },
        );
    }
    Ok(Some(LakeHistory {
        queues: histories,
        origin_s,
    }))
}

/// `points` on the grid of `step_s` from the first interval at or after
/// `since_s` that holds a point, up to `end_s` (exclusive); gaps where
/// there is no point.
fn aligned(points: &[(i64, f64)], step_s: i64, since_s: i64, end_s: i64) -> Series {
    let first = points
        .iter()
        .map(|p| p.0)
        .min()
        .unwrap_or(end_s - step_s)
        .max(since_s);
    let len = usize::try_from((end_s - first).div_euclid(step_s)).unwrap_or(0);
    let mut values = vec![None; len];
    for &(t, v) in points {
        if let Ok(slot) = usize::try_from((t - first).div_euclid(step_s))
            && slot < len
            && (t - first) % step_s == 0
        {
            values[slot] = Some(v);
        }
    }
    Series {
        start_s: first,
        step_s,
        values,
    }
}

/// Callers' mean patience per queue, seconds, by the exponential model's
/// estimate: the total time callers waited (answered or not) over the
/// number who abandoned, over the last four weeks up to `until_s`. Queues
/// with fewer than [`MIN_ABANDONS_FOR_PATIENCE`] abandons are left out.
pub async fn patience(
    engine: &QueryEngine,
    queues: &[String],
    until_s: i64,
) -> Result<BTreeMap<String, f64>, EngineError> {
    let since_s = until_s - PATIENCE_WEEKS * 7 * 86_400;
    let result = engine
        .query(&format!(
            "SELECT queue, \
               CAST(SUM(CASE WHEN outcome IN ('answered', 'abandoned') THEN wait_s ELSE 0 END) AS DOUBLE), \
               CAST(SUM(CASE WHEN outcome = 'abandoned' THEN 1 ELSE 0 END) AS BIGINT) \
             FROM calls \
             WHERE enter_ts >= to_timestamp({since_s}) AND enter_ts < to_timestamp({until_s}) {} \
             GROUP BY queue",
            queue_filter(queues, "AND")
        ))
        .await?;
    let mut estimates = BTreeMap::new();
    for batch in &result.batches {
        let queue = batch.column(0).as_string::<i32>();
        let waited = batch.column(1).as_primitive::<Float64Type>();
        let abandons = batch.column(2).as_primitive::<Int64Type>();
        for row in 0..batch.num_rows() {
            if queue.is_null(row) || waited.is_null(row) || abandons.is_null(row) {
                continue;
            }
            let (waited, abandons) = (waited.value(row), abandons.value(row));
            if abandons >= MIN_ABANDONS_FOR_PATIENCE && waited > 0.0 {
                estimates.insert(queue.value(row).to_owned(), waited / abandons as f64);
            }
        }
    }
    Ok(estimates)
}

/// `AND queue IN ('a', 'b')`, or nothing for every queue.
fn queue_filter(queues: &[String], joiner: &str) -> String {
    if queues.is_empty() {
        return String::new();
    }
    let list: Vec<String> = queues
        .iter()
        .map(|q| format!("'{}'", q.replace('\'', "''")))
        .collect();
    format!("{joiner} queue IN ({})", list.join(", "))
}

fn first_i64(batches: &[RecordBatch]) -> Option<i64> {
    let batch = batches.iter().find(|b| b.num_rows() > 0)?;
    let column = batch.column(0).as_primitive::<Int64Type>();
    column.is_valid(0).then(|| column.value(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_align_to_the_grid_up_to_the_origin() {
        let s = aligned(&[(1800, 3.0), (5400, 5.0), (9000, 9.0)], 1800, 0, 9000);
        assert_eq!(s.start_s, 1800);
        // 1800, 3600 (gap), 5400; 9000 is the origin's interval: not history.
        assert_eq!(s.values, vec![Some(3.0), None, Some(5.0), None]);
        assert_eq!(s.end_s(), 9000);
        assert_eq!(queue_filter(&[], "AND"), "");
        assert_eq!(
            queue_filter(&["o'neil".into(), "b".into()], "AND"),
            "AND queue IN ('o''neil', 'b')"
        );
    }
}
