//! A future-event list: a binary min-heap keyed on (time, sequence number).
//!
//! The sequence number is the order of scheduling, so events at the same
//! instant are processed first-scheduled first, the same way on every run.
//! Times are hours as `f64`, checked finite and non-negative when scheduled;
//! for such values the IEEE bit pattern orders like the number, so the key is
//! a plain integer comparison.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

/// One scheduled event.
#[derive(Clone, Copy, Debug)]
struct Entry<E> {
    /// `time.to_bits()`: orders like `time` for finite `time >= 0`.
    time_bits: u64,
    seq: u64,
    event: E,
}

impl<E> PartialEq for Entry<E> {
    fn eq(&self, other: &Self) -> bool {
        self.time_bits == other.time_bits && self.seq == other.seq
    }
}
impl<E> Eq for Entry<E> {}
impl<E> PartialOrd for Entry<E> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl<E> Ord for Entry<E> {
    /// Reversed, so that `BinaryHeap` (a max-heap) pops the earliest first.
    fn cmp(&self, other: &Self) -> Ordering {
        (other.time_bits, other.seq).cmp(&(self.time_bits, self.seq))
    }
}

/// The future-event list. `schedule` and `pop` are O(log n); neither
/// allocates once the heap has grown to its working size.
#[derive(Debug)]
pub struct EventQueue<E> {
    heap: BinaryHeap<Entry<E>>,
    next_seq: u64,
}

impl<E: Copy> EventQueue<E> {
    /// An empty queue with room for `capacity` pending events.
    pub fn with_capacity(capacity: usize) -> Self {
        EventQueue {
            heap: BinaryHeap::with_capacity(capacity),
            next_seq: 0,
        }
    }

    /// Schedules `event` at `time` hours.
    ///
    /// # Panics
    /// If `time` is NaN, infinite or negative: the model never computes such
    /// a time from validated input, so this is a bug, not a user error.
    #[inline]
    pub fn schedule(&mut self, time: f64, event: E) {
        assert!(
            time.is_finite() && time >= 0.0,
            "event scheduled at invalid time {time}"
        );
        // +0.0 and -0.0 compare equal but have different bits: normalise.
        let time = time + 0.0;
        self.heap.push(Entry {
            time_bits: time.to_bits(),
            seq: self.next_seq,
            event,
        });
        self.next_seq += 1;
    }

    /// Removes and returns the earliest event with its time.
    #[inline]
    pub fn pop(&mut self) -> Option<(f64, E)> {
        self.heap
            .pop()
            .map(|e| (f64::from_bits(e.time_bits), e.event))
    }

    /// The time of the earliest event, if any.
    pub fn peek_time(&self) -> Option<f64> {
        self.heap.peek().map(|e| f64::from_bits(e.time_bits))
    }

    /// Pending events.
    pub fn len(&self) -> usize {
        self.heap.len()
    }

    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pops_in_time_then_schedule_order() {
        let mut q = EventQueue::with_capacity(8);
        q.schedule(2.0, 'c');
        q.schedule(1.0, 'a');
        q.schedule(2.0, 'd');
        q.schedule(1.0, 'b');
        q.schedule(0.0, 'z');
        q.schedule(-0.0 + 0.0, 'y');
        let order: Vec<char> = std::iter::from_fn(|| q.pop().map(|(_, e)| e)).collect();
        assert_eq!(order, vec!['z', 'y', 'a', 'b', 'c', 'd']);
    }

    #[test]
    #[should_panic(expected = "invalid time")]
    fn refuses_nan() {
        let mut q = EventQueue::with_capacity(1);
        q.schedule(f64::NAN, ());
    }
}
