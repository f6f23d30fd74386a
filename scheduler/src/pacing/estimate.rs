//! Rolling estimators that adapt within minutes: each observation's
//! weight halves every `half_life_s` seconds, so an answer rate that
//! drops at 17:00 is followed within a few half-lives. Each estimator
//! also reports its uncertainty (the effective number of observations
//! behind it), which the policy turns into a safety margin.
//!
//! [`DialEstimator`] is the one set of estimates a campaign is paced on —
//! by `serve` (fed from the lake's events at every refresh) and by the
//! evaluation (fed by the simulation) alike. A dial counts once its
//! outcome is known (answered by a person, by a machine, or ended): a dial
//! still ringing is right-censored, not a failure, so an opening burst
//! does not read as a collapse of the answer rate. Answers resolve sooner
//! than no-answers, so just after a burst the rate reads high — the side
//! that places fewer calls.

use super::Rates;

/// What is learnt about a campaign's calls.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Outcome {
    /// A dial ended without anyone answering (busy, no answer, failed).
    NotLive,
    /// An answering machine answered (the AMD said so).
    Machine,
    /// A person answered after `ring_s`.
    Live {
        /// Seconds from dial to answer.
        ring_s: f64,
    },
    /// A live answer reached no agent within the window.
    Dropped,
    /// A call ended after `talk_s` of talk.
    Talked {
        /// Seconds talked.
        talk_s: f64,
    },
}

/// The half-lives and priors of [`DialEstimator`].
pub mod tuning {
    /// Half-life of the answer rate: a change from 0.15 to 0.40 is
    /// mostly followed within 3 half-lives (15 minutes).
    pub const LIVE_HALF_LIFE_S: f64 = 300.0;
    /// The answer rate assumed before any dial, and its weight in dials.
    pub const PRIOR_LIVE: f64 = 0.2;
    /// Weight of the prior answer rate, in dials.
    pub const PRIOR_DIALS: f64 = 30.0;
    /// Half-life of the ring-time mean.
    pub const RING_HALF_LIFE_S: f64 = 900.0;
    /// Prior ring time, seconds, and its weight.
    pub const PRIOR_RING_S: (f64, f64) = (10.0, 10.0);
    /// Half-life of the talk-time mean.
    pub const TALK_HALF_LIFE_S: f64 = 1800.0;
    /// Prior talk time, seconds, and its weight.
    pub const PRIOR_TALK_S: (f64, f64) = (180.0, 10.0);
    /// Prior share of answers that are machines, and its weight; a call
    /// answered and still in detection is a person with 1 − that share.
    pub const PRIOR_MACHINE: (f64, f64) = (0.0, 10.0);
    /// Events older than this many seconds weigh under 1/16 of a new one
    /// in every estimate: history to replay, at most.
    pub const LOOKBACK_S: f64 = 4.0 * TALK_HALF_LIFE_S;
}

/// A campaign's rolling estimates, fed with [`Outcome`]s.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DialEstimator {
    live: RollingRate,
    machine: RollingRate,
    ring: RollingMean,
    talk: RollingMean,
}

impl Default for DialEstimator {
    fn default() -> Self {
        use tuning::*;
        DialEstimator {
            live: RollingRate::new(LIVE_HALF_LIFE_S, PRIOR_LIVE, PRIOR_DIALS),
            machine: RollingRate::new(LIVE_HALF_LIFE_S, PRIOR_MACHINE.0, PRIOR_MACHINE.1),
            ring: RollingMean::new(RING_HALF_LIFE_S, PRIOR_RING_S.0, PRIOR_RING_S.1),
            talk: RollingMean::new(TALK_HALF_LIFE_S, PRIOR_TALK_S.0, PRIOR_TALK_S.1),
        }
    }
}

