//! The live tail: follow `queue_log` as Asterisk writes it.
//!
//! ```text
//!            ┌──────────── wake: file event (notify) or poll tick ───────────┐
//!            ▼                                                               │
//!  ┌─────────────────┐ no first line yet ┌──────────┐                        │
//!  │ Waiting (no file│──────────────────▶│ Waiting  │                        │
//!  │  or no identity)│◀──────────────────│          │                        │
//!  └────────┬────────┘                   └──────────┘                        │
//!           │ identity known: seek to committed offset                       │
//!           ▼                                                                │
//!  ┌─────────────────┐  read to EOF, frame, rows → memory (visible to SQL)   │
//!  │    Following    │───────────────────────────────────────────────────────┘
//!  └────────┬────────┘
//!           │ path now names another file (rename rotation), or the file
//!           │ shrank / its first line changed (copytruncate)
//!           ▼
//!  ┌─────────────────┐  drain the old file (by handle, or its rotated copy
//!  │    Rotating     │  found among the siblings by identity), end its
//!  └────────┬────────┘  partial line, then follow the new file from 0
//!           ▼
//!       Following
//! ```
//!
//! Rows are visible to SQL as soon as they are read (held in memory by the
//! [`LiveTable`]); they are committed to Parquet with their positions every
//! `flush_interval` or `flush_rows`, and at shutdown. A crash loses only
//! memory: the restart resumes at the committed positions. A source is
//! known from its first byte: the first time a file is opened its identity
//! is committed at offset 0 before any of its lines is served, and a path's
//! first start commits a marker with the time it began to be followed. At
//! start-up, rotated siblings are finished first: those whose identity the
//! lake knows, and those it has never seen but that were modified since the
//! path has been followed (a file created and rotated away while queuelake
//! was down). So a rotation while down (once, twice, with compression)
//! loses nothing, however short the last run was; unknown siblings older
//! than the first start are history, left to `ingest`.
//!
//! copytruncate rotation can lose lines whatever a reader does (those
//! written between the copy and the truncate); rename rotation, which
//! Asterisk itself uses, cannot.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use arrow::array::RecordBatch;
use notify::Watcher;
use queuelake_engine::lake::{SourcePosition, TableWriter};
use queuelake_engine::live::LiveTable;
use queuelake_engine::tables::QueueLogBuilder;

use crate::error::{IngestError, Result};
use crate::queue_log::backfill::skip_bytes;
use crate::queue_log::deadletter::DeadLetters;
use crate::queue_log::framing::Framer;
use crate::queue_log::identity::{self, TAIL_HASH_BYTES};
use crate::queue_log::rows::{LineRows, LineStats, RowSink};
use crate::queue_log::{is_gzip, open_source};

/// Knobs of the tail.
#[derive(Clone, Debug)]
pub struct TailOptions {
    /// Poll this often, besides file-change events.
    pub poll: Duration,
    /// Commit rows held in memory after this long.
    pub flush_interval: Duration,
    /// Commit once this many rows are held.
    pub flush_rows: usize,
}

impl Default for TailOptions {
    fn default() -> Self {
        TailOptions {
            poll: Duration::from_millis(250),
            flush_interval: Duration::from_secs(60),
            flush_rows: 200_000,
        }
    }
}

impl TailOptions {
    /// Whether rows held since `oldest` (`rows` of them) must be committed now.
    pub fn flush_due(&self, oldest: Option<Instant>, rows: usize) -> bool {
        oldest.is_some_and(|t| t.elapsed() >= self.flush_interval) || rows >= self.flush_rows
    }
}

/// What the tailed files hold and who owns them.
#[derive(Clone, Copy, Debug)]
pub struct TailFormat {
    /// A fresh row builder for the format's lines.
    pub rows: fn() -> Box<dyn LineRows>,
    /// queuelake wrote these files itself (the AMI journal): rotated
    /// siblings are read even if the lake has never seen them, and are
    /// deleted once committed to their end. Asterisk's files are never
    /// deleted, and unknown siblings of them are left to `ingest`.
    pub owned: bool,
}

