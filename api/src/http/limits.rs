//! Request limits: a token bucket per caller, a budget of failed sign-ins
//! per peer, and the slots queries run in (all shared by HTTP and the
//! PostgreSQL port). Refusals are 429 with
//! `Retry-After`. A body larger than `[server] max_body_bytes` is 413:
//! at once when its `Content-Length` says so ([`declared_length`]), else
//! when reading passes the limit (axum's `DefaultBodyLimit`).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::error::AppError;

/// A rate: so many requests per second on average, so many at once.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rate {
    /// Average per second (0: unlimited).
    pub per_second: u32,
    /// Burst above the average.
    pub burst: u32,
}

struct Bucket {
    tokens: f64,
    at: Instant,
}

impl Bucket {
    fn full(rate: Rate, now: Instant) -> Self {
        Bucket {
            tokens: f64::from(rate.burst.max(1)),
            at: now,
        }
    }

    /// Refills for the time since the last use; the seconds to wait for
    /// one token when there is none.
    fn refill(&mut self, rate: Rate, now: Instant) -> Option<f64> {
        let capacity = f64::from(rate.burst.max(1));
        let refill =
            now.saturating_duration_since(self.at).as_secs_f64() * f64::from(rate.per_second);
        self.tokens = (self.tokens + refill).min(capacity);
        self.at = now;
        (self.tokens < 1.0).then(|| (1.0 - self.tokens) / f64::from(rate.per_second.max(1)))
    }
}

/// One token bucket per caller name.
#[derive(Default)]
pub struct RateLimiter {
    buckets: Mutex<HashMap<String, Bucket>>,
}

impl RateLimiter {
    /// Takes one request from `caller`'s bucket, or says how long to wait.
    pub fn check(&self, caller: &str, rate: Rate) -> Result<(), AppError> {
        self.check_at(caller, rate, Instant::now())
    }

    fn check_at(&self, caller: &str, rate: Rate, now: Instant) -> Result<(), AppError> {
        if rate.per_second == 0 {
            return Ok(());
        }
        let mut buckets = self
            .buckets
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let bucket = buckets
            .entry(caller.to_owned())
            .or_insert_with(|| Bucket::full(rate, now));
        let Some(wait) = bucket.refill(rate, now) else {
            bucket.tokens -= 1.0;
            return Ok(());
        };
        Err(AppError::TooManyRequests {
            detail: format!(
                "token {caller:?} is limited to {} requests per second (burst {}); retry in {:.0} ms",
                rate.per_second,
                rate.burst,
                wait * 1000.0
            ),
            retry_after_s: wait.ceil().max(1.0) as u64,
        })
    }
}

/// Failed sign-ins per peer address, on both protocols: a peer may fail
/// its rate's burst at once (`[server] auth_failures_burst`, 10), then
/// `auth_failures_per_second` (1); past that
/// its wrong tokens are refused as too many (429 / 53300) without being
/// counted or logged again. A right token always passes, so an attacker
/// sharing an address (a NAT, a proxy) cannot lock its users out; tokens
/// have 256 bits, so the budget bounds noise and load, not guessing.
pub struct AuthFailures {
    peers: Mutex<HashMap<IpAddr, Bucket>>,
    rate: Rate,
}

impl AuthFailures {
    /// Peers remembered at most (the full ones are forgotten first).
    const MAX_PEERS: usize = 10_000;

    /// A peer may fail `rate` (per_second 0: no limit).
    pub fn new(rate: Rate) -> Self {
        AuthFailures {
            peers: Mutex::new(HashMap::new()),
            rate,
        }
    }

    /// Whether `peer` may fail again now, or how long it must wait.
    pub fn admit(&self, peer: IpAddr) -> Result<(), Duration> {
        if self.rate.per_second == 0 {
            return Ok(());
        }
        let mut peers = self
            .peers
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match peers.get_mut(&peer) {
            Some(bucket) => match bucket.refill(self.rate, Instant::now()) {
                Some(wait) => Err(Duration::from_secs_f64(wait)),
                None => Ok(()),
            },
            None => Ok(()),
        }
    }

