//! Random streams.
//!
//! # Generator
//! Every stream is a **SplitMix64** generator (Steele, Lea and Flood, "Fast
//! splittable pseudorandom number generators", OOPSLA 2014; the generator of
//! Java's `SplittableRandom`): a 64-bit state that advances by the golden
//! gamma `0x9E3779B97F4A7C15` and is put through a multiply-xorshift
//! finaliser for each output. It passes BigCrush. It is implemented here so
//! that its output can never change under us with a dependency update.
//!
//! # Stream allocation
//! A stream is named by a [`StreamKey`]: (scenario seed, replication index,
//! source, index). The hash mixes each part through the same finaliser, so
//! neighbouring keys give unrelated values, and the key is the stream's
//! starting state. Creating a stream is one mixing round for its key and
//! nothing else, which is what lets every patient have a stream of its own:
//! most patients draw three numbers and go home.
//!
//! All streams walk the same cycle of 2^64 states from their own starting
//! points. Two streams overlap only if their starting points are within the
//! number of draws of each other: for `N` streams of at most `L` draws that
//! has probability about `N^2 L / 2^64`, 2e-8 for a replication of the
//! baseline (1.3e5 patients, 20 draws each), and about 0.02 that some pair
//! of patients anywhere in a run of 1,000 replications shares some numbers,
//! which changes nothing measurable. (The previous generator, Xoshiro256++
//! seeded by four SplitMix64 outputs, had a 2^256 state but cost four mixing
//! rounds per patient; per-patient streams are short, so the cheaper one
//! serves as well.)

use rand::rand_core::{Infallible, TryRng};

/// SplitMix64's output function (Steele, Lea and Flood, 2014).
#[inline]
fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

const GOLDEN: u64 = 0x9E37_79B9_7F4A_7C15;

/// The identity of a random stream: a 64-bit hash of its parts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct StreamKey(pub u64);

/// The streams of one (seed, replication, source), with the part of the hash
/// they share computed once: naming a stream is then one mixing round.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StreamFamily(u64);

impl StreamFamily {
    /// The family of (`seed`, `replication`, `source`); `source` is any
    /// number the caller gives each kind of stream.
    pub fn new(seed: u64, replication: u32, source: u32) -> StreamFamily {
        let h = mix64(seed.wrapping_add(GOLDEN));
        StreamFamily(mix64(
            h ^ (u64::from(replication) << 32 | u64::from(source)),
        ))
    }

    /// The key of stream `index` of this family.
    #[inline]
    pub fn key(self, index: u64) -> StreamKey {
        StreamKey(mix64(self.0.wrapping_add(index.wrapping_mul(GOLDEN))))
    }
}

impl StreamKey {
    /// The key of stream (`seed`, `replication`, `source`, `index`).
    #[inline]
    pub fn new(seed: u64, replication: u32, source: u32, index: u64) -> StreamKey {
        StreamFamily::new(seed, replication, source).key(index)
    }

    /// A key derived from this one (a readmission from its patient, a care
    /// home resident's `n`-th crisis from the resident).
    #[inline]
    pub fn child(self, tag: u64) -> StreamKey {
        StreamKey(mix64(self.0 ^ mix64(tag.wrapping_add(GOLDEN))))
    }
}

/// A SplitMix64 stream.
#[derive(Clone, Debug)]
pub struct StreamRng {
    s: u64,
}

impl StreamRng {
    /// The stream named by `key`.
    #[inline]
    pub fn new(key: StreamKey) -> StreamRng {
        StreamRng { s: key.0 }
    }

    /// The next 64 random bits.
    #[inline]
    pub fn next_u64(&mut self) -> u64 {
        self.s = self.s.wrapping_add(GOLDEN);
        mix64(self.s)
    }

    /// A uniform draw in [0, 1) with 53 random bits.
    #[inline]
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// True with probability `p` (`p` in [0, 1]).
    #[inline]
    pub fn chance(&mut self, p: f64) -> bool {
        self.uniform() < p
    }

    /// An exponential draw with mean 1 (ziggurat: a logarithm only in the
    /// rare tail case).
    #[inline]
    pub fn exp1(&mut self) -> f64 {
        use rand_distr::Distribution;
        rand_distr::Exp1.sample(self)
    }
}

impl TryRng for StreamRng {
    type Error = Infallible;

    #[inline]
    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        Ok((self.next_u64() >> 32) as u32)
    }

    #[inline]
    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        Ok(self.next_u64())
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        for chunk in dst.chunks_mut(8) {
            let bytes = self.next_u64().to_le_bytes();
            chunk.copy_from_slice(&bytes[..chunk.len()]);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_output_is_stable() {
        // SplitMix64 from state 0: the published first outputs of the
        // reference implementation (Vigna's splitmix64.c).
        let mut r = StreamRng { s: 0 };
        assert_eq!(r.next_u64(), 0xE220_A839_7B1D_CDAF);
        assert_eq!(r.next_u64(), 0x6E78_9E6A_A1B9_65F4);
        assert_eq!(r.next_u64(), 0x06C4_5D18_8009_454F);
    }

    #[test]
    fn streams_differ_and_repeat() {
        let a = StreamKey::new(7, 0, 1, 0);
        let b = StreamKey::new(7, 0, 1, 1);
        let c = StreamKey::new(7, 1, 1, 0);
        assert_ne!(a, b);
        assert_ne!(a, c);
        assert_ne!(a.child(1), a.child(2));
        let x: Vec<u64> = (0..4)
            .map({
                let mut r = StreamRng::new(a);
                move |_| r.next_u64()
            })
            .collect();
        let y: Vec<u64> = (0..4)
            .map({
                let mut r = StreamRng::new(a);
                move |_| r.next_u64()
            })
            .collect();
        assert_eq!(x, y);
    }

    #[test]
    fn uniform_mean_is_a_half() {
        let mut r = StreamRng::new(StreamKey::new(1, 2, 3, 4));
        let n = 200_000;
        let mean = (0..n).map(|_| r.uniform()).sum::<f64>() / n as f64;
        // sd of a U(0,1) mean: sqrt(1/12/n) = 6.5e-4; allow 4 standard errors.
        assert!((mean - 0.5).abs() < 4.0 * (1.0 / 12.0 / n as f64).sqrt());
    }
}
