//! Contact-center planning math, pure and without I/O, so that it builds
//! in seconds and tests without a lake or a runtime.
//!
//! Modules:
//! - [`erlang`]: Erlang B and C (M/M/N) — probability of waiting, service
//!   level, ASA, occupancy, and the agents a service-level target needs.
//!
//! Shift scheduling, dialer pacing and the discrete-event simulation of a
//! contact center join this crate with their issues.

pub mod erlang;
