//! The AMI (Asterisk Manager Interface) source. So far: the byte-level
//! codec ([`codec`]); the client, its journal and the emulated server
//! follow (issue 3).

pub mod codec;
