//! The AMI client's driver: moves bytes and time between a TCP connection
//! and the sans-IO [`Session`], and hands what arrives to an [`AmiSink`].
//!
//! ```text
//!  connect ─▶ read ─▶ Decoder ─▶ Session::frame ─▶ Output::Event / Resync ─▶ sink (journal, live state)
//!     ▲        ▲ tick (250 ms) ─▶ Session::tick ─▶ Output::Send (Ping) ─▶ write
//!     │        └─ Output::Close / EOF / error ─▶ sink.lost (gap row) ─▶ backoff ─┘
//!     └─ refused login: stop, loudly (bad credentials do not heal)
//! ```
//!
//! Reading never waits on anything slow: the sink only appends to a
//! buffered file and updates memory, so the PBX never sees a slow reader
//! (Asterisk drops those).

use std::time::{Duration, Instant, SystemTime};

use queuelake_ami::session::{Disconnect, Output, Session, SessionConfig, State};
use queuelake_ami::{Decoder, Limits, Message};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::watch;

use crate::error::{IngestError, Result};

/// Where the client delivers what it receives.
pub trait AmiSink: Send {
    /// An event arrived.
    fn event(&mut self, event: &Message, received: SystemTime) -> Result<()>;
    /// A complete resync (QueueStatus then CoreShowChannels items) arrived.
    fn resync(&mut self, items: &[Message], received: SystemTime) -> Result<()>;
    /// The link that was up is lost.
    fn lost(&mut self, why: &Disconnect, at: SystemTime) -> Result<()>;
    /// The session's state changed.
    fn state(&mut self, state: &State, at: SystemTime);
    /// Everything one read brought was delivered (a good time to flush).
    fn delivered(&mut self) -> Result<()>;
    /// The PBX was heard from (any frame: an event, a reply to a `Ping`):
    /// how fresh what it said is.
    fn heard(&mut self, _at: SystemTime) {}
    /// The PBX's clock read `pbx_s` (Unix seconds) when `received`.
    fn clock(&mut self, _pbx_s: f64, _received: SystemTime) {}
}

/// How to reach the PBX.
#[derive(Debug, Clone)]
pub struct AmiClientConfig {
    /// `host:port` of the AMI listener.
    pub address: String,
    /// Login, ping and backoff settings.
    pub session: SessionConfig,
    /// How long a TCP connect may take.
    pub connect_timeout: Duration,
    /// Decoder limits.
    pub limits: Limits,
}

impl AmiClientConfig {
    /// Defaults for `address` with these credentials.
    pub fn new(address: &str, username: &str, secret: &str) -> Self {
        AmiClientConfig {
            address: address.to_owned(),
            session: SessionConfig::new(username, secret),
            connect_timeout: Duration::from_secs(5),
            limits: Limits::default(),
        }
    }
}

/// How often the session's clock is advanced (pings, reply timeouts).
const TICK: Duration = Duration::from_millis(250);

/// Runs the client until `stop` turns true (returns `Ok`) or the PBX
/// refuses the login (returns [`IngestError::AmiLoginRefused`]). A sink
/// error (the journal cannot be written) also ends it.
pub async fn run(
    config: AmiClientConfig,
    sink: &mut dyn AmiSink,
    mut stop: watch::Receiver<bool>,
) -> Result<()> {
    let mut session = Session::new(config.session.clone(), Instant::now());
    loop {
        if *stop.borrow() {
            return Ok(());
        }
        let connect =
            tokio::time::timeout(config.connect_timeout, TcpStream::connect(&config.address));
        let why = tokio::select! {
            connected = connect => match connected {
                Ok(Ok(stream)) => {
                    let _ = stream.set_nodelay(true);
                    tracing::info!(server = %config.address, "AMI connected");
                    let why = connection(&config, &mut session, stream, sink, &mut stop).await?;
                    if let Some(why) = &why {
                        sink.lost(why, SystemTime::now())?;
                        sink.delivered()?;
                    }
                    why
                }
                Ok(Err(e)) => Some(Disconnect::ConnectFailed(e.to_string())),
                Err(_) => Some(Disconnect::ConnectFailed("timed out".to_owned())),
            },
            _ = stop.changed() => None,
        };
        let Some(why) = why else {
            return Ok(()); // stopped
        };
        let (delay, outputs) = session.disconnected(&why);
        report_states(&outputs, sink);
        let Some(delay) = delay else {
            let reason = match session.state() {
                State::Refused(reason) => reason.clone(),
                _ => why.to_string(),
            };
            tracing::error!(server = %config.address, %reason,
                "AMI login refused: check the AMI user and secret; not retrying");
            return Err(IngestError::AmiLoginRefused {
                server: config.address.clone(),
                reason,
            });
        };
        tracing::warn!(server = %config.address, reason = %why, retry_in_ms = delay.as_millis() as u64, "AMI link down");
        tokio::select! {
            () = tokio::time::sleep(delay) => {}
            _ = stop.changed() => return Ok(()),
        }
    }
}

