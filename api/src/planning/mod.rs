//! Planning runs: forecasts of every queue's intervals and the staffing
//! they need, made from the lake and stored in it (`forecasts`,
//! `staffing`), for the CLI, the API and the scheduled job.
//!
//! Modules:
//! - [`settings`]: `[forecast]` and `[staffing]` resolved and checked.
//! - [`history`]: per-queue interval series and patience from the lake.
//! - [`runs`]: the planner (forecast runs, staffing runs, their accuracy).
//! - [`decode`]: query results back into plan rows.
//! - [`schedule`]: the periodic run (`[forecast] every_hours`).

pub mod decode;
pub mod history;
pub mod runs;
pub mod schedule;
pub mod settings;
