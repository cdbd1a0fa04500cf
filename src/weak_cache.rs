//! Native side of WeakCache: Node-API glue around `core::cache_policy`.
//!
//! The JS class (lib/weak-cache.js) keeps the pinned tier's hit index (`Map key -> position`
//! plus arrays of keys and values by position), so a pinned hit never crosses into Rust: it is
//! written into the read log of a shared `ArrayBuffer` (the `io` layout below), which every
//! native call first replays into the policy (Caffeine's read buffer). The weak tier lives only
//! here: one `napi_add_finalizer` reference per object value, made when the value is first
//! demoted (read from the JS `values` array by position) and kept if it is pinned again, so a
//! value demoted a second time costs nothing but moving the entry. Collections travel
//! finalizer -> GcSink -> batched threadsafe function -> `deliver(keys)` in JS.
//!
//! Natives are raw Node-API callbacks on a type-tagged External (see raw.rs): ~0.1 µs a call.

use crate::core::cache_key::CacheKey;
use crate::core::cache_policy::{CachePolicy, Demotion, EntryId, Removal, SlotIndex, Victim};
use crate::error::{check, JsError, JsResult};
use crate::gc_notify::{batch_delivery, watch, GcSink};
use crate::raw::{
  args, define_function, guard, no_unwind, number, tagged_external, to_f64, undefined,
};
use napi::bindgen_prelude::{FromNapiValue, Function, ToNapiValue};
use napi::threadsafe_function::UnknownReturnValue;
use napi::{sys, Env};
use std::cell::RefCell;
use std::ffi::c_void;
use std::ptr;
use std::rc::{Rc, Weak};

/// Layout of the shared `io` buffer, mirrored in lib/weak-cache.js. Int32 slots first:
mod io {
  /// Number of reads logged by JS since the last replay.
  pub const READ_COUNT: usize = 0;
  /// Entries in the weak tier (written by Rust after every change).
  pub const WEAK_LEN: usize = 1;
  /// Position of the pinned entry the last operation pushed out, or -1.
  pub const VICTIM: usize = 2;
  /// 1 if that victim was evicted (a primitive), 0 if demoted to the weak tier.
  pub const VICTIM_EVICTED: usize = 3;
  /// Position of the entry the last insert or promotion pinned.
  pub const POSITION: usize = 4;
  /// Outcome of a weak lookup: MISS, HIT or EXPIRED.
  pub const STATUS: usize = 5;
  /// The read log: the position of each pinned hit, or -1 for a miss found in JS.
  pub const READS: usize = 8;
  pub const READ_CAPACITY: usize = 1024;
  /// Float64 slots: the time of each logged read (only with updateAgeOnGet), then the stats.
  pub const TIMES: usize = (READS + READ_CAPACITY) / 2;
  pub const STATS: usize = TIMES + READ_CAPACITY;
  pub const STATS_LEN: usize = 11;
  /// The ttl and expiry time of the entry a weak hit pinned again, for the JS mirror.
  pub const ENTRY_TTL: usize = STATS + STATS_LEN;
  pub const ENTRY_EXPIRES: usize = ENTRY_TTL + 1;
  pub const BYTES: usize = (ENTRY_EXPIRES + 1) * 8;
}

const MISS: i32 = 0;
const HIT: i32 = 1;
const EXPIRED: i32 = 2;

struct CacheState {
  policy: RefCell<CachePolicy<sys::napi_ref>>,
  /// Where the finalizers of value references report. Outlives them (see gc_notify).
  collected: GcSink,
  /// The `io` buffer's memory (an ArrayBuffer's backing store never moves) and a strong
  /// reference keeping it alive.
  io: *mut u8,
  io_ref: sys::napi_ref,
  /// The JS array of pinned values by position, where demotion finds a victim's value.
  values_ref: sys::napi_ref,
  update_age_on_get: bool,
}

impl CacheState {
  fn i32(&self, index: usize) -> i32 {
    // SAFETY: io points to io::BYTES bytes (checked in create), kept alive by io_ref; all
    // indices used are constants inside the layout; JS only touches it on this thread.
    unsafe { self.io.cast::<i32>().add(index).read() }
  }

