//! The pacing evaluation: one outbound campaign in the simulation, its
//! agents in two weekday shifts with breaks, answer rates that move
//! through the day and from day to day, driven second by second by a
//! [`Pacer`]. Reports the abandon rate of every rolling 30-day window,
//! agents' talk occupancy and connected calls per agent-hour.

use std::collections::HashMap;

use super::Floor;
use super::pacers::{Outcome, Pacer};
use crate::sim::{
    AgentActivity, AgentConfig, AnswerModel, CampaignConfig, CampaignId, Dialing, Millis,
    QueueConfig, QueueId, Rng, Shift, SimConfig, SimEvent, Simulation, office_breaks,
};

/// The campaign's setting.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EvaluationConfig {
    /// Seed of the simulation and of the day-to-day answer rates.
    pub seed: u64,
    /// Days simulated.
    pub days: u32,
    /// Agents on the campaign (half start at 08:00, half at 10:00).
    pub agents: usize,
    /// Seconds of after-call work.
    pub wrap_s: u32,
}

/// What a pacer achieved.
#[derive(Debug, Clone, PartialEq)]
pub struct EvaluationResult {
    /// The pacer.
    pub pacer: String,
    /// Live answers over the run.
    pub live_answers: u64,
    /// Of them, dropped (no agent within 2 s).
    pub dropped: u64,
    /// Abandon rate of each rolling 30-day window (each day from the
    /// 30th on; the whole run when shorter).
    pub windows: Vec<f64>,
    /// Talk seconds over staffed agent seconds (logged in, not paused).
    pub talk_occupancy: f64,
    /// Connected calls per staffed agent-hour.
    pub calls_per_agent_hour: f64,
}

impl EvaluationResult {
    /// The worst rolling window.
    pub fn max_window(&self) -> f64 {
        self.windows.iter().copied().fold(0.0, f64::max)
    }
}

const SECOND: Millis = 1_000;
const DAY: Millis = 86_400_000;
/// Monday 2024-01-01 00:00 UTC.
const START: Millis = 1_704_067_200_000;
/// Dialing hours, local (UTC here).
const HOURS: (i64, i64) = (8, 18);

/// The live-answer probability of an hour of the day (before the day's
/// factor): mornings are fair, lunch is poor, late afternoon is best.
fn answer_by_hour(hour: i64) -> f64 {
    match hour {
        8..=10 => 0.40,
        11..=12 => 0.28,
        13..=15 => 0.45,
        _ => 0.52,
    }
}

fn config(e: &EvaluationConfig) -> SimConfig {
    let mut queue = QueueConfig::new("outbound", 0.0, 180.0);
    queue.answer_ms = (300, 900);
    queue.ring_no_answer = 0.0;
    queue.wrapup_s = e.wrap_s;
    queue.patience_mean_s = None;
    let breaks = office_breaks();
    let agents = (0..e.agents)
        .map(|i| AgentConfig {
            name: format!("Agent {}", 2001 + i),
            interface: format!("PJSIP/{}", 2001 + i),
            queues: vec!["outbound".into()],
            shift: Some(Shift {
                start_min: if i % 2 == 0 { 8 * 60 } else { 10 * 60 } + 5 * (i as u32 % 3),
                length_min: 8 * 60,
                days: [true, true, true, true, true, false, false],
                breaks: breaks.clone(),
            }),
        })
        .collect();
    SimConfig {
        seed: e.seed,
        utc_offset_min: 0,
        queues: vec![queue],
        agents,
        campaigns: vec![CampaignConfig {
            name: "eval".into(),
            queue: "outbound".into(),
            answer: model(0.3),
            drop_after_ms: 2_000,
            hours: (HOURS.0 as u32, HOURS.1 as u32),
            dialing: Dialing::External,
            number_prefix: "+1555".into(),
        }],
    }
}

/// Who answers at live-answer probability `live` (a quarter of pickups
/// are machines).
fn model(live: f64) -> AnswerModel {
    let machine = 0.25;
    AnswerModel {
        answer: (live / (1.0 - machine)).min(0.98),
        machine,
        busy: 0.3,
        ring_ms: (4_000, 20_000),
        // Decided at the answer: the in-process harness's floor has no
        // calls in detection (the served bench's PBX has).
        amd_ms: (0, 0),
    }
}

