//! A workbook from a report: an "About" sheet (title, period, zone, when
//! made), then one sheet per query with typed cells (numbers as numbers,
//! instants as Excel date-times on the report's local clock, shares with a
//! percent format, text, booleans, NULL as an empty cell), a bold frozen
//! header row with an autofilter, and a native Excel chart where the
//! query asks for one (lines for interval series, bars for agent or queue
//! tables).

use rust_xlsxwriter::{Chart, ChartType, Format, Workbook, Worksheet};

use crate::ReportError;
use crate::model::{ChartKind, Report, Section};
use crate::values::{self, Value};

/// Days from the Excel epoch (1899-12-30) to the Unix epoch.
const EXCEL_UNIX_DAYS: f64 = 25_569.0;

/// The workbook's bytes.
pub fn workbook(report: &Report<'_>) -> Result<Vec<u8>, ReportError> {
    let mut book = Workbook::new();
    about(book.add_worksheet(), report)?;
    let mut used: Vec<String> = vec!["About".into()];
    for section in &report.sections {
        let name = sheet_name(section.name, &used);
        used.push(name.clone());
        let ws = book.add_worksheet();
        ws.set_name(&name)?;
        sheet(ws, &name, section, report)?;
    }
    Ok(book.save_to_buffer()?)
}

/// A unique sheet name of at most 31 characters.
fn sheet_name(query: &str, used: &[String]) -> String {
    let base: String = query.chars().take(28).collect();
    let mut name = base.clone();
    let mut n = 2;
    while used.iter().any(|u| u.eq_ignore_ascii_case(&name)) {
        name = format!("{base}_{n}");
        n += 1;
    }
    name
}

fn about(ws: &mut Worksheet, report: &Report<'_>) -> Result<(), ReportError> {
    ws.set_name("About")?;
    let bold = Format::new().set_bold();
    ws.write_string_with_format(
        0,
        0,
        report.title,
        &Format::new().set_bold().set_font_size(14),
    )?;
    let rows = [
        ("Period", report.subtitle),
        ("Times shown in", report.time_zone.name()),
        ("Generated", report.generated),
    ];
    for (i, (key, value)) in rows.into_iter().enumerate() {
        let row = 2 + i as u32;
        ws.write_string_with_format(row, 0, key, &bold)?;
        ws.write_string(row, 1, value)?;
    }
    let first = 2 + rows.len() as u32 + 1;
    ws.write_string_with_format(first, 0, "Sheet", &bold)?;
    ws.write_string_with_format(first, 1, "Contents", &bold)?;
    for (i, section) in report.sections.iter().enumerate() {
        ws.write_string(first + 1 + i as u32, 0, section.name)?;
        ws.write_string(first + 1 + i as u32, 1, section.title)?;
    }
    ws.set_column_width(0, 18)?;
    ws.set_column_width(1, 60)?;
    Ok(())
}

