//! The live tail through `serve`: visibility, partial lines, rotations,
//! restarts, SIGTERM and kill -9.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::Path;
use std::time::Duration;

use crate::support::{Rng, Server, assert_exactly_once, seed, sql, synthetic_log};

const COUNT: &str = "SELECT COUNT(*) FROM queue_log";
const LIMIT: Duration = Duration::from_secs(10);

fn append(path: &Path, bytes: &[u8]) {
    let mut f = OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap();
    f.write_all(bytes).unwrap();
}

#[test]
fn appended_lines_are_visible_and_partial_lines_wait() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("queue_log");
    let lake = dir.path().join("lake");
    append(&log, b"1700000000|NONE|NONE|NONE|QUEUESTART|\n");
    let server = Server::start(&lake, &log, &[]);
    server.wait_for(COUNT, 1, LIMIT);
    let took = {
        append(&log, b"1700000001|1.1|q|NONE|ENTERQUEUE||5|1\n");
        server.wait_for(COUNT, 2, LIMIT)
    };
    eprintln!("append → visible: {took:?}");
    append(&log, b"1700000002|1.1|q|NONE|ABAN");
    std::thread::sleep(Duration::from_millis(400));
    assert_eq!(server.sql(COUNT)[0][0], 2, "a partial line is held");
    append(&log, b"DON|1|1|1\n");
    server.wait_for(
        "SELECT COUNT(*) FROM queue_log WHERE event = 'ABANDON'",
        1,
        LIMIT,
    );
    assert!(server.terminate(), "SIGTERM exits 0");
    // Committed at shutdown: the CLI reads it from Parquet.
    assert_eq!(sql(&lake, COUNT, &[])[0][0], 3);
}

