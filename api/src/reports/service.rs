//! The report service: asks for runs (now, or on each definition's cron
//! schedule), runs the job queue's workers, and answers for status,
//! history and files.
//!
//! ```text
//!  cron (apalis-cron, per report, its zone) ─┐
//!  POST /api/v1/reports/{name}/runs ─────────┼─▶ job store (SQLite | PostgreSQL)
//!  queuelake report run … --queue ───────────┘        │
//!                                       workers (apalis, retries with backoff)
//!                                                     ▼
//!                       queries ─▶ xlsx/pdf/csv ─▶ <data>/reports/… ─▶ mail (once)
//! ```

use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use apalis::layers::retry::RetryPolicy;
use apalis::prelude::{
    BackendExt, BoxDynError, Data, Strategy, TaskId, WorkerBuilder, WorkerBuilderExt,
};
use apalis_cron::{CronScheduler, Tick};
use apalis_postgres::PostgresStorage;
use apalis_sqlite::SqliteStorage;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use queuelake_reports::definition::{Format, ReportDefinition};
use queuelake_reports::period::Period;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tower::retry::backoff::{ExponentialBackoffMaker, MakeBackoff};
use tower::util::rng::HasherRng;

use super::job::{JobOutcome, ReportJob};
use super::mail::Mailer;
use super::runner::Runner;
use super::settings::JobsSection;
use super::store::{JobDb, JobStore, StoreError};

/// A request to run a report now.
#[derive(Clone, Debug)]
pub struct RunRequest {
    /// The report.
    pub report: String,
    /// Its period.
    pub period: Period,
    /// Only these queues (none: the definition's).
    pub queues: Option<Vec<String>>,
    /// These formats (none: the definition's).
    pub formats: Option<Vec<Format>>,
    /// Whether to e-mail the definition's recipients.
    pub email: bool,
}

/// Why a run could not be asked for.
#[derive(Debug, thiserror::Error)]
pub enum RequestError {
    /// No such report.
    #[error("no report {0:?}: see GET /api/v1/reports")]
    UnknownReport(String),
    /// The period.
    #[error(transparent)]
    Period(#[from] queuelake_reports::period::PeriodError),
    /// The store.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The service.
pub struct Reports {
    runner: Runner,
    store: JobStore,
    mailer: Mailer,
    jobs: JobsSection,
    worker_id: String,
    /// Jobs this process's workers are running now.
    in_progress: AtomicUsize,
}

/// Counts a job in progress for as long as it lives (a job cut short
/// by shutdown is dropped, and uncounted, too).
struct InProgress<'a>(&'a AtomicUsize);

impl<'a> InProgress<'a> {
    fn start(count: &'a AtomicUsize) -> Self {
        count.fetch_add(1, Ordering::SeqCst);
        InProgress(count)
    }
}

impl Drop for InProgress<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A process-unique worker id: host, process id and a random suffix.
pub fn worker_id() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "host".into());
    let mut random = [0u8; 4];
    let _ = getrandom::fill(&mut random);
    let suffix: String = random.iter().map(|b| format!("{b:02x}")).collect();
    format!("queuelake-{host}-{}-{suffix}", std::process::id())
}

impl Reports {
    /// Closes the job store (at shutdown, once the workers have stopped).
    pub async fn close(&self) {
        self.store.close().await;
    }

    /// The service over `runner`, with its store opened.
    pub async fn open(
        runner: Runner,
        jobs: JobsSection,
        mailer: Mailer,
        data: &Path,
    ) -> Result<Self, StoreError> {
        let store = JobStore::open(jobs.postgres_url.as_deref(), data, &jobs.queue).await?;
        Ok(Reports {
            runner,
            store,
            mailer,
            jobs,
            worker_id: worker_id(),
            in_progress: AtomicUsize::new(0),
        })
    }

    /// Jobs this process's workers are running now (shutdown waits a
    /// little for them, and for nothing when there are none).
    pub fn jobs_in_progress(&self) -> usize {
        self.in_progress.load(Ordering::SeqCst)
    }

    /// The definitions, in order of name.
    pub fn definitions(&self) -> impl Iterator<Item = &ReportDefinition> {
        self.runner.definitions().values()
    }

    /// The job store.
    pub fn store(&self) -> &JobStore {
        &self.store
    }

    /// The runner.
    pub fn runner(&self) -> &Runner {
        &self.runner
    }

