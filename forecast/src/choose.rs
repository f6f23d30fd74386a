//! Picking a model for a series: each candidate is backtested over
//! rolling origins at the planning horizon, and the lowest mean MASE wins
//! (ties go to the earlier, simpler candidate).

use crate::accuracy::Accuracy;
use crate::backtest::{mean, rolling};
use crate::baselines::SameIntervalMean;
use crate::combine::Combination;
use crate::memo::Memo;
use crate::mstl::MstlEts;
use crate::{Model, Series};

/// The models offered for call volumes, most robust last: the seasonal
/// naive, MSTL + AutoETS, its mean with the trimmed six-week mean, the
/// trimmed six-week mean, and the four-week mean. MSTL + AutoETS is fitted
/// once per history for both candidates that use it.
pub fn volume_candidates() -> Vec<Box<dyn Model>> {
    let mstl = Memo::new(MstlEts);
    vec![
        Box::new(SameIntervalMean::SEASONAL_NAIVE),
        Box::new(mstl.clone()),
        Box::new(Combination::new(
            "mstl_ets+trimmed_same_interval_mean",
            vec![
                Box::new(mstl),
                Box::new(SameIntervalMean::TRIMMED_SIX_WEEK_MEAN),
            ],
        )),
        Box::new(SameIntervalMean::TRIMMED_SIX_WEEK_MEAN),
        Box::new(SameIntervalMean::FOUR_WEEK_MEAN),
    ]
}

/// A candidate's backtest.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    /// The model's name.
    pub model: String,
    /// Its mean scores over the origins; `None` when the history was too
    /// short to score it.
    pub accuracy: Option<Accuracy>,
}

/// The winner and every candidate's scores.
#[derive(Debug, Clone, PartialEq)]
pub struct Choice {
    /// Index of the chosen model in the candidates.
    pub index: usize,
    /// Each candidate, in the order given.
    pub candidates: Vec<Candidate>,
}

/// Backtests `models` on `series` at `horizon` intervals over `origins`
/// rolling origins and picks the lowest mean MASE. With no scorable
/// candidate (a short history), the last candidate is chosen (callers
/// list the most robust model last).
pub fn choose(
    models: &[Box<dyn Model>],
    series: &Series,
    horizon: usize,
    origins: usize,
) -> Choice {
    let candidates: Vec<Candidate> = models
        .iter()
        .map(|m| Candidate {
            model: m.name().to_owned(),
            accuracy: mean(&rolling(m.as_ref(), series, horizon, origins)),
        })
        .collect();
    let index = candidates
        .iter()
        .enumerate()
        .filter_map(|(i, c)| Some((i, c.accuracy?.mase)))
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .map_or(models.len().saturating_sub(1), |(i, _)| i);
    Choice { index, candidates }
}

/// The whole procedure as one model: at each forecast, backtest the
/// candidates on the history and forecast with the winner. Scoring this
/// model on held-out data scores the choice itself, not a model picked
/// with hindsight.
pub struct ChosenByBacktest {
    /// The candidates, most robust last.
    pub candidates: Vec<Box<dyn Model>>,
    /// Rolling origins of each choice.
    pub origins: usize,
}

impl Model for ChosenByBacktest {
    fn name(&self) -> &str {
        "chosen_by_backtest"
    }

    fn forecast(&self, history: &Series, horizon: usize) -> crate::Forecast {
        let choice = choose(&self.candidates, history, horizon, self.origins);
        match self.candidates.get(choice.index) {
            Some(model) => model.forecast(history, horizon),
            None => crate::Forecast::gaps(history, horizon),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lower_backtest_error_wins() {
        // Weekly pattern with noise that alternates week by week: the
        // four-week mean smooths it, last week's value carries it.
        let week = 4usize;
        let mut values = Vec::new();
        for w in 0..12 {
            for s in 0..week {
                let noise = if w % 2 == 0 { 3.0 } else { -3.0 };
                values.push(Some(10.0 * (s + 1) as f64 + noise));
            }
        }
        let series = Series {
            start_s: 0,
            step_s: crate::series::WEEK_S / week as i64,
            values,
        };
        let models: Vec<Box<dyn Model>> = vec![
            Box::new(SameIntervalMean::SEASONAL_NAIVE),
            Box::new(SameIntervalMean::FOUR_WEEK_MEAN),
        ];
        let choice = choose(&models, &series, week, 3);
        assert_eq!(choice.index, 1, "{choice:?}");
        let scores: Vec<f64> = choice
            .candidates
            .iter()
            .map(|c| c.accuracy.unwrap().mase)
            .collect();
        assert!(scores[1] < scores[0], "{scores:?}");
        // Too short to backtest: the last candidate.
        let short = series.head(week);
        assert_eq!(choose(&models, &short, week, 3).index, 1);
    }
}
