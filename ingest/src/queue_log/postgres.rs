//! queue_log in PostgreSQL: Asterisk's realtime backend writes one row per
//! event into a table (`time`, `callid`, `queuename`, `agent`, `event`,
//! and `data1`..`data5` or a single `data`); this source follows it by its
//! `id` into the lake's `queue_log`, with the same rows the file source
//! gives and the same exactly-once guarantee.
//!
//! ```text
//!  SELECT … WHERE id > <committed id> ORDER BY id LIMIT n
//!     └─▶ each row → the line Asterisk would have written → parse → rows / dead letters
//!           └─▶ memory (visible to SQL) ─every flush─▶ commit(rows, position = last id)
//! ```
//!
//! Rows become lines (`<epoch>|callid|queue|agent|event|payload`) and go
//! through the file parser, so both sources agree by construction; the
//! payload is `data`, or `data1`..`data5` joined by `|` without trailing
//! empty columns (the table cannot tell an empty last field from a
//! missing one). `time` may be epoch seconds (Asterisk 1.6), a local
//! `YYYY-MM-DD HH:MM:SS.uuuuuu` string or `timestamp` (1.8+, read in
//! [`PostgresOptions::time_zone`]), or a `timestamptz`.
//!
//! Exactly once: the commit record holds the last id read; a restart
//! resumes after it. Ids from concurrent inserts can become visible out
//! of order: a gap in the ids is waited on for [`GAP_WAIT`] before it is
//! passed (a rolled-back insert leaves a gap for good).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use arrow::array::RecordBatch;
use chrono::{DateTime, NaiveDateTime, TimeZone};
use queuelake_engine::lake::{SourcePosition, TableWriter};
use queuelake_engine::live::LiveTable;
use queuelake_engine::tables::QueueLogBuilder;
use tokio::sync::watch;
use tokio_postgres::NoTls;

use crate::error::{IngestError, Result};
use crate::queue_log::deadletter::{DeadLetter, DeadLetters, hex};
use crate::queue_log::framing::Framed;
use crate::queue_log::rows::{LineStats, RowSink};
use crate::queue_log::tail::TailOptions;

/// How long a gap in the ids is waited on before it is passed.
pub const GAP_WAIT: Duration = Duration::from_secs(5);

/// Rows fetched per query.
const FETCH_ROWS: i64 = 10_000;

/// Knobs of the source.
#[derive(Debug, Clone)]
pub struct PostgresOptions {
    /// The table (`name` or `schema.name`).
    pub table: String,
    /// Zone of `time` values without one (Asterisk writes local time
    /// unless `queue_log_realtime_use_gmt = yes`).
    pub time_zone: String,
    /// Polling (when there was nothing new) and commit cadence, as the
    /// file tail's.
    pub cadence: TailOptions,
}

/// Follows one queue_log table into the lake.
pub struct PostgresSource {
    url: String,
    options: PostgresOptions,
    time_zone: chrono_tz::Tz,
    select: String,
    source_id: String,
    label: String,
    writer: TableWriter,
    live: LiveTable,
    dead: DeadLetters,
    client: Option<tokio_postgres::Client>,
    last_id: i64,
    lines: u64,
    uncommitted: Vec<RecordBatch>,
    uncommitted_rows: usize,
    oldest_uncommitted: Option<Instant>,
    gap_seen: Option<(i64, Instant)>,
    stats: LineStats,
}

/// A table name made of letters, digits and `_`, optionally with a schema.
fn quoted_table(table: &str) -> Result<(String, Option<String>, String)> {
    let parts: Vec<&str> = table.split('.').collect();
    let valid = |p: &str| !p.is_empty() && p.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if parts.is_empty() || parts.len() > 2 || !parts.iter().all(|p| valid(p)) {
        return Err(IngestError::Postgres {
            what: table.to_owned(),
            reason: "a table name is letters, digits and _ (optionally schema.table)".into(),
        });
    }
    let quoted = parts
        .iter()
        .map(|p| format!("\"{p}\""))
        .collect::<Vec<_>>()
        .join(".");
    let (schema, name) = match parts.as_slice() {
        [schema, name] => (Some((*schema).to_owned()), (*name).to_owned()),
        _ => (None, parts[0].to_owned()),
    };
    Ok((quoted, schema, name))
}

