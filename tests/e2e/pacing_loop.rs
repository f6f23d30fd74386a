//! The closed loop through `serve`: an emulated dialer polls `GET
//! /api/v1/pacing/{campaign}` with a dialer's token and places exactly the
//! calls it is told (AMI `Originate`) on an emulated PBX in a stock
//! Asterisk's shape, whose campaign dials only when told.

use std::time::Duration;

use queuelake_ingest::emulator::AmiCredentials;
use queuelake_ingest::emulator::dialer::{self, DialerConfig, SharedStats};
use serde_json::Value;

use crate::support::{Server, emulated_pbx_with, request, runtime, token_entries};

const LIMIT: Duration = Duration::from_secs(30);
/// Wall seconds of dialing (×10 on the PBX's clock).
const DIALING: Duration = Duration::from_secs(40);

#[test]
fn the_dialer_places_exactly_the_calls_pacing_tells_it() {
    let _cores = crate::support::exclusive_cores();
    let dir = tempfile::tempdir().unwrap();
    let rt = runtime();
    let emulator = emulated_pbx_with(&rt, dir.path(), 5, 1, |config| {
        config.external_dialing = true;
    });
    let ami = emulator.ami_address().unwrap();
    let token = |name: &str| format!("{name}-token-for-the-loop");
    let config = dir.path().join("queuelake.toml");
    std::fs::write(
        &config,
        format!(
            "version = 1\n[server]\nrequests_per_second = 0\n[queue_log]\nfile = {:?}\n\
             [ami]\naddress = {:?}\nuser = \"ql\"\nsecret = \"pw\"\n\
             [pacing]\nrefresh_seconds = 1\nrecord_seconds = 1\n\
             [[pacing.campaigns]]\nname = \"renewals\"\nqueue = \"renewals\"\nwrap_s = 15\n{}",
            dir.path().join("queue_log").display().to_string(),
            ami.to_string(),
            token_entries(token, &[("admin", "admin", ""), ("dialer", "dialer", "")]),
        ),
    )
    .unwrap();
    let lake = dir.path().join("lake");
    let mut server = Server::serve(
        &lake,
        &["--config", config.to_str().unwrap(), "--flush-seconds", "0"],
    );
    server.token = Some(token("admin"));
    // Live, the PBX places no call by itself.
    server.wait_for(
        "SELECT CAST(COUNT(*) > 0 AS BIGINT) FROM ami_events WHERE event = 'QueueParams'",
        1,
        LIMIT,
    );
    std::thread::sleep(Duration::from_secs(2));
    let dials = "SELECT CAST(COUNT(*) AS BIGINT) FROM ami_events \
                 WHERE event = 'VarSet' AND fields['Variable'] = 'QL_CAMPAIGN' AND fields['Value'] = 'renewals'";
    assert_eq!(server.sql(dials)[0][0], 0, "the PBX dialed by itself");

    let stats = SharedStats::default();
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let loop_config = DialerConfig {
        api: format!("127.0.0.1:{}", server.port).parse().unwrap(),
        token: token("dialer"),
        campaign: "renewals".into(),
        ami,
        credentials: AmiCredentials {
            username: "ql".into(),
            secret: "pw".into(),
        },
        // A second of the PBX's clock (10× the wall's).
        poll: Duration::from_millis(100),
        max_per_poll: 50,
        floor_untrusted: None,
    };
    let dialer = rt.spawn(dialer::run(loop_config, stats.clone(), stopped));
    std::thread::sleep(DIALING);
    stop.send(true).unwrap();
    rt.block_on(dialer).unwrap().unwrap();
    let stats = stats.lock().unwrap().clone();
    eprintln!("dialer: {stats:?}");
    assert!(stats.originated > 0 && stats.polls > 100, "{stats:?}");
    assert_eq!(
        stats.told_while_held, 0,
        "told to dial while held: {stats:?}"
    );
    assert_eq!(
        stats.originated, stats.told,
        "every call told was placed (none capped)"
    );

    // The PBX placed exactly the dialer's calls, each tagged the stock way
    // (Newchannel untagged, then VarSet).
    server.wait_for(
        &format!("SELECT CAST(({dials}) = {} AS BIGINT)", stats.originated),
        1,
        LIMIT,
    );
    // Every call told is on record in pacing_decisions.
    server.wait_for(
        &format!(
            "SELECT CAST(COALESCE(SUM(calls * served), 0) = {} AS BIGINT) FROM pacing_decisions \
             WHERE campaign = 'renewals' AND calls > 0",
            stats.told
        ),
        1,
        LIMIT,
    );
    // Its estimates left the prior (30 dials' worth) on the tagged dials.
    let (status, body) = request(
        server.port,
        "GET",
        "/api/v1/pacing",
        Some(&token("admin")),
        "",
    );
    assert_eq!(status, 200, "{body}");
    let all: Value = serde_json::from_str(&body).unwrap();
    let renewals = all
        .as_array()
        .and_then(|a| a.iter().find(|p| p["campaign"] == "renewals"))
        .cloned()
        .unwrap_or_else(|| panic!("no renewals in {all}"));
    let dials_behind = renewals["inputs"]["dials"].as_f64().unwrap();
    assert!(dials_behind > 30.0 + 10.0, "{renewals}");
    let window = server.sql(
        "SELECT SUM(live_answered), SUM(abandoned) FROM campaign_abandon WHERE campaign = 'renewals' \
         AND day = (SELECT MAX(day) FROM campaign_abandon)",
    );
    eprintln!("today's renewals: live answered, abandoned = {window:?}; {renewals}");
    assert!(server.terminate(), "serve exits 0 on SIGTERM");
    drop(emulator);
}
