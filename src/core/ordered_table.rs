//! An insertion-ordered table of entries addressed by ids that are never reused.
//!
//! Ids come from a 64-bit sequence per table, so an id is also its entry's generation: a late
//! event for a removed entry can never match an entry added later. Ordering by id is insertion
//! order, which makes "continue after the entry I yielded last" a search by id that stays correct
//! when entries are removed or added during iteration.
//!
//! Layout: one `Vec` of slots sorted by id (appending keeps it sorted). Removing an entry leaves a
//! hole in place (no shifting, no allocation), so every operation is a push, a binary search or a
//! short scan:
//! - a hole points at a later slot with only holes in between, and every scan that crosses holes
//!   repoints them at the slot it reached (path compression), so runs of holes are crossed in
//!   about one step each, however often they are scanned (say, always taking the oldest entry);
//! - once holes outnumber the entries, the vector is compacted (amortised O(1) per removal).

pub type EntryId = u64;

/// Tables of fewer slots than this are never compacted (small tables keep their holes).
const MIN_COMPACT: usize = 32;

enum Slot<T> {
  Live(T),
  /// A removed entry. `next` is the index of a later slot such that every slot between this one
  /// and it is a hole too (possibly the end of the vector).
  Hole {
    next: usize,
  },
}

pub struct OrderedTable<T> {
  ids: Vec<EntryId>,
  slots: Vec<Slot<T>>,
  live: usize,
  last_id: EntryId,
  /// Where the last `first_after` found its entry: an iterator asks next for the entry after that
  /// one, which is then found without a search.
  last_found: usize,
  /// Holes crossed by scans, for the test that proves runs of holes are not crossed repeatedly.
  #[cfg(test)]
  hole_hops: usize,
}

impl<T> Default for OrderedTable<T> {
  fn default() -> Self {
    OrderedTable {
      ids: Vec::new(),
      slots: Vec::new(),
      live: 0,
      last_id: 0,
      last_found: 0,
      #[cfg(test)]
      hole_hops: 0,
    }
  }
}

impl<T> OrderedTable<T> {
  pub fn new() -> Self {
    Self::default()
  }

  /// Reserves the next id. Ids start at 1 and stay below 2^53, so they survive a trip through a
  /// JS number.
  pub fn next_id(&mut self) -> EntryId {
    self.last_id += 1;
    self.last_id
  }

  /// Stores `value` under an id from `next_id`, at the end of the order.
  pub fn insert(&mut self, id: EntryId, value: T) {
    debug_assert!(id == self.last_id, "insert the id next_id just gave");
    self.ids.push(id);
    self.slots.push(Slot::Live(value));
    self.live += 1;
  }

  pub fn remove(&mut self, id: EntryId) -> Option<T> {
    let index = self.ids.binary_search(&id).ok()?;
    let Slot::Live(_) = self.slots[index] else {
      return None;
    };
    let Slot::Live(value) =
      std::mem::replace(&mut self.slots[index], Slot::Hole { next: index + 1 })
    else {
      unreachable!("checked just above")
    };
    self.live -= 1;
    let holes = self.slots.len() - self.live;
    if holes > self.live && self.slots.len() >= MIN_COMPACT {
      self.compact();
    }
    Some(value)
  }

  pub fn len(&self) -> usize {
    self.live
  }

  pub fn is_empty(&self) -> bool {
    self.live == 0
  }

  /// The first entry after `cursor` (exclusive) in insertion order. Cursor 0 is the beginning.
  pub fn first_after(&mut self, cursor: EntryId) -> Option<(EntryId, &T)> {
    let start = match self.ids.get(self.last_found) {
      Some(&id) if id == cursor => self.last_found + 1,
      _ => self.ids.partition_point(|&id| id <= cursor),
    };
    let index = self.skip_holes(start);
    self.last_found = index;
    match self.slots.get(index)? {
      Slot::Live(value) => Some((self.ids[index], value)),
      Slot::Hole { .. } => unreachable!("skip_holes stops at an entry or the end"),
    }
  }

