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

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{Float64Array, Int64Array, RecordBatch, StringArray};
    use arrow::datatypes::{DataType, Field, Schema};

    use super::*;
    use crate::model::{Chart, ChartKind, Presentation, Section};

    /// Many rows continue over pages, every page numbered, both fonts
    /// embedded (as subsets: `/FontFile2`).
    #[test]
    fn long_tables_continue_over_numbered_pages_with_embedded_fonts() {
        let schema = Arc::new(Schema::new(vec![
            Field::new("agent", DataType::Utf8, false),
            Field::new("answered", DataType::Int64, false),
            Field::new("occupancy", DataType::Float64, false),
        ]));
        let n = 200;
        let batch = RecordBatch::try_new(
            schema,
            vec![
                Arc::new(StringArray::from(
                    (0..n).map(|i| format!("agent {i}")).collect::<Vec<_>>(),
                )),
                Arc::new(Int64Array::from((0..n).collect::<Vec<i64>>())),
                Arc::new(Float64Array::from(
                    (0..n).map(|i| i as f64 / 400.0).collect::<Vec<_>>(),
                )),
            ],
        )
        .unwrap();
        let chart = Chart {
            kind: ChartKind::Bar,
            category: "agent".into(),
            series: vec!["answered".into()],
        };
        let batches = [batch];
        let report = Report {
            title: "Weekly agent performance",
            subtitle: "Mon 2024-03-04 to Sun 2024-03-10 (UTC) · all queues",
            generated: "2024-03-11 06:30 UTC",
            time_zone: chrono_tz::UTC,
            sections: vec![Section {
                name: "agents",
                title: "Agents",
                presentation: Presentation::Table,
                chart: Some(&chart),
                batches: &batches,
            }],
        };
        let pages = layout::layout(&report).unwrap();
        assert!(pages.len() >= 5, "{} pages", pages.len());
        let texts = |page: &Vec<layout::Op>| -> Vec<String> {
            page.iter()
                .filter_map(|op| match op {
                    layout::Op::Text { text, .. } => Some(text.clone()),
                    _ => None,
                })
                .collect()
        };
        let total = pages.len();
        for (i, page) in pages.iter().enumerate() {
            let page_texts = texts(page);
            let footer = format!("page {} of {total}", i + 1);
            assert!(
                page_texts.iter().any(|t| t.ends_with(&footer)),
                "page {i}: {page_texts:?}"
            );
            // Each page of the table repeats its header.
            assert!(
                page_texts.iter().any(|t| t == "Answered"),
                "page {i} has no header"
            );
        }
        let all: Vec<String> = pages.iter().flat_map(texts).collect();
        assert!(all.contains(&"agent 199".to_owned()));
        assert!(all.contains(&"49.8 %".to_owned()));
        assert!(all.iter().any(|t| t.starts_with("First 25 of 200 rows")));
        let bytes = pdf(&report).unwrap();
        assert!(bytes.starts_with(b"%PDF-"));
        let fonts = bytes
            .windows(b"/FontFile2".len())
            .filter(|w| *w == b"/FontFile2")
            .count();
        assert_eq!(fonts, 2, "regular and bold embedded");
    }
}
