//! `queuelake demo`: the whole product on an emulated contact center, in
//! one command with nothing to install.
//!
//! ```text
//!  simulation ─▶ emulated Asterisk ─▶ <data>/pbx/queue_log (+ rotated days of history)
//!                    │ AMI on 127.0.0.1:<free port>
//!  history ─backfill─▶ <data>/lake ◀─ Service (tail + AMI client + live state + HTTP)
//! ```
//!
//! The contact center keeps office hours, so a demo started at night
//! would show an empty floor: its clock starts at the wall clock when
//! that is a weekday between 08:00 and 18:00 UTC, and otherwise at the
//! latest weekday 10:00 UTC before it (the API shows the PBX's clock).
//! Each run starts a fresh demo folder; a folder that is not a demo
//! folder is never touched.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, SystemTime};

use queuelake_engine::kpi::KpiSettings;
use queuelake_engine::lake::Lake;
use queuelake_engine::rollup::CallsRollup;
use queuelake_ingest::ami::client::AmiClientConfig;
use queuelake_ingest::emulator::dialer::{self, DialerConfig, SharedStats};
use queuelake_ingest::emulator::{AmiCredentials, Emulator, EmulatorConfig};
use queuelake_ingest::queue_log::backfill::{self, BackfillOptions, Progress};
use queuelake_ingest::queue_log::deadletter::DeadLetters;
use queuelake_ingest::queue_log::tail::TailOptions;
use queuelake_scheduler::sim::{Millis, demo_config};

use crate::auth::token;
use crate::auth::{Role, TokenEntry};
use crate::cli::DemoArgs;
use crate::commands::queue_log_writer;
use crate::commands::serve::{QueueLogInput, Service, ServiceConfig, shutdown_signal};
use crate::config::{ConfigFile, PostgresWireSection, ServerSection};
use crate::pacing::settings::{CampaignPacing, PacingSection};
use crate::planning::settings::PlanSettings;

/// Marks a folder as the demo's own (so a rerun may clear it).
const MARKER: &str = ".queuelake-demo";

const HOUR: Millis = 3_600_000;
const DAY: Millis = 24 * HOUR;

