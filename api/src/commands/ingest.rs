//! `queuelake ingest`: backfill files into the lake, with a progress bar on
//! a terminal and a summary at the end.

use std::io::Write;
use std::process::ExitCode;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};
use queuelake_engine::lake::Lake;
use queuelake_engine::rollup::CallsRollup;
use queuelake_ingest::queue_log::backfill::{self, BackfillOptions, FileOutcome, Progress};
use queuelake_ingest::queue_log::deadletter::DeadLetters;
use queuelake_ingest::queue_log::rows::LineStats;

use crate::cli::IngestArgs;
use crate::commands::queue_log_writer;

pub async fn run(args: IngestArgs) -> anyhow::Result<ExitCode> {
    for file in &args.files {
        if !file.is_file() {
            anyhow::bail!("{} is not a file", file.display());
        }
    }
    let lake = Lake::open_local(&args.data)?;
    let (lock, mut writer) = queue_log_writer(&lake).await?;
    let mut dead = DeadLetters::open(lake.root())?;
    let files = backfill::order_files(&args.files);

    let progress = Progress::default();
    let bar = ProgressBar::new(backfill::total_bytes(&files));
    bar.set_style(
        ProgressStyle::with_template("{spinner} [{elapsed_precise}] {wide_bar} {bytes}/{total_bytes} ({bytes_per_sec}, {eta})")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let ticker = {
        let bar = bar.clone();
        let counter = progress.bytes_read.clone();
        tokio::spawn(async move {
            loop {
                bar.set_position(counter.load(Ordering::Relaxed));
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        })
    };

    let started = Instant::now();
    let options = BackfillOptions {
        commit_rows: args.commit_rows,
    };
    let result = backfill::backfill(&mut writer, &mut dead, &files, &options, &progress).await;
    ticker.abort();
    bar.finish_and_clear();
    let reports = result?;
    let seconds = started.elapsed().as_secs_f64();

    let mut out = std::io::stdout().lock();
    let mut total = LineStats::default();
    for r in &reports {
        total += r.stats;
        let what = match &r.outcome {
            FileOutcome::Imported {
                from_offset: 0,
                held_bytes: 0,
            } => "imported".to_string(),
            FileOutcome::Imported {
                from_offset,
                held_bytes,
            } => {
                let mut s = String::from("imported");
                if *from_offset > 0 {
                    s += &format!(" from byte {from_offset} (the lake held the rest)");
                }
                if *held_bytes > 0 {
                    s += &format!("; {held_bytes} bytes of an unfinished last line left for later");
                }
                s
            }
            FileOutcome::AlreadyInLake => "already in the lake".to_string(),
            FileOutcome::NoIdentity => "skipped: empty, or first line not complete".to_string(),
            FileOutcome::Changed => {
                "skipped: rewritten since it was imported (see log)".to_string()
            }
        };
        writeln!(
            out,
            "{}: {} lines, {} dead letters — {what}",
            r.path.display(),
            r.stats.rows,
            r.stats.dead_letters
        )?;
    }
    let snapshot = writer.snapshot();
    writeln!(
        out,
        "ingested {} lines ({} dead letters, {} NUL bytes stripped) from {} files in {:.2} s ({:.0} lines/s); lake now holds {} rows in {} files",
        total.rows,
        total.dead_letters,
        total.nul_bytes,
        reports.len(),
        seconds,
        (total.rows + total.dead_letters) as f64 / seconds.max(1e-9),
        snapshot.rows(),
        snapshot.files.len()
    )?;
    if total.dead_letters > 0 {
        writeln!(out, "dead letters are in {}", dead.path().display())?;
    }
    out.flush()?;

    // Closed days are grouped into visits once, here, not by every query.
    let started = Instant::now();
    let report = CallsRollup::open(&lake, &lock)
        .await?
        .refresh(writer.snapshot())
        .await?;
    if report.days > 0 {
        writeln!(
            out,
            "stored {} closed day{} of calls ({} visits) in {:.2} s",
            report.days,
            if report.days == 1 { "" } else { "s" },
            report.visits,
            started.elapsed().as_secs_f64()
        )?;
    }
    Ok(ExitCode::SUCCESS)
}
