//! The planning settings, resolved and checked: `[forecast]` and
//! `[staffing]` of the configuration, with the KPI interval and time zone
//! the lake's intervals follow. API requests override some of them per
//! run ([`super::runs`]).

use std::time::Duration;

use chrono::NaiveDate;
use queuelake_forecast::special::SpecialDay;
use queuelake_scheduler::staffing::{Method, Requirement, Target};

use queuelake_engine::kpi::KpiSettings;

use crate::config::{ConfigFile, ForecastSection, StaffingSection};

/// The longest horizon offered.
pub const MAX_HORIZON_S: i64 = 6 * 7 * 86_400;

/// A setting that does not hold, named by its place in the configuration
/// (or the request field it came from).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{name}: {reason}")]
pub struct BadSetting {
    /// Where: `[staffing] target`, or a request field such as `horizon`.
    pub name: String,
    /// What is wrong.
    pub reason: String,
}

fn bad(name: &str, reason: impl Into<String>) -> BadSetting {
    BadSetting {
        name: name.to_owned(),
        reason: reason.into(),
    }
}

/// A special day and the queues it concerns (empty: all).
#[derive(Debug, Clone, PartialEq)]
pub struct QueueSpecialDay {
    /// The day.
    pub day: SpecialDay,
    /// Its queues.
    pub queues: Vec<String>,
}

/// The queueing model, with patience still to be estimated when unset.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum StaffMethod {
    /// Erlang C.
    ErlangC,
    /// Erlang A with this mean patience (seconds), or the lake's estimate.
    ErlangA {
        /// Mean patience, seconds; `None`: estimated per queue.
        patience_s: Option<f64>,
    },
}

impl StaffMethod {
    /// The name stored in the `staffing` table.
    pub fn name(&self) -> &'static str {
        match self {
            StaffMethod::ErlangC => "erlang_c",
            StaffMethod::ErlangA { .. } => "erlang_a",
        }
    }
}

/// How a forecast is staffed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StaffRule {
    /// Service level or ASA.
    pub target: Target,
    /// The model.
    pub method: StaffMethod,
    /// Share of paid time off the phones.
    pub shrinkage: f64,
    /// Occupancy cap.
    pub max_occupancy: f64,
}

impl StaffRule {
    /// The scheduler's requirement, with the patience to use (Erlang A).
    pub fn requirement(&self, patience_s: Option<f64>) -> Requirement {
        Requirement {
            target: self.target,
            max_occupancy: self.max_occupancy,
            shrinkage: self.shrinkage,
            method: match (self.method, patience_s) {
                (StaffMethod::ErlangA { .. }, Some(patience_s)) => Method::ErlangA { patience_s },
                _ => Method::ErlangC,
            },
        }
    }
}

/// Everything a forecast or staffing run needs to know.
#[derive(Debug, Clone)]
pub struct PlanSettings {
    /// Default horizon, seconds.
    pub horizon_s: i64,
    /// Re-run period (`None`: only on request).
    pub every: Option<Duration>,
    /// Rolling origins of the model choice.
    pub backtest_origins: usize,
    /// Weeks of history read.
    pub history_weeks: u32,
    /// Special days.
    pub special_days: Vec<QueueSpecialDay>,
    /// Default staffing rule.
    pub staffing: StaffRule,
    /// The lake's interval length, seconds.
    pub interval_s: i64,
    /// The contact center's time zone (special days are its dates).
    pub time_zone: chrono_tz::Tz,
}

impl PlanSettings {
    /// The settings of a configuration, checked.
    pub fn from_config(config: &ConfigFile) -> Result<Self, BadSetting> {
        Self::from_sections(&config.forecast, &config.staffing, &config.kpi)
    }

