//! `queuelake token`: a new token and its `[[tokens]]` entry. The token
//! is printed once; the entry holds only its SHA-256.

use std::io::Write;
use std::process::ExitCode;

use crate::auth::{TokenEntry, TokenRegistry, token};
use crate::cli::TokenArgs;

pub fn run(args: TokenArgs) -> anyhow::Result<ExitCode> {
    let secret = token::generate()?;
    let entry = entry_text(&args, &token::digest_hex(&secret));
    // The entry must load as the configuration will read it.
    let parsed: TokenEntry = toml::from_str::<Wrapper>(&entry)
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .tokens
        .remove(0);
    TokenRegistry::from_entries(std::slice::from_ref(&parsed))?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "token: {secret}")?;
    writeln!(out, "add to queuelake.toml and restart:\n")?;
    write!(out, "{entry}")?;
    Ok(ExitCode::SUCCESS)
}

#[derive(serde::Deserialize)]
struct Wrapper {
    tokens: Vec<TokenEntry>,
}

fn entry_text(args: &TokenArgs, sha256: &str) -> String {
    let list = |items: &[String]| {
        let quoted: Vec<String> = items.iter().map(|i| format!("{i:?}")).collect();
        format!("[{}]", quoted.join(", "))
    };
    let mut text = format!(
        "[[tokens]]\nname = {:?}\nrole = {:?}\nsha256 = \"{sha256}\"\n",
        args.name, args.role
    );
    if let Some(queues) = &args.queues {
        text.push_str(&format!("queues = {}\n", list(queues)));
    }
    if let Some(campaigns) = &args.campaigns {
        text.push_str(&format!("campaigns = {}\n", list(campaigns)));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_entry_loads_with_its_scope() {
        let args = TokenArgs {
            name: "wall \"1\"".into(),
            role: "viewer".into(),
            queues: Some(vec!["sales".into(), "o'neil".into()]),
            campaigns: None,
        };
        let text = entry_text(&args, &"a".repeat(64));
        let mut parsed = toml::from_str::<Wrapper>(&text).unwrap().tokens;
        let entry = parsed.remove(0);
        assert_eq!(entry.name, "wall \"1\"");
        assert_eq!(entry.queues, Some(vec!["sales".into(), "o'neil".into()]));
        assert_eq!(entry.campaigns, None);
    }
}
