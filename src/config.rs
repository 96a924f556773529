//! Parses, defaults and validates the `init` config (SPEC §2). Every error names the field
//! and what it accepts. Nothing here touches the database.

use std::str::FromStr;

use serde_json::{Map, Value};

use crate::error::{AuthError, Result};

/// How the JS layer marks a function in the JSON-serialised config (functions cannot cross
/// as JSON); the functions themselves are handed over separately.
pub const FUNCTION_MARK: &str = "\u{0}function";

pub const DEFAULT_CRON: &str = "0 0 0 1-31/7 * *";

#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub mysql: MysqlConfig,
    pub access_token: AccessTokenConfig,
    pub refresh_token: RefreshTokenConfig,
    pub anti_csrf: bool,
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

/// Failover lists longer than this are almost certainly a mistake (a cluster, not a fleet).
const MAX_HOSTS: usize = 16;

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
    pub path: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RefreshTokenConfig {
    pub validity_ms: u64,
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

/// Reads one object of the config, naming every field by its full path in errors.
struct Section<'a> {
    path: &'a str,
    map: Option<&'a Map<String, Value>>,
}

fn invalid(field: &str, expected: &str) -> AuthError {
    AuthError::general(format!("config: {field} must be {expected}"))
}

impl<'a> Section<'a> {
    fn root(value: &'a Value) -> Result<Self> {
        match value {
            Value::Object(map) => Ok(Section {
                path: "",
                map: Some(map),
            }),
            _ => Err(AuthError::general("config: init expects a config object")),
        }
    }

    fn name(&self, key: &str) -> String {
        if self.path.is_empty() {
            key.to_string()
        } else {
            format!("{}.{}", self.path, key)
        }
    }

    fn get(&self, key: &str) -> Option<&'a Value> {
        self.map?.get(key).filter(|v| !v.is_null())
    }

    /// A nested object; `required` makes its absence an error.
    fn section(&self, key: &'a str, required: bool, path: &'a mut String) -> Result<Section<'a>> {
        *path = self.name(key);
        match self.get(key) {
            Some(Value::Object(map)) => Ok(Section {
                path,
                map: Some(map),
            }),
            None if !required => Ok(Section { path, map: None }),
            _ => Err(invalid(path, "an object")),
        }
    }

    fn string(&self, key: &str) -> Result<Option<String>> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::String(s)) if s != FUNCTION_MARK => Ok(Some(s.clone())),
            Some(_) => Err(invalid(&self.name(key), "a string")),
        }
    }

    fn required_string(&self, key: &str) -> Result<String> {
        self.string(key)?
            .ok_or_else(|| invalid(&self.name(key), "a string (required)"))
    }

    fn boolean(&self, key: &str, default: bool) -> Result<bool> {
        match self.get(key) {
            None => Ok(default),
            Some(Value::Bool(b)) => Ok(*b),
            Some(_) => Err(invalid(&self.name(key), "a boolean")),
        }
    }

    /// A finite number within `min..=max` (inclusive), or the default.
    fn number(&self, key: &str, default: f64, min: f64, max: f64, unit: &str) -> Result<f64> {
        match self.get(key) {
            None => Ok(default),
            Some(Value::Number(n)) => match n.as_f64() {
                Some(x) if x >= min && x <= max => Ok(x),
                _ => Err(invalid(
                    &self.name(key),
                    &format!("a number of {unit} from {min} to {max}"),
                )),
            },
            Some(_) => Err(invalid(
                &self.name(key),
                &format!("a number of {unit} from {min} to {max}"),
            )),
        }
    }

    /// Like `number`, for counts: an integer within `min..=max`.
    fn integer(&self, key: &str, default: u32, min: u32, max: u32, unit: &str) -> Result<u32> {
        let x = self.number(key, default.into(), min.into(), max.into(), unit)?;
        if x.fract() != 0.0 {
            return Err(invalid(
                &self.name(key),
                &format!("an integer number of {unit} from {min} to {max}"),
            ));
        }
        Ok(x as u32)
    }

    fn function(&self, key: &str) -> Result<bool> {
        match self.get(key) {
            None => Ok(false),
            Some(Value::String(s)) if s == FUNCTION_MARK => Ok(true),
            Some(_) => Err(invalid(&self.name(key), "a function")),
        }
    }
}

