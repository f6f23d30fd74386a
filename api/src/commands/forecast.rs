//! `queuelake forecast`: interval volumes ahead, per queue from the lake
//! (`interval_stats.offered`) or for one `timestamp,count` CSV. The model
//! of each series is chosen by rolling-origin backtest at the horizon.

use std::io::Write;
use std::process::ExitCode;

use chrono::DateTime;
use queuelake_engine::kpi::KpiSettings;
use queuelake_engine::session::LakeTables;
use queuelake_forecast::choose::{Choice, choose, volume_candidates};
use queuelake_forecast::{Forecast, Series, text};
use serde_json::{Value, json};

use crate::cli::{ForecastArgs, ForecastFormat};
use crate::commands::{engine, open_existing_lake};

/// The longest horizon offered.
const MAX_HORIZON_S: i64 = 6 * 7 * 86_400;
/// Rolling origins of the backtest.
const ORIGINS: usize = 4;

pub async fn run(args: ForecastArgs) -> anyhow::Result<ExitCode> {
    let horizon_s = parse_horizon(&args.horizon)?;
    let series: Vec<(Option<String>, Series)> = match (&args.from_csv, &args.data) {
        (Some(path), _) => {
            let csv = std::fs::read_to_string(path)
                .map_err(|e| anyhow::anyhow!("reading {}: {e}", path.display()))?;
            let points =
                text::read_points(&csv).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
            let step = step_of(&points)?;
            vec![(None, Series::from_points(&points, step)?)]
        }
        (None, Some(data)) => lake_series(data, &args).await?,
        (None, None) => anyhow::bail!("give --from-csv FILE or --data LAKE"),
    };
    let mut out = std::io::stdout().lock();
    let mut documents = Vec::new();
    if args.format == ForecastFormat::Csv {
        let queue = if args.from_csv.is_some() {
            ""
        } else {
            "queue,"
        };
        writeln!(out, "{queue}interval_start,volume,volume_lo,volume_hi")?;
    }
    for (queue, series) in series {
        let horizon = usize::try_from(horizon_s / series.step_s)
            .unwrap_or(0)
            .max(1);
        let models = volume_candidates();
        let choice = choose(&models, &series, horizon, ORIGINS);
        let forecast = models[choice.index].forecast(&series, horizon);
        match args.format {
            ForecastFormat::Csv => {
                for row in rows(&forecast) {
                    if let Some(q) = &queue {
                        write!(out, "{q},")?;
                    }
                    writeln!(out, "{},{:.3},{:.3},{:.3}", row.0, row.1, row.2, row.3)?;
                }
            }
            ForecastFormat::Json => documents.push(document(queue, &choice, &forecast)),
        }
    }
    if args.format == ForecastFormat::Json {
        let answer = if args.from_csv.is_some() && documents.len() == 1 {
            documents.remove(0)
        } else {
            Value::Array(documents)
        };
        writeln!(out, "{answer}")?;
    }
    Ok(ExitCode::SUCCESS)
}

/// `2w`, `10d`, `36h` → seconds (at most 6 weeks).
fn parse_horizon(text: &str) -> anyhow::Result<i64> {
    let bad = || anyhow::anyhow!("--horizon {text:?}: give a number and w, d or h (2w, 10d, 36h)");
    let (number, unit) = text.split_at(text.len().saturating_sub(1));
    let number: i64 = number.parse().map_err(|_| bad())?;
    let seconds = match unit {
        "w" => number * 7 * 86_400,
        "d" => number * 86_400,
        "h" => number * 3_600,
        _ => return Err(bad()),
    };
    if seconds <= 0 || seconds > MAX_HORIZON_S {
        anyhow::bail!("--horizon {text}: between 1 hour and 6 weeks");
    }
    Ok(seconds)
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

/// Offered calls per queue and interval from the lake.
async fn lake_series(
    data: &std::path::Path,
    args: &ForecastArgs,
) -> anyhow::Result<Vec<(Option<String>, Series)>> {
    let lake = open_existing_lake(data)?;
    let tables = LakeTables::committed(&lake).await?;
    let engine = engine(&tables, &args.kpi).await?;
    let step = i64::from(args.kpi.kpi(&KpiSettings::default()).interval_minutes) * 60;
    let filter = match &args.queue {
        Some(q) => format!("WHERE queue = '{}'", q.replace('\'', "''")),
        None => String::new(),
    };
    let result = engine
        .query(&format!(
            "SELECT queue, CAST(date_part('epoch', interval_start) AS BIGINT), CAST(offered AS DOUBLE) \
             FROM interval_stats {filter} ORDER BY queue, 2"
        ))
        .await?;
    let mut by_queue: std::collections::BTreeMap<String, Vec<(i64, f64)>> = Default::default();
    for batch in &result.batches {
        use datafusion::arrow::array::AsArray;
        use datafusion::arrow::datatypes::{Float64Type, Int64Type};
        let queues = batch.column(0).as_string::<i32>();
        let starts = batch.column(1).as_primitive::<Int64Type>();
        let offered = batch.column(2).as_primitive::<Float64Type>();
        for row in 0..batch.num_rows() {
            by_queue
                .entry(queues.value(row).to_owned())
                .or_default()
                .push((starts.value(row), offered.value(row)));
        }
    }
    if by_queue.is_empty() {
        anyhow::bail!(
            "no intervals in the lake{}",
            args.queue
                .as_ref()
                .map_or(String::new(), |q| format!(" for queue {q}"))
        );
    }
    by_queue
        .into_iter()
        .map(|(queue, points)| Ok((Some(queue), Series::from_points(&points, step)?)))
        .collect()
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

fn document(queue: Option<String>, choice: &Choice, forecast: &Forecast) -> Value {
    let backtest: Vec<Value> = choice
        .candidates
        .iter()
        .map(|c| {
            json!({
                "model": c.model,
                "mase": c.accuracy.map(|a| a.mase),
                "wape": c.accuracy.map(|a| a.wape),
                "smape": c.accuracy.map(|a| a.smape),
            })
        })
        .collect();
    let intervals: Vec<Value> = rows(forecast)
        .into_iter()
        .map(|(start, volume, lo, hi)| {
            json!({"interval_start": start, "volume": volume, "volume_lo": lo, "volume_hi": hi})
        })
        .collect();
    json!({
        "queue": queue,
        "model": choice.candidates[choice.index].model,
        "backtest": backtest,
        "intervals": intervals,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn horizons_parse_within_six_weeks() {
        assert_eq!(parse_horizon("2w").unwrap(), 14 * 86_400);
        assert_eq!(parse_horizon("36h").unwrap(), 36 * 3_600);
        assert!(
            parse_horizon("7w")
                .unwrap_err()
                .to_string()
                .contains("6 weeks")
        );
        assert!(
            parse_horizon("soon")
                .unwrap_err()
                .to_string()
                .contains("soon")
        );
        assert_eq!(
            step_of(&[(0, 1.0), (3600, 1.0), (1800, 2.0)]).unwrap(),
            1800
        );
        assert!(step_of(&[(0, 1.0)]).is_err());
    }
}
