//! The policy of WeakCache: which entries are pinned and in what order, which are demoted to the
//! weak tier, when entries expire, and the statistics.
//!
//! Plain Rust: a weak handle is any `Copy` value `H` (a `napi_ref` in the binding, a number in
//! the tests). The policy never frees a handle: every handle that leaves it is given back to the
//! caller, who deletes it.
//!
//! Entries live in one slab of slots. A slot's generation grows whenever it gets a new handle or
//! is freed, and `(generation, slot)` is the entry id a handle's finalizer reports, so a late
//! collection event never matches an entry that was set again. Pinned entries also get a
//! *position* below `max + 1`: the JS side indexes its arrays by position, so they stay as small
//! as the pinned tier however large the weak tier grows.

use super::cache_key::CacheKey;
use std::collections::HashMap;

/// foldhash: several times faster than the default SipHash on short keys, and still seeded per
/// map, so colliding keys cannot be precomputed.
type KeyIndex = HashMap<CacheKey, SlotIndex, foldhash::fast::RandomState>;

pub type Position = u32;
pub type SlotIndex = u32;
pub type EntryId = u64;

const NIL: u32 = u32::MAX;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tier {
  Free,
  Pinned,
  Weak,
  /// Found collected before its finalizer event: invisible, kept only until the event is delivered.
  Collected,
}

struct Slot<H> {
  generation: u32,
  tier: Tier,
  key: Option<CacheKey>,
  handle: Option<H>,
  ttl: f64,
  expires: f64,
  position: Position,
  prev: SlotIndex,
  next: SlotIndex,
}

/// An intrusive doubly linked list of slots, most recent first.
#[derive(Clone, Copy)]
struct List {
  head: SlotIndex,
  tail: SlotIndex,
  len: usize,
}

impl List {
  const EMPTY: List = List { head: NIL, tail: NIL, len: 0 };
}

/// Why an entry left the cache through an explicit operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Removal {
  Delete,
  Expire,
  /// Overwritten by `set`.
  Replace,
}

/// The pinned entry pushed out by an insert or a promotion.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Victim {
  pub position: Position,
  /// True when the value had no weak handle (a primitive): it left the cache. Otherwise it was
  /// demoted to the weak tier.
  pub evicted: bool,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Stats {
  pub hits: u64,
  pub weak_hits: u64,
  pub misses: u64,
  pub sets: u64,
  pub evictions: u64,
  pub demotions: u64,
  pub collected: u64,
  pub expired: u64,
  pub deleted: u64,
  pub pinned: usize,
  pub weak: usize,
}

pub struct CachePolicy<H> {
  max: usize,
  update_age_on_get: bool,
  slots: Vec<Slot<H>>,
  free_slots: Vec<SlotIndex>,
  /// position -> slot of the pinned entry there (NIL when free).
  positions: Vec<SlotIndex>,
  free_positions: Vec<Position>,
  pinned: List,
  weak: List,
  weak_index: KeyIndex,
  stats: Stats,
}

/// `now + ttl`, or never when the entry has no ttl. The JS mirror computes the same.
pub fn expiry(ttl: f64, now: f64) -> f64 {
  if ttl > 0.0 {
    now + ttl
  } else {
    f64::INFINITY
  }
}

impl<H: Copy> CachePolicy<H> {
  pub fn new(max: usize, update_age_on_get: bool) -> Self {
    CachePolicy {
      max,
      update_age_on_get,
      slots: Vec::new(),
      free_slots: Vec::new(),
      positions: Vec::new(),
      free_positions: Vec::new(),
      pinned: List::EMPTY,
      weak: List::EMPTY,
      weak_index: KeyIndex::default(),
      stats: Stats::default(),
    }
  }

  pub fn stats(&self) -> Stats {
    Stats { pinned: self.pinned.len, weak: self.weak.len, ..self.stats }
  }

  pub fn weak_len(&self) -> usize {
    self.weak.len
  }

  fn id(&self, slot: SlotIndex) -> EntryId {
    (u64::from(self.slots[slot as usize].generation) << 32) | u64::from(slot)
  }

  /// A pinned hit recorded by the JS side: the entry becomes the most recent.
  pub fn touch(&mut self, position: Position, now: f64) {
    let Some(&slot) = self.positions.get(position as usize) else { return };
    if slot == NIL {
      return;
    }
    self.stats.hits += 1;
    self.unlink(slot);
    self.push_front(slot, Tier::Pinned);
    if self.update_age_on_get {
      let s = &mut self.slots[slot as usize];
      s.expires = expiry(s.ttl, now);
    }
  }

