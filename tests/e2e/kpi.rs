//! KPI views against values counted by hand (the fixture's comments and
//! the README's KPI section say how), and against the real captures.

use serde_json::{Value, json};

use crate::support::{fixture, ingest, shared, sql};

fn lake_with_sample() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let out = ingest(dir.path(), &[&fixture("queue_log/sample_queue_log")]);
    assert!(out.contains("51 lines, 1 dead letters"), "{out}");
    dir
}

#[test]
fn interval_stats_match_hand_counted_values() {
    let lake = lake_with_sample();
    let rows = sql(
        lake.path(),
        "SELECT queue, CAST(interval_start AS VARCHAR) AS start_text, offered, answered, abandoned, short_abandoned, timed_out, other_exits, \
         answered_within_sl, ROUND(service_level, 4), asa_s, aht_s, max_wait_s FROM interval_stats ORDER BY queue, interval_start",
        &[],
    );
    let expected = vec![
        json!([
            "sales",
            "2024-03-04T09:00:00Z",
            5,
            2,
            2,
            1,
            1,
            0,
            1,
            0.25,
            21.5,
            147.5,
            60
        ]),
        json!([
            "sales",
            "2024-03-04T09:15:00Z",
            3,
            2,
            0,
            0,
            0,
            1,
            2,
            0.6667,
            6.0,
            58.0,
            8
        ]),
        json!([
            "sales",
            "2024-03-04T23:45:00Z",
            1,
            1,
            0,
            0,
            0,
            0,
            1,
            1.0,
            20.0,
            100.0,
            20
        ]),
        json!([
            "sales",
            "2024-03-05T00:00:00Z",
            1,
            0,
            0,
            0,
            1,
            0,
            0,
            0.0,
            null,
            null,
            30
        ]),
        json!([
            "support",
            "2024-03-04T09:15:00Z",
            3,
            2,
            0,
            0,
            0,
            1,
            1,
            0.3333,
            19.5,
            82.0,
            24
        ]),
    ];
    let got: Vec<Value> = rows
        .into_iter()
        .map(|r| Value::Array(r).to_string().replace("+00:00", "Z"))
        .map(|s| serde_json::from_str(&s).unwrap())
        .collect();
    assert_eq!(got, expected);
}

#[test]
fn calls_view_classifies_every_visit() {
    let lake = lake_with_sample();
    let rows = sql(
        lake.path(),
        "SELECT callid, queue, outcome, wait_s, talk_s, agent, transferred, orig_position FROM calls ORDER BY enter_ts, queue",
        &[],
    );
    let expected = vec![
        json!([
            "1709542810.1",
            "sales",
            "answered",
            12,
            95,
            "Ana Lima",
            false,
            1
        ]),
        json!([
            "1709542860.3",
            "sales",
            "answered",
            31,
            200,
            "Ana Lima",
            false,
            1
        ]),
        json!(["1709542920.5", "sales", "abandoned", 3, null, null, null, 1]),
        json!([
            "1709543000.6",
            "sales",
            "abandoned",
            40,
            null,
            null,
            null,
            2
        ]),
        json!(["1709543200.0", "sales", "timeout", 60, null, null, null, 1]),
        // answered then blind-transferred: answered in sales, a second visit in support
        json!(["1709543700.1", "sales", "answered", 5, 50, "bruno", true, 1]),
        json!([
            "1709543700.1",
            "support",
            "answered",
            24,
            120,
            "bruno",
            false,
            1
        ]),
        json!(["1709543800.7", "sales", "exit_key", 8, null, null, null, 1]),
        // ATTENDEDTRANSFER APP|Queue|7|66|2: pipes inside the payload
        json!([
            "1709543810.8",
            "sales",
            "answered",
            7,
            66,
            "Ana Lima",
            true,
            2
        ]),
        // ATTENDEDTRANSFER LINK|chan|chan|15|44|1: six payload fields
        json!([
            "1709543900.10",
            "support",
            "answered",
            15,
            44,
            "bruno",
            true,
            1
        ]),
        json!([
            "1709544100.12",
            "support",
            "exit_empty",
            2,
            null,
            null,
            null,
            1
        ]),
        // enters 23:59:50, answered after midnight: one whole visit
        json!([
            "1709596790.13",
            "sales",
            "answered",
            20,
            100,
            "Ana Lima",
            false,
            1
        ]),
        // Asterisk 1.4 EXITWITHTIMEOUT (position only): wait from timestamps
        json!([
            "1709597000.15",
            "sales",
            "timeout",
            30,
            null,
            null,
            null,
            null
        ]),
    ];
    assert_eq!(
        rows.into_iter().map(Value::Array).collect::<Vec<_>>(),
        expected
    );
}

