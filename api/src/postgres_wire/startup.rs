//! Authentication: the client's password is an API token. The user name
//! is free (tools insist on one); the token decides who the connection
//! is. Only roles that may run SQL get in. A signed-in connection takes
//! one of `[postgres_wire] max_connections` (a full server answers FATAL
//! 53300), leaves the unauthenticated set ([`super::pending`]) and
//! registers its cancel key ([`super::cancel`]). Failed sign-ins count
//! against the peer's budget ([`crate::http::limits::AuthFailures`]).

use std::fmt::Debug;
use std::sync::Arc;

use async_trait::async_trait;
use datafusion_postgres::pgwire::api::auth::{
    DefaultServerParameterProvider, StartupHandler, finish_authentication, protocol_negotiation,
    save_startup_parameters_to_metadata,
};
use datafusion_postgres::pgwire::api::{
    ClientInfo, PgWireConnectionState, PidSecretKeyGenerator, RandomPidSecretKeyGenerator,
};
use datafusion_postgres::pgwire::error::{ErrorInfo, PgWireError, PgWireResult};
use datafusion_postgres::pgwire::messages::startup::Authentication;
use datafusion_postgres::pgwire::messages::{PgWireBackendMessage, PgWireFrontendMessage};
use futures::{Sink, SinkExt};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::cancel::Cancels;
use super::pending::Pending;
use crate::auth::Permission;
use crate::http::AppState;

/// The metadata key that holds the connection's token name.
pub const TOKEN_NAME: &str = "queuelake.token";

/// The startup handler.
pub struct TokenStartup {
    state: Arc<AppState>,
    parameters: DefaultServerParameterProvider,
    keys: RandomPidSecretKeyGenerator,
    cancels: Arc<Cancels>,
    signed_in: Arc<Semaphore>,
    max_signed_in: usize,
    pending: Arc<Pending>,
}

/// A signed-in connection's place among `max_connections` (kept in the
/// connection's extensions, so it is given back with the connection).
struct SignedIn {
    _permit: OwnedSemaphorePermit,
}

impl TokenStartup {
    /// Checks passwords against `state`'s tokens; at most `max_signed_in`
    /// connections are signed in at once.
    pub fn new(
        state: Arc<AppState>,
        cancels: Arc<Cancels>,
        max_signed_in: usize,
        pending: Arc<Pending>,
    ) -> Self {
        let mut parameters = DefaultServerParameterProvider::default();
        parameters.is_superuser = false;
        parameters.default_transaction_read_only = true;
        parameters.server_version = super::settings::server_version();
        TokenStartup {
            state,
            parameters,
            keys: RandomPidSecretKeyGenerator::default(),
            cancels,
            signed_in: Arc::new(Semaphore::new(max_signed_in.max(1))),
            max_signed_in: max_signed_in.max(1),
            pending,
        }
    }
}

fn fatal(code: &str, message: String) -> PgWireError {
    PgWireError::UserError(Box::new(ErrorInfo::new(
        "FATAL".into(),
        code.into(),
        message,
    )))
}

#[async_trait]
impl StartupHandler for TokenStartup {
    async fn on_startup<C>(
        &self,
        client: &mut C,
        message: PgWireFrontendMessage,
    ) -> PgWireResult<()>
    where
        C: ClientInfo + Sink<PgWireBackendMessage> + Unpin + Send,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        match message {
            PgWireFrontendMessage::Startup(ref startup) => {
                protocol_negotiation(client, startup).await?;
                save_startup_parameters_to_metadata(client, startup);
                client.set_state(PgWireConnectionState::AuthenticationInProgress);
                client
                    .send(PgWireBackendMessage::Authentication(
                        Authentication::CleartextPassword,
                    ))
                    .await?;
            }
            PgWireFrontendMessage::PasswordMessageFamily(password) => {
                let password = password.into_password()?;
                let peer = client.socket_addr();
                let Some(principal) = self.state.tokens.verify(&password.password) else {
                    if let Err(wait) = self.state.auth_failures.admit(peer.ip()) {
                        // 53300: too_many_connections (PostgreSQL's answer
                        // to a client it will not serve now).
                        return Err(fatal(
                            "53300",
                            format!(
                                "too many failed sign-ins from {}; retry in {} s",
                                peer.ip(),
                                wait.as_secs().max(1)
                            ),
                        ));
                    }
                    self.state.auth_failures.failed(peer.ip(), "postgres");
                    // 28P01: invalid_password
                    return Err(fatal(
                        "28P01",
                        "password authentication failed: the password must be a queuelake API token".into(),
                    ));
                };
                if !principal.may(Permission::Sql) {
                    // 42501: insufficient_privilege
                    return Err(fatal(
                        "42501",
                        format!(
                            "token {:?} has role {}, which may not run SQL (analyst or admin may)",
                            principal.name,
                            principal.role.as_str()
                        ),
                    ));
                }
                let Ok(permit) = self.signed_in.clone().try_acquire_owned() else {
                    tracing::warn!(%peer, "postgres wire: refused, max_connections reached");
                    return Err(fatal(
                        "53300",
                        format!(
                            "sorry, too many clients already ({} signed in: [postgres_wire] max_connections)",
                            self.max_signed_in
                        ),
                    ));
                };
                let (pid, secret) = self.keys.generate(client);
                let cancel = self.cancels.register(pid, &secret);
                client.set_pid_and_secret_key(pid, secret);
                client
                    .session_extensions()
                    .insert(SignedIn { _permit: permit });
                client.session_extensions().insert(cancel);
                self.pending.signed_in(peer);
                client
                    .metadata_mut()
                    .insert(TOKEN_NAME.into(), principal.name.clone());
                tracing::info!(peer = %client.socket_addr(), token = %principal.name, "postgres wire: signed in");
                finish_authentication(client, &self.parameters).await?;
            }
            _ => {}
        }
        Ok(())
    }
}
