//! Forecast and staffing runs: made from the lake, stored in it (when
//! this process holds the lake's writer lock), and read back through a
//! session, so a scoped token sees only its queues' rows.

use std::collections::BTreeMap;
use std::sync::Arc;

use queuelake_engine::EngineError;
use queuelake_engine::live::LiveTable;
use queuelake_engine::plans::{BacktestScores, ForecastRow, PlanWriter, StaffingRow};
use queuelake_engine::session::{LakeTables, QueryEngine};
use queuelake_forecast::choose::Candidate;
use queuelake_forecast::plan::forecast_queue;
use queuelake_forecast::special::SpecialDays;
use queuelake_scheduler::staffing::{Demand, StaffingError};

use super::history;
use super::settings::{PlanSettings, StaffMethod, StaffRule};

/// Why a run could not be made or read.
#[derive(Debug, thiserror::Error)]
pub enum PlanningError {
    /// The lake holds no history for the queues asked for.
    #[error("no history to forecast{0}")]
    NoHistory(String),
    /// No run by that id (or none the caller's scope shows).
    #[error("no run {0:?}")]
    NoRun(String),
    /// This process cannot write the lake (another holds its lock).
    #[error("runs cannot be stored: {0}")]
    ReadOnly(String),
    /// A staffing computation failed.
    #[error("staffing {queue} at {interval_start_s}: {source}")]
    Staffing {
        /// The queue.
        queue: String,
        /// The interval (Unix seconds).
        interval_start_s: i64,
        /// The cause.
        source: StaffingError,
    },
    /// The lake or a query failed.
    #[error(transparent)]
    Engine(#[from] EngineError),
    /// A forecast task died.
    #[error("forecast task failed: {0}")]
    Task(String),
}

/// What a forecast run covers.
#[derive(Debug, Clone, Default)]
pub struct ForecastRequest {
    /// Queues (empty: every queue the caller sees).
    pub queues: Vec<String>,
    /// Horizon in seconds (`None`: the configured one).
    pub horizon_s: Option<i64>,
}

/// A forecast run.
#[derive(Debug, Clone)]
pub struct ForecastRun {
    /// Its id (`fc-…`).
    pub run_id: String,
    /// When it was made, microseconds since the epoch.
    pub created_at_us: i64,
    /// The first forecast interval (Unix seconds).
    pub origin_s: i64,
    /// Horizon, seconds.
    pub horizon_s: i64,
    /// Per queue.
    pub queues: Vec<QueueRun>,
    /// Whether the run was stored in the lake.
    pub stored: bool,
}

/// One queue's part of a forecast run.
#[derive(Debug, Clone)]
pub struct QueueRun {
    /// The queue.
    pub queue: String,
    /// The chosen model.
    pub model: String,
    /// Every candidate's backtest.
    pub backtest: Vec<Candidate>,
    /// The open intervals ahead.
    pub rows: Vec<ForecastRow>,
}

/// What a staffing run staffs, and how.
#[derive(Debug, Clone)]
pub struct StaffRequest {
    /// The forecast run to staff.
    pub forecast_run: String,
    /// The rule (the configured one with the request's changes).
    pub rule: StaffRule,
}

/// A staffing run.
#[derive(Debug, Clone)]
pub struct StaffingRun {
    /// Its id (`st-…`).
    pub run_id: String,
    /// The rows, by queue and interval.
    pub rows: Vec<StaffingRow>,
    /// Mean patience used per queue (Erlang A), seconds.
    pub patience_s: BTreeMap<String, f64>,
    /// Queues staffed by Erlang C because the lake had too few abandons
    /// to estimate patience.
    pub erlang_c_fallback: Vec<String>,
    /// Whether the run was stored in the lake.
    pub stored: bool,
}

/// Where runs are stored: the writer and the tables sessions read.
pub struct PlanStore {
    writer: tokio::sync::Mutex<PlanWriter>,
    forecasts: LiveTable,
    staffing: LiveTable,
}

impl PlanStore {
    /// A store writing through `writer` and showing commits in `tables`.
    pub fn new(writer: PlanWriter, tables: &LakeTables) -> Self {
        PlanStore {
            writer: tokio::sync::Mutex::new(writer),
            forecasts: tables.forecasts.clone(),
            staffing: tables.staffing.clone(),
        }
    }
}

/// Makes, stores and reads runs.
pub struct Planner {
    settings: PlanSettings,
    store: Option<PlanStore>,
}

impl Planner {
    /// A planner with these settings, storing runs in `store` (`None`:
    /// runs are computed and returned, not stored).
    pub fn new(settings: PlanSettings, store: Option<PlanStore>) -> Self {
        Planner { settings, store }
    }

