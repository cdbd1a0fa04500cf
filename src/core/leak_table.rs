//! The records of one LeakRegistry: what is tracked, from which site, and the counts.
//!
//! `H` is whatever the binding needs to stop watching a resource (a Node-API reference); this
//! module never looks inside it. Times are epoch milliseconds passed in by the caller.

use super::leak_report::{Leak, OpenResource};
use super::ordered_table::EntryId;
use super::process_totals::{Counts, Totals};
use std::collections::HashMap;

pub type TypeId = u32;
pub type SiteId = u32;

/// The site of a record whose call site is not known (yet): the binding may track first and
/// name the site later with `set_site`.
pub const UNKNOWN_SITE: SiteId = 0;
const UNKNOWN_SITE_TEXT: &str = "<unknown>";

/// Strings handed out once and named by small ids afterwards (types and sites are few; tracked
/// resources are many, so a record carries two `u32`s instead of two strings).
struct Interner<T> {
  entries: Vec<(Box<str>, T)>,
  ids: HashMap<Box<str>, u32>,
}

impl<T: Default> Interner<T> {
  fn new() -> Self {
    Interner {
      entries: Vec::new(),
      ids: HashMap::new(),
    }
  }

  fn intern(&mut self, text: &str) -> u32 {
    if let Some(id) = self.ids.get(text) {
      return *id;
    }
    let id = self.entries.len() as u32;
    self.entries.push((text.into(), T::default()));
    self.ids.insert(text.into(), id);
    id
  }

  fn get(&self, id: u32) -> Option<&(Box<str>, T)> {
    self.entries.get(id as usize)
  }

  fn get_mut(&mut self, id: u32) -> Option<&mut (Box<str>, T)> {
    self.entries.get_mut(id as usize)
  }
}

struct Record<H> {
  handle: H,
  type_id: TypeId,
  site_id: SiteId,
  tracked_at: f64,
  info: Option<Box<str>>,
  stack: Option<Box<str>>,
}

/// The counts `stats()` reports.
#[derive(Debug, Clone, PartialEq)]
pub struct Stats<'a> {
  pub totals: Counts,
  pub by_type: Vec<(&'a str, Counts)>,
}

pub struct LeakTable<H> {
  records: HashMap<EntryId, Record<H>>,
  last_id: EntryId,
  types: Interner<Counts>,
  /// Per site: the number of leaks reported from it so far.
  sites: Interner<u64>,
  totals: Counts,
  process: &'static Totals,
}

#[derive(Debug, PartialEq, Eq)]
pub struct UnknownId;

impl<H> LeakTable<H> {
  /// `process` receives the same counts, summed over every registry.
  pub fn new(process: &'static Totals) -> Self {
    let mut sites = Interner::new();
    sites.intern(UNKNOWN_SITE_TEXT);
    LeakTable {
      records: HashMap::new(),
      last_id: 0,
      types: Interner::new(),
      sites,
      totals: Counts::default(),
      process,
    }
  }

  pub fn intern_type(&mut self, name: &str) -> TypeId {
    self.types.intern(name)
  }

  pub fn intern_site(&mut self, site: &str) -> SiteId {
    self.sites.intern(site)
  }

  /// The id the next `track` will use (the binding watches the resource under it first).
  pub fn next_id(&self) -> EntryId {
    self.last_id + 1
  }

  /// Records a tracked resource under `next_id()`. Fails (recording nothing) when the type or
  /// site id was not handed out by this table.
  pub fn track(
    &mut self,
    handle: H,
    type_id: TypeId,
    site_id: SiteId,
    tracked_at: f64,
    info: Option<Box<str>>,
    stack: Option<Box<str>>,
  ) -> Result<EntryId, UnknownId> {
    if self.sites.get(site_id).is_none() {
      return Err(UnknownId);
    }
    let counts = &mut self.types.get_mut(type_id).ok_or(UnknownId)?.1;
    counts.tracked += 1;
    counts.live += 1;
    self.totals.tracked += 1;
    self.totals.live += 1;
    self.process.tracked();
    self.last_id += 1;
    self.records.insert(
      self.last_id,
      Record {
        handle,
        type_id,
        site_id,
        tracked_at,
        info,
        stack,
      },
    );
    Ok(self.last_id)
  }

