//! Interval forecasts for workforce planning, pure and without I/O: the
//! caller hands in a series and gets numbers back.
//!
//! Modules:
//! - [`series`]: a regular interval grid where closed or missing intervals
//!   are gaps, built from `(timestamp, value)` points.
//! - [`text`]: reading a plain `timestamp,count` CSV (another system's
//!   export) into points, with errors that name the line.
//! - [`baselines`]: seasonal naive (same interval last week) and the mean
//!   of the same interval over the last four weeks — the models to beat.
//! - [`accuracy`]: MASE (scaled by the weekly seasonal naive), WAPE and
//!   sMAPE over the intervals that were open.
//! - [`backtest`]: a model's accuracy on held-out weeks, and over rolling
//!   origins.
//! - [`choose`]: the model for a series, by rolling-origin backtest.
//! - [`combine`]: the mean of several models' forecasts.
//! - [`memo`]: a model that remembers its forecasts (shared members fit once).
//! - [`mstl`]: MSTL (daily and weekly seasons) with AutoETS on the trend
//!   (augurs), on a gap-filled copy of the grid.
//! - [`special`]: special days (holidays, campaigns): out of the history,
//!   overridden in the forecast.
//! - [`aht`]: handle time per future interval.
//! - [`plan`]: one queue's forecast end to end (volumes, special days, AHT).

pub mod accuracy;
pub mod aht;
pub mod backtest;
pub mod baselines;
pub mod choose;
pub mod combine;
pub mod memo;
pub mod mstl;
pub mod plan;
pub mod series;
pub mod special;
pub mod text;

pub use series::Series;

/// What can go wrong building or reading a series.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ForecastError {
    /// A line of a CSV could not be read.
    #[error("line {line}: {reason}")]
    Line {
        /// 1-based line number.
        line: usize,
        /// What is wrong with it.
        reason: String,
    },
    /// A point is not on the series' interval grid.
    #[error("{timestamp} is not on the {step_s}-second grid starting at {start}")]
    OffGrid {
        /// The point's time (Unix seconds).
        timestamp: i64,
        /// The grid's step.
        step_s: i64,
        /// The grid's first instant (Unix seconds).
        start: i64,
    },
    /// The series has no points, or a bad step.
    #[error("{0}")]
    Invalid(String),
}

/// A forecast over the intervals after a series' end.
#[derive(Debug, Clone, PartialEq)]
pub struct Forecast {
    /// First forecast interval (Unix seconds).
    pub start_s: i64,
    /// Interval length, seconds.
    pub step_s: i64,
    /// Point forecast per interval; `None` where the history says closed.
    pub mean: Vec<Option<f64>>,
    /// Lower and upper bounds of the 90 % prediction interval.
    pub lo: Vec<Option<f64>>,
    /// Upper bounds.
    pub hi: Vec<Option<f64>>,
}

impl Forecast {
    /// A forecast of nothing (every interval a gap) after `history`.
    pub fn gaps(history: &Series, horizon: usize) -> Self {
        Forecast {
            start_s: history.end_s(),
            step_s: history.step_s,
            mean: vec![None; horizon],
            lo: vec![None; horizon],
            hi: vec![None; horizon],
        }
    }
}

/// A forecasting model: history in, forecast out.
pub trait Model: Send + Sync {
    /// Its name, as reports and the `forecasts` table show it.
    fn name(&self) -> &str;
    /// Fits on `history` and forecasts the `horizon` intervals after it.
    fn forecast(&self, history: &Series, horizon: usize) -> Forecast;
}
