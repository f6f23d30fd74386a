//! Erlang C and Erlang A against the shared reference tables
//! (`../shared/wfm/`, computed there by independent exact methods), to
//! relative error 1e-9, and the required-agent examples of its README.

use queuelake_scheduler::erlang::Load;
use queuelake_scheduler::erlang_a::AbandonLoad;
use queuelake_scheduler::staffing::{Demand, Method, Requirement, Target};

/// A file of the shared folder (see `queuelake_testkit::shared`).
fn shared_file(relative: &str) -> Option<String> {
    let dir = queuelake_testkit::shared(relative)?;
    Some(std::fs::read_to_string(dir.join(relative)).expect("readable reference table"))
}

fn close(got: f64, want: f64, line: &str, what: &str) {
    let error = (got - want).abs() / want.abs().max(1e-300);
    assert!(
        error <= 1e-9,
        "{what}: {got} vs {want} (relative error {error:e}) in {line}"
    );
}

/// The CSV's cells; a cell may carry a remark after its value ("0.1 (exact)").
fn cells(line: &str) -> Vec<String> {
    line.split(',')
        .map(|c| c.split_whitespace().next().unwrap_or_default().to_owned())
        .collect()
}

fn number(text: &str) -> f64 {
    match text.split_once('/') {
        Some((a, b)) => number(a) / number(b),
        None => text
            .parse()
            .unwrap_or_else(|_| panic!("not a number: {text}")),
    }
}

#[test]
fn erlang_c_matches_the_reference_table() {
    let Some(text) = shared_file("wfm/erlang_c_reference.csv") else {
        return;
    };
    let mut cases = 0;
    for line in text.lines().skip(1) {
        let f: Vec<f64> = cells(line).iter().skip(1).map(|c| number(c)).collect();
        let (calls, period, aht, agents, t) = (f[0], f[1], f[2], f[3] as u32, f[4]);
        let load = Load::from_calls(calls, period, aht);
        // The table rounds A to 6 digits (0.666667).
        assert!((load.erlangs - f[5]).abs() < 1e-6, "{line}");
        close(
            load.wait_probability(agents).unwrap(),
            f[6],
            line,
            "P(wait)",
        );
        close(load.service_level(agents, t).unwrap(), f[7], line, "SL");
        close(load.asa_s(agents).unwrap(), f[8], line, "ASA");
        close(load.occupancy(agents), f[9], line, "occupancy");
        cases += 1;
    }
    assert_eq!(cases, 6);
}

#[test]
fn erlang_a_matches_the_reference_table() {
    let Some(text) = shared_file("wfm/erlang_a_reference.csv") else {
        return;
    };
    let mut cases = 0;
    for line in text.lines().skip(1) {
        // id,calls / s,AHT s,patience s,N,t s,P(W>0),P(Ab),E[W] all,ASA served,
        // SL_served(t),SL given answered,P(W≤t) all,occupancy
        let f: Vec<f64> = cells(line).iter().skip(1).map(|c| number(c)).collect();
        let load = AbandonLoad {
            calls_per_s: f[0],
            aht_s: f[1],
            patience_s: f[2],
        };
        let a = load.evaluate(f[3] as u32, f[4]);
        close(a.wait_probability, f[5], line, "P(W>0)");
        close(a.abandon_probability, f[6], line, "P(Ab)");
        close(a.mean_wait_s, f[7], line, "E[W] all");
        close(a.asa_s, f[8], line, "ASA served");
        close(a.service_level, f[9], line, "SL_served");
        close(a.service_level_answered, f[10], line, "SL given answered");
        close(a.wait_within, f[11], line, "P(W≤t) all");
        close(a.occupancy, f[12], line, "occupancy");
        cases += 1;
    }
    assert_eq!(cases, 5);
}

/// 100 calls per 30 minutes, AHT 180 s, 80 % in 20 s (the README's
/// classic check, and pyworkforce's occupancy example).
#[test]
fn the_classic_requirements() {
    let demand = Demand {
        calls: 100.0,
        period_s: 1800.0,
        aht_s: 180.0,
    };
    let rule = |method, max_occupancy, shrinkage| Requirement {
        target: Target::ServiceLevel {
            share: 0.8,
            threshold_s: 20.0,
        },
        max_occupancy,
        shrinkage,
        method,
    };
    let c = rule(Method::ErlangC, 1.0, 0.3).staff(&demand).unwrap();
    assert_eq!((c.agents_required, c.agents_with_shrinkage), (14, 20));
    assert!((c.service_level - 0.888350019179).abs() < 1e-12);
    assert_eq!(c.abandon, 0.0);
    let capped = rule(Method::ErlangC, 0.7, 0.3).staff(&demand).unwrap();
    assert_eq!(
        (capped.agents_required, capped.agents_with_shrinkage),
        (15, 22)
    );
    let a = rule(Method::ErlangA { patience_s: 300.0 }, 1.0, 0.0)
        .staff(&demand)
        .unwrap();
    assert_eq!(a.agents_required, 13);
    assert!(a.service_level >= 0.8 && a.abandon > 0.0, "{a:?}");
    // An ASA target of 15 s: 13 agents give 17.1 s (row C2), 14 give 7.8 s (C1).
    let asa = Requirement {
        target: Target::Asa { seconds: 15.0 },
        ..rule(Method::ErlangC, 1.0, 0.0)
    }
    .staff(&demand)
    .unwrap();
    assert_eq!(asa.agents_required, 14);
    assert!((asa.asa_s - 7.83593701178).abs() < 1e-9);
}
