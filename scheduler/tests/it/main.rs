//! Integration tests of the planning crate: the simulation against
//! queueing theory, and its Asterisk queue behaviour.

mod cover;
mod pacing;
mod references;
mod roster_properties;
mod sim_behaviour;
mod sim_vs_erlang;
mod staffing_properties;
