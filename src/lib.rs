#![deny(clippy::all)]
//! Native core of supertokens-node-mysql-ref-jwt. `api` holds every N-API export; the other
//! modules are one concept each.

mod access_token;
// Under `cfg(test)` napi-derive leaves out the `ctor` that registers each `#[napi]` export with
// Node.js, so nothing refers to the exports and rustc reports them, and all that only they
// reach, as dead code (~150 warnings in `cargo test`). The export modules are the crate's roots,
// as that registration makes them in the real build: allowing dead code in these three (and
// only under test) keeps `cargo test` quiet and still shows a helper that nothing uses.
#[cfg_attr(test, allow(dead_code))]
mod api;
mod b64;
mod cleanup;
mod clock;
mod columns;
mod config;
mod crypto;
mod engine;
mod error;
mod failure;
#[cfg(fuzzing)]
pub mod fuzz_api;
#[cfg_attr(test, allow(dead_code))]
mod hot_path;
mod keys;
mod logger;
mod metrics;
mod original_tokens;
mod orphans;
mod raw_export;
mod refresh_log;
mod refresh_token;
mod revocations;
mod servers;
mod session;
mod store;
mod string_arg;
#[cfg(feature = "test-hooks")]
#[cfg_attr(test, allow(dead_code))]
mod test_hooks;
mod token_cache;
