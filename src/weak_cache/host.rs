//! What the policy of one cache runs against during a native call (see core::cache_policy's
//! `Host`): Node-API references for weak handles, JS's array of pinned values, and the buffers
//! shared with JS.

use crate::core::cache_policy::{Demotion, Facts, Host, SlotIndex, VersionedSlot};
use crate::core::cache_protocol::facts;
use crate::error::{check, JsResult};
use crate::gc_notify::{watch, GcSink};
use napi::sys;
use std::ptr::{self, NonNull};

/// A weak handle: a reference made by `gc_notify::watch`.
pub type Handle = NonNull<sys::napi_ref__>;

/// The memory of an ArrayBuffer shared with JS, and the strong reference that keeps it alive. An
/// ArrayBuffer's memory never moves. It holds numbers only, so holding it cannot keep a cache alive.
pub struct SharedBuffer {
  pub data: *mut u8,
  pub len: usize,
  reference: sys::napi_ref,
}

impl SharedBuffer {
  /// A new ArrayBuffer of `len` bytes, every Float64 set to `fill`.
  ///
  /// # Safety
  /// `env` must be valid for the running callback; `len` a multiple of 8.
  pub unsafe fn new_f64(env: sys::napi_env, len: usize, fill: f64) -> JsResult<SharedBuffer> {
    let mut data = ptr::null_mut();
    let mut buffer = ptr::null_mut();
    check(
      // SAFETY: valid env and out pointers.
      unsafe { sys::napi_create_arraybuffer(env, len, &mut data, &mut buffer) },
      "napi_create_arraybuffer",
    )?;
    // SAFETY: a fresh buffer of `len` bytes; ArrayBuffer memory is at least 8-byte aligned.
    unsafe { std::slice::from_raw_parts_mut(data.cast::<f64>(), len / 8) }.fill(fill);
    // SAFETY: as above.
    unsafe { SharedBuffer::hold(env, buffer, data.cast(), len) }
  }

  /// # Safety
  /// `buffer` must be an ArrayBuffer whose memory is `data`..`data + len`.
  pub unsafe fn hold(
    env: sys::napi_env,
    buffer: sys::napi_value,
    data: *mut u8,
    len: usize,
  ) -> JsResult<SharedBuffer> {
    let mut reference = ptr::null_mut();
    check(
      // SAFETY: valid env and value; the out pointer is a local.
      unsafe { sys::napi_create_reference(env, buffer, 1, &mut reference) },
      "napi_create_reference",
    )?;
    Ok(SharedBuffer {
      data,
      len,
      reference,
    })
  }

  /// # Safety
  /// `env` must be valid for the running callback.
  pub unsafe fn value(&self, env: sys::napi_env) -> JsResult<sys::napi_value> {
    let mut value = ptr::null_mut();
    check(
      // SAFETY: the reference is strong, so it reads as the buffer.
      unsafe { sys::napi_get_reference_value(env, self.reference, &mut value) },
      "napi_get_reference_value",
    )?;
    Ok(value)
  }

  /// # Safety
  /// `env` must be the environment the buffer was made in; the buffer is not used afterwards.
  pub unsafe fn release(&self, env: sys::napi_env) {
    // SAFETY: the caller's contract.
    unsafe { sys::napi_delete_reference(env, self.reference) };
  }
}

/// The `facts` buffer: `facts::STRIDE` Float64s per slot, grown (by a new buffer) before an
/// insert needs it.
pub struct FactsBuffer(pub SharedBuffer);

impl FactsBuffer {
  /// How many slots it has room for.
  pub fn capacity(&self) -> usize {
    self.0.len / (8 * facts::STRIDE)
  }

  pub fn write(&mut self, slot: SlotIndex, entry: Facts) {
    if (slot as usize) < self.capacity() {
      // SAFETY: in bounds (checked); JS does not run during a native call.
      unsafe {
        let at = self.0.data.cast::<f64>().add(slot as usize * facts::STRIDE);
        at.add(facts::START).write(entry.start);
        at.add(facts::TTL).write(entry.ttl);
        at.add(facts::SIZE).write(entry.size);
      }
    }
  }
}

/// The policy's host for one call: Node-API for values, the sink for collections.
pub struct NapiHost<'a> {
  pub env: sys::napi_env,
  pub sink: &'a GcSink,
  /// JS's array of pinned values by slot (null when the call has none).
  pub values: sys::napi_value,
  /// The value of the entry being inserted (null when none).
  pub inserting: sys::napi_value,
  /// The tail the last call published, with the value JS passed for it (see cache_protocol.rs).
  pub tail: Option<(SlotIndex, sys::napi_value)>,
  pub facts: Option<&'a mut FactsBuffer>,
}

impl Host for NapiHost<'_> {
  type Handle = Handle;
  type Value = sys::napi_value;

  fn watch(&mut self, demotion: Demotion) -> Option<Handle> {
    let value = if demotion.is_new && !self.inserting.is_null() {
      self.inserting
    } else if let Some((_, value)) = self.tail.filter(|(slot, _)| *slot == demotion.slot) {
      value
    } else {
      let mut value = ptr::null_mut();
      // SAFETY: valid env; `values` is JS's array or null (then the call fails: evict). A
      // pinned slot's element is always set, so no getter or Proxy trap can run here. (Only when
      // logged reads moved the tail since the last call, or for the value a `replace` stored
      // before the call.)
      let status =
        unsafe { sys::napi_get_element(self.env, self.values, demotion.slot, &mut value) };
      if status != sys::Status::napi_ok {
        return None;
      }
      value
    };
    if value.is_null() {
      return None;
    }
    let mut kind = 0;
    // SAFETY: valid env and value; the out pointer is a local.
    let status = unsafe { sys::napi_typeof(self.env, value, &mut kind) };
    if status != sys::Status::napi_ok
      || (kind != sys::ValueType::napi_object && kind != sys::ValueType::napi_function)
    {
      return None;
    }
    // SAFETY: valid env and value; every handle is deleted before the sink is dropped (the
    // policy gives each one back to `release`, and teardown deletes the rest).
    let reference = unsafe { watch(self.env, value, demotion.id, self.sink) }.ok()?;
    NonNull::new(reference)
  }

  fn read(&mut self, handle: Handle) -> Option<sys::napi_value> {
    let mut value = ptr::null_mut();
    // SAFETY: the handle is live until the policy releases it. A failed read counts as
    // collected, the safe answer.
    let status = unsafe { sys::napi_get_reference_value(self.env, handle.as_ptr(), &mut value) };
    (status == sys::Status::napi_ok && !value.is_null()).then_some(value)
  }

  fn release(&mut self, handle: Handle) {
    // SAFETY: the policy gives each handle back exactly once; deleting cancels its finalizer.
    unsafe { sys::napi_delete_reference(self.env, handle.as_ptr()) };
  }

  fn report_collected(&mut self, id: VersionedSlot) {
    self.sink.push(id);
  }

  fn publish(&mut self, slot: SlotIndex, entry: Facts) {
    if let Some(facts) = self.facts.as_mut() {
      facts.write(slot, entry);
    }
  }
}
