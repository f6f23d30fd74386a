//! End-to-end tests of the `queuelake` binary: real files, real processes,
//! real signals, real TCP.

#![allow(clippy::unwrap_used, missing_docs)]

mod access;
mod ami_faults;
mod ami_serve;
mod backfill;
mod clients;
mod crash_points;
mod dashboards;
mod demo;
mod emulator;
mod forecast;
mod hostile;
mod kpi;
mod operations;
mod pacing_loop;
mod planning;
mod postgres;
mod reports;
mod rollup;
mod schedule;
mod shutdown;
mod slow_clients;
mod sql_guard;
mod staffing;
mod support;
mod tail;
mod wire_frames;
