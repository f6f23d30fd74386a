//! Simulation events as Asterisk 20 would report them: queue_log lines
//! (file backend, formats.md §1.2/§1.5) and AMI events (§2.3–2.5), with
//! channel names and uniqueids as Asterisk makes them (`<boot epoch>.<n>`,
//! one counter for every channel).
//!
//! The renderer keeps its own mirror of each member (paused, calls taken,
//! last call, login time) from the events it has rendered, so every event
//! carries the member's state at its own instant.

use std::collections::HashMap;

use queuelake_ami::Message;
use queuelake_scheduler::sim::{
    AgentActivity, AgentId, CallId, DialFailure, HungUpBy, Millis, QueueId, SimConfig, SimEvent,
    Simulation, Timed,
};

/// The AMI version of Asterisk 20's banner.
pub const AMI_VERSION: &str = "9.0.0";
/// The channel variable that names an outbound call's campaign (as if
/// manager.conf had `channelvars=QL_CAMPAIGN`): the one the live state reads.
pub use queuelake_ami::live::CAMPAIGN_VARIABLE;

/// Device states of `QueueMemberStatus`/`QueueMember` (`Status`).
const NOT_INUSE: u8 = 1;
const INUSE: u8 = 2;
const RINGING: u8 = 6;

#[derive(Debug, Clone)]
struct Channel {
    name: String,
    uniqueid: String,
    linkedid: String,
    caller: String,
    state: u8,
    campaign: Option<String>,
    action_id: Option<String>,
    /// The dialplan application it is in (`CoreShowChannel`'s
    /// `Application`).
    application: &'static str,
    /// The cause its `Hangup` will carry (16, normal clearing, unless the
    /// dial failed).
    cause: u8,
}

#[derive(Debug, Clone, Default)]
struct MemberMirror {
    paused: bool,
    reason: String,
    calls_taken: u64,
    last_call_s: i64,
    last_pause_s: i64,
    login_s: i64,
    status: u8,
    in_call: bool,
}

/// How the emulated PBX shapes what it reports where real Asterisk set-ups
/// differ; the defaults (all false) are a stock Asterisk 18/20's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PbxShape {
    /// Whether an originated channel's `Newchannel` already carries the
    /// campaign variable. Stock Asterisk (false): `Newchannel` is published
    /// when the channel is allocated, before Originate's `Variable:` list
    /// is applied; a `VarSet` follows, and later snapshots carry it.
    pub campaign_on_newchannel: bool,
    /// Whether the member blob's `Wrapuptime` carries the queue's wrap-up.
    /// Stock (false): queues.conf's `wrapuptime` is the queue's; the blob
    /// reports the member's own setting, 0 unless set per member.
    pub wrapup_in_member_blob: bool,
}

/// What one simulation event becomes.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Rendered {
    /// queue_log lines, without their newline.
    pub lines: Vec<String>,
    /// AMI events.
    pub events: Vec<Message>,
}

/// Turns simulation events into queue_log lines and AMI events.
#[derive(Debug)]
pub struct Renderer {
    config: SimConfig,
    boot_s: i64,
    next_channel: u64,
    callers: HashMap<CallId, Channel>,
    members: HashMap<(CallId, AgentId), Channel>,
    mirror: Vec<MemberMirror>,
    started: bool,
    ami: bool,
    shape: PbxShape,
}

fn seconds(at: Millis) -> i64 {
    at.div_euclid(1000)
}

impl Renderer {
    /// A renderer for the simulation's contact center, as an Asterisk that
    /// booted at `boot` (uniqueids are `<boot seconds>.<counter>`).
    pub fn new(config: &SimConfig, boot: Millis) -> Self {
        Renderer {
            config: config.clone(),
            boot_s: seconds(boot),
            next_channel: 0,
            callers: HashMap::new(),
            members: HashMap::new(),
            mirror: vec![MemberMirror::default(); config.agents.len()],
            started: false,
            ami: true,
            shape: PbxShape::default(),
        }
    }

    /// Reports in `shape` from now on.
    pub fn set_shape(&mut self, shape: PbxShape) {
        self.shape = shape;
    }

    /// Whether to build AMI events (off while generating history, which
    /// needs queue_log lines only; channels and member state are kept
    /// either way).
    pub fn set_ami(&mut self, on: bool) {
        self.ami = on;
    }

    /// The queue_log line Asterisk writes when its queue logger starts.
    pub fn queue_start_line(at: Millis) -> String {
        format!("{}|NONE|NONE|NONE|QUEUESTART|", seconds(at))
    }

