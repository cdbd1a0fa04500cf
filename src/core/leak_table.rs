//! The records of one LeakRegistry: what is tracked, from which site, since when, until when it
//! may be held before it is suspected, where it was touched, and the counts.
//!
//! `H` is whatever the binding needs to stop watching a resource (a Node-API reference); this
//! module never looks inside it. Times are epoch milliseconds passed in by the caller.
//!
//! Every string that came from JS (type names, sites, `info`, stacks, hints) is kept as the JSON
//! text JS made of it (`JSON.stringify`), never decoded: a lone surrogate stays an escape and
//! two names that differ only in one stay two names, and any nesting depth passes through.

use super::leak_report::{OpenResource, Report, ReportKind, TouchRecord};
use super::ordered_table::EntryId;
use super::process_totals::{Counts, Totals};
use super::touch_log::{Touch, TouchLog};
use std::collections::{BTreeSet, HashMap};
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Arc;

/// Record ids are sequential and never chosen by anyone outside: one multiplication spreads them
/// well enough, at a fraction of SipHash's cost (which nothing here needs to defend against).
#[derive(Default)]
struct IdHasher(u64);

impl Hasher for IdHasher {
  fn finish(&self) -> u64 {
    self.0
  }

  fn write(&mut self, bytes: &[u8]) {
    for byte in bytes {
      self.0 = (self.0 ^ u64::from(*byte)).wrapping_mul(0x100_0000_01b3);
    }
  }

  fn write_u64(&mut self, id: u64) {
    self.0 = id.wrapping_mul(0x9e37_79b9_7f4a_7c15);
  }
}

type ById<V> = HashMap<EntryId, V, BuildHasherDefault<IdHasher>>;

pub type TypeId = u32;
pub type SiteId = u32;

/// JSON texts handed out once and named by small ids afterwards (types and sites are few;
/// tracked resources are many, so a record carries two `u32`s instead of two strings).
struct Interner<T> {
  entries: Vec<(Arc<str>, T)>,
  ids: HashMap<Arc<str>, u32>,
}

impl<T: Default> Interner<T> {
  fn new() -> Self {
    Interner {
      entries: Vec::new(),
      ids: HashMap::new(),
    }
  }

  fn intern(&mut self, json: &str) -> u32 {
    if let Some(id) = self.ids.get(json) {
      return *id;
    }
    let id = self.entries.len() as u32;
    let text: Arc<str> = json.into();
    self.entries.push((text.clone(), T::default()));
    self.ids.insert(text, id);
    id
  }

  fn get(&self, id: u32) -> Option<&(Arc<str>, T)> {
    self.entries.get(id as usize)
  }
}

/// What `track` was told about a resource, as JSON texts: the whole `info` snapshot, the `id`
/// and `label` lifted out of it (None when absent), and the value of the registry's `context`
/// function at `track` (None without one).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Identity {
  pub info: Box<str>,
  pub id: Option<Box<str>>,
  pub label: Option<Box<str>>,
  pub context: Option<Box<str>>,
}

struct Record<H> {
  handle: H,
  type_id: TypeId,
  site_id: SiteId,
  tracked_at: f64,
  identity: Option<Box<Identity>>,
  /// JSON text of the allocation stack, when one was captured.
  stack: Option<Box<str>>,
  /// When the resource becomes suspected, if `suspectAfter` applies (milliseconds, rounded up).
  deadline: Option<u64>,
  suspected: bool,
  touches: Option<Box<TouchLog>>,
}

/// Reports from one site so far, per kind: the `count` of each report.
#[derive(Default, Clone, Copy)]
struct SiteCounts([u64; 3]);

/// The counts `stats()` reports.
#[derive(Debug, Clone, PartialEq)]
pub struct Stats<'a> {
  pub totals: Counts,
  /// (type name as JSON text, its counts)
  pub by_type: Vec<(&'a str, Counts)>,
}

