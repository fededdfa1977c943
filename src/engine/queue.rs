//! A future-event list keyed on (time, sequence number).
//!
//! The sequence number is the order of scheduling, so events at the same
//! instant are processed first-scheduled first, the same way on every run.
//! Times are hours as `f64`, checked finite and non-negative when scheduled;
//! for such values the IEEE bit pattern orders like the number, so
//! (time, sequence) is compared as one `u128`, `time bits << 64 | sequence`.
//!
//! # Structure
//! Popped as one in (time, sequence) order:
//! - **Timers**: a few fixed slots, each holding at most one pending event.
//!   A recurring process whose next event is always known (an arrival
//!   stream) lives in a slot, so the rest does not carry half of all events.
//!   Popping compares the earliest slot with the earliest of the rest.
//! - **A calendar of time buckets** (a timing wheel; Brown, "Calendar
//!   queues", Comm. ACM 31(10), 1988; Varghese and Lauck, "Hashed and
//!   hierarchical timing wheels", SOSP 1987) for everything else. Time is cut
//!   into buckets [`BUCKET_HOURS`] wide. The *open* bucket's events are kept sorted
//!   by key, latest first, in `due`, and popped from its end. The next
//!   [`WHEEL`] buckets are unsorted lists in a ring, found through a bitmap;
//!   when `due` runs out, the next non-empty bucket is opened: its list is
//!   moved to `due` and sorted. Events further ahead wait in a binary heap
//!   and join `due` when their bucket opens. Scheduling is an append; each
//!   event is moved once and sorted with the few others of its bucket, where a
//!   heap pays a chain of unpredictable comparisons on every pop. The order
//!   is exact on the full key: events at the same instant share a bucket
//!   and are sorted by sequence there.
//! - **A bound on `due`**: a bucket can hold any number of events (a
//!   million care home residents in crisis within the hour, or events at one
//!   instant), and a sorted insertion moves every smaller event. So `due`
//!   keeps at most [`DUE_MAX`] events: when a bucket opens with more, or
//!   insertions grow it past that, all but its [`DUE_KEEP`] smallest move to
//!   a binary heap, `spill`, whose events are all later than every event in
//!   `due`. An event later than all of `due` joins `spill` while it holds
//!   any; when `due` runs out, it is refilled with the smallest
//!   [`DUE_KEEP`] of `spill` before the next bucket opens. The order is the
//!   same exact (time, sequence) order.
//!
//! Scheduling and popping are O(1) amortised for events within the wheel's
//! reach and buckets of ordinary size, O(log n) for the few beyond the wheel
//! (care home stays) and for crowded buckets (each event in the open bucket
//! costs at most a move of [`DUE_MAX`] slots, or a heap operation); nothing
//! allocates once the lists have grown to their working size.

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;

/// An event with its (time, sequence) key.
#[derive(Clone, Copy, Debug)]
struct Slot<E> {
    key: u128,
    event: E,
}

/// A slot ordered by key alone, for the heap of distant events.
#[derive(Clone, Copy, Debug)]
struct Distant<E>(Slot<E>);

impl<E> PartialEq for Distant<E> {
    fn eq(&self, other: &Self) -> bool {
        self.0.key == other.0.key
    }
}
impl<E> Eq for Distant<E> {}
impl<E> PartialOrd for Distant<E> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl<E> Ord for Distant<E> {
    fn cmp(&self, other: &Self) -> Ordering {
        self.0.key.cmp(&other.0.key)
    }
}

/// The key of an empty timer slot or an empty calendar: larger than any real key.
const EMPTY: u128 = u128::MAX;

/// The bits of +infinity: a time's bits are below this exactly when the time
/// is finite and not negative (after -0.0 is made +0.0; NaN bits are above).
const INFINITY_BITS: u64 = 0x7FF0_0000_0000_0000;

/// Buckets in the wheel after the open one: 1,024 hours, about six weeks,
/// which holds all but the longest-running events (care home stays,
/// residents' crises, the longest community episodes).
pub const WHEEL: usize = 1024;

/// Most events `due` holds before the latest of them move to `spill`.
/// Never reached on the shipped scenarios (an hour's bucket holds a few
/// dozen events), so their event order and cost are those of a plain sorted
/// bucket; it bounds the cost of a sorted insertion to moving 256 slots.
pub const DUE_MAX: usize = 256;

