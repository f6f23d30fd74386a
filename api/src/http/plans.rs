//! Forecast and staffing runs over HTTP: planners make them (`POST`),
//! every human role reads them (`GET`). Runs are made and read through the
//! caller's session, so a scoped token forecasts, staffs and sees only its
//! queues.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::PathRejection;
use axum::extract::{Extension, Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use queuelake_engine::plans::{BacktestScores, ForecastRow, StaffingRow};
use queuelake_scheduler::staffing::StaffingError;
use serde::{Deserialize, Serialize};

use super::error::{AppError, Location, Problem};
use super::json::ApiJson;
use super::{AppState, utc_text};
use crate::auth::Principal;
use crate::config::StaffingSection;
use crate::planning::runs::{
    self, ForecastRequest, ForecastRun, PlanningError, RunAccuracy, StaffRequest, StaffingRun,
};
use crate::planning::settings::{StaffMethod, parse_horizon, staff_rule};

impl From<PlanningError> for AppError {
    fn from(e: PlanningError) -> Self {
        let unprocessable = |detail: String, field: Option<&str>| AppError::Unprocessable {
            detail,
            at: Location {
                field: field.map(str::to_owned),
                ..Location::default()
            },
        };
        match e {
            PlanningError::NoRun(_) => AppError::NotFound(e.to_string()),
            PlanningError::NoHistory(_) => unprocessable(e.to_string(), Some("queues")),
            PlanningError::Staffing { ref source, .. } => {
                // The request field behind the scheduler's setting; the
                // forecast's own values (volume, AHT) have none.
                let field = match source {
                    StaffingError::Invalid { name, .. } => match *name {
                        n if n.starts_with("target") => Some("target"),
                        "max occupancy" => Some("max_occupancy"),
                        "patience" => Some("patience_s"),
                        "shrinkage" => Some("shrinkage"),
                        _ => None,
                    },
                    StaffingError::Unreachable(_) => Some("target"),
                };
                unprocessable(e.to_string(), field)
            }
            PlanningError::Engine(engine) => engine.into(),
            PlanningError::ReadOnly(_) | PlanningError::Task(_) => {
                AppError::Internal(e.to_string())
            }
        }
    }
}

/// The `{run}` of the path (a segment that is not UTF-8 is a 400).
fn run_id(path: Result<Path<String>, PathRejection>) -> Result<String, AppError> {
    path.map(|Path(run)| run)
        .map_err(|e| AppError::bad_request(format!("run id: {}", e.body_text())))
}

/// Body of `POST /api/v1/forecasts`.
#[derive(Deserialize, Default, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ForecastBody {
    /// Queues to forecast (absent or empty: every queue the token sees).
    #[serde(default)]
    queues: Vec<String>,
    /// How far ahead: `2w`, `10d`, `36h`, at most 6 weeks (absent: `[forecast] horizon`).
    horizon: Option<String>,
}

/// A model's backtest scores (means over rolling origins).
#[derive(Serialize, utoipa::ToSchema)]
pub struct Scores {
    /// The model.
    model: String,
    /// MASE, scaled by the weekly seasonal naive (below 1 beats it).
    mase: Option<f64>,
    /// WAPE, a share.
    wape: Option<f64>,
    /// sMAPE, a share.
    smape: Option<f64>,
}

/// One queue of a new forecast run.
#[derive(Serialize, utoipa::ToSchema)]
pub struct QueueSummary {
    /// The queue.
    queue: String,
    /// The model chosen by backtest.
    model: String,
    /// Every candidate's backtest.
    backtest: Vec<Scores>,
    /// Open intervals forecast.
    intervals: usize,
}

/// Answer of `POST /api/v1/forecasts`.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ForecastCreated {
    /// The run's id.
    run_id: String,
    /// When it was made (RFC 3339).
    created_at: String,
    /// The first forecast interval.
    origin: String,
    /// Horizon, seconds.
    horizon_s: i64,
    /// Per queue.
    queues: Vec<QueueSummary>,
    /// Where to read it.
    links: BTreeMap<String, String>,
}

