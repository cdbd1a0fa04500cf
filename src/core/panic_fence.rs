//! A state machine that a panic can interrupt halfway is not trusted again.
//!
//! The natives catch every panic at the FFI boundary, so a bug in a policy update cannot crash
//! the process; but the update may have stopped between two steps (an entry unlinked and not
//! linked again). `PanicFence` runs each update and, if it panics, marks the state broken: every
//! later update is refused, and the caller turns that into a clear error. It also refuses an update
//! that starts while another one is running (re-entry from a callback), instead of panicking.

use std::cell::{Cell, RefCell};
use std::panic::{catch_unwind, AssertUnwindSafe};

/// Why an update did not run, or did not finish.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
  /// An earlier update panicked (or this one did): the state may be inconsistent.
  Broken,
  /// An update is already running (re-entry).
  Busy,
}

pub struct PanicFence<T> {
  state: RefCell<T>,
  broken: Cell<bool>,
}

impl<T> PanicFence<T> {
  pub fn new(state: T) -> Self {
    PanicFence {
      state: RefCell::new(state),
      broken: Cell::new(false),
    }
  }

  /// Runs `update` on the state. A panic inside it is caught and breaks the fence.
  pub fn update<R>(&self, update: impl FnOnce(&mut T) -> R) -> Result<R, Refused> {
    if self.broken.get() {
      return Err(Refused::Broken);
    }
    let mut state = self.state.try_borrow_mut().map_err(|_| Refused::Busy)?;
    match catch_unwind(AssertUnwindSafe(|| update(&mut state))) {
      Ok(result) => Ok(result),
      Err(_) => {
        self.broken.set(true);
        Err(Refused::Broken)
      }
    }
  }

  /// Access for teardown, which must work on a broken state too (and must not rely on its
  /// invariants). None only while an update is running.
  pub fn with_any<R>(&self, read: impl FnOnce(&mut T) -> R) -> Option<R> {
    self
      .state
      .try_borrow_mut()
      .ok()
      .map(|mut state| read(&mut state))
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn a_panic_breaks_the_fence_and_later_updates_are_refused() {
    let fence = PanicFence::new(vec![1, 2, 3]);
    let std_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {})); // keep the expected panic out of the test output
    let result = fence.update(|v| {
      v.pop(); // half of a two-step update
      panic!("a bug in the middle of an update");
    });
    std::panic::set_hook(std_hook);
    assert_eq!(result, Err(Refused::Broken));
    let mut ran = false;
    assert_eq!(fence.update(|_| ran = true), Err(Refused::Broken));
    assert!(!ran, "a broken state is never updated again");
    assert_eq!(
      fence.with_any(|v| v.clone()),
      Some(vec![1, 2]),
      "teardown still gets the state"
    );
  }

  #[test]
  fn re_entry_is_refused_not_a_panic() {
    let fence = PanicFence::new(0);
    let inner = fence.update(|n| {
      *n += 1;
      fence.update(|n| *n += 1)
    });
    assert_eq!(inner, Ok(Err(Refused::Busy)));
    assert_eq!(fence.update(|n| *n), Ok(1));
  }
}
