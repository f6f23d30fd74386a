//! The simulated queue behaves as Asterisk's app_queue does: strategies,
//! ring-no-answer and retry, patience, shifts and breaks, outbound drops.

use queuelake_scheduler::sim::{
    AgentConfig, AgentId, AnswerModel, Break, CampaignConfig, Dialing, Duration, Millis,
    QueueConfig, QueueId, Shift, SimConfig, SimEvent, Simulation, Strategy, Tally, Timed,
    demo_config,
};

const MINUTE: Millis = 60_000;
const HOUR: Millis = 3_600_000;
const MONDAY: Millis = 1_709_510_400_000; // 2024-03-04 00:00 UTC

fn agents(n: usize, queue: &str) -> Vec<AgentConfig> {
    (0..n)
        .map(|i| AgentConfig {
            name: format!("Agent {i}"),
            interface: format!("PJSIP/{}", 100 + i),
            queues: vec![queue.into()],
            shift: None,
        })
        .collect()
}

/// One queue, no arrivals of its own (tests place callers by hand through
/// a campaign that always reaches a person at once), answers after 1 s.
fn quiet_queue(strategy: Strategy, members: usize) -> SimConfig {
    let mut queue = QueueConfig::new("q", 0.0, 60.0);
    queue.strategy = strategy;
    queue.talk = Duration::Fixed(60.0);
    queue.answer_ms = (1_000, 1_000);
    queue.ring_no_answer = 0.0;
    queue.wrapup_s = 0;
    queue.patience_mean_s = None;
    SimConfig {
        seed: 1,
        utc_offset_min: 0,
        queues: vec![queue],
        agents: agents(members, "q"),
        campaigns: vec![CampaignConfig {
            name: "c".into(),
            queue: "q".into(),
            answer: AnswerModel {
                answer: 1.0,
                machine: 0.0,
                busy: 0.0,
                ring_ms: (0, 0),
                amd_ms: (0, 0),
            },
            drop_after_ms: 10 * HOUR,
            hours: (0, 24),
            dialing: Dialing::External,
            number_prefix: "+1".into(),
        }],
    }
}

fn connects(events: &[Timed]) -> Vec<AgentId> {
    events
        .iter()
        .filter_map(|e| match e.event {
            SimEvent::Connect { agent, .. } => Some(agent),
            _ => None,
        })
        .collect()
}

/// Places a caller into the queue now and plays `for_ms` onwards.
fn call(sim: &mut Simulation, for_ms: Millis) -> Vec<Timed> {
    let campaign = sim.campaign_by_name("c").expect("campaign");
    sim.originate(campaign, "+100", None);
    let until = sim.now() + for_ms;
    sim.run_until(until)
}

#[test]
fn the_same_seed_plays_the_same_day() {
    let run = |seed| {
        let mut sim = Simulation::new(demo_config(seed), MONDAY).expect("valid");
        sim.run_until(MONDAY + 24 * HOUR)
    };
    let (a, b, c) = (run(7), run(7), run(8));
    assert!(
        a.len() > 5_000,
        "a demo day has thousands of events: {}",
        a.len()
    );
    assert_eq!(a, b);
    assert_ne!(a, c);
}

#[test]
fn ringall_rings_every_free_member_and_the_first_answer_wins() {
    let mut config = quiet_queue(Strategy::RingAll, 3);
    config.queues[0].answer_ms = (500, 3_000);
    let mut sim = Simulation::new(config, MONDAY).expect("valid");
    sim.run_until(MONDAY);
    let events = call(&mut sim, 10_000);
    let rung: Vec<_> = events
        .iter()
        .filter(|e| matches!(e.event, SimEvent::Ring { .. }))
        .collect();
    assert_eq!(rung.len(), 3);
    assert!(rung.iter().all(|e| e.at == MONDAY));
    assert_eq!(connects(&events).len(), 1);
    let stopped = events
        .iter()
        .filter(|e| matches!(e.event, SimEvent::RingStopped { .. }))
        .count();
    assert_eq!(stopped, 2, "the two others stop ringing");
}

#[test]
fn leastrecent_offers_the_member_idle_longest() {
    let mut sim = Simulation::new(quiet_queue(Strategy::LeastRecent, 3), MONDAY).expect("valid");
    sim.run_until(MONDAY);
    // Three calls one after another: each member takes one (never-called
    // members count as idle longest, by id), then agent 0 (its call ended
    // first) gets the fourth.
    let mut order = Vec::new();
    for _ in 0..3 {
        order.extend(connects(&call(&mut sim, 2_000)));
    }
    order.extend(connects(&call(&mut sim, 120_000)));
    order.extend(connects(&call(&mut sim, 2_000)));
    assert_eq!(
        order,
        [AgentId(0), AgentId(1), AgentId(2), AgentId(0), AgentId(1)]
    );
}

