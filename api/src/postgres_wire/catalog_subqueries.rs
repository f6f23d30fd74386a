//! Drivers' catalog queries with correlated scalar subqueries.
//!
//! PostgreSQL runs `(SELECT x FROM pg_attrdef WHERE adrelid = a.attrelid …)`
//! and fails only if it returns more than one row; DataFusion refuses to
//! plan a correlated scalar subquery that is not aggregated. SQLAlchemy's
//! column reflection sends several. For a statement that reads only
//! `pg_catalog` and `information_schema`, each scalar subquery whose one
//! column is not an aggregate is rewritten to `SELECT max(x) …`: the
//! catalog's keys make such subqueries return at most one row, and the
//! `max` of one row is that row; and DataFusion cannot decorrelate a
//! subquery inside `CASE`, so `CASE WHEN c THEN (subquery) END` becomes the
//! subquery with `c` added to its `WHERE`. Statements that read anything else are
//! never rewritten (a user's query keeps PostgreSQL's semantics or
//! DataFusion's refusal).

use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::{
    Expr, GroupByExpr, ObjectName, SelectItem, SetExpr, Statement, visit_expressions_mut,
    visit_relations,
};
use datafusion::sql::sqlparser::dialect::PostgreSqlDialect;
use datafusion::sql::sqlparser::parser::Parser;

/// Aggregates that already answer one row.
const AGGREGATES: &[&str] = &[
    "max",
    "min",
    "count",
    "sum",
    "avg",
    "array_agg",
    "string_agg",
    "json_agg",
    "bool_and",
    "bool_or",
];

/// Whether a relation is one of the catalogs.
fn is_catalog(name: &ObjectName) -> bool {
    let text = name.to_string().to_ascii_lowercase();
    text.starts_with("pg_catalog.")
        || text.starts_with("information_schema.")
        || (!text.contains('.') && text.starts_with("pg_"))
}

/// `statement` with its catalog subqueries aggregated (see the module),
/// or `None` when there is nothing to rewrite (every statement that reads
/// anything but the catalogs).
pub fn aggregate_catalog_subqueries(statement: &Statement) -> Option<Statement> {
    let mut reads_catalog = false;
    let only_catalog = visit_relations(statement, |name| {
        reads_catalog = true;
        if is_catalog(name) {
            ControlFlow::Continue(())
        } else {
            ControlFlow::Break(())
        }
    })
    .is_continue();
    if !(only_catalog && reads_catalog) {
        return None;
    }
    let mut rewritten = statement.clone();
    let _ = visit_expressions_mut(&mut rewritten, |expr| {
        if let Expr::Subquery(query) = expr
            && let SetExpr::Select(select) = query.body.as_mut()
        {
            let ungrouped =
                matches!(&select.group_by, GroupByExpr::Expressions(keys, _) if keys.is_empty());
            if let ([item], true) = (select.projection.as_mut_slice(), ungrouped) {
                aggregate(item);
            }
        }
        if let Some(moved) = condition_into_subquery(expr) {
            *expr = moved;
        }
        ControlFlow::<()>::Continue(())
    });
    (rewritten != *statement).then_some(rewritten)
}

