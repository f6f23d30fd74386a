//! Simulated calls per second: the demo contact center (4 queues, 34
//! agents in shifts, an outbound campaign) played over four weeks.
//!
//! `cargo bench -p queuelake-scheduler --bench sim`

#![allow(clippy::print_stdout, missing_docs)]

use std::time::Instant;

use queuelake_scheduler::sim::{SimEvent, Simulation, demo_config};

const DAY: i64 = 86_400_000;
const MONDAY: i64 = 1_709_510_400_000; // 2024-03-04 00:00 UTC

fn main() {
    let mut rates = Vec::new();
    for round in 0..5 {
        let started = Instant::now();
        let mut sim = Simulation::new(demo_config(round), MONDAY).expect("valid demo config");
        let (mut calls, mut events) = (0u64, 0u64);
        for day in 1..=28 {
            for e in sim.run_until(MONDAY + day * DAY) {
                events += 1;
                calls += u64::from(matches!(
                    e.event,
                    SimEvent::CallerJoin { .. } | SimEvent::Dial { .. }
                ));
            }
        }
        let secs = started.elapsed().as_secs_f64();
        let rate = calls as f64 / secs;
        println!(
            "round {round}: {calls} calls, {events} events in {secs:.3} s = {rate:.0} calls/s"
        );
        rates.push(rate);
    }
    rates.sort_by(f64::total_cmp);
    println!("median: {:.0} simulated calls/s", rates[rates.len() / 2]);
}
