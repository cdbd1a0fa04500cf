//! What a leak report says, and its JSON form. One JSON object is both a line of the log and,
//! parsed on the JS side, the report `onLeak` receives, so the two can never disagree.

use super::leak_table::Stats;
use super::ordered_table::EntryId;
use super::process_totals::Counts;
use serde_json::Value;

/// A resource that was collected without being released.
#[derive(Debug, Clone, PartialEq)]
pub struct Leak {
  /// The registry's own id of the record (used when `info` has no `id`).
  pub seq: EntryId,
  pub type_name: String,
  /// JSON text of the `info` given to `track` (a snapshot taken then), if any.
  pub info: Option<Box<str>>,
  pub site: String,
  pub stack: Option<Box<str>>,
  /// Epoch milliseconds.
  pub tracked_at: f64,
  pub collected_at: f64,
  /// Leaks from this site so far, this one included.
  pub count: u64,
}

/// Where reports come from: fixed for a registry.
#[derive(Debug, Clone, Default)]
pub struct Origin {
  pub pid: u32,
  pub thread_id: f64,
  /// The registry's `name` option.
  pub registry: Option<String>,
}

/// A still-tracked resource, as `open()` lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct OpenResource<'a> {
  pub seq: EntryId,
  pub type_name: &'a str,
  pub info: Option<&'a str>,
  pub site: &'a str,
  pub tracked_at: f64,
}

/// `id` and `label` are lifted out of `info` when it has them; `id` falls back to the sequence.
/// Also returns `info` as JSON text: as given (keeping its key order) when it is valid JSON.
fn identity(seq: EntryId, info: Option<&str>) -> (Value, Value, String) {
  let parsed: Option<Value> = info.and_then(|text| serde_json::from_str(text).ok());
  let field = |name: &str| {
    parsed
      .as_ref()
      .and_then(|info| info.get(name))
      .filter(|value| !value.is_null())
      .cloned()
  };
  let id = field("id").unwrap_or_else(|| Value::from(seq));
  let label = field("label").unwrap_or(Value::Null);
  let text = match (&parsed, info) {
    // A line break between tokens would split the log line: re-serialize such text.
    (Some(value), Some(text)) if text.contains(['\n', '\r']) => value.to_string(),
    (Some(_), Some(text)) => text.to_string(),
    _ => "null".to_string(),
  };
  (id, label, text)
}

fn millis(ms: f64) -> Value {
  Value::from(ms.round() as i64)
}

/// A JSON object written field by field, in the order given (serde_json's map sorts its keys).
struct Object(String);

impl Object {
  fn new() -> Self {
    Object(String::from("{"))
  }

  fn field(self, key: &str, value: Value) -> Self {
    self.raw(key, &value.to_string())
  }

  /// A field whose value is already JSON text.
  fn raw(mut self, key: &str, json: &str) -> Self {
    if self.0.len() > 1 {
      self.0.push(',');
    }
    self.0.push_str(&Value::from(key).to_string());
    self.0.push(':');
    self.0.push_str(json);
    self
  }

  fn finish(mut self) -> String {
    self.0.push('}');
    self.0
  }
}

impl Leak {
  /// The report as one line of JSON (no trailing newline). Fields keep the documented order.
  pub fn to_json_line(&self, origin: &Origin) -> String {
    let (id, label, info) = identity(self.seq, self.info.as_deref());
    let mut report = Object::new()
      .field("type", Value::from(self.type_name.as_str()))
      .field("id", id)
      .field("label", label)
      .raw("info", &info)
      .field("site", Value::from(self.site.as_str()));
    if let Some(stack) = &self.stack {
      report = report.field("stack", Value::from(&**stack));
    }
    // Rounded once, so that ageMs is exactly collectedAt - trackedAt.
    let (tracked_at, collected_at) = (
      self.tracked_at.round(),
      self.collected_at.round().max(self.tracked_at.round()),
    );
    report = report
      .field("trackedAt", millis(tracked_at))
      .field("collectedAt", millis(collected_at))
      .field("ageMs", millis(collected_at - tracked_at))
      .field("count", Value::from(self.count))
      .field("pid", Value::from(origin.pid))
      .field("threadId", Value::from(origin.thread_id));
    if let Some(name) = &origin.registry {
      report = report.field("registry", Value::from(name.as_str()));
    }
    report.finish()
  }
}

