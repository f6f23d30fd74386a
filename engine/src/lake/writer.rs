//! Appends, compaction and vacuum of one table.
//!
//! ```text
//!   batches ──split by UTC date──▶ encode Parquet ──put──▶ date=…/part-<seq>-<n>.parquet
//!                                                            (invisible orphans so far)
//!   commit record <seq>.json (create-if-absent) ──▶ files + source positions visible
//! ```
//!
//! A crash before the commit record leaves orphans, which vacuum deletes; a
//! crash after it leaves a complete commit. Either way a source resumes from
//! the positions of the last commit, so each line is in the table once.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use arrow::array::{Array, RecordBatch, TimestampMicrosecondArray, UInt32Array};
use arrow::datatypes::SchemaRef;
use bytes::Bytes;
use object_store::path::Path as ObjectPath;
use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::basic::Compression;
use parquet::file::metadata::KeyValue;
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use parquet::schema::types::ColumnPath;

use crate::error::{EngineError, Result};
use crate::lake::crash::{self, CommitStep};
use crate::lake::log::{self, CHECKPOINT_EVERY, CommitRecord, DataFile, Snapshot, SourcePosition};
use crate::lake::store::{LakeStore, PutKind};

/// Partition value for rows without a timestamp (Hive's convention).
pub const NULL_PARTITION: &str = "__HIVE_DEFAULT_PARTITION__";

/// Knobs of the writer.
#[derive(Clone, Debug)]
pub struct WriterSettings {
    /// Compact a partition once it has this many small files.
    pub compact_min_files: usize,
    /// Files at least this large (bytes) are left alone by compaction.
    pub compact_target_bytes: u64,
    /// Unreferenced files younger than this are not vacuumed.
    pub vacuum_grace: Duration,
}

impl Default for WriterSettings {
    fn default() -> Self {
        WriterSettings {
            compact_min_files: 8,
            compact_target_bytes: 128 * 1024 * 1024,
            vacuum_grace: Duration::from_secs(600),
        }
    }
}

/// The only writer of one table (the caller holds the lake's writer lock).
pub struct TableWriter {
    store: LakeStore,
    table: ObjectPath,
    schema: SchemaRef,
    ts_column: usize,
    settings: WriterSettings,
    snapshot: Snapshot,
}

impl TableWriter {
    pub(crate) async fn open(
        store: LakeStore,
        table: &str,
        schema: SchemaRef,
        ts_column: usize,
        settings: WriterSettings,
    ) -> Result<Self> {
        let table = ObjectPath::from(table);
        let snapshot = log::load_snapshot(&store, &table).await?;
        let writer = TableWriter {
            store,
            table,
            schema,
            ts_column,
            settings,
            snapshot,
        };
        writer.vacuum().await?;
        Ok(writer)
    }

    /// The state after the last commit.
    pub fn snapshot(&self) -> &Snapshot {
        &self.snapshot
    }

    /// The committed position of a source.
    pub fn position(&self, source: &str) -> Option<&SourcePosition> {
        self.snapshot.sources.get(source)
    }

    /// An empty set of files for this table's next commit.
    pub fn file_set(&self) -> FileSet {
        FileSet {
            schema: self.schema.clone(),
            ts_column: self.ts_column,
            files: Vec::new(),
        }
    }

    /// Commits `batches` together with the source positions they reach.
    /// Either all of it becomes visible, or none of it.
    pub async fn append(
        &mut self,
        batches: Vec<RecordBatch>,
        sources: BTreeMap<String, SourcePosition>,
    ) -> Result<CommitRecord> {
        let files = self.encode(batches).await?;
        self.commit_file_set(files, sources).await
    }

    /// Commits the rows written into `files` together with the source
    /// positions they reach. Either all of it becomes visible, or none.
    pub async fn commit_file_set(
        &mut self,
        files: FileSet,
        sources: BTreeMap<String, SourcePosition>,
    ) -> Result<CommitRecord> {
        let seq = self.snapshot.seq + 1;
        let meta = vec![
            KeyValue::new("queuelake.commit_seq".into(), seq.to_string()),
            KeyValue::new(
                "queuelake.sources".into(),
                serde_json::to_string(&sources).unwrap_or_default(),
            ),
        ];
        let added = self.put_files(seq, files, meta).await?;
        crash::reached(CommitStep::DataFilesWritten);
        let mut commit = CommitRecord::new(seq, "append", added, vec![]);
        commit.sources = sources;
        self.commit(commit.clone()).await?;
        self.compact_partitions(&commit).await?;
        Ok(commit)
    }

