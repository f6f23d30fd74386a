//! The `campaign_abandon` view on a hand-made contact center, counted by
//! hand: visits from `queue_log`, campaigns from AMI tags (a `VarSet` of
//! `QL_CAMPAIGN` or a snapshot's `ChanVariable`) or — for calls AMI never
//! saw — from the campaign's configured queue; the 2-second rule; local
//! days; each campaign's own target and window; the defaults for a
//! campaign nobody configured; AMD machines in the adjusted rate.

#![allow(clippy::unwrap_used, missing_docs)]

use arrow::array::{Array, AsArray};
use arrow::datatypes::{Float64Type, Int64Type};
use queuelake_engine::ami_events::{AmiEventRow, AmiEventsBuilder};
use queuelake_engine::kpi::{CampaignRule, KpiSettings};
use queuelake_engine::lake::Lake;
use queuelake_engine::scope::Scope;
use queuelake_engine::session::{LakeTables, QueryEngine, QueryLimits};
use queuelake_engine::tables::{QueueLogBuilder, QueueLogRow};

/// 2024-03-04 15:00 UTC, 10:00 in New York (EST, UTC−5).
const MARCH_4_10AM_NY: i64 = 1_709_564_400;
const DAY: i64 = 86_400;

/// How a hand-made call goes.
#[derive(Clone, Copy)]
enum Goes {
    /// Answered after this many seconds of waiting.
    Answered(i64),
    /// Left the queue after this many seconds.
    Abandoned(i64),
}

/// What AMI said of a call.
#[derive(Clone, Copy)]
enum Ami<'a> {
    /// Nothing: the link was down.
    Unseen,
    /// It joined the queue, untagged (an inbound call).
    Untagged,
    /// Tagged by a `VarSet` of `QL_CAMPAIGN` (a stock Asterisk's order).
    VarSet(&'a str),
    /// Tagged in its snapshots' `ChanVariable` (channelvars).
    ChanVariable(&'a str),
}

#[derive(Default)]
struct Center {
    log: QueueLogBuilder,
    ami: AmiEventsBuilder,
    n: u64,
}

impl Center {
    fn call(&mut self, at: i64, queue: &str, goes: Goes, ami: Ami<'_>) -> String {
        self.n += 1;
        let uid = format!("1709500000.{}", self.n);
        let line = |log: &mut QueueLogBuilder, offset: u64, t: i64, event: &str, data: &[&str]| {
            let payload = data.join("|");
            let mut fields: [Option<&[u8]>; 5] = [None; 5];
            for (slot, d) in fields.iter_mut().zip(data) {
                *slot = Some(d.as_bytes());
            }
            log.append(&QueueLogRow {
                epoch: t,
                header: [
                    uid.as_bytes(),
                    queue.as_bytes(),
                    b"NONE",
                    event.as_bytes(),
                    payload.as_bytes(),
                ],
                data: fields,
                source: "hand",
                byte_offset: offset,
            });
        };
        let offset = self.n * 10;
        line(
            &mut self.log,
            offset,
            at,
            "ENTERQUEUE",
            &["", "5550100", "1"],
        );
        match goes {
            Goes::Answered(wait) => {
                line(
                    &mut self.log,
                    offset + 1,
                    at + wait,
                    "CONNECT",
                    &[&wait.to_string(), "x", "1"],
                );
                line(
                    &mut self.log,
                    offset + 2,
                    at + wait + 60,
                    "COMPLETECALLER",
                    &[&wait.to_string(), "60", "1"],
                );
            }
            Goes::Abandoned(wait) => {
                line(
                    &mut self.log,
                    offset + 1,
                    at + wait,
                    "ABANDON",
                    &["1", "1", &wait.to_string()],
                );
            }
        }
        let mut event = |t: i64, name: &str, extra: &[(&str, &str)], tag: Option<&str>| {
            self.n += 1;
            let mut headers = vec![
                ("Event".to_owned(), name.to_owned()),
                ("Uniqueid".to_owned(), uid.clone()),
            ];
            if let Some(c) = tag {
                headers.push(("ChanVariable".to_owned(), "OTHER=1".to_owned()));
                headers.push(("ChanVariable".to_owned(), format!("QL_CAMPAIGN={c}")));
            }
            headers.extend(
                extra
                    .iter()
                    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
            );
            let ts = t * 1_000_000 + self.n as i64;
            self.ami.append(&AmiEventRow {
                ts_us: ts,
                received_us: ts,
                event: name,
                headers: &headers,
                source: "hand",
                byte_offset: self.n,
            });
        };
        match ami {
            Ami::Unseen => {}
            Ami::Untagged => event(at, "QueueCallerJoin", &[("Queue", queue)], None),
            Ami::VarSet(c) => {
                event(at - 9, "Newchannel", &[], None);
                event(
                    at - 9,
                    "VarSet",
                    &[("Variable", "QL_CAMPAIGN"), ("Value", c)],
                    None,
                );
                event(at, "QueueCallerJoin", &[("Queue", queue)], None);
            }
            Ami::ChanVariable(c) => {
                event(at, "QueueCallerJoin", &[("Queue", queue)], Some(c));
            }
        }
        uid
    }

    /// An answer the AMD found to be a machine (it never enters a queue).
    fn machine(&mut self, at: i64, campaign: &str) {
        let uid = format!("1709600000.{}", self.n);
        for (i, (variable, value)) in [("QL_CAMPAIGN", campaign), ("AMDSTATUS", "MACHINE")]
            .into_iter()
            .enumerate()
        {
            self.n += 1;
            let headers = vec![
                ("Event".to_owned(), "VarSet".to_owned()),
                ("Uniqueid".to_owned(), uid.clone()),
                ("Variable".to_owned(), variable.to_owned()),
                ("Value".to_owned(), value.to_owned()),
            ];
            let ts = (at + i as i64) * 1_000_000;
            self.ami.append(&AmiEventRow {
                ts_us: ts,
                received_us: ts,
                event: "VarSet",
                headers: &headers,
                source: "hand",
                byte_offset: self.n,
            });
        }
    }
}

type Row = (
    String,
    i64,
    (i64, i64, i64),
    i64,
    (i64, i64),
    Option<f64>,
    String,
);

async fn view_rows(engine: &QueryEngine) -> Vec<Row> {
    let result = engine
        .query(
            "SELECT campaign, CAST(date_part('epoch', CAST(day AS TIMESTAMP)) AS BIGINT), \
               live_answered, abandoned, machine_answered, window_days, \
               live_answered_window, abandoned_window, abandon_rate_window, status \
             FROM campaign_abandon ORDER BY campaign, day",
        )
        .await
        .unwrap();
    let mut rows = Vec::new();
    let march_4 = MARCH_4_10AM_NY - 15 * 3600;
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
                (int(1, r) - march_4) / DAY,
                (int(2, r), int(3, r), int(4, r)),
                int(5, r),
                (int(6, r), int(7, r)),
                float(8, r),
                text(9).value(r).to_owned(),
            ));
        }
    }
    rows
}

