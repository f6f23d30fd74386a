//! Rolling estimators that adapt within minutes: each observation's
//! weight halves every `half_life_s` seconds, so an answer rate that
//! drops at 17:00 is followed within a few half-lives. Each estimator
//! also reports its uncertainty (the effective number of observations
//! behind it), which the policy turns into a safety margin.

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
    fn a_mean_starts_at_its_prior_and_moves_to_the_data() {
        let mut talk = RollingMean::new(600.0, 120.0, 5.0);
        assert_eq!(talk.mean(), 120.0);
        for s in 0..200 {
            talk.observe(f64::from(s), 60.0);
        }
        assert!((talk.mean() - 60.0).abs() < 2.0, "{}", talk.mean());
    }
}
