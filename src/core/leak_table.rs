//! The records of one LeakRegistry: what is tracked, from which site, since when, until when it
//! may be held before it is suspected, where it was touched, and the counts.
//!
//! Records arrive from the event log (leak_events.rs) in the order JS made them, under the ids
//! JS handed out (in order, never reused). Times are epoch milliseconds passed in by the caller.
//! Names and texts are JSON text (see leak_model.rs).

use super::leak_model::{
  Counts, Identity, OpenResource, RecordId, Report, ReportKind, SiteId, Stats, Touch, TouchRecord,
  TypeId,
};
use super::process_totals::Totals;
use super::record_slab::{Outlive, RecordSlab};
use super::touch_log::TouchLog;
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

/// JSON texts named by small ids (types and sites are few; tracked resources are many, so a
/// record carries two `u32`s instead of two strings), each with its counts.
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

/// One tracked resource. Kept small (the table holds thousands at a time, side by side): what
/// most records lack is behind one pointer.
struct Record {
  tracked_at: f64,
  /// When the resource becomes suspected (milliseconds, rounded up; at least 1), or 0 if
  /// `suspectAfter` does not apply.
  deadline: u64,
  type_id: TypeId,
  site_id: SiteId,
  /// How many resources the site stands for: 1, or more when it was captured by sampling.
  site_weight: u32,
  suspected: bool,
  identity: Option<Identity>,
  rare: Option<Box<Rare>>,
}

/// What few records have.
#[derive(Default)]
struct Rare {
  /// JSON text of the allocation stack, when one was captured.
  stack: Option<Box<str>>,
  touches: Option<TouchLog>,
}

impl Outlive for Record {
  /// A long-lived record keeps its own texts, not the replay's that it shared.
  fn outlive(&mut self) {
    if let Some(identity) = &mut self.identity {
      identity.detach();
    }
  }
}

impl Record {
  fn take_stack(&mut self) -> Option<Box<str>> {
    self.rare.as_mut()?.stack.take()
  }

  fn touches(&self) -> Option<&TouchLog> {
    self.rare.as_ref()?.touches.as_ref()
  }
}

/// Reports from one site so far, per kind: the `count` of each report (weighted by what each
/// sampled site stands for), and whether a weight above 1 made it an estimate.
#[derive(Default, Clone, Copy)]
struct SiteCounts {
  counts: [u64; 3],
  estimated: [bool; 3],
}

/// What `track` records.
#[derive(Debug, Clone, PartialEq)]
pub struct Tracked {
  pub type_id: TypeId,
  pub site_id: SiteId,
  pub site_weight: u32,
  pub at: f64,
  pub identity: Option<Identity>,
  pub stack: Option<Box<str>>,
  /// Milliseconds the resource may stay tracked before it is suspected (None: never).
  pub suspect_after: Option<f64>,
}

pub struct LeakTable {
  records: RecordSlab<Record>,
  /// (deadline, id) of every record that can still become suspected, earliest first.
  deadlines: BTreeSet<(u64, RecordId)>,
  types: Interner<Counts>,
  sites: Interner<SiteCounts>,
  totals: Counts,
  /// Counts not yet added to the process-wide figure (see `publish`), and live records forgotten.
  unpublished: Counts,
  forgotten: u64,
  process: &'static Totals,
}

/// An id the table did not hand out or expect (a type or site never defined, a record id out of
/// order): a protocol error between JS and Rust, never a user error.
#[derive(Debug, PartialEq, Eq)]
pub struct UnknownId;

fn deadline(at: f64, after: f64) -> u64 {
  (at + after).ceil().max(1.0) as u64
}

