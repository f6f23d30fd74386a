//! Properties of the staffing math: the service level rises with agents,
//! the requirement is the least that meets the target, Erlang A with
//! (nearly) infinite patience is Erlang C, and large centers stay finite.

use proptest::prelude::*;
use queuelake_scheduler::erlang::Load;
use queuelake_scheduler::erlang_a::AbandonLoad;
use queuelake_scheduler::staffing::{Demand, Method, Requirement, Target};

fn demand() -> impl Strategy<Value = Demand> {
    (
        1.0f64..2_000.0,
        prop_oneof![Just(900.0), Just(1800.0), Just(3600.0)],
        20.0f64..900.0,
    )
        .prop_map(|(calls, period_s, aht_s)| Demand {
            calls,
            period_s,
            aht_s,
        })
}

fn method() -> impl Strategy<Value = Method> {
    prop_oneof![
        Just(Method::ErlangC),
        (30.0f64..1_200.0).prop_map(|patience_s| Method::ErlangA { patience_s }),
    ]
}

fn target() -> impl Strategy<Value = Target> {
    prop_oneof![
        (0.5f64..0.97, 5.0f64..60.0)
            .prop_map(|(share, threshold_s)| Target::ServiceLevel { share, threshold_s }),
        (2.0f64..120.0).prop_map(|seconds| Target::Asa { seconds }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn the_requirement_is_the_least_staffing_that_meets_the_target(
        demand in demand(),
        method in method(),
        target in target(),
        max_occupancy in 0.6f64..=1.0,
    ) {
        let rule = Requirement { target, max_occupancy, shrinkage: 0.3, method };
        let got = rule.staff(&demand).unwrap();
        let n = got.agents_required;
        prop_assert!(got.occupancy <= max_occupancy + 1e-12);
        match target {
            Target::ServiceLevel { share, .. } => prop_assert!(got.service_level >= share),
            Target::Asa { seconds } => prop_assert!(got.asa_s <= seconds),
        }
        prop_assert!(got.agents_with_shrinkage >= n);
        // One agent fewer misses the target or the occupancy cap.
        if n > 1 {
            let fewer = Requirement { shrinkage: 0.0, ..rule };
            let one_less = fewer.staff(&Demand { ..demand }).unwrap().agents_required;
            prop_assert_eq!(one_less, n, "the search is deterministic");
            let misses = match method {
                Method::ErlangC => {
                    let load = Load::from_calls(demand.calls, demand.period_s, demand.aht_s);
                    let occupancy_ok = load.occupancy(n - 1) <= max_occupancy;
                    let target_ok = match target {
                        Target::ServiceLevel { share, threshold_s } =>
                            load.service_level(n - 1, threshold_s).is_some_and(|sl| sl >= share),
                        Target::Asa { seconds } => load.asa_s(n - 1).is_some_and(|w| w <= seconds),
                    };
                    !(occupancy_ok && target_ok)
                }
                Method::ErlangA { patience_s } => {
                    let load = AbandonLoad::from_calls(demand.calls, demand.period_s, demand.aht_s, patience_s);
                    let threshold = match target {
                        Target::ServiceLevel { threshold_s, .. } => threshold_s,
                        Target::Asa { .. } => 20.0,
                    };
                    let a = load.evaluate(n - 1, threshold);
                    let target_ok = match target {
                        Target::ServiceLevel { share, .. } => a.service_level >= share,
                        Target::Asa { seconds } => a.asa_s <= seconds,
                    };
                    !(a.occupancy <= max_occupancy && target_ok)
                }
            };
            prop_assert!(misses, "{} agents would do: {:?}", n - 1, got);
        }
    }

    #[test]
    fn the_service_level_rises_with_agents(
        demand in demand(),
        patience_s in 30.0f64..1_200.0,
        threshold_s in 0.0f64..60.0,
    ) {
        let c = Load::from_calls(demand.calls, demand.period_s, demand.aht_s);
        let a = AbandonLoad::from_calls(demand.calls, demand.period_s, demand.aht_s, patience_s);
        let start = (c.erlangs.floor() as u32).saturating_sub(3).max(1);
        let (mut last_c, mut last_a) = (0.0f64, 0.0f64);
        for agents in start..start + 12 {
            if let Some(sl) = c.service_level(agents, threshold_s) {
                prop_assert!(sl >= last_c - 1e-12, "Erlang C at {agents}: {sl} < {last_c}");
                last_c = sl;
            }
            let sl = a.evaluate(agents, threshold_s).service_level;
            prop_assert!(sl >= last_a - 1e-12, "Erlang A at {agents}: {sl} < {last_a}");
            last_a = sl;
        }
    }

    #[test]
    fn erlang_a_with_endless_patience_is_erlang_c(
        demand in demand(),
        spare in 1u32..40,
        threshold_s in 0.0f64..60.0,
    ) {
        let c = Load::from_calls(demand.calls, demand.period_s, demand.aht_s);
        let agents = c.erlangs.floor() as u32 + spare;
        let erlang_c = (
            c.wait_probability(agents).unwrap(),
            c.service_level(agents, threshold_s).unwrap(),
            c.asa_s(agents).unwrap(),
        );
        // Infinite patience is Erlang C (to rounding: the load is formed
        // as a rate there).
        let endless = AbandonLoad::from_calls(demand.calls, demand.period_s, demand.aht_s, f64::INFINITY)
            .evaluate(agents, threshold_s);
        let same = |x: f64, y: f64| (x - y).abs() <= 1e-12 * y.abs().max(1e-12);
        prop_assert!(same(endless.wait_probability, erlang_c.0));
        // A service level is 1 − P(wait)·e^(…): near full occupancy with a
        // zero threshold it is a small difference of numbers near 1, so it
        // is compared in absolute terms (a probability to 1e-12).
        prop_assert!((endless.service_level - erlang_c.1).abs() <= 1e-12);
        // ASA divides by N − A: its rounding grows by N / (N − A) (50 at
        // 98 % occupancy), as the load is formed as a rate on one side.
        let condition = f64::from(agents) / (f64::from(agents) - c.erlangs);
        prop_assert!((endless.asa_s - erlang_c.2).abs() <= 1e-12 * condition * erlang_c.2.abs().max(1e-12));
        prop_assert_eq!(endless.abandon_probability, 0.0);
        // And the finite formulas tend to it: 30 years of patience, with
        // occupancy under 90 % and ASA under two minutes (with long queues
        // the finite formulas run on c = Nμ/θ ≈ 1e7 and lose about 1e-5
        // of ASA to rounding: 94.4 % occupancy and 163 s moved ASA by
        // 1.2e-5 of itself; 88.8 % and 690 s by 1.8e-5).
        prop_assume!(c.occupancy(agents) < 0.90 && erlang_c.2 < 120.0);
        let patient = AbandonLoad::from_calls(demand.calls, demand.period_s, demand.aht_s, 1e9)
            .evaluate(agents, threshold_s);
        let close = |x: f64, y: f64| (x - y).abs() <= 1e-5 * y.abs().max(1e-3);
        prop_assert!(close(patient.wait_probability, erlang_c.0), "{:?} vs {:?}", patient, erlang_c);
        prop_assert!(close(patient.service_level, erlang_c.1), "{:?} vs {:?}", patient, erlang_c);
        prop_assert!(close(patient.asa_s, erlang_c.2), "{:?} vs {:?}", patient, erlang_c);
        prop_assert!(patient.abandon_probability < 1e-5);
    }
}

#[test]
fn ten_thousand_agents_stay_finite() {
    for (erlangs, agents) in [(5_000.0, 5_050), (9_900.0, 10_000), (12_000.0, 10_000)] {
        let a = AbandonLoad {
            calls_per_s: erlangs / 300.0,
            aht_s: 300.0,
            patience_s: 120.0,
        }
        .evaluate(agents, 20.0);
        for value in [a.service_level, a.abandon_probability, a.asa_s, a.occupancy] {
            assert!(value.is_finite() && value >= 0.0, "{a:?}");
        }
        assert!(a.service_level <= 1.0 && a.occupancy <= 1.0, "{a:?}");
    }
    let big = Requirement {
        target: Target::ServiceLevel {
            share: 0.8,
            threshold_s: 20.0,
        },
        max_occupancy: 1.0,
        shrinkage: 0.0,
        method: Method::ErlangC,
    }
    .staff(&Demand {
        calls: 5_000.0 * 1800.0 / 300.0,
        period_s: 1800.0,
        aht_s: 300.0,
    })
    .unwrap();
    assert!((5_001..5_100).contains(&big.agents_required), "{big:?}");
}
