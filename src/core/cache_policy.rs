//! The policy of WeakCache: which entries are pinned and in what order, which are demoted to the
//! weak tier, what bounds the pinned tier (a count, a total size, or only time), when entries are
//! stale, what a collection means, and the statistics.
//!
//! Entries are *slots*, numbered densely from 0; JS keeps the keys and the pinned values by slot
//! (see cache_protocol.rs), so this side holds no key and no value: only order, tiers, facts
//! (start, ttl, size) and the weak handles. Plain Rust: everything that touches a value goes
//! through a [`Host`] (Node-API in the binding, a fake in the tests), so the weak-tier rules and
//! the collection races are tested here without Node.
//!
//! Tiers: *pinned* entries (most recent first; JS holds their values), bounded by `max` entries
//! and by `maxSize` (their total size), and *weak* entries (object values pushed out of the pinned
//! tier, held only by a weak handle; most recently demoted first). A weak entry whose handle reads
//! as collected before its finalizer's event arrived is *collected*: invisible, kept only so that
//! the event finds it. A slot's generation grows whenever it gets a new entry or value, and
//! `(generation, slot)` is the id a handle's finalizer reports, so a late event never matches an
//! entry that was set again. Taken together, pinned then weak, most recent first, is the cache's
//! order (lru-cache's, with the weak tier as its oldest part).
//!
//! Staleness is lru-cache's: an entry with a ttl is stale once `now - start > ttl` (at an age of
//! exactly `ttl` it is still fresh).

pub use super::cache_host::{Demotion, Host};
pub use super::cache_slots::{SlotIndex, Tier, VersionedSlot};
use super::cache_slots::{SlotTable, NIL};
pub use super::cache_stats::{Looked, Stats};
use super::removal_cause::RemovalCause;

/// What bounds a cache, fixed when it is made.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Config {
  /// The most pinned entries; None: no count limit (a cache bounded by `max_size` or by time).
  pub max: Option<usize>,
  /// The most total size of the pinned entries; 0: no size limit.
  pub max_size: f64,
  /// Whether entries have sizes (`maxSize` or `maxEntrySize` is set).
  pub track_sizes: bool,
  /// Whether object values pushed out are demoted to the weak tier; false: every value pushed out
  /// is evicted, as in lru-cache (`weak: false`).
  pub weak: bool,
}

impl Config {
  /// A cache of at most `max` pinned entries with a weak tier, as WeakCache is by default.
  pub fn max(max: usize) -> Config {
    Config {
      max: Some(max),
      max_size: 0.0,
      track_sizes: false,
      weak: true,
    }
  }
}

/// What JS knows of an entry, published per slot: when its ttl started, its ttl (0: none) and its
/// size (0 when sizes are not tracked).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Facts {
  pub start: f64,
  pub ttl: f64,
  pub size: f64,
}

/// An entry being inserted, or the new state of one being replaced.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NewEntry {
  pub ttl: f64,
  /// When its ttl starts (read only when `ttl > 0`).
  pub start: f64,
  pub size: f64,
  /// Never demoted (a fetch in flight): pushed out, it is evicted.
  pub strong: bool,
}

impl NewEntry {
  /// A plain entry: no ttl, no size.
  pub const PLAIN: NewEntry = NewEntry {
    ttl: 0.0,
    start: 0.0,
    size: 0.0,
    strong: false,
  };
}

/// How a `get` treats the entry it finds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Access {
  /// Restart the age of a fresh entry (`updateAgeOnGet`).
  pub update_age: bool,
  /// Leave a stale entry in the cache (`noDeleteOnStaleGet`, a fetch in flight, `fetch()`).
  pub keep_stale: bool,
}

/// The ttl of an entry and when it started (lru-cache's `ttls` and `starts`).
#[derive(Clone, Copy)]
struct Timing {
  ttl: f64,
  start: f64,
}

const NO_TTL: Timing = Timing {
  ttl: 0.0,
  start: 0.0,
};

/// What happened to an entry pushed out of the pinned tier.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fate {
  /// Moved to the weak tier (JS lets go of its value).
  Demoted,
  /// Left the cache (`Evict`).
  Removed(RemovalCause),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PushedOut {
  pub slot: SlotIndex,
  pub fate: Fate,
}

