//! Shift scheduling: hand-worked cases, the shared instances (their
//! proven optima and the 1 % gap goal), and random problems whose
//! schedules must keep every rule.

use proptest::prelude::*;
use queuelake_scheduler::cover::instances::{self, PyworkforceObjective};
use queuelake_scheduler::cover::{
    BreakRule, CoverProblem, Objective, ShiftType, SolveLimits, evaluate, five_two_tours, solve,
};

fn shift(start: usize, span: usize, breaks: Vec<BreakRule>) -> ShiftType {
    ShiftType {
        name: format!("{start}+{span}"),
        start,
        span,
        paid: span,
        cost: span as f64,
        works: Vec::new(),
        breaks,
    }
}

/// Hourly intervals; every day the same requirement.
fn problem(day: &[f64], shifts: Vec<ShiftType>, objective: Objective) -> CoverProblem {
    CoverProblem {
        intervals_per_day: day.len(),
        required: day.iter().copied().cycle().take(7 * day.len()).collect(),
        shifts,
        tours: None,
        objective,
        max_per_shift: None,
        max_per_interval: None,
    }
}

#[test]
fn a_break_is_placed_where_the_floor_has_room() {
    // 4 intervals a day (6 hours each) needing 2, 2, 1, 2; one shift over
    // the whole day with a one-interval break starting at offset 1 or 2.
    // Two agents cannot do it (2 are needed at 1, so both break at 2,
    // leaving nobody); three can: one breaks at 1, two at 2.
    let p = problem(
        &[2.0, 2.0, 1.0, 2.0],
        vec![shift(
            0,
            4,
            vec![BreakRule {
                length: 1,
                earliest: 1,
                latest_end: 3,
            }],
        )],
        Objective::PaidTime,
    );
    let s = solve(&p, &SolveLimits::default()).unwrap();
    assert!(evaluate::violations(&p, &s).is_empty());
    for day in 0..7 {
        assert_eq!(s.counts[day], vec![3], "{s:?}");
    }
    assert_eq!(s.breaks[0][0][0], vec![1, 2], "{s:?}");
    // 3 agents × 24 paid hours × 7 days.
    assert!((s.objective - 7.0 * 3.0 * 4.0 * 6.0).abs() < 1e-9);
    assert!(s.bound <= s.objective + 1e-9);
}

#[test]
fn under_and_over_staffing_are_weighed() {
    // Need 1, 3, 1 over three intervals; one shift type covering all
    // three. Under weighing 10 and over 1: 3 agents (surplus 2 + 2 = 4 a
    // day); under weighing 1 and over 10: 1 agent (short 2 a day).
    let day = [1.0, 3.0, 1.0];
    let shifts = vec![shift(0, 3, Vec::new())];
    let limits = SolveLimits::default();
    let heavy_under = problem(
        &day,
        shifts.clone(),
        Objective::UnderOver {
            under: 10.0,
            over: 1.0,
        },
    );
    let s = solve(&heavy_under, &limits).unwrap();
    assert_eq!(s.counts[0], vec![3]);
    assert!((s.objective - 7.0 * 4.0).abs() < 1e-9);
    let heavy_over = problem(
        &day,
        shifts,
        Objective::UnderOver {
            under: 1.0,
            over: 10.0,
        },
    );
    let s = solve(&heavy_over, &limits).unwrap();
    assert_eq!(s.counts[0], vec![1]);
    assert!((s.objective - 7.0 * 2.0).abs() < 1e-9);
}

#[test]
fn tours_give_every_working_day_its_agents() {
    // A requirement on weekdays only, with 5-on/2-off tours: everyone
    // takes the weekend off, so no agent is paid for an idle weekend.
    let mut p = problem(
        &[2.0, 2.0],
        vec![shift(0, 2, Vec::new())],
        Objective::PaidTime,
    );
    for t in 10..14 {
        p.required[t] = 0.0; // Saturday and Sunday
    }
    p.tours = Some(five_two_tours());
    let s = solve(&p, &SolveLimits::default()).unwrap();
    assert!(evaluate::violations(&p, &s).is_empty(), "{s:?}");
    assert_eq!(s.tours.as_ref().unwrap()[5], 2, "{s:?}"); // days off Sat+Sun
    assert_eq!(s.counts[5], vec![0]);
    assert!((s.objective - s.bound).abs() < 1e-9);
}

fn instance(name: &str, objective: PyworkforceObjective) -> Option<CoverProblem> {
    let relative = format!("wfm/sched_instances/{name}.json");
    let dir = queuelake_testkit::shared(&relative)?;
    let text = std::fs::read_to_string(dir.join(&relative)).expect("readable instance");
    Some(instances::read(&text, objective).expect("a valid instance"))
}

#[test]
fn the_pyworkforce_instances_reach_their_proven_optima() {
    use PyworkforceObjective::{MinAbsDifference as Abs, MinRequiredResources as Res};
    for (name, objective, optimum) in [
        ("pyworkforce_anon_bank_1999-12-05_30min", Abs, 199.0),
        ("pyworkforce_anon_bank_1999-12-05_30min", Res, 2744.0),
        ("pyworkforce_us_bank_2003-10-06_30min", Abs, 353.0),
        ("pyworkforce_us_bank_2003-10-06_30min", Res, 34584.0),
        ("pyworkforce_us_bank_2003-10-06_15min", Abs, 1115.0),
        ("pyworkforce_us_bank_2003-10-06_15min", Res, 70584.0),
    ] {
        let Some(p) = instance(name, objective) else {
            return;
        };
        let s = solve(&p, &SolveLimits::default()).unwrap();
        assert!(evaluate::violations(&p, &s).is_empty(), "{name}");
        assert_eq!(s.objective, optimum, "{name} {objective:?}");
    }
}

#[test]
fn the_small_tours_instance_is_within_one_percent_of_its_bound() {
    let Some(p) = instance("tours_small", PyworkforceObjective::MinRequiredResources) else {
        return;
    };
    let s = solve(&p, &SolveLimits::default()).unwrap();
    let broken = evaluate::violations(&p, &s);
    assert!(broken.is_empty(), "{broken:?}");
    // LP bound 1544.20 paid hours (as ../shared/wfm/README.md lists).
    assert!((s.bound - 1544.20).abs() < 0.01, "{}", s.bound);
    assert!(s.gap() <= 0.01, "{} vs {}", s.objective, s.bound);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// Any requirement, any shift types with breaks, with or without
    /// tours: the schedule keeps every rule (coverage, break windows,
    /// breaks taken once, tours) and never beats its own bound.
    #[test]
    fn random_schedules_keep_every_rule(
        day in proptest::collection::vec(0u8..6, 8),
        starts in proptest::collection::vec((0usize..6, 3usize..7), 1..4),
        with_tours in any::<bool>(),
    ) {
        // A whole-day shift makes every requirement coverable.
        let shifts = std::iter::once((0, 8))
            .chain(starts)
            .map(|(start, span)| {
                let breaks = if span >= 5 {
                    vec![BreakRule { length: 1, earliest: 1, latest_end: span - 1 }]
                } else {
                    Vec::new()
                };
                shift(start, span, breaks)
            })
            .collect();
        let day: Vec<f64> = day.into_iter().map(f64::from).collect();
        let mut p = problem(&day, shifts, Objective::PaidTime);
        if with_tours {
            p.tours = Some(five_two_tours());
        }
        let s = solve(&p, &SolveLimits::default()).unwrap();
        let broken = evaluate::violations(&p, &s);
        prop_assert!(broken.is_empty(), "{:?}", broken);
        prop_assert!(s.objective + 1e-6 >= s.bound);
    }
}
