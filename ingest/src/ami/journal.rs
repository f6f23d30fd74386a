//! The AMI journal: every event the client receives is appended here
//! first, one JSON object per line, and reaches the lake table
//! `ami_events` through the same checkpointed tail as queue_log.
//!
//! ```text
//!  line 1   {"journal":"queuelake.ami","version":1,"created_us":…,"server":"pbx:5038"}
//!  then     {"received_us":…,"event":"QueueCallerJoin","headers":[["Event","QueueCallerJoin"],…]}
//!           {"received_us":…,"event":"queuelake.gap","headers":[["Reason","closed by the server"],…]}
//! ```
//!
//! The first line names the file (its hash is the source identity the
//! lake's positions refer to), as Asterisk's first queue_log line does.
//! The file is rotated by rename (`ami.jsonl` → `ami.jsonl.<created>`) at
//! each UTC midnight or past [`ROTATE_BYTES`]; the tail finishes rotated
//! files and deletes them once committed to their end. A line cut by a
//! crash is removed when the journal is opened again (the tail never
//! commits past a line's end, so nothing committed is lost).

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use arrow::array::RecordBatch;
use queuelake_ami::Message;
use queuelake_ami::live::timestamp;
use queuelake_engine::ami_events::{AmiEventRow, AmiEventsBuilder, GAP_EVENT};
use serde::{Deserialize, Serialize};

use crate::error::{IngestError, Result};
use crate::queue_log::rows::{Appended, LineRows};
use crate::queue_log::tail::TailFormat;

/// `journal` of the header line.
pub const JOURNAL_KIND: &str = "queuelake.ami";

/// A journal is rotated once it is larger than this, unless configured
/// otherwise.
pub const ROTATE_BYTES: u64 = 256 * 1024 * 1024;

const DAY_US: i64 = 86_400_000_000;

/// The first line of a journal file.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Header {
    journal: String,
    version: u32,
    created_us: i64,
    server: String,
}