/// `POST /api/v1/forecasts`: forecasts the queues' intervals ahead from
/// the lake and stores the run in the `forecasts` table.
#[utoipa::path(
    post,
    path = "/api/v1/forecasts",
    tag = "planning",
    security(("bearer" = [])),
    request_body = ForecastBody,
    responses(
        (status = 201, description = "The run, stored", body = ForecastCreated),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or unknown token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token's role may not plan", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body is too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A wrong field, or no history for a queue (named in `field`)", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "The token's rate or the query slots are exhausted", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn create_forecast(
    State(state): State<Arc<AppState>>,
    Extension(principal): Extension<Arc<Principal>>,
    ApiJson(body): ApiJson<ForecastBody>,
) -> Result<Response, AppError> {
    let horizon_s = body
        .horizon
        .as_deref()
        .map(parse_horizon)
        .transpose()
        .map_err(|reason| AppError::Unprocessable {
            detail: format!("horizon {reason}"),
            at: Location {
                field: Some("horizon".into()),
                ..Location::default()
            },
        })?;
    let engine = state.session_for(&principal)?;
    let _slot = state.query_slots.acquire().await?;
    let run = state
        .planner
        .forecast(
            &engine,
            &ForecastRequest {
                queues: body.queues,
                horizon_s,
            },
        )
        .await?;
    let location = format!("/api/v1/forecasts/{}", run.run_id);
    let created = forecast_created(run, &location);
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Json(created),
    )
        .into_response())
}

fn forecast_created(run: ForecastRun, location: &str) -> ForecastCreated {
    ForecastCreated {
        created_at: utc_text(run.created_at_us),
        origin: utc_text(run.origin_s * 1_000_000),
        horizon_s: run.horizon_s,
        queues: run
            .queues
            .into_iter()
            .map(|q| QueueSummary {
                intervals: q.rows.len(),
                backtest: q
                    .backtest
                    .into_iter()
                    .map(|c| Scores {
                        model: c.model,
                        mase: c.accuracy.map(|a| a.mase),
                        wape: c.accuracy.map(|a| a.wape),
                        smape: c.accuracy.map(|a| a.smape),
                    })
                    .collect(),
                queue: q.queue,
                model: q.model,
            })
            .collect(),
        links: BTreeMap::from([
            ("self".to_owned(), location.to_owned()),
            ("accuracy".to_owned(), format!("{location}/accuracy")),
        ]),
        run_id: run.run_id,
    }
}

/// One forecast interval.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ForecastInterval {
    /// Start (RFC 3339, UTC).
    interval_start: String,
    /// Calls expected.
    volume: f64,
    /// Lower bound of the 90 % prediction interval.
    volume_lo: f64,
    /// Upper bound.
    volume_hi: f64,
    /// Expected AHT, seconds.
    aht_s: Option<f64>,
    /// The special day it falls on.
    #[serde(skip_serializing_if = "Option::is_none")]
    special_day: Option<String>,
}

/// One queue of a stored forecast run.
#[derive(Serialize, utoipa::ToSchema)]
pub struct QueueForecast {
    /// The queue.
    queue: String,
    /// The model.
    model: String,
    /// The model's backtest (MASE, WAPE, sMAPE).
    backtest: Option<Scores>,
    /// Interval length, seconds.
    interval_s: i64,
    /// The open intervals ahead.
    intervals: Vec<ForecastInterval>,
}

/// Answer of `GET /api/v1/forecasts/{run}`.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ForecastDocument {
    /// The run's id.
    run_id: String,
    /// When it was made.
    created_at: String,
    /// Per queue (those the token sees).
    queues: Vec<QueueForecast>,
}

fn scores(model: &str, b: Option<BacktestScores>) -> Option<Scores> {
    b.map(|b| Scores {
        model: model.to_owned(),
        mase: Some(b.mase),
        wape: Some(b.wape),
        smape: Some(b.smape),
    })
}

