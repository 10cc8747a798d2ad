//! FNV-1a, 64 bits: the one stable hash of the crate (fingerprints, group ids, shards). Its
//! value is fixed by its definition, across runs, platforms and Rust versions, which std's
//! hasher does not promise. Not a security hash.

const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const PRIME: u64 = 0x0100_0000_01b3;

pub(crate) fn fnv1a64(bytes: impl IntoIterator<Item = u8>) -> u64 {
    bytes
        .into_iter()
        .fold(OFFSET, |hash, b| (hash ^ u64::from(b)).wrapping_mul(PRIME))
}

#[cfg(test)]
mod tests {
    #[test]
    fn known_values() {
        // The published FNV-1a 64 test vectors.
        assert_eq!(super::fnv1a64(*b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(super::fnv1a64(*b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(super::fnv1a64(*b"foobar"), 0x8594_4171_f739_67e8);
    }
}
