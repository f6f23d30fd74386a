//! The discrete-event core: a time-ordered agenda of things due, and the
//! rules of an Asterisk queue applied to each.
//!
//! A caller's life, as `app_queue` plays it:
//!
//! ```text
//!   join ──▶ Waiting ──ring member(s)──▶ Ringing ──answer──▶ Talking ──▶ Complete
//!              ▲  │                        │  all ring out
//!              │  │                        ▼
//!              └──┼────── retry_s ───── Retry
//!                 └── patience / drop window / queue timeout (from any
//!                     waiting phase) ──▶ Abandon / ExitTimeout
//! ```
//!
//! An agent is Idle, Ringing, Talking or in Wrapup; only an Idle, logged-in,
//! unpaused member is offered a call. Outbound calls start in Dialing and
//! join their campaign's queue when a person answers.

use std::cmp::{Ordering, Reverse};
use std::collections::{BinaryHeap, HashMap};

use super::config::{Dialing, Duration, InvalidConfig, SimConfig, Strategy};
use super::event::{
    AgentId, CallId, CampaignId, DialFailure, HungUpBy, Millis, QueueId, SimEvent, Timed,
};
use super::random::Rng;

const SECOND: Millis = 1_000;
/// How long an unanswered outbound call rings (Originate's default).
const DIAL_TIMEOUT: Millis = 30_000;
/// When the far end starts ringing after an outbound call is placed.
const RINGBACK_AFTER: Millis = 1_000;

/// A command the simulation could not carry out (it names what was wrong).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommandError {
    /// No agent has this interface.
    UnknownInterface(String),
    /// No queue has this name.
    UnknownQueue(String),
    /// No campaign has this name.
    UnknownCampaign(String),
    /// The agent is already a member of the queue.
    AlreadyMember {
        /// Interface of the agent.
        interface: String,
        /// Queue name.
        queue: String,
    },
    /// The agent is not a member of the queue.
    NotMember {
        /// Interface of the agent.
        interface: String,
        /// Queue name.
        queue: String,
    },
}

impl std::fmt::Display for CommandError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CommandError::UnknownInterface(i) => write!(f, "no member with interface {i}"),
            CommandError::UnknownQueue(q) => write!(f, "no queue named {q}"),
            CommandError::UnknownCampaign(c) => write!(f, "no campaign named {c}"),
            CommandError::AlreadyMember { interface, queue } => {
                write!(f, "{interface} is already a member of {queue}")
            }
            CommandError::NotMember { interface, queue } => {
                write!(f, "{interface} is not a member of {queue}")
            }
        }
    }
}

impl std::error::Error for CommandError {}

/// What an agent is doing, as the queue sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AgentActivity {
    /// Free (if logged in and not paused, a call can be offered).
    Idle,
    /// Their phone rings for this call.
    Ringing(CallId),
    /// On this call.
    Talking(CallId),
    /// After-call work; free at the instant given.
    Wrapup(Millis),
}

/// An agent's state at the current instant.
#[derive(Debug, Clone, PartialEq)]
pub struct AgentView {
    /// Queues the agent is logged in to.
    pub queues: Vec<QueueId>,
    /// Pause reason when paused.
    pub paused: Option<String>,
    /// What the agent is doing.
    pub activity: AgentActivity,
    /// Calls answered since the simulation started.
    pub calls_taken: u32,
    /// When the last call ended.
    pub last_call_end: Option<Millis>,
    /// When the agent logged in (None when logged off).
    pub login_at: Option<Millis>,
    /// When the agent last paused or unpaused.
    pub last_pause_change: Option<Millis>,
}

/// A caller waiting in a queue, at the current instant.
#[derive(Debug, Clone, PartialEq)]
pub struct WaitingCaller {
    /// The call.
    pub call: CallId,
    /// Caller number.
    pub caller: String,
    /// When the caller joined.
    pub joined_at: Millis,
    /// Current 1-based position.
    pub position: usize,
}

/// A contact center played forward in simulated time.
pub struct Simulation {
    config: SimConfig,
    rng: Rng,
    now: Millis,
    agenda: BinaryHeap<Reverse<Scheduled>>,
    next_seq: u64,
    next_call: u64,
    calls: HashMap<CallId, Call>,
    queues: Vec<QueueState>,
    agents: Vec<AgentState>,
    out: Vec<Timed>,
}

struct Scheduled {
    at: Millis,
    seq: u64,
    due: Due,
}

impl PartialEq for Scheduled {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.seq) == (other.at, other.seq)
    }
}
impl Eq for Scheduled {}
impl PartialOrd for Scheduled {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Scheduled {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.at, self.seq).cmp(&(other.at, other.seq))
    }
}

