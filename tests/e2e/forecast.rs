//! `queuelake forecast`: from a `timestamp,count` CSV and from the lake.

use serde_json::Value;

use crate::support::{ingest, office_log, ok, run, shared, sql};

/// Five weeks of a shop open 09:00–12:00 on weekdays, hourly; week `w`
/// has `10·(hour − 8) + w` calls in each open hour.
fn shop_csv() -> String {
    let monday = 1_709_510_400; // 2024-03-04 00:00 UTC
    let mut csv = String::from("timestamp,count\n");
    for w in 0..5i64 {
        for day in 0..5i64 {
            for hour in 9..12i64 {
                let t = monday + w * 7 * 86_400 + day * 86_400 + hour * 3_600;
                csv.push_str(&format!("{t},{}\n", 10 * (hour - 8) + w));
            }
        }
    }
    csv
}

#[test]
fn forecasts_from_a_csv_skip_closed_hours_and_average_the_last_four_weeks() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("calls.csv");
    std::fs::write(&path, shop_csv()).unwrap();
    let file = path.to_str().unwrap();
    let week_ahead = |format: &str| {
        ok(&[
            "forecast",
            "--from-csv",
            file,
            "--horizon",
            "1w",
            "--format",
            format,
        ])
    };
    let out = week_ahead("csv");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "interval_start,volume,volume_lo,volume_hi");
    // 5 days × 3 open hours; nights and the weekend stay closed.
    assert_eq!(lines.len(), 1 + 15, "{out}");
    // Calls grow by one a week, so last week's value wins the backtest
    // over the four-week mean: Monday 2024-04-08 09:00 gets week 4's 14.
    assert!(
        lines[1].starts_with("2024-04-08T09:00:00Z,14.000,"),
        "{out}"
    );
    let json: Value = serde_json::from_str(&week_ahead("json")).unwrap();
    assert_eq!(json["intervals"].as_array().unwrap().len(), 15);
    assert_eq!(json["model"], "seasonal_naive", "{json}");
    let backtest = json["backtest"].as_array().unwrap();
    assert_eq!(backtest.len(), 5, "{json}");
    // Last week is always one call short, as on the history: MASE 1.
    assert_eq!(backtest[0]["mase"].as_f64(), Some(1.0), "{json}");
    assert_eq!(backtest[4]["model"], "same_interval_mean", "{json}");
    assert!(backtest[4]["mase"].as_f64().unwrap() > 1.0, "{json}");

    // Bad input is named.
    std::fs::write(
        &path,
        "timestamp,count\n2024-03-04T09:00:00,4\n2024-03-04T10:00:00,many\n",
    )
    .unwrap();
    let bad = run(&["forecast", "--from-csv", file]);
    assert!(!bad.status.success());
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("line 3"),
        "{bad:?}"
    );
    let bad = run(&["forecast", "--from-csv", file, "--horizon", "9w"]);
    assert!(String::from_utf8_lossy(&bad.stderr).contains("6 weeks"));
}

