//! The AMI source: a client that keeps a connection to the PBX, journals
//! every event, and keeps the live state of queues and campaigns.
//!
//! ```text
//!  PBX ─TCP─▶ client (Session state machine) ─▶ JournalingSink ─┬─▶ journal (ami.jsonl) ─tail─▶ lake: ami_events
//!                                                               └─▶ LiveFeed (live state) ─▶ API, SSE
//! ```
//!
//! Modules:
//! - [`client`]: the tokio driver of the session (connect, read, ping,
//!   backoff, resync).
//! - [`journal`]: the append-only journal and its lines → `ami_events` rows.
//! - [`feed`]: the sink that journals and updates the shared live state.

pub mod client;
pub mod feed;
pub mod journal;
