//! The AMI client's connection state machine, without I/O: the driver
//! feeds it what happened (connected, a frame, a tick of the clock, the
//! link lost) and carries out what it returns (send this action, journal
//! this event, apply this state snapshot, close, wait this long).
//!
//! ```text
//!                 connected          banner            Login ok           QueueStatusComplete
//!  Disconnected ───────────▶ Banner ───────▶ LoggingIn ─────────▶ Resyncing ───────────────▶ Live
//!    ▲                                         │ (MD5: Challenge first)                       │
//!    │                                         │ "Authentication failed"                      │
//!    │                                         ▼                                              │
//!    │                                     Refused  (terminal: bad credentials never heal)     │
//!    └──── backoff (exponential, jitter, ≤ 60 s) ◀── link lost / Ping unanswered ◀───────────┘
//! ```
//!
//! Guarantees: every response is matched to its action by ActionID (ours
//! are `ql-<n>`); a Ping not answered within its timeout ends the link; a
//! refused login stops reconnecting and says so; every connect resyncs the
//! queue state with `QueueStatus` (then the channels with
//! `CoreShowChannels`) before the session counts as live.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use crate::codec::{Frame, Message};
use crate::login::md5_key;

/// How to log in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthKind {
    /// `Secret` in the clear.
    Plain,
    /// `Challenge`, then `Key` = MD5(challenge + secret).
    Md5,
}

/// How many reply timeouts an action may wait while other frames keep
/// arriving (a reply behind a long burst of events).
const REPLY_PATIENCE: u32 = 4;

/// Settings of a session.
#[derive(Debug, Clone)]
pub struct SessionConfig {
    /// `Username`.
    pub username: String,
    /// `Secret`.
    pub secret: String,
    /// Plain or MD5 login.
    pub auth: AuthKind,
    /// Idle time after which a `Ping` is sent.
    pub ping_every: Duration,
    /// How long a `Ping` (or any action) may go unanswered on a quiet
    /// link (four times as long while events keep arriving).
    pub reply_timeout: Duration,
    /// First reconnect delay; doubles per failed attempt.
    pub backoff_first: Duration,
    /// Longest reconnect delay.
    pub backoff_max: Duration,
    /// Seed of the reconnect jitter.
    pub jitter_seed: u64,
}

impl SessionConfig {
    /// Plain login, ping every 10 s with a 5 s timeout, backoff from
    /// 500 ms up to 60 s.
    pub fn new(username: &str, secret: &str) -> Self {
        SessionConfig {
            username: username.to_owned(),
            secret: secret.to_owned(),
            auth: AuthKind::Plain,
            ping_every: Duration::from_secs(10),
            reply_timeout: Duration::from_secs(5),
            backoff_first: Duration::from_millis(500),
            backoff_max: Duration::from_secs(60),
            jitter_seed: 0x5EED,
        }
    }
}

/// Where the session stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum State {
    /// No link; the driver reconnects after the backoff it was given.
    Disconnected,
    /// Connected, waiting for `Asterisk Call Manager/<version>`.
    Banner,
    /// Login sent (or the MD5 challenge asked for).
    LoggingIn,
    /// Logged in; `QueueStatus` sent, its list not complete yet.
    Resyncing,
    /// Logged in and resynced: events are current.
    Live,
    /// The server refused the credentials; the session will not retry.
    Refused(String),
}

/// Why the link ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Disconnect {
    /// The server closed the connection.
    Closed,
    /// Reading or writing failed.
    Io(String),
    /// An action (a `Ping`) got no reply in time.
    ReplyTimeout(String),
    /// Connecting failed.
    ConnectFailed(String),
    /// The server refused the login (its `Message`).
    LoginRefused(String),
}

impl std::fmt::Display for Disconnect {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Disconnect::Closed => write!(f, "closed by the server"),
            Disconnect::Io(e) => write!(f, "i/o error: {e}"),
            Disconnect::ReplyTimeout(action) => write!(f, "no reply to {action} in time"),
            Disconnect::ConnectFailed(e) => write!(f, "connect failed: {e}"),
            Disconnect::LoginRefused(why) => write!(f, "login refused: {why}"),
        }
    }
}

