//! An emulated Asterisk, driven by the contact-center simulation: it
//! writes a queue_log as Asterisk 20 does (rotating it by rename at local
//! midnight) and serves AMI on a TCP port. For the demo and for tests that
//! need a PBX.
//!
//! ```text
//!  Simulation ─run_until(clock)─▶ events ─Renderer─▶ queue_log lines ─▶ QueueLogFile
//!      ▲                                     └──────▶ AMI events ─▶ every logged-in session
//!      └── AMI actions (QueuePause, QueueAdd, QueueRemove, Originate) from sessions
//! ```
//!
//! Simulated time runs `speed` times faster than the wall clock; before
//! going live, `history_days` of the past are played at full speed into
//! rotated queue_log files (no AMI), so forecasts have data.
//!
//! Modules:
//! - [`render`]: simulation events → queue_log lines and AMI events.
//! - [`queue_log_file`]: the append-only file and its rename rotation.
//! - [`ami_server`]: the AMI listener, sessions and actions, and the faults
//!   tests can inject.
//! - [`dialer`]: a dialer that places calls only as queuelake's pacing
//!   says (over the HTTP API and AMI `Originate`).

pub mod ami_server;
pub mod dialer;
pub mod queue_log_file;
pub mod render;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use queuelake_scheduler::sim::{Millis, SimConfig, Simulation, Timed};

use crate::error::Result;
pub use ami_server::{AmiCredentials, Faults};
use queue_log_file::QueueLogFile;
use render::Renderer;

const DAY: Millis = 86_400_000;

/// How to run the emulator.
#[derive(Debug, Clone)]
pub struct EmulatorConfig {
    /// The contact center.
    pub sim: SimConfig,
    /// The queue_log to write (rotated siblings go beside it).
    pub queue_log: PathBuf,
    /// Simulated seconds per wall-clock second (1 = real time).
    pub speed: f64,
    /// Days of history played before going live.
    pub history_days: u32,
    /// Simulated instant of going live; `None` = the wall clock now.
    pub live_from: Option<Millis>,
    /// Where to serve AMI and who may log in; `None` = no AMI.
    pub ami: Option<(SocketAddr, AmiCredentials)>,
    /// How often the simulation is advanced, wall-clock.
    pub step: Duration,
    /// Where its AMI follows one real set-up or another (stock Asterisk
    /// by default).
    pub shape: render::PbxShape,
    /// Whether, once live, campaigns dial only when told (AMI `Originate`
    /// from a dialer such as [`dialer`]) instead of at their configured
    /// ratio (which the history keeps).
    pub external_dialing: bool,
    /// Whether the live simulation's events are kept for
    /// [`Emulator::take_events`] (a bench scoring the truth).
    pub keep_events: bool,
}

impl EmulatorConfig {
    /// Real time, no history, no AMI, 20 ms steps.
    pub fn new(sim: SimConfig, queue_log: PathBuf) -> Self {
        EmulatorConfig {
            sim,
            queue_log,
            speed: 1.0,
            history_days: 0,
            live_from: None,
            ami: None,
            step: Duration::from_millis(20),
            shape: render::PbxShape::default(),
            external_dialing: false,
            keep_events: false,
        }
    }
}

/// What the emulator's clock and writers hold; sessions lock it to run
/// actions against the simulation.
pub struct Core {
    /// The simulated contact center (the truth tests compare against).
    pub sim: Simulation,
    /// Turns its events into Asterisk's output.
    pub renderer: Renderer,
    queue_log: QueueLogFile,
    utc_offset_ms: Millis,
    file_day: i64,
    live_sim_start: Millis,
    live_wall_start: Instant,
    speed: f64,
    frozen: bool,
    rotated: Vec<PathBuf>,
    /// Live events kept for [`Emulator::take_events`], if asked for.
    kept: Option<Vec<Timed>>,
}

impl Core {
    fn local_day(&self, at: Millis) -> i64 {
        (at + self.utc_offset_ms).div_euclid(DAY)
    }

    /// Writes one step's events to the queue_log (rotating at local
    /// midnight) and returns their AMI bytes.
    fn write(&mut self, events: &[Timed]) -> Result<Vec<u8>> {
        let mut ami = Vec::new();
        let mut lines = Vec::new();
        for timed in events {
            let day = self.local_day(timed.at);
            if day != self.file_day {
                self.queue_log.append(&lines)?;
                lines.clear();
                let rotated = self
                    .queue_log
                    .rotate(&Renderer::config_reload_line(timed.at))?;
                self.rotated.push(rotated);
                self.file_day = day;
            }
            let rendered = self.renderer.render(timed);
            lines.extend(rendered.lines);
            for mut event in rendered.events {
                stamp(&mut event, timed.at);
                ami.extend_from_slice(&event.encode());
            }
        }
        self.queue_log.append(&lines)?;
        self.queue_log.flush()?;
        Ok(ami)
    }

    /// The simulated instant the wall clock corresponds to.
    fn clock(&self) -> Millis {
        if self.frozen {
            return self.live_sim_start;
        }
        let elapsed = self.live_wall_start.elapsed().as_secs_f64() * self.speed;
        self.live_sim_start + (elapsed * 1000.0) as Millis
    }
}

/// Adds `Timestamp: <sec>.<usec>` after `Privilege` (as with
/// `timestampevents = yes`), so a reader knows the simulated instant.
fn stamp(event: &mut queuelake_ami::Message, at: Millis) {
    let value = format!("{}.{:06}", at.div_euclid(1000), at.rem_euclid(1000) * 1000);
    let index = event
        .headers
        .iter()
        .position(|(k, _)| k.eq_ignore_ascii_case("Privilege"))
        .map_or(event.headers.len().min(1), |i| i + 1);
    event.headers.insert(index, ("Timestamp".to_owned(), value));
}

