//! The HTTP API (axum).
//!
//! Layers, outermost first: [`request`] (request id, span, access log,
//! metrics), the body limit (413), then per route [`guard`] (token, rate,
//! role). Errors become problem documents in one place ([`error`]).
//!
//! Modules:
//! - [`guard`]: the route → permission table and the auth middleware.
//! - [`request`]: request ids and the access log.
//! - [`error`]: `AppError` → RFC 9457 problem+json.
//! - [`json`]: JSON bodies whose faults name field, line and column.
//! - [`sql_errors`]: whose fault a SQL error is, and where.
//! - [`limits`]: per-token rate limits and query slots.
//! - [`live`]: live state of queues and campaigns (JSON and SSE).
//! - [`intervals`]: a day's interval KPIs per queue (for dashboards).
//! - [`metrics`]: Prometheus `/metrics`.
//! - [`plans`]: forecast and staffing runs.
//! - [`run_lists`]: the stored forecast and staffing runs, newest first.
//! - [`schedules`]: schedule drafts, edits and publication.
//! - [`pacing`]: dialer pacing decisions (JSON and SSE), and every
//!   campaign's for people.
//! - [`reports`]: report list, runs, job status and history, downloads.
//! - [`docs`]: the OpenAPI description and its offline docs page.
//! - [`dashboards`]: the web UI's files (`dashboards/`), compiled in.

pub mod connections;
pub mod dashboards;
pub mod docs;
pub mod error;
pub mod guard;
pub mod intervals;
pub mod json;
pub mod limits;
pub mod live;
pub mod metrics;
pub mod pacing;
pub mod plans;
pub mod reports;
pub mod request;
pub mod run_lists;
pub mod schedules;
pub mod sql_errors;

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{DefaultBodyLimit, Extension, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router, middleware};
use queuelake_engine::output;
use queuelake_engine::session::LakeTables;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::auth::{Principal, Role, TokenRegistry};
use crate::sessions::Sessions;
use error::{AppError, Problem};
use json::ApiJson;
use limits::{AuthFailures, QuerySlots, Rate, RateLimiter};

/// What handlers share.
pub struct AppState {
    /// SQL sessions per scope.
    pub sessions: Sessions,
    /// The lake's live tables (for ingest metrics).
    pub tables: LakeTables,
    /// Live state: the AMI feed (if AMI is configured) and today's totals.
    pub live: live::LiveSource,
    /// The accepted tokens.
    pub tokens: TokenRegistry,
    /// Per-token request buckets.
    pub rate_limiter: RateLimiter,
    /// Failed sign-ins per peer (HTTP and the PostgreSQL port).
    pub auth_failures: AuthFailures,
    /// The server's default rate per token.
    pub rate: Rate,
    /// Slots queries run in (shared with the PostgreSQL port).
    pub query_slots: QuerySlots,
    /// Forecast and staffing runs.
    pub planner: crate::planning::runs::SharedPlanner,
    /// Schedule drafts and publication.
    pub scheduling: crate::scheduling::service::SharedScheduling,
    /// Dialer pacing.
    pub pacing: Arc<crate::pacing::service::Pacing>,
    /// Reports and their job queue.
    pub reports: Arc<crate::reports::service::Reports>,
}

impl AppState {
    /// The SQL session of `principal`'s scope (every token has one).
    pub fn session_for(
        &self,
        principal: &Principal,
    ) -> Result<Arc<queuelake_engine::session::QueryEngine>, AppError> {
        self.sessions
            .for_principal(principal)
            .ok_or_else(|| AppError::Internal(format!("no session for {:?}", principal.name)))
    }
}

/// An instant (epoch µs) as the API writes plan, schedule and interval
/// times: RFC 3339 in UTC to the second, `2024-03-05T09:00:00Z`.
pub fn utc_text(unix_us: i64) -> String {
    chrono::DateTime::from_timestamp_micros(unix_us)
        .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_default()
}

