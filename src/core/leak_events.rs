//! The event log between lib/leak-registry.js and the leak table: its one definition.
//!
//! A `track()` or `release()` makes no native call. JS appends what happened to a log in memory
//! shared with Rust (the `io` buffer, a `Float64Array` JS makes and Rust keeps), and Rust replays
//! it into the table at its next call: any call that reads the table (`stats`, `open`, a
//! delivery, the deadline check), and when a section of the log is full. WeakCache's read log
//! (cache_protocol.rs) works the same way. JS reads every number below from `leakProtocol()` at
//! load, and a spec round-trips every event kind through both sides.
//!
//! # Who holds what
//! - **JS** holds the resources weakly: a `WeakMap` resource -> record id (for `release`,
//!   `touch`, `isTracked`) and one `FinalizationRegistry` per registry (held value: the record id;
//!   unregister token: the resource), whose callback appends a `COLLECTED` event. It hands out the
//!   ids (from 1, in order, never reused), the type and site ids (defined with a native call the
//!   first time, then by number), keeps the live count that keeps a registry alive while it
//!   tracks something, and knows which records were reported as suspected.
//! - **Rust** holds the records, deadlines, counts, touches, the sampling policy (site_sampler.rs)
//!   and the reports; it never holds a resource.
//!
//! # The io buffer (`f64` slots)
//! - Header (`HEADER` slots): `TOKENS` and `REFILL_AT` (the site bucket: JS spends the tokens and
//!   asks for more once `now >= REFILL_AT`), `SITE_WEIGHT`, `SITE_GAPS` and `STACK_GAPS` (`GAPS`
//!   gaps each, see site_sampler.rs), written by Rust at every replay. JS writes back the tokens
//!   it has left before each call.
//! - Tracks (`TRACKS`, `TRACK_CAPACITY` entries of `TRACK_STRIDE` slots): record id `first + i`,
//!   `[type id + flags * FLAG_SHIFT, site id (or NO_SITE), trackedAt, suspectAfter (0: never),
//!   JS's own mark]`. Flags: `INFO`, `CONTEXT`, `STACK` (which texts it has, in that order),
//!   `SAMPLED` (the site stands for `SITE_WEIGHT` resources) and `RELEASED`: the resource was
//!   released before its track was replayed (JS marks the slot at `release()` and sets the flag
//!   before the replay); the pair then only counts, and its texts are not sent.
//! - Events (`EVENTS`, `EVENT_CAPACITY` entries of `EVENT_STRIDE` slots), in the order they
//!   happened: `[RELEASE, id, at (0: not read), -]`, `[COLLECTED, id, at, -]`,
//!   `[TOUCH | TOUCH_HINT, id, site id, at]` (a hint is one text).
//! - Text lengths: the UTF-16 length of each text of the tracks (`TEXTS`, `TEXT_CAPACITY` slots)
//!   and of each hint of the events (`HINTS`, `EVENT_CAPACITY` slots), in order. The texts
//!   themselves arrive with the call as two strings, the concatenations. `info` and `context` are
//!   JSON made by `JSON.stringify`; a stack (V8's format, unfiltered) and a hint are raw
//!   (leak_texts.rs filters and escapes them here, off the hot path).
//!
//! Tracks are replayed before events: an event always names a record tracked before it, in this
//! log or an earlier one, and a release that finds its track still in the log sets `RELEASED`
//! instead of appending an event.

use super::leak_model::{Identity, RecordId, Report, SiteId, Text, Touch, TypeId};
use super::leak_table::{LeakTable, Tracked, UnknownId};
use super::leak_texts::{json_string, StackFilter};
use super::site_sampler::SiteSampler;
use std::sync::Arc;

pub const HEADER: usize = 64;
pub const TOKENS: usize = 0;
pub const REFILL_AT: usize = 1;
pub const SITE_WEIGHT: usize = 2;
pub const GAPS: usize = 24;
pub const SITE_GAPS: usize = 8;
pub const STACK_GAPS: usize = SITE_GAPS + GAPS;

