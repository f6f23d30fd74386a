//! `queuelake report list` and `queuelake report run NAME --period …`:
//! runs a report here (queries over the committed lake, files under
//! `<data>/reports/`, e-mail with --email) or queues it for the service's
//! workers (--enqueue).

use std::io::Write;
use std::process::ExitCode;

use chrono::Utc;
use queuelake_engine::lake::Lake;
use queuelake_engine::session::LakeTables;
use queuelake_reports::definition::Format;
use queuelake_reports::period::Period;

use crate::cli::{ReportCommand, ReportListArgs, ReportRunArgs};
use crate::commands::{limits, open_existing_lake};
use crate::config::ConfigFile;
use crate::reports::mail::Mailer;
use crate::reports::runner::Runner;
use crate::reports::service::{Reports, RunRequest};

pub async fn run(command: ReportCommand) -> anyhow::Result<ExitCode> {
    match command {
        ReportCommand::List(args) => list(&args),
        ReportCommand::Run(args) => run_report(args).await,
    }
}

fn list(args: &ReportListArgs) -> anyhow::Result<ExitCode> {
    let file = ConfigFile::resolve(args.config.as_deref())?;
    let mut out = std::io::stdout().lock();
    for d in file.report_definitions()? {
        let queries: Vec<&str> = d.queries.iter().map(|q| q.name.as_str()).collect();
        let formats: Vec<String> = d.formats.iter().map(Format::to_string).collect();
        writeln!(
            out,
            "{}\t{}\tperiod {}\tschedule {}\t{}\tformats {}\trecipients {}\tqueries {}",
            d.name,
            d.title,
            d.period,
            d.cron.as_deref().unwrap_or("on demand"),
            d.time_zone,
            formats.join(","),
            d.recipients.len(),
            queries.join(",")
        )?;
    }
    Ok(ExitCode::SUCCESS)
}

/// The service over the committed lake at `data`, configured by `file`.
pub async fn local_reports(lake: &Lake, file: &ConfigFile) -> anyhow::Result<Reports> {
    let tables = LakeTables::committed(lake).await?;
    let definitions = file.report_definitions()?;
    let runner = Runner::new(
        tables,
        file.kpi.clone(),
        limits(&file.query),
        &definitions,
        lake.root().join("reports"),
    );
    let mailer = Mailer::new(file.mail.clone(), lake.root());
    Ok(Reports::open(runner, file.jobs.clone(), mailer, lake.root()).await?)
}

async fn run_report(args: ReportRunArgs) -> anyhow::Result<ExitCode> {
    let file = ConfigFile::resolve(args.config.as_deref())?;
    let lake = open_existing_lake(&args.data)?;
    let reports = local_reports(&lake, &file).await?;
    let definition = reports
        .runner()
        .definitions()
        .get(&args.name)
        .ok_or_else(|| {
            let names: Vec<&str> = reports.definitions().map(|d| d.name.as_str()).collect();
            anyhow::anyhow!(
                "no report {:?}; the reports are {}",
                args.name,
                names.join(", ")
            )
        })?;
    let period: Period = args
        .period
        .as_deref()
        .unwrap_or(&definition.period)
        .parse()
        .map_err(|e| anyhow::anyhow!("--period: {e}"))?;
    let formats = args
        .formats
        .iter()
        .map(|f| {
            f.parse::<Format>()
                .map_err(|e| anyhow::anyhow!("--formats: {e}"))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let request = RunRequest {
        report: args.name.clone(),
        period,
        queues: (!args.queues.is_empty()).then(|| args.queues.clone()),
        formats: (!formats.is_empty()).then_some(formats),
        email: args.email,
    };
    let job = reports.job(&request, "cli", Utc::now())?;
    let mut out = std::io::stdout().lock();
    if args.enqueue {
        let id = reports.enqueue(job).await?;
        writeln!(out, "queued job {id} ({} store)", reports.store().kind())?;
        return Ok(ExitCode::SUCCESS);
    }
    let id = ulid::Ulid::new().to_string();
    let outcome = reports
        .run(&id, &job)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let folder = job.folder(reports.runner().root());
    for file in &outcome.files {
        writeln!(out, "{}", folder.join(file).display())?;
    }
    let rows: Vec<String> = outcome
        .rows
        .iter()
        .map(|r| format!("{} {}", r.query, r.rows))
        .collect();
    eprintln!(
        "{} {}: rows {}; queries {:.2} s, rendering {:.2} s; delivery {}",
        job.report,
        job.window.label,
        rows.join(", "),
        outcome.query_seconds,
        outcome.render_seconds,
        outcome.delivery
    );
    Ok(ExitCode::SUCCESS)
}
