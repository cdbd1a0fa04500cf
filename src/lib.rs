#![deny(clippy::all)]
#![deny(clippy::undocumented_unsafe_blocks)]
//! ephemeron: garbage-collection-aware data structures for Node.js.
//! This file only declares modules (every native is a #[napi] item); docs/architecture.md is the map.

pub mod core;
mod error;
mod gc_notify;
// napi-derive registers #[napi] items only outside `cargo test`, where they look unused.
#[cfg_attr(test, allow(dead_code))]
mod iterable_weak_map;
mod leak_log;
// napi-derive registers #[napi] items only outside `cargo test`, where they look unused.
#[cfg_attr(test, allow(dead_code))]
mod leak_registry;
#[cfg_attr(test, allow(dead_code))]
mod native_protocol;
mod raw;
#[cfg_attr(test, allow(dead_code))]
mod weak_cache;

use napi_derive::napi;

/// The version of the compiled addon. `index.js` compares it with package.json, so a binary left
/// over from another version is reported instead of misbehaving.
#[napi]
pub fn native_version() -> &'static str {
  env!("CARGO_PKG_VERSION")
}
