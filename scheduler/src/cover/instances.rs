//! The two benchmark formats (`../shared/wfm/README.md`), read from JSON
//! text into a [`CoverProblem`]:
//!
//! - *tours*: `{"req": [[...] × 7], "shifts": [[start, span, paid,
//!   [[length, earliest, latest_end], ...]], ...]}` — 5-on/2-off tours,
//!   placed breaks, paid hours minimized with full coverage;
//! - *pyworkforce*: `{"required_resources": [[...] × days], "shifts":
//!   {name: {"coverage": [...], "paid_periods": n, ...}}, "cost": {...},
//!   "max_period_concurrency": n, "max_shift_concurrency": n}` — fixed
//!   breaks, no tours; its two objectives are chosen by the caller.

use serde_json::Value;

use super::{BreakRule, CoverProblem, Objective, ShiftType, five_two_tours};

/// Which pyworkforce objective to solve.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PyworkforceObjective {
    /// Σ |scheduled − required| over every period.
    MinAbsDifference,
    /// Σ cost × agents with every period covered.
    MinRequiredResources,
}

/// What is wrong with an instance file, and where.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{at}: {reason}")]
pub struct InstanceError {
    /// The JSON path (`shifts[3][1]`).
    pub at: String,
    /// What is wrong.
    pub reason: String,
}

fn error(at: impl Into<String>, reason: impl Into<String>) -> InstanceError {
    InstanceError {
        at: at.into(),
        reason: reason.into(),
    }
}

fn array<'a>(v: &'a Value, at: &str) -> Result<&'a Vec<Value>, InstanceError> {
    v.as_array().ok_or_else(|| error(at, "expected an array"))
}

fn count(v: &Value, at: &str) -> Result<usize, InstanceError> {
    v.as_u64()
        .and_then(|n| usize::try_from(n).ok())
        .ok_or_else(|| error(at, "expected a whole number ≥ 0"))
}

fn number(v: &Value, at: &str) -> Result<f64, InstanceError> {
    v.as_f64()
        .filter(|x| x.is_finite())
        .ok_or_else(|| error(at, "expected a number"))
}

/// The week's requirement from `days` rows of equal length.
fn requirement(v: &Value, at: &str) -> Result<(usize, Vec<f64>), InstanceError> {
    let days = array(v, at)?;
    if days.len() != 7 {
        return Err(error(at, format!("{} days; a week has 7", days.len())));
    }
    let mut required = Vec::new();
    let mut per_day = None;
    for (d, day) in days.iter().enumerate() {
        let row = array(day, &format!("{at}[{d}]"))?;
        if *per_day.get_or_insert(row.len()) != row.len() {
            return Err(error(format!("{at}[{d}]"), "days differ in length"));
        }
        for (t, r) in row.iter().enumerate() {
            required.push(number(r, &format!("{at}[{d}][{t}]"))?);
        }
    }
    Ok((per_day.unwrap_or(0), required))
}

