//! The JSON-lines leak log: a background thread writes the lines, so the event loop never waits
//! on a disk or a pipe. The queue is bounded: in a leak storm, lines that do not fit are counted
//! and the writer says so with one `{"dropped":N,...}` line instead of growing without limit.

use crossbeam_channel::{Receiver, Sender, TrySendError};
use std::fs::OpenOptions;
use std::io::{self, BufWriter, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

/// Lines waiting for the writer at most; more are dropped and counted.
pub const QUEUE_LINES: usize = 10_000;

pub struct LeakLog {
  lines: Option<Sender<String>>,
  dropped: Arc<AtomicU64>,
  finished: Receiver<()>,
  writer: Option<JoinHandle<()>>,
}

impl LeakLog {
  /// `destination` is `"stderr"` or a file path, opened for appending (created if missing).
  pub fn open(destination: &str) -> io::Result<LeakLog> {
    let out: Box<dyn Write + Send> = if destination == "stderr" {
      Box::new(io::stderr())
    } else {
      Box::new(
        OpenOptions::new()
          .create(true)
          .append(true)
          .open(destination)?,
      )
    };
    Self::to(out, QUEUE_LINES)
  }

  fn to(out: Box<dyn Write + Send>, capacity: usize) -> io::Result<LeakLog> {
    let (lines, queue) = crossbeam_channel::bounded::<String>(capacity);
    let (done, finished) = crossbeam_channel::bounded(1);
    let dropped = Arc::new(AtomicU64::new(0));
    let counter = dropped.clone();
    let writer = std::thread::Builder::new()
      .name("ephemeron-leak-log".into())
      .spawn(move || {
        write_lines(out, queue, &counter);
        let _ = done.send(());
      })?;
    Ok(LeakLog {
      lines: Some(lines),
      dropped,
      finished,
      writer: Some(writer),
    })
  }

  /// Queues one line; never blocks. A full queue drops the line and counts it.
  pub fn write(&self, line: String) {
    let Some(lines) = &self.lines else { return };
    if let Err(TrySendError::Full(_)) = lines.try_send(line) {
      self.dropped.fetch_add(1, Ordering::Relaxed);
    }
  }

  /// Writes what is queued and stops the writer, waiting at most `limit` for it (a stuck disk
  /// must not hang the process at exit).
  pub fn close(&mut self, limit: Duration) {
    if self.lines.take().is_none() {
      return;
    }
    if self.finished.recv_timeout(limit).is_ok() {
      if let Some(writer) = self.writer.take() {
        let _ = writer.join();
      }
    }
  }
}

impl Drop for LeakLog {
  fn drop(&mut self) {
    self.close(Duration::from_secs(1));
  }
}

fn write_lines(out: Box<dyn Write + Send>, queue: Receiver<String>, dropped: &AtomicU64) {
  let mut out = BufWriter::new(out);
  // Errors are ignored: a log that cannot be written must not take the service down.
  while let Ok(line) = queue.recv() {
    let _ = writeln!(out, "{line}");
    // Flush whenever the queue runs dry, so lines appear promptly but bursts are batched.
    if queue.is_empty() {
      let lost = dropped.swap(0, Ordering::Relaxed);
      if lost > 0 {
        let _ = writeln!(
          out,
          r#"{{"dropped":{lost},"message":"ephemeron: {lost} reports dropped (leak log queue full)"}}"#
        );
      }
      let _ = out.flush();
    }
  }
  let lost = dropped.swap(0, Ordering::Relaxed);
  if lost > 0 {
    let _ = writeln!(
      out,
      r#"{{"dropped":{lost},"message":"ephemeron: {lost} reports dropped (leak log queue full)"}}"#
    );
  }
  let _ = out.flush();
}

#[cfg(test)]
mod tests {
  use super::*;
  use std::sync::Mutex;

  /// A `Write` whose bytes the test can read back, and that can be held shut to fill the queue.
  #[derive(Clone, Default)]
  struct Shared(Arc<Mutex<Vec<u8>>>);

  impl Write for Shared {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
      self.0.lock().unwrap().extend_from_slice(bytes);
      Ok(bytes.len())
    }
    fn flush(&mut self) -> io::Result<()> {
      Ok(())
    }
  }

  impl Shared {
    fn lines(&self) -> Vec<String> {
      String::from_utf8(self.0.lock().unwrap().clone())
        .unwrap()
        .lines()
        .map(String::from)
        .collect()
    }
  }

  #[test]
  fn every_line_is_written_in_order_by_close() {
    let out = Shared::default();
    let mut log = LeakLog::to(Box::new(out.clone()), 100).unwrap();
    for i in 0..50 {
      log.write(format!(r#"{{"n":{i}}}"#));
    }
    log.close(Duration::from_secs(5));
    let lines = out.lines();
    assert_eq!(lines.len(), 50);
    assert_eq!(lines[49], r#"{"n":49}"#);
    log.write("after close".into());
    assert_eq!(out.lines().len(), 50, "a closed log ignores writes");
  }

  #[test]
  fn a_full_queue_drops_lines_and_says_how_many() {
    let out = Shared::default();
    // Hold the writer's output lock so the queue fills up.
    let held = out.0.lock().unwrap();
    let mut log = LeakLog::to(Box::new(out.clone()), 1).unwrap();
    for i in 0..1000 {
      log.write(format!("{i}"));
    }
    drop(held);
    log.close(Duration::from_secs(5));
    let lines = out.lines();
    let written = lines.iter().filter(|l| !l.starts_with('{')).count() as u64;
    let dropped: u64 = lines
      .iter()
      .filter(|l| l.starts_with(r#"{"dropped":"#))
      .map(|l| {
        serde_json::from_str::<serde_json::Value>(l).unwrap()["dropped"]
          .as_u64()
          .unwrap()
      })
      .sum();
    assert!(dropped > 0, "the storm overflowed the queue");
    assert_eq!(
      written + dropped,
      1000,
      "every report is either written or counted as dropped"
    );
  }
}
