//! AMI framing: `Key: Value` lines ended by an empty line, CRLF or bare LF.
//!
//! ```text
//!  bytes ─push─▶ buffer ─next_frame─▶ Banner("Asterisk Call Manager/7.0.3")
//!                                     Message{headers}      (one per blank line)
//!                                     Err(FrameError)       (that message only)
//! ```
//!
//! Guarantee: a frame is produced only once its last byte has arrived, so a
//! read split anywhere (inside a header, a CRLF or a UTF-8 sequence) gives
//! the same frames as one read. A bad message (a line longer than the cap,
//! too many headers, a line without `:`) becomes one error naming what was
//! wrong and its position in the stream; decoding resumes at the next empty
//! line, and nothing of the bad message is returned as good.

use std::collections::VecDeque;

/// Limits that keep a hostile or broken peer from growing memory.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Longest line, in bytes (Asterisk's own input limit is 1024; its
    /// events can carry long variable values, hence more).
    pub max_line_bytes: usize,
    /// Most headers in one message (`Variable:` lines repeat).
    pub max_headers: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_line_bytes: 64 * 1024,
            max_headers: 1024,
        }
    }
}

/// One decoded unit of the stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// The server's greeting line (`Asterisk Call Manager/<version>`), sent
    /// once, without an empty line after it.
    Banner(String),
    /// An action, response or event.
    Message(Message),
}

/// An AMI message: its headers in the order received. Keys repeat where
/// the protocol repeats them (`Variable`, `ChanVariable`, `Output`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Message {
    /// `(key, value)` pairs; values decoded lossily from UTF-8.
    pub headers: Vec<(String, String)>,
}

impl Message {
    /// A message from `(key, value)` pairs.
    pub fn new<K: Into<String>, V: Into<String>>(
        headers: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        Message {
            headers: headers
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        }
    }

    /// The first value of `key` (matched case-insensitively, as Asterisk does).
    pub fn get(&self, key: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.as_str())
    }

    /// Every value of `key`, in order.
    pub fn get_all<'a>(&'a self, key: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.headers
            .iter()
            .filter(move |(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.as_str())
    }

    /// The message as it goes on the wire (CRLF line ends, empty line last).
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        for (key, value) in &self.headers {
            out.extend_from_slice(key.as_bytes());
            out.extend_from_slice(b": ");
            out.extend_from_slice(value.as_bytes());
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b"\r\n");
        out
    }
}

/// Why one message could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    /// A line exceeded [`Limits::max_line_bytes`].
    #[error("AMI line at byte {offset} is longer than {limit} bytes; its message was skipped")]
    LineTooLong {
        /// Stream position where the line starts.
        offset: u64,
        /// The cap.
        limit: usize,
    },
    /// A message exceeded [`Limits::max_headers`].
    #[error("AMI message at byte {offset} has more than {limit} headers; it was skipped")]
    TooManyHeaders {
        /// Stream position where the message starts.
        offset: u64,
        /// The cap.
        limit: usize,
    },
    /// A line in a message has no `:`.
    #[error("AMI line at byte {offset} has no ':' ({line:?}); its message was skipped")]
    NoColon {
        /// Stream position where the line starts.
        offset: u64,
        /// The line (cut to 80 bytes).
        line: String,
    },
}

/// Incremental decoder of one connection's byte stream.
#[derive(Debug)]
pub struct Decoder {
    limits: Limits,
    /// The current line's bytes so far.
    buf: Vec<u8>,
    /// Stream position where the current line starts.
    line_start: u64,
    /// Bytes of the current line seen so far (skipped ones included).
    line_seen: u64,
    /// The banner is the first line when the stream starts with it.
    first_line: bool,
    /// Skipping an over-long line until its end.
    skipping_line: bool,
    /// Skipping the rest of a bad message until an empty line.
    skipping_message: bool,
    /// The message being assembled.
    current: Message,
    current_offset: Option<u64>,
    /// Inside a `Response: Follows` body (raw lines up to `--END COMMAND--`).
    follows: bool,
    ready: VecDeque<Result<Frame, FrameError>>,
}

const END_COMMAND: &[u8] = b"--END COMMAND--";

impl Decoder {
    /// A decoder for a stream that starts at offset 0.
    pub fn new(limits: Limits) -> Self {
        Decoder {
            limits,
            buf: Vec::new(),
            line_start: 0,
            line_seen: 0,
            first_line: true,
            skipping_line: false,
            skipping_message: false,
            current: Message::default(),
            current_offset: None,
            follows: false,
            ready: VecDeque::new(),
        }
    }

    /// Adds bytes read from the connection.
    pub fn push(&mut self, bytes: &[u8]) {
        let mut rest = bytes;
        while !rest.is_empty() {
            match memchr::memchr(b'\n', rest) {
                Some(at) => {
                    self.take_line_part(&rest[..at], true);
                    rest = &rest[at + 1..];
                }
                None => {
                    self.take_line_part(rest, false);
                    rest = &[];
                }
            }
        }
    }

    /// The next complete frame, if any.
    pub fn next_frame(&mut self) -> Option<Result<Frame, FrameError>> {
        self.ready.pop_front()
    }

