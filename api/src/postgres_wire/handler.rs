//! Per-connection dispatch: each statement runs in the session of the
//! connection's token (its scope), through the engine's guards and on the
//! query pool, under the server's limits.
//!
//! ```text
//!  Query / Parse ─▶ statements::prepare (pool: parse, syntax guard, plan guard)
//!     ├─ read ──────▶ rows::read_response (pool: execute; rows streamed, bounded)
//!     ├─ DECLARE ───▶ the same rows, kept in a cursor for FETCH
//!     └─ session ───▶ datafusion-postgres hooks (SET, SHOW, BEGIN, FETCH, CLOSE)
//! ```
//!
//! datafusion-postgres provides the catalog (`pg_catalog`), the
//! compatibility parser, the session-command hooks and the row encoding;
//! it never plans or runs a statement of a client itself. A statement
//! takes a slot from the shared query slots and holds it until its rows
//! are sent; the server's deadline and the client's cancel request end it
//! whatever the client set.

use std::collections::HashMap;
use std::fmt::Debug;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::ParamValues;
use datafusion::execution::context::SessionContext;
use datafusion::logical_expr::{EmptyRelation, LogicalPlan};
use datafusion::sql::sqlparser::ast::Statement;
use datafusion_postgres::arrow_pg::datatypes::df::deserialize_parameters_with_server_types;
use datafusion_postgres::datafusion_pg_catalog::pg_catalog::context::EmptyContextProvider;
use datafusion_postgres::datafusion_pg_catalog::pg_catalog::setup_pg_catalog;
use datafusion_postgres::hooks::HookClient;
use datafusion_postgres::hooks::cursor::CursorStatementHook;
use datafusion_postgres::hooks::set_show::SetShowHook;
use datafusion_postgres::hooks::transactions::TransactionStatementHook;
use datafusion_postgres::pgwire::api::portal::{Format, Portal};
use datafusion_postgres::pgwire::api::query::{ExtendedQueryHandler, SimpleQueryHandler};
use datafusion_postgres::pgwire::api::results::{FieldInfo, Response, Tag};
use datafusion_postgres::pgwire::api::stmt::{QueryParser, StoredStatement};
use datafusion_postgres::pgwire::api::store::{Entry, PortalStore};
use datafusion_postgres::pgwire::api::{
    ClientInfo, ClientPortalStore, DEFAULT_NAME, PgWireServerHandlers, Type,
};
use datafusion_postgres::pgwire::error::{PgWireError, PgWireResult};
use datafusion_postgres::pgwire::messages::PgWireBackendMessage;
use datafusion_postgres::pgwire::messages::extendedquery::{
    Bind, BindComplete, Parse, ParseComplete,
};
use datafusion_postgres::pgwire::types::format::FormatOptions;
use datafusion_postgres::{DfSessionService, Parser, QueryHook};
use futures::{Sink, SinkExt};
use queuelake_engine::EngineError;
use queuelake_engine::session::QueryEngine;
use queuelake_engine::statement_check::{self, Door, StatementKind};

use super::cancel::{CancelRequests, CancelWatch, Cancels, Registration};
use super::named::{NameBudget, Named};
use super::pending::Pending;
use super::rows::{Bounds, pg_error, read_response, user_error};
use super::startup::{TOKEN_NAME, TokenStartup};
use super::statements::{PgSession, Prepared, Statements, prepare};
use crate::auth::Principal;
use crate::http::AppState;
use crate::http::error::AppError;
use crate::http::metrics::{Outcome, record_query};
use queuelake_engine::query_runtime::{Deadline, Hold};

/// A prepared statement as datafusion-postgres keeps it.
pub type DfStatement = (String, Option<(Statement, LogicalPlan)>);

/// The catalog the lake's tables live in (what `current_database()` says).
const CATALOG: &str = queuelake_engine::session::CATALOG;

/// What the handlers share.
pub struct Shared {
    state: Arc<AppState>,
    principals: HashMap<String, Arc<Principal>>,
    sessions: Mutex<HashMap<usize, Arc<PgSession>>>,
    /// A parser for what does not depend on the session (parameter types
    /// of an already planned statement).
    any_parser: Arc<Parser>,
    /// The signed-in connections' cancel keys.
    pub cancels: Arc<Cancels>,
    /// Named prepared statements (and portals) a connection may hold.
    max_prepared: usize,
}

/// The pgwire handlers.
pub struct Handlers {
    shared: Arc<Shared>,
    parser: Arc<ScopedParser>,
    startup: Arc<TokenStartup>,
}