/// What the driver must do.
#[derive(Debug, Clone, PartialEq)]
pub enum Output {
    /// Write this action.
    Send(Message),
    /// An event (or a list item of someone else's action): journal it.
    Event(Message),
    /// A complete `QueueStatus` answer (QueueParams, QueueMember,
    /// QueueEntry items) followed by the `CoreShowChannels` one
    /// (CoreShowChannel items): replace the live state with it.
    Resync(Vec<Message>),
    /// The state changed.
    State(State),
    /// The reply to an action the driver sent with [`Session::action`].
    Reply(Message),
    /// The PBX's clock (Unix seconds) as a `Ping` reply's `Timestamp`
    /// gives it: a resync's list items carry no `Timestamp`, so the
    /// session pings just before each resync to time it by the PBX.
    Clock(f64),
    /// Close the connection (the session calls `disconnected` itself).
    Close(Disconnect),
}

#[derive(Debug)]
enum Pending {
    Challenge,
    Login,
    QueueStatus(Vec<Message>),
    /// `CoreShowChannels` after `QueueStatus`, with the queue items.
    Channels(Vec<Message>),
    Ping,
    User,
}

/// The state machine. One per configured server; it survives reconnects.
#[derive(Debug)]
pub struct Session {
    config: SessionConfig,
    state: State,
    next_id: u64,
    pending: HashMap<String, (Pending, Instant)>,
    last_heard: Instant,
    failures: u32,
    jitter: u64,
    /// Version from the banner.
    banner: Option<String>,
}

impl Session {
    /// A session, disconnected.
    pub fn new(config: SessionConfig, now: Instant) -> Self {
        let jitter = config.jitter_seed | 1;
        Session {
            config,
            state: State::Disconnected,
            next_id: 1,
            pending: HashMap::new(),
            last_heard: now,
            failures: 0,
            jitter,
            banner: None,
        }
    }

    /// Where the session stands.
    pub fn state(&self) -> &State {
        &self.state
    }

    /// The last banner received (`Asterisk Call Manager/…`).
    pub fn banner(&self) -> Option<&str> {
        self.banner.as_deref()
    }

    fn set(&mut self, state: State, out: &mut Vec<Output>) {
        if self.state != state {
            self.state = state.clone();
            out.push(Output::State(state));
        }
    }

    fn send(
        &mut self,
        mut action: Message,
        kind: Pending,
        now: Instant,
        out: &mut Vec<Output>,
    ) -> String {
        let id = format!("ql-{}", self.next_id);
        self.next_id += 1;
        action
            .headers
            .retain(|(k, _)| !k.eq_ignore_ascii_case("ActionID"));
        action.headers.insert(
            1.min(action.headers.len()),
            ("ActionID".to_owned(), id.clone()),
        );
        self.pending.insert(id.clone(), (kind, now));
        out.push(Output::Send(action));
        id
    }

    /// Sends an action of the driver's own (e.g. `Originate`); its reply
    /// comes back as [`Output::Reply`]. Returns the ActionID it was given.
    pub fn action(&mut self, action: Message, now: Instant) -> (String, Vec<Output>) {
        let mut out = Vec::new();
        let id = self.send(action, Pending::User, now, &mut out);
        (id, out)
    }

    /// The TCP connection is up.
    pub fn connected(&mut self, now: Instant) -> Vec<Output> {
        let mut out = Vec::new();
        self.pending.clear();
        self.last_heard = now;
        self.set(State::Banner, &mut out);
        out
    }

    /// The link is gone (or never came up). Returns how long to wait
    /// before reconnecting; `None` after a refused login.
    pub fn disconnected(&mut self, _why: &Disconnect) -> (Option<Duration>, Vec<Output>) {
        let mut out = Vec::new();
        self.pending.clear();
        if let State::Refused(_) = self.state {
            return (None, out);
        }
        self.set(State::Disconnected, &mut out);
        self.failures = self.failures.saturating_add(1);
        (Some(self.backoff()), out)
    }

