//! Frame checks in front of pgwire's decoder: every message a client sends
//! is checked against the protocol's layout before pgwire reads it, so a
//! malformed frame (a count past the end, a parameter longer than its
//! message, a string without its NUL) ends the connection with FATAL
//! 08P01 naming the fault, as PostgreSQL answers it — never a panic in a
//! decoder that trusts the lengths it reads.
//!
//! [`FrameGuard`] wraps the connection's stream (inside TLS, where the
//! protocol is plain): it follows message boundaries as bytes pass and
//! checks each message it knows when its last byte arrives — before that
//! byte is handed on, so the decoder never holds a whole malformed message.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// A startup packet's largest size (PostgreSQL's `MAX_STARTUP_PACKET_LENGTH`).
const MAX_STARTUP_BYTES: usize = 10_000;

/// A message that does not follow the protocol's layout.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("malformed {message} message: {fault}")]
pub struct MalformedFrame {
    /// The message's name (`Bind`, `Parse`, `startup`, …).
    pub message: &'static str,
    /// What is wrong, and where.
    pub fault: String,
}

/// Follows a client's messages and checks each one it knows.
#[derive(Debug, Default)]
pub struct FrameChecker {
    /// The startup packet is behind us (later messages carry a type byte).
    started: bool,
    /// The header read so far: a type byte (after startup) and a length.
    head: Vec<u8>,
    /// The message being read: its type and the body bytes still to come.
    current: Option<(u8, usize)>,
    /// Its body so far, kept only for the messages that are checked.
    body: Option<Vec<u8>>,
}

impl FrameChecker {
    /// A checker whose first message is the startup packet.
    pub fn new() -> Self {
        FrameChecker::default()
    }

    /// Takes the next bytes of the stream; the first malformed message,
    /// when one completes in them.
    pub fn feed(&mut self, mut bytes: &[u8]) -> Result<(), MalformedFrame> {
        loop {
            if let Some((kind, remaining)) = self.current {
                let take = remaining.min(bytes.len());
                if let Some(body) = &mut self.body {
                    body.extend_from_slice(&bytes[..take]);
                }
                bytes = &bytes[take..];
                let remaining = remaining - take;
                if remaining > 0 {
                    self.current = Some((kind, remaining));
                    return Ok(());
                }
                self.current = None;
                let body = self.body.take().unwrap_or_default();
                check(kind, &body, !self.started)?;
                self.started = true;
                continue;
            }
            if bytes.is_empty() {
                return Ok(());
            }
            let head_len = if self.started { 5 } else { 4 };
            let take = (head_len - self.head.len()).min(bytes.len());
            self.head.extend_from_slice(&bytes[..take]);
            bytes = &bytes[take..];
            if self.head.len() < head_len {
                return Ok(());
            }
            let kind = if self.started { self.head[0] } else { 0 };
            let at = head_len - 4;
            let declared = i32::from_be_bytes([
                self.head[at],
                self.head[at + 1],
                self.head[at + 2],
                self.head[at + 3],
            ]);
            self.head.clear();
            let name = name_of(kind, !self.started);
            if declared < 4 {
                return Err(MalformedFrame {
                    message: name,
                    fault: format!("its length {declared} is less than 4"),
                });
            }
            let body_len = declared as usize - 4;
            if !self.started && declared as usize > MAX_STARTUP_BYTES {
                return Err(MalformedFrame {
                    message: name,
                    fault: format!("{declared} bytes, over {MAX_STARTUP_BYTES}"),
                });
            }
            self.body = is_checked(kind, !self.started)
                .then(|| Vec::with_capacity(body_len.min(64 * 1024)));
            self.current = Some((kind, body_len));
        }
    }
}

/// Whether a message of this type has its body checked.
fn is_checked(kind: u8, startup: bool) -> bool {
    startup || b"BPEDCQFfSHXc".contains(&kind)
}

fn name_of(kind: u8, startup: bool) -> &'static str {
    if startup {
        return "startup";
    }
    match kind {
        b'B' => "Bind",
        b'P' => "Parse",
        b'E' => "Execute",
        b'D' => "Describe",
        b'C' => "Close",
        b'Q' => "Query",
        b'F' => "FunctionCall",
        b'f' => "CopyFail",
        b'S' => "Sync",
        b'H' => "Flush",
        b'X' => "Terminate",
        b'c' => "CopyDone",
        b'p' => "password",
        b'd' => "CopyData",
        _ => "unknown",
    }
}

/// Checks one whole message body against its layout.
fn check(kind: u8, body: &[u8], startup: bool) -> Result<(), MalformedFrame> {
    let message = name_of(kind, startup);
    let mut r = Reader { at: body, read: 0 };
    let checked = if startup {
        check_startup(&mut r)
    } else {
        match kind {
            b'B' => check_bind(&mut r),
            b'P' => check_parse(&mut r),
            b'E' => r
                .cstring("portal name")
                .and_then(|()| r.skip(4, "row limit")),
            b'D' | b'C' => r.skip(1, "kind").and_then(|()| r.cstring("name")),
            b'Q' => r.cstring("query text"),
            b'f' => r.cstring("error message"),
            b'F' => check_function_call(&mut r),
            _ => Ok(()),
        }
    };
    checked
        .and_then(|()| r.end())
        .map_err(|fault| MalformedFrame { message, fault })
}

