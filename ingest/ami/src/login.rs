//! Login helpers: the MD5 challenge answer (`Key` = hex MD5 of the
//! challenge followed by the secret, formats.md §2.2).

use md5::{Digest, Md5};

/// The `Key` header of an `AuthType: MD5` login.
pub fn md5_key(challenge: &str, secret: &str) -> String {
    let digest = Md5::new()
        .chain_update(challenge.as_bytes())
        .chain_update(secret.as_bytes())
        .finalize();
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::md5_key;

    #[test]
    fn matches_the_rfc_1321_test_suite() {
        // RFC 1321 §A.5: MD5("") and MD5("abc"), split between challenge
        // and secret any way.
        assert_eq!(md5_key("", ""), "d41d8cd98f00b204e9800998ecf8427e");
        assert_eq!(md5_key("a", "bc"), "900150983cd24fb0d6963f7d28e17f72");
        assert_eq!(md5_key("abc", ""), "900150983cd24fb0d6963f7d28e17f72");
    }
}
