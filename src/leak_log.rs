//! The JSON-lines leak log: one background writer thread per destination (a file or stderr) for
//! the whole process, shared by every registry on every thread that logs there.
//!
//! - The event loop never waits on a disk or a pipe: registries queue lines and return. Opening
//!   a destination never blocks either (a FIFO nobody reads is an error, not a hang).
//! - Whole lines only: one writer per destination writes batches of complete lines, each batch
//!   with one `write` call (O_APPEND), so lines of several registries, or of several processes
//!   appending to one file, never run together.
//! - Nothing is lost silently: a line that does not fit the queue (a leak storm) or that cannot be
//!   written (ENOSPC, EIO) is counted for the registry that sent it, and the writer says so with
//!   one `{"dropped":N,...}` line as soon as it can write again.
//! - `flush` waits, for a bounded time, until what was queued has been written (close, exit).

use crossbeam_channel::{Receiver, Sender};
use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

/// Lines waiting for one destination's writer at most; more are dropped and counted.
pub const QUEUE_LINES: usize = 10_000;
/// A batch is written once it holds this many bytes (or when the queue runs dry).
const BATCH_BYTES: usize = 64 * 1024;

/// What one registry's log did: lines it could not get written, and the first write error.
#[derive(Default)]
pub struct LogCounters {
  dropped: AtomicU64,
  /// Set by the writer on the first failed write; taken (once) by the registry to warn.
  failure: Mutex<Option<String>>,
  failed: AtomicBool,
}

impl LogCounters {
  pub fn dropped(&self) -> u64 {
    self.dropped.load(Ordering::Relaxed)
  }

  /// The first write error, once (for one warning).
  pub fn take_failure(&self) -> Option<String> {
    self.failure.lock().ok()?.take()
  }

  fn drop_lines(&self, lines: u64, error: Option<&io::Error>) {
    self.dropped.fetch_add(lines, Ordering::Relaxed);
    if let Some(error) = error {
      if !self.failed.swap(true, Ordering::Relaxed) {
        if let Ok(mut failure) = self.failure.lock() {
          *failure = Some(error.to_string());
        }
      }
    }
  }
}

/// Appends the given number of complete lines (each ending with a newline) to a string: the
/// sender's lines, formatted on the writer thread, off the event loop.
type LineWriter = Box<dyn FnOnce(&mut String, usize) + Send>;

enum Message {
  /// Lines to write, how many, and who sent them.
  Lines(LineWriter, usize, Arc<LogCounters>),
  /// Lines that did not fit the queue: to announce in the log.
  Dropped(u64),
  /// Write everything queued before this message, then answer.
  Flush(Sender<()>),
  /// Continue in this file (the old one was rotated away), after writing what is queued.
  Reopen(File),
}

/// One destination's writer thread, shared by the registries that log there.
struct Destination {
  /// The path it was opened from, for `reopen` (None: stderr).
  path: Option<PathBuf>,
  messages: Sender<Message>,
  /// Lines sent and not yet written (or found unwritable): the bound of the queue.
  queued: Arc<AtomicUsize>,
}

/// Every destination in use in the process, by canonical path (or "stderr").
static DESTINATIONS: Mutex<Option<HashMap<String, Weak<Destination>>>> = Mutex::new(None);

/// A registry's handle on its destination.
pub struct LeakLog {
  destination: Arc<Destination>,
  counters: Arc<LogCounters>,
}