  /// Names the site of a tracked record. False if the record is gone (released or leaked).
  pub fn set_site(&mut self, id: EntryId, site_id: SiteId) -> Result<bool, UnknownId> {
    if self.sites.get(site_id).is_none() {
      return Err(UnknownId);
    }
    Ok(
      self
        .records
        .get_mut(&id)
        .map(|record| record.site_id = site_id)
        .is_some(),
    )
  }

  /// Forgets a released resource; None if it is not tracked (any more).
  pub fn release(&mut self, id: EntryId) -> Option<H> {
    let record = self.records.remove(&id)?;
    let counts = &mut self.types.entries[record.type_id as usize].1;
    counts.live -= 1;
    counts.released += 1;
    self.totals.live -= 1;
    self.totals.released += 1;
    self.process.released();
    Some(record.handle)
  }

  /// Turns a resource that was collected unreleased into a leak; None if it is not tracked.
  pub fn collect(&mut self, id: EntryId, collected_at: f64) -> Option<(H, Leak)> {
    let record = self.records.remove(&id)?;
    let (type_name, counts) = &mut self.types.entries[record.type_id as usize];
    counts.live -= 1;
    counts.leaked += 1;
    self.totals.live -= 1;
    self.totals.leaked += 1;
    self.process.leaked();
    let (site, leaks) = &mut self.sites.entries[record.site_id as usize];
    *leaks += 1;
    let leak = Leak {
      seq: id,
      type_name: type_name.to_string(),
      info: record.info,
      site: site.to_string(),
      stack: record.stack,
      tracked_at: record.tracked_at,
      collected_at,
      count: *leaks,
    };
    Some((record.handle, leak))
  }

  /// Every tracked record's id and handle, in no particular order.
  pub fn handles(&self) -> impl Iterator<Item = (EntryId, &H)> {
    self
      .records
      .iter()
      .map(|(id, record)| (*id, &record.handle))
  }

  /// Stops tracking everything (the registry closes): the handles to let go of.
  pub fn take_all(&mut self) -> Vec<H> {
    let records = std::mem::take(&mut self.records);
    for (_, counts) in self.types.entries.iter_mut() {
      counts.live = 0;
    }
    self.process.forgotten(records.len() as u64);
    self.totals.live = 0;
    records.into_values().map(|record| record.handle).collect()
  }

