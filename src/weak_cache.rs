//! Native side of WeakCache: Node-API glue around `core::cache_policy`, speaking the protocol that
//! `core::cache_protocol` declares and documents. Only conversions and Node-API calls live here:
//! the cache's native function (a raw callback: the hot path of every call that leaves JS), the
//! host the policy runs against (host.rs) and the values it reads and makes (js_values.rs).

mod host;
mod js_values;

use crate::core::cache_policy::{Access, CachePolicy, Config, Host, Lookup, NewEntry, Removed};
use crate::core::cache_protocol::{
  facts, fate_number, flag, io, lookup_status, numbers, op_and_flags, removed_status, takes_flags,
  CacheCall, CacheOp, Io,
};
use crate::core::panic_fence::{PanicFence, Refused};
use crate::core::removal_cause::RemovalCause;
use crate::error::{check, ErrorClass, JsError, JsResult};
use crate::gc_notify::{batch_delivery, GcSink};
use crate::native_protocol::{describe, NativeOp};
use crate::raw::{args_and_data, function_with_data, guard, no_unwind, to_f64, undefined};
use host::{FactsBuffer, Handle, NapiHost, SharedBuffer};
use js_values::{int32, int_array, slot, slot_value_pairs, stats_object};
use napi::bindgen_prelude::{Function, JsValue, Unknown};
use napi::threadsafe_function::UnknownReturnValue;
use napi::{sys, Env};
use napi_derive::napi;
use std::cell::Cell;
use std::collections::HashMap;
use std::ffi::c_void;
use std::ptr;
use std::rc::{Rc, Weak};

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

/// Reads a call's numbers that are in use: ttls and times once the cache has a clock, sizes when
/// it tracks them (JS passes 0 for the others, and they are not converted).
struct Numbers {
  env: sys::napi_env,
  clock: bool,
  track_sizes: bool,
}

impl Numbers {
  /// # Safety
  /// `value` must be valid for the running callback.
  unsafe fn time(&self, value: sys::napi_value) -> JsResult<f64> {
    if self.clock {
      // SAFETY: the caller's contract.
      unsafe { to_f64(self.env, value) }
    } else {
      Ok(0.0)
    }
  }

  /// The ttl, start, size and strength of an `insert` or `replace`.
  ///
  /// # Safety
  /// The values must be valid for the running callback.
  unsafe fn entry(
    &self,
    flags: i32,
    ttl: sys::napi_value,
    start: sys::napi_value,
    size: sys::napi_value,
  ) -> JsResult<NewEntry> {
    // SAFETY: the caller's contract, for each conversion.
    unsafe {
      Ok(NewEntry {
        ttl: self.time(ttl)?,
        start: self.time(start)?,
        size: if self.track_sizes {
          to_f64(self.env, size)?
        } else {
          0.0
        },
        strong: flags & flag::STRONG != 0,
      })
    }
  }
}

