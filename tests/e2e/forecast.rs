//! `queuelake forecast`: from a `timestamp,count` CSV and from the lake.

use serde_json::Value;

use crate::support::{ingest, ok, run, shared, synthetic_log};

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
    assert_eq!(backtest.len(), 3, "{json}");
    // Last week is always one call short, as on the history: MASE 1.
    assert_eq!(backtest[0]["mase"].as_f64(), Some(1.0), "{json}");
    assert!(backtest[2]["mase"].as_f64().unwrap() > 1.0, "{json}");

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
fn forecasts_from_the_lake_cover_each_queue() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("queue_log");
    // Three weeks of synthetic calls in queues q0, q1, q2.
    std::fs::write(&log, synthetic_log(1_700_000_000, 3 * 7 * 86_400 / 7 / 60)).unwrap();
    let lake = dir.path().join("lake");
    ingest(&lake, &[&log]);
    let out = ok(&[
        "forecast",
        "--data",
        lake.to_str().unwrap(),
        "--horizon",
        "1d",
        "--format",
        "json",
    ]);
    let queues: Vec<String> = serde_json::from_str::<Value>(&out)
        .unwrap()
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["queue"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(queues, ["q0", "q1", "q2"], "{out}");
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
