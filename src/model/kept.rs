//! Which draw each replication keeps when a run keeps only the drawn worlds
//! its calibration figures allow (`docs/model.md`, "Keeping only the draws
//! the calibration allows"). The model asks; the experiment layer judges.

use super::Stopped;
use super::metrics::ReplicationResult;

/// The source of the noise seeds of draws 1, 2, ... and of the central
/// replications that measure each figure's noise ("MATC").
pub const KEEP_SOURCE: u32 = 0x4D41_5443;

/// The noise seed of draw `draw` of replication `replication`: `seed` for
/// draw 0, else the 64-bit value of the stream key (seed, replication,
/// [`KEEP_SOURCE`], draw).
pub fn draw_seed(seed: u64, replication: u32, draw: u32) -> u64 {
    if draw == 0 {
        seed
    } else {
        crate::engine::rng::StreamKey::new(seed, replication, KEEP_SOURCE, u64::from(draw)).0
    }
}

/// The seed of the central replications: the 64-bit value of the stream
/// key (seed, 0, [`KEEP_SOURCE`], 0).
pub fn central_seed(seed: u64) -> u64 {
    crate::engine::rng::StreamKey::new(seed, 0, KEEP_SOURCE, 0).0
}

/// How one replication found its world.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KeptRecord {
    /// The draw kept.
    pub draw: u32,
    /// Draws tried, the kept one included.
    pub tried: u32,
    /// Draws rejected for overloading a service.
    pub rejected_overloaded: u32,
    /// For each service, the rejected draws that overload it (by the flow
    /// balance, or a queue past the bound), in the order first found.
    pub overloaded: Vec<(&'static str, u32)>,
    /// For each calibration figure (its index in the table), the simulated
    /// draws it rejected, in the order first found.
    pub outside: Vec<(usize, u32)>,
}

impl KeptRecord {
    /// Counts one more rejection under `key`.
    pub fn count<K: PartialEq>(list: &mut Vec<(K, u32)>, key: K) {
        match list.iter_mut().find(|(k, _)| *k == key) {
            Some((_, n)) => *n += 1,
            None => list.push((key, 1)),
        }
    }
}

/// A replication's kept draw, and the judged scenario's result of it when
/// finding it simulated it (the replication's own result, when the run's
/// scenario is the judged one).
#[derive(Debug)]
pub struct Kept {
    /// How it was found.
    pub record: KeptRecord,
    /// The judged scenario's whole-window result of the kept draw (no
    /// years), when this call simulated it, with the metrics of the
    /// counterfactual arms it ran (those its figures read).
    pub result: Option<(ReplicationResult, Vec<super::metrics::Metric>)>,
}

/// Finds each replication's kept draw.
pub trait KeptDraws: Send + Sync + std::fmt::Debug {
    /// Replication `replication`'s kept draw; an error when none of its
    /// draws is kept, or a draw could not run.
    fn kept(&self, replication: u32) -> Result<Kept, Stopped>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draw_zero_keeps_the_seed_and_later_draws_do_not() {
        assert_eq!(draw_seed(20250401, 7, 0), 20250401);
        let later: Vec<u64> = (1..50).map(|d| draw_seed(20250401, 7, d)).collect();
        assert!(later.iter().all(|&s| s != 20250401));
        let mut unique = later.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), later.len(), "each draw its own seed");
        assert_ne!(draw_seed(20250401, 7, 1), draw_seed(20250401, 8, 1));
        assert_ne!(central_seed(20250401), 20250401);
    }

    #[test]
    fn counts_gather_under_their_key_in_first_found_order() {
        let mut list: Vec<(&str, u32)> = Vec::new();
        KeptRecord::count(&mut list, "home care");
        KeptRecord::count(&mut list, "rehab beds");
        KeptRecord::count(&mut list, "home care");
        assert_eq!(list, vec![("home care", 2), ("rehab beds", 1)]);
    }
}