/// Rows grouped by queue, in order.
fn by_queue<T>(rows: Vec<T>, queue: impl Fn(&T) -> &str) -> Vec<Vec<T>> {
    let mut groups: Vec<Vec<T>> = Vec::new();
    for row in rows {
        match groups.last_mut() {
            Some(g) if g.first().map(&queue) == Some(queue(&row)) => g.push(row),
            _ => groups.push(vec![row]),
        }
    }
    groups
}

/// `GET /api/v1/forecasts/{run}`: a stored forecast run's intervals.
#[utoipa::path(
    get,
    path = "/api/v1/forecasts/{run}",
    tag = "planning",
    security(("bearer" = [])),
    params(("run" = String, Path, description = "The run's id (fc-…)")),
    responses(
        (status = 200, description = "The run", body = ForecastDocument),
        (status = 400, description = "The run id is not UTF-8", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or unknown token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token's role may not read plans", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such run (or none of its queues in the token's scope)", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "The token's rate is exhausted (see Retry-After)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn get_forecast(
    State(state): State<Arc<AppState>>,
    Extension(principal): Extension<Arc<Principal>>,
    run: Result<Path<String>, PathRejection>,
) -> Result<Json<ForecastDocument>, AppError> {
    let run = run_id(run)?;
    let engine = state.session_for(&principal)?;
    let rows = runs::read_forecast(&engine, &run).await?;
    let created_at = rows.first().map_or(0, |r| r.created_at_us);
    let queues = by_queue(rows, |r: &ForecastRow| &r.queue)
        .into_iter()
        .filter_map(|group| {
            let first = group.first()?;
            Some(QueueForecast {
                queue: first.queue.clone(),
                model: first.model.clone(),
                backtest: scores(&first.model, first.backtest),
                interval_s: first.interval_s,
                intervals: group
                    .iter()
                    .map(|r| ForecastInterval {
                        interval_start: utc_text(r.interval_start_us),
                        volume: r.volume,
                        volume_lo: r.volume_lo,
                        volume_hi: r.volume_hi,
                        aht_s: r.aht_s,
                        special_day: r.special_day.clone(),
                    })
                    .collect(),
            })
        })
        .collect();
    Ok(Json(ForecastDocument {
        run_id: run,
        created_at: utc_text(created_at),
        queues,
    }))
}

/// How one queue's forecast did.
#[derive(Serialize, utoipa::ToSchema)]
pub struct QueueAccuracy {
    /// The queue.
    queue: String,
    /// The model.
    model: String,
    /// Its backtest when the run was made.
    backtest: Option<Scores>,
    /// Forecast intervals that have completed with calls.
    intervals_compared: usize,
    /// Mean absolute error, calls per interval.
    mae: Option<f64>,
    /// WAPE, a share.
    wape: Option<f64>,
    /// sMAPE, a share.
    smape: Option<f64>,
    /// (Σ forecast − Σ actual) / Σ actual: positive when over-forecast.
    bias: Option<f64>,
    /// Share of actuals inside the 90 % prediction interval.
    interval_coverage: Option<f64>,
}

impl From<RunAccuracy> for QueueAccuracy {
    fn from(a: RunAccuracy) -> Self {
        QueueAccuracy {
            backtest: scores(&a.model, a.backtest),
            queue: a.queue,
            model: a.model,
            intervals_compared: a.intervals_compared,
            mae: a.mae,
            wape: a.wape,
            smape: a.smape,
            bias: a.bias,
            interval_coverage: a.interval_coverage,
        }
    }
}

/// Answer of `GET /api/v1/forecasts/{run}/accuracy`.
#[derive(Serialize, utoipa::ToSchema)]
pub struct AccuracyDocument {
    /// The run's id.
    run_id: String,
    /// Per queue.
    queues: Vec<QueueAccuracy>,
}

