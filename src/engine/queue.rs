//! A future-event list keyed on (time, sequence number).
//!
//! The sequence number is the order of scheduling, so events at the same
//! instant are processed first-scheduled first, the same way on every run.
//! Times are hours as `f64`, checked finite and non-negative when scheduled;
//! for such values the IEEE bit pattern orders like the number, so a time is
//! compared as a `u64` and (time, sequence) as one `u128`,
//! `time bits << 64 | sequence`.
//!
//! # Structure
//! Three parts, popped as one in (time, sequence) order:
//! - **Timers**: a few fixed slots, each holding at most one pending event.
//!   A recurring process whose next event is always known (an arrival
//!   stream) lives in a slot instead of the heap, so the heap does not carry
//!   half of all events. Popping compares the heap's top with the earliest slot.
//! - **A 4-ary min-heap on time alone** for everything else: half the depth
//!   of a binary heap, and its comparisons are of single `u64`s, the four
//!   children's times in 32 contiguous bytes. Each time's sequence number
//!   and event sit in a parallel array, moved but never compared.
//! - **Ties**: as the heap does not order equal times by sequence, when the
//!   earliest time in it is shared (by several of its events, or with a
//!   timer) its events at that time are all taken out at once and sorted by
//!   full key. Events scheduled later for that same instant have larger
//!   sequence numbers, so they rightly come after. Ties are rare (openings of
//!   the discharge hours, capacity changes at midnight), and cost nothing
//!   when absent but one comparison per pop.
//!
//! Push and pop are O(log n); none of them allocates once the arrays have
//! grown to their working size.

/// The sequence number and payload of a scheduled event.
#[derive(Clone, Copy, Debug)]
struct Entry<E> {
    seq: u64,
    event: E,
}

/// An event with its (time, sequence) key: a timer slot or a tie.
#[derive(Clone, Copy, Debug)]
struct Slot<E> {
    key: u128,
    event: E,
}

/// The key of an empty timer slot or an empty part: larger than any real key.
const EMPTY: u128 = u128::MAX;

/// The bits of +infinity: a time's bits are below this exactly when the time
/// is finite and not negative (after -0.0 is made +0.0; NaN bits are above).
const INFINITY_BITS: u64 = 0x7FF0_0000_0000_0000;

/// The future-event list.
#[derive(Debug)]
pub struct EventQueue<E, const TIMERS: usize> {
    /// Heap-ordered times (as bits); `entries[i]` belongs to `times[i]`.
    times: Vec<u64>,
    entries: Vec<Entry<E>>,
    /// Events taken from the heap because their time is shared, in decreasing
    /// (time, sequence) order: the next one is the last.
    ties: Vec<Slot<E>>,
    /// Slot 0 is for the busiest process: setting or popping it costs one
    /// comparison, with `other_first`; the other slots are rescanned when one
    /// of them changes.
    timers: [Slot<E>; TIMERS],
    /// The timer slot with the smallest key (0 when all are empty), kept up
    /// to date so that a pop does not scan the slots.
    first_timer: usize,
    /// The slot with the smallest key among slots 1.. (any of them when all
    /// are empty; 0 when there are no others).
    other_first: usize,
    next_seq: u64,
}

impl<E: Copy, const TIMERS: usize> EventQueue<E, TIMERS> {
    /// An empty queue with room for `capacity` pending events in the heap and
    /// `TIMERS` timer slots, each holding `idle` (never returned) until set.
    pub fn new(capacity: usize, idle: E) -> Self {
        const { assert!(TIMERS >= 1, "an event queue needs a timer slot") };
        EventQueue {
            times: Vec::with_capacity(capacity),
            entries: Vec::with_capacity(capacity),
            ties: Vec::with_capacity(64),
            timers: [Slot {
                key: EMPTY,
                event: idle,
            }; TIMERS],
            first_timer: 0,
            other_first: usize::from(TIMERS > 1),
            next_seq: 0,
        }
    }

    /// Finds the slot with the smallest key among slots 1.., then the first.
    #[inline]
    fn refresh_others(&mut self) {
        let mut best = self.other_first;
        let mut best_key = EMPTY;
        for (i, slot) in self.timers.iter().enumerate().skip(1) {
            if slot.key < best_key {
                best = i;
                best_key = slot.key;
            }
        }
        self.other_first = best;
    }

