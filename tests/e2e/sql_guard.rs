//! The CLI's read-only guard: refused statements exit non-zero, say why,
//! and change nothing.

use crate::support::{fixture, ingest, run, sql};

#[test]
fn cli_refuses_writes_and_reports_errors() {
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    ingest(&lake, &[&fixture("queue_log/sample_queue_log")]);
    let before = std::fs::read_dir(lake.join("queue_log")).unwrap().count();
    for (query, needle) in [
        ("DROP TABLE queue_log", "read-only"),
        ("DELETE FROM queue_log", "read-only"),
        (
            "COPY queue_log TO '/tmp/queuelake-cli.parquet'",
            "read-only",
        ),
        ("CREATE VIEW v AS SELECT 1", "read-only"),
        ("SELECT * FROM read_parquet('/etc/passwd')", "read_parquet"),
        ("SELECT (1 FROM queue_log", "Column"),
    ] {
        let out = run(&["sql", "--data", lake.to_str().unwrap(), query]);
        assert!(!out.status.success(), "{query} should fail");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(needle), "{query}: {err}");
    }
    assert!(!std::path::Path::new("/tmp/queuelake-cli.parquet").exists());
    assert_eq!(
        std::fs::read_dir(lake.join("queue_log")).unwrap().count(),
        before
    );
    assert_eq!(sql(&lake, "SELECT COUNT(*) FROM queue_log", &[])[0][0], 51);
}

#[test]
fn query_deadline_and_memory_limit_stop_runaway_queries() {
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    ingest(&lake, &[&fixture("queue_log/sample_queue_log")]);
    let out = run(&[
        "sql",
        "--data",
        lake.to_str().unwrap(),
        "--query-timeout-ms",
        "300",
        "SELECT COUNT(*) FROM generate_series(1, 100000000000) a",
    ]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("time limit of 300 ms"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = run(&[
        "sql",
        "--data",
        lake.to_str().unwrap(),
        "--query-memory-mb",
        "16",
        // a hash join's build side cannot spill: it must stop at the limit
        "SELECT COUNT(*) FROM generate_series(1, 3000000) a JOIN generate_series(1, 3000000) b ON a.value = b.value + 1",
    ]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .to_lowercase()
            .contains("memory pool"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn missing_lake_is_a_clear_error() {
    let out = run(&["sql", "--data", "/nonexistent/lake", "SELECT 1"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no lake at /nonexistent/lake"));
}
