//! The owned form of a `queue_log` line, and the formatter.

use crate::{Line, ParseError, parse_line};

/// One `queue_log` event, owning its bytes. What simulators and tests write,
/// and what [`Record::to_line`] formats exactly as Asterisk does.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Record {
    /// Unix time in whole seconds.
    pub epoch: i64,
    /// Channel uniqueid or a literal (`NONE`, `MANAGER`, …).
    pub callid: Vec<u8>,
    /// Queue name or `NONE`.
    pub queue: Vec<u8>,
    /// Member name or interface, or `NONE`.
    pub agent: Vec<u8>,
    /// Event verb.
    pub event: Vec<u8>,
    /// Data fields joined by `|` (may be empty).
    pub payload: Vec<u8>,
}

impl Record {
    /// A record from text fields; `data` are the payload fields.
    pub fn new(
        epoch: i64,
        callid: &str,
        queue: &str,
        agent: &str,
        event: &str,
        data: &[&str],
    ) -> Self {
        Record {
            epoch,
            callid: callid.as_bytes().to_vec(),
            queue: queue.as_bytes().to_vec(),
            agent: agent.as_bytes().to_vec(),
            event: event.as_bytes().to_vec(),
            payload: data.join("|").into_bytes(),
        }
    }

    /// The line Asterisk would write for this event, without the `\n`.
    pub fn to_line(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(
            24 + self.callid.len()
                + self.queue.len()
                + self.agent.len()
                + self.event.len()
                + self.payload.len(),
        );
        self.write_line(&mut out);
        out
    }

    /// Appends the line and its `\n` to `out`.
    pub fn write_line(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self.epoch.to_string().as_bytes());
        for field in [&self.callid, &self.queue, &self.agent, &self.event] {
            out.push(b'|');
            out.extend_from_slice(field);
        }
        out.push(b'|');
        out.extend_from_slice(&self.payload);
    }

    /// Whether the formatted line parses back to this record: the header
    /// fields hold no `|`, nothing holds a newline, the event is not empty,
    /// the time fits the parser's range, and the line does not end in `\r`.
    pub fn is_writable(&self) -> bool {
        let header_ok = [&self.callid, &self.queue, &self.agent, &self.event]
            .iter()
            .all(|f| !f.contains(&b'|') && !f.contains(&b'\n'));
        (0..1_000_000_000_000).contains(&self.epoch)
            && header_ok
            && !self.event.is_empty()
            && !self.payload.contains(&b'\n')
            && self.payload.last() != Some(&b'\r')
    }

    /// Parses a line (without `\n`) into an owned record.
    pub fn parse(raw: &[u8]) -> Result<Self, ParseError> {
        parse_line(raw).map(|line| Record::from(&line))
    }
}

impl From<&Line<'_>> for Record {
    fn from(line: &Line<'_>) -> Self {
        Record {
            epoch: line.epoch,
            callid: line.callid.to_vec(),
            queue: line.queue.to_vec(),
            agent: line.agent.to_vec(),
            event: line.event.to_vec(),
            payload: line.payload.to_vec(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn field() -> impl Strategy<Value = Vec<u8>> {
        prop::collection::vec(
            any::<u8>().prop_filter("no separator", |b| *b != b'|' && *b != b'\n'),
            0..12,
        )
    }

    fn payload() -> impl Strategy<Value = Vec<u8>> {
        prop::collection::vec(
            any::<u8>().prop_filter("no newline", |b| *b != b'\n'),
            0..40,
        )
    }

    fn record() -> impl Strategy<Value = Record> {
        (
            0i64..1_000_000_000_000,
            field(),
            field(),
            field(),
            field(),
            payload(),
        )
            .prop_map(|(epoch, callid, queue, agent, event, payload)| Record {
                epoch,
                callid,
                queue,
                agent,
                event,
                payload,
            })
    }

    proptest! {
        #[test]
        fn parse_of_format_is_identity(r in record().prop_filter("writable", Record::is_writable)) {
            prop_assert_eq!(Record::parse(&r.to_line()), Ok(r));
        }

        #[test]
        fn five_fields_are_the_record_with_an_empty_payload(
            r in record().prop_filter("writable", Record::is_writable)
        ) {
            let empty = Record { payload: Vec::new(), ..r };
            let mut line = empty.to_line();
            prop_assert_eq!(line.pop(), Some(b'|'));
            prop_assert_eq!(Record::parse(&line), Ok(empty));
        }

        #[test]
        fn parse_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
            let _ = parse_line(&bytes);
        }

        #[test]
        fn data5_rejoined_with_data1_to_4_is_the_payload(r in record().prop_filter("writable", Record::is_writable)) {
            let line = r.to_line();
            let parsed = parse_line(&line).unwrap();
            let fields: Vec<&[u8]> = parsed.data_fields().iter().flatten().copied().collect();
            prop_assert_eq!(fields.join(&b'|'), r.payload);
        }
    }

    #[test]
    fn formats_as_asterisk_writes() {
        let r = Record::new(
            1675720966,
            "1675720966.3",
            "Support",
            "NONE",
            "ENTERQUEUE",
            &["", "200", "1"],
        );
        assert_eq!(
            r.to_line(),
            b"1675720966|1675720966.3|Support|NONE|ENTERQUEUE||200|1"
        );
        let sys = Record::new(1596191926, "NONE", "NONE", "NONE", "QUEUESTART", &[]);
        assert_eq!(sys.to_line(), b"1596191926|NONE|NONE|NONE|QUEUESTART|");
    }
}