  fn set_i32(&self, index: usize, value: i32) {
    // SAFETY: as in `i32`.
    unsafe { self.io.cast::<i32>().add(index).write(value) }
  }

  fn f64(&self, index: usize) -> f64 {
    // SAFETY: as in `i32`; the buffer is 8-byte aligned (ArrayBuffer allocations are).
    unsafe { self.io.cast::<f64>().add(index).read() }
  }

  fn set_f64(&self, index: usize, value: f64) {
    // SAFETY: as in `f64`.
    unsafe { self.io.cast::<f64>().add(index).write(value) }
  }

  /// Replays the reads JS logged since the last call, so the policy's order is exact.
  fn replay_reads(&self, policy: &mut CachePolicy<sys::napi_ref>, now: f64) {
    let count = (self.i32(io::READ_COUNT).max(0) as usize).min(io::READ_CAPACITY);
    for i in 0..count {
      let position = self.i32(io::READS + i);
      if position < 0 {
        policy.record_miss();
      } else {
        let at = if self.update_age_on_get {
          self.f64(io::TIMES + i)
        } else {
          now
        };
        policy.touch(position as u32, at);
      }
    }
    self.set_i32(io::READ_COUNT, 0);
  }

  /// Borrows the policy for one operation, after replaying the read log; publishes the weak
  /// count afterwards.
  fn with_policy<T>(
    &self,
    now: f64,
    op: impl FnOnce(&mut CachePolicy<sys::napi_ref>) -> JsResult<T>,
  ) -> JsResult<T> {
    let mut policy = self.policy.borrow_mut();
    self.replay_reads(&mut policy, now);
    self.set_i32(io::VICTIM, -1);
    let result = op(&mut policy);
    self.set_i32(io::WEAK_LEN, policy.weak_len() as i32);
    result
  }

  fn report_victim(&self, victim: Option<Victim>) {
    if let Some(victim) = victim {
      self.set_i32(io::VICTIM, victim.position as i32);
      self.set_i32(io::VICTIM_EVICTED, victim.evicted as i32);
    }
  }

  /// The value of a weak entry, or None when the GC has taken it. In that case the entry is
  /// marked collected and its id reported through the sink: deleting the reference cancels the
  /// finalizer that would have reported it (the deferred window of napi-facts §6.2).
  ///
  /// # Safety
  /// `env` must be the current environment.
  unsafe fn read_weak(
    &self,
    env: sys::napi_env,
    policy: &mut CachePolicy<sys::napi_ref>,
    slot: SlotIndex,
  ) -> JsResult<Option<sys::napi_value>> {
    let Some(reference) = policy.handle(slot) else {
      return Ok(None);
    };
    let mut value = ptr::null_mut();
    // SAFETY: the reference is live: the policy holds it until it gives it back to us.
    check(
      unsafe { sys::napi_get_reference_value(env, reference, &mut value) },
      "napi_get_reference_value",
    )?;
    if !value.is_null() {
      return Ok(Some(value));
    }
    let (handle, id) = policy.mark_collected(slot);
    // SAFETY: the handle left the policy, so it is deleted exactly once, here.
    unsafe { delete_handle(env, handle) };
    self.collected.push(id);
    Ok(None)
  }

  /// Makes the weak handle for a victim that has none: its value is `new_value` (the entry being
  /// set, with max 0) or the JS values array's element at its position. None for a primitive,
  /// which is then evicted; also when Node-API fails, since evicting is the safe answer then.
  ///
  /// # Safety
  /// `env` and `new_value` must be valid for the running callback.
  unsafe fn demotion_handle(
    &self,
    env: sys::napi_env,
    demotion: Demotion,
    new_value: sys::napi_value,
  ) -> Option<sys::napi_ref> {
    let value = if demotion.is_new {
      new_value
    } else {
      let mut values = ptr::null_mut();
      let mut value = ptr::null_mut();
      // SAFETY: values_ref is a strong reference to the array, alive as long as self.
      unsafe {
        check(
          sys::napi_get_reference_value(env, self.values_ref, &mut values),
          "napi_get_reference_value",
        )
        .ok()?;
        check(
          sys::napi_get_element(env, values, demotion.position, &mut value),
          "napi_get_element",
        )
        .ok()?;
      }
      value
    };
    // SAFETY: valid env and value; the reference is deleted before the sink is dropped.
    unsafe { handle_for(env, value, demotion.id, &self.collected) }
      .ok()
      .flatten()
  }

