//! How a JS<->Rust call protocol is declared: once, with [`native_ops!`].
//!
//! A class whose hot path crosses into Rust many times per operation (WeakCache,
//! IterableWeakMap) gets one native function per instance, called as `native(op, ...args)`. The
//! declaration names every op and its arguments in order; from it the macro makes the op enum,
//! its list and numbers, the JS names, and a `Call` enum that reads the arguments of each op by
//! their declared positions, so the Rust handler matches on names, never on indices. The native
//! module exports the same declaration as a description (`[{ name, number, args }]`), and
//! lib/native-protocol.js builds the JS adapter from it at load: JS call sites call named
//! methods, and no op number or argument position is written anywhere else.
//!
//! Adding an op: one line in the declaration, its handler (the `match` on `Call` does not compile
//! without it) and its JS call site.

/// The description of one op, as the native module exports it to JS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpDescription {
  /// The name JS calls it by (lowerCamelCase of the variant).
  pub name: String,
  /// The number JS passes as the first argument.
  pub number: u32,
  /// The argument names in order (lowerCamelCase).
  pub args: Vec<String>,
}

/// `insert` from `Insert`, `shareRemoved` from `ShareRemoved`.
pub fn js_name(variant: &str) -> String {
  let mut chars = variant.chars();
  chars
    .next()
    .map(|first| first.to_ascii_lowercase().to_string() + chars.as_str())
    .unwrap_or_default()
}

/// `tailValue` from `tail_value`.
pub fn camel_case(snake: &str) -> String {
  let mut out = String::with_capacity(snake.len());
  let mut upper = false;
  for c in snake.chars() {
    if c == '_' {
      upper = true;
    } else if upper {
      out.push(c.to_ascii_uppercase());
      upper = false;
    } else {
      out.push(c);
    }
  }
  out
}

