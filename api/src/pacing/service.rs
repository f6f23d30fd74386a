//! Pacing decisions for dialers: the live floor from the AMI state, the
//! estimates and abandon budget from the lake (refreshed every
//! `[pacing] refresh_seconds` by one background task, so a request only
//! reads them), the policy of `queuelake_scheduler::pacing`, and the
//! record of every decision served (`pacing_decisions`, committed every
//! `record_seconds`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::datatypes::Float64Type;
use queuelake_engine::live::LiveTable;
use queuelake_engine::pacing::{DecisionRow, DecisionWriter};
use queuelake_engine::scope::sql_string;
use queuelake_engine::session::QueryEngine;
use queuelake_ingest::ami::feed::LiveFeed;
use queuelake_scheduler::pacing::estimate::{DialEstimator, Outcome, tuning};
use queuelake_scheduler::pacing::{Budget, Decision, Floor, Mode, decide};

use super::settings::{CampaignPacing, PacingSection};

/// A dial with no outcome after this long counts as not answered (an
/// Originate's timeout is 30 s by default; its channel hangs up then).
const UNRESOLVED_AFTER_S: f64 = 120.0;

/// A campaign's estimates and budget as last refreshed.
#[derive(Debug, Clone, PartialEq)]
pub struct Estimates {
    /// Rates.
    pub rates: queuelake_scheduler::pacing::Rates,
    /// Dials (resolved, weighted by age) behind the answer rate, the
    /// prior's included.
    pub dials: f64,
    /// Live answers in the window.
    pub answered: f64,
    /// Abandoned (2-second rule) in the window.
    pub dropped: f64,
    /// Live answers in the last 24 h (what the budget is spread over).
    pub answers_per_day: f64,
    /// Share of answers the AMD found to be machines (last hour).
    pub machine_rate: Option<f64>,
    /// The PBX instant they were computed at (Unix seconds).
    pub at_s: f64,
}

/// A decision with what it rested on.
#[derive(Debug, Clone, PartialEq)]
pub struct Paced {
    /// The campaign's settings.
    pub settings: CampaignPacing,
    /// The floor.
    pub floor: Floor,
    /// The estimates (defaults before the first refresh).
    pub estimates: Estimates,
    /// The decision.
    pub decision: Decision,
    /// When (Unix seconds, wall clock).
    pub decided_at_s: f64,
    /// Why no call is to be placed whatever the estimates say, if so.
    pub hold: Option<Hold>,
}

/// Why pacing answers `calls: 0` whatever its estimates say: the floor it
/// would pace on cannot be trusted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hold {
    /// No AMI source is configured: there is no floor.
    NoAmi,
    /// The AMI link is down or not yet signed in: the floor is frozen.
    LinkDown,
    /// The link is back, but its resync of channels and members has not
    /// completed.
    Resyncing,
    /// The PBX has not been heard from (no event, no reply to a ping)
    /// for longer than `[pacing] stale_seconds`: the link may be dead
    /// without having said so.
    Stale,
    /// The campaign has no queue, or the PBX shows no such queue.
    QueueUnknown,
    /// No agent of the campaign's queue is logged in and unpaused.
    NoAgents,
    /// The rolling window's abandon budget is spent: no overdialing until
    /// it recovers.
    OverBudget,
}

impl Hold {
    /// The reason as the API and metrics name it.
    pub fn as_str(self) -> &'static str {
        match self {
            Hold::NoAmi => "no_ami",
            Hold::LinkDown => "link_down",
            Hold::Resyncing => "resyncing",
            Hold::Stale => "stale",
            Hold::QueueUnknown => "queue_unknown",
            Hold::NoAgents => "no_agents",
            Hold::OverBudget => "over_budget",
        }
    }

    /// Every reason.
    #[cfg(test)]
    const ALL: [Hold; 7] = [
        Hold::NoAmi,
        Hold::LinkDown,
        Hold::Resyncing,
        Hold::Stale,
        Hold::QueueUnknown,
        Hold::NoAgents,
        Hold::OverBudget,
    ];

    /// The hold an AMI connection in `state` imposes.
    fn of_link(state: &str) -> Option<Hold> {
        match state {
            "live" => None,
            "resyncing" => Some(Hold::Resyncing),
            _ => Some(Hold::LinkDown),
        }
    }
}

