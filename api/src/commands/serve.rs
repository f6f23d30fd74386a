//! `queuelake serve`: follow the live queue_log (file or PostgreSQL table)
//! and the PBX's AMI into the lake, keep the live state, and serve the
//! HTTP API over it. SIGTERM or Ctrl-C commits what is held and exits 0.
//!
//! ```text
//!  queue_log file ─Tailer thread──────────────┐
//!  queue_log table ─PostgresSource task───────┼─▶ lake: queue_log ─▶ SQL, KPIs, today's totals
//!  AMI ─client task─▶ journal ─Tailer thread──┼─▶ lake: ami_events
//!                  └─▶ LiveFeed ──────────────┴─▶ /api/v1/live/*
//! ```
//! [`Service`] is shared with `queuelake demo`, which puts an emulated
//! PBX in front of it.

use std::future::Future;
use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use queuelake_ami::session::AuthKind;
use queuelake_engine::ami_events::{AMI_EVENTS, AMI_EVENTS_SCHEMA, AMI_EVENTS_TS_COLUMN};
use queuelake_engine::lake::{Lake, TableWriter, WriterLock, WriterSettings};
use queuelake_engine::pacing::DecisionWriter;
use queuelake_engine::plans::PlanWriter;
use queuelake_engine::rollup::CallsRollup;
use queuelake_engine::schedules::ScheduleWriter;
use queuelake_engine::session::LakeTables;
use queuelake_ingest::ami::client::{self, AmiClientConfig};
use queuelake_ingest::ami::feed::{JournalingSink, LiveFeed};
use queuelake_ingest::ami::journal::{Journal, ROTATE_BYTES};
use queuelake_ingest::queue_log::deadletter::DeadLetters;
use queuelake_ingest::queue_log::postgres::{PostgresOptions, PostgresSource};
use queuelake_ingest::queue_log::tail::{TailOptions, Tailer};
use tokio::sync::watch;

use queuelake_engine::kpi::KpiSettings;
use queuelake_engine::scope::Scope;

use crate::auth::{Principal, Role, TokenEntry, TokenRegistry, token};
use crate::cli::{AmiAuth, ServeArgs};
use crate::commands::{limits, queue_log_writer};
use crate::config::{ConfigFile, PostgresWireSection, QuerySection, ServerSection};
use crate::http::connections::{self, ConnectionLimits};
use crate::http::limits::{AuthFailures, QuerySlots, Rate, RateLimiter};
use crate::http::live::LiveSource;
use crate::http::{AppState, router};
use crate::pacing::service::{DecisionStore, Pacing};
use crate::pacing::settings::PacingSection;
use crate::planning::runs::{ForecastRun, PlanStore, Planner, PlanningError, StaffingRun};
use crate::planning::schedule;
use crate::planning::settings::PlanSettings;
use crate::postgres_wire::PostgresWire;
use crate::reports::mail::Mailer;
use crate::reports::runner::Runner;
use crate::reports::service::Reports;
use crate::reports::settings::{JobsSection, MailSection};
use crate::scheduling::inputs::SchedulingInputs;
use crate::scheduling::service::{PublishTarget, Scheduling};
use crate::sessions::Sessions;
use queuelake_reports::definition::ReportDefinition;

/// Where queue_log comes from.
#[derive(Debug, Clone)]
pub enum QueueLogInput {
    /// A file Asterisk appends to.
    File(PathBuf),
    /// Asterisk's realtime table.
    Postgres {
        /// Connection URL.
        url: String,
        /// Table name.
        table: String,
        /// Zone of its `time` values that carry none.
        time_zone: String,
    },
}