    /// Sets `first_timer` from slot 0 and the first of the others.
    #[inline]
    fn update_first_timer(&mut self) {
        let other = self.other_first;
        self.first_timer = if other != 0 && self.timers[other].key < self.timers[0].key {
            other
        } else {
            0
        };
    }

    /// The bits of `time`, which must be finite and not negative.
    #[inline]
    fn time_bits(time: f64) -> u64 {
        // +0.0 and -0.0 compare equal but have different bits: normalise.
        let bits = (time + 0.0).to_bits();
        assert!(
            bits < INFINITY_BITS,
            "event scheduled at invalid time {time}"
        );
        bits
    }

    #[inline]
    fn next_seq(&mut self) -> u64 {
        let seq = self.next_seq;
        self.next_seq += 1;
        seq
    }

    /// Schedules `event` at `time` hours.
    ///
    /// # Panics
    /// If `time` is NaN, infinite or negative: the model never computes such
    /// a time from validated input, so this is a bug, not a user error.
    #[inline]
    pub fn schedule(&mut self, time: f64, event: E) {
        let bits = Self::time_bits(time);
        let seq = self.next_seq();
        self.sift_up(bits, Entry { seq, event });
    }

    /// Sets timer slot `slot` to fire `event` at `time`, replacing what it held.
    /// It takes its place in the (time, sequence) order as if scheduled now.
    #[inline]
    pub fn set_timer(&mut self, slot: usize, time: f64, event: E) {
        let key = key_of(Self::time_bits(time), self.next_seq());
        self.timers[slot] = Slot { key, event };
        if slot != 0 {
            self.refresh_others();
        }
        self.update_first_timer();
    }

    /// Removes and returns the earliest event with its time.
    #[inline]
    pub fn pop(&mut self) -> Option<(f64, E)> {
        // The common case, kept small enough to inline: a timer strictly
        // before everything in the heap, and no ties.
        let first = self.first_timer;
        let slot = self.timers[first];
        let heap_time = self.times.first().copied().unwrap_or(u64::MAX);
        if ((slot.key >> 64) as u64) < heap_time && self.ties.is_empty() {
            self.take_timer(first);
            return Some((time_of(slot.key), slot.event));
        }
        self.pop_general()
    }

    /// Empties timer slot `slot`, the first.
    #[inline]
    fn take_timer(&mut self, slot: usize) {
        self.timers[slot].key = EMPTY;
        if slot != 0 {
            self.refresh_others();
        }
        self.update_first_timer();
    }

    /// `pop` in every case.
    #[inline(never)]
    fn pop_general(&mut self) -> Option<(f64, E)> {
        loop {
            let timer_key = self.timers[self.first_timer].key;
            let tie_key = self.ties.last().map_or(EMPTY, |t| t.key);
            if let Some(&time) = self.times.first() {
                // The earliest time among the timers and ties (u64::MAX for none).
                let other = (timer_key.min(tie_key) >> 64) as u64;
                if time < other {
                    let (time, entry) = self.remove_root()?;
                    if self.times.first() != Some(&time) {
                        return Some((f64::from_bits(time), entry.event));
                    }
                    // Others in the heap are due at the same instant.
                    self.push_tie(time, entry);
                    self.take_ties(time);
                    continue;
                }
                if time == other {
                    self.take_ties(time);
                    continue;
                }
            }
            // The heap's earliest is later than the earliest timer or tie.
            if timer_key < tie_key {
                let event = self.timers[self.first_timer].event;
                self.take_timer(self.first_timer);
                return Some((time_of(timer_key), event));
            }
            let tie = self.ties.pop()?;
            return Some((time_of(tie.key), tie.event));
        }
    }

    #[inline]
    fn push_tie(&mut self, time: u64, entry: Entry<E>) {
        self.ties.push(Slot {
            key: key_of(time, entry.seq),
            event: entry.event,
        });
    }

    /// Moves every heap event due at `time` to the ties, in (time, sequence)
    /// order with those already there.
    #[cold]
    fn take_ties(&mut self, time: u64) {
        while self.times.first() == Some(&time) {
            let Some((_, entry)) = self.remove_root() else {
                break;
            };
            self.push_tie(time, entry);
        }
        self.ties.sort_unstable_by_key(|t| std::cmp::Reverse(t.key));
    }

