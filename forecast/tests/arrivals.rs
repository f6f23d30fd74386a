//! The baselines on the real US-bank arrival series (30-minute intervals,
//! weekdays 07:00–21:00, six weekday holidays): the last two weeks held
//! out, horizons of one and two weeks, and rolling origins.

#![allow(clippy::unwrap_used, clippy::print_stderr, missing_docs)]

use queuelake_forecast::backtest::{holdout, mean, rolling};
use queuelake_forecast::baselines::SameIntervalMean;
use queuelake_forecast::choose::{ChosenByBacktest, volume_candidates};
use queuelake_forecast::mstl::MstlEts;
use queuelake_forecast::{Model, Series, text};

fn series() -> Option<Series> {
    let relative = "fixtures/arrivals/us_bank_2003_weinberg/us_bank_30min.csv";
    let csv = std::fs::read_to_string(queuelake_testkit::shared(relative)?.join(relative)).unwrap();
    Some(Series::from_points(&text::read_points(&csv).unwrap(), 1800).unwrap())
}

#[test]
fn the_four_week_mean_beats_last_week_on_the_bank_series() {
    let Some(series) = series() else { return };
    // 4 592 open intervals on a grid of 7 days × 48 over 33 weeks.
    assert_eq!(series.present(), 4_592);
    let week = series.week();
    assert_eq!(week, 336);
    let naive = SameIntervalMean::SEASONAL_NAIVE;
    let four = SameIntervalMean::FOUR_WEEK_MEAN;
    for weeks in [1, 2] {
        // The last two calendar weeks are held out; score the first `weeks`.
        let cut = series.values.len() - 2 * week;
        let held = series.head(cut + weeks * week);
        let n = holdout(&naive, &held, weeks * week).unwrap().accuracy;
        let m = holdout(&four, &held, weeks * week).unwrap().accuracy;
        let mstl = holdout(&MstlEts, &held, weeks * week).unwrap().accuracy;
        eprintln!("{weeks} week(s): seasonal naive {n:?}; four-week mean {m:?}; MSTL+ETS {mstl:?}");
        assert!(mstl.mase < n.mase, "{mstl:?} vs {n:?}");
        assert!(m.mase < n.mase && m.wape < n.wape, "{m:?} vs {n:?}");
        // An independent computation (Python, calendar weeks, gaps
        // skipped, same scale) gives MASE 0.974 and 0.833.
        let expected = [0.974, 0.833][weeks - 1];
        assert!((m.mase - expected).abs() < 5e-4, "{m:?}");
    }
    // Rolling origins: 8 one-week forecasts ending at the series' end.
    for model in [&naive as &dyn Model, &four] {
        let scored = rolling(model, &series, week, 8);
        assert_eq!(scored.len(), 8);
        eprintln!("rolling, {}: {:?}", model.name(), mean(&scored).unwrap());
    }
    let n = mean(&rolling(&naive, &series, week, 8)).unwrap();
    let m = mean(&rolling(&four, &series, week, 8)).unwrap();
    assert!(m.mase < n.mase, "{m:?} vs {n:?}");
}

#[test]
fn the_model_chosen_by_backtest_beats_both_baselines_on_the_held_out_weeks() {
    let Some(series) = series() else { return };
    let week = series.week();
    let chosen = ChosenByBacktest {
        candidates: volume_candidates(),
        origins: 4,
    };
    let cut = series.values.len() - 2 * week;
    for weeks in [1, 2] {
        let held = series.head(cut + weeks * week);
        let score = |model: &dyn Model| holdout(model, &held, weeks * week).unwrap().accuracy;
        let c = score(&chosen);
        let n = score(&SameIntervalMean::SEASONAL_NAIVE);
        let m = score(&SameIntervalMean::FOUR_WEEK_MEAN);
        eprintln!("{weeks} week(s): chosen {c:?}");
        for baseline in [n, m] {
            assert!(c.mase < baseline.mase, "{c:?} vs {baseline:?}");
            assert!(c.wape < baseline.wape, "{c:?} vs {baseline:?}");
        }
        // The trimmed six-week mean wins the backtest at this origin:
        // MASE 0.872 (one week) and 0.786 (two weeks).
        let expected = [0.872, 0.786][weeks - 1];
        assert!((c.mase - expected).abs() < 5e-4, "{c:?}");
    }
}