/// Why no decision.
#[derive(Debug, thiserror::Error)]
pub enum PacingError {
    /// The campaign is neither configured nor seen on the PBX.
    #[error(
        "no campaign {0:?}: it is not in [pacing] and the PBX has shown no call carrying QL_CAMPAIGN={0}"
    )]
    Unknown(String),
}

/// The decisions served, compressed (see `queuelake_engine::pacing`).
#[derive(Default)]
struct DecisionLog {
    current: HashMap<String, DecisionRow>,
    finished: Vec<DecisionRow>,
}

/// Where decisions are recorded.
pub struct DecisionStore {
    writer: tokio::sync::Mutex<DecisionWriter>,
    table: LiveTable,
}

impl DecisionStore {
    /// Recording through `writer`, shown in `table`.
    pub fn new(writer: DecisionWriter, table: LiveTable) -> Self {
        DecisionStore {
            writer: tokio::sync::Mutex::new(writer),
            table,
        }
    }
}

/// The pacing service.
pub struct Pacing {
    settings: PacingSection,
    feed: Option<LiveFeed>,
    estimates: RwLock<HashMap<String, Estimates>>,
    log: Mutex<DecisionLog>,
    store: Option<DecisionStore>,
    /// The hold last served per campaign (a change is logged once).
    holds: Mutex<HashMap<String, Option<Hold>>>,
    /// The contact center's zone: the abandon window's days are its.
    time_zone: chrono_tz::Tz,
}

fn prior(settings: &CampaignPacing) -> Estimates {
    let prior = DialEstimator::default();
    Estimates {
        rates: prior.rates(0.0, settings.wrap_s),
        dials: prior.dials(0.0),
        answered: 0.0,
        dropped: 0.0,
        answers_per_day: 0.0,
        machine_rate: None,
        at_s: 0.0,
    }
}

impl Pacing {
    /// The service over the AMI `feed` (none: every floor is empty), its
    /// abandon windows in local days of `time_zone`.
    pub fn new(
        settings: PacingSection,
        feed: Option<LiveFeed>,
        store: Option<DecisionStore>,
        time_zone: chrono_tz::Tz,
    ) -> Self {
        Pacing {
            settings,
            feed,
            estimates: RwLock::default(),
            log: Mutex::default(),
            store,
            holds: Mutex::default(),
            time_zone,
        }
    }

    /// Campaigns configured or seen on the PBX, by name.
    pub fn known(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .settings
            .campaigns
            .iter()
            .map(|c| c.name.clone())
            .collect();
        if let Some(feed) = &self.feed {
            let live = feed.lock();
            let now = live.state.pbx_now().unwrap_or(0.0);
            names.extend(live.state.campaigns(now).into_iter().map(|c| c.campaign));
        }
        names.sort();
        names.dedup();
        names
    }

    /// The decision for `campaign` now; recorded.
    pub fn decide(&self, campaign: &str) -> Result<Paced, PacingError> {
        let paced = self.preview(campaign)?;
        self.note_hold(&paced);
        self.record(&paced);
        Ok(paced)
    }

