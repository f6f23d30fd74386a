//! `GET /api/v1/forecasts` and `GET /api/v1/staffing`: the stored runs,
//! newest first, so that people (and the dashboards) can pick one
//! without SQL. Read through the caller's session: a scoped token lists
//! only its queues' part of each run.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Extension, State};
use serde::Serialize;

use super::error::{AppError, Problem};
use super::{AppState, utc_text};
use crate::auth::Principal;
use crate::planning::runs::{self, RunKind, RunQueueRow};

/// How many runs a list holds at most (the newest).
const LISTED_RUNS: usize = 100;

/// A stored run.
#[derive(Debug, Serialize, PartialEq, utoipa::ToSchema)]
pub struct RunSummary {
    /// Its id (fc-… or st-…).
    pub run_id: String,
    /// The forecast run a staffing run staffs (absent for forecasts).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub forecast_run: Option<String>,
    /// When it was made (RFC 3339).
    pub created_at: String,
    /// Its queues (those the token sees).
    pub queues: Vec<String>,
    /// Its first interval.
    pub first_interval: String,
    /// Its last interval.
    pub last_interval: String,
}

/// Rows per run and queue (newest run first) as one summary per run.
fn summaries(rows: Vec<RunQueueRow>) -> Vec<RunSummary> {
    let mut out: Vec<(RunSummary, i64, i64)> = Vec::new();
    for row in rows {
        match out.last_mut() {
            Some((summary, first, last)) if summary.run_id == row.run_id => {
                summary.queues.push(row.queue);
                *first = (*first).min(row.first_interval_us);
                *last = (*last).max(row.last_interval_us);
            }
            _ => {
                if out.len() == LISTED_RUNS {
                    break;
                }
                out.push((
                    RunSummary {
                        run_id: row.run_id,
                        forecast_run: row.forecast_run_id,
                        created_at: utc_text(row.created_at_us),
                        queues: vec![row.queue],
                        first_interval: String::new(),
                        last_interval: String::new(),
                    },
                    row.first_interval_us,
                    row.last_interval_us,
                ));
            }
        }
    }
    out.into_iter()
        .map(|(mut summary, first, last)| {
            summary.first_interval = utc_text(first);
            summary.last_interval = utc_text(last);
            summary
        })
        .collect()
}

async fn list(
    state: &AppState,
    principal: &Principal,
    kind: RunKind,
) -> Result<Json<Vec<RunSummary>>, AppError> {
    let engine = state.session_for(principal)?;
    let _slot = state.query_slots.acquire().await?;
    let rows = runs::list_runs(&engine, kind).await?;
    Ok(Json(summaries(rows)))
}

/// `GET /api/v1/forecasts`: the stored forecast runs, newest first (at
/// most 100).
#[utoipa::path(
    get,
    path = "/api/v1/forecasts",
    tag = "planning",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The runs", body = Vec<RunSummary>),
        (status = 401, description = "No or unknown token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token's role may not read plans", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "The token's rate or the query slots are exhausted (see Retry-After)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn forecasts(
    State(state): State<Arc<AppState>>,
    Extension(principal): Extension<Arc<Principal>>,
) -> Result<Json<Vec<RunSummary>>, AppError> {
    list(&state, &principal, RunKind::Forecast).await
}

/// `GET /api/v1/staffing`: the stored staffing runs, newest first (at
/// most 100).
#[utoipa::path(
    get,
    path = "/api/v1/staffing",
    tag = "planning",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The runs", body = Vec<RunSummary>),
        (status = 401, description = "No or unknown token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token's role may not read plans", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "The token's rate or the query slots are exhausted (see Retry-After)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn staffing(
    State(state): State<Arc<AppState>>,
    Extension(principal): Extension<Arc<Principal>>,
) -> Result<Json<Vec<RunSummary>>, AppError> {
    list(&state, &principal, RunKind::Staffing).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(run: &str, queue: &str, created: i64, first: i64, last: i64) -> RunQueueRow {
        RunQueueRow {
            run_id: run.into(),
            forecast_run_id: None,
            queue: queue.into(),
            created_at_us: created,
            first_interval_us: first,
            last_interval_us: last,
        }
    }

    #[test]
    fn rows_per_queue_become_one_summary_per_run_spanning_its_queues() {
        let hour = 3_600_000_000;
        let summaries = summaries(vec![
            row("fc-2", "billing", 2 * hour, 10 * hour, 20 * hour),
            row("fc-2", "sales", 2 * hour, 9 * hour, 19 * hour),
            row("fc-1", "sales", hour, 5 * hour, 6 * hour),
        ]);
        assert_eq!(summaries.len(), 2);
        assert_eq!(summaries[0].run_id, "fc-2");
        assert_eq!(summaries[0].queues, ["billing", "sales"]);
        assert_eq!(summaries[0].first_interval, "1970-01-01T09:00:00Z");
        assert_eq!(summaries[0].last_interval, "1970-01-01T20:00:00Z");
        assert_eq!(summaries[1].created_at, "1970-01-01T01:00:00Z");
        let many: Vec<RunQueueRow> = (0..150)
            .map(|i| row(&format!("fc-{i:03}"), "sales", i, i, i))
            .collect();
        assert_eq!(summaries_len(many), LISTED_RUNS);
    }

    fn summaries_len(rows: Vec<RunQueueRow>) -> usize {
        summaries(rows).len()
    }
}
