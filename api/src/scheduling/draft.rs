//! A schedule being planned: its week, team and requirement, and its
//! shifts one by one (day, start, length, breaks, agent). Edits change the
//! shifts; coverage, totals and rule faults are computed from them on
//! every read, so an edit shows its effect at once.

use queuelake_scheduler::roster::{Roster, RosterShift, violations as roster_violations};
use serde::{Deserialize, Serialize};

use super::inputs::{InputError, SchedulingInputs};

/// A draft schedule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Draft {
    /// Its id (`sc-…`).
    pub id: String,
    /// The team's queues (sorted).
    pub queues: Vec<String>,
    /// Monday 00:00 local of its week, as a UTC instant (µs).
    pub week_start_us: i64,
    /// Interval length, seconds.
    pub interval_s: i64,
    /// The staffing run the requirement came from.
    pub staffing_run_id: Option<String>,
    /// Agents required per interval of the week.
    pub required: Vec<f64>,
    /// The shifts.
    pub shifts: Vec<DraftShift>,
    /// The solver's bound on its objective, as first solved.
    pub bound: Option<f64>,
    /// Versions published so far.
    pub published_versions: i64,
    /// Weights of shortfall and surplus (for the objective shown).
    pub weights: (f64, f64),
    /// The inputs it was built with (its roster and rules are checked
    /// again before each publication).
    #[serde(default)]
    pub inputs: SchedulingInputs,
}

/// One agent's shift.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DraftShift {
    /// Its number in the schedule (stable across edits).
    pub no: i64,
    /// The pattern it came from.
    pub pattern: String,
    /// Day of the week, 0 = Monday.
    pub day: usize,
    /// Start, intervals after midnight.
    pub start: usize,
    /// Length, intervals.
    pub span: usize,
    /// Its breaks.
    pub breaks: Vec<DraftBreak>,
    /// The agent (none until rostered or assigned).
    pub agent: Option<String>,
}

impl DraftShift {
    /// The shift as rostering sees it, on a grid of `interval_min` minutes.
    pub fn roster_shift(&self, interval_min: u32) -> RosterShift {
        let unpaid: usize = self
            .breaks
            .iter()
            .filter(|b| !b.paid)
            .map(|b| b.length)
            .sum();
        RosterShift {
            day: self.day,
            start_min: self.start as u32 * interval_min,
            end_min: (self.start + self.span) as u32 * interval_min,
            paid_min: (self.span - unpaid.min(self.span)) as u32 * interval_min,
            skill: None,
        }
    }
}

/// A break of a shift.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DraftBreak {
    /// Start, intervals after the shift's start.
    pub offset: usize,
    /// Length, intervals.
    pub length: usize,
    /// Whether it is paid.
    pub paid: bool,
}

/// An edit of a draft.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
pub enum Edit {
    /// Moves a shift to another day and start (`HH:MM`); its breaks keep
    /// their offsets.
    MoveShift {
        /// The shift's number.
        shift: i64,
        /// Day, 0 = Monday.
        day: usize,
        /// New start.
        start: String,
    },
    /// Adds a shift without breaks.
    AddShift {
        /// Day, 0 = Monday.
        day: usize,
        /// Start, `HH:MM`.
        start: String,
        /// Length, minutes.
        length_min: u32,
        /// Its agent.
        #[serde(default)]
        agent: Option<String>,
    },
    /// Removes a shift.
    RemoveShift {
        /// The shift's number.
        shift: i64,
    },
    /// Moves a break within its shift.
    MoveBreak {
        /// The shift's number.
        shift: i64,
        /// The break's index in the shift.
        #[serde(rename = "break")]
        index: usize,
        /// New start, minutes after the shift's start.
        offset_min: u32,
    },
    /// Gives a shift to an agent (or takes it away with `null`).
    Assign {
        /// The shift's number.
        shift: i64,
        /// The agent.
        agent: Option<String>,
    },
}

