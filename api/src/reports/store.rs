//! The report job store: apalis's SQLite storage (a file in the data
//! folder) or its PostgreSQL storage (`[jobs] postgres_url`, shared by
//! workers on several machines), and beside the jobs the delivery ledger
//! that keeps a retried job from e-mailing twice.
//!
//! Jobs are pushed and run through apalis; status and history are read
//! from its jobs table here, so both stores answer the same questions.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use apalis::prelude::{TaskBuilder, TaskId, TaskSink};
use apalis_postgres::PostgresStorage;
use apalis_sqlite::SqliteStorage;
use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::Row;
use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqlitePool, SqlitePoolOptions};

use super::job::{JobOutcome, ReportJob};

/// The default queue (apalis job type) report jobs are in.
pub const DEFAULT_QUEUE: &str = "queuelake-reports";

/// Why the store failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database.
    #[error("job store: {0}")]
    Database(#[from] sqlx::Error),
    /// apalis's SQLite storage.
    #[error("job store (SQLite): {0}")]
    Sqlite(String),
    /// apalis's PostgreSQL storage.
    #[error("job store (PostgreSQL): {0}")]
    Postgres(String),
    /// A job pushed without a key was not found afterwards.
    #[error("job store: the new job {0} was not stored")]
    NotStored(String),
    /// A stored job that does not decode.
    #[error("job {id}: {reason}")]
    Decode {
        /// The job.
        id: String,
        /// Why.
        reason: String,
    },
}

/// The database jobs are kept in.
#[derive(Clone, Debug)]
pub enum JobDb {
    /// The embedded SQLite file.
    Sqlite(SqlitePool),
    /// A shared PostgreSQL database.
    Postgres(PgPool),
}

/// Where jobs are kept: a database and the queue's name in it.
#[derive(Clone, Debug)]
pub struct JobStore {
    db: JobDb,
    queue: String,
}

/// A job as status and history show it.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct JobRecord {
    /// The job's id.
    pub id: String,
    /// `Pending`, `Queued`, `Running`, `Done`, `Failed` or `Killed`.
    pub status: String,
    /// Attempts made.
    pub attempts: i64,
    /// Attempts allowed.
    pub max_attempts: i64,
    /// When it was (or is) due.
    #[schema(value_type = Option<String>)]
    pub run_at: Option<DateTime<Utc>>,
    /// When it finished.
    #[schema(value_type = Option<String>)]
    pub done_at: Option<DateTime<Utc>>,
    /// The worker holding it, if running.
    pub worker: Option<String>,
    /// The report.
    pub report: String,
    /// The period's label.
    pub period: String,
    /// The period's first instant.
    #[schema(value_type = String)]
    pub period_start: DateTime<Utc>,
    /// The instant after it.
    #[schema(value_type = String)]
    pub period_end: DateTime<Utc>,
    /// Its queues (empty: all).
    pub queues: Vec<String>,
    /// Who asked (`schedule` or a token's name).
    pub requested_by: String,
    /// What it produced, once done.
    pub outcome: Option<JobOutcome>,
    /// Why it failed (the last attempt's error), if it did.
    pub error: Option<String>,
    /// The job as stored.
    #[serde(skip)]
    pub job: Option<ReportJob>,
}

const SQLITE_DELIVERIES: &str = "CREATE TABLE IF NOT EXISTS queuelake_report_deliveries (
    job_id TEXT PRIMARY KEY,
    recipients TEXT NOT NULL,
    via TEXT NOT NULL,
    message_id TEXT NOT NULL,
    delivered_at INTEGER NOT NULL)";

const PG_DELIVERIES: &str = "CREATE TABLE IF NOT EXISTS queuelake_report_deliveries (
    job_id TEXT PRIMARY KEY,
    recipients TEXT NOT NULL,
    via TEXT NOT NULL,
    message_id TEXT NOT NULL,
    delivered_at TIMESTAMPTZ NOT NULL DEFAULT now())";

/// A jobs-table row of either store (the queries give both the same
/// columns and types; the row types differ, hence a macro).
macro_rules! raw_job {
    ($row:expr) => {
        RawJob {
            id: $row.get("id"),
            status: $row.get("status"),
            attempts: $row.get("attempts"),
            max_attempts: $row.get("max_attempts"),
            run_at: $row.get("run_at"),
            done_at: $row.get("done_at"),
            lock_by: $row.get("lock_by"),
            last_result: $row.get("last_result"),
            job: $row.get("job"),
        }
    };
}

/// A delivery recorded for a job.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Delivery {
    /// `smtp` or `outbox`.
    pub via: String,
    /// The message's Message-ID.
    pub message_id: String,
}

