//! A plain `timestamp,count` CSV, as other systems export interval
//! volumes: a header line is optional; timestamps are RFC 3339
//! (`2003-03-03T07:00:00Z`), naive ISO (`2003-03-03T07:00:00` or with a
//! space, read as UTC) or Unix seconds. A bad line stops the read with
//! its number and what is wrong, so a truncated export is not forecast.

use chrono::{DateTime, NaiveDateTime};

use crate::ForecastError;

/// The `(Unix seconds, count)` points of `text`.
pub fn read_points(text: &str) -> Result<Vec<(i64, f64)>, ForecastError> {
    let mut points = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let line_no = index + 1;
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let bad = |reason: String| ForecastError::Line {
            line: line_no,
            reason,
        };
        let Some((when, count)) = line.split_once(',') else {
            return Err(bad(format!("{line:?} is not `timestamp,count`")));
        };
        let when = when.trim().trim_matches('"');
        let count = count.trim().trim_matches('"');
        let timestamp = match parse_time(when) {
            Some(t) => t,
            None if index == 0 => continue, // a header line
            None => return Err(bad(format!("{when:?} is not a timestamp"))),
        };
        let value: f64 = count
            .parse()
            .ok()
            .filter(|v: &f64| v.is_finite() && *v >= 0.0)
            .ok_or_else(|| bad(format!("{count:?} is not a count ≥ 0")))?;
        points.push((timestamp, value));
    }
    if points.is_empty() {
        return Err(ForecastError::Invalid("no data lines".into()));
    }
    Ok(points)
}

fn parse_time(text: &str) -> Option<i64> {
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Some(t.timestamp());
    }
    for format in [
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M",
    ] {
        if let Ok(t) = NaiveDateTime::parse_from_str(text, format) {
            return Some(t.and_utc().timestamp());
        }
    }
    text.parse::<i64>().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_are_read_and_bad_lines_named() {
        let points = read_points(
            "timestamp,count\n2003-03-03T07:00:00,560\n2003-03-03T07:30:00Z,609\n1046676600,3\n\n",
        )
        .unwrap();
        assert_eq!(
            points,
            vec![
                (1_046_674_800, 560.0),
                (1_046_676_600, 609.0),
                (1_046_676_600, 3.0)
            ]
        );
        let err = read_points("2003-03-03T07:00:00,5\n2003-03-03 07:30,x\n").unwrap_err();
        assert_eq!(err.to_string(), "line 2: \"x\" is not a count ≥ 0");
        let err = read_points("a,b\nyesterday,4\n").unwrap_err();
        assert_eq!(err.to_string(), "line 2: \"yesterday\" is not a timestamp");
        assert!(read_points("timestamp,count\n").is_err());
    }
}
