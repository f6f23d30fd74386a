//! The `calls` view as a table: stored closed days plus computed recent ones.
//!
//! `calls` is defined by `sql/views/calls.sql` over `queue_log`. Computing
//! it groups every line of every visit, so over a month of a busy center it
//! is the bulk of any KPI query. Closed days are stored in the derived
//! table `calls_by_day` (see [`crate::rollup`]); at each scan this provider
//! finds the first day whose stored rows are not exact any more (`W`) and
//! plans
//!
//! ```text
//!   calls_by_day  WHERE enter_ts <  W          (stored, exact)
//!   UNION ALL
//!   calls.sql over queue_log WHERE ts >= W - 1 day
//!                 WHERE enter_ts >= W          (computed now)
//! ```
//!
//! With nothing stored, it is calls.sql over all of `queue_log`. Both
//! halves give the same rows for the same lines (the tests compare them).

use std::sync::Arc;

use arrow::datatypes::SchemaRef;
use async_trait::async_trait;
use chrono::NaiveDate;
use datafusion::catalog::Session;
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::common::{Column, ScalarValue};
use datafusion::datasource::{MemTable, TableProvider, provider_as_source};
use datafusion::error::{DataFusionError, Result as DfResult};
use datafusion::execution::context::SessionContext;
use datafusion::execution::{SessionState, SessionStateBuilder};
use datafusion::logical_expr::{Expr, LogicalPlan, LogicalPlanBuilder, TableType, col, lit};
use datafusion::physical_plan::ExecutionPlan;

use crate::error::{EngineError, Result};
use crate::live::LiveTable;
use crate::rollup::DayInputs;
use crate::scope::{Scope, ScopedBy};
use crate::tables::{QUEUE_LOG, QUEUE_LOG_SCHEMA};

/// The definition of `calls`.
pub const CALLS_SQL: &str = include_str!("../../sql/views/calls.sql");

/// Microseconds in a day.
pub(crate) const DAY_US: i64 = 86_400_000_000;

/// `calls.sql` planned in `ctx`, whose `queue_log` it reads.
pub(crate) async fn computed_plan(ctx: &SessionContext) -> Result<LogicalPlan> {
    ctx.state()
        .create_logical_plan(CALLS_SQL)
        .await
        .map_err(|e| EngineError::InvalidSetting {
            name: "view calls".into(),
            reason: e.strip_backtrace(),
        })
}

/// The schema of `calls` (planned over an empty `queue_log`).
pub async fn calls_schema() -> Result<SchemaRef> {
    let ctx = SessionContext::new();
    let empty = MemTable::try_new(QUEUE_LOG_SCHEMA.clone(), vec![vec![]])?;
    ctx.register_table(QUEUE_LOG, Arc::new(empty))?;
    Ok(Arc::new(
        computed_plan(&ctx).await?.schema().as_arrow().clone(),
    ))
}

/// A UTC timestamp literal of `us` microseconds.
pub(crate) fn ts_literal(us: i64) -> Expr {
    lit(ScalarValue::TimestampMicrosecond(
        Some(us),
        Some(Arc::from("UTC")),
    ))
}

/// Midnight UTC of `date`, in microseconds.
pub(crate) fn midnight_us(date: NaiveDate) -> i64 {
    date.and_hms_opt(0, 0, 0)
        .map_or(0, |t| t.and_utc().timestamp_micros())
}

/// `plan` (calls.sql) reading only the queue_log lines with `from <= ts <
/// until`, and keeping only visits that entered in `[enter_from,
/// enter_until)` (bounds in µs; `None` is unbounded).
pub(crate) fn computed_between(
    plan: LogicalPlan,
    lines: (Option<i64>, Option<i64>),
    entered: (Option<i64>, Option<i64>),
) -> DfResult<LogicalPlan> {
    let plan = plan
        .transform_up(|node| match node {
            LogicalPlan::TableScan(scan) if scan.table_name.table() == QUEUE_LOG => {
                let ts = Expr::Column(Column::new(Some(scan.table_name.clone()), "ts"));
                match range(ts, lines) {
                    Some(filter) => Ok(Transformed::yes(
                        LogicalPlanBuilder::from(LogicalPlan::TableScan(scan))
                            .filter(filter)?
                            .build()?,
                    )),
                    None => Ok(Transformed::no(LogicalPlan::TableScan(scan))),
                }
            }
            other => Ok(Transformed::no(other)),
        })?
        .data;
    filtered(plan, range(col("enter_ts"), entered))
}

