//! Which file is which: a source's identity is a hash of its first line.
//!
//! Names change under rotation (`queue_log` → `queue_log.1` →
//! `queue_log.2.gz`) and inodes change under compression, but the first
//! line does not: Asterisk starts every file with a line carrying its own
//! epoch. So the first line, up to its `\n`, names the source, and the same
//! content is recognised whatever it is called and however it is stored.
//! A file whose first line is not complete yet has no identity yet.

use std::io::Read;
use std::path::Path;

use xxhash_rust::xxh3::{xxh3_64, xxh3_128};

use crate::error::{IngestError, Result};
use crate::queue_log::open_source;

/// Longest first line used for the identity; a longer one is cut here.
pub const IDENTITY_PREFIX_MAX: usize = 8192;

/// Bytes before a position that its tail hash covers.
pub const TAIL_HASH_BYTES: usize = 64;

/// The identity of a source, as stored in the lake (`ql-` + 32 hex digits).
pub fn source_id(first_line: &[u8]) -> String {
    format!("ql-{:032x}", xxh3_128(first_line))
}

/// The Unix time at the start of a first line, used to order rotated files.
pub fn first_epoch(first_line: &[u8]) -> Option<i64> {
    let line = first_line.strip_suffix(b"\n").unwrap_or(first_line);
    queuelake_queue_log::parse_line(line).ok().map(|l| l.epoch)
}

/// Hash of the bytes just before a position (see [`TAIL_HASH_BYTES`]).
pub fn tail_hash(bytes_before: &[u8]) -> u64 {
    let start = bytes_before.len().saturating_sub(TAIL_HASH_BYTES);
    xxh3_64(&bytes_before[start..])
}

/// The identity of the file at `path` (plain or gzip), or `None` while its
/// first line has no `\n` yet.
pub fn identify(path: &Path) -> Result<Option<String>> {
    Ok(first_line(path)?.map(|line| source_id(&line)))
}

/// The first line of the file at `path` with its `\n` (cut at
/// [`IDENTITY_PREFIX_MAX`]), or `None` while it has no `\n` yet.
pub fn first_line(path: &Path) -> Result<Option<Vec<u8>>> {
    let mut reader = open_source(path)?;
    let mut buf = Vec::with_capacity(256);
    let mut chunk = [0u8; 512];
    loop {
        let n = reader
            .read(&mut chunk)
            .map_err(|e| IngestError::read(path, e))?;
        if n == 0 {
            return Ok(None);
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(end) = memchr::memchr(b'\n', &buf) {
            buf.truncate(end + 1);
            return Ok(Some(buf));
        }
        if buf.len() >= IDENTITY_PREFIX_MAX {
            buf.truncate(IDENTITY_PREFIX_MAX);
            return Ok(Some(buf));
        }
    }
}
