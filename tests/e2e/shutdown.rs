//! A shutdown always ends: `serve` started and stopped with SIGTERM again
//! and again — idle, while lines are being appended, and with a report
//! worker running a report every second — exits 0 well within 15 s each
//! time.

use std::io::Write;
use std::time::Duration;

use crate::support::{Rng, Server, seed, synthetic_log};

#[test]
fn sigterm_always_ends_serve() {
    let cycles: usize = crate::support::env_count("QUEUELAKE_STOP_CYCLES", 50);
    let mut rng = Rng(seed());
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("queue_log");
    let lake = dir.path().join("lake");
    let bytes = synthetic_log(1_700_000_000, 20 * cycles);
    let mut written = bytes.len() / 10;
    std::fs::write(&log, &bytes[..written]).unwrap();
    let toml = dir.path().join("queuelake.toml");
    std::fs::write(
        &toml,
        format!(
            "version = 1\n[queue_log]\nfile = {:?}\n\
             [[reports]]\nname = \"every_second\"\ntitle = \"Ticking\"\nqueries = [\"period_totals\"]\n\
             formats = [\"csv\"]\ncron = \"* * * * * *\"\n",
            log.display().to_string()
        ),
    )
    .unwrap();
    let mut took: Vec<(Duration, &str)> = Vec::new();
    for cycle in 0..cycles {
        let mode = ["idle", "under ingest", "report worker busy"][cycle % 3];
        let server = match mode {
            "report worker busy" => Server::serve(&lake, &["--config", toml.to_str().unwrap()]),
            _ => Server::start(&lake, &log, &[]),
        };
        let writer = (mode == "under ingest").then(|| {
            let (log, chunk) = (
                log.clone(),
                bytes[written..(written + 4_000).min(bytes.len())].to_vec(),
            );
            written = (written + 4_000).min(bytes.len());
            std::thread::spawn(move || {
                for piece in chunk.chunks(97) {
                    let mut f = std::fs::OpenOptions::new().append(true).open(&log).unwrap();
                    f.write_all(piece).unwrap();
                    std::thread::sleep(Duration::from_millis(5));
                }
            })
        });
        let settle = match mode {
            "report worker busy" => 1_100 + rng.below(900),
            _ => rng.below(400),
        };
        std::thread::sleep(Duration::from_millis(settle));
        let stopped = server.terminate_within(Duration::from_secs(15));
        let Some((exited_0, after)) = stopped else {
            panic!("cycle {cycle} ({mode}): serve still running 15 s after SIGTERM");
        };
        assert!(
            exited_0,
            "cycle {cycle} ({mode}): serve exited non-zero after {after:?}"
        );
        took.push((after, mode));
        if let Some(writer) = writer {
            writer.join().unwrap();
        }
    }
    took.sort();
    let p50 = took[took.len() / 2];
    let max = took[took.len() - 1];
    eprintln!(
        "{cycles} stops: p50 {:?}, max {:?} ({})",
        p50.0, max.0, max.1
    );
    assert!(max.0 < Duration::from_secs(10), "slowest stop {max:?}");
}
