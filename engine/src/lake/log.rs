//! The commit log: which data files make up a table, and how far each
//! source has been read into them.
//!
//! ```text
//!  <table>/_log/00000000000000000001.json             commit 1
//!  <table>/_log/00000000000000000002.json             commit 2
//!  <table>/_log/00000000000000000064.checkpoint.json  full state after 64
//!  <table>/_log/00000000000000000065.json             ...
//! ```
//!
//! A commit record lists the data files it adds and removes and the source
//! positions it advances. It is created with create-if-absent semantics,
//! so writing it is the single atomic step that makes its files and its
//! positions visible together: exactly-once per committed file. Data files
//! not named by a commit are invisible orphans and are vacuumed.
//!
//! Every record carries a format name and version; readers refuse versions
//! they do not know instead of guessing.

use std::collections::BTreeMap;

use object_store::path::Path as ObjectPath;
use serde::{Deserialize, Serialize};

use crate::error::{EngineError, Result};
use crate::lake::store::LakeStore;

/// Version of the commit and checkpoint record formats.
pub const LOG_FORMAT_VERSION: u32 = 1;
const COMMIT_FORMAT: &str = "queuelake.commit";
const CHECKPOINT_FORMAT: &str = "queuelake.checkpoint";
/// A checkpoint record is written after this many commits.
pub const CHECKPOINT_EVERY: u64 = 64;

/// How far one source has been read into the table.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourcePosition {
    /// Byte offset of the first byte not yet in the lake.
    pub offset: u64,
    /// Hash of the (up to 64) bytes just before `offset`, to notice a file
    /// rewritten under the same identity.
    pub tail_hash: u64,
    /// Where the source was last seen (informational; identity is the key).
    pub path: String,
    /// Lines of this source committed so far.
    pub lines: u64,
    /// Only on a tailed path's start marker (key `tail:<path>`): the wall
    /// clock (Unix ms) at which queuelake first followed that path.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub followed_since_ms: Option<i64>,
}

/// One data file of a table.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DataFile {
    /// Path relative to the table folder, e.g. `date=2024-06-03/part-….parquet`.
    pub path: String,
    /// Rows in the file.
    pub rows: u64,
    /// Size in bytes.
    pub bytes: u64,
}

/// One commit record.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommitRecord {
    /// Always `queuelake.commit`.
    pub format: String,
    /// [`LOG_FORMAT_VERSION`] when written.
    pub version: u32,
    /// Sequence number, from 1, without gaps.
    pub seq: u64,
    /// `append` or `compact`.
    pub operation: String,
    /// Milliseconds since the Unix epoch.
    pub committed_at_ms: i64,
    /// Files made visible.
    pub add: Vec<DataFile>,
    /// Files no longer part of the table (paths).
    pub remove: Vec<String>,
    /// Source positions advanced by this commit.
    pub sources: BTreeMap<String, SourcePosition>,
    /// Derived tables only: per partition it (re)computes, a fingerprint of
    /// the inputs it was computed from (absent from records without any).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub inputs: BTreeMap<String, String>,
}

/// A checkpoint record: the whole table state after commit `seq`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckpointRecord {
    /// Always `queuelake.checkpoint`.
    pub format: String,
    /// [`LOG_FORMAT_VERSION`] when written.
    pub version: u32,
    /// The last commit folded into this state.
    pub seq: u64,
    /// Live files.
    pub files: Vec<DataFile>,
    /// Source positions.
    pub sources: BTreeMap<String, SourcePosition>,
    /// Input fingerprints of derived partitions.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub inputs: BTreeMap<String, String>,
}

/// The state of a table at one commit.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Snapshot {
    /// The last commit applied (0: empty table).
    pub seq: u64,
    /// Live files, in commit order.
    pub files: Vec<DataFile>,
    /// Source positions.
    pub sources: BTreeMap<String, SourcePosition>,
    /// Input fingerprints of derived partitions (see [`CommitRecord::inputs`]).
    pub inputs: BTreeMap<String, String>,
}

impl Snapshot {
    /// Applies one commit.
    pub fn apply(&mut self, commit: &CommitRecord) {
        self.files.retain(|f| !commit.remove.contains(&f.path));
        self.files.extend(commit.add.iter().cloned());
        for (id, pos) in &commit.sources {
            self.sources.insert(id.clone(), pos.clone());
        }
        for (partition, fingerprint) in &commit.inputs {
            self.inputs.insert(partition.clone(), fingerprint.clone());
        }
        self.seq = commit.seq;
    }

    /// Total rows in live files.
    pub fn rows(&self) -> u64 {
        self.files.iter().map(|f| f.rows).sum()
    }

    /// The checkpoint record of this state.
    pub fn to_checkpoint(&self) -> CheckpointRecord {
        CheckpointRecord {
            format: CHECKPOINT_FORMAT.into(),
            version: LOG_FORMAT_VERSION,
            seq: self.seq,
            files: self.files.clone(),
            sources: self.sources.clone(),
            inputs: self.inputs.clone(),
        }
    }
}

impl CommitRecord {
    /// A new commit record of the current format.
    pub fn new(seq: u64, operation: &str, add: Vec<DataFile>, remove: Vec<String>) -> Self {
        CommitRecord {
            format: COMMIT_FORMAT.into(),
            version: LOG_FORMAT_VERSION,
            seq,
            operation: operation.into(),
            committed_at_ms: chrono::Utc::now().timestamp_millis(),
            add,
            remove,
            sources: BTreeMap::new(),
            inputs: BTreeMap::new(),
        }
    }
}

