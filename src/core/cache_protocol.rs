//! The protocol between lib/weak-cache*.js and the native WeakCache: who holds what, the shared
//! memory, the calls, and the sequence of every operation. This is its one definition. JS reads
//! every number from `weakCacheProtocol()` at load (built from [`numbers`] and
//! [`RemovalCause::ALL`](super::removal_cause::RemovalCause::ALL)); a spec
//! (`__test__/weak-cache-protocol.test.js`) checks that JS and this module agree.
//!
//! # Who holds what
//! - **JS** holds the keys: `index` (a `Map` key -> slot) for every entry that is pinned, weak,
//!   or collected but not yet noticed, `keys[slot]`, `values[slot]` for pinned entries (holding
//!   them is what pins them; `undefined` for weak ones), and `fetches[slot]` for entries whose
//!   `fetchMethod` is in flight (their `values[slot]` is `undefined`). A pinned hit never leaves
//!   JS. Keys never cross into Rust, so they can be of any type JS can put in a `Map`. JS also
//!   holds everything that is a JS object by nature: option values, status objects, the
//!   `AbortController` and promise of a fetch, `ttlAutopurge` timers, and the clock.
//! - **Rust** holds the policy by slot (cache_policy.rs): order, tiers, the bounds (`max`,
//!   `maxSize`), each entry's facts (start, ttl, size) and staleness, statistics, and one weak
//!   handle (a Node-API reference with a finalizer) per demoted object value. It holds no key and
//!   no value strongly, and no JS array of the cache: values reach it as call arguments. Its only
//!   strong references are to the `io` and `facts` ArrayBuffers, which hold numbers and cannot
//!   point back at the cache, so nothing in Rust keeps a cache alive.
//! - **Shared memory**, made by JS (`io`, [`io::BYTES`] bytes) or by Rust (`facts`):
//!   - the *read log*: pinned hits JS answered without a call (their slot), and the outcome of
//!     lookups for the statistics (negative codes, [`looked`]: JS knows what a `get`, `fetch` or
//!     `memo` amounted to, a hit, a weak hit, a stale hit or a miss, which no single call sees).
//!     Every call replays it first ([`Io::replay_reads`]), so the policy's order is exact when it
//!     matters; JS calls `sync` when it is full. Only reads that change nothing but the order are
//!     logged (a read that restarts an age is a `get` call).
//!   - the *reply* of the last call: a status ([`status`]), the slot an `insert` gave its entry
//!     (a number in memory rather than a returned one, which would cost a call into V8), the
//!     entries it pushed out of the pinned tier, each a slot and a fate ([`DEMOTED`] or a
//!     [`RemovalCause`](super::removal_cause::RemovalCause) number), the total size of the pinned
//!     entries (`calculatedSize`), and the *tail*: the least recent pinned slot, the next one to
//!     be pushed out. JS reads the reply right after the call, before any user code can make
//!     another call. One call may push out more entries than the reply holds (a large entry under
//!     `maxSize`): the count says so, and `pushed` returns them all.
//!   - JS passes the tail's value (`values[tail]`) with every call that may push an entry out, so
//!     that a demotion needs no read of JS's array (a slow Node-API path). If logged reads moved
//!     the tail meanwhile, Rust reads the new tail's value from `values` instead.
//!   - `facts[3 * slot ..]`: the start, ttl and size of each entry ([`facts`]), written by Rust
//!     while the cache tracks ttls (from the first one) or sizes (from the start). JS fills
//!     statuses, `getRemainingTTL`, `info` and `dump` from it, and answers a pinned hit by itself
//!     only while `now - start < ttl` (strictly fresh); otherwise it asks Rust, which decides
//!     with lru-cache's rule (stale once `now - start > ttl`).
//!
//! # Calls
//! `weakCacheCreate(io, max, maxSize, flags, deliver)` returns the cache's native function
//! `native(op, ...arguments)`; its data is the cache, freed when the function is collected.
//! `max` -1 means no count limit; `flags` ([`flag`]) say whether sizes are tracked and whether the
//! cache has a weak tier. `deliver(slots)` is called on the event loop with the slots of entries
//! whose values the GC collected.
//!
//! The first argument is the op, with its [`flag`]s above its low [`OP_FLAGS_SHIFT`] bits (one
//! number to convert instead of two, on every call):
//!
//! | op | flags | arguments | returns | reply |
//! |---|---|---|---|---|
//! | `insert` | strong | value, ttl, start, size, values, tail value | - | slot, pushed |
//! | `replace` | changed, updateTtl, strong | slot, ttl, start, size, values, tail value | a weak entry's old value | status, pushed |
//! | `get` | updateAge, keepStale | slot, now, fresh, values, tail value | a weak value | status, pushed |
//! | `peek` | updateAge | slot, now, fresh | a weak value | status |
//! | `hold` | strong | slot, values, tail value | a weak value | status, pushed |
//! | `remove` | - | slot, cause | a weak value | status |
//! | `pop` | - | - | `[slot, weak value]`, or undefined when empty | - |
//! | `purge` | - | now | `[slot, weak value, ...]` of the stale entries it removed | - |
//! | `clear` | - | - | `[slot, weak value, ...]` of every entry it removed, least recent first | - |
//! | `order` | allowStale, reverse | now | slots, most recent first (or least) | - |
//! | `pushed` | - | - | `[slot, fate, ...]`: every entry the last call pushed out | - |
//! | `stats` | - | - | the `stats()` object | - |
//! | `sync` | - | - | - (replays the read log) | - |
//! | `facts` | clock | - | the `facts` ArrayBuffer (made if missing; the clock starts with the flag) | - |
//! | `injectPanic` | - | - | never (a panic in the middle of an update, for the fence's spec) | - |
//!
//! Every call leaves the calculated size and the tail in the reply. `values` is JS's array of
//! pinned values by slot: Rust may read the value of a pinned entry it must demote from it, during
//! the call (JS stores a `replace`'s new value there before the call, for a cache that demotes it
//! at once: `max` 0). `now` is the time staleness is judged at (lru-cache's `ttlResolution` may
//! hold it back), `fresh` the clock's current reading, where a restarted age starts. Until the
//! clock starts, JS passes 0 for every ttl and time and Rust does not read them; sizes are read
//! only in a cache that tracks them.
//!
//! # Sequences
//! In every sequence JS reads the clock, computes sizes (`sizeCalculation`) and validates
//! everything before its first call, applies the reply to its own state, and only then calls
//! user code (`dispose`, `onInsert`, `disposeAfter`, an `AbortSignal`'s listeners), in
//! lru-cache's order: a callback always sees a consistent cache, and may use it.
//! - **get(key)**: `slot = index.get(key)`. No slot: log a miss. A pinned slot (not fetching) that
//!   is strictly fresh, without `updateAgeOnGet`: log the read, return `values[slot]`. Otherwise
//!   `get(slot, now, fresh, values, values[tail])` (keepStale for `noDeleteOnStaleGet` and for a
//!   fetch in flight; updateAge for `updateAgeOnGet`): Rust replays the log, then a fresh pinned
//!   entry is touched, a fresh weak entry is pinned again (its value returned; it may push out the
//!   least recent pinned entries), a stale entry is removed or kept, and a collected one marked.
//!   JS applies the reply: the value of a weak hit goes to `values[slot]`; a removed or collected
//!   entry leaves the index (a collected one keeps `keys[slot]` for its `'collect'`); a demoted
//!   entry's value leaves `values`; an evicted entry leaves everything. Then user code:
//!   `'expire'`, then `'evict'`.
//! - **set(key, value, options)**: a ttl with no clock yet calls `facts` (clock) first. A key
//!   that has an entry: store the value in `values[slot]`, then `replace(slot, ttl, start, size,
//!   values, values[tail])` (changed, and updateTtl unless `noUpdateTTL`): a weak entry is pinned
//!   again in its slot and its old value comes back, a collected one answers collected and the key
//!   is set as a new one. A new key: `insert(value, ttl, start, size, values, values[tail])`,
//!   read the slot from the reply, refresh the `facts` view if the slot is beyond it (Rust grows the buffer
//!   before such an insert). Then apply the pushed entries, and user code: `'set'` for the
//!   replaced value, then `'evict'`s, then `onInsert`, then `disposeAfter`. An entry larger than
//!   `maxEntrySize` is never sent: the key's entry is deleted (`'set'`).
//! - **peek(key) / has(key)**: a strictly fresh pinned slot answers in JS (unless `has` restarts
//!   ages). Otherwise `peek(slot, now, fresh)` (updateAge for `updateAgeOnHas`): live (a weak value
//!   comes back), stale (nothing is removed), or collected (the key leaves the index).
//! - **delete(key)**: `remove(slot, Delete)`: removed (`dispose(value, key, 'delete')`; a fetch
//!   in flight is aborted and its stale value disposed) or collected (the key leaves the index;
//!   `delete` returns false, the `'collect'` follows).
//! - **fetch(key)**: a fresh entry is a `get` (keepStale). Otherwise the fetch holds the entry:
//!   a new key is an `insert` with the strong flag (`fetches[slot]` is the fetch, `values[slot]`
//!   stays empty); an existing one is `hold(slot, strong)`, which pins a weak entry again. A
//!   strong entry is evicted, never demoted, when pushed out (its fetch is aborted). When the
//!   fetch settles it is a `set` over its own slot (`replace` clears the flag), a `remove(slot,
//!   Fetch)`, or `hold(slot, not strong)` when the stale value goes back in place.
//! - **pop()**: `pop()`: the least recent entry (weak before pinned) is evicted; JS repeats while
//!   it finds only fetches without a stale value, as lru-cache does.
//! - **purgeStale() / ttlAutopurge**: `purge(now)` removes every stale entry at once; a timer
//!   asks `peek` and then removes one entry with `remove(slot, Expire)`.
//! - **clear()**: `clear()`; JS forgets every entry, then `'delete'` for each one that was live,
//!   least recent first (a fetch in flight is aborted and its stale value disposed). Entries found
//!   collected stay (in Rust, and their keys in JS) until their `'collect'`.
//! - **iteration**: `order()` (allowStale: every entry; reverse for the `r*` methods) gives the
//!   slots, JS turns them into keys at once (a snapshot), and looks each key up when the iterator
//!   reaches it (a pinned entry by its facts, a weak one with `peek`), skipping what is gone or
//!   stale.
//! - **collection**: the GC takes a weak value; its finalizer queues the entry id; one weak
//!   threadsafe-function call per batch runs `take_collected` (which frees the slots) and gives JS
//!   the slots; JS forgets them all first (the index only where it still maps the key to that
//!   slot), then calls `dispose(undefined, key, 'collect')` for each.

