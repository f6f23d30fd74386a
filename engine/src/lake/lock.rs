//! One writer per lake: an exclusive lock on `<lake>/_writer.lock`.
//!
//! The lock is an OS file lock, so it is released when the process dies,
//! `kill -9` included; a stale lock file never blocks a restart.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::Write;
use std::path::Path;

use crate::error::{EngineError, Result};

/// Held while a process may write to the lake.
#[derive(Debug)]
pub struct WriterLock {
    _file: File,
}

impl WriterLock {
    /// Takes the lock, or fails at once with [`EngineError::Locked`].
    pub fn acquire(root: &Path) -> Result<Self> {
        let path = root.join("_writer.lock");
        let mut file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| EngineError::io(path.display(), e))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                return Err(EngineError::Locked {
                    root: root.display().to_string(),
                });
            }
            Err(TryLockError::Error(e)) => return Err(EngineError::io(path.display(), e)),
        }
        // The pid is for people looking at the folder; the lock is the truth.
        let _ = file
            .set_len(0)
            .and_then(|()| writeln!(file, "{}", std::process::id()));
        Ok(WriterLock { _file: file })
    }
}
