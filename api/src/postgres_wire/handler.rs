//! Per-connection dispatch: each query runs in the session of the
//! connection's token (its scope), under the server's limits.
//!
//! Sessions are datafusion-postgres services over the scope's query engine
//! (one per engine, made on first use, with `pg_catalog` installed and
//! the [`ReadOnly`] hook first). A query takes a slot from the shared
//! query slots and holds it until its rows are sent; the server's
//! deadline ends it whatever the client set.

use std::collections::HashMap;
use std::fmt::Debug;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use datafusion::execution::SessionStateBuilder;
use datafusion::execution::context::SessionContext;
use datafusion::execution::runtime_env::RuntimeEnvBuilder;
use datafusion::logical_expr::LogicalPlan;
use datafusion::sql::sqlparser::ast::Statement;
use datafusion_postgres::datafusion_pg_catalog::pg_catalog::context::EmptyContextProvider;
use datafusion_postgres::datafusion_pg_catalog::pg_catalog::setup_pg_catalog;
use datafusion_postgres::hooks::cursor::CursorStatementHook;
use datafusion_postgres::hooks::set_show::SetShowHook;
use datafusion_postgres::hooks::transactions::TransactionStatementHook;
use datafusion_postgres::pgwire::api::portal::{Format, Portal};
use datafusion_postgres::pgwire::api::query::{ExtendedQueryHandler, SimpleQueryHandler};
use datafusion_postgres::pgwire::api::results::{FieldInfo, Response};
use datafusion_postgres::pgwire::api::stmt::QueryParser;
use datafusion_postgres::pgwire::api::store::PortalStore;
use datafusion_postgres::pgwire::api::{ClientInfo, ClientPortalStore, PgWireServerHandlers, Type};
use datafusion_postgres::pgwire::error::{ErrorInfo, PgWireError, PgWireResult};
use datafusion_postgres::pgwire::messages::PgWireBackendMessage;
use datafusion_postgres::pgwire::messages::data::DataRow;
use datafusion_postgres::{DfSessionService, Parser, QueryHook};
use futures::{Future, Sink, Stream};
use queuelake_engine::session::QueryEngine;
use tokio::sync::OwnedSemaphorePermit;

use super::guard::ReadOnly;
use super::startup::{TOKEN_NAME, TokenStartup};
use crate::auth::Principal;
use crate::http::AppState;
use crate::http::error::AppError;
use crate::http::metrics::{Outcome, record_query};

/// A prepared statement as datafusion-postgres keeps it.
pub type DfStatement = (String, Option<(Statement, LogicalPlan)>);

/// The catalog the lake's tables live in (what `current_database()` says).
const CATALOG: &str = queuelake_engine::session::CATALOG;

/// What the handlers share.
pub struct Shared {
    state: Arc<AppState>,
    principals: HashMap<String, Arc<Principal>>,
    services: Mutex<HashMap<usize, Arc<DfSessionService>>>,
    /// A parser for what does not depend on the session (result and
    /// parameter types of an already planned statement).
    any_parser: Arc<Parser>,
}

/// The pgwire handlers.
pub struct Handlers {
    shared: Arc<Shared>,
    parser: Arc<ScopedParser>,
    startup: Arc<TokenStartup>,
}

impl Handlers {
    /// Handlers over `state`'s tokens and sessions.
    pub fn new(state: Arc<AppState>) -> Self {
        let principals = state
            .tokens
            .principals()
            .map(|p| (p.name.clone(), Arc::clone(p)))
            .collect();
        let any_parser = DfSessionService::new(Arc::new(SessionContext::new())).query_parser();
        let shared = Arc::new(Shared {
            state: state.clone(),
            principals,
            services: Mutex::new(HashMap::new()),
            any_parser,
        });
        Handlers {
            parser: Arc::new(ScopedParser {
                shared: shared.clone(),
            }),
            startup: Arc::new(TokenStartup::new(state)),
            shared,
        }
    }
}

impl PgWireServerHandlers for Handlers {
    fn simple_query_handler(&self) -> Arc<impl SimpleQueryHandler> {
        Arc::new(Connection {
            shared: self.shared.clone(),
            parser: self.parser.clone(),
        })
    }

    fn extended_query_handler(&self) -> Arc<impl ExtendedQueryHandler> {
        Arc::new(Connection {
            shared: self.shared.clone(),
            parser: self.parser.clone(),
        })
    }

