//! Pacers driven second by second, for the evaluation: queuelake's
//! policy behind rolling estimators and a 30-day budget, and the
//! comparison pacers — a Vicidial-style adaptive pacer (drop % since
//! midnight, `ADAPT_AVERAGE` steering with `ADAPT_HARD_LIMIT`), a ratio
//! controller stepping ±0.1 a minute on the last ten minutes, and
//! progressive 1:1.

use std::collections::VecDeque;

use super::estimate::DialEstimator;
pub use super::estimate::Outcome;
use super::{Budget, Caps, Floor, Mode, decide};

/// A pacer: calls to place each second, and what it hears back.
pub trait Pacer {
    /// Its name in the evaluation's table.
    fn name(&self) -> &str;
    /// Calls to place now.
    fn calls(&mut self, now_s: f64, floor: &Floor) -> u32;
    /// An outcome at `now_s`.
    fn observe(&mut self, now_s: f64, outcome: Outcome);
}

/// Live answers and drops per day over the last 30 days.
#[derive(Debug, Clone, Default)]
struct DailyWindow {
    days: VecDeque<(i64, f64, f64)>,
}

impl DailyWindow {
    const DAYS: i64 = 30;

    fn add(&mut self, now_s: f64, answered: f64, dropped: f64) {
        let day = (now_s / 86_400.0).floor() as i64;
        match self.days.back_mut() {
            Some((d, a, x)) if *d == day => {
                *a += answered;
                *x += dropped;
            }
            _ => self.days.push_back((day, answered, dropped)),
        }
        while self
            .days
            .front()
            .is_some_and(|(d, _, _)| *d <= day - Self::DAYS)
        {
            self.days.pop_front();
        }
    }

    /// (answered, dropped) in the window ending at `now_s`.
    fn totals(&self, now_s: f64) -> (f64, f64) {
        let day = (now_s / 86_400.0).floor() as i64;
        self.days
            .iter()
            .filter(|(d, _, _)| *d > day - Self::DAYS)
            .fold((0.0, 0.0), |(a, x), (_, da, dx)| (a + da, x + dx))
    }

    /// Mean live answers per day that had any.
    fn answers_per_day(&self) -> f64 {
        let busy: Vec<f64> = self
            .days
            .iter()
            .map(|(_, a, _)| *a)
            .filter(|a| *a > 0.0)
            .collect();
        if busy.is_empty() {
            0.0
        } else {
            busy.iter().sum::<f64>() / busy.len() as f64
        }
    }
}

/// queuelake's predictive policy with its estimators and budget.
pub struct QueuelakePacer {
    estimates: DialEstimator,
    wrap_s: f64,
    window: DailyWindow,
    target: f64,
    caps: Caps,
}

impl QueuelakePacer {
    /// A pacer for `target` (0.03) with `wrap_s` of after-call work.
    pub fn new(target: f64, wrap_s: f64, caps: Caps) -> Self {
        QueuelakePacer {
            estimates: DialEstimator::default(),
            wrap_s,
            window: DailyWindow::default(),
            target,
            caps,
        }
    }
}

impl Pacer for QueuelakePacer {
    fn name(&self) -> &str {
        "queuelake (predictive)"
    }

    fn calls(&mut self, now_s: f64, floor: &Floor) -> u32 {
        let rates = self.estimates.rates(now_s, self.wrap_s);
        let (answered, dropped) = self.window.totals(now_s);
        let budget = Budget {
            target: self.target,
            answered,
            dropped,
            expected_answers_ahead: self.window.answers_per_day().max(100.0),
            margin: 0.1,
            confidence_z: 1.645,
        };
        decide(Mode::Predictive, floor, &rates, &budget, &self.caps).calls
    }

    fn observe(&mut self, now_s: f64, outcome: Outcome) {
        self.estimates.observe(now_s, outcome);
        match outcome {
            Outcome::Live { .. } => self.window.add(now_s, 1.0, 0.0),
            Outcome::Dropped => self.window.add(now_s, 0.0, 1.0),
            _ => {}
        }
    }
}

/// Lines per free agent, less the calls already out for them (dialing,
/// in detection or waiting in the queue), as a dialer counting its own
/// live calls does.
fn by_ratio(ratio: f64, floor: &Floor, caps: &Caps) -> u32 {
    let lines = ((ratio * f64::from(floor.agents_free)).ceil() as u32).min(caps.max_lines);
    lines.saturating_sub(floor.calls_in_flight + floor.calls_answering + floor.calls_waiting)
}

/// Progressive 1:1: one call per free agent no call is out for yet
/// (queuelake's progressive mode).
pub struct ProgressivePacer {
    caps: Caps,
}