#[test]
fn agent_sessions_pair_names_with_interfaces() {
    let lake = lake_with_sample();
    let rows = sql(
        lake.path(),
        "SELECT member, interface, queue, kind, duration_s, reason, closed_by FROM agent_sessions ORDER BY start_ts, queue",
        &[],
    );
    let expected = vec![
        json!([
            "ana lima",
            "SIP/2001",
            "sales",
            "membership",
            54900,
            null,
            "closed"
        ]),
        json!([
            "bruno",
            "PJSIP/2002",
            "sales",
            "membership",
            null,
            null,
            "open"
        ]),
        json!([
            "bruno",
            "PJSIP/2002",
            "support",
            "membership",
            null,
            null,
            "open"
        ]),
        json!([
            "bruno",
            "PJSIP/2002",
            "sales",
            "pause",
            300,
            "Lunch",
            "closed"
        ]),
    ];
    assert_eq!(
        rows.into_iter().map(Value::Array).collect::<Vec<_>>(),
        expected
    );
}

#[test]
fn custom_events_and_nul_holes_are_kept() {
    let lake = lake_with_sample();
    let rows = sql(
        lake.path(),
        "SELECT data, data1, data2, data3 FROM queue_log WHERE event = 'CUSTOMSURVEY'",
        &[],
    );
    assert_eq!(
        rows,
        vec![vec![
            json!("score=5|comment=ok"),
            json!("score=5"),
            json!("comment=ok"),
            Value::Null
        ]]
    );
    let rows = sql(
        lake.path(),
        "SELECT COUNT(*) FROM queue_log WHERE event = 'QUEUESTART'",
        &[],
    );
    assert_eq!(
        rows[0][0],
        json!(2),
        "the QUEUESTART behind the NUL hole is a row"
    );
}

#[test]
fn intervals_follow_the_local_clock() {
    let lake = lake_with_sample();
    // Asia/Kolkata is UTC+05:30: local 14:00-15:00 is 08:30-09:30 UTC.
    let rows = sql(
        lake.path(),
        "SELECT queue, CAST(interval_start AS VARCHAR) AS start_text, offered FROM interval_stats WHERE interval_start < TIMESTAMP '2024-03-04T12:00:00Z' ORDER BY queue",
        &["--interval-minutes", "60", "--time-zone", "Asia/Kolkata"],
    );
    assert_eq!(
        rows,
        vec![
            vec![json!("sales"), json!("2024-03-04T08:30:00Z"), json!(8)],
            vec![json!("support"), json!("2024-03-04T08:30:00Z"), json!(3)],
        ]
    );
}

#[test]
fn dst_fall_back_keeps_two_local_one_thirty_intervals() {
    // America/New_York falls back at 2024-11-03 06:00Z: 01:30 local happens
    // at 05:30Z (EDT) and again at 06:30Z (EST).
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("queue_log");
    let mut text = String::from("1730600000|NONE|NONE|NONE|QUEUESTART|\n");
    for (t, id) in [(1730611810, "a"), (1730615410, "b"), (1730615420, "c")] {
        text += &format!(
            "{t}|{t}.{id}|q|NONE|ENTERQUEUE||1|1\n{}|{t}.{id}|q|NONE|ABANDON|1|1|9\n",
            t + 9
        );
    }
    std::fs::write(&log, text).unwrap();
    let lake = dir.path().join("lake");
    ingest(&lake, &[&log]);
    let rows = sql(
        &lake,
        "SELECT CAST(interval_start AS VARCHAR) AS start_text, offered FROM interval_stats ORDER BY interval_start",
        &[
            "--interval-minutes",
            "30",
            "--time-zone",
            "America/New_York",
        ],
    );
    assert_eq!(
        rows,
        vec![
            vec![json!("2024-11-03T05:30:00Z"), json!(1)],
            vec![json!("2024-11-03T06:30:00Z"), json!(2)]
        ]
    );
}

