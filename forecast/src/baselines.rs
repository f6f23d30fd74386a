//! The two baselines that are hard to beat on call arrivals:
//! the seasonal naive (each interval as it was one week before) and the
//! mean of the same interval over the last four weeks. Weeks that were
//! closed in that interval (gaps) are skipped: a holiday does not pull a
//! Monday's forecast to zero, and an interval closed in every week looked
//! at is forecast as closed (a gap).
//!
//! A third member of the family is not a baseline but a robust candidate:
//! the six-week trimmed mean (the highest and lowest of the last six open
//! weeks dropped, the other four averaged), which a week disturbed by a
//! holiday or an outage does not pull.
//!
//! Prediction intervals are empirical: the point forecast ± the 90 %
//! quantile of the model's own absolute one-week-ahead errors over the
//! history (floored at zero).

use crate::{Forecast, Model, Series};

/// The mean of the same interval over the last `weeks` weeks with data
/// (`weeks = 1`: the seasonal naive), the `trim` highest and `trim`
/// lowest of them dropped when enough weeks were found.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SameIntervalMean {
    /// Weeks averaged.
    pub weeks: usize,
    /// How far back to look for them, in weeks.
    pub look_back: usize,
    /// Values dropped at each end before averaging.
    pub trim: usize,
}

impl SameIntervalMean {
    /// Same interval last week (skipping closed weeks, up to 4 back).
    pub const SEASONAL_NAIVE: SameIntervalMean = SameIntervalMean {
        weeks: 1,
        look_back: 4,
        trim: 0,
    };
    /// Mean of the same interval over the last 4 weeks (up to 8 back).
    pub const FOUR_WEEK_MEAN: SameIntervalMean = SameIntervalMean {
        weeks: 4,
        look_back: 8,
        trim: 0,
    };
    /// The last 6 weeks (up to 12 back) without their highest and lowest.
    pub const TRIMMED_SIX_WEEK_MEAN: SameIntervalMean = SameIntervalMean {
        weeks: 6,
        look_back: 12,
        trim: 1,
    };

    /// The forecast of interval `slot` from the values before `until`.
    fn point(&self, values: &[Option<f64>], week: usize, slot: usize, until: usize) -> Option<f64> {
        let mut taken = Vec::with_capacity(self.weeks);
        let mut back = slot;
        for _ in 0..self.look_back {
            let Some(earlier) = back.checked_sub(week) else {
                break; // the history starts here
            };
            back = earlier;
            if back >= until {
                continue;
            }
            if let Some(v) = values[back] {
                taken.push(v);
                if taken.len() == self.weeks {
                    break;
                }
            }
        }
        if taken.len() > 2 * self.trim + 1 {
            taken.sort_by(f64::total_cmp);
            taken.truncate(taken.len() - self.trim);
            taken.drain(..self.trim);
        }
        (!taken.is_empty()).then(|| taken.iter().sum::<f64>() / taken.len() as f64)
    }
}

impl Model for SameIntervalMean {
    fn name(&self) -> &str {
        match (self.weeks, self.trim) {
            (1, _) => "seasonal_naive",
            (_, 0) => "same_interval_mean",
            _ => "trimmed_same_interval_mean",
        }
    }

    fn forecast(&self, history: &Series, horizon: usize) -> Forecast {
        let week = history.week();
        let n = history.values.len();
        // Extend the grid; each future interval looks back whole weeks
        // into the history only.
        let mut values = history.values.clone();
        values.resize(n + horizon, None);
        let mean: Vec<Option<f64>> = (n..n + horizon)
            .map(|slot| self.point(&values, week, slot, n))
            .collect();
        // One-week-ahead errors over the history, for the intervals.
        let mut errors: Vec<f64> = (week..n)
            .filter_map(|slot| {
                let actual = history.values[slot]?;
                Some((actual - self.point(&history.values, week, slot, slot)?).abs())
            })
            .collect();
        errors.sort_by(f64::total_cmp);
        let quantile = |q: f64| -> f64 {
            if errors.is_empty() {
                return 0.0;
            }
            let at = ((errors.len() - 1) as f64 * q).round() as usize;
            errors[at]
        };
        let spread = quantile(0.9);
        Forecast {
            start_s: history.end_s(),
            step_s: history.step_s,
            lo: mean
                .iter()
                .map(|m| m.map(|m| (m - spread).max(0.0)))
                .collect(),
            hi: mean.iter().map(|m| m.map(|m| m + spread)).collect(),
            mean,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two-interval "weeks" (step = half a week) make hand-worked cases.
    fn series(values: &[Option<f64>]) -> Series {
        Series {
            start_s: 0,
            step_s: crate::series::WEEK_S / 2,
            values: values.to_vec(),
        }
    }

    #[test]
    fn seasonal_naive_and_four_week_mean_by_hand() {
        // Weeks: [10, 1], [20, 2], [30, gap], [40, 4], [50, 5].
        let s = series(&[
            Some(10.0),
            Some(1.0),
            Some(20.0),
            Some(2.0),
            Some(30.0),
            None,
            Some(40.0),
            Some(4.0),
            Some(50.0),
            Some(5.0),
        ]);
        let naive = SameIntervalMean::SEASONAL_NAIVE.forecast(&s, 4);
        // Next two weeks: each repeats the last week.
        assert_eq!(
            naive.mean,
            vec![Some(50.0), Some(5.0), Some(50.0), Some(5.0)]
        );
        let mean = SameIntervalMean::FOUR_WEEK_MEAN.forecast(&s, 2);
        // (50 + 40 + 30 + 20) / 4 = 35; the second interval skips the gap:
        // (5 + 4 + 2 + 1) / 4 = 3.
        assert_eq!(mean.mean, vec![Some(35.0), Some(3.0)]);
        assert_eq!(mean.start_s, 5 * crate::series::WEEK_S);
        // Trimmed: weeks 50, 40, 30, 20, 10 → drop 50 and 10 → 30; the
        // second interval has 4 values (5, 4, 2, 1) → drop 5 and 1 → 3.
        let trimmed = SameIntervalMean {
            weeks: 6,
            look_back: 12,
            trim: 1,
        }
        .forecast(&s, 2);
        assert_eq!(trimmed.mean, vec![Some(30.0), Some(3.0)]);
        // Closed in every week looked at: forecast closed.
        let closed = series(&[Some(1.0), None, Some(1.0), None]);
        let f = SameIntervalMean::FOUR_WEEK_MEAN.forecast(&closed, 2);
        assert_eq!(f.mean, vec![Some(1.0), None]);
        // Intervals bracket the point and are never negative.
        for ((m, lo), hi) in mean.mean.iter().zip(&mean.lo).zip(&mean.hi) {
            let (m, lo, hi) = (m.unwrap(), lo.unwrap(), hi.unwrap());
            assert!(lo <= m && m <= hi && lo >= 0.0, "{lo} {m} {hi}");
        }
    }
}
