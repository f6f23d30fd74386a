//! The HTTP port's connections: its own accept loop (in place of
//! `axum::serve`) so that no client can hold the port. It bounds
//!
//! - the connections open at once, in all (`[server] max_connections`)
//!   and per peer address (`max_connections_per_peer`): past either, the
//!   new connection gets a `503` and is closed;
//! - the time a client may take to send a request's headers, and to wait
//!   idle between requests on a kept-alive connection
//!   (`header_timeout_ms`: hyper closes the connection);
//! - the time a client may take to send a request's body once the
//!   handler waits for it (`body_timeout_ms`: a `408`, see [`DeadlineBody`]);
//! - the time a write may stall on a client that does not read
//!   (`write_stall_ms`: the connection is closed, see [`StallGuard`]).
//!
//! An accept error (no file descriptor left) waits a moment and goes on;
//! at shutdown the loop stops accepting, asks every connection to finish
//! its request and gives them [`DRAIN`] before they are dropped.

use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::ConnectInfo;
use axum::http::Request;
use http_body::{Body, Frame, SizeHint};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio::time::Sleep;
use tower::ServiceExt;

/// How long open connections get to finish at shutdown.
pub const DRAIN: Duration = Duration::from_secs(5);

/// The bounds on the port's connections.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ConnectionLimits {
    /// Connections open at once.
    pub max_connections: usize,
    /// Connections open at once from one peer address.
    pub max_per_peer: usize,
    /// Time to send a request's headers (and to idle between requests).
    pub header_timeout: Duration,
    /// Time to send a request's body.
    pub body_timeout: Duration,
    /// Time a write to the client may make no progress.
    pub write_stall: Duration,
}

/// Serves `router` on `listener` within `limits` until `shutdown`.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()>,
) {
    let open = Arc::new(OpenConnections::default());
    let (drain_tx, drain_rx) = watch::channel(false);
    let mut connections = JoinSet::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => match open.admit(peer.ip(), &limits) {
                    Ok(slot) => {
                        connections.spawn(connection(
                            stream,
                            peer,
                            slot,
                            router.clone(),
                            limits,
                            drain_rx.clone(),
                        ));
                    }
                    Err(refusal) => refuse(&stream, peer, refusal),
                },
                Err(e) => {
                    // EMFILE and the like: the open connections are
                    // bounded, so waiting frees descriptors.
                    tracing::warn!(error = %e, "HTTP accept failed; retrying in 100 ms");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    drop(listener);
    let _ = drain_tx.send(true);
    let drained = tokio::time::timeout(DRAIN, async {
        while connections.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        tracing::warn!(
            left = connections.len(),
            "HTTP connections still open after the drain; closing them"
        );
        connections.shutdown().await;
    }
}

/// Serves one connection until it ends, the limits end it, or the drain
/// asks it to finish.
async fn connection(
    stream: TcpStream,
    peer: SocketAddr,
    _slot: Slot,
    router: Router,
    limits: ConnectionLimits,
    mut drain: watch::Receiver<bool>,
) {
    let _ = stream.set_nodelay(true);
    let service = hyper::service::service_fn(move |request: Request<hyper::body::Incoming>| {
        let mut request =
            request.map(|body| axum::body::Body::new(DeadlineBody::new(body, limits.body_timeout)));
        request.extensions_mut().insert(ConnectInfo(peer));
        router.clone().oneshot(request)
    });
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout);
    let io = TokioIo::new(StallGuard::new(stream, limits.write_stall));
    let conn = builder.serve_connection(io, service);
    let mut conn = std::pin::pin!(conn);
    let ended = tokio::select! {
        ended = conn.as_mut() => ended,
        () = async { let _ = drain.wait_for(|&draining| draining).await; } => {
            conn.as_mut().graceful_shutdown();
            conn.await
        }
    };
    if let Err(e) = ended {
        tracing::debug!(%peer, error = %e, "HTTP connection ended");
    }
}

/// Why a new connection was refused.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Refusal {
    Full(usize),
    PeerFull(usize),
}