/// `GET /api/v1/forecasts/{run}/accuracy`: the run's backtest, and how it
/// did against `interval_stats` over the intervals that have happened.
#[utoipa::path(
    get,
    path = "/api/v1/forecasts/{run}/accuracy",
    tag = "planning",
    security(("bearer" = [])),
    params(("run" = String, Path, description = "The run's id (fc-…)")),
    responses(
        (status = 200, description = "Accuracy per queue", body = AccuracyDocument),
        (status = 400, description = "The run id is not UTF-8", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or unknown token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token's role may not read plans", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such run", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "The token's rate is exhausted (see Retry-After)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn forecast_accuracy(
    State(state): State<Arc<AppState>>,
    Extension(principal): Extension<Arc<Principal>>,
    run: Result<Path<String>, PathRejection>,
) -> Result<Json<AccuracyDocument>, AppError> {
    let run = run_id(run)?;
    let engine = state.session_for(&principal)?;
    let queues = runs::run_accuracy(&engine, &run).await?;
    Ok(Json(AccuracyDocument {
        run_id: run,
        queues: queues.into_iter().map(QueueAccuracy::from).collect(),
    }))
}

/// Body of `POST /api/v1/staffing`: a forecast run and the rule (absent
/// fields: `[staffing]` of the configuration).
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StaffBody {
    /// The forecast run to staff (fc-…).
    forecast_run: String,
    /// `80/20` or `asa=30`.
    target: Option<String>,
    /// `erlang-a` or `erlang-c`.
    method: Option<String>,
    /// Callers' mean patience, seconds (Erlang A; absent: estimated from the lake's abandons).
    patience_s: Option<f64>,
    /// Share of paid time off the phones, in [0, 1).
    shrinkage: Option<f64>,
    /// Occupancy cap, in (0, 1].
    max_occupancy: Option<f64>,
}

/// Answer of `POST /api/v1/staffing`.
#[derive(Serialize, utoipa::ToSchema)]
pub struct StaffingCreated {
    /// The staffing run's id.
    run_id: String,
    /// The forecast run staffed.
    forecast_run: String,
    /// Intervals staffed.
    intervals: usize,
    /// Mean patience used per queue (Erlang A), seconds.
    patience_s: BTreeMap<String, f64>,
    /// Queues staffed with Erlang C: too few abandons in the lake to estimate patience.
    erlang_c_fallback: Vec<String>,
    /// Where to read it.
    links: BTreeMap<String, String>,
}

/// `POST /api/v1/staffing`: the agents each interval of a forecast run
/// needs, stored in the `staffing` table.
#[utoipa::path(
    post,
    path = "/api/v1/staffing",
    tag = "planning",
    security(("bearer" = [])),
    request_body = StaffBody,
    responses(
        (status = 201, description = "The staffing run, stored", body = StaffingCreated),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or unknown token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token's role may not plan", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such forecast run", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body is too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A wrong field (named in `field`)", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "The token's rate or the query slots are exhausted", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn create_staffing(
    State(state): State<Arc<AppState>>,
    Extension(principal): Extension<Arc<Principal>>,
    ApiJson(body): ApiJson<StaffBody>,
) -> Result<Response, AppError> {
    let defaults = state.planner.settings().staffing;
    let configured = StaffingSection {
        target: body.target.unwrap_or_else(|| defaults.target.to_string()),
        method: body
            .method
            .unwrap_or_else(|| defaults.method.name().replace('_', "-")),
        patience_s: body.patience_s.or(match defaults.method {
            StaffMethod::ErlangA { patience_s } => patience_s,
            StaffMethod::ErlangC => None,
        }),
        shrinkage: body.shrinkage.unwrap_or(defaults.shrinkage),
        max_occupancy: body.max_occupancy.unwrap_or(defaults.max_occupancy),
    };
    let rule = staff_rule(&configured, "").map_err(|e| AppError::Unprocessable {
        detail: e.to_string(),
        at: Location {
            field: Some(e.name.clone()),
            ..Location::default()
        },
    })?;
    let engine = state.session_for(&principal)?;
    let _slot = state.query_slots.acquire().await?;
    let run: StaffingRun = state
        .planner
        .staff(
            &engine,
            &StaffRequest {
                forecast_run: body.forecast_run.clone(),
                rule,
            },
        )
        .await?;
    let location = format!("/api/v1/staffing/{}", run.run_id);
    let created = StaffingCreated {
        intervals: run.rows.len(),
        forecast_run: body.forecast_run,
        patience_s: run.patience_s,
        erlang_c_fallback: run.erlang_c_fallback,
        links: BTreeMap::from([("self".to_owned(), location.clone())]),
        run_id: run.run_id,
    };
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Json(created),
    )
        .into_response())
}

