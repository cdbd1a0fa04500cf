//! The cheapest way into Rust from JS: plain `napi_create_function` callbacks.
//!
//! A napi-derive function pays for a borrow scope and per-argument conversions on every call; a
//! raw callback reads its arguments into a stack buffer. `npm run bench -- boundary` measures both
//! for the same work, and docs/architecture.md says which natives are raw because of it. Only hot
//! paths are raw callbacks; `guard` makes sure that neither an error nor a Rust panic ever
//! crosses the FFI boundary.

use crate::error::{check, JsError, JsResult};
use napi::sys;
use std::ffi::{c_void, CStr};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr;

pub type RawCallback =
  unsafe extern "C" fn(sys::napi_env, sys::napi_callback_info) -> sys::napi_value;

/// The first `N` arguments of a call and the data pointer its function was created with.
///
/// # Safety
/// `env` and `info` must be the ones Node passed to the running callback.
pub unsafe fn args_and_data<const N: usize>(
  env: sys::napi_env,
  info: sys::napi_callback_info,
) -> JsResult<([sys::napi_value; N], *mut c_void)> {
  let mut argv = [ptr::null_mut(); N];
  let mut argc = N;
  let mut data = ptr::null_mut();
  // SAFETY: argv has room for argc values; `data` is a valid out pointer, `this` may be null.
  let status = unsafe {
    sys::napi_get_cb_info(
      env,
      info,
      &mut argc,
      argv.as_mut_ptr(),
      ptr::null_mut(),
      &mut data,
    )
  };
  check(status, "napi_get_cb_info")?;
  Ok((argv, data))
}

/// Runs a callback body, converting an `Err` into a thrown JS error and a panic into an internal
/// error, so that the process never aborts because of this crate.
///
/// # Safety
/// `env` must be the environment of the running callback.
pub unsafe fn guard(
  env: sys::napi_env,
  body: impl FnOnce() -> JsResult<sys::napi_value>,
) -> sys::napi_value {
  let error = match catch_unwind(AssertUnwindSafe(body)) {
    Ok(Ok(value)) => return value,
    Ok(Err(error)) => error,
    Err(_) => {
      JsError::internal("ephemeron: internal error (a Rust panic was caught); please report it")
    }
  };
  // SAFETY: same env as the callback.
  unsafe { error.throw(env) };
  ptr::null_mut()
}

/// Runs the body of a finalizer or an env cleanup hook. Node calls those with no way to report
/// an error, and a panic unwinding into Node would abort the process: a caught panic is printed
/// once to stderr (it is a bug in ephemeron) and otherwise ignored.
pub fn no_unwind(what: &str, body: impl FnOnce()) {
  if catch_unwind(AssertUnwindSafe(body)).is_err() {
    static REPORTED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    if !REPORTED.swap(true, std::sync::atomic::Ordering::Relaxed) {
      eprintln!("ephemeron: internal error: a Rust panic was caught in {what}; please report it");
    }
  }
}

/// A JS function named `name` whose calls run `callback` with `data` as their data pointer (an
/// instance's native function: its state needs no lookup or validation per call), and whose
/// finalizer runs `finalize(env, data, null)` when the function is collected. `None` when either
/// step failed: then nothing owns `data`, and the caller frees it.
///
/// # Safety
/// `env` must be valid for the running call; `data` must stay valid until `finalize` runs.
pub unsafe fn function_with_data(
  env: sys::napi_env,
  name: &CStr,
  callback: RawCallback,
  data: *mut c_void,
  finalize: unsafe extern "C" fn(sys::napi_env, *mut c_void, *mut c_void),
) -> Option<sys::napi_value> {
  let mut function = ptr::null_mut();
  // SAFETY: the caller's contract; the name is NUL-terminated; the out pointers are locals.
  let made = unsafe {
    sys::napi_create_function(env, name.as_ptr(), -1, Some(callback), data, &mut function)
      == sys::Status::napi_ok
      && sys::napi_add_finalizer(
        env,
        function,
        data,
        Some(finalize),
        ptr::null_mut(),
        ptr::null_mut(),
      ) == sys::Status::napi_ok
  };
  made.then_some(function)
}

/// `undefined`, the return value of natives that return nothing.
///
/// # Safety
/// `env` must be valid for the running callback.
pub unsafe fn undefined(env: sys::napi_env) -> JsResult<sys::napi_value> {
  let mut value = ptr::null_mut();
  check(
    // SAFETY: valid env and out pointer.
    unsafe { sys::napi_get_undefined(env, &mut value) },
    "napi_get_undefined",
  )?;
  Ok(value)
}

/// # Safety
/// `env` must be valid for the running callback.
pub unsafe fn number(env: sys::napi_env, n: f64) -> JsResult<sys::napi_value> {
  let mut value = ptr::null_mut();
  check(
    // SAFETY: valid env and out pointer.
    unsafe { sys::napi_create_double(env, n, &mut value) },
    "napi_create_double",
  )?;
  Ok(value)
}

/// Reads a JS number. The JS layer passes only numbers it got from us, so a non-number is a bug
/// in ephemeron, reported as an internal error rather than a crash.
///
/// # Safety
/// `env` and `value` must be valid for the running callback.
pub unsafe fn to_f64(env: sys::napi_env, value: sys::napi_value) -> JsResult<f64> {
  let mut n = 0.0;
  check(
    // SAFETY: valid env, value and out pointer.
    unsafe { sys::napi_get_value_double(env, value, &mut n) },
    "napi_get_value_double",
  )?;
  Ok(n)
}
