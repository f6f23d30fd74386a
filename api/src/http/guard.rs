//! Authentication and authorization of every protected route, decided in
//! one table ([`PROTECTED`]): the bearer token names a caller, the
//! caller's bucket allows the request ([`super::limits`]), and its role
//! has the route's permission ([`crate::auth::role`]). A route missing
//! from the table is refused (fail closed). The caller reaches handlers as
//! an `Extension<Arc<Principal>>`. Routes registered outside this layer
//! (`/healthz`, `/readyz`, the docs page's and the dashboards' static
//! assets, which hold no data) are open.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::{Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::AppState;
use super::error::AppError;
use super::limits::Rate;
use crate::auth::{Permission, Principal, Role};

/// Every protected route: method, path pattern, what it needs.
pub const PROTECTED: &[(Method, &str, Permission)] = &[
    (Method::POST, "/api/v1/sql", Permission::Sql),
    (Method::GET, "/api/v1/live/queues", Permission::Read),
    (Method::GET, "/api/v1/live/campaigns", Permission::Read),
    (Method::GET, "/api/v1/live/stream", Permission::Read),
    (Method::GET, "/api/v1/me", Permission::ApiDocs),
    (Method::GET, "/api/v1/intervals", Permission::Read),
    (Method::GET, "/api/v1/forecasts", Permission::Read),
    (Method::POST, "/api/v1/forecasts", Permission::Plan),
    (Method::GET, "/api/v1/forecasts/{run}", Permission::Read),
    (
        Method::GET,
        "/api/v1/forecasts/{run}/accuracy",
        Permission::Read,
    ),
    (Method::GET, "/api/v1/staffing", Permission::Read),
    (Method::POST, "/api/v1/staffing", Permission::Plan),
    (Method::GET, "/api/v1/staffing/{run}", Permission::Read),
    (Method::GET, "/api/v1/schedules", Permission::Read),
    (Method::POST, "/api/v1/schedules", Permission::Plan),
    (Method::GET, "/api/v1/schedules/{id}", Permission::Read),
    (
        Method::POST,
        "/api/v1/schedules/{id}/edits",
        Permission::Plan,
    ),
    (
        Method::POST,
        "/api/v1/schedules/{id}/publish",
        Permission::Plan,
    ),
    (Method::GET, "/api/v1/pacing", Permission::Read),
    (Method::GET, "/api/v1/pacing/{campaign}", Permission::Pacing),
    (
        Method::GET,
        "/api/v1/pacing/{campaign}/stream",
        Permission::Pacing,
    ),
    (Method::GET, "/api/v1/reports", Permission::Read),
    (
        Method::POST,
        "/api/v1/reports/{name}/runs",
        Permission::Reports,
    ),
    (Method::GET, "/api/v1/reports/jobs", Permission::Reports),
    (
        Method::GET,
        "/api/v1/reports/jobs/{id}",
        Permission::Reports,
    ),
    (
        Method::GET,
        "/api/v1/reports/jobs/{id}/files/{file}",
        Permission::Reports,
    ),
    (Method::GET, "/api/v1/openapi.json", Permission::ApiDocs),
    (Method::GET, "/metrics", Permission::Metrics),
];

/// The middleware (a route layer: it sees the matched pattern).
pub async fn authorize(
    State(state): State<Arc<AppState>>,
    mut request: Request,
    next: Next,
) -> Response {
    match check(&state, &request) {
        Ok(principal) => {
            tracing::Span::current().record("token", principal.name.as_str());
            request.extensions_mut().insert(principal);
            next.run(request).await
        }
        Err(e) => e.into_response(),
    }
}

fn check(state: &AppState, request: &Request) -> Result<Arc<Principal>, AppError> {
    let pattern = request
        .extensions()
        .get::<MatchedPath>()
        .map(MatchedPath::as_str)
        .unwrap_or_default();
    let needs = PROTECTED
        .iter()
        .find(|(method, path, _)| method == request.method() && *path == pattern)
        .map(|(_, _, permission)| *permission)
        .ok_or_else(|| AppError::Internal(format!("route {pattern} has no access rule")))?;
    let principal = caller(state, request)?;
    state
        .rate_limiter
        .check(&principal.name, rate_of(state, &principal))?;
    if !principal.may(needs) {
        return Err(AppError::Forbidden(format!(
            "token {:?} has role {}, which may not {}; roles that may: {}",
            principal.name,
            principal.role.as_str(),
            describe(needs),
            roles_with(needs)
        )));
    }
    Ok(principal)
}

/// The caller the `Authorization: Bearer` header names.
fn caller(state: &AppState, request: &Request) -> Result<Arc<Principal>, AppError> {
    let Some(value) = request.headers().get(header::AUTHORIZATION) else {
        return Err(AppError::Unauthenticated(
            "no token: send `Authorization: Bearer <token>`".into(),
        ));
    };
    let token = value
        .to_str()
        .ok()
        .and_then(|v| {
            let (scheme, rest) = v.split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then(|| rest.trim())
        })
        .ok_or_else(|| {
            AppError::Unauthenticated("the Authorization header is not `Bearer <token>`".into())
        })?;
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|info| info.0.ip());
    if let Some(principal) = state.tokens.verify(token) {
        return Ok(principal);
    }
    if let Some(peer) = peer {
        if let Err(wait) = state.auth_failures.admit(peer) {
            return Err(AppError::TooManyRequests {
                detail: format!("too many failed sign-ins from {peer}; retry shortly"),
                retry_after_s: wait.as_secs().max(1),
            });
        }
        state.auth_failures.failed(peer, "http");
    }
    Err(AppError::Unauthenticated("unknown token".into()))
}

/// The rate `principal` is held to: its own, else the server's.
pub fn rate_of(state: &AppState, principal: &Principal) -> Rate {
    Rate {
        per_second: principal
            .requests_per_second
            .unwrap_or(state.rate.per_second),
        burst: principal.burst.unwrap_or(state.rate.burst),
    }
}

fn describe(permission: Permission) -> &'static str {
    match permission {
        Permission::Read => "read dashboards and live state",
        Permission::Sql => "run SQL",
        Permission::Plan => "change forecasts, staffing or schedules",
        Permission::Reports => "run or download reports",
        Permission::Pacing => "read pacing targets",
        Permission::Metrics => "read metrics",
        Permission::ApiDocs => "read the API description",
    }
}

fn roles_with(permission: Permission) -> String {
    Role::ALL
        .iter()
        .filter(|r| r.may(permission))
        .map(|r| r.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}
