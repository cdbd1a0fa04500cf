//! The same work behind the three ways JS can call Rust, for benchmark/boundary.bench.js:
//! - a `#[napi]` function (state in a thread-local, as module-level natives keep it);
//! - a `#[napi]` class method (per-instance state behind `&self`);
//! - a raw `napi_create_function` callback whose data pointer is the per-instance state, reading
//!   its arguments into a stack buffer (what the addon's hot paths do: src/raw.rs).
//!
//! The work, in three shapes the addon's natives have: `lookup(slot)` returns a stored number;
//! `deref(slot)` returns a stored object through a Node-API reference (a weak hit's shape);
//! `six(a, b, c, d, e, f)` reads four numbers and two objects and returns a number (an insert's
//! arity).

use napi::bindgen_prelude::{JsObjectValue, Object, Unknown};
use napi::{sys, Env, JsValue};
use napi_derive::napi;
use std::cell::RefCell;
use std::ffi::c_void;
use std::ptr;

/// What each style works on: numbers and strong references to objects, by slot.
struct Slots {
  numbers: Vec<f64>,
  references: Vec<sys::napi_ref>,
}

impl Slots {
  fn new(env: sys::napi_env, objects: &[Object<'_>]) -> napi::Result<Slots> {
    let mut references = Vec::with_capacity(objects.len());
    for object in objects {
      let mut reference = ptr::null_mut();
      // SAFETY: a valid env and a live object of it; a count of 1 makes the reference strong.
      let status = unsafe { sys::napi_create_reference(env, object.raw(), 1, &mut reference) };
      if status != sys::Status::napi_ok {
        return Err(napi::Error::from_reason("napi_create_reference failed"));
      }
      references.push(reference);
    }
    Ok(Slots {
      numbers: (0..objects.len()).map(|i| i as f64 * 0.5).collect(),
      references,
    })
  }

  fn lookup(&self, slot: u32) -> f64 {
    self.numbers.get(slot as usize).copied().unwrap_or(-1.0)
  }

  fn deref(&self, env: sys::napi_env, slot: u32) -> sys::napi_value {
    let mut value = ptr::null_mut();
    if let Some(reference) = self.references.get(slot as usize) {
      // SAFETY: the reference is live (strong, deleted only when the state is dropped).
      unsafe { sys::napi_get_reference_value(env, *reference, &mut value) };
    }
    value
  }

  fn six(&self, a: f64, b: f64, c: f64, d: f64) -> f64 {
    a + b + c + d + self.numbers.len() as f64
  }

  fn release(&mut self, env: sys::napi_env) {
    for reference in self.references.drain(..) {
      // SAFETY: each reference is deleted once, in the env it was made in.
      unsafe { sys::napi_delete_reference(env, reference) };
    }
  }
}

// ---- style 1: #[napi] functions, state in a thread-local ----

thread_local! {
  static MODULE_SLOTS: RefCell<Option<Slots>> = const { RefCell::new(None) };
}

/// Sets the state the `boundaryFn*` functions work on.
#[napi]
pub fn boundary_fn_setup(env: &Env, objects: Vec<Object<'_>>) -> napi::Result<()> {
  let slots = Slots::new(env.raw(), &objects)?;
  MODULE_SLOTS.with(|cell| {
    if let Some(mut old) = cell.borrow_mut().replace(slots) {
      old.release(env.raw());
    }
  });
  Ok(())
}

#[napi]
pub fn boundary_fn_lookup(slot: u32) -> f64 {
  MODULE_SLOTS.with(|cell| cell.borrow().as_ref().map_or(-1.0, |slots| slots.lookup(slot)))
}

#[napi]
pub fn boundary_fn_deref(env: &Env, slot: u32) -> Unknown<'_> {
  let value = MODULE_SLOTS.with(|cell| {
    cell
      .borrow()
      .as_ref()
      .map_or(ptr::null_mut(), |slots| slots.deref(env.raw(), slot))
  });
  // SAFETY: a live value of this env (or null, which napi-rs returns as undefined).
  unsafe { Unknown::from_raw_unchecked(env.raw(), value) }
}