use super::cache_policy::{CachePolicy, Fate, Lookup, PushedOut, Removed, SlotIndex};

/// Offsets into `io`: indices of its Int32 view, except `CALCULATED` (its Float64 view).
pub mod io {
  /// The status of the last `replace`, `get`, `peek`, `hold` or `remove`.
  pub const STATUS: usize = 0;
  /// The least recent pinned slot after the last call (-1: none), the next to be pushed out.
  pub const TAIL: usize = 1;
  /// The slot the last `insert` gave its entry (a reply, not a returned value: making a JS number
  /// costs a call into V8).
  pub const SLOT: usize = 2;
  /// How many entries the last `insert`, `replace`, `get` or `hold` pushed out of the pinned tier.
  pub const PUSHED_COUNT: usize = 3;
  /// `(slot, fate)` pairs of those entries, as many as fit.
  pub const PUSHED: usize = 4;
  /// A `max` bound pushes out one entry per call; `maxSize` may push out more (then `pushed`).
  pub const PUSHED_CAPACITY: usize = 14;
  /// How many reads JS logged since the last call.
  pub const READ_COUNT: usize = PUSHED + 2 * PUSHED_CAPACITY;
  /// The logged reads: a pinned slot JS read (a hit: it becomes the most recent), or the outcome
  /// of a lookup (see [`looked`](super::looked)), for the statistics.
  pub const READS: usize = READ_COUNT + 1;
  pub const READ_CAPACITY: usize = 1024;
  /// Float64 index: the total size of the pinned entries after the last call.
  pub const CALCULATED: usize = (READS + READ_CAPACITY).div_ceil(2);
  pub const BYTES: usize = (CALCULATED + 1) * 8;
  /// The length of the Int32 part (everything before CALCULATED).
  pub const INTS: usize = CALCULATED * 2;
}

