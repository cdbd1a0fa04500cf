//! The protocol between lib/weak-cache.js and the native WeakCache: who holds what, the shared
//! memory, the calls, and the sequence of every operation. This is its one definition. JS reads
//! every number from `weakCacheProtocol()` at load (built from [`numbers`] and
//! [`RemovalCause::ALL`](super::removal_cause::RemovalCause::ALL)); a spec
//! (`__test__/weak-cache-protocol.test.js`) checks that JS and this module agree.
//!
//! # Who holds what
//! - **JS** holds the keys: `index` (a `Map` key -> slot) for every entry that is pinned, weak,
//!   or collected but not yet noticed, `keys[slot]`, and `values[slot]` for pinned entries (holding
//!   them is what pins them; `undefined` for weak ones). A pinned hit never leaves JS. Keys never
//!   cross into Rust, so they can be of any type JS can put in a `Map`.
//! - **Rust** holds the policy by slot (cache_policy.rs): order, tiers, ttl, statistics, and one
//!   weak handle (a Node-API reference with a finalizer) per demoted object value. It holds no key
//!   and no value strongly, and no JS array of the cache: values reach it as call arguments. Its
//!   only strong references are to the `io` and `deadlines` ArrayBuffers, which hold numbers and
//!   cannot point back at the cache, so nothing in Rust keeps a cache alive.
//! - **Shared memory**, made by JS (`io`, [`io::BYTES`] bytes) or by Rust (`deadlines`):
//!   - the *read log*: pinned hits (their slot, and their time when the cache has a clock) and
//!     misses (-1) that JS recorded without a call. Every call replays it first
//!     ([`Io::replay_reads`]), so the policy's order is exact when it matters; JS calls `sync` when
//!     it is full.
//!   - the *reply* of the last call: a status ([`status`]), the entries it pushed out of the
//!     pinned tier, each a slot and a fate ([`DEMOTED`] or a
//!     [`RemovalCause`](super::removal_cause::RemovalCause) number), and the *tail*: the least
//!     recent pinned slot, the next one to be pushed out. JS reads the reply right after the call,
//!     before any user code can make another call.
//!   - JS passes the tail's value (`values[tail]`) with every call that may push an entry out, so
//!     that a demotion needs no read of JS's array (a slow Node-API path). If logged reads moved
//!     the tail meanwhile, Rust reads the new tail's value from `values` instead.
//!   - `deadlines[slot]`: when each pinned entry expires (`Infinity`: never), written by Rust
//!     once the cache has a clock. JS answers a pinned hit by itself only strictly before the
//!     deadline; at or after it, it asks Rust, which decides (with `updateAgeOnGet` the deadline
//!     may have moved).
//!
//! # Calls
//! `weakCacheCreate(io, max, updateAgeOnGet, deliver)` returns the cache's native function
//! `native(op, ...arguments)`; its data is the cache, freed when the function is collected.
//! `deliver(slots)` is called on the event loop with the slots of entries whose values the GC
//! collected.
//!
//! | op | arguments | returns | reply |
//! |---|---|---|---|
//! | `insert` | value, ttl, now, values, tail value | the new slot | pushed |
//! | `replace` | slot, ttl, now, changed | - | - |
//! | `get` | slot, now, values, tail value | a weak entry's value | status, pushed |
//! | `peek` | slot, now | a weak entry's value | status |
//! | `remove` | slot, cause | a weak entry's value | status |
//! | `clear` | - | `[slot, value, ...]` of live weak entries | - |
//! | `order` | - | live slots, pinned most recent first, then weak most recently demoted first | - |
//! | `stats` | - | the `stats()` object | - |
//! | `sync` | - | - (replays the read log) | - |
//! | `timing` | - | the `deadlines` ArrayBuffer (starts the clock) | - |
//! | `injectPanic` | - | never (a panic in the middle of an update, for the fence's spec) | - |
//!
//! `values` is JS's array of pinned values by slot: Rust may read the value of a pinned entry it
//! must demote from it, during the call (every call also publishes the tail, see above). `now` is
//! the cache's clock. Until `timing` starts the clock, JS passes 0 for every ttl and time and Rust
//! does not read them.
//!
//! # Sequences
//! In every sequence JS reads the clock and validates everything before its first call, applies
//! the reply to its own state, and only then calls `dispose`: a callback always sees a consistent
//! cache, and may use it.
//! - **get(key)**: `slot = index.get(key)`. No slot: log a miss. A pinned slot before its
//!   deadline: log the read, return `values[slot]`. Otherwise `get(slot, now, values,
//!   values[tail])`: Rust replays the log, then a live pinned entry is touched, a live weak entry
//!   is pinned again (its value returned; it may push out the least recent pinned entry), an
//!   expired entry is removed, and a collected one marked. JS applies the reply: the value of a
//!   weak hit goes to `values[slot]`; an expired or collected entry leaves the index (a collected
//!   one keeps `keys[slot]` for its `'collect'`); a demoted entry's value leaves `values`; an
//!   evicted entry leaves everything. Then `dispose`: `'expire'`, then `'evict'`.
//! - **set(key, value, { ttl })**: a ttl with no clock yet calls `timing` first. A pinned key:
//!   `replace(slot, ttl, now, changed)`, store the value, `dispose(old, 'set')` if it changed. A
//!   weak key: `remove(slot, Set)` (the old value, or collected), then as a new key. A new key:
//!   `insert(value, ttl, now, values, values[tail])`, record the slot, refresh the `deadlines` view
//!   if the slot is beyond it (Rust grows the buffer before such an insert), apply the pushed
//!   entries, then `dispose`: `'set'` for a replaced weak value, then `'evict'`.
//! - **peek(key) / has(key)**: a pinned slot before its deadline answers in JS. Otherwise
//!   `peek(slot, now)`: live (a weak value comes back), expired (nothing is removed), or collected
//!   (the key leaves the index).
//! - **delete(key)**: `remove(slot, Delete)`: removed (`dispose(value, key, 'delete')`) or
//!   collected (the key leaves the index; `delete` returns false, the `'collect'` follows).
//! - **clear()**: `clear()`; JS forgets every entry, then `'delete'` for each pinned entry and
//!   each live weak one. Entries found collected stay (in Rust, and their keys in JS) until their
//!   `'collect'`.
//! - **iteration**: `order()` gives the slots, JS turns them into keys at once (a snapshot), and
//!   looks each key up as `peek` does when the iterator reaches it.
//! - **collection**: the GC takes a weak value; its finalizer queues the entry id; one weak
//!   threadsafe-function call per batch runs `take_collected` (which frees the slots) and gives JS
//!   the slots; JS forgets them all first (the index only where it still maps the key to that
//!   slot), then calls `dispose(undefined, key, 'collect')` for each.
//!
//! # Extending it (lru-cache parity)
//! - Keys of any type: they never cross, so only JS's validation changes.
//! - `maxSize`/`sizeCalculation`: a size argument on `insert`/`replace`; one call may then push
//!   out several entries, which the pushed list (with its count) already carries.
//! - `fetch`, `memo`: values are opaque to Rust; a pending fetch is a value JS holds like any
//!   other.
//! - `allowStale`, `noDeleteOnStaleGet`, `updateAgeOnHas`: JS chooses what to do with an
//!   `expired` status; keeping a stale entry is a flag on `get`.
//! - Status objects: built in JS from the status and the pushed list of each call.
//! - New removal causes (lru-cache's `'fetch'`): a variant of `RemovalCause`, which JS reads at
//!   load.

