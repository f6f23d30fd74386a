//! Forecast and staffing runs over the API: a planner makes them, viewers
//! read them (scoped tokens their queues only), special days shape them,
//! and their accuracy follows the calls that come in afterwards.

use std::io::Write;
use std::time::Duration;

use serde_json::Value;

use crate::support::{Server, ingest, json_call, office_log, token_entries};

fn token_of(name: &str) -> String {
    format!("ql_plan_{name}")
}

fn config(path: &std::path::Path) {
    let mut text = String::from(
        "version = 1\n[server]\nrequests_per_second = 0\n[forecast]\nevery_hours = 0\n\
         [[forecast.special_days]]\ndate = \"2024-03-26\"\nname = \"spring promo\"\nvolume_factor = 1.5\nqueues = [\"sales\"]\n\
         [[forecast.special_days]]\ndate = \"2024-03-27\"\nname = \"closed for moving\"\n",
    );
    text.push_str(&token_entries(
        token_of,
        &[
            ("planner", "planner", ""),
            ("viewer", "viewer", ""),
            ("admin", "admin", ""),
            ("sales-viewer", "viewer", "queues = [\"sales\"]\n"),
            ("support-viewer", "viewer", "queues = [\"support\"]\n"),
        ],
    ));
    std::fs::write(path, text).unwrap();
}

fn call(port: u16, method: &str, path: &str, who: &str, body: &str) -> (u16, Value) {
    json_call(port, method, path, &token_of(who), body)
}

