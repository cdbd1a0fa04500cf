//! A protocol declared with `native_ops!` (core/protocol.rs), as the native module describes it to
//! JS at load, and the reading of a call's op number.

use crate::core::protocol::OpDescription;
use crate::error::{check, JsError, JsResult};
use napi::sys;
use napi_derive::napi;

/// One op of a native function's protocol: JS calls it as a method named `name`, which calls
/// `native(number, ...args)` with the arguments in this order.
#[napi(object)]
pub struct NativeOp {
  pub name: String,
  pub number: u32,
  pub args: Vec<String>,
}

/// The description JS builds its adapter from.
pub fn describe(ops: Vec<OpDescription>) -> Vec<NativeOp> {
  ops
    .into_iter()
    .map(|op| NativeOp {
      name: op.name,
      number: op.number,
      args: op.args,
    })
    .collect()
}

/// The op of a call, from the number JS passed first; `from_number` is the protocol's.
///
/// # Safety
/// `env` and `value` must be valid for the running callback.
pub unsafe fn op_of<Op>(
  env: sys::napi_env,
  value: sys::napi_value,
  from_number: fn(u32) -> Option<Op>,
  protocol: &str,
) -> JsResult<Op> {
  let mut number = 0;
  check(
    // SAFETY: valid env and value (the caller's contract); the out pointer is a local.
    unsafe { sys::napi_get_value_uint32(env, value, &mut number) },
    "napi_get_value_uint32",
  )?;
  from_number(number).ok_or_else(|| JsError::internal(format!("{protocol}: unknown op {number}")))
}