pub async fn run(args: DemoArgs) -> anyhow::Result<ExitCode> {
    prepare_folder(&args.data)?;
    let pbx = args.data.join("pbx");
    let lake_dir = args.data.join("lake");
    std::fs::create_dir_all(&pbx)?;

    let now = wall_clock_ms();
    let live_from = open_hours_instant(now);
    let secret = random_secret()?;
    let sim = demo_config(args.seed);
    // What its queues.conf would say, as an operator puts it in [ami].
    let queue_wrapup = sim
        .queues
        .iter()
        .map(|q| (q.name.clone(), f64::from(q.wrapup_s)))
        .collect();
    let campaigns: Vec<String> = sim.campaigns.iter().map(|c| c.name.clone()).collect();
    // Its campaigns, as an operator would list them: each with its queue
    // and that queue's wrap-up.
    let paced: Vec<CampaignPacing> = sim
        .campaigns
        .iter()
        .map(|c| CampaignPacing {
            name: c.name.clone(),
            queue: Some(c.queue.clone()),
            wrap_s: sim
                .queues
                .iter()
                .find(|q| q.name == c.queue)
                .map_or(15.0, |q| f64::from(q.wrapup_s)),
            ..CampaignPacing::default()
        })
        .collect();
    let mut config = EmulatorConfig::new(sim, pbx.join("queue_log"));
    // Live, the campaign dials only as queuelake's pacing says (below).
    config.external_dialing = true;
    config.speed = args.speed;
    config.history_days = args.history_weeks * 7;
    config.live_from = Some(live_from);
    config.ami = Some((
        "127.0.0.1:0".parse()?,
        AmiCredentials {
            username: "queuelake".into(),
            secret: secret.clone(),
        },
    ));
    let started = std::time::Instant::now();
    let emulator = Emulator::start(config).await?;
    let ami = emulator
        .ami_address()
        .ok_or_else(|| anyhow::anyhow!("the emulator serves no AMI"))?;
    let history = emulator.rotated_files();
    tracing::info!(
        files = history.len(),
        seconds = started.elapsed().as_secs_f64(),
        "history generated"
    );

    import_history(&lake_dir, &history, emulator.queue_log()).await?;
    tracing::info!(
        seconds = started.elapsed().as_secs_f64(),
        "history in the lake"
    );

    let mut kpi = args.kpi.kpi(&KpiSettings::default());
    kpi.time_zone = "UTC".into(); // the demo contact center's clock is UTC
    kpi.campaigns = paced.iter().map(CampaignPacing::rule).collect();
    // QUEUELAKE_<SECTION>__<KEY> variables apply to the demo too.
    let defaults = ConfigFile::resolve(None)?;
    let plan = PlanSettings::from_sections(&defaults.forecast, &defaults.staffing, &kpi)?;
    let reports =
        queuelake_reports::definition::definitions(&[], &kpi.time_zone, std::path::Path::new("."))?;
    // Two tokens made for this run: the admin's (printed) and the
    // emulated dialer's (a dialer may only read pacing).
    let admin_token = token::generate()?;
    let dialer_token = token::generate()?;
    let entry = |name: &str, role: Role, token: &str| TokenEntry {
        name: name.into(),
        role,
        sha256: token::digest_hex(token),
        queues: None,
        campaigns: None,
        requests_per_second: None,
        burst: None,
    };
    let tokens = vec![
        entry("admin", Role::Admin, &admin_token),
        entry("demo-dialer", Role::Dialer, &dialer_token),
    ];
    let service = Service::start(ServiceConfig {
        data: lake_dir,
        queue_log: QueueLogInput::File(emulator.queue_log().clone()),
        ami: Some(AmiClientConfig::new(&ami.to_string(), "queuelake", &secret)),
        queue_wrapup,
        journal_rotate_bytes: queuelake_ingest::ami::journal::ROTATE_BYTES,
        server: ServerSection {
            listen: args.listen,
            ..defaults.server
        },
        postgres_wire: Some(PostgresWireSection {
            listen: args.pg_listen,
            ..defaults.postgres_wire
        }),
        query: args.kpi.query(&defaults.query),
        tail: TailOptions {
            poll: Duration::from_millis(250),
            flush_interval: Duration::from_secs(30),
            flush_rows: 200_000,
        },
        rollup_every: Duration::from_secs(60),
        kpi,
        plan,
        scheduling: defaults.scheduling.clone(),
        pacing: PacingSection {
            campaigns: paced,
            ..defaults.pacing.clone()
        },
        reports,
        jobs: defaults.jobs.clone(),
        mail: defaults.mail.clone(),
        tokens,
    })
    .await?;
    // The emulated dialer: one Originate per call pacing tells it to place.
    let (stop_dialers, dialers_stop) = tokio::sync::watch::channel(false);
    for campaign in campaigns {
        let config = DialerConfig {
            api: service.address(),
            token: dialer_token.clone(),
            campaign,
            ami,
            credentials: AmiCredentials {
                username: "queuelake".into(),
                secret: secret.clone(),
            },
            poll: Duration::from_secs_f64((1.0 / args.speed).max(0.05)),
            max_per_poll: 50,
            floor_untrusted: None,
        };
        let stop = dialers_stop.clone();
        tokio::spawn(async move {
            if let Err(e) = dialer::run(config, SharedStats::default(), stop).await {
                tracing::error!(error = %e, "the demo's dialer stopped");
            }
        });
    }
    // A forecast and its staffing on the simulated history, before the
    // floor opens (the schedule then repeats it every [forecast] every_hours).
    let planned = service.plan_now().await;
    if let Err(e) = &planned {
        tracing::error!(error = %e, "the demo's first forecast failed");
    }
    {
        let address = service.address();
        let token = admin_token;
        let mut out = std::io::stdout().lock();
        writeln!(
            out,
            "queuelake demo: {} weeks of history, the contact center's clock at {} (x{} speed)",
            args.history_weeks,
            rfc3339(live_from),
            args.speed
        )?;
        writeln!(out, "admin token: {token}")?;
        writeln!(
            out,
            "  (made for this run; every API call needs it as `Authorization: Bearer <token>`)"
        )?;
        writeln!(
            out,
            "live queues: curl -s http://{address}/api/v1/live/queues -H 'authorization: Bearer {token}'"
        )?;
        writeln!(
            out,
            "SQL: curl -s http://{address}/api/v1/sql -H 'authorization: Bearer {token}' -H 'content-type: application/json' -d '{{\"sql\":\"SELECT * FROM interval_stats ORDER BY interval_start DESC LIMIT 5\"}}'"
        )?;
        if let Some(pg) = service.postgres_address() {
            writeln!(
                out,
                "psql: PGPASSWORD={token} psql -h {} -p {} -U admin queuelake",
                pg.ip(),
                pg.port()
            )?;
            writeln!(out, "postgres wire on {pg}")?;
        }
        if let Ok((forecast, staffing)) = &planned {
            writeln!(
                out,
                "forecast: curl -s http://{address}/api/v1/forecasts/{} -H 'authorization: Bearer {token}'",
                forecast.run_id
            )?;
            writeln!(
                out,
                "staffing: curl -s http://{address}/api/v1/staffing/{} -H 'authorization: Bearer {token}'",
                staffing.run_id
            )?;
        }
        writeln!(out, "dashboards: http://{address}/#token={token}")?;
        writeln!(out, "API description: http://{address}/api/v1/docs/")?;
        writeln!(out, "listening on http://{address}")?;
        writeln!(out, "Ctrl-C stops everything")?;
        out.flush()?;
    }
    service.run_until(shutdown_signal()).await?;
    let _ = stop_dialers.send(true);
    drop(emulator);
    Ok(ExitCode::SUCCESS)
}

