//! Leak counts for the whole process: every registry on every thread (main and workers) adds
//! to one set of plain atomics, so a service can read one figure wherever its resources live.

use super::leak_model::Counts;
use std::sync::atomic::{AtomicU64, Ordering};

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

  /// Adds a registry's counts since its last call: `added.live` is ignored (live moves with the
  /// others), and `forgotten` live resources stop being watched (their registry closed).
  pub fn add(&self, added: &Counts, forgotten: u64) {
    let relaxed = Ordering::Relaxed;
    self.tracked.fetch_add(added.tracked, relaxed);
    self.released.fetch_add(added.released, relaxed);
    self.leaked.fetch_add(added.leaked, relaxed);
    self.suspected.fetch_add(added.suspected, relaxed);
    self.live.fetch_add(added.tracked, relaxed);
    self
      .live
      .fetch_sub(added.released + added.leaked + forgotten, relaxed);
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
            let one = Counts {
              tracked: 1,
              released: u64::from(i % 2 == 0),
              leaked: u64::from(i % 2 == 1),
              ..Counts::default()
            };
            totals.add(&one, 0);
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