/// Runs `pacer` on the campaign of `e`.
pub fn evaluate(e: &EvaluationConfig, pacer: &mut dyn Pacer) -> EvaluationResult {
    let mut sim = match Simulation::new(config(e), START) {
        Ok(sim) => sim,
        Err(err) => unreachable!("the evaluation's own config is valid: {err:?}"),
    };
    let campaign = CampaignId(0);
    let queue = QueueId(0);
    let mut days_rng = Rng::new(e.seed ^ 0x5eed);
    let day_factor: Vec<f64> = (0..e.days).map(|_| 0.8 + 0.4 * days_rng.unit()).collect();
    let mut per_day = vec![(0u64, 0u64); e.days as usize];
    let mut dialed_at: HashMap<u64, Millis> = HashMap::new();
    let (mut talk_s, mut connected, mut staffed_s) = (0.0, 0u64, 0.0);
    let end = START + Millis::from(e.days) * DAY;
    let mut now = START;
    let mut hour_set = -1;
    while now < end {
        let day = ((now - START) / DAY) as usize;
        let hour = (now.rem_euclid(DAY)) / 3_600_000;
        let weekday = day % 7 < 5;
        let dialing = weekday && (HOURS.0..HOURS.1).contains(&hour);
        let step = if dialing { SECOND } else { 60 * SECOND };
        if dialing {
            if hour != hour_set {
                hour_set = hour;
                sim.set_answer_model(campaign, model(answer_by_hour(hour) * day_factor[day]));
            }
            let mut floor = Floor {
                calls_in_flight: sim.dialing(campaign) as u32,
                ..Floor::default()
            };
            for agent in sim.members(queue).to_vec() {
                let view = sim.agent(agent);
                if view.paused.is_some() {
                    continue;
                }
                staffed_s += 1.0;
                match view.activity {
                    AgentActivity::Idle => floor.agents_free += 1,
                    AgentActivity::Ringing(_) | AgentActivity::Talking(_) => {
                        floor.agents_on_call += 1
                    }
                    AgentActivity::Wrapup(_) => floor.agents_wrapup += 1,
                }
            }
            let now_s = (now - START) as f64 / 1000.0;
            for _ in 0..pacer.calls(now_s, &floor) {
                sim.originate(campaign, "+15550000000", None);
            }
        }
        for timed in sim.run_until(now + step) {
            let at_s = (timed.at - START) as f64 / 1000.0;
            let day = (((timed.at - START) / DAY) as usize).min(per_day.len() - 1);
            match timed.event {
                SimEvent::Dial { call, .. } => {
                    dialed_at.insert(call.0, timed.at);
                }
                SimEvent::DialAnswered { call, machine, .. } => {
                    let at = dialed_at.remove(&call.0).unwrap_or(timed.at);
                    if machine {
                        pacer.observe(at_s, Outcome::Machine);
                    } else {
                        per_day[day].0 += 1;
                        let ring_s = (timed.at - at) as f64 / 1000.0;
                        pacer.observe(at_s, Outcome::Live { ring_s });
                    }
                }
                SimEvent::DialFailed { call, .. } => {
                    dialed_at.remove(&call.0);
                    pacer.observe(at_s, Outcome::NotLive);
                }
                SimEvent::Abandon { dropped: true, .. } => {
                    per_day[day].1 += 1;
                    pacer.observe(at_s, Outcome::Dropped);
                }
                SimEvent::Complete { talk_s: talked, .. } => {
                    connected += 1;
                    talk_s += talked as f64;
                    pacer.observe(
                        at_s,
                        Outcome::Talked {
                            talk_s: talked as f64,
                        },
                    );
                }
                _ => {}
            }
        }
        now += step;
    }
    let rate = |days: &[(u64, u64)]| {
        let (a, d) = days
            .iter()
            .fold((0, 0), |(a, d), (da, dd)| (a + da, d + dd));
        if a == 0 { 0.0 } else { d as f64 / a as f64 }
    };
    let windows = if per_day.len() >= 30 {
        (29..per_day.len())
            .map(|d| rate(&per_day[d - 29..=d]))
            .collect()
    } else {
        vec![rate(&per_day)]
    };
    EvaluationResult {
        pacer: pacer.name().to_owned(),
        live_answers: per_day.iter().map(|d| d.0).sum(),
        dropped: per_day.iter().map(|d| d.1).sum(),
        windows,
        talk_occupancy: if staffed_s > 0.0 {
            talk_s / staffed_s
        } else {
            0.0
        },
        calls_per_agent_hour: if staffed_s > 0.0 {
            connected as f64 / (staffed_s / 3600.0)
        } else {
            0.0
        },
    }
}
