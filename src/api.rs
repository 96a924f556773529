//! The N-API boundary: thin conversions between JS values and the protocol in `session`.
//! JSON crosses as text (V8's JSON.parse/stringify are fast; the JWT embeds it unparsed).
//! Every export resolves to its value or to a `Failure` (see `failure`); it rejects only
//! when napi-rs cannot convert an argument.

use napi::bindgen_prelude::*;
use napi_derive::napi;
use serde_json::Value;

use crate::engine::{self, engine};
use crate::error::AuthError;
use crate::failure::{settle, Outcome};
use crate::logger::{LogFunction, Logger};
use crate::session::{self, KeySource, NewSession, Refreshed, VerifiedSession};
use crate::store::{Client, SessionInfo};

fn key_source(app_key: &Option<String>) -> KeySource<'_> {
    match app_key {
        Some(k) => KeySource::App(k),
        None => KeySource::Stored,
    }
}

/// The validated settings the JS layer needs to write cookies and headers.
#[napi(object)]
pub struct Settings {
    pub cookie_domain: String,
    pub cookie_secure: bool,
    /// "Strict" | "Lax" | "None", as written in Set-Cookie.
    pub cookie_same_site: String,
    pub access_token_path: String,
    pub refresh_token_path: String,
    pub anti_csrf: bool,
    /// The app supplies the signing key (`signingKey.get`).
    pub app_key: bool,
}

/// Validates the config (functions marked, see config::FUNCTION_MARK), creates tables and
/// keys, starts the removal job. `log(level, message)` receives the package's log lines.
#[napi]
pub async fn init(
    config_json: String,
    #[napi(ts_arg_type = "(line: LogLine) => void")] log: LogFunction,
) -> Result<Outcome<Settings>> {
    let started = match serde_json::from_str::<Value>(&config_json) {
        Ok(config) => engine::init(config, Logger::new(log)).await,
        Err(_) => Err(AuthError::general("config: init expects a config object")),
    };
    Ok(settle(started.map(|e| settings(&e.config))))
}

fn settings(c: &crate::config::Config) -> Settings {
    Settings {
        cookie_domain: c.cookie.domain.clone(),
        cookie_secure: c.cookie.secure,
        cookie_same_site: c.cookie.same_site.as_cookie_value().to_string(),
        access_token_path: c.access_token.path.clone(),
        refresh_token_path: c.refresh_token.path.clone(),
        anti_csrf: c.anti_csrf,
        app_key: c.access_token.app_key,
    }
}

#[napi]
pub async fn close() -> Result<Outcome<()>> {
    settled(engine::close()).await
}

/// A new or refreshed session's tokens; times are ms since the epoch.
#[napi(object)]
pub struct Tokens {
    pub handle: String,
    pub access_token: String,
    pub access_token_expires: i64,
    pub refresh_token: String,
    pub refresh_token_expires: i64,
    pub id_refresh_token: String,
    pub anti_csrf_token: Option<String>,
}

impl From<NewSession> for Tokens {
    fn from(s: NewSession) -> Self {
        Tokens {
            handle: s.handle,
            access_token: s.access_token,
            access_token_expires: s.access_token_expires as i64,
            refresh_token: s.refresh_token,
            refresh_token_expires: s.refresh_token_expires as i64,
            id_refresh_token: s.id_refresh_token,
            anti_csrf_token: s.anti_csrf_token,
        }
    }
}

/// A refresh's answer: the new tokens, and the session's user id and JWT payload (JSON text).
#[napi(object)]
pub struct RefreshedTokens {
    pub tokens: Tokens,
    pub user_id: String,
    pub jwt_payload: Option<String>,
}

impl From<Refreshed> for RefreshedTokens {
    fn from(r: Refreshed) -> Self {
        RefreshedTokens {
            tokens: r.tokens.into(),
            user_id: r.user_id,
            jwt_payload: r.jwt_payload,
        }
    }
}

