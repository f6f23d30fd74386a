//! queuelake sources: Asterisk's `queue_log` and AMI events into the lake.
//!
//! Data flow: bytes of a file ([`queue_log::framing`]) become lines, lines
//! become rows or dead letters ([`queue_log::rows`],
//! [`queue_log::deadletter`]), and rows are committed to the lake with the
//! position they reach. Two drivers share that path: [`queue_log::backfill`]
//! for whole files (rotated, gzipped) and [`queue_log::tail`] for the live
//! file. Files are recognised by the hash of their first line
//! ([`queue_log::identity`]), so renames and compression never re-import.
//!
//! Guarantee: exactly-once per line for every committed position.
//!
//! Modules:
//! - [`queue_log`]: identity, framing, rows, dead letters, backfill, tail.
//! - [`ami`]: the AMI client, its journal (→ `ami_events`) and live state.
//! - [`emulator`]: an emulated Asterisk driven by the simulation (queue_log
//!   writer with rename rotation, AMI server with fault injection).
//! - [`error`]: the crate's error type.

pub mod ami;
pub mod emulator;
pub mod error;
pub mod queue_log;

pub use error::{IngestError, Result};
