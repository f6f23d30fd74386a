//! The pacing evaluation's world: one outbound campaign in the
//! simulation, its agents in two weekday shifts with breaks (08:00 and
//! 10:00, eight hours each), live-answer rates that move through the day
//! and from day to day. [`evaluate`] drives it second by second with a
//! [`Pacer`] in-process; the served-loop bench drives the same world
//! through `serve` and AMI ([`EvaluationConfig::sim_config`],
//! [`EvaluationConfig::answer_model`]). Both score with
//! [`super::scorecard`].

use super::Floor;
use super::pacers::{Outcome, Pacer};
use super::scorecard::{Score, Scorecard, WindowRule};
use crate::sim::{
    AgentActivity, AgentConfig, AnswerModel, CampaignConfig, CampaignId, Dialing, Millis,
    QueueConfig, QueueId, Rng, Shift, SimConfig, SimEvent, Simulation, office_breaks,
};

const SECOND: Millis = 1_000;
const HOUR: Millis = 3_600_000;
const DAY: Millis = 86_400_000;

/// How live-answer rates move through a day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Profile {
    /// Fair mornings, a poor lunch, the best late afternoon: 28–52 % of
    /// dials (±20 % from day to day).
    Office,
    /// Within 15–40 % every day, in steps every two hours (±10 % from day
    /// to day, kept within the range).
    Swinging,
}

/// The campaign's world.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EvaluationConfig {
    /// Seed of the simulation and of the day-to-day answer rates.
    pub seed: u64,
    /// Days simulated (from a Monday).
    pub days: u32,
    /// Agents on the campaign (half start at 08:00, half at 10:00).
    pub agents: usize,
    /// Seconds of after-call work.
    pub wrap_s: u32,
    /// How answer rates move.
    pub profile: Profile,
    /// Answering-machine detection after an answer, ms (uniform; (0, 0):
    /// decided at the answer, so no call waits in detection).
    pub amd_ms: (i64, i64),
}

impl EvaluationConfig {
    /// The campaign's name in the simulation (and its `QL_CAMPAIGN`).
    pub const CAMPAIGN: &'static str = "eval";
    /// Its queue.
    pub const QUEUE: &'static str = "outbound";
    /// Monday 2024-01-01 00:00 UTC: the first day's midnight.
    pub const START: Millis = 1_704_067_200_000;
    /// Dialing hours, local (UTC here).
    pub const HOURS: (i64, i64) = (8, 18);

    /// The simulated contact center.
    pub fn sim_config(&self) -> SimConfig {
        let mut queue = QueueConfig::new(Self::QUEUE, 0.0, 180.0);
        queue.answer_ms = (300, 900);
        queue.ring_no_answer = 0.0;
        queue.wrapup_s = self.wrap_s;
        queue.patience_mean_s = None;
        let breaks = office_breaks();
        let agents = (0..self.agents)
            .map(|i| AgentConfig {
                name: format!("Agent {}", 2001 + i),
                interface: format!("PJSIP/{}", 2001 + i),
                queues: vec![Self::QUEUE.into()],
                shift: Some(Shift {
                    start_min: if i % 2 == 0 { 8 * 60 } else { 10 * 60 } + 5 * (i as u32 % 3),
                    length_min: 8 * 60,
                    days: [true, true, true, true, true, false, false],
                    breaks: breaks.clone(),
                }),
            })
            .collect();
        SimConfig {
            seed: self.seed,
            utc_offset_min: 0,
            queues: vec![queue],
            agents,
            campaigns: vec![CampaignConfig {
                name: Self::CAMPAIGN.into(),
                queue: Self::QUEUE.into(),
                answer: self.answer_model(Self::START + Self::HOURS.0 * HOUR),
                drop_after_ms: 2_000,
                hours: (Self::HOURS.0 as u32, Self::HOURS.1 as u32),
                dialing: Dialing::External,
                number_prefix: "+1555".into(),
            }],
        }
    }

    /// Whether the campaign dials at `at` (a weekday's dialing hours).
    pub fn dialing_at(&self, at: Millis) -> bool {
        let day = (at - Self::START).div_euclid(DAY);
        let hour = at.rem_euclid(DAY) / HOUR;
        day.rem_euclid(7) < 5 && (Self::HOURS.0..Self::HOURS.1).contains(&hour)
    }