    /// Replaces whole date partitions of a derived table in one commit:
    /// every file of each date named in `inputs` goes, the rows of
    /// `batches` (all of which must fall on those dates) come, and each date
    /// records the fingerprint of the inputs it was computed from.
    pub async fn replace_dates(
        &mut self,
        batches: Vec<RecordBatch>,
        inputs: BTreeMap<String, String>,
    ) -> Result<CommitRecord> {
        let seq = self.snapshot.seq + 1;
        let files = self.encode(batches).await?;
        if let Some(stray) = files.dates().find(|d| !inputs.contains_key(*d)) {
            return Err(EngineError::InvalidSetting {
                name: format!("replacement of {}", self.table),
                reason: format!("rows dated {stray}, a date not being replaced"),
            });
        }
        let meta = vec![KeyValue::new(
            "queuelake.commit_seq".into(),
            seq.to_string(),
        )];
        let added = self.put_files(seq, files, meta).await?;
        crash::reached(CommitStep::DataFilesWritten);
        let removed = self
            .snapshot
            .files
            .iter()
            .filter(|f| {
                partition_of(&f.path)
                    .and_then(|p| p.strip_prefix("date=").map(str::to_string))
                    .is_some_and(|date| inputs.contains_key(&date))
            })
            .map(|f| f.path.clone())
            .collect();
        let mut commit = CommitRecord::new(seq, "replace", added, removed);
        commit.inputs = inputs;
        self.commit(commit.clone()).await?;
        Ok(commit)
    }

    /// Encodes `batches` into one file per date, the dates concurrently
    /// (a core each).
    async fn encode(&self, batches: Vec<RecordBatch>) -> Result<FileSet> {
        let mut by_date: BTreeMap<String, Vec<RecordBatch>> = BTreeMap::new();
        for batch in batches {
            for (date, part) in split_by_date(&batch, self.ts_column)? {
                by_date.entry(date).or_default().push(part);
            }
        }
        let encodes = by_date.into_values().map(|parts| {
            let mut files = self.file_set();
            async move {
                tokio::task::spawn_blocking(move || {
                    for part in &parts {
                        files.write(part)?;
                    }
                    Ok::<_, EngineError>(files)
                })
                .await
                .map_err(|e| EngineError::io(&self.table, std::io::Error::other(e)))?
            }
        });
        let sets = futures::future::try_join_all(encodes).await?;
        Ok(FileSet::union(sets).unwrap_or_else(|| self.file_set()))
    }

    /// Closes the set's files and puts them, as
    /// `date=…/part-<seq>-<n>.parquet`, each with `meta` in its footer.
    async fn put_files(
        &self,
        seq: u64,
        files: FileSet,
        meta: Vec<KeyValue>,
    ) -> Result<Vec<DataFile>> {
        let closed = tokio::task::spawn_blocking(move || files.close(&meta))
            .await
            .map_err(|e| EngineError::io(&self.table, std::io::Error::other(e)))??;
        let puts = closed
            .into_iter()
            .enumerate()
            .map(|(n, (date, bytes, rows))| async move {
                let rel = format!("date={date}/part-{seq:020}-{n}.parquet");
                let size = bytes.len() as u64;
                self.store
                    .put(&self.object(&rel), bytes, PutKind::Overwrite)
                    .await?;
                Ok::<_, EngineError>(DataFile {
                    path: rel,
                    rows,
                    bytes: size,
                })
            });
        futures::future::try_join_all(puts).await
    }

    fn object(&self, rel: &str) -> ObjectPath {
        ObjectPath::from(format!("{}/{rel}", self.table))
    }

