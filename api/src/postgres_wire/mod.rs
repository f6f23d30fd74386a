//! SQL over the PostgreSQL wire protocol, for psql, DBeaver, Grafana and
//! Metabase. pgwire speaks the protocol and datafusion-postgres plans
//! statements and answers the catalog queries (`pg_catalog`,
//! `information_schema`) those clients send at connect time; queuelake
//! adds what makes it the same service as HTTP:
//!
//! - the password is an API token ([`startup`]); the token's role must
//!   allow SQL, and its scope picks the session ([`crate::sessions`]), so
//!   a scoped token sees the same rows here as over HTTP;
//! - statements other than reads are refused before planning ([`guard`]);
//! - every query takes a slot from the shared query slots, runs under the
//!   server's deadline (whatever `SET statement_timeout` says) and counts
//!   against the token's rate ([`handler`]).
//!
//! Modules: [`startup`] (authentication), [`guard`] (read-only hook),
//! [`handler`] (per-connection dispatch and limits), [`settings`]
//! (`current_setting()`).

pub mod guard;
pub mod handler;
pub mod settings;
pub mod startup;

use std::net::SocketAddr;
use std::sync::Arc;

use datafusion_postgres::pgwire::tokio::process_socket;
use datafusion_postgres::pgwire::tokio::tokio_rustls::TlsAcceptor;
use datafusion_postgres::pgwire::tokio::tokio_rustls::rustls::ServerConfig;
use datafusion_postgres::pgwire::tokio::tokio_rustls::rustls::pki_types::pem::PemObject;
use datafusion_postgres::pgwire::tokio::tokio_rustls::rustls::pki_types::{
    CertificateDer, PrivateKeyDer,
};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

use crate::config::PostgresWireSection;
use crate::http::AppState;
use handler::Handlers;

/// The bound listener, ready to serve.
pub struct PostgresWire {
    listener: TcpListener,
    address: SocketAddr,
    tls: Option<TlsAcceptor>,
    handlers: Arc<Handlers>,
    connections: Arc<Semaphore>,
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
        Ok(PostgresWire {
            listener,
            address,
            tls,
            handlers: Arc::new(Handlers::new(state)),
            connections: Arc::new(Semaphore::new(section.max_connections.max(1))),
        })
    }

    /// The bound address.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// Accepts connections until the task is dropped.
    pub async fn serve(self) {
        loop {
            let (socket, peer) = match self.listener.accept().await {
                Ok(accepted) => accepted,
                Err(e) => {
                    tracing::warn!(error = %e, "postgres wire: accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                    continue;
                }
            };
            let Ok(permit) = self.connections.clone().try_acquire_owned() else {
                tracing::warn!(%peer, "postgres wire: connection refused, max_connections reached");
                continue;
            };
            let handlers = self.handlers.clone();
            let tls = self.tls.clone();
            tokio::spawn(async move {
                metrics::gauge!("queuelake_postgres_wire_connections").increment(1.0);
                if let Err(e) = process_socket(socket, tls, handlers).await {
                    tracing::debug!(%peer, error = %e, "postgres wire connection ended");
                }
                metrics::gauge!("queuelake_postgres_wire_connections").decrement(1.0);
                drop(permit);
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
