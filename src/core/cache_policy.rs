//! The policy of WeakCache: which entries are pinned and in what order, which are demoted to the
//! weak tier, when entries expire, what a collection means, and the statistics.
//!
//! Entries are *slots*, numbered densely from 0; JS keeps the keys and the pinned values by slot
//! (see cache_protocol.rs), so this side holds no key and no value: only order, tiers, timing and
//! the weak handles. Plain Rust: everything that touches a value goes through a [`Host`] (Node-API
//! in the binding, a fake in the tests), so the weak-tier rules and the collection races are
//! tested here without Node.
//!
//! Tiers: *pinned* entries (at most `max`, most recent first; JS holds their values) and *weak*
//! entries (object values pushed out of the pinned tier, held only by a weak handle; most recently
//! demoted first). A weak entry whose handle reads as collected before its finalizer's event
//! arrived is *collected*: invisible, kept only so that the event finds it. A slot's generation
//! grows whenever it gets a new entry or value, and `(generation, slot)` is the id a handle's
//! finalizer reports, so a late event never matches an entry that was set again.

use super::removal_cause::RemovalCause;

pub type SlotIndex = u32;
/// `generation << 32 | slot`: what a weak handle's finalizer reports.
pub type EntryId = u64;

const NIL: u32 = u32::MAX;
const TIER_BITS: u32 = 2;
const TIER_MASK: u32 = (1 << TIER_BITS) - 1;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tier {
  Free = 0,
  Pinned = 1,
  Weak = 2,
  /// Found collected before its finalizer's event arrived: invisible, waiting for that event.
  Collected = 3,
}

/// One entry: its links in the list of its tier (the free list for a free slot) and its tag,
/// `generation << 2 | tier`. 12 bytes: a million pinned entries cost 12 MB here.
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

  fn generation(self) -> u32 {
    self.tag >> TIER_BITS
  }

  fn set_tier(&mut self, tier: Tier) {
    self.tag = (self.tag & !TIER_MASK) | tier as u32;
  }

  /// A new generation: the entry's id changes, so events of its old handle no longer match.
  fn renew(&mut self) {
    self.tag = self.tag.wrapping_add(1 << TIER_BITS);
  }
}

/// The ttl of an entry and when it expires (infinity: never).
#[derive(Clone, Copy)]
struct Timing {
  ttl: f64,
  expires: f64,
}

const NO_TTL: Timing = Timing {
  ttl: 0.0,
  expires: f64::INFINITY,
};

/// An intrusive doubly linked list of slots, most recent first.
#[derive(Clone, Copy)]
struct List {
  head: SlotIndex,
  tail: SlotIndex,
  len: usize,
}

const EMPTY: List = List {
  head: NIL,
  tail: NIL,
  len: 0,
};

/// A pinned entry without a weak handle is being pushed out; the host makes a handle for its
/// value, or says it cannot (a primitive), and then the entry is evicted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Demotion {
  pub slot: SlotIndex,
  /// The id the handle's finalizer must report.
  pub id: EntryId,
  /// True when the entry is the one being inserted (only with `max` 0): JS does not hold its value
  /// yet, the host got it with the call.
  pub is_new: bool,
}

/// Where the policy meets values: weak handles, the GC's reports and the published deadlines.
pub trait Host {
  type Handle: Copy;
  type Value;
  /// A weak handle to the value of the demoted entry (see [`Demotion`]); None when the value
  /// cannot be held weakly, or the handle cannot be made: the entry is evicted then.
  fn watch(&mut self, demotion: Demotion) -> Option<Self::Handle>;
  /// The value behind a handle; None once the GC has taken it.
  fn read(&mut self, handle: Self::Handle) -> Option<Self::Value>;
  /// Deletes a handle that left the policy. Deleting cancels its finalizer.
  fn release(&mut self, handle: Self::Handle);
  /// Reports the collection of entry `id` found by a read: its finalizer was cancelled by the
  /// release, so this report takes its place (and reaches [`CachePolicy::take_collected`]).
  fn report_collected(&mut self, id: EntryId);
  /// Tells JS when the pinned entry in `slot` expires, so that a pinned hit before that time
  /// needs no call.
  fn publish_deadline(&mut self, slot: SlotIndex, deadline: f64);
}

/// What happened to an entry pushed out of the pinned tier.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fate {
  /// Moved to the weak tier (JS lets go of its value).
  Demoted,
  /// Left the cache (`Evict` for a primitive value).
  Removed(RemovalCause),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PushedOut {
  pub slot: SlotIndex,
  pub fate: Fate,
}

/// The answer to a lookup of an entry.
#[derive(Debug, PartialEq, Eq)]
pub enum Lookup<V> {
  /// Live. For a weak entry, its value (JS holds pinned ones).
  Live(Option<V>),
  /// Past its ttl (a get removed it: the weak value comes with it for `dispose`).
  Expired(Option<V>),
  /// The GC took the value: the entry is gone, and its `'collect'` follows through
  /// `take_collected`.
  Collected,
}

/// The answer to a removal.
#[derive(Debug, PartialEq, Eq)]
pub enum Removed<V> {
  Pinned,
  Weak(V),
  /// The GC had taken the value: nothing was removed, and the `'collect'` follows.
  Collected,
}