impl LeakLog {
  /// `destination` is `"stderr"` or a file path, opened for appending (created if missing).
  /// Never blocks: a FIFO that no process reads is an error (ENXIO).
  pub fn open(destination: &str) -> io::Result<LeakLog> {
    let (key, path, out): (String, Option<PathBuf>, Box<dyn Write + Send>) =
      if destination == "stderr" {
        ("stderr".into(), None, Box::new(io::stderr()))
      } else {
        let file = open_append(destination.as_ref())?;
        let path = std::fs::canonicalize(destination)?;
        (
          path.to_string_lossy().into_owned(),
          Some(path),
          Box::new(file),
        )
      };
    let mut destinations = DESTINATIONS
      .lock()
      .unwrap_or_else(|poisoned| poisoned.into_inner());
    let destinations = destinations.get_or_insert_with(HashMap::new);
    destinations.retain(|_, destination| destination.strong_count() > 0);
    let shared = match destinations.get(&key).and_then(Weak::upgrade) {
      Some(shared) => shared,
      None => {
        let shared = Arc::new(Destination::start(path, out)?);
        destinations.insert(key, Arc::downgrade(&shared));
        shared
      }
    };
    Ok(LeakLog {
      destination: shared,
      counters: Arc::default(),
    })
  }

  pub fn counters(&self) -> &LogCounters {
    &self.counters
  }

  /// Queues `lines` lines, which `write(out, n)` appends to `out` (the first `n` of them, each
  /// ending with a newline) on the writer thread; never blocks. Lines beyond the queue's bound
  /// are dropped and counted.
  pub fn write(&self, lines: usize, write: impl FnOnce(&mut String, usize) + Send + 'static) {
    let queued = &self.destination.queued;
    let room = QUEUE_LINES.saturating_sub(queued.load(Ordering::Relaxed));
    if lines > room {
      let dropped = (lines - room) as u64;
      self.counters.drop_lines(dropped, None);
      let _ = self.destination.messages.send(Message::Dropped(dropped));
    }
    let kept = lines.min(room);
    if kept == 0 {
      return;
    }
    queued.fetch_add(kept, Ordering::Relaxed);
    let message = Message::Lines(Box::new(write), kept, self.counters.clone());
    if self.destination.messages.send(message).is_err() {
      queued.fetch_sub(kept, Ordering::Relaxed);
      self.counters.drop_lines(kept as u64, None);
    }
  }

  /// Waits at most `limit` until every line queued so far has been written. False on timeout.
  pub fn flush(&self, limit: Duration) -> bool {
    self.destination.flush(Instant::now() + limit)
  }

  /// Reopens a file destination at its path (after log rotation moved or deleted the file), for
  /// every registry that logs there. Lines queued before are written to the old file.
  pub fn reopen(&self) -> io::Result<()> {
    let Some(path) = &self.destination.path else {
      return Ok(());
    };
    let file = open_append(path)?;
    self
      .destination
      .messages
      .send(Message::Reopen(file))
      .map_err(|_| io::Error::other("the log writer has stopped"))
  }
}

/// Flushes every destination of the process, for at most `limit` in all (at exit).
pub fn flush_all(limit: Duration) {
  let deadline = Instant::now() + limit;
  let destinations: Vec<Arc<Destination>> = {
    let destinations = DESTINATIONS
      .lock()
      .unwrap_or_else(|poisoned| poisoned.into_inner());
    destinations
      .iter()
      .flat_map(|map| map.values().filter_map(Weak::upgrade))
      .collect()
  };
  for destination in destinations {
    destination.flush(deadline);
  }
}

impl Destination {
  fn start(path: Option<PathBuf>, out: Box<dyn Write + Send>) -> io::Result<Destination> {
    let (messages, inbox) = crossbeam_channel::unbounded();
    let queued = Arc::new(AtomicUsize::new(0));
    let writer = Writer {
      out,
      batch: String::with_capacity(BATCH_BYTES),
      senders: Vec::new(),
      dropped: 0,
      queued: queued.clone(),
    };
    std::thread::Builder::new()
      .name("ephemeron-leak-log".into())
      .spawn(move || writer.run(inbox))?;
    Ok(Destination {
      path,
      messages,
      queued,
    })
  }

  fn flush(&self, deadline: Instant) -> bool {
    let (done, finished) = crossbeam_channel::bounded(1);
    if self.messages.send(Message::Flush(done)).is_err() {
      return true;
    }
    finished.recv_deadline(deadline).is_ok()
  }
}

