//! Records by id, for ids handed out in order from 1 and never reused (the leak table's).
//!
//! Most records live briefly: they arrive in id order and leave in roughly the same order. So the
//! recent ones sit in a window indexed by `id - first` (an insert is a push at the back, a removal
//! clears a slot and the front advances past cleared ones), with no hashing and neighbours in
//! neighbouring memory. A record that stays while those after it leave would keep the window
//! from advancing; once the window is more than half empty, its oldest records move to an ordered
//! map of long-lived ones, so the window's memory stays within twice what it holds (plus
//! `MIN_WINDOW` slots). Each record moves at most once, and is told (`Outlive`), so that it can
//! let go of memory it shares with its neighbours.

use super::leak_model::RecordId;
use std::collections::{BTreeMap, VecDeque};

/// Below this many slots the window is never thinned: moving records costs more than the space.
pub const MIN_WINDOW: usize = 1024;

/// A record that can outlive the window.
pub trait Outlive {
  /// Called as it moves to the long-lived records.
  fn outlive(&mut self);
}

pub struct RecordSlab<T: Outlive> {
  /// The record of id `first + i` at `window[i]`; None once it is gone (or was never kept).
  window: VecDeque<Option<T>>,
  first: RecordId,
  /// Records in `window`.
  in_window: usize,
  /// Records older than `first` still kept.
  old: BTreeMap<RecordId, T>,
}

impl<T: Outlive> Default for RecordSlab<T> {
  fn default() -> Self {
    RecordSlab {
      window: VecDeque::new(),
      first: 1,
      in_window: 0,
      old: BTreeMap::new(),
    }
  }
}

impl<T: Outlive> RecordSlab<T> {
  /// The id the next `push` takes.
  pub fn next_id(&self) -> RecordId {
    self.first + self.window.len() as RecordId
  }

  /// Takes the next id, for `record` (None: an id used by a record not kept).
  pub fn push(&mut self, record: Option<T>) {
    if record.is_some() {
      self.in_window += 1;
    } else if self.window.is_empty() {
      // The common case of a record released before it arrived: no slot at all.
      self.first += 1;
      return;
    }
    self.window.push_back(record);
    self.settle();
  }

  pub fn get(&self, id: RecordId) -> Option<&T> {
    match id.checked_sub(self.first) {
      Some(index) => self.window.get(index as usize)?.as_ref(),
      None => self.old.get(&id),
    }
  }

  pub fn get_mut(&mut self, id: RecordId) -> Option<&mut T> {
    match id.checked_sub(self.first) {
      Some(index) => self.window.get_mut(index as usize)?.as_mut(),
      None => self.old.get_mut(&id),
    }
  }

  pub fn remove(&mut self, id: RecordId) -> Option<T> {
    let Some(index) = id.checked_sub(self.first) else {
      return self.old.remove(&id);
    };
    let record = self.window.get_mut(index as usize)?.take()?;
    self.in_window -= 1;
    self.settle();
    Some(record)
  }

  /// Advances the front past gaps and, while the window is more than half empty, moves its
  /// oldest records to `old`, so that the front is always a kept record.
  fn settle(&mut self) {
    while let Some(front) = self.window.front() {
      let sparse = self.window.len() > MIN_WINDOW && self.in_window * 2 < self.window.len();
      if front.is_some() && !sparse {
        break;
      }
      if let Some(mut record) = self.window.pop_front().flatten() {
        self.in_window -= 1;
        record.outlive();
        self.old.insert(self.first, record);
      }
      self.first += 1;
    }
  }

  pub fn len(&self) -> usize {
    self.in_window + self.old.len()
  }

  pub fn is_empty(&self) -> bool {
    self.len() == 0
  }

  /// Every record, oldest first.
  pub fn iter(&self) -> impl Iterator<Item = (RecordId, &T)> {
    let first = self.first;
    let old = self.old.iter().map(|(id, record)| (*id, record));
    let window = self
      .window
      .iter()
      .enumerate()
      .filter_map(move |(index, slot)| Some((first + index as RecordId, slot.as_ref()?)));
    old.chain(window)
  }

  /// Forgets every record; ids go on from where they were.
  pub fn clear(&mut self) {
    self.first = self.next_id();
    self.window.clear();
    self.in_window = 0;
    self.old.clear();
  }

