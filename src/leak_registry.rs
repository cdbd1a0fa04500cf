//! Native side of LeakRegistry: glue between the JS class, the leak table (core/leak_table.rs)
//! and the GC pipeline (gc_notify.rs).
//!
//! Each tracked resource has one `watch` reference (weak, with a finalizer carrying the record
//! id). `release` deletes it, which cancels the finalizer. A finalizer that runs pushes the id;
//! the weak batched threadsafe function then wakes the JS side on the event loop, which names the
//! sites it has not read yet (`leakSetSite`) and calls `leakDeliver`: that turns the records into
//! JSON report lines for the log writer and returns them for `onLeak`.
//! At process exit and worker termination the env cleanup hooks run first: they close the sink
//! (teardown finalizers of live resources are not leaks) and flush the log.
//!
//! The JS side reaches it through raw Node-API callbacks (see raw.rs) on a type-tagged External.

use crate::core::leak_report::{counts_to_json, exit_inventory, open_json, stats_json, Origin};
use crate::core::leak_table::{LeakTable, SiteId};
use crate::core::ordered_table::EntryId;
use crate::core::process_totals::PROCESS;
use crate::core::sampler::Sampler;
use crate::error::{check, ErrorClass, JsError, JsResult};
use crate::gc_notify::{batch_delivery, watch, GcSink};
use crate::leak_log::LeakLog;
use crate::raw::{
  args, define_function, guard, no_unwind, number, tagged_external, to_f64, undefined,
};
use napi::bindgen_prelude::{FromNapiValue, Function};
use napi::sys;
use napi::threadsafe_function::UnknownReturnValue;
use std::cell::{Cell, RefCell};
use std::ffi::c_void;
use std::ptr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// How long `close()` and teardown wait for the log writer to write what is queued.
const LOG_FLUSH_LIMIT: Duration = Duration::from_secs(2);

struct Registry {
  env: sys::napi_env,
  table: RefCell<LeakTable<sys::napi_ref>>,
  sampler: RefCell<Sampler>,
  /// Where finalizers report collected resources. Outlives every reference (see gc_notify).
  collected: GcSink,
  log: RefCell<Option<LeakLog>>,
  /// Whether the JS side wants report lines (it has an `onLeak`).
  wants_lines: bool,
  origin: Origin,
  closed: Cell<bool>,
}

fn now_ms() -> f64 {
  SystemTime::now()
    .duration_since(UNIX_EPOCH)
    .map(|d| d.as_secs_f64() * 1000.0)
    .unwrap_or(0.0)
}

fn closed_error() -> JsError {
  JsError {
    class: ErrorClass::Plain,
    code: "ERR_EPHEMERON_CLOSED",
    message: "LeakRegistry is closed".into(),
  }
}

impl Registry {
  /// The report lines of the leaks queued since the last call (for `onLeak`: none without one).
  fn deliver(&self) -> Vec<String> {
    let ids = self.collected.drain();
    if ids.is_empty() || self.closed.get() {
      return Vec::new();
    }
    let now = now_ms();
    let mut lines = Vec::new();
    let log = self.log.borrow();
    for id in ids {
      // None: released or closed meanwhile; ids are never reused, so nothing else matches.
      let Some((reference, leak)) = self.table.borrow_mut().collect(id, now) else {
        continue;
      };
      // SAFETY: the reference came from `watch` and is deleted exactly once, here.
      unsafe { sys::napi_delete_reference(self.env, reference) };
      let line = leak.to_json_line(&self.origin);
      match (&*log, self.wants_lines) {
        (Some(log), true) => {
          log.write(line.clone());
          lines.push(line);
        }
        (Some(log), false) => log.write(line),
        (None, _) => lines.push(line),
      }
    }
    lines
  }

  /// Reports, by the next `deliver`, the tracked objects that the GC has already cleared but
  /// whose finalizer has not run yet: closing deletes their references, which would cancel
  /// those finalizers and lose the leaks.
  fn queue_cleared(&self) {
    for (id, reference) in self.table.borrow().handles() {
      let mut value = ptr::null_mut();
      // SAFETY: the reference is live: the table holds it until it gives it back to us.
      let status = unsafe { sys::napi_get_reference_value(self.env, *reference, &mut value) };
      if status == sys::Status::napi_ok && value.is_null() {
        self.collected.push(id);
      }
    }
  }

