//! The SQL surface under attack, through the served binary: write paths
//! on every protocol and wrapper, deep and huge expressions, resource
//! bombs, a psql Ctrl-C, idle sockets and brute force. Throughout, a
//! watcher checks that `/healthz` and another client's small query answer
//! within a second; at the end, that no file of the lake changed, no file
//! or table was created, and the process stayed within its memory bound.
//! And a scoped analyst reads `calls` and `interval_stats` over stored
//! days with only its queues' rows.

use std::collections::BTreeMap;
use std::io::Read;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::support::{Server, ingest, office_log, request, runtime, synthetic_log, token_entries};

/// The server's query deadline in this suite.
const DEADLINE: Duration = Duration::from_millis(3_000);
/// Its per-query memory pool and result cap, in MiB, and its query slots.
const MEMORY_MB: u64 = 256;
const RESULT_MB: u64 = 64;
const SLOTS: u64 = 2;
/// Named prepared statements (and portals) a connection may hold.
const PREPARED: usize = 8;
/// What the process holds besides queries (runtime, sessions, lake
/// metadata, buffers). A query holds its pool, and a collected result
/// rendered as JSON about four times its size: the RSS bound is
/// SLOTS × (MEMORY_MB + 4 × RESULT_MB) + BASE_MB.
const BASE_MB: u64 = 400;

fn rss_bound_mb() -> u64 {
    SLOTS * (MEMORY_MB + 4 * RESULT_MB) + BASE_MB
}

fn token(name: &str) -> String {
    format!("ql_hostile_{name}")
}

/// Every file under `dir` with the SHA-256 of its bytes.
fn files(dir: &Path) -> BTreeMap<PathBuf, String> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(at) = stack.pop() {
        for entry in std::fs::read_dir(&at).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if let Ok(bytes) = std::fs::read(&path) {
                let digest: String = Sha256::digest(&bytes)
                    .iter()
                    .map(|b| format!("{b:02x}"))
                    .collect();
                out.insert(path, digest);
            }
        }
    }
    out
}