/// Everything a running service needs, resolved from flags, environment
/// and the configuration file (or given by the demo).
#[derive(Debug)]
pub struct ServiceConfig {
    /// The lake folder.
    pub data: PathBuf,
    /// The queue_log source.
    pub queue_log: QueueLogInput,
    /// The AMI client, if any.
    pub ami: Option<AmiClientConfig>,
    /// Wrap-up seconds per queue (`[ami] wrapup_seconds`; a campaign's
    /// `wrap_s` for its queue where that names none).
    pub queue_wrapup: std::collections::BTreeMap<String, f64>,
    /// The AMI journal is rotated past this size (`[ami] journal_rotate_kib`).
    pub journal_rotate_bytes: u64,
    /// HTTP address and request limits.
    pub server: ServerSection,
    /// The PostgreSQL-wire listener, if enabled.
    pub postgres_wire: Option<PostgresWireSection>,
    /// Query limits.
    pub query: QuerySection,
    /// Commit cadence and polling.
    pub tail: TailOptions,
    /// How often closed days of `calls` are stored.
    pub rollup_every: Duration,
    /// KPI settings.
    pub kpi: KpiSettings,
    /// Forecast and staffing settings.
    pub plan: PlanSettings,
    /// Shift patterns, roster and weights of new schedules.
    pub scheduling: SchedulingInputs,
    /// Dialer pacing per campaign.
    pub pacing: PacingSection,
    /// The reports (built-in and configured).
    pub reports: Vec<ReportDefinition>,
    /// The report job queue.
    pub jobs: JobsSection,
    /// E-mail delivery.
    pub mail: MailSection,
    /// The accepted tokens (none: the service makes an admin token for
    /// this run and prints it).
    pub tokens: Vec<TokenEntry>,
}

impl ServiceConfig {
    /// The configuration `serve`'s flags give, over its configuration
    /// file's (flags and environment variables win).
    pub fn from_args(args: ServeArgs) -> anyhow::Result<Self> {
        let mut file = ConfigFile::resolve(args.config.as_deref())?;
        let section = std::mem::take(&mut file.queue_log);
        let table = args
            .table
            .or(section.table)
            .unwrap_or_else(|| "queue_log".to_owned());
        let kpi = args.kpi.kpi(&file.kpi);
        kpi.validate()?;
        let table_time_zone = args
            .table_time_zone
            .or(section.table_time_zone)
            .unwrap_or_else(|| kpi.time_zone.clone());
        let from_flags = (args.source.queue_log, args.source.queue_log_postgres);
        let source = match from_flags {
            (None, None) => (section.file, section.postgres),
            given => given,
        };
        let queue_log = match source {
            (Some(path), None) => QueueLogInput::File(path),
            (None, Some(url)) => QueueLogInput::Postgres {
                url,
                table,
                time_zone: table_time_zone,
            },
            (Some(_), Some(_)) => {
                anyhow::bail!("[queue_log] has both file and postgres; give one")
            }
            (None, None) => anyhow::bail!(
                "no queue_log source: give --queue-log FILE or --queue-log-postgres URL (or [queue_log] in --config)"
            ),
        };
        let from_file = file.ami.take();
        let mut queue_wrapup: std::collections::BTreeMap<String, f64> = file
            .pacing
            .queue_wrapups()
            .map(|(q, s)| (q.to_owned(), s))
            .collect();
        if let Some(ami) = &from_file {
            queue_wrapup.extend(ami.wrapup_seconds.clone());
        }
        let journal_rotate_bytes = from_file
            .as_ref()
            .and_then(|a| a.journal_rotate_kib)
            .map_or(ROTATE_BYTES, |kib| kib.max(1) * 1024);
        let ami_args = args.ami;
        let address = ami_args
            .address
            .or(from_file.as_ref().map(|a| a.address.clone()));
        let ami = match address {
            None => None,
            Some(address) => {
                let user = ami_args
                    .ami_user
                    .or(from_file.as_ref().map(|a| a.user.clone()));
                if std::env::args().any(|a| a == "--ami-secret" || a.starts_with("--ami-secret=")) {
                    tracing::warn!(
                        "--ami-secret shows the AMI secret to every user of the machine (ps) for the life of the process; set QUEUELAKE_AMI_SECRET or [ami] secret instead"
                    );
                }
                let secret = ami_args
                    .ami_secret
                    .or(from_file.as_ref().map(|a| a.secret.clone()));
                let (Some(user), Some(secret)) = (user, secret) else {
                    anyhow::bail!("AMI at {address} needs a user and a secret");
                };
                let auth = match (ami_args.ami_auth, from_file.and_then(|a| a.auth)) {
                    (Some(AmiAuth::Plain), _) => AuthKind::Plain,
                    (Some(AmiAuth::Md5), _) => AuthKind::Md5,
                    (None, Some(text)) => match text.as_str() {
                        "md5" => AuthKind::Md5,
                        "plain" => AuthKind::Plain,
                        other => anyhow::bail!("[ami] auth = {other:?}: md5 or plain"),
                    },
                    (None, None) => AuthKind::Md5,
                };
                let mut config = AmiClientConfig::new(&address, &user, &secret);
                config.session.auth = auth;
                Some(config)
            }
        };
        let ingest = &file.ingest;
        let mut server = file.server.clone();
        server.listen = args.listen.unwrap_or(server.listen);
        let mut postgres_wire = file.postgres_wire.clone();
        postgres_wire.listen = args.pg_listen.unwrap_or(postgres_wire.listen);
        if postgres_wire.listen.port() == 5432 {
            anyhow::bail!(
                "--pg-listen {}: 5432 belongs to a real PostgreSQL server; queuelake uses 5433",
                postgres_wire.listen
            );
        }
        let postgres_wire = (postgres_wire.enabled && !args.no_pg).then_some(postgres_wire);
        let reports = file.report_definitions()?;
        Ok(ServiceConfig {
            data: args.data,
            queue_log,
            ami,
            queue_wrapup,
            journal_rotate_bytes,
            server,
            postgres_wire,
            query: args.kpi.query(&file.query),
            tail: TailOptions {
                poll: Duration::from_millis(args.poll_ms.unwrap_or(ingest.poll_ms)),
                flush_interval: Duration::from_secs(
                    args.flush_seconds.unwrap_or(ingest.flush_seconds),
                ),
                flush_rows: args.flush_rows.unwrap_or(ingest.flush_rows),
            },
            rollup_every: Duration::from_secs(
                args.rollup_seconds.unwrap_or(ingest.rollup_seconds).max(1),
            ),
            plan: PlanSettings::from_sections(&file.forecast, &file.staffing, &kpi)?,
            scheduling: file.scheduling.clone(),
            pacing: file.pacing.clone(),
            reports,
            jobs: file.jobs.clone(),
            mail: file.mail.clone(),
            kpi,
            tokens: file.tokens,
        })
    }
}