/// Totals of a draft.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Totals {
    /// Agent shifts.
    pub shifts: usize,
    /// Paid hours.
    pub paid_hours: f64,
    /// Agent-hours short of the requirement.
    pub short_agent_hours: f64,
    /// Agent-hours above it.
    pub surplus_agent_hours: f64,
    /// Weighted shortfall plus surplus (the solver's objective), in
    /// agent-intervals.
    pub objective: f64,
}

impl Draft {
    /// Intervals in a day.
    pub fn per_day(&self) -> usize {
        (86_400 / self.interval_s.max(1)) as usize
    }

    fn interval_min(&self) -> u32 {
        (self.interval_s / 60) as u32
    }

    /// Agents on the phones per interval of the week (a shift past Sunday
    /// midnight covers Monday morning).
    pub fn coverage(&self) -> Vec<f64> {
        let per_day = self.per_day();
        let week = 7 * per_day;
        let mut on_phone = vec![0.0; week];
        for shift in &self.shifts {
            let start = shift.day * per_day + shift.start;
            for o in 0..shift.span {
                let on_break = shift
                    .breaks
                    .iter()
                    .any(|b| (b.offset..b.offset + b.length).contains(&o));
                if !on_break {
                    on_phone[(start + o) % week] += 1.0;
                }
            }
        }
        on_phone
    }

    /// Totals from the shifts as they stand.
    pub fn totals(&self) -> Totals {
        let hours = self.interval_s as f64 / 3600.0;
        let coverage = self.coverage();
        let (mut short, mut surplus) = (0.0, 0.0);
        for (c, r) in coverage.iter().zip(&self.required) {
            if c < r {
                short += r - c;
            } else {
                surplus += c - r;
            }
        }
        let paid: usize = self
            .shifts
            .iter()
            .map(|s| {
                s.span
                    - s.breaks
                        .iter()
                        .filter(|b| !b.paid)
                        .map(|b| b.length)
                        .sum::<usize>()
            })
            .sum();
        Totals {
            shifts: self.shifts.len(),
            paid_hours: paid as f64 * hours,
            short_agent_hours: short * hours,
            surplus_agent_hours: surplus * hours,
            objective: self.weights.0 * short + self.weights.1 * surplus,
        }
    }

    /// Every rule the shifts break as they stand: breaks outside their
    /// shift or overlapping; with a roster, shifts given to agents not in
    /// it, and every roster rule (availability, days off, contract
    /// maximum, one shift a day, rest, days in a row).
    pub fn violations(&self) -> Vec<String> {
        let mut found = Vec::new();
        for s in &self.shifts {
            for (k, b) in s.breaks.iter().enumerate() {
                if b.offset + b.length > s.span {
                    found.push(format!("shift {}: break {k} ends after the shift", s.no));
                }
                let clash = s.breaks.iter().enumerate().any(|(j, o)| {
                    j > k && b.offset < o.offset + o.length && o.offset < b.offset + b.length
                });
                if clash {
                    found.push(format!("shift {}: break {k} overlaps another", s.no));
                }
            }
        }
        let interval = self.interval_min();
        let prepared = match self.inputs.prepare(interval, &self.queues) {
            Ok(p) => p,
            Err(e) => {
                found.push(format!("the schedule's inputs: {e}"));
                return found;
            }
        };
        if prepared.agents.is_empty() {
            return found;
        }
        let rostered: Vec<&DraftShift> = self.shifts.iter().filter(|s| s.agent.is_some()).collect();
        let mut assigned = Vec::with_capacity(rostered.len());
        for s in &rostered {
            let name = s.agent.as_deref().unwrap_or_default();
            let index = prepared.agents.iter().position(|a| a.name == name);
            if index.is_none() {
                found.push(format!("shift {}: {name} is not in the roster", s.no));
            }
            assigned.push(index);
        }
        let shifts: Vec<RosterShift> = rostered.iter().map(|s| s.roster_shift(interval)).collect();
        let roster = Roster {
            assigned,
            under_contract: Vec::new(),
        };
        found.extend(roster_violations(
            &shifts,
            &prepared.agents,
            &prepared.rules,
            &roster,
        ));
        found
    }

