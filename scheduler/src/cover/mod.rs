//! Weekly shift scheduling: how many agents start each shift type on each
//! day, and where their breaks go, so that the agents on the phones cover
//! the requirement of every interval.
//!
//! The solver ([`solve`]) is an LP relaxation of the whole week (its value
//! is the lower bound reported with every schedule), then, with tours,
//! the days-off patterns rounded to whole agents, then one small integer
//! program per day (shift counts and break placements) solved by branch
//! and bound, on every core. Days only interact through the tours: a shift
//! that runs past midnight adds coverage to the next morning, which the
//! next day's program ignores (its agents are on shift or on their own
//! break there, never less than zero), so the days' answers together are a
//! valid week. The candidates compared and why this one won are in
//! ARCHITECTURE.md.
//!
//! Modules:
//! - [`model`]: the LP and per-day integer programs (microlp).
//! - [`evaluate`]: coverage, objective and rule checks of a schedule.
//! - [`instances`]: the benchmark file formats (tours, pyworkforce).

pub mod evaluate;
pub mod instances;
pub mod model;

use std::time::Duration;

/// A weekly covering problem.
#[derive(Debug, Clone, PartialEq)]
pub struct CoverProblem {
    /// Intervals in a day (96 for 15 minutes, 48 for 30).
    pub intervals_per_day: usize,
    /// Required agents per interval of the week, Monday 00:00 first
    /// (`7 × intervals_per_day` values).
    pub required: Vec<f64>,
    /// The shift types any day may use.
    pub shifts: Vec<ShiftType>,
    /// Days-off patterns every agent works (`None`: each day's shifts are
    /// free of one another).
    pub tours: Option<Vec<[bool; 7]>>,
    /// What to minimize.
    pub objective: Objective,
    /// Most agents on one shift type on one day.
    pub max_per_shift: Option<u32>,
    /// Most agents working in one interval.
    pub max_per_interval: Option<u32>,
}

/// A shift type.
#[derive(Debug, Clone, PartialEq)]
pub struct ShiftType {
    /// Its name (`FT8_0900`, or `start+span`).
    pub name: String,
    /// Start, in intervals from midnight.
    pub start: usize,
    /// Length, in intervals (may run past midnight).
    pub span: usize,
    /// Paid intervals.
    pub paid: usize,
    /// Cost of one agent on it (the `Cost` objective).
    pub cost: f64,
    /// Which of its intervals are worked when no break is placed (a fixed
    /// break is a 0); empty means every interval.
    pub works: Vec<bool>,
    /// Breaks each agent takes once, placed by the solver.
    pub breaks: Vec<BreakRule>,
}

impl ShiftType {
    /// Whether offset `o` (0..span) is worked before placed breaks.
    pub fn works_at(&self, o: usize) -> bool {
        self.works.get(o).copied().unwrap_or(o < self.span)
    }
}

/// A break every agent on a shift takes once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BreakRule {
    /// Its length, in intervals.
    pub length: usize,
    /// The first offset from the shift's start it may start at.
    pub earliest: usize,
    /// One past the last offset it may start at.
    pub latest_end: usize,
}

/// What a schedule minimizes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Objective {
    /// Paid hours, coverage required in full.
    PaidTime,
    /// Σ cost × agents, coverage required in full.
    Cost,
    /// `under` × intervals short of the requirement plus `over` ×
    /// intervals above it (coverage may fall short).
    UnderOver {
        /// Weight of a missing agent-interval.
        under: f64,
        /// Weight of a surplus agent-interval.
        over: f64,
    },
}

/// Limits of a solve.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SolveLimits {
    /// Time for the per-day integer programs, in all.
    pub time: Duration,
    /// Stop a day's search once within this relative gap of its bound.
    pub mip_gap: f64,
    /// Threads for the days (0: one per core).
    pub threads: usize,
}

impl Default for SolveLimits {
    fn default() -> Self {
        SolveLimits {
            time: Duration::from_secs(5),
            mip_gap: 0.002,
            threads: 0,
        }
    }
}

/// A schedule and how good it is.
#[derive(Debug, Clone, PartialEq)]
pub struct Schedule {
    /// Agents starting each shift type, per day: `counts[day][shift]`.
    pub counts: Vec<Vec<u32>>,
    /// Break starts: `breaks[day][shift][break]` holds, per offset from
    /// the rule's `earliest`, how many agents start that break there.
    pub breaks: Vec<Vec<Vec<Vec<u32>>>>,
    /// Agents per days-off pattern (with tours).
    pub tours: Option<Vec<u32>>,
    /// Agents on the phones per interval of the week.
    pub coverage: Vec<f64>,
    /// The objective's value.
    pub objective: f64,
    /// The LP bound: no schedule does better.
    pub bound: f64,
}