impl PostgresSource {
    /// Connects, checks the table's columns, and resumes after the id the
    /// lake has committed.
    pub async fn connect(
        url: &str,
        options: PostgresOptions,
        writer: TableWriter,
        live: LiveTable,
        dead: DeadLetters,
    ) -> Result<Self> {
        let config: tokio_postgres::Config = url.parse().map_err(|e| IngestError::Postgres {
            what: "the URL".into(),
            reason: format!("{e}"),
        })?;
        let time_zone: chrono_tz::Tz =
            options
                .time_zone
                .parse()
                .map_err(|e| IngestError::Postgres {
                    what: "the time zone".into(),
                    reason: format!("{e}"),
                })?;
        let host = config
            .get_hosts()
            .first()
            .map(|h| match h {
                tokio_postgres::config::Host::Tcp(name) => name.clone(),
                tokio_postgres::config::Host::Unix(path) => path.display().to_string(),
            })
            .unwrap_or_default();
        let port = config.get_ports().first().copied().unwrap_or(5432);
        let db = config.get_dbname().unwrap_or("").to_owned();
        let label = format!("postgres://{host}:{port}/{db}#{}", options.table);
        let source_id = format!("pg-{:032x}", xxhash_rust::xxh3::xxh3_128(label.as_bytes()));
        let (quoted, schema, name) = quoted_table(&options.table)?;
        let client = open(url).await?;
        let rows = client
            .query(
                "SELECT column_name::text FROM information_schema.columns \
                 WHERE table_name = $1 AND table_schema = COALESCE($2, current_schema())",
                &[&name, &schema],
            )
            .await
            .map_err(|e| pg_error(&label, e))?;
        let columns: Vec<String> = rows
            .iter()
            .map(|r| r.get::<_, String>(0).to_ascii_lowercase())
            .collect();
        let has = |c: &str| columns.iter().any(|x| x == c);
        if columns.is_empty() {
            return Err(IngestError::Postgres {
                what: label,
                reason: "no such table".into(),
            });
        }
        for needed in ["id", "time", "callid", "queuename", "agent", "event"] {
            if !has(needed) {
                let hint = if needed == "id" {
                    " (add one: ALTER TABLE … ADD COLUMN id BIGSERIAL PRIMARY KEY; Asterisk 13+'s schema has it)"
                } else {
                    ""
                };
                return Err(IngestError::Postgres {
                    what: label,
                    reason: format!("the table has no column {needed}{hint}"),
                });
            }
        }
        let payload = if (1..=5).all(|i| has(&format!("data{i}"))) {
            "data1::text, data2::text, data3::text, data4::text, data5::text".to_owned()
        } else if has("data") {
            "data::text, NULL::text, NULL::text, NULL::text, NULL::text".to_owned()
        } else {
            return Err(IngestError::Postgres {
                what: label,
                reason: "the table has neither data1..data5 nor data".into(),
            });
        };
        let select = format!(
            "SELECT id::int8, \"time\"::text, callid::text, queuename::text, agent::text, \
             event::text, {payload} FROM {quoted} WHERE id > $1 ORDER BY id LIMIT $2"
        );
        let (last_id, lines) = writer
            .position(&source_id)
            .map_or((0, 0), |p| (p.offset as i64, p.lines));
        tracing::info!(table = %label, after_id = last_id, "following queue_log in PostgreSQL");
        Ok(PostgresSource {
            url: url.to_owned(),
            options,
            time_zone,
            select,
            source_id,
            label,
            writer,
            live,
            dead,
            client: Some(client),
            last_id,
            lines,
            uncommitted: Vec::new(),
            uncommitted_rows: 0,
            oldest_uncommitted: None,
            gap_seen: None,
            stats: LineStats::default(),
        })
    }

