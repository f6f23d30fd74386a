//! Shift schedules: from a staffing run's requirement to shifts agents
//! can work, edited by planners and published into the lake.
//!
//! Modules:
//! - [`inputs`]: shift patterns, days off, weights and the roster, as
//!   `[scheduling]` and request bodies write them.
//! - [`build`]: a draft from a requirement (solver, one shift per agent,
//!   roster).
//! - [`draft`]: a draft's shifts, edits, and coverage computed from them.
//! - [`store`]: drafts on disk between edits.
//! - [`service`]: the workflow (create, edit, publish) over the lake.

pub mod build;
pub mod draft;
pub mod inputs;
pub mod service;
pub mod store;