    /// Applies `edit`; a bad edit changes nothing and says what is wrong.
    pub fn apply(&mut self, edit: &Edit) -> Result<(), InputError> {
        let interval = self.interval_min();
        let bad = |at: &str, reason: String| InputError {
            at: at.to_owned(),
            reason,
        };
        let start_of = |text: &str| -> Result<usize, InputError> {
            let (h, m) = text
                .split_once(':')
                .and_then(|(h, m)| Some((h.parse::<u32>().ok()?, m.parse::<u32>().ok()?)))
                .filter(|(h, m)| *h < 24 && *m < 60)
                .ok_or_else(|| bad("start", format!("{text:?} is not HH:MM")))?;
            let minutes = h * 60 + m;
            if !minutes.is_multiple_of(interval) {
                return Err(bad(
                    "start",
                    format!("{text} is not on the {interval}-minute grid"),
                ));
            }
            Ok((minutes / interval) as usize)
        };
        let day_ok = |day: usize| {
            if day < 7 {
                Ok(day)
            } else {
                Err(bad("day", format!("{day}: days are 0 (Monday) to 6")))
            }
        };
        let find = |shifts: &[DraftShift], no: i64| {
            shifts
                .iter()
                .position(|s| s.no == no)
                .ok_or_else(|| bad("shift", format!("no shift {no}")))
        };
        match edit {
            Edit::MoveShift { shift, day, start } => {
                let i = find(&self.shifts, *shift)?;
                let (day, start) = (day_ok(*day)?, start_of(start)?);
                let s = &mut self.shifts[i];
                s.day = day;
                s.start = start;
            }
            Edit::AddShift {
                day,
                start,
                length_min,
                agent,
            } => {
                let (day, start) = (day_ok(*day)?, start_of(start)?);
                if *length_min == 0 || !length_min.is_multiple_of(interval) || *length_min > 24 * 60
                {
                    return Err(bad(
                        "length_min",
                        format!("{length_min}: whole {interval}-minute intervals, up to 24 h"),
                    ));
                }
                let no = self.shifts.iter().map(|s| s.no).max().unwrap_or(-1) + 1;
                self.shifts.push(DraftShift {
                    no,
                    pattern: "added".into(),
                    day,
                    start,
                    span: (length_min / interval) as usize,
                    breaks: Vec::new(),
                    agent: agent.clone(),
                });
            }
            Edit::RemoveShift { shift } => {
                let i = find(&self.shifts, *shift)?;
                self.shifts.remove(i);
            }
            Edit::MoveBreak {
                shift,
                index,
                offset_min,
            } => {
                let i = find(&self.shifts, *shift)?;
                if !offset_min.is_multiple_of(interval) {
                    return Err(bad(
                        "offset_min",
                        format!("{offset_min} is not on the {interval}-minute grid"),
                    ));
                }
                let offset = (offset_min / interval) as usize;
                let s = &mut self.shifts[i];
                let Some(b) = s.breaks.get(*index) else {
                    return Err(bad("break", format!("shift {shift} has no break {index}")));
                };
                if offset + b.length > s.span {
                    return Err(bad(
                        "offset_min",
                        format!("the break would end after shift {shift}"),
                    ));
                }
                let clash = s.breaks.iter().enumerate().any(|(k, o)| {
                    k != *index && offset < o.offset + o.length && o.offset < offset + b.length
                });
                if clash {
                    return Err(bad("offset_min", "the break would overlap another".into()));
                }
                s.breaks[*index].offset = offset;
            }
            Edit::Assign { shift, agent } => {
                let i = find(&self.shifts, *shift)?;
                self.shifts[i].agent = agent.clone();
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 15-minute intervals; two agents needed Monday 09:00–09:30; one
    /// shift 09:00–10:00 with an unpaid break at 09:15.
    fn draft() -> Draft {
        let mut required = vec![0.0; 7 * 96];
        required[36] = 2.0; // Monday 09:00
        required[37] = 2.0;
        Draft {
            id: "sc-test".into(),
            queues: vec!["sales".into()],
            week_start_us: 0,
            interval_s: 900,
            staffing_run_id: None,
            required,
            shifts: vec![DraftShift {
                no: 0,
                pattern: "p".into(),
                day: 0,
                start: 36,
                span: 4,
                breaks: vec![DraftBreak {
                    offset: 1,
                    length: 1,
                    paid: false,
                }],
                agent: None,
            }],
            bound: None,
            published_versions: 0,
            weights: (3.0, 1.0),
            inputs: SchedulingInputs::default(),
        }
    }

    #[test]
    fn edits_change_coverage_at_once_and_bad_ones_change_nothing() {
        let mut d = draft();
        let c = d.coverage();
        assert_eq!(&c[36..40], &[1.0, 0.0, 1.0, 1.0]);
        let t = d.totals();
        // Short: 1 + 2 agent-intervals = 0.75 h; surplus 2 intervals = 0.5 h;
        // paid 3 intervals = 0.75 h.
        assert_eq!(
            (t.short_agent_hours, t.surplus_agent_hours, t.paid_hours),
            (0.75, 0.5, 0.75)
        );
        assert_eq!(t.objective, 3.0 * 3.0 + 2.0);
        d.apply(&Edit::AddShift {
            day: 0,
            start: "09:00".into(),
            length_min: 30,
            agent: Some("Ben".into()),
        })
        .unwrap();
        d.apply(&Edit::MoveBreak {
            shift: 0,
            index: 0,
            offset_min: 30,
        })
        .unwrap();
        assert_eq!(&d.coverage()[36..40], &[2.0, 2.0, 0.0, 1.0]);
        assert_eq!(d.totals().short_agent_hours, 0.0);
        let before = d.clone();
        for bad in [
            Edit::MoveBreak {
                shift: 0,
                index: 0,
                offset_min: 60,
            },
            Edit::MoveShift {
                shift: 9,
                day: 0,
                start: "10:00".into(),
            },
            Edit::MoveShift {
                shift: 0,
                day: 7,
                start: "10:00".into(),
            },
            Edit::AddShift {
                day: 0,
                start: "09:10".into(),
                length_min: 30,
                agent: None,
            },
        ] {
            assert!(d.apply(&bad).is_err(), "{bad:?}");
        }
        assert_eq!(d, before);
        d.apply(&Edit::RemoveShift { shift: 1 }).unwrap();
        assert_eq!(d.shifts.len(), 1);
    }

    #[test]
    fn rule_breaking_drafts_are_named_before_publication() {
        let mut d = draft();
        assert!(d.violations().is_empty(), "no roster, no roster rules");
        d.inputs.agents = vec![crate::scheduling::inputs::AgentInput {
            name: "Ana".into(),
            queues: Vec::new(),
            min_hours: 0.0,
            max_hours: 40.0,
            available: Vec::new(),
            days_off: vec!["tue".into()],
        }];
        d.apply(&Edit::Assign {
            shift: 0,
            agent: Some("Ana".into()),
        })
        .unwrap();
        assert!(d.violations().is_empty(), "{:?}", d.violations());
        // A second shift the same day, a shift on her day off, a stranger.
        d.apply(&Edit::AddShift {
            day: 0,
            start: "14:00".into(),
            length_min: 60,
            agent: Some("Ana".into()),
        })
        .unwrap();
        d.apply(&Edit::AddShift {
            day: 1,
            start: "09:00".into(),
            length_min: 60,
            agent: Some("Ana".into()),
        })
        .unwrap();
        d.apply(&Edit::AddShift {
            day: 2,
            start: "09:00".into(),
            length_min: 60,
            agent: Some("Zed".into()),
        })
        .unwrap();
        let broken = d.violations();
        assert!(
            broken
                .iter()
                .any(|v| v.contains("Zed is not in the roster")),
            "{broken:?}"
        );
        assert!(
            broken
                .iter()
                .filter(|v| v.contains("Ana may not hold"))
                .count()
                >= 2,
            "{broken:?}"
        );
    }
}
