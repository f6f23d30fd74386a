//! Closed days of `calls`, computed once and stored in `calls_by_day`.
//!
//! A KPI query over a month would otherwise regroup millions of queue_log
//! lines into visits every time. Instead, the process that writes the lake
//! stores each closed day's `calls` rows in the derived table
//! `calls_by_day` (one partition per UTC date of `enter_ts`), and
//! [`crate::calls::CallsTable`] reads them back.
//!
//! - A day D is *closable* once the lake holds lines dated D+2: the lines
//!   of a visit lie within a day of its entry. The first closable day is the
//!   day before the first day with lines (a visit can be entered before
//!   midnight and be logged only after it).
//! - D's rows are computed from the lines dated D-1..D+1 and committed with
//!   a *fingerprint* of those inputs: the calls.sql text and the row counts
//!   of the three queue_log partitions. queue_log only grows and compaction
//!   keeps counts, so a matching fingerprint proves the stored day exact; a
//!   late line for D-1..D+1 (an older file backfilled later) changes it, and
//!   the day is computed again on the next [`CallsRollup::refresh`].
//! - The rows of a day and its fingerprint commit together
//!   ([`TableWriter::replace_dates`]), so a crash leaves the old day or the
//!   new one, never a mix.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{Days, NaiveDate};
use datafusion::execution::context::SessionContext;

use crate::calls::{self, DAY_US, midnight_us};
use crate::error::Result;
use crate::lake::{Lake, Snapshot, TableWriter, WriterLock, WriterSettings};
use crate::live::LiveTable;
use crate::tables::{QUEUE_LOG, QUEUE_LOG_SCHEMA};

/// Name of the derived table of stored closed days of `calls`.
pub const CALLS_BY_DAY: &str = "calls_by_day";

/// Most days computed in one query and commit (bounds memory).
const DAYS_PER_COMMIT: usize = 31;

/// What the closed days of `calls` are computed from, for one queue_log
/// snapshot.
#[derive(Debug, Clone)]
pub struct DayInputs {
    view_hash: u64,
    rows: BTreeMap<NaiveDate, u64>,
    first: NaiveDate,
    last: NaiveDate,
}

impl DayInputs {
    /// The inputs of `queue_log` at `snapshot` for the view text
    /// `calls_sql`; `None` while no day is closable.
    pub fn of(snapshot: &Snapshot, calls_sql: &str) -> Option<Self> {
        let mut rows: BTreeMap<NaiveDate, u64> = BTreeMap::new();
        for file in &snapshot.files {
            if let Some(date) = partition_date(&file.path) {
                *rows.entry(date).or_default() += file.rows;
            }
        }
        let first = rows.keys().next()?.checked_sub_days(Days::new(1))?;
        let last = rows.keys().next_back()?.checked_sub_days(Days::new(2))?;
        (first <= last).then(|| DayInputs {
            view_hash: xxhash_rust::xxh3::xxh3_64(calls_sql.as_bytes()),
            rows,
            first,
            last,
        })
    }

    /// The closable days, oldest first.
    pub fn closable(&self) -> impl Iterator<Item = NaiveDate> + '_ {
        self.first.iter_days().take_while(|d| *d <= self.last)
    }

    /// The fingerprint of day `date`'s inputs.
    pub fn fingerprint(&self, date: NaiveDate) -> String {
        let rows = |d: Option<NaiveDate>| d.and_then(|d| self.rows.get(&d)).copied().unwrap_or(0);
        format!(
            "calls.sql {:016x}; queue_log rows {}/{}/{}",
            self.view_hash,
            rows(date.pred_opt()),
            rows(Some(date)),
            rows(date.succ_opt()),
        )
    }

    /// The first day from which stored rows cannot be used: every visit
    /// entered before it is stored exactly in `stored`. `None` when not even
    /// the first closable day is.
    pub fn fresh_until(&self, stored: &Snapshot) -> Option<NaiveDate> {
        let mut until = None;
        for day in self.closable() {
            if !self.is_stored(day, stored) {
                break;
            }
            until = day.succ_opt();
        }
        until
    }

    /// The closable days whose stored rows are missing or out of date.
    pub fn stale(&self, stored: &Snapshot) -> Vec<NaiveDate> {
        self.closable()
            .filter(|d| !self.is_stored(*d, stored))
            .collect()
    }

    /// Whether `stored` holds day `date` computed from these very inputs.
    fn is_stored(&self, date: NaiveDate, stored: &Snapshot) -> bool {
        stored.inputs.get(&date.to_string()) == Some(&self.fingerprint(date))
    }
}

/// The date of a `date=YYYY-MM-DD/…` data file.
fn partition_date(path: &str) -> Option<NaiveDate> {
    let label = path.strip_prefix("date=")?.split('/').next()?;
    NaiveDate::parse_from_str(label, "%Y-%m-%d").ok()
}

/// What one refresh did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct RefreshReport {
    /// Days (re)computed.
    pub days: usize,
    /// Visits stored for them.
    pub visits: usize,
}

/// The writer of `calls_by_day` (the caller holds the lake's writer lock).
pub struct CallsRollup {
    lake: Lake,
    writer: TableWriter,
}

impl CallsRollup {
    /// Opens the `calls_by_day` writer.
    pub async fn open(lake: &Lake, lock: &WriterLock) -> Result<Self> {
        let schema = calls::calls_schema().await?;
        let ts_column = schema.index_of("enter_ts")?;
        let writer = lake
            .table_writer(
                lock,
                CALLS_BY_DAY,
                schema,
                ts_column,
                WriterSettings::default(),
            )
            .await?;
        Ok(CallsRollup {
            lake: lake.clone(),
            writer,
        })
    }