impl TailFormat {
    /// Asterisk's queue_log.
    pub const QUEUE_LOG: TailFormat = TailFormat {
        rows: queue_log_rows,
        owned: false,
    };
}

fn queue_log_rows() -> Box<dyn LineRows> {
    Box::<QueueLogBuilder>::default()
}

/// A sibling modified this little before the path's first start still
/// counts as written since (a rotation racing that start).
const FIRST_START_SLACK: Duration = Duration::from_secs(2);

/// The file being followed.
struct Followed {
    file: File,
    id: String,
    dev_ino: (u64, u64),
    framer: Framer,
    lines: u64,
}

/// Follows one queue_log file into one table.
pub struct Tailer {
    path: PathBuf,
    writer: TableWriter,
    live: LiveTable,
    dead: DeadLetters,
    options: TailOptions,
    format: TailFormat,
    runtime: tokio::runtime::Handle,
    current: Option<Followed>,
    /// Rows read but not committed, in order, and the positions they reach.
    uncommitted: Vec<RecordBatch>,
    uncommitted_rows: usize,
    positions: BTreeMap<String, SourcePosition>,
    oldest_uncommitted: Option<Instant>,
    stats: LineStats,
}

impl Tailer {
    /// A tailer of `path`; commits go through `writer` (on `runtime`).
    pub fn new(
        path: PathBuf,
        writer: TableWriter,
        live: LiveTable,
        dead: DeadLetters,
        options: TailOptions,
        runtime: tokio::runtime::Handle,
    ) -> Self {
        Tailer {
            path,
            writer,
            live,
            dead,
            options,
            format: TailFormat::QUEUE_LOG,
            runtime,
            current: None,
            uncommitted: Vec::new(),
            uncommitted_rows: 0,
            positions: BTreeMap::new(),
            oldest_uncommitted: None,
            stats: LineStats::default(),
        }
    }

    /// Follows files of another format than queue_log.
    pub fn with_format(mut self, format: TailFormat) -> Self {
        self.format = format;
        self
    }

    /// Counters since start.
    pub fn stats(&self) -> LineStats {
        self.stats
    }

