//! Report rendering over a busy month: `cargo bench -p queuelake --bench report`.
//!
//! Generates (or reuses) the benchmarks' 30 days of queue_log (≥ 5 M
//! lines) in `target/bench/`, ingests it into a lake once, then runs
//! `queuelake report run` over the whole month five times per report,
//! rendering XLSX and PDF. Each run is a whole process: start, lake
//! opened, queries, rendering, files committed. Prints the median and the
//! split between queries and rendering that the command reports.

#![allow(missing_docs, clippy::print_stdout, clippy::unwrap_used)]

use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

#[path = "shared/busy_month.rs"]
mod busy_month;

const BIN: &str = env!("CARGO_BIN_EXE_queuelake");
const ROUNDS: usize = 5;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// The seconds `label` has in the command's summary line (`queries 0.42 s`).
fn seconds(summary: &str, label: &str) -> f64 {
    summary
        .split(&format!("{label} "))
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|s| s.parse().ok())
        .unwrap_or(f64::NAN)
}

fn main() {
    let out_dir = std::env::var_os("QUEUELAKE_BENCH_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/bench"));
    std::fs::create_dir_all(&out_dir).unwrap();
    let log = out_dir.join("queue_log_30d");
    let lines = if log.is_file() {
        std::fs::read(&log)
            .unwrap()
            .iter()
            .filter(|b| **b == b'\n')
            .count() as u64
    } else {
        busy_month::generate(&log)
    };
    let lake = out_dir.join("report_lake");
    if !lake.is_dir() {
        let _ = std::fs::remove_dir_all(&lake);
        let status = Command::new(BIN)
            .args([
                "ingest",
                "--data",
                lake.to_str().unwrap(),
                log.to_str().unwrap(),
            ])
            .status()
            .unwrap();
        assert!(status.success());
    }
    println!(
        "lake of {lines} queue_log lines (30 days): {}",
        lake.display()
    );
    for report in [
        "monthly_service_level",
        "weekly_agent_performance",
        "daily_queue_summary",
    ] {
        let (mut total, mut queries, mut rendering) = (Vec::new(), Vec::new(), Vec::new());
        let mut files = Vec::new();
        for _ in 0..ROUNDS {
            let started = Instant::now();
            let out = Command::new(BIN)
                .args([
                    "report",
                    "run",
                    report,
                    "--data",
                    lake.to_str().unwrap(),
                    "--period",
                    "2024-01-01..2024-01-30",
                    "--formats",
                    "xlsx,pdf",
                ])
                .env("RUST_LOG", "warn")
                .output()
                .unwrap();
            total.push(started.elapsed().as_secs_f64());
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            let summary = String::from_utf8_lossy(&out.stderr).into_owned();
            queries.push(seconds(&summary, "queries"));
            rendering.push(seconds(&summary, "rendering"));
            files = String::from_utf8(out.stdout)
                .unwrap()
                .lines()
                .map(|p| {
                    let size = std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
                    format!(
                        "{} {:.0} kB",
                        p.rsplit('/').next().unwrap_or(p),
                        size as f64 / 1e3
                    )
                })
                .collect();
        }
        println!(
            "{report}, 30 days, xlsx + pdf: median {:.2} s end to end (queries {:.2} s, rendering {:.2} s; rounds {}); {}",
            median(total.clone()),
            median(queries),
            median(rendering),
            total
                .iter()
                .map(|t| format!("{t:.2}"))
                .collect::<Vec<_>>()
                .join(" "),
            files.join(", ")
        );
    }
}
