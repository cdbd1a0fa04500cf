//! The JS values a cache's native calls read and make: numbers, slots, arrays of slots and values,
//! and plain objects of named numbers.

use super::host::Handle;
use super::protocol_error;
use crate::core::cache_policy::{CachePolicy, SlotIndex};
use crate::error::{check, JsError, JsResult};
use crate::raw::number;
use napi::sys;
use std::ffi::CString;
use std::ptr;

/// # Safety
/// `env` and `value` must be valid for the running callback.
pub unsafe fn int32(env: sys::napi_env, value: sys::napi_value) -> JsResult<i32> {
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
pub unsafe fn slot(env: sys::napi_env, value: sys::napi_value) -> JsResult<SlotIndex> {
  // SAFETY: the caller's contract.
  let n = unsafe { int32(env, value) }?;
  u32::try_from(n).map_err(|_| protocol_error(format!("slot {n}")))
}

/// # Safety
/// `env` must be valid for the running callback.
pub unsafe fn new_array(env: sys::napi_env) -> JsResult<sys::napi_value> {
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
pub unsafe fn int_array<N: Into<f64>>(
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
pub unsafe fn slot_value_pairs(
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
pub unsafe fn named_numbers(
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
pub unsafe fn set_named(
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
pub unsafe fn stats_object(
  env: sys::napi_env,
  policy: &CachePolicy<Handle>,
) -> JsResult<sys::napi_value> {
  // SAFETY: the caller's contract.
  unsafe { named_numbers(env, policy.stats().named()) }
}
