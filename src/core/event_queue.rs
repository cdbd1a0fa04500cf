//! The queue between the garbage collector and the event loop.
//!
//! Finalizers (on the JS thread, or any thread in "pure" finalizer mode) push events; the consumer
//! drains them on the JS thread. A single "wake pending" bit makes a burst of events cost one
//! wake-up of the consumer (one threadsafe-function call) instead of one per event, and a
//! "closing" bit turns the queue off while the environment is torn down, so the finalizers Node
//! runs for every still-live object at exit never look like collections.

use crossbeam_channel::{Receiver, Sender};
use std::sync::atomic::{AtomicBool, Ordering};

pub struct EventQueue<E> {
  tx: Sender<E>,
  rx: Receiver<E>,
  wake_pending: AtomicBool,
  closing: AtomicBool,
}

impl<E> Default for EventQueue<E> {
  fn default() -> Self {
    let (tx, rx) = crossbeam_channel::unbounded();
    EventQueue {
      tx,
      rx,
      wake_pending: AtomicBool::new(false),
      closing: AtomicBool::new(false),
    }
  }
}

impl<E> EventQueue<E> {
  pub fn new() -> Self {
    Self::default()
  }

  /// Queues an event. Returns true when the caller must wake the consumer: this is the first
  /// event since the consumer last drained. Events pushed while closing are dropped.
  pub fn push(&self, event: E) -> bool {
    if self.is_closing() {
      return false;
    }
    // The receiver lives as long as `self`, so sending cannot fail.
    let _ = self.tx.send(event);
    !self.wake_pending.swap(true, Ordering::AcqRel)
  }

  /// Takes every queued event, oldest first. The wake bit is cleared before reading, so an event
  /// pushed while the batch is handled asks for a new wake-up instead of being stranded.
  pub fn drain(&self) -> Vec<E> {
    self.wake_pending.store(false, Ordering::Release);
    self.rx.try_iter().collect()
  }

  /// True when nothing is queued (cheap: lets hot paths skip a drain).
  pub fn is_empty(&self) -> bool {
    self.rx.is_empty()
  }

  /// Stops accepting events and discards the queued ones: the environment is going away.
  pub fn close(&self) {
    self.closing.store(true, Ordering::Release);
    while self.rx.try_recv().is_ok() {}
  }

  pub fn is_closing(&self) -> bool {
    self.closing.load(Ordering::Acquire)
  }
}

#[cfg(test)]
mod tests {
  use super::*;
  use std::sync::Arc;

  #[test]
  fn first_push_after_a_drain_asks_for_one_wake_up() {
    let q = EventQueue::new();
    assert!(q.push(1));
    assert!(!q.push(2));
    assert!(!q.push(3));
    assert_eq!(q.drain(), vec![1, 2, 3]);
    assert!(
      q.push(4),
      "a push after the drain must wake the consumer again"
    );
    assert_eq!(q.drain(), vec![4]);
    assert!(q.drain().is_empty());
  }

  #[test]
  fn closing_drops_queued_and_later_events() {
    let q = EventQueue::new();
    q.push("queued before close");
    q.close();
    assert!(q.is_closing());
    assert!(!q.push("after close"));
    assert!(q.drain().is_empty());
    assert!(q.is_empty());
  }

  #[test]
  fn events_from_many_threads_all_arrive_with_few_wake_ups() {
    let q = Arc::new(EventQueue::new());
    let wakes = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let threads: Vec<_> = (0..4u64)
      .map(|t| {
        let (q, wakes) = (q.clone(), wakes.clone());
        std::thread::spawn(move || {
          for i in 0..25_000u64 {
            if q.push(t * 1_000_000 + i) {
              wakes.fetch_add(1, Ordering::Relaxed);
            }
          }
        })
      })
      .collect();
    for t in threads {
      t.join().unwrap();
    }
    let mut got = q.drain();
    assert_eq!(got.len(), 100_000);
    got.sort_unstable();
    got.dedup();
    assert_eq!(got.len(), 100_000, "no event lost or duplicated");
    assert_eq!(
      wakes.load(Ordering::Relaxed),
      1,
      "one wake-up for the whole undrained burst"
    );
  }
}
