//! From framed lines to lake rows: parse each line, append it to the
//! `queue_log` builder, or record it as a dead letter. Never stops on a bad
//! line.

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
}

impl std::ops::AddAssign for LineStats {
    fn add_assign(&mut self, o: Self) {
        self.rows += o.rows;
        self.dead_letters += o.dead_letters;
        self.nul_bytes += o.nul_bytes;
        self.bytes += o.bytes;
    }
}

/// Turns the lines of one source into rows.
pub struct RowSink<'a> {
    /// Where rows go.
    pub builder: &'a mut QueueLogBuilder,
    /// Where bad lines go.
    pub dead: &'a mut DeadLetters,
    /// The source's identity.
    pub source: &'a str,
    /// The path it is read from (for dead letters and logs).
    pub path: &'a str,
    /// Counters.
    pub stats: LineStats,
}

impl RowSink<'_> {
    /// Handles one line.
    pub fn line(&mut self, line: Framed<'_>) -> Result<()> {
        self.stats.bytes += line.bytes.len() as u64 + 1;
        let parsed = if line.overlong {
            Err(format!("line longer than {} bytes (cut)", line.bytes.len()))
        } else {
            parse_line(line.bytes).map_err(|e| e.to_string())
        };
        match parsed {
            Ok(l) => {
                self.stats.nul_bytes += l.nul_bytes as u64;
                self.builder.append(&QueueLogRow {
                    epoch: l.epoch,
                    header: [l.callid, l.queue, l.agent, l.event, l.payload],
                    data: l.data_fields(),
                    source: self.source,
                    byte_offset: line.offset,
                });
                self.stats.rows += 1;
            }
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
                        "queue_log line could not be parsed; kept in {} (further ones in this source are counted, not logged)",
                        self.dead.path().display());
                }
                self.stats.dead_letters += 1;
            }
        }
        Ok(())
    }
}
