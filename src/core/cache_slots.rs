//! The slots of a WeakCache's policy (cache_policy.rs): entries numbered densely from 0, each with
//! its tier, its strength and a generation, linked into one list per tier (pinned and weak, most
//! recent first), and allocated in lru-cache's order.
//!
//! lru-cache numbers its entries' indexes with a stack of freed ones, and from 0 again once the
//! cache is empty; a full cache's new entry takes the index its eviction freed. Slots are given
//! the same way, so that an entry's slot is the index lru-cache would give it: whether a late
//! fetch result is stored depends on whether its index was taken meanwhile.

pub type SlotIndex = u32;
/// A slot at one generation, `generation << 32 | slot`: what a weak handle's finalizer reports, so
/// that a late report never names the slot's next entry. (Not an ordered_table `EntryId`, which
/// numbers entries in insertion order.)
pub type VersionedSlot = u64;

/// No slot (the end of a list).
pub const NIL: SlotIndex = u32::MAX;
const TIER_BITS: u32 = 2;
const TIER_MASK: u32 = (1 << TIER_BITS) - 1;
/// The tag bit of a *strong* entry: never demoted, evicted when pushed out (a fetch in flight).
const STRONG: u32 = 1 << TIER_BITS;
const GENERATION_SHIFT: u32 = TIER_BITS + 1;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tier {
  Free = 0,
  Pinned = 1,
  Weak = 2,
  /// Found collected before its finalizer's event arrived: invisible, waiting for that event.
  Collected = 3,
}

/// One entry: its links in the list of its tier and its tag,
/// `generation << 3 | strong << 2 | tier`. 12 bytes: a million pinned entries cost 12 MB here.
#[derive(Clone, Copy)]
struct Slot {
  prev: u32,
  next: u32,
  tag: u32,
}

impl Slot {
  fn tier(self) -> Tier {
    match self.tag & TIER_MASK {
      0 => Tier::Free,
      1 => Tier::Pinned,
      2 => Tier::Weak,
      _ => Tier::Collected,
    }
  }

  fn set_tier(&mut self, tier: Tier) {
    self.tag = (self.tag & !TIER_MASK) | tier as u32;
  }
}

/// An intrusive doubly linked list of slots, most recent first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct List {
  pub head: SlotIndex,
  pub tail: SlotIndex,
  pub len: usize,
}

const EMPTY: List = List {
  head: NIL,
  tail: NIL,
  len: 0,
};

pub struct SlotTable {
  slots: Vec<Slot>,
  /// Slots freed since the table was last empty, the last freed on top: the next one taken.
  /// Beyond them, every slot from `unused_from` on is free.
  free: Vec<SlotIndex>,
  unused_from: SlotIndex,
  /// Slots that hold an entry (of any tier).
  in_use: usize,
  pub pinned: List,
  pub weak: List,
}

impl Default for SlotTable {
  fn default() -> Self {
    Self::new()
  }
}

impl SlotTable {
  pub fn new() -> Self {
    SlotTable {
      slots: Vec::new(),
      free: Vec::new(),
      unused_from: 0,
      in_use: 0,
      pinned: EMPTY,
      weak: EMPTY,
    }
  }

  /// How many slots there are (free or not).
  pub fn count(&self) -> usize {
    self.slots.len()
  }

  pub fn tier(&self, slot: SlotIndex) -> Option<Tier> {
    self.slots.get(slot as usize).map(|s| s.tier())
  }

  /// The slot at its current generation.
  pub fn id(&self, slot: SlotIndex) -> VersionedSlot {
    (u64::from(self.generation(slot)) << 32) | u64::from(slot)
  }

  /// The generation of `slot` (0 for a slot that does not exist).
  pub fn generation(&self, slot: SlotIndex) -> u32 {
    self
      .slots
      .get(slot as usize)
      .map_or(0, |s| s.tag >> GENERATION_SHIFT)
  }

  pub fn is_strong(&self, slot: SlotIndex) -> bool {
    self.slots[slot as usize].tag & STRONG != 0
  }

  pub fn set_strong(&mut self, slot: SlotIndex, strong: bool) {
    let s = &mut self.slots[slot as usize];
    s.tag = if strong {
      s.tag | STRONG
    } else {
      s.tag & !STRONG
    };
  }

  /// A new generation: the entry's id changes, so events of its old handle no longer match.
  pub fn renew(&mut self, slot: SlotIndex) {
    let s = &mut self.slots[slot as usize];
    s.tag = s.tag.wrapping_add(1 << GENERATION_SHIFT);
  }

  /// An unlinked entry found collected: it waits, invisible, for its event.
  pub fn mark_collected(&mut self, slot: SlotIndex) {
    self.slots[slot as usize].set_tier(Tier::Collected);
  }

  /// Takes a free slot, in lru-cache's order, at a new generation. Returns it, and whether it is
  /// a new slot (one more than before: the vectors by slot grow by one).
  pub fn alloc(&mut self) -> (SlotIndex, bool) {
    self.in_use += 1;
    let (slot, new) = if let Some(slot) = self.free.pop() {
      (slot, false)
    } else if (self.unused_from as usize) < self.slots.len() {
      self.unused_from += 1;
      (self.unused_from - 1, false)
    } else {
      self.unused_from += 1;
      self.slots.push(Slot {
        prev: NIL,
        next: NIL,
        tag: Tier::Free as u32,
      });
      ((self.slots.len() - 1) as SlotIndex, true)
    };
    self.renew(slot);
    (slot, new)
  }