    /// The line that starts a file after rotation.
    pub fn config_reload_line(at: Millis) -> String {
        format!("{}|NONE|NONE|NONE|CONFIGRELOAD|", seconds(at))
    }

    fn new_channel(&mut self, tech_prefix: &str, caller: &str, linkedid: Option<&str>) -> Channel {
        let n = self.next_channel;
        self.next_channel += 1;
        let uniqueid = format!("{}.{n}", self.boot_s);
        Channel {
            name: format!("{tech_prefix}-{n:08x}"),
            linkedid: linkedid.map_or_else(|| uniqueid.clone(), str::to_owned),
            uniqueid,
            caller: caller.to_owned(),
            state: 6,
            campaign: None,
            action_id: None,
            application: "",
            cause: 16,
        }
    }

    fn queue_name(&self, queue: QueueId) -> &str {
        &self.config.queues[queue.0].name
    }

    /// Renders one event.
    pub fn render(&mut self, timed: &Timed) -> Rendered {
        let mut out = Rendered::default();
        let t = seconds(timed.at);
        if !self.started {
            self.started = true;
            out.lines.push(Self::queue_start_line(timed.at));
        }
        match &timed.event {
            SimEvent::CallerJoin {
                call,
                queue,
                caller,
                position,
                count,
            } => {
                let channel = match self.callers.get(call) {
                    Some(existing) => existing.clone(),
                    None => {
                        let ch = self.new_channel("PJSIP/trunk", caller, None);
                        if self.ami {
                            out.events.push(self.channel_event("Newchannel", &ch, &[]));
                        }
                        self.callers.insert(*call, ch.clone());
                        ch
                    }
                };
                if let Some(ch) = self.callers.get_mut(call) {
                    ch.application = "Queue";
                }
                let q = self.queue_name(*queue).to_owned();
                out.lines.push(format!(
                    "{t}|{}|{q}|NONE|ENTERQUEUE||{caller}|{position}",
                    channel.uniqueid
                ));
                if self.ami {
                    out.events.push(self.channel_event(
                        "QueueCallerJoin",
                        &channel,
                        &[
                            ("Queue", q),
                            ("Position", position.to_string()),
                            ("Count", count.to_string()),
                        ],
                    ));
                }
            }
            SimEvent::Ring { call, queue, agent } => {
                let Some(caller) = self.callers.get(call).cloned() else {
                    return out;
                };
                let interface = self.config.agents[agent.0].interface.clone();
                let mut member =
                    self.new_channel(&interface, &caller.caller, Some(&caller.linkedid));
                member.state = 5;
                member.application = "AppQueue";
                if self.ami {
                    out.events.push(self.agent_event(
                        "AgentCalled",
                        &caller,
                        &member,
                        *queue,
                        *agent,
                        &[],
                    ));
                }
                self.members.insert((*call, *agent), member);
                self.device_changed(&mut out, *agent, *queue, RINGING, false);
            }
            SimEvent::RingNoAnswer {
                call,
                queue,
                agent,
                ring_ms,
            } => {
                out.lines.push(self.call_line(
                    t,
                    *call,
                    *queue,
                    Some(*agent),
                    "RINGNOANSWER",
                    &ring_ms.to_string(),
                ));
                if let (Some(caller), Some(member)) = (
                    self.callers.get(call).cloned(),
                    self.members.remove(&(*call, *agent)),
                ) && self.ami
                {
                    out.events.push(self.agent_event(
                        "AgentRingNoAnswer",
                        &caller,
                        &member,
                        *queue,
                        *agent,
                        &[("RingTime", ring_ms.to_string())],
                    ));
                }
                self.device_changed(&mut out, *agent, *queue, NOT_INUSE, false);
            }
            SimEvent::RingCanceled {
                call,
                queue,
                agent,
                ring_ms,
            } => {
                out.lines.push(self.call_line(
                    t,
                    *call,
                    *queue,
                    Some(*agent),
                    "RINGCANCELED",
                    &ring_ms.to_string(),
                ));
                self.members.remove(&(*call, *agent));
                self.device_changed(&mut out, *agent, *queue, NOT_INUSE, false);
            }
            SimEvent::RingStopped { call, queue, agent } => {
                self.members.remove(&(*call, *agent));
                self.device_changed(&mut out, *agent, *queue, NOT_INUSE, false);
            }
            SimEvent::CallerLeave {
                call,
                queue,
                position,
                count,
            } => {
                self.push_caller_event(
                    &mut out,
                    *call,
                    "QueueCallerLeave",
                    &[
                        ("Queue", self.queue_name(*queue).to_owned()),
                        ("Count", count.to_string()),
                        ("Position", position.to_string()),
                    ],
                );
            }
            SimEvent::Connect {
                call,
                queue,
                agent,
                hold_s,
                ring_s,
                ..
            } => {
                let member = self.members.get(&(*call, *agent)).cloned();
                let member_uid = member
                    .as_ref()
                    .map_or("", |m| m.uniqueid.as_str())
                    .to_owned();
                out.lines.push(self.call_line(
                    t,
                    *call,
                    *queue,
                    Some(*agent),
                    "CONNECT",
                    &format!("{hold_s}|{member_uid}|{ring_s}"),
                ));
                if let (Some(caller), Some(mut member)) = (self.callers.get(call).cloned(), member)
                {
                    member.state = 6;
                    if self.ami {
                        out.events.push(self.agent_event(
                            "AgentConnect",
                            &caller,
                            &member,
                            *queue,
                            *agent,
                            &[
                                ("HoldTime", hold_s.to_string()),
                                ("RingTime", ring_s.to_string()),
                            ],
                        ));
                    }
                    self.members.insert((*call, *agent), member);
                }
                self.device_changed(&mut out, *agent, *queue, INUSE, true);
            }
            SimEvent::Complete {
                call,
                queue,
                agent,
                hold_s,
                talk_s,
                orig_position,
                by,
            } => {
                let (verb, reason) = match by {
                    HungUpBy::Caller => ("COMPLETECALLER", "caller"),
                    HungUpBy::Agent => ("COMPLETEAGENT", "agent"),
                };
                out.lines.push(self.call_line(
                    t,
                    *call,
                    *queue,
                    Some(*agent),
                    verb,
                    &format!("{hold_s}|{talk_s}|{orig_position}"),
                ));
                let member = self.members.remove(&(*call, *agent));
                if let (Some(caller), Some(member)) = (self.callers.get(call).cloned(), member) {
                    if self.ami {
                        out.events.push(self.agent_event(
                            "AgentComplete",
                            &caller,
                            &member,
                            *queue,
                            *agent,
                            &[
                                ("HoldTime", hold_s.to_string()),
                                ("TalkTime", talk_s.to_string()),
                                ("Reason", reason.to_owned()),
                            ],
                        ));
                    }
                    if self.ami {
                        out.events
                            .push(self.channel_event("Hangup", &member, &hangup_cause(16)));
                    }
                }
                let mirror = &mut self.mirror[agent.0];
                mirror.calls_taken += 1;
                mirror.last_call_s = t;
                self.device_changed(&mut out, *agent, *queue, NOT_INUSE, false);
            }
            SimEvent::Abandon {
                call,
                queue,
                position,
                orig_position,
                wait_s,
                ..
            } => {
                out.lines.push(self.call_line(
                    t,
                    *call,
                    *queue,
                    None,
                    "ABANDON",
                    &format!("{position}|{orig_position}|{wait_s}"),
                ));
                self.push_caller_event(
                    &mut out,
                    *call,
                    "QueueCallerAbandon",
                    &[
                        ("Queue", self.queue_name(*queue).to_owned()),
                        ("Position", position.to_string()),
                        ("OriginalPosition", orig_position.to_string()),
                        ("HoldTime", wait_s.to_string()),
                    ],
                );
            }
            SimEvent::ExitTimeout {
                call,
                queue,
                position,
                orig_position,
                wait_s,
            } => {
                out.lines.push(self.call_line(
                    t,
                    *call,
                    *queue,
                    None,
                    "EXITWITHTIMEOUT",
                    &format!("{position}|{orig_position}|{wait_s}"),
                ));
            }
            SimEvent::Hangup { call } => {
                if let Some(caller) = self.callers.remove(call)
                    && self.ami
                {
                    out.events.push(self.channel_event(
                        "Hangup",
                        &caller,
                        &hangup_cause(caller.cause),
                    ));
                }
            }
            SimEvent::WrapupEnd { .. } => {}
            SimEvent::MemberAdded { agent, queue } => {
                let interface = &self.config.agents[agent.0].interface;
                out.lines.push(format!(
                    "{t}|MANAGER|{}|{interface}|ADDMEMBER|",
                    self.queue_name(*queue)
                ));
                let mirror = &mut self.mirror[agent.0];
                if mirror.login_s == 0 {
                    mirror.login_s = t;
                }
                mirror.paused = false;
                mirror.reason.clear();
                mirror.status = NOT_INUSE;
                mirror.in_call = false;
                if self.ami {
                    out.events
                        .push(self.member_event("QueueMemberAdded", *agent, *queue));
                }
            }
            SimEvent::MemberRemoved { agent, queue } => {
                let interface = &self.config.agents[agent.0].interface;
                out.lines.push(format!(
                    "{t}|MANAGER|{}|{interface}|REMOVEMEMBER|",
                    self.queue_name(*queue)
                ));
                if self.ami {
                    out.events
                        .push(self.member_event("QueueMemberRemoved", *agent, *queue));
                }
            }
            SimEvent::Pause {
                agent,
                paused,
                reason,
            } => {
                let name = self.config.agents[agent.0].name.clone();
                let (all, one) = if *paused {
                    ("PAUSEALL", "PAUSE")
                } else {
                    ("UNPAUSEALL", "UNPAUSE")
                };
                out.lines
                    .push(format!("{t}|NONE|NONE|{name}|{all}|{reason}"));
                let mirror = &mut self.mirror[agent.0];
                mirror.paused = *paused;
                mirror.reason = reason.clone();
                mirror.last_pause_s = t;
                let queues = self.config.agents[agent.0].queues.clone();
                for queue in queues {
                    let Some(q) = self.config.queue_index(&queue) else {
                        continue;
                    };
                    out.lines
                        .push(format!("{t}|NONE|{queue}|{name}|{one}|{reason}"));
                    if self.ami {
                        out.events
                            .push(self.member_event("QueueMemberPause", *agent, QueueId(q)));
                    }
                }
            }
            SimEvent::Dial {
                call,
                campaign,
                number,
                tag,
            } => {
                let mut ch = self.new_channel("PJSIP/trunk", number, None);
                ch.state = 3;
                ch.application = "AppDial2";
                let name = self.config.campaigns[campaign.0].name.clone();
                ch.action_id = tag.clone();
                if self.shape.campaign_on_newchannel {
                    ch.campaign = Some(name.clone());
                }
                if self.ami {
                    out.events.push(self.channel_event("Newchannel", &ch, &[]));
                }
                if !self.shape.campaign_on_newchannel {
                    // Originate's variables, applied after the allocation.
                    ch.campaign = Some(name.clone());
                    if self.ami {
                        out.events.push(self.channel_event(
                            "VarSet",
                            &ch,
                            &[("Variable", CAMPAIGN_VARIABLE.to_owned()), ("Value", name)],
                        ));
                    }
                }
                if self.ami {
                    // main/dial.c: once ast_call() has gone out, with no
                    // caller channel (an Originate's dial is ownerless).
                    out.events.push(self.dial_event("DialBegin", &ch, None));
                }
                self.callers.insert(*call, ch);
            }
            SimEvent::DialRinging { call, .. } => {
                if let Some(ch) = self.callers.get_mut(call) {
                    ch.state = 5;
                    let ch = ch.clone();
                    if self.ami {
                        out.events.push(self.channel_event("Newstate", &ch, &[]));
                    }
                }
            }
            SimEvent::DialAnswered { call, .. } => {
                if let Some(ch) = self.callers.get_mut(call) {
                    ch.state = 6;
                    ch.application = "AMD";
                    let ch = ch.clone();
                    if self.ami {
                        out.events
                            .push(self.dial_event("DialEnd", &ch, Some("ANSWER")));
                        out.events.push(self.channel_event("Newstate", &ch, &[]));
                        out.events.push(self.originate_response(&ch, "Success", 4));
                    }
                }
            }
            SimEvent::AmdVerdict { call, machine, .. } => {
                // The dialplan's AMD() sets AMDSTATUS when it has decided.
                if let Some(ch) = self.callers.get(call)
                    && self.ami
                {
                    let status = if *machine { "MACHINE" } else { "HUMAN" };
                    out.events.push(self.channel_event(
                        "VarSet",
                        ch,
                        &[
                            ("Variable", "AMDSTATUS".to_owned()),
                            ("Value", status.to_owned()),
                        ],
                    ));
                }
            }
            SimEvent::DialFailed { call, reason, .. } => {
                // OriginateResponse's Reason is the last control frame
                // seen (3 ringing, 5 busy); the channel hangs up with the
                // Q.850 cause (19 no answer, 17 busy).
                let (reason, status, cause) = match reason {
                    DialFailure::NoAnswer => (3, "NOANSWER", 19),
                    DialFailure::Busy => (5, "BUSY", 17),
                };
                if let Some(ch) = self.callers.get_mut(call) {
                    ch.cause = cause;
                    let ch = ch.clone();
                    if self.ami {
                        out.events
                            .push(self.dial_event("DialEnd", &ch, Some(status)));
                        out.events
                            .push(self.originate_response(&ch, "Failure", reason));
                    }
                }
            }
        }
        out
    }

