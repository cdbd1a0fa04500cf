//! The statistics of a WeakCache: what `stats()` reports, counted by the policy (cache_policy.rs)
//! and by JS, which records the outcome of each lookup.

use super::removal_cause::RemovalCause;

/// What a lookup found, for the statistics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Looked {
  Miss,
  /// A pinned entry's value (or a fetch in flight joined, or its stale value served).
  Hit,
  WeakHit,
  /// A stale value served, or found by a fetch that refreshes it.
  StaleHit,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Stats {
  /// Lookups answered from the cache (pinned entries, fetches in flight, stale values served).
  pub hits: u64,
  pub weak_hits: u64,
  /// The hits that served a stale value (or found one, for a fetch that refreshes it).
  pub stale_hits: u64,
  pub misses: u64,
  /// Values stored (a fetch's placeholder is not one; its result is).
  pub sets: u64,
  pub demotions: u64,
  /// Removals by cause (`RemovalCause as usize`).
  pub removals: [u64; RemovalCause::ALL.len()],
  pub pinned: usize,
  pub weak: usize,
}

impl Stats {
  /// The outcome of a lookup.
  pub fn record(&mut self, lookup: Looked) {
    match lookup {
      Looked::Miss => self.misses += 1,
      Looked::Hit => self.hits += 1,
      Looked::WeakHit => self.weak_hits += 1,
      Looked::StaleHit => {
        self.hits += 1;
        self.stale_hits += 1;
      }
    }
  }

  /// The figures `stats()` reports, named and ordered as JS shows them.
  pub fn named(&self) -> [(&'static str, f64); 12] {
    let removed = |cause: RemovalCause| self.removals[cause as usize] as f64;
    [
      ("hits", self.hits as f64),
      ("weakHits", self.weak_hits as f64),
      ("staleHits", self.stale_hits as f64),
      ("misses", self.misses as f64),
      ("sets", self.sets as f64),
      (stat(RemovalCause::Evict), removed(RemovalCause::Evict)),
      ("demotions", self.demotions as f64),
      (stat(RemovalCause::Collect), removed(RemovalCause::Collect)),
      (stat(RemovalCause::Expire), removed(RemovalCause::Expire)),
      (stat(RemovalCause::Delete), removed(RemovalCause::Delete)),
      ("pinned", self.pinned as f64),
      ("weak", self.weak as f64),
    ]
  }
}

fn stat(cause: RemovalCause) -> &'static str {
  cause.stat_name().unwrap_or("")
}
