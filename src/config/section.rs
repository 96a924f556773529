//! Reads one object of the config: typed getters whose errors name the field by its full
//! path, and the check that every key present is one of the section's options.

use serde_json::{Map, Value};

use super::FUNCTION_MARK;
use crate::error::{AuthError, Result};

pub(super) fn invalid(field: &str, expected: &str) -> AuthError {
    AuthError::general(format!("config: {field} must be {expected}"))
}

pub(super) struct Section<'a> {
    path: String,
    /// None when the (optional) section is absent: every getter then gives its default.
    map: Option<&'a Map<String, Value>>,
    /// The section's options; any other key is an error (a typo must not be ignored).
    known: &'static [&'static str],
}

impl<'a> Section<'a> {
    pub(super) fn root(value: &'a Value, known: &'static [&'static str]) -> Result<Self> {
        match value {
            Value::Object(map) => Section::new(String::new(), map, known),
            _ => Err(AuthError::general("config: init expects a config object")),
        }
    }

    /// The section at `path`, rejecting the first key that is not in `known` (even with a
    /// null value: the original ignored such keys, which hid misspellings).
    pub(super) fn new(
        path: String,
        map: &'a Map<String, Value>,
        known: &'static [&'static str],
    ) -> Result<Self> {
        let s = Section {
            path,
            map: Some(map),
            known,
        };
        match map.keys().find(|k| !known.contains(&k.as_str())) {
            Some(key) => Err(not_an_option(&s.name(&shown(key)), key, known)),
            None => Ok(s),
        }
    }

    pub(super) fn path(&self) -> &str {
        &self.path
    }

    pub(super) fn name(&self, key: &str) -> String {
        if self.path.is_empty() {
            key.to_string()
        } else {
            format!("{}.{}", self.path, key)
        }
    }

    pub(super) fn get(&self, key: &str) -> Option<&'a Value> {
        // A key read here but missing from `known` would be rejected whenever it is given.
        debug_assert!(
            self.known.contains(&key),
            "{key} is not listed as an option"
        );
        self.map?.get(key).filter(|v| !v.is_null())
    }

    /// A nested object; `required` makes its absence an error.
    pub(super) fn object(
        &self,
        key: &str,
        required: bool,
        known: &'static [&'static str],
    ) -> Result<Section<'a>> {
        let path = self.name(key);
        match self.get(key) {
            Some(Value::Object(map)) => Section::new(path, map, known),
            None if !required => Ok(Section {
                path,
                map: None,
                known,
            }),
            _ => Err(invalid(&path, "an object")),
        }
    }

    pub(super) fn string(&self, key: &str) -> Result<Option<String>> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::String(s)) if s != FUNCTION_MARK => Ok(Some(s.clone())),
            Some(_) => Err(invalid(&self.name(key), "a string")),
        }
    }

    pub(super) fn required_string(&self, key: &str) -> Result<String> {
        self.string(key)?
            .ok_or_else(|| invalid(&self.name(key), "a string (required)"))
    }

    pub(super) fn boolean(&self, key: &str, default: bool) -> Result<bool> {
        match self.get(key) {
            None => Ok(default),
            Some(Value::Bool(b)) => Ok(*b),
            Some(_) => Err(invalid(&self.name(key), "a boolean")),
        }
    }

    /// A finite number within `min..=max` (inclusive), or the default. A string of decimal
    /// digits counts as its value (a number from the environment, `process.env.MYSQL_PORT`).
    pub(super) fn number(
        &self,
        key: &str,
        default: f64,
        min: f64,
        max: f64,
        unit: &str,
    ) -> Result<f64> {
        match self.get(key).map(numeric) {
            None => Ok(default),
            Some(Some(x)) if x >= min && x <= max => Ok(x),
            Some(_) => Err(invalid(
                &self.name(key),
                &format!("a number of {unit} from {min} to {max}"),
            )),
        }
    }

    /// Like `number`, for counts: an integer within `min..=max`.
    pub(super) fn integer(
        &self,
        key: &str,
        default: u32,
        min: u32,
        max: u32,
        unit: &str,
    ) -> Result<u32> {
        let x = self.number(key, default.into(), min.into(), max.into(), unit)?;
        if x.fract() != 0.0 {
            return Err(invalid(
                &self.name(key),
                &format!("an integer number of {unit} from {min} to {max}"),
            ));
        }
        Ok(x as u32)
    }

    pub(super) fn function(&self, key: &str) -> Result<bool> {
        match self.get(key) {
            None => Ok(false),
            Some(Value::String(s)) if s == FUNCTION_MARK => Ok(true),
            Some(_) => Err(invalid(&self.name(key), "a function")),
        }
    }
}

