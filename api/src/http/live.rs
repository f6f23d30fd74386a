//! `GET /api/v1/live/queues`, `/live/campaigns` and `/live/stream` (SSE).
//!
//! What is happening now (callers waiting, what agents do, calls a
//! campaign has out) comes from the AMI live state, corrected at every
//! resync. The day's totals (offered, answered, abandoned, service level)
//! come from the lake's `interval_stats` for the local day of the PBX
//! clock: the same numbers SQL and reports give, unaffected by Asterisk
//! reloads (which reset its own counters) and by queuelake restarts.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use axum::Json;
use axum::extract::{Extension, State};
use axum::response::sse::{Event, KeepAlive, Sse};
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use futures::Stream;
use queuelake_ami::live::{CampaignNow, QueueNow};
use queuelake_engine::session::QueryEngine;
use queuelake_ingest::ami::feed::{ConnectionStatus, LiveFeed};
use queuelake_scheduler::staffing::Target;
use serde::Serialize;

use super::{AppError, AppState};
use crate::auth::Principal;
use queuelake_engine::scope::Scope;

/// How long the day's totals are reused before the lake is asked again.
const TOTALS_FRESH_FOR: Duration = Duration::from_secs(2);

/// Today's totals per queue as last read: when, for which local day
/// (its start, Unix seconds), and the totals.
struct CachedTotals {
    read_at: Instant,
    day_start: i64,
    totals: Arc<BTreeMap<String, Today>>,
}

/// Where live answers come from.
pub struct LiveSource {
    feed: Option<LiveFeed>,
    time_zone: chrono_tz::Tz,
    totals: tokio::sync::Mutex<Option<CachedTotals>>,
}

impl LiveSource {
    /// Live state from `feed` (none without AMI); days in `time_zone`.
    pub fn new(feed: Option<LiveFeed>, time_zone: &str) -> anyhow::Result<Self> {
        let time_zone = time_zone
            .parse::<chrono_tz::Tz>()
            .map_err(|e| anyhow::anyhow!("time zone {time_zone:?}: {e}"))?;
        Ok(LiveSource {
            feed,
            time_zone,
            totals: tokio::sync::Mutex::new(None),
        })
    }

    /// The AMI feed, if AMI is configured.
    pub fn feed(&self) -> Option<&LiveFeed> {
        self.feed.as_ref()
    }

    /// The PBX's clock now, in Unix seconds (the wall clock without AMI).
    fn pbx_now(&self) -> f64 {
        let now = SystemTime::now();
        match &self.feed {
            Some(feed) => feed.lock().pbx_time(now),
            None => now
                .duration_since(SystemTime::UNIX_EPOCH)
                .map_or(0.0, |d| d.as_secs_f64()),
        }
    }

    /// Today's totals per queue (cached for [`TOTALS_FRESH_FOR`]).
    async fn totals(&self, engine: &QueryEngine, now: f64) -> Arc<BTreeMap<String, Today>> {
        let (start, end) = local_day(self.time_zone, now);
        let day_start = start.timestamp();
        let mut cached = self.totals.lock().await;
        if let Some(c) = cached.as_ref()
            && c.day_start == day_start
            && c.read_at.elapsed() < TOTALS_FRESH_FOR
        {
            return Arc::clone(&c.totals);
        }
        let totals = match query_totals(engine, start, end).await {
            Ok(t) => Arc::new(t),
            Err(e) => {
                tracing::error!(error = %e, "today's totals could not be read from the lake");
                Arc::new(BTreeMap::new())
            }
        };
        *cached = Some(CachedTotals {
            read_at: Instant::now(),
            day_start,
            totals: Arc::clone(&totals),
        });
        totals
    }

    /// The contact center's date on the PBX clock now.
    pub fn today(&self) -> NaiveDate {
        local_date(self.time_zone, self.pbx_now())
    }

    /// The UTC instants that bound the local day `date`.
    pub fn day_bounds(&self, date: NaiveDate) -> (DateTime<Utc>, DateTime<Utc>) {
        date_bounds(self.time_zone, date)
    }

    /// The contact center's time zone.
    pub fn time_zone(&self) -> &'static str {
        self.time_zone.name()
    }
}

