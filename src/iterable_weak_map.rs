//! Native side of IterableWeakMap and IterableWeakSet: the insertion-ordered table of entries.
//!
//! The JS class keeps `key -> value` in a real `WeakMap` (V8's ephemeron table: a value that
//! references its key stays collectable) and `key -> entry` in a second one, with
//! `entry = { key, id }`. This table keeps, per entry, one weak reference with a finalizer to the
//! *entry* object (never to the key: an entry lives exactly as long as its key is in the map, and
//! entries are objects even when keys are symbols). It gives the order, `size`, `clear()` and
//! iteration that a WeakMap lacks. get/has/set-of-an-existing-key never come here.
//!
//! The protocol (what each call does, and the shared array of deleted ids) is declared in
//! core/weak_table_protocol.rs; `weakTableProtocol()` describes it to JS at load.

use crate::core::ordered_table::{EntryId, OrderedTable};
use crate::core::weak_table_protocol::{TableCall, TableOp};
use crate::error::{check, JsError, JsResult};
use crate::gc_notify::{batch_delivery, watch, GcSink};
use crate::native_protocol::{describe, op_of, NativeOp};
use crate::raw::{args_and_data, function_with_data, guard, no_unwind, number, to_f64, undefined};
use napi::bindgen_prelude::{FromNapiValue, Function, Unknown};
use napi::threadsafe_function::UnknownReturnValue;
use napi::{sys, Env};
use napi_derive::napi;
use std::cell::{Cell, OnceCell, RefCell};
use std::ffi::c_void;
use std::ptr;

/// The ids JS deleted since the last call, in the `Float64Array` it shares with this table.
struct RemovedIds {
  /// The array's elements: `[count, id, id, ...]`.
  data: *mut f64,
  len: usize,
  /// A strong reference to the array, so that `data` stays valid as long as the table. The
  /// array refers to nothing, so this cannot keep the map alive.
  array: sys::napi_ref,
}

struct WeakKeyTable {
  /// Weak references (with finalizers) to the entry objects, in insertion order.
  entries: RefCell<OrderedTable<sys::napi_ref>>,
  /// Where the finalizers report collected entries. Outlives every reference (see gc_notify).
  collected: GcSink,
  /// Entries removed because their key was collected (their finalizer ran), since creation.
  collected_count: Cell<u64>,
  /// Set by the map's first delete.
  removed: OnceCell<RemovedIds>,
  /// Set by `watchCollected`: the sink then wakes JS, and teardown must silence it first.
  watched: Cell<bool>,
}

impl WeakKeyTable {
  /// Brings the table up to date: removes the entries JS deleted and those the GC finalized.
  fn sync(&self, env: sys::napi_env) {
    if let Some(removed) = self.removed.get() {
      // SAFETY: `data` points at `len` f64s kept alive by the strong reference (see
      // RemovedIds), and JS never runs while this native call does.
      let count = unsafe { *removed.data };
      if count > 0.0 {
        let count = (count as usize).min(removed.len - 1);
        let mut entries = self.entries.borrow_mut();
        for index in 1..=count {
          // SAFETY: as above; index < len.
          let id = unsafe { *removed.data.add(index) } as EntryId;
          delete_entry(env, &mut entries, id);
        }
        // SAFETY: as above.
        unsafe { *removed.data = 0.0 };
      }
    }
    let ids = self.collected.drain();
    if !ids.is_empty() {
      let mut entries = self.entries.borrow_mut();
      let mut count = self.collected_count.get();
      for id in ids {
        if delete_entry(env, &mut entries, id) {
          count += 1;
        }
      }
      self.collected_count.set(count);
    }
  }

  fn clear(&self, env: sys::napi_env) {
    let references = self.entries.borrow_mut().take_all();
    for reference in references {
      // SAFETY: each reference is deleted once; deleting cancels a pending finalizer.
      unsafe { sys::napi_delete_reference(env, reference) };
    }
    // Events of entries finalized before the clear name ids that are gone now.
    self.collected.drain();
  }
}

/// Removes entry `id` and deletes its reference; false if it is not there (removed by delete,
/// clear or an earlier event): ids are never reused, so nothing else can match.
fn delete_entry(
  env: sys::napi_env,
  entries: &mut OrderedTable<sys::napi_ref>,
  id: EntryId,
) -> bool {
  let Some(reference) = entries.remove(id) else {
    return false;
  };
  // SAFETY: the reference came from `watch` and leaves the table here, so it is deleted once.
  unsafe { sys::napi_delete_reference(env, reference) };
  true
}