    async fn commit(&mut self, commit: CommitRecord) -> Result<()> {
        let bytes = serde_json::to_vec(&commit).map_err(|e| EngineError::CommitLog {
            path: log::commit_path(&self.table, commit.seq).to_string(),
            reason: e.to_string(),
        })?;
        self.store
            .put(
                &log::commit_path(&self.table, commit.seq),
                bytes.into(),
                PutKind::CreateNew,
            )
            .await?;
        crash::reached(CommitStep::CommitRecordWritten);
        self.snapshot.apply(&commit);
        if commit.seq.is_multiple_of(CHECKPOINT_EVERY) {
            let cp = serde_json::to_vec(&self.snapshot.to_checkpoint()).unwrap_or_default();
            self.store
                .put(
                    &log::checkpoint_path(&self.table, commit.seq),
                    cp.into(),
                    PutKind::Overwrite,
                )
                .await?;
            crash::reached(CommitStep::CheckpointWritten);
            log::prune_log(&self.store, &self.table).await?;
            crash::reached(CommitStep::LogPruned);
        }
        Ok(())
    }

    /// Merges the small files of each partition `commit` touched, once a
    /// partition has `compact_min_files` of them. Row order is kept.
    async fn compact_partitions(&mut self, commit: &CommitRecord) -> Result<()> {
        let partitions: BTreeSet<String> = commit
            .add
            .iter()
            .filter_map(|f| partition_of(&f.path))
            .collect();
        let mut compacted = false;
        for partition in partitions {
            let small: Vec<DataFile> = self
                .snapshot
                .files
                .iter()
                .filter(|f| partition_of(&f.path).as_deref() == Some(&partition))
                .filter(|f| f.bytes < self.settings.compact_target_bytes)
                .cloned()
                .collect();
            if small.len() < self.settings.compact_min_files {
                continue;
            }
            let mut merged = self.file_set();
            for file in &small {
                let bytes = self.store.get(&self.object(&file.path)).await?;
                merged = tokio::task::spawn_blocking(move || {
                    for batch in decode_parquet(bytes)? {
                        merged.write(&batch)?;
                    }
                    Ok::<_, EngineError>(merged)
                })
                .await
                .map_err(|e| EngineError::io(&file.path, std::io::Error::other(e)))??;
            }
            let seq = self.snapshot.seq + 1;
            let meta = vec![KeyValue::new(
                "queuelake.commit_seq".into(),
                seq.to_string(),
            )];
            let merged = self.put_files(seq, merged, meta).await?;
            crash::reached(CommitStep::CompactFilesWritten);
            let removed = small.into_iter().map(|f| f.path).collect();
            self.commit(CommitRecord::new(seq, "compact", merged, removed))
                .await?;
            compacted = true;
        }
        if compacted {
            self.vacuum().await?;
            crash::reached(CommitStep::Vacuumed);
        }
        Ok(())
    }

    /// Deletes data files no commit references, once older than the grace
    /// period (readers that planned on them a moment ago may still read).
    pub async fn vacuum(&self) -> Result<usize> {
        let live: BTreeSet<String> = self.snapshot.files.iter().map(|f| f.path.clone()).collect();
        let cutoff = chrono::Utc::now() - self.settings.vacuum_grace;
        let prefix = format!("{}/", self.table);
        let mut deleted = 0;
        for meta in self.store.list(&self.table).await? {
            let loc = meta.location.as_ref();
            let Some(rel) = loc.strip_prefix(&prefix) else {
                continue;
            };
            if rel.starts_with("_log/") || live.contains(rel) || meta.last_modified > cutoff {
                continue;
            }
            self.store.delete(&meta.location).await?;
            deleted += 1;
        }
        Ok(deleted)
    }
}

fn partition_of(rel: &str) -> Option<String> {
    rel.split_once('/').map(|(p, _)| p.to_string())
}