fn table_name(field: &str, value: Option<String>, default: &str) -> Result<String> {
    let name = value.unwrap_or_else(|| default.to_string());
    let ok = !name.is_empty()
        && name.len() <= 64
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if ok {
        Ok(name)
    } else {
        Err(invalid(field, "1 to 64 characters of A-Z, a-z, 0-9 and _"))
    }
}

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

fn port(s: &Section) -> Result<u16> {
    let field = s.name("port");
    if s.get("port")
        .and_then(Value::as_f64)
        .is_some_and(|p| p.fract() != 0.0)
    {
        return Err(invalid(&field, "an integer from 1 to 65535"));
    }
    Ok(s.integer("port", 3306, 1, 65535, "port")? as u16)
}

/// `host`/`port` (one server) or `hosts: [{host, port?}, …]` (failover order), not both.
fn hosts(mysql: &Section) -> Result<Vec<HostConfig>> {
    let field = mysql.name("hosts");
    let Some(list) = mysql.get("hosts") else {
        return Ok(vec![HostConfig {
            host: mysql.string("host")?.unwrap_or_else(|| "localhost".into()),
            port: port(mysql)?,
        }]);
    };
    let both: Vec<String> = ["host", "port"]
        .iter()
        .filter(|k| mysql.get(k).is_some())
        .map(|k| mysql.name(k))
        .collect();
    if !both.is_empty() {
        return Err(AuthError::general(format!(
            "config: {field} cannot be combined with {}: list every server in {field}",
            both.join(" and ")
        )));
    }
    let expected = format!("an array of 1 to {MAX_HOSTS} {{host: string, port?: number}} objects");
    let Value::Array(entries) = list else {
        return Err(invalid(&field, &expected));
    };
    if entries.is_empty() || entries.len() > MAX_HOSTS {
        return Err(invalid(&field, &expected));
    }
    let mut out = Vec::with_capacity(entries.len());
    for (i, entry) in entries.iter().enumerate() {
        let path = format!("{field}[{i}]");
        let Value::Object(map) = entry else {
            return Err(invalid(&path, "an object {host: string, port?: number}"));
        };
        let s = Section {
            path: &path,
            map: Some(map),
        };
        if let Some(key) = map.keys().find(|k| *k != "host" && *k != "port") {
            return Err(AuthError::general(format!(
                "config: {} is not an option (an entry has only host and port)",
                s.name(key)
            )));
        }
        let host = s.required_string("host")?;
        if host.is_empty() {
            return Err(invalid(&s.name("host"), "a non-empty string"));
        }
        let entry = HostConfig {
            host,
            port: port(&s)?,
        };
        if out.contains(&entry) {
            return Err(AuthError::general(format!(
                "config: {path} repeats {}:{}",
                entry.host, entry.port
            )));
        }
        out.push(entry);
    }
    Ok(out)
}

fn ssl(mysql: &Section) -> Result<Option<SslConfig>> {
    let field = mysql.name("ssl");
    match mysql.get("ssl") {
        None | Some(Value::Bool(false)) => Ok(None),
        Some(Value::Bool(true)) => Ok(Some(SslConfig {
            ca: None,
            reject_unauthorized: true,
        })),
        Some(Value::Object(map)) => {
            let s = Section {
                path: &field,
                map: Some(map),
            };
            Ok(Some(SslConfig {
                ca: s.string("ca")?,
                reject_unauthorized: s.boolean("rejectUnauthorized", true)?,
            }))
        }
        Some(_) => Err(invalid(
            &field,
            "a boolean or {ca?: string, rejectUnauthorized?: boolean}",
        )),
    }
}

