//! `queuelake staff`: the agents one interval needs, with the expected
//! service level, ASA, occupancy and abandonment.

use std::io::Write;
use std::process::ExitCode;

use queuelake_scheduler::staffing::{Demand, Method, Requirement, Target};
use serde_json::json;

use crate::cli::{StaffArgs, StaffFormat, StaffMethod};

pub fn run(args: &StaffArgs) -> anyhow::Result<ExitCode> {
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
        calls: args.volume,
        period_s: args.interval_min * 60.0,
        aht_s: args.aht,
    };
    let staffing = requirement.staff(&demand)?;
    let answer = json!({
        "method": match method { Method::ErlangC => "erlang-c", Method::ErlangA { .. } => "erlang-a" },
        "volume": args.volume,
        "aht_s": args.aht,
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