/// What `track` records besides the handle.
pub struct Tracked {
  pub type_id: TypeId,
  pub site_id: SiteId,
  pub at: f64,
  pub identity: Option<Box<Identity>>,
  pub stack: Option<Box<str>>,
  /// Milliseconds the resource may stay tracked before it is suspected (None: never).
  pub suspect_after: Option<f64>,
}

pub struct LeakTable<H> {
  records: ById<Record<H>>,
  /// (deadline, id) of every record that can still become suspected, earliest first.
  deadlines: BTreeSet<(u64, EntryId)>,
  last_id: EntryId,
  types: Interner<Counts>,
  sites: Interner<SiteCounts>,
  totals: Counts,
  process: &'static Totals,
}

#[derive(Debug, PartialEq, Eq)]
pub struct UnknownId;

fn deadline(at: f64, after: f64) -> u64 {
  (at + after).ceil().max(0.0) as u64
}

impl<H> LeakTable<H> {
  /// `process` receives the same counts, summed over every registry.
  pub fn new(process: &'static Totals) -> Self {
    let sites = Interner::new();
    LeakTable {
      records: ById::default(),
      deadlines: BTreeSet::new(),
      last_id: 0,
      types: Interner::new(),
      sites,
      totals: Counts::default(),
      process,
    }
  }

  /// `json`: the type name as a JSON string literal.
  pub fn intern_type(&mut self, json: &str) -> TypeId {
    self.types.intern(json)
  }

  /// `json`: the site (`file:line`) as a JSON string literal.
  pub fn intern_site(&mut self, json: &str) -> SiteId {
    self.sites.intern(json)
  }

  /// The id the next `track` will use (the binding watches the resource under it first).
  pub fn next_id(&self) -> EntryId {
    self.last_id + 1
  }

  /// Records a tracked resource under `next_id()`. Fails (recording nothing) when the type or
  /// site id was not handed out by this table.
  pub fn track(&mut self, handle: H, tracked: Tracked) -> Result<EntryId, UnknownId> {
    if self.sites.get(tracked.site_id).is_none() {
      return Err(UnknownId);
    }
    let counts = &mut self
      .types
      .entries
      .get_mut(tracked.type_id as usize)
      .ok_or(UnknownId)?
      .1;
    counts.tracked += 1;
    counts.live += 1;
    self.totals.tracked += 1;
    self.totals.live += 1;
    self.process.tracked();
    self.last_id += 1;
    let id = self.last_id;
    let deadline = tracked
      .suspect_after
      .filter(|after| *after > 0.0)
      .map(|after| deadline(tracked.at, after));
    if let Some(deadline) = deadline {
      self.deadlines.insert((deadline, id));
    }
    let record = Record {
      handle,
      type_id: tracked.type_id,
      site_id: tracked.site_id,
      tracked_at: tracked.at,
      identity: tracked.identity,
      stack: tracked.stack,
      deadline,
      suspected: false,
      touches: None,
    };
    self.records.insert(id, record);
    Ok(id)
  }

  /// Records an access to a tracked resource, keeping at most `limit` records. False if the
  /// record is gone.
  pub fn touch(&mut self, id: EntryId, touch: Touch, limit: usize) -> Result<bool, UnknownId> {
    if self.sites.get(touch.site).is_none() {
      return Err(UnknownId);
    }
    let Some(record) = self.records.get_mut(&id) else {
      return Ok(false);
    };
    match &mut record.touches {
      Some(log) => log.record(touch, limit),
      None => record.touches = Some(Box::new(TouchLog::new(touch))),
    }
    Ok(true)
  }

