//! Rendering a report job: its queries run in a session scoped to the
//! job's queues, straight into the renderers; outputs are committed by
//! writing a temporary file beside the final one and renaming it, so a
//! reader (or a crashed run) never sees half a file.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use chrono::Utc;
use chrono_tz::Tz;
use datafusion::arrow::array::RecordBatch;
use queuelake_engine::kpi::KpiSettings;
use queuelake_engine::scope::Scope;
use queuelake_engine::session::{LakeTables, QueryEngine, QueryLimits};
use queuelake_reports::definition::{Format, ReportDefinition};
use queuelake_reports::model::{Presentation, Report, Section};
use queuelake_reports::{csv, pdf, values, xlsx};

use super::job::{QueryRows, ReportJob};

/// Why a report could not be rendered.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The job names a report that is not defined (any more).
    #[error("no report {0:?} is defined")]
    UnknownReport(String),
    /// A query failed.
    #[error("report {report:?}, query {query:?}: {source}")]
    Query {
        /// The report.
        report: String,
        /// The query.
        query: String,
        /// Why.
        source: queuelake_engine::error::EngineError,
    },
    /// The session could not be built.
    #[error("report session: {0}")]
    Session(#[from] queuelake_engine::error::EngineError),
    /// A renderer failed.
    #[error("rendering {format}: {source}")]
    Render {
        /// The format.
        format: Format,
        /// Why.
        source: queuelake_reports::ReportError,
    },
    /// A file could not be written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A query file's parameters.
    #[error(transparent)]
    Bind(#[from] queuelake_reports::query_file::QueryFileError),
}

/// One rendered file.
#[derive(Debug)]
pub struct OutputFile {
    /// Its name in the job's folder.
    pub name: String,
    /// Its format.
    pub format: Format,
    /// Its bytes.
    pub bytes: Vec<u8>,
}

/// A rendered report.
#[derive(Debug)]
pub struct Rendered {
    /// The report's title.
    pub title: String,
    /// The period and queues, one line.
    pub subtitle: String,
    /// The files.
    pub files: Vec<OutputFile>,
    /// Rows per query.
    pub rows: Vec<QueryRows>,
    /// Headline figures (the summary sections' first rows), for the mail.
    pub headlines: Vec<(String, String)>,
    /// Seconds in queries.
    pub query_seconds: f64,
    /// Seconds rendering.
    pub render_seconds: f64,
}

/// Renders reports over the lake.
#[derive(Clone)]
pub struct Runner {
    tables: LakeTables,
    kpi: KpiSettings,
    limits: QueryLimits,
    definitions: Arc<BTreeMap<String, ReportDefinition>>,
    root: PathBuf,
}

impl Runner {
    /// A runner over `tables`, writing under `root` (`<data>/reports`).
    pub fn new(
        tables: LakeTables,
        kpi: KpiSettings,
        limits: QueryLimits,
        definitions: &[ReportDefinition],
        root: PathBuf,
    ) -> Self {
        Runner {
            tables,
            kpi,
            limits,
            definitions: Arc::new(
                definitions
                    .iter()
                    .map(|d| (d.name.clone(), d.clone()))
                    .collect(),
            ),
            root,
        }
    }

    /// The definitions, by name.
    pub fn definitions(&self) -> &BTreeMap<String, ReportDefinition> {
        &self.definitions
    }

    /// Where outputs go.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Runs the job's queries and renders its formats.
    pub async fn render(&self, job: &ReportJob) -> Result<Rendered, RunError> {
        let definition = self
            .definitions
            .get(&job.report)
            .ok_or_else(|| RunError::UnknownReport(job.report.clone()))?
            .clone();
        let scope = if job.queues.is_empty() {
            Scope::All
        } else {
            Scope::Only {
                queues: job.queues.iter().cloned().collect(),
                campaigns: Default::default(),
            }
        };
        let engine = QueryEngine::new(&self.tables, &self.kpi, self.limits.clone(), &scope).await?;
        let started = Instant::now();
        let mut results = Vec::with_capacity(definition.queries.len());
        for query in &definition.queries {
            let sql = query.bind(&job.window)?;
            let result = engine.query(&sql).await.map_err(|source| RunError::Query {
                report: job.report.clone(),
                query: query.name.clone(),
                source,
            })?;
            results.push(result.batches);
        }
        let query_seconds = started.elapsed().as_secs_f64();
        let job = job.clone();
        let started = Instant::now();
        let mut rendered =
            tokio::task::spawn_blocking(move || render_files(&definition, &job, &results))
                .await
                .map_err(|e| RunError::Io {
                    path: PathBuf::from("<render task>"),
                    source: std::io::Error::other(e.to_string()),
                })??;
        rendered.query_seconds = query_seconds;
        rendered.render_seconds = started.elapsed().as_secs_f64();
        Ok(rendered)
    }

    /// Writes the files into the job's folder, each by rename; returns
    /// their paths.
    pub fn commit(&self, job: &ReportJob, rendered: &Rendered) -> Result<Vec<PathBuf>, RunError> {
        let folder = job.folder(&self.root);
        std::fs::create_dir_all(&folder).map_err(|source| RunError::Io {
            path: folder.clone(),
            source,
        })?;
        let mut paths = Vec::with_capacity(rendered.files.len());
        for file in &rendered.files {
            let path = folder.join(&file.name);
            write_atomically(&path, &file.bytes)?;
            paths.push(path);
        }
        Ok(paths)
    }

    /// Removes output folders of `report` older than its retention.
    pub fn prune(&self, report: &ReportDefinition) -> usize {
        prune_outputs(&self.root.join(&report.name), report.retention_days)
    }
}

/// Removes the output folders in `folder` (one report's) last written
/// more than `retention_days` ago; returns how many.
pub fn prune_outputs(folder: &Path, retention_days: u32) -> usize {
    let horizon = std::time::Duration::from_secs(u64::from(retention_days) * 86_400);
    let Ok(entries) = std::fs::read_dir(folder) else {
        return 0;
    };
    let mut removed = 0;
    for entry in entries.flatten() {
        let old = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age > horizon);
        if old && entry.path().is_dir() && std::fs::remove_dir_all(entry.path()).is_ok() {
            removed += 1;
        }
    }
    removed
}

