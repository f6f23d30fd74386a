//! Schedules over HTTP: planners create drafts from a staffing run, edit
//! them and publish versions; every human role reads them. A scoped token
//! works only on teams whose queues are all in its scope.

use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::PathRejection;
use axum::extract::{Extension, Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::error::{AppError, Location, Problem};
use super::json::ApiJson;
use super::{AppState, utc_text};
use crate::auth::Principal;
use crate::scheduling::draft::{Draft, Edit, Totals};
use crate::scheduling::inputs::SchedulingInputs;
use crate::scheduling::service::{CreateRequest, ScheduleError};
use crate::scheduling::store::StoreError;

impl From<ScheduleError> for AppError {
    fn from(e: ScheduleError) -> Self {
        let unprocessable = |detail: String, field: Option<String>| AppError::Unprocessable {
            detail,
            at: Location {
                field,
                ..Location::default()
            },
        };
        match e {
            ScheduleError::Invalid { ref field, .. } => {
                let field = Some(field.clone());
                unprocessable(e.to_string(), field)
            }
            ScheduleError::NotFound(_) | ScheduleError::Store(StoreError::Missing(_)) => {
                AppError::NotFound(e.to_string())
            }
            ScheduleError::Build(crate::scheduling::build::BuildError::Input(ref input)) => {
                let field = Some(format!("inputs.{}", input.at));
                unprocessable(e.to_string(), field)
            }
            ScheduleError::Build(crate::scheduling::build::BuildError::Solver(_)) => {
                unprocessable(e.to_string(), Some("inputs".into()))
            }
            ScheduleError::Engine(engine) => engine.into(),
            ScheduleError::Store(_) | ScheduleError::ReadOnly(_) | ScheduleError::Task(_) => {
                AppError::Internal(e.to_string())
            }
        }
    }
}

/// Body of `POST /api/v1/schedules`.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateBody {
    /// The staffing run (st-…) whose requirement the schedule covers.
    staffing_run: String,
    /// The Monday of the week, `YYYY-MM-DD`.
    week: String,
    /// The team's queues (absent: every queue of the run).
    #[serde(default)]
    queues: Vec<String>,
    /// Patterns, days off, weights and roster (absent: `[scheduling]`).
    inputs: Option<SchedulingInputs>,
}

/// A break as shown.
#[derive(Serialize, utoipa::ToSchema)]
pub struct BreakView {
    /// Start (RFC 3339).
    start: String,
    /// End.
    end: String,
    /// Paid or not.
    paid: bool,
}

/// A shift as shown.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ShiftView {
    /// Its number (what edits name).
    no: i64,
    /// The pattern it came from.
    pattern: String,
    /// The agent, if rostered.
    agent: Option<String>,
    /// Start (RFC 3339).
    start: String,
    /// End.
    end: String,
    /// Its breaks.
    breaks: Vec<BreakView>,
}

/// One interval's coverage.
#[derive(Serialize, utoipa::ToSchema)]
pub struct CoverageView {
    /// Start (RFC 3339).
    interval_start: String,
    /// Agents required.
    required: f64,
    /// Agents scheduled on the phones.
    scheduled: f64,
}

/// A schedule draft with its coverage.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ScheduleView {
    /// Its id.
    id: String,
    /// The team's queues.
    queues: Vec<String>,
    /// Monday 00:00 of its week.
    week_start: String,
    /// Interval length, seconds.
    interval_s: i64,
    /// The staffing run it covers.
    staffing_run: Option<String>,
    /// Versions published so far.
    published_versions: i64,
    /// The solver's lower bound on the objective (agent-intervals, weighted).
    bound: Option<f64>,
    /// Totals as the shifts stand.
    totals: Totals,
    /// The shifts.
    pub shifts: Vec<ShiftView>,
    /// Coverage of every interval that needs or has agents.
    coverage: Vec<CoverageView>,
}