    /// An AMI event about the call's caller channel (when AMI is on).
    fn push_caller_event(
        &self,
        out: &mut Rendered,
        call: CallId,
        name: &str,
        body: &[(&str, String)],
    ) {
        if self.ami
            && let Some(caller) = self.callers.get(&call)
        {
            out.events.push(self.channel_event(name, caller, body));
        }
    }

    /// A queue_log line about a call: `time|uniqueid|queue|agent|VERB|payload`.
    fn call_line(
        &self,
        t: i64,
        call: CallId,
        queue: QueueId,
        agent: Option<AgentId>,
        verb: &str,
        payload: &str,
    ) -> String {
        let uid = self
            .callers
            .get(&call)
            .map_or("NONE", |c| c.uniqueid.as_str());
        let agent = agent.map_or("NONE", |a| self.config.agents[a.0].name.as_str());
        format!(
            "{t}|{uid}|{}|{agent}|{verb}|{payload}",
            self.queue_name(queue)
        )
    }

    /// The snapshot block of a channel (§2.3), with `prefix` before each
    /// key (`Dest` for the member's channel).
    fn snapshot(&self, prefix: &str, ch: &Channel, headers: &mut Vec<(String, String)>) {
        let state_desc = match ch.state {
            3 => "Dialing",
            4 => "Ring",
            5 => "Ringing",
            6 => "Up",
            _ => "Down",
        };
        let fields = [
            ("Channel", ch.name.clone()),
            ("ChannelState", ch.state.to_string()),
            ("ChannelStateDesc", state_desc.to_owned()),
            ("CallerIDNum", ch.caller.clone()),
            ("CallerIDName", "<unknown>".to_owned()),
            ("ConnectedLineNum", "<unknown>".to_owned()),
            ("ConnectedLineName", "<unknown>".to_owned()),
            ("Language", "en".to_owned()),
            ("AccountCode", String::new()),
            ("Context", "from-trunk".to_owned()),
            ("Exten", "s".to_owned()),
            ("Priority", "1".to_owned()),
            ("Uniqueid", ch.uniqueid.clone()),
            ("Linkedid", ch.linkedid.clone()),
        ];
        for (key, value) in fields {
            headers.push((format!("{prefix}{key}"), value));
        }
        if let Some(name) = &ch.campaign {
            headers.push((
                format!("{prefix}ChanVariable"),
                format!("{CAMPAIGN_VARIABLE}={name}"),
            ));
        }
    }