#[test]
fn planners_make_runs_viewers_read_them_and_accuracy_follows_the_calls() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("queue_log");
    std::fs::write(&log, office_log(0..21, 0..32, true)).unwrap();
    let lake = dir.path().join("lake");
    ingest(&lake, &[&log]);
    let toml = dir.path().join("queuelake.toml");
    config(&toml);
    let server = Server::start(&lake, &log, &["--config", toml.to_str().unwrap()]);
    let port = server.port;

    // A planner forecasts a week.
    let (status, created) = call(
        port,
        "POST",
        "/api/v1/forecasts",
        "planner",
        r#"{"horizon":"1w"}"#,
    );
    assert_eq!(status, 201, "{created}");
    let run = created["run_id"].as_str().unwrap().to_owned();
    assert_eq!(created["origin"], "2024-03-22T16:45:00Z");
    assert_eq!(created["links"]["self"], format!("/api/v1/forecasts/{run}"));
    let names: Vec<&str> = created["queues"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| q["queue"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["sales", "support"]);

    // A viewer reads it: the promo day is 1.5 × 6 = 9 calls an interval
    // in sales, the closed day has no intervals at all.
    let (status, doc) = call(
        port,
        "GET",
        &format!("/api/v1/forecasts/{run}"),
        "viewer",
        "",
    );
    assert_eq!(status, 200, "{doc}");
    let sales = doc["queues"][0]["intervals"].as_array().unwrap();
    assert_eq!(sales.len(), 1 + 128 + 31 - 32, "{doc}");
    let at = |day: &str| {
        sales
            .iter()
            .find(|i| i["interval_start"] == format!("2024-03-{day}T09:00:00Z"))
            .cloned()
    };
    assert_eq!(at("25").unwrap()["volume"].as_f64(), Some(6.0));
    let promo = at("26").unwrap();
    assert_eq!(promo["volume"].as_f64(), Some(9.0), "{promo}");
    assert_eq!(promo["special_day"], "spring promo");
    assert!(at("27").is_none());
    let support = doc["queues"][1]["intervals"].as_array().unwrap();
    assert_eq!(support[1]["volume"].as_f64(), Some(3.0));
    // A token scoped to sales sees sales only.
    let (status, scoped) = call(
        port,
        "GET",
        &format!("/api/v1/forecasts/{run}"),
        "sales-viewer",
        "",
    );
    assert_eq!(status, 200);
    assert_eq!(scoped["queues"].as_array().unwrap().len(), 1, "{scoped}");

    // Staffing the run, as a planner, with Erlang C and the office's rule.
    let body = format!(
        r#"{{"forecast_run":"{run}","method":"erlang-c","target":"80/20","shrinkage":0.3,"max_occupancy":0.85}}"#
    );
    let (status, staffed) = call(port, "POST", "/api/v1/staffing", "planner", &body);
    assert_eq!(status, 201, "{staffed}");
    let staffing = staffed["run_id"].as_str().unwrap().to_owned();
    let (status, doc) = call(
        port,
        "GET",
        &format!("/api/v1/staffing/{staffing}"),
        "viewer",
        "",
    );
    assert_eq!(status, 200, "{doc}");
    assert_eq!(doc["forecast_run"], run.as_str());
    let first = &doc["queues"][0]["intervals"][1];
    assert_eq!(first["interval_start"], "2024-03-25T09:00:00Z");
    // 0.8 erlang at 80/20: 2 agents, 3 with 30 % shrinkage (worked out in
    // the forecast test).
    assert_eq!(first["agents_required"].as_i64(), Some(2), "{doc}");
    assert_eq!(first["agents_with_shrinkage"].as_i64(), Some(3));
    assert_eq!(doc["queues"][0]["method"], "erlang_c");

    // Wrong requests name the field.
    for (path, body, field) in [
        ("/api/v1/forecasts", r#"{"horizon":"3x"}"#, "horizon"),
        ("/api/v1/forecasts", r#"{"queues":["billing"]}"#, "queues"),
        (
            "/api/v1/staffing",
            &format!(r#"{{"forecast_run":"{run}","target":"most"}}"#) as &str,
            "target",
        ),
        (
            "/api/v1/staffing",
            &format!(r#"{{"forecast_run":"{run}","shrinkage":1.5}}"#) as &str,
            "shrinkage",
        ),
        (
            "/api/v1/staffing",
            &format!(r#"{{"forecast_run":"{run}","target":"100/20"}}"#) as &str,
            "target",
        ),
        // A multi-byte last character (JSON's \u0084) is refused, not split.
        ("/api/v1/forecasts", r#"{"horizon":"2\u0084"}"#, "horizon"),
    ] {
        let (status, problem) = call(port, "POST", path, "planner", body);
        assert_eq!(status, 422, "{body}: {problem}");
        assert_eq!(problem["field"], field, "{problem}");
    }

    // Monday's first two hours come in as forecast (6 and 3 calls an
    // interval); once the tail has them, the run's accuracy compares the
    // completed intervals: Friday 16:45 and Monday 09:00–10:30.
    let mut file = std::fs::OpenOptions::new().append(true).open(&log).unwrap();
    file.write_all(office_log(21..22, 0..8, false).as_bytes())
        .unwrap();
    drop(file);
    let mut accuracy = Value::Null;
    for _ in 0..100 {
        let (status, doc) = call(
            port,
            "GET",
            &format!("/api/v1/forecasts/{run}/accuracy"),
            "viewer",
            "",
        );
        assert_eq!(status, 200, "{doc}");
        if doc["queues"][0]["intervals_compared"] == 8 {
            accuracy = doc;
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let sales = &accuracy["queues"][0];
    assert_eq!(sales["queue"], "sales", "{accuracy}");
    assert_eq!(sales["wape"].as_f64(), Some(0.0), "{accuracy}");
    assert_eq!(sales["bias"].as_f64(), Some(0.0));
    assert_eq!(sales["interval_coverage"].as_f64(), Some(1.0));
    assert_eq!(accuracy["queues"][1]["intervals_compared"], 8);

    // Analysts put plans beside actuals in SQL.
    let (status, answer) = call(
        port,
        "POST",
        "/api/v1/sql",
        "admin",
        &format!(
            r#"{{"sql":"SELECT f.queue, SUM(f.volume), SUM(s.offered) FROM forecasts f JOIN interval_stats s ON s.queue = f.queue AND s.interval_start = f.interval_start WHERE f.run_id = '{run}' AND f.interval_start < TIMESTAMP '2024-03-25T10:45:00Z' GROUP BY f.queue ORDER BY f.queue"}}"#
        ),
    );
    assert_eq!(status, 200, "{answer}");
    assert_eq!(
        answer["rows"],
        serde_json::json!([["sales", 48.0, 48], ["support", 24.0, 24]]),
        "{answer}"
    );

    schedule_the_staffing_run(port, &staffing);
}

/// The scheduling workflow on the staffing run: a draft for sales in the
/// week of Monday 2024-03-25, an edit, two published versions.
fn schedule_the_staffing_run(port: u16, staffing: &str) {
    let agents: Vec<String> = ["Ana", "Ben", "Cleo", "Dev"]
        .iter()
        .map(|n| format!(r#"{{"name":"{n}","max_hours":40}}"#))
        .collect();
    let body = format!(
        r#"{{"staffing_run":"{staffing}","week":"2024-03-25","queues":["sales"],"inputs":{{"patterns":[{{"name":"day","earliest_start":"09:00","latest_start":"09:00","start_every_min":30,"length_min":480}}],"days_off":"any","agents":[{}]}}}}"#,
        agents.join(",")
    );
    // What the planner sends.
    let post = |path: &str, body: &str| call(port, "POST", path, "planner", body);
    let (status, draft) = post("/api/v1/schedules", &body);
    assert_eq!(status, 201, "{draft}");
    let id = draft["id"].as_str().unwrap().to_owned();
    // Every required agent-interval is covered (a shortfall weighs 3, a
    // surplus 1) and every shift has an agent.
    assert_eq!(
        draft["totals"]["short_agent_hours"].as_f64(),
        Some(0.0),
        "{draft}"
    );
    let shifts = draft["shifts"].as_array().unwrap();
    assert!(shifts.iter().all(|s| s["agent"].is_string()), "{draft}");
    // Monday needs 2 agents 09:00–17:00: two 8-hour shifts.
    let monday: Vec<&Value> = shifts
        .iter()
        .filter(|s| s["start"] == "2024-03-25T09:00:00Z")
        .collect();
    assert_eq!(monday.len(), 2, "{draft}");
    assert!(monday.iter().all(|s| s["end"] == "2024-03-25T17:00:00Z"));
    // Wednesday is closed: nobody works it.
    assert!(
        !shifts
            .iter()
            .any(|s| s["start"].as_str().unwrap().starts_with("2024-03-27"))
    );

    // Removing a Monday shift shows the hole at once: 8 agent-hours short.
    let no = monday[0]["no"].as_i64().unwrap();
    let edit = format!(r#"{{"edits":[{{"op":"remove_shift","shift":{no}}}]}}"#);
    let (status, edited) = post(&format!("/api/v1/schedules/{id}/edits"), &edit);
    assert_eq!(status, 200, "{edited}");
    assert_eq!(
        edited["totals"]["short_agent_hours"].as_f64(),
        Some(8.0),
        "{edited}"
    );
    let bad = r#"{"edits":[{"op":"move_shift","shift":9999,"day":0,"start":"10:00"}]}"#;
    let (status, problem) = post(&format!("/api/v1/schedules/{id}/edits"), bad);
    assert_eq!(status, 422, "{problem}");
    assert_eq!(problem["field"], "edits[0].shift");
    // Viewers read it; a token scoped to another queue does not see it.
    assert_eq!(
        call(
            port,
            "GET",
            &format!("/api/v1/schedules/{id}"),
            "sales-viewer",
            ""
        )
        .0,
        200
    );
    assert_eq!(
        call(
            port,
            "GET",
            &format!("/api/v1/schedules/{id}"),
            "support-viewer",
            ""
        )
        .0,
        404
    );
    assert_eq!(
        call(
            port,
            "POST",
            &format!("/api/v1/schedules/{id}/publish"),
            "viewer",
            ""
        )
        .0,
        403
    );

    // Version 1 as edited; then the shift comes back and version 2 is
    // published. Version 1 stays as it was.
    let (status, published) = post(&format!("/api/v1/schedules/{id}/publish"), "");
    assert_eq!(status, 201, "{published}");
    assert_eq!(published["version"], 1);
    let sql = |query: &str| {
        let (status, answer) = call(
            port,
            "POST",
            "/api/v1/sql",
            "admin",
            &serde_json::json!({ "sql": query }).to_string(),
        );
        assert_eq!(status, 200, "{answer}");
        answer["rows"].clone()
    };
    let shift_counts = format!(
        "SELECT version, COUNT(*) FROM schedule_shifts WHERE schedule_id = '{id}' AND activity = 'shift' GROUP BY version ORDER BY version"
    );
    let before = sql(&shift_counts);
    let total = shifts.len() as u64;
    assert_eq!(before, serde_json::json!([[1, total - 1]]));
    // A Monday shift for the agent who still works Monday breaks the
    // one-shift-a-day rule: the draft is not published.
    let kept = monday[1]["agent"].as_str().unwrap();
    let add = |agent: &str| {
        format!(
            r#"{{"edits":[{{"op":"add_shift","day":0,"start":"09:00","length_min":480,"agent":"{agent}"}}]}}"#
        )
    };
    let (status, with_added) = post(&format!("/api/v1/schedules/{id}/edits"), &add(kept));
    assert_eq!(status, 200, "{with_added}");
    let (status, problem) = post(&format!("/api/v1/schedules/{id}/publish"), "");
    assert_eq!(status, 422, "{problem}");
    assert_eq!(problem["field"], "shifts", "{problem}");
    // Given to the agent whose shift was removed, it publishes.
    let added = with_added["shifts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["pattern"] == "added")
        .unwrap()["no"]
        .as_i64()
        .unwrap();
    let (status, undone) = post(
        &format!("/api/v1/schedules/{id}/edits"),
        &format!(
            r#"{{"edits":[{{"op":"assign","shift":{added},"agent":{}}}]}}"#,
            serde_json::json!(monday[0]["agent"])
        ),
    );
    assert_eq!(status, 200, "{undone}");
    let (status, published) = post(&format!("/api/v1/schedules/{id}/publish"), "");
    assert_eq!(status, 201, "{published}");
    assert_eq!(published["version"], 2);
    assert_eq!(
        sql(&shift_counts),
        serde_json::json!([[1, total - 1], [2, total]])
    );
    assert_eq!(
        sql(&format!(
            "SELECT version, short_agent_hours, published_by FROM schedules WHERE schedule_id = '{id}' ORDER BY version"
        )),
        serde_json::json!([[1, 8.0, "planner"], [2, 0.0, "planner"]])
    );
    assert_eq!(
        sql(&format!(
            "SELECT version, required, scheduled FROM schedule_coverage WHERE schedule_id = '{id}' AND interval_start = TIMESTAMP '2024-03-25T09:00:00Z' ORDER BY version"
        )),
        serde_json::json!([[1, 2.0, 1.0], [2, 2.0, 2.0]])
    );
}
