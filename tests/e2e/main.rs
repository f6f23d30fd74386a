//! End-to-end tests of the `queuelake` binary: real files, real processes,
//! real signals, real TCP.

mod backfill;
mod kpi;
mod sql_guard;
mod support;
mod tail;