    /// Follows the table until `stop` turns true, then commits what it
    /// holds. Lost connections are retried (1 s doubling to 30 s); a lake
    /// that refuses a commit ends it with the error.
    pub async fn run(mut self, mut stop: watch::Receiver<bool>) -> Result<LineStats> {
        let mut retry = Duration::from_secs(1);
        loop {
            if *stop.borrow() {
                break;
            }
            let client = match self.client.take() {
                Some(client) => Ok(client),
                None => open(&self.url).await.inspect(|_| {
                    tracing::info!(table = %self.label, "PostgreSQL reconnected");
                }),
            };
            let read = match client {
                Ok(client) => {
                    let read = self.read_new(&client).await;
                    if read.is_ok() {
                        self.client = Some(client);
                    }
                    read
                }
                Err(e) => Err(e),
            };
            let wait = match read {
                Ok(taken) => {
                    retry = Duration::from_secs(1);
                    if taken == 0 {
                        self.options.cadence.poll
                    } else {
                        Duration::ZERO
                    }
                }
                Err(e) => {
                    tracing::warn!(table = %self.label, error = %e, retry_in_s = retry.as_secs(), "PostgreSQL read failed");
                    let wait = retry;
                    retry = (retry * 2).min(Duration::from_secs(30));
                    wait
                }
            };
            self.maybe_flush().await?;
            if !wait.is_zero() {
                tokio::select! {
                    () = tokio::time::sleep(wait) => {}
                    _ = stop.changed() => {}
                }
            }
        }
        self.flush().await?;
        Ok(self.stats)
    }

    /// Reads rows after the last id; returns how many became lines.
    async fn read_new(&mut self, client: &tokio_postgres::Client) -> Result<usize> {
        let rows = client
            .query(&self.select, &[&self.last_id, &FETCH_ROWS])
            .await
            .map_err(|e| pg_error(&self.label, e))?;
        let mut builder = QueueLogBuilder::default();
        let mut sink = RowSink {
            builder: &mut builder,
            dead: &mut self.dead,
            source: &self.source_id,
            path: &self.label,
            stats: LineStats::default(),
        };
        let mut taken = 0;
        let mut last_id = self.last_id;
        for row in &rows {
            let id: i64 = row.get(0);
            if id != last_id + 1 {
                // A gap: an insert not visible yet, or one rolled back.
                let since = match self.gap_seen {
                    Some((after, since)) if after == last_id => since,
                    _ => {
                        self.gap_seen = Some((last_id, Instant::now()));
                        Instant::now()
                    }
                };
                if since.elapsed() < GAP_WAIT {
                    break;
                }
            }
            let text = |i: usize| row.get::<_, Option<String>>(i);
            let line = compose_line(
                text(1).as_deref(),
                self.time_zone,
                [text(2), text(3), text(4), text(5)],
                [text(6), text(7), text(8), text(9), text(10)],
            );
            match line {
                Ok(line) => sink.line(Framed {
                    bytes: line.as_bytes(),
                    offset: id as u64,
                    overlong: false,
                })?,
                Err(error) => {
                    let raw = format!("{row:?}");
                    sink.dead.record(DeadLetter {
                        source: self.source_id.clone(),
                        path: self.label.clone(),
                        byte_offset: id as u64,
                        error: format!("row id {id}: {error}"),
                        line_hex: hex(raw.as_bytes()),
                        line: raw,
                    })?;
                    sink.stats.dead_letters += 1;
                }
            }
            last_id = id;
            taken += 1;
        }
        let stats = sink.stats;
        self.stats += stats;
        self.lines += stats.rows + stats.dead_letters;
        self.last_id = last_id;
        let batch = builder.finish();
        if batch.num_rows() > 0 {
            self.uncommitted_rows += batch.num_rows();
            self.live.push_rows(batch.clone());
            self.uncommitted.push(batch);
        }
        if taken > 0 {
            self.oldest_uncommitted.get_or_insert_with(Instant::now);
        }
        Ok(taken)
    }

    async fn maybe_flush(&mut self) -> Result<()> {
        let cadence = &self.options.cadence;
        if cadence.flush_due(self.oldest_uncommitted, self.uncommitted_rows) {
            self.flush().await?;
        }
        Ok(())
    }

    /// Commits the rows held with the last id read.
    async fn flush(&mut self) -> Result<()> {
        if self.oldest_uncommitted.is_none() {
            return Ok(());
        }
        let batches = std::mem::take(&mut self.uncommitted);
        let rows = std::mem::take(&mut self.uncommitted_rows);
        self.oldest_uncommitted = None;
        let position = SourcePosition {
            offset: self.last_id as u64,
            tail_hash: 0,
            path: self.label.clone(),
            lines: self.lines,
            followed_since_ms: None,
        };
        let positions = BTreeMap::from([(self.source_id.clone(), position)]);
        self.writer.append(batches, positions).await?;
        self.live.publish_commit(self.writer.snapshot(), rows)?;
        tracing::debug!(
            rows,
            last_id = self.last_id,
            "committed queue_log rows from PostgreSQL"
        );
        Ok(())
    }
}