#[tokio::test]
async fn abandons_are_counted_from_queue_log_by_each_campaigns_rule_and_local_day() {
    let dir = tempfile::tempdir().unwrap();
    let lake = Lake::open_local(dir.path()).unwrap();
    let tables = LakeTables::committed(&lake).await.unwrap();
    let mut center = Center::default();
    let t = MARCH_4_10AM_NY;
    // March 4, renewals (queue "outbound"): answered within 2 s twice —
    // one tagged the stock way, one by channelvars; one left after 2 s
    // (abandoned), one after 1 s (not: the caller hung up inside the
    // window); one answered after 3 s (abandoned: not connected in 2 s).
    let renewals = [
        (0, Goes::Answered(1), Ami::VarSet("renewals")),
        (60, Goes::Answered(2), Ami::ChanVariable("renewals")),
        (120, Goes::Abandoned(2), Ami::VarSet("renewals")),
        (180, Goes::Abandoned(1), Ami::VarSet("renewals")),
        (240, Goes::Answered(3), Ami::VarSet("renewals")),
    ];
    for (after, goes, ami) in renewals {
        center.call(t + after, "outbound", goes, ami);
    }
    // The AMI link down: three calls AMI never saw, one abandoned — the
    // campaign's by its queue.
    center.call(t + 300, "outbound", Goes::Answered(0), Ami::Unseen);
    center.call(t + 310, "outbound", Goes::Answered(1), Ami::Unseen);
    center.call(t + 320, "outbound", Goes::Abandoned(4), Ami::Unseen);
    // An inbound call AMI saw enter "outbound" untagged: not the campaign's.
    center.call(t + 330, "outbound", Goes::Abandoned(30), Ami::Untagged);
    // Inbound calls elsewhere, seen or not: nobody's.
    center.call(t + 340, "support", Goes::Abandoned(30), Ami::Unseen);
    center.call(t + 350, "support", Goes::Abandoned(30), Ami::Untagged);
    // 22:00 in New York is 03:00 UTC on March 5: still March 4 locally.
    center.call(
        t + 12 * 3600,
        "outbound",
        Goes::Answered(1),
        Ami::VarSet("renewals"),
    );
    // Two machines the AMD found for renewals.
    center.machine(t + 400, "renewals");
    center.machine(t + 500, "renewals");
    // March 6: 2 answered. March 14: 1 abandoned; renewals' 7-day
    // window no longer holds March 4–7.
    center.call(
        t + 2 * DAY,
        "outbound",
        Goes::Answered(1),
        Ami::VarSet("renewals"),
    );
    center.call(
        t + 2 * DAY + 5,
        "outbound",
        Goes::Answered(1),
        Ami::VarSet("renewals"),
    );
    center.call(
        t + 10 * DAY,
        "outbound",
        Goes::Abandoned(3),
        Ami::VarSet("renewals"),
    );
    // "steady", configured nowhere (the defaults: 3 % over 30 days, near
    // above 2.7 %), in another queue: 250 live answers, 7 abandoned (2.8 %).
    for k in 0..243 {
        center.call(
            t + k,
            "winback",
            Goes::Answered(0),
            Ami::ChanVariable("steady"),
        );
    }
    for k in 0..7 {
        center.call(
            t + 300 + k,
            "winback",
            Goes::Abandoned(5),
            Ami::ChanVariable("steady"),
        );
    }
    tables.queue_log.push_rows(center.log.finish());
    tables.ami_events.push_rows(center.ami.finish());

    let kpi = KpiSettings {
        time_zone: "America/New_York".into(),
        campaigns: vec![CampaignRule {
            name: "renewals".into(),
            queue: Some("outbound".into()),
            target: 0.25,
            margin: 0.2,
            window_days: 7,
        }],
        ..KpiSettings::default()
    };
    let engine = QueryEngine::new(&tables, &kpi, QueryLimits::default(), &Scope::All)
        .await
        .unwrap();
    let rows = view_rows(&engine).await;
    let row = |c: &str, day, counts, window_days, window: (i64, i64), status: &str| {
        (
            c.to_owned(),
            day,
            counts,
            window_days,
            window,
            Some(window.1 as f64 / window.0 as f64),
            status.to_owned(),
        )
    };
    assert_eq!(
        rows,
        vec![
            // 9 live answers (5 seen + 3 unseen + the late one), 3
            // abandoned (2 s, answered after 3 s, 4 s unseen): 1/3 > 25 %.
            row("renewals", 0, (9, 3, 2), 7, (9, 3), "over"),
            // 11 live, 3 abandoned: 27 % > 25 %.
            row("renewals", 2, (2, 0, 0), 7, (11, 3), "over"),
            // Alone in its window: 1 of 1.
            row("renewals", 10, (1, 1, 0), 7, (1, 1), "over"),
            row("steady", 0, (250, 7, 0), 30, (250, 7), "near"),
        ]
    );
    // AMD-adjusted: March 4's 3 abandons over 9 live and 2 machine answers.
    let amd = engine
        .query(
            "SELECT abandon_rate_window_amd_adjusted, target FROM campaign_abandon \
             WHERE campaign = 'renewals' ORDER BY day LIMIT 1",
        )
        .await
        .unwrap();
    let batch = &amd.batches[0];
    let adjusted = batch.column(0).as_primitive::<Float64Type>();
    let target = batch.column(1).as_primitive::<Float64Type>();
    assert_eq!((adjusted.value(0), target.value(0)), (3.0 / 11.0, 0.25));

    // Without the rule, renewals is judged by the defaults and its
    // unseen calls are nobody's.
    let plain = KpiSettings {
        time_zone: "America/New_York".into(),
        ..KpiSettings::default()
    };
    let engine = QueryEngine::new(&tables, &plain, QueryLimits::default(), &Scope::All)
        .await
        .unwrap();
    let first = view_rows(&engine).await.remove(0);
    assert_eq!(first, row("renewals", 0, (6, 2, 2), 30, (6, 2), "over"));
}

