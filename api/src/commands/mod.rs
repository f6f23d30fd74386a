//! One module per subcommand, and what they share.

mod demo;
mod forecast;
mod ingest;
pub mod init;
mod report;
mod schedule;
mod serve;
mod sql;
mod staff;
mod token;

use std::path::Path;
use std::process::ExitCode;

use queuelake_engine::kpi::KpiSettings;
use queuelake_engine::lake::{Lake, TableWriter, WriterLock, WriterSettings};
use queuelake_engine::scope::Scope;
use queuelake_engine::session::{LakeTables, QueryEngine, QueryLimits};
use queuelake_engine::tables::{QUEUE_LOG, QUEUE_LOG_SCHEMA, QUEUE_LOG_TS_COLUMN};

use queuelake_engine::plans::PlanWriter;
use queuelake_engine::schedules::ScheduleWriter;

use crate::cli::{Command, KpiArgs};
use crate::config::{ConfigFile, QuerySection};
use crate::planning::runs::{PlanStore, Planner};
use crate::planning::settings::PlanSettings;
use crate::scheduling::service::{PublishTarget, Scheduling};

/// Runs a subcommand.
pub async fn run(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Ingest(args) => ingest::run(args).await,
        Command::Sql(args) => sql::run(args).await,
        Command::Serve(args) => serve::run(*args).await,
        Command::Demo(args) => demo::run(args).await,
        Command::Init(args) => init::run(args),
        Command::Token(args) => token::run(args),
        Command::Staff(args) => staff::run(&args).await,
        Command::Forecast(args) => forecast::run(args).await,
        Command::Schedule(command) => schedule::run(command).await,
        Command::Report(command) => report::run(command).await,
    }
}

/// Logs to stderr, filtered by `RUST_LOG` (default `info`).
pub fn init_logging(json: bool) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}

impl KpiArgs {
    /// The KPI settings: these arguments over the file's `[kpi]`.
    pub fn kpi(&self, file: &KpiSettings) -> KpiSettings {
        KpiSettings {
            interval_minutes: self.interval_minutes.unwrap_or(file.interval_minutes),
            time_zone: self
                .time_zone
                .clone()
                .unwrap_or_else(|| file.time_zone.clone()),
            sl_threshold_s: self.sl_threshold_s.unwrap_or(file.sl_threshold_s),
            short_abandon_s: self.short_abandon_s.unwrap_or(file.short_abandon_s),
            acw_s: self.acw_s.unwrap_or(file.acw_s),
            campaigns: file.campaigns.clone(),
        }
    }

    /// The query section: these arguments over the file's `[query]`.
    pub fn query(&self, file: &QuerySection) -> QuerySection {
        QuerySection {
            memory_limit_mb: self.query_memory_mb.unwrap_or(file.memory_limit_mb),
            timeout_ms: self.query_timeout_ms.unwrap_or(file.timeout_ms),
            ..file.clone()
        }
    }
}

/// The engine's limits of a query section.
pub fn limits(query: &QuerySection) -> QueryLimits {
    QueryLimits {
        memory_limit_mb: query.memory_limit_mb,
        timeout_ms: query.timeout_ms,
        max_result_rows: query.max_result_rows,
        max_result_bytes: query.max_result_bytes,
        max_value_bytes: query.max_value_bytes,
        max_expression_depth: query.max_expression_depth,
        max_expression_nodes: query.max_expression_nodes,
        max_nested_loop_pairs: query.max_nested_loop_pairs,
        max_nested_loop_build_rows: query.max_nested_loop_build_rows,
    }
}

/// Takes the lake's writer lock and opens the `queue_log` writer.
pub async fn queue_log_writer(lake: &Lake) -> anyhow::Result<(WriterLock, TableWriter)> {
    let lock = lake.lock_writer()?;
    let writer = lake
        .table_writer(
            &lock,
            QUEUE_LOG,
            QUEUE_LOG_SCHEMA.clone(),
            QUEUE_LOG_TS_COLUMN,
            WriterSettings::default(),
        )
        .await?;
    Ok((lock, writer))
}

/// An unscoped query engine over the given tables, with the settings of
/// `args` over the defaults (for the local `sql` command).
pub async fn engine(tables: &LakeTables, args: &KpiArgs) -> anyhow::Result<QueryEngine> {
    let kpi = args.kpi(&KpiSettings::default());
    kpi.validate()?;
    let query = args.query(&QuerySection::default());
    Ok(QueryEngine::new(tables, &kpi, limits(&query), &Scope::All).await?)
}

/// Opens the lake at `data`, which must exist for readers.
pub fn open_existing_lake(data: &Path) -> anyhow::Result<Lake> {
    if !data.is_dir() {
        anyhow::bail!(
            "no lake at {}: run `queuelake ingest --data {} FILE...` first",
            data.display(),
            data.display()
        );
    }
    Ok(Lake::open_local(data)?)
}

/// A planner over a lake for a CLI command. Runs are stored when this
/// process can take the lake's writer lock (no `serve` or `ingest` holds
/// it); otherwise they are computed and printed only.
pub struct LocalPlanner {
    /// An unscoped session over the committed lake.
    pub engine: QueryEngine,
    /// The planner.
    pub planner: Planner,
    /// Schedule drafts and publication.
    pub scheduling: Scheduling,
    /// Why runs are not stored, if they are not.
    pub not_stored: Option<String>,
    _lock: Option<WriterLock>,
}

/// Opens the lake at `data` for planning, with the configuration at
/// `config` (or the defaults) and `kpi` over its `[kpi]`.
pub async fn local_planner(
    data: &Path,
    config: Option<&Path>,
    kpi: &KpiArgs,
) -> anyhow::Result<LocalPlanner> {
    let file = ConfigFile::resolve(config)?;
    let kpi = kpi.kpi(&file.kpi);
    kpi.validate()?;
    let settings = PlanSettings::from_sections(&file.forecast, &file.staffing, &kpi)?;
    let lake = open_existing_lake(data)?;
    let (lock, not_stored) = match lake.lock_writer() {
        Ok(lock) => (Some(lock), None),
        Err(e) => (None, Some(e.to_string())),
    };
    let writers = match &lock {
        Some(lock) => Some((
            PlanWriter::open(&lake, lock).await?,
            ScheduleWriter::open(&lake, lock).await?,
        )),
        None => None,
    };
    let tables = LakeTables::committed(&lake).await?;
    let (store, publish) = match writers {
        Some((plans, schedules)) => (
            Some(PlanStore::new(plans, &tables)),
            Some(PublishTarget::new(schedules, &tables)),
        ),
        None => (None, None),
    };
    let scheduling = Scheduling::new(
        lake.root(),
        file.scheduling.clone(),
        settings.time_zone,
        settings.interval_s,
        publish,
    );
    let engine = QueryEngine::new(&tables, &kpi, limits(&file.query), &Scope::All).await?;
    Ok(LocalPlanner {
        engine,
        planner: Planner::new(settings, store),
        scheduling,
        not_stored,
        _lock: lock,
    })
}
