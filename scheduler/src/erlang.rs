//! Erlang B and Erlang C (M/M/N queue, callers never abandon).
//!
//! Formulas (Erlang 1917; as in Koole, *Call Center Optimization*, ch. 5):
//! - Erlang B by the stable recurrence `B(0) = 1`,
//!   `B(k) = A·B(k−1) / (k + A·B(k−1))`: no factorials, so it holds for
//!   thousands of agents where `A^N / N!` overflows.
//! - Erlang C: `C(N, A) = N·B / (N − A·(1 − B))`, defined for `N > A`.
//! - Service level `SL(t) = P(wait ≤ t) = 1 − C·exp(−(N − A)·t / AHT)`.
//! - ASA (mean wait over all calls) `= C·AHT / (N − A)`.
//!
//! `A` is the offered load in erlangs: calls × AHT ÷ period.

/// A steady offered load: how much work arrives, and how long each call
/// takes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Load {
    /// Offered load in erlangs (calls × AHT ÷ period).
    pub erlangs: f64,
    /// Average handle time, seconds.
    pub aht_s: f64,
}

impl Load {
    /// The load of `calls` arriving over `period_s` seconds, each handled in
    /// `aht_s` seconds on average.
    pub fn from_calls(calls: f64, period_s: f64, aht_s: f64) -> Self {
        Load {
            erlangs: calls * aht_s / period_s,
            aht_s,
        }
    }

    /// Probability that a call is blocked with `agents` servers and no
    /// queue (Erlang B).
    pub fn blocking(&self, agents: u32) -> f64 {
        (1..=agents).fold(1.0, |b, k| self.next_blocking(b, k))
    }

    /// `B(k)` from `B(k − 1)`.
    fn next_blocking(&self, previous: f64, k: u32) -> f64 {
        let a = self.erlangs * previous;
        a / (f64::from(k) + a)
    }

    /// Probability that a call waits (Erlang C); `None` when `agents` do
    /// not exceed the load (the queue grows without bound).
    pub fn wait_probability(&self, agents: u32) -> Option<f64> {
        self.wait_probability_from(agents, self.blocking(agents))
    }

    fn wait_probability_from(&self, agents: u32, blocking: f64) -> Option<f64> {
        let n = f64::from(agents);
        (n > self.erlangs).then(|| n * blocking / (n - self.erlangs * (1.0 - blocking)))
    }

    /// Share of calls answered within `threshold_s` seconds.
    pub fn service_level(&self, agents: u32, threshold_s: f64) -> Option<f64> {
        let c = self.wait_probability(agents)?;
        Some(self.service_level_from(agents, c, threshold_s))
    }

    fn service_level_from(&self, agents: u32, wait_probability: f64, threshold_s: f64) -> f64 {
        let spare = f64::from(agents) - self.erlangs;
        1.0 - wait_probability * (-spare * threshold_s / self.aht_s).exp()
    }

    /// Mean wait over all calls (average speed of answer), seconds.
    pub fn asa_s(&self, agents: u32) -> Option<f64> {
        let c = self.wait_probability(agents)?;
        Some(c * self.aht_s / (f64::from(agents) - self.erlangs))
    }

    /// Share of agents' time on calls.
    pub fn occupancy(&self, agents: u32) -> f64 {
        self.erlangs / f64::from(agents)
    }

    /// The fewest agents that answer `target` of calls within
    /// `threshold_s`, and keep occupancy at or below `max_occupancy`.
    pub fn agents_for_service_level(
        &self,
        target: f64,
        threshold_s: f64,
        max_occupancy: f64,
    ) -> u32 {
        let agents = self.least_agents(1, |agents, c| {
            self.service_level_from(agents, c, threshold_s) >= target
        });
        let for_occupancy = (self.erlangs / max_occupancy).ceil() as u32;
        agents.max(for_occupancy)
    }

    /// The fewest agents, from `from` up, for which `meets(agents, C)`
    /// holds (`C` the probability of waiting; only agents above the load
    /// are tried). One recurrence step per candidate, so the whole search
    /// costs O(answer); `meets` must be monotone in the agents.
    pub fn least_agents(&self, from: u32, mut meets: impl FnMut(u32, f64) -> bool) -> u32 {
        // Erlang C needs more agents than erlangs; f64 → u32 saturates.
        let mut agents = (self.erlangs.floor() as u32)
            .saturating_add(1)
            .max(from)
            .max(1);
        let mut blocking = self.blocking(agents);
        loop {
            if self
                .wait_probability_from(agents, blocking)
                .is_some_and(|c| meets(agents, c))
                || agents == u32::MAX
            {
                return agents;
            }
            agents += 1;
            blocking = self.next_blocking(blocking, agents);
        }
    }
}

/// Agents to schedule so that `required` are on the phones after
/// `shrinkage` (the share of paid time not available for calls).
pub fn scheduled_agents(required: u32, shrinkage: f64) -> u32 {
    (f64::from(required) / (1.0 - shrinkage)).ceil() as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-9 * b.abs().max(1.0)
    }

    /// 100 calls in 30 minutes, AHT 180 s, 80 % in 20 s: the textbook case.
    #[test]
    fn classic_case_needs_fourteen_agents() {
        let load = Load::from_calls(100.0, 1800.0, 180.0);
        assert!(close(load.erlangs, 10.0));
        assert_eq!(load.agents_for_service_level(0.8, 20.0, 1.0), 14);
        assert!(close(load.service_level(14, 20.0).unwrap(), 0.888350019179));
        assert!(load.service_level(13, 20.0).unwrap() < 0.8);
        assert_eq!(scheduled_agents(14, 0.3), 20);
        // Occupancy cap 0.70: 10 erlangs need ceil(10 / 0.7) = 15 agents.
        assert_eq!(load.agents_for_service_level(0.8, 20.0, 0.7), 15);
    }

    #[test]
    fn too_few_agents_have_no_steady_state() {
        let load = Load::from_calls(100.0, 1800.0, 180.0);
        assert_eq!(load.wait_probability(10), None);
        assert_eq!(load.asa_s(9), None);
    }

    #[test]
    fn thousands_of_agents_stay_finite() {
        let load = Load {
            erlangs: 5000.0,
            aht_s: 300.0,
        };
        let c = load.wait_probability(5050).unwrap();
        assert!(c.is_finite() && c > 0.0 && c < 1.0, "C = {c}");
        let agents = load.agents_for_service_level(0.8, 20.0, 1.0);
        assert!((5001..5100).contains(&agents), "{agents}");
    }
}
