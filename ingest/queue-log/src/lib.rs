//! Asterisk `queue_log` lines: parse and format, byte for byte.
//!
//! Asterisk writes one line per event (`main/logger.c`, `ast_queue_log`):
//!
//! ```text
//! <epoch>|<callid>|<queuename>|<agent>|<event>|<payload>\n
//! ```
//!
//! The payload is the event's data fields joined with `|`, **without any
//! escaping**, so a payload may hold more `|` than the event defines
//! (ATTENDEDTRANSFER `APP|Queue|…`, caller-ID names, `QueueLog()` text).
//! This crate therefore never interprets the payload: it keeps it whole and
//! offers the first five fields the way Asterisk's own realtime backend
//! splits them (the fifth field takes the rest of the payload).
//!
//! Guarantee: for every [`Record`] `r` that [`Record::is_writable`],
//! `parse_line(&r.to_line()) == r`; and `parse_line` never panics, whatever
//! the bytes.
//!
//! Modules:
//! - [`line`]: the borrowed, zero-copy view of one parsed line and the parser.
//! - [`record`]: the owned form of a line, and the formatter.
//! - [`error`]: why a line could not be parsed.

pub mod error;
pub mod line;
pub mod record;

pub use error::ParseError;
pub use line::{Line, parse_line};
pub use record::Record;

/// Most data fields Asterisk's realtime backend splits a payload into; the
/// last one keeps the rest of the payload, pipes included.
pub const DATA_FIELDS: usize = 5;