pub async fn run(args: ServeArgs) -> anyhow::Result<ExitCode> {
    let service = Service::start(ServiceConfig::from_args(args)?).await?;
    {
        let mut out = std::io::stdout().lock();
        if let Some(token) = service.generated_admin_token() {
            writeln!(
                out,
                "no [[tokens]] configured: this run's admin token follows (run `queuelake init` for a lasting one)"
            )?;
            writeln!(out, "admin token: {token}")?;
        }
        if let Some(address) = service.postgres_address() {
            writeln!(out, "postgres wire on {address}")?;
        }
        writeln!(out, "dashboards: http://{}/", service.address())?;
        writeln!(out, "listening on http://{}", service.address())?;
        out.flush()?;
    }
    service
        .run_until(async {
            shutdown_signal().await;
            shutdown_deadline::arm("the HTTP port's open connections");
        })
        .await?;
    shutdown_deadline::stage("the runtime's last tasks");
    Ok(ExitCode::SUCCESS)
}

/// Shutdown ends within [`shutdown_deadline::LIMIT`] whatever hangs: once
/// armed, a watchdog thread exits the process non-zero at the deadline,
/// naming the step that had not finished (which `stage` keeps current).
mod shutdown_deadline {
    use std::sync::{Mutex, OnceLock};
    use std::time::Duration;

    /// How long a shutdown may take.
    pub const LIMIT: Duration = Duration::from_secs(10);

    static STAGE: Mutex<&'static str> = Mutex::new("starting");
    static ARMED: OnceLock<()> = OnceLock::new();

    /// The step shutdown is in now.
    pub fn stage(name: &'static str) {
        *STAGE
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = name;
    }

    /// Starts the clock (once), at step `name`.
    pub fn arm(name: &'static str) {
        stage(name);
        ARMED.get_or_init(|| {
            tracing::info!(limit_s = LIMIT.as_secs(), "shutting down");
            std::thread::spawn(|| {
                std::thread::sleep(LIMIT);
                let stuck = *STAGE.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                tracing::error!(stuck, "shutdown did not finish within {} s; exiting", LIMIT.as_secs());
                eprintln!(
                    "queuelake: shutdown did not finish within {} s (still stopping: {stuck}); exiting",
                    LIMIT.as_secs()
                );
                std::process::exit(70);
            });
        });
    }
}