#[test]
fn rrmemory_walks_the_members_in_turn() {
    let mut sim = Simulation::new(quiet_queue(Strategy::RrMemory, 3), MONDAY).expect("valid");
    sim.run_until(MONDAY);
    let mut order = Vec::new();
    for _ in 0..5 {
        // Each call ends (60 s) before the next one arrives.
        order.extend(connects(&call(&mut sim, 120_000)));
    }
    assert_eq!(
        order,
        [AgentId(0), AgentId(1), AgentId(2), AgentId(0), AgentId(1)]
    );
}

#[test]
fn ring_no_answer_then_retry_after_retry_seconds() {
    let mut config = quiet_queue(Strategy::RrMemory, 1);
    config.queues[0].ring_no_answer = 1.0;
    config.queues[0].ring_timeout_s = 15;
    config.queues[0].retry_s = 5;
    let mut sim = Simulation::new(config, MONDAY).expect("valid");
    sim.run_until(MONDAY);
    let events = call(&mut sim, 45_000);
    let rings: Vec<Millis> = events
        .iter()
        .filter_map(|e| matches!(e.event, SimEvent::Ring { .. }).then_some(e.at - MONDAY))
        .collect();
    // Rings at 0, 20 s (15 s timeout + 5 s retry), 40 s.
    assert_eq!(rings, [0, 20_000, 40_000]);
    let no_answer: Vec<Millis> = events
        .iter()
        .filter_map(|e| match e.event {
            SimEvent::RingNoAnswer { ring_ms, .. } => Some(ring_ms),
            _ => None,
        })
        .collect();
    assert_eq!(no_answer, [15_000, 15_000]);
}

#[test]
fn a_caller_out_of_patience_while_ringing_cancels_the_ring_and_abandons() {
    let mut config = quiet_queue(Strategy::RingAll, 2);
    config.queues[0].answer_ms = (10_000, 10_000);
    config.campaigns[0].drop_after_ms = 4_000;
    let mut sim = Simulation::new(config, MONDAY).expect("valid");
    sim.run_until(MONDAY);
    let events = call(&mut sim, 20_000);
    let kinds: Vec<&str> = events
        .iter()
        .map(|e| match e.event {
            SimEvent::Dial { .. } => "dial",
            SimEvent::DialAnswered { .. } => "answered",
            SimEvent::AmdVerdict { machine: false, .. } => "human",
            SimEvent::CallerJoin { .. } => "join",
            SimEvent::Ring { .. } => "ring",
            SimEvent::RingCanceled { ring_ms, .. } => {
                assert_eq!(ring_ms, 4_000);
                "canceled"
            }
            SimEvent::CallerLeave { .. } => "leave",
            SimEvent::Abandon { wait_s, .. } => {
                assert_eq!(wait_s, 4);
                "abandon"
            }
            SimEvent::Hangup { .. } => "hangup",
            _ => "other",
        })
        .collect();
    assert_eq!(
        kinds,
        [
            "dial", "answered", "human", "join", "ring", "ring", "canceled", "canceled", "leave",
            "abandon", "hangup"
        ]
    );
}

#[test]
fn shifts_log_in_pause_for_breaks_and_log_off() {
    let mut config = quiet_queue(Strategy::RrMemory, 1);
    config.agents[0].shift = Some(Shift {
        start_min: 9 * 60,
        length_min: 4 * 60,
        days: [true, false, false, false, false, false, false],
        breaks: vec![Break {
            after_min: 60,
            length_min: 15,
            reason: "Coffee".into(),
        }],
    });
    let mut sim = Simulation::new(config, MONDAY).expect("valid");
    let events = sim.run_until(MONDAY + 24 * HOUR);
    let timeline: Vec<(Millis, String)> = events
        .iter()
        .filter_map(|e| {
            let what = match &e.event {
                SimEvent::MemberAdded { queue, .. } => format!("added {}", queue.0),
                SimEvent::MemberRemoved { queue, .. } => format!("removed {}", queue.0),
                SimEvent::Pause { paused, reason, .. } => format!("paused={paused} {reason}"),
                _ => return None,
            };
            Some(((e.at - MONDAY) / MINUTE, what))
        })
        .collect();
    assert_eq!(
        timeline,
        [
            (9 * 60, "added 0".to_owned()),
            (10 * 60, "paused=true Coffee".to_owned()),
            (10 * 60 + 15, "paused=false ".to_owned()),
            (13 * 60, "removed 0".to_owned()),
        ]
    );
    // The next working day is a week later.
    let later = sim.run_until(MONDAY + 8 * 24 * HOUR);
    assert!(
        later
            .iter()
            .any(|e| e.at == MONDAY + 7 * 24 * HOUR + 9 * HOUR)
    );
}

#[test]
fn logoff_waits_for_the_call_to_end() {
    let mut config = quiet_queue(Strategy::RrMemory, 1);
    config.queues[0].talk = Duration::Fixed(600.0);
    config.agents[0].shift = Some(Shift {
        start_min: 0,
        length_min: 5,
        days: [true; 7],
        breaks: Vec::new(),
    });
    let mut sim = Simulation::new(config, MONDAY).expect("valid");
    sim.run_until(MONDAY);
    let events = call(&mut sim, 20 * MINUTE);
    let removed = events
        .iter()
        .find(|e| matches!(e.event, SimEvent::MemberRemoved { .. }))
        .expect("logged off");
    let completed = events
        .iter()
        .find(|e| matches!(e.event, SimEvent::Complete { .. }))
        .expect("call ended");
    assert_eq!(completed.at, MONDAY + 1_000 + 600_000);
    assert_eq!(
        removed.at, completed.at,
        "logoff right after the call, not at 00:05"
    );
}