/// One staffed interval.
#[derive(Serialize, utoipa::ToSchema)]
pub struct StaffedInterval {
    /// Start (RFC 3339, UTC).
    interval_start: String,
    /// Calls staffed for.
    volume: f64,
    /// AHT staffed for, seconds.
    aht_s: f64,
    /// Agents on the phones.
    agents_required: i64,
    /// Agents to schedule (shrinkage added).
    agents_with_shrinkage: i64,
    /// Expected service level, a share.
    service_level_expected: f64,
    /// Expected ASA, seconds.
    asa_expected: f64,
    /// Expected occupancy, a share.
    occupancy_expected: f64,
    /// Expected abandon rate, a share.
    abandon_expected: f64,
}

/// One queue of a staffing run.
#[derive(Serialize, utoipa::ToSchema)]
pub struct QueueStaffing {
    /// The queue.
    queue: String,
    /// `erlang_a` or `erlang_c`.
    method: String,
    /// The target.
    target: String,
    /// Mean patience used, seconds.
    patience_s: Option<f64>,
    /// Shrinkage applied.
    shrinkage: f64,
    /// Occupancy cap applied.
    max_occupancy: f64,
    /// Per interval.
    intervals: Vec<StaffedInterval>,
}

/// Answer of `GET /api/v1/staffing/{run}`.
#[derive(Serialize, utoipa::ToSchema)]
pub struct StaffingDocument {
    /// The run's id.
    run_id: String,
    /// The forecast run it staffs.
    forecast_run: Option<String>,
    /// When it was made.
    created_at: String,
    /// Per queue (those the token sees).
    queues: Vec<QueueStaffing>,
}

/// `GET /api/v1/staffing/{run}`: a stored staffing run.
#[utoipa::path(
    get,
    path = "/api/v1/staffing/{run}",
    tag = "planning",
    security(("bearer" = [])),
    params(("run" = String, Path, description = "The run's id (st-…)")),
    responses(
        (status = 200, description = "The run", body = StaffingDocument),
        (status = 400, description = "The run id is not UTF-8", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or unknown token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token's role may not read plans", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such run", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "The token's rate is exhausted (see Retry-After)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn get_staffing(
    State(state): State<Arc<AppState>>,
    Extension(principal): Extension<Arc<Principal>>,
    run: Result<Path<String>, PathRejection>,
) -> Result<Json<StaffingDocument>, AppError> {
    let run = run_id(run)?;
    let engine = state.session_for(&principal)?;
    let rows = runs::read_staffing(&engine, &run).await?;
    let first = rows.first();
    let created_at = utc_text(first.map_or(0, |r| r.created_at_us));
    let forecast_run = first.and_then(|r| r.forecast_run_id.clone());
    let queues = by_queue(rows, |r: &StaffingRow| &r.queue)
        .into_iter()
        .filter_map(|group| {
            let first = group.first()?;
            Some(QueueStaffing {
                queue: first.queue.clone(),
                method: first.method.clone(),
                target: first.target.clone(),
                patience_s: first.patience_s,
                shrinkage: first.shrinkage,
                max_occupancy: first.max_occupancy,
                intervals: group
                    .iter()
                    .map(|r| StaffedInterval {
                        interval_start: utc_text(r.interval_start_us),
                        volume: r.volume,
                        aht_s: r.aht_s,
                        agents_required: r.agents_required,
                        agents_with_shrinkage: r.agents_with_shrinkage,
                        service_level_expected: r.service_level_expected,
                        asa_expected: r.asa_expected,
                        occupancy_expected: r.occupancy_expected,
                        abandon_expected: r.abandon_expected,
                    })
                    .collect(),
            })
        })
        .collect();
    Ok(Json(StaffingDocument {
        run_id: run,
        forecast_run,
        created_at,
        queues,
    }))
}
