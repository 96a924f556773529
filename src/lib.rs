#![deny(clippy::all)]
//! Native core of supertokens-node-mysql-ref-jwt. `api` holds every N-API export; the other
//! modules are one concept each.

mod access_token;
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
mod hot_path;
mod keys;
mod logger;
mod metrics;
mod original_tokens;
mod orphans;
mod raw_export;
mod refresh_token;
mod revocations;
mod servers;
mod session;
mod store;
mod string_arg;
#[cfg(feature = "test-hooks")]
mod test_hooks;
mod token_cache;