pub const TRACK_STRIDE: usize = 5;
pub const TRACK_CAPACITY: usize = 256;
pub const TRACKS: usize = HEADER;
pub const EVENT_STRIDE: usize = 4;
pub const EVENT_CAPACITY: usize = 256;
pub const EVENTS: usize = TRACKS + TRACK_STRIDE * TRACK_CAPACITY;
pub const TEXT_CAPACITY: usize = 3 * TRACK_CAPACITY;
pub const TEXTS: usize = EVENTS + EVENT_STRIDE * EVENT_CAPACITY;
pub const HINTS: usize = TEXTS + TEXT_CAPACITY;
/// Slots of the whole buffer.
pub const LENGTH: usize = HINTS + EVENT_CAPACITY;

/// Type ids stay below this; flags are multiples of it.
pub const FLAG_SHIFT: f64 = 16_777_216.0;
pub const INFO: u64 = 1;
pub const CONTEXT: u64 = 2;
pub const STACK: u64 = 4;
pub const SAMPLED: u64 = 8;
pub const RELEASED: u64 = 16;
/// The site slot of a track whose site comes from its stack.
pub const NO_SITE: f64 = -1.0;

pub const RELEASE: f64 = 1.0;
pub const COLLECTED: f64 = 2.0;
pub const TOUCH: f64 = 3.0;
pub const TOUCH_HINT: f64 = 4.0;

// The sections follow each other, and the header holds both lists of gaps.
const _: () = assert!(HINTS + EVENT_CAPACITY == LENGTH && STACK_GAPS + GAPS <= HEADER);

/// Every number above by name, for `leakProtocol()`.
pub fn numbers() -> Vec<(&'static str, f64)> {
  let counts = [
    ("HEADER", HEADER),
    ("TOKENS", TOKENS),
    ("REFILL_AT", REFILL_AT),
    ("SITE_WEIGHT", SITE_WEIGHT),
    ("GAPS", GAPS),
    ("SITE_GAPS", SITE_GAPS),
    ("STACK_GAPS", STACK_GAPS),
    ("TRACK_STRIDE", TRACK_STRIDE),
    ("TRACK_CAPACITY", TRACK_CAPACITY),
    ("TRACKS", TRACKS),
    ("EVENT_STRIDE", EVENT_STRIDE),
    ("EVENT_CAPACITY", EVENT_CAPACITY),
    ("EVENTS", EVENTS),
    ("TEXT_CAPACITY", TEXT_CAPACITY),
    ("TEXTS", TEXTS),
    ("HINTS", HINTS),
    ("LENGTH", LENGTH),
  ];
  let flags = [
    ("INFO", INFO),
    ("CONTEXT", CONTEXT),
    ("STACK", STACK),
    ("SAMPLED", SAMPLED),
    ("RELEASED", RELEASED),
  ];
  let mut all: Vec<_> = counts.iter().map(|(name, n)| (*name, *n as f64)).collect();
  all.extend(flags.iter().map(|(name, n)| (*name, *n as f64)));
  all.extend([
    ("FLAG_SHIFT", FLAG_SHIFT),
    ("NO_SITE", NO_SITE),
    ("RELEASE", RELEASE),
    ("COLLECTED", COLLECTED),
    ("TOUCH", TOUCH),
    ("TOUCH_HINT", TOUCH_HINT),
  ]);
  all
}

/// How far JS filled the log before a call.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Filled {
  pub tracks: usize,
  pub events: usize,
  pub texts: usize,
  pub hints: usize,
}

/// The log does not follow this protocol: a bug in ephemeron, never the user's doing.
#[derive(Debug, PartialEq)]
pub struct ProtocolError(pub String);

impl From<UnknownId> for ProtocolError {
  fn from(_: UnknownId) -> Self {
    ProtocolError("an id the table did not hand out or expect".into())
  }
}

/// What replaying needs besides the log: how to read stacks, what a sampled site stands for,
/// how many touches to keep, and the time to use where JS did not read the clock.
pub struct ReplayContext<'a> {
  pub stacks: &'a StackFilter,
  pub site_weight: u32,
  pub max_touches: usize,
  pub now: f64,
}