/// The answer to a lookup of an entry. A weak entry's value comes with it (JS holds pinned ones).
#[derive(Debug, PartialEq, Eq)]
pub enum Lookup<V> {
  Live(Option<V>),
  /// Past its ttl; `removed` when the lookup removed it (cause `Expire`).
  Stale {
    value: Option<V>,
    removed: bool,
  },
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

pub struct CachePolicy<H> {
  config: Config,
  /// The entries: their tiers' lists, strengths and generations (see cache_slots.rs).
  slots: SlotTable,
  /// Weak handles by slot; allocated at the first demotion (a cache that never overflows has none).
  handles: Vec<Option<H>>,
  /// Timing by slot; allocated when the first entry with a ttl arrives.
  timing: Option<Vec<Timing>>,
  /// Sizes by slot, when the cache tracks sizes.
  sizes: Option<Vec<f64>>,
  /// The total size of the pinned entries.
  calculated: f64,
  /// Entries the current operation pushed out of the pinned tier.
  pushed: Vec<PushedOut>,
  stats: Stats,
}

impl<H: Copy> CachePolicy<H> {
  pub fn new(config: Config) -> Self {
    CachePolicy {
      config,
      slots: SlotTable::new(),
      handles: Vec::new(),
      timing: None,
      sizes: config.track_sizes.then(Vec::new),
      calculated: 0.0,
      pushed: Vec::new(),
      stats: Stats::default(),
    }
  }

  pub fn stats(&self) -> Stats {
    Stats {
      pinned: self.slots.pinned.len,
      weak: self.slots.weak.len,
      ..self.stats
    }
  }

  /// The total size of the pinned entries (lru-cache's `calculatedSize`).
  pub fn calculated_size(&self) -> f64 {
    self.calculated
  }

  /// Whether facts are published: timing or sizes are on.
  pub fn has_facts(&self) -> bool {
    self.timing.is_some() || self.sizes.is_some()
  }

  /// How many slots there are: the next insert uses one of them or this one.
  pub fn slot_count(&self) -> usize {
    self.slots.count()
  }

  pub fn tier(&self, slot: SlotIndex) -> Option<Tier> {
    self.slots.tier(slot)
  }

  /// The least recent pinned entry: the next one to be pushed out.
  pub fn tail(&self) -> Option<SlotIndex> {
    Some(self.slots.pinned.tail).filter(|&slot| slot != NIL)
  }

  /// The entries the last insert, replace, get or hold pushed out of the pinned tier.
  pub fn pushed_out(&self) -> &[PushedOut] {
    &self.pushed
  }

  /// Turns on ttl bookkeeping (before the first entry with a ttl). Existing entries never expire.
  pub fn start_timing(&mut self) {
    if self.timing.is_none() {
      self.timing = Some(vec![NO_TTL; self.slots.count()]);
    }
  }

  /// The facts of every slot, for a fresh copy in JS.
  pub fn all_facts(&self) -> impl Iterator<Item = (SlotIndex, Facts)> + '_ {
    (0..self.slots.count() as SlotIndex).map(|slot| (slot, self.facts(slot)))
  }

  /// Adds a pinned entry as the most recent one, then pushes out the least recent ones while the
  /// pinned tier is over its bounds. Returns its slot.
  pub fn insert(&mut self, entry: NewEntry, host: &mut impl Host<Handle = H>) -> SlotIndex {
    self.pushed.clear();
    // As in lru-cache, a full cache makes room first, and the new entry takes the slot that frees.
    if let Some(max) = self.config.max.filter(|&max| max > 0) {
      while self.slots.pinned.len >= max {
        self.push_out(self.slots.pinned.tail, NIL, host);
      }
    }
    let slot = self.alloc_slot();
    if entry.strong {
      self.slots.set_strong(slot, true);
    }
    if entry.ttl > 0.0 || self.timing.is_some() {
      self.set_timing(slot, entry.ttl, entry.start);
    }
    self.set_size(slot, entry.size);
    self.link_front(slot, Tier::Pinned);
    if !entry.strong {
      self.stats.sets += 1;
    }
    self.publish(slot, host);
    self.enforce_bounds(slot, host);
    slot
  }