/// Every other line: an event as received, or a gap.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    received_us: i64,
    event: String,
    headers: Vec<(String, String)>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Line {
    Header(#[allow(dead_code)] Header),
    Entry(Entry),
}

/// Microseconds since the Unix epoch.
pub fn epoch_us(at: SystemTime) -> i64 {
    match at.duration_since(SystemTime::UNIX_EPOCH) {
        Ok(d) => d.as_micros() as i64,
        Err(e) => -(e.duration().as_micros() as i64),
    }
}

/// The append side of the journal.
#[derive(Debug)]
pub struct Journal {
    path: PathBuf,
    server: String,
    file: BufWriter<File>,
    created_us: i64,
    bytes: u64,
    rotate_bytes: u64,
}

impl Journal {
    /// Opens the journal at `path` for the PBX at `server`, creating it
    /// (with its header line) if needed and dropping a line a crash cut.
    pub fn open(path: &Path, server: &str) -> Result<Self> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| IngestError::write(dir, e))?;
        }
        let mut file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(path)
            .map_err(|e| IngestError::write(path, e))?;
        let complete = complete_length(&mut file).map_err(|e| IngestError::read(path, e))?;
        let len = file
            .metadata()
            .map_err(|e| IngestError::read(path, e))?
            .len();
        if complete < len {
            tracing::warn!(path = %path.display(), cut = len - complete, "AMI journal ended inside a line (a crash); dropped the partial line");
            file.set_len(complete)
                .map_err(|e| IngestError::write(path, e))?;
        }
        let created_us = if complete == 0 {
            None
        } else {
            read_header(path)?.map(|h| h.created_us)
        };
        let mut journal = Journal {
            path: path.to_owned(),
            server: server.to_owned(),
            file: BufWriter::with_capacity(1 << 16, file),
            created_us: created_us.unwrap_or(0),
            bytes: complete,
            rotate_bytes: ROTATE_BYTES,
        };
        if created_us.is_none() {
            if complete > 0 {
                // Not a journal we can read: keep it aside, start afresh.
                journal.rotate(epoch_us(SystemTime::now()))?;
            } else {
                journal.start(epoch_us(SystemTime::now()))?;
            }
        }
        Ok(journal)
    }

    /// Rotates once the file is larger than `bytes` (default
    /// [`ROTATE_BYTES`]).
    pub fn rotating_past(mut self, bytes: u64) -> Self {
        self.rotate_bytes = bytes;
        self
    }

    /// The journal's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The tail format of journal files.
    pub fn tail_format() -> TailFormat {
        TailFormat {
            rows: journal_rows,
            owned: true,
        }
    }

    fn start(&mut self, now_us: i64) -> Result<()> {
        let header = Header {
            journal: JOURNAL_KIND.to_owned(),
            version: 1,
            created_us: now_us,
            server: self.server.clone(),
        };
        self.created_us = now_us;
        self.bytes = 0;
        self.write_line(&header)?;
        self.flush()
    }

    fn write_line(&mut self, value: &impl Serialize) -> Result<()> {
        let mut line =
            serde_json::to_vec(value).map_err(|e| IngestError::write(&self.path, e.into()))?;
        line.push(b'\n');
        self.file
            .write_all(&line)
            .map_err(|e| IngestError::write(&self.path, e))?;
        self.bytes += line.len() as u64;
        Ok(())
    }

    /// Appends one event received at `received`.
    pub fn event(&mut self, message: &Message, received: SystemTime) -> Result<()> {
        let received_us = epoch_us(received);
        self.rotate_if_due(received_us)?;
        self.write_line(&Entry {
            received_us,
            event: message.get("Event").unwrap_or("").to_owned(),
            headers: message.headers.clone(),
        })
    }

    /// Appends a gap row: the link to the PBX was lost at `at`.
    pub fn gap(&mut self, reason: &str, at: SystemTime) -> Result<()> {
        let received_us = epoch_us(at);
        self.rotate_if_due(received_us)?;
        self.write_line(&Entry {
            received_us,
            event: GAP_EVENT.to_owned(),
            headers: vec![
                ("Reason".to_owned(), reason.to_owned()),
                ("Server".to_owned(), self.server.clone()),
            ],
        })
    }

    /// Hands what was appended to the OS (the tail reads it from there).
    pub fn flush(&mut self) -> Result<()> {
        self.file
            .flush()
            .map_err(|e| IngestError::write(&self.path, e))
    }

    fn rotate_if_due(&mut self, now_us: i64) -> Result<()> {
        let new_day = now_us.div_euclid(DAY_US) != self.created_us.div_euclid(DAY_US);
        if new_day || self.bytes >= self.rotate_bytes {
            self.rotate(now_us)?;
        }
        Ok(())
    }

    /// Renames the file aside (`<name>.<created seconds>`) and starts a new one.
    fn rotate(&mut self, now_us: i64) -> Result<()> {
        self.flush()?;
        self.file
            .get_ref()
            .sync_all()
            .map_err(|e| IngestError::write(&self.path, e))?;
        let mut target = self.path.as_os_str().to_owned();
        target.push(format!(".{}", self.created_us.div_euclid(1_000_000)));
        let target = PathBuf::from(target);
        std::fs::rename(&self.path, &target).map_err(|e| IngestError::write(&self.path, e))?;
        let file = OpenOptions::new()
            .append(true)
            .create(true)
            .open(&self.path)
            .map_err(|e| IngestError::write(&self.path, e))?;
        self.file = BufWriter::with_capacity(1 << 16, file);
        self.start(now_us)?;
        tracing::info!(rotated = %target.display(), "AMI journal rotated");
        Ok(())
    }
}

impl Drop for Journal {
    fn drop(&mut self) {
        let _ = self.file.flush();
    }
}

/// Length of the file up to the end of its last complete line.
fn complete_length(file: &mut File) -> std::io::Result<u64> {
    let len = file.metadata()?.len();
    let mut end = len;
    let mut chunk = vec![0u8; 1 << 16];
    while end > 0 {
        let start = end.saturating_sub(chunk.len() as u64);
        let part = &mut chunk[..(end - start) as usize];
        file.seek(SeekFrom::Start(start))?;
        file.read_exact(part)?;
        if let Some(i) = memchr::memrchr(b'\n', part) {
            return Ok(start + i as u64 + 1);
        }
        end = start;
    }
    Ok(0)
}

fn read_header(path: &Path) -> Result<Option<Header>> {
    let Some(first) = crate::queue_log::identity::first_line(path)? else {
        return Ok(None);
    };
    Ok(serde_json::from_slice::<Header>(&first)
        .ok()
        .filter(|h| h.journal == JOURNAL_KIND))
}

