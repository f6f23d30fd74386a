//! The AMI client against the emulated Asterisk, under faults: a
//! connection cut mid-frame, pings unanswered, the PBX restarted, a burst
//! of 100 000 events, a refused login. After each, the client's live
//! state must equal the emulator's truth, and the journal must hold every
//! event whole plus one gap row per lost link.

use std::time::{Duration, Instant};

use queuelake_ami::live::MemberActivity;
use queuelake_engine::ami_events::GAP_EVENT;
use queuelake_ingest::IngestError;
use queuelake_ingest::ami::client::{self, AmiClientConfig};
use queuelake_ingest::ami::feed::{JournalingSink, LiveFeed};
use queuelake_ingest::ami::journal::{Journal, JournalRows};
use queuelake_ingest::emulator::{AmiCredentials, Emulator, EmulatorConfig};
use queuelake_ingest::queue_log::rows::{Appended, LineRows};
use queuelake_scheduler::sim::{AgentActivity, CampaignId, Millis, QueueId, demo_config};
use std::sync::atomic::Ordering;

/// 2024-03-06 10:00 UTC, a Wednesday morning: a busy floor.
const LIVE_FROM: Millis = 1_709_719_200_000;
const SPEED: f64 = 4.0;

async fn wait_until(what: &str, limit: Duration, mut ok: impl FnMut() -> bool) {
    let started = Instant::now();
    while !ok() {
        assert!(started.elapsed() < limit, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn connection(feed: &LiveFeed) -> (&'static str, u64, u64, u64) {
    let live = feed.lock();
    let c = &live.connection;
    (c.state, c.disconnects, c.events, c.resyncs)
}

/// What differs between the client's live state and the emulator's
/// truth, at the emulator's (frozen) instant; empty when they agree.
/// Wrap-up ends are known to the second from a resync's `LastCall`, so a
/// member whose wrap-up ends within 1.5 s of now may be either.
fn differences(emulator: &Emulator, feed: &LiveFeed) -> Vec<String> {
    let core = emulator.core();
    let sim = &core.sim;
    let config = sim.config();
    let now_ms = sim.now();
    let now = now_ms as f64 / 1000.0;
    let live = feed.lock();
    let mut out = Vec::new();
    for (q, queue) in config.queues.iter().enumerate() {
        let waiting = sim.waiting(QueueId(q));
        let view = live.state.queue(&queue.name, now);
        if view.calls_waiting as usize != waiting.len() {
            out.push(format!(
                "{}: {} waiting, truth {}",
                queue.name,
                view.calls_waiting,
                waiting.len()
            ));
        }
        let longest = waiting
            .iter()
            .map(|w| (now_ms - w.joined_at) as f64 / 1000.0)
            .fold(0.0, f64::max);
        if (view.longest_wait_s - longest).abs() > 1.0 + SPEED * 0.5 {
            out.push(format!(
                "{}: longest wait {:.1} s, truth {longest:.1} s",
                queue.name, view.longest_wait_s
            ));
        }
        let activities = live.state.member_activities(&queue.name, now);
        let members = sim.members(QueueId(q));
        if activities.len() != members.len() {
            out.push(format!(
                "{}: {} members, truth {}",
                queue.name,
                activities.len(),
                members.len()
            ));
        }
        for agent in members {
            let interface = &config.agents[agent.0].interface;
            let truth = sim.agent(*agent);
            let expected = match (truth.activity, truth.paused.is_some()) {
                (AgentActivity::Talking(_), _) => MemberActivity::OnCall,
                (AgentActivity::Ringing(_), _) => MemberActivity::Ringing,
                (_, true) => MemberActivity::Paused,
                (AgentActivity::Wrapup(until), false) if until > now_ms => MemberActivity::Wrapup,
                _ => MemberActivity::Available,
            };
            let seen = activities.get(interface).copied();
            let near_wrapup_end = match truth.activity {
                AgentActivity::Wrapup(until) => (until - now_ms).abs() < 1_500,
                _ => truth.last_call_end.is_some_and(|end| {
                    let wrapup = queue.wrapup_s as Millis * 1000;
                    (end + wrapup - now_ms).abs() < 1_500
                }),
            };
            let tolerated = near_wrapup_end
                && matches!(
                    (seen, expected),
                    (Some(MemberActivity::Wrapup), MemberActivity::Available)
                        | (Some(MemberActivity::Available), MemberActivity::Wrapup)
                );
            if seen != Some(expected) && !tolerated {
                out.push(format!(
                    "{} {interface}: {seen:?}, truth {expected:?}",
                    queue.name
                ));
            }
        }
    }
    for (c, campaign) in config.campaigns.iter().enumerate() {
        let truth = (sim.dialing(CampaignId(c)), sim.detecting(CampaignId(c)));
        let seen = live
            .state
            .campaigns(now)
            .into_iter()
            .find(|v| v.campaign == campaign.name)
            .map_or((0, 0), |v| {
                ((v.dialing + v.ringing) as usize, v.answering as usize)
            });
        if seen != truth {
            out.push(format!(
                "{}: (dialing or ringing, answered in AMD) {seen:?}, truth {truth:?}",
                campaign.name
            ));
        }
    }
    out
}

/// Freezes the emulator and waits until the client has caught up with it.
async fn assert_live_state_is_the_truth(emulator: &Emulator, feed: &LiveFeed, after: &str) {
    emulator.set_frozen(true);
    let started = Instant::now();
    loop {
        let diff = differences(emulator, feed);
        if diff.is_empty() {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "after {after}, live state differs from the emulator: {diff:#?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    emulator.set_frozen(false);
}

#[test]
fn the_client_recovers_from_every_fault_and_matches_the_emulator() {
    let dir = tempfile::tempdir().unwrap();
    crate::support::runtime().block_on(async {
        let credentials = AmiCredentials {
            username: "queuelake".into(),
            secret: "s3cret".into(),
        };
        let mut config = EmulatorConfig::new(demo_config(11), dir.path().join("queue_log"));
        config.live_from = Some(LIVE_FROM);
        config.speed = SPEED;
        config.history_days = 1; // agents are logged in, calls are up
        config.ami = Some(("127.0.0.1:0".parse().unwrap(), credentials.clone()));
        let mut emulator = Emulator::start(config).await.unwrap();
        let address = emulator.ami_address().unwrap();

        let journal_path = dir.path().join("journal").join("ami.jsonl");
        let feed = LiveFeed::default();
        // queues.conf's wrapuptime, as an operator gives it in [ami]: the
        // PBX's member events do not carry it.
        for queue in &demo_config(11).queues {
            feed.lock()
                .state
                .set_queue_wrapup(&queue.name, f64::from(queue.wrapup_s));
        }
        let mut sink = JournalingSink::new(
            Journal::open(&journal_path, &address.to_string()).unwrap(),
            feed.clone(),
        );
        let mut client_config = AmiClientConfig::new(&address.to_string(), "queuelake", "s3cret");
        client_config.session.ping_every = Duration::from_millis(500);
        client_config.session.reply_timeout = Duration::from_millis(1_500);
        client_config.session.backoff_first = Duration::from_millis(50);
        client_config.session.backoff_max = Duration::from_millis(400);
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let client = tokio::spawn(async move {
            let result = client::run(client_config, &mut sink, stop_rx).await;
            (result, sink)
        });

        let limit = Duration::from_secs(10);
        wait_until("the first resync", limit, || connection(&feed).3 == 1).await;
        assert_eq!(connection(&feed).0, "live");
        assert_live_state_is_the_truth(&emulator, &feed, "the first resync").await;

        // 1. The connection dropped in the middle of a frame.
        let server = emulator.ami_server().unwrap();
        server.cut_mid_frame();
        wait_until("the resync after a cut", limit, || connection(&feed).3 == 2).await;
        assert_eq!(connection(&feed).1, 1);
        assert_live_state_is_the_truth(&emulator, &feed, "a cut mid-frame").await;

        // 2. Pings unanswered: with the floor quiet (frozen), the client
        // pings, gets nothing, drops the link and reconnects.
        let faults = emulator.ami_server().unwrap().faults();
        faults.ignore_pings.store(true, Ordering::SeqCst);
        emulator.set_frozen(true);
        wait_until("a ping timeout", limit, || connection(&feed).1 == 2).await;
        faults.ignore_pings.store(false, Ordering::SeqCst);
        emulator.set_frozen(false);
        wait_until("the resync after a ping timeout", limit, || {
            connection(&feed).3 == 3
        })
        .await;
        assert_live_state_is_the_truth(&emulator, &feed, "unanswered pings").await;

        // 3. The PBX restarted (down for a second; calls went on meanwhile).
        emulator
            .ami_server()
            .unwrap()
            .restart(Duration::from_secs(1))
            .await
            .unwrap();
        wait_until("the resync after a restart", limit, || {
            connection(&feed).3 == 4
        })
        .await;
        assert_eq!(connection(&feed).1, 3);
        assert_live_state_is_the_truth(&emulator, &feed, "a restart").await;

        // 4. A burst of 100 000 events: read without stalling, nothing dropped.
        let before = connection(&feed).2;
        let sessions = emulator.ami_server().unwrap().sessions();
        emulator.ami_server().unwrap().burst(100_000);
        wait_until("the burst", Duration::from_secs(30), || {
            connection(&feed).2 >= before + 100_000
        })
        .await;
        assert_eq!(connection(&feed).1, 3, "the burst cost no reconnect");
        assert_eq!(sessions.dropped_slow(), 0, "the client kept up");
        assert_live_state_is_the_truth(&emulator, &feed, "a burst").await;

        // 5. Bad credentials: a loud, terminal stop.
        faults.refuse_logins.store(true, Ordering::SeqCst);
        emulator.ami_server().unwrap().cut_mid_frame();
        let (result, sink) = tokio::time::timeout(limit, client).await.unwrap().unwrap();
        match result {
            Err(IngestError::AmiLoginRefused { reason, .. }) => {
                assert!(reason.contains("Authentication failed"), "{reason}")
            }
            other => panic!("expected a refused login, got {other:?}"),
        }
        assert_eq!(connection(&feed).0, "refused");
        drop(stop_tx);
        drop(sink);

        // The journal: every line whole, one gap row per lost link.
        let bytes = std::fs::read(&journal_path).unwrap();
        assert!(bytes.ends_with(b"\n"));
        let mut rows = JournalRows::default();
        let mut offset = 0u64;
        for line in bytes.split_inclusive(|b| *b == b'\n') {
            let appended = rows.append_line(&line[..line.len() - 1], "j", offset);
            assert!(
                matches!(appended, Ok(Appended::Row { .. } | Appended::Skipped)),
                "line at {offset}: {appended:?}"
            );
            offset += line.len() as u64;
        }
        let batch = rows.finish_rows();
        let events = batch.column_by_name("event").unwrap();
        let events = datafusion::arrow::array::AsArray::as_string::<i32>(events);
        let gaps = events.iter().filter(|e| *e == Some(GAP_EVENT)).count();
        assert_eq!(
            gaps, 5,
            "two cuts, a ping timeout, a restart, the refused login"
        );
        let (_, _, received, _) = connection(&feed);
        assert!(
            batch.num_rows() as u64 > received,
            "events and resync items are journaled"
        );
    });
}
