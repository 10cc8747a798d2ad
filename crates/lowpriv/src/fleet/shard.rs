//! `--shard K/N`: which Sites this machine runs. A Site's shard is a stable hash of its name
//! (never of its path or its place in the list), so N machines split a fleet with no
//! coordination, and a Site stays on its shard when others are added or removed.

use std::fmt;

/// Shard `index` of `count`, 1-based as people count (`--shard 2/3`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    pub index: u32,
    pub count: u32,
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum ShardError {
    #[error("`{0}` is not a shard: write K/N with 1 <= K <= N, for example 2/3")]
    Syntax(String),
    #[error(
        "JOB_COMPLETION_INDEX is `{0}`: with --shards N it must be a number from 0 to N-1 \
         (a Kubernetes Indexed Job sets it)"
    )]
    Index(String),
    #[error(
        "--shards N needs JOB_COMPLETION_INDEX in the environment (0-based), or use --shard K/N"
    )]
    NoIndex,
}

impl Shard {
    pub fn parse(text: &str) -> Result<Shard, ShardError> {
        let bad = || ShardError::Syntax(text.to_string());
        let (index, count) = text.trim().split_once('/').ok_or_else(bad)?;
        let index: u32 = index.trim().parse().map_err(|_| bad())?;
        let count: u32 = count.trim().parse().map_err(|_| bad())?;
        if index == 0 || count == 0 || index > count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }

    /// `--shards N` with a 0-based index from the environment (`JOB_COMPLETION_INDEX`).
    pub fn from_index(count: u32, index: Option<&str>) -> Result<Shard, ShardError> {
        let text = index.ok_or(ShardError::NoIndex)?;
        let index: u32 = text
            .trim()
            .parse()
            .map_err(|_| ShardError::Index(text.to_string()))?;
        if count == 0 || index >= count {
            return Err(ShardError::Index(text.to_string()));
        }
        Ok(Shard {
            index: index + 1,
            count,
        })
    }

    pub fn holds(&self, site: &str) -> bool {
        shard_of(site, self.count) == self.index
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// The 1-based shard of `site` among `count`: FNV-1a 64 of the name's bytes, modulo the
/// count. FNV-1a is fixed by its definition, so the split never changes with a Rust or
/// lowpriv release (std's hasher makes no such promise).
pub fn shard_of(site: &str, count: u32) -> u32 {
    let hash = crate::fnv::fnv1a64(site.bytes());
    (hash % u64::from(count.max(1))) as u32 + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_parse_one_based_and_refuse_nonsense() {
        assert_eq!(Shard::parse("2/3"), Ok(Shard { index: 2, count: 3 }));
        assert_eq!(Shard::parse(" 1 / 1 "), Ok(Shard { index: 1, count: 1 }));
        for bad in ["0/3", "4/3", "3", "a/b", "1/0", "", "1/3/4", "-1/3"] {
            assert!(Shard::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(
            Shard::from_index(3, Some("0")),
            Ok(Shard { index: 1, count: 3 })
        );
        assert_eq!(
            Shard::from_index(3, Some("2")),
            Ok(Shard { index: 3, count: 3 })
        );
        assert!(Shard::from_index(3, Some("3")).is_err());
        assert!(Shard::from_index(3, Some("x")).is_err());
        assert_eq!(Shard::from_index(3, None), Err(ShardError::NoIndex));
    }

    #[test]
    fn every_site_is_on_exactly_one_shard_and_stays_there_as_the_fleet_grows() {
        let names: Vec<String> = (0..300).map(|i| format!("site-{i:03}")).collect();
        let shards: Vec<Shard> = (1..=3).map(|index| Shard { index, count: 3 }).collect();
        let mut sizes = [0usize; 3];
        for name in &names {
            let holding: Vec<&Shard> = shards.iter().filter(|s| s.holds(name)).collect();
            assert_eq!(holding.len(), 1, "{name}");
            sizes[holding[0].index as usize - 1] += 1;
        }
        // A usable split: no shard gets less than a fifth of the fleet.
        assert!(sizes.iter().all(|&n| n > 60), "{sizes:?}");
        // The shard is a function of the name alone: fixed values, so a change of hash is
        // seen here before it moves a real fleet's Sites.
        assert_eq!(shard_of("acme-payroll", 3), shard_of("acme-payroll", 3));
        let pinned: Vec<u32> = ["a", "acme-payroll", "site-001"]
            .iter()
            .map(|n| shard_of(n, 7))
            .collect();
        assert_eq!(pinned, PINNED);
    }

    const PINNED: [u32; 3] = [6, 5, 5];
}
