//! The one error type. Each variant is one of the four documented error kinds; it crosses
//! the N-API boundary as a `Failure` value with the kind's number (see `failure`), which
//! the JS layer turns into the documented `{errType, err}` object. Display is the detail.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthError {
    /// 1000: misuse, bad config, database trouble.
    General(String),
    /// 2000: the session is gone; the client must log in again.
    Unauthorised(String),
    /// 3000: the access token cannot be used; the client should call the refresh API.
    TryRefreshToken(String),
    /// 4000: a rotated-out refresh token was replayed.
    TokenTheft {
        session_handle: String,
        user_id: String,
    },
}

pub type Result<T> = std::result::Result<T, AuthError>;

impl AuthError {
    pub fn general(msg: impl Into<String>) -> Self {
        AuthError::General(msg.into())
    }
    pub fn unauthorised(msg: impl Into<String>) -> Self {
        AuthError::Unauthorised(msg.into())
    }
    pub fn try_refresh(msg: impl Into<String>) -> Self {
        AuthError::TryRefreshToken(msg.into())
    }

    pub fn code(&self) -> u32 {
        match self {
            AuthError::General(_) => 1000,
            AuthError::Unauthorised(_) => 2000,
            AuthError::TryRefreshToken(_) => 3000,
            AuthError::TokenTheft { .. } => 4000,
        }
    }

    /// The detail after the code: a message, or for theft the JSON `{sessionHandle, userId}`.
    pub fn detail(&self) -> String {
        match self {
            AuthError::General(m) | AuthError::Unauthorised(m) | AuthError::TryRefreshToken(m) => {
                m.clone()
            }
            AuthError::TokenTheft {
                session_handle,
                user_id,
            } => serde_json::json!({ "sessionHandle": session_handle, "userId": user_id })
                .to_string(),
        }
    }
}

impl fmt::Display for AuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.detail())
    }
}

impl std::error::Error for AuthError {}

impl From<mysql_async::Error> for AuthError {
    /// Driver messages never contain the password (mysql_async does not echo it), so they
    /// are passed on as they are: they are what an operator needs to fix the setup.
    fn from(e: mysql_async::Error) -> Self {
        AuthError::General(format!("database error: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_is_the_detail_without_a_code() {
        assert_eq!(AuthError::general("x").to_string(), "x");
        assert_eq!(AuthError::unauthorised("gone").code(), 2000);
        let theft = AuthError::TokenTheft {
            session_handle: "h".into(),
            user_id: "u\"1".into(),
        };
        assert_eq!(
            theft.to_string(),
            r#"{"sessionHandle":"h","userId":"u\"1"}"#
        );
    }
}
