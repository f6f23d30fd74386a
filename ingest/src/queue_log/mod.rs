//! The queue_log source: identity, framing, parsing into rows, dead
//! letters, backfill of whole files and the live tail; and the realtime
//! table in PostgreSQL (`postgres`).

pub mod backfill;
pub mod deadletter;
pub mod framing;
pub mod identity;
pub mod postgres;
pub mod rows;
pub mod tail;

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

use crate::error::{IngestError, Result};

/// Opens a source file for reading from its start, decompressing gzip
/// (recognised by its magic bytes, whatever the file is called).
pub fn open_source(path: &Path) -> Result<Box<dyn Read + Send>> {
    let gzip = is_gzip(path)?;
    let file = File::open(path).map_err(|e| IngestError::read(path, e))?;
    if gzip {
        Ok(Box::new(flate2::read::MultiGzDecoder::new(
            BufReader::with_capacity(1 << 20, file),
        )))
    } else {
        Ok(Box::new(file))
    }
}

/// Whether the file at `path` is gzip-compressed.
pub fn is_gzip(path: &Path) -> Result<bool> {
    let mut file = File::open(path).map_err(|e| IngestError::read(path, e))?;
    let mut magic = [0u8; 2];
    let n = read_up_to(&mut file, &mut magic).map_err(|e| IngestError::read(path, e))?;
    Ok(n == 2 && magic == [0x1f, 0x8b])
}

fn read_up_to(reader: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..])? {
            0 => break,
            n => filled += n,
        }
    }
    Ok(filled)
}