  /// Stops watching everything; idempotent. Call `queue_cleared` and `deliver` first, so that
  /// no collection that already happened goes unreported.
  fn close(&self) {
    if self.closed.replace(true) {
      return;
    }
    for reference in self.table.borrow_mut().take_all() {
      // SAFETY: each reference is deleted once; deleting cancels a pending finalizer.
      unsafe { sys::napi_delete_reference(self.env, reference) };
    }
    self.collected.drain();
    // SAFETY: same env and argument the hooks were added with; removing them is a no-op if they
    // already ran.
    unsafe {
      self.collected.unwatch_teardown(self.env);
      sys::napi_remove_env_cleanup_hook(
        self.env,
        Some(flush_log_at_teardown),
        self as *const Registry as *mut c_void,
      );
    }
    if let Some(log) = self.log.borrow_mut().as_mut() {
      log.close(LOG_FLUSH_LIMIT);
    }
  }
}

unsafe extern "C" fn flush_log_at_teardown(arg: *mut c_void) {
  no_unwind("an env cleanup hook", || {
    // SAFETY: arg is the Registry registered in `create`; the hook is removed before it is freed.
    let registry = unsafe { &*(arg as *const Registry) };
    if let Ok(mut log) = registry.log.try_borrow_mut() {
      if let Some(log) = log.as_mut() {
        log.close(LOG_FLUSH_LIMIT);
      }
    }
  });
}

/// Tags our Externals so that a foreign External passed to these natives is an error, not a crash.
static REGISTRY_TAG: sys::napi_type_tag = sys::napi_type_tag {
  lower: 0x6570_6865_6d65_726f,
  upper: 0x6e2d_6c65_616b_7231,
};

unsafe extern "C" fn finalize_registry(_env: sys::napi_env, data: *mut c_void, _hint: *mut c_void) {
  no_unwind("a finalizer", || {
    // SAFETY: data is the Box made in `create`, finalized exactly once by Node.
    let registry = unsafe { Box::from_raw(data as *mut Registry) };
    // Deleting every reference first cancels their finalizers, so none can reach the sink after
    // it is freed (also at teardown, where Node finalizes everything in an unspecified order).
    registry.close();
  });
}

/// # Safety
/// `env` and `value` must be valid for the running callback.
unsafe fn registry<'a>(env: sys::napi_env, value: sys::napi_value) -> JsResult<&'a Registry> {
  // SAFETY: Externals tagged REGISTRY_TAG carry a Registry that lives until the External is
  // finalized (and it is reachable here, so it is not).
  unsafe { tagged_external(env, value, &REGISTRY_TAG, "leak registry") }
}

/// Like `registry`, but a closed registry is an error.
///
/// # Safety
/// `env` and `value` must be valid for the running callback.
unsafe fn open_registry<'a>(env: sys::napi_env, value: sys::napi_value) -> JsResult<&'a Registry> {
  // SAFETY: the caller's contract.
  let registry = unsafe { registry(env, value)? };
  if registry.closed.get() {
    return Err(closed_error());
  }
  Ok(registry)
}