  /// Deletes every reference: cancels all finalizers before the sink goes away.
  ///
  /// # Safety
  /// `env` must be the current environment.
  unsafe fn release_all(&self, env: sys::napi_env) {
    let mut policy = self.policy.borrow_mut();
    for (_, handle) in policy.clear_pinned() {
      // SAFETY: each handle leaves the policy once.
      unsafe { delete_handle(env, handle) };
    }
    for slot in policy.weak_slots() {
      let (_, handle) = policy.remove_weak(slot, Removal::Delete);
      // SAFETY: as above.
      unsafe { delete_handle(env, handle) };
    }
    // SAFETY: io_ref and values_ref were made in create and are deleted once, here.
    unsafe {
      sys::napi_delete_reference(env, self.io_ref);
      sys::napi_delete_reference(env, self.values_ref);
    }
  }
}

/// # Safety
/// `env` must be the current environment; `handle` must not be used again.
unsafe fn delete_handle(env: sys::napi_env, handle: Option<sys::napi_ref>) {
  if let Some(reference) = handle {
    // SAFETY: caller's contract; deleting also cancels a pending finalizer.
    unsafe { sys::napi_delete_reference(env, reference) };
  }
}

/// Tags our Externals so that a foreign External passed to these natives is an error, not a crash.
static CACHE_TAG: sys::napi_type_tag = sys::napi_type_tag {
  lower: 0x6570_6865_6d65_726f,
  upper: 0x6e2d_6361_6368_6531,
};

unsafe extern "C" fn finalize_cache(env: sys::napi_env, data: *mut c_void, _hint: *mut c_void) {
  no_unwind("a finalizer", || {
    // SAFETY: data is the Box made in `create`, finalized exactly once by Node.
    let state = unsafe { Box::from_raw(data as *mut Rc<CacheState>) };
    // SAFETY: same env; the sink is still alive here.
    unsafe {
      state.release_all(env);
      state.collected.unwatch_teardown(env);
    }
    // Dropping the last Rc drops the sink and its threadsafe function. A delivery already queued
    // finds its Weak dead and delivers nothing.
  });
}

/// # Safety
/// `env` and `value` must be valid for the running callback.
unsafe fn state<'a>(env: sys::napi_env, value: sys::napi_value) -> JsResult<&'a CacheState> {
  // SAFETY: Externals tagged CACHE_TAG carry an Rc<CacheState> that lives until the External is
  // finalized (and it is reachable here, so it is not).
  let state: &Rc<CacheState> = unsafe { tagged_external(env, value, &CACHE_TAG, "cache handle") }?;
  Ok(state)
}

/// Reads a key the JS side has already validated (a string or a number).
///
/// # Safety
/// `env` and `value` must be valid for the running callback.
unsafe fn read_key(env: sys::napi_env, value: sys::napi_value) -> JsResult<CacheKey> {
  let mut kind = 0;
  check(
    // SAFETY: valid env and value for the running callback; the out pointers are locals.
    unsafe { sys::napi_typeof(env, value, &mut kind) },
    "napi_typeof",
  )?;
  if kind == sys::ValueType::napi_number {
    // SAFETY: valid env (and value) for the running callback.
    return Ok(CacheKey::Num(unsafe { to_f64(env, value) }?));
  }
  if kind != sys::ValueType::napi_string {
    return Err(JsError::type_error(
      "ERR_INVALID_ARG_TYPE",
      "WeakCache key must be a string or a number",
    ));
  }
  let mut stack = [0u16; 64];
  let mut len = 0;
  // SAFETY: the buffer has room for its length (the call writes at most len-1 units and a NUL).
  check(
    unsafe {
      sys::napi_get_value_string_utf16(env, value, stack.as_mut_ptr(), stack.len(), &mut len)
    },
    "napi_get_value_string_utf16",
  )?;
  if len < stack.len() - 1 {
    return Ok(CacheKey::string(&stack[..len]));
  }
  // Longer than the stack buffer: ask for the length, then read it whole.
  check(
    // SAFETY: valid env and value for the running callback; the out pointers are locals.
    unsafe { sys::napi_get_value_string_utf16(env, value, ptr::null_mut(), 0, &mut len) },
    "napi_get_value_string_utf16",
  )?;
  let mut heap = vec![0u16; len + 1];
  check(
    // SAFETY: the buffer has room for len + 1 units, as the call requires.
    unsafe {
      sys::napi_get_value_string_utf16(env, value, heap.as_mut_ptr(), heap.len(), &mut len)
    },
    "napi_get_value_string_utf16",
  )?;
  Ok(CacheKey::string(&heap[..len]))
}