fn report_states(outputs: &[Output], sink: &mut dyn AmiSink) {
    for output in outputs {
        if let Output::State(state) = output {
            sink.state(state, SystemTime::now());
        }
    }
}

/// One connection, until it ends: `Some(why)`, or `None` when stopped.
async fn connection(
    config: &AmiClientConfig,
    session: &mut Session,
    stream: TcpStream,
    sink: &mut dyn AmiSink,
    stop: &mut watch::Receiver<bool>,
) -> Result<Option<Disconnect>> {
    let (mut reader, mut writer) = stream.into_split();
    let mut decoder = Decoder::new(config.limits);
    let mut buf = vec![0u8; 1 << 16];
    let mut ticker = tokio::time::interval(TICK);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let outputs = session.connected(Instant::now());
    if let Some(why) = carry_out(outputs, &mut writer, sink).await? {
        return Ok(Some(why));
    }
    loop {
        let outputs = tokio::select! {
            read = reader.read(&mut buf) => match read {
                Ok(0) => return Ok(Some(Disconnect::Closed)),
                Ok(n) => {
                    decoder.push(&buf[..n]);
                    let now = Instant::now();
                    let mut outputs = Vec::new();
                    let mut heard = false;
                    while let Some(frame) = decoder.next_frame() {
                        match frame {
                            Ok(frame) => {
                                heard = true;
                                outputs.extend(session.frame(frame, now));
                            }
                            Err(error) => tracing::warn!(server = %config.address, %error, "AMI message skipped"),
                        }
                    }
                    if heard {
                        sink.heard(SystemTime::now());
                    }
                    outputs
                }
                Err(e) => return Ok(Some(Disconnect::Io(e.to_string()))),
            },
            _ = ticker.tick() => session.tick(Instant::now()),
            _ = stop.changed() => {
                // Say goodbye; the PBX need not answer.
                let logoff = Message::new([("Action", "Logoff")]).encode();
                let _ = tokio::time::timeout(Duration::from_secs(1), writer.write_all(&logoff)).await;
                return Ok(None);
            }
        };
        if outputs.contains(&Output::State(State::Live)) {
            tracing::info!(server = %config.address, banner = session.banner().unwrap_or(""), "AMI live (resynced)");
        }
        if let Some(why) = carry_out(outputs, &mut writer, sink).await? {
            return Ok(Some(why));
        }
    }
}

/// Does what the session asked; returns why the link must end, if it must.
async fn carry_out(
    outputs: Vec<Output>,
    writer: &mut tokio::net::tcp::OwnedWriteHalf,
    sink: &mut dyn AmiSink,
) -> Result<Option<Disconnect>> {
    if outputs.is_empty() {
        return Ok(None);
    }
    let received = SystemTime::now();
    let mut close = None;
    for output in outputs {
        match output {
            Output::Send(action) => {
                let bytes = action.encode();
                let write = tokio::time::timeout(Duration::from_secs(5), writer.write_all(&bytes));
                match write.await {
                    Ok(Ok(())) => {}
                    Ok(Err(e)) => close = close.or(Some(Disconnect::Io(e.to_string()))),
                    Err(_) => close = close.or(Some(Disconnect::Io("write timed out".to_owned()))),
                }
            }
            Output::Event(event) => sink.event(&event, received)?,
            Output::Resync(items) => sink.resync(&items, received)?,
            Output::State(state) => sink.state(&state, received),
            Output::Reply(_) => {}
            Output::Clock(at) => sink.clock(at, received),
            Output::Close(why) => close = close.or(Some(why)),
        }
    }
    sink.delivered()?;
    Ok(close)
}