/// Reads a string argument; `undefined` or `null` reads as None.
///
/// # Safety
/// `env` and `value` must be valid for the running callback.
unsafe fn optional_string(env: sys::napi_env, value: sys::napi_value) -> JsResult<Option<String>> {
  let mut kind = 0;
  // SAFETY: valid env/value (caller's contract) and out pointer.
  check(
    unsafe { sys::napi_typeof(env, value, &mut kind) },
    "napi_typeof",
  )?;
  if kind == sys::ValueType::napi_undefined || kind == sys::ValueType::napi_null {
    return Ok(None);
  }
  let mut len = 0;
  // SAFETY: a null buffer asks for the length in bytes (without the NUL).
  check(
    unsafe { sys::napi_get_value_string_utf8(env, value, ptr::null_mut(), 0, &mut len) },
    "napi_get_value_string_utf8",
  )?;
  let mut bytes = vec![0u8; len + 1];
  let mut written = 0;
  // SAFETY: the buffer holds len bytes plus the NUL the call writes.
  check(
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

/// # Safety
/// `env` must be valid for the running callback.
unsafe fn string(env: sys::napi_env, text: &str) -> JsResult<sys::napi_value> {
  let mut value = ptr::null_mut();
  // SAFETY: text is valid UTF-8 of the given length; the call copies it.
  check(
    unsafe {
      sys::napi_create_string_utf8(env, text.as_ptr().cast(), text.len() as isize, &mut value)
    },
    "napi_create_string_utf8",
  )?;
  Ok(value)
}

/// # Safety
/// `env` must be valid for the running callback.
unsafe fn boolean(env: sys::napi_env, flag: bool) -> JsResult<sys::napi_value> {
  let mut value = ptr::null_mut();
  // SAFETY: valid env and out pointer.
  check(
    unsafe { sys::napi_get_boolean(env, flag, &mut value) },
    "napi_get_boolean",
  )?;
  Ok(value)
}

/// `leakCreate(wake, threadId, name?, log?, sampleRate, wantsLines) -> handle`.
/// `wake()` is called on the event loop when collections were queued; it calls `leakDeliver`.
unsafe extern "C" fn create(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
  // SAFETY: Node calls this on the JS thread with a valid env and callback info; every raw call
  // below uses those handles and checks its status.
  unsafe {
    guard(env, || {
      let [wake, thread_id, name, log, sample_rate, wants_lines] = args::<6>(env, info)?;
      let mut wants = false;
      check(
        sys::napi_get_value_bool(env, wants_lines, &mut wants),
        "napi_get_value_bool",
      )?;
      let log = match optional_string(env, log)? {
        Some(destination) => Some(LeakLog::open(&destination).map_err(|error| JsError {
          class: ErrorClass::Plain,
          code: "ERR_EPHEMERON_LOG",
          message: format!("LeakRegistry: cannot open the log '{destination}': {error}"),
        })?),
        None => None,
      };
      let seed = now_ms().to_bits() ^ (std::process::id() as u64) << 32;
      let registry = Box::new(Registry {
        env,
        table: RefCell::new(LeakTable::new(&PROCESS)),
        sampler: RefCell::new(Sampler::new(to_f64(env, sample_rate)?, seed)),
        collected: GcSink::new(),
        log: RefCell::new(log),
        wants_lines: wants,
        origin: Origin {
          pid: std::process::id(),
          thread_id: to_f64(env, thread_id)?,
          registry: optional_string(env, name)?,
        },
        closed: Cell::new(false),
      });
      // The JS side drains the queue itself (after naming pending sites), so a batch is only a
      // wake-up: it touches nothing native, and a late one after the registry is freed is harmless.
      let wake = Function::<Vec<u32>, UnknownReturnValue>::from_napi_value(env, wake)
        .map_err(|e| JsError::internal(format!("leakCreate: wake is not a function: {e}")))?;
      let waker = batch_delivery(&wake, |_env| Vec::new())
        .map_err(|e| JsError::internal(format!("cannot create the threadsafe function: {e}")))?;
      registry.collected.set_waker(waker);
      let registry = Box::into_raw(registry);
      // From here on the Box is freed by `finalize_registry`, or below if the External fails.
      let result = (|| {
        (*registry).collected.watch_teardown(env)?;
        check(
          sys::napi_add_env_cleanup_hook(env, Some(flush_log_at_teardown), registry as *mut c_void),
          "napi_add_env_cleanup_hook",
        )?;
        let mut external = ptr::null_mut();
        check(
          sys::napi_create_external(
            env,
            registry as *mut c_void,
            Some(finalize_registry),
            ptr::null_mut(),
            &mut external,
          ),
          "napi_create_external",
        )?;
        Ok(external)
      })();
      let external = match result {
        Ok(external) => external,
        Err(error) => {
          let registry = Box::from_raw(registry);
          registry.close();
          return Err(error);
        }
      };
      check(
        sys::napi_type_tag_object(env, external, &REGISTRY_TAG),
        "napi_type_tag_object",
      )?;
      Ok(external)
    })
  }
}

/// A JS array of report lines.
///
/// # Safety
/// `env` must be valid for the running callback.
unsafe fn lines_array(env: sys::napi_env, lines: &[String]) -> JsResult<sys::napi_value> {
  // SAFETY: the caller's env; the out pointers are locals and every status is checked.
  unsafe {
    let mut array = ptr::null_mut();
    check(
      sys::napi_create_array_with_length(env, lines.len(), &mut array),
      "napi_create_array_with_length",
    )?;
    for (index, line) in lines.iter().enumerate() {
      check(
        sys::napi_set_element(env, array, index as u32, string(env, line)?),
        "napi_set_element",
      )?;
    }
    Ok(array)
  }
}

/// `leakDeliver(handle) -> string[]`: the JSON report lines of the leaks queued since the last
/// call (empty without `onLeak`; the log gets them either way).
unsafe extern "C" fn deliver(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
  // SAFETY: Node calls this on the JS thread with a valid env and callback info; every raw call
  // below uses those handles and checks its status.
  unsafe {
    guard(env, || {
      let [handle] = args::<1>(env, info)?;
      let lines = registry(env, handle)?.deliver();
      lines_array(env, &lines)
    })
  }
}

/// `leakSetSite(handle, id, siteId)`: names the site of a record tracked with site 0 (unknown).
unsafe extern "C" fn set_site(
  env: sys::napi_env,
  info: sys::napi_callback_info,
) -> sys::napi_value {
  // SAFETY: Node calls this on the JS thread with a valid env and callback info; every raw call
  // below uses those handles and checks its status.
  unsafe {
    guard(env, || {
      let [handle, id, site_id] = args::<3>(env, info)?;
      let registry = open_registry(env, handle)?;
      let (id, site_id) = (to_f64(env, id)? as EntryId, to_f64(env, site_id)? as SiteId);
      registry
        .table
        .borrow_mut()
        .set_site(id, site_id)
        .map_err(|_| JsError::internal("leakSetSite: unknown site id"))?;
      undefined(env)
    })
  }
}

/// `leakTrack(handle, resource, typeId, siteId, infoJson?, stack?) -> id`.
unsafe extern "C" fn track(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
  // SAFETY: Node calls this on the JS thread with a valid env and callback info; every raw call
  // below uses those handles and checks its status.
  unsafe {
    guard(env, || {
      let [handle, resource, type_id, site_id, info_json, stack] = args::<6>(env, info)?;
      let registry = open_registry(env, handle)?;
      let (type_id, site_id) = (to_f64(env, type_id)? as u32, to_f64(env, site_id)? as u32);
      let info_json = optional_string(env, info_json)?.map(String::into_boxed_str);
      let stack = optional_string(env, stack)?.map(String::into_boxed_str);
      let id = registry.table.borrow().next_id();
      let reference = watch(env, resource, id, &registry.collected)?;
      let tracked =
        registry
          .table
          .borrow_mut()
          .track(reference, type_id, site_id, now_ms(), info_json, stack);
      match tracked {
        Ok(id) => number(env, id as f64),
        Err(_) => {
          sys::napi_delete_reference(env, reference);
          Err(JsError::internal("leakTrack: unknown type or site id"))
        }
      }
    })
  }
}

/// `leakRelease(handle, id) -> boolean`: false if the id is not tracked (any more).
unsafe extern "C" fn release(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
  // SAFETY: Node calls this on the JS thread with a valid env and callback info; every raw call
  // below uses those handles and checks its status.
  unsafe {
    guard(env, || {
      let [handle, id] = args::<2>(env, info)?;
      let registry = open_registry(env, handle)?;
      let id = to_f64(env, id)? as EntryId;
      let released = registry.table.borrow_mut().release(id);
      if let Some(reference) = released {
        // SAFETY: deleting cancels the finalizer; the reference is not used again.
        sys::napi_delete_reference(env, reference);
      }
      boolean(env, released.is_some())
    })
  }
}

/// `leakIntern(handle, kind, text) -> id`: kind 0 names a type, 1 a site.
unsafe extern "C" fn intern(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
  // SAFETY: Node calls this on the JS thread with a valid env and callback info; every raw call
  // below uses those handles and checks its status.
  unsafe {
    guard(env, || {
      let [handle, kind, text] = args::<3>(env, info)?;
      let registry = open_registry(env, handle)?;
      let text = optional_string(env, text)?.unwrap_or_default();
      let mut table = registry.table.borrow_mut();
      let id = if to_f64(env, kind)? == 0.0 {
        table.intern_type(&text)
      } else {
        table.intern_site(&text)
      };
      number(env, id as f64)
    })
  }
}

/// `leakSampleGap(handle) -> number`: how many tracks until the next sampled stack.
unsafe extern "C" fn sample_gap(
  env: sys::napi_env,
  info: sys::napi_callback_info,
) -> sys::napi_value {
  // SAFETY: Node calls this on the JS thread with a valid env and callback info; every raw call
  // below uses those handles and checks its status.
  unsafe {
    guard(env, || {
      let [handle] = args::<1>(env, info)?;
      let gap = open_registry(env, handle)?.sampler.borrow_mut().next_gap();
      number(env, gap as f64)
    })
  }
}

/// `leakStats(handle) -> json` (a closed registry keeps its final counts).
unsafe extern "C" fn stats(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
  // SAFETY: Node calls this on the JS thread with a valid env and callback info; every raw call
  // below uses those handles and checks its status.
  unsafe {
    guard(env, || {
      let [handle] = args::<1>(env, info)?;
      let registry = registry(env, handle)?;
      let json = stats_json(&registry.table.borrow().stats());
      string(env, &json)
    })
  }
}

/// `leakOpen(handle) -> json` array of what is still tracked.
unsafe extern "C" fn open(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
  // SAFETY: Node calls this on the JS thread with a valid env and callback info; every raw call
  // below uses those handles and checks its status.
  unsafe {
    guard(env, || {
      let [handle] = args::<1>(env, info)?;
      let registry = open_registry(env, handle)?;
      let json = open_json(&registry.table.borrow().open(), now_ms());
      string(env, &json)
    })
  }
}

/// `leakExitInventory(handle) -> text` grouped by site ('' when nothing is open or closed).
unsafe extern "C" fn exit_inventory_text(
  env: sys::napi_env,
  info: sys::napi_callback_info,
) -> sys::napi_value {
  // SAFETY: Node calls this on the JS thread with a valid env and callback info; every raw call
  // below uses those handles and checks its status.
  unsafe {
    guard(env, || {
      let [handle] = args::<1>(env, info)?;
      let registry = registry(env, handle)?;
      let text = exit_inventory(&registry.table.borrow().open(), now_ms(), &registry.origin);
      string(env, &text)
    })
  }
}

/// `leakClose(handle) -> lines`: reports the collections that already happened (their lines go to
/// the log and are returned for onLeak), then stops watching and flushes the log. Idempotent.
unsafe extern "C" fn close(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
  // SAFETY: Node calls this on the JS thread with a valid env and callback info; every raw call
  // below uses those handles and checks its status.
  unsafe {
    guard(env, || {
      let [handle] = args::<1>(env, info)?;
      let registry = registry(env, handle)?;
      if registry.closed.get() {
        return lines_array(env, &[]);
      }
      registry.queue_cleared();
      let lines = registry.deliver();
      registry.close();
      lines_array(env, &lines)
    })
  }
}

/// `leakProcessTotals() -> json`: counts of every registry in the process, workers included.
unsafe extern "C" fn process_totals(
  env: sys::napi_env,
  _info: sys::napi_callback_info,
) -> sys::napi_value {
  // SAFETY: Node calls this on the JS thread with a valid env.
  unsafe { guard(env, || string(env, &counts_to_json(&PROCESS.snapshot()))) }
}

/// Registers the natives on the addon's exports.
///
/// # Safety
/// Called once per environment from module initialisation with valid `env` and `exports`.
pub unsafe fn register(env: sys::napi_env, exports: sys::napi_value) -> JsResult<()> {
  // SAFETY: the caller's contract (module initialisation handles).
  unsafe {
    define_function(env, exports, c"leakCreate", create)?;
    define_function(env, exports, c"leakTrack", track)?;
    define_function(env, exports, c"leakDeliver", deliver)?;
    define_function(env, exports, c"leakSetSite", set_site)?;
    define_function(env, exports, c"leakRelease", release)?;
    define_function(env, exports, c"leakIntern", intern)?;
    define_function(env, exports, c"leakSampleGap", sample_gap)?;
    define_function(env, exports, c"leakStats", stats)?;
    define_function(env, exports, c"leakOpen", open)?;
    define_function(env, exports, c"leakExitInventory", exit_inventory_text)?;
    define_function(env, exports, c"leakClose", close)?;
    define_function(env, exports, c"leakProcessTotals", process_totals)
  }
}
