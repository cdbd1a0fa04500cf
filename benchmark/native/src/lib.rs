#![deny(clippy::undocumented_unsafe_blocks)]
//! Natives for the benchmarks only (see Cargo.toml): benchmark/boundary.bench.js and the floor
//! row of benchmark/weak-cache.bench.js.

mod boundary;
mod weak_ref_floor;
