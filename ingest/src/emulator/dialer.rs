//! An emulated predictive dialer that places calls only as queuelake's
//! pacing says: every `poll` it asks `GET /api/v1/pacing/{campaign}` with
//! a dialer's token and sends one AMI `Originate` per call it is told to
//! place, tagged `QL_CAMPAIGN=<campaign>` — the loop a real dialer runs
//! against `serve`, for the demo and for tests.
//!
//! ```text
//!  every poll ─GET /api/v1/pacing/{campaign}─▶ {"calls": n, "hold": …}
//!      └─ n × Originate (AMI, its own login) ─▶ the emulated PBX
//! ```
//!
//! It speaks plain HTTP/1.1 to the API (one request per connection) and
//! reads and drops every event the PBX sends its AMI session.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use queuelake_ami::{Decoder, Limits, Message};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::watch;

use super::AmiCredentials;
use crate::error::{IngestError, Result};

/// How the dialer reaches pacing and the PBX.
#[derive(Debug, Clone)]
pub struct DialerConfig {
    /// The HTTP API of `serve`.
    pub api: SocketAddr,
    /// A bearer token allowed to read pacing (a dialer's).
    pub token: String,
    /// The campaign it dials for.
    pub campaign: String,
    /// The PBX's AMI listener and a login on it.
    pub ami: SocketAddr,
    /// The AMI login.
    pub credentials: AmiCredentials,
    /// How often it asks (a second, as dialers do).
    pub poll: Duration,
    /// Most calls placed at one poll, whatever it is told.
    pub max_per_poll: u32,
    /// Set by whoever knows the truth (a bench cutting the PBX link) while
    /// pacing's floor cannot be right: calls told then are counted apart.
    pub floor_untrusted: Option<Arc<AtomicBool>>,
}

/// What the dialer did, for a report or a test.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DialerStats {
    /// Answers received from pacing.
    pub polls: u64,
    /// Calls it was told to place, in all.
    pub told: u64,
    /// `Originate` actions sent.
    pub originated: u64,
    /// Answers that held (`hold` set), by reason.
    pub held: std::collections::BTreeMap<String, u64>,
    /// Calls told while an answer held (must stay 0).
    pub told_while_held: u64,
    /// Calls told in answers asked for and received while
    /// [`DialerConfig::floor_untrusted`] was set (must stay 0).
    pub told_while_untrusted: u64,
    /// Polls that failed (no answer, not 200, unreadable).
    pub failed_polls: u64,
}

/// The dialer's running totals, shared with whoever watches it.
pub type SharedStats = Arc<Mutex<DialerStats>>;

fn stats_of(stats: &SharedStats) -> std::sync::MutexGuard<'_, DialerStats> {
    stats
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Runs until `stop` turns true; an AMI link it loses is logged in again.
pub async fn run(
    config: DialerConfig,
    stats: SharedStats,
    mut stop: watch::Receiver<bool>,
) -> Result<()> {
    let mut ticker = tokio::time::interval(config.poll);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut ami: Option<AmiLink> = None;
    let mut next_id = 0u64;
    loop {
        tokio::select! {
            _ = ticker.tick() => {}
            _ = stop.changed() => return Ok(()),
        }
        if *stop.borrow() {
            return Ok(());
        }
        let untrusted_now = || {
            config
                .floor_untrusted
                .as_ref()
                .is_some_and(|flag| flag.load(Ordering::SeqCst))
        };
        // Untrusted both when asked and when answered: the answer was
        // decided while the floor could not be known.
        let untrusted_when_asked = untrusted_now();
        let answer = match pacing(&config).await {
            Ok(answer) => answer,
            Err(e) => {
                tracing::debug!(error = %e, "dialer: no pacing answer");
                stats_of(&stats).failed_polls += 1;
                continue;
            }
        };
        let calls = answer.calls.min(config.max_per_poll);
        let untrusted = untrusted_when_asked && untrusted_now();
        {
            let mut s = stats_of(&stats);
            if untrusted {
                s.told_while_untrusted += u64::from(answer.calls);
            }
            s.polls += 1;
            s.told += u64::from(answer.calls);
            if let Some(hold) = &answer.hold {
                *s.held.entry(hold.clone()).or_default() += 1;
                s.told_while_held += u64::from(answer.calls);
            }
        }
        if calls == 0 {
            continue;
        }
        if ami.is_none() {
            match AmiLink::login(config.ami, &config.credentials).await {
                Ok(link) => ami = Some(link),
                Err(e) => {
                    tracing::debug!(error = %e, "dialer: AMI login failed");
                    continue;
                }
            }
        }
        let Some(link) = ami.as_mut() else {
            continue;
        };
        for _ in 0..calls {
            next_id += 1;
            let number = format!("+1555{:07}", next_id % 10_000_000);
            let originate = Message::new([
                ("Action", "Originate".to_owned()),
                ("ActionID", format!("dialer-{next_id}")),
                ("Channel", format!("PJSIP/{number}@trunk")),
                ("Context", "outbound".to_owned()),
                ("Exten", "s".to_owned()),
                ("Priority", "1".to_owned()),
                ("Async", "true".to_owned()),
                (
                    "Variable",
                    format!("{}={}", super::render::CAMPAIGN_VARIABLE, config.campaign),
                ),
            ]);
            if link.send(&originate).await.is_err() {
                ami = None;
                break;
            }
            stats_of(&stats).originated += 1;
        }
    }
}