    /// The job `request` makes, seen from `now`.
    pub fn job(
        &self,
        request: &RunRequest,
        requested_by: &str,
        now: DateTime<Utc>,
    ) -> Result<ReportJob, RequestError> {
        let definition = self
            .runner
            .definitions()
            .get(&request.report)
            .ok_or_else(|| RequestError::UnknownReport(request.report.clone()))?;
        let window = request.period.resolve(now, &definition.time_zone)?;
        Ok(ReportJob {
            report: definition.name.clone(),
            window,
            queues: request
                .queues
                .clone()
                .unwrap_or_else(|| definition.queues.clone()),
            formats: request
                .formats
                .clone()
                .unwrap_or_else(|| definition.formats.clone()),
            recipients: if request.email {
                definition.recipients.clone()
            } else {
                Vec::new()
            },
            requested_by: requested_by.to_owned(),
        })
    }

    /// Queues `job`; returns its id.
    pub async fn enqueue(&self, job: ReportJob) -> Result<String, StoreError> {
        let id = self
            .store
            .push(job.clone(), self.jobs.attempts, None)
            .await?;
        id.ok_or_else(|| StoreError::NotStored(format!("{} {}", job.report, job.window.label)))
    }

    /// Renders, commits and delivers `job` (the worker's task, and the
    /// CLI's direct run).
    pub async fn run(&self, job_id: &str, job: &ReportJob) -> Result<JobOutcome, BoxDynError> {
        run_job(&self.runner, &self.store, &self.mailer, job_id, job).await
    }

    /// Starts this process's workers (unless `[jobs] worker = false`) and
    /// the schedules; they stop when `shutdown` turns true.
    pub fn spawn(self: &Arc<Self>, shutdown: watch::Receiver<bool>) -> Vec<JoinHandle<()>> {
        let mut tasks = Vec::new();
        if self.jobs.worker {
            let service = Arc::clone(self);
            let stop = shutdown.clone();
            tasks.push(tokio::spawn(async move {
                if let Err(e) = service.work(stop).await {
                    tracing::error!(error = %e, "report worker stopped");
                }
            }));
        }
        for definition in self.runner.definitions().values() {
            let Some(expr) = &definition.cron else {
                continue;
            };
            let (Ok(schedule), Ok(tz)) = (
                cron::Schedule::from_str(expr),
                definition.time_zone.parse::<Tz>(),
            ) else {
                continue; // checked when the configuration was read
            };
            let service = Arc::clone(self);
            let name = definition.name.clone();
            let stop = shutdown.clone();
            tasks.push(tokio::spawn(async move {
                let worker = WorkerBuilder::new(format!("{}-schedule-{name}", service.worker_id))
                    .backend(CronScheduler::new(schedule).with_timezone(tz))
                    .data(ScheduleTick {
                        service: Arc::clone(&service),
                        report: name.clone(),
                    })
                    .build(on_tick);
                if let Err(e) = worker.run_until(stopped(stop)).await {
                    tracing::error!(report = %name, error = %e, "report schedule stopped");
                }
            }));
        }
        tasks
    }

    /// Runs workers on the store until `shutdown`.
    async fn work(self: Arc<Self>, shutdown: watch::Receiver<bool>) -> Result<(), BoxDynError> {
        let retries = self.jobs.attempts.saturating_sub(1) as usize;
        let backoff = ExponentialBackoffMaker::new(
            Duration::from_secs(self.jobs.retry_seconds),
            Duration::from_secs(self.jobs.max_retry_seconds.max(1)),
            0.1,
            HasherRng::default(),
        )
        .map_err(|e| format!("[jobs] retry_seconds: {e}"))?
        .make_backoff();
        let poll = Strategy::new().interval(Duration::from_secs(self.jobs.poll_seconds));
        let heartbeat = Duration::from_secs(self.jobs.heartbeat_seconds);
        let context = WorkContext {
            service: Arc::clone(&self),
        };
        tracing::info!(worker = %self.worker_id, store = self.store.kind(), "report worker started");
        let queue = self.store.queue();
        // The two stores are different types; the worker is the same.
        macro_rules! run_worker {
            ($backend:expr) => {
                WorkerBuilder::new(self.worker_id.clone())
                    .backend($backend.poll_with_strategy(poll))
                    .concurrency(self.jobs.concurrency)
                    .retry(RetryPolicy::retries(retries).with_backoff(backoff))
                    .data(context)
                    .build(worker_task)
                    .run_until(stopped(shutdown))
                    .await?
            };
        }
        match self.store.db() {
            JobDb::Sqlite(pool) => run_worker!(
                SqliteStorage::<ReportJob>::new(pool).with_config(
                    apalis_sqlite::Config::default()
                        .queue(queue)
                        .heartbeat_interval(heartbeat)
                        .batch_size(self.jobs.concurrency)
                )
            ),
            JobDb::Postgres(pool) => run_worker!(
                PostgresStorage::<ReportJob>::new(pool).with_config(
                    apalis_postgres::Config::default()
                        .queue(queue)
                        .heartbeat_interval(heartbeat)
                        .batch_size(self.jobs.concurrency)
                )
            ),
        }
        Ok(())
    }
}

