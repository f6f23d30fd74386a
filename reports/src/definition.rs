//! Report definitions: the built-in reports, and `[[reports]]` entries of
//! the configuration that add reports or change a built-in's schedule,
//! recipients, queues or formats.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::query_file::{QueryFileError, ReportQuery, is_name};

/// An output format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// A workbook: a sheet per query, native charts.
    Xlsx,
    /// A paginated document: title, headline figures, charts, tables.
    Pdf,
    /// One CSV file per query.
    Csv,
}

impl Format {
    /// Every format.
    pub const ALL: [Format; 3] = [Format::Xlsx, Format::Pdf, Format::Csv];

    /// The file extension.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Xlsx => "xlsx",
            Format::Pdf => "pdf",
            Format::Csv => "csv",
        }
    }

    /// The MIME type.
    pub fn mime(self) -> &'static str {
        match self {
            Format::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            Format::Pdf => "application/pdf",
            Format::Csv => "text/csv",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.extension())
    }
}

impl FromStr for Format {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Format::ALL
            .into_iter()
            .find(|f| f.extension() == s)
            .ok_or_else(|| format!("format {s:?}: expected xlsx, pdf or csv"))
    }
}

/// A `[[reports]]` entry as written. For a built-in's name every field is
/// optional (what is given replaces the built-in's); a new report needs
/// `title` and `queries`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportEntry {
    /// The report's name: letters, digits, `_` and `-`.
    pub name: String,
    /// Its title.
    pub title: Option<String>,
    /// Its queries: built-in query names, or `.sql` files (relative to the
    /// configuration file's folder).
    pub queries: Option<Vec<String>>,
    /// The period a scheduled run covers: `yesterday`, `last_week` or `last_month`.
    pub period: Option<String>,
    /// Only these queues (none: every queue).
    pub queues: Option<Vec<String>>,
    /// Output formats.
    pub formats: Option<Vec<Format>>,
    /// When it runs: a cron expression with seconds (`0 0 6 * * *`), or
    /// `""` for on demand only.
    pub cron: Option<String>,
    /// The zone of the cron schedule and of the period's days (default
    /// `[kpi] time_zone`).
    pub time_zone: Option<String>,
    /// Who receives it by e-mail.
    pub recipients: Option<Vec<String>>,
    /// Days outputs are kept.
    pub retention_days: Option<u32>,
}

/// A report ready to run.
#[derive(Clone, Debug, PartialEq)]
pub struct ReportDefinition {
    /// The report's name.
    pub name: String,
    /// Its title.
    pub title: String,
    /// Its queries, in order.
    pub queries: Vec<ReportQuery>,
    /// The period of a scheduled run.
    pub period: String,
    /// Only these queues (empty: every queue).
    pub queues: Vec<String>,
    /// Output formats.
    pub formats: Vec<Format>,
    /// Cron expression (with seconds), if scheduled.
    pub cron: Option<String>,
    /// Zone of the schedule and of the period's days.
    pub time_zone: String,
    /// E-mail recipients.
    pub recipients: Vec<String>,
    /// Days outputs are kept.
    pub retention_days: u32,
    /// Whether it is one of the built-in reports.
    pub built_in: bool,
}

