//! The `adherence` view on a hand-made case, counted by hand: Ana is
//! scheduled 09:00–11:00 with a break at 10:00–10:15; she is a member of
//! `sales` 09:00–10:40, paused 09:30–09:45, and on a call 09:02–09:07.

#![allow(clippy::unwrap_used, missing_docs)]

use std::collections::BTreeSet;

use arrow::array::{Array, AsArray};
use arrow::datatypes::{Float64Type, Int64Type};
use queuelake_engine::kpi::KpiSettings;
use queuelake_engine::lake::Lake;
use queuelake_engine::schedules::{
    ActivityRow, CoverageRow, VersionKey, VersionRow, version_batches,
};
use queuelake_engine::scope::Scope;
use queuelake_engine::session::{LakeTables, QueryEngine, QueryLimits};
use queuelake_engine::tables::{QueueLogBuilder, QueueLogRow};

const NINE: i64 = 1_709_542_800; // Monday 2024-03-04 09:00 UTC

/// A queue_log line: epoch, callid/queue/agent/event/data, data1..data5.
type Line<'a> = (i64, [&'a str; 5], [Option<&'a str>; 5]);

fn at(minutes: i64) -> i64 {
    NINE + minutes * 60
}

async fn tables(dir: &std::path::Path) -> LakeTables {
    let lake = Lake::open_local(dir).unwrap();
    let tables = LakeTables::committed(&lake).await.unwrap();
    let mut log = QueueLogBuilder::default();
    let lines: [Line<'_>; 8] = [
        (
            at(0),
            ["NONE", "sales", "PJSIP/ana", "ADDMEMBER", ""],
            [Some(""), None, None, None, None],
        ),
        // Asterisk names the member in the same second, right after.
        (
            at(0),
            ["NONE", "sales", "Ana", "UNPAUSE", ""],
            [Some(""), None, None, None, None],
        ),
        (
            at(1) + 50,
            ["c1", "sales", "NONE", "ENTERQUEUE", "|555|1"],
            [Some(""), Some("555"), Some("1"), None, None],
        ),
        (
            at(2),
            ["c1", "sales", "Ana", "CONNECT", "10|c1b|2"],
            [Some("10"), Some("c1b"), Some("2"), None, None],
        ),
        (
            at(7),
            ["c1", "sales", "Ana", "COMPLETECALLER", "10|300|1"],
            [Some("10"), Some("300"), Some("1"), None, None],
        ),
        (
            at(30),
            ["NONE", "sales", "Ana", "PAUSE", "lunch"],
            [Some("lunch"), None, None, None, None],
        ),
        (
            at(45),
            ["NONE", "sales", "Ana", "UNPAUSE", ""],
            [Some(""), None, None, None, None],
        ),
        (
            at(100),
            ["NONE", "sales", "PJSIP/ana", "REMOVEMEMBER", ""],
            [Some(""), None, None, None, None],
        ),
    ];
    for (offset, (epoch, header, data)) in lines.iter().enumerate() {
        log.append(&QueueLogRow {
            epoch: *epoch,
            header: header.map(str::as_bytes),
            data: data.map(|d| d.map(str::as_bytes)),
            source: "hand",
            byte_offset: offset as u64 * 100,
        });
    }
    tables.queue_log.push_rows(log.finish());
    let us = |minutes: i64| at(minutes) * 1_000_000;
    let activity = |activity, start, end, paid_min| ActivityRow {
        shift_no: 0,
        activity,
        agent: Some("Ana".into()),
        start_us: us(start),
        end_us: us(end),
        paid_min,
    };
    let batches = version_batches(
        &VersionKey {
            schedule_id: "sc-hand".into(),
            version: 1,
            published_at_us: us(-600),
            queues: "sales".into(),
        },
        &VersionRow {
            published_by: "planner".into(),
            week_start_us: us(-540),
            interval_s: 900,
            staffing_run_id: None,
            shifts: 1,
            paid_hours: 2.0,
            short_agent_hours: 0.0,
            surplus_agent_hours: 0.0,
            bound: None,
        },
        &[
            activity("shift", 0, 120, 120),
            activity("break", 60, 75, 15),
        ],
        &[CoverageRow {
            interval_start_us: us(0),
            required: 1.0,
            scheduled: 1.0,
        }],
    )
    .unwrap();
    for (table, batch) in tables.schedules.iter().zip(batches) {
        table.push_rows(batch);
    }
    tables
}

#[tokio::test]
async fn adherence_equals_the_hand_count() {
    let dir = tempfile::tempdir().unwrap();
    let tables = tables(dir.path()).await;
    let engine = QueryEngine::new(
        &tables,
        &KpiSettings::default(),
        QueryLimits::default(),
        &Scope::All,
    )
    .await
    .unwrap();
    let result = engine
        .query(
            "SELECT scheduled_s, on_phone_s, break_s, available_s, on_call_s, adherent_s, adherence, conformance \
             FROM adherence ORDER BY interval_start",
        )
        .await
        .unwrap();
    let mut rows: Vec<Vec<Option<f64>>> = Vec::new();
    for batch in &result.batches {
        for row in 0..batch.num_rows() {
            rows.push(
                (0..batch.num_columns())
                    .map(|c| {
                        let column = batch.column(c);
                        if column.is_null(row) {
                            None
                        } else if let Some(f) = column.as_primitive_opt::<Float64Type>() {
                            Some(f.value(row))
                        } else {
                            column
                                .as_primitive_opt::<Int64Type>()
                                .map(|i| i.value(row) as f64)
                        }
                    })
                    .collect(),
            );
        }
    }
    let third = 600.0 / 900.0;
    // scheduled, on phone, break, available, on call, adherent, adherence,
    // conformance (NULL: nothing was due on the phones).
    const NULL: f64 = f64::NAN;
    let expected: [[f64; 8]; 8] = [
        // 09:00 member, on a call for 300 s
        [900.0, 900.0, 0.0, 900.0, 300.0, 900.0, 1.0, 1.0],
        [900.0, 900.0, 0.0, 900.0, 0.0, 900.0, 1.0, 1.0],
        // 09:30 paused while due on the phones
        [900.0, 900.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
        [900.0, 900.0, 0.0, 900.0, 0.0, 900.0, 1.0, 1.0],
        // 10:00 due on a break, but available: not adherent
        [900.0, 0.0, 900.0, 900.0, 0.0, 0.0, 0.0, NULL],
        [900.0, 900.0, 0.0, 900.0, 0.0, 900.0, 1.0, 1.0],
        // 10:30 left at 10:40
        [900.0, 900.0, 0.0, 600.0, 0.0, 600.0, third, third],
        [900.0, 900.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
    ];
    assert_eq!(rows.len(), expected.len(), "{rows:?}");
    for (got, want) in rows.iter().zip(&expected) {
        for (g, w) in got.iter().zip(want) {
            match g {
                Some(g) => assert!((g - w).abs() < 1e-9, "{got:?} vs {want:?}"),
                None => assert!(w.is_nan(), "{got:?} vs {want:?}"),
            }
        }
    }
    // Over the shift: 4 200 of 7 200 scheduled seconds adherent.
    let total = engine
        .query("SELECT SUM(adherent_s), SUM(scheduled_s) FROM adherence")
        .await
        .unwrap();
    let batch = &total.batches[0];
    let sum = |c: usize| {
        let column = batch.column(c);
        column
            .as_primitive_opt::<Float64Type>()
            .map(|f| f.value(0))
            .or_else(|| {
                column
                    .as_primitive_opt::<Int64Type>()
                    .map(|i| i.value(0) as f64)
            })
            .unwrap()
    };
    assert_eq!((sum(0), sum(1)), (4200.0, 7200.0));

    // A reader scoped to support does not see the sales team's schedule.
    let support = Scope::Only {
        queues: BTreeSet::from(["support".to_owned()]),
        campaigns: BTreeSet::new(),
    };
    let scoped = QueryEngine::new(
        &tables,
        &KpiSettings::default(),
        QueryLimits::default(),
        &support,
    )
    .await
    .unwrap();
    let seen = scoped
        .query("SELECT COUNT(*) FROM schedule_shifts")
        .await
        .unwrap();
    assert_eq!(
        seen.batches[0]
            .column(0)
            .as_primitive::<Int64Type>()
            .value(0),
        0
    );
}
