//! What a schedule is built from, as planners write it — in
//! `queuelake.toml` (`[scheduling]`) or in an API request body, the same
//! shape in both: shift patterns (start windows, lengths, breaks with
//! their windows), the days-off rule, the weights of under- and
//! over-staffing, and the roster (agents, skills, contracts,
//! availability, days off) with its rest rules. Times of day are
//! `"HH:MM"`; durations are minutes.

use queuelake_scheduler::cover::{BreakRule, Objective, ShiftType};
use queuelake_scheduler::roster::{Agent, RosterRules};
use serde::{Deserialize, Serialize};

/// `[scheduling]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct SchedulingInputs {
    /// Shift patterns; each yields a shift type per start in its window.
    pub patterns: Vec<PatternInput>,
    /// Tours: `two-consecutive` (5 days on, 2 consecutive off),
    /// `three-consecutive` (4 on, 3 off: part time), both comma-separated
    /// (agents on either), or `any` (each day
    /// staffed on its own).
    pub days_off: String,
    /// Weight of an agent-interval short of the requirement.
    pub under_weight: f64,
    /// Weight of an agent-interval above it.
    pub over_weight: f64,
    /// Seconds the solver may spend on the days' integer programs.
    pub time_limit_s: f64,
    /// The agents to roster (absent: shifts stay unnamed).
    pub agents: Vec<AgentInput>,
    /// Least hours between two shifts of an agent.
    pub min_rest_hours: f64,
    /// Most days an agent works in a row.
    pub max_consecutive_days: usize,
}

impl Default for SchedulingInputs {
    fn default() -> Self {
        SchedulingInputs {
            patterns: vec![
                PatternInput {
                    name: "full time".into(),
                    earliest_start: "07:00".into(),
                    latest_start: "13:00".into(),
                    start_every_min: 30,
                    length_min: 510,
                    breaks: vec![
                        BreakInput::paid(15, 90, 150),
                        BreakInput::unpaid(30, 210, 300),
                        BreakInput::paid(15, 360, 420),
                    ],
                },
                PatternInput {
                    name: "part time".into(),
                    earliest_start: "08:00".into(),
                    latest_start: "16:00".into(),
                    start_every_min: 30,
                    length_min: 240,
                    breaks: Vec::new(),
                },
            ],
            days_off: "two-consecutive".into(),
            under_weight: 3.0,
            over_weight: 1.0,
            time_limit_s: 5.0,
            agents: Vec::new(),
            min_rest_hours: 11.0,
            max_consecutive_days: 6,
        }
    }
}

/// A shift pattern.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatternInput {
    /// Its name.
    pub name: String,
    /// First start of the day, `HH:MM`.
    pub earliest_start: String,
    /// Last start of the day, `HH:MM`.
    pub latest_start: String,
    /// Minutes between starts (15 or 30 typically; a multiple of the interval).
    pub start_every_min: u32,
    /// Length from start to end, minutes (breaks included).
    pub length_min: u32,
    /// Breaks each agent on it takes once.
    #[serde(default)]
    pub breaks: Vec<BreakInput>,
}

/// A break of a pattern.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BreakInput {
    /// Its length, minutes.
    pub length_min: u32,
    /// Earliest start, minutes after the shift starts.
    pub earliest_min: u32,
    /// Latest start, minutes after the shift starts.
    pub latest_min: u32,
    /// Whether it is paid (unpaid breaks are not paid time).
    #[serde(default = "yes")]
    pub paid: bool,
}

fn yes() -> bool {
    true
}

impl BreakInput {
    fn paid(length_min: u32, earliest_min: u32, latest_min: u32) -> Self {
        BreakInput {
            length_min,
            earliest_min,
            latest_min,
            paid: true,
        }
    }

    fn unpaid(length_min: u32, earliest_min: u32, latest_min: u32) -> Self {
        BreakInput {
            paid: false,
            ..Self::paid(length_min, earliest_min, latest_min)
        }
    }
}