impl Handlers {
    /// Handlers over `state`'s tokens and sessions, with at most
    /// `max_signed_in` connections signed in, each holding at most
    /// `max_prepared` named statements and as many portals; sign-ins
    /// leave `pending`.
    pub fn new(
        state: Arc<AppState>,
        max_signed_in: usize,
        max_prepared: usize,
        pending: Arc<Pending>,
    ) -> Self {
        let principals = state
            .tokens
            .principals()
            .map(|p| (p.name.clone(), Arc::clone(p)))
            .collect();
        let any_parser = DfSessionService::new(Arc::new(SessionContext::new())).query_parser();
        let cancels = Arc::new(Cancels::default());
        let shared = Arc::new(Shared {
            state: state.clone(),
            principals,
            sessions: Mutex::new(HashMap::new()),
            any_parser,
            cancels: cancels.clone(),
            max_prepared,
        });
        Handlers {
            parser: Arc::new(ScopedParser {
                shared: shared.clone(),
            }),
            startup: Arc::new(TokenStartup::new(state, cancels, max_signed_in, pending)),
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

    fn cancel_handler(&self) -> Arc<impl datafusion_postgres::pgwire::api::cancel::CancelHandler> {
        Arc::new(CancelRequests(self.shared.cancels.clone()))
    }
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
    fn session(&self, principal: &Principal) -> PgWireResult<Arc<PgSession>> {
        let engine = self
            .state
            .sessions
            .for_principal(principal)
            .ok_or_else(|| user_error("XX000", format!("no session for {:?}", principal.name)))?;
        let key = Arc::as_ptr(&engine) as usize;
        let mut sessions = self
            .sessions
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(session) = sessions.get(&key) {
            return Ok(session.clone());
        }
        let session = Arc::new(
            build_session(&engine).map_err(|e| user_error("XX000", format!("session: {e}")))?,
        );
        sessions.insert(key, session.clone());
        Ok(session)
    }

    fn deadline(&self) -> Duration {
        Duration::from_millis(self.state.sessions.full().limits().timeout_ms)
    }

    /// A query slot, shared with HTTP.
    async fn slot(&self) -> PgWireResult<Arc<tokio::sync::OwnedSemaphorePermit>> {
        match self.state.query_slots.acquire().await {
            Ok(slot) => Ok(Arc::new(slot)),
            Err(e) => {
                record_query("postgres", Outcome::Refused, 0.0);
                Err(limit_error(e))
            }
        }
    }

    /// The names `client`'s connection holds.
    fn names<C: ClientInfo + ?Sized>(&self, client: &C) -> Arc<NameBudget> {
        client
            .session_extensions()
            .get_or_insert_with(|| NameBudget::new(self.max_prepared))
    }

    /// The bounds of a statement (or text) starting now on `client`'s
    /// connection: a slot, the deadline, the cancel signal.
    async fn bounds<C: ClientInfo + ?Sized>(&self, client: &C) -> PgWireResult<Bounds> {
        let deadline = Deadline::after(self.deadline());
        Ok(Bounds {
            slot: self.slot().await?,
            deadline,
            cancel: cancel_watch(client),
        })
    }

    /// Parses, checks and plans `sql` within `bounds`, unless cancelled.
    async fn prepare<C: ClientInfo + ?Sized>(
        &self,
        client: &C,
        session: &Arc<PgSession>,
        sql: &str,
        count: Statements,
        (deadline, hold): (Deadline, Hold),
    ) -> PgWireResult<Vec<Prepared>> {
        let work = prepare(session.clone(), sql.to_string(), count, deadline, hold);
        cancellable(cancel_watch(client), work)
            .await
            .inspect_err(|_| record_query("postgres", Outcome::Error, 0.0))
    }
}

/// Resolves when `client`'s connection receives a cancel request.
pub fn cancel_watch<C: ClientInfo + ?Sized>(client: &C) -> CancelWatch {
    match client.session_extensions().get::<Registration>() {
        Some(registration) => registration.watch(),
        None => Box::pin(std::future::pending()),
    }
}

/// Runs `work` unless the connection's cancel request comes first.
async fn cancellable<T>(
    cancel: CancelWatch,
    work: impl std::future::Future<Output = Result<T, EngineError>>,
) -> PgWireResult<T> {
    tokio::select! {
        done = work => done.map_err(pg_error),
        () = cancel => Err(pg_error(EngineError::QueryCancelled)),
    }
}

/// A session over `engine`'s tables with `pg_catalog`, `current_setting`,
/// `version()` in PostgreSQL's form, and the session-command hooks.
fn build_session(engine: &QueryEngine) -> anyhow::Result<PgSession> {
    let ctx = SessionContext::new_with_state(engine.context().state());
    if ctx
        .catalog(CATALOG)
        .and_then(|c| c.schema("pg_catalog"))
        .is_none()
    {
        setup_pg_catalog(&ctx, CATALOG, EmptyContextProvider)
            .map_err(|e| anyhow::anyhow!("pg_catalog: {e}"))?;
    }
    ctx.register_udf(super::settings::current_setting());
    ctx.register_udf(super::settings::version());
    for function in super::catalog_functions::all() {
        ctx.register_udf(function);
    }
    let hooks: Vec<Arc<dyn QueryHook>> = vec![
        Arc::new(CursorStatementHook),
        Arc::new(SetShowHook),
        Arc::new(super::savepoints::SavepointHook),
        Arc::new(TransactionStatementHook),
    ];
    Ok(PgSession::new(engine.with_context(ctx), hooks))
}

/// The first hook's answer to a session command (simple protocol).
async fn session_command(
    session: &PgSession,
    statement: &Statement,
    client: &mut dyn HookClient,
) -> PgWireResult<Response> {
    for hook in &session.hooks {
        if let Some(answer) = hook
            .handle_simple_query(statement, session.engine.context(), client)
            .await
        {
            return answer;
        }
    }
    Err(not_supported(statement))
}

fn not_supported(statement: &Statement) -> PgWireError {
    // 0A000: feature_not_supported
    let text = statement.to_string();
    let verb: String = text
        .split_whitespace()
        .take(2)
        .collect::<Vec<_>>()
        .join(" ");
    user_error("0A000", format!("{verb} is not supported by queuelake"))
}

/// Opens the cursor of a `DECLARE … CURSOR FOR <read>`: its rows are the
/// read's, bounded like any read's, kept for `FETCH`.
async fn declare_cursor(
    shared: &Shared,
    session: Arc<PgSession>,
    statement: &Statement,
    plan: LogicalPlan,
    client: &mut dyn HookClient,
    bounds: Bounds,
) -> PgWireResult<Response> {
    let Statement::Declare { stmts } = statement else {
        return Err(not_supported(statement));
    };
    let [declare] = stmts.as_slice() else {
        return Err(user_error("0A000", "DECLARE one cursor at a time".into()));
    };
    let Some(name) = declare.names.first().map(|n| n.value.clone()) else {
        return Err(user_error("42601", "cursor name is required".into()));
    };
    let options = Arc::new(FormatOptions::from_client_metadata(client.metadata()));
    let response = read_response(session, plan, &Format::UnifiedText, options, bounds)?;
    let text = declare
        .for_query
        .as_ref()
        .map(ToString::to_string)
        .unwrap_or_default();
    shared
        .names(client)
        .admit(Named::Portal, Some(&name), |held| {
            client.portal_store().get_portal(held).is_some()
        })?;
    let stored = Arc::new(StoredStatement::new(name.clone(), (text, None), vec![]));
    let portal = Portal::new_cursor(name, stored);
    portal.start(response).await;
    client.portal_store().put_portal(Arc::new(portal));
    Ok(Response::Execution(Tag::new("DECLARE CURSOR")))
}

/// One connection's view of the handlers.
pub struct Connection {
    shared: Arc<Shared>,
    parser: Arc<ScopedParser>,
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
        let session = self.shared.session(&principal)?;
        tracing::debug!(token = %principal.name, query, "postgres wire query");
        // One slot and one deadline for the whole text, as PostgreSQL's
        // statement_timeout covers a simple-protocol message.
        let bounds = self.shared.bounds(client).await?;
        let prepared = self
            .shared
            .prepare(
                client,
                &session,
                query,
                Statements::Many,
                (bounds.deadline, bounds.hold()),
            )
            .await?;
        if prepared.is_empty() {
            return Ok(vec![Response::EmptyQuery]);
        }
        let mut responses = Vec::with_capacity(prepared.len());
        for Prepared {
            statement,
            kind,
            plan,
        } in prepared
        {
            let response = match (kind, plan) {
                (StatementKind::Read, Some(plan)) => {
                    let options = Arc::new(FormatOptions::from_client_metadata(client.metadata()));
                    Response::Query(read_response(
                        session.clone(),
                        plan,
                        &Format::UnifiedText,
                        options,
                        bounds.again(client),
                    )?)
                }
                (StatementKind::DeclareCursor, Some(plan)) => {
                    let again = bounds.again(client);
                    declare_cursor(
                        &self.shared,
                        session.clone(),
                        &statement,
                        plan,
                        client,
                        again,
                    )
                    .await?
                }
                _ => session_command(&session, &statement, client).await?,
            };
            responses.push(response);
        }
        Ok(responses)
    }
}

/// The values bound to `plan`'s parameters, decoded as the plan types them.
fn bind(
    shared: &Shared,
    portal: &Portal<DfStatement>,
    plan: &LogicalPlan,
) -> PgWireResult<LogicalPlan> {
    let types = plan
        .get_parameter_types()
        .map_err(|e| pg_error(EngineError::DataFusion(e)))?;
    if types.is_empty() && portal.parameters.is_empty() {
        return Ok(plan.clone());
    }
    let position = |id: &str| {
        id.trim_start_matches('$')
            .parse::<usize>()
            .unwrap_or(usize::MAX)
    };
    let mut ordered: Vec<(String, Option<DataType>)> = types.into_iter().collect();
    ordered.sort_by_key(|(id, _)| position(id));
    let wire = shared
        .any_parser
        .get_parameter_types(&portal.statement.statement)?;
    // By position $1…$n of what the client bound: DataFusion lists no
    // placeholder that sits inside a subquery (a catalog query's), so a
    // position it does not list has no server type rather than the next
    // one's.
    let count = portal
        .parameters
        .len()
        .max(ordered.last().map_or(0, |(id, _)| position(id)));
    let mut inferred: Vec<Option<&DataType>> = vec![None; count];
    let mut server: Vec<Option<&Type>> = vec![None; count];
    for (n, (id, data_type)) in ordered.iter().enumerate() {
        if let Some(at) = position(id).checked_sub(1).filter(|at| *at < count) {
            inferred[at] = data_type.as_ref();
            server[at] = wire.get(n).filter(|_| wire.len() == ordered.len());
        }
    }
    let wire = server;
    let values: ParamValues = deserialize_parameters_with_server_types(portal, &inferred, &wire)?;
    plan.clone()
        .replace_params_with_values(&values)
        .map_err(|e| pg_error(EngineError::DataFusion(e)))
}

#[async_trait]
impl ExtendedQueryHandler for Connection {
    type Statement = DfStatement;
    type QueryParser = ScopedParser;