/// The `facts` buffer: a Float64 view, `STRIDE` numbers per slot.
pub mod facts {
  pub const STRIDE: usize = 3;
  /// When the entry's ttl started (0 without a ttl).
  pub const START: usize = 0;
  /// Its ttl (0: none).
  pub const TTL: usize = 1;
  /// Its size (0 when sizes are not tracked).
  pub const SIZE: usize = 2;
}

/// The codes of lookup outcomes in the read log (negative, so never a slot).
pub mod looked {
  use crate::core::cache_policy::Looked;

  pub const MISS: i32 = -1;
  pub const HIT: i32 = -2;
  pub const WEAK_HIT: i32 = -3;
  pub const STALE_HIT: i32 = -4;

  /// The outcome of a code; an unknown one (JS never writes one) is a miss.
  pub fn from_code(code: i32) -> Looked {
    match code {
      HIT => Looked::Hit,
      WEAK_HIT => Looked::WeakHit,
      STALE_HIT => Looked::StaleHit,
      _ => Looked::Miss,
    }
  }
}

/// Statuses in the reply.
pub mod status {
  pub const LIVE: i32 = 0;
  /// Past its ttl and still in the cache.
  pub const STALE: i32 = 1;
  /// Past its ttl and removed by the call (cause Expire).
  pub const EXPIRED: i32 = 2;
  pub const COLLECTED: i32 = 3;
}

