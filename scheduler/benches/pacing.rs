//! Dialer pacing in the simulation: queuelake's predictive policy against
//! a Vicidial-style adaptive pacer, a ±0.1-step ratio controller and
//! progressive 1:1, on the same campaigns (same seeds), over 35 days: the
//! worst rolling 30-day abandon rate (judged at every answer once the
//! window holds 300), talk occupancy and connected calls per agent-hour.
//!
//! `cargo bench -p queuelake-scheduler --bench pacing [-- DAYS SEEDS]`

#![allow(clippy::print_stdout, clippy::unwrap_used, missing_docs)]

use queuelake_scheduler::pacing::Caps;
use queuelake_scheduler::pacing::evaluation::{EvaluationConfig, Profile, evaluate};
use queuelake_scheduler::pacing::pacers::{
    AdaptivePacer, Pacer, ProgressivePacer, QueuelakePacer, StepPacer,
};

const TARGET: f64 = 0.03;

fn main() {
    let args: Vec<u32> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let days = args.first().copied().unwrap_or(35);
    let seeds = args.get(1).copied().unwrap_or(5);
    let caps = Caps {
        max_lines: 200,
        max_ratio: 4.0,
    };
    println!(
        "{days} days, 20 agents, target {:.0} % of live answers per rolling 30 days\n",
        TARGET * 100.0
    );
    println!(
        "| seed | pacer | live answers | dropped | worst 30-day window | talk occupancy | calls per agent-hour |"
    );
    println!("| ---: | --- | ---: | ---: | ---: | ---: | ---: |");
    let mut totals: Vec<(String, f64, f64, f64, usize)> = Vec::new();
    for seed in 1..=u64::from(seeds) {
        let e = EvaluationConfig {
            seed,
            days,
            agents: 20,
            wrap_s: 15,
            profile: Profile::Office,
            amd_ms: (0, 0),
        };
        let mut pacers: Vec<Box<dyn Pacer>> = vec![
            Box::new(QueuelakePacer::new(TARGET, 15.0, caps)),
            Box::new(AdaptivePacer::new(TARGET, caps)),
            Box::new(StepPacer::new(TARGET, caps)),
            Box::new(ProgressivePacer::new(caps)),
        ];
        for (i, pacer) in pacers.iter_mut().enumerate() {
            let started = std::time::Instant::now();
            let r = evaluate(&e, pacer.as_mut());
            let worst = r.score.worst_window.unwrap_or(0.0);
            println!(
                "| {seed} | {} | {} | {} | {:.2} % | {:.1} % | {:.2} |",
                r.pacer,
                r.score.live_answers,
                r.score.dropped,
                worst * 100.0,
                r.score.talk_occupancy * 100.0,
                r.score.calls_per_agent_hour
            );
            eprintln!("  ({:.1} s)", started.elapsed().as_secs_f64());
            if totals.len() <= i {
                totals.push((r.pacer.clone(), 0.0, 0.0, 0.0, 0));
            }
            let t = &mut totals[i];
            t.1 = t.1.max(worst);
            t.2 += r.score.talk_occupancy;
            t.3 += r.score.calls_per_agent_hour;
            t.4 += 1;
        }
    }
    println!(
        "\n| pacer | worst 30-day window (all seeds) | mean talk occupancy | mean calls per agent-hour |"
    );
    println!("| --- | ---: | ---: | ---: |");
    for (name, worst, occupancy, calls, n) in totals {
        println!(
            "| {name} | {:.2} % | {:.1} % | {:.2} |",
            worst * 100.0,
            occupancy / n as f64 * 100.0,
            calls / n as f64
        );
    }
}