/// The inventory as a JSON array of `{ type, id, label, site, trackedAt, ageMs }`.
pub fn open_json(open: &[OpenResource<'_>], now: f64) -> String {
  let items: Vec<String> = open
    .iter()
    .map(|resource| {
      let (id, label, _) = identity(resource.seq, resource.info);
      Object::new()
        .field("type", Value::from(resource.type_name))
        .field("id", id)
        .field("label", label)
        .field("site", Value::from(resource.site))
        .field("trackedAt", millis(resource.tracked_at))
        .field("ageMs", millis((now - resource.tracked_at).max(0.0)))
        .finish()
    })
    .collect();
  format!("[{}]", items.join(","))
}

/// The exit inventory, grouped by site and type, largest group first: what `reportOnExit`
/// prints. Empty when nothing is open.
pub fn exit_inventory(open: &[OpenResource<'_>], now: f64, origin: &Origin) -> String {
  if open.is_empty() {
    return String::new();
  }
  // (site, type) -> (count, oldest tracked_at), in first-seen order before sorting.
  let mut groups: Vec<(&str, &str, usize, f64)> = Vec::new();
  for resource in open {
    match groups
      .iter_mut()
      .find(|g| g.0 == resource.site && g.1 == resource.type_name)
    {
      Some(group) => {
        group.2 += 1;
        group.3 = group.3.min(resource.tracked_at);
      }
      None => groups.push((resource.site, resource.type_name, 1, resource.tracked_at)),
    }
  }
  groups.sort_by_key(|group| std::cmp::Reverse(group.2));
  let name = origin
    .registry
    .as_deref()
    .map(|n| format!(" \"{n}\""))
    .unwrap_or_default();
  let mut text = format!(
    "ephemeron LeakRegistry{name} (pid {}, thread {}): {} tracked resource(s) still open at exit\n",
    origin.pid,
    origin.thread_id,
    open.len()
  );
  for (site, type_name, count, oldest) in groups {
    let age = ((now - oldest).max(0.0) / 1000.0).round();
    text.push_str(&format!(
      "  {count} x {type_name} from {site} (oldest {age} s)\n"
    ));
  }
  text
}

fn counts_json(counts: &Counts) -> Object {
  Object::new()
    .field("tracked", Value::from(counts.tracked))
    .field("live", Value::from(counts.live))
    .field("released", Value::from(counts.released))
    .field("leaked", Value::from(counts.leaked))
}

/// `{ tracked, live, released, leaked }` as JSON.
pub fn counts_to_json(counts: &Counts) -> String {
  counts_json(counts).finish()
}

/// `{ tracked, live, released, leaked, byType: { [type]: { tracked, live, released, leaked } } }`.
pub fn stats_json(stats: &Stats<'_>) -> String {
  let by_type = stats
    .by_type
    .iter()
    .fold(Object::new(), |by_type, (name, counts)| {
      by_type.raw(name, &counts_to_json(counts))
    });
  counts_json(&stats.totals)
    .raw("byType", &by_type.finish())
    .finish()
}

#[cfg(test)]
mod tests {
  use super::*;

  fn leak(info: Option<&str>) -> Leak {
    Leak {
      seq: 7,
      type_name: "FileHandle".into(),
      info: info.map(Into::into),
      site: "/app/server.js:12".into(),
      stack: Some("    at open (/app/server.js:12:5)".into()),
      tracked_at: 1000.4,
      collected_at: 3500.0,
      count: 2,
    }
  }

  fn origin() -> Origin {
    Origin {
      pid: 42,
      thread_id: 3.0,
      registry: Some("files".into()),
    }
  }

  #[test]
  fn a_report_line_has_every_field_in_order() {
    let line = leak(Some(
      r#"{"type":"FileHandle","id":5,"label":"a \"quoted\"\npath","fd":5}"#,
    ))
    .to_json_line(&origin());
    assert!(!line.contains('\n'), "one report, one line");
    let parsed: Value = serde_json::from_str(&line).unwrap();
    assert_eq!(parsed["type"], "FileHandle");
    assert_eq!(parsed["id"], 5, "id comes from info");
    assert_eq!(parsed["label"], "a \"quoted\"\npath");
    assert_eq!(parsed["info"]["fd"], 5);
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
        parsed["threadId"].clone()
      ),
      (2.into(), 42.into(), 3.0.into())
    );
    assert_eq!(parsed["registry"], "files");
    assert!(
      line.starts_with(r#"{"type":"FileHandle","id":5,"label":"#),
      "documented order: {line}"
    );
  }

  #[test]
  fn info_keeps_its_key_order_and_never_breaks_the_line() {
    let line = leak(Some(r#"{"z":1,"a":2}"#)).to_json_line(&origin());
    assert!(line.contains(r#""info":{"z":1,"a":2}"#), "{line}");
    let line = leak(Some("{\n\"z\": 1}")).to_json_line(&origin());
    assert!(
      !line.contains('\n') && line.contains(r#""info":{"z":1}"#),
      "{line}"
    );
    let line = leak(Some("not json")).to_json_line(&origin());
    assert!(line.contains(r#""info":null"#));
  }

  #[test]
  fn without_info_the_id_is_the_sequence_and_the_label_null() {
    let mut without = leak(None);
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
  }

  #[test]
  fn the_exit_inventory_groups_by_site_and_type_largest_first() {
    let open = [
      OpenResource {
        seq: 1,
        type_name: "Socket",
        info: None,
        site: "/a.js:1",
        tracked_at: 0.0,
      },
      OpenResource {
        seq: 2,
        type_name: "FileHandle",
        info: None,
        site: "/b.js:2",
        tracked_at: 1000.0,
      },
      OpenResource {
        seq: 3,
        type_name: "FileHandle",
        info: None,
        site: "/b.js:2",
        tracked_at: 2000.0,
      },
    ];
    let text = exit_inventory(&open, 11_000.0, &origin());
    let lines: Vec<_> = text.lines().collect();
    assert!(
      lines[0].contains("\"files\"")
        && lines[0].contains("3 tracked resource(s) still open at exit"),
      "{text}"
    );
    assert_eq!(lines[1], "  2 x FileHandle from /b.js:2 (oldest 10 s)");
    assert_eq!(lines[2], "  1 x Socket from /a.js:1 (oldest 11 s)");
    assert_eq!(exit_inventory(&[], 0.0, &origin()), "");
  }

  #[test]
  fn stats_json_nests_counts_by_type() {
    let one = Counts {
      tracked: 2,
      live: 1,
      released: 1,
      leaked: 0,
    };
    let stats = Stats {
      totals: one,
      by_type: vec![("File\"Handle", one)],
    };
    let parsed: Value = serde_json::from_str(&stats_json(&stats)).unwrap();
    assert_eq!(parsed["tracked"], 2);
    assert_eq!(parsed["byType"]["File\"Handle"]["released"], 1);
    let empty: Value = serde_json::from_str(&stats_json(&Stats {
      totals: Counts::default(),
      by_type: vec![],
    }))
    .unwrap();
    assert_eq!(empty["byType"], serde_json::json!({}));
  }

  #[test]
  fn the_inventory_json_lists_identity_site_and_age() {
    let open = [OpenResource {
      seq: 9,
      type_name: "T",
      info: Some(r#"{"id":"conn-1"}"#),
      site: "/a.js:1",
      tracked_at: 500.0,
    }];
    let parsed: Value = serde_json::from_str(&open_json(&open, 1500.0)).unwrap();
    assert_eq!(parsed[0]["id"], "conn-1");
    assert_eq!(parsed[0]["ageMs"], 1000);
    assert_eq!(parsed[0]["site"], "/a.js:1");
  }
}