/// Something the agenda will do at its instant. Events about a call or an
/// agent carry the attempt/token they were scheduled for; a stale one
/// (the caller already left, the ring was already answered) is ignored.
enum Due {
    Arrival(QueueId),
    GiveUp(CallId),
    QueueTimeout(CallId),
    RingEnd {
        call: CallId,
        agent: AgentId,
        attempt: u32,
        answered: bool,
    },
    RetryEnd {
        call: CallId,
        attempt: u32,
    },
    TalkEnd(CallId),
    WrapEnd {
        agent: AgentId,
        token: u64,
    },
    ShiftStart {
        agent: AgentId,
        starts: Millis,
    },
    ShiftEnd(AgentId),
    BreakStart {
        agent: AgentId,
        reason: String,
    },
    BreakEnd(AgentId),
    DialerTick(CampaignId),
    DialOutcome {
        call: CallId,
        outcome: DialOutcome,
    },
    DialRinging(CallId),
    AmdDone {
        call: CallId,
        machine: bool,
    },
}

#[derive(Clone, Copy)]
enum DialOutcome {
    Person,
    Machine,
    Failed(DialFailure),
}

enum Phase {
    Dialing,
    /// Answered, in answering-machine detection.
    Detecting,
    Waiting,
    Ringing(Vec<(AgentId, Millis)>),
    Retry,
    Talking {
        agent: AgentId,
        connected_at: Millis,
        hold_s: i64,
    },
}

struct Call {
    queue: QueueId,
    campaign: Option<CampaignId>,
    caller: String,
    joined_at: Millis,
    orig_position: usize,
    attempt: u32,
    phase: Phase,
}

#[derive(Default)]
struct QueueState {
    waiting: Vec<CallId>,
    /// Logged-in members, by agent id (the order rrmemory walks).
    members: Vec<AgentId>,
    rr_last: Option<AgentId>,
}

struct AgentState {
    queues: Vec<QueueId>,
    paused: Option<String>,
    activity: AgentActivity,
    calls_taken: u32,
    last_call_end: Option<Millis>,
    login_at: Option<Millis>,
    last_pause_change: Option<Millis>,
    logoff_pending: bool,
    wrap_token: u64,
}

/// Seconds of the wall clock at `t`, as Asterisk's `time(NULL)` reads it.
fn whole_seconds(t: Millis) -> i64 {
    t.div_euclid(SECOND)
}

impl Simulation {
    /// A contact center starting at `start`: agents without a shift log in
    /// at once, the others at their next shift (or now, mid-shift).
    pub fn new(config: SimConfig, start: Millis) -> Result<Self, InvalidConfig> {
        config.validate()?;
        let rng = Rng::new(config.seed);
        let agents = config
            .agents
            .iter()
            .map(|_| AgentState {
                queues: Vec::new(),
                paused: None,
                activity: AgentActivity::Idle,
                calls_taken: 0,
                last_call_end: None,
                login_at: None,
                last_pause_change: None,
                logoff_pending: false,
                wrap_token: 0,
            })
            .collect();
        let queues = config
            .queues
            .iter()
            .map(|_| QueueState::default())
            .collect();
        let mut sim = Simulation {
            config,
            rng,
            now: start,
            agenda: BinaryHeap::new(),
            next_seq: 0,
            next_call: 1,
            calls: HashMap::new(),
            queues,
            agents,
            out: Vec::new(),
        };
        for q in 0..sim.config.queues.len() {
            sim.schedule_next_arrival(QueueId(q));
        }
        for a in 0..sim.config.agents.len() {
            let agent = AgentId(a);
            match sim.config.agents[a].shift.clone() {
                None => sim.log_in(agent),
                Some(shift) => {
                    let starts =
                        super::shifts::current_or_next(&shift, start, sim.config.utc_offset_min);
                    sim.schedule(starts.max(start), Due::ShiftStart { agent, starts });
                }
            }
        }
        for c in 0..sim.config.campaigns.len() {
            if matches!(sim.config.campaigns[c].dialing, Dialing::Ratio(_)) {
                sim.schedule(start, Due::DialerTick(CampaignId(c)));
            }
        }
        Ok(sim)
    }

    /// The configuration being simulated.
    pub fn config(&self) -> &SimConfig {
        &self.config
    }

    /// The current simulated instant.
    pub fn now(&self) -> Millis {
        self.now
    }

    /// Plays everything due up to and including `until`, and returns what
    /// happened since the last call (commands' events included), in order.
    pub fn run_until(&mut self, until: Millis) -> Vec<Timed> {
        while let Some(Reverse(next)) = self.agenda.peek() {
            if next.at > until {
                break;
            }
            let Some(Reverse(Scheduled { at, due, .. })) = self.agenda.pop() else {
                break;
            };
            self.now = at.max(self.now);
            self.handle(due);
        }
        self.now = until.max(self.now);
        std::mem::take(&mut self.out)
    }

