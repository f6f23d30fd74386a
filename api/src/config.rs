//! `queuelake.toml`: the service's configuration, typed and checked once
//! at start-up. Unknown keys are refused with their name; every field is
//! documented (with its unit) in the annotated file `queuelake init`
//! writes ([`crate::commands::init::TEMPLATE`]).
//!
//! Precedence, highest first: command-line flags and their `QUEUELAKE_…`
//! variables (each flag names its variable in `--help`), then
//! `QUEUELAKE_<SECTION>__<KEY>` variables (any key of any section, e.g.
//! `QUEUELAKE_SERVER__REQUESTS_PER_SECOND=0`), then this file, then
//! built-in defaults. Tokens come from the file only.
//!
//! `version` is the file's layout version; a later layout will read older
//! versions and say what changed, and refuses versions it does not know.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use queuelake_engine::kpi::KpiSettings;
use queuelake_engine::session::QueryLimits;
use serde::Deserialize;

use crate::auth::TokenEntry;

/// The file's layout version this build reads.
pub const CONFIG_VERSION: u32 = 1;

/// The whole file.
#[derive(Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    /// Layout version (1).
    pub version: u32,
    /// The HTTP API: address and request limits.
    #[serde(default)]
    pub server: ServerSection,
    /// SQL over the PostgreSQL wire protocol.
    #[serde(default)]
    pub postgres_wire: PostgresWireSection,
    /// Limits of every SQL query (HTTP and PostgreSQL wire).
    #[serde(default)]
    pub query: QuerySection,
    /// How KPIs are computed.
    #[serde(default)]
    pub kpi: KpiSettings,
    /// Where queue_log comes from.
    #[serde(default)]
    pub queue_log: QueueLogSection,
    /// The PBX's AMI.
    pub ami: Option<AmiSection>,
    /// Commit cadence of the live sources.
    #[serde(default)]
    pub ingest: IngestSection,
    /// Forecast runs: horizon, schedule, special days.
    #[serde(default)]
    pub forecast: ForecastSection,
    /// How forecasts are staffed: target, model, shrinkage.
    #[serde(default)]
    pub staffing: StaffingSection,
    /// Shift patterns, days off, weights and the roster of schedules.
    #[serde(default)]
    pub scheduling: crate::scheduling::inputs::SchedulingInputs,
    /// Dialer pacing per campaign.
    #[serde(default)]
    pub pacing: crate::pacing::settings::PacingSection,
    /// The report job queue: store, retries, workers.
    #[serde(default)]
    pub jobs: crate::reports::settings::JobsSection,
    /// E-mail delivery of reports.
    #[serde(default)]
    pub mail: crate::reports::settings::MailSection,
    /// Reports (`[[reports]]`): changes to the built-in reports, and new ones.
    #[serde(default)]
    pub reports: Vec<queuelake_reports::definition::ReportEntry>,
    /// API tokens (`[[tokens]]`), stored as SHA-256 digests.
    #[serde(default)]
    pub tokens: Vec<TokenEntry>,
    /// The folder relative paths in the file are read from (the file's own).
    #[serde(skip)]
    pub base_dir: PathBuf,
}

impl Default for ConfigFile {
    fn default() -> Self {
        ConfigFile {
            version: CONFIG_VERSION,
            server: ServerSection::default(),
            postgres_wire: PostgresWireSection::default(),
            query: QuerySection::default(),
            kpi: KpiSettings::default(),
            queue_log: QueueLogSection::default(),
            ami: None,
            ingest: IngestSection::default(),
            forecast: ForecastSection::default(),
            staffing: StaffingSection::default(),
            scheduling: crate::scheduling::inputs::SchedulingInputs::default(),
            pacing: crate::pacing::settings::PacingSection::default(),
            jobs: crate::reports::settings::JobsSection::default(),
            mail: crate::reports::settings::MailSection::default(),
            reports: Vec::new(),
            tokens: Vec::new(),
            base_dir: PathBuf::from("."),
        }
    }
}

