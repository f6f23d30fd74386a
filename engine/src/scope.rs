//! What part of the lake a reader may see: every row, or only the rows of
//! some queues and campaigns.
//!
//! A scoped session never registers the raw tables. Each table that holds
//! queue or campaign rows is registered as a view over its provider with
//! the scope's predicate applied, so every query — through views, joins,
//! subqueries, `calls` and the KPI views — starts from rows already
//! filtered:
//!
//! | table        | a row is visible when |
//! | ------------ | --------------------- |
//! | `queue_log`  | `queue` is one of the scope's queues |
//! | `calls` (stored days) | `queue` is one of the scope's queues |
//! | `ami_events` | `queue` is one of the scope's queues, or the event carries `QL_CAMPAIGN=<c>` for one of its campaigns |
//! | `forecasts`, `staffing` | `queue` is one of the scope's queues |
//! | `pacing_decisions` | `campaign` is one of the scope's campaigns |
//! | `schedules`, `schedule_shifts`, `schedule_coverage` | every queue of the schedule's team (`queues`) is one of the scope's queues |
//!
//! Rows that belong to no queue (`queue_log` lines with queue `NONE`,
//! AMI events without a queue or campaign, connection gaps) are visible to
//! unscoped readers only: an agent's login or a channel's events cannot be
//! tied to one queue without guessing, and a scope must not leak.

use std::collections::BTreeSet;
use std::sync::Arc;

use datafusion::catalog::view::ViewTable;
use datafusion::datasource::{TableProvider, provider_as_source};
use datafusion::execution::context::SessionContext;
use datafusion::logical_expr::{Expr, LogicalPlanBuilder};

use crate::ami_events::CAMPAIGN_VARIABLE;
use crate::error::Result;

/// The rows a reader may see.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Scope {
    /// Everything.
    #[default]
    All,
    /// Only these queues' and campaigns' rows.
    Only {
        /// Queue names, as in `queue_log.queue`.
        queues: BTreeSet<String>,
        /// Campaign names, as the dialer sets them in `QL_CAMPAIGN`.
        campaigns: BTreeSet<String>,
    },
}

/// What a table's rows are scoped by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScopedBy {
    /// The `queue` column.
    Queue,
    /// The `queue` column, or the campaign in `fields['ChanVariable']`.
    QueueOrCampaign,
    /// The `queues` column (a comma-separated team): all of them.
    QueueList,
    /// The `campaign` column.
    Campaign,
}

impl Scope {
    /// Whether the scope shows `queue`'s rows.
    pub fn allows_queue(&self, queue: &str) -> bool {
        match self {
            Scope::All => true,
            Scope::Only { queues, .. } => queues.contains(queue),
        }
    }

    /// Whether the scope shows `campaign`'s rows.
    pub fn allows_campaign(&self, campaign: &str) -> bool {
        match self {
            Scope::All => true,
            Scope::Only { campaigns, .. } => campaigns.contains(campaign),
        }
    }

    /// The SQL predicate of the visible rows, or `None` for all rows.
    pub fn predicate_sql(&self, by: ScopedBy) -> Option<String> {
        let Scope::Only { queues, campaigns } = self else {
            return None;
        };
        let mut terms = Vec::new();
        if by == ScopedBy::Campaign {
            if campaigns.is_empty() {
                return Some("FALSE".to_owned());
            }
            let list: Vec<String> = campaigns.iter().map(|c| sql_string(c)).collect();
            return Some(format!("campaign IN ({})", list.join(", ")));
        }
        if by == ScopedBy::QueueList {
            if queues.is_empty() {
                return Some("FALSE".to_owned());
            }
            let list: Vec<String> = queues.iter().map(|q| sql_string(q)).collect();
            return Some(format!(
                "array_has_all(make_array({}), string_to_array(queues, ','))",
                list.join(", ")
            ));
        }
        if !queues.is_empty() {
            let list: Vec<String> = queues.iter().map(|q| sql_string(q)).collect();
            terms.push(format!("queue IN ({})", list.join(", ")));
        }
        if by == ScopedBy::QueueOrCampaign {
            // ChanVariable holds every variable of the event, one per line.
            for campaign in campaigns {
                let needle = sql_string(&format!("\n{CAMPAIGN_VARIABLE}={campaign}\n"));
                terms.push(format!(
                    "strpos(concat(chr(10), fields['ChanVariable'], chr(10)), {needle}) > 0"
                ));
            }
        }
        Some(if terms.is_empty() {
            "FALSE".to_owned()
        } else {
            terms.join(" OR ")
        })
    }

    /// `table` as this scope shows it: the provider itself for
    /// [`Scope::All`], else a view of its visible rows (the provider stays
    /// reachable only through that view).
    pub fn restrict(
        &self,
        ctx: &SessionContext,
        name: &str,
        table: Arc<dyn TableProvider>,
        by: ScopedBy,
    ) -> Result<Arc<dyn TableProvider>> {
        let Some(predicate) = self.predicate_sql(by) else {
            return Ok(table);
        };
        let scan = LogicalPlanBuilder::scan(name, provider_as_source(table), None)?.build()?;
        let filter = self.filter_expr(ctx, &predicate, &scan)?;
        let plan = LogicalPlanBuilder::from(scan).filter(filter)?.build()?;
        Ok(Arc::new(ViewTable::new(plan, None)))
    }