/// A slot number that does not name a live entry of the expected tier: a bug on the JS side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotAnEntry(pub SlotIndex);

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Stats {
  pub hits: u64,
  pub weak_hits: u64,
  pub misses: u64,
  pub sets: u64,
  pub demotions: u64,
  /// Removals by cause (`RemovalCause as usize`).
  pub removals: [u64; 5],
  pub pinned: usize,
  pub weak: usize,
}

impl Stats {
  /// The figures `stats()` reports, named and ordered as JS shows them.
  pub fn named(&self) -> [(&'static str, f64); 11] {
    let removed = |cause: RemovalCause| self.removals[cause as usize] as f64;
    [
      ("hits", self.hits as f64),
      ("weakHits", self.weak_hits as f64),
      ("misses", self.misses as f64),
      ("sets", self.sets as f64),
      (stat(RemovalCause::Evict), removed(RemovalCause::Evict)),
      ("demotions", self.demotions as f64),
      (stat(RemovalCause::Collect), removed(RemovalCause::Collect)),
      (stat(RemovalCause::Expire), removed(RemovalCause::Expire)),
      (stat(RemovalCause::Delete), removed(RemovalCause::Delete)),
      ("pinned", self.pinned as f64),
      ("weak", self.weak as f64),
    ]
  }
}

fn stat(cause: RemovalCause) -> &'static str {
  cause.stat_name().unwrap_or("")
}

/// `now + ttl`, or never when the entry has no ttl.
fn expiry(ttl: f64, now: f64) -> f64 {
  if ttl > 0.0 {
    now + ttl
  } else {
    f64::INFINITY
  }
}

pub struct CachePolicy<H> {
  max: usize,
  update_age_on_get: bool,
  slots: Vec<Slot>,
  /// Free slots, linked through `next`.
  free: SlotIndex,
  /// Weak handles by slot; allocated at the first demotion (a cache that never overflows has none).
  handles: Vec<Option<H>>,
  /// Timing by slot; allocated when the first entry with a ttl arrives.
  timing: Option<Vec<Timing>>,
  pinned: List,
  weak: List,
  /// Entries the current operation pushed out of the pinned tier.
  pushed: Vec<PushedOut>,
  stats: Stats,
}