impl DialEstimator {
    /// Learns `outcome`, known at `now_s` (feed in time order).
    pub fn observe(&mut self, now_s: f64, outcome: Outcome) {
        match outcome {
            Outcome::NotLive => self.live.observe(now_s, false),
            Outcome::Machine => {
                self.live.observe(now_s, false);
                self.machine.observe(now_s, true);
            }
            Outcome::Live { ring_s } => {
                self.live.observe(now_s, true);
                self.machine.observe(now_s, false);
                self.ring.observe(now_s, ring_s);
            }
            Outcome::Dropped => {}
            Outcome::Talked { talk_s } => self.talk.observe(now_s, talk_s),
        }
    }

    /// The rates at `now_s`, with `wrap_s` of after-call work.
    pub fn rates(&self, now_s: f64, wrap_s: f64) -> Rates {
        let (live_answer, live_answer_se) = self.live.estimate(now_s);
        let (machine, _) = self.machine.estimate(now_s);
        Rates {
            live_answer,
            live_answer_se,
            ring_s: self.ring.mean(),
            talk_s: self.talk.mean(),
            wrap_s,
            human_share: 1.0 - machine,
        }
    }

    /// Dials behind the answer rate at `now_s` (the prior's included).
    pub fn dials(&self, now_s: f64) -> f64 {
        self.live.weight(now_s)
    }
}

/// A rate (share of trials that succeed) with exponential forgetting.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RollingRate {
    successes: f64,
    trials: f64,
    at_s: f64,
    half_life_s: f64,
    prior_rate: f64,
    prior_weight: f64,
}

impl RollingRate {
    /// A rate starting from `prior_rate` worth `prior_weight` trials.
    pub fn new(half_life_s: f64, prior_rate: f64, prior_weight: f64) -> Self {
        RollingRate {
            successes: 0.0,
            trials: 0.0,
            at_s: f64::NEG_INFINITY,
            half_life_s: half_life_s.max(1.0),
            prior_rate: prior_rate.clamp(0.0, 1.0),
            prior_weight: prior_weight.max(0.0),
        }
    }

    fn decay_to(&mut self, now_s: f64) {
        if self.at_s.is_finite() && now_s > self.at_s {
            let keep = 0.5f64.powf((now_s - self.at_s) / self.half_life_s);
            self.successes *= keep;
            self.trials *= keep;
        }
        if now_s > self.at_s || !self.at_s.is_finite() {
            self.at_s = now_s;
        }
    }

    /// Records one trial at `now_s`.
    pub fn observe(&mut self, now_s: f64, success: bool) {
        self.decay_to(now_s);
        self.trials += 1.0;
        if success {
            self.successes += 1.0;
        }
    }

    /// The estimate at `now_s`: (rate, standard error).
    pub fn estimate(&self, now_s: f64) -> (f64, f64) {
        let mut at = *self;
        at.decay_to(now_s);
        let n = at.trials + at.prior_weight;
        if n <= 0.0 {
            return (at.prior_rate, 0.5);
        }
        let p = (at.successes + at.prior_rate * at.prior_weight) / n;
        (p, (p * (1.0 - p) / n).sqrt())
    }

    /// Effective trials behind the estimate at `now_s` (prior included).
    pub fn weight(&self, now_s: f64) -> f64 {
        let mut at = *self;
        at.decay_to(now_s);
        at.trials + at.prior_weight
    }
}

/// A mean duration (seconds) with exponential forgetting.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RollingMean {
    sum: f64,
    weight: f64,
    at_s: f64,
    half_life_s: f64,
    prior_mean: f64,
    prior_weight: f64,
}

impl RollingMean {
    /// A mean starting from `prior_mean` worth `prior_weight` observations.
    pub fn new(half_life_s: f64, prior_mean: f64, prior_weight: f64) -> Self {
        RollingMean {
            sum: 0.0,
            weight: 0.0,
            at_s: f64::NEG_INFINITY,
            half_life_s: half_life_s.max(1.0),
            prior_mean: prior_mean.max(0.0),
            prior_weight: prior_weight.max(0.0),
        }
    }

