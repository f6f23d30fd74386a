//! How many calls to place now.
//!
//! Predictive: a call placed now is answered by a person with
//! probability `p` after about `ring_s`; it must then reach an agent
//! within the connect window (2 s) or it is abandoned. The agents free by
//! then are those free now, plus those on calls or in wrap-up who finish
//! within `ring_s + window` (each finishes at a rate of one per mean
//! remaining time). With `n` more calls, the live answers `X` are
//! Binomial(in flight + n, p) and the free agents `F` the free ones plus
//! two binomials; the expected abandons are E[max(0, X − F)], exactly,
//! from their distributions. The policy places the most calls whose
//! projected abandon rate — computed with the answer rate's upper
//! confidence bound — stays within the allowed rate, which spends the
//! rolling window's budget: ahead of the limit it may dial harder, near it
//! it backs off. Hard caps bound every mode.

use super::{Budget, Caps, Decision, Floor, Mode, Rates};

/// The connect window of the abandon rule, seconds (the 2-second rule).
pub const CONNECT_WINDOW_S: f64 = 2.0;

/// The probability mass function of Binomial(n, p).
fn binomial(n: u32, p: f64) -> Vec<f64> {
    let mut pmf = vec![0.0; n as usize + 1];
    pmf[0] = 1.0;
    for trial in 1..=n as usize {
        for k in (1..=trial).rev() {
            pmf[k] = pmf[k] * (1.0 - p) + pmf[k - 1] * p;
        }
        pmf[0] *= 1.0 - p;
    }
    pmf
}

/// The distribution of a sum of two independent counts.
fn convolve(a: &[f64], b: &[f64]) -> Vec<f64> {
    let mut out = vec![0.0; a.len() + b.len() - 1];
    for (i, x) in a.iter().enumerate() {
        for (j, y) in b.iter().enumerate() {
            out[i + j] += x * y;
        }
    }
    out
}

/// The free agents at answer time: free now plus those who finish.
fn free_agents(floor: &Floor, rates: &Rates) -> Vec<f64> {
    let horizon = rates.ring_s.max(0.0) + CONNECT_WINDOW_S;
    let finish = |mean: f64| {
        if mean <= 0.0 {
            1.0
        } else {
            1.0 - (-horizon / mean).exp()
        }
    };
    let on_call = binomial(floor.agents_on_call, finish(rates.talk_s + rates.wrap_s));
    let wrapup = binomial(floor.agents_wrapup, finish(rates.wrap_s));
    let mut free = vec![0.0; floor.agents_free as usize];
    free.extend(convolve(&on_call, &wrapup));
    free
}

/// `g[x] = E[max(0, x − F)]` for x = 0..len.
fn shortfall_by_answers(free: &[f64], len: usize) -> Vec<f64> {
    (0..len)
        .map(|x| {
            free.iter()
                .enumerate()
                .take(x)
                .map(|(f, p)| p * (x - f) as f64)
                .sum()
        })
        .collect()
}

/// Projected abandon rate with `lines` calls in flight at answer rate `p`.
fn projected(lines: u32, p: f64, g: &[f64]) -> f64 {
    let answers = f64::from(lines) * p;
    if answers <= 0.0 {
        return 0.0;
    }
    let x = binomial(lines, p);
    let abandons: f64 = x.iter().zip(g).map(|(px, gx)| px * gx).sum();
    abandons / answers
}

/// The abandon rate this decision may spend: what keeps the rolling
/// window at `target × (1 − margin)` if the answers expected ahead all
/// come at it. Ahead of the limit it exceeds the target (up to twice);
/// over it, it is zero.
pub fn allowed_rate(budget: &Budget) -> f64 {
    let goal = budget.target * (1.0 - budget.margin);
    let ahead = budget.expected_answers_ahead.max(1.0);
    ((goal * (budget.answered + ahead) - budget.dropped) / ahead).clamp(0.0, 2.0 * budget.target)
}

/// The decision for `mode` on `floor`.
pub fn decide(mode: Mode, floor: &Floor, rates: &Rates, budget: &Budget, caps: &Caps) -> Decision {
    let staffed = floor.agents_free + floor.agents_on_call + floor.agents_wrapup;
    let allowed = allowed_rate(budget);
    let budget_left = budget.target * budget.answered - budget.dropped;
    let mut decision = Decision {
        mode,
        calls: 0,
        ratio: 0.0,
        projected_abandon: 0.0,
        projected_abandon_upper: 0.0,
        allowed_abandon: allowed,
        budget_left,
        expected_free_agents: 0.0,
    };
    if staffed == 0 {
        return decision;
    }
    let free = free_agents(floor, rates);
    let expected_free: f64 = free.iter().enumerate().map(|(k, p)| k as f64 * p).sum();
    decision.expected_free_agents = expected_free;
    let in_flight = floor.calls_in_flight;
    // Most lines the caps allow: max_lines, and max_ratio per agent free
    // now or soon (at least one, so a busy floor can still be primed).
    let ratio_cap = (caps.max_ratio * expected_free.max(1.0)).floor() as u32;
    let line_cap = caps.max_lines.min(ratio_cap);
    let room = line_cap.saturating_sub(in_flight);
    let calls = match mode {
        Mode::Preview => 0,
        Mode::Progressive => floor.agents_free.saturating_sub(in_flight).min(room),
        Mode::Power { ratio } => {
            let ratio = ratio.clamp(0.0, caps.max_ratio);
            ((ratio * f64::from(floor.agents_free)).ceil() as u32)
                .saturating_sub(in_flight)
                .min(room)
        }
        Mode::Predictive => {
            let p = rates.live_answer.clamp(0.0, 1.0);
            let p_high = (p + budget.confidence_z * rates.live_answer_se).clamp(p, 1.0);
            let g = shortfall_by_answers(&free, (in_flight + room) as usize + 1);
            let mut best = 0;
            for n in 1..=room {
                if projected(in_flight + n, p_high, &g) > allowed {
                    break;
                }
                best = n;
            }
            decision.projected_abandon = projected(in_flight + best, p, &g);
            decision.projected_abandon_upper = projected(in_flight + best, p_high, &g);
            best
        }
    };
    decision.calls = calls;
    decision.ratio = f64::from(in_flight + calls) / expected_free.max(1.0);
    decision
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binomials_and_shortfalls_by_hand() {
        let b = binomial(2, 0.5);
        assert_eq!(b, vec![0.25, 0.5, 0.25]);
        // One free agent for sure; two answers: one abandon; one answer: none.
        let g = shortfall_by_answers(&[0.0, 1.0], 3);
        assert_eq!(g, vec![0.0, 0.0, 1.0]);
        // Two lines at p = 0.5 with one agent: E[max(0, X − 1)] = 0.25 of
        // 1 expected answer.
        assert!((projected(2, 0.5, &g) - 0.25).abs() < 1e-12);
    }
}
