use super::*;
use crate::error::AuthError;
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
        (&["mysql", "port"], json!("3306abc"), "mysql.port"),
        (&["mysql", "port"], json!(" 12"), "mysql.port"),
        (&["mysql", "port"], json!("1e3"), "mysql.port"),
        (&["mysql", "port"], json!("0x10"), "mysql.port"),
        (&["mysql", "port"], json!(""), "mysql.port"),
        (&["mysql", "port"], json!("0"), "mysql.port"),
        (&["mysql", "port"], json!("65536"), "mysql.port"),
        (
            &["mysql", "connectionLimit"],
            json!("5x"),
            "mysql.connectionLimit",
        ),
        (
            &["tokens", "accessToken", "validity"],
            json!("-10"),
            "tokens.accessToken.validity",
        ),
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

#[test]
fn every_option_is_accepted() {
    let c = parse(&json!({
        "mysql": {
            "host": "db", "port": 3307, "user": "u", "password": "p", "database": "auth",
            "connectionLimit": 10, "tables": {"signingKey": "sk", "refreshTokens": "rt"},
            "ssl": {"ca": "PEM", "rejectUnauthorized": false}
        },
        "tokens": {
            "accessToken": {
                "signingKey": {"dynamic": false, "updateInterval": 48, "get": FUNCTION_MARK},
                "validity": 600, "blacklisting": true, "accessTokenPath": "/api"
            },
            "refreshToken": {
                "validity": 720, "removalCronjobInterval": "0 */5 * * * *",
                "renewTokenPath": "/refresh"
            },
            "enableAntiCsrf": false
        },
        "logging": {"info": FUNCTION_MARK, "error": FUNCTION_MARK},
        "cookie": {"domain": "example.com", "secure": true, "sameSite": "none"}
    }))
    .unwrap();
    assert!(c.access_token.blacklisting && c.access_token.app_key && !c.anti_csrf);
    assert_eq!(c.mysql.ssl.unwrap().ca.as_deref(), Some("PEM"));
}

/// Every listed option is read and checked: an array (valid for none of them) is an error
/// naming it. A listed option nobody reads would be accepted and silently ignored.
#[test]
fn every_listed_option_is_read() {
    let sections: Vec<(&[&str], &[&str])> = vec![
        (&[], ROOT),
        (&["mysql"], mysql::MYSQL),
        (&["mysql", "tables"], mysql::TABLES),
        (&["mysql", "ssl"], mysql::SSL),
        (&["tokens"], TOKENS),
        (&["tokens", "accessToken"], ACCESS_TOKEN),
        (&["tokens", "accessToken", "signingKey"], SIGNING_KEY),
        (&["tokens", "refreshToken"], REFRESH_TOKEN),
        (&["logging"], LOGGING),
        (&["cookie"], COOKIE),
    ];
    for (section, keys) in sections {
        for key in keys {
            let path = [section, &[*key]].concat();
            let m = err(with(&path, json!([])));
            assert!(
                m.starts_with(&format!("config: {} ", path.join("."))),
                "{m}"
            );
        }
    }
    for key in mysql::HOST {
        let mut entry = json!({"host": "a"});
        entry[key] = json!([]);
        let m = err(with(&["mysql", "hosts"], json!([entry])));
        assert!(
            m.starts_with(&format!("config: mysql.hosts[0].{key} ")),
            "{m}"
        );
    }
}

#[test]
fn unknown_keys_are_errors_naming_the_path_and_the_closest_option() {
    let cases = [
        ("cookies", json!({}), "cookie"),
        ("mysql.pasword", json!("x"), "password"),
        ("mysql.Host", json!("db"), "host"),
        ("mysql.tables.refreshToken", json!("t"), "refreshTokens"),
        (
            "mysql.ssl.rejectUnauthorised",
            json!(false),
            "rejectUnauthorized",
        ),
        ("tokens.acessToken", json!({}), "accessToken"),
        (
            "tokens.accessToken.blacklistng",
            json!(true),
            "blacklisting",
        ),
        (
            "tokens.accessToken.signingKey.dyanmic",
            json!(false),
            "dynamic",
        ),
        (
            "tokens.refreshToken.renewtokenpath",
            json!("/r"),
            "renewTokenPath",
        ),
        ("tokens.enableAntiCSRF", json!(false), "enableAntiCsrf"),
        ("logging.infos", json!(FUNCTION_MARK), "info"),
        ("cookie.domian", json!("a.com"), "domain"),
        // null is "absent" for an option, but an unknown key is wrong whatever its value.
        ("cookie.secur", json!(null), "secure"),
    ];
    for (field, v, option) in cases {
        let path: Vec<&str> = field.split('.').collect();
        assert_eq!(
            err(with(&path, v)),
            format!("config: {field} is not an option; did you mean {option}?")
        );
    }
    let hosts = json!([{"host": "a"}, {"host": "b", "prot": 1}]);
    assert_eq!(
        err(with(&["mysql", "hosts"], hosts)),
        "config: mysql.hosts[1].prot is not an option; did you mean port?"
    );
}

#[test]
fn unknown_keys_far_from_every_option_list_the_options() {
    assert_eq!(
        err(with(&["tokens", "accessToken", "colour"], json!("blue"))),
        "config: tokens.accessToken.colour is not an option \
         (the options are signingKey, validity, blacklisting, revocationPollMs, accessTokenPath)"
    );
    assert_eq!(
        err(with(&["logging", "warn"], json!(FUNCTION_MARK))),
        "config: logging.warn is not an option (the options are info, error)"
    );
    // Keys that would not read as one are quoted (and cut).
    let m = err(with(&["cookie", ""], json!(1)));
    assert!(
        m.starts_with("config: cookie.\"\" is not an option ("),
        "{m}"
    );
    let m = err(with(&["cookie", &"x\n".repeat(100)], json!(1)));
    let cut = m.starts_with("config: cookie.\"x\\nx\\n") && m.contains("\"… is not");
    assert!(cut, "{m}");
}

#[test]
fn integer_options_accept_decimal_digit_strings() {
    let mut c = minimal();
    c["mysql"]["port"] = json!("3307");
    c["mysql"]["connectionLimit"] = json!("20");
    c["tokens"]["accessToken"] = json!({"validity": "60", "signingKey": {"updateInterval": "48"}});
    c["tokens"]["refreshToken"]["validity"] = json!("100");
    let p = parse(&c).unwrap();
    assert_eq!(p.mysql.hosts[0].port, 3307);
    assert_eq!(p.mysql.connection_limit, 20);
    assert_eq!(p.access_token.validity_ms, 60_000);
    assert_eq!(p.access_token.update_interval_ms, 48 * 3_600_000);
    assert_eq!(p.refresh_token.validity_ms, 100 * 3_600_000);

    let h = with(&["mysql", "hosts"], json!([{"host": "a", "port": "3310"}]));
    assert_eq!(parse(&h).unwrap().mysql.hosts[0].port, 3310);
}