/// # Safety
/// `env` must be valid for the running callback.
unsafe fn key_value(env: sys::napi_env, key: &CacheKey) -> JsResult<sys::napi_value> {
  match (key, key.units()) {
    // SAFETY: valid env (and value) for the running callback.
    (CacheKey::Num(n), _) => unsafe { number(env, *n) },
    (_, units) => {
      let units = units.unwrap_or_default();
      let mut value = ptr::null_mut();
      // SAFETY: units is a valid slice of the given length.
      check(
        unsafe {
          sys::napi_create_string_utf16(env, units.as_ptr(), units.len() as isize, &mut value)
        },
        "napi_create_string_utf16",
      )?;
      Ok(value)
    }
  }
}

/// A key on its way to JS in a batch of collected keys.
struct JsKey(CacheKey);

impl ToNapiValue for JsKey {
  unsafe fn to_napi_value(env: sys::napi_env, key: Self) -> napi::Result<sys::napi_value> {
    // SAFETY: called by napi-rs on the JS thread with a valid env.
    unsafe { key_value(env, &key.0) }.map_err(|e| napi::Error::from_reason(e.message))
  }
}

/// A weak reference with a finalizer for object (and function) values; None for primitives,
/// which cannot be held weakly.
///
/// # Safety
/// `env` and `value` must be valid for the running callback.
unsafe fn handle_for(
  env: sys::napi_env,
  value: sys::napi_value,
  id: EntryId,
  sink: &GcSink,
) -> JsResult<Option<sys::napi_ref>> {
  let mut kind = 0;
  check(
    // SAFETY: valid env and value for the running callback; the out pointers are locals.
    unsafe { sys::napi_typeof(env, value, &mut kind) },
    "napi_typeof",
  )?;
  if kind != sys::ValueType::napi_object && kind != sys::ValueType::napi_function {
    return Ok(None);
  }
  // SAFETY: valid env/value; the reference is deleted before the sink is dropped (release_all).
  Ok(Some(unsafe { watch(env, value, id, sink) }?))
}

/// # Safety
/// `env` must be valid for the running callback.
unsafe fn boolean(env: sys::napi_env, value: sys::napi_value) -> JsResult<bool> {
  let mut b = false;
  check(
    // SAFETY: valid env and value for the running callback; the out pointers are locals.
    unsafe { sys::napi_get_value_bool(env, value, &mut b) },
    "napi_get_value_bool",
  )?;
  Ok(b)
}

