//! Connections that have not signed in yet: a set of their own, small and
//! short-lived, so idle or slow sockets never take the places of clients
//! that sign in. Each has `startup_timeout` to sign in before it is
//! closed; when the set is full, its oldest member is closed to make room
//! (a real client signs in within milliseconds, so it is never the oldest
//! for long).

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Mutex, PoisonError};

use tokio::task::AbortHandle;

/// One connection waiting to sign in.
struct Waiting {
    id: u64,
    peer: SocketAddr,
    task: Option<AbortHandle>,
}

/// The unauthenticated connections, oldest first.
pub struct Pending {
    waiting: Mutex<VecDeque<Waiting>>,
    max: usize,
}

impl Pending {
    /// A set of at most `max` connections.
    pub fn new(max: usize) -> Self {
        Pending {
            waiting: Mutex::new(VecDeque::new()),
            max: max.max(1),
        }
    }

    /// Adds connection `id` from `peer`, closing the oldest when full.
    pub fn add(&self, id: u64, peer: SocketAddr) {
        let mut waiting = self.waiting.lock().unwrap_or_else(PoisonError::into_inner);
        while waiting.len() >= self.max {
            if let Some(oldest) = waiting.pop_front() {
                tracing::warn!(peer = %oldest.peer, "postgres wire: closing a connection that has not signed in (the unauthenticated set is full)");
                if let Some(task) = oldest.task {
                    task.abort();
                }
            }
        }
        waiting.push_back(Waiting {
            id,
            peer,
            task: None,
        });
    }

    /// Gives connection `id` the handle that closes it (if it still waits).
    pub fn set_task(&self, id: u64, task: AbortHandle) {
        let mut waiting = self.waiting.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(w) = waiting.iter_mut().find(|w| w.id == id) {
            w.task = Some(task);
        }
    }

    /// The connection from `peer` signed in: it leaves the set.
    pub fn signed_in(&self, peer: SocketAddr) {
        let mut waiting = self.waiting.lock().unwrap_or_else(PoisonError::into_inner);
        waiting.retain(|w| w.peer != peer);
    }

    /// Connection `id` ran out of time (or ended): closes it if it still
    /// waits, and says whether it did.
    pub fn expire(&self, id: u64) -> bool {
        let mut waiting = self.waiting.lock().unwrap_or_else(PoisonError::into_inner);
        let Some(at) = waiting.iter().position(|w| w.id == id) else {
            return false;
        };
        if let Some(task) = waiting.remove(at).and_then(|w| w.task) {
            task.abort();
        }
        true
    }

    /// How many wait now.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.waiting
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    /// Whether none waits.
    #[cfg(test)]
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_full_set_closes_its_oldest_and_signing_in_leaves_it() {
        let pending = Pending::new(2);
        let peer = |port| SocketAddr::from(([127, 0, 0, 1], port));
        let idle = tokio::spawn(std::future::pending::<()>());
        pending.add(1, peer(1001));
        pending.set_task(1, idle.abort_handle());
        pending.add(2, peer(1002));
        pending.add(3, peer(1003));
        assert!(
            idle.await.unwrap_err().is_cancelled(),
            "the oldest was closed"
        );
        assert_eq!(pending.len(), 2);
        pending.signed_in(peer(1003));
        assert_eq!(pending.len(), 1);
        assert!(!pending.expire(3), "signed in: not expired");
        assert!(pending.expire(2));
        assert!(pending.is_empty());
    }
}