/// Resolves once `shutdown` turns true (or its sender is gone).
async fn stopped(mut shutdown: watch::Receiver<bool>) -> Result<(), std::io::Error> {
    while !*shutdown.borrow() {
        if shutdown.changed().await.is_err() {
            break;
        }
    }
    Ok(())
}

/// What a worker's task gets.
#[derive(Clone)]
struct WorkContext {
    service: Arc<Reports>,
}

async fn worker_task(
    job: ReportJob,
    id: TaskId,
    context: Data<WorkContext>,
) -> Result<JobOutcome, BoxDynError> {
    let job_id = id.to_string();
    let service = &context.service;
    tracing::info!(job = %job_id, report = %job.report, period = %job.window.label, "report job started");
    let started = Instant::now();
    let _counted = InProgress::start(&service.in_progress);
    let result = service.run(&job_id, &job).await;
    let outcome = if result.is_ok() { "ok" } else { "failed" };
    metrics::counter!("queuelake_jobs_total", "job" => "report", "outcome" => outcome).increment(1);
    metrics::histogram!("queuelake_report_duration_seconds", "report" => job.report.clone())
        .record(started.elapsed().as_secs_f64());
    match &result {
        Ok(outcome) => tracing::info!(
            job = %job_id,
            files = outcome.files.len(),
            delivery = %outcome.delivery,
            "report job done"
        ),
        Err(e) => tracing::warn!(job = %job_id, error = %e, "report job attempt failed"),
    }
    result
}

/// The body of a job: render, commit by rename, deliver once, prune.
async fn run_job(
    runner: &Runner,
    store: &JobStore,
    mailer: &Mailer,
    job_id: &str,
    job: &ReportJob,
) -> Result<JobOutcome, BoxDynError> {
    let rendered = runner.render(job).await?;
    runner.commit(job, &rendered)?;
    let delivery = mailer.deliver(store, job_id, job, &rendered).await?;
    if let Some(definition) = runner.definitions().get(&job.report) {
        let removed = runner.prune(definition);
        if removed > 0 {
            tracing::info!(report = %job.report, removed, "old report outputs removed");
        }
    }
    Ok(JobOutcome {
        files: rendered.files.iter().map(|f| f.name.clone()).collect(),
        rows: rendered.rows,
        delivery,
        query_seconds: rendered.query_seconds,
        render_seconds: rendered.render_seconds,
    })
}

/// What a schedule's tick gets.
#[derive(Clone)]
struct ScheduleTick {
    service: Arc<Reports>,
    report: String,
}

/// A schedule fired: queue the report's job for the period seen from the
/// tick's instant. The key (report and tick) lets only one of several
/// machines with the same schedule queue it.
async fn on_tick(tick: Tick<Tz>, context: Data<ScheduleTick>) -> Result<(), BoxDynError> {
    let started = Instant::now();
    let service = &context.service;
    let Some(definition) = service.runner.definitions().get(&context.report) else {
        return Ok(());
    };
    let at =
        DateTime::<Utc>::from_timestamp(tick.get_timestamp() as i64, 0).unwrap_or_else(Utc::now);
    let request = RunRequest {
        report: definition.name.clone(),
        period: Period::named(&definition.period, None, None)?,
        queues: None,
        formats: None,
        email: true,
    };
    let job = service.job(&request, "schedule", at)?;
    let key = format!("schedule:{}:{}", definition.name, at.timestamp());
    let id = service
        .store
        .push(job, service.jobs.attempts, Some(&key))
        .await?;
    metrics::counter!("queuelake_jobs_total", "job" => "report_schedule", "outcome" => "ok")
        .increment(1);
    match id {
        Some(id) => tracing::info!(report = %definition.name, job = %id, "scheduled report queued"),
        None => {
            tracing::debug!(report = %definition.name, ms = started.elapsed().as_millis() as u64, "tick already queued by another worker")
        }
    }
    Ok(())
}
