//! Random streams.
//!
//! # Generator
//! Every stream is a **Xoshiro256++** generator (Blackman and Vigna, 2019;
//! period 2^256 - 1), implemented here so that its output can never change
//! under us with a dependency update. Its 256-bit state is filled by four
//! outputs of **SplitMix64** started from a 64-bit hash of the stream's key.
//!
//! # Stream allocation
//! A stream is named by a [`StreamKey`]: (scenario seed, replication index,
//! source, index). The hash mixes each part through the SplitMix64 finaliser,
//! so neighbouring keys give unrelated states. Creating a stream costs seven
//! multiply-xorshift rounds (a few nanoseconds), which is what lets every
//! patient have a stream of its own. Distinct keys give distinct 256-bit
//! starting points; with 2^256 states, overlap between the few million streams
//! of a run has negligible probability (unlike ChaCha's `set_stream`, this is
//! not a proof of disjointness, but Xoshiro256++ passes BigCrush and
//! PractRand from such seeds).

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

/// A Xoshiro256++ stream.
#[derive(Clone, Debug)]
pub struct StreamRng {
    s: [u64; 4],
}

impl StreamRng {
    /// The stream named by `key`.
    #[inline]
    pub fn new(key: StreamKey) -> StreamRng {
        let mut x = key.0;
        let mut next = || {
            x = x.wrapping_add(GOLDEN);
            mix64(x)
        };
        let s = [next(), next(), next(), next()];
        // The all-zero state is the one state Xoshiro cannot leave; SplitMix64
        // cannot produce four zeros in a row, but be explicit.
        debug_assert!(s != [0; 4]);
        StreamRng { s }
    }

    /// The next 64 random bits.
    #[inline]
    pub fn next_u64(&mut self) -> u64 {
        let s = &mut self.s;
        let result = (s[0].wrapping_add(s[3])).rotate_left(23).wrapping_add(s[0]);
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        result
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
        // Xoshiro256++ from state [1, 2, 3, 4]: the first output is
        // rotl(1 + 4, 23) + 1 = 41943041, as in the reference implementation.
        let mut r = StreamRng { s: [1, 2, 3, 4] };
        assert_eq!(r.next_u64(), 41_943_041);
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
