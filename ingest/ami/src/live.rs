//! Live state of queues and campaigns, from AMI events, without I/O.
//!
//! ```text
//!  events ─apply─▶ waiting callers per queue   (QueueCallerJoin / Leave / Abandon)
//!                  members per queue            (QueueMember* blobs, Agent* events)
//!                  campaign channels            (the first event that tags a channel
//!                                                with QL_CAMPAIGN, then its state
//!                                                changes, OriginateResponse, Hangup)
//!  QueueStatus + CoreShowChannels ─resync─▶ all of it replaced by the PBX's own lists
//! ```
//!
//! A real Asterisk publishes an originated channel's `Newchannel` before
//! it applies Originate's `Variable:` list, so `Newchannel` carries no
//! campaign: the tag is taken from whichever event first carries it — a
//! `VarSet` of the variable, any channel snapshot's `ChanVariable`
//! (`Newstate`, `Hangup`, queue events), `DialBegin`'s `Dest…` snapshot or
//! a `CoreShowChannel` item. Untagged channels are remembered (state only)
//! so a tag arriving later finds the state it was in.
//!
//! Wrap-up: a member's own `Wrapuptime` when the blob sets one, else the
//! queue's (queues.conf `wrapuptime`, which no AMI event carries; given by
//! [`LiveState::set_queue_wrapup`]).
//!
//! Only what the PBX shows now is kept here: nothing is counted up, so a
//! reload or midnight leaves no artefact. The day's totals (offered,
//! answered, abandoned, service level) come from the lake, not from here.
//!
//! Time is the PBX's: every event's `Timestamp` (Asterisk's
//! `timestampevents`) moves [`LiveState::pbx_now`], and the views take the
//! instant to evaluate at, so wait times and wrap-up follow the PBX clock.

use std::collections::BTreeMap;

use crate::codec::Message;

/// The channel variable that names an outbound call's campaign (set by the
/// dialer's `Originate`, reported through `channelvars`).
pub const CAMPAIGN_VARIABLE: &str = "QL_CAMPAIGN";

/// Asterisk device states (`Status` of a queue member).
mod device {
    pub const INUSE: u8 = 2;
    pub const BUSY: u8 = 3;
    pub const UNAVAILABLE: u8 = 5;
    pub const RINGING: u8 = 6;
    pub const RINGINUSE: u8 = 7;
    pub const ONHOLD: u8 = 8;
}

/// A caller waiting in a queue.
#[derive(Debug, Clone, PartialEq)]
struct Waiting {
    /// PBX time of joining, in seconds.
    joined: f64,
    /// Whether `joined` was worked out from a resync's `Wait` and the
    /// instant the resync was taken at (not the PBX's own `Timestamp`).
    estimated: bool,
}

/// A member of a queue as the PBX last described it.
#[derive(Debug, Clone, PartialEq)]
struct Member {
    status: u8,
    paused: bool,
    in_call: bool,
    /// PBX time the member's last call ended, in seconds (0 = never).
    last_call: f64,
    wrapup_s: f64,
}

/// What a queue member is doing, one answer per member (first that holds:
/// on a call, ringing, paused, unavailable, wrap-up, available).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum MemberActivity {
    /// Talking (or its device is busy).
    OnCall,
    /// Being rung by the queue.
    Ringing,
    /// Paused (break, training, …).
    Paused,
    /// Logged in but its device is unreachable.
    Unavailable,
    /// In wrap-up after a call: not offered calls yet.
    Wrapup,
    /// Would be offered the next call.
    Available,
}

/// An outbound call of a campaign.
#[derive(Debug, Clone, PartialEq)]
struct CampaignCall {
    campaign: String,
    /// Asterisk channel state: 3 dialing, 4/5 ringing, 6 up.
    state: u8,
    /// Whether it has entered a queue (a person, past the AMD).
    queued: bool,
}

/// Live view of one queue.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct QueueNow {
    /// The queue's name.
    pub queue: String,
    /// Callers waiting.
    pub calls_waiting: u32,
    /// Seconds the longest-waiting caller has waited.
    pub longest_wait_s: f64,
    /// Members logged in.
    pub agents_logged_in: u32,
    /// Members that would be offered the next call.
    pub agents_available: u32,
    /// Members on a call.
    pub agents_on_call: u32,
    /// Members being rung.
    pub agents_ringing: u32,
    /// Members paused (and not on a call).
    pub agents_paused: u32,
    /// Members in wrap-up.
    pub agents_wrapup: u32,
    /// Members whose device is unavailable.
    pub agents_unavailable: u32,
}