impl Schedule {
    /// How far above the bound, as a share of it.
    pub fn gap(&self) -> f64 {
        if self.bound.abs() < 1e-9 {
            if self.objective.abs() < 1e-9 {
                0.0
            } else {
                f64::INFINITY
            }
        } else {
            ((self.objective - self.bound) / self.bound.abs()).max(0.0)
        }
    }
}

/// Why no schedule was found.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CoverError {
    /// The problem is malformed.
    #[error("{0}")]
    Invalid(String),
    /// No shift types can cover the requirement within the limits.
    #[error("no schedule covers the requirement: {0}")]
    Infeasible(String),
    /// The LP solver failed.
    #[error("the solver failed: {0}")]
    Solver(String),
}

/// The five-days-on, two-consecutive-days-off patterns (7 of them).
pub fn five_two_tours() -> Vec<[bool; 7]> {
    (0..7)
        .map(|first_off| {
            let mut works = [true; 7];
            works[first_off] = false;
            works[(first_off + 1) % 7] = false;
            works
        })
        .collect()
}

/// Solves `problem` within `limits`.
pub fn solve(problem: &CoverProblem, limits: &SolveLimits) -> Result<Schedule, CoverError> {
    problem.check()?;
    let relaxed = model::relax_week(problem)?;
    let agents_per_day = match (&problem.tours, &relaxed.tours) {
        (Some(patterns), Some(fractional)) => {
            Some(model::round_tours(problem, patterns, fractional, limits)?)
        }
        _ => None,
    };
    let (tours, per_day) = match agents_per_day {
        Some((tours, days)) => (Some(tours), days),
        None => (None, model::solve_days(problem, None, limits)?),
    };
    let mut schedule = Schedule {
        counts: per_day.iter().map(|d| d.counts.clone()).collect(),
        breaks: per_day.iter().map(|d| d.breaks.clone()).collect(),
        tours,
        coverage: Vec::new(),
        objective: 0.0,
        bound: relaxed.bound,
    };
    schedule.coverage = evaluate::coverage(problem, &schedule);
    schedule.objective = evaluate::objective(problem, &schedule);
    Ok(schedule)
}

impl CoverProblem {
    /// The paid hours of one agent on `shift`.
    pub fn paid_hours(&self, shift: &ShiftType) -> f64 {
        shift.paid as f64 * 24.0 / self.intervals_per_day as f64
    }

    /// Checks sizes and rules.
    pub fn check(&self) -> Result<(), CoverError> {
        let invalid = |m: String| Err(CoverError::Invalid(m));
        if self.intervals_per_day == 0 || self.required.len() != 7 * self.intervals_per_day {
            return invalid(format!(
                "the requirement has {} values; 7 days × {} intervals are {}",
                self.required.len(),
                self.intervals_per_day,
                7 * self.intervals_per_day
            ));
        }
        if let Some(bad) = self
            .required
            .iter()
            .position(|r| !(r.is_finite() && *r >= 0.0))
        {
            return invalid(format!("requirement #{bad} is {}", self.required[bad]));
        }
        if self.shifts.is_empty() {
            return invalid("no shift types".into());
        }
        for s in &self.shifts {
            if s.span == 0
                || s.start >= self.intervals_per_day
                || s.span > 7 * self.intervals_per_day
            {
                return invalid(format!(
                    "shift {}: start {} and length {} do not fit a day of {} intervals",
                    s.name, s.start, s.span, self.intervals_per_day
                ));
            }
            for b in &s.breaks {
                if b.length == 0
                    || b.earliest >= b.latest_end
                    || b.latest_end - 1 + b.length > s.span
                {
                    return invalid(format!(
                        "shift {}: a break of {} intervals starting in [{}, {}) does not fit its {} intervals",
                        s.name, b.length, b.earliest, b.latest_end, s.span
                    ));
                }
            }
        }
        if let Some(tours) = &self.tours
            && (tours.is_empty() || tours.iter().all(|t| t.iter().all(|w| !w)))
        {
            return invalid("tours: at least one pattern with a working day".into());
        }
        if let Objective::UnderOver { under, over } = self.objective
            && !(under >= 0.0 && over >= 0.0 && under.is_finite() && over.is_finite())
        {
            return invalid(format!("weights under {under} and over {over} must be ≥ 0"));
        }
        Ok(())
    }
}
