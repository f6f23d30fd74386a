//! The emulator's AMI server: Asterisk 20's banner, session actions
//! (Login, Challenge, Logoff, Events, Ping, QueueStatus, CoreShowChannels,
//! QueuePause, QueueAdd, QueueRemove, Originate) and event stream on a TCP
//! port, and switches that inject the faults a real
//! PBX and network produce (refused logins, unanswered pings, a connection
//! cut in the middle of a frame, a restart, a burst of events).
//!
//! Each session is one task: it reads actions and writes responses, and
//! writes the event bytes the driver hands it through a bounded queue. A
//! session whose queue is full is dropped, as Asterisk drops a client that
//! reads slower than its write timeout.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use queuelake_ami::login::md5_key;
use queuelake_ami::{Decoder, Frame, Limits, Message};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

use super::render::{AMI_VERSION, CAMPAIGN_VARIABLE};
use super::{Core, lock};
use crate::error::{IngestError, Result};

/// Event chunks a session may have queued before it counts as too slow.
const SESSION_QUEUE: usize = 4096;

/// Who may log in.
#[derive(Debug, Clone)]
pub struct AmiCredentials {
    /// `Username`.
    pub username: String,
    /// `Secret` (plain, or the MD5 challenge's secret).
    pub secret: String,
}

/// Fault switches, flipped by tests while the server runs.
#[derive(Debug, Default)]
pub struct Faults {
    /// Answer every `Login` with `Authentication failed`.
    pub refuse_logins: AtomicBool,
    /// Leave `Ping` unanswered.
    pub ignore_pings: AtomicBool,
}

enum Outgoing {
    Bytes(Arc<[u8]>),
    CutMidFrame,
    Close,
}

/// The logged-in sessions that receive events.
#[derive(Clone, Default)]
pub struct Sessions {
    inner: Arc<Mutex<Vec<mpsc::Sender<Outgoing>>>>,
    dropped_slow: Arc<AtomicU64>,
    closed_by_server: Arc<AtomicU64>,
    channel_lists: Arc<AtomicU64>,
}

impl Sessions {
    fn add(&self, tx: mpsc::Sender<Outgoing>) {
        self.list().push(tx);
    }

    fn list(&self) -> std::sync::MutexGuard<'_, Vec<mpsc::Sender<Outgoing>>> {
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Hands encoded events to every session; a session that cannot keep
    /// up is dropped.
    pub fn broadcast(&self, bytes: Arc<[u8]>) {
        let mut list = self.list();
        list.retain(
            |tx| match tx.try_send(Outgoing::Bytes(Arc::clone(&bytes))) {
                Ok(()) => true,
                Err(mpsc::error::TrySendError::Full(_)) => {
                    self.dropped_slow.fetch_add(1, Ordering::Relaxed);
                    let _ = tx.try_send(Outgoing::Close);
                    false
                }
                Err(mpsc::error::TrySendError::Closed(_)) => false,
            },
        );
    }

    /// Hands `make()` to every session; returns how many there were.
    fn send_all(&self, make: impl Fn() -> Outgoing) -> u64 {
        let mut list = self.list();
        let mut sent = 0;
        for tx in list.drain(..) {
            sent += u64::from(tx.try_send(make()).is_ok());
        }
        sent
    }

    /// Sessions dropped for reading too slowly.
    pub fn dropped_slow(&self) -> u64 {
        self.dropped_slow.load(Ordering::Relaxed)
    }

    /// Sessions whose socket the server has shut down when told to close
    /// ([`AmiServer::go_down`], a restart, a slow reader).
    pub fn closed_by_server(&self) -> u64 {
        self.closed_by_server.load(Ordering::SeqCst)
    }

    /// `CoreShowChannels` lists written out to their `…Complete` event: a
    /// client's resync (QueueStatus, then CoreShowChannels) has all the
    /// PBX's state once this grows.
    pub fn channel_lists(&self) -> u64 {
        self.channel_lists.load(Ordering::SeqCst)
    }
}

