//! Native side of LeakRegistry: a typed `#[napi]` class over the leak table (core/leak_table.rs),
//! the event log's replay (core/leak_events.rs) and the log writer (leak_log.rs).
//!
//! No call here is on the hot path: `track()` and `release()` append to the event log in JS,
//! which is replayed at the next call (see core/leak_events.rs), so every method is a plain
//! napi-derive method and the generated binding.d.ts types them all. The GC pipeline of
//! LeakRegistry is a JS `FinalizationRegistry` (its callbacks append `COLLECTED` events); no
//! Node-API reference is made per resource.

use crate::core::leak_events::{self, Filled, ReplayContext, TOKENS};
use crate::core::leak_model::{Origin, Report};
use crate::core::leak_report::{
  counts_to_json, exit_inventory, open_json, stats_json, ReportBatch,
};
use crate::core::leak_table::LeakTable;
use crate::core::leak_texts::StackFilter;
use crate::core::process_totals::PROCESS;
use crate::core::site_sampler::{SiteSampler, Sites, Stacks, BURST};
use crate::leak_log::{flush_all, LeakLog};
use napi::bindgen_prelude::{Float64Array, Utf16String};
use napi::{sys, Env};
use napi_derive::napi;
use std::collections::HashMap;
use std::ptr;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// How long `close()` and teardown wait for the log writer to write what is queued.
const LOG_FLUSH_LIMIT: Duration = Duration::from_secs(2);

fn now_ms() -> f64 {
  SystemTime::now()
    .duration_since(UNIX_EPOCH)
    .map(|d| d.as_secs_f64() * 1000.0)
    .unwrap_or(0.0)
}

fn internal(message: impl std::fmt::Display) -> napi::Error {
  napi::Error::from_reason(format!("ephemeron internal error: {message}"))
}

/// What a registry is made with (lib/leak-registry.js validates every option first).
#[napi(object)]
pub struct NativeLeakOptions {
  pub thread_id: f64,
  /// The registry's `name`, as JSON text.
  pub name_json: Option<String>,
  /// `'auto'` or `'all'`.
  pub sites: String,
  /// `'off'`, `'sample'` or `'all'`.
  pub stacks: String,
  pub sample_rate: f64,
  pub max_touches: u32,
  /// The folder of ephemeron's JS files: frames from there are never a site.
  pub own_files: String,
  /// Varies the sampling sequence between registries.
  pub seed: f64,
}

/// Reports for JS (see src/core/leak_report.rs `ReportBatch`): `count` reports, and, when they were
/// asked for, their numbers and JSON values.
#[napi(object)]
pub struct NativeDelivery {
  pub count: u32,
  pub numbers: Option<Float64Array>,
  pub values: Option<String>,
}

/// What the deadline check found.
#[napi(object)]
pub struct NativeDue {
  /// When the next deadline is (epoch ms), or -1 when none is left.
  pub next: f64,
  /// Ids of the records it just reported as suspected.
  pub suspected: Vec<f64>,
}

/// One LeakRegistry's records, reports and log.
#[napi]
pub struct NativeLeakRegistry {
  io: Float64Array,
  table: LeakTable,
  sampler: SiteSampler,
  stacks: StackFilter,
  /// Reports made since the last delivery.
  pending: Vec<Report>,
  log: Option<LeakLog>,
  origin: Arc<Origin>,
  max_touches: usize,
  closed: bool,
  /// A weak reference to an object nothing else holds, made by `markGc()`: any collection clears
  /// it. Null until the first mark.
  gc_mark: sys::napi_ref,
  env: sys::napi_env,
}

#[napi]
impl NativeLeakRegistry {
  /// `io` is the event log's buffer (`leakProtocol().LENGTH` slots), kept for the registry's life.
  #[napi(constructor, catch_unwind)]
  pub fn new(mut io: Float64Array, options: NativeLeakOptions) -> napi::Result<Self> {
    if io.len() < leak_events::LENGTH {
      return Err(internal("the event log's buffer is too small"));
    }
    let sites = if options.sites == "all" {
      Sites::All
    } else {
      Sites::Auto
    };
    let stacks = match options.stacks.as_str() {
      "off" => Stacks::Off,
      "all" => Stacks::All,
      _ => Stacks::Sample(options.sample_rate),
    };
    let now = now_ms();
    let mut sampler = SiteSampler::new(sites, stacks, options.seed.to_bits(), now);
    // SAFETY: see `replay`; no JS runs during this call.
    let slots = unsafe { io.as_mut() };
    slots[TOKENS] = BURST;
    leak_events::refill(slots, &mut sampler, now, 0.0);
    Ok(NativeLeakRegistry {
      io,
      table: LeakTable::new(&PROCESS),
      sampler,
      stacks: StackFilter {
        own_files: options.own_files,
      },
      pending: Vec::new(),
      log: None,
      origin: Arc::new(Origin {
        pid: std::process::id(),
        thread_id: options.thread_id as u64,
        registry: options.name_json.map(String::into_boxed_str),
      }),
      max_touches: options.max_touches as usize,
      closed: false,
      gc_mark: ptr::null_mut(),
      env: ptr::null_mut(),
    })
  }