fn journal_rows() -> Box<dyn LineRows> {
    Box::<JournalRows>::default()
}

/// Journal lines → `ami_events` rows.
#[derive(Default)]
pub struct JournalRows {
    builder: AmiEventsBuilder,
}

impl LineRows for JournalRows {
    fn append_line(
        &mut self,
        line: &[u8],
        source: &str,
        offset: u64,
    ) -> std::result::Result<Appended, String> {
        let entry = match serde_json::from_slice::<Line>(line) {
            Ok(Line::Header(_)) => return Ok(Appended::Skipped),
            Ok(Line::Entry(entry)) => entry,
            Err(e) => return Err(format!("not a journal line: {e}")),
        };
        let message = Message {
            headers: entry.headers,
        };
        // The PBX's clock when it sent one, else the receive time.
        let ts_us = timestamp(&message).map_or(entry.received_us, |t| (t * 1e6).round() as i64);
        self.builder.append(&AmiEventRow {
            ts_us,
            received_us: entry.received_us,
            event: &entry.event,
            headers: &message.headers,
            source,
            byte_offset: offset,
        });
        Ok(Appended::Row { nul_bytes: 0 })
    }

    fn finish_rows(&mut self) -> RecordBatch {
        self.builder.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn event(name: &str, stamp: Option<&str>) -> Message {
        let mut m = Message::new([("Event", name), ("Queue", "support")]);
        if let Some(s) = stamp {
            m.headers.push(("Timestamp".into(), s.into()));
        }
        m
    }

    fn rows_of(path: &Path) -> (RecordBatch, u64) {
        let bytes = std::fs::read(path).unwrap();
        let mut rows = JournalRows::default();
        let mut skipped = 0;
        let mut offset = 0u64;
        for line in bytes.split_inclusive(|b| *b == b'\n') {
            let text = line.strip_suffix(b"\n").unwrap();
            if rows.append_line(text, "j", offset).unwrap() == Appended::Skipped {
                skipped += 1;
            }
            offset += line.len() as u64;
        }
        (rows.finish_rows(), skipped)
    }

    #[test]
    fn events_and_gaps_become_rows_and_a_cut_line_is_dropped_on_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ami.jsonl");
        let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        {
            let mut j = Journal::open(&path, "pbx:5038").unwrap();
            j.event(&event("QueueCallerJoin", Some("1699999999.500000")), t0)
                .unwrap();
            j.gap("closed by the server", t0).unwrap();
            j.flush().unwrap();
        }
        // A crash in the middle of a line.
        let mut f = OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(br#"{"received_us":1,"ev"#).unwrap();
        drop(f);
        let mut j = Journal::open(&path, "pbx:5038").unwrap();
        j.event(&event("QueueCallerLeave", None), t0).unwrap();
        j.flush().unwrap();
        let (batch, skipped) = rows_of(&path);
        assert_eq!((batch.num_rows(), skipped), (3, 1));
        let events = batch.column_by_name("event").unwrap();
        let events = arrow::array::AsArray::as_string::<i32>(events);
        assert_eq!(events.value(1), GAP_EVENT);
        let ts = batch.column(0);
        let ts =
            arrow::array::AsArray::as_primitive::<arrow::datatypes::TimestampMicrosecondType>(ts);
        assert_eq!(ts.value(0), 1_699_999_999_500_000, "the PBX's Timestamp");
        assert_eq!(ts.value(2), 1_700_000_000_000_000, "received, without one");
    }

    #[test]
    fn a_new_utc_day_rotates_by_rename() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ami.jsonl");
        let mut j = Journal::open(&path, "pbx").unwrap();
        let created = j.created_us;
        let tomorrow = SystemTime::UNIX_EPOCH
            + Duration::from_micros((created.div_euclid(DAY_US) + 1) as u64 * DAY_US as u64);
        j.event(&event("QueueCallerJoin", None), tomorrow).unwrap();
        j.flush().unwrap();
        let rotated = dir
            .path()
            .join(format!("ami.jsonl.{}", created.div_euclid(1_000_000)));
        assert!(rotated.exists());
        assert_eq!(rows_of(&rotated).0.num_rows(), 0);
        assert_eq!(rows_of(&path).0.num_rows(), 1);
        assert_ne!(
            crate::queue_log::identity::identify(&rotated).unwrap(),
            crate::queue_log::identity::identify(&path).unwrap()
        );
    }