fn local_date(tz: chrono_tz::Tz, now: f64) -> NaiveDate {
    let utc = DateTime::<Utc>::from_timestamp(now.floor() as i64, 0).unwrap_or_default();
    utc.with_timezone(&tz).date_naive()
}

/// The UTC instants that bound the local day containing `now`.
fn local_day(tz: chrono_tz::Tz, now: f64) -> (DateTime<Utc>, DateTime<Utc>) {
    date_bounds(tz, local_date(tz, now))
}

/// The UTC instants that bound the local day `date`.
fn date_bounds(tz: chrono_tz::Tz, date: NaiveDate) -> (DateTime<Utc>, DateTime<Utc>) {
    let midnight = |d: chrono::NaiveDate| {
        let naive = d.and_hms_opt(0, 0, 0).unwrap_or_default();
        // A DST jump at midnight: take the earliest valid instant.
        tz.from_local_datetime(&naive)
            .earliest()
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_else(|| Utc.from_utc_datetime(&naive))
    };
    let next = date.succ_opt().unwrap_or(date);
    (midnight(date), midnight(next))
}

/// A queue's totals for the local day so far.
#[derive(Debug, Clone, Default, Serialize, PartialEq, utoipa::ToSchema)]
pub struct Today {
    /// Visits that entered the queue today.
    pub offered: i64,
    /// Of those, answered.
    pub answered: i64,
    /// Of those, abandoned.
    pub abandoned: i64,
    /// Answered within the threshold / (offered − short abandons); null
    /// before the first call.
    pub service_level: Option<f64>,
}

async fn query_totals(
    engine: &QueryEngine,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> anyhow::Result<BTreeMap<String, Today>> {
    let fmt = "%Y-%m-%dT%H:%M:%SZ";
    let sql = format!(
        "SELECT queue, \
           CAST(SUM(offered) AS BIGINT), CAST(SUM(answered) AS BIGINT), \
           CAST(SUM(abandoned) AS BIGINT), CAST(SUM(answered_within_sl) AS BIGINT), \
           CAST(SUM(short_abandoned) AS BIGINT) \
         FROM interval_stats \
         WHERE interval_start >= TIMESTAMP '{}' AND interval_start < TIMESTAMP '{}' \
         GROUP BY queue",
        start.format(fmt),
        end.format(fmt)
    );
    let result = engine.query(&sql).await?;
    let mut out = BTreeMap::new();
    for batch in &result.batches {
        use arrow_access::{int, text};
        for row in 0..batch.num_rows() {
            let (offered, answered, abandoned, within, short) = (
                int(batch, 1, row),
                int(batch, 2, row),
                int(batch, 3, row),
                int(batch, 4, row),
                int(batch, 5, row),
            );
            let base = offered - short;
            out.insert(
                text(batch, 0, row),
                Today {
                    offered,
                    answered,
                    abandoned,
                    service_level: (base > 0).then(|| within as f64 / base as f64),
                },
            );
        }
    }
    Ok(out)
}

/// Reading typed cells of a query result.
mod arrow_access {
    use datafusion::arrow::array::{Array, AsArray, RecordBatch};
    use datafusion::arrow::datatypes::Int64Type;

    pub fn int(batch: &RecordBatch, column: usize, row: usize) -> i64 {
        let array = batch.column(column).as_primitive::<Int64Type>();
        if array.is_null(row) {
            0
        } else {
            array.value(row)
        }
    }

    pub fn text(batch: &RecordBatch, column: usize, row: usize) -> String {
        let array = batch.column(column).as_string::<i32>();
        array.value(row).to_owned()
    }
}

/// The AMI connection, as reported.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AmiView {
    /// Whether AMI is configured.
    pub configured: bool,
    /// `disconnected`, `banner`, `logging_in`, `resyncing`, `live`, `refused`.
    pub state: &'static str,
    /// Why it is refused or was last lost.
    pub reason: Option<String>,
    /// Since when it is in this state.
    pub since: Option<String>,
    /// Links lost since start.
    pub disconnects: u64,
    /// Events received since start.
    pub events: u64,
    /// Resyncs completed since start.
    pub resyncs: u64,
}