    /// Runs until `stop` is set, then commits what it holds and returns.
    pub fn run(mut self, stop: Arc<AtomicBool>) -> Result<LineStats> {
        let (tx, rx) = channel::<()>();
        let dir = self
            .path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."));
        let watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
            // Opens and reads (our own among them: every poll opens the
            // file to check its identity) change nothing: waking on them
            // would spin.
            if event.is_ok_and(|e| matches!(e.kind, notify::EventKind::Access(_))) {
                return;
            }
            let _ = tx.send(());
        })
        .and_then(|mut w| {
            w.watch(&dir, notify::RecursiveMode::NonRecursive)
                .map(|()| w)
        });
        let _watcher = match watcher {
            Ok(w) => Some(w),
            Err(e) => {
                tracing::warn!(path = %dir.display(), error = %e, "file events unavailable; polling only");
                None
            }
        };
        let since = self.followed_since()?;
        self.finish_rotated_siblings(since)?;
        loop {
            self.poll_once()?;
            self.maybe_flush()?;
            if stop.load(Ordering::SeqCst) {
                break;
            }
            wait(&rx, self.options.poll);
        }
        self.poll_once()?;
        self.flush()?;
        Ok(self.stats)
    }

    /// Reads whatever is new; handles rotation and truncation.
    pub fn poll_once(&mut self) -> Result<()> {
        if self.current.is_none() {
            self.open_current()?;
        }
        let Some(cur) = self.current.as_mut() else {
            return Ok(());
        };
        let batch = read_new(cur, &mut self.dead, &self.path, &self.format)?;
        self.take(batch);

        // Did the path move on to another file?
        let now = std::fs::metadata(&self.path).ok();
        let Some(cur) = self.current.as_ref() else {
            return Ok(());
        };
        let renamed = now
            .as_ref()
            .is_some_and(|m| (m.dev(), m.ino()) != cur.dev_ino);
        let shrunk = now.as_ref().is_some_and(|m| {
            (m.dev(), m.ino()) == cur.dev_ino
                && m.len() < cur.framer.pending_offset() + cur.framer.pending().len() as u64
        });
        let rewritten = !renamed
            && !shrunk
            && identity::identify(&self.path)
                .ok()
                .flatten()
                .is_some_and(|id| id != cur.id);
        if renamed {
            // The old file is still readable through its handle: drain it.
            let Some(mut old) = self.current.take() else {
                return Ok(());
            };
            tracing::info!(path = %self.path.display(), "queue_log rotated (rename); finishing the old file");
            let batch = read_new(&mut old, &mut self.dead, &self.path, &self.format)?;
            self.take(batch);
            let batch = finish_partial(&mut old, &mut self.dead, &self.path, &self.format)?;
            self.take(batch);
            self.open_current()?;
        } else if shrunk || rewritten {
            // copytruncate: what we had not read yet is in the copy, a sibling.
            let Some(old) = self.current.take() else {
                return Ok(());
            };
            tracing::warn!(path = %self.path.display(), "queue_log truncated in place (copytruncate); looking for the copy among its siblings");
            self.finish_sibling_with(&old.id)?;
            self.open_current()?;
        }
        Ok(())
    }

    fn take(&mut self, read: Option<ReadOutcome>) {
        let Some((batch, id, position, stats)) = read else {
            return;
        };
        self.stats += stats;
        self.positions.insert(id, position);
        if batch.num_rows() > 0 {
            self.uncommitted_rows += batch.num_rows();
            self.live.push_rows(batch.clone());
            self.uncommitted.push(batch);
        }
        self.oldest_uncommitted.get_or_insert_with(Instant::now);
    }

    fn open_current(&mut self) -> Result<()> {
        let Some(first) = identity::first_line(&self.path).ok().flatten() else {
            return Ok(());
        };
        let id = identity::source_id(&first);
        let mut file = File::open(&self.path).map_err(|e| IngestError::read(&self.path, e))?;
        let meta = file
            .metadata()
            .map_err(|e| IngestError::read(&self.path, e))?;
        let known = self
            .positions
            .get(&id)
            .or_else(|| self.writer.position(&id))
            .cloned();
        let (offset, lines) = match &known {
            Some(p) if p.offset <= meta.len() => (p.offset, p.lines),
            Some(p) => {
                tracing::warn!(path = %self.path.display(), offset = p.offset, len = meta.len(),
                    "file is shorter than its committed position; reading it from the start");
                (0, 0)
            }
            None => (0, 0),
        };
        let before =
            read_before(&mut file, offset).map_err(|e| IngestError::read(&self.path, e))?;
        if let Some(p) = &known
            && offset > 0
            && identity::tail_hash(&before) != p.tail_hash
        {
            tracing::warn!(path = %self.path.display(), offset, "bytes before the committed position changed; continuing from it");
        }
        file.seek(SeekFrom::Start(offset))
            .map_err(|e| IngestError::read(&self.path, e))?;
        if known.is_none() {
            self.register(&id)?;
        }
        tracing::info!(path = %self.path.display(), source = %id, offset, "following queue_log");
        self.current = Some(Followed {
            file,
            id,
            dev_ino: (meta.dev(), meta.ino()),
            framer: Framer::resume(offset, &before),
            lines,
        });
        Ok(())
    }

    /// Commits a source the lake has never seen at offset 0 before any of
    /// its lines is served: whatever it is called when queuelake next
    /// starts (renamed once or twice, compressed), the start finds it among
    /// the siblings by identity and finishes it, so no line depends on the
    /// process living until its next commit.
    fn register(&mut self, id: &str) -> Result<()> {
        let position = SourcePosition {
            offset: 0,
            tail_hash: identity::tail_hash(&[]),
            path: self.path.display().to_string(),
            lines: 0,
            followed_since_ms: None,
        };
        self.commit_now(id.to_owned(), position)?;
        tracing::info!(path = %self.path.display(), source = %id, "new source registered in the lake");
        Ok(())
    }

    /// Commits `position` under `key` now, with whatever rows are held.
    fn commit_now(&mut self, key: String, position: SourcePosition) -> Result<()> {
        self.positions.insert(key, position);
        self.oldest_uncommitted.get_or_insert_with(Instant::now);
        self.flush()
    }

    /// Since when (wall clock) this path has been followed: the start
    /// marker the lake holds for it, or — at its first start — now,
    /// committed before anything is read.
    fn followed_since(&mut self) -> Result<SystemTime> {
        let path = std::path::absolute(&self.path).unwrap_or_else(|_| self.path.clone());
        let key = format!("tail:{}", path.display());
        if let Some(ms) = self.writer.position(&key).and_then(|p| p.followed_since_ms) {
            return Ok(UNIX_EPOCH + Duration::from_millis(ms.max(0) as u64));
        }
        let now = SystemTime::now();
        let ms = now
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as i64);
        let marker = SourcePosition {
            offset: 0,
            tail_hash: 0,
            path: path.display().to_string(),
            lines: 0,
            followed_since_ms: Some(ms),
        };
        self.commit_now(key, marker)?;
        tracing::info!(path = %path.display(), "first start on this path: its later rotations are ours to read");
        Ok(now)
    }

    /// Finishes every sibling of the live file (`queue_log.1`,
    /// `queue_log-20240603`, `.gz`, …) that rotated while queuelake was not
    /// running: the ones the lake knows and has not read to their end, and
    /// the ones it has never seen but that were written since the path has
    /// been followed (`since`) — a file created and rotated away while
    /// queuelake was down, or whose first line was not complete when it
    /// last looked. Older unknown siblings are history, left to `ingest`.
    fn finish_rotated_siblings(&mut self, since: SystemTime) -> Result<()> {
        let live_id = identity::identify(&self.path).ok().flatten();
        let history_before = since.checked_sub(FIRST_START_SLACK).unwrap_or(UNIX_EPOCH);
        let mut pending: Vec<(Option<i64>, PathBuf)> = Vec::new();
        for sibling in siblings(&self.path) {
            let Some(first) = identity::first_line(&sibling).ok().flatten() else {
                continue;
            };
            let id = identity::source_id(&first);
            let known = self.writer.position(&id).is_some();
            let written_since = std::fs::metadata(&sibling)
                .and_then(|m| m.modified())
                .is_ok_and(|t| t >= history_before);
            if Some(&id) == live_id.as_ref() || !(known || written_since || self.format.owned) {
                continue;
            }
            pending.push((identity::first_epoch(&first), sibling));
        }
        pending.sort();
        for (_, sibling) in pending {
            self.finish_file(&sibling)?;
        }
        Ok(())
    }

    fn finish_sibling_with(&mut self, id: &str) -> Result<()> {
        for sibling in siblings(&self.path) {
            if identity::identify(&sibling).ok().flatten().as_deref() == Some(id) {
                return self.finish_file(&sibling);
            }
        }
        tracing::warn!(
            source = id,
            "the truncated file's copy was not found; lines written after the last read are lost"
        );
        Ok(())
    }

    /// Reads a rotated file from its known position to its end, partial
    /// last line included (it will not grow any more).
    fn finish_file(&mut self, path: &Path) -> Result<()> {
        let Some(first) = identity::first_line(path)? else {
            return Ok(());
        };
        let id = identity::source_id(&first);
        let known = self
            .positions
            .get(&id)
            .or_else(|| self.writer.position(&id))
            .cloned();
        let start = known.as_ref().map_or(0, |p| p.offset);
        let mut reader = open_source(path)?;
        let mut before = Vec::new();
        if skip_bytes(&mut reader, path, start, &mut before)? < start {
            return Ok(()); // shorter than its position: nothing left
        }
        let mut buf = vec![0u8; 1 << 16];
        tracing::info!(path = %path.display(), offset = start, gzip = is_gzip(path).unwrap_or(false), "finishing rotated queue_log");
        let mut framer = Framer::resume(start, &before);
        let mut builder = (self.format.rows)();
        let path_text = path.display().to_string();
        let mut sink = RowSink {
            builder: &mut *builder,
            dead: &mut self.dead,
            source: &id,
            path: &path_text,
            stats: LineStats::default(),
        };
        let mut failure = None;
        loop {
            let n = reader
                .read(&mut buf)
                .map_err(|e| IngestError::read(path, e))?;
            if n == 0 {
                break;
            }
            framer.push(&buf[..n]);
            framer.drain_lines(|l| {
                if failure.is_none()
                    && let Err(e) = sink.line(l)
                {
                    failure = Some(e);
                }
            });
        }
        framer.finish(|l| {
            if failure.is_none()
                && let Err(e) = sink.line(l)
            {
                failure = Some(e);
            }
        });
        if let Some(e) = failure {
            return Err(e);
        }
        let stats = sink.stats;
        let lines = known.map_or(0, |p| p.lines) + stats.rows + stats.dead_letters + stats.skipped;
        let position = SourcePosition {
            offset: framer.pending_offset(),
            tail_hash: framer.tail_hash(),
            path: path_text,
            lines,
            followed_since_ms: None,
        };
        self.take(Some((builder.finish_rows(), id, position, stats)));
        Ok(())
    }

    fn maybe_flush(&mut self) -> Result<()> {
        if self
            .options
            .flush_due(self.oldest_uncommitted, self.uncommitted_rows)
        {
            self.flush()?;
        }
        Ok(())
    }

    /// Commits the rows held in memory with their positions.
    pub fn flush(&mut self) -> Result<()> {
        if self.positions.is_empty() {
            return Ok(());
        }
        let batches = std::mem::take(&mut self.uncommitted);
        let positions = std::mem::take(&mut self.positions);
        let rows = std::mem::take(&mut self.uncommitted_rows);
        self.oldest_uncommitted = None;
        let writer = &mut self.writer;
        self.runtime.block_on(writer.append(batches, positions))?;
        self.live.publish_commit(self.writer.snapshot(), rows)?;
        tracing::debug!(rows, seq = self.writer.snapshot().seq, "committed");
        if self.format.owned {
            self.delete_committed_siblings();
        }
        Ok(())
    }

    /// Deletes rotated files of our own that are committed to their end.
    fn delete_committed_siblings(&self) {
        let live_id = self.current.as_ref().map(|c| c.id.as_str());
        for sibling in siblings(&self.path) {
            let Ok(Some(id)) = identity::identify(&sibling) else {
                continue;
            };
            let done = self
                .writer
                .position(&id)
                .is_some_and(|p| std::fs::metadata(&sibling).is_ok_and(|m| m.len() == p.offset));
            if done && Some(id.as_str()) != live_id {
                match std::fs::remove_file(&sibling) {
                    Ok(()) => {
                        tracing::info!(path = %sibling.display(), "deleted a rotated file committed to its end")
                    }
                    Err(e) => {
                        tracing::warn!(path = %sibling.display(), error = %e, "could not delete a committed rotated file")
                    }
                }
            }
        }
    }
}

