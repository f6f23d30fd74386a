//! A report job as the queue stores it, and where its outputs go.
//!
//! The period is resolved when the job is made, so a retry tomorrow
//! renders the same days; recipients are fixed then too. Outputs have
//! deterministic paths (report, period, queues), so a job that runs twice
//! writes the same files.

use std::path::{Path, PathBuf};

use queuelake_reports::definition::Format;
use queuelake_reports::period::Window;
use serde::{Deserialize, Serialize};

/// One report to render (and deliver).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReportJob {
    /// The report's name.
    pub report: String,
    /// The period.
    pub window: Window,
    /// Only these queues (empty: every queue).
    pub queues: Vec<String>,
    /// Formats to render.
    pub formats: Vec<Format>,
    /// Who gets it by e-mail (empty: nobody; outputs are still kept).
    pub recipients: Vec<String>,
    /// `schedule`, or the name of the token that asked.
    pub requested_by: String,
}

/// What a finished job produced (stored as the job's result).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct JobOutcome {
    /// Output file names, in the job's folder.
    pub files: Vec<String>,
    /// Rows per query.
    pub rows: Vec<QueryRows>,
    /// How it was delivered: `smtp`, `outbox`, `already` (an earlier
    /// attempt delivered it) or `none` (no recipients).
    pub delivery: String,
    /// Seconds the queries took.
    pub query_seconds: f64,
    /// Seconds the rendering took.
    pub render_seconds: f64,
}

/// A query's row count.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct QueryRows {
    /// The query.
    pub query: String,
    /// Rows it returned.
    pub rows: usize,
}

/// The characters a path component keeps; others become `-`.
fn path_safe(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect()
}

impl ReportJob {
    /// The outputs' stem: `daily_queue_summary-2024-03-05`, with the
    /// queues when the job has its own (`…-2024-03-05-sales+support`).
    pub fn stem(&self) -> String {
        let mut stem = format!(
            "{}-{}",
            path_safe(&self.report),
            path_safe(&self.window.label)
        );
        if !self.queues.is_empty() {
            let mut queues: Vec<String> = self.queues.iter().map(|q| path_safe(q)).collect();
            queues.sort();
            stem.push('-');
            stem.push_str(&queues.join("+"));
        }
        stem
    }

    /// The folder of this job's outputs under `root` (`<data>/reports`).
    pub fn folder(&self, root: &Path) -> PathBuf {
        root.join(path_safe(&self.report)).join(self.stem())
    }

    /// A file's name: `STEM.xlsx`, `STEM.pdf`, `STEM-QUERY.csv`.
    pub fn file_name(&self, format: Format, query: Option<&str>) -> String {
        match query {
            Some(query) => format!(
                "{}-{}.{}",
                self.stem(),
                path_safe(query),
                format.extension()
            ),
            None => format!("{}.{}", self.stem(), format.extension()),
        }
    }
}

/// A job for tests: the daily summary of 2024-03-05 (UTC), as CSV, for
/// boss@example.com.
#[cfg(test)]
pub(crate) fn example_job() -> ReportJob {
    ReportJob {
        report: "daily_queue_summary".into(),
        window: Window {
            label: "2024-03-05".into(),
            start: "2024-03-05T00:00:00Z".parse().expect("an instant"),
            end: "2024-03-06T00:00:00Z".parse().expect("an instant"),
            time_zone: "UTC".into(),
        },
        queues: Vec::new(),
        formats: vec![Format::Csv],
        recipients: vec!["boss@example.com".into()],
        requested_by: "test".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_paths_are_deterministic_and_safe() {
        let job = ReportJob {
            queues: vec!["support".into(), "../sales".into()],
            ..example_job()
        };
        assert_eq!(
            job.stem(),
            "daily_queue_summary-2024-03-05----sales+support"
        );
        assert_eq!(
            job.folder(Path::new("/lake/reports")),
            Path::new(
                "/lake/reports/daily_queue_summary/daily_queue_summary-2024-03-05----sales+support"
            )
        );
        assert_eq!(
            job.file_name(Format::Csv, Some("queue_summary")),
            "daily_queue_summary-2024-03-05----sales+support-queue_summary.csv"
        );
    }
}
