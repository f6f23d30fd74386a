//! The PDF renderer: title, headline figures, charts and tables that
//! continue over pages with their header repeated, page numbers, and the
//! embedded DejaVu Sans fonts. No network, no system fonts.
//!
//! - [`layout`]: the report as pages of drawing operations (pure data).
//! - [`chart`]: line and bar charts as operations.
//! - [`fonts`]: the embedded fonts and text measurement.
//! - [`draw`]: operations into PDF bytes (krilla).

pub mod chart;
pub mod draw;
pub mod fonts;
pub mod layout;

use crate::ReportError;
use crate::model::Report;

/// The report as PDF bytes.
pub fn pdf(report: &Report<'_>) -> Result<Vec<u8>, ReportError> {
    let pages = layout::layout(report)?;
    draw::draw(&pages, report.title)
}