    /// The settings of the planning sections, with the KPI interval and
    /// time zone in force, checked.
    pub fn from_sections(
        f: &ForecastSection,
        staffing: &StaffingSection,
        kpi: &KpiSettings,
    ) -> Result<Self, BadSetting> {
        let horizon_s = parse_horizon(&f.horizon).map_err(|r| bad("[forecast] horizon", r))?;
        if f.backtest_origins == 0 {
            return Err(bad("[forecast] backtest_origins", "at least 1"));
        }
        if f.history_weeks < 2 {
            return Err(bad(
                "[forecast] history_weeks",
                "at least 2 (a week to learn from, a week to test on)",
            ));
        }
        let special_days = f
            .special_days
            .iter()
            .enumerate()
            .map(|(i, entry)| {
                let name = format!("[[forecast.special_days]] #{}", i + 1);
                let date = NaiveDate::parse_from_str(&entry.date, "%Y-%m-%d")
                    .map_err(|_| bad(&name, format!("date {:?} is not YYYY-MM-DD", entry.date)))?;
                if !(entry.volume_factor >= 0.0 && entry.volume_factor.is_finite()) {
                    return Err(bad(&name, "volume_factor must be 0 (closed) or more"));
                }
                Ok(QueueSpecialDay {
                    day: SpecialDay {
                        date,
                        name: entry.name.clone(),
                        volume_factor: entry.volume_factor,
                    },
                    queues: entry.queues.clone(),
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let time_zone = kpi
            .time_zone
            .parse()
            .map_err(|_| bad("[kpi] time_zone", "not an IANA time zone"))?;
        Ok(PlanSettings {
            horizon_s,
            every: (f.every_hours > 0).then(|| Duration::from_secs(f.every_hours * 3600)),
            backtest_origins: f.backtest_origins,
            history_weeks: f.history_weeks,
            special_days,
            staffing: staff_rule(staffing, "[staffing] ")?,
            interval_s: i64::from(kpi.interval_minutes) * 60,
            time_zone,
        })
    }

    /// The special days of `queue`.
    pub fn special_days_of(&self, queue: &str) -> Vec<SpecialDay> {
        self.special_days
            .iter()
            .filter(|d| d.queues.is_empty() || d.queues.iter().any(|q| q == queue))
            .map(|d| d.day.clone())
            .collect()
    }

    /// The local date of a Unix second in the contact center's zone.
    pub fn local_date(&self, unix_s: i64) -> Option<NaiveDate> {
        chrono::DateTime::from_timestamp(unix_s, 0)
            .map(|t| t.with_timezone(&self.time_zone).date_naive())
    }
}

/// A staffing rule from its section's values; `prefix` names where they
/// came from (`[staffing] ` or empty for request fields).
pub fn staff_rule(section: &StaffingSection, prefix: &str) -> Result<StaffRule, BadSetting> {
    let target: Target =
        section
            .target
            .parse()
            .map_err(|e: queuelake_scheduler::staffing::BadTarget| {
                bad(&format!("{prefix}target"), e.to_string())
            })?;
    let method = match section.method.as_str() {
        "erlang-c" | "erlang_c" => StaffMethod::ErlangC,
        "erlang-a" | "erlang_a" => StaffMethod::ErlangA {
            patience_s: section.patience_s,
        },
        other => {
            return Err(bad(
                &format!("{prefix}method"),
                format!("{other:?} is not erlang-a or erlang-c"),
            ));
        }
    };
    if let Some(p) = section.patience_s
        && !(p > 0.0 && p.is_finite())
    {
        return Err(bad(&format!("{prefix}patience_s"), "must be above 0"));
    }
    if !(0.0..1.0).contains(&section.shrinkage) {
        return Err(bad(&format!("{prefix}shrinkage"), "must be in [0, 1)"));
    }
    if !(section.max_occupancy > 0.0 && section.max_occupancy <= 1.0) {
        return Err(bad(&format!("{prefix}max_occupancy"), "must be in (0, 1]"));
    }
    Ok(StaffRule {
        target,
        method,
        shrinkage: section.shrinkage,
        max_occupancy: section.max_occupancy,
    })
}

/// `2w`, `10d`, `36h` → seconds (1 hour to 6 weeks).
pub fn parse_horizon(text: &str) -> Result<i64, String> {
    let bad = || format!("{text:?}: give a number and w, d or h (2w, 10d, 36h)");
    // The unit is the last character, whatever its width.
    let split = text.char_indices().last().map_or(0, |(at, _)| at);
    let (number, unit) = text.split_at(split);
    let number: i64 = number.parse().map_err(|_| bad())?;
    let seconds = match unit {
        "w" => number.saturating_mul(7 * 86_400),
        "d" => number.saturating_mul(86_400),
        "h" => number.saturating_mul(3_600),
        _ => return Err(bad()),
    };
    if !(3_600..=MAX_HORIZON_S).contains(&seconds) {
        return Err(format!("{text}: between 1 hour and 6 weeks"));
    }
    Ok(seconds)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn horizons_parse_within_six_weeks() {
        assert_eq!(parse_horizon("2w"), Ok(14 * 86_400));
        assert_eq!(parse_horizon("36h"), Ok(36 * 3_600));
        assert!(parse_horizon("7w").unwrap_err().contains("6 weeks"));
        assert!(parse_horizon("0h").unwrap_err().contains("1 hour"));
        assert!(parse_horizon("soon").unwrap_err().contains("soon"));
        assert!(parse_horizon("").is_err());
        // Multi-byte text is refused, not split inside a character.
        for odd in ["\u{84}", "2\u{84}", "é", "2wé", "９w"] {
            assert!(parse_horizon(odd).is_err(), "{odd}");
        }
    }

    proptest::proptest! {
        #[test]
        fn any_horizon_text_is_answered_without_panic(text in ".{0,12}") {
            let _ = parse_horizon(&text);
        }
    }

    #[test]
    fn planning_sections_are_checked_by_name() {
        let settings = |extra: &str| {
            ConfigFile::parse(&format!("version = 1\n{extra}"))
                .map(|c| PlanSettings::from_config(&c))
        };
        let ok = settings("").unwrap().unwrap();
        assert_eq!(ok.horizon_s, 14 * 86_400);
        assert_eq!(ok.every, Some(Duration::from_secs(86_400)));
        assert_eq!(
            ok.staffing.method,
            StaffMethod::ErlangA { patience_s: None }
        );
        assert_eq!(ok.interval_s, 900);
        for (extra, named) in [
            ("[forecast]\nhorizon = \"9w\"", "[forecast] horizon"),
            ("[staffing]\ntarget = \"most\"", "[staffing] target"),
            ("[staffing]\nmethod = \"erlang-b\"", "[staffing] method"),
            ("[staffing]\nshrinkage = 1.0", "[staffing] shrinkage"),
            (
                "[[forecast.special_days]]\ndate = \"25/12\"\nname = \"x\"",
                "special_days]] #1",
            ),
        ] {
            let err = settings(extra).unwrap_err().to_string();
            assert!(err.contains(named), "{extra}: {err}");
        }
        let days = settings(
            "[[forecast.special_days]]\ndate = \"2026-12-25\"\nname = \"Christmas\"\n\
             [[forecast.special_days]]\ndate = \"2026-12-01\"\nname = \"promo\"\nvolume_factor = 1.4\nqueues = [\"sales\"]",
        )
        .unwrap()
        .unwrap();
        assert_eq!(days.special_days_of("sales").len(), 2);
        assert_eq!(days.special_days_of("support").len(), 1);
    }
}
