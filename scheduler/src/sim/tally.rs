//! The simulation's own interval counts, kept from its events with the
//! KPI definitions of the lake's `interval_stats` view, so the two can be
//! compared: a visit counts in the interval it entered; waits and talk are
//! Asterisk's whole seconds.

use std::collections::{BTreeMap, HashMap};

use super::event::{CallId, Millis, QueueId, SimEvent, Timed};

/// Counts of one queue in one interval.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IntervalCounts {
    /// Visits that entered.
    pub offered: u64,
    /// Visits answered.
    pub answered: u64,
    /// Visits abandoned (outbound drops included).
    pub abandoned: u64,
    /// Abandoned with a wait below the short-abandon threshold.
    pub short_abandoned: u64,
    /// Visits that left on the queue timeout.
    pub timed_out: u64,
    /// Answered with a wait at or below the service-level threshold.
    pub answered_within_sl: u64,
    /// Sum of the waits of answered visits, seconds.
    pub answered_wait_s: i64,
    /// Sum of the talk times of completed visits, seconds.
    pub talk_s: i64,
    /// Longest wait of any visit that left the queue, seconds.
    pub max_wait_s: i64,
}

/// Interval counts per (queue, interval start), built event by event.
#[derive(Debug, Clone)]
pub struct Tally {
    interval_ms: Millis,
    utc_offset_ms: Millis,
    sl_threshold_s: i64,
    short_abandon_s: i64,
    open: HashMap<CallId, (QueueId, Millis)>,
    counts: BTreeMap<(QueueId, Millis), IntervalCounts>,
}

impl Tally {
    /// Counts in `interval_min`-minute intervals of local time (UTC offset
    /// in minutes), with the service-level and short-abandon thresholds.
    pub fn new(
        interval_min: u32,
        utc_offset_min: i32,
        sl_threshold_s: i64,
        short_abandon_s: i64,
    ) -> Self {
        Tally {
            interval_ms: Millis::from(interval_min.max(1)) * 60_000,
            utc_offset_ms: Millis::from(utc_offset_min) * 60_000,
            sl_threshold_s,
            short_abandon_s,
            open: HashMap::new(),
            counts: BTreeMap::new(),
        }
    }

    /// Takes one event into account.
    pub fn record(&mut self, timed: &Timed) {
        let at_second = timed.at.div_euclid(1000) * 1000;
        match &timed.event {
            SimEvent::CallerJoin { call, queue, .. } => {
                let local = at_second + self.utc_offset_ms;
                let start = local - local.rem_euclid(self.interval_ms) - self.utc_offset_ms;
                self.open.insert(*call, (*queue, start));
                self.counts.entry((*queue, start)).or_default().offered += 1;
            }
            SimEvent::Connect { call, hold_s, .. } => {
                let (sl, hold) = (self.sl_threshold_s, *hold_s);
                if let Some(c) = self.entry(*call) {
                    c.answered += 1;
                    c.answered_wait_s += hold;
                    c.max_wait_s = c.max_wait_s.max(hold);
                    c.answered_within_sl += u64::from(hold <= sl);
                }
            }
            SimEvent::Complete { call, talk_s, .. } => {
                let talk = *talk_s;
                if let Some(c) = self.entry(*call) {
                    c.talk_s += talk;
                }
            }
            SimEvent::Abandon { call, wait_s, .. } => {
                let (short, wait) = (self.short_abandon_s, *wait_s);
                if let Some(c) = self.entry(*call) {
                    c.abandoned += 1;
                    c.short_abandoned += u64::from(wait < short);
                    c.max_wait_s = c.max_wait_s.max(wait);
                }
            }
            SimEvent::ExitTimeout { call, wait_s, .. } => {
                let wait = *wait_s;
                if let Some(c) = self.entry(*call) {
                    c.timed_out += 1;
                    c.max_wait_s = c.max_wait_s.max(wait);
                }
            }
            SimEvent::Hangup { call } => {
                self.open.remove(call);
            }
            _ => {}
        }
    }

    fn entry(&mut self, call: CallId) -> Option<&mut IntervalCounts> {
        let key = *self.open.get(&call)?;
        self.counts.get_mut(&key)
    }

    /// Counts by (queue, interval start in ms since the epoch), in order.
    pub fn counts(&self) -> &BTreeMap<(QueueId, Millis), IntervalCounts> {
        &self.counts
    }
}
