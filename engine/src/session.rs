//! The read-only SQL session over the lake.
//!
//! Analyst SQL runs through [`QueryEngine::query`]: DDL, DML (INSERT,
//! COPY, …) and statements (SET, …) are refused by DataFusion's
//! `SQLOptions` before planning, URL tables stay disabled so SQL cannot
//! read files, and every query gets its own memory pool and a deadline.

use std::sync::Arc;
use std::time::Duration;

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use datafusion::catalog::view::ViewTable;
use datafusion::execution::SessionStateBuilder;
use datafusion::execution::context::{SQLOptions, SessionContext};
use datafusion::execution::runtime_env::RuntimeEnvBuilder;
use datafusion::prelude::SessionConfig;
use serde::{Deserialize, Serialize};

use crate::ami_events::{AMI_EVENTS, AMI_EVENTS_SCHEMA};
use crate::calls::CallsTable;
use crate::error::{EngineError, Result};
use crate::kpi::{self, KpiSettings};
use crate::lake::{Lake, Snapshot};
use crate::live::LiveTable;
use crate::pacing::{PACING_DECISIONS, PACING_DECISIONS_SCHEMA};
use crate::plans::{FORECASTS, FORECASTS_SCHEMA, STAFFING, STAFFING_SCHEMA};
use crate::rollup::CALLS_BY_DAY;
use crate::schedules::{
    SCHEDULE_COVERAGE, SCHEDULE_COVERAGE_SCHEMA, SCHEDULE_SHIFTS, SCHEDULE_SHIFTS_SCHEMA,
    SCHEDULES, SCHEDULES_SCHEMA,
};
use crate::scope::{Scope, ScopedBy};
use crate::tables::{QUEUE_LOG, QUEUE_LOG_SCHEMA};

/// The catalog the lake's tables and views are in (`queuelake.public.…`;
/// what PostgreSQL clients see as the database).
pub const CATALOG: &str = "queuelake";

/// Limits applied to every analyst query.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct QueryLimits {
    /// Memory a query may hold for sorts, joins and aggregates, in MiB.
    pub memory_limit_mb: u64,
    /// Wall-clock deadline of a query, in milliseconds.
    pub timeout_ms: u64,
}

impl Default for QueryLimits {
    fn default() -> Self {
        QueryLimits {
            memory_limit_mb: 2048,
            timeout_ms: 30_000,
        }
    }
}

/// A query's answer.
#[derive(Debug)]
pub struct QueryResult {
    /// Column names and types.
    pub schema: SchemaRef,
    /// The rows.
    pub batches: Vec<RecordBatch>,
}

impl QueryResult {
    /// Number of rows.
    pub fn rows(&self) -> usize {
        self.batches.iter().map(RecordBatch::num_rows).sum()
    }
}

/// The lake's tables as a session reads them.
#[derive(Clone, Debug)]
pub struct LakeTables {
    /// The raw `queue_log`.
    pub queue_log: LiveTable,
    /// Stored closed days of `calls` (not visible to SQL by this name).
    pub calls_by_day: LiveTable,
    /// The journaled AMI events.
    pub ami_events: LiveTable,
    /// Forecast runs.
    pub forecasts: LiveTable,
    /// Staffing runs.
    pub staffing: LiveTable,
    /// Published schedule versions, their shifts and their coverage.
    pub schedules: [LiveTable; 3],
    /// Pacing decisions served.
    pub pacing_decisions: LiveTable,
}

impl LakeTables {
    /// The tables as committed now, for readers that do not write.
    pub async fn committed(lake: &Lake) -> Result<Self> {
        let queue_log = lake.snapshot(QUEUE_LOG).await?;
        let calls_by_day = lake.snapshot(CALLS_BY_DAY).await?;
        let ami_events = lake.snapshot(AMI_EVENTS).await?;
        Self::at(lake, &queue_log, &calls_by_day, &ami_events).await
    }

    /// The tables at the given snapshots (a writer passes its own); the
    /// planning tables as committed now.
    pub async fn at(
        lake: &Lake,
        queue_log: &Snapshot,
        calls_by_day: &Snapshot,
        ami_events: &Snapshot,
    ) -> Result<Self> {
        Ok(LakeTables {
            queue_log: LiveTable::new(
                lake.clone(),
                QUEUE_LOG,
                QUEUE_LOG_SCHEMA.clone(),
                queue_log,
            )?,
            calls_by_day: LiveTable::new(
                lake.clone(),
                CALLS_BY_DAY,
                crate::calls::calls_schema().await?,
                calls_by_day,
            )?,
            ami_events: LiveTable::new(
                lake.clone(),
                AMI_EVENTS,
                AMI_EVENTS_SCHEMA.clone(),
                ami_events,
            )?,
            forecasts: LiveTable::new(
                lake.clone(),
                FORECASTS,
                FORECASTS_SCHEMA.clone(),
                &lake.snapshot(FORECASTS).await?,
            )?,
            staffing: LiveTable::new(
                lake.clone(),
                STAFFING,
                STAFFING_SCHEMA.clone(),
                &lake.snapshot(STAFFING).await?,
            )?,
            schedules: [
                LiveTable::new(
                    lake.clone(),
                    SCHEDULES,
                    SCHEDULES_SCHEMA.clone(),
                    &lake.snapshot(SCHEDULES).await?,
                )?,
                LiveTable::new(
                    lake.clone(),
                    SCHEDULE_SHIFTS,
                    SCHEDULE_SHIFTS_SCHEMA.clone(),
                    &lake.snapshot(SCHEDULE_SHIFTS).await?,
                )?,
                LiveTable::new(
                    lake.clone(),
                    SCHEDULE_COVERAGE,
                    SCHEDULE_COVERAGE_SCHEMA.clone(),
                    &lake.snapshot(SCHEDULE_COVERAGE).await?,
                )?,
            ],
            pacing_decisions: LiveTable::new(
                lake.clone(),
                PACING_DECISIONS,
                PACING_DECISIONS_SCHEMA.clone(),
                &lake.snapshot(PACING_DECISIONS).await?,
            )?,
        })
    }
}

