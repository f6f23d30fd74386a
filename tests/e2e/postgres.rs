//! queue_log in PostgreSQL, against the real server on this machine
//! (`QUEUELAKE_TEST_POSTGRES`, default postgres://postgres@127.0.0.1:5432/test):
//! the same exactly-once kill -9 test as the file source, and the same
//! rows as the file source for the same lines.

use std::path::Path;
use std::time::Duration;

use serde_json::Value;

use crate::support::{Rng, Server, line_offsets, runtime, seed, sql, synthetic_log};

const LIMIT: Duration = Duration::from_secs(60);

fn url() -> String {
    std::env::var("QUEUELAKE_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

/// A client, or `None` (outside CI only) when no server is reachable.
fn connect(rt: &tokio::runtime::Runtime) -> Option<tokio_postgres::Client> {
    match rt.block_on(tokio_postgres::connect(&url(), tokio_postgres::NoTls)) {
        Ok((client, connection)) => {
            rt.spawn(connection);
            Some(client)
        }
        Err(e) => {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "CI=true but PostgreSQL at {} is unreachable: {e}",
                url()
            );
            eprintln!("PostgreSQL unreachable ({e}); skipped outside CI");
            None
        }
    }
}

/// A fresh table in Asterisk 13+'s realtime layout.
fn create_table(rt: &tokio::runtime::Runtime, client: &tokio_postgres::Client) -> String {
    let table = format!(
        "ql_test_queue_log_{}_{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos()
    );
    rt.block_on(client.batch_execute(&format!(
        "DROP TABLE IF EXISTS {table}; CREATE TABLE {table} (
           id BIGSERIAL PRIMARY KEY, time TIMESTAMP, callid VARCHAR(80),
           queuename VARCHAR(256), agent VARCHAR(80), event VARCHAR(32),
           data1 VARCHAR(100), data2 VARCHAR(100), data3 VARCHAR(100),
           data4 VARCHAR(100), data5 VARCHAR(100))"
    )))
    .unwrap();
    table
}

/// Inserts lines as Asterisk's realtime backend does: `time` in local
/// time (here UTC), the payload split on `|` into at most five columns.
fn insert_lines(
    rt: &tokio::runtime::Runtime,
    client: &tokio_postgres::Client,
    table: &str,
    lines: &[&str],
) {
    if lines.is_empty() {
        return;
    }
    let mut sql = format!(
        "INSERT INTO {table} (time, callid, queuename, agent, event, data1, data2, data3, data4, data5) VALUES "
    );
    for (n, line) in lines.iter().enumerate() {
        let parts: Vec<&str> = line.splitn(6, '|').collect();
        let mut data: Vec<String> = parts[5].splitn(5, '|').map(quote).collect();
        data.resize(5, "''".into());
        if n > 0 {
            sql.push(',');
        }
        sql.push_str(&format!(
            "(to_timestamp({}) AT TIME ZONE 'UTC', {}, {}, {}, {}, {})",
            parts[0],
            quote(parts[1]),
            quote(parts[2]),
            quote(parts[3]),
            quote(parts[4]),
            data.join(", ")
        ));
    }
    rt.block_on(client.batch_execute(&sql)).unwrap();
}

fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// Drops the test's table when the test ends, passed or failed.
struct DropTable<'a> {
    rt: &'a tokio::runtime::Runtime,
    client: &'a tokio_postgres::Client,
    table: String,
}

impl Drop for DropTable<'_> {
    fn drop(&mut self) {
        let sql = format!("DROP TABLE IF EXISTS {}", self.table);
        let _ = self.rt.block_on(self.client.batch_execute(&sql));
    }
}

const ROWS: &str = "SELECT CAST(ts AS VARCHAR) AS t, callid, queue, agent, event, data, data1, data2, data3, data4, data5 \
                    FROM queue_log ORDER BY ts, callid, event, data";

fn rows(data: &Path) -> Vec<Vec<Value>> {
    sql(data, ROWS, &[])
}

