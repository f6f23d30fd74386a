//! The zero-copy view of one `queue_log` line, and the parser that makes it.

use crate::{DATA_FIELDS, ParseError};

/// One parsed line, borrowing the bytes it was parsed from.
///
/// Fields are raw bytes: Asterisk copies caller-ID names and dialplan text
/// as it got them (UTF-8, Latin-1 or garbage), so decoding is the caller's
/// choice. `NONE`, `MANAGER`, `REALTIME` and the like are kept literally.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Line<'a> {
    /// Unix time in whole seconds (`time(NULL)` on the PBX).
    pub epoch: i64,
    /// Channel uniqueid, or a literal such as `NONE`, `MANAGER`, `REALTIME`.
    pub callid: &'a [u8],
    /// Queue name, or `NONE`.
    pub queue: &'a [u8],
    /// Member name or interface, or `NONE`.
    pub agent: &'a [u8],
    /// Event verb; an open set (custom verbs such as `DID` are kept as-is).
    pub event: &'a [u8],
    /// Everything after the event's `|`: the data fields joined by `|`.
    pub payload: &'a [u8],
    /// NUL bytes stripped from the front of the line (left by a crash that
    /// cut a write short; Asterisk then resumes on the same line).
    pub nul_bytes: usize,
}

impl<'a> Line<'a> {
    /// The first [`DATA_FIELDS`] payload fields, split as Asterisk's realtime
    /// backend does: `data1`..`data4` are single fields and `data5` keeps the
    /// rest of the payload, `|` included. A field the payload does not reach
    /// is `None`; an empty field is `Some(b"")`. An empty payload has one
    /// empty field (`data1 = ""`), as the realtime backend stores it.
    pub fn data_fields(&self) -> [Option<&'a [u8]>; DATA_FIELDS] {
        let mut out = [None; DATA_FIELDS];
        let mut rest = self.payload;
        for (i, slot) in out.iter_mut().enumerate() {
            if i == DATA_FIELDS - 1 {
                *slot = Some(rest);
                break;
            }
            match memchr::memchr(b'|', rest) {
                Some(at) => {
                    *slot = Some(&rest[..at]);
                    rest = &rest[at + 1..];
                }
                None => {
                    *slot = Some(rest);
                    break;
                }
            }
        }
        out
    }
}

/// Parses one line, given without its `\n` (a trailing `\r` is dropped too).
///
/// Leading NUL bytes are stripped and counted in [`Line::nul_bytes`].
/// Never panics; every rejection says what was wrong.
pub fn parse_line(raw: &[u8]) -> Result<Line<'_>, ParseError> {
    let nul_bytes = raw.iter().take_while(|&&b| b == 0).count();
    let mut bytes = &raw[nul_bytes..];
    if let [head @ .., b'\r'] = bytes {
        bytes = head;
    }
    if bytes.is_empty() {
        return Err(ParseError::Empty { nul_bytes });
    }

    // The separators that end the fixed header; the payload is the rest.
    // A line of five fields (`…|QUEUESTART`, no `|` after the event, as
    // some tools write it) is an event with an empty payload.
    let mut seps = [0usize; 5];
    let mut found = 0;
    for at in memchr::memchr_iter(b'|', bytes) {
        seps[found] = at;
        found += 1;
        if found == seps.len() {
            break;
        }
    }
    if found == 4 {
        seps[4] = bytes.len();
    } else if found < seps.len() {
        return Err(ParseError::TooFewFields { found: found + 1 });
    }

    let time = &bytes[..seps[0]];
    let epoch = parse_epoch(time).ok_or_else(|| ParseError::BadTimestamp {
        value: String::from_utf8_lossy(&time[..time.len().min(40)]).into_owned(),
    })?;
    let event = &bytes[seps[3] + 1..seps[4]];
    if event.is_empty() {
        return Err(ParseError::EmptyEvent);
    }
    Ok(Line {
        epoch,
        callid: &bytes[seps[0] + 1..seps[1]],
        queue: &bytes[seps[1] + 1..seps[2]],
        agent: &bytes[seps[2] + 1..seps[3]],
        event,
        payload: bytes.get(seps[4] + 1..).unwrap_or_default(),
        nul_bytes,
    })
}

/// Longest epoch accepted: 12 digits reach the year 33658, and keep the
/// value far from `i64` overflow whatever the input.
const MAX_EPOCH_DIGITS: usize = 12;