/// The writer thread's state: the batch being built and who sent its lines.
struct Writer {
  out: Box<dyn Write + Send>,
  batch: String,
  /// Lines in `batch` per sender, to count them if the batch cannot be written.
  senders: Vec<(Arc<LogCounters>, u64)>,
  /// Lines dropped since the last `{"dropped":N}` line that could be written.
  dropped: u64,
  queued: Arc<AtomicUsize>,
}

impl Writer {
  fn run(mut self, inbox: Receiver<Message>) {
    // Ends when every registry let go of the destination; what is queued is written first.
    while let Ok(message) = inbox.recv() {
      match message {
        Message::Lines(write, lines, from) => self.push(write, lines, &from),
        Message::Dropped(lines) => self.dropped += lines,
        Message::Flush(done) => {
          self.write_batch();
          let _ = done.send(());
        }
        Message::Reopen(file) => {
          self.write_batch();
          self.out = Box::new(file);
        }
      }
      if inbox.is_empty() {
        self.write_batch();
      }
    }
    self.write_batch();
  }

  /// Adds a sender's lines to the batch, writing the batch first if it is full.
  fn push(&mut self, write: LineWriter, lines: usize, from: &Arc<LogCounters>) {
    if self.batch.len() >= BATCH_BYTES {
      self.write_batch();
    }
    write(&mut self.batch, lines);
    match self.senders.last_mut() {
      Some((sender, count)) if Arc::ptr_eq(sender, from) => *count += lines as u64,
      _ => self.senders.push((from.clone(), lines as u64)),
    }
  }

  /// Writes the batch with one `write` call (more only if the OS writes part of it), preceded
  /// by a `{"dropped":N}` line if lines were lost since the last one.
  fn write_batch(&mut self) {
    if self.batch.is_empty() && self.dropped == 0 {
      return;
    }
    if self.dropped > 0 {
      let notice = format!(
        r#"{{"dropped":{0},"message":"ephemeron: {0} reports dropped (the log's queue was full or writes failed)"}}"#,
        self.dropped
      );
      self.batch.insert_str(0, &(notice + "\n"));
    }
    let result = self
      .out
      .write_all(self.batch.as_bytes())
      .and_then(|()| self.out.flush());
    let senders = std::mem::take(&mut self.senders);
    let lines: u64 = senders.iter().map(|(_, lines)| lines).sum();
    self.queued.fetch_sub(lines as usize, Ordering::Relaxed);
    match result {
      Ok(()) => self.dropped = 0,
      Err(error) => {
        for (from, lines) in &senders {
          from.drop_lines(*lines, Some(&error));
          self.dropped += lines;
        }
      }
    }
    self.batch.clear();
  }
}

/// Opens `path` for appending without blocking (O_NONBLOCK: a FIFO without a reader fails with
/// ENXIO instead of waiting), then makes writes blocking again (they happen on the writer thread).
fn open_append(path: &std::path::Path) -> io::Result<File> {
  let mut options = OpenOptions::new();
  options.create(true).append(true);
  #[cfg(unix)]
  {
    use std::os::unix::fs::OpenOptionsExt;
    options.custom_flags(libc::O_NONBLOCK | libc::O_CLOEXEC);
  }
  let file = options
    .open(path)
    .map_err(|error| match error.raw_os_error() {
      #[cfg(unix)]
      Some(libc::ENXIO) => io::Error::new(error.kind(), "it is a FIFO that no process is reading"),
      _ => error,
    })?;
  #[cfg(unix)]
  {
    use std::os::fd::AsRawFd;
    let fd = file.as_raw_fd();
    // SAFETY: fd is a valid descriptor owned by `file` for the duration of these calls; fcntl
    // with F_GETFL/F_SETFL reads and sets its status flags and touches no memory.
    unsafe {
      let flags = libc::fcntl(fd, libc::F_GETFL);
      if flags >= 0 {
        libc::fcntl(fd, libc::F_SETFL, flags & !libc::O_NONBLOCK);
      }
    }
  }
  Ok(file)
}

