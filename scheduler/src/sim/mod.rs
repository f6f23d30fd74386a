//! A discrete-event simulation of an Asterisk contact center, pure and
//! deterministic by seed: the same [`SimConfig`] and start instant give
//! the same events, so tests can assert on them and the emulator can
//! replay weeks of history in seconds.
//!
//! Data flow: [`SimConfig`] → [`Simulation::run_until`] → [`Timed`]
//! events (what Asterisk would log) → the emulator (queue_log lines, AMI
//! events) and [`Tally`] (the simulation's own interval counts). Commands
//! (`set_paused`, `add_member`, `originate`, …) are what AMI actions do.
//!
//! Modules:
//! - `config`: queues, demand shapes, agents and shifts, campaigns; the
//!   demo's contact center.
//! - `event`: the events and the ids they use.
//! - `engine`: the agenda and the queue rules (strategies, ring, retry,
//!   patience, wrap-up, shifts and breaks, outbound dialling).
//! - `shifts`: local-time arithmetic for shapes and shifts.
//! - `tally`: interval counts with the lake's KPI definitions.
//! - `random`: the seeded generator and distributions.

mod config;
mod engine;
mod event;
mod random;
mod shifts;
mod tally;

pub use config::{
    AgentConfig, AnswerModel, Break, CampaignConfig, DemandShape, Dialing, Duration, InvalidConfig,
    QueueConfig, Shift, SimConfig, Strategy, demo_config, office_breaks,
};
pub use engine::{AgentActivity, AgentView, CommandError, Simulation, WaitingCaller};
pub use event::{
    AgentId, CallId, CampaignId, DialFailure, HungUpBy, Millis, QueueId, SimEvent, Timed,
};
pub use random::Rng;
pub use tally::{IntervalCounts, Tally};
