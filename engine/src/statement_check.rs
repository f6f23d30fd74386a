//! What a statement may be, decided on its syntax tree before planning:
//! the first of two guards every statement of every door passes (the
//! second is `SQLOptions::verify_plan` on its logical plan, in
//! [`crate::session`]).
//!
//! A statement is a read (a query, `EXPLAIN [ANALYZE]` of a query,
//! `DESCRIBE`, `SHOW`), or — on the PostgreSQL port only — one of the
//! session commands clients send (`SET` of a fixed list of client
//! variables, `BEGIN`/`COMMIT`/`ROLLBACK`, cursors over a read). Anything
//! else is refused, and so is a read that writes: `SELECT … INTO`, a
//! data-changing statement inside a query or a CTE, `EXPLAIN` of anything
//! but a query.
//!
//! Expressions are bounded too. A left-deep chain (`1+1+…+1`, a long `OR`
//! list) parses without recursion but is planned, optimized and evaluated
//! recursively, so its depth is limited (`[query] max_expression_depth`)
//! and so is the number of expression nodes (`max_expression_nodes`; a
//! million-element `IN` list plans for a minute). The walk stops as soon
//! as a limit is passed, so it never recurses deeper than the limit.

use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::{
    DeclareType, Expr, Query, Select, Set, SetExpr, Statement, Visit, Visitor,
};

use crate::error::{EngineError, Result};
use crate::session::QueryLimits;

/// Where a statement comes from: the PostgreSQL port also takes the
/// session commands its clients send.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Door {
    /// `POST /api/v1/sql`, the CLI, reports and the service's own reads.
    Sql,
    /// The PostgreSQL wire protocol.
    PostgresWire,
}

/// What a statement that may run is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StatementKind {
    /// A read, planned and run by the engine.
    Read,
    /// A session command the PostgreSQL port answers itself.
    SessionCommand,
    /// `DECLARE … CURSOR FOR <read>`: the read runs in the engine, the
    /// port keeps its rows for `FETCH`.
    DeclareCursor,
}

/// Client variables a PostgreSQL client may `SET` (what drivers send at
/// connect time; kept per connection, never engine options).
pub const SETTABLE: &[&str] = &[
    "statement_timeout",
    "datestyle",
    "bytea_output",
    "intervalstyle",
    "application_name",
    "extra_float_digits",
    "search_path",
    "client_encoding",
    "client_min_messages",
];

/// Whether `statement` may run at `door`, and as what.
pub fn check(statement: &Statement, door: Door, limits: &QueryLimits) -> Result<StatementKind> {
    let kind = kind_of(statement, door)?;
    bounds(statement, limits)?;
    Ok(kind)
}

/// What an already checked `statement` is at `door` (the classification
/// alone, without the walk over its tree).
pub fn kind_of(statement: &Statement, door: Door) -> Result<StatementKind> {
    let session = |kind| match door {
        Door::PostgresWire => Ok(kind),
        Door::Sql => Err(EngineError::QueryRefused(format!(
            "refused: {} is a session command, which only the PostgreSQL port takes",
            verb(statement)
        ))),
    };
    match statement {
        Statement::Query(_)
        | Statement::ExplainTable { .. }
        | Statement::ShowTables { .. }
        | Statement::ShowColumns { .. }
        | Statement::ShowCatalogs { .. }
        | Statement::ShowSchemas { .. } => Ok(StatementKind::Read),
        Statement::Explain { statement, .. } => match statement.as_ref() {
            Statement::Query(_) => Ok(StatementKind::Read),
            other => Err(read_only(other)),
        },
        Statement::ShowVariable { .. } => match door {
            Door::Sql => Ok(StatementKind::Read),
            Door::PostgresWire => Ok(StatementKind::SessionCommand),
        },
        Statement::StartTransaction { .. }
        | Statement::Commit { .. }
        | Statement::Rollback { .. }
        | Statement::Savepoint { .. }
        | Statement::ReleaseSavepoint { .. }
        | Statement::Fetch { into: None, .. }
        | Statement::Close { .. } => session(StatementKind::SessionCommand),
        Statement::Declare { stmts } => {
            let cursors = stmts.iter().all(|d| {
                d.declare_type == Some(DeclareType::Cursor)
                    && d.assignment.is_none()
                    && d.for_query.is_some()
            });
            if cursors {
                session(StatementKind::DeclareCursor)
            } else {
                Err(EngineError::QueryRefused(
                    "refused: DECLARE takes only CURSOR FOR a query".into(),
                ))
            }
        }
        Statement::Set(_) if door == Door::Sql => Err(read_only(statement)),
        Statement::Set(set) => match set {
            Set::SingleAssignment {
                scope: None,
                hivevar: false,
                variable,
                ..
            } if SETTABLE.contains(&variable.to_string().to_lowercase().as_str()) => {
                session(StatementKind::SessionCommand)
            }
            Set::SetTimeZone { local: false, .. } | Set::SetTransaction { .. } => {
                session(StatementKind::SessionCommand)
            }
            other => Err(EngineError::QueryRefused(format!(
                "refused: queuelake sessions take only SET of {}, TIME ZONE and TRANSACTION ({other})",
                SETTABLE.join(", ")
            ))),
        },
        other => Err(read_only(other)),
    }
}