/// A number option's value: a JSON number, or a plain decimal integer string ("3306"; not
/// "3306abc", " 12", "1e3", "0x10", "-1" or ""), as read from the environment.
pub(super) fn numeric(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        // 15 digits fit an f64 exactly; every option's range is far smaller.
        Value::String(s)
            if (1..=15).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit()) =>
        {
            s.parse::<u64>().ok().map(|x| x as f64)
        }
        _ => None,
    }
}

fn not_an_option(field: &str, key: &str, known: &[&str]) -> AuthError {
    AuthError::general(match closest(key, known) {
        Some(option) => format!("config: {field} is not an option; did you mean {option}?"),
        None => format!(
            "config: {field} is not an option (the options are {})",
            known.join(", ")
        ),
    })
}

/// A key as written, or JSON-quoted and cut when it would not read as one in a message.
fn shown(key: &str) -> String {
    const MAX: usize = 64;
    if !key.is_empty() && key.chars().count() <= MAX && !key.chars().any(char::is_control) {
        return key.to_string();
    }
    let cut: String = key.chars().take(MAX).collect();
    let quoted = Value::String(cut).to_string();
    if key.chars().count() > MAX {
        quoted + "…"
    } else {
        quoted
    }
}

/// The option `key` is most likely a misspelling of: at most 2 edits (ignoring case) and
/// at most a third of the word, so short or unrelated keys get no suggestion.
fn closest<'k>(key: &str, known: &[&'k str]) -> Option<&'k str> {
    let key: Vec<char> = key.to_lowercase().chars().collect();
    known
        .iter()
        .filter_map(|&option| {
            let o: Vec<char> = option.to_lowercase().chars().collect();
            // The distance is at least the length difference; this also bounds the work
            // for a hostile long key.
            if key.len().abs_diff(o.len()) > 2 {
                return None;
            }
            let d = distance(&key, &o);
            (d <= 2 && d * 3 <= key.len().max(o.len())).then_some((d, option))
        })
        .min_by_key(|&(d, _)| d)
        .map(|(_, option)| option)
}

/// Edit distance where swapping two neighbours counts as one edit (optimal string alignment).
fn distance(a: &[char], b: &[char]) -> usize {
    let mut d = vec![vec![0; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    d[0] = (0..=b.len()).collect();
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let substitution = d[i - 1][j - 1] + usize::from(a[i - 1] != b[j - 1]);
            let mut best = substitution.min(d[i - 1][j] + 1).min(d[i][j - 1] + 1);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = best;
        }
    }
    d[a.len()][b.len()]
}

#[cfg(test)]
mod tests {
    use super::{closest, numeric};
    use serde_json::json;

    #[test]
    fn numbers_may_be_decimal_digit_strings() {
        assert_eq!(numeric(&json!(3306)), Some(3306.0));
        assert_eq!(numeric(&json!(1.5)), Some(1.5));
        assert_eq!(numeric(&json!("3306")), Some(3306.0));
        assert_eq!(numeric(&json!("0")), Some(0.0));
        assert_eq!(numeric(&json!("007")), Some(7.0));
        assert_eq!(
            numeric(&json!("999999999999999")),
            Some(999_999_999_999_999.0)
        );
        for s in [
            "",
            "3306abc",
            " 12",
            "12 ",
            "1e3",
            "0x10",
            "-1",
            "+1",
            "1.5",
            "1_000",
            "٣",
            "9999999999999999",
        ] {
            assert_eq!(numeric(&json!(s)), None, "{s:?}");
        }
        assert_eq!(numeric(&json!(true)), None);
        assert_eq!(numeric(&json!(null)), None);
        assert_eq!(numeric(&json!([1])), None);
    }

    #[test]
    fn suggestions_need_a_close_option() {
        let options = &["ca", "host", "port", "hosts", "signingKey"];
        assert_eq!(
            closest("cb", options),
            None,
            "1 edit of 2 letters: a new word"
        );
        assert_eq!(closest("prot", options), Some("port"), "a swap is one edit");
        assert_eq!(closest("SIGNINGKEY", options), Some("signingKey"));
        assert_eq!(
            closest("hots", options),
            Some("host"),
            "ties: the first listed"
        );
        assert_eq!(closest("sgningKy", options), Some("signingKey"));
        assert_eq!(closest("sgnngKy", options), None, "3 edits");
        assert_eq!(closest(&"h".repeat(1_000_000), options), None);
    }
}