/// Events `due` keeps (the smallest) when it spills, and takes from `spill`
/// when it runs out.
pub const DUE_KEEP: usize = 64;

/// The future-event list.
#[derive(Debug)]
pub struct EventQueue<E, const TIMERS: usize> {
    /// The events of buckets up to `open`, sorted by key, latest first; at
    /// most [`DUE_MAX`] of them.
    due: Vec<Slot<E>>,
    /// More events of buckets up to `open`, each later than every event in
    /// `due`, earliest first (empty unless the open bucket is crowded).
    spill: BinaryHeap<Reverse<Distant<E>>>,
    /// The open bucket.
    open: u64,
    /// `wheel[b % WHEEL]` holds the events of bucket `b`, for
    /// `open < b < open + WHEEL`, in no particular order.
    wheel: Box<[Vec<Slot<E>>; WHEEL]>,
    /// Bit `b % 64` of word `b / 64` is set when `wheel[b]` is not empty.
    wheel_bits: [u64; WHEEL / 64],
    /// Events in the wheel.
    in_wheel: usize,
    /// Events of buckets `open + WHEEL` and later (when scheduled), earliest first.
    distant: BinaryHeap<Reverse<Distant<E>>>,
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
    /// An empty queue with room for about `capacity` pending events besides
    /// `TIMERS` timer slots, each holding `idle` (never returned) until set.
    pub fn new(capacity: usize, idle: E) -> Self {
        const { assert!(TIMERS >= 1, "an event queue needs a timer slot") };
        EventQueue {
            due: Vec::with_capacity(64),
            spill: BinaryHeap::new(),
            open: 0,
            wheel: Box::new(std::array::from_fn(|_| Vec::new())),
            wheel_bits: [0; WHEEL / 64],
            in_wheel: 0,
            distant: BinaryHeap::with_capacity(capacity / 2),
            timers: [Slot {
                key: EMPTY,
                event: idle,
            }; TIMERS],
            first_timer: 0,
            other_first: usize::from(TIMERS > 1),
            next_seq: 0,
        }
    }

    /// Empties the queue, as [`EventQueue::new`] leaves it, keeping the room
    /// its lists have grown (for the next replication on the same thread).
    pub fn clear(&mut self) {
        self.due.clear();
        self.spill.clear();
        self.open = 0;
        for list in self.wheel.iter_mut() {
            list.clear();
        }
        self.wheel_bits = [0; WHEEL / 64];
        self.in_wheel = 0;
        self.distant.clear();
        for slot in &mut self.timers {
            slot.key = EMPTY;
        }
        self.first_timer = 0;
        self.other_first = usize::from(TIMERS > 1);
        self.next_seq = 0;
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
        let slot = Slot {
            key: key_of(bits, self.next_seq()),
            event,
        };
        let b = bucket_of(bits);
        if b <= self.open {
            self.insert_due(slot);
        } else if b - self.open < WHEEL as u64 {
            let i = (b % WHEEL as u64) as usize;
            self.wheel[i].push(slot);
            self.wheel_bits[i / 64] |= 1 << (i % 64);
            self.in_wheel += 1;
        } else {
            self.distant.push(Reverse(Distant(slot)));
        }
    }

    /// Adds an event of the open bucket (or an earlier one) to `due`, in
    /// order, or to `spill` when that holds events and this one is later
    /// than all of `due`.
    #[inline(never)]
    fn insert_due(&mut self, slot: Slot<E>) {
        if !self.spill.is_empty() && self.due.first().is_none_or(|s| slot.key > s.key) {
            self.spill.push(Reverse(Distant(slot)));
            return;
        }
        let at = self.due.partition_point(|s| s.key > slot.key);
        self.due.insert(at, slot);
        if self.due.len() > DUE_MAX {
            self.spill_due();
        }
    }

    /// Moves all but the [`DUE_KEEP`] smallest events of `due` (sorted) to
    /// `spill`: they are later than the ones kept, and earlier than any
    /// already in `spill`.
    #[cold]
    fn spill_due(&mut self) {
        let moved = self.due.len() - DUE_KEEP;
        self.spill
            .extend(self.due.drain(..moved).map(|s| Reverse(Distant(s))));
    }