    /// The agent's state now.
    pub fn agent(&self, agent: AgentId) -> AgentView {
        let state = &self.agents[agent.0];
        AgentView {
            queues: state.queues.clone(),
            paused: state.paused.clone(),
            activity: state.activity,
            calls_taken: state.calls_taken,
            last_call_end: state.last_call_end,
            login_at: state.login_at,
            last_pause_change: state.last_pause_change,
        }
    }

    /// Callers waiting in the queue now (ringing or between attempts
    /// included), in position order.
    pub fn waiting(&self, queue: QueueId) -> Vec<WaitingCaller> {
        self.queues[queue.0]
            .waiting
            .iter()
            .enumerate()
            .filter_map(|(index, id)| {
                let call = self.calls.get(id)?;
                Some(WaitingCaller {
                    call: *id,
                    caller: call.caller.clone(),
                    joined_at: call.joined_at,
                    position: index + 1,
                })
            })
            .collect()
    }

    /// The members logged in to the queue now, by agent id.
    pub fn members(&self, queue: QueueId) -> &[AgentId] {
        &self.queues[queue.0].members
    }

    /// Outbound calls of the campaign still being dialled.
    pub fn dialing(&self, campaign: CampaignId) -> usize {
        self.calls
            .values()
            .filter(|c| c.campaign == Some(campaign) && matches!(c.phase, Phase::Dialing))
            .count()
    }

    /// The agent with this interface.
    pub fn agent_by_interface(&self, interface: &str) -> Result<AgentId, CommandError> {
        self.config
            .agents
            .iter()
            .position(|a| a.interface.eq_ignore_ascii_case(interface))
            .map(AgentId)
            .ok_or_else(|| CommandError::UnknownInterface(interface.to_owned()))
    }

    /// The queue with this name.
    pub fn queue_by_name(&self, name: &str) -> Result<QueueId, CommandError> {
        self.config
            .queue_index(name)
            .map(QueueId)
            .ok_or_else(|| CommandError::UnknownQueue(name.to_owned()))
    }

    /// The campaign with this name.
    pub fn campaign_by_name(&self, name: &str) -> Result<CampaignId, CommandError> {
        self.config
            .campaigns
            .iter()
            .position(|c| c.name == name)
            .map(CampaignId)
            .ok_or_else(|| CommandError::UnknownCampaign(name.to_owned()))
    }

    /// Pauses or unpauses the agent in all their queues now (AMI
    /// `QueuePause` without a queue).
    pub fn set_paused(&mut self, agent: AgentId, paused: bool, reason: &str) {
        let state = &mut self.agents[agent.0];
        state.paused = paused.then(|| reason.to_owned());
        state.last_pause_change = Some(self.now);
        self.emit(SimEvent::Pause {
            agent,
            paused,
            reason: reason.to_owned(),
        });
        if !paused {
            self.offer_agent(agent);
        }
    }

    /// Adds the agent to a queue now (AMI `QueueAdd`).
    pub fn add_member(&mut self, agent: AgentId, queue: QueueId) -> Result<(), CommandError> {
        if self.agents[agent.0].queues.contains(&queue) {
            return Err(CommandError::AlreadyMember {
                interface: self.config.agents[agent.0].interface.clone(),
                queue: self.config.queues[queue.0].name.clone(),
            });
        }
        self.join_queue(agent, queue);
        self.dispatch(queue);
        Ok(())
    }

    /// Removes the agent from a queue now (AMI `QueueRemove`).
    pub fn remove_member(&mut self, agent: AgentId, queue: QueueId) -> Result<(), CommandError> {
        if !self.agents[agent.0].queues.contains(&queue) {
            return Err(CommandError::NotMember {
                interface: self.config.agents[agent.0].interface.clone(),
                queue: self.config.queues[queue.0].name.clone(),
            });
        }
        self.leave_queue(agent, queue);
        Ok(())
    }

    /// Changes who answers the campaign's calls from now on (answer rates
    /// move through the day; the pacing evaluation drives them).
    pub fn set_answer_model(&mut self, campaign: CampaignId, model: super::config::AnswerModel) {
        if let Some(c) = self.config.campaigns.get_mut(campaign.0) {
            c.answer = model;
        }
    }

    /// From now on, every campaign places calls only through
    /// [`Simulation::originate`] (a dialer outside the simulation decides).
    pub fn dial_externally(&mut self) {
        for campaign in &mut self.config.campaigns {
            campaign.dialing = Dialing::External;
        }
    }