    /// Records one duration at `now_s`.
    pub fn observe(&mut self, now_s: f64, value: f64) {
        if self.at_s.is_finite() && now_s > self.at_s {
            let keep = 0.5f64.powf((now_s - self.at_s) / self.half_life_s);
            self.sum *= keep;
            self.weight *= keep;
        }
        if now_s > self.at_s || !self.at_s.is_finite() {
            self.at_s = now_s;
        }
        if value.is_finite() && value >= 0.0 {
            self.sum += value;
            self.weight += 1.0;
        }
    }

    /// The mean.
    pub fn mean(&self) -> f64 {
        let w = self.weight + self.prior_weight;
        if w <= 0.0 {
            self.prior_mean
        } else {
            (self.sum + self.prior_mean * self.prior_weight) / w
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rate_follows_a_change_within_a_few_half_lives() {
        let mut rate = RollingRate::new(300.0, 0.3, 20.0);
        // An hour at 30 % answered, one dial a second.
        for s in 0..3600 {
            rate.observe(f64::from(s), s % 10 < 3);
        }
        let (p, se) = rate.estimate(3600.0);
        assert!((p - 0.3).abs() < 0.02, "{p}");
        // One dial a second with a 300 s half-life weighs as about
        // 1 / (1 − 2^(−1/300)) ≈ 433 dials, plus the prior's 20.
        let n = rate.weight(3600.0);
        assert!((n - 453.0).abs() < 2.0, "{n}");
        assert!((se - (p * (1.0 - p) / n).sqrt()).abs() < 1e-12, "{se}");
        // Then 10 %: after 15 minutes (3 half-lives) mostly there.
        for s in 3600..4500 {
            rate.observe(f64::from(s), s % 10 == 0);
        }
        let (p, _) = rate.estimate(4500.0);
        assert!((p - 0.1).abs() < 0.04, "{p}");
        // No news: the weight decays, the uncertainty grows.
        let (_, later) = rate.estimate(4500.0 + 3000.0);
        assert!(later > rate.estimate(4500.0).1);
    }

    #[test]
    fn ringing_dials_are_not_failures_and_machines_lower_the_human_share() {
        let mut calls = DialEstimator::default();
        let prior = calls.rates(0.0, 15.0);
        assert_eq!((prior.live_answer, prior.human_share), (0.2, 1.0));
        // A burst of 40 dials: 12 people answer in 5–8 s; the other 28 are
        // still ringing (not observed: censored), so the rate rises.
        for k in 0..12 {
            calls.observe(5.0 + f64::from(k) * 0.25, Outcome::Live { ring_s: 6.0 });
        }
        let early = calls.rates(10.0, 15.0);
        assert!(early.live_answer > 0.2, "{}", early.live_answer);
        // They resolve: 20 ring out, 8 machines. 12 / 40 = 0.3, with the
        // prior's 30 dials at 0.2: (12 + 6) / 70.
        for k in 0..20 {
            calls.observe(30.0 + f64::from(k) * 0.01, Outcome::NotLive);
        }
        for _ in 0..8 {
            calls.observe(31.0, Outcome::Machine);
        }
        let settled = calls.rates(31.0, 15.0);
        assert!(
            (settled.live_answer - 18.0 / 70.0).abs() < 0.01,
            "{}",
            settled.live_answer
        );
        // Machines: 8 of 20 answers, with a prior of 10 answers at 0.
        assert!(
            (settled.human_share - (1.0 - 8.0 / 30.0)).abs() < 0.01,
            "{}",
            settled.human_share
        );
        assert!((settled.ring_s - (10.0 * 10.0 + 12.0 * 6.0) / 22.0).abs() < 0.1);
    }

    #[test]
    fn a_mean_starts_at_its_prior_and_moves_to_the_data() {
        let mut talk = RollingMean::new(600.0, 120.0, 5.0);
        assert_eq!(talk.mean(), 120.0);
        for s in 0..200 {
            talk.observe(f64::from(s), 60.0);
        }
        assert!((talk.mean() - 60.0).abs() < 2.0, "{}", talk.mean());
    }
}