    /// The time of the next event, without taking it.
    #[inline]
    pub fn next_time(&self) -> Option<f64> {
        let heap = self.times.first().map_or(u64::MAX, |&t| t);
        let tie = self.ties.last().map_or(EMPTY, |t| t.key);
        let timer = self.timers[self.first_timer].key;
        let earliest = heap.min((tie.min(timer) >> 64) as u64);
        (earliest != u64::MAX).then(|| f64::from_bits(earliest))
    }

    /// Pending events (heap, ties and timers).
    pub fn len(&self) -> usize {
        self.times.len() + self.ties.len() + self.timers.iter().filter(|t| t.key != EMPTY).count()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Adds (`time`, `entry`) at the bottom of the heap and restores the order.
    #[inline]
    fn sift_up(&mut self, time: u64, entry: Entry<E>) {
        let mut i = self.times.len();
        self.times.push(time);
        self.entries.push(entry);
        while i > 0 {
            let parent = (i - 1) / 4;
            let parent_time = self.times[parent];
            if parent_time <= time {
                break;
            }
            self.times[i] = parent_time;
            self.entries[i] = self.entries[parent];
            i = parent;
        }
        self.times[i] = time;
        self.entries[i] = entry;
    }

    /// Removes the root of the heap.
    #[inline]
    fn remove_root(&mut self) -> Option<(u64, Entry<E>)> {
        let last_time = self.times.pop()?;
        let last = self.entries.pop()?;
        if self.times.is_empty() {
            return Some((last_time, last));
        }
        let top = (self.times[0], self.entries[0]);
        self.sift_down(last_time, last);
        Some(top)
    }

    /// Puts (`time`, `entry`) at the root, replacing it, and restores the heap.
    #[inline]
    fn sift_down(&mut self, time: u64, entry: Entry<E>) {
        let n = self.times.len();
        // Called with the root's place to fill: never on an empty heap.
        assert!(n > 0 && n == self.entries.len());
        let times = self.times.as_mut_ptr();
        let entries = self.entries.as_mut_ptr();
        // SAFETY: every index read or written below is less than `n`, the
        // length of both arrays: `i` is 0 (with `n > 0`) or a `child`, and each `child` is checked
        // against `n` (`first + 3 < n`, or `first <= c < n`). Nothing else
        // touches the arrays meanwhile. Unchecked access is worth it here:
        // this loop is the simulation's single hottest path, and the
        // tournament's index comes from conditional moves the compiler
        // cannot see through to drop the checks.
        unsafe {
            let mut i = 0;
            loop {
                let first = 4 * i + 1;
                // The grandchildren's times (16 in a row from 16i + 5) are
                // loaded while this level's tournament runs: the next
                // level's loads then hit the cache. A hint only: prefetching
                // past the end of the array is harmless.
                #[cfg(target_arch = "x86_64")]
                {
                    use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
                    let g = times.wrapping_add(16 * i + 5) as *const i8;
                    _mm_prefetch::<_MM_HINT_T0>(g);
                    _mm_prefetch::<_MM_HINT_T0>(g.wrapping_add(64));
                }
                // The smallest of up to four children. With all four present
                // (the usual case) a tournament of independent comparisons,
                // written so that it compiles to conditional moves: which
                // child is smallest is a coin toss, and branches on it would
                // mostly mispredict.
                let (child, child_time) = if first + 3 < n {
                    let (a, ta) = pick(first, *times.add(first), first + 1, *times.add(first + 1));
                    let (b, tb) = pick(
                        first + 2,
                        *times.add(first + 2),
                        first + 3,
                        *times.add(first + 3),
                    );
                    pick(a, ta, b, tb)
                } else if first < n {
                    let mut child = first;
                    for c in first + 1..n {
                        if *times.add(c) < *times.add(child) {
                            child = c;
                        }
                    }
                    (child, *times.add(child))
                } else {
                    break;
                };
                if time <= child_time {
                    break;
                }
                *times.add(i) = child_time;
                *entries.add(i) = *entries.add(child);
                i = child;
            }
            *times.add(i) = time;
            *entries.add(i) = entry;
        }
    }
}

/// The smaller of two children by time (the first on a tie), without a
/// data-dependent branch.
#[inline(always)]
fn pick(i: usize, ti: u64, j: usize, tj: u64) -> (usize, u64) {
    let j_smaller = tj < ti;
    (
        std::hint::select_unpredictable(j_smaller, j, i),
        std::hint::select_unpredictable(j_smaller, tj, ti),
    )
}

#[inline]
fn key_of(time_bits: u64, seq: u64) -> u128 {
    (u128::from(time_bits) << 64) | u128::from(seq)
}

#[inline]
fn time_of(key: u128) -> f64 {
    f64::from_bits((key >> 64) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pops_in_time_then_schedule_order() {
        let mut q = EventQueue::<char, 1>::new(8, ' ');
        q.schedule(2.0, 'c');
        q.schedule(1.0, 'a');
        q.set_timer(0, 2.0, 'd');
        q.schedule(1.0, 'b');
        q.schedule(0.0, 'z');
        q.schedule(-0.0, 'y');
        q.schedule(2.0, 'e');
        let order: Vec<char> = std::iter::from_fn(|| q.pop().map(|(_, e)| e)).collect();
        assert_eq!(order, vec!['z', 'y', 'a', 'b', 'c', 'd', 'e']);
        assert!(q.is_empty());
    }

    #[test]
    fn matches_a_sort_on_many_random_times() {
        let mut q = EventQueue::<usize, 2>::new(0, usize::MAX);
        let mut x: u64 = 12345;
        let mut expected = Vec::new();
        for i in 0..5000usize {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            // Coarse times so that ties are common.
            let t = ((x >> 40) % 500) as f64;
            q.schedule(t, i);
            expected.push((t, i));
        }
        expected.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        let got: Vec<(f64, usize)> = std::iter::from_fn(|| q.pop()).collect();
        assert_eq!(got, expected);
    }

    /// Schedules, timer settings and pops interleaved, with coarse times so
    /// that ties between heap events, and between heap events and timers,
    /// are common: the order must be that of a sorted reference list.
    #[test]
    fn interleaved_operations_match_a_reference() {
        use std::collections::BTreeMap;
        let mut x: u64 = 987654321;
        let mut rand = move |m: u64| {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (x >> 33) % m
        };
        let slots = 3;
        let mut q = EventQueue::<(usize, usize), 3>::new(0, (usize::MAX, usize::MAX));
        // Reference: (time bits, sequence) -> (slot or none, id).
        let mut reference: BTreeMap<(u64, u64), (usize, usize)> = BTreeMap::new();
        let mut slot_entry: Vec<Option<(u64, u64)>> = vec![None; slots];
        let mut seq = 0u64;
        let mut now = 0.0f64;
        let mut popped = 0;
        for id in 0..20_000usize {
            match rand(10) {
                0..=4 => {
                    let t = now + rand(4) as f64;
                    q.schedule(t, (usize::MAX, id));
                    reference.insert((t.to_bits(), seq), (usize::MAX, id));
                    seq += 1;
                }
                5 | 6 => {
                    let slot = rand(slots as u64) as usize;
                    let t = now + rand(3) as f64;
                    q.set_timer(slot, t, (slot, id));
                    if let Some(old) = slot_entry[slot].take() {
                        reference.remove(&old);
                    }
                    reference.insert((t.to_bits(), seq), (slot, id));
                    slot_entry[slot] = Some((t.to_bits(), seq));
                    seq += 1;
                }
                _ => {
                    let got = q.pop();
                    let expected = reference.pop_first();
                    match (got, expected) {
                        (Some((t, e)), Some(((bits, _), r))) => {
                            assert_eq!((t.to_bits(), e), (bits, r), "pop {popped}");
                            if e.0 != usize::MAX {
                                slot_entry[e.0] = None;
                            }
                            now = t;
                        }
                        (None, None) => {}
                        other => panic!("pop {popped}: {other:?}"),
                    }
                    popped += 1;
                }
            }
            assert_eq!(q.len(), reference.len());
        }
        while let Some(((bits, _), r)) = reference.pop_first() {
            assert_eq!(q.pop().map(|(t, e)| (t.to_bits(), e)), Some((bits, r)));
        }
        assert!(q.pop().is_none());
    }

    #[test]
    #[should_panic(expected = "invalid time")]
    fn refuses_nan() {
        let mut q = EventQueue::<(), 1>::new(1, ());
        q.schedule(f64::NAN, ());
    }
}