fn read_only(statement: &Statement) -> EngineError {
    EngineError::QueryRefused(format!(
        "refused: queuelake SQL is read-only ({} …)",
        verb(statement)
    ))
}

/// The statement's first two words, to name it without echoing it whole.
fn verb(statement: &Statement) -> String {
    let text = statement.to_string();
    text.split_whitespace()
        .take(2)
        .collect::<Vec<_>>()
        .join(" ")
}

/// Walks the tree once: refuses writes hidden in a read and passes of the
/// expression limits.
fn bounds(statement: &Statement, limits: &QueryLimits) -> Result<()> {
    let mut walk = Walk {
        limits,
        depth: 0,
        nodes: 0,
        statements: 0,
    };
    match statement.visit(&mut walk) {
        ControlFlow::Continue(()) => Ok(()),
        ControlFlow::Break(refusal) => Err(refusal),
    }
}

struct Walk<'a> {
    limits: &'a QueryLimits,
    depth: usize,
    nodes: usize,
    statements: usize,
}

impl Walk<'_> {
    fn enter(&mut self) -> ControlFlow<EngineError> {
        self.depth += 1;
        self.nodes += 1;
        if self.depth > self.limits.max_expression_depth {
            return ControlFlow::Break(EngineError::StatementTooComplex(format!(
                "the statement nests expressions deeper than {} levels ([query] max_expression_depth)",
                self.limits.max_expression_depth
            )));
        }
        if self.nodes > self.limits.max_expression_nodes {
            return ControlFlow::Break(EngineError::StatementTooComplex(format!(
                "the statement has more than {} expressions ([query] max_expression_nodes)",
                self.limits.max_expression_nodes
            )));
        }
        ControlFlow::Continue(())
    }

    fn leave(&mut self) -> ControlFlow<EngineError> {
        self.depth = self.depth.saturating_sub(1);
        ControlFlow::Continue(())
    }
}

