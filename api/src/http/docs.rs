//! The API description: OpenAPI 3 generated from the handlers
//! ([`ApiDoc`]), served at `/api/v1/openapi.json` (any role), and an
//! interactive page at `/api/v1/docs/` built on Swagger UI, whose assets
//! are compiled into the binary (no CDN, works offline). The page's
//! assets hold no data and are open; the page asks for a token and sends
//! it with every request it makes.

use std::sync::{Arc, LazyLock};

use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use utoipa::OpenApi;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};

use super::error::{AppError, Problem};

/// The generated description.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "queuelake",
        description = "Asterisk contact-center analytics: SQL over the lake, live state, interval KPIs, forecasts, staffing, schedules, pacing and reports (the dashboards at / use these routes). Every route but /healthz and /readyz needs `Authorization: Bearer <token>`; errors are RFC 9457 problem documents."
    ),
    paths(
        super::sql,
        super::me,
        super::live::queues,
        super::live::campaigns,
        super::live::stream,
        super::intervals::intervals,
        super::run_lists::forecasts,
        super::run_lists::staffing,
        super::schedules::list,
        super::pacing::overview,
        super::metrics::metrics,
        super::plans::create_forecast,
        super::plans::get_forecast,
        super::plans::forecast_accuracy,
        super::plans::create_staffing,
        super::plans::get_staffing,
        super::schedules::create,
        super::schedules::get,
        super::schedules::edit,
        super::schedules::publish,
        super::pacing::pacing,
        super::pacing::stream,
        super::reports::list,
        super::reports::run,
        super::reports::history,
        super::reports::status,
        super::reports::download,
        openapi_json,
        super::healthz,
        super::readyz,
    ),
    components(schemas(Problem)),
    modifiers(&BearerAuth),
    tags(
        (name = "sql", description = "Read-only SQL over the lake's tables and views"),
        (name = "live", description = "What is happening now"),
        (name = "pacing", description = "Dialer pacing: calls to place now per campaign, inside the abandon limit (decisions recorded in pacing_decisions)"),
        (name = "scheduling", description = "Shift schedules: drafts from a staffing run, edits, publication (tables schedules, schedule_shifts, schedule_coverage)"),
        (name = "planning", description = "Forecast and staffing runs (stored in the `forecasts` and `staffing` tables)"),
        (name = "reports", description = "Reports: definitions, runs on the job queue, status and history, files (xlsx, pdf, csv)"),
        (name = "operations", description = "Health, metrics, identity, this description"),
    )
)]
pub struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "A token from queuelake.toml's [[tokens]] (queuelake init prints the first)",
                    ))
                    .build(),
            ),
        );
    }
}

static SPEC: LazyLock<String> = LazyLock::new(|| ApiDoc::openapi().to_json().unwrap_or_default());

/// `GET /api/v1/openapi.json`.
#[utoipa::path(
    get,
    path = "/api/v1/openapi.json",
    tag = "operations",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "This description (OpenAPI 3)", content_type = "application/json", body = Object),
        (status = 401, description = "No or unknown token", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "The token's rate is exhausted (see Retry-After)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn openapi_json() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], SPEC.as_str()).into_response()
}

/// `GET /api/v1/docs` → the page.
pub async fn docs_root() -> Redirect {
    Redirect::permanent("/api/v1/docs/")
}

/// `GET /api/v1/docs/` and its assets.
pub async fn docs_file(file: Option<Path<String>>) -> Response {
    let file = file.map(|Path(f)| f).unwrap_or_default();
    match file.as_str() {
        "" | "index.html" => html(include_str!("docs/index.html")),
        "queuelake-docs.js" => (
            [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
            include_str!("docs/queuelake-docs.js"),
        )
            .into_response(),
        asset => swagger_asset(asset),
    }
}

fn html(body: &'static str) -> Response {
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], body).into_response()
}

fn swagger_asset(path: &str) -> Response {
    static CONFIG: LazyLock<Arc<utoipa_swagger_ui::Config<'static>>> =
        LazyLock::new(|| Arc::new(utoipa_swagger_ui::Config::from("/api/v1/openapi.json")));
    match utoipa_swagger_ui::serve(path, CONFIG.clone()) {
        Ok(Some(file)) => {
            let mut response = (
                StatusCode::OK,
                [(header::CONTENT_TYPE, file.content_type)],
                file.bytes.into_owned(),
            )
                .into_response();
            if file.gzpipped {
                response.headers_mut().insert(
                    header::CONTENT_ENCODING,
                    axum::http::HeaderValue::from_static("gzip"),
                );
            }
            response
        }
        Ok(None) => AppError::NotFound(format!("no docs asset {path:?}")).into_response(),
        Err(e) => AppError::Internal(format!("docs asset {path}: {e}")).into_response(),
    }
}