    fn channel_event(&self, name: &str, ch: &Channel, body: &[(&str, String)]) -> Message {
        let privilege = if name.starts_with("Queue") {
            "agent,all"
        } else {
            "call,all"
        };
        let mut headers = vec![
            ("Event".to_owned(), name.to_owned()),
            ("Privilege".to_owned(), privilege.to_owned()),
        ];
        self.snapshot("", ch, &mut headers);
        headers.extend(body.iter().map(|(k, v)| ((*k).to_owned(), v.clone())));
        Message { headers }
    }

    /// `DialBegin`/`DialEnd` of an ownerless dial (an Originate's): the
    /// dialed channel's snapshot under `Dest`, its dial string, and the
    /// outcome for `DialEnd`.
    fn dial_event(&self, name: &str, ch: &Channel, status: Option<&str>) -> Message {
        let mut headers = vec![
            ("Event".to_owned(), name.to_owned()),
            ("Privilege".to_owned(), "call,all".to_owned()),
        ];
        self.snapshot("Dest", ch, &mut headers);
        headers.push((
            "DialString".to_owned(),
            format!("{}@trunk", ch.caller.trim_start_matches('+')),
        ));
        if let Some(status) = status {
            headers.push(("DialStatus".to_owned(), status.to_owned()));
        }
        Message { headers }
    }