    /// Appends a piece of a line; `ends` when its `\n` was seen.
    fn take_line_part(&mut self, part: &[u8], ends: bool) {
        self.line_seen += part.len() as u64;
        if !self.skipping_line {
            if self.buf.len() + part.len() > self.limits.max_line_bytes {
                self.skipping_line = true;
                self.buf = Vec::new();
                self.fail(FrameError::LineTooLong {
                    offset: self.line_start,
                    limit: self.limits.max_line_bytes,
                });
            } else {
                self.buf.extend_from_slice(part);
            }
        }
        if ends {
            if !self.skipping_line {
                let mut line = std::mem::take(&mut self.buf);
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
                self.line(self.line_start, line);
            }
            self.skipping_line = false;
            self.line_start += self.line_seen + 1;
            self.line_seen = 0;
        }
    }

    /// Reports a bad message once and skips the rest of it.
    fn fail(&mut self, error: FrameError) {
        if !self.skipping_message {
            self.ready.push_back(Err(error));
        }
        self.current = Message::default();
        self.current_offset = None;
        self.follows = false;
        self.skipping_message = true;
    }

    /// Handles one complete line.
    fn line(&mut self, offset: u64, line: Vec<u8>) {
        let first = std::mem::replace(&mut self.first_line, false);
        if line.is_empty() && self.follows && !self.has_output() {
            // A `Follows` response whose header block ends before any
            // output (an empty body, as goami2's captures show it): the
            // message ends here rather than swallowing the stream while
            // waiting for `--END COMMAND--`.
            self.follows = false;
        }
        if line.is_empty() && !self.follows {
            // End of a message (or of a skipped one).
            self.skipping_message = false;
            if self.current_offset.take().is_some() {
                let message = std::mem::take(&mut self.current);
                self.ready.push_back(Ok(Frame::Message(message)));
            }
            return;
        }
        if self.skipping_message {
            return;
        }
        if first && line.starts_with(b"Asterisk Call Manager/") {
            let banner = String::from_utf8_lossy(&line).into_owned();
            self.ready.push_back(Ok(Frame::Banner(banner)));
            return;
        }
        let start = *self.current_offset.get_or_insert(offset);
        if self.follows {
            self.follows_line(start, &line);
            return;
        }
        let Some(colon) = memchr::memchr(b':', &line) else {
            let shown = String::from_utf8_lossy(&line[..line.len().min(80)]).into_owned();
            self.fail(FrameError::NoColon {
                offset,
                line: shown,
            });
            return;
        };
        let key = String::from_utf8_lossy(&line[..colon]).trim().to_string();
        let mut value = &line[colon + 1..];
        if let [b' ', rest @ ..] = value {
            value = rest;
        }
        let value = String::from_utf8_lossy(value).into_owned();
        if key.eq_ignore_ascii_case("Response") && value == "Follows" {
            self.follows = true;
        }
        self.header(start, key, value);
    }

    /// A line of a `Response: Follows` body (Asterisk ≤ 13's `Command`):
    /// its `Privilege`/`ActionID` headers, then raw output lines (kept as
    /// `Output` headers, as 14+ sends them), up to `--END COMMAND--`, which
    /// may follow the last output on the same line.
    fn follows_line(&mut self, start: u64, line: &[u8]) {
        let no_output_yet = !self.has_output();
        for key in ["Privilege", "ActionID"] {
            if no_output_yet
                && let Some(value) = line
                    .strip_prefix(key.as_bytes())
                    .and_then(|rest| rest.strip_prefix(b": "))
            {
                let value = String::from_utf8_lossy(value).into_owned();
                self.header(start, key.into(), value);
                return;
            }
        }
        let (output, done) = match line.strip_suffix(END_COMMAND) {
            Some(output) => (output, true),
            None => (line, false),
        };
        if !output.is_empty() || !done {
            let output = String::from_utf8_lossy(output).into_owned();
            self.header(start, "Output".into(), output);
        }
        if done {
            self.follows = false;
        }
    }

    fn has_output(&self) -> bool {
        self.current.headers.iter().any(|(k, _)| k == "Output")
    }