impl JobStore {
    /// Closes the database's connections (at shutdown, after the workers
    /// have stopped): the pool's maintenance ends with them.
    pub async fn close(&self) {
        match &self.db {
            JobDb::Sqlite(pool) => pool.close().await,
            JobDb::Postgres(pool) => pool.close().await,
        }
    }

    /// Opens (and sets up) the store: PostgreSQL at `postgres_url`, else
    /// SQLite at `<data>/jobs.sqlite`; jobs go to the queue named `queue`.
    pub async fn open(
        postgres_url: Option<&str>,
        data: &Path,
        queue: &str,
    ) -> Result<Self, StoreError> {
        let db = JobStore::open_db(postgres_url, data).await?;
        Ok(JobStore {
            db,
            queue: queue.to_owned(),
        })
    }

    async fn open_db(postgres_url: Option<&str>, data: &Path) -> Result<JobDb, StoreError> {
        match postgres_url {
            Some(url) => {
                let pool = PgPoolOptions::new()
                    .max_connections(8)
                    .acquire_timeout(Duration::from_secs(10))
                    .connect(url)
                    .await?;
                PostgresStorage::setup(&pool)
                    .await
                    .map_err(|e| StoreError::Postgres(e.to_string()))?;
                sqlx::query(PG_DELIVERIES).execute(&pool).await?;
                Ok(JobDb::Postgres(pool))
            }
            None => {
                std::fs::create_dir_all(data).map_err(|e| StoreError::Sqlite(e.to_string()))?;
                let options = SqliteConnectOptions::from_str(&format!(
                    "sqlite://{}",
                    data.join("jobs.sqlite").display()
                ))?
                .create_if_missing(true)
                .busy_timeout(Duration::from_secs(10));
                let pool = SqlitePoolOptions::new()
                    .max_connections(4)
                    .connect_with(options)
                    .await?;
                SqliteStorage::setup(&pool)
                    .await
                    .map_err(|e| StoreError::Sqlite(e.to_string()))?;
                // apalis sets `synchronous = OFF`; a job store that must
                // survive a power cut wants its commits on disk.
                sqlx::query("PRAGMA synchronous = NORMAL")
                    .execute(&pool)
                    .await?;
                sqlx::query(SQLITE_DELIVERIES).execute(&pool).await?;
                Ok(JobDb::Sqlite(pool))
            }
        }
    }

