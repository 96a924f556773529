//! The `init` config: arbitrary bytes as the JSON text `api::init` receives, then
//! `config::parse` (and, for an accepted config, the removal job's first cron time).
#![no_main]

use libfuzzer_sys::fuzz_target;
use supertokens_node_mysql_ref_jwt::fuzz_api;

fuzz_target!(|data: &[u8]| {
    fuzz_api::config(data);
});