/// Live view of one outbound campaign.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CampaignNow {
    /// The campaign's name.
    pub campaign: String,
    /// The queue its answered calls go to, once seen.
    pub queue: Option<String>,
    /// Calls placed, not ringing yet.
    pub dialing: u32,
    /// Calls ringing at the called party.
    pub ringing: u32,
    /// Calls answered and not hung up.
    pub connected: u32,
    /// Of the answered, those not yet in a queue (in answering-machine
    /// detection, or its greeting): most join within seconds.
    pub answering: u32,
    /// Available members of its queue.
    pub agents_available: u32,
}

/// The live state of one PBX.
#[derive(Debug, Clone, Default)]
pub struct LiveState {
    /// queue → uniqueid → caller.
    waiting: BTreeMap<String, BTreeMap<String, Waiting>>,
    /// queue → interface → member.
    members: BTreeMap<String, BTreeMap<String, Member>>,
    /// uniqueid → campaign call.
    campaign_calls: BTreeMap<String, CampaignCall>,
    /// uniqueid → state of channels not (yet) tagged with a campaign.
    untagged: BTreeMap<String, u8>,
    /// queue → wrap-up seconds when a member's blob sets none.
    queue_wrapup: BTreeMap<String, f64>,
    /// campaign → its queue.
    campaign_queue: BTreeMap<String, String>,
    /// Campaigns seen (kept with zero calls).
    campaigns: BTreeMap<String, ()>,
    pbx_now: Option<f64>,
}

impl LiveState {
    /// Latest PBX time seen in an event's `Timestamp`, in Unix seconds.
    pub fn pbx_now(&self) -> Option<f64> {
        self.pbx_now
    }

    /// The wrap-up of `queue`'s members whose blob sets none (queues.conf
    /// `wrapuptime`, which AMI does not report).
    pub fn set_queue_wrapup(&mut self, queue: &str, seconds: f64) {
        self.queue_wrapup.insert(queue.to_owned(), seconds.max(0.0));
    }

    /// Most untagged channels remembered (past it, the lowest uniqueid in
    /// text order is forgotten; a tag comes within milliseconds of
    /// `Newchannel` or not at all).
    const UNTAGGED_MAX: usize = 4096;

    /// Follows a channel's state and its campaign tag, from any event
    /// with a channel snapshot (`prefix` "" or "Dest").
    fn follow_channel(&mut self, event: &Message, prefix: &str, name: &str) {
        let key = |k: &str| format!("{prefix}{k}");
        let Some(uniqueid) = event.get(&key("Uniqueid")).filter(|u| !u.is_empty()) else {
            return;
        };
        let state = event
            .get(&key("ChannelState"))
            .and_then(|v| v.trim().parse::<u8>().ok());
        let ended = prefix.is_empty() && name == "hangup";
        if ended {
            self.campaign_calls.remove(uniqueid);
            self.untagged.remove(uniqueid);
            return;
        }
        let tag = campaign_of(event, prefix).or_else(|| {
            (prefix.is_empty() && name == "varset")
                .then(|| variable_set(event))
                .flatten()
        });
        if let Some(call) = self.campaign_calls.get_mut(uniqueid) {
            if let Some(state) = state {
                call.state = state;
            }
            return;
        }
        match tag {
            Some(campaign) => {
                let before = self.untagged.remove(uniqueid);
                self.campaigns.insert(campaign.clone(), ());
                let state = state.or(before).unwrap_or(0);
                self.campaign_calls.insert(
                    uniqueid.to_owned(),
                    CampaignCall {
                        campaign,
                        state,
                        queued: false,
                    },
                );
            }
            None if name == "newchannel" || self.untagged.contains_key(uniqueid) => {
                if let Some(state) = state {
                    if self.untagged.len() >= Self::UNTAGGED_MAX
                        && !self.untagged.contains_key(uniqueid)
                        && let Some(oldest) = self.untagged.keys().next().cloned()
                    {
                        self.untagged.remove(&oldest);
                    }
                    self.untagged.insert(uniqueid.to_owned(), state);
                }
            }
            None => {}
        }
    }