  /// Slots the window spans (kept records and gaps), for tests of its bound.
  #[cfg(test)]
  fn window_len(&self) -> usize {
    self.window.len()
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  /// A record: a value, and whether it was told it outlived the window.
  #[derive(Debug, PartialEq)]
  struct R(u64, bool);

  impl Outlive for R {
    fn outlive(&mut self) {
      self.1 = true;
    }
  }

  fn new(value: u64) -> Option<R> {
    Some(R(value, false))
  }

  fn value(record: Option<&R>) -> Option<u64> {
    record.map(|r| r.0)
  }

  fn ids(slab: &RecordSlab<R>) -> Vec<RecordId> {
    slab.iter().map(|(id, _)| id).collect()
  }

  #[test]
  fn ids_start_at_1_and_records_are_found_by_id() {
    let mut slab = RecordSlab::default();
    assert_eq!(slab.next_id(), 1);
    slab.push(new(10));
    slab.push(None);
    slab.push(new(30));
    assert_eq!(slab.next_id(), 4);
    assert_eq!(
      (value(slab.get(1)), value(slab.get(2)), value(slab.get(3))),
      (Some(10), None, Some(30))
    );
    assert_eq!(value(slab.get(4)), None, "not handed out yet");
    assert_eq!(value(slab.get(0)), None);
    slab.get_mut(3).unwrap().0 += 1;
    assert_eq!(slab.remove(3), new(31));
    assert_eq!(slab.remove(3), None, "once");
    assert_eq!(slab.remove(2), None, "an id never kept");
    assert_eq!((slab.len(), ids(&slab)), (1, vec![1]));
  }

  #[test]
  fn the_window_advances_past_the_records_that_left() {
    let mut slab = RecordSlab::default();
    for v in 1..=3 {
      slab.push(new(v));
    }
    assert_eq!(slab.remove(2), new(2));
    assert_eq!(slab.window_len(), 3, "a gap behind a kept record stays");
    assert_eq!(slab.remove(1), new(1));
    assert_eq!(slab.window_len(), 1, "the front skips the gap");
    assert_eq!(value(slab.get(3)), Some(3));
    assert_eq!(slab.remove(3), new(3), "never moved");
    assert!(slab.is_empty());
    assert_eq!(slab.window_len(), 0);
    slab.push(None);
    assert_eq!(
      (slab.window_len(), slab.next_id()),
      (0, 5),
      "an id not kept takes no slot when nothing waits"
    );
  }

  #[test]
  fn a_record_that_outlives_many_after_it_moves_out_of_the_window() {
    let mut slab = RecordSlab::default();
    slab.push(new(0));
    for round in 0..10 * MIN_WINDOW as u64 {
      slab.push(new(round));
      slab.push(None);
      assert_eq!(slab.remove(2 + 2 * round), new(round));
      assert!(
        slab.window_len() <= MIN_WINDOW + 1,
        "the window stays bounded"
      );
    }
    assert_eq!(slab.window_len(), 0, "no gap is left behind it");
    assert_eq!(
      slab.get(1),
      Some(&R(0, true)),
      "still found, and told it moved"
    );
    assert_eq!(ids(&slab), [1]);
    slab.push(new(7));
    let newest = slab.next_id() - 1;
    assert_eq!(ids(&slab), [1, newest], "oldest first across both parts");
    assert_eq!(slab.remove(1), Some(R(0, true)));
    assert_eq!(value(slab.get(1)), None);
    assert_eq!(slab.len(), 1);
  }

  #[test]
  fn a_sparse_window_is_thinned_to_at_most_twice_what_it_holds() {
    let mut slab = RecordSlab::default();
    let count = 4 * MIN_WINDOW as u64;
    for v in 1..=count {
      slab.push(new(v));
    }
    // Every other one leaves, newest first, so the front never advances by itself.
    for id in (1..=count).rev().filter(|id| id % 2 == 0) {
      slab.remove(id);
    }
    assert!(slab.window_len() <= 2 * slab.len() + 1);
    for id in (1..=count).filter(|id| id % 3 == 1) {
      slab.remove(id);
    }
    assert!(slab.window_len() <= (2 * slab.len()).max(MIN_WINDOW) + 1);
    let expected: Vec<_> = (1..=count)
      .filter(|id| id % 2 == 1 && id % 3 != 1)
      .collect();
    assert_eq!(ids(&slab), expected, "nothing lost or reordered by moving");
    assert!(expected.iter().all(|id| value(slab.get(*id)) == Some(*id)));
    assert!(slab.get(expected[0]).unwrap().1, "the oldest moved");
  }

  #[test]
  fn clear_forgets_everything_and_ids_go_on() {
    let mut slab = RecordSlab::default();
    slab.push(new(1));
    slab.push(new(2));
    slab.clear();
    assert!(slab.is_empty());
    assert_eq!(slab.next_id(), 3);
    assert_eq!(value(slab.get(1)), None);
    slab.push(new(3));
    assert_eq!(ids(&slab), [3]);
  }
}
