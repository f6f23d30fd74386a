//! What `serve` costs beside the PBX: the CPU of the real `serve` (this
//! build's binary) sampled from `/proc/<pid>/stat` while it rests, and per
//! 1 000 events while a contact center is busy.
//!
//! Three runs of `SECONDS` each, after `serve` has settled (10 s):
//! 1. idle, tailing a queue_log nobody writes to, no AMI;
//! 2. idle, the same plus an AMI link to the emulated PBX whose floor is
//!    frozen (logged-in agents, no calls moving: no events, only pings);
//! 3. busy: the emulated floor running at `SPEED`× (the demo's 34 agents at
//!    6× are about the event rate of a 200-agent contact center), the CPU
//!    divided by the AMI events and queue_log lines `serve` took in.
//!
//! `cargo bench --workspace --bench idle [-- SECONDS SPEED]` (60 s, 6×).

#![allow(clippy::print_stdout, clippy::unwrap_used, missing_docs)]

use std::path::Path;
use std::time::{Duration, Instant};

use queuelake_ingest::emulator::{AmiCredentials, Emulator, EmulatorConfig};
use queuelake_scheduler::sim::{Millis, demo_config};

#[path = "shared/served.rs"]
mod served;
use served::{ADMIN, digest, link_state, request, serve};

/// 2024-03-06 10:00 UTC, a Wednesday morning: agents logged in.
const LIVE_FROM: Millis = 1_709_719_200_000;
/// Linux reports `/proc` CPU times in USER_HZ ticks, 100 a second.
const TICKS_PER_SECOND: f64 = 100.0;
/// Time given to `serve` to finish starting (first reads, resync, first
/// refreshes) before a run is sampled.
const SETTLE: Duration = Duration::from_secs(10);

/// User + system CPU seconds of a process, all its threads.
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    // The fields after the command name, which is in parentheses.
    let fields: Vec<&str> = stat[stat.rfind(')').unwrap() + 2..]
        .split_whitespace()
        .collect();
    // utime and stime are the 14th and 15th fields of the whole line.
    let ticks: f64 = fields[11].parse::<f64>().unwrap() + fields[12].parse::<f64>().unwrap();
    ticks / TICKS_PER_SECOND
}

/// `serve`'s count of AMI events received (from `/metrics`).
fn ami_events(port: u16) -> f64 {
    let (_, body) = request(port, "GET", "/metrics", "").unwrap();
    body.lines()
        .find_map(|l| l.strip_prefix("queuelake_ami_events_total "))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0.0)
}

fn lines_in(path: &Path) -> f64 {
    std::fs::read(path)
        .map(|b| b.iter().filter(|c| **c == b'\n').count() as f64)
        .unwrap_or(0.0)
}

fn config(
    dir: &Path,
    name: &str,
    queue_log: &Path,
    ami: Option<std::net::SocketAddr>,
) -> std::path::PathBuf {
    let ami = ami.map_or(String::new(), |a| {
        format!("[ami]\naddress = \"{a}\"\nuser = \"ql\"\nsecret = \"pw\"\n")
    });
    let path = dir.join(format!("queuelake-{name}.toml"));
    std::fs::write(
        &path,
        format!(
            "version = 1\n[queue_log]\nfile = {:?}\n{ami}\
             [[tokens]]\nname = \"admin\"\nrole = \"admin\"\nsha256 = \"{}\"\n",
            queue_log.display().to_string(),
            digest(ADMIN),
        ),
    )
    .unwrap();
    path
}

/// Starts `serve`, lets it settle, runs `begin` (given serve's port) and
/// returns serve's CPU share of one core over the next `seconds`, its CPU
/// seconds, its port and the child.
fn sample(
    dir: &Path,
    config: &Path,
    name: &str,
    wants_ami: bool,
    seconds: f64,
    begin: impl FnOnce(u16),
) -> (f64, f64, u16, std::process::Child) {
    let log = std::env::temp_dir().join(format!("queuelake-idle-{name}.log"));
    let (child, port) = serve(dir, config, &log);
    if wants_ami {
        let by = Instant::now() + Duration::from_secs(60);
        while link_state(port) != "live" {
            assert!(Instant::now() < by, "serve never went live");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    std::thread::sleep(SETTLE);
    begin(port);
    let (cpu0, wall0) = (cpu_seconds(child.id()), Instant::now());
    std::thread::sleep(Duration::from_secs_f64(seconds));
    let cpu = cpu_seconds(child.id()) - cpu0;
    let share = cpu / wall0.elapsed().as_secs_f64();
    (share, cpu, port, child)
}

fn main() {
    let args: Vec<f64> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let seconds = args.first().copied().unwrap_or(60.0);
    let speed = args.get(1).copied().unwrap_or(6.0);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let queue_log = dir.path().join("queue_log");
    let mut emulator_config = EmulatorConfig::new(demo_config(7), queue_log.clone());
    emulator_config.live_from = Some(LIVE_FROM);
    emulator_config.history_days = 1;
    emulator_config.speed = speed;
    emulator_config.ami = Some((
        "127.0.0.1:0".parse().unwrap(),
        AmiCredentials {
            username: "ql".into(),
            secret: "pw".into(),
        },
    ));
    let emulator = rt.block_on(Emulator::start(emulator_config)).unwrap();
    emulator.set_frozen(true);
    let ami = emulator.ami_address().unwrap();

    println!(
        "serve's CPU, sampled from /proc over {seconds:.0} s after {} s to settle \
         (release build; 100 % = one core)\n",
        SETTLE.as_secs()
    );
    println!("| run | CPU | per 1 000 events |");
    println!("| --- | ---: | ---: |");

    let plain = config(dir.path(), "tail", &queue_log, None);
    let (share, _, _, child) = sample(dir.path(), &plain, "tail", false, seconds, |_| {});
    served::stop(child);
    println!(
        "| idle: queue_log tailed, no AMI | {:.2} % | – |",
        share * 100.0
    );

    let linked = config(dir.path(), "ami", &queue_log, Some(ami));
    let (share, _, _, child) = sample(dir.path(), &linked, "ami", true, seconds, |_| {});
    served::stop(child);
    println!(
        "| idle: queue_log tailed, AMI linked, floor frozen | {:.2} % | – |",
        share * 100.0
    );

    let before = std::cell::Cell::new((0.0, 0.0));
    let (share, cpu, port, child) = sample(dir.path(), &linked, "busy", true, seconds, |port| {
        before.set((ami_events(port), lines_in(&queue_log)));
        emulator.set_frozen(false);
    });
    let events = ami_events(port) - before.get().0;
    let lines = lines_in(&queue_log) - before.get().1;
    served::stop(child);
    let per_thousand = cpu / (events + lines).max(1.0) * 1000.0;
    println!(
        "| busy: the demo floor at {speed}× ({:.0} AMI events/s, {:.0} queue_log lines/s) | {:.2} % | {:.1} ms |",
        events / seconds,
        lines / seconds,
        share * 100.0,
        per_thousand * 1000.0
    );
}