    fn startup_handler(&self) -> Arc<impl datafusion_postgres::pgwire::api::auth::StartupHandler> {
        self.startup.clone()
    }
}

fn user_error(code: &str, message: String) -> PgWireError {
    PgWireError::UserError(Box::new(ErrorInfo::new(
        "ERROR".into(),
        code.into(),
        message,
    )))
}

/// An [`AppError`] of the limits as a PostgreSQL error.
fn limit_error(e: AppError) -> PgWireError {
    let message = match e {
        AppError::TooManyRequests { detail, .. } => detail,
        other => format!("{other:?}"),
    };
    // 53000: insufficient_resources
    user_error("53000", message)
}

impl Shared {
    /// The connection's caller.
    fn principal<C: ClientInfo + ?Sized>(&self, client: &C) -> PgWireResult<Arc<Principal>> {
        client
            .metadata()
            .get(TOKEN_NAME)
            .and_then(|name| self.principals.get(name))
            .cloned()
            .ok_or_else(|| user_error("28000", "the connection is not signed in".into()))
    }

    /// The connection's caller, one request taken from its rate.
    fn caller<C: ClientInfo + ?Sized>(&self, client: &C) -> PgWireResult<Arc<Principal>> {
        let principal = self.principal(client)?;
        let rate = crate::http::guard::rate_of(&self.state, &principal);
        self.state
            .rate_limiter
            .check(&principal.name, rate)
            .map_err(limit_error)?;
        Ok(principal)
    }

    /// The session `principal` queries in.
    fn service(&self, principal: &Principal) -> PgWireResult<Arc<DfSessionService>> {
        let engine = self
            .state
            .sessions
            .for_principal(principal)
            .ok_or_else(|| user_error("XX000", format!("no session for {:?}", principal.name)))?;
        let key = Arc::as_ptr(&engine) as usize;
        let mut services = self
            .services
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(service) = services.get(&key) {
            return Ok(service.clone());
        }
        let service = Arc::new(
            build_service(&engine).map_err(|e| user_error("XX000", format!("session: {e}")))?,
        );
        services.insert(key, service.clone());
        Ok(service)
    }

    fn deadline(&self) -> Duration {
        Duration::from_millis(self.state.sessions.full().limits().timeout_ms)
    }
}

/// A datafusion-postgres service over `engine`'s tables, with its memory
/// limit, `pg_catalog`, and the read-only hook first.
fn build_service(engine: &QueryEngine) -> anyhow::Result<DfSessionService> {
    let limits = engine.limits();
    let runtime = RuntimeEnvBuilder::new()
        .with_memory_limit(limits.memory_limit_mb as usize * 1024 * 1024, 1.0)
        .build_arc()?;
    let state = SessionStateBuilder::new_from_existing(engine.context().state())
        .with_runtime_env(runtime)
        .build();
    let ctx = Arc::new(SessionContext::new_with_state(state));
    if ctx
        .catalog(CATALOG)
        .and_then(|c| c.schema("pg_catalog"))
        .is_none()
    {
        setup_pg_catalog(&ctx, CATALOG, EmptyContextProvider)
            .map_err(|e| anyhow::anyhow!("pg_catalog: {e}"))?;
        ctx.register_udf(super::settings::current_setting());
    }
    let hooks: Vec<Arc<dyn QueryHook>> = vec![
        Arc::new(ReadOnly),
        Arc::new(CursorStatementHook),
        Arc::new(SetShowHook),
        Arc::new(TransactionStatementHook),
    ];
    Ok(DfSessionService::new_with_hooks(ctx, hooks))
}

/// One connection's view of the handlers.
pub struct Connection {
    shared: Arc<Shared>,
    parser: Arc<ScopedParser>,
}

