//! A report query: a `.sql` file whose leading comment lines say how its
//! result is shown, and whose `$period_start` / `$period_end` parameters
//! are bound to the report's period.
//!
//! ```sql
//! -- title: Calls by interval
//! -- chart: line x=interval_start y=offered,answered
//! -- show: table
//! SELECT … FROM interval_stats
//! WHERE interval_start >= $period_start AND interval_start < $period_end
//! ```
//!
//! `$time_zone` is the period's zone as a string literal (for local days:
//! `to_local_time(interval_start AT TIME ZONE $time_zone)`).
//! `show` is `table` (the default) or `summary` (the first row as
//! headline figures); `chart` is `line` or `bar` with the category column
//! and the series columns. Other comment lines are prose.

use chrono::{DateTime, Utc};

use crate::model::{Chart, ChartKind, Presentation};
use crate::period::Window;

/// A parsed report query.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReportQuery {
    /// Its name (the file's stem): the sheet's and CSV file's name.
    pub name: String,
    /// The section heading (`-- title:`; else the name).
    pub title: String,
    /// How its rows are shown.
    pub presentation: Presentation,
    /// Its chart, if any.
    pub chart: Option<Chart>,
    /// The SQL with its parameters still in place.
    pub sql: String,
}

/// What is wrong with a report query, and where.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("report query {name:?}, line {line}: {reason}")]
pub struct QueryFileError {
    /// The query's name.
    pub name: String,
    /// The 1-based line.
    pub line: usize,
    /// What is wrong.
    pub reason: String,
}

/// Whether `name` is a report's or query's name: letters, digits, `_`
/// and `-` (it becomes part of file names).
pub fn is_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// The parameters a query may use.
pub const PARAMETERS: [&str; 3] = ["period_start", "period_end", "time_zone"];

impl ReportQuery {
    /// Parses `text`, the content of the query named `name`.
    pub fn parse(name: &str, text: &str) -> Result<Self, QueryFileError> {
        let fail = |line: usize, reason: String| QueryFileError {
            name: name.to_owned(),
            line,
            reason,
        };
        if !is_name(name) {
            return Err(fail(
                0,
                "a query's name is letters, digits, '_' and '-'".into(),
            ));
        }
        let mut query = ReportQuery {
            name: name.to_owned(),
            title: name.to_owned(),
            presentation: Presentation::Table,
            chart: None,
            sql: text.to_owned(),
        };
        for (index, line) in text.lines().enumerate() {
            let line_no = index + 1;
            let trimmed = line.trim();
            if trimmed.is_empty() {
                continue;
            }
            let Some(comment) = trimmed.strip_prefix("--") else {
                break;
            };
            let Some((key, value)) = comment.split_once(':') else {
                continue;
            };
            let value = value.trim();
            match key.trim() {
                "title" if !value.is_empty() => query.title = value.to_owned(),
                "title" => return Err(fail(line_no, "the title is empty".into())),
                "show" => {
                    query.presentation = match value {
                        "table" => Presentation::Table,
                        "summary" => Presentation::Summary,
                        other => {
                            return Err(fail(
                                line_no,
                                format!("show {other:?}: expected table or summary"),
                            ));
                        }
                    }
                }
                "chart" => query.chart = Some(parse_chart(value).map_err(|r| fail(line_no, r))?),
                _ => {}
            }
        }
        let probe = Window {
            label: String::new(),
            start: Utc::now(),
            end: Utc::now(),
            time_zone: "UTC".into(),
        };
        bind(&query.sql, &probe).map_err(|reason| fail(0, reason))?;
        Ok(query)
    }

    /// The SQL with the period bound: the bounds become UTC timestamp
    /// literals, the zone a string literal.
    pub fn bind(&self, window: &Window) -> Result<String, QueryFileError> {
        bind(&self.sql, window).map_err(|reason| QueryFileError {
            name: self.name.clone(),
            line: 0,
            reason,
        })
    }
}

fn parse_chart(value: &str) -> Result<Chart, String> {
    // Spaces around the commas of a column list are allowed.
    let value = value
        .split(',')
        .map(str::trim)
        .collect::<Vec<_>>()
        .join(",");
    let mut words = value.split_whitespace();
    let kind = match words.next() {
        Some("line") => ChartKind::Line,
        Some("bar") => ChartKind::Bar,
        other => return Err(format!("chart {other:?}: expected line or bar")),
    };
    let (mut category, mut series) = (None, Vec::new());
    for word in words {
        match word.split_once('=') {
            Some(("x", column)) if !column.is_empty() => category = Some(column.to_owned()),
            Some(("y", columns)) => {
                series = columns
                    .split(',')
                    .map(str::trim)
                    .filter(|c| !c.is_empty())
                    .map(str::to_owned)
                    .collect();
            }
            _ => return Err(format!("chart: {word:?} is not x=COLUMN or y=COLUMN,…")),
        }
    }
    let category = category.ok_or("chart: x=COLUMN is missing")?;
    if series.is_empty() {
        return Err("chart: y=COLUMN,… is missing".into());
    }
    Ok(Chart {
        kind,
        category,
        series,
    })
}

