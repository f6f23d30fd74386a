//! Joins without equality keys, kept stoppable.
//!
//! DataFusion's nested-loop join compares each build row with a probe
//! batch in turn, and does a whole probe batch against the whole build
//! side in one poll, without yielding: with 300 000 build rows that is
//! seconds of work in which a cancelled or timed-out query cannot stop
//! (measured: an aborted join over 300 000 × 3 000 000 rows ran 12 s past
//! its deadline). Slicing the probe side does not help — the work of a
//! poll is one filter call per build row — so the build side is bounded:
//! its rows are counted as they are collected, and past
//! `[query] max_nested_loop_build_rows` the query fails naming the limit.
//! That bounds the time between two yields, so an aborted join stops
//! within about that many filter calls. Sides with row estimates are
//! refused before the join starts ([`crate::execution::check_joins`]).

use std::fmt;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use datafusion::common::tree_node::{Transformed, TreeNode, TreeNodeRecursion};
use datafusion::common::{DataFusionError, Result};
use datafusion::execution::{RecordBatchStream, SendableRecordBatchStream, TaskContext};
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_plan::joins::{CrossJoinExec, NestedLoopJoinExec};
use datafusion::physical_plan::{
    ChildrenPropertiesMode, DisplayAs, DisplayFormatType, ExecutionPlan, PlanProperties,
    ReplaceChildrenOptions,
};
use futures::{Stream, StreamExt};

/// Puts [`BuildRowsCapExec`] under the build side of every nested-loop and
/// cross join of `plan`.
pub fn cap_build_sides(
    plan: Arc<dyn ExecutionPlan>,
    max_rows: u64,
) -> Result<Arc<dyn ExecutionPlan>> {
    plan.transform_up(|node| {
        let any: &dyn ExecutionPlan = node.as_ref();
        if !(any.is::<NestedLoopJoinExec>() || any.is::<CrossJoinExec>()) {
            return Ok(Transformed::no(node));
        }
        let mut children: Vec<Arc<dyn ExecutionPlan>> =
            node.children().into_iter().cloned().collect();
        // The build side is the left one, collected before probing.
        let Some(build) = children.first_mut() else {
            return Ok(Transformed::no(node));
        };
        *build = Arc::new(BuildRowsCapExec::new(Arc::clone(build), max_rows));
        let capped = Arc::clone(&node).replace_children(
            children,
            ReplaceChildrenOptions::new(ChildrenPropertiesMode::Keep),
        )?;
        Ok(Transformed::yes(capped))
    })
    .map(|t| t.data)
}

/// Its input, failing once it has passed `max_rows` rows.
#[derive(Debug, Clone)]
pub struct BuildRowsCapExec {
    input: Arc<dyn ExecutionPlan>,
    properties: Arc<PlanProperties>,
    max_rows: u64,
}

impl BuildRowsCapExec {
    /// Caps `input` at `max_rows` rows.
    pub fn new(input: Arc<dyn ExecutionPlan>, max_rows: u64) -> Self {
        let properties = Arc::clone(input.properties());
        BuildRowsCapExec {
            input,
            properties,
            max_rows,
        }
    }
}

impl DisplayAs for BuildRowsCapExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BuildRowsCapExec: max_rows={}", self.max_rows)
    }
}

impl ExecutionPlan for BuildRowsCapExec {
    fn name(&self) -> &str {
        "BuildRowsCapExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        &self.properties
    }

    fn maintains_input_order(&self) -> Vec<bool> {
        vec![true]
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![&self.input]
    }

    fn apply_expressions(
        &self,
        _f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<TreeNodeRecursion>,
    ) -> Result<TreeNodeRecursion> {
        Ok(TreeNodeRecursion::Continue)
    }

    fn replace_children(
        self: Arc<Self>,
        mut children: Vec<Arc<dyn ExecutionPlan>>,
        _options: ReplaceChildrenOptions,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        match children.pop() {
            Some(input) if children.is_empty() => {
                Ok(Arc::new(BuildRowsCapExec::new(input, self.max_rows)))
            }
            _ => Err(DataFusionError::Internal(
                "BuildRowsCapExec takes one child".into(),
            )),
        }
    }

    fn with_new_children(
        self: Arc<Self>,
        children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        self.replace_children(
            children,
            ReplaceChildrenOptions::new(ChildrenPropertiesMode::Recompute),
        )
    }

    fn execute(
        &self,
        partition: usize,
        context: Arc<TaskContext>,
    ) -> Result<SendableRecordBatchStream> {
        Ok(Box::pin(Capped {
            input: self.input.execute(partition, context)?,
            rows: 0,
            max_rows: self.max_rows,
        }))
    }
}

struct Capped {
    input: SendableRecordBatchStream,
    rows: u64,
    max_rows: u64,
}

impl Stream for Capped {
    type Item = Result<RecordBatch>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let polled = self.input.poll_next_unpin(cx);
        if let Poll::Ready(Some(Ok(batch))) = &polled {
            self.rows += batch.num_rows() as u64;
            if self.rows > self.max_rows {
                return Poll::Ready(Some(Err(DataFusionError::ResourcesExhausted(format!(
                    "a join without an equality condition has more than {} rows on its build side ([query] max_nested_loop_build_rows); join on equal keys or filter the sides first",
                    self.max_rows
                )))));
            }
        }
        polled
    }
}

impl RecordBatchStream for Capped {
    fn schema(&self) -> SchemaRef {
        self.input.schema()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::execution::context::{SQLOptions, SessionContext};

    async fn capped_count(ctx: &SessionContext, sql: &str, max_rows: u64) -> Result<i64> {
        let df = ctx.sql_with_options(sql, SQLOptions::new()).await?;
        let plan = cap_build_sides(df.create_physical_plan().await?, max_rows)?;
        let text = datafusion::physical_plan::displayable(plan.as_ref())
            .indent(false)
            .to_string();
        assert!(text.contains("BuildRowsCapExec"), "{text}");
        let batches = datafusion::physical_plan::collect(plan, ctx.task_ctx()).await?;
        Ok(batches[0]
            .column(0)
            .as_any()
            .downcast_ref::<arrow::array::Int64Array>()
            .map_or(-1, |a| a.value(0)))
    }

    #[tokio::test]
    async fn joins_under_the_cap_answer_and_over_it_fail_by_name() {
        let ctx = SessionContext::new();
        let join = "SELECT count(*) FROM generate_series(1, 2000) a, generate_series(1, 3000) b WHERE a.value + b.value = 7";
        // a + b = 7 with both at least 1: a = 1..6.
        assert_eq!(capped_count(&ctx, join, 5_000).await.unwrap(), 6);
        let cross =
            "SELECT count(*) FROM generate_series(1, 200) a CROSS JOIN generate_series(1, 300) b";
        assert_eq!(capped_count(&ctx, cross, 5_000).await.unwrap(), 60_000);
        let why = capped_count(&ctx, join, 1_000)
            .await
            .unwrap_err()
            .to_string();
        assert!(why.contains("max_nested_loop_build_rows"), "{why}");
    }
}
