//! From framed lines to lake rows: parse each line, append it to its
//! table's builder, or record it as a dead letter. Never stops on a bad
//! line. [`LineRows`] is what a line format provides (queue_log here, the
//! AMI journal in [`crate::ami::journal`]); [`RowSink`] does the rest.

use arrow::array::RecordBatch;
use queuelake_engine::tables::{QueueLogBuilder, QueueLogRow};
use queuelake_queue_log::parse_line;

use crate::error::Result;
use crate::queue_log::deadletter::{DeadLetter, DeadLetters, hex};
use crate::queue_log::framing::Framed;

/// Counters of one run over one or more sources.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct LineStats {
    /// Lines that became rows.
    pub rows: u64,
    /// Lines that became dead letters.
    pub dead_letters: u64,
    /// NUL bytes stripped from line starts (crash holes).
    pub nul_bytes: u64,
    /// Bytes framed.
    pub bytes: u64,
    /// Lines that are not data (a journal's header line).
    pub skipped: u64,
}

impl std::ops::AddAssign for LineStats {
    fn add_assign(&mut self, o: Self) {
        self.rows += o.rows;
        self.dead_letters += o.dead_letters;
        self.nul_bytes += o.nul_bytes;
        self.bytes += o.bytes;
        self.skipped += o.skipped;
    }
}

/// What became of one line a format accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Appended {
    /// A row; `nul_bytes` crash-hole bytes were stripped from its start.
    Row {
        /// NUL bytes stripped.
        nul_bytes: u32,
    },
    /// Not data (a file's header line): no row, no dead letter.
    Skipped,
}

/// A line format: how one line becomes a row of its table.
pub trait LineRows: Send {
    /// Appends the line that starts at `offset` of `source`; `Err` says
    /// why it is not a valid line (it becomes a dead letter).
    fn append_line(
        &mut self,
        line: &[u8],
        source: &str,
        offset: u64,
    ) -> std::result::Result<Appended, String>;

    /// The rows appended so far, as a batch; empties the builder.
    fn finish_rows(&mut self) -> RecordBatch;
}

impl LineRows for QueueLogBuilder {
    fn append_line(
        &mut self,
        line: &[u8],
        source: &str,
        offset: u64,
    ) -> std::result::Result<Appended, String> {
        let l = parse_line(line).map_err(|e| e.to_string())?;
        self.append(&QueueLogRow {
            epoch: l.epoch,
            header: [l.callid, l.queue, l.agent, l.event, l.payload],
            data: l.data_fields(),
            source,
            byte_offset: offset,
        });
        Ok(Appended::Row {
            nul_bytes: l.nul_bytes as u32,
        })
    }

    fn finish_rows(&mut self) -> RecordBatch {
        self.finish()
    }
}

/// Turns the lines of one source into rows.
pub struct RowSink<'a, R: LineRows + ?Sized = QueueLogBuilder> {
    /// Where rows go.
    pub builder: &'a mut R,
    /// Where bad lines go.
    pub dead: &'a mut DeadLetters,
    /// The source's identity.
    pub source: &'a str,
    /// The path it is read from (for dead letters and logs).
    pub path: &'a str,
    /// Counters.
    pub stats: LineStats,
}

impl<R: LineRows + ?Sized> RowSink<'_, R> {
    /// Handles one line.
    pub fn line(&mut self, line: Framed<'_>) -> Result<()> {
        self.stats.bytes += line.bytes.len() as u64 + 1;
        let appended = if line.overlong {
            Err(format!("line longer than {} bytes (cut)", line.bytes.len()))
        } else {
            self.builder
                .append_line(line.bytes, self.source, line.offset)
        };
        match appended {
            Ok(Appended::Row { nul_bytes }) => {
                self.stats.nul_bytes += u64::from(nul_bytes);
                self.stats.rows += 1;
            }
            Ok(Appended::Skipped) => self.stats.skipped += 1,
            Err(error) => {
                let letter = DeadLetter {
                    source: self.source.to_string(),
                    path: self.path.to_string(),
                    byte_offset: line.offset,
                    error: error.clone(),
                    line: String::from_utf8_lossy(line.bytes).into_owned(),
                    line_hex: hex(line.bytes),
                };
                let new = self.dead.record(letter)?;
                if new && self.stats.dead_letters == 0 {
                    tracing::warn!(path = self.path, byte_offset = line.offset, %error,
                        "line could not be parsed; kept in {} (further ones in this source are counted, not logged)",
                        self.dead.path().display());
                }
                self.stats.dead_letters += 1;
            }
        }
        Ok(())
    }
}
