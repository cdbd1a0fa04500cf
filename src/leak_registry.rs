//! Native side of LeakRegistry: glue between the JS class, the leak table (core/leak_table.rs),
//! the GC pipeline (gc_notify.rs) and the log writer (leak_log.rs).
//!
//! Each tracked resource has one `watch` reference (weak, with a finalizer carrying the record
//! id). `release` deletes it, which cancels the finalizer. A finalizer that runs pushes the id;
//! the weak batched threadsafe function then wakes the JS side on the event loop, which calls
//! `leakDeliver`: that turns the collected records, and the suspected and released reports made
//! since the last call, into JSON lines for the log and returns them, as one JSON array text, for
//! `onLeak`.
//! Deadlines (`suspectAfter`) live in the table; the JS side keeps one timer per registry and
//! calls `leakDue` when it fires, which answers when to fire next.
//! At process exit and worker termination the env cleanup hooks run first: they close the sink
//! (teardown finalizers of live resources are not leaks) and flush the log.
//!
//! Strings from JS arrive as JSON text (see core/leak_table.rs); the JS side reaches all this
//! through raw Node-API callbacks (see raw.rs) on a type-tagged External.

use crate::core::leak_report::{
  counts_to_json, exit_inventory, open_json, stats_json, Origin, Report, ReportBatch,
};
use crate::core::leak_table::{Identity, LeakTable, SiteId, Tracked};
use crate::core::ordered_table::EntryId;
use crate::core::process_totals::PROCESS;
use crate::core::sampler::Sampler;
use crate::core::touch_log::Touch;
use crate::error::{check, ErrorClass, JsError, JsResult};
use crate::gc_notify::{batch_delivery, watch, GcSink};
use crate::leak_log::{flush_all, LeakLog};
use crate::raw::{
  args, boolean, define_function, guard, no_unwind, number, optional_string, string,
  tagged_external, to_f64, undefined,
};
use napi::bindgen_prelude::{FromNapiValue, Function};
use napi::sys;
use napi::threadsafe_function::UnknownReturnValue;
use std::cell::{Cell, RefCell};
use std::ffi::c_void;
use std::ptr;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// How long `close()` and teardown wait for the log writer to write what is queued.
const LOG_FLUSH_LIMIT: Duration = Duration::from_secs(2);

struct Registry {
  env: sys::napi_env,
  table: RefCell<LeakTable<sys::napi_ref>>,
  sampler: RefCell<Sampler>,
  /// Where finalizers report collected resources. Outlives every reference (see gc_notify).
  collected: GcSink,
  /// Suspected and released reports made since the last delivery.
  pending: RefCell<Vec<Report>>,
  log: Option<LeakLog>,
  /// Touch records kept per resource.
  max_touches: usize,
  origin: Arc<Origin>,
  closed: Cell<bool>,
  /// The JS registry, held strongly only while it tracks something (see `keep_alive_while_working`).
  owner: sys::napi_ref,
  owner_held: Cell<bool>,
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

fn log_error(destination: &str, error: std::io::Error) -> JsError {
  JsError {
    class: ErrorClass::Plain,
    code: "ERR_EPHEMERON_LOG",
    message: format!("LeakRegistry: cannot open the log '{destination}': {error}"),
  }
}

impl Registry {
  /// A registry that still tracks resources has work to do (report them), so it stays alive
  /// even when nothing else references it; one that tracks nothing and is unreferenced is
  /// collected. Call after every change to the number of tracked records.
  fn keep_alive_while_working(&self) {
    let working = !self.closed.get() && !self.table.borrow().is_empty();
    if working == self.owner_held.get() {
      return;
    }
    let mut count = 0;
    // SAFETY: `owner` is a live reference made in `create` and deleted only in `Drop`; ref and
    // unref move its count between 0 (weak) and 1 (strong), on the JS thread.
    let status = unsafe {
      if working {
        sys::napi_reference_ref(self.env, self.owner, &mut count)
      } else {
        sys::napi_reference_unref(self.env, self.owner, &mut count)
      }
    };
    if status == sys::Status::napi_ok {
      self.owner_held.set(working);
    }
  }