    /// Places an outbound call for the campaign now (AMI `Originate`);
    /// `tag` is echoed in the [`SimEvent::Dial`] event.
    pub fn originate(&mut self, campaign: CampaignId, number: &str, tag: Option<String>) -> CallId {
        let call = CallId(self.next_call);
        self.next_call += 1;
        let queue = QueueId(
            self.config
                .queue_index(&self.config.campaigns[campaign.0].queue)
                .unwrap_or_default(),
        );
        self.calls.insert(
            call,
            Call {
                queue,
                campaign: Some(campaign),
                caller: number.to_owned(),
                joined_at: self.now,
                orig_position: 0,
                attempt: 0,
                phase: Phase::Dialing,
            },
        );
        self.emit(SimEvent::Dial {
            call,
            campaign,
            number: number.to_owned(),
            tag,
        });
        let model = self.config.campaigns[campaign.0].answer;
        let (delay, outcome) = if self.rng.chance(model.answer) {
            let delay = self.rng.between(model.ring_ms.0, model.ring_ms.1);
            if self.rng.chance(model.machine) {
                (delay, DialOutcome::Machine)
            } else {
                (delay, DialOutcome::Person)
            }
        } else if self.rng.chance(model.busy) {
            (
                self.rng.between(1_000, 3_000),
                DialOutcome::Failed(DialFailure::Busy),
            )
        } else {
            (DIAL_TIMEOUT, DialOutcome::Failed(DialFailure::NoAnswer))
        };
        // A busy line answers the INVITE with 486 before any ringback.
        let busy = matches!(outcome, DialOutcome::Failed(DialFailure::Busy));
        if delay > RINGBACK_AFTER && !busy {
            self.schedule(self.now + RINGBACK_AFTER, Due::DialRinging(call));
        }
        self.schedule(self.now + delay, Due::DialOutcome { call, outcome });
        call
    }

    fn schedule(&mut self, at: Millis, due: Due) {
        self.next_seq += 1;
        self.agenda.push(Reverse(Scheduled {
            at,
            seq: self.next_seq,
            due,
        }));
    }

    fn emit(&mut self, event: SimEvent) {
        self.out.push(Timed {
            at: self.now,
            event,
        });
    }

    fn handle(&mut self, due: Due) {
        match due {
            Due::Arrival(queue) => self.on_arrival(queue),
            Due::GiveUp(call) => self.on_leave_waiting(call, false),
            Due::QueueTimeout(call) => self.on_leave_waiting(call, true),
            Due::RingEnd {
                call,
                agent,
                attempt,
                answered,
            } => self.on_ring_end(call, agent, attempt, answered),
            Due::RetryEnd { call, attempt } => {
                if let Some(c) = self.calls.get_mut(&call)
                    && c.attempt == attempt
                    && matches!(c.phase, Phase::Retry)
                {
                    c.phase = Phase::Waiting;
                    let queue = c.queue;
                    self.dispatch(queue);
                }
            }
            Due::TalkEnd(call) => self.on_talk_end(call),
            Due::WrapEnd { agent, token } => {
                let state = &mut self.agents[agent.0];
                if state.wrap_token == token && matches!(state.activity, AgentActivity::Wrapup(_)) {
                    state.activity = AgentActivity::Idle;
                    self.emit(SimEvent::WrapupEnd { agent });
                    self.agent_freed(agent);
                }
            }
            Due::ShiftStart { agent, starts } => self.on_shift_start(agent, starts),
            Due::ShiftEnd(agent) => {
                if self.agents[agent.0].activity == AgentActivity::Idle {
                    self.log_off(agent);
                } else {
                    self.agents[agent.0].logoff_pending = true;
                }
                self.schedule_next_shift(agent);
            }
            Due::BreakStart { agent, reason } => {
                if self.agents[agent.0].login_at.is_some() {
                    self.set_paused(agent, true, &reason);
                }
            }
            Due::BreakEnd(agent) => {
                if self.agents[agent.0].login_at.is_some() && self.agents[agent.0].paused.is_some()
                {
                    self.set_paused(agent, false, "");
                }
            }
            Due::DialerTick(campaign) => self.on_dialer_tick(campaign),
            Due::DialOutcome { call, outcome } => self.on_dial_outcome(call, outcome),
            Due::AmdDone { call, machine } => self.on_amd_done(call, machine),
            Due::DialRinging(call) => {
                if let Some(Call {
                    campaign: Some(campaign),
                    phase: Phase::Dialing,
                    ..
                }) = self.calls.get(&call)
                {
                    let campaign = *campaign;
                    self.emit(SimEvent::DialRinging { call, campaign });
                }
            }
        }
    }

    // ----- inbound callers ------------------------------------------------

