//! What the simulated contact center looks like: queues and their demand,
//! agents and their shifts, outbound campaigns. Times are in milliseconds
//! or seconds as each field says; "local" times use a fixed UTC offset
//! (the simulation has no daylight-saving changes).

/// The whole simulated contact center.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// Seed of every random draw: the same config and seed give the same
    /// events.
    pub seed: u64,
    /// Offset of the contact center's local time from UTC, minutes (shapes
    /// and shifts are in local time).
    pub utc_offset_min: i32,
    /// Inbound queues (and the queues outbound campaigns deliver into).
    pub queues: Vec<QueueConfig>,
    /// Agents, each a member of one or more queues.
    pub agents: Vec<AgentConfig>,
    /// Outbound campaigns.
    pub campaigns: Vec<CampaignConfig>,
}

/// How a queue picks the member(s) to ring (Asterisk's `strategy=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strategy {
    /// Ring every available member at once; the first to answer wins.
    RingAll,
    /// Ring the member whose last call ended longest ago.
    LeastRecent,
    /// Round robin that remembers where it stopped.
    RrMemory,
}

impl Strategy {
    /// The name Asterisk uses in queues.conf and in `QueueParams`.
    pub fn asterisk_name(self) -> &'static str {
        match self {
            Strategy::RingAll => "ringall",
            Strategy::LeastRecent => "leastrecent",
            Strategy::RrMemory => "rrmemory",
        }
    }
}

/// A distribution of durations, seconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Duration {
    /// Always the same.
    Fixed(f64),
    /// Exponential with this mean (the M/M/N assumption).
    Exponential {
        /// Mean, seconds.
        mean_s: f64,
    },
    /// Log-normal with this mean and coefficient of variation (what real
    /// handle times look like).
    Lognormal {
        /// Mean, seconds.
        mean_s: f64,
        /// Standard deviation ÷ mean.
        cv: f64,
    },
}

/// Relative weight of demand over the day and the week; the arrival rate at
/// an instant is `calls_per_hour × hourly × daily`, interpolated linearly
/// between the middles of the hours.
#[derive(Debug, Clone, PartialEq)]
pub struct DemandShape {
    /// 24 weights, local hour 0..23.
    pub hourly: [f64; 24],
    /// 7 weights, Monday..Sunday.
    pub daily: [f64; 7],
}

impl DemandShape {
    /// The same demand at every hour of every day.
    pub fn flat() -> Self {
        DemandShape {
            hourly: [1.0; 24],
            daily: [1.0; 7],
        }
    }

    /// A typical office-hours curve: quiet nights, a morning peak, a
    /// smaller afternoon peak, lighter Saturdays, near-empty Sundays.
    pub fn office_hours() -> Self {
        DemandShape {
            hourly: [
                0.02, 0.01, 0.01, 0.01, 0.01, 0.03, 0.08, 0.25, 0.70, 1.00, 0.95, 0.85, 0.70, 0.80,
                0.90, 0.80, 0.65, 0.45, 0.25, 0.15, 0.10, 0.07, 0.05, 0.03,
            ],
            daily: [1.10, 1.00, 0.95, 0.95, 0.90, 0.40, 0.15],
        }
    }

    /// The largest multiplier the shape ever reaches (for thinning).
    pub fn peak(&self) -> f64 {
        let hour = self.hourly.iter().copied().fold(0.0, f64::max);
        let day = self.daily.iter().copied().fold(0.0, f64::max);
        hour * day
    }
}

/// One queue: its demand, its callers and how it rings its members.
#[derive(Debug, Clone)]
pub struct QueueConfig {
    /// Queue name as in queues.conf.
    pub name: String,
    /// Member selection.
    pub strategy: Strategy,
    /// Inbound arrivals per hour at shape weight 1.0 (0 for a queue fed only
    /// by an outbound campaign).
    pub calls_per_hour: f64,
    /// Intraday and weekly shape of the arrivals.
    pub shape: DemandShape,
    /// Talk time of an answered call.
    pub talk: Duration,
    /// Mean caller patience, seconds (exponential); `None` = callers never
    /// hang up while waiting.
    pub patience_mean_s: Option<f64>,
    /// Queue timeout: a caller still waiting after this many seconds leaves
    /// with EXITWITHTIMEOUT; `None` = no timeout.
    pub max_wait_s: Option<u32>,
    /// How long a member takes to answer, ms (uniform in the range).
    pub answer_ms: (i64, i64),
    /// Probability that a rung member does not answer.
    pub ring_no_answer: f64,
    /// Ring timeout per attempt, seconds (queues.conf `timeout`).
    pub ring_timeout_s: u32,
    /// Pause between attempts after nobody answered, seconds (`retry`).
    pub retry_s: u32,
    /// After-call work before the member is offered the next call, seconds
    /// (`wrapuptime`).
    pub wrapup_s: u32,
    /// Probability that the caller (not the agent) ends an answered call.
    pub caller_hangs_up: f64,
}

