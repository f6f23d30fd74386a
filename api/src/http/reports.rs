//! Reports over HTTP: the list (every human role), run now, job status
//! and history, and file downloads (manager, admin). A scoped token runs
//! reports only over its queues and sees only jobs within them.

use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Extension, Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{NaiveDate, Utc};
use queuelake_engine::scope::Scope;
use queuelake_reports::definition::{Format, ReportDefinition};
use queuelake_reports::period::Period;
use serde::{Deserialize, Serialize};

use super::AppState;
use super::error::{AppError, Location, Problem};
use super::json::ApiJson;
use crate::auth::Principal;
use crate::reports::service::{RequestError, RunRequest};
use crate::reports::store::{JobRecord, StoreError};

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        AppError::Internal(e.to_string())
    }
}

impl From<RequestError> for AppError {
    fn from(e: RequestError) -> Self {
        match e {
            RequestError::UnknownReport(_) => AppError::NotFound(e.to_string()),
            RequestError::Period(p) => field("period", p.to_string()),
            RequestError::Store(s) => s.into(),
        }
    }
}

fn field(name: &str, detail: String) -> AppError {
    AppError::Unprocessable {
        detail,
        at: Location {
            field: Some(name.into()),
            ..Location::default()
        },
    }
}

/// A report as listed.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ReportView {
    /// Its name (what runs name).
    name: String,
    /// Its title.
    title: String,
    /// Its queries' names, in order.
    queries: Vec<String>,
    /// The period a scheduled run covers.
    period: String,
    /// Its queues (empty: all).
    queues: Vec<String>,
    /// Its formats.
    formats: Vec<String>,
    /// Its cron schedule (six fields, seconds first), if scheduled.
    schedule: Option<String>,
    /// The zone of the schedule and of the period's days.
    time_zone: String,
    /// How many recipients it has (addresses are not shown).
    recipients: usize,
    /// Days outputs are kept.
    retention_days: u32,
    /// One of the built-in reports.
    built_in: bool,
}

fn report_view(d: &ReportDefinition) -> ReportView {
    ReportView {
        name: d.name.clone(),
        title: d.title.clone(),
        queries: d.queries.iter().map(|q| q.name.clone()).collect(),
        period: d.period.clone(),
        queues: d.queues.clone(),
        formats: d.formats.iter().map(Format::to_string).collect(),
        schedule: d.cron.clone(),
        time_zone: d.time_zone.clone(),
        recipients: d.recipients.len(),
        retention_days: d.retention_days,
        built_in: d.built_in,
    }
}

/// `GET /api/v1/reports`: the reports defined.
#[utoipa::path(
    get,
    path = "/api/v1/reports",
    tag = "reports",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Every report, built-in and configured", body = Vec<ReportView>),
        (status = 401, description = "No or unknown token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token's role may not read dashboards", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "The token's rate is exhausted (see Retry-After)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn list(State(state): State<Arc<AppState>>) -> Json<Vec<ReportView>> {
    Json(state.reports.definitions().map(report_view).collect())
}

/// Body of `POST /api/v1/reports/{name}/runs`.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RunBody {
    /// `yesterday`, `last_week`, `last_month` or `custom` (default: the report's).
    period: Option<String>,
    /// First day of a custom period, `YYYY-MM-DD` (local).
    from: Option<String>,
    /// Last day of a custom period, included.
    to: Option<String>,
    /// Only these queues (default: the report's; a scoped token's queues at most).
    queues: Option<Vec<String>>,
    /// Formats: `xlsx`, `pdf`, `csv` (default: the report's).
    formats: Option<Vec<String>>,
    /// E-mail the report's recipients when done (default false).
    #[serde(default)]
    email: bool,
}

/// A queued run.
#[derive(Serialize, utoipa::ToSchema)]
pub struct QueuedView {
    /// The job's id.
    job_id: String,
    /// Where its status is.
    status_url: String,
    /// The period's label.
    period: String,
    /// The period's first instant (RFC 3339).
    period_start: String,
    /// The instant after it.
    period_end: String,
}

fn report_name(path: Result<Path<String>, PathRejection>) -> Result<String, AppError> {
    path.map(|Path(n)| n)
        .map_err(|e| AppError::bad_request(format!("report: {}", e.body_text())))
}

fn date(name: &str, value: Option<&String>) -> Result<Option<NaiveDate>, AppError> {
    value
        .map(|v| {
            NaiveDate::parse_from_str(v, "%Y-%m-%d")
                .map_err(|_| field(name, format!("{name} {v:?} is not YYYY-MM-DD")))
        })
        .transpose()
}