/// Answers a refused connection with a `503` (one non-blocking write:
/// nothing is waited for) and closes it.
fn refuse(stream: &TcpStream, peer: SocketAddr, refusal: Refusal) {
    let detail = match refusal {
        Refusal::Full(n) => {
            format!("the server has {n} connections open (its limit); retry shortly")
        }
        Refusal::PeerFull(n) => {
            format!(
                "{peer_ip} has {n} connections open (the limit per address); close some and retry",
                peer_ip = peer.ip()
            )
        }
    };
    metrics::counter!("queuelake_http_connections_refused_total").increment(1);
    if REFUSALS_LOGGED.admit() {
        // A flood logs one line a second, not one a connection.
        tracing::warn!(%peer, %detail, "HTTP connection refused (more in this second are only counted: queuelake_http_connections_refused_total)");
    }
    let body = serde_json::json!({
        "type": "about:blank",
        "title": "Service Unavailable",
        "status": 503,
        "detail": detail,
    })
    .to_string();
    let response = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/problem+json\r\n\
         retry-after: 1\r\nconnection: close\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.try_write(response.as_bytes());
}

/// Refusals are logged at most once a second.
static REFUSALS_LOGGED: OncePerSecond = OncePerSecond::new();

/// Admits one event a second.
struct OncePerSecond {
    last: std::sync::atomic::AtomicU64,
}

impl OncePerSecond {
    const fn new() -> Self {
        OncePerSecond {
            last: std::sync::atomic::AtomicU64::new(0),
        }
    }

    /// Whether this event is the first of its second.
    fn admit(&self) -> bool {
        use std::sync::atomic::Ordering;
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        self.last.swap(now, Ordering::Relaxed) != now
    }
}

/// The connections open now, in all and per peer.
#[derive(Default)]
struct OpenConnections {
    counts: Mutex<Counts>,
}

#[derive(Default)]
struct Counts {
    total: usize,
    per_peer: HashMap<IpAddr, usize>,
}

impl OpenConnections {
    /// A slot for a connection of `peer`, or why there is none.
    fn admit(self: &Arc<Self>, peer: IpAddr, limits: &ConnectionLimits) -> Result<Slot, Refusal> {
        let mut counts = self
            .counts
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if counts.total >= limits.max_connections {
            return Err(Refusal::Full(limits.max_connections));
        }
        let of_peer = counts.per_peer.entry(peer).or_default();
        if *of_peer >= limits.max_per_peer {
            return Err(Refusal::PeerFull(limits.max_per_peer));
        }
        *of_peer += 1;
        counts.total += 1;
        metrics::gauge!("queuelake_http_connections").set(counts.total as f64);
        Ok(Slot {
            open: self.clone(),
            peer,
        })
    }
}

/// One admitted connection; dropping it frees the slot.
struct Slot {
    open: Arc<OpenConnections>,
    peer: IpAddr,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut counts = self
            .open
            .counts
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        counts.total -= 1;
        if let Some(n) = counts.per_peer.get_mut(&self.peer) {
            *n -= 1;
            if *n == 0 {
                counts.per_peer.remove(&self.peer);
            }
        }
        metrics::gauge!("queuelake_http_connections").set(counts.total as f64);
    }
}

/// The error a request body gives when it has not arrived in time.
#[derive(Debug, thiserror::Error)]
#[error("the request body did not arrive within {} ms", .0.as_millis())]
pub struct BodyTimedOut(pub Duration);

/// A request body that must arrive whole within a time, counted from the
/// first time a read has to wait for it (a handler that never reads its
/// body, or a body already received, never starts the clock).
pub struct DeadlineBody<B> {
    inner: B,
    limit: Duration,
    deadline: Option<Pin<Box<Sleep>>>,
}

impl<B> DeadlineBody<B> {
    /// `inner`, to be read within `limit`.
    pub fn new(inner: B, limit: Duration) -> Self {
        DeadlineBody {
            inner,
            limit,
            deadline: None,
        }
    }
}

impl<B> Body for DeadlineBody<B>
where
    B: Body<Data = Bytes> + Unpin,
    B::Error: Into<axum::BoxError>,
{
    type Data = Bytes;
    type Error = axum::BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = self.get_mut();
        if let Poll::Ready(frame) = Pin::new(&mut this.inner).poll_frame(cx) {
            return Poll::Ready(frame.map(|f| f.map_err(Into::into)));
        }
        let limit = this.limit;
        let deadline = this
            .deadline
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(limit)));
        match deadline.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Some(Err(Box::new(BodyTimedOut(limit))))),
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// A socket whose writes fail when they make no progress for a time: a
/// client that stops reading (a response, an event stream) cannot hold
/// its connection and the response's memory for ever.
pub struct StallGuard<S> {
    inner: S,
    limit: Duration,
    stalled: Option<Pin<Box<Sleep>>>,
}