  pub fn record_miss(&mut self) {
    self.stats.misses += 1;
  }

  /// Adds a pinned entry for `key`, which must not be in the cache (the caller removed a weak
  /// entry of that key first). `handle_for(id)` makes the weak handle for the value (None for a
  /// primitive); if it fails, nothing changes.
  pub fn insert<E>(
    &mut self,
    key: CacheKey,
    ttl: f64,
    now: f64,
    handle_for: impl FnOnce(EntryId) -> Result<Option<H>, E>,
  ) -> Result<(Position, Option<Victim>), E> {
    let slot = self.alloc_slot();
    self.slots[slot as usize].key = Some(key);
    let handle = match handle_for(self.id(slot)) {
      Ok(handle) => handle,
      Err(error) => {
        self.free_slot(slot);
        return Err(error);
      }
    };
    let position = self.alloc_position(slot);
    let s = &mut self.slots[slot as usize];
    s.handle = handle;
    s.ttl = ttl;
    s.expires = expiry(ttl, now);
    s.position = position;
    self.push_front(slot, Tier::Pinned);
    self.stats.sets += 1;
    Ok((position, self.enforce_max()))
  }

  /// Sets a new value (or only a new ttl, when `same_value`) for the pinned entry at `position`
  /// and makes it the most recent. Returns the handle of the old value, which the caller frees.
  pub fn replace<E>(
    &mut self,
    position: Position,
    ttl: f64,
    now: f64,
    same_value: bool,
    handle_for: impl FnOnce(EntryId) -> Result<Option<H>, E>,
  ) -> Result<Option<H>, E> {
    let slot = self.pinned_slot(position);
    let mut old = None;
    if !same_value {
      // A new handle gets a new id: an event of the old one still queued must not match.
      self.slots[slot as usize].generation = self.slots[slot as usize].generation.wrapping_add(1);
      let handle = handle_for(self.id(slot));
      let s = &mut self.slots[slot as usize];
      old = std::mem::replace(&mut s.handle, None);
      s.handle = handle?;
    }
    let s = &mut self.slots[slot as usize];
    s.ttl = ttl;
    s.expires = expiry(ttl, now);
    self.unlink(slot);
    self.push_front(slot, Tier::Pinned);
    self.stats.sets += 1;
    Ok(old)
  }

  /// Removes the pinned entry at `position`; gives back its key and handle.
  pub fn remove_pinned(&mut self, position: Position, why: Removal) -> (CacheKey, Option<H>) {
    let slot = self.pinned_slot(position);
    self.count_removal(why);
    self.unlink(slot);
    self.release_position(slot);
    self.free_slot(slot)
  }

  /// The weak entry of `key`, if any.
  pub fn find_weak(&self, key: &CacheKey) -> Option<SlotIndex> {
    self.weak_index.get(key).copied()
  }

  pub fn handle(&self, slot: SlotIndex) -> Option<H> {
    self.slots[slot as usize].handle
  }

  /// The entry's ttl and expiry time.
  pub fn timing(&self, slot: SlotIndex) -> (f64, f64) {
    let s = &self.slots[slot as usize];
    (s.ttl, s.expires)
  }

  pub fn is_expired(&self, slot: SlotIndex, now: f64) -> bool {
    self.slots[slot as usize].expires <= now
  }

  /// A weak hit: the weak entry `slot` (whose value the caller has just read) is pinned again as
  /// the most recent entry.
  pub fn promote(&mut self, slot: SlotIndex, now: f64) -> (Position, Option<Victim>) {
    self.stats.weak_hits += 1;
    self.unlink(slot);
    let key = self.slots[slot as usize].key.as_ref().expect("a weak entry has a key");
    self.weak_index.remove(key);
    let position = self.alloc_position(slot);
    let s = &mut self.slots[slot as usize];
    s.position = position;
    if self.update_age_on_get {
      s.expires = expiry(s.ttl, now);
    }
    self.push_front(slot, Tier::Pinned);
    (position, self.enforce_max())
  }

  /// Removes the weak entry `slot`; gives back its key and handle.
  pub fn remove_weak(&mut self, slot: SlotIndex, why: Removal) -> (CacheKey, Option<H>) {
    self.count_removal(why);
    self.unlink_weak(slot);
    self.free_slot(slot)
  }