    fn query_parser(&self) -> Arc<Self::QueryParser> {
        self.parser.clone()
    }

    /// pgwire's Parse, within the connection's budget of named statements.
    async fn on_parse<C>(&self, client: &mut C, message: Parse) -> PgWireResult<()>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore<Statement = Self::Statement>,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let store = client.portal_store();
        self.shared
            .names(client)
            .admit(Named::Statement, message.name.as_deref(), |held| {
                store.get_statement(held).is_some()
            })?;
        let name = message.name.as_deref().unwrap_or(DEFAULT_NAME).to_owned();
        match StoredStatement::parse(client, &message, self.query_parser()).await? {
            Some(statement) => client.portal_store().put_statement(Arc::new(statement)),
            None => client.portal_store().put_empty_statement(&name),
        }
        client
            .send(PgWireBackendMessage::ParseComplete(ParseComplete::new()))
            .await?;
        Ok(())
    }

    /// pgwire's Bind, within the connection's budget of named portals.
    async fn on_bind<C>(&self, client: &mut C, message: Bind) -> PgWireResult<()>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore<Statement = Self::Statement>,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let store = client.portal_store();
        self.shared
            .names(client)
            .admit(Named::Portal, message.portal_name.as_deref(), |held| {
                store.get_portal(held).is_some()
            })?;
        let statement_name = message.statement_name.as_deref().unwrap_or(DEFAULT_NAME);
        let portal_name = message.portal_name.as_deref().unwrap_or(DEFAULT_NAME);
        match client.portal_store().get_statement(statement_name) {
            Some(Entry::Value(statement)) => {
                // As PostgreSQL: the Bind supplies exactly the statement's
                // parameters (declared in Parse or found in its text).
                let required = self
                    .query_parser()
                    .get_parameter_types(&statement.statement)
                    .map_or(0, |types| types.len())
                    .max(statement.parameter_types.len());
                if message.parameters.len() != required {
                    return Err(user_error(
                        "08P01",
                        format!(
                            "bind message supplies {} parameters, but prepared statement {statement_name:?} requires {required}",
                            message.parameters.len()
                        ),
                    ));
                }
                let portal = Portal::try_new(&message, statement)?;
                client.portal_store().put_portal(Arc::new(portal));
            }
            Some(Entry::Empty) if message.parameters.is_empty() => {
                client.portal_store().put_empty_portal(portal_name);
            }
            Some(Entry::Empty) => {
                return Err(user_error(
                    "08P01",
                    format!(
                        "bind message supplies {} parameters, but prepared statement {statement_name:?} requires 0",
                        message.parameters.len()
                    ),
                ));
            }
            None => return Err(PgWireError::StatementNotFound(statement_name.to_owned())),
        }
        client
            .send(PgWireBackendMessage::BindComplete(BindComplete::new()))
            .await?;
        Ok(())
    }

    async fn do_query<C>(
        &self,
        client: &mut C,
        portal: &Portal<Self::Statement>,
        _max_rows: usize,
    ) -> PgWireResult<Response>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore<Statement = Self::Statement>,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let principal = self.shared.caller(client)?;
        let session = self.shared.session(&principal)?;
        let (_, Some((statement, plan))) = &portal.statement.statement else {
            return Ok(Response::EmptyQuery);
        };
        // Checked when parsed; the kind decides how it runs.
        let kind = statement_check::kind_of(statement, Door::PostgresWire).map_err(pg_error)?;
        match kind {
            StatementKind::Read => {
                let plan = bind(&self.shared, portal, plan)?;
                let options = Arc::new(FormatOptions::from_client_metadata(client.metadata()));
                let bounds = self.shared.bounds(client).await?;
                Ok(Response::Query(read_response(
                    session,
                    plan,
                    &portal.result_column_format,
                    options,
                    bounds,
                )?))
            }
            StatementKind::DeclareCursor => {
                let plan = bind(&self.shared, portal, plan)?;
                let bounds = self.shared.bounds(client).await?;
                declare_cursor(&self.shared, session, statement, plan, client, bounds).await
            }
            StatementKind::SessionCommand => {
                let none = ParamValues::List(vec![]);
                for hook in &session.hooks {
                    if let Some(answer) = hook
                        .handle_extended_query(
                            statement,
                            plan,
                            &none,
                            session.engine.context(),
                            client,
                        )
                        .await
                    {
                        return answer;
                    }
                }
                Err(not_supported(statement))
            }
        }
    }
}

