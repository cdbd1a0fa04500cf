//! What a report says, and its JSON form. One JSON object is both a line of the log and, parsed
//! on the JS side, the report `onLeak` receives, so the two can never disagree.
//!
//! Strings arrive as JSON text made by JS (see leak_table.rs) and are embedded as they are:
//! nothing here decodes or re-encodes them, so whatever `track()` accepted comes back exactly.
//! Numbers that are integers are written as integers.

use super::leak_model::{
  Counts, Identity, OpenResource, Origin, RecordId, Report, ReportKind, Stats,
};
use std::fmt::Write;

/// A JSON object written field by field into a string, in the order given.
struct Object<'a> {
  out: &'a mut String,
  empty: bool,
}

impl<'a> Object<'a> {
  fn open(out: &'a mut String) -> Self {
    out.push('{');
    Object { out, empty: true }
  }

  fn key(&mut self, key: &str) -> &mut String {
    if !self.empty {
      self.out.push(',');
    }
    self.empty = false;
    self.out.push('"');
    self.out.push_str(key);
    self.out.push_str("\":");
    self.out
  }

  /// A field whose value is already JSON text.
  fn raw(&mut self, key: &str, json: &str) -> &mut Self {
    self.key(key).push_str(json);
    self
  }

  /// A field whose key is already a JSON string literal.
  fn raw_key(&mut self, key_json: &str, json: &str) -> &mut Self {
    if !self.empty {
      self.out.push(',');
    }
    self.empty = false;
    self.out.push_str(key_json);
    self.out.push(':');
    self.out.push_str(json);
    self
  }

  fn int(&mut self, key: &str, value: impl Into<u64>) -> &mut Self {
    self
      .key(key)
      .push_str(itoa::Buffer::new().format(value.into()));
    self
  }

  /// Milliseconds since the epoch, or a duration: never negative.
  fn millis(&mut self, key: &str, ms: f64) -> &mut Self {
    self.int(key, ms.max(0.0) as u64)
  }

  fn flag(&mut self, key: &str, value: bool) -> &mut Self {
    self.raw(key, if value { "true" } else { "false" })
  }

  /// `id` (the registry's sequence when `info` has none) and `label` (null), from `identity`.
  fn id_and_label(&mut self, seq: RecordId, identity: Option<&Identity>) -> &mut Self {
    match identity.and_then(|i| i.id()) {
      Some(id) => self.raw("id", id),
      None => self.int("id", seq),
    };
    self.raw("label", identity.and_then(|i| i.label()).unwrap_or("null"))
  }

  fn close(self) {
    self.out.push('}');
  }
}

/// A JSON value written into a new string.
fn json_text(write: impl FnOnce(&mut String)) -> String {
  let mut text = String::new();
  write(&mut text);
  text
}

impl Report {
  /// The report as one line of JSON (no trailing newline). Fields keep the documented order.
  pub fn to_json_line(&self, origin: &Origin) -> String {
    json_text(|out| self.write_json_line(origin, out))
  }

  /// Appends the report as one line of JSON (no newline) to `out`.
  pub fn write_json_line(&self, origin: &Origin, out: &mut String) {
    let identity = self.identity.as_ref();
    let mut report = Object::open(out);
    report
      .raw("kind", self.kind.json())
      .raw("type", &self.type_json)
      .id_and_label(self.seq, identity);
    report.raw("info", identity.map_or("null", |i| &i.info));
    if let Some(context) = identity.and_then(|i| i.context.as_deref()) {
      report.raw("context", context);
    }
    report.raw("site", &self.site);
    if let Some(stack) = &self.stack {
      report.raw("stack", stack);
    }
    let (tracked_at, at) = self.rounded_times();
    report.int("trackedAt", tracked_at);
    if self.kind == ReportKind::Leaked {
      report.int("collectedAt", at);
    }
    report
      .int("ageMs", at - tracked_at)
      .int("count", self.count);
    if self.count_estimated {
      report.flag("countEstimated", true);
    }
    report
      .int("pid", origin.pid)
      .int("threadId", origin.thread_id);
    if let Some(name) = &origin.registry {
      report.raw("registry", name);
    }
    if let Some((touches, dropped)) = &self.touches {
      let list = report.key("touches");
      list.push('[');
      for (index, touch) in touches.iter().enumerate() {
        if index > 0 {
          list.push(',');
        }
        let mut item = Object::open(list);
        item.raw("site", &touch.site).millis("at", touch.at.round());
        if let Some(hint) = &touch.hint {
          item.raw("hint", hint);
        }
        item.close();
      }
      list.push(']');
      report.int("touchesDropped", *dropped);
    }
    report.close();
  }
}

