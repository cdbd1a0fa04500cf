//! Native side of WeakCache: Node-API glue around `core::cache_policy`, speaking the protocol that
//! `core::cache_protocol` defines and documents. Only conversions and Node-API calls live here:
//! the host the policy runs against (weak handles are `napi_add_finalizer` references, see
//! gc_notify.rs), the shared buffers, and the cache's native function.

use crate::core::cache_policy::{CachePolicy, Demotion, EntryId, Host, Lookup, Removed, SlotIndex};
use crate::core::cache_protocol::{self, io, lookup_status, removed_status, Io, Op};
use crate::core::panic_fence::{PanicFence, Refused};
use crate::core::removal_cause::RemovalCause;
use crate::error::{check, ErrorClass, JsError, JsResult};
use crate::gc_notify::{batch_delivery, watch, GcSink};
use crate::raw::{
  args, args_and_data, define_function, guard, no_unwind, number, to_f64, undefined,
};
use napi::bindgen_prelude::{FromNapiValue, Function};
use napi::threadsafe_function::UnknownReturnValue;
use napi::{sys, Env};
use std::cell::Cell;
use std::ffi::{c_void, CString};
use std::ptr::{self, NonNull};
use std::rc::{Rc, Weak};

/// A weak handle: a reference made by `gc_notify::watch`.
type Handle = NonNull<sys::napi_ref__>;

/// The memory of an ArrayBuffer shared with JS, and the strong reference that keeps it alive. An
/// ArrayBuffer's memory never moves. It holds numbers only, so holding it cannot keep a cache alive.
struct SharedBuffer {
  data: *mut u8,
  len: usize,
  reference: sys::napi_ref,
}

