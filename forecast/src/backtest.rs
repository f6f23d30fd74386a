//! How well a model would have done: fit on the history up to an origin,
//! forecast the next `horizon` intervals, score them against what
//! happened. Rolling origins repeat this at several cut points, a horizon
//! apart, ending at the series' end.

use crate::accuracy::{Accuracy, naive_scale, score};
use crate::{Model, Series};

/// A model's scores at one origin.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scored {
    /// The origin (first forecast interval, Unix seconds).
    pub origin_s: i64,
    /// The scores.
    pub accuracy: Accuracy,
}

/// The scores of `model` forecasting the last `horizon` intervals of
/// `series` from the rest; `None` when the history is too short to scale
/// or nothing was open.
pub fn holdout(model: &dyn Model, series: &Series, horizon: usize) -> Option<Scored> {
    holdout_scored(
        model,
        series,
        series.values.len().checked_sub(horizon)?,
        horizon,
    )
}

/// Scores at `origins` cut points, the last at `series`' end minus
/// `horizon`, each `horizon` before the next; returns those that could
/// be scored, oldest first.
pub fn rolling(model: &dyn Model, series: &Series, horizon: usize, origins: usize) -> Vec<Scored> {
    let n = series.values.len();
    (0..origins)
        .rev()
        .filter_map(|k| {
            let cut = n.checked_sub(horizon * (k + 1))?;
            holdout_scored(model, series, cut, horizon)
        })
        .collect()
}

/// The mean of each score over `scored`, weighting each origin alike.
pub fn mean(scored: &[Scored]) -> Option<Accuracy> {
    let n = scored.len() as f64;
    (!scored.is_empty()).then(|| Accuracy {
        mase: scored.iter().map(|s| s.accuracy.mase).sum::<f64>() / n,
        wape: scored.iter().map(|s| s.accuracy.wape).sum::<f64>() / n,
        smape: scored.iter().map(|s| s.accuracy.smape).sum::<f64>() / n,
        intervals: scored.iter().map(|s| s.accuracy.intervals).sum(),
    })
}

fn holdout_scored(
    model: &dyn Model,
    series: &Series,
    cut: usize,
    horizon: usize,
) -> Option<Scored> {
    let history = series.head(cut);
    let scale = naive_scale(&history)?;
    let forecast = model.forecast(&history, horizon);
    let actual = &series.values[cut..(cut + horizon).min(series.values.len())];
    Some(Scored {
        origin_s: history.end_s(),
        accuracy: score(actual, &forecast.mean, scale)?,
    })
}