impl QueueConfig {
    /// A queue with everyday defaults: ring 2–6 s, 5 % ring-no-answer,
    /// 15 s ring timeout, 5 s retry, 10 s wrap-up, lognormal talk time.
    pub fn new(name: &str, calls_per_hour: f64, talk_mean_s: f64) -> Self {
        QueueConfig {
            name: name.to_owned(),
            strategy: Strategy::RrMemory,
            calls_per_hour,
            shape: DemandShape::flat(),
            talk: Duration::Lognormal {
                mean_s: talk_mean_s,
                cv: 0.7,
            },
            patience_mean_s: Some(120.0),
            max_wait_s: None,
            answer_ms: (2_000, 6_000),
            ring_no_answer: 0.05,
            ring_timeout_s: 15,
            retry_s: 5,
            wrapup_s: 10,
            caller_hangs_up: 0.6,
        }
    }
}

/// A break within a shift: the agent pauses with a reason.
#[derive(Debug, Clone, PartialEq)]
pub struct Break {
    /// Minutes after the shift starts.
    pub after_min: u32,
    /// Length, minutes.
    pub length_min: u32,
    /// Pause reason (e.g. `Lunch`).
    pub reason: String,
}

/// A weekly shift: on the given days the agent logs in at `start_min`
/// local time, takes the breaks, and logs off `length_min` later.
#[derive(Debug, Clone, PartialEq)]
pub struct Shift {
    /// Minutes after local midnight.
    pub start_min: u32,
    /// Length, minutes (may run past midnight).
    pub length_min: u32,
    /// Working days, Monday..Sunday.
    pub days: [bool; 7],
    /// Breaks, in order.
    pub breaks: Vec<Break>,
}

/// One agent (a dynamic queue member).
#[derive(Debug, Clone)]
pub struct AgentConfig {
    /// Member name (the `agent` column of CONNECT, PAUSE, …).
    pub name: String,
    /// Device interface, e.g. `PJSIP/1001` (the `agent` column of
    /// ADDMEMBER/REMOVEMEMBER).
    pub interface: String,
    /// Queues this agent serves (names from [`SimConfig::queues`]).
    pub queues: Vec<String>,
    /// The agent's weekly shift; `None` = logged in from the start, always.
    pub shift: Option<Shift>,
}

/// What answers an outbound call.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AnswerModel {
    /// Probability the called party picks up (person or machine).
    pub answer: f64,
    /// Of the answered, the share that are answering machines.
    pub machine: f64,
    /// Of the unanswered, the share that are busy (the rest ring out).
    pub busy: f64,
    /// Ring time before an answer, ms (uniform).
    pub ring_ms: (i64, i64),
    /// Answering-machine detection after an answer, ms (uniform): the call
    /// is up and in no queue meanwhile; then a person enters the queue and
    /// a machine is hung up. (0, 0): decided at the answer.
    pub amd_ms: (i64, i64),
}

/// How a campaign's calls are placed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Dialing {
    /// Calls come from outside (AMI `Originate`); the simulation only
    /// plays out what happens to them.
    External,
    /// The simulation dials by itself: every second, it keeps this many
    /// calls in flight per available agent (history generation).
    Ratio(f64),
}

/// An outbound campaign: answered calls go into `queue`, and a call that no
/// agent takes within `drop_after_ms` is dropped and logged as abandoned.
#[derive(Debug, Clone)]
pub struct CampaignConfig {
    /// Campaign name.
    pub name: String,
    /// Queue (from [`SimConfig::queues`]) that answered calls enter.
    pub queue: String,
    /// Who answers.
    pub answer: AnswerModel,
    /// The connect window: an answered call with no free agent after this
    /// long is abandoned (2 000 ms, the usual regulatory rule).
    pub drop_after_ms: i64,
    /// Local hours during which the built-in dialer works (start, end).
    pub hours: (u32, u32),
    /// How calls are placed.
    pub dialing: Dialing,
    /// Prefix of the numbers the built-in dialer calls.
    pub number_prefix: String,
}

/// An eight-hour shift's breaks: 15 minutes after two hours, lunch (30)
/// after four, 15 after six and a half.
pub fn office_breaks() -> Vec<Break> {
    vec![
        Break {
            after_min: 120,
            length_min: 15,
            reason: "Break".into(),
        },
        Break {
            after_min: 240,
            length_min: 30,
            reason: "Lunch".into(),
        },
        Break {
            after_min: 390,
            length_min: 15,
            reason: "Break".into(),
        },
    ]
}