/// `CASE WHEN c THEN (SELECT max(x) … WHERE w) [ELSE NULL] END` as
/// `(SELECT max(x) … WHERE (w) AND (c))`: the same value (no row when `c`
/// fails, and the max of no rows is NULL), in a form DataFusion can
/// decorrelate — it cannot plan a subquery inside `CASE`.
fn condition_into_subquery(expr: &Expr) -> Option<Expr> {
    let Expr::Case {
        operand: None,
        conditions,
        else_result,
        ..
    } = expr
    else {
        return None;
    };
    let no_else = match else_result.as_deref() {
        None => true,
        Some(Expr::Value(v)) => v.to_string().eq_ignore_ascii_case("null"),
        Some(_) => false,
    };
    let ([when], true) = (conditions.as_slice(), no_else) else {
        return None;
    };
    let Expr::Subquery(query) = &when.result else {
        return None;
    };
    let mut query = query.clone();
    let SetExpr::Select(select) = query.body.as_mut() else {
        return None;
    };
    let aggregated = match select.projection.as_slice() {
        [SelectItem::UnnamedExpr(Expr::Function(f))]
        | [
            SelectItem::ExprWithAlias {
                expr: Expr::Function(f),
                ..
            },
        ] => f.name.to_string().eq_ignore_ascii_case("max"),
        _ => false,
    };
    if !aggregated {
        return None;
    }
    let condition = Expr::Nested(Box::new(when.condition.clone()));
    select.selection = Some(match select.selection.take() {
        Some(w) => Expr::BinaryOp {
            left: Box::new(Expr::Nested(Box::new(w))),
            op: datafusion::sql::sqlparser::ast::BinaryOperator::And,
            right: Box::new(condition),
        },
        None => condition,
    });
    Some(Expr::Subquery(query))
}

/// `x` or `x AS a` as `max(x)` (keeping the alias), unless it is an
/// aggregate already.
fn aggregate(item: &mut SelectItem) {
    let expr = match item {
        SelectItem::UnnamedExpr(expr) | SelectItem::ExprWithAlias { expr, .. } => expr,
        _ => return,
    };
    if let Expr::Function(function) = expr {
        let name = function.name.to_string().to_ascii_lowercase();
        if AGGREGATES.contains(&name.rsplit('.').next().unwrap_or("")) {
            return;
        }
    }
    let wrapped = Parser::new(&PostgreSqlDialect {})
        .try_with_sql(&format!("max({expr})"))
        .and_then(|mut p| p.parse_expr());
    if let Ok(wrapped) = wrapped {
        *expr = wrapped;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rewritten(sql: &str) -> String {
        let statement = Parser::parse_sql(&PostgreSqlDialect {}, sql)
            .unwrap()
            .remove(0);
        aggregate_catalog_subqueries(&statement)
            .unwrap_or(statement)
            .to_string()
    }

    #[test]
    fn catalog_subqueries_are_aggregated_and_other_queries_are_not() {
        assert_eq!(
            rewritten(
                "SELECT a.attname, (SELECT pg_get_expr(d.adbin, d.adrelid) AS e FROM pg_catalog.pg_attrdef d \
                 WHERE d.adrelid = a.attrelid) FROM pg_catalog.pg_attribute a"
            ),
            "SELECT a.attname, (SELECT max(pg_get_expr(d.adbin, d.adrelid)) AS e FROM pg_catalog.pg_attrdef d \
             WHERE d.adrelid = a.attrelid) FROM pg_catalog.pg_attribute a"
        );
        // A subquery under CASE moves the condition into its WHERE.
        assert_eq!(
            rewritten(
                "SELECT CASE WHEN a.atthasdef THEN (SELECT d.adbin FROM pg_catalog.pg_attrdef d \
                 WHERE d.adrelid = a.attrelid) ELSE NULL END FROM pg_catalog.pg_attribute a"
            ),
            "SELECT (SELECT max(d.adbin) FROM pg_catalog.pg_attrdef d \
             WHERE (d.adrelid = a.attrelid) AND (a.atthasdef)) FROM pg_catalog.pg_attribute a"
        );
        // Already aggregated: unchanged.
        let counted =
            "SELECT (SELECT count(*) FROM pg_catalog.pg_class) FROM pg_catalog.pg_namespace";
        assert_eq!(rewritten(counted), counted);
        // A user's table anywhere: unchanged.
        let mixed = "SELECT (SELECT c.queue FROM calls AS c WHERE c.callid = n.nspname) FROM pg_catalog.pg_namespace AS n";
        assert_eq!(rewritten(mixed), mixed);
    }
}
