//! The planner's workflow: a draft from a staffing run, edits, and
//! publication into the lake's immutable tables. Reads and requirement
//! queries go through the caller's session, so a scoped token schedules
//! only teams within its queues.

use std::sync::Arc;

use chrono::{Datelike, NaiveDate, TimeZone};
use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::datatypes::{Float64Type, Int64Type};
use queuelake_engine::EngineError;
use queuelake_engine::live::LiveTable;
use queuelake_engine::schedules::{
    ActivityRow, CoverageRow, ScheduleWriter, VersionKey, VersionRow, version_batches,
};
use queuelake_engine::session::{LakeTables, QueryEngine};

use super::build::{BuildError, DraftRequest, build};
use super::draft::{Draft, Edit};
use super::inputs::{InputError, SchedulingInputs};
use super::store::{DraftStore, StoreError};

/// Why a workflow step failed.
#[derive(Debug, thiserror::Error)]
pub enum ScheduleError {
    /// A request value is wrong (`field` names it).
    #[error("{field}: {reason}")]
    Invalid {
        /// The field.
        field: String,
        /// What is wrong.
        reason: String,
    },
    /// No such draft, or a staffing run with nothing to schedule.
    #[error("{0}")]
    NotFound(String),
    /// The draft could not be built.
    #[error(transparent)]
    Build(#[from] BuildError),
    /// Drafts could not be read or written.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The lake or a query failed.
    #[error(transparent)]
    Engine(#[from] EngineError),
    /// This process cannot publish (another holds the lake's lock).
    #[error("schedules cannot be published here: {0}")]
    ReadOnly(String),
    /// A solver task died.
    #[error("schedule task failed: {0}")]
    Task(String),
}

impl From<InputError> for ScheduleError {
    fn from(e: InputError) -> Self {
        ScheduleError::Invalid {
            field: e.at,
            reason: e.reason,
        }
    }
}

/// What a new draft is for.
#[derive(Debug, Clone)]
pub struct CreateRequest {
    /// The staffing run whose requirement it covers.
    pub staffing_run: String,
    /// The team (empty: every queue of the run the caller sees).
    pub queues: Vec<String>,
    /// The Monday of the week.
    pub week: NaiveDate,
    /// Patterns, roster and weights (absent: `[scheduling]`).
    pub inputs: Option<SchedulingInputs>,
}

/// Where published versions go.
pub struct PublishTarget {
    writer: tokio::sync::Mutex<ScheduleWriter>,
    tables: [LiveTable; 3],
}

impl PublishTarget {
    /// Publishing through `writer`, showing commits in `tables`.
    pub fn new(writer: ScheduleWriter, tables: &LakeTables) -> Self {
        PublishTarget {
            writer: tokio::sync::Mutex::new(writer),
            tables: tables.schedules.clone(),
        }
    }
}

/// Drafts, edits and publication.
pub struct Scheduling {
    drafts: DraftStore,
    inputs: SchedulingInputs,
    time_zone: chrono_tz::Tz,
    interval_s: i64,
    publish: Option<PublishTarget>,
    lock: tokio::sync::Mutex<()>,
}

impl Scheduling {
    /// The workflow over the lake at `lake_root`.
    pub fn new(
        lake_root: &std::path::Path,
        inputs: SchedulingInputs,
        time_zone: chrono_tz::Tz,
        interval_s: i64,
        publish: Option<PublishTarget>,
    ) -> Self {
        Scheduling {
            drafts: DraftStore::new(lake_root),
            inputs,
            time_zone,
            interval_s,
            publish,
            lock: tokio::sync::Mutex::new(()),
        }
    }

    /// A draft covering a staffing run's week for a team.
    pub async fn create(
        &self,
        engine: &QueryEngine,
        request: CreateRequest,
    ) -> Result<Draft, ScheduleError> {
        if !crate::planning::runs::valid_run_id("st", &request.staffing_run) {
            return Err(ScheduleError::NotFound(format!(
                "no staffing run {:?}",
                request.staffing_run
            )));
        }
        if request.week.weekday() != chrono::Weekday::Mon {
            return Err(ScheduleError::Invalid {
                field: "week".into(),
                reason: format!(
                    "{} is a {}, not a Monday",
                    request.week,
                    request.week.weekday()
                ),
            });
        }
        let run = &request.staffing_run;
        let mut queues = request.queues.clone();
        if queues.is_empty() {
            let result = engine
                .query(&format!(
                    "SELECT DISTINCT queue FROM staffing WHERE run_id = '{run}' ORDER BY queue"
                ))
                .await?;
            for batch in &result.batches {
                let column = batch.column(0).as_string::<i32>();
                queues.extend((0..batch.num_rows()).map(|i| column.value(i).to_owned()));
            }
        }
        queues.sort();
        queues.dedup();
        if queues.is_empty() {
            return Err(ScheduleError::NotFound(format!("no staffing run {run:?}")));
        }
        let week_start = self
            .time_zone
            .from_local_datetime(&request.week.and_time(chrono::NaiveTime::MIN))
            .earliest()
            .ok_or_else(|| ScheduleError::Invalid {
                field: "week".into(),
                reason: "its midnight does not exist in the time zone".into(),
            })?;
        let week_start_us = week_start.timestamp_micros();
        let per_day = (86_400 / self.interval_s) as usize;
        let list: Vec<String> = queues
            .iter()
            .map(|q| format!("'{}'", q.replace('\'', "''")))
            .collect();
        let result = engine
            .query(&format!(
                "SELECT CAST(interval_start AS BIGINT) AS start_us, \
                 SUM(CAST(agents_required AS DOUBLE)) AS agents, MIN(interval_s) AS interval_s \
                 FROM staffing WHERE run_id = '{run}' AND queue IN ({}) GROUP BY 1",
                list.join(", ")
            ))
            .await?;
        let mut required = vec![0.0; 7 * per_day];
        let mut found = 0;
        for batch in &result.batches {
            let start = batch.column(0).as_primitive::<Int64Type>();
            let agents = batch.column(1).as_primitive::<Float64Type>();
            let step = batch.column(2).as_primitive::<Int64Type>();
            for row in 0..batch.num_rows() {
                if start.is_null(row) || agents.is_null(row) {
                    continue;
                }
                if step.value(row) != self.interval_s {
                    return Err(ScheduleError::Invalid {
                        field: "staffing_run".into(),
                        reason: format!(
                            "its intervals are {} s; schedules use [kpi] interval_minutes ({} s)",
                            step.value(row),
                            self.interval_s
                        ),
                    });
                }
                let offset = start.value(row) - week_start_us;
                if offset >= 0 && offset % (self.interval_s * 1_000_000) == 0 {
                    let t = (offset / (self.interval_s * 1_000_000)) as usize;
                    if t < required.len() {
                        required[t] = agents.value(row);
                        found += 1;
                    }
                }
            }
        }
        if found == 0 {
            return Err(ScheduleError::Invalid {
                field: "week".into(),
                reason: format!(
                    "staffing run {run} has no interval in the week of {}",
                    request.week
                ),
            });
        }
        let inputs = request.inputs.unwrap_or_else(|| self.inputs.clone());
        let draft_request = DraftRequest {
            id: new_id(),
            queues,
            week_start_us,
            interval_s: self.interval_s,
            required,
            staffing_run_id: Some(run.clone()),
        };
        let draft = tokio::task::spawn_blocking(move || build(draft_request, &inputs))
            .await
            .map_err(|e| ScheduleError::Task(e.to_string()))??;
        self.drafts.save(&draft)?;
        Ok(draft)
    }

    /// A draft, if `engine`'s scope covers its team.
    pub fn load(
        &self,
        engine_scope: &queuelake_engine::scope::Scope,
        id: &str,
    ) -> Result<Draft, ScheduleError> {
        let draft = self.drafts.load(id)?;
        if !draft.queues.iter().all(|q| engine_scope.allows_queue(q)) {
            return Err(ScheduleError::NotFound(format!("no schedule {id:?}")));
        }
        Ok(draft)
    }

    /// The drafts whose team `scope` covers, newest week first.
    pub fn list(
        &self,
        scope: &queuelake_engine::scope::Scope,
    ) -> Result<Vec<Draft>, ScheduleError> {
        Ok(self
            .drafts
            .list()?
            .into_iter()
            .filter(|d| d.queues.iter().all(|q| scope.allows_queue(q)))
            .collect())
    }

    /// Applies edits in order, all or none.
    pub async fn edit(
        &self,
        scope: &queuelake_engine::scope::Scope,
        id: &str,
        edits: &[Edit],
    ) -> Result<Draft, ScheduleError> {
        let _guard = self.lock.lock().await;
        let mut draft = self.load(scope, id)?;
        for (i, edit) in edits.iter().enumerate() {
            draft.apply(edit).map_err(|e| ScheduleError::Invalid {
                field: format!("edits[{i}].{}", e.at),
                reason: e.reason,
            })?;
        }
        self.drafts.save(&draft)?;
        Ok(draft)
    }

    /// Publishes the draft as its next version.
    pub async fn publish(
        &self,
        scope: &queuelake_engine::scope::Scope,
        id: &str,
        published_by: &str,
    ) -> Result<(Draft, i64), ScheduleError> {
        let Some(target) = &self.publish else {
            return Err(ScheduleError::ReadOnly(
                "another process holds the lake".into(),
            ));
        };
        let _guard = self.lock.lock().await;
        let mut draft = self.load(scope, id)?;
        let broken = draft.violations();
        if !broken.is_empty() {
            return Err(ScheduleError::Invalid {
                field: "shifts".into(),
                reason: format!(
                    "the draft breaks rules, so it is not published: {}",
                    broken.join("; ")
                ),
            });
        }
        let version = draft.published_versions + 1;
        let key = VersionKey {
            schedule_id: draft.id.clone(),
            version,
            published_at_us: chrono::Utc::now().timestamp_micros(),
            queues: draft.queues.join(","),
        };
        let batches = version_batches(
            &key,
            &version_row(&draft, published_by),
            &activities(&draft),
            &coverage_rows(&draft),
        )?;
        let snapshots = target.writer.lock().await.publish(batches).await?;
        for (table, snapshot) in target.tables.iter().zip(&snapshots) {
            table.publish_commit(snapshot, 0)?;
        }
        draft.published_versions = version;
        self.drafts.save(&draft)?;
        Ok((draft, version))
    }
}

fn new_id() -> String {
    let mut bytes = [0u8; 6];
    let suffix = match getrandom::fill(&mut bytes) {
        Ok(()) => bytes.iter().map(|b| format!("{b:02x}")).collect::<String>(),
        Err(_) => chrono::Utc::now().timestamp_micros().to_string(),
    };
    format!("sc-{suffix}")
}

fn version_row(draft: &Draft, published_by: &str) -> VersionRow {
    let totals = draft.totals();
    VersionRow {
        published_by: published_by.to_owned(),
        week_start_us: draft.week_start_us,
        interval_s: draft.interval_s,
        staffing_run_id: draft.staffing_run_id.clone(),
        shifts: totals.shifts as i64,
        paid_hours: totals.paid_hours,
        short_agent_hours: totals.short_agent_hours,
        surplus_agent_hours: totals.surplus_agent_hours,
        bound: draft.bound,
    }
}

/// A draft's shifts and breaks as rows with instants.
pub fn activities(draft: &Draft) -> Vec<ActivityRow> {
    let per_day = draft.per_day();
    let step_us = draft.interval_s * 1_000_000;
    let minutes = draft.interval_s / 60;
    let at = |interval: usize| draft.week_start_us + interval as i64 * step_us;
    let mut rows = Vec::new();
    for shift in &draft.shifts {
        let start = shift.day * per_day + shift.start;
        let unpaid: usize = shift
            .breaks
            .iter()
            .filter(|b| !b.paid)
            .map(|b| b.length)
            .sum();
        rows.push(ActivityRow {
            shift_no: shift.no,
            activity: "shift",
            agent: shift.agent.clone(),
            start_us: at(start),
            end_us: at(start + shift.span),
            paid_min: (shift.span - unpaid) as i64 * minutes,
        });
        for b in &shift.breaks {
            rows.push(ActivityRow {
                shift_no: shift.no,
                activity: "break",
                agent: shift.agent.clone(),
                start_us: at(start + b.offset),
                end_us: at(start + b.offset + b.length),
                paid_min: if b.paid { b.length as i64 * minutes } else { 0 },
            });
        }
    }
    rows
}

/// A draft's coverage against its requirement, per interval of the week.
pub fn coverage_rows(draft: &Draft) -> Vec<CoverageRow> {
    let step_us = draft.interval_s * 1_000_000;
    draft
        .coverage()
        .iter()
        .zip(&draft.required)
        .enumerate()
        .map(|(t, (scheduled, required))| CoverageRow {
            interval_start_us: draft.week_start_us + t as i64 * step_us,
            required: *required,
            scheduled: *scheduled,
        })
        .collect()
}

/// The workflow shared by handlers.
pub type SharedScheduling = Arc<Scheduling>;