#[napi]
pub fn boundary_fn_six(
  a: f64,
  b: f64,
  c: f64,
  d: f64,
  _e: Object<'_>,
  _f: Object<'_>,
) -> f64 {
  MODULE_SLOTS.with(|cell| cell.borrow().as_ref().map_or(-1.0, |slots| slots.six(a, b, c, d)))
}

// ---- style 2: a #[napi] class ----

/// The state as a napi-rs class; its methods are the class-method style.
#[napi]
pub struct BoundaryClass {
  slots: Slots,
  env: sys::napi_env,
}

#[napi]
impl BoundaryClass {
  #[napi(constructor)]
  pub fn new(env: &Env, objects: Vec<Object<'_>>) -> napi::Result<Self> {
    Ok(BoundaryClass {
      slots: Slots::new(env.raw(), &objects)?,
      env: env.raw(),
    })
  }

  #[napi]
  pub fn lookup(&self, slot: u32) -> f64 {
    self.slots.lookup(slot)
  }

  #[napi]
  pub fn deref(&self, env: &Env, slot: u32) -> Unknown<'_> {
    // SAFETY: a live value of this env (or null, returned as undefined).
    unsafe { Unknown::from_raw_unchecked(env.raw(), self.slots.deref(env.raw(), slot)) }
  }

  #[napi]
  pub fn six(&self, a: f64, b: f64, c: f64, d: f64, _e: Object<'_>, _f: Object<'_>) -> f64 {
    self.slots.six(a, b, c, d)
  }
}

impl Drop for BoundaryClass {
  fn drop(&mut self) {
    self.slots.release(self.env);
  }
}

// ---- style 3: raw callbacks on a function whose data is the state ----

/// `boundaryRaw(objects) -> { lookup, deref, six }`: three raw functions sharing one state, freed
/// when the `lookup` function is collected (the benchmark keeps all three).
#[napi(ts_return_type = "{ lookup(slot: number): number, deref(slot: number): object, six(a: number, b: number, c: number, d: number, e: object, f: object): number }")]
pub fn boundary_raw<'a>(env: &'a Env, objects: Vec<Object<'a>>) -> napi::Result<Object<'a>> {
  let raw_env = env.raw();
  let state = Box::into_raw(Box::new(Slots::new(raw_env, &objects)?));
  let mut result = Object::new(env)?;
  let functions: [(&std::ffi::CStr, RawCallback); 3] =
    [(c"lookup", raw_lookup), (c"deref", raw_deref), (c"six", raw_six)];
  for (i, (name, callback)) in functions.into_iter().enumerate() {
    let mut function = ptr::null_mut();
    // SAFETY: valid env, NUL-terminated name, a local out pointer; `state` outlives the functions
    // (freed by the finalizer of the first one, and the benchmark keeps the object holding all).
    let status = unsafe {
      sys::napi_create_function(
        raw_env,
        name.as_ptr(),
        -1,
        Some(callback),
        state.cast(),
        &mut function,
      )
    };
    if status != sys::Status::napi_ok {
      return Err(napi::Error::from_reason("napi_create_function failed"));
    }
    if i == 0 {
      // SAFETY: valid env and function; the finalizer frees `state` exactly once.
      let status = unsafe {
        sys::napi_add_finalizer(
          raw_env,
          function,
          state.cast(),
          Some(free_slots),
          ptr::null_mut(),
          ptr::null_mut(),
        )
      };
      if status != sys::Status::napi_ok {
        return Err(napi::Error::from_reason("napi_add_finalizer failed"));
      }
    }
    // SAFETY: a live value of this env.
    let function = unsafe { Unknown::from_raw_unchecked(raw_env, function) };
    result.set_named_property(name.to_str().unwrap_or("f"), function)?;
  }
  Ok(result)
}

