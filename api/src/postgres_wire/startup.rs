//! Authentication: the client's password is an API token. The user name
//! is free (tools insist on one); the token decides who the connection
//! is. Only roles that may run SQL get in.

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

use crate::auth::Permission;
use crate::http::AppState;

/// The metadata key that holds the connection's token name.
pub const TOKEN_NAME: &str = "queuelake.token";

/// The startup handler.
pub struct TokenStartup {
    state: Arc<AppState>,
    parameters: DefaultServerParameterProvider,
    keys: RandomPidSecretKeyGenerator,
}

impl TokenStartup {
    /// Checks passwords against `state`'s tokens.
    pub fn new(state: Arc<AppState>) -> Self {
        let mut parameters = DefaultServerParameterProvider::default();
        parameters.is_superuser = false;
        parameters.default_transaction_read_only = true;
        TokenStartup {
            state,
            parameters,
            keys: RandomPidSecretKeyGenerator::default(),
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
                let Some(principal) = self.state.tokens.verify(&password.password) else {
                    tracing::info!(peer = %client.socket_addr(), "postgres wire: unknown token");
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
                let (pid, secret) = self.keys.generate(client);
                client.set_pid_and_secret_key(pid, secret);
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