/// `create(io, values, max, updateAgeOnGet, deliver) -> handle`. `values` is the JS array of
/// pinned values by position (kept for the cache's lifetime); `deliver(keys)` receives, on the
/// event loop, the keys of weak entries the GC collected.
unsafe extern "C" fn create(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
  // SAFETY: Node calls natives with a valid env and info on the JS thread; `guard` keeps errors
  // and panics from crossing the FFI boundary.
  unsafe {
    guard(env, || {
      let [buffer, values, max, update_age_on_get, deliver] = args::<5>(env, info)?;
      let mut data = ptr::null_mut();
      let mut len = 0;
      check(
        sys::napi_get_arraybuffer_info(env, buffer, &mut data, &mut len),
        "napi_get_arraybuffer_info",
      )?;
      if len < io::BYTES {
        return Err(JsError::internal(format!(
          "WeakCache io buffer has {len} bytes, needs {}",
          io::BYTES
        )));
      }
      let mut io_ref = ptr::null_mut();
      check(
        sys::napi_create_reference(env, buffer, 1, &mut io_ref),
        "napi_create_reference",
      )?;
      let mut values_ref = ptr::null_mut();
      check(
        sys::napi_create_reference(env, values, 1, &mut values_ref),
        "napi_create_reference",
      )?;
      let max = to_f64(env, max)? as usize;
      let update_age_on_get = boolean(env, update_age_on_get)?;
      let state = Rc::new(CacheState {
        policy: RefCell::new(CachePolicy::new(max, update_age_on_get)),
        collected: GcSink::new(),
        io: data.cast(),
        io_ref,
        values_ref,
        update_age_on_get,
      });
      let deliver = Function::<Vec<JsKey>, UnknownReturnValue>::from_napi_value(env, deliver)
        .map_err(|e| JsError::internal(e.reason.clone()))?;
      let weak: Weak<CacheState> = Rc::downgrade(&state);
      let wake = batch_delivery(&deliver, move |env: Env| match weak.upgrade() {
        // SAFETY: runs on the JS thread of this env, outside any of our natives.
        Some(state) => take_collected(env.raw(), &state),
        None => Vec::new(),
      })
      .map_err(|e| JsError::internal(e.reason.clone()))?;
      state.collected.set_waker(wake);
      state.set_i32(io::VICTIM, -1);
      // The Rc's heap cell never moves, so the hook's pointer to the sink stays valid until
      // finalize_cache removes the hook.
      if let Err(error) = state.collected.watch_teardown(env) {
        state.release_all(env);
        return Err(error);
      }
      let boxed = Box::into_raw(Box::new(state));
      let mut external = ptr::null_mut();
      let status = sys::napi_create_external(
        env,
        boxed.cast(),
        Some(finalize_cache),
        ptr::null_mut(),
        &mut external,
      );
      if status != sys::Status::napi_ok {
        let state = Box::from_raw(boxed);
        state.release_all(env);
        state.collected.unwatch_teardown(env);
        return Err(JsError::internal(format!(
          "napi_create_external failed with status {status}"
        )));
      }
      check(
        sys::napi_type_tag_object(env, external, &CACHE_TAG),
        "napi_type_tag_object",
      )?;
      Ok(external)
    })
  }
}

/// Turns the collection events queued since the last delivery into the keys JS reports.
///
/// # Safety
/// `env` must be the environment of `state`, on its JS thread.
unsafe fn take_collected(env: sys::napi_env, state: &CacheState) -> Vec<JsKey> {
  let ids = state.collected.drain();
  let mut policy = state.policy.borrow_mut();
  let mut keys = Vec::with_capacity(ids.len());
  for id in ids {
    if let Some((key, handle)) = policy.take_collected(id) {
      // SAFETY: the handle left the policy; deleted once.
      unsafe { delete_handle(env, handle) };
      keys.push(JsKey(key));
    }
  }
  state.set_i32(io::WEAK_LEN, policy.weak_len() as i32);
  keys
}

/// `set(handle, key, value, ttl, now) -> replaced`: adds an entry for a key the pinned tier does
/// not have. Returns the value of a weak entry it replaced (for dispose 'set'), or undefined.
/// Writes POSITION and VICTIM.
unsafe extern "C" fn set(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
  // SAFETY: Node calls natives with a valid env and info on the JS thread; `guard` keeps errors
  // and panics from crossing the FFI boundary.
  unsafe {
    guard(env, || {
      let [handle, key, value, ttl, now] = args::<5>(env, info)?;
      let state = state(env, handle)?;
      let key = read_key(env, key)?;
      let (ttl, now) = (to_f64(env, ttl)?, to_f64(env, now)?);
      state.with_policy(now, |policy| {
        let mut replaced = undefined(env)?;
        if let Some(slot) = policy.find_weak(&key) {
          if let Some(old) = state.read_weak(env, policy, slot)? {
            replaced = old;
            let (_, handle) = policy.remove_weak(slot, Removal::Replace);
            delete_handle(env, handle);
          }
        }
        let (position, victim) = policy.insert(key, ttl, now, |demotion| {
          state.demotion_handle(env, demotion, value)
        });
        state.set_i32(io::POSITION, position as i32);
        state.report_victim(victim);
        Ok(replaced)
      })
    })
  }
}