/// Writes `bytes` to `path` through a temporary sibling, synced, then renamed.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), RunError> {
    use std::io::Write;
    let io = |source| RunError::Io {
        path: path.to_owned(),
        source,
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = path.with_file_name(format!(".{name}.{}.tmp", std::process::id()));
    let mut file = std::fs::File::create(&tmp).map_err(io)?;
    file.write_all(bytes).map_err(io)?;
    file.sync_all().map_err(io)?;
    std::fs::rename(&tmp, path).map_err(io)
}

fn render_files(
    definition: &ReportDefinition,
    job: &ReportJob,
    results: &[Vec<RecordBatch>],
) -> Result<Rendered, RunError> {
    let tz: Tz = job.window.time_zone.parse().unwrap_or(chrono_tz::UTC);
    let local =
        |t: chrono::DateTime<Utc>| t.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string();
    let queues = if job.queues.is_empty() {
        "all queues".to_owned()
    } else {
        format!("queues {}", job.queues.join(", "))
    };
    // The days covered, the last one included (the window's end is the
    // first instant after it).
    let first = job.window.start.with_timezone(&tz).date_naive();
    let last = (job.window.end - chrono::Duration::seconds(1))
        .with_timezone(&tz)
        .date_naive();
    let days = if first == last {
        first.format("%a %Y-%m-%d").to_string()
    } else {
        format!(
            "{} to {}",
            first.format("%a %Y-%m-%d"),
            last.format("%a %Y-%m-%d")
        )
    };
    let subtitle = format!("{days} ({}) · {queues}", tz.name());
    let generated = format!("{} {}", local(Utc::now()), tz.name());
    let report = Report {
        title: &definition.title,
        subtitle: &subtitle,
        generated: &generated,
        time_zone: tz,
        sections: definition
            .queries
            .iter()
            .zip(results)
            .map(|(query, batches)| Section {
                name: &query.name,
                title: &query.title,
                presentation: query.presentation,
                chart: query.chart.as_ref(),
                batches,
            })
            .collect(),
    };
    let mut files = Vec::new();
    let mut formats = job.formats.clone();
    formats.sort();
    formats.dedup();
    for format in formats {
        let fail = |source| RunError::Render { format, source };
        match format {
            Format::Xlsx => files.push(OutputFile {
                name: job.file_name(format, None),
                format,
                bytes: xlsx::workbook(&report).map_err(fail)?,
            }),
            Format::Pdf => files.push(OutputFile {
                name: job.file_name(format, None),
                format,
                bytes: pdf::pdf(&report).map_err(fail)?,
            }),
            Format::Csv => {
                for section in &report.sections {
                    files.push(OutputFile {
                        name: job.file_name(format, Some(section.name)),
                        format,
                        bytes: csv::section_csv(&report, section).map_err(fail)?,
                    });
                }
            }
        }
    }
    let mut headlines = Vec::new();
    for section in report
        .sections
        .iter()
        .filter(|s| s.presentation == Presentation::Summary)
    {
        let Some(schema) = section.batches.first().map(|b| b.schema()) else {
            continue;
        };
        let columns = values::columns(section.batches).map_err(|source| RunError::Render {
            format: Format::Pdf,
            source,
        })?;
        for (field, column) in schema.fields().iter().zip(&columns) {
            if let Some(value) = column.first() {
                headlines.push((
                    values::humanize(field.name()),
                    values::display(value, field.name(), tz),
                ));
            }
        }
    }
    Ok(Rendered {
        title: definition.title.clone(),
        subtitle,
        rows: definition
            .queries
            .iter()
            .zip(results)
            .map(|(q, batches)| QueryRows {
                query: q.name.clone(),
                rows: batches.iter().map(RecordBatch::num_rows).sum(),
            })
            .collect(),
        files,
        headlines,
        query_seconds: 0.0,
        render_seconds: 0.0,
    })
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, SystemTime};

    use super::*;

    #[test]
    fn outputs_older_than_the_retention_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        let (old, fresh) = (
            dir.path().join("r-2024-01-01"),
            dir.path().join("r-2024-03-01"),
        );
        for folder in [&old, &fresh] {
            std::fs::create_dir_all(folder).unwrap();
            write_atomically(&folder.join("r.pdf"), b"%PDF-").unwrap();
        }
        let ten_days_ago = SystemTime::now() - Duration::from_secs(10 * 86_400);
        std::fs::File::open(&old)
            .unwrap()
            .set_modified(ten_days_ago)
            .unwrap();
        assert_eq!(prune_outputs(dir.path(), 30), 0);
        assert_eq!(prune_outputs(dir.path(), 7), 1);
        assert!(!old.exists() && fresh.join("r.pdf").is_file());
        assert_eq!(prune_outputs(&dir.path().join("none"), 7), 0);
    }
}
