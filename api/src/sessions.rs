//! One SQL session per scope: callers that see everything share one;
//! each scoped token gets its own, whose tables show only its rows
//! ([`queuelake_engine::scope`]). HTTP and the PostgreSQL port both take
//! their session from here, so a scope holds the same on both.

use std::collections::HashMap;
use std::sync::Arc;

use queuelake_engine::kpi::KpiSettings;
use queuelake_engine::scope::Scope;
use queuelake_engine::session::{LakeTables, QueryEngine, QueryLimits};

use crate::auth::{Principal, TokenRegistry};

/// The sessions, built at start-up.
pub struct Sessions {
    full: Arc<QueryEngine>,
    scoped: HashMap<String, Arc<QueryEngine>>,
}

impl Sessions {
    /// A session for every scope among `tokens`.
    pub async fn build(
        tables: &LakeTables,
        kpi: &KpiSettings,
        limits: &QueryLimits,
        tokens: &TokenRegistry,
    ) -> anyhow::Result<Self> {
        let full = Arc::new(QueryEngine::new(tables, kpi, limits.clone(), &Scope::All).await?);
        let mut scoped = HashMap::new();
        for principal in tokens.principals() {
            if principal.scope != Scope::All {
                let engine =
                    QueryEngine::new(tables, kpi, limits.clone(), &principal.scope).await?;
                scoped.insert(principal.name.clone(), Arc::new(engine));
            }
        }
        Ok(Sessions { full, scoped })
    }

    /// The session `principal` queries in.
    pub fn for_principal(&self, principal: &Principal) -> Option<Arc<QueryEngine>> {
        match principal.scope {
            Scope::All => Some(Arc::clone(&self.full)),
            Scope::Only { .. } => self.scoped.get(&principal.name).cloned(),
        }
    }

    /// The unscoped session (for the service's own reads).
    pub fn full(&self) -> &QueryEngine {
        &self.full
    }

    /// The unscoped session, shared (for the service's own jobs).
    pub fn full_shared(&self) -> Arc<QueryEngine> {
        Arc::clone(&self.full)
    }
}