/// Makes `data` an empty demo folder: created if missing, cleared if it
/// is a demo folder from an earlier run, refused otherwise.
fn prepare_folder(data: &Path) -> anyhow::Result<()> {
    if data.exists() {
        let empty = std::fs::read_dir(data)?.next().is_none();
        if !empty && !data.join(MARKER).exists() {
            anyhow::bail!(
                "{} exists and is not a queuelake demo folder; give another --data",
                data.display()
            );
        }
        for entry in std::fs::read_dir(data)? {
            let path = entry?.path();
            if path.is_dir() {
                std::fs::remove_dir_all(&path)?;
            } else {
                std::fs::remove_file(&path)?;
            }
        }
    }
    std::fs::create_dir_all(data)?;
    std::fs::write(
        data.join(MARKER),
        "made by `queuelake demo`; cleared by its next run\n",
    )?;
    Ok(())
}

/// Backfills the rotated history and what the live file holds so far.
async fn import_history(lake_dir: &Path, history: &[PathBuf], live: &Path) -> anyhow::Result<()> {
    let lake = Lake::open_local(lake_dir)?;
    let (lock, mut writer) = queue_log_writer(&lake).await?;
    let mut dead = DeadLetters::open(lake.root())?;
    let mut files = history.to_vec();
    files.push(live.to_owned());
    let files = backfill::order_files(&files);
    backfill::backfill(
        &mut writer,
        &mut dead,
        &files,
        &BackfillOptions::default(),
        &Progress::default(),
    )
    .await?;
    CallsRollup::open(&lake, &lock)
        .await?
        .refresh(writer.snapshot())
        .await?;
    Ok(())
}

/// `now` if it is a weekday between 08:00 and 18:00 UTC, else the latest
/// weekday 10:00 UTC before it.
fn open_hours_instant(now: Millis) -> Millis {
    let weekday = |at: Millis| (at.div_euclid(DAY) + 3).rem_euclid(7); // 0 = Monday
    let hour = now.rem_euclid(DAY) / HOUR;
    if weekday(now) < 5 && (8..18).contains(&hour) {
        return now;
    }
    let mut day = now.div_euclid(DAY) * DAY;
    if hour < 10 {
        day -= DAY;
    }
    while weekday(day) >= 5 {
        day -= DAY;
    }
    day + 10 * HOUR
}

fn wall_clock_ms() -> Millis {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as Millis)
}

fn rfc3339(at: Millis) -> String {
    chrono::DateTime::<chrono::Utc>::from_timestamp_millis(at)
        .unwrap_or_default()
        .to_rfc3339()
}

/// A fresh AMI secret for this run (the emulator listens on loopback only).
fn random_secret() -> anyhow::Result<String> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_clock_lands_in_office_hours() {
        // 2024-03-06 (a Wednesday) 14:00 UTC: now.
        let wed_14 = 1_709_733_600_000;
        assert_eq!(open_hours_instant(wed_14), wed_14);
        // Wednesday 03:00 → Tuesday 10:00.
        let wed_03 = 1_709_694_000_000;
        assert_eq!(
            rfc3339(open_hours_instant(wed_03)),
            "2024-03-05T10:00:00+00:00"
        );
        // Sunday 2024-03-10 20:00 → Friday 10:00.
        let sun_20 = 1_710_100_800_000;
        assert_eq!(
            rfc3339(open_hours_instant(sun_20)),
            "2024-03-08T10:00:00+00:00"
        );
        // Wednesday 19:00 → Wednesday 10:00.
        let wed_19 = 1_709_751_600_000;
        assert_eq!(
            rfc3339(open_hours_instant(wed_19)),
            "2024-03-06T10:00:00+00:00"
        );
    }
}
