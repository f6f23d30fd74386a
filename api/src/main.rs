//! The `queuelake` binary: CLI over the ingest and engine crates, and the
//! HTTP API.
//!
//! Modules:
//! - `cli`: arguments.
//! - `config`: `queuelake.toml`, typed and checked at start-up.
//! - `auth`: tokens, roles and scopes.
//! - `sessions`: one SQL session per scope, shared by HTTP and the PostgreSQL port.
//! - `commands`: one module per subcommand (`ingest`, `sql`, `serve`, `demo`, `init`).
//! - `http`: the axum API (SQL, live state, metrics, docs), its auth, errors and limits.
//! - `postgres_wire`: SQL over the PostgreSQL wire protocol.
//! - `planning`: forecast and staffing runs (lake in, lake out).
//! - `scheduling`: shift schedules: drafts, edits, publication.
//! - `pacing`: dialer pacing decisions per campaign.

mod auth;
mod cli;
mod commands;
mod config;
mod http;
mod pacing;
mod planning;
mod postgres_wire;
mod reports;
mod scheduling;
mod sessions;

use clap::Parser;

/// mimalloc reuses freed memory instead of returning large buffers to the
/// OS and faulting fresh zeroed pages in for the next batch.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    let cli = cli::Cli::parse();
    commands::init_logging(cli.log_json);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(commands::run(cli.command)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
