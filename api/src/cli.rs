//! Command-line arguments.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

/// queuelake: Asterisk queue_log into a Parquet lake, with SQL and KPIs.
#[derive(Parser, Debug)]
#[command(name = "queuelake", version, about)]
pub struct Cli {
    /// Log as JSON lines instead of text.
    #[arg(long, global = true, env = "QUEUELAKE_LOG_JSON")]
    pub log_json: bool,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Import queue_log files (plain or .gz, rotated siblings included) into the lake.
    Ingest(IngestArgs),
    /// Run one read-only SQL query over the lake.
    Sql(SqlArgs),
    /// Follow a live queue_log (file or PostgreSQL) and the PBX's AMI into
    /// the lake, and serve the HTTP API.
    Serve(Box<ServeArgs>),
    /// Run the whole product on an emulated contact center (no PBX needed).
    Demo(DemoArgs),
    /// Write an annotated configuration file with a new admin token.
    Init(InitArgs),
    /// Make a new API token: prints the token once and the `[[tokens]]`
    /// entry to add to queuelake.toml.
    Token(TokenArgs),
    /// Agents an interval needs for a service-level or ASA target (Erlang C
    /// or Erlang A).
    Staff(StaffArgs),
    /// Forecast interval call volumes, from the lake or a `timestamp,count` CSV.
    Forecast(ForecastArgs),
    /// Shift scheduling: cover a weekly requirement with shifts and breaks.
    #[command(subcommand)]
    Schedule(ScheduleCommand),
    /// Reports: list them, or run one now (XLSX, PDF, CSV; e-mail).
    #[command(subcommand)]
    Report(ReportCommand),
}

/// `queuelake report …`.
#[derive(Subcommand, Debug)]
pub enum ReportCommand {
    /// The reports defined (built-in and `[[reports]]`).
    List(ReportListArgs),
    /// Run a report now and print its files (or, with --enqueue, hand it
    /// to the service's job queue).
    Run(ReportRunArgs),
}

/// `queuelake report list`.
#[derive(clap::Args, Debug)]
pub struct ReportListArgs {
    /// Configuration file (`[[reports]]`, `[kpi] time_zone`).
    #[arg(long, env = "QUEUELAKE_CONFIG")]
    pub config: Option<PathBuf>,
}

/// `queuelake report run`.
#[derive(clap::Args, Debug)]
pub struct ReportRunArgs {
    /// The report's name (`queuelake report list`).
    pub name: String,
    /// The lake.
    #[arg(long, env = "QUEUELAKE_DATA")]
    pub data: PathBuf,
    /// Configuration file (`[[reports]]`, `[jobs]`, `[mail]`, `[kpi]`).
    #[arg(long, env = "QUEUELAKE_CONFIG")]
    pub config: Option<PathBuf>,
    /// yesterday, last_week, last_month, or FROM..TO (local dates,
    /// YYYY-MM-DD, both included). Default: the report's own.
    #[arg(long)]
    pub period: Option<String>,
    /// Only these queues (comma-separated; default: the report's).
    #[arg(long, value_delimiter = ',')]
    pub queues: Vec<String>,
    /// Formats (comma-separated xlsx, pdf, csv; default: the report's).
    #[arg(long, value_delimiter = ',')]
    pub formats: Vec<String>,
    /// E-mail the report's recipients.
    #[arg(long)]
    pub email: bool,
    /// Queue the job for the service's workers instead of running it here.
    #[arg(long)]
    pub enqueue: bool,
}

/// `queuelake schedule …`.
#[derive(Subcommand, Debug)]
pub enum ScheduleCommand {
    /// Solve a scheduling instance file (the tours or pyworkforce format of
    /// the shared benchmark instances).
    Solve(ScheduleSolveArgs),
    /// A draft schedule covering a staffing run's week ([scheduling] inputs).
    Create(ScheduleCreateArgs),
    /// Show a draft: shifts, coverage, totals.
    Show(ScheduleIdArgs),
    /// Edit a draft: each --edit is one JSON edit
    /// (`{"op":"remove_shift","shift":3}`, move_shift, add_shift, move_break, assign).
    Edit(ScheduleEditArgs),
    /// Publish a draft as its next immutable version.
    Publish(ScheduleIdArgs),
}

