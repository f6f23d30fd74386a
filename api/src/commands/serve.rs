//! `queuelake serve`: follow the live queue_log into the lake and serve the
//! HTTP API over it. SIGTERM or Ctrl-C commits what is held and exits 0.

use std::io::Write;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use queuelake_engine::lake::Lake;
use queuelake_engine::rollup::CallsRollup;
use queuelake_engine::session::LakeTables;
use queuelake_ingest::queue_log::deadletter::DeadLetters;
use queuelake_ingest::queue_log::tail::{TailOptions, Tailer};

use crate::cli::ServeArgs;
use crate::commands::{engine, queue_log_writer};
use crate::http::{AppState, router};

pub async fn run(args: ServeArgs) -> anyhow::Result<ExitCode> {
    let lake = Lake::open_local(&args.data)?;
    let (lock, writer) = queue_log_writer(&lake).await?;
    let rollup = CallsRollup::open(&lake, &lock).await?;
    let tables = LakeTables::at(&lake, writer.snapshot(), rollup.snapshot()).await?;
    let engine = engine(&tables, &args.kpi).await?;
    let live = tables.queue_log.clone();

    let stop = Arc::new(AtomicBool::new(false));
    let options = TailOptions {
        poll: Duration::from_millis(args.poll_ms),
        flush_interval: Duration::from_secs(args.flush_seconds),
        flush_rows: args.flush_rows,
    };
    let tailer = Tailer::new(
        args.queue_log.clone(),
        writer,
        live,
        DeadLetters::open(lake.root())?,
        options,
        tokio::runtime::Handle::current(),
    );
    let tail_stop = stop.clone();
    let tail_thread = std::thread::Builder::new()
        .name("queue_log-tail".into())
        .spawn(move || {
            let result = tailer.run(tail_stop.clone());
            tail_stop.store(true, Ordering::SeqCst); // a failed tail stops the server
            result
        })?;

    let listener = tokio::net::TcpListener::bind(args.listen).await?;
    let addr = listener.local_addr()?;
    tracing::info!(%addr, data = %args.data.display(), queue_log = %args.queue_log.display(), "queuelake listening");
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "listening on http://{addr}")?;
        out.flush()?;
    }
    let rollups = tokio::spawn(store_closed_days(
        rollup,
        tables,
        Duration::from_secs(args.rollup_seconds.max(1)),
    ));
    let state = Arc::new(AppState { engine });
    let server = axum::serve(listener, router(state)).with_graceful_shutdown(shutdown_signal());

    let tail_watch = {
        let stop = stop.clone();
        async move {
            // Set when the tail thread ends on its own (an error): stop serving.
            while !stop.load(Ordering::SeqCst) {
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    };
    tokio::select! {
        r = server => r?,
        () = tail_watch => {}
    }
    stop.store(true, Ordering::SeqCst);
    rollups.abort(); // a refresh cut short commits nothing
    let stats = tokio::task::spawn_blocking(move || tail_thread.join())
        .await?
        .map_err(|_| anyhow::anyhow!("the tail thread panicked"))??;
    tracing::info!(
        rows = stats.rows,
        dead_letters = stats.dead_letters,
        "stopped; everything read is committed"
    );
    Ok(ExitCode::SUCCESS)
}

/// Stores closed days of `calls` as the tail commits them, every `period`.
/// A failed refresh is logged and retried; queries stay correct meanwhile
/// (they compute the days not stored).
async fn store_closed_days(mut rollup: CallsRollup, tables: LakeTables, period: Duration) {
    loop {
        let started = std::time::Instant::now();
        match rollup.refresh(&tables.queue_log.snapshot()).await {
            Ok(report) if report.days > 0 => {
                if let Err(e) = tables.calls_by_day.publish_commit(rollup.snapshot(), 0) {
                    tracing::error!(error = %e, "could not publish stored days of calls");
                }
                tracing::info!(
                    days = report.days,
                    visits = report.visits,
                    seconds = started.elapsed().as_secs_f64(),
                    "stored closed days of calls"
                );
            }
            Ok(_) => {}
            Err(e) => {
                tracing::error!(error = %e, "storing closed days of calls failed; will retry")
            }
        }
        tokio::time::sleep(period).await;
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down: committing what is held");
}