  /// The weak entry `slot` was found collected before its finalizer ran. It disappears now; its
  /// handle goes back to the caller (deleting it cancels the finalizer), and the returned id must
  /// be reported through the same path as a finalizer's, so that `take_collected` delivers it.
  pub fn mark_collected(&mut self, slot: SlotIndex) -> (Option<H>, EntryId) {
    self.unlink_weak(slot);
    let s = &mut self.slots[slot as usize];
    s.tier = Tier::Collected;
    (s.handle.take(), self.id(slot))
  }

  /// A collection event: if `id` still names a weak (or collected) entry, it is removed and its key
  /// and handle are given back. Late events (the entry was removed, set again or promoted) give None.
  pub fn take_collected(&mut self, id: EntryId) -> Option<(CacheKey, Option<H>)> {
    let slot = (id & 0xffff_ffff) as SlotIndex;
    let s = self.slots.get(slot as usize)?;
    if u64::from(s.generation) != id >> 32 {
      return None;
    }
    match s.tier {
      Tier::Weak => self.unlink_weak(slot),
      Tier::Collected => {}
      Tier::Pinned | Tier::Free => return None,
    }
    self.stats.collected += 1;
    Some(self.free_slot(slot))
  }

  /// Removes every pinned entry (for `clear`); gives back their positions and handles.
  pub fn clear_pinned(&mut self) -> Vec<(Position, Option<H>)> {
    let mut removed = Vec::with_capacity(self.pinned.len);
    while self.pinned.head != NIL {
      let slot = self.pinned.head;
      let position = self.slots[slot as usize].position;
      let (_, handle) = self.remove_pinned(position, Removal::Delete);
      removed.push((position, handle));
    }
    removed
  }

  /// Every weak entry, most recently demoted first.
  pub fn weak_slots(&self) -> Vec<SlotIndex> {
    self.walk(self.weak.head).collect()
  }

  /// The keys of every live entry: pinned ones most recent first, then weak ones most recently
  /// demoted first.
  pub fn keys(&self) -> impl Iterator<Item = &CacheKey> {
    self
      .walk(self.pinned.head)
      .chain(self.walk(self.weak.head))
      .map(|slot| self.slots[slot as usize].key.as_ref().expect("a live entry has a key"))
  }

  fn walk(&self, head: SlotIndex) -> impl Iterator<Item = SlotIndex> + '_ {
    std::iter::successors(Some(head).filter(|&s| s != NIL), |&s| Some(self.slots[s as usize].next).filter(|&n| n != NIL))
  }

  fn pinned_slot(&self, position: Position) -> SlotIndex {
    let slot = self.positions[position as usize];
    debug_assert!(slot != NIL && self.slots[slot as usize].tier == Tier::Pinned, "position {position} is not pinned");
    slot
  }

  fn count_removal(&mut self, why: Removal) {
    match why {
      Removal::Delete => self.stats.deleted += 1,
      Removal::Expire => self.stats.expired += 1,
      Removal::Replace => {}
    }
  }

  /// Demotes or evicts the least recent pinned entry while there are more than `max`.
  fn enforce_max(&mut self) -> Option<Victim> {
    if self.pinned.len <= self.max {
      return None;
    }
    let slot = self.pinned.tail;
    let position = self.slots[slot as usize].position;
    self.unlink(slot);
    self.release_position(slot);
    if self.slots[slot as usize].handle.is_none() {
      self.stats.evictions += 1;
      self.free_slot(slot);
      return Some(Victim { position, evicted: true });
    }
    self.stats.demotions += 1;
    let key = self.slots[slot as usize].key.clone().expect("a pinned entry has a key");
    self.weak_index.insert(key, slot);
    self.push_front(slot, Tier::Weak);
    Some(Victim { position, evicted: false })
  }

  fn alloc_slot(&mut self) -> SlotIndex {
    let slot = match self.free_slots.pop() {
      Some(slot) => slot,
      None => {
        self.slots.push(Slot {
          generation: 0,
          tier: Tier::Free,
          key: None,
          handle: None,
          ttl: 0.0,
          expires: f64::INFINITY,
          position: NIL,
          prev: NIL,
          next: NIL,
        });
        (self.slots.len() - 1) as SlotIndex
      }
    };
    let s = &mut self.slots[slot as usize];
    s.generation = s.generation.wrapping_add(1);
    slot
  }

  fn free_slot(&mut self, slot: SlotIndex) -> (CacheKey, Option<H>) {
    let s = &mut self.slots[slot as usize];
    s.generation = s.generation.wrapping_add(1);
    s.tier = Tier::Free;
    s.position = NIL;
    let key = s.key.take().expect("a used slot has a key");
    let handle = s.handle.take();
    self.free_slots.push(slot);
    (key, handle)
  }

  fn alloc_position(&mut self, slot: SlotIndex) -> Position {
    match self.free_positions.pop() {
      Some(position) => {
        self.positions[position as usize] = slot;
        position
      }
      None => {
        self.positions.push(slot);
        (self.positions.len() - 1) as Position
      }
    }
  }

  fn release_position(&mut self, slot: SlotIndex) {
    let position = std::mem::replace(&mut self.slots[slot as usize].position, NIL);
    self.positions[position as usize] = NIL;
    self.free_positions.push(position);
  }

  fn unlink_weak(&mut self, slot: SlotIndex) {
    let key = self.slots[slot as usize].key.as_ref().expect("a weak entry has a key");
    self.weak_index.remove(key);
    self.unlink(slot);
  }

  fn list(&mut self, tier: Tier) -> &mut List {
    match tier {
      Tier::Pinned => &mut self.pinned,
      Tier::Weak => &mut self.weak,
      Tier::Free | Tier::Collected => unreachable!("only pinned and weak entries are listed"),
    }
  }

  fn push_front(&mut self, slot: SlotIndex, tier: Tier) {
    let list = *self.list(tier);
    let s = &mut self.slots[slot as usize];
    s.tier = tier;
    s.prev = NIL;
    s.next = list.head;
    if list.head != NIL {
      self.slots[list.head as usize].prev = slot;
    }
    let list = self.list(tier);
    list.head = slot;
    if list.tail == NIL {
      list.tail = slot;
    }
    list.len += 1;
  }

  fn unlink(&mut self, slot: SlotIndex) {
    let (tier, prev, next) = {
      let s = &self.slots[slot as usize];
      (s.tier, s.prev, s.next)
    };
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
  }
}

