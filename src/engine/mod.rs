//! The generic discrete-event kernel: simulated time, the event queue and
//! random streams. It knows nothing of hospitals.
pub mod queue;
pub mod rng;

pub use queue::EventQueue;
pub use rng::{StreamFamily, StreamKey, StreamRng};
