//! Forecast accuracy over the intervals that were open (actual present):
//!
//! - MASE: mean absolute error ÷ the in-sample mean absolute error of the
//!   weekly seasonal naive (each interval against the same interval one
//!   week before, where both are present). Below 1 beats "same as last
//!   week" as it did on the history.
//! - WAPE: Σ|error| ÷ Σ actual.
//! - sMAPE: mean of 2|error| ÷ (|actual| + |forecast|), 0 where both are 0.
//!
//! A forecast gap where the interval turned out open counts as 0 calls
//! forecast (the planner would have staffed nobody).

use crate::Series;

/// The three scores.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Accuracy {
    /// Mean absolute scaled error (weekly seasonal naive scale).
    pub mase: f64,
    /// Weighted absolute percentage error, as a share.
    pub wape: f64,
    /// Symmetric mean absolute percentage error, as a share.
    pub smape: f64,
    /// Intervals scored.
    pub intervals: usize,
}

/// The in-sample MAE of the weekly seasonal naive on `history`, or
/// `None` when no interval has a value one week before or every week
/// repeated the last exactly (a scale of 0 would divide by zero; such a
/// history cannot rank models).
pub fn naive_scale(history: &Series) -> Option<f64> {
    let week = history.week();
    let errors: Vec<f64> = (week..history.values.len())
        .filter_map(|i| Some((history.values[i]? - history.values[i - week]?).abs()))
        .collect();
    let scale = errors.iter().sum::<f64>() / errors.len().max(1) as f64;
    (!errors.is_empty() && scale > 0.0).then_some(scale)
}

/// The scores of `forecast` against `actual` (the same intervals), scaled
/// by `scale` (see [`naive_scale`]); `None` when no interval was open.
pub fn score(actual: &[Option<f64>], forecast: &[Option<f64>], scale: f64) -> Option<Accuracy> {
    let pairs: Vec<(f64, f64)> = actual
        .iter()
        .zip(forecast)
        .filter_map(|(a, f)| Some(((*a)?, f.unwrap_or(0.0))))
        .collect();
    if pairs.is_empty() {
        return None;
    }
    let n = pairs.len() as f64;
    let abs_error: f64 = pairs.iter().map(|(a, f)| (a - f).abs()).sum();
    let total: f64 = pairs.iter().map(|(a, _)| a.abs()).sum();
    let smape = pairs
        .iter()
        .map(|(a, f)| {
            let denominator = a.abs() + f.abs();
            if denominator == 0.0 {
                0.0
            } else {
                2.0 * (a - f).abs() / denominator
            }
        })
        .sum::<f64>()
        / n;
    Some(Accuracy {
        mase: abs_error / n / scale,
        wape: if total > 0.0 { abs_error / total } else { 0.0 },
        smape,
        intervals: pairs.len(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_by_hand() {
        let actual = [Some(10.0), None, Some(0.0), Some(30.0)];
        let forecast = [Some(12.0), Some(5.0), Some(0.0), None];
        let a = score(&actual, &forecast, 4.0).unwrap();
        // Open intervals: (10, 12), (0, 0), (30, 0): |e| = 2, 0, 30.
        assert_eq!(a.intervals, 3);
        assert!((a.mase - (32.0 / 3.0) / 4.0).abs() < 1e-12);
        assert!((a.wape - 32.0 / 40.0).abs() < 1e-12);
        assert!((a.smape - (2.0 * 2.0 / 22.0 + 0.0 + 2.0) / 3.0).abs() < 1e-12);
        assert!(score(&[None], &[Some(1.0)], 1.0).is_none());
    }

    #[test]
    fn the_scale_is_last_weeks_error_where_both_weeks_were_open() {
        let s = Series {
            start_s: 0,
            step_s: crate::series::WEEK_S / 2,
            values: vec![
                Some(10.0),
                Some(1.0),
                Some(14.0),
                None,
                Some(11.0),
                Some(2.0),
            ],
        };
        // |14 − 10|, |11 − 14|, |2 − gap| skipped, gap skipped: (4 + 3) / 2.
        assert_eq!(naive_scale(&s), Some(3.5));
    }
}