/// What is wrong with a definition, and where.
#[derive(Debug, thiserror::Error)]
pub enum DefinitionError {
    /// A field's value.
    #[error("[[reports]] {name:?}: {field}: {reason}")]
    Field {
        /// The report.
        name: String,
        /// The field.
        field: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// A query file.
    #[error(transparent)]
    Query(#[from] QueryFileError),
}

/// The built-in queries: name and SQL (`sql/reports/*.sql`).
pub const BUILT_IN_QUERIES: [(&str, &str); 8] = [
    (
        "period_totals",
        include_str!("../../sql/reports/period_totals.sql"),
    ),
    (
        "queue_summary",
        include_str!("../../sql/reports/queue_summary.sql"),
    ),
    (
        "interval_series",
        include_str!("../../sql/reports/interval_series.sql"),
    ),
    (
        "daily_service_level",
        include_str!("../../sql/reports/daily_service_level.sql"),
    ),
    (
        "agent_performance",
        include_str!("../../sql/reports/agent_performance.sql"),
    ),
    (
        "forecast_accuracy",
        include_str!("../../sql/reports/forecast_accuracy.sql"),
    ),
    (
        "schedule_coverage",
        include_str!("../../sql/reports/schedule_coverage.sql"),
    ),
    (
        "coverage_series",
        include_str!("../../sql/reports/coverage_series.sql"),
    ),
];

/// The built-in reports: name, title, queries, period, cron.
const BUILT_IN_REPORTS: [(&str, &str, &[&str], &str, &str); 5] = [
    (
        "daily_queue_summary",
        "Daily queue summary",
        &["period_totals", "queue_summary", "interval_series"],
        "yesterday",
        "0 0 6 * * *",
    ),
    (
        "weekly_agent_performance",
        "Weekly agent performance",
        &["period_totals", "agent_performance"],
        "last_week",
        "0 30 6 * * Mon",
    ),
    (
        "monthly_service_level",
        "Monthly service level",
        &["period_totals", "daily_service_level", "queue_summary"],
        "last_month",
        "0 0 7 1 * *",
    ),
    (
        "forecast_accuracy",
        "Forecast accuracy",
        &["forecast_accuracy"],
        "last_week",
        "0 45 6 * * Mon",
    ),
    (
        "schedule_coverage",
        "Schedule coverage",
        &["schedule_coverage", "coverage_series"],
        "last_week",
        "0 50 6 * * Mon",
    ),
];

/// A built-in query by name.
pub fn built_in_query(name: &str) -> Option<Result<ReportQuery, QueryFileError>> {
    BUILT_IN_QUERIES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(n, sql)| ReportQuery::parse(n, sql))
}

/// Every report: the built-ins with `entries` applied over them, then the
/// entries' new reports. `default_zone` is `[kpi] time_zone`; `base` is
/// the folder relative `.sql` paths are read from.
pub fn definitions(
    entries: &[ReportEntry],
    default_zone: &str,
    base: &Path,
) -> Result<Vec<ReportDefinition>, DefinitionError> {
    let mut by_name: BTreeMap<String, ReportEntry> = BTreeMap::new();
    let mut order = Vec::new();
    for (name, title, queries, period, cron) in BUILT_IN_REPORTS {
        by_name.insert(
            name.to_owned(),
            ReportEntry {
                name: name.to_owned(),
                title: Some(title.to_owned()),
                queries: Some(queries.iter().map(|q| (*q).to_owned()).collect()),
                period: Some(period.to_owned()),
                cron: Some(cron.to_owned()),
                ..ReportEntry::default()
            },
        );
        order.push((name.to_owned(), true));
    }
    for entry in entries {
        match by_name.get_mut(&entry.name) {
            Some(existing) => overlay(existing, entry),
            None => {
                by_name.insert(entry.name.clone(), entry.clone());
                order.push((entry.name.clone(), false));
            }
        }
    }
    order
        .into_iter()
        .map(|(name, built_in)| {
            let entry = &by_name[&name];
            resolve(entry, built_in, default_zone, base)
        })
        .collect()
}

fn overlay(base: &mut ReportEntry, over: &ReportEntry) {
    macro_rules! take {
        ($($field:ident),*) => { $( if over.$field.is_some() { base.$field = over.$field.clone(); } )* };
    }
    take!(
        title,
        queries,
        period,
        queues,
        formats,
        cron,
        time_zone,
        recipients,
        retention_days
    );
}

fn resolve(
    entry: &ReportEntry,
    built_in: bool,
    default_zone: &str,
    base: &Path,
) -> Result<ReportDefinition, DefinitionError> {
    let name = entry.name.clone();
    let fail = |field: &'static str, reason: String| DefinitionError::Field {
        name: name.clone(),
        field,
        reason,
    };
    if !is_name(&name) {
        return Err(fail("name", "letters, digits, '_' and '-' only".into()));
    }
    let title = entry
        .title
        .clone()
        .filter(|t| !t.trim().is_empty())
        .ok_or_else(|| fail("title", "a new report needs a title".into()))?;
    let names = entry
        .queries
        .clone()
        .filter(|q| !q.is_empty())
        .ok_or_else(|| fail("queries", "a report needs at least one query".into()))?;
    let mut queries = Vec::with_capacity(names.len());
    for query in names {
        if query.ends_with(".sql") {
            let path = base.join(&query);
            let text = std::fs::read_to_string(&path)
                .map_err(|e| fail("queries", format!("{}: {e}", path.display())))?;
            let stem = Path::new(&query)
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or_default();
            queries.push(ReportQuery::parse(stem, &text)?);
        } else {
            let found = built_in_query(&query).ok_or_else(|| {
                let known: Vec<&str> = BUILT_IN_QUERIES.iter().map(|(n, _)| *n).collect();
                fail(
                    "queries",
                    format!(
                        "{query:?} is neither a .sql file nor a built-in query ({})",
                        known.join(", ")
                    ),
                )
            })?;
            queries.push(found?);
        }
    }
    let period = entry.period.clone().unwrap_or_else(|| "yesterday".into());
    if !["yesterday", "last_week", "last_month"].contains(&period.as_str()) {
        return Err(fail(
            "period",
            format!("{period:?}: a scheduled period is yesterday, last_week or last_month"),
        ));
    }
    let time_zone = entry
        .time_zone
        .clone()
        .unwrap_or_else(|| default_zone.to_owned());
    if time_zone.parse::<chrono_tz::Tz>().is_err() {
        return Err(fail(
            "time_zone",
            format!("{time_zone:?} is not an IANA time zone"),
        ));
    }
    let cron = entry.cron.clone().filter(|c| !c.trim().is_empty());
    if let Some(expr) = &cron {
        cron::Schedule::from_str(expr).map_err(|e| {
            fail(
                "cron",
                format!("{expr:?}: {e} (six fields: sec min hour day month weekday)"),
            )
        })?;
    }
    let formats = entry
        .formats
        .clone()
        .unwrap_or_else(|| vec![Format::Xlsx, Format::Pdf]);
    if formats.is_empty() {
        return Err(fail("formats", "at least one of xlsx, pdf, csv".into()));
    }
    let recipients = entry.recipients.clone().unwrap_or_default();
    if let Some(bad) = recipients.iter().find(|r| !plausible_address(r)) {
        return Err(fail(
            "recipients",
            format!("{bad:?} is not an e-mail address"),
        ));
    }
    let retention_days = entry.retention_days.unwrap_or(90);
    if retention_days == 0 {
        return Err(fail("retention_days", "at least 1".into()));
    }
    Ok(ReportDefinition {
        title,
        queries,
        period,
        queues: entry.queues.clone().unwrap_or_default(),
        formats,
        cron,
        time_zone,
        recipients,
        retention_days,
        built_in,
        name,
    })
}