  /// Gives back an unlinked slot: a new generation, free and not strong. Once no slot is in use,
  /// numbering starts again from 0.
  pub fn free(&mut self, slot: SlotIndex) {
    let s = &mut self.slots[slot as usize];
    s.tag = (s.tag & !(TIER_MASK | STRONG)).wrapping_add(1 << GENERATION_SHIFT) | Tier::Free as u32;
    s.prev = NIL;
    s.next = NIL;
    self.in_use -= 1;
    if self.in_use == 0 {
      self.free.clear();
      self.unused_from = 0;
    } else {
      self.free.push(slot);
    }
  }

  /// Links an entry at the front of its tier's list.
  pub fn link_front(&mut self, slot: SlotIndex, tier: Tier) {
    let head = self.list(tier).head;
    let s = &mut self.slots[slot as usize];
    s.set_tier(tier);
    s.prev = NIL;
    s.next = head;
    if head != NIL {
      self.slots[head as usize].prev = slot;
    }
    let list = self.list(tier);
    list.head = slot;
    if list.tail == NIL {
      list.tail = slot;
    }
    list.len += 1;
  }

  /// Takes a pinned or weak entry out of its list; returns that tier.
  pub fn unlink(&mut self, slot: SlotIndex) -> Tier {
    let Slot { prev, next, tag: _ } = self.slots[slot as usize];
    let tier = self.slots[slot as usize].tier();
    debug_assert!(
      matches!(tier, Tier::Pinned | Tier::Weak),
      "slot {slot} is not listed"
    );
    if prev != NIL {
      self.slots[prev as usize].next = next;
    }
    if next != NIL {
      self.slots[next as usize].prev = prev;
    }
    let list = self.list(tier);
    if list.head == slot {
      list.head = next;
    }
    if list.tail == slot {
      list.tail = prev;
    }
    list.len -= 1;
    let s = &mut self.slots[slot as usize];
    s.prev = NIL;
    s.next = NIL;
    tier
  }

  /// Makes a pinned entry the most recent one.
  pub fn move_front(&mut self, slot: SlotIndex) {
    if self.pinned.head != slot {
      self.unlink(slot);
      self.link_front(slot, Tier::Pinned);
    }
  }

  /// The slots of a list from `head`, most recent first.
  pub fn walk(&self, head: SlotIndex) -> impl Iterator<Item = SlotIndex> + '_ {
    std::iter::successors(Some(head).filter(|&s| s != NIL), |&s| {
      Some(self.slots[s as usize].next).filter(|&n| n != NIL)
    })
  }

  /// The slots of a list from `tail`, least recent first.
  pub fn walk_back(&self, tail: SlotIndex) -> impl Iterator<Item = SlotIndex> + '_ {
    std::iter::successors(Some(tail).filter(|&s| s != NIL), |&s| {
      Some(self.slots[s as usize].prev).filter(|&p| p != NIL)
    })
  }

  fn list(&mut self, tier: Tier) -> &mut List {
    match tier {
      Tier::Pinned => &mut self.pinned,
      _ => &mut self.weak,
    }
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn slots_are_given_in_lru_caches_order_and_numbered_from_0_again_once_all_are_free() {
    let mut table = SlotTable::new();
    let taken: Vec<_> = (0..3).map(|_| table.alloc()).collect();
    assert_eq!(taken, [(0, true), (1, true), (2, true)]);
    table.free(1);
    table.free(0);
    assert_eq!(table.alloc(), (0, false), "the last freed is taken first");
    assert_eq!(table.alloc(), (1, false));
    for slot in [2, 0, 1] {
      table.free(slot);
    }
    assert_eq!(table.alloc(), (0, false), "empty: numbering starts again");
    assert_eq!(table.alloc(), (1, false));
    assert_eq!(table.count(), 3);
  }

  #[test]
  fn a_slot_is_12_bytes() {
    assert_eq!(std::mem::size_of::<Slot>(), 12);
  }

  #[test]
  fn a_slot_gets_a_new_generation_when_taken_and_when_freed() {
    let mut table = SlotTable::new();
    let (slot, _) = table.alloc();
    let first = table.id(slot);
    table.free(slot);
    let (again, _) = table.alloc();
    assert_eq!(again, slot);
    assert_ne!(table.id(again), first);
    assert_eq!(table.id(again) as u32, slot);
  }

  #[test]
  fn lists_link_unlink_and_walk_both_ways() {
    let mut table = SlotTable::new();
    let slots: Vec<_> = (0..3).map(|_| table.alloc().0).collect();
    for &slot in &slots {
      table.link_front(slot, Tier::Pinned);
    }
    assert_eq!(table.walk(table.pinned.head).collect::<Vec<_>>(), [2, 1, 0]);
    table.move_front(0);
    assert_eq!(
      table.walk_back(table.pinned.tail).collect::<Vec<_>>(),
      [1, 2, 0]
    );
    assert_eq!(table.unlink(2), Tier::Pinned);
    table.link_front(2, Tier::Weak);
    assert_eq!((table.pinned.len, table.weak.len), (2, 1));
    assert_eq!(table.tier(2), Some(Tier::Weak));
    table.set_strong(0, true);
    assert!(table.is_strong(0) && !table.is_strong(1));
  }
}