    /// Which store this is, for logs and the API.
    pub fn kind(&self) -> &'static str {
        match self.db {
            JobDb::Sqlite(_) => "sqlite",
            JobDb::Postgres(_) => "postgres",
        }
    }

    /// The database.
    pub fn db(&self) -> &JobDb {
        &self.db
    }

    /// The queue's name.
    pub fn queue(&self) -> &str {
        &self.queue
    }

    /// Adds a job with `attempts` allowed; with an `idempotency_key`, a
    /// second job with the same key is dropped (a schedule's tick seen by
    /// several machines). Returns the new job's id, or `None` when the
    /// key already had one.
    pub async fn push(
        &self,
        job: ReportJob,
        attempts: u32,
        idempotency_key: Option<&str>,
    ) -> Result<Option<String>, StoreError> {
        let id = ulid::Ulid::new().to_string();
        let mut builder = TaskBuilder::new(job)
            .task_id(TaskId::from_string(id.clone()))
            .max_attempts(attempts as usize);
        if let Some(key) = idempotency_key {
            builder = builder.idempotency_key(key);
        }
        let task = builder.build();
        match &self.db {
            JobDb::Sqlite(pool) => {
                let mut storage = SqliteStorage::<ReportJob>::new(pool)
                    .with_config(apalis_sqlite::Config::default().queue(&self.queue));
                storage
                    .push_task(task)
                    .await
                    .map_err(|e| StoreError::Sqlite(e.to_string()))?;
            }
            JobDb::Postgres(pool) => {
                let mut storage = PostgresStorage::<ReportJob>::new(pool)
                    .with_config(apalis_postgres::Config::default().queue(&self.queue));
                // PostgreSQL refuses a second key (SQLite ignores it).
                match storage.push_task(task).await {
                    Ok(()) => {}
                    Err(apalis::prelude::TaskSinkError::PushError(
                        apalis_postgres::Error::Database(sqlx::Error::Database(e)),
                    )) if e.is_unique_violation() && idempotency_key.is_some() => return Ok(None),
                    Err(e) => return Err(StoreError::Postgres(e.to_string())),
                }
            }
        }
        Ok(self.get(&id).await?.map(|j| j.id))
    }

    /// One job.
    pub async fn get(&self, id: &str) -> Result<Option<JobRecord>, StoreError> {
        Ok(self.select(Some(id), None, 1).await?.into_iter().next())
    }

    /// The latest `limit` jobs, newest first, of `report` if given.
    pub async fn history(
        &self,
        report: Option<&str>,
        limit: u32,
    ) -> Result<Vec<JobRecord>, StoreError> {
        self.select(None, report, limit).await
    }

    async fn select(
        &self,
        id: Option<&str>,
        report: Option<&str>,
        limit: u32,
    ) -> Result<Vec<JobRecord>, StoreError> {
        // Jobs are filtered by report after decoding: the payload is JSON
        // bytes whose layout the store does not index.
        let fetch = if report.is_some() {
            2000
        } else {
            i64::from(limit)
        };
        let rows: Vec<RawJob> = match &self.db {
            JobDb::Sqlite(pool) => {
                let sql = "SELECT id, status, attempts, max_attempts, run_at, done_at, lock_by, \
                           CAST(last_result AS TEXT) AS last_result, CAST(job AS TEXT) AS job \
                           FROM Jobs WHERE job_type = ?1 AND (?2 IS NULL OR id = ?2) \
                           ORDER BY run_at DESC, id DESC LIMIT ?3";
                sqlx::query(sql)
                    .bind(&self.queue)
                    .bind(id)
                    .bind(fetch)
                    .fetch_all(pool)
                    .await?
                    .iter()
                    .map(|row| raw_job!(row))
                    .collect()
            }
            JobDb::Postgres(pool) => {
                let sql = "SELECT id, status, attempts::bigint AS attempts, \
                           max_attempts::bigint AS max_attempts, \
                           EXTRACT(EPOCH FROM run_at)::bigint AS run_at, \
                           EXTRACT(EPOCH FROM done_at)::bigint AS done_at, lock_by, \
                           last_result::text AS last_result, convert_from(job, 'UTF8') AS job \
                           FROM apalis.jobs WHERE job_type = $1 AND ($2::text IS NULL OR id = $2) \
                           ORDER BY run_at DESC, id DESC LIMIT $3";
                sqlx::query(sql)
                    .bind(&self.queue)
                    .bind(id)
                    .bind(fetch)
                    .fetch_all(pool)
                    .await?
                    .iter()
                    .map(|row| raw_job!(row))
                    .collect()
            }
        };
        let mut out = Vec::new();
        for raw in rows {
            let record = raw.decode()?;
            if report.is_none_or(|r| r == record.report) {
                out.push(record);
            }
            if out.len() >= limit as usize {
                break;
            }
        }
        Ok(out)
    }

    /// The delivery recorded for `job_id`, if any.
    pub async fn delivery(&self, job_id: &str) -> Result<Option<Delivery>, StoreError> {
        let row = match &self.db {
            JobDb::Sqlite(pool) => sqlx::query(
                "SELECT via, message_id FROM queuelake_report_deliveries WHERE job_id = ?1",
            )
            .bind(job_id)
            .fetch_optional(pool)
            .await?
            .map(|r| (r.get::<String, _>(0), r.get::<String, _>(1))),
            JobDb::Postgres(pool) => sqlx::query(
                "SELECT via, message_id FROM queuelake_report_deliveries WHERE job_id = $1",
            )
            .bind(job_id)
            .fetch_optional(pool)
            .await?
            .map(|r| (r.get::<String, _>(0), r.get::<String, _>(1))),
        };
        Ok(row.map(|(via, message_id)| Delivery { via, message_id }))
    }

    /// Records that `job_id`'s message went out.
    pub async fn record_delivery(
        &self,
        job_id: &str,
        recipients: &[String],
        delivery: &Delivery,
    ) -> Result<(), StoreError> {
        let recipients = recipients.join(", ");
        match &self.db {
            JobDb::Sqlite(pool) => {
                sqlx::query(
                    "INSERT INTO queuelake_report_deliveries (job_id, recipients, via, message_id, delivered_at) \
                     VALUES (?1, ?2, ?3, ?4, strftime('%s', 'now')) ON CONFLICT (job_id) DO NOTHING",
                )
                .bind(job_id)
                .bind(recipients)
                .bind(&delivery.via)
                .bind(&delivery.message_id)
                .execute(pool)
                .await?;
            }
            JobDb::Postgres(pool) => {
                sqlx::query(
                    "INSERT INTO queuelake_report_deliveries (job_id, recipients, via, message_id) \
                     VALUES ($1, $2, $3, $4) ON CONFLICT (job_id) DO NOTHING",
                )
                .bind(job_id)
                .bind(recipients)
                .bind(&delivery.via)
                .bind(&delivery.message_id)
                .execute(pool)
                .await?;
            }
        }
        Ok(())
    }
}

/// A jobs-table row before decoding.
struct RawJob {
    id: String,
    status: String,
    attempts: i64,
    max_attempts: i64,
    run_at: Option<i64>,
    done_at: Option<i64>,
    lock_by: Option<String>,
    last_result: Option<String>,
    job: Option<String>,
}

