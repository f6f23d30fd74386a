//! The engine's one error type.

/// Everything that can go wrong in the lake or the query session.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// Reading or writing the object store failed.
    #[error("storage: {0}")]
    Store(#[from] object_store::Error),
    /// Local file-system work (locks, fsync) failed.
    #[error("i/o on {path}: {source}")]
    Io {
        /// The path being worked on.
        path: String,
        /// The underlying error.
        source: std::io::Error,
    },
    /// Encoding or decoding Parquet failed.
    #[error("parquet: {0}")]
    Parquet(#[from] parquet::errors::ParquetError),
    /// An Arrow kernel failed.
    #[error("arrow: {0}")]
    Arrow(#[from] arrow::error::ArrowError),
    /// A commit-log file is unreadable or of an unknown version.
    #[error("commit log {path}: {reason}")]
    CommitLog {
        /// The log file.
        path: String,
        /// What is wrong with it.
        reason: String,
    },
    /// Another process holds the lake's writer lock.
    #[error(
        "the lake at {root} is locked by another writer (is `queuelake serve` or `ingest` running on it?)"
    )]
    Locked {
        /// The lake's root folder.
        root: String,
    },
    /// A query was refused before it ran (read-only guard, bad SQL, limits).
    #[error("{0}")]
    QueryRefused(String),
    /// A query ran past its deadline.
    #[error("query exceeded its time limit of {0} ms ([query] timeout_ms)")]
    QueryTimeout(u64),
    /// A statement's expressions are deeper or more numerous than the
    /// limits allow (refused before planning).
    #[error("{0}")]
    StatementTooComplex(String),
    /// A result grew past `[query] max_result_rows` or `max_result_bytes`.
    #[error("{0}")]
    ResultTooLarge(String),
    /// The engine panicked on a query; the query failed, the service did not.
    #[error("the query failed inside the engine: {0}")]
    QueryPanicked(String),
    /// The query was cancelled (by its client, or because its caller went away).
    #[error("the query was cancelled")]
    QueryCancelled,
    /// DataFusion reported an error while planning or running a query.
    #[error("{0}")]
    DataFusion(#[from] datafusion::error::DataFusionError),
    /// A configuration value is invalid.
    #[error("invalid setting {name}: {reason}")]
    InvalidSetting {
        /// The setting's name.
        name: String,
        /// Why it is invalid.
        reason: String,
    },
}

/// Result alias for the engine.
pub type Result<T, E = EngineError> = std::result::Result<T, E>;

impl EngineError {
    pub(crate) fn io(path: impl std::fmt::Display, source: std::io::Error) -> Self {
        EngineError::Io {
            path: path.to_string(),
            source,
        }
    }
}