/// A source running on its own thread or task.
enum Worker {
    Thread(
        &'static str,
        std::thread::JoinHandle<queuelake_ingest::Result<()>>,
    ),
    Task(
        &'static str,
        tokio::task::JoinHandle<queuelake_ingest::Result<()>>,
    ),
}

/// The running service: sources, live state, HTTP.
pub struct Service {
    listener: tokio::net::TcpListener,
    address: SocketAddr,
    max_body_bytes: usize,
    connections: ConnectionLimits,
    postgres: Option<PostgresWire>,
    generated_admin_token: Option<String>,
    state: Arc<AppState>,
    stop: Arc<AtomicBool>,
    stop_tx: watch::Sender<bool>,
    workers: Vec<Worker>,
    rollups: tokio::task::JoinHandle<()>,
    plan_every: Option<Duration>,
    _lock: WriterLock,
}

/// How long report jobs in progress get to finish at shutdown (then they
/// are cut; a worker runs them again).
const REPORT_GRACE: Duration = Duration::from_secs(3);

impl Service {
    /// Opens the lake, starts every source, and binds the HTTP address.
    pub async fn start(config: ServiceConfig) -> anyhow::Result<Service> {
        let lake = Lake::open_local(&config.data)?;
        let (lock, queue_log_writer) = queue_log_writer(&lake).await?;
        let ami_writer = ami_events_writer(&lake, &lock).await?;
        let rollup = CallsRollup::open(&lake, &lock).await?;
        let plan_writer = PlanWriter::open(&lake, &lock).await?;
        let schedule_writer = ScheduleWriter::open(&lake, &lock).await?;
        let decision_writer = DecisionWriter::open(&lake, &lock).await?;
        let tables = LakeTables::at(
            &lake,
            queue_log_writer.snapshot(),
            rollup.snapshot(),
            ami_writer.snapshot(),
        )
        .await?;
        let planner = Arc::new(Planner::new(
            config.plan.clone(),
            Some(PlanStore::new(plan_writer, &tables)),
        ));
        let scheduling = Arc::new(Scheduling::new(
            lake.root(),
            config.scheduling.clone(),
            config.plan.time_zone,
            config.plan.interval_s,
            Some(PublishTarget::new(schedule_writer, &tables)),
        ));
        let (tokens, generated_admin_token) = token_registry(&config.tokens)?;
        let limits = limits(&config.query);
        let reports = Arc::new(
            Reports::open(
                Runner::new(
                    tables.clone(),
                    config.kpi.clone(),
                    limits.clone(),
                    &config.reports,
                    lake.root().join("reports"),
                ),
                config.jobs.clone(),
                Mailer::new(config.mail.clone(), lake.root()),
                lake.root(),
            )
            .await?,
        );
        // A query runs on up to a core's worth of tasks per partition, and
        // an aborted one computes until its operator yields: threads for
        // every slot, so a query that has a slot always has threads.
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        let threads = match config.query.threads {
            0 => cores * config.query.max_concurrent.max(1),
            n => n,
        };
        queuelake_engine::query_runtime::QueryRuntime::configure(threads);
        let sessions = Sessions::build(&tables, &config.kpi, &limits, &tokens).await?;
        let stop = Arc::new(AtomicBool::new(false));
        let (stop_tx, stop_rx) = watch::channel(false);
        let mut workers = Vec::new();

        match &config.queue_log {
            QueueLogInput::File(path) => {
                let tailer = Tailer::new(
                    path.clone(),
                    queue_log_writer,
                    tables.queue_log.clone(),
                    DeadLetters::open(lake.root())?,
                    config.tail.clone(),
                    tokio::runtime::Handle::current(),
                );
                workers.push(spawn_tail("queue_log-tail", tailer, &stop)?);
                tracing::info!(queue_log = %path.display(), "following queue_log");
            }
            QueueLogInput::Postgres {
                url,
                table,
                time_zone,
            } => {
                let options = PostgresOptions {
                    table: table.clone(),
                    time_zone: time_zone.clone(),
                    cadence: config.tail.clone(),
                };
                let source = PostgresSource::connect(
                    url,
                    options,
                    queue_log_writer,
                    tables.queue_log.clone(),
                    DeadLetters::open(lake.root())?,
                )
                .await?;
                let rx = stop_rx.clone();
                workers.push(Worker::Task(
                    "queue_log-postgres",
                    tokio::spawn(async move { source.run(rx).await.map(|_| ()) }),
                ));
                tracing::info!(table = %table, "following queue_log in PostgreSQL");
            }
        }

        let feed = match &config.ami {
            Some(ami) => {
                let feed = LiveFeed::default();
                for (queue, seconds) in &config.queue_wrapup {
                    feed.lock().state.set_queue_wrapup(queue, *seconds);
                }
                let journal_path = lake.root().join("journal").join("ami.jsonl");
                let journal = Journal::open(&journal_path, &ami.address)?
                    .rotating_past(config.journal_rotate_bytes);
                let tailer = Tailer::new(
                    journal_path,
                    ami_writer,
                    tables.ami_events.clone(),
                    DeadLetters::open_for(lake.root(), AMI_EVENTS)?,
                    config.tail.clone(),
                    tokio::runtime::Handle::current(),
                )
                .with_format(Journal::tail_format());
                workers.push(spawn_tail("ami-journal-tail", tailer, &stop)?);
                let mut sink = JournalingSink::new(journal, feed.clone());
                let mut ami = ami.clone();
                // Heard from often enough that a quiet PBX never reads as
                // a stale floor.
                ami.session.ping_every = ami.session.ping_every.min(config.pacing.ping_every());
                let rx = stop_rx.clone();
                workers.push(Worker::Task(
                    "ami-client",
                    tokio::spawn(async move { client::run(ami, &mut sink, rx).await }),
                ));
                Some(feed)
            }
            None => None,
        };

        crate::http::metrics::recorder().map_err(|e| anyhow::anyhow!("{e:?}"))?;
        let listener = tokio::net::TcpListener::bind(config.server.listen).await?;
        let address = listener.local_addr()?;
        tracing::info!(%address, data = %config.data.display(), "queuelake listening");
        let rollups = tokio::spawn(store_closed_days(
            rollup,
            tables.clone(),
            config.rollup_every,
        ));
        let pacing = Arc::new(Pacing::new(
            config.pacing.clone(),
            feed.clone(),
            Some(DecisionStore::new(
                decision_writer,
                tables.pacing_decisions.clone(),
            )),
            config
                .kpi
                .time_zone
                .parse()
                .map_err(|e| anyhow::anyhow!("{e}"))?,
        ));
        let state = Arc::new(AppState {
            sessions,
            tables,
            pacing,
            live: LiveSource::new(feed, &config.kpi.time_zone)?,
            tokens,
            rate_limiter: RateLimiter::default(),
            auth_failures: AuthFailures::new(Rate {
                per_second: config.server.auth_failures_per_second,
                burst: config.server.auth_failures_burst,
            }),
            rate: Rate {
                per_second: config.server.requests_per_second,
                burst: config.server.burst,
            },
            query_slots: QuerySlots::new(
                config.query.max_concurrent,
                Duration::from_millis(config.query.queue_wait_ms),
            ),
            planner,
            scheduling,
            reports,
        });
        let postgres = match &config.postgres_wire {
            Some(section) => Some(PostgresWire::bind(section, state.clone()).await?),
            None => None,
        };
        Ok(Service {
            listener,
            address,
            max_body_bytes: config.server.max_body_bytes,
            connections: config.server.connection_limits(),
            postgres,
            generated_admin_token,
            state,
            stop,
            stop_tx,
            workers,
            rollups,
            plan_every: config.plan.every,
            _lock: lock,
        })
    }