#[cfg(test)]
mod tests {
  use super::*;
  use std::convert::Infallible;

  type Policy = CachePolicy<u32>;

  fn key(s: &str) -> CacheKey {
    CacheKey::string(&s.encode_utf16().collect::<Vec<_>>())
  }

  /// Inserts `k` with an object value (a handle) unless `primitive`.
  fn put(p: &mut Policy, k: &str, primitive: bool) -> (Position, Option<Victim>) {
    let handle = if primitive { None } else { Some(k.len() as u32) };
    p.insert::<Infallible>(key(k), 0.0, 0.0, |_| Ok(handle)).unwrap()
  }

  fn keys(p: &Policy) -> Vec<String> {
    p.keys()
      .map(|k| match k.units() {
        Some(units) => String::from_utf16_lossy(units),
        None => format!("{k:?}"),
      })
      .collect()
  }

  #[test]
  fn overflow_demotes_objects_and_evicts_primitives_least_recent_first() {
    let mut p = Policy::new(2, false);
    let (a, _) = put(&mut p, "a", false);
    put(&mut p, "b", true);
    p.touch(a, 0.0);
    let (_, victim) = put(&mut p, "c", false);
    assert_eq!(victim.map(|v| v.evicted), Some(true), "b is least recent and primitive");
    let (_, victim) = put(&mut p, "d", false);
    assert_eq!(victim, Some(Victim { position: a, evicted: false }));
    assert_eq!(keys(&p), ["d", "c", "a"]);
    let s = p.stats();
    assert_eq!((s.pinned, s.weak, s.evictions, s.demotions, s.hits, s.sets), (2, 1, 1, 1, 1, 4));
  }

  #[test]
  fn a_weak_hit_repins_and_demotes_the_least_recent() {
    let mut p = Policy::new(1, false);
    put(&mut p, "a", false);
    put(&mut p, "b", false);
    let slot = p.find_weak(&key("a")).expect("a was demoted");
    let (_, victim) = p.promote(slot, 0.0);
    assert!(victim.is_some_and(|v| !v.evicted));
    assert_eq!(keys(&p), ["a", "b"]);
    assert!(p.find_weak(&key("a")).is_none());
    assert!(p.find_weak(&key("b")).is_some());
    assert_eq!(p.stats().weak_hits, 1);
  }

  #[test]
  fn max_zero_is_a_pure_weak_map() {
    let mut p = Policy::new(0, false);
    let (position, victim) = put(&mut p, "a", false);
    assert_eq!(victim, Some(Victim { position, evicted: false }));
    let (_, victim) = put(&mut p, "n", true);
    assert!(victim.is_some_and(|v| v.evicted));
    assert_eq!(keys(&p), ["a"]);
    let slot = p.find_weak(&key("a")).unwrap();
    let (_, victim) = p.promote(slot, 0.0);
    assert!(victim.is_some_and(|v| !v.evicted), "re-pinned and at once demoted again");
    assert_eq!((p.stats().pinned, p.stats().weak), (0, 1));
  }