  /// Forgets a released resource: its handle, and a `released` report if it had been suspected
  /// (how long it was held in all). None if it is not tracked (any more).
  pub fn release(&mut self, id: EntryId, now: f64) -> Option<(H, Option<Report>)> {
    let mut record = self.remove(id)?;
    let counts = &mut self.types.entries[record.type_id as usize].1;
    counts.live -= 1;
    counts.released += 1;
    self.totals.live -= 1;
    self.totals.released += 1;
    self.process.released();
    let report = record.suspected.then(|| {
      let (identity, stack) = (record.identity.take(), record.stack.take());
      report(
        &mut self.sites,
        &self.types,
        ReportKind::Released,
        id,
        &record,
        identity,
        stack,
        now,
      )
    });
    Some((record.handle, report))
  }

  /// Turns a resource that was collected unreleased into a leak; None if it is not tracked.
  pub fn collect(&mut self, id: EntryId, now: f64) -> Option<(H, Report)> {
    let mut record = self.remove(id)?;
    let counts = &mut self.types.entries[record.type_id as usize].1;
    counts.live -= 1;
    counts.leaked += 1;
    self.totals.live -= 1;
    self.totals.leaked += 1;
    self.process.leaked();
    let (identity, stack) = (record.identity.take(), record.stack.take());
    let report = report(
      &mut self.sites,
      &self.types,
      ReportKind::Leaked,
      id,
      &record,
      identity,
      stack,
      now,
    );
    Some((record.handle, report))
  }

  /// Marks every record whose deadline has passed as suspected and returns one report for each
  /// (a record is suspected once).
  pub fn due(&mut self, now: f64) -> Vec<Report> {
    let mut reports = Vec::new();
    while let Some(&(deadline, id)) = self.deadlines.first() {
      if deadline as f64 > now {
        break;
      }
      self.deadlines.pop_first();
      let Some(record) = self.records.get_mut(&id) else {
        continue;
      };
      record.suspected = true;
      record.deadline = None;
      self.types.entries[record.type_id as usize].1.suspected += 1;
      self.totals.suspected += 1;
      self.process.suspected();
      let (identity, stack) = (record.identity.clone(), record.stack.clone());
      reports.push(report(
        &mut self.sites,
        &self.types,
        ReportKind::Suspected,
        id,
        record,
        identity,
        stack,
        now,
      ));
    }
    reports
  }

  /// When the next record becomes suspected, if any will.
  pub fn next_deadline(&self) -> Option<f64> {
    self.deadlines.first().map(|(deadline, _)| *deadline as f64)
  }