    /// Forecasts every queue and staffs the run now (the demo's first run).
    pub async fn plan_now(&self) -> Result<(ForecastRun, StaffingRun), PlanningError> {
        self.state
            .planner
            .forecast_and_staff(self.state.sessions.full())
            .await
    }

    /// The HTTP address (the real port when 0 was asked for).
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// The PostgreSQL-wire address, if it listens.
    pub fn postgres_address(&self) -> Option<SocketAddr> {
        self.postgres.as_ref().map(PostgresWire::address)
    }

    /// The admin token made for this run when none was configured.
    pub fn generated_admin_token(&self) -> Option<&str> {
        self.generated_admin_token.as_deref()
    }

    /// Serves until `shutdown` completes or the queue_log source fails,
    /// then stops every source, committing what they hold. A refused AMI
    /// login stops only the AMI client (loudly); the rest keeps serving.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let Service {
            listener,
            max_body_bytes,
            connections,
            postgres,
            state,
            stop,
            stop_tx,
            workers,
            rollups,
            plan_every,
            _lock,
            ..
        } = self;
        let pacing = tokio::spawn(crate::pacing::service::run(
            state.pacing.clone(),
            state.sessions.full_shared(),
        ));
        let planning = plan_every.map(|every| {
            tokio::spawn(schedule::run_every(
                state.planner.clone(),
                state.sessions.full_shared(),
                every,
            ))
        });
        let report_tasks = state.reports.spawn(stop_tx.subscribe());
        let reports = state.reports.clone();
        let postgres = postgres.map(|wire| tokio::spawn(wire.serve()));
        let server = connections::serve(
            listener,
            router(state, max_body_bytes),
            connections,
            shutdown,
        );
        let source_ended = Box::pin(watch_sources(&workers, stop.clone()));
        tokio::select! {
            () = server => {}
            () = source_ended => tracing::error!("a source stopped; shutting down"),
        }
        shutdown_deadline::arm("the background tasks");
        if let Some(task) = postgres {
            task.abort(); // open PostgreSQL sessions end with the process
        }
        stop.store(true, Ordering::SeqCst);
        let _ = stop_tx.send(true);
        rollups.abort(); // a refresh cut short commits nothing
        if let Some(job) = planning {
            job.abort(); // a run cut short commits nothing
        }
        pacing.abort();
        shutdown_deadline::stage("the report workers");
        // A job in progress gets a grace to finish; idle workers (whose
        // polling does not end by itself at once) are simply stopped.
        let grace_ends = tokio::time::Instant::now() + REPORT_GRACE;
        while reports.jobs_in_progress() > 0 && tokio::time::Instant::now() < grace_ends {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        for task in report_tasks {
            task.abort();
            let _ = task.await;
        }
        shutdown_deadline::stage("the job store");
        reports.close().await;
        shutdown_deadline::stage("the sources' last commits");
        let mut first_error = None;
        for worker in workers {
            let (name, result) = match worker {
                Worker::Thread(name, handle) => (
                    name,
                    tokio::task::spawn_blocking(move || handle.join())
                        .await?
                        .map_err(|_| anyhow::anyhow!("{name} panicked"))?,
                ),
                Worker::Task(name, handle) => (name, handle.await?),
            };
            match result {
                Ok(()) => {}
                Err(e @ queuelake_ingest::IngestError::AmiLoginRefused { .. }) => {
                    tracing::error!(error = %e, "the AMI client had stopped");
                }
                Err(e) => {
                    tracing::error!(source = name, error = %e, "source failed");
                    first_error.get_or_insert(anyhow::anyhow!("{name}: {e}"));
                }
            }
        }
        match first_error {
            Some(e) => Err(e),
            None => {
                tracing::info!("stopped; everything read is committed");
                Ok(())
            }
        }
    }
}

