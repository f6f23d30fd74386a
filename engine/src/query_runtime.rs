//! The query pool: every SQL query (planning and execution) runs on a
//! tokio runtime of its own, never on the runtime that serves HTTP, the
//! PostgreSQL port, ingestion and pacing.
//!
//! An operator that computes without yielding (a nested-loop join, a big
//! planning step) then pins a query thread, not a service thread; the
//! caller's deadline is a timer on the caller's runtime, so it fires on
//! time whatever the query thread is doing, and the query's task is
//! aborted (it stops at its next yield). Query threads have a large stack
//! (deep expressions recurse in planning and evaluation), and a panic in a
//! query is its task's error, never the process's.
//!
//! ```text
//!  caller (service runtime)            query runtime (own threads)
//!  ───────────────────────             ───────────────────────────
//!  run(deadline, slot, work) ─ spawn ─▶ work: parse, check, plan, execute
//!        │                              (keeps the slot until it ends)
//!        │ timeout(deadline)                    │
//!        ├── Ok(result) ◀──────────────────────-┘
//!        ├── panic ─▶ EngineError::QueryPanicked
//!        └── deadline ─▶ abort task ─▶ EngineError::QueryTimeout
//!  dropped early (client gone, cancel) ─▶ abort task
//! ```

use std::any::Any;
use std::future::Future;
use std::sync::Arc;
use std::sync::OnceLock;
use std::time::Duration;

use tokio::runtime::{Builder, Runtime};
use tokio::task::{AbortHandle, JoinHandle};

use crate::error::{EngineError, Result};

/// Stack of each query thread: deep (but bounded, see
/// [`crate::statement_check`]) expressions recurse through the planner,
/// the optimizer and evaluation.
const QUERY_THREAD_STACK: usize = 64 * 1024 * 1024;

/// The process's query pool.
pub struct QueryRuntime {
    runtime: Runtime,
    threads: usize,
}

static SHARED: OnceLock<QueryRuntime> = OnceLock::new();

impl QueryRuntime {
    fn build(threads: usize) -> std::io::Result<Self> {
        let threads = threads.max(1);
        let runtime = Builder::new_multi_thread()
            .worker_threads(threads)
            .thread_stack_size(QUERY_THREAD_STACK)
            .thread_name("queuelake-query")
            .enable_all()
            .build()?;
        Ok(QueryRuntime { runtime, threads })
    }

    /// Sets the pool's size before its first use (`[query] threads`); a
    /// later call, or a call after a query ran, keeps the pool as it is
    /// and says so.
    pub fn configure(threads: usize) -> &'static QueryRuntime {
        let mut made = false;
        let pool = SHARED.get_or_init(|| {
            made = true;
            Self::build(threads).unwrap_or_else(|e| {
                tracing::error!(error = %e, "query threads: falling back to one thread");
                Self::build(1).unwrap_or_else(|e| panic!("no query runtime: {e}"))
            })
        });
        if !made && pool.threads != threads.max(1) {
            tracing::warn!(
                requested = threads,
                running = pool.threads,
                "query threads already started; keeping their number"
            );
        }
        pool
    }

    /// The pool (made with one thread per core on first use).
    pub fn shared() -> &'static QueryRuntime {
        SHARED.get_or_init(|| {
            let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
            Self::build(cores).unwrap_or_else(|e| panic!("no query runtime: {e}"))
        })
    }

    /// Runs `work` on the pool and waits for it until `deadline`; a panic
    /// becomes [`EngineError::QueryPanicked`], the deadline
    /// [`EngineError::QueryTimeout`], and the task is aborted when the
    /// deadline passes or the caller stops waiting. `hold` (a query slot)
    /// is kept by the task until it has really ended: an aborted task
    /// that computes without yielding still counts.
    pub async fn run<T, F>(&self, deadline: Deadline, hold: Hold, work: F) -> Result<T>
    where
        T: Send + 'static,
        F: Future<Output = Result<T>> + Send + 'static,
    {
        let task = self.spawn(hold, work);
        match tokio::time::timeout_at(deadline.at, task.join()).await {
            Ok(joined) => joined,
            Err(_) => Err(EngineError::QueryTimeout(deadline.limit_ms)),
        }
    }

    /// Spawns `work` on the pool, keeping `hold` until it ends; the task
    /// is aborted when the returned handle is dropped.
    pub fn spawn<T, F>(&self, hold: Hold, work: F) -> AbortOnDrop<T>
    where
        T: Send + 'static,
        F: Future<Output = Result<T>> + Send + 'static,
    {
        AbortOnDrop::new(self.runtime.spawn(async move {
            let _hold = hold;
            work.await
        }))
    }
}