/// A draft as the API and the CLI show it.
pub fn view(draft: &Draft) -> ScheduleView {
    let patterns: std::collections::HashMap<i64, &str> = draft
        .shifts
        .iter()
        .map(|s| (s.no, s.pattern.as_str()))
        .collect();
    let mut shifts: Vec<ShiftView> = Vec::new();
    for row in crate::scheduling::service::activities(draft) {
        if row.activity == "shift" {
            let pattern = patterns
                .get(&row.shift_no)
                .copied()
                .unwrap_or_default()
                .to_owned();
            shifts.push(ShiftView {
                no: row.shift_no,
                pattern,
                agent: row.agent,
                start: utc_text(row.start_us),
                end: utc_text(row.end_us),
                breaks: Vec::new(),
            });
        } else if let Some(shift) = shifts.last_mut() {
            shift.breaks.push(BreakView {
                start: utc_text(row.start_us),
                end: utc_text(row.end_us),
                paid: row.paid_min > 0,
            });
        }
    }
    let coverage = crate::scheduling::service::coverage_rows(draft)
        .into_iter()
        .filter(|c| c.scheduled > 0.0 || c.required > 0.0)
        .map(|c| CoverageView {
            interval_start: utc_text(c.interval_start_us),
            required: c.required,
            scheduled: c.scheduled,
        })
        .collect();
    ScheduleView {
        id: draft.id.clone(),
        queues: draft.queues.clone(),
        week_start: utc_text(draft.week_start_us),
        interval_s: draft.interval_s,
        staffing_run: draft.staffing_run_id.clone(),
        published_versions: draft.published_versions,
        bound: draft.bound,
        totals: draft.totals(),
        shifts,
        coverage,
    }
}

fn schedule_id(path: Result<Path<String>, PathRejection>) -> Result<String, AppError> {
    path.map(|Path(id)| id)
        .map_err(|e| AppError::bad_request(format!("schedule id: {}", e.body_text())))
}

/// `POST /api/v1/schedules`: a draft covering a staffing run's week.
#[utoipa::path(
    post,
    path = "/api/v1/schedules",
    tag = "scheduling",
    security(("bearer" = [])),
    request_body = CreateBody,
    responses(
        (status = 201, description = "The draft, solved and rostered", body = ScheduleView),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or unknown token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token's role may not plan", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such staffing run", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body is too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A wrong field (named in `field`)", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "The token's rate or the query slots are exhausted", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn create(
    State(state): State<Arc<AppState>>,
    Extension(principal): Extension<Arc<Principal>>,
    ApiJson(body): ApiJson<CreateBody>,
) -> Result<Response, AppError> {
    let week =
        NaiveDate::parse_from_str(&body.week, "%Y-%m-%d").map_err(|_| AppError::Unprocessable {
            detail: format!("week {:?} is not YYYY-MM-DD", body.week),
            at: Location {
                field: Some("week".into()),
                ..Location::default()
            },
        })?;
    let engine = state.session_for(&principal)?;
    let _slot = state.query_slots.acquire().await?;
    let draft = state
        .scheduling
        .create(
            &engine,
            CreateRequest {
                staffing_run: body.staffing_run,
                queues: body.queues,
                week,
                inputs: body.inputs,
            },
        )
        .await?;
    let location = format!("/api/v1/schedules/{}", draft.id);
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Json(view(&draft)),
    )
        .into_response())
}

/// One schedule in the list.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ScheduleSummary {
    /// Its id.
    id: String,
    /// The team's queues.
    queues: Vec<String>,
    /// Monday 00:00 of its week.
    week_start: String,
    /// The staffing run it covers.
    staffing_run: Option<String>,
    /// Versions published so far.
    published_versions: i64,
    /// Totals as the shifts stand.
    totals: Totals,
}