    /// Full jitter over an exponential ceiling: uniform in
    /// [ceiling/2, ceiling], ceiling = first × 2^(failures−1) capped at the
    /// maximum — reconnecting clients spread out, and never wait longer
    /// than the cap.
    fn backoff(&mut self) -> Duration {
        let exp = self.failures.saturating_sub(1).min(30);
        let ceiling = self
            .config
            .backoff_first
            .saturating_mul(1u32 << exp.min(31))
            .min(self.config.backoff_max);
        // xorshift64
        self.jitter ^= self.jitter << 13;
        self.jitter ^= self.jitter >> 7;
        self.jitter ^= self.jitter << 17;
        let fraction = (self.jitter >> 11) as f64 / (1u64 << 53) as f64;
        ceiling.mul_f64(0.5 + fraction / 2.0)
    }

    /// Time passed: sends a `Ping` when the link was idle, and ends the
    /// link when an action went unanswered too long.
    pub fn tick(&mut self, now: Instant) -> Vec<Output> {
        let mut out = Vec::new();
        if matches!(self.state, State::Disconnected | State::Refused(_)) {
            return out;
        }
        // A reply queues behind the events sent before it (a burst of
        // 100 000 takes a while to read): while frames keep arriving the
        // link is alive, and an action is late only once the link has also
        // been quiet for the timeout — or it has waited four times as long.
        let timeout = self.config.reply_timeout;
        let quiet = now.saturating_duration_since(self.last_heard) > timeout;
        let late = self.pending.values().find(|(_, sent)| {
            let waited = now.saturating_duration_since(*sent);
            waited > timeout && (quiet || waited > timeout.saturating_mul(REPLY_PATIENCE))
        });
        if let Some((kind, _)) = late {
            let what = match kind {
                Pending::Ping => "Ping",
                Pending::Login | Pending::Challenge => "Login",
                Pending::QueueStatus(_) => "QueueStatus",
                Pending::Channels(_) => "CoreShowChannels",
                Pending::User => "an action",
            };
            out.push(Output::Close(Disconnect::ReplyTimeout(what.to_owned())));
            return out;
        }
        let idle = now.saturating_duration_since(self.last_heard) >= self.config.ping_every;
        let pinging = self
            .pending
            .values()
            .any(|(k, _)| matches!(k, Pending::Ping));
        if idle && !pinging && matches!(self.state, State::Resyncing | State::Live) {
            self.send(
                Message::new([("Action", "Ping")]),
                Pending::Ping,
                now,
                &mut out,
            );
        }
        out
    }

    /// A frame arrived.
    pub fn frame(&mut self, frame: Frame, now: Instant) -> Vec<Output> {
        let mut out = Vec::new();
        self.last_heard = now;
        let message = match frame {
            Frame::Banner(banner) => {
                self.banner = Some(banner);
                if self.state == State::Banner {
                    self.start_login(now, &mut out);
                }
                return out;
            }
            Frame::Message(message) => message,
        };
        let id = message.get("ActionID").map(str::to_owned);
        let pending = id.as_ref().and_then(|id| self.pending.remove(id));
        match pending {
            None => out.push(Output::Event(message)),
            Some((kind, sent)) => {
                self.answer(kind, sent, id.unwrap_or_default(), message, now, &mut out)
            }
        }
        out
    }

    fn start_login(&mut self, now: Instant, out: &mut Vec<Output>) {
        self.set(State::LoggingIn, out);
        match self.config.auth {
            AuthKind::Plain => {
                let login = Message::new([
                    ("Action", "Login"),
                    ("Username", self.config.username.as_str()),
                    ("Secret", self.config.secret.as_str()),
                    ("Events", "on"),
                ]);
                self.send(login, Pending::Login, now, out);
            }
            AuthKind::Md5 => {
                let challenge = Message::new([("Action", "Challenge"), ("AuthType", "MD5")]);
                self.send(challenge, Pending::Challenge, now, out);
            }
        }
    }

