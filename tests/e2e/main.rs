//! End-to-end tests of the `queuelake` binary: real files, real processes,
//! real signals, real TCP.

#![allow(clippy::unwrap_used, missing_docs)]

mod backfill;
mod emulator;
mod kpi;
mod rollup;
mod sql_guard;
mod support;
mod tail;
