//! What a schedule gives, computed from the schedule alone (not from the
//! solver's view of it): coverage per interval, the objective's value,
//! and every rule it breaks.

use super::{CoverProblem, Objective, Schedule};

/// Agents on the phones per interval of the week (cyclic: a Sunday
/// night shift covers Monday morning).
pub fn coverage(problem: &CoverProblem, schedule: &Schedule) -> Vec<f64> {
    let per_day = problem.intervals_per_day;
    let week = 7 * per_day;
    let mut on_phone = vec![0.0; week];
    for (d, counts) in schedule.counts.iter().enumerate() {
        for (s, &n) in counts.iter().enumerate() {
            let Some(shift) = problem.shifts.get(s) else {
                continue;
            };
            let start = d * per_day + shift.start;
            for o in (0..shift.span).filter(|o| shift.works_at(*o)) {
                on_phone[(start + o) % week] += f64::from(n);
            }
            let placed = schedule
                .breaks
                .get(d)
                .and_then(|b| b.get(s))
                .map_or(&[][..], Vec::as_slice);
            for (rule, starts) in shift.breaks.iter().zip(placed) {
                for (o, &m) in starts.iter().enumerate() {
                    for k in 0..rule.length {
                        on_phone[(start + rule.earliest + o + k) % week] -= f64::from(m);
                    }
                }
            }
        }
    }
    on_phone
}

/// The objective's value of `schedule` (paid hours, cost, or weighted
/// shortfall and surplus).
pub fn objective(problem: &CoverProblem, schedule: &Schedule) -> f64 {
    let agents = || {
        schedule
            .counts
            .iter()
            .flat_map(|day| day.iter().enumerate())
            .filter_map(|(s, &n)| problem.shifts.get(s).map(|shift| (shift, f64::from(n))))
    };
    match problem.objective {
        Objective::PaidTime => agents().map(|(s, n)| n * problem.paid_hours(s)).sum(),
        Objective::Cost => agents().map(|(s, n)| n * s.cost).sum(),
        Objective::UnderOver { under, over } => {
            let cover = if schedule.coverage.is_empty() {
                coverage(problem, schedule)
            } else {
                schedule.coverage.clone()
            };
            cover
                .iter()
                .zip(&problem.required)
                .map(|(c, r)| {
                    if c < r {
                        under * (r - c)
                    } else {
                        over * (c - r)
                    }
                })
                .sum()
        }
    }
}

/// Every rule `schedule` breaks, in words (empty: none).
pub fn violations(problem: &CoverProblem, schedule: &Schedule) -> Vec<String> {
    let mut found = Vec::new();
    if schedule.counts.len() != 7 {
        found.push(format!("{} days, not 7", schedule.counts.len()));
    }
    for (d, counts) in schedule.counts.iter().enumerate() {
        for (s, &n) in counts.iter().enumerate() {
            let Some(shift) = problem.shifts.get(s) else {
                found.push(format!("day {d}: shift #{s} does not exist"));
                continue;
            };
            if let Some(max) = problem.max_per_shift
                && n > max
            {
                found.push(format!(
                    "day {d} {}: {n} agents above the cap {max}",
                    shift.name
                ));
            }
            let placed = schedule.breaks.get(d).and_then(|b| b.get(s));
            for (k, rule) in shift.breaks.iter().enumerate() {
                let starts = placed.and_then(|p| p.get(k));
                let taken: u32 = starts.map_or(0, |st| st.iter().sum());
                if taken != n {
                    found.push(format!(
                        "day {d} {} break {k}: {taken} agents take it, {n} are on the shift",
                        shift.name
                    ));
                }
                if starts.is_some_and(|st| st.len() != rule.latest_end - rule.earliest) {
                    found.push(format!(
                        "day {d} {} break {k}: starts outside its window",
                        shift.name
                    ));
                }
            }
        }
    }
    let cover = coverage(problem, schedule);
    if let Some(t) = cover.iter().position(|c| *c < -1e-9) {
        found.push(format!("interval {t}: fewer than no agents on the phones"));
    }
    if matches!(problem.objective, Objective::PaidTime | Objective::Cost) {
        for (t, (c, r)) in cover.iter().zip(&problem.required).enumerate() {
            if c + 1e-9 < *r {
                found.push(format!("interval {t}: {c} agents for {r} required"));
            }
        }
    }
    if let Some(max) = problem.max_per_interval
        && let Some(t) = cover.iter().position(|c| *c > f64::from(max) + 1e-9)
    {
        found.push(format!("interval {t}: above the cap of {max} agents"));
    }
    if let (Some(patterns), Some(tours)) = (&problem.tours, &schedule.tours) {
        for d in 0..7 {
            let working: u32 = patterns
                .iter()
                .zip(tours)
                .filter(|(p, _)| p[d])
                .map(|(_, n)| n)
                .sum();
            let shifts: u32 = schedule.counts.get(d).map_or(0, |c| c.iter().sum());
            if working != shifts {
                found.push(format!(
                    "day {d}: {shifts} shifts for {working} agents whose tours work it"
                ));
            }
        }
    }
    found
}
