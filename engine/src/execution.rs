//! Running a checked read: physical planning with the join guard, and the
//! result's bounds (rows, bytes) on the way out, whether the rows are
//! collected (HTTP, CLI, reports) or streamed (the PostgreSQL port).
//!
//! Joins without an equality condition run as nested loops or cross
//! products: one over `queue_log` three times pins a thread for hours
//! without yielding. Such a join is refused when the row estimates of its
//! sides multiply past `[query] max_nested_loop_pairs` (a side without an
//! estimate counts as small: computed views have none, and are bounded by
//! the deadline and the memory pool).

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use arrow::array::RecordBatch;
use datafusion::common::tree_node::{TreeNode, TreeNodeRecursion};
use datafusion::execution::memory_pool::{MemoryConsumer, MemoryReservation};
use datafusion::physical_expr::expressions::Literal;
use datafusion::physical_plan::joins::{CrossJoinExec, NestedLoopJoinExec};
use datafusion::physical_plan::statistics::{StatisticsArgs, StatisticsContext};
use datafusion::physical_plan::{ExecutionPlan, SendableRecordBatchStream};
use datafusion::prelude::SessionContext;
use futures::{Stream, StreamExt};
use tokio::sync::mpsc;

use crate::error::{EngineError, Result};
use crate::query_runtime::AbortOnDrop;
use crate::session::QueryLimits;

/// Refuses a plan whose joins without equality keys would compare more
/// row pairs than `limits.max_nested_loop_pairs`.
pub fn check_joins(plan: &Arc<dyn ExecutionPlan>, limits: &QueryLimits) -> Result<()> {
    let node: &dyn ExecutionPlan = plan.as_ref();
    if node.is::<NestedLoopJoinExec>() || node.is::<CrossJoinExec>() {
        let statistics = StatisticsContext::new();
        let rows = |side: &Arc<dyn ExecutionPlan>| -> Option<u128> {
            let stats = statistics
                .compute(side.as_ref(), &StatisticsArgs::new())
                .ok()?;
            stats.num_rows.get_value().map(|n| *n as u128)
        };
        let children = plan.children();
        if let [left, right] = children.as_slice()
            && let (Some(l), Some(r)) = (rows(left), rows(right))
            && l.saturating_mul(r) > u128::from(limits.max_nested_loop_pairs)
        {
            return Err(EngineError::StatementTooComplex(format!(
                "a join without an equality condition would compare {l} × {r} rows, over {} pairs ([query] max_nested_loop_pairs); join on equal keys or filter the sides first",
                limits.max_nested_loop_pairs
            )));
        }
    }
    for child in plan.children() {
        check_joins(child, limits)?;
    }
    Ok(())
}

/// Refuses a plan with a constant too large to be repeated on every row
/// of a batch: a literal (written, or folded from `repeat(…)`) becomes a
/// column of `batch_size` copies, outside any memory pool, so it may have
/// at most `max_result_bytes / batch_size` bytes (8 KiB by default).
pub fn check_constants(
    plan: &Arc<dyn ExecutionPlan>,
    limits: &QueryLimits,
    batch_size: usize,
) -> Result<()> {
    let max = limits.max_result_bytes / batch_size.max(1) as u64;
    let mut found = None;
    plan.apply(|node| {
        node.apply_expressions(&mut |root| {
            root.apply(|expr| {
                if let Some(literal) = expr.downcast_ref::<Literal>() {
                    let bytes = literal.value().size() as u64;
                    if bytes > max {
                        found = Some(bytes);
                        return Ok(TreeNodeRecursion::Stop);
                    }
                }
                Ok(TreeNodeRecursion::Continue)
            })
        })
    })?;
    match found {
        Some(bytes) => Err(EngineError::StatementTooComplex(format!(
            "a constant of {bytes} bytes would be repeated on every row (up to {batch_size} at once); constants may have {max} bytes ([query] max_result_bytes / batch size)"
        ))),
        None => Ok(()),
    }
}

/// Counts a result's rows and bytes against the limits.
pub struct ResultBudget {
    rows: u64,
    bytes: u64,
    max_rows: u64,
    max_bytes: u64,
}

impl ResultBudget {
    /// A budget of `limits`' result sizes.
    pub fn new(limits: &QueryLimits) -> Self {
        ResultBudget {
            rows: 0,
            bytes: 0,
            max_rows: limits.max_result_rows,
            max_bytes: limits.max_result_bytes,
        }
    }

    /// Takes `batch` into the result, or says which limit it passes.
    pub fn admit(&mut self, batch: &RecordBatch) -> Result<()> {
        self.rows += batch.num_rows() as u64;
        self.bytes += batch.get_array_memory_size() as u64;
        if self.rows > self.max_rows {
            return Err(EngineError::ResultTooLarge(format!(
                "the result has more than {} rows ([query] max_result_rows); add a LIMIT or aggregate",
                self.max_rows
            )));
        }
        if self.bytes > self.max_bytes {
            return Err(EngineError::ResultTooLarge(format!(
                "the result is larger than {} bytes ([query] max_result_bytes); select fewer columns or rows",
                self.max_bytes
            )));
        }
        Ok(())
    }
}

/// Collects `stream` within the budget, holding the collected batches in
/// the query's memory pool (a result is memory like a sort's).
pub async fn collect(
    ctx: &SessionContext,
    mut stream: SendableRecordBatchStream,
    limits: &QueryLimits,
) -> Result<Vec<RecordBatch>> {
    let mut budget = ResultBudget::new(limits);
    let reservation: MemoryReservation =
        MemoryConsumer::new("query result").register(&ctx.runtime_env().memory_pool);
    let mut batches = Vec::new();
    while let Some(batch) = stream.next().await {
        let batch = batch?;
        budget.admit(&batch)?;
        reservation.try_grow(batch.get_array_memory_size())?;
        batches.push(batch);
    }
    // The reservation ends with the query; the caller owns the rows now.
    reservation.free();
    Ok(batches)
}

/// A read's rows as the query pool produces them, within the budget; the
/// query stops when this is dropped.
pub struct RowStream {
    rows: mpsc::Receiver<Result<RecordBatch>>,
    _task: AbortOnDrop<()>,
}

impl RowStream {
    /// Wraps the receiving end of a producer task.
    pub(crate) fn new(rows: mpsc::Receiver<Result<RecordBatch>>, task: AbortOnDrop<()>) -> Self {
        RowStream { rows, _task: task }
    }
}

impl Stream for RowStream {
    type Item = Result<RecordBatch>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.rows.poll_recv(cx)
    }
}

/// Moves `stream`'s batches into `sender` within the budget (run on the
/// query pool; ends at the first error or when the receiver is gone).
pub(crate) async fn forward(
    mut stream: SendableRecordBatchStream,
    sender: mpsc::Sender<Result<RecordBatch>>,
    limits: QueryLimits,
) {
    let mut budget = ResultBudget::new(&limits);
    while let Some(batch) = stream.next().await {
        let item = batch
            .map_err(EngineError::from)
            .and_then(|b| budget.admit(&b).map(|()| b));
        let failed = item.is_err();
        if sender.send(item).await.is_err() || failed {
            return;
        }
    }
}
