//! Fuzz target: the PostgreSQL port's frame checker never panics on any
//! byte stream, in any split, and a split never changes its verdict.
//! The checker is compiled from the server's own source file.
#![no_main]

#[allow(dead_code)]
#[path = "../../api/src/postgres_wire/frames.rs"]
mod frames;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&split, stream)) = data.split_first() else {
        return;
    };
    let whole = frames::FrameChecker::new().feed(stream);
    let at = usize::from(split).min(stream.len());
    let mut checker = frames::FrameChecker::new();
    let split_verdict = checker
        .feed(&stream[..at])
        .and_then(|()| checker.feed(&stream[at..]));
    assert_eq!(whole.is_ok(), split_verdict.is_ok());
});
