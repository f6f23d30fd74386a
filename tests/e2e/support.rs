//! Helpers: run the binary, start a server, talk HTTP, find shared fixtures.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// The binary under test.
pub fn bin() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_queuelake"));
    cmd.env("RUST_LOG", "warn");
    cmd
}

/// This repository's own fixture folder.
pub fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/fixtures")
        .join(rel)
}

/// The shared real-data folder (see `queuelake_testkit::shared`).
pub fn shared() -> Option<PathBuf> {
    queuelake_testkit::shared("fixtures")
}

/// Runs the binary and returns its output.
pub fn run(args: &[&str]) -> Output {
    bin().args(args).output().expect("the binary runs")
}

/// Runs a successful command; panics with its stderr otherwise.
pub fn ok(args: &[&str]) -> String {
    let out = run(args);
    assert!(
        out.status.success(),
        "queuelake {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8 output")
}

/// `queuelake sql --format json` → parsed rows.
pub fn sql(data: &Path, query: &str, extra: &[&str]) -> Vec<Vec<Value>> {
    let mut args = vec!["sql", "--data", data.to_str().unwrap(), "--format", "json"];
    args.extend_from_slice(extra);
    args.push(query);
    let v: Value = serde_json::from_str(&ok(&args)).expect("json output");
    rows_of(&v)
}