/// A listening AMI server.
pub struct AmiServer {
    address: SocketAddr,
    credentials: AmiCredentials,
    core: Arc<Mutex<Core>>,
    faults: Arc<Faults>,
    sessions: Sessions,
    accept: Option<tokio::task::JoinHandle<()>>,
}

impl AmiServer {
    /// Listens on `address` (port 0 picks a free one).
    pub async fn start(
        address: SocketAddr,
        credentials: AmiCredentials,
        core: Arc<Mutex<Core>>,
    ) -> Result<AmiServer> {
        let mut server = AmiServer {
            address,
            credentials,
            core,
            faults: Arc::new(Faults::default()),
            sessions: Sessions::default(),
            accept: None,
        };
        server.listen().await?;
        Ok(server)
    }

    async fn listen(&mut self) -> Result<()> {
        let listener = bind(self.address).await?;
        self.address = listener
            .local_addr()
            .map_err(|e| network("listening on", self.address, e))?;
        let (credentials, core, faults, sessions) = (
            self.credentials.clone(),
            Arc::clone(&self.core),
            Arc::clone(&self.faults),
            self.sessions.clone(),
        );
        self.accept = Some(tokio::spawn(async move {
            let challenges = Arc::new(AtomicU64::new(1));
            while let Ok((stream, _)) = listener.accept().await {
                let session = Session {
                    credentials: credentials.clone(),
                    core: Arc::clone(&core),
                    faults: Arc::clone(&faults),
                    sessions: sessions.clone(),
                    challenges: Arc::clone(&challenges),
                    logged_in: false,
                    challenge: None,
                };
                tokio::spawn(session.run(stream));
            }
        }));
        Ok(())
    }

    /// The address it listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.address
    }

    /// The fault switches.
    pub fn faults(&self) -> Arc<Faults> {
        Arc::clone(&self.faults)
    }

    /// The sessions receiving events.
    pub fn sessions(&self) -> Sessions {
        self.sessions.clone()
    }

    /// Cuts every session in the middle of an event frame.
    pub fn cut_mid_frame(&self) {
        self.sessions.send_all(|| Outgoing::CutMidFrame);
    }

    /// Stops listening and closes every session, then listens again on
    /// the same port, as when Asterisk restarts (the simulated calls go
    /// on; a client must resync its state).
    pub async fn restart(&mut self, down_for: std::time::Duration) -> Result<()> {
        self.go_down().await;
        tokio::time::sleep(down_for).await;
        self.come_back().await
    }

    /// Stops listening and tells every session to close; returns how many
    /// were told (see [`Sessions::closed_by_server`] for when they have).
    pub async fn go_down(&mut self) -> u64 {
        if let Some(accept) = self.accept.take() {
            accept.abort();
            let _ = accept.await;
        }
        self.sessions.send_all(|| Outgoing::Close)
    }

    /// Listens again on the same port after [`AmiServer::go_down`].
    pub async fn come_back(&mut self) -> Result<()> {
        self.listen().await
    }

    /// Sends `count` `UserEvent`s to every session at once.
    pub fn burst(&self, count: usize) {
        let mut bytes = Vec::with_capacity(count * 64);
        for n in 0..count {
            let event = Message::new([
                ("Event", "UserEvent".to_owned()),
                ("Privilege", "user,all".to_owned()),
                ("UserEvent", "Burst".to_owned()),
                ("Sequence", n.to_string()),
            ]);
            bytes.extend_from_slice(&event.encode());
        }
        self.sessions.broadcast(bytes.into());
    }
}

impl Drop for AmiServer {
    fn drop(&mut self) {
        if let Some(accept) = self.accept.take() {
            accept.abort();
        }
        self.sessions.send_all(|| Outgoing::Close);
    }
}

async fn bind(address: SocketAddr) -> Result<TcpListener> {
    // A restart rebinds the port the clients know; SO_REUSEADDR lets it
    // while old connections linger in TIME_WAIT.
    let socket = if address.is_ipv4() {
        tokio::net::TcpSocket::new_v4()
    } else {
        tokio::net::TcpSocket::new_v6()
    }
    .map_err(|e| network("listening on", address, e))?;
    socket
        .set_reuseaddr(true)
        .map_err(|e| network("listening on", address, e))?;
    socket
        .bind(address)
        .map_err(|e| network("listening on", address, e))?;
    socket
        .listen(64)
        .map_err(|e| network("listening on", address, e))
}

