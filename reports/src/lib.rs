//! Reports rendered from query results, pure: batches in, file bytes out.
//!
//! Modules:
//! - [`xlsx`]: a workbook with a sheet per query (typed cells, frozen
//!   header, autofilter).
//!
//! PDF, charts, definitions, scheduling and delivery join with the rest
//! of the reports step.

pub mod xlsx;

/// Why a report could not be rendered.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// The spreadsheet writer refused something.
    #[error("xlsx: {0}")]
    Xlsx(#[from] rust_xlsxwriter::XlsxError),
    /// A column could not be converted for writing.
    #[error("a column could not be written: {0}")]
    Arrow(#[from] arrow::error::ArrowError),
    /// More rows or columns than a sheet holds.
    #[error("too many {0} for one sheet")]
    TooLarge(&'static str),
}