/// `[server]`.
#[derive(Debug, Deserialize, PartialEq, Clone)]
#[serde(deny_unknown_fields, default)]
pub struct ServerSection {
    /// Address of the HTTP API.
    pub listen: SocketAddr,
    /// Largest request body accepted, in bytes (larger: 413).
    pub max_body_bytes: usize,
    /// Requests per second each token may make on average (0: no limit).
    pub requests_per_second: u32,
    /// Requests a token may make at once above that rate.
    pub burst: u32,
    /// Failed sign-ins a peer address may make per second on average
    /// (HTTP and the PostgreSQL port together; 0: no limit).
    pub auth_failures_per_second: u32,
    /// Failed sign-ins a peer may make at once above that rate.
    pub auth_failures_burst: u32,
    /// HTTP connections open at once (more: 503 and closed); keep it
    /// under the process's file-descriptor limit.
    pub max_connections: usize,
    /// HTTP connections open at once from one peer address.
    pub max_connections_per_peer: usize,
    /// Time a client has to send a request's headers, and the longest a
    /// kept-alive connection may idle between requests, in ms.
    pub header_timeout_ms: u64,
    /// Time a client has to send a request's body, in ms (later: 408).
    pub body_timeout_ms: u64,
    /// Time a write to a client that reads nothing may stall before the
    /// connection is closed, in ms.
    pub write_stall_ms: u64,
}

impl ServerSection {
    /// The bounds on the HTTP port's connections.
    pub fn connection_limits(&self) -> crate::http::connections::ConnectionLimits {
        crate::http::connections::ConnectionLimits {
            max_connections: self.max_connections,
            max_per_peer: self.max_connections_per_peer,
            header_timeout: std::time::Duration::from_millis(self.header_timeout_ms),
            body_timeout: std::time::Duration::from_millis(self.body_timeout_ms),
            write_stall: std::time::Duration::from_millis(self.write_stall_ms),
        }
    }
}

impl Default for ServerSection {
    fn default() -> Self {
        ServerSection {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            max_body_bytes: 1024 * 1024,
            requests_per_second: 50,
            burst: 100,
            auth_failures_per_second: 1,
            auth_failures_burst: 10,
            max_connections: 512,
            max_connections_per_peer: 128,
            header_timeout_ms: 10_000,
            body_timeout_ms: 30_000,
            write_stall_ms: 30_000,
        }
    }
}

/// `[postgres_wire]`.
#[derive(Debug, Deserialize, PartialEq, Clone)]
#[serde(deny_unknown_fields, default)]
pub struct PostgresWireSection {
    /// Whether `serve` listens for PostgreSQL clients.
    pub enabled: bool,
    /// Address for PostgreSQL clients (never 5432: that is a real server's).
    pub listen: SocketAddr,
    /// PEM certificate chain; with `tls_key`, clients may use TLS.
    pub tls_cert: Option<PathBuf>,
    /// PEM private key (PKCS#8) of `tls_cert`.
    pub tls_key: Option<PathBuf>,
    /// Signed-in connections served at once (more are refused with FATAL 53300).
    pub max_connections: usize,
    /// Connections that have not signed in yet, at once (a full set closes
    /// its oldest).
    pub max_unauthenticated: usize,
    /// Time a connection has to sign in, in milliseconds.
    pub startup_timeout_ms: u64,
    /// Named prepared statements a connection may hold at once, and as
    /// many named portals (more are refused with 53400).
    pub max_prepared_statements: usize,
}

impl Default for PostgresWireSection {
    fn default() -> Self {
        PostgresWireSection {
            enabled: true,
            listen: SocketAddr::from(([127, 0, 0, 1], 5433)),
            tls_cert: None,
            tls_key: None,
            max_connections: 64,
            max_unauthenticated: 16,
            startup_timeout_ms: 10_000,
            max_prepared_statements: 256,
        }
    }
}

