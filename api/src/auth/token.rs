//! Tokens: 32 random bytes, shown once as `ql_` + 64 hex digits, stored as
//! the hex SHA-256 of that text. A token has the entropy of a key, so one
//! fast digest is enough (a slow password hash protects guessable
//! secrets, which these are not).

use sha2::{Digest, Sha256};

/// Prefix of every token (lets secret scanners and people recognize one).
pub const PREFIX: &str = "ql_";

/// A new random token.
pub fn generate() -> anyhow::Result<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| anyhow::anyhow!("no randomness for a token: {e}"))?;
    Ok(format!("{PREFIX}{}", hex(&bytes)))
}

/// The SHA-256 of a token's text.
pub fn digest(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// [`digest`] as the configuration file stores it.
pub fn digest_hex(token: &str) -> String {
    hex(&digest(token))
}

/// A stored digest back to bytes (`None` unless 64 hex digits).
pub fn parse_digest(text: &str) -> Option<[u8; 32]> {
    let text = text.as_bytes();
    if text.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (byte, pair) in out.iter_mut().zip(text.chunks_exact(2)) {
        let digit = |c: u8| (c as char).to_digit(16);
        *byte = u8::try_from(digit(pair[0])? * 16 + digit(pair[1])?).ok()?;
    }
    Some(out)
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_round_trip_and_match_a_known_value() {
        // sha256("abc"), FIPS 180-2 appendix B.1
        assert_eq!(
            digest_hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        let token = generate().unwrap();
        assert!(token.starts_with(PREFIX) && token.len() == 67);
        assert_eq!(parse_digest(&digest_hex(&token)), Some(digest(&token)));
        assert_ne!(generate().unwrap(), token);
        assert_eq!(parse_digest("zz"), None);
        assert_eq!(parse_digest(&"g".repeat(64)), None);
    }
}
