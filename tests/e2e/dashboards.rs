//! The dashboards in a real browser: `serve` follows the emulated Asterisk
//! (two weeks of history in the lake, then a live floor over AMI), a
//! planner's forecast and staffing runs exist, and
//! `tests/browser/dashboards.mjs` drives Debian's Chromium with
//! playwright-core through every page as viewer, planner, manager and
//! analyst, comparing what each page shows with the API and writing
//! screenshots to `<target>/dashboards/`.
//!
//! Needs `node`, `/usr/bin/chromium` and `tests/browser/node_modules`
//! (`.ci/run` installs all three); without them the browser part fails
//! under `CI=true` and is skipped otherwise.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::support::{Server, emulated_pbx, ingest, json_call, request, runtime, token_entries};

/// A day of the history (the emulated floor goes live the next morning).
const PAST_DAY: &str = "2024-03-05";
const ROLES: [&str; 5] = ["admin", "viewer", "planner", "analyst", "manager"];

fn token_of(name: &str) -> String {
    format!("ql_dash_{name}")
}

fn call(port: u16, method: &str, path: &str, who: &str, body: &str) -> (u16, Value) {
    json_call(port, method, path, &token_of(who), body)
}

/// Where screenshots go: `<target>/dashboards/` (the target folder is the
/// one holding this test binary, `<target>/debug/deps/`).
pub(crate) fn screenshot_folder() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let target = exe.ancestors().nth(3).unwrap().to_path_buf();
    target.join("dashboards")
}

/// `node`, Chromium and playwright-core, if all are here.
pub(crate) fn browser_tools() -> Option<(PathBuf, PathBuf)> {
    let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/browser");
    let chromium = PathBuf::from(
        std::env::var("QUEUELAKE_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into()),
    );
    let node = Command::new("node").arg("--version").output().is_ok();
    let playwright = folder.join("node_modules/playwright-core").is_dir();
    if node && playwright && chromium.is_file() {
        return Some((folder, chromium));
    }
    let missing = format!(
        "the browser test needs node ({node}), {} ({}) and tests/browser/node_modules ({playwright}); .ci/run installs them",
        chromium.display(),
        chromium.is_file()
    );
    assert!(std::env::var("CI").as_deref() != Ok("true"), "{missing}");
    eprintln!("skipped: {missing}");
    None
}

/// Width and height of a PNG file.
fn png_size(path: &Path) -> (u32, u32) {
    let bytes = std::fs::read(path).unwrap();
    assert_eq!(&bytes[1..4], b"PNG", "{}", path.display());
    let word = |at: usize| u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap());
    (word(16), word(20))
}

