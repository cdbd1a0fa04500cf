//! The policy of WeakCache: which entries are pinned and in what order, which are demoted to the
//! weak tier, when entries expire, and the statistics.
//!
//! Plain Rust: a weak handle is any `Copy` value `H` (a `napi_ref` in the binding, a number in
//! the tests). The policy never frees a handle: every handle that leaves it is given back to the
//! caller, who deletes it. Handles are made lazily, when an entry is first pushed out of the
//! pinned tier (pinned values are held by the JS side), so a cache that never overflows holds
//! no weak references at all.
//!
//! Entries live in one slab of slots. A slot's generation grows whenever it gets a new value or
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
  const EMPTY: List = List {
    head: NIL,
    tail: NIL,
    len: 0,
  };
}

/// Why an entry left the cache through an explicit operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Removal {
  Delete,
  Expire,
  /// Overwritten by `set`.
  Replace,
}

/// A pinned entry without a weak handle is being pushed out: the caller makes a handle for its
/// value (demotion) or returns None (a primitive: eviction).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Demotion {
  pub position: Position,
  /// The id the handle's finalizer must report.
  pub id: EntryId,
  /// True when the victim is the entry being inserted (only with `max` 0).
  pub is_new: bool,
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
    Stats {
      pinned: self.pinned.len,
      weak: self.weak.len,
      ..self.stats
    }
  }

  pub fn weak_len(&self) -> usize {
    self.weak.len
  }

  fn id(&self, slot: SlotIndex) -> EntryId {
    (u64::from(self.slots[slot as usize].generation) << 32) | u64::from(slot)
  }

  /// A pinned hit recorded by the JS side: the entry becomes the most recent.
  pub fn touch(&mut self, position: Position, now: f64) {
    let Some(&slot) = self.positions.get(position as usize) else {
      return;
    };
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
  /// entry of that key first). `handle_for` is called if the overflow victim needs a handle.
  pub fn insert(
    &mut self,
    key: CacheKey,
    ttl: f64,
    now: f64,
    handle_for: impl FnOnce(Demotion) -> Option<H>,
  ) -> (Position, Option<Victim>) {
    let slot = self.alloc_slot();
    let position = self.alloc_position(slot);
    let s = &mut self.slots[slot as usize];
    s.key = Some(key);
    s.ttl = ttl;
    s.expires = expiry(ttl, now);
    s.position = position;
    self.push_front(slot, Tier::Pinned);
    self.stats.sets += 1;
    (position, self.enforce_max(slot, handle_for))
  }

  /// Sets a new value (or only a new ttl, when `same_value`) for the pinned entry at `position`
  /// and makes it the most recent. Returns the handle of the old value, which the caller frees.
  pub fn replace(&mut self, position: Position, ttl: f64, now: f64, same_value: bool) -> Option<H> {
    let slot = self.pinned_slot(position);
    let mut old = None;
    if !same_value {
      // A new value gets a new id: an event of the old value's handle still queued must not match.
      let s = &mut self.slots[slot as usize];
      s.generation = s.generation.wrapping_add(1);
      old = s.handle.take();
    }
    let s = &mut self.slots[slot as usize];
    s.ttl = ttl;
    s.expires = expiry(ttl, now);
    self.unlink(slot);
    self.push_front(slot, Tier::Pinned);
    self.stats.sets += 1;
    old
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
  /// the most recent entry. It keeps its handle, ready for its next demotion.
  pub fn promote(
    &mut self,
    slot: SlotIndex,
    now: f64,
    handle_for: impl FnOnce(Demotion) -> Option<H>,
  ) -> (Position, Option<Victim>) {
    self.stats.weak_hits += 1;
    self.unlink(slot);
    let key = self.slots[slot as usize]
      .key
      .as_ref()
      .expect("a weak entry has a key");
    self.weak_index.remove(key);
    let position = self.alloc_position(slot);
    let s = &mut self.slots[slot as usize];
    s.position = position;
    if self.update_age_on_get {
      s.expires = expiry(s.ttl, now);
    }
    self.push_front(slot, Tier::Pinned);
    (position, self.enforce_max(slot, handle_for))
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
      .map(|slot| {
        self.slots[slot as usize]
          .key
          .as_ref()
          .expect("a live entry has a key")
      })
  }

  fn walk(&self, head: SlotIndex) -> impl Iterator<Item = SlotIndex> + '_ {
    std::iter::successors(Some(head).filter(|&s| s != NIL), |&s| {
      Some(self.slots[s as usize].next).filter(|&n| n != NIL)
    })
  }

  fn pinned_slot(&self, position: Position) -> SlotIndex {
    let slot = self.positions[position as usize];
    debug_assert!(
      slot != NIL && self.slots[slot as usize].tier == Tier::Pinned,
      "position {position} is not pinned"
    );
    slot
  }

  fn count_removal(&mut self, why: Removal) {
    match why {
      Removal::Delete => self.stats.deleted += 1,
      Removal::Expire => self.stats.expired += 1,
      Removal::Replace => {}
    }
  }

  /// Demotes or evicts the least recent pinned entry when there are more than `max` (one
  /// operation adds at most one). `newest` is the entry the operation just pinned.
  fn enforce_max(
    &mut self,
    newest: SlotIndex,
    handle_for: impl FnOnce(Demotion) -> Option<H>,
  ) -> Option<Victim> {
    if self.pinned.len <= self.max {
      return None;
    }
    let slot = self.pinned.tail;
    let position = self.slots[slot as usize].position;
    if self.slots[slot as usize].handle.is_none() {
      let demotion = Demotion {
        position,
        id: self.id(slot),
        is_new: slot == newest,
      };
      self.slots[slot as usize].handle = handle_for(demotion);
    }
    self.unlink(slot);
    self.release_position(slot);
    if self.slots[slot as usize].handle.is_none() {
      self.stats.evictions += 1;
      self.free_slot(slot);
      return Some(Victim {
        position,
        evicted: true,
      });
    }
    self.stats.demotions += 1;
    let key = self.slots[slot as usize]
      .key
      .clone()
      .expect("a pinned entry has a key");
    self.weak_index.insert(key, slot);
    self.push_front(slot, Tier::Weak);
    Some(Victim {
      position,
      evicted: false,
    })
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
    let key = self.slots[slot as usize]
      .key
      .as_ref()
      .expect("a weak entry has a key");
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

  /// A policy plus what the JS side knows: which positions hold objects. A demoted object's
  /// handle is its entry id, so tests can match handles and events.
  struct Cache {
    p: CachePolicy<u64>,
    object_at: Vec<bool>,
  }

  fn key(s: &str) -> CacheKey {
    CacheKey::string(&s.encode_utf16().collect::<Vec<_>>())
  }

  impl Cache {
    fn new(max: usize, update_age_on_get: bool) -> Self {
      Cache {
        p: CachePolicy::new(max, update_age_on_get),
        object_at: vec![false; max + 1],
      }
    }

    fn handle_for(
      object_at: &[bool],
      new_is_object: bool,
    ) -> impl FnOnce(Demotion) -> Option<u64> + '_ {
      move |d| {
        let object = if d.is_new {
          new_is_object
        } else {
          object_at[d.position as usize]
        };
        object.then_some(d.id)
      }
    }

    fn put_ttl(&mut self, k: &str, object: bool, ttl: f64, now: f64) -> (Position, Option<Victim>) {
      let (position, victim) =
        self
          .p
          .insert(key(k), ttl, now, Self::handle_for(&self.object_at, object));
      self.object_at[position as usize] = object;
      (position, victim)
    }

    fn put(&mut self, k: &str, object: bool) -> (Position, Option<Victim>) {
      self.put_ttl(k, object, 0.0, 0.0)
    }

    fn promote(&mut self, k: &str, now: f64) -> (Position, Option<Victim>) {
      let slot = self.p.find_weak(&key(k)).expect("a weak entry");
      let (position, victim) = self
        .p
        .promote(slot, now, Self::handle_for(&self.object_at, true));
      self.object_at[position as usize] = true;
      (position, victim)
    }

    /// The id a weak entry's handle reports.
    fn weak_id(&self, k: &str) -> u64 {
      self
        .p
        .handle(self.p.find_weak(&key(k)).expect("a weak entry"))
        .expect("a handle")
    }

    fn keys(&self) -> Vec<String> {
      self
        .p
        .keys()
        .map(|k| String::from_utf16_lossy(k.units().unwrap_or_default()))
        .collect()
    }
  }

  #[test]
  fn overflow_demotes_objects_and_evicts_primitives_least_recent_first() {
    let mut c = Cache::new(2, false);
    let (a, _) = c.put("a", true);
    c.put("b", false);
    c.p.touch(a, 0.0);
    let (_, victim) = c.put("c", true);
    assert_eq!(
      victim.map(|v| v.evicted),
      Some(true),
      "b is least recent and primitive"
    );
    let (_, victim) = c.put("d", true);
    assert_eq!(
      victim,
      Some(Victim {
        position: a,
        evicted: false
      })
    );
    assert_eq!(c.keys(), ["d", "c", "a"]);
    let s = c.p.stats();
    assert_eq!(
      (s.pinned, s.weak, s.evictions, s.demotions, s.hits, s.sets),
      (2, 1, 1, 1, 1, 4)
    );
  }

  #[test]
  fn pinned_entries_hold_no_handle_until_demoted() {
    let mut c = Cache::new(2, false);
    let mut asked = 0;
    c.p.insert(key("a"), 0.0, 0.0, |_| {
      asked += 1;
      None
    });
    c.p.insert(key("b"), 0.0, 0.0, |_| {
      asked += 1;
      None
    });
    assert_eq!(asked, 0, "no handle is made while the entries fit");
  }

  #[test]
  fn a_weak_hit_repins_and_demotes_the_least_recent() {
    let mut c = Cache::new(1, false);
    c.put("a", true);
    c.put("b", true);
    let (_, victim) = c.promote("a", 0.0);
    assert!(victim.is_some_and(|v| !v.evicted));
    assert_eq!(c.keys(), ["a", "b"]);
    assert!(c.p.find_weak(&key("a")).is_none());
    assert!(c.p.find_weak(&key("b")).is_some());
    assert_eq!(c.p.stats().weak_hits, 1);
  }

  #[test]
  fn max_zero_is_a_pure_weak_map() {
    let mut c = Cache::new(0, false);
    let (position, victim) = c.put("a", true);
    assert_eq!(
      victim,
      Some(Victim {
        position,
        evicted: false
      })
    );
    let (_, victim) = c.put("n", false);
    assert!(victim.is_some_and(|v| v.evicted));
    assert_eq!(c.keys(), ["a"]);
    let (_, victim) = c.promote("a", 0.0);
    assert!(
      victim.is_some_and(|v| !v.evicted),
      "re-pinned and at once demoted again"
    );
    assert_eq!((c.p.stats().pinned, c.p.stats().weak), (0, 1));
  }

  #[test]
  fn a_late_collection_event_never_removes_a_key_set_again() {
    let mut c = Cache::new(0, false);
    c.put("k", true);
    let first = c.weak_id("k");
    let slot = c.p.find_weak(&key("k")).unwrap();
    assert_eq!(
      c.p.remove_weak(slot, Removal::Replace),
      (key("k"), Some(first))
    );
    c.put("k", true);
    assert_eq!(
      c.p.take_collected(first),
      None,
      "the old value's event arrives late"
    );
    assert!(c.p.find_weak(&key("k")).is_some());
    assert_eq!(c.p.stats().collected, 0);
  }

  #[test]
  fn a_collection_event_removes_the_weak_entry_once() {
    let mut c = Cache::new(0, false);
    c.put("k", true);
    let id = c.weak_id("k");
    assert_eq!(c.p.take_collected(id), Some((key("k"), Some(id))));
    assert_eq!(c.p.take_collected(id), None);
    assert_eq!((c.p.stats().collected, c.p.stats().weak), (1, 0));
  }

  #[test]
  fn found_collected_disappears_at_once_and_is_delivered_by_its_id() {
    let mut c = Cache::new(0, false);
    c.put("k", true);
    let slot = c.p.find_weak(&key("k")).unwrap();
    let (handle, id) = c.p.mark_collected(slot);
    assert_eq!(handle, Some(id));
    assert!(c.p.find_weak(&key("k")).is_none());
    assert_eq!(c.p.stats().weak, 0);
    c.put("k", true); // set again before the event is delivered
    assert_eq!(c.p.take_collected(id), Some((key("k"), None)));
    assert!(
      c.p.find_weak(&key("k")).is_some(),
      "the new entry is untouched"
    );
  }

  #[test]
  fn a_new_value_gets_a_new_id_so_old_events_miss() {
    let mut c = Cache::new(1, false);
    let (position, _) = c.put("k", true);
    c.put("other", true); // demotes k: it gets a handle
    let old_id = c.weak_id("k");
    let (position_again, _) = c.promote("k", 0.0); // pinned again, other demoted
    assert_eq!(
      c.p.replace(position_again, 0.0, 0.0, false),
      Some(old_id),
      "the old value's handle goes back"
    );
    c.put("third", true); // demotes k with its new value
    assert_eq!(c.p.take_collected(old_id), None);
    assert!(c.p.find_weak(&key("k")).is_some());
    assert_ne!(c.weak_id("k"), old_id);
    let _ = position;
  }

  #[test]
  fn ttl_expiry_and_update_age_on_get() {
    let mut c = Cache::new(2, true);
    let (position, _) = c.put_ttl("k", true, 10.0, 100.0);
    c.p.touch(position, 105.0); // age reset: expires at 115
    c.put("x", true);
    c.put("y", true); // demotes k
    let slot = c.p.find_weak(&key("k")).unwrap();
    assert_eq!(c.p.timing(slot), (10.0, 115.0));
    assert!(!c.p.is_expired(slot, 114.0));
    assert!(c.p.is_expired(slot, 115.0));
    c.p.remove_weak(slot, Removal::Expire);
    assert_eq!(c.p.stats().expired, 1);
  }

  #[test]
  fn positions_are_reused_and_bounded_by_max_plus_one() {
    let mut c = Cache::new(3, false);
    for i in 0..1000 {
      let (position, _) = c.put(&format!("k{i}"), i % 2 == 0);
      assert!(position <= 3);
    }
    assert_eq!(c.p.stats().pinned, 3);
    let removed = c.p.clear_pinned();
    assert_eq!(removed.len(), 3);
    assert_eq!(c.p.stats().pinned, 0);
    assert_eq!(c.p.weak_slots().len(), c.p.stats().weak);
    assert_eq!(
      c.p.stats().weak,
      500 - 1,
      "objects demoted, minus those still pinned at the end"
    );
  }
}