/// Waits for a file event or the poll interval; coalesces bursts of events.
fn wait(rx: &Receiver<()>, poll: Duration) {
    match rx.recv_timeout(poll) {
        Ok(()) => while rx.try_recv().is_ok() {},
        Err(RecvTimeoutError::Timeout) => {}
        Err(RecvTimeoutError::Disconnected) => std::thread::sleep(poll),
    }
}

/// What one read of a source yields: its rows, its identity, the position
/// after them, and counters.
type ReadOutcome = (RecordBatch, String, SourcePosition, LineStats);

/// Reads everything appended since the last read; complete lines become a
/// batch with the position after them.
fn read_new(
    cur: &mut Followed,
    dead: &mut DeadLetters,
    path: &Path,
    format: &TailFormat,
) -> Result<Option<ReadOutcome>> {
    let before = cur.framer.pending_offset();
    let mut buf = vec![0u8; 1 << 16];
    let batch = frame_into_batch(cur, dead, path, format, |cur, line| {
        loop {
            let n = cur
                .file
                .read(&mut buf)
                .map_err(|e| IngestError::read(path, e))?;
            if n == 0 {
                return Ok(());
            }
            cur.framer.push(&buf[..n]);
            cur.framer.drain_lines(&mut *line);
        }
    })?;
    Ok(batch.filter(|_| cur.framer.pending_offset() != before))
}