  /// Marks this moment, for `gcSinceMark()`.
  #[napi(catch_unwind)]
  pub fn mark_gc(&mut self, env: Env) -> napi::Result<()> {
    self.delete_gc_mark();
    let (mut object, mut reference) = (ptr::null_mut(), ptr::null_mut());
    // SAFETY: a valid env for this call; out pointers are locals and fields. The reference is
    // weak (count 0), so it holds nothing; it is deleted in `delete_gc_mark`.
    unsafe {
      napi::check_status!(sys::napi_create_object(env.raw(), &mut object))?;
      napi::check_status!(sys::napi_create_reference(
        env.raw(),
        object,
        0,
        &mut reference
      ))?;
    }
    self.gc_mark = reference;
    self.env = env.raw();
    Ok(())
  }

  /// Whether the garbage collector ran since `markGc()` (the marked object is gone). True
  /// without a mark.
  #[napi(catch_unwind)]
  pub fn gc_since_mark(&self) -> bool {
    if self.gc_mark.is_null() {
      return true;
    }
    let mut value = ptr::null_mut();
    // SAFETY: `gc_mark` is a live reference made in `mark_gc` with `env`, on this thread.
    let status = unsafe { sys::napi_get_reference_value(self.env, self.gc_mark, &mut value) };
    status != sys::Status::napi_ok || value.is_null()
  }

  /// Opens the JSON-lines log (`'stderr'` or a file path); the error's text when it cannot.
  #[napi(catch_unwind)]
  pub fn open_log(&mut self, destination: String) -> Option<String> {
    match LeakLog::open(&destination) {
      Ok(log) => {
        self.log = Some(log);
        None
      }
      Err(error) => Some(error.to_string()),
    }
  }

  /// Names a type (a JSON string literal); returns its id (the same id for the same name).
  #[napi(catch_unwind)]
  pub fn define_type(&mut self, json: String) -> u32 {
    self.table.intern_type(&json)
  }

  /// Names a site (a JSON string literal of `file:line`); returns its id.
  #[napi(catch_unwind)]
  pub fn define_site(&mut self, json: String) -> u32 {
    self.table.intern_site(&json)
  }

  /// The JSON text of a site named while replaying a stack (JS did not name it).
  #[napi(catch_unwind)]
  pub fn site_text(&self, id: u32) -> Option<String> {
    self.table.site_json(id).map(str::to_string)
  }

  /// Replays the first `tracks` tracks, `events` events, `texts` texts of the tracks and `hints`
  /// hints of the events of the log (`text_units` and `hint_units`: their concatenations) and
  /// refills the header. Returns whether reports wait for a delivery.
  #[napi(catch_unwind)]
  pub fn replay(
    &mut self,
    tracks: u32,
    events: u32,
    texts: u32,
    hints: u32,
    text_units: Utf16String,
    hint_units: Utf16String,
  ) -> napi::Result<bool> {
    if self.closed {
      return Ok(false);
    }
    let filled = Filled {
      tracks: tracks as usize,
      events: events as usize,
      texts: texts as usize,
      hints: hints as usize,
    };
    let context = ReplayContext {
      stacks: &self.stacks,
      site_weight: self.sampler.weight(),
      max_touches: self.max_touches,
      now: now_ms(),
    };
    // SAFETY: the buffer is JS's, but JS writes it only between calls into this module, and
    // this runs on the JS thread inside such a call: nothing else touches it meanwhile.
    let io = unsafe { self.io.as_mut() };
    leak_events::replay(
      io,
      filled,
      &text_units,
      &hint_units,
      &mut self.table,
      &mut self.sampler,
      &context,
      &mut self.pending,
    )
    .map_err(|error| internal(error.0))?;
    Ok(!self.pending.is_empty())
  }

  /// Marks the records held past their deadline as suspected (their reports go out with the next
  /// delivery); says when the next deadline is and which records it suspected.
  #[napi(catch_unwind)]
  pub fn due(&mut self) -> NativeDue {
    if self.closed {
      return NativeDue {
        next: -1.0,
        suspected: Vec::new(),
      };
    }
    let reports = self.table.due(now_ms());
    let suspected = reports.iter().map(|report| report.seq as f64).collect();
    self.pending.extend(reports);
    NativeDue {
      next: self.table.next_deadline().unwrap_or(-1.0),
      suspected,
    }
  }