/// The op number's low bits are the op; the bits above are its flags.
pub const OP_FLAGS_SHIFT: u32 = 8;

/// The flags of a call (shifted by [`OP_FLAGS_SHIFT`] in the op number), and of `weakCacheCreate`.
pub mod flag {
  /// `replace`: a new value (its weak handle, if any, goes).
  pub const CHANGED: i32 = 1;
  /// `replace`: the ttl and start apply (not `noUpdateTTL`).
  pub const UPDATE_TTL: i32 = 2;
  /// `insert`, `replace`, `hold`: the entry is strong (a fetch in flight).
  pub const STRONG: i32 = 4;
  /// `get`, `peek`: a fresh entry's age restarts at `fresh`.
  pub const UPDATE_AGE: i32 = 8;
  /// `get`: a stale entry stays.
  pub const KEEP_STALE: i32 = 16;
  /// `order`: stale entries too.
  pub const ALLOW_STALE: i32 = 32;
  /// `order`: least recent first.
  pub const REVERSE: i32 = 64;
  /// `facts`: start the clock (ttls and times are read from now on).
  pub const CLOCK: i32 = 128;
  /// `weakCacheCreate`: entries have sizes.
  pub const TRACK_SIZES: i32 = 256;
  /// `weakCacheCreate`: object values pushed out are demoted (the weak tier).
  pub const WEAK: i32 = 512;
}

/// The fate of a pushed-out entry that was demoted rather than removed.
pub const DEMOTED: i32 = -1;

crate::native_ops! {
  /// The calls of a cache's native function, `native(op | flags << OP_FLAGS_SHIFT, ...args)`. An
  /// op whose first argument is `flags` carries them in its op number, not as an argument (one
  /// number to convert instead of two, on every call): JS passes them to its method first, Rust
  /// reads them from the op number (see [`takes_flags`]).
  pub enum CacheOp, CacheCall {
    /// A new pinned entry (strong: a fetch in flight, `value` unused); returns its slot.
    Insert(flags, value, ttl, start, size, values, tail_value),
    /// New facts (changed: a new value; updateTtl; strong) for the entry in `slot`, pinned again
    /// as the most recent; returns a weak entry's old value.
    Replace(flags, slot, ttl, start, size, values, tail_value),
    /// A `get` of the entry in `slot` (updateAge, keepStale); returns a weak entry's value.
    Get(flags, slot, now, fresh, values, tail_value),
    /// A look at the entry in `slot` that moves nothing (updateAge restarts a fresh one's age).
    Peek(flags, slot, now, fresh),
    /// Makes the entry strong or plain again (strong), pinning a weak one first.
    Hold(flags, slot, values, tail_value),
    /// Removes the entry in `slot` for `cause`; returns a weak entry's value.
    Remove(slot, cause),
    /// Evicts the least recent entry: `[slot, weak value]`, or undefined when empty.
    Pop(),
    /// Removes every entry stale at `now`: `[slot, weak value, ...]`.
    Purge(now),
    /// Removes every entry: `[slot, weak value, ...]`, least recent first.
    Clear(),
    /// The slots in the cache's order (allowStale, reverse).
    Order(flags, now),
    /// `[slot, fate, ...]` of every entry the last call pushed out of the pinned tier.
    Pushed(),
    /// The `stats()` object.
    Stats(),
    /// Nothing but the read log's replay, which every call does first.
    Sync(),
    /// The `facts` buffer, made if missing (clock: the clock starts).
    Facts(flags),
    /// Test-only: panics in the middle of an update. It stays in the release build on purpose:
    /// the spec of the fence (a caught panic marks the cache broken) must run against the very
    /// binary users get. JS reaches it only through lib/weak-cache.js's `forSpecs`.
    InjectPanic(),
  }
}

