//! One CSV file per query (RFC 4180: comma, CRLF, quotes doubled), with a
//! header row; numbers in full, instants in ISO 8601 with the report's
//! local offset, NULL as an empty field.

use crate::ReportError;
use crate::model::{Report, Section};
use crate::values;

/// The CSV bytes of one section.
pub fn section_csv(report: &Report<'_>, section: &Section<'_>) -> Result<Vec<u8>, ReportError> {
    let mut out = String::new();
    let Some(schema) = section.batches.first().map(|b| b.schema()) else {
        return Ok(Vec::new());
    };
    let header: Vec<String> = schema.fields().iter().map(|f| quote(f.name())).collect();
    out.push_str(&header.join(","));
    out.push_str("\r\n");
    let columns = values::columns(section.batches)?;
    let rows = columns.first().map_or(0, Vec::len);
    for r in 0..rows {
        for (c, column) in columns.iter().enumerate() {
            if c > 0 {
                out.push(',');
            }
            out.push_str(&quote(&values::csv_text(&column[r], report.time_zone)));
        }
        out.push_str("\r\n");
    }
    Ok(out.into_bytes())
}

fn quote(field: &str) -> String {
    if field.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", field.replace('"', "\"\""))
    } else {
        field.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{Int64Array, RecordBatch, StringArray};
    use arrow::datatypes::{DataType, Field, Schema};

    use super::*;
    use crate::model::Presentation;

    #[test]
    fn fields_with_commas_and_quotes_are_quoted() {
        let schema = Arc::new(Schema::new(vec![
            Field::new("agent", DataType::Utf8, true),
            Field::new("answered", DataType::Int64, true),
        ]));
        let batch = RecordBatch::try_new(
            schema,
            vec![
                Arc::new(StringArray::from(vec![Some("Doe, \"Jo\""), None])),
                Arc::new(Int64Array::from(vec![Some(3), None])),
            ],
        )
        .unwrap();
        let batches = [batch];
        let report = Report {
            title: "T",
            subtitle: "",
            generated: "",
            time_zone: chrono_tz::UTC,
            sections: Vec::new(),
        };
        let section = Section {
            name: "agents",
            title: "Agents",
            presentation: Presentation::Table,
            chart: None,
            batches: &batches,
        };
        let text = String::from_utf8(section_csv(&report, &section).unwrap()).unwrap();
        assert_eq!(text, "agent,answered\r\n\"Doe, \"\"Jo\"\"\",3\r\n,\r\n");
    }
}