    /// Applies one event. Events it does not know are ignored.
    pub fn apply(&mut self, event: &Message) {
        let at = timestamp(event);
        if let Some(at) = at {
            self.pbx_now = Some(self.pbx_now.map_or(at, |now| now.max(at)));
        }
        let now = at.or(self.pbx_now).unwrap_or(0.0);
        let name = event.get("Event").unwrap_or_default();
        let queue = event.get("Queue");
        let uniqueid = event.get("Uniqueid").unwrap_or_default();
        let lower = name.to_ascii_lowercase();
        self.follow_channel(event, "", &lower);
        if lower.starts_with("dial") || lower.starts_with("agent") {
            self.follow_channel(event, "Dest", &lower);
        }
        match lower.as_str() {
            "queuecallerjoin" => {
                if let Some(q) = queue {
                    self.waiting.entry(q.to_owned()).or_default().insert(
                        uniqueid.to_owned(),
                        Waiting {
                            joined: now,
                            estimated: false,
                        },
                    );
                    if let Some(call) = self.campaign_calls.get_mut(uniqueid) {
                        call.queued = true;
                        self.campaign_queue
                            .insert(call.campaign.clone(), q.to_owned());
                    }
                }
            }
            "queuecallerleave" | "queuecallerabandon" => {
                if let Some(waiting) = queue.and_then(|q| self.waiting.get_mut(q)) {
                    waiting.remove(uniqueid);
                }
            }
            "queuememberadded"
            | "queuememberstatus"
            | "queuememberpause"
            | "queuememberpenalty"
            | "queuememberringinuse" => {
                if let (Some(q), Some(interface)) = (queue, event.get("Interface")) {
                    let members = self.members.entry(q.to_owned()).or_default();
                    let member = keep_precise(member_from_blob(event), members.get(interface));
                    members.insert(interface.to_owned(), member);
                }
            }
            "queuememberremoved" => {
                if let (Some(members), Some(interface)) = (
                    queue.and_then(|q| self.members.get_mut(q)),
                    event.get("Interface"),
                ) {
                    members.remove(interface);
                }
            }
            "agentcomplete" => {
                // The precise end of the call (LastCall has whole seconds).
                if let Some(member) = queue
                    .and_then(|q| self.members.get_mut(q))
                    .and_then(|m| event.get("Interface").and_then(|i| m.get_mut(i)))
                {
                    member.last_call = now;
                }
            }
            "originateresponse" => {
                let failed = !event
                    .get("Response")
                    .is_some_and(|r| r.eq_ignore_ascii_case("Success"));
                if failed {
                    self.campaign_calls.remove(uniqueid);
                    self.untagged.remove(uniqueid);
                }
            }
            _ => {}
        }
    }

    /// Replaces the waiting callers and members of every queue by a
    /// complete `QueueStatus` answer (`QueueParams`, `QueueMember`,
    /// `QueueEntry` items) and the campaign calls by a `CoreShowChannels`
    /// answer (`CoreShowChannel` items), as the session's resync returns
    /// them together. `now` is the PBX time of the answer, as best known
    /// (the list items carry no `Timestamp`; see
    /// [`LiveState::rebase_estimates`]).
    pub fn resync(&mut self, items: &[Message], now: f64) {
        let mut waiting: BTreeMap<String, BTreeMap<String, Waiting>> = BTreeMap::new();
        let mut members: BTreeMap<String, BTreeMap<String, Member>> = BTreeMap::new();
        for item in items {
            let Some(queue) = item.get("Queue") else {
                continue;
            };
            let event = item.get("Event").unwrap_or_default();
            if event.eq_ignore_ascii_case("QueueParams") {
                waiting.entry(queue.to_owned()).or_default();
                members.entry(queue.to_owned()).or_default();
            } else if event.eq_ignore_ascii_case("QueueMember") {
                let interface = item
                    .get("Location")
                    .or_else(|| item.get("Interface"))
                    .unwrap_or_default();
                let old = self.members.get(queue).and_then(|m| m.get(interface));
                let member = keep_precise(member_from_blob(item), old);
                members
                    .entry(queue.to_owned())
                    .or_default()
                    .insert(interface.to_owned(), member);
            } else if event.eq_ignore_ascii_case("QueueEntry") {
                let uniqueid = item.get("Uniqueid").unwrap_or_default();
                // Keep the precise join time of a caller we saw join.
                let seen = self
                    .waiting
                    .get(queue)
                    .and_then(|w| w.get(uniqueid))
                    .cloned();
                let caller = seen.unwrap_or(Waiting {
                    joined: now - number(item, "Wait") as f64,
                    estimated: true,
                });
                waiting
                    .entry(queue.to_owned())
                    .or_default()
                    .insert(uniqueid.to_owned(), caller);
            }
        }
        self.waiting = waiting;
        self.members = members;
        self.resync_channels(items);
    }