/// What pacing said.
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
struct PacingAnswer {
    calls: u32,
    hold: Option<String>,
}

/// `GET /api/v1/pacing/{campaign}` over one HTTP/1.1 connection.
async fn pacing(config: &DialerConfig) -> std::io::Result<PacingAnswer> {
    let io = |e: String| std::io::Error::other(e);
    let mut stream = tokio::time::timeout(Duration::from_secs(5), TcpStream::connect(config.api))
        .await
        .map_err(|_| io("connect timed out".into()))??;
    let request = format!(
        "GET /api/v1/pacing/{} HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {}\r\nConnection: close\r\n\r\n",
        config.campaign, config.api, config.token
    );
    stream.write_all(request.as_bytes()).await?;
    let mut response = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut response))
        .await
        .map_err(|_| io("answer timed out".into()))??;
    let text = String::from_utf8_lossy(&response);
    let (head, body) = text
        .split_once("\r\n\r\n")
        .ok_or_else(|| io("no HTTP header".into()))?;
    let status = head.split_whitespace().nth(1).unwrap_or_default();
    if status != "200" {
        return Err(io(format!("pacing answered {status}: {body}")));
    }
    serde_json::from_str(body).map_err(|e| io(format!("pacing answer: {e}")))
}

/// The dialer's AMI session: actions out, every frame in read and dropped.
struct AmiLink {
    writer: tokio::net::tcp::OwnedWriteHalf,
    reader: tokio::task::JoinHandle<()>,
}

impl Drop for AmiLink {
    fn drop(&mut self) {
        self.reader.abort();
    }
}

impl AmiLink {
    async fn login(address: SocketAddr, credentials: &AmiCredentials) -> Result<AmiLink> {
        let failed = |reason: String| IngestError::AmiLoginRefused {
            server: address.to_string(),
            reason,
        };
        let stream = TcpStream::connect(address)
            .await
            .map_err(|source| IngestError::Network {
                what: "connecting to",
                address: address.to_string(),
                source,
            })?;
        let (mut reader, mut writer) = stream.into_split();
        let login = Message::new([
            ("Action", "Login"),
            ("ActionID", "dialer-login"),
            ("Username", credentials.username.as_str()),
            ("Secret", credentials.secret.as_str()),
            ("Events", "off"),
        ]);
        writer
            .write_all(&login.encode())
            .await
            .map_err(|e| failed(e.to_string()))?;
        let mut decoder = Decoder::new(Limits::default());
        let mut buf = vec![0u8; 1 << 14];
        let answered = tokio::time::timeout(Duration::from_secs(5), async {
            loop {
                let n = reader.read(&mut buf).await.map_err(|e| e.to_string())?;
                if n == 0 {
                    return Err("closed".to_owned());
                }
                decoder.push(&buf[..n]);
                while let Some(frame) = decoder.next_frame() {
                    let Ok(frame) = frame else { continue };
                    if let queuelake_ami::Frame::Message(m) = frame
                        && m.get("ActionID") == Some("dialer-login")
                    {
                        return Ok(m.get("Response").unwrap_or_default().to_owned());
                    }
                }
            }
        })
        .await
        .map_err(|_| failed("timed out".into()))?
        .map_err(failed)?;
        if !answered.eq_ignore_ascii_case("Success") {
            return Err(failed(format!("refused ({answered})")));
        }
        // Events keep coming (the emulator ignores `Events: off`): read
        // and drop them so the PBX never sees a slow reader.
        let reader = tokio::spawn(async move {
            let mut buf = vec![0u8; 1 << 16];
            while matches!(reader.read(&mut buf).await, Ok(n) if n > 0) {}
        });
        Ok(AmiLink { writer, reader })
    }

    async fn send(&mut self, action: &Message) -> std::io::Result<()> {
        self.writer.write_all(&action.encode()).await
    }
}
