//! Staffing requirements per second: the classic interval, and a very
//! large one (5 000 erlangs), by Erlang C and Erlang A.
//!
//!     cargo bench --workspace --bench staffing
#![allow(clippy::print_stdout, missing_docs)]

use std::hint::black_box;
use std::time::Instant;

use queuelake_scheduler::staffing::{Demand, Method, Requirement, Target};

fn main() {
    let cases = [
        ("10 erlangs, Erlang C", 10.0, Method::ErlangC),
        (
            "10 erlangs, Erlang A (patience 300 s)",
            10.0,
            Method::ErlangA { patience_s: 300.0 },
        ),
        ("5000 erlangs, Erlang C", 5_000.0, Method::ErlangC),
        (
            "5000 erlangs, Erlang A (patience 300 s)",
            5_000.0,
            Method::ErlangA { patience_s: 300.0 },
        ),
    ];
    for (name, erlangs, method) in cases {
        let demand = Demand {
            calls: erlangs * 1800.0 / 180.0,
            period_s: 1800.0,
            aht_s: 180.0,
        };
        let rule = Requirement {
            target: Target::ServiceLevel {
                share: 0.8,
                threshold_s: 20.0,
            },
            max_occupancy: 1.0,
            shrinkage: 0.3,
            method,
        };
        let agents = rule.staff(&demand).map(|s| s.agents_required).unwrap_or(0);
        // Enough rounds for about a second.
        let started = Instant::now();
        let mut rounds = 0u32;
        while started.elapsed().as_secs_f64() < 1.0 {
            black_box(rule.staff(black_box(&demand)).ok());
            rounds += 1;
        }
        let each = started.elapsed().as_secs_f64() / f64::from(rounds);
        println!(
            "{name}: {agents} agents; {:.1} µs per requirement ({:.0} intervals/s)",
            each * 1e6,
            1.0 / each
        );
    }
}
