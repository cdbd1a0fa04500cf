//! The pipeline from the garbage collector to the event loop, shared by every class.
//!
//! ```text
//! napi_add_finalizer ref --(GC)--> on_collected(id) --> EventQueue (crossbeam)
//!     --first event since the last drain--> one weak ThreadsafeFunction call
//!     --> on the JS thread: the owner drains the queue, cleans its table, and JS gets one array
//! ```
//! One Node-API reference per watched object is at once the weak reference, the finalizer and
//! (with `napi_reference_ref`) the pin: see docs/architecture.md. Events carry the entry id, which is
//! never reused, so a late event never touches an entry that was replaced.
//!
//! Ownership rule (measured pitfall: a double free at exit otherwise): every reference made by
//! `watch` stays in its owner's table until the owner deletes it, and the owner deletes all of
//! them before it drops the `GcSink` their finalizers point at. Deleting a reference cancels its
//! finalizer, so no finalizer can ever see a dropped sink.

use crate::core::event_queue::EventQueue;
use crate::core::ordered_table::EntryId;
use crate::error::{check, JsResult};
use crate::raw::no_unwind;
use napi::bindgen_prelude::{Function, ToNapiValue};
use napi::threadsafe_function::{
  ThreadsafeFunction, ThreadsafeFunctionCallMode, UnknownReturnValue,
};
use napi::{Env, Status};
use std::ffi::c_void;
use std::ptr;
use std::sync::OnceLock;

/// A function that wakes the consumer of a sink (calls its threadsafe function).
type Wake = Box<dyn Fn() + Send + Sync>;

/// Where finalizers of one owner (a map, a cache, a registry) report collected entries.
#[derive(Default)]
pub struct GcSink {
  queue: EventQueue<EntryId>,
  wake: OnceLock<Wake>,
}

impl GcSink {
  pub fn new() -> Self {
    Self::default()
  }

  /// Wakes `wake` once per batch of events. Owners without JS to notify (IterableWeakMap) set no
  /// waker and drain the queue at the start of their next operation instead.
  pub fn set_waker(&self, wake: Wake) {
    let _ = self.wake.set(wake);
  }

  pub fn push(&self, id: EntryId) {
    if self.queue.push(id) {
      if let Some(wake) = self.wake.get() {
        wake();
      }
    }
  }

  /// The ids collected since the last drain.
  pub fn drain(&self) -> Vec<EntryId> {
    if self.queue.is_empty() {
      return Vec::new();
    }
    self.queue.drain()
  }

  /// Makes teardown finalizers (process exit, worker termination) produce no events: Node runs
  /// the cleanup hooks before it finalizes every still-live object. Pair with `unwatch_teardown`.
  ///
  /// # Safety
  /// `env` must be the current environment, and `self` must stay at this address until
  /// `unwatch_teardown` is called or the environment is gone.
  pub unsafe fn watch_teardown(&self, env: napi::sys::napi_env) -> JsResult<()> {
    let arg = self as *const GcSink as *mut c_void;
    // SAFETY: arg stays valid until removed (caller's contract); the hook only reads through it.
    check(
      unsafe { napi::sys::napi_add_env_cleanup_hook(env, Some(on_teardown), arg) },
      "napi_add_env_cleanup_hook",
    )
  }

  /// # Safety
  /// `env` must be the environment `watch_teardown` was called with.
  pub unsafe fn unwatch_teardown(&self, env: napi::sys::napi_env) {
    let arg = self as *const GcSink as *mut c_void;
    // SAFETY: removing a hook that already ran (or was never added) is a no-op in Node.
    unsafe { napi::sys::napi_remove_env_cleanup_hook(env, Some(on_teardown), arg) };
  }
}

unsafe extern "C" fn on_teardown(arg: *mut c_void) {
  no_unwind("an env cleanup hook", || {
    // SAFETY: arg is the GcSink registered in watch_teardown, alive until the hook is removed.
    let sink = unsafe { &*(arg as *const GcSink) };
    sink.queue.close();
  });
}

// An entry id travels as a finalizer's data pointer: on a target with narrower pointers it would
// be truncated, and two entries could share an id. Refuse to build there rather than misbehave.
const _: () = assert!(
  usize::BITS >= EntryId::BITS,
  "ephemeron needs 64-bit pointers: entry ids travel as finalizer data pointers"
);

/// Watches `value` (an object): returns a reference that reads as the object until it is
/// collected (then NULL), and pushes `id` into `sink` when the collection is finalized. The
/// reference starts weak (count 0); `napi_reference_ref` pins it.
///
/// # Safety
/// `env` and `value` must be valid for the running callback. The returned reference must be
/// deleted with `napi_delete_reference` before `sink` is dropped (see the module docs).
pub unsafe fn watch(
  env: napi::sys::napi_env,
  value: napi::sys::napi_value,
  id: EntryId,
  sink: &GcSink,
) -> JsResult<napi::sys::napi_ref> {
  let mut reference = ptr::null_mut();
  // The id travels in the finalize-data pointer itself: no allocation per watched object. Ids are
  // 64-bit and never reused, so pointers must be 64-bit too (checked at compile time below).
  let data = id as usize as *mut c_void;
  let hint = sink as *const GcSink as *mut c_void;
  check(
    // SAFETY: valid env/value; the sink outlives the reference (caller's contract).
    unsafe {
      napi::sys::napi_add_finalizer(env, value, data, Some(on_collected), hint, &mut reference)
    },
    "napi_add_finalizer",
  )?;
  Ok(reference)
}

unsafe extern "C" fn on_collected(_env: napi::sys::napi_env, data: *mut c_void, hint: *mut c_void) {
  no_unwind("a finalizer", || {
    // SAFETY: hint is the GcSink given to `watch`, which outlives every reference it made.
    let sink = unsafe { &*(hint as *const GcSink) };
    sink.push(data as usize as EntryId);
  });
}

/// A weak, batched threadsafe function: `wake()` schedules at most one call, and when it runs on
/// the JS thread, `make_batch` builds the array the JS `callback` receives. It never keeps the
/// process alive (events still queued at exit are dropped, as at any exit).
pub type BatchFunction<O> =
  ThreadsafeFunction<(), UnknownReturnValue, Vec<O>, Status, false, true, 0>;

pub fn batch_delivery<O, F>(
  callback: &Function<'_, Vec<O>, UnknownReturnValue>,
  mut make_batch: F,
) -> napi::Result<Wake>
where
  O: ToNapiValue + 'static,
  F: FnMut(Env) -> Vec<O> + 'static,
{
  let tsfn: BatchFunction<O> = callback
    .build_threadsafe_function::<()>()
    .weak::<true>()
    .callee_handled::<false>()
    .build_callback(move |ctx| Ok(make_batch(ctx.env)))?;
  Ok(Box::new(move || {
    // NonBlocking: a finalizer must never wait. A full or closing queue only delays the batch
    // to the owner's next drain.
    let _ = tsfn.call((), ThreadsafeFunctionCallMode::NonBlocking);
  }))
}
