//! Rostering: the week's shifts given to named agents.
//!
//! Hard rules, never broken by an assignment (property-tested): the
//! agent has the shift's skill (queue), is available that day for the
//! whole shift, did not ask for the day off, has no other shift that day,
//! rests at least `min_rest_min` between shifts, works at most
//! `max_consecutive_days` days in a row, and stays within the contract's
//! weekly maximum. A contract's weekly minimum is a goal: shifts go first
//! to agents furthest below it, and agents left below it are reported.
//! Start times are kept stable where possible: among agents who may take
//! a shift, one who already starts at that time on another day is
//! preferred.
//!
//! The assignment is greedy over the shifts in time order, followed by a
//! repair pass that moves an agent's shift to another agent to free the
//! first for a shift nobody could take. Shifts still without an agent are
//! reported, never forced onto someone.

/// A shift to staff: day of the week and times in minutes.
#[derive(Debug, Clone, PartialEq)]
pub struct RosterShift {
    /// Day of the week, 0 = Monday.
    pub day: usize,
    /// Start, minutes after the day's midnight.
    pub start_min: u32,
    /// End, minutes after the day's midnight (past 1440 runs into the
    /// next day).
    pub end_min: u32,
    /// Paid minutes.
    pub paid_min: u32,
    /// The skill (queue) it needs; `None`: any agent.
    pub skill: Option<String>,
}

impl RosterShift {
    fn start_abs(&self) -> i64 {
        self.day as i64 * 1440 + i64::from(self.start_min)
    }

    fn end_abs(&self) -> i64 {
        self.day as i64 * 1440 + i64::from(self.end_min)
    }
}

/// An agent and their contract.
#[derive(Debug, Clone, PartialEq)]
pub struct Agent {
    /// Their name.
    pub name: String,
    /// Queues they can take.
    pub skills: Vec<String>,
    /// Paid minutes a week the contract asks for at least.
    pub min_week_min: u32,
    /// Paid minutes a week the contract allows at most.
    pub max_week_min: u32,
    /// Per day (0 = Monday): when they can work, minutes after midnight
    /// `[from, to)`; `None` that day: not available.
    pub availability: [Option<(u32, u32)>; 7],
    /// Days they asked to have off.
    pub days_off: Vec<usize>,
}

/// The rules of every roster.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RosterRules {
    /// Least minutes between the end of one shift and the start of the next.
    pub min_rest_min: u32,
    /// Most days worked in a row.
    pub max_consecutive_days: usize,
}

impl Default for RosterRules {
    fn default() -> Self {
        RosterRules {
            min_rest_min: 11 * 60,
            max_consecutive_days: 6,
        }
    }
}

/// The roster.
#[derive(Debug, Clone, PartialEq)]
pub struct Roster {
    /// For each shift, the index of its agent (`None`: nobody could).
    pub assigned: Vec<Option<usize>>,
    /// Agents below their contract's weekly minimum: (agent, minutes short).
    pub under_contract: Vec<(usize, u32)>,
}

/// The shifts each agent holds, for checks.
struct Holdings<'a> {
    shifts: &'a [RosterShift],
    by_agent: Vec<Vec<usize>>,
}

impl Holdings<'_> {
    fn paid(&self, agent: usize) -> u32 {
        self.by_agent[agent]
            .iter()
            .map(|&s| self.shifts[s].paid_min)
            .sum()
    }
}

/// Whether `agent` may take `shift` next to the shifts they hold (every
/// hard rule), ignoring the holding `except` (a shift being moved away).
fn may_take(
    agent: &Agent,
    held: &[usize],
    shifts: &[RosterShift],
    shift: &RosterShift,
    rules: &RosterRules,
    except: Option<usize>,
) -> bool {
    if let Some(skill) = &shift.skill
        && !agent.skills.iter().any(|s| s == skill)
    {
        return false;
    }
    let Some((from, to)) = agent.availability.get(shift.day).copied().flatten() else {
        return false;
    };
    if shift.start_min < from || shift.end_min > to || agent.days_off.contains(&shift.day) {
        return false;
    }
    let others: Vec<&RosterShift> = held
        .iter()
        .filter(|&&s| Some(s) != except)
        .map(|&s| &shifts[s])
        .collect();
    let paid: u32 = others.iter().map(|s| s.paid_min).sum::<u32>() + shift.paid_min;
    if paid > agent.max_week_min {
        return false;
    }
    let rest = i64::from(rules.min_rest_min);
    for other in &others {
        if other.day == shift.day {
            return false;
        }
        let apart = if other.start_abs() < shift.start_abs() {
            shift.start_abs() - other.end_abs()
        } else {
            other.start_abs() - shift.end_abs()
        };
        if apart < rest {
            return false;
        }
    }
    let mut worked = [false; 7];
    for s in others.iter().map(|s| s.day).chain([shift.day]) {
        worked[s] = true;
    }
    longest_run(&worked) <= rules.max_consecutive_days
}

