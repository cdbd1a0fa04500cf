//! The policy's unit tests, against a fake host (JS's values by slot, weak handles that are plain
//! numbers, a GC that kills objects and the finalizers' queue).

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
  assert_eq!(
    c.peek_at(zero, 1e9),
    Lookup::Live(None),
    "start 0: lru-cache's `!!start`"
  );
  assert_eq!(
    c.peek_at(nan, 1e9),
    Lookup::Live(None),
    "start NaN (a dump of no start)"
  );
  assert_eq!(
    c.peek_at(control, 1e9),
    stale(None, false),
    "the control expires"
  );
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
  assert!(c.p.slots.count() < 60, "{} slots", c.p.slots.count());
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
  for looked in [
    Looked::Hit,
    Looked::WeakHit,
    Looked::StaleHit,
    Looked::Miss,
    Looked::Miss,
  ] {
    c.p.record(looked);
  }
  let fetching = NewEntry {
    strong: true,
    ..NewEntry::PLAIN
  };
  let (f, _) = c.insert_entry(Object(1), fetching);
  assert_eq!(
    c.p.stats().sets,
    0,
    "a fetch's placeholder is not a stored value"
  );
  c.p
    .replace(f, NewEntry::PLAIN, true, true, &mut c.host)
    .unwrap();
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