impl<H: Copy> CachePolicy<H> {
  pub fn new(max: usize, update_age_on_get: bool) -> Self {
    CachePolicy {
      max,
      update_age_on_get,
      slots: Vec::new(),
      free: NIL,
      handles: Vec::new(),
      timing: None,
      pinned: EMPTY,
      weak: EMPTY,
      pushed: Vec::new(),
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

  /// The slot the next insert will use.
  pub fn next_slot(&self) -> SlotIndex {
    if self.free != NIL {
      self.free
    } else {
      self.slots.len() as SlotIndex
    }
  }

  pub fn tier(&self, slot: SlotIndex) -> Option<Tier> {
    self.slots.get(slot as usize).map(|s| s.tier())
  }

  /// The least recent pinned entry: the next one to be pushed out.
  pub fn tail(&self) -> Option<SlotIndex> {
    Some(self.pinned.tail).filter(|&slot| slot != NIL)
  }

  /// The entries the last insert or get pushed out of the pinned tier.
  pub fn pushed_out(&self) -> &[PushedOut] {
    &self.pushed
  }

  /// Turns on ttl bookkeeping (before the first entry with a ttl). Existing entries never expire.
  pub fn start_timing(&mut self) {
    if self.timing.is_none() {
      self.timing = Some(vec![NO_TTL; self.slots.len()]);
    }
  }

  /// The deadline of every slot (infinity for entries without a ttl), for a fresh copy in JS.
  pub fn deadlines(&self) -> impl Iterator<Item = (SlotIndex, f64)> + '_ {
    self
      .timing
      .iter()
      .flatten()
      .enumerate()
      .map(|(slot, t)| (slot as SlotIndex, t.expires))
  }

  /// Adds a pinned entry as the most recent one and pushes out the least recent if there are more
  /// than `max`. Returns its slot.
  pub fn insert(&mut self, ttl: f64, now: f64, host: &mut impl Host<Handle = H>) -> SlotIndex {
    self.pushed.clear();
    let slot = self.alloc_slot();
    self.set_timing(slot, ttl, now, host);
    self.link_front(slot, Tier::Pinned);
    self.stats.sets += 1;
    self.enforce_max(slot, host);
    slot
  }

  /// A new value (`changed`) or only a new ttl for the pinned entry in `slot`, which becomes the
  /// most recent.
  pub fn replace(
    &mut self,
    slot: SlotIndex,
    ttl: f64,
    now: f64,
    changed: bool,
    host: &mut impl Host<Handle = H>,
  ) -> Result<(), NotAnEntry> {
    self.expect_tier(slot, &[Tier::Pinned])?;
    if changed {
      if let Some(handle) = self.take_handle(slot) {
        host.release(handle);
      }
      self.slots[slot as usize].renew();
    }
    self.set_timing(slot, ttl, now, host);
    self.unlink(slot);
    self.link_front(slot, Tier::Pinned);
    self.stats.sets += 1;
    Ok(())
  }

  /// A read JS logged for a pinned entry (at time `at`): it becomes the most recent, and with
  /// `updateAgeOnGet` its age restarts. Anything but a pinned slot is ignored.
  pub fn touch(&mut self, slot: SlotIndex, at: f64, host: &mut impl Host<Handle = H>) {
    if self.tier(slot) != Some(Tier::Pinned) {
      return;
    }
    self.stats.hits += 1;
    self.unlink(slot);
    self.link_front(slot, Tier::Pinned);
    self.restart_age(slot, at, host);
  }

  /// A miss JS found in its own index.
  pub fn record_miss(&mut self) {
    self.stats.misses += 1;
  }

  /// `get`: a live pinned entry becomes the most recent; a live weak entry is pinned again (a
  /// weak hit) and may push out the least recent pinned one; an expired entry is removed; an
  /// entry whose value the GC took is marked collected.
  pub fn get<X: Host<Handle = H>>(
    &mut self,
    slot: SlotIndex,
    now: f64,
    host: &mut X,
  ) -> Result<Lookup<X::Value>, NotAnEntry> {
    self.pushed.clear();
    match self.expect_tier(slot, &[Tier::Pinned, Tier::Weak])? {
      Tier::Pinned if self.is_expired(slot, now) => {
        self.remove_entry(slot, RemovalCause::Expire, host);
        self.stats.misses += 1;
        Ok(Lookup::Expired(None))
      }
      Tier::Pinned => {
        self.touch(slot, now, host);
        Ok(Lookup::Live(None))
      }
      _ => match self.read_weak(slot, host) {
        None => {
          self.stats.misses += 1;
          Ok(Lookup::Collected)
        }
        Some(value) if self.is_expired(slot, now) => {
          self.remove_entry(slot, RemovalCause::Expire, host);
          self.stats.misses += 1;
          Ok(Lookup::Expired(Some(value)))
        }
        Some(value) => {
          self.promote(slot, now, host);
          Ok(Lookup::Live(Some(value)))
        }
      },
    }
  }

  /// `peek` and `has`: like `get`, but nothing moves and nothing expired is removed. A weak entry
  /// whose value the GC took is still marked collected (it is gone either way).
  pub fn peek<X: Host<Handle = H>>(
    &mut self,
    slot: SlotIndex,
    now: f64,
    host: &mut X,
  ) -> Result<Lookup<X::Value>, NotAnEntry> {
    let tier = self.expect_tier(slot, &[Tier::Pinned, Tier::Weak])?;
    let value = match tier {
      Tier::Pinned => None,
      _ => match self.read_weak(slot, host) {
        None => return Ok(Lookup::Collected),
        value => value,
      },
    };
    Ok(if self.is_expired(slot, now) {
      Lookup::Expired(None)
    } else {
      Lookup::Live(value)
    })
  }

  /// `delete` (cause Delete) and `set` over a weak entry (cause Set): removes the entry. A weak
  /// entry whose value the GC took is marked collected instead.
  pub fn remove<X: Host<Handle = H>>(
    &mut self,
    slot: SlotIndex,
    cause: RemovalCause,
    host: &mut X,
  ) -> Result<Removed<X::Value>, NotAnEntry> {
    match self.expect_tier(slot, &[Tier::Pinned, Tier::Weak])? {
      Tier::Pinned => {
        self.remove_entry(slot, cause, host);
        Ok(Removed::Pinned)
      }
      _ => match self.read_weak(slot, host) {
        None => Ok(Removed::Collected),
        Some(value) => {
          self.remove_entry(slot, cause, host);
          Ok(Removed::Weak(value))
        }
      },
    }
  }

  /// Removes every entry (cause Delete). Returns the weak entries whose values were alive, most
  /// recently demoted first; weak entries whose values the GC took are marked collected.
  pub fn clear<X: Host<Handle = H>>(&mut self, host: &mut X) -> Vec<(SlotIndex, X::Value)> {
    while self.pinned.head != NIL {
      self.remove_entry(self.pinned.head, RemovalCause::Delete, host);
    }
    let mut alive = Vec::new();
    for slot in self.walk(self.weak.head).collect::<Vec<_>>() {
      if let Some(value) = self.read_weak(slot, host) {
        self.remove_entry(slot, RemovalCause::Delete, host);
        alive.push((slot, value));
      }
    }
    alive
  }

  /// Collection events (ids reported by finalizers or by `report_collected`): each one that still
  /// names a weak or collected entry frees it. Returns the freed slots, whose keys JS reports with
  /// `'collect'`. Late events (the entry was removed, set again or pinned again) change nothing.
  pub fn take_collected(
    &mut self,
    ids: impl IntoIterator<Item = EntryId>,
    host: &mut impl Host<Handle = H>,
  ) -> Vec<SlotIndex> {
    let mut freed = Vec::new();
    for id in ids {
      let slot = id as SlotIndex;
      let Some(&entry) = self.slots.get(slot as usize) else {
        continue;
      };
      if u64::from(entry.generation()) != id >> 32 {
        continue;
      }
      match entry.tier() {
        Tier::Weak => {
          self.unlink(slot);
          if let Some(handle) = self.take_handle(slot) {
            host.release(handle);
          }
        }
        Tier::Collected => {}
        Tier::Pinned | Tier::Free => continue,
      }
      self.free_slot(slot);
      self.stats.removals[RemovalCause::Collect as usize] += 1;
      freed.push(slot);
    }
    freed
  }

  /// Live entries: pinned ones most recent first, then weak ones most recently demoted first.
  pub fn order(&self) -> impl Iterator<Item = SlotIndex> + '_ {
    self.walk(self.pinned.head).chain(self.walk(self.weak.head))
  }