unsafe extern "C" fn finalize_table(env: sys::napi_env, data: *mut c_void, _hint: *mut c_void) {
  no_unwind("a finalizer", || {
    // SAFETY: data is the Box made in `create`, finalized exactly once, when its function dies.
    let table = unsafe { Box::from_raw(data as *mut WeakKeyTable) };
    // Deleting every reference first cancels their finalizers, so none can reach the sink after
    // the Box is freed (also at teardown, where Node finalizes everything in an unspecified order).
    table.clear(env);
    if table.watched.get() {
      // SAFETY: the hook was added with this sink, which has not moved (it is in the Box).
      unsafe { table.collected.unwatch_teardown(env) };
    }
    if let Some(removed) = table.removed.get() {
      // SAFETY: the table's own strong reference, deleted once, here.
      unsafe { sys::napi_delete_reference(env, removed.array) };
    }
  });
}

/// The ops of a table function, for lib/iterable-weak-map.js to build its adapter from at load.
#[napi]
pub fn weak_table_protocol() -> Vec<NativeOp> {
  describe(TableOp::describe())
}

/// `weakTableCreate() -> table`: a new table, as a native function `table(op, ...args)` (see
/// core/weak_table_protocol.rs). Its calls are raw Node-API callbacks (see raw.rs): they are the
/// hot path of `set` of a new key, `size`, each iteration step and every 32nd `delete`.
///
/// The function's own data pointer is the table, so a call needs no handle to look up or
/// validate (a type-tag check costs ~40 ns per call) and no foreign value can be mistaken for a
/// table. The table is freed by the function's finalizer.
#[napi(ts_return_type = "(op: number, ...args: unknown[]) => unknown")]
pub fn weak_table_create(env: &Env) -> napi::Result<Unknown<'_>> {
  let env = env.raw();
  let table = Box::into_raw(Box::new(WeakKeyTable {
    entries: RefCell::new(OrderedTable::new()),
    collected: GcSink::new(),
    collected_count: Cell::new(0),
    removed: OnceCell::new(),
    watched: Cell::new(false),
  }));
  // SAFETY: a valid env on the JS thread (napi-rs calls us there); `table` stays valid until
  // `finalize_table` frees it.
  let Some(function) =
    (unsafe { function_with_data(env, c"weakTable", call, table.cast(), finalize_table) })
  else {
    // SAFETY: the finalizer was not added, so nothing else owns the Box.
    drop(unsafe { Box::from_raw(table) });
    return Err(napi::Error::from_reason(
      "could not create a weak-key table",
    ));
  };
  // SAFETY: `function` is a live value of this env, made above.
  Ok(unsafe { Unknown::from_raw_unchecked(env, function) })
}

/// Checks that `array` is a `Float64Array` of at least two elements and holds it strongly.
///
/// # Safety
/// `env` and `array` must be valid for the running callback.
unsafe fn removed_ids(env: sys::napi_env, array: sys::napi_value) -> JsResult<RemovedIds> {
  let mut is_typed_array = false;
  check(
    // SAFETY: valid env and value; valid out pointers.
    unsafe { sys::napi_is_typedarray(env, array, &mut is_typed_array) },
    "napi_is_typedarray",
  )?;
  let mut kind = sys::TypedarrayType::int8_array;
  let mut len = 0;
  let mut data = ptr::null_mut();
  if is_typed_array {
    check(
      // SAFETY: `array` is a typed array; the out pointers are valid (unused ones null).
      unsafe {
        sys::napi_get_typedarray_info(
          env,
          array,
          &mut kind,
          &mut len,
          &mut data,
          ptr::null_mut(),
          ptr::null_mut(),
        )
      },
      "napi_get_typedarray_info",
    )?;
  }
  if !is_typed_array || kind != sys::TypedarrayType::float64_array || len < 2 || data.is_null() {
    return Err(JsError::type_error(
      "ERR_EPHEMERON_INVALID_HANDLE",
      "a weak-key table needs a Float64Array of at least 2 elements for removed ids",
    ));
  }
  let mut reference = ptr::null_mut();
  check(
    // SAFETY: valid env and object; a count of 1 makes the reference strong.
    unsafe { sys::napi_create_reference(env, array, 1, &mut reference) },
    "napi_create_reference",
  )?;
  Ok(RemovedIds {
    data: data.cast(),
    len,
    array: reference,
  })
}

