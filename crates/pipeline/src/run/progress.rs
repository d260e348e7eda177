//! The progress port: how a runner says how far it is. The CLI draws a bar per stage; a
//! benchmark or a test counts ([`Counter`]).

use std::sync::atomic::{AtomicU64, Ordering};

/// A stage's progress. Shared between threads; each call is cheap.
pub trait Progress: Send + Sync {
    /// `n` more records done.
    fn inc(&self, n: u64);
    /// How many records are due, once it is known.
    fn set_length(&self, n: u64);
    /// Records done so far.
    fn position(&self) -> u64;
    /// A line for the user (a retry, a wait), shown above whatever is drawn.
    fn say(&self, line: &str);
    /// The stage is done.
    fn finish(&self) {}
}

/// Counts and draws nothing; its lines go to the log.
#[derive(Debug, Default)]
pub struct Counter {
    done: AtomicU64,
}

impl Progress for Counter {
    fn inc(&self, n: u64) {
        self.done.fetch_add(n, Ordering::Relaxed);
    }

    fn set_length(&self, _: u64) {}

    fn position(&self) -> u64 {
        self.done.load(Ordering::Relaxed)
    }

    fn say(&self, line: &str) {
        tracing::info!(line, "progress");
    }
}