impl SharedBuffer {
  /// A new ArrayBuffer of `len` bytes, every Float64 set to `fill`.
  ///
  /// # Safety
  /// `env` must be valid for the running callback; `len` a multiple of 8.
  unsafe fn new_f64(env: sys::napi_env, len: usize, fill: f64) -> JsResult<SharedBuffer> {
    let mut data = ptr::null_mut();
    let mut buffer = ptr::null_mut();
    // SAFETY: valid env and out pointers.
    check(
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
  unsafe fn hold(
    env: sys::napi_env,
    buffer: sys::napi_value,
    data: *mut u8,
    len: usize,
  ) -> JsResult<SharedBuffer> {
    let mut reference = ptr::null_mut();
    // SAFETY: valid env and value; the out pointer is a local.
    check(
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
  unsafe fn value(&self, env: sys::napi_env) -> JsResult<sys::napi_value> {
    let mut value = ptr::null_mut();
    // SAFETY: the reference is strong, so it reads as the buffer.
    check(
      unsafe { sys::napi_get_reference_value(env, self.reference, &mut value) },
      "napi_get_reference_value",
    )?;
    Ok(value)
  }

  /// # Safety
  /// `env` must be the environment the buffer was made in; the buffer is not used afterwards.
  unsafe fn release(&self, env: sys::napi_env) {
    // SAFETY: the caller's contract.
    unsafe { sys::napi_delete_reference(env, self.reference) };
  }
}

/// The `deadlines` buffer: a Float64 per slot, grown (by a new buffer) before an insert needs it.
struct Deadlines(SharedBuffer);

impl Deadlines {
  fn capacity(&self) -> usize {
    self.0.len / 8
  }

  fn write(&mut self, slot: SlotIndex, deadline: f64) {
    if (slot as usize) < self.capacity() {
      // SAFETY: in bounds (checked); JS does not run during a native call.
      unsafe { self.0.data.cast::<f64>().add(slot as usize).write(deadline) };
    }
  }
}

/// The state of one cache that a panic may interrupt: the policy and the deadlines it publishes.
struct Native {
  policy: CachePolicy<Handle>,
  deadlines: Option<Deadlines>,
}

struct CacheState {
  native: PanicFence<Native>,
  /// Whether the cache has a clock (a ttl was used). Until then JS passes 0 for every ttl and
  /// time, and they are not read.
  clock: Cell<bool>,
  /// Where the finalizers of weak handles report. Outlives them (see gc_notify).
  sink: GcSink,
  io: SharedBuffer,
}

/// The policy's host for one call: Node-API for values, the sink for collections.
struct NapiHost<'a> {
  env: sys::napi_env,
  sink: &'a GcSink,
  /// JS's array of pinned values by slot (null when the call has none).
  values: sys::napi_value,
  /// The value of the entry being inserted (null when none).
  inserting: sys::napi_value,
  /// The tail the last call published, with the value JS passed for it (see cache_protocol.rs).
  tail: Option<(SlotIndex, sys::napi_value)>,
  deadlines: Option<&'a mut Deadlines>,
}

impl Host for NapiHost<'_> {
  type Handle = Handle;
  type Value = sys::napi_value;

  fn watch(&mut self, demotion: Demotion) -> Option<Handle> {
    let value = if demotion.is_new {
      self.inserting
    } else if let Some((_, value)) = self.tail.filter(|(slot, _)| *slot == demotion.slot) {
      value
    } else {
      let mut value = ptr::null_mut();
      // SAFETY: valid env; `values` is JS's array or null (then the call fails: evict). A
      // pinned slot's element is always set, so no getter or Proxy trap can run here. (Only when
      // logged reads moved the tail since the last call.)
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

  fn report_collected(&mut self, id: EntryId) {
    self.sink.push(id);
  }

  fn publish_deadline(&mut self, slot: SlotIndex, deadline: f64) {
    if let Some(deadlines) = self.deadlines.as_mut() {
      deadlines.write(slot, deadline);
    }
  }
}

/// The arguments of one call, read before anything changes.
enum Call {
  Insert {
    value: sys::napi_value,
    ttl: f64,
    now: f64,
    values: sys::napi_value,
    tail_value: sys::napi_value,
  },
  Replace {
    slot: SlotIndex,
    ttl: f64,
    now: f64,
    changed: bool,
  },
  Get {
    slot: SlotIndex,
    now: f64,
    values: sys::napi_value,
    tail_value: sys::napi_value,
  },
  Peek {
    slot: SlotIndex,
    now: f64,
  },
  Remove {
    slot: SlotIndex,
    cause: RemovalCause,
  },
  Clear,
  Order,
  Stats,
  Sync,
  Timing,
  InjectPanic,
}

/// Reads the arguments of a call; ttls and times only once the cache has a `clock`.
///
/// # Safety
/// `env` and `args` must be valid for the running callback.
unsafe fn read_call(
  env: sys::napi_env,
  args: &[sys::napi_value; 6],
  clock: bool,
) -> JsResult<Call> {
  let [op, a, b, c, d, e] = *args;
  let time = |value| {
    if clock {
      // SAFETY: the caller's contract.
      unsafe { to_f64(env, value) }
    } else {
      Ok(0.0)
    }
  };
  // SAFETY: the caller's contract, for every conversion below.
  unsafe {
    let op = int32(env, op)?;
    let op = Op::from_number(op).ok_or_else(|| protocol_error(format!("unknown op {op}")))?;
    Ok(match op {
      Op::Insert => Call::Insert {
        value: a,
        ttl: time(b)?,
        now: time(c)?,
        values: d,
        tail_value: e,
      },
      Op::Replace => Call::Replace {
        slot: slot(env, a)?,
        ttl: time(b)?,
        now: time(c)?,
        changed: boolean(env, d)?,
      },
      Op::Get => Call::Get {
        slot: slot(env, a)?,
        now: time(b)?,
        values: c,
        tail_value: d,
      },
      Op::Peek => Call::Peek {
        slot: slot(env, a)?,
        now: time(b)?,
      },
      Op::Remove => Call::Remove {
        slot: slot(env, a)?,
        cause: RemovalCause::from_number(int32(env, b)?)
          .ok_or_else(|| protocol_error("unknown removal cause"))?,
      },
      Op::Clear => Call::Clear,
      Op::Order => Call::Order,
      Op::Stats => Call::Stats,
      Op::Sync => Call::Sync,
      Op::Timing => Call::Timing,
      Op::InjectPanic => Call::InjectPanic,
    })
  }
}

impl CacheState {
  /// The io buffer for the length of one call.
  fn io(&self) -> Io<'_> {
    // SAFETY: `io` has io::BYTES bytes, 8-byte aligned (checked in `create`), kept alive by its
    // reference; the Int32 part and the read times are disjoint. JS has views of this memory but
    // cannot run while a native call is running (no call below runs JS).
    unsafe {
      let ints = std::slice::from_raw_parts_mut(self.io.data.cast::<i32>(), io::INTS);
      let times = std::slice::from_raw_parts(
        self.io.data.add(io::INTS * 4).cast::<f64>(),
        io::READ_CAPACITY,
      );
      Io::new(ints, times)
    }
  }

  /// Runs one call: replays the read log, applies the operation, writes the reply.
  ///
  /// # Safety
  /// `env` must be the environment of this cache, in a native call on its JS thread.
  unsafe fn run(&self, env: sys::napi_env, call: Call) -> JsResult<sys::napi_value> {
    // Values made before the update, so that no Node-API call that could fail follows a change.
    // SAFETY: the caller's contract, for both calls.
    let undefined = unsafe { undefined(env) }?;
    match call {
      Call::Insert { .. } if self.clock.get() => unsafe { self.grow_deadlines(env, false) }?,
      Call::Timing => {
        unsafe { self.grow_deadlines(env, true) }?;
        self.clock.set(true);
      }
      _ => {}
    }
    let mut io = self.io();
    let result = self.native.update(|native| {
      let Native { policy, deadlines } = native;
      let mut host = NapiHost {
        env,
        sink: &self.sink,
        values: ptr::null_mut(),
        inserting: ptr::null_mut(),
        tail: None,
        deadlines: deadlines.as_mut(),
      };
      let published_tail = io.published_tail();
      io.replay_reads(policy, &mut host);
      // Results are made after the update: Node-API calls that cannot fail. If one does, the
      // panic breaks the fence: the cache changed and JS cannot be told how.
      let made =
        |result: JsResult<sys::napi_value>| result.expect("a Node-API call failed mid-update");
      let value = match call {
        Call::Insert {
          value,
          ttl,
          now,
          values,
          tail_value,
        } => {
          host.values = values;
          host.inserting = value;
          host.tail = published_tail.map(|slot| (slot, tail_value));
          let slot = policy.insert(ttl, now, &mut host);
          io.set_pushed(policy.pushed_out());
          // SAFETY: the caller's contract.
          made(unsafe { number(env, f64::from(slot)) })
        }
        Call::Replace {
          slot,
          ttl,
          now,
          changed,
        } => {
          policy
            .replace(slot, ttl, now, changed, &mut host)
            .map_err(not_an_entry)?;
          undefined
        }
        Call::Get {
          slot,
          now,
          values,
          tail_value,
        } => {
          host.values = values;
          host.tail = published_tail.map(|slot| (slot, tail_value));
          let lookup = policy.get(slot, now, &mut host).map_err(not_an_entry)?;
          io.set_status(lookup_status(&lookup));
          io.set_pushed(policy.pushed_out());
          weak_value(lookup, undefined)
        }
        Call::Peek { slot, now } => {
          let lookup = policy.peek(slot, now, &mut host).map_err(not_an_entry)?;
          io.set_status(lookup_status(&lookup));
          weak_value(lookup, undefined)
        }
        Call::Remove { slot, cause } => {
          let removed = policy
            .remove(slot, cause, &mut host)
            .map_err(not_an_entry)?;
          io.set_status(removed_status(&removed));
          match removed {
            Removed::Weak(value) => value,
            Removed::Pinned | Removed::Collected => undefined,
          }
        }
        Call::Clear => {
          let alive = policy.clear(&mut host);
          // SAFETY: the caller's contract.
          made(unsafe { slot_value_pairs(env, &alive) })
        }
        // SAFETY: the caller's contract, for the three arms below.
        Call::Order => unsafe { slot_array(env, policy.order())? },
        Call::Stats => unsafe { stats_object(env, policy)? },
        Call::Sync => undefined,
        Call::Timing => {
          policy.start_timing();
          for (slot, deadline) in policy.deadlines() {
            host.publish_deadline(slot, deadline);
          }
          let buffer = host.deadlines.as_ref().expect("made before the update");
          // SAFETY: the caller's contract.
          unsafe { buffer.0.value(env)? }
        }
        Call::InjectPanic => inject_panic(policy, &mut host),
      };
      // A hint only (see Host::watch): an early error return leaves the last one, still safe.
      io.set_tail(policy.tail());
      Ok(value)
    });
    result.map_err(refused)?
  }

  /// Makes sure the `deadlines` buffer has room for the next insert's slot (and exists, when
  /// `starting` the clock): replaces it by a larger copy if not. The next insert's slot is then
  /// beyond JS's view of the old buffer, which tells JS to fetch the new one.
  ///
  /// # Safety
  /// `env` must be valid for the running callback.
  unsafe fn grow_deadlines(&self, env: sys::napi_env, starting: bool) -> JsResult<()> {
    let wanted = self
      .native
      .update(|native| {
        let wanted = native.policy.next_slot() as usize + 1;
        match &native.deadlines {
          Some(current) if current.capacity() >= wanted => None,
          Some(current) => Some(wanted.max(current.capacity() * 2)),
          None if starting => Some(wanted.max(64)),
          None => None,
        }
      })
      .map_err(refused)?;
    let Some(capacity) = wanted else {
      return Ok(());
    };
    // SAFETY: the caller's contract; the length is a multiple of 8.
    let buffer =
      unsafe { SharedBuffer::new_f64(env, capacity.next_power_of_two() * 8, f64::INFINITY) }?;
    let swapped = self.native.update(|native| {
      if let Some(old) = &native.deadlines {
        // SAFETY: both buffers are alive and distinct, and the new one is the larger.
        unsafe { ptr::copy_nonoverlapping(old.0.data, buffer.data, old.0.len) };
      }
      native.deadlines.replace(Deadlines(buffer))
    });
    match swapped {
      Ok(old) => {
        if let Some(old) = old {
          // SAFETY: same env; the old buffer is not written again.
          unsafe { old.0.release(env) };
        }
        Ok(())
      }
      Err(refused_now) => Err(refused(refused_now)),
    }
  }
}

/// The value a lookup returns to JS: a weak entry's value, or undefined.
fn weak_value(lookup: Lookup<sys::napi_value>, undefined: sys::napi_value) -> sys::napi_value {
  match lookup {
    Lookup::Live(Some(value)) | Lookup::Expired(Some(value)) => value,
    _ => undefined,
  }
}

/// The fault-injection op: moves an entry halfway, then unwinds as a panic would, as a bug in the
/// middle of an update would. Only the spec of the fence calls it. (`resume_unwind` skips the
/// panic hook, so the spec's output stays clean; the fence sees an ordinary panic.)
fn inject_panic(policy: &mut CachePolicy<Handle>, host: &mut NapiHost<'_>) -> sys::napi_value {
  let first = policy.order().next();
  if let Some(slot) = first {
    policy.touch(slot, 0.0, host);
  }
  std::panic::resume_unwind(Box::new("injected panic (WeakCache fence spec)"))
}

fn refused(refused: Refused) -> JsError {
  match refused {
    Refused::Broken => JsError {
      class: ErrorClass::Plain,
      code: "ERR_EPHEMERON_BROKEN",
      message: "WeakCache: an internal error (a Rust panic, caught) interrupted an update of this \
                cache, so its state cannot be trusted; it refuses every call from now on. \
                Please report it."
        .into(),
    },
    Refused::Busy => {
      JsError::internal("WeakCache: a native call started while another was running")
    }
  }
}

fn protocol_error(message: impl Into<String>) -> JsError {
  JsError::internal(format!("WeakCache protocol: {}", message.into()))
}

fn not_an_entry(e: crate::core::cache_policy::NotAnEntry) -> JsError {
  protocol_error(format!("slot {} is not an entry of the expected tier", e.0))
}

/// # Safety
/// `env` and `value` must be valid for the running callback.
unsafe fn int32(env: sys::napi_env, value: sys::napi_value) -> JsResult<i32> {
  let mut n = 0;
  // SAFETY: valid env and value; the out pointer is a local.
  check(
    unsafe { sys::napi_get_value_int32(env, value, &mut n) },
    "napi_get_value_int32",
  )?;
  Ok(n)
}

/// # Safety
/// `env` and `value` must be valid for the running callback.
unsafe fn slot(env: sys::napi_env, value: sys::napi_value) -> JsResult<SlotIndex> {
  // SAFETY: the caller's contract.
  let n = unsafe { int32(env, value) }?;
  u32::try_from(n).map_err(|_| protocol_error(format!("slot {n}")))
}

/// # Safety
/// `env` and `value` must be valid for the running callback.
unsafe fn boolean(env: sys::napi_env, value: sys::napi_value) -> JsResult<bool> {
  let mut b = false;
  // SAFETY: valid env and value; the out pointer is a local.
  check(
    unsafe { sys::napi_get_value_bool(env, value, &mut b) },
    "napi_get_value_bool",
  )?;
  Ok(b)
}

/// # Safety
/// `env` must be valid for the running callback.
unsafe fn new_array(env: sys::napi_env) -> JsResult<sys::napi_value> {
  let mut array = ptr::null_mut();
  // SAFETY: valid env and out pointer.
  check(
    unsafe { sys::napi_create_array(env, &mut array) },
    "napi_create_array",
  )?;
  Ok(array)
}

/// # Safety
/// `env` must be valid for the running callback.
unsafe fn slot_array(
  env: sys::napi_env,
  slots: impl Iterator<Item = SlotIndex>,
) -> JsResult<sys::napi_value> {
  // SAFETY: the caller's contract, for each call below.
  unsafe {
    let array = new_array(env)?;
    for (i, slot) in slots.enumerate() {
      check(
        sys::napi_set_element(env, array, i as u32, number(env, f64::from(slot))?),
        "napi_set_element",
      )?;
    }
    Ok(array)
  }
}

/// `[slot, value, slot, value, ...]`.
///
/// # Safety
/// `env` and the values must be valid for the running callback.
unsafe fn slot_value_pairs(
  env: sys::napi_env,
  pairs: &[(SlotIndex, sys::napi_value)],
) -> JsResult<sys::napi_value> {
  // SAFETY: the caller's contract, for each call below.
  unsafe {
    let array = new_array(env)?;
    for (i, (slot, value)) in pairs.iter().enumerate() {
      let at = 2 * i as u32;
      check(
        sys::napi_set_element(env, array, at, number(env, f64::from(*slot))?),
        "napi_set_element",
      )?;
      check(
        sys::napi_set_element(env, array, at + 1, *value),
        "napi_set_element",
      )?;
    }
    Ok(array)
  }
}

/// # Safety
/// `env` must be valid for the running callback.
unsafe fn named_numbers(
  env: sys::napi_env,
  numbers: impl IntoIterator<Item = (&'static str, f64)>,
) -> JsResult<sys::napi_value> {
  // SAFETY: the caller's contract, for each call below; names are NUL-free literals.
  unsafe {
    let mut object = ptr::null_mut();
    check(
      sys::napi_create_object(env, &mut object),
      "napi_create_object",
    )?;
    for (name, n) in numbers {
      set_named(env, object, name, number(env, n)?)?;
    }
    Ok(object)
  }
}

/// # Safety
/// `env`, `object` and `value` must be valid for the running callback.
unsafe fn set_named(
  env: sys::napi_env,
  object: sys::napi_value,
  name: &str,
  value: sys::napi_value,
) -> JsResult<()> {
  let name = CString::new(name).map_err(|_| JsError::internal("a name with a NUL"))?;
  // SAFETY: the caller's contract; `name` is NUL-terminated and outlives the call.
  check(
    unsafe { sys::napi_set_named_property(env, object, name.as_ptr(), value) },
    "napi_set_named_property",
  )
}

/// # Safety
/// `env` must be valid for the running callback.
unsafe fn stats_object(
  env: sys::napi_env,
  policy: &CachePolicy<Handle>,
) -> JsResult<sys::napi_value> {
  // SAFETY: the caller's contract.
  unsafe { named_numbers(env, policy.stats().named()) }
}

/// `weakCacheProtocol()`: the numbers of the protocol (see cache_protocol.rs), read by JS at load.
unsafe extern "C" fn protocol(
  env: sys::napi_env,
  _info: sys::napi_callback_info,
) -> sys::napi_value {
  // SAFETY: Node calls natives with a valid env on the JS thread; `guard` keeps errors and panics
  // from crossing the FFI boundary; every call below uses that env with valid arguments.
  unsafe {
    guard(env, || {
      let mut object = ptr::null_mut();
      check(
        sys::napi_create_object(env, &mut object),
        "napi_create_object",
      )?;
      for (group, numbers) in cache_protocol::numbers() {
        let numbers = numbers.into_iter().map(|(name, n)| (name, f64::from(n)));
        set_named(env, object, group, named_numbers(env, numbers)?)?;
      }
      let causes = new_array(env)?;
      for cause in RemovalCause::ALL {
        let mut reason = ptr::null_mut();
        let text = cause.reason();
        check(
          sys::napi_create_string_utf8(env, text.as_ptr().cast(), text.len() as isize, &mut reason),
          "napi_create_string_utf8",
        )?;
        check(
          sys::napi_set_element(env, causes, cause as u32, reason),
          "napi_set_element",
        )?;
      }
      set_named(env, object, "causes", causes)?;
      Ok(object)
    })
  }
}

/// `weakCacheCreate(io, max, updateAgeOnGet, deliver) -> native`: a new cache, as its native
/// function `native(op, a, b, c, d)` (see cache_protocol.rs). The function's data is the cache,
/// freed by the function's finalizer, so a call needs no handle to look up or validate.
unsafe extern "C" fn create(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
  // SAFETY: Node calls natives with a valid env and info on the JS thread; `guard` keeps errors
  // and panics from crossing the FFI boundary; every call below uses that env with valid
  // arguments and out pointers.
  unsafe {
    guard(env, || {
      let [buffer, max, update_age_on_get, deliver] = args::<4>(env, info)?;
      let mut data = ptr::null_mut();
      let mut len = 0;
      check(
        sys::napi_get_arraybuffer_info(env, buffer, &mut data, &mut len),
        "napi_get_arraybuffer_info",
      )?;
      if len < io::BYTES || data.align_offset(8) != 0 {
        return Err(JsError::internal(format!(
          "WeakCache io buffer has {len} bytes, needs {} (8-byte aligned)",
          io::BYTES
        )));
      }
      let max = to_f64(env, max)?;
      if !(0.0..=f64::from(u32::MAX)).contains(&max) {
        return Err(protocol_error(format!("max {max}")));
      }
      let update_age_on_get = boolean(env, update_age_on_get)?;
      let deliver = Function::<Vec<u32>, UnknownReturnValue>::from_napi_value(env, deliver)
        .map_err(|e| JsError::internal(e.reason.clone()))?;
      let io = SharedBuffer::hold(env, buffer, data.cast(), len)?;
      let state = Rc::new(CacheState {
        native: PanicFence::new(Native {
          policy: CachePolicy::new(max as usize, update_age_on_get),
          deadlines: None,
        }),
        clock: Cell::new(false),
        sink: GcSink::new(),
        io,
      });
      let weak: Weak<CacheState> = Rc::downgrade(&state);
      let wake = batch_delivery(&deliver, move |env: Env| match weak.upgrade() {
        // SAFETY: runs on the JS thread of this env, outside any of our natives.
        Some(state) => take_collected(env.raw(), &state),
        None => Vec::new(),
      });
      let wake = match wake {
        Ok(wake) => wake,
        Err(e) => {
          state.io.release(env);
          return Err(JsError::internal(e.reason.clone()));
        }
      };
      state.sink.set_waker(wake);
      state.io().set_tail(None);
      // The Rc's heap cell never moves, so the hook's pointer to the sink stays valid until
      // finalize_cache removes the hook.
      if let Err(error) = state.sink.watch_teardown(env) {
        state.io.release(env);
        return Err(error);
      }
      let data = Rc::into_raw(state) as *mut c_void;
      let mut function = ptr::null_mut();
      let created = sys::napi_create_function(
        env,
        c"weakCache".as_ptr(),
        -1,
        Some(call),
        data,
        &mut function,
      );
      let owned = created == sys::Status::napi_ok
        && sys::napi_add_finalizer(
          env,
          function,
          data,
          Some(finalize_cache),
          ptr::null_mut(),
          ptr::null_mut(),
        ) == sys::Status::napi_ok;
      if !owned {
        // SAFETY: nothing else has the pointer.
        teardown(env, Rc::from_raw(data as *const CacheState));
        return Err(JsError::internal("could not create a WeakCache"));
      }
      Ok(function)
    })
  }
}

/// The cache's native function: `native(op, a, b, c, d)`.
unsafe extern "C" fn call(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
  // SAFETY: Node calls natives with a valid env and info on the JS thread; `guard` keeps errors
  // and panics from crossing the FFI boundary.
  unsafe {
    guard(env, || {
      let (argv, data) = args_and_data::<6>(env, info)?;
      // SAFETY: data is the Rc<CacheState> given to napi_create_function in `create`; it lives
      // until this function is finalized, and the function is alive while it is called.
      let state: &CacheState = &*(data as *const CacheState);
      let call = read_call(env, &argv, state.clock.get())?;
      state.run(env, call)
    })
  }
}

/// Frees the collected entries the finalizers reported since the last delivery; JS gets their
/// slots. Nothing when the cache is broken.
///
/// # Safety
/// `env` must be the environment of `state`, on its JS thread.
unsafe fn take_collected(env: sys::napi_env, state: &CacheState) -> Vec<u32> {
  let ids = state.sink.drain();
  if ids.is_empty() {
    return Vec::new();
  }
  let mut host = NapiHost {
    env,
    sink: &state.sink,
    values: ptr::null_mut(),
    inserting: ptr::null_mut(),
    tail: None,
    deadlines: None,
  };
  state
    .native
    .update(|native| native.policy.take_collected(ids, &mut host))
    .unwrap_or_default()
}

/// Deletes every reference the cache holds (which cancels the finalizers of weak handles, so none
/// can reach the sink once it is dropped), then drops the cache. Works on a broken cache too.
///
/// # Safety
/// `env` must be the environment of the cache.
unsafe fn teardown(env: sys::napi_env, state: Rc<CacheState>) {
  let released = state.native.with_any(|native| {
    for handle in native.policy.drain_handles() {
      // SAFETY: each handle is deleted once; the policy no longer has it.
      unsafe { sys::napi_delete_reference(env, handle.as_ptr()) };
    }
    if let Some(deadlines) = native.deadlines.take() {
      // SAFETY: same env; deleted once.
      unsafe { deadlines.0.release(env) };
    }
  });
  // SAFETY: same env; each is released once.
  unsafe {
    state.io.release(env);
    state.sink.unwatch_teardown(env);
  }
  if released.is_none() {
    // Some handles may still point at the sink: keep it alive rather than risk a finalizer
    // reaching freed memory (a leak, on a path that cannot happen outside a bug).
    std::mem::forget(state);
  }
  // Otherwise dropping the last Rc drops the sink and its threadsafe function. A delivery already
  // queued finds its Weak dead and delivers nothing.
}

unsafe extern "C" fn finalize_cache(env: sys::napi_env, data: *mut c_void, _hint: *mut c_void) {
  no_unwind("a finalizer", || {
    // SAFETY: data is the Rc made in `create`, finalized exactly once, when its function dies.
    unsafe { teardown(env, Rc::from_raw(data as *const CacheState)) };
  });
}

/// Registers the natives on the addon's exports.
///
/// # Safety
/// Called once per environment from module initialisation with valid `env` and `exports`.
pub unsafe fn register(env: sys::napi_env, exports: sys::napi_value) -> JsResult<()> {
  // SAFETY: the caller's contract (module initialisation handles).
  unsafe {
    define_function(env, exports, c"weakCacheProtocol", protocol)?;
    define_function(env, exports, c"weakCacheCreate", create)
  }
}
