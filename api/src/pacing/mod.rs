//! Dialer pacing over the API: `[pacing]` settings, and the service that
//! joins the live floor, the lake's estimates and the policy, and records
//! every decision.
//!
//! Modules:
//! - [`settings`]: `[pacing]` and its campaigns.
//! - [`service`]: decisions, estimates refresh, the decision record.

pub mod service;
pub mod settings;