/// Where a login or refresh came from; stored cut to the column sizes.
#[napi(object)]
pub struct ClientInfo {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

/// At most `max` characters (the VARCHAR sizes count characters).
fn cut(s: Option<String>, max: usize) -> Option<String> {
    s.map(|s| match s.char_indices().nth(max) {
        Some((end, _)) => s[..end].to_string(),
        None => s,
    })
}

fn client(info: Option<ClientInfo>) -> Client {
    let info = info.unwrap_or(ClientInfo {
        ip: None,
        user_agent: None,
    });
    Client {
        ip: cut(info.ip, 64),
        user_agent: cut(info.user_agent, 512),
    }
}

/// `maxAccessTokenBytes`: reject, before anything is written, an access token longer than
/// this (the HTTP layer's cookie budget).
#[napi]
pub async fn create_new_session(
    user_id: String,
    jwt_payload: Option<String>,
    session_data: Option<String>,
    max_access_token_bytes: Option<u32>,
    app_key: Option<String>,
    client_info: Option<ClientInfo>,
) -> Result<Outcome<Tokens>> {
    settled(async {
        let source = key_source(&app_key);
        let (e, client) = (engine()?, client(client_info));
        session::create(
            &e,
            user_id,
            jwt_payload,
            session_data,
            max_access_token_bytes,
            source,
            client,
        )
        .await
    })
    .await
}

/// A verification that needed the database (see hot_path); `newAccessToken` is set when a
/// child token was promoted.
#[napi(object)]
pub struct Verified {
    pub handle: String,
    pub user_id: String,
    pub jwt_payload: Option<String>,
    pub new_access_token: Option<String>,
    pub new_access_token_expires: Option<i64>,
}

impl From<VerifiedSession> for Verified {
    fn from(v: VerifiedSession) -> Self {
        let (new_access_token, expires) = v.new_access_token.unzip();
        Verified {
            handle: v.handle,
            user_id: v.user_id,
            jwt_payload: v.jwt_payload,
            new_access_token,
            new_access_token_expires: expires.map(|t| t as i64),
        }
    }
}

#[napi]
pub async fn refresh_session(
    refresh_token: String,
    app_key: Option<String>,
    client_info: Option<ClientInfo>,
) -> Result<Outcome<RefreshedTokens>> {
    settled(async {
        let source = key_source(&app_key);
        session::refresh(&*engine()?, &refresh_token, source, client(client_info)).await
    })
    .await
}

/// One of a user's sessions; times in ms since the epoch, null where unknown.
#[napi(object)]
pub struct UserSession {
    pub session_handle: String,
    pub created_at: Option<i64>,
    pub last_refreshed_at: Option<i64>,
    pub expires_at: i64,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

impl From<SessionInfo> for UserSession {
    fn from(s: SessionInfo) -> Self {
        UserSession {
            session_handle: s.handle,
            created_at: s.created_at.map(|t| t as i64),
            last_refreshed_at: s.last_refreshed_at.map(|t| t as i64),
            expires_at: s.expires_at as i64,
            ip: s.ip,
            user_agent: s.user_agent,
        }
    }
}

/// The user's live sessions, newest first.
#[napi]
pub async fn get_all_sessions_for_user(user_id: String) -> Result<Outcome<Vec<UserSession>>> {
    settled(async {
        let sessions = session::sessions_for_user(&*engine()?, &user_id).await?;
        Ok(sessions
            .into_iter()
            .map(UserSession::from)
            .collect::<Vec<_>>())
    })
    .await
}

/// Removes the user's sessions other than `keepHandle`; resolves to how many went.
#[napi]
pub async fn revoke_other_sessions(user_id: String, keep_handle: String) -> Result<Outcome<u32>> {
    settled(async {
        let removed = session::revoke_others(&*engine()?, &user_id, &keep_handle).await?;
        Ok(removed.min(u32::MAX.into()) as u32)
    })
    .await
}

#[napi]
pub async fn revoke_session(session_handle: String) -> Result<Outcome<bool>> {
    settled(async { session::revoke(&*engine()?, &session_handle).await }).await
}

#[napi]
pub async fn revoke_all_sessions_for_user(user_id: String) -> Result<Outcome<()>> {
    settled(async { session::revoke_all_for_user(&*engine()?, &user_id).await }).await
}

#[napi]
pub async fn get_all_session_handles_for_user(user_id: String) -> Result<Outcome<Vec<String>>> {
    settled(async { session::handles_for_user(&*engine()?, &user_id).await }).await
}

/// The session data as JSON text; `undefined` when it was stored as undefined.
#[napi]
pub async fn get_session_data(session_handle: String) -> Result<Outcome<Option<String>>> {
    settled(async { session::get_data(&*engine()?, &session_handle).await }).await
}

#[napi]
pub async fn update_session_data(
    session_handle: String,
    data: Option<String>,
) -> Result<Outcome<()>> {
    settled(async { session::update_data(&*engine()?, &session_handle, data).await }).await
}

/// `patch`: a JSON object's text, merged into the session data (RFC 7386) on the server.
#[napi]
pub async fn merge_session_data(session_handle: String, patch: String) -> Result<Outcome<()>> {
    settled(async { session::merge_data(&*engine()?, &session_handle, &patch).await }).await
}

/// Prometheus text exposition of the package's counters and database latency (process-wide).
#[napi]
pub fn metrics() -> String {
    crate::metrics::render()
}

/// Runs an operation and settles it into an export's answer (never a rejection).
async fn settled<T, U: From<T>>(
    op: impl std::future::Future<Output = crate::error::Result<T>>,
) -> Result<Outcome<U>> {
    Ok(settle(op.await))
}