/// An agent of the roster.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AgentInput {
    /// Their name, as queue_log writes it (the agent column).
    pub name: String,
    /// Queues they take (absent: every queue of the team).
    #[serde(default)]
    pub queues: Vec<String>,
    /// Contract hours a week, at least.
    #[serde(default)]
    pub min_hours: f64,
    /// Contract hours a week, at most.
    pub max_hours: f64,
    /// When they can work: `"mon 07:00-20:00"` entries (absent: any time).
    #[serde(default)]
    pub available: Vec<String>,
    /// Days they asked to have off: `"sat"`, `"sun"`, …
    #[serde(default)]
    pub days_off: Vec<String>,
}

/// A value that does not hold, named by its place.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{at}: {reason}")]
pub struct InputError {
    /// Where: `patterns[0].earliest_start`.
    pub at: String,
    /// What is wrong.
    pub reason: String,
}

fn error(at: impl Into<String>, reason: impl Into<String>) -> InputError {
    InputError {
        at: at.into(),
        reason: reason.into(),
    }
}

const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

fn day_index(text: &str, at: &str) -> Result<usize, InputError> {
    DAYS.iter()
        .position(|d| text.eq_ignore_ascii_case(d))
        .ok_or_else(|| {
            error(
                at,
                format!("{text:?} is not mon, tue, wed, thu, fri, sat or sun"),
            )
        })
}

/// `HH:MM` → minutes after midnight (24:00 allowed as an end).
fn clock(text: &str, at: &str) -> Result<u32, InputError> {
    let bad = || error(at, format!("{text:?} is not HH:MM"));
    let (h, m) = text.split_once(':').ok_or_else(bad)?;
    let (h, m): (u32, u32) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
    if m >= 60 || h * 60 + m > 48 * 60 {
        return Err(bad());
    }
    Ok(h * 60 + m)
}

/// The solver's view of the inputs, on a grid of `interval_min` minutes.
pub struct Prepared {
    /// Shift types (every pattern's starts).
    pub shifts: Vec<ShiftType>,
    /// Unpaid break minutes per shift type (paid time excludes them).
    pub unpaid_breaks: Vec<Vec<bool>>,
    /// Tours, if days off follow the 5/2 rule.
    pub tours: Option<Vec<[bool; 7]>>,
    /// The objective.
    pub objective: Objective,
    /// The roster's agents.
    pub agents: Vec<Agent>,
    /// The roster's rules.
    pub rules: RosterRules,
}

