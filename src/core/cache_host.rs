//! What the policy of a WeakCache (cache_policy.rs) asks of the side that holds values: weak
//! handles to them, the GC's reports, and the facts JS reads. Node-API in the binding
//! (src/weak_cache/host.rs), a fake in the tests.

use super::cache_policy::Facts;
use super::cache_slots::{SlotIndex, VersionedSlot};

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