/// The SQL session: raw tables and views, read-only.
pub struct QueryEngine {
    ctx: SessionContext,
    limits: QueryLimits,
}

impl QueryEngine {
    /// A session over the lake's `tables`, with the views rendered from
    /// `kpi`, showing the rows `scope` allows.
    pub async fn new(
        tables: &LakeTables,
        kpi: &KpiSettings,
        limits: QueryLimits,
        scope: &Scope,
    ) -> Result<Self> {
        let mut config = SessionConfig::new()
            .with_information_schema(true)
            .with_default_catalog_and_schema(CATALOG, "public");
        // Planning errors then name the line and column they are about.
        config.options_mut().sql_parser.collect_spans = true;
        let ctx = SessionContext::new_with_config(config);
        let queue_log = tables.queue_log.clone();
        let scoped = scope.restrict(
            &ctx,
            QUEUE_LOG,
            Arc::new(queue_log.clone()),
            ScopedBy::Queue,
        )?;
        ctx.register_table(QUEUE_LOG, scoped)?;
        let calls = CallsTable::new(&ctx, queue_log, tables.calls_by_day.clone(), scope).await?;
        ctx.register_table("calls", Arc::new(calls))?;
        let ami_events = scope.restrict(
            &ctx,
            AMI_EVENTS,
            Arc::new(tables.ami_events.clone()),
            ScopedBy::QueueOrCampaign,
        )?;
        ctx.register_table(AMI_EVENTS, ami_events)?;
        let by_queue = [
            (&tables.forecasts, ScopedBy::Queue),
            (&tables.staffing, ScopedBy::Queue),
        ];
        let by_team = tables.schedules.iter().map(|t| (t, ScopedBy::QueueList));
        let by_campaign = [(&tables.pacing_decisions, ScopedBy::Campaign)];
        for (table, by) in by_queue.into_iter().chain(by_team).chain(by_campaign) {
            let scoped = scope.restrict(&ctx, table.name(), Arc::new(table.clone()), by)?;
            ctx.register_table(table.name(), scoped)?;
        }
        for view in kpi::VIEWS {
            let sql = kpi::render(view.sql, kpi)?;
            let plan = ctx.state().create_logical_plan(&sql).await.map_err(|e| {
                EngineError::InvalidSetting {
                    name: format!("view {}", view.name),
                    reason: e.to_string(),
                }
            })?;
            ctx.register_table(view.name, Arc::new(ViewTable::new(plan, Some(sql))))?;
        }
        Ok(QueryEngine { ctx, limits })
    }

    /// The session's context (tables and views, no limits applied), for
    /// front ends that run their own protocol over it.
    pub fn context(&self) -> &SessionContext {
        &self.ctx
    }

    /// The limits every query runs under.
    pub fn limits(&self) -> &QueryLimits {
        &self.limits
    }

    /// Runs one read-only statement under the limits.
    pub async fn query(&self, sql: &str) -> Result<QueryResult> {
        let runtime = RuntimeEnvBuilder::new()
            .with_memory_limit(self.limits.memory_limit_mb as usize * 1024 * 1024, 1.0)
            .build_arc()?;
        let state = SessionStateBuilder::new_from_existing(self.ctx.state())
            .with_runtime_env(runtime)
            .build();
        let ctx = SessionContext::new_with_state(state);
        let options = SQLOptions::new()
            .with_allow_ddl(false)
            .with_allow_dml(false)
            .with_allow_statements(false);
        let timeout = Duration::from_millis(self.limits.timeout_ms);
        let run = async {
            let df = ctx.sql_with_options(sql, options).await.map_err(refusal)?;
            let schema = Arc::new(df.schema().as_arrow().clone());
            let batches = df.collect().await?;
            Ok(QueryResult { schema, batches })
        };
        tokio::time::timeout(timeout, run)
            .await
            .map_err(|_| EngineError::QueryTimeout(self.limits.timeout_ms))?
    }
}

/// Planning errors are the user's: keep DataFusion's message (it names the
/// line and column, or the refused statement) but mark it as a refusal.
fn refusal(e: datafusion::error::DataFusionError) -> EngineError {
    let mut msg = e.strip_backtrace();
    let span = e.diagnostic().and_then(|d| d.span);
    if let Some(span) = span.filter(|_| !msg.contains("Line:")) {
        use std::fmt::Write;
        let _ = write!(
            msg,
            " at Line: {}, Column: {}",
            span.start.line, span.start.column
        );
    }
    // SQLOptions says "DDL not supported: …", "DML not supported: …",
    // "Statement not supported: …"; other "not supported" errors are
    // features the SQL dialect lacks, not refusals of writes.
    let write = [
        "DDL not supported",
        "DML not supported",
        "Statement not supported",
    ]
    .iter()
    .any(|refused| msg.contains(refused));
    if write {
        EngineError::QueryRefused(format!("refused: queuelake SQL is read-only ({msg})"))
    } else {
        EngineError::QueryRefused(msg)
    }
}