  /// What is still tracked, oldest first.
  pub fn open(&self) -> Vec<OpenResource<'_>> {
    let mut open: Vec<_> = self
      .records
      .iter()
      .map(|(id, record)| OpenResource {
        seq: *id,
        type_name: &self.types.entries[record.type_id as usize].0,
        info: record.info.as_deref(),
        site: &self.sites.entries[record.site_id as usize].0,
        tracked_at: record.tracked_at,
      })
      .collect();
    open.sort_by_key(|resource| resource.seq);
    open
  }

  pub fn stats(&self) -> Stats<'_> {
    Stats {
      totals: self.totals,
      by_type: self
        .types
        .entries
        .iter()
        .map(|(name, counts)| (&**name, *counts))
        .collect(),
    }
  }

  pub fn len(&self) -> usize {
    self.records.len()
  }

  pub fn is_empty(&self) -> bool {
    self.records.is_empty()
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  fn table() -> LeakTable<&'static str> {
    // Each test gets its own process figure: tests run in parallel.
    LeakTable::new(Box::leak(Box::new(Totals::new())))
  }

  #[test]
  fn a_collected_record_becomes_a_leak_once() {
    let mut t = table();
    let (file, site) = (t.intern_type("FileHandle"), t.intern_site("/app/a.js:3"));
    let id = t
      .track("ref", file, site, 100.0, Some(r#"{"fd":3}"#.into()), None)
      .unwrap();
    let (handle, leak) = t.collect(id, 350.0).expect("tracked");
    assert_eq!(handle, "ref");
    assert_eq!(
      (leak.type_name.as_str(), leak.site.as_str(), leak.count),
      ("FileHandle", "/app/a.js:3", 1)
    );
    assert_eq!((leak.tracked_at, leak.collected_at), (100.0, 350.0));
    assert_eq!(leak.info.as_deref(), Some(r#"{"fd":3}"#));
    assert!(
      t.collect(id, 400.0).is_none(),
      "a second event for the same id reports nothing"
    );
    assert!(t.release(id).is_none());
  }

  #[test]
  fn release_is_true_once_and_a_released_record_never_leaks() {
    let mut t = table();
    let (ty, site) = (t.intern_type("T"), t.intern_site("s"));
    let id = t.track("ref", ty, site, 0.0, None, None).unwrap();
    assert_eq!(t.release(id), Some("ref"));
    assert_eq!(t.release(id), None);
    assert!(
      t.collect(id, 1.0).is_none(),
      "a late collection of a released id is not a leak"
    );
  }

  #[test]
  fn count_is_per_site_and_grows_with_each_leak() {
    let mut t = table();
    let ty = t.intern_type("T");
    let (a, b) = (t.intern_site("a.js:1"), t.intern_site("b.js:2"));
    assert_eq!(t.intern_site("a.js:1"), a, "a site is interned once");
    let ids: Vec<_> = [a, a, b, a]
      .iter()
      .map(|site| t.track("r", ty, *site, 0.0, None, None).unwrap())
      .collect();
    let counts: Vec<_> = ids
      .iter()
      .map(|id| t.collect(*id, 1.0).unwrap().1.count)
      .collect();
    assert_eq!(counts, [1, 2, 1, 3]);
  }

  #[test]
  fn stats_by_type_and_totals_agree() {
    let mut t = table();
    let (x, y, s) = (t.intern_type("X"), t.intern_type("Y"), t.intern_site("s"));
    let a = t.track("a", x, s, 0.0, None, None).unwrap();
    let b = t.track("b", x, s, 0.0, None, None).unwrap();
    let _c = t.track("c", y, s, 0.0, None, None).unwrap();
    t.release(a);
    t.collect(b, 1.0);
    let stats = t.stats();
    assert_eq!(
      stats.totals,
      Counts {
        tracked: 3,
        live: 1,
        released: 1,
        leaked: 1
      }
    );
    assert_eq!(
      stats.by_type,
      [
        (
          "X",
          Counts {
            tracked: 2,
            live: 0,
            released: 1,
            leaked: 1
          }
        ),
        (
          "Y",
          Counts {
            tracked: 1,
            live: 1,
            released: 0,
            leaked: 0
          }
        )
      ]
    );
    assert_eq!(
      t.process.snapshot(),
      stats.totals,
      "the process figure moves with the table"
    );
  }

  #[test]
  fn open_lists_live_records_oldest_first_and_take_all_empties() {
    let mut t = table();
    let (ty, s) = (t.intern_type("T"), t.intern_site("s"));
    let ids: Vec<_> = ["a", "b", "c"]
      .iter()
      .enumerate()
      .map(|(i, h)| t.track(*h, ty, s, i as f64, None, None).unwrap())
      .collect();
    t.release(ids[1]);
    assert_eq!(
      t.open().iter().map(|o| o.seq).collect::<Vec<_>>(),
      [ids[0], ids[2]]
    );
    let mut handles = t.take_all();
    handles.sort();
    assert_eq!(handles, ["a", "c"]);
    assert!(t.is_empty());
    assert_eq!(t.stats().totals.live, 0);
    assert_eq!(t.process.snapshot().live, 0);
  }

  #[test]
  fn a_site_can_be_named_after_tracking() {
    let mut t = table();
    let (ty, s) = (t.intern_type("T"), t.intern_site("late.js:9"));
    let id = t.track("r", ty, UNKNOWN_SITE, 0.0, None, None).unwrap();
    assert_eq!(t.open()[0].site, "<unknown>");
    assert_eq!(t.set_site(id, s), Ok(true));
    assert_eq!(t.set_site(id, 99), Err(UnknownId));
    assert_eq!(t.collect(id, 1.0).unwrap().1.site, "late.js:9");
    assert_eq!(
      t.set_site(id, s),
      Ok(false),
      "a record that is gone has no site to set"
    );
  }

  #[test]
  fn unknown_type_or_site_ids_are_refused() {
    let mut t = table();
    let ty = t.intern_type("T");
    assert_eq!(t.track("r", ty, 5, 0.0, None, None), Err(UnknownId));
    assert_eq!(t.track("r", 9, 0, 0.0, None, None), Err(UnknownId));
    assert!(t.is_empty());
    assert_eq!(t.stats().totals.tracked, 0);
  }
}
