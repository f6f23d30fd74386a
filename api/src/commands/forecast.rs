//! `queuelake forecast`: interval volumes ahead, per queue from the lake
//! (a forecast run: volumes, intervals and AHT, stored in `forecasts`) or
//! for one `timestamp,count` CSV. The model of each series is chosen by
//! rolling-origin backtest at the horizon.

use std::io::Write;
use std::process::ExitCode;

use std::path::Path;

use chrono::DateTime;
use queuelake_forecast::choose::{Candidate, choose, volume_candidates};
use queuelake_forecast::{Forecast, Series, text};
use serde_json::{Value, json};

use crate::cli::{ForecastArgs, ForecastFormat};
use crate::commands::local_planner;
use crate::planning::runs::ForecastRequest;
use crate::planning::settings::parse_horizon;
/// Rolling origins of the backtest.
const ORIGINS: usize = 4;

pub async fn run(args: ForecastArgs) -> anyhow::Result<ExitCode> {
    let horizon_s = parse_horizon(&args.horizon).map_err(|e| anyhow::anyhow!("--horizon {e}"))?;
    match (&args.from_csv, &args.data) {
        (Some(path), _) => from_csv(path, horizon_s, args.format),
        (None, Some(data)) => from_lake(data, &args, horizon_s).await,
        (None, None) => anyhow::bail!("give --from-csv FILE or --data LAKE"),
    }
}

/// One series from a CSV: the model chosen by backtest, its forecast.
fn from_csv(path: &Path, horizon_s: i64, format: ForecastFormat) -> anyhow::Result<ExitCode> {
    let csv = std::fs::read_to_string(path)
        .map_err(|e| anyhow::anyhow!("reading {}: {e}", path.display()))?;
    let points = text::read_points(&csv).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    let step = step_of(&points)?;
    let series = Series::from_points(&points, step)?;
    let horizon = usize::try_from(horizon_s / series.step_s)
        .unwrap_or(0)
        .max(1);
    let models = volume_candidates();
    let choice = choose(&models, &series, horizon, ORIGINS);
    let forecast = match models.get(choice.index) {
        Some(model) => model.forecast(&series, horizon),
        None => Forecast::gaps(&series, horizon),
    };
    let mut out = std::io::stdout().lock();
    match format {
        ForecastFormat::Csv => {
            writeln!(out, "interval_start,volume,volume_lo,volume_hi")?;
            for (start, volume, lo, hi) in rows(&forecast) {
                writeln!(out, "{start},{volume:.3},{lo:.3},{hi:.3}")?;
            }
        }
        ForecastFormat::Json => {
            let intervals: Vec<Value> = rows(&forecast)
                .into_iter()
                .map(|(start, volume, lo, hi)| {
                    json!({"interval_start": start, "volume": volume, "volume_lo": lo, "volume_hi": hi})
                })
                .collect();
            let answer = json!({
                "model": choice.candidates[choice.index].model,
                "backtest": backtest(&choice.candidates),
                "intervals": intervals,
            });
            writeln!(out, "{answer}")?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Every queue of the lake (or `--queue`): a forecast run, stored in the
/// lake's `forecasts` table when no `serve` holds the lake.
async fn from_lake(data: &Path, args: &ForecastArgs, horizon_s: i64) -> anyhow::Result<ExitCode> {
    let local = local_planner(data, args.config.as_deref(), &args.kpi).await?;
    let request = ForecastRequest {
        queues: args.queue.clone().into_iter().collect(),
        horizon_s: Some(horizon_s),
    };
    let run = local.planner.forecast(&local.engine, &request).await?;
    {
        let mut err = std::io::stderr().lock();
        match &local.not_stored {
            None => writeln!(err, "forecast run {} stored", run.run_id)?,
            Some(why) => writeln!(err, "forecast run {} not stored: {why}", run.run_id)?,
        }
    }
    let start = |us: i64| {
        DateTime::from_timestamp_micros(us)
            .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
            .unwrap_or_default()
    };
    let mut out = std::io::stdout().lock();
    match args.format {
        ForecastFormat::Csv => {
            writeln!(out, "queue,interval_start,volume,volume_lo,volume_hi,aht_s")?;
            for r in run.queues.iter().flat_map(|q| &q.rows) {
                let aht = r.aht_s.map(|a| format!("{a:.1}")).unwrap_or_default();
                writeln!(
                    out,
                    "{},{},{:.3},{:.3},{:.3},{aht}",
                    r.queue,
                    start(r.interval_start_us),
                    r.volume,
                    r.volume_lo,
                    r.volume_hi
                )?;
            }
        }
        ForecastFormat::Json => {
            let queues: Vec<Value> = run
                .queues
                .iter()
                .map(|q| {
                    let intervals: Vec<Value> = q
                        .rows
                        .iter()
                        .map(|r| {
                            json!({
                                "interval_start": start(r.interval_start_us),
                                "volume": r.volume,
                                "volume_lo": r.volume_lo,
                                "volume_hi": r.volume_hi,
                                "aht_s": r.aht_s,
                                "special_day": r.special_day,
                            })
                        })
                        .collect();
                    json!({
                        "queue": q.queue,
                        "model": q.model,
                        "backtest": backtest(&q.backtest),
                        "intervals": intervals,
                    })
                })
                .collect();
            let answer = json!({
                "run_id": run.run_id,
                "stored": run.stored,
                "origin": start(run.origin_s * 1_000_000),
                "queues": queues,
            });
            writeln!(out, "{answer}")?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The interval length of CSV points: the smallest gap between distinct
/// timestamps.
fn step_of(points: &[(i64, f64)]) -> anyhow::Result<i64> {
    let mut times: Vec<i64> = points.iter().map(|p| p.0).collect();
    times.sort_unstable();
    times.dedup();
    times.windows(2).map(|w| w[1] - w[0]).min().ok_or_else(|| {
        anyhow::anyhow!("one timestamp is not a series: give at least two intervals")
    })
}

/// `(interval_start, volume, volume_lo, volume_hi)` of the open intervals.
fn rows(forecast: &Forecast) -> Vec<(String, f64, f64, f64)> {
    (0..forecast.mean.len())
        .filter_map(|i| {
            let start = forecast.start_s + forecast.step_s * i as i64;
            let when = DateTime::from_timestamp(start, 0)?.format("%Y-%m-%dT%H:%M:%SZ");
            Some((
                when.to_string(),
                forecast.mean[i]?,
                forecast.lo[i]?,
                forecast.hi[i]?,
            ))
        })
        .collect()
}

fn backtest(candidates: &[Candidate]) -> Vec<Value> {
    candidates
        .iter()
        .map(|c| {
            json!({
                "model": c.model,
                "mase": c.accuracy.map(|a| a.mase),
                "wape": c.accuracy.map(|a| a.wape),
                "smape": c.accuracy.map(|a| a.smape),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_step_is_the_smallest_gap() {
        assert_eq!(
            step_of(&[(0, 1.0), (3600, 1.0), (1800, 2.0)]).unwrap(),
            1800
        );
        assert!(step_of(&[(0, 1.0)]).is_err());
    }
}