    fn answer(
        &mut self,
        kind: Pending,
        sent: Instant,
        id: String,
        message: Message,
        now: Instant,
        out: &mut Vec<Output>,
    ) {
        let success = message
            .get("Response")
            .is_some_and(|r| r.eq_ignore_ascii_case("Success"));
        match kind {
            Pending::Challenge => match message.get("Challenge") {
                Some(challenge) if success => {
                    let key = md5_key(challenge, &self.config.secret);
                    let login = Message::new([
                        ("Action", "Login"),
                        ("AuthType", "MD5"),
                        ("Username", self.config.username.as_str()),
                        ("Key", key.as_str()),
                        ("Events", "on"),
                    ]);
                    self.send(login, Pending::Login, now, out);
                }
                _ => self.refuse(&message, out),
            },
            Pending::Login => {
                if success {
                    self.failures = 0;
                    self.set(State::Resyncing, out);
                    // Answered before the lists: the PBX's clock for them.
                    let ping = Message::new([("Action", "Ping")]);
                    self.send(ping, Pending::Ping, now, out);
                    let status = Message::new([("Action", "QueueStatus")]);
                    self.send(status, Pending::QueueStatus(Vec::new()), now, out);
                } else {
                    self.refuse(&message, out);
                }
            }
            Pending::QueueStatus(mut items) => {
                let event = message.get("Event").unwrap_or_default();
                if event.eq_ignore_ascii_case("QueueStatusComplete") {
                    // Then the channels (campaign calls): one resync of both.
                    let channels = Message::new([("Action", "CoreShowChannels")]);
                    self.send(channels, Pending::Channels(items), now, out);
                } else if message.get("Response").is_some() && !success {
                    // The server cannot list queues; the session is live
                    // without a snapshot rather than stuck.
                    out.push(Output::Resync(Vec::new()));
                    self.set(State::Live, out);
                } else {
                    collect(&mut items, message);
                    self.pending
                        .insert(id, (Pending::QueueStatus(items), sent.max(now)));
                }
            }
            Pending::Channels(mut items) => {
                let event = message.get("Event").unwrap_or_default();
                let refused = message.get("Response").is_some() && !success;
                if event.eq_ignore_ascii_case("CoreShowChannelsComplete") || refused {
                    // A server that cannot list channels still gives the queues.
                    out.push(Output::Resync(items));
                    self.set(State::Live, out);
                } else {
                    collect(&mut items, message);
                    self.pending
                        .insert(id, (Pending::Channels(items), sent.max(now)));
                }
            }
            Pending::Ping => {
                if let Some(at) = crate::live::timestamp(&message) {
                    out.push(Output::Clock(at));
                }
            }
            Pending::User => out.push(Output::Reply(message)),
        }
    }

    fn refuse(&mut self, message: &Message, out: &mut Vec<Output>) {
        let why = message.get("Message").unwrap_or("login refused").to_owned();
        self.set(State::Refused(why.clone()), out);
        out.push(Output::Close(Disconnect::LoginRefused(why)));
    }
}

