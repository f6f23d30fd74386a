//! `[jobs]` (the report job queue) and `[mail]` (e-mail delivery).

use std::path::PathBuf;

use serde::Deserialize;

/// `[jobs]`: where report jobs are kept and how they run.
#[derive(Debug, Deserialize, PartialEq, Clone)]
#[serde(deny_unknown_fields, default)]
pub struct JobsSection {
    /// A PostgreSQL URL: workers on several machines share its queue.
    /// Unset: an embedded SQLite file, `<data>/jobs.sqlite`.
    pub postgres_url: Option<String>,
    /// The queue's name in the store: deployments sharing one PostgreSQL
    /// database keep their jobs apart by it (all workers of one
    /// deployment must know the same reports).
    pub queue: String,
    /// Attempts of a job before it is marked failed (its first run included).
    pub attempts: u32,
    /// Wait before the first retry, seconds; doubled on each retry.
    pub retry_seconds: u64,
    /// Longest wait between retries, seconds.
    pub max_retry_seconds: u64,
    /// Seconds between a worker's heartbeats. A worker silent for two
    /// heartbeats is presumed dead and its running job runs again elsewhere.
    pub heartbeat_seconds: u64,
    /// Seconds between looks for new jobs.
    pub poll_seconds: u64,
    /// Reports a worker renders at once.
    pub concurrency: usize,
    /// Whether this process runs workers (false: it only schedules and
    /// serves, other machines render).
    pub worker: bool,
}

impl Default for JobsSection {
    fn default() -> Self {
        JobsSection {
            postgres_url: None,
            queue: crate::reports::store::DEFAULT_QUEUE.into(),
            attempts: 4,
            retry_seconds: 30,
            max_retry_seconds: 600,
            heartbeat_seconds: 30,
            poll_seconds: 2,
            concurrency: 1,
            worker: true,
        }
    }
}

impl JobsSection {
    /// Checks every value.
    pub fn check(&self) -> Result<(), String> {
        if self.attempts == 0 {
            return Err("[jobs] attempts = 0 would never run a job".into());
        }
        if self.heartbeat_seconds == 0 || self.poll_seconds == 0 {
            return Err("[jobs] heartbeat_seconds and poll_seconds are at least 1".into());
        }
        if self.queue.trim().is_empty() {
            return Err("[jobs] queue is empty".into());
        }
        if self.concurrency == 0 {
            return Err("[jobs] concurrency is at least 1".into());
        }
        if self.max_retry_seconds < self.retry_seconds {
            return Err("[jobs] max_retry_seconds is below retry_seconds".into());
        }
        if let Some(url) = &self.postgres_url
            && !(url.starts_with("postgres://") || url.starts_with("postgresql://"))
        {
            return Err(format!(
                "[jobs] postgres_url {url:?}: expected postgres://USER@HOST:PORT/DATABASE"
            ));
        }
        Ok(())
    }
}

/// How the SMTP connection is secured.
#[derive(Debug, Deserialize, PartialEq, Eq, Clone, Copy, Default)]
#[serde(rename_all = "lowercase")]
pub enum SmtpSecurity {
    /// Plain connection upgraded with STARTTLS (refused if the server cannot).
    #[default]
    Starttls,
    /// TLS from the first byte (port 465).
    Tls,
    /// No encryption (a relay on localhost or a test server).
    None,
}

/// `[mail]`: how reports are e-mailed.
#[derive(Debug, Deserialize, PartialEq, Clone)]
#[serde(deny_unknown_fields, default)]
pub struct MailSection {
    /// The sender, `Name <address>` or `address`.
    pub from: String,
    /// SMTP server host; unset: messages stay in the outbox folder for
    /// another program to send.
    pub smtp_host: Option<String>,
    /// SMTP port (default: 587 for starttls, 465 for tls, 25 for none).
    pub smtp_port: Option<u16>,
    /// `starttls`, `tls` or `none`.
    pub security: SmtpSecurity,
    /// SMTP user, if the server wants a login.
    pub username: Option<String>,
    /// Its password (or set `QUEUELAKE_MAIL__PASSWORD`).
    pub password: Option<String>,
    /// A PEM file of extra CA certificates to trust (a private CA).
    pub ca_file: Option<PathBuf>,
    /// Where messages are written before sending (default `<data>/outbox`);
    /// sent ones move to its `sent/` folder.
    pub outbox: Option<PathBuf>,
    /// Seconds an SMTP exchange may take.
    pub timeout_seconds: u64,
}

impl Default for MailSection {
    fn default() -> Self {
        MailSection {
            from: "queuelake <reports@localhost>".into(),
            smtp_host: None,
            smtp_port: None,
            security: SmtpSecurity::Starttls,
            username: None,
            password: None,
            ca_file: None,
            outbox: None,
            timeout_seconds: 60,
        }
    }
}

impl MailSection {
    /// Checks every value.
    pub fn check(&self) -> Result<(), String> {
        self.from
            .parse::<lettre::message::Mailbox>()
            .map_err(|e| format!("[mail] from {:?}: {e}", self.from))?;
        if self.username.is_some() != self.password.is_some() {
            return Err("[mail] username and password go together".into());
        }
        if self.timeout_seconds == 0 {
            return Err("[mail] timeout_seconds is at least 1".into());
        }
        Ok(())
    }

    /// The SMTP port in use.
    pub fn port(&self) -> u16 {
        self.smtp_port.unwrap_or(match self.security {
            SmtpSecurity::Starttls => 587,
            SmtpSecurity::Tls => 465,
            SmtpSecurity::None => 25,
        })
    }
}