/// Ends a rotated file's partial last line, if it has one.
fn finish_partial(
    cur: &mut Followed,
    dead: &mut DeadLetters,
    path: &Path,
    format: &TailFormat,
) -> Result<Option<ReadOutcome>> {
    if cur.framer.pending().is_empty() {
        return Ok(None);
    }
    frame_into_batch(cur, dead, path, format, |cur, line| {
        cur.framer.finish(&mut *line);
        Ok(())
    })
}

/// Runs `frame` with a line handler that turns lines into rows of `cur`'s
/// source, then returns those rows with the position reached.
fn frame_into_batch(
    cur: &mut Followed,
    dead: &mut DeadLetters,
    path: &Path,
    format: &TailFormat,
    frame: impl FnOnce(
        &mut Followed,
        &mut dyn FnMut(crate::queue_log::framing::Framed<'_>),
    ) -> Result<()>,
) -> Result<Option<ReadOutcome>> {
    let mut builder = (format.rows)();
    let path_text = path.display().to_string();
    let id = cur.id.clone();
    let mut sink = RowSink {
        builder: &mut *builder,
        dead,
        source: &id,
        path: &path_text,
        stats: LineStats::default(),
    };
    let mut failure = None;
    frame(cur, &mut |l| {
        if failure.is_none()
            && let Err(e) = sink.line(l)
        {
            failure = Some(e);
        }
    })?;
    if let Some(e) = failure {
        return Err(e);
    }
    let stats = sink.stats;
    cur.lines += stats.rows + stats.dead_letters + stats.skipped;
    let position = SourcePosition {
        offset: cur.framer.pending_offset(),
        tail_hash: cur.framer.tail_hash(),
        path: path_text,
        lines: cur.lines,
        followed_since_ms: None,
    };
    Ok(Some((builder.finish_rows(), id, position, stats)))
}

/// The up to [`TAIL_HASH_BYTES`] bytes before `offset`.
fn read_before(file: &mut File, offset: u64) -> std::io::Result<Vec<u8>> {
    let start = offset.saturating_sub(TAIL_HASH_BYTES as u64);
    file.seek(SeekFrom::Start(start))?;
    let mut before = vec![0u8; (offset - start) as usize];
    file.read_exact(&mut before)?;
    Ok(before)
}

/// Files next to `path` whose name starts with its name (`queue_log.1`,
/// `queue_log-20240603`, `queue_log.2.gz`), excluding `path` itself.
pub fn siblings(path: &Path) -> Vec<PathBuf> {
    let (Some(dir), Some(name)) = (path.parent(), path.file_name().and_then(|n| n.to_str())) else {
        return Vec::new();
    };
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out: Vec<PathBuf> = entries
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n != name && n.starts_with(name))
        })
        .collect();
    out.sort();
    out
}
