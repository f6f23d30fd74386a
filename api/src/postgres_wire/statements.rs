//! A text from a client, made into statements that may run: parsed,
//! checked by the engine's syntax guard and, for reads, planned (which
//! applies the plan guard) — all on the query pool, under the deadline,
//! so a bomb of a statement costs a query thread, never a service thread.
//!
//! The text is parsed twice: first as it came, by sqlparser with its
//! recursion limit, and checked there (a deep tree is refused before the
//! compatibility rewrites walk it); then by datafusion-postgres's
//! compatibility parser, whose rewrites make PostgreSQL clients' catalog
//! queries plannable, and checked again (what runs is what was checked).

use super::catalog_subqueries::aggregate_catalog_subqueries;
use std::sync::Arc;

use datafusion::logical_expr::LogicalPlan;
use datafusion::sql::sqlparser::ast::Statement;
use datafusion::sql::sqlparser::dialect::PostgreSqlDialect;
use datafusion::sql::sqlparser::parser::Parser;
use datafusion_postgres::QueryHook;
use datafusion_postgres::datafusion_pg_catalog::sql::PostgresCompatibilityParser;
use queuelake_engine::EngineError;
use queuelake_engine::query_runtime::{Deadline, Hold, QueryRuntime};
use queuelake_engine::session::QueryEngine;
use queuelake_engine::statement_check::{Door, StatementKind};

/// A scope's session as the port runs it: the engine over a context with
/// `pg_catalog`, and the hooks that answer session commands.
pub struct PgSession {
    /// The engine (tables, views, limits, `pg_catalog`).
    pub engine: QueryEngine,
    /// `SET`/`SHOW`, transactions, `FETCH`/`CLOSE`.
    pub hooks: Vec<Arc<dyn QueryHook>>,
    parser: PostgresCompatibilityParser,
}

impl PgSession {
    /// A session over `engine` answering session commands with `hooks`.
    pub fn new(engine: QueryEngine, hooks: Vec<Arc<dyn QueryHook>>) -> Self {
        PgSession {
            engine,
            hooks,
            parser: PostgresCompatibilityParser::new(),
        }
    }
}

/// One statement of a text, ready to run.
pub struct Prepared {
    /// The statement (after the compatibility rewrites).
    pub statement: Statement,
    /// What it is.
    pub kind: StatementKind,
    /// The plan of a read, or of a cursor's query.
    pub plan: Option<LogicalPlan>,
}

/// How many statements a text may hold.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Statements {
    /// The simple protocol: any number, run in turn.
    Many,
    /// A prepared statement (extended protocol): exactly one, as
    /// PostgreSQL requires.
    One,
}

/// Parses, checks and plans `sql` on the query pool, by `deadline`,
/// keeping `hold` (the query slot) while it works.
pub async fn prepare(
    session: Arc<PgSession>,
    sql: String,
    count: Statements,
    deadline: Deadline,
    hold: Hold,
) -> Result<Vec<Prepared>, EngineError> {
    QueryRuntime::shared()
        .run(deadline, hold, async move {
            let recursion = session
                .engine
                .context()
                .state()
                .config()
                .options()
                .sql_parser
                .recursion_limit;
            let as_sent = Parser::new(&PostgreSqlDialect {})
                .with_recursion_limit(recursion.into())
                .try_with_sql(&sql)
                .and_then(|mut p| p.parse_statements())
                .map_err(|e| EngineError::QueryRefused(e.to_string()))?;
            if count == Statements::One && as_sent.len() > 1 {
                return Err(EngineError::QueryRefused(
                    "cannot insert multiple commands into a prepared statement".into(),
                ));
            }
            for statement in &as_sent {
                session.engine.check(statement, Door::PostgresWire)?;
            }
            drop(as_sent);
            let parse = |text: &str| {
                session
                    .parser
                    .parse(text)
                    .map_err(|e| EngineError::QueryRefused(e.to_string()))
            };
            let mut statements = Vec::new();
            for statement in parse(&sql)? {
                // A rewritten catalog query is parsed again from its text,
                // so the compatibility rewrites see its final form.
                match aggregate_catalog_subqueries(&statement) {
                    Some(rewritten) => statements.extend(parse(&rewritten.to_string())?),
                    None => statements.push(statement),
                }
            }
            let mut prepared = Vec::with_capacity(statements.len());
            for statement in statements {
                let kind = session.engine.check(&statement, Door::PostgresWire)?;
                let plan = match (&kind, &statement) {
                    (StatementKind::Read, _) => Some(session.engine.plan(statement.clone()).await?),
                    (StatementKind::DeclareCursor, Statement::Declare { stmts }) => {
                        let query =
                            stmts
                                .first()
                                .and_then(|d| d.for_query.clone())
                                .ok_or_else(|| {
                                    EngineError::QueryRefused("DECLARE needs a query".into())
                                })?;
                        Some(session.engine.plan(Statement::Query(query)).await?)
                    }
                    _ => None,
                };
                prepared.push(Prepared {
                    statement,
                    kind,
                    plan,
                });
            }
            Ok(prepared)
        })
        .await
}
