//! The ingest crate's error type.

/// What can stop a source (a bad line never does: it becomes a dead letter).
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// Reading a source file failed.
    #[error("reading {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// The underlying error.
        source: std::io::Error,
    },
    /// Writing the dead-letter file failed.
    #[error("writing dead letters to {path}: {source}")]
    DeadLetter {
        /// The dead-letter file.
        path: String,
        /// The underlying error.
        source: std::io::Error,
    },
    /// Writing a file (the emulator's queue_log, the AMI journal) failed.
    #[error("writing {path}: {source}")]
    Write {
        /// The file.
        path: String,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A network operation (listening, connecting) failed.
    #[error("{what} {address}: {source}")]
    Network {
        /// What was being done (`listening on`, `connecting to`).
        what: &'static str,
        /// The address.
        address: String,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The PBX refused the AMI login: the credentials are wrong, and
    /// retrying would not help.
    #[error("AMI login to {server} refused: {reason}")]
    AmiLoginRefused {
        /// The PBX's address.
        server: String,
        /// The PBX's message.
        reason: String,
    },
    /// The PostgreSQL queue_log source failed in a way retrying cannot fix
    /// (a missing table or column, a bad URL).
    #[error("queue_log in PostgreSQL ({what}): {reason}")]
    Postgres {
        /// The table or URL.
        what: String,
        /// What is wrong.
        reason: String,
    },
    /// The simulation refused its configuration.
    #[error(transparent)]
    Simulation(#[from] queuelake_scheduler::sim::InvalidConfig),
    /// The lake refused a commit or could not be read.
    #[error(transparent)]
    Engine(#[from] queuelake_engine::EngineError),
    /// Watching the file for changes failed.
    #[error("watching {path}: {source}")]
    Watch {
        /// The watched path.
        path: String,
        /// The underlying error.
        source: notify::Error,
    },
}

/// Result alias for the ingest crate.
pub type Result<T, E = IngestError> = std::result::Result<T, E>;

impl IngestError {
    pub(crate) fn read(path: &std::path::Path, source: std::io::Error) -> Self {
        IngestError::Read {
            path: path.display().to_string(),
            source,
        }
    }

    pub(crate) fn write(path: &std::path::Path, source: std::io::Error) -> Self {
        IngestError::Write {
            path: path.display().to_string(),
            source,
        }
    }
}