impl SchedulingInputs {
    /// Checks the inputs and turns them into the solver's and the
    /// roster's terms; `team` is the queues scheduled (an agent without
    /// queues takes them all).
    pub fn prepare(&self, interval_min: u32, team: &[String]) -> Result<Prepared, InputError> {
        if self.patterns.is_empty() {
            return Err(error("patterns", "at least one shift pattern"));
        }
        let intervals = |minutes: u32, at: &str| -> Result<usize, InputError> {
            if !minutes.is_multiple_of(interval_min) {
                return Err(error(
                    at,
                    format!(
                        "{minutes} minutes is not a whole number of {interval_min}-minute intervals"
                    ),
                ));
            }
            Ok((minutes / interval_min) as usize)
        };
        let mut shifts = Vec::new();
        let mut unpaid_breaks = Vec::new();
        for (p, pattern) in self.patterns.iter().enumerate() {
            let at = |field: &str| format!("patterns[{p}].{field}");
            let first = clock(&pattern.earliest_start, &at("earliest_start"))?;
            let last = clock(&pattern.latest_start, &at("latest_start"))?;
            if last < first || last >= 24 * 60 {
                return Err(error(
                    at("latest_start"),
                    "must be from earliest_start and before 24:00",
                ));
            }
            if pattern.start_every_min == 0 {
                return Err(error(at("start_every_min"), "must be above 0"));
            }
            let span = intervals(pattern.length_min, &at("length_min"))?;
            if span == 0 {
                return Err(error(at("length_min"), "must be above 0"));
            }
            let mut rules = Vec::new();
            let mut unpaid = Vec::new();
            for (b, brk) in pattern.breaks.iter().enumerate() {
                let at = |field: &str| format!("patterns[{p}].breaks[{b}].{field}");
                let length = intervals(brk.length_min, &at("length_min"))?;
                let earliest = intervals(brk.earliest_min, &at("earliest_min"))?;
                let latest = intervals(brk.latest_min, &at("latest_min"))?;
                if length == 0 || latest < earliest || latest + length > span {
                    return Err(error(
                        at("latest_min"),
                        "the break must start within its window and end inside the shift",
                    ));
                }
                rules.push(BreakRule {
                    length,
                    earliest,
                    latest_end: latest + 1,
                });
                unpaid.push(!brk.paid);
            }
            let unpaid_intervals: usize = rules
                .iter()
                .zip(&unpaid)
                .filter(|(_, u)| **u)
                .map(|(r, _)| r.length)
                .sum();
            let mut start = first;
            while start <= last {
                let start_interval = intervals(start, &at("earliest_start"))?;
                shifts.push(ShiftType {
                    name: format!("{} {:02}:{:02}", pattern.name, start / 60, start % 60),
                    start: start_interval,
                    span,
                    paid: span - unpaid_intervals,
                    cost: (span - unpaid_intervals) as f64,
                    works: Vec::new(),
                    breaks: rules.clone(),
                });
                unpaid_breaks.push(unpaid.clone());
                start += pattern.start_every_min;
            }
        }
        let tours = tours(&self.days_off)?;
        let weight = |w: f64, at: &str| {
            if w.is_finite() && w >= 0.0 {
                Ok(w)
            } else {
                Err(error(at, "must be a number ≥ 0"))
            }
        };
        let objective = Objective::UnderOver {
            under: weight(self.under_weight, "under_weight")?,
            over: weight(self.over_weight, "over_weight")?,
        };
        if !(self.time_limit_s.is_finite() && self.time_limit_s > 0.0 && self.time_limit_s <= 600.0)
        {
            return Err(error("time_limit_s", "must be in (0, 600]"));
        }
        if !(self.min_rest_hours.is_finite() && (0.0..=48.0).contains(&self.min_rest_hours)) {
            return Err(error("min_rest_hours", "must be in [0, 48]"));
        }
        if self.max_consecutive_days == 0 || self.max_consecutive_days > 7 {
            return Err(error("max_consecutive_days", "must be 1 to 7"));
        }
        let agents = self
            .agents
            .iter()
            .enumerate()
            .map(|(i, a)| a.prepare(&format!("agents[{i}]"), team))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Prepared {
            shifts,
            unpaid_breaks,
            tours,
            objective,
            agents,
            rules: RosterRules {
                min_rest_min: (self.min_rest_hours * 60.0).round() as u32,
                max_consecutive_days: self.max_consecutive_days,
            },
        })
    }
}

/// The days-off patterns a `days_off` text allows (`None`: any days).
fn tours(text: &str) -> Result<Option<Vec<[bool; 7]>>, InputError> {
    if text.trim() == "any" {
        return Ok(None);
    }
    let mut patterns = Vec::new();
    for rule in text.split(',').map(str::trim) {
        let off = match rule {
            "two-consecutive" => 2,
            "three-consecutive" => 3,
            other => {
                return Err(error(
                    "days_off",
                    format!("{other:?} is not two-consecutive, three-consecutive or any"),
                ));
            }
        };
        for first in 0..7 {
            let mut works = [true; 7];
            for k in 0..off {
                works[(first + k) % 7] = false;
            }
            if !patterns.contains(&works) {
                patterns.push(works);
            }
        }
    }
    Ok(Some(patterns))
}

