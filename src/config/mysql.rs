//! The `mysql` section: servers, credentials, pool size, table names and TLS.

use serde_json::Value;

use super::section::{invalid, Section};
use super::{HostConfig, MysqlConfig, SslConfig};
use crate::error::{AuthError, Result};

pub(super) const MYSQL: &[&str] = &[
    "host",
    "port",
    "hosts",
    "user",
    "password",
    "database",
    "connectionLimit",
    "tables",
    "ssl",
];
pub(super) const TABLES: &[&str] = &["signingKey", "refreshTokens"];
pub(super) const HOST: &[&str] = &["host", "port"];
pub(super) const SSL: &[&str] = &["ca", "rejectUnauthorized"];

/// Failover lists longer than this are almost certainly a mistake (a cluster, not a fleet).
const MAX_HOSTS: usize = 16;

pub(super) fn parse(mysql: &Section) -> Result<MysqlConfig> {
    let tables = mysql.object("tables", false, TABLES)?;
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
        return Err(invalid(tables.path(), "two different table names"));
    }
    let database = mysql.required_string("database")?;
    if database.is_empty() {
        return Err(invalid(&mysql.name("database"), "a non-empty string"));
    }
    Ok(MysqlConfig {
        hosts: hosts(mysql)?,
        user: mysql.required_string("user")?,
        password: mysql.required_string("password")?,
        database,
        connection_limit: mysql.integer("connectionLimit", 50, 1, 1000, "connections")? as usize,
        signing_key_table,
        refresh_token_table,
        ssl: ssl(mysql)?,
    })
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

fn port(s: &Section) -> Result<u16> {
    let field = s.name("port");
    if s.get("port")
        .and_then(super::section::numeric)
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
        let s = Section::new(path, map, HOST)?;
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
                "config: {} repeats {}:{}",
                s.path(),
                entry.host,
                entry.port
            )));
        }
        out.push(entry);
    }
    Ok(out)
}

/// `true`, or `{ca?, rejectUnauthorized?}`; `false` and absent mean no TLS.
fn ssl(mysql: &Section) -> Result<Option<SslConfig>> {
    let field = mysql.name("ssl");
    match mysql.get("ssl") {
        None | Some(Value::Bool(false)) => Ok(None),
        Some(Value::Bool(true)) => Ok(Some(SslConfig {
            ca: None,
            reject_unauthorized: true,
        })),
        Some(Value::Object(map)) => {
            let s = Section::new(field, map, SSL)?;
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