fn ami_view(status: Option<&ConnectionStatus>) -> AmiView {
    match status {
        None => AmiView {
            configured: false,
            state: "not_configured",
            reason: None,
            since: None,
            disconnects: 0,
            events: 0,
            resyncs: 0,
        },
        Some(c) => AmiView {
            configured: true,
            state: if c.state.is_empty() {
                "disconnected"
            } else {
                c.state
            },
            reason: c.reason.clone(),
            since: DateTime::<Utc>::from_timestamp_micros(c.since_us)
                .filter(|_| c.since_us > 0)
                .map(|t| t.to_rfc3339()),
            disconnects: c.disconnects,
            events: c.events,
            resyncs: c.resyncs,
        },
    }
}

/// What agents of a queue are doing.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AgentCounts {
    logged_in: u32,
    available: u32,
    on_call: u32,
    ringing: u32,
    paused: u32,
    wrapup: u32,
    unavailable: u32,
}

/// One queue now.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct QueueView {
    queue: String,
    calls_waiting: u32,
    longest_wait_s: f64,
    agents: AgentCounts,
    today: Today,
}

/// Body of `GET /api/v1/live/queues`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct QueuesView {
    /// The PBX's clock the view is for.
    pbx_time: String,
    /// The AMI connection.
    ami: AmiView,
    /// The service-level goal (a share, from `[staffing] target` such as
    /// 80/20); absent when the target is an ASA.
    service_level_target: Option<f64>,
    /// Every queue known (live or with calls today), by name.
    queues: Vec<QueueView>,
}

/// Body of `GET /api/v1/live/campaigns`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CampaignsView {
    pbx_time: String,
    ami: AmiView,
    campaigns: Vec<CampaignView>,
}

/// One campaign now.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CampaignView {
    campaign: String,
    queue: Option<String>,
    dialing: u32,
    ringing: u32,
    connected: u32,
    agents_available: u32,
}

fn rfc3339(seconds: f64) -> String {
    DateTime::<Utc>::from_timestamp_micros((seconds * 1e6).round() as i64)
        .unwrap_or_default()
        .to_rfc3339()
}

async fn queues_view(state: &AppState, scope: &Scope) -> QueuesView {
    let source = &state.live;
    let now = source.pbx_now();
    let (live, ami): (Vec<QueueNow>, AmiView) = match &source.feed {
        Some(feed) => {
            let live = feed.lock();
            (live.state.queues(now), ami_view(Some(&live.connection)))
        }
        None => (Vec::new(), ami_view(None)),
    };
    let totals = source.totals(state.sessions.full(), now).await;
    let mut by_name: BTreeMap<String, QueueNow> =
        live.into_iter().map(|q| (q.queue.clone(), q)).collect();
    for name in totals.keys() {
        by_name.entry(name.clone()).or_insert_with(|| QueueNow {
            queue: name.clone(),
            ..QueueNow::default()
        });
    }
    let queues = by_name
        .into_values()
        .filter(|q| scope.allows_queue(&q.queue))
        .map(|q| QueueView {
            today: totals.get(&q.queue).cloned().unwrap_or_default(),
            agents: AgentCounts {
                logged_in: q.agents_logged_in,
                available: q.agents_available,
                on_call: q.agents_on_call,
                ringing: q.agents_ringing,
                paused: q.agents_paused,
                wrapup: q.agents_wrapup,
                unavailable: q.agents_unavailable,
            },
            queue: q.queue,
            calls_waiting: q.calls_waiting,
            longest_wait_s: q.longest_wait_s,
        })
        .collect();
    let service_level_target = match state.planner.settings().staffing.target {
        Target::ServiceLevel { share, .. } => Some(share),
        Target::Asa { .. } => None,
    };
    QueuesView {
        pbx_time: rfc3339(now),
        ami,
        service_level_target,
        queues,
    }
}

fn campaigns_view(state: &AppState, scope: &Scope) -> CampaignsView {
    let now = state.live.pbx_now();
    let (campaigns, ami): (Vec<CampaignNow>, AmiView) = match &state.live.feed {
        Some(feed) => {
            let live = feed.lock();
            (live.state.campaigns(now), ami_view(Some(&live.connection)))
        }
        None => (Vec::new(), ami_view(None)),
    };
    CampaignsView {
        pbx_time: rfc3339(now),
        ami,
        campaigns: campaigns
            .into_iter()
            .filter(|c| scope.allows_campaign(&c.campaign))
            .map(|c| CampaignView {
                campaign: c.campaign,
                queue: c.queue,
                dialing: c.dialing,
                ringing: c.ringing,
                connected: c.connected,
                agents_available: c.agents_available,
            })
            .collect(),
    }
}

