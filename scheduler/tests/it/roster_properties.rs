//! Rostering over random rosters: whatever the shifts, agents and rules,
//! no assignment breaks a contract, availability, day off, skill, rest or
//! consecutive-day rule. The rules are checked here by code of their own,
//! not by the roster module's checker.

use proptest::prelude::*;
use queuelake_scheduler::roster::{Agent, RosterRules, RosterShift, assign};

const QUEUES: [&str; 2] = ["sales", "support"];

fn shifts() -> impl Strategy<Value = Vec<RosterShift>> {
    proptest::collection::vec((0usize..7, 0u32..48, 8u32..21, 0usize..3), 0..40).prop_map(|raw| {
        raw.into_iter()
            .map(|(day, half_hour, length, skill)| RosterShift {
                day,
                start_min: half_hour * 30,
                end_min: half_hour * 30 + length * 30,
                paid_min: length * 30 - 30,
                skill: QUEUES.get(skill).map(|q| (*q).to_owned()),
            })
            .collect()
    })
}

fn agents() -> impl Strategy<Value = Vec<Agent>> {
    proptest::collection::vec(
        (
            0usize..4,
            0u32..30,
            10u32..50,
            proptest::collection::vec(proptest::option::of((0u32..24, 8u32..30)), 7),
            proptest::collection::vec(0usize..7, 0..3),
        ),
        1..8,
    )
    .prop_map(|raw| {
        raw.into_iter()
            .enumerate()
            .map(|(i, (skills, min_h, max_h, days, days_off))| Agent {
                name: format!("agent {i}"),
                skills: match skills {
                    0 => vec!["sales".into()],
                    1 => vec!["support".into()],
                    2 => vec!["sales".into(), "support".into()],
                    _ => Vec::new(),
                },
                min_week_min: min_h * 60,
                max_week_min: max_h * 60,
                availability: std::array::from_fn(|d| {
                    days[d].map(|(from, hours)| (from * 60, (from + hours) * 60))
                }),
                days_off,
            })
            .collect()
    })
}

/// Whether `agent` holding `held` keeps every rule (this test's own check).
fn keeps_rules(agent: &Agent, held: &[&RosterShift], rules: &RosterRules) -> bool {
    let paid: u32 = held.iter().map(|s| s.paid_min).sum();
    if paid > agent.max_week_min {
        return false;
    }
    for s in held {
        let skilled = s.skill.as_ref().is_none_or(|k| agent.skills.contains(k));
        let window = agent.availability[s.day];
        let available = window.is_some_and(|(from, to)| from <= s.start_min && s.end_min <= to);
        if !skilled || !available || agent.days_off.contains(&s.day) {
            return false;
        }
    }
    let mut sorted: Vec<&&RosterShift> = held.iter().collect();
    sorted.sort_by_key(|s| s.day * 1440 + s.start_min as usize);
    for pair in sorted.windows(2) {
        let end = pair[0].day as i64 * 1440 + i64::from(pair[0].end_min);
        let next = pair[1].day as i64 * 1440 + i64::from(pair[1].start_min);
        if pair[0].day == pair[1].day || next - end < i64::from(rules.min_rest_min) {
            return false;
        }
    }
    let mut run = 0;
    for day in 0..7 {
        run = if held.iter().any(|s| s.day == day) {
            run + 1
        } else {
            0
        };
        if run > rules.max_consecutive_days {
            return false;
        }
    }
    true
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn no_assignment_breaks_a_rule(
        shifts in shifts(),
        agents in agents(),
        rest_h in 8u32..13,
        max_days in 3usize..7,
    ) {
        let rules = RosterRules { min_rest_min: rest_h * 60, max_consecutive_days: max_days };
        let roster = assign(&shifts, &agents, &rules);
        prop_assert_eq!(roster.assigned.len(), shifts.len());
        for (a, agent) in agents.iter().enumerate() {
            let mut held: Vec<&RosterShift> = shifts
                .iter()
                .zip(&roster.assigned)
                .filter(|(_, who)| **who == Some(a))
                .map(|(s, _)| s)
                .collect();
            let paid: u32 = held.iter().map(|s| s.paid_min).sum();
            prop_assert!(paid <= agent.max_week_min, "{} paid {paid} > {}", agent.name, agent.max_week_min);
            prop_assert!(keeps_rules(agent, &held, &rules), "{} holds {:?}", agent.name, held);
            let short = agent.min_week_min.saturating_sub(paid);
            prop_assert_eq!(
                roster.under_contract.iter().find(|(who, _)| *who == a).map(|(_, m)| *m).unwrap_or(0),
                short
            );
            for s in &held {
                if let Some(skill) = &s.skill {
                    prop_assert!(agent.skills.contains(skill));
                }
                prop_assert!(!agent.days_off.contains(&s.day));
                let window = agent.availability[s.day];
                prop_assert!(window.is_some_and(|(from, to)| from <= s.start_min && s.end_min <= to));
            }
            held.sort_by_key(|s| s.day * 1440 + s.start_min as usize);
            for pair in held.windows(2) {
                prop_assert!(pair[0].day != pair[1].day, "two shifts on day {}", pair[0].day);
                let end = pair[0].day as i64 * 1440 + i64::from(pair[0].end_min);
                let next = pair[1].day as i64 * 1440 + i64::from(pair[1].start_min);
                prop_assert!(next - end >= i64::from(rules.min_rest_min), "rest {} min", next - end);
            }
            let mut run = 0;
            for day in 0..7 {
                run = if held.iter().any(|s| s.day == day) { run + 1 } else { 0 };
                prop_assert!(run <= rules.max_consecutive_days);
            }
        }
        // Nothing is left undone that could be done: a shift without an
        // agent fits nobody's week as it stands.
        for (s, who) in shifts.iter().zip(&roster.assigned) {
            if who.is_some() {
                continue;
            }
            for (a, agent) in agents.iter().enumerate() {
                let mut held: Vec<&RosterShift> = shifts
                    .iter()
                    .zip(&roster.assigned)
                    .filter(|(_, w)| **w == Some(a))
                    .map(|(h, _)| h)
                    .collect();
                held.push(s);
                prop_assert!(!keeps_rules(agent, &held, &rules), "{} could take {:?}", agent.name, s);
            }
        }
    }
}