    /// The predicate of [`Scope::predicate_sql`] as an expression over
    /// `plan`'s columns, or `None` for all rows.
    pub fn filter(
        &self,
        ctx: &SessionContext,
        plan: &datafusion::logical_expr::LogicalPlan,
        by: ScopedBy,
    ) -> Result<Option<Expr>> {
        self.predicate_sql(by)
            .map(|predicate| self.filter_expr(ctx, &predicate, plan))
            .transpose()
    }

    fn filter_expr(
        &self,
        ctx: &SessionContext,
        predicate: &str,
        plan: &datafusion::logical_expr::LogicalPlan,
    ) -> Result<Expr> {
        Ok(ctx.state().create_logical_expr(predicate, plan.schema())?)
    }
}

/// `value` as a SQL string literal (quotes doubled).
pub fn sql_string(value: &str) -> String {
    format!("'{}'", value.replace('\'', "''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn only(queues: &[&str], campaigns: &[&str]) -> Scope {
        Scope::Only {
            queues: queues.iter().map(|q| q.to_string()).collect(),
            campaigns: campaigns.iter().map(|c| c.to_string()).collect(),
        }
    }

    #[test]
    fn predicates_quote_names_and_an_empty_scope_shows_nothing() {
        assert_eq!(Scope::All.predicate_sql(ScopedBy::Queue), None);
        assert_eq!(
            only(&["sales", "o'neil"], &[])
                .predicate_sql(ScopedBy::Queue)
                .unwrap(),
            "queue IN ('o''neil', 'sales')"
        );
        assert_eq!(
            only(&[], &["winback"]).predicate_sql(ScopedBy::Queue),
            Some("FALSE".into())
        );
        let ami = only(&[], &["winback"])
            .predicate_sql(ScopedBy::QueueOrCampaign)
            .unwrap();
        assert!(ami.contains("'\nQL_CAMPAIGN=winback\n'"), "{ami}");
        // Teams: every queue of the schedule's team in the scope.
        assert_eq!(
            only(&["sales", "support"], &[]).predicate_sql(ScopedBy::QueueList),
            Some(
                "array_has_all(make_array('sales', 'support'), string_to_array(queues, ','))"
                    .into()
            )
        );
        assert_eq!(
            only(&[], &["winback"]).predicate_sql(ScopedBy::QueueList),
            Some("FALSE".into())
        );
        // Pacing decisions: by campaign only.
        assert_eq!(
            only(&["sales"], &["winback"]).predicate_sql(ScopedBy::Campaign),
            Some("campaign IN ('winback')".into())
        );
        assert_eq!(
            only(&["sales"], &[]).predicate_sql(ScopedBy::Campaign),
            Some("FALSE".into())
        );
    }

    /// A lake with calls in `sales` and `support`, agent lines with queue
    /// NONE, and AMI events of both queues and two campaigns (rows held in
    /// memory: what a live source has read).
    async fn lake_tables(dir: &std::path::Path) -> crate::session::LakeTables {
        use crate::ami_events::{AmiEventRow, AmiEventsBuilder};
        use crate::tables::{QueueLogBuilder, QueueLogRow};
        let lake = crate::lake::Lake::open_local(dir).unwrap();
        let tables = crate::session::LakeTables::committed(&lake).await.unwrap();
        let mut builder = QueueLogBuilder::default();
        let mut offset = 0;
        let mut line = |epoch: i64, header: [&str; 5], data: [Option<&str>; 5]| {
            builder.append(&QueueLogRow {
                epoch,
                header: header.map(str::as_bytes),
                data: data.map(|d| d.map(str::as_bytes)),
                source: "ql",
                byte_offset: offset,
            });
            offset += 100;
        };
        let t = 1_709_542_800; // 2024-03-04 09:00 UTC
        line(
            t,
            ["NONE", "NONE", "Ana", "AGENTLOGIN", "PJSIP/ana"],
            [Some("PJSIP/ana"), None, None, None, None],
        );
        for (i, queue) in ["sales", "support", "sales", "support", "support"]
            .iter()
            .enumerate()
        {
            let at = t + 60 * i as i64;
            let id = format!("{at}.{i}");
            line(
                at,
                [&id, queue, "NONE", "ENTERQUEUE", "|555"],
                [Some(""), Some("555"), Some("1"), None, None],
            );
            line(
                at + 5,
                [&id, queue, "Ana", "CONNECT", "5|x|2"],
                [Some("5"), Some("x"), Some("2"), None, None],
            );
            line(
                at + 50,
                [&id, queue, "Ana", "COMPLETECALLER", "5|45|1"],
                [Some("5"), Some("45"), Some("1"), None, None],
            );
        }
        tables.queue_log.push_rows(builder.finish());
        let mut events = AmiEventsBuilder::default();
        let event = |events: &mut AmiEventsBuilder, n: u64, headers: &[(&str, &str)]| {
            let headers: Vec<(String, String)> = headers
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            events.append(&AmiEventRow {
                ts_us: (t * 1_000_000) + n as i64,
                received_us: t * 1_000_000,
                event: &headers[0].1.clone(),
                headers: &headers,
                source: "ami",
                byte_offset: n,
            });
        };
        event(
            &mut events,
            1,
            &[("Event", "QueueCallerJoin"), ("Queue", "sales")],
        );
        event(
            &mut events,
            2,
            &[("Event", "QueueCallerJoin"), ("Queue", "support")],
        );
        event(
            &mut events,
            3,
            &[
                ("Event", "Newchannel"),
                ("ChanVariable", "OTHER=1"),
                ("ChanVariable", "QL_CAMPAIGN=winback"),
            ],
        );
        event(
            &mut events,
            4,
            &[
                ("Event", "Newchannel"),
                ("ChanVariable", "QL_CAMPAIGN=winback2"),
            ],
        );
        event(&mut events, 5, &[("Event", "Hangup")]);
        tables.ami_events.push_rows(events.finish());
        tables
    }

    async fn answer(engine: &crate::session::QueryEngine, sql: &str) -> Vec<String> {
        let result = engine.query(sql).await.unwrap();
        let mut out = Vec::new();
        for batch in &result.batches {
            let text = arrow::util::display::ArrayFormatter::try_new(
                batch.column(0).as_ref(),
                &Default::default(),
            )
            .unwrap();
            for row in 0..batch.num_rows() {
                out.push(text.value(row).to_string());
            }
        }
        out.sort();
        out
    }

    #[tokio::test]
    async fn a_scoped_session_sees_its_rows_through_every_table_view_join_and_subquery() {
        use crate::kpi::KpiSettings;
        use crate::session::{QueryEngine, QueryLimits};
        let dir = tempfile::tempdir().unwrap();
        let tables = lake_tables(dir.path()).await;
        let kpi = KpiSettings::default();
        let all = QueryEngine::new(&tables, &kpi, QueryLimits::default(), &Scope::All)
            .await
            .unwrap();
        let sales = QueryEngine::new(
            &tables,
            &kpi,
            QueryLimits::default(),
            &only(&["sales"], &["winback"]),
        )
        .await
        .unwrap();
        let cases: &[(&str, &[&str], &[&str])] = &[
            (
                "SELECT DISTINCT queue FROM queue_log",
                &["NONE", "sales", "support"],
                &["sales"],
            ),
            (
                "SELECT DISTINCT queue FROM calls",
                &["sales", "support"],
                &["sales"],
            ),
            (
                "SELECT CAST(SUM(offered) AS VARCHAR) FROM interval_stats",
                &["5"],
                &["2"],
            ),
            (
                "SELECT DISTINCT COALESCE(queue, '-') FROM agent_sessions",
                &["-"],
                &[],
            ),
            (
                "SELECT DISTINCT c.queue FROM calls c JOIN queue_log q ON q.callid = c.callid",
                &["sales", "support"],
                &["sales"],
            ),
            (
                "SELECT CAST(COUNT(*) AS VARCHAR) FROM (SELECT * FROM queue_log WHERE queue = 'support') s",
                &["9"],
                &["0"],
            ),
            (
                "SELECT CAST(COUNT(*) AS VARCHAR) FROM queue_log WHERE callid IN (SELECT callid FROM calls WHERE queue <> 'sales')",
                &["9"],
                &["0"],
            ),
            (
                "SELECT event || ':' || COALESCE(queue, '-') FROM ami_events",
                &[
                    "Hangup:-",
                    "Newchannel:-",
                    "Newchannel:-",
                    "QueueCallerJoin:sales",
                    "QueueCallerJoin:support",
                ],
                &["Newchannel:-", "QueueCallerJoin:sales"],
            ),
            (
                "WITH x AS (SELECT queue FROM queue_log UNION ALL SELECT queue FROM ami_events) SELECT DISTINCT queue FROM x WHERE queue IS NOT NULL",
                &["NONE", "sales", "support"],
                &["sales"],
            ),
        ];
        for (sql, everything, scoped) in cases {
            assert_eq!(answer(&all, sql).await, *everything, "unscoped: {sql}");
            assert_eq!(answer(&sales, sql).await, *scoped, "scoped to sales: {sql}");
        }
        // A scope with nothing in it sees nothing.
        let nothing = QueryEngine::new(&tables, &kpi, QueryLimits::default(), &only(&[], &[]))
            .await
            .unwrap();
        for table in [
            "queue_log",
            "calls",
            "ami_events",
            "interval_stats",
            "agent_sessions",
        ] {
            let sql = format!("SELECT CAST(COUNT(*) AS VARCHAR) FROM {table}");
            assert_eq!(answer(&nothing, &sql).await, ["0"], "{table}");
        }
    }

    #[test]
    fn membership() {
        let scope = only(&["sales"], &["winback"]);
        assert!(scope.allows_queue("sales") && !scope.allows_queue("support"));
        assert!(scope.allows_campaign("winback") && !scope.allows_campaign("renewals"));
        assert!(Scope::All.allows_queue("anything"));
    }
}