    fn schedule_next_arrival(&mut self, queue: QueueId) {
        let config = &self.config.queues[queue.0];
        let peak_per_ms = config.calls_per_hour * config.shape.peak() / 3_600_000.0;
        if peak_per_ms <= 0.0 {
            return;
        }
        // Thinning (Lewis & Shedler): candidates at the peak rate, each kept
        // with probability rate(t) ÷ peak — see `on_arrival`.
        let gap = self.rng.exponential(1.0 / peak_per_ms).ceil() as Millis;
        self.schedule(self.now + gap.max(1), Due::Arrival(queue));
    }

    fn on_arrival(&mut self, queue: QueueId) {
        let config = &self.config.queues[queue.0];
        let weight =
            super::shifts::demand_weight(&config.shape, self.now, self.config.utc_offset_min);
        let keep = weight / config.shape.peak();
        if self.rng.chance(keep) {
            let caller = format!("+1555{:07}", self.rng.between(0, 9_999_999));
            let call = CallId(self.next_call);
            self.next_call += 1;
            self.calls.insert(
                call,
                Call {
                    queue,
                    campaign: None,
                    caller,
                    joined_at: self.now,
                    orig_position: 0,
                    attempt: 0,
                    phase: Phase::Waiting,
                },
            );
            self.join(call, queue);
            let config = &self.config.queues[queue.0];
            let (patience, max_wait) = (config.patience_mean_s, config.max_wait_s);
            if let Some(mean_s) = patience {
                let wait = (self.rng.exponential(mean_s) * 1000.0).ceil() as Millis;
                self.schedule(self.now + wait, Due::GiveUp(call));
            }
            if let Some(limit_s) = max_wait {
                self.schedule(
                    self.now + Millis::from(limit_s) * SECOND,
                    Due::QueueTimeout(call),
                );
            }
            self.dispatch(queue);
        }
        self.schedule_next_arrival(queue);
    }

    /// Puts the call at the end of the queue and reports it.
    fn join(&mut self, call: CallId, queue: QueueId) {
        let waiting = &mut self.queues[queue.0].waiting;
        waiting.push(call);
        let position = waiting.len();
        let now = self.now;
        let caller = match self.calls.get_mut(&call) {
            Some(c) => {
                c.orig_position = position;
                c.joined_at = now;
                c.phase = Phase::Waiting;
                c.caller.clone()
            }
            None => return,
        };
        self.emit(SimEvent::CallerJoin {
            call,
            queue,
            caller,
            position,
            count: position,
        });
    }

    /// Takes the call out of its queue's waiting list, reporting the
    /// position it held and how many remain.
    fn unqueue(&mut self, call: CallId, queue: QueueId) -> usize {
        let waiting = &mut self.queues[queue.0].waiting;
        let index = waiting.iter().position(|c| *c == call).unwrap_or(0);
        if index < waiting.len() {
            waiting.remove(index);
        }
        let count = waiting.len();
        self.emit(SimEvent::CallerLeave {
            call,
            queue,
            position: index + 1,
            count,
        });
        index + 1
    }

    /// Offers waiting callers, in order, to the queue's available members.
    fn dispatch(&mut self, queue: QueueId) {
        let waiting = self.queues[queue.0].waiting.clone();
        for call in waiting {
            if !matches!(
                self.calls.get(&call).map(|c| &c.phase),
                Some(Phase::Waiting)
            ) {
                continue;
            }
            let picked = self.pick_members(queue);
            if picked.is_empty() {
                break;
            }
            self.ring(call, queue, picked);
        }
    }

    fn available(&self, agent: AgentId, queue: QueueId) -> bool {
        let state = &self.agents[agent.0];
        state.queues.contains(&queue)
            && state.paused.is_none()
            && state.activity == AgentActivity::Idle
            && !state.logoff_pending
    }

    fn pick_members(&mut self, queue: QueueId) -> Vec<AgentId> {
        let members = &self.queues[queue.0].members;
        let free: Vec<AgentId> = members
            .iter()
            .copied()
            .filter(|a| self.available(*a, queue))
            .collect();
        if free.is_empty() {
            return free;
        }
        match self.config.queues[queue.0].strategy {
            Strategy::RingAll => free,
            Strategy::LeastRecent => {
                let pick = free
                    .iter()
                    .copied()
                    .min_by_key(|a| (self.agents[a.0].last_call_end.unwrap_or(Millis::MIN), *a));
                pick.into_iter().collect()
            }
            Strategy::RrMemory => {
                let last = self.queues[queue.0].rr_last;
                let pick = free
                    .iter()
                    .copied()
                    .find(|a| Some(*a) > last)
                    .unwrap_or(free[0]);
                self.queues[queue.0].rr_last = Some(pick);
                vec![pick]
            }
        }
    }