  /// Every weak handle still held, for teardown (which must not rely on any other invariant).
  pub fn drain_handles(&mut self) -> impl Iterator<Item = H> + '_ {
    self.handles.drain(..).flatten()
  }

  fn expect_tier(&self, slot: SlotIndex, allowed: &[Tier]) -> Result<Tier, NotAnEntry> {
    match self.tier(slot) {
      Some(tier) if allowed.contains(&tier) => Ok(tier),
      _ => Err(NotAnEntry(slot)),
    }
  }

  fn id(&self, slot: SlotIndex) -> EntryId {
    (u64::from(self.slots[slot as usize].generation()) << 32) | u64::from(slot)
  }

  fn handle(&self, slot: SlotIndex) -> Option<H> {
    self.handles.get(slot as usize).copied().flatten()
  }

  fn take_handle(&mut self, slot: SlotIndex) -> Option<H> {
    self.handles.get_mut(slot as usize).and_then(Option::take)
  }

  fn set_handle(&mut self, slot: SlotIndex, handle: H) {
    if self.handles.len() <= slot as usize {
      self.handles.resize(self.slots.len(), None);
    }
    self.handles[slot as usize] = Some(handle);
  }

  fn is_expired(&self, slot: SlotIndex, now: f64) -> bool {
    self
      .timing
      .as_ref()
      .is_some_and(|timing| timing[slot as usize].expires <= now)
  }

  fn set_timing(&mut self, slot: SlotIndex, ttl: f64, now: f64, host: &mut impl Host<Handle = H>) {
    if ttl > 0.0 {
      self.start_timing();
    }
    if let Some(timing) = self.timing.as_mut() {
      let expires = expiry(ttl, now);
      timing[slot as usize] = Timing { ttl, expires };
      host.publish_deadline(slot, expires);
    }
  }

  fn restart_age(&mut self, slot: SlotIndex, now: f64, host: &mut impl Host<Handle = H>) {
    if !self.update_age_on_get {
      return;
    }
    if let Some(timing) = self.timing.as_mut() {
      let t = &mut timing[slot as usize];
      if t.ttl > 0.0 {
        t.expires = expiry(t.ttl, now);
        host.publish_deadline(slot, t.expires);
      }
    }
  }

  /// Reads a weak entry's value. If the GC took it, the entry becomes collected now: its handle is
  /// released (which cancels the finalizer that would have reported it) and the collection is
  /// reported in the finalizer's place.
  fn read_weak<X: Host<Handle = H>>(&mut self, slot: SlotIndex, host: &mut X) -> Option<X::Value> {
    if let Some(value) = self.handle(slot).and_then(|handle| host.read(handle)) {
      return Some(value);
    }
    self.unlink(slot);
    self.slots[slot as usize].set_tier(Tier::Collected);
    if let Some(handle) = self.take_handle(slot) {
      host.release(handle);
    }
    host.report_collected(self.id(slot));
    None
  }

  /// A weak hit: the entry is pinned again as the most recent. It keeps its handle, ready for its
  /// next demotion.
  fn promote(&mut self, slot: SlotIndex, now: f64, host: &mut impl Host<Handle = H>) {
    self.stats.weak_hits += 1;
    self.unlink(slot);
    self.link_front(slot, Tier::Pinned);
    self.restart_age(slot, now, host);
    self.enforce_max(slot, host);
  }

  /// Pushes the least recent pinned entries out while there are more than `max`: an entry whose
  /// value can be held weakly is demoted, any other is evicted. `newest` is the entry the
  /// operation just pinned.
  fn enforce_max(&mut self, newest: SlotIndex, host: &mut impl Host<Handle = H>) {
    while self.pinned.len > self.max {
      let slot = self.pinned.tail;
      if self.handle(slot).is_none() {
        let demotion = Demotion {
          slot,
          id: self.id(slot),
          is_new: slot == newest,
        };
        if let Some(handle) = host.watch(demotion) {
          self.set_handle(slot, handle);
        }
      }
      if self.handle(slot).is_some() {
        self.unlink(slot);
        self.link_front(slot, Tier::Weak);
        self.stats.demotions += 1;
        self.pushed.push(PushedOut {
          slot,
          fate: Fate::Demoted,
        });
      } else {
        self.remove_entry(slot, RemovalCause::Evict, host);
        self.pushed.push(PushedOut {
          slot,
          fate: Fate::Removed(RemovalCause::Evict),
        });
      }
    }
  }

  /// Unlinks and frees a pinned or weak entry, releasing its handle, and counts the removal.
  fn remove_entry(
    &mut self,
    slot: SlotIndex,
    cause: RemovalCause,
    host: &mut impl Host<Handle = H>,
  ) {
    self.unlink(slot);
    if let Some(handle) = self.take_handle(slot) {
      host.release(handle);
    }
    self.free_slot(slot);
    self.stats.removals[cause as usize] += 1;
  }

  fn alloc_slot(&mut self) -> SlotIndex {
    let slot = if self.free != NIL {
      let slot = self.free;
      self.free = self.slots[slot as usize].next;
      slot
    } else {
      self.slots.push(Slot {
        prev: NIL,
        next: NIL,
        tag: Tier::Free as u32,
      });
      if let Some(timing) = self.timing.as_mut() {
        timing.push(NO_TTL);
      }
      (self.slots.len() - 1) as SlotIndex
    };
    self.slots[slot as usize].renew();
    slot
  }

  fn free_slot(&mut self, slot: SlotIndex) {
    let s = &mut self.slots[slot as usize];
    s.renew();
    s.set_tier(Tier::Free);
    s.prev = NIL;
    s.next = self.free;
    self.free = slot;
  }

  fn list(&mut self, tier: Tier) -> &mut List {
    match tier {
      Tier::Pinned => &mut self.pinned,
      _ => &mut self.weak,
    }
  }

  fn link_front(&mut self, slot: SlotIndex, tier: Tier) {
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

  /// Takes a pinned or weak entry out of its list.
  fn unlink(&mut self, slot: SlotIndex) {
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
  }

  fn walk(&self, head: SlotIndex) -> impl Iterator<Item = SlotIndex> + '_ {
    std::iter::successors(Some(head).filter(|&s| s != NIL), |&s| {
      Some(self.slots[s as usize].next).filter(|&n| n != NIL)
    })
  }
}