fn write_config(dir: &Path, queue_log: &Path, extra_tokens: &[(&str, &str, &str)]) -> PathBuf {
    let mut text = format!(
        "version = 1\n[server]\nrequests_per_second = 0\n\
         [postgres_wire]\nstartup_timeout_ms = 2000\nmax_unauthenticated = 8\n\
         max_prepared_statements = {PREPARED}\n\
         [query]\ntimeout_ms = {}\nmemory_limit_mb = {MEMORY_MB}\nmax_concurrent = {SLOTS}\n\
         max_result_bytes = {}\n\
         [queue_log]\nfile = {:?}\n",
        DEADLINE.as_millis(),
        RESULT_MB * 1024 * 1024,
        queue_log.display().to_string()
    );
    let mut entries = vec![
        ("admin", "admin", ""),
        ("analyst", "analyst", ""),
        ("watcher", "analyst", ""),
        ("sales-analyst", "analyst", "queues = [\"sales\"]\n"),
        ("sales-viewer", "viewer", "queues = [\"sales\"]\n"),
    ];
    entries.extend_from_slice(extra_tokens);
    text.push_str(&token_entries(token, &entries));
    let path = dir.join("queuelake.toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn sql_as(port: u16, who: &str, sql: &str) -> (u16, Value) {
    let body = serde_json::json!({ "sql": sql }).to_string();
    let (status, text) = request(port, "POST", "/api/v1/sql", Some(&token(who)), &body);
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

/// Watches the service while attacks run: `/healthz` and a small query of
/// another client, each every 100 ms, keeping the slowest answer.
struct Watcher {
    stop: Arc<AtomicBool>,
    slowest_health_ms: Arc<AtomicU64>,
    slowest_query_ms: Arc<AtomicU64>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

impl Watcher {
    fn start(port: u16) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let slowest_health_ms = Arc::new(AtomicU64::new(0));
        let slowest_query_ms = Arc::new(AtomicU64::new(0));
        let mut threads = Vec::new();
        for (slowest, query) in [
            (slowest_health_ms.clone(), false),
            (slowest_query_ms.clone(), true),
        ] {
            let stop = stop.clone();
            threads.push(std::thread::spawn(move || {
                while !stop.load(Ordering::SeqCst) {
                    let started = Instant::now();
                    let ok = if query {
                        let (status, body) = sql_as(port, "watcher", "SELECT 1 + 1 AS two");
                        status == 200 && body["rows"][0][0] == 2
                    } else {
                        health(port)
                    };
                    let ms = started.elapsed().as_millis() as u64;
                    slowest.fetch_max(if ok { ms } else { u64::MAX }, Ordering::SeqCst);
                    std::thread::sleep(Duration::from_millis(100));
                }
            }));
        }
        Watcher {
            stop,
            slowest_health_ms,
            slowest_query_ms,
            threads,
        }
    }

    /// The slowest answers (ms), after stopping.
    fn finish(self) -> (u64, u64) {
        self.stop.store(true, Ordering::SeqCst);
        for t in self.threads {
            t.join().unwrap();
        }
        (
            self.slowest_health_ms.load(Ordering::SeqCst),
            self.slowest_query_ms.load(Ordering::SeqCst),
        )
    }
}

fn health(port: u16) -> bool {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    use std::io::Write;
    if stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .is_err()
    {
        return false;
    }
    let mut text = String::new();
    let _ = stream.read_to_string(&mut text);
    text.starts_with("HTTP/1.1 200") && text.ends_with("ok")
}

async fn pg(port: u16, who: &str) -> Result<tokio_postgres::Client, tokio_postgres::Error> {
    let (client, connection) = tokio_postgres::connect(
        &format!(
            "host=127.0.0.1 port={port} user={who} password={} dbname=queuelake",
            token(who)
        ),
        tokio_postgres::NoTls,
    )
    .await?;
    tokio::spawn(connection);
    Ok(client)
}

/// Runs a long statement in the real psql, sends it SIGINT (Ctrl-C)
/// after `wait`, and returns how long psql took to end and its stderr.
fn psql_interrupted_after(pg_port: u16, wait: Duration) -> (Duration, String) {
    let mut psql = std::process::Command::new("psql")
        .args(["-h", "127.0.0.1", "-p", &pg_port.to_string(), "-U", "x"])
        .args(["-d", "queuelake", "-At", "-c"])
        .arg("SELECT count(*) FROM generate_series(1, 100000000000)")
        .env("PGPASSWORD", token("analyst"))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("psql runs (apt: postgresql-client)");
    std::thread::sleep(wait);
    let interrupted = Instant::now();
    let _ = std::process::Command::new("kill")
        .args(["-INT", &psql.id().to_string()])
        .status();
    let status = psql.wait().unwrap();
    let took = interrupted.elapsed();
    let mut stderr = String::new();
    psql.stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert!(!status.success(), "an interrupted psql fails");
    (took, stderr)
}

fn code(e: &tokio_postgres::Error) -> String {
    e.as_db_error()
        .map(|d| format!("{} {}", d.code().code(), d.message()))
        .unwrap_or_else(|| e.to_string())
}

/// Runs `sql` on the three doors; returns (HTTP status and detail,
/// simple-protocol error, extended-protocol error), each with the time it
/// took. A door that answers rows gives "ok".
fn on_every_door(
    rt: &tokio::runtime::Runtime,
    port: u16,
    client: &tokio_postgres::Client,
    sql: &str,
) -> [(String, Duration); 3] {
    let started = Instant::now();
    let (status, body) = sql_as(port, "sales-analyst", sql);
    let http = (
        format!("{status} {}", body["detail"].as_str().unwrap_or("ok")),
        started.elapsed(),
    );
    let started = Instant::now();
    let simple = rt
        .block_on(client.simple_query(sql))
        .map_or_else(|e| code(&e), |_| "ok".into());
    let simple = (simple, started.elapsed());
    let started = Instant::now();
    let extended = rt
        .block_on(client.query(sql, &[]))
        .map_or_else(|e| code(&e), |_| "ok".into());
    [http, simple, (extended, started.elapsed())]
}

#[test]
fn no_query_hurts_the_service_on_any_door() {
    let _cores = crate::support::exclusive_cores();
    let dir = tempfile::tempdir().unwrap();
    let queue_log = dir.path().join("queue_log");
    let start = 1_709_542_800; // 2024-03-04 09:00 UTC: one day, no day closes
    std::fs::write(&queue_log, synthetic_log(start, 3_000)).unwrap();
    let config = write_config(dir.path(), &queue_log, &[]);
    let lake = dir.path().join("lake");
    let server = Server::serve(
        &lake,
        &["--config", config.to_str().unwrap(), "--flush-seconds", "1"],
    );
    let port = server.port;
    let pg_port = server.pg_port.unwrap();
    let lines = 1 + 3_000 * 3 - 750; // QUEUESTART + 3 lines a call, 2 for abandons
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (_, body) = sql_as(port, "admin", "SELECT COUNT(*) FROM queue_log");
        if body["rows"][0][0] == lines {
            break;
        }
        assert!(Instant::now() < deadline, "lines never reached the lake");
        std::thread::sleep(Duration::from_millis(100));
    }
    // Committed, not only in memory: the files the attacks aim at.
    let parquet = loop {
        let found = files(&lake)
            .into_keys()
            .find(|p| p.extension().is_some_and(|e| e == "parquet"));
        if let Some(found) = found {
            break found;
        }
        assert!(Instant::now() < deadline, "no Parquet file committed");
        std::thread::sleep(Duration::from_millis(100));
    };
    std::thread::sleep(Duration::from_millis(1500));
    let before = files(&lake);
    let (_, counted) = sql_as(port, "admin", "SELECT COUNT(*) FROM queue_log");
    let rt = runtime();
    let client = rt.block_on(pg(pg_port, "sales-analyst")).unwrap();
    let watcher = Watcher::start(port);

    // 1. Writes, however they are wrapped: refused on every door.
    let new_file = dir.path().join("ql-attack.parquet");
    let target = parquet.display().to_string();
    let fresh = new_file.display().to_string();
    let writes = [
        format!("EXPLAIN ANALYZE COPY (SELECT 1 AS a) TO '{target}'"),
        format!("EXPLAIN ANALYZE COPY (SELECT 1 AS a) TO '{fresh}'"),
        format!("EXPLAIN COPY (SELECT 1 AS a) TO '{fresh}'"),
        format!("COPY (SELECT 1 AS a) TO '{fresh}'"),
        "EXPLAIN ANALYZE INSERT INTO queue_log SELECT * FROM queue_log".into(),
        "INSERT INTO queue_log SELECT * FROM queue_log".into(),
        "SELECT 1 AS a INTO ql_attack_t".into(),
        "SELECT * INTO ql_attack_t FROM generate_series(1, 50000000)".into(),
        "WITH x AS (SELECT 1 AS a) SELECT * INTO ql_attack_t FROM x".into(),
        "DECLARE c CURSOR FOR SELECT 1 AS a INTO ql_attack_t".into(),
        "CREATE TABLE ql_attack_t AS SELECT 1 AS a".into(),
        format!("CREATE EXTERNAL TABLE ql_attack_e STORED AS CSV LOCATION '{fresh}'"),
        "SELECT 1; CREATE TABLE ql_attack_t AS SELECT 1 AS a".into(),
        "EXPLAIN CREATE TABLE ql_attack_t AS SELECT 1".into(),
        "SET datafusion.execution.target_partitions = 1".into(),
        "SET datafusion.runtime.memory_limit = '100G'".into(),
    ];
    for sql in &writes {
        let [http, simple, extended] = on_every_door(&rt, port, &client, sql);
        eprintln!(
            "{sql}\n  http: {}\n  simple: {}\n  extended: {}",
            http.0, simple.0, extended.0
        );
        assert!(http.0.starts_with("400"), "HTTP {sql}: {}", http.0);
        for (door, (answer, _)) in [("simple", &simple), ("extended", &extended)] {
            let code = &answer[..5.min(answer.len())];
            assert!(
                ["25006", "42601", "0A000"].contains(&code),
                "{door} {sql}: {answer}"
            );
        }
    }
    for who in ["admin", "sales-analyst"] {
        let (status, body) = sql_as(port, who, "SELECT * FROM ql_attack_t");
        assert_eq!(status, 400, "no table was created: {body}");
    }
    let err = rt
        .block_on(client.simple_query("SELECT * FROM ql_attack_t"))
        .unwrap_err();
    assert!(code(&err).contains("ql_attack_t"), "{}", code(&err));

    // 2. Deep and huge expressions: refused by name before planning.
    let sum = format!("SELECT {}", vec!["1"; 2_000].join("+"));
    let ors = format!("SELECT 1 WHERE {}", vec!["1 = 0"; 60_000].join(" OR "));
    let in_list = format!(
        "SELECT COUNT(*) FROM queue_log WHERE byte_offset IN ({})",
        (0..200_000)
            .map(|i| i.to_string())
            .collect::<Vec<_>>()
            .join(",")
    );
    for (sql, limit) in [
        (&sum, "max_expression_depth"),
        (&ors, "max_expression_depth"),
        (&in_list, "max_expression_nodes"),
    ] {
        let [http, simple, extended] = on_every_door(&rt, port, &client, sql);
        let status = if sql.len() > 1024 * 1024 {
            "413"
        } else {
            "400"
        };
        assert!(
            http.0.starts_with(status) && (status == "413" || http.0.contains(limit)),
            "HTTP: {}",
            http.0
        );
        for (answer, took) in [&simple, &extended] {
            // Parsing 1 MB of SQL in a debug build on two loaded cores (CI)
            // may meet the deadline first: still refused, in time.
            let timed_out = answer.starts_with("57014") && answer.contains("timeout_ms");
            assert!(
                timed_out || (answer.starts_with("54001") && answer.contains(limit)),
                "{answer}"
            );
            let bound = if timed_out {
                DEADLINE + Duration::from_secs(1)
            } else {
                DEADLINE
            };
            assert!(*took < bound, "refused before planning: {took:?}");
        }
    }

    // 3. Bombs: each ends with its named limit within the deadline + 1 s.
    // Those that compute for a while may meet the deadline first on a
    // loaded machine (CI runs other suites beside this one): the deadline
    // is a named limit too.
    let bombs: &[(&str, &[&str])] = &[
        (
            "SELECT * FROM generate_series(1, 1000000000000)",
            &["max_result_rows", "timeout_ms"],
        ),
        ("SELECT repeat('x', 2147483647)", &["max_value_bytes"]),
        ("SELECT lpad('x', 2147483647, 'ab')", &["max_value_bytes"]),
        (
            "SELECT repeat('x', 16000000) FROM generate_series(1, 8192)",
            &["constants may have"],
        ),
        (
            "SELECT repeat('x', 16000000) FROM generate_series(1, 64)",
            &["constants may have"],
        ),
        (
            "SELECT repeat(CAST(value AS VARCHAR), 1000) FROM generate_series(1, 200000)",
            &["max_result_bytes", "timeout_ms"],
        ),
        (
            "WITH RECURSIVE t(s, n) AS (SELECT 'x', 1 UNION ALL SELECT s || s, n + 1 FROM t WHERE n < 40) SELECT length(s) FROM t",
            &["Resources exhausted", "max_result", "timeout_ms"],
        ),
        (
            "SELECT count(*) FROM queue_log a, queue_log b, queue_log c WHERE a.byte_offset + b.byte_offset + c.byte_offset = 7",
            &["max_nested_loop_pairs", "timeout_ms"],
        ),
        (
            "SELECT count(*) FROM generate_series(1, 300000) a, generate_series(1, 300000) b WHERE a.value + b.value = 7",
            &["max_nested_loop_build_rows"],
        ),
        (
            "SELECT count(*) FROM generate_series(1, 20000) a, generate_series(1, 100000000) b WHERE a.value + b.value = 7",
            &["timeout_ms"],
        ),
        (
            "SELECT count(*) FROM generate_series(1, 100000000000)",
            &["timeout_ms"],
        ),
    ];
    for (sql, named) in bombs {
        let [http, simple, extended] = on_every_door(&rt, port, &client, sql);
        eprintln!(
            "{sql}\n  http: {} ({:?})\n  simple: {} ({:?})\n  extended: {} ({:?})",
            http.0, http.1, simple.0, simple.1, extended.0, extended.1
        );
        for (door, (answer, took)) in [
            ("http", &http),
            ("simple", &simple),
            ("extended", &extended),
        ] {
            assert!(
                named.iter().any(|n| answer.contains(n)),
                "{door} {sql}: {answer}"
            );
            assert!(!answer.starts_with("500"), "{door} {sql}: {answer}");
            assert!(
                *took <= DEADLINE + Duration::from_secs(1),
                "{door} {sql}: took {took:?}"
            );
        }
    }

    // 4. psql's Ctrl-C cancels the running statement within a second.
    // A Ctrl-C that lands while psql is still signing in ends psql with no
    // message (nothing to cancel yet): that try waits longer.
    let mut cancelled = None;
    for wait_ms in [800, 2_000, 4_000] {
        let (took, stderr) = psql_interrupted_after(pg_port, Duration::from_millis(wait_ms));
        eprintln!("psql interrupted after {wait_ms} ms: cancelled in {took:?}: {stderr}");
        if !stderr.trim().is_empty() {
            cancelled = Some((took, stderr));
            break;
        }
    }
    let (took, stderr) = cancelled.expect("psql had sent its query in one of the tries");
    assert!(
        stderr.contains("canceling statement due to user request"),
        "{stderr}"
    );
    assert!(took < Duration::from_secs(1), "{took:?}");

    // 5. Idle sockets do not lock a client out; they are closed unsigned.
    let idle: Vec<TcpStream> = (0..64)
        .map(|_| TcpStream::connect(("127.0.0.1", pg_port)).unwrap())
        .collect();
    std::thread::sleep(Duration::from_millis(200));
    let started = Instant::now();
    let other = rt.block_on(pg(pg_port, "analyst")).unwrap();
    let rows = rt.block_on(other.simple_query("SELECT 1")).unwrap();
    assert!(rows.len() >= 2, "a row and the completion");
    assert!(started.elapsed() < Duration::from_secs(1));
    std::thread::sleep(Duration::from_millis(2_500));
    let mut closed = 0;
    for mut socket in idle {
        socket
            .set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        let mut byte = [0u8; 1];
        if matches!(socket.read(&mut byte), Ok(0) | Err(_)) {
            closed += 1;
        }
    }
    assert_eq!(
        closed, 64,
        "every unsigned socket is closed by the startup deadline"
    );
    // The signed-in client is still served.
    assert!(rt.block_on(other.simple_query("SELECT 2")).is_ok());

    // 6. Brute force: a peer's wrong tokens are held back, right ones pass.
    let mut refused_http = 0;
    for i in 0..20 {
        let (status, _) = request(port, "GET", "/api/v1/me", Some(&format!("ql_wrong{i}")), "");
        assert!(status == 401 || status == 429, "{status}");
        refused_http += usize::from(status == 429);
    }
    assert!(refused_http >= 9, "{refused_http} of 20 held back");
    let mut refused_pg = 0;
    for i in 0..5 {
        let err = rt
            .block_on(tokio_postgres::connect(
                &format!(
                    "host=127.0.0.1 port={pg_port} user=x password=ql_wrong{i} dbname=queuelake"
                ),
                tokio_postgres::NoTls,
            ))
            .err()
            .unwrap();
        refused_pg += usize::from(code(&err).starts_with("53300"));
    }
    assert_eq!(refused_pg, 5, "the budget is shared by both doors");
    let (status, _) = request(port, "GET", "/api/v1/me", Some(&token("analyst")), "");
    assert_eq!(status, 200, "a right token still passes");
    assert!(rt.block_on(pg(pg_port, "analyst")).is_ok());
    let (_, metrics) = request(port, "GET", "/metrics", Some(&token("admin")), "");
    let failures: f64 = metrics
        .lines()
        .filter(|l| l.starts_with("queuelake_auth_failures_total"))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum();
    assert!(failures >= 10.0, "counted: {failures}");

    // The service answered all along; nothing was written; memory held.
    let (slowest_health, slowest_query) = watcher.finish();
    eprintln!("slowest /healthz {slowest_health} ms, slowest small query {slowest_query} ms");
    assert!(slowest_health < 1_000, "/healthz took {slowest_health} ms");
    // A small query shares the cores with the bombs (and, in CI, with the
    // other suites): 1.6 s was seen on two loaded cores. It must still be
    // well under the bombs' own 3 s deadline, so it never waited for one.
    assert!(
        slowest_query < 2_500,
        "the small query took {slowest_query} ms"
    );
    let after = files(&lake);
    for (path, digest) in &before {
        // The report job store is the service's own database, busy on its own.
        if path.to_string_lossy().contains("jobs.sqlite") {
            continue;
        }
        assert_eq!(after.get(path), Some(digest), "{} changed", path.display());
    }
    assert!(!new_file.exists());
    let attack_files: Vec<_> = files(dir.path())
        .into_keys()
        .filter(|p| {
            p.to_string_lossy().contains("ql-attack") || p.to_string_lossy().contains("ql_attack")
        })
        .collect();
    assert!(attack_files.is_empty(), "{attack_files:?}");
    let (_, now) = sql_as(port, "admin", "SELECT COUNT(*) FROM queue_log");
    assert_eq!(now["rows"], counted["rows"]);
    let status = std::fs::read_to_string(format!("/proc/{}/status", server.child.id())).unwrap();
    let peak_kb: u64 = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        .unwrap();
    eprintln!(
        "peak RSS {} MiB (bound {} MiB)",
        peak_kb / 1024,
        rss_bound_mb()
    );
    assert!(peak_kb / 1024 < rss_bound_mb(), "peak RSS {peak_kb} kB");
    assert!(server.terminate(), "stops cleanly after all that");
}

#[test]
fn a_scoped_analyst_and_viewer_read_calls_over_stored_days_with_their_queues_only() {
    let dir = tempfile::tempdir().unwrap();
    let queue_log = dir.path().join("queue_log");
    std::fs::write(&queue_log, office_log(0..5, 0..8, true)).unwrap();
    let lake = dir.path().join("lake");
    let out = ingest(&lake, &[&queue_log]);
    assert!(out.contains("closed days of calls"), "{out}");
    assert!(
        files(&lake.join("calls_by_day"))
            .keys()
            .any(|p| p.extension().is_some_and(|e| e == "parquet")),
        "days are stored"
    );
    let config = write_config(dir.path(), &queue_log, &[]);
    let server = Server::serve(&lake, &["--config", config.to_str().unwrap()]);
    let port = server.port;
    let by_queue = "SELECT queue, COUNT(*) AS visits, SUM(CASE WHEN outcome = 'answered' THEN 1 ELSE 0 END) AS answered \
                    FROM calls GROUP BY queue ORDER BY queue";
    let stats = "SELECT queue, CAST(SUM(offered) AS BIGINT), CAST(SUM(answered) AS BIGINT) FROM interval_stats GROUP BY queue ORDER BY queue";
    let (status, all) = sql_as(port, "admin", by_queue);
    assert_eq!(status, 200, "{all}");
    // 5 weekdays × 8 intervals: sales 6 calls, support 3.
    assert_eq!(
        all["rows"],
        serde_json::json!([["sales", 240, 240], ["support", 120, 80]])
    );
    let (status, scoped) = sql_as(port, "sales-analyst", by_queue);
    assert_eq!(status, 200, "{scoped}");
    assert_eq!(scoped["rows"], serde_json::json!([["sales", 240, 240]]));
    let (status, scoped_stats) = sql_as(port, "sales-analyst", stats);
    assert_eq!(status, 200, "{scoped_stats}");
    assert_eq!(
        scoped_stats["rows"],
        serde_json::json!([["sales", 240, 240]])
    );
    // A scoped analyst's mistakes name its own tables and columns, never
    // the lake's internals behind them.
    for (wrong, named) in [
        ("SELECT nosuch FROM calls", "nosuch"),
        ("SELECT queue FROM calls WHERE nosuch > 1", "nosuch"),
        ("SELECT nosuch(queue) FROM interval_stats", "nosuch"),
        ("SELECT * FROM calls_by_day", "calls_by_day"),
    ] {
        let (status, answer) = sql_as(port, "sales-analyst", wrong);
        assert_eq!(status, 400, "{wrong}: {answer}");
        let detail = answer["detail"].as_str().unwrap_or_default().to_owned();
        assert!(detail.contains(named), "{wrong}: {detail}");
        for internal in ["calls_by_day.", "visit.", "computed", "__", "lake/"] {
            assert!(
                !detail.contains(internal),
                "{wrong}: the error names {internal:?}: {detail}"
            );
        }
    }
    // The viewer's dashboard route over a stored day.
    let (status, day) = request(
        port,
        "GET",
        "/api/v1/intervals?day=2024-03-05",
        Some(&token("sales-viewer")),
        "",
    );
    assert_eq!(status, 200, "{day}");
    let day: Value = serde_json::from_str(&day).unwrap();
    let text = day.to_string();
    assert!(
        text.contains("sales") && !text.contains("support"),
        "{text}"
    );
    // The same over the PostgreSQL port, with a parameter.
    let rt = runtime();
    let pg_port = server.pg_port.unwrap();
    rt.block_on(async {
        let client = pg(pg_port, "sales-analyst").await.unwrap();
        let rows = client
            .query(
                "SELECT queue, COUNT(*) FROM calls WHERE queue <> $1 GROUP BY queue",
                &[&"nobody"],
            )
            .await
            .unwrap_or_else(|e| panic!("{}", code(&e)));
        let got: Vec<(String, i64)> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
        assert_eq!(got, [("sales".to_string(), 240)]);
    });
}

#[test]
fn a_connection_cannot_hoard_prepared_statements_or_portals() {
    let dir = tempfile::tempdir().unwrap();
    let queue_log = dir.path().join("queue_log");
    std::fs::write(&queue_log, office_log(0..1, 0..2, true)).unwrap();
    let lake = dir.path().join("lake");
    ingest(&lake, &[&queue_log]);
    let config = write_config(dir.path(), &queue_log, &[]);
    let server = Server::serve(&lake, &["--config", config.to_str().unwrap()]);
    let pg_port = server.pg_port.unwrap();
    let rt = runtime();
    rt.block_on(async {
        let mut client = pg(pg_port, "analyst").await.unwrap();
        let mut held = Vec::new();
        for n in 0..PREPARED {
            held.push(client.prepare(&format!("SELECT {n}")).await.unwrap());
        }
        let refused = client.prepare("SELECT 99").await.unwrap_err();
        let text = code(&refused);
        assert!(
            text.starts_with("53400") && text.contains("max_prepared_statements"),
            "{text}"
        );
        // The connection still answers, and a closed statement frees its name.
        let answer = client.simple_query("SELECT 1").await.unwrap();
        assert!(
            answer
                .iter()
                .any(|m| matches!(m, tokio_postgres::SimpleQueryMessage::Row(_))),
            "SELECT 1 answered no row"
        );
        held.pop();
        // tokio-postgres sends the Close with the next request.
        let statement = client.prepare("SELECT 7::BIGINT").await.unwrap();
        let row = client.query_one(&statement, &[]).await.unwrap();
        assert_eq!(row.get::<_, i64>(0), 7);
        drop(held);
        // Portals: as many open as the limit, no more.
        let transaction = client.transaction().await.unwrap();
        let mut portals = Vec::new();
        for _ in 0..PREPARED {
            portals.push(transaction.bind(&statement, &[]).await.unwrap());
        }
        let Err(refused) = transaction.bind(&statement, &[]).await else {
            panic!("a portal past the limit was bound");
        };
        assert!(code(&refused).starts_with("53400"), "{}", code(&refused));
    });
}
