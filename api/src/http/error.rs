//! Every error the API returns, mapped to one RFC 9457 problem document in
//! one place ([`AppError::into_response`]).
//!
//! 4xx bodies say what was wrong and where (`field` for a request body,
//! `line` and `column` for SQL); 5xx bodies are generic, and the cause is
//! logged under the request id the body and the `x-request-id` header
//! carry. The id comes from the request's task ([`RequestId::current`]),
//! so handlers need not pass it.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use queuelake_engine::EngineError;
use serde::Serialize;

use super::request::RequestId;

/// A problem document (`application/problem+json`).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Problem {
    /// A URI naming the kind of problem (`about:blank` for plain HTTP ones).
    #[serde(rename = "type")]
    pub kind: String,
    /// The status's reason phrase.
    pub title: String,
    /// The HTTP status.
    pub status: u16,
    /// What went wrong, for a person.
    pub detail: String,
    /// The request id (also in the `x-request-id` header and the logs).
    pub request_id: String,
    /// The request-body field at fault (a path such as `sql` or `items[2].name`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// Line of the fault (SQL text or JSON body), 1-based.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
    /// Column of the fault, 1-based.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<u64>,
}

/// Every error a handler or layer can return.
#[derive(Debug)]
pub enum AppError {
    /// The request is wrong; `detail` says how, `at` where.
    BadRequest {
        /// What was wrong.
        detail: String,
        /// Where.
        at: Location,
    },
    /// The body is well-formed JSON of the wrong shape (types, fields).
    Unprocessable {
        /// What was wrong.
        detail: String,
        /// Where.
        at: Location,
    },
    /// No or an unknown token.
    Unauthenticated(String),
    /// The token's role may not do this.
    Forbidden(String),
    /// No such resource.
    NotFound(String),
    /// The route does not take this method.
    MethodNotAllowed(String),
    /// The body is larger than allowed.
    PayloadTooLarge(String),
    /// The body is not JSON.
    UnsupportedMediaType(String),
    /// The body did not arrive within its time.
    RequestTimeout(String),
    /// Too many requests or queries; retry after this many seconds.
    TooManyRequests {
        /// What limit was hit.
        detail: String,
        /// When to retry, in seconds.
        retry_after_s: u64,
    },
    /// Something failed on our side (logged; the client sees a generic text).
    Internal(String),
}

/// Where in the request a fault is.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Location {
    /// A body field's path.
    pub field: Option<String>,
    /// Line, 1-based.
    pub line: Option<u64>,
    /// Column, 1-based.
    pub column: Option<u64>,
}

impl AppError {
    /// A 400 with no location.
    pub fn bad_request(detail: impl Into<String>) -> Self {
        AppError::BadRequest {
            detail: detail.into(),
            at: Location::default(),
        }
    }

    fn status(&self) -> StatusCode {
        match self {
            AppError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            AppError::Unprocessable { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
            AppError::Forbidden(_) => StatusCode::FORBIDDEN,
            AppError::NotFound(_) => StatusCode::NOT_FOUND,
            AppError::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            AppError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            AppError::RequestTimeout(_) => StatusCode::REQUEST_TIMEOUT,
            AppError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The problem document for this error under request `id`.
    pub fn problem(self, id: &RequestId) -> (StatusCode, Problem, Option<u64>) {
        let status = self.status();
        let mut retry = None;
        let (detail, at) = match self {
            AppError::BadRequest { detail, at } | AppError::Unprocessable { detail, at } => {
                (detail, at)
            }
            AppError::TooManyRequests {
                detail,
                retry_after_s,
            } => {
                retry = Some(retry_after_s);
                (detail, Location::default())
            }
            AppError::Internal(cause) => {
                tracing::error!(request_id = %id, %cause, "request failed");
                (
                    format!("internal error; the server log has it under request id {id}"),
                    Location::default(),
                )
            }
            AppError::Unauthenticated(d)
            | AppError::Forbidden(d)
            | AppError::NotFound(d)
            | AppError::MethodNotAllowed(d)
            | AppError::PayloadTooLarge(d)
            | AppError::UnsupportedMediaType(d)
            | AppError::RequestTimeout(d) => (d, Location::default()),
        };
        let problem = Problem {
            kind: "about:blank".into(),
            title: status.canonical_reason().unwrap_or("Error").into(),
            status: status.as_u16(),
            detail,
            request_id: id.to_string(),
            field: at.field,
            line: at.line,
            column: at.column,
        };
        (status, problem, retry)
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let id = RequestId::current();
        let unauthenticated = matches!(self, AppError::Unauthenticated(_));
        let (status, problem, retry) = self.problem(&id);
        let body = serde_json::to_string(&problem).unwrap_or_default();
        let mut response = (
            status,
            [(header::CONTENT_TYPE, "application/problem+json")],
            body,
        )
            .into_response();
        let headers = response.headers_mut();
        if unauthenticated {
            headers.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"queuelake\""),
            );
        }
        if let Some(seconds) = retry {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

impl From<EngineError> for AppError {
    fn from(e: EngineError) -> Self {
        use super::sql_errors::{is_user_error, sql_location};
        match &e {
            EngineError::QueryRefused(msg) => AppError::BadRequest {
                at: sql_location(msg),
                detail: msg.clone(),
            },
            EngineError::QueryTimeout(_)
            | EngineError::InvalidSetting { .. }
            | EngineError::StatementTooComplex(_)
            | EngineError::QueryPanicked(_)
            | EngineError::QueryCancelled => AppError::bad_request(e.to_string()),
            EngineError::ResultTooLarge(detail) => AppError::PayloadTooLarge(detail.clone()),
            EngineError::DataFusion(df) if is_user_error(df) => {
                let detail = df.strip_backtrace();
                AppError::BadRequest {
                    at: sql_location(&detail),
                    detail,
                }
            }
            _ => AppError::Internal(e.to_string()),
        }
    }
}
