//! Native side of WeakCache: Node-API glue around `core::cache_policy`, speaking the protocol that
//! `core::cache_protocol` defines and documents. Only conversions and Node-API calls live here:
//! the host the policy runs against (weak handles are `napi_add_finalizer` references, see
//! gc_notify.rs), the shared buffers, and the cache's native function.

use crate::core::cache_policy::{
  Access, CachePolicy, Config, Demotion, EntryId, Facts, Host, Lookup, NewEntry, Removed, SlotIndex,
};
use crate::core::cache_protocol::{
  self, facts, fate_number, flag, io, lookup_status, removed_status, Io, Op,
};
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
  unsafe fn hold(
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
  unsafe fn value(&self, env: sys::napi_env) -> JsResult<sys::napi_value> {
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
  unsafe fn release(&self, env: sys::napi_env) {
    // SAFETY: the caller's contract.
    unsafe { sys::napi_delete_reference(env, self.reference) };
  }
}

/// The `facts` buffer: `facts::STRIDE` Float64s per slot, grown (by a new buffer) before an
/// insert needs it.
struct FactsBuffer(SharedBuffer);

impl FactsBuffer {
  /// How many slots it has room for.
  fn capacity(&self) -> usize {
    self.0.len / (8 * facts::STRIDE)
  }

  fn write(&mut self, slot: SlotIndex, entry: Facts) {
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

/// The state of one cache that a panic may interrupt: the policy and the facts it publishes.
struct Native {
  policy: CachePolicy<Handle>,
  facts: Option<FactsBuffer>,
}

struct CacheState {
  native: PanicFence<Native>,
  /// Whether the cache has a clock (a ttl was used). Until then JS passes 0 for every ttl and
  /// time, and they are not read.
  clock: Cell<bool>,
  /// Whether entries have sizes; sizes are read only then.
  track_sizes: bool,
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
  facts: Option<&'a mut FactsBuffer>,
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

  fn report_collected(&mut self, id: EntryId) {
    self.sink.push(id);
  }

  fn publish(&mut self, slot: SlotIndex, entry: Facts) {
    if let Some(facts) = self.facts.as_mut() {
      facts.write(slot, entry);
    }
  }
}

/// The arguments of one call, read before anything changes.
enum Call {
  Insert {
    value: sys::napi_value,
    entry: NewEntry,
    values: sys::napi_value,
    tail_value: sys::napi_value,
  },
  Replace {
    slot: SlotIndex,
    entry: NewEntry,
    flags: i32,
    values: sys::napi_value,
    tail_value: sys::napi_value,
  },
  Get {
    slot: SlotIndex,
    now: f64,
    fresh: f64,
    access: Access,
    values: sys::napi_value,
    tail_value: sys::napi_value,
  },
  Peek {
    slot: SlotIndex,
    now: f64,
    fresh: f64,
    update_age: bool,
  },
  Hold {
    slot: SlotIndex,
    strong: bool,
    values: sys::napi_value,
    tail_value: sys::napi_value,
  },
  Remove {
    slot: SlotIndex,
    cause: RemovalCause,
  },
  Pop,
  Purge {
    now: f64,
  },
  Clear,
  Order {
    now: f64,
    allow_stale: bool,
    reverse: bool,
  },
  Pushed,
  Stats,
  Sync,
  Facts {
    clock: bool,
  },
  InjectPanic,
}

/// Reads the arguments of a call; ttls and times only once the cache has a `clock`, sizes only
/// when it tracks them.
///
/// # Safety
/// `env` and `args` must be valid for the running callback.
unsafe fn read_call(
  env: sys::napi_env,
  args: &[sys::napi_value; 7],
  clock: bool,
  track_sizes: bool,
) -> JsResult<Call> {
  let [op, a, b, c, d, e, f] = *args;
  let time = |value| {
    if clock {
      // SAFETY: the caller's contract (valid env and values).
      unsafe { to_f64(env, value) }
    } else {
      Ok(0.0)
    }
  };
  // SAFETY: the caller's contract, for every conversion below.
  unsafe {
    let word = int32(env, op)?;
    let (op, flags) =
      Op::with_flags(word).ok_or_else(|| protocol_error(format!("unknown op {word}")))?;
    let has = |bit: i32| flags & bit != 0;
    // An insert's or replace's ttl, start and size (ttls and times only with a clock).
    let mut entry = NewEntry {
      strong: has(flag::STRONG),
      ..NewEntry::PLAIN
    };
    if matches!(op, Op::Insert | Op::Replace) {
      if clock {
        entry.ttl = to_f64(env, b)?;
        entry.start = to_f64(env, c)?;
      }
      if track_sizes {
        entry.size = to_f64(env, d)?;
      }
    }
    Ok(match op {
      Op::Insert => Call::Insert {
        value: a,
        entry,
        values: e,
        tail_value: f,
      },
      Op::Replace => Call::Replace {
        slot: slot(env, a)?,
        entry,
        flags,
        values: e,
        tail_value: f,
      },
      Op::Get => Call::Get {
        slot: slot(env, a)?,
        now: time(b)?,
        fresh: time(c)?,
        access: Access {
          update_age: has(flag::UPDATE_AGE),
          keep_stale: has(flag::KEEP_STALE),
        },
        values: d,
        tail_value: e,
      },
      Op::Peek => Call::Peek {
        slot: slot(env, a)?,
        now: time(b)?,
        fresh: time(c)?,
        update_age: has(flag::UPDATE_AGE),
      },
      Op::Hold => Call::Hold {
        slot: slot(env, a)?,
        strong: has(flag::STRONG),
        values: b,
        tail_value: c,
      },
      Op::Remove => Call::Remove {
        slot: slot(env, a)?,
        cause: RemovalCause::from_number(int32(env, b)?)
          .ok_or_else(|| protocol_error("unknown removal cause"))?,
      },
      Op::Pop => Call::Pop,
      Op::Purge => Call::Purge { now: time(a)? },
      Op::Clear => Call::Clear,
      Op::Order => Call::Order {
        now: time(a)?,
        allow_stale: has(flag::ALLOW_STALE),
        reverse: has(flag::REVERSE),
      },
      Op::Pushed => Call::Pushed,
      Op::Stats => Call::Stats,
      Op::Sync => Call::Sync,
      Op::Facts => Call::Facts {
        clock: has(flag::CLOCK),
      },
      Op::InjectPanic => Call::InjectPanic,
    })
  }
}

impl CacheState {
  /// The io buffer for the length of one call.
  fn io(&self) -> Io<'_> {
    // SAFETY: `io` has io::BYTES bytes, 8-byte aligned (checked in `create`), kept alive by its
    // reference; the Int32 part and the calculated size are disjoint. JS has views of this memory
    // but cannot run while a native call is running (no call below runs JS).
    unsafe {
      let ints = std::slice::from_raw_parts_mut(self.io.data.cast::<i32>(), io::INTS);
      let calculated = &mut *self.io.data.cast::<f64>().add(io::CALCULATED);
      Io::new(ints, calculated)
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
      // Facts exist only once the clock started or in a cache that tracks sizes.
      Call::Insert { .. } if self.clock.get() || self.track_sizes => {
        // SAFETY: the caller's contract.
        unsafe { self.grow_facts(env, false) }?
      }
      Call::Facts { clock } => {
        // SAFETY: the caller's contract.
        unsafe { self.grow_facts(env, true) }?;
        if clock {
          self.clock.set(true);
        }
      }
      _ => {}
    }
    let mut io = self.io();
    let result = self.native.update(|native| {
      let Native { policy, facts } = native;
      let mut host = NapiHost {
        env,
        sink: &self.sink,
        values: ptr::null_mut(),
        inserting: ptr::null_mut(),
        tail: None,
        facts: facts.as_mut(),
      };
      let published_tail = io.published_tail();
      io.replay_reads(policy);
      // Results are made after the update: Node-API calls that cannot fail. If one does, the
      // panic breaks the fence: the cache changed and JS cannot be told how.
      let made =
        |result: JsResult<sys::napi_value>| result.expect("a Node-API call failed mid-update");
      let with_tail = |host: &mut NapiHost<'_>, values, tail_value| {
        host.values = values;
        host.tail = published_tail.map(|slot| (slot, tail_value));
      };
      let value = match call {
        Call::Insert {
          value,
          entry,
          values,
          tail_value,
        } => {
          with_tail(&mut host, values, tail_value);
          host.inserting = value;
          let slot = policy.insert(entry, &mut host);
          io.set_pushed(policy.pushed_out());
          // SAFETY: the caller's contract.
          made(unsafe { number(env, f64::from(slot)) })
        }
        Call::Replace {
          slot,
          entry,
          flags,
          values,
          tail_value,
        } => {
          with_tail(&mut host, values, tail_value);
          let update_ttl = flags & flag::UPDATE_TTL != 0;
          let changed = flags & flag::CHANGED != 0;
          let lookup = policy
            .replace(slot, entry, update_ttl, changed, &mut host)
            .map_err(not_an_entry)?;
          io.set_status(lookup_status(&lookup));
          io.set_pushed(policy.pushed_out());
          weak_value(lookup, undefined)
        }
        Call::Get {
          slot,
          now,
          fresh,
          access,
          values,
          tail_value,
        } => {
          with_tail(&mut host, values, tail_value);
          let lookup = policy
            .get(slot, now, fresh, access, &mut host)
            .map_err(not_an_entry)?;
          io.set_status(lookup_status(&lookup));
          io.set_pushed(policy.pushed_out());
          weak_value(lookup, undefined)
        }
        Call::Peek {
          slot,
          now,
          fresh,
          update_age,
        } => {
          let lookup = policy
            .peek(slot, now, fresh, update_age, &mut host)
            .map_err(not_an_entry)?;
          io.set_status(lookup_status(&lookup));
          weak_value(lookup, undefined)
        }
        Call::Hold {
          slot,
          strong,
          values,
          tail_value,
        } => {
          with_tail(&mut host, values, tail_value);
          let lookup = policy.hold(slot, strong, &mut host).map_err(not_an_entry)?;
          io.set_status(lookup_status(&lookup));
          io.set_pushed(policy.pushed_out());
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
        // SAFETY: the caller's contract.
        other => unsafe { run_rare(env, policy, &mut host, other, undefined)? },
      };
      // A hint only (see Host::watch): an early error return leaves the last one, still safe.
      io.set_state(policy);
      Ok(value)
    });
    result.map_err(refused)?
  }

  /// Makes sure the `facts` buffer has room for the next insert's slot (and exists, when it must:
  /// `making` it for the `facts` op, or when the policy publishes facts): replaces it by a larger
  /// copy if not. The next insert's slot is then beyond JS's view of the old buffer, which tells
  /// JS to fetch the new one.
  ///
  /// # Safety
  /// `env` must be valid for the running callback.
  unsafe fn grow_facts(&self, env: sys::napi_env, making: bool) -> JsResult<()> {
    let wanted = self
      .native
      .update(|native| {
        let wanted = native.policy.slot_count() + 1;
        match &native.facts {
          Some(current) if current.capacity() >= wanted => None,
          Some(current) => Some(wanted.max(current.capacity() * 2)),
          None if making || native.policy.has_facts() => Some(wanted.max(64)),
          None => None,
        }
      })
      .map_err(refused)?;
    let Some(capacity) = wanted else {
      return Ok(());
    };
    let bytes = capacity.next_power_of_two() * facts::STRIDE * 8;
    // SAFETY: the caller's contract; the length is a multiple of 8.
    let buffer = unsafe { SharedBuffer::new_f64(env, bytes, 0.0) }?;
    let swapped = self.native.update(|native| {
      if let Some(old) = &native.facts {
        // SAFETY: both buffers are alive and distinct, and the new one is the larger.
        unsafe { ptr::copy_nonoverlapping(old.0.data, buffer.data, old.0.len) };
      }
      native.facts.replace(FactsBuffer(buffer))
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

/// The operations that are not on a hot path (a separate function keeps the hot ones small
/// enough to be inlined into the call).
///
/// # Safety
/// `env` must be the environment of the cache, in a native call on its JS thread.
#[cold]
#[inline(never)]
unsafe fn run_rare(
  env: sys::napi_env,
  policy: &mut CachePolicy<Handle>,
  host: &mut NapiHost<'_>,
  call: Call,
  undefined: sys::napi_value,
) -> JsResult<sys::napi_value> {
  // Results are made after the update: Node-API calls that cannot fail. If one does, the panic
  // breaks the fence: the cache changed and JS cannot be told how.
  let made = |result: JsResult<sys::napi_value>| result.expect("a Node-API call failed mid-update");
  Ok(match call {
    Call::Pop => match policy.pop(host) {
      // SAFETY: the caller's contract.
      Some(popped) => made(unsafe { slot_value_pairs(env, &[popped], undefined) }),
      None => undefined,
    },
    Call::Purge { now } => {
      let removed = policy.purge_stale(now, host);
      // SAFETY: the caller's contract.
      made(unsafe { slot_value_pairs(env, &removed, undefined) })
    }
    Call::Clear => {
      let removed = policy.clear(host);
      // SAFETY: the caller's contract.
      made(unsafe { slot_value_pairs(env, &removed, undefined) })
    }
    Call::Order {
      now,
      allow_stale,
      reverse,
    } => {
      // SAFETY: the caller's contract.
      unsafe { int_array(env, policy.order(now, allow_stale, reverse))? }
    }
    // SAFETY: the caller's contract.
    Call::Pushed => unsafe {
      let pairs = policy
        .pushed_out()
        .iter()
        .flat_map(|out| [out.slot as i32, fate_number(out.fate)]);
      int_array(env, pairs)?
    },
    // SAFETY: the caller's contract.
    Call::Stats => unsafe { stats_object(env, policy)? },
    Call::Sync => undefined,
    Call::Facts { clock } => {
      if clock {
        policy.start_timing();
      }
      for (slot, entry) in policy.all_facts() {
        host.publish(slot, entry);
      }
      let buffer = host.facts.as_ref().expect("made before the update");
      // SAFETY: the caller's contract.
      unsafe { buffer.0.value(env)? }
    }
    Call::InjectPanic => inject_panic(policy),
    _ => return Err(protocol_error("a hot operation reached run_rare")),
  })
}

/// The value a lookup returns to JS: a weak entry's value, or undefined.
fn weak_value(lookup: Lookup<sys::napi_value>, undefined: sys::napi_value) -> sys::napi_value {
  match lookup {
    Lookup::Live(Some(value))
    | Lookup::Stale {
      value: Some(value), ..
    } => value,
    _ => undefined,
  }
}

/// The fault-injection op: moves an entry halfway, then unwinds as a panic would, as a bug in the
/// middle of an update would. Only the spec of the fence calls it. (`resume_unwind` skips the
/// panic hook, so the spec's output stays clean; the fence sees an ordinary panic.)
fn inject_panic(policy: &mut CachePolicy<Handle>) -> sys::napi_value {
  if let Some(&slot) = policy.order(0.0, true, false).last() {
    policy.touch(slot);
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
  check(
    // SAFETY: valid env and value; the out pointer is a local.
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
/// `env` must be valid for the running callback.
unsafe fn new_array(env: sys::napi_env) -> JsResult<sys::napi_value> {
  let mut array = ptr::null_mut();
  check(
    // SAFETY: valid env and out pointer.
    unsafe { sys::napi_create_array(env, &mut array) },
    "napi_create_array",
  )?;
  Ok(array)
}

/// # Safety
/// `env` must be valid for the running callback.
unsafe fn int_array<N: Into<f64>>(
  env: sys::napi_env,
  numbers: impl IntoIterator<Item = N>,
) -> JsResult<sys::napi_value> {
  // SAFETY: the caller's contract, for each call below.
  unsafe {
    let array = new_array(env)?;
    for (i, n) in numbers.into_iter().enumerate() {
      check(
        sys::napi_set_element(env, array, i as u32, number(env, n.into())?),
        "napi_set_element",
      )?;
    }
    Ok(array)
  }
}

/// `[slot, value, slot, value, ...]`, `undefined` for a missing value.
///
/// # Safety
/// `env`, the values and `undefined` must be valid for the running callback.
unsafe fn slot_value_pairs(
  env: sys::napi_env,
  pairs: &[(SlotIndex, Option<sys::napi_value>)],
  undefined: sys::napi_value,
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
        sys::napi_set_element(env, array, at + 1, value.unwrap_or(undefined)),
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

/// `weakCacheCreate(io, max, maxSize, flags, deliver) -> native`: a new cache, as its native
/// function `native(op, ...arguments)` (see cache_protocol.rs). The function's data is the cache,
/// freed by the function's finalizer, so a call needs no handle to look up or validate.
unsafe extern "C" fn create(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
  // SAFETY: Node calls natives with a valid env and info on the JS thread; `guard` keeps errors
  // and panics from crossing the FFI boundary; every call below uses that env with valid
  // arguments and out pointers.
  unsafe {
    guard(env, || {
      let [buffer, max, max_size, flags, deliver] = args::<5>(env, info)?;
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
      if !(-1.0..=f64::from(u32::MAX)).contains(&max) {
        return Err(protocol_error(format!("max {max}")));
      }
      let max_size = to_f64(env, max_size)?;
      if max_size.is_nan() || max_size < 0.0 {
        return Err(protocol_error(format!("maxSize {max_size}")));
      }
      let flags = int32(env, flags)?;
      let config = Config {
        max: (max >= 0.0).then_some(max as usize),
        max_size,
        track_sizes: flags & flag::TRACK_SIZES != 0,
        weak: flags & flag::WEAK != 0,
      };
      let deliver = Function::<Vec<u32>, UnknownReturnValue>::from_napi_value(env, deliver)
        .map_err(|e| JsError::internal(e.reason.clone()))?;
      let io = SharedBuffer::hold(env, buffer, data.cast(), len)?;
      let state = Rc::new(CacheState {
        native: PanicFence::new(Native {
          policy: CachePolicy::new(config),
          facts: None,
        }),
        clock: Cell::new(false),
        track_sizes: config.track_sizes,
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
      state
        .native
        .with_any(|native| state.io().set_state(&native.policy));
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

/// The cache's native function: `native(op, a, b, c, d, e, f, g)`.
unsafe extern "C" fn call(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
  // SAFETY: Node calls natives with a valid env and info on the JS thread; `guard` keeps errors
  // and panics from crossing the FFI boundary.
  unsafe {
    guard(env, || {
      let (argv, data) = args_and_data::<7>(env, info)?;
      // SAFETY: data is the Rc<CacheState> given to napi_create_function in `create`; it lives
      // until this function is finalized, and the function is alive while it is called.
      let state: &CacheState = &*(data as *const CacheState);
      let call = read_call(env, &argv, state.clock.get(), state.track_sizes)?;
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
    facts: None,
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
    if let Some(facts) = native.facts.take() {
      // SAFETY: same env; deleted once.
      unsafe { facts.0.release(env) };
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