    /// With `due` empty, refills it from `spill` with the smallest
    /// [`DUE_KEEP`] events, latest first.
    #[cold]
    fn refill_due(&mut self) -> u128 {
        while self.due.len() < DUE_KEEP
            && let Some(Reverse(Distant(slot))) = self.spill.pop()
        {
            self.due.push(slot);
        }
        self.due.reverse();
        self.due.last().map_or(EMPTY, |s| s.key)
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
        let first = self.first_timer;
        let slot = self.timers[first];
        if slot.key < self.calendar_min() {
            self.take_timer(first);
            return Some((time_of(slot.key), slot.event));
        }
        let slot = self.due.pop()?;
        Some((time_of(slot.key), slot.event))
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

    /// The smallest key outside the timers (`EMPTY` for none), at the end of
    /// `due` on return.
    #[inline]
    fn calendar_min(&mut self) -> u128 {
        match self.due.last() {
            Some(slot) => slot.key,
            None => self.open_next(),
        }
    }

    /// With `due` empty, refills it from `spill`, or else opens the next
    /// bucket that has events, and returns its smallest key (`EMPTY` when no
    /// events are left).
    #[inline(never)]
    fn open_next(&mut self) -> u128 {
        if !self.spill.is_empty() {
            return self.refill_due();
        }
        let in_wheel = (self.in_wheel > 0).then(|| self.next_wheel_bucket());
        let distant = self
            .distant
            .peek()
            .map(|d| bucket_of((d.0.0.key >> 64) as u64));
        let next = match (in_wheel, distant) {
            (Some(w), Some(d)) => w.min(d),
            (Some(w), None) => w,
            (None, Some(d)) => d,
            (None, None) => return EMPTY,
        };
        self.open = next;
        if in_wheel == Some(next) {
            let i = (next % WHEEL as u64) as usize;
            let list = &mut self.wheel[i];
            self.in_wheel -= list.len();
            self.due.append(list);
            self.wheel_bits[i / 64] &= !(1 << (i % 64));
        }
        while let Some(d) = self.distant.peek()
            && bucket_of((d.0.0.key >> 64) as u64) == next
        {
            let Some(Reverse(Distant(slot))) = self.distant.pop() else {
                break;
            };
            self.due.push(slot);
        }
        self.due.sort_unstable_by_key(|s| Reverse(s.key));
        if self.due.len() > DUE_MAX {
            self.spill_due();
        }
        self.due.last().map_or(EMPTY, |s| s.key)
    }

    /// The first non-empty bucket of the wheel after `open` (there is one).
    #[inline]
    fn next_wheel_bucket(&self) -> u64 {
        let start = ((self.open + 1) % WHEEL as u64) as usize;
        let words = WHEEL / 64;
        // The start's word with the bits before the start cleared, then the
        // other words in ring order, then the start's word's low bits.
        for step in 0..=words {
            let w = (start / 64 + step) % words;
            let mut bits = self.wheel_bits[w];
            if step == 0 {
                bits &= u64::MAX << (start % 64);
            }
            if bits != 0 {
                let i = w * 64 + bits.trailing_zeros() as usize;
                // Ring distance from the start.
                let ahead = (i + WHEEL - start) % WHEEL;
                return self.open + 1 + ahead as u64;
            }
        }
        unreachable!("the wheel holds events but no bit is set")
    }

    /// The time of the next event, without taking it.
    #[inline]
    pub fn next_time(&mut self) -> Option<f64> {
        let earliest = self.calendar_min().min(self.timers[self.first_timer].key);
        (earliest != EMPTY).then(|| time_of(earliest))
    }

    /// Pending events.
    pub fn len(&self) -> usize {
        self.due.len()
            + self.spill.len()
            + self.in_wheel
            + self.distant.len()
            + self.timers.iter().filter(|t| t.key != EMPTY).count()
    }

    /// Whether no event or timer is pending.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The width of a bucket, hours. Measured on the baseline: instructions per
/// replication (callgrind) 15 minutes 109.9 M, 30 minutes 105.9 M, one hour
/// 102.4 M, two hours 101.8 M, four hours 102.7 M (narrow buckets open often
/// for one or two events, wide ones sort more); time, in two sittings of
/// alternating bench runs, one hour 15.5 / 16.7 and 16.0 / 17.2 ms against
/// two hours 16.2 / 16.8 and 16.8 / 17.7 ms (min / median): smaller sorts
/// mispredict less.
pub const BUCKET_HOURS: f64 = 1.0;

/// The bucket of a time given by its bits (finite, not negative).
/// Truncation is floor here, and a product by a positive constant and floor
/// never reverse the order of two times, so buckets are in time order.
#[inline(always)]
fn bucket_of(time_bits: u64) -> u64 {
    (f64::from_bits(time_bits) * (1.0 / BUCKET_HOURS)) as u64
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

    /// Schedules, timer settings and pops interleaved, against a sorted
    /// reference list. Times are `now` plus a whole number of hours below
    /// `ahead` times `step`.
    fn check_against_reference(seed: u64, ahead: u64, step: f64) {
        use std::collections::BTreeMap;
        let mut x: u64 = seed;
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
                    let t = now + rand(ahead) as f64 * step;
                    q.schedule(t, (usize::MAX, id));
                    reference.insert((t.to_bits(), seq), (usize::MAX, id));
                    seq += 1;
                }
                5 | 6 => {
                    let slot = rand(slots as u64) as usize;
                    let t = now + rand(ahead) as f64 * step;
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

    /// Coarse times, so that ties between scheduled events, and between them
    /// and timers, are common.
    #[test]
    fn interleaved_operations_match_a_reference() {
        check_against_reference(987654321, 4, 1.0);
    }

    /// Times from minutes to years ahead: events in the open bucket, across
    /// the wheel and its wrap-around, and beyond it in the distant heap.
    #[test]
    fn far_and_near_times_match_a_reference() {
        check_against_reference(13, 20_000, 0.37);
        check_against_reference(14, 3 * WHEEL as u64, BUCKET_HOURS);
    }

    /// Crowded buckets: thousands of pending events within one bucket (times
    /// a thousandth of an hour apart, or all at one instant), so that `due`
    /// spills and is refilled many times, interleaved with timers.
    #[test]
    fn crowded_buckets_match_a_reference() {
        check_against_reference(21, 3, 0.001);
        check_against_reference(22, 1, 0.0);
    }

    /// Many events at the same instant, each popped one scheduling another at
    /// that instant (as a care home resident's crisis that ends at once may
    /// schedule the next): popped in scheduling order, and `due` never holds
    /// more than [`DUE_MAX`], so no insertion moves more than that many
    /// (before the bound, each insertion moved every pending event: 10^5
    /// events took 10^10 moves).
    #[test]
    fn many_same_time_events_pop_in_order_with_due_bounded() {
        let n = 100_000usize;
        let mut q = EventQueue::<usize, 1>::new(0, usize::MAX);
        for i in 0..n {
            q.schedule(5.0, i);
        }
        let mut next = n;
        let mut expected = 0usize;
        while let Some((t, e)) = q.pop() {
            assert_eq!((t, e), (5.0, expected));
            expected += 1;
            if next < 2 * n {
                q.schedule(5.0, next);
                next += 1;
            }
            assert!(q.due.len() <= DUE_MAX, "due holds {}", q.due.len());
        }
        assert_eq!(expected, 2 * n);
        assert!(q.spill.is_empty() && q.is_empty());
    }

    /// A cleared queue behaves as a new one: the same operations give the
    /// same pops, whatever it held before.
    #[test]
    fn cleared_queue_matches_a_new_one() {
        let ops = |q: &mut EventQueue<usize, 2>| {
            let mut out = Vec::new();
            let mut x: u64 = 99;
            for i in 0..3000usize {
                x = x
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let t = out.last().map_or(0.0, |&(t, _)| t) + ((x >> 40) % 3000) as f64 * 0.7;
                match x % 5 {
                    0 => q.set_timer(1, t, i),
                    1 | 2 => q.schedule(t, i),
                    _ => out.extend(q.pop()),
                }
            }
            out.extend(std::iter::from_fn(|| q.pop()));
            out
        };
        let mut fresh = EventQueue::<usize, 2>::new(0, usize::MAX);
        let expected = ops(&mut fresh);
        let mut used = EventQueue::<usize, 2>::new(0, usize::MAX);
        for i in 0..500 {
            used.schedule(f64::from(i) * 3.3, 7);
        }
        used.set_timer(0, 1.0, 8);
        used.set_timer(1, 2.0, 9);
        used.pop();
        used.clear();
        assert!(used.is_empty());
        assert_eq!(ops(&mut used), expected);
    }

    #[test]
    #[should_panic(expected = "invalid time")]
    fn refuses_nan() {
        let mut q = EventQueue::<(), 1>::new(1, ());
        q.schedule(f64::NAN, ());
    }
}