    /// The settings.
    pub fn settings(&self) -> &PlanSettings {
        &self.settings
    }

    /// Forecasts the queues of `request` from what `engine` shows.
    pub async fn forecast(
        &self,
        engine: &QueryEngine,
        request: &ForecastRequest,
    ) -> Result<ForecastRun, PlanningError> {
        let horizon_s = request.horizon_s.unwrap_or(self.settings.horizon_s);
        let step_s = self.settings.interval_s;
        let history = history::read(engine, &request.queues, self.settings.history_weeks, step_s)
            .await?
            .ok_or_else(|| PlanningError::NoHistory(" (the lake is empty)".into()))?;
        if let Some(missing) = request
            .queues
            .iter()
            .find(|q| !history.queues.contains_key(*q))
        {
            return Err(PlanningError::NoHistory(format!(" for queue {missing:?}")));
        }
        if history.queues.is_empty() {
            return Err(PlanningError::NoHistory(String::new()));
        }
        let created_at_us = chrono::Utc::now().timestamp_micros();
        let run_id = new_run_id("fc", created_at_us);
        let settings = self.settings.clone();
        let origin_s = history.origin_s;
        let id = run_id.clone();
        // Queues are independent: one thread per core, each a run of them.
        let queues = tokio::task::spawn_blocking(move || {
            let queues: Vec<_> = history.queues.iter().collect();
            let cores = std::thread::available_parallelism().map_or(1, usize::from);
            let per_thread = queues.len().div_ceil(cores).max(1);
            std::thread::scope(|scope| {
                let threads: Vec<_> = queues
                    .chunks(per_thread)
                    .map(|chunk| {
                        let (settings, id) = (&settings, &id);
                        scope.spawn(move || {
                            chunk
                                .iter()
                                .map(|(queue, h)| {
                                    forecast_one(
                                        settings,
                                        id,
                                        created_at_us,
                                        queue,
                                        h,
                                        origin_s,
                                        horizon_s,
                                    )
                                })
                                .collect::<Vec<_>>()
                        })
                    })
                    .collect();
                threads
                    .into_iter()
                    .map(|t| {
                        t.join()
                            .map_err(|_| PlanningError::Task("a forecast thread panicked".into()))
                    })
                    .collect::<Result<Vec<_>, _>>()
                    .map(|runs| runs.into_iter().flatten().collect::<Vec<_>>())
            })
        })
        .await
        .map_err(|e| PlanningError::Task(e.to_string()))??;
        if queues.iter().all(|q| q.rows.is_empty()) {
            return Err(PlanningError::NoHistory(
                " long enough (a week of intervals at least)".into(),
            ));
        }
        let mut run = ForecastRun {
            run_id,
            created_at_us,
            origin_s,
            horizon_s,
            queues,
            stored: false,
        };
        if let Some(store) = &self.store {
            let rows: Vec<ForecastRow> = run.queues.iter().flat_map(|q| q.rows.clone()).collect();
            let snapshot = store.writer.lock().await.append_forecasts(&rows).await?;
            store.forecasts.publish_commit(&snapshot, 0)?;
            run.stored = true;
        }
        Ok(run)
    }

