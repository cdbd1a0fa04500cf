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

/// Reads the first `N` arguments of a call (missing ones read as `undefined`).
///
/// # Safety
/// `env` and `info` must be the ones Node passed to the running callback.
pub unsafe fn args<const N: usize>(
  env: sys::napi_env,
  info: sys::napi_callback_info,
) -> JsResult<[sys::napi_value; N]> {
  // SAFETY: the caller's contract.
  unsafe { args_and_data(env, info) }.map(|(argv, _)| argv)
}

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

/// Defines `exports[name] = function name() { [native code] }`.
///
/// # Safety
/// `env` and `exports` must be valid for the current module initialisation.
pub unsafe fn define_function(
  env: sys::napi_env,
  exports: sys::napi_value,
  name: &CStr,
  callback: RawCallback,
) -> JsResult<()> {
  let mut function = ptr::null_mut();
  // SAFETY: name is NUL-terminated (length -1 = read to NUL); out pointers are valid.
  unsafe {
    check(
      sys::napi_create_function(
        env,
        name.as_ptr(),
        -1,
        Some(callback),
        ptr::null_mut(),
        &mut function,
      ),
      "napi_create_function",
    )?;
    check(
      sys::napi_set_named_property(env, exports, name.as_ptr(), function),
      "napi_set_named_property",
    )
  }
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

/// # Safety
/// `env` must be valid for the running callback.
pub unsafe fn boolean(env: sys::napi_env, flag: bool) -> JsResult<sys::napi_value> {
  let mut value = ptr::null_mut();
  check(
    // SAFETY: valid env and out pointer.
    unsafe { sys::napi_get_boolean(env, flag, &mut value) },
    "napi_get_boolean",
  )?;
  Ok(value)
}

/// A JS string of UTF-8 text. ASCII text (JSON reports, mostly) is handed over as Latin-1, which
/// V8 copies as it is instead of decoding it.
///
/// # Safety
/// `env` must be valid for the running callback.
pub unsafe fn string(env: sys::napi_env, text: &str) -> JsResult<sys::napi_value> {
  let mut value = ptr::null_mut();
  let (pointer, length) = (text.as_ptr().cast(), text.len() as isize);
  // SAFETY: text is `length` valid bytes (UTF-8, and Latin-1 when ASCII); the call copies them.
  let status = unsafe {
    if text.is_ascii() {
      sys::napi_create_string_latin1(env, pointer, length, &mut value)
    } else {
      sys::napi_create_string_utf8(env, pointer, length, &mut value)
    }
  };
  check(status, "napi_create_string")?;
  Ok(value)
}

/// Reads a string argument as UTF-8 (a lone surrogate becomes U+FFFD: callers that must keep
/// such text exact pass JSON text made by `JSON.stringify`, which escapes it); `undefined` or
/// `null` reads as None.
///
/// # Safety
/// `env` and `value` must be valid for the running callback.
pub unsafe fn optional_string(
  env: sys::napi_env,
  value: sys::napi_value,
) -> JsResult<Option<String>> {
  let mut kind = 0;
  check(
    // SAFETY: valid env/value (caller's contract) and out pointer.
    unsafe { sys::napi_typeof(env, value, &mut kind) },
    "napi_typeof",
  )?;
  if kind == sys::ValueType::napi_undefined || kind == sys::ValueType::napi_null {
    return Ok(None);
  }
  let mut len = 0;
  check(
    // SAFETY: a null buffer asks for the length in bytes (without the NUL).
    unsafe { sys::napi_get_value_string_utf8(env, value, ptr::null_mut(), 0, &mut len) },
    "napi_get_value_string_utf8",
  )?;
  let mut bytes = vec![0u8; len + 1];
  let mut written = 0;
  check(
    // SAFETY: the buffer holds len bytes plus the NUL the call writes.
    unsafe {
      sys::napi_get_value_string_utf8(
        env,
        value,
        bytes.as_mut_ptr().cast(),
        bytes.len(),
        &mut written,
      )
    },
    "napi_get_value_string_utf8",
  )?;
  bytes.truncate(written);
  Ok(Some(String::from_utf8(bytes).map_err(|_| {
    JsError::internal("string argument is not valid UTF-8")
  })?))
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

/// The data of an External that this crate made and tagged with `tag`. Anything else (another
/// addon's External, a plain object, a forged value) is a TypeError, never a crash.
///
/// # Safety
/// `env` and `value` must be valid for the running callback, and every External tagged with
/// `tag` must carry a `*const T` that stays valid while the External is reachable.
pub unsafe fn tagged_external<'a, T>(
  env: sys::napi_env,
  value: sys::napi_value,
  tag: &sys::napi_type_tag,
  what: &str,
) -> JsResult<&'a T> {
  let mut tagged = false;
  // SAFETY: valid env/value (caller's contract); `tag` and `tagged` are valid pointers.
  let status = unsafe { sys::napi_check_object_type_tag(env, value, tag, &mut tagged) };
  if status != sys::Status::napi_ok || !tagged {
    return Err(JsError::type_error(
      "ERR_EPHEMERON_INVALID_HANDLE",
      format!("not an ephemeron {what}"),
    ));
  }
  let mut data = ptr::null_mut();
  check(
    // SAFETY: value is a tagged External (checked above); data is a valid out pointer.
    unsafe { sys::napi_get_value_external(env, value, &mut data) },
    "napi_get_value_external",
  )?;
  // SAFETY: by the caller's contract, a tagged External's data is a live `*const T`.
  Ok(unsafe { &*(data as *const T) })
}
