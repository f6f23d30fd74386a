//! The read-only guard of the PostgreSQL port: a query hook that runs
//! before every other and refuses any statement that is not a read or a
//! harmless session command, on both protocols (simple and extended), so
//! nothing reaches DataFusion's DDL/DML or its `SET` of engine options.

use async_trait::async_trait;
use datafusion::common::ParamValues;
use datafusion::logical_expr::LogicalPlan;
use datafusion::prelude::SessionContext;
use datafusion::sql::sqlparser::ast::{Set, Statement};
use datafusion_postgres::QueryHook;
use datafusion_postgres::hooks::HookClient;
use datafusion_postgres::pgwire::api::ClientInfo;
use datafusion_postgres::pgwire::api::results::Response;
use datafusion_postgres::pgwire::error::{ErrorInfo, PgWireError, PgWireResult};

/// Session variables a client may `SET` (the ones clients send at connect
/// time; datafusion-postgres keeps them per connection).
const SETTABLE: &[&str] = &[
    "statement_timeout",
    "datestyle",
    "bytea_output",
    "intervalstyle",
    "application_name",
    "extra_float_digits",
    "search_path",
];

/// The hook.
#[derive(Debug, Default)]
pub struct ReadOnly;

/// Why `statement` is refused, or `None` when it may run.
pub fn refusal(statement: &Statement) -> Option<String> {
    match statement {
        Statement::Query(_)
        | Statement::Explain { .. }
        | Statement::ExplainTable { .. }
        | Statement::ShowVariable { .. }
        | Statement::ShowVariables { .. }
        | Statement::ShowStatus { .. }
        | Statement::ShowTables { .. }
        | Statement::ShowColumns { .. }
        | Statement::ShowCatalogs { .. }
        | Statement::ShowSchemas { .. }
        | Statement::StartTransaction { .. }
        | Statement::Commit { .. }
        | Statement::Rollback { .. }
        | Statement::Declare { .. }
        | Statement::Fetch { .. }
        | Statement::Close { .. } => None,
        Statement::Set(set) => match set {
            Set::SingleAssignment {
                scope: None,
                hivevar: false,
                variable,
                ..
            } if SETTABLE.contains(&variable.to_string().to_lowercase().as_str()) => None,
            Set::SetTimeZone { local: false, .. } | Set::SetTransaction { .. } => None,
            other => Some(format!(
                "queuelake sessions take only SET of {}, TIME ZONE and TRANSACTION; refused: {other}",
                SETTABLE.join(", ")
            )),
        },
        other => {
            let text = other.to_string();
            let verb: String = text
                .split_whitespace()
                .take(2)
                .collect::<Vec<_>>()
                .join(" ");
            Some(format!("refused: queuelake SQL is read-only ({verb} …)"))
        }
    }
}

fn refused(message: String) -> PgWireError {
    // 25006: read_only_sql_transaction
    PgWireError::UserError(Box::new(ErrorInfo::new(
        "ERROR".into(),
        "25006".into(),
        message,
    )))
}

#[async_trait]
impl QueryHook for ReadOnly {
    async fn handle_simple_query(
        &self,
        statement: &Statement,
        _session_context: &SessionContext,
        _client: &mut dyn HookClient,
    ) -> Option<PgWireResult<Response>> {
        refusal(statement).map(|m| Err(refused(m)))
    }

    async fn handle_extended_parse_query(
        &self,
        statement: &Statement,
        _session_context: &SessionContext,
        _client: &(dyn ClientInfo + Send + Sync),
    ) -> Option<PgWireResult<LogicalPlan>> {
        refusal(statement).map(|m| Err(refused(m)))
    }

    async fn handle_extended_query(
        &self,
        statement: &Statement,
        _logical_plan: &LogicalPlan,
        _params: &ParamValues,
        _session_context: &SessionContext,
        _client: &mut dyn HookClient,
    ) -> Option<PgWireResult<Response>> {
        refusal(statement).map(|m| Err(refused(m)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::sql::sqlparser::dialect::PostgreSqlDialect;
    use datafusion::sql::sqlparser::parser::Parser;

    fn check(sql: &str) -> Option<String> {
        let statements = Parser::parse_sql(&PostgreSqlDialect {}, sql).unwrap();
        refusal(&statements[0])
    }

    #[test]
    fn reads_and_session_commands_pass_and_the_rest_is_refused() {
        for ok in [
            "SELECT 1",
            "WITH a AS (SELECT 1) SELECT * FROM a",
            "EXPLAIN SELECT 1",
            "SHOW TIME ZONE",
            "SET extra_float_digits = 3",
            "SET application_name = 'Metabase'",
            "SET TIME ZONE 'UTC'",
            "SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL READ COMMITTED",
            "BEGIN",
            "COMMIT",
        ] {
            assert_eq!(check(ok), None, "{ok}");
        }
        for bad in [
            "CREATE TABLE t (a INT)",
            "CREATE VIEW v AS SELECT 1",
            "INSERT INTO queue_log VALUES (1)",
            "DROP TABLE queue_log",
            "COPY queue_log TO '/tmp/x.csv'",
            "SET datafusion.execution.target_partitions = 1",
            "DELETE FROM queue_log",
        ] {
            let why = check(bad).unwrap_or_else(|| panic!("{bad} passed"));
            assert!(why.contains("refused"), "{why}");
        }
    }
}
