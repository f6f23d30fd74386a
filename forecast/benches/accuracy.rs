//! Forecast accuracy on the real arrival series: the model chosen by
//! backtest against the two baselines, on the last two weeks held out (one
//! and two weeks ahead) and over rolling origins. Prints a Markdown table.
//!
//! `cargo bench -p queuelake-forecast --bench accuracy` (reads the series
//! from `$QUEUELAKE_SHARED`, default `../shared`).

#![allow(clippy::print_stdout, clippy::unwrap_used, missing_docs)]

use queuelake_forecast::accuracy::Accuracy;
use queuelake_forecast::backtest::{holdout, mean, rolling};
use queuelake_forecast::baselines::SameIntervalMean;
use queuelake_forecast::choose::{ChosenByBacktest, volume_candidates};
use queuelake_forecast::{Model, Series, text};

/// Rolling origins of each choice (as `queuelake forecast` uses).
const CHOICE_ORIGINS: usize = 4;

fn main() {
    let relative = "fixtures/arrivals/us_bank_2003_weinberg/us_bank_30min.csv";
    let Some(shared) = queuelake_testkit::shared(relative) else {
        eprintln!("the arrival series is not at $QUEUELAKE_SHARED/{relative}");
        std::process::exit(2);
    };
    let csv = std::fs::read_to_string(shared.join(relative)).unwrap();
    let series = Series::from_points(&text::read_points(&csv).unwrap(), 1800).unwrap();
    let week = series.week();
    let chosen = ChosenByBacktest {
        candidates: volume_candidates(),
        origins: CHOICE_ORIGINS,
    };
    let naive = SameIntervalMean::SEASONAL_NAIVE;
    let four = SameIntervalMean::FOUR_WEEK_MEAN;
    let models: [&dyn Model; 3] = [&chosen, &naive, &four];
    println!(
        "US bank 2003, 30-minute intervals ({} open)\n",
        series.present()
    );
    println!("| evaluation | model | MASE | WAPE | sMAPE |");
    println!("| --- | --- | ---: | ---: | ---: |");
    let cut = series.values.len() - 2 * week;
    for weeks in [1, 2] {
        let held = series.head(cut + weeks * week);
        for model in models {
            let scored = holdout(model, &held, weeks * week).unwrap().accuracy;
            row(
                &format!("last 2 weeks held out, {weeks} week ahead"),
                model,
                &scored,
            );
        }
    }
    for (weeks, origins) in [(1, 8), (2, 4)] {
        for model in models {
            let scored = mean(&rolling(model, &series, weeks * week, origins)).unwrap();
            row(
                &format!("{origins} rolling origins, {weeks} week(s) ahead"),
                model,
                &scored,
            );
        }
    }
    // What the choice picked at the holdout's origin.
    let history = series.head(cut);
    for weeks in [1, 2] {
        let choice = queuelake_forecast::choose::choose(
            &chosen.candidates,
            &history,
            weeks * week,
            CHOICE_ORIGINS,
        );
        println!(
            "\nchosen at the holdout's origin, {weeks} week(s) ahead: {}",
            choice.candidates[choice.index].model
        );
        for c in &choice.candidates {
            if let Some(a) = c.accuracy {
                println!("  backtest {}: MASE {:.3}", c.model, a.mase);
            }
        }
    }
}

fn row(evaluation: &str, model: &dyn Model, a: &Accuracy) {
    println!(
        "| {evaluation} | {} | {:.3} | {:.1} % | {:.1} % |",
        model.name(),
        a.mase,
        a.wape * 100.0,
        a.smape * 100.0
    );
}
