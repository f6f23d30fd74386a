//! The staffing requirement of an interval: the least number of agents
//! that meets a service-level or ASA target under a maximum occupancy, by
//! Erlang C or Erlang A, and what to schedule after shrinkage.
//!
//! Erlang C searches upward from the load, one Erlang B recurrence step
//! per candidate. Erlang A brackets Erlang C's answer by doubling steps,
//! then bisects. Every measure used is monotone in the number of agents
//! (service level rises, ASA and occupancy fall), so the answer is the
//! least that meets the target (property-tested).

use crate::erlang::Load;
use crate::erlang_a::AbandonLoad;

/// How callers behave in the model.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Method {
    /// Callers never hang up (M/M/N).
    ErlangC,
    /// Callers hang up after an exponential patience of this mean, seconds.
    ErlangA {
        /// Mean patience, seconds.
        patience_s: f64,
    },
}

/// What the staffing must achieve.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Target {
    /// `share` of calls answered within `threshold_s` (80/20: 0.8, 20).
    ServiceLevel {
        /// Share, in (0, 1).
        share: f64,
        /// Seconds.
        threshold_s: f64,
    },
    /// Mean wait of answered calls at most this many seconds.
    Asa {
        /// Seconds.
        seconds: f64,
    },
}

/// A target that does not read as `80/20` or `asa=30`.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("target {0:?}: give PERCENT/SECONDS (80/20: 80 % within 20 s) or asa=SECONDS")]
pub struct BadTarget(pub String);

impl std::str::FromStr for Target {
    type Err = BadTarget;

    /// `80/20` (also `80%/20s`) → 80 % within 20 s; `asa=30` → ASA ≤ 30 s.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let bad = || BadTarget(text.to_owned());
        let number = |s: &str, unit: char| -> Result<f64, BadTarget> {
            s.trim()
                .trim_end_matches(unit)
                .parse::<f64>()
                .ok()
                .filter(|v| v.is_finite())
                .ok_or_else(bad)
        };
        if let Some(seconds) = text.strip_prefix("asa=") {
            return Ok(Target::Asa {
                seconds: number(seconds, 's')?,
            });
        }
        let (percent, seconds) = text.split_once('/').ok_or_else(bad)?;
        Ok(Target::ServiceLevel {
            share: number(percent, '%')? / 100.0,
            threshold_s: number(seconds, 's')?,
        })
    }
}

impl std::fmt::Display for Target {
    /// As it is written: `80/20` or `asa=30`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Target::ServiceLevel { share, threshold_s } => {
                // Rounded to a millionth of a percent: 0.57 shows as 57.
                let percent = (share * 100.0 * 1e6).round() / 1e6;
                write!(f, "{percent}/{threshold_s}")
            }
            Target::Asa { seconds } => write!(f, "asa={seconds}"),
        }
    }
}

/// The planning rule of an interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Requirement {
    /// The target.
    pub target: Target,
    /// Highest share of agents' time on calls, in (0, 1].
    pub max_occupancy: f64,
    /// Share of paid time not available for calls, in [0, 1).
    pub shrinkage: f64,
    /// The queueing model.
    pub method: Method,
}

/// An interval's demand.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Demand {
    /// Calls offered in the interval.
    pub calls: f64,
    /// Length of the interval, seconds.
    pub period_s: f64,
    /// Average handle time, seconds.
    pub aht_s: f64,
}

/// The answer for one interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Staffing {
    /// Agents on the phones.
    pub agents_required: u32,
    /// Agents to schedule: `ceil(required / (1 − shrinkage))`.
    pub agents_with_shrinkage: u32,
    /// Expected share answered within the threshold (over offered calls);
    /// with an ASA target, within 20 s.
    pub service_level: f64,
    /// Expected mean wait of answered calls, seconds.
    pub asa_s: f64,
    /// Expected occupancy.
    pub occupancy: f64,
    /// Expected share of calls abandoned (0 under Erlang C).
    pub abandon: f64,
}

/// Why a requirement cannot be computed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum StaffingError {
    /// A value is out of range.
    #[error("{name} = {value}: {rule}")]
    Invalid {
        /// The setting.
        name: &'static str,
        /// Its value.
        value: f64,
        /// The rule it breaks.
        rule: &'static str,
    },
    /// No number of agents up to the limit meets the target.
    #[error("no staffing up to {0} agents meets the target")]
    Unreachable(u32),
}

/// The most agents a search tries.
const MAX_AGENTS: u32 = 1_000_000;