    /// Staffs a stored forecast run (as `engine` shows it).
    pub async fn staff(
        &self,
        engine: &QueryEngine,
        request: &StaffRequest,
    ) -> Result<StaffingRun, PlanningError> {
        let forecast = read_forecast(engine, &request.forecast_run).await?;
        let queues: Vec<String> = {
            let mut q: Vec<String> = forecast.iter().map(|r| r.queue.clone()).collect();
            q.dedup();
            q
        };
        let estimated = match request.rule.method {
            StaffMethod::ErlangA { patience_s: None } => {
                let until_s = forecast
                    .iter()
                    .map(|r| r.interval_start_us / 1_000_000)
                    .min()
                    .unwrap_or_default();
                history::patience(engine, &queues, until_s).await?
            }
            _ => BTreeMap::new(),
        };
        let created_at_us = chrono::Utc::now().timestamp_micros();
        let run_id = new_run_id("st", created_at_us);
        let mut run = StaffingRun {
            run_id: run_id.clone(),
            rows: Vec::with_capacity(forecast.len()),
            patience_s: BTreeMap::new(),
            erlang_c_fallback: Vec::new(),
            stored: false,
        };
        for queue in &queues {
            let patience = match request.rule.method {
                StaffMethod::ErlangC => None,
                StaffMethod::ErlangA {
                    patience_s: Some(p),
                } => Some(p),
                StaffMethod::ErlangA { patience_s: None } => estimated.get(queue).copied(),
            };
            match patience {
                Some(p) => {
                    run.patience_s.insert(queue.clone(), p);
                }
                None if request.rule.method != StaffMethod::ErlangC => {
                    run.erlang_c_fallback.push(queue.clone())
                }
                None => {}
            }
            let requirement = request.rule.requirement(patience);
            let method = if patience.is_some() {
                "erlang_a"
            } else {
                "erlang_c"
            };
            for row in forecast.iter().filter(|r| &r.queue == queue) {
                // Without a handle time there is no load to staff for.
                let Some(aht_s) = row.aht_s.filter(|a| *a > 0.0) else {
                    continue;
                };
                let demand = Demand {
                    calls: row.volume,
                    period_s: row.interval_s as f64,
                    aht_s,
                };
                let staffed =
                    requirement
                        .staff(&demand)
                        .map_err(|source| PlanningError::Staffing {
                            queue: queue.clone(),
                            interval_start_s: row.interval_start_us / 1_000_000,
                            source,
                        })?;
                run.rows.push(StaffingRow {
                    run_id: run_id.clone(),
                    created_at_us,
                    forecast_run_id: Some(request.forecast_run.clone()),
                    queue: queue.clone(),
                    interval_start_us: row.interval_start_us,
                    interval_s: row.interval_s,
                    volume: row.volume,
                    aht_s,
                    agents_required: i64::from(staffed.agents_required),
                    agents_with_shrinkage: i64::from(staffed.agents_with_shrinkage),
                    service_level_expected: staffed.service_level,
                    asa_expected: staffed.asa_s,
                    occupancy_expected: staffed.occupancy,
                    abandon_expected: staffed.abandon,
                    method: method.to_owned(),
                    target: request.rule.target.to_string(),
                    patience_s: patience,
                    shrinkage: request.rule.shrinkage,
                    max_occupancy: request.rule.max_occupancy,
                });
            }
        }
        if let Some(store) = &self.store {
            let snapshot = store.writer.lock().await.append_staffing(&run.rows).await?;
            store.staffing.publish_commit(&snapshot, 0)?;
            run.stored = true;
        }
        Ok(run)
    }