/// The router of the API; `max_body_bytes` bounds request bodies.
pub fn router(state: Arc<AppState>, max_body_bytes: usize) -> Router {
    let protected = Router::new()
        .route("/api/v1/sql", post(sql))
        .route("/api/v1/live/queues", get(live::queues))
        .route("/api/v1/live/campaigns", get(live::campaigns))
        .route("/api/v1/live/stream", get(live::stream))
        .route("/api/v1/me", get(me))
        .route("/api/v1/intervals", get(intervals::intervals))
        .route(
            "/api/v1/forecasts",
            get(run_lists::forecasts).post(plans::create_forecast),
        )
        .route("/api/v1/forecasts/{run}", get(plans::get_forecast))
        .route(
            "/api/v1/forecasts/{run}/accuracy",
            get(plans::forecast_accuracy),
        )
        .route(
            "/api/v1/staffing",
            get(run_lists::staffing).post(plans::create_staffing),
        )
        .route("/api/v1/staffing/{run}", get(plans::get_staffing))
        .route(
            "/api/v1/schedules",
            get(schedules::list).post(schedules::create),
        )
        .route("/api/v1/schedules/{id}", get(schedules::get))
        .route("/api/v1/schedules/{id}/edits", post(schedules::edit))
        .route("/api/v1/schedules/{id}/publish", post(schedules::publish))
        .route("/api/v1/pacing", get(pacing::overview))
        .route("/api/v1/pacing/{campaign}", get(pacing::pacing))
        .route("/api/v1/pacing/{campaign}/stream", get(pacing::stream))
        .route("/api/v1/reports", get(reports::list))
        .route("/api/v1/reports/{name}/runs", post(reports::run))
        .route("/api/v1/reports/jobs", get(reports::history))
        .route("/api/v1/reports/jobs/{id}", get(reports::status))
        .route(
            "/api/v1/reports/jobs/{id}/files/{file}",
            get(reports::download),
        )
        .route("/api/v1/openapi.json", get(docs::openapi_json))
        .route("/metrics", get(metrics::metrics))
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            guard::authorize,
        ));
    Router::new()
        .merge(protected)
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/", get(dashboards::index))
        .route("/ui/{*file}", get(dashboards::asset))
        .route("/api/v1/docs", get(docs::docs_root))
        .route("/api/v1/docs/", get(docs::docs_file))
        .route("/api/v1/docs/{*file}", get(docs::docs_file))
        .route_layer(middleware::from_fn(request::label_route))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(max_body_bytes))
        .layer(middleware::from_fn_with_state(
            max_body_bytes,
            limits::declared_length,
        ))
        .layer(middleware::from_fn(request::track))
        .with_state(state)
}

async fn not_found() -> AppError {
    AppError::NotFound("no such route; GET /api/v1/docs/ lists them".into())
}

async fn method_not_allowed() -> AppError {
    AppError::MethodNotAllowed("this route does not take that method".into())
}

/// `GET /healthz`: the process answers.
#[utoipa::path(get, path = "/healthz", tag = "operations",
    responses((status = 200, description = "The process is up", body = String)))]
pub async fn healthz() -> &'static str {
    "ok"
}

/// `GET /readyz`: the lake is open and the sources started (the service
/// binds its port only after both).
#[utoipa::path(get, path = "/readyz", tag = "operations",
    responses((status = 200, description = "Ready to serve", body = String)))]
pub async fn readyz() -> &'static str {
    "ready"
}

/// Body of `GET /api/v1/me`.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Me {
    /// The token's name.
    name: String,
    /// Its role.
    role: Role,
    /// Queues it may see (absent: all).
    queues: Option<Vec<String>>,
    /// Campaigns it may see (absent: all).
    campaigns: Option<Vec<String>>,
    /// The contact center's time zone (days and intervals follow it).
    time_zone: String,
}

/// `GET /api/v1/me`: who the token is, its role and scope.
#[utoipa::path(
    get,
    path = "/api/v1/me",
    tag = "operations",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller", body = Me),
        (status = 401, description = "No or unknown token", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "The token's rate is exhausted (see Retry-After)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn me(
    State(state): State<Arc<AppState>>,
    Extension(principal): Extension<Arc<Principal>>,
) -> Json<Me> {
    use queuelake_engine::scope::Scope;
    let (queues, campaigns) = match &principal.scope {
        Scope::All => (None, None),
        Scope::Only { queues, campaigns } => (
            Some(queues.iter().cloned().collect()),
            Some(campaigns.iter().cloned().collect()),
        ),
    };
    Json(Me {
        name: principal.name.clone(),
        role: principal.role,
        queues,
        campaigns,
        time_zone: state.live.time_zone().to_owned(),
    })
}