/// Declares the ops of a native function once:
///
/// ```
/// ephemeron::native_ops! {
///   /// The calls of a counter.
///   pub enum CounterOp, CounterCall {
///     /// Adds `amount`; returns the total.
///     Add(amount),
///     /// Returns the total.
///     Total(),
///   }
/// }
/// assert_eq!(CounterOp::from_number(0), Some(CounterOp::Add));
/// assert_eq!(CounterCall::decode(CounterOp::Add, &[5, 0]), CounterCall::Add { amount: 5 });
/// assert_eq!(CounterOp::describe()[1].name, "total");
/// ```
///
/// makes `enum CounterOp` (numbered in declaration order, with `ALL`, `MAX_ARGS`, `number`,
/// `from_number`, `name`, `args` and `describe`) and `enum CounterCall<V>` with one variant per op
/// whose fields are the named arguments, read by `decode(op, args)` from `args` (at least
/// `MAX_ARGS` values, missing ones padded by the caller).
#[macro_export]
macro_rules! native_ops {
  (
    $(#[$meta:meta])*
    $vis:vis enum $Op:ident, $Call:ident {
      $( $(#[$op_meta:meta])* $Variant:ident ( $($arg:ident),* $(,)? ) ),+ $(,)?
    }
  ) => {
    $(#[$meta])*
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    $vis enum $Op {
      $( $(#[$op_meta])* $Variant ),+
    }

    /// One call, its arguments by name (`V`: the type of a JS value).
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    #[allow(dead_code)]
    $vis enum $Call<V> {
      $( $Variant { $($arg: V),* } ),+
    }

    #[allow(dead_code)]
    impl $Op {
      /// Every op, in the order of their numbers.
      pub const ALL: &'static [$Op] = &[$($Op::$Variant),+];

      /// The most arguments any op takes.
      pub const MAX_ARGS: usize = {
        let counts: &[usize] = &[$(<[&str]>::len(&[$(stringify!($arg)),*])),+];
        let mut max = 0;
        let mut i = 0;
        while i < counts.len() {
          if counts[i] > max {
            max = counts[i];
          }
          i += 1;
        }
        max
      };

      pub fn number(self) -> u32 {
        self as u32
      }

      pub fn from_number(number: u32) -> Option<$Op> {
        Self::ALL.get(usize::try_from(number).ok()?).copied()
      }

      /// The variant's name (`ShareRemoved`).
      pub fn name(self) -> &'static str {
        match self {
          $($Op::$Variant => stringify!($Variant)),+
        }
      }

      /// The argument names in order, as declared (`tail_value`).
      pub fn args(self) -> &'static [&'static str] {
        match self {
          $($Op::$Variant => &[$(stringify!($arg)),*]),+
        }
      }

      /// What the native module exports for JS: every op with its JS name, number and arguments.
      pub fn describe() -> Vec<$crate::core::protocol::OpDescription> {
        Self::ALL
          .iter()
          .map(|op| $crate::core::protocol::OpDescription {
            name: $crate::core::protocol::js_name(op.name()),
            number: op.number(),
            args: op.args().iter().map(|arg| $crate::core::protocol::camel_case(arg)).collect(),
          })
          .collect()
      }
    }

    #[allow(dead_code)]
    impl<V: Copy> $Call<V> {
      /// Reads the arguments of `op` from `args` by their declared positions.
      ///
      /// # Panics
      /// If `args` has fewer than `MAX_ARGS` values (the callers read that many, padding).
      #[allow(unused_assignments, unused_mut, unused_variables)]
      pub fn decode(op: $Op, args: &[V]) -> Self {
        match op {
          $($Op::$Variant => {
            let mut at = 0;
            $(
              let $arg = args[at];
              at += 1;
            )*
            $Call::$Variant { $($arg),* }
          }),+
        }
      }

      /// The op of this call.
      pub fn op(&self) -> $Op {
        match self {
          $($Call::$Variant { .. } => $Op::$Variant),+
        }
      }

      /// The arguments with their declared names, in order.
      pub fn named_args(&self) -> Vec<(&'static str, V)> {
        match self {
          $($Call::$Variant { $($arg),* } => vec![$((stringify!($arg), *$arg)),*]),+
        }
      }
    }
  };
}

#[cfg(test)]
mod tests {
  use super::*;

  crate::native_ops! {
    /// A protocol for the tests.
    pub enum TestOp, TestCall {
      First(a_value, b),
      Second(),
      Third(only),
    }
  }

  #[test]
  fn ops_are_numbered_in_declaration_order_and_round_trip() {
    assert_eq!(TestOp::ALL, [TestOp::First, TestOp::Second, TestOp::Third]);
    for (i, op) in TestOp::ALL.iter().enumerate() {
      assert_eq!(op.number() as usize, i);
      assert_eq!(TestOp::from_number(op.number()), Some(*op));
    }
    assert_eq!(TestOp::from_number(3), None);
    assert_eq!(TestOp::from_number(u32::MAX), None);
    assert_eq!(TestOp::MAX_ARGS, 2);
  }

  #[test]
  fn calls_read_their_arguments_by_declared_position() {
    let args = [10, 20];
    assert_eq!(
      TestCall::decode(TestOp::First, &args),
      TestCall::First { a_value: 10, b: 20 }
    );
    assert_eq!(TestCall::decode(TestOp::Second, &args), TestCall::Second {});
    assert_eq!(
      TestCall::decode(TestOp::Third, &args),
      TestCall::Third { only: 10 }
    );
    let call = TestCall::decode(TestOp::First, &args);
    assert_eq!(call.op(), TestOp::First);
    assert_eq!(call.named_args(), [("a_value", 10), ("b", 20)]);
  }

  #[test]
  fn the_description_uses_js_names() {
    let described = TestOp::describe();
    assert_eq!(
      described[0],
      OpDescription {
        name: "first".into(),
        number: 0,
        args: vec!["aValue".into(), "b".into()],
      }
    );
    assert_eq!(described[1].args, Vec::<String>::new());
    assert_eq!(js_name("ShareRemoved"), "shareRemoved");
    assert_eq!(camel_case("tail_value"), "tailValue");
  }
}
