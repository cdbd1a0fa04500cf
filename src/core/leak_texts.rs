//! Texts of the leak event log, turned into the JSON the reports embed, off the hot path.
//!
//! JS sends two kinds of text: JSON it made with `JSON.stringify` (`info`, `context`: always
//! well-formed UTF-16, since `JSON.stringify` escapes lone surrogates), and raw text (a stack in
//! V8's format, a `touch()` hint), which is escaped here exactly as `JSON.stringify` would escape
//! it, lone surrogates included, so that nothing JS accepted changes on its way into a report.

use std::fmt::Write;

/// A JSON string literal of UTF-16 text, escaped as `JSON.stringify` escapes it: `"`, `\`, the
/// control characters (short forms where JSON has them) and lone surrogates as `\udxxx`.
pub fn json_string(text: &[u16]) -> String {
  let mut out = String::with_capacity(text.len() + 2);
  out.push('"');
  for unit in char::decode_utf16(text.iter().copied()) {
    match unit {
      Ok('"') => out.push_str("\\\""),
      Ok('\\') => out.push_str("\\\\"),
      Ok('\n') => out.push_str("\\n"),
      Ok('\r') => out.push_str("\\r"),
      Ok('\t') => out.push_str("\\t"),
      Ok('\u{8}') => out.push_str("\\b"),
      Ok('\u{c}') => out.push_str("\\f"),
      Ok(c) if (c as u32) < 0x20 => {
        let _ = write!(out, "\\u{:04x}", c as u32);
      }
      Ok(c) => out.push(c),
      Err(lone) => {
        let _ = write!(out, "\\u{:04x}", lone.unpaired_surrogate());
      }
    }
  }
  out.push('"');
  out
}

/// The value of a top-level field of a JSON object text (as `JSON.stringify` writes it: no
/// spaces), as JSON text; None when the field is absent, `null`, or the text is not an object.
pub fn top_level_field<'a>(json: &'a str, key: &str) -> Option<&'a str> {
  let bytes = json.as_bytes();
  if bytes.first() != Some(&b'{') {
    return None;
  }
  let mut at = 1;
  while at < bytes.len() && bytes[at] != b'}' {
    let key_end = value_end(bytes, at)?;
    let name = &json[at..key_end];
    // `key_end` is the colon: the value follows it.
    let value_start = key_end + 1;
    let value_stop = value_end(bytes, value_start)?;
    if name.len() == key.len() + 2 && &name[1..name.len() - 1] == key {
      let value = &json[value_start..value_stop];
      return (value != "null").then_some(value);
    }
    at = value_stop + usize::from(bytes.get(value_stop) == Some(&b','));
  }
  None
}

/// Where the JSON value that starts at `start` ends (the index after it).
fn value_end(bytes: &[u8], start: usize) -> Option<usize> {
  let mut depth = 0usize;
  let mut in_string = false;
  let mut at = start;
  while at < bytes.len() {
    let byte = bytes[at];
    if in_string {
      match byte {
        b'\\' => at += 1,
        b'"' => {
          in_string = false;
          if depth == 0 {
            return Some(at + 1);
          }
        }
        _ => {}
      }
    } else {
      match byte {
        b'"' => in_string = true,
        b'{' | b'[' => depth += 1,
        b'}' | b']' if depth == 0 => return Some(at),
        b'}' | b']' => {
          depth -= 1;
          if depth == 0 {
            return Some(at + 1);
          }
        }
        b',' | b':' if depth == 0 => return Some(at),
        _ => {}
      }
    }
    at += 1;
  }
  (depth == 0 && !in_string).then_some(at)
}

/// How a stack in V8's format is turned into a report's: which frames are not the user's.
pub struct StackFilter {
  /// The folder of ephemeron's own JS files (with its trailing separator).
  pub own_files: String,
}

/// `    at ` as UTF-16.
const AT: [u16; 7] = [32, 32, 32, 32, 97, 116, 32];
const NEWLINE: u16 = b'\n' as u16;