/// Numbers per report in a `ReportBatch`: kind, typeId, siteId, trackedAt, at, count,
/// countEstimated (0 or 1), touchesDropped.
pub const BATCH_NUMBERS: usize = 8;
/// JSON values per report in a `ReportBatch`: id, label, info, context, stack, touches.
pub const BATCH_VALUES: usize = 6;

/// Reports as JS reads them on the event loop (lib/leak-registry.js builds the report objects,
/// with the fields of `write_json_line` in its order, and a spec checks they equal the log's
/// lines). Parsing full lines cost more than everything else in delivering a leak storm, so the
/// numbers travel as numbers, types and sites by id (JS knows their names), and only the JSON
/// values (`id`, `label`, `info`, `context`, `stack`, `touches` as `[[siteId, at, hint], ...]`,
/// each `null` when absent) as JSON text: one flat array, `BATCH_VALUES` per report.
#[derive(Debug, Default, PartialEq)]
pub struct ReportBatch {
  /// `BATCH_NUMBERS` per report.
  pub numbers: Vec<f64>,
  pub values: String,
}

impl ReportBatch {
  pub fn of(reports: &[Report]) -> ReportBatch {
    let mut batch = ReportBatch {
      numbers: Vec::with_capacity(reports.len() * BATCH_NUMBERS),
      values: String::with_capacity(reports.len() * 48 + 2),
    };
    batch.values.push('[');
    for (index, report) in reports.iter().enumerate() {
      if index > 0 {
        batch.values.push(',');
      }
      batch.push(report);
    }
    batch.values.push(']');
    batch
  }

  fn push(&mut self, report: &Report) {
    let (tracked_at, at) = report.rounded_times();
    let dropped = report.touches.as_ref().map_or(0, |(_, dropped)| *dropped);
    let numbers = [
      report.kind as u64,
      u64::from(report.type_id),
      u64::from(report.site_id),
      tracked_at,
      at,
      report.count,
      u64::from(report.count_estimated),
      dropped,
    ];
    self.numbers.extend(numbers.map(|n| n as f64));
    let identity = report.identity.as_ref();
    let out = &mut self.values;
    let mut digits = itoa::Buffer::new();
    match identity.and_then(|i| i.id()) {
      Some(id) => out.push_str(id),
      None => out.push_str(digits.format(report.seq)),
    }
    out.push(',');
    out.push_str(identity.and_then(|i| i.label()).unwrap_or("null"));
    out.push(',');
    out.push_str(identity.map_or("null", |i| &i.info));
    out.push(',');
    out.push_str(
      identity
        .and_then(|i| i.context.as_deref())
        .unwrap_or("null"),
    );
    out.push(',');
    out.push_str(report.stack.as_deref().unwrap_or("null"));
    out.push(',');
    match &report.touches {
      None => out.push_str("null"),
      Some((touches, _)) => {
        out.push('[');
        for (index, touch) in touches.iter().enumerate() {
          if index > 0 {
            out.push(',');
          }
          out.push('[');
          out.push_str(digits.format(touch.site_id));
          out.push(',');
          out.push_str(digits.format(touch.at.round().max(0.0) as u64));
          out.push(',');
          out.push_str(touch.hint.as_deref().unwrap_or("null"));
          out.push(']');
        }
        out.push(']');
      }
    }
  }
}