/// `GET /api/v1/live/queues`: every queue the token's scope shows, now.
#[utoipa::path(
    get,
    path = "/api/v1/live/queues",
    tag = "live",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Queues now and today's totals", body = QueuesView),
        (status = 401, description = "No or unknown token", body = super::error::Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token's role may not read live state", body = super::error::Problem, content_type = "application/problem+json"),
        (status = 429, description = "The token's rate is exhausted (see Retry-After)", body = super::error::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn queues(
    State(state): State<Arc<AppState>>,
    Extension(principal): Extension<Arc<Principal>>,
) -> Result<Json<QueuesView>, AppError> {
    Ok(Json(queues_view(&state, &principal.scope).await))
}

/// `GET /api/v1/live/campaigns`: every campaign the token's scope shows, now.
#[utoipa::path(
    get,
    path = "/api/v1/live/campaigns",
    tag = "live",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Outbound campaigns now", body = CampaignsView),
        (status = 401, description = "No or unknown token", body = super::error::Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token's role may not read live state", body = super::error::Problem, content_type = "application/problem+json"),
        (status = 429, description = "The token's rate is exhausted (see Retry-After)", body = super::error::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn campaigns(
    State(state): State<Arc<AppState>>,
    Extension(principal): Extension<Arc<Principal>>,
) -> Result<Json<CampaignsView>, AppError> {
    Ok(Json(campaigns_view(&state, &principal.scope)))
}

/// `GET /api/v1/live/stream`: Server-Sent Events `queues` and
/// `campaigns` (the bodies of the two GETs, scoped the same) on every
/// change, at most every 500 ms and at least every second (wait times
/// grow).
#[utoipa::path(
    get,
    path = "/api/v1/live/stream",
    tag = "live",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "text/event-stream of `queues` and `campaigns` events", content_type = "text/event-stream", body = String),
        (status = 401, description = "No or unknown token", body = super::error::Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token's role may not read live state", body = super::error::Problem, content_type = "application/problem+json"),
        (status = 429, description = "The token's rate is exhausted (see Retry-After)", body = super::error::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn stream(
    State(state): State<Arc<AppState>>,
    Extension(principal): Extension<Arc<Principal>>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let scope = principal.scope.clone();
    let changes = state.live.feed.as_ref().map(LiveFeed::subscribe);
    let stream = futures::stream::unfold(
        (state, changes, true),
        move |(state, mut changes, first)| {
            let scope = scope.clone();
            async move {
                if !first {
                    tokio::time::sleep(Duration::from_millis(500)).await;
                    if let Some(rx) = changes.as_mut() {
                        let _ =
                            tokio::time::timeout(Duration::from_millis(500), rx.changed()).await;
                    } else {
                        tokio::time::sleep(Duration::from_millis(500)).await;
                    }
                }
                let queues = queues_view(&state, &scope).await;
                let campaigns = campaigns_view(&state, &scope);
                let events = vec![
                    Ok(Event::default()
                        .event("queues")
                        .json_data(&queues)
                        .unwrap_or_else(|_| Event::default().event("queues"))),
                    Ok(Event::default()
                        .event("campaigns")
                        .json_data(&campaigns)
                        .unwrap_or_else(|_| Event::default().event("campaigns"))),
                ];
                Some((futures::stream::iter(events), (state, changes, false)))
            }
        },
    );
    use futures::StreamExt;
    Sse::new(stream.flatten()).keep_alive(KeepAlive::default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_local_day_follows_the_time_zone_and_dst() {
        let paris: chrono_tz::Tz = "Europe/Paris".parse().unwrap();
        // 2024-03-31 01:30 UTC = 03:30 Paris (after the spring jump): a 23 h day.
        let (start, end) = local_day(paris, 1_711_848_600.0);
        assert_eq!(start.to_rfc3339(), "2024-03-30T23:00:00+00:00");
        assert_eq!(end.to_rfc3339(), "2024-03-31T22:00:00+00:00");
        let (start, _) = local_day(chrono_tz::UTC, 1_711_848_600.0);
        assert_eq!(start.to_rfc3339(), "2024-03-31T00:00:00+00:00");
    }
}
