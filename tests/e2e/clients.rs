//! The drivers analysts use, against the served PostgreSQL port: psycopg,
//! SQLAlchemy with pandas (`read_sql` through an engine, reflection),
//! asyncpg (tests/clients/python_clients.py) and the PostgreSQL JDBC
//! driver (tests/clients/JdbcClient.java, Debian's libpostgresql-jdbc-java).
//! Each connects with an unscoped and a queue-scoped token, lists the
//! tables and the columns of `calls`, and runs a parameterised query whose
//! rows must equal the HTTP API's for the same token. `.ci/run` installs
//! the drivers; outside CI a missing one is skipped with a message.

use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;

use crate::support::{request, serve_small_lake};

fn token(name: &str) -> String {
    format!("ql_clients_{name}")
}

const QUERY: &str =
    "SELECT queue, COUNT(*) AS calls FROM calls WHERE queue >= {p} GROUP BY queue ORDER BY queue";

fn clients_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/clients")
}

/// Whether a driver can run here; in CI it must.
fn available(what: &str, check: &mut Command) -> bool {
    let ok = check.output().is_ok_and(|o| o.status.success());
    if !ok {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI=true but {what} is missing (.ci/run installs it)"
        );
        eprintln!("{what} missing; skipped outside CI");
    }
    ok
}

/// The rows the HTTP API answers for `QUERY` with the parameter `''`.
fn http_rows(port: u16, who: &str) -> Vec<Vec<Value>> {
    let sql = QUERY.replace("{p}", "''");
    let body = serde_json::json!({ "sql": sql }).to_string();
    let (status, text) = request(port, "POST", "/api/v1/sql", Some(&token(who)), &body);
    assert_eq!(status, 200, "{text}");
    let answer: Value = serde_json::from_str(&text).unwrap();
    serde_json::from_value(answer["rows"].clone()).unwrap()
}

/// Checks one driver's answer against the HTTP rows and the scope.
fn check(driver: &str, who: &str, answer: &Value, want_rows: &[Vec<Value>]) {
    assert!(
        answer.get("error").is_none(),
        "{driver} as {who}: {}\n{}",
        answer["error"],
        answer["trace"].as_str().unwrap_or("")
    );
    let tables: Vec<&str> = answer["tables"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    for table in ["calls", "interval_stats", "queue_log", "ami_events"] {
        assert!(
            tables.contains(&table),
            "{driver} as {who}: {table} not in {tables:?}"
        );
    }
    let columns: Vec<&str> = answer["columns"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        columns.contains(&"enter_ts") && columns.contains(&"queue"),
        "{driver} as {who}: columns of calls {columns:?}"
    );
    let rows: Vec<Vec<Value>> = serde_json::from_value(answer["rows"].clone()).unwrap();
    assert_eq!(
        rows, want_rows,
        "{driver} as {who}: rows differ from HTTP's"
    );
}

/// Runs a client program and reads the JSON it prints.
fn answer_of(command: &mut Command) -> Value {
    let out = command.output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{e}: {text}\n{}", String::from_utf8_lossy(&out.stderr)))
}

#[test]
fn analysts_drivers_connect_list_and_query_as_the_http_api_answers() {
    let python = available(
        "psycopg, SQLAlchemy, pandas and asyncpg (pip)",
        Command::new("python3").args(["-c", "import psycopg, sqlalchemy, pandas, asyncpg"]),
    );
    let jar = PathBuf::from("/usr/share/java/postgresql.jar");
    let java = available(
        "java with the PostgreSQL JDBC driver (apt: default-jre-headless libpostgresql-jdbc-java)",
        Command::new("test").arg("-f").arg(&jar),
    ) && available("java", Command::new("java").arg("-version"));
    let dir = tempfile::tempdir().unwrap();
    let server = serve_small_lake(
        dir.path(),
        "",
        token,
        &[
            ("analyst", "analyst", ""),
            ("sales-analyst", "analyst", "queues = [\"sales\"]\n"),
        ],
    );
    let pg_port = server.pg_port.unwrap().to_string();
    for who in ["analyst", "sales-analyst"] {
        let want = http_rows(server.port, who);
        let queues: Vec<&str> = want.iter().filter_map(|r| r[0].as_str()).collect();
        match who {
            "analyst" => assert_eq!(queues, ["sales", "support"]),
            _ => assert_eq!(queues, ["sales"]),
        }
        if python {
            let answers = answer_of(
                Command::new("python3")
                    .arg(clients_dir().join("python_clients.py"))
                    .args([&pg_port, &token(who), QUERY, ""]),
            );
            for driver in ["psycopg", "sqlalchemy", "asyncpg"] {
                check(driver, who, &answers[driver], &want);
            }
        }
        if java {
            let answer = answer_of(
                Command::new("java")
                    .arg("-cp")
                    .arg(&jar)
                    .arg(clients_dir().join("JdbcClient.java"))
                    .args([&pg_port, &token(who), QUERY, ""]),
            );
            check("jdbc", who, &answer, &want);
        }
    }
}
