//! `queuelake schedule solve` on the shared instances and on a bad file.

use serde_json::Value;

use crate::support::{ok, run, shared};

#[test]
fn instances_are_solved_with_their_bound_and_time() {
    let Some(shared) = shared() else { return };
    let dir = shared.join("wfm/sched_instances");
    let file = dir.join("pyworkforce_anon_bank_1999-12-05_30min.json");
    for (objective, optimum) in [
        ("min-abs-difference", 199.0),
        ("min-required-resources", 2744.0),
    ] {
        let out = ok(&[
            "schedule",
            "solve",
            "--instance",
            file.to_str().unwrap(),
            "--objective",
            objective,
            "--format",
            "json",
        ]);
        let v: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["objective"].as_f64(), Some(optimum), "{out}");
        assert!(
            (v["bound"].as_f64().unwrap() - optimum).abs() < 1e-6,
            "{out}"
        );
        assert!(v["seconds"].as_f64().unwrap() < 10.0);
    }
    let out = ok(&[
        "schedule",
        "solve",
        "--instance",
        dir.join("tours_small.json").to_str().unwrap(),
        "--format",
        "json",
    ]);
    let v: Value = serde_json::from_str(&out).unwrap();
    let (objective, bound) = (
        v["objective"].as_f64().unwrap(),
        v["bound"].as_f64().unwrap(),
    );
    assert!((bound - 1544.20).abs() < 0.01, "{out}");
    assert!(objective <= bound * 1.01, "{out}");
    // Five days of each agent's week: the tours hold every agent.
    let agents: u64 = v["tours"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_u64().unwrap())
        .sum();
    let monday: u64 = v["shifts"][0]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["agents"].as_u64().unwrap())
        .sum();
    assert!(monday <= agents && monday > 0, "{out}");
}

#[test]
fn a_bad_instance_is_named_where_it_is_wrong() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.json");
    std::fs::write(
        &path,
        r#"{"req": [[1],[1],[1],[1],[1],[1],[1]], "shifts": [[0, 1, "one", []]]}"#,
    )
    .unwrap();
    let out = run(&["schedule", "solve", "--instance", path.to_str().unwrap()]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("shifts[0][2]"), "{err}");
}
