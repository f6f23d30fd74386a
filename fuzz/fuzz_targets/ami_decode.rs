//! The AMI decoder never panics, and a read split anywhere gives the same
//! frames as one read.

#![no_main]

use libfuzzer_sys::fuzz_target;
use queuelake_ami::{Decoder, Limits};

fn decode(parts: &[&[u8]]) -> Vec<String> {
    let limits = Limits {
        max_line_bytes: 64,
        max_headers: 8,
    };
    let mut decoder = Decoder::new(limits);
    let mut out = Vec::new();
    for part in parts {
        decoder.push(part);
        while let Some(frame) = decoder.next_frame() {
            out.push(format!("{frame:?}"));
        }
    }
    out
}

fuzz_target!(|data: &[u8]| {
    let Some((&split, bytes)) = data.split_first() else {
        return;
    };
    let at = usize::from(split) % (bytes.len() + 1);
    let (a, b) = bytes.split_at(at);
    assert_eq!(decode(&[bytes]), decode(&[a, b]));
});
