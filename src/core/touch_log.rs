//! Access records of one tracked resource (`touch(resource, hint)`, as Netty's `touch`): the
//! first one and the most recent ones, within a fixed budget, and a count of the rest. The first
//! says where the resource started its life after acquisition; the last ones where it was seen
//! before it leaked or got stuck.

use super::leak_model::Touch;
use std::collections::VecDeque;

#[derive(Debug, Clone, PartialEq)]
pub struct TouchLog {
  first: Touch,
  /// The most recent touches after the first, oldest first; at most `limit - 1`.
  recent: VecDeque<Touch>,
  dropped: u64,
}

impl TouchLog {
  pub fn new(first: Touch) -> Self {
    TouchLog {
      first,
      recent: VecDeque::new(),
      dropped: 0,
    }
  }

  /// Records `touch`, keeping at most `limit` records in all (the first is always kept).
  pub fn record(&mut self, touch: Touch, limit: usize) {
    let room = limit.saturating_sub(1);
    if room == 0 {
      self.dropped += 1;
      return;
    }
    if self.recent.len() == room {
      self.recent.pop_front();
      self.dropped += 1;
    }
    self.recent.push_back(touch);
  }

  /// The kept records in time order.
  pub fn records(&self) -> impl Iterator<Item = &Touch> {
    std::iter::once(&self.first).chain(self.recent.iter())
  }

  /// Touches recorded but not kept.
  pub fn dropped(&self) -> u64 {
    self.dropped
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  fn touch(at: f64) -> Touch {
    Touch {
      site: 1,
      at,
      hint: None,
    }
  }

  #[test]
  fn keeps_the_first_and_the_most_recent_and_counts_the_rest() {
    let mut log = TouchLog::new(touch(0.0));
    for at in 1..=9 {
      log.record(touch(at as f64), 4);
    }
    let kept: Vec<f64> = log.records().map(|t| t.at).collect();
    assert_eq!(kept, [0.0, 7.0, 8.0, 9.0]);
    assert_eq!(log.dropped(), 6);
  }

  #[test]
  fn under_the_limit_nothing_is_dropped() {
    let mut log = TouchLog::new(touch(0.0));
    log.record(touch(1.0), 4);
    assert_eq!(log.records().count(), 2);
    assert_eq!(log.dropped(), 0);
  }

  #[test]
  fn a_limit_of_one_keeps_only_the_first() {
    let mut log = TouchLog::new(touch(0.0));
    log.record(touch(1.0), 1);
    log.record(touch(2.0), 1);
    assert_eq!(log.records().map(|t| t.at).collect::<Vec<_>>(), [0.0]);
    assert_eq!(log.dropped(), 2);
  }
}