/// `replace(handle, position, ttl, now, sameValue)`: a new value or ttl for a pinned entry.
unsafe extern "C" fn replace(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
  // SAFETY: Node calls natives with a valid env and info on the JS thread; `guard` keeps errors
  // and panics from crossing the FFI boundary.
  unsafe {
    guard(env, || {
      let [handle, position, ttl, now, same] = args::<5>(env, info)?;
      let state = state(env, handle)?;
      let position = to_f64(env, position)? as u32;
      let (ttl, now, same) = (to_f64(env, ttl)?, to_f64(env, now)?, boolean(env, same)?);
      state.with_policy(now, |policy| {
        let old = policy.replace(position, ttl, now, same);
        delete_handle(env, old);
        undefined(env)
      })
    })
  }
}

/// `lookup(handle, key, now, peek) -> value | undefined`: the weak tier's answer for a key the
/// pinned tier does not have. A get (peek false) promotes a hit (writes POSITION and VICTIM) and
/// removes an expired entry (returning its value for dispose 'expire'). STATUS tells which.
unsafe extern "C" fn lookup(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
  // SAFETY: Node calls natives with a valid env and info on the JS thread; `guard` keeps errors
  // and panics from crossing the FFI boundary.
  unsafe {
    guard(env, || {
      let [handle, key, now, peek] = args::<4>(env, info)?;
      let state = state(env, handle)?;
      let key = read_key(env, key)?;
      let (now, peek) = (to_f64(env, now)?, boolean(env, peek)?);
      state.with_policy(now, |policy| {
        state.set_i32(io::STATUS, MISS);
        let found = match policy.find_weak(&key) {
          Some(slot) => state
            .read_weak(env, policy, slot)?
            .map(|value| (slot, value)),
          None => None,
        };
        let Some((slot, value)) = found else {
          if !peek {
            policy.record_miss();
          }
          return undefined(env);
        };
        if policy.is_expired(slot, now) {
          if peek {
            return undefined(env);
          }
          let (_, handle) = policy.remove_weak(slot, Removal::Expire);
          delete_handle(env, handle);
          policy.record_miss();
          state.set_i32(io::STATUS, EXPIRED);
          return Ok(value);
        }
        state.set_i32(io::STATUS, HIT);
        if !peek {
          let (position, victim) = policy.promote(slot, now, |demotion| {
            state.demotion_handle(env, demotion, value)
          });
          let (ttl, expires) = policy.timing(slot);
          state.set_f64(io::ENTRY_TTL, ttl);
          state.set_f64(io::ENTRY_EXPIRES, expires);
          state.set_i32(io::POSITION, position as i32);
          state.report_victim(victim);
        }
        Ok(value)
      })
    })
  }
}

/// `remove(handle, position, expired)`: a pinned entry was deleted (or found expired) in JS.
unsafe extern "C" fn remove(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
  // SAFETY: Node calls natives with a valid env and info on the JS thread; `guard` keeps errors
  // and panics from crossing the FFI boundary.
  unsafe {
    guard(env, || {
      let [handle, position, expired, now] = args::<4>(env, info)?;
      let state = state(env, handle)?;
      let position = to_f64(env, position)? as u32;
      let why = if boolean(env, expired)? {
        Removal::Expire
      } else {
        Removal::Delete
      };
      state.with_policy(to_f64(env, now)?, |policy| {
        let (_, handle) = policy.remove_pinned(position, why);
        delete_handle(env, handle);
        undefined(env)
      })
    })
  }
}

/// `delete(handle, key, now) -> value | undefined`: removes a weak entry; STATUS is HIT if one
/// was removed (its value is returned for dispose 'delete').
unsafe extern "C" fn delete(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
  // SAFETY: Node calls natives with a valid env and info on the JS thread; `guard` keeps errors
  // and panics from crossing the FFI boundary.
  unsafe {
    guard(env, || {
      let [handle, key, now] = args::<3>(env, info)?;
      let state = state(env, handle)?;
      let key = read_key(env, key)?;
      state.with_policy(to_f64(env, now)?, |policy| {
        state.set_i32(io::STATUS, MISS);
        let Some(slot) = policy.find_weak(&key) else {
          return undefined(env);
        };
        let Some(value) = state.read_weak(env, policy, slot)? else {
          return undefined(env);
        };
        let (_, handle) = policy.remove_weak(slot, Removal::Delete);
        delete_handle(env, handle);
        state.set_i32(io::STATUS, HIT);
        Ok(value)
      })
    })
  }
}