/// The texts of one replay, taken in order.
struct Texts<'a> {
  lengths: &'a [f64],
  units: &'a [u16],
  next: usize,
  at: usize,
  /// `units` as one string when they are all ASCII (the usual case: JSON.stringify writes ASCII
  /// unless the values hold other characters), which the records' JSON texts share.
  ascii: Option<Arc<String>>,
}

impl<'a> Texts<'a> {
  fn take(&mut self) -> Result<&'a [u16], ProtocolError> {
    let length = *self
      .lengths
      .get(self.next)
      .ok_or_else(|| ProtocolError("more texts named than sent".into()))? as usize;
    let end = self.at + length;
    let text = self
      .units
      .get(self.at..end)
      .ok_or_else(|| ProtocolError("a text runs past the texts sent".into()))?;
    self.next += 1;
    self.at = end;
    Ok(text)
  }

  fn json(&mut self) -> Result<Text, ProtocolError> {
    let start = self.at;
    let units = self.take()?;
    if let Some(ascii) = &self.ascii {
      return Ok(Text::shared(ascii, start..self.at));
    }
    String::from_utf16(units)
      .map(Text::from)
      .map_err(|_| ProtocolError("JSON text that is not well-formed UTF-16".into()))
  }
}

/// `units` as a string if they are all ASCII, narrowed in one pass: several times cheaper than
/// decoding them, and one allocation for all the records of a replay.
fn ascii(units: &[u16]) -> Option<Arc<String>> {
  if units.iter().fold(0, |all, unit| all | unit) >= 0x80 {
    return None;
  }
  let bytes: Vec<u8> = units.iter().map(|unit| *unit as u8).collect();
  String::from_utf8(bytes).ok().map(Arc::new)
}

/// Replays the filled part of `io` into `table`, with `texts` and `hints` the concatenated texts
/// of the tracks and of the events; the reports the events made (leaks, releases of suspected
/// resources) are appended to `reports`. Then refills the header (site_sampler.rs).
#[allow(clippy::too_many_arguments)]
pub fn replay(
  io: &mut [f64],
  filled: Filled,
  texts: &[u16],
  hints: &[u16],
  table: &mut LeakTable,
  sampler: &mut SiteSampler,
  context: &ReplayContext<'_>,
  reports: &mut Vec<Report>,
) -> Result<(), ProtocolError> {
  if io.len() < LENGTH
    || filled.tracks > TRACK_CAPACITY
    || filled.events > EVENT_CAPACITY
    || filled.texts > TEXT_CAPACITY
    || filled.hints > EVENT_CAPACITY
  {
    return Err(ProtocolError("the log is larger than its buffer".into()));
  }
  // A record must not keep a string that holds raw stacks (large, and kept filtered apart): a
  // replay that carries one decodes each text on its own.
  let stacked = (0..filled.tracks).any(|index| {
    let flags = io[TRACKS + index * TRACK_STRIDE] as u64 / FLAG_SHIFT as u64;
    flags & (STACK | RELEASED) == STACK
  });
  let mut track_texts = Texts {
    lengths: &io[TEXTS..TEXTS + filled.texts],
    units: texts,
    next: 0,
    at: 0,
    ascii: if stacked { None } else { ascii(texts) },
  };
  let mut hint_texts = Texts {
    lengths: &io[HINTS..HINTS + filled.hints],
    units: hints,
    next: 0,
    at: 0,
    ascii: None,
  };
  let first = table.next_id();
  for index in 0..filled.tracks {
    let slot = &io[TRACKS + index * TRACK_STRIDE..][..TRACK_STRIDE];
    replay_track(
      first + index as RecordId,
      slot,
      &mut track_texts,
      table,
      context,
    )?;
  }
  for index in 0..filled.events {
    let slot = &io[EVENTS + index * EVENT_STRIDE..][..EVENT_STRIDE];
    replay_event(slot, &mut hint_texts, table, context, reports)?;
  }
  for (taken, filled, sent) in [
    (&track_texts, filled.texts, texts),
    (&hint_texts, filled.hints, hints),
  ] {
    if taken.next != filled || taken.at != sent.len() {
      return Err(ProtocolError("texts sent that no entry named".into()));
    }
  }
  table.publish();
  refill(io, sampler, context.now, filled.tracks as f64);
  Ok(())
}