impl StackFilter {
  /// Whether a frame's location (`file:line:column`, or what V8 writes for builtins) is the
  /// user's: neither Node's own code nor ephemeron's.
  fn is_user_location(&self, location: &[u16]) -> bool {
    !(starts_with(location, "node:")
      || starts_with(location, "internal/")
      || self.is_own(location)
      || starts_with(location, "native")
      || starts_with(location, "<anonymous>"))
  }

  fn is_own(&self, location: &[u16]) -> bool {
    !self.own_files.is_empty() && starts_with(location, &self.own_files)
  }

  /// A raw stack (`Error` and its `    at ...` lines) as the report's `stack`: the user frames
  /// only, as a JSON string literal; and the report's `site`: `file:line` of the first user
  /// frame among the first two below ephemeron's own (the caller, and its caller for callers
  /// that are builtins), if one of them is the user's. Works on the UTF-16 units themselves, so
  /// that a lone surrogate in a function name stays one.
  pub fn stack_and_site(&self, raw: &[u16]) -> (String, Option<String>) {
    let mut kept: Vec<u16> = Vec::with_capacity(raw.len());
    let mut site = None;
    let frames = raw
      .split(|unit| *unit == NEWLINE)
      .filter(|line| line.starts_with(&AT))
      .map(|line| (line, frame_location(&line[AT.len()..])))
      .skip_while(|(_, location)| self.is_own(location));
    for (index, (line, location)) in frames.enumerate() {
      if !self.is_user_location(location) {
        continue;
      }
      if site.is_none() && index < 2 {
        site = Some(site_of(&String::from_utf16_lossy(location)));
      }
      if !kept.is_empty() {
        kept.push(NEWLINE);
      }
      kept.extend_from_slice(line);
    }
    (json_string(&kept), site)
  }
}

fn starts_with(units: &[u16], prefix: &str) -> bool {
  let mut units = units.iter();
  prefix
    .encode_utf16()
    .all(|unit| units.next() == Some(&unit))
}

/// The location part of a frame line's body (after `at `): what is in its last parentheses, or
/// the whole body.
fn frame_location(body: &[u16]) -> &[u16] {
  let (open, close) = (u16::from(b'('), u16::from(b')'));
  match (body.iter().rposition(|unit| *unit == open), body.last()) {
    (Some(start), Some(last)) if *last == close => &body[start + 1..body.len() - 1],
    _ => body,
  }
}

/// `file:line` of a location `file:line:column` (a `file://` URL as a path).
fn site_of(location: &str) -> String {
  let without_column = match location.rsplit_once(':') {
    Some((rest, column)) if column.bytes().all(|b| b.is_ascii_digit()) => rest,
    _ => location,
  };
  match without_column.strip_prefix("file://") {
    Some(path) => percent_decoded(path),
    None => without_column.to_string(),
  }
}