#[cfg(test)]
mod tests {
  use super::*;
  use std::collections::{HashMap, HashSet};

  /// A value as the fake JS side holds it: an object (can be held weakly, can be collected) or a
  /// primitive.
  #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
  enum Value {
    Object(u32),
    Primitive(u32),
  }
  use Value::{Object, Primitive};

  /// The host of the tests: JS's values by slot, weak handles that are plain numbers, a GC that
  /// kills objects, and the queue that finalizers (and `report_collected`) feed.
  #[derive(Default)]
  struct Fake {
    pinned_values: HashMap<SlotIndex, Value>,
    inserting: Option<Value>,
    handles: HashMap<u32, (Value, EntryId)>,
    next_handle: u32,
    watched: usize,
    dead: HashSet<Value>,
    finalized: HashSet<u32>,
    events: Vec<EntryId>,
    deadlines: HashMap<SlotIndex, f64>,
  }

  impl Host for Fake {
    type Handle = u32;
    type Value = Value;

    fn watch(&mut self, demotion: Demotion) -> Option<u32> {
      let value = if demotion.is_new {
        self.inserting?
      } else {
        *self.pinned_values.get(&demotion.slot)?
      };
      if let Primitive(_) = value {
        return None;
      }
      self.watched += 1;
      self.next_handle += 1;
      self.handles.insert(self.next_handle, (value, demotion.id));
      Some(self.next_handle)
    }

    fn read(&mut self, handle: u32) -> Option<Value> {
      let (value, _) = self.handles[&handle];
      (!self.dead.contains(&value)).then_some(value)
    }

    fn release(&mut self, handle: u32) {
      assert!(
        self.handles.remove(&handle).is_some(),
        "handle {handle} released twice"
      );
    }

    fn report_collected(&mut self, id: EntryId) {
      self.events.push(id);
    }

    fn publish_deadline(&mut self, slot: SlotIndex, deadline: f64) {
      self.deadlines.insert(slot, deadline);
    }
  }

  impl Fake {
    /// The GC takes `value` (nobody else holds it).
    fn collect(&mut self, value: Value) {
      self.dead.insert(value);
    }

    /// Deferred finalizers run: each handle still held whose value is dead queues its id once. A
    /// released handle's finalizer was cancelled.
    fn run_finalizers(&mut self) {
      let mut due: Vec<_> = self
        .handles
        .iter()
        .filter(|(h, (v, _))| self.dead.contains(v) && !self.finalized.contains(h))
        .map(|(h, (_, id))| (*h, *id))
        .collect();
      due.sort();
      for (handle, id) in due {
        self.finalized.insert(handle);
        self.events.push(id);
      }
    }

    fn take_events(&mut self) -> Vec<EntryId> {
      std::mem::take(&mut self.events)
    }
  }

  /// A policy plus the fake host, with the bookkeeping JS does after each call.
  struct Cache {
    p: CachePolicy<u32>,
    host: Fake,
  }

  impl Cache {
    fn new(max: usize) -> Self {
      Cache {
        p: CachePolicy::new(max, false),
        host: Fake::default(),
      }
    }

    fn with_age_on_get(max: usize) -> Self {
      Cache {
        p: CachePolicy::new(max, true),
        host: Fake::default(),
      }
    }

    /// As JS does after a call: a demoted or removed entry's value is no longer held by slot.
    fn settle(&mut self) -> Vec<PushedOut> {
      let pushed = self.p.pushed_out().to_vec();
      for out in &pushed {
        self.host.pinned_values.remove(&out.slot);
      }
      pushed
    }

    fn insert_ttl(&mut self, value: Value, ttl: f64, now: f64) -> (SlotIndex, Vec<PushedOut>) {
      self.host.inserting = Some(value);
      let slot = self.p.insert(ttl, now, &mut self.host);
      self.host.inserting = None;
      self.host.pinned_values.insert(slot, value);
      (slot, self.settle())
    }