/// Whether `op` carries flags in its op number (its first declared argument is `flags`).
pub fn takes_flags(op: CacheOp) -> bool {
  op.args().first() == Some(&"flags")
}

/// The op and its flags, from the number JS passes first.
pub fn op_and_flags(word: i32) -> Option<(CacheOp, i32)> {
  let op = CacheOp::from_number(u32::try_from(word & ((1 << OP_FLAGS_SHIFT) - 1)).ok()?)?;
  Some((op, word >> OP_FLAGS_SHIFT))
}

/// The named numbers JS reads at load, grouped as `weakCacheProtocol()` returns them.
pub fn numbers() -> [(&'static str, Vec<(&'static str, i32)>); 5] {
  let layout = vec![
    ("bytes", io::BYTES as i32),
    ("status", io::STATUS as i32),
    ("tail", io::TAIL as i32),
    ("slot", io::SLOT as i32),
    ("pushedCount", io::PUSHED_COUNT as i32),
    ("pushed", io::PUSHED as i32),
    ("pushedCapacity", io::PUSHED_CAPACITY as i32),
    ("readCount", io::READ_COUNT as i32),
    ("reads", io::READS as i32),
    ("readCapacity", io::READ_CAPACITY as i32),
    ("calculated", io::CALCULATED as i32),
    ("demoted", DEMOTED),
    ("opFlagsShift", OP_FLAGS_SHIFT as i32),
  ];
  let facts = vec![
    ("stride", facts::STRIDE as i32),
    ("start", facts::START as i32),
    ("ttl", facts::TTL as i32),
    ("size", facts::SIZE as i32),
  ];
  let statuses = vec![
    ("live", status::LIVE),
    ("stale", status::STALE),
    ("expired", status::EXPIRED),
    ("collected", status::COLLECTED),
  ];
  let flags = vec![
    ("changed", flag::CHANGED),
    ("updateTtl", flag::UPDATE_TTL),
    ("strong", flag::STRONG),
    ("updateAge", flag::UPDATE_AGE),
    ("keepStale", flag::KEEP_STALE),
    ("allowStale", flag::ALLOW_STALE),
    ("reverse", flag::REVERSE),
    ("clock", flag::CLOCK),
    ("trackSizes", flag::TRACK_SIZES),
    ("weak", flag::WEAK),
  ];
  let lookups = vec![
    ("miss", looked::MISS),
    ("hit", looked::HIT),
    ("weakHit", looked::WEAK_HIT),
    ("staleHit", looked::STALE_HIT),
  ];
  [
    ("io", layout),
    ("facts", facts),
    ("status", statuses),
    ("flag", flags),
    ("looked", lookups),
  ]
}

pub fn lookup_status<V>(lookup: &Lookup<V>) -> i32 {
  match lookup {
    Lookup::Live(_) => status::LIVE,
    Lookup::Stale { removed: false, .. } => status::STALE,
    Lookup::Stale { removed: true, .. } => status::EXPIRED,
    Lookup::Collected => status::COLLECTED,
  }
}

pub fn removed_status<V>(removed: &Removed<V>) -> i32 {
  match removed {
    Removed::Pinned | Removed::Weak(_) => status::LIVE,
    Removed::Collected => status::COLLECTED,
  }
}

/// The number JS receives for a pushed-out entry's fate.
pub fn fate_number(fate: Fate) -> i32 {
  match fate {
    Fate::Demoted => DEMOTED,
    Fate::Removed(cause) => cause as i32,
  }
}

/// The `io` buffer during one call: its Int32 part and the calculated size.
pub struct Io<'a> {
  ints: &'a mut [i32],
  calculated: &'a mut f64,
}