use super::cache_policy::{CachePolicy, Fate, Host, Lookup, PushedOut, Removed, SlotIndex};

/// Offsets into `io`: indices of its Int32 view, except `READ_TIMES` (its Float64 view).
pub mod io {
  /// The status of the last `get`, `peek` or `remove`.
  pub const STATUS: usize = 0;
  /// The least recent pinned slot after the last call (-1: none), the next to be pushed out.
  pub const TAIL: usize = 1;
  /// How many entries the last `insert` or `get` pushed out of the pinned tier.
  pub const PUSHED_COUNT: usize = 2;
  /// `(slot, fate)` pairs of those entries.
  pub const PUSHED: usize = 3;
  /// One `max` bound pushes out at most one entry per call; room for bounds that push out more.
  pub const PUSHED_CAPACITY: usize = 14;
  /// How many reads JS logged since the last call.
  pub const READ_COUNT: usize = PUSHED + 2 * PUSHED_CAPACITY;
  /// The logged reads: a pinned slot, or -1 for a miss.
  pub const READS: usize = READ_COUNT + 1;
  pub const READ_CAPACITY: usize = 1024;
  /// Float64 index: the time of each logged read (written while the cache has a clock).
  pub const READ_TIMES: usize = (READS + READ_CAPACITY).div_ceil(2);
  pub const BYTES: usize = (READ_TIMES + READ_CAPACITY) * 8;
  /// The length of the Int32 part (everything before READ_TIMES).
  pub const INTS: usize = READ_TIMES * 2;
}

