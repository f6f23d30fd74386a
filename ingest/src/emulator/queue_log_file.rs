//! The emulator's queue_log file, written as Asterisk writes it: whole
//! lines appended and flushed, and rotation by rename (`rotatestrategy =
//! sequential`: the file becomes `queue_log.<n>`, the first free n from 0,
//! and a new file starts with a CONFIGRELOAD line).

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::error::{IngestError, Result};

/// An append-only queue_log with rename rotation.
#[derive(Debug)]
pub struct QueueLogFile {
    path: PathBuf,
    out: BufWriter<File>,
}

impl QueueLogFile {
    /// Opens (creating if needed) the file at `path` for appending.
    pub fn open(path: &Path) -> Result<Self> {
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| IngestError::write(path, e))?;
        Ok(QueueLogFile {
            path: path.to_owned(),
            out: BufWriter::with_capacity(1 << 16, file),
        })
    }

    /// The live file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends lines (each gets its `\n`); call [`QueueLogFile::flush`] to
    /// make them visible.
    pub fn append<S: AsRef<str>>(&mut self, lines: &[S]) -> Result<()> {
        for line in lines {
            self.out
                .write_all(line.as_ref().as_bytes())
                .and_then(|()| self.out.write_all(b"\n"))
                .map_err(|e| IngestError::write(&self.path, e))?;
        }
        Ok(())
    }

    /// Hands what was appended to the OS (Asterisk flushes every line; the
    /// emulator flushes once per step, so a reader may still see a partial
    /// line when the buffer fills mid-line — as it may with Asterisk).
    pub fn flush(&mut self) -> Result<()> {
        self.out
            .flush()
            .map_err(|e| IngestError::write(&self.path, e))
    }

    /// Renames the file to `queue_log.<n>` (first free n) and starts a new
    /// one whose first line is `first_line`. Returns the rotated path.
    pub fn rotate(&mut self, first_line: &str) -> Result<PathBuf> {
        self.flush()?;
        let rotated = (0u32..)
            .map(|n| PathBuf::from(format!("{}.{n}", self.path.display())))
            .find(|p| !p.exists())
            .unwrap_or_else(|| self.path.with_extension("rotated"));
        std::fs::rename(&self.path, &rotated).map_err(|e| IngestError::write(&self.path, e))?;
        *self = QueueLogFile::open(&self.path)?;
        self.append(&[first_line])?;
        self.flush()?;
        Ok(rotated)
    }
}