/// A running emulator. Dropping it stops it.
pub struct Emulator {
    core: Arc<Mutex<Core>>,
    server: Option<ami_server::AmiServer>,
    driver: tokio::task::JoinHandle<()>,
    queue_log: PathBuf,
}

impl Emulator {
    /// Plays the history, then starts the live clock (and the AMI server).
    pub async fn start(config: EmulatorConfig) -> Result<Emulator> {
        let live_from = config.live_from.unwrap_or_else(wall_clock_ms);
        let history_from = live_from - Millis::from(config.history_days) * DAY;
        let utc_offset_ms = Millis::from(config.sim.utc_offset_min) * 60_000;
        let mut core = Core {
            sim: Simulation::new(config.sim.clone(), history_from)?,
            renderer: Renderer::new(&config.sim, history_from),
            queue_log: QueueLogFile::open(&config.queue_log)?,
            utc_offset_ms,
            file_day: (history_from + utc_offset_ms).div_euclid(DAY),
            live_sim_start: live_from,
            live_wall_start: Instant::now(),
            speed: config.speed.max(0.001),
            frozen: false,
            rotated: Vec::new(),
            kept: None,
        };
        core.renderer.set_shape(config.shape);
        let (external_dialing, keep_events) = (config.external_dialing, config.keep_events);
        let history = tokio::task::spawn_blocking(move || -> Result<Core> {
            core.renderer.set_ami(false);
            // A day at a time keeps memory flat over weeks of history.
            let mut at = history_from;
            while at < live_from {
                at = (at + DAY).min(live_from);
                let events = core.sim.run_until(at);
                core.write(&events)?;
            }
            core.renderer.set_ami(true);
            if external_dialing {
                core.sim.dial_externally();
            }
            if keep_events {
                core.kept = Some(Vec::new());
            }
            Ok(core)
        });
        let mut core = history.await.map_err(|e| {
            crate::error::IngestError::write(&config.queue_log, std::io::Error::other(e))
        })??;
        core.live_wall_start = Instant::now();
        let core = Arc::new(Mutex::new(core));
        let server = match &config.ami {
            Some((address, credentials)) => Some(
                ami_server::AmiServer::start(*address, credentials.clone(), Arc::clone(&core))
                    .await?,
            ),
            None => None,
        };
        let sessions = server.as_ref().map(|s| s.sessions());
        let driver = tokio::spawn(drive(Arc::clone(&core), sessions, config.step));
        Ok(Emulator {
            core,
            server,
            driver,
            queue_log: config.queue_log,
        })
    }

    /// The AMI server's address, if it serves AMI.
    pub fn ami_address(&self) -> Option<SocketAddr> {
        self.server.as_ref().map(|s| s.local_addr())
    }

    /// The live queue_log.
    pub fn queue_log(&self) -> &PathBuf {
        &self.queue_log
    }

    /// The files rotated out so far (history and live), oldest first.
    pub fn rotated_files(&self) -> Vec<PathBuf> {
        self.core().rotated.clone()
    }

    /// The emulator's state, locked (the truth to compare against).
    pub fn core(&self) -> MutexGuard<'_, Core> {
        lock(&self.core)
    }

    /// Stops (or restarts) simulated time: while frozen nothing happens,
    /// so a test can compare a client's view with the truth at one
    /// instant; on thawing, time goes on from where it stopped.
    pub fn set_frozen(&self, frozen: bool) {
        let mut core = self.core();
        if frozen == core.frozen {
            return;
        }
        if frozen {
            core.live_sim_start = core.clock();
        } else {
            core.live_wall_start = Instant::now();
        }
        core.frozen = frozen;
    }

    /// Moves simulated time on to `at` at once (never back), as over a
    /// night nobody works: the next step plays everything up to it, and
    /// the clock runs on from there at its speed.
    pub fn skip_to(&self, at: Millis) {
        let mut core = self.core();
        if at <= core.clock() {
            return;
        }
        core.live_sim_start = at;
        core.live_wall_start = Instant::now();
    }

    /// The live events since the last call (none unless
    /// [`EmulatorConfig::keep_events`]).
    pub fn take_events(&self) -> Vec<Timed> {
        self.core()
            .kept
            .as_mut()
            .map(std::mem::take)
            .unwrap_or_default()
    }

    /// The AMI server, for fault injection (its switches, cuts, restart
    /// and bursts).
    pub fn ami_server(&mut self) -> Option<&mut ami_server::AmiServer> {
        self.server.as_mut()
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        self.driver.abort();
    }
}

/// Locks the core, recovering it if a session panicked while holding it.
pub(crate) fn lock(core: &Mutex<Core>) -> MutexGuard<'_, Core> {
    core.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

async fn drive(core: Arc<Mutex<Core>>, sessions: Option<ami_server::Sessions>, step: Duration) {
    let mut ticker = tokio::time::interval(step);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        let bytes = {
            let mut core = lock(&core);
            let until = core.clock();
            let events = core.sim.run_until(until);
            let written = core.write(&events);
            if let Some(kept) = core.kept.as_mut() {
                kept.extend(events);
            }
            match written {
                Ok(bytes) => bytes,
                Err(error) => {
                    tracing::error!(%error, "emulator: writing the queue_log failed; stopping");
                    return;
                }
            }
        };
        if let Some(sessions) = &sessions
            && !bytes.is_empty()
        {
            sessions.broadcast(bytes.into());
        }
    }
}

fn wall_clock_ms() -> Millis {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as Millis)
}
