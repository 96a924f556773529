//! Parses, defaults and validates the `init` config (SPEC §2). Every error names the field
//! by its full path and what it accepts; a key that is not an option is an error too, with
//! the closest option suggested. Nothing here touches the database.

mod mysql;
mod section;
#[cfg(test)]
mod tests;

use std::str::FromStr;

use napi_derive::napi;
use serde_json::Value;

use crate::error::Result;
use section::{invalid, Section};

/// How the JS layer marks a function in the JSON-serialised config (functions cannot cross
/// as JSON); the functions themselves are handed over separately. Exported to lib/core.js.
#[napi]
pub const FUNCTION_MARK: &str = "\u{0}function";

pub const DEFAULT_CRON: &str = "0 0 0 1-31/7 * *";

#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub mysql: MysqlConfig,
    pub access_token: AccessTokenConfig,
    pub refresh_token: RefreshTokenConfig,
    pub anti_csrf: bool,
    /// Tokens minted by the original library keep working (see `original_tokens`).
    pub accept_original_tokens: bool,
    /// A login beyond this many sessions of one user removes the least recently refreshed.
    pub max_sessions_per_user: Option<u32>,
    pub cookie: CookieConfig,
}

#[derive(Debug, Clone, PartialEq)]
pub struct MysqlConfig {
    /// Servers in order of preference: one (`host`/`port`) or several (`hosts`).
    pub hosts: Vec<HostConfig>,
    pub user: String,
    pub password: String,
    pub database: String,
    pub connection_limit: usize,
    pub signing_key_table: String,
    pub refresh_token_table: String,
    pub ssl: Option<SslConfig>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct HostConfig {
    pub host: String,
    pub port: u16,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SslConfig {
    /// PEM of the CA that signed the server's certificate (else the public web roots).
    pub ca: Option<String>,
    pub reject_unauthorized: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct AccessTokenConfig {
    pub dynamic: bool,
    pub update_interval_ms: u64,
    /// The app supplies the key through `signingKey.get` (then `dynamic` is ignored).
    pub app_key: bool,
    pub validity_ms: u64,
    pub blacklisting: bool,
    /// Revocations reach this process's memory within this many ms (see `revocations`).
    pub revocation_poll_ms: Option<u64>,
    pub path: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RefreshTokenConfig {
    pub validity_ms: u64,
    /// No refresh past the session's creation + this (OWASP absolute timeout).
    pub absolute_validity_ms: Option<u64>,
    /// A rotated-out refresh token reused within this long is not theft (0: off).
    pub reuse_grace_ms: u64,
    pub removal_cron: String,
    pub path: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CookieConfig {
    pub domain: String,
    pub secure: bool,
    pub same_site: SameSite,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum SameSite {
    Strict,
    Lax,
    None,
}

impl SameSite {
    /// The attribute value as written in Set-Cookie.
    pub fn as_cookie_value(self) -> &'static str {
        match self {
            SameSite::Strict => "Strict",
            SameSite::Lax => "Lax",
            SameSite::None => "None",
        }
    }
}

const HOUR_MS: f64 = 3_600_000.0;

/// Cookie attribute values may not contain `;`, `,`, whitespace or control characters.
fn cookie_safe(field: &str, value: String, must_start_with_slash: bool) -> Result<String> {
    let ok = !value.is_empty()
        && value
            .bytes()
            .all(|b| b > 0x20 && b < 0x7f && b != b';' && b != b',')
        && (!must_start_with_slash || value.starts_with('/'));
    if ok {
        Ok(value)
    } else if must_start_with_slash {
        Err(invalid(
            field,
            "a path starting with / without ; , spaces or control characters",
        ))
    } else {
        Err(invalid(
            field,
            "a non-empty value without ; , spaces or control characters",
        ))
    }
}

pub fn validate_cron(field: &str, expr: &str) -> Result<()> {
    if expr.split_whitespace().count() != 6 {
        return Err(invalid(
            field,
            "a cron expression with 6 fields (second minute hour day month weekday)",
        ));
    }
    let schedule = cron::Schedule::from_str(expr)
        .map_err(|e| invalid(field, &format!("a valid cron expression ({e})")))?;
    // e.g. "0 0 0 31 2 *" parses but never fires: the job would silently never run.
    if schedule.upcoming(chrono::Utc).next().is_none() {
        return Err(invalid(field, "a cron expression that fires at some time"));
    }
    Ok(())
}

// The options of each section (mysql's are in mysql.rs).
const ROOT: &[&str] = &["mysql", "tokens", "logging", "cookie"];
const TOKENS: &[&str] = &[
    "accessToken",
    "refreshToken",
    "enableAntiCsrf",
    "acceptOriginalTokens",
    "maxSessionsPerUser",
];
const ACCESS_TOKEN: &[&str] = &[
    "signingKey",
    "validity",
    "blacklisting",
    "revocationPollMs",
    "accessTokenPath",
];
const SIGNING_KEY: &[&str] = &["dynamic", "updateInterval", "get"];
const REFRESH_TOKEN: &[&str] = &[
    "validity",
    "absoluteValidity",
    "reuseGraceSeconds",
    "removalCronjobInterval",
    "renewTokenPath",
];
const LOGGING: &[&str] = &["info", "error"];
const COOKIE: &[&str] = &["domain", "secure", "sameSite"];

pub fn parse(value: &Value) -> Result<Config> {
    let root = Section::root(value, ROOT)?;
    let mysql_config = mysql::parse(&root.object("mysql", true, mysql::MYSQL)?)?;
    let tokens = root.object("tokens", true, TOKENS)?;
    let access = tokens.object("accessToken", false, ACCESS_TOKEN)?;
    let key = access.object("signingKey", false, SIGNING_KEY)?;
    let access_token = AccessTokenConfig {
        dynamic: key.boolean("dynamic", true)?,
        update_interval_ms: (key.number("updateInterval", 24.0, 1.0, 720.0, "hours")? * HOUR_MS)
            as u64,
        app_key: key.function("get")?,
        validity_ms: (access.number("validity", 3600.0, 10.0, 86_400_000.0, "seconds")? * 1000.0)
            as u64,
        blacklisting: access.boolean("blacklisting", false)?,
        revocation_poll_ms: match access.get("revocationPollMs") {
            None => None,
            Some(_) => Some(
                access
                    .integer("revocationPollMs", 0, 50, 60_000, "milliseconds")?
                    .into(),
            ),
        },
        path: cookie_safe(
            &access.name("accessTokenPath"),
            access
                .string("accessTokenPath")?
                .unwrap_or_else(|| "/".into()),
            true,
        )?,
    };

    if access_token.blacklisting && access_token.revocation_poll_ms.is_some() {
        return Err(invalid(
            &access.name("revocationPollMs"),
            "absent when tokens.accessToken.blacklisting is true (choose one way to reject revoked sessions)",
        ));
    }

    let refresh = tokens.object("refreshToken", true, REFRESH_TOKEN)?;
    let removal_cron = refresh
        .string("removalCronjobInterval")?
        .unwrap_or_else(|| DEFAULT_CRON.into());
    validate_cron(&refresh.name("removalCronjobInterval"), &removal_cron)?;
    let refresh_token = RefreshTokenConfig {
        validity_ms: (refresh.number("validity", 2400.0, 1.0, 8760.0, "hours")? * HOUR_MS) as u64,
        reuse_grace_ms: u64::from(refresh.integer("reuseGraceSeconds", 0, 0, 300, "seconds")?)
            * 1000,
        absolute_validity_ms: match refresh.get("absoluteValidity") {
            None => None,
            Some(_) => Some(
                (refresh.number("absoluteValidity", 0.0, 1.0, 87_600.0, "hours")? * HOUR_MS) as u64,
            ),
        },
        removal_cron,
        path: cookie_safe(
            &refresh.name("renewTokenPath"),
            refresh.required_string("renewTokenPath")?,
            true,
        )?,
    };
    let anti_csrf = tokens.boolean("enableAntiCsrf", true)?;
    let accept_original_tokens = tokens.boolean("acceptOriginalTokens", true)?;
    let max_sessions_per_user = match tokens.get("maxSessionsPerUser") {
        None => None,
        Some(_) => Some(tokens.integer("maxSessionsPerUser", 0, 1, 10_000, "sessions")?),
    };

    // The logging functions stay in JS; only their types are checked here.
    let logging = root.object("logging", false, LOGGING)?;
    logging.function("info")?;
    logging.function("error")?;

    let cookie = root.object("cookie", true, COOKIE)?;
    let domain = cookie_safe(
        &cookie.name("domain"),
        cookie.required_string("domain")?,
        false,
    )?;
    let secure = cookie.boolean("secure", true)?;
    let same_site = match cookie.string("sameSite")?.as_deref() {
        None | Some("lax") => SameSite::Lax,
        Some("strict") => SameSite::Strict,
        Some("none") => SameSite::None,
        Some(_) => {
            return Err(invalid(
                &cookie.name("sameSite"),
                "\"strict\", \"lax\" or \"none\"",
            ))
        }
    };
    if same_site == SameSite::None && !secure {
        return Err(invalid(
            &cookie.name("sameSite"),
            "\"strict\" or \"lax\" when cookie.secure is false (browsers reject SameSite=None without Secure)",
        ));
    }

    Ok(Config {
        mysql: mysql_config,
        access_token,
        refresh_token,
        anti_csrf,
        accept_original_tokens,
        max_sessions_per_user,
        cookie: CookieConfig {
            domain,
            secure,
            same_site,
        },
    })
}