    /// Moves the join times a resync worked out by `delta` seconds: the
    /// resync was taken before the PBX's clock was known (its list items
    /// carry no `Timestamp`), and the first stamped event shows the PBX's
    /// clock is `delta` ahead of the one the resync was timed with.
    pub fn rebase_estimates(&mut self, delta: f64) {
        for caller in self.waiting.values_mut().flat_map(|w| w.values_mut()) {
            if caller.estimated {
                caller.joined += delta;
            }
        }
    }

    /// Replaces the campaign calls by the `CoreShowChannel` items: calls
    /// that ended while the link was down disappear, calls placed
    /// meanwhile appear.
    fn resync_channels(&mut self, items: &[Message]) {
        let mut calls = BTreeMap::new();
        let in_queue: std::collections::BTreeSet<&str> = items
            .iter()
            .filter(|i| {
                i.get("Event")
                    .is_some_and(|e| e.eq_ignore_ascii_case("QueueEntry"))
            })
            .filter_map(|i| i.get("Uniqueid"))
            .collect();
        for item in items {
            let event = item.get("Event").unwrap_or_default();
            if !event.eq_ignore_ascii_case("CoreShowChannel") {
                continue;
            }
            let uniqueid = item.get("Uniqueid").unwrap_or_default().to_owned();
            // Tagged in the list, or tagged before by a VarSet.
            let campaign = campaign_of(item, "").or_else(|| {
                self.campaign_calls
                    .get(&uniqueid)
                    .map(|c| c.campaign.clone())
            });
            if let Some(campaign) = campaign {
                self.campaigns.insert(campaign.clone(), ());
                let state = state_code(item, "ChannelState");
                // In a queue now, or bridged to an agent (Application Queue).
                let queued = in_queue.contains(uniqueid.as_str())
                    || item
                        .get("Application")
                        .is_some_and(|a| a.eq_ignore_ascii_case("Queue"))
                    || self.campaign_calls.get(&uniqueid).is_some_and(|c| c.queued);
                calls.insert(
                    uniqueid,
                    CampaignCall {
                        campaign,
                        state,
                        queued,
                    },
                );
            }
        }
        self.campaign_calls = calls;
        self.untagged.clear();
    }

