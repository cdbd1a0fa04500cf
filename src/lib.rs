#![deny(clippy::all)]
#![deny(clippy::undocumented_unsafe_blocks)]
//! ephemeron: garbage-collection-aware data structures for Node.js.
//! This file only declares modules and registers the natives; docs/architecture.md is the map.

pub mod core;
mod error;
mod gc_notify;
mod iterable_weak_map;
mod leak_log;
// napi-derive registers #[napi] items only outside `cargo test`, where they look unused.
#[cfg_attr(test, allow(dead_code))]
mod leak_registry;
mod raw;
mod weak_cache;

use napi::bindgen_prelude::{JsValue, Object};
use napi::Env;
use napi_derive::napi;

#[napi(module_exports)]
pub fn register_natives(exports: Object, env: Env) -> napi::Result<()> {
  // SAFETY: napi-rs calls this once per environment with valid handles.
  unsafe {
    iterable_weak_map::register(env.raw(), exports.raw())
      .and_then(|()| weak_cache::register(env.raw(), exports.raw()))
  }
  .map_err(|e| napi::Error::from_reason(e.message))
}

/// The version of the compiled addon. `index.js` compares it with package.json, so a binary left
/// over from another version is reported instead of misbehaving.
#[napi]
pub fn native_version() -> &'static str {
  env!("CARGO_PKG_VERSION")
}