  /// The reports made since the last delivery: their lines go to the log (formatted on its
  /// writer thread), and with `want_batch` they come back for `onLeak` and the channel. None
  /// when there are none.
  #[napi(catch_unwind)]
  pub fn deliver(&mut self, want_batch: bool) -> Option<NativeDelivery> {
    if self.pending.is_empty() || self.closed {
      return None;
    }
    let reports = std::mem::take(&mut self.pending);
    let count = reports.len() as u32;
    let batch = want_batch.then(|| ReportBatch::of(&reports));
    if let Some(log) = &self.log {
      let origin = self.origin.clone();
      log.write(reports.len(), move |out, kept| {
        for report in reports.iter().take(kept) {
          report.write_json_line(&origin, out);
          out.push('\n');
        }
      });
    }
    Some(match batch {
      Some(batch) => NativeDelivery {
        count,
        numbers: Some(Float64Array::new(batch.numbers)),
        values: Some(batch.values),
      },
      None => NativeDelivery {
        count,
        numbers: None,
        values: None,
      },
    })
  }

  /// `stats()` as JSON (type names are JSON texts; see src/core/leak_report.rs). Still readable
  /// after `close()`.
  #[napi(catch_unwind)]
  pub fn stats(&self) -> String {
    let dropped = self.log.as_ref().map_or(0, |log| log.counters().dropped());
    stats_json(&self.table.stats(), dropped)
  }

  /// Waits (at most 2 s) until the log writer has written what this registry queued.
  #[napi(catch_unwind)]
  pub fn flush_log(&self) {
    if let Some(log) = &self.log {
      log.flush(LOG_FLUSH_LIMIT);
    }
  }

  /// The first error the log writer met for this registry, once (for one warning).
  #[napi(catch_unwind)]
  pub fn log_failure(&self) -> Option<String> {
    self
      .log
      .as_ref()
      .and_then(|log| log.counters().take_failure())
  }

  /// Reopens the log file at its path (after log rotation), for every registry of the process
  /// that logs there; the error's text when it cannot.
  #[napi(catch_unwind)]
  pub fn reopen_log(&self) -> Option<String> {
    let log = self.log.as_ref()?;
    log.reopen().err().map(|error| error.to_string())
  }

  /// What is still tracked, as a JSON array (see src/core/leak_report.rs `open_json`).
  #[napi(catch_unwind)]
  pub fn open(&self) -> String {
    open_json(&self.table.open(), now_ms())
  }

  /// The exit inventory grouped by site ('' when nothing is open).
  #[napi(catch_unwind)]
  pub fn exit_inventory(&self) -> String {
    exit_inventory(&self.table.open(), now_ms(), &self.origin)
  }

  /// Delivers what is pending (as `deliver`), then stops tracking everything and writes out the
  /// log (waiting at most 2 s). Idempotent.
  #[napi(catch_unwind)]
  pub fn close(&mut self, want_batch: bool) -> Option<NativeDelivery> {
    if self.closed {
      return None;
    }
    let delivered = self.deliver(want_batch);
    self.closed = true;
    self.table.forget_all();
    if let Some(log) = &self.log {
      log.flush(LOG_FLUSH_LIMIT);
    }
    delivered
  }
}

impl NativeLeakRegistry {
  fn delete_gc_mark(&mut self) {
    if !self.gc_mark.is_null() {
      // SAFETY: made in `mark_gc` with `env`; deleted once (the field is cleared at once), on
      // the JS thread (methods and the class finalizer run there).
      unsafe { sys::napi_delete_reference(self.env, self.gc_mark) };
      self.gc_mark = ptr::null_mut();
    }
  }
}

impl Drop for NativeLeakRegistry {
  fn drop(&mut self) {
    self.delete_gc_mark();
    // Dropped on the JS thread (when its JS object is collected, or at worker termination and
    // process exit): the resources it still tracks are gone from the counts, and what its log
    // queued is written first.
    if !self.closed {
      self.table.forget_all();
      if let Some(log) = &self.log {
        log.flush(LOG_FLUSH_LIMIT);
      }
    }
  }
}

/// The event log's numbers (src/core/leak_events.rs), read by lib/leak-events.js at load.
#[napi(catch_unwind)]
pub fn leak_protocol() -> HashMap<String, f64> {
  leak_events::numbers()
    .into_iter()
    .map(|(name, value)| (name.to_string(), value))
    .collect()
}

/// Counts of every registry in the process, worker threads included, as JSON.
#[napi(catch_unwind)]
pub fn leak_process_totals() -> String {
  counts_to_json(&PROCESS.snapshot())
}

/// Waits, at most `milliseconds` in all, until every log destination of the process has written
/// what is queued (for `process.exit()`, which skips teardown).
#[napi(catch_unwind)]
pub fn leak_flush_logs(milliseconds: f64) {
  flush_all(Duration::from_secs_f64(
    milliseconds.clamp(0.0, 60_000.0) / 1000.0,
  ));
}