    /// What each member of `queue` is doing at PBX time `now`, by interface.
    pub fn member_activities(&self, queue: &str, now: f64) -> BTreeMap<String, MemberActivity> {
        let wrapup = self.queue_wrapup.get(queue).copied().unwrap_or(0.0);
        self.members
            .get(queue)
            .map(|members| {
                members
                    .iter()
                    .map(|(interface, m)| (interface.clone(), activity(m, wrapup, now)))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Whether the PBX has shown `queue` (a member or a waiting caller).
    pub fn knows_queue(&self, queue: &str) -> bool {
        self.members.contains_key(queue) || self.waiting.contains_key(queue)
    }

    /// Every queue known, at PBX time `now`.
    pub fn queues(&self, now: f64) -> Vec<QueueNow> {
        let mut names: Vec<&String> = self.waiting.keys().chain(self.members.keys()).collect();
        names.sort();
        names.dedup();
        names.into_iter().map(|q| self.queue(q, now)).collect()
    }

    /// One queue at PBX time `now` (all zero if unknown).
    pub fn queue(&self, queue: &str, now: f64) -> QueueNow {
        let mut out = QueueNow {
            queue: queue.to_owned(),
            ..QueueNow::default()
        };
        if let Some(waiting) = self.waiting.get(queue) {
            out.calls_waiting = waiting.len() as u32;
            out.longest_wait_s = waiting
                .values()
                .map(|w| (now - w.joined).max(0.0))
                .fold(0.0, f64::max);
        }
        for activity in self.member_activities(queue, now).values() {
            out.agents_logged_in += 1;
            let counter = match activity {
                MemberActivity::OnCall => &mut out.agents_on_call,
                MemberActivity::Ringing => &mut out.agents_ringing,
                MemberActivity::Paused => &mut out.agents_paused,
                MemberActivity::Unavailable => &mut out.agents_unavailable,
                MemberActivity::Wrapup => &mut out.agents_wrapup,
                MemberActivity::Available => &mut out.agents_available,
            };
            *counter += 1;
        }
        out
    }

    /// Every campaign seen, at PBX time `now`.
    pub fn campaigns(&self, now: f64) -> Vec<CampaignNow> {
        self.campaigns
            .keys()
            .map(|name| {
                let queue = self.campaign_queue.get(name).cloned();
                let mut out = CampaignNow {
                    campaign: name.clone(),
                    agents_available: queue
                        .as_deref()
                        .map_or(0, |q| self.queue(q, now).agents_available),
                    queue,
                    ..CampaignNow::default()
                };
                for call in self.campaign_calls.values().filter(|c| &c.campaign == name) {
                    match call.state {
                        6 => {
                            out.connected += 1;
                            out.answering += u32::from(!call.queued);
                        }
                        4 | 5 => out.ringing += 1,
                        _ => out.dialing += 1,
                    }
                }
                out
            })
            .collect()
    }
}

/// What a member is doing; `queue_wrapup` applies when its blob sets no
/// wrap-up of its own.
fn activity(m: &Member, queue_wrapup: f64, now: f64) -> MemberActivity {
    use device::*;
    let wrapup = if m.wrapup_s > 0.0 {
        m.wrapup_s
    } else {
        queue_wrapup
    };
    if m.in_call || matches!(m.status, INUSE | BUSY | RINGINUSE | ONHOLD) {
        MemberActivity::OnCall
    } else if m.status == RINGING {
        MemberActivity::Ringing
    } else if m.paused {
        MemberActivity::Paused
    } else if m.status == UNAVAILABLE {
        MemberActivity::Unavailable
    } else if m.last_call > 0.0 && now < m.last_call + wrapup {
        MemberActivity::Wrapup
    } else {
        MemberActivity::Available
    }
}

/// A member from the blob of `QueueMember*` events or a `QueueMember`
/// list item.
fn member_from_blob(event: &Message) -> Member {
    Member {
        status: state_code(event, "Status"),
        paused: number(event, "Paused") != 0,
        in_call: number(event, "InCall") != 0,
        last_call: number(event, "LastCall") as f64,
        wrapup_s: number(event, "Wrapuptime") as f64,
    }
}

/// `LastCall` has whole seconds: keeps the precise instant an
/// `AgentComplete` gave for the same call.
fn keep_precise(mut member: Member, old: Option<&Member>) -> Member {
    if let Some(old) = old
        && old.last_call.floor() == member.last_call
    {
        member.last_call = old.last_call;
    }
    member
}

/// A header as an integer (0 when absent or not a number).
fn number(event: &Message, key: &str) -> i64 {
    event
        .get(key)
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0)
}

/// A small state code (device or channel state); out of range is 0 (unknown).
fn state_code(event: &Message, key: &str) -> u8 {
    u8::try_from(number(event, key)).unwrap_or(0)
}

/// The event's `Timestamp` (`<seconds>.<microseconds>`), if it has one
/// that can be a clock reading (1970 to 2200).
pub fn timestamp(event: &Message) -> Option<f64> {
    event
        .get("Timestamp")
        .and_then(|t| t.trim().parse::<f64>().ok())
        .filter(|t| (0.0..7_258_118_400.0).contains(t))
}

/// The campaign named by the `QL_CAMPAIGN` variable of the snapshot
/// whose keys start with `prefix`, if any.
fn campaign_of(event: &Message, prefix: &str) -> Option<String> {
    let key = format!("{prefix}ChanVariable");
    event.get_all(&key).find_map(|v| {
        let (name, value) = v.split_once('=')?;
        (name.trim() == CAMPAIGN_VARIABLE && !value.is_empty()).then(|| value.to_owned())
    })
}

/// The campaign a `VarSet` of `QL_CAMPAIGN` sets, if it is one.
fn variable_set(event: &Message) -> Option<String> {
    let variable = event.get("Variable")?;
    let value = event.get("Value")?;
    (variable.trim() == CAMPAIGN_VARIABLE && !value.is_empty()).then(|| value.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(pairs: &[(&str, &str)]) -> Message {
        Message::new(pairs.iter().copied())
    }

    fn member(event: &str, at: &str, status: &str, paused: &str, last_call: &str) -> Message {
        ev(&[
            ("Event", event),
            ("Timestamp", at),
            ("Queue", "support"),
            ("MemberName", "Ana"),
            ("Interface", "PJSIP/101"),
            ("Status", status),
            ("Paused", paused),
            ("InCall", if status == "2" { "1" } else { "0" }),
            ("LastCall", last_call),
            ("Wrapuptime", "10"),
        ])
    }

    #[test]
    fn callers_wait_until_they_leave_and_the_longest_wait_follows_the_pbx_clock() {
        let mut live = LiveState::default();
        for (uid, at) in [("1.1", "100.0"), ("1.2", "130.5")] {
            live.apply(&ev(&[
                ("Event", "QueueCallerJoin"),
                ("Timestamp", at),
                ("Queue", "support"),
                ("Uniqueid", uid),
            ]));
        }
        let q = live.queue("support", 160.0);
        assert_eq!((q.calls_waiting, q.longest_wait_s), (2, 60.0));
        live.apply(&ev(&[
            ("Event", "QueueCallerLeave"),
            ("Timestamp", "161.0"),
            ("Queue", "support"),
            ("Uniqueid", "1.1"),
        ]));
        let q = live.queue("support", 170.0);
        assert_eq!((q.calls_waiting, q.longest_wait_s), (1, 39.5));
        assert_eq!(live.pbx_now(), Some(161.0));
    }

    #[test]
    fn a_member_is_available_only_after_its_wrapup() {
        let mut live = LiveState::default();
        live.apply(&member("QueueMemberAdded", "10.0", "1", "0", "0"));
        assert_eq!(live.queue("support", 10.0).agents_available, 1);
        live.apply(&member("QueueMemberStatus", "20.0", "6", "0", "0"));
        assert_eq!(live.queue("support", 20.0).agents_ringing, 1);
        live.apply(&member("QueueMemberStatus", "21.0", "2", "0", "0"));
        assert_eq!(live.queue("support", 21.0).agents_on_call, 1);
        live.apply(&ev(&[
            ("Event", "AgentComplete"),
            ("Timestamp", "90.25"),
            ("Queue", "support"),
            ("Interface", "PJSIP/101"),
        ]));
        live.apply(&member("QueueMemberStatus", "90.25", "1", "0", "90"));
        // LastCall in the blob has whole seconds; AgentComplete's instant is kept
        // only when it came after it. Wrap-up is 10 s from the call's end.
        let q = live.queue("support", 100.0);
        assert_eq!((q.agents_wrapup, q.agents_available), (1, 0));
        let q = live.queue("support", 100.5);
        assert_eq!((q.agents_wrapup, q.agents_available), (0, 1));
        live.apply(&member("QueueMemberPause", "101.0", "1", "1", "90"));
        assert_eq!(live.queue("support", 101.0).agents_paused, 1);
        live.apply(&ev(&[
            ("Event", "QueueMemberRemoved"),
            ("Queue", "support"),
            ("Interface", "PJSIP/101"),
        ]));
        assert_eq!(live.queue("support", 102.0).agents_logged_in, 0);
    }

    #[test]
    fn resync_replaces_what_was_missed_and_keeps_precise_times() {
        let mut live = LiveState::default();
        live.apply(&ev(&[
            ("Event", "QueueCallerJoin"),
            ("Timestamp", "100.25"),
            ("Queue", "support"),
            ("Uniqueid", "1.1"),
        ]));
        live.apply(&ev(&[
            ("Event", "QueueCallerJoin"),
            ("Timestamp", "101.0"),
            ("Queue", "support"),
            ("Uniqueid", "1.2"),
        ]));
        live.apply(&member("QueueMemberAdded", "10.0", "1", "0", "0"));
        // While disconnected: 1.2 left, 1.3 joined, Ana logged off, Bo logged on.
        let items = vec![
            ev(&[("Event", "QueueParams"), ("Queue", "support")]),
            ev(&[("Event", "QueueParams"), ("Queue", "sales")]),
            ev(&[
                ("Event", "QueueMember"),
                ("Queue", "support"),
                ("Name", "Bo"),
                ("Location", "PJSIP/102"),
                ("Status", "1"),
                ("Paused", "1"),
            ]),
            ev(&[
                ("Event", "QueueEntry"),
                ("Queue", "support"),
                ("Uniqueid", "1.1"),
                ("Wait", "99"),
            ]),
            ev(&[
                ("Event", "QueueEntry"),
                ("Queue", "support"),
                ("Uniqueid", "1.3"),
                ("Wait", "7"),
            ]),
        ];
        live.resync(&items, 200.0);
        let q = live.queue("support", 200.0);
        assert_eq!(q.calls_waiting, 2);
        assert_eq!(q.longest_wait_s, 99.75, "1.1's join instant is kept");
        assert_eq!((q.agents_logged_in, q.agents_paused), (1, 1));
        let names: Vec<_> = live.queues(200.0).into_iter().map(|q| q.queue).collect();
        assert_eq!(names, ["sales", "support"]);
        // The resync was timed by a clock 1000 s behind the PBX's: only
        // the estimated join (1.3) moves; 1.1's came from its own event.
        assert_eq!(
            live.pbx_now(),
            Some(101.0),
            "a resync does not move the PBX clock"
        );
        live.rebase_estimates(1000.0);
        assert_eq!(live.queue("support", 1200.0).longest_wait_s, 1099.75);
        let mut only_estimated = live.clone();
        only_estimated
            .waiting
            .get_mut("support")
            .unwrap()
            .remove("1.1");
        assert_eq!(only_estimated.queue("support", 1200.0).longest_wait_s, 7.0);
    }

    fn channel(event: &str, uid: &str, state: &str, campaign: Option<&str>) -> Message {
        let mut m = ev(&[("Event", event), ("Uniqueid", uid), ("ChannelState", state)]);
        if let Some(c) = campaign {
            m.headers
                .push(("ChanVariable".into(), format!("{CAMPAIGN_VARIABLE}={c}")));
        }
        m
    }

    #[test]
    fn campaign_calls_move_from_dialing_to_connected_and_end() {
        let mut live = LiveState::default();
        live.apply(&channel("Newchannel", "9.1", "3", Some("renewals")));
        live.apply(&channel("Newchannel", "9.2", "3", Some("renewals")));
        live.apply(&channel("Newchannel", "9.3", "3", Some("renewals")));
        live.apply(&channel("Newchannel", "5.1", "4", None));
        live.apply(&channel("Newstate", "9.2", "5", Some("renewals")));
        live.apply(&channel("Newstate", "9.3", "6", Some("renewals")));
        let mut join = channel("QueueCallerJoin", "9.3", "6", Some("renewals"));
        join.headers.push(("Queue".into(), "outbound".into()));
        live.apply(&join);
        let c = &live.campaigns(0.0)[0];
        assert_eq!(
            (c.dialing, c.ringing, c.connected, c.queue.as_deref()),
            (1, 1, 1, Some("outbound"))
        );
        live.apply(&ev(&[
            ("Event", "OriginateResponse"),
            ("Response", "Failure"),
            ("Uniqueid", "9.1"),
        ]));
        live.apply(&channel("Hangup", "9.3", "6", Some("renewals")));
        let c = &live.campaigns(0.0)[0];
        assert_eq!((c.dialing, c.ringing, c.connected), (0, 1, 0));
        let mut listed = channel("CoreShowChannel", "9.4", "6", Some("renewals"));
        listed.headers.push(("Queue".into(), "ignored".into()));
        live.resync(&[listed], 10.0);
        let c = &live.campaigns(10.0)[0];
        assert_eq!((c.ringing, c.connected), (0, 1), "replaced by the list");
    }

    #[test]
    fn a_tag_set_after_newchannel_as_asterisk_does_finds_the_call_and_its_state() {
        let mut live = LiveState::default();
        // Originate: the channel exists before its variables are applied.
        live.apply(&channel("Newchannel", "9.1", "0", None));
        live.apply(&channel("Newchannel", "9.2", "0", None));
        live.apply(&channel("Newstate", "9.1", "5", None));
        let mut varset = channel("VarSet", "9.1", "5", None);
        varset.headers.extend([
            ("Variable".into(), CAMPAIGN_VARIABLE.into()),
            ("Value".into(), "renewals".into()),
        ]);
        live.apply(&varset);
        let c = &live.campaigns(0.0)[0];
        assert_eq!(
            (c.campaign.as_str(), c.dialing, c.ringing),
            ("renewals", 0, 1)
        );
        // 9.2's tag first shows in a later snapshot (channelvars).
        live.apply(&channel("Newstate", "9.2", "6", Some("renewals")));
        let c = &live.campaigns(0.0)[0];
        assert_eq!((c.connected, c.answering), (1, 1), "answered, in AMD");
        // A person: the call enters the queue (its snapshot untagged here,
        // as without channelvars) and the campaign learns its queue.
        let mut join = channel("QueueCallerJoin", "9.2", "6", None);
        join.headers.push(("Queue".into(), "outbound".into()));
        live.apply(&join);
        let c = &live.campaigns(0.0)[0];
        assert_eq!((c.answering, c.queue.as_deref()), (0, Some("outbound")));
        // DialBegin's Dest snapshot tags a channel the dialer's own dial
        // created.
        let mut dial = ev(&[
            ("Event", "DialBegin"),
            ("DestUniqueid", "9.3"),
            ("DestChannelState", "4"),
        ]);
        dial.headers.push((
            "DestChanVariable".into(),
            format!("{CAMPAIGN_VARIABLE}=renewals"),
        ));
        live.apply(&dial);
        assert_eq!(live.campaigns(0.0)[0].ringing, 2);
        // Inbound channels never tagged are forgotten at their hang-up.
        live.apply(&channel("Hangup", "9.1", "5", None));
        assert_eq!(live.campaigns(0.0)[0].ringing, 1);
        assert!(live.untagged.is_empty(), "{:?}", live.untagged);
    }

    #[test]
    fn the_queue_wrapup_applies_when_the_member_sets_none() {
        let mut live = LiveState::default();
        let mut blob = member("QueueMemberStatus", "100.0", "1", "0", "100");
        blob.headers.retain(|(k, _)| k != "Wrapuptime");
        blob.headers.push(("Wrapuptime".into(), "0".into()));
        live.apply(&blob);
        assert_eq!(
            live.queue("support", 105.0).agents_available,
            1,
            "no wrap-up known"
        );
        live.set_queue_wrapup("support", 15.0);
        let q = live.queue("support", 105.0);
        assert_eq!((q.agents_wrapup, q.agents_available), (1, 0));
        assert_eq!(live.queue("support", 115.5).agents_available, 1);
        // A member's own setting wins.
        live.apply(&member("QueueMemberStatus", "200.0", "1", "0", "200"));
        assert_eq!(live.queue("support", 211.0).agents_available, 1);
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;
        use std::collections::BTreeSet;

        const EVENTS: [&str; 10] = [
            "QueueCallerJoin",
            "QueueCallerLeave",
            "QueueCallerAbandon",
            "QueueMemberAdded",
            "QueueMemberStatus",
            "QueueMemberPause",
            "QueueMemberRemoved",
            "AgentComplete",
            "Newchannel",
            "Hangup",
        ];

        fn event() -> impl Strategy<Value = Message> {
            (
                0..EVENTS.len(),
                0..3usize,
                0..6usize,
                0..4usize,
                prop::sample::select(vec!["0", "1", "2", "6", "x", "-3", "99999999999", ""]),
                prop::option::of(0.0..1e6f64),
            )
                .prop_map(|(e, q, uid, member, value, stamp)| {
                    let mut m = Message::new([
                        ("Event", EVENTS[e].to_owned()),
                        ("Queue", format!("q{q}")),
                        ("Uniqueid", format!("1.{uid}")),
                        ("Interface", format!("PJSIP/{member}")),
                        ("Status", value.to_owned()),
                        ("Paused", value.to_owned()),
                        ("LastCall", value.to_owned()),
                        ("Wrapuptime", value.to_owned()),
                        ("ChannelState", value.to_owned()),
                        ("ChanVariable", format!("{CAMPAIGN_VARIABLE}=c{q}")),
                    ]);
                    if let Some(t) = stamp {
                        m.headers.push(("Timestamp".into(), format!("{t:.6}")));
                    }
                    m
                })
        }

        proptest! {
            /// Any event sequence: no panic, callers waiting are exactly
            /// those joined and not gone, every member is in one activity.
            #[test]
            fn live_state_follows_a_simple_model(events in prop::collection::vec(event(), 0..200)) {
                let mut live = LiveState::default();
                let mut waiting: BTreeSet<(String, String)> = BTreeSet::new();
                let mut members: BTreeSet<(String, String)> = BTreeSet::new();
                for e in &events {
                    live.apply(e);
                    let key = |k: &str| e.get(k).unwrap_or_default().to_owned();
                    match e.get("Event").unwrap_or_default() {
                        "QueueCallerJoin" => { waiting.insert((key("Queue"), key("Uniqueid"))); }
                        "QueueCallerLeave" | "QueueCallerAbandon" => { waiting.remove(&(key("Queue"), key("Uniqueid"))); }
                        "QueueMemberAdded" | "QueueMemberStatus" | "QueueMemberPause" => { members.insert((key("Queue"), key("Interface"))); }
                        "QueueMemberRemoved" => { members.remove(&(key("Queue"), key("Interface"))); }
                        _ => {}
                    }
                }
                let now = live.pbx_now().unwrap_or(0.0);
                for q in ["q0", "q1", "q2"] {
                    let view = live.queue(q, now);
                    let want = waiting.iter().filter(|(queue, _)| queue == q).count();
                    prop_assert_eq!(view.calls_waiting as usize, want);
                    let logged_in = members.iter().filter(|(queue, _)| queue == q).count();
                    prop_assert_eq!(view.agents_logged_in as usize, logged_in);
                    let sum = view.agents_available + view.agents_on_call + view.agents_ringing
                        + view.agents_paused + view.agents_wrapup + view.agents_unavailable;
                    prop_assert_eq!(sum, view.agents_logged_in);
                    prop_assert!(view.longest_wait_s >= 0.0);
                }
                for c in live.campaigns(now) {
                    prop_assert!(c.dialing + c.ringing + c.connected <= 6);
                }
            }
        }
    }
}