/// The configured tokens; with none, a registry holding one admin token
/// made for this run (returned to be printed): auth is never off.
fn token_registry(entries: &[TokenEntry]) -> anyhow::Result<(TokenRegistry, Option<String>)> {
    let mut registry = TokenRegistry::from_entries(entries)?;
    if !registry.is_empty() {
        return Ok((registry, None));
    }
    let token = token::generate()?;
    registry.add(
        &token,
        Principal {
            name: "admin".into(),
            role: Role::Admin,
            scope: Scope::All,
            requests_per_second: None,
            burst: None,
        },
    );
    Ok((registry, Some(token)))
}

/// Resolves when a source ends on its own: a tail thread sets `stop` on
/// its error, a queue_log task finishes (its error is reported at join).
/// The AMI client ending (a refused login) does not stop the service.
async fn watch_sources(workers: &[Worker], stop: Arc<AtomicBool>) {
    loop {
        let ended = workers.iter().any(|w| match w {
            Worker::Task(name, handle) => *name != "ami-client" && handle.is_finished(),
            Worker::Thread(..) => false,
        });
        if ended || stop.load(Ordering::SeqCst) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn spawn_tail(
    name: &'static str,
    tailer: Tailer,
    stop: &Arc<AtomicBool>,
) -> anyhow::Result<Worker> {
    let stop = stop.clone();
    let handle = std::thread::Builder::new()
        .name(name.into())
        .spawn(move || {
            let result = tailer.run(stop.clone());
            if result.is_err() {
                stop.store(true, Ordering::SeqCst); // a failed tail stops the server
            }
            result.map(|stats| {
                tracing::info!(
                    source = name,
                    rows = stats.rows,
                    dead_letters = stats.dead_letters,
                    "tail stopped"
                );
            })
        })?;
    Ok(Worker::Thread(name, handle))
}

async fn ami_events_writer(lake: &Lake, lock: &WriterLock) -> anyhow::Result<TableWriter> {
    Ok(lake
        .table_writer(
            lock,
            AMI_EVENTS,
            AMI_EVENTS_SCHEMA.clone(),
            AMI_EVENTS_TS_COLUMN,
            WriterSettings::default(),
        )
        .await?)
}

/// Stores closed days of `calls` as the tail commits them, every `period`.
/// A failed refresh is logged and retried; queries stay correct meanwhile
/// (they compute the days not stored).
async fn store_closed_days(mut rollup: CallsRollup, tables: LakeTables, period: Duration) {
    loop {
        let started = std::time::Instant::now();
        let refreshed = rollup.refresh(&tables.queue_log.snapshot()).await;
        let outcome = if refreshed.is_ok() { "ok" } else { "failed" };
        metrics::counter!("queuelake_jobs_total", "job" => "calls_rollup", "outcome" => outcome)
            .increment(1);
        match refreshed {
            Ok(report) if report.days > 0 => {
                if let Err(e) = tables.calls_by_day.publish_commit(rollup.snapshot(), 0) {
                    tracing::error!(error = %e, "could not publish stored days of calls");
                }
                tracing::info!(
                    days = report.days,
                    visits = report.visits,
                    seconds = started.elapsed().as_secs_f64(),
                    "stored closed days of calls"
                );
            }
            Ok(_) => {}
            Err(e) => {
                tracing::error!(error = %e, "storing closed days of calls failed; will retry")
            }
        }
        tokio::time::sleep(period).await;
    }
}

/// Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down: committing what is held");
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn config_from(args: &[&str]) -> anyhow::Result<ServiceConfig> {
        let cli = crate::cli::Cli::try_parse_from(args)?;
        match cli.command {
            crate::cli::Command::Serve(serve) => ServiceConfig::from_args(*serve),
            _ => unreachable!("a serve command line"),
        }
    }

    #[test]
    fn flags_win_over_the_configuration_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("queuelake.toml");
        std::fs::write(
            &path,
            "version = 1\n[queue_log]\nfile = \"/var/log/asterisk/queue_log\"\n\
             [ami]\naddress = \"pbx:5038\"\nuser = \"ql\"\nsecret = \"s\"\nauth = \"plain\"\n",
        )
        .unwrap();
        let file = path.to_str().unwrap();
        let base = ["queuelake", "serve", "--data", "lake", "--config", file];
        let config = config_from(&base).unwrap();
        let ami = config.ami.unwrap();
        assert_eq!(
            (ami.address.as_str(), ami.session.auth),
            ("pbx:5038", AuthKind::Plain)
        );
        assert!(matches!(config.queue_log, QueueLogInput::File(_)));

        let mut args = base.to_vec();
        args.extend(["--ami", "other:5038", "--ami-auth", "md5"]);
        args.extend(["--queue-log-postgres", "postgres://db/x"]);
        let config = config_from(&args).unwrap();
        let ami = config.ami.unwrap();
        assert_eq!(
            (ami.address.as_str(), ami.session.username.as_str()),
            ("other:5038", "ql")
        );
        assert_eq!(ami.session.auth, AuthKind::Md5);
        assert!(matches!(config.queue_log, QueueLogInput::Postgres { .. }));

        let err = config_from(&["queuelake", "serve", "--data", "lake", "--ami", "pbx:1"])
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("no queue_log source"), "{err}");
        let err = config_from(&[
            "queuelake",
            "serve",
            "--data",
            "lake",
            "--queue-log",
            "q",
            "--ami",
            "pbx:1",
        ])
        .err()
        .unwrap()
        .to_string();
        assert!(err.contains("needs a user and a secret"), "{err}");
    }
}
