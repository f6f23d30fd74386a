//! A workbook from query results: one sheet per query, typed cells
//! (numbers as numbers, instants as Excel date-times in UTC with a date
//! format, text as text, booleans as booleans, NULL as an empty cell), a
//! bold frozen header row with an autofilter, and columns wide enough for
//! their header.

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Float64Type, Int64Type, TimeUnit};
use rust_xlsxwriter::{Format, Workbook, Worksheet};

use crate::ReportError;

/// One sheet: its name and the query's result.
pub struct Sheet<'a> {
    /// The sheet's name (at most 31 characters in Excel; longer is cut).
    pub name: &'a str,
    /// The result's batches (all with the same schema).
    pub batches: &'a [RecordBatch],
}

/// Seconds from the Excel epoch (1899-12-30) to the Unix epoch.
const EXCEL_UNIX_DAYS: f64 = 25_569.0;

/// How a column is written.
enum Kind {
    Number,
    Instant,
    Text,
    Boolean,
}

fn kind(data_type: &DataType) -> Kind {
    match data_type {
        DataType::Timestamp(_, _) | DataType::Date32 | DataType::Date64 => Kind::Instant,
        DataType::Boolean => Kind::Boolean,
        t if t.is_numeric() => Kind::Number,
        _ => Kind::Text,
    }
}

/// The workbook's bytes.
pub fn workbook(sheets: &[Sheet<'_>]) -> Result<Vec<u8>, ReportError> {
    let mut book = Workbook::new();
    let header = Format::new().set_bold();
    let instant = Format::new().set_num_format("yyyy-mm-dd hh:mm:ss");
    for sheet in sheets {
        let ws = book.add_worksheet();
        let name: String = sheet.name.chars().take(31).collect();
        ws.set_name(&name)?;
        let Some(schema) = sheet.batches.first().map(RecordBatch::schema) else {
            continue;
        };
        for (c, field) in schema.fields().iter().enumerate() {
            let col = u16::try_from(c).map_err(|_| ReportError::TooLarge("columns"))?;
            ws.write_string_with_format(0, col, field.name(), &header)?;
            ws.set_column_width(col, (field.name().len() as f64 + 2.0).max(12.0))?;
        }
        let mut row: u32 = 1;
        for batch in sheet.batches {
            for (c, column) in batch.columns().iter().enumerate() {
                let col = c as u16;
                write_column(ws, row, col, column.as_ref(), &instant)?;
            }
            row = row
                .checked_add(
                    u32::try_from(batch.num_rows()).map_err(|_| ReportError::TooLarge("rows"))?,
                )
                .ok_or(ReportError::TooLarge("rows"))?;
        }
        ws.set_freeze_panes(1, 0)?;
        let last_col = schema.fields().len().saturating_sub(1) as u16;
        ws.autofilter(0, 0, row.saturating_sub(1), last_col)?;
    }
    Ok(book.save_to_buffer()?)
}

/// Writes `column` from row `first` down.
fn write_column(
    ws: &mut Worksheet,
    first: u32,
    col: u16,
    column: &dyn Array,
    instant: &Format,
) -> Result<(), ReportError> {
    match kind(column.data_type()) {
        Kind::Number => {
            let values = cast(column, &DataType::Float64)?;
            let values = values.as_primitive::<Float64Type>();
            for i in 0..values.len() {
                if values.is_valid(i) && values.value(i).is_finite() {
                    ws.write_number(first + i as u32, col, values.value(i))?;
                }
            }
        }
        Kind::Instant => {
            let micros = cast(column, &DataType::Timestamp(TimeUnit::Microsecond, None))?;
            let micros = cast(&micros, &DataType::Int64)?;
            let micros = micros.as_primitive::<Int64Type>();
            for i in 0..micros.len() {
                if micros.is_valid(i) {
                    let days = micros.value(i) as f64 / 86_400e6 + EXCEL_UNIX_DAYS;
                    ws.write_number_with_format(first + i as u32, col, days, instant)?;
                }
            }
        }
        Kind::Boolean => {
            let values = column.as_boolean();
            for i in 0..values.len() {
                if values.is_valid(i) {
                    ws.write_boolean(first + i as u32, col, values.value(i))?;
                }
            }
        }
        Kind::Text => {
            let values = cast(column, &DataType::Utf8)?;
            let values = values.as_string::<i32>();
            for i in 0..values.len() {
                if values.is_valid(i) {
                    ws.write_string(first + i as u32, col, values.value(i))?;
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{
        BooleanArray, Float64Array, Int64Array, StringArray, TimestampMicrosecondArray,
    };
    use arrow::datatypes::{Field, Schema};
    use calamine::{Data, Reader, Xlsx};

    use super::*;

    #[test]
    fn the_workbook_reads_back_cell_by_cell() {
        let schema = Arc::new(Schema::new(vec![
            Field::new("queue", DataType::Utf8, true),
            Field::new(
                "interval_start",
                DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
                true,
            ),
            Field::new("offered", DataType::Int64, true),
            Field::new("service_level", DataType::Float64, true),
            Field::new("open", DataType::Boolean, true),
        ]));
        let batch = RecordBatch::try_new(
            schema,
            vec![
                Arc::new(StringArray::from(vec![
                    Some("sales"),
                    Some("support"),
                    None,
                ])),
                Arc::new(
                    TimestampMicrosecondArray::from(vec![
                        Some(1_709_542_800_000_000),
                        Some(1_709_543_700_000_000),
                        None,
                    ])
                    .with_timezone("UTC"),
                ),
                Arc::new(Int64Array::from(vec![Some(12), Some(3), None])),
                Arc::new(Float64Array::from(vec![Some(0.875), Some(1.0), None])),
                Arc::new(BooleanArray::from(vec![Some(true), Some(false), None])),
            ],
        )
        .unwrap();
        let bytes = workbook(&[Sheet {
            name: "interval stats",
            batches: &[batch],
        }])
        .unwrap();
        let mut book: Xlsx<_> =
            calamine::open_workbook_from_rs(std::io::Cursor::new(bytes)).unwrap();
        let range = book.worksheet_range("interval stats").unwrap();
        let cell = |r: u32, c: u32| range.get_value((r, c)).cloned().unwrap_or(Data::Empty);
        assert_eq!(cell(0, 0), Data::String("queue".into()));
        assert_eq!(cell(1, 0), Data::String("sales".into()));
        assert_eq!(cell(1, 2), Data::Float(12.0));
        assert_eq!(cell(2, 3), Data::Float(1.0));
        assert_eq!(cell(1, 4), Data::Bool(true));
        // 2024-03-04 09:00 UTC: Excel day 45355.375, formatted as a date-time.
        match cell(1, 1) {
            Data::DateTime(t) => assert!((t.as_f64() - 45_355.375).abs() < 1e-9, "{t:?}"),
            other => panic!("not a date-time: {other:?}"),
        }
        // NULLs are empty cells.
        assert_eq!(cell(3, 0), Data::Empty);
        assert_eq!(cell(3, 2), Data::Empty);
    }
}
