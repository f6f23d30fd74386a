//! Contact-center planning math, pure and without I/O, so that it builds
//! in seconds and tests without a lake or a runtime.
//!
//! Modules:
//! - [`erlang`]: Erlang B and C (M/M/N) — probability of waiting, service
//!   level, ASA, occupancy, and the agents a service-level target needs.
//! - [`sim`]: a discrete-event simulation of an Asterisk contact center
//!   (queues, agents, shifts, outbound campaigns), deterministic by seed;
//!   it drives the emulator and checks the math above.
//!
//! Shift scheduling and dialer pacing join this crate with their issues.

pub mod erlang;
pub mod sim;
