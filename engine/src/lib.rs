//! The queuelake engine: the Parquet lake and the SQL session over it.
//!
//! Data flow: a source builds Arrow batches ([`tables`]) and hands them,
//! with the source positions they reach, to a [`lake::TableWriter`], which
//! writes Parquet and commits files and positions in one atomic step
//! ([`lake::log`]). A [`live::LiveTable`] shows DataFusion the committed
//! files plus the rows still in memory; a [`session::QueryEngine`] answers
//! read-only SQL over those tables and the KPI views ([`kpi`]), and
//! [`output`] renders results. Closed days of `calls` are stored once
//! ([`rollup`]) and read back with the recent days computed ([`calls`]).
//!
//! Modules:
//! - [`tables`]: schemas of the raw tables and the `queue_log` row builder.
//! - [`ami_events`]: schema and row builder of the journaled AMI events.
//! - [`lake`]: storage, commit log, writer (append, compaction, vacuum), writer lock.
//! - [`live`]: the DataFusion table provider over files + memory.
//! - [`kpi`]: KPI settings and the SQL views from `sql/views/`.
//! - [`calls`]: the `calls` view as a provider: stored days + computed recent days.
//! - [`rollup`]: storing closed days of `calls` in `calls_by_day`, with input fingerprints.
//! - [`pacing`]: the `pacing_decisions` table.
//! - [`plans`]: the planning tables `forecasts` and `staffing` (schemas, rows, writer).
//! - [`schedules`]: published schedules (`schedules`, `schedule_shifts`, `schedule_coverage`).
//! - [`scope`]: per-reader scopes (queues, campaigns) applied under every table.
//! - [`session`]: the read-only query session: guards, limits, collect or stream.
//! - [`statement_check`]: the syntax guard (reads only, bounded expressions).
//! - [`query_runtime`]: the query pool every query plans and runs on.
//! - [`execution`]: the join guard and the bounds of results.
//! - [`bounded_text`]: `repeat`, `lpad`, `rpad` capped in size.
//! - [`loop_joins`]: joins without equality keys, their build side capped.
//! - [`output`]: JSON, CSV and text-table renderings.
//! - [`error`]: the crate's error type.

pub mod ami_events;
pub mod bounded_text;
pub mod calls;
pub mod error;
pub mod execution;
pub mod kpi;
pub mod lake;
pub mod live;
pub mod loop_joins;
pub mod output;
pub mod pacing;
pub mod plans;
pub mod query_runtime;
pub mod rollup;
pub mod schedules;
pub mod scope;
pub mod session;
pub mod statement_check;
pub mod tables;

pub use error::{EngineError, Result};
