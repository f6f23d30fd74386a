//! Prometheus `/metrics`.
//!
//! | metric | type | labels |
//! | ------ | ---- | ------ |
//! | `queuelake_http_requests_total` | counter | `method`, `route`, `status` |
//! | `queuelake_http_request_duration_seconds` | histogram | `route` |
//! | `queuelake_query_duration_seconds` | histogram | `protocol` (`http`, `postgres`) |
//! | `queuelake_queries_total` | counter | `protocol`, `outcome` (`ok`, `error`, `refused`) |
//! | `queuelake_ingest_rows_total` | counter | `table` (`queue_log`, `ami_events`): lines and events read live; `rate()` gives per second |
//! | `queuelake_ingest_lag_seconds` | gauge | `table`: now − the newest row's `ts` |
//! | `queuelake_dead_letters_total` | counter | `table` |
//! | `queuelake_ami_connected` | gauge | 1 when the AMI link is live |
//! | `queuelake_ami_disconnects_total`, `queuelake_ami_resyncs_total`, `queuelake_ami_events_total` | counter | |
//! | `queuelake_postgres_wire_connections` | gauge | open PostgreSQL-wire connections |
//! | `queuelake_jobs_total` | counter | `job` (`calls_rollup`: storing closed days), `outcome` (`ok`, `failed`) |
//!
//! Counters kept elsewhere (rows pushed, AMI link) are read at scrape time.

use std::sync::{Arc, OnceLock};
use std::time::SystemTime;

use axum::extract::State;
use axum::http::{Method, header};
use axum::response::IntoResponse;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

use super::AppState;
use super::error::AppError;

/// Bucket bounds of the latency histograms, in seconds.
const LATENCY_BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0, 30.0,
];

/// The process's recorder (installed once; later calls return it).
pub fn recorder() -> Result<PrometheusHandle, AppError> {
    static HANDLE: OnceLock<Result<PrometheusHandle, String>> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            PrometheusBuilder::new()
                .set_buckets(&LATENCY_BUCKETS)
                .and_then(PrometheusBuilder::install_recorder)
                .map_err(|e| e.to_string())
        })
        .clone()
        .map_err(|e| AppError::Internal(format!("metrics recorder: {e}")))
}

/// A method as a metric label: the standard ones by name, any other as
/// `other` (made-up methods must not each make a new series).
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        Method::CONNECT => "CONNECT",
        Method::TRACE => "TRACE",
        _ => "other",
    }
}

/// Counts and times one HTTP request.
pub fn record_request(method: &Method, route: &str, status: u16, seconds: f64) {
    metrics::counter!(
        "queuelake_http_requests_total",
        "method" => method_label(method),
        "route" => route.to_owned(),
        "status" => status.to_string()
    )
    .increment(1);
    metrics::histogram!("queuelake_http_request_duration_seconds", "route" => route.to_owned())
        .record(seconds);
}

/// How a query ended.
#[derive(Debug, Clone, Copy)]
pub enum Outcome {
    /// Answered.
    Ok,
    /// Failed while planning or running.
    Error,
    /// Refused before running (limits, read-only guard).
    Refused,
}

/// Counts and times one query.
pub fn record_query(protocol: &'static str, outcome: Outcome, seconds: f64) {
    let outcome = match outcome {
        Outcome::Ok => "ok",
        Outcome::Error => "error",
        Outcome::Refused => "refused",
    };
    metrics::counter!("queuelake_queries_total", "protocol" => protocol, "outcome" => outcome)
        .increment(1);
    if !matches!(outcome, "refused") {
        metrics::histogram!("queuelake_query_duration_seconds", "protocol" => protocol)
            .record(seconds);
    }
}

/// `GET /metrics` (text exposition format).
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "operations",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Prometheus text exposition format", content_type = "text/plain", body = String),
        (status = 401, description = "No or unknown token", body = super::error::Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token's role may not read metrics", body = super::error::Problem, content_type = "application/problem+json"),
        (status = 429, description = "The token's rate is exhausted (see Retry-After)", body = super::error::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn metrics(State(state): State<Arc<AppState>>) -> Result<impl IntoResponse, AppError> {
    let handle = recorder()?;
    let now_us = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as i64);
    for table in [&state.tables.queue_log, &state.tables.ami_events] {
        let pushed = table.pushed();
        let name = table.name().to_owned();
        metrics::counter!("queuelake_ingest_rows_total", "table" => name.clone())
            .absolute(pushed.rows);
        if let Some(newest) = pushed.newest_ts_us {
            metrics::gauge!("queuelake_ingest_lag_seconds", "table" => name)
                .set((now_us - newest) as f64 / 1e6);
        }
    }
    if let Some(feed) = state.live.feed() {
        let live = feed.lock();
        let c = &live.connection;
        metrics::gauge!("queuelake_ami_connected").set(if c.state == "live" { 1.0 } else { 0.0 });
        metrics::counter!("queuelake_ami_disconnects_total").absolute(c.disconnects);
        metrics::counter!("queuelake_ami_resyncs_total").absolute(c.resyncs);
        metrics::counter!("queuelake_ami_events_total").absolute(c.events);
    }
    handle.run_upkeep();
    Ok((
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        handle.render(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn made_up_methods_share_one_label() {
        assert_eq!(method_label(&Method::GET), "GET");
        let made_up = Method::from_bytes(b"BREW").unwrap();
        let another = Method::from_bytes(b"XYZZY1").unwrap();
        assert_eq!(method_label(&made_up), "other");
        assert_eq!(method_label(&another), "other");
    }
}
