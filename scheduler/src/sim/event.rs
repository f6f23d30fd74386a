//! What the simulation reports: one [`SimEvent`] per thing that happened,
//! in time order. The emulator turns them into queue_log lines and AMI
//! events; [`super::Tally`] turns them into interval counts.

/// Milliseconds since the Unix epoch, UTC.
pub type Millis = i64;

/// A call (one caller channel), numbered from 1 in order of appearance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CallId(pub u64);

/// Index of a queue in [`super::SimConfig::queues`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct QueueId(pub usize);

/// Index of an agent in [`super::SimConfig::agents`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AgentId(pub usize);

/// Index of a campaign in [`super::SimConfig::campaigns`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CampaignId(pub usize);

/// Who ended an answered call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HungUpBy {
    /// COMPLETECALLER.
    Caller,
    /// COMPLETEAGENT.
    Agent,
}

/// Why an outbound call was not answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DialFailure {
    /// Rang out (OriginateResponse reason 3).
    NoAnswer,
    /// Busy (reason 5).
    Busy,
}

/// An event with its instant.
#[derive(Debug, Clone, PartialEq)]
pub struct Timed {
    /// When it happened.
    pub at: Millis,
    /// What happened.
    pub event: SimEvent,
}

/// One thing that happened in the contact center. Seconds fields follow
/// Asterisk: whole seconds of the wall clock (`time(NULL)` differences).
#[derive(Debug, Clone, PartialEq)]
pub enum SimEvent {
    /// A caller joined a queue (ENTERQUEUE, QueueCallerJoin).
    CallerJoin {
        /// The call.
        call: CallId,
        /// The queue.
        queue: QueueId,
        /// Caller number.
        caller: String,
        /// 1-based position at entry.
        position: usize,
        /// Callers in the queue after joining.
        count: usize,
    },
    /// A member's phone starts ringing for a caller (AgentCalled).
    Ring {
        /// The call.
        call: CallId,
        /// The queue.
        queue: QueueId,
        /// The member.
        agent: AgentId,
    },
    /// The member did not answer within the ring timeout (RINGNOANSWER,
    /// AgentRingNoAnswer).
    RingNoAnswer {
        /// The call.
        call: CallId,
        /// The queue.
        queue: QueueId,
        /// The member.
        agent: AgentId,
        /// How long it rang, ms.
        ring_ms: i64,
    },
    /// The caller left while the member was ringing (RINGCANCELED).
    RingCanceled {
        /// The call.
        call: CallId,
        /// The queue.
        queue: QueueId,
        /// The member.
        agent: AgentId,
        /// How long it had rung, ms.
        ring_ms: i64,
    },
    /// Another member answered first (ringall); nothing is logged, the
    /// member is free again.
    RingStopped {
        /// The call.
        call: CallId,
        /// The queue.
        queue: QueueId,
        /// The member.
        agent: AgentId,
    },
    /// The caller leaves the queue (QueueCallerLeave), just before
    /// [`SimEvent::Connect`], [`SimEvent::Abandon`] or
    /// [`SimEvent::ExitTimeout`].
    CallerLeave {
        /// The call.
        call: CallId,
        /// The queue.
        queue: QueueId,
        /// Position the caller held.
        position: usize,
        /// Callers left in the queue.
        count: usize,
    },
    /// A member answered (CONNECT, AgentConnect).
    Connect {
        /// The call.
        call: CallId,
        /// The queue.
        queue: QueueId,
        /// The member.
        agent: AgentId,
        /// Whole seconds waited.
        hold_s: i64,
        /// Exact wait, ms.
        wait_ms: i64,
        /// Whole seconds the member's phone rang.
        ring_s: i64,
    },
    /// An answered call ended (COMPLETECALLER/COMPLETEAGENT, AgentComplete).
    Complete {
        /// The call.
        call: CallId,
        /// The queue.
        queue: QueueId,
        /// The member.
        agent: AgentId,
        /// Whole seconds waited.
        hold_s: i64,
        /// Whole seconds talked.
        talk_s: i64,
        /// Position at entry.
        orig_position: usize,
        /// Who hung up.
        by: HungUpBy,
    },
    /// The caller hung up while waiting (ABANDON, QueueCallerAbandon); for
    /// an outbound call, the dialer dropped it after the connect window.
    Abandon {
        /// The call.
        call: CallId,
        /// The queue.
        queue: QueueId,
        /// Position at exit.
        position: usize,
        /// Position at entry.
        orig_position: usize,
        /// Whole seconds waited.
        wait_s: i64,
        /// Exact wait, ms.
        wait_ms: i64,
        /// True for an outbound call dropped by the dialer.
        dropped: bool,
    },
    /// The queue timeout expired (EXITWITHTIMEOUT).
    ExitTimeout {
        /// The call.
        call: CallId,
        /// The queue.
        queue: QueueId,
        /// Position at exit.
        position: usize,
        /// Position at entry.
        orig_position: usize,
        /// Whole seconds waited.
        wait_s: i64,
    },
    /// The caller's channel is gone (Hangup).
    Hangup {
        /// The call.
        call: CallId,
    },
    /// The member finished after-call work and can take calls again.
    WrapupEnd {
        /// The member.
        agent: AgentId,
    },
    /// An agent logged in to a queue (ADDMEMBER, QueueMemberAdded).
    MemberAdded {
        /// The member.
        agent: AgentId,
        /// The queue.
        queue: QueueId,
    },
    /// An agent logged off from a queue (REMOVEMEMBER, QueueMemberRemoved).
    MemberRemoved {
        /// The member.
        agent: AgentId,
        /// The queue.
        queue: QueueId,
    },
    /// An agent paused or unpaused in all their queues (PAUSEALL +
    /// PAUSE per queue, QueueMemberPause).
    Pause {
        /// The member.
        agent: AgentId,
        /// Paused (true) or back (false).
        paused: bool,
        /// Reason given.
        reason: String,
    },
    /// An outbound call is being placed.
    Dial {
        /// The call.
        call: CallId,
        /// The campaign.
        campaign: CampaignId,
        /// Number dialled.
        number: String,
        /// Caller's own tag for it (AMI ActionID), if any.
        tag: Option<String>,
    },
    /// The called party's phone rings (one second after dialling, unless
    /// the line is busy).
    DialRinging {
        /// The call.
        call: CallId,
        /// The campaign.
        campaign: CampaignId,
    },
    /// The called party answered; answering-machine detection starts
    /// (see [`SimEvent::AmdVerdict`]).
    DialAnswered {
        /// The call.
        call: CallId,
        /// The campaign.
        campaign: CampaignId,
        /// An answering machine, not a person (what the detection will
        /// find; known to the simulation at once).
        machine: bool,
    },
    /// Answering-machine detection ended: a person goes on into the
    /// campaign's queue, a machine is hung up.
    AmdVerdict {
        /// The call.
        call: CallId,
        /// The campaign.
        campaign: CampaignId,
        /// A machine.
        machine: bool,
    },
    /// The outbound call failed.
    DialFailed {
        /// The call.
        call: CallId,
        /// The campaign.
        campaign: CampaignId,
        /// Why.
        reason: DialFailure,
    },
}