    fn insert(&mut self, value: Value) -> (SlotIndex, Vec<PushedOut>) {
      self.insert_ttl(value, 0.0, 0.0)
    }

    fn get_at(&mut self, slot: SlotIndex, now: f64) -> Lookup<Value> {
      let lookup = self.p.get(slot, now, &mut self.host).expect("an entry");
      if let Lookup::Live(Some(value)) = lookup {
        self.host.pinned_values.insert(slot, value);
      }
      self.settle();
      lookup
    }

    fn get(&mut self, slot: SlotIndex) -> Lookup<Value> {
      self.get_at(slot, 0.0)
    }

    fn order(&self) -> Vec<SlotIndex> {
      self.p.order().collect()
    }

    fn tier(&self, slot: SlotIndex) -> Tier {
      self.p.tier(slot).unwrap()
    }

    fn collect_events(&mut self) -> Vec<SlotIndex> {
      let events = self.host.take_events();
      self.p.take_collected(events, &mut self.host)
    }
  }

  fn demoted(slot: SlotIndex) -> PushedOut {
    PushedOut {
      slot,
      fate: Fate::Demoted,
    }
  }

  fn evicted(slot: SlotIndex) -> PushedOut {
    PushedOut {
      slot,
      fate: Fate::Removed(RemovalCause::Evict),
    }
  }

  #[test]
  fn overflow_demotes_objects_and_evicts_primitives_least_recent_first() {
    let mut c = Cache::new(2);
    let (a, _) = c.insert(Object(1));
    let (b, _) = c.insert(Primitive(2));
    c.p.touch(a, 0.0, &mut c.host);
    let (x, pushed) = c.insert(Object(3));
    assert_eq!(pushed, [evicted(b)], "b is least recent and a primitive");
    let (y, pushed) = c.insert(Object(4));
    assert_eq!(pushed, [demoted(a)]);
    assert_eq!(c.order(), [y, x, a]);
    assert_eq!(c.p.tail(), Some(x), "the next to be pushed out");
    assert_eq!(c.tier(a), Tier::Weak);
    let s = c.p.stats();
    assert_eq!(
      (s.pinned, s.weak, s.demotions, s.hits, s.sets),
      (2, 1, 1, 1, 4)
    );
    assert_eq!(s.removals[RemovalCause::Evict as usize], 1);
  }

  #[test]
  fn a_cache_that_fits_makes_no_handle_and_allocates_no_handle_table() {
    let mut c = Cache::new(3);
    for i in 0..3 {
      c.insert(Object(i));
    }
    assert_eq!(c.host.watched, 0);
    assert!(c.p.handles.is_empty());
    assert!(c.p.timing.is_none(), "no ttl, no timing table");
    assert_eq!(std::mem::size_of::<Slot>(), 12);
  }

  #[test]
  fn a_weak_hit_repins_and_keeps_its_handle_for_the_next_demotion() {
    let mut c = Cache::new(1);
    let (a, _) = c.insert(Object(1));
    let (b, _) = c.insert(Object(2));
    assert_eq!(c.host.watched, 1);
    assert_eq!(c.get(a), Lookup::Live(Some(Object(1))));
    assert_eq!((c.tier(a), c.tier(b)), (Tier::Pinned, Tier::Weak));
    assert_eq!(c.p.pushed_out(), [demoted(b)]);
    assert_eq!(
      c.get(b),
      Lookup::Live(Some(Object(2))),
      "a is demoted again"
    );
    assert_eq!(
      c.host.watched, 2,
      "a kept its handle: only b needed one, once"
    );
    assert_eq!(c.p.stats().weak_hits, 2);
    assert_eq!(c.order(), [b, a]);
  }

  #[test]
  fn max_zero_is_a_pure_weak_map() {
    let mut c = Cache::new(0);
    let (a, pushed) = c.insert(Object(1));
    assert_eq!(
      pushed,
      [demoted(a)],
      "the new entry itself is demoted, from the value passed in"
    );
    let (n, pushed) = c.insert(Primitive(2));
    assert_eq!(pushed, [evicted(n)]);
    assert_eq!(c.p.tail(), None, "nothing is pinned");
    assert_eq!(c.tier(n), Tier::Free);
    assert_eq!(c.get(a), Lookup::Live(Some(Object(1))));
    assert_eq!(
      c.p.pushed_out(),
      [demoted(a)],
      "re-pinned and at once demoted again"
    );
    let s = c.p.stats();
    assert_eq!((s.pinned, s.weak, s.weak_hits), (0, 1, 1));
  }

  #[test]
  fn a_finalizer_event_frees_an_unnoticed_weak_entry_once() {
    let mut c = Cache::new(0);
    let (a, _) = c.insert(Object(1));
    c.host.collect(Object(1));
    c.host.run_finalizers();
    let events = c.host.events.clone();
    assert_eq!(c.collect_events(), [a]);
    assert!(c.host.handles.is_empty(), "its handle was deleted");
    assert_eq!(
      c.p.take_collected(events, &mut c.host),
      [] as [SlotIndex; 0],
      "a repeated event changes nothing"
    );
    let s = c.p.stats();
    assert_eq!((s.weak, s.removals[RemovalCause::Collect as usize]), (0, 1));
  }

