//! `queuelake serve` with AMI (from its configuration file) against the
//! emulated Asterisk in the shape of a stock Asterisk (an originated
//! channel's `Newchannel` without the campaign variable, a `VarSet` after
//! it; members' `Wrapuptime` 0, the queue's wrap-up only in queues.conf):
//! every event is journaled and reaches the lake table `ami_events` (a
//! lost link as a `queuelake.gap` row), the live API follows the PBX, and
//! pacing holds whenever its floor cannot be trusted.

use std::time::Duration;

use serde_json::Value;

use crate::support::{EMULATED_LIVE_FROM as LIVE_FROM, Server, emulated_pbx, runtime};

const LIMIT: Duration = Duration::from_secs(30);

#[test]
fn ami_events_reach_the_lake_with_gap_rows_and_the_live_api_follows() {
    let _cores = crate::support::exclusive_cores();
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
            "version = 1\n[queue_log]\nfile = {:?}\n[ami]\naddress = {address:?}\nuser = \"ql\"\nsecret = \"pw\"\n\
             [pacing]\nrefresh_seconds = 1\nrecord_seconds = 1\nstale_seconds = 3\n\
             [[pacing.campaigns]]\nname = \"renewals\"\nqueue = \"renewals\"\nwrap_s = 15\n",
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
    // estimates of the journaled events, every decision recorded. The
    // campaign's dials are tagged only from their VarSet on: once the lake
    // holds resolved ones, the second refresh after has left the prior.
    let resolved = "SELECT CAST(COUNT(*) AS BIGINT) FROM ami_events j \
         WHERE j.event = 'QueueCallerJoin' AND j.uniqueid IN (SELECT uniqueid FROM ami_events \
           WHERE event = 'VarSet' AND fields['Variable'] = 'QL_CAMPAIGN' AND fields['Value'] = 'renewals')";
    let untagged_newchannel = server.sql(
        "SELECT COUNT(*) FROM ami_events n WHERE n.event = 'Newchannel' \
           AND n.uniqueid IN (SELECT uniqueid FROM ami_events WHERE event = 'VarSet' AND fields['Variable'] = 'QL_CAMPAIGN') \
           AND COALESCE(n.fields['ChanVariable'], '') LIKE '%QL_CAMPAIGN=renewals%'",
    );
    assert_eq!(
        untagged_newchannel[0][0], 0,
        "stock Asterisk: Newchannel carries no campaign"
    );
    let pacing_now = || {
        let (status, body) = server.get("/api/v1/pacing/renewals");
        assert_eq!(status, 200, "{body}");
        serde_json::from_str::<Value>(&body).unwrap()
    };
    server.wait_for(
        &format!("SELECT CAST(({resolved}) > 0 AS BIGINT)"),
        1,
        LIMIT,
    );
    let first = pacing_now()["inputs"]["estimates_at"].as_f64().unwrap();
    let started = std::time::Instant::now();
    let mut refreshes = vec![first];
    let pacing = loop {
        let v = pacing_now();
        let at = v["inputs"]["estimates_at"].as_f64().unwrap();
        if at != *refreshes.last().unwrap() {
            refreshes.push(at);
        }
        if refreshes.len() == 3 {
            break v;
        }
        assert!(
            started.elapsed() < LIMIT,
            "pacing estimates not refreshed: {v}"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    let prior_dials = 30.0;
    assert!(
        pacing["inputs"]["dials"].as_f64().unwrap() > prior_dials,
        "two refreshes after resolved dials, still on the prior: {pacing}"
    );
    assert_eq!(pacing["mode"], "predictive", "{pacing}");
    assert!(
        pacing["hold"].is_null(),
        "a live floor is not held: {pacing}"
    );
    assert_eq!(pacing["window"]["length"], "30d");
    let rate = pacing["inputs"]["live_answer_rate"].as_f64().unwrap();
    assert!(rate > 0.0 && rate != 0.2, "{pacing}");
    // The queue's wrap-up (15 s, from the campaign: no member event
    // carries it) keeps agents out of the free count after their calls.
    let started = std::time::Instant::now();
    loop {
        let (_, body) = server.get("/api/v1/live/queues");
        let live: Value = serde_json::from_str(&body).unwrap();
        let renewals = live["queues"]
            .as_array()
            .unwrap()
            .iter()
            .find(|q| q["queue"] == "renewals")
            .cloned()
            .unwrap_or_default();
        if renewals["agents"]["wrapup"].as_u64().unwrap_or(0) > 0 {
            break;
        }
        assert!(
            started.elapsed() < LIMIT,
            "no agent ever in wrap-up: {renewals}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let p = pacing_now();
    assert!(p["inputs"]["agents_wrapup"].as_u64().is_some(), "{p}");
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
    // The PBX silent (frozen, pings unanswered: a half-open link): stale
    // after 3 s, before the session gives the link up.
    let faults = emulator.ami_server().unwrap().faults();
    faults
        .ignore_pings
        .store(true, std::sync::atomic::Ordering::SeqCst);
    emulator.set_frozen(true);
    let silent = std::time::Instant::now();
    let mut seen = Vec::new();
    while silent.elapsed() < LIMIT {
        let p = pacing_now();
        let hold = p["hold"].as_str().unwrap_or("none").to_owned();
        if hold != "none" {
            assert_eq!(p["calls"], 0, "held, yet told to dial: {p}");
        }
        if seen.last() != Some(&hold) {
            eprintln!("{:?}: hold {hold}", silent.elapsed());
            seen.push(hold.clone());
        }
        if hold == "link_down" {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(seen.contains(&"stale".to_owned()), "never stale: {seen:?}");
    faults
        .ignore_pings
        .store(false, std::sync::atomic::Ordering::SeqCst);
    emulator.set_frozen(false);
    let back = std::time::Instant::now();
    while !pacing_now()["hold"].is_null() {
        assert!(
            back.elapsed() < LIMIT,
            "pacing never resumed after the silence"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
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
    // After the cut (and over the history, which AMI never saw): every
    // visit of the campaign's queue counts, as the queue_log has them.
    emulator.set_frozen(true);
    let from_queue_log = "SELECT CAST(COUNT(*) AS BIGINT), \
           CAST(SUM(CASE WHEN (event = 'ABANDON' AND TRY_CAST(data3 AS BIGINT) >= 2) \
                          OR (event = 'CONNECT' AND TRY_CAST(data1 AS BIGINT) > 2) THEN 1 ELSE 0 END) AS BIGINT) \
         FROM queue_log WHERE queue = 'renewals' AND event IN ('ENTERQUEUE', 'ABANDON', 'CONNECT')";
    let settled = std::time::Instant::now();
    let mut last = server.sql(from_queue_log);
    loop {
        std::thread::sleep(Duration::from_millis(1500));
        let now = server.sql(from_queue_log);
        if now == last {
            break;
        }
        assert!(settled.elapsed() < LIMIT, "the queue_log never settled");
        last = now;
    }
    let entered = server.sql(
        "SELECT CAST(COUNT(*) AS BIGINT) FROM queue_log WHERE queue = 'renewals' AND event = 'ENTERQUEUE'",
    );
    let view = server.sql(
        "SELECT CAST(SUM(live_answered) AS BIGINT), CAST(SUM(abandoned) AS BIGINT), MIN(status) \
         FROM campaign_abandon WHERE campaign = 'renewals'",
    );
    eprintln!(
        "campaign_abandon {view:?}; queue_log entered {entered:?}, late or abandoned {last:?}"
    );
    assert!(entered[0][0].as_i64().unwrap() > 0, "{entered:?}");
    assert_eq!(
        view[0][0], entered[0][0],
        "live answers = the queue_log's entries"
    );
    assert_eq!(
        view[0][1], last[0][1],
        "abandons = the queue_log's, by the 2-second rule"
    );

    assert!(server.terminate(), "serve exits 0 on SIGTERM");
    drop(emulator);
}

/// Adds the byte offset of every complete line of every journal file in
/// `folder` now to `seen`, by source identity.
fn remember(folder: &std::path::Path, seen: &mut Seen) {
    for entry in std::fs::read_dir(folder).into_iter().flatten().flatten() {
        let Ok(bytes) = std::fs::read(entry.path()) else {
            continue; // deleted by the tail meanwhile
        };
        let Some(first_end) = bytes.iter().position(|b| *b == b'\n') else {
            continue;
        };
        let id = queuelake_ingest::queue_log::identity::source_id(&bytes[..=first_end]);
        let offsets = seen.entry(id).or_default();
        let mut start = first_end + 1;
        while let Some(len) = bytes[start..].iter().position(|b| *b == b'\n') {
            offsets.insert(start as u64);
            start += len + 1;
        }
    }
}

/// Journal lines by source identity: their byte offsets.
type Seen = std::collections::BTreeMap<String, std::collections::BTreeSet<u64>>;

/// kill -9 at random instants (most long before the first timed commit)
/// while the AMI events stream in and the journal rotates by size: after a
/// clean final run, every journal line ever seen complete on disk is in
/// `ami_events` exactly once.
#[test]
fn kill_9_while_journaling_loses_and_repeats_no_journal_line() {
    let kills = crate::support::env_count("QUEUELAKE_JOURNAL_KILLS", 12);
    let _cores = crate::support::exclusive_cores();
    let mut rng = crate::support::Rng(crate::support::seed());
    let dir = tempfile::tempdir().unwrap();
    let rt = runtime();
    let emulator = emulated_pbx(&rt, dir.path(), 5, 1);
    let address = emulator.ami_address().unwrap().to_string();
    let lake = dir.path().join("lake");
    let journal = lake.join("journal");
    let config = dir.path().join("queuelake.toml");
    std::fs::write(
        &config,
        format!(
            "version = 1\n[queue_log]\nfile = {:?}\n[ami]\naddress = {address:?}\nuser = \"ql\"\nsecret = \"pw\"\njournal_rotate_kib = 64\n",
            dir.path().join("queue_log").display().to_string()
        ),
    )
    .unwrap();
    let mut seen = Seen::default();
    for _ in 0..kills {
        let server = Server::serve(&lake, &["--config", config.to_str().unwrap()]);
        std::thread::sleep(Duration::from_millis(300 + rng.below(1_700)));
        server.kill9();
        remember(&journal, &mut seen);
        std::thread::sleep(Duration::from_millis(rng.below(1_000)));
    }
    let server = Server::serve(&lake, &["--config", config.to_str().unwrap()]);
    std::thread::sleep(Duration::from_secs(2));
    assert!(server.terminate());
    remember(&journal, &mut seen);
    drop(emulator);
    let rows = crate::support::sql(
        &lake,
        "SELECT source, byte_offset FROM ami_events ORDER BY source, byte_offset",
        &[],
    );
    let mut stored: std::collections::BTreeMap<String, Vec<u64>> = Default::default();
    for r in &rows {
        stored
            .entry(r[0].as_str().unwrap().to_owned())
            .or_default()
            .push(r[1].as_u64().unwrap());
    }
    for (id, got) in &stored {
        let distinct: std::collections::BTreeSet<&u64> = got.iter().collect();
        assert_eq!(got.len(), distinct.len(), "{id}: a line stored twice");
    }
    let files = seen.len();
    assert!(
        files >= 2,
        "{files} journal file(s): the journal never rotated"
    );
    for (id, offsets) in &seen {
        let got: std::collections::BTreeSet<u64> =
            stored.get(id).into_iter().flatten().copied().collect();
        let missing: Vec<&u64> = offsets.difference(&got).collect();
        assert!(
            missing.is_empty(),
            "{id}: {} of {} lines lost (first at {:?})",
            missing.len(),
            offsets.len(),
            missing.first()
        );
    }
    eprintln!(
        "journal kill loop: {kills} kills, {files} files, {} lines, 0 lost, 0 repeated",
        seen.values().map(|s| s.len()).sum::<usize>()
    );
}