impl<'a> Io<'a> {
  pub fn new(ints: &'a mut [i32], calculated: &'a mut f64) -> Self {
    assert!(ints.len() >= io::INTS);
    Io { ints, calculated }
  }

  /// Replays the reads JS logged since the last call into the policy, oldest first, and empties
  /// the log. A count out of range (JS never writes one) replays nothing.
  pub fn replay_reads<H: Copy>(&mut self, policy: &mut CachePolicy<H>) {
    let count = usize::try_from(self.ints[io::READ_COUNT]).unwrap_or(0);
    self.ints[io::READ_COUNT] = 0;
    for i in 0..count.min(io::READ_CAPACITY) {
      let read = self.ints[io::READS + i];
      match u32::try_from(read) {
        Ok(slot) => policy.touch(slot),
        Err(_) => policy.record(looked::from_code(read)),
      }
    }
  }

  /// The tail the last call published (see [`io::TAIL`]).
  pub fn published_tail(&self) -> Option<SlotIndex> {
    u32::try_from(self.ints[io::TAIL]).ok()
  }

  /// Writes what every call leaves: the tail and the calculated size.
  pub fn set_state<H: Copy>(&mut self, policy: &CachePolicy<H>) {
    self.ints[io::TAIL] = policy.tail().map_or(-1, |slot| slot as i32);
    *self.calculated = policy.calculated_size();
  }

  pub fn set_status(&mut self, status: i32) {
    self.ints[io::STATUS] = status;
  }

  pub fn set_slot(&mut self, slot: SlotIndex) {
    self.ints[io::SLOT] = slot as i32;
  }

  /// Writes the entries the call pushed out of the pinned tier: their count, and as many as fit.
  pub fn set_pushed(&mut self, pushed: &[PushedOut]) {
    self.ints[io::PUSHED_COUNT] = pushed.len() as i32;
    for (i, out) in pushed.iter().take(io::PUSHED_CAPACITY).enumerate() {
      self.ints[io::PUSHED + 2 * i] = out.slot as i32;
      self.ints[io::PUSHED + 2 * i + 1] = fate_number(out.fate);
    }
  }
}

#[cfg(test)]
mod tests {
  use super::super::cache_policy::{Config, NewEntry};
  use super::*;
  use crate::core::cache_policy::{Demotion, Facts, Host, VersionedSlot};
  use crate::core::removal_cause::RemovalCause;

