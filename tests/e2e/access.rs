//! The API platform end to end: every route × every role, scopes through
//! SQL over HTTP and over the PostgreSQL port (tokio-postgres and psql),
//! the catalog queries Grafana and Metabase send, problem documents,
//! limits, and the init → serve path.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::time::Duration;

use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::support::{Server, http, raw_request, request, runtime};

/// The roles, in the order of the expectation arrays below.
const ROLES: [&str; 6] = ["admin", "analyst", "planner", "manager", "dialer", "viewer"];

fn token_of(name: &str) -> String {
    format!("ql_test_{name}")
}

fn sha256_hex(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Midnight UTC today, so the live view's "today" holds the test's calls.
fn today_utc() -> i64 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    now - now.rem_euclid(86_400)
}

/// A queue_log with calls in `sales` (2) and `support` (3), answered by
/// Ana, who logs in with a queue-less line.
fn write_queue_log(path: &Path) {
    let t = today_utc() + 60;
    let mut text = format!("{t}|NONE|NONE|Ana|AGENTLOGIN|PJSIP/ana\n");
    for (i, queue) in ["sales", "support", "sales", "support", "support"]
        .iter()
        .enumerate()
    {
        let at = t + 60 * (i as i64 + 1);
        let id = format!("{at}.{i}");
        text.push_str(&format!("{at}|{id}|{queue}|NONE|ENTERQUEUE||555|1\n"));
        text.push_str(&format!("{}|{id}|{queue}|Ana|CONNECT|5|x|2\n", at + 5));
        text.push_str(&format!(
            "{}|{id}|{queue}|Ana|COMPLETECALLER|5|45|1\n",
            at + 50
        ));
    }
    std::fs::write(path, text).unwrap();
}

/// A configuration with one token per role, a sales-scoped analyst and
/// viewer, and a token limited to 2 requests per second.
fn write_config(path: &Path, queue_log: &Path) {
    let mut text = format!(
        "version = 1\n[server]\nmax_body_bytes = 4096\nrequests_per_second = 0\nauth_failures_burst = 10000\n\
         [query]\nmax_concurrent = 2\n[queue_log]\nfile = {:?}\n",
        queue_log.display().to_string()
    );
    for role in ROLES {
        text.push_str(&format!(
            "[[tokens]]\nname = \"{role}\"\nrole = \"{role}\"\nsha256 = \"{}\"\n",
            sha256_hex(&token_of(role))
        ));
    }
    for (name, role) in [("sales-analyst", "analyst"), ("sales-viewer", "viewer")] {
        text.push_str(&format!(
            "[[tokens]]\nname = \"{name}\"\nrole = \"{role}\"\nsha256 = \"{}\"\nqueues = [\"sales\"]\ncampaigns = [\"winback\"]\n",
            sha256_hex(&token_of(name))
        ));
    }
    text.push_str(&format!(
        "[[tokens]]\nname = \"limited\"\nrole = \"viewer\"\nsha256 = \"{}\"\nrequests_per_second = 1\nburst = 2\n",
        sha256_hex(&token_of("limited"))
    ));
    std::fs::write(path, text).unwrap();
}

