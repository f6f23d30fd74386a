//! Dialer pacing: how many outbound calls a campaign should place now,
//! for the most agent talk time without breaking the abandoned-call
//! limit (by default 3 % of live-answered calls over 30 days, a call
//! counting as abandoned when no agent takes it within 2 seconds).
//!
//! Modules:
//! - [`estimate`]: rolling rates and means that adapt within minutes.
//! - [`policy`]: the decision per mode (preview, progressive, power,
//!   predictive) under hard caps.
//! - [`pacers`]: pacers driven second by second — queuelake's policy with
//!   its estimators and budget, and the comparison pacers (a
//!   Vicidial-style adaptive pacer, a ±0.1-step ratio controller and
//!   progressive 1:1).
//! - [`evaluation`]: the simulated campaign that compares them, in-process
//!   or (its world) through `serve`.
//! - [`scorecard`]: a pacer's score from the simulation's events.

pub mod estimate;
pub mod evaluation;
pub mod pacers;
pub mod policy;
pub mod scorecard;

pub use policy::decide;

/// How calls are placed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Mode {
    /// Agents see the record and dial themselves: the dialer places none.
    Preview,
    /// One call per free agent (1:1), counting calls already in flight.
    Progressive,
    /// A fixed number of lines per free agent.
    Power {
        /// Lines per free agent.
        ratio: f64,
    },
    /// As many as the abandon limit allows (see [`policy`]).
    Predictive,
}

/// The campaign's floor now (from live AMI state).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Floor {
    /// Agents logged in, not paused, free.
    pub agents_free: u32,
    /// Agents on a call.
    pub agents_on_call: u32,
    /// Agents in after-call work.
    pub agents_wrapup: u32,
    /// Calls dialing or ringing, not answered yet.
    pub calls_in_flight: u32,
    /// Calls answered, not yet in the queue (answering-machine detection):
    /// each needs an agent in seconds if it proves a person.
    pub calls_answering: u32,
    /// Callers waiting in the queue now (any origin): they take the next
    /// free agents first.
    pub calls_waiting: u32,
}

/// The campaign's estimates (from the lake's history and live events).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rates {
    /// Share of dials a person answers (machines and no-answers excluded).
    pub live_answer: f64,
    /// Its standard error.
    pub live_answer_se: f64,
    /// Mean seconds from dial to answer.
    pub ring_s: f64,
    /// Mean talk seconds.
    pub talk_s: f64,
    /// Mean after-call work seconds.
    pub wrap_s: f64,
    /// Share of answered calls that prove to be a person (1 − the AMD's
    /// machine share).
    pub human_share: f64,
}

/// The abandon budget of the rolling window.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Budget {
    /// Highest abandoned share of live-answered calls (0.03).
    pub target: f64,
    /// Live-answered calls in the window so far.
    pub answered: f64,
    /// Of them, abandoned.
    pub dropped: f64,
    /// Live answers expected over the next stretch the budget is spread
    /// over (a day's worth, say).
    pub expected_answers_ahead: f64,
    /// Share of the target kept in reserve (0.1: aim at 2.7 %).
    pub margin: f64,
    /// Standard errors added to the answer rate for the upper bound.
    pub confidence_z: f64,
}

/// Hard caps of every mode.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Caps {
    /// Most calls in flight.
    pub max_lines: u32,
    /// Most calls in flight per agent free now or soon.
    pub max_ratio: f64,
}

/// A decision and what it rests on.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Decision {
    /// The mode decided in.
    pub mode: Mode,
    /// Calls to place now.
    pub calls: u32,
    /// Calls in flight (after these) per agent expected free.
    pub ratio: f64,
    /// Projected abandon rate of the calls in flight (mean estimate).
    pub projected_abandon: f64,
    /// The same with the answer rate's upper bound.
    pub projected_abandon_upper: f64,
    /// The abandon rate this decision could spend.
    pub allowed_abandon: f64,
    /// Abandons still allowed in the window (target × answered − dropped).
    pub budget_left: f64,
    /// Agents expected free when the calls are answered.
    pub expected_free_agents: f64,
}
