//! Backfill: import whole files (current, rotated, gzipped) into the lake.
//!
//! Exactly-once by construction: each file is recognised by its identity
//! (see [`identity`](super::identity)), reading starts at the position the
//! lake committed for it, and rows commit together with the position they
//! reach. Running twice, or again after a crash at any instant, adds each
//! line once.
//!
//! ```text
//!  reader thread: read 1 MiB ─▶ frame ─▶ parse ─▶ batch of 64 Ki rows ─┐
//!                                          (every commit_rows: + position)
//!  encode lanes (2, in turn): into their open file per date ◀──────────┘
//!  async side, on a position: close the lanes' files, commit them with
//!                             the position (Parquet + log), open new ones
//! ```
//! Parsing and Parquet encoding overlap on two cores, and a commit's rows
//! are never all in memory: they are encoded as they come.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use arrow::array::RecordBatch;
use queuelake_engine::error::EngineError;
use queuelake_engine::lake::{FileSet, SourcePosition, TableWriter};
use queuelake_engine::tables::QueueLogBuilder;
use tokio::task::JoinHandle;

use crate::error::{IngestError, Result};
use crate::queue_log::deadletter::DeadLetters;
use crate::queue_log::framing::Framer;
use crate::queue_log::identity::{self, TAIL_HASH_BYTES};
use crate::queue_log::rows::{LineStats, RowSink};
use crate::queue_log::{is_gzip, open_source};

/// Knobs of a backfill.
#[derive(Clone, Debug)]
pub struct BackfillOptions {
    /// Commit after this many rows (bounds memory and the work a crash redoes).
    pub commit_rows: usize,
}

impl Default for BackfillOptions {
    fn default() -> Self {
        BackfillOptions {
            commit_rows: 1_000_000,
        }
    }
}

/// What happened to one file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FileOutcome {
    /// Lines were read from `from_offset` on.
    Imported {
        /// Where reading started (0, or where an earlier run stopped).
        from_offset: u64,
        /// Bytes of an unfinished last line left for a later run.
        held_bytes: u64,
    },
    /// The lake already holds every line of the file.
    AlreadyInLake,
    /// The file is empty or its first line is not complete: no identity yet.
    NoIdentity,
    /// The bytes before the committed position differ from what was read
    /// then: the file was rewritten under the same first line. Skipped.
    Changed,
}

/// The report of one file.
#[derive(Clone, Debug)]
pub struct FileReport {
    /// The file.
    pub path: PathBuf,
    /// Its identity, when it has one.
    pub source: Option<String>,
    /// What happened.
    pub outcome: FileOutcome,
    /// Counters.
    pub stats: LineStats,
}

/// Progress of a backfill, for progress bars.
#[derive(Clone, Debug, Default)]
pub struct Progress {
    /// Bytes of the input files read so far (compressed bytes for gzip).
    pub bytes_read: Arc<AtomicU64>,
}

/// Total input size in bytes, as [`Progress`] counts it.
pub fn total_bytes(files: &[PathBuf]) -> u64 {
    files
        .iter()
        .filter_map(|f| std::fs::metadata(f).ok())
        .map(|m| m.len())
        .sum()
}

/// Orders files oldest first by the time of their first line (rotated
/// siblings have names that sort in no useful order), then by name.
pub fn order_files(files: &[PathBuf]) -> Vec<PathBuf> {
    let mut keyed: Vec<(Option<i64>, PathBuf)> = files
        .iter()
        .map(|f| {
            let epoch = identity::first_line(f)
                .ok()
                .flatten()
                .and_then(|l| identity::first_epoch(&l));
            (epoch, f.clone())
        })
        .collect();
    keyed.sort();
    keyed.into_iter().map(|(_, f)| f).collect()
}

/// Rows parsed per batch handed to the encoder.
const BATCH_ROWS: usize = 64 * 1024;

/// Bytes read at a time: commits are decided per read, so a small
/// `commit_rows` reads less at a time (about 64 bytes a line) to commit
/// about that often; 1 MiB at most.
fn read_size(commit_rows: usize) -> usize {
    commit_rows.saturating_mul(64).clamp(4 * 1024, 1 << 20)
}

/// One unit of work for the committer.
struct Chunk {
    batch: RecordBatch,
    /// Set on the last batch of a commit: where the source is read up to.
    commit: Option<(String, SourcePosition)>,
}

