//! The protocol between lib/iterable-weak-map.js and an IterableWeakMap's native table, declared
//! once (see protocol.rs). JS builds its adapter from `weakTableProtocol()` at load.
//!
//! # Who holds what
//! - **JS** holds `key -> value` in a real `WeakMap` (V8's ephemeron table: a value that references
//!   its key still dies with it) and `key -> entry` in a second one, with `entry = { key, id }`.
//!   get, has and set of a present key never cross into Rust.
//! - **Rust** holds, per entry, one weak reference with a finalizer to the *entry* object (never to
//!   the key: an entry lives exactly as long as its key is in the map), in insertion order
//!   (ordered_table.rs), for `size`, `clear()` and iteration.
//! - **Shared memory**: a map's first delete shares a `Float64Array` `[count, id, id, ...]` with
//!   its table (`shareRemoved`); later deletes append there without a call (a call costs about as
//!   much as the removal itself), and JS calls `drain` when it is full.
//!
//! # Sequences
//! Every call first removes the ids in the shared array (and resets its count) and deletes the
//! references of entries the GC finalized, then does its op. So no op ever sees an entry that
//! was deleted or collected.
//!
//! Collections: the table counts the entries it removed because the GC collected their key
//! (`collected`). A map with an `onCollect` callback gives the table a `wake` function
//! (`watchCollected`): after a collection, once per batch of finalizers, the table calls it on
//! the event loop (a weak threadsafe function, gc_notify.rs) with no arguments it needs; JS then
//! reads `collected` and reports the difference.

crate::native_ops! {
  /// The calls of a table function: `table(op, ...args)`.
  pub enum TableOp, TableCall {
    /// Adds `entry` (the entry object); returns its id.
    Add(entry),
    /// Nothing but the removals every call applies first.
    Drain(),
    /// The number of entries whose collection was not finalized yet.
    Size(),
    /// The first live entry after the entry id `cursor` (0: the first one), or undefined.
    Next(cursor),
    /// Removes every entry.
    Clear(),
    /// Shares `removed`, the map's `Float64Array` of deleted ids (once per table).
    ShareRemoved(removed),
    /// The number of entries removed because the GC collected their key, since the table was made.
    Collected(),
    /// Calls `wake` on the event loop after the GC collected keys (once per table).
    WatchCollected(wake),
  }
}