#[test]
fn a_forecast_run_from_the_lake_is_stored_staffed_and_queryable() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("queue_log");
    std::fs::write(&log, office_log(0..21, 0..32, true)).unwrap();
    let lake = dir.path().join("lake");
    ingest(&lake, &[&log]);
    let data = lake.to_str().unwrap();
    let out = ok(&[
        "forecast",
        "--data",
        data,
        "--horizon",
        "1w",
        "--format",
        "json",
    ]);
    let forecast: Value = serde_json::from_str(&out).unwrap();
    let run_id = forecast["run_id"].as_str().unwrap().to_owned();
    assert!(run_id.starts_with("fc-"), "{out}");
    assert_eq!(forecast["stored"], true);
    // The newest line (Friday 2024-03-22 16:57:10) may be followed by
    // more in its interval, so that interval is forecast, not learnt.
    assert_eq!(forecast["origin"], "2024-03-22T16:45:00Z");
    let queues = forecast["queues"].as_array().unwrap();
    let names: Vec<&str> = queues
        .iter()
        .map(|q| q["queue"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["sales", "support"]);
    let sales = &queues[0]["intervals"];
    // A week from there: Friday's last interval, four days × 32 open
    // intervals and Friday up to 16:30; nights and the weekend closed.
    assert_eq!(sales.as_array().unwrap().len(), 1 + 128 + 31, "{out}");
    assert_eq!(sales[0]["interval_start"], "2024-03-22T16:45:00Z");
    assert_eq!(sales[1]["interval_start"], "2024-03-25T09:00:00Z");
    assert_eq!(sales[0]["volume"].as_f64(), Some(6.0), "{out}");
    assert_eq!(sales[0]["aht_s"].as_f64(), Some(120.0), "{out}");

    // Analysts see the run in the lake.
    let rows = sql(
        &lake,
        &format!(
            "SELECT queue, COUNT(*), MIN(volume), MAX(volume), MIN(aht_s) FROM forecasts \
             WHERE run_id = '{run_id}' GROUP BY queue ORDER BY queue"
        ),
        &[],
    );
    assert_eq!(rows[0][0], "sales");
    assert_eq!(rows[0][1].as_u64(), Some(160));
    assert_eq!(
        (rows[0][2].as_f64(), rows[0][3].as_f64()),
        (Some(6.0), Some(6.0))
    );
    assert_eq!(rows[1][0], "support");
    assert_eq!(rows[1][2].as_f64(), Some(3.0));

    // Staffing it: sales has no abandons, so Erlang C; 6 calls × 120 s in
    // 15 minutes is 0.8 erlang: 1 agent gives 80/20 only 22.6 %, 2 give
    // 1 − C(2, 0.8)·e^(−1.2·20/120) = 1 − 0.228571·0.818731 = 0.812861;
    // with 30 % shrinkage, ⌈2 / 0.7⌉ = 3 scheduled. Support's callers wait
    // 10 + 10 + 30 s for each abandon: mean patience 50 s (Erlang A).
    let out = ok(&[
        "staff",
        "--forecast-run",
        &run_id,
        "--data",
        data,
        "--target",
        "80/20",
        "--method",
        "erlang-a",
        "--shrinkage",
        "0.3",
        "--max-occupancy",
        "0.85",
        "--format",
        "json",
    ]);
    let staffing: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        staffing["erlang_c_fallback"],
        serde_json::json!(["sales"]),
        "{out}"
    );
    assert_eq!(
        staffing["patience_s"]["support"].as_f64(),
        Some(50.0),
        "{out}"
    );
    let first = &staffing["intervals"][0];
    assert_eq!(first["queue"], "sales");
    assert_eq!(first["agents_required"].as_i64(), Some(2), "{out}");
    assert_eq!(first["agents_with_shrinkage"].as_i64(), Some(3));
    assert_eq!(first["method"], "erlang_c");
    assert!(
        (first["service_level"].as_f64().unwrap() - 0.812861).abs() < 1e-6,
        "{out}"
    );
    let staffing_id = staffing["run_id"].as_str().unwrap();
    let rows = sql(
        &lake,
        &format!(
            "SELECT method, COUNT(*), MIN(patience_s) FROM staffing WHERE run_id = '{staffing_id}' \
             GROUP BY method ORDER BY method"
        ),
        &[],
    );
    assert_eq!(rows[0][0], "erlang_a");
    assert_eq!(rows[0][1].as_u64(), Some(160));
    assert_eq!(rows[0][2].as_f64(), Some(50.0));
    assert_eq!(rows[1][0], "erlang_c");

    // A schedule for sales in the week of Monday 2024-03-25 from that
    // run, with the default [scheduling] patterns and 5/2 tours; removing
    // a shift opens a hole; the edited draft is published as version 1.
    let out = ok(&[
        "schedule",
        "create",
        "--data",
        data,
        "--staffing-run",
        staffing_id,
        "--week",
        "2024-03-25",
        "--queues",
        "sales",
    ]);
    let draft: Value = serde_json::from_str(&out).unwrap();
    let id = draft["id"].as_str().unwrap();
    assert_eq!(
        draft["totals"]["short_agent_hours"].as_f64(),
        Some(0.0),
        "{out}"
    );
    assert!(draft["shifts"].as_array().unwrap().len() >= 10, "{out}");
    let edit = |text: &str| {
        run(&[
            "schedule", "edit", "--data", data, "--id", id, "--edit", text,
        ])
    };
    let removed = edit(r#"{"op":"remove_shift","shift":0}"#);
    assert!(removed.status.success(), "{removed:?}");
    let out = String::from_utf8(removed.stdout).unwrap();
    let edited: Value = serde_json::from_str(&out).unwrap();
    assert!(
        edited["totals"]["short_agent_hours"].as_f64().unwrap() > 0.0,
        "{out}"
    );
    let bad = edit(r#"{"op":"fly"}"#);
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("--edit #1"),
        "{bad:?}"
    );
    let out = ok(&["schedule", "publish", "--data", data, "--id", id]);
    assert_eq!(
        serde_json::from_str::<Value>(&out).unwrap()["version"],
        1,
        "{out}"
    );
    let rows = sql(
        &lake,
        &format!("SELECT version, shifts FROM schedules WHERE schedule_id = '{id}'"),
        &[],
    );
    let shifts = edited["shifts"].as_array().unwrap().len() as u64;
    assert_eq!(
        rows,
        vec![vec![serde_json::json!(1), serde_json::json!(shifts)]]
    );

    // A queue without history is named.
    let bad = run(&["forecast", "--data", data, "--queue", "billing"]);
    assert!(!bad.status.success());
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("billing"),
        "{bad:?}"
    );
}

#[test]
fn the_bank_series_is_forecast_a_week_ahead() {
    let Some(shared) = shared() else { return };
    let csv = shared.join("fixtures/arrivals/us_bank_2003_weinberg/us_bank_30min.csv");
    let out = ok(&[
        "forecast",
        "--from-csv",
        csv.to_str().unwrap(),
        "--horizon",
        "1w",
    ]);
    // The week after 2003-10-24: 5 weekdays × 28 open half-hours.
    assert_eq!(out.lines().count(), 1 + 140, "{out}");
    assert!(
        out.lines()
            .nth(1)
            .unwrap()
            .starts_with("2003-10-27T07:00:00Z,"),
        "{out}"
    );
}