/// Where schedules live.
#[derive(clap::Args, Debug)]
pub struct ScheduleLake {
    /// The lake.
    #[arg(long, env = "QUEUELAKE_DATA")]
    pub data: PathBuf,
    /// Configuration file (`[scheduling]`, `[kpi]`).
    #[arg(long, env = "QUEUELAKE_CONFIG")]
    pub config: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ScheduleFormat::Json)]
    pub format: ScheduleFormat,
}

/// `queuelake schedule create`.
#[derive(clap::Args, Debug)]
pub struct ScheduleCreateArgs {
    /// The lake, configuration and output.
    #[command(flatten)]
    pub lake: ScheduleLake,
    /// The staffing run (st-…).
    #[arg(long)]
    pub staffing_run: String,
    /// The Monday of the week, YYYY-MM-DD.
    #[arg(long)]
    pub week: String,
    /// The team's queues (comma-separated; absent: every queue of the run).
    #[arg(long, value_delimiter = ',')]
    pub queues: Vec<String>,
}

/// A command on one draft.
#[derive(clap::Args, Debug)]
pub struct ScheduleIdArgs {
    /// The lake, configuration and output.
    #[command(flatten)]
    pub lake: ScheduleLake,
    /// The schedule (sc-…).
    #[arg(long)]
    pub id: String,
}

/// `queuelake schedule edit`.
#[derive(clap::Args, Debug)]
pub struct ScheduleEditArgs {
    /// The draft.
    #[command(flatten)]
    pub draft: ScheduleIdArgs,
    /// One edit as JSON; repeat for several (applied in order, all or none).
    #[arg(long = "edit", required = true)]
    pub edits: Vec<String>,
}

/// The pyworkforce objectives.
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum InstanceObjective {
    /// Σ |scheduled − required| over every period.
    MinAbsDifference,
    /// Σ cost × agents with every period covered.
    MinRequiredResources,
}

/// Output formats of `schedule solve`.
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScheduleFormat {
    /// One JSON object: objective, bound, gap, seconds, tours, shifts.
    Json,
    /// Lines of `name: value`, then the shifts per day.
    Text,
}

/// `queuelake schedule solve`.
#[derive(clap::Args, Debug)]
pub struct ScheduleSolveArgs {
    /// The instance file.
    #[arg(long)]
    pub instance: PathBuf,
    /// Objective of a pyworkforce instance (tours instances minimize paid hours).
    #[arg(long, value_enum, default_value_t = InstanceObjective::MinRequiredResources)]
    pub objective: InstanceObjective,
    /// Seconds for the per-day integer programs, in all.
    #[arg(long, default_value_t = 5.0)]
    pub time_limit: f64,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ScheduleFormat::Json)]
    pub format: ScheduleFormat,
}

/// Output formats of `forecast`.
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum ForecastFormat {
    /// `interval_start,volume,volume_lo,volume_hi` (with `queue` first from the lake).
    Csv,
    /// The model, its backtest and the intervals.
    Json,
}