/// `[query]`.
#[derive(Debug, Deserialize, PartialEq, Clone)]
#[serde(deny_unknown_fields, default)]
pub struct QuerySection {
    /// Memory a query may hold for sorts, joins and aggregates, in MiB.
    pub memory_limit_mb: u64,
    /// Wall-clock deadline of a query, in milliseconds.
    pub timeout_ms: u64,
    /// Queries run at once across all clients (more wait up to
    /// `queue_wait_ms`, then get 429).
    pub max_concurrent: usize,
    /// How long a query waits for a free slot, in milliseconds.
    pub queue_wait_ms: u64,
    /// Threads queries plan and run on (0: cores × max_concurrent).
    pub threads: usize,
    /// Rows a result may have.
    pub max_result_rows: u64,
    /// Bytes (Arrow, in memory) a result may have.
    pub max_result_bytes: u64,
    /// Bytes one value made by `repeat`, `lpad` or `rpad` may have.
    pub max_value_bytes: u64,
    /// Levels of nested expressions in one statement.
    pub max_expression_depth: usize,
    /// Expressions in one statement.
    pub max_expression_nodes: usize,
    /// Row pairs a join without an equality condition may compare.
    pub max_nested_loop_pairs: u64,
    /// Rows the build side of a join without an equality condition may have.
    pub max_nested_loop_build_rows: u64,
}

impl Default for QuerySection {
    fn default() -> Self {
        let limits = QueryLimits::default();
        QuerySection {
            memory_limit_mb: limits.memory_limit_mb,
            timeout_ms: limits.timeout_ms,
            max_concurrent: 4,
            queue_wait_ms: 2_000,
            threads: 0,
            max_result_rows: limits.max_result_rows,
            max_result_bytes: limits.max_result_bytes,
            max_value_bytes: limits.max_value_bytes,
            max_expression_depth: limits.max_expression_depth,
            max_expression_nodes: limits.max_expression_nodes,
            max_nested_loop_pairs: limits.max_nested_loop_pairs,
            max_nested_loop_build_rows: limits.max_nested_loop_build_rows,
        }
    }
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
    /// Wrap-up seconds per queue, as queues.conf's `wrapuptime` says (AMI
    /// reports only a member's own `Wrapuptime`, usually 0): members are
    /// shown in wrap-up, not free, for that long after a call.
    #[serde(default)]
    pub wrapup_seconds: std::collections::BTreeMap<String, f64>,
    /// Rotate the AMI journal once it is larger than this many KiB
    /// (default 262144: 256 MiB); it is also rotated each UTC midnight.
    #[serde(default)]
    pub journal_rotate_kib: Option<u64>,
}

/// `[ingest]`.
#[derive(Debug, Deserialize, PartialEq, Clone)]
#[serde(deny_unknown_fields, default)]
pub struct IngestSection {
    /// Commit rows held in memory after this many seconds.
    pub flush_seconds: u64,
    /// Commit once this many rows are held in memory.
    pub flush_rows: usize,
    /// Poll the queue_log file this often, in milliseconds.
    pub poll_ms: u64,
    /// Look for newly closed days of `calls` to store this often, in seconds.
    pub rollup_seconds: u64,
}

impl Default for IngestSection {
    fn default() -> Self {
        IngestSection {
            flush_seconds: 60,
            flush_rows: 200_000,
            poll_ms: 250,
            rollup_seconds: 60,
        }
    }
}

/// `[forecast]`.
#[derive(Debug, Deserialize, PartialEq, Clone)]
#[serde(deny_unknown_fields, default)]
pub struct ForecastSection {
    /// How far each run looks ahead: `2w`, `10d`, `36h` (at most 6 weeks).
    pub horizon: String,
    /// Forecast and staff every queue this often, in hours (0: only on
    /// request). `serve` runs the first at start-up.
    pub every_hours: u64,
    /// Rolling origins of the backtest that picks each queue's model.
    pub backtest_origins: usize,
    /// Weeks of history used (the most recent).
    pub history_weeks: u32,
    /// Holidays, campaigns: out of the history, overridden in forecasts.
    pub special_days: Vec<SpecialDayEntry>,
}