/// Parses in the session of the connection's token.
pub struct ScopedParser {
    shared: Arc<Shared>,
}

/// The plan a statement without rows stands for.
fn no_rows() -> LogicalPlan {
    LogicalPlan::EmptyRelation(EmptyRelation {
        produce_one_row: false,
        schema: Arc::new(datafusion::common::DFSchema::empty()),
    })
}

#[async_trait]
impl QueryParser for ScopedParser {
    type Statement = DfStatement;

    async fn parse_sql<C>(
        &self,
        client: &C,
        sql: &str,
        _types: &[Option<Type>],
    ) -> PgWireResult<Option<Self::Statement>>
    where
        C: ClientInfo + Unpin + Send + Sync,
    {
        let principal = self.shared.principal(client)?;
        let session = self.shared.session(&principal)?;
        let bounds = self.shared.bounds(client).await?;
        let mut prepared = self
            .shared
            .prepare(
                client,
                &session,
                sql,
                Statements::One,
                (bounds.deadline, bounds.hold()),
            )
            .await?;
        drop(bounds);
        let Some(Prepared {
            statement,
            kind,
            plan,
        }) = prepared.pop()
        else {
            return Ok(None);
        };
        let plan = match (kind, plan) {
            (StatementKind::SessionCommand, _) => {
                let mut answer = None;
                for hook in &session.hooks {
                    answer = hook
                        .handle_extended_parse_query(&statement, session.engine.context(), client)
                        .await;
                    if answer.is_some() {
                        break;
                    }
                }
                answer.unwrap_or_else(|| Ok(no_rows()))?
            }
            (_, Some(plan)) => plan,
            (_, None) => no_rows(),
        };
        Ok(Some((statement.to_string(), Some((statement, plan)))))
    }

    fn get_parameter_types(&self, statement: &Self::Statement) -> PgWireResult<Vec<Type>> {
        self.shared.any_parser.get_parameter_types(statement)
    }

    fn get_result_schema(
        &self,
        statement: &Self::Statement,
        column_format: Option<&Format>,
    ) -> PgWireResult<Vec<FieldInfo>> {
        // A DECLARE answers with a tag, not rows (its plan is its query's).
        if let (_, Some((Statement::Declare { .. }, _))) = statement {
            return Ok(vec![]);
        }
        self.shared
            .any_parser
            .get_result_schema(statement, column_format)
    }
}