/// The queues a run covers for `principal`: what it asked (or the
/// report's), within its scope.
fn scoped_queues(
    principal: &Principal,
    asked: Option<Vec<String>>,
    defined: &[String],
) -> Result<Option<Vec<String>>, AppError> {
    match &principal.scope {
        Scope::All => Ok(asked),
        Scope::Only { queues, .. } => {
            let wanted = asked.unwrap_or_else(|| defined.to_vec());
            if wanted.is_empty() {
                if queues.is_empty() {
                    return Err(AppError::Forbidden(
                        "this token's scope has no queues to report on".into(),
                    ));
                }
                return Ok(Some(queues.iter().cloned().collect()));
            }
            if let Some(outside) = wanted.iter().find(|q| !queues.contains(*q)) {
                return Err(AppError::Forbidden(format!(
                    "queue {outside:?} is outside this token's scope"
                )));
            }
            Ok(Some(wanted))
        }
    }
}

/// `POST /api/v1/reports/{name}/runs`: queue a run now.
#[utoipa::path(
    post,
    path = "/api/v1/reports/{name}/runs",
    tag = "reports",
    security(("bearer" = [])),
    params(("name" = String, Path, description = "The report")),
    request_body = RunBody,
    responses(
        (status = 202, description = "Queued; poll status_url", body = QueuedView),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or unknown token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token's role may not run reports, or a queue is outside its scope", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such report", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body is too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A wrong field (named in `field`)", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "The token's rate is exhausted (see Retry-After)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn run(
    State(state): State<Arc<AppState>>,
    Extension(principal): Extension<Arc<Principal>>,
    name: Result<Path<String>, PathRejection>,
    ApiJson(body): ApiJson<RunBody>,
) -> Result<Response, AppError> {
    let name = report_name(name)?;
    let definition = state
        .reports
        .runner()
        .definitions()
        .get(&name)
        .ok_or_else(|| RequestError::UnknownReport(name.clone()))?;
    let period_name = body
        .period
        .clone()
        .unwrap_or_else(|| definition.period.clone());
    let period = Period::named(
        &period_name,
        date("from", body.from.as_ref())?,
        date("to", body.to.as_ref())?,
    )
    .map_err(|e| field("period", e.to_string()))?;
    let formats = match body.formats {
        None => None,
        Some(names) if names.is_empty() => {
            return Err(field("formats", "at least one of xlsx, pdf, csv".into()));
        }
        Some(names) => Some(
            names
                .iter()
                .map(|n| n.parse::<Format>().map_err(|e| field("formats", e)))
                .collect::<Result<Vec<_>, _>>()?,
        ),
    };
    let queues = scoped_queues(&principal, body.queues, &definition.queues)?;
    let request = RunRequest {
        report: name,
        period,
        queues,
        formats,
        email: body.email,
    };
    let job = state.reports.job(&request, &principal.name, Utc::now())?;
    let view = QueuedView {
        job_id: String::new(),
        status_url: String::new(),
        period: job.window.label.clone(),
        period_start: job.window.start.to_rfc3339(),
        period_end: job.window.end.to_rfc3339(),
    };
    let id = state.reports.enqueue(job).await?;
    let status_url = format!("/api/v1/reports/jobs/{id}");
    Ok((
        StatusCode::ACCEPTED,
        [(header::LOCATION, status_url.clone())],
        Json(QueuedView {
            job_id: id,
            status_url,
            ..view
        }),
    )
        .into_response())
}

/// Query of `GET /api/v1/reports/jobs`.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct HistoryParams {
    /// Only this report's jobs.
    report: Option<String>,
    /// At most this many (1–500, default 50).
    #[param(minimum = 1, maximum = 500)]
    limit: Option<u32>,
}

/// Whether `principal` may see `job`.
fn visible(principal: &Principal, job: &JobRecord) -> bool {
    match &principal.scope {
        Scope::All => true,
        Scope::Only { queues, .. } => {
            !job.queues.is_empty() && job.queues.iter().all(|q| queues.contains(q))
        }
    }
}

