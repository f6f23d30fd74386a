//! The period a report covers, resolved on the contact center's clock:
//! yesterday, last week (Monday to Sunday), last month, or custom dates.
//! Bounds are local midnights turned into UTC instants, so a day with a
//! DST change is 23 or 25 hours long.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Datelike, Duration, LocalResult, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

/// The longest custom period, days.
pub const MAX_CUSTOM_DAYS: i64 = 400;

/// A period as asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Period {
    /// The local day before today.
    Yesterday,
    /// The last whole week, Monday to Sunday.
    LastWeek,
    /// The last whole calendar month.
    LastMonth,
    /// From one local date to another, both included.
    Custom {
        /// The first day.
        from: NaiveDate,
        /// The last day.
        to: NaiveDate,
    },
}

/// A period resolved to instants.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Window {
    /// A name for the period, used in file names: `2024-03-05`,
    /// `2024-W10`, `2024-03` or `2024-03-01_2024-03-10`.
    pub label: String,
    /// The first instant covered (UTC).
    pub start: DateTime<Utc>,
    /// The first instant after the period (UTC).
    pub end: DateTime<Utc>,
    /// The zone whose local days bound the period.
    pub time_zone: String,
}

/// Why a period cannot be resolved.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PeriodError {
    /// Not one of the period names.
    #[error("period {0:?}: expected yesterday, last_week, last_month or custom")]
    Unknown(String),
    /// A custom period without both dates, or with them reversed.
    #[error("a custom period needs from ≤ to (dates YYYY-MM-DD): {0}")]
    Custom(String),
    /// Not an IANA zone.
    #[error("time zone {0:?} is not an IANA time zone")]
    TimeZone(String),
}

impl Period {
    /// The period named `name` (`yesterday`, `last_week`, `last_month`,
    /// `custom` with `from` and `to`).
    pub fn named(
        name: &str,
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
    ) -> Result<Self, PeriodError> {
        let period = match name {
            "yesterday" => Period::Yesterday,
            "last_week" => Period::LastWeek,
            "last_month" => Period::LastMonth,
            "custom" => match (from, to) {
                (Some(from), Some(to)) if from.year() < 1970 || to.year() > 2200 => {
                    return Err(PeriodError::Custom(format!(
                        "{from}..{to}: dates are between 1970 and 2200"
                    )));
                }
                (Some(from), Some(to)) if (to - from).num_days() >= MAX_CUSTOM_DAYS => {
                    return Err(PeriodError::Custom(format!(
                        "{from}..{to}: at most {MAX_CUSTOM_DAYS} days"
                    )));
                }
                (Some(from), Some(to)) if from <= to => Period::Custom { from, to },
                (Some(from), Some(to)) => {
                    return Err(PeriodError::Custom(format!("{from} is after {to}")));
                }
                _ => return Err(PeriodError::Custom("from and to are both required".into())),
            },
            other => return Err(PeriodError::Unknown(other.to_owned())),
        };
        if name != "custom" && (from.is_some() || to.is_some()) {
            return Err(PeriodError::Custom(format!(
                "from and to go with period custom, not {name}"
            )));
        }
        Ok(period)
    }

    /// The period's days (first and last, included) seen from `now` in `tz`.
    pub fn days(&self, now: DateTime<Utc>, tz: Tz) -> (NaiveDate, NaiveDate) {
        let today = now.with_timezone(&tz).date_naive();
        match *self {
            Period::Yesterday => {
                let day = today.pred_opt().unwrap_or(today);
                (day, day)
            }
            Period::LastWeek => {
                let monday =
                    today - Duration::days(i64::from(today.weekday().num_days_from_monday()));
                (monday - Duration::days(7), monday - Duration::days(1))
            }
            Period::LastMonth => {
                let first = today.with_day(1).unwrap_or(today);
                let last = first.pred_opt().unwrap_or(first);
                (last.with_day(1).unwrap_or(last), last)
            }
            Period::Custom { from, to } => (from, to),
        }
    }

    /// The period's window seen from `now`, in the zone named `time_zone`.
    pub fn resolve(&self, now: DateTime<Utc>, time_zone: &str) -> Result<Window, PeriodError> {
        let tz: Tz = time_zone
            .parse()
            .map_err(|_| PeriodError::TimeZone(time_zone.to_owned()))?;
        let (first, last) = self.days(now, tz);
        let label = match self {
            Period::Yesterday => first.format("%Y-%m-%d").to_string(),
            Period::LastWeek => {
                let week = first.iso_week();
                format!("{}-W{:02}", week.year(), week.week())
            }
            Period::LastMonth => first.format("%Y-%m").to_string(),
            Period::Custom { from, to } if from == to => from.format("%Y-%m-%d").to_string(),
            Period::Custom { from, to } => format!("{from}_{to}"),
        };
        let after = last.succ_opt().unwrap_or(last);
        Ok(Window {
            label,
            start: local_midnight(first, tz),
            end: local_midnight(after, tz),
            time_zone: time_zone.to_owned(),
        })
    }
}

