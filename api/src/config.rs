//! The configuration file of `serve` (`--config PATH`): where queue_log
//! and AMI come from. Flags and `QUEUELAKE_…` variables win over the file;
//! unknown keys are refused with their name.
//!
//! ```toml
//! version = 1
//!
//! [queue_log]
//! file = "/var/log/asterisk/queue_log"     # or: postgres = "postgres://…", table = "queue_log"
//!
//! [ami]
//! address = "127.0.0.1:5038"
//! user = "queuelake"
//! secret = "…"
//! auth = "md5"                              # or "plain"
//! ```

use std::path::{Path, PathBuf};

use serde::Deserialize;

/// The file's layout version this build reads.
pub const CONFIG_VERSION: u32 = 1;

/// The whole file.
#[derive(Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    /// Layout version (1).
    pub version: u32,
    /// Where queue_log comes from.
    #[serde(default)]
    pub queue_log: QueueLogSection,
    /// The PBX's AMI.
    pub ami: Option<AmiSection>,
}

/// `[queue_log]`: a file, or a PostgreSQL table.
#[derive(Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct QueueLogSection {
    /// The live queue_log file.
    pub file: Option<PathBuf>,
    /// PostgreSQL URL of Asterisk's realtime queue_log.
    pub postgres: Option<String>,
    /// Its table (default `queue_log`).
    pub table: Option<String>,
    /// Zone of the table's `time` values that carry none.
    pub table_time_zone: Option<String>,
}

/// `[ami]`.
#[derive(Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct AmiSection {
    /// HOST:PORT of the AMI listener.
    pub address: String,
    /// AMI user.
    pub user: String,
    /// AMI secret.
    pub secret: String,
    /// `md5` (default) or `plain`.
    #[serde(default)]
    pub auth: Option<String>,
}

impl ConfigFile {
    /// Reads and checks the file at `path`.
    pub fn load(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("reading {}: {e}", path.display()))?;
        Self::parse(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
    }

    /// Parses and checks a file's text.
    pub fn parse(text: &str) -> anyhow::Result<Self> {
        let config: ConfigFile = toml::from_str(text)?;
        if config.version != CONFIG_VERSION {
            anyhow::bail!(
                "version {} is not one this build reads (it reads {CONFIG_VERSION})",
                config.version
            );
        }
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_file_is_read() {
        let config = ConfigFile::parse(
            r#"
            version = 1
            [queue_log]
            postgres = "postgres://asterisk@db/asterisk"
            table = "ql"
            [ami]
            address = "pbx:5038"
            user = "queuelake"
            secret = "s"
            "#,
        )
        .unwrap();
        assert_eq!(config.queue_log.table.as_deref(), Some("ql"));
        assert_eq!(config.ami.unwrap().address, "pbx:5038");
    }

    #[test]
    fn unknown_keys_and_versions_are_refused_by_name() {
        let err = ConfigFile::parse(
            "version = 1\n[ami]\naddress = \"x\"\nuser = \"u\"\nsecret = \"s\"\npassword = \"p\"\n",
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("password"), "{err}");
        let err = ConfigFile::parse("version = 7\n").unwrap_err().to_string();
        assert!(err.contains("version 7"), "{err}");
    }
}
