//! The one error type. Each variant maps to one of the four documented error kinds; it
//! crosses the N-API boundary as a `Failure` value with the kind's number (see `failure`),
//! which the JS layer turns into the documented `{errType, err}` object. Display is the
//! detail; a database failure keeps the driver's error as its source.

use napi_derive::napi;

// The kinds' numbers, exported to the JS layer (lib/errors.js reads them from the addon).
#[napi]
pub const GENERAL_ERROR: u32 = 1000;
#[napi]
pub const UNAUTHORISED: u32 = 2000;
#[napi]
pub const TRY_REFRESH_TOKEN: u32 = 3000;
#[napi]
pub const UNAUTHORISED_AND_TOKEN_THEFT_DETECTED: u32 = 4000;

/// Every failure of the package, by the documented kind it reaches the app as.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// 1000: misuse, bad config.
    #[error("{0}")]
    General(String),
    /// 1000: the database failed. Driver messages never contain the password (mysql_async
    /// does not echo it), so they are passed on: they are what an operator needs.
    #[error("database error: {0}")]
    Database(#[from] mysql_async::Error),
    /// 2000: the session is gone; the client must log in again.
    #[error("{0}")]
    Unauthorised(String),
    /// 3000: the access token cannot be used; the client should call the refresh API.
    #[error("{0}")]
    TryRefreshToken(String),
    /// 4000: a rotated-out refresh token was replayed.
    #[error("{}", theft_detail(session_handle, user_id))]
    TokenTheft {
        session_handle: String,
        user_id: String,
    },
}

pub type Result<T> = std::result::Result<T, AuthError>;

fn theft_detail(session_handle: &str, user_id: &str) -> String {
    serde_json::json!({ "sessionHandle": session_handle, "userId": user_id }).to_string()
}

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
            AuthError::General(_) | AuthError::Database(_) => GENERAL_ERROR,
            AuthError::Unauthorised(_) => UNAUTHORISED,
            AuthError::TryRefreshToken(_) => TRY_REFRESH_TOKEN,
            AuthError::TokenTheft { .. } => UNAUTHORISED_AND_TOKEN_THEFT_DETECTED,
        }
    }

    /// A deadlock or Galera certification conflict (1213), or a lock wait timeout (1205):
    /// the statement or transaction was rolled back, so running it again is safe.
    pub fn is_retryable(&self) -> bool {
        matches!(self, AuthError::Database(mysql_async::Error::Server(s)) if matches!(s.code, 1205 | 1213))
    }

    /// The connection or the server is gone (I/O, closed connection, shutdown, a Galera node
    /// outside the primary component): another server may answer.
    pub fn is_server_failure(&self) -> bool {
        use mysql_async::{DriverError, Error};
        match self {
            // 1047: WSREP has not yet prepared node for application use; 1053: server
            // shutdown in progress; 1927: connection killed.
            AuthError::Database(Error::Server(s)) => matches!(s.code, 1047 | 1053 | 1927),
            // PoolDisconnected: the pool was replaced by a failover while this call waited.
            AuthError::Database(
                Error::Io(_)
                | Error::Driver(DriverError::ConnectionClosed | DriverError::PoolDisconnected),
            ) => true,
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mysql_async::{DriverError, Error, ServerError};
    use std::error::Error as _;

    fn server(code: u16) -> AuthError {
        Error::Server(ServerError {
            code,
            message: String::new(),
            state: String::new(),
        })
        .into()
    }

    #[test]
    fn database_errors_are_sorted_for_retries() {
        assert!(server(1213).is_retryable() && server(1205).is_retryable());
        assert!(!server(1213).is_server_failure());
        assert!(server(1047).is_server_failure() && !server(1047).is_retryable());
        for other in [1062, 1146] {
            assert!(!server(other).is_retryable() && !server(other).is_server_failure());
        }
        let closed = AuthError::from(Error::Driver(DriverError::ConnectionClosed));
        assert!(closed.is_server_failure());
        let io: Error = std::io::Error::new(std::io::ErrorKind::ConnectionReset, "reset").into();
        assert!(AuthError::from(io).is_server_failure());
        assert!(!AuthError::general("x").is_retryable());
    }

    #[test]
    fn a_database_error_is_general_and_keeps_its_source() {
        let e = server(1213);
        assert_eq!(e.code(), GENERAL_ERROR);
        assert!(e.to_string().starts_with("database error: "));
        assert!(e.source().is_some());
    }

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
