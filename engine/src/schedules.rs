//! Published schedules, immutable: `schedules` (one row per published
//! version), `schedule_shifts` (one row per agent shift and per break in
//! it) and `schedule_coverage` (agents scheduled against the requirement,
//! per interval). A version is written once, in one commit per table, and
//! never changed; a new publication is a new version.
//!
//! A schedule covers a team: one or more queues whose requirement it
//! pools (`queues`, comma-separated and sorted). A scoped reader sees a
//! schedule when every one of its queues is in the scope.

use std::sync::{Arc, LazyLock};

use arrow::array::RecordBatch;
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};

use crate::error::Result;
use crate::lake::{Lake, Snapshot, TableWriter, WriterLock, WriterSettings};
use crate::plans::{append, floats, integers, number, texts, timestamp, timestamps};

/// Name of the table of published versions.
pub const SCHEDULES: &str = "schedules";
/// Name of the table of their shifts and breaks.
pub const SCHEDULE_SHIFTS: &str = "schedule_shifts";
/// Name of the table of their coverage per interval.
pub const SCHEDULE_COVERAGE: &str = "schedule_coverage";

/// Index of `published_at` (the partitioning column) in the three schemas.
const PUBLISHED_AT_COLUMN: usize = 2;

fn key_fields() -> Vec<Field> {
    vec![
        Field::new("schedule_id", DataType::Utf8, false),
        Field::new("version", DataType::Int64, false),
        timestamp("published_at"),
        Field::new("queues", DataType::Utf8, false),
    ]
}

fn schema(rest: Vec<Field>) -> SchemaRef {
    let mut fields = key_fields();
    fields.extend(rest);
    Arc::new(Schema::new(fields))
}

/// Schema of `schedules`.
pub static SCHEDULES_SCHEMA: LazyLock<SchemaRef> = LazyLock::new(|| {
    schema(vec![
        Field::new("published_by", DataType::Utf8, false),
        timestamp("week_start"),
        Field::new("interval_s", DataType::Int64, false),
        Field::new("staffing_run_id", DataType::Utf8, true),
        Field::new("shifts", DataType::Int64, false),
        number("paid_hours", false),
        number("short_agent_hours", false),
        number("surplus_agent_hours", false),
        number("bound", true),
    ])
});

/// Schema of `schedule_shifts`.
pub static SCHEDULE_SHIFTS_SCHEMA: LazyLock<SchemaRef> = LazyLock::new(|| {
    schema(vec![
        Field::new("shift_no", DataType::Int64, false),
        Field::new("activity", DataType::Utf8, false),
        Field::new("agent", DataType::Utf8, true),
        timestamp("start_ts"),
        timestamp("end_ts"),
        Field::new("paid_min", DataType::Int64, false),
    ])
});

/// Schema of `schedule_coverage`.
pub static SCHEDULE_COVERAGE_SCHEMA: LazyLock<SchemaRef> = LazyLock::new(|| {
    schema(vec![
        timestamp("interval_start"),
        number("required", false),
        number("scheduled", false),
    ])
});

/// What identifies a published version.
#[derive(Debug, Clone, PartialEq)]
pub struct VersionKey {
    /// The schedule.
    pub schedule_id: String,
    /// Its version, from 1.
    pub version: i64,
    /// When it was published, microseconds since the epoch.
    pub published_at_us: i64,
    /// The team's queues, comma-separated and sorted.
    pub queues: String,
}

/// A `schedules` row's own values.
#[derive(Debug, Clone, PartialEq)]
pub struct VersionRow {
    /// Who published it (the token's name).
    pub published_by: String,
    /// Monday 00:00 of its week (local), as a UTC instant in microseconds.
    pub week_start_us: i64,
    /// Interval length, seconds.
    pub interval_s: i64,
    /// The staffing run it was built from.
    pub staffing_run_id: Option<String>,
    /// Agent shifts in it.
    pub shifts: i64,
    /// Paid hours.
    pub paid_hours: f64,
    /// Agent-hours short of the requirement.
    pub short_agent_hours: f64,
    /// Agent-hours above it.
    pub surplus_agent_hours: f64,
    /// The solver's lower bound on its objective, when solved.
    pub bound: Option<f64>,
}

/// A `schedule_shifts` row: a shift, or a break inside it.
#[derive(Debug, Clone, PartialEq)]
pub struct ActivityRow {
    /// The shift it belongs to (numbered within the version).
    pub shift_no: i64,
    /// `shift` or `break`.
    pub activity: &'static str,
    /// The agent (none when not rostered).
    pub agent: Option<String>,
    /// Start, microseconds since the epoch.
    pub start_us: i64,
    /// End.
    pub end_us: i64,
    /// Paid minutes (a break's: 0 when unpaid).
    pub paid_min: i64,
}

/// A `schedule_coverage` row.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CoverageRow {
    /// The interval's start, microseconds since the epoch.
    pub interval_start_us: i64,
    /// Agents required.
    pub required: f64,
    /// Agents scheduled on the phones.
    pub scheduled: f64,
}

fn keyed(
    key: &VersionKey,
    rows: usize,
    mut rest: Vec<arrow::array::ArrayRef>,
) -> Vec<arrow::array::ArrayRef> {
    let mut columns = vec![
        texts(std::iter::repeat_n(Some(key.schedule_id.as_str()), rows)),
        integers(std::iter::repeat_n(key.version, rows)),
        timestamps(std::iter::repeat_n(key.published_at_us, rows)),
        texts(std::iter::repeat_n(Some(key.queues.as_str()), rows)),
    ];
    columns.append(&mut rest);
    columns
}