/// Statuses in the reply.
pub mod status {
  pub const LIVE: i32 = 0;
  pub const EXPIRED: i32 = 1;
  pub const COLLECTED: i32 = 2;
}

/// The fate of a pushed-out entry that was demoted rather than removed.
pub const DEMOTED: i32 = -1;

/// The operations of the native function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
  Insert = 0,
  Replace = 1,
  Get = 2,
  Peek = 3,
  Remove = 4,
  Clear = 5,
  Order = 6,
  Stats = 7,
  Sync = 8,
  Timing = 9,
  InjectPanic = 10,
}

impl Op {
  pub const ALL: [(Op, &'static str); 11] = [
    (Op::Insert, "insert"),
    (Op::Replace, "replace"),
    (Op::Get, "get"),
    (Op::Peek, "peek"),
    (Op::Remove, "remove"),
    (Op::Clear, "clear"),
    (Op::Order, "order"),
    (Op::Stats, "stats"),
    (Op::Sync, "sync"),
    (Op::Timing, "timing"),
    (Op::InjectPanic, "injectPanic"),
  ];

  pub fn from_number(n: i32) -> Option<Op> {
    Op::ALL.iter().map(|(op, _)| *op).find(|op| *op as i32 == n)
  }
}

/// The named numbers JS reads at load, grouped as `weakCacheProtocol()` returns them.
pub fn numbers() -> [(&'static str, Vec<(&'static str, i32)>); 3] {
  let layout = vec![
    ("bytes", io::BYTES as i32),
    ("status", io::STATUS as i32),
    ("tail", io::TAIL as i32),
    ("pushedCount", io::PUSHED_COUNT as i32),
    ("pushed", io::PUSHED as i32),
    ("pushedCapacity", io::PUSHED_CAPACITY as i32),
    ("readCount", io::READ_COUNT as i32),
    ("reads", io::READS as i32),
    ("readCapacity", io::READ_CAPACITY as i32),
    ("readTimes", io::READ_TIMES as i32),
    ("demoted", DEMOTED),
  ];
  let statuses = vec![
    ("live", status::LIVE),
    ("expired", status::EXPIRED),
    ("collected", status::COLLECTED),
  ];
  let ops = Op::ALL
    .iter()
    .map(|(op, name)| (*name, *op as i32))
    .collect();
  [("io", layout), ("status", statuses), ("op", ops)]
}

pub fn lookup_status<V>(lookup: &Lookup<V>) -> i32 {
  match lookup {
    Lookup::Live(_) => status::LIVE,
    Lookup::Expired(_) => status::EXPIRED,
    Lookup::Collected => status::COLLECTED,
  }
}

pub fn removed_status<V>(removed: &Removed<V>) -> i32 {
  match removed {
    Removed::Pinned | Removed::Weak(_) => status::LIVE,
    Removed::Collected => status::COLLECTED,
  }
}

