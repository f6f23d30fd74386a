//! Crash points for the kill tests: with `QUEUELAKE_CRASH_AT=<step>:<nth>`
//! in its environment, the process aborts — no destructor runs, nothing is
//! flushed, which is what kill -9 leaves — the `nth` time (from 1) a commit
//! reaches `<step>`. The tests run `serve` and `ingest` with each step in
//! turn and then check that a clean restart leaves every line in the lake
//! exactly once. Without the variable (production) a crash point costs one
//! read of a setting parsed once.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

/// The environment variable that arms a crash point.
pub const CRASH_AT_VAR: &str = "QUEUELAKE_CRASH_AT";

/// A point in the commit path after which a crash may be injected, in the
/// order a commit passes them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CommitStep {
    /// A commit's Parquet files are written; its record is not.
    DataFilesWritten,
    /// A commit record (append, replace or compact) is written; the
    /// checkpoint and compaction that may follow are not.
    CommitRecordWritten,
    /// A checkpoint record is written; older log records are not pruned.
    CheckpointWritten,
    /// Log records made redundant by a checkpoint are deleted.
    LogPruned,
    /// A compaction's merged files are written; its commit record is not.
    CompactFilesWritten,
    /// Unreferenced data files past their grace period are deleted.
    Vacuumed,
}

impl CommitStep {
    /// Every step, in commit order.
    pub const ALL: [CommitStep; 6] = [
        CommitStep::DataFilesWritten,
        CommitStep::CommitRecordWritten,
        CommitStep::CheckpointWritten,
        CommitStep::LogPruned,
        CommitStep::CompactFilesWritten,
        CommitStep::Vacuumed,
    ];

    /// The step's name in [`CRASH_AT_VAR`].
    pub fn name(self) -> &'static str {
        match self {
            CommitStep::DataFilesWritten => "data_files_written",
            CommitStep::CommitRecordWritten => "commit_record_written",
            CommitStep::CheckpointWritten => "checkpoint_written",
            CommitStep::LogPruned => "log_pruned",
            CommitStep::CompactFilesWritten => "compact_files_written",
            CommitStep::Vacuumed => "vacuumed",
        }
    }
}

/// The armed crash point, if any: a step name and which passage aborts.
fn armed() -> Option<&'static (String, u64)> {
    static ARMED: OnceLock<Option<(String, u64)>> = OnceLock::new();
    ARMED
        .get_or_init(|| {
            let value = std::env::var(CRASH_AT_VAR).ok()?;
            let (step, nth) = value.split_once(':').unwrap_or((&value, "1"));
            Some((step.to_owned(), nth.parse().unwrap_or(1)))
        })
        .as_ref()
}

/// Marks that a commit has reached `step`; aborts the process there if that
/// crash point is armed and this is its `nth` passage.
pub(crate) fn reached(step: CommitStep) {
    static PASSED: AtomicU64 = AtomicU64::new(0);
    let Some((name, nth)) = armed() else {
        return;
    };
    if name == step.name() && PASSED.fetch_add(1, Ordering::SeqCst) + 1 == *nth {
        eprintln!("{CRASH_AT_VAR}: crashing after {name} (passage {nth})");
        std::process::abort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_step_has_its_own_name() {
        let names: std::collections::BTreeSet<_> =
            CommitStep::ALL.iter().map(|s| s.name()).collect();
        assert_eq!(names.len(), CommitStep::ALL.len());
    }
}