/// `GET /api/v1/schedules`: the schedules whose team the token sees,
/// newest week first.
#[utoipa::path(
    get,
    path = "/api/v1/schedules",
    tag = "scheduling",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The schedules", body = Vec<ScheduleSummary>),
        (status = 401, description = "No or unknown token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token's role may not read plans", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "The token's rate is exhausted (see Retry-After)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn list(
    State(state): State<Arc<AppState>>,
    Extension(principal): Extension<Arc<Principal>>,
) -> Result<Json<Vec<ScheduleSummary>>, AppError> {
    let drafts = state.scheduling.list(&principal.scope)?;
    Ok(Json(
        drafts
            .into_iter()
            .map(|d| ScheduleSummary {
                totals: d.totals(),
                week_start: utc_text(d.week_start_us),
                id: d.id,
                queues: d.queues,
                staffing_run: d.staffing_run_id,
                published_versions: d.published_versions,
            })
            .collect(),
    ))
}

/// `GET /api/v1/schedules/{id}`: a draft with its shifts and coverage.
#[utoipa::path(
    get,
    path = "/api/v1/schedules/{id}",
    tag = "scheduling",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The schedule's id (sc-…)")),
    responses(
        (status = 200, description = "The schedule", body = ScheduleView),
        (status = 400, description = "The id is not UTF-8", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or unknown token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token's role may not read plans", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such schedule in the token's scope", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "The token's rate is exhausted (see Retry-After)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn get(
    State(state): State<Arc<AppState>>,
    Extension(principal): Extension<Arc<Principal>>,
    id: Result<Path<String>, PathRejection>,
) -> Result<Json<ScheduleView>, AppError> {
    let id = schedule_id(id)?;
    let draft = state.scheduling.load(&principal.scope, &id)?;
    Ok(Json(view(&draft)))
}

/// Body of `POST /api/v1/schedules/{id}/edits`.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EditsBody {
    /// Applied in order, all or none.
    edits: Vec<Edit>,
}

/// `POST /api/v1/schedules/{id}/edits`: moves, adds or removes shifts and
/// breaks; the answer carries the coverage they give.
#[utoipa::path(
    post,
    path = "/api/v1/schedules/{id}/edits",
    tag = "scheduling",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The schedule's id (sc-…)")),
    request_body = EditsBody,
    responses(
        (status = 200, description = "The schedule after the edits", body = ScheduleView),
        (status = 400, description = "Malformed JSON or id", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or unknown token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token's role may not plan", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such schedule", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body is too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "An edit that does not fit (named in `field`)", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "The token's rate is exhausted (see Retry-After)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn edit(
    State(state): State<Arc<AppState>>,
    Extension(principal): Extension<Arc<Principal>>,
    id: Result<Path<String>, PathRejection>,
    ApiJson(body): ApiJson<EditsBody>,
) -> Result<Json<ScheduleView>, AppError> {
    let id = schedule_id(id)?;
    let draft = state
        .scheduling
        .edit(&principal.scope, &id, &body.edits)
        .await?;
    Ok(Json(view(&draft)))
}

/// Answer of `POST /api/v1/schedules/{id}/publish`.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Published {
    /// The schedule.
    schedule_id: String,
    /// The version now in the lake's `schedules` tables.
    version: i64,
}

/// `POST /api/v1/schedules/{id}/publish`: the draft as it stands becomes
/// the next immutable version in `schedules`, `schedule_shifts` and
/// `schedule_coverage`.
#[utoipa::path(
    post,
    path = "/api/v1/schedules/{id}/publish",
    tag = "scheduling",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The schedule's id (sc-…)")),
    responses(
        (status = 201, description = "Published", body = Published),
        (status = 400, description = "The id is not UTF-8", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or unknown token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token's role may not plan", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such schedule", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "The token's rate is exhausted (see Retry-After)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn publish(
    State(state): State<Arc<AppState>>,
    Extension(principal): Extension<Arc<Principal>>,
    id: Result<Path<String>, PathRejection>,
) -> Result<Response, AppError> {
    let id = schedule_id(id)?;
    let (draft, version) = state
        .scheduling
        .publish(&principal.scope, &id, &principal.name)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(Published {
            schedule_id: draft.id,
            version,
        }),
    )
        .into_response())
}