/// `GET /api/v1/reports/jobs`: the latest jobs, newest first.
#[utoipa::path(
    get,
    path = "/api/v1/reports/jobs",
    tag = "reports",
    security(("bearer" = [])),
    params(HistoryParams),
    responses(
        (status = 200, description = "Jobs with status, attempts, outcome or error", body = Vec<JobRecord>),
        (status = 400, description = "A malformed parameter", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or unknown token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token's role may not run reports", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "The token's rate is exhausted (see Retry-After)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn history(
    State(state): State<Arc<AppState>>,
    Extension(principal): Extension<Arc<Principal>>,
    params: Result<Query<HistoryParams>, QueryRejection>,
) -> Result<Json<Vec<JobRecord>>, AppError> {
    let Query(params) = params.map_err(|e| AppError::bad_request(e.body_text()))?;
    let limit = params.limit.unwrap_or(50);
    if !(1..=500).contains(&limit) {
        return Err(AppError::bad_request(format!("limit {limit}: 1 to 500")));
    }
    let jobs = state
        .reports
        .store()
        .history(params.report.as_deref(), limit)
        .await?;
    Ok(Json(
        jobs.into_iter()
            .filter(|j| visible(&principal, j))
            .collect(),
    ))
}

fn job_id(path: Result<Path<String>, PathRejection>) -> Result<String, AppError> {
    path.map(|Path(id)| id)
        .map_err(|e| AppError::bad_request(format!("job id: {}", e.body_text())))
}

async fn visible_job(
    state: &AppState,
    principal: &Principal,
    id: &str,
) -> Result<JobRecord, AppError> {
    let not_found = || AppError::NotFound(format!("no report job {id:?}"));
    let valid = id.len() == 26 && id.chars().all(|c| c.is_ascii_alphanumeric());
    if !valid {
        return Err(not_found());
    }
    let job = state.reports.store().get(id).await?.ok_or_else(not_found)?;
    if visible(principal, &job) {
        Ok(job)
    } else {
        Err(not_found())
    }
}

/// `GET /api/v1/reports/jobs/{id}`: one job's status.
#[utoipa::path(
    get,
    path = "/api/v1/reports/jobs/{id}",
    tag = "reports",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The job (as POST …/runs returned it)")),
    responses(
        (status = 200, description = "Status, attempts, outcome (files) or error", body = JobRecord),
        (status = 400, description = "The id is not UTF-8", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or unknown token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token's role may not run reports", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such job", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "The token's rate is exhausted (see Retry-After)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn status(
    State(state): State<Arc<AppState>>,
    Extension(principal): Extension<Arc<Principal>>,
    id: Result<Path<String>, PathRejection>,
) -> Result<Json<JobRecord>, AppError> {
    let id = job_id(id)?;
    Ok(Json(visible_job(&state, &principal, &id).await?))
}

/// `GET /api/v1/reports/jobs/{id}/files/{file}`: one output file.
#[utoipa::path(
    get,
    path = "/api/v1/reports/jobs/{id}/files/{file}",
    tag = "reports",
    security(("bearer" = [])),
    params(
        ("id" = String, Path, description = "The job"),
        ("file" = String, Path, description = "A file its outcome lists"),
    ),
    responses(
        (status = 200, description = "The file", content(
            (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
            (Vec<u8> = "application/pdf"),
            (String = "text/csv"),
        )),
        (status = 400, description = "A path segment is not UTF-8", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or unknown token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token's role may not run reports", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such job or file (or it was removed after its retention)", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "The token's rate is exhausted (see Retry-After)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn download(
    State(state): State<Arc<AppState>>,
    Extension(principal): Extension<Arc<Principal>>,
    path: Result<Path<(String, String)>, PathRejection>,
) -> Result<Response, AppError> {
    let Path((id, file)) =
        path.map_err(|e| AppError::bad_request(format!("path: {}", e.body_text())))?;
    let job = visible_job(&state, &principal, &id).await?;
    let missing = || AppError::NotFound(format!("job {id} has no file {file:?}"));
    let listed = job
        .outcome
        .as_ref()
        .is_some_and(|o| o.files.contains(&file));
    let stored = job.job.as_ref().ok_or_else(missing)?;
    if !listed {
        return Err(missing());
    }
    let path = stored.folder(state.reports.runner().root()).join(&file);
    let bytes = tokio::fs::read(&path).await.map_err(|_| missing())?;
    let mime = file
        .rsplit_once('.')
        .and_then(|(_, ext)| ext.parse::<Format>().ok())
        .map_or("application/octet-stream", Format::mime);
    Ok((
        [
            (header::CONTENT_TYPE, mime.to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{file}\""),
            ),
        ],
        bytes,
    )
        .into_response())
}