#[test]
fn sl_threshold_and_short_abandon_are_settings() {
    let lake = lake_with_sample();
    let rows = sql(
        lake.path(),
        "SELECT answered_within_sl, short_abandoned, aht_s FROM interval_stats WHERE queue = 'sales' ORDER BY interval_start LIMIT 1",
        &[
            "--sl-threshold-s",
            "40",
            "--short-abandon-s",
            "45",
            "--acw-s",
            "10",
        ],
    );
    // with T = 40 s both answers count; with 45 s both abandons are short; AHT + 10 s
    assert_eq!(rows, vec![vec![json!(2), json!(2), json!(157.5)]]);
}

/// Real Asterisk captures from ../shared: every file ingests without dead
/// letters, and the KPIs equal counts made with awk over the raw files:
///   cat karthik0112__synk_bug/* | tr -d '\0' | awk -F'|' '$5=="ENTERQUEUE"{e++} $5=="ABANDON"{a++; w+=$8; if($8<5)s++} $5=="CONNECT"{c++; w+=$6} $5 ~ /^COMPLETE/{t+=$7} …'
///   → enter 33, abandon 30, short 6, connect 3, talk 22, wait 641
#[test]
fn real_captures_ingest_cleanly_with_hand_counted_kpis() {
    let Some(shared) = shared() else { return };
    let root = shared.join("fixtures/queue_log");
    let mut files = Vec::new();
    for dir in [
        "karthik0112__synk_bug",
        "bekzod__phone-server",
        "asterisk__asterisk__issue-759",
    ] {
        for entry in std::fs::read_dir(root.join(dir)).unwrap() {
            files.push(entry.unwrap().path());
        }
    }
    let lake = tempfile::tempdir().unwrap();
    let file_refs: Vec<&std::path::Path> = files.iter().map(|p| p.as_path()).collect();
    let out = ingest(lake.path(), &file_refs);
    assert!(
        out.contains("ingested 993 lines (0 dead letters, 312 NUL bytes stripped) from 7 files"),
        "{out}"
    );

    let rows = sql(
        lake.path(),
        "SELECT COUNT(*), SUM(CASE WHEN outcome='answered' THEN 1 ELSE 0 END), SUM(CASE WHEN outcome='abandoned' THEN 1 ELSE 0 END), \
         SUM(CASE WHEN outcome='abandoned' AND wait_s < 5 THEN 1 ELSE 0 END), SUM(talk_s), SUM(wait_s) FROM calls WHERE queue = '500'",
        &[],
    );
    assert_eq!(
        rows,
        vec![vec![
            json!(33),
            json!(3),
            json!(30),
            json!(6),
            json!(22),
            json!(641)
        ]]
    );
    let rows = sql(
        lake.path(),
        "SELECT SUM(offered), SUM(answered), SUM(abandoned), SUM(short_abandoned) FROM interval_stats WHERE queue = '500'",
        &[],
    );
    assert_eq!(rows, vec![vec![json!(33), json!(3), json!(30), json!(6)]]);

    // The exact duplicate CONFIGRELOAD line is kept twice (never dedupe by content).
    let rows = sql(
        lake.path(),
        "SELECT COUNT(*) FROM queue_log WHERE ts = TIMESTAMP '2025-02-11T15:21:06Z' AND event = 'CONFIGRELOAD'",
        &[],
    );
    assert_eq!(rows[0][0], json!(2));

    // Issue #759: ATTENDEDTRANSFER APP|Queue|12|120|1 keeps its pipes.
    let rows = sql(
        lake.path(),
        "SELECT data1, data2, data5, data FROM queue_log WHERE event = 'ATTENDEDTRANSFER'",
        &[],
    );
    assert_eq!(
        rows,
        vec![vec![
            json!("APP"),
            json!("Queue"),
            json!("1"),
            json!("APP|Queue|12|120|1")
        ]]
    );

    // Membership periods carry the member name logged beside the interface,
    // which changes over time for SIP/1001 (Karthik, karthik, Sathish).
    let rows = sql(
        lake.path(),
        "SELECT DISTINCT member FROM agent_sessions WHERE interface = 'SIP/1001' ORDER BY member",
        &[],
    );
    assert_eq!(rows, vec![vec![json!("karthik")], vec![json!("sathish")]]);
}