impl AgentInput {
    fn prepare(&self, at: &str, team: &[String]) -> Result<Agent, InputError> {
        let hours = |h: f64, field: &str| {
            if h.is_finite() && (0.0..=168.0).contains(&h) {
                Ok((h * 60.0).round() as u32)
            } else {
                Err(error(format!("{at}.{field}"), "hours in [0, 168]"))
            }
        };
        let (min, max) = (
            hours(self.min_hours, "min_hours")?,
            hours(self.max_hours, "max_hours")?,
        );
        if min > max {
            return Err(error(format!("{at}.min_hours"), "above max_hours"));
        }
        let mut availability = [Some((0, 48 * 60)); 7];
        if !self.available.is_empty() {
            availability = [None; 7];
            for (k, entry) in self.available.iter().enumerate() {
                let at = format!("{at}.available[{k}]");
                let bad = || error(&at, format!("{entry:?} is not like \"mon 07:00-20:00\""));
                let (day, window) = entry.split_once(' ').ok_or_else(bad)?;
                let (from, to) = window.split_once('-').ok_or_else(bad)?;
                let day = day_index(day, &at)?;
                let (from, to) = (clock(from, &at)?, clock(to, &at)?);
                if to <= from {
                    return Err(bad());
                }
                availability[day] = Some((from, to));
            }
        }
        let days_off = self
            .days_off
            .iter()
            .enumerate()
            .map(|(k, d)| day_index(d, &format!("{at}.days_off[{k}]")))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Agent {
            name: self.name.clone(),
            skills: if self.queues.is_empty() {
                team.to_vec()
            } else {
                self.queues.clone()
            },
            min_week_min: min,
            max_week_min: max,
            availability,
            days_off,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_prepare_and_faults_are_named() {
        let team = vec!["sales".to_owned()];
        let prepared = SchedulingInputs::default().prepare(15, &team).unwrap();
        // Full time: 07:00..13:00 every 30 min = 13 starts; part time
        // 08:00..16:00 = 17 starts.
        assert_eq!(prepared.shifts.len(), 13 + 17);
        let full = &prepared.shifts[0];
        assert_eq!((full.start, full.span, full.paid), (28, 34, 32));
        assert_eq!(
            full.breaks[1],
            BreakRule {
                length: 2,
                earliest: 14,
                latest_end: 21
            }
        );
        let mut odd = SchedulingInputs::default();
        odd.patterns[1].length_min = 250;
        let err = odd.prepare(15, &team).err().unwrap();
        assert_eq!(err.at, "patterns[1].length_min", "{err}");
        let mut bad_agent = SchedulingInputs::default();
        bad_agent.agents.push(AgentInput {
            name: "Ana".into(),
            queues: Vec::new(),
            min_hours: 0.0,
            max_hours: 40.0,
            available: vec!["monday 07:00-20:00".into()],
            days_off: Vec::new(),
        });
        let err = bad_agent.prepare(15, &team).err().unwrap();
        assert_eq!(err.at, "agents[0].available[0]", "{err}");
        bad_agent.agents[0].available = vec!["mon 07:00-20:00".into()];
        let prepared = bad_agent.prepare(15, &team).unwrap();
        assert_eq!(prepared.agents[0].availability[0], Some((420, 1200)));
        assert_eq!(prepared.agents[0].availability[1], None);
        assert_eq!(prepared.agents[0].skills, team);
        // Days-off rules: 7 five-day tours, 7 four-day ones, or none.
        assert_eq!(tours("two-consecutive").unwrap().unwrap().len(), 7);
        let both = tours("two-consecutive, three-consecutive")
            .unwrap()
            .unwrap();
        assert_eq!(both.len(), 14);
        assert_eq!(both[7], [false, false, false, true, true, true, true]);
        assert_eq!(tours("any").unwrap(), None);
        assert_eq!(tours("weekends").unwrap_err().at, "days_off");
    }
}