  /// Removes every entry and hands them out in order; ids keep counting up.
  pub fn take_all(&mut self) -> Vec<T> {
    self.ids.clear();
    self.live = 0;
    std::mem::take(&mut self.slots)
      .into_iter()
      .filter_map(|slot| match slot {
        Slot::Live(value) => Some(value),
        Slot::Hole { .. } => None,
      })
      .collect()
  }

  /// The index of the first entry at or after `index` (or the vector's length), repointing the
  /// holes crossed on the way at it.
  fn skip_holes(&mut self, index: usize) -> usize {
    let mut end = index;
    while let Some(Slot::Hole { next }) = self.slots.get(end) {
      end = *next;
      #[cfg(test)]
      {
        self.hole_hops += 1;
      }
    }
    let mut at = index;
    while at < end {
      let Slot::Hole { next } = &mut self.slots[at] else {
        unreachable!("every slot before `end` on this path is a hole")
      };
      at = std::mem::replace(next, end);
    }
    end
  }

  fn compact(&mut self) {
    let mut kept = 0;
    for index in 0..self.slots.len() {
      if let Slot::Live(_) = self.slots[index] {
        self.ids.swap(kept, index);
        self.slots.swap(kept, index);
        kept += 1;
      }
    }
    self.ids.truncate(kept);
    self.slots.truncate(kept);
    // A table that once was large gives its memory back, as the entries it lost did.
    if self.slots.capacity() > 4 * kept.max(MIN_COMPACT) {
      self.ids.shrink_to(2 * kept);
      self.slots.shrink_to(2 * kept);
    }
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  fn table_of(values: &[&'static str]) -> OrderedTable<&'static str> {
    let mut t = OrderedTable::new();
    for v in values {
      let id = t.next_id();
      t.insert(id, *v);
    }
    t
  }

  /// Walks the way an iterator does: one `first_after` per step.
  fn walk(t: &mut OrderedTable<&'static str>, mut cursor: EntryId) -> Vec<&'static str> {
    let mut seen = Vec::new();
    while let Some((id, v)) = t.first_after(cursor) {
      seen.push(*v);
      cursor = id;
    }
    seen
  }

  #[test]
  fn iterates_in_insertion_order_from_a_cursor() {
    let mut t = table_of(&["a", "b", "c"]);
    assert_eq!(walk(&mut t, 0), ["a", "b", "c"]);
    assert_eq!(walk(&mut t, 1), ["b", "c"]);
    assert_eq!(walk(&mut t, 3), Vec::<&str>::new());
  }

  #[test]
  fn a_removed_cursor_still_continues_at_the_next_entry() {
    let mut t = table_of(&["a", "b", "c"]);
    assert_eq!(t.remove(2), Some("b"));
    assert_eq!(
      walk(&mut t, 2),
      ["c"],
      "the cursor's own entry is gone; iteration goes on"
    );
    assert_eq!(walk(&mut t, 1), ["c"]);
    assert_eq!(t.len(), 2);
  }

  #[test]
  fn ids_are_never_reused_so_late_events_miss() {
    let mut t = table_of(&["a"]);
    assert_eq!(t.remove(1), Some("a"));
    assert_eq!(t.remove(1), None, "a second removal finds nothing");
    let id = t.next_id();
    t.insert(id, "a again");
    assert_eq!(id, 2);
    assert_eq!(
      t.remove(1),
      None,
      "a late removal of the old id leaves the new entry alone"
    );
    assert_eq!(walk(&mut t, 0), ["a again"]);
  }

  #[test]
  fn entries_added_during_a_walk_come_after_the_cursor() {
    let mut t = table_of(&["a", "b"]);
    let cursor = 1;
    let id = t.next_id();
    t.insert(id, "c");
    assert_eq!(walk(&mut t, cursor), ["b", "c"]);
  }

  #[test]
  fn an_entry_appended_after_trailing_holes_is_found() {
    let mut t = table_of(&["a", "b", "c"]);
    t.remove(2);
    t.remove(3);
    assert_eq!(walk(&mut t, 1), Vec::<&str>::new(), "holes up to the end");
    let id = t.next_id();
    t.insert(id, "d");
    assert_eq!(
      walk(&mut t, 1),
      ["d"],
      "the holes now lead to the new entry"
    );
  }

  #[test]
  fn take_all_empties_and_keeps_counting() {
    let mut t = table_of(&["a", "b", "c"]);
    t.remove(2);
    assert_eq!(t.take_all(), ["a", "c"]);
    assert!(t.is_empty());
    assert_eq!(t.first_after(0), None);
    assert_eq!(t.next_id(), 4);
  }

  #[test]
  fn compaction_keeps_order_ids_and_cursors() {
    let names: Vec<&'static str> = (0..1000)
      .map(|i| &*Box::leak(format!("k{i}").into_boxed_str()))
      .collect();
    let mut t = table_of(&names);
    // Remove every entry but each tenth: compaction runs several times on the way.
    for id in 1..=1000u64 {
      if id % 10 != 0 {
        assert!(t.remove(id).is_some());
      }
    }
    assert_eq!(t.len(), 100);
    assert!(t.slots.len() < 250, "holes were compacted away");
    assert!(t.slots.capacity() <= 400, "and their memory given back");
    let expected: Vec<&str> = (0..1000)
      .filter(|i| (i + 1) % 10 == 0)
      .map(|i| names[i])
      .collect();
    assert_eq!(walk(&mut t, 0), expected);
    assert_eq!(
      walk(&mut t, 55),
      expected[5..],
      "a removed cursor resumes at the next id"
    );
    assert_eq!(t.first_after(499), Some((500, &"k499")));
    assert_eq!(t.remove(500), Some("k499"));
    assert_eq!(t.first_after(499), Some((510, &"k509")));
  }

  #[test]
  fn repeatedly_taking_the_oldest_entry_crosses_each_hole_about_once() {
    // A queue behind an entry that stays at the front: take the first entry after it, remove
    // it. Without path compression each step would cross every hole left so far (quadratic).
    let n = 10_000u64;
    let mut t = OrderedTable::new();
    let keep = t.next_id();
    t.insert(keep, 0u64);
    for i in 1..=n {
      let id = t.next_id();
      t.insert(id, i);
    }
    for expected in 1..=n {
      let (id, value) = t.first_after(keep).expect("entries remain");
      assert_eq!(*value, expected);
      t.remove(id);
    }
    assert!(t.first_after(keep).is_none());
    assert_eq!(t.len(), 1);
    assert!(
      t.hole_hops <= 2 * n as usize,
      "{} hole hops for {n} steps",
      t.hole_hops
    );
  }

  #[test]
  fn matches_a_model_under_random_operations() {
    // A BTreeMap is the reference: the same inserts, removals and walks must agree.
    let mut t = OrderedTable::new();
    let mut model = std::collections::BTreeMap::new();
    let mut walker = 0;
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut rand = move |bound: u64| {
      seed ^= seed << 13;
      seed ^= seed >> 7;
      seed ^= seed << 17;
      seed % bound
    };
    for _ in 0..20_000 {
      match rand(10) {
        0..=4 => {
          let id = t.next_id();
          t.insert(id, id);
          model.insert(id, id);
        }
        5..=7 => {
          let id = rand(t.last_id + 2);
          assert_eq!(t.remove(id), model.remove(&id));
        }
        8 if rand(2) == 0 => {
          // An iterator's steps (the path that skips the search), amid the other operations.
          let got = t.first_after(walker).map(|(id, v)| (id, *v));
          let want = model.range(walker + 1..).next().map(|(id, v)| (*id, *v));
          assert_eq!(got, want);
          walker = got.map_or(0, |(id, _)| id);
        }
        8 => {
          let cursor = rand(t.last_id + 2);
          let got = t.first_after(cursor).map(|(id, v)| (id, *v));
          let want = model.range(cursor + 1..).next().map(|(id, v)| (*id, *v));
          assert_eq!(got, want);
        }
        _ => {
          let cursor = rand(t.last_id + 2);
          let mut got = Vec::new();
          let mut at = cursor;
          while let Some((id, v)) = t.first_after(at) {
            got.push((id, *v));
            at = id;
          }
          let want: Vec<_> = model.range(cursor + 1..).map(|(id, v)| (*id, *v)).collect();
          assert_eq!(got, want);
        }
      }
      assert_eq!(t.len(), model.len());
    }
  }
}