/// Writes the sampler's numbers into the header, keeping the tokens JS has left; `tracks`: how
/// many tracks JS made since the last refill.
pub fn refill(io: &mut [f64], sampler: &mut SiteSampler, now: f64, tracks: f64) {
  let (tokens, refill_at) = sampler.refill(io[TOKENS], now, tracks);
  io[TOKENS] = tokens;
  io[REFILL_AT] = refill_at;
  io[SITE_WEIGHT] = f64::from(sampler.weight());
  for slot in &mut io[SITE_GAPS..SITE_GAPS + GAPS] {
    *slot = sampler.site_gap();
  }
  for slot in &mut io[STACK_GAPS..STACK_GAPS + GAPS] {
    *slot = sampler.stack_gap();
  }
}

fn replay_track(
  id: RecordId,
  slot: &[f64],
  texts: &mut Texts<'_>,
  table: &mut LeakTable,
  context: &ReplayContext<'_>,
) -> Result<(), ProtocolError> {
  let packed = slot[0] as u64;
  let type_id = (packed % FLAG_SHIFT as u64) as TypeId;
  let flags = packed / FLAG_SHIFT as u64;
  let has = |flag: u64| flags & flag != 0;
  if has(RELEASED) {
    return Ok(table.track_released(id, type_id)?);
  }
  let info = if has(INFO) { Some(texts.json()?) } else { None };
  let context_json = if has(CONTEXT) {
    Some(texts.json()?)
  } else {
    None
  };
  let mut site_id = slot[1];
  let stack = if has(STACK) {
    let (stack, site) = context.stacks.stack_and_site(texts.take()?);
    if site_id < 0.0 {
      let text = site.map_or_else(
        || UNKNOWN_SITE.to_string(),
        |site| json_string(&site.encode_utf16().collect::<Vec<_>>()),
      );
      site_id = f64::from(table.intern_site(&text));
    }
    Some(stack.into_boxed_str())
  } else {
    None
  };
  if site_id < 0.0 {
    site_id = f64::from(table.intern_site(UNKNOWN_SITE));
  }
  let identity = (info.is_some() || context_json.is_some()).then(|| {
    let info = info.unwrap_or_else(|| Text::from("null"));
    Identity {
      info,
      context: context_json,
    }
  });
  let tracked = Tracked {
    type_id,
    site_id: site_id as SiteId,
    site_weight: if has(SAMPLED) { context.site_weight } else { 1 },
    at: slot[2],
    identity,
    stack,
    suspect_after: (slot[3] > 0.0).then_some(slot[3]),
  };
  Ok(table.track(id, tracked)?)
}

/// The site of a resource whose stack names none of the user's frames.
pub const UNKNOWN_SITE: &str = r#""<unknown>""#;

fn replay_event(
  slot: &[f64],
  texts: &mut Texts<'_>,
  table: &mut LeakTable,
  context: &ReplayContext<'_>,
  reports: &mut Vec<Report>,
) -> Result<(), ProtocolError> {
  let id = slot[1] as RecordId;
  let at = if slot[2] > 0.0 { slot[2] } else { context.now };
  match slot[0] {
    RELEASE => {
      // None: released twice or never tracked, which JS already answered with false.
      if let Some(Some(report)) = table.release(id, at) {
        reports.push(report);
      }
    }
    COLLECTED => {
      if let Some(report) = table.collect(id, at) {
        reports.push(report);
      }
    }
    kind @ (TOUCH | TOUCH_HINT) => {
      let hint = if kind == TOUCH_HINT {
        Some(json_string(texts.take()?).into_boxed_str())
      } else {
        None
      };
      let touch = Touch {
        site: slot[2] as SiteId,
        at: if slot[3] > 0.0 { slot[3] } else { context.now },
        hint,
      };
      table.touch(id, touch, context.max_touches)?;
    }
    other => return Err(ProtocolError(format!("unknown event kind {other}"))),
  }
  Ok(())
}

