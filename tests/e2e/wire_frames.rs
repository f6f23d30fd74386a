//! Malformed PostgreSQL frames over a raw socket, through the served
//! binary: a Bind whose parameter runs past its message, counts past the
//! end, a negative length, a huge declared length, a startup without its
//! terminator — each ends its connection with FATAL 08P01 naming the
//! fault; well-formed but wrong Binds (too many parameters, a bad binary
//! value, an unknown statement) are ordinary errors and the connection
//! goes on. Afterwards no connection is left counted and clients connect.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use crate::support::{gauge, runtime, serve_small_lake};

const TOKEN: &str = "ql_frames_admin";

fn frame(kind: u8, body: &[u8]) -> Vec<u8> {
    let mut out = vec![kind];
    out.extend_from_slice(&(body.len() as i32 + 4).to_be_bytes());
    out.extend_from_slice(body);
    out
}

fn startup_packet(terminated: bool) -> Vec<u8> {
    let mut body = 196_608i32.to_be_bytes().to_vec();
    body.extend_from_slice(b"user\0x\0database\0queuelake\0");
    if terminated {
        body.push(0);
    }
    let mut out = (body.len() as i32 + 4).to_be_bytes().to_vec();
    out.extend_from_slice(&body);
    out
}

/// Reads one server message; `None` once the server has closed.
fn read_message(stream: &mut TcpStream) -> Option<(u8, Vec<u8>)> {
    let mut head = [0u8; 5];
    stream.read_exact(&mut head).ok()?;
    let len = i32::from_be_bytes([head[1], head[2], head[3], head[4]]) as usize;
    let mut body = vec![0u8; len.saturating_sub(4)];
    stream.read_exact(&mut body).ok()?;
    Some((head[0], body))
}

/// Messages up to ReadyForQuery (`Z`), or up to the close.
fn until_ready(stream: &mut TcpStream) -> (Vec<(u8, Vec<u8>)>, bool) {
    let mut seen = Vec::new();
    while let Some((kind, body)) = read_message(stream) {
        seen.push((kind, body));
        if kind == b'Z' {
            return (seen, false);
        }
    }
    (seen, true)
}

/// An ErrorResponse's severity, code and message.
fn error_fields(body: &[u8]) -> (String, String, String) {
    let mut fields = (String::new(), String::new(), String::new());
    for field in body.split(|&b| b == 0).filter(|f| !f.is_empty()) {
        let text = String::from_utf8_lossy(&field[1..]).into_owned();
        match field[0] {
            b'S' => fields.0 = text,
            b'C' => fields.1 = text,
            b'M' => fields.2 = text,
            _ => {}
        }
    }
    fields
}

/// A signed-in raw connection with `s1` = `SELECT $1::BIGINT` prepared.
fn signed_in(port: u16) -> TcpStream {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream.write_all(&startup_packet(true)).unwrap();
    let (kind, body) = read_message(&mut stream).expect("an authentication request");
    assert_eq!(
        (kind, &body[..]),
        (b'R', &3i32.to_be_bytes()[..]),
        "cleartext password asked"
    );
    let mut password = TOKEN.as_bytes().to_vec();
    password.push(0);
    stream.write_all(&frame(b'p', &password)).unwrap();
    let (_, closed) = until_ready(&mut stream);
    assert!(!closed, "signed in");
    let mut parse = b"s1\0SELECT $1::BIGINT\0".to_vec();
    parse.extend_from_slice(&1u16.to_be_bytes());
    parse.extend_from_slice(&20u32.to_be_bytes()); // int8
    stream.write_all(&frame(b'P', &parse)).unwrap();
    stream.write_all(&frame(b'S', b"")).unwrap();
    let (seen, closed) = until_ready(&mut stream);
    assert!(
        !closed && seen.iter().any(|(k, _)| *k == b'1'),
        "parsed: {seen:?}"
    );
    stream
}

/// A Bind of portal "" to `statement` with these raw parts.
fn bind(statement: &str, formats: &[i16], parameters: &[Option<&[u8]>]) -> Vec<u8> {
    let mut body = vec![0u8];
    body.extend_from_slice(statement.as_bytes());
    body.push(0);
    body.extend_from_slice(&(formats.len() as u16).to_be_bytes());
    for f in formats {
        body.extend_from_slice(&f.to_be_bytes());
    }
    body.extend_from_slice(&(parameters.len() as u16).to_be_bytes());
    for p in parameters {
        match p {
            Some(bytes) => {
                body.extend_from_slice(&(bytes.len() as i32).to_be_bytes());
                body.extend_from_slice(bytes);
            }
            None => body.extend_from_slice(&(-1i32).to_be_bytes()),
        }
    }
    body.extend_from_slice(&0u16.to_be_bytes());
    frame(b'B', &body)
}

fn execute_and_sync() -> Vec<u8> {
    let mut out = frame(b'E', b"\0\0\0\0\0");
    out.extend(frame(b'S', b""));
    out
}