#[cfg(test)]
mod tests {
  use super::*;

  /// A `Write` whose bytes the test can read back, that can be held shut (to fill the queue) or
  /// made to fail (as a full disk does).
  #[derive(Clone, Default)]
  struct Shared {
    bytes: Arc<Mutex<Vec<u8>>>,
    failing: Arc<AtomicBool>,
    writes: Arc<AtomicUsize>,
  }

  impl Write for Shared {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
      if self.failing.load(Ordering::Relaxed) {
        return Err(io::Error::from_raw_os_error(28)); // ENOSPC
      }
      self.writes.fetch_add(1, Ordering::Relaxed);
      self.bytes.lock().unwrap().extend_from_slice(bytes);
      Ok(bytes.len())
    }
    fn flush(&mut self) -> io::Result<()> {
      Ok(())
    }
  }

  impl Shared {
    fn lines(&self) -> Vec<String> {
      String::from_utf8(self.bytes.lock().unwrap().clone())
        .unwrap()
        .lines()
        .map(String::from)
        .collect()
    }

    fn log(&self) -> LeakLog {
      LeakLog {
        destination: Arc::new(Destination::start(None, Box::new(self.clone())).unwrap()),
        counters: Arc::default(),
      }
    }
  }

  /// Queues each of `lines` as one line.
  fn write_lines(log: &LeakLog, lines: Vec<String>) {
    log.write(lines.len(), move |out, kept| {
      for line in lines.iter().take(kept) {
        out.push_str(line);
        out.push('\n');
      }
    });
  }

  fn dropped_in_notices(lines: &[String]) -> u64 {
    lines
      .iter()
      .filter(|l| l.starts_with(r#"{"dropped":"#))
      .map(|l| {
        serde_json::from_str::<serde_json::Value>(l).unwrap()["dropped"]
          .as_u64()
          .unwrap()
      })
      .sum()
  }

  #[test]
  fn every_line_is_written_in_order_by_flush() {
    let out = Shared::default();
    let log = out.log();
    for i in 0..50 {
      write_lines(&log, vec![format!(r#"{{"n":{i}}}"#)]);
    }
    assert!(log.flush(Duration::from_secs(5)));
    let lines = out.lines();
    assert_eq!(lines.len(), 50);
    assert_eq!(lines[49], r#"{"n":49}"#);
  }

  #[test]
  fn a_full_queue_drops_lines_and_counts_them() {
    let out = Shared::default();
    let log = out.log();
    let held = out.bytes.lock().unwrap(); // the writer blocks on its first write
    for i in 0..(QUEUE_LINES + 5_000) {
      write_lines(&log, vec![format!("{i}")]);
    }
    drop(held);
    assert!(log.flush(Duration::from_secs(10)));
    let lines = out.lines();
    let written = lines.iter().filter(|l| !l.starts_with('{')).count() as u64;
    assert!(
      log.counters().dropped() >= 5_000,
      "the storm overflowed the queue"
    );
    assert_eq!(
      dropped_in_notices(&lines),
      log.counters().dropped(),
      "and the log says so"
    );
    assert_eq!(
      written + log.counters().dropped(),
      (QUEUE_LINES + 5_000) as u64,
      "every line is either written or counted"
    );
    assert!(
      log.counters().take_failure().is_none(),
      "a full queue is not a write error"
    );
  }

  #[test]
  fn lines_that_cannot_be_written_are_counted_per_sender_and_announced_once_writing_works() {
    let out = Shared::default();
    let (a, b) = (out.log(), out.log());
    let b = LeakLog {
      destination: a.destination.clone(),
      ..b
    };
    out.failing.store(true, Ordering::Relaxed);
    write_lines(&a, vec!["a1".into(), "a2".into()]);
    write_lines(&b, vec!["b1".into()]);
    assert!(a.flush(Duration::from_secs(5)));
    assert_eq!((a.counters().dropped(), b.counters().dropped()), (2, 1));
    let failure = a
      .counters()
      .take_failure()
      .expect("the first failure is kept for one warning");
    assert!(failure.contains("No space left"), "{failure}");
    assert!(a.counters().take_failure().is_none(), "once");
    out.failing.store(false, Ordering::Relaxed);
    write_lines(&a, vec!["a3".into()]);
    assert!(a.flush(Duration::from_secs(5)));
    let lines = out.lines();
    assert_eq!(dropped_in_notices(&lines), 3, "{lines:?}");
    assert_eq!(lines.last().map(String::as_str), Some("a3"));
  }

  #[test]
  fn long_lines_from_many_registries_stay_whole() {
    let out = Shared::default();
    let first = out.log();
    let threads: Vec<_> = (0..4)
      .map(|n| {
        let log = LeakLog {
          destination: first.destination.clone(),
          counters: Arc::default(),
        };
        std::thread::spawn(move || {
          for i in 0..200 {
            write_lines(
              &log,
              vec![format!(
                r#"{{"from":{n},"i":{i},"pad":"{}"}}"#,
                "x".repeat(9_000 + n * 1000)
              )],
            );
          }
        })
      })
      .collect();
    for thread in threads {
      thread.join().unwrap();
    }
    assert!(first.flush(Duration::from_secs(10)));
    let lines = out.lines();
    assert_eq!(lines.len(), 800);
    for line in &lines {
      serde_json::from_str::<serde_json::Value>(line).expect("every line is whole JSON");
    }
    assert!(
      out.writes.load(Ordering::Relaxed) < 800,
      "lines are written in batches"
    );
  }

  #[test]
  fn registries_logging_to_one_file_share_one_writer() {
    let dir = std::env::temp_dir().join(format!("ephemeron-log-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("shared.jsonl");
    let a = LeakLog::open(path.to_str().unwrap()).unwrap();
    let b = LeakLog::open(&format!(
      "{}/../{}/shared.jsonl",
      dir.display(),
      dir.file_name().unwrap().to_str().unwrap()
    ))
    .unwrap();
    assert!(
      Arc::ptr_eq(&a.destination, &b.destination),
      "one writer per destination, however it is spelled"
    );
    write_lines(&a, vec!["1".into()]);
    write_lines(&b, vec!["2".into()]);
    assert!(b.flush(Duration::from_secs(5)));
    std::fs::rename(&path, dir.join("rotated.jsonl")).unwrap();
    a.reopen().unwrap();
    write_lines(&b, vec!["3".into()]);
    flush_all(Duration::from_secs(5));
    assert_eq!(
      std::fs::read_to_string(dir.join("rotated.jsonl")).unwrap(),
      "1\n2\n"
    );
    assert_eq!(
      std::fs::read_to_string(&path).unwrap(),
      "3\n",
      "reopened at the path for every registry"
    );
    std::fs::remove_dir_all(&dir).unwrap();
  }

  #[cfg(unix)]
  #[test]
  fn a_fifo_without_a_reader_is_an_error_not_a_hang() {
    let path = std::env::temp_dir().join(format!("ephemeron-fifo-test-{}", std::process::id()));
    let c_path = std::ffi::CString::new(path.to_str().unwrap()).unwrap();
    // SAFETY: c_path is a valid NUL-terminated path that outlives the call.
    assert_eq!(unsafe { libc::mkfifo(c_path.as_ptr(), 0o600) }, 0);
    let started = Instant::now();
    let error = LeakLog::open(path.to_str().unwrap())
      .err()
      .expect("nobody reads the FIFO");
    assert!(started.elapsed() < Duration::from_secs(1));
    assert!(
      error
        .to_string()
        .contains("FIFO that no process is reading"),
      "{error}"
    );
    std::fs::remove_file(&path).unwrap();
  }
}
