//! SQL over the PostgreSQL wire protocol, for psql, DBeaver, Grafana and
//! Metabase. pgwire speaks the protocol and datafusion-postgres plans
//! statements and answers the catalog queries (`pg_catalog`,
//! `information_schema`) those clients send at connect time; queuelake
//! adds what makes it the same service as HTTP:
//!
//! - the password is an API token ([`startup`]); the token's role must
//!   allow SQL, and its scope picks the session ([`crate::sessions`]), so
//!   a scoped token sees the same rows here as over HTTP;
//! - every statement goes through the engine's two guards and runs on the
//!   query pool ([`statements`], [`rows`]); nothing of a client is planned
//!   or run by datafusion-postgres or on the service's runtime;
//! - every query takes a slot from the shared query slots, runs under the
//!   server's deadline (whatever `SET statement_timeout` says), ends on a
//!   cancel request ([`cancel`]) and counts against the token's rate
//!   ([`handler`]);
//! - every frame a client sends is checked against the protocol's layout
//!   before pgwire decodes it; a malformed one is FATAL 08P01 ([`frames`],
//!   [`connection`]);
//! - connections that have not signed in have a small set of their own
//!   with a deadline ([`pending`]); signed-in ones are bounded by
//!   `max_connections` ([`startup`]), and each holds a bounded number of
//!   named statements and portals ([`named`]).
//!
//! Modules: [`startup`] (authentication), [`pending`] (unauthenticated
//! connections), [`handler`] (per-connection dispatch), [`statements`]
//! (parse, check, plan), [`rows`] (encoding and bounds of results),
//! [`cancel`] (cancel requests), [`named`] (named statements and portals
//! per connection), [`frames`] (frame checks), [`connection`] (one
//! connection's message loop), [`savepoints`] (savepoint commands),
//! [`catalog_functions`] (`to_regtype()` and others), [`catalog_subqueries`]
//! (drivers' correlated catalog subqueries), [`settings`] (`current_setting()`,
//! `version()`).

pub mod cancel;
pub mod catalog_functions;
pub mod catalog_subqueries;
pub mod connection;
pub mod frames;
pub mod handler;
pub mod named;
pub mod pending;
pub mod rows;
pub mod savepoints;
pub mod settings;
pub mod startup;
pub mod statements;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use datafusion_postgres::pgwire::tokio::tokio_rustls::TlsAcceptor;
use datafusion_postgres::pgwire::tokio::tokio_rustls::rustls::ServerConfig;
use datafusion_postgres::pgwire::tokio::tokio_rustls::rustls::pki_types::pem::PemObject;
use datafusion_postgres::pgwire::tokio::tokio_rustls::rustls::pki_types::{
    CertificateDer, PrivateKeyDer,
};
use pending::Pending;
use tokio::net::TcpListener;

use crate::config::PostgresWireSection;
use crate::http::AppState;
use handler::Handlers;

/// The bound listener, ready to serve.
pub struct PostgresWire {
    listener: TcpListener,
    address: SocketAddr,
    tls: Option<TlsAcceptor>,
    handlers: Arc<Handlers>,
    pending: Arc<Pending>,
    startup_timeout: Duration,
}

/// Counts a connection in `queuelake_postgres_wire_connections` for as
/// long as it lives, however its task ends (closed, aborted, panicked).
struct Counted;

impl Counted {
    fn new() -> Self {
        metrics::gauge!("queuelake_postgres_wire_connections").increment(1.0);
        Counted
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        metrics::gauge!("queuelake_postgres_wire_connections").decrement(1.0);
    }
}

impl PostgresWire {
    /// Binds `section.listen` and prepares TLS (refusing to start on a bad
    /// certificate rather than serving in the clear).
    pub async fn bind(section: &PostgresWireSection, state: Arc<AppState>) -> anyhow::Result<Self> {
        let tls = match (&section.tls_cert, &section.tls_key) {
            (Some(cert), Some(key)) => Some(tls_acceptor(cert, key)?),
            _ => None,
        };
        let listener = TcpListener::bind(section.listen)
            .await
            .map_err(|e| anyhow::anyhow!("postgres wire on {}: {e}", section.listen))?;
        let address = listener.local_addr()?;
        tracing::info!(%address, tls = tls.is_some(), "postgres wire listening");
        let pending = Arc::new(Pending::new(section.max_unauthenticated));
        Ok(PostgresWire {
            listener,
            address,
            tls,
            handlers: Arc::new(Handlers::new(
                state,
                section.max_connections,
                section.max_prepared_statements,
                pending.clone(),
            )),
            pending,
            startup_timeout: Duration::from_millis(section.startup_timeout_ms),
        })
    }

    /// The bound address.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// Accepts connections until the task is dropped.
    pub async fn serve(self) {
        let mut next_id = 0u64;
        loop {
            let (socket, peer) = match self.listener.accept().await {
                Ok(accepted) => accepted,
                Err(e) => {
                    tracing::warn!(error = %e, "postgres wire: accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            };
            next_id += 1;
            let id = next_id;
            self.pending.add(id, peer);
            let handlers = self.handlers.clone();
            let tls = self.tls.clone();
            let pending = self.pending.clone();
            let task = tokio::spawn(async move {
                let _counted = Counted::new();
                if let Err(e) = connection::serve_connection(socket, tls, handlers).await {
                    tracing::debug!(%peer, error = %e, "postgres wire connection ended");
                }
                pending.expire(id);
            });
            self.pending.set_task(id, task.abort_handle());
            let pending = self.pending.clone();
            let timeout = self.startup_timeout;
            tokio::spawn(async move {
                tokio::time::sleep(timeout).await;
                if pending.expire(id) {
                    tracing::warn!(%peer, "postgres wire: closed a connection that did not sign in within {} ms", timeout.as_millis());
                }
            });
        }
    }
}

fn tls_acceptor(cert: &std::path::Path, key: &std::path::Path) -> anyhow::Result<TlsAcceptor> {
    use datafusion_postgres::pgwire::tokio::tokio_rustls::rustls;
    let _ = rustls::crypto::ring::default_provider().install_default();
    let chain = CertificateDer::pem_file_iter(cert)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|e| anyhow::anyhow!("[postgres_wire] tls_cert {}: {e}", cert.display()))?;
    let key = PrivateKeyDer::from_pem_file(key)
        .map_err(|e| anyhow::anyhow!("[postgres_wire] tls_key {}: {e}", key.display()))?;
    let config = ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| anyhow::anyhow!("[postgres_wire] TLS: {e}"))?;
    Ok(TlsAcceptor::from(Arc::new(config)))
}