    /// Records a failed sign-in of `peer` through `door` (counted and
    /// logged as a warning).
    pub fn failed(&self, peer: IpAddr, door: &'static str) {
        metrics::counter!("queuelake_auth_failures_total", "door" => door).increment(1);
        tracing::warn!(%peer, door, "failed sign-in: unknown token");
        let now = Instant::now();
        let mut peers = self
            .peers
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let rate = self.rate;
        if peers.len() >= Self::MAX_PEERS {
            let capacity = f64::from(rate.burst.max(1));
            peers.retain(|_, b| {
                b.refill(rate, now);
                b.tokens < capacity
            });
        }
        let bucket = peers.entry(peer).or_insert_with(|| Bucket::full(rate, now));
        bucket.refill(rate, now);
        bucket.tokens = (bucket.tokens - 1.0).max(0.0);
    }
}

/// Refuses (413) a request whose `Content-Length` is over
/// `max_body_bytes` before its body is read or waited for.
pub async fn declared_length(
    axum::extract::State(max_body_bytes): axum::extract::State<usize>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let declared = request
        .headers()
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    match declared {
        Some(length) if length > max_body_bytes as u64 => AppError::PayloadTooLarge(format!(
            "request body: Content-Length {length} is over the limit of {max_body_bytes} bytes"
        ))
        .into_response(),
        _ => next.run(request).await,
    }
}

/// The slots queries run in.
#[derive(Clone)]
pub struct QuerySlots {
    slots: Arc<Semaphore>,
    size: usize,
    wait: Duration,
}

impl QuerySlots {
    /// `size` queries at once; a query waits up to `wait` for a slot.
    pub fn new(size: usize, wait: Duration) -> Self {
        QuerySlots {
            slots: Arc::new(Semaphore::new(size)),
            size,
            wait,
        }
    }

    /// A slot, held until the permit drops; 429 when none frees in time.
    pub async fn acquire(&self) -> Result<OwnedSemaphorePermit, AppError> {
        let slot = tokio::time::timeout(self.wait, self.slots.clone().acquire_owned()).await;
        match slot {
            Ok(Ok(permit)) => Ok(permit),
            _ => Err(AppError::TooManyRequests {
                detail: format!(
                    "{} queries are running (the limit) and none finished within {} ms; retry shortly",
                    self.size,
                    self.wait.as_millis()
                ),
                retry_after_s: 1,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_peer_that_keeps_failing_is_held_back_and_others_are_not() {
        let failures = AuthFailures::new(Rate {
            per_second: 1,
            burst: 10,
        });
        let attacker: IpAddr = [10, 0, 0, 1].into();
        let other: IpAddr = [10, 0, 0, 2].into();
        for _ in 0..10 {
            assert!(failures.admit(attacker).is_ok());
            failures.failed(attacker, "http");
        }
        let wait = failures.admit(attacker).unwrap_err();
        assert!(
            wait > Duration::ZERO && wait <= Duration::from_secs(1),
            "{wait:?}"
        );
        assert!(failures.admit(other).is_ok());
    }

    #[test]
    fn a_bucket_allows_its_burst_then_refills_at_its_rate() {
        let limiter = RateLimiter::default();
        let rate = Rate {
            per_second: 10,
            burst: 3,
        };
        let t0 = Instant::now();
        for _ in 0..3 {
            limiter.check_at("a", rate, t0).unwrap();
        }
        let refused = limiter.check_at("a", rate, t0).unwrap_err();
        assert!(matches!(
            refused,
            AppError::TooManyRequests {
                retry_after_s: 1,
                ..
            }
        ));
        // Another caller has its own bucket.
        limiter.check_at("b", rate, t0).unwrap();
        // 100 ms later one request's worth has come back.
        let later = t0 + Duration::from_millis(100);
        limiter.check_at("a", rate, later).unwrap();
        assert!(limiter.check_at("a", rate, later).is_err());
        // Unlimited.
        let free = Rate {
            per_second: 0,
            burst: 0,
        };
        for _ in 0..1000 {
            limiter.check_at("c", free, t0).unwrap();
        }
    }

    #[tokio::test]
    async fn queries_beyond_the_slots_wait_then_are_refused() {
        let slots = QuerySlots::new(1, Duration::from_millis(50));
        let held = slots.acquire().await.unwrap();
        assert!(matches!(
            slots.acquire().await,
            Err(AppError::TooManyRequests { .. })
        ));
        drop(held);
        let _again = slots.acquire().await.unwrap();
    }
}
