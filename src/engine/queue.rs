//! A future-event list keyed on (time, sequence number).
//!
//! The sequence number is the order of scheduling, so events at the same
//! instant are processed first-scheduled first, the same way on every run.
//! Times are hours as `f64`, checked finite and non-negative when scheduled;
//! for such values the IEEE bit pattern orders like the number, so the key is
//! one `u128`, `time bits << 64 | sequence`, compared as an integer.
//!
//! # Structure
//! Two parts, popped as one:
//! - **Timers**: a few fixed slots, each holding at most one pending event.
//!   A recurring process whose next event is always known (an arrival
//!   stream) lives in a slot instead of the heap, so the heap does not carry
//!   half of all events. Popping compares the heap's top with each slot.
//! - **A 4-ary min-heap** for everything else: half the depth of a binary
//!   heap. Keys and events sit in separate arrays, so the four children's
//!   keys that a step compares are 64 contiguous bytes.
//!   Push and pop are O(log n); neither allocates once the heap has grown to
//!   its working size.

/// One scheduled event.
#[derive(Clone, Copy, Debug)]
struct Entry<E> {
    key: u128,
    event: E,
}

/// The key of an empty timer slot: larger than any real key.
const EMPTY: u128 = u128::MAX;

/// The future-event list.
#[derive(Debug)]
pub struct EventQueue<E> {
    /// Heap-ordered keys; `events[i]` belongs to `keys[i]`.
    keys: Vec<u128>,
    events: Vec<E>,
    timers: Vec<Entry<E>>,
    /// The timer slot with the smallest key (any slot when all are empty),
    /// kept up to date so that a pop does not scan the slots.
    first_timer: usize,
    next_seq: u64,
}

impl<E: Copy> EventQueue<E> {
    /// An empty queue with room for `capacity` pending events in the heap and
    /// `timers` timer slots, each holding `idle` (never returned) until set.
    pub fn new(capacity: usize, timers: usize, idle: E) -> Self {
        EventQueue {
            keys: Vec::with_capacity(capacity),
            events: Vec::with_capacity(capacity),
            timers: vec![
                Entry {
                    key: EMPTY,
                    event: idle
                };
                timers
            ],
            first_timer: 0,
            next_seq: 0,
        }
    }

    /// Finds the timer slot with the smallest key.
    #[inline]
    fn refresh_first_timer(&mut self) {
        let mut best = 0;
        for i in 1..self.timers.len() {
            if self.timers[i].key < self.timers[best].key {
                best = i;
            }
        }
        self.first_timer = best;
    }

    #[inline]
    fn key(&mut self, time: f64) -> u128 {
        assert!(
            time.is_finite() && time >= 0.0,
            "event scheduled at invalid time {time}"
        );
        // +0.0 and -0.0 compare equal but have different bits: normalise.
        let bits = (time + 0.0).to_bits();
        let key = (u128::from(bits) << 64) | u128::from(self.next_seq);
        self.next_seq += 1;
        key
    }

    /// Schedules `event` at `time` hours.
    ///
    /// # Panics
    /// If `time` is NaN, infinite or negative: the model never computes such
    /// a time from validated input, so this is a bug, not a user error.
    #[inline]
    pub fn schedule(&mut self, time: f64, event: E) {
        let key = self.key(time);
        self.keys.push(key);
        self.events.push(event);
        self.sift_up(self.keys.len() - 1);
    }

    /// Sets timer slot `slot` to fire `event` at `time`, replacing what it held.
    /// It takes its place in the (time, sequence) order as if scheduled now.
    #[inline]
    pub fn set_timer(&mut self, slot: usize, time: f64, event: E) {
        let key = self.key(time);
        self.timers[slot] = Entry { key, event };
        if slot == self.first_timer {
            self.refresh_first_timer();
        } else if key < self.timers[self.first_timer].key {
            self.first_timer = slot;
        }
    }

    /// Removes and returns the earliest event with its time.
    #[inline]
    pub fn pop(&mut self) -> Option<(f64, E)> {
        let heap_key = self.keys.first().copied().unwrap_or(EMPTY);
        if let Some(&timer) = self.timers.get(self.first_timer)
            && timer.key < heap_key
        {
            self.timers[self.first_timer].key = EMPTY;
            self.refresh_first_timer();
            return Some((time_of(timer.key), timer.event));
        }
        let last_key = self.keys.pop()?;
        let last_event = self.events.pop()?;
        if self.keys.is_empty() {
            return Some((time_of(last_key), last_event));
        }
        let top = (self.keys[0], self.events[0]);
        self.sift_down(last_key, last_event);
        Some((time_of(top.0), top.1))
    }

    /// The time of the heap's earliest event (timers not included).
    #[inline]
    pub fn heap_time(&self) -> Option<f64> {
        self.keys.first().map(|&k| time_of(k))
    }

    /// Pending events (heap and timers).
    pub fn len(&self) -> usize {
        self.keys.len() + self.timers.iter().filter(|t| t.key != EMPTY).count()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    #[inline]
    fn sift_up(&mut self, mut i: usize) {
        let key = self.keys[i];
        let event = self.events[i];
        while i > 0 {
            let parent = (i - 1) / 4;
            if self.keys[parent] <= key {
                break;
            }
            self.keys[i] = self.keys[parent];
            self.events[i] = self.events[parent];
            i = parent;
        }
        self.keys[i] = key;
        self.events[i] = event;
    }

    /// Puts (`key`, `event`) at the root, replacing it, and restores the heap.
    #[inline]
    fn sift_down(&mut self, key: u128, event: E) {
        let n = self.keys.len();
        let mut i = 0;
        loop {
            let first = 4 * i + 1;
            if first >= n {
                break;
            }
            // The smallest of up to four children. With all four present (the
            // usual case) a tournament of independent comparisons, written so
            // that it compiles to conditional moves: which child is smallest
            // is a coin toss, and branches on it would mostly mispredict.
            let (child, child_key) = if first + 3 < n {
                let k = &self.keys[first..first + 4];
                let (a, ka) = pick(first, k[0], first + 1, k[1]);
                let (b, kb) = pick(first + 2, k[2], first + 3, k[3]);
                pick(a, ka, b, kb)
            } else {
                let mut child = first;
                let mut child_key = self.keys[first];
                for c in first + 1..n {
                    let k = self.keys[c];
                    if k < child_key {
                        child = c;
                        child_key = k;
                    }
                }
                (child, child_key)
            };
            if key <= child_key {
                break;
            }
            self.keys[i] = child_key;
            self.events[i] = self.events[child];
            i = child;
        }
        self.keys[i] = key;
        self.events[i] = event;
    }
}

/// The smaller of two keyed children (the first on a tie, which cannot
/// happen: keys are unique), without a data-dependent branch.
#[inline(always)]
fn pick(i: usize, ki: u128, j: usize, kj: u128) -> (usize, u128) {
    let j_smaller = kj < ki;
    (
        std::hint::select_unpredictable(j_smaller, j, i),
        std::hint::select_unpredictable(j_smaller, kj, ki),
    )
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
        let mut q = EventQueue::new(8, 1, ' ');
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
        let mut q = EventQueue::new(0, 2, usize::MAX);
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

    #[test]
    #[should_panic(expected = "invalid time")]
    fn refuses_nan() {
        let mut q = EventQueue::new(1, 0, ());
        q.schedule(f64::NAN, ());
    }
}
