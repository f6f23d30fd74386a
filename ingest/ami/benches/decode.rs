//! AMI events parsed per second: a stream of typical Asterisk 20 queue
//! and channel events (20–40 headers each) decoded from 64 KiB reads.
//!
//! `cargo bench -p queuelake-ami --bench decode`

#![allow(clippy::print_stdout, missing_docs)]

use std::time::Instant;

use queuelake_ami::{Decoder, Frame, Limits, Message};

fn sample_events() -> Vec<u8> {
    let snapshot = |prefix: &str, n: usize| -> Vec<(String, String)> {
        [
            ("Channel", format!("PJSIP/trunk-{n:08x}")),
            ("ChannelState", "6".into()),
            ("ChannelStateDesc", "Up".into()),
            ("CallerIDNum", format!("+1555{n:07}")),
            ("CallerIDName", "<unknown>".into()),
            ("ConnectedLineNum", "<unknown>".into()),
            ("ConnectedLineName", "<unknown>".into()),
            ("Language", "en".into()),
            ("AccountCode", String::new()),
            ("Context", "from-trunk".into()),
            ("Exten", "s".into()),
            ("Priority", "1".into()),
            ("Uniqueid", format!("1709510400.{n}")),
            ("Linkedid", format!("1709510400.{n}")),
        ]
        .into_iter()
        .map(|(k, v)| (format!("{prefix}{k}"), v))
        .collect()
    };
    let mut out = Vec::new();
    for n in 0..10_000 {
        let mut join = vec![
            ("Event".to_owned(), "QueueCallerJoin".to_owned()),
            ("Privilege".into(), "agent,all".into()),
        ];
        join.extend(snapshot("", n));
        join.extend([
            ("Queue".into(), "support".into()),
            ("Position".into(), "1".into()),
            ("Count".into(), "1".into()),
        ]);
        out.extend(Message { headers: join }.encode());
        let mut connect = vec![
            ("Event".to_owned(), "AgentConnect".to_owned()),
            ("Privilege".into(), "agent,all".into()),
        ];
        connect.extend(snapshot("", n));
        connect.extend(snapshot("Dest", n + 1));
        connect.extend([
            ("Queue".into(), "support".into()),
            ("MemberName".into(), "Agent 1001".into()),
            ("Interface".into(), "PJSIP/1001".into()),
            ("HoldTime".into(), "12".into()),
            ("RingTime".into(), "3".into()),
        ]);
        out.extend(Message { headers: connect }.encode());
    }
    out
}

fn main() {
    let stream = sample_events();
    let mut rates = Vec::new();
    for round in 0..5 {
        let started = Instant::now();
        let mut events = 0u64;
        for _ in 0..10 {
            let mut decoder = Decoder::new(Limits::default());
            for chunk in stream.chunks(64 * 1024) {
                decoder.push(chunk);
                while let Some(frame) = decoder.next_frame() {
                    if let Ok(Frame::Message(_)) = frame {
                        events += 1;
                    }
                }
            }
        }
        let secs = started.elapsed().as_secs_f64();
        let rate = events as f64 / secs;
        let mb = stream.len() as f64 * 10.0 / secs / 1e6;
        println!(
            "round {round}: {events} events in {secs:.3} s = {rate:.0} events/s ({mb:.0} MB/s)"
        );
        rates.push(rate);
    }
    rates.sort_by(f64::total_cmp);
    println!("median: {:.0} AMI events parsed/s", rates[rates.len() / 2]);
}
