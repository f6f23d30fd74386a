//! The Asterisk Manager Interface protocol, without I/O: so it builds in
//! seconds, is fuzzed on its own, and serves both the client and the
//! emulated server.
//!
//! Modules:
//! - [`codec`]: bytes ⇄ frames (banner, messages); size caps; a bad message
//!   is one error and decoding resumes after it.
//! - [`login`]: the MD5 challenge answer.
//! - [`session`]: the client's connection state machine (login, resync,
//!   ping, backoff, ActionID matching), fed by a driver that does the I/O.
//! - [`live`]: live state of queues and campaigns from events and resyncs.

pub mod codec;
pub mod live;
pub mod login;
pub mod session;

pub use codec::{Decoder, Frame, FrameError, Limits, Message};