fn check_startup(r: &mut Reader<'_>) -> Result<(), String> {
    let code = r.i32("protocol version")?;
    // SSLRequest, GSSENCRequest and CancelRequest carry no strings (a
    // cancel's key is 4 bytes, or up to 256 in protocol 3.2).
    if code >> 16 == 1234 {
        let rest = r.at.len();
        r.skip(rest, "request")?;
        return Ok(());
    }
    loop {
        if r.at.first() == Some(&0) {
            return r.skip(1, "terminator");
        }
        r.cstring("parameter name")?;
        r.cstring("parameter value")?;
    }
}

fn check_bind(r: &mut Reader<'_>) -> Result<(), String> {
    r.cstring("portal name")?;
    r.cstring("statement name")?;
    let formats = r.u16("parameter format count")?;
    r.skip(2 * usize::from(formats), "parameter format codes")?;
    let parameters = r.u16("parameter count")?;
    for n in 1..=parameters {
        r.value(&format!("parameter {n}"))?;
    }
    let results = r.u16("result format count")?;
    r.skip(2 * usize::from(results), "result format codes")
}

fn check_parse(r: &mut Reader<'_>) -> Result<(), String> {
    r.cstring("statement name")?;
    r.cstring("query text")?;
    let types = r.u16("parameter type count")?;
    r.skip(4 * usize::from(types), "parameter types")
}

fn check_function_call(r: &mut Reader<'_>) -> Result<(), String> {
    r.skip(4, "function id")?;
    let formats = r.u16("argument format count")?;
    r.skip(2 * usize::from(formats), "argument format codes")?;
    let arguments = r.u16("argument count")?;
    for n in 1..=arguments {
        r.value(&format!("argument {n}"))?;
    }
    r.skip(2, "result format")
}

/// Reads a message body, naming what it lacks.
struct Reader<'a> {
    at: &'a [u8],
    read: usize,
}

impl Reader<'_> {
    fn skip(&mut self, n: usize, what: &str) -> Result<(), String> {
        if self.at.len() < n {
            return Err(format!(
                "{what} needs {n} bytes at byte {}, {} remain",
                self.read,
                self.at.len()
            ));
        }
        self.at = &self.at[n..];
        self.read += n;
        Ok(())
    }

    fn u16(&mut self, what: &str) -> Result<u16, String> {
        let bytes = self.at;
        self.skip(2, what)?;
        Ok(u16::from_be_bytes([bytes[0], bytes[1]]))
    }

    fn i32(&mut self, what: &str) -> Result<i32, String> {
        let bytes = self.at;
        self.skip(4, what)?;
        Ok(i32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]))
    }

    fn cstring(&mut self, what: &str) -> Result<(), String> {
        match self.at.iter().position(|&b| b == 0) {
            Some(end) => self.skip(end + 1, what),
            None => Err(format!(
                "{what} at byte {} has no terminating NUL",
                self.read
            )),
        }
    }

    /// A length-prefixed value: -1 (NULL) or that many bytes.
    fn value(&mut self, what: &str) -> Result<(), String> {
        let at = self.read;
        match self.i32(&format!("{what}'s length"))? {
            -1 => Ok(()),
            len if len < 0 => Err(format!("{what} at byte {at} has length {len}")),
            len => self.skip(len as usize, what),
        }
    }

    fn end(&self) -> Result<(), String> {
        if self.at.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "{} bytes follow its last field (byte {})",
                self.at.len(),
                self.read
            ))
        }
    }
}

/// A stream whose incoming bytes pass a [`FrameChecker`]: a malformed
/// message is an `InvalidData` error carrying the [`MalformedFrame`].
pub struct FrameGuard<S> {
    inner: S,
    checker: FrameChecker,
}

