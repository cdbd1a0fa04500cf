//! WeakCache keys: strings and numbers, compared as a JS `Map` compares them (SameValueZero).

use std::hash::{Hash, Hasher};
use std::rc::Rc;

/// A string key is shared (`Rc`) between an entry and the weak tier's index, so demoting an
/// entry copies no string.
#[derive(Debug, Clone)]
pub enum CacheKey {
  Str(Rc<str>),
  Num(f64),
}

impl CacheKey {
  /// The bits that decide equality: `-0` equals `0` and every NaN equals every NaN, as in `Map`.
  fn number_bits(n: f64) -> u64 {
    if n == 0.0 {
      0
    } else if n.is_nan() {
      f64::NAN.to_bits()
    } else {
      n.to_bits()
    }
  }
}

impl PartialEq for CacheKey {
  fn eq(&self, other: &Self) -> bool {
    match (self, other) {
      (CacheKey::Str(a), CacheKey::Str(b)) => a == b,
      (CacheKey::Num(a), CacheKey::Num(b)) => Self::number_bits(*a) == Self::number_bits(*b),
      _ => false,
    }
  }
}

impl Eq for CacheKey {}

impl Hash for CacheKey {
  fn hash<H: Hasher>(&self, state: &mut H) {
    match self {
      CacheKey::Str(s) => s.hash(state),
      CacheKey::Num(n) => Self::number_bits(*n).hash(state),
    }
  }
}

#[cfg(test)]
mod tests {
  use super::*;
  use std::collections::HashSet;

  #[test]
  fn equality_is_same_value_zero_and_strings_differ_from_numbers() {
    let set: HashSet<CacheKey> = [CacheKey::Num(0.0), CacheKey::Num(f64::NAN), CacheKey::Str("1".into()), CacheKey::Num(1.0)].into();
    assert!(set.contains(&CacheKey::Num(-0.0)));
    assert!(set.contains(&CacheKey::Num(-f64::NAN)));
    assert_ne!(CacheKey::Str("1".into()), CacheKey::Num(1.0));
    assert_eq!(set.len(), 4);
  }
}
