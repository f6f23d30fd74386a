//! What the AMI client feeds: the journal (first) and the shared live
//! state that the API reads, with a version number that moves on every
//! change so streams know when to send.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::SystemTime;

use queuelake_ami::Message;
use queuelake_ami::live::{LiveState, timestamp};
use queuelake_ami::session::{Disconnect, State};
use tokio::sync::watch;

use crate::ami::client::AmiSink;
use crate::ami::journal::{Journal, epoch_us};
use crate::error::Result;

/// The AMI connection as the API reports it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ConnectionStatus {
    /// `disconnected`, `banner`, `logging_in`, `resyncing`, `live` or `refused`.
    pub state: &'static str,
    /// Why it is refused or was last lost.
    pub reason: Option<String>,
    /// Since when it is in this state (Unix µs).
    pub since_us: i64,
    /// Links lost since start.
    pub disconnects: u64,
    /// Events received since start.
    pub events: u64,
    /// Resyncs completed since start.
    pub resyncs: u64,
    /// When the PBX was last heard from: an event or a reply (Unix µs, 0 =
    /// never). The session pings an idle link, so on a live link this is
    /// never older than the ping interval and its timeout.
    pub heard_us: i64,
}

/// Live state plus connection status.
#[derive(Debug, Default)]
pub struct Live {
    /// Queues and campaigns now.
    pub state: LiveState,
    /// The connection.
    pub connection: ConnectionStatus,
    /// PBX clock minus the wall clock, from the last stamped event, in
    /// seconds (the emulator runs faster than the wall clock).
    pub pbx_offset_s: Option<f64>,
}

impl Live {
    /// The PBX's clock read `pbx_s` at `received`. The first reading
    /// moves the join times a resync timed by our own clock.
    fn set_pbx_clock(&mut self, pbx_s: f64, received: SystemTime) {
        let offset = pbx_s - epoch_us(received) as f64 / 1e6;
        if self.pbx_offset_s.is_none() {
            self.state.rebase_estimates(offset);
        }
        self.pbx_offset_s = Some(offset);
    }

    /// The PBX's clock at wall-clock `now`, in Unix seconds.
    pub fn pbx_time(&self, now: SystemTime) -> f64 {
        epoch_us(now) as f64 / 1e6 + self.pbx_offset_s.unwrap_or(0.0)
    }
}

/// The live state shared between the client and the API.
#[derive(Clone, Debug)]
pub struct LiveFeed {
    inner: Arc<Mutex<Live>>,
    version: Arc<watch::Sender<u64>>,
}

impl Default for LiveFeed {
    fn default() -> Self {
        LiveFeed {
            inner: Arc::default(),
            version: Arc::new(watch::channel(0).0),
        }
    }
}

impl LiveFeed {
    /// The state, locked (keep it short).
    pub fn lock(&self) -> MutexGuard<'_, Live> {
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A receiver that wakes on every change.
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.version.subscribe()
    }

    fn changed(&self) {
        self.version.send_modify(|v| *v += 1);
    }
}

fn state_name(state: &State) -> &'static str {
    match state {
        State::Disconnected => "disconnected",
        State::Banner => "banner",
        State::LoggingIn => "logging_in",
        State::Resyncing => "resyncing",
        State::Live => "live",
        State::Refused(_) => "refused",
    }
}

/// The sink `serve` uses: journal first, then live state.
pub struct JournalingSink {
    journal: Journal,
    feed: LiveFeed,
    dirty: bool,
}

impl JournalingSink {
    /// Journals to `journal` and updates `feed`.
    pub fn new(journal: Journal, feed: LiveFeed) -> Self {
        JournalingSink {
            journal,
            feed,
            dirty: false,
        }
    }
}

impl AmiSink for JournalingSink {
    fn event(&mut self, event: &Message, received: SystemTime) -> Result<()> {
        self.journal.event(event, received)?;
        let mut live = self.feed.lock();
        if let Some(at) = timestamp(event) {
            live.set_pbx_clock(at, received);
        }
        live.state.apply(event);
        live.connection.events += 1;
        self.dirty = true;
        Ok(())
    }

    fn resync(&mut self, items: &[Message], received: SystemTime) -> Result<()> {
        for item in items {
            self.journal.event(item, received)?;
        }
        let mut live = self.feed.lock();
        let now = live.pbx_time(received);
        live.state.resync(items, now);
        live.connection.resyncs += 1;
        self.dirty = true;
        Ok(())
    }

    fn lost(&mut self, why: &Disconnect, at: SystemTime) -> Result<()> {
        self.journal.gap(&why.to_string(), at)?;
        let mut live = self.feed.lock();
        live.connection.disconnects += 1;
        live.connection.reason = Some(why.to_string());
        self.dirty = true;
        Ok(())
    }

    fn state(&mut self, state: &State, at: SystemTime) {
        let mut live = self.feed.lock();
        live.connection.state = state_name(state);
        live.connection.since_us = epoch_us(at);
        if let State::Refused(reason) = state {
            live.connection.reason = Some(reason.clone());
        }
        self.dirty = true;
    }

    fn clock(&mut self, pbx_s: f64, received: SystemTime) {
        self.feed.lock().set_pbx_clock(pbx_s, received);
    }

    fn heard(&mut self, at: SystemTime) {
        self.feed.lock().connection.heard_us = epoch_us(at);
    }

    fn delivered(&mut self) -> Result<()> {
        self.journal.flush()?;
        if std::mem::take(&mut self.dirty) {
            self.feed.changed();
        }
        Ok(())
    }
}