    fn agent_event(
        &self,
        name: &str,
        caller: &Channel,
        member: &Channel,
        queue: QueueId,
        agent: AgentId,
        body: &[(&str, String)],
    ) -> Message {
        let mut headers = vec![
            ("Event".to_owned(), name.to_owned()),
            ("Privilege".to_owned(), "agent,all".to_owned()),
        ];
        self.snapshot("", caller, &mut headers);
        self.snapshot("Dest", member, &mut headers);
        let a = &self.config.agents[agent.0];
        headers.push(("Queue".into(), self.queue_name(queue).to_owned()));
        headers.push(("MemberName".into(), a.name.clone()));
        headers.push(("Interface".into(), a.interface.clone()));
        headers.extend(body.iter().map(|(k, v)| ((*k).to_owned(), v.clone())));
        Message { headers }
    }

    /// Records the member's new device state and reports it
    /// (`QueueMemberStatus`).
    fn device_changed(
        &mut self,
        out: &mut Rendered,
        agent: AgentId,
        queue: QueueId,
        status: u8,
        in_call: bool,
    ) {
        let mirror = &mut self.mirror[agent.0];
        mirror.status = status;
        mirror.in_call = in_call;
        if !self.ami {
            return;
        }
        // A device state is the interface's: Asterisk reports it in every
        // queue the member belongs to, the calling one first.
        out.events
            .push(self.member_event("QueueMemberStatus", agent, queue));
        for other in &self.config.agents[agent.0].queues {
            match self.config.queue_index(other) {
                Some(q) if q != queue.0 => {
                    out.events
                        .push(self.member_event("QueueMemberStatus", agent, QueueId(q)))
                }
                _ => {}
            }
        }
    }

