//! Native side of IterableWeakMap and IterableWeakSet: the insertion-ordered table of entries.
//!
//! The JS class keeps `key -> record` in a real `WeakMap` (V8's ephemeron table), with
//! `record = { key, value, id }`. That is what makes a value that references its key
//! collectable. This table keeps, per entry, one weak reference with a finalizer to the *record*
//! (never to the key: a record lives exactly as long as its key is in the map, and records are
//! objects even when keys are symbols). It gives the order, `size`, `clear()` and iteration that
//! a WeakMap lacks. get/has/set-of-an-existing-key never come here.
//!
//! The JS side reaches it through raw Node-API callbacks (see raw.rs) on an External handle.

use crate::core::ordered_table::{EntryId, OrderedTable};
use crate::error::{check, JsError, JsResult};
use crate::gc_notify::{watch, GcSink};
use crate::raw::{args, define_function, guard, number, to_f64, undefined};
use napi::sys;
use std::cell::RefCell;
use std::ffi::c_void;
use std::ptr;

struct WeakKeyTable {
  /// Weak references (with finalizers) to the entry records, in insertion order.
  records: RefCell<OrderedTable<sys::napi_ref>>,
  /// Where the finalizers report collected records. Outlives every reference (see gc_notify).
  collected: GcSink,
}

impl WeakKeyTable {
  /// Deletes the references of records the GC has finalized since the last operation.
  fn sweep(&self, env: sys::napi_env) {
    let ids = self.collected.drain();
    if ids.is_empty() {
      return;
    }
    let mut records = self.records.borrow_mut();
    for id in ids {
      // None: removed by delete/clear already. Ids are never reused, so nothing else matches.
      if let Some(reference) = records.remove(id) {
        // SAFETY: the reference came from `watch` and is deleted exactly once, here.
        unsafe { sys::napi_delete_reference(env, reference) };
      }
    }
  }

  fn clear(&self, env: sys::napi_env) {
    let references = self.records.borrow_mut().take_all();
    for reference in references {
      // SAFETY: each reference is deleted once; deleting cancels a pending finalizer.
      unsafe { sys::napi_delete_reference(env, reference) };
    }
    // Events of records finalized before the clear name ids that are gone now.
    self.collected.drain();
  }
}

/// Tags our Externals so that a foreign External passed to these natives is an error, not a crash.
static TABLE_TAG: sys::napi_type_tag = sys::napi_type_tag { lower: 0x6570_6865_6d65_726f, upper: 0x6e2d_7461_626c_6531 };

unsafe extern "C" fn finalize_table(env: sys::napi_env, data: *mut c_void, _hint: *mut c_void) {
  // SAFETY: data is the Box made in `create`, finalized exactly once by Node.
  let table = unsafe { Box::from_raw(data as *mut WeakKeyTable) };
  // Deleting every reference first cancels their finalizers, so none can reach the sink after
  // the Box is freed (also at teardown, where Node finalizes everything in an unspecified order).
  table.clear(env);
}

/// # Safety
/// `env` and `value` must be valid for the running callback.
unsafe fn table<'a>(env: sys::napi_env, value: sys::napi_value) -> JsResult<&'a WeakKeyTable> {
  let mut tagged = false;
  // SAFETY: valid env/value; the tag is a static.
  let status = unsafe { sys::napi_check_object_type_tag(env, value, &TABLE_TAG, &mut tagged) };
  if status != sys::Status::napi_ok || !tagged {
    return Err(JsError::type_error("ERR_EPHEMERON_INVALID_HANDLE", "not an ephemeron weak-key table"));
  }
  let mut data = ptr::null_mut();
  // SAFETY: a tagged value is one of our Externals, whose data is a live WeakKeyTable until the
  // External itself is finalized (and it is reachable here, so it is not).
  check(unsafe { sys::napi_get_value_external(env, value, &mut data) }, "napi_get_value_external")?;
  Ok(unsafe { &*(data as *const WeakKeyTable) })
}

