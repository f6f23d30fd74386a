//! Reports, pure: definitions and periods in, file bytes out.
//!
//! Modules:
//! - [`definition`]: the built-in reports and `[[reports]]` entries
//!   (queries, period, queues, formats, cron, recipients, retention).
//! - [`query_file`]: a report query (`sql/reports/*.sql`): its header
//!   (title, chart, summary) and its `$period_start`/`$period_end`/
//!   `$time_zone` parameters.
//! - [`period`]: yesterday, last week, last month or custom dates as UTC
//!   instants of local days.
//! - [`model`]: what renderers draw (sections, charts).
//! - [`values`]: cells out of Arrow arrays, as people and CSV read them.
//! - [`xlsx`], [`pdf`], [`csv`]: the renderers.
//!
//! Running queries, the job queue and delivery are the service's
//! (`api/src/reports/`).

pub mod csv;
pub mod definition;
pub mod model;
pub mod pdf;
pub mod period;
pub mod query_file;
pub mod values;
pub mod xlsx;

/// Why a report could not be rendered.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// The spreadsheet writer refused something.
    #[error("xlsx: {0}")]
    Xlsx(#[from] rust_xlsxwriter::XlsxError),
    /// The PDF writer refused something.
    #[error("pdf: {0}")]
    Pdf(String),
    /// A column could not be converted for writing.
    #[error("a column could not be written: {0}")]
    Arrow(#[from] arrow::error::ArrowError),
    /// A chart names a column the result does not have.
    #[error("query {query:?}: its chart names column {column:?}, which the result lacks")]
    Chart {
        /// The query.
        query: String,
        /// The column.
        column: String,
    },
    /// More rows or columns than a sheet holds.
    #[error("too many {0} for one sheet")]
    TooLarge(&'static str),
}
