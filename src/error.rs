//! Errors thrown from raw Node-API callbacks: the JS class, a stable `code`, and a message.

use napi::sys;
use std::ffi::CString;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
  Type,
  Plain,
}

#[derive(Debug)]
pub struct JsError {
  pub class: ErrorClass,
  pub code: &'static str,
  pub message: String,
}

pub type JsResult<T> = Result<T, JsError>;

impl JsError {
  pub fn type_error(code: &'static str, message: impl Into<String>) -> Self {
    JsError {
      class: ErrorClass::Type,
      code,
      message: message.into(),
    }
  }

  pub fn internal(message: impl Into<String>) -> Self {
    JsError {
      class: ErrorClass::Plain,
      code: "ERR_EPHEMERON_INTERNAL",
      message: message.into(),
    }
  }

  /// Throws this error into JS. Does nothing when an exception is already pending (a JS call we
  /// made threw first: that one is the more useful error).
  ///
  /// # Safety
  /// `env` must be the environment of the current callback, on its JS thread.
  pub unsafe fn throw(&self, env: sys::napi_env) {
    let mut pending = false;
    // SAFETY: env is valid for this callback; `pending` is a valid out pointer.
    if unsafe { sys::napi_is_exception_pending(env, &mut pending) } == sys::Status::napi_ok
      && pending
    {
      return;
    }
    let code = CString::new(self.code).unwrap_or_default();
    let message = CString::new(self.message.replace('\0', " ")).unwrap_or_default();
    // SAFETY: both strings are NUL-terminated and outlive the call, which copies them.
    unsafe {
      match self.class {
        ErrorClass::Type => sys::napi_throw_type_error(env, code.as_ptr(), message.as_ptr()),
        ErrorClass::Plain => sys::napi_throw_error(env, code.as_ptr(), message.as_ptr()),
      };
    }
  }
}

/// Turns a Node-API status into a result, naming the call that failed.
pub fn check(status: sys::napi_status, call: &str) -> JsResult<()> {
  if status == sys::Status::napi_ok {
    Ok(())
  } else {
    Err(JsError::internal(format!(
      "{call} failed with Node-API status {status}"
    )))
  }
}
