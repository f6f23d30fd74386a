//! A steady M/M/N load in the simulation must reproduce Erlang C.
//!
//! 200 calls/h with exponential talk time of 180 s is 10 erlangs; with 12
//! agents Erlang C predicts the service level at 20 s and the ASA. The
//! simulation runs 20 independent replications (own seeds), each measuring
//! 50 simulated hours after a 2-hour warm-up (about 200 000 calls in all);
//! their means give a 95 % confidence interval (Student t, 19 degrees of
//! freedom) that must contain the prediction. Independent replications,
//! not batches of one run: waits are autocorrelated and skewed, and batch
//! intervals came out too narrow (2 of 12 seeds missed the ASA); with
//! replications, 30 other seeds missed the SL once and the ASA never.

use queuelake_scheduler::erlang::Load;
use queuelake_scheduler::sim::{
    AgentConfig, Duration, Millis, QueueConfig, SimConfig, SimEvent, Simulation, Strategy,
};

const HOUR: Millis = 3_600_000;
const START: Millis = 1_709_510_400_000; // 2024-03-04 00:00 UTC
const AGENTS: usize = 12;
const CALLS_PER_HOUR: f64 = 200.0;
const TALK_S: f64 = 180.0;
const THRESHOLD_S: f64 = 20.0;
const REPLICATIONS: u64 = 20;
const WARM_UP: Millis = 2 * HOUR;
const MEASURE: Millis = 50 * HOUR;
/// t(0.975, 19).
const T_975_19: f64 = 2.0930;

fn mm_n(seed: u64, strategy: Strategy) -> SimConfig {
    let mut queue = QueueConfig::new("steady", CALLS_PER_HOUR, TALK_S);
    queue.strategy = strategy;
    queue.talk = Duration::Exponential { mean_s: TALK_S };
    queue.patience_mean_s = None;
    queue.answer_ms = (0, 0);
    queue.ring_no_answer = 0.0;
    queue.wrapup_s = 0;
    SimConfig {
        seed,
        utc_offset_min: 0,
        queues: vec![queue],
        agents: (0..AGENTS)
            .map(|i| AgentConfig {
                name: format!("Agent {i}"),
                interface: format!("PJSIP/{}", 100 + i),
                queues: vec!["steady".into()],
                shift: None,
            })
            .collect(),
        campaigns: Vec::new(),
    }
}

/// One independent replication: the service level and ASA of the calls
/// that joined during `MEASURE` after the warm-up.
fn replication(seed: u64, strategy: Strategy) -> (u64, f64, f64) {
    let mut sim = Simulation::new(mm_n(seed, strategy), START).expect("valid config");
    let (begin, end) = (START + WARM_UP, START + WARM_UP + MEASURE);
    let mut joined = std::collections::HashMap::new();
    let (mut calls, mut within, mut wait_ms) = (0u64, 0u64, 0i64);
    // Run on past the window so its last callers get answered too.
    for event in sim.run_until(end + HOUR) {
        match event.event {
            SimEvent::CallerJoin { call, .. } => {
                joined.insert(call, event.at);
            }
            SimEvent::Connect {
                call, wait_ms: w, ..
            } => {
                let at = joined.remove(&call).expect("connect after join");
                if (begin..end).contains(&at) {
                    calls += 1;
                    wait_ms += w;
                    within += u64::from(w as f64 <= THRESHOLD_S * 1000.0);
                }
            }
            SimEvent::Abandon { .. } | SimEvent::ExitTimeout { .. } => {
                panic!("nobody leaves an M/M/N queue unanswered")
            }
            _ => {}
        }
    }
    let n = calls as f64;
    (calls, within as f64 / n, wait_ms as f64 / 1000.0 / n)
}

fn mean_and_half_width(values: &[f64]) -> (f64, f64) {
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0);
    (mean, T_975_19 * (var / n).sqrt())
}

fn check(seed: u64, strategy: Strategy) {
    let load = Load::from_calls(CALLS_PER_HOUR, 3600.0, TALK_S);
    let sl_theory = load
        .service_level(AGENTS as u32, THRESHOLD_S)
        .expect("N > A");
    let asa_theory = load.asa_s(AGENTS as u32).expect("N > A");

    let runs: Vec<(u64, f64, f64)> = (0..REPLICATIONS)
        .map(|r| replication(seed * 1000 + r, strategy))
        .collect();
    let calls: u64 = runs.iter().map(|r| r.0).sum();
    assert!(calls > 190_000, "only {calls} calls simulated");
    let sl: Vec<f64> = runs.iter().map(|r| r.1).collect();
    let asa: Vec<f64> = runs.iter().map(|r| r.2).collect();
    let (sl_mean, sl_half) = mean_and_half_width(&sl);
    let (asa_mean, asa_half) = mean_and_half_width(&asa);
    eprintln!(
        "{strategy:?} seed {seed}: {calls} calls; SL {sl_mean:.4} ± {sl_half:.4} (Erlang C {sl_theory:.4}); \
         ASA {asa_mean:.2} ± {asa_half:.2} s (Erlang C {asa_theory:.2} s)"
    );
    assert!(
        (sl_mean - sl_theory).abs() <= sl_half,
        "service level {sl_mean:.4} ± {sl_half:.4} misses Erlang C {sl_theory:.4}"
    );
    assert!(
        (asa_mean - asa_theory).abs() <= asa_half,
        "ASA {asa_mean:.2} ± {asa_half:.2} s misses Erlang C {asa_theory:.2} s"
    );
    // The band is narrow enough to mean something: a 10 % error in either
    // figure would fall outside it.
    assert!(sl_half < 0.1 * sl_theory && asa_half < 0.1 * asa_theory);
}

#[test]
fn steady_load_matches_erlang_c_rrmemory() {
    check(1, Strategy::RrMemory);
}

#[test]
fn steady_load_matches_erlang_c_leastrecent() {
    check(2, Strategy::LeastRecent);
}
