//! A read's rows on the wire: encoded as the client asked, started only
//! when the client reads them (a text of many statements runs them one
//! after another, never all at once), and ended by the deadline, a
//! cancel request or the result bounds, each with its SQLSTATE.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::Schema;
use datafusion::logical_expr::LogicalPlan;
use datafusion_postgres::arrow_pg::datatypes::{arrow_schema_to_pg_fields, encode_recordbatch};
use datafusion_postgres::pgwire::api::portal::Format;
use datafusion_postgres::pgwire::api::results::QueryResponse;
use datafusion_postgres::pgwire::error::{ErrorInfo, PgWireError, PgWireResult};
use datafusion_postgres::pgwire::messages::data::DataRow;
use datafusion_postgres::pgwire::types::format::FormatOptions;
use futures::{Future, Stream, StreamExt, stream};
use queuelake_engine::EngineError;
use queuelake_engine::query_runtime::{Deadline, Hold};
use tokio::sync::OwnedSemaphorePermit;

use super::cancel::CancelWatch;
use super::statements::PgSession;
use crate::http::metrics::{Outcome, record_query};

/// A PostgreSQL error with `code` (SQLSTATE).
pub fn user_error(code: &str, message: String) -> PgWireError {
    PgWireError::UserError(Box::new(ErrorInfo::new(
        "ERROR".into(),
        code.into(),
        message,
    )))
}

/// An engine error as PostgreSQL names it.
pub fn pg_error(e: EngineError) -> PgWireError {
    use crate::http::sql_errors::is_user_error;
    let code = match &e {
        // 25006 read_only_sql_transaction; 42601 syntax_error.
        EngineError::QueryRefused(m) if m.starts_with("refused") => "25006",
        EngineError::QueryRefused(_) => "42601",
        // 54001 statement_too_complex; 54000 program_limit_exceeded.
        EngineError::StatementTooComplex(_) => "54001",
        EngineError::ResultTooLarge(_) => "54000",
        // 57014 query_canceled.
        EngineError::QueryTimeout(_) | EngineError::QueryCancelled => "57014",
        EngineError::DataFusion(datafusion::error::DataFusionError::ResourcesExhausted(_)) => {
            // 53200 out_of_memory
            "53200"
        }
        EngineError::DataFusion(df) if is_user_error(df) => "42000",
        _ => "XX000",
    };
    let message = match e {
        EngineError::QueryCancelled => "canceling statement due to user request".to_string(),
        EngineError::QueryTimeout(ms) => format!(
            "canceling statement: it ran past the server's limit of {ms} ms ([query] timeout_ms)"
        ),
        EngineError::DataFusion(df) => df.strip_backtrace(),
        other => other.to_string(),
    };
    user_error(code, message)
}

/// What bounds one statement's rows: its slot, deadline and cancel signal.
pub struct Bounds {
    /// The query slot, held until the last row is sent and the query's
    /// task has ended.
    pub slot: Arc<OwnedSemaphorePermit>,
    /// When the statement (or the whole simple-protocol text) must end.
    pub deadline: Deadline,
    /// Resolves on the client's cancel request.
    pub cancel: CancelWatch,
}

impl Bounds {
    /// The same slot and deadline for the next statement of a text, with
    /// its own cancel signal.
    pub fn again<C: datafusion_postgres::pgwire::api::ClientInfo + ?Sized>(
        &self,
        client: &C,
    ) -> Bounds {
        Bounds {
            slot: self.slot.clone(),
            deadline: self.deadline,
            cancel: super::handler::cancel_watch(client),
        }
    }

    /// The slot, as the query's task keeps it.
    pub fn hold(&self) -> Hold {
        let slot: Arc<dyn std::any::Any + Send + Sync> = self.slot.clone();
        Some(slot)
    }
}

/// The response of a read: columns now, rows when the client reads them.
pub fn read_response(
    session: Arc<PgSession>,
    plan: LogicalPlan,
    format: &Format,
    options: Arc<FormatOptions>,
    bounds: Bounds,
) -> PgWireResult<QueryResponse> {
    let schema: Schema = plan.schema().as_arrow().clone();
    let fields = Arc::new(arrow_schema_to_pg_fields(&schema, format, Some(options))?);
    let encode_with = fields.clone();
    let (deadline, hold) = (bounds.deadline, bounds.hold());
    let batches = stream::once(async move { session.engine.stream(plan, deadline, hold).await })
        .map(|started| match started {
            Ok(rows) => rows.boxed(),
            Err(e) => stream::once(async move { Err(e) }).boxed(),
        })
        .flatten();
    let rows = batches
        .map(move |batch: Result<RecordBatch, EngineError>| {
            let rows: Box<dyn Iterator<Item = PgWireResult<DataRow>> + Send + Sync> = match batch {
                Ok(batch) => encode_recordbatch(encode_with.clone(), batch),
                Err(e) => Box::new(std::iter::once(Err(pg_error(e)))),
            };
            stream::iter(rows)
        })
        .flatten();
    Ok(QueryResponse::new(
        fields,
        Guarded::new(Box::pin(rows), bounds),
    ))
}

/// A result's rows, holding the query's slot and ended by its deadline or
/// a cancel request (the query stops when its rows are dropped).
pub struct Guarded {
    rows: Option<Pin<Box<dyn Stream<Item = PgWireResult<DataRow>> + Send>>>,
    deadline: Pin<Box<tokio::time::Sleep>>,
    limit_ms: u64,
    cancel: CancelWatch,
    slot: Option<Arc<OwnedSemaphorePermit>>,
    started: Instant,
    failed: bool,
}

impl Guarded {
    /// `rows` within `bounds`.
    pub fn new(
        rows: Pin<Box<dyn Stream<Item = PgWireResult<DataRow>> + Send>>,
        bounds: Bounds,
    ) -> Self {
        Guarded {
            rows: Some(rows),
            deadline: Box::pin(tokio::time::sleep_until(bounds.deadline.at)),
            limit_ms: bounds.deadline.limit_ms,
            cancel: bounds.cancel,
            slot: Some(bounds.slot),
            started: Instant::now(),
            failed: false,
        }
    }

    fn end(&mut self, error: EngineError) -> Poll<Option<PgWireResult<DataRow>>> {
        // Dropping the rows stops the query on the pool now (its task
        // gives the slot back when it has ended).
        self.rows = None;
        self.slot = None;
        self.failed = true;
        Poll::Ready(Some(Err(pg_error(error))))
    }
}

impl Stream for Guarded {
    type Item = PgWireResult<DataRow>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if this.rows.is_none() {
            return Poll::Ready(None);
        }
        if this.deadline.as_mut().poll(cx).is_ready() {
            return this.end(EngineError::QueryTimeout(this.limit_ms));
        }
        if this.cancel.as_mut().poll(cx).is_ready() {
            return this.end(EngineError::QueryCancelled);
        }
        let Some(rows) = this.rows.as_mut() else {
            return Poll::Ready(None);
        };
        match rows.as_mut().poll_next(cx) {
            Poll::Ready(None) => {
                this.rows = None;
                this.slot = None;
                Poll::Ready(None)
            }
            Poll::Ready(Some(Err(e))) => {
                this.rows = None;
                this.slot = None;
                this.failed = true;
                Poll::Ready(Some(Err(e)))
            }
            other => other,
        }
    }
}

impl Drop for Guarded {
    fn drop(&mut self) {
        let outcome = if self.failed {
            Outcome::Error
        } else {
            Outcome::Ok
        };
        record_query("postgres", outcome, self.started.elapsed().as_secs_f64());
    }
}