  #[test]
  fn a_late_collection_event_never_removes_a_key_set_again() {
    let mut p = Policy::new(0, false);
    let mut first = 0;
    p.insert::<Infallible>(key("k"), 0.0, 0.0, |id| {
      first = id;
      Ok(Some(1))
    })
    .unwrap();
    let slot = p.find_weak(&key("k")).unwrap();
    assert_eq!(p.remove_weak(slot, Removal::Replace), (key("k"), Some(1)));
    p.insert::<Infallible>(key("k"), 0.0, 0.0, |_| Ok(Some(2))).unwrap();
    assert_eq!(p.take_collected(first), None, "the old value's event arrives late");
    assert!(p.find_weak(&key("k")).is_some());
    assert_eq!(p.stats().collected, 0);
  }

  #[test]
  fn a_collection_event_removes_the_weak_entry_once() {
    let mut p = Policy::new(0, false);
    let mut id = 0;
    p.insert::<Infallible>(key("k"), 0.0, 0.0, |i| {
      id = i;
      Ok(Some(7))
    })
    .unwrap();
    assert_eq!(p.take_collected(id), Some((key("k"), Some(7))));
    assert_eq!(p.take_collected(id), None);
    assert_eq!((p.stats().collected, p.stats().weak), (1, 0));
  }

  #[test]
  fn found_collected_disappears_at_once_and_is_delivered_by_its_id() {
    let mut p = Policy::new(0, false);
    put(&mut p, "k", false);
    let slot = p.find_weak(&key("k")).unwrap();
    let (handle, id) = p.mark_collected(slot);
    assert_eq!(handle, Some(1));
    assert!(p.find_weak(&key("k")).is_none());
    assert_eq!(p.stats().weak, 0);
    put(&mut p, "k", false); // set again before the event is delivered
    assert_eq!(p.take_collected(id), Some((key("k"), None)));
    assert!(p.find_weak(&key("k")).is_some(), "the new entry is untouched");
  }

  #[test]
  fn replacing_a_value_changes_the_id_so_old_events_miss() {
    let mut p = Policy::new(1, false);
    let mut old_id = 0;
    let (position, _) = p
      .insert::<Infallible>(key("k"), 0.0, 0.0, |id| {
        old_id = id;
        Ok(Some(1))
      })
      .unwrap();
    let old = p.replace::<Infallible>(position, 0.0, 0.0, false, |_| Ok(Some(2))).unwrap();
    assert_eq!(old, Some(1));
    put(&mut p, "other", false); // demotes k
    assert_eq!(p.take_collected(old_id), None);
    assert!(p.find_weak(&key("k")).is_some());
  }

  #[test]
  fn ttl_expiry_and_update_age_on_get() {
    let mut p = Policy::new(2, true);
    let (position, _) = p.insert::<Infallible>(key("k"), 10.0, 100.0, |_| Ok(Some(1))).unwrap();
    p.touch(position, 105.0); // age reset: expires at 115
    put(&mut p, "x", false);
    put(&mut p, "y", false); // demotes k
    let slot = p.find_weak(&key("k")).unwrap();
    assert!(!p.is_expired(slot, 114.0));
    assert!(p.is_expired(slot, 115.0));
    p.remove_weak(slot, Removal::Expire);
    assert_eq!(p.stats().expired, 1);
  }

  #[test]
  fn a_failed_handle_leaves_nothing_behind() {
    let mut p = Policy::new(1, false);
    assert_eq!(p.insert(key("k"), 0.0, 0.0, |_| Err("no")), Err("no"));
    assert_eq!(keys(&p), Vec::<String>::new());
    assert_eq!(p.stats().sets, 0);
  }

  #[test]
  fn positions_are_reused_and_bounded_by_max_plus_one() {
    let mut p = Policy::new(3, false);
    for i in 0..1000 {
      let (position, _) = put(&mut p, &format!("k{i}"), i % 2 == 0);
      assert!(position <= 3);
    }
    assert_eq!(p.stats().pinned, 3);
    let removed = p.clear_pinned();
    assert_eq!(removed.len(), 3);
    assert_eq!(p.stats().pinned, 0);
    assert_eq!(p.weak_slots().len(), p.stats().weak);
  }
}
