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

use super::removal_cause::RemovalCause;

pub type SlotIndex = u32;
/// A slot at one generation, `generation << 32 | slot`: what a weak handle's finalizer reports, so
/// that a late report never names the slot's next entry. (Not an ordered_table `EntryId`, which
/// numbers entries in insertion order.)
pub type VersionedSlot = u64;

const NIL: u32 = u32::MAX;
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

  fn generation(self) -> u32 {
    self.tag >> GENERATION_SHIFT
  }

  fn set_tier(&mut self, tier: Tier) {
    self.tag = (self.tag & !TIER_MASK) | tier as u32;
  }

  fn is_strong(self) -> bool {
    self.tag & STRONG != 0
  }

  fn set_strong(&mut self, strong: bool) {
    self.tag = if strong {
      self.tag | STRONG
    } else {
      self.tag & !STRONG
    };
  }

  /// A new generation: the entry's id changes, so events of its old handle no longer match.
  fn renew(&mut self) {
    self.tag = self.tag.wrapping_add(1 << GENERATION_SHIFT);
  }
}

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
  pub id: VersionedSlot,
  /// True when the entry is the one being inserted (only with `max` 0): JS does not hold its value
  /// yet, the host got it with the call.
  pub is_new: bool,
}

/// Where the policy meets values: weak handles, the GC's reports and the published facts.
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
  fn report_collected(&mut self, id: VersionedSlot);
  /// Tells JS the facts of the entry in `slot` (only while timing or sizes are on), so that a
  /// pinned hit needs no call and statuses can be filled in JS.
  fn publish(&mut self, slot: SlotIndex, facts: Facts);
}

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

/// What a lookup found, for the statistics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Looked {
  Miss,
  /// A pinned entry's value (or a fetch in flight joined, or its stale value served).
  Hit,
  WeakHit,
  /// A stale value served, or found by a fetch that refreshes it.
  StaleHit,
}

/// A slot number that does not name a live entry of the expected tier: a bug on the JS side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotAnEntry(pub SlotIndex);

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Stats {
  /// Lookups answered from the cache (pinned entries, fetches in flight, stale values served).
  pub hits: u64,
  pub weak_hits: u64,
  /// The hits that served a stale value (or found one, for a fetch that refreshes it).
  pub stale_hits: u64,
  pub misses: u64,
  /// Values stored (a fetch's placeholder is not one; its result is).
  pub sets: u64,
  pub demotions: u64,
  /// Removals by cause (`RemovalCause as usize`).
  pub removals: [u64; RemovalCause::ALL.len()],
  pub pinned: usize,
  pub weak: usize,
}

