//! The read-only SQL session over the lake.
//!
//! Every statement, from every door, passes two guards: its syntax tree
//! ([`crate::statement_check`]: reads only, no `INTO`, bounded
//! expressions) and its logical plan (`SQLOptions::verify_plan` with DDL,
//! DML and statements off, which looks inside `EXPLAIN`/`ANALYZE`). URL
//! tables stay disabled so SQL cannot read files. Planning and execution
//! run on the query pool ([`crate::query_runtime`]) under a deadline, each
//! query with its own memory pool; results are bounded in rows and bytes
//! ([`crate::execution`]); string functions that could make one huge value
//! are capped ([`crate::bounded_text`]).

use std::sync::Arc;
use std::time::Duration;

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use datafusion::catalog::view::ViewTable;
use datafusion::execution::SessionStateBuilder;
use datafusion::execution::context::{SQLOptions, SessionContext};
use datafusion::execution::runtime_env::RuntimeEnvBuilder;
use datafusion::logical_expr::LogicalPlan;
use datafusion::physical_plan::{ExecutionPlan, execute_stream};
use datafusion::prelude::SessionConfig;
use datafusion::sql::parser::Statement as DfStatement;
use datafusion::sql::sqlparser::ast::Statement;
use serde::{Deserialize, Serialize};

use crate::ami_events::{AMI_EVENTS, AMI_EVENTS_SCHEMA};
use crate::calls::CallsTable;
use crate::error::{EngineError, Result};
use crate::execution::{self, RowStream};
use crate::kpi::{self, KpiSettings};
use crate::lake::{Lake, Snapshot};
use crate::live::LiveTable;
use crate::pacing::{PACING_DECISIONS, PACING_DECISIONS_SCHEMA};
use crate::plans::{FORECASTS, FORECASTS_SCHEMA, STAFFING, STAFFING_SCHEMA};
use crate::query_runtime::{Deadline, Hold, QueryRuntime};
use crate::rollup::CALLS_BY_DAY;
use crate::schedules::{
    SCHEDULE_COVERAGE, SCHEDULE_COVERAGE_SCHEMA, SCHEDULE_SHIFTS, SCHEDULE_SHIFTS_SCHEMA,
    SCHEDULES, SCHEDULES_SCHEMA,
};
use crate::scope::{Scope, ScopedBy};
use crate::statement_check::{self, Door, StatementKind};
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
    /// Wall-clock deadline of a query (planning and execution), in milliseconds.
    pub timeout_ms: u64,
    /// Rows a result may have.
    pub max_result_rows: u64,
    /// Bytes (Arrow, in memory) a result may have.
    pub max_result_bytes: u64,
    /// Bytes one value made by `repeat`, `lpad` or `rpad` may have.
    pub max_value_bytes: u64,
    /// Levels of nested expressions and subqueries in one statement.
    pub max_expression_depth: usize,
    /// Expressions (every operand, list element and call) in one statement.
    pub max_expression_nodes: usize,
    /// Row pairs a join without an equality condition may compare, by the
    /// row estimates of its sides.
    pub max_nested_loop_pairs: u64,
    /// Rows the build side of a join without an equality condition may
    /// have, counted as it runs (bounds the work between two yields).
    pub max_nested_loop_build_rows: u64,
}

