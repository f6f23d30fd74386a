//! The covering problem as linear programs (microlp, pure Rust): the
//! week's LP relaxation, and one integer program per day.
//!
//! Variables: `x[d][s]` agents starting shift type `s` on day `d`;
//! `z[d][s][k][o]` of them starting break `k` at offset `earliest + o`
//! (Σ_o z = x); with tours, `y[p]` agents on days-off pattern `p` and
//! Σ_s x[d][s] = Σ_{p works d} y[p]. An interval's coverage is the agents
//! on a shift that works it minus those on a break in it.

use std::time::Duration;

use microlp::{ComparisonOp, OptimizationDirection, Problem, SolveOptions, SolveOutcome, Variable};

use super::{CoverError, CoverProblem, Objective, SolveLimits};

/// The week's LP relaxation.
#[derive(Debug, Clone, PartialEq)]
pub struct Relaxed {
    /// Its optimal value: a lower bound on every schedule.
    pub bound: f64,
    /// Agents per days-off pattern (with tours), fractional.
    pub tours: Option<Vec<f64>>,
}

/// One day's integer answer.
#[derive(Debug, Clone, PartialEq)]
pub struct DaySolution {
    /// Agents per shift type.
    pub counts: Vec<u32>,
    /// Break starts per shift type and break, per offset from `earliest`.
    pub breaks: Vec<Vec<Vec<u32>>>,
}

/// A model over some days and the handles of its variables.
struct Built {
    lp: Problem,
    /// `x[i][s]` for the i-th day modelled.
    x: Vec<Vec<Variable>>,
    /// `z[i][s][k][o]`.
    z: Vec<Vec<Vec<Vec<Variable>>>>,
    /// Tours' `y[p]` (week model only).
    y: Vec<Variable>,
}

/// Builds the model of `days`. `agents`: per-day agent totals to meet
/// exactly (tours rounded); `tour_vars`: model the tours' `y` instead.
fn build(
    problem: &CoverProblem,
    days: &[usize],
    integer: bool,
    agents: Option<&[u32]>,
    tour_vars: bool,
) -> Built {
    let per_day = problem.intervals_per_day;
    let week = 7 * per_day;
    let mut lp = Problem::new(OptimizationDirection::Minimize);
    let cap = problem
        .max_per_shift
        .map_or(1_000_000, |c| c.min(1_000_000));
    let var = |lp: &mut Problem, cost: f64, max: u32| {
        if integer {
            lp.add_integer_var(cost, (0, i32::try_from(max).unwrap_or(i32::MAX)))
        } else {
            lp.add_var(cost, (0.0, f64::from(max)))
        }
    };
    // Which week intervals the model constrains.
    let constrained: Vec<usize> = days
        .iter()
        .flat_map(|d| d * per_day..(d + 1) * per_day)
        .collect();
    let mut on_phone: Vec<Vec<(Variable, f64)>> = vec![Vec::new(); week];
    let (mut xs, mut zs) = (Vec::new(), Vec::new());
    for &d in days {
        let (mut x_day, mut z_day) = (Vec::new(), Vec::new());
        for shift in &problem.shifts {
            let cost = match problem.objective {
                Objective::PaidTime => problem.paid_hours(shift),
                Objective::Cost => shift.cost,
                Objective::UnderOver { .. } => 0.0,
            };
            let x = var(&mut lp, cost, cap);
            x_day.push(x);
            let start = d * per_day + shift.start;
            for o in (0..shift.span).filter(|o| shift.works_at(*o)) {
                on_phone[(start + o) % week].push((x, 1.0));
            }
            let mut z_shift = Vec::new();
            for rule in &shift.breaks {
                let mut link = vec![(x, -1.0)];
                let mut z_rule = Vec::new();
                for o in rule.earliest..rule.latest_end {
                    let z = var(&mut lp, 0.0, cap);
                    link.push((z, 1.0));
                    z_rule.push(z);
                    for k in 0..rule.length {
                        on_phone[(start + o + k) % week].push((z, -1.0));
                    }
                }
                lp.add_constraint(link, ComparisonOp::Eq, 0.0);
                z_shift.push(z_rule);
            }
            z_day.push(z_shift);
        }
        xs.push(x_day);
        zs.push(z_day);
    }
    let mut y = Vec::new();
    if let (true, Some(patterns)) = (tour_vars, &problem.tours) {
        y = patterns
            .iter()
            .map(|_| lp.add_var(0.0, (0.0, f64::INFINITY)))
            .collect();
        for (i, &d) in days.iter().enumerate() {
            let mut link: Vec<(Variable, f64)> = xs[i].iter().map(|x| (*x, 1.0)).collect();
            for (p, works) in patterns.iter().enumerate() {
                if works[d] {
                    link.push((y[p], -1.0));
                }
            }
            lp.add_constraint(link, ComparisonOp::Eq, 0.0);
        }
    } else if let Some(agents) = agents {
        for (i, &d) in days.iter().enumerate() {
            let link: Vec<(Variable, f64)> = xs[i].iter().map(|x| (*x, 1.0)).collect();
            lp.add_constraint(link, ComparisonOp::Eq, f64::from(agents[d]));
        }
    }
    for t in constrained {
        let required = problem.required[t];
        let row = std::mem::take(&mut on_phone[t]);
        if let Some(max) = problem.max_per_interval {
            lp.add_constraint(row.clone(), ComparisonOp::Le, f64::from(max));
        }
        match problem.objective {
            Objective::PaidTime | Objective::Cost => {
                if required > 0.0 {
                    lp.add_constraint(row, ComparisonOp::Ge, required);
                }
            }
            Objective::UnderOver { under, over } => {
                let short = lp.add_var(under, (0.0, f64::INFINITY));
                let surplus = lp.add_var(over, (0.0, f64::INFINITY));
                let mut row = row;
                row.push((short, 1.0));
                row.push((surplus, -1.0));
                lp.add_constraint(row, ComparisonOp::Eq, required);
            }
        }
    }
    Built {
        lp,
        x: xs,
        z: zs,
        y,
    }
}