#[test]
fn outbound_calls_with_no_free_agent_are_dropped_after_two_seconds() {
    let mut config = demo_config(3);
    // Nobody works the campaign queue, so every person who answers is
    // dropped; the built-in dialer still dials (ratio × 0 agents = 0), so
    // place calls by hand.
    config
        .agents
        .retain(|a| !a.queues.contains(&"renewals".to_owned()));
    config.campaigns[0].dialing = Dialing::External;
    for queue in &mut config.queues {
        queue.calls_per_hour = 0.0;
    }
    let mut sim = Simulation::new(config, MONDAY + 10 * HOUR).expect("valid");
    let campaign = sim.campaign_by_name("renewals").expect("campaign");
    for i in 0..400 {
        sim.originate(campaign, &format!("+1555{i:07}"), Some(format!("tag{i}")));
    }
    let events = sim.run_until(MONDAY + 11 * HOUR);
    let renewals = QueueId(sim.queue_by_name("renewals").expect("queue").0);
    let (mut people, mut machines, mut failed, mut drops) = (0, 0, 0, 0);
    for e in &events {
        match &e.event {
            SimEvent::DialAnswered { machine: false, .. } => people += 1,
            SimEvent::DialAnswered { machine: true, .. } => machines += 1,
            SimEvent::DialFailed { .. } => failed += 1,
            SimEvent::Abandon {
                queue,
                dropped,
                wait_ms,
                ..
            } if *queue == renewals => {
                assert!(dropped);
                assert_eq!(*wait_ms, 2_000);
                drops += 1;
            }
            SimEvent::CallerJoin { queue, .. } => assert_eq!(*queue, renewals),
            _ => {}
        }
    }
    assert_eq!(people + machines + failed, 400);
    assert_eq!(drops, people, "every person answered was dropped");
    // answer 0.35 (of which machines 0.25): about 105 people, 35 machines.
    assert!((70..140).contains(&people), "{people} people");
    assert!((15..60).contains(&machines), "{machines} machines");
}

#[test]
fn the_built_in_dialer_keeps_agents_busy_and_the_tally_counts_every_visit() {
    let mut sim = Simulation::new(demo_config(11), MONDAY).expect("valid");
    let events = sim.run_until(MONDAY + 24 * HOUR);
    let mut tally = Tally::new(15, 0, 20, 5);
    for e in &events {
        tally.record(e);
    }
    let joins = events
        .iter()
        .filter(|e| matches!(e.event, SimEvent::CallerJoin { .. }))
        .count() as u64;
    let answered = events
        .iter()
        .filter(|e| matches!(e.event, SimEvent::Connect { .. }))
        .count() as u64;
    let offered: u64 = tally.counts().values().map(|c| c.offered).sum();
    let tallied_answered: u64 = tally.counts().values().map(|c| c.answered).sum();
    assert_eq!(offered, joins);
    assert_eq!(tallied_answered, answered);
    let renewals = QueueId(3);
    let outbound: u64 = tally
        .counts()
        .iter()
        .filter(|((q, _), _)| *q == renewals)
        .map(|(_, c)| c.answered)
        .sum();
    assert!(outbound > 100, "the campaign connected {outbound} calls");
    // Every visit ends one way or another by the end of a quiet night.
    let ended: u64 = tally
        .counts()
        .values()
        .map(|c| c.answered + c.abandoned + c.timed_out)
        .sum();
    assert_eq!(ended, offered);
}

#[test]
fn commands_name_what_was_wrong() {
    let mut sim = Simulation::new(quiet_queue(Strategy::RrMemory, 1), MONDAY).expect("valid");
    let agent = sim
        .agent_by_interface("pjsip/100")
        .expect("case-insensitive");
    let queue = sim.queue_by_name("q").expect("queue");
    let err = sim.add_member(agent, queue).expect_err("already a member");
    assert_eq!(err.to_string(), "PJSIP/100 is already a member of q");
    sim.remove_member(agent, queue).expect("member");
    assert!(sim.remove_member(agent, queue).is_err());
    assert_eq!(
        sim.agent_by_interface("SIP/9")
            .expect_err("unknown")
            .to_string(),
        "no member with interface SIP/9"
    );
    let mut bad = quiet_queue(Strategy::RrMemory, 1);
    bad.agents[0].queues = vec!["nope".into()];
    let Err(err) = Simulation::new(bad, MONDAY) else {
        panic!("accepted a config naming an unknown queue")
    };
    assert_eq!(
        err.to_string(),
        "invalid simulation config: agent Agent 0 names unknown queue nope"
    );
}
