//! WeakCache keys: strings and numbers, compared as a JS `Map` compares them (SameValueZero).
//!
//! Strings are kept as UTF-16 code units, exactly as JS has them (UTF-8 would merge distinct
//! strings with lone surrogates). Short ones live inline: a weak-tier lookup then compares keys
//! inside the hash table's own memory, without an allocation or a pointer to chase.

use std::hash::{Hash, Hasher};
use std::rc::Rc;

/// Code units stored inline; the enum stays 24 bytes.
pub const INLINE_UNITS: usize = 11;

#[derive(Debug, Clone)]
pub enum CacheKey {
  Inline {
    len: u8,
    units: [u16; INLINE_UNITS],
  },
  /// Shared between an entry and the weak tier's index, so demoting an entry copies nothing.
  Heap(Rc<[u16]>),
  Num(f64),
}

impl CacheKey {
  pub fn string(units: &[u16]) -> Self {
    if units.len() <= INLINE_UNITS {
      let mut inline = [0; INLINE_UNITS];
      inline[..units.len()].copy_from_slice(units);
      CacheKey::Inline {
        len: units.len() as u8,
        units: inline,
      }
    } else {
      CacheKey::Heap(units.into())
    }
  }

  /// The UTF-16 code units of a string key; None for a number.
  pub fn units(&self) -> Option<&[u16]> {
    match self {
      CacheKey::Inline { len, units } => Some(&units[..*len as usize]),
      CacheKey::Heap(units) => Some(units),
      CacheKey::Num(_) => None,
    }
  }

  /// The bits that decide equality: `-0` equals `0` and every NaN equals every NaN, as in `Map`.
  fn number_bits(&self) -> Option<u64> {
    match self {
      CacheKey::Num(n) if *n == 0.0 => Some(0),
      CacheKey::Num(n) if n.is_nan() => Some(f64::NAN.to_bits()),
      CacheKey::Num(n) => Some(n.to_bits()),
      _ => None,
    }
  }
}

impl PartialEq for CacheKey {
  fn eq(&self, other: &Self) -> bool {
    match (self.units(), other.units()) {
      (Some(a), Some(b)) => a == b,
      (None, None) => self.number_bits() == other.number_bits(),
      _ => false,
    }
  }
}

impl Eq for CacheKey {}

impl Hash for CacheKey {
  fn hash<H: Hasher>(&self, state: &mut H) {
    match self.units() {
      Some(units) => units.hash(state),
      None => self.number_bits().hash(state),
    }
  }
}

#[cfg(test)]
mod tests {
  use super::*;
  use std::collections::HashSet;

  fn s(text: &str) -> CacheKey {
    CacheKey::string(&text.encode_utf16().collect::<Vec<_>>())
  }

  #[test]
  fn equality_is_same_value_zero_and_strings_differ_from_numbers() {
    let set: HashSet<CacheKey> = [
      CacheKey::Num(0.0),
      CacheKey::Num(f64::NAN),
      s("1"),
      CacheKey::Num(1.0),
    ]
    .into();
    assert!(set.contains(&CacheKey::Num(-0.0)));
    assert!(set.contains(&CacheKey::Num(-f64::NAN)));
    assert_ne!(s("1"), CacheKey::Num(1.0));
    assert_eq!(set.len(), 4);
  }

  #[test]
  fn short_strings_are_inline_long_ones_shared_and_both_compare_by_content() {
    assert!(matches!(s("user:123456"), CacheKey::Inline { .. }));
    assert!(matches!(s("user:1234567"), CacheKey::Heap(_)));
    assert_eq!(
      s("a long key, longer than eleven units"),
      s("a long key, longer than eleven units")
    );
    assert_ne!(s("a"), s("a\0"), "the length is part of the key");
    assert_eq!(std::mem::size_of::<CacheKey>(), 24);
  }

  #[test]
  fn lone_surrogates_stay_distinct() {
    assert_ne!(CacheKey::string(&[0xD800]), CacheKey::string(&[0xD801]));
  }
}
