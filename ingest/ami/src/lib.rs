//! The Asterisk Manager Interface protocol, without I/O: so it builds in
//! seconds, is fuzzed on its own, and serves both the client and the
//! emulated server.
//!
//! Modules:
//! - [`codec`]: bytes ⇄ frames (banner, messages); size caps; a bad message
//!   is one error and decoding resumes after it.
//!
//! The connection state machine, the journal and the emulator join with
//! their steps of issue 3.

pub mod codec;

pub use codec::{Decoder, Frame, FrameError, Limits, Message};