pub fn parse(value: &Value) -> Result<Config> {
    let root = Section::root(value)?;
    let (mut p_mysql, mut p_tables, mut p_tokens, mut p_access, mut p_key) = (
        String::new(),
        String::new(),
        String::new(),
        String::new(),
        String::new(),
    );
    let (mut p_refresh, mut p_logging, mut p_cookie) =
        (String::new(), String::new(), String::new());

    let mysql = root.section("mysql", true, &mut p_mysql)?;
    let tables = mysql.section("tables", false, &mut p_tables)?;
    let signing_key_table = table_name(
        &tables.name("signingKey"),
        tables.string("signingKey")?,
        "signing_key",
    )?;
    let refresh_token_table = table_name(
        &tables.name("refreshTokens"),
        tables.string("refreshTokens")?,
        "refresh_token",
    )?;
    if signing_key_table == refresh_token_table {
        return Err(invalid(&p_tables, "two different table names"));
    }
    let database = mysql.required_string("database")?;
    if database.is_empty() {
        return Err(invalid(&mysql.name("database"), "a non-empty string"));
    }
    let mysql_config = MysqlConfig {
        hosts: hosts(&mysql)?,
        user: mysql.required_string("user")?,
        password: mysql.required_string("password")?,
        database,
        connection_limit: mysql.integer("connectionLimit", 50, 1, 1000, "connections")? as usize,
        signing_key_table,
        refresh_token_table,
        ssl: ssl(&mysql)?,
    };
    let tokens = root.section("tokens", true, &mut p_tokens)?;
    let access = tokens.section("accessToken", false, &mut p_access)?;
    let key = access.section("signingKey", false, &mut p_key)?;
    let access_token = AccessTokenConfig {
        dynamic: key.boolean("dynamic", true)?,
        update_interval_ms: (key.number("updateInterval", 24.0, 1.0, 720.0, "hours")? * HOUR_MS)
            as u64,
        app_key: key.function("get")?,
        validity_ms: (access.number("validity", 3600.0, 10.0, 86_400_000.0, "seconds")? * 1000.0)
            as u64,
        blacklisting: access.boolean("blacklisting", false)?,
        path: cookie_safe(
            &access.name("accessTokenPath"),
            access
                .string("accessTokenPath")?
                .unwrap_or_else(|| "/".into()),
            true,
        )?,
    };

    let refresh = tokens.section("refreshToken", true, &mut p_refresh)?;
    let removal_cron = refresh
        .string("removalCronjobInterval")?
        .unwrap_or_else(|| DEFAULT_CRON.into());
    validate_cron(&refresh.name("removalCronjobInterval"), &removal_cron)?;
    let refresh_token = RefreshTokenConfig {
        validity_ms: (refresh.number("validity", 2400.0, 1.0, 8760.0, "hours")? * HOUR_MS) as u64,
        removal_cron,
        path: cookie_safe(
            &refresh.name("renewTokenPath"),
            refresh.required_string("renewTokenPath")?,
            true,
        )?,
    };
    let anti_csrf = tokens.boolean("enableAntiCsrf", true)?;

    // The logging functions stay in JS; only their types are checked here.
    let logging = root.section("logging", false, &mut p_logging)?;
    logging.function("info")?;
    logging.function("error")?;

    let cookie = root.section("cookie", true, &mut p_cookie)?;
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
        cookie: CookieConfig {
            domain,
            secure,
            same_site,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn minimal() -> Value {
        json!({
            "mysql": {"user": "root", "password": "", "database": "test"},
            "tokens": {"refreshToken": {"renewTokenPath": "/refresh"}},
            "cookie": {"domain": "example.com"}
        })
    }

    fn with(path: &[&str], v: Value) -> Value {
        let mut c = minimal();
        let mut cur = &mut c;
        for k in &path[..path.len() - 1] {
            let obj = cur.as_object_mut().unwrap();
            cur = obj.entry(k.to_string()).or_insert_with(|| json!({}));
        }
        cur.as_object_mut()
            .unwrap()
            .insert(path[path.len() - 1].to_string(), v);
        c
    }

    fn err(c: Value) -> String {
        match parse(&c) {
            Err(AuthError::General(m)) => m,
            other => panic!("expected GENERAL_ERROR, got {other:?}"),
        }
    }

    #[test]
    fn defaults_follow_the_spec() {
        let c = parse(&minimal()).unwrap();
        assert_eq!(
            c.mysql.hosts,
            vec![HostConfig {
                host: "localhost".into(),
                port: 3306
            }]
        );
        assert_eq!(c.mysql.connection_limit, 50);
        assert_eq!(c.mysql.signing_key_table, "signing_key");
        assert_eq!(c.mysql.refresh_token_table, "refresh_token");
        assert!(c.access_token.dynamic);
        assert_eq!(c.access_token.update_interval_ms, 24 * 3_600_000);
        assert_eq!(c.access_token.validity_ms, 3_600_000);
        assert!(!c.access_token.blacklisting);
        assert_eq!(c.access_token.path, "/");
        assert_eq!(c.refresh_token.validity_ms, 2400 * 3_600_000);
        assert_eq!(c.refresh_token.removal_cron, DEFAULT_CRON);
        assert!(c.anti_csrf);
        assert!(c.cookie.secure);
        assert_eq!(c.cookie.same_site, SameSite::Lax);
    }

    #[test]
    fn hosts_list_the_servers_in_order() {
        let c = parse(&with(
            &["mysql", "hosts"],
            json!([{"host": "db1"}, {"host": "db2", "port": 3307}]),
        ))
        .unwrap();
        let hosts: Vec<(&str, u16)> = c
            .mysql
            .hosts
            .iter()
            .map(|h| (h.host.as_str(), h.port))
            .collect();
        assert_eq!(hosts, vec![("db1", 3306), ("db2", 3307)]);
    }

    #[test]
    fn hosts_and_host_together_name_both() {
        let mut c = with(&["mysql", "hosts"], json!([{"host": "db1"}]));
        c["mysql"]["host"] = json!("db0");
        c["mysql"]["port"] = json!(3306);
        let m = err(c);
        assert!(
            m.contains("mysql.hosts") && m.contains("mysql.host") && m.contains("mysql.port"),
            "{m}"
        );
    }

    #[test]
    fn each_invalid_field_is_named() {
        let cases: Vec<(&[&str], Value, &str)> = vec![
            (&["mysql", "port"], json!(0), "mysql.port"),
            (&["mysql", "port"], json!(1.5), "mysql.port"),
            (&["mysql", "port"], json!("3306"), "mysql.port"),
            (&["mysql", "user"], json!(1), "mysql.user"),
            (
                &["mysql", "connectionLimit"],
                json!(0),
                "mysql.connectionLimit",
            ),
            (
                &["mysql", "tables", "signingKey"],
                json!("bad-name"),
                "mysql.tables.signingKey",
            ),
            (
                &["mysql", "tables", "refreshTokens"],
                json!("x;drop"),
                "mysql.tables.refreshTokens",
            ),
            (
                &["mysql", "tables", "refreshTokens"],
                json!("a".repeat(65)),
                "mysql.tables.refreshTokens",
            ),
            (&["mysql", "ssl"], json!("yes"), "mysql.ssl"),
            (&["mysql", "hosts"], json!([]), "mysql.hosts"),
            (&["mysql", "hosts"], json!("a,b"), "mysql.hosts"),
            (&["mysql", "hosts"], json!(["db1"]), "mysql.hosts[0]"),
            (
                &["mysql", "hosts"],
                json!([{"port": 1}]),
                "mysql.hosts[0].host",
            ),
            (
                &["mysql", "hosts"],
                json!([{"host": ""}]),
                "mysql.hosts[0].host",
            ),
            (
                &["mysql", "hosts"],
                json!([{"host": "a"}, {"host": "b", "port": 0}]),
                "mysql.hosts[1].port",
            ),
            (
                &["mysql", "hosts"],
                json!([{"host": "a", "prot": 3307}]),
                "mysql.hosts[0].prot",
            ),
            (
                &["mysql", "hosts"],
                json!([{"host": "a"}, {"host": "a", "port": 3306}]),
                "mysql.hosts[1]",
            ),
            (
                &["tokens", "accessToken", "validity"],
                json!(9),
                "tokens.accessToken.validity",
            ),
            (
                &["tokens", "accessToken", "validity"],
                json!(86_400_001),
                "tokens.accessToken.validity",
            ),
            (
                &["tokens", "accessToken", "signingKey", "updateInterval"],
                json!(721),
                "tokens.accessToken.signingKey.updateInterval",
            ),
            (
                &["tokens", "accessToken", "signingKey", "dynamic"],
                json!("true"),
                "tokens.accessToken.signingKey.dynamic",
            ),
            (
                &["tokens", "accessToken", "signingKey", "get"],
                json!("key"),
                "tokens.accessToken.signingKey.get",
            ),
            (
                &["tokens", "accessToken", "blacklisting"],
                json!(1),
                "tokens.accessToken.blacklisting",
            ),
            (
                &["tokens", "accessToken", "accessTokenPath"],
                json!("api"),
                "tokens.accessToken.accessTokenPath",
            ),
            (
                &["tokens", "refreshToken", "validity"],
                json!(8761),
                "tokens.refreshToken.validity",
            ),
            (
                &["tokens", "refreshToken", "removalCronjobInterval"],
                json!("* * *"),
                "tokens.refreshToken.removalCronjobInterval",
            ),
            (
                &["tokens", "refreshToken", "renewTokenPath"],
                json!(5),
                "tokens.refreshToken.renewTokenPath",
            ),
            (
                &["tokens", "enableAntiCsrf"],
                json!("no"),
                "tokens.enableAntiCsrf",
            ),
            (&["logging", "info"], json!(true), "logging.info"),
            (&["cookie", "domain"], json!("a;b"), "cookie.domain"),
            (&["cookie", "secure"], json!("false"), "cookie.secure"),
            (&["cookie", "sameSite"], json!("Lax"), "cookie.sameSite"),
        ];
        for (path, v, field) in cases {
            let m = err(with(path, v.clone()));
            assert!(
                m.contains(field),
                "{path:?}={v}: message {m:?} should name {field}"
            );
        }
    }

    #[test]
    fn required_fields_are_named() {
        for (section, key) in [
            ("mysql", "user"),
            ("mysql", "password"),
            ("mysql", "database"),
        ] {
            let mut c = minimal();
            c[section].as_object_mut().unwrap().remove(key);
            assert!(err(c).contains(&format!("{section}.{key}")));
        }
        let mut c = minimal();
        c.as_object_mut().unwrap().remove("cookie");
        assert!(err(c).contains("cookie"));
        assert!(err(json!("x")).contains("config object"));
        assert!(err(with(&["tokens", "refreshToken"], json!(null))).contains("tokens.refreshToken"));
    }

    #[test]
    fn same_site_none_needs_secure() {
        let c = with(&["cookie", "sameSite"], json!("none"));
        assert_eq!(parse(&c).unwrap().cookie.same_site, SameSite::None);
        let mut c = c;
        c["cookie"]["secure"] = json!(false);
        assert!(err(c).contains("cookie.sameSite"));
    }

    #[test]
    fn functions_are_recognised_by_their_mark() {
        let c = with(
            &["tokens", "accessToken", "signingKey", "get"],
            json!(FUNCTION_MARK),
        );
        assert!(parse(&c).unwrap().access_token.app_key);
        assert!(parse(&with(&["logging", "error"], json!(FUNCTION_MARK))).is_ok());
        assert!(err(with(&["mysql", "host"], json!(FUNCTION_MARK))).contains("mysql.host"));
    }

    #[test]
    fn cron_needs_a_seconds_field() {
        assert!(validate_cron("f", DEFAULT_CRON).is_ok());
        assert!(validate_cron("f", "*/5 * * * * *").is_ok());
        assert!(validate_cron("f", "0 0 * * *").is_err());
        assert!(validate_cron("f", "0 0 0 32 * *").is_err());
        assert!(
            validate_cron("f", "0 0 0 31 2 *").is_err(),
            "February 31st never comes"
        );
    }
}
