//! `queuelake init --config PATH`: writes the annotated default
//! configuration with a new admin token, and prints the token once (only
//! its SHA-256 is written).

use std::io::Write;
use std::process::ExitCode;

use crate::auth::token;
use crate::cli::InitArgs;
use crate::config::ConfigFile;

/// The annotated default configuration; `{{admin_sha256}}` is replaced by
/// the new token's digest.
pub const TEMPLATE: &str = include_str!("init/queuelake.toml");

/// The template with `admin_sha256` as the admin token's digest.
pub fn render(admin_sha256: &str) -> String {
    TEMPLATE.replace("{{admin_sha256}}", admin_sha256)
}

pub fn run(args: InitArgs) -> anyhow::Result<ExitCode> {
    let token = token::generate()?;
    let text = render(&token::digest_hex(&token));
    ConfigFile::parse(&text)
        .map_err(|e| anyhow::anyhow!("the built-in template does not load: {e}"))?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(&args.config).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            anyhow::anyhow!(
                "{} exists; queuelake init does not overwrite a configuration",
                args.config.display()
            )
        } else {
            anyhow::anyhow!("writing {}: {e}", args.config.display())
        }
    })?;
    file.write_all(text.as_bytes())?;
    file.sync_all()?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "wrote {}", args.config.display())?;
    writeln!(out, "admin token: {token}")?;
    writeln!(
        out,
        "keep the token: only its SHA-256 is in the file. Start with: queuelake serve --data LAKE --config {}",
        args.config.display()
    )?;
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::TokenRegistry;

    #[test]
    fn the_template_loads_with_defaults_and_its_admin_token() {
        let token = token::generate().unwrap();
        let config = ConfigFile::parse(&render(&token::digest_hex(&token))).unwrap();
        let defaults = ConfigFile::default();
        assert_eq!(config.server, defaults.server);
        assert_eq!(config.postgres_wire, defaults.postgres_wire);
        assert_eq!(config.query, defaults.query);
        assert_eq!(config.kpi, defaults.kpi);
        assert_eq!(config.ingest, defaults.ingest);
        assert_eq!(config.forecast, defaults.forecast);
        assert_eq!(config.staffing, defaults.staffing);
        assert_eq!(config.scheduling, defaults.scheduling);
        assert_eq!(config.pacing, defaults.pacing);
        assert_eq!(config.jobs, defaults.jobs);
        assert_eq!(config.mail, defaults.mail);
        assert_eq!(config.reports, defaults.reports);
        let registry = TokenRegistry::from_entries(&config.tokens).unwrap();
        let admin = registry.verify(&token).unwrap();
        assert_eq!(admin.role, crate::auth::Role::Admin);
        assert!(registry.verify("ql_other").is_none());
    }
}