/// The UTC instant of `day`'s first local moment (a midnight skipped by
/// DST starts the day at the first hour that exists).
fn local_midnight(day: NaiveDate, tz: Tz) -> DateTime<Utc> {
    let mut at = day.and_hms_opt(0, 0, 0).unwrap_or_default();
    for _ in 0..4 {
        match tz.from_local_datetime(&at) {
            LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => return t.with_timezone(&Utc),
            LocalResult::None => at += Duration::hours(1),
        }
    }
    Utc.from_utc_datetime(&at)
}

impl FromStr for Period {
    type Err = PeriodError;

    /// `yesterday`, `last_week`, `last_month`, or `FROM..TO` dates.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.split_once("..") {
            Some((from, to)) => {
                let date = |d: &str| {
                    NaiveDate::parse_from_str(d.trim(), "%Y-%m-%d")
                        .map_err(|e| PeriodError::Custom(format!("{d:?}: {e}")))
                };
                Period::named("custom", Some(date(from)?), Some(date(to)?))
            }
            None => Period::named(s, None, None),
        }
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Period::Yesterday => f.write_str("yesterday"),
            Period::LastWeek => f.write_str("last_week"),
            Period::LastMonth => f.write_str("last_month"),
            Period::Custom { from, to } => write!(f, "{from}..{to}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn periods_are_local_days_as_utc_instants() {
        // Wednesday 2024-03-06, 00:30 in Berlin (still the 5th in UTC).
        let now = at("2024-03-05T23:30:00Z");
        let yesterday = Period::Yesterday.resolve(now, "Europe/Berlin").unwrap();
        assert_eq!(yesterday.label, "2024-03-05");
        assert_eq!(yesterday.start, at("2024-03-04T23:00:00Z"));
        assert_eq!(yesterday.end, at("2024-03-05T23:00:00Z"));
        let week = Period::LastWeek.resolve(now, "Europe/Berlin").unwrap();
        assert_eq!(week.label, "2024-W09");
        assert_eq!(week.start, at("2024-02-25T23:00:00Z"));
        assert_eq!(week.end, at("2024-03-03T23:00:00Z"));
        let month = Period::LastMonth.resolve(now, "UTC").unwrap();
        assert_eq!(month.label, "2024-02");
        assert_eq!(month.start, at("2024-02-01T00:00:00Z"));
        assert_eq!(month.end, at("2024-03-01T00:00:00Z"));
    }

    #[test]
    fn a_dst_day_is_twenty_three_hours_and_custom_dates_include_both_ends() {
        let period: Period = "2024-03-31..2024-03-31".parse().unwrap();
        let day = period
            .resolve(at("2024-04-10T12:00:00Z"), "Europe/Berlin")
            .unwrap();
        assert_eq!(day.label, "2024-03-31");
        assert_eq!(day.end - day.start, Duration::hours(23));
        let span: Period = "2024-03-01..2024-03-10".parse().unwrap();
        let w = span.resolve(at("2024-04-10T12:00:00Z"), "UTC").unwrap();
        assert_eq!(w.label, "2024-03-01_2024-03-10");
        assert_eq!(w.end - w.start, Duration::days(10));
        assert_eq!(span.to_string(), "2024-03-01..2024-03-10");
    }

    #[test]
    fn bad_periods_say_why() {
        assert_eq!(
            "weekly".parse::<Period>().unwrap_err().to_string(),
            "period \"weekly\": expected yesterday, last_week, last_month or custom"
        );
        assert!(matches!(
            "2024-03-10..2024-03-01".parse::<Period>(),
            Err(PeriodError::Custom(_))
        ));
        assert!(Period::named("custom", None, None).is_err());
        assert!("1600-01-01..1600-01-02".parse::<Period>().is_err());
        assert!("2024-01-01..2025-12-31".parse::<Period>().is_err());
        assert!("2024-01-01..2024-12-31".parse::<Period>().is_ok());
        assert_eq!(
            Period::Yesterday.resolve(at("2024-03-05T00:00:00Z"), "Mars/Base"),
            Err(PeriodError::TimeZone("Mars/Base".into()))
        );
    }
}
