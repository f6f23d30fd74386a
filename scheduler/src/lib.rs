//! Contact-center planning math, pure and without I/O, so that it builds
//! in seconds and tests without a lake or a runtime.
//!
//! Modules:
//! - [`erlang`]: Erlang B and C (M/M/N) — probability of waiting, service
//!   level, ASA, occupancy, and the agents a service-level target needs.
//! - [`erlang_a`]: Erlang A (M/M/N+M, callers abandon) — abandonment,
//!   service level, ASA, occupancy, exact and stable in f64.
//! - [`staffing`]: an interval's requirement — the least agents meeting a
//!   service-level or ASA target under an occupancy cap, and shrinkage.
//! - [`cover`]: weekly shift scheduling — shift counts per day and break
//!   placements that cover a requirement (LP bound, per-day integer
//!   programs, tours of days off).
//! - [`pacing`]: dialer pacing — estimators, the policy per mode, the
//!   comparison pacers and their simulated evaluation.
//! - [`roster`]: the week's shifts given to named agents under their
//!   contracts, availability, rest and consecutive-day rules.
//! - [`sim`]: a discrete-event simulation of an Asterisk contact center
//!   (queues, agents, shifts, outbound campaigns), deterministic by seed;
//!   it drives the emulator and checks the math above.
//!

pub mod cover;
pub mod erlang;
pub mod erlang_a;
pub mod pacing;
pub mod roster;
pub mod sim;
pub mod staffing;