impl Default for QueryLimits {
    fn default() -> Self {
        QueryLimits {
            memory_limit_mb: 2048,
            timeout_ms: 30_000,
            max_result_rows: 1_000_000,
            max_result_bytes: 64 * 1024 * 1024,
            max_value_bytes: 16 * 1024 * 1024,
            max_expression_depth: 256,
            max_expression_nodes: 100_000,
            max_nested_loop_pairs: 1_000_000_000,
            max_nested_loop_build_rows: 100_000,
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
        crate::bounded_text::install(&ctx, limits.max_value_bytes, limits.max_result_bytes)?;
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

    /// The same tables and limits over another context made from this
    /// one's (the PostgreSQL port adds `pg_catalog`).
    pub fn with_context(&self, ctx: SessionContext) -> QueryEngine {
        QueryEngine {
            ctx,
            limits: self.limits.clone(),
        }
    }

    /// The session's context (tables and views, no limits applied), for
    /// front ends that answer catalog and session commands themselves.
    pub fn context(&self) -> &SessionContext {
        &self.ctx
    }

    /// The limits every query runs under.
    pub fn limits(&self) -> &QueryLimits {
        &self.limits
    }

    /// The deadline of a query.
    pub fn deadline(&self) -> Duration {
        Duration::from_millis(self.limits.timeout_ms)
    }

    /// Runs one read-only statement under the limits, on the query pool,
    /// and collects its rows.
    pub async fn query(&self, sql: &str) -> Result<QueryResult> {
        self.query_holding(sql, None).await
    }

    /// [`QueryEngine::query`], keeping `hold` (the caller's query slot)
    /// until the query's task has ended.
    pub async fn query_holding(&self, sql: &str, hold: Hold) -> Result<QueryResult> {
        let ctx = self.query_context()?;
        let limits = self.limits.clone();
        let sql = sql.to_string();
        QueryRuntime::shared()
            .run(Deadline::after(self.deadline()), hold, async move {
                let plan = plan_sql(&ctx, &sql, &limits).await?;
                let schema = Arc::new(plan.schema().as_arrow().clone());
                let physical = physical_plan(&ctx, &plan, &limits).await?;
                let stream = execute_stream(physical, ctx.task_ctx())?;
                let batches = execution::collect(&ctx, stream, &limits).await?;
                Ok(QueryResult { schema, batches })
            })
            .await
    }

    /// Whether `statement` may run at `door`, and as what (the syntax
    /// guard; planning applies the plan guard).
    pub fn check(&self, statement: &Statement, door: Door) -> Result<StatementKind> {
        statement_check::check(statement, door, &self.limits)
    }

    /// The logical plan of a checked read, refused if it is not one. Call
    /// it on the query pool: planning a statement is unbounded work.
    pub async fn plan(&self, statement: Statement) -> Result<LogicalPlan> {
        plan_statement(&self.ctx, DfStatement::Statement(Box::new(statement))).await
    }

    /// Starts `plan` on the query pool and returns its rows as they come,
    /// within the result bounds, once physical planning succeeded. The
    /// query stops when the stream is dropped or the deadline passes.
    pub async fn stream(
        &self,
        plan: LogicalPlan,
        deadline: Deadline,
        hold: Hold,
    ) -> Result<RowStream> {
        let ctx = self.query_context()?;
        let limits = self.limits.clone();
        let pool = QueryRuntime::shared();
        let (started_tx, started_rx) = tokio::sync::oneshot::channel();
        let (rows_tx, rows_rx) = tokio::sync::mpsc::channel(2);
        let task = pool.spawn(hold, async move {
            let timed_out = rows_tx.clone();
            let run = async {
                let physical = match physical_plan(&ctx, &plan, &limits).await {
                    Ok(p) => p,
                    Err(e) => {
                        let _ = started_tx.send(Err(e));
                        return;
                    }
                };
                match execute_stream(physical, ctx.task_ctx()) {
                    Ok(stream) => {
                        let _ = started_tx.send(Ok(()));
                        execution::forward(stream, rows_tx, limits).await;
                    }
                    Err(e) => {
                        let _ = started_tx.send(Err(e.into()));
                    }
                }
            };
            // The consumer has its own deadline; this one ends the work
            // when the consumer is slow to notice, and says why: rows that
            // simply stopped would read as a complete result.
            if tokio::time::timeout_at(deadline.at, run).await.is_err() {
                let _ = timed_out
                    .send(Err(EngineError::QueryTimeout(deadline.limit_ms)))
                    .await;
            }
            Ok(())
        });
        match tokio::time::timeout_at(deadline.at, started_rx).await {
            Ok(Ok(Ok(()))) => Ok(RowStream::new(rows_rx, task)),
            Ok(Ok(Err(e))) => Err(e),
            Ok(Err(_)) => Err(task
                .join()
                .await
                .err()
                .unwrap_or(EngineError::QueryCancelled)),
            Err(_) => Err(EngineError::QueryTimeout(deadline.limit_ms)),
        }
    }

    /// A context over this session's tables with a memory pool of its own.
    fn query_context(&self) -> Result<SessionContext> {
        let runtime = RuntimeEnvBuilder::new()
            .with_memory_limit(self.limits.memory_limit_mb as usize * 1024 * 1024, 1.0)
            .build_arc()?;
        let state = SessionStateBuilder::new_from_existing(self.ctx.state())
            .with_runtime_env(runtime)
            .build();
        Ok(SessionContext::new_with_state(state))
    }
}

/// The plan guard: DDL, DML and statements are refused wherever they sit
/// in the plan (inside `EXPLAIN` and `ANALYZE` too).
fn read_only_options() -> SQLOptions {
    SQLOptions::new()
        .with_allow_ddl(false)
        .with_allow_dml(false)
        .with_allow_statements(false)
}

/// Parses `sql` as one statement in the session's dialect, checks it and
/// plans it.
async fn plan_sql(ctx: &SessionContext, sql: &str, limits: &QueryLimits) -> Result<LogicalPlan> {
    let state = ctx.state();
    let dialect = state.config().options().sql_parser.dialect;
    let statement = state.sql_to_statement(sql, &dialect).map_err(refusal)?;
    check_df_statement(&statement, limits)?;
    plan_statement(ctx, statement).await
}

/// The syntax guard over DataFusion's own statements (`COPY`, `CREATE
/// EXTERNAL TABLE` and `EXPLAIN` of them are its, not sqlparser's).
fn check_df_statement(statement: &DfStatement, limits: &QueryLimits) -> Result<()> {
    match statement {
        DfStatement::Statement(s) => statement_check::check(s, Door::Sql, limits).map(|_| ()),
        DfStatement::Explain(explain) => match explain.statement.as_ref() {
            DfStatement::Statement(s) if matches!(s.as_ref(), Statement::Query(_)) => {
                statement_check::check(s, Door::Sql, limits).map(|_| ())
            }
            _ => Err(EngineError::QueryRefused(
                "refused: queuelake SQL is read-only (EXPLAIN takes only a query)".into(),
            )),
        },
        other => Err(EngineError::QueryRefused(format!(
            "refused: queuelake SQL is read-only ({} …)",
            other
                .to_string()
                .split_whitespace()
                .take(2)
                .collect::<Vec<_>>()
                .join(" ")
        ))),
    }
}

async fn plan_statement(ctx: &SessionContext, statement: DfStatement) -> Result<LogicalPlan> {
    let plan = ctx
        .state()
        .statement_to_plan(statement)
        .await
        .map_err(refusal)?;
    read_only_options().verify_plan(&plan).map_err(refusal)?;
    Ok(plan)
}

async fn physical_plan(
    ctx: &SessionContext,
    plan: &LogicalPlan,
    limits: &QueryLimits,
) -> Result<Arc<dyn ExecutionPlan>> {
    let physical = ctx.state().create_physical_plan(plan).await?;
    execution::check_joins(&physical, limits)?;
    let batch_size = ctx.state().config().batch_size();
    execution::check_constants(&physical, limits, batch_size)?;
    Ok(crate::loop_joins::cap_build_sides(
        physical,
        limits.max_nested_loop_build_rows,
    )?)
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