fn sheet(
    ws: &mut Worksheet,
    name: &str,
    section: &Section<'_>,
    report: &Report<'_>,
) -> Result<(), ReportError> {
    let Some(schema) = section.batches.first().map(|b| b.schema()) else {
        ws.write_string(0, 0, "no rows")?;
        return Ok(());
    };
    let header = Format::new().set_bold();
    let instant = Format::new().set_num_format("yyyy-mm-dd hh:mm");
    let percent = Format::new().set_num_format("0.0%");
    let columns = values::columns(section.batches)?;
    let rows = columns.first().map_or(0, Vec::len);
    let last_row = u32::try_from(rows).map_err(|_| ReportError::TooLarge("rows"))?;
    if rows >= 1_048_576 {
        return Err(ReportError::TooLarge("rows"));
    }
    for (c, (field, cells)) in schema.fields().iter().zip(&columns).enumerate() {
        let col = u16::try_from(c).map_err(|_| ReportError::TooLarge("columns"))?;
        ws.write_string_with_format(0, col, field.name(), &header)?;
        ws.set_column_width(col, (field.name().len() as f64 + 2.0).max(12.0))?;
        let ratio = values::is_ratio(field.name());
        for (r, value) in cells.iter().enumerate() {
            let row = 1 + r as u32;
            match value {
                Value::Null => {}
                Value::Integer(i) => {
                    ws.write_number(row, col, *i as f64)?;
                }
                Value::Number(x) if ratio => {
                    ws.write_number_with_format(row, col, *x, &percent)?;
                }
                Value::Number(x) => {
                    ws.write_number(row, col, *x)?;
                }
                Value::Instant(us) => {
                    let local = values::local(*us, report.time_zone)
                        .map_or(*us, |t| t.naive_local().and_utc().timestamp_micros());
                    let days = local as f64 / 86_400e6 + EXCEL_UNIX_DAYS;
                    ws.write_number_with_format(row, col, days, &instant)?;
                }
                Value::Boolean(b) => {
                    ws.write_boolean(row, col, *b)?;
                }
                Value::Text(s) => {
                    ws.write_string(row, col, s)?;
                }
            }
        }
    }
    ws.set_freeze_panes(1, 0)?;
    let last_col = schema.fields().len().saturating_sub(1) as u16;
    ws.autofilter(0, 0, last_row, last_col)?;
    if let (Some(spec), true) = (section.chart, rows > 0) {
        let index = |column: &str| {
            schema
                .index_of(column)
                .map(|i| i as u16)
                .map_err(|_| ReportError::Chart {
                    query: section.name.to_owned(),
                    column: column.to_owned(),
                })
        };
        let category = index(&spec.category)?;
        let mut chart = Chart::new(match spec.kind {
            ChartKind::Line => ChartType::Line,
            ChartKind::Bar => ChartType::Bar,
        });
        chart.title().set_name(section.title);
        for series in &spec.series {
            let col = index(series)?;
            chart
                .add_series()
                .set_name((name, 0, col))
                .set_categories((name, 1, category, last_row, category))
                .set_values((name, 1, col, last_row, col));
        }
        if spec.kind == ChartKind::Line {
            chart.x_axis().set_num_format("dd hh:mm");
        }
        chart.set_width(760).set_height(380);
        ws.insert_chart(1, last_col + 2, &chart)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{
        BooleanArray, Float64Array, Int64Array, RecordBatch, StringArray, TimestampMicrosecondArray,
    };
    use arrow::datatypes::{DataType, Field, Schema, TimeUnit};
    use calamine::{Data, Reader, Xlsx};

    use super::*;
    use crate::model::{Chart as ChartSpec, Presentation};

    #[test]
    fn the_workbook_reads_back_cell_by_cell() {
        let schema = Arc::new(Schema::new(vec![
            Field::new("queue", DataType::Utf8, true),
            Field::new("offered", DataType::Int64, true),
            Field::new("service_level", DataType::Float64, true),
            Field::new(
                "interval_start",
                DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
                true,
            ),
            Field::new("late", DataType::Boolean, true),
        ]));
        let batch = RecordBatch::try_new(
            schema,
            vec![
                Arc::new(StringArray::from(vec![Some("sales"), None])),
                Arc::new(Int64Array::from(vec![Some(42), Some(7)])),
                Arc::new(Float64Array::from(vec![Some(0.875), None])),
                Arc::new(
                    TimestampMicrosecondArray::from(vec![Some(1_709_626_500_000_000), None])
                        .with_timezone("UTC"),
                ),
                Arc::new(BooleanArray::from(vec![Some(true), Some(false)])),
            ],
        )
        .unwrap();
        let chart = ChartSpec {
            kind: ChartKind::Line,
            category: "interval_start".into(),
            series: vec!["offered".into()],
        };
        let batches = [batch];
        let report = Report {
            title: "Daily queue summary",
            subtitle: "2024-03-05",
            generated: "2024-03-06 06:00",
            time_zone: "Europe/Berlin".parse().unwrap(),
            sections: vec![Section {
                name: "interval_series",
                title: "Calls by interval",
                presentation: Presentation::Table,
                chart: Some(&chart),
                batches: &batches,
            }],
        };
        let bytes = workbook(&report).unwrap();
        // The chart is a native Excel chart part of the package.
        let has = |name: &[u8]| bytes.windows(name.len()).any(|w| w == name);
        assert!(has(b"xl/charts/chart1.xml"), "no chart part");
        let mut book = Xlsx::new(std::io::Cursor::new(bytes)).unwrap();
        assert_eq!(book.sheet_names(), ["About", "interval_series"]);
        let range = book.worksheet_range("interval_series").unwrap();
        let cell = |r: u32, c: u32| range.get_value((r, c)).cloned().unwrap_or(Data::Empty);
        assert_eq!(cell(0, 2), Data::String("service_level".into()));
        assert_eq!(cell(1, 0), Data::String("sales".into()));
        assert_eq!(cell(2, 0), Data::Empty);
        assert_eq!(cell(1, 1), Data::Float(42.0));
        assert_eq!(cell(1, 2), Data::Float(0.875));
        assert_eq!(cell(2, 2), Data::Empty);
        // 08:15 UTC is 09:15 in Berlin: the sheet shows local wall time.
        let Data::DateTime(when) = cell(1, 3) else {
            panic!("not a date-time: {:?}", cell(1, 3))
        };
        let expected = 45_356.0 + (9.0 * 60.0 + 15.0) / 1440.0;
        assert!((when.as_f64() - expected).abs() < 1e-9, "{}", when.as_f64());
        assert_eq!(cell(1, 4), Data::Bool(true));
        assert_eq!(cell(2, 4), Data::Bool(false));
        let about = book.worksheet_range("About").unwrap();
        assert_eq!(
            about.get_value((0, 0)),
            Some(&Data::String("Daily queue summary".into()))
        );
    }

    #[test]
    fn a_chart_over_a_missing_column_is_named() {
        let schema = Arc::new(Schema::new(vec![Field::new("a", DataType::Int64, true)]));
        let batch =
            RecordBatch::try_new(schema, vec![Arc::new(Int64Array::from(vec![1]))]).unwrap();
        let chart = ChartSpec {
            kind: ChartKind::Bar,
            category: "agent".into(),
            series: vec!["a".into()],
        };
        let batches = [batch];
        let report = Report {
            title: "T",
            subtitle: "",
            generated: "",
            time_zone: chrono_tz::UTC,
            sections: vec![Section {
                name: "q",
                title: "Q",
                presentation: Presentation::Table,
                chart: Some(&chart),
                batches: &batches,
            }],
        };
        let err = workbook(&report).unwrap_err();
        assert_eq!(
            err.to_string(),
            "query \"q\": its chart names column \"agent\", which the result lacks"
        );
    }
}