unsafe extern "C" fn create(env: sys::napi_env, _info: sys::napi_callback_info) -> sys::napi_value {
  unsafe {
    guard(env, || {
      let boxed = Box::into_raw(Box::new(WeakKeyTable { records: RefCell::new(OrderedTable::new()), collected: GcSink::new() }));
      let mut external = ptr::null_mut();
      let status = sys::napi_create_external(env, boxed as *mut c_void, Some(finalize_table), ptr::null_mut(), &mut external);
      if status != sys::Status::napi_ok {
        drop(Box::from_raw(boxed));
        return Err(JsError::internal(format!("napi_create_external failed with status {status}")));
      }
      check(sys::napi_type_tag_object(env, external, &TABLE_TAG), "napi_type_tag_object")?;
      Ok(external)
    })
  }
}

/// `add(table, record) -> id`: appends an entry for a new key.
unsafe extern "C" fn add(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
  unsafe {
    guard(env, || {
      let [handle, record] = args::<2>(env, info)?;
      let table = table(env, handle)?;
      table.sweep(env);
      let id = table.records.borrow_mut().next_id();
      let reference = watch(env, record, id, &table.collected)?;
      table.records.borrow_mut().insert(id, reference);
      number(env, id as f64)
    })
  }
}

/// `remove(table, id)`: forgets an entry that was deleted.
unsafe extern "C" fn remove(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
  unsafe {
    guard(env, || {
      let [handle, id] = args::<2>(env, info)?;
      let table = table(env, handle)?;
      let id = to_f64(env, id)? as EntryId;
      if let Some(reference) = table.records.borrow_mut().remove(id) {
        sys::napi_delete_reference(env, reference);
      }
      table.sweep(env);
      undefined(env)
    })
  }
}

/// `size(table) -> number` of entries whose collection has not been finalized yet.
unsafe extern "C" fn size(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
  unsafe {
    guard(env, || {
      let [handle] = args::<1>(env, info)?;
      let table = table(env, handle)?;
      table.sweep(env);
      let len = table.records.borrow().len();
      number(env, len as f64)
    })
  }
}

/// `next(table, cursor, max) -> record[]`: up to `max` live records after entry id `cursor`, in
/// insertion order. Records whose key was collected are skipped at once, before any finalizer
/// ran: a read never yields a dead key. An empty array means the end.
unsafe extern "C" fn next(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
  unsafe {
    guard(env, || {
      let [handle, cursor, max] = args::<3>(env, info)?;
      let table = table(env, handle)?;
      let cursor = to_f64(env, cursor)? as EntryId;
      let max = to_f64(env, max)?.clamp(1.0, 4096.0) as u32;
      table.sweep(env);
      let mut batch = ptr::null_mut();
      check(sys::napi_create_array(env, &mut batch), "napi_create_array")?;
      let records = table.records.borrow();
      let mut count = 0;
      for (_, reference) in records.after(cursor) {
        let mut record = ptr::null_mut();
        check(sys::napi_get_reference_value(env, *reference, &mut record), "napi_get_reference_value")?;
        if record.is_null() {
          continue;
        }
        check(sys::napi_set_element(env, batch, count, record), "napi_set_element")?;
        count += 1;
        if count == max {
          break;
        }
      }
      Ok(batch)
    })
  }
}

/// `clear(table)`: forgets every entry.
unsafe extern "C" fn clear(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
  unsafe {
    guard(env, || {
      let [handle] = args::<1>(env, info)?;
      table(env, handle)?.clear(env);
      undefined(env)
    })
  }
}

/// Registers the natives on the addon's exports.
///
/// # Safety
/// Called once per environment from module initialisation with valid `env` and `exports`.
pub unsafe fn register(env: sys::napi_env, exports: sys::napi_value) -> JsResult<()> {
  unsafe {
    define_function(env, exports, c"weakTableCreate", create)?;
    define_function(env, exports, c"weakTableAdd", add)?;
    define_function(env, exports, c"weakTableRemove", remove)?;
    define_function(env, exports, c"weakTableSize", size)?;
    define_function(env, exports, c"weakTableNext", next)?;
    define_function(env, exports, c"weakTableClear", clear)
  }
}