/// The threshold the service level is reported at under an ASA target.
const DEFAULT_THRESHOLD_S: f64 = 20.0;

/// The measures of `agents` agents.
#[derive(Debug, Clone, Copy)]
struct Measures {
    service_level: f64,
    asa_s: f64,
    occupancy: f64,
    abandon: f64,
}

impl Requirement {
    fn check(&self, demand: &Demand) -> Result<(), StaffingError> {
        let invalid = |name, value, rule| Err(StaffingError::Invalid { name, value, rule });
        let finite_non_negative = |v: f64| v.is_finite() && v >= 0.0;
        if !finite_non_negative(demand.calls) {
            return invalid("volume", demand.calls, "a number of calls ≥ 0");
        }
        if !(demand.period_s.is_finite() && demand.period_s > 0.0) {
            return invalid("interval", demand.period_s, "seconds > 0");
        }
        if !(demand.aht_s.is_finite() && demand.aht_s > 0.0) {
            return invalid("aht", demand.aht_s, "seconds > 0");
        }
        match self.target {
            Target::ServiceLevel { share, threshold_s } => {
                if !(share > 0.0 && share < 1.0) {
                    return invalid("target share", share, "between 0 and 1, exclusive");
                }
                if !finite_non_negative(threshold_s) {
                    return invalid("target seconds", threshold_s, "seconds ≥ 0");
                }
            }
            Target::Asa { seconds } => {
                if !(seconds.is_finite() && seconds > 0.0) {
                    return invalid("target ASA", seconds, "seconds > 0");
                }
            }
        }
        if !(self.max_occupancy > 0.0 && self.max_occupancy <= 1.0) {
            return invalid("max occupancy", self.max_occupancy, "in (0, 1]");
        }
        if !(self.shrinkage >= 0.0 && self.shrinkage < 1.0) {
            return invalid("shrinkage", self.shrinkage, "in [0, 1)");
        }
        if let Method::ErlangA { patience_s } = self.method
            && (patience_s.is_nan() || patience_s <= 0.0)
        {
            return invalid("patience", patience_s, "seconds > 0 (infinite: Erlang C)");
        }
        Ok(())
    }

    fn threshold_s(&self) -> f64 {
        match self.target {
            Target::ServiceLevel { threshold_s, .. } => threshold_s,
            Target::Asa { .. } => DEFAULT_THRESHOLD_S,
        }
    }

    /// The measures of `agents`, or `None` where the model has no steady
    /// state (Erlang C with agents ≤ erlangs).
    fn measures(&self, demand: &Demand, agents: u32) -> Option<Measures> {
        let threshold_s = self.threshold_s();
        match self.method {
            Method::ErlangC => {
                let load = Load::from_calls(demand.calls, demand.period_s, demand.aht_s);
                Some(Measures {
                    service_level: load.service_level(agents, threshold_s)?,
                    asa_s: load.asa_s(agents)?,
                    occupancy: load.occupancy(agents),
                    abandon: 0.0,
                })
            }
            Method::ErlangA { patience_s } => {
                let load = AbandonLoad::from_calls(
                    demand.calls,
                    demand.period_s,
                    demand.aht_s,
                    patience_s,
                );
                let a = load.evaluate(agents, threshold_s);
                Some(Measures {
                    service_level: a.service_level,
                    asa_s: a.asa_s,
                    occupancy: a.occupancy,
                    abandon: a.abandon_probability,
                })
            }
        }
    }

    fn meets(&self, demand: &Demand, agents: u32) -> Option<Measures> {
        let m = self.measures(demand, agents)?;
        let target = match self.target {
            Target::ServiceLevel { share, .. } => m.service_level >= share,
            Target::Asa { seconds } => m.asa_s <= seconds,
        };
        (target && m.occupancy <= self.max_occupancy).then_some(m)
    }

    /// Erlang C's least staffing, upward from the load with one Erlang B
    /// step per candidate (O(answer); no bisection needed).
    fn staff_erlang_c(&self, demand: &Demand, low: u32) -> Option<(u32, Measures)> {
        let load = Load::from_calls(demand.calls, demand.period_s, demand.aht_s);
        let threshold_s = self.threshold_s();
        let agents = load.least_agents(low, |agents, c| {
            let spare = f64::from(agents) - load.erlangs;
            match self.target {
                Target::ServiceLevel { share, .. } => {
                    1.0 - c * (-spare * threshold_s / load.aht_s).exp() >= share
                }
                Target::Asa { seconds } => c * load.aht_s / spare <= seconds,
            }
        });
        (agents < MAX_AGENTS).then(|| self.meets(demand, agents).map(|m| (agents, m)))?
    }

