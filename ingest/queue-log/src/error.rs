//! Why a line could not be parsed.

/// A `queue_log` line that is not of the form
/// `<epoch>|<callid>|<queue>|<agent>|<event>|<payload>`.
///
/// Every variant names what was wrong; the caller adds where (source and
/// byte offset) when it records the line as a dead letter.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// Nothing but NUL bytes and line-end characters.
    #[error("empty line ({nul_bytes} NUL bytes)")]
    Empty {
        /// NUL bytes stripped before the line was found empty.
        nul_bytes: usize,
    },
    /// Fewer than the five `|`-separated fields of a header (time, call
    /// id, queue, agent, event); Asterisk writes a sixth, the payload,
    /// even when empty, and a line without it has an empty payload.
    #[error(
        "expected at least 5 '|'-separated fields (time|callid|queue|agent|event), found {found}"
    )]
    TooFewFields {
        /// How many fields the line had.
        found: usize,
    },
    /// The first field is not a Unix time in whole seconds.
    #[error("field 1 (time) is not a Unix epoch in seconds: {value:?}")]
    BadTimestamp {
        /// The field, decoded lossily and cut to 40 characters.
        value: String,
    },
    /// The event name (field 5) is empty.
    #[error("field 5 (event) is empty")]
    EmptyEvent,
}