impl Report {
  /// `trackedAt` and the time of the report, rounded once (so that ageMs is exactly their
  /// difference), the report never before the tracking.
  fn rounded_times(&self) -> (u64, u64) {
    let tracked_at = self.tracked_at.round().max(0.0);
    (tracked_at as u64, self.at.round().max(tracked_at) as u64)
  }
}

/// The inventory as a JSON array of `{ type, id, label, site, siteWeight?, trackedAt, ageMs,
/// suspected, context? }` (`siteWeight` only for a site captured by sampling).
pub fn open_json(open: &[OpenResource<'_>], now: f64) -> String {
  json_text(|json| {
    json.push('[');
    for (index, resource) in open.iter().enumerate() {
      if index > 0 {
        json.push(',');
      }
      let mut item = Object::open(json);
      item
        .raw("type", resource.type_json)
        .id_and_label(resource.seq, resource.identity)
        .raw("site", resource.site);
      if resource.site_weight > 1 {
        item.int("siteWeight", resource.site_weight);
      }
      item
        .millis("trackedAt", resource.tracked_at.round())
        .millis("ageMs", (now - resource.tracked_at).max(0.0).round());
      item.flag("suspected", resource.suspected);
      if let Some(context) = resource.identity.and_then(|i| i.context.as_deref()) {
        item.raw("context", context);
      }
      item.close();
    }
    json.push(']');
  })
}

/// Open resources listed per site in the exit inventory; the rest of a site is counted.
pub const INVENTORY_PER_SITE: usize = 5;

/// A JSON string literal shown to a person: without its quotes when it holds no escape, else the
/// literal itself, so that a newline or a control character in a name can never forge a line.
fn display(json: &str) -> &str {
  match json
    .strip_prefix('"')
    .and_then(|inner| inner.strip_suffix('"'))
  {
    Some(inner) if !inner.contains('\\') => inner,
    _ => json,
  }
}

/// The exit inventory, grouped by site and type, largest group first, each open resource's id
/// and label listed under its group (up to `INVENTORY_PER_SITE`, then a count): what
/// `reportOnExit` prints. Empty when nothing is open.
pub fn exit_inventory(open: &[OpenResource<'_>], now: f64, origin: &Origin) -> String {
  if open.is_empty() {
    return String::new();
  }
  // Groups in first-seen order (oldest resource first) before sorting by size.
  let mut groups: Vec<(&str, &str, Vec<&OpenResource<'_>>)> = Vec::new();
  for resource in open {
    match groups
      .iter_mut()
      .find(|g| g.0 == resource.site && g.1 == resource.type_json)
    {
      Some(group) => group.2.push(resource),
      None => groups.push((resource.site, resource.type_json, vec![resource])),
    }
  }
  groups.sort_by_key(|group| std::cmp::Reverse(group.2.len()));
  let name = origin
    .registry
    .as_deref()
    .map(|n| format!(" {n}"))
    .unwrap_or_default();
  let mut text = String::new();
  let _ = writeln!(
    text,
    "ephemeron LeakRegistry{name} (pid {}, thread {}): {} tracked resource(s) still open at exit",
    origin.pid,
    origin.thread_id,
    open.len()
  );
  for (site, type_json, resources) in groups {
    let oldest = resources
      .iter()
      .map(|r| r.tracked_at)
      .fold(f64::INFINITY, f64::min);
    let suspected = resources.iter().filter(|r| r.suspected).count();
    let suspected = if suspected > 0 {
      format!(", {suspected} suspected")
    } else {
      String::new()
    };
    // Sites captured by sampling stand for more resources than were captured: say so.
    let weighted: u64 = resources.iter().map(|r| u64::from(r.site_weight)).sum();
    let estimate = if weighted > resources.len() as u64 {
      format!(", sites sampled: about {weighted} from here")
    } else {
      String::new()
    };
    let age = ((now - oldest).max(0.0) / 1000.0).round();
    let _ = writeln!(
      text,
      "  {} x {} from {} (oldest {age} s{suspected}{estimate})",
      resources.len(),
      display(type_json),
      display(site)
    );
    for resource in resources.iter().take(INVENTORY_PER_SITE) {
      let id = resource
        .identity
        .and_then(|i| i.id())
        .map_or_else(|| resource.seq.to_string(), str::to_string);
      let label = resource
        .identity
        .and_then(|i| i.label())
        .map(|label| format!(" {label}"))
        .unwrap_or_default();
      let mark = if resource.suspected {
        " (suspected)"
      } else {
        ""
      };
      // Context is JSON text: JSON escapes line breaks, so it cannot forge a line either.
      let context = resource
        .identity
        .and_then(|i| i.context.as_deref())
        .map(|context| format!(" {context}"))
        .unwrap_or_default();
      let _ = writeln!(text, "      {id}{label}{mark}{context}");
    }
    if resources.len() > INVENTORY_PER_SITE {
      let _ = writeln!(
        text,
        "      ... and {} more",
        resources.len() - INVENTORY_PER_SITE
      );
    }
  }
  text
}

/// Writes `tracked, live, released, leaked, suspected` into an open object.
fn count_fields(json: &mut Object<'_>, counts: &Counts) {
  json
    .int("tracked", counts.tracked)
    .int("live", counts.live)
    .int("released", counts.released);
  json
    .int("leaked", counts.leaked)
    .int("suspected", counts.suspected);
}

/// `{ tracked, live, released, leaked, suspected }` as JSON.
pub fn counts_to_json(counts: &Counts) -> String {
  json_text(|out| {
    let mut json = Object::open(out);
    count_fields(&mut json, counts);
    json.close();
  })
}

/// The counts plus `byType: { [type]: counts }` and `logDropped`.
pub fn stats_json(stats: &Stats<'_>, log_dropped: u64) -> String {
  let by_type = json_text(|out| {
    let mut by_type = Object::open(out);
    for (name, counts) in &stats.by_type {
      by_type.raw_key(name, &counts_to_json(counts));
    }
    by_type.close();
  });
  json_text(|out| {
    let mut json = Object::open(out);
    count_fields(&mut json, &stats.totals);
    json.raw("byType", &by_type).int("logDropped", log_dropped);
    json.close();
  })
}

#[cfg(test)]
mod tests {
  use super::*;
  use crate::core::leak_model::TouchRecord;
  use serde_json::Value;

  fn report(identity: Option<Identity>) -> Report {
    Report {
      kind: ReportKind::Leaked,
      seq: 7,
      type_id: 3,
      type_json: r#""FileHandle""#.into(),
      identity,
      site_id: 5,
      site: r#""/app/server.js:12""#.into(),
      stack: Some(r#""    at open (/app/server.js:12:5)""#.into()),
      tracked_at: 1000.4,
      at: 3500.0,
      count: 2,
      count_estimated: false,
      touches: None,
    }
  }

  fn origin() -> Origin {
    Origin {
      pid: 42,
      thread_id: 3,
      registry: Some(r#""files""#.into()),
    }
  }

  fn file_identity() -> Identity {
    Identity {
      info: r#"{"type":"FileHandle","id":5,"label":"a \"quoted\"\npath","fd":5}"#.into(),
      context: Some(r#"{"request":"r-1","route":"/export"}"#.into()),
    }
  }

  #[test]
  fn a_report_line_has_every_field_in_order() {
    let line = report(Some(file_identity())).to_json_line(&origin());
    assert!(!line.contains('\n'), "one report, one line");
    let parsed: Value = serde_json::from_str(&line).unwrap();
    assert_eq!(parsed["kind"], "leaked");
    assert_eq!(parsed["type"], "FileHandle");
    assert_eq!(parsed["id"], 5, "id comes from info");
    assert_eq!(parsed["label"], "a \"quoted\"\npath");
    assert_eq!(parsed["info"]["fd"], 5);
    assert_eq!(parsed["context"]["route"], "/export", "context as given");
    assert_eq!(parsed["site"], "/app/server.js:12");
    assert_eq!(parsed["stack"], "    at open (/app/server.js:12:5)");
    assert_eq!(
      (
        parsed["trackedAt"].clone(),
        parsed["collectedAt"].clone(),
        parsed["ageMs"].clone()
      ),
      (1000.into(), 3500.into(), 2500.into())
    );
    assert_eq!(
      (
        parsed["count"].clone(),
        parsed["pid"].clone(),
        parsed["registry"].clone()
      ),
      (2.into(), 42.into(), "files".into())
    );
    assert!(
      line.contains(r#""threadId":3,"#),
      "integers are written as integers: {line}"
    );
    assert!(
      line.starts_with(r#"{"kind":"leaked","type":"FileHandle","id":5,"label":"#),
      "documented order: {line}"
    );
    assert!(parsed.get("touches").is_none());
  }

  #[test]
  fn info_is_embedded_as_given_whatever_it_holds() {
    // A lone surrogate escape and a depth no JSON parser with a recursion limit accepts.
    let deep = format!("{}1{}", "[".repeat(300), "]".repeat(300));
    let info = format!(r#"{{"z":"\ud800","a":{deep}}}"#);
    let line = report(Some(Identity {
      info: info.clone().into(),
      context: None,
    }))
    .to_json_line(&origin());
    assert!(line.contains(&format!(r#""info":{info}"#)), "{line}");
  }

  #[test]
  fn suspected_and_released_reports_have_no_collection_time() {
    let mut suspected = report(None);
    suspected.kind = ReportKind::Suspected;
    let parsed: Value = serde_json::from_str(&suspected.to_json_line(&origin())).unwrap();
    assert_eq!(parsed["kind"], "suspected");
    assert!(parsed.get("collectedAt").is_none());
    assert_eq!(parsed["ageMs"], 2500);
    suspected.kind = ReportKind::Released;
    assert!(suspected
      .to_json_line(&origin())
      .starts_with(r#"{"kind":"released""#));
  }

  #[test]
  fn touches_are_listed_in_order_with_the_dropped_count() {
    let mut touched = report(None);
    touched.touches = Some((
      vec![
        TouchRecord {
          site_id: 1,
          site: r#""a.js:1""#.into(),
          at: 1500.2,
          hint: None,
        },
        TouchRecord {
          site_id: 2,
          site: r#""b.js:2""#.into(),
          at: 2500.0,
          hint: Some(r#""query""#.into()),
        },
      ],
      3,
    ));
    let line = touched.to_json_line(&origin());
    assert!(line.ends_with(r#""touches":[{"site":"a.js:1","at":1500},{"site":"b.js:2","at":2500,"hint":"query"}],"touchesDropped":3}"#), "{line}");
    let batch = ReportBatch::of(&[touched]);
    assert!(
      batch
        .values
        .ends_with(r#","    at open (/app/server.js:12:5)",[[1,1500,null],[2,2500,"query"]]]"#),
      "{}",
      batch.values
    );
    assert_eq!(batch.numbers[7], 3.0, "touchesDropped");
  }

  #[test]
  fn a_batch_has_numbers_and_json_values_per_report() {
    let mut plain = report(None);
    plain.stack = None;
    plain.kind = ReportKind::Released;
    plain.count_estimated = true;
    let batch = ReportBatch::of(&[report(Some(file_identity())), plain]);
    assert_eq!(
      batch.numbers,
      [0.0, 3.0, 5.0, 1000.0, 3500.0, 2.0, 0.0, 0.0, 2.0, 3.0, 5.0, 1000.0, 3500.0, 2.0, 1.0, 0.0],
      "kind, typeId, siteId, trackedAt, at, count, countEstimated, touchesDropped"
    );
    let values: Value = serde_json::from_str(&batch.values).unwrap();
    let values = values.as_array().unwrap();
    assert_eq!(values.len(), 2 * BATCH_VALUES);
    assert_eq!(
      (values[0].clone(), values[1].clone()),
      (5.into(), "a \"quoted\"\npath".into()),
      "id and label from info"
    );
    assert_eq!(values[2]["fd"], 5);
    assert_eq!(values[3]["request"], "r-1", "context");
    assert_eq!(values[4], "    at open (/app/server.js:12:5)");
    assert_eq!(values[5], Value::Null, "no touches");
    assert_eq!(
      values[6..].to_vec(),
      [
        7.into(),
        Value::Null,
        Value::Null,
        Value::Null,
        Value::Null,
        Value::Null
      ],
      "the sequence as id; nulls"
    );
    assert_eq!(
      ReportBatch::of(&[]),
      ReportBatch {
        numbers: vec![],
        values: "[]".into()
      }
    );
  }

  #[test]
  fn without_info_the_id_is_the_sequence_and_the_label_null() {
    let mut without = report(None);
    without.stack = None;
    let parsed: Value = serde_json::from_str(&without.to_json_line(&Origin::default())).unwrap();
    assert_eq!(parsed["id"], 7);
    assert_eq!(parsed["label"], Value::Null);
    assert_eq!(parsed["info"], Value::Null);
    assert!(
      parsed.get("stack").is_none(),
      "no stack captured, no stack field"
    );
    assert!(parsed.get("registry").is_none());
    assert!(parsed.get("context").is_none(), "no context, no field");
  }

  fn open_resource<'a>(
    seq: RecordId,
    type_json: &'a str,
    site: &'a str,
    tracked_at: f64,
    identity: Option<&'a Identity>,
  ) -> OpenResource<'a> {
    OpenResource {
      seq,
      type_json,
      identity,
      site,
      site_weight: 1,
      tracked_at,
      suspected: false,
    }
  }

  #[test]
  fn the_exit_inventory_groups_by_site_and_type_largest_first_and_lists_ids() {
    let file = file_identity();
    let mut open = vec![
      open_resource(1, r#""Socket""#, r#""/a.js:1""#, 0.0, None),
      open_resource(2, r#""FileHandle""#, r#""/b.js:2""#, 1000.0, Some(&file)),
      open_resource(3, r#""FileHandle""#, r#""/b.js:2""#, 2000.0, None),
    ];
    open[2].suspected = true;
    let text = exit_inventory(&open, 11_000.0, &origin());
    let lines: Vec<_> = text.lines().collect();
    assert!(
      lines[0].contains(r#"LeakRegistry "files""#)
        && lines[0].contains("3 tracked resource(s) still open at exit"),
      "{text}"
    );
    assert_eq!(
      lines[1],
      "  2 x FileHandle from /b.js:2 (oldest 10 s, 1 suspected)"
    );
    assert_eq!(
      lines[2],
      r#"      5 "a \"quoted\"\npath" {"request":"r-1","route":"/export"}"#
    );
    assert_eq!(lines[3], "      3 (suspected)");
    assert_eq!(lines[4], "  1 x Socket from /a.js:1 (oldest 11 s)");
    assert_eq!(lines[5], "      1");
    assert_eq!(exit_inventory(&[], 0.0, &origin()), "");
  }

  #[test]
  fn an_estimated_count_says_so_and_sampled_sites_say_what_they_stand_for() {
    let mut sampled = report(None);
    sampled.count = 15;
    sampled.count_estimated = true;
    let line = sampled.to_json_line(&origin());
    assert!(
      line.contains(r#""count":15,"countEstimated":true,"pid":42"#),
      "{line}"
    );
    assert!(
      !report(None)
        .to_json_line(&origin())
        .contains("countEstimated"),
      "only when it is one"
    );
    let mut weighted = open_resource(1, r#""T""#, r#""/a.js:1""#, 0.0, None);
    weighted.site_weight = 14;
    let open = [
      weighted.clone(),
      open_resource(2, r#""T""#, r#""/a.js:1""#, 0.0, None),
    ];
    let parsed: Value = serde_json::from_str(&open_json(&open, 0.0)).unwrap();
    assert_eq!(
      (parsed[0]["siteWeight"].clone(), parsed[1].get("siteWeight")),
      (14.into(), None)
    );
    let text = exit_inventory(&open, 0.0, &Origin::default());
    assert!(
      text.contains("2 x T from /a.js:1 (oldest 0 s, sites sampled: about 15 from here)"),
      "{text}"
    );
  }

  #[test]
  fn the_exit_inventory_caps_each_site_and_counts_the_rest() {
    let open: Vec<_> = (1..=8)
      .map(|seq| open_resource(seq, r#""T""#, r#""/a.js:1""#, 0.0, None))
      .collect();
    let text = exit_inventory(&open, 0.0, &Origin::default());
    assert_eq!(
      text
        .lines()
        .filter(|l| l.starts_with("      ") && !l.contains("more"))
        .count(),
      INVENTORY_PER_SITE
    );
    assert!(text.ends_with("      ... and 3 more\n"), "{text}");
  }

  #[test]
  fn names_with_line_breaks_cannot_forge_inventory_lines() {
    let origin = Origin {
      pid: 1,
      thread_id: 0,
      registry: Some(r#""a\nephemeron LeakRegistry (pid 666""#.into()),
    };
    let open = [open_resource(
      1,
      r#""T\n  9 x Forged""#,
      r#""/a.js:1""#,
      0.0,
      None,
    )];
    let text = exit_inventory(&open, 0.0, &origin);
    assert_eq!(text.lines().count(), 3, "{text}");
    assert!(
      text.contains(r#"1 x "T\n  9 x Forged" from /a.js:1"#),
      "{text}"
    );
  }

  #[test]
  fn stats_json_nests_counts_by_type() {
    let one = Counts {
      tracked: 2,
      live: 1,
      released: 1,
      leaked: 0,
      suspected: 1,
    };
    let stats = Stats {
      totals: one,
      by_type: vec![(r#""File\"Handle""#, one)],
    };
    let parsed: Value = serde_json::from_str(&stats_json(&stats, 4)).unwrap();
    assert_eq!(parsed["tracked"], 2);
    assert_eq!(parsed["suspected"], 1);
    assert_eq!(parsed["logDropped"], 4);
    assert_eq!(parsed["byType"]["File\"Handle"]["released"], 1);
    let empty: Value = serde_json::from_str(&stats_json(
      &Stats {
        totals: Counts::default(),
        by_type: vec![],
      },
      0,
    ))
    .unwrap();
    assert_eq!(empty["byType"], serde_json::json!({}));
  }

  #[test]
  fn the_inventory_json_lists_identity_site_age_and_suspicion() {
    let identity = Identity {
      info: r#"{"id":"conn-1"}"#.into(),
      context: Some(r#""tenant-7""#.into()),
    };
    let mut resource = open_resource(9, r#""T""#, r#""/a.js:1""#, 500.0, Some(&identity));
    resource.suspected = true;
    let parsed: Value = serde_json::from_str(&open_json(&[resource], 1500.0)).unwrap();
    assert_eq!(parsed[0]["id"], "conn-1");
    assert_eq!(parsed[0]["ageMs"], 1000);
    assert_eq!(parsed[0]["site"], "/a.js:1");
    assert_eq!(parsed[0]["suspected"], true);
    assert_eq!(parsed[0]["context"], "tenant-7");
  }
}