#[test]
fn a_rule_that_could_break_the_view_is_refused_by_name() {
    let bad = |rule: CampaignRule| {
        let kpi = KpiSettings {
            campaigns: vec![rule],
            ..KpiSettings::default()
        };
        kpi.validate().unwrap_err().to_string()
    };
    let ok = CampaignRule {
        name: "renewals".into(),
        ..CampaignRule::default()
    };
    assert!(
        bad(CampaignRule {
            target: 1.5,
            ..ok.clone()
        })
        .contains("renewals")
    );
    assert!(
        bad(CampaignRule {
            window_days: 0,
            ..ok.clone()
        })
        .contains("window")
    );
    assert!(
        bad(CampaignRule {
            name: "a\nb".into(),
            ..ok.clone()
        })
        .contains("control")
    );
    // A quote is only text.
    let quoted = KpiSettings {
        campaigns: vec![CampaignRule {
            name: "o'brien".into(),
            queue: Some("it's".into()),
            ..ok
        }],
        ..KpiSettings::default()
    };
    let sql = queuelake_engine::kpi::render(
        queuelake_engine::kpi::VIEWS
            .iter()
            .find(|v| v.name == "campaign_abandon")
            .unwrap()
            .sql,
        &quoted,
    )
    .unwrap();
    assert!(
        sql.contains("'o''brien'") && sql.contains("'it''s'"),
        "{sql}"
    );
}