impl RawJob {
    fn decode(self) -> Result<JobRecord, StoreError> {
        let fail = |reason: String| StoreError::Decode {
            id: self.id.clone(),
            reason,
        };
        let job: ReportJob = serde_json::from_str(self.job.as_deref().unwrap_or("null"))
            .map_err(|e| fail(format!("its payload does not decode: {e}")))?;
        // apalis stores a result as {"Ok": value} or {"Err": "message"}.
        let result: Option<serde_json::Value> = self
            .last_result
            .as_deref()
            .and_then(|r| serde_json::from_str(r).ok());
        let (outcome, error) = match result {
            Some(serde_json::Value::Object(map)) => {
                let outcome = map
                    .get("Ok")
                    .and_then(|v| serde_json::from_value::<JobOutcome>(v.clone()).ok());
                let error = map.get("Err").map(|e| match e {
                    serde_json::Value::String(s) => s.clone(),
                    other => other.to_string(),
                });
                (outcome, error)
            }
            _ => (None, None),
        };
        let at = |secs: Option<i64>| secs.and_then(|s| DateTime::from_timestamp(s, 0));
        Ok(JobRecord {
            id: self.id.clone(),
            attempts: self.attempts,
            max_attempts: self.max_attempts,
            run_at: at(self.run_at),
            done_at: at(self.done_at),
            worker: if self.status == "Running" || self.status == "Queued" {
                self.lock_by.clone()
            } else {
                None
            },
            report: job.report.clone(),
            period: job.window.label.clone(),
            period_start: job.window.start,
            period_end: job.window.end,
            queues: job.queues.clone(),
            requested_by: job.requested_by.clone(),
            error: if self.status == "Done" { None } else { error },
            outcome,
            status: self.status,
            job: Some(job),
        })
    }
}

#[cfg(test)]
mod tests {
    use queuelake_reports::definition::Format;

    use super::*;

    fn job(report: &str) -> ReportJob {
        ReportJob {
            report: report.into(),
            queues: vec!["sales".into()],
            formats: vec![Format::Pdf],
            ..crate::reports::job::example_job()
        }
    }

    /// Pushing, reading back, idempotency keys and the delivery ledger.
    async fn exercise(store: &JobStore, tag: &str) {
        let report = format!("report-{tag}-{}", ulid::Ulid::new());
        let id = store.push(job(&report), 3, None).await.unwrap().unwrap();
        let record = store.get(&id).await.unwrap().unwrap();
        assert_eq!(record.status, "Pending");
        assert_eq!((record.attempts, record.max_attempts), (0, 3));
        assert_eq!(record.report, report);
        assert_eq!(record.queues, ["sales"]);
        assert_eq!(record.job, Some(job(&report)));
        let key = format!("schedule:{report}:1709596800");
        let first = store.push(job(&report), 3, Some(&key)).await.unwrap();
        let again = store.push(job(&report), 3, Some(&key)).await.unwrap();
        assert!(first.is_some());
        assert_eq!(again, None, "a second job with the same key is dropped");
        let history = store.history(Some(&report), 10).await.unwrap();
        assert_eq!(history.len(), 2);
        assert!(
            store
                .get("01ARZ3NDEKTSV4RRFFQ69G5FAV")
                .await
                .unwrap()
                .is_none()
        );

        assert_eq!(store.delivery(&id).await.unwrap(), None);
        let delivery = Delivery {
            via: "smtp".into(),
            message_id: format!("<{id}@queuelake>"),
        };
        store
            .record_delivery(&id, &["boss@example.com".into()], &delivery)
            .await
            .unwrap();
        store
            .record_delivery(&id, &["boss@example.com".into()], &delivery)
            .await
            .unwrap();
        assert_eq!(store.delivery(&id).await.unwrap(), Some(delivery));
    }

    #[tokio::test]
    async fn the_sqlite_store_keeps_jobs_keys_and_deliveries() {
        let dir = tempfile::tempdir().unwrap();
        let store = JobStore::open(None, dir.path(), "test").await.unwrap();
        assert_eq!(store.kind(), "sqlite");
        exercise(&store, "sqlite").await;
        // Reopened, it still has them.
        drop(store);
        let store = JobStore::open(None, dir.path(), "test").await.unwrap();
        assert_eq!(store.history(None, 100).await.unwrap().len(), 2);
    }

    #[tokio::test]
    async fn the_postgres_store_keeps_jobs_keys_and_deliveries() {
        let url = std::env::var("QUEUELAKE_TEST_POSTGRES")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
        let dir = tempfile::tempdir().unwrap();
        let queue = format!("test-{}", ulid::Ulid::new());
        let store = JobStore::open(Some(&url), dir.path(), &queue)
            .await
            .unwrap_or_else(|e| panic!("PostgreSQL at {url}: {e}"));
        assert_eq!(store.kind(), "postgres");
        exercise(&store, "postgres").await;
    }
}