/// `queuelake forecast`.
#[derive(clap::Args, Debug)]
#[group(id = "forecast_source", required = true, multiple = false)]
pub struct ForecastArgs {
    /// A plain `timestamp,count` CSV exported from another system.
    #[arg(long, group = "forecast_source")]
    pub from_csv: Option<PathBuf>,
    /// The lake: offered calls per queue from `interval_stats`.
    #[arg(long, env = "QUEUELAKE_DATA", group = "forecast_source")]
    pub data: Option<PathBuf>,
    /// Only this queue (from the lake).
    #[arg(long)]
    pub queue: Option<String>,
    /// How far ahead: `2w`, `10d`, `36h` (at most 6 weeks).
    #[arg(long, default_value = "2w")]
    pub horizon: String,
    /// Configuration file (`[forecast]`: special days, history, backtest).
    #[arg(long, env = "QUEUELAKE_CONFIG")]
    pub config: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ForecastFormat::Csv)]
    pub format: ForecastFormat,
    /// KPI settings (interval length and time zone of the lake's intervals).
    #[command(flatten)]
    pub kpi: KpiArgs,
}

/// The queueing model of `staff`.
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum StaffMethod {
    /// Callers never hang up.
    ErlangC,
    /// Callers hang up after an exponential patience (`--patience`).
    ErlangA,
}

/// Output formats of `staff`.
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum StaffFormat {
    /// One JSON object.
    Json,
    /// Lines of `name: value`.
    Text,
}

/// `queuelake staff`: one interval, or every interval of a stored
/// forecast run.
#[derive(clap::Args, Debug)]
pub struct StaffArgs {
    /// Calls offered in the interval.
    #[arg(long, requires = "aht", conflicts_with = "forecast_run")]
    pub volume: Option<f64>,
    /// Average handle time, seconds.
    #[arg(long, requires = "volume")]
    pub aht: Option<f64>,
    /// Staff this stored forecast run (fc-…) instead of one interval; the
    /// staffing run is stored when no `serve` holds the lake.
    #[arg(long, requires = "data")]
    pub forecast_run: Option<String>,
    /// The lake holding the forecast run.
    #[arg(long, env = "QUEUELAKE_DATA")]
    pub data: Option<PathBuf>,
    /// Interval length, minutes.
    #[arg(long, default_value_t = 30.0)]
    pub interval_min: f64,
    /// The target: `80/20` (80 % answered within 20 s) or `asa=30` (answered
    /// calls wait 30 s on average at most).
    #[arg(long, default_value = "80/20")]
    pub target: String,
    /// The model.
    #[arg(long, value_enum, default_value_t = StaffMethod::ErlangC)]
    pub method: StaffMethod,
    /// Mean patience of callers, seconds (Erlang A; with --forecast-run,
    /// estimated from the lake's abandons when absent).
    #[arg(long)]
    pub patience: Option<f64>,
    /// Share of paid time not on the phones (0.3 = 30 %).
    #[arg(long, default_value_t = 0.0)]
    pub shrinkage: f64,
    /// Highest share of agents' time on calls.
    #[arg(long, default_value_t = 1.0)]
    pub max_occupancy: f64,
    /// Output format.
    #[arg(long, value_enum, default_value_t = StaffFormat::Json)]
    pub format: StaffFormat,
}

/// `queuelake token`.
#[derive(clap::Args, Debug)]
pub struct TokenArgs {
    /// Who holds it (unique among the tokens).
    #[arg(long)]
    pub name: String,
    /// Its role: admin, analyst, planner, manager, dialer or viewer.
    #[arg(long)]
    pub role: String,
    /// Scope it to these queues (comma-separated).
    #[arg(long, value_delimiter = ',')]
    pub queues: Option<Vec<String>>,
    /// Scope it to these campaigns (comma-separated).
    #[arg(long, value_delimiter = ',')]
    pub campaigns: Option<Vec<String>>,
}

/// `queuelake init`.
#[derive(clap::Args, Debug)]
pub struct InitArgs {
    /// Where to write the configuration (refused if it exists).
    #[arg(long, default_value = "queuelake.toml")]
    pub config: PathBuf,
}

