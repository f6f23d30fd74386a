//! The served loop: queuelake's pacing as `serve` serves it, against a
//! Vicidial-style adaptive pacer and progressive 1:1 on the same
//! simulated campaign (same seeds, same world).
//!
//! For queuelake, every seed runs the real `serve` (this build's binary)
//! over AMI against the emulated PBX in a stock Asterisk's shape, with
//! the emulated dialer placing exactly the calls `GET
//! /api/v1/pacing/eval` tells it (AMI `Originate`); the PBX's clock runs
//! `SPEED` times the wall's and skips the nights (18:00 → 07:50), and
//! once a day, at a random instant of the dialing hours, the AMI link is
//! cut for 30–120 PBX seconds (the PBX stops listening and closes every
//! session). The comparison pacers read the floor from the simulation
//! itself every second (a dialer on the PBX's own box: no link to cut)
//! and queuelake's policy is run the same way for reference.
//!
//! Scored from the simulation's own events (the truth), per pacer: live
//! answers, 2-second-rule drops, the worst rolling 30-day window (at
//! every answer once it holds 300), talk occupancy, calls per staffed
//! agent-hour; for the served loop also the calls pacing told while the
//! floor was stale: in answers asked for and received between the instant
//! the PBX had shut its sockets and the instant it had written the last
//! list of `serve`'s resync (the PBX's truth, not what `serve` says).
//! `serve`'s log of seed N stays in `$TMPDIR/queuelake-served-pacing-seedN.log`.
//!
//! `cargo bench --workspace --bench served_pacing [-- SEEDS DAYS SPEED LANES]`
//! (5 seeds, 3 days, 60×, 2 seeds at a time by default).

#![allow(clippy::print_stdout, clippy::unwrap_used, missing_docs)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use queuelake_ingest::emulator::dialer::{self, DialerConfig, SharedStats};
use queuelake_ingest::emulator::{AmiCredentials, Emulator, EmulatorConfig};
use queuelake_scheduler::pacing::Caps;
use queuelake_scheduler::pacing::evaluation::{EvaluationConfig, Profile, evaluate};
use queuelake_scheduler::pacing::pacers::{AdaptivePacer, ProgressivePacer, QueuelakePacer};
use queuelake_scheduler::pacing::scorecard::{Score, Scorecard, WindowRule};
use queuelake_scheduler::sim::{CampaignId, Millis, QueueId, Rng};

#[path = "shared/served.rs"]
mod served;
use served::{ADMIN, digest, link_state, request, serve};

const HOUR: Millis = 3_600_000;
const DAY: Millis = 86_400_000;
const TARGET: f64 = 0.03;
const DIALER: &str = "served-bench-dialer-token";

/// What one served run did.
struct Served {
    score: Score,
    told: u64,
    told_while_stale: u64,
    told_while_held: u64,
    polls: u64,
    failed_polls: u64,
    /// Per cut: its length and how long pacing held for it (PBX seconds).
    cuts: Vec<(f64, f64)>,
    /// `campaign_abandon` as `serve` counts it: live answered, abandoned.
    served_counts: (f64, f64),
    wall_s: f64,
}

fn world(seed: u64, days: u32) -> EvaluationConfig {
    EvaluationConfig {
        seed,
        days,
        agents: 20,
        wrap_s: 15,
        profile: Profile::Swinging,
        amd_ms: (1_500, 3_000),
    }
}

fn served_counts(port: u16) -> (f64, f64) {
    let sql = serde_json::json!({"sql": "SELECT CAST(SUM(live_answered) AS DOUBLE), \
        CAST(SUM(abandoned) AS DOUBLE) FROM campaign_abandon WHERE campaign = 'eval'"});
    let Ok((200, body)) = request(port, "POST", "/api/v1/sql", &sql.to_string()) else {
        return (f64::NAN, f64::NAN);
    };
    let v: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
    let cell = |i: usize| v["rows"][0][i].as_f64().unwrap_or(f64::NAN);
    (cell(0), cell(1))
}

