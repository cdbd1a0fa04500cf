//! Leak counts for the whole process: every registry on every thread (main and workers) adds
//! to one set of plain atomics, so a service can read one figure wherever its resources live.

use std::sync::atomic::{AtomicU64, Ordering};

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
  /// Resources ever tracked.
  pub tracked: u64,
  /// Tracked and neither released nor reported yet.
  pub live: u64,
  /// Released with `release()`.
  pub released: u64,
  /// Collected without `release()`: reported as leaks.
  pub leaked: u64,
  /// Reported as held longer than `suspectAfter` (each resource once).
  pub suspected: u64,
}

/// Atomic counterpart of `Counts`, for figures shared by threads.
#[derive(Default)]
pub struct Totals {
  tracked: AtomicU64,
  live: AtomicU64,
  released: AtomicU64,
  leaked: AtomicU64,
  suspected: AtomicU64,
}

/// The process-wide figure. Plain atomics: no env, no reference, nothing to tear down.
pub static PROCESS: Totals = Totals::new();

impl Totals {
  pub const fn new() -> Self {
    Totals {
      tracked: AtomicU64::new(0),
      live: AtomicU64::new(0),
      released: AtomicU64::new(0),
      leaked: AtomicU64::new(0),
      suspected: AtomicU64::new(0),
    }
  }

  pub fn tracked(&self) {
    self.tracked.fetch_add(1, Ordering::Relaxed);
    self.live.fetch_add(1, Ordering::Relaxed);
  }

  pub fn released(&self) {
    self.released.fetch_add(1, Ordering::Relaxed);
    self.live.fetch_sub(1, Ordering::Relaxed);
  }

  pub fn leaked(&self) {
    self.leaked.fetch_add(1, Ordering::Relaxed);
    self.live.fetch_sub(1, Ordering::Relaxed);
  }

  pub fn suspected(&self) {
    self.suspected.fetch_add(1, Ordering::Relaxed);
  }

  /// Live resources that stop being watched because their registry closed.
  pub fn forgotten(&self, n: u64) {
    self.live.fetch_sub(n, Ordering::Relaxed);
  }

  pub fn snapshot(&self) -> Counts {
    Counts {
      tracked: self.tracked.load(Ordering::Relaxed),
      live: self.live.load(Ordering::Relaxed),
      released: self.released.load(Ordering::Relaxed),
      leaked: self.leaked.load(Ordering::Relaxed),
      suspected: self.suspected.load(Ordering::Relaxed),
    }
  }
}

#[cfg(test)]
mod tests {
  use super::*;
  use std::sync::Arc;

  #[test]
  fn counts_from_many_threads_add_up() {
    let totals = Arc::new(Totals::new());
    let threads: Vec<_> = (0..4)
      .map(|_| {
        let totals = totals.clone();
        std::thread::spawn(move || {
          for i in 0..1000 {
            totals.tracked();
            if i % 2 == 0 {
              totals.released()
            } else {
              totals.leaked()
            }
          }
        })
      })
      .collect();
    for t in threads {
      t.join().unwrap();
    }
    assert_eq!(
      totals.snapshot(),
      Counts {
        tracked: 4000,
        live: 0,
        released: 2000,
        leaked: 2000,
        suspected: 0
      }
    );
  }
}
