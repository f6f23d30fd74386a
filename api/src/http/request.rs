//! The outermost layer: every request gets an id (the caller's
//! `x-request-id` when it is short and plain, else a new one), a tracing
//! span carrying it (so every log line of the request names it), an
//! access-log line, the request metrics, and the id back in the
//! response's `x-request-id`.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use tracing::Instrument;

/// The header that carries the id both ways.
pub const REQUEST_ID_HEADER: &str = "x-request-id";

tokio::task_local! {
    static CURRENT: RequestId;
}

/// A request's id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestId(String);

impl RequestId {
    /// The id of the request this task serves (`-` outside a request).
    pub fn current() -> RequestId {
        CURRENT
            .try_with(Clone::clone)
            .unwrap_or_else(|_| RequestId("-".into()))
    }

    /// The caller's id if it is 1–64 characters of `[A-Za-z0-9._-]`,
    /// else a new one.
    fn for_request(given: Option<&HeaderValue>) -> RequestId {
        let usable = given.and_then(|v| v.to_str().ok()).filter(|v| {
            (1..=64).contains(&v.len())
                && v.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
        });
        match usable {
            Some(v) => RequestId(v.to_owned()),
            None => RequestId::new(),
        }
    }

    /// A new id: this process's start (µs, base 36) and a counter, unique
    /// across restarts without a random source per request.
    fn new() -> RequestId {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        static EPOCH: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
            let us = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_micros() as u64);
            base36(us)
        });
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        RequestId(format!("{}-{}", *EPOCH, base36(n)))
    }
}

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn base36(mut n: u64) -> String {
    const DIGITS: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut out = Vec::new();
    loop {
        out.push(DIGITS[(n % 36) as usize]);
        n /= 36;
        if n == 0 {
            break;
        }
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

/// Puts the route's pattern on the response, for [`track`]'s metrics
/// (routing happens inside `track`, so it cannot see the pattern itself).
pub async fn label_route(request: Request, next: Next) -> Response {
    let matched = request.extensions().get::<MatchedPath>().cloned();
    let mut response = next.run(request).await;
    if let Some(matched) = matched {
        response.extensions_mut().insert(matched);
    }
    response
}

/// The middleware.
pub async fn track(request: Request, next: Next) -> Response {
    let id = RequestId::for_request(request.headers().get(REQUEST_ID_HEADER));
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let span = tracing::info_span!(
        "request",
        request_id = %id,
        %method,
        %path,
        token = tracing::field::Empty
    );
    let started = Instant::now();
    let mut response = CURRENT
        .scope(id.clone(), next.run(request).instrument(span.clone()))
        .await;
    let seconds = started.elapsed().as_secs_f64();
    let status = response.status().as_u16();
    let route = response
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", MatchedPath::as_str)
        .to_owned();
    span.in_scope(|| {
        tracing::info!(status, ms = seconds * 1000.0, "request");
    });
    super::metrics::record_request(&method, &route, status, seconds);
    if let Ok(value) = HeaderValue::from_str(&id.0) {
        response.headers_mut().insert(REQUEST_ID_HEADER, value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_caller_ids_are_kept_and_others_replaced() {
        let kept = RequestId::for_request(Some(&HeaderValue::from_static("abc-123.x_y")));
        assert_eq!(kept.to_string(), "abc-123.x_y");
        let odd = RequestId::for_request(Some(&HeaderValue::from_static("a b")));
        assert_ne!(odd.to_string(), "a b");
        let (a, b) = (RequestId::new(), RequestId::new());
        assert_ne!(a, b);
        assert_eq!(base36(0), "0");
        assert_eq!(base36(36 * 36), "100");
    }
}
