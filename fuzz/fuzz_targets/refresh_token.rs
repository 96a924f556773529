//! Refresh tokens (cookie `sRefreshToken`): `refresh_token::open` with a fixed refresh key.
//!
//! The first byte picks what the rest is:
//! - 0: the token text itself (lossy UTF-8, as a JS string reaches Rust);
//! - 1: sealed contents: a 12-byte nonce then the plaintext, sealed under the fixed key, so
//!   the contents parser is reached past the authentication tag.
#![no_main]

use libfuzzer_sys::fuzz_target;
use supertokens_node_mysql_ref_jwt::fuzz_api;

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    if mode % 2 == 0 {
        fuzz_api::refresh_token(&String::from_utf8_lossy(rest));
    } else {
        let mut nonce = [0u8; 12];
        let n = rest.len().min(12);
        nonce[..n].copy_from_slice(&rest[..n]);
        fuzz_api::refresh_token(&fuzz_api::seal_with_nonce(nonce, &rest[n..]));
    }
});
