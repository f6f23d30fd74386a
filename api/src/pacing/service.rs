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
use datafusion::arrow::datatypes::{Float64Type, Int64Type};
use queuelake_engine::live::LiveTable;
use queuelake_engine::pacing::{DecisionRow, DecisionWriter};
use queuelake_engine::session::QueryEngine;
use queuelake_ingest::ami::feed::LiveFeed;
use queuelake_scheduler::pacing::{Budget, Decision, Floor, Mode, Rates, decide};

use super::settings::{CampaignPacing, PacingSection};

/// Minutes of history behind the rates.
const RATE_MINUTES: i64 = 60;
/// The answer rate assumed before any dial, and its weight in dials.
const PRIOR_RATE: f64 = 0.2;
const PRIOR_DIALS: f64 = 30.0;

/// A campaign's estimates and budget as last refreshed.
#[derive(Debug, Clone, PartialEq)]
pub struct Estimates {
    /// Rates.
    pub rates: Rates,
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
    /// The campaign has no queue, or the PBX shows no such queue.
    QueueUnknown,
}

impl Hold {
    /// The reason as the API and metrics name it.
    pub fn as_str(self) -> &'static str {
        match self {
            Hold::NoAmi => "no_ami",
            Hold::LinkDown => "link_down",
            Hold::Resyncing => "resyncing",
            Hold::QueueUnknown => "queue_unknown",
        }
    }

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
}

fn prior(settings: &CampaignPacing) -> Estimates {
    Estimates {
        rates: Rates {
            live_answer: PRIOR_RATE,
            live_answer_se: (PRIOR_RATE * (1.0 - PRIOR_RATE) / PRIOR_DIALS).sqrt(),
            ring_s: 10.0,
            talk_s: 180.0,
            wrap_s: settings.wrap_s,
        },
        answered: 0.0,
        dropped: 0.0,
        answers_per_day: 0.0,
        machine_rate: None,
        at_s: 0.0,
    }
}

impl Pacing {
    /// The service over the AMI `feed` (none: every floor is empty).
    pub fn new(
        settings: PacingSection,
        feed: Option<LiveFeed>,
        store: Option<DecisionStore>,
    ) -> Self {
        Pacing {
            settings,
            feed,
            estimates: RwLock::default(),
            log: Mutex::default(),
            store,
            holds: Mutex::default(),
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
        let mut floor = Floor::default();
        let mut seen = false;
        let mut hold = Some(Hold::NoAmi);
        if let Some(feed) = &self.feed {
            let live = feed.lock();
            let now = live.pbx_time(std::time::SystemTime::now());
            let campaign_now = live
                .state
                .campaigns(now)
                .into_iter()
                .find(|c| c.campaign == campaign);
            seen = campaign_now.is_some();
            let queue = settings
                .queue
                .clone()
                .or_else(|| campaign_now.as_ref().and_then(|c| c.queue.clone()));
            if let Some(c) = &campaign_now {
                floor.calls_in_flight = c.dialing + c.ringing;
            }
            let known = queue.as_ref().filter(|queue| live.state.knows_queue(queue));
            if let Some(queue) = known {
                let q = live.state.queue(queue, now);
                floor.agents_free = q.agents_available;
                floor.agents_on_call = q.agents_on_call + q.agents_ringing;
                floor.agents_wrapup = q.agents_wrapup;
            }
            hold = Hold::of_link(live.connection.state)
                .or((known.is_none()).then_some(Hold::QueueUnknown));
        }
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
            let estimates = estimate(engine, &settings, now).await?;
            self.estimates
                .write()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .insert(campaign, estimates);
        }
        Ok(())
    }
}

fn sql_string(value: &str) -> String {
    format!("'{}'", value.replace('\'', "''"))
}