/// Splits a batch into one batch per UTC date of its timestamp column.
fn split_by_date(batch: &RecordBatch, ts_column: usize) -> Result<Vec<(String, RecordBatch)>> {
    const DAY_US: i64 = 86_400_000_000;
    let Some(ts) = batch
        .column(ts_column)
        .as_any()
        .downcast_ref::<TimestampMicrosecondArray>()
    else {
        return Err(EngineError::InvalidSetting {
            name: "ts column".into(),
            reason: "is not a microsecond timestamp".into(),
        });
    };
    let day = |i: usize| (!ts.is_null(i)).then(|| ts.value(i).div_euclid(DAY_US));
    // Lines arrive in time order, so each date is usually one contiguous
    // run of rows: slice those (no copy) and gather rows only otherwise.
    let mut runs: Vec<(Option<i64>, usize, usize)> = Vec::new();
    for i in 0..batch.num_rows() {
        let d = day(i);
        match runs.last_mut() {
            Some((last, _, len)) if *last == d => *len += 1,
            _ => runs.push((d, i, 1)),
        }
    }
    let distinct: BTreeSet<Option<i64>> = runs.iter().map(|r| r.0).collect();
    if distinct.len() == runs.len() {
        return Ok(runs
            .into_iter()
            .map(|(d, start, len)| (date_label(d), batch.slice(start, len)))
            .collect());
    }
    let mut rows: BTreeMap<Option<i64>, Vec<u32>> = BTreeMap::new();
    for (d, start, len) in runs {
        rows.entry(d)
            .or_default()
            .extend((start..start + len).map(|i| i as u32));
    }
    rows.into_iter()
        .map(|(d, idx)| {
            Ok((
                date_label(d),
                arrow::compute::take_record_batch(batch, &UInt32Array::from(idx))?,
            ))
        })
        .collect()
}

fn date_label(day: Option<i64>) -> String {
    match day.and_then(|d| chrono::DateTime::from_timestamp(d * 86_400, 0)) {
        Some(t) => t.format("%Y-%m-%d").to_string(),
        None => NULL_PARTITION.to_string(),
    }
}

/// Rows on their way into one commit: one Parquet file per UTC date of
/// their time, encoded as rows arrive, so that a large commit does not hold
/// its rows in memory (only their compressed pages). Made by
/// [`TableWriter::file_set`], filled with [`FileSet::write`] (CPU work: run
/// it off the async runtime), committed by [`TableWriter::commit_file_set`].
pub struct FileSet {
    schema: SchemaRef,
    ts_column: usize,
    /// (date, file, rows); a date can have several files (see
    /// [`FileSet::union`]).
    files: Vec<(String, ArrowWriter<Vec<u8>>, u64)>,
}

impl FileSet {
    /// Encodes `batch` into the files of its rows' dates.
    pub fn write(&mut self, batch: &RecordBatch) -> Result<()> {
        for (date, part) in split_by_date(batch, self.ts_column)? {
            let at = match self.files.iter().rposition(|(d, _, _)| *d == date) {
                Some(at) => at,
                None => {
                    let file = ArrowWriter::try_new(
                        Vec::new(),
                        self.schema.clone(),
                        Some(writer_properties(&self.schema)),
                    )?;
                    self.files.push((date, file, 0));
                    self.files.len() - 1
                }
            };
            let (_, file, rows) = &mut self.files[at];
            file.write(&part)?;
            *rows += part.num_rows() as u64;
        }
        Ok(())
    }

    /// Rows written so far.
    pub fn rows(&self) -> u64 {
        self.files.iter().map(|(_, _, rows)| rows).sum()
    }

    /// The dates with rows.
    pub fn dates(&self) -> impl Iterator<Item = &String> {
        self.files.iter().map(|(date, _, _)| date)
    }

    /// The files of several sets of the same table, to commit as one (sets
    /// filled side by side give a date one file each).
    pub fn union(sets: impl IntoIterator<Item = FileSet>) -> Option<FileSet> {
        let mut sets = sets.into_iter();
        let mut all = sets.next()?;
        for set in sets {
            all.files.extend(set.files);
        }
        Some(all)
    }

    /// Finishes each file with `meta` in its footer: (date, bytes, rows).
    fn close(self, meta: &[KeyValue]) -> Result<Vec<(String, Bytes, u64)>> {
        self.files
            .into_iter()
            .map(|(date, mut file, rows)| {
                for kv in meta {
                    file.append_key_value_metadata(kv.clone());
                }
                Ok((date, Bytes::from(file.into_inner()?), rows))
            })
            .collect()
    }
}

fn writer_properties(schema: &SchemaRef) -> WriterProperties {
    let mut props = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        // Min/max per column chunk prune files and row groups; per-page
        // statistics are kept for the time column only (range scans).
        .set_statistics_enabled(EnabledStatistics::Chunk);
    if schema.column_with_name("ts").is_some() {
        props =
            props.set_column_statistics_enabled(ColumnPath::from("ts"), EnabledStatistics::Page);
    }
    // Dictionaries pay off for repeating values (queue, agent, event, source)
    // and only cost time on near-unique ones (ids, payloads, offsets, times).
    for column in ["ts", "callid", "data", "data2", "data3", "byte_offset"] {
        if schema.column_with_name(column).is_some() {
            props = props.set_column_dictionary_enabled(ColumnPath::from(column), false);
        }
    }
    props.build()
}