/// `sync(handle, now)`: replays the read log and writes the stats into the io buffer.
unsafe extern "C" fn sync(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
  // SAFETY: Node calls natives with a valid env and info on the JS thread; `guard` keeps errors
  // and panics from crossing the FFI boundary.
  unsafe {
    guard(env, || {
      let [handle, now] = args::<2>(env, info)?;
      let state = state(env, handle)?;
      state.with_policy(to_f64(env, now)?, |policy| {
        let s = policy.stats();
        let figures = [
          s.hits,
          s.weak_hits,
          s.misses,
          s.sets,
          s.evictions,
          s.demotions,
          s.collected,
          s.expired,
          s.deleted,
          s.pinned as u64,
          s.weak as u64,
        ];
        for (i, n) in figures.into_iter().enumerate() {
          state.set_f64(io::STATS + i, n as f64);
        }
        undefined(env)
      })
    })
  }
}

/// `keys(handle, now) -> key[]`: every live key, pinned most recent first, then weak most
/// recently demoted first.
unsafe extern "C" fn keys(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
  // SAFETY: Node calls natives with a valid env and info on the JS thread; `guard` keeps errors
  // and panics from crossing the FFI boundary.
  unsafe {
    guard(env, || {
      let [handle, now] = args::<2>(env, info)?;
      let state = state(env, handle)?;
      state.with_policy(to_f64(env, now)?, |policy| {
        let mut array = ptr::null_mut();
        check(sys::napi_create_array(env, &mut array), "napi_create_array")?;
        for (i, key) in policy.keys().enumerate() {
          check(
            sys::napi_set_element(env, array, i as u32, key_value(env, key)?),
            "napi_set_element",
          )?;
        }
        Ok(array)
      })
    })
  }
}

/// `clear(handle) -> [key, value, ...]`: removes every entry; returns the weak entries whose
/// values were still alive (for dispose 'delete'). JS disposes the pinned ones itself.
unsafe extern "C" fn clear(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
  // SAFETY: Node calls natives with a valid env and info on the JS thread; `guard` keeps errors
  // and panics from crossing the FFI boundary.
  unsafe {
    guard(env, || {
      let [handle, now] = args::<2>(env, info)?;
      let state = state(env, handle)?;
      state.with_policy(to_f64(env, now)?, |policy| {
        for (_, handle) in policy.clear_pinned() {
          delete_handle(env, handle);
        }
        let mut pairs = ptr::null_mut();
        check(sys::napi_create_array(env, &mut pairs), "napi_create_array")?;
        let mut n = 0;
        for slot in policy.weak_slots() {
          let Some(value) = state.read_weak(env, policy, slot)? else {
            continue;
          };
          let (key, handle) = policy.remove_weak(slot, Removal::Delete);
          delete_handle(env, handle);
          check(
            sys::napi_set_element(env, pairs, n, key_value(env, &key)?),
            "napi_set_element",
          )?;
          check(
            sys::napi_set_element(env, pairs, n + 1, value),
            "napi_set_element",
          )?;
          n += 2;
        }
        Ok(pairs)
      })
    })
  }
}

/// Registers the natives on the addon's exports.
///
/// # Safety
/// Called once per environment from module initialisation with valid `env` and `exports`.
pub unsafe fn register(env: sys::napi_env, exports: sys::napi_value) -> JsResult<()> {
  // SAFETY: the caller's contract (module initialisation handles).
  unsafe {
    define_function(env, exports, c"weakCacheCreate", create)?;
    define_function(env, exports, c"weakCacheSet", set)?;
    define_function(env, exports, c"weakCacheReplace", replace)?;
    define_function(env, exports, c"weakCacheLookup", lookup)?;
    define_function(env, exports, c"weakCacheRemove", remove)?;
    define_function(env, exports, c"weakCacheDelete", delete)?;
    define_function(env, exports, c"weakCacheSync", sync)?;
    define_function(env, exports, c"weakCacheKeys", keys)?;
    define_function(env, exports, c"weakCacheClear", clear)
  }
}