    /// The decision the dialer would get for `campaign` now, not recorded
    /// (what people look at on a dashboard; `pacing_decisions` holds only
    /// what dialers were served).
    pub fn preview(&self, campaign: &str) -> Result<Paced, PacingError> {
        let settings = self.settings.campaign(campaign);
        let configured = self.settings.campaigns.iter().any(|c| c.name == campaign);
        let (floor, seen, floor_hold) = self.floor(&settings);
        if !configured && !seen {
            return Err(PacingError::Unknown(campaign.to_owned()));
        }
        let estimates = self
            .estimates
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(campaign)
            .cloned()
            .unwrap_or_else(|| prior(&settings));
        let budget = Budget {
            target: settings.target,
            answered: estimates.answered,
            dropped: estimates.dropped,
            expected_answers_ahead: estimates.answers_per_day.max(100.0),
            margin: settings.margin,
            confidence_z: 1.645,
        };
        let mode = settings.mode().unwrap_or(Mode::Progressive);
        let mut decision = decide(mode, &floor, &estimates.rates, &budget, &settings.caps());
        let overdials = matches!(mode, Mode::Predictive | Mode::Power { .. });
        let hold = floor_hold
            .or((overdials && decision.allowed_abandon <= 0.0).then_some(Hold::OverBudget));
        if hold.is_some() {
            decision.calls = 0;
        }
        let decided_at_s = chrono::Utc::now().timestamp_micros() as f64 / 1e6;
        Ok(Paced {
            settings,
            floor,
            estimates,
            decision,
            decided_at_s,
            hold,
        })
    }

    /// The campaign's floor now, whether the PBX has shown the campaign,
    /// and the hold the floor imposes (first that holds: no AMI, link
    /// down, resyncing, stale, queue unknown, no agents).
    fn floor(&self, settings: &CampaignPacing) -> (Floor, bool, Option<Hold>) {
        let mut floor = Floor::default();
        let Some(feed) = &self.feed else {
            return (floor, false, Some(Hold::NoAmi));
        };
        let wall = std::time::SystemTime::now();
        let live = feed.lock();
        let now = live.pbx_time(wall);
        let campaign_now = live
            .state
            .campaigns(now)
            .into_iter()
            .find(|c| c.campaign == settings.name);
        let queue = settings
            .queue
            .clone()
            .or_else(|| campaign_now.as_ref().and_then(|c| c.queue.clone()));
        if let Some(c) = &campaign_now {
            floor.calls_in_flight = c.dialing + c.ringing;
            floor.calls_answering = c.answering;
        }
        let known = queue.as_ref().filter(|queue| live.state.knows_queue(queue));
        let mut staffed = 0;
        if let Some(queue) = known {
            let q = live.state.queue(queue, now);
            floor.agents_free = q.agents_available;
            floor.agents_on_call = q.agents_on_call + q.agents_ringing;
            floor.agents_wrapup = q.agents_wrapup;
            floor.calls_waiting = q.calls_waiting;
            staffed = floor.agents_free + floor.agents_on_call + floor.agents_wrapup;
        }
        let heard_s = queuelake_ingest::ami::journal::epoch_us(wall)
            .saturating_sub(live.connection.heard_us) as f64
            / 1e6;
        let hold = Hold::of_link(live.connection.state)
            .or((heard_s > self.settings.stale_seconds).then_some(Hold::Stale))
            .or(known.is_none().then_some(Hold::QueueUnknown))
            .or((staffed == 0).then_some(Hold::NoAgents));
        (floor, campaign_now.is_some(), hold)
    }

    /// Logs and counts a change of the hold served for a campaign.
    fn note_hold(&self, paced: &Paced) {
        let campaign = &paced.settings.name;
        let mut holds = self
            .holds
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        // First sight of a campaign counts as a change from "not held".
        let before = holds.insert(campaign.clone(), paced.hold).flatten();
        if before == paced.hold {
            return;
        }
        let held = if paced.hold.is_some() { 1.0 } else { 0.0 };
        metrics::gauge!("queuelake_pacing_held", "campaign" => campaign.clone()).set(held);
        match paced.hold {
            Some(hold) => {
                metrics::counter!("queuelake_pacing_holds_total", "reason" => hold.as_str())
                    .increment(1);
                tracing::warn!(
                    campaign,
                    reason = hold.as_str(),
                    "pacing holds: no calls until the floor can be trusted"
                );
            }
            None => tracing::info!(campaign, "pacing resumes: the floor is live"),
        }
    }