#[cfg(test)]
mod tests {
  use super::*;
  use crate::core::leak_model::ReportKind;
  use crate::core::process_totals::Totals;
  use crate::core::site_sampler::{Sites, Stacks};

  /// A JS side in miniature: fills the log as lib/leak-registry.js does.
  struct Log {
    io: Vec<f64>,
    filled: Filled,
    texts: Vec<u16>,
    hints: Vec<u16>,
  }

  impl Log {
    fn new() -> Self {
      Log {
        io: vec![0.0; LENGTH],
        filled: Filled::default(),
        texts: Vec::new(),
        hints: Vec::new(),
      }
    }

    fn hint(&mut self, text: &str) {
      let units: Vec<u16> = text.encode_utf16().collect();
      self.io[HINTS + self.filled.hints] = units.len() as f64;
      self.filled.hints += 1;
      self.hints.extend(units);
    }

    fn text(&mut self, text: &str) {
      let units: Vec<u16> = text.encode_utf16().collect();
      self.io[TEXTS + self.filled.texts] = units.len() as f64;
      self.filled.texts += 1;
      self.texts.extend(units);
    }

    fn track(
      &mut self,
      type_id: u32,
      site: f64,
      flags: u64,
      at: f64,
      suspect_after: f64,
      texts: &[&str],
    ) -> usize {
      let index = self.filled.tracks;
      let slot = TRACKS + index * TRACK_STRIDE;
      self.io[slot] = f64::from(type_id) + flags as f64 * FLAG_SHIFT;
      self.io[slot + 1] = site;
      self.io[slot + 2] = at;
      self.io[slot + 3] = suspect_after;
      for text in texts {
        self.text(text);
      }
      self.filled.tracks += 1;
      index
    }

    fn event(&mut self, kind: f64, id: u64, a: f64, b: f64) {
      let slot = EVENTS + self.filled.events * EVENT_STRIDE;
      self.io[slot..slot + 4].copy_from_slice(&[kind, id as f64, a, b]);
      self.filled.events += 1;
    }

    fn replay(&mut self, table: &mut LeakTable, now: f64) -> Result<Vec<Report>, ProtocolError> {
      let filter = StackFilter {
        own_files: "/lib/".into(),
      };
      let context = ReplayContext {
        stacks: &filter,
        site_weight: 14,
        max_touches: 4,
        now,
      };
      let mut sampler = SiteSampler::new(Sites::Auto, Stacks::Off, 1, 0.0);
      let mut reports = Vec::new();
      let result = replay(
        &mut self.io,
        self.filled,
        &self.texts,
        &self.hints,
        table,
        &mut sampler,
        &context,
        &mut reports,
      );
      self.filled = Filled::default();
      self.texts.clear();
      self.hints.clear();
      result.map(|()| reports)
    }
  }

  fn table() -> LeakTable {
    LeakTable::new(Box::leak(Box::new(Totals::new())))
  }

