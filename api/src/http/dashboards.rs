//! The web UI: the files of `dashboards/` (plain HTML, CSS and ES
//! modules, no build step) compiled into the binary and served at `/`
//! and `/ui/…`. They hold no data: the pages sign in with a token and
//! read everything from `/api/v1` with it, so the UI works offline and
//! shows only what the token's role and scope allow.

use axum::extract::Path;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

use super::error::AppError;

/// A compiled-in file: name under `dashboards/`, content type, bytes.
type Asset = (&'static str, &'static str, &'static [u8]);

macro_rules! asset {
    ($name:literal, $kind:expr) => {
        (
            $name,
            $kind,
            include_bytes!(concat!("../../../dashboards/", $name)),
        )
    };
}

const JS: &str = "text/javascript; charset=utf-8";

/// Every file of `dashboards/` but `index.html`.
const ASSETS: &[Asset] = &[
    asset!("app.css", "text/css; charset=utf-8"),
    asset!("app.js", JS),
    asset!("api.js", JS),
    asset!("charts.js", JS),
    asset!("format.js", JS),
    asset!("pages/wallboard.js", JS),
    asset!("pages/intervals.js", JS),
    asset!("pages/forecast.js", JS),
    asset!("pages/staffing.js", JS),
    asset!("pages/pacing.js", JS),
    asset!("pages/reports.js", JS),
    asset!("pages/sql.js", JS),
    asset!("favicon.svg", "image/svg+xml"),
];

/// The pages may load only their own files and talk only to this server.
const POLICY: &str = "default-src 'self'; img-src 'self' data: blob:; style-src 'self'; \
                      script-src 'self'; connect-src 'self'; object-src 'none'; \
                      base-uri 'none'; frame-ancestors 'none'";

fn respond(kind: &'static str, body: &'static [u8]) -> Response {
    let mut response = ([(header::CONTENT_TYPE, kind)], body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(POLICY),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

/// `GET /`: the single page.
pub async fn index() -> Response {
    respond(
        "text/html; charset=utf-8",
        include_bytes!("../../../dashboards/index.html"),
    )
}

/// `GET /ui/{file}`: a script, the style sheet or the icon.
pub async fn asset(Path(file): Path<String>) -> Response {
    match ASSETS.iter().find(|(name, _, _)| *name == file) {
        Some((_, kind, body)) => respond(kind, body),
        None => AppError::NotFound(format!("no dashboard file {file:?}")).into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every module a page imports is served (a missing entry would
    /// break the UI only in a browser).
    #[test]
    fn every_import_of_the_pages_is_a_served_file() {
        let index = include_str!("../../../dashboards/index.html");
        let mut sources: Vec<(&str, String)> = vec![("index.html", index.to_owned())];
        for (name, _, body) in ASSETS {
            sources.push((name, String::from_utf8_lossy(body).into_owned()));
        }
        let mut checked = 0;
        for (from, text) in &sources {
            let folder = from.rsplit_once('/').map_or("", |(f, _)| f);
            for quoted in text.split(['"', '\'']).filter(|s| s.ends_with(".js")) {
                let target = quoted.trim_start_matches("/ui/");
                let resolved = match target.strip_prefix("./") {
                    Some(rest) if !folder.is_empty() => format!("{folder}/{rest}"),
                    Some(rest) => rest.to_owned(),
                    None => match target.strip_prefix("../") {
                        Some(rest) => rest.to_owned(),
                        None => target.to_owned(),
                    },
                };
                assert!(
                    ASSETS.iter().any(|(name, _, _)| *name == resolved),
                    "{from} imports {quoted}, which is not served"
                );
                checked += 1;
            }
        }
        assert!(checked >= ASSETS.len() - 3, "only {checked} imports found");
    }
}
