//! One queue's forecast end to end: special days out of the history,
//! the volume model chosen by rolling-origin backtest, its forecast with
//! the special days' overrides, and AHT per interval.

use crate::aht::forecast_aht;
use crate::choose::{Choice, choose, volume_candidates};
use crate::special::SpecialDays;
use crate::{Forecast, Series};

/// A queue's history on one interval grid.
#[derive(Debug, Clone)]
pub struct QueueHistory {
    /// Calls offered per interval.
    pub offered: Series,
    /// Calls answered per interval (weights the AHT).
    pub answered: Series,
    /// AHT per interval, seconds.
    pub aht_s: Series,
}

/// A queue's forecast.
#[derive(Debug, Clone)]
pub struct QueueForecast {
    /// The backtest of every candidate and the one chosen.
    pub choice: Choice,
    /// Volumes with 90 % intervals.
    pub volume: Forecast,
    /// AHT per forecast interval, seconds.
    pub aht_s: Vec<Option<f64>>,
}

impl QueueForecast {
    /// The chosen model's name.
    pub fn model(&self) -> &str {
        &self.choice.candidates[self.choice.index].model
    }
}

/// Forecasts `history` `horizon` intervals ahead, backtesting over
/// `origins` rolling origins.
pub fn forecast_queue(
    history: &QueueHistory,
    special: &SpecialDays<'_>,
    horizon: usize,
    origins: usize,
) -> QueueForecast {
    let offered = special.exclude(&history.offered);
    let models = volume_candidates();
    let choice = choose(&models, &offered, horizon, origins);
    let mut volume = match models.get(choice.index) {
        Some(model) => model.forecast(&offered, horizon),
        None => Forecast::gaps(&offered, horizon),
    };
    special.apply(&mut volume);
    let aht_s = forecast_aht(&special.exclude(&history.aht_s), &history.answered, horizon);
    QueueForecast {
        choice,
        volume,
        aht_s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::special::SpecialDay;

    #[test]
    fn a_queue_forecast_skips_and_overrides_special_days() {
        // Hourly grid over 5 weeks, open 09:00–17:00 every day, 10 calls
        // an hour with AHT 180 s; day 30 (a holiday) is 50 calls an hour.
        let step = 3600;
        let week = 168;
        let values = |v: f64, holiday: f64| -> Series {
            Series {
                start_s: 0,
                step_s: step,
                values: (0..5 * week)
                    .map(|i| {
                        let hour = i % 24;
                        let day = i / 24;
                        (9..17)
                            .contains(&hour)
                            .then_some(if day == 30 { holiday } else { v })
                    })
                    .collect(),
            }
        };
        let history = QueueHistory {
            offered: values(10.0, 50.0),
            answered: values(10.0, 50.0),
            aht_s: values(180.0, 900.0),
        };
        let date = |s: i64| chrono::DateTime::from_timestamp(s, 0).map(|t| t.date_naive());
        let days = [
            SpecialDay {
                date: date(30 * 86_400).unwrap(),
                name: "holiday".into(),
                volume_factor: 0.0,
            },
            SpecialDay {
                date: date(36 * 86_400).unwrap(),
                name: "campaign".into(),
                volume_factor: 2.0,
            },
        ];
        let special = SpecialDays::new(&days, &date);
        let f = forecast_queue(&history, &special, week, 2);
        // Day 35 (first forecast day) at 10:00: 10 calls, the holiday's 50
        // did not leak in whatever model won; AHT 180 s.
        let at = |day: usize, hour: usize| (day - 35) * 24 + hour;
        let v = f.volume.mean[at(35, 10)].unwrap();
        assert!((v - 10.0).abs() < 0.5, "{v} by {}", f.model());
        assert!((f.aht_s[at(35, 10)].unwrap() - 180.0).abs() < 1e-9);
        // The campaign day doubles; nights stay closed.
        let c = f.volume.mean[at(36, 10)].unwrap();
        assert!((c - 2.0 * v).abs() < 1.0, "{c} vs {v}");
        assert_eq!(f.volume.mean[at(35, 3)], None);
    }
}
