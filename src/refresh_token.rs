//! Refresh tokens: opaque to the client, sealed with the refresh key (AES-256-GCM), so a
//! forged or altered one is rejected before any database lookup. Inside: the session handle
//! and, for a child token, the sha256 of its parent.

use crate::crypto::{hash_to_bytes, hex, Sealer};
use crate::error::{AuthError, Result};

const NO_PARENT: u8 = 0;
const HAS_PARENT: u8 = 1;

#[derive(Debug, PartialEq)]
pub struct RefreshTokenInfo {
    pub session_handle: String,
    /// sha256 hex of the parent refresh token, while this token is a child.
    pub parent_hash1: Option<String>,
    /// The user id sealed in a token of the original library (ours seal none): it must match
    /// the session row's, as the original checked.
    pub user_id: Option<String>,
}

pub fn create(sealer: &Sealer, session_handle: &str, parent_hash1: Option<&str>) -> Result<String> {
    let mut plain = Vec::with_capacity(33 + session_handle.len());
    match parent_hash1 {
        Some(h) => {
            plain.push(HAS_PARENT);
            plain.extend_from_slice(
                &hash_to_bytes(h).ok_or_else(|| AuthError::general("bad parent hash"))?,
            );
        }
        None => plain.push(NO_PARENT),
    }
    plain.extend_from_slice(session_handle.as_bytes());
    sealer.seal(&plain)
}

/// Any token we did not seal, or whose contents do not parse, is UNAUTHORISED.
pub fn open(sealer: &Sealer, token: &str) -> Result<RefreshTokenInfo> {
    let bad = || AuthError::unauthorised("refresh token is invalid");
    let plain = sealer.open(token).ok_or_else(bad)?;
    let (parent_hash1, handle) = match plain.split_first() {
        Some((&NO_PARENT, rest)) => (None, rest),
        Some((&HAS_PARENT, rest)) if rest.len() > 32 => (Some(hex(&rest[..32])), &rest[32..]),
        _ => return Err(bad()),
    };
    let session_handle = String::from_utf8(handle.to_vec()).map_err(|_| bad())?;
    if session_handle.is_empty() {
        return Err(bad());
    }
    Ok(RefreshTokenInfo {
        session_handle,
        parent_hash1,
        user_id: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::sha256_hex;

    #[test]
    fn parent_and_child_round_trip() {
        let s = Sealer::new("k");
        let parent = create(&s, "handle-1", None).unwrap();
        let info = open(&s, &parent).unwrap();
        assert_eq!(info.session_handle, "handle-1");
        assert_eq!(info.parent_hash1, None);
        let ph = sha256_hex(&parent);
        let child = create(&s, "handle-1", Some(&ph)).unwrap();
        assert_eq!(open(&s, &child).unwrap().parent_hash1, Some(ph));
        assert!(!child.contains("handle"), "opaque");
    }

    #[test]
    fn foreign_and_garbage_tokens_are_unauthorised() {
        let s = Sealer::new("k");
        let t = create(&s, "h", None).unwrap();
        assert_eq!(open(&Sealer::new("other"), &t).unwrap_err().code(), 2000);
        assert_eq!(open(&s, "x.y").unwrap_err().code(), 2000);
        assert_eq!(open(&s, &s.seal(b"").unwrap()).unwrap_err().code(), 2000);
        assert_eq!(
            open(&s, &s.seal(&[1, 2, 3]).unwrap()).unwrap_err().code(),
            2000
        );
    }
}