  /// A host for the replay: primitives only.
  struct Plain;

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
    fn report_collected(&mut self, _: VersionedSlot) {}
    fn publish(&mut self, _: SlotIndex, _: Facts) {}
  }

  fn log(ints: &mut [i32], reads: &[i32]) {
    let start = ints[io::READ_COUNT] as usize;
    for (i, slot) in reads.iter().enumerate() {
      ints[io::READS + start + i] = *slot;
    }
    ints[io::READ_COUNT] = (start + reads.len()) as i32;
  }

  #[test]
  fn the_layout_fits_and_the_regions_are_disjoint_and_aligned() {
    const { assert!(io::PUSHED + 2 * io::PUSHED_CAPACITY <= io::READ_COUNT) };
    const { assert!(io::READS + io::READ_CAPACITY <= io::INTS) };
    assert_eq!(
      io::INTS * 4,
      io::CALCULATED * 8,
      "the Float64 part starts where the Int32 part ends"
    );
    assert_eq!(io::BYTES, io::INTS * 4 + 8);
  }

  #[test]
  fn flags_are_distinct_bits_and_travel_above_the_op() {
    let [.., (_, flags), _] = numbers();
    let mut seen = 0;
    for (name, bit) in flags {
      assert_eq!(bit.count_ones(), 1, "{name}");
      assert_eq!(seen & bit, 0, "{name}");
      seen |= bit;
    }
  }

  #[test]
  fn replay_applies_hits_in_order_counts_misses_and_empties_the_log() {
    let mut policy = CachePolicy::<u32>::new(Config::max(3));
    let slots: Vec<_> = (0..3)
      .map(|_| policy.insert(NewEntry::PLAIN, &mut Plain))
      .collect();
    let mut ints = vec![0; io::INTS];
    let mut calculated = 0.0;
    log(&mut ints, &[slots[0] as i32, -1, slots[1] as i32]);
    Io::new(&mut ints, &mut calculated).replay_reads(&mut policy);
    assert_eq!(
      policy.order(0.0, true, false),
      [slots[1], slots[0], slots[2]]
    );
    let stats = policy.stats();
    assert_eq!((stats.hits, stats.misses), (2, 1));
    assert_eq!(ints[io::READ_COUNT], 0);
  }

  #[test]
  fn replay_ignores_reads_of_entries_that_left_and_a_corrupt_count() {
    let mut policy = CachePolicy::<u32>::new(Config::max(3));
    let mut ints = vec![0; io::INTS];
    let mut calculated = 0.0;
    log(&mut ints, &[7]);
    Io::new(&mut ints, &mut calculated).replay_reads(&mut policy);
    ints[io::READ_COUNT] = i32::MAX;
    Io::new(&mut ints, &mut calculated).replay_reads(&mut policy);
    ints[io::READ_COUNT] = -5;
    Io::new(&mut ints, &mut calculated).replay_reads(&mut policy);
    assert_eq!(policy.stats().hits, 0);
    assert_eq!(ints[io::READ_COUNT], 0);
  }

  #[test]
  fn pushed_entries_are_written_as_slot_and_fate_with_the_full_count() {
    let mut ints = vec![0; io::INTS];
    let mut calculated = 0.0;
    let mut io = Io::new(&mut ints, &mut calculated);
    let many: Vec<_> = (0..20)
      .map(|slot| PushedOut {
        slot,
        fate: if slot == 0 {
          Fate::Demoted
        } else {
          Fate::Removed(RemovalCause::Evict)
        },
      })
      .collect();
    io.set_pushed(&many);
    assert_eq!(ints[io::PUSHED_COUNT], 20, "the count says more follow");
    assert_eq!(
      &ints[io::PUSHED..io::PUSHED + 4],
      [0, DEMOTED, 1, RemovalCause::Evict as i32]
    );
    let last = io::PUSHED + 2 * io::PUSHED_CAPACITY;
    assert_eq!(ints[last - 2], io::PUSHED_CAPACITY as i32 - 1);
    assert_eq!(ints[last], 0, "nothing written past the capacity");
  }

  #[test]
  fn the_state_is_the_tail_as_a_slot_or_minus_one_and_the_calculated_size() {
    let mut policy = CachePolicy::<u32>::new(Config {
      max: None,
      max_size: 10.0,
      track_sizes: true,
      weak: true,
    });
    let mut ints = vec![0; io::INTS];
    let mut calculated = 0.0;
    Io::new(&mut ints, &mut calculated).set_state(&policy);
    assert_eq!(ints[io::TAIL], -1);
    let entry = NewEntry {
      size: 4.0,
      ..NewEntry::PLAIN
    };
    let slot = policy.insert(entry, &mut Plain);
    let mut io = Io::new(&mut ints, &mut calculated);
    io.set_state(&policy);
    assert_eq!(io.published_tail(), Some(slot));
    assert_eq!(calculated, 4.0);
  }

  #[test]
  fn ops_and_their_flags_travel_in_one_number() {
    for &op in CacheOp::ALL {
      let flags = if takes_flags(op) {
        flag::KEEP_STALE | flag::UPDATE_AGE
      } else {
        0
      };
      let word = op.number() as i32 | flags << OP_FLAGS_SHIFT;
      assert_eq!(op_and_flags(word), Some((op, flags)), "{}", op.name());
    }
    assert_eq!(op_and_flags(CacheOp::ALL.len() as i32), None);
    assert!(CacheOp::ALL.len() < 1 << OP_FLAGS_SHIFT);
    let [.., (_, flags), _] = numbers();
    let highest = flags.iter().map(|(_, bit)| *bit).max().unwrap();
    assert!(
      i64::from(highest) << OP_FLAGS_SHIFT <= i64::from(i32::MAX),
      "every flag fits above the op in an Int32"
    );
  }

  #[test]
  fn an_op_that_takes_flags_declares_them_first() {
    assert!(takes_flags(CacheOp::Get));
    assert!(!takes_flags(CacheOp::Remove));
    for &op in CacheOp::ALL {
      assert!(
        op.args().iter().skip(1).all(|arg| *arg != "flags"),
        "{}",
        op.name()
      );
    }
  }
}
