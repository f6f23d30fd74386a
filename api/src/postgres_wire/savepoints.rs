//! `SAVEPOINT`, `RELEASE SAVEPOINT` and `ROLLBACK TO SAVEPOINT`, which
//! SQLAlchemy (through psycopg) sends around its reflection queries. Every
//! statement here is a read, so a savepoint has nothing to keep: each is
//! answered with PostgreSQL's tag, inside a transaction block only (25P01
//! outside, as PostgreSQL). `ROLLBACK TO` also ends a failed block's error
//! state, as in PostgreSQL.

use async_trait::async_trait;
use datafusion::common::ParamValues;
use datafusion::logical_expr::LogicalPlan;
use datafusion::prelude::SessionContext;
use datafusion::sql::sqlparser::ast::Statement;
use datafusion_postgres::QueryHook;
use datafusion_postgres::hooks::HookClient;
use datafusion_postgres::pgwire::api::ClientInfo;
use datafusion_postgres::pgwire::api::results::{Response, Tag};
use datafusion_postgres::pgwire::error::{ErrorInfo, PgWireError, PgWireResult};
use datafusion_postgres::pgwire::messages::response::TransactionStatus;

/// Answers the savepoint commands (put before the transaction hook, which
/// would take `ROLLBACK TO` for a whole `ROLLBACK`).
#[derive(Debug)]
pub struct SavepointHook;

/// Whether `statement` is one of the savepoint commands.
pub fn is_savepoint_command(statement: &Statement) -> bool {
    matches!(
        statement,
        Statement::Savepoint { .. }
            | Statement::ReleaseSavepoint { .. }
            | Statement::Rollback {
                savepoint: Some(_),
                ..
            }
    )
}

fn answer(statement: &Statement, status: TransactionStatus) -> Option<PgWireResult<Response>> {
    if !is_savepoint_command(statement) {
        return None;
    }
    let rollback = matches!(statement, Statement::Rollback { .. });
    let tag = match statement {
        Statement::Savepoint { .. } => "SAVEPOINT",
        Statement::ReleaseSavepoint { .. } => "RELEASE",
        _ => "ROLLBACK",
    };
    Some(match status {
        TransactionStatus::Idle => Err(PgWireError::UserError(Box::new(ErrorInfo::new(
            "ERROR".into(),
            "25P01".into(),
            format!("{tag} can only be used in transaction blocks"),
        )))),
        // Back from a failed block to a usable one.
        TransactionStatus::Error if rollback => Ok(Response::TransactionStart(Tag::new(tag))),
        TransactionStatus::Error => Err(PgWireError::UserError(Box::new(ErrorInfo::new(
            "ERROR".into(),
            "25P02".into(),
            "current transaction is aborted, commands ignored until end of transaction block"
                .into(),
        )))),
        TransactionStatus::Transaction => Ok(Response::Execution(Tag::new(tag))),
    })
}

#[async_trait]
impl QueryHook for SavepointHook {
    async fn handle_simple_query(
        &self,
        statement: &Statement,
        _session_context: &SessionContext,
        client: &mut dyn HookClient,
    ) -> Option<PgWireResult<Response>> {
        answer(statement, client.transaction_status())
    }

    async fn handle_extended_parse_query(
        &self,
        _statement: &Statement,
        _session_context: &SessionContext,
        _client: &(dyn ClientInfo + Send + Sync),
    ) -> Option<PgWireResult<LogicalPlan>> {
        None // planned as no rows, answered at execution
    }

    async fn handle_extended_query(
        &self,
        statement: &Statement,
        _logical_plan: &LogicalPlan,
        _params: &ParamValues,
        _session_context: &SessionContext,
        client: &mut dyn HookClient,
    ) -> Option<PgWireResult<Response>> {
        answer(statement, client.transaction_status())
    }
}