fn decode_parquet(bytes: Bytes) -> Result<Vec<RecordBatch>> {
    let reader = ParquetRecordBatchReaderBuilder::try_new(bytes)?
        .with_batch_size(65536)
        .build()?;
    Ok(reader.collect::<Result<Vec<_>, _>>()?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lake::Lake;
    use crate::tables::{QUEUE_LOG_SCHEMA, QUEUE_LOG_TS_COLUMN, QueueLogBuilder, QueueLogRow};
    use arrow::array::AsArray;

    fn batch(epoch: i64, offsets: std::ops::Range<u64>) -> RecordBatch {
        let mut b = QueueLogBuilder::default();
        for offset in offsets {
            b.append(&QueueLogRow {
                epoch,
                header: [b"NONE", b"NONE", b"NONE", b"CONFIGRELOAD", b""],
                data: [Some(b""), None, None, None, None],
                source: "ql-test",
                byte_offset: offset,
            });
        }
        b.finish()
    }

    async fn queue_log_writer(
        lake: &Lake,
        lock: &crate::lake::WriterLock,
        settings: WriterSettings,
    ) -> TableWriter {
        lake.table_writer(
            lock,
            "queue_log",
            QUEUE_LOG_SCHEMA.clone(),
            QUEUE_LOG_TS_COLUMN,
            settings,
        )
        .await
        .unwrap()
    }

    fn position(offset: u64) -> BTreeMap<String, SourcePosition> {
        BTreeMap::from([(
            "ql-test".to_string(),
            SourcePosition {
                offset,
                tail_hash: 0,
                path: "t".into(),
                lines: offset,
                followed_since_ms: None,
            },
        )])
    }

    #[tokio::test]
    async fn small_files_are_compacted_in_order_and_vacuumed() {
        let dir = tempfile::tempdir().unwrap();
        let lake = Lake::open_local(dir.path()).unwrap();
        let lock = lake.lock_writer().unwrap();
        let settings = WriterSettings {
            vacuum_grace: Duration::ZERO,
            ..WriterSettings::default()
        };
        let mut writer = queue_log_writer(&lake, &lock, settings).await;
        for i in 0..8u64 {
            writer
                .append(
                    vec![batch(1_709_542_800, i * 10..i * 10 + 10)],
                    position(i * 10 + 10),
                )
                .await
                .unwrap();
        }
        // 8 appends + 1 compaction
        assert_eq!(writer.snapshot().seq, 9);
        assert_eq!(writer.snapshot().files.len(), 1);
        assert_eq!(writer.snapshot().rows(), 80);
        assert_eq!(writer.position("ql-test").unwrap().offset, 80);
        let only = &writer.snapshot().files[0];
        let bytes = std::fs::read(lake.file_path("queue_log", only)).unwrap();
        let batches = decode_parquet(bytes.into()).unwrap();
        let offsets: Vec<u64> = batches
            .iter()
            .flat_map(|b| {
                b.column(12)
                    .as_primitive::<arrow::datatypes::UInt64Type>()
                    .values()
                    .to_vec()
            })
            .collect();
        assert_eq!(
            offsets,
            (0..80).collect::<Vec<_>>(),
            "row order survives compaction"
        );
        // The replaced files are gone; a fresh reader sees the same state.
        let parquet_files = std::fs::read_dir(dir.path().join("queue_log/date=2024-03-04"))
            .unwrap()
            .count();
        assert_eq!(parquet_files, 1);
        assert_eq!(
            lake.snapshot("queue_log").await.unwrap(),
            *writer.snapshot()
        );
    }

    #[tokio::test]
    async fn sets_filled_side_by_side_commit_as_one() {
        let dir = tempfile::tempdir().unwrap();
        let lake = Lake::open_local(dir.path()).unwrap();
        let lock = lake.lock_writer().unwrap();
        let mut writer = queue_log_writer(&lake, &lock, WriterSettings::default()).await;
        // Batches dealt to two sets in turn; the last ones cross midnight.
        let (mut even, mut odd) = (writer.file_set(), writer.file_set());
        for i in 0..6u64 {
            let epoch = 1_709_596_790 + i as i64 * 4; // 23:59:50 to 00:00:10 UTC
            let set = if i % 2 == 0 { &mut even } else { &mut odd };
            set.write(&batch(epoch, i * 10..i * 10 + 10)).unwrap();
        }
        assert_eq!(even.rows() + odd.rows(), 60);
        let files = FileSet::union([even, odd]).unwrap();
        let commit = writer.commit_file_set(files, position(60)).await.unwrap();
        assert_eq!(commit.seq, 1);
        let dates: Vec<&str> = commit
            .add
            .iter()
            .map(|f| f.path.split('/').next().unwrap())
            .collect();
        assert_eq!(
            dates,
            [
                "date=2024-03-04",
                "date=2024-03-05",
                "date=2024-03-04",
                "date=2024-03-05"
            ]
        );
        assert_eq!(writer.snapshot().rows(), 60);
        assert_eq!(writer.position("ql-test").unwrap().offset, 60);
        let mut offsets: Vec<u64> = Vec::new();
        for file in &writer.snapshot().files {
            let bytes = std::fs::read(lake.file_path("queue_log", file)).unwrap();
            for b in decode_parquet(bytes.into()).unwrap() {
                offsets.extend(
                    b.column(12)
                        .as_primitive::<arrow::datatypes::UInt64Type>()
                        .values()
                        .iter(),
                );
            }
        }
        offsets.sort_unstable();
        assert_eq!(offsets, (0..60).collect::<Vec<u64>>());
    }

    #[tokio::test]
    async fn second_writer_is_refused_and_orphans_are_vacuumed() {
        let dir = tempfile::tempdir().unwrap();
        let lake = Lake::open_local(dir.path()).unwrap();
        let lock = lake.lock_writer().unwrap();
        assert!(matches!(
            lake.lock_writer(),
            Err(EngineError::Locked { .. })
        ));
        // A data file written by a run that died before its commit.
        let orphan = dir
            .path()
            .join("queue_log/date=2024-03-04/part-00000000000000000001-0.parquet");
        std::fs::create_dir_all(orphan.parent().unwrap()).unwrap();
        std::fs::write(&orphan, b"not committed").unwrap();
        let settings = WriterSettings {
            vacuum_grace: Duration::ZERO,
            ..WriterSettings::default()
        };
        let writer = queue_log_writer(&lake, &lock, settings).await;
        assert!(!orphan.exists(), "vacuum removed the orphan");
        assert_eq!(writer.snapshot().seq, 0);
    }

    #[test]
    fn rows_split_by_utc_date() {
        let a = batch(1_709_596_799, 0..2); // 2024-03-04T23:59:59Z
        let b = batch(1_709_596_800, 2..3); // 2024-03-05T00:00:00Z
        let both = arrow::compute::concat_batches(&QUEUE_LOG_SCHEMA, &[a, b]).unwrap();
        let parts = split_by_date(&both, QUEUE_LOG_TS_COLUMN).unwrap();
        let labels: Vec<(String, usize)> = parts
            .iter()
            .map(|(d, b)| (d.clone(), b.num_rows()))
            .collect();
        assert_eq!(
            labels,
            vec![("2024-03-04".to_string(), 2), ("2024-03-05".to_string(), 1)]
        );
    }

    #[test]
    fn interleaved_dates_are_gathered_in_row_order() {
        let parts = [
            batch(1_709_596_799, 0..1),
            batch(1_709_596_800, 1..2),
            batch(1_709_596_798, 2..4),
        ];
        let mixed = arrow::compute::concat_batches(&QUEUE_LOG_SCHEMA, &parts).unwrap();
        let split = split_by_date(&mixed, QUEUE_LOG_TS_COLUMN).unwrap();
        let offsets = |b: &RecordBatch| -> Vec<u64> {
            b.column(12)
                .as_any()
                .downcast_ref::<arrow::array::UInt64Array>()
                .unwrap()
                .values()
                .to_vec()
        };
        assert_eq!(split.len(), 2);
        assert_eq!(split[0].0, "2024-03-04");
        assert_eq!(offsets(&split[0].1), vec![0, 2, 3]);
        assert_eq!(split[1].0, "2024-03-05");
        assert_eq!(offsets(&split[1].1), vec![1]);
    }
}
