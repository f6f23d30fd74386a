//! `queuelake schedule solve`: a benchmark instance file in, the schedule
//! and how far it is from the LP bound out.

use std::io::Write;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use queuelake_scheduler::cover::instances::{self, PyworkforceObjective};
use queuelake_scheduler::cover::{SolveLimits, evaluate, solve};
use serde_json::json;

use crate::cli::{InstanceObjective, ScheduleCommand, ScheduleFormat, ScheduleSolveArgs};

pub fn run(command: ScheduleCommand) -> anyhow::Result<ExitCode> {
    match command {
        ScheduleCommand::Solve(args) => solve_instance(&args),
    }
}

fn solve_instance(args: &ScheduleSolveArgs) -> anyhow::Result<ExitCode> {
    let path = &args.instance;
    let text = std::fs::read_to_string(path)
        .map_err(|e| anyhow::anyhow!("reading {}: {e}", path.display()))?;
    let objective = match args.objective {
        InstanceObjective::MinAbsDifference => PyworkforceObjective::MinAbsDifference,
        InstanceObjective::MinRequiredResources => PyworkforceObjective::MinRequiredResources,
    };
    let problem = instances::read(&text, objective)
        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    if !(args.time_limit.is_finite() && args.time_limit > 0.0) {
        anyhow::bail!("--time-limit {}: give seconds above 0", args.time_limit);
    }
    let limits = SolveLimits {
        time: Duration::from_secs_f64(args.time_limit),
        ..SolveLimits::default()
    };
    let started = Instant::now();
    let schedule = solve(&problem, &limits)?;
    let seconds = started.elapsed().as_secs_f64();
    let broken = evaluate::violations(&problem, &schedule);
    if !broken.is_empty() {
        anyhow::bail!("the schedule breaks rules: {}", broken.join("; "));
    }
    let days: Vec<Vec<serde_json::Value>> = schedule
        .counts
        .iter()
        .map(|day| {
            day.iter()
                .enumerate()
                .filter(|(_, n)| **n > 0)
                .map(|(s, n)| json!({"shift": problem.shifts[s].name, "agents": n}))
                .collect()
        })
        .collect();
    let answer = json!({
        "instance": path.display().to_string(),
        "objective": schedule.objective,
        "bound": schedule.bound,
        "gap": schedule.gap(),
        "seconds": seconds,
        "tours": schedule.tours,
        "shifts": days,
    });
    let mut out = std::io::stdout().lock();
    match args.format {
        ScheduleFormat::Json => writeln!(out, "{answer}")?,
        ScheduleFormat::Text => {
            writeln!(out, "objective: {:.2}", schedule.objective)?;
            writeln!(out, "bound: {:.2}", schedule.bound)?;
            writeln!(out, "gap: {:.3} %", schedule.gap() * 100.0)?;
            writeln!(out, "seconds: {seconds:.2}")?;
            for (d, day) in days.iter().enumerate() {
                let shifts: Vec<String> = day
                    .iter()
                    .map(|s| format!("{}×{}", s["agents"], s["shift"].as_str().unwrap_or("")))
                    .collect();
                writeln!(out, "day {d}: {}", shifts.join(" "))?;
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
