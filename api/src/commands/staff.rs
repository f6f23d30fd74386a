//! `queuelake staff`: the agents one interval needs, with the expected
//! service level, ASA, occupancy and abandonment; or the same for every
//! interval of a stored forecast run (`--forecast-run`).

use std::io::Write;
use std::process::ExitCode;

use queuelake_scheduler::staffing::{Demand, Method, Requirement, Target};
use serde_json::json;

use crate::cli::{KpiArgs, StaffArgs, StaffFormat, StaffMethod};
use crate::commands::local_planner;
use crate::config::StaffingSection;
use crate::planning::runs::StaffRequest;
use crate::planning::settings::staff_rule;

pub async fn run(args: &StaffArgs) -> anyhow::Result<ExitCode> {
    match (&args.forecast_run, args.volume, args.aht) {
        (Some(run), _, _) => forecast_run(args, run).await,
        (None, Some(volume), Some(aht)) => one_interval(args, volume, aht),
        _ => anyhow::bail!(
            "give --volume and --aht for one interval, or --forecast-run RUN --data LAKE"
        ),
    }
}

/// Staffs every interval of a stored forecast run.
async fn forecast_run(args: &StaffArgs, run: &str) -> anyhow::Result<ExitCode> {
    let data = args
        .data
        .as_deref()
        .ok_or_else(|| anyhow::anyhow!("--forecast-run needs --data LAKE"))?;
    let local = local_planner(data, None, &KpiArgs::default()).await?;
    let section = StaffingSection {
        target: args.target.clone(),
        method: match args.method {
            StaffMethod::ErlangC => "erlang-c",
            StaffMethod::ErlangA => "erlang-a",
        }
        .to_owned(),
        patience_s: args.patience,
        shrinkage: args.shrinkage,
        max_occupancy: args.max_occupancy,
    };
    let rule = staff_rule(&section, "--").map_err(|e| anyhow::anyhow!("{e}"))?;
    let staffing = local
        .planner
        .staff(
            &local.engine,
            &StaffRequest {
                forecast_run: run.to_owned(),
                rule,
            },
        )
        .await?;
    let mut err = std::io::stderr().lock();
    match &local.not_stored {
        None => writeln!(err, "staffing run {} stored", staffing.run_id)?,
        Some(why) => writeln!(err, "staffing run {} not stored: {why}", staffing.run_id)?,
    }
    for queue in &staffing.erlang_c_fallback {
        writeln!(
            err,
            "{queue}: too few abandons in the lake to estimate patience; staffed with Erlang C"
        )?;
    }
    let mut out = std::io::stdout().lock();
    match args.format {
        StaffFormat::Text => {
            writeln!(
                out,
                "queue,interval_start,volume,aht_s,agents_required,agents_with_shrinkage,service_level,asa_s,occupancy,abandon,method"
            )?;
            for r in &staffing.rows {
                let start = chrono::DateTime::from_timestamp_micros(r.interval_start_us)
                    .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
                    .unwrap_or_default();
                writeln!(
                    out,
                    "{},{start},{:.3},{:.1},{},{},{:.4},{:.2},{:.4},{:.4},{}",
                    r.queue,
                    r.volume,
                    r.aht_s,
                    r.agents_required,
                    r.agents_with_shrinkage,
                    r.service_level_expected,
                    r.asa_expected,
                    r.occupancy_expected,
                    r.abandon_expected,
                    r.method
                )?;
            }
        }
        StaffFormat::Json => {
            let rows: Vec<_> = staffing
                .rows
                .iter()
                .map(|r| {
                    json!({
                        "queue": r.queue,
                        "interval_start_us": r.interval_start_us,
                        "volume": r.volume,
                        "aht_s": r.aht_s,
                        "agents_required": r.agents_required,
                        "agents_with_shrinkage": r.agents_with_shrinkage,
                        "service_level": r.service_level_expected,
                        "asa_s": r.asa_expected,
                        "occupancy": r.occupancy_expected,
                        "abandon": r.abandon_expected,
                        "method": r.method,
                    })
                })
                .collect();
            let answer = json!({
                "run_id": staffing.run_id,
                "forecast_run": run,
                "stored": staffing.stored,
                "patience_s": staffing.patience_s,
                "erlang_c_fallback": staffing.erlang_c_fallback,
                "intervals": rows,
            });
            writeln!(out, "{answer}")?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Staffs one interval.
fn one_interval(args: &StaffArgs, volume: f64, aht: f64) -> anyhow::Result<ExitCode> {
    let target = parse_target(&args.target)?;
    let method = match (args.method, args.patience) {
        (StaffMethod::ErlangC, _) => Method::ErlangC,
        (StaffMethod::ErlangA, Some(patience_s)) => Method::ErlangA { patience_s },
        (StaffMethod::ErlangA, None) => {
            anyhow::bail!("--method erlang-a needs --patience SECONDS (callers' mean patience)")
        }
    };
    let requirement = Requirement {
        target,
        max_occupancy: args.max_occupancy,
        shrinkage: args.shrinkage,
        method,
    };
    let demand = Demand {
        calls: volume,
        period_s: args.interval_min * 60.0,
        aht_s: aht,
    };
    let staffing = requirement.staff(&demand)?;
    let answer = json!({
        "method": match method { Method::ErlangC => "erlang-c", Method::ErlangA { .. } => "erlang-a" },
        "volume": volume,
        "aht_s": aht,
        "interval_min": args.interval_min,
        "target": args.target,
        "patience_s": args.patience,
        "shrinkage": args.shrinkage,
        "max_occupancy": args.max_occupancy,
        "agents_required": staffing.agents_required,
        "agents_with_shrinkage": staffing.agents_with_shrinkage,
        "service_level": staffing.service_level,
        "asa_s": staffing.asa_s,
        "occupancy": staffing.occupancy,
        "abandon": staffing.abandon,
    });
    let mut out = std::io::stdout().lock();
    match args.format {
        StaffFormat::Json => writeln!(out, "{answer}")?,
        StaffFormat::Text => {
            for (key, value) in answer.as_object().into_iter().flatten() {
                writeln!(out, "{key}: {value}")?;
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `80/20` → 80 % within 20 s; `asa=30` → ASA at most 30 s.
fn parse_target(text: &str) -> anyhow::Result<Target> {
    text.parse::<Target>()
        .map_err(|e| anyhow::anyhow!("--target: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_parse_and_bad_ones_are_named() {
        assert_eq!(
            parse_target("80/20").unwrap(),
            Target::ServiceLevel {
                share: 0.8,
                threshold_s: 20.0
            }
        );
        assert_eq!(
            parse_target("90%/15s").unwrap(),
            Target::ServiceLevel {
                share: 0.9,
                threshold_s: 15.0
            }
        );
        assert_eq!(
            parse_target("asa=30").unwrap(),
            Target::Asa { seconds: 30.0 }
        );
        let err = parse_target("eighty").unwrap_err().to_string();
        assert!(err.contains("eighty"), "{err}");
    }
}