    /// The member blob of `QueueMember*` events (§2.4).
    fn member_event(&self, name: &str, agent: AgentId, queue: QueueId) -> Message {
        let a = &self.config.agents[agent.0];
        let m = &self.mirror[agent.0];
        let wrapup = if self.shape.wrapup_in_member_blob {
            self.config.queues[queue.0].wrapup_s
        } else {
            0
        };
        Message::new([
            ("Event", name.to_owned()),
            ("Privilege", "agent,all".to_owned()),
            ("Queue", self.queue_name(queue).to_owned()),
            ("MemberName", a.name.clone()),
            ("Interface", a.interface.clone()),
            ("StateInterface", a.interface.clone()),
            ("Membership", "dynamic".to_owned()),
            ("Penalty", "0".to_owned()),
            ("CallsTaken", m.calls_taken.to_string()),
            ("LastCall", m.last_call_s.to_string()),
            ("LastPause", m.last_pause_s.to_string()),
            ("LoginTime", m.login_s.to_string()),
            ("InCall", u8::from(m.in_call).to_string()),
            ("Status", m.status.to_string()),
            ("Paused", u8::from(m.paused).to_string()),
            ("PausedReason", m.reason.clone()),
            ("Ringinuse", "0".to_owned()),
            ("Wrapuptime", wrapup.to_string()),
        ])
    }

    fn originate_response(&self, ch: &Channel, response: &str, reason: u8) -> Message {
        let mut headers = vec![
            ("Event", "OriginateResponse".to_owned()),
            ("Privilege", "call,all".to_owned()),
        ];
        if let Some(id) = &ch.action_id {
            headers.push(("ActionID", id.clone()));
        }
        headers.extend([
            ("Response", response.to_owned()),
            ("Channel", ch.name.clone()),
            ("Context", "outbound".to_owned()),
            ("Exten", "s".to_owned()),
            ("Reason", reason.to_string()),
            ("Uniqueid", ch.uniqueid.clone()),
            ("CallerIDNum", ch.caller.clone()),
            ("CallerIDName", "<unknown>".to_owned()),
        ]);
        Message::new(headers)
    }

    /// The `CoreShowChannels` reply: one `CoreShowChannel` per channel up
    /// (callers, outbound calls, members' legs) with its snapshot, then
    /// `CoreShowChannelsComplete`; every message carries `action_id`.
    pub fn core_show_channels(&self, action_id: &str) -> Vec<Message> {
        let mut out = vec![Message::new([
            ("Response", "Success"),
            ("ActionID", action_id),
            ("EventList", "start"),
            ("Message", "Channels will follow"),
        ])];
        let mut channels: Vec<&Channel> =
            self.callers.values().chain(self.members.values()).collect();
        channels.sort_by(|a, b| a.name.cmp(&b.name));
        for ch in channels {
            let mut headers = vec![
                ("Event".to_owned(), "CoreShowChannel".to_owned()),
                ("ActionID".to_owned(), action_id.to_owned()),
            ];
            self.snapshot("", ch, &mut headers);
            headers.push(("Application".to_owned(), ch.application.to_owned()));
            out.push(Message { headers });
        }
        let items = out.len() - 1;
        out.push(Message::new([
            ("Event", "CoreShowChannelsComplete".to_owned()),
            ("ActionID", action_id.to_owned()),
            ("EventList", "Complete".to_owned()),
            ("ListItems", items.to_string()),
        ]));
        out
    }

