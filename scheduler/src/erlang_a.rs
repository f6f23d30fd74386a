//! Erlang A (M/M/N+M; Palm; Garnett, Mandelbaum and Reiman 2002): callers
//! who wait too long hang up, patience exponential with mean `patience_s`.
//! Stable for any load, so fewer agents than erlangs is allowed.
//!
//! Exact and stable in f64 (see `../shared/wfm/README.md` §1.5.3):
//! - The stationary distribution of the birth–death chain (births λ,
//!   deaths `k·μ` up to N, `N·μ + j·θ` above) is taken relative to state
//!   N: the states up to N weigh 1/B(N, A) (Erlang B's recurrence), the
//!   queue states are walked in log space and normalised by log-sum-exp;
//!   the tail stops once its terms fall below 1e-35 of the mass. No
//!   factorials.
//! - An arrival that finds `j` callers queued is served after `j + 1`
//!   stage events of rates `θ(c + i)`, `c = Nμ/θ`, which gives, with the
//!   regularized incomplete beta `I` and `p = 1 − e^{−θt}`:
//!   `P(served | j) = c/(c+j+1)`,
//!   `P(served, W ≤ t | j) = c/(c+j+1) · I_p(j+1, c+1)`,
//!   `E[W·1{served} | j] = c/(c+j+1) · Σ_{i=0..j} 1/(θ(c+i+1))`,
//!   `P(W > t | j) = (1 − I_p(j+1, c)) · e^{−θt}` (W = min(offered wait, patience)).
//!   `I_p(j+1, ·)` follows j by a one-term recurrence (O(1) per state);
//!   a test checks it against the continued fraction of `special`.
//!
//! The product's service level is [`ErlangA::service_level`]: answered
//! within `t` over all offered calls, which is `interval_stats`'
//! `service_level` when no abandon is counted as short.

/// Calls arriving at a steady rate, handled in `aht_s` on average, by
/// callers who abandon after an exponential patience of mean `patience_s`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AbandonLoad {
    /// Arrival rate, calls per second.
    pub calls_per_s: f64,
    /// Average handle time, seconds.
    pub aht_s: f64,
    /// Mean patience, seconds (infinite: nobody abandons, Erlang C).
    pub patience_s: f64,
}

/// What `N` agents give under an [`AbandonLoad`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ErlangA {
    /// P(W > 0): an arrival finds every agent busy.
    pub wait_probability: f64,
    /// P(Ab): an arrival abandons.
    pub abandon_probability: f64,
    /// Mean wait over all arrivals (abandoners until they hang up), seconds.
    pub mean_wait_s: f64,
    /// Mean wait of answered calls (ASA as an ACD reports it), seconds.
    pub asa_s: f64,
    /// Answered within `t`, over all arrivals (the product's service level).
    pub service_level: f64,
    /// Answered within `t`, over answered calls.
    pub service_level_answered: f64,
    /// P(W ≤ t) with abandoners counted at the time they hang up.
    pub wait_within: f64,
    /// Share of agents' time on calls (carried load ÷ N).
    pub occupancy: f64,
}

impl AbandonLoad {
    /// Endless patience: Erlang C (no steady state when the agents do not
    /// exceed the load: everyone waits, without end).
    fn without_abandonment(&self, agents: u32, threshold_s: f64) -> ErlangA {
        let load = crate::erlang::Load {
            erlangs: self.erlangs(),
            aht_s: self.aht_s,
        };
        match (load.wait_probability(agents), load.asa_s(agents)) {
            (Some(wait_probability), Some(asa_s)) => {
                let service_level = load.service_level(agents, threshold_s).unwrap_or(0.0);
                ErlangA {
                    wait_probability,
                    abandon_probability: 0.0,
                    mean_wait_s: asa_s,
                    asa_s,
                    service_level,
                    service_level_answered: service_level,
                    wait_within: service_level,
                    occupancy: load.occupancy(agents),
                }
            }
            _ => ErlangA {
                wait_probability: 1.0,
                abandon_probability: 0.0,
                mean_wait_s: f64::INFINITY,
                asa_s: f64::INFINITY,
                service_level: 0.0,
                service_level_answered: 0.0,
                wait_within: 0.0,
                occupancy: 1.0,
            },
        }
    }
}

