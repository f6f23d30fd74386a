//! Special days: holidays, campaigns, anything a planner knows will not be
//! an ordinary day. Their intervals are taken out of the history before a
//! model is fitted (a holiday's empty afternoon or a campaign's peak would
//! otherwise be learnt as normal), and a forecast over one is overridden:
//! its volumes (and bounds) are multiplied by the day's factor, 0 for a
//! day the contact center is closed.

use chrono::NaiveDate;

use crate::{Forecast, Series};

/// One special day.
#[derive(Debug, Clone, PartialEq)]
pub struct SpecialDay {
    /// The local date.
    pub date: NaiveDate,
    /// What it is (shown beside the forecast).
    pub name: String,
    /// Volume relative to an ordinary day: 0 closed, 1.3 a campaign
    /// bringing 30 % more calls.
    pub volume_factor: f64,
}

/// The special days of one forecast, with the local calendar to place
/// them (`local_date` maps a Unix second to its local date).
pub struct SpecialDays<'a> {
    days: &'a [SpecialDay],
    local_date: &'a dyn Fn(i64) -> Option<NaiveDate>,
}

impl<'a> SpecialDays<'a> {
    /// The days, placed by `local_date`.
    pub fn new(days: &'a [SpecialDay], local_date: &'a dyn Fn(i64) -> Option<NaiveDate>) -> Self {
        SpecialDays { days, local_date }
    }

    /// The special day interval `start_s` falls on, if any.
    pub fn on(&self, start_s: i64) -> Option<&'a SpecialDay> {
        let date = (self.local_date)(start_s)?;
        self.days.iter().find(|d| d.date == date)
    }

    /// `history` with every special day's intervals turned into gaps.
    pub fn exclude(&self, history: &Series) -> Series {
        let mut cleaned = history.clone();
        for (i, value) in cleaned.values.iter_mut().enumerate() {
            if self
                .on(history.start_s + history.step_s * i as i64)
                .is_some()
            {
                *value = None;
            }
        }
        cleaned
    }

    /// Applies each special day's factor to the forecast's intervals on
    /// it; a factor of 0 makes them closed (gaps).
    pub fn apply(&self, forecast: &mut Forecast) {
        for i in 0..forecast.mean.len() {
            let Some(day) = self.on(forecast.start_s + forecast.step_s * i as i64) else {
                continue;
            };
            for values in [&mut forecast.mean, &mut forecast.lo, &mut forecast.hi] {
                values[i] = if day.volume_factor > 0.0 {
                    values[i].map(|v| v * day.volume_factor)
                } else {
                    None
                };
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc_date(s: i64) -> Option<NaiveDate> {
        chrono::DateTime::from_timestamp(s, 0).map(|t| t.date_naive())
    }

    #[test]
    fn special_days_leave_the_history_and_scale_the_forecast() {
        let day = |d: &str, f: f64| SpecialDay {
            date: NaiveDate::parse_from_str(d, "%Y-%m-%d").unwrap(),
            name: d.to_owned(),
            volume_factor: f,
        };
        // 12-hour intervals from 1970-01-01.
        let days = [day("1970-01-02", 0.0), day("1970-01-03", 1.5)];
        let local = utc_date;
        let special = SpecialDays::new(&days, &local);
        let history = Series {
            start_s: 0,
            step_s: 43_200,
            values: vec![Some(1.0); 6],
        };
        assert_eq!(
            special.exclude(&history).values,
            vec![Some(1.0), Some(1.0), None, None, None, None]
        );
        let mut f = Forecast {
            start_s: 0,
            step_s: 43_200,
            mean: vec![Some(10.0); 6],
            lo: vec![Some(8.0); 6],
            hi: vec![Some(12.0); 6],
        };
        special.apply(&mut f);
        assert_eq!(
            f.mean,
            vec![Some(10.0), Some(10.0), None, None, Some(15.0), Some(15.0)]
        );
        assert_eq!(f.hi[4], Some(18.0));
        assert_eq!(f.lo[2], None);
    }
}