  /// The reports made since the last call (leaks collected, resources suspected or released
  /// after suspicion): written to the log as JSON lines, and returned, with how many there were,
  /// as a batch for `onLeak` and the diagnostics channel (None when there are none or when
  /// `want_batch` says nobody wants them).
  fn deliver(&self, want_batch: bool) -> (usize, Option<ReportBatch>) {
    if self.closed.get() {
      return (0, None);
    }
    let mut reports = std::mem::take(&mut *self.pending.borrow_mut());
    let ids = self.collected.drain();
    if !ids.is_empty() {
      let now = now_ms();
      let mut table = self.table.borrow_mut();
      for id in ids {
        // None: released or closed meanwhile; ids are never reused, so nothing else matches.
        let Some((reference, leak)) = table.collect(id, now) else {
          continue;
        };
        // SAFETY: the reference came from `watch` and is deleted exactly once, here.
        unsafe { sys::napi_delete_reference(self.env, reference) };
        reports.push(leak);
      }
      drop(table);
      self.keep_alive_while_working();
    }
    if reports.is_empty() {
      return (0, None);
    }
    let count = reports.len();
    let batch = want_batch.then(|| ReportBatch::of(&reports));
    if let Some(log) = &self.log {
      // The full lines are formatted on the writer thread.
      let origin = self.origin.clone();
      log.write(reports.len(), move |out, kept| {
        for report in reports.iter().take(kept) {
          report.write_json_line(&origin, out);
          out.push('\n');
        }
      });
    }
    (count, batch)
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
    self.pending.borrow_mut().clear();
    self.keep_alive_while_working();
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
    if let Some(log) = &self.log {
      log.flush(LOG_FLUSH_LIMIT);
    }
  }
}

impl Drop for Registry {
  fn drop(&mut self) {
    // SAFETY: the reference was made in `create` for this env and is deleted once, here (the
    // registry is dropped on the JS thread: by its External's finalizer, or in `create`).
    unsafe { sys::napi_delete_reference(self.env, self.owner) };
  }
}

unsafe extern "C" fn flush_log_at_teardown(arg: *mut c_void) {
  no_unwind("an env cleanup hook", || {
    // SAFETY: arg is the Registry registered in `create`; the hook is removed before it is freed.
    let registry = unsafe { &*(arg as *const Registry) };
    if let Some(log) = &registry.log {
      log.flush(LOG_FLUSH_LIMIT);
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
unsafe fn to_bool(env: sys::napi_env, value: sys::napi_value) -> JsResult<bool> {
  let mut flag = false;
  check(
    // SAFETY: the caller's contract; `flag` is a valid out pointer.
    unsafe { sys::napi_get_value_bool(env, value, &mut flag) },
    "napi_get_value_bool",
  )?;
  Ok(flag)
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

/// `info`, `id`, `label` and `context` as JSON texts, joined by newlines (which JSON text never
/// contains raw); an empty `id`, `label` or `context` is absent, an empty `info` is null.
fn identity(joined: String) -> Identity {
  let mut parts = joined.splitn(4, '\n');
  let mut next = || {
    parts
      .next()
      .filter(|part| !part.is_empty())
      .map(Box::<str>::from)
  };
  let info = next().unwrap_or_else(|| "null".into());
  Identity {
    info,
    id: next(),
    label: next(),
    context: next(),
  }
}

/// `leakCreate(owner, wake, threadId, nameJson?, log?, sampleRate, maxTouches) -> handle`.
/// `owner` is the JS registry (held while it tracks something); `wake()` is called on the event
/// loop when collections were queued; it calls `leakDeliver`.
unsafe extern "C" fn create(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
  // SAFETY: Node calls this on the JS thread with a valid env and callback info; every raw call
  // below uses those handles and checks its status.
  unsafe {
    guard(env, || {
      let [owner, wake, thread_id, name, log, sample_rate, max_touches] = args::<7>(env, info)?;
      let log = match optional_string(env, log)? {
        Some(destination) => {
          Some(LeakLog::open(&destination).map_err(|error| log_error(&destination, error))?)
        }
        None => None,
      };
      let seed = now_ms().to_bits() ^ (std::process::id() as u64) << 32;
      let origin = Origin {
        pid: std::process::id(),
        thread_id: to_f64(env, thread_id)? as u64,
        registry: optional_string(env, name)?.map(String::into_boxed_str),
      };
      let mut owner_ref = ptr::null_mut();
      check(
        sys::napi_create_reference(env, owner, 0, &mut owner_ref),
        "napi_create_reference",
      )?;
      let registry = Box::new(Registry {
        env,
        table: RefCell::new(LeakTable::new(&PROCESS)),
        sampler: RefCell::new(Sampler::new(to_f64(env, sample_rate)?, seed)),
        collected: GcSink::new(),
        pending: RefCell::new(Vec::new()),
        log,
        max_touches: to_f64(env, max_touches)? as usize,
        origin: Arc::new(origin),
        closed: Cell::new(false),
        owner: owner_ref,
        owner_held: Cell::new(false),
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

/// What a delivery gives JS: undefined when there were no reports, their number when they only
/// went to the log, else a batch for `onLeak`: `[ArrayBuffer of BATCH_NUMBERS f64 per report,
/// JSON text of the values]`.
///
/// # Safety
/// `env` must be valid for the running callback.
unsafe fn delivered_value(
  env: sys::napi_env,
  (count, batch): (usize, Option<ReportBatch>),
) -> JsResult<sys::napi_value> {
  let Some(batch) = batch else {
    // SAFETY: the caller's env.
    return unsafe {
      if count == 0 {
        undefined(env)
      } else {
        number(env, count as f64)
      }
    };
  };
  // SAFETY: the caller's env; the out pointers are locals and every status is checked; the copy
  // writes exactly the buffer's length, into the buffer Node just allocated.
  unsafe {
    let bytes = batch.numbers.len() * std::mem::size_of::<f64>();
    let (mut data, mut buffer, mut pair) = (ptr::null_mut(), ptr::null_mut(), ptr::null_mut());
    check(
      sys::napi_create_arraybuffer(env, bytes, &mut data, &mut buffer),
      "napi_create_arraybuffer",
    )?;
    if bytes > 0 {
      ptr::copy_nonoverlapping(
        batch.numbers.as_ptr().cast::<u8>(),
        data.cast::<u8>(),
        bytes,
      );
    }
    check(
      sys::napi_create_array_with_length(env, 2, &mut pair),
      "napi_create_array_with_length",
    )?;
    check(
      sys::napi_set_element(env, pair, 0, buffer),
      "napi_set_element",
    )?;
    check(
      sys::napi_set_element(env, pair, 1, string(env, &batch.values)?),
      "napi_set_element",
    )?;
    Ok(pair)
  }
}

/// `leakDeliver(handle, wantBatch) -> undefined | number | [ArrayBuffer, string]`: the reports
/// made since the last call (see `delivered_value`; the log gets the full lines either way).
unsafe extern "C" fn deliver(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
  // SAFETY: Node calls this on the JS thread with a valid env and callback info; every raw call
  // below uses those handles and checks its status.
  unsafe {
    guard(env, || {
      let [handle, want_batch] = args::<2>(env, info)?;
      let delivered = registry(env, handle)?.deliver(to_bool(env, want_batch)?);
      delivered_value(env, delivered)
    })
  }
}

/// `leakDue(handle) -> number`: marks the resources held past their deadline as suspected (their
/// reports go out with the next `leakDeliver`); returns when the next deadline is (epoch ms), or
/// -1 when none is left.
unsafe extern "C" fn due(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
  // SAFETY: Node calls this on the JS thread with a valid env and callback info; every raw call
  // below uses those handles and checks its status.
  unsafe {
    guard(env, || {
      let [handle] = args::<1>(env, info)?;
      let registry = open_registry(env, handle)?;
      let mut table = registry.table.borrow_mut();
      let suspected = table.due(now_ms());
      registry.pending.borrow_mut().extend(suspected);
      number(env, table.next_deadline().unwrap_or(-1.0))
    })
  }
}

/// `leakTrack(handle, resource, typeId, siteId, identity?, stackJson?, suspectAfter) -> id`;
/// `identity` is `info\nid\nlabel` (JSON texts), `suspectAfter` 0 for never.
unsafe extern "C" fn track(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
  // SAFETY: Node calls this on the JS thread with a valid env and callback info; every raw call
  // below uses those handles and checks its status.
  unsafe {
    guard(env, || {
      let [handle, resource, type_id, site_id, identity_text, stack, suspect_after] =
        args::<7>(env, info)?;
      let registry = open_registry(env, handle)?;
      let tracked = Tracked {
        type_id: to_f64(env, type_id)? as u32,
        site_id: to_f64(env, site_id)? as u32,
        at: now_ms(),
        identity: optional_string(env, identity_text)?.map(|text| Box::new(identity(text))),
        stack: optional_string(env, stack)?.map(String::into_boxed_str),
        suspect_after: Some(to_f64(env, suspect_after)?),
      };
      let id = registry.table.borrow().next_id();
      let reference = watch(env, resource, id, &registry.collected)?;
      let tracked = registry.table.borrow_mut().track(reference, tracked);
      match tracked {
        Ok(id) => {
          registry.keep_alive_while_working();
          number(env, id as f64)
        }
        Err(_) => {
          sys::napi_delete_reference(env, reference);
          Err(JsError::internal("leakTrack: unknown type or site id"))
        }
      }
    })
  }
}

/// `leakRelease(handle, id) -> number`: 0 if the id is not tracked (any more), 1 when released,
/// 2 when released with a `released` report for the next `leakDeliver` (it had been suspected).
unsafe extern "C" fn release(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
  // SAFETY: Node calls this on the JS thread with a valid env and callback info; every raw call
  // below uses those handles and checks its status.
  unsafe {
    guard(env, || {
      let [handle, id] = args::<2>(env, info)?;
      let registry = open_registry(env, handle)?;
      let id = to_f64(env, id)? as EntryId;
      let released = registry.table.borrow_mut().release(id, now_ms());
      let Some((reference, report)) = released else {
        return number(env, 0.0);
      };
      // SAFETY: deleting cancels the finalizer; the reference is not used again.
      sys::napi_delete_reference(env, reference);
      registry.keep_alive_while_working();
      match report {
        Some(report) => {
          registry.pending.borrow_mut().push(report);
          number(env, 2.0)
        }
        None => number(env, 1.0),
      }
    })
  }
}

/// `leakIsTracked(handle, id) -> boolean`: whether the record is still tracked (neither released
/// nor reported as leaked).
unsafe extern "C" fn is_tracked(
  env: sys::napi_env,
  info: sys::napi_callback_info,
) -> sys::napi_value {
  // SAFETY: Node calls this on the JS thread with a valid env and callback info; every raw call
  // below uses those handles and checks its status.
  unsafe {
    guard(env, || {
      let [handle, id] = args::<2>(env, info)?;
      let registry = open_registry(env, handle)?;
      let tracked = registry
        .table
        .borrow()
        .contains(to_f64(env, id)? as EntryId);
      boolean(env, tracked)
    })
  }
}

/// `leakTouch(handle, id, siteId, hintJson?) -> boolean`: records an access; false when the id
/// is not tracked (any more).
unsafe extern "C" fn touch(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
  // SAFETY: Node calls this on the JS thread with a valid env and callback info; every raw call
  // below uses those handles and checks its status.
  unsafe {
    guard(env, || {
      let [handle, id, site_id, hint] = args::<4>(env, info)?;
      let registry = open_registry(env, handle)?;
      let touch = Touch {
        site: to_f64(env, site_id)? as SiteId,
        at: now_ms(),
        hint: optional_string(env, hint)?.map(String::into_boxed_str),
      };
      let touched =
        registry
          .table
          .borrow_mut()
          .touch(to_f64(env, id)? as EntryId, touch, registry.max_touches);
      boolean(
        env,
        touched.map_err(|_| JsError::internal("leakTouch: unknown site id"))?,
      )
    })
  }
}

/// `leakIntern(handle, kind, json) -> id`: kind 0 names a type, 1 a site (JSON string literals).
unsafe extern "C" fn intern(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
  // SAFETY: Node calls this on the JS thread with a valid env and callback info; every raw call
  // below uses those handles and checks its status.
  unsafe {
    guard(env, || {
      let [handle, kind, text] = args::<3>(env, info)?;
      let registry = open_registry(env, handle)?;
      let text =
        optional_string(env, text)?.ok_or_else(|| JsError::internal("leakIntern: no text"))?;
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
      let dropped = registry
        .log
        .as_ref()
        .map_or(0, |log| log.counters().dropped());
      let json = stats_json(&registry.table.borrow().stats(), dropped);
      string(env, &json)
    })
  }
}

/// `leakLogFailure(handle) -> string | undefined`: the first error the log writer met for this
/// registry, once (for one warning).
unsafe extern "C" fn log_failure(
  env: sys::napi_env,
  info: sys::napi_callback_info,
) -> sys::napi_value {
  // SAFETY: Node calls this on the JS thread with a valid env and callback info; every raw call
  // below uses those handles and checks its status.
  unsafe {
    guard(env, || {
      let [handle] = args::<1>(env, info)?;
      match registry(env, handle)?
        .log
        .as_ref()
        .and_then(|log| log.counters().take_failure())
      {
        Some(failure) => string(env, &failure),
        None => undefined(env),
      }
    })
  }
}

/// `leakReopenLog(handle)`: reopens the registry's log file at its path (after log rotation),
/// for every registry of the process that logs there.
unsafe extern "C" fn reopen_log(
  env: sys::napi_env,
  info: sys::napi_callback_info,
) -> sys::napi_value {
  // SAFETY: Node calls this on the JS thread with a valid env and callback info; every raw call
  // below uses those handles and checks its status.
  unsafe {
    guard(env, || {
      let [handle] = args::<1>(env, info)?;
      if let Some(log) = &open_registry(env, handle)?.log {
        log.reopen().map_err(|error| JsError {
          class: ErrorClass::Plain,
          code: "ERR_EPHEMERON_LOG",
          message: format!("LeakRegistry.reopenLog: {error}"),
        })?;
      }
      undefined(env)
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

/// `leakClose(handle, wantBatch) -> undefined | number | batch`: reports the collections that already happened
/// (their lines go to the log and they are returned for onLeak, as `leakDeliver`), then stops
/// watching and flushes the log. Idempotent.
unsafe extern "C" fn close(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
  // SAFETY: Node calls this on the JS thread with a valid env and callback info; every raw call
  // below uses those handles and checks its status.
  unsafe {
    guard(env, || {
      let [handle, want_batch] = args::<2>(env, info)?;
      let registry = registry(env, handle)?;
      if registry.closed.get() {
        return undefined(env);
      }
      registry.queue_cleared();
      let delivered = registry.deliver(to_bool(env, want_batch)?);
      registry.close();
      delivered_value(env, delivered)
    })
  }
}

/// `leakFlushLogs(milliseconds)`: waits, at most that long in all, until every log destination
/// of the process has written what is queued (for `process.exit()`, which skips teardown).
unsafe extern "C" fn flush_logs(
  env: sys::napi_env,
  info: sys::napi_callback_info,
) -> sys::napi_value {
  // SAFETY: Node calls this on the JS thread with a valid env and callback info.
  unsafe {
    guard(env, || {
      let [limit] = args::<1>(env, info)?;
      flush_all(Duration::from_secs_f64(
        to_f64(env, limit)?.clamp(0.0, 60_000.0) / 1000.0,
      ));
      undefined(env)
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
    define_function(env, exports, c"leakDue", due)?;
    define_function(env, exports, c"leakRelease", release)?;
    define_function(env, exports, c"leakIsTracked", is_tracked)?;
    define_function(env, exports, c"leakTouch", touch)?;
    define_function(env, exports, c"leakIntern", intern)?;
    define_function(env, exports, c"leakSampleGap", sample_gap)?;
    define_function(env, exports, c"leakStats", stats)?;
    define_function(env, exports, c"leakLogFailure", log_failure)?;
    define_function(env, exports, c"leakReopenLog", reopen_log)?;
    define_function(env, exports, c"leakOpen", open)?;
    define_function(env, exports, c"leakExitInventory", exit_inventory_text)?;
    define_function(env, exports, c"leakClose", close)?;
    define_function(env, exports, c"leakFlushLogs", flush_logs)?;
    define_function(env, exports, c"leakProcessTotals", process_totals)
  }
}