unsafe extern "C" fn call(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
  // SAFETY: Node calls natives on the JS thread with a valid env and info; every raw call below
  // uses those handles with valid out pointers and checks its status.
  unsafe {
    guard(env, || {
      let (argv, data) = args_and_data::<{ 1 + TableOp::MAX_ARGS }>(env, info)?;
      // SAFETY: data is the table given to napi_create_function in `weak_table_create`; it lives
      // until this function is finalized, and the function is alive while it is being called.
      let table = &*(data as *const WeakKeyTable);
      let op = op_of(env, argv[0], TableOp::from_number, "IterableWeakMap table")?;
      table.sync(env);
      match TableCall::decode(op, &argv[1..]) {
        TableCall::Add { entry } => {
          let id = table.entries.borrow_mut().next_id();
          let reference = watch(env, entry, id, &table.collected)?;
          table.entries.borrow_mut().insert(id, reference);
          number(env, id as f64)
        }
        TableCall::Drain {} => undefined(env),
        TableCall::Size {} => number(env, table.entries.borrow().len() as f64),
        TableCall::Next { cursor } => next_entry(env, table, to_f64(env, cursor)? as EntryId),
        TableCall::Clear {} => {
          table.clear(env);
          undefined(env)
        }
        TableCall::ShareRemoved { removed } => {
          if table.removed.get().is_some() {
            return Err(JsError::internal(
              "the removed-ids array was already shared",
            ));
          }
          let removed = removed_ids(env, removed)?;
          let _ = table.removed.set(removed);
          undefined(env)
        }
        TableCall::Collected {} => number(env, table.collected_count.get() as f64),
        TableCall::WatchCollected { wake } => {
          watch_collected(env, table, wake)?;
          undefined(env)
        }
      }
    })
  }
}

/// Makes the table's finalizers wake `wake` (a JS function) on the event loop, once per batch.
/// The wake-up carries nothing: JS reads `collected` (which applies the batch) when it runs, so a
/// late one after the table is gone touches nothing native. Teardown finalizers (exit, worker
/// termination) wake nobody.
///
/// # Safety
/// `env` and `wake` must be valid for the running callback; `table` is the function's table.
unsafe fn watch_collected(
  env: sys::napi_env,
  table: &WeakKeyTable,
  wake: sys::napi_value,
) -> JsResult<()> {
  if table.watched.get() {
    return Err(JsError::internal("the table already has a wake function"));
  }
  let mut kind = sys::ValueType::napi_undefined;
  check(
    // SAFETY: the caller's contract (valid env and value); the out pointer is a local.
    unsafe { sys::napi_typeof(env, wake, &mut kind) },
    "napi_typeof",
  )?;
  if kind != sys::ValueType::napi_function {
    return Err(JsError::type_error(
      "ERR_EPHEMERON_INVALID_HANDLE",
      "watchCollected: wake must be a function",
    ));
  }
  // SAFETY: as above; `wake` is a function.
  let wake = unsafe { Function::<Vec<u32>, UnknownReturnValue>::from_napi_value(env, wake) }
    .map_err(|e| JsError::internal(format!("watchCollected: {e}")))?;
  let waker = batch_delivery(&wake, |_env| Vec::new())
    .map_err(|e| JsError::internal(format!("cannot create the threadsafe function: {e}")))?;
  // SAFETY: the sink lives in the table's Box, which never moves; finalize_table removes the hook.
  unsafe { table.collected.watch_teardown(env)? };
  table.collected.set_waker(waker);
  table.watched.set(true);
  Ok(())
}

/// The first live entry after entry id `cursor`, in insertion order, or `undefined`. Entries
/// whose key was collected are skipped at once, before any finalizer ran: a read never yields a
/// dead key. One entry per call, so that an iterator never holds entries (and their keys) it
/// has not yielded yet.
///
/// # Safety
/// `env` must be valid for the running callback.
unsafe fn next_entry(
  env: sys::napi_env,
  table: &WeakKeyTable,
  mut cursor: EntryId,
) -> JsResult<sys::napi_value> {
  let mut entries = table.entries.borrow_mut();
  while let Some((id, reference)) = entries.first_after(cursor) {
    let mut entry = ptr::null_mut();
    check(
      // SAFETY: the caller's env; the reference is live until the table deletes it.
      unsafe { sys::napi_get_reference_value(env, *reference, &mut entry) },
      "napi_get_reference_value",
    )?;
    if !entry.is_null() {
      return Ok(entry);
    }
    cursor = id;
  }
  // SAFETY: the caller's env.
  unsafe { undefined(env) }
}