/// The longest run of worked days in the week (not wrapping).
fn longest_run(worked: &[bool; 7]) -> usize {
    let (mut best, mut run) = (0, 0);
    for &w in worked {
        run = if w { run + 1 } else { 0 };
        best = best.max(run);
    }
    best
}

/// Assigns `shifts` to `agents` under `rules`.
pub fn assign(shifts: &[RosterShift], agents: &[Agent], rules: &RosterRules) -> Roster {
    let mut order: Vec<usize> = (0..shifts.len()).collect();
    order.sort_by_key(|&s| (shifts[s].start_abs(), shifts[s].end_abs()));
    let mut holdings = Holdings {
        shifts,
        by_agent: vec![Vec::new(); agents.len()],
    };
    let mut assigned: Vec<Option<usize>> = vec![None; shifts.len()];
    for &s in &order {
        let shift = &shifts[s];
        let best = (0..agents.len())
            .filter(|&a| {
                may_take(
                    &agents[a],
                    &holdings.by_agent[a],
                    shifts,
                    shift,
                    rules,
                    None,
                )
            })
            .max_by_key(|&a| {
                let paid = holdings.paid(a);
                let short = agents[a].min_week_min.saturating_sub(paid);
                let same_start = holdings.by_agent[a]
                    .iter()
                    .any(|&h| shifts[h].start_min == shift.start_min);
                // Furthest below the minimum, then a stable start, then
                // the fewest hours so far; ties to the earlier agent.
                (
                    short,
                    same_start,
                    std::cmp::Reverse(paid),
                    std::cmp::Reverse(a),
                )
            });
        if let Some(a) = best {
            holdings.by_agent[a].push(s);
            assigned[s] = Some(a);
        }
    }
    repair(shifts, agents, rules, &mut holdings, &mut assigned);
    let under_contract = (0..agents.len())
        .filter_map(|a| {
            let short = agents[a].min_week_min.saturating_sub(holdings.paid(a));
            (short > 0).then_some((a, short))
        })
        .collect();
    Roster {
        assigned,
        under_contract,
    }
}

/// For each shift nobody took: an agent who may take it as things now
/// stand (an earlier repair may have made room), else one who could once
/// one of their shifts goes to another agent who may take that one.
/// Repeats while a pass places a shift.
fn repair(
    shifts: &[RosterShift],
    agents: &[Agent],
    rules: &RosterRules,
    holdings: &mut Holdings<'_>,
    assigned: &mut [Option<usize>],
) {
    let mut placed = true;
    while placed {
        placed = false;
        for s in 0..shifts.len() {
            if assigned[s].is_none() && place(shifts, agents, rules, holdings, assigned, s) {
                placed = true;
            }
        }
    }
}

/// One repair of shift `s`; whether it was placed.
fn place(
    shifts: &[RosterShift],
    agents: &[Agent],
    rules: &RosterRules,
    holdings: &mut Holdings<'_>,
    assigned: &mut [Option<usize>],
    s: usize,
) -> bool {
    if let Some(a) = (0..agents.len()).find(|&a| {
        may_take(
            &agents[a],
            &holdings.by_agent[a],
            shifts,
            &shifts[s],
            rules,
            None,
        )
    }) {
        holdings.by_agent[a].push(s);
        assigned[s] = Some(a);
        return true;
    }
    // A swap: `a` gives one of their shifts to `b` and takes `s`.
    for a in 0..agents.len() {
        for &held in &holdings.by_agent[a].clone() {
            if !may_take(
                &agents[a],
                &holdings.by_agent[a],
                shifts,
                &shifts[s],
                rules,
                Some(held),
            ) {
                continue;
            }
            for b in (0..agents.len()).filter(|&b| b != a) {
                if may_take(
                    &agents[b],
                    &holdings.by_agent[b],
                    shifts,
                    &shifts[held],
                    rules,
                    None,
                ) {
                    holdings.by_agent[a].retain(|&h| h != held);
                    holdings.by_agent[a].push(s);
                    holdings.by_agent[b].push(held);
                    assigned[s] = Some(a);
                    assigned[held] = Some(b);
                    return true;
                }
            }
        }
    }
    false
}