/// The `io` buffer during one call: its Int32 part and its read times.
pub struct Io<'a> {
  ints: &'a mut [i32],
  times: &'a [f64],
}

impl<'a> Io<'a> {
  pub fn new(ints: &'a mut [i32], times: &'a [f64]) -> Self {
    assert!(ints.len() >= io::INTS && times.len() >= io::READ_CAPACITY);
    Io { ints, times }
  }

  /// Replays the reads JS logged since the last call into the policy, oldest first, and empties
  /// the log. A count out of range (JS never writes one) replays nothing.
  pub fn replay_reads<H: Copy>(
    &mut self,
    policy: &mut CachePolicy<H>,
    host: &mut impl Host<Handle = H>,
  ) {
    let count = usize::try_from(self.ints[io::READ_COUNT]).unwrap_or(0);
    self.ints[io::READ_COUNT] = 0;
    for i in 0..count.min(io::READ_CAPACITY) {
      match u32::try_from(self.ints[io::READS + i]) {
        Ok(slot) => policy.touch(slot, self.times[i], host),
        Err(_) => policy.record_miss(),
      }
    }
  }

  /// The tail the last call published (see [`io::TAIL`]).
  pub fn published_tail(&self) -> Option<SlotIndex> {
    u32::try_from(self.ints[io::TAIL]).ok()
  }

  pub fn set_tail(&mut self, tail: Option<SlotIndex>) {
    self.ints[io::TAIL] = tail.map_or(-1, |slot| slot as i32);
  }

  pub fn set_status(&mut self, status: i32) {
    self.ints[io::STATUS] = status;
  }

  /// Writes the entries the call pushed out of the pinned tier.
  pub fn set_pushed(&mut self, pushed: &[PushedOut]) {
    assert!(
      pushed.len() <= io::PUSHED_CAPACITY,
      "one call pushed out {} entries",
      pushed.len()
    );
    self.ints[io::PUSHED_COUNT] = pushed.len() as i32;
    for (i, out) in pushed.iter().enumerate() {
      self.ints[io::PUSHED + 2 * i] = out.slot as i32;
      self.ints[io::PUSHED + 2 * i + 1] = match out.fate {
        Fate::Demoted => DEMOTED,
        Fate::Removed(cause) => cause as i32,
      };
    }
  }
}

#[cfg(test)]
mod tests {
  use super::super::cache_policy::{Demotion, EntryId};
  use super::*;
  use crate::core::removal_cause::RemovalCause;

  /// A host for the replay: primitives only, deadlines recorded.
  #[derive(Default)]
  struct Plain {
    deadlines: Vec<(SlotIndex, f64)>,
  }

  impl Host for Plain {
    type Handle = u32;
    type Value = ();
    fn watch(&mut self, _: Demotion) -> Option<u32> {
      None
    }
    fn read(&mut self, _: u32) -> Option<()> {
      None
    }
    fn release(&mut self, _: u32) {}
    fn report_collected(&mut self, _: EntryId) {}
    fn publish_deadline(&mut self, slot: SlotIndex, deadline: f64) {
      self.deadlines.push((slot, deadline));
    }
  }

  fn buffers() -> (Vec<i32>, Vec<f64>) {
    (vec![0; io::INTS], vec![0.0; io::READ_CAPACITY])
  }

  fn log(ints: &mut [i32], times: &mut [f64], reads: &[(i32, f64)]) {
    let start = ints[io::READ_COUNT] as usize;
    for (i, (slot, at)) in reads.iter().enumerate() {
      ints[io::READS + start + i] = *slot;
      times[start + i] = *at;
    }
    ints[io::READ_COUNT] = (start + reads.len()) as i32;
  }