impl CacheState {
  /// The io buffer for the length of one call.
  fn io(&self) -> Io<'_> {
    // SAFETY: `io` has io::BYTES bytes, 8-byte aligned (checked in `weak_cache_create`), kept
    // alive by its reference; the Int32 part and the calculated size are disjoint. JS has views
    // of this memory but cannot run while a native call is running (no call below runs JS).
    unsafe {
      let ints = std::slice::from_raw_parts_mut(self.io.data.cast::<i32>(), io::INTS);
      let calculated = &mut *self.io.data.cast::<f64>().add(io::CALCULATED);
      Io::new(ints, calculated)
    }
  }

  /// Runs one call: replays the read log, applies the operation, writes the reply. Arguments are
  /// converted after the replay (a complete update of its own) and before the operation changes
  /// anything, so a bad argument (a bug in JS) leaves the cache consistent.
  ///
  /// # Safety
  /// `env` must be the environment of this cache, in a native call on its JS thread, and the
  /// call's values valid for it.
  unsafe fn run(
    &self,
    env: sys::napi_env,
    call: CacheCall<sys::napi_value>,
    flags: i32,
  ) -> JsResult<sys::napi_value> {
    // The hot ops answer `undefined` with NULL (Node-API's undefined for a callback's result);
    // the others make it before the update, so that no Node-API call that could fail follows a
    // change.
    let undefined = match call {
      CacheCall::Insert { .. }
      | CacheCall::Replace { .. }
      | CacheCall::Get { .. }
      | CacheCall::Peek { .. }
      | CacheCall::Hold { .. }
      | CacheCall::Remove { .. } => ptr::null_mut(),
      // SAFETY: the caller's contract.
      _ => unsafe { undefined(env) }?,
    };
    match call {
      // Facts exist only once the clock started or in a cache that tracks sizes.
      CacheCall::Insert { .. } if self.clock.get() || self.track_sizes => {
        // SAFETY: the caller's contract.
        unsafe { self.grow_facts(env, false) }?
      }
      CacheCall::Facts { .. } => {
        // SAFETY: the caller's contract.
        unsafe { self.grow_facts(env, true) }?;
        if flags & flag::CLOCK != 0 {
          self.clock.set(true);
        }
      }
      _ => {}
    }
    let read = Numbers {
      env,
      clock: self.clock.get(),
      track_sizes: self.track_sizes,
    };
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
      let with_tail = |host: &mut NapiHost<'_>, values, tail_value| {
        host.values = values;
        host.tail = published_tail.map(|slot| (slot, tail_value));
      };
      // SAFETY: the caller's contract, for every conversion and Node-API call below.
      let value = unsafe {
        match call {
          CacheCall::Insert {
            value,
            ttl,
            start,
            size,
            values,
            tail_value,
            ..
          } => {
            let entry = read.entry(flags, ttl, start, size)?;
            with_tail(&mut host, values, tail_value);
            host.inserting = value;
            let slot = policy.insert(entry, &mut host);
            io.set_slot(slot);
            io.set_pushed(policy.pushed_out());
            undefined
          }
          CacheCall::Replace {
            slot: at,
            ttl,
            start,
            size,
            values,
            tail_value,
            ..
          } => {
            let at = slot(env, at)?;
            let entry = read.entry(flags, ttl, start, size)?;
            with_tail(&mut host, values, tail_value);
            let update_ttl = flags & flag::UPDATE_TTL != 0;
            let changed = flags & flag::CHANGED != 0;
            let lookup = policy
              .replace(at, entry, update_ttl, changed, &mut host)
              .map_err(not_an_entry)?;
            io.set_status(lookup_status(&lookup));
            io.set_pushed(policy.pushed_out());
            weak_value(lookup, undefined)
          }
          CacheCall::Get {
            slot: at,
            now,
            fresh,
            values,
            tail_value,
            ..
          } => {
            let (at, now, fresh) = (slot(env, at)?, read.time(now)?, read.time(fresh)?);
            let access = Access {
              update_age: flags & flag::UPDATE_AGE != 0,
              keep_stale: flags & flag::KEEP_STALE != 0,
            };
            with_tail(&mut host, values, tail_value);
            let lookup = policy
              .get(at, now, fresh, access, &mut host)
              .map_err(not_an_entry)?;
            io.set_status(lookup_status(&lookup));
            io.set_pushed(policy.pushed_out());
            weak_value(lookup, undefined)
          }
          CacheCall::Peek {
            slot: at,
            now,
            fresh,
            ..
          } => {
            let (at, now, fresh) = (slot(env, at)?, read.time(now)?, read.time(fresh)?);
            let update_age = flags & flag::UPDATE_AGE != 0;
            let lookup = policy
              .peek(at, now, fresh, update_age, &mut host)
              .map_err(not_an_entry)?;
            io.set_status(lookup_status(&lookup));
            weak_value(lookup, undefined)
          }
          CacheCall::Hold {
            slot: at,
            values,
            tail_value,
            ..
          } => {
            let at = slot(env, at)?;
            with_tail(&mut host, values, tail_value);
            let strong = flags & flag::STRONG != 0;
            let lookup = policy.hold(at, strong, &mut host).map_err(not_an_entry)?;
            io.set_status(lookup_status(&lookup));
            io.set_pushed(policy.pushed_out());
            weak_value(lookup, undefined)
          }
          CacheCall::Remove { slot: at, cause } => {
            let at = slot(env, at)?;
            let cause = RemovalCause::from_number(int32(env, cause)?)
              .ok_or_else(|| protocol_error("unknown removal cause"))?;
            let removed = policy.remove(at, cause, &mut host).map_err(not_an_entry)?;
            io.set_status(removed_status(&removed));
            match removed {
              Removed::Weak(value) => value,
              Removed::Pinned | Removed::Collected => undefined,
            }
          }
          other => run_rare(env, policy, &mut host, other, flags, &read, undefined)?,
        }
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
  call: CacheCall<sys::napi_value>,
  flags: i32,
  read: &Numbers,
  undefined: sys::napi_value,
) -> JsResult<sys::napi_value> {
  // Results are made after the update: Node-API calls that cannot fail. If one does, the panic
  // breaks the fence: the cache changed and JS cannot be told how.
  let made = |result: JsResult<sys::napi_value>| result.expect("a Node-API call failed mid-update");
  // SAFETY: the caller's contract, for every conversion and Node-API call below.
  Ok(unsafe {
    match call {
      CacheCall::Pop {} => match policy.pop(host) {
        Some(popped) => made(slot_value_pairs(env, &[popped], undefined)),
        None => undefined,
      },
      CacheCall::Purge { now } => {
        let removed = policy.purge_stale(read.time(now)?, host);
        made(slot_value_pairs(env, &removed, undefined))
      }
      CacheCall::Clear {} => {
        let removed = policy.clear(host);
        made(slot_value_pairs(env, &removed, undefined))
      }
      CacheCall::Order { now, .. } => {
        let allow_stale = flags & flag::ALLOW_STALE != 0;
        let reverse = flags & flag::REVERSE != 0;
        int_array(env, policy.order(read.time(now)?, allow_stale, reverse))?
      }
      CacheCall::Pushed {} => {
        let pairs = policy
          .pushed_out()
          .iter()
          .flat_map(|out| [out.slot as i32, fate_number(out.fate)]);
        int_array(env, pairs)?
      }
      CacheCall::Stats {} => stats_object(env, policy)?,
      CacheCall::Sync {} => undefined,
      CacheCall::Facts { .. } => {
        if flags & flag::CLOCK != 0 {
          policy.start_timing();
        }
        for (slot, entry) in policy.all_facts() {
          host.publish(slot, entry);
        }
        let buffer = host.facts.as_ref().expect("made before the update");
        buffer.0.value(env)?
      }
      CacheCall::InjectPanic {} => inject_panic(policy),
      CacheCall::Insert { .. }
      | CacheCall::Replace { .. }
      | CacheCall::Get { .. }
      | CacheCall::Peek { .. }
      | CacheCall::Hold { .. }
      | CacheCall::Remove { .. } => return Err(protocol_error("a hot operation reached run_rare")),
    }
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

/// What JS reads of the protocol at load (see core/cache_protocol.rs): the ops, the layout of the
/// shared `io` buffer and of `facts`, the statuses, the flags and the removal causes.
#[napi(object)]
pub struct WeakCacheProtocol {
  pub ops: Vec<NativeOp>,
  pub io: HashMap<String, i32>,
  pub facts: HashMap<String, i32>,
  pub status: HashMap<String, i32>,
  pub flag: HashMap<String, i32>,
  /// The codes of lookup outcomes in the read log.
  pub looked: HashMap<String, i32>,
  /// The `dispose` reasons, by removal-cause number.
  pub causes: Vec<String>,
}

/// The protocol of a WeakCache's native function, for lib/weak-cache-native.js at load.
#[napi(catch_unwind)]
pub fn weak_cache_protocol() -> WeakCacheProtocol {
  let [io, facts, status, flag, looked] = numbers().map(|(_, group)| {
    group
      .into_iter()
      .map(|(name, n)| (name.to_string(), n))
      .collect::<HashMap<_, _>>()
  });
  WeakCacheProtocol {
    ops: describe(CacheOp::describe()),
    io,
    facts,
    status,
    flag,
    looked,
    causes: RemovalCause::ALL
      .iter()
      .map(|cause| cause.reason().to_string())
      .collect(),
  }
}

/// `weakCacheCreate(io, max, maxSize, flags, deliver)`: a new cache, as its native function
/// `native(op, ...arguments)` (see core/cache_protocol.rs). `max` -1 is no count limit; `deliver`
/// gets the slots of collected entries, on the event loop. The function's data is the cache,
/// freed by the function's finalizer, so a call needs no handle to look up or validate.
#[napi(
  catch_unwind,
  ts_args_type = "io: ArrayBuffer, max: number, maxSize: number, flags: number, deliver: (slots: number[]) => void",
  ts_return_type = "(op: number, ...args: unknown[]) => unknown"
)]
pub fn weak_cache_create<'env>(
  env: &'env Env,
  io: Unknown<'env>,
  max: f64,
  max_size: f64,
  flags: i32,
  deliver: Function<'env, Vec<u32>, UnknownReturnValue>,
) -> napi::Result<Unknown<'env>> {
  // SAFETY: napi-rs calls this on the JS thread with a valid env and live arguments.
  unsafe { create(env.raw(), io.raw(), max, max_size, flags, &deliver) }
    .map_err(|error| napi::Error::from_reason(error.message))
}