impl Connection {
    /// Runs `work` (planning; rows stream later) with a slot and the
    /// deadline, and makes every row stream it returns keep both.
    async fn limited<F>(&self, work: F) -> PgWireResult<Vec<Response>>
    where
        F: Future<Output = PgWireResult<Vec<Response>>>,
    {
        let slot = match self.shared.state.query_slots.acquire().await {
            Ok(slot) => Arc::new(slot),
            Err(e) => {
                record_query("postgres", Outcome::Refused, 0.0);
                return Err(limit_error(e));
            }
        };
        let started = Instant::now();
        let deadline = tokio::time::Instant::now() + self.shared.deadline();
        let responses = match tokio::time::timeout_at(deadline, work).await {
            Ok(Ok(responses)) => responses,
            Ok(Err(e)) => {
                record_query("postgres", Outcome::Error, started.elapsed().as_secs_f64());
                return Err(e);
            }
            Err(_) => {
                record_query("postgres", Outcome::Error, started.elapsed().as_secs_f64());
                return Err(timed_out(self.shared.deadline()));
            }
        };
        let timeout = self.shared.deadline();
        Ok(responses
            .into_iter()
            .map(|response| match response {
                Response::Query(mut query) => {
                    let rows =
                        std::mem::replace(&mut query.data_rows, Box::pin(futures::stream::empty()));
                    query.data_rows = Box::pin(Guarded {
                        rows,
                        deadline: Box::pin(tokio::time::sleep_until(deadline)),
                        timeout,
                        _slot: slot.clone(),
                        started,
                        failed: false,
                        done: false,
                    });
                    Response::Query(query)
                }
                other => other,
            })
            .collect())
    }
}

fn timed_out(limit: Duration) -> PgWireError {
    // 57014: query_canceled
    user_error(
        "57014",
        format!(
            "canceling statement: it ran past the server's limit of {} ms ([query] timeout_ms)",
            limit.as_millis()
        ),
    )
}

/// A result's rows, holding the query's slot and bounded by its deadline.
struct Guarded {
    rows: Pin<Box<dyn Stream<Item = PgWireResult<DataRow>> + Send>>,
    deadline: Pin<Box<tokio::time::Sleep>>,
    timeout: Duration,
    _slot: Arc<OwnedSemaphorePermit>,
    started: Instant,
    failed: bool,
    done: bool,
}

impl Stream for Guarded {
    type Item = PgWireResult<DataRow>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if this.done {
            return Poll::Ready(None);
        }
        if this.deadline.as_mut().poll(cx).is_ready() {
            this.done = true;
            this.failed = true;
            return Poll::Ready(Some(Err(timed_out(this.timeout))));
        }
        match this.rows.as_mut().poll_next(cx) {
            Poll::Ready(None) => {
                this.done = true;
                Poll::Ready(None)
            }
            Poll::Ready(Some(Err(e))) => {
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

#[async_trait]
impl SimpleQueryHandler for Connection {
    async fn do_query<C>(&self, client: &mut C, query: &str) -> PgWireResult<Vec<Response>>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let principal = self.shared.caller(client)?;
        let service = self.shared.service(&principal)?;
        tracing::debug!(token = %principal.name, query, "postgres wire query");
        self.limited(async { SimpleQueryHandler::do_query(&*service, client, query).await })
            .await
    }
}

#[async_trait]
impl ExtendedQueryHandler for Connection {
    type Statement = DfStatement;
    type QueryParser = ScopedParser;

    fn query_parser(&self) -> Arc<Self::QueryParser> {
        self.parser.clone()
    }

    async fn do_query<C>(
        &self,
        client: &mut C,
        portal: &Portal<Self::Statement>,
        max_rows: usize,
    ) -> PgWireResult<Response>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore<Statement = Self::Statement>,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let principal = self.shared.caller(client)?;
        let service = self.shared.service(&principal)?;
        let mut responses = self
            .limited(async {
                ExtendedQueryHandler::do_query(&*service, client, portal, max_rows)
                    .await
                    .map(|r| vec![r])
            })
            .await?;
        Ok(responses.pop().unwrap_or(Response::EmptyQuery))
    }
}

/// Parses in the session of the connection's token.
pub struct ScopedParser {
    shared: Arc<Shared>,
}

#[async_trait]
impl QueryParser for ScopedParser {
    type Statement = DfStatement;

    async fn parse_sql<C>(
        &self,
        client: &C,
        sql: &str,
        types: &[Option<Type>],
    ) -> PgWireResult<Option<Self::Statement>>
    where
        C: ClientInfo + Unpin + Send + Sync,
    {
        let principal = self.shared.principal(client)?;
        let service = self.shared.service(&principal)?;
        service.query_parser().parse_sql(client, sql, types).await
    }

    fn get_parameter_types(&self, statement: &Self::Statement) -> PgWireResult<Vec<Type>> {
        self.shared.any_parser.get_parameter_types(statement)
    }

    fn get_result_schema(
        &self,
        statement: &Self::Statement,
        column_format: Option<&Format>,
    ) -> PgWireResult<Vec<FieldInfo>> {
        self.shared
            .any_parser
            .get_result_schema(statement, column_format)
    }
}