type RawCallback = unsafe extern "C" fn(sys::napi_env, sys::napi_callback_info) -> sys::napi_value;

unsafe extern "C" fn free_slots(env: sys::napi_env, data: *mut c_void, _hint: *mut c_void) {
  // SAFETY: data is the Box made in `boundary_raw`, finalized once.
  let mut slots = unsafe { Box::from_raw(data.cast::<Slots>()) };
  slots.release(env);
}

/// The arguments and the state of a raw call.
///
/// # Safety
/// `env` and `info` must be those of a running callback made by `boundary_raw`.
unsafe fn raw_args<'a, const N: usize>(
  env: sys::napi_env,
  info: sys::napi_callback_info,
) -> ([sys::napi_value; N], &'a Slots) {
  let mut argv = [ptr::null_mut(); N];
  let mut argc = N;
  let mut data = ptr::null_mut();
  // SAFETY: argv has room for argc values; the other out pointers are valid or null.
  unsafe {
    sys::napi_get_cb_info(
      env,
      info,
      &mut argc,
      argv.as_mut_ptr(),
      ptr::null_mut(),
      &mut data,
    )
  };
  // SAFETY: data is the live state of the function being called (see boundary_raw).
  (argv, unsafe { &*data.cast::<Slots>() })
}

/// A number argument (None: not a number).
///
/// # Safety
/// `env` and `value` must be valid for the running callback.
unsafe fn raw_number(env: sys::napi_env, value: sys::napi_value) -> Option<f64> {
  let mut n = 0.0;
  // SAFETY: the caller's contract; a local out pointer.
  let status = unsafe { sys::napi_get_value_double(env, value, &mut n) };
  (status == sys::Status::napi_ok).then_some(n)
}

/// # Safety
/// `env` must be valid for the running callback.
unsafe fn raw_result(env: sys::napi_env, n: f64) -> sys::napi_value {
  let mut value = ptr::null_mut();
  // SAFETY: the caller's contract; a local out pointer.
  unsafe { sys::napi_create_double(env, n, &mut value) };
  value
}

/// Runs a raw callback's body as the addon's do (src/raw.rs `guard`): a panic never unwinds into
/// Node, and a failed read throws.
///
/// # Safety
/// `env` must be the env of the running callback.
unsafe fn guarded(env: sys::napi_env, body: impl FnOnce() -> Option<sys::napi_value>) -> sys::napi_value {
  match std::panic::catch_unwind(std::panic::AssertUnwindSafe(body)) {
    Ok(Some(value)) => value,
    _ => {
      // SAFETY: the caller's contract; the message is NUL-terminated.
      unsafe { sys::napi_throw_error(env, ptr::null(), c"boundary: bad arguments".as_ptr()) };
      ptr::null_mut()
    }
  }
}

unsafe extern "C" fn raw_lookup(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
  // SAFETY: Node calls this with the env and info of a call to a function made by boundary_raw.
  unsafe {
    guarded(env, || {
      let ([slot], slots) = raw_args::<1>(env, info);
      Some(raw_result(env, slots.lookup(raw_number(env, slot)? as u32)))
    })
  }
}

unsafe extern "C" fn raw_deref(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
  // SAFETY: as raw_lookup.
  unsafe {
    guarded(env, || {
      let ([slot], slots) = raw_args::<1>(env, info);
      Some(slots.deref(env, raw_number(env, slot)? as u32))
    })
  }
}

unsafe extern "C" fn raw_six(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
  // SAFETY: as raw_lookup.
  unsafe {
    guarded(env, || {
      let ([a, b, c, d, _e, _f], slots) = raw_args::<6>(env, info);
      let sum = slots.six(
        raw_number(env, a)?,
        raw_number(env, b)?,
        raw_number(env, c)?,
        raw_number(env, d)?,
      );
      Some(raw_result(env, sum))
    })
  }
}