    fn ring(&mut self, call: CallId, queue: QueueId, agents: Vec<AgentId>) {
        let config = &self.config.queues[queue.0];
        let (answer_ms, no_answer, timeout) = (
            config.answer_ms,
            config.ring_no_answer,
            Millis::from(config.ring_timeout_s) * SECOND,
        );
        let attempt = match self.calls.get_mut(&call) {
            Some(c) => {
                c.attempt += 1;
                c.attempt
            }
            None => return,
        };
        let mut ringing = Vec::with_capacity(agents.len());
        for agent in agents {
            self.agents[agent.0].activity = AgentActivity::Ringing(call);
            self.emit(SimEvent::Ring { call, queue, agent });
            let answer_after = self.rng.between(answer_ms.0, answer_ms.1);
            let answered = !self.rng.chance(no_answer) && answer_after < timeout;
            let after = if answered { answer_after } else { timeout };
            self.schedule(
                self.now + after,
                Due::RingEnd {
                    call,
                    agent,
                    attempt,
                    answered,
                },
            );
            ringing.push((agent, self.now));
        }
        if let Some(c) = self.calls.get_mut(&call) {
            c.phase = Phase::Ringing(ringing);
        }
    }

    fn on_ring_end(&mut self, call: CallId, agent: AgentId, attempt: u32, answered: bool) {
        let Some(c) = self.calls.get_mut(&call) else {
            return;
        };
        if c.attempt != attempt {
            return;
        }
        let Phase::Ringing(ringing) = &mut c.phase else {
            return;
        };
        let Some(index) = ringing.iter().position(|(a, _)| *a == agent) else {
            return;
        };
        let (_, ring_start) = ringing.remove(index);
        let queue = c.queue;
        if answered {
            let others = std::mem::take(ringing);
            self.connect(call, queue, agent, ring_start);
            for (other, _) in others {
                self.agents[other.0].activity = AgentActivity::Idle;
                self.emit(SimEvent::RingStopped {
                    call,
                    queue,
                    agent: other,
                });
                self.agent_freed(other);
            }
        } else {
            let nobody_left = ringing.is_empty();
            if nobody_left {
                c.phase = Phase::Retry;
            }
            let ring_ms = self.now - ring_start;
            self.emit(SimEvent::RingNoAnswer {
                call,
                queue,
                agent,
                ring_ms,
            });
            self.agents[agent.0].activity = AgentActivity::Idle;
            if nobody_left {
                let retry = Millis::from(self.config.queues[queue.0].retry_s) * SECOND;
                self.schedule(self.now + retry, Due::RetryEnd { call, attempt });
            }
            self.agent_freed(agent);
        }
    }

    fn connect(&mut self, call: CallId, queue: QueueId, agent: AgentId, ring_start: Millis) {
        let Some(joined_at) = self.calls.get(&call).map(|c| c.joined_at) else {
            return;
        };
        self.unqueue(call, queue);
        let hold_s = whole_seconds(self.now) - whole_seconds(joined_at);
        self.emit(SimEvent::Connect {
            call,
            queue,
            agent,
            hold_s,
            wait_ms: self.now - joined_at,
            ring_s: whole_seconds(self.now) - whole_seconds(ring_start),
        });
        self.agents[agent.0].activity = AgentActivity::Talking(call);
        let talk = match self.config.queues[queue.0].talk {
            Duration::Fixed(s) => s,
            Duration::Exponential { mean_s } => self.rng.exponential(mean_s),
            Duration::Lognormal { mean_s, cv } => self.rng.lognormal(mean_s, cv),
        };
        if let Some(c) = self.calls.get_mut(&call) {
            c.phase = Phase::Talking {
                agent,
                connected_at: self.now,
                hold_s,
            };
        }
        let talk_ms = ((talk * 1000.0).round() as Millis).max(1);
        self.schedule(self.now + talk_ms, Due::TalkEnd(call));
    }

    fn on_talk_end(&mut self, call: CallId) {
        let Some(c) = self.calls.remove(&call) else {
            return;
        };
        let Phase::Talking {
            agent,
            connected_at,
            hold_s,
        } = c.phase
        else {
            return;
        };
        let by = if self
            .rng
            .chance(self.config.queues[c.queue.0].caller_hangs_up)
        {
            HungUpBy::Caller
        } else {
            HungUpBy::Agent
        };
        self.emit(SimEvent::Complete {
            call,
            queue: c.queue,
            agent,
            hold_s,
            talk_s: whole_seconds(self.now) - whole_seconds(connected_at),
            orig_position: c.orig_position,
            by,
        });
        self.emit(SimEvent::Hangup { call });
        let wrapup = Millis::from(self.config.queues[c.queue.0].wrapup_s) * SECOND;
        let state = &mut self.agents[agent.0];
        state.calls_taken += 1;
        state.last_call_end = Some(self.now);
        if wrapup == 0 {
            state.activity = AgentActivity::Idle;
            self.agent_freed(agent);
        } else {
            state.wrap_token += 1;
            state.activity = AgentActivity::Wrapup(self.now + wrapup);
            let token = state.wrap_token;
            self.schedule(self.now + wrapup, Due::WrapEnd { agent, token });
        }
    }

