//! A lake table as DataFusion sees it: the committed Parquet files plus the
//! rows a running source holds in memory and has not committed yet.
//!
//! The writer side publishes through [`LiveTable`]: rows arrive with
//! [`LiveTable::push_rows`]; after a commit, [`LiveTable::publish_commit`]
//! swaps in the new file list and drops the rows that commit covered, in one
//! step under the lock, so a query never sees a row twice or misses one.

use std::sync::{Arc, RwLock};

use arrow::array::{AsArray, RecordBatch};
use arrow::datatypes::{SchemaRef, TimestampMicrosecondType};
use async_trait::async_trait;
use datafusion::catalog::Session;
use datafusion::datasource::TableProvider;
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::{
    ListingOptions, ListingTable, ListingTableConfig, ListingTableUrl,
};
use datafusion::datasource::memory::MemorySourceConfig;
use datafusion::error::Result as DfResult;
use datafusion::logical_expr::{Expr, TableProviderFilterPushDown, TableType};
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::empty::EmptyExec;
use datafusion::physical_plan::union::UnionExec;

use crate::lake::{Lake, Snapshot};

/// Shared, swappable state of one table.
#[derive(Default)]
struct State {
    /// The last published commit.
    snapshot: Arc<Snapshot>,
    /// Files of the last published commit, as DataFusion listing URLs.
    files: Vec<ListingTableUrl>,
    /// A provider over `files`, built once per commit.
    listing: Option<Arc<ListingTable>>,
    /// Rows not committed yet, in arrival order.
    memory: Vec<RecordBatch>,
    memory_rows: usize,
    /// Rows pushed since start, and the newest `ts` among them (µs).
    pushed: Pushed,
}

/// What sources have pushed into a table since start.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Pushed {
    /// Rows.
    pub rows: u64,
    /// The newest `ts` of those rows (µs), if any had one.
    pub newest_ts_us: Option<i64>,
}

/// One lake table, readable by DataFusion, updated by its writer.
#[derive(Clone)]
pub struct LiveTable {
    name: String,
    schema: SchemaRef,
    lake: Lake,
    state: Arc<RwLock<State>>,
}

impl std::fmt::Debug for LiveTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveTable")
            .field("name", &self.name)
            .finish()
    }
}

impl LiveTable {
    /// A table showing `snapshot`'s files and no in-memory rows.
    pub fn new(
        lake: Lake,
        name: &str,
        schema: SchemaRef,
        snapshot: &Snapshot,
    ) -> crate::Result<Self> {
        let table = LiveTable {
            name: name.into(),
            schema,
            lake,
            state: Arc::default(),
        };
        table.publish_commit(snapshot, 0)?;
        Ok(table)
    }

    /// The table's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Adds rows that are read from a source but not committed.
    pub fn push_rows(&self, batch: RecordBatch) {
        if batch.num_rows() == 0 {
            return;
        }
        let newest = self.schema.column_with_name("ts").and_then(|(index, _)| {
            let ts = batch
                .column(index)
                .as_primitive_opt::<TimestampMicrosecondType>()?;
            arrow::compute::max(ts)
        });
        let mut state = self.state.write().unwrap_or_else(|e| e.into_inner());
        state.memory_rows += batch.num_rows();
        state.pushed.rows += batch.num_rows() as u64;
        state.pushed.newest_ts_us = state.pushed.newest_ts_us.max(newest);
        state.memory.push(batch);
    }

    /// Rows pushed since start and the newest `ts` among them (for
    /// ingest-rate and lag metrics).
    pub fn pushed(&self) -> Pushed {
        self.state.read().unwrap_or_else(|e| e.into_inner()).pushed
    }

