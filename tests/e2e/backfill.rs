//! Backfill: idempotent, rotated and gzipped siblings, crash safety.

use std::io::Write;
use std::process::Stdio;
use std::time::Duration;

use crate::support::{Rng, assert_exactly_once, bin, ingest, seed, sql, synthetic_log};

#[test]
fn ingesting_twice_adds_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("queue_log");
    let bytes = synthetic_log(1_700_000_000, 500);
    std::fs::write(&log, &bytes).unwrap();
    let lake = dir.path().join("lake");
    let first = ingest(&lake, &[&log]);
    // 500 calls: 375 answered (3 lines), 125 abandoned (2 lines), + QUEUESTART
    assert!(first.contains("ingested 1376 lines"), "{first}");
    let second = ingest(&lake, &[&log]);
    assert!(
        second.contains("already in the lake") && second.contains("ingested 0 lines"),
        "{second}"
    );
    assert_exactly_once(&lake, &bytes);
}

#[test]
fn rotated_gzip_sibling_continues_where_the_lake_stopped() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = synthetic_log(1_700_000_000, 300);
    // First the live file held only the first half; it was imported then.
    let half = crate::support::line_offsets(&bytes)[600] as usize;
    let live = dir.path().join("queue_log");
    std::fs::write(&live, &bytes[..half]).unwrap();
    let lake = dir.path().join("lake");
    ingest(&lake, &[&live]);
    // Then it grew, was rotated and compressed; a new file started.
    let rotated = dir.path().join("queue_log.1.gz");
    let mut gz = flate2::write::GzEncoder::new(
        std::fs::File::create(&rotated).unwrap(),
        flate2::Compression::default(),
    );
    gz.write_all(&bytes).unwrap();
    gz.finish().unwrap();
    let newer = synthetic_log(1_700_100_000, 10);
    std::fs::write(&live, &newer).unwrap();
    let out = ingest(&lake, &[&live, &rotated]);
    assert!(out.contains(&format!("imported from byte {half}")), "{out}");
    let total =
        crate::support::line_offsets(&bytes).len() + crate::support::line_offsets(&newer).len();
    let rows = sql(
        &lake,
        "SELECT COUNT(*), COUNT(DISTINCT source) FROM queue_log",
        &[],
    );
    assert_eq!(rows[0][0].as_u64(), Some(total as u64));
    assert_eq!(
        rows[0][1].as_u64(),
        Some(2),
        "the .gz copy is the same source as the file it came from"
    );
}

#[test]
fn malformed_lines_become_dead_letters_and_nothing_good_is_lost() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("queue_log");
    let mut bytes = b"1700000000|NONE|NONE|NONE|QUEUESTART|\n".to_vec();
    bytes.extend_from_slice(b"garbage without pipes\n");
    bytes.extend_from_slice(b"17x0000001|1.1|q|NONE|ENTERQUEUE||1|1\n");
    bytes.extend_from_slice(b"\xff\xfe|||\n");
    bytes.extend_from_slice(b"1700000002|1.1|q|NONE|ENTERQUEUE||J\xe9r\xf4me|1\n");
    bytes.extend_from_slice(b"1700000003|NONE|NONE|NONE|CONFIGRELOAD|\n");
    // Five fields, no payload separator (as some tools write it): kept.
    bytes.extend_from_slice(b"1700000004|NONE|NONE|NONE|QUEUESTART\n");
    std::fs::write(&log, &bytes).unwrap();
    let lake = dir.path().join("lake");
    let out = ingest(&lake, &[&log]);
    assert!(out.contains("4 lines, 3 dead letters"), "{out}");
    let dead = std::fs::read_to_string(lake.join("dead_letters/queue_log.jsonl")).unwrap();
    let dead: Vec<serde_json::Value> = dead
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let where_: Vec<(u64, String)> = dead
        .iter()
        .map(|d| {
            (
                d["byte_offset"].as_u64().unwrap(),
                d["error"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        where_,
        vec![
            (
                38,
                "expected at least 5 '|'-separated fields (time|callid|queue|agent|event), found 1"
                    .to_string()
            ),
            (
                60,
                "field 1 (time) is not a Unix epoch in seconds: \"17x0000001\"".to_string()
            ),
            (
                98,
                "expected at least 5 '|'-separated fields (time|callid|queue|agent|event), found 4"
                    .to_string()
            ),
        ]
    );
    assert_eq!(dead[2]["line_hex"], "fffe7c7c7c");
    // Latin-1 caller name: decoded lossily, the line is kept.
    let rows = sql(
        &lake,
        "SELECT data2 FROM queue_log WHERE event = 'ENTERQUEUE'",
        &[],
    );
    assert_eq!(rows[0][0], "J\u{fffd}r\u{fffd}me");
    let starts = sql(
        &lake,
        "SELECT COUNT(*), MAX(data) FROM queue_log WHERE event = 'QUEUESTART'",
        &[],
    );
    assert_eq!(starts[0], [serde_json::json!(2), serde_json::json!("")]);
    // A second run neither repeats the rows nor the dead letters.
    ingest(&lake, &[&log]);
    let again = std::fs::read_to_string(lake.join("dead_letters/queue_log.jsonl")).unwrap();
    assert_eq!(again.lines().count(), 3);
}

/// kill -9 at random instants during a backfill, then a full run: every
/// line is in the lake exactly once. (The bench script runs ≥ 200 kills.)
#[test]
fn kill_9_during_backfill_never_loses_or_duplicates() {
    let kills: usize = crate::support::env_count("QUEUELAKE_KILLS", 50);
    let mut rng = Rng(seed());
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("queue_log");
    let bytes = synthetic_log(1_700_000_000, 60_000);
    std::fs::write(&log, &bytes).unwrap();
    let lake = dir.path().join("lake");
    for _ in 0..kills {
        let mut child = bin()
            .args([
                "ingest",
                "--data",
                lake.to_str().unwrap(),
                "--commit-rows",
                "3000",
                log.to_str().unwrap(),
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(rng.below(400)));
        let _ = child.kill();
        let _ = child.wait();
    }
    ingest(&lake, &[&log]);
    assert_exactly_once(&lake, &bytes);
}