    /// The caller leaves without being answered: patience ran out (or the
    /// dialer's connect window closed), or the queue timed out.
    fn on_leave_waiting(&mut self, call: CallId, timed_out: bool) {
        let waiting = matches!(
            self.calls.get(&call).map(|c| &c.phase),
            Some(Phase::Waiting | Phase::Ringing(_) | Phase::Retry)
        );
        if !waiting {
            return;
        }
        let Some(c) = self.calls.remove(&call) else {
            return;
        };
        let mut freed = Vec::new();
        if let Phase::Ringing(ringing) = &c.phase {
            for (agent, started) in ringing {
                self.emit(SimEvent::RingCanceled {
                    call,
                    queue: c.queue,
                    agent: *agent,
                    ring_ms: self.now - started,
                });
                self.agents[agent.0].activity = AgentActivity::Idle;
                freed.push(*agent);
            }
        }
        let position = self.unqueue(call, c.queue);
        let wait_s = whole_seconds(self.now) - whole_seconds(c.joined_at);
        self.emit(if timed_out {
            SimEvent::ExitTimeout {
                call,
                queue: c.queue,
                position,
                orig_position: c.orig_position,
                wait_s,
            }
        } else {
            SimEvent::Abandon {
                call,
                queue: c.queue,
                position,
                orig_position: c.orig_position,
                wait_s,
                wait_ms: self.now - c.joined_at,
                dropped: c.campaign.is_some(),
            }
        });
        self.emit(SimEvent::Hangup { call });
        for agent in freed {
            self.agent_freed(agent);
        }
    }

    // ----- agents -----------------------------------------------------------

    /// An agent became Idle: finish a pending logoff, or offer them calls.
    fn agent_freed(&mut self, agent: AgentId) {
        if self.agents[agent.0].logoff_pending {
            self.log_off(agent);
        } else {
            self.offer_agent(agent);
        }
    }

    fn offer_agent(&mut self, agent: AgentId) {
        for queue in self.agents[agent.0].queues.clone() {
            self.dispatch(queue);
        }
    }

    fn log_in(&mut self, agent: AgentId) {
        let state = &mut self.agents[agent.0];
        state.login_at = Some(self.now);
        state.paused = None;
        state.logoff_pending = false;
        let queues: Vec<QueueId> = self.config.agents[agent.0]
            .queues
            .iter()
            .filter_map(|name| self.config.queue_index(name).map(QueueId))
            .collect();
        for queue in queues {
            if !self.agents[agent.0].queues.contains(&queue) {
                self.join_queue(agent, queue);
            }
        }
        self.offer_agent(agent);
    }

    fn join_queue(&mut self, agent: AgentId, queue: QueueId) {
        let state = &mut self.agents[agent.0];
        state.queues.push(queue);
        state.login_at.get_or_insert(self.now);
        let members = &mut self.queues[queue.0].members;
        let at = members.partition_point(|m| *m < agent);
        members.insert(at, agent);
        self.emit(SimEvent::MemberAdded { agent, queue });
    }

    fn leave_queue(&mut self, agent: AgentId, queue: QueueId) {
        let state = &mut self.agents[agent.0];
        state.queues.retain(|q| *q != queue);
        if state.queues.is_empty() {
            state.login_at = None;
        }
        self.queues[queue.0].members.retain(|m| *m != agent);
        self.emit(SimEvent::MemberRemoved { agent, queue });
    }

    fn log_off(&mut self, agent: AgentId) {
        for queue in self.agents[agent.0].queues.clone() {
            self.leave_queue(agent, queue);
        }
        let state = &mut self.agents[agent.0];
        state.logoff_pending = false;
        state.login_at = None;
        state.paused = None;
    }

    fn on_shift_start(&mut self, agent: AgentId, starts: Millis) {
        let Some(shift) = self.config.agents[agent.0].shift.clone() else {
            return;
        };
        self.log_in(agent);
        for brk in &shift.breaks {
            let from = starts + Millis::from(brk.after_min) * 60_000;
            let to = from + Millis::from(brk.length_min) * 60_000;
            if from >= self.now {
                self.schedule(
                    from,
                    Due::BreakStart {
                        agent,
                        reason: brk.reason.clone(),
                    },
                );
                self.schedule(to, Due::BreakEnd(agent));
            }
        }
        let ends = starts + Millis::from(shift.length_min) * 60_000;
        self.schedule(ends.max(self.now), Due::ShiftEnd(agent));
    }

