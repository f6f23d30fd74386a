//! One client connection: pgwire's TLS negotiation, then its message loop
//! over a stream whose frames are checked first ([`super::frames`]).
//!
//! The loop is pgwire 0.41's `process_socket` with two changes: the stream
//! is wrapped in a [`FrameGuard`] once TLS is settled, and a malformed
//! frame ends the connection with FATAL 08P01 naming it. The startup
//! deadline is the pending set's ([`super::pending`]), not pgwire's. Compare
//! with `pgwire::tokio::server::process_socket` on a pgwire upgrade.

use std::io;

use datafusion_postgres::pgwire::api::{ClientInfo, PgWireServerHandlers};
use datafusion_postgres::pgwire::error::{ErrorInfo, PgWireError};
use datafusion_postgres::pgwire::messages::{PgWireBackendMessage, PgWireFrontendMessage};
use datafusion_postgres::pgwire::tokio::TlsAcceptor;
use datafusion_postgres::pgwire::tokio::server::{negotiate_tls, process_error, process_message};
use futures::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio_util::codec::{Framed, FramedParts};

use super::frames::{FrameChecker, FrameGuard, malformed};

/// Serves `socket` until the client leaves, the connection fails, or a
/// malformed frame arrives.
pub async fn serve_connection<H: PgWireServerHandlers>(
    socket: TcpStream,
    tls: Option<TlsAcceptor>,
    handlers: H,
) -> io::Result<()> {
    let Some(negotiated) = negotiate_tls(socket, tls).await? else {
        return Ok(()); // direct TLS asked of a server without TLS
    };
    let parts = negotiated.into_parts();
    let mut checker = FrameChecker::new();
    if let Err(fault) = checker.feed(&parts.read_buf) {
        tracing::warn!(error = %fault, "postgres wire: malformed startup");
        return Ok(());
    }
    let mut guarded = FramedParts::new(FrameGuard::new(parts.io, checker), parts.codec);
    guarded.read_buf = parts.read_buf;
    guarded.write_buf = parts.write_buf;
    let mut socket = Framed::from_parts(guarded);

    let startup = handlers.startup_handler();
    let simple = handlers.simple_query_handler();
    let extended = handlers.extended_query_handler();
    let copy = handlers.copy_handler();
    let cancel = handlers.cancel_handler();
    let on_error = handlers.error_handler();
    loop {
        let message = match socket.next().await {
            None => break,
            Some(Ok(message)) => message,
            Some(Err(e)) => {
                let fault = match e {
                    PgWireError::IoError(io) => match malformed(&io) {
                        Some(fault) => fault.to_string(),
                        None => return Err(io), // the connection broke
                    },
                    other => other.to_string(), // a frame pgwire could not decode
                };
                tracing::warn!(peer = %socket.socket_addr(), error = %fault, "postgres wire: closed a connection after a malformed frame");
                let fatal = ErrorInfo::new("FATAL".into(), "08P01".into(), fault);
                let _ = socket
                    .send(PgWireBackendMessage::ErrorResponse(fatal.into()))
                    .await;
                return Ok(());
            }
        };
        // A client that sends Terminate waits for the close (asyncpg).
        if matches!(message, PgWireFrontendMessage::Terminate(_)) {
            break;
        }
        let is_extended = match socket.state() {
            datafusion_postgres::pgwire::api::PgWireConnectionState::CopyInProgress(extended) => {
                extended
            }
            _ => message.is_extended_query(),
        };
        if let Err(mut e) = process_message(
            message,
            &mut socket,
            startup.clone(),
            simple.clone(),
            extended.clone(),
            copy.clone(),
            cancel.clone(),
        )
        .await
        {
            datafusion_postgres::pgwire::api::ErrorHandler::on_error(
                on_error.as_ref(),
                &socket,
                &mut e,
            );
            process_error(&mut socket, e, is_extended).await?;
        }
    }
    Ok(())
}