  /// A new value (`changed`), size, strength and, with `update_ttl`, ttl for the entry in `slot`,
  /// which becomes the most recent pinned one; a weak entry is pinned again (its old value comes
  /// back), and the pinned tier may push out others.
  pub fn replace<X: Host<Handle = H>>(
    &mut self,
    slot: SlotIndex,
    entry: NewEntry,
    update_ttl: bool,
    changed: bool,
    host: &mut X,
  ) -> Result<Lookup<X::Value>, NotAnEntry> {
    self.pushed.clear();
    let old = match self.expect_tier(slot, &[Tier::Pinned, Tier::Weak, Tier::Collected])? {
      Tier::Pinned => None,
      Tier::Collected => return Ok(Lookup::Collected),
      _ => match self.read_weak(slot, host) {
        None => return Ok(Lookup::Collected),
        old => old,
      },
    };
    if changed {
      if let Some(handle) = self.take_handle(slot) {
        host.release(handle);
      }
      self.slots.renew(slot);
    }
    self.slots.set_strong(slot, entry.strong);
    if update_ttl {
      self.set_timing(slot, entry.ttl, entry.start);
    }
    self.unlink(slot);
    self.set_size(slot, entry.size);
    self.link_front(slot, Tier::Pinned);
    if !entry.strong {
      self.stats.sets += 1;
    }
    self.publish(slot, host);
    self.enforce_bounds(slot, host);
    Ok(Lookup::Live(old))
  }

  /// A read JS logged for a pinned entry: it becomes the most recent. Anything but a pinned slot
  /// is ignored.
  pub fn touch(&mut self, slot: SlotIndex) {
    if self.tier(slot) != Some(Tier::Pinned) {
      return;
    }
    self.stats.hits += 1;
    self.move_front(slot);
  }

  /// The outcome of a lookup, as JS tells it (it alone knows whether a stale value was served):
  /// lookups that go no further than JS, and those whose answer a call of `get` gave. Nothing
  /// moves.
  pub fn record(&mut self, lookup: Looked) {
    self.stats.record(lookup);
  }

  /// `get`: a fresh pinned entry becomes the most recent; a fresh weak entry is pinned again (a
  /// weak hit) and may push out the least recent pinned ones; a stale entry is removed (unless
  /// `keep_stale`); an entry whose value the GC took is marked collected. `fresh` is the time an
  /// age restarts at (`now` may be older: lru-cache's `ttlResolution`). JS records the outcome in
  /// the statistics (see [`CachePolicy::record`]).
  pub fn get<X: Host<Handle = H>>(
    &mut self,
    slot: SlotIndex,
    now: f64,
    fresh: f64,
    access: Access,
    host: &mut X,
  ) -> Result<Lookup<X::Value>, NotAnEntry> {
    self.pushed.clear();
    let tier = self.expect_tier(slot, &[Tier::Pinned, Tier::Weak, Tier::Collected])?;
    let value = match tier {
      Tier::Pinned => None,
      _ => match self.read_listed(slot, tier, host) {
        None => return Ok(Lookup::Collected),
        value => value,
      },
    };
    if self.is_stale(slot, now) {
      let removed = !access.keep_stale;
      if removed {
        self.remove_entry(slot, RemovalCause::Expire, host);
      }
      return Ok(Lookup::Stale { value, removed });
    }
    if tier == Tier::Pinned {
      self.move_front(slot);
    } else {
      self.unlink(slot);
      self.link_front(slot, Tier::Pinned);
    }
    if access.update_age {
      self.restart_age(slot, fresh, host);
    }
    if tier == Tier::Weak {
      self.enforce_bounds(slot, host);
    }
    Ok(Lookup::Live(value))
  }

  /// `peek` and `has`: nothing moves and nothing stale is removed; with `update_age`
  /// (`updateAgeOnHas`) a fresh entry's age restarts. A weak entry whose value the GC took is
  /// still marked collected (it is gone either way).
  pub fn peek<X: Host<Handle = H>>(
    &mut self,
    slot: SlotIndex,
    now: f64,
    fresh: f64,
    update_age: bool,
    host: &mut X,
  ) -> Result<Lookup<X::Value>, NotAnEntry> {
    let tier = self.expect_tier(slot, &[Tier::Pinned, Tier::Weak, Tier::Collected])?;
    let value = match tier {
      Tier::Pinned => None,
      _ => match self.read_listed(slot, tier, host) {
        None => return Ok(Lookup::Collected),
        value => value,
      },
    };
    if self.is_stale(slot, now) {
      return Ok(Lookup::Stale {
        value,
        removed: false,
      });
    }
    if update_age {
      self.restart_age(slot, fresh, host);
    }
    Ok(Lookup::Live(value))
  }

