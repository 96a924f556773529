//! How an operation's failure crosses the N-API boundary: as a value, not a thrown error.
//! napi-rs 3 lets async exports reject only with its own status codes, so each export
//! resolves to its result or to a `Failure` carrying the documented error kind as a number;
//! `lib/errors.js` turns that into the `{errType, err}` object. No code ever travels as text.

use napi::bindgen_prelude::Either;
use napi_derive::napi;

use crate::error::AuthError;

/// A failed operation: `errType` is 1000/2000/3000/4000; for token theft (4000) the
/// affected session's handle and user id are set.
#[napi(object)]
pub struct Failure {
    pub err_type: u32,
    pub message: String,
    pub session_handle: Option<String>,
    pub user_id: Option<String>,
}

impl From<AuthError> for Failure {
    fn from(e: AuthError) -> Self {
        let err_type = e.code();
        match e {
            AuthError::TokenTheft {
                session_handle,
                user_id,
            } => Failure {
                err_type,
                message: format!("refresh token reuse detected for session {session_handle}"),
                session_handle: Some(session_handle),
                user_id: Some(user_id),
            },
            other => Failure {
                err_type,
                message: other.to_string(),
                session_handle: None,
                user_id: None,
            },
        }
    }
}

/// An export's answer: its value converted for JS, or its failure.
pub type Outcome<T> = Either<T, Failure>;

/// Converts a protocol result into an export's answer.
pub fn settle<T, U: From<T>>(r: crate::error::Result<T>) -> Outcome<U> {
    match r {
        Ok(v) => Either::A(v.into()),
        Err(e) => Either::B(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_cross_as_numbers_and_messages_stay_clean() {
        let f = Failure::from(AuthError::try_refresh("access token expired"));
        assert_eq!(
            (f.err_type, f.message.as_str()),
            (3000, "access token expired")
        );
        assert_eq!(Failure::from(AuthError::general("x")).err_type, 1000);
        assert_eq!(
            Failure::from(AuthError::unauthorised("gone")).err_type,
            2000
        );
        let theft = Failure::from(AuthError::TokenTheft {
            session_handle: "h".into(),
            user_id: "u\"1".into(),
        });
        assert_eq!(theft.err_type, 4000);
        assert_eq!(theft.session_handle.as_deref(), Some("h"));
        assert_eq!(theft.user_id.as_deref(), Some("u\"1"));
    }
}
