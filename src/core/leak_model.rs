//! The leak registry's vocabulary: ids, counts, and what a report and an inventory entry hold.
//! It imports only leak_texts.rs (which imports nothing of the crate), so that the table
//! (leak_table.rs), the event log (leak_events.rs), the touch records (touch_log.rs) and the
//! formatting (leak_report.rs) can all use it without importing each other.
//!
//! Every string that came from JS (type names, sites, `info`, `context`, stacks, hints) is kept as
//! JSON text, never decoded: a lone surrogate stays an escape and any nesting depth passes through.

use super::leak_texts::top_level_field;
use std::fmt;
use std::ops::{Deref, Range};
use std::sync::Arc;

/// A tracked resource's id. JS hands them out in order, from 1, and never reuses one.
pub type RecordId = u64;
/// An interned type name (JS hands them out in order, from 0).
pub type TypeId = u32;
/// An interned `file:line` site (JS hands them out in order, from 0).
pub type SiteId = u32;

/// Why a report was made. The discriminant indexes per-kind counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportKind {
  /// Collected without `release()`.
  Leaked = 0,
  /// Still tracked `suspectAfter` milliseconds after `track()`.
  Suspected = 1,
  /// A suspected resource that was released after all.
  Released = 2,
}

impl ReportKind {
  /// The kind as a JSON string literal.
  pub fn json(self) -> &'static str {
    match self {
      ReportKind::Leaked => r#""leaked""#,
      ReportKind::Suspected => r#""suspected""#,
      ReportKind::Released => r#""released""#,
    }
  }
}

/// A text from JS: a range of the texts of one replay, shared by the records it tracked (so a
/// record costs no allocation of its own), or a text of its own.
#[derive(Clone)]
pub struct Text {
  chunk: Arc<String>,
  start: u32,
  end: u32,
}

impl Text {
  /// `range` of `chunk`, which must lie on character boundaries.
  pub fn shared(chunk: &Arc<String>, range: Range<usize>) -> Text {
    assert!(chunk.is_char_boundary(range.start) && chunk.is_char_boundary(range.end));
    Text {
      chunk: chunk.clone(),
      start: range.start as u32,
      end: range.end as u32,
    }
  }

  /// The length of the string it keeps alive (tests of what shares one).
  #[cfg(test)]
  pub fn chunk_len(&self) -> usize {
    self.chunk.len()
  }

  /// Makes the text its own, so that it no longer keeps the rest of its chunk.
  pub fn detach(&mut self) {
    if self.start != 0 || self.end as usize != self.chunk.len() {
      *self = Text::from(&**self);
    }
  }
}

impl Deref for Text {
  type Target = str;

  fn deref(&self) -> &str {
    &self.chunk[self.start as usize..self.end as usize]
  }
}

impl From<String> for Text {
  fn from(text: String) -> Text {
    let end = text.len() as u32;
    Text {
      chunk: Arc::new(text),
      start: 0,
      end,
    }
  }
}

impl From<&str> for Text {
  fn from(text: &str) -> Text {
    Text::from(text.to_string())
  }
}

impl PartialEq for Text {
  fn eq(&self, other: &Text) -> bool {
    **self == **other
  }
}

impl fmt::Debug for Text {
  fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    fmt::Debug::fmt(&**self, f)
  }
}

/// What `track` was told about a resource, as JSON texts: the `info` snapshot, and the value of
/// the registry's `context` function at `track` (None without one).
#[derive(Debug, Clone, PartialEq)]
pub struct Identity {
  pub info: Text,
  pub context: Option<Text>,
}

impl Identity {
  /// `info.id` as JSON text (None when absent or null). Read when a report is made, not at
  /// `track`: most resources are released and never need it.
  pub fn id(&self) -> Option<&str> {
    top_level_field(&self.info, "id")
  }

  /// `info.label` as JSON text (None when absent or null).
  pub fn label(&self) -> Option<&str> {
    top_level_field(&self.info, "label")
  }

  /// Makes its texts its own (see `Text::detach`).
  pub fn detach(&mut self) {
    self.info.detach();
    if let Some(context) = &mut self.context {
      context.detach();
    }
  }
}

/// One `touch()` of a resource.
#[derive(Debug, Clone, PartialEq)]
pub struct Touch {
  pub site: SiteId,
  /// Epoch milliseconds.
  pub at: f64,
  /// The hint as JSON text (a string literal), if one was given.
  pub hint: Option<Box<str>>,
}

/// One kept `touch()` in a report; `site` and `hint` are JSON texts.
#[derive(Debug, Clone, PartialEq)]
pub struct TouchRecord {
  pub site_id: SiteId,
  pub site: Arc<str>,
  pub at: f64,
  pub hint: Option<Box<str>>,
}

/// Tracking counts, of one type, one registry or the whole process.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
  /// Resources ever tracked.
  pub tracked: u64,
  /// Tracked and neither released nor reported yet.
  pub live: u64,
  /// Released with `release()`.
  pub released: u64,
  /// Collected without `release()`: reported as leaks.
  pub leaked: u64,
  /// Reported as held longer than `suspectAfter` (each resource once).
  pub suspected: u64,
}

/// The counts `stats()` reports.
#[derive(Debug, Clone, PartialEq)]
pub struct Stats<'a> {
  pub totals: Counts,
  /// (type name as JSON text, its counts)
  pub by_type: Vec<(&'a str, Counts)>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Report {
  pub kind: ReportKind,
  /// The registry's own id of the record (used when `info` has no `id`).
  pub seq: RecordId,
  pub type_id: TypeId,
  pub type_json: Arc<str>,
  pub identity: Option<Identity>,
  pub site_id: SiteId,
  pub site: Arc<str>,
  pub stack: Option<Box<str>>,
  /// Epoch milliseconds.
  pub tracked_at: f64,
  /// When the report was made: collected, found suspected, or released (epoch milliseconds).
  pub at: f64,
  /// Reports of this kind from this site so far, this one included; an estimate when
  /// `count_estimated` (the sum of what each sampled site stands for).
  pub count: u64,
  pub count_estimated: bool,
  /// The kept touches in time order, and how many more there were.
  pub touches: Option<(Vec<TouchRecord>, u64)>,
}

/// Where reports come from: fixed for a registry.
#[derive(Debug, Clone, Default)]
pub struct Origin {
  pub pid: u32,
  pub thread_id: u64,
  /// The registry's `name` option, as JSON text.
  pub registry: Option<Box<str>>,
}

/// A still-tracked resource, as `open()` lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct OpenResource<'a> {
  pub seq: RecordId,
  pub type_json: &'a str,
  pub identity: Option<&'a Identity>,
  pub site: &'a str,
  /// How many resources its site stands for: 1, or more for a site captured by sampling.
  pub site_weight: u32,
  pub tracked_at: f64,
  pub suspected: bool,
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn a_shared_text_keeps_its_chunk_until_it_is_detached() {
    let chunk = Arc::new(String::from(r#"{"id":1}{"id":2}"#));
    let mut first = Text::shared(&chunk, 0..8);
    let second = Text::shared(&chunk, 8..16);
    assert_eq!((&*first, &*second), (r#"{"id":1}"#, r#"{"id":2}"#));
    assert_eq!(Arc::strong_count(&chunk), 3);
    first.detach();
    assert_eq!(&*first, r#"{"id":1}"#);
    assert_eq!(Arc::strong_count(&chunk), 2, "it no longer holds the chunk");
    assert_eq!(first, Text::from(r#"{"id":1}"#), "texts compare by content");
  }
}