  #[test]
  fn the_layout_fits_and_the_regions_are_disjoint_and_aligned() {
    assert!(io::PUSHED + 2 * io::PUSHED_CAPACITY <= io::READ_COUNT);
    assert!(io::READS + io::READ_CAPACITY <= io::INTS);
    assert_eq!(
      io::INTS * 4,
      io::READ_TIMES * 8,
      "the Float64 part starts where the Int32 part ends"
    );
    assert_eq!(io::BYTES, io::INTS * 4 + io::READ_CAPACITY * 8);
  }

  #[test]
  fn replay_applies_hits_in_order_counts_misses_and_empties_the_log() {
    let mut policy = CachePolicy::<u32>::new(3, false);
    let mut host = Plain::default();
    let slots: Vec<_> = (0..3).map(|_| policy.insert(0.0, 0.0, &mut host)).collect();
    let (mut ints, mut times) = buffers();
    log(
      &mut ints,
      &mut times,
      &[(slots[0] as i32, 0.0), (-1, 0.0), (slots[1] as i32, 0.0)],
    );
    let mut io = Io::new(&mut ints, &times);
    io.replay_reads(&mut policy, &mut host);
    assert_eq!(
      policy.order().collect::<Vec<_>>(),
      [slots[1], slots[0], slots[2]]
    );
    let stats = policy.stats();
    assert_eq!((stats.hits, stats.misses), (2, 1));
    assert_eq!(ints[io::READ_COUNT], 0);
  }

  #[test]
  fn replay_restarts_ages_at_the_logged_times_with_update_age_on_get() {
    let mut policy = CachePolicy::<u32>::new(3, true);
    let mut host = Plain::default();
    let slot = policy.insert(10.0, 100.0, &mut host);
    let (mut ints, mut times) = buffers();
    log(
      &mut ints,
      &mut times,
      &[(slot as i32, 104.0), (slot as i32, 107.0)],
    );
    Io::new(&mut ints, &times).replay_reads(&mut policy, &mut host);
    assert_eq!(
      host.deadlines.last(),
      Some(&(slot, 117.0)),
      "aged from the last logged read"
    );
  }

  #[test]
  fn replay_ignores_reads_of_entries_that_left_and_a_corrupt_count() {
    let mut policy = CachePolicy::<u32>::new(3, false);
    let mut host = Plain::default();
    let (mut ints, mut times) = buffers();
    log(&mut ints, &mut times, &[(7, 0.0)]);
    Io::new(&mut ints, &times).replay_reads(&mut policy, &mut host);
    ints[io::READ_COUNT] = i32::MAX;
    Io::new(&mut ints, &times).replay_reads(&mut policy, &mut host);
    ints[io::READ_COUNT] = -5;
    Io::new(&mut ints, &times).replay_reads(&mut policy, &mut host);
    assert_eq!(policy.stats().hits, 0);
    assert_eq!(ints[io::READ_COUNT], 0);
  }

  #[test]
  fn pushed_entries_are_written_as_slot_and_fate() {
    let (mut ints, times) = buffers();
    let mut io = Io::new(&mut ints, &times);
    io.set_pushed(&[
      PushedOut {
        slot: 4,
        fate: Fate::Demoted,
      },
      PushedOut {
        slot: 9,
        fate: Fate::Removed(RemovalCause::Evict),
      },
    ]);
    assert_eq!(
      &ints[io::PUSHED_COUNT..io::PUSHED + 4],
      [2, 4, DEMOTED, 9, RemovalCause::Evict as i32]
    );
  }

  #[test]
  fn the_tail_is_published_as_a_slot_or_minus_one() {
    let (mut ints, times) = buffers();
    let mut io = Io::new(&mut ints, &times);
    io.set_tail(Some(7));
    assert_eq!(io.published_tail(), Some(7));
    io.set_tail(None);
    assert_eq!(io.published_tail(), None);
    assert_eq!(ints[io::TAIL], -1);
  }

  #[test]
  fn ops_round_trip_through_their_numbers() {
    for (op, _) in Op::ALL {
      assert_eq!(Op::from_number(op as i32), Some(op));
    }
    assert_eq!(Op::from_number(99), None);
  }
}
