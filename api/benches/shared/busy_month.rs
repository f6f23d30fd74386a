//! The benchmarks' month of queue_log: 30 days of a busy contact center
//! (about 5.1 M lines, 3 queues, 50 agents), the same bytes for every run.

use std::io::{BufWriter, Write};
use std::path::Path;

/// 2024-01-01T00:00:00Z, the first day.
pub const DAY0: i64 = 1_704_067_200;

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// 30 days, 1.08 calls a second from 07:00 to 21:00 over 3 queues: about
/// 54 k calls and 195 k lines a day.
pub fn generate(path: &Path) -> u64 {
    let mut out = BufWriter::with_capacity(1 << 20, std::fs::File::create(path).unwrap());
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut lines = 0u64;
    let mut w = |out: &mut BufWriter<std::fs::File>, s: String| {
        out.write_all(s.as_bytes()).unwrap();
        out.write_all(b"\n").unwrap();
        lines += 1;
    };
    w(&mut out, format!("{}|NONE|NONE|NONE|QUEUESTART|", DAY0));
    let mut seq = 0u64;
    for day in 0..30 {
        let open = DAY0 + day * 86_400 + 7 * 3600;
        for agent in 0..50 {
            w(
                &mut out,
                format!("{open}|MANAGER|sales|PJSIP/{}|ADDMEMBER|", 2000 + agent),
            );
        }
        let mut t = open;
        while t < open + 14 * 3600 {
            t += 1;
            let calls_this_second = 1 + u64::from(rng.below(100) < 8);
            for _ in 0..calls_this_second {
                seq += 1;
                let q = ["sales", "support", "billing"][rng.below(3) as usize];
                let id = format!("{t}.{seq}");
                let agent = rng.below(50);
                w(
                    &mut out,
                    format!(
                        "{t}|{id}|{q}|NONE|ENTERQUEUE||+1555{:07}|{}",
                        rng.below(10_000_000),
                        1 + rng.below(5)
                    ),
                );
                let wait = rng.below(90) as i64;
                if rng.below(100) < 12 {
                    w(
                        &mut out,
                        format!("{}|{id}|{q}|NONE|ABANDON|1|1|{wait}", t + wait),
                    );
                } else {
                    if rng.below(100) < 30 {
                        w(
                            &mut out,
                            format!(
                                "{}|{id}|{q}|Agent {}|RINGNOANSWER|15000",
                                t + wait / 2,
                                rng.below(50)
                            ),
                        );
                    }
                    let talk = 30 + rng.below(600);
                    w(
                        &mut out,
                        format!(
                            "{}|{id}|{q}|Agent {agent}|CONNECT|{wait}|{t}.{}|3",
                            t + wait,
                            seq + 1
                        ),
                    );
                    w(
                        &mut out,
                        format!(
                            "{}|{id}|{q}|Agent {agent}|COMPLETECALLER|{wait}|{talk}|1",
                            t + wait + talk as i64
                        ),
                    );
                }
            }
        }
    }
    out.flush().unwrap();
    // On disk and in the page cache before anything is timed, as it is for
    // DuckDB reading it afterwards (bench/run.sh).
    out.get_ref().sync_all().unwrap();
    std::io::copy(
        &mut std::fs::File::open(path).unwrap(),
        &mut std::io::sink(),
    )
    .unwrap();
    lines
}