    /// The least staffing of `demand` that meets this requirement.
    pub fn staff(&self, demand: &Demand) -> Result<Staffing, StaffingError> {
        self.check(demand)?;
        if demand.calls == 0.0 {
            return Ok(Staffing {
                agents_required: 0,
                agents_with_shrinkage: 0,
                service_level: 1.0,
                asa_s: 0.0,
                occupancy: 0.0,
                abandon: 0.0,
            });
        }
        let erlangs = demand.calls * demand.aht_s / demand.period_s;
        // Below `low` nothing meets: Erlang C needs more agents than
        // erlangs and an offered-load occupancy under the cap; Erlang A's
        // occupancy is of the carried load, so it has no such bound.
        let low = match self.method {
            Method::ErlangC => ((erlangs / self.max_occupancy).ceil() as u32)
                .max(erlangs.floor() as u32 + 1)
                .max(1),
            Method::ErlangA { .. } => 1,
        };
        if self.method == Method::ErlangC {
            let (agents, measures) = self
                .staff_erlang_c(demand, low)
                .ok_or(StaffingError::Unreachable(MAX_AGENTS))?;
            return Ok(self.answer(agents, measures));
        }
        // Erlang A: bracket around Erlang C's answer for the same target
        // (abandonment moves the answer a little either way; starting low
        // would walk huge queues of badly understaffed candidates).
        let guess = Requirement {
            method: Method::ErlangC,
            max_occupancy: 1.0,
            ..*self
        }
        .staff_erlang_c(demand, 1)
        .map_or(low, |(agents, _)| agents);
        let (mut below, mut high, mut best) = (low - 1, guess, None);
        let mut step = 1u32;
        while best.is_none() {
            match self.meets(demand, high) {
                Some(m) => best = Some(m),
                None if high >= MAX_AGENTS => return Err(StaffingError::Unreachable(MAX_AGENTS)),
                None => {
                    below = below.max(high);
                    high = high.saturating_add(step).min(MAX_AGENTS);
                    step = step.saturating_mul(2);
                }
            }
        }
        // Step down from a meeting guess until a candidate fails.
        let mut step = 1u32;
        let mut probe = high;
        while probe > below + 1 {
            let candidate = probe.saturating_sub(step).max(below + 1);
            match self.meets(demand, candidate) {
                Some(m) => {
                    (high, best, probe) = (candidate, Some(m), candidate);
                    step = step.saturating_mul(2);
                }
                None => {
                    below = candidate;
                    break;
                }
            }
        }
        let (low, best) = (below + 1, best.ok_or(StaffingError::Unreachable(high))?);
        // Bisect (low − 1, high]: high meets, low − 1 does not.
        let (mut fails, mut meets, mut measures) = (low - 1, high, best);
        while meets - fails > 1 {
            let mid = fails + (meets - fails) / 2;
            match self.meets(demand, mid) {
                Some(m) => {
                    meets = mid;
                    measures = m;
                }
                None => fails = mid,
            }
        }
        Ok(self.answer(meets, measures))
    }

    fn answer(&self, agents: u32, measures: Measures) -> Staffing {
        Staffing {
            agents_required: agents,
            agents_with_shrinkage: (f64::from(agents) / (1.0 - self.shrinkage)).ceil() as u32,
            service_level: measures.service_level,
            asa_s: measures.asa_s,
            occupancy: measures.occupancy,
            abandon: measures.abandon,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_read_and_print_as_planners_write_them() {
        let sl = |share, threshold_s| Target::ServiceLevel { share, threshold_s };
        assert_eq!("80/20".parse(), Ok(sl(0.8, 20.0)));
        assert_eq!("90%/15s".parse(), Ok(sl(0.9, 15.0)));
        assert_eq!("asa=30".parse(), Ok(Target::Asa { seconds: 30.0 }));
        assert_eq!("57/20".parse::<Target>().unwrap().to_string(), "57/20");
        assert_eq!(Target::Asa { seconds: 12.5 }.to_string(), "asa=12.5");
        for bad in ["eighty", "80", "80/x", "asa=", "NaN/20"] {
            let err = bad.parse::<Target>().unwrap_err().to_string();
            assert!(err.contains(bad), "{err}");
        }
    }
}
