//! Dead letters: lines that could not be parsed, kept with where they came
//! from, in `<lake>/dead_letters/<table>.jsonl`.
//!
//! One JSON object per line: `source`, `path`, `byte_offset`, `error`,
//! `line` (lossy UTF-8) and `line_hex` (the exact bytes). A line is written
//! once per (source, byte_offset): re-reading after a crash does not repeat it.

use std::collections::HashSet;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{IngestError, Result};

/// One dead letter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeadLetter {
    /// Identity of the source file.
    pub source: String,
    /// Path the source was read from.
    pub path: String,
    /// Where the line starts in the source.
    pub byte_offset: u64,
    /// What was wrong.
    pub error: String,
    /// The line, decoded lossily.
    pub line: String,
    /// The line's exact bytes, hex-encoded.
    pub line_hex: String,
}

/// The counter of dead letters recorded, labelled by `table`.
pub const DEAD_LETTERS_METRIC: &str = "queuelake_dead_letters_total";

/// The dead-letter file of one lake.
#[derive(Debug)]
pub struct DeadLetters {
    path: PathBuf,
    /// The table whose lines these are (the metric's label).
    table: String,
    seen: HashSet<(String, u64)>,
    file: Option<File>,
}

impl DeadLetters {
    /// Opens `<lake>/dead_letters/queue_log.jsonl`, remembering what it holds.
    pub fn open(lake_root: &Path) -> Result<Self> {
        Self::open_for(lake_root, "queue_log")
    }

    /// Opens `<lake>/dead_letters/<table>.jsonl`, remembering what it holds.
    pub fn open_for(lake_root: &Path, table: &str) -> Result<Self> {
        let path = lake_root
            .join("dead_letters")
            .join(format!("{table}.jsonl"));
        let mut seen = HashSet::new();
        if let Ok(file) = File::open(&path) {
            for line in BufReader::new(file).lines().map_while(std::io::Result::ok) {
                if let Ok(d) = serde_json::from_str::<DeadLetter>(&line) {
                    seen.insert((d.source, d.byte_offset));
                }
            }
        }
        // queuelake_dead_letters_total counts what the file holds.
        metrics::counter!(DEAD_LETTERS_METRIC, "table" => table.to_owned())
            .absolute(seen.len() as u64);
        Ok(DeadLetters {
            path,
            table: table.to_owned(),
            seen,
            file: None,
        })
    }

    /// A placeholder that holds nothing (while the real one is lent out).
    pub(crate) fn detached() -> Self {
        DeadLetters {
            path: PathBuf::new(),
            table: String::new(),
            seen: HashSet::new(),
            file: None,
        }
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Records a dead letter unless already recorded; returns whether it was new.
    pub fn record(&mut self, letter: DeadLetter) -> Result<bool> {
        if !self
            .seen
            .insert((letter.source.clone(), letter.byte_offset))
        {
            return Ok(false);
        }
        let err = |source| IngestError::DeadLetter {
            path: self.path.display().to_string(),
            source,
        };
        if self.file.is_none() {
            if let Some(dir) = self.path.parent() {
                std::fs::create_dir_all(dir).map_err(err)?;
            }
            self.file = Some(
                OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(&self.path)
                    .map_err(err)?,
            );
        }
        let mut json = serde_json::to_vec(&letter).unwrap_or_default();
        json.push(b'\n');
        if let Some(file) = self.file.as_mut() {
            file.write_all(&json).map_err(err)?;
        }
        metrics::counter!(DEAD_LETTERS_METRIC, "table" => self.table.clone()).increment(1);
        Ok(true)
    }

    /// Reads every dead letter in the file (tools and tests).
    pub fn read_all(lake_root: &Path) -> Vec<DeadLetter> {
        let path = lake_root.join("dead_letters").join("queue_log.jsonl");
        let Ok(file) = File::open(path) else {
            return Vec::new();
        };
        BufReader::new(file)
            .lines()
            .map_while(std::io::Result::ok)
            .filter_map(|l| serde_json::from_str(&l).ok())
            .collect()
    }
}

/// Lower-case hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