/// The three batches of one published version.
pub fn version_batches(
    key: &VersionKey,
    version: &VersionRow,
    activities: &[ActivityRow],
    coverage: &[CoverageRow],
) -> Result<[RecordBatch; 3]> {
    let v = version;
    let schedules = RecordBatch::try_new(
        SCHEDULES_SCHEMA.clone(),
        keyed(
            key,
            1,
            vec![
                texts(std::iter::once(Some(v.published_by.as_str()))),
                timestamps(std::iter::once(v.week_start_us)),
                integers(std::iter::once(v.interval_s)),
                texts(std::iter::once(v.staffing_run_id.as_deref())),
                integers(std::iter::once(v.shifts)),
                floats(std::iter::once(Some(v.paid_hours))),
                floats(std::iter::once(Some(v.short_agent_hours))),
                floats(std::iter::once(Some(v.surplus_agent_hours))),
                floats(std::iter::once(v.bound)),
            ],
        ),
    )?;
    let a = || activities.iter();
    let shifts = RecordBatch::try_new(
        SCHEDULE_SHIFTS_SCHEMA.clone(),
        keyed(
            key,
            activities.len(),
            vec![
                integers(a().map(|r| r.shift_no)),
                texts(a().map(|r| Some(r.activity))),
                texts(a().map(|r| r.agent.as_deref())),
                timestamps(a().map(|r| r.start_us)),
                timestamps(a().map(|r| r.end_us)),
                integers(a().map(|r| r.paid_min)),
            ],
        ),
    )?;
    let c = || coverage.iter();
    let cover = RecordBatch::try_new(
        SCHEDULE_COVERAGE_SCHEMA.clone(),
        keyed(
            key,
            coverage.len(),
            vec![
                timestamps(c().map(|r| r.interval_start_us)),
                floats(c().map(|r| Some(r.required))),
                floats(c().map(|r| Some(r.scheduled))),
            ],
        ),
    )?;
    Ok([schedules, shifts, cover])
}

/// The writer of the three tables (the caller holds the lake's lock).
pub struct ScheduleWriter {
    writers: [TableWriter; 3],
}

impl ScheduleWriter {
    /// Opens the three writers.
    pub async fn open(lake: &Lake, lock: &WriterLock) -> Result<Self> {
        let open = |name: &'static str, schema: &SchemaRef| {
            lake.table_writer(
                lock,
                name,
                schema.clone(),
                PUBLISHED_AT_COLUMN,
                WriterSettings::default(),
            )
        };
        Ok(ScheduleWriter {
            writers: [
                open(SCHEDULES, &SCHEDULES_SCHEMA).await?,
                open(SCHEDULE_SHIFTS, &SCHEDULE_SHIFTS_SCHEMA).await?,
                open(SCHEDULE_COVERAGE, &SCHEDULE_COVERAGE_SCHEMA).await?,
            ],
        })
    }

    /// Commits a version: shifts and coverage first, then its `schedules`
    /// row, so a reader that finds the version finds all of it. Returns
    /// the three tables' snapshots (in the order of [`SCHEDULES`],
    /// [`SCHEDULE_SHIFTS`], [`SCHEDULE_COVERAGE`]).
    pub async fn publish(&mut self, batches: [RecordBatch; 3]) -> Result<[Snapshot; 3]> {
        let [version, shifts, coverage] = batches;
        let [w_version, w_shifts, w_coverage] = &mut self.writers;
        let shifts = append(w_shifts, shifts).await?;
        let coverage = append(w_coverage, coverage).await?;
        let version = append(w_version, version).await?;
        Ok([version, shifts, coverage])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{Array, AsArray};

    #[test]
    fn a_version_becomes_three_batches() {
        let key = VersionKey {
            schedule_id: "sc-1".into(),
            version: 2,
            published_at_us: 1_700_000_000_000_000,
            queues: "sales,support".into(),
        };
        let version = VersionRow {
            published_by: "planner".into(),
            week_start_us: 1_699_833_600_000_000,
            interval_s: 900,
            staffing_run_id: None,
            shifts: 1,
            paid_hours: 8.0,
            short_agent_hours: 0.0,
            surplus_agent_hours: 1.5,
            bound: Some(7.5),
        };
        let activity = |activity, agent: Option<&str>| ActivityRow {
            shift_no: 0,
            activity,
            agent: agent.map(str::to_owned),
            start_us: 0,
            end_us: 1,
            paid_min: 480,
        };
        let [v, s, c] = version_batches(
            &key,
            &version,
            &[
                activity("shift", Some("Ana")),
                activity("break", Some("Ana")),
            ],
            &[CoverageRow {
                interval_start_us: 0,
                required: 2.0,
                scheduled: 1.0,
            }],
        )
        .unwrap();
        assert_eq!((v.num_rows(), s.num_rows(), c.num_rows()), (1, 2, 1));
        assert!(v.column_by_name("staffing_run_id").unwrap().is_null(0));
        let queues = s.column_by_name("queues").unwrap().as_string::<i32>();
        assert_eq!(queues.value(1), "sales,support");
    }
}