/// Every hard rule `roster` breaks, in words (empty: none).
pub fn violations(
    shifts: &[RosterShift],
    agents: &[Agent],
    rules: &RosterRules,
    roster: &Roster,
) -> Vec<String> {
    let mut found = Vec::new();
    for (a, agent) in agents.iter().enumerate() {
        let held: Vec<usize> = (0..shifts.len())
            .filter(|&s| roster.assigned[s] == Some(a))
            .collect();
        for &s in &held {
            let rest: Vec<usize> = held.iter().copied().filter(|&h| h != s).collect();
            if !may_take(agent, &rest, shifts, &shifts[s], rules, None) {
                found.push(format!(
                    "{} may not hold shift #{s} (day {}, {}–{} min) beside the others",
                    agent.name, shifts[s].day, shifts[s].start_min, shifts[s].end_min
                ));
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn agent(name: &str, max_h: u32, min_h: u32) -> Agent {
        Agent {
            name: name.into(),
            skills: vec!["sales".into()],
            min_week_min: min_h * 60,
            max_week_min: max_h * 60,
            availability: [Some((0, 2880)); 7],
            days_off: Vec::new(),
        }
    }

    fn shift(day: usize, start_h: u32, hours: u32) -> RosterShift {
        RosterShift {
            day,
            start_min: start_h * 60,
            end_min: (start_h + hours) * 60,
            paid_min: hours * 60,
            skill: Some("sales".into()),
        }
    }

    #[test]
    fn rest_between_shifts_is_kept_and_starts_stay_stable() {
        // Monday 14–22 and Tuesday 06–14 are 8 h apart: one agent may not
        // hold both. Ana and Ben; Wednesday 14–22 goes to whoever started
        // at 14 on Monday.
        let shifts = [shift(0, 14, 8), shift(1, 6, 8), shift(2, 14, 8)];
        let agents = [agent("Ana", 40, 0), agent("Ben", 40, 0)];
        let rules = RosterRules::default();
        let roster = assign(&shifts, &agents, &rules);
        assert!(violations(&shifts, &agents, &rules, &roster).is_empty());
        let (mon, tue, wed) = (roster.assigned[0], roster.assigned[1], roster.assigned[2]);
        assert!(mon.is_some() && tue.is_some());
        assert_ne!(mon, tue);
        assert_eq!(wed, mon, "{roster:?}");
    }

    #[test]
    fn contracts_and_days_off_bound_the_roster_and_shortfalls_are_reported() {
        // Ana may work 8 h a week and wants Tuesday off; Ben has no sales
        // skill. Two 8-hour sales shifts: Monday goes to Ana, Tuesday to
        // nobody.
        let mut ana = agent("Ana", 8, 16);
        ana.days_off = vec![1];
        let mut ben = agent("Ben", 40, 0);
        ben.skills = vec!["support".into()];
        let shifts = [shift(0, 9, 8), shift(1, 9, 8)];
        let roster = assign(
            &shifts,
            &[ana.clone(), ben.clone()],
            &RosterRules::default(),
        );
        assert_eq!(roster.assigned, vec![Some(0), None]);
        assert_eq!(roster.under_contract, vec![(0, 8 * 60)]);
    }

    #[test]
    fn a_repair_frees_the_only_agent_who_can_take_a_shift() {
        // Ana can work any day, Ben only Monday. Greedy gives Monday to
        // Ana (she is further below her minimum); Ben cannot take Tuesday,
        // and Ana cannot take both Mon 22–06 and Tue 06–14 (no rest).
        let mut ben = agent("Ben", 40, 0);
        ben.availability = [Some((0, 2880)), None, None, None, None, None, None];
        let shifts = [shift(0, 22, 8), shift(1, 6, 8)];
        let agents = [agent("Ana", 40, 40), ben];
        let rules = RosterRules::default();
        let roster = assign(&shifts, &agents, &rules);
        assert_eq!(roster.assigned, vec![Some(1), Some(0)], "{roster:?}");
        assert!(violations(&shifts, &agents, &rules, &roster).is_empty());
    }
}
