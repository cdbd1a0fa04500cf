//! Native side of IterableWeakMap and IterableWeakSet: the insertion-ordered table of entries.
//!
//! The JS class keeps `key -> value` in a real `WeakMap` (V8's ephemeron table: a value that
//! references its key stays collectable) and `key -> record` in a second one, with
//! `record = { key, id }`. This table keeps, per entry, one weak reference with a finalizer to
//! the *record* (never to the key: a record lives exactly as long as its key is in the map, and
//! records are objects even when keys are symbols). It gives the order, `size`, `clear()` and iteration that
//! a WeakMap lacks. get/has/set-of-an-existing-key never come here.
//!
//! The JS side reaches it through one raw Node-API function per table (see raw.rs and `create`).

use crate::core::ordered_table::{EntryId, OrderedTable};
use crate::error::{check, JsError, JsResult};
use crate::gc_notify::{watch, GcSink};
use crate::raw::{define_function, guard, no_unwind, number, to_f64, undefined};
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

/// What a call to a table function does: `table(op, arg)`.
const OP_ADD: i32 = 0; // arg: the new entry's record; returns its id
const OP_REMOVE: i32 = 1; // arg: the id of a deleted entry
const OP_SIZE: i32 = 2; // returns the number of entries whose collection was not finalized yet
const OP_NEXT: i32 = 3; // arg: a cursor id; returns the next live record, or undefined at the end
const OP_CLEAR: i32 = 4;

unsafe extern "C" fn finalize_table(env: sys::napi_env, data: *mut c_void, _hint: *mut c_void) {
  no_unwind("a finalizer", || {
    // SAFETY: data is the Box made in `create`, finalized exactly once, when its function dies.
    let table = unsafe { Box::from_raw(data as *mut WeakKeyTable) };
    // Deleting every reference first cancels their finalizers, so none can reach the sink after
    // the Box is freed (also at teardown, where Node finalizes everything in an unspecified order).
    table.clear(env);
  });
}

/// `weakTableCreate() -> table`: a new table, as a native function `table(op, arg)`.
///
/// The function's own data pointer is the table, so a call needs no handle to look up or
/// validate (a type-tag check costs ~40 ns per call) and no foreign value can be mistaken for a
/// table. The table is freed by the function's finalizer.
unsafe extern "C" fn create(env: sys::napi_env, _info: sys::napi_callback_info) -> sys::napi_value {
  // SAFETY: Node calls natives on the JS thread with a valid env; every raw call below uses it
  // with valid out pointers and checks its status, and `guard` keeps errors and panics in.
  unsafe {
    guard(env, || {
      let table = Box::into_raw(Box::new(WeakKeyTable {
        records: RefCell::new(OrderedTable::new()),
        collected: GcSink::new(),
      }));
      let mut function = ptr::null_mut();
      let created = sys::napi_create_function(
        env,
        c"weakTable".as_ptr(),
        -1,
        Some(call),
        table.cast(),
        &mut function,
      );
      let owned = created == sys::Status::napi_ok
        && sys::napi_add_finalizer(
          env,
          function,
          table.cast(),
          Some(finalize_table),
          ptr::null_mut(),
          ptr::null_mut(),
        ) == sys::Status::napi_ok;
      if !owned {
        drop(Box::from_raw(table));
        return Err(JsError::internal("could not create a weak-key table"));
      }
      Ok(function)
    })
  }
}

unsafe extern "C" fn call(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
  // SAFETY: Node calls natives on the JS thread with a valid env and info; every raw call below
  // uses those handles with valid out pointers and checks its status.
  unsafe {
    guard(env, || {
      let mut argv = [ptr::null_mut(); 2];
      let mut argc = argv.len();
      let mut data = ptr::null_mut();
      check(
        sys::napi_get_cb_info(
          env,
          info,
          &mut argc,
          argv.as_mut_ptr(),
          ptr::null_mut(),
          &mut data,
        ),
        "napi_get_cb_info",
      )?;
      // SAFETY: data is the table given to napi_create_function in `create`; it lives until this
      // function is finalized, and the function is alive while it is being called.
      let table = &*(data as *const WeakKeyTable);
      let mut op = -1;
      check(
        sys::napi_get_value_int32(env, argv[0], &mut op),
        "napi_get_value_int32",
      )?;
      table.sweep(env);
      match op {
        OP_ADD => {
          let id = table.records.borrow_mut().next_id();
          let reference = watch(env, argv[1], id, &table.collected)?;
          table.records.borrow_mut().insert(id, reference);
          number(env, id as f64)
        }
        OP_REMOVE => {
          let id = to_f64(env, argv[1])? as EntryId;
          if let Some(reference) = table.records.borrow_mut().remove(id) {
            sys::napi_delete_reference(env, reference);
          }
          undefined(env)
        }
        OP_SIZE => number(env, table.records.borrow().len() as f64),
        OP_NEXT => next_record(env, table, to_f64(env, argv[1])? as EntryId),
        OP_CLEAR => {
          table.clear(env);
          undefined(env)
        }
        _ => Err(JsError::internal(format!(
          "unknown weak-key table operation {op}"
        ))),
      }
    })
  }
}

/// The first live record after entry id `cursor`, in insertion order, or `undefined`. Records
/// whose key was collected are skipped at once, before any finalizer ran: a read never yields a
/// dead key. One record per call, so that an iterator never holds records (and their keys) it
/// has not yielded yet.
///
/// # Safety
/// `env` must be valid for the running callback.
unsafe fn next_record(
  env: sys::napi_env,
  table: &WeakKeyTable,
  mut cursor: EntryId,
) -> JsResult<sys::napi_value> {
  let mut records = table.records.borrow_mut();
  while let Some((id, reference)) = records.first_after(cursor) {
    let mut record = ptr::null_mut();
    // SAFETY: the caller's env; the reference is live until the table deletes it.
    check(
      unsafe { sys::napi_get_reference_value(env, *reference, &mut record) },
      "napi_get_reference_value",
    )?;
    if !record.is_null() {
      return Ok(record);
    }
    cursor = id;
  }
  // SAFETY: the caller's env.
  unsafe { undefined(env) }
}

/// Registers the natives on the addon's exports.
///
/// # Safety
/// Called once per environment from module initialisation with valid `env` and `exports`.
pub unsafe fn register(env: sys::napi_env, exports: sys::napi_value) -> JsResult<()> {
  // SAFETY: the caller's contract (module initialisation handles).
  unsafe { define_function(env, exports, c"weakTableCreate", create) }
}
