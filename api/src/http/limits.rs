//! Request limits: a token bucket per caller, and the slots queries run
//! in (shared by HTTP and the PostgreSQL port). Refusals are 429 with
//! `Retry-After`; the body limit (413) is axum's `DefaultBodyLimit`.

use std::collections::HashMap;
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
        let capacity = f64::from(rate.burst.max(1));
        let mut buckets = self
            .buckets
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let bucket = buckets.entry(caller.to_owned()).or_insert(Bucket {
            tokens: capacity,
            at: now,
        });
        let refill =
            now.saturating_duration_since(bucket.at).as_secs_f64() * f64::from(rate.per_second);
        bucket.tokens = (bucket.tokens + refill).min(capacity);
        bucket.at = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            return Ok(());
        }
        let wait = (1.0 - bucket.tokens) / f64::from(rate.per_second);
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