/// Solves the week's LP relaxation.
pub fn relax_week(problem: &CoverProblem) -> Result<Relaxed, CoverError> {
    let days: Vec<usize> = (0..7).collect();
    let built = build(problem, &days, false, None, true);
    let solution = match built.lp.solve() {
        Ok(SolveOutcome::Solution(s)) => s,
        Ok(SolveOutcome::Interrupted(_)) => {
            return Err(CoverError::Solver("the LP was interrupted".into()));
        }
        Err(microlp::Error::Infeasible) => {
            return Err(CoverError::Infeasible(
                "even fractional agents cannot cover it (a shift cap or an interval cap is too low)"
                    .into(),
            ));
        }
        Err(e) => return Err(CoverError::Solver(e.to_string())),
    };
    Ok(Relaxed {
        bound: solution.objective(),
        tours: (!built.y.is_empty())
            .then(|| built.y.iter().map(|v| solution.var_value(*v)).collect()),
    })
}

/// Rounds the LP's tours to whole agents and solves the days; a day that
/// cannot be covered with its agents gets one more agent (on the pattern
/// working it whose LP value was rounded down the most) until all can.
pub fn round_tours(
    problem: &CoverProblem,
    patterns: &[[bool; 7]],
    fractional: &[f64],
    limits: &SolveLimits,
) -> Result<(Vec<u32>, Vec<DaySolution>), CoverError> {
    let mut agents: Vec<u32> = fractional
        .iter()
        .map(|v| v.max(0.0).round() as u32)
        .collect();
    for _ in 0..64 {
        let per_day: Vec<u32> = (0..7)
            .map(|d| {
                patterns
                    .iter()
                    .zip(&agents)
                    .filter(|(p, _)| p[d])
                    .map(|(_, n)| *n)
                    .sum()
            })
            .collect();
        match solve_days(problem, Some(&per_day), limits) {
            Ok(days) => return Ok((agents, days)),
            Err(CoverError::Infeasible(day)) => {
                let day: usize = day.parse().unwrap_or(0);
                let bump = patterns
                    .iter()
                    .enumerate()
                    .filter(|(_, p)| p[day])
                    .max_by(|a, b| {
                        let left = |p: usize| fractional[p] - f64::from(agents[p]);
                        left(a.0).total_cmp(&left(b.0))
                    })
                    .map(|(p, _)| p)
                    .ok_or_else(|| CoverError::Infeasible(format!("no tour works day {day}")))?;
                agents[bump] += 1;
            }
            Err(e) => return Err(e),
        }
    }
    Err(CoverError::Infeasible(
        "64 more agents did not make every day coverable".into(),
    ))
}

/// Solves each day's integer program (`agents`: per-day totals to meet).
/// An uncoverable day is `Infeasible` with the day's index as its text.
pub fn solve_days(
    problem: &CoverProblem,
    agents: Option<&[u32]>,
    limits: &SolveLimits,
) -> Result<Vec<DaySolution>, CoverError> {
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let threads = if limits.threads == 0 {
        cores
    } else {
        limits.threads
    }
    .clamp(1, 7);
    let rounds = 7usize.div_ceil(threads) as u32;
    let per_day = (limits.time / rounds).max(Duration::from_millis(50));
    let results: Vec<(usize, Result<DaySolution, CoverError>)> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|w| {
                scope.spawn(move || {
                    (w..7)
                        .step_by(threads)
                        .map(|d| (d, solve_day(problem, d, agents, per_day, limits.mip_gap)))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| {
                w.join().unwrap_or_else(|_| {
                    vec![(0, Err(CoverError::Solver("a day's solver panicked".into())))]
                })
            })
            .collect()
    });
    let mut days: Vec<Option<DaySolution>> = vec![None; 7];
    for (d, result) in results {
        days[d] = Some(result?);
    }
    days.into_iter()
        .enumerate()
        .map(|(d, s)| s.ok_or_else(|| CoverError::Solver(format!("day {d} was not solved"))))
        .collect()
}

fn solve_day(
    problem: &CoverProblem,
    day: usize,
    agents: Option<&[u32]>,
    time: Duration,
    mip_gap: f64,
) -> Result<DaySolution, CoverError> {
    let built = build(problem, &[day], true, agents, false);
    let mut options = SolveOptions::default();
    options.time_limit = Some(time);
    options.mip_gap = mip_gap;
    let solution = match built.lp.solve_with(options) {
        Ok(SolveOutcome::Solution(s)) => s,
        Ok(SolveOutcome::Interrupted(_)) => {
            return Err(CoverError::Solver(format!(
                "day {day}: no integer schedule within {time:?}"
            )));
        }
        Err(microlp::Error::Infeasible) => return Err(CoverError::Infeasible(day.to_string())),
        Err(e) => return Err(CoverError::Solver(e.to_string())),
    };
    let whole = |v: &Variable| solution.var_value(*v).round().max(0.0) as u32;
    Ok(DaySolution {
        counts: built.x[0].iter().map(whole).collect(),
        breaks: built.z[0]
            .iter()
            .map(|shift| {
                shift
                    .iter()
                    .map(|rule| rule.iter().map(whole).collect())
                    .collect()
            })
            .collect(),
    })
}