/// A tours instance.
pub fn tours(text: &str) -> Result<CoverProblem, InstanceError> {
    let v: Value = serde_json::from_str(text).map_err(|e| error("the file", e.to_string()))?;
    let (intervals_per_day, required) = requirement(&v["req"], "req")?;
    let shifts = array(&v["shifts"], "shifts")?
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let at = format!("shifts[{i}]");
            let fields = array(s, &at)?;
            if fields.len() != 4 {
                return Err(error(&at, "expected [start, span, paid, breaks]"));
            }
            let start = count(&fields[0], &format!("{at}[0]"))?;
            let span = count(&fields[1], &format!("{at}[1]"))?;
            let breaks = array(&fields[3], &format!("{at}[3]"))?
                .iter()
                .enumerate()
                .map(|(k, b)| {
                    let at = format!("{at}[3][{k}]");
                    let b = array(b, &at)?;
                    if b.len() != 3 {
                        return Err(error(&at, "expected [length, earliest, latest_end]"));
                    }
                    Ok(BreakRule {
                        length: count(&b[0], &at)?,
                        earliest: count(&b[1], &at)?,
                        latest_end: count(&b[2], &at)?,
                    })
                })
                .collect::<Result<Vec<_>, _>>()?;
            let minutes = |intervals: usize| intervals * 1440 / intervals_per_day.max(1);
            Ok(ShiftType {
                // "07:30 8h30": its start and length.
                name: format!(
                    "{:02}:{:02} {}h{:02}",
                    minutes(start) / 60,
                    minutes(start) % 60,
                    minutes(span) / 60,
                    minutes(span) % 60
                ),
                start,
                span,
                paid: count(&fields[2], &format!("{at}[2]"))?,
                cost: 0.0,
                works: Vec::new(),
                breaks,
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(CoverProblem {
        intervals_per_day,
        required,
        shifts,
        tours: Some(five_two_tours()),
        objective: Objective::PaidTime,
        max_per_shift: None,
        max_per_interval: None,
    })
}

/// A pyworkforce instance with one of its objectives.
pub fn pyworkforce(
    text: &str,
    objective: PyworkforceObjective,
) -> Result<CoverProblem, InstanceError> {
    let v: Value = serde_json::from_str(text).map_err(|e| error("the file", e.to_string()))?;
    let (intervals_per_day, required) =
        requirement(&v["required_resources"], "required_resources")?;
    let table = v["shifts"]
        .as_object()
        .ok_or_else(|| error("shifts", "expected an object of shifts by name"))?;
    let shifts = table
        .iter()
        .map(|(name, s)| {
            let at = format!("shifts.{name}");
            let coverage = array(&s["coverage"], &format!("{at}.coverage"))?;
            if coverage.len() != intervals_per_day {
                return Err(error(
                    format!("{at}.coverage"),
                    format!(
                        "{} periods; the day has {intervals_per_day}",
                        coverage.len()
                    ),
                ));
            }
            let works = coverage
                .iter()
                .enumerate()
                .map(|(t, c)| Ok(number(c, &format!("{at}.coverage[{t}]"))? > 0.0))
                .collect::<Result<Vec<_>, InstanceError>>()?;
            Ok(ShiftType {
                name: name.clone(),
                start: 0,
                span: intervals_per_day,
                paid: count(&s["paid_periods"], &format!("{at}.paid_periods"))?,
                cost: number(&v["cost"][name], &format!("cost.{name}"))?,
                works,
                breaks: Vec::new(),
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let cap = |key: &str| -> Result<Option<u32>, InstanceError> {
        match &v[key] {
            Value::Null => Ok(None),
            n => u32::try_from(count(n, key)?)
                .map(Some)
                .map_err(|_| error(key, "too large")),
        }
    };
    Ok(CoverProblem {
        intervals_per_day,
        required,
        shifts,
        tours: None,
        objective: match objective {
            PyworkforceObjective::MinAbsDifference => Objective::UnderOver {
                under: 1.0,
                over: 1.0,
            },
            PyworkforceObjective::MinRequiredResources => Objective::Cost,
        },
        max_per_shift: cap("max_shift_concurrency")?,
        max_per_interval: cap("max_period_concurrency")?,
    })
}

/// Reads either format, telling them apart by their keys.
pub fn read(text: &str, objective: PyworkforceObjective) -> Result<CoverProblem, InstanceError> {
    if text.contains("\"required_resources\"") {
        pyworkforce(text, objective)
    } else {
        tours(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_are_named_by_their_path() {
        let week = |row: &str| format!("[{}]", [row; 7].join(","));
        let text = format!(
            r#"{{"req": {}, "shifts": [[0, 2, 2, []], [1, "x", 2, []]]}}"#,
            week("[1,1,1,1]")
        );
        let err = tours(&text).unwrap_err();
        assert_eq!(err.at, "shifts[1][1]", "{err}");
        let err = tours(r#"{"req": [[1]], "shifts": []}"#).unwrap_err();
        assert!(err.to_string().contains("7"), "{err}");
        let ok = tours(&format!(
            r#"{{"req": {}, "shifts": [[0, 4, 4, [[1, 1, 3]]]]}}"#,
            week("[1,1,1,1]")
        ))
        .unwrap();
        assert_eq!(ok.intervals_per_day, 4);
        assert_eq!(ok.shifts[0].breaks[0].latest_end, 3);
        assert!(
            tours("not json")
                .unwrap_err()
                .to_string()
                .contains("the file")
        );
    }
}