fn run_served(seed: u64, days: u32, speed: f64) -> Served {
    let started = Instant::now();
    let e = world(seed, days);
    let dir = tempfile::tempdir().unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let credentials = AmiCredentials {
        username: "ql".into(),
        secret: "pw".into(),
    };
    let mut config = EmulatorConfig::new(e.sim_config(), dir.path().join("queue_log"));
    config.live_from = Some(EvaluationConfig::START + 7 * HOUR + 50 * 60_000);
    config.speed = speed;
    config.step = Duration::from_millis(5);
    config.ami = Some(("127.0.0.1:0".parse().unwrap(), credentials.clone()));
    config.external_dialing = true;
    config.keep_events = true;
    let mut emulator = rt.block_on(Emulator::start(config)).unwrap();
    let ami = emulator.ami_address().unwrap();

    let toml = dir.path().join("queuelake.toml");
    std::fs::write(
        &toml,
        format!(
            "version = 1\n[server]\nrequests_per_second = 0\n[queue_log]\nfile = {:?}\n\
             [ami]\naddress = \"{ami}\"\nuser = \"ql\"\nsecret = \"pw\"\n\
             [forecast]\nevery_hours = 0\n[pacing]\nrefresh_seconds = 1\nrecord_seconds = 5\nstale_seconds = 1\n\
             [[pacing.campaigns]]\nname = \"{campaign}\"\nqueue = \"{queue}\"\nwrap_s = 15\n\
             [[tokens]]\nname = \"admin\"\nrole = \"admin\"\nsha256 = \"{}\"\n\
             [[tokens]]\nname = \"dialer\"\nrole = \"dialer\"\nsha256 = \"{}\"\n",
            dir.path().join("queue_log").display().to_string(),
            digest(ADMIN),
            digest(DIALER),
            campaign = EvaluationConfig::CAMPAIGN,
            queue = EvaluationConfig::QUEUE,
        ),
    )
    .unwrap();
    // Kept after the run, for a seed that needs explaining.
    let log = std::env::temp_dir().join(format!("queuelake-served-pacing-seed{seed}.log"));
    let (child, port) = serve(dir.path(), &toml, &log);
    let live_by = Instant::now() + Duration::from_secs(60);
    while link_state(port) != "live" {
        assert!(Instant::now() < live_by, "serve never went live");
        std::thread::sleep(Duration::from_millis(20));
    }

    let untrusted = Arc::new(AtomicBool::new(false));
    let stats = SharedStats::default();
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let dialer = rt.spawn(dialer::run(
        DialerConfig {
            api: SocketAddr::from(([127, 0, 0, 1], port)),
            token: DIALER.into(),
            campaign: EvaluationConfig::CAMPAIGN.into(),
            ami,
            credentials,
            // A second of the PBX's clock.
            poll: Duration::from_secs_f64(1.0 / speed),
            max_per_poll: 200,
            floor_untrusted: Some(Arc::clone(&untrusted)),
        },
        stats.clone(),
        stopped,
    ));

    let (campaign, queue) = (CampaignId(0), QueueId(0));
    let mut card = Scorecard::new(campaign, queue, WindowRule::default());
    let mut cuts_rng = Rng::new(seed ^ 0xc07);
    let start = EvaluationConfig::START;
    let end = start + Millis::from(days - 1) * DAY + EvaluationConfig::HOURS.1 * HOUR;
    let mut hour_set = -1;
    let mut cut_day = -1;
    let mut cut_plan: Option<(Millis, f64)> = None;
    let mut cuts = Vec::new();
    loop {
        for timed in emulator.take_events() {
            card.observe(&timed);
        }
        let (now, quiet) = {
            let core = emulator.core();
            (
                core.sim.now(),
                core.sim.dialing(campaign) + core.sim.detecting(campaign) == 0
                    && core.sim.waiting(queue).is_empty(),
            )
        };
        if now >= end && quiet {
            break;
        }
        let day = (now - start).div_euclid(DAY);
        let into_day = (now - start).rem_euclid(DAY);
        if now / HOUR != hour_set {
            hour_set = now / HOUR;
            let model = e.answer_model(now);
            emulator.core().sim.set_answer_model(campaign, model);
        }
        if day != cut_day {
            cut_day = day;
            let at = start + day * DAY + 9 * HOUR + (cuts_rng.unit() * 7.0 * HOUR as f64) as Millis;
            cut_plan = Some((at, 30.0 + 90.0 * cuts_rng.unit()));
        }
        if let Some((at, length_s)) = cut_plan
            && now >= at
        {
            cut_plan = None;
            let cut_at = now;
            // Untrusted from the instant the PBX has shut the sockets
            // until it has written the resync's last list to serve: the
            // PBX's truth, not what serve says about itself.
            let server = emulator.ami_server().unwrap();
            let sessions = server.sessions();
            let (closed, lists) = (sessions.closed_by_server(), sessions.channel_lists());
            let told = rt.block_on(server.go_down());
            let by = Instant::now() + Duration::from_secs(10);
            while sessions.closed_by_server() < closed + told && Instant::now() < by {
                std::thread::yield_now();
            }
            untrusted.store(true, Ordering::SeqCst);
            std::thread::sleep(Duration::from_secs_f64(length_s / speed));
            rt.block_on(server.come_back()).unwrap();
            let by = Instant::now() + Duration::from_secs(60);
            while sessions.channel_lists() == lists && Instant::now() < by {
                std::thread::sleep(Duration::from_millis(1));
            }
            untrusted.store(false, Ordering::SeqCst);
            while link_state(port) != "live" && Instant::now() < by {
                std::thread::sleep(Duration::from_millis(2));
            }
            let back = emulator.core().sim.now();
            cuts.push((length_s, (back - cut_at) as f64 / 1000.0));
        }
        if into_day >= EvaluationConfig::HOURS.1 * HOUR && quiet {
            emulator.skip_to(start + (day + 1) * DAY + 7 * HOUR + 50 * 60_000);
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    stop.send(true).unwrap();
    rt.block_on(dialer).unwrap().unwrap();
    let stats = stats.lock().unwrap().clone();
    // Let the tail catch up before asking serve for its own counts.
    std::thread::sleep(Duration::from_secs(3));
    let counts = served_counts(port);
    served::stop(child);
    Served {
        score: card.score(),
        told: stats.told,
        told_while_stale: stats.told_while_untrusted,
        told_while_held: stats.told_while_held,
        polls: stats.polls,
        failed_polls: stats.failed_polls,
        cuts,
        served_counts: counts,
        wall_s: started.elapsed().as_secs_f64(),
    }
}

fn row(seed: u64, pacer: &str, s: &Score, told_while_stale: &str) {
    println!(
        "| {seed} | {pacer} | {} | {} | {} | {:.2} % | {} | {:.1} % | {:.2} | {told_while_stale} |",
        s.dials,
        s.live_answers,
        s.dropped,
        s.pooled_rate() * 100.0,
        s.worst_window
            .map_or("–".to_owned(), |w| format!("{:.2} %", w * 100.0)),
        s.talk_occupancy * 100.0,
        s.calls_per_agent_hour,
    );
}

fn main() {
    let args: Vec<f64> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let seeds = args.first().copied().unwrap_or(5.0) as u64;
    let days = args.get(1).copied().unwrap_or(3.0) as u32;
    let speed = args.get(2).copied().unwrap_or(60.0);
    let lanes = args.get(3).copied().unwrap_or(2.0).max(1.0) as usize;
    let caps = Caps {
        max_lines: 200,
        max_ratio: 4.0,
    };
    println!(
        "{seeds} seeds × {days} days, 20 agents, live answers 15–40 % of dials, AMD 1.5–3 s, \
         one AMI cut of 30–120 s a day (served loop at {speed}×), target {:.0} %\n",
        TARGET * 100.0
    );
    let all: Vec<u64> = (1..=seeds).collect();
    let mut served: Vec<(u64, Served)> = Vec::new();
    for chunk in all.chunks(lanes) {
        let handles: Vec<_> = chunk
            .iter()
            .map(|&seed| std::thread::spawn(move || (seed, run_served(seed, days, speed))))
            .collect();
        for handle in handles {
            let (seed, s) = handle.join().unwrap();
            eprintln!(
                "seed {seed}: {:.0} s wall; {} polls ({} failed), {} calls told, {} while held, \
                 {} while stale; cuts (length, held) {:?}; serve counts {:?}; {:?}",
                s.wall_s,
                s.polls,
                s.failed_polls,
                s.told,
                s.told_while_held,
                s.told_while_stale,
                s.cuts,
                s.served_counts,
                s.score
            );
            served.push((seed, s));
        }
    }
    println!(
        "| seed | pacer | dials | live answers | 2-s drops | pooled | worst rolling window | talk occupancy | calls per agent-hour | calls told while stale |"
    );
    println!("| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    let mut totals: Vec<(String, Vec<Score>, u64)> = Vec::new();
    let mut add =
        |name: &str, score: Score, stale: u64| match totals.iter_mut().find(|t| t.0 == name) {
            Some(t) => {
                t.1.push(score);
                t.2 += stale;
            }
            None => totals.push((name.to_owned(), vec![score], stale)),
        };
    for (seed, s) in &served {
        let e = world(*seed, days);
        let name = "queuelake through serve";
        row(*seed, name, &s.score, &s.told_while_stale.to_string());
        add(name, s.score.clone(), s.told_while_stale);
        let in_process = [
            (
                "queuelake policy in-process",
                evaluate(&e, &mut QueuelakePacer::new(TARGET, 15.0, caps)),
            ),
            (
                "Vicidial-style adaptive",
                evaluate(&e, &mut AdaptivePacer::new(TARGET, caps)),
            ),
            (
                "progressive 1:1",
                evaluate(&e, &mut ProgressivePacer::new(caps)),
            ),
        ];
        for (name, r) in in_process {
            row(*seed, name, &r.score, "–");
            add(name, r.score, 0);
        }
    }
    println!(
        "\n| pacer | live answers | 2-s drops | pooled | worst rolling window (all seeds) | talk occupancy | calls per agent-hour | calls told while stale |"
    );
    println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    for (name, scores, stale) in totals {
        let answers: u64 = scores.iter().map(|s| s.live_answers).sum();
        let dropped: u64 = scores.iter().map(|s| s.dropped).sum();
        let worst = scores
            .iter()
            .filter_map(|s| s.worst_window)
            .fold(0.0, f64::max);
        let n = scores.len() as f64;
        println!(
            "| {name} | {answers} | {dropped} | {:.2} % | {:.2} % | {:.1} % | {:.2} | {stale} |",
            dropped as f64 / answers.max(1) as f64 * 100.0,
            worst * 100.0,
            scores.iter().map(|s| s.talk_occupancy).sum::<f64>() / n * 100.0,
            scores.iter().map(|s| s.calls_per_agent_hour).sum::<f64>() / n,
        );
    }
}