    /// The stored days as committed.
    pub fn snapshot(&self) -> &Snapshot {
        self.writer.snapshot()
    }

    /// Computes and stores every closable day of `queue_log` (at
    /// `snapshot`) whose stored rows are missing or out of date.
    pub async fn refresh(&mut self, queue_log: &Snapshot) -> Result<RefreshReport> {
        let Some(inputs) = DayInputs::of(queue_log, calls::CALLS_SQL) else {
            return Ok(RefreshReport::default());
        };
        let stale = inputs.stale(self.writer.snapshot());
        if stale.is_empty() {
            return Ok(RefreshReport::default());
        }
        let ctx = SessionContext::new();
        let table = LiveTable::new(
            self.lake.clone(),
            QUEUE_LOG,
            QUEUE_LOG_SCHEMA.clone(),
            queue_log,
        )?;
        ctx.register_table(QUEUE_LOG, Arc::new(table))?;
        let computed = calls::computed_plan(&ctx).await?;
        let mut report = RefreshReport::default();
        for run in contiguous_runs(&stale, DAYS_PER_COMMIT) {
            let (Some(&first), Some(&last)) = (run.first(), run.last()) else {
                continue;
            };
            let from = midnight_us(first);
            let until = midnight_us(last) + DAY_US;
            let plan = calls::computed_between(
                computed.clone(),
                (Some(from - DAY_US), Some(until + DAY_US)),
                (Some(from), Some(until)),
            )?;
            let started = std::time::Instant::now();
            let batches = ctx.execute_logical_plan(plan).await?.collect().await?;
            let visits = batches.iter().map(|b| b.num_rows()).sum::<usize>();
            let computed_s = started.elapsed().as_secs_f64();
            report.visits += visits;
            let fingerprints = run
                .iter()
                .map(|d| (d.to_string(), inputs.fingerprint(*d)))
                .collect();
            self.writer.replace_dates(batches, fingerprints).await?;
            report.days += run.len();
            tracing::debug!(%first, %last, visits, computed_s,
                stored_s = started.elapsed().as_secs_f64() - computed_s, "stored days of calls");
        }
        self.writer.vacuum().await?;
        Ok(report)
    }
}

/// Splits ascending `days` into runs of consecutive days, at most `max` long.
fn contiguous_runs(days: &[NaiveDate], max: usize) -> Vec<Vec<NaiveDate>> {
    let mut runs: Vec<Vec<NaiveDate>> = Vec::new();
    for &day in days {
        match runs.last_mut() {
            Some(run) if run.len() < max && run.last().and_then(|d| d.succ_opt()) == Some(day) => {
                run.push(day)
            }
            _ => runs.push(vec![day]),
        }
    }
    runs
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lake::DataFile;

    fn snapshot(files: &[(&str, u64)]) -> Snapshot {
        Snapshot {
            files: files
                .iter()
                .map(|(p, rows)| DataFile {
                    path: format!("date={p}/part-1-0.parquet"),
                    rows: *rows,
                    bytes: 1,
                })
                .collect(),
            ..Snapshot::default()
        }
    }

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn days_close_two_days_after_and_start_the_day_before() {
        let ql = snapshot(&[("2024-01-01", 10), ("2024-01-02", 20), ("2024-01-03", 5)]);
        let inputs = DayInputs::of(&ql, "v1").unwrap();
        let days: Vec<_> = inputs.closable().collect();
        assert_eq!(days, vec![day("2023-12-31"), day("2024-01-01")]);
        assert!(
            inputs
                .fingerprint(day("2024-01-01"))
                .ends_with("rows 0/10/20")
        );
        assert!(DayInputs::of(&snapshot(&[("2024-01-01", 1)]), "v1").is_none());
    }

    #[test]
    fn a_late_line_or_a_new_view_makes_days_stale() {
        let ql = snapshot(&[
            ("2024-01-01", 10),
            ("2024-01-02", 20),
            ("2024-01-03", 5),
            ("2024-01-04", 1),
        ]);
        let inputs = DayInputs::of(&ql, "v1").unwrap();
        let mut stored = Snapshot::default();
        for d in inputs.closable() {
            stored.inputs.insert(d.to_string(), inputs.fingerprint(d));
        }
        assert!(inputs.stale(&stored).is_empty());
        assert_eq!(inputs.fresh_until(&stored), Some(day("2024-01-03")));

        // One more line on Jan 2 touches Jan 1 and Jan 2 (and Jan 3, not yet closed).
        let late = snapshot(&[
            ("2024-01-01", 10),
            ("2024-01-02", 21),
            ("2024-01-03", 5),
            ("2024-01-04", 1),
        ]);
        let after = DayInputs::of(&late, "v1").unwrap();
        assert_eq!(
            after.stale(&stored),
            vec![day("2024-01-01"), day("2024-01-02")]
        );
        assert_eq!(after.fresh_until(&stored), Some(day("2024-01-01")));

        let new_view = DayInputs::of(&ql, "v2").unwrap();
        assert_eq!(new_view.fresh_until(&stored), None);
    }

    #[test]
    fn runs_are_consecutive_and_bounded() {
        let days = [
            day("2024-01-01"),
            day("2024-01-02"),
            day("2024-01-03"),
            day("2024-01-05"),
        ];
        let runs = contiguous_runs(&days, 2);
        assert_eq!(
            runs,
            vec![
                vec![day("2024-01-01"), day("2024-01-02")],
                vec![day("2024-01-03")],
                vec![day("2024-01-05")]
            ]
        );
    }
}
