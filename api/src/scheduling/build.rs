//! A draft from a requirement: the solver chooses shift counts and break
//! placements, they become one shift per agent, and the roster (when the
//! inputs list agents) names them.

use queuelake_scheduler::cover::{CoverProblem, Schedule, SolveLimits, solve};
use queuelake_scheduler::roster::{RosterShift, assign};

use super::draft::{Draft, DraftBreak, DraftShift};
use super::inputs::{InputError, SchedulingInputs};

/// What a draft is for.
#[derive(Debug, Clone)]
pub struct DraftRequest {
    /// Its id.
    pub id: String,
    /// The team's queues.
    pub queues: Vec<String>,
    /// Monday 00:00 local, as a UTC instant (µs).
    pub week_start_us: i64,
    /// Interval length, seconds.
    pub interval_s: i64,
    /// Agents required per interval of the week.
    pub required: Vec<f64>,
    /// The staffing run it came from.
    pub staffing_run_id: Option<String>,
}

/// Why a draft could not be built.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// The inputs are wrong.
    #[error(transparent)]
    Input(#[from] InputError),
    /// The solver found nothing.
    #[error(transparent)]
    Solver(#[from] queuelake_scheduler::cover::CoverError),
}

/// Solves, expands and rosters a draft.
pub fn build(request: DraftRequest, inputs: &SchedulingInputs) -> Result<Draft, BuildError> {
    let interval_min = (request.interval_s / 60) as u32;
    let prepared = inputs.prepare(interval_min, &request.queues)?;
    let problem = CoverProblem {
        intervals_per_day: (86_400 / request.interval_s) as usize,
        required: request.required.clone(),
        shifts: prepared.shifts.clone(),
        tours: prepared.tours.clone(),
        objective: prepared.objective,
        max_per_shift: None,
        max_per_interval: None,
    };
    let limits = SolveLimits {
        time: std::time::Duration::from_secs_f64(inputs.time_limit_s),
        ..SolveLimits::default()
    };
    let schedule = solve(&problem, &limits)?;
    let mut shifts = expand(&problem, &schedule, &prepared.unpaid_breaks);
    if !prepared.agents.is_empty() {
        let roster_shifts: Vec<RosterShift> = shifts
            .iter()
            .map(|s| s.roster_shift(interval_min))
            .collect();
        let roster = assign(&roster_shifts, &prepared.agents, &prepared.rules);
        for (shift, agent) in shifts.iter_mut().zip(roster.assigned) {
            shift.agent = agent.map(|a| prepared.agents[a].name.clone());
        }
    }
    let (under, over) = match prepared.objective {
        queuelake_scheduler::cover::Objective::UnderOver { under, over } => (under, over),
        _ => (1.0, 1.0),
    };
    Ok(Draft {
        id: request.id,
        queues: request.queues,
        week_start_us: request.week_start_us,
        interval_s: request.interval_s,
        staffing_run_id: request.staffing_run_id,
        required: request.required,
        shifts,
        bound: Some(schedule.bound),
        published_versions: 0,
        weights: (under, over),
        inputs: inputs.clone(),
    })
}

/// One shift per agent from the solver's counts; the break placements of
/// each (day, shift type) are dealt out to its agents in offset order.
fn expand(problem: &CoverProblem, schedule: &Schedule, unpaid: &[Vec<bool>]) -> Vec<DraftShift> {
    let mut shifts = Vec::new();
    for (day, counts) in schedule.counts.iter().enumerate() {
        for (s, &n) in counts.iter().enumerate() {
            let shift_type = &problem.shifts[s];
            // Per break rule, the offsets in order, one per agent.
            let offsets: Vec<Vec<usize>> = shift_type
                .breaks
                .iter()
                .enumerate()
                .map(|(k, rule)| {
                    let placed = &schedule.breaks[day][s][k];
                    placed
                        .iter()
                        .enumerate()
                        .flat_map(|(o, &m)| std::iter::repeat_n(rule.earliest + o, m as usize))
                        .collect()
                })
                .collect();
            for agent in 0..n as usize {
                let breaks = shift_type
                    .breaks
                    .iter()
                    .enumerate()
                    .map(|(k, rule)| DraftBreak {
                        offset: offsets[k].get(agent).copied().unwrap_or(rule.earliest),
                        length: rule.length,
                        paid: !unpaid
                            .get(s)
                            .and_then(|u| u.get(k))
                            .copied()
                            .unwrap_or(false),
                    })
                    .collect();
                shifts.push(DraftShift {
                    no: shifts.len() as i64,
                    pattern: shift_type.name.clone(),
                    day,
                    start: shift_type.start,
                    span: shift_type.span,
                    breaks,
                    agent: None,
                });
            }
        }
    }
    shifts
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scheduling::inputs::{AgentInput, PatternInput};

    #[test]
    fn a_draft_covers_its_requirement_and_names_its_agents() {
        // Weekdays 09:00–17:00 need 2 agents (15-minute intervals); one
        // 8-hour pattern at 09:00 without breaks; 5/2 tours; two agents.
        let mut required = vec![0.0; 7 * 96];
        for day in 0..5 {
            for t in 36..68 {
                required[day * 96 + t] = 2.0;
            }
        }
        let inputs = SchedulingInputs {
            patterns: vec![PatternInput {
                name: "day".into(),
                earliest_start: "09:00".into(),
                latest_start: "09:00".into(),
                start_every_min: 30,
                length_min: 480,
                breaks: Vec::new(),
            }],
            agents: ["Ana", "Ben"]
                .iter()
                .map(|n| AgentInput {
                    name: (*n).into(),
                    queues: Vec::new(),
                    min_hours: 40.0,
                    max_hours: 40.0,
                    available: Vec::new(),
                    days_off: Vec::new(),
                })
                .collect(),
            ..SchedulingInputs::default()
        };
        let draft = build(
            DraftRequest {
                id: "sc-1".into(),
                queues: vec!["sales".into()],
                week_start_us: 0,
                interval_s: 900,
                required,
                staffing_run_id: None,
            },
            &inputs,
        )
        .unwrap();
        let totals = draft.totals();
        assert_eq!(totals.shifts, 10);
        assert_eq!(
            (totals.short_agent_hours, totals.surplus_agent_hours),
            (0.0, 0.0)
        );
        assert_eq!(totals.paid_hours, 80.0);
        for name in ["Ana", "Ben"] {
            let days: Vec<usize> = draft
                .shifts
                .iter()
                .filter(|s| s.agent.as_deref() == Some(name))
                .map(|s| s.day)
                .collect();
            assert_eq!(days, vec![0, 1, 2, 3, 4], "{name}: {draft:?}");
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(12))]

        /// Whatever the requirement, days-off rule and roster, every shift
        /// of a draft is one of its patterns, with each break once, inside
        /// its window and apart from the others, and the roster breaks no
        /// rule.
        #[test]
        fn every_drafted_shift_and_break_keeps_its_pattern(
            day in proptest::collection::vec(0u8..4, 8),
            tours in proptest::bool::ANY,
            agents in 0usize..6,
        ) {
            // 30-minute intervals, open 09:00–13:00 on weekdays.
            let mut required = vec![0.0; 7 * 48];
            for d in 0..5 {
                for (t, r) in day.iter().enumerate() {
                    required[d * 48 + 18 + t] = f64::from(*r);
                }
            }
            let inputs = SchedulingInputs {
                patterns: vec![PatternInput {
                    name: "short".into(),
                    earliest_start: "08:00".into(),
                    latest_start: "11:00".into(),
                    start_every_min: 60,
                    length_min: 180,
                    breaks: vec![crate::scheduling::inputs::BreakInput {
                        length_min: 30,
                        earliest_min: 60,
                        latest_min: 120,
                        paid: false,
                    }],
                }],
                days_off: if tours { "two-consecutive" } else { "any" }.into(),
                agents: (0..agents)
                    .map(|i| AgentInput {
                        name: format!("agent {i}"),
                        queues: Vec::new(),
                        min_hours: 0.0,
                        max_hours: 12.0,
                        available: vec!["mon 08:00-13:00".into(), "wed 08:00-14:00".into(), "fri 09:00-14:00".into()],
                        days_off: vec!["wed".into()],
                    })
                    .collect(),
                time_limit_s: 2.0,
                ..SchedulingInputs::default()
            };
            let draft = build(
                DraftRequest {
                    id: "sc-p".into(),
                    queues: vec!["sales".into()],
                    week_start_us: 0,
                    interval_s: 1800,
                    required,
                    staffing_run_id: None,
                },
                &inputs,
            )
            .unwrap();
            for s in &draft.shifts {
                proptest::prop_assert!((16..=22).contains(&s.start) && s.start % 2 == 0, "{:?}", s);
                proptest::prop_assert_eq!(s.span, 6);
                proptest::prop_assert_eq!(s.breaks.len(), 1);
                let b = &s.breaks[0];
                proptest::prop_assert!((2..=4).contains(&b.offset) && b.length == 1 && !b.paid, "{:?}", b);
                if let Some(agent) = &s.agent {
                    // Mondays 08–13, Fridays 09–14; Wednesday is a day off.
                    let ok = match s.day {
                        0 => s.start >= 16 && s.start + s.span <= 26,
                        4 => s.start >= 18 && s.start + s.span <= 28,
                        _ => false,
                    };
                    proptest::prop_assert!(ok, "{} on day {} at {}", agent, s.day, s.start);
                    let held: usize = draft.shifts.iter().filter(|o| o.agent.as_ref() == Some(agent)).map(|o| (o.span - 1) * 30).sum();
                    proptest::prop_assert!(held <= 12 * 60, "{agent}: {held} min");
                }
            }
        }
    }
}