#[test]
fn every_dashboard_page_shows_the_api_numbers_in_chromium() {
    let dir = tempfile::tempdir().unwrap();
    let rt = runtime();
    let emulator = emulated_pbx(&rt, dir.path(), 5, 14);
    let lake = dir.path().join("lake");
    let history = emulator.rotated_files();
    let history: Vec<&Path> = history.iter().map(PathBuf::as_path).collect();
    ingest(&lake, &history);
    let config = dir.path().join("queuelake.toml");
    let mut text = format!(
        "version = 1\n[queue_log]\nfile = {:?}\n[ami]\naddress = {:?}\nuser = \"ql\"\nsecret = \"pw\"\n\
         [forecast]\nevery_hours = 0\n[pacing]\nrefresh_seconds = 1\nrecord_seconds = 1\n",
        emulator.queue_log().display().to_string(),
        emulator.ami_address().unwrap().to_string()
    );
    let mut entries: Vec<(&str, &str, &str)> = ROLES.iter().map(|r| (*r, *r, "")).collect();
    entries.push(("sales-viewer", "viewer", "queues = [\"sales\"]\n"));
    text.push_str(&token_entries(token_of, &entries));
    std::fs::write(&config, text).unwrap();
    let server = Server::serve(&lake, &["--config", config.to_str().unwrap()]);
    let port = server.port;

    // The page and its files are open (they hold no data), with a policy
    // that keeps them to this server; unknown files are problem documents.
    let (status, page) = request(port, "GET", "/", None, "");
    assert_eq!(status, 200);
    assert!(page.contains("/ui/app.js"), "{page}");
    let (status, head, _) = crate::support::raw_request(
        port,
        "GET /ui/app.js HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(status, 200);
    let head = head.to_ascii_lowercase();
    assert!(head.contains("content-type: text/javascript"), "{head}");
    assert!(
        head.contains("content-security-policy: default-src 'self'"),
        "{head}"
    );
    let (status, body) = request(port, "GET", "/ui/nosuch.js", None, "");
    assert_eq!(status, 404, "{body}");
    assert!(body.contains("nosuch.js"), "{body}");

    // The planner's runs the forecast and schedule pages show.
    let (status, forecast) = call(
        port,
        "POST",
        "/api/v1/forecasts",
        "planner",
        r#"{"horizon":"2w"}"#,
    );
    assert_eq!(status, 201, "{forecast}");
    let run = forecast["run_id"].as_str().unwrap();
    let (status, staffing) = call(
        port,
        "POST",
        "/api/v1/staffing",
        "planner",
        &format!(r#"{{"forecast_run":"{run}"}}"#),
    );
    assert_eq!(status, 201, "{staffing}");
    // The read-only lists the pages pick from.
    let (status, runs) = call(port, "GET", "/api/v1/forecasts", "viewer", "");
    assert_eq!(status, 200, "{runs}");
    assert_eq!(runs[0]["run_id"], forecast["run_id"], "{runs}");
    assert_eq!(runs[0]["queues"].as_array().unwrap().len(), 4, "{runs}");
    let (_, runs) = call(port, "GET", "/api/v1/staffing", "viewer", "");
    assert_eq!(runs[0]["run_id"], staffing["run_id"], "{runs}");
    assert_eq!(runs[0]["forecast_run"], forecast["run_id"], "{runs}");
    let (status, day) = call(
        port,
        "GET",
        &format!("/api/v1/intervals?day={PAST_DAY}&queue=sales"),
        "viewer",
        "",
    );
    assert_eq!(status, 200, "{day}");
    let intervals = day["intervals"].as_array().unwrap();
    let (_, same) = call(
        port,
        "POST",
        "/api/v1/sql",
        "analyst",
        &format!(
            r#"{{"sql":"SELECT COUNT(*), SUM(offered) FROM interval_stats WHERE queue = 'sales' AND interval_start >= TIMESTAMP '{PAST_DAY}T00:00:00Z' AND interval_start < TIMESTAMP '{PAST_DAY}T00:00:00Z' + INTERVAL '1 day'"}}"#
        ),
    );
    let offered: i64 = intervals
        .iter()
        .map(|r| r["offered"].as_i64().unwrap())
        .sum();
    assert_eq!(same["rows"][0][0], intervals.len(), "{same}");
    assert_eq!(same["rows"][0][1], offered, "{same}");
    let (status, bad) = call(
        port,
        "GET",
        "/api/v1/intervals?day=2024-02-30",
        "viewer",
        "",
    );
    assert_eq!(status, 422, "{bad}");
    assert_eq!(bad["field"], "day", "{bad}");

    let Some((folder, chromium)) = browser_tools() else {
        return;
    };
    let shots = screenshot_folder();
    let tokens: serde_json::Map<String, Value> = ROLES
        .iter()
        .chain(&["sales-viewer"])
        .map(|r| (r.to_string(), Value::String(token_of(r))))
        .collect();
    let output = Command::new("node")
        .arg("dashboards.mjs")
        .current_dir(&folder)
        .env("QL_URL", format!("http://127.0.0.1:{port}"))
        .env("QL_TOKENS", Value::Object(tokens).to_string())
        .env("QL_DAY", PAST_DAY)
        .env("QL_SHOTS", &shots)
        .env("CHROMIUM", &chromium)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    eprintln!("{stdout}");
    assert!(
        output.status.success(),
        "the browser run failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    for page in [
        "wallboard",
        "intervals",
        "forecast",
        "staffing",
        "pacing",
        "reports",
        "sql",
    ] {
        assert_eq!(png_size(&shots.join(format!("{page}.png"))), (1280, 800));
        let (width, height) = png_size(&shots.join(format!("{page}-full.png")));
        assert!(width == 1280 && height >= 800, "{page}: {width}×{height}");
    }
    assert_eq!(png_size(&shots.join("wallboard-phone.png")), (390, 844));
    drop(server);
    drop(emulator);
}
