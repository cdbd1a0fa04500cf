//! Plain Rust state machines: no Node-API types, unit-tested with `cargo test`.

pub mod cache_host;
pub mod cache_policy;
pub mod cache_protocol;
pub mod cache_slots;
pub mod cache_stats;
pub mod event_queue;
pub mod leak_events;
pub mod leak_model;
pub mod leak_report;
pub mod leak_table;
pub mod leak_texts;
pub mod ordered_table;
pub mod panic_fence;
pub mod process_totals;
pub mod protocol;
pub mod record_slab;
pub mod removal_cause;
pub mod site_sampler;
pub mod touch_log;
pub mod weak_table_protocol;