/// A URL path with its `%XX` escapes decoded (as `fileURLToPath` does).
fn percent_decoded(path: &str) -> String {
  let bytes = path.as_bytes();
  let mut out = Vec::with_capacity(bytes.len());
  let mut at = 0;
  while at < bytes.len() {
    let hex = |b: u8| (b as char).to_digit(16);
    if bytes[at] == b'%' && at + 2 < bytes.len() {
      if let (Some(high), Some(low)) = (hex(bytes[at + 1]), hex(bytes[at + 2])) {
        out.push((high * 16 + low) as u8);
        at += 3;
        continue;
      }
    }
    out.push(bytes[at]);
    at += 1;
  }
  String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
  use super::*;

  fn units(text: &str) -> Vec<u16> {
    text.encode_utf16().collect()
  }

  #[test]
  fn raw_text_is_escaped_as_json_stringify_escapes_it() {
    assert_eq!(
      json_string(&units("a \"b\" \\ c\nd\te\u{1}")),
      r#""a \"b\" \\ c\nd\te\u0001""#
    );
    assert_eq!(
      json_string(&units("é 😀")),
      "\"é 😀\"",
      "non-ASCII stays as it is"
    );
    let lone = [u16::from(b'x'), 0xd800, u16::from(b'y'), 0xdfff];
    assert_eq!(json_string(&lone), r#""x\ud800y\udfff""#);
  }

  #[test]
  fn top_level_fields_are_found_and_nested_ones_are_not() {
    let info = r#"{"type":"Conn","nested":{"id":1,"label":"no"},"list":[{"id":2}],"id":"c-1","label":"db \"main\", 5432","port":5432}"#;
    assert_eq!(top_level_field(info, "id"), Some(r#""c-1""#));
    assert_eq!(
      top_level_field(info, "label"),
      Some(r#""db \"main\", 5432""#)
    );
    assert_eq!(top_level_field(info, "port"), Some("5432"));
    assert_eq!(
      top_level_field(info, "nested"),
      Some(r#"{"id":1,"label":"no"}"#)
    );
    assert_eq!(top_level_field(info, "missing"), None);
    assert_eq!(
      top_level_field(r#"{"id":null,"label":7}"#, "id"),
      None,
      "null is absent"
    );
    assert_eq!(
      top_level_field(r#"{"label":7,"id":{"a":[1,{"b":"}"}]}}"#, "id"),
      Some(r#"{"a":[1,{"b":"}"}]}"#)
    );
    assert_eq!(top_level_field(r#""a string""#, "id"), None);
    assert_eq!(top_level_field("{}", "id"), None);
    assert_eq!(
      top_level_field(r#"{"a\"id":1}"#, "id"),
      None,
      "a key that only contains the name"
    );
  }

  fn filter() -> StackFilter {
    StackFilter {
      own_files: "/app/node_modules/ephemeron/lib/".into(),
    }
  }

  #[test]
  fn a_stack_keeps_user_frames_and_names_the_site() {
    let raw = "Error\n    at acquire (/app/src/pool.js:12:5)\n    at handler (file:///app/src/my%20routes.mjs:40:3)\n    at Array.forEach (<anonymous>)\n    at process.processTicksAndRejections (node:internal/process/task_queues:95:5)\n    at /app/node_modules/ephemeron/lib/x.js:1:1";
    let (stack, site) = filter().stack_and_site(&units(raw));
    assert_eq!(site.as_deref(), Some("/app/src/pool.js:12"));
    assert_eq!(
      stack,
      r#""    at acquire (/app/src/pool.js:12:5)\n    at handler (file:///app/src/my%20routes.mjs:40:3)""#
    );
  }

  #[test]
  fn the_site_is_the_callers_caller_when_the_caller_is_not_the_users() {
    let raw = "Error\n    at Array.forEach (<anonymous>)\n    at file:///app/my%20routes.mjs:40:3\n    at main (/app/a.js:1:1)";
    let (_, site) = filter().stack_and_site(&units(raw));
    assert_eq!(site.as_deref(), Some("/app/my routes.mjs:40"));
    let builtins = "Error\n    at Array.forEach (<anonymous>)\n    at node:internal/main:1:1\n    at main (/app/a.js:1:1)";
    assert_eq!(
      filter().stack_and_site(&units(builtins)).1,
      None,
      "only the first two frames name a site"
    );
    let from_track = "Error\n    at LeakRegistry.track (/app/node_modules/ephemeron/lib/leak-registry.js:9:9)\n    at Array.map (<anonymous>)\n    at open (/app/b.js:4:2)";
    let (stack, site) = filter().stack_and_site(&units(from_track));
    assert_eq!(
      site.as_deref(),
      Some("/app/b.js:4"),
      "ephemeron's own frames on top are not counted"
    );
    assert_eq!(stack, r#""    at open (/app/b.js:4:2)""#);
  }

  #[test]
  fn a_lone_surrogate_in_a_function_name_stays_one() {
    let mut raw = units("Error\n    at f");
    raw.push(0xd800);
    raw.extend(units(" (/app/a.js:1:2)"));
    let (stack, site) = filter().stack_and_site(&raw);
    assert_eq!(stack, r#""    at f\ud800 (/app/a.js:1:2)""#);
    assert_eq!(site.as_deref(), Some("/app/a.js:1"));
  }
}