    fn record(&self, paced: &Paced) {
        let d = &paced.decision;
        let e = &paced.estimates;
        let at_us = (paced.decided_at_s * 1e6) as i64;
        let row = DecisionRow {
            first_at_us: at_us,
            last_at_us: at_us,
            served: 1,
            campaign: paced.settings.name.clone(),
            mode: paced.settings.mode.clone(),
            counts: [
                i64::from(d.calls),
                i64::from(paced.floor.agents_free),
                i64::from(paced.floor.agents_on_call),
                i64::from(paced.floor.agents_wrapup),
                i64::from(paced.floor.calls_in_flight),
            ],
            figures: [
                d.ratio,
                d.projected_abandon,
                d.projected_abandon_upper,
                d.allowed_abandon,
                d.budget_left,
                e.rates.live_answer,
                e.rates.live_answer_se,
                e.rates.ring_s,
                e.rates.talk_s,
                e.rates.wrap_s,
                e.answered,
                e.dropped,
                paced.settings.target,
            ],
        };
        let mut log = self
            .log
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let log = &mut *log;
        match log.current.get_mut(&row.campaign) {
            Some(current) if current.same_decision(&row) => {
                current.served += 1;
                current.last_at_us = at_us;
            }
            _ => {
                if let Some(done) = log.current.insert(row.campaign.clone(), row) {
                    log.finished.push(done);
                }
            }
        }
    }

    /// Commits the decisions served so far (each campaign's current run
    /// of identical decisions included: the next one starts a new row).
    pub async fn flush(&self) -> anyhow::Result<usize> {
        let rows: Vec<DecisionRow> = {
            let mut log = self
                .log
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let mut rows = std::mem::take(&mut log.finished);
            rows.extend(log.current.drain().map(|(_, r)| r));
            rows
        };
        let Some(store) = &self.store else {
            return Ok(0);
        };
        if rows.is_empty() {
            return Ok(0);
        }
        let snapshot = store.writer.lock().await.append(&rows).await?;
        store.table.publish_commit(&snapshot, 0)?;
        Ok(rows.len())
    }

    /// The PBX's clock now (Unix seconds): events carry its time, which
    /// may be far from the wall clock (the demo's, another zone's).
    fn pbx_now(&self) -> Option<f64> {
        let feed = self.feed.as_ref()?;
        let live = feed.lock();
        live.pbx_offset_s?;
        Some(live.pbx_time(std::time::SystemTime::now()))
    }

    /// Refreshes every known campaign's estimates from the lake.
    pub async fn refresh(&self, engine: &QueryEngine) -> anyhow::Result<()> {
        let now = self.pbx_now();
        for campaign in self.known() {
            let settings = self.settings.campaign(&campaign);
            let estimates = estimate(engine, &settings, now, self.time_zone).await?;
            self.estimates
                .write()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .insert(campaign, estimates);
        }
        Ok(())
    }
}

/// One dial of a campaign as the lake's events tell it (PBX Unix seconds).
#[derive(Debug, Clone, Copy, PartialEq)]
struct Dial {
    dialed: f64,
    /// Entered the queue: a person.
    answered: Option<f64>,
    /// The AMD found a machine.
    machine: Option<f64>,
    /// Its channel hung up.
    ended: Option<f64>,
    /// Talk seconds and when the call completed.
    talked: Option<(f64, f64)>,
}