/// The rates of the last hour and the window's counts, as of `now_s` on
/// the PBX's clock (without a live link: the newest dial's instant).
async fn estimate(
    engine: &QueryEngine,
    settings: &CampaignPacing,
    now_s: Option<f64>,
) -> anyhow::Result<Estimates> {
    let campaign = sql_string(&settings.name);
    // Resync items and gap rows carry the receive time, not the PBX's:
    // "now" comes from the live link, else from the newest dial.
    let now_sql = match now_s {
        Some(s) => format!("SELECT to_timestamp_micros({}) AS ts", (s * 1e6) as i64),
        None => "SELECT MAX(ts) AS ts FROM ami_events WHERE event = 'Newchannel'".to_owned(),
    };
    let rates = engine
        .query(&format!(
            "WITH now AS ({now_sql}),
             ev AS (
               SELECT e.ts, e.event, e.uniqueid, e.fields['TalkTime'] AS talk,
                 e.event = 'VarSet' AND e.fields['Variable'] = 'AMDSTATUS' AND e.fields['Value'] = 'MACHINE' AS machine
               FROM ami_events e, now
               WHERE e.ts >= now.ts - INTERVAL '{RATE_MINUTES} minutes' AND e.ts <= now.ts
                 AND e.event IN ('Newchannel', 'QueueCallerJoin', 'AgentComplete', 'VarSet')
                 AND regexp_match(e.fields['ChanVariable'], 'QL_CAMPAIGN=([^\\n]+)')[1] = {campaign}
             ),
             per_call AS (
               SELECT uniqueid,
                 MIN(CASE WHEN event = 'Newchannel' THEN ts END) AS dialed,
                 MIN(CASE WHEN event = 'QueueCallerJoin' THEN ts END) AS answered,
                 MAX(CASE WHEN event = 'AgentComplete' THEN TRY_CAST(talk AS DOUBLE) END) AS talk_s,
                 MAX(CASE WHEN machine THEN 1 ELSE 0 END) AS machine
               FROM ev GROUP BY uniqueid
             )
             SELECT CAST(COUNT(dialed) AS BIGINT), CAST(COUNT(CASE WHEN dialed IS NOT NULL THEN answered END) AS BIGINT),
               CAST(AVG(CASE WHEN dialed IS NOT NULL AND answered IS NOT NULL
                        THEN date_part('epoch', answered) - date_part('epoch', dialed) END) AS DOUBLE),
               CAST(AVG(talk_s) AS DOUBLE),
               CAST(date_part('epoch', (SELECT ts FROM now)) AS DOUBLE),
               CAST(SUM(CASE WHEN dialed IS NOT NULL THEN machine ELSE 0 END) AS BIGINT)
             FROM per_call"
        ))
        .await?;
    let days = settings.window_days().unwrap_or(30);
    // AMD-adjusted: machine answers join the denominator.
    let machines = if settings.amd_adjusted().unwrap_or(false) {
        "OR event = 'VarSet'"
    } else {
        ""
    };
    let window = engine
        .query(&format!(
            "WITH now AS ({now_sql}),
             ev AS (
               SELECT e.ts, e.event, TRY_CAST(e.fields['HoldTime'] AS BIGINT) AS hold_s
               FROM ami_events e, now
               WHERE e.ts > now.ts - INTERVAL '{days} days' AND e.ts <= now.ts
                 AND (e.event IN ('QueueCallerJoin', 'QueueCallerAbandon')
                      OR (e.event = 'VarSet' AND e.fields['Variable'] = 'AMDSTATUS' AND e.fields['Value'] = 'MACHINE'))
                 AND regexp_match(e.fields['ChanVariable'], 'QL_CAMPAIGN=([^\\n]+)')[1] = {campaign}
             )
             SELECT CAST(SUM(CASE WHEN event = 'QueueCallerJoin' {machines} THEN 1 ELSE 0 END) AS DOUBLE),
               CAST(SUM(CASE WHEN event = 'QueueCallerAbandon' AND hold_s >= 2 THEN 1 ELSE 0 END) AS DOUBLE),
               CAST(SUM(CASE WHEN event = 'QueueCallerJoin' AND ts > (SELECT ts FROM now) - INTERVAL '1 day' THEN 1 ELSE 0 END) AS DOUBLE)
             FROM ev"
        ))
        .await?;
    let mut estimates = prior(settings);
    let rates = FirstRow::of(&rates.batches);
    let (dials, live) = (rates.int(0).unwrap_or(0), rates.int(1).unwrap_or(0));
    // The last hour's dials with a prior worth 30 dials at 20 %.
    let n = dials as f64 + PRIOR_DIALS;
    let p = (live as f64 + PRIOR_RATE * PRIOR_DIALS) / n;
    estimates.rates.live_answer = p;
    estimates.rates.live_answer_se = (p * (1.0 - p) / n).sqrt();
    if let Some(ring) = rates.float(2) {
        estimates.rates.ring_s = ring;
    }
    if let Some(talk) = rates.float(3) {
        estimates.rates.talk_s = talk;
    }
    estimates.at_s = rates.float(4).unwrap_or(0.0);
    let machines = rates.int(5).unwrap_or(0);
    estimates.machine_rate =
        (machines + live > 0).then(|| machines as f64 / (machines + live) as f64);
    let window = FirstRow::of(&window.batches);
    estimates.answered = window.float(0).unwrap_or(0.0);
    estimates.dropped = window.float(1).unwrap_or(0.0);
    estimates.answers_per_day = window.float(2).unwrap_or(0.0);
    Ok(estimates)
}

/// The first row of a query's answer, read cell by cell (a missing row,
/// a NULL or another type reads as `None`).
struct FirstRow<'a>(Option<&'a datafusion::arrow::array::RecordBatch>);

impl<'a> FirstRow<'a> {
    fn of(batches: &'a [datafusion::arrow::array::RecordBatch]) -> Self {
        FirstRow(batches.iter().find(|b| b.num_rows() > 0))
    }

    fn int(&self, column: usize) -> Option<i64> {
        let c = self.0?.column(column).as_primitive_opt::<Int64Type>()?;
        c.is_valid(0).then(|| c.value(0))
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
                ..CampaignPacing::default()
            }],
            ..PacingSection::default()
        };
        let pacing = Pacing::new(settings, None, None);
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
        let pacing = Pacing::new(settings, Some(feed.clone()), None);
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
        // Live, but the PBX shows no queue `renewals`.
        feed.lock().connection.state = "live";
        let paced = pacing.decide("renewals").unwrap();
        assert_eq!(
            (paced.hold, paced.decision.calls),
            (Some(Hold::QueueUnknown), 0)
        );
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
}