    /// Forecasts every queue and staffs the run with the configured rule
    /// (the scheduled job, and `demo` at start).
    pub async fn forecast_and_staff(
        &self,
        engine: &QueryEngine,
    ) -> Result<(ForecastRun, StaffingRun), PlanningError> {
        let forecast = self.forecast(engine, &ForecastRequest::default()).await?;
        if !forecast.stored {
            return Err(PlanningError::ReadOnly(
                "the scheduled run needs the lake's writer lock".into(),
            ));
        }
        let staffing = self
            .staff(
                engine,
                &StaffRequest {
                    forecast_run: forecast.run_id.clone(),
                    rule: self.settings.staffing,
                },
            )
            .await?;
        Ok((forecast, staffing))
    }
}

/// One queue's forecast as rows.
fn forecast_one(
    settings: &PlanSettings,
    run_id: &str,
    created_at_us: i64,
    queue: &str,
    history: &queuelake_forecast::plan::QueueHistory,
    origin_s: i64,
    horizon_s: i64,
) -> QueueRun {
    let step_s = settings.interval_s;
    let horizon = usize::try_from(horizon_s / step_s).unwrap_or(0).max(1);
    let days = settings.special_days_of(queue);
    let local_date = |s: i64| settings.local_date(s);
    let special = SpecialDays::new(&days, &local_date);
    let planned = forecast_queue(history, &special, horizon, settings.backtest_origins);
    let model = planned.model().to_owned();
    let backtest = planned.choice.candidates[planned.choice.index]
        .accuracy
        .map(|a| BacktestScores {
            mase: a.mase,
            wape: a.wape,
            smape: a.smape,
        });
    // The history ends at the origin, so the forecast starts there.
    debug_assert_eq!(planned.volume.start_s, origin_s);
    let v = &planned.volume;
    let rows = (0..v.mean.len())
        .filter_map(|i| {
            let start_s = v.start_s + v.step_s * i as i64;
            Some(ForecastRow {
                run_id: run_id.to_owned(),
                created_at_us,
                queue: queue.to_owned(),
                interval_start_us: start_s * 1_000_000,
                interval_s: step_s,
                volume: v.mean[i]?,
                volume_lo: v.lo[i].unwrap_or(0.0),
                volume_hi: v.hi[i].unwrap_or(v.mean[i]?),
                aht_s: planned.aht_s.get(i).copied().flatten(),
                model: model.clone(),
                backtest,
                special_day: special.on(start_s).map(|d| d.name.clone()),
            })
        })
        .collect();
    QueueRun {
        queue: queue.to_owned(),
        model,
        backtest: planned.choice.candidates.clone(),
        rows,
    }
}

/// `fc-20261122T070000Z-1a2b3c`: kind, creation instant, 24 random bits.
fn new_run_id(kind: &str, created_at_us: i64) -> String {
    let when = chrono::DateTime::from_timestamp_micros(created_at_us)
        .map(|t| t.format("%Y%m%dT%H%M%SZ").to_string())
        .unwrap_or_default();
    let mut bytes = [0u8; 3];
    // Without randomness, the microseconds keep ids apart.
    let suffix = match getrandom::fill(&mut bytes) {
        Ok(()) => bytes.iter().map(|b| format!("{b:02x}")).collect::<String>(),
        Err(_) => format!("{:06}", created_at_us.rem_euclid(1_000_000)),
    };
    format!("{kind}-{when}-{suffix}")
}

/// Whether `id` looks like a run id of `kind` (ids reach SQL text).
pub fn valid_run_id(kind: &str, id: &str) -> bool {
    id.strip_prefix(kind)
        .and_then(|rest| rest.strip_prefix('-'))
        .is_some_and(|rest| {
            !rest.is_empty()
                && rest.len() <= 40
                && rest.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

/// A stored run's rows for one queue, summed up for listing.
#[derive(Debug, Clone, PartialEq)]
pub struct RunQueueRow {
    /// The run.
    pub run_id: String,
    /// The forecast run a staffing run staffs.
    pub forecast_run_id: Option<String>,
    /// The queue.
    pub queue: String,
    /// When the run was made (µs).
    pub created_at_us: i64,
    /// Its first interval (µs).
    pub first_interval_us: i64,
    /// Its last interval (µs).
    pub last_interval_us: i64,
}

/// Which table of runs to list.
#[derive(Debug, Clone, Copy)]
pub enum RunKind {
    /// `forecasts`.
    Forecast,
    /// `staffing`.
    Staffing,
}

/// Every stored run of `kind` the session's scope shows, one row per run
/// and queue, newest run first.
pub async fn list_runs(
    engine: &QueryEngine,
    kind: RunKind,
) -> Result<Vec<RunQueueRow>, PlanningError> {
    let (table, forecast_run) = match kind {
        RunKind::Forecast => ("forecasts", "CAST(NULL AS VARCHAR)"),
        RunKind::Staffing => ("staffing", "forecast_run_id"),
    };
    let result = engine
        .query(&format!(
            "SELECT run_id, {forecast_run} AS forecast_run_id, queue, \
             CAST(MIN(created_at) AS BIGINT) AS created_us, \
             CAST(MIN(interval_start) AS BIGINT), CAST(MAX(interval_start) AS BIGINT) \
             FROM {table} GROUP BY run_id, {forecast_run}, queue \
             ORDER BY created_us DESC, run_id, queue"
        ))
        .await?;
    Ok(super::decode::run_queue_rows(&result.batches))
}

/// The rows of a stored forecast run, by queue and interval.
pub async fn read_forecast(
    engine: &QueryEngine,
    run_id: &str,
) -> Result<Vec<ForecastRow>, PlanningError> {
    if !valid_run_id("fc", run_id) {
        return Err(PlanningError::NoRun(run_id.to_owned()));
    }
    let result = engine
        .query(&format!(
            "SELECT run_id, CAST(created_at AS BIGINT) AS created_us, queue, \
             CAST(interval_start AS BIGINT) AS start_us, interval_s, volume, \
             volume_lo, volume_hi, aht_s, model, backtest_mase, backtest_wape, backtest_smape, \
             special_day FROM forecasts WHERE run_id = '{run_id}' ORDER BY queue, interval_start"
        ))
        .await?;
    let rows = super::decode::forecast_rows(&result.batches);
    if rows.is_empty() {
        return Err(PlanningError::NoRun(run_id.to_owned()));
    }
    Ok(rows)
}

/// The rows of a stored staffing run, by queue and interval.
pub async fn read_staffing(
    engine: &QueryEngine,
    run_id: &str,
) -> Result<Vec<StaffingRow>, PlanningError> {
    if !valid_run_id("st", run_id) {
        return Err(PlanningError::NoRun(run_id.to_owned()));
    }
    let result = engine
        .query(&format!(
            "SELECT run_id, CAST(created_at AS BIGINT) AS created_us, forecast_run_id, \
             queue, CAST(interval_start AS BIGINT) AS start_us, interval_s, volume, \
             aht_s, agents_required, agents_with_shrinkage, service_level_expected, asa_expected, \
             occupancy_expected, abandon_expected, method, target, patience_s, shrinkage, max_occupancy \
             FROM staffing WHERE run_id = '{run_id}' ORDER BY queue, interval_start"
        ))
        .await?;
    let rows = super::decode::staffing_rows(&result.batches);
    if rows.is_empty() {
        return Err(PlanningError::NoRun(run_id.to_owned()));
    }
    Ok(rows)
}

/// How a forecast run did so far, per queue: its backtest when it was
/// made, and against the intervals that have happened since.
#[derive(Debug, Clone, PartialEq)]
pub struct RunAccuracy {
    /// The queue.
    pub queue: String,
    /// The model.
    pub model: String,
    /// The model's backtest scores at the run.
    pub backtest: Option<BacktestScores>,
    /// Intervals forecast that have completed with calls.
    pub intervals_compared: usize,
    /// Mean absolute error, calls per interval.
    pub mae: Option<f64>,
    /// WAPE, a share.
    pub wape: Option<f64>,
    /// sMAPE, a share.
    pub smape: Option<f64>,
    /// Σ forecast − Σ actual over Σ actual (positive: over-forecast).
    pub bias: Option<f64>,
    /// Share of actuals inside the 90 % interval.
    pub interval_coverage: Option<f64>,
}

/// The accuracy of a stored forecast run against `interval_stats`.
pub async fn run_accuracy(
    engine: &QueryEngine,
    run_id: &str,
) -> Result<Vec<RunAccuracy>, PlanningError> {
    let rows = read_forecast(engine, run_id).await?;
    let from_us = rows.iter().map(|r| r.interval_start_us).min().unwrap_or(0);
    let result = engine
        .query(&format!(
            "SELECT s.queue, CAST(s.interval_start AS BIGINT), \
             CAST(s.offered AS DOUBLE) FROM interval_stats s \
             WHERE s.interval_start >= to_timestamp_micros({from_us}) \
             AND s.interval_start < (SELECT MAX(ts) FROM queue_log) - INTERVAL '{} seconds'",
            rows.first().map_or(0, |r| r.interval_s)
        ))
        .await?;
    let actual = super::decode::offered(&result.batches);
    let mut by_queue: BTreeMap<&str, Vec<&ForecastRow>> = BTreeMap::new();
    for row in &rows {
        by_queue.entry(&row.queue).or_default().push(row);
    }
    Ok(by_queue
        .into_iter()
        .map(|(queue, rows)| {
            let pairs: Vec<(&ForecastRow, f64)> = rows
                .iter()
                .filter_map(|r| Some((*r, *actual.get(&(queue.to_owned(), r.interval_start_us))?)))
                .collect();
            let n = pairs.len() as f64;
            let total: f64 = pairs.iter().map(|(_, a)| a).sum();
            let forecast_total: f64 = pairs.iter().map(|(r, _)| r.volume).sum();
            let abs: f64 = pairs.iter().map(|(r, a)| (r.volume - a).abs()).sum();
            let smape: f64 = pairs
                .iter()
                .map(|(r, a)| {
                    let d = r.volume.abs() + a.abs();
                    if d == 0.0 {
                        0.0
                    } else {
                        2.0 * (r.volume - a).abs() / d
                    }
                })
                .sum();
            let inside = pairs
                .iter()
                .filter(|(r, a)| r.volume_lo <= *a && *a <= r.volume_hi)
                .count() as f64;
            let some = |v: f64| (n > 0.0).then_some(v);
            let of_total = |v: f64| (total > 0.0).then_some(v / total);
            RunAccuracy {
                queue: queue.to_owned(),
                model: rows.first().map(|r| r.model.clone()).unwrap_or_default(),
                backtest: rows.first().and_then(|r| r.backtest),
                intervals_compared: pairs.len(),
                mae: some(abs / n),
                wape: of_total(abs),
                smape: some(smape / n),
                bias: of_total(forecast_total - total),
                interval_coverage: some(inside / n),
            }
        })
        .collect())
}

/// The planner shared by the HTTP handlers and the scheduled job.
pub type SharedPlanner = Arc<Planner>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_ids_are_made_and_checked_by_kind() {
        let id = new_run_id("fc", 1_763_794_800_000_000);
        assert!(id.starts_with("fc-20251122T070000Z-"), "{id}");
        assert!(valid_run_id("fc", &id));
        assert!(!valid_run_id("st", &id));
        for bad in [
            "fc-",
            "fc-x'; DROP",
            "fc",
            "xx-1",
            &format!("fc-{}", "a".repeat(41)),
        ] {
            assert!(!valid_run_id("fc", bad), "{bad}");
        }
    }
}