  #[test]
  fn race_found_collected_before_the_finalizer_ran() {
    let mut c = Cache::new(0);
    let (a, _) = c.insert(Object(1));
    c.host.collect(Object(1)); // GC done; the deferred finalizer has not run
    assert_eq!(c.get(a), Lookup::Collected);
    assert_eq!(c.tier(a), Tier::Collected);
    assert_eq!(c.p.stats().weak, 0, "gone at once");
    assert_eq!(c.p.stats().misses, 1);
    c.host.run_finalizers();
    assert_eq!(
      c.host.events.len(),
      1,
      "the release cancelled the finalizer; the report replaces it"
    );
    let (b, _) = c.insert(Object(2)); // the key is set again before the event is delivered
    assert_ne!(a, b, "a collected slot is not reused before its event");
    assert_eq!(c.collect_events(), [a]);
    assert_eq!(c.tier(b), Tier::Weak, "the new entry is untouched");
  }

  #[test]
  fn race_the_finalizer_ran_then_the_entry_was_read_before_delivery() {
    let mut c = Cache::new(0);
    let (a, _) = c.insert(Object(1));
    c.host.collect(Object(1));
    c.host.run_finalizers(); // queued, not delivered
    assert_eq!(c.get(a), Lookup::Collected); // reports the id a second time
    assert_eq!(c.host.events.len(), 2);
    assert_eq!(c.collect_events(), [a], "delivered once");
    assert_eq!(c.p.stats().removals[RemovalCause::Collect as usize], 1);
  }

  #[test]
  fn race_a_late_event_never_frees_a_reused_slot() {
    let mut c = Cache::new(0);
    let (a, _) = c.insert(Object(1));
    let stale = c.p.id(a);
    assert_eq!(
      c.p.remove(a, RemovalCause::Delete, &mut c.host),
      Ok(Removed::Weak(Object(1)))
    );
    let (b, _) = c.insert(Object(2));
    assert_eq!(a, b, "the slot is reused");
    assert_eq!(
      c.p.take_collected([stale], &mut c.host),
      [] as [SlotIndex; 0]
    );
    assert_eq!(c.tier(b), Tier::Weak);
  }

  #[test]
  fn race_an_event_for_an_entry_pinned_again_is_ignored() {
    let mut c = Cache::new(1);
    let (a, _) = c.insert(Object(1));
    c.insert(Object(2)); // a is demoted: it has a handle and an id
    let id = c.p.id(a);
    assert_eq!(c.get(a), Lookup::Live(Some(Object(1)))); // pinned again, same id
    assert_eq!(c.p.take_collected([id], &mut c.host), [] as [SlotIndex; 0]);
    assert_eq!(c.tier(a), Tier::Pinned);
  }

  #[test]
  fn a_new_value_gets_a_new_id_so_events_of_the_old_one_miss() {
    let mut c = Cache::new(1);
    let (a, _) = c.insert(Object(1));
    c.insert(Object(2));
    c.get(a); // pinned again, with its handle
    let old = c.p.id(a);
    c.p.replace(a, 0.0, 0.0, true, &mut c.host).unwrap();
    c.host.pinned_values.insert(a, Object(3));
    assert_eq!(
      c.host.handles.len(),
      1,
      "the old value's handle was deleted"
    );
    c.insert(Object(4)); // demotes a with its new value
    assert_eq!(c.p.take_collected([old], &mut c.host), [] as [SlotIndex; 0]);
    assert_eq!(c.tier(a), Tier::Weak);
    assert_ne!(c.p.id(a), old);
  }

  #[test]
  fn ttl_expiry_update_age_on_get_and_published_deadlines() {
    let mut c = Cache::with_age_on_get(2);
    let (k, _) = c.insert_ttl(Object(1), 10.0, 100.0);
    assert_eq!(c.host.deadlines[&k], 110.0);
    c.p.touch(k, 105.0, &mut c.host); // a logged read at 105 restarts the age
    assert_eq!(c.host.deadlines[&k], 115.0);
    let (x, _) = c.insert(Object(2));
    assert_eq!(c.host.deadlines[&x], f64::INFINITY, "no ttl: never");
    c.insert(Object(3)); // demotes k
    assert_eq!(
      c.p.peek(k, 114.0, &mut c.host),
      Ok(Lookup::Live(Some(Object(1))))
    );
    assert_eq!(c.p.peek(k, 115.0, &mut c.host), Ok(Lookup::Expired(None)));
    assert_eq!(c.tier(k), Tier::Weak, "peek removes nothing");
    assert_eq!(c.get_at(k, 115.0), Lookup::Expired(Some(Object(1))));
    assert_eq!(c.tier(k), Tier::Free);
    let s = c.p.stats();
    assert_eq!(
      (s.removals[RemovalCause::Expire as usize], s.misses),
      (1, 1)
    );
  }

  #[test]
  fn a_pinned_entry_past_its_published_deadline_expires_on_get() {
    let mut c = Cache::new(2);
    let (k, _) = c.insert_ttl(Primitive(1), 10.0, 0.0);
    assert_eq!(c.get_at(k, 9.0), Lookup::Live(None));
    assert_eq!(c.get_at(k, 10.0), Lookup::Expired(None));
    assert_eq!(c.tier(k), Tier::Free);
  }

