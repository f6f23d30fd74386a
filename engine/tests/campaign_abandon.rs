//! The `campaign_abandon` view on hand-made AMI events, counted by hand:
//! the 2-second rule, the live-answered denominator, the rolling 30 days
//! and the status thresholds.

#![allow(clippy::unwrap_used, missing_docs)]

use arrow::array::{Array, AsArray};
use arrow::datatypes::{Float64Type, Int64Type};
use queuelake_engine::ami_events::{AmiEventRow, AmiEventsBuilder};
use queuelake_engine::kpi::KpiSettings;
use queuelake_engine::lake::Lake;
use queuelake_engine::scope::Scope;
use queuelake_engine::session::{LakeTables, QueryEngine, QueryLimits};

const MARCH_4: i64 = 1_709_510_400; // 2024-03-04 00:00 UTC
const DAY: i64 = 86_400;

#[tokio::test]
async fn abandons_follow_the_two_second_rule_over_thirty_days() {
    let dir = tempfile::tempdir().unwrap();
    let lake = Lake::open_local(dir.path()).unwrap();
    let tables = LakeTables::committed(&lake).await.unwrap();
    let mut events = AmiEventsBuilder::default();
    let mut n = 0u64;
    let mut event = |day: i64, name: &str, campaign: Option<&str>, extra: &[(&str, &str)]| {
        n += 1;
        let mut headers = vec![
            ("Event".to_owned(), name.to_owned()),
            ("Queue".to_owned(), "outbound".to_owned()),
        ];
        if let Some(c) = campaign {
            headers.push(("ChanVariable".to_owned(), "OTHER=1".to_owned()));
            headers.push(("ChanVariable".to_owned(), format!("QL_CAMPAIGN={c}")));
        }
        for (key, value) in extra {
            headers.push(((*key).to_owned(), (*value).to_owned()));
        }
        let ts = (MARCH_4 + day * DAY + 36_000 + n as i64) * 1_000_000;
        events.append(&AmiEventRow {
            ts_us: ts,
            received_us: ts,
            event: name,
            headers: &headers,
            source: "hand",
            byte_offset: n,
        });
    };
    // March 4: 4 live answers; one left after 2 s (an abandon), one after
    // 1 s (not: the caller hung up inside the window).
    for _ in 0..4 {
        event(0, "QueueCallerJoin", Some("renewals"), &[]);
    }
    event(
        0,
        "QueueCallerAbandon",
        Some("renewals"),
        &[("HoldTime", "2")],
    );
    event(
        0,
        "QueueCallerAbandon",
        Some("renewals"),
        &[("HoldTime", "1")],
    );
    // And 4 answering machines the AMD detected (a human's AMDSTATUS
    // does not count).
    for status in ["MACHINE", "MACHINE", "MACHINE", "MACHINE", "HUMAN"] {
        event(
            0,
            "VarSet",
            Some("renewals"),
            &[("Variable", "AMDSTATUS"), ("Value", status)],
        );
    }
    // March 5: 2 live answers. April 13: 1, abandoned after 5 s; March 4
    // and 5 are out of its 30 days.
    event(1, "QueueCallerJoin", Some("renewals"), &[]);
    event(1, "QueueCallerJoin", Some("renewals"), &[]);
    event(40, "QueueCallerJoin", Some("renewals"), &[]);
    event(
        40,
        "QueueCallerAbandon",
        Some("renewals"),
        &[("HoldTime", "5")],
    );
    // "steady": 250 live answers and 7 abandons, 2.8 %: near the limit.
    for _ in 0..250 {
        event(0, "QueueCallerJoin", Some("steady"), &[]);
    }
    for _ in 0..7 {
        event(
            0,
            "QueueCallerAbandon",
            Some("steady"),
            &[("HoldTime", "3")],
        );
    }
    // Inbound calls carry no campaign.
    event(0, "QueueCallerJoin", None, &[]);
    event(0, "QueueCallerAbandon", None, &[("HoldTime", "30")]);
    tables.ami_events.push_rows(events.finish());

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
            "SELECT campaign, CAST(date_part('epoch', day) AS BIGINT), live_answered, abandoned, \
             abandon_rate_day, live_answered_30d, abandoned_30d, abandon_rate_30d, status \
             FROM campaign_abandon ORDER BY campaign, day",
        )
        .await
        .unwrap();
    let mut rows = Vec::new();
    for batch in &result.batches {
        let text = |c: usize| batch.column(c).as_string::<i32>();
        let int = |c: usize, r: usize| batch.column(c).as_primitive::<Int64Type>().value(r);
        let float = |c: usize, r: usize| {
            let a = batch.column(c).as_primitive::<Float64Type>();
            a.is_valid(r).then(|| a.value(r))
        };
        for r in 0..batch.num_rows() {
            rows.push((
                text(0).value(r).to_owned(),
                (int(1, r) - MARCH_4) / DAY,
                (int(2, r), int(3, r)),
                float(4, r),
                (int(5, r), int(6, r)),
                float(7, r),
                text(8).value(r).to_owned(),
            ));
        }
    }
    let row = |c: &str, day, counts, rate, window, rate_30, status: &str| {
        (
            c.to_owned(),
            day,
            counts,
            Some(rate),
            window,
            Some(rate_30),
            status.to_owned(),
        )
    };
    assert_eq!(
        rows,
        vec![
            row("renewals", 0, (4, 1), 0.25, (4, 1), 0.25, "over"),
            row("renewals", 1, (2, 0), 0.0, (6, 1), 1.0 / 6.0, "over"),
            row("renewals", 40, (1, 1), 1.0, (1, 1), 1.0, "over"),
            row("steady", 0, (250, 7), 0.028, (250, 7), 0.028, "near"),
        ]
    );
    // AMD-adjusted: March 4's abandon over 4 live and 4 machine answers.
    let amd = engine
        .query(
            "SELECT machine_answered, abandon_rate_30d_amd_adjusted FROM campaign_abandon \
             WHERE campaign = 'renewals' ORDER BY day",
        )
        .await
        .unwrap();
    let batch = &amd.batches[0];
    let machines = batch.column(0).as_primitive::<Int64Type>();
    let adjusted = batch.column(1).as_primitive::<Float64Type>();
    assert_eq!((machines.value(0), machines.value(1)), (4, 0));
    assert_eq!(adjusted.value(0), 1.0 / 8.0);
    assert_eq!(adjusted.value(1), 1.0 / 10.0);
}