impl Default for ForecastSection {
    fn default() -> Self {
        ForecastSection {
            horizon: "2w".into(),
            every_hours: 24,
            backtest_origins: 4,
            history_weeks: 52,
            special_days: Vec::new(),
        }
    }
}

/// `[[forecast.special_days]]`.
#[derive(Debug, Deserialize, PartialEq, Clone)]
#[serde(deny_unknown_fields)]
pub struct SpecialDayEntry {
    /// Local date, `YYYY-MM-DD`.
    pub date: String,
    /// What it is.
    pub name: String,
    /// Volume relative to an ordinary day: 0 closed (default), 1.3 for 30 % more.
    #[serde(default)]
    pub volume_factor: f64,
    /// The queues it concerns (absent or empty: all).
    #[serde(default)]
    pub queues: Vec<String>,
}

/// `[staffing]`.
#[derive(Debug, Deserialize, PartialEq, Clone)]
#[serde(deny_unknown_fields, default)]
pub struct StaffingSection {
    /// `80/20` (80 % answered within 20 s) or `asa=30`.
    pub target: String,
    /// `erlang-a` (callers abandon) or `erlang-c` (they never do).
    pub method: String,
    /// Callers' mean patience for Erlang A, seconds (absent: estimated per
    /// queue from the lake's abandons over the last four weeks).
    pub patience_s: Option<f64>,
    /// Share of paid time not on the phones (breaks, meetings, absence).
    pub shrinkage: f64,
    /// Highest share of agents' time on calls.
    pub max_occupancy: f64,
}

impl Default for StaffingSection {
    fn default() -> Self {
        StaffingSection {
            target: "80/20".into(),
            method: "erlang-a".into(),
            patience_s: None,
            shrinkage: 0.3,
            max_occupancy: 0.85,
        }
    }
}

impl ConfigFile {
    /// The configuration of the file at `path` (or the defaults) with the
    /// process's `QUEUELAKE_<SECTION>__<KEY>` variables over it, checked.
    pub fn resolve(path: Option<&Path>) -> anyhow::Result<Self> {
        let text = match path {
            Some(path) => std::fs::read_to_string(path)
                .map_err(|e| anyhow::anyhow!("reading {}: {e}", path.display()))?,
            None => format!("version = {CONFIG_VERSION}\n"),
        };
        let origin = path.map_or("the defaults".to_owned(), |p| p.display().to_string());
        let base = path
            .and_then(Path::parent)
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        Self::parse_at(&text, std::env::vars(), base).map_err(|e| anyhow::anyhow!("{origin}: {e}"))
    }

    /// Parses and checks a file's text.
    pub fn parse(text: &str) -> anyhow::Result<Self> {
        Self::parse_with_env(text, std::iter::empty())
    }

    /// Parses a file's text, sets the `QUEUELAKE_<SECTION>__<KEY>`
    /// variables among `env` over it, and checks the result.
    pub fn parse_with_env(
        text: &str,
        env: impl Iterator<Item = (String, String)>,
    ) -> anyhow::Result<Self> {
        Self::parse_at(text, env, Path::new("."))
    }