#[test]
fn malformed_frames_end_their_connection_with_08p01_and_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    let server = serve_small_lake(dir.path(), "", |_| TOKEN.into(), &[("admin", "admin", "")]);
    let pg_port = server.pg_port.unwrap();

    // Malformed: FATAL 08P01 naming the message and the fault, then closed.
    let mut past_end = bind("s1", &[], &[Some(b"7")]);
    past_end[13..17].copy_from_slice(&1000i32.to_be_bytes());
    let mut negative = bind("s1", &[], &[Some(b"7")]);
    negative[13..17].copy_from_slice(&(-5i32).to_be_bytes());
    let mut counts = frame(b'B', b"\0s1\0\xff\xff");
    counts.extend(frame(b'S', b""));
    let mut huge = vec![b'B'];
    huge.extend_from_slice(&i32::MAX.to_be_bytes());
    huge.extend_from_slice(&[0u8; 64]);
    let cases: [(&str, Vec<u8>, &str); 4] = [
        (
            "parameter past its message",
            past_end,
            "parameter 1 needs 1000 bytes",
        ),
        ("negative length", negative, "has length -5"),
        (
            "format count past the end",
            counts,
            "parameter format codes needs 131070 bytes",
        ),
        ("huge declared length", huge, ""),
    ];
    for (what, bytes, names) in cases {
        let mut stream = signed_in(pg_port);
        let started = Instant::now();
        stream.write_all(&bytes).unwrap();
        let (seen, closed) = until_ready(&mut stream);
        let error = seen
            .iter()
            .find(|(k, _)| *k == b'E')
            .map(|(_, body)| error_fields(body))
            .unwrap_or_else(|| panic!("{what}: no error in {seen:?}"));
        eprintln!("{what}: {error:?} after {:?}", started.elapsed());
        assert_eq!(
            (error.0.as_str(), error.1.as_str()),
            ("FATAL", "08P01"),
            "{what}"
        );
        assert!(error.2.contains(names), "{what}: {}", error.2);
        assert!(closed, "{what}: the connection was closed");
    }

    // A startup packet without its terminator.
    let mut stream = TcpStream::connect(("127.0.0.1", pg_port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream.write_all(&startup_packet(false)).unwrap();
    let (seen, closed) = until_ready(&mut stream);
    assert!(closed && !seen.iter().any(|(k, _)| *k == b'R'), "{seen:?}");

    // Well-formed but wrong: an error, and the connection goes on.
    let mut stream = signed_in(pg_port);
    for (what, bytes, code) in [
        (
            "too many parameters",
            bind("s1", &[], &[Some(b"1"), Some(b"2"), Some(b"3")]),
            "08P01",
        ),
        (
            "a 3-byte binary int8",
            bind("s1", &[1], &[Some(b"abc")]),
            "22P03",
        ),
        (
            "an unknown statement",
            bind("nope", &[], &[Some(b"1")]),
            "26000",
        ),
    ] {
        stream.write_all(&bytes).unwrap();
        stream.write_all(&execute_and_sync()).unwrap();
        let (seen, closed) = until_ready(&mut stream);
        assert!(!closed, "{what}: closed");
        let error = seen
            .iter()
            .find(|(k, _)| *k == b'E')
            .map(|(_, body)| error_fields(body))
            .unwrap_or_else(|| panic!("{what}: no error in {seen:?}"));
        eprintln!("{what}: {error:?}");
        assert_eq!(error.0, "ERROR", "{what}: {error:?}");
        assert!(
            !error.1.is_empty(),
            "{what}: {error:?} (PostgreSQL answers {code})"
        );
    }
    stream.write_all(&bind("s1", &[], &[Some(b"7")])).unwrap();
    stream.write_all(&execute_and_sync()).unwrap();
    let (seen, closed) = until_ready(&mut stream);
    assert!(!closed);
    let row = seen
        .iter()
        .find(|(k, _)| *k == b'D')
        .expect("a data row after the errors");
    assert!(row.1.ends_with(b"7"), "{:?}", row.1);
    drop(stream);

    // Nothing is left counted, and a driver connects.
    let started = Instant::now();
    while gauge(server.port, TOKEN, "queuelake_postgres_wire_connections") != 0.0 {
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "connections still counted after every socket closed"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    runtime().block_on(async {
        let (client, connection) = tokio_postgres::connect(
            &format!("host=127.0.0.1 port={pg_port} user=x password={TOKEN} dbname=queuelake"),
            tokio_postgres::NoTls,
        )
        .await
        .unwrap();
        tokio::spawn(connection);
        let row = client
            .query_one("SELECT $1::BIGINT", &[&42i64])
            .await
            .unwrap();
        assert_eq!(row.get::<_, i64>(0), 42);
    });
    assert!(server.terminate(), "serve stops cleanly");
}
