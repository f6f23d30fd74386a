//! `queuelake serve` with AMI (from its configuration file) against the
//! emulated Asterisk: every event is
//! journaled and reaches the lake table `ami_events` (a lost link as a
//! `queuelake.gap` row), and the live API follows the PBX.

use std::time::Duration;

use serde_json::Value;

use crate::support::{EMULATED_LIVE_FROM as LIVE_FROM, Server, emulated_pbx, runtime};

const LIMIT: Duration = Duration::from_secs(30);

#[test]
fn ami_events_reach_the_lake_with_gap_rows_and_the_live_api_follows() {
    let dir = tempfile::tempdir().unwrap();
    let rt = runtime();
    let mut emulator = emulated_pbx(&rt, dir.path(), 3, 1);
    let address = emulator.ami_address().unwrap().to_string();
    let lake = dir.path().join("lake");
    // The sources from the configuration file (MD5 login by default).
    let config = dir.path().join("queuelake.toml");
    std::fs::write(
        &config,
        format!(
            "version = 1\n[queue_log]\nfile = {:?}\n[ami]\naddress = {address:?}\nuser = \"ql\"\nsecret = \"pw\"\n[pacing]\nrefresh_seconds = 1\nrecord_seconds = 1\n",
            dir.path().join("queue_log").display().to_string()
        ),
    )
    .unwrap();
    let server = Server::serve(
        &lake,
        &["--config", config.to_str().unwrap(), "--flush-seconds", "0"],
    );
    let count = |event: &str| format!("SELECT COUNT(*) FROM ami_events WHERE event = '{event}'");
    // The first resync lists the four queues.
    server.wait_for(&count("QueueParams"), 4, LIMIT);
    let (status, body) = server.get("/api/v1/live/queues");
    assert_eq!(status, 200, "{body}");
    let live: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(live["ami"]["state"], "live", "{body}");
    assert_eq!(live["queues"].as_array().unwrap().len(), 4, "{body}");

    // A cut: one gap row, then a second resync.
    rt.block_on(async { emulator.ami_server().unwrap().cut_mid_frame() });
    server.wait_for(&count("queuelake.gap"), 1, LIMIT);
    server.wait_for(&count("QueueParams"), 8, LIMIT);
    let gap = server.sql(
        "SELECT fields['Reason'], fields['Server'], queue FROM ami_events WHERE event = 'queuelake.gap'",
    );
    assert_eq!(gap[0][0], "closed by the server");
    assert_eq!(gap[0][1], Value::String(address.clone()));
    assert_eq!(gap[0][2], Value::Null);

    // Events carry the PBX's own clock and their keys as columns.
    let started = std::time::Instant::now();
    while server.sql(&count("QueueCallerJoin"))[0][0].as_i64() == Some(0) {
        assert!(started.elapsed() < LIMIT, "no caller joined");
        std::thread::sleep(Duration::from_millis(100));
    }
    let rows = server.sql(
        "SELECT COUNT(*), \
           SUM(CASE WHEN queue = fields['Queue'] THEN 1 ELSE 0 END), \
           SUM(CASE WHEN uniqueid IS NOT NULL THEN 1 ELSE 0 END), \
           CAST(MIN(date_part('epoch', ts)) AS BIGINT) \
         FROM ami_events WHERE event = 'QueueCallerJoin'",
    );
    let joins = rows[0][0].as_i64().unwrap();
    assert!(joins > 0, "{rows:?}");
    assert_eq!(
        rows[0][1].as_i64(),
        Some(joins),
        "queue column = fields['Queue']"
    );
    assert_eq!(
        rows[0][2].as_i64(),
        Some(joins),
        "every join has its uniqueid"
    );
    assert!(rows[0][3].as_i64().unwrap() >= LIVE_FROM / 1000, "{rows:?}");
    let members = server
        .sql("SELECT COUNT(*) FROM ami_events WHERE event = 'QueueMember' AND member IS NOT NULL");
    assert!(members[0][0].as_i64().unwrap() > 0);

    // Pacing for the demo's campaign: the live floor of its queue, the
    // estimates of the journaled events, every decision recorded.
    let started = std::time::Instant::now();
    let pacing = loop {
        let (status, body) = server.get("/api/v1/pacing/renewals");
        if status == 200 {
            let v: Value = serde_json::from_str(&body).unwrap();
            // Estimated from dials seen (the prior alone weighs 30 dials:
            // standard error 0.073), on the PBX's clock, which here is
            // years behind the wall clock.
            if v["inputs"]["live_answer_se"].as_f64().unwrap_or(1.0) < 0.07 {
                break v;
            }
        }
        assert!(
            started.elapsed() < LIMIT,
            "no pacing estimates: {status} {body}"
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_eq!(pacing["mode"], "predictive", "{pacing}");
    assert!(
        pacing["hold"].is_null(),
        "a live floor is not held: {pacing}"
    );
    assert_eq!(pacing["window"]["length"], "30d");
    let rate = pacing["inputs"]["live_answer_rate"].as_f64().unwrap();
    assert!(rate > 0.0 && rate != 0.2, "{pacing}");
    // Answers come with the dialplan's AMDSTATUS; the machine share is
    // estimated from them (a quarter in the long run; few answers yet).
    let machines = pacing["inputs"]["machine_rate"].as_f64();
    assert!(
        machines.is_some_and(|m| (0.0..1.0).contains(&m)),
        "{pacing}"
    );
    let amd = server.sql(
        "SELECT COUNT(*) FROM ami_events WHERE event = 'VarSet' AND fields['Variable'] = 'AMDSTATUS'",
    );
    assert!(amd[0][0].as_i64().unwrap() > 0, "{amd:?}");
    // The PBX's 2024 clock, not the wall clock's.
    let at = pacing["inputs"]["estimates_at"].as_f64().unwrap();
    assert!(
        (LIVE_FROM as f64 / 1000.0..1.75e9).contains(&at),
        "{pacing}"
    );
    // The PBX down for 4 s: the dialer is told 0 calls, with the reason,
    // within a second of the link dropping and until the resync is done.
    let down = std::time::Instant::now();
    let restart = rt.spawn(async move {
        emulator
            .ami_server()
            .unwrap()
            .restart(Duration::from_secs(4))
            .await
            .unwrap();
        emulator
    });
    let held_after = loop {
        let (_, body) = server.get("/api/v1/pacing/renewals");
        let p: Value = serde_json::from_str(&body).unwrap();
        if p["hold"] == "link_down" {
            assert_eq!(p["calls"], 0, "{p}");
            break down.elapsed();
        }
        assert!(down.elapsed() < Duration::from_secs(3), "not held: {p}");
        std::thread::sleep(Duration::from_millis(50));
    };
    eprintln!("pacing held {held_after:?} after the PBX went down");
    assert!(held_after < Duration::from_secs(1), "{held_after:?}");
    let mut resumed = None;
    while down.elapsed() < LIMIT {
        let (_, body) = server.get("/api/v1/pacing/renewals");
        let p: Value = serde_json::from_str(&body).unwrap();
        match p["hold"].as_str() {
            None => {
                resumed = Some(down.elapsed());
                break;
            }
            Some(reason) => {
                assert!(["link_down", "resyncing"].contains(&reason), "{p}");
                assert_eq!(p["calls"], 0, "held, yet told to dial: {p}");
            }
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let resumed = resumed.expect("pacing never resumed after the PBX came back");
    eprintln!("pacing resumed {resumed:?} after the PBX went down (down for 4 s)");
    assert!(
        resumed >= Duration::from_secs(4),
        "resumed while the PBX was down"
    );
    let emulator = rt.block_on(restart).unwrap();
    let (status, body) = server.get("/api/v1/pacing/nosuch");
    assert_eq!(status, 404, "{body}");
    assert!(body.contains("no campaign \\\"nosuch\\\""), "{body}");
    server.wait_for("SELECT CAST(COALESCE(SUM(served), 0) > 0 AS BIGINT) FROM pacing_decisions WHERE campaign = 'renewals'", 1, LIMIT);
    let abandon = server.sql("SELECT campaign, live_answered >= abandoned FROM campaign_abandon");
    assert!(
        abandon.iter().any(|r| r[0] == "renewals" && r[1] == true),
        "{abandon:?}"
    );

    assert!(server.terminate(), "serve exits 0 on SIGTERM");
    drop(emulator);
}