impl<S> FrameGuard<S> {
    /// `inner`, checked from `checker`'s place (bytes already read are fed
    /// to it by the caller).
    pub fn new(inner: S, checker: FrameChecker) -> Self {
        FrameGuard { inner, checker }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for FrameGuard<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        ready!(Pin::new(&mut this.inner).poll_read(cx, buf))?;
        if let Err(malformed) = this.checker.feed(&buf.filled()[before..]) {
            buf.set_filled(before); // the decoder never sees it whole
            return Poll::Ready(Err(io::Error::new(io::ErrorKind::InvalidData, malformed)));
        }
        Poll::Ready(Ok(()))
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for FrameGuard<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

/// The [`MalformedFrame`] an I/O error carries, if any.
pub fn malformed(error: &io::Error) -> Option<&MalformedFrame> {
    error.get_ref()?.downcast_ref::<MalformedFrame>()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn message(kind: u8, body: &[u8]) -> Vec<u8> {
        let mut out = vec![kind];
        out.extend_from_slice(&(body.len() as i32 + 4).to_be_bytes());
        out.extend_from_slice(body);
        out
    }

    fn startup() -> Vec<u8> {
        let mut body = 196_608i32.to_be_bytes().to_vec();
        body.extend_from_slice(b"user\0x\0database\0queuelake\0\0");
        let mut out = (body.len() as i32 + 4).to_be_bytes().to_vec();
        out.extend_from_slice(&body);
        out
    }

    fn bind(parameters: &[Option<&[u8]>]) -> Vec<u8> {
        let mut body = b"\0s1\0".to_vec();
        body.extend_from_slice(&0u16.to_be_bytes());
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
        message(b'B', &body)
    }

    #[test]
    fn well_formed_messages_pass_in_any_split() {
        let mut stream = startup();
        stream.extend(message(b'p', b"ql_token\0"));
        stream.extend(message(b'P', b"s1\0SELECT $1::BIGINT\0\0\x01\0\0\0\x14"));
        stream.extend(bind(&[Some(b"7"), None]));
        stream.extend(message(b'E', b"\0\0\0\0\0"));
        stream.extend(message(b'S', b""));
        for split in 1..stream.len() {
            let mut checker = FrameChecker::new();
            for chunk in stream.chunks(split) {
                checker.feed(chunk).unwrap();
            }
        }
    }

    #[test]
    fn a_bind_whose_parameter_runs_past_its_message_is_named() {
        let mut body = b"\0s1\0".to_vec();
        body.extend_from_slice(&0u16.to_be_bytes());
        body.extend_from_slice(&1u16.to_be_bytes());
        body.extend_from_slice(&1000i32.to_be_bytes());
        body.extend_from_slice(b"abc");
        let mut checker = FrameChecker::new();
        checker.feed(&startup()).unwrap();
        let fault = checker.feed(&message(b'B', &body)).unwrap_err();
        assert_eq!(
            fault.to_string(),
            "malformed Bind message: parameter 1 needs 1000 bytes at byte 12, 3 remain"
        );
    }

    #[test]
    fn counts_past_the_end_short_lengths_and_trailing_bytes_are_faults() {
        let cases: [(Vec<u8>, &str); 5] = [
            (
                message(b'B', b"\0s1\0\xff\xff"),
                "parameter format codes needs 131070 bytes",
            ),
            (
                message(b'B', b"\0s1"),
                "statement name at byte 1 has no terminating NUL",
            ),
            (
                message(b'P', b"s\0SELECT 1\0\0\x01"),
                "parameter types needs 4 bytes",
            ),
            (message(b'S', b"x"), "1 bytes follow its last field"),
            (vec![b'Q', 0, 0, 0, 2], "its length 2 is less than 4"),
        ];
        for (bytes, want) in cases {
            let mut checker = FrameChecker::new();
            checker.feed(&startup()).unwrap();
            let fault = checker.feed(&bytes).unwrap_err();
            assert!(fault.to_string().contains(want), "{fault} / {want}");
        }
        let mut negative = bind(&[Some(b"1")]);
        negative[13..17].copy_from_slice(&(-5i32).to_be_bytes());
        let mut checker = FrameChecker::new();
        checker.feed(&startup()).unwrap();
        let fault = checker.feed(&negative).unwrap_err();
        assert!(fault.to_string().contains("has length -5"), "{fault}");
    }

    #[test]
    fn a_huge_or_unterminated_startup_packet_is_a_fault() {
        let mut checker = FrameChecker::new();
        let fault = checker.feed(&20_000i32.to_be_bytes()).unwrap_err();
        assert_eq!(fault.message, "startup");
        let mut body = 196_608i32.to_be_bytes().to_vec();
        body.extend_from_slice(b"user\0x");
        let mut packet = (body.len() as i32 + 4).to_be_bytes().to_vec();
        packet.extend_from_slice(&body);
        let fault = FrameChecker::new().feed(&packet).unwrap_err();
        assert!(fault.fault.contains("no terminating NUL"), "{fault}");
    }

    proptest! {
        /// Whatever bytes follow a good startup, the checker never panics,
        /// and a message it passes is one pgwire's layout can hold.
        #[test]
        fn any_bytes_are_checked_without_panic_whatever_the_split(
            noise in proptest::collection::vec(any::<u8>(), 0..512),
            split in 0usize..512,
        ) {
            let mut whole = FrameChecker::new();
            whole.feed(&startup()).unwrap();
            let verdict = whole.feed(&noise).is_ok();
            let at = split.min(noise.len());
            let mut parts = FrameChecker::new();
            parts.feed(&startup()).unwrap();
            let split_verdict = parts.feed(&noise[..at]).and_then(|()| parts.feed(&noise[at..]));
            prop_assert_eq!(verdict, split_verdict.is_ok());
        }

        #[test]
        fn bind_with_any_parameters_passes(parameters in proptest::collection::vec(
            proptest::option::of(proptest::collection::vec(any::<u8>(), 0..64)), 0..8)) {
            let as_slices: Vec<Option<&[u8]>> = parameters.iter().map(|p| p.as_deref()).collect();
            let mut checker = FrameChecker::new();
            checker.feed(&startup()).unwrap();
            prop_assert!(checker.feed(&bind(&as_slices)).is_ok());
        }
    }
}