/// Imports `files` (in the given order) into the writer's table.
pub async fn backfill(
    writer: &mut TableWriter,
    dead: &mut DeadLetters,
    files: &[PathBuf],
    options: &BackfillOptions,
    progress: &Progress,
) -> Result<Vec<FileReport>> {
    let mut reports = Vec::with_capacity(files.len());
    for path in files {
        let Some(first) = identity::first_line(path)? else {
            reports.push(FileReport {
                path: path.clone(),
                source: None,
                outcome: FileOutcome::NoIdentity,
                stats: LineStats::default(),
            });
            continue;
        };
        let source = identity::source_id(&first);
        let committed = writer.position(&source).cloned();
        let (tx, mut rx) = tokio::sync::mpsc::channel::<Chunk>(4);
        let job = FileJob {
            path: path.clone(),
            source: source.clone(),
            committed: committed.clone(),
            commit_rows: options.commit_rows,
            bytes_read: progress.bytes_read.clone(),
            dead: std::mem::replace(dead, DeadLetters::detached()),
        };
        let reader = tokio::task::spawn_blocking(move || job.run(tx));
        let mut commit_error = None;
        let mut lanes = EncodeLanes::new(writer);
        while let Some(chunk) = rx.recv().await {
            if let Err(e) = lanes.write(chunk.batch).await {
                commit_error = Some(e);
                break;
            }
            if let Some(position) = chunk.commit {
                let full = std::mem::replace(&mut lanes, EncodeLanes::new(writer));
                let committed = async {
                    let files = full.finish().await?;
                    let sources = BTreeMap::from([position]);
                    writer.commit_file_set(files, sources).await
                };
                if let Err(e) = committed.await {
                    commit_error = Some(e);
                    break;
                }
            }
        }
        drop(rx);
        let (outcome, stats, returned_dead) = reader
            .await
            .map_err(|e| IngestError::read(path, std::io::Error::other(e)))??;
        *dead = returned_dead;
        if let Some(e) = commit_error {
            return Err(e.into());
        }
        reports.push(FileReport {
            path: path.clone(),
            source: Some(source),
            outcome,
            stats,
        });
    }
    Ok(reports)
}

/// Encoding lanes of one commit: batches go to them in turn, each lane
/// encoding on a blocking thread into files of its own, so that encoding,
/// the heavier half, also runs on the core the reader leaves free.
struct EncodeLanes {
    lanes: Vec<JoinHandle<std::result::Result<FileSet, EngineError>>>,
    next: usize,
}

impl EncodeLanes {
    /// Two lanes: this machine's two cores, with the reader.
    const LANES: usize = 2;

    fn new(writer: &TableWriter) -> Self {
        let lanes = (0..Self::LANES)
            .map(|_| {
                let files = writer.file_set();
                tokio::spawn(async move { Ok(files) })
            })
            .collect();
        EncodeLanes { lanes, next: 0 }
    }

    /// Hands `batch` to the next lane, once that lane is done with its last.
    async fn write(&mut self, batch: RecordBatch) -> std::result::Result<(), EngineError> {
        let lane = &mut self.lanes[self.next];
        let mut files = join(lane).await?;
        *lane = tokio::task::spawn_blocking(move || files.write(&batch).map(|()| files));
        self.next = (self.next + 1) % Self::LANES;
        Ok(())
    }

    /// Every lane's files, once all are encoded.
    async fn finish(self) -> std::result::Result<FileSet, EngineError> {
        let mut sets = Vec::with_capacity(self.lanes.len());
        for mut lane in self.lanes {
            sets.push(join(&mut lane).await?);
        }
        Ok(FileSet::union(sets).expect("at least one lane"))
    }
}

async fn join(
    lane: &mut JoinHandle<std::result::Result<FileSet, EngineError>>,
) -> std::result::Result<FileSet, EngineError> {
    lane.await.map_err(|e| EngineError::Io {
        path: "backfill encoder".into(),
        source: std::io::Error::other(e),
    })?
}

/// The reading half of one file's import (runs on a blocking thread).
struct FileJob {
    path: PathBuf,
    source: String,
    committed: Option<SourcePosition>,
    commit_rows: usize,
    bytes_read: Arc<AtomicU64>,
    dead: DeadLetters,
}

impl FileJob {
    fn run(
        mut self,
        tx: tokio::sync::mpsc::Sender<Chunk>,
    ) -> Result<(FileOutcome, LineStats, DeadLetters)> {
        let outcome = self.read(&tx);
        let dead = std::mem::replace(&mut self.dead, DeadLetters::detached());
        outcome.map(|(o, s)| (o, s, dead))
    }

