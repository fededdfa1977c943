//! Shards: a run split over machines by replication index.
//!
//! Shard `K/N` runs replications `K, K + N, K + 2N, ...`. A replication's
//! result depends only on (scenario, seed, index), so the union of the
//! shards is the single run, and `merge` can recompute every statistic from
//! the per-replication values.

use std::fmt;
use std::str::FromStr;

use crate::report::ShardRecord;

/// Shard `index` of `count` (0-based: `0/2` and `1/2` make a whole).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    /// This shard's index, 0-based, below `count`.
    pub index: u32,
    /// Shards in all.
    pub count: u32,
}

impl Shard {
    /// The replications of `0..total` that belong to this shard, ascending.
    pub fn replications(self, total: u32) -> Vec<u32> {
        ShardRecord::replications_of(self.index, self.count, total)
    }

    /// The record of this shard for a manifest.
    pub fn record(self, total: u32) -> ShardRecord {
        ShardRecord {
            index: self.index,
            count: self.count,
            replications: self.replications(total),
        }
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl FromStr for Shard {
    type Err = String;

    /// `K/N` with `0 <= K < N`, as Slurm's `$SLURM_ARRAY_TASK_ID` and a
    /// Kubernetes `$JOB_COMPLETION_INDEX` count (from 0).
    fn from_str(s: &str) -> Result<Shard, String> {
        let (k, n) = s
            .split_once('/')
            .ok_or_else(|| format!("expected K/N such as 0/4, found `{s}`"))?;
        let parse = |t: &str, what: &str| {
            t.trim()
                .parse::<u32>()
                .map_err(|_| format!("{what} `{t}` in `{s}` is not a whole number"))
        };
        let (index, count) = (parse(k, "shard index")?, parse(n, "shard count")?);
        if count == 0 {
            return Err(format!("`{s}`: the shard count must be at least 1"));
        }
        if index >= count {
            return Err(format!(
                "`{s}`: shards are numbered from 0, so the index must be below {count}"
            ));
        }
        Ok(Shard { index, count })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_split() {
        let s: Shard = "1/3".parse().expect("valid");
        assert_eq!(s.replications(8), vec![1, 4, 7]);
        assert_eq!(s.to_string(), "1/3");
        assert!("3/3".parse::<Shard>().is_err());
        assert!("0/0".parse::<Shard>().is_err());
        assert!("a/2".parse::<Shard>().is_err());
        assert!("2".parse::<Shard>().is_err());
        let mut all: Vec<u32> = (0..3)
            .flat_map(|k| Shard { index: k, count: 3 }.replications(10))
            .collect();
        all.sort_unstable();
        assert_eq!(all, (0..10).collect::<Vec<_>>());
    }
}
