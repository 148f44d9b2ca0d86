//! The masking guard: nothing from a capture code reaches the database, a
//! screen or a message unless it is safe to hold. A code is refused when it
//! repeats a key (`"xm":"张三丰","xm":"张*丰"` — a lenient parser keeps one
//! and hides the other), or when any key or value anywhere in it is shaped
//! like a full resident ID number (15 digits, or 17 digits and a check
//! character). Unknown keys are kept only when their value is plain ASCII
//! text or a number (a newer CHSI field, an app version); anything that
//! could hold a clear name — Han characters, nested objects, lists — is
//! dropped, never stored. Refusals never carry the value they refuse.

use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use super::CodeError;

/// Longest unknown value kept.
const MAX_EXTRA_CHARS: usize = 64;

/// A JSON value whose objects may not repeat a key, at any depth.
struct Unique(Value);

impl<'de> serde::Deserialize<'de> for Unique {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(UniqueVisitor)
    }
}

struct UniqueVisitor;

/// The marker of a repeated key in a deserialisation error (the key itself
/// follows, and is only shown when it is one of the known keys).
const DUPLICATE: &str = "gradcap-duplicate-key:";

impl<'de> Visitor<'de> for UniqueVisitor {
    type Value = Unique;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Unique, E> {
        Ok(Unique(Value::Bool(v)))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Unique, E> {
        Ok(Unique(Value::from(v)))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Unique, E> {
        Ok(Unique(Value::from(v)))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Unique, E> {
        Ok(Unique(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number)))
    }
    fn visit_str<E>(self, v: &str) -> Result<Unique, E> {
        Ok(Unique(Value::String(v.to_string())))
    }
    fn visit_string<E>(self, v: String) -> Result<Unique, E> {
        Ok(Unique(Value::String(v)))
    }
    fn visit_unit<E>(self) -> Result<Unique, E> {
        Ok(Unique(Value::Null))
    }
    fn visit_none<E>(self) -> Result<Unique, E> {
        Ok(Unique(Value::Null))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Unique, A::Error> {
        let mut items = Vec::new();
        while let Some(Unique(v)) = seq.next_element()? {
            items.push(v);
        }
        Ok(Unique(Value::Array(items)))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Unique, A::Error> {
        let mut out = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let Unique(value) = map.next_value()?;
            if out.contains_key(&key) {
                return Err(de::Error::custom(format!("{DUPLICATE}{key}")));
            }
            out.insert(key, value);
        }
        Ok(Unique(Value::Object(out)))
    }
}

/// Parses JSON refusing any object that repeats a key.
pub fn parse_json_unique(json: &str) -> Result<Value, CodeError> {
    match serde_json::from_str::<Unique>(json) {
        Ok(Unique(v)) => Ok(v),
        Err(e) => {
            let text = e.to_string();
            match text.split_once(DUPLICATE) {
                Some((_, rest)) => {
                    let key = rest.split(" at line").next().unwrap_or_default();
                    // A key is named only when it is one of ours (a key can hold anything).
                    let named = super::KNOWN_KEYS.iter().find(|k| **k == key).map_or("?", |k| k);
                    Err(CodeError::DuplicateKey(named.to_string()))
                }
                None => Err(CodeError::NotJson),
            }
        }
    }
}

/// True when `s` holds a run shaped like a full resident ID number: 15
/// digits, or 17 digits and a digit or X — also written in groups with
/// single spaces or hyphens (`110105 19491231 0021`), and also next to
/// letters (`ID110105194912310021`) — not part of a longer digit run.
pub fn holds_full_id_number(s: &str) -> bool {
    id_runs(s, true)
}

/// As [`holds_full_id_number`] for an opaque token (`cjm`): only a bare run
/// with no letter or digit on either side counts, so a hex token that
/// happens to hold many digits in a row is not refused.
pub fn token_holds_full_id_number(s: &str) -> bool {
    id_runs(s, false)
}

fn id_runs(s: &str, lenient: bool) -> bool {
    let c: Vec<char> = s.chars().collect();
    let boundary = |i: usize| if lenient { !c[i].is_ascii_digit() } else { !c[i].is_ascii_alphanumeric() };
    let mut i = 0;
    while i < c.len() {
        if !c[i].is_ascii_digit() || (i > 0 && !boundary(i - 1)) {
            i += 1;
            continue;
        }
        let mut digits = 0;
        let mut j = i;
        while j < c.len() {
            if c[j].is_ascii_digit() {
                digits += 1;
                j += 1;
            } else if lenient && (c[j] == ' ' || c[j] == '-') && c.get(j + 1).is_some_and(char::is_ascii_digit) {
                j += 1;
            } else {
                break;
            }
        }
        let check_x = digits == 17 && c.get(j).is_some_and(|x| *x == 'X' || *x == 'x');
        let end = if check_x { j + 1 } else { j };
        let bounded = end >= c.len() || boundary(end);
        if bounded && (digits == 15 || digits == 18 || check_x) {
            return true;
        }
        i = j.max(i + 1);
    }
    false
}

/// Refuses a code with a full ID number in any key or value, at any depth.
pub fn refuse_full_id_numbers(v: &Value) -> Result<(), CodeError> {
    let bad = match v {
        Value::String(s) => holds_full_id_number(s),
        Value::Number(n) => holds_full_id_number(&n.to_string()),
        Value::Array(items) => return items.iter().try_for_each(refuse_full_id_numbers),
        Value::Object(m) => {
            for (k, v) in m {
                if holds_full_id_number(k) {
                    return Err(CodeError::FullIdNumber);
                }
                match (k.as_str(), v) {
                    ("cjm", Value::String(token)) if token_holds_full_id_number(token) => {
                        return Err(CodeError::FullIdNumber)
                    }
                    ("cjm", Value::String(_)) => {}
                    _ => refuse_full_id_numbers(v)?,
                }
            }
            false
        }
        Value::Bool(_) | Value::Null => false,
    };
    if bad {
        Err(CodeError::FullIdNumber)
    } else {
        Ok(())
    }
}

/// The unknown keys worth keeping: short plain-ASCII keys whose value is
/// short plain-ASCII text, a number or a boolean. The rest could carry a
/// clear name and is dropped.
pub fn safe_extras(extra: Map<String, Value>) -> Map<String, Value> {
    let plain =
        |s: &str| s.chars().count() <= MAX_EXTRA_CHARS && s.chars().all(|c| c.is_ascii() && !c.is_ascii_control());
    extra
        .into_iter()
        .filter(|(k, v)| {
            plain(k)
                && match v {
                    Value::String(s) => plain(s),
                    Value::Number(_) | Value::Bool(_) => true,
                    _ => false,
                }
        })
        .collect()
}

/// What a stored text must never hold: checked by `verify` on every stored
/// field of every record.
pub fn stored_text_is_safe(s: &str) -> bool {
    !holds_full_id_number(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;

    fn b64(s: &str) -> String {
        base64::engine::general_purpose::STANDARD.encode(s)
    }

    const BASE: &str = r#""sjc":"1700000000000","cjm":"T1","yxdm":"10697","zjhm":"0021","xh":"2021001","xm":"张*丰""#;

    #[test]
    fn a_repeated_key_is_refused_whichever_copy_is_masked() {
        for extra in [r#","xm":"张三丰""#, r#","zjhm":"110105194912310021""#, r#","zjhm":"0021""#] {
            let json = format!("{{{BASE}{extra}}}");
            let err = super::super::parse(&b64(&json)).unwrap_err();
            assert!(matches!(err, CodeError::DuplicateKey(_)), "{json}: {err}");
            assert!(!err.to_string().contains("张三丰") && !err.to_string().contains("110105194912310021"));
        }
        // Nested repeats too, and an unknown key is not named.
        let json = format!(r#"{{{BASE},"x":{{"a":"1","a":"2"}}}}"#);
        assert_eq!(super::super::parse(&b64(&json)), Err(CodeError::DuplicateKey("?".into())));
    }

    #[test]
    fn a_full_id_number_anywhere_is_refused_without_being_echoed() {
        for extra in [
            r#","note":"110105194912310021""#,
            r#","note":"身份证110105194912310021号""#,
            r#","n":110105194912310021"#,
            r#","old":"110105491231002""#,
            r#","id":"11010519491231002X""#,
            r#","110105194912310021":"x""#,
            r#","deep":{"list":["a","36010219990101123X"]}"#,
        ] {
            let json = format!("{{{BASE}{extra}}}");
            let err = super::super::parse(&b64(&json)).unwrap_err();
            assert_eq!(err, CodeError::FullIdNumber, "{json}");
            let text = err.to_string();
            assert!(!text.contains("1101051949") && !text.contains("3601021999"), "{text}");
        }
        // A 学号 or a token with a shorter or longer digit run is no ID number.
        assert!(!holds_full_id_number("20210100101"));
        assert!(!holds_full_id_number("DRILL0123456789ABCDEF0123"));
        assert!(!holds_full_id_number("1234567890123456789012"));
        assert!(holds_full_id_number("a 110105194912310021 b"));
        assert!(holds_full_id_number("110105 19491231 0021"), "in groups");
        assert!(holds_full_id_number("110105-19491231-002X"));
        assert!(holds_full_id_number("ID110105194912310021a"), "next to letters");
        assert!(!holds_full_id_number("1700000000000"), "an sjc");
        // A token is only refused for a bare run.
        assert!(!token_holds_full_id_number("A1101051949123100219F110105194912310021B"));
        assert!(token_holds_full_id_number("110105194912310021"));
    }

    #[test]
    fn unknown_keys_are_kept_only_when_they_cannot_hold_a_name() {
        let json = format!(r#"{{{BASE},"ver":"2.1","n":3,"ok":true,"name":"张三丰","obj":{{"a":"b"}},"list":["x"]}}"#);
        let code = super::super::parse(&b64(&json)).unwrap();
        let mut keys: Vec<&str> = code.extra.keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(keys, ["n", "ok", "ver"]);
    }
}
