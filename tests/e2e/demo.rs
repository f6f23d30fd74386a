//! `queuelake demo`: one command, no flags needed, serves changing live
//! state, and stops cleanly on Ctrl-C (SIGINT).

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::{Reaped, bin, read_banner, request};

/// The first `count` events of `GET /api/v1/live/stream`: (name, data).
fn sse_events(port: u16, token: &str, count: usize) -> Vec<(String, String)> {
    use std::io::Write;
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    write!(
        stream,
        "GET /api/v1/live/stream HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {token}\r\nAccept: text/event-stream\r\n\r\n"
    )
    .unwrap();
    let mut reader = BufReader::new(stream);
    let mut events = Vec::new();
    let mut name = String::new();
    while events.len() < count {
        let mut line = String::new();
        assert!(reader.read_line(&mut line).unwrap() > 0, "stream ended");
        let line = line.trim_end();
        if let Some(n) = line.strip_prefix("event: ") {
            name = n.to_owned();
        } else if let Some(data) = line.strip_prefix("data: ") {
            events.push((name.clone(), data.to_owned()));
        }
    }
    events
}

#[test]
fn the_demo_serves_changing_live_state_and_stops_on_ctrl_c() {
    let _cores = crate::support::exclusive_cores();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("demo");
    let spawned = Instant::now();
    let mut child = Reaped(
        bin()
            .args(["demo", "--data", data.to_str().unwrap()])
            .args(["--listen", "127.0.0.1:0", "--pg-listen", "127.0.0.1:0"])
            .args(["--history-weeks", "1"])
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap(),
    );
    let mut stdout = BufReader::new(child.0.stdout.take().unwrap());
    let banner = read_banner(&mut stdout);
    let (port, printed) = (banner.port, banner.text);
    let token = banner.token.expect("the demo prints an admin token");
    let get = |path: &str| request(port, "GET", path, Some(&token), "");
    let listening = spawned.elapsed();
    assert!(printed.contains("/api/v1/live/queues"), "{printed}");
    // The dashboards, with the token in the address's fragment.
    assert!(
        printed.contains(&format!(
            "dashboards: http://127.0.0.1:{port}/#token={token}"
        )),
        "{printed}"
    );
    let (status, page) = request(port, "GET", "/", None, "");
    assert_eq!(status, 200);
    assert!(
        page.contains("<script type=\"module\" src=\"/ui/app.js\">"),
        "{page}"
    );
    // Auth is on: without the token, 401.
    assert_eq!(request(port, "GET", "/api/v1/live/queues", None, "").0, 401);

    // Live state that changes: two answers from a live AMI link whose
    // queues differ (callers come and go, agents ring, talk and pause).
    let started = Instant::now();
    let live_since = started;
    let mut first: Option<Value> = None;
    let changed = loop {
        let (status, body) = get("/api/v1/live/queues");
        assert_eq!(status, 200, "{body}");
        let v: Value = serde_json::from_str(&body).unwrap();
        if v["ami"]["state"] == "live" {
            let queues = v["queues"].clone();
            let names: Vec<&str> = queues
                .as_array()
                .unwrap()
                .iter()
                .map(|q| q["queue"].as_str().unwrap())
                .collect();
            assert_eq!(names, ["billing", "renewals", "sales", "support"]);
            match &first {
                None => first = Some(queues),
                Some(before) if *before != queues => break started.elapsed(),
                Some(_) => {}
            }
        }
        assert!(
            // Liveness, not speed: other tests (a JVM, Chromium, query
            // bombs) may hold both cores for seconds.
            started.elapsed() < Duration::from_secs(30),
            "no change in live state within 30 s of listening: {body}"
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    eprintln!("demo: listening after {listening:?}, live state changed {changed:?} later");

    // The demo forecast its history and staffed the forecast at start.
    let run_of = |kind: &str| -> String {
        let at = printed.find(&format!("/api/v1/{kind}/")).expect(kind);
        printed[at..].split_whitespace().next().unwrap().to_owned()
    };
    let (status, body) = get(&run_of("forecasts"));
    assert_eq!(status, 200, "{body}");
    let forecast: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(forecast["queues"].as_array().unwrap().len(), 4, "{body}");
    let (status, body) = get(&run_of("staffing"));
    assert_eq!(status, 200, "{body}");
    let staffing: Value = serde_json::from_str(&body).unwrap();
    let first = &staffing["queues"][0]["intervals"][0];
    assert!(first["agents_required"].as_i64().unwrap() >= 1, "{body}");

    // Today's totals come from the lake (the demo's history covers today's
    // morning when the clock starts at the wall clock or a weekday 10:00).
    let (_, body) = get("/api/v1/live/queues");
    let v: Value = serde_json::from_str(&body).unwrap();
    let offered: i64 = v["queues"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| q["today"]["offered"].as_i64().unwrap())
        .sum();
    assert!(offered > 0, "{body}");
    let (status, body) = get("/api/v1/live/campaigns");
    assert_eq!(status, 200);
    let v: Value = serde_json::from_str(&body).unwrap();
    assert!(v["campaigns"].is_array(), "{body}");

    // The stream: `queues` and `campaigns` events, again and again.
    let stream = sse_events(port, &token, 4);
    assert_eq!(
        stream.iter().map(|(e, _)| e.as_str()).collect::<Vec<_>>(),
        ["queues", "campaigns", "queues", "campaigns"]
    );
    let queues: Value = serde_json::from_str(&stream[2].1).unwrap();
    assert_eq!(queues["ami"]["state"], "live");

    // Its dialer places calls only as pacing says: the campaign is paced
    // from dials it placed, inside its limit. (The demo's clock runs 10×:
    // a few wall seconds are a few PBX minutes.)
    let started = Instant::now();
    let pacing = loop {
        let (status, body) = get("/api/v1/pacing/renewals");
        assert_eq!(status, 200, "{body}");
        let p: Value = serde_json::from_str(&body).unwrap();
        // The prior weighs 30 dials; more is a resolved dial of the
        // dialer's (how many depends on the floor's staffing at this hour).
        if p["inputs"]["dials"].as_f64().unwrap_or(0.0) > 30.5 {
            break p;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the demo's dialer placed no calls pacing could learn from: {p}"
        );
        std::thread::sleep(Duration::from_millis(500));
    };
    let window = &pacing["window"];
    assert!(
        window["abandon_rate"].as_f64().unwrap() <= window["target"].as_f64().unwrap(),
        "the demo's campaign is over its limit: {pacing}"
    );
    eprintln!("demo pacing after {:?}: {pacing}", started.elapsed());

    // Ten minutes of the demo's clock after going live (at its default
    // 5×), its pacing page in Chromium shows the campaign inside its limit.
    let ten_pbx_minutes = Duration::from_secs_f64(600.0 / 5.0);
    if let Some(left) = ten_pbx_minutes.checked_sub(live_since.elapsed()) {
        std::thread::sleep(left);
    }
    if let Some((folder, chromium)) = crate::dashboards::browser_tools() {
        let output = Command::new("node")
            .arg("pacing.mjs")
            .current_dir(&folder)
            .env("QL_URL", format!("http://127.0.0.1:{port}"))
            .env("QL_TOKEN", &token)
            .env("QL_CAMPAIGN", "renewals")
            .env("QL_SHOTS", crate::dashboards::screenshot_folder())
            .env("CHROMIUM", &chromium)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        eprintln!("{stdout}");
        assert!(
            output.status.success(),
            "the demo's pacing page failed in the browser:\n{stdout}\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }

    // Ctrl-C: everything stops, exit 0.
    let _ = Command::new("kill")
        .args(["-INT", &child.0.id().to_string()])
        .status();
    let status = child.0.wait().unwrap();
    assert!(status.success(), "{status:?}");
    assert!(data.join("lake").join("queue_log").join("_log").is_dir());
}
