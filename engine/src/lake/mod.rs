//! The lake: Hive-partitioned Parquet tables under one folder, each with
//! its own commit log.
//!
//! ```text
//! <lake>/
//!   _writer.lock                     one writer process at a time
//!   queue_log/_log/…                 commit log (see [`log`])
//!   queue_log/date=2024-06-03/part-<seq>-<n>.parquet
//! ```

pub mod crash;
pub mod lock;
pub mod log;
pub mod store;
pub mod writer;

use std::path::{Path, PathBuf};

use arrow::datatypes::SchemaRef;
use object_store::path::Path as ObjectPath;

use crate::error::Result;
pub use lock::WriterLock;
pub use log::{DataFile, Snapshot, SourcePosition};
pub use store::LakeStore;
pub use writer::{FileSet, TableWriter, WriterSettings};

/// A lake folder.
#[derive(Clone, Debug)]
pub struct Lake {
    store: LakeStore,
    root: PathBuf,
}

impl Lake {
    /// Opens (creating if needed) the lake in a local folder.
    pub fn open_local(root: &Path) -> Result<Self> {
        let store = LakeStore::local(root)?;
        let root = store.local_root().unwrap_or(root).to_path_buf();
        Ok(Lake { store, root })
    }

    /// The lake's folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The storage handle.
    pub fn store(&self) -> &LakeStore {
        &self.store
    }

    /// Takes the lake's writer lock.
    pub fn lock_writer(&self) -> Result<WriterLock> {
        WriterLock::acquire(&self.root)
    }

    /// The committed state of a table (empty if it has no commit yet).
    pub async fn snapshot(&self, table: &str) -> Result<Snapshot> {
        log::load_snapshot(&self.store, &ObjectPath::from(table)).await
    }

    /// A writer for `table`; the caller proves it holds the lock.
    pub async fn table_writer(
        &self,
        _lock: &WriterLock,
        table: &str,
        schema: SchemaRef,
        ts_column: usize,
        settings: WriterSettings,
    ) -> Result<TableWriter> {
        TableWriter::open(self.store.clone(), table, schema, ts_column, settings).await
    }

    /// The absolute local path of a table's data file.
    pub fn file_path(&self, table: &str, file: &DataFile) -> PathBuf {
        self.root.join(table).join(&file.path)
    }
}
