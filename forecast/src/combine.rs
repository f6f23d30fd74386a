//! A forecast combination: the mean of several models' forecasts, interval
//! by interval. Averaging a smooth baseline with a decomposition model
//! keeps what each gets right (the baseline's level, the decomposition's
//! trend) and halves what each gets wrong where their errors differ —
//! the long-standing lesson of forecast competitions.
//!
//! An interval is forecast from the members that forecast it (a member
//! that cannot fit a short history leaves the others); the prediction
//! interval is the mean of the members' bounds.

use crate::{Forecast, Model, Series};

/// The mean of `members`' forecasts.
pub struct Combination {
    name: &'static str,
    members: Vec<Box<dyn Model>>,
}

impl Combination {
    /// A combination called `name` of `members` (at least one).
    pub fn new(name: &'static str, members: Vec<Box<dyn Model>>) -> Self {
        Combination { name, members }
    }
}

impl Model for Combination {
    fn name(&self) -> &str {
        self.name
    }

    fn forecast(&self, history: &Series, horizon: usize) -> Forecast {
        let forecasts: Vec<Forecast> = self
            .members
            .iter()
            .map(|m| m.forecast(history, horizon))
            .collect();
        let mean_of = |pick: fn(&Forecast) -> &Vec<Option<f64>>, i: usize| {
            let present: Vec<f64> = forecasts.iter().filter_map(|f| pick(f)[i]).collect();
            (!present.is_empty()).then(|| present.iter().sum::<f64>() / present.len() as f64)
        };
        Forecast {
            start_s: history.end_s(),
            step_s: history.step_s,
            mean: (0..horizon).map(|i| mean_of(|f| &f.mean, i)).collect(),
            lo: (0..horizon).map(|i| mean_of(|f| &f.lo, i)).collect(),
            hi: (0..horizon).map(|i| mean_of(|f| &f.hi, i)).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::baselines::SameIntervalMean;
    use crate::series::WEEK_S;

    #[test]
    fn the_mean_of_the_members_that_forecast_each_interval() {
        // Two-interval weeks: [10, 1], [20, gap], [30, 3].
        let s = Series {
            start_s: 0,
            step_s: WEEK_S / 2,
            values: vec![
                Some(10.0),
                Some(1.0),
                Some(20.0),
                None,
                Some(30.0),
                Some(3.0),
            ],
        };
        let naive = SameIntervalMean::SEASONAL_NAIVE;
        let four = SameIntervalMean::FOUR_WEEK_MEAN;
        let both = Combination::new("both", vec![Box::new(naive), Box::new(four)]);
        let f = both.forecast(&s, 2);
        // Naive: 30 and 3; four-week mean: 20 and 2; their mean.
        assert_eq!(f.mean, vec![Some(25.0), Some(2.5)]);
        assert_eq!(both.name(), "both");
        for ((m, lo), hi) in f.mean.iter().zip(&f.lo).zip(&f.hi) {
            assert!(lo.unwrap() <= m.unwrap() && m.unwrap() <= hi.unwrap());
        }
        // A member without a forecast leaves the other's.
        let short = s.head(2);
        let with_mstl =
            Combination::new("m", vec![Box::new(crate::mstl::MstlEts), Box::new(naive)]);
        assert_eq!(
            with_mstl.forecast(&short, 2).mean,
            vec![Some(10.0), Some(1.0)]
        );
    }
}
