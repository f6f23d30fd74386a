//! `queuelake schedule …`: `solve` takes a benchmark instance file and
//! prints the schedule with its distance to the LP bound; `create`,
//! `show`, `edit` and `publish` are the planner's workflow on the lake
//! (publishing needs the lake's writer lock: no `serve` running on it).

use std::io::Write;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use queuelake_scheduler::cover::instances::{self, PyworkforceObjective};
use queuelake_scheduler::cover::{SolveLimits, evaluate, solve};
use serde_json::json;

use queuelake_engine::scope::Scope;

use crate::cli::{
    InstanceObjective, KpiArgs, ScheduleCommand, ScheduleFormat, ScheduleLake, ScheduleSolveArgs,
};
use crate::commands::{LocalPlanner, local_planner};
use crate::http::schedules::view;
use crate::scheduling::draft::{Draft, Edit};
use crate::scheduling::service::CreateRequest;

pub async fn run(command: ScheduleCommand) -> anyhow::Result<ExitCode> {
    match command {
        ScheduleCommand::Solve(args) => solve_instance(&args),
        ScheduleCommand::Create(args) => {
            let local = open(&args.lake).await?;
            let week = chrono::NaiveDate::parse_from_str(&args.week, "%Y-%m-%d").map_err(|_| {
                anyhow::anyhow!("--week {:?}: give YYYY-MM-DD (a Monday)", args.week)
            })?;
            let draft = local
                .scheduling
                .create(
                    &local.engine,
                    CreateRequest {
                        staffing_run: args.staffing_run.clone(),
                        queues: args.queues.clone(),
                        week,
                        inputs: None,
                    },
                )
                .await?;
            print_draft(&draft, args.lake.format)
        }
        ScheduleCommand::Show(args) => {
            let local = open(&args.lake).await?;
            let draft = local.scheduling.load(&Scope::All, &args.id)?;
            print_draft(&draft, args.lake.format)
        }
        ScheduleCommand::Edit(args) => {
            let local = open(&args.draft.lake).await?;
            let edits = args
                .edits
                .iter()
                .enumerate()
                .map(|(i, text)| {
                    serde_json::from_str::<Edit>(text)
                        .map_err(|e| anyhow::anyhow!("--edit #{}: {e}", i + 1))
                })
                .collect::<anyhow::Result<Vec<_>>>()?;
            let draft = local
                .scheduling
                .edit(&Scope::All, &args.draft.id, &edits)
                .await?;
            print_draft(&draft, args.draft.lake.format)
        }
        ScheduleCommand::Publish(args) => {
            let local = open(&args.lake).await?;
            let publisher = std::env::var("USER").unwrap_or_else(|_| "cli".into());
            let (draft, version) = local
                .scheduling
                .publish(&Scope::All, &args.id, &publisher)
                .await?;
            let mut out = std::io::stdout().lock();
            match args.lake.format {
                ScheduleFormat::Json => writeln!(
                    out,
                    "{}",
                    json!({"schedule_id": draft.id, "version": version})
                )?,
                ScheduleFormat::Text => writeln!(out, "published {} version {version}", draft.id)?,
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

async fn open(lake: &ScheduleLake) -> anyhow::Result<LocalPlanner> {
    local_planner(&lake.data, lake.config.as_deref(), &KpiArgs::default()).await
}

fn print_draft(draft: &Draft, format: ScheduleFormat) -> anyhow::Result<ExitCode> {
    let mut out = std::io::stdout().lock();
    match format {
        ScheduleFormat::Json => writeln!(out, "{}", serde_json::to_string(&view(draft))?)?,
        ScheduleFormat::Text => {
            let t = draft.totals();
            writeln!(
                out,
                "schedule {} ({}), {} versions published",
                draft.id,
                draft.queues.join(","),
                draft.published_versions
            )?;
            writeln!(
                out,
                "shifts {}, paid {:.2} h, short {:.2} agent-h, surplus {:.2} agent-h",
                t.shifts, t.paid_hours, t.short_agent_hours, t.surplus_agent_hours
            )?;
            for s in &view(draft).shifts {
                writeln!(out, "{}", serde_json::to_string(s)?)?;
            }
        }
    }
    Ok(ExitCode::SUCCESS)
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
