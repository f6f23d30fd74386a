//! Every real AMI capture in `$QUEUELAKE_SHARED/fixtures/ami/` decodes
//! without a single error, fed in uneven chunks, with the number of
//! events, responses and actions each file holds (counted independently:
//! `grep -ci '^event:'` etc. after the same capture clean-up, or by
//! splitting on blank lines where grep miscounts, as noted per file).
//!
//! The captures are transcripts, not raw sockets, so each kind is first
//! turned back into wire bytes: Go string literals are unescaped (goami2),
//! console noise lines (`*CLI>`, `<-- Examining AMI event: -->`, `=====`
//! banners, `----- x -----` separators, verbose `  -- …` lines) are dropped (litnimax, a `manager set debug on` console),
//! the recorder's `[N bytes missing in capture file]` marks and
//! whitespace-only lines are cleaned (panoramisk), and prose lines are
//! dropped (the issue transcript).

use std::path::PathBuf;

use queuelake_ami::session::{Output, Session, SessionConfig};
use queuelake_ami::{Decoder, Frame, Limits};

fn shared() -> Option<PathBuf> {
    queuelake_testkit::shared("fixtures/ami")
}

/// The concatenated Go string literals of goami2's fixture file.
fn go_literals(source: &str) -> String {
    let mut out = String::new();
    let mut chars = source.chars();
    while let Some(c) = chars.next() {
        if c != '"' {
            continue;
        }
        while let Some(c) = chars.next() {
            match c {
                '"' => break,
                '\\' => match chars.next() {
                    Some('r') => out.push('\r'),
                    Some('n') => out.push('\n'),
                    Some('t') => out.push('\t'),
                    Some(other @ ('"' | '\\')) => out.push(other),
                    other => panic!("unexpected escape \\{other:?} in the Go fixture"),
                },
                c => out.push(c),
            }
        }
    }
    out
}

fn without_console_noise(text: &str) -> String {
    text.lines()
        .filter(|l| {
            let verbose = l.trim_start();
            !(l.starts_with("*CLI>")
                || l.starts_with("<--")
                || verbose.starts_with("==")
                || verbose.starts_with("-- ")
                || l.starts_with("-----------"))
        })
        .map(|l| format!("{l}\n"))
        .collect()
}

fn without_capture_marks(text: &str) -> String {
    text.lines()
        .map(|line| {
            let line = match line
                .strip_prefix('[')
                .and_then(|r| r.split_once(" bytes missing in capture file]"))
            {
                Some((n, rest)) if n.chars().all(|c| c.is_ascii_digit()) => rest,
                _ => line,
            };
            if line.trim().is_empty() {
                "\n".to_owned()
            } else {
                format!("{line}\n")
            }
        })
        .collect()
}

fn without_prose(text: &str) -> String {
    text.lines()
        .filter(|l| {
            l.trim().is_empty()
                || l.split_once(':').is_some_and(|(key, _)| {
                    !key.is_empty()
                        && key
                            .chars()
                            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
                })
        })
        .map(|l| format!("{l}\n"))
        .collect()
}

#[derive(Debug, Default, PartialEq, Eq)]
struct Counts {
    events: usize,
    responses: usize,
    actions: usize,
    errors: usize,
}

/// Decodes `bytes` in chunks of 1 to 97 bytes; every frame must be good.
fn decode(name: &str, bytes: &[u8]) -> Counts {
    let mut decoder = Decoder::new(Limits::default());
    let mut counts = Counts::default();
    let mut at = 0;
    let mut step = 1;
    let mut session = Session::new(SessionConfig::new("u", "s"), std::time::Instant::now());
    // A transcript may end without the blank line after its last message:
    // one final CRLF ends it, as the next message on the socket would.
    let mut feed = bytes.to_vec();
    feed.extend_from_slice(b"\r\n");
    while at < feed.len() {
        let end = (at + step).min(feed.len());
        decoder.push(&feed[at..end]);
        at = end;
        step = step % 97 + 13;
        while let Some(frame) = decoder.next_frame() {
            match frame {
                Err(error) => {
                    eprintln!("{name}: {error}");
                    counts.errors += 1;
                }
                Ok(Frame::Banner(_)) => {}
                Ok(Frame::Message(m)) => {
                    if m.get("Event").is_some() {
                        counts.events += 1;
                        // The client's session takes it as an event.
                        let out = session.frame(Frame::Message(m), std::time::Instant::now());
                        assert!(
                            matches!(out.as_slice(), [Output::Event(_)]),
                            "{name}: {out:?}"
                        );
                    } else if m.get("Response").is_some() {
                        counts.responses += 1;
                    } else if m.get("Action").is_some() {
                        counts.actions += 1;
                    } else {
                        panic!(
                            "{name}: a message that is neither event, response nor action: {m:?}"
                        );
                    }
                }
            }
        }
    }
    counts
}

