//! `queuelake staff` for one interval: the README's classic check (100
//! calls in 30 minutes, AHT 180 s, 80 % in 20 s).

use serde_json::Value;

use crate::support::{ok, run};

fn staff(extra: &[&str]) -> Value {
    let mut args = vec![
        "staff",
        "--volume",
        "100",
        "--aht",
        "180",
        "--interval-min",
        "30",
        "--target",
        "80/20",
    ];
    args.extend_from_slice(extra);
    serde_json::from_str(&ok(&args)).unwrap()
}

#[test]
fn staff_answers_the_classic_interval_by_erlang_c_and_erlang_a() {
    let c = staff(&["--shrinkage", "0.3", "--format", "json"]);
    assert_eq!(c["agents_required"], 14, "{c}");
    assert_eq!(c["agents_with_shrinkage"], 20, "{c}");
    assert!((c["service_level"].as_f64().unwrap() - 0.888350019179).abs() < 1e-12);
    assert!((c["asa_s"].as_f64().unwrap() - 7.83593701178).abs() < 1e-9);
    assert!((c["occupancy"].as_f64().unwrap() - 10.0 / 14.0).abs() < 1e-12);
    assert_eq!(c["abandon"], 0.0);

    let a = staff(&["--method", "erlang-a", "--patience", "300"]);
    assert_eq!(a["agents_required"], 13, "{a}");
    assert!(a["abandon"].as_f64().unwrap() > 0.0, "{a}");

    let capped = staff(&["--max-occupancy", "0.7", "--shrinkage", "0.3"]);
    assert_eq!(capped["agents_required"], 15, "{capped}");
    assert_eq!(capped["agents_with_shrinkage"], 22, "{capped}");

    // Bad input is named.
    let out = run(&[
        "staff", "--volume", "100", "--aht", "180", "--method", "erlang-a",
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--patience"));
    let out = run(&[
        "staff",
        "--volume",
        "100",
        "--aht",
        "180",
        "--shrinkage",
        "1.2",
    ]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("shrinkage"));
}