    /// The last published commit (files, positions, input fingerprints).
    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.state
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .snapshot
            .clone()
    }

    /// The earliest `ts` (µs) among the rows held in memory, if the table
    /// has a `ts` column and holds any.
    pub fn memory_min_ts(&self) -> Option<i64> {
        let (index, _) = self.schema.column_with_name("ts")?;
        let state = self.state.read().unwrap_or_else(|e| e.into_inner());
        state
            .memory
            .iter()
            .filter_map(|b| {
                let ts = b
                    .column(index)
                    .as_primitive_opt::<TimestampMicrosecondType>()?;
                arrow::compute::min(ts)
            })
            .min()
    }

    /// Rows held in memory.
    pub fn memory_rows(&self) -> usize {
        self.state
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .memory_rows
    }

    /// Shows a new commit and forgets the first `committed_rows` in-memory
    /// rows, which that commit wrote to files.
    pub fn publish_commit(&self, snapshot: &Snapshot, committed_rows: usize) -> crate::Result<()> {
        let files = snapshot
            .files
            .iter()
            .map(|f| {
                let path = self.lake.file_path(&self.name, f);
                ListingTableUrl::parse(format!("file://{}", path.display()))
            })
            .collect::<DfResult<Vec<_>>>()?;
        let mut state = self.state.write().unwrap_or_else(|e| e.into_inner());
        state.snapshot = Arc::new(snapshot.clone());
        state.files = files;
        state.listing = None;
        drop_front_rows(&mut state.memory, committed_rows);
        state.memory_rows = state.memory.iter().map(RecordBatch::num_rows).sum();
        Ok(())
    }

    fn listing(&self) -> DfResult<Option<Arc<ListingTable>>> {
        {
            let state = self.state.read().unwrap_or_else(|e| e.into_inner());
            if state.files.is_empty() || state.listing.is_some() {
                return Ok(state.listing.clone());
            }
        }
        let mut state = self.state.write().unwrap_or_else(|e| e.into_inner());
        if state.listing.is_none() && !state.files.is_empty() {
            let options = ListingOptions::new(Arc::new(ParquetFormat::default()))
                .with_file_extension(".parquet");
            let config = ListingTableConfig::new_with_multi_paths(state.files.clone())
                .with_listing_options(options)
                .with_schema(self.schema.clone());
            state.listing = Some(Arc::new(ListingTable::try_new(config)?));
        }
        Ok(state.listing.clone())
    }
}

/// Removes `n` rows from the front of `batches`.
fn drop_front_rows(batches: &mut Vec<RecordBatch>, mut n: usize) {
    while n > 0 && !batches.is_empty() {
        let rows = batches[0].num_rows();
        if rows <= n {
            batches.remove(0);
            n -= rows;
        } else {
            batches[0] = batches[0].slice(n, rows - n);
            n = 0;
        }
    }
}

#[async_trait]
impl TableProvider for LiveTable {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    fn table_type(&self) -> TableType {
        TableType::Base
    }

    fn supports_filters_pushdown(
        &self,
        filters: &[&Expr],
    ) -> DfResult<Vec<TableProviderFilterPushDown>> {
        Ok(vec![TableProviderFilterPushDown::Inexact; filters.len()])
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        let listing = self.listing()?;
        let memory = self
            .state
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .memory
            .clone();
        let mut plans: Vec<Arc<dyn ExecutionPlan>> = Vec::new();
        if let Some(listing) = listing {
            plans.push(listing.scan(state, projection, filters, limit).await?);
        }
        if !memory.is_empty() {
            plans.push(MemorySourceConfig::try_new_exec(
                &[memory],
                self.schema.clone(),
                projection.cloned(),
            )?);
        }
        if plans.is_empty() {
            let schema = match projection {
                Some(p) => Arc::new(self.schema.project(p)?),
                None => self.schema.clone(),
            };
            return Ok(Arc::new(EmptyExec::new(schema)));
        }
        UnionExec::try_new(plans)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::Int32Array;
    use arrow::datatypes::{DataType, Field, Schema};

    #[test]
    fn drop_front_rows_slices_across_batches() {
        let schema = Arc::new(Schema::new(vec![Field::new("x", DataType::Int32, false)]));
        let batch = |v: Vec<i32>| {
            RecordBatch::try_new(schema.clone(), vec![Arc::new(Int32Array::from(v))]).unwrap()
        };
        let mut batches = vec![batch(vec![1, 2]), batch(vec![3, 4, 5])];
        drop_front_rows(&mut batches, 3);
        assert_eq!(batches.len(), 1);
        assert_eq!(batches[0].num_rows(), 2);
        let first = batches[0]
            .column(0)
            .as_any()
            .downcast_ref::<Int32Array>()
            .unwrap()
            .value(0);
        assert_eq!(first, 4);
    }
}