impl Stats {
  /// The figures `stats()` reports, named and ordered as JS shows them.
  pub fn named(&self) -> [(&'static str, f64); 12] {
    let removed = |cause: RemovalCause| self.removals[cause as usize] as f64;
    [
      ("hits", self.hits as f64),
      ("weakHits", self.weak_hits as f64),
      ("staleHits", self.stale_hits as f64),
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

pub struct CachePolicy<H> {
  config: Config,
  slots: Vec<Slot>,
  /// Slots freed since the cache was last empty, the last freed on top: the next insert takes it.
  /// Beyond them, every slot from `unused_from` on is free. This is lru-cache's allocation of its
  /// indexes (a stack of freed ones, numbered from 0 again once the cache is empty), so that an
  /// entry's slot is the index lru-cache would give it: whether a late fetch result is stored
  /// depends on whether its index was taken meanwhile.
  free: Vec<SlotIndex>,
  unused_from: SlotIndex,
  /// Slots that hold an entry (of any tier).
  in_use: usize,
  /// Weak handles by slot; allocated at the first demotion (a cache that never overflows has none).
  handles: Vec<Option<H>>,
  /// Timing by slot; allocated when the first entry with a ttl arrives.
  timing: Option<Vec<Timing>>,
  /// Sizes by slot, when the cache tracks sizes.
  sizes: Option<Vec<f64>>,
  /// The total size of the pinned entries.
  calculated: f64,
  pinned: List,
  weak: List,
  /// Entries the current operation pushed out of the pinned tier.
  pushed: Vec<PushedOut>,
  stats: Stats,
}

impl<H: Copy> CachePolicy<H> {
  pub fn new(config: Config) -> Self {
    CachePolicy {
      config,
      slots: Vec::new(),
      free: Vec::new(),
      unused_from: 0,
      in_use: 0,
      handles: Vec::new(),
      timing: None,
      sizes: config.track_sizes.then(Vec::new),
      calculated: 0.0,
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
    self.slots.len()
  }

  pub fn tier(&self, slot: SlotIndex) -> Option<Tier> {
    self.slots.get(slot as usize).map(|s| s.tier())
  }

  /// The least recent pinned entry: the next one to be pushed out.
  pub fn tail(&self) -> Option<SlotIndex> {
    Some(self.pinned.tail).filter(|&slot| slot != NIL)
  }

  /// The entries the last insert, replace, get or hold pushed out of the pinned tier.
  pub fn pushed_out(&self) -> &[PushedOut] {
    &self.pushed
  }

  /// Turns on ttl bookkeeping (before the first entry with a ttl). Existing entries never expire.
  pub fn start_timing(&mut self) {
    if self.timing.is_none() {
      self.timing = Some(vec![NO_TTL; self.slots.len()]);
    }
  }

  /// The facts of every slot, for a fresh copy in JS.
  pub fn all_facts(&self) -> impl Iterator<Item = (SlotIndex, Facts)> + '_ {
    (0..self.slots.len() as SlotIndex).map(|slot| (slot, self.facts(slot)))
  }

  /// Adds a pinned entry as the most recent one, then pushes out the least recent ones while the
  /// pinned tier is over its bounds. Returns its slot.
  pub fn insert(&mut self, entry: NewEntry, host: &mut impl Host<Handle = H>) -> SlotIndex {
    self.pushed.clear();
    // As in lru-cache, a full cache makes room first, and the new entry takes the slot that frees.
    if let Some(max) = self.config.max.filter(|&max| max > 0) {
      while self.pinned.len >= max {
        self.push_out(self.pinned.tail, NIL, host);
      }
    }
    let slot = self.alloc_slot();
    if entry.strong {
      self.slots[slot as usize].set_strong(true);
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
      self.slots[slot as usize].renew();
    }
    self.slots[slot as usize].set_strong(entry.strong);
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
    let stats = &mut self.stats;
    match lookup {
      Looked::Miss => stats.misses += 1,
      Looked::Hit => stats.hits += 1,
      Looked::WeakHit => stats.weak_hits += 1,
      Looked::StaleHit => {
        stats.hits += 1;
        stats.stale_hits += 1;
      }
    }
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
    self.slots[slot as usize].set_strong(strong);
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
    while self.weak.tail != NIL {
      let slot = self.weak.tail;
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
      .walk_back(self.weak.tail)
      .chain(self.walk_back(self.pinned.tail))
      .filter(|&slot| self.is_stale(slot, now))
      .collect();
    for slot in candidates {
      let value = if self.slots[slot as usize].tier() == Tier::Weak {
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
    for slot in self.walk_back(self.weak.tail).collect::<Vec<_>>() {
      if let Some(value) = self.read_weak(slot, host) {
        self.remove_entry(slot, RemovalCause::Delete, host);
        removed.push((slot, Some(value)));
      }
    }
    while self.pinned.tail != NIL {
      let slot = self.pinned.tail;
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

  /// The cache's order: pinned entries most recent first, then weak ones most recently demoted
  /// first (or the reverse, least recent first); stale ones only with `allow_stale`.
  pub fn order(&self, now: f64, allow_stale: bool, reverse: bool) -> Vec<SlotIndex> {
    let keep = |&slot: &SlotIndex| allow_stale || !self.is_stale(slot, now);
    if reverse {
      self
        .walk_back(self.weak.tail)
        .chain(self.walk_back(self.pinned.tail))
        .filter(keep)
        .collect()
    } else {
      self
        .walk(self.pinned.head)
        .chain(self.walk(self.weak.head))
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
    self.slots[slot as usize].set_tier(Tier::Collected);
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
      while self.pinned.len > max {
        self.push_out(self.pinned.tail, newest, host);
      }
    }
    if self.config.max_size > 0.0 {
      while self.calculated > self.config.max_size
        && self.pinned.tail != NIL
        && self.pinned.tail != newest
      {
        self.push_out(self.pinned.tail, newest, host);
      }
    }
  }

  /// Pushes a pinned entry out: one whose value can be held weakly is demoted, any other (a
  /// primitive, a strong entry, every entry of a cache without a weak tier) is evicted.
  fn push_out(&mut self, slot: SlotIndex, newest: SlotIndex, host: &mut impl Host<Handle = H>) {
    let demotable = self.config.weak && !self.slots[slot as usize].is_strong();
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
    self.in_use += 1;
    let slot = if let Some(slot) = self.free.pop() {
      slot
    } else if (self.unused_from as usize) < self.slots.len() {
      self.unused_from += 1;
      self.unused_from - 1
    } else {
      self.unused_from += 1;
      self.slots.push(Slot {
        prev: NIL,
        next: NIL,
        tag: Tier::Free as u32,
      });
      if let Some(timing) = self.timing.as_mut() {
        timing.push(NO_TTL);
      }
      if let Some(sizes) = self.sizes.as_mut() {
        sizes.push(0.0);
      }
      (self.slots.len() - 1) as SlotIndex
    };
    self.slots[slot as usize].renew();
    slot
  }

  fn free_slot(&mut self, slot: SlotIndex) {
    if let Some(timing) = self.timing.as_mut() {
      timing[slot as usize] = NO_TTL;
    }
    self.set_size(slot, 0.0);
    let s = &mut self.slots[slot as usize];
    // A new generation, free and not strong.
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

  fn list(&mut self, tier: Tier) -> &mut List {
    match tier {
      Tier::Pinned => &mut self.pinned,
      _ => &mut self.weak,
    }
  }

  fn move_front(&mut self, slot: SlotIndex) {
    if self.pinned.head != slot {
      self.unlink(slot);
      self.link_front(slot, Tier::Pinned);
    }
  }

  /// Links an entry at the front of its tier's list; a pinned entry's size joins `calculated`.
  fn link_front(&mut self, slot: SlotIndex, tier: Tier) {
    if let (Tier::Pinned, Some(sizes)) = (tier, &self.sizes) {
      self.calculated += sizes[slot as usize];
    }
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

  /// Takes a pinned or weak entry out of its list; a pinned entry's size leaves `calculated`.
  fn unlink(&mut self, slot: SlotIndex) {
    let Slot { prev, next, tag: _ } = self.slots[slot as usize];
    let tier = self.slots[slot as usize].tier();
    debug_assert!(
      matches!(tier, Tier::Pinned | Tier::Weak),
      "slot {slot} is not listed"
    );
    if let (Tier::Pinned, Some(sizes)) = (tier, &self.sizes) {
      self.calculated -= sizes[slot as usize];
    }
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

  fn walk_back(&self, tail: SlotIndex) -> impl Iterator<Item = SlotIndex> + '_ {
    std::iter::successors(Some(tail).filter(|&s| s != NIL), |&s| {
      Some(self.slots[s as usize].prev).filter(|&p| p != NIL)
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
    handles: HashMap<u32, (Value, VersionedSlot)>,
    next_handle: u32,
    watched: usize,
    dead: HashSet<Value>,
    finalized: HashSet<u32>,
    events: Vec<VersionedSlot>,
    facts: HashMap<SlotIndex, Facts>,
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

    fn report_collected(&mut self, id: VersionedSlot) {
      self.events.push(id);
    }

    fn publish(&mut self, slot: SlotIndex, facts: Facts) {
      self.facts.insert(slot, facts);
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

    fn take_events(&mut self) -> Vec<VersionedSlot> {
      std::mem::take(&mut self.events)
    }
  }

  /// A policy plus the fake host, with the bookkeeping JS does after each call.
  struct Cache {
    p: CachePolicy<u32>,
    host: Fake,
  }

  const GET: Access = Access {
    update_age: false,
    keep_stale: false,
  };

  fn ttl(ttl: f64, start: f64) -> NewEntry {
    NewEntry {
      ttl,
      start,
      ..NewEntry::PLAIN
    }
  }

  fn sized(size: f64) -> NewEntry {
    NewEntry {
      size,
      ..NewEntry::PLAIN
    }
  }

  impl Cache {
    fn new(max: usize) -> Self {
      Cache::with(Config::max(max))
    }

    fn with(config: Config) -> Self {
      Cache {
        p: CachePolicy::new(config),
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

    fn insert_entry(&mut self, value: Value, entry: NewEntry) -> (SlotIndex, Vec<PushedOut>) {
      self.host.inserting = Some(value);
      let slot = self.p.insert(entry, &mut self.host);
      self.host.inserting = None;
      // As JS does: the entries pushed out (a full cache's first, which may have had this slot)
      // are settled before the new value is stored, but a pure weak map pushes out the new one.
      if self.p.config.max == Some(0) {
        self.host.pinned_values.insert(slot, value);
        (slot, self.settle())
      } else {
        let pushed = self.settle();
        self.host.pinned_values.insert(slot, value);
        (slot, pushed)
      }
    }

    fn insert(&mut self, value: Value) -> (SlotIndex, Vec<PushedOut>) {
      self.insert_entry(value, NewEntry::PLAIN)
    }

    fn get_with(&mut self, slot: SlotIndex, now: f64, access: Access) -> Lookup<Value> {
      let lookup = self
        .p
        .get(slot, now, now, access, &mut self.host)
        .expect("an entry");
      if let Lookup::Live(Some(value)) = lookup {
        self.host.pinned_values.insert(slot, value);
      }
      if let Lookup::Stale { removed: true, .. } = lookup {
        self.host.pinned_values.remove(&slot);
      }
      self.settle();
      lookup
    }

    fn get_at(&mut self, slot: SlotIndex, now: f64) -> Lookup<Value> {
      self.get_with(slot, now, GET)
    }

    fn get(&mut self, slot: SlotIndex) -> Lookup<Value> {
      self.get_at(slot, 0.0)
    }

    fn peek_at(&mut self, slot: SlotIndex, now: f64) -> Lookup<Value> {
      self
        .p
        .peek(slot, now, now, false, &mut self.host)
        .expect("an entry")
    }

    fn order(&self) -> Vec<SlotIndex> {
      self.p.order(0.0, true, false)
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

  fn stale<V>(value: Option<V>, removed: bool) -> Lookup<V> {
    Lookup::Stale { value, removed }
  }

  #[test]
  fn overflow_demotes_objects_and_evicts_primitives_least_recent_first() {
    let mut c = Cache::new(2);
    let (a, _) = c.insert(Object(1));
    let (b, _) = c.insert(Primitive(2));
    c.p.touch(a);
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
    assert!(c.p.sizes.is_none(), "no sizes tracked, no size table");
    assert!(c.host.facts.is_empty(), "nothing to publish");
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
    assert_eq!((s.pinned, s.weak), (0, 1));
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
    c.p
      .replace(a, NewEntry::PLAIN, true, true, &mut c.host)
      .unwrap();
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
  fn ttl_is_stale_only_past_it_as_in_lru_cache_and_facts_are_published() {
    let mut c = Cache::new(2);
    let (k, _) = c.insert_entry(Object(1), ttl(10.0, 100.0));
    assert_eq!(
      c.host.facts[&k],
      Facts {
        start: 100.0,
        ttl: 10.0,
        size: 0.0
      }
    );
    assert_eq!(c.peek_at(k, 110.0), Lookup::Live(None), "age == ttl: fresh");
    assert_eq!(c.peek_at(k, 110.5), stale(None, false));
    assert_eq!(c.tier(k), Tier::Pinned, "peek removes nothing");
    let (x, _) = c.insert(Object(2));
    assert_eq!(c.host.facts[&x].ttl, 0.0, "no ttl: never stale");
    assert_eq!(c.get_at(k, 111.0), stale(None, true));
    assert_eq!(c.tier(k), Tier::Free);
    let s = c.p.stats();
    assert_eq!(s.removals[RemovalCause::Expire as usize], 1);
    assert_eq!((s.hits, s.misses), (0, 0), "JS records what a lookup found");
  }

  #[test]
  fn an_entry_without_a_start_never_goes_stale_as_in_lru_cache() {
    let mut c = Cache::new(3);
    let (zero, _) = c.insert_entry(Object(1), ttl(10.0, 0.0));
    let (nan, _) = c.insert_entry(Object(2), ttl(10.0, f64::NAN));
    let (control, _) = c.insert_entry(Object(3), ttl(10.0, 1.0));
    assert_eq!(c.peek_at(zero, 1e9), Lookup::Live(None), "start 0: lru-cache's `!!start`");
    assert_eq!(c.peek_at(nan, 1e9), Lookup::Live(None), "start NaN (a dump of no start)");
    assert_eq!(c.peek_at(control, 1e9), stale(None, false), "the control expires");
  }

  #[test]
  fn a_weak_entry_expires_too_and_update_age_restarts_at_the_fresh_time() {
    let mut c = Cache::new(1);
    let (k, _) = c.insert_entry(Object(1), ttl(10.0, 1.0));
    c.insert(Object(2)); // demotes k
    let update = Access {
      update_age: true,
      keep_stale: false,
    };
    let lookup = c.p.get(k, 8.0, 9.0, update, &mut c.host).unwrap();
    assert_eq!(lookup, Lookup::Live(Some(Object(1))));
    assert_eq!(c.host.facts[&k].start, 9.0, "the age restarts at `fresh`");
    c.host.pinned_values.insert(k, Object(1));
    c.settle();
    c.insert(Object(3)); // demotes k again
    assert_eq!(c.peek_at(k, 19.0), Lookup::Live(Some(Object(1))));
    assert_eq!(c.get_at(k, 20.0), stale(Some(Object(1)), true));
    assert_eq!(c.tier(k), Tier::Free);
  }

  #[test]
  fn keep_stale_leaves_a_stale_entry_where_it_is() {
    let mut c = Cache::new(3);
    let (k, _) = c.insert_entry(Primitive(1), ttl(10.0, 1.0));
    let (x, _) = c.insert(Primitive(2));
    let keep = Access {
      update_age: false,
      keep_stale: true,
    };
    assert_eq!(c.get_with(k, 50.0, keep), stale(None, false));
    assert_eq!(c.order(), [x, k], "not touched");
    assert_eq!(
      c.p.order(50.0, false, false),
      [x],
      "stale entries are skipped"
    );
    assert_eq!(
      c.p.order(50.0, true, true),
      [k, x],
      "or not, least recent first"
    );
  }

  #[test]
  fn peek_with_update_age_restarts_a_fresh_entry_only() {
    let mut c = Cache::new(3);
    let (k, _) = c.insert_entry(Primitive(1), ttl(10.0, 1.0));
    assert_eq!(
      c.p.peek(k, 5.0, 6.0, true, &mut c.host),
      Ok(Lookup::Live(None))
    );
    assert_eq!(c.host.facts[&k].start, 6.0);
    assert_eq!(
      c.p.peek(k, 30.0, 30.0, true, &mut c.host),
      Ok(stale(None, false))
    );
    assert_eq!(c.host.facts[&k].start, 6.0, "a stale entry keeps its age");
  }

  #[test]
  fn peek_moves_nothing_but_still_notices_a_collection() {
    let mut c = Cache::new(1);
    let (a, _) = c.insert(Object(1));
    let (b, _) = c.insert(Object(2));
    assert_eq!(c.peek_at(a, 0.0), Lookup::Live(Some(Object(1))));
    assert_eq!(c.order(), [b, a]);
    c.host.collect(Object(1));
    assert_eq!(c.peek_at(a, 0.0), Lookup::Collected);
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
      [(b, Some(Object(2))), (d, None)],
      "least recent first, weak values for dispose"
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
    assert_eq!(c.p.get(a, 0.0, 0.0, GET, &mut c.host), Err(NotAnEntry(a)));
    assert_eq!(
      c.p.peek(99, 0.0, 0.0, false, &mut c.host),
      Err(NotAnEntry(99))
    );
    assert_eq!(
      c.p.replace(a, NewEntry::PLAIN, true, true, &mut c.host),
      Err(NotAnEntry(a))
    );
    assert_eq!(c.p.hold(a, true, &mut c.host), Err(NotAnEntry(a)));
    c.p.touch(a); // a stale logged read is ignored
    assert_eq!(c.p.stats().hits, 0);
  }

  #[test]
  fn max_size_pushes_out_least_recent_until_the_new_entry_fits() {
    let mut c = Cache::with(Config {
      max: None,
      max_size: 10.0,
      track_sizes: true,
      weak: true,
    });
    let (a, _) = c.insert_entry(Primitive(1), sized(4.0));
    let (b, _) = c.insert_entry(Object(2), sized(4.0));
    let (x, _) = c.insert_entry(Primitive(3), sized(2.0));
    assert_eq!(c.p.calculated_size(), 10.0, "exactly at maxSize: fits");
    let (y, pushed) = c.insert_entry(Primitive(4), sized(5.0));
    assert_eq!(pushed, [evicted(a), demoted(b)], "least recent first");
    assert_eq!(c.p.calculated_size(), 7.0, "weak entries do not count");
    assert_eq!(c.host.facts[&b].size, 4.0, "a weak entry keeps its size");
    assert_eq!(c.get(b), Lookup::Live(Some(Object(2))));
    assert_eq!(
      c.p.pushed_out(),
      [evicted(x)],
      "a weak hit counts again and makes room"
    );
    assert_eq!(c.p.calculated_size(), 9.0);
    assert_eq!(c.order(), [b, y]);
  }

  #[test]
  fn a_replacement_that_grows_pushes_out_others_never_itself() {
    let mut c = Cache::with(Config {
      max: Some(10),
      max_size: 10.0,
      track_sizes: true,
      weak: true,
    });
    let (a, _) = c.insert_entry(Primitive(1), sized(3.0));
    let (b, _) = c.insert_entry(Primitive(2), sized(3.0));
    let (k, _) = c.insert_entry(Primitive(3), sized(3.0));
    c.p.replace(k, sized(8.0), true, true, &mut c.host).unwrap();
    assert_eq!(c.settle(), [evicted(a), evicted(b)]);
    assert_eq!(c.p.calculated_size(), 8.0);
    c.p
      .replace(k, sized(12.0), true, true, &mut c.host)
      .unwrap();
    assert_eq!(
      c.settle(),
      [],
      "alone and too large: it stays (JS checks maxEntrySize)"
    );
    assert_eq!(
      c.p.remove(k, RemovalCause::Delete, &mut c.host),
      Ok(Removed::Pinned)
    );
    assert_eq!(c.p.calculated_size(), 0.0);
  }

  #[test]
  fn a_cache_bounded_only_by_time_never_pushes_out() {
    let mut c = Cache::with(Config {
      max: None,
      max_size: 0.0,
      track_sizes: false,
      weak: true,
    });
    for i in 0..100 {
      assert_eq!(c.insert_entry(Object(i), ttl(5.0, 1.0)).1, []);
    }
    assert_eq!(c.p.stats().pinned, 100);
  }

  #[test]
  fn without_a_weak_tier_objects_are_evicted_like_primitives() {
    let mut c = Cache::with(Config {
      weak: false,
      ..Config::max(1)
    });
    let (a, _) = c.insert(Object(1));
    let (_, pushed) = c.insert(Object(2));
    assert_eq!(pushed, [evicted(a)]);
    assert_eq!(c.host.watched, 0, "no weak handle is ever made");
  }

  #[test]
  fn a_strong_entry_is_evicted_not_demoted_and_hold_makes_and_unmakes_one() {
    let mut c = Cache::new(1);
    let fetching = NewEntry {
      strong: true,
      ..NewEntry::PLAIN
    };
    let (f, _) = c.insert_entry(Object(1), fetching);
    let (a, pushed) = c.insert(Object(2));
    assert_eq!(pushed, [evicted(f)], "a fetch in flight is never weak");
    c.insert(Object(3)); // demotes a
    assert_eq!(c.tier(a), Tier::Weak);
    assert_eq!(
      c.p.hold(a, true, &mut c.host),
      Ok(Lookup::Live(Some(Object(2)))),
      "a weak entry is pinned again to be held"
    );
    c.host.pinned_values.insert(a, Object(2));
    assert_eq!(c.settle().len(), 1, "which pushed out the other");
    let (_, pushed) = c.insert(Object(4));
    assert_eq!(pushed, [evicted(a)], "held: evicted");
    let (b, _) = c.insert_entry(Object(5), fetching);
    assert_eq!(c.p.hold(b, false, &mut c.host), Ok(Lookup::Live(None)));
    let (_, pushed) = c.insert(Object(6));
    assert_eq!(pushed, [demoted(b)], "plain again: demoted");
  }

  #[test]
  fn pop_takes_the_least_recent_entry_weak_ones_first_skipping_collected() {
    let mut c = Cache::new(2);
    let (a, _) = c.insert(Object(1));
    let (b, _) = c.insert(Object(2));
    let (x, _) = c.insert(Primitive(3));
    let (y, _) = c.insert(Primitive(4)); // a, b demoted (a first)
    c.host.collect(Object(1));
    assert_eq!(c.p.pop(&mut c.host), Some((b, Some(Object(2)))));
    assert_eq!(c.tier(a), Tier::Collected, "noticed on the way");
    assert_eq!(c.p.pop(&mut c.host), Some((x, None)));
    assert_eq!(c.p.pop(&mut c.host), Some((y, None)));
    assert_eq!(c.p.pop(&mut c.host), None);
    assert_eq!(c.p.stats().removals[RemovalCause::Evict as usize], 3);
  }

  #[test]
  fn purge_stale_removes_stale_entries_least_recent_first() {
    let mut c = Cache::new(2);
    let (a, _) = c.insert_entry(Object(1), ttl(5.0, 1.0));
    let (b, _) = c.insert_entry(Object(2), ttl(5.0, 1.0));
    let (x, _) = c.insert_entry(Primitive(3), ttl(50.0, 1.0));
    let (y, _) = c.insert_entry(Primitive(4), ttl(5.0, 1.0)); // a, b weak
    c.host.collect(Object(1));
    assert_eq!(
      c.p.purge_stale(10.0, &mut c.host),
      [(b, Some(Object(2))), (y, None)]
    );
    assert_eq!(c.tier(a), Tier::Collected);
    assert_eq!(c.order(), [x]);
    assert_eq!(c.p.purge_stale(10.0, &mut c.host), []);
  }

  #[test]
  fn replacing_a_weak_entry_pins_it_again_in_its_slot_and_returns_the_old_value() {
    let mut c = Cache::new(1);
    let (a, _) = c.insert_entry(Object(1), ttl(10.0, 1.0));
    let (b, _) = c.insert(Object(2)); // a is demoted
    let lookup = c.p.replace(a, NewEntry::PLAIN, false, true, &mut c.host);
    assert_eq!(lookup, Ok(Lookup::Live(Some(Object(1)))));
    c.host.pinned_values.insert(a, Object(3));
    assert_eq!(c.settle(), [demoted(b)]);
    assert_eq!(c.order(), [a, b]);
    assert_eq!(
      c.host.facts[&a].ttl, 10.0,
      "without update_ttl the ttl stays"
    );
    c.host.collect(Object(2));
    let lookup = c.p.replace(b, NewEntry::PLAIN, true, true, &mut c.host);
    assert_eq!(lookup, Ok(Lookup::Collected));
  }

  #[test]
  fn an_entry_another_operation_found_collected_answers_collected_everywhere() {
    let mut c = Cache::new(1);
    let (a, _) = c.insert(Object(1));
    c.insert(Primitive(2)); // a is demoted
    c.host.collect(Object(1));
    c.p.clear(&mut c.host); // notices a; JS may still map its key
    assert_eq!(c.tier(a), Tier::Collected);
    assert_eq!(
      c.p.get(a, 0.0, 0.0, GET, &mut c.host),
      Ok(Lookup::Collected)
    );
    assert_eq!(c.peek_at(a, 0.0), Lookup::Collected);
    assert_eq!(c.p.hold(a, true, &mut c.host), Ok(Lookup::Collected));
    assert_eq!(
      c.p.remove(a, RemovalCause::Delete, &mut c.host),
      Ok(Removed::Collected)
    );
    assert_eq!(c.host.events.len(), 1, "reported once");
  }

  #[test]
  fn lookups_are_counted_as_js_records_them_and_sets_once_per_stored_value() {
    let mut c = Cache::new(2);
    for looked in [Looked::Hit, Looked::WeakHit, Looked::StaleHit, Looked::Miss, Looked::Miss] {
      c.p.record(looked);
    }
    let fetching = NewEntry {
      strong: true,
      ..NewEntry::PLAIN
    };
    let (f, _) = c.insert_entry(Object(1), fetching);
    assert_eq!(c.p.stats().sets, 0, "a fetch's placeholder is not a stored value");
    c.p.replace(f, NewEntry::PLAIN, true, true, &mut c.host).unwrap();
    c.insert(Primitive(2));
    let s = c.p.stats();
    assert_eq!(
      (s.hits, s.weak_hits, s.stale_hits, s.misses, s.sets),
      (2, 1, 1, 2, 2),
      "a stale hit is a hit too; the fetch's result and the set are stored values"
    );
  }

  #[test]
  fn stats_are_named_in_the_order_js_shows_them() {
    let names: Vec<_> = Stats::default().named().iter().map(|(n, _)| *n).collect();
    assert_eq!(
      names,
      [
        "hits",
        "weakHits",
        "staleHits",
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
