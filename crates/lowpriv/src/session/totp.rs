//! TOTP codes (RFC 6238: HMAC-SHA1, 30-second steps, 6 digits) from a base32 seed, for a
//! login's second factor. The seed is a secret like a password: it comes from a `${VAR}`
//! and is never in a message; neither is a code.

use aws_lc_rs::hmac;

/// Seconds per TOTP step.
pub const STEP_SECS: u64 = 30;

/// The seed's bytes, from its base32 text (case and spaces ignored, padding optional).
pub fn decode_seed(text: &str) -> Option<Vec<u8>> {
    let mut clean: String = text
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| c.to_ascii_uppercase())
        .collect();
    while clean.ends_with('=') {
        clean.pop();
    }
    data_encoding::BASE32_NOPAD
        .decode(clean.as_bytes())
        .ok()
        .filter(|seed| !seed.is_empty())
}

/// The 6-digit code for `seed` at `unix_secs`.
pub fn code(seed: &[u8], unix_secs: u64) -> String {
    code_at_step(seed, unix_secs / STEP_SECS)
}

/// The 6-digit code for `seed` at TOTP step `step` (the counter of RFC 4226).
pub fn code_at_step(seed: &[u8], step: u64) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, seed);
    let tag = hmac::sign(&key, &step.to_be_bytes());
    let digest = tag.as_ref();
    let offset = usize::from(digest[digest.len() - 1] & 0x0f);
    let binary = u32::from_be_bytes([
        digest[offset] & 0x7f,
        digest[offset + 1],
        digest[offset + 2],
        digest[offset + 3],
    ]);
    format!("{:06}", binary % 1_000_000)
}

/// The current TOTP step.
pub fn current_step() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
        / STEP_SECS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_match_the_rfc_6238_vectors() {
        // RFC 6238 appendix B, SHA-1, the seed "12345678901234567890"; 6 of the 8 digits.
        let seed = b"12345678901234567890";
        for (time, want) in [
            (59, "287082"),
            (1_111_111_109, "081804"),
            (1_111_111_111, "050471"),
            (1_234_567_890, "005924"),
            (2_000_000_000, "279037"),
        ] {
            assert_eq!(code(seed, time), want, "at {time}");
        }
        assert_ne!(code(seed, 59), code(seed, 60), "a new step, a new code");
    }

    #[test]
    fn seeds_are_base32_with_spaces_lowercase_and_padding_forgiven() {
        let seed = decode_seed("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ").unwrap();
        assert_eq!(seed, b"12345678901234567890");
        assert_eq!(
            decode_seed("gezd gnbv gy3t qojq gezd gnbv gy3t qojq"),
            Some(seed)
        );
        assert_eq!(
            decode_seed("JBSWY3DPEHPK3PXP===="),
            decode_seed("JBSWY3DPEHPK3PXP")
        );
        assert!(decode_seed("not base32!").is_none());
        assert!(decode_seed("").is_none());
    }
}
