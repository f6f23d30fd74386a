//! PostgreSQL cancel requests (psql's Ctrl-C): a client opens a second
//! connection carrying the first one's process id and secret key; the
//! statement that connection is running then ends with 57014. Each signed-in
//! connection registers its key here; a request with a wrong secret is
//! ignored, as PostgreSQL does, and a cancel between statements cancels
//! nothing.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};

use async_trait::async_trait;
use datafusion_postgres::pgwire::api::cancel::CancelHandler;
use datafusion_postgres::pgwire::messages::cancel::CancelRequest;
use datafusion_postgres::pgwire::messages::startup::SecretKey;
use tokio::sync::watch;

/// A future that resolves when the statement it was made for is cancelled.
pub type CancelWatch = Pin<Box<dyn Future<Output = ()> + Send>>;

/// A connection's secret key and the signal its statements watch.
struct Key {
    secret: Vec<u8>,
    signal: Arc<watch::Sender<u64>>,
}

/// The signed-in connections' cancel keys, by process id.
#[derive(Default)]
pub struct Cancels {
    keys: Mutex<HashMap<i32, Key>>,
}

impl Cancels {
    /// Registers connection `pid` with `secret`; the registration ends
    /// when the returned value (kept with the connection) is dropped.
    pub fn register(self: &Arc<Self>, pid: i32, secret: &SecretKey) -> Registration {
        let (signal, _) = watch::channel(0u64);
        let signal = Arc::new(signal);
        self.keys
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(
                pid,
                Key {
                    secret: secret.to_bytes().to_vec(),
                    signal: signal.clone(),
                },
            );
        Registration {
            cancels: self.clone(),
            pid,
            signal,
        }
    }

    /// Cancels what connection `pid` runs, if `secret` is its key.
    pub fn cancel(&self, pid: i32, secret: &SecretKey) -> bool {
        let keys = self.keys.lock().unwrap_or_else(PoisonError::into_inner);
        match keys.get(&pid) {
            Some(key) if key.secret.as_slice() == secret.to_bytes().as_ref() => {
                key.signal.send_modify(|generation| *generation += 1);
                true
            }
            _ => false,
        }
    }
}

/// A connection's place among the cancel keys.
pub struct Registration {
    cancels: Arc<Cancels>,
    pid: i32,
    signal: Arc<watch::Sender<u64>>,
}

impl Registration {
    /// Resolves at the next cancel request from now.
    pub fn watch(&self) -> CancelWatch {
        let mut receiver = self.signal.subscribe();
        receiver.mark_unchanged();
        Box::pin(async move {
            if receiver.changed().await.is_err() {
                std::future::pending::<()>().await;
            }
        })
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        self.cancels
            .keys
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&self.pid);
    }
}

/// pgwire's cancel hook over [`Cancels`].
pub struct CancelRequests(pub Arc<Cancels>);

#[async_trait]
impl CancelHandler for CancelRequests {
    async fn on_cancel_request(&self, request: CancelRequest) {
        let done = self.0.cancel(request.pid, &request.secret_key);
        tracing::info!(
            pid = request.pid,
            cancelled = done,
            "postgres wire: cancel request"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_cancel_with_the_right_key_ends_the_running_statement_only() {
        let cancels = Arc::new(Cancels::default());
        let registration = cancels.register(7, &SecretKey::I32(42));
        // A cancel before the statement started cancels nothing.
        assert!(cancels.cancel(7, &SecretKey::I32(42)));
        let mut running = registration.watch();
        assert!(futures::poll!(running.as_mut()).is_pending());
        assert!(!cancels.cancel(7, &SecretKey::I32(41)), "wrong secret");
        assert!(!cancels.cancel(8, &SecretKey::I32(42)), "unknown pid");
        assert!(futures::poll!(running.as_mut()).is_pending());
        assert!(cancels.cancel(7, &SecretKey::I32(42)));
        tokio::time::timeout(std::time::Duration::from_secs(1), running)
            .await
            .unwrap();
        drop(registration);
        assert!(
            !cancels.cancel(7, &SecretKey::I32(42)),
            "gone with its connection"
        );
    }
}