impl ErlangA {
    /// Every call answered at once, agents busy `occupancy` of the time.
    fn nobody_waits(occupancy: f64) -> Self {
        ErlangA {
            wait_probability: 0.0,
            abandon_probability: 0.0,
            mean_wait_s: 0.0,
            asa_s: 0.0,
            service_level: 1.0,
            service_level_answered: 1.0,
            wait_within: 1.0,
            occupancy,
        }
    }
}

/// `ln(1e-35)`: tail terms below this share of the largest are dropped.
const NEGLIGIBLE: f64 = -80.590_486_6;

impl AbandonLoad {
    /// The load of `calls` arriving over `period_s` seconds.
    pub fn from_calls(calls: f64, period_s: f64, aht_s: f64, patience_s: f64) -> Self {
        AbandonLoad {
            calls_per_s: calls / period_s,
            aht_s,
            patience_s,
        }
    }

    /// Offered load in erlangs.
    pub fn erlangs(&self) -> f64 {
        self.calls_per_s * self.aht_s
    }

    /// The queue's steady state with `agents` agents, for threshold
    /// `threshold_s`.
    pub fn evaluate(&self, agents: u32, threshold_s: f64) -> ErlangA {
        let lambda = self.calls_per_s;
        let (mu, theta) = (1.0 / self.aht_s, 1.0 / self.patience_s);
        let n = f64::from(agents);
        if lambda <= 0.0 {
            return ErlangA::nobody_waits(0.0);
        }
        if self.patience_s.is_infinite() {
            return self.without_abandonment(agents, threshold_s);
        }
        if agents == 0 {
            // Nobody answers: every caller waits out its patience.
            return ErlangA {
                wait_probability: 1.0,
                abandon_probability: 1.0,
                mean_wait_s: self.patience_s,
                asa_s: 0.0,
                service_level: 0.0,
                service_level_answered: 0.0,
                wait_within: -(-theta * threshold_s).exp_m1(),
                occupancy: 0.0,
            };
        }
        // Weights relative to state N (all agents busy, nobody queued):
        // the states up to N weigh 1/B(N, A) together (Erlang B, by its
        // recurrence), the queue states j ≥ 1 weigh
        // r_j = Π_{i=1..j} λ/(Nμ + iθ), walked in log space.
        let blocking = crate::erlang::Load {
            erlangs: self.erlangs(),
            aht_s: self.aht_s,
        }
        .blocking(agents);
        if blocking < f64::MIN_POSITIVE {
            // So many agents that all busy is below f64's range: nobody waits.
            return ErlangA::nobody_waits(self.erlangs() / n);
        }
        let ln_head = -blocking.ln(); // ln(Σ_{k≤N} w_k / w_N)
        let ln_lambda = lambda.ln();
        // ln r_j for j = 0, 1, … through `visit`; walked twice (normaliser,
        // then sums), so nothing is stored. Stops once the terms fall
        // below 1e-35 of the largest mass and keep falling.
        let walk = |visit: &mut dyn FnMut(u64, f64)| {
            let (mut lr, mut peak) = (0.0f64, ln_head);
            visit(0, 0.0);
            let mut j: u64 = 0;
            loop {
                j += 1;
                let death = n * mu + j as f64 * theta;
                lr += ln_lambda - death.ln();
                peak = peak.max(lr);
                visit(j, lr);
                if death > lambda && lr < peak + NEGLIGIBLE {
                    break;
                }
            }
        };
        // ln(Z / w_N) = ln(1/B + Σ_{j≥1} r_j), by streaming log-sum-exp.
        let (mut max, mut sum) = (ln_head, 1.0);
        walk(&mut |j, lr| {
            if j == 0 {
                return; // w_N is inside 1/B
            }
            if lr > max {
                sum = sum * (max - lr).exp() + 1.0;
                max = lr;
            } else {
                sum += (lr - max).exp();
            }
        });
        let ln_total = max + sum.ln();
        // The free states k < N: (1/B − 1) of w_N.
        let free = ((-blocking).ln_1p() + ln_head - ln_total).exp();

        let c = n * mu / theta;
        let p = -(-theta * threshold_s).exp_m1();
        let survive = (-theta * threshold_s).exp();
        // I_p(j+1, c+1) and I_p(j+1, c) for j = 0, 1, … by the recurrence
        // I_p(a+1, b) = I_p(a, b) − T(a), T(a) = Γ(a+b)/(Γ(a+1)Γ(b))·p^a(1−p)^b,
        // T(a+1) = T(a)·p·(a+b)/(a+1), with T in log space (it underflows
        // for large b long before it matters).
        let (ln_p, ln_q) = (p.ln(), (-p).ln_1p());
        let first = |b: f64| (-(b * ln_q).exp_m1(), b.ln() + ln_p + b * ln_q);
        let mut served_by_t = first(c + 1.0); // (I_p(j+1, c+1), ln T(j+1))
        let mut offered_by_t = first(c); // (I_p(j+1, c), ln T(j+1))
        let (mut waiting, mut abandon, mut served_wait, mut served_within, mut late) =
            (0.0, 0.0, 0.0, 0.0, 0.0);
        let mut wait_sum = 0.0; // Σ_{i=0..j} 1/(θ(c+i+1))
        walk(&mut |j, lr| {
            let pi = (lr - ln_total).exp();
            let j = j as f64;
            wait_sum += 1.0 / (theta * (c + j + 1.0));
            let served = c / (c + j + 1.0);
            waiting += pi;
            abandon += pi * (1.0 - served);
            served_wait += pi * served * wait_sum;
            served_within += pi * served * served_by_t.0.clamp(0.0, 1.0);
            late += pi * (1.0 - offered_by_t.0.clamp(0.0, 1.0)) * survive;
            let a = j + 1.0;
            for (by_t, b) in [(&mut served_by_t, c + 1.0), (&mut offered_by_t, c)] {
                by_t.0 -= by_t.1.exp();
                by_t.1 += ln_p + (a + b).ln() - (a + 1.0).ln();
            }
        });
        let answered = 1.0 - abandon;
        let service_level = free + served_within;
        ErlangA {
            wait_probability: waiting,
            abandon_probability: abandon,
            mean_wait_s: abandon / theta,
            asa_s: if answered > 0.0 {
                served_wait / answered
            } else {
                0.0
            },
            service_level,
            service_level_answered: if answered > 0.0 {
                service_level / answered
            } else {
                0.0
            },
            wait_within: 1.0 - late,
            // Carried load over agents (rounding can pass 1 in overload).
            occupancy: (self.erlangs() * answered / n).min(1.0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::special::beta_reg;

    /// The recurrence behind `evaluate` against the continued fraction,
    /// including a large `b` where `(1 − p)^b` underflows.
    #[test]
    fn the_incomplete_beta_recurrence_matches_the_continued_fraction() {
        for &(b, p) in &[(23.3f64, 0.064f64), (1_500.0, 0.01), (100_000.0, 0.064)] {
            let (ln_p, ln_q) = (p.ln(), (-p).ln_1p());
            let (mut i, mut ln_t) = (-(b * ln_q).exp_m1(), b.ln() + ln_p + b * ln_q);
            for a in 1..12_000u32 {
                let a = f64::from(a);
                if a as u32 % 97 == 1 {
                    let exact = beta_reg(a, b, p);
                    // Both carry ~1e-12 at b = 1e5 (the continued fraction
                    // through ln B, the recurrence through its running sum).
                    assert!((i - exact).abs() < 1e-10, "I_{p}({a}, {b}): {i} vs {exact}");
                }
                i -= ln_t.exp();
                ln_t += ln_p + (a + b).ln() - (a + 1.0).ln();
            }
        }
    }
}

/// The test oracle of the incomplete-beta recurrence.
#[cfg(test)]
mod special;