/// The `rows` of a JSON query answer.
fn rows_of(answer: &Value) -> Vec<Vec<Value>> {
    answer["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_array().unwrap().clone())
        .collect()
}

/// `queuelake ingest --data DATA FILES…` (successful).
pub fn ingest(data: &Path, files: &[&Path]) -> String {
    let mut args: Vec<String> = vec!["ingest".into(), "--data".into(), data.display().to_string()];
    args.extend(files.iter().map(|f| f.display().to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    ok(&args)
}

/// A running `queuelake serve`.
pub struct Server {
    pub child: Child,
    pub port: u16,
    /// The PostgreSQL-wire port, when it listens.
    pub pg_port: Option<u16>,
    /// The admin token the server printed (none when the configuration
    /// file has tokens).
    pub token: Option<String>,
}

/// What `serve` and `demo` print before they serve: the HTTP port, the
/// PostgreSQL-wire port and the admin token made for the run.
pub struct Banner {
    pub port: u16,
    pub pg_port: Option<u16>,
    pub token: Option<String>,
    pub text: String,
}

/// Reads `serve`/`demo` output up to its `listening on` line.
pub fn read_banner(stdout: &mut impl BufRead) -> Banner {
    let mut text = String::new();
    let (mut pg_port, mut token) = (None, None);
    loop {
        let mut line = String::new();
        assert!(
            stdout.read_line(&mut line).expect("readable output") > 0,
            "the server ended before listening: {text}"
        );
        text.push_str(&line);
        let line = line.trim();
        let port_of = |address: &str| address.rsplit(':').next().and_then(|p| p.parse().ok());
        if let Some(t) = line.strip_prefix("admin token: ") {
            token = Some(t.to_owned());
        } else if let Some(address) = line.strip_prefix("postgres wire on ") {
            pg_port = port_of(address);
        } else if let Some(address) = line.strip_prefix("listening on http://") {
            let port = port_of(address).unwrap_or_else(|| panic!("no port in {line:?}"));
            return Banner {
                port,
                pg_port,
                token,
                text,
            };
        }
    }
}

impl Server {
    /// Starts `serve` on a free port, waits until it listens.
    pub fn start(data: &Path, queue_log: &Path, extra: &[&str]) -> Server {
        let mut args = vec!["--queue-log", queue_log.to_str().unwrap()];
        args.extend_from_slice(extra);
        Server::serve(data, &args)
    }

    /// Starts `serve` with these source arguments on a free port.
    pub fn serve(data: &Path, args: &[&str]) -> Server {
        let mut child = bin()
            .args([
                "serve",
                "--data",
                data.to_str().unwrap(),
                "--listen",
                "127.0.0.1:0",
                "--poll-ms",
                "100",
            ])
            .args(
                if args.contains(&"--pg-listen") || args.contains(&"--no-pg") {
                    &[][..]
                } else {
                    &["--pg-listen", "127.0.0.1:0"][..]
                },
            )
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("serve starts");
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let banner = read_banner(&mut stdout);
        // Keep reading what it prints, so it never blocks on a full pipe.
        std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
        Server {
            child,
            port: banner.port,
            pg_port: banner.pg_port,
            token: banner.token,
        }
    }

    /// The admin token the server printed.
    pub fn admin_token(&self) -> &str {
        self.token
            .as_deref()
            .expect("the server printed an admin token")
    }

    /// GETs `path` as the admin; returns (status, body).
    pub fn get(&self, path: &str) -> (u16, String) {
        request(self.port, "GET", path, Some(self.admin_token()), "")
    }

    /// POSTs JSON as the admin; returns (status, body).
    pub fn post(&self, path: &str, body: &str) -> (u16, String) {
        request(self.port, "POST", path, Some(self.admin_token()), body)
    }

    /// Runs SQL through the API; panics unless 200.
    pub fn sql(&self, query: &str) -> Vec<Vec<Value>> {
        let body = serde_json::json!({"sql": query}).to_string();
        let (status, text) = self.post("/api/v1/sql", &body);
        assert_eq!(status, 200, "{text}");
        let v: Value = serde_json::from_str(&text).unwrap();
        rows_of(&v)
    }

    /// Polls `query` until its single value equals `want` or `limit` passes;
    /// returns how long it took.
    pub fn wait_for(&self, query: &str, want: i64, limit: Duration) -> Duration {
        let start = Instant::now();
        loop {
            let got = self.sql(query)[0][0].as_i64().unwrap();
            if got == want {
                return start.elapsed();
            }
            assert!(
                start.elapsed() < limit,
                "{query}: still {got}, want {want} after {limit:?}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// SIGTERM, then waits; returns whether it exited 0.
    pub fn terminate(mut self) -> bool {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        self.child.wait().map(|s| s.success()).unwrap_or(false)
    }

    /// SIGTERM, then waits up to `limit`: `Some((exited 0, how long))`, or
    /// `None` if it was still running then (it is killed).
    pub fn terminate_within(mut self, limit: Duration) -> Option<(bool, Duration)> {
        let asked = Instant::now();
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        while asked.elapsed() < limit {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some((status.success(), asked.elapsed()));
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        None
    }

    /// SIGKILL.
    pub fn kill9(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A server left running by a failed test is killed, not orphaned.
impl Drop for Server {
    fn drop(&mut self) {
        reap(&mut self.child);
    }
}

/// A child process that a failing test kills instead of orphaning.
pub struct Reaped(pub Child);

impl Drop for Reaped {
    fn drop(&mut self) {
        reap(&mut self.0);
    }
}

/// Kills `child` if it still runs, and waits for it.
fn reap(child: &mut Child) {
    if let Ok(None) = child.try_wait() {
        let _ = child.kill();
        let _ = child.wait();
    }
}

/// A minimal HTTP/1.1 request without a token.
pub fn http(port: u16, method: &str, path: &str, body: &str) -> (u16, String) {
    request(port, method, path, None, body)
}

/// A minimal HTTP/1.1 request, with `token` as its bearer token.
pub fn request(
    port: u16,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: &str,
) -> (u16, String) {
    let auth = token.map_or(String::new(), |t| format!("Authorization: Bearer {t}\r\n"));
    let (status, _, body) = raw_request(
        port,
        &format!(
            "{method} {path} HTTP/1.1\r\nHost: localhost\r\n{auth}Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        ),
    );
    (status, body)
}

/// Sends `text` as the whole request; returns (status, headers, body).
pub fn raw_request(port: u16, text: &str) -> (u16, String, String) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    stream.write_all(text.as_bytes()).unwrap();
    let mut response = String::new();
    // A refused large body may close the connection before it is all sent.
    let _ = stream.read_to_string(&mut response);
    let status = response
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let (headers, body) = response
        .split_once("\r\n\r\n")
        .map(|(h, b)| (h.to_string(), b.to_string()))
        .unwrap_or_default();
    (status, headers, dechunk(&body))
}

fn dechunk(body: &str) -> String {
    // axum answers JSON with a content-length, but be tolerant of chunking.
    if !body.contains("\r\n") {
        return body.to_string();
    }
    let mut out = String::new();
    let mut rest = body;
    while let Some((size, tail)) = rest.split_once("\r\n") {
        let Ok(n) = usize::from_str_radix(size.trim(), 16) else {
            return body.to_string();
        };
        if n == 0 {
            break;
        }
        out.push_str(&tail[..n]);
        rest = &tail[n + 2..];
    }
    out
}

/// A small deterministic generator (xorshift), seeded and printed by tests.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// How many kill -9 rounds the exactly-once tests run
/// (`QUEUELAKE_TAIL_KILLS`, default 10).
pub fn kill_rounds() -> usize {
    env_count("QUEUELAKE_TAIL_KILLS", 10)
}

/// A count a test takes from the environment variable `name` (a bench
/// script raises it), else `default`.
pub fn env_count(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|k| k.parse().ok())
        .unwrap_or(default)
}

/// A two-worker tokio runtime for tests that drive the emulator.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// A seed from the clock, printed so a failure can be replayed with QUEUELAKE_SEED.
pub fn seed() -> u64 {
    let seed = std::env::var("QUEUELAKE_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
                | 1
        });
    eprintln!("seed: {seed} (replay with QUEUELAKE_SEED={seed})");
    seed
}

/// Writes a synthetic queue_log of `calls` answered/abandoned calls from
/// `start` (epoch), one call every 7 s; returns the bytes.
pub fn synthetic_log(start: i64, calls: usize) -> Vec<u8> {
    let mut out = format!("{start}|NONE|NONE|NONE|QUEUESTART|\n").into_bytes();
    for i in 0..calls {
        let t = start + 1 + 7 * i as i64;
        let id = format!("{t}.{i}");
        out.extend_from_slice(
            format!("{t}|{id}|q{}|NONE|ENTERQUEUE||555{i:04}|1\n", i % 3).as_bytes(),
        );
        if i % 4 == 3 {
            out.extend_from_slice(
                format!("{}|{id}|q{}|NONE|ABANDON|1|1|{}\n", t + 9, i % 3, 9).as_bytes(),
            );
        } else {
            out.extend_from_slice(
                format!(
                    "{}|{id}|q{}|Agent {}|CONNECT|4|{t}.9{i}|3\n",
                    t + 4,
                    i % 3,
                    i % 5
                )
                .as_bytes(),
            );
            out.extend_from_slice(
                format!(
                    "{}|{id}|q{}|Agent {}|COMPLETECALLER|4|{}|1\n",
                    t + 60,
                    i % 3,
                    i % 5,
                    30 + i % 50
                )
                .as_bytes(),
            );
        }
    }
    out
}

/// The start offsets of the complete lines in `bytes`.
pub fn line_offsets(bytes: &[u8]) -> Vec<u64> {
    let mut offsets = Vec::new();
    let mut start = 0;
    for (i, b) in bytes.iter().enumerate() {
        if *b == b'\n' {
            offsets.push(start as u64);
            start = i + 1;
        }
    }
    offsets
}

/// Checks the lake holds each complete line of `bytes` exactly once, for
/// the given source path (by count, distinct offsets, and offset sum).
pub fn assert_exactly_once(data: &Path, bytes: &[u8]) {
    let offsets = line_offsets(bytes);
    let rows = sql(
        data,
        "SELECT COUNT(*), COUNT(DISTINCT byte_offset), CAST(SUM(byte_offset) AS BIGINT), CAST(SUM(length(data)) AS BIGINT) FROM queue_log",
        &[],
    );
    let expected_sum: u64 = offsets.iter().sum();
    let payload_bytes: usize = bytes
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| l.splitn(6, |b| *b == b'|').nth(5).map_or(0, |p| p.len()))
        .sum();
    assert_eq!(rows[0][0].as_u64(), Some(offsets.len() as u64), "row count");
    assert_eq!(
        rows[0][1].as_u64(),
        Some(offsets.len() as u64),
        "distinct offsets"
    );
    assert_eq!(rows[0][2].as_u64(), Some(expected_sum), "sum of offsets");
    assert_eq!(
        rows[0][3].as_u64(),
        Some(payload_bytes as u64),
        "payload bytes"
    );
}

/// An office's queue_log from Monday 2024-03-04 (UTC): on the weekdays
/// among `days` (0 = that Monday), in each 15-minute interval `slots` of
/// the day counted from 09:00 (0..32 is 09:00–17:00), `sales` takes 6
/// calls, all answered after 10 s and talked for 120 s, and `support` 3,
/// the third of which hangs up after 30 s. `header` starts the file with
/// Asterisk's QUEUESTART line.
pub fn office_log(days: std::ops::Range<i64>, slots: std::ops::Range<i64>, header: bool) -> String {
    let monday = 1_709_510_400;
    let mut lines: Vec<(i64, String)> = Vec::new();
    if header {
        lines.push((monday, format!("{monday}|NONE|NONE|NONE|QUEUESTART|")));
    }
    let calls = [
        ("sales", 0, false),
        ("sales", 2, false),
        ("sales", 4, false),
        ("sales", 6, false),
        ("sales", 8, false),
        ("sales", 10, false),
        ("support", 1, false),
        ("support", 5, false),
        ("support", 9, true),
    ];
    for day in days.filter(|d| d % 7 < 5) {
        for slot in slots.clone() {
            let interval = monday + day * 86_400 + 9 * 3_600 + slot * 900;
            for (n, (queue, minute, abandons)) in calls.iter().enumerate() {
                let t = interval + minute * 60;
                let id = format!("{t}.{n}");
                lines.push((t, format!("{t}|{id}|{queue}|NONE|ENTERQUEUE||5550{n}|1")));
                if *abandons {
                    let at = t + 30;
                    lines.push((at, format!("{at}|{id}|{queue}|NONE|ABANDON|1|1|30")));
                } else {
                    let (connect, end) = (t + 10, t + 130);
                    lines.push((
                        connect,
                        format!("{connect}|{id}|{queue}|Ana|CONNECT|10|{id}.b|3"),
                    ));
                    lines.push((
                        end,
                        format!("{end}|{id}|{queue}|Ana|COMPLETECALLER|10|120|1"),
                    ));
                }
            }
        }
    }
    lines.sort_by_key(|(t, _)| *t);
    lines.into_iter().map(|(_, l)| l + "\n").collect()
}

/// `[[tokens]]` entries of queuelake.toml: for each (name, role, extra
/// lines such as `queues = [...]`), the token `token(name)` by its SHA-256.
pub fn token_entries(token: impl Fn(&str) -> String, entries: &[(&str, &str, &str)]) -> String {
    use sha2::{Digest, Sha256};
    let mut text = String::new();
    for (name, role, extra) in entries {
        let digest: String = Sha256::digest(token(name).as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        text.push_str(&format!(
            "[[tokens]]\nname = \"{name}\"\nrole = \"{role}\"\nsha256 = \"{digest}\"\n{extra}"
        ));
    }
    text
}

/// `serve` over a small stored lake (one office day) with `server` lines
/// under `[server]` and these tokens (name, role, extra lines), each
/// token's text being `token(name)`.
pub fn serve_small_lake(
    dir: &Path,
    server: &str,
    token: impl Fn(&str) -> String,
    tokens: &[(&str, &str, &str)],
) -> Server {
    let queue_log = dir.join("queue_log");
    std::fs::write(&queue_log, office_log(0..1, 0..2, true)).unwrap();
    let lake = dir.join("lake");
    ingest(&lake, &[&queue_log]);
    let mut text = format!(
        "version = 1\n[server]\nrequests_per_second = 0\n{server}\n\
         [queue_log]\nfile = {:?}\n",
        queue_log.display().to_string()
    );
    text.push_str(&token_entries(token, tokens));
    let config = dir.join("queuelake.toml");
    std::fs::write(&config, text).unwrap();
    Server::serve(&lake, &["--config", config.to_str().unwrap()])
}

/// A gauge's value in `/metrics` (read with `token`).
pub fn gauge(port: u16, token: &str, name: &str) -> f64 {
    let (status, text) = request(port, "GET", "/metrics", Some(token), "");
    assert_eq!(status, 200, "{text}");
    let prefix = format!("{name} ");
    text.lines()
        .find_map(|l| l.strip_prefix(prefix.as_str()))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("{name} is not exported"))
}

/// The emulated demo contact center (simulation seed `seed`): `history_days`
/// of rotated queue_log history, then live from 2024-03-06 10:00 UTC (a
/// Wednesday morning) at 10× speed, with AMI on a free port for user `ql`,
/// secret `pw`; its queue_log is `<dir>/queue_log`.
pub fn emulated_pbx(
    rt: &tokio::runtime::Runtime,
    dir: &Path,
    seed: u64,
    history_days: u32,
) -> queuelake_ingest::emulator::Emulator {
    emulated_pbx_with(rt, dir, seed, history_days, |_| {})
}

/// [`emulated_pbx`] with `tune` applied to its configuration first.
pub fn emulated_pbx_with(
    rt: &tokio::runtime::Runtime,
    dir: &Path,
    seed: u64,
    history_days: u32,
    tune: impl FnOnce(&mut queuelake_ingest::emulator::EmulatorConfig),
) -> queuelake_ingest::emulator::Emulator {
    use queuelake_ingest::emulator::{AmiCredentials, Emulator, EmulatorConfig};
    rt.block_on(async {
        let mut config = EmulatorConfig::new(
            queuelake_scheduler::sim::demo_config(seed),
            dir.join("queue_log"),
        );
        config.live_from = Some(EMULATED_LIVE_FROM);
        config.speed = 10.0;
        config.history_days = history_days;
        config.ami = Some((
            "127.0.0.1:0".parse().unwrap(),
            AmiCredentials {
                username: "ql".into(),
                secret: "pw".into(),
            },
        ));
        tune(&mut config);
        Emulator::start(config).await.unwrap()
    })
}

/// When [`emulated_pbx`] goes live: 2024-03-06 10:00 UTC.
pub const EMULATED_LIVE_FROM: i64 = 1_709_719_200_000;

/// A request with `token`; the answer parsed as JSON (as a JSON string
/// when it is not JSON).
pub fn json_call(port: u16, method: &str, path: &str, token: &str, body: &str) -> (u16, Value) {
    let (status, text) = request(port, method, path, Some(token), body);
    let value = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, value)
}

/// Held by a test that asserts the service's latency under attack and by
/// the tests that run an emulated contact center at 10× speed for tens of
/// seconds: on a 2-core machine the two together measure the machine, not
/// the service. A test that panicked while holding it does not block the
/// others.
pub fn exclusive_cores() -> std::sync::MutexGuard<'static, ()> {
    static CORES: std::sync::Mutex<()> = std::sync::Mutex::new(());
    CORES
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}