/// kill -9 the server at random instants while rows are inserted; after a
/// clean final run the lake holds each row exactly once, and the rows are
/// those the file source gives for the same lines.
#[test]
fn kill_9_while_following_the_table_never_loses_or_duplicates() {
    let rt = runtime();
    let Some(client) = connect(&rt) else {
        return;
    };
    let table = create_table(&rt, &client);
    let _drop = DropTable {
        rt: &rt,
        client: &client,
        table: table.clone(),
    };
    let kills = crate::support::kill_rounds();
    let mut rng = Rng(seed());
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    let bytes = synthetic_log(1_700_000_000, 2000);
    let text = String::from_utf8(bytes.clone()).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let url = url();
    let args = [
        "--queue-log-postgres",
        url.as_str(),
        "--table",
        table.as_str(),
        "--table-time-zone",
        "UTC",
    ];
    let mut inserted = 0usize;
    for round in 0..kills {
        let mut round_args = args.to_vec();
        round_args.extend(["--flush-seconds", "0"]);
        let server = Server::serve(&lake, &round_args);
        for _ in 0..5 {
            let upto = (inserted + 1 + rng.below(150) as usize).min(lines.len());
            insert_lines(&rt, &client, &table, &lines[inserted..upto]);
            inserted = upto;
            std::thread::sleep(Duration::from_millis(rng.below(60)));
        }
        if round % 3 == 0 {
            std::thread::sleep(Duration::from_millis(150));
        }
        server.kill9();
    }
    insert_lines(&rt, &client, &table, &lines[inserted..]);
    let server = Server::serve(&lake, &args);
    server.wait_for("SELECT COUNT(*) FROM queue_log", lines.len() as i64, LIMIT);
    assert!(server.terminate());

    // Exactly once: one row per id, ids 1..=n.
    let n = lines.len() as u64;
    let check = sql(
        &lake,
        "SELECT COUNT(*), COUNT(DISTINCT byte_offset), CAST(SUM(byte_offset) AS BIGINT), MIN(byte_offset), MAX(byte_offset) FROM queue_log",
        &[],
    );
    let got: Vec<u64> = check[0].iter().map(|v| v.as_u64().unwrap()).collect();
    assert_eq!(
        got,
        vec![n, n, n * (n + 1) / 2, 1, n],
        "count, distinct ids, id sum, min, max"
    );

    // The same rows as the file source.
    let file_dir = dir.path().join("file");
    std::fs::create_dir_all(&file_dir).unwrap();
    let file = file_dir.join("queue_log");
    std::fs::write(&file, &bytes).unwrap();
    let file_lake = file_dir.join("lake");
    crate::support::ingest(&file_lake, &[&file]);
    assert_eq!(line_offsets(&bytes).len() as u64, n);
    assert_eq!(rows(&lake), rows(&file_lake));
}

/// A table that is not a queue_log table is refused at start with its name
/// and what is missing.
#[test]
fn a_table_without_an_id_is_refused_by_name() {
    let rt = runtime();
    let Some(client) = connect(&rt) else {
        return;
    };
    let table = format!("ql_test_no_id_{}", std::process::id());
    rt.block_on(client.batch_execute(&format!(
        "DROP TABLE IF EXISTS {table}; CREATE TABLE {table} (time TEXT, callid TEXT, queuename TEXT, agent TEXT, event TEXT, data TEXT)"
    )))
    .unwrap();
    let _drop = DropTable {
        rt: &rt,
        client: &client,
        table: table.clone(),
    };
    let dir = tempfile::tempdir().unwrap();
    let out = crate::support::run(&[
        "serve",
        "--data",
        dir.path().join("lake").to_str().unwrap(),
        "--queue-log-postgres",
        &url(),
        "--table",
        &table,
        "--listen",
        "127.0.0.1:0",
    ]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&table) && stderr.contains("no column id"),
        "{stderr}"
    );
}