    /// [`Self::parse_with_env`] for a file in the folder `base`.
    fn parse_at(
        text: &str,
        env: impl Iterator<Item = (String, String)>,
        base: &Path,
    ) -> anyhow::Result<Self> {
        let mut table: toml::Table = toml::from_str(text)?;
        for (name, raw) in env {
            let Some(path) = name.strip_prefix("QUEUELAKE_") else {
                continue;
            };
            let Some((section, key)) = path.split_once("__") else {
                continue; // a flag's variable, read by clap
            };
            let (section, key) = (section.to_ascii_lowercase(), key.to_ascii_lowercase());
            if section == "tokens" || key.is_empty() || key.contains("__") {
                anyhow::bail!(
                    "{name}: set a [section] key, as QUEUELAKE_SECTION__KEY (tokens come from the file only)"
                );
            }
            // A TOML value when it reads as one (numbers, booleans, lists), else text.
            let value = toml::from_str::<toml::Table>(&format!("v = {raw}"))
                .ok()
                .and_then(|mut t| t.remove("v"))
                .unwrap_or(toml::Value::String(raw));
            let entry = table
                .entry(section.clone())
                .or_insert_with(|| toml::Value::Table(toml::Table::new()));
            let toml::Value::Table(section_table) = entry else {
                anyhow::bail!("{name}: {section} is not a section");
            };
            section_table.insert(key, value);
        }
        let mut config: ConfigFile = toml::Value::Table(table)
            .try_into()
            .map_err(|e: toml::de::Error| anyhow::anyhow!("{}", e.message()))?;
        config.base_dir = base.to_owned();
        // The compliance view judges each campaign as pacing does.
        config.kpi.campaigns = config
            .pacing
            .campaigns
            .iter()
            .map(crate::pacing::settings::CampaignPacing::rule)
            .collect();
        if config.version != CONFIG_VERSION {
            anyhow::bail!(
                "version {} is not one this build reads (it reads {CONFIG_VERSION})",
                config.version
            );
        }
        config.validate()?;
        Ok(config)
    }

    /// Checks what the types alone do not.
    fn validate(&self) -> anyhow::Result<()> {
        self.kpi
            .validate()
            .map_err(|e| anyhow::anyhow!("[kpi] {e}"))?;
        if self.postgres_wire.listen.port() == 5432 {
            anyhow::bail!(
                "[postgres_wire] listen = {}: 5432 belongs to a real PostgreSQL server; queuelake uses 5433",
                self.postgres_wire.listen
            );
        }
        if self.postgres_wire.tls_cert.is_some() != self.postgres_wire.tls_key.is_some() {
            anyhow::bail!("[postgres_wire] tls_cert and tls_key go together");
        }
        if self.query.max_concurrent == 0 {
            anyhow::bail!("[query] max_concurrent = 0 would refuse every query");
        }
        if self.server.max_body_bytes == 0 {
            anyhow::bail!("[server] max_body_bytes = 0 would refuse every request body");
        }
        let server = &self.server;
        for (name, value) in [
            ("max_connections", server.max_connections as u64),
            (
                "max_connections_per_peer",
                server.max_connections_per_peer as u64,
            ),
            ("header_timeout_ms", server.header_timeout_ms),
            ("body_timeout_ms", server.body_timeout_ms),
            ("write_stall_ms", server.write_stall_ms),
        ] {
            if value == 0 {
                anyhow::bail!("[server] {name} = 0 would refuse every connection");
            }
        }
        crate::planning::settings::PlanSettings::from_config(self)
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        self.scheduling
            .prepare(self.kpi.interval_minutes, &[])
            .map_err(|e| anyhow::anyhow!("[scheduling] {e}"))?;
        self.pacing.check().map_err(|e| anyhow::anyhow!("{e}"))?;
        self.jobs.check().map_err(|e| anyhow::anyhow!("{e}"))?;
        self.mail.check().map_err(|e| anyhow::anyhow!("{e}"))?;
        self.report_definitions()?;
        crate::auth::TokenRegistry::from_entries(&self.tokens)
            .map_err(|e| anyhow::anyhow!("[[tokens]] {e}"))?;
        Ok(())
    }

