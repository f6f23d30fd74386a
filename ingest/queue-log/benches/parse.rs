//! Parse throughput on one core: `cargo bench -p queuelake-queue-log`.
//!
//! Input: 2 M lines shaped like a busy Asterisk 18 queue_log (call events
//! with payloads, member events, system events), parsed and split into
//! data fields as the ingest path does.

#![allow(missing_docs, clippy::print_stdout)]

use std::hint::black_box;
use std::time::Instant;

use queuelake_queue_log::parse_line;

fn corpus(lines: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(lines * 64);
    let base = 1_709_542_800i64;
    let mut i = 0usize;
    let mut written = 0usize;
    while written < lines {
        let t = base + i as i64;
        let id = format!("{t}.{i}");
        let q = ["sales", "support", "billing"][i % 3];
        for line in [
            format!("{t}|{id}|{q}|NONE|ENTERQUEUE||+15551{:06}|1", i % 1_000_000),
            format!(
                "{}|{id}|{q}|PJSIP/{}|RINGNOANSWER|15000",
                t + 15,
                2000 + i % 50
            ),
            format!(
                "{}|{id}|{q}|Agent {}|CONNECT|17|{t}.{}|2",
                t + 17,
                i % 50,
                i + 1
            ),
            format!(
                "{}|{id}|{q}|Agent {}|COMPLETECALLER|17|{}|1",
                t + 200,
                i % 50,
                100 + i % 300
            ),
            format!("{}|NONE|{q}|Agent {}|PAUSE|Lunch", t + 201, i % 50),
        ] {
            out.extend_from_slice(line.as_bytes());
            out.push(b'\n');
            written += 1;
        }
        i += 1;
    }
    out
}

fn main() {
    let data = corpus(2_000_000);
    let lines = data.iter().filter(|&&b| b == b'\n').count();
    let mut best = f64::MAX;
    for _ in 0..7 {
        let started = Instant::now();
        let mut fields = 0usize;
        for line in data.split(|&b| b == b'\n') {
            if let Ok(parsed) = parse_line(line) {
                fields += parsed.data_fields().iter().flatten().count();
            }
        }
        black_box(fields);
        best = best.min(started.elapsed().as_secs_f64());
    }
    println!(
        "parse: {lines} lines, {:.1} MB in {:.3} s (best of 7) = {:.2} M lines/s, {:.0} MB/s on one core",
        data.len() as f64 / 1e6,
        best,
        lines as f64 / best / 1e6,
        data.len() as f64 / best / 1e6
    );
}
