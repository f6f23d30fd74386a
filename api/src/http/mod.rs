//! The HTTP API (axum). Errors are mapped to responses in exactly one
//! place, [`AppError`]: 4xx bodies say what was wrong, 5xx bodies stay
//! generic and the cause is logged.
//!
//! Modules: [`live`] serves the live state of queues and campaigns (JSON
//! and Server-Sent Events).

pub mod live;

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use queuelake_engine::EngineError;
use queuelake_engine::output;
use queuelake_engine::session::QueryEngine;
use serde::Deserialize;
use serde_json::json;

/// What handlers share.
pub struct AppState {
    /// The SQL session.
    pub engine: QueryEngine,
    /// Live state: the AMI feed (if AMI is configured) and today's totals.
    pub live: live::LiveSource,
}

/// The router of the API.
pub fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(|| async { "ready" }))
        .route("/api/v1/sql", post(sql))
        .route("/api/v1/live/queues", get(live::queues))
        .route("/api/v1/live/campaigns", get(live::campaigns))
        .route("/api/v1/live/stream", get(live::stream))
        .with_state(state)
}

/// Body of `POST /api/v1/sql`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SqlRequest {
    /// The query.
    sql: String,
    /// `json` (default) or `csv`.
    #[serde(default)]
    format: SqlFormat,
}

#[derive(Deserialize, Default, Clone, Copy)]
#[serde(rename_all = "lowercase")]
enum SqlFormat {
    #[default]
    Json,
    Csv,
}

async fn sql(
    State(state): State<Arc<AppState>>,
    body: Result<axum::Json<SqlRequest>, JsonRejection>,
) -> Result<Response, AppError> {
    let axum::Json(request) =
        body.map_err(|e| AppError::BadRequest(format!("request body: {}", e.body_text())))?;
    let started = std::time::Instant::now();
    let result = state.engine.query(&request.sql).await?;
    let elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
    match request.format {
        SqlFormat::Json => {
            let mut value = output::to_json(&result)?;
            value["elapsed_ms"] = json!(elapsed_ms);
            Ok(axum::Json(value).into_response())
        }
        SqlFormat::Csv => Ok((
            [(header::CONTENT_TYPE, "text/csv; charset=utf-8")],
            output::to_csv(&result)?,
        )
            .into_response()),
    }
}

/// Every error a handler can return.
#[derive(Debug)]
pub enum AppError {
    /// The request is wrong; the message says how.
    BadRequest(String),
    /// Something failed on our side.
    Internal(String),
}

impl From<EngineError> for AppError {
    fn from(e: EngineError) -> Self {
        use datafusion_error_kind::is_user_error;
        match &e {
            EngineError::QueryRefused(_)
            | EngineError::QueryTimeout(_)
            | EngineError::InvalidSetting { .. } => AppError::BadRequest(e.to_string()),
            EngineError::DataFusion(df) if is_user_error(df) => {
                AppError::BadRequest(df.strip_backtrace())
            }
            _ => AppError::Internal(e.to_string()),
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let (status, detail) = match self {
            AppError::BadRequest(msg) => (StatusCode::BAD_REQUEST, msg),
            AppError::Internal(cause) => {
                tracing::error!(%cause, "request failed");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal error; see the server log".to_string(),
                )
            }
        };
        let body = json!({"type": "about:blank", "title": status.canonical_reason(), "status": status.as_u16(), "detail": detail});
        (
            status,
            [(header::CONTENT_TYPE, "application/problem+json")],
            body.to_string(),
        )
            .into_response()
    }
}

/// Which DataFusion errors are the query's fault.
mod datafusion_error_kind {
    use datafusion::error::DataFusionError;

    /// Planning, SQL, schema, arrow (casts, division by zero), execution and
    /// resource limits are the query's; I/O, object store and internal
    /// errors are ours.
    pub fn is_user_error(e: &DataFusionError) -> bool {
        match e {
            DataFusionError::Context(_, inner) => is_user_error(inner),
            DataFusionError::Diagnostic(_, inner) => is_user_error(inner),
            DataFusionError::Internal(_)
            | DataFusionError::IoError(_)
            | DataFusionError::ObjectStore(_)
            | DataFusionError::External(_)
            | DataFusionError::ParquetError(_) => false,
            _ => true,
        }
    }
}