    /// The reports: built-ins with `[[reports]]` over them, and new ones.
    pub fn report_definitions(
        &self,
    ) -> anyhow::Result<Vec<queuelake_reports::definition::ReportDefinition>> {
        queuelake_reports::definition::definitions(
            &self.reports,
            &self.kpi.time_zone,
            &self.base_dir,
        )
        .map_err(|e| anyhow::anyhow!("{e}"))
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
            [server]
            listen = "0.0.0.0:9000"
            requests_per_second = 5
            [postgres_wire]
            listen = "127.0.0.1:6543"
            [query]
            timeout_ms = 500
            [kpi]
            time_zone = "Europe/Madrid"
            [queue_log]
            postgres = "postgres://asterisk@db/asterisk"
            table = "ql"
            [ami]
            address = "pbx:5038"
            user = "queuelake"
            secret = "s"
            [[tokens]]
            name = "wallboard"
            role = "viewer"
            sha256 = "0000000000000000000000000000000000000000000000000000000000000000"
            queues = ["sales"]
            "#,
        )
        .unwrap();
        assert_eq!(config.queue_log.table.as_deref(), Some("ql"));
        assert_eq!(config.ami.unwrap().address, "pbx:5038");
        assert_eq!(config.server.requests_per_second, 5);
        assert_eq!(config.server.burst, 100);
        assert_eq!(config.postgres_wire.listen.port(), 6543);
        assert_eq!(config.query.timeout_ms, 500);
        assert_eq!(config.query.max_concurrent, 4);
        assert_eq!(config.kpi.time_zone, "Europe/Madrid");
        assert_eq!(config.tokens.len(), 1);
    }

    #[test]
    fn section_variables_override_the_file_and_are_checked_like_it() {
        let env = |pairs: &[(&str, &str)]| {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<Vec<_>>()
                .into_iter()
        };
        let config = ConfigFile::parse_with_env(
            "version = 1\n[server]\nburst = 7\nrequests_per_second = 9\n",
            env(&[
                ("QUEUELAKE_SERVER__REQUESTS_PER_SECOND", "0"),
                ("QUEUELAKE_SERVER__LISTEN", "0.0.0.0:9090"),
                ("QUEUELAKE_KPI__TIME_ZONE", "Europe/Paris"),
                ("QUEUELAKE_LISTEN", "ignored: a flag's variable"),
                ("HOME", "/root"),
            ]),
        )
        .unwrap();
        assert_eq!(config.server.requests_per_second, 0);
        assert_eq!(config.server.burst, 7);
        assert_eq!(config.server.listen.port(), 9090);
        assert_eq!(config.kpi.time_zone, "Europe/Paris");
        let err =
            ConfigFile::parse_with_env("version = 1\n", env(&[("QUEUELAKE_SERVER__BURSTS", "1")]))
                .unwrap_err()
                .to_string();
        assert!(err.contains("bursts"), "{err}");
        let err = ConfigFile::parse_with_env(
            "version = 1\n",
            env(&[("QUEUELAKE_QUERY__TIMEOUT_MS", "soon")]),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("timeout_ms") || err.contains("soon"), "{err}");
    }

    #[test]
    fn unknown_keys_versions_and_bad_values_are_refused_by_name() {
        let err = ConfigFile::parse(
            "version = 1\n[ami]\naddress = \"x\"\nuser = \"u\"\nsecret = \"s\"\npassword = \"p\"\n",
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("password"), "{err}");
        let err = ConfigFile::parse("version = 7\n").unwrap_err().to_string();
        assert!(err.contains("version 7"), "{err}");
        let err = ConfigFile::parse("version = 1\n[server]\nlisten_port = 1\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("listen_port"), "{err}");
        let err = ConfigFile::parse("version = 1\n[postgres_wire]\nlisten = \"127.0.0.1:5432\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("5432"), "{err}");
        let err = ConfigFile::parse("version = 1\n[kpi]\ninterval_minutes = 20\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("interval_minutes"), "{err}");
        let err = ConfigFile::parse(
            "version = 1\n[[tokens]]\nname = \"a\"\nrole = \"boss\"\nsha256 = \"00\"\n",
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("boss"), "{err}");
    }
}