/// `lower <= expr < upper`, for the bounds given.
fn range(expr: Expr, (lower, upper): (Option<i64>, Option<i64>)) -> Option<Expr> {
    let lower = lower.map(|l| expr.clone().gt_eq(ts_literal(l)));
    let upper = upper.map(|u| expr.lt(ts_literal(u)));
    match (lower, upper) {
        (Some(l), Some(u)) => Some(l.and(u)),
        (l, u) => l.or(u),
    }
}

fn filtered(plan: LogicalPlan, filter: Option<Expr>) -> DfResult<LogicalPlan> {
    match filter {
        Some(f) => LogicalPlanBuilder::from(plan).filter(f)?.build(),
        None => Ok(plan),
    }
}

/// A scan of the stored days.
fn stored_scan(stored: &LiveTable) -> DfResult<LogicalPlanBuilder> {
    LogicalPlanBuilder::scan(
        crate::rollup::CALLS_BY_DAY,
        provider_as_source(Arc::new(stored.clone())),
        None,
    )
}

/// The `calls` table provider.
#[derive(Debug)]
pub struct CallsTable {
    /// calls.sql planned over the session's `queue_log`.
    computed: LogicalPlan,
    schema: SchemaRef,
    queue_log: LiveTable,
    stored: LiveTable,
    /// The reader's scope over stored rows (computed rows are scoped by
    /// the session's `queue_log`).
    stored_scope: Option<Expr>,
}

impl CallsTable {
    /// `calls` in `ctx` (which has `queue_log` registered, scoped as the
    /// reader may see it), reading stored days from `stored`
    /// (`calls_by_day`) as `scope` shows them.
    pub async fn new(
        ctx: &SessionContext,
        queue_log: LiveTable,
        stored: LiveTable,
        scope: &Scope,
    ) -> Result<Self> {
        let computed = computed_plan(ctx).await?;
        let schema = Arc::new(computed.schema().as_arrow().clone());
        // The scope's predicate is resolved against the stored table's
        // own scan (its columns are `calls_by_day.…`), which is what it
        // filters; the computed half is scoped by the session's queue_log.
        let stored_scan = stored_scan(&stored)?.build()?;
        let stored_scope = scope.filter(ctx, &stored_scan, ScopedBy::Queue)?;
        Ok(CallsTable {
            computed,
            schema,
            queue_log,
            stored,
            stored_scope,
        })
    }

    /// The first day whose visits are not all stored exactly (midnight UTC,
    /// µs), or `None` when nothing stored can be used.
    fn stored_until(&self) -> Option<i64> {
        let inputs = DayInputs::of(&self.queue_log.snapshot(), CALLS_SQL)?;
        let mut until = midnight_us(inputs.fresh_until(&self.stored.snapshot())?);
        // Lines held in memory will change the days around theirs.
        if let Some(min_ts) = self.queue_log.memory_min_ts() {
            until = until.min(min_ts.div_euclid(DAY_US) * DAY_US - DAY_US);
        }
        Some(until)
    }

    fn logical_plan(&self) -> DfResult<LogicalPlan> {
        let Some(until) = self.stored_until() else {
            return Ok(self.computed.clone());
        };
        let stored = stored_scan(&self.stored)?.filter(col("enter_ts").lt(ts_literal(until)))?;
        let stored = match &self.stored_scope {
            Some(scope) => stored.filter(scope.clone())?,
            None => stored,
        }
        .build()?;
        let recent = computed_between(
            self.computed.clone(),
            (Some(until - DAY_US), None),
            (Some(until), None),
        )?;
        LogicalPlanBuilder::from(stored).union(recent)?.build()
    }
}

#[async_trait]
impl TableProvider for CallsTable {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    fn table_type(&self) -> TableType {
        TableType::View
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        _filters: &[Expr],
        _limit: Option<usize>,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        let mut plan = self.logical_plan()?;
        if let Some(projection) = projection {
            let columns: Vec<Expr> = projection
                .iter()
                .map(|&i| col(self.schema.field(i).name()))
                .collect();
            plan = LogicalPlanBuilder::from(plan).project(columns)?.build()?;
        }
        // Plan the subtree without physical optimization: the enclosing
        // query optimizes the whole tree once (optimizing twice breaks
        // rules that must run in order, such as join selection).
        let state = state
            .as_any()
            .downcast_ref::<SessionState>()
            .ok_or_else(|| {
                DataFusionError::Internal("calls scanned outside a SessionState".into())
            })?;
        let unoptimized = SessionStateBuilder::new_from_existing(state.clone())
            .with_physical_optimizer_rules(vec![])
            .build();
        unoptimized.create_physical_plan(&plan).await
    }
}