/// Replaces every `$name` outside string literals and comments.
fn bind(sql: &str, window: &Window) -> Result<String, String> {
    let literal = |t: &DateTime<Utc>| format!("TIMESTAMP '{}'", t.format("%Y-%m-%dT%H:%M:%SZ"));
    let mut out = String::with_capacity(sql.len() + 64);
    let mut chars = sql.char_indices().peekable();
    let mut in_string = false;
    let mut in_comment = false;
    while let Some((i, c)) = chars.next() {
        if in_comment {
            in_comment = c != '\n';
            out.push(c);
            continue;
        }
        if in_string {
            in_string = c != '\'';
            out.push(c);
            continue;
        }
        match c {
            '\'' => {
                in_string = true;
                out.push(c);
            }
            '-' if sql[i + 1..].starts_with('-') => {
                in_comment = true;
                out.push(c);
            }
            '$' => {
                let rest = &sql[i + 1..];
                let len = rest
                    .find(|ch: char| !(ch.is_ascii_alphanumeric() || ch == '_'))
                    .unwrap_or(rest.len());
                let name = &rest[..len];
                match name {
                    "period_start" => out.push_str(&literal(&window.start)),
                    "period_end" => out.push_str(&literal(&window.end)),
                    "time_zone" => {
                        out.push('\'');
                        out.push_str(&window.time_zone.replace('\'', "''"));
                        out.push('\'');
                    }
                    _ => {
                        return Err(format!(
                            "unknown parameter ${name}: the parameters are {}",
                            PARAMETERS.map(|p| format!("${p}")).join(", ")
                        ));
                    }
                }
                for _ in 0..name.chars().count() {
                    chars.next();
                }
            }
            _ => out.push(c),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    const FILE: &str = "-- title: Calls by interval\n\
        -- Totals per interval over the report's queues.\n\
        -- chart: line x=interval_start y=offered, answered\n\
        SELECT '$period_start' AS quoted, interval_start -- $period_end in a comment\n\
        FROM interval_stats WHERE interval_start >= $period_start AND interval_start < $period_end\n";

    #[test]
    fn the_header_says_how_the_result_is_shown() {
        let query = ReportQuery::parse("interval_series", FILE).unwrap();
        assert_eq!(query.title, "Calls by interval");
        assert_eq!(query.presentation, Presentation::Table);
        assert_eq!(
            query.chart,
            Some(Chart {
                kind: ChartKind::Line,
                category: "interval_start".into(),
                series: vec!["offered".into(), "answered".into()],
            })
        );
    }

    #[test]
    fn parameters_become_timestamps_outside_strings_and_comments() {
        let query = ReportQuery::parse("interval_series", FILE).unwrap();
        let window = Window {
            label: "2024-03-05".into(),
            start: Utc.with_ymd_and_hms(2024, 3, 5, 0, 0, 0).unwrap(),
            end: Utc.with_ymd_and_hms(2024, 3, 6, 0, 0, 0).unwrap(),
            time_zone: "Europe/Berlin".into(),
        };
        let sql = query.bind(&window).unwrap();
        assert!(sql.contains("'$period_start' AS quoted"), "{sql}");
        assert!(sql.contains("-- $period_end in a comment"), "{sql}");
        assert!(
            sql.contains(
                "interval_start >= TIMESTAMP '2024-03-05T00:00:00Z' AND interval_start < TIMESTAMP '2024-03-06T00:00:00Z'"
            ),
            "{sql}"
        );
    }

    #[test]
    fn faults_are_named_with_their_line() {
        let bad_chart = ReportQuery::parse("q", "-- title: T\n-- chart: pie x=a y=b\nSELECT 1");
        assert_eq!(
            bad_chart.unwrap_err().to_string(),
            "report query \"q\", line 2: chart Some(\"pie\"): expected line or bar"
        );
        let unknown = ReportQuery::parse("q", "SELECT $queue").unwrap_err();
        assert_eq!(
            unknown.reason,
            "unknown parameter $queue: the parameters are $period_start, $period_end, $time_zone"
        );
        assert!(ReportQuery::parse("../etc", "SELECT 1").is_err());
        let show = ReportQuery::parse("q", "-- show: pie\nSELECT 1").unwrap_err();
        assert_eq!(show.line, 1);
    }
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;
    use crate::period::Period;

    proptest! {
        /// Any text either parses or is refused with a reason; what parses
        /// binds, and the bound SQL keeps every character outside the
        /// parameters (so string literals and comments are untouched).
        #[test]
        fn any_text_parses_or_is_refused_and_binding_keeps_the_rest(
            text in "(-- (title|chart|show): [a-z ,=_]{0,20}\n){0,3}[ -~\n$']{0,120}"
        ) {
            if let Ok(query) = ReportQuery::parse("q", &text) {
                let window = Period::Yesterday
                    .resolve("2024-03-06T12:00:00Z".parse().unwrap(), "UTC")
                    .unwrap();
                let bound = query.bind(&window).unwrap();
                let stripped: String = text
                    .replace("$period_start", "")
                    .replace("$period_end", "")
                    .replace("$time_zone", "");
                prop_assert!(bound.len() >= stripped.len());
            }
        }

        /// Periods: any text parses or is refused; a parsed period's window
        /// starts before it ends and round-trips through its display form.
        #[test]
        fn periods_round_trip(text in "[a-z_]{0,12}|[0-9]{4}-[0-9]{2}-[0-9]{2}\\.\\.[0-9]{4}-[0-9]{2}-[0-9]{2}") {
            if let Ok(period) = text.parse::<Period>() {
                let window = period.resolve("2024-03-06T12:00:00Z".parse().unwrap(), "Europe/Berlin").unwrap();
                prop_assert!(window.start < window.end);
                prop_assert_eq!(period.to_string().parse::<Period>().unwrap(), period);
            }
        }
    }
}