impl ProgressivePacer {
    /// Under `caps`.
    pub fn new(caps: Caps) -> Self {
        ProgressivePacer { caps }
    }
}

impl Pacer for ProgressivePacer {
    fn name(&self) -> &str {
        "progressive 1:1"
    }

    fn calls(&mut self, _now_s: f64, floor: &Floor) -> u32 {
        let rates = DialEstimator::default().rates(0.0, 0.0);
        let budget = Budget {
            target: 0.03,
            answered: 0.0,
            dropped: 0.0,
            expected_answers_ahead: 0.0,
            margin: 0.0,
            confidence_z: 0.0,
        };
        decide(Mode::Progressive, floor, &rates, &budget, &self.caps).calls
    }

    fn observe(&mut self, _now_s: f64, _outcome: Outcome) {}
}

/// Vicidial-style adaptive pacing: the dial level moves every 15 s toward
/// the drop target by the drop % since local midnight, and falls to 1.0
/// while that % is at or above the target (`ADAPT_HARD_LIMIT`).
pub struct AdaptivePacer {
    ratio: f64,
    today: (i64, f64, f64),
    next_step_s: f64,
    target: f64,
    caps: Caps,
}

impl AdaptivePacer {
    /// Starting at 1.5 lines per free agent.
    pub fn new(target: f64, caps: Caps) -> Self {
        AdaptivePacer {
            ratio: 1.5,
            today: (i64::MIN, 0.0, 0.0),
            next_step_s: 0.0,
            target,
            caps,
        }
    }

    fn roll_day(&mut self, now_s: f64) {
        let day = (now_s / 86_400.0).floor() as i64;
        if self.today.0 != day {
            self.today = (day, 0.0, 0.0);
        }
    }
}

impl Pacer for AdaptivePacer {
    fn name(&self) -> &str {
        "Vicidial-style adaptive (hard limit)"
    }

    fn calls(&mut self, now_s: f64, floor: &Floor) -> u32 {
        self.roll_day(now_s);
        if now_s >= self.next_step_s {
            self.next_step_s = now_s + 15.0;
            let (_, answered, dropped) = self.today;
            let rate = if answered >= 10.0 {
                dropped / answered
            } else {
                0.0
            };
            let error = ((self.target - rate) / self.target).clamp(-1.0, 1.0);
            self.ratio = (self.ratio + 0.1 * error).clamp(1.0, self.caps.max_ratio);
            if rate >= self.target {
                self.ratio = 1.0;
            }
        }
        by_ratio(self.ratio, floor, &self.caps)
    }

    fn observe(&mut self, now_s: f64, outcome: Outcome) {
        self.roll_day(now_s);
        match outcome {
            Outcome::Live { .. } => self.today.1 += 1.0,
            Outcome::Dropped => self.today.2 += 1.0,
            _ => {}
        }
    }
}

/// A ratio controller: every minute, −0.1 if the last ten minutes'
/// abandon rate is above the target, else +0.1.
pub struct StepPacer {
    ratio: f64,
    recent: VecDeque<(f64, bool)>,
    next_step_s: f64,
    target: f64,
    caps: Caps,
}

impl StepPacer {
    /// Starting at 1.5 lines per free agent.
    pub fn new(target: f64, caps: Caps) -> Self {
        StepPacer {
            ratio: 1.5,
            recent: VecDeque::new(),
            next_step_s: 0.0,
            target,
            caps,
        }
    }
}

impl Pacer for StepPacer {
    fn name(&self) -> &str {
        "±0.1 ratio steps"
    }

    fn calls(&mut self, now_s: f64, floor: &Floor) -> u32 {
        while self.recent.front().is_some_and(|(t, _)| *t < now_s - 600.0) {
            self.recent.pop_front();
        }
        if now_s >= self.next_step_s {
            self.next_step_s = now_s + 60.0;
            let answered = self.recent.len() as f64;
            let dropped = self.recent.iter().filter(|(_, d)| *d).count() as f64;
            let rate = if answered > 0.0 {
                dropped / answered
            } else {
                0.0
            };
            let step = if rate > self.target { -0.1 } else { 0.1 };
            self.ratio = (self.ratio + step).clamp(1.0, self.caps.max_ratio);
        }
        by_ratio(self.ratio, floor, &self.caps)
    }

    fn observe(&mut self, now_s: f64, outcome: Outcome) {
        match outcome {
            Outcome::Live { .. } => self.recent.push_back((now_s, false)),
            Outcome::Dropped => {
                // The drop's answer is already counted: mark the latest
                // undropped answer as dropped.
                if let Some(last) = self.recent.iter_mut().rev().find(|(_, d)| !*d) {
                    last.1 = true;
                }
            }
            _ => {}
        }
    }
}