async fn open(url: &str) -> Result<tokio_postgres::Client> {
    let (client, connection) = tokio_postgres::connect(url, NoTls)
        .await
        .map_err(|e| pg_error("connecting", e))?;
    tokio::spawn(async move {
        if let Err(e) = connection.await {
            tracing::warn!(error = %e, "PostgreSQL connection ended");
        }
    });
    client
        .batch_execute("SET TIME ZONE 'UTC'")
        .await
        .map_err(|e| pg_error("setting the session time zone", e))?;
    Ok(client)
}

fn pg_error(what: &str, e: tokio_postgres::Error) -> IngestError {
    IngestError::Postgres {
        what: what.to_owned(),
        reason: e.to_string(),
    }
}

/// The queue_log line Asterisk's file backend would have written for a row.
pub fn compose_line(
    time: Option<&str>,
    tz: chrono_tz::Tz,
    header: [Option<String>; 4],
    data: [Option<String>; 5],
) -> std::result::Result<String, String> {
    let time = time.ok_or("time is NULL")?;
    let epoch = parse_time(time, tz).ok_or_else(|| format!("time {time:?} is not a time"))?;
    let [callid, queue, agent, event] = header.map(Option::unwrap_or_default);
    let mut fields: Vec<String> = data.into_iter().map(Option::unwrap_or_default).collect();
    while fields.len() > 1 && fields.last().is_some_and(String::is_empty) {
        fields.pop();
    }
    Ok(format!(
        "{epoch}|{callid}|{queue}|{agent}|{event}|{}",
        fields.join("|")
    ))
}

/// Unix seconds of a `time` value: epoch seconds, a timestamp with an
/// offset (`timestamptz` as text), or a local timestamp in `tz`.
pub fn parse_time(text: &str, tz: chrono_tz::Tz) -> Option<i64> {
    let text = text.trim();
    if let Ok(epoch) = text.parse::<f64>() {
        return epoch.is_finite().then_some(epoch.floor() as i64);
    }
    if let Ok(t) = DateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f%#z") {
        return Some(t.timestamp());
    }
    let naive = NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f")
        .or_else(|_| NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f"))
        .ok()?;
    // A fall-back hour is ambiguous in local time: the earlier instant.
    tz.from_local_datetime(&naive)
        .earliest()
        .map(|t| t.timestamp())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_time_layout_asterisk_writes_is_read() {
        let paris: chrono_tz::Tz = "Europe/Paris".parse().unwrap();
        assert_eq!(parse_time("1709712000", paris), Some(1_709_712_000));
        assert_eq!(
            parse_time("2024-03-06 09:00:00.123456", paris),
            Some(1_709_712_000)
        );
        assert_eq!(
            parse_time("2024-03-06 08:00:00.5+00", paris),
            Some(1_709_712_000)
        );
        assert_eq!(parse_time("yesterday", paris), None);
    }

    #[test]
    fn rows_become_the_lines_of_the_file_backend() {
        let utc = chrono_tz::UTC;
        let s = |v: &str| Some(v.to_owned());
        let line = compose_line(
            Some("1709712000"),
            utc,
            [s("1.1"), s("support"), s("NONE"), s("ENTERQUEUE")],
            [s(""), s("5551234"), s("1"), s(""), s("")],
        )
        .unwrap();
        assert_eq!(line, "1709712000|1.1|support|NONE|ENTERQUEUE||5551234|1");
        let line = compose_line(
            Some("1709712000"),
            utc,
            [s("NONE"), s("NONE"), s("NONE"), s("QUEUESTART")],
            [s(""), None, None, None, None],
        )
        .unwrap();
        assert_eq!(line, "1709712000|NONE|NONE|NONE|QUEUESTART|");
        assert!(compose_line(None, utc, Default::default(), Default::default()).is_err());
    }

    #[test]
    fn table_names_cannot_inject_sql() {
        assert_eq!(
            quoted_table("ql.queue_log").unwrap().0,
            "\"ql\".\"queue_log\""
        );
        assert!(quoted_table("queue_log; DROP TABLE x").is_err());
        assert!(quoted_table("a.b.c").is_err());
    }
}