  /// Makes the entry strong (a fetch in flight now holds it) or plain again, without changing its
  /// place. A weak entry is pinned again first (as the most recent; it may push out others), since
  /// JS holds what a strong entry holds. Returns a weak entry's value.
  pub fn hold<X: Host<Handle = H>>(
    &mut self,
    slot: SlotIndex,
    strong: bool,
    host: &mut X,
  ) -> Result<Lookup<X::Value>, NotAnEntry> {
    self.pushed.clear();
    let tier = self.expect_tier(
      slot,
      if strong {
        &[Tier::Pinned, Tier::Weak, Tier::Collected]
      } else {
        &[Tier::Pinned]
      },
    )?;
    let value = if tier != Tier::Pinned {
      match self.read_listed(slot, tier, host) {
        None => return Ok(Lookup::Collected),
        Some(value) => {
          self.unlink(slot);
          self.link_front(slot, Tier::Pinned);
          Some(value)
        }
      }
    } else {
      None
    };
    self.slots.set_strong(slot, strong);
    if tier == Tier::Weak {
      self.enforce_bounds(slot, host);
    }
    Ok(Lookup::Live(value))
  }

  /// `delete`, `set` over a weak entry (cause Set), a failed fetch (Fetch), an expired entry found
  /// by a timer (Expire): removes the entry. A weak entry whose value the GC took is marked
  /// collected instead.
  pub fn remove<X: Host<Handle = H>>(
    &mut self,
    slot: SlotIndex,
    cause: RemovalCause,
    host: &mut X,
  ) -> Result<Removed<X::Value>, NotAnEntry> {
    match self.expect_tier(slot, &[Tier::Pinned, Tier::Weak, Tier::Collected])? {
      Tier::Pinned => {
        self.remove_entry(slot, cause, host);
        Ok(Removed::Pinned)
      }
      tier => match self.read_listed(slot, tier, host) {
        None => Ok(Removed::Collected),
        Some(value) => {
          self.remove_entry(slot, cause, host);
          Ok(Removed::Weak(value))
        }
      },
    }
  }

  /// `pop()`: evicts the least recent entry (the least recently demoted weak one, else the least
  /// recent pinned one), skipping weak entries whose values the GC took. Returns its slot and, for
  /// a weak entry, its value; None when the cache is empty.
  pub fn pop<X: Host<Handle = H>>(
    &mut self,
    host: &mut X,
  ) -> Option<(SlotIndex, Option<X::Value>)> {
    while self.slots.weak.tail != NIL {
      let slot = self.slots.weak.tail;
      if let Some(value) = self.read_weak(slot, host) {
        self.remove_entry(slot, RemovalCause::Evict, host);
        return Some((slot, Some(value)));
      }
    }
    let slot = self.tail()?;
    self.remove_entry(slot, RemovalCause::Evict, host);
    Some((slot, None))
  }

  /// `purgeStale()`: removes every stale entry (cause Expire), least recent first. Returns their
  /// slots and, for weak ones, their values; weak entries found collected are marked.
  pub fn purge_stale<X: Host<Handle = H>>(
    &mut self,
    now: f64,
    host: &mut X,
  ) -> Vec<(SlotIndex, Option<X::Value>)> {
    let mut removed = Vec::new();
    if self.timing.is_none() {
      return removed;
    }
    let candidates: Vec<_> = self
      .slots
      .walk_back(self.slots.weak.tail)
      .chain(self.slots.walk_back(self.slots.pinned.tail))
      .filter(|&slot| self.is_stale(slot, now))
      .collect();
    for slot in candidates {
      let value = if self.slots.tier(slot) == Some(Tier::Weak) {
        match self.read_weak(slot, host) {
          None => continue,
          value => value,
        }
      } else {
        None
      };
      self.remove_entry(slot, RemovalCause::Expire, host);
      removed.push((slot, value));
    }
    removed
  }

