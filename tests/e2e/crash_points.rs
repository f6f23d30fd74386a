//! A crash between every pair of steps of a commit: `ingest` and `serve`
//! run with one crash point armed (`QUEUELAKE_CRASH_AT`, see
//! `queuelake_engine::lake::crash`), die there as under kill -9, and a clean
//! rerun leaves every line in the lake exactly once.

use std::io::Write;
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use queuelake_engine::lake::crash::{CRASH_AT_VAR, CommitStep};

use crate::support::{Reaped, Rng, Server, assert_exactly_once, bin, seed, synthetic_log};

/// SIGABRT: how a process ends at an armed crash point.
const ABORTED: i32 = 6;

/// Which passage of `step` to crash at: checkpoints come every 64 commits,
/// so those steps are passed only `checkpoints` times in a run of these
/// sizes.
fn passage(step: CommitStep, checkpoints: u64, rng: &mut Rng) -> u64 {
    match step {
        CommitStep::CheckpointWritten | CommitStep::LogPruned => 1 + rng.below(checkpoints),
        _ => 1 + rng.below(6),
    }
}

/// Waits for `child` to end by itself; panics after `limit`.
fn wait_for_crash(mut child: Reaped, step: CommitStep, limit: Duration) {
    let start = Instant::now();
    loop {
        if let Some(status) = child.0.try_wait().unwrap() {
            assert_eq!(
                status.signal(),
                Some(ABORTED),
                "{}: the crash point was not reached ({status})",
                step.name()
            );
            return;
        }
        if start.elapsed() > limit {
            panic!("{}: still running after {limit:?}", step.name());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// `ingest` committing every 40 rows, crashed at each step in turn, then
/// rerun clean.
#[test]
fn ingest_crashed_at_every_commit_step_loses_and_repeats_nothing() {
    let mut rng = Rng(seed());
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("queue_log");
    // ~14 k lines: with a commit every 40 rows, two checkpoints.
    let bytes = synthetic_log(1_700_000_000, 5_000);
    std::fs::write(&log, &bytes).unwrap();
    for step in CommitStep::ALL {
        let lake = dir.path().join(format!("lake-{}", step.name()));
        let run = |crash: Option<String>| {
            let mut cmd = bin();
            cmd.args([
                "ingest",
                "--data",
                lake.to_str().unwrap(),
                "--commit-rows",
                "40",
            ])
            .arg(&log)
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
            if let Some(at) = crash {
                cmd.env(CRASH_AT_VAR, at);
            }
            cmd
        };
        let at = format!("{}:{}", step.name(), passage(step, 2, &mut rng));
        let crashing = Reaped(run(Some(at)).spawn().unwrap());
        wait_for_crash(crashing, step, Duration::from_secs(60));
        let clean = run(None).output().unwrap();
        assert!(
            clean.status.success(),
            "{}: {}",
            step.name(),
            String::from_utf8_lossy(&clean.stderr)
        );
        assert_exactly_once(&lake, &bytes);
    }
}

/// `serve` tailing a file that grows by ~50 lines every 30 ms and
/// committing every 40 rows, crashed at each step in turn, then restarted
/// clean on the finished file.
#[test]
fn serve_crashed_at_every_commit_step_loses_and_repeats_nothing() {
    let mut rng = Rng(seed());
    let dir = tempfile::tempdir().unwrap();
    let bytes = synthetic_log(1_700_000_000, 2_000);
    let offsets = crate::support::line_offsets(&bytes);
    for step in CommitStep::ALL {
        let log = dir.path().join(format!("queue_log-{}", step.name()));
        let lake = dir.path().join(format!("lake-{}", step.name()));
        std::fs::write(&log, &bytes[..offsets[50] as usize]).unwrap();
        // Appends coalesce into fewer commits: one checkpoint is sure.
        let at = format!("{}:{}", step.name(), passage(step, 1, &mut rng));
        let child = Reaped(
            bin()
                .args(["serve", "--data", lake.to_str().unwrap()])
                .args(["--listen", "127.0.0.1:0", "--no-pg", "--poll-ms", "100"])
                .args(["--flush-rows", "40", "--queue-log", log.to_str().unwrap()])
                .env(CRASH_AT_VAR, &at)
                .stdout(Stdio::null())
                .spawn()
                .unwrap(),
        );
        let mut written = offsets[50] as usize;
        let mut file = std::fs::OpenOptions::new().append(true).open(&log).unwrap();
        for chunk in offsets[50..].chunks(50).skip(1) {
            let upto = chunk[0] as usize;
            file.write_all(&bytes[written..upto]).unwrap();
            written = upto;
            std::thread::sleep(Duration::from_millis(30));
        }
        file.write_all(&bytes[written..]).unwrap();
        wait_for_crash(child, step, Duration::from_secs(60));
        let server = Server::start(&lake, &log, &[]);
        server.wait_for(
            "SELECT COUNT(*) FROM queue_log",
            offsets.len() as i64,
            Duration::from_secs(30),
        );
        assert!(server.terminate(), "{}", step.name());
        assert_exactly_once(&lake, &bytes);
        // Not needed any more: keeps the temporary folder small.
        let _ = std::fs::remove_dir_all(Path::new(&lake));
    }
}