/// The demo's contact center: three inbound queues (ringall,
/// leastrecent, rrmemory) and one outbound campaign, 34 agents in shifts
/// with breaks.
pub fn demo_config(seed: u64) -> SimConfig {
    let mut support = QueueConfig::new("support", 90.0, 300.0);
    support.strategy = Strategy::LeastRecent;
    support.shape = DemandShape::office_hours();
    let mut sales = QueueConfig::new("sales", 50.0, 240.0);
    sales.strategy = Strategy::RingAll;
    sales.shape = DemandShape::office_hours();
    sales.patience_mean_s = Some(90.0);
    let mut billing = QueueConfig::new("billing", 30.0, 200.0);
    billing.strategy = Strategy::RrMemory;
    billing.shape = DemandShape::office_hours();
    billing.max_wait_s = Some(600);
    let mut outbound = QueueConfig::new("renewals", 0.0, 180.0);
    outbound.answer_ms = (300, 900);
    outbound.ring_no_answer = 0.0;
    outbound.wrapup_s = 15;
    outbound.patience_mean_s = None;

    let breaks = office_breaks;
    let weekdays = [true, true, true, true, true, false, false];
    let mut agents = Vec::new();
    let groups: [(&[&str], u32, [bool; 7], usize); 6] = [
        (&["support"], 7 * 60, weekdays, 7),
        (&["support", "billing"], 9 * 60, weekdays, 6),
        (&["support"], 11 * 60, [true; 7], 5),
        (
            &["sales"],
            8 * 60,
            [true, true, true, true, true, true, false],
            7,
        ),
        (&["sales", "billing"], 12 * 60, weekdays, 4),
        (&["renewals"], 9 * 60, weekdays, 5),
    ];
    for (queues, start_min, days, count) in groups {
        for _ in 0..count {
            let ext = 1001 + agents.len();
            agents.push(AgentConfig {
                name: format!("Agent {ext}"),
                interface: format!("PJSIP/{ext}"),
                queues: queues.iter().map(|q| (*q).to_owned()).collect(),
                shift: Some(Shift {
                    start_min: start_min + 5 * (agents.len() as u32 % 4),
                    length_min: 8 * 60,
                    days,
                    breaks: breaks(),
                }),
            });
        }
    }
    SimConfig {
        seed,
        utc_offset_min: 0,
        queues: vec![support, sales, billing, outbound],
        agents,
        campaigns: vec![CampaignConfig {
            name: "renewals".into(),
            queue: "renewals".into(),
            answer: AnswerModel {
                answer: 0.35,
                machine: 0.25,
                busy: 0.3,
                ring_ms: (4_000, 20_000),
                // AMD() listens to the greeting for 1.5–3 s.
                amd_ms: (1_500, 3_000),
            },
            drop_after_ms: 2_000,
            hours: (9, 17),
            // Progressive (one line per free agent) while the simulation
            // dials by itself, as in the history: a fixed ratio of 1.6
            // abandoned 12 % of the live answers, far over any limit.
            dialing: Dialing::Ratio(1.0),
            number_prefix: "+1555".into(),
        }],
    }
}

/// A config the simulation cannot run, with what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidConfig(pub String);

impl std::fmt::Display for InvalidConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "invalid simulation config: {}", self.0)
    }
}

impl std::error::Error for InvalidConfig {}

impl SimConfig {
    /// Index of the queue with this name.
    pub fn queue_index(&self, name: &str) -> Option<usize> {
        self.queues.iter().position(|q| q.name == name)
    }

    /// Checks the references and ranges a run relies on.
    pub fn validate(&self) -> Result<(), InvalidConfig> {
        let bad = |what: String| Err(InvalidConfig(what));
        for (i, q) in self.queues.iter().enumerate() {
            if self.queues[..i].iter().any(|o| o.name == q.name) {
                return bad(format!("queue {} is defined twice", q.name));
            }
            if !(q.calls_per_hour >= 0.0 && q.calls_per_hour.is_finite()) {
                return bad(format!("queue {}: calls_per_hour must be ≥ 0", q.name));
            }
            let shape_ok = q
                .shape
                .hourly
                .iter()
                .chain(&q.shape.daily)
                .all(|w| *w >= 0.0);
            if !shape_ok {
                return bad(format!("queue {}: shape weights must be ≥ 0", q.name));
            }
            if q.answer_ms.0 < 0 || q.answer_ms.1 < q.answer_ms.0 {
                return bad(format!(
                    "queue {}: answer_ms must be 0 ≤ low ≤ high",
                    q.name
                ));
            }
            let mean = match q.talk {
                Duration::Fixed(s) => s,
                Duration::Exponential { mean_s } | Duration::Lognormal { mean_s, .. } => mean_s,
            };
            if !(mean > 0.0 && mean.is_finite()) {
                return bad(format!("queue {}: talk time must be > 0", q.name));
            }
            if q.ring_timeout_s == 0 {
                return bad(format!("queue {}: ring_timeout_s must be > 0", q.name));
            }
        }
        for agent in &self.agents {
            if let Some(q) = agent.queues.iter().find(|q| self.queue_index(q).is_none()) {
                return bad(format!("agent {} names unknown queue {q}", agent.name));
            }
        }
        for c in &self.campaigns {
            if self.queue_index(&c.queue).is_none() {
                return bad(format!(
                    "campaign {} names unknown queue {}",
                    c.name, c.queue
                ));
            }
            if c.answer.ring_ms.0 < 0 || c.answer.ring_ms.1 < c.answer.ring_ms.0 {
                return bad(format!(
                    "campaign {}: ring_ms must be 0 ≤ low ≤ high",
                    c.name
                ));
            }
        }
        Ok(())
    }
}
