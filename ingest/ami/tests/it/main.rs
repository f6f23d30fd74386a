//! Integration tests of the AMI protocol crate: real captures.

mod captures;