/// Keeps a list item; the list's acknowledgement ("… will follow", no
/// `Event`) is not one.
fn collect(items: &mut Vec<Message>, message: Message) {
    if message.get("Event").is_some() {
        items.push(message);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(pairs: &[(&str, &str)]) -> Frame {
        Frame::Message(Message::new(pairs.iter().copied()))
    }

    fn sent(out: &[Output]) -> Vec<Message> {
        out.iter()
            .filter_map(|o| match o {
                Output::Send(m) => Some(m.clone()),
                _ => None,
            })
            .collect()
    }

    fn logged_in(auth: AuthKind) -> (Session, Instant) {
        let now = Instant::now();
        let mut config = SessionConfig::new("ql", "s3cret");
        config.auth = auth;
        let mut s = Session::new(config, now);
        s.connected(now);
        let out = s.frame(Frame::Banner("Asterisk Call Manager/9.0.0".into()), now);
        let first = &sent(&out)[0];
        let login_id = if auth == AuthKind::Md5 {
            assert_eq!(first.get("Action"), Some("Challenge"));
            let id = first.get("ActionID").unwrap().to_owned();
            let out = s.frame(
                msg(&[
                    ("Response", "Success"),
                    ("ActionID", &id),
                    ("Challenge", "840318745"),
                ]),
                now,
            );
            let login = &sent(&out)[0];
            assert_eq!(
                login.get("Key"),
                Some(md5_key("840318745", "s3cret").as_str())
            );
            assert_eq!(
                login.get("Secret"),
                None,
                "the secret never goes over the wire"
            );
            login.get("ActionID").unwrap().to_owned()
        } else {
            assert_eq!(first.get("Secret"), Some("s3cret"));
            first.get("ActionID").unwrap().to_owned()
        };
        s.frame(
            msg(&[
                ("Response", "Success"),
                ("ActionID", &login_id),
                ("Message", "Authentication accepted"),
            ]),
            now,
        );
        (s, now)
    }

    #[test]
    fn login_then_resync_then_live() {
        for auth in [AuthKind::Plain, AuthKind::Md5] {
            let (mut s, now) = logged_in(auth);
            assert_eq!(s.state(), &State::Resyncing);
            // The ping sent before the lists times them by the PBX's clock.
            let ping_id = s
                .pending
                .iter()
                .find(|(_, (k, _))| matches!(k, Pending::Ping))
                .map(|(id, _)| id.clone())
                .expect("a ping before the resync");
            let out = s.frame(
                msg(&[
                    ("Response", "Success"),
                    ("ActionID", &ping_id),
                    ("Ping", "Pong"),
                    ("Timestamp", "1709719200.250000"),
                ]),
                now,
            );
            assert_eq!(out, [Output::Clock(1_709_719_200.25)]);
            let status_id = s
                .pending
                .iter()
                .find(|(_, (k, _))| matches!(k, Pending::QueueStatus(_)))
                .map(|(id, _)| id.clone())
                .unwrap();
            s.frame(
                msg(&[
                    ("Response", "Success"),
                    ("ActionID", &status_id),
                    ("EventList", "start"),
                ]),
                now,
            );
            // An unrelated event in between is an event, not a list item.
            let out = s.frame(msg(&[("Event", "QueueMemberStatus"), ("Queue", "q")]), now);
            assert!(matches!(&out[0], Output::Event(_)));
            s.frame(
                msg(&[
                    ("Event", "QueueParams"),
                    ("Queue", "q"),
                    ("ActionID", &status_id),
                ]),
                now,
            );
            s.frame(
                msg(&[
                    ("Event", "QueueMember"),
                    ("Queue", "q"),
                    ("ActionID", &status_id),
                ]),
                now,
            );
            let out = s.frame(
                msg(&[("Event", "QueueStatusComplete"), ("ActionID", &status_id)]),
                now,
            );
            assert_eq!(s.state(), &State::Resyncing);
            let channels_id = sent(&out)[0].get("ActionID").unwrap().to_owned();
            assert_eq!(sent(&out)[0].get("Action"), Some("CoreShowChannels"));
            s.frame(
                msg(&[
                    ("Event", "CoreShowChannel"),
                    ("Channel", "PJSIP/trunk-1"),
                    ("ActionID", &channels_id),
                ]),
                now,
            );
            let out = s.frame(
                msg(&[
                    ("Event", "CoreShowChannelsComplete"),
                    ("ActionID", &channels_id),
                ]),
                now,
            );
            let Output::Resync(items) = &out[0] else {
                panic!("{out:?}")
            };
            assert_eq!(items.len(), 3);
            assert_eq!(s.state(), &State::Live);
        }
    }

    #[test]
    fn a_refused_login_is_terminal() {
        let now = Instant::now();
        let mut s = Session::new(SessionConfig::new("ql", "wrong"), now);
        s.connected(now);
        let out = s.frame(Frame::Banner("Asterisk Call Manager/9.0.0".into()), now);
        let id = sent(&out)[0].get("ActionID").unwrap().to_owned();
        let out = s.frame(
            msg(&[
                ("Response", "Error"),
                ("ActionID", &id),
                ("Message", "Authentication failed"),
            ]),
            now,
        );
        assert_eq!(s.state(), &State::Refused("Authentication failed".into()));
        assert!(out.iter().any(|o| matches!(o, Output::Close(_))));
        let (retry, _) = s.disconnected(&Disconnect::Closed);
        assert_eq!(retry, None, "bad credentials are not retried");
    }

    #[test]
    fn an_unanswered_ping_ends_the_link() {
        let (mut s, now) = logged_in(AuthKind::Plain);
        let later = now + Duration::from_secs(11);
        // Resync outstanding longer than the timeout also counts; answer it
        // (and the ping sent before it).
        s.pending
            .retain(|_, (k, _)| !matches!(k, Pending::QueueStatus(_) | Pending::Ping));
        let out = s.tick(later);
        assert_eq!(sent(&out)[0].get("Action"), Some("Ping"));
        assert!(s.tick(later + Duration::from_secs(3)).is_empty());
        let out = s.tick(later + Duration::from_secs(6));
        assert_eq!(
            out,
            [Output::Close(Disconnect::ReplyTimeout("Ping".into()))]
        );
    }

    #[test]
    fn a_reply_behind_a_stream_of_events_may_be_late_but_not_forever() {
        let (mut s, now) = logged_in(AuthKind::Plain);
        s.pending
            .retain(|_, (k, _)| !matches!(k, Pending::QueueStatus(_) | Pending::Ping));
        let later = now + Duration::from_secs(11);
        assert_eq!(sent(&s.tick(later))[0].get("Action"), Some("Ping"));
        let event = || msg(&[("Event", "UserEvent"), ("UserEvent", "Burst")]);
        // Events every second: the Ping's reply (5 s timeout) may wait.
        for second in 1..20 {
            let at = later + Duration::from_secs(second);
            s.frame(event(), at);
            assert!(s.tick(at).is_empty(), "closed after {second} s of events");
        }
        let at = later + Duration::from_secs(21);
        s.frame(event(), at);
        assert_eq!(
            s.tick(at),
            [Output::Close(Disconnect::ReplyTimeout("Ping".into()))],
            "four timeouts is the most a reply may wait"
        );
    }

    #[test]
    fn backoff_grows_with_jitter_and_stays_under_a_minute() {
        let now = Instant::now();
        let mut s = Session::new(SessionConfig::new("ql", "x"), now);
        let delays: Vec<Duration> = (0..20)
            .map(|_| {
                s.disconnected(&Disconnect::ConnectFailed("refused".into()))
                    .0
                    .unwrap()
            })
            .collect();
        assert!(delays[0] >= Duration::from_millis(250) && delays[0] <= Duration::from_millis(500));
        assert!(delays[3] >= Duration::from_secs(2) && delays[3] <= Duration::from_secs(4));
        assert!(delays.iter().all(|d| *d <= Duration::from_secs(60)));
        assert!(
            delays[19] >= Duration::from_secs(30),
            "capped at 60 s, jitter down to half"
        );
        let distinct: std::collections::HashSet<_> = delays[10..].iter().collect();
        assert!(distinct.len() > 5, "jitter spreads the capped delays");
    }

    #[test]
    fn replies_are_matched_by_action_id() {
        let (mut s, now) = logged_in(AuthKind::Plain);
        let (id, out) = s.action(
            Message::new([("Action", "Originate"), ("ActionID", "theirs")]),
            now,
        );
        assert_eq!(
            sent(&out)[0].get_all("ActionID").collect::<Vec<_>>(),
            [id.as_str()]
        );
        let out = s.frame(
            msg(&[
                ("Response", "Success"),
                ("ActionID", &id),
                ("Message", "Originate successfully queued"),
            ]),
            now,
        );
        assert!(
            matches!(&out[0], Output::Reply(m) if m.get("Message") == Some("Originate successfully queued"))
        );
        // A later event with the same ActionID (OriginateResponse) is an event.
        let out = s.frame(
            msg(&[("Event", "OriginateResponse"), ("ActionID", &id)]),
            now,
        );
        assert!(matches!(&out[0], Output::Event(_)));
    }
}