#[test]
fn http_sql_refuses_writes_and_names_errors() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("queue_log");
    append(&log, b"1700000000|NONE|NONE|NONE|QUEUESTART|\n");
    let server = Server::start(&dir.path().join("lake"), &log, &[]);
    server.wait_for(COUNT, 1, LIMIT);
    for (body, needle) in [
        (r#"{"sql":"DROP TABLE queue_log"}"#, "read-only"),
        (r#"{"sql":"CREATE TABLE t AS SELECT 1"}"#, "read-only"),
        (
            r#"{"sql":"INSERT INTO queue_log SELECT * FROM queue_log"}"#,
            "read-only",
        ),
        (
            r#"{"sql":"COPY (SELECT 1) TO '/tmp/queuelake-x.csv'"}"#,
            "read-only",
        ),
        (
            r#"{"sql":"SET datafusion.execution.batch_size = 1"}"#,
            "read-only",
        ),
        (
            r#"{"sql":"CREATE EXTERNAL TABLE x STORED AS CSV LOCATION '/etc/passwd'"}"#,
            "read-only",
        ),
        (r#"{"sql":"SELECT * FROM '/etc/passwd'"}"#, "not found"),
        (r#"{"sql":"SELEC 1"}"#, "Line: 1, Column: 1"),
        (r#"{"sql":"SELECT nope FROM queue_log"}"#, "nope"),
        (r#"{"sq":"SELECT 1"}"#, "unknown field `sq`"),
        (r#"not json"#, "request body"),
    ] {
        let (status, text) = server.post("/api/v1/sql", body);
        // A well-formed body of the wrong shape is 422, the rest 400.
        let expected = if body.contains("\"sq\"") { 422 } else { 400 };
        assert_eq!(status, expected, "{body} → {text}");
        assert!(text.contains(needle), "{body} → {text}");
        assert!(text.contains(&format!("\"status\":{expected}")), "{text}");
    }
    assert!(!Path::new("/tmp/queuelake-x.csv").exists());
    assert_eq!(server.sql(COUNT)[0][0], 1, "nothing changed");
    let (status, text) = server.post(
        "/api/v1/sql",
        r#"{"sql":"SELECT event FROM queue_log","format":"csv"}"#,
    );
    assert_eq!((status, text.as_str()), (200, "event\r\nQUEUESTART\r\n"));
    server.kill9();
}

#[test]
fn rename_rotation_while_running_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("queue_log");
    let lake = dir.path().join("lake");
    let first = synthetic_log(1_700_000_000, 200);
    let second = synthetic_log(1_700_010_000, 100);
    append(&log, &first[..first.len() / 2]);
    let server = Server::start(&lake, &log, &[]);
    std::thread::sleep(Duration::from_millis(300));
    append(&log, &first[first.len() / 2..]);
    // Asterisk's rotation: rename, then a new file.
    std::fs::rename(&log, dir.path().join("queue_log.1")).unwrap();
    append(&log, &second);
    let total =
        crate::support::line_offsets(&first).len() + crate::support::line_offsets(&second).len();
    server.wait_for(COUNT, total as i64, LIMIT);
    assert!(server.terminate());
    assert_eq!(
        sql(
            &lake,
            "SELECT COUNT(*), COUNT(DISTINCT source) FROM queue_log",
            &[]
        )[0],
        vec![serde_json::json!(total), serde_json::json!(2)]
    );
}

#[test]
fn rotation_while_down_is_finished_from_the_sibling() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("queue_log");
    let lake = dir.path().join("lake");
    let first = synthetic_log(1_700_000_000, 200);
    let cut = crate::support::line_offsets(&first)[300] as usize;
    append(&log, &first[..cut]);
    let server = Server::start(&lake, &log, &[]);
    server.wait_for(COUNT, 300, LIMIT);
    assert!(server.terminate());
    // While down: the file grows, is rotated away, and a new one starts.
    append(&log, &first[cut..]);
    std::fs::rename(&log, dir.path().join("queue_log-20231114")).unwrap();
    let second = synthetic_log(1_700_010_000, 50);
    append(&log, &second);
    let server = Server::start(&lake, &log, &[]);
    let total =
        crate::support::line_offsets(&first).len() + crate::support::line_offsets(&second).len();
    server.wait_for(COUNT, total as i64, LIMIT);
    assert!(server.terminate());
    assert_eq!(
        sql(
            &lake,
            "SELECT COUNT(*), COUNT(DISTINCT byte_offset || source) FROM queue_log",
            &[]
        )[0],
        vec![serde_json::json!(total), serde_json::json!(total)]
    );
}

/// A file queuelake never saw — created, filled and rotated away in one
/// outage — is read at the next start; a sibling older than the path's
/// first start is history and is left to `ingest`.
#[test]
fn a_file_born_and_rotated_while_down_is_read_and_history_is_not() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("queue_log");
    let lake = dir.path().join("lake");
    let history = dir.path().join("queue_log.1");
    append(&history, &synthetic_log(1_699_000_000, 30));
    let an_hour_ago = std::time::SystemTime::now() - Duration::from_secs(3600);
    OpenOptions::new()
        .write(true)
        .open(&history)
        .unwrap()
        .set_modified(an_hour_ago)
        .unwrap();
    let files = [
        synthetic_log(1_700_000_000, 40),
        synthetic_log(1_700_010_000, 50),
        synthetic_log(1_700_020_000, 60),
    ];
    let lines = |f: &Vec<u8>| crate::support::line_offsets(f).len() as i64;
    append(&log, &files[0]);
    let server = Server::start(&lake, &log, &[]);
    server.wait_for(COUNT, lines(&files[0]), LIMIT);
    server.kill9();
    // While down: two rename rotations; files[1] lives and dies unseen.
    let rotate = || {
        std::fs::rename(
            dir.path().join("queue_log.2"),
            dir.path().join("queue_log.3"),
        )
        .ok();
        std::fs::rename(
            dir.path().join("queue_log.1"),
            dir.path().join("queue_log.2"),
        )
        .unwrap();
        std::fs::rename(&log, dir.path().join("queue_log.1")).unwrap();
    };
    rotate();
    append(&log, &files[1]);
    rotate();
    append(&log, &files[2]);
    let server = Server::start(&lake, &log, &[]);
    let total: i64 = files.iter().map(lines).sum();
    server.wait_for(COUNT, total, LIMIT);
    assert!(server.terminate());
    let per_source = sql(
        &lake,
        "SELECT COUNT(*), COUNT(DISTINCT byte_offset) FROM queue_log GROUP BY source ORDER BY 1",
        &[],
    );
    let want: Vec<Vec<serde_json::Value>> = files
        .iter()
        .map(|f| vec![serde_json::json!(lines(f)), serde_json::json!(lines(f))])
        .collect();
    assert_eq!(per_source, want, "history (30 lines) must stay out");
}

#[test]
fn copytruncate_is_followed_through_the_copy() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("queue_log");
    let lake = dir.path().join("lake");
    let first = synthetic_log(1_700_000_000, 100);
    append(&log, &first);
    let server = Server::start(&lake, &log, &[]);
    let n1 = crate::support::line_offsets(&first).len() as i64;
    server.wait_for(COUNT, n1, LIMIT);
    // logrotate copytruncate: copy, then truncate in place, then new lines.
    std::fs::copy(&log, dir.path().join("queue_log.1")).unwrap();
    OpenOptions::new()
        .write(true)
        .open(&log)
        .unwrap()
        .set_len(0)
        .unwrap();
    let second = synthetic_log(1_700_020_000, 20);
    append(&log, &second);
    let total = n1 + crate::support::line_offsets(&second).len() as i64;
    server.wait_for(COUNT, total, LIMIT);
    assert!(server.terminate());
    assert_eq!(sql(&lake, COUNT, &[])[0][0], total);
}

/// kill -9 the server at random instants while lines are appended; after a
/// clean final run the lake holds each line exactly once.
#[test]
fn kill_9_while_tailing_never_loses_or_duplicates() {
    let kills = crate::support::kill_rounds();
    let mut rng = Rng(seed());
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("queue_log");
    let lake = dir.path().join("lake");
    let bytes = synthetic_log(1_700_000_000, 4000);
    let offsets = crate::support::line_offsets(&bytes);
    let mut written = 0usize;
    for round in 0..kills {
        // short flush interval so commits happen between kills
        let server = Server::start(&lake, &log, &["--flush-seconds", "0"]);
        for _ in 0..5 {
            let upto = (written + 1 + rng.below(300) as usize).min(bytes.len());
            // sometimes stop mid-line
            append(&log, &bytes[written..upto]);
            written = upto;
            std::thread::sleep(Duration::from_millis(rng.below(60)));
        }
        if round % 3 == 0 {
            std::thread::sleep(Duration::from_millis(150));
        }
        server.kill9();
    }
    append(&log, &bytes[written..]);
    let server = Server::start(&lake, &log, &[]);
    server.wait_for(COUNT, offsets.len() as i64, LIMIT);
    assert!(server.terminate());
    assert_exactly_once(&lake, &bytes);
}

/// Asterisk's queue_log as an operator's bad day writes it: lines arriving
/// in pieces, `logger rotate` renaming `queue_log` → `queue_log.1` →
/// `queue_log.2` (once or twice while queuelake is down), old siblings
/// gzipped, now and then a copytruncate.
struct RotatingWriter {
    dir: std::path::PathBuf,
    files: Vec<Vec<u8>>,
    /// The file being written to `queue_log`, and how much of it is there.
    current: usize,
    written: usize,
}

impl RotatingWriter {
    fn live(&self) -> std::path::PathBuf {
        self.dir.join("queue_log")
    }

    /// Appends up to `max` more bytes of the current file (cut anywhere).
    fn append_some(&mut self, rng: &mut Rng, max: u64) {
        let file = &self.files[self.current];
        let upto = (self.written + 1 + rng.below(max) as usize).min(file.len());
        append(&self.live(), &file[self.written..upto]);
        self.written = upto;
    }

    fn has_next(&self) -> bool {
        self.current + 1 < self.files.len()
    }

    /// Moves every sibling `queue_log.N[.gz]` to N + 1.
    fn shift_numbered(&self) {
        let mut numbered: Vec<(u32, String)> = std::fs::read_dir(&self.dir)
            .unwrap()
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .filter_map(|name| {
                let rest = name.strip_prefix("queue_log.")?;
                let n = rest.split('.').next()?.parse().ok()?;
                Some((n, name))
            })
            .collect();
        numbered.sort();
        for (n, name) in numbered.into_iter().rev() {
            let renamed = name.replacen(
                &format!("queue_log.{n}"),
                &format!("queue_log.{}", n + 1),
                1,
            );
            std::fs::rename(self.dir.join(&name), self.dir.join(renamed)).unwrap();
        }
    }

    /// Completes the current file and rotates by rename: the siblings
    /// shift, the live file becomes `.1`, the next file starts.
    fn rotate(&mut self) {
        let file = &self.files[self.current];
        append(&self.live(), &file[self.written..]);
        self.shift_numbered();
        std::fs::rename(self.live(), self.dir.join("queue_log.1")).unwrap();
        self.current += 1;
        self.written = 0;
    }

    /// logrotate's copytruncate: the completed live file copied to `.1`
    /// (after the shift), then emptied in place for the next file.
    fn copytruncate(&mut self) {
        let file = &self.files[self.current];
        append(&self.live(), &file[self.written..]);
        self.shift_numbered();
        std::fs::copy(self.live(), self.dir.join("queue_log.1")).unwrap();
        OpenOptions::new()
            .write(true)
            .open(self.live())
            .unwrap()
            .set_len(0)
            .unwrap();
        self.current += 1;
        self.written = 0;
    }

    /// Gzips the oldest plain sibling numbered 2 or more, as gzip does.
    fn gzip_oldest(&self) {
        let oldest = std::fs::read_dir(&self.dir)
            .unwrap()
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .filter_map(|name| {
                let n: u32 = name.strip_prefix("queue_log.")?.parse().ok()?;
                (n >= 2).then_some((n, name))
            })
            .max();
        let Some((_, name)) = oldest else { return };
        let plain = self.dir.join(&name);
        let bytes = std::fs::read(&plain).unwrap();
        let modified = std::fs::metadata(&plain).unwrap().modified().unwrap();
        let gz = std::fs::File::create(self.dir.join(format!("{name}.gz"))).unwrap();
        let mut encoder = flate2::write::GzEncoder::new(gz, flate2::Compression::fast());
        encoder.write_all(&bytes).unwrap();
        // gzip keeps the original's modification time.
        encoder.finish().unwrap().set_modified(modified).unwrap();
        std::fs::remove_file(plain).unwrap();
    }
}

/// Per file: (lines, distinct offsets, sum of offsets, payload bytes), sorted.
fn expected_per_source(files: &[Vec<u8>]) -> Vec<[u64; 4]> {
    let mut out: Vec<[u64; 4]> = files
        .iter()
        .map(|bytes| {
            let offsets = crate::support::line_offsets(bytes);
            let payload: usize = bytes
                .split(|b| *b == b'\n')
                .filter(|l| !l.is_empty())
                .map(|l| l.splitn(6, |b| *b == b'|').nth(5).map_or(0, |p| p.len()))
                .sum();
            [
                offsets.len() as u64,
                offsets.len() as u64,
                offsets.iter().sum(),
                payload as u64,
            ]
        })
        .collect();
    out.sort();
    out
}

/// kill -9 at random instants — most of them long before `serve`'s first
/// timed commit (60 s), some within the first second of a new file —
/// while the writer appends in pieces and rotates by rename (also twice
/// while down), gzips old siblings and now and then copytruncates; after a
/// clean final run every line of every file is in the lake exactly once,
/// the first file included (per source: count, distinct offsets, offset
/// sum, payload bytes).
#[test]
fn kill_9_at_any_instant_with_rotations_loses_no_file() {
    let kills: usize = crate::support::env_count("QUEUELAKE_ROTATION_KILLS", 50);
    let mut rng = Rng(seed());
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("logs");
    std::fs::create_dir(&logs).unwrap();
    let lake = dir.path().join("lake");
    let files: Vec<Vec<u8>> = (0..(kills / 4).max(3))
        .map(|i| synthetic_log(1_700_000_000 + 100_000 * i as i64, 60 + (i % 4) * 40))
        .collect();
    let mut writer = RotatingWriter {
        dir: logs.clone(),
        files: files.clone(),
        current: 0,
        written: 0,
    };
    writer.append_some(&mut rng, 200);
    let log = writer.live();
    let mut killed = 0;
    while killed < kills {
        // Default cadence: no timed commit happens in any of these runs.
        let server = Server::start(&lake, &log, &[]);
        for _ in 0..1 + rng.below(4) {
            match rng.below(10) {
                0 | 1 if writer.has_next() => writer.rotate(),
                2 if writer.has_next() && rng.below(3) == 0 => writer.copytruncate(),
                _ => writer.append_some(&mut rng, 2_000),
            }
            std::thread::sleep(Duration::from_millis(rng.below(400)));
        }
        server.kill9();
        killed += 1;
        // While down: the file grows, is rotated once or twice, gzipped.
        if rng.below(2) == 0 {
            writer.append_some(&mut rng, 1_000);
        }
        for _ in 0..rng.below(3) {
            if writer.has_next() {
                writer.rotate();
                writer.append_some(&mut rng, 300);
            }
        }
        if rng.below(3) == 0 {
            writer.gzip_oldest();
        }
    }
    while writer.has_next() {
        writer.rotate();
    }
    let last = writer.files[writer.current].clone();
    append(&log, &last[writer.written..]);
    let total: u64 = expected_per_source(&files).iter().map(|s| s[0]).sum();
    let server = Server::start(&lake, &log, &[]);
    server.wait_for(COUNT, total as i64, Duration::from_secs(30));
    assert!(server.terminate());
    let rows = sql(
        &lake,
        "SELECT COUNT(*), COUNT(DISTINCT byte_offset), CAST(SUM(byte_offset) AS BIGINT), \
         CAST(SUM(length(data)) AS BIGINT) FROM queue_log GROUP BY source",
        &[],
    );
    let mut got: Vec<[u64; 4]> = rows
        .iter()
        .map(|r| std::array::from_fn(|i| r[i].as_u64().unwrap()))
        .collect();
    got.sort();
    assert_eq!(got, expected_per_source(&files), "{killed} kills");
    eprintln!(
        "rotation kill loop: {killed} kills, {} files, {total} lines, 0 lost, 0 repeated",
        files.len()
    );
}
