//! The scheduled planning run: every `[forecast] every_hours`, every
//! queue is forecast and the run staffed with `[staffing]`. The first
//! run comes when the newest stored run is that old, and not before the
//! service has run for [`SETTLE`] (a lake without runs gets its first
//! then), so restarts neither pile up runs nor compete with start-up.

use std::sync::Arc;
use std::time::Duration;

use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::datatypes::Int64Type;
use queuelake_engine::session::QueryEngine;

use super::runs::{Planner, PlanningError};

/// The least time between start-up and the first scheduled run.
pub const SETTLE: Duration = Duration::from_secs(60);

/// Runs the planner every `every`, forever (the caller aborts the task).
pub async fn run_every(planner: Arc<Planner>, engine: Arc<QueryEngine>, every: Duration) {
    let mut wait = match newest_run_age(&engine).await {
        Some(age) if age < every => every - age,
        _ => Duration::ZERO,
    }
    .max(SETTLE);
    loop {
        tokio::time::sleep(wait).await;
        wait = every;
        run_once(&planner, &engine).await;
    }
}

/// One scheduled run, logged and counted in `queuelake_jobs_total`.
pub async fn run_once(planner: &Planner, engine: &QueryEngine) {
    let started = std::time::Instant::now();
    let result = planner.forecast_and_staff(engine).await;
    let outcome = match &result {
        Ok(_) => "ok",
        Err(PlanningError::NoHistory(_)) => "skipped",
        Err(_) => "failed",
    };
    metrics::counter!("queuelake_jobs_total", "job" => "forecast", "outcome" => outcome)
        .increment(1);
    match result {
        Ok((forecast, staffing)) => tracing::info!(
            forecast_run = %forecast.run_id,
            staffing_run = %staffing.run_id,
            queues = forecast.queues.len(),
            seconds = started.elapsed().as_secs_f64(),
            "scheduled forecast and staffing stored"
        ),
        Err(e @ PlanningError::NoHistory(_)) => {
            tracing::info!(reason = %e, "scheduled forecast skipped")
        }
        Err(e) => tracing::error!(error = %e, "scheduled forecast failed; next at the next period"),
    }
}

/// How long ago the newest forecast run was made.
async fn newest_run_age(engine: &QueryEngine) -> Option<Duration> {
    let result = engine
        .query("SELECT CAST(MAX(created_at) AS BIGINT) FROM forecasts")
        .await
        .ok()?;
    let batch = result.batches.iter().find(|b| b.num_rows() > 0)?;
    let column = batch.column(0).as_primitive::<Int64Type>();
    let newest_us = column.is_valid(0).then(|| column.value(0))?;
    let age_us = chrono::Utc::now().timestamp_micros() - newest_us;
    Some(Duration::from_micros(u64::try_from(age_us).unwrap_or(0)))
}
