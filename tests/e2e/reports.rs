//! Reports end to end: a manager runs one on the job queue, a real SMTP
//! server (aiosmtpd) receives it once with its attachments, the workbook
//! reads back as its queries' results cell by cell and the PDF's text
//! holds the KPIs; the job store on the real PostgreSQL; a failing report
//! is shown failed with its error; a worker killed mid-job finishes the
//! job after a restart and the mail arrives exactly once.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use calamine::{Data, Reader, Xlsx};
use serde_json::Value;

use crate::support::{Server, ingest, json_call, office_log, request, token_entries};

fn token_of(name: &str) -> String {
    format!("ql_rep_{name}")
}

/// A running SMTP sink (`tests/support/smtp_sink.py`).
struct SmtpSink {
    child: Child,
    port: u16,
    folder: PathBuf,
}

impl SmtpSink {
    fn start(folder: &Path, auth: Option<(&str, &str)>) -> SmtpSink {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/support/smtp_sink.py");
        let mut command = Command::new("python3");
        command.arg(&script).arg(folder);
        if let Some((user, password)) = auth {
            command.args(["--user", user, "--password", password]);
        }
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("python3 runs (aiosmtpd from PyPI: .ci/run installs it)");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line
            .trim()
            .strip_prefix("ready ")
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| {
                panic!("the SMTP sink did not start (is aiosmtpd installed?): {line:?}")
            });
        SmtpSink {
            child,
            port,
            folder: folder.to_owned(),
        }
    }

    /// The messages received so far (`N.eml`).
    fn messages(&self) -> usize {
        std::fs::read_dir(&self.folder)
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .is_ok_and(|e| e.path().extension().is_some_and(|x| x == "eml"))
            })
            .count()
    }

    fn wait_for(&self, n: usize, limit: Duration) {
        let start = Instant::now();
        while self.messages() < n {
            assert!(
                start.elapsed() < limit,
                "{n} message(s) not received in {limit:?}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn part(&self, message: usize, name: &str) -> Vec<u8> {
        std::fs::read(self.folder.join(message.to_string()).join(name))
            .unwrap_or_else(|e| panic!("message {message} has no {name}: {e}"))
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn config(path: &Path, extra: &str) {
    let mut text = format!("version = 1\n[server]\nrequests_per_second = 0\n{extra}\n");
    text.push_str(&token_entries(
        token_of,
        &[
            ("manager", "manager", ""),
            ("viewer", "viewer", ""),
            ("sales-manager", "manager", "queues = [\"sales\"]\n"),
        ],
    ));
    std::fs::write(path, text).unwrap();
}

fn call(port: u16, method: &str, path: &str, who: &str, body: &str) -> (u16, Value) {
    json_call(port, method, path, &token_of(who), body)
}

/// Polls a job until its status is one of `until`; returns the job.
fn wait_status(port: u16, id: &str, until: &[&str], limit: Duration) -> Value {
    let start = Instant::now();
    loop {
        let (status, job) = call(
            port,
            "GET",
            &format!("/api/v1/reports/jobs/{id}"),
            "manager",
            "",
        );
        assert_eq!(status, 200, "{job}");
        if until.contains(&job["status"].as_str().unwrap_or_default()) {
            return job;
        }
        assert!(
            start.elapsed() < limit,
            "job {id} still {job} after {limit:?}"
        );
        std::thread::sleep(Duration::from_millis(25));
    }
}

fn queue_run(port: u16, report: &str, body: &str) -> String {
    queue_run_as(port, "manager", report, body)
}

/// Queues a run of `report` as `who`; returns the job id.
fn queue_run_as(port: u16, who: &str, report: &str, body: &str) -> String {
    let (status, queued) = call(
        port,
        "POST",
        &format!("/api/v1/reports/{report}/runs"),
        who,
        body,
    );
    assert_eq!(status, 202, "{queued}");
    queued["job_id"].as_str().unwrap().to_owned()
}

/// The lake of a business week of office calls (2024-03-04 … 08).
fn lake(dir: &Path) -> (PathBuf, PathBuf) {
    let log = dir.join("queue_log");
    std::fs::write(&log, office_log(0..5, 0..32, true)).unwrap();
    let lake = dir.join("lake");
    ingest(&lake, &[&log]);
    (lake, log)
}

/// An instant of the SQL API's JSON as an Excel serial day (UTC).
fn excel_day(text: &str) -> f64 {
    let t = chrono::DateTime::parse_from_rfc3339(text)
        .map(|t| t.naive_utc())
        .or_else(|_| chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f"))
        .or_else(|_| chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f"))
        .unwrap_or_else(|e| panic!("{text:?} is not an instant: {e}"));
    t.and_utc().timestamp_micros() as f64 / 86_400e6 + 25_569.0
}

/// Every sheet of `workbook` equals the result of its query, cell by cell.
fn assert_workbook_is_the_queries(server_port: u16, workbook: &[u8], report: &str, day: &str) {
    let definitions =
        queuelake_reports::definition::definitions(&[], "UTC", Path::new(".")).unwrap();
    let definition = definitions.iter().find(|d| d.name == report).unwrap();
    let window = queuelake_reports::period::Period::named(
        "custom",
        Some(day.parse().unwrap()),
        Some(day.parse().unwrap()),
    )
    .unwrap()
    .resolve(chrono::Utc::now(), "UTC")
    .unwrap();
    let mut book = Xlsx::new(std::io::Cursor::new(workbook.to_vec())).unwrap();
    let mut cells = 0;
    for query in &definition.queries {
        let sql = query.bind(&window).unwrap();
        let body = serde_json::json!({"sql": sql, "format": "json"}).to_string();
        let (status, text) = request(
            server_port,
            "POST",
            "/api/v1/sql",
            Some(&token_of("admin")),
            &body,
        );
        assert_eq!(status, 200, "{text}");
        let result: Value = serde_json::from_str(&text).unwrap();
        let columns: Vec<String> = result["columns"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap().to_owned())
            .collect();
        let rows = result["rows"].as_array().unwrap();
        assert!(!rows.is_empty(), "{} has no rows for {day}", query.name);
        let sheet = book.worksheet_range(&query.name).unwrap();
        for (c, name) in columns.iter().enumerate() {
            assert_eq!(
                sheet.get_value((0, c as u32)),
                Some(&Data::String(name.clone())),
                "{} header {c}",
                query.name
            );
        }
        for (r, row) in rows.iter().enumerate() {
            for (c, value) in row.as_array().unwrap().iter().enumerate() {
                let cell = sheet
                    .get_value((r as u32 + 1, c as u32))
                    .cloned()
                    .unwrap_or(Data::Empty);
                let at = format!("{} row {r} column {}", query.name, columns[c]);
                match (value, &cell) {
                    (Value::Null, Data::Empty) => {}
                    (Value::Number(n), Data::Float(x)) => {
                        let n = n.as_f64().unwrap();
                        assert!((n - x).abs() <= 1e-9 * n.abs().max(1.0), "{at}: {n} vs {x}");
                    }
                    (Value::String(s), Data::DateTime(t)) => {
                        assert!(
                            (excel_day(s) - t.as_f64()).abs() < 1e-6,
                            "{at}: {s} vs {t:?}"
                        );
                    }
                    (Value::String(s), Data::String(x)) => assert_eq!(s, x, "{at}"),
                    (Value::Bool(b), Data::Bool(x)) => assert_eq!(b, x, "{at}"),
                    (v, cell) => panic!("{at}: SQL {v} vs sheet {cell:?}"),
                }
                cells += 1;
            }
        }
    }
    assert!(cells > 50, "only {cells} cells compared");
}

fn pdf_text(pdf: &[u8], dir: &Path) -> String {
    let path = dir.join("report.pdf");
    std::fs::write(&path, pdf).unwrap();
    let out = Command::new("pdftotext")
        .args(["-layout", path.to_str().unwrap(), "-"])
        .output()
        .expect("pdftotext runs (poppler-utils: .ci/run installs it)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn a_report_run_on_the_queue_is_mailed_once_and_reads_back_as_its_queries() {
    let dir = tempfile::tempdir().unwrap();
    let (lake, log) = lake(dir.path());
    let sink = SmtpSink::start(&dir.path().join("mail"), Some(("reports", "s3cret")));
    let toml = dir.path().join("queuelake.toml");
    config(
        &toml,
        &format!(
            "[jobs]\npoll_seconds = 1\n\
             [mail]\nfrom = \"Contact center <reports@example.com>\"\nsmtp_host = \"127.0.0.1\"\n\
             smtp_port = {}\nsecurity = \"none\"\nusername = \"reports\"\npassword = \"s3cret\"\n\
             [[reports]]\nname = \"daily_queue_summary\"\nrecipients = [\"boss@example.com\", \"deputy@example.com\"]\n\
             formats = [\"xlsx\", \"pdf\", \"csv\"]\ncron = \"\"\n\
             [[reports]]\nname = \"every_second\"\ntitle = \"Ticking\"\nqueries = [\"period_totals\"]\n\
             formats = [\"csv\"]\ncron = \"* * * * * *\"\n",
            sink.port
        ),
    );
    // The admin token is added for the SQL the test compares with.
    let mut text = std::fs::read_to_string(&toml).unwrap();
    text.push_str(&token_entries(token_of, &[("admin", "admin", "")]));
    std::fs::write(&toml, text).unwrap();
    let server = Server::start(&lake, &log, &["--config", toml.to_str().unwrap()]);
    let port = server.port;

    // Everyone with a dashboard sees the list; only managers (and admins) run.
    let (status, list) = call(port, "GET", "/api/v1/reports", "viewer", "");
    assert_eq!(status, 200);
    let names: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "daily_queue_summary",
            "every_second",
            "forecast_accuracy",
            "monthly_service_level",
            "schedule_coverage",
            "weekly_agent_performance"
        ]
    );
    let body = r#"{"period": "custom", "from": "2024-03-05", "to": "2024-03-05", "email": true}"#;
    let (status, _) = call(
        port,
        "POST",
        "/api/v1/reports/daily_queue_summary/runs",
        "viewer",
        body,
    );
    assert_eq!(status, 403);
    let (status, refused) = call(
        port,
        "POST",
        "/api/v1/reports/daily_queue_summary/runs",
        "manager",
        r#"{"period": "custom", "from": "2024-03-05"}"#,
    );
    assert_eq!(status, 422, "{refused}");
    assert_eq!(refused["field"], "period");
    let (status, refused) = call(
        port,
        "POST",
        "/api/v1/reports/daily_queue_summary/runs",
        "sales-manager",
        r#"{"period": "yesterday", "queues": ["support"]}"#,
    );
    assert_eq!(status, 403, "{refused}");

    let id = queue_run(port, "daily_queue_summary", body);
    let job = wait_status(port, &id, &["Done", "Failed"], Duration::from_secs(60));
    assert_eq!(job["status"], "Done", "{job}");
    assert_eq!(job["outcome"]["delivery"], "smtp", "{job}");
    let stem = "daily_queue_summary-2024-03-05";
    let files: Vec<&str> = job["outcome"]["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap())
        .collect();
    assert_eq!(
        files,
        [
            format!("{stem}.xlsx"),
            format!("{stem}.pdf"),
            format!("{stem}-period_totals.csv"),
            format!("{stem}-queue_summary.csv"),
            format!("{stem}-interval_series.csv"),
        ]
    );

    // The mail: once, to both, logged in, with every file attached.
    sink.wait_for(1, Duration::from_secs(30));
    let envelope = String::from_utf8(sink.part(1, "envelope.txt")).unwrap();
    assert!(
        envelope.contains("to boss@example.com\nto deputy@example.com\nauth True"),
        "{envelope}"
    );
    let workbook = sink.part(1, &format!("{stem}.xlsx"));
    let stored = dir
        .path()
        .join("lake/reports/daily_queue_summary")
        .join(stem)
        .join(format!("{stem}.xlsx"));
    assert_eq!(
        std::fs::read(stored).unwrap(),
        workbook,
        "the stored file is the one mailed"
    );
    let csv = format!("/api/v1/reports/jobs/{id}/files/{stem}-period_totals.csv");
    let (status, downloaded) = request(port, "GET", &csv, Some(&token_of("manager")), "");
    assert_eq!(status, 200);
    assert_eq!(
        downloaded.as_bytes(),
        sink.part(1, &format!("{stem}-period_totals.csv"))
    );
    let (status, _) = request(port, "GET", &csv, Some(&token_of("viewer")), "");
    assert_eq!(status, 403);
    let other = format!("/api/v1/reports/jobs/{id}/files/..%2Fjobs.sqlite");
    let (status, _) = request(port, "GET", &other, Some(&token_of("manager")), "");
    assert_eq!(status, 404, "only the job's own files");
    assert_workbook_is_the_queries(port, &workbook, "daily_queue_summary", "2024-03-05");

    // By hand: 32 intervals × (6 sales + 3 support) offered, the third
    // support call of each abandons after 30 s; answered calls waited 10 s.
    let totals = String::from_utf8(sink.part(1, &format!("{stem}-period_totals.csv"))).unwrap();
    assert!(
        totals.starts_with("offered,answered,abandoned,service_level,"),
        "{totals}"
    );
    assert!(
        totals.contains("\r\n288,256,32,0.8888888888888888,0.1111111111111111,"),
        "{totals}"
    );
    let text = pdf_text(&sink.part(1, &format!("{stem}.pdf")), dir.path());
    for needle in [
        "Daily queue summary",
        "Offered",
        "288",
        "Service level",
        "88.9 %",
        "Calls by interval",
        "sales",
        "support",
        "page 1 of",
    ] {
        assert!(text.contains(needle), "the PDF lacks {needle:?}:\n{text}");
    }
    let body = String::from_utf8(sink.part(1, "body.txt")).unwrap();
    assert!(
        body.contains("Offered: 288") && body.contains("Service level: 88.9 %"),
        "{body}"
    );

    // A manager scoped to sales gets the same report over the stored day
    // with sales' rows only: 32 intervals × 6 calls, all answered in 10 s.
    let scoped = queue_run_as(
        port,
        "sales-manager",
        "daily_queue_summary",
        r#"{"period": "custom", "from": "2024-03-05", "to": "2024-03-05"}"#,
    );
    let job = wait_status(port, &scoped, &["Done", "Failed"], Duration::from_secs(60));
    assert_eq!(job["status"], "Done", "{job}");
    // The scope is in the files' names.
    let file = |name: &str| {
        let path = format!("/api/v1/reports/jobs/{scoped}/files/{stem}-sales-{name}.csv");
        let (status, text) = request(port, "GET", &path, Some(&token_of("sales-manager")), "");
        assert_eq!(status, 200, "{path}: {text}");
        text
    };
    let totals = file("period_totals");
    assert!(totals.contains("\r\n192,192,0,1"), "{totals}");
    let queues = file("queue_summary");
    assert!(
        queues.contains("sales") && !queues.contains("support"),
        "{queues}"
    );

    // The schedule queues a job a tick, each for yesterday as seen from
    // its tick, and the workers run them.
    let start = Instant::now();
    let scheduled = loop {
        let (_, jobs) = call(
            port,
            "GET",
            "/api/v1/reports/jobs?report=every_second",
            "manager",
            "",
        );
        let done: Vec<Value> = jobs
            .as_array()
            .unwrap()
            .iter()
            .filter(|j| j["status"] == "Done")
            .cloned()
            .collect();
        if done.len() >= 2 {
            break done;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "no scheduled jobs: {jobs}"
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    for job in &scheduled {
        assert_eq!(job["requested_by"], "schedule");
        // Yesterday (UTC) as of the tick, which was under a minute ago.
        let day = |ago: i64| {
            (chrono::Utc::now() - chrono::Duration::seconds(ago) - chrono::Duration::days(1))
                .format("%Y-%m-%d")
                .to_string()
        };
        let period = job["period"].as_str().unwrap();
        assert!(period == day(0) || period == day(60), "{job}");
        assert_eq!(
            job["outcome"]["files"][0],
            format!("every_second-{period}-period_totals.csv")
        );
    }
    assert_ne!(scheduled[0]["id"], scheduled[1]["id"]);

    // History lists it; a second look later still finds one message.
    let (status, history) = call(
        port,
        "GET",
        "/api/v1/reports/jobs?report=daily_queue_summary",
        "manager",
        "",
    );
    assert_eq!(status, 200);
    // Newest first: the scoped manager's run, then the manager's.
    assert_eq!(history[0]["id"], scoped.as_str());
    assert_eq!(history[0]["requested_by"], "sales-manager");
    assert_eq!(history[1]["id"], id.as_str());
    assert_eq!(history[1]["requested_by"], "manager");
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(sink.messages(), 1);
    let (status, _) = call(
        port,
        "GET",
        "/api/v1/reports/jobs/01ARZ3NDEKTSV4RRFFQ69G5FAV",
        "manager",
        "",
    );
    assert_eq!(status, 404);
    drop(server);
}

#[test]
fn the_job_store_on_postgres_keeps_jobs_and_shows_failures_with_their_error() {
    let url = std::env::var("QUEUELAKE_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    let dir = tempfile::tempdir().unwrap();
    let (lake, log) = lake(dir.path());
    std::fs::write(
        dir.path().join("broken.sql"),
        "-- title: Broken\nSELECT no_such_column FROM interval_stats",
    )
    .unwrap();
    let toml = dir.path().join("queuelake.toml");
    config(
        &toml,
        &format!(
            "[jobs]\npostgres_url = \"{url}\"\nqueue = \"e2e-{}\"\npoll_seconds = 1\nattempts = 2\nretry_seconds = 1\nmax_retry_seconds = 1\n\
             [[reports]]\nname = \"weekly_agent_performance\"\nrecipients = [\"boss@example.com\"]\ncron = \"\"\n\
             [[reports]]\nname = \"broken\"\ntitle = \"Broken\"\nqueries = [\"broken.sql\"]\ncron = \"\"\n",
            std::process::id()
        ),
    );
    let server = Server::start(&lake, &log, &["--config", toml.to_str().unwrap()]);
    let port = server.port;
    let id = queue_run(
        port,
        "weekly_agent_performance",
        r#"{"period": "custom", "from": "2024-03-04", "to": "2024-03-10", "email": true}"#,
    );
    let job = wait_status(port, &id, &["Done", "Failed"], Duration::from_secs(60));
    assert_eq!(job["status"], "Done", "{job}");
    // No SMTP server configured: the message waits in the outbox.
    assert_eq!(job["outcome"]["delivery"], "outbox");
    let eml =
        std::fs::read_to_string(dir.path().join("lake/outbox").join(format!("{id}.eml"))).unwrap();
    assert!(
        eml.contains("To: boss@example.com") && eml.contains("Weekly agent performance"),
        "{eml}"
    );
    let rows: Vec<(String, u64)> = job["outcome"]["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["query"].as_str().unwrap().to_owned(),
                r["rows"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            ("period_totals".to_owned(), 1),
            ("agent_performance".to_owned(), 1)
        ]
    );

    // The job is in PostgreSQL, where any worker sharing it sees it.
    let mut client = postgres_client(&url);
    let stored = client
        .query_one(
            "SELECT status, attempts FROM apalis.jobs WHERE id = $1",
            &[&id],
        )
        .unwrap();
    assert_eq!(stored.get::<_, String>(0), "Done");

    let failing = queue_run(
        port,
        "broken",
        r#"{"period": "custom", "from": "2024-03-04", "to": "2024-03-04"}"#,
    );
    let job = wait_status(port, &failing, &["Failed", "Done"], Duration::from_secs(60));
    assert_eq!(job["status"], "Failed", "{job}");
    assert_eq!(job["attempts"], 2, "{job}");
    let error = job["error"].as_str().unwrap();
    assert!(
        error.contains("report \"broken\", query \"broken\"") && error.contains("no_such_column"),
        "{error}"
    );
    let (_, history) = call(port, "GET", "/api/v1/reports/jobs?limit=500", "manager", "");
    assert!(
        history
            .as_array()
            .unwrap()
            .iter()
            .any(|j| j["id"] == failing.as_str() && j["status"] == "Failed")
    );
    drop(server);
}

fn postgres_client(url: &str) -> PgClient {
    PgClient::connect(url)
}

/// A synchronous client over tokio-postgres for the checks.
struct PgClient {
    runtime: tokio::runtime::Runtime,
    client: tokio_postgres::Client,
}

impl PgClient {
    fn connect(url: &str) -> PgClient {
        let runtime = crate::support::runtime();
        let client = runtime.block_on(async {
            let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
                .await
                .expect("PostgreSQL at QUEUELAKE_TEST_POSTGRES");
            tokio::spawn(connection);
            client
        });
        PgClient { runtime, client }
    }

    fn query_one(
        &mut self,
        sql: &str,
        params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
    ) -> Result<tokio_postgres::Row, tokio_postgres::Error> {
        self.runtime.block_on(self.client.query_one(sql, params))
    }
}

#[test]
fn a_worker_killed_mid_job_finishes_it_after_a_restart_and_mails_once() {
    let dir = tempfile::tempdir().unwrap();
    let (lake, log) = lake(dir.path());
    let sink = SmtpSink::start(&dir.path().join("mail"), None);
    // A query that takes seconds, so the worker is surely inside the job.
    std::fs::write(
        dir.path().join("slow.sql"),
        "-- title: Slow\n-- show: summary\nSELECT COUNT(*) AS n, SUM(value % 7) AS s FROM generate_series(1, 300000000)",
    )
    .unwrap();
    let toml = dir.path().join("queuelake.toml");
    config(
        &toml,
        &format!(
            "[jobs]\npoll_seconds = 1\nheartbeat_seconds = 1\n\
             [mail]\nsmtp_host = \"127.0.0.1\"\nsmtp_port = {}\nsecurity = \"none\"\n\
             [[reports]]\nname = \"slow\"\ntitle = \"Slow\"\nqueries = [\"slow.sql\", \"period_totals\"]\n\
             recipients = [\"boss@example.com\"]\nformats = [\"pdf\"]\ncron = \"\"\n",
            sink.port
        ),
    );
    let args = ["--config", toml.to_str().unwrap()];
    let server = Server::start(&lake, &log, &args);
    let id = queue_run(
        server.port,
        "slow",
        r#"{"period": "custom", "from": "2024-03-05", "to": "2024-03-05", "email": true}"#,
    );
    let running = wait_status(server.port, &id, &["Running"], Duration::from_secs(30));
    let first_worker = running["worker"].as_str().unwrap().to_owned();
    server.kill9();
    assert_eq!(
        sink.messages(),
        0,
        "the job was killed before it could mail"
    );

    let server = Server::start(&lake, &log, &args);
    let job = wait_status(
        server.port,
        &id,
        &["Done", "Failed"],
        Duration::from_secs(180),
    );
    assert_eq!(job["status"], "Done", "{job}");
    assert!(
        job["attempts"].as_i64().unwrap() >= 2,
        "the re-run counts as an attempt: {job}"
    );
    sink.wait_for(1, Duration::from_secs(30));
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(sink.messages(), 1, "exactly one mail");
    let (_, history) = call(
        server.port,
        "GET",
        "/api/v1/reports/jobs?report=slow",
        "manager",
        "",
    );
    assert_eq!(history.as_array().unwrap().len(), 1);
    assert!(first_worker.starts_with("queuelake-"), "{first_worker}");
    drop(server);
}
