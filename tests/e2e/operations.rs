//! What operators rely on: TLS on the PostgreSQL port, and structured
//! logs where every line of a request names its id.

use std::io::BufReader;
use std::process::Stdio;
use std::time::Duration;

use serde_json::Value;

use crate::support::{bin, raw_request, read_banner};

/// A self-signed certificate and key for localhost (openssl CLI).
fn self_signed(dir: &std::path::Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    let status = std::process::Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
        ])
        .args(["-subj", "/CN=localhost", "-keyout"])
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .stderr(Stdio::null())
        .status()
        .expect("openssl runs");
    assert!(status.success());
    (cert, key)
}

#[test]
fn the_postgres_port_speaks_tls_when_configured_and_logs_are_json_with_request_ids() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = self_signed(dir.path());
    let queue_log = dir.path().join("queue_log");
    std::fs::write(&queue_log, "1700000000|NONE|NONE|NONE|QUEUESTART|\n").unwrap();
    let config = dir.path().join("queuelake.toml");
    std::fs::write(
        &config,
        format!(
            "version = 1\n[postgres_wire]\nlisten = \"127.0.0.1:0\"\ntls_cert = {:?}\ntls_key = {:?}\n",
            cert.display().to_string(),
            key.display().to_string()
        ),
    )
    .unwrap();
    let log_path = dir.path().join("stderr.log");
    let mut child = bin()
        .args(["--log-json", "serve", "--data"])
        .arg(dir.path().join("lake"))
        .args(["--listen", "127.0.0.1:0", "--config"])
        .arg(&config)
        .arg("--queue-log")
        .arg(&queue_log)
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&log_path).unwrap())
        .spawn()
        .unwrap();
    let banner = read_banner(&mut BufReader::new(child.stdout.take().unwrap()));
    let token = banner
        .token
        .clone()
        .expect("no tokens configured: one is made");
    let pg_port = banner.pg_port.expect("postgres wire listens");

    // TLS: psql with sslmode=require connects, and says the link is TLS.
    let out = std::process::Command::new("psql")
        .arg(format!(
            "host=127.0.0.1 port={pg_port} user=admin dbname=queuelake sslmode=require"
        ))
        .args(["-At", "-c", "SELECT 40 + 2", "-c", "\\conninfo"])
        .env("PGPASSWORD", &token)
        .output()
        .expect("psql runs");
    let printed = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{printed}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(printed.starts_with("42\n"), "{printed}");
    assert!(printed.contains("SSL connection"), "{printed}");

    // A request with its own id: every log line of it names that id.
    let body = r#"{"sql":"SELEC 1"}"#;
    let (status, headers, _) = raw_request(
        banner.port,
        &format!(
            "POST /api/v1/sql HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\nx-request-id: ops-test-7\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        ),
    );
    assert_eq!(status, 400, "{headers}");
    std::thread::sleep(Duration::from_millis(200));
    let _ = child.kill();
    let _ = child.wait();
    let log = std::fs::read_to_string(&log_path).unwrap();
    let lines: Vec<Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    let of_request: Vec<&Value> = lines
        .iter()
        .filter(|l| l.to_string().contains("ops-test-7"))
        .collect();
    assert!(!of_request.is_empty(), "{log}");
    let access = of_request
        .iter()
        .find(|l| l["fields"]["message"] == "request")
        .unwrap_or_else(|| panic!("no access line: {log}"));
    assert_eq!(access["fields"]["status"], 400, "{access}");
    assert_eq!(access["span"]["request_id"], "ops-test-7", "{access}");
    assert_eq!(access["span"]["token"], "admin", "{access}");
}