    /// The `QueueStatus` reply from the simulation's state now: one
    /// `QueueParams` per queue, `QueueMember` per logged-in member,
    /// `QueueEntry` per waiting caller, then `QueueStatusComplete`
    /// (§2.4); every message carries `action_id`.
    pub fn queue_status(&self, sim: &Simulation, action_id: &str) -> Vec<Message> {
        let now_s = seconds(sim.now());
        let mut out = vec![Message::new([
            ("Response", "Success"),
            ("ActionID", action_id),
            ("EventList", "start"),
            ("Message", "Queue status will follow"),
        ])];
        for (q, config) in self.config.queues.iter().enumerate() {
            let queue = QueueId(q);
            let waiting = sim.waiting(queue);
            out.push(Message::new([
                ("Event", "QueueParams".to_owned()),
                ("Queue", config.name.clone()),
                ("Max", "0".to_owned()),
                ("Strategy", config.strategy.asterisk_name().to_owned()),
                ("Calls", waiting.len().to_string()),
                ("Holdtime", "0".to_owned()),
                ("TalkTime", "0".to_owned()),
                ("Completed", "0".to_owned()),
                ("Abandoned", "0".to_owned()),
                ("ServiceLevel", "20".to_owned()),
                ("ServicelevelPerf", "0.0".to_owned()),
                ("ServicelevelPerf2", "0.0".to_owned()),
                ("Weight", "0".to_owned()),
                ("ActionID", action_id.to_owned()),
            ]));
            for agent in sim.members(queue) {
                let view = sim.agent(*agent);
                let a = &self.config.agents[agent.0];
                let (status, in_call) = match view.activity {
                    AgentActivity::Ringing(_) => (RINGING, false),
                    AgentActivity::Talking(_) => (INUSE, true),
                    AgentActivity::Idle | AgentActivity::Wrapup(_) => (NOT_INUSE, false),
                };
                out.push(Message::new([
                    ("Event", "QueueMember".to_owned()),
                    ("Queue", config.name.clone()),
                    ("Name", a.name.clone()),
                    ("Location", a.interface.clone()),
                    ("StateInterface", a.interface.clone()),
                    ("Membership", "dynamic".to_owned()),
                    ("Penalty", "0".to_owned()),
                    ("CallsTaken", self.mirror[agent.0].calls_taken.to_string()),
                    (
                        "LastCall",
                        view.last_call_end.map_or(0, seconds).to_string(),
                    ),
                    (
                        "LastPause",
                        view.last_pause_change.map_or(0, seconds).to_string(),
                    ),
                    ("LoginTime", view.login_at.map_or(0, seconds).to_string()),
                    ("InCall", u8::from(in_call).to_string()),
                    ("Status", status.to_string()),
                    ("Paused", u8::from(view.paused.is_some()).to_string()),
                    ("PausedReason", view.paused.clone().unwrap_or_default()),
                    (
                        "Wrapuptime",
                        if self.shape.wrapup_in_member_blob {
                            config.wrapup_s
                        } else {
                            0
                        }
                        .to_string(),
                    ),
                    ("ActionID", action_id.to_owned()),
                ]));
            }
            for entry in waiting {
                let (channel, uniqueid) = self
                    .callers
                    .get(&entry.call)
                    .map(|c| (c.name.clone(), c.uniqueid.clone()))
                    .unwrap_or_default();
                out.push(Message::new([
                    ("Event", "QueueEntry".to_owned()),
                    ("Queue", config.name.clone()),
                    ("Position", entry.position.to_string()),
                    ("Channel", channel),
                    ("Uniqueid", uniqueid),
                    ("CallerIDNum", entry.caller.clone()),
                    ("CallerIDName", "unknown".to_owned()),
                    ("ConnectedLineNum", "unknown".to_owned()),
                    ("ConnectedLineName", "unknown".to_owned()),
                    ("Wait", (now_s - seconds(entry.joined_at)).to_string()),
                    ("Priority", "0".to_owned()),
                    ("ActionID", action_id.to_owned()),
                ]));
            }
        }
        let items = out.len() - 1;
        out.push(Message::new([
            ("Event", "QueueStatusComplete".to_owned()),
            ("ActionID", action_id.to_owned()),
            ("EventList", "Complete".to_owned()),
            ("ListItems", items.to_string()),
        ]));
        out
    }
}

