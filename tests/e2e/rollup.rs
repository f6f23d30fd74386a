//! Stored closed days of `calls` must give exactly the rows computed from
//! the raw lines: across midnight, for re-entered queues, for visits whose
//! ENTERQUEUE is not in the lake, and after late lines for a stored day.

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::{Rng, Server, ingest, seed, sql};

const DAY0: i64 = 1_709_251_200; // 2024-03-01T00:00:00Z

/// Calls around the clock for `days` days from `start`: answered,
/// abandoned, re-entered after a timeout, some with a DID line, and some
/// whose ENTERQUEUE line is missing. Visits entered near midnight end after it.
fn around_the_clock(rng: &mut Rng, start: i64, days: i64, tag: &str) -> String {
    let mut out = format!("{start}|NONE|NONE|NONE|QUEUESTART|\n");
    let mut t = start;
    let mut n = 0;
    while t < start + days * 86_400 {
        t += 60 + rng.below(600) as i64;
        n += 1;
        let id = format!("{t}.{tag}{n}");
        let q = ["sales", "support"][rng.below(2) as usize];
        let wait = rng.below(120) as i64;
        let talk = 20 + rng.below(1800) as i64;
        let kind = rng.below(10);
        if kind == 0 {
            out += &format!("{t}|{id}|{q}|NONE|DID|+15550100\n");
        }
        if kind != 1 {
            out += &format!("{t}|{id}|{q}|NONE|ENTERQUEUE||+1555{n:07}|1\n");
        }
        match kind {
            2 | 3 => out += &format!("{}|{id}|{q}|NONE|ABANDON|1|1|{wait}\n", t + wait),
            4 => {
                out += &format!("{}|{id}|{q}|NONE|EXITWITHTIMEOUT|1|1|{wait}\n", t + wait);
                let again = t + wait + 5;
                out += &format!("{again}|{id}|{q}|NONE|ENTERQUEUE||+1555{n:07}|1\n");
                out += &format!("{}|{id}|{q}|Agent 1|CONNECT|3|{again}.1|2\n", again + 3);
                out += &format!(
                    "{}|{id}|{q}|Agent 1|COMPLETEAGENT|3|{talk}|1\n",
                    again + 3 + talk
                );
            }
            _ => {
                let agent = rng.below(20);
                out += &format!(
                    "{}|{id}|{q}|Agent {agent}|CONNECT|{wait}|{t}.1|2\n",
                    t + wait
                );
                out += &format!(
                    "{}|{id}|{q}|Agent {agent}|COMPLETECALLER|{wait}|{talk}|1\n",
                    t + wait + talk
                );
            }
        }
    }
    out
}

const CALLS: &str = "SELECT callid, queue, visit_no, CAST(enter_ts AS VARCHAR), entered_logged, outcome, \
    wait_s, talk_s, ring_s, agent, CAST(end_ts AS VARCHAR), end_event, orig_position, caller_id, did, source, \
    first_byte_offset FROM calls ORDER BY callid, queue, visit_no";
const STATS: &str = "SELECT * FROM interval_stats ORDER BY queue, interval_start";

/// `calls` and `interval_stats` as the lake at `data` answers them.
fn answers(data: &Path) -> (Vec<Vec<Value>>, Vec<Vec<Value>>) {
    (sql(data, CALLS, &[]), sql(data, STATS, &[]))
}

/// The same answers computed from the raw lines alone (a copy of the lake
/// without its stored days).
fn computed_answers(data: &Path) -> (Vec<Vec<Value>>, Vec<Vec<Value>>) {
    let copy = tempfile::tempdir().unwrap();
    copy_dir(data, copy.path());
    std::fs::remove_dir_all(copy.path().join("calls_by_day")).unwrap();
    answers(copy.path())
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

fn assert_same(
    stored: &(Vec<Vec<Value>>, Vec<Vec<Value>>),
    computed: &(Vec<Vec<Value>>, Vec<Vec<Value>>),
) {
    assert_eq!(stored.0.len(), computed.0.len(), "calls rows");
    for (s, c) in stored.0.iter().zip(&computed.0) {
        assert_eq!(s, c, "calls row");
    }
    assert_eq!(stored.1, computed.1, "interval_stats");
}

#[test]
fn stored_days_answer_exactly_what_the_lines_give() {
    let mut rng = Rng(seed());
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("lake");
    let first = dir.path().join("queue_log");
    std::fs::write(&first, around_the_clock(&mut rng, DAY0, 6, "a")).unwrap();
    let out = ingest(&data, &[&first]);
    // Lines dated Mar 1..6, or ..7 when the last call ends after midnight:
    // Feb 29 .. Mar 4 (or Mar 5) are closed.
    assert!(
        out.contains("stored 5 closed days") || out.contains("stored 6 closed days"),
        "{out}"
    );
    let stored = answers(&data);
    assert!(stored.0.len() > 600, "{} visits", stored.0.len());
    let midnight = sql(
        &data,
        "SELECT COUNT(*) FROM calls WHERE date_trunc('day', enter_ts) <> date_trunc('day', end_ts)",
        &[],
    );
    assert!(
        midnight[0][0].as_i64() > Some(0),
        "some visits end on the next day"
    );
    assert!(stored.0.iter().any(|r| r[2] == 2), "a queue entered twice");
    assert!(
        stored.0.iter().any(|r| r[4] == false),
        "a visit without ENTERQUEUE"
    );
    assert_same(&stored, &computed_answers(&data));

    // Late lines for a stored day (another file, backfilled afterwards):
    // the days around it are stale. Queries compute them until the stored
    // days are refreshed, and the refresh stores them again.
    let before_late = tempfile::tempdir().unwrap();
    copy_dir(&data.join("calls_by_day"), before_late.path());
    let late = dir.path().join("queue_log.late");
    std::fs::write(
        &late,
        around_the_clock(&mut rng, DAY0 + 2 * 86_400, 1, "late"),
    )
    .unwrap();
    let out = ingest(&data, &[&late]);
    assert!(
        out.contains("stored 3 closed days") || out.contains("stored 4 closed days"),
        "{out}"
    );
    let refreshed = answers(&data);
    assert!(refreshed.0.len() > stored.0.len());
    let computed = computed_answers(&data);
    assert_same(&refreshed, &computed);

    std::fs::remove_dir_all(data.join("calls_by_day")).unwrap();
    copy_dir(before_late.path(), &data.join("calls_by_day"));
    assert_same(&answers(&data), &computed);
}

#[test]
fn serve_stores_closed_days_as_the_tail_commits_them() {
    let mut rng = Rng(seed());
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("lake");
    let log = dir.path().join("queue_log");
    let text = around_the_clock(&mut rng, DAY0, 5, "s");
    std::fs::write(&log, &text).unwrap();
    let server = Server::start(
        &data,
        &log,
        &["--flush-seconds", "1", "--rollup-seconds", "1"],
    );
    let lines = text.lines().count() as i64;
    server.wait_for(
        "SELECT COUNT(*) FROM queue_log",
        lines,
        Duration::from_secs(20),
    );
    // Stored days appear in the lake within a few refresh periods.
    let stored_log = data.join("calls_by_day/_log");
    let started = Instant::now();
    while std::fs::read_dir(&stored_log).map_or(0, |d| d.count()) == 0 {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "no stored day after 30 s"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_millis(500)); // let the server publish it
    let served = (server.sql(CALLS), server.sql(STATS));
    assert!(server.terminate(), "serve exits 0 on SIGTERM");
    assert_same(&served, &computed_answers(&data));
    assert_same(&answers(&data), &served);
}
