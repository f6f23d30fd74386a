//! `queuelake sql`: one read-only query, printed as a table, CSV or JSON.

use std::io::Write;
use std::process::ExitCode;

use queuelake_engine::output;
use queuelake_engine::session::LakeTables;

use crate::cli::{Format, SqlArgs};
use crate::commands::{engine, open_existing_lake};

pub async fn run(args: SqlArgs) -> anyhow::Result<ExitCode> {
    let lake = open_existing_lake(&args.data)?;
    let tables = LakeTables::committed(&lake).await?;
    let engine = engine(&tables, &args.kpi).await?;
    let result = engine.query(&args.query).await?;
    let text = match args.format {
        Format::Table => output::to_table(&result)? + "\n",
        Format::Csv => output::to_csv(&result)?,
        Format::Json => serde_json::to_string(&output::to_json(&result)?)? + "\n",
    };
    std::io::stdout().lock().write_all(text.as_bytes())?;
    Ok(ExitCode::SUCCESS)
}
