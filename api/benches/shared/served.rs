//! The benchmarks' way to run the real `serve`: this build's binary on a
//! free port, asked over plain HTTP/1.1 with a bearer token.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use sha2::{Digest, Sha256};

/// The admin token every bench config registers.
pub const ADMIN: &str = "served-bench-admin-token";

/// A token's SHA-256 as `[[tokens]] sha256` takes it.
pub fn digest(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// One HTTP/1.1 request with the admin token; (status, body).
pub fn request(port: u16, method: &str, path: &str, body: &str) -> std::io::Result<(u16, String)> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer {ADMIN}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    let mut text = String::new();
    stream.read_to_string(&mut text)?;
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    Ok((status, body.to_owned()))
}

/// `serve` over the lake `<dir>/lake` with `config` on a free port (no
/// PostgreSQL port), its log in `log`; returns the child and its HTTP port.
pub fn serve(dir: &Path, config: &Path, log: &Path) -> (Child, u16) {
    let log = std::fs::File::create(log).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_queuelake"))
        .env("RUST_LOG", "warn")
        .args(["serve", "--data"])
        .arg(dir.join("lake"))
        .args(["--listen", "127.0.0.1:0", "--no-pg", "--config"])
        .arg(config)
        .stdout(Stdio::piped())
        .stderr(log)
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    let port = loop {
        line.clear();
        assert!(stdout.read_line(&mut line).unwrap() > 0, "serve ended");
        if let Some(address) = line.trim().strip_prefix("listening on http://") {
            break address.rsplit(':').next().unwrap().parse().unwrap();
        }
    };
    std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
    (child, port)
}

/// The AMI link's state as `serve` reports it.
pub fn link_state(port: u16) -> String {
    match request(port, "GET", "/api/v1/live/campaigns", "") {
        Ok((200, body)) => serde_json::from_str::<serde_json::Value>(&body)
            .ok()
            .and_then(|v| v["ami"]["state"].as_str().map(str::to_owned))
            .unwrap_or_default(),
        _ => String::new(),
    }
}

/// Stops `serve` as an operator does (SIGTERM) and waits for it.
pub fn stop(mut child: Child) {
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let _ = child.wait();
}