    #[test]
    fn the_tail_commits_rotated_journals_and_then_deletes_them() {
        use queuelake_engine::ami_events::{AMI_EVENTS, AMI_EVENTS_SCHEMA, AMI_EVENTS_TS_COLUMN};
        use queuelake_engine::lake::{Lake, WriterSettings};
        use queuelake_engine::live::LiveTable;
        use std::sync::Arc;
        use std::sync::atomic::AtomicBool;

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("journal").join("ami.jsonl");
        let mut j = Journal::open(&path, "pbx").unwrap();
        let today = SystemTime::UNIX_EPOCH + Duration::from_micros(j.created_us as u64);
        let tomorrow = today + Duration::from_secs(86_400);
        j.event(&event("QueueCallerJoin", None), today).unwrap();
        j.gap("closed by the server", today).unwrap();
        j.event(&event("QueueCallerLeave", None), tomorrow).unwrap(); // rotates
        j.flush().unwrap();
        let created_s = today
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let rotated = dir.path().join(format!("journal/ami.jsonl.{created_s}"));
        assert!(rotated.exists());

        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let lake = Lake::open_local(&dir.path().join("lake")).unwrap();
        let lock = lake.lock_writer().unwrap();
        let writer = rt
            .block_on(lake.table_writer(
                &lock,
                AMI_EVENTS,
                AMI_EVENTS_SCHEMA.clone(),
                AMI_EVENTS_TS_COLUMN,
                WriterSettings::default(),
            ))
            .unwrap();
        let live = LiveTable::new(
            lake.clone(),
            AMI_EVENTS,
            AMI_EVENTS_SCHEMA.clone(),
            writer.snapshot(),
        )
        .unwrap();
        let dead =
            crate::queue_log::deadletter::DeadLetters::open_for(lake.root(), AMI_EVENTS).unwrap();
        let tailer = crate::queue_log::tail::Tailer::new(
            path.clone(),
            writer,
            live,
            dead,
            Default::default(),
            rt.handle().clone(),
        )
        .with_format(Journal::tail_format());
        // Stopped from the start: one pass, then commit.
        let stats = tailer.run(Arc::new(AtomicBool::new(true))).unwrap();
        assert_eq!((stats.rows, stats.skipped, stats.dead_letters), (3, 2, 0));
        assert!(
            !rotated.exists(),
            "committed to its end, the rotated journal is deleted"
        );
        assert!(path.exists(), "the live journal stays");
        let committed = rt.block_on(lake.snapshot(AMI_EVENTS)).unwrap();
        assert_eq!(committed.rows(), 3);
    }

    #[test]
    fn a_bad_line_is_an_error_naming_it() {
        let mut rows = JournalRows::default();
        let err = rows.append_line(b"{\"oops\":1}", "j", 0).unwrap_err();
        assert!(err.starts_with("not a journal line"), "{err}");
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            /// Whatever the headers (any text, repeats, no `Event`), what is
            /// journaled reads back as one row per event, named as sent.
            #[test]
            fn journaled_events_read_back(
                events in prop::collection::vec(
                    prop::collection::vec((".{0,12}", ".{0,40}"), 0..8), 1..20)
            ) {
                let dir = tempfile::tempdir().unwrap();
                let path = dir.path().join("ami.jsonl");
                let mut j = Journal::open(&path, "pbx").unwrap();
                let now = SystemTime::now();
                for headers in &events {
                    j.event(&Message::new(headers.clone()), now).unwrap();
                }
                j.flush().unwrap();
                let (batch, skipped) = rows_of(&path);
                prop_assert_eq!(skipped, 1);
                prop_assert_eq!(batch.num_rows(), events.len());
                let names = arrow::array::AsArray::as_string::<i32>(batch.column(2));
                for (i, headers) in events.iter().enumerate() {
                    let sent = Message::new(headers.clone());
                    prop_assert_eq!(names.value(i), sent.get("Event").unwrap_or(""));
                }
            }

            /// Arbitrary bytes are a row, a skipped header or an error; never a panic.
            #[test]
            fn any_line_is_handled(line in prop::collection::vec(any::<u8>(), 0..300)) {
                let mut rows = JournalRows::default();
                let _ = rows.append_line(&line, "j", 0);
                let _ = rows.finish_rows();
            }
        }
    }
}
