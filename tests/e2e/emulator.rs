//! The emulated Asterisk: its queue_log, ingested by queuelake, gives the
//! simulation's own interval KPIs.

use queuelake_ingest::emulator::{Emulator, EmulatorConfig};
use queuelake_scheduler::sim::{Millis, QueueId, Simulation, Tally, demo_config};
use serde_json::Value;

use crate::support;

const DAY: Millis = 86_400_000;
const HOUR: Millis = 3_600_000;
/// 2024-03-06 00:00 UTC, a Wednesday: two weekdays of history before it.
const LIVE_FROM: Millis = 1_709_683_200_000;

#[test]
fn the_simulated_queue_log_gives_the_simulations_interval_kpis() {
    let dir = tempfile::tempdir().unwrap();
    let queue_log = dir.path().join("queue_log");
    let lake = dir.path().join("lake");
    let config = demo_config(5);

    let rotated = crate::support::runtime().block_on(async {
        let mut emulator_config = EmulatorConfig::new(config.clone(), queue_log.clone());
        emulator_config.history_days = 2;
        emulator_config.live_from = Some(LIVE_FROM);
        emulator_config.speed = 0.001;
        let emulator = Emulator::start(emulator_config).await.unwrap();
        emulator.rotated_files()
    });
    // Monday's file was rotated out by rename at Tuesday's first event;
    // Tuesday's file is the live one and starts with CONFIGRELOAD.
    assert_eq!(rotated.len(), 1, "{rotated:?}");
    assert!(rotated[0].ends_with("queue_log.0"));
    let first_line = |path: &std::path::Path| {
        let text = std::fs::read_to_string(path).unwrap();
        text.lines().next().unwrap().to_owned()
    };
    assert!(first_line(&rotated[0]).ends_with("|NONE|NONE|NONE|QUEUESTART|"));
    assert!(first_line(&queue_log).ends_with("|NONE|NONE|NONE|CONFIGRELOAD|"));

    let mut files: Vec<&std::path::Path> = rotated.iter().map(|p| p.as_path()).collect();
    files.push(&queue_log);
    support::ingest(&lake, &files);

    // The simulation's own counts, from a second run of the same seed.
    let mut sim = Simulation::new(config.clone(), LIVE_FROM - 2 * DAY).unwrap();
    let mut tally = Tally::new(15, 0, 20, 5);
    for event in sim.run_until(LIVE_FROM) {
        tally.record(&event);
    }
    // Visits that entered up to 2 h before the end have all ended.
    let cutoff = LIVE_FROM - 2 * HOUR;
    let rows = support::sql(
        &lake,
        &format!(
            "SELECT queue, CAST(interval_start AS BIGINT) / 1000000, offered, answered, abandoned, \
             short_abandoned, timed_out, answered_within_sl, asa_s, aht_s, max_wait_s \
             FROM interval_stats WHERE interval_start < to_timestamp_millis({cutoff}) \
             ORDER BY queue, interval_start"
        ),
        &[],
    );
    let mut expected = Vec::new();
    for ((queue, start), c) in tally.counts() {
        if *start >= cutoff {
            continue;
        }
        expected.push((
            config.queues[queue.0].name.clone(),
            *start / 1000,
            c.clone(),
        ));
    }
    expected.sort_by(|a, b| (&a.0, a.1).cmp(&(&b.0, b.1)));
    assert_eq!(rows.len(), expected.len(), "one row per queue and interval");
    let int = |v: &Value| v.as_i64().unwrap();
    let (mut offered, mut answered, mut abandoned) = (0, 0, 0);
    for (row, (queue, start, c)) in rows.iter().zip(&expected) {
        let context = format!("{queue} at {start}");
        assert_eq!(row[0].as_str().unwrap(), queue, "{context}");
        assert_eq!(int(&row[1]), *start, "{context}");
        let counts = [
            c.offered,
            c.answered,
            c.abandoned,
            c.short_abandoned,
            c.timed_out,
            c.answered_within_sl,
        ];
        for (i, want) in counts.iter().enumerate() {
            assert_eq!(
                int(&row[2 + i]) as u64,
                *want,
                "{context}, column {}",
                2 + i
            );
        }
        if c.answered > 0 {
            let asa = row[8].as_f64().unwrap();
            let aht = row[9].as_f64().unwrap();
            assert!(
                (asa - c.answered_wait_s as f64 / c.answered as f64).abs() < 1e-9,
                "{context} ASA"
            );
            assert!(
                (aht - c.talk_s as f64 / c.answered as f64).abs() < 1e-9,
                "{context} AHT"
            );
        }
        assert_eq!(int(&row[10]), c.max_wait_s, "{context} max wait");
        offered += c.offered;
        answered += c.answered;
        abandoned += c.abandoned;
    }
    // Two working days of the demo centre: thousands of calls, every queue.
    assert!(
        offered > 3_000 && answered > 2_000 && abandoned > 50,
        "{offered} {answered} {abandoned}"
    );
    for q in 0..config.queues.len() {
        assert!(
            expected
                .iter()
                .any(|(name, _, _)| *name == config.queues[QueueId(q).0].name)
        );
    }
}