  /// Removes every entry (cause Delete). Returns them least recent first (as lru-cache disposes
  /// them), weak ones with their values; weak entries whose values the GC took are marked
  /// collected instead.
  pub fn clear<X: Host<Handle = H>>(&mut self, host: &mut X) -> Vec<(SlotIndex, Option<X::Value>)> {
    let mut removed = Vec::new();
    for slot in self
      .slots
      .walk_back(self.slots.weak.tail)
      .collect::<Vec<_>>()
    {
      if let Some(value) = self.read_weak(slot, host) {
        self.remove_entry(slot, RemovalCause::Delete, host);
        removed.push((slot, Some(value)));
      }
    }
    while self.slots.pinned.tail != NIL {
      let slot = self.slots.pinned.tail;
      self.remove_entry(slot, RemovalCause::Delete, host);
      removed.push((slot, None));
    }
    removed
  }

  /// Collection events (ids reported by finalizers or by `report_collected`): each one that still
  /// names a weak or collected entry frees it. Returns the freed slots, whose keys JS reports with
  /// `'collect'`. Late events (the entry was removed, set again or pinned again) change nothing.
  pub fn take_collected(
    &mut self,
    ids: impl IntoIterator<Item = VersionedSlot>,
    host: &mut impl Host<Handle = H>,
  ) -> Vec<SlotIndex> {
    let mut freed = Vec::new();
    for id in ids {
      let slot = id as SlotIndex;
      let Some(tier) = self.slots.tier(slot) else {
        continue;
      };
      if self.slots.id(slot) != id {
        continue;
      }
      match tier {
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

  /// The cache's order: pinned entries most recent first, then weak ones most recently demoted
  /// first (or the reverse, least recent first); stale ones only with `allow_stale`.
  pub fn order(&self, now: f64, allow_stale: bool, reverse: bool) -> Vec<SlotIndex> {
    let keep = |&slot: &SlotIndex| allow_stale || !self.is_stale(slot, now);
    if reverse {
      self
        .slots
        .walk_back(self.slots.weak.tail)
        .chain(self.slots.walk_back(self.slots.pinned.tail))
        .filter(keep)
        .collect()
    } else {
      self
        .slots
        .walk(self.slots.pinned.head)
        .chain(self.slots.walk(self.slots.weak.head))
        .filter(keep)
        .collect()
    }
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

  fn id(&self, slot: SlotIndex) -> VersionedSlot {
    self.slots.id(slot)
  }

  fn handle(&self, slot: SlotIndex) -> Option<H> {
    self.handles.get(slot as usize).copied().flatten()
  }

  fn take_handle(&mut self, slot: SlotIndex) -> Option<H> {
    self.handles.get_mut(slot as usize).and_then(Option::take)
  }

  fn set_handle(&mut self, slot: SlotIndex, handle: H) {
    if self.handles.len() <= slot as usize {
      self.handles.resize(self.slots.count(), None);
    }
    self.handles[slot as usize] = Some(handle);
  }

  /// lru-cache's rule: stale once the age is more than the ttl; an entry without a start (0, or
  /// NaN from `load`) never is.
  fn is_stale(&self, slot: SlotIndex, now: f64) -> bool {
    self.timing.as_ref().is_some_and(|timing| {
      let Timing { ttl, start } = timing[slot as usize];
      ttl > 0.0 && start != 0.0 && now - start > ttl
    })
  }

  fn facts(&self, slot: SlotIndex) -> Facts {
    let Timing { ttl, start } = self
      .timing
      .as_ref()
      .map_or(NO_TTL, |timing| timing[slot as usize]);
    let size = self.size(slot);
    Facts { start, ttl, size }
  }

  fn publish(&self, slot: SlotIndex, host: &mut impl Host<Handle = H>) {
    if self.has_facts() {
      host.publish(slot, self.facts(slot));
    }
  }

  fn set_timing(&mut self, slot: SlotIndex, ttl: f64, start: f64) {
    if ttl > 0.0 {
      self.start_timing();
    }
    if let Some(timing) = self.timing.as_mut() {
      timing[slot as usize] = if ttl > 0.0 {
        Timing { ttl, start }
      } else {
        NO_TTL
      };
    }
  }

  /// The age of an entry with a ttl restarts at `now`.
  fn restart_age(&mut self, slot: SlotIndex, now: f64, host: &mut impl Host<Handle = H>) {
    if let Some(timing) = self.timing.as_mut() {
      let t = &mut timing[slot as usize];
      if t.ttl > 0.0 {
        t.start = now;
        self.publish(slot, host);
      }
    }
  }

  fn size(&self, slot: SlotIndex) -> f64 {
    self
      .sizes
      .as_ref()
      .map_or(0.0, |sizes| sizes[slot as usize])
  }

  /// Sets the size of an entry that is not pinned (not counted in `calculated`).
  fn set_size(&mut self, slot: SlotIndex, size: f64) {
    if let Some(sizes) = self.sizes.as_mut() {
      sizes[slot as usize] = size;
    }
  }

  /// Reads the value of a weak entry, or of one already found collected (None: it waits for its
  /// event; found by `pop`, `purge_stale` or `clear`, it may still be in JS's index).
  fn read_listed<X: Host<Handle = H>>(
    &mut self,
    slot: SlotIndex,
    tier: Tier,
    host: &mut X,
  ) -> Option<X::Value> {
    match tier {
      Tier::Weak => self.read_weak(slot, host),
      _ => None,
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
    self.slots.mark_collected(slot);
    if let Some(handle) = self.take_handle(slot) {
      host.release(handle);
    }
    host.report_collected(self.id(slot));
    None
  }

  /// Pushes the least recent pinned entries out while there are more than `max`, then while their
  /// total size is over `max_size` (never `newest`, the entry the operation just pinned, for the
  /// size: an entry is never pushed out by its own size).
  fn enforce_bounds(&mut self, newest: SlotIndex, host: &mut impl Host<Handle = H>) {
    if let Some(max) = self.config.max {
      while self.slots.pinned.len > max {
        self.push_out(self.slots.pinned.tail, newest, host);
      }
    }
    if self.config.max_size > 0.0 {
      while self.calculated > self.config.max_size
        && self.slots.pinned.tail != NIL
        && self.slots.pinned.tail != newest
      {
        self.push_out(self.slots.pinned.tail, newest, host);
      }
    }
  }

  /// Pushes a pinned entry out: one whose value can be held weakly is demoted, any other (a
  /// primitive, a strong entry, every entry of a cache without a weak tier) is evicted.
  fn push_out(&mut self, slot: SlotIndex, newest: SlotIndex, host: &mut impl Host<Handle = H>) {
    let demotable = self.config.weak && !self.slots.is_strong(slot);
    if demotable && self.handle(slot).is_none() {
      let demotion = Demotion {
        slot,
        id: self.id(slot),
        is_new: slot == newest,
      };
      if let Some(handle) = host.watch(demotion) {
        self.set_handle(slot, handle);
      }
    }
    if demotable && self.handle(slot).is_some() {
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
    let (slot, new) = self.slots.alloc();
    if new {
      if let Some(timing) = self.timing.as_mut() {
        timing.push(NO_TTL);
      }
      if let Some(sizes) = self.sizes.as_mut() {
        sizes.push(0.0);
      }
    }
    slot
  }

  fn free_slot(&mut self, slot: SlotIndex) {
    if let Some(timing) = self.timing.as_mut() {
      timing[slot as usize] = NO_TTL;
    }
    self.set_size(slot, 0.0);
    self.slots.free(slot);
  }

  fn move_front(&mut self, slot: SlotIndex) {
    self.slots.move_front(slot);
  }

  /// Links an entry at the front of its tier's list; a pinned entry's size joins `calculated`.
  fn link_front(&mut self, slot: SlotIndex, tier: Tier) {
    if let (Tier::Pinned, Some(sizes)) = (tier, &self.sizes) {
      self.calculated += sizes[slot as usize];
    }
    self.slots.link_front(slot, tier);
  }

  /// Takes a pinned or weak entry out of its list; a pinned entry's size leaves `calculated`.
  fn unlink(&mut self, slot: SlotIndex) {
    if let (Tier::Pinned, Some(sizes)) = (self.slots.unlink(slot), &self.sizes) {
      self.calculated -= sizes[slot as usize];
    }
  }
}

#[cfg(test)]
mod tests;