/// `queuelake demo`.
#[derive(clap::Args, Debug)]
pub struct DemoArgs {
    /// The demo's folder (emulated PBX files and the lake); cleared at each run.
    #[arg(long, default_value = "queuelake-demo")]
    pub data: PathBuf,
    /// Address of the HTTP API (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:8080", env = "QUEUELAKE_LISTEN")]
    pub listen: SocketAddr,
    /// Address for PostgreSQL clients (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:5433", env = "QUEUELAKE_PG_LISTEN")]
    pub pg_listen: SocketAddr,
    /// Weeks of history generated before going live.
    #[arg(long, default_value_t = 4)]
    pub history_weeks: u32,
    /// Simulated seconds per second (5: a morning's traffic in fast-forward).
    #[arg(long, default_value_t = 5.0)]
    pub speed: f64,
    /// Seed of the simulation (the same seed gives the same contact center).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// KPI and query settings (the demo's time zone is UTC).
    #[command(flatten)]
    pub kpi: KpiArgs,
}

/// Settings shared by the commands that read the lake. Each one left out
/// comes from the configuration file's `[kpi]` or `[query]`, else its
/// default (shown).
#[derive(clap::Args, Debug, Clone, Default)]
pub struct KpiArgs {
    /// Interval length for interval_stats, in minutes (15, 30 or 60) [default: 15].
    #[arg(long, env = "QUEUELAKE_INTERVAL_MINUTES")]
    pub interval_minutes: Option<u32>,
    /// IANA time zone of the contact center [default: UTC].
    #[arg(long, env = "QUEUELAKE_TIME_ZONE")]
    pub time_zone: Option<String>,
    /// Service-level threshold in seconds [default: 20].
    #[arg(long, env = "QUEUELAKE_SL_THRESHOLD_S")]
    pub sl_threshold_s: Option<u32>,
    /// Abandons shorter than this many seconds are short abandons [default: 5].
    #[arg(long, env = "QUEUELAKE_SHORT_ABANDON_S")]
    pub short_abandon_s: Option<u32>,
    /// After-call work in seconds, added to AHT [default: 0].
    #[arg(long, env = "QUEUELAKE_ACW_S")]
    pub acw_s: Option<u32>,
    /// Memory a query may use, in MiB [default: 2048].
    #[arg(long, env = "QUEUELAKE_QUERY_MEMORY_MB")]
    pub query_memory_mb: Option<u64>,
    /// Deadline of a query, in milliseconds [default: 30000].
    #[arg(long, env = "QUEUELAKE_QUERY_TIMEOUT_MS")]
    pub query_timeout_ms: Option<u64>,
}

/// `queuelake ingest`.
#[derive(clap::Args, Debug)]
pub struct IngestArgs {
    /// The lake folder.
    #[arg(long, env = "QUEUELAKE_DATA")]
    pub data: PathBuf,
    /// Commit after this many lines.
    #[arg(long, default_value_t = 1_000_000)]
    pub commit_rows: usize,
    /// Files to import, in any order (they are ordered by their first line's time).
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
}

/// Output formats of `sql`.
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// A boxed text table.
    Table,
    /// CSV with a header row.
    Csv,
    /// JSON: columns with types, and rows.
    Json,
}

/// `queuelake sql`.
#[derive(clap::Args, Debug)]
pub struct SqlArgs {
    /// The lake folder.
    #[arg(long, env = "QUEUELAKE_DATA")]
    pub data: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// KPI and query settings.
    #[command(flatten)]
    pub kpi: KpiArgs,
    /// The query.
    pub query: String,
}

/// How the AMI client logs in.
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum AmiAuth {
    /// MD5 challenge: the secret never crosses the network.
    Md5,
    /// The secret in the clear (for PBXs that refuse MD5).
    Plain,
}