impl Dial {
    /// What the dial told, and when it was known, as of `now_s`; a dial
    /// still ringing tells nothing yet (right-censored).
    fn outcomes(&self, now_s: f64) -> Vec<(f64, Outcome)> {
        let mut out = Vec::with_capacity(2);
        let resolved = match (self.answered, self.machine, self.ended) {
            (Some(at), _, _) => Some((
                at,
                Outcome::Live {
                    ring_s: (at - self.dialed).max(0.0),
                },
            )),
            (None, Some(at), _) => Some((at, Outcome::Machine)),
            (None, None, Some(at)) => Some((at, Outcome::NotLive)),
            (None, None, None) if now_s - self.dialed > UNRESOLVED_AFTER_S => {
                Some((self.dialed + UNRESOLVED_AFTER_S, Outcome::NotLive))
            }
            _ => None,
        };
        out.extend(resolved);
        if let Some((talk_s, at)) = self.talked {
            out.push((at, Outcome::Talked { talk_s }));
        }
        out
    }
}

/// The estimator replayed from `dials`, evaluated at `now_s`.
fn replay(dials: &[Dial], now_s: f64, wrap_s: f64) -> (queuelake_scheduler::pacing::Rates, f64) {
    let mut outcomes: Vec<(f64, Outcome)> = dials
        .iter()
        .flat_map(|d| d.outcomes(now_s))
        .filter(|(at, _)| *at <= now_s)
        .collect();
    outcomes.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut estimator = DialEstimator::default();
    for (at, outcome) in outcomes {
        estimator.observe(at, outcome);
    }
    (estimator.rates(now_s, wrap_s), estimator.dials(now_s))
}

/// The campaign's channels among the `recent` events: tagged by a
/// `VarSet` of `QL_CAMPAIGN` or by any snapshot's `ChanVariable` (a real
/// Asterisk's `Newchannel` carries none: it is found by its uniqueid).
fn tagged_sql(campaign: &str) -> String {
    format!(
        "SELECT DISTINCT uniqueid FROM recent
         WHERE regexp_match(vars, 'QL_CAMPAIGN=([^\\n]+)')[1] = {campaign}
            OR (event = 'VarSet' AND variable = 'QL_CAMPAIGN' AND value = {campaign})"
    )
}