/// Body of `POST /api/v1/sql`.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SqlRequest {
    /// One read-only statement (SELECT, WITH, EXPLAIN, SHOW).
    sql: String,
    /// `json` (default) or `csv`.
    #[serde(default)]
    format: SqlFormat,
}

/// Result formats of `POST /api/v1/sql`.
#[derive(Deserialize, Default, Clone, Copy, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum SqlFormat {
    /// `{"columns", "rows", "row_count", "elapsed_ms"}`.
    #[default]
    Json,
    /// CSV with a header row.
    Csv,
}

/// The JSON answer of `POST /api/v1/sql`.
#[derive(Serialize, utoipa::ToSchema)]
pub struct SqlResult {
    /// Name and type of each column.
    columns: Vec<SqlColumn>,
    /// The rows, each an array of cells in column order.
    rows: Vec<Vec<serde_json::Value>>,
    /// Number of rows.
    row_count: u64,
    /// Time taken, in milliseconds.
    elapsed_ms: f64,
}

/// A result column.
#[derive(Serialize, utoipa::ToSchema)]
pub struct SqlColumn {
    /// Its name.
    name: String,
    /// Its Arrow type.
    #[serde(rename = "type")]
    kind: String,
}

/// `POST /api/v1/sql`: one read-only query over the tables and views the
/// token's scope shows.
#[utoipa::path(
    post,
    path = "/api/v1/sql",
    tag = "sql",
    security(("bearer" = [])),
    request_body = SqlRequest,
    responses(
        (status = 200, description = "The result (JSON, or CSV when format = csv)", body = SqlResult),
        (status = 400, description = "Bad SQL (with line and column), a refused write, a timeout, or malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or unknown token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token's role may not run SQL", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body is larger than [server] max_body_bytes, or the result than [query] max_result_rows / max_result_bytes", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The body has a wrong type or an unknown field (named in `field`)", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "The token's rate or the query slots are exhausted (see Retry-After)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn sql(
    State(state): State<Arc<AppState>>,
    Extension(principal): Extension<Arc<Principal>>,
    ApiJson(request): ApiJson<SqlRequest>,
) -> Result<Response, AppError> {
    let engine = state.session_for(&principal)?;
    let slot = match state.query_slots.acquire().await {
        Ok(slot) => slot,
        Err(e) => {
            metrics::record_query("http", metrics::Outcome::Refused, 0.0);
            return Err(e);
        }
    };
    let started = Instant::now();
    // The query's task keeps the slot until it has really ended.
    let hold: queuelake_engine::query_runtime::Hold = Some(Arc::new(slot));
    let result = engine.query_holding(&request.sql, hold).await;
    let seconds = started.elapsed().as_secs_f64();
    let outcome = match &result {
        Ok(_) => metrics::Outcome::Ok,
        Err(
            queuelake_engine::EngineError::QueryRefused(_)
            | queuelake_engine::EngineError::StatementTooComplex(_)
            | queuelake_engine::EngineError::ResultTooLarge(_),
        ) => metrics::Outcome::Refused,
        Err(_) => metrics::Outcome::Error,
    };
    metrics::record_query("http", outcome, seconds);
    let result = result?;
    // Rendering a large result is the query's work too: off the runtime
    // that serves other requests.
    let format = request.format;
    let (content_type, body) = tokio::task::spawn_blocking(move || match format {
        SqlFormat::Json => {
            let mut value = output::to_json(&result)?;
            value["elapsed_ms"] = json!(seconds * 1000.0);
            let bytes = serde_json::to_vec(&value)
                .map_err(|e| AppError::Internal(format!("rendering JSON: {e}")))?;
            Ok::<_, AppError>(("application/json", bytes))
        }
        SqlFormat::Csv => Ok((
            "text/csv; charset=utf-8",
            output::to_csv(&result)?.into_bytes(),
        )),
    })
    .await
    .map_err(|e| AppError::Internal(format!("rendering the result: {e}")))??;
    Ok(([(header::CONTENT_TYPE, content_type)], body).into_response())
}
