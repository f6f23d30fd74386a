//! A pacer's score on a simulated campaign, kept from the simulation's
//! own events (the truth, whoever paced and however the floor was seen):
//! live answers and 2-second-rule drops, the worst rolling-window abandon
//! rate, talk occupancy and connected calls per staffed agent-hour. The
//! in-process evaluation and the served-loop bench score with it alike.

use std::collections::{BTreeMap, HashMap};

use crate::sim::{AgentId, CampaignId, Millis, QueueId, SimEvent, Timed};

const DAY: Millis = 86_400_000;

/// How the rolling window is judged.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WindowRule {
    /// Calendar days in the window (30), today's included.
    pub days: i64,
    /// The window is judged only once it holds this many live answers
    /// (a rate over a handful of answers says nothing).
    pub min_answers: u64,
    /// The contact center's offset from UTC (its calendar days).
    pub utc_offset_ms: Millis,
}

impl Default for WindowRule {
    fn default() -> Self {
        WindowRule {
            days: 30,
            min_answers: 300,
            utc_offset_ms: 0,
        }
    }
}

/// What a pacer achieved.
#[derive(Debug, Clone, PartialEq)]
pub struct Score {
    /// Calls placed.
    pub dials: u64,
    /// Live answers (a person picked up).
    pub live_answers: u64,
    /// Of them, dropped (no agent within 2 s).
    pub dropped: u64,
    /// The highest abandon rate of the rolling window at any answer or
    /// drop once it held enough answers; `None` if it never did.
    pub worst_window: Option<f64>,
    /// Talk seconds over staffed agent seconds (logged in, not paused).
    pub talk_occupancy: f64,
    /// Connected calls per staffed agent-hour.
    pub calls_per_agent_hour: f64,
}

impl Score {
    /// Dropped over live answers of the whole run.
    pub fn pooled_rate(&self) -> f64 {
        if self.live_answers == 0 {
            0.0
        } else {
            self.dropped as f64 / self.live_answers as f64
        }
    }
}

/// One agent's staffing as its events tell it.
#[derive(Debug, Clone, Copy, Default)]
struct Staffing {
    member: bool,
    paused: bool,
    since: Millis,
}

impl Staffing {
    fn staffed(&self) -> bool {
        self.member && !self.paused
    }
}

/// The running score of one campaign (and its queue).
#[derive(Debug, Clone)]
pub struct Scorecard {
    campaign: CampaignId,
    queue: QueueId,
    rule: WindowRule,
    /// Local day → (live answers, drops).
    days: BTreeMap<i64, (u64, u64)>,
    worst: Option<f64>,
    dials: u64,
    talk_s: f64,
    connected: u64,
    agents: HashMap<AgentId, Staffing>,
    staffed_ms: i64,
    last_at: Millis,
}

impl Scorecard {
    /// A score for `campaign`, whose calls are answered in `queue`.
    pub fn new(campaign: CampaignId, queue: QueueId, rule: WindowRule) -> Self {
        Scorecard {
            campaign,
            queue,
            rule,
            days: BTreeMap::new(),
            worst: None,
            dials: 0,
            talk_s: 0.0,
            connected: 0,
            agents: HashMap::new(),
            staffed_ms: 0,
            last_at: 0,
        }
    }

    fn day_of(&self, at: Millis) -> i64 {
        (at + self.rule.utc_offset_ms).div_euclid(DAY)
    }

    /// Counts one event of the simulation.
    pub fn observe(&mut self, timed: &Timed) {
        self.last_at = self.last_at.max(timed.at);
        match &timed.event {
            SimEvent::Dial { campaign, .. } if *campaign == self.campaign => self.dials += 1,
            SimEvent::DialAnswered {
                campaign,
                machine: false,
                ..
            } if *campaign == self.campaign => self.count(timed.at, 1, 0),
            SimEvent::Abandon {
                queue,
                dropped: true,
                ..
            } if *queue == self.queue => self.count(timed.at, 0, 1),
            SimEvent::Complete { queue, talk_s, .. } if *queue == self.queue => {
                self.connected += 1;
                self.talk_s += *talk_s as f64;
            }
            SimEvent::MemberAdded { agent, queue } if *queue == self.queue => {
                self.staff(*agent, timed.at, |s| s.member = true);
            }
            SimEvent::MemberRemoved { agent, queue } if *queue == self.queue => {
                self.staff(*agent, timed.at, |s| s.member = false);
            }
            SimEvent::Pause { agent, paused, .. } => {
                let paused = *paused;
                self.staff(*agent, timed.at, |s| s.paused = paused);
            }
            _ => {}
        }
    }

