//! Forecast speed: fitting and forecasting one year of 30-minute history
//! with each model and with the whole choice by backtest, and forecasts
//! per second for queues of 15-minute history six weeks ahead.
//!
//! `cargo bench -p queuelake-forecast --bench speed`
//!
//! The history is synthetic (no shared files needed): weekdays 07:00–21:00
//! open, a two-peak day, a weekly rhythm, a slow trend and noise from a
//! fixed-seed generator; evenings, weekends and a few holidays are gaps.

#![allow(clippy::print_stdout, clippy::unwrap_used, missing_docs)]

use std::time::Instant;

use queuelake_forecast::choose::{ChosenByBacktest, volume_candidates};
use queuelake_forecast::{Model, Series};

/// Rolling origins of each choice (as `queuelake forecast` uses).
const CHOICE_ORIGINS: usize = 4;
const WEEK_S: i64 = 7 * 86_400;

fn main() {
    let year_30 = history(1800, 52, 1);
    let two_weeks = 2 * year_30.week();
    println!(
        "one year of 30-minute history ({} intervals, {} open), 2 weeks ahead:\n",
        year_30.values.len(),
        year_30.present()
    );
    println!("| model | fit + forecast |");
    println!("| --- | ---: |");
    for (i, model) in volume_candidates().iter().enumerate() {
        // A fresh candidate list per run: shared fits are cached per list.
        let seconds = best_of(3, || {
            std::hint::black_box(volume_candidates()[i].forecast(&year_30, two_weeks));
        });
        println!("| {} | {:.1} ms |", model.name(), seconds * 1e3);
    }
    let chosen = || ChosenByBacktest {
        candidates: volume_candidates(),
        origins: CHOICE_ORIGINS,
    };
    let seconds = best_of(3, || {
        std::hint::black_box(chosen().forecast(&year_30, two_weeks));
    });
    println!(
        "| choice by backtest ({CHOICE_ORIGINS} origins × {} candidates) + forecast | {:.1} ms |",
        chosen().candidates.len(),
        seconds * 1e3
    );

    let queues: u64 = 4;
    let histories: Vec<Series> = (0..queues).map(|q| history(900, 52, 10 + q)).collect();
    let six_weeks = 6 * histories[0].week();
    let started = Instant::now();
    for h in &histories {
        std::hint::black_box(chosen().forecast(h, six_weeks));
    }
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "\n{queues} queues × one year of 15-minute history, 6 weeks ahead, chosen by backtest: \
         {:.2} s ({:.2} queue forecasts per second, {:.0} forecast intervals per second)",
        seconds,
        queues as f64 / seconds,
        (queues as usize * six_weeks) as f64 / seconds
    );
}

/// The fastest of `runs` timings of `work`, in seconds.
fn best_of(runs: usize, mut work: impl FnMut()) -> f64 {
    (0..runs)
        .map(|_| {
            let started = Instant::now();
            work();
            started.elapsed().as_secs_f64()
        })
        .fold(f64::INFINITY, f64::min)
}

/// `weeks` of synthetic arrivals at `step_s`, seeded by `seed`.
fn history(step_s: i64, weeks: i64, seed: u64) -> Series {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut uniform = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    let len = (weeks * WEEK_S / step_s) as usize;
    let holidays = [12 * 7 + 1, 21 * 7, 35 * 7 + 4];
    let values = (0..len)
        .map(|i| {
            let t = i as i64 * step_s;
            let day = t / 86_400;
            let hour = (t % 86_400) as f64 / 3600.0;
            let weekday = day % 7;
            if weekday >= 5 || !(7.0..21.0).contains(&hour) || holidays.contains(&day) {
                return None;
            }
            let peaks =
                (-(hour - 10.5).powi(2) / 4.0).exp() + 0.7 * (-(hour - 15.0).powi(2) / 5.0).exp();
            let weekly = [1.15, 1.0, 0.97, 0.95, 0.9][weekday as usize];
            let trend = 1.0 + 0.1 * day as f64 / 365.0;
            let level = 300.0 * step_s as f64 / 1800.0 * (0.15 + peaks) * weekly * trend;
            let noise = (uniform() + uniform() + uniform() - 1.5) * 2.0 * level.sqrt();
            Some((level + noise).max(0.0).round())
        })
        .collect();
    Series {
        start_s: 1_041_811_200, // a Monday, 00:00 UTC
        step_s,
        values,
    }
}
