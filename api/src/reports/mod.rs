//! Scheduled and on-demand reports: definitions from `queuelake-reports`,
//! run on a durable job queue (apalis), delivered by e-mail.
//!
//! - [`settings`]: `[jobs]` and `[mail]`.
//! - [`job`]: the stored job, its outcome and its output paths.
//! - [`runner`]: queries → renderers → files committed by rename.
//! - [`store`]: the SQLite or PostgreSQL job store, status, history and
//!   the delivery ledger.
//! - [`mail`]: outbox and SMTP delivery, once per job.
//! - [`service`]: run requests, workers and cron schedules.

pub mod job;
pub mod mail;
pub mod runner;
pub mod service;
pub mod settings;
pub mod store;
