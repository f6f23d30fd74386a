//! HTTP clients that try to hold the port, through the served binary:
//! idle and trickling connections, a kept-alive connection left idle, a
//! huge declared body, a body that never arrives, a client that reads
//! nothing of a large answer, too many connections from one address, and
//! a flood past the process's file-descriptor limit. Each is ended by its
//! named limit, and the others' requests go on being answered.

use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use crate::support::{Server, gauge, raw_request, runtime, serve_small_lake};

const HEADER_TIMEOUT: Duration = Duration::from_millis(1_000);
const BODY_TIMEOUT: Duration = Duration::from_millis(1_500);
const WRITE_STALL: Duration = Duration::from_millis(1_500);
const MAX_CONNECTIONS: usize = 48;
const PER_PEER: usize = 8;

fn token() -> String {
    "ql_slow_admin".into()
}

fn start(dir: &std::path::Path) -> Server {
    let server = format!(
        "max_connections = {MAX_CONNECTIONS}\nmax_connections_per_peer = {PER_PEER}\n\
         header_timeout_ms = {}\nbody_timeout_ms = {}\nwrite_stall_ms = {}",
        HEADER_TIMEOUT.as_millis(),
        BODY_TIMEOUT.as_millis(),
        WRITE_STALL.as_millis(),
    );
    serve_small_lake(dir, &server, |_| token(), &[("admin", "admin", "")])
}

/// A connection to `port` from the loopback address `127.0.0.<last>`
/// (every 127/8 address is this host's), with a receive buffer of
/// `receive_buffer` bytes when given.
fn connect_from(last: u8, port: u16, receive_buffer: Option<u32>) -> TcpStream {
    let rt = runtime();
    let stream = rt.block_on(async {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        if let Some(size) = receive_buffer {
            socket.set_recv_buffer_size(size).unwrap();
        }
        socket
            .bind(SocketAddr::new(
                IpAddr::V4(Ipv4Addr::new(127, 0, 0, last)),
                0,
            ))
            .unwrap();
        let to = SocketAddr::from(([127, 0, 0, 1], port));
        socket.connect(to).await.unwrap()
    });
    let stream = stream.into_std().unwrap();
    stream.set_nonblocking(false).unwrap();
    stream
}

/// Reads until the server closes the connection (or `limit` passes);
/// returns what was read and when the close came.
fn read_until_closed(stream: &mut TcpStream, limit: Duration) -> (String, Option<Duration>) {
    let started = Instant::now();
    let mut seen = Vec::new();
    let mut buffer = [0u8; 4096];
    while started.elapsed() < limit {
        stream
            .set_read_timeout(Some(Duration::from_millis(100)))
            .unwrap();
        match stream.read(&mut buffer) {
            Ok(0) => {
                return (
                    String::from_utf8_lossy(&seen).into(),
                    Some(started.elapsed()),
                );
            }
            Ok(n) => seen.extend_from_slice(&buffer[..n]),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(_) => {
                return (
                    String::from_utf8_lossy(&seen).into(),
                    Some(started.elapsed()),
                );
            }
        }
    }
    (String::from_utf8_lossy(&seen).into(), None)
}

fn health_from(last: u8, port: u16) -> (u16, Duration) {
    let started = Instant::now();
    let mut stream = connect_from(last, port, None);
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .unwrap();
    let (text, _) = read_until_closed(&mut stream, Duration::from_secs(10));
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, started.elapsed())
}

/// The `queuelake_http_connections` gauge (this request's own included).
fn open_connections(port: u16) -> f64 {
    gauge(port, &token(), "queuelake_http_connections")
}

