//! Cells read out of query results, and how people and CSV readers see
//! them: ratios as percentages, instants on the report's local clock.

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Float64Type, Int64Type, TimeUnit};
use chrono::{DateTime, TimeZone, Utc};
use chrono_tz::Tz;

use crate::ReportError;

/// One cell.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// NULL.
    Null,
    /// An integer.
    Integer(i64),
    /// A floating-point number.
    Number(f64),
    /// An instant, microseconds since the Unix epoch (UTC).
    Instant(i64),
    /// A boolean.
    Boolean(bool),
    /// Anything else, as text.
    Text(String),
}

/// A column's cells.
pub fn column(array: &dyn Array) -> Result<Vec<Value>, ReportError> {
    let n = array.len();
    let valid = |i: usize| array.is_valid(i);
    Ok(match array.data_type() {
        DataType::Timestamp(_, _) | DataType::Date32 | DataType::Date64 => {
            let micros = cast(array, &DataType::Timestamp(TimeUnit::Microsecond, None))?;
            let micros = cast(&micros, &DataType::Int64)?;
            let micros = micros.as_primitive::<Int64Type>();
            (0..n)
                .map(|i| {
                    if valid(i) {
                        Value::Instant(micros.value(i))
                    } else {
                        Value::Null
                    }
                })
                .collect()
        }
        DataType::Boolean => {
            let b = array.as_boolean();
            (0..n)
                .map(|i| {
                    if valid(i) {
                        Value::Boolean(b.value(i))
                    } else {
                        Value::Null
                    }
                })
                .collect()
        }
        t if t.is_integer() => {
            let ints = cast(array, &DataType::Int64)?;
            let ints = ints.as_primitive::<Int64Type>();
            (0..n)
                .map(|i| {
                    if valid(i) {
                        Value::Integer(ints.value(i))
                    } else {
                        Value::Null
                    }
                })
                .collect()
        }
        t if t.is_numeric() => {
            let floats = cast(array, &DataType::Float64)?;
            let floats = floats.as_primitive::<Float64Type>();
            (0..n)
                .map(|i| {
                    let v = floats.value(i);
                    if valid(i) && v.is_finite() {
                        Value::Number(v)
                    } else {
                        Value::Null
                    }
                })
                .collect()
        }
        _ => {
            let text = cast(array, &DataType::Utf8)?;
            let text = text.as_string::<i32>();
            (0..n)
                .map(|i| {
                    if valid(i) {
                        Value::Text(text.value(i).to_owned())
                    } else {
                        Value::Null
                    }
                })
                .collect()
        }
    })
}

/// Every cell of `batches`, column by column, rows in order.
pub fn columns(batches: &[RecordBatch]) -> Result<Vec<Vec<Value>>, ReportError> {
    let Some(first) = batches.first() else {
        return Ok(Vec::new());
    };
    let mut out: Vec<Vec<Value>> = vec![Vec::new(); first.num_columns()];
    for batch in batches {
        for (c, array) in batch.columns().iter().enumerate() {
            out[c].extend(column(array.as_ref())?);
        }
    }
    Ok(out)
}

/// Whether a column of this name holds a share (0–1) shown as a percentage.
pub fn is_ratio(name: &str) -> bool {
    const RATIOS: [&str; 11] = [
        "service_level",
        "rate",
        "occupancy",
        "share",
        "coverage_90",
        "wape",
        "bias",
        "adherence",
        "conformance",
        "smape",
        "percent",
    ];
    RATIOS.iter().any(|r| {
        name == *r || name.ends_with(&format!("_{r}")) || name.starts_with(&format!("{r}_"))
    })
}

/// A column name for people: `service_level` → `Service level`,
/// `asa_s` → `ASA (s)`, `talk_h` → `Talk (h)`.
pub fn humanize(name: &str) -> String {
    let (stem, unit) = match name.rsplit_once('_') {
        Some((stem, unit @ ("s" | "h" | "min"))) => (stem, Some(unit)),
        _ => (name, None),
    };
    let mut out: String = stem
        .split('_')
        .map(|w| match w {
            "asa" | "aht" | "wape" | "sla" => w.to_uppercase(),
            _ => w.to_owned(),
        })
        .collect::<Vec<_>>()
        .join(" ");
    if let Some(first) = out.get(0..1) {
        let upper = first.to_uppercase();
        out.replace_range(0..1, &upper);
    }
    if let Some(unit) = unit {
        out.push_str(&format!(" ({unit})"));
    }
    out
}

/// An instant on `tz`'s clock.
pub fn local(micros: i64, tz: Tz) -> Option<DateTime<Tz>> {
    Utc.timestamp_micros(micros)
        .single()
        .map(|t| t.with_timezone(&tz))
}

/// How a person reads the cell of column `name`.
pub fn display(value: &Value, name: &str, tz: Tz) -> String {
    match value {
        Value::Null => String::new(),
        Value::Integer(i) => i.to_string(),
        Value::Number(x) if is_ratio(name) => format!("{:.1} %", x * 100.0),
        Value::Number(x) if x.abs() >= 1000.0 => format!("{x:.0}"),
        Value::Number(x) => format!("{x:.1}"),
        Value::Instant(us) => match local(*us, tz) {
            Some(t) if t.format("%H:%M:%S").to_string() == "00:00:00" => {
                t.format("%Y-%m-%d").to_string()
            }
            Some(t) => t.format("%Y-%m-%d %H:%M").to_string(),
            None => us.to_string(),
        },
        Value::Boolean(b) => if *b { "yes" } else { "no" }.to_owned(),
        Value::Text(s) => s.clone(),
    }
}

/// How a CSV reader gets the cell: numbers in full, instants in ISO 8601
/// with the local offset.
pub fn csv_text(value: &Value, tz: Tz) -> String {
    match value {
        Value::Null => String::new(),
        Value::Integer(i) => i.to_string(),
        Value::Number(x) => x.to_string(),
        Value::Instant(us) => local(*us, tz)
            .map(|t| t.to_rfc3339())
            .unwrap_or_else(|| us.to_string()),
        Value::Boolean(b) => b.to_string(),
        Value::Text(s) => s.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn people_read_shares_as_percentages_and_instants_locally() {
        let berlin: Tz = "Europe/Berlin".parse().unwrap();
        assert_eq!(
            display(&Value::Number(0.8754), "service_level", berlin),
            "87.5 %"
        );
        assert_eq!(
            display(&Value::Number(0.03), "abandon_rate", berlin),
            "3.0 %"
        );
        assert_eq!(display(&Value::Number(12.345), "asa_s", berlin), "12.3");
        assert_eq!(display(&Value::Number(1234.5), "talk_s", berlin), "1234");
        // 2024-03-05 08:15 UTC is 09:15 in Berlin.
        let at = 1_709_626_500_000_000;
        assert_eq!(
            display(&Value::Instant(at), "interval_start", berlin),
            "2024-03-05 09:15"
        );
        assert_eq!(
            csv_text(&Value::Instant(at), berlin),
            "2024-03-05T09:15:00+01:00"
        );
        assert!(!is_ratio("operator"));
        assert!(is_ratio("covered_share"));
    }

    #[test]
    fn column_names_read_as_words_with_units() {
        assert_eq!(humanize("service_level"), "Service level");
        assert_eq!(humanize("asa_s"), "ASA (s)");
        assert_eq!(humanize("talk_h"), "Talk (h)");
        assert_eq!(humanize("offered"), "Offered");
        assert_eq!(humanize("wape"), "WAPE");
    }
}