    /// The share of dials a person answers at `at`.
    pub fn live_rate(&self, at: Millis) -> f64 {
        let day = (at - Self::START).div_euclid(DAY).max(0) as usize;
        let hour = at.rem_euclid(DAY) / HOUR;
        let mut days = Rng::new(self.seed ^ 0x5eed);
        let unit = (0..=day).map(|_| days.unit()).last().unwrap_or(0.5);
        match self.profile {
            Profile::Office => {
                let base = match hour {
                    8..=10 => 0.40,
                    11..=12 => 0.28,
                    13..=15 => 0.45,
                    _ => 0.52,
                };
                base * (0.8 + 0.4 * unit)
            }
            Profile::Swinging => {
                let base = match hour {
                    8..=9 => 0.30,
                    10..=11 => 0.20,
                    12..=13 => 0.15,
                    14..=15 => 0.25,
                    _ => 0.40,
                };
                (base * (0.9 + 0.2 * unit)).clamp(0.15, 0.40)
            }
        }
    }

    /// Who answers at `at` (a quarter of pickups are machines).
    pub fn answer_model(&self, at: Millis) -> AnswerModel {
        let machine = 0.25;
        AnswerModel {
            answer: (self.live_rate(at) / (1.0 - machine)).min(0.98),
            machine,
            busy: 0.3,
            ring_ms: (4_000, 20_000),
            amd_ms: self.amd_ms,
        }
    }
}

/// What a pacer achieved.
#[derive(Debug, Clone, PartialEq)]
pub struct EvaluationResult {
    /// The pacer.
    pub pacer: String,
    /// Its score.
    pub score: Score,
}

/// The campaign's floor in the simulation now, as a live AMI view would
/// show it.
pub fn floor_of(sim: &Simulation, campaign: CampaignId, queue: QueueId) -> Floor {
    let mut floor = Floor {
        calls_in_flight: sim.dialing(campaign) as u32,
        calls_answering: sim.detecting(campaign) as u32,
        calls_waiting: sim.waiting(queue).len() as u32,
        ..Floor::default()
    };
    for agent in sim.members(queue) {
        let view = sim.agent(*agent);
        if view.paused.is_some() {
            continue;
        }
        match view.activity {
            AgentActivity::Idle => floor.agents_free += 1,
            AgentActivity::Ringing(_) | AgentActivity::Talking(_) => floor.agents_on_call += 1,
            AgentActivity::Wrapup(_) => floor.agents_wrapup += 1,
        }
    }
    floor
}

/// Runs `pacer` on the campaign of `e`, told the floor every second.
pub fn evaluate(e: &EvaluationConfig, pacer: &mut dyn Pacer) -> EvaluationResult {
    let start = EvaluationConfig::START;
    let mut sim = match Simulation::new(e.sim_config(), start) {
        Ok(sim) => sim,
        Err(err) => unreachable!("the evaluation's own config is valid: {err:?}"),
    };
    let campaign = CampaignId(0);
    let queue = QueueId(0);
    let mut card = Scorecard::new(campaign, queue, WindowRule::default());
    let mut dialed_at = std::collections::HashMap::new();
    let end = start + Millis::from(e.days) * DAY;
    let mut now = start;
    let mut hour_set = -1;
    while now < end {
        let dialing = e.dialing_at(now);
        let step = if dialing { SECOND } else { 60 * SECOND };
        if dialing {
            let hour = now / HOUR;
            if hour != hour_set {
                hour_set = hour;
                sim.set_answer_model(campaign, e.answer_model(now));
            }
            let now_s = (now - start) as f64 / 1000.0;
            for _ in 0..pacer.calls(now_s, &floor_of(&sim, campaign, queue)) {
                sim.originate(campaign, "+15550000000", None);
            }
        }
        for timed in sim.run_until(now + step) {
            card.observe(&timed);
            let at_s = (timed.at - start) as f64 / 1000.0;
            match timed.event {
                SimEvent::Dial { call, .. } => {
                    dialed_at.insert(call.0, timed.at);
                }
                SimEvent::DialAnswered { call, machine, .. } => {
                    let at = dialed_at.remove(&call.0).unwrap_or(timed.at);
                    if machine {
                        pacer.observe(at_s, Outcome::Machine);
                    } else {
                        let ring_s = (timed.at - at) as f64 / 1000.0;
                        pacer.observe(at_s, Outcome::Live { ring_s });
                    }
                }
                SimEvent::DialFailed { call, .. } => {
                    dialed_at.remove(&call.0);
                    pacer.observe(at_s, Outcome::NotLive);
                }
                SimEvent::Abandon { dropped: true, .. } => {
                    pacer.observe(at_s, Outcome::Dropped);
                }
                SimEvent::Complete { talk_s, .. } => {
                    pacer.observe(
                        at_s,
                        Outcome::Talked {
                            talk_s: talk_s as f64,
                        },
                    );
                }
                _ => {}
            }
        }
        now += step;
    }
    EvaluationResult {
        pacer: pacer.name().to_owned(),
        score: card.score(),
    }
}