  #[test]
  fn tracks_events_and_texts_replay_into_reports() {
    let mut t = table();
    let (ty, site) = (
      t.intern_type(r#""Conn""#),
      t.intern_site(r#""/app/a.js:3""#),
    );
    let mut log = Log::new();
    log.track(
      ty,
      f64::from(site),
      INFO | CONTEXT,
      100.0,
      0.0,
      &[
        r#"{"type":"Conn","id":"c-1","label":"db"}"#,
        r#"{"request":"r-9"}"#,
      ],
    );
    log.track(ty, f64::from(site), SAMPLED, 110.0, 0.0, &[]);
    log.track(ty, f64::from(site), 0, 120.0, 50.0, &[]);
    log.event(TOUCH_HINT, 1, f64::from(site), 130.0);
    log.hint("a \"hint\"\n");
    log.track(
      ty,
      f64::from(site),
      INFO,
      140.0,
      0.0,
      &[r#"{"id":"after the hint"}"#],
    );
    log.event(COLLECTED, 4, 150.0, 0.0);
    log.event(COLLECTED, 1, 200.0, 0.0);
    log.event(COLLECTED, 2, 0.0, 0.0);
    log.event(RELEASE, 3, 0.0, 0.0);
    log.event(COLLECTED, 3, 0.0, 0.0);
    let reports = log.replay(&mut t, 300.0).unwrap();
    assert_eq!(
      reports.len(),
      3,
      "three leaks; the released one is neither reported nor leaked"
    );
    assert_eq!(
      reports.iter().map(|r| r.seq).collect::<Vec<_>>(),
      [4, 1, 2],
      "in the order of the events"
    );
    assert_eq!(
      reports[0].identity.as_ref().unwrap().id(),
      Some(r#""after the hint""#),
      "a track's texts and the hints are two streams: their order between them does not matter"
    );
    let first = &reports[1];
    assert_eq!(
      (first.kind, first.seq, first.tracked_at, first.at),
      (ReportKind::Leaked, 1, 100.0, 200.0)
    );
    let identity = first.identity.as_ref().unwrap();
    assert_eq!(
      (identity.id(), identity.label()),
      (Some(r#""c-1""#), Some(r#""db""#))
    );
    assert_eq!(identity.context.as_deref(), Some(r#"{"request":"r-9"}"#));
    let (touches, _) = first.touches.as_ref().unwrap();
    assert_eq!(
      touches[0].hint.as_deref(),
      Some(r#""a \"hint\"\n""#),
      "a raw hint is escaped"
    );
    assert_eq!(first.count, 2, "the second leak from that site");
    let second = &reports[2];
    assert_eq!(
      (second.seq, second.at, second.count, second.count_estimated),
      (2, 300.0, 16, true),
      "a time JS did not read is the replay's; a sampled site weighs 14"
    );
    assert_eq!(t.stats().totals.released, 1);
    assert_eq!(t.next_id(), 5);
  }

  #[test]
  fn a_track_released_in_the_log_only_counts_and_sends_no_texts() {
    let mut t = table();
    let (ty, site) = (t.intern_type(r#""T""#), t.intern_site(r#""s""#));
    let mut log = Log::new();
    log.track(ty, f64::from(site), INFO | RELEASED, 1.0, 60_000.0, &[]);
    log.track(ty, f64::from(site), INFO, 2.0, 0.0, &[r#"{"id":2}"#]);
    log.event(COLLECTED, 2, 3.0, 0.0);
    let reports = log.replay(&mut t, 5.0).unwrap();
    assert_eq!(reports.len(), 1);
    assert_eq!(
      reports[0].identity.as_ref().unwrap().id(),
      Some("2"),
      "texts stay in step"
    );
    assert_eq!(t.next_deadline(), None, "a released track sets no deadline");
    assert_eq!(
      (t.stats().totals.tracked, t.stats().totals.released),
      (2, 1)
    );
  }

  #[test]
  fn texts_that_are_not_all_ascii_are_decoded() {
    let mut t = table();
    let (ty, site) = (t.intern_type(r#""T""#), t.intern_site(r#""s""#));
    let mut log = Log::new();
    log.track(ty, f64::from(site), INFO, 1.0, 0.0, &[r#"{"id":"a"}"#]);
    log.track(
      ty,
      f64::from(site),
      INFO | CONTEXT,
      1.0,
      0.0,
      &[r#"{"id":"café 🐘"}"#, "1"],
    );
    log.event(COLLECTED, 1, 2.0, 0.0);
    log.event(COLLECTED, 2, 2.0, 0.0);
    let reports = log.replay(&mut t, 5.0).unwrap();
    let ids: Vec<_> = reports
      .iter()
      .map(|r| r.identity.as_ref().unwrap().id())
      .collect();
    assert_eq!(ids, [Some(r#""a""#), Some(r#""café 🐘""#)]);
    assert_eq!(
      reports[1].identity.as_ref().unwrap().context.as_deref(),
      Some("1")
    );
  }

  #[test]
  fn the_records_of_a_replay_share_its_texts_unless_it_carries_a_stack() {
    let mut t = table();
    let (ty, site) = (t.intern_type(r#""T""#), t.intern_site(r#""s""#));
    let mut log = Log::new();
    log.track(ty, f64::from(site), INFO, 1.0, 0.0, &[r#"{"id":1}"#]);
    log.track(ty, f64::from(site), INFO, 1.0, 0.0, &[r#"{"id":2}"#]);
    log.track(ty, NO_SITE, STACK | RELEASED, 1.0, 0.0, &[]);
    log.event(COLLECTED, 1, 2.0, 0.0);
    let shared = log.replay(&mut t, 5.0).unwrap();
    assert_eq!(
      shared[0].identity.as_ref().unwrap().info.chunk_len(),
      16,
      "both texts in one string (a released track sends no stack)"
    );
    let mut log = Log::new();
    log.track(ty, f64::from(site), INFO, 1.0, 0.0, &[r#"{"id":4}"#]);
    log.track(
      ty,
      NO_SITE,
      STACK,
      1.0,
      0.0,
      &["Error\n    at f (/app/a.js:1:1)"],
    );
    log.event(COLLECTED, 4, 2.0, 0.0);
    let own = log.replay(&mut t, 5.0).unwrap();
    assert_eq!(&*own[0].identity.as_ref().unwrap().info, r#"{"id":4}"#);
    assert_eq!(
      own[0].identity.as_ref().unwrap().info.chunk_len(),
      8,
      "its own text, not the stack's string"
    );
  }

  #[test]
  fn a_stack_names_the_site_when_js_did_not() {
    let mut t = table();
    let ty = t.intern_type(r#""T""#);
    let mut log = Log::new();
    log.track(
      ty,
      NO_SITE,
      STACK,
      1.0,
      0.0,
      &["Error\n    at open (/app/files.js:9:3)\n    at node:internal/x:1:1"],
    );
    log.track(
      ty,
      NO_SITE,
      STACK,
      1.0,
      0.0,
      &["Error\n    at /lib/leak-registry.js:1:1"],
    );
    log.event(COLLECTED, 1, 2.0, 0.0);
    log.event(COLLECTED, 2, 2.0, 0.0);
    let reports = log.replay(&mut t, 5.0).unwrap();
    assert_eq!(&*reports[0].site, r#""/app/files.js:9""#);
    assert_eq!(
      reports[0].stack.as_deref(),
      Some(r#""    at open (/app/files.js:9:3)""#)
    );
    assert_eq!(&*reports[1].site, UNKNOWN_SITE);
  }

  #[test]
  fn a_log_that_breaks_the_protocol_is_an_error() {
    let mut t = table();
    let (ty, site) = (t.intern_type(r#""T""#), t.intern_site(r#""s""#));
    let mut log = Log::new();
    log.track(ty, f64::from(site), INFO, 1.0, 0.0, &[]);
    assert!(
      log.replay(&mut t, 1.0).is_err(),
      "a text named but not sent"
    );
    let mut log = Log::new();
    log.track(ty, 99.0, 0, 1.0, 0.0, &[]);
    assert!(log.replay(&mut t, 1.0).is_err(), "an unknown site");
    let mut log = Log::new();
    log.event(9.0, 1, 0.0, 0.0);
    assert!(log.replay(&mut t, 1.0).is_err(), "an unknown kind");
    let mut log = Log::new();
    log.text("unnamed");
    assert!(log.replay(&mut t, 1.0).is_err(), "a text no entry named");
    let mut log = Log::new();
    log.hint("unnamed");
    assert!(log.replay(&mut t, 1.0).is_err(), "a hint no event named");
  }

  #[test]
  fn replay_refills_the_header() {
    let mut t = table();
    let mut log = Log::new();
    log.replay(&mut t, 0.0).unwrap();
    assert_eq!(log.io[SITE_WEIGHT], 14.0);
    assert!(log.io[SITE_GAPS..SITE_GAPS + GAPS]
      .iter()
      .all(|gap| *gap >= 1.0));
    assert_eq!(log.io[TOKENS], 0.0, "JS had none left; no time passed");
  }

  #[test]
  fn every_number_has_one_name() {
    let numbers = numbers();
    let mut names: Vec<_> = numbers.iter().map(|(name, _)| *name).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), numbers.len());
  }
}