/// Where the AMI client connects (flags or `[ami]` of the configuration
/// file; an address needs a user and a secret).
#[derive(clap::Args, Debug, Clone)]
pub struct AmiArgs {
    /// AMI of the PBX, HOST:PORT (Asterisk listens on 5038).
    #[arg(long = "ami", env = "QUEUELAKE_AMI")]
    pub address: Option<String>,
    /// AMI user (manager.conf section).
    #[arg(long, env = "QUEUELAKE_AMI_USER")]
    pub ami_user: Option<String>,
    /// AMI secret (prefer the variable or `[ami] secret`: a flag shows in `ps`).
    #[arg(long, env = "QUEUELAKE_AMI_SECRET", hide_env_values = true)]
    pub ami_secret: Option<String>,
    /// How to log in (default md5).
    #[arg(long, value_enum, env = "QUEUELAKE_AMI_AUTH")]
    pub ami_auth: Option<AmiAuth>,
}

/// Where queue_log comes from: a file, or Asterisk's realtime table
/// (here or in the configuration file).
#[derive(clap::Args, Debug, Clone)]
#[group(multiple = false)]
pub struct QueueLogSource {
    /// The live queue_log file to follow.
    #[arg(long, env = "QUEUELAKE_QUEUE_LOG")]
    pub queue_log: Option<PathBuf>,
    /// A PostgreSQL URL whose queue_log table to follow
    /// (postgres://user@host/db).
    #[arg(long, env = "QUEUELAKE_QUEUE_LOG_POSTGRES", hide_env_values = true)]
    pub queue_log_postgres: Option<String>,
}

/// `queuelake serve`.
#[derive(clap::Args, Debug)]
pub struct ServeArgs {
    /// The lake folder.
    #[arg(long, env = "QUEUELAKE_DATA")]
    pub data: PathBuf,
    /// A configuration file (TOML) with the queue_log and AMI sources;
    /// flags and environment variables override it.
    #[arg(long, env = "QUEUELAKE_CONFIG")]
    pub config: Option<PathBuf>,
    /// Where queue_log comes from.
    #[command(flatten)]
    pub source: QueueLogSource,
    /// The table of `--queue-log-postgres` (default queue_log).
    #[arg(long, env = "QUEUELAKE_QUEUE_LOG_TABLE")]
    pub table: Option<String>,
    /// Time zone of the table's `time` values that carry none (default:
    /// --time-zone; UTC if Asterisk has queue_log_realtime_use_gmt = yes).
    #[arg(long, env = "QUEUELAKE_QUEUE_LOG_TABLE_TIME_ZONE")]
    pub table_time_zone: Option<String>,
    /// The AMI connection (optional: live state needs it).
    #[command(flatten)]
    pub ami: AmiArgs,
    /// Address of the HTTP API (port 0 picks a free port, which is
    /// printed) [default: 127.0.0.1:8080].
    #[arg(long, env = "QUEUELAKE_LISTEN")]
    pub listen: Option<SocketAddr>,
    /// Address for PostgreSQL clients [default: 127.0.0.1:5433].
    #[arg(long, env = "QUEUELAKE_PG_LISTEN")]
    pub pg_listen: Option<SocketAddr>,
    /// Do not listen for PostgreSQL clients.
    #[arg(long, env = "QUEUELAKE_NO_PG")]
    pub no_pg: bool,
    /// Commit rows held in memory after this many seconds [default: 60].
    #[arg(long, env = "QUEUELAKE_FLUSH_SECONDS")]
    pub flush_seconds: Option<u64>,
    /// Commit once this many rows are held in memory [default: 200000].
    #[arg(long, env = "QUEUELAKE_FLUSH_ROWS")]
    pub flush_rows: Option<usize>,
    /// Poll the file this often (milliseconds) besides file-change events [default: 250].
    #[arg(long, env = "QUEUELAKE_POLL_MS")]
    pub poll_ms: Option<u64>,
    /// Look for newly closed days of `calls` to store this often (seconds) [default: 60].
    #[arg(long, env = "QUEUELAKE_ROLLUP_SECONDS")]
    pub rollup_seconds: Option<u64>,
    /// KPI and query settings.
    #[command(flatten)]
    pub kpi: KpiArgs,
}
