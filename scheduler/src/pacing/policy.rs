//! How many calls to place now.
//!
//! Predictive: a call placed now is answered by a person with
//! probability `p` after about `ring_s`; it must then reach an agent
//! within the connect window (2 s) or it is abandoned. The agents free by
//! then are those free now, plus those on calls or in wrap-up who finish
//! within `ring_s + window` (each finishes at a rate of one per mean
//! remaining time). Callers already waiting in the queue take the first
//! of them; calls answered and still in answering-machine detection come
//! next (each a person with the campaign's human share). With `n` more
//! calls, the live answers `X` are Binomial(in flight + n, p) plus the
//! detection's Binomial(answering, human share), and the free agents `F`
//! the free ones plus two binomials less the waiting callers; the
//! expected abandons are E[max(0, X − F)], exactly, from their
//! distributions. The policy places the most calls whose
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

/// The free agents at answer time left for the campaign's answers: free
/// now plus those who finish, less the callers already waiting.
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
    // The waiting callers take the first agents: F − W, at least 0.
    let waiting = (floor.calls_waiting as usize).min(free.len() - 1);
    let taken: f64 = free[..=waiting].iter().sum();
    let mut left = vec![taken];
    left.extend_from_slice(&free[waiting + 1..]);
    left
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

/// The answers already committed: calls in detection that prove people.
#[derive(Debug, Clone)]
struct Committed {
    /// Their distribution.
    pmf: Vec<f64>,
    /// Their mean.
    mean: f64,
}

impl Committed {
    fn of(floor: &Floor, rates: &Rates) -> Self {
        let h = rates.human_share.clamp(0.0, 1.0);
        Committed {
            pmf: binomial(floor.calls_answering, h),
            mean: f64::from(floor.calls_answering) * h,
        }
    }
}

/// Projected abandon rate with `lines` calls in flight at answer rate `p`
/// and the `committed` answers ahead of them.
fn projected(lines: u32, p: f64, committed: &Committed, g: &[f64]) -> f64 {
    let answers = f64::from(lines) * p + committed.mean;
    if answers <= 0.0 {
        return 0.0;
    }
    let x = convolve(&binomial(lines, p), &committed.pmf);
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
    // Free agents the waiting callers and the calls in detection leave.
    let unclaimed = floor
        .agents_free
        .saturating_sub(floor.calls_waiting + floor.calls_answering);
    let calls = match mode {
        Mode::Preview => 0,
        Mode::Progressive => unclaimed.saturating_sub(in_flight).min(room),
        Mode::Power { ratio } => {
            let ratio = ratio.clamp(0.0, caps.max_ratio);
            ((ratio * f64::from(unclaimed)).ceil() as u32)
                .saturating_sub(in_flight)
                .min(room)
        }
        Mode::Predictive => {
            let p = rates.live_answer.clamp(0.0, 1.0);
            let p_high = (p + budget.confidence_z * rates.live_answer_se).clamp(p, 1.0);
            let committed = Committed::of(floor, rates);
            let most = (in_flight + room + floor.calls_answering) as usize + 1;
            let g = shortfall_by_answers(&free, most);
            let mut best = 0;
            for n in 1..=room {
                if projected(in_flight + n, p_high, &committed, &g) > allowed {
                    break;
                }
                best = n;
            }
            decision.projected_abandon = projected(in_flight + best, p, &committed, &g);
            decision.projected_abandon_upper = projected(in_flight + best, p_high, &committed, &g);
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
        let none = Committed {
            pmf: vec![1.0],
            mean: 0.0,
        };
        assert!((projected(2, 0.5, &none, &g) - 0.25).abs() < 1e-12);
        // One call in detection, a person at 0.5, ahead of one line at 0.5
        // with one agent: answers 0, 1, 2 with ¼, ½, ¼ → 0.25 abandons of
        // 1 expected answer.
        let one = Committed {
            pmf: vec![0.5, 0.5],
            mean: 0.5,
        };
        assert!((projected(1, 0.5, &one, &g) - 0.25).abs() < 1e-12);
    }

    #[test]
    fn waiting_callers_and_calls_in_detection_take_agents_first() {
        let rates = Rates {
            live_answer: 0.3,
            live_answer_se: 0.0,
            ring_s: 10.0,
            talk_s: 1e9,
            wrap_s: 0.0,
            human_share: 1.0,
        };
        let budget = Budget {
            target: 0.03,
            answered: 1000.0,
            dropped: 0.0,
            expected_answers_ahead: 1000.0,
            margin: 0.1,
            confidence_z: 0.0,
        };
        let caps = Caps {
            max_lines: 100,
            max_ratio: 10.0,
        };
        let open = Floor {
            agents_free: 4,
            ..Floor::default()
        };
        let calls = |floor: &Floor| decide(Mode::Predictive, floor, &rates, &budget, &caps).calls;
        let free4 = calls(&open);
        assert!(free4 >= 4, "{free4}");
        // Two callers waiting leave two agents: as if two were free.
        let waiting = Floor {
            calls_waiting: 2,
            ..open
        };
        let two_free = Floor {
            agents_free: 2,
            ..Floor::default()
        };
        assert_eq!(calls(&waiting), calls(&two_free));
        assert!(calls(&waiting) < free4);
        // Two calls in detection that are people for sure: two agents are
        // spoken for (their answers, served, also count in the rate).
        let answering = Floor {
            calls_answering: 2,
            ..open
        };
        assert!(calls(&answering) < free4);
        let machines = Rates {
            human_share: 0.0,
            ..rates
        };
        let all_machines = decide(Mode::Predictive, &answering, &machines, &budget, &caps).calls;
        assert_eq!(all_machines, free4, "machines claim no agent");
        // Four waiting: none left, nothing to dial.
        let full = Floor {
            calls_waiting: 4,
            ..open
        };
        assert_eq!(calls(&full), 0);
    }
}