    fn schedule_next_shift(&mut self, agent: AgentId) {
        if let Some(shift) = &self.config.agents[agent.0].shift {
            let starts = super::shifts::next_start(shift, self.now + 1, self.config.utc_offset_min);
            if starts < Millis::MAX {
                self.schedule(starts, Due::ShiftStart { agent, starts });
            }
        }
    }

    // ----- outbound ---------------------------------------------------------

    fn on_dialer_tick(&mut self, campaign: CampaignId) {
        let config = &self.config.campaigns[campaign.0];
        let Dialing::Ratio(ratio) = config.dialing else {
            return;
        };
        let hour = super::shifts::local_hour(self.now, self.config.utc_offset_min);
        if hour >= config.hours.0 && hour < config.hours.1 {
            let prefix = config.number_prefix.clone();
            let queue = self.config.queue_index(&config.queue).map(QueueId);
            let free = queue.map_or(0, |q| {
                self.queues[q.0]
                    .members
                    .iter()
                    .filter(|a| self.available(**a, q))
                    .count()
            });
            // Calls still in detection will want an agent too.
            let in_flight = self.dialing(campaign) + self.detecting(campaign);
            let target = (ratio * free as f64).ceil() as usize;
            for _ in in_flight..target {
                let number = format!("{prefix}{:07}", self.rng.between(0, 9_999_999));
                self.originate(campaign, &number, None);
            }
        }
        self.schedule(self.now + SECOND, Due::DialerTick(campaign));
    }

    fn on_dial_outcome(&mut self, call: CallId, outcome: DialOutcome) {
        let Some(c) = self.calls.get(&call) else {
            return;
        };
        let campaign = c.campaign.unwrap_or(CampaignId(0));
        match outcome {
            DialOutcome::Failed(reason) => {
                self.calls.remove(&call);
                self.emit(SimEvent::DialFailed {
                    call,
                    campaign,
                    reason,
                });
                self.emit(SimEvent::Hangup { call });
            }
            DialOutcome::Machine | DialOutcome::Person => {
                let machine = matches!(outcome, DialOutcome::Machine);
                self.emit(SimEvent::DialAnswered {
                    call,
                    campaign,
                    machine,
                });
                if let Some(c) = self.calls.get_mut(&call) {
                    c.phase = Phase::Detecting;
                }
                let (low, high) = self.config.campaigns[campaign.0].answer.amd_ms;
                if high <= 0 {
                    self.on_amd_done(call, machine);
                } else {
                    let delay = self.rng.between(low.max(0), high.max(low));
                    self.schedule(self.now + delay, Due::AmdDone { call, machine });
                }
            }
        }
    }

    /// The AMD's verdict: a person enters the campaign's queue (and is
    /// dropped if no agent takes it within the connect window), a machine
    /// is hung up.
    fn on_amd_done(&mut self, call: CallId, machine: bool) {
        let Some(c) = self.calls.get(&call) else {
            return;
        };
        let (campaign, queue) = (c.campaign.unwrap_or(CampaignId(0)), c.queue);
        self.emit(SimEvent::AmdVerdict {
            call,
            campaign,
            machine,
        });
        if machine {
            self.calls.remove(&call);
            self.emit(SimEvent::Hangup { call });
            return;
        }
        self.join(call, queue);
        let window = self.config.campaigns[campaign.0].drop_after_ms;
        self.schedule(self.now + window, Due::GiveUp(call));
        self.dispatch(queue);
    }

    /// Calls of `campaign` answered and still in answering-machine
    /// detection.
    pub fn detecting(&self, campaign: CampaignId) -> usize {
        self.calls
            .values()
            .filter(|c| c.campaign == Some(campaign) && matches!(c.phase, Phase::Detecting))
            .count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_seconds_floor_like_time_of_day() {
        assert_eq!(whole_seconds(1_999), 1);
        assert_eq!(whole_seconds(2_000), 2);
        assert_eq!(whole_seconds(-1), -1);
    }

    #[test]
    fn the_agenda_runs_in_time_then_insertion_order() {
        let a = Scheduled {
            at: 5,
            seq: 2,
            due: Due::ShiftEnd(AgentId(0)),
        };
        let b = Scheduled {
            at: 5,
            seq: 1,
            due: Due::ShiftEnd(AgentId(1)),
        };
        let c = Scheduled {
            at: 4,
            seq: 3,
            due: Due::ShiftEnd(AgentId(2)),
        };
        assert!(b < a && c < b);
    }
}
