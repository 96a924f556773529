//! Access tokens (cookie `sAccessToken` / the token passed to getSession): `split`, `kid` and
//! `verify` with a fixed key, as `session::verify_claims` and `keys::lookup` run them.
//!
//! The first byte picks what the rest is:
//! - 0: the token text itself (lossy UTF-8, as a JS string reaches Rust);
//! - 1: a JWT payload, signed under the exact header the fixed key writes, so the claims
//!   parser is reached past the header and signature checks;
//! - 2: a JWT header and payload (split at the first NUL byte), signed: fuzzes the key-id
//!   parser (`jsonwebtoken::decode_header`) with well-formed tokens.
#![no_main]

use libfuzzer_sys::fuzz_target;
use supertokens_node_mysql_ref_jwt::fuzz_api;

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    match mode % 3 {
        0 => {
            fuzz_api::access_token(&String::from_utf8_lossy(rest));
        }
        1 => {
            fuzz_api::access_token(&fuzz_api::sign_payload(rest));
        }
        _ => {
            let (header, payload) = match rest.iter().position(|&b| b == 0) {
                Some(i) => (&rest[..i], &rest[i + 1..]),
                None => (rest, &b""[..]),
            };
            fuzz_api::access_token(&fuzz_api::sign_parts(header, payload));
        }
    }
});