  fn remove(&mut self, id: EntryId) -> Option<Record<H>> {
    let record = self.records.remove(&id)?;
    if let Some(deadline) = record.deadline {
      self.deadlines.remove(&(deadline, id));
    }
    Some(record)
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
    self.deadlines.clear();
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
        type_json: &self.types.entries[record.type_id as usize].0,
        identity: record.identity.as_deref(),
        site: &self.sites.entries[record.site_id as usize].0,
        tracked_at: record.tracked_at,
        suspected: record.suspected,
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

  pub fn contains(&self, id: EntryId) -> bool {
    self.records.contains_key(&id)
  }

  pub fn is_empty(&self) -> bool {
    self.records.is_empty()
  }
}

/// The report of `kind` about `record`, counted for its site. `identity` and `stack` are the
/// record's own, moved out when the record is gone (no copy per leak) or cloned when it stays.
#[allow(clippy::too_many_arguments)]
fn report<H>(
  sites: &mut Interner<SiteCounts>,
  types: &Interner<Counts>,
  kind: ReportKind,
  id: EntryId,
  record: &Record<H>,
  identity: Option<Box<Identity>>,
  stack: Option<Box<str>>,
  now: f64,
) -> Report {
  let counts = &mut sites.entries[record.site_id as usize].1;
  counts.0[kind as usize] += 1;
  let count = counts.0[kind as usize];
  let touches = record.touches.as_ref().map(|log| {
    let records = log
      .records()
      .map(|touch| TouchRecord {
        site_id: touch.site,
        site: sites.entries[touch.site as usize].0.clone(),
        at: touch.at,
        hint: touch.hint.clone(),
      })
      .collect();
    (records, log.dropped())
  });
  Report {
    kind,
    seq: id,
    type_id: record.type_id,
    type_json: types.entries[record.type_id as usize].0.clone(),
    identity,
    site_id: record.site_id,
    site: sites.entries[record.site_id as usize].0.clone(),
    stack,
    tracked_at: record.tracked_at,
    at: now,
    count,
    touches,
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  fn table() -> LeakTable<&'static str> {
    // Each test gets its own process figure: tests run in parallel.
    LeakTable::new(Box::leak(Box::new(Totals::new())))
  }

  fn tracked(type_id: TypeId, site_id: SiteId, at: f64) -> Tracked {
    Tracked {
      type_id,
      site_id,
      at,
      identity: None,
      stack: None,
      suspect_after: None,
    }
  }

  fn suspect_after(type_id: TypeId, site_id: SiteId, at: f64, after: f64) -> Tracked {
    Tracked {
      suspect_after: Some(after),
      ..tracked(type_id, site_id, at)
    }
  }

  #[test]
  fn a_collected_record_becomes_a_leak_once() {
    let mut t = table();
    let (file, site) = (
      t.intern_type(r#""FileHandle""#),
      t.intern_site(r#""/app/a.js:3""#),
    );
    let identity = Identity {
      info: r#"{"fd":3}"#.into(),
      id: Some("3".into()),
      label: None,
      context: Some(r#"{"request":"r-1"}"#.into()),
    };
    let id = t
      .track(
        "ref",
        Tracked {
          identity: Some(Box::new(identity.clone())),
          ..tracked(file, site, 100.0)
        },
      )
      .unwrap();
    let (handle, leak) = t.collect(id, 350.0).expect("tracked");
    assert_eq!(handle, "ref");
    assert_eq!(
      (leak.kind, &*leak.type_json, &*leak.site, leak.count),
      (ReportKind::Leaked, r#""FileHandle""#, r#""/app/a.js:3""#, 1)
    );
    assert_eq!((leak.tracked_at, leak.at), (100.0, 350.0));
    assert_eq!(leak.identity.as_deref(), Some(&identity));
    assert!(
      t.collect(id, 400.0).is_none(),
      "a second event for the same id reports nothing"
    );
    assert!(t.release(id, 400.0).is_none());
  }

  #[test]
  fn release_is_true_once_and_a_released_record_never_leaks() {
    let mut t = table();
    let (ty, site) = (t.intern_type(r#""T""#), t.intern_site(r#""s""#));
    let id = t.track("ref", tracked(ty, site, 0.0)).unwrap();
    let (handle, report) = t.release(id, 1.0).unwrap();
    assert_eq!(
      (handle, report),
      ("ref", None),
      "an unsuspected release reports nothing"
    );
    assert!(t.release(id, 2.0).is_none());
    assert!(
      t.collect(id, 3.0).is_none(),
      "a late collection of a released id is not a leak"
    );
  }

  #[test]
  fn count_is_per_site_and_kind_and_grows_with_each_report() {
    let mut t = table();
    let ty = t.intern_type(r#""T""#);
    let (a, b) = (t.intern_site(r#""a.js:1""#), t.intern_site(r#""b.js:2""#));
    assert_eq!(t.intern_site(r#""a.js:1""#), a, "a site is interned once");
    let ids: Vec<_> = [a, a, b, a]
      .iter()
      .map(|site| t.track("r", tracked(ty, *site, 0.0)).unwrap())
      .collect();
    let counts: Vec<_> = ids
      .iter()
      .map(|id| t.collect(*id, 1.0).unwrap().1.count)
      .collect();
    assert_eq!(counts, [1, 2, 1, 3]);
    let suspect = t.track("r", suspect_after(ty, a, 0.0, 10.0)).unwrap();
    assert_eq!(
      t.due(10.0)[0].count,
      1,
      "suspected reports are counted apart from leaks"
    );
    assert_eq!(t.collect(suspect, 20.0).unwrap().1.count, 4);
  }

  #[test]
  fn names_that_differ_only_in_a_lone_surrogate_stay_apart() {
    let mut t = table();
    let (a, b) = (t.intern_type(r#""T\ud800""#), t.intern_type(r#""T\udc00""#));
    assert_ne!(a, b);
    let site = t.intern_site(r#""s""#);
    t.track("r", tracked(a, site, 0.0)).unwrap();
    assert_eq!(
      t.stats().by_type,
      [
        (
          r#""T\ud800""#,
          Counts {
            tracked: 1,
            live: 1,
            ..Counts::default()
          }
        ),
        (r#""T\udc00""#, Counts::default())
      ]
    );
  }

  #[test]
  fn stats_by_type_and_totals_agree() {
    let mut t = table();
    let (x, y, s) = (
      t.intern_type(r#""X""#),
      t.intern_type(r#""Y""#),
      t.intern_site(r#""s""#),
    );
    let a = t.track("a", tracked(x, s, 0.0)).unwrap();
    let b = t.track("b", tracked(x, s, 0.0)).unwrap();
    let _c = t.track("c", suspect_after(y, s, 0.0, 5.0)).unwrap();
    t.release(a, 1.0);
    t.collect(b, 1.0);
    t.due(5.0);
    let stats = t.stats();
    assert_eq!(
      stats.totals,
      Counts {
        tracked: 3,
        live: 1,
        released: 1,
        leaked: 1,
        suspected: 1
      }
    );
    assert_eq!(
      stats.by_type,
      [
        (
          r#""X""#,
          Counts {
            tracked: 2,
            live: 0,
            released: 1,
            leaked: 1,
            suspected: 0
          }
        ),
        (
          r#""Y""#,
          Counts {
            tracked: 1,
            live: 1,
            released: 0,
            leaked: 0,
            suspected: 1
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
  fn a_resource_held_past_its_deadline_is_suspected_once() {
    let mut t = table();
    let (ty, s) = (t.intern_type(r#""Conn""#), t.intern_site(r#""pool.js:7""#));
    let early = t
      .track("early", suspect_after(ty, s, 1000.0, 500.0))
      .unwrap();
    let late = t
      .track("late", suspect_after(ty, s, 1100.0, 500.0))
      .unwrap();
    let never = t.track("never", tracked(ty, s, 1000.0)).unwrap();
    assert_eq!(t.next_deadline(), Some(1500.0));
    assert!(t.due(1499.0).is_empty(), "not before the deadline");
    let due = t.due(1550.0);
    assert_eq!(
      due
        .iter()
        .map(|r| (r.kind, r.seq, r.tracked_at, r.at))
        .collect::<Vec<_>>(),
      [(ReportKind::Suspected, early, 1000.0, 1550.0)]
    );
    assert_eq!(t.next_deadline(), Some(1600.0));
    assert!(t.due(1550.0).is_empty(), "suspected once");
    assert_eq!(
      t.open()
        .iter()
        .map(|o| (o.seq, o.suspected))
        .collect::<Vec<_>>(),
      [(early, true), (late, false), (never, false)]
    );
    let (_, released) = t.release(late, 1590.0).unwrap();
    assert!(
      released.is_none(),
      "released before its deadline: nothing to follow up"
    );
    assert_eq!(t.next_deadline(), None, "a release removes its deadline");
    assert!(t.due(10_000.0).is_empty());
  }

  #[test]
  fn a_suspected_resource_released_later_gets_a_released_report() {
    let mut t = table();
    let (ty, s) = (t.intern_type(r#""Conn""#), t.intern_site(r#""pool.js:7""#));
    let id = t.track("c", suspect_after(ty, s, 0.0, 100.0)).unwrap();
    t.due(100.0);
    let (_, report) = t.release(id, 250.0).unwrap();
    let report = report.expect("a follow-up for a suspected resource");
    assert_eq!(
      (report.kind, report.tracked_at, report.at, report.count),
      (ReportKind::Released, 0.0, 250.0, 1)
    );
  }

  #[test]
  fn a_suspected_resource_that_is_collected_is_an_ordinary_leak() {
    let mut t = table();
    let (ty, s) = (t.intern_type(r#""Conn""#), t.intern_site(r#""pool.js:7""#));
    let id = t.track("c", suspect_after(ty, s, 0.0, 100.0)).unwrap();
    t.due(100.0);
    assert_eq!(t.collect(id, 300.0).unwrap().1.kind, ReportKind::Leaked);
  }

  #[test]
  fn touches_reach_the_report_in_time_order_with_the_dropped_count() {
    let mut t = table();
    let (ty, s, a, b) = (
      t.intern_type(r#""T""#),
      t.intern_site(r#""s""#),
      t.intern_site(r#""a.js:1""#),
      t.intern_site(r#""b.js:2""#),
    );
    let id = t.track("r", tracked(ty, s, 0.0)).unwrap();
    let plain = t.track("p", tracked(ty, s, 0.0)).unwrap();
    for at in 1..=6 {
      let hint = (at == 6).then(|| r#""last""#.into());
      assert_eq!(
        t.touch(
          id,
          Touch {
            site: if at % 2 == 0 { b } else { a },
            at: at as f64,
            hint
          },
          4
        ),
        Ok(true)
      );
    }
    assert_eq!(
      t.touch(
        id,
        Touch {
          site: 99,
          at: 7.0,
          hint: None
        },
        4
      ),
      Err(UnknownId)
    );
    let (records, dropped) = t.collect(id, 10.0).unwrap().1.touches.expect("touched");
    let kept: Vec<_> = records
      .iter()
      .map(|r| (&*r.site, r.at, r.hint.as_deref()))
      .collect();
    assert_eq!(
      kept,
      [
        (r#""a.js:1""#, 1.0, None),
        (r#""b.js:2""#, 4.0, None),
        (r#""a.js:1""#, 5.0, None),
        (r#""b.js:2""#, 6.0, Some(r#""last""#))
      ]
    );
    assert_eq!(dropped, 2);
    assert!(
      t.collect(plain, 10.0).unwrap().1.touches.is_none(),
      "never touched: no touch records"
    );
    assert_eq!(
      t.touch(
        id,
        Touch {
          site: a,
          at: 11.0,
          hint: None
        },
        4
      ),
      Ok(false),
      "a record that is gone cannot be touched"
    );
  }

  #[test]
  fn open_lists_live_records_oldest_first_and_take_all_empties() {
    let mut t = table();
    let (ty, s) = (t.intern_type(r#""T""#), t.intern_site(r#""s""#));
    let ids: Vec<_> = ["a", "b", "c"]
      .iter()
      .enumerate()
      .map(|(i, h)| t.track(*h, suspect_after(ty, s, i as f64, 1.0)).unwrap())
      .collect();
    t.release(ids[1], 0.0);
    assert_eq!(
      t.open().iter().map(|o| o.seq).collect::<Vec<_>>(),
      [ids[0], ids[2]]
    );
    let mut handles = t.take_all();
    handles.sort();
    assert_eq!(handles, ["a", "c"]);
    assert!(t.is_empty());
    assert_eq!(t.next_deadline(), None, "nothing left to suspect");
    assert_eq!(t.stats().totals.live, 0);
    assert_eq!(t.process.snapshot().live, 0);
  }

  #[test]
  fn unknown_type_or_site_ids_are_refused() {
    let mut t = table();
    let ty = t.intern_type(r#""T""#);
    assert_eq!(t.track("r", tracked(ty, 5, 0.0)), Err(UnknownId));
    assert_eq!(t.track("r", tracked(9, 0, 0.0)), Err(UnknownId));
    assert!(t.is_empty());
    assert_eq!(t.stats().totals.tracked, 0);
  }
}