/// `local@domain` with no spaces or angle brackets (the mailer checks
/// the rest when it sends).
fn plausible_address(address: &str) -> bool {
    let Some((local, domain)) = address.rsplit_once('@') else {
        return false;
    };
    !local.is_empty()
        && !domain.is_empty()
        && !address
            .chars()
            .any(|c| c.is_whitespace() || c == '<' || c == '>' || c == ',')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_ins_parse_and_entries_change_them_or_add_reports() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("waits.sql"),
            "-- title: Longest waits\nSELECT queue, MAX(wait_s) AS w FROM calls GROUP BY queue",
        )
        .unwrap();
        let entries = [
            ReportEntry {
                name: "daily_queue_summary".into(),
                recipients: Some(vec!["boss@example.com".into()]),
                formats: Some(vec![Format::Pdf]),
                ..ReportEntry::default()
            },
            ReportEntry {
                name: "waits".into(),
                title: Some("Waits".into()),
                queries: Some(vec!["waits.sql".into(), "period_totals".into()]),
                cron: Some(String::new()),
                ..ReportEntry::default()
            },
        ];
        let all = definitions(&entries, "Europe/Berlin", dir.path()).unwrap();
        let names: Vec<&str> = all.iter().map(|d| d.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "daily_queue_summary",
                "weekly_agent_performance",
                "monthly_service_level",
                "forecast_accuracy",
                "schedule_coverage",
                "waits"
            ]
        );
        let daily = &all[0];
        assert_eq!(daily.recipients, ["boss@example.com"]);
        assert_eq!(daily.formats, [Format::Pdf]);
        assert_eq!(daily.cron.as_deref(), Some("0 0 6 * * *"));
        assert_eq!(daily.time_zone, "Europe/Berlin");
        assert_eq!(daily.queries.len(), 3);
        let waits = &all[5];
        assert_eq!(waits.queries[0].title, "Longest waits");
        assert_eq!(waits.cron, None);
        assert!(!waits.built_in);
    }

    #[test]
    fn faults_name_the_report_and_field() {
        let base = Path::new(".");
        let fault =
            |entry: ReportEntry| definitions(&[entry], "UTC", base).unwrap_err().to_string();
        assert_eq!(
            fault(ReportEntry {
                name: "x".into(),
                title: Some("X".into()),
                ..ReportEntry::default()
            }),
            "[[reports]] \"x\": queries: a report needs at least one query"
        );
        assert!(
            fault(ReportEntry {
                name: "daily_queue_summary".into(),
                cron: Some("every day".into()),
                ..ReportEntry::default()
            })
            .starts_with("[[reports]] \"daily_queue_summary\": cron: \"every day\"")
        );
        assert_eq!(
            fault(ReportEntry {
                name: "daily_queue_summary".into(),
                recipients: Some(vec!["boss".into()]),
                ..ReportEntry::default()
            }),
            "[[reports]] \"daily_queue_summary\": recipients: \"boss\" is not an e-mail address"
        );
        assert!(
            fault(ReportEntry {
                name: "daily_queue_summary".into(),
                queries: Some(vec!["nosuch".into()]),
                ..ReportEntry::default()
            })
            .contains("\"nosuch\" is neither a .sql file nor a built-in query")
        );
    }
}