  #[test]
  fn a_weak_hit_restarts_the_age_with_update_age_on_get() {
    let mut c = Cache::with_age_on_get(1);
    let (k, _) = c.insert_ttl(Object(1), 10.0, 0.0);
    c.insert(Object(2));
    assert_eq!(c.get_at(k, 8.0), Lookup::Live(Some(Object(1))));
    assert_eq!(c.host.deadlines[&k], 18.0);
  }

  #[test]
  fn peek_moves_nothing_but_still_notices_a_collection() {
    let mut c = Cache::new(1);
    let (a, _) = c.insert(Object(1));
    let (b, _) = c.insert(Object(2));
    assert_eq!(
      c.p.peek(a, 0.0, &mut c.host),
      Ok(Lookup::Live(Some(Object(1))))
    );
    assert_eq!(c.order(), [b, a]);
    c.host.collect(Object(1));
    assert_eq!(c.p.peek(a, 0.0, &mut c.host), Ok(Lookup::Collected));
    assert_eq!(c.order(), [b]);
    assert_eq!(c.p.stats().misses, 0, "peek counts nothing");
  }

  #[test]
  fn remove_pinned_weak_and_collected() {
    let mut c = Cache::new(1);
    let (a, _) = c.insert(Object(1));
    let (b, _) = c.insert(Object(2));
    let (d, _) = c.insert(Object(3));
    assert_eq!(
      c.p.remove(d, RemovalCause::Delete, &mut c.host),
      Ok(Removed::Pinned)
    );
    assert_eq!(
      c.p.remove(b, RemovalCause::Set, &mut c.host),
      Ok(Removed::Weak(Object(2)))
    );
    c.host.collect(Object(1));
    assert_eq!(
      c.p.remove(a, RemovalCause::Delete, &mut c.host),
      Ok(Removed::Collected)
    );
    assert_eq!(c.tier(a), Tier::Collected);
    assert_eq!(
      c.p.remove(d, RemovalCause::Delete, &mut c.host),
      Err(NotAnEntry(d))
    );
    let s = c.p.stats();
    assert_eq!(s.removals[RemovalCause::Delete as usize], 1);
    assert_eq!(s.removals[RemovalCause::Set as usize], 1);
    assert!(c.host.handles.is_empty());
  }

  #[test]
  fn clear_removes_everything_live_and_leaves_collected_entries_to_their_events() {
    let mut c = Cache::new(1);
    let (a, _) = c.insert(Object(1));
    let (b, _) = c.insert(Object(2));
    let (d, _) = c.insert(Object(3));
    c.host.collect(Object(1));
    assert_eq!(
      c.p.clear(&mut c.host),
      [(b, Object(2))],
      "live weak values, for dispose"
    );
    assert_eq!(
      (c.tier(d), c.tier(b), c.tier(a)),
      (Tier::Free, Tier::Free, Tier::Collected)
    );
    assert_eq!(c.order(), [] as [SlotIndex; 0]);
    assert_eq!(c.collect_events(), [a]);
    let s = c.p.stats();
    assert_eq!(
      (s.pinned, s.weak, s.removals[RemovalCause::Delete as usize]),
      (0, 0, 2)
    );
    assert!(c.host.handles.is_empty());
  }

  #[test]
  fn slots_are_reused_so_the_slab_stays_as_large_as_the_live_entries() {
    let mut c = Cache::new(3);
    for i in 0..1000 {
      let value = if i % 2 == 0 { Object(i) } else { Primitive(i) };
      c.insert(value);
      if i % 2 == 0 && i >= 100 {
        c.host.collect(Object(i - 100)); // demoted values die later
        c.host.run_finalizers();
        c.collect_events();
      }
    }
    assert!(c.p.slots.len() < 60, "{} slots", c.p.slots.len());
    assert_eq!(c.p.stats().pinned, 3);
  }

  #[test]
  fn slot_numbers_of_free_or_unknown_entries_are_refused() {
    let mut c = Cache::new(1);
    let (a, _) = c.insert(Primitive(1));
    c.p.remove(a, RemovalCause::Delete, &mut c.host).unwrap();
    assert_eq!(c.p.get(a, 0.0, &mut c.host), Err(NotAnEntry(a)));
    assert_eq!(c.p.peek(99, 0.0, &mut c.host), Err(NotAnEntry(99)));
    assert_eq!(
      c.p.replace(a, 0.0, 0.0, true, &mut c.host),
      Err(NotAnEntry(a))
    );
    c.p.touch(a, 0.0, &mut c.host); // a stale logged read is ignored
    assert_eq!(c.p.stats().hits, 0);
  }

  #[test]
  fn stats_are_named_in_the_order_js_shows_them() {
    let names: Vec<_> = Stats::default().named().iter().map(|(n, _)| *n).collect();
    assert_eq!(
      names,
      [
        "hits",
        "weakHits",
        "misses",
        "sets",
        "evictions",
        "demotions",
        "collected",
        "expired",
        "deleted",
        "pinned",
        "weak"
      ]
    );
  }
}
