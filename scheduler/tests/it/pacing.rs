//! Pacing: each mode's invariants over random floors, and the predictive
//! policy on a short simulated campaign.

use proptest::prelude::*;
use queuelake_scheduler::pacing::evaluation::{EvaluationConfig, Profile, evaluate};
use queuelake_scheduler::pacing::pacers::QueuelakePacer;
use queuelake_scheduler::pacing::{Budget, Caps, Floor, Mode, Rates, decide};

fn modes() -> impl Strategy<Value = Mode> {
    prop_oneof![
        Just(Mode::Preview),
        Just(Mode::Progressive),
        Just(Mode::Predictive),
        (0.5f64..5.0).prop_map(|ratio| Mode::Power { ratio }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn every_mode_keeps_its_invariants(
        mode in modes(),
        free in 0u32..30, on_call in 0u32..30, wrap in 0u32..10, in_flight in 0u32..60,
        p in 0.01f64..0.9, se in 0.0f64..0.1, ring_s in 1.0f64..30.0, talk_s in 10.0f64..600.0,
        answered in 0.0f64..100_000.0, drop_share in 0.0f64..0.06,
        max_lines in 0u32..100, max_ratio in 1.0f64..5.0,
    ) {
        let floor = Floor { agents_free: free, agents_on_call: on_call, agents_wrapup: wrap, calls_in_flight: in_flight, ..Floor::default() };
        let rates = Rates { live_answer: p, live_answer_se: se, ring_s, talk_s, wrap_s: 15.0, human_share: 1.0 };
        let budget = Budget {
            target: 0.03, answered, dropped: answered * drop_share,
            expected_answers_ahead: 2_000.0, margin: 0.1, confidence_z: 1.645,
        };
        let caps = Caps { max_lines, max_ratio };
        let d = decide(mode, &floor, &rates, &budget, &caps);
        // Caps hold: lines in flight after the decision.
        prop_assert!(in_flight + d.calls <= max_lines.max(in_flight));
        if d.calls > 0 {
            prop_assert!(in_flight + d.calls <= max_lines);
            prop_assert!(f64::from(in_flight + d.calls) <= max_ratio * d.expected_free_agents.max(1.0) + 1e-9);
        }
        // Nobody staffed: nothing placed.
        if free + on_call + wrap == 0 {
            prop_assert_eq!(d.calls, 0);
        }
        match mode {
            Mode::Preview => prop_assert_eq!(d.calls, 0),
            // Progressive never places more calls than free agents.
            Mode::Progressive => prop_assert!(in_flight + d.calls <= free.max(in_flight) && d.calls <= free),
            Mode::Power { .. } => {}
            // Predictive stays within what it may spend, by its upper bound.
            Mode::Predictive => {
                if d.calls > 0 {
                    prop_assert!(d.projected_abandon_upper <= d.allowed_abandon + 1e-12);
                }
                prop_assert!(d.projected_abandon <= d.projected_abandon_upper + 1e-12);
            }
        }
    }
}

#[test]
fn over_the_limit_the_predictive_policy_backs_off_and_ahead_of_it_dials_harder() {
    let floor = Floor {
        agents_free: 10,
        agents_on_call: 10,
        agents_wrapup: 0,
        calls_in_flight: 0,
        ..Floor::default()
    };
    let rates = Rates {
        live_answer: 0.3,
        live_answer_se: 0.01,
        ring_s: 10.0,
        talk_s: 180.0,
        wrap_s: 15.0,
        human_share: 1.0,
    };
    let caps = Caps {
        max_lines: 500,
        max_ratio: 10.0,
    };
    let budget = |dropped: f64| Budget {
        target: 0.03,
        answered: 10_000.0,
        dropped,
        expected_answers_ahead: 2_000.0,
        margin: 0.1,
        confidence_z: 1.645,
    };
    let ahead = decide(Mode::Predictive, &floor, &rates, &budget(0.0), &caps);
    let at_limit = decide(Mode::Predictive, &floor, &rates, &budget(300.0), &caps);
    let over = decide(Mode::Predictive, &floor, &rates, &budget(400.0), &caps);
    assert!(ahead.calls > at_limit.calls, "{ahead:?} {at_limit:?}");
    assert!(at_limit.calls >= over.calls, "{at_limit:?} {over:?}");
    assert_eq!(over.allowed_abandon, 0.0);
    // With nothing allowed it still places calls that cannot be dropped:
    // no more than the agents surely free.
    assert!(
        over.calls <= 10 && over.projected_abandon_upper == 0.0,
        "{over:?}"
    );
}

#[test]
fn a_week_of_the_simulated_campaign_stays_under_the_limit() {
    let e = EvaluationConfig {
        seed: 7,
        days: 7,
        agents: 10,
        wrap_s: 15,
        profile: Profile::Swinging,
        amd_ms: (1_500, 3_000),
    };
    let caps = Caps {
        max_lines: 100,
        max_ratio: 4.0,
    };
    let r = evaluate(&e, &mut QueuelakePacer::new(0.03, 15.0, caps));
    let score = &r.score;
    assert!(score.live_answers > 1_000, "{r:?}");
    assert!(score.worst_window.is_some_and(|w| w <= 0.03), "{r:?}");
    assert!(score.talk_occupancy > 0.6, "{r:?}");
}