    fn staff(&mut self, agent: AgentId, at: Millis, change: impl FnOnce(&mut Staffing)) {
        let staffing = self.agents.entry(agent).or_default();
        if staffing.staffed() {
            self.staffed_ms += at - staffing.since;
        }
        change(staffing);
        staffing.since = at;
    }

    fn count(&mut self, at: Millis, answers: u64, drops: u64) {
        let day = self.day_of(at);
        let today = self.days.entry(day).or_default();
        today.0 += answers;
        today.1 += drops;
        let (answered, dropped) = self
            .days
            .range(day - self.rule.days + 1..=day)
            .fold((0, 0), |(a, d), (_, (da, dd))| (a + da, d + dd));
        if answered >= self.rule.min_answers {
            let rate = dropped as f64 / answered as f64;
            self.worst = Some(self.worst.map_or(rate, |w| w.max(rate)));
        }
    }

    /// The score so far (agents still staffed count until the last event).
    pub fn score(&self) -> Score {
        let open: i64 = self
            .agents
            .values()
            .filter(|s| s.staffed())
            .map(|s| self.last_at - s.since)
            .sum();
        let staffed_s = (self.staffed_ms + open) as f64 / 1000.0;
        let (live_answers, dropped) = self
            .days
            .values()
            .fold((0, 0), |(a, d), (da, dd)| (a + da, d + dd));
        Score {
            dials: self.dials,
            live_answers,
            dropped,
            worst_window: self.worst,
            talk_occupancy: if staffed_s > 0.0 {
                self.talk_s / staffed_s
            } else {
                0.0
            },
            calls_per_agent_hour: if staffed_s > 0.0 {
                self.connected as f64 / (staffed_s / 3600.0)
            } else {
                0.0
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: i64, event: SimEvent) -> Timed {
        Timed {
            at: s * 1000,
            event,
        }
    }

    #[test]
    fn the_window_is_judged_once_it_holds_enough_answers() {
        let (campaign, queue) = (CampaignId(0), QueueId(0));
        let rule = WindowRule {
            days: 2,
            min_answers: 3,
            utc_offset_ms: 0,
        };
        let mut card = Scorecard::new(campaign, queue, rule);
        let answer = |s| {
            at(
                s,
                SimEvent::DialAnswered {
                    call: crate::sim::CallId(0),
                    campaign,
                    machine: false,
                },
            )
        };
        let drop = |s| {
            at(
                s,
                SimEvent::Abandon {
                    call: crate::sim::CallId(0),
                    queue,
                    position: 1,
                    orig_position: 1,
                    wait_s: 2,
                    wait_ms: 2000,
                    dropped: true,
                },
            )
        };
        // Day 0: answer, drop (1 of 1, not judged), answer, answer → 1/3.
        for e in [answer(10), drop(12), answer(20), answer(30)] {
            card.observe(&e);
        }
        assert_eq!(card.score().worst_window, Some(1.0 / 3.0));
        // Day 1: 3 answers, no drop → window 1/6; the worst stays 1/3.
        for s in [86_410, 86_420, 86_430] {
            card.observe(&answer(s));
        }
        // Day 2: the window (days 1–2) forgets day 0's drop.
        for s in [172_810, 172_820] {
            card.observe(&answer(s));
        }
        card.observe(&drop(172_830));
        let score = card.score();
        assert_eq!(score.worst_window, Some(1.0 / 3.0));
        assert_eq!((score.live_answers, score.dropped), (8, 2));
        assert!((score.pooled_rate() - 0.25).abs() < 1e-12);
    }

    #[test]
    fn staffed_time_is_logged_in_and_not_paused() {
        let (campaign, queue, agent) = (CampaignId(0), QueueId(0), AgentId(0));
        let mut card = Scorecard::new(campaign, queue, WindowRule::default());
        card.observe(&at(0, SimEvent::MemberAdded { agent, queue }));
        card.observe(&at(
            1_000,
            SimEvent::Pause {
                agent,
                paused: true,
                reason: "Lunch".into(),
            },
        ));
        card.observe(&at(
            1_600,
            SimEvent::Pause {
                agent,
                paused: false,
                reason: String::new(),
            },
        ));
        card.observe(&at(
            3_600,
            SimEvent::Complete {
                call: crate::sim::CallId(1),
                queue,
                agent,
                hold_s: 0,
                talk_s: 600,
                orig_position: 1,
                by: crate::sim::HungUpBy::Caller,
            },
        ));
        card.observe(&at(4_000, SimEvent::MemberRemoved { agent, queue }));
        // Staffed 1 000 + 2 400 s = 3 400 s; 600 s talked.
        let score = card.score();
        assert!((score.talk_occupancy - 600.0 / 3400.0).abs() < 1e-12);
        assert!((score.calls_per_agent_hour - 3600.0 / 3400.0).abs() < 1e-12);
    }
}
