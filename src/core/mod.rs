//! Plain Rust state machines: no Node-API types, unit-tested with `cargo test`.

pub mod cache_policy;
pub mod cache_protocol;
pub mod event_queue;
pub mod leak_report;
pub mod leak_table;
pub mod ordered_table;
pub mod panic_fence;
pub mod process_totals;
pub mod protocol;
pub mod removal_cause;
pub mod sampler;
pub mod touch_log;
pub mod weak_table_protocol;