impl<S> StallGuard<S> {
    /// `inner`, whose writes may stall for `limit`.
    pub fn new(inner: S, limit: Duration) -> Self {
        StallGuard {
            inner,
            limit,
            stalled: None,
        }
    }

    /// Ready progress clears the clock; a pending one starts or checks it.
    fn watch<T>(
        &mut self,
        cx: &mut Context<'_>,
        progress: Poll<io::Result<T>>,
    ) -> Poll<io::Result<T>> {
        if progress.is_ready() {
            self.stalled = None;
            return progress;
        }
        let limit = self.limit;
        let stalled = self
            .stalled
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(limit)));
        match stalled.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!("the client read nothing for {} ms", limit.as_millis()),
            ))),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for StallGuard<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for StallGuard<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let progress = Pin::new(&mut this.inner).poll_write(cx, buf);
        this.watch(cx, progress)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let progress = Pin::new(&mut this.inner).poll_flush(cx);
        this.watch(cx, progress)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let progress = Pin::new(&mut this.inner).poll_shutdown(cx);
        this.watch(cx, progress)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let progress = Pin::new(&mut this.inner).poll_write_vectored(cx, bufs);
        this.watch(cx, progress)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(max_connections: usize, max_per_peer: usize) -> ConnectionLimits {
        ConnectionLimits {
            max_connections,
            max_per_peer,
            header_timeout: Duration::from_secs(1),
            body_timeout: Duration::from_secs(1),
            write_stall: Duration::from_secs(1),
        }
    }

    #[test]
    fn slots_are_bounded_in_all_and_per_peer_and_freed_on_drop() {
        let open = Arc::new(OpenConnections::default());
        let limits = limits(3, 2);
        let a: IpAddr = [10, 0, 0, 1].into();
        let b: IpAddr = [10, 0, 0, 2].into();
        let a1 = open.admit(a, &limits).unwrap();
        let _a2 = open.admit(a, &limits).unwrap();
        assert_eq!(open.admit(a, &limits).err(), Some(Refusal::PeerFull(2)));
        let _b1 = open.admit(b, &limits).unwrap();
        assert_eq!(open.admit(b, &limits).err(), Some(Refusal::Full(3)));
        drop(a1);
        let _b2 = open.admit(b, &limits).unwrap();
        assert_eq!(open.admit(a, &limits).err(), Some(Refusal::Full(3)));
    }

    #[tokio::test]
    async fn a_body_that_does_not_arrive_in_time_fails_naming_its_limit() {
        use http_body_util::BodyExt;
        let (_sender, never) = tokio::sync::mpsc::channel::<Result<Frame<Bytes>, io::Error>>(1);
        let stream = http_body_util::StreamBody::new(tokio_stream_from(never));
        let body = DeadlineBody::new(stream, Duration::from_millis(500));
        let error = body.collect().await.expect_err("timed out");
        assert_eq!(
            error.to_string(),
            "the request body did not arrive within 500 ms"
        );
    }

    /// A stream of the channel's items.
    fn tokio_stream_from<T>(
        mut rx: tokio::sync::mpsc::Receiver<T>,
    ) -> impl futures::Stream<Item = T> + Unpin {
        Box::pin(futures::stream::poll_fn(move |cx| rx.poll_recv(cx)))
    }

    #[tokio::test]
    async fn a_write_the_client_never_reads_fails_after_the_stall_limit() {
        use tokio::io::AsyncWriteExt;
        let (ours, _theirs) = tokio::io::duplex(16);
        let mut guarded = StallGuard::new(ours, Duration::from_millis(300));
        let error = guarded
            .write_all(&[0u8; 1024])
            .await
            .expect_err("the other end reads nothing");
        assert_eq!(error.kind(), io::ErrorKind::TimedOut);
        assert_eq!(error.to_string(), "the client read nothing for 300 ms");
    }
}