/// Path of commit `seq` of the table at `table`.
pub fn commit_path(table: &ObjectPath, seq: u64) -> ObjectPath {
    table.clone().join("_log").join(format!("{seq:020}.json"))
}

/// Path of the checkpoint after commit `seq`.
pub fn checkpoint_path(table: &ObjectPath, seq: u64) -> ObjectPath {
    table
        .clone()
        .join("_log")
        .join(format!("{seq:020}.checkpoint.json"))
}

/// What a log folder holds, by sequence number.
#[derive(Debug, Default)]
struct LogListing {
    commits: Vec<u64>,
    checkpoints: Vec<u64>,
}

async fn list_log(store: &LakeStore, table: &ObjectPath) -> Result<LogListing> {
    let mut listing = LogListing::default();
    for meta in store.list(&table.clone().join("_log")).await? {
        let Some(name) = meta.location.filename() else {
            continue;
        };
        if let Some(seq) = name
            .strip_suffix(".checkpoint.json")
            .and_then(|s| s.parse().ok())
        {
            listing.checkpoints.push(seq);
        } else if let Some(seq) = name.strip_suffix(".json").and_then(|s| s.parse().ok()) {
            listing.commits.push(seq);
        }
    }
    listing.commits.sort_unstable();
    listing.checkpoints.sort_unstable();
    Ok(listing)
}

fn decode<T: serde::de::DeserializeOwned>(path: &ObjectPath, bytes: &[u8]) -> Result<T> {
    serde_json::from_slice(bytes).map_err(|e| EngineError::CommitLog {
        path: path.to_string(),
        reason: e.to_string(),
    })
}

fn check_version(path: &ObjectPath, format: &str, expected: &str, version: u32) -> Result<()> {
    if format != expected || version != LOG_FORMAT_VERSION {
        return Err(EngineError::CommitLog {
            path: path.to_string(),
            reason: format!(
                "format {format:?} version {version}; this queuelake reads {expected:?} version {LOG_FORMAT_VERSION}"
            ),
        });
    }
    Ok(())
}

/// Reads the table's current state: the newest checkpoint, then every
/// commit after it, in order.
pub async fn load_snapshot(store: &LakeStore, table: &ObjectPath) -> Result<Snapshot> {
    let listing = list_log(store, table).await?;
    let mut snapshot = Snapshot::default();
    if let Some(&seq) = listing.checkpoints.last() {
        let path = checkpoint_path(table, seq);
        let cp: CheckpointRecord = decode(&path, &store.get(&path).await?)?;
        check_version(&path, &cp.format, CHECKPOINT_FORMAT, cp.version)?;
        snapshot = Snapshot {
            seq: cp.seq,
            files: cp.files,
            sources: cp.sources,
            inputs: cp.inputs,
        };
    }
    let after = snapshot.seq;
    for &seq in listing.commits.iter().filter(|&&s| s > after) {
        if seq != snapshot.seq + 1 {
            return Err(EngineError::CommitLog {
                path: commit_path(table, seq).to_string(),
                reason: format!("commit {} is missing", snapshot.seq + 1),
            });
        }
        let path = commit_path(table, seq);
        let commit: CommitRecord = decode(&path, &store.get(&path).await?)?;
        check_version(&path, &commit.format, COMMIT_FORMAT, commit.version)?;
        snapshot.apply(&commit);
    }
    Ok(snapshot)
}

/// Deletes commit and checkpoint records made redundant by the checkpoint
/// before the newest one (the newest and its predecessor stay, so a reader
/// that listed the log a moment ago still finds what it listed).
pub async fn prune_log(store: &LakeStore, table: &ObjectPath) -> Result<()> {
    let listing = list_log(store, table).await?;
    let Some(&keep_from) = listing.checkpoints.iter().rev().nth(1) else {
        return Ok(());
    };
    for &seq in listing.commits.iter().filter(|&&s| s <= keep_from) {
        store.delete(&commit_path(table, seq)).await?;
    }
    for &seq in listing.checkpoints.iter().filter(|&&s| s < keep_from) {
        store.delete(&checkpoint_path(table, seq)).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Golden round trip: the on-disk commit format must not drift silently.
    #[test]
    fn commit_record_golden() {
        let golden = r#"{"format":"queuelake.commit","version":1,"seq":7,"operation":"append","committed_at_ms":1700000000000,"add":[{"path":"date=2024-06-03/part-00000000000000000007-0.parquet","rows":8,"bytes":4096}],"remove":[],"sources":{"ql-00ff":{"offset":812,"tail_hash":42,"path":"/var/log/asterisk/queue_log","lines":8}}}"#;
        let record: CommitRecord = serde_json::from_str(golden).unwrap();
        assert_eq!(record.seq, 7);
        assert_eq!(record.sources["ql-00ff"].offset, 812);
        assert_eq!(serde_json::to_string(&record).unwrap(), golden);
    }

    #[test]
    fn snapshot_applies_adds_removes_and_positions() {
        let file = |p: &str| DataFile {
            path: p.into(),
            rows: 1,
            bytes: 1,
        };
        let mut s = Snapshot::default();
        let mut c1 = CommitRecord::new(1, "append", vec![file("a"), file("b")], vec![]);
        c1.sources.insert(
            "x".into(),
            SourcePosition {
                offset: 10,
                tail_hash: 0,
                path: "p".into(),
                lines: 2,
                followed_since_ms: None,
            },
        );
        s.apply(&c1);
        let c2 = CommitRecord::new(2, "compact", vec![file("c")], vec!["a".into(), "b".into()]);
        s.apply(&c2);
        assert_eq!(s.seq, 2);
        assert_eq!(s.files, vec![file("c")]);
        assert_eq!(s.sources["x"].offset, 10);
    }
}