/// `Cause` and `Cause-txt` as Asterisk's `ast_cause2str` names them.
fn hangup_cause(code: u8) -> [(&'static str, String); 2] {
    let text = match code {
        17 => "User busy",
        19 => "User alerting, no answer",
        _ => "Normal Clearing",
    };
    [("Cause", code.to_string()), ("Cause-txt", text.to_owned())]
}

#[cfg(test)]
mod tests {
    use super::*;
    use queuelake_scheduler::pacing::evaluation::{EvaluationConfig, Profile};
    use queuelake_scheduler::sim::{AnswerModel, CampaignId, Simulation};

    /// The AMI events about one originated call's own channel, in order.
    fn originated(answer: f64, busy: f64) -> Vec<Message> {
        let world = EvaluationConfig {
            seed: 3,
            days: 1,
            agents: 2,
            wrap_s: 15,
            profile: Profile::Swinging,
            amd_ms: (1_500, 3_000),
        };
        let start = EvaluationConfig::START + 9 * 3_600_000;
        let mut sim = Simulation::new(world.sim_config(), start).unwrap();
        sim.dial_externally();
        let mut renderer = Renderer::new(sim.config(), start);
        renderer.set_ami(true);
        sim.set_answer_model(
            CampaignId(0),
            AnswerModel {
                answer,
                machine: 0.0,
                busy,
                ring_ms: (4_000, 8_000),
                amd_ms: (1_500, 3_000),
            },
        );
        sim.originate(CampaignId(0), "+15550001", Some("dialer-1".into()));
        let mut events = Vec::new();
        for timed in sim.run_until(start + 120_000) {
            events.extend(renderer.render(&timed).events);
        }
        let trunk =
            |m: &Message, key: &str| m.get(key).is_some_and(|c| c.starts_with("PJSIP/trunk"));
        events
            .into_iter()
            .filter(|m| trunk(m, "Channel") || trunk(m, "DestChannel"))
            .collect()
    }

    fn names(events: &[Message]) -> Vec<&str> {
        events
            .iter()
            .map(|m| m.get("Event").unwrap_or_default())
            .collect()
    }

    #[test]
    fn a_busy_line_ends_its_dial_busy_and_hangs_up_with_cause_17() {
        let events = originated(0.0, 1.0);
        assert_eq!(
            names(&events),
            [
                "Newchannel",
                "VarSet",
                "DialBegin",
                "DialEnd",
                "OriginateResponse",
                "Hangup"
            ]
        );
        assert_eq!(events[0].get("ChanVariable"), None, "stock: untagged");
        assert_eq!(events[3].get("DialStatus"), Some("BUSY"));
        assert_eq!(events[4].get("Reason"), Some("5"));
        assert_eq!(events[4].get("ActionID"), Some("dialer-1"));
        assert_eq!(events[5].get("Cause"), Some("17"));
        assert_eq!(events[5].get("Cause-txt"), Some("User busy"));
    }

    #[test]
    fn an_unanswered_dial_rings_then_ends_noanswer_with_cause_19() {
        let events = originated(0.0, 0.0);
        assert_eq!(
            names(&events),
            [
                "Newchannel",
                "VarSet",
                "DialBegin",
                "Newstate",
                "DialEnd",
                "OriginateResponse",
                "Hangup"
            ]
        );
        assert_eq!(events[3].get("ChannelState"), Some("5"));
        assert_eq!(events[4].get("DialStatus"), Some("NOANSWER"));
        assert_eq!(events[5].get("Reason"), Some("3"));
        assert_eq!(events[6].get("Cause"), Some("19"));
    }

    #[test]
    fn an_answer_ends_the_dial_then_the_amd_decides() {
        let events = originated(1.0, 0.0);
        assert_eq!(
            names(&events)[..8],
            [
                "Newchannel",
                "VarSet",
                "DialBegin",
                "Newstate",
                "DialEnd",
                "Newstate",
                "OriginateResponse",
                "VarSet"
            ]
        );
        assert_eq!(events[2].get("DestChanVariable"), Some("QL_CAMPAIGN=eval"));
        assert_eq!(events[4].get("DialStatus"), Some("ANSWER"));
        assert_eq!(events[6].get("Response"), Some("Success"));
        assert_eq!(events[7].get("Value"), Some("HUMAN"));
    }
}