/// The estimates replayed from the campaign's recent dials and the
/// window's counts, as of `now_s` on the PBX's clock (without a live
/// link: the newest event's instant).
async fn estimate(
    engine: &QueryEngine,
    settings: &CampaignPacing,
    now_s: Option<f64>,
    time_zone: chrono_tz::Tz,
) -> anyhow::Result<Estimates> {
    let campaign = sql_string(&settings.name);
    // Resync items and gap rows carry the receive time, not the PBX's:
    // "now" comes from the live link, else from the newest channel event.
    let now_sql = match now_s {
        Some(s) => format!("SELECT to_timestamp_micros({}) AS ts", (s * 1e6) as i64),
        None => "SELECT MAX(ts) AS ts FROM ami_events WHERE event IN ('Newchannel', 'VarSet')"
            .to_owned(),
    };
    let lookback = tuning::LOOKBACK_S as i64;
    let tagged = tagged_sql(&campaign);
    let calls = engine
        .query(&format!(
            "WITH now AS ({now_sql}),
             recent AS (
               SELECT e.ts, e.event, e.uniqueid, e.fields['TalkTime'] AS talk,
                 e.fields['Variable'] AS variable, e.fields['Value'] AS value,
                 e.fields['ChanVariable'] AS vars
               FROM ami_events e, now
               WHERE e.ts >= now.ts - INTERVAL '{lookback} seconds' AND e.ts <= now.ts
                 AND e.event IN ('Newchannel', 'VarSet', 'QueueCallerJoin', 'AgentComplete', 'Hangup')
             ),
             tagged AS ({tagged})
             SELECT
               CAST(date_part('epoch', MIN(r.ts)) AS DOUBLE) AS dialed,
               CAST(date_part('epoch', MIN(CASE WHEN r.event = 'QueueCallerJoin' THEN r.ts END)) AS DOUBLE),
               CAST(date_part('epoch', MIN(CASE WHEN r.event = 'VarSet' AND r.variable = 'AMDSTATUS' AND r.value = 'MACHINE' THEN r.ts END)) AS DOUBLE),
               CAST(date_part('epoch', MIN(CASE WHEN r.event = 'Hangup' THEN r.ts END)) AS DOUBLE),
               CAST(MAX(CASE WHEN r.event = 'AgentComplete' THEN TRY_CAST(r.talk AS DOUBLE) END) AS DOUBLE),
               CAST(date_part('epoch', MAX(CASE WHEN r.event = 'AgentComplete' THEN r.ts END)) AS DOUBLE),
               CAST(date_part('epoch', (SELECT ts FROM now)) AS DOUBLE)
             FROM recent r JOIN tagged t ON r.uniqueid = t.uniqueid
             GROUP BY r.uniqueid"
        ))
        .await?;
    // The budget: the compliance view's days of the window, on the
    // contact center's calendar (one definition of an abandon).
    let days = settings.window_days().unwrap_or(30);
    let today = chrono::DateTime::from_timestamp_micros(
        (now_s.unwrap_or_else(|| chrono::Utc::now().timestamp() as f64) * 1e6) as i64,
    )
    .unwrap_or_default()
    .with_timezone(&time_zone)
    .date_naive();
    let first = today - chrono::Days::new(u64::from(days.saturating_sub(1)));
    let window = engine
        .query(&format!(
            "SELECT CAST(COALESCE(SUM(live_answered), 0) AS DOUBLE),
               CAST(COALESCE(SUM(abandoned), 0) AS DOUBLE),
               CAST(COALESCE(SUM(machine_answered), 0) AS DOUBLE),
               CAST(AVG(CASE WHEN live_answered > 0 THEN live_answered END) AS DOUBLE)
             FROM campaign_abandon
             WHERE campaign = {campaign} AND day >= DATE '{first}' AND day <= DATE '{today}'"
        ))
        .await?;
    let mut estimates = prior(settings);
    let mut dials = Vec::new();
    let mut at_s = now_s;
    for batch in &calls.batches {
        let column = |i: usize| batch.column(i).as_primitive_opt::<Float64Type>();
        let (
            Some(dialed),
            Some(answered),
            Some(machine),
            Some(ended),
            Some(talk),
            Some(done),
            Some(now),
        ) = (
            column(0),
            column(1),
            column(2),
            column(3),
            column(4),
            column(5),
            column(6),
        )
        else {
            continue;
        };
        let cell = |c: &datafusion::arrow::array::Float64Array, row: usize| {
            c.is_valid(row).then(|| c.value(row))
        };
        for row in 0..batch.num_rows() {
            at_s = at_s.or(cell(now, row));
            let Some(dialed) = cell(dialed, row) else {
                continue;
            };
            dials.push(Dial {
                dialed,
                answered: cell(answered, row),
                machine: cell(machine, row),
                ended: cell(ended, row),
                talked: cell(talk, row).zip(cell(done, row)),
            });
        }
    }
    if let Some(now) = at_s {
        let (rates, weight) = replay(&dials, now, settings.wrap_s);
        estimates.rates = rates;
        estimates.dials = weight;
        estimates.at_s = now;
        estimates.machine_rate = Some(1.0 - rates.human_share);
    }
    let window = FirstRow::of(&window.batches);
    let machines = if settings.amd_adjusted().unwrap_or(false) {
        window.float(2).unwrap_or(0.0)
    } else {
        0.0
    };
    // AMD-adjusted: machine answers join the denominator.
    estimates.answered = window.float(0).unwrap_or(0.0) + machines;
    estimates.dropped = window.float(1).unwrap_or(0.0);
    estimates.answers_per_day = window.float(3).unwrap_or(0.0);
    Ok(estimates)
}

/// The first row of a query's answer, read cell by cell (a missing row,
/// a NULL or another type reads as `None`).
struct FirstRow<'a>(Option<&'a datafusion::arrow::array::RecordBatch>);