impl Visitor for Walk<'_> {
    type Break = EngineError;

    fn pre_visit_statement(&mut self, statement: &Statement) -> ControlFlow<EngineError> {
        self.statements += 1;
        // The statement itself was classified; one inside it (a CTE's
        // INSERT, EXPLAIN's target) must be a plain query.
        if self.statements > 1 && !matches!(statement, Statement::Query(_)) {
            return ControlFlow::Break(read_only(statement));
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_query(&mut self, query: &Query) -> ControlFlow<EngineError> {
        if let SetExpr::Insert(s) | SetExpr::Update(s) | SetExpr::Delete(s) | SetExpr::Merge(s) =
            query.body.as_ref()
        {
            return ControlFlow::Break(read_only(s));
        }
        self.enter()
    }

    fn post_visit_query(&mut self, _query: &Query) -> ControlFlow<EngineError> {
        self.leave()
    }

    fn pre_visit_select(&mut self, select: &Select) -> ControlFlow<EngineError> {
        if select.into.is_some() {
            return ControlFlow::Break(EngineError::QueryRefused(
                "refused: queuelake SQL is read-only (SELECT … INTO creates a table)".into(),
            ));
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_expr(&mut self, _expr: &Expr) -> ControlFlow<EngineError> {
        self.enter()
    }

    fn post_visit_expr(&mut self, _expr: &Expr) -> ControlFlow<EngineError> {
        self.leave()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::sql::sqlparser::dialect::PostgreSqlDialect;
    use datafusion::sql::sqlparser::parser::Parser;

    fn check_at(sql: &str, door: Door) -> Result<StatementKind> {
        let statements = Parser::parse_sql(&PostgreSqlDialect {}, sql).unwrap();
        check(&statements[0], door, &QueryLimits::default())
    }

    fn refused(sql: &str, door: Door) -> String {
        match check_at(sql, door) {
            Err(e) => e.to_string(),
            Ok(kind) => panic!("{sql} passed as {kind:?}"),
        }
    }

    #[test]
    fn reads_pass_both_doors_and_session_commands_only_the_postgres_port() {
        for read in [
            "SELECT 1",
            "WITH a AS (SELECT 1) SELECT * FROM a",
            "EXPLAIN SELECT 1",
            "EXPLAIN ANALYZE SELECT count(*) FROM queue_log",
            "SELECT * FROM (SELECT 1) AS t WHERE 1 IN (SELECT 1)",
        ] {
            assert_eq!(check_at(read, Door::Sql).unwrap(), StatementKind::Read);
            assert_eq!(
                check_at(read, Door::PostgresWire).unwrap(),
                StatementKind::Read
            );
        }
        for session in [
            "BEGIN",
            "COMMIT",
            "ROLLBACK",
            "SAVEPOINT s",
            "RELEASE SAVEPOINT s",
            "ROLLBACK TO SAVEPOINT s",
            "FETCH NEXT FROM c",
            "CLOSE c",
        ] {
            assert_eq!(
                check_at(session, Door::PostgresWire).unwrap(),
                StatementKind::SessionCommand,
                "{session}"
            );
            assert!(refused(session, Door::Sql).contains("session command"));
        }
        for set in [
            "SET extra_float_digits = 3",
            "SET application_name = 'Metabase'",
            "SET TIME ZONE 'UTC'",
            "SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL READ COMMITTED",
        ] {
            assert_eq!(
                check_at(set, Door::PostgresWire).unwrap(),
                StatementKind::SessionCommand,
                "{set}"
            );
            assert!(refused(set, Door::Sql).contains("read-only"));
        }
        assert_eq!(
            check_at("DECLARE c CURSOR FOR SELECT 1", Door::PostgresWire).unwrap(),
            StatementKind::DeclareCursor
        );
    }

    #[test]
    fn writes_are_refused_however_they_are_wrapped() {
        for door in [Door::Sql, Door::PostgresWire] {
            for bad in [
                "CREATE TABLE t (a INT)",
                "CREATE VIEW v AS SELECT 1",
                "INSERT INTO queue_log VALUES (1)",
                "DROP TABLE queue_log",
                "DELETE FROM queue_log",
                "COPY queue_log TO '/tmp/x.csv'",
                "EXPLAIN ANALYZE COPY (SELECT 1) TO '/tmp/x.parquet'",
                "EXPLAIN COPY (SELECT 1) TO '/tmp/x.parquet'",
                "EXPLAIN ANALYZE INSERT INTO queue_log VALUES (1)",
                "EXPLAIN CREATE TABLE t AS SELECT 1",
                "SELECT * INTO t FROM generate_series(1, 5)",
                "SELECT 1 AS a INTO TEMP t",
                "WITH x AS (SELECT 1) SELECT * INTO t FROM x",
                "SELECT * FROM (SELECT 1 INTO t) AS s",
                "DECLARE c CURSOR FOR SELECT 1 INTO t",
                "WITH d AS (DELETE FROM queue_log RETURNING *) SELECT * FROM d",
                "SET datafusion.execution.target_partitions = 1",
                "SET LOCAL statement_timeout = 1",
                "RESET ALL",
                "PREPARE p AS SELECT 1",
            ] {
                let why = refused(bad, door);
                assert!(why.contains("refused"), "{bad}: {why}");
            }
        }
    }

    #[test]
    fn deep_and_huge_expressions_are_refused_by_name() {
        // Parsing is iterative, but dropping a 60 000-deep tree recurses:
        // as in the service, that happens on a query-sized stack.
        std::thread::Builder::new()
            .stack_size(64 * 1024 * 1024)
            .spawn(deep_and_huge)
            .unwrap()
            .join()
            .unwrap();
    }

    fn deep_and_huge() {
        let limits = QueryLimits::default();
        let chain = |n: usize, op: &str| {
            let terms = vec!["1"; n].join(op);
            format!("SELECT {terms}")
        };
        let ok = chain(limits.max_expression_depth - 8, "+");
        assert_eq!(check_at(&ok, Door::Sql).unwrap(), StatementKind::Read);
        for deep in [chain(2_000, "+"), chain(60_000, " OR 1 = ")] {
            let why = refused(&deep, Door::Sql);
            assert!(why.contains("max_expression_depth"), "{why}");
        }
        let list = vec!["1"; limits.max_expression_nodes + 1].join(",");
        let why = refused(&format!("SELECT 1 IN ({list})"), Door::PostgresWire);
        assert!(why.contains("max_expression_nodes"), "{why}");
    }
}
