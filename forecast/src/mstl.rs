//! MSTL (multiple seasonal-trend decomposition by LOESS, augurs) with
//! daily and weekly periods, and AutoETS on the trend.
//!
//! AutoETS is fitted to the last [`TREND_WEEKS`] weeks of the seasonally
//! adjusted series only: ETS forecasts from its final level and slope,
//! which recent weeks determine, and fitting its candidate models over a
//! whole year took 95 % of the time (0.45 s of 0.48 s for a year of
//! 30-minute intervals).
//!
//! MSTL needs a gap-free series, so the calendar grid is filled first:
//! an interval that is open in neighbouring weeks but missing in this one
//! (a holiday, lost data) takes the value of the nearest open week before
//! it; an interval closed in every week around it (nights, weekends) is
//! 0. Future intervals closed in every one of the last eight weeks are
//! forecast closed, as the baselines do. A series that cannot be fitted
//! (shorter than two weeks) is forecast as all gaps, which loses every
//! backtest, so [`crate::choose`] passes over it.

use std::borrow::Cow;

use augurs::ets::AutoETS;
use augurs::mstl::{FittedTrendModel, MSTLModel, TrendModel};
use augurs::prelude::*;

use crate::{Forecast, Model, Series};

/// The model.
#[derive(Debug, Clone, Copy, Default)]
pub struct MstlEts;

/// Weeks looked at around a gap to tell a holiday from closed hours.
const NEIGHBOUR_WEEKS: usize = 4;

/// Weeks of the seasonally adjusted series AutoETS is fitted on.
pub const TREND_WEEKS: usize = 8;

/// AutoETS (non-seasonal) on the last `window` values of the series it
/// is given. Its in-sample predictions cover that window only (this
/// crate uses its forecasts alone).
#[derive(Debug, Clone, Copy)]
struct RecentAutoEts {
    window: usize,
}

impl TrendModel for RecentAutoEts {
    fn name(&self) -> Cow<'_, str> {
        Cow::Borrowed("AutoETS (recent weeks)")
    }

    fn fit(
        &self,
        y: &[f64],
    ) -> Result<
        Box<dyn FittedTrendModel + Sync + Send>,
        Box<dyn std::error::Error + Send + Sync + 'static>,
    > {
        let recent = &y[y.len().saturating_sub(self.window)..];
        AutoETS::non_seasonal().into_trend_model().fit(recent)
    }
}

impl Model for MstlEts {
    fn name(&self) -> &str {
        "mstl_ets"
    }

    fn forecast(&self, history: &Series, horizon: usize) -> Forecast {
        let week = history.week();
        let day = week / 7;
        let gaps = || Forecast::gaps(history, horizon);
        if history.values.len() < 2 * week || day == 0 {
            return gaps();
        }
        let filled = fill(&history.values, week);
        let trend = RecentAutoEts {
            window: TREND_WEEKS * week,
        };
        let model = MSTLModel::new(vec![day, week], trend);
        let Ok(fitted) = model.fit(&filled) else {
            return gaps();
        };
        let Ok(predicted) = fitted.predict(horizon, 0.9) else {
            return gaps();
        };
        let n = history.values.len();
        let open = |i: usize| {
            (1..=8).any(|k| {
                (n + i)
                    .checked_sub(k * week)
                    .is_some_and(|j| j < n && history.values[j].is_some())
            })
        };
        let bound =
            |values: Option<&Vec<f64>>, i: usize| values.and_then(|v| v.get(i)).map(|x| x.max(0.0));
        let intervals = predicted.intervals.as_ref();
        Forecast {
            start_s: history.end_s(),
            step_s: history.step_s,
            mean: (0..horizon)
                .map(|i| open(i).then(|| predicted.point[i].max(0.0)))
                .collect(),
            lo: (0..horizon)
                .map(|i| {
                    open(i)
                        .then(|| bound(intervals.map(|x| &x.lower), i))
                        .flatten()
                })
                .collect(),
            hi: (0..horizon)
                .map(|i| {
                    open(i)
                        .then(|| bound(intervals.map(|x| &x.upper), i))
                        .flatten()
                })
                .collect(),
        }
    }
}

/// The grid without gaps (see the module documentation).
fn fill(values: &[Option<f64>], week: usize) -> Vec<f64> {
    let open_near = |i: usize| {
        (1..=NEIGHBOUR_WEEKS).any(|k| {
            i.checked_sub(k * week).is_some_and(|j| values[j].is_some())
                || values.get(i + k * week).is_some_and(Option::is_some)
        })
    };
    (0..values.len())
        .map(|i| match values[i] {
            Some(v) => v,
            None if open_near(i) => (1..=NEIGHBOUR_WEEKS)
                .filter_map(|k| i.checked_sub(k * week).and_then(|j| values[j]))
                .next()
                .unwrap_or(0.0),
            None => 0.0,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holidays_take_last_weeks_value_and_closed_hours_zero() {
        let week = 2;
        // Slot 0 open every week but missing in week 2 (a holiday); slot 1
        // always closed.
        let values = [
            Some(5.0),
            None,
            Some(6.0),
            None,
            None,
            None,
            Some(8.0),
            None,
        ];
        assert_eq!(
            fill(&values, week),
            vec![5.0, 0.0, 6.0, 0.0, 6.0, 0.0, 8.0, 0.0]
        );
    }

    #[test]
    fn a_short_history_is_all_gaps() {
        let s = Series {
            start_s: 0,
            step_s: 3600,
            values: vec![Some(1.0); 100],
        };
        let f = MstlEts.forecast(&s, 5);
        assert!(f.mean.iter().all(Option::is_none));
    }
}