impl LeakTable {
  /// `process` receives the same counts, summed over every registry.
  pub fn new(process: &'static Totals) -> Self {
    LeakTable {
      records: RecordSlab::default(),
      deadlines: BTreeSet::new(),
      types: Interner::new(),
      sites: Interner::new(),
      totals: Counts::default(),
      unpublished: Counts::default(),
      forgotten: 0,
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

  /// The id the next `track` must use.
  pub fn next_id(&self) -> RecordId {
    self.records.next_id()
  }

  /// A site's JSON text, by id.
  pub fn site_json(&self, id: SiteId) -> Option<&str> {
    self.sites.get(id).map(|(text, _)| &**text)
  }

  /// Checks the ids of a track before anything is recorded.
  fn check_track(
    &self,
    id: RecordId,
    type_id: TypeId,
    site_id: Option<SiteId>,
  ) -> Result<(), UnknownId> {
    let known = id == self.next_id()
      && self.types.get(type_id).is_some()
      && site_id.is_none_or(|site| self.sites.get(site).is_some());
    if known {
      Ok(())
    } else {
      Err(UnknownId)
    }
  }

  fn count_tracked(&mut self, type_id: TypeId) {
    let counts = &mut self.types.entries[type_id as usize].1;
    counts.tracked += 1;
    counts.live += 1;
    self.totals.tracked += 1;
    self.totals.live += 1;
    self.unpublished.tracked += 1;
  }

  fn count_released(&mut self, type_id: TypeId) {
    let counts = &mut self.types.entries[type_id as usize].1;
    counts.live -= 1;
    counts.released += 1;
    self.totals.live -= 1;
    self.totals.released += 1;
    self.unpublished.released += 1;
  }

  /// Records a tracked resource under `id`, which must be `next_id()`. Fails (recording
  /// nothing) for an id out of order or a type or site this table does not know.
  pub fn track(&mut self, id: RecordId, tracked: Tracked) -> Result<(), UnknownId> {
    self.check_track(id, tracked.type_id, Some(tracked.site_id))?;
    self.count_tracked(tracked.type_id);
    let deadline = tracked
      .suspect_after
      .filter(|after| *after > 0.0)
      .map_or(0, |after| deadline(tracked.at, after));
    if deadline != 0 {
      self.deadlines.insert((deadline, id));
    }
    let record = Record {
      tracked_at: tracked.at,
      deadline,
      type_id: tracked.type_id,
      site_id: tracked.site_id,
      site_weight: tracked.site_weight.max(1),
      suspected: false,
      identity: tracked.identity,
      rare: tracked.stack.map(|stack| {
        Box::new(Rare {
          stack: Some(stack),
          touches: None,
        })
      }),
    };
    self.records.push(Some(record));
    Ok(())
  }

  /// A resource released before its track reached the table: it is counted as tracked and
  /// released, and nothing else is kept (it can never be suspected or leak).
  pub fn track_released(&mut self, id: RecordId, type_id: TypeId) -> Result<(), UnknownId> {
    self.check_track(id, type_id, None)?;
    self.count_tracked(type_id);
    self.count_released(type_id);
    self.records.push(None);
    Ok(())
  }

  /// Records an access to a tracked resource, keeping at most `limit` records. False if the
  /// record is gone.
  pub fn touch(&mut self, id: RecordId, touch: Touch, limit: usize) -> Result<bool, UnknownId> {
    if self.sites.get(touch.site).is_none() {
      return Err(UnknownId);
    }
    let Some(record) = self.records.get_mut(id) else {
      return Ok(false);
    };
    match &mut record.rare.get_or_insert_default().touches {
      Some(log) => log.record(touch, limit),
      touches => *touches = Some(TouchLog::new(touch)),
    }
    Ok(true)
  }

  /// Forgets a released resource, with a `released` report if it had been suspected (how long
  /// it was held in all). None if it is not tracked (any more).
  pub fn release(&mut self, id: RecordId, now: f64) -> Option<Option<Report>> {
    let mut record = self.remove(id)?;
    self.count_released(record.type_id);
    let report = record.suspected.then(|| {
      let (identity, stack) = (record.identity.take(), record.take_stack());
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
    Some(report)
  }

  /// Turns a resource that was collected unreleased into a leak; None if it is not tracked.
  pub fn collect(&mut self, id: RecordId, now: f64) -> Option<Report> {
    let mut record = self.remove(id)?;
    let counts = &mut self.types.entries[record.type_id as usize].1;
    counts.live -= 1;
    counts.leaked += 1;
    self.totals.live -= 1;
    self.totals.leaked += 1;
    self.unpublished.leaked += 1;
    let (identity, stack) = (record.identity.take(), record.take_stack());
    Some(report(
      &mut self.sites,
      &self.types,
      ReportKind::Leaked,
      id,
      &record,
      identity,
      stack,
      now,
    ))
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
      let Some(record) = self.records.get_mut(id) else {
        continue;
      };
      record.suspected = true;
      record.deadline = 0;
      self.types.entries[record.type_id as usize].1.suspected += 1;
      self.totals.suspected += 1;
      self.unpublished.suspected += 1;
      let stack = record.rare.as_ref().and_then(|rare| rare.stack.clone());
      let identity = record.identity.clone();
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
    self.publish();
    reports
  }

  /// When the next record becomes suspected, if any will.
  pub fn next_deadline(&self) -> Option<f64> {
    self.deadlines.first().map(|(deadline, _)| *deadline as f64)
  }

  fn remove(&mut self, id: RecordId) -> Option<Record> {
    let record = self.records.remove(id)?;
    if record.deadline != 0 {
      self.deadlines.remove(&(record.deadline, id));
    }
    Some(record)
  }

  /// Stops tracking everything (the registry closes).
  pub fn forget_all(&mut self) {
    let forgotten = self.records.len() as u64;
    self.records.clear();
    self.deadlines.clear();
    for (_, counts) in self.types.entries.iter_mut() {
      counts.live = 0;
    }
    self.forgotten += forgotten;
    self.totals.live = 0;
    self.publish();
  }

  /// Adds the counts since the last call to the process-wide figure: once per batch of
  /// changes (a replay, a deadline check), not per record, since those are atomics shared by
  /// every thread.
  pub fn publish(&mut self) {
    let added = std::mem::take(&mut self.unpublished);
    let forgotten = std::mem::take(&mut self.forgotten);
    if added != Counts::default() || forgotten != 0 {
      self.process.add(&added, forgotten);
    }
  }

  /// What is still tracked, oldest first.
  pub fn open(&self) -> Vec<OpenResource<'_>> {
    self
      .records
      .iter()
      .map(|(id, record)| OpenResource {
        seq: id,
        type_json: &self.types.entries[record.type_id as usize].0,
        identity: record.identity.as_ref(),
        site: &self.sites.entries[record.site_id as usize].0,
        site_weight: record.site_weight,
        tracked_at: record.tracked_at,
        suspected: record.suspected,
      })
      .collect()
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

  pub fn contains(&self, id: RecordId) -> bool {
    self.records.get(id).is_some()
  }

  pub fn is_empty(&self) -> bool {
    self.records.is_empty()
  }
}

/// The report of `kind` about `record`, counted for its site. `identity` and `stack` are the
/// record's own, moved out when the record is gone (no copy per leak) or cloned when it stays.
#[allow(clippy::too_many_arguments)]
fn report(
  sites: &mut Interner<SiteCounts>,
  types: &Interner<Counts>,
  kind: ReportKind,
  id: RecordId,
  record: &Record,
  identity: Option<Identity>,
  stack: Option<Box<str>>,
  now: f64,
) -> Report {
  let site = &mut sites.entries[record.site_id as usize].1;
  site.counts[kind as usize] += u64::from(record.site_weight);
  site.estimated[kind as usize] |= record.site_weight > 1;
  let (count, count_estimated) = (site.counts[kind as usize], site.estimated[kind as usize]);
  let touches = record.touches().map(|log| {
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
    count_estimated,
    touches,
  }
}

#[cfg(test)]
mod tests {
  use super::*;
  use crate::core::leak_model::Text;
  use crate::core::record_slab::MIN_WINDOW;

  fn table() -> LeakTable {
    // Each test gets its own process figure: tests run in parallel.
    LeakTable::new(Box::leak(Box::new(Totals::new())))
  }

  fn tracked(type_id: TypeId, site_id: SiteId, at: f64) -> Tracked {
    Tracked {
      type_id,
      site_id,
      site_weight: 1,
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

  /// Tracks under the next id, as the event log does; returns the id.
  fn add(t: &mut LeakTable, tracked: Tracked) -> RecordId {
    let id = t.next_id();
    t.track(id, tracked).expect("known ids");
    id
  }

  #[test]
  fn a_collected_record_becomes_a_leak_once() {
    let mut t = table();
    let (file, site) = (
      t.intern_type(r#""FileHandle""#),
      t.intern_site(r#""/app/a.js:3""#),
    );
    let identity = Identity {
      info: r#"{"fd":3,"id":3}"#.into(),
      context: Some(r#"{"request":"r-1"}"#.into()),
    };
    let id = add(
      &mut t,
      Tracked {
        identity: Some(identity.clone()),
        ..tracked(file, site, 100.0)
      },
    );
    let leak = t.collect(id, 350.0).expect("tracked");
    assert_eq!(
      (leak.kind, &*leak.type_json, &*leak.site, leak.count),
      (ReportKind::Leaked, r#""FileHandle""#, r#""/app/a.js:3""#, 1)
    );
    assert_eq!((leak.tracked_at, leak.at), (100.0, 350.0));
    assert_eq!(leak.identity.as_ref(), Some(&identity));
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
    let id = add(&mut t, tracked(ty, site, 0.0));
    assert_eq!(
      t.release(id, 1.0),
      Some(None),
      "an unsuspected release reports nothing"
    );
    assert!(t.release(id, 2.0).is_none());
    assert!(
      t.collect(id, 3.0).is_none(),
      "a late collection of a released id is not a leak"
    );
  }

  #[test]
  fn ids_must_come_in_order_and_name_known_types_and_sites() {
    let mut t = table();
    let (ty, site) = (t.intern_type(r#""T""#), t.intern_site(r#""s""#));
    assert_eq!(
      t.track(2, tracked(ty, site, 0.0)),
      Err(UnknownId),
      "1 comes first"
    );
    assert_eq!(t.track(1, tracked(ty, 5, 0.0)), Err(UnknownId));
    assert_eq!(t.track(1, tracked(9, site, 0.0)), Err(UnknownId));
    assert_eq!(t.track_released(1, 7), Err(UnknownId));
    assert!(t.is_empty());
    assert_eq!(
      t.stats().totals.tracked,
      0,
      "a refused track counts nothing"
    );
    assert_eq!(t.track(1, tracked(ty, site, 0.0)), Ok(()));
    assert_eq!(
      t.track(1, tracked(ty, site, 0.0)),
      Err(UnknownId),
      "never twice"
    );
  }

  #[test]
  fn a_track_released_before_it_reached_the_table_is_only_counted() {
    let mut t = table();
    let (ty, site) = (t.intern_type(r#""T""#), t.intern_site(r#""s""#));
    t.track_released(1, ty).unwrap();
    let kept = add(&mut t, tracked(ty, site, 0.0));
    assert_eq!(kept, 2, "the released one used its id");
    assert!(!t.contains(1));
    assert!(t.collect(1, 5.0).is_none(), "nothing left of it to leak");
    assert_eq!(
      t.stats().totals,
      Counts {
        tracked: 2,
        live: 1,
        released: 1,
        ..Counts::default()
      }
    );
    t.publish();
    assert_eq!(t.process.snapshot(), t.stats().totals);
  }

  #[test]
  fn count_is_per_site_and_kind_and_grows_with_each_report() {
    let mut t = table();
    let ty = t.intern_type(r#""T""#);
    let (a, b) = (t.intern_site(r#""a.js:1""#), t.intern_site(r#""b.js:2""#));
    assert_eq!(t.intern_site(r#""a.js:1""#), a, "a site is interned once");
    let ids: Vec<_> = [a, a, b, a]
      .iter()
      .map(|site| add(&mut t, tracked(ty, *site, 0.0)))
      .collect();
    let counts: Vec<_> = ids
      .iter()
      .map(|id| t.collect(*id, 1.0).unwrap().count)
      .collect();
    assert_eq!(counts, [1, 2, 1, 3]);
    let suspect = add(&mut t, suspect_after(ty, a, 0.0, 10.0));
    assert_eq!(
      t.due(10.0)[0].count,
      1,
      "suspected reports are counted apart from leaks"
    );
    assert_eq!(t.collect(suspect, 20.0).unwrap().count, 4);
  }

  #[test]
  fn a_sampled_site_counts_for_what_it_stands_for_and_says_it_is_an_estimate() {
    let mut t = table();
    let ty = t.intern_type(r#""T""#);
    let (a, b) = (t.intern_site(r#""a.js:1""#), t.intern_site(r#""b.js:2""#));
    let exact = add(&mut t, tracked(ty, a, 0.0));
    let sampled = add(
      &mut t,
      Tracked {
        site_weight: 14,
        ..tracked(ty, a, 0.0)
      },
    );
    let other = add(&mut t, tracked(ty, b, 0.0));
    let first = t.collect(exact, 1.0).unwrap();
    assert_eq!((first.count, first.count_estimated), (1, false));
    let second = t.collect(sampled, 1.0).unwrap();
    assert_eq!((second.count, second.count_estimated), (15, true));
    let elsewhere = t.collect(other, 1.0).unwrap();
    assert_eq!(
      (elsewhere.count, elsewhere.count_estimated),
      (1, false),
      "per site"
    );
    assert_eq!(
      t.open().len(),
      0,
      "the weight changes the count, never what is tracked"
    );
  }

  #[test]
  fn names_that_differ_only_in_a_lone_surrogate_stay_apart() {
    let mut t = table();
    let (a, b) = (t.intern_type(r#""T\ud800""#), t.intern_type(r#""T\udc00""#));
    assert_ne!(a, b);
    let site = t.intern_site(r#""s""#);
    add(&mut t, tracked(a, site, 0.0));
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
    let a = add(&mut t, tracked(x, s, 0.0));
    let b = add(&mut t, tracked(x, s, 0.0));
    let _c = add(&mut t, suspect_after(y, s, 0.0, 5.0));
    t.release(a, 1.0);
    t.collect(b, 1.0);
    t.due(5.0);
    t.publish();
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
    let early = add(&mut t, suspect_after(ty, s, 1000.0, 500.0));
    let late = add(&mut t, suspect_after(ty, s, 1100.0, 500.0));
    let never = add(&mut t, tracked(ty, s, 1000.0));
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
    assert_eq!(
      t.release(late, 1590.0),
      Some(None),
      "released before its deadline: nothing to follow up"
    );
    assert_eq!(t.next_deadline(), None, "a release removes its deadline");
    assert!(t.due(10_000.0).is_empty());
  }

  #[test]
  fn a_suspected_resource_released_later_gets_a_released_report() {
    let mut t = table();
    let (ty, s) = (t.intern_type(r#""Conn""#), t.intern_site(r#""pool.js:7""#));
    let id = add(&mut t, suspect_after(ty, s, 0.0, 100.0));
    t.due(100.0);
    let report = t
      .release(id, 250.0)
      .unwrap()
      .expect("a follow-up for a suspected resource");
    assert_eq!(
      (report.kind, report.tracked_at, report.at, report.count),
      (ReportKind::Released, 0.0, 250.0, 1)
    );
  }

  #[test]
  fn a_suspected_resource_that_is_collected_is_an_ordinary_leak() {
    let mut t = table();
    let (ty, s) = (t.intern_type(r#""Conn""#), t.intern_site(r#""pool.js:7""#));
    let id = add(&mut t, suspect_after(ty, s, 0.0, 100.0));
    t.due(100.0);
    assert_eq!(t.collect(id, 300.0).unwrap().kind, ReportKind::Leaked);
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
    let id = add(&mut t, tracked(ty, s, 0.0));
    let plain = add(&mut t, tracked(ty, s, 0.0));
    for at in 1..=6 {
      let hint = (at == 6).then(|| r#""last""#.into());
      let site = if at % 2 == 0 { b } else { a };
      let touch = Touch {
        site,
        at: at as f64,
        hint,
      };
      assert_eq!(t.touch(id, touch, 4), Ok(true));
    }
    let unknown = Touch {
      site: 99,
      at: 7.0,
      hint: None,
    };
    assert_eq!(t.touch(id, unknown, 4), Err(UnknownId));
    let (records, dropped) = t.collect(id, 10.0).unwrap().touches.expect("touched");
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
      t.collect(plain, 10.0).unwrap().touches.is_none(),
      "never touched: no touch records"
    );
    let late = Touch {
      site: a,
      at: 11.0,
      hint: None,
    };
    assert_eq!(
      t.touch(id, late, 4),
      Ok(false),
      "a record that is gone cannot be touched"
    );
  }

  #[test]
  fn a_record_that_outlives_thousands_after_it_keeps_its_identity_deadline_and_touches() {
    let mut t = table();
    let (ty, s) = (t.intern_type(r#""Conn""#), t.intern_site(r#""pool.js:7""#));
    let chunk = Arc::new(String::from(r#"{"id":"kept"}{"id":"gone"}"#));
    let identity = Identity {
      info: Text::shared(&chunk, 0..13),
      context: None,
    };
    let kept = add(
      &mut t,
      Tracked {
        identity: Some(identity),
        ..suspect_after(ty, s, 0.0, 1000.0)
      },
    );
    let touch = Touch {
      site: s,
      at: 1.0,
      hint: None,
    };
    assert_eq!(t.touch(kept, touch, 4), Ok(true));
    for _ in 0..3 * MIN_WINDOW {
      let id = add(&mut t, tracked(ty, s, 0.0));
      assert_eq!(t.release(id, 1.0), Some(None));
    }
    assert_eq!(
      Arc::strong_count(&chunk),
      1,
      "moved out of the window, it let go of the shared text"
    );
    assert_eq!(t.open().iter().map(|o| o.seq).collect::<Vec<_>>(), [kept]);
    let due = t.due(1000.0);
    assert_eq!(due.iter().map(|r| r.seq).collect::<Vec<_>>(), [kept]);
    let leak = t.collect(kept, 2000.0).unwrap();
    assert_eq!(leak.identity.unwrap().id(), Some(r#""kept""#));
    assert_eq!(leak.touches.unwrap().0.len(), 1);
    assert!(t.is_empty());
  }

  #[test]
  fn open_lists_live_records_oldest_first_and_forget_all_empties() {
    let mut t = table();
    let (ty, s) = (t.intern_type(r#""T""#), t.intern_site(r#""s""#));
    let ids: Vec<_> = (0..3)
      .map(|i| add(&mut t, suspect_after(ty, s, i as f64, 1.0)))
      .collect();
    t.release(ids[1], 0.0);
    assert_eq!(
      t.open().iter().map(|o| o.seq).collect::<Vec<_>>(),
      [ids[0], ids[2]]
    );
    t.forget_all();
    assert!(t.is_empty());
    assert_eq!(t.next_deadline(), None, "nothing left to suspect");
    assert_eq!(t.stats().totals.live, 0);
    assert_eq!(t.process.snapshot().live, 0);
  }
}