fn network(what: &'static str, address: SocketAddr, source: std::io::Error) -> IngestError {
    IngestError::Network {
        what,
        address: address.to_string(),
        source,
    }
}

/// What to do with the connection after answering an action.
enum After {
    Continue,
    /// Subscribe this session to events (a successful login).
    Subscribe,
    /// Close once the answer is written (Logoff, failed login).
    Close,
}

struct Session {
    credentials: AmiCredentials,
    core: Arc<Mutex<Core>>,
    faults: Arc<Faults>,
    sessions: Sessions,
    challenges: Arc<AtomicU64>,
    logged_in: bool,
    challenge: Option<String>,
}

impl Session {
    async fn run(mut self, stream: TcpStream) {
        let _ = stream.set_nodelay(true);
        let (mut reader, mut writer) = stream.into_split();
        let banner = format!("Asterisk Call Manager/{AMI_VERSION}\r\n");
        if writer.write_all(banner.as_bytes()).await.is_err() {
            return;
        }
        let (tx, mut rx) = mpsc::channel::<Outgoing>(SESSION_QUEUE);
        let mut tx = Some(tx);
        let mut decoder = Decoder::new(Limits {
            // Asterisk reads actions in 1 KiB lines.
            max_line_bytes: 1024,
            max_headers: 128,
        });
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            tokio::select! {
                read = reader.read(&mut buf) => {
                    let n = match read {
                        Ok(0) | Err(_) => return,
                        Ok(n) => n,
                    };
                    decoder.push(&buf[..n]);
                    while let Some(frame) = decoder.next_frame() {
                        let (replies, after) = match frame {
                            Ok(Frame::Message(action)) => self.act(&action),
                            Ok(Frame::Banner(_)) => continue,
                            Err(error) => (vec![error_reply(None, &format!("Bad request: {error}"))], After::Continue),
                        };
                        let bytes: Vec<u8> = replies.iter().flat_map(Message::encode).collect();
                        if writer.write_all(&bytes).await.is_err() {
                            return;
                        }
                        if replies.last().and_then(|m| m.get("Event")) == Some("CoreShowChannelsComplete") {
                            self.sessions.channel_lists.fetch_add(1, Ordering::SeqCst);
                        }
                        match after {
                            After::Continue => {}
                            After::Subscribe => {
                                if let Some(tx) = tx.take() {
                                    self.sessions.add(tx);
                                }
                            }
                            After::Close => {
                                let _ = writer.shutdown().await;
                                return;
                            }
                        }
                    }
                }
                out = rx.recv() => match out {
                    Some(Outgoing::Bytes(bytes)) => {
                        if writer.write_all(&bytes).await.is_err() {
                            return;
                        }
                    }
                    Some(Outgoing::CutMidFrame) => {
                        let half = b"Event: QueueMemberStatus\r\nPrivilege: agent,all\r\nQueue: sup";
                        let _ = writer.write_all(half).await;
                        let _ = writer.shutdown().await;
                        return;
                    }
                    Some(Outgoing::Close) | None => {
                        let _ = writer.shutdown().await;
                        self.sessions.closed_by_server.fetch_add(1, Ordering::SeqCst);
                        return;
                    }
                }
            }
        }
    }

    /// Answers one action (formats.md §2.2).
    fn act(&mut self, action: &Message) -> (Vec<Message>, After) {
        let id = action.get("ActionID");
        let Some(name) = action.get("Action") else {
            return (
                vec![error_reply(id, "Missing action in request")],
                After::Continue,
            );
        };
        let name = name.to_ascii_lowercase();
        if !self.logged_in && !matches!(name.as_str(), "login" | "challenge" | "logoff") {
            return (vec![error_reply(id, "Permission denied")], After::Continue);
        }
        match name.as_str() {
            "login" => self.login(action, id),
            "challenge" => {
                if !action
                    .get("AuthType")
                    .is_some_and(|t| t.eq_ignore_ascii_case("md5"))
                {
                    return (
                        vec![error_reply(id, "Must specify AuthType")],
                        After::Continue,
                    );
                }
                let nonce = format!("{:09}", self.challenges.fetch_add(7919, Ordering::Relaxed));
                self.challenge = Some(nonce.clone());
                (
                    vec![reply(id, "Success", &[("Challenge", nonce)])],
                    After::Continue,
                )
            }
            "logoff" => (
                vec![reply(
                    id,
                    "Goodbye",
                    &[("Message", "Thanks for all the fish.".into())],
                )],
                After::Close,
            ),
            "ping" => {
                if self.faults.ignore_pings.load(Ordering::Relaxed) {
                    return (Vec::new(), After::Continue);
                }
                let at = lock(&self.core).sim.now();
                let stamp = format!("{}.{:06}", at.div_euclid(1000), at.rem_euclid(1000) * 1000);
                (
                    vec![reply(
                        id,
                        "Success",
                        &[("Ping", "Pong".into()), ("Timestamp", stamp)],
                    )],
                    After::Continue,
                )
            }
            "events" => {
                let on = action
                    .get("EventMask")
                    .is_some_and(|m| !m.eq_ignore_ascii_case("off"));
                let state = if on { "On" } else { "Off" };
                (
                    vec![reply(id, "Success", &[("Events", state.into())])],
                    After::Continue,
                )
            }
            "queuestatus" => {
                let core = lock(&self.core);
                (
                    core.renderer.queue_status(&core.sim, id.unwrap_or("")),
                    After::Continue,
                )
            }
            "coreshowchannels" => {
                let core = lock(&self.core);
                (
                    core.renderer.core_show_channels(id.unwrap_or("")),
                    After::Continue,
                )
            }
            "queuepause" => (vec![self.queue_pause(action, id)], After::Continue),
            "queueadd" | "queueremove" => (
                vec![self.queue_membership(action, id, name == "queueadd")],
                After::Continue,
            ),
            "originate" => (vec![self.originate(action, id)], After::Continue),
            other => (
                vec![error_reply(
                    id,
                    &format!(
                        "Invalid/unknown command: {other}. Use Action: ListCommands to show available commands."
                    ),
                )],
                After::Continue,
            ),
        }
    }

    fn login(&mut self, action: &Message, id: Option<&str>) -> (Vec<Message>, After) {
        let user_ok = action.get("Username") == Some(self.credentials.username.as_str());
        let secret_ok = if action
            .get("AuthType")
            .is_some_and(|t| t.eq_ignore_ascii_case("md5"))
        {
            match (&self.challenge, action.get("Key")) {
                (Some(challenge), Some(key)) => {
                    key.eq_ignore_ascii_case(&md5_key(challenge, &self.credentials.secret))
                }
                _ => false,
            }
        } else {
            action.get("Secret") == Some(self.credentials.secret.as_str())
        };
        if self.faults.refuse_logins.load(Ordering::Relaxed) || !user_ok || !secret_ok {
            return (vec![error_reply(id, "Authentication failed")], After::Close);
        }
        self.logged_in = true;
        let events_on = !action
            .get("Events")
            .is_some_and(|e| e.eq_ignore_ascii_case("off"));
        let booted = Message::new([
            ("Event", "FullyBooted"),
            ("Privilege", "system,all"),
            ("Uptime", "0"),
            ("LastReload", "0"),
            ("Status", "Fully Booted"),
        ]);
        let replies = vec![
            reply(
                id,
                "Success",
                &[("Message", "Authentication accepted".into())],
            ),
            booted,
        ];
        (
            replies,
            if events_on {
                After::Subscribe
            } else {
                After::Continue
            },
        )
    }

    fn queue_pause(&self, action: &Message, id: Option<&str>) -> Message {
        let Some(interface) = action.get("Interface") else {
            return error_reply(id, "Need 'Interface' and 'Paused' parameters.");
        };
        let Some(paused) = action.get("Paused").map(truthy) else {
            return error_reply(id, "Need 'Interface' and 'Paused' parameters.");
        };
        let reason = action.get("Reason").unwrap_or("");
        let mut core = lock(&self.core);
        match core.sim.agent_by_interface(interface) {
            Ok(agent) => {
                core.sim.set_paused(agent, paused, reason);
                let message = if paused {
                    "Interface paused successfully"
                } else {
                    "Interface unpaused successfully"
                };
                reply(id, "Success", &[("Message", message.into())])
            }
            Err(_) => error_reply(id, "Interface not found"),
        }
    }

    fn queue_membership(&self, action: &Message, id: Option<&str>, add: bool) -> Message {
        let (Some(queue), Some(interface)) = (action.get("Queue"), action.get("Interface")) else {
            return error_reply(id, "'Queue' and 'Interface' not specified.");
        };
        let mut core = lock(&self.core);
        let (Ok(queue), Ok(agent)) = (
            core.sim.queue_by_name(queue),
            core.sim.agent_by_interface(interface),
        ) else {
            let what = if add {
                "Unable to add interface to queue: No such queue"
            } else {
                "Unable to remove interface from queue: No such queue"
            };
            return error_reply(id, what);
        };
        let done = if add {
            core.sim.add_member(agent, queue)
        } else {
            core.sim.remove_member(agent, queue)
        };
        match (done, add) {
            (Ok(()), true) => reply(
                id,
                "Success",
                &[("Message", "Added interface to queue".into())],
            ),
            (Ok(()), false) => reply(
                id,
                "Success",
                &[("Message", "Removed interface from queue".into())],
            ),
            (Err(_), true) => error_reply(id, "Unable to add interface: Already there"),
            (Err(_), false) => error_reply(id, "Unable to remove interface: Not there"),
        }
    }

    /// `Originate` of an outbound call: `Channel` names the number
    /// (`PJSIP/<number>@trunk`), `Variable: QL_CAMPAIGN=<name>` the
    /// campaign (optional when there is one). Answered at once, as with
    /// `Async: true`; the outcome follows as `OriginateResponse` with the
    /// same ActionID.
    fn originate(&self, action: &Message, id: Option<&str>) -> Message {
        let Some(channel) = action.get("Channel") else {
            return error_reply(id, "Channel not specified");
        };
        let number = channel
            .split_once('/')
            .map_or(channel, |(_, rest)| rest)
            .split('@')
            .next()
            .unwrap_or_default();
        if number.is_empty() {
            return error_reply(id, "Invalid channel");
        }
        let named = action
            .get_all("Variable")
            .flat_map(|v| v.split(','))
            .find_map(|pair| {
                pair.trim()
                    .strip_prefix(CAMPAIGN_VARIABLE)?
                    .strip_prefix('=')
            });
        let mut core = lock(&self.core);
        let campaign = match named {
            Some(name) => core.sim.campaign_by_name(name).ok(),
            None if core.sim.config().campaigns.len() == 1 => core
                .sim
                .campaign_by_name(&core.sim.config().campaigns[0].name.clone())
                .ok(),
            None => None,
        };
        let Some(campaign) = campaign else {
            return error_reply(id, "Extension does not exist.");
        };
        core.sim.originate(campaign, number, id.map(str::to_owned));
        reply(
            id,
            "Success",
            &[("Message", "Originate successfully queued".into())],
        )
    }
}

fn truthy(value: &str) -> bool {
    matches!(
        value.to_ascii_lowercase().as_str(),
        "1" | "true" | "yes" | "on"
    )
}

fn reply(id: Option<&str>, response: &str, body: &[(&str, String)]) -> Message {
    let mut headers = vec![("Response".to_owned(), response.to_owned())];
    if let Some(id) = id {
        headers.push(("ActionID".to_owned(), id.to_owned()));
    }
    headers.extend(body.iter().map(|(k, v)| ((*k).to_owned(), v.clone())));
    Message { headers }
}

fn error_reply(id: Option<&str>, message: &str) -> Message {
    reply(id, "Error", &[("Message", message.to_owned())])
}
