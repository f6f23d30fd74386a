//! Who is calling, and what they may do.
//!
//! Every caller presents a bearer token (HTTP `Authorization: Bearer …`,
//! or the password of a PostgreSQL connection). Tokens live in the
//! configuration file as SHA-256 digests ([`token`]); each names a
//! [`Role`] and may be scoped to some queues and campaigns, which every
//! endpoint and every SQL session honours ([`queuelake_engine::scope`]).
//!
//! Modules: [`token`] makes and digests tokens; [`role`] is the role ×
//! permission matrix.

pub mod role;
pub mod token;

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use queuelake_engine::scope::Scope;
use serde::Deserialize;

pub use role::{Permission, Role};

/// One `[[tokens]]` entry of the configuration file.
#[derive(Debug, Deserialize, PartialEq, Clone)]
#[serde(deny_unknown_fields)]
pub struct TokenEntry {
    /// Who holds it (shown in logs and metrics; unique).
    pub name: String,
    /// What it may do.
    pub role: Role,
    /// Hex SHA-256 of the token (`queuelake init` and `queuelake token`
    /// print the token once and store only this).
    pub sha256: String,
    /// Queues whose rows it may see; with `campaigns`, scopes the token.
    /// Absent (with `campaigns` absent too): every queue and campaign.
    pub queues: Option<Vec<String>>,
    /// Campaigns whose rows it may see (see `queues`).
    pub campaigns: Option<Vec<String>>,
    /// Requests per second for this token (overrides `[server]`; 0: no limit).
    pub requests_per_second: Option<u32>,
    /// Burst for this token (overrides `[server]`).
    pub burst: Option<u32>,
}

/// An authenticated caller.
#[derive(Debug, Clone, PartialEq)]
pub struct Principal {
    /// The token's name.
    pub name: String,
    /// Its role.
    pub role: Role,
    /// The rows it may see.
    pub scope: Scope,
    /// Its own requests per second, if it overrides the server's.
    pub requests_per_second: Option<u32>,
    /// Its own burst, if it overrides the server's.
    pub burst: Option<u32>,
}

impl Principal {
    /// Whether this caller may do `permission`.
    pub fn may(&self, permission: Permission) -> bool {
        self.role.may(permission)
    }
}

/// Why the tokens of a configuration are unusable.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum TokenError {
    /// A digest is not 64 hex digits.
    #[error("token {name:?}: sha256 must be 64 hex digits (got {len} characters)")]
    BadDigest {
        /// The token's name.
        name: String,
        /// Length of what was given.
        len: usize,
    },
    /// Two entries share a name.
    #[error("token name {0:?} is used twice")]
    DuplicateName(String),
    /// Two entries share a digest.
    #[error("tokens {0:?} and {1:?} have the same sha256")]
    DuplicateDigest(String, String),
}

/// The tokens the service accepts, by digest.
#[derive(Debug, Default)]
pub struct TokenRegistry {
    by_digest: HashMap<[u8; 32], Arc<Principal>>,
}

impl TokenRegistry {
    /// The registry of the configured entries.
    pub fn from_entries(entries: &[TokenEntry]) -> Result<Self, TokenError> {
        let mut registry = TokenRegistry::default();
        let mut names = BTreeSet::new();
        for entry in entries {
            if !names.insert(entry.name.clone()) {
                return Err(TokenError::DuplicateName(entry.name.clone()));
            }
            let digest = token::parse_digest(&entry.sha256).ok_or(TokenError::BadDigest {
                name: entry.name.clone(),
                len: entry.sha256.len(),
            })?;
            let principal = Arc::new(Principal {
                name: entry.name.clone(),
                role: entry.role,
                scope: scope_of(entry),
                requests_per_second: entry.requests_per_second,
                burst: entry.burst,
            });
            if let Some(other) = registry.by_digest.insert(digest, principal) {
                return Err(TokenError::DuplicateDigest(
                    other.name.clone(),
                    entry.name.clone(),
                ));
            }
        }
        Ok(registry)
    }

    /// Adds a token for this run only (not in any file).
    pub fn add(&mut self, token: &str, principal: Principal) {
        self.by_digest
            .insert(token::digest(token), Arc::new(principal));
    }

    /// The caller a presented token identifies, if any.
    pub fn verify(&self, presented: &str) -> Option<Arc<Principal>> {
        self.by_digest.get(&token::digest(presented)).cloned()
    }

    /// Every caller, for building their sessions up front.
    pub fn principals(&self) -> impl Iterator<Item = &Arc<Principal>> {
        self.by_digest.values()
    }

    /// Whether no token is configured.
    pub fn is_empty(&self) -> bool {
        self.by_digest.is_empty()
    }
}

/// A token's scope: every row unless it lists queues or campaigns; a list
/// it leaves out is empty then.
fn scope_of(entry: &TokenEntry) -> Scope {
    if entry.queues.is_none() && entry.campaigns.is_none() {
        return Scope::All;
    }
    let set = |list: &Option<Vec<String>>| list.iter().flatten().cloned().collect();
    Scope::Only {
        queues: set(&entry.queues),
        campaigns: set(&entry.campaigns),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(name: &str, token: &str, queues: Option<&[&str]>) -> TokenEntry {
        TokenEntry {
            name: name.into(),
            role: Role::Viewer,
            sha256: token::digest_hex(token),
            queues: queues.map(|q| q.iter().map(|s| s.to_string()).collect()),
            campaigns: None,
            requests_per_second: None,
            burst: None,
        }
    }

    #[test]
    fn tokens_are_found_by_digest_with_their_scope() {
        let registry = TokenRegistry::from_entries(&[
            entry("wall", "ql_a", Some(&["sales"])),
            entry("all", "ql_b", None),
        ])
        .unwrap();
        let wall = registry.verify("ql_a").unwrap();
        assert_eq!(wall.name, "wall");
        assert!(wall.scope.allows_queue("sales") && !wall.scope.allows_queue("support"));
        assert!(!wall.scope.allows_campaign("winback"));
        assert_eq!(registry.verify("ql_b").unwrap().scope, Scope::All);
        assert!(registry.verify("ql_c").is_none());
        assert!(registry.verify("").is_none());
    }

    #[test]
    fn bad_and_duplicate_entries_are_named() {
        let mut bad = entry("x", "t", None);
        bad.sha256 = "abc".into();
        assert_eq!(
            TokenRegistry::from_entries(&[bad]).unwrap_err(),
            TokenError::BadDigest {
                name: "x".into(),
                len: 3
            }
        );
        let err = TokenRegistry::from_entries(&[entry("a", "t", None), entry("a", "u", None)])
            .unwrap_err();
        assert_eq!(err, TokenError::DuplicateName("a".into()));
        let err = TokenRegistry::from_entries(&[entry("a", "t", None), entry("b", "t", None)])
            .unwrap_err();
        assert_eq!(err, TokenError::DuplicateDigest("a".into(), "b".into()));
    }
}