/// A served lake with the queue_log above, all of it committed.
fn server(dir: &Path) -> Server {
    let queue_log = dir.join("queue_log");
    write_queue_log(&queue_log);
    let config = dir.join("queuelake.toml");
    write_config(&config, &queue_log);
    let server = Server::serve(
        &dir.join("lake"),
        &["--config", config.to_str().unwrap(), "--flush-seconds", "1"],
    );
    let token = token_of("admin");
    for _ in 0..200 {
        let (_, body) = request(
            server.port,
            "POST",
            "/api/v1/sql",
            Some(&token),
            r#"{"sql":"SELECT COUNT(*) FROM queue_log"}"#,
        );
        if body.contains("[[16]]") {
            return server;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("the queue_log never reached the lake");
}

/// GETs `path` with the test token of `token_name`.
fn get_as(port: u16, path: &str, token_name: &str) -> (u16, String) {
    request(port, "GET", path, Some(&token_of(token_name)), "")
}

/// The status line of a response whose body may never end (SSE).
fn status_only(port: u16, path: &str, token: Option<&str>) -> u16 {
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let auth = token.map_or(String::new(), |t| format!("Authorization: Bearer {t}\r\n"));
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: localhost\r\n{auth}\r\n"
    )
    .unwrap();
    let mut line = String::new();
    BufReader::new(stream).read_line(&mut line).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// Every protected route: method, path, body, and the status each role
/// gets (in [`ROLES`] order).
const ROUTES: &[(&str, &str, &str, [u16; 6])] = &[
    (
        "POST",
        "/api/v1/sql",
        r#"{"sql":"SELECT 1"}"#,
        [200, 200, 403, 403, 403, 403],
    ),
    (
        "GET",
        "/api/v1/live/queues",
        "",
        [200, 200, 200, 200, 403, 200],
    ),
    (
        "GET",
        "/api/v1/live/campaigns",
        "",
        [200, 200, 200, 200, 403, 200],
    ),
    (
        "GET",
        "/api/v1/live/stream",
        "",
        [200, 200, 200, 200, 403, 200],
    ),
    ("GET", "/api/v1/me", "", [200; 6]),
    // What the dashboards read: every human role.
    (
        "GET",
        "/api/v1/intervals",
        "",
        [200, 200, 200, 200, 403, 200],
    ),
    (
        "GET",
        "/api/v1/forecasts",
        "",
        [200, 200, 200, 200, 403, 200],
    ),
    (
        "GET",
        "/api/v1/staffing",
        "",
        [200, 200, 200, 200, 403, 200],
    ),
    (
        "GET",
        "/api/v1/schedules",
        "",
        [200, 200, 200, 200, 403, 200],
    ),
    ("GET", "/api/v1/pacing", "", [200, 200, 200, 200, 403, 200]),
    // Planning: planners write runs, every human role reads them. The
    // bodies and ids are wrong on purpose: a permitted role gets past the
    // guard to the handler's answer (422, 404).
    (
        "POST",
        "/api/v1/forecasts",
        r#"{"horizon":"9w"}"#,
        [422, 403, 422, 403, 403, 403],
    ),
    (
        "GET",
        "/api/v1/forecasts/fc-none",
        "",
        [404, 404, 404, 404, 403, 404],
    ),
    (
        "GET",
        "/api/v1/forecasts/fc-none/accuracy",
        "",
        [404, 404, 404, 404, 403, 404],
    ),
    (
        "POST",
        "/api/v1/staffing",
        r#"{"forecast_run":"fc-none"}"#,
        [404, 403, 404, 403, 403, 403],
    ),
    (
        "GET",
        "/api/v1/staffing/st-none",
        "",
        [404, 404, 404, 404, 403, 404],
    ),
    (
        "POST",
        "/api/v1/schedules",
        r#"{"staffing_run":"st-none","week":"2024-03-25"}"#,
        [404, 403, 404, 403, 403, 403],
    ),
    (
        "GET",
        "/api/v1/schedules/sc-none",
        "",
        [404, 404, 404, 404, 403, 404],
    ),
    (
        "POST",
        "/api/v1/schedules/sc-none/edits",
        r#"{"edits":[]}"#,
        [404, 403, 404, 403, 403, 403],
    ),
    (
        "POST",
        "/api/v1/schedules/sc-none/publish",
        "",
        [404, 403, 404, 403, 403, 403],
    ),
    // Pacing: the dialer (and admin); no campaign in this lake.
    (
        "GET",
        "/api/v1/pacing/nosuch",
        "",
        [404, 403, 403, 403, 404, 403],
    ),
    (
        "GET",
        "/api/v1/pacing/nosuch/stream",
        "",
        [404, 403, 403, 403, 404, 403],
    ),
    // Reports: every human role lists them; managers (and admins) run
    // them and read jobs. The report and job named do not exist.
    ("GET", "/api/v1/reports", "", [200, 200, 200, 200, 403, 200]),
    (
        "POST",
        "/api/v1/reports/nosuch/runs",
        "{}",
        [404, 403, 403, 404, 403, 403],
    ),
    (
        "GET",
        "/api/v1/reports/jobs",
        "",
        [200, 403, 403, 200, 403, 403],
    ),
    (
        "GET",
        "/api/v1/reports/jobs/nosuch",
        "",
        [404, 403, 403, 404, 403, 403],
    ),
    (
        "GET",
        "/api/v1/reports/jobs/nosuch/files/report.pdf",
        "",
        [404, 403, 403, 404, 403, 403],
    ),
    ("GET", "/api/v1/openapi.json", "", [200; 6]),
    ("GET", "/metrics", "", [200, 403, 403, 403, 403, 200]),
];

/// Whether `path` is the template `pattern` (`/runs/{run}`) filled in.
fn fills(pattern: &str, path: &str) -> bool {
    let (a, b): (Vec<&str>, Vec<&str>) = (pattern.split('/').collect(), path.split('/').collect());
    a.len() == b.len()
        && a.iter()
            .zip(&b)
            .all(|(t, s)| t == s || (t.starts_with('{') && t.ends_with('}')))
}

fn call(port: u16, method: &str, path: &str, body: &str, token: Option<&str>) -> (u16, String) {
    if path.ends_with("/stream") {
        (status_only(port, path, token), String::new())
    } else {
        request(port, method, path, token, body)
    }
}

#[test]
fn every_route_and_role_and_every_scope_over_http_and_the_postgres_port() {
    let dir = tempfile::tempdir().unwrap();
    let server = server(dir.path());
    let port = server.port;

    // The table covers every route the API describes.
    let (status, spec) = get_as(port, "/api/v1/openapi.json", "viewer");
    assert_eq!(status, 200, "{spec}");
    let spec: Value = serde_json::from_str(&spec).unwrap();
    assert!(spec["openapi"].as_str().unwrap().starts_with("3."));
    for (path, item) in spec["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            let open = ["/healthz", "/readyz"].contains(&path.as_str());
            let listed = ROUTES
                .iter()
                .any(|(m, p, _, _)| m.eq_ignore_ascii_case(method) && fills(path, p));
            assert!(open || listed, "{method} {path} has no row in ROUTES");
        }
    }

    for (method, path, body, expected) in ROUTES {
        for (role, want) in ROLES.iter().zip(expected) {
            let (got, text) = call(port, method, path, body, Some(&token_of(role)));
            assert_eq!(got, *want, "{role} {method} {path}: {text}");
            if got == 403 && !text.is_empty() {
                let problem: Value = serde_json::from_str(&text).unwrap();
                assert!(problem["detail"].as_str().unwrap().contains(role), "{text}");
            }
        }
        let (got, text) = call(port, method, path, body, None);
        assert_eq!(got, 401, "no token {method} {path}: {text}");
        let (got, _) = call(port, method, path, body, Some("ql_not_a_token"));
        assert_eq!(got, 401, "bad token {method} {path}");
    }
    for path in ["/healthz", "/readyz"] {
        assert_eq!(http(port, "GET", path, "").0, 200, "{path}");
    }

    // Scopes over HTTP: SQL and live state.
    let scoped_sql = |sql: &str| -> Vec<Vec<Value>> {
        let body = serde_json::json!({ "sql": sql }).to_string();
        let (status, text) = request(
            port,
            "POST",
            "/api/v1/sql",
            Some(&token_of("sales-analyst")),
            &body,
        );
        assert_eq!(status, 200, "{sql}: {text}");
        let v: Value = serde_json::from_str(&text).unwrap();
        v["rows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r.as_array().unwrap().clone())
            .collect()
    };
    for (sql, want) in SCOPED_ANSWERS {
        let got: Vec<String> = scoped_sql(sql)
            .into_iter()
            .map(|row| row[0].to_string().trim_matches('"').to_owned())
            .collect();
        assert_eq!(got, *want, "over HTTP: {sql}");
    }
    let (status, text) = get_as(port, "/api/v1/live/queues", "sales-viewer");
    assert_eq!(status, 200, "{text}");
    let live: Value = serde_json::from_str(&text).unwrap();
    let names: Vec<&str> = live["queues"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| q["queue"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["sales"], "{text}");
    assert_eq!(live["queues"][0]["today"]["offered"], 2, "{text}");
    let (_, text) = get_as(port, "/api/v1/live/queues", "viewer");
    let live: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(live["queues"].as_array().unwrap().len(), 2, "{text}");
    let (_, me) = get_as(port, "/api/v1/me", "sales-viewer");
    let me: Value = serde_json::from_str(&me).unwrap();
    assert_eq!(me["queues"], serde_json::json!(["sales"]));
    assert_eq!(me["role"], "viewer");

    // The same scopes over the PostgreSQL port.
    let pg_port = server
        .pg_port
        .expect("serve listens for PostgreSQL clients");
    let rt = runtime();
    rt.block_on(async {
        let sales = pg_connect(pg_port, "sales-analyst").await.unwrap();
        for (sql, want) in SCOPED_ANSWERS {
            assert_eq!(
                pg_column(&sales, sql).await,
                *want,
                "over the PostgreSQL port: {sql}"
            );
        }
        // The extended protocol (a bound parameter) under the same scope.
        let row = sales
            .query_one(
                "SELECT COUNT(*) FROM queue_log WHERE queue = $1",
                &[&"support"],
            )
            .await
            .unwrap();
        assert_eq!(row.get::<_, i64>(0), 0);
        let admin = pg_connect(pg_port, "admin").await.unwrap();
        let row = admin
            .query_one(
                "SELECT COUNT(*) FROM queue_log WHERE queue = $1",
                &[&"support"],
            )
            .await
            .unwrap();
        assert_eq!(row.get::<_, i64>(0), 9);
        assert_eq!(
            pg_column(&admin, "SELECT DISTINCT queue FROM calls ORDER BY 1").await,
            ["sales", "support"]
        );

        // Roles: only SQL roles sign in; unknown tokens are refused.
        for role in ["planner", "manager", "dialer", "viewer"] {
            let err = pg_connect(pg_port, role).await.err().unwrap();
            let code = err.as_db_error().map(|e| e.code().code().to_owned());
            assert_eq!(code.as_deref(), Some("42501"), "{role}: {err}");
        }
        let err = tokio_postgres::connect(
            &format!("host=127.0.0.1 port={pg_port} user=x password=ql_wrong dbname=queuelake"),
            tokio_postgres::NoTls,
        )
        .await
        .err()
        .unwrap();
        assert_eq!(
            err.as_db_error().map(|e| e.code().code()),
            Some("28P01"),
            "{err}"
        );

        // Read-only, on both protocols.
        for sql in [
            "CREATE TABLE x (a INT)",
            "DROP TABLE queue_log",
            "INSERT INTO queue_log (callid) VALUES ('x')",
            "COPY queue_log TO '/tmp/queuelake-copy.csv'",
            "SET datafusion.execution.target_partitions = 1",
        ] {
            let err = sales.simple_query(sql).await.err().unwrap();
            assert_eq!(
                err.as_db_error().map(|e| e.code().code()),
                Some("25006"),
                "{sql}: {err}"
            );
            let err = sales.query(sql, &[]).await.err().unwrap();
            assert_eq!(
                err.as_db_error().map(|e| e.code().code()),
                Some("25006"),
                "extended {sql}: {err}"
            );
        }
        assert!(!Path::new("/tmp/queuelake-copy.csv").exists());

        // Grafana's and Metabase's start-up and schema queries.
        for sql in GRAFANA_QUERIES.iter().chain(METABASE_QUERIES) {
            sales
                .simple_query(sql)
                .await
                .unwrap_or_else(|e| panic!("{sql}\n{e}: {:?}", e.as_db_error()));
        }
        let tables = pg_column(&sales, GRAFANA_QUERIES[1]).await;
        for table in [
            "agent_sessions",
            "ami_events",
            "calls",
            "interval_stats",
            "queue_log",
        ] {
            assert!(
                tables.iter().any(|t| t.rsplit('.').next() == Some(table)),
                "{table} missing from {tables:?}"
            );
        }
        let columns = pg_column(&sales, GRAFANA_QUERIES[2]).await;
        assert!(columns.iter().any(|c| c == "enter_ts"), "{columns:?}");
        assert_eq!(pg_column(&sales, GRAFANA_QUERIES[3]).await, ["1600"]);
    });

    // psql, the real client.
    let psql = |args: &[&str]| {
        let out = std::process::Command::new("psql")
            .args([
                "-h",
                "127.0.0.1",
                "-p",
                &pg_port.to_string(),
                "-U",
                "analyst",
            ])
            .args(["-d", "queuelake", "-At", "-v", "ON_ERROR_STOP=1"])
            .args(args)
            .env("PGPASSWORD", token_of("sales-analyst"))
            .output()
            .expect("psql runs (apt: postgresql-client)");
        assert!(
            out.status.success(),
            "psql {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    assert_eq!(
        psql(&["-c", "SELECT DISTINCT queue FROM queue_log ORDER BY 1"]).trim(),
        "sales"
    );
    // A scoped token's tables are views of its rows: `\d` lists both kinds.
    let listed = psql(&["-c", "\\d"]);
    for table in ["queue_log", "calls", "interval_stats", "ami_events"] {
        assert!(listed.contains(table), "{table}: {listed}");
    }
    // `\dt` and `\dv` split them: what is stored as a table, what is a view.
    let relations = format!("{}{}", psql(&["-c", "\\dt"]), psql(&["-c", "\\dv"]));
    for table in ["queue_log", "calls", "interval_stats"] {
        assert!(relations.contains(table), "{table}: {relations}");
    }
    let described = psql(&["-c", "\\d calls"]);
    assert!(described.contains("enter_ts"), "{described}");
}

/// Queries and what a token scoped to `sales` gets (first column, as
/// text): tables, views, joins, subqueries.
const SCOPED_ANSWERS: &[(&str, &[&str])] = &[
    (
        "SELECT DISTINCT queue FROM queue_log ORDER BY 1",
        &["sales"],
    ),
    ("SELECT DISTINCT queue FROM calls ORDER BY 1", &["sales"]),
    (
        "SELECT CAST(SUM(offered) AS VARCHAR) FROM interval_stats",
        &["2"],
    ),
    (
        "SELECT CAST(COUNT(*) AS VARCHAR) FROM agent_sessions",
        &["0"],
    ),
    (
        "SELECT DISTINCT c.queue FROM calls c JOIN queue_log q ON q.callid = c.callid ORDER BY 1",
        &["sales"],
    ),
    (
        "SELECT CAST(COUNT(*) AS VARCHAR) FROM (SELECT * FROM queue_log WHERE queue = 'support') s",
        &["0"],
    ),
    (
        "SELECT CAST(COUNT(*) AS VARCHAR) FROM queue_log WHERE callid IN (SELECT callid FROM calls WHERE queue <> 'sales')",
        &["0"],
    ),
    (
        "SELECT CAST(COUNT(*) AS VARCHAR) FROM queue_log WHERE queue = 'NONE'",
        &["0"],
    ),
];

/// What Grafana's PostgreSQL data source sends, as it sends it: the
/// connection test, the version probe, the query editor's table list and
/// column list (names resolved through `search_path`).
const GRAFANA_QUERIES: &[&str] = &[
    "SELECT 1",
    r#"SELECT
    CASE WHEN
          quote_ident(table_schema) IN (
          SELECT
            CASE WHEN trim(s[i]) = '"$user"' THEN user ELSE trim(s[i]) END
          FROM
            generate_series(
              array_lower(string_to_array(current_setting('search_path'),','),1),
              array_upper(string_to_array(current_setting('search_path'),','),1)
            ) as i,
            string_to_array(current_setting('search_path'),',') s
          )
      THEN quote_ident(table_name)
      ELSE quote_ident(table_schema) || '.' || quote_ident(table_name)
    END AS "table"
    FROM information_schema.tables
    WHERE quote_ident(table_schema) NOT IN ('information_schema',
                             'pg_catalog',
                             '_timescaledb_cache',
                             '_timescaledb_catalog',
                             '_timescaledb_internal',
                             '_timescaledb_config',
                             'timescaledb_information',
                             'timescaledb_experimental')
    ORDER BY CASE WHEN
          quote_ident(table_schema) IN (
          SELECT
            CASE WHEN trim(s[i]) = '"$user"' THEN user ELSE trim(s[i]) END
          FROM
            generate_series(
              array_lower(string_to_array(current_setting('search_path'),','),1),
              array_upper(string_to_array(current_setting('search_path'),','),1)
            ) as i,
            string_to_array(current_setting('search_path'),',') s
          ) THEN 0 ELSE 1 END, 1"#,
    r#"SELECT quote_ident(column_name) AS "column", data_type AS "type"
    FROM information_schema.columns
    WHERE
      CASE WHEN array_length(parse_ident('public.calls'),1) = 2
        THEN quote_ident(table_schema) = (parse_ident('public.calls'))[1]
          AND quote_ident(table_name) = (parse_ident('public.calls'))[2]
        ELSE quote_ident(table_name) = 'public.calls'
          AND
          quote_ident(table_schema) IN (
          SELECT
            CASE WHEN trim(s[i]) = '"$user"' THEN user ELSE trim(s[i]) END
          FROM
            generate_series(
              array_lower(string_to_array(current_setting('search_path'),','),1),
              array_upper(string_to_array(current_setting('search_path'),','),1)
            ) as i,
            string_to_array(current_setting('search_path'),',') s
          )
      END"#,
    "SELECT current_setting('server_version_num')::int/100 as version",
];

/// What Metabase's PostgreSQL driver sends when it connects and syncs.
const METABASE_QUERIES: &[&str] = &[
    "SET extra_float_digits = 2",
    "SET application_name = 'Metabase'",
    "SHOW TRANSACTION ISOLATION LEVEL",
    "SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL READ UNCOMMITTED",
    r#"SELECT nspname AS "TABLE_SCHEM", current_database() AS "TABLE_CATALOG"
      FROM pg_catalog.pg_namespace
      WHERE nspname <> 'pg_toast'
        AND (nspname !~ '^pg_temp_' OR nspname = (pg_catalog.current_schemas(true))[1])
      ORDER BY "TABLE_SCHEM""#,
    r#"SELECT "n"."nspname" AS "schema", "c"."relname" AS "name",
        CASE "c"."relkind" WHEN 'r' THEN 'TABLE' WHEN 'v' THEN 'VIEW' ELSE NULL END AS "type",
        "d"."description" AS "description"
      FROM "pg_catalog"."pg_class" AS "c"
      INNER JOIN "pg_catalog"."pg_namespace" AS "n" ON "c"."relnamespace" = "n"."oid"
      LEFT JOIN "pg_catalog"."pg_description" AS "d"
        ON ("c"."oid" = "d"."objoid") AND ("d"."objsubid" = 0)
      WHERE ("n"."nspname" !~ '^pg_') AND ("n"."nspname" <> 'information_schema')
        AND c.relkind IN ('r', 'p', 'v', 'f', 'm')
      ORDER BY "type" ASC, "schema" ASC, "name" ASC"#,
    r#"with table_privileges as (
         select
           NULL as role,
           t.schemaname as schema,
           t.objectname as table,
           pg_catalog.has_any_column_privilege(current_user, '"' || replace(t.schemaname, '"', '""') || '"' || '.' || '"' || replace(t.objectname, '"', '""') || '"',  'update') as update,
           pg_catalog.has_any_column_privilege(current_user, '"' || replace(t.schemaname, '"', '""') || '"' || '.' || '"' || replace(t.objectname, '"', '""') || '"',  'select') as select,
           pg_catalog.has_any_column_privilege(current_user, '"' || replace(t.schemaname, '"', '""') || '"' || '.' || '"' || replace(t.objectname, '"', '""') || '"',  'insert') as insert,
           pg_catalog.has_table_privilege(     current_user, '"' || replace(t.schemaname, '"', '""') || '"' || '.' || '"' || replace(t.objectname, '"', '""') || '"',  'delete') as delete
         from (
           select schemaname, tablename as objectname from pg_catalog.pg_tables
           union
           select schemaname, viewname as objectname from pg_catalog.pg_views
           union
           select schemaname, matviewname as objectname from pg_catalog.pg_matviews
         ) t
         where t.schemaname !~ '^pg_'
           and t.schemaname <> 'information_schema'
           and pg_catalog.has_schema_privilege(current_user, t.schemaname, 'usage')
        )
        select t.*
        from table_privileges t"#,
    "SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL READ COMMITTED",
    "show timezone",
];

async fn pg_connect(
    port: u16,
    token_name: &str,
) -> Result<tokio_postgres::Client, tokio_postgres::Error> {
    let (client, connection) = tokio_postgres::connect(
        &format!(
            "host=127.0.0.1 port={port} user={token_name} password={} dbname=queuelake",
            token_of(token_name)
        ),
        tokio_postgres::NoTls,
    )
    .await?;
    tokio::spawn(connection);
    Ok(client)
}

/// The first column of `sql`'s rows, as text (simple protocol).
async fn pg_column(client: &tokio_postgres::Client, sql: &str) -> Vec<String> {
    client
        .simple_query(sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}: {:?}", e.as_db_error()))
        .into_iter()
        .filter_map(|m| match m {
            tokio_postgres::SimpleQueryMessage::Row(row) => {
                Some(row.get(0).unwrap_or_default().to_owned())
            }
            _ => None,
        })
        .collect()
}

#[test]
fn bad_requests_get_their_documented_problem_documents() {
    let dir = tempfile::tempdir().unwrap();
    let server = server(dir.path());
    let port = server.port;
    let analyst = token_of("analyst");
    let post = |body: &str| request(port, "POST", "/api/v1/sql", Some(&analyst), body);
    let problem = |(status, text): (u16, String)| -> (u16, Value) {
        (
            status,
            serde_json::from_str(&text).unwrap_or_else(|_| panic!("{status}: {text}")),
        )
    };

    let (status, p) = problem(post(r#"{"sql": "SELECT 1""#));
    assert_eq!(status, 400, "{p}");
    assert_eq!(p["status"], 400);
    assert_eq!(p["line"], 1, "{p}");

    let (status, p) = problem(post(r#"{"sql": 42}"#));
    assert_eq!(status, 422, "{p}");
    assert_eq!(p["field"], "sql", "{p}");

    let (status, p) = problem(post(r#"{"sql": "SELECT 1", "limt": 5}"#));
    assert_eq!(status, 422, "{p}");
    assert!(p["detail"].as_str().unwrap().contains("limt"), "{p}");

    let (status, p) = problem(post(r#"{"sql": "SELECT 1", "format": "xml"}"#));
    assert_eq!(status, 422, "{p}");
    assert_eq!(p["field"], "format", "{p}");

    let (status, p) = problem(post(
        "{\"sql\": \"SELECT queue\\nFROM queue_log\\nWHERE queue = = 'x'\"}",
    ));
    assert_eq!(status, 400, "{p}");
    assert_eq!(p["line"], 3, "{p}");
    assert!(p["column"].as_u64().is_some(), "{p}");

    let (status, p) = problem(post(r#"{"sql": "SELECT nope FROM queue_log"}"#));
    assert_eq!(status, 400, "{p}");
    assert_eq!(
        (p["line"].clone(), p["column"].clone()),
        (1.into(), 8.into()),
        "{p}"
    );

    for hostile in [
        "DROP TABLE queue_log",
        "CREATE EXTERNAL TABLE x STORED AS CSV LOCATION '/etc/passwd'",
        "COPY (SELECT 1) TO '/tmp/queuelake-x.csv'",
        "SET datafusion.execution.target_partitions = 1",
    ] {
        let body = serde_json::json!({ "sql": hostile }).to_string();
        let (status, p) = problem(post(&body));
        assert_eq!(status, 400, "{hostile}: {p}");
        assert!(p["detail"].as_str().unwrap().contains("read-only"), "{p}");
    }

    // Too large: 413, whatever the content.
    let huge = format!(r#"{{"sql": "SELECT '{}'"}}"#, "x".repeat(8192));
    let (status, p) = problem(post(&huge));
    assert_eq!(status, 413, "{p}");

    // Not JSON: 415.
    let (status, _, text) = raw_request(
        port,
        &format!(
            "POST /api/v1/sql HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {analyst}\r\nContent-Type: text/plain\r\nContent-Length: 8\r\nConnection: close\r\n\r\nSELECT 1"
        ),
    );
    assert_eq!(status, 415, "{text}");

    // 401 and 404 are problems too, and every response carries its request id.
    let (status, headers, text) = raw_request(
        port,
        "GET /api/v1/me HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer nope\r\nx-request-id: test-id-1\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(status, 401);
    assert!(
        headers
            .to_ascii_lowercase()
            .contains("x-request-id: test-id-1"),
        "{headers}"
    );
    assert!(
        headers
            .to_ascii_lowercase()
            .contains("www-authenticate: bearer"),
        "{headers}"
    );
    let p: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(p["request_id"], "test-id-1");
    assert!(headers.contains("application/problem+json"), "{headers}");
    let (status, p) = problem(request(port, "GET", "/api/v1/nothing", Some(&analyst), ""));
    assert_eq!(status, 404, "{p}");
    let (status, p) = problem(request(port, "PUT", "/api/v1/sql", Some(&analyst), "{}"));
    assert_eq!((status, p["status"].as_u64()), (405, Some(405)), "{p}");

    // The token's rate: 2 at once, then 429 with Retry-After.
    let limited = token_of("limited");
    let statuses: Vec<u16> = (0..4)
        .map(|_| request(port, "GET", "/api/v1/me", Some(&limited), "").0)
        .collect();
    assert_eq!(&statuses[..2], [200, 200]);
    assert!(statuses[2..].contains(&429), "{statuses:?}");
    let (_, headers, _) = raw_request(
        port,
        &format!(
            "GET /api/v1/me HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {limited}\r\nConnection: close\r\n\r\n"
        ),
    );
    assert!(
        headers.to_ascii_lowercase().contains("retry-after: "),
        "{headers}"
    );

    // Metrics show the requests and queries just made.
    let (status, metrics) = get_as(port, "/metrics", "viewer");
    assert_eq!(status, 200);
    for name in [
        "queuelake_http_requests_total",
        "queuelake_query_duration_seconds_bucket",
        "queuelake_queries_total",
        "queuelake_ingest_rows_total{table=\"queue_log\"} 16",
        "queuelake_ingest_lag_seconds",
    ] {
        assert!(metrics.contains(name), "{name} missing:\n{metrics}");
    }

    // The docs page and its assets are served by queuelake itself.
    let (status, page) = http(port, "GET", "/api/v1/docs/", "");
    assert_eq!(status, 200);
    assert!(page.contains("swagger-ui-bundle.js"), "{page}");
    for asset in [
        "swagger-ui-bundle.js",
        "swagger-ui.css",
        "queuelake-docs.js",
    ] {
        let (status, _) = http(port, "GET", &format!("/api/v1/docs/{asset}"), "");
        assert_eq!(status, 200, "{asset}");
    }
}

#[test]
fn init_writes_a_configuration_whose_admin_token_serves() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("queuelake.toml");
    let out = crate::support::ok(&["init", "--config", config.to_str().unwrap()]);
    let token = out
        .lines()
        .find_map(|l| l.strip_prefix("admin token: "))
        .unwrap_or_else(|| panic!("no admin token line in {out}"))
        .to_owned();
    let text = std::fs::read_to_string(&config).unwrap();
    assert!(!text.contains(&token), "the token itself is not stored");
    assert!(text.contains(&sha256_hex(&token)));
    // A second init does not overwrite it.
    let again = crate::support::run(&["init", "--config", config.to_str().unwrap()]);
    assert!(!again.status.success());
    assert_eq!(std::fs::read_to_string(&config).unwrap(), text);

    let queue_log = dir.path().join("queue_log");
    write_queue_log(&queue_log);
    let server = Server::serve(
        &dir.path().join("lake"),
        &[
            "--config",
            config.to_str().unwrap(),
            "--queue-log",
            queue_log.to_str().unwrap(),
        ],
    );
    assert!(server.token.is_none(), "configured tokens: none is made");
    assert_eq!(
        request(server.port, "GET", "/api/v1/me", Some(&token), "").0,
        200
    );
    assert_eq!(request(server.port, "GET", "/api/v1/me", None, "").0, 401);
}