/// # Safety
/// `env` and `buffer` must be valid for the running callback.
unsafe fn create<'env>(
  env: sys::napi_env,
  buffer: sys::napi_value,
  max: f64,
  max_size: f64,
  flags: i32,
  deliver: &Function<'env, Vec<u32>, UnknownReturnValue>,
) -> JsResult<Unknown<'env>> {
  let mut data = ptr::null_mut();
  let mut len = 0;
  check(
    // SAFETY: the caller's contract; valid out pointers.
    unsafe { sys::napi_get_arraybuffer_info(env, buffer, &mut data, &mut len) },
    "napi_get_arraybuffer_info",
  )?;
  if len < io::BYTES || data.align_offset(8) != 0 {
    return Err(JsError::internal(format!(
      "WeakCache io buffer has {len} bytes, needs {} (8-byte aligned)",
      io::BYTES
    )));
  }
  if !(-1.0..=f64::from(u32::MAX)).contains(&max) {
    return Err(protocol_error(format!("max {max}")));
  }
  if max_size.is_nan() || max_size < 0.0 {
    return Err(protocol_error(format!("maxSize {max_size}")));
  }
  let config = Config {
    max: (max >= 0.0).then_some(max as usize),
    max_size,
    track_sizes: flags & flag::TRACK_SIZES != 0,
    weak: flags & flag::WEAK != 0,
  };
  // SAFETY: the caller's contract; `buffer` is an ArrayBuffer of `len` bytes at `data`.
  let io = unsafe { SharedBuffer::hold(env, buffer, data.cast(), len) }?;
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
  let wake = batch_delivery(deliver, move |env: Env| match weak.upgrade() {
    // SAFETY: runs on the JS thread of this env, outside any of our natives.
    Some(state) => unsafe { take_collected(env.raw(), &state) },
    None => Vec::new(),
  });
  let wake = match wake {
    Ok(wake) => wake,
    Err(e) => {
      // SAFETY: same env; released once.
      unsafe { state.io.release(env) };
      return Err(JsError::internal(e.reason.clone()));
    }
  };
  state.sink.set_waker(wake);
  state
    .native
    .with_any(|native| state.io().set_state(&native.policy));
  // The Rc's heap cell never moves, so the hook's pointer to the sink stays valid until
  // finalize_cache removes the hook.
  // SAFETY: the caller's contract.
  if let Err(error) = unsafe { state.sink.watch_teardown(env) } {
    // SAFETY: same env; released once.
    unsafe { state.io.release(env) };
    return Err(error);
  }
  let data = Rc::into_raw(state) as *mut c_void;
  // SAFETY: the caller's contract; `data` stays valid until finalize_cache.
  let Some(function) =
    (unsafe { function_with_data(env, c"weakCache", call, data, finalize_cache) })
  else {
    // SAFETY: nothing else has the pointer.
    unsafe { teardown(env, Rc::from_raw(data as *const CacheState)) };
    return Err(JsError::internal("could not create a WeakCache"));
  };
  // SAFETY: `function` is a live value of this env, made above.
  Ok(unsafe { Unknown::from_raw_unchecked(env, function) })
}

/// The cache's native function: `native(op | flags << OP_FLAGS_SHIFT, ...args)`. A raw callback:
/// it is the hot path of every WeakCache call that leaves JS (see raw.rs).
unsafe extern "C" fn call(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
  // SAFETY: Node calls natives with a valid env and info on the JS thread; `guard` keeps errors
  // and panics from crossing the FFI boundary.
  unsafe {
    guard(env, || {
      let (argv, data) = args_and_data::<{ 1 + CacheOp::MAX_ARGS }>(env, info)?;
      // SAFETY: data is the Rc<CacheState> given to napi_create_function in `create`; it lives
      // until this function is finalized, and the function is alive while it is called.
      let state: &CacheState = &*(data as *const CacheState);
      let word = int32(env, argv[0])?;
      let (op, flags) =
        op_and_flags(word).ok_or_else(|| protocol_error(format!("unknown op {word}")))?;
      // An op with flags declares them first: they are its op number's (argv[0]).
      let args = if takes_flags(op) {
        &argv[..]
      } else {
        &argv[1..]
      };
      state.run(env, CacheCall::decode(op, args), flags)
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