    fn read(&mut self, tx: &tokio::sync::mpsc::Sender<Chunk>) -> Result<(FileOutcome, LineStats)> {
        let path = self.path.clone();
        let gz = is_gzip(&path)?;
        let mut reader = CountingReader {
            inner: open_source(&path)?,
            count: self.bytes_read.clone(),
            gz,
            path: path.clone(),
        };
        let start = self.committed.as_ref().map_or(0, |p| p.offset);
        let mut lines_before = self.committed.as_ref().map_or(0, |p| p.lines);

        // Skip what the lake holds, keeping the bytes just before `start`.
        let mut before = Vec::with_capacity(TAIL_HASH_BYTES);
        let skipped = skip_bytes(&mut reader, &path, start, &mut before)?;
        if skipped < start {
            return Ok((FileOutcome::AlreadyInLake, LineStats::default()));
        }
        if let Some(pos) = &self.committed
            && identity::tail_hash(&before) != pos.tail_hash
        {
            tracing::warn!(path = %path.display(), offset = start,
                "file was rewritten under the same first line; skipped (its committed lines stay)");
            return Ok((FileOutcome::Changed, LineStats::default()));
        }

        let mut framer = Framer::resume(start, &before);
        let mut builder = QueueLogBuilder::with_capacity(BATCH_ROWS);
        let path_text = path.display().to_string();
        let mut stats = LineStats::default();
        let mut chunk = vec![0u8; read_size(self.commit_rows)];
        let mut sent_up_to = start;
        let mut rows_since_commit = 0;
        loop {
            let n = reader
                .read(&mut chunk)
                .map_err(|e| IngestError::read(&path, e))?;
            let eof = n == 0;
            framer.push(&chunk[..n]);
            let mut sink = RowSink {
                builder: &mut builder,
                dead: &mut self.dead,
                source: &self.source,
                path: &path_text,
                stats: LineStats::default(),
            };
            let mut failure = None;
            framer.drain_lines(|line| {
                if failure.is_none()
                    && let Err(e) = sink.line(line)
                {
                    failure = Some(e);
                }
            });
            // A compressed file is final: its unfinished last line is a line.
            if eof && gz {
                framer.finish(|line| {
                    if failure.is_none()
                        && let Err(e) = sink.line(line)
                    {
                        failure = Some(e);
                    }
                });
            }
            if let Some(e) = failure {
                return Err(e);
            }
            let chunk_stats = sink.stats;
            stats += chunk_stats;
            lines_before += chunk_stats.rows + chunk_stats.dead_letters + chunk_stats.skipped;
            let commit = rows_since_commit + builder.len() >= self.commit_rows
                || (eof && framer.pending_offset() > sent_up_to);
            if commit || builder.len() >= BATCH_ROWS {
                let position = commit.then(|| {
                    sent_up_to = framer.pending_offset();
                    let position = SourcePosition {
                        offset: framer.pending_offset(),
                        tail_hash: framer.tail_hash(),
                        path: path_text.clone(),
                        lines: lines_before,
                        followed_since_ms: None,
                    };
                    (self.source.clone(), position)
                });
                rows_since_commit = if commit {
                    0
                } else {
                    rows_since_commit + builder.len()
                };
                let chunk = Chunk {
                    batch: builder.finish(),
                    commit: position,
                };
                if tx.blocking_send(chunk).is_err() {
                    break; // the committer failed; it reports why
                }
            }
            if eof {
                break;
            }
        }
        if sent_up_to == start && framer.pending().is_empty() {
            return Ok((FileOutcome::AlreadyInLake, stats));
        }
        Ok((
            FileOutcome::Imported {
                from_offset: start,
                held_bytes: framer.pending().len() as u64,
            },
            stats,
        ))
    }
}

/// Reads and drops `n` bytes; the last [`TAIL_HASH_BYTES`] of them end up
/// in `before`. Returns how many bytes there were.
pub(crate) fn skip_bytes(
    reader: &mut impl Read,
    path: &Path,
    n: u64,
    before: &mut Vec<u8>,
) -> Result<u64> {
    let mut left = n;
    let mut buf = vec![0u8; 1 << 16];
    while left > 0 {
        let want = left.min(buf.len() as u64) as usize;
        let got = reader
            .read(&mut buf[..want])
            .map_err(|e| IngestError::read(path, e))?;
        if got == 0 {
            break;
        }
        before.extend_from_slice(&buf[..got]);
        let excess = before.len().saturating_sub(TAIL_HASH_BYTES);
        before.drain(..excess);
        left -= got as u64;
    }
    Ok(n - left)
}

/// Counts the bytes read, for the progress bar. A gzip file's progress is
/// its compressed size, counted when it is fully read.
struct CountingReader {
    inner: Box<dyn Read + Send>,
    count: Arc<AtomicU64>,
    gz: bool,
    path: PathBuf,
}

impl Read for CountingReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        if !self.gz {
            self.count.fetch_add(n as u64, Ordering::Relaxed);
        } else if n == 0 {
            let size = std::fs::metadata(&self.path).map(|m| m.len()).unwrap_or(0);
            self.count.fetch_add(size, Ordering::Relaxed);
            self.gz = false; // count once
        }
        Ok(n)
    }
}
