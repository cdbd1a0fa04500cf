//! Why an entry left a WeakCache: one vocabulary for the policy's counters, the `reason` that
//! `dispose(value, key, reason)` receives, and the docs (lru-cache's `DisposeReason` plus
//! `'collect'`, in the spirit of Caffeine's `RemovalCause`).

/// The causes, in the order of their numbers on the JS side (the protocol hands JS this list).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RemovalCause {
  /// A value was pushed out of the pinned tier and could not be demoted: a primitive, a fetch in
  /// flight, any value of a cache without a weak tier (`weak: false`), or `pop()`.
  Evict = 0,
  /// `set` replaced the value with a different one.
  Set = 1,
  /// `delete`, `clear`, or `set(key, undefined)`.
  Delete = 2,
  /// The entry was past its ttl: found by `get`, `purgeStale()` or `ttlAutopurge`.
  Expire = 3,
  /// The garbage collector took a demoted value; `dispose` gets `undefined` for it.
  Collect = 4,
  /// A `fetchMethod` failed, was aborted or resolved to `undefined`, and its entry was removed.
  Fetch = 5,
}

impl RemovalCause {
  pub const ALL: [RemovalCause; 6] = [
    RemovalCause::Evict,
    RemovalCause::Set,
    RemovalCause::Delete,
    RemovalCause::Expire,
    RemovalCause::Collect,
    RemovalCause::Fetch,
  ];

  /// The `reason` string `dispose` receives.
  pub fn reason(self) -> &'static str {
    match self {
      RemovalCause::Evict => "evict",
      RemovalCause::Set => "set",
      RemovalCause::Delete => "delete",
      RemovalCause::Expire => "expire",
      RemovalCause::Collect => "collect",
      RemovalCause::Fetch => "fetch",
    }
  }

  /// The `stats()` counter of removals with this cause. Replacements (each one of the `sets`) and
  /// failed fetches have none.
  pub fn stat_name(self) -> Option<&'static str> {
    match self {
      RemovalCause::Evict => Some("evictions"),
      RemovalCause::Set => None,
      RemovalCause::Delete => Some("deleted"),
      RemovalCause::Expire => Some("expired"),
      RemovalCause::Collect => Some("collected"),
      RemovalCause::Fetch => None,
    }
  }

  /// The cause with number `n`, as JS passes it.
  pub fn from_number(n: i32) -> Option<RemovalCause> {
    usize::try_from(n)
      .ok()
      .and_then(|i| RemovalCause::ALL.get(i).copied())
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn numbers_are_positions_in_all_and_round_trip() {
    for (i, cause) in RemovalCause::ALL.iter().enumerate() {
      assert_eq!(*cause as usize, i);
      assert_eq!(RemovalCause::from_number(i as i32), Some(*cause));
    }
    assert_eq!(RemovalCause::from_number(-1), None);
    assert_eq!(RemovalCause::from_number(6), None);
  }

  #[test]
  fn reasons_are_lru_cache_vocabulary_plus_collect() {
    let reasons: Vec<_> = RemovalCause::ALL.iter().map(|c| c.reason()).collect();
    assert_eq!(
      reasons,
      ["evict", "set", "delete", "expire", "collect", "fetch"]
    );
  }
}