/// What a query keeps while its task lives (its query slot), or nothing.
pub type Hold = Option<Arc<dyn Any + Send + Sync>>;

/// When a statement must have ended, and the limit that set it (for the
/// message). One deadline covers parsing, planning and execution.
#[derive(Clone, Copy, Debug)]
pub struct Deadline {
    /// The instant.
    pub at: tokio::time::Instant,
    /// The configured limit, in milliseconds.
    pub limit_ms: u64,
}

impl Deadline {
    /// `limit` from now.
    pub fn after(limit: Duration) -> Self {
        Deadline {
            at: tokio::time::Instant::now() + limit,
            limit_ms: u64::try_from(limit.as_millis()).unwrap_or(u64::MAX),
        }
    }
}

/// A query task that is aborted when its handle is dropped.
pub struct AbortOnDrop<T> {
    handle: Option<JoinHandle<Result<T>>>,
    abort: AbortHandle,
}

impl<T> AbortOnDrop<T> {
    fn new(handle: JoinHandle<Result<T>>) -> Self {
        let abort = handle.abort_handle();
        AbortOnDrop {
            handle: Some(handle),
            abort,
        }
    }

    /// The task's result (a panic as [`EngineError::QueryPanicked`], an
    /// abort as [`EngineError::QueryCancelled`]).
    pub async fn join(mut self) -> Result<T> {
        let Some(handle) = self.handle.as_mut() else {
            return Err(EngineError::QueryCancelled);
        };
        let joined = handle.await;
        self.handle = None;
        match joined {
            Ok(result) => result,
            Err(e) if e.is_panic() => Err(EngineError::QueryPanicked(panic_text(e.into_panic()))),
            Err(_) => Err(EngineError::QueryCancelled),
        }
    }
}

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.abort.abort();
    }
}

/// The text a panic carried.
pub fn panic_text(payload: Box<dyn std::any::Any + Send>) -> String {
    if let Some(text) = payload.downcast_ref::<&str>() {
        (*text).to_string()
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text.clone()
    } else {
        "a panic without a message".to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_panic_is_the_query_s_error_and_a_busy_query_meets_its_deadline() {
        let pool = QueryRuntime::shared();
        let panicked = pool
            .run(Deadline::after(Duration::from_secs(5)), None, async {
                let values: Vec<u8> = Vec::new();
                let index = values.len() + 3;
                Ok(values[index])
            })
            .await;
        match panicked {
            Err(EngineError::QueryPanicked(text)) => assert!(text.contains("index"), "{text}"),
            other => panic!("{other:?}"),
        }
        // A task that never yields: the caller still answers on time.
        let started = std::time::Instant::now();
        let busy = pool
            .run(Deadline::after(Duration::from_millis(200)), None, async {
                let until = std::time::Instant::now() + Duration::from_millis(1500);
                while std::time::Instant::now() < until {
                    std::hint::spin_loop();
                }
                Ok(())
            })
            .await;
        assert!(
            matches!(busy, Err(EngineError::QueryTimeout(200))),
            "{busy:?}"
        );
        assert!(started.elapsed() < Duration::from_millis(1000));
    }

    #[tokio::test]
    async fn deep_recursion_fits_the_query_stack() {
        fn depth(n: u64) -> u64 {
            let pad = std::hint::black_box([n; 64]);
            if n == 0 {
                0
            } else {
                1 + depth(n - 1) + pad[(n % 64) as usize] - n
            }
        }
        // 30 000 frames of over 600 bytes: far beyond a 2 MiB worker stack.
        let got = QueryRuntime::shared()
            .run(Deadline::after(Duration::from_secs(10)), None, async {
                Ok(depth(30_000))
            })
            .await
            .unwrap();
        assert_eq!(got, 30_000);
    }
}