#[test]
fn every_real_capture_decodes_with_its_event_count() {
    let Some(shared) = shared() else { return };
    let dir = shared.join("fixtures/ami");
    // (file, events, responses, actions); no file has a decoding error but
    // the litnimax console, see below.
    let expected: &[(&str, usize, usize, usize)] = &[
        ("asterisk__asterisk__issue-395/ami-transcript.txt", 2, 0, 2),
        // grep finds 9 `Action:` lines; one belongs to a UserEvent's body
        // (the event echoes the headers of the action that raised it).
        ("gawel__panoramisk/agent_loggued_in.yaml", 147, 8, 8),
        ("gawel__panoramisk/agent_not_in_pause.yaml", 61, 0, 0),
        (
            "gawel__panoramisk/asyncagi_channel_does_not_exist.yaml",
            0,
            1,
            1,
        ),
        ("gawel__panoramisk/asyncagi_get_var.yaml", 3, 1, 1),
        ("gawel__panoramisk/command_core_show_version.yaml", 0, 1, 1),
        ("gawel__panoramisk/login_failed.yaml", 0, 1, 1),
        ("gawel__panoramisk/login_md5.yaml", 0, 1, 1),
        ("gawel__panoramisk/login_ok.yaml", 1, 1, 1),
        ("gawel__panoramisk/logoff.yaml", 0, 1, 1),
        ("gawel__panoramisk/originate_sync.yaml", 0, 1, 1),
        ("gawel__panoramisk/originate_with_events.yaml", 748, 1, 1),
        ("gawel__panoramisk/ping.yaml", 0, 1, 0),
        ("gawel__panoramisk/pjsip_show_endpoint.yaml", 6, 1, 0),
        ("gawel__panoramisk/queue_add.yaml", 0, 1, 0),
        ("gawel__panoramisk/queue_status.yaml", 8, 1, 0),
        ("gawel__panoramisk/rasterisk_command.yaml", 0, 1, 1),
        ("gawel__panoramisk/sip_notify.yaml", 0, 1, 1),
        ("litnimax__asterisk-stats/asterisk13.events", 33, 0, 0),
        // 123 blank-line-separated messages (93 with an Event header, 15
        // responses, 15 actions). grep counts 99 and 16: seven of
        // goami2's packets carry a second `Event:`/`Response:` line
        // without a blank line before it, which on the wire is one
        // message with a repeated key.
        ("staskobzar__goami2/fixtures_test.go", 93, 15, 15),
    ];
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        for file in std::fs::read_dir(entry.unwrap().path()).unwrap() {
            let path = file.unwrap().path();
            let rel = path
                .strip_prefix(&dir)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            let Some(&(_, events, responses, actions)) = expected.iter().find(|e| e.0 == rel)
            else {
                panic!("a capture this test does not know: {rel}");
            };
            let raw = String::from_utf8_lossy(&std::fs::read(&path).unwrap()).into_owned();
            let wire = match path.extension().and_then(|e| e.to_str()) {
                Some("go") => go_literals(&raw),
                Some("events") => without_console_noise(&raw),
                Some("txt") => without_prose(&raw),
                _ => without_capture_marks(&raw),
            };
            let counts = decode(&rel, wire.as_bytes());
            // litnimax's console holds one hand-pasted example whose every
            // line ends in a period, closed by a lone `.` line (not wire
            // data): the decoder reports it once, with its byte offset, and
            // reads the 32 events around it.
            let (events, errors) = match rel.as_str() {
                "litnimax__asterisk-stats/asterisk13.events" => (events - 1, 1),
                _ => (events, 0),
            };
            let want = Counts {
                events,
                responses,
                actions,
                errors,
            };
            assert_eq!(counts, want, "{rel}");
            seen += 1;
        }
    }
    assert_eq!(seen, expected.len(), "every capture was read");
}
