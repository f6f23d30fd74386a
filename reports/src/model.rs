//! What every renderer draws: a report made of titled sections, each a
//! query's result with how to present it.

use arrow::array::RecordBatch;
use chrono_tz::Tz;

/// A report ready to render.
pub struct Report<'a> {
    /// The report's title ("Daily queue summary").
    pub title: &'a str,
    /// What it covers, one line ("2024-03-05, Europe/Berlin · queues sales, support").
    pub subtitle: &'a str,
    /// When it was made, as printed in the footer.
    pub generated: &'a str,
    /// The zone instants are shown in.
    pub time_zone: Tz,
    /// The sections in order.
    pub sections: Vec<Section<'a>>,
}

/// One query's result and how it is shown.
pub struct Section<'a> {
    /// The query's name (the sheet's and the CSV file's name).
    pub name: &'a str,
    /// The section's heading.
    pub title: &'a str,
    /// How the rows are shown.
    pub presentation: Presentation,
    /// A chart of the rows, if any.
    pub chart: Option<&'a Chart>,
    /// The result's batches (all with one schema; possibly none).
    pub batches: &'a [RecordBatch],
}

/// How a section's rows are shown.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Presentation {
    /// A table with a header row.
    #[default]
    Table,
    /// The first row's columns as headline figures (KPI tiles in the PDF),
    /// for one-row results such as a period's totals.
    Summary,
}

/// A chart drawn from a section's columns.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Chart {
    /// Lines (series over time) or bars (one bar group per row).
    pub kind: ChartKind,
    /// The column along the category axis.
    pub category: String,
    /// The columns drawn, one series each.
    pub series: Vec<String>,
}

/// A chart's type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChartKind {
    /// One line per series (interval series).
    Line,
    /// Horizontal bars, one group per row (agent tables).
    Bar,
}