    fn header(&mut self, start: u64, key: String, value: String) {
        if self.current.headers.len() >= self.limits.max_headers {
            self.fail(FrameError::TooManyHeaders {
                offset: start,
                limit: self.limits.max_headers,
            });
            return;
        }
        self.current.headers.push((key, value));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn decode_all(parts: &[&[u8]], limits: Limits) -> Vec<Result<Frame, FrameError>> {
        let mut decoder = Decoder::new(limits);
        let mut out = Vec::new();
        for part in parts {
            decoder.push(part);
            while let Some(frame) = decoder.next_frame() {
                out.push(frame);
            }
        }
        out
    }

    const STREAM: &[u8] = b"Asterisk Call Manager/7.0.3\r\n\
Response: Success\r\nActionID: 1\r\nMessage: Authentication accepted\r\n\r\n\
Event: QueueCallerJoin\nPrivilege: agent,all\nCallerIDName: Jos\xc3\xa9\nConnectedLineName:\nQueue: sales\nPosition: 1\n\n\
Response: Follows\r\nPrivilege: Command\r\nsip show peers\r\n0 peers: a|b\n--END COMMAND--\r\n\r\n\
Event: VarSet\r\nVariable: A\r\nVariable: B\r\nValue: x: y\r\n\r\n";

    #[test]
    fn frames_of_a_mixed_stream() {
        let frames = decode_all(&[STREAM], Limits::default());
        assert_eq!(frames.len(), 5, "{frames:?}");
        assert_eq!(
            frames[0],
            Ok(Frame::Banner("Asterisk Call Manager/7.0.3".into()))
        );
        let Ok(Frame::Message(join)) = &frames[2] else {
            panic!("{:?}", frames[2]);
        };
        assert_eq!(join.get("event"), Some("QueueCallerJoin"));
        assert_eq!(join.get("CallerIDName"), Some("José"));
        assert_eq!(join.get("ConnectedLineName"), Some(""));
        let Ok(Frame::Message(command)) = &frames[3] else {
            panic!("{:?}", frames[3]);
        };
        let output: Vec<&str> = command.get_all("Output").collect();
        assert_eq!(output, ["sip show peers", "0 peers: a|b"]);
        let Ok(Frame::Message(varset)) = &frames[4] else {
            panic!("{:?}", frames[4]);
        };
        assert_eq!(varset.get_all("variable").collect::<Vec<_>>(), ["A", "B"]);
        assert_eq!(varset.get("Value"), Some("x: y"));
    }

    #[test]
    fn a_read_split_at_any_byte_gives_the_same_frames() {
        let whole = decode_all(&[STREAM], Limits::default());
        for at in 0..=STREAM.len() {
            let (a, b) = STREAM.split_at(at);
            assert_eq!(
                decode_all(&[a, b], Limits::default()),
                whole,
                "split at {at}"
            );
        }
        let bytes: Vec<&[u8]> = STREAM.chunks(1).collect();
        assert_eq!(decode_all(&bytes, Limits::default()), whole);
    }

    #[test]
    fn a_bad_message_is_one_error_and_the_next_one_is_whole() {
        let limits = Limits {
            max_line_bytes: 32,
            max_headers: 3,
        };
        let long = format!("Event: A\r\nData: {}\r\nMore: 1\r\n\r\n", "x".repeat(40));
        let stream = [
            long.as_bytes(),
            b"Event: B\r\nno colon here\r\n\r\n",
            b"Event: C\nA: 1\nB: 2\nC: 3\n\n",
            b"Event: D\r\n\r\n",
        ]
        .concat();
        let frames = decode_all(&[&stream], limits);
        assert_eq!(
            frames,
            vec![
                Err(FrameError::LineTooLong {
                    offset: 10,
                    limit: 32
                }),
                Err(FrameError::NoColon {
                    offset: long.len() as u64 + 10,
                    line: "no colon here".into()
                }),
                Err(FrameError::TooManyHeaders {
                    offset: long.len() as u64 + 27,
                    limit: 3
                }),
                Ok(Frame::Message(Message::new([("Event", "D")]))),
            ]
        );
    }

    /// Regression: a `Follows` response ended by a blank line before any
    /// output swallowed every later message waiting for `--END COMMAND--`.
    #[test]
    fn a_follows_response_with_no_body_ends_at_its_blank_line() {
        let stream =
            b"Response: Follows\r\nPrivilege: Command\r\nActionID: 4\r\n\r\nEvent: Ping\r\n\r\n";
        let mut decoder = Decoder::new(Limits::default());
        decoder.push(stream);
        let first = decoder.next_frame().unwrap().unwrap();
        let Frame::Message(m) = first else { panic!() };
        assert_eq!(m.get("ActionID"), Some("4"));
        assert_eq!(m.get("Output"), None);
        let Frame::Message(next) = decoder.next_frame().unwrap().unwrap() else {
            panic!()
        };
        assert_eq!(next.get("Event"), Some("Ping"));
    }

    /// Asterisk ≤ 13 writes `--END COMMAND--` right after the output, so
    /// output without a final newline shares its line.
    #[test]
    fn end_command_may_share_the_last_output_line() {
        let stream = b"Response: Follows\r\nActionID: 7\r\nuptime: 5--END COMMAND--\r\n\r\n";
        let frames = decode_all(&[stream], Limits::default());
        assert_eq!(
            frames,
            vec![Ok(Frame::Message(Message::new([
                ("Response", "Follows"),
                ("ActionID", "7"),
                ("Output", "uptime: 5"),
            ])))]
        );
    }

    proptest! {
        #[test]
        fn decode_of_encode_is_identity(
            headers in prop::collection::vec(
                ("X[A-Za-z]{0,10}", "[ -~]{0,40}"), 1..12),
            split in any::<prop::sample::Index>(),
        ) {
            let message = Message::new(headers);
            let bytes = message.encode();
            let (a, b) = bytes.split_at(split.index(bytes.len() + 1));
            let frames = decode_all(&[a, b], Limits::default());
            prop_assert_eq!(frames, vec![Ok(Frame::Message(message))]);
        }
    }
}