impl<'a> FirstRow<'a> {
    fn of(batches: &'a [datafusion::arrow::array::RecordBatch]) -> Self {
        FirstRow(batches.iter().find(|b| b.num_rows() > 0))
    }

    fn float(&self, column: usize) -> Option<f64> {
        let c = self.0?.column(column).as_primitive_opt::<Float64Type>()?;
        c.is_valid(0).then(|| c.value(0))
    }
}

/// Refreshes estimates and commits decisions until aborted.
pub async fn run(pacing: Arc<Pacing>, engine: Arc<QueryEngine>) {
    let refresh = Duration::from_secs(pacing.settings.refresh_seconds);
    let record = Duration::from_secs(pacing.settings.record_seconds);
    let mut refresh_tick = tokio::time::interval(refresh);
    let mut record_tick = tokio::time::interval(record);
    loop {
        tokio::select! {
            _ = refresh_tick.tick() => {
                let outcome = match pacing.refresh(&engine).await {
                    Ok(()) => "ok",
                    Err(e) => {
                        tracing::error!(error = %e, "pacing estimates could not be refreshed; keeping the last ones");
                        "failed"
                    }
                };
                metrics::counter!("queuelake_jobs_total", "job" => "pacing_estimates", "outcome" => outcome).increment(1);
            }
            _ = record_tick.tick() => {
                if let Err(e) = pacing.flush().await {
                    tracing::error!(error = %e, "pacing decisions could not be recorded");
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pacing::settings::CampaignPacing;

    fn recorded(pacing: &Pacing) -> usize {
        let log = pacing.log.lock().unwrap();
        log.current.len() + log.finished.len()
    }

    #[test]
    fn a_preview_decides_as_the_dialer_would_but_is_not_recorded() {
        let settings = PacingSection {
            campaigns: vec![CampaignPacing {
                name: "renewals".into(),
                queue: Some("renewals".into()),
                ..CampaignPacing::default()
            }],
            ..PacingSection::default()
        };
        let pacing = Pacing::new(settings, None, None, chrono_tz::UTC);
        assert_eq!(pacing.known(), ["renewals"]);
        let shown = pacing.preview("renewals").unwrap();
        assert_eq!(recorded(&pacing), 0, "a preview is not served to a dialer");
        let served = pacing.decide("renewals").unwrap();
        assert_eq!(recorded(&pacing), 1);
        assert_eq!(shown.decision.calls, served.decision.calls);
        // Without AMI there is no floor: held, whatever the estimates.
        assert_eq!(served.hold, Some(Hold::NoAmi));
        assert_eq!(served.decision.calls, 0);
        assert!(matches!(
            pacing.preview("nosuch"),
            Err(PacingError::Unknown(name)) if name == "nosuch"
        ));
    }

    #[test]
    fn a_floor_that_cannot_be_trusted_places_no_call_and_says_why() {
        let settings = PacingSection {
            campaigns: vec![CampaignPacing {
                name: "renewals".into(),
                mode: "power".into(),
                queue: Some("renewals".into()),
                ..CampaignPacing::default()
            }],
            ..PacingSection::default()
        };
        let feed = LiveFeed::default();
        let pacing = Pacing::new(settings, Some(feed.clone()), None, chrono_tz::UTC);
        // Never signed in: the link is down.
        let paced = pacing.decide("renewals").unwrap();
        assert_eq!(
            (paced.hold, paced.decision.calls),
            (Some(Hold::LinkDown), 0)
        );
        // Back, resync under way.
        feed.lock().connection.state = "resyncing";
        assert_eq!(
            pacing.decide("renewals").unwrap().hold,
            Some(Hold::Resyncing)
        );
        // Live, but nothing heard since: stale.
        feed.lock().connection.state = "live";
        assert_eq!(pacing.decide("renewals").unwrap().hold, Some(Hold::Stale));
        // Heard now, but the PBX shows no queue `renewals`.
        let heard = |ago_s: i64| {
            feed.lock().connection.heard_us =
                chrono::Utc::now().timestamp_micros() - ago_s * 1_000_000;
        };
        heard(0);
        let paced = pacing.decide("renewals").unwrap();
        assert_eq!(
            (paced.hold, paced.decision.calls),
            (Some(Hold::QueueUnknown), 0)
        );
        // The queue with its one member paused: nobody to take a call.
        let member = |paused: &str| {
            queuelake_ami::Message::new([
                ("Event", "QueueMemberAdded"),
                ("Queue", "renewals"),
                ("Interface", "PJSIP/101"),
                ("Status", "1"),
                ("Paused", paused),
            ])
        };
        feed.lock().state.apply(&member("1"));
        assert_eq!(
            pacing.decide("renewals").unwrap().hold,
            Some(Hold::NoAgents)
        );
        feed.lock().state.apply(&member("0"));
        let paced = pacing.decide("renewals").unwrap();
        assert_eq!(paced.hold, None);
        assert_eq!(paced.decision.calls, 2, "power 1.5 × 1 free agent");
        // Silent for longer than stale_seconds (6): the link may be dead.
        heard(7);
        assert_eq!(pacing.decide("renewals").unwrap().hold, Some(Hold::Stale));
        heard(0);
        // Lost again.
        feed.lock().connection.state = "disconnected";
        assert_eq!(
            pacing.decide("renewals").unwrap().hold,
            Some(Hold::LinkDown)
        );
        assert_eq!(
            pacing
                .holds
                .lock()
                .unwrap()
                .get("renewals")
                .copied()
                .flatten(),
            Some(Hold::LinkDown)
        );
    }

    #[test]
    fn every_hold_reason_is_explained_to_people() {
        let page = include_str!("../../../dashboards/pages/pacing.js");
        let readme = include_str!("../../../README.md");
        for hold in Hold::ALL {
            let name = hold.as_str();
            assert!(
                page.contains(&format!("  {name}: ")),
                "pacing.js says nothing of {name}"
            );
            assert!(
                readme.contains(&format!("`{name}`")),
                "README says nothing of {name}"
            );
        }
    }

    #[test]
    fn dials_still_ringing_are_censored_and_a_stuck_one_counts_as_not_live() {
        let dial = |dialed: f64| Dial {
            dialed,
            answered: None,
            machine: None,
            ended: None,
            talked: None,
        };
        // 10 dials at t = 0: 3 people answer at 8 s, 7 still ring at 20 s.
        let mut dials: Vec<Dial> = (0..10).map(|_| dial(0.0)).collect();
        for d in &mut dials[..3] {
            d.answered = Some(8.0);
        }
        let prior = DialEstimator::default().rates(20.0, 15.0).live_answer;
        let (early, _) = replay(&dials, 20.0, 15.0);
        assert!(
            early.live_answer > prior,
            "ringing dials are not failures: {}",
            early.live_answer
        );
        // At 31 s six have rung out; one is still ringing.
        for d in &mut dials[3..9] {
            d.ended = Some(30.0);
        }
        let (resolved, weight) = replay(&dials, 31.0, 15.0);
        let prior_dials = DialEstimator::default().dials(31.0);
        assert!(
            (weight - prior_dials - 9.0).abs() < 0.2,
            "9 resolved dials: {weight}"
        );
        assert!((resolved.ring_s - (10.0 * 10.0 + 3.0 * 8.0) / 13.0).abs() < 0.1);
        // Two minutes on, the one that never resolved counts as not live.
        let (_, later) = replay(&dials, 200.0, 15.0);
        let prior_later = DialEstimator::default().dials(200.0);
        assert!(later - prior_later > 9.0 * 0.6, "{later}");
        assert_eq!(dials[9].outcomes(200.0)[0].1, Outcome::NotLive);
        assert!(dials[9].outcomes(60.0).is_empty());
    }
}
