//! An insertion-ordered table of entries addressed by ids that are never reused.
//!
//! Ids come from a 64-bit sequence per table, so an id is also its entry's generation: a late
//! event for a removed entry can never match an entry added later. Ordering by id is insertion
//! order, which makes "continue after the entry I yielded last" a range query that stays correct
//! when entries are removed or added during iteration.

use std::collections::BTreeMap;

pub type EntryId = u64;

pub struct OrderedTable<T> {
  entries: BTreeMap<EntryId, T>,
  last_id: EntryId,
}

impl<T> Default for OrderedTable<T> {
  fn default() -> Self {
    OrderedTable {
      entries: BTreeMap::new(),
      last_id: 0,
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
    self.entries.insert(id, value);
  }

  pub fn remove(&mut self, id: EntryId) -> Option<T> {
    self.entries.remove(&id)
  }

  pub fn get(&self, id: EntryId) -> Option<&T> {
    self.entries.get(&id)
  }

  pub fn len(&self) -> usize {
    self.entries.len()
  }

  pub fn is_empty(&self) -> bool {
    self.entries.is_empty()
  }

  /// The entries after `cursor` (exclusive) in insertion order. Cursor 0 starts at the beginning.
  pub fn after(&self, cursor: EntryId) -> impl Iterator<Item = (EntryId, &T)> {
    self
      .entries
      .range(cursor.saturating_add(1)..)
      .map(|(id, value)| (*id, value))
  }

  /// Removes every entry and hands them out; ids keep counting up.
  pub fn take_all(&mut self) -> Vec<T> {
    std::mem::take(&mut self.entries).into_values().collect()
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

  fn walk(t: &OrderedTable<&'static str>, cursor: EntryId) -> Vec<&'static str> {
    t.after(cursor).map(|(_, v)| *v).collect()
  }

  #[test]
  fn iterates_in_insertion_order_from_a_cursor() {
    let t = table_of(&["a", "b", "c"]);
    assert_eq!(walk(&t, 0), ["a", "b", "c"]);
    assert_eq!(walk(&t, 1), ["b", "c"]);
    assert_eq!(walk(&t, 3), Vec::<&str>::new());
  }

  #[test]
  fn a_removed_cursor_still_continues_at_the_next_entry() {
    let mut t = table_of(&["a", "b", "c"]);
    assert_eq!(t.remove(2), Some("b"));
    assert_eq!(
      walk(&t, 2),
      ["c"],
      "the cursor's own entry is gone; iteration goes on"
    );
    assert_eq!(t.len(), 2);
  }

  #[test]
  fn ids_are_never_reused_so_late_events_miss() {
    let mut t = table_of(&["a"]);
    assert_eq!(t.remove(1), Some("a"));
    let id = t.next_id();
    t.insert(id, "a again");
    assert_eq!(id, 2);
    assert_eq!(
      t.remove(1),
      None,
      "a late removal of the old id leaves the new entry alone"
    );
    assert_eq!(t.get(2), Some(&"a again"));
  }

  #[test]
  fn entries_added_during_a_walk_come_after_the_cursor() {
    let mut t = table_of(&["a", "b"]);
    let cursor = 1;
    let id = t.next_id();
    t.insert(id, "c");
    assert_eq!(walk(&t, cursor), ["b", "c"]);
  }

  #[test]
  fn take_all_empties_and_keeps_counting() {
    let mut t = table_of(&["a", "b"]);
    assert_eq!(t.take_all(), ["a", "b"]);
    assert!(t.is_empty());
    assert_eq!(t.next_id(), 3);
  }
}