fn parse_epoch(field: &[u8]) -> Option<i64> {
    if field.is_empty() || field.len() > MAX_EPOCH_DIGITS {
        return None;
    }
    let mut value: i64 = 0;
    for &b in field {
        if !b.is_ascii_digit() {
            return None;
        }
        value = value * 10 + i64::from(b - b'0');
    }
    Some(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn five_fields_are_an_event_without_payload() {
        let line = parse_line(b"1767225600|NONE|NONE|NONE|QUEUESTART").unwrap();
        assert_eq!(line.epoch, 1767225600);
        assert_eq!(line.event, b"QUEUESTART");
        assert_eq!(line.payload, b"");
        assert_eq!(line.data_fields(), [Some(&b""[..]), None, None, None, None]);
        let crlf = parse_line(b"1767225600|NONE|NONE|NONE|QUEUESTART\r").unwrap();
        assert_eq!(crlf.event, b"QUEUESTART");
    }

    #[test]
    fn system_event_with_empty_payload() {
        let line = parse_line(b"1596191926|NONE|NONE|NONE|QUEUESTART|").unwrap();
        assert_eq!(line.epoch, 1596191926);
        assert_eq!(line.callid, b"NONE");
        assert_eq!(line.event, b"QUEUESTART");
        assert_eq!(line.payload, b"");
        assert_eq!(line.data_fields(), [Some(&b""[..]), None, None, None, None]);
    }

    #[test]
    fn enterqueue_keeps_empty_url_field() {
        let line = parse_line(b"1665156376|1665156376.14|500|NONE|ENTERQUEUE||1000|1").unwrap();
        assert_eq!(
            line.data_fields(),
            [
                Some(&b""[..]),
                Some(&b"1000"[..]),
                Some(&b"1"[..]),
                None,
                None
            ]
        );
    }

    #[test]
    fn attended_transfer_link_keeps_extra_pipes_in_data5() {
        let line = parse_line(
            b"1717397391|1.2|q|PJSIP/7009|ATTENDEDTRANSFER|LINK|PJSIP/a-1|PJSIP/b-2|12|120|1",
        )
        .unwrap();
        let d = line.data_fields();
        assert_eq!(d[0], Some(&b"LINK"[..]));
        assert_eq!(d[3], Some(&b"12"[..]));
        assert_eq!(d[4], Some(&b"120|1"[..]));
        assert_eq!(line.payload, b"LINK|PJSIP/a-1|PJSIP/b-2|12|120|1");
    }

    #[test]
    fn nul_hole_is_stripped_and_counted() {
        let mut raw = vec![0u8; 78];
        raw.extend_from_slice(b"1658204657|NONE|NONE|NONE|QUEUESTART|");
        let line = parse_line(&raw).unwrap();
        assert_eq!(line.nul_bytes, 78);
        assert_eq!(line.event, b"QUEUESTART");
    }

    #[test]
    fn crlf_line_end_is_dropped() {
        let line = parse_line(b"1|NONE|NONE|NONE|DID|7777\r").unwrap();
        assert_eq!(line.payload, b"7777");
    }

    #[test]
    fn rejections_say_what_is_wrong() {
        assert_eq!(parse_line(b""), Err(ParseError::Empty { nul_bytes: 0 }));
        assert_eq!(
            parse_line(&[0, 0, 0]),
            Err(ParseError::Empty { nul_bytes: 3 })
        );
        assert_eq!(
            parse_line(b"1|NONE|NONE|QUEUESTART"),
            Err(ParseError::TooFewFields { found: 4 })
        );
        assert_eq!(
            parse_line(b"12a|x|y|z|EV|"),
            Err(ParseError::BadTimestamp {
                value: "12a".into()
            })
        );
        assert_eq!(parse_line(b"12|x|y|z||"), Err(ParseError::EmptyEvent));
        assert!(matches!(
            parse_line(b"9999999999999|x|y|z|E|"),
            Err(ParseError::BadTimestamp { .. })
        ));
    }

    #[test]
    fn latin1_bytes_are_kept_raw() {
        let line = parse_line(b"1|1.1|q|NONE|ENTERQUEUE||555|1|Jos\xe9").unwrap();
        assert_eq!(line.data_fields()[3], Some(&b"Jos\xe9"[..]));
    }
}