#[test]
fn slow_and_idle_http_clients_cannot_hold_the_port() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path());
    let port = server.port;
    let slack = Duration::from_secs(1);

    // 1. One address may hold PER_PEER connections; the next is a 503
    //    naming the limit, while another address is answered at once.
    let mut held: Vec<TcpStream> = (0..PER_PEER).map(|_| connect_from(2, port, None)).collect();
    std::thread::sleep(Duration::from_millis(200));
    let mut extra = connect_from(2, port, None);
    let (refused, closed) = read_until_closed(&mut extra, Duration::from_secs(2));
    assert!(refused.starts_with("HTTP/1.1 503"), "{refused}");
    assert!(refused.contains("the limit per address"), "{refused}");
    assert!(closed.is_some(), "the refused connection is closed");
    let (status, took) = health_from(3, port);
    assert_eq!(status, 200);
    assert!(took < Duration::from_secs(1), "{took:?}");

    // 2. Idle connections that never send a header are closed after the
    //    header timeout; the address may connect again.
    for stream in &mut held {
        let (_, closed) = read_until_closed(stream, HEADER_TIMEOUT + slack);
        assert!(closed.is_some(), "an idle connection stayed open");
    }
    let (status, _) = health_from(2, port);
    assert_eq!(status, 200);

    // 3. Headers trickled a byte every 200 ms are cut at the header timeout.
    let mut trickle = connect_from(4, port, None);
    trickle.write_all(b"GET /healthz HTTP/1.1\r\n").unwrap();
    let started = Instant::now();
    let mut cut = None;
    while started.elapsed() < HEADER_TIMEOUT * 4 {
        if trickle.write_all(b"X").is_err() {
            cut = Some(started.elapsed());
            break;
        }
        let (_, closed) = read_until_closed(&mut trickle, Duration::from_millis(200));
        if closed.is_some() {
            cut = Some(started.elapsed());
            break;
        }
    }
    let cut = cut.expect("a trickling client was never cut");
    eprintln!("trickled headers cut after {cut:?}");
    assert!(cut <= HEADER_TIMEOUT + slack, "{cut:?}");

    // 4. A kept-alive connection idle after its answer is closed too.
    let mut kept = connect_from(5, port, None);
    kept.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let (answer, closed) = read_until_closed(&mut kept, HEADER_TIMEOUT + slack);
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let closed = closed.expect("a kept-alive idle connection stayed open");
    eprintln!("kept-alive idle connection closed after {closed:?}");

    // 5. A declared body over the limit is refused before it is sent.
    let started = Instant::now();
    let (status, _, body) = raw_request(
        port,
        &format!(
            "POST /api/v1/sql HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\n\
             Content-Type: application/json\r\nContent-Length: 10000000000\r\n\r\n",
            token()
        ),
    );
    assert_eq!(status, 413, "{body}");
    assert!(body.contains("Content-Length 10000000000"), "{body}");
    assert!(started.elapsed() < Duration::from_secs(1));

    // 6. A body that stops arriving is a 408 at the body timeout.
    let mut slow_body = connect_from(6, port, None);
    let started = Instant::now();
    write!(
        slow_body,
        "POST /api/v1/sql HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"sql\": ",
        token()
    )
    .unwrap();
    let (answer, _) = read_until_closed(&mut slow_body, BODY_TIMEOUT + slack * 2);
    let took = started.elapsed();
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(
        answer.contains(&format!(
            "did not arrive within {} ms",
            BODY_TIMEOUT.as_millis()
        )),
        "{answer}"
    );
    assert!(took <= BODY_TIMEOUT + slack, "{took:?}");

    // 7. A client that reads nothing of a large answer is dropped once
    //    the server's writes stall; the gauge comes back to this request.
    let body = r#"{"sql": "SELECT repeat('x', 1000) AS s FROM generate_series(1, 40000)"}"#;
    let mut deaf = connect_from(7, port, Some(4096));
    write!(
        deaf,
        "POST /api/v1/sql HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        token(),
        body.len()
    )
    .unwrap();
    let started = Instant::now();
    let mut dropped = None;
    while started.elapsed() < Duration::from_secs(20) {
        std::thread::sleep(Duration::from_millis(250));
        if open_connections(port) == 1.0 {
            dropped = Some(started.elapsed());
            break;
        }
    }
    let dropped = dropped.expect("the server kept writing to a client that reads nothing");
    eprintln!("a client reading nothing was dropped after {dropped:?}");
    drop(deaf);

    // 8. A flood past the process's descriptor limit: the port sheds what
    //    it cannot hold, the PostgreSQL port keeps answering, and HTTP
    //    answers again once the flood's idle sockets time out.
    let pid = server.child.id();
    let open_fds = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .count();
    let limit = open_fds + MAX_CONNECTIONS + 40;
    let set = std::process::Command::new("prlimit")
        .args([
            "--pid",
            &pid.to_string(),
            &format!("--nofile={limit}:{limit}"),
        ])
        .status()
        .expect("prlimit runs (util-linux)");
    assert!(set.success());
    let flood: Vec<TcpStream> = (0..40u8)
        .flat_map(|a| (0..PER_PEER).map(move |_| connect_from(10 + a, port, None)))
        .collect();
    eprintln!(
        "{} flood sockets against a limit of {limit} descriptors ({open_fds} open before)",
        flood.len()
    );
    let pg_port = server.pg_port.unwrap();
    let rt = runtime();
    let started = Instant::now();
    rt.block_on(async {
        let (client, connection) = tokio_postgres::Config::new()
            .host("127.0.0.1")
            .port(pg_port)
            .user("admin")
            .password(token())
            .dbname("queuelake")
            .connect(tokio_postgres::NoTls)
            .await
            .expect("the PostgreSQL port accepts during the flood");
        tokio::spawn(connection);
        client.simple_query("SELECT 1").await.unwrap();
    });
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    std::thread::sleep(HEADER_TIMEOUT + slack);
    let (status, took) = health_from(3, port);
    assert_eq!(status, 200, "HTTP answers once the flood timed out");
    assert!(took < Duration::from_secs(1), "{took:?}");
    let fds = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .count();
    assert!(fds <= limit, "{fds} descriptors open");
    drop(flood);
    assert!(server.terminate(), "serve stops cleanly after the attacks");
}
