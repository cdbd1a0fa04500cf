//! The floor of WeakCache's set with eviction (benchmark/weak-cache.bench.js): lru-cache's set plus
//! `weakRef(value)`, one Node-API weak reference on the value, made as WeakCache makes the handle
//! of a demoted value (`napi_add_finalizer` returning its reference) and deleted as WeakCache
//! deletes it: on the JS thread after the value's finalizer ran (here, by the next `weakRef` call).

use napi::bindgen_prelude::JsObjectValue;
use napi::sys;
use std::cell::RefCell;
use std::ffi::c_void;
use std::ptr;

thread_local! {
  /// The live references, by slot; finalized slots wait in `DEAD` to be deleted.
  static REFERENCES: RefCell<Vec<sys::napi_ref>> = const { RefCell::new(Vec::new()) };
  static FREE: RefCell<Vec<usize>> = const { RefCell::new(Vec::new()) };
  static DEAD: RefCell<Vec<usize>> = const { RefCell::new(Vec::new()) };
}

unsafe extern "C" fn collected(_env: sys::napi_env, data: *mut c_void, _hint: *mut c_void) {
  DEAD.with(|dead| dead.borrow_mut().push(data as usize));
}

/// `weakRef(value)`: a raw callback (as WeakCache's calls are), registered by `napi_register`.
unsafe extern "C" fn weak_ref(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
  let result = std::panic::catch_unwind(|| {
    let mut argv = [ptr::null_mut(); 1];
    let mut argc = 1;
    // SAFETY: the env and info of this call; argv has room for argc values.
    unsafe {
      sys::napi_get_cb_info(env, info, &mut argc, argv.as_mut_ptr(), ptr::null_mut(), ptr::null_mut())
    };
    let dead: Vec<usize> = DEAD.with(|dead| std::mem::take(&mut *dead.borrow_mut()));
    REFERENCES.with(|references| {
      let mut references = references.borrow_mut();
      for slot in dead {
        // SAFETY: the finalizer of this slot's reference ran; it is deleted once, here.
        unsafe { sys::napi_delete_reference(env, references[slot]) };
        FREE.with(|free| free.borrow_mut().push(slot));
      }
      let slot = FREE
        .with(|free| free.borrow_mut().pop())
        .unwrap_or(references.len());
      let mut reference = ptr::null_mut();
      // SAFETY: a valid env and value (an object: the benchmark passes objects); the slot number
      // travels as the finalizer's data.
      let status = unsafe {
        sys::napi_add_finalizer(env, argv[0], slot as *mut c_void, Some(collected), ptr::null_mut(), &mut reference)
      };
      if status == sys::Status::napi_ok {
        if slot == references.len() {
          references.push(reference);
        } else {
          references[slot] = reference;
        }
      }
    });
  });
  if result.is_err() {
    // SAFETY: the env of this call; the message is NUL-terminated.
    unsafe { sys::napi_throw_error(env, ptr::null(), c"weakRef: internal error".as_ptr()) };
  }
  ptr::null_mut()
}

/// Adds `weakRef` to the module's exports (a raw function, so its call costs what WeakCache's do).
#[napi_derive::napi(module_exports)]
pub fn register(mut exports: napi::bindgen_prelude::Object<'_>, env: napi::Env) -> napi::Result<()> {
  let mut function = ptr::null_mut();
  // SAFETY: module initialisation's env; NUL-terminated name; a local out pointer.
  let status = unsafe {
    sys::napi_create_function(env.raw(), c"weakRef".as_ptr(), -1, Some(weak_ref), ptr::null_mut(), &mut function)
  };
  if status != sys::Status::napi_ok {
    return Err(napi::Error::from_reason("napi_create_function failed"));
  }
  // SAFETY: a live value of this env.
  let function = unsafe { napi::bindgen_prelude::Unknown::from_raw_unchecked(env.raw(), function) };
  exports.set_named_property("weakRef", function)
}
