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

/// `s` as a person reads it: NFKC-normalised (fullwidth and other
/// compatibility digits become ASCII, NBSP a space), format characters
/// (zero-width spaces and joiners, soft hyphens, BOM) removed, and every
/// other Unicode decimal digit (Arabic-Indic, Devanagari …) written as its
/// ASCII digit.
pub fn as_read(s: &str) -> String {
    use icu_properties::props::{DefaultIgnorableCodePoint, GeneralCategory};
    let categories = icu_properties::CodePointMapData::<GeneralCategory>::new();
    let ignorable = icu_properties::CodePointSetData::new::<DefaultIgnorableCodePoint>();
    let normalised = icu_normalizer::ComposingNormalizerBorrowed::new_nfkc().normalize(s);
    let mut out = String::with_capacity(normalised.len());
    for c in normalised.chars() {
        // Chinese numerals read as digits (〇一二…, 零壹贰…): an ID written out.
        if let Some(d) = "〇一二三四五六七八九"
            .chars()
            .position(|n| n == c)
            .or_else(|| "零壹贰叁肆伍陆柒捌玖".chars().position(|n| n == c))
        {
            out.push(char::from_digit(d as u32, 10).unwrap_or('0'));
            continue;
        }
        // Invisible: format characters and the other default-ignorable
        // code points (Hangul fillers, variation selectors …).
        if ignorable.contains(c) {
            continue;
        }
        match categories.get(c) {
            GeneralCategory::Format => {}
            GeneralCategory::DecimalNumber if !c.is_ascii_digit() => {
                // Decimal digits come in runs of ten, 0 to 9 (a Unicode
                // stability guarantee): the value is the place in its run.
                let mut first = c as u32;
                while first > 0
                    && char::from_u32(first - 1).is_some_and(|p| categories.get(p) == GeneralCategory::DecimalNumber)
                {
                    first -= 1;
                }
                let value = (c as u32 - first) % 10;
                out.push(char::from_digit(value, 10).unwrap_or('0'));
            }
            _ => out.push(c),
        }
    }
    out
}

/// True when `s`, as a person reads it ([`as_read`]), holds a run shaped
/// like a full resident ID number: 15 digits, or 17 digits and a digit or
/// X — also written in groups split by separators of any kind and number
/// (`110105 19491231 0021`, `110105.19491231/0021`, NBSP, double spaces),
/// and also next to letters (`ID110105194912310021`) — not part of a longer
/// digit run.
pub fn holds_full_id_number(s: &str) -> bool {
    id_runs(&as_read(s), true)
}

/// As [`holds_full_id_number`] for an opaque token (`cjm`): only a bare run
/// with no letter or digit on either side counts, so a hex token that
/// happens to hold many digits in a row is not refused.
pub fn token_holds_full_id_number(s: &str) -> bool {
    id_runs(&as_read(s), false)
}

/// True when `s` holds a control character (NUL, ESC, an OSC sequence's
/// BEL …), a bidirectional control (which turns the text shown around) or
/// a line or paragraph separator: refused in every field of a code and a
/// roster.
pub fn has_control_character(s: &str) -> bool {
    s.chars().any(|c| {
        c.is_control()
            || matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{2028}' | '\u{2029}')
            || ('\u{202A}'..='\u{202E}').contains(&c)
            || ('\u{2066}'..='\u{2069}').contains(&c)
    })
}

/// The digits of a JSON number as a person reads them: a float as large as
/// an ID (`1.1010519491231002e17`) written out in full.
fn number_digits(n: &serde_json::Number) -> String {
    match n.as_f64() {
        Some(f) if !n.is_i64() && !n.is_u64() && f.is_finite() && f.abs() >= 1e9 => format!("{f:.0}"),
        _ => n.to_string(),
    }
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
            } else if !c[j].is_alphanumeric() && c[j] != ':' {
                // Separators of any kind and number between digit groups
                // (not a time's colon: `2024-06-01 12:30:45 +0800` is no ID).
                let mut k = j;
                while k < c.len() && !c[k].is_alphanumeric() && c[k] != ':' {
                    k += 1;
                }
                if c.get(k).is_some_and(char::is_ascii_digit) {
                    j = k;
                } else {
                    break;
                }
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

/// Refuses a code with a control character or a full ID number in any key
/// or value, of any JSON type, at any depth.
pub fn refuse_full_id_numbers(v: &Value) -> Result<(), CodeError> {
    refuse_control_characters(v)?;
    refuse_ids(v)
}

fn refuse_control_characters(v: &Value) -> Result<(), CodeError> {
    match v {
        Value::String(s) if has_control_character(s) => Err(CodeError::ControlCharacter),
        Value::Array(items) => items.iter().try_for_each(refuse_control_characters),
        Value::Object(m) => m.iter().try_for_each(|(k, v)| {
            if has_control_character(k) {
                return Err(CodeError::ControlCharacter);
            }
            refuse_control_characters(v)
        }),
        _ => Ok(()),
    }
}

fn refuse_ids(v: &Value) -> Result<(), CodeError> {
    let bad = match v {
        Value::String(s) => holds_full_id_number(s),
        Value::Number(n) => holds_full_id_number(&number_digits(n)),
        Value::Array(items) => return items.iter().try_for_each(refuse_ids),
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
                    _ => refuse_ids(v)?,
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
    fn an_id_number_in_another_form_is_read_as_a_person_reads_it() {
        let id = "110105194912310021";
        let fullwidth: String = id.chars().map(|c| char::from_u32(c as u32 - '0' as u32 + 0xFF10).unwrap()).collect();
        let arabic_indic: String =
            id.chars().map(|c| char::from_u32(c as u32 - '0' as u32 + 0x0660).unwrap()).collect();
        let devanagari: String = id.chars().map(|c| char::from_u32(c as u32 - '0' as u32 + 0x0966).unwrap()).collect();
        let zero_width: String = id.chars().flat_map(|c| [c, '\u{200B}']).collect();
        let joined: String = id.chars().flat_map(|c| [c, '\u{200D}']).collect();
        let forms = [
            fullwidth.clone(),
            arabic_indic,
            devanagari,
            zero_width,
            joined,
            format!("\u{FEFF}{id}"),
            "110105.19491231.0021".into(),
            "110105/19491231/0021".into(),
            "110105\u{00A0}19491231\u{00A0}0021".into(),
            "110105  19491231  0021".into(),
            "110105 - 1949 1231 - 0021".into(),
            "11010519491231002X".into(),
            format!("ID{fullwidth}"),
        ];
        for form in &forms {
            assert!(holds_full_id_number(form), "{form:?} reads as a full ID number");
            assert!(!stored_text_is_safe(form), "verify's rule is the same: {form:?}");
            for key in ["xh", "fy", "bh", "cjm", "extra"] {
                // A token's digits next to letters are its own (a hex token): not an ID.
                if key == "cjm" && form.starts_with("ID") {
                    continue;
                }
                let json = format!(r#"{{{BASE},"{key}":"{form}"}}"#).replace(&format!(r#","{key}":"{key}""#), "");
                let json = if key == "xh" || key == "cjm" {
                    format!(
                        r#"{{"sjc":"1700000000000","yxdm":"10697","zjhm":"0021","xm":"张*丰","{}":"T1","{key}":"{form}"}}"#,
                        if key == "xh" { "cjm" } else { "xh" }
                    )
                } else {
                    json
                };
                let err = super::super::parse(&b64(&json)).unwrap_err();
                assert_eq!(err, CodeError::FullIdNumber, "{key} = {form:?}");
            }
        }
        // A JSON float whose first 17 digits are an ID's (the check digit follows from them).
        let json = format!(r#"{{{BASE},"n":1.1010519491231002e+17}}"#);
        assert_eq!(super::super::parse(&b64(&json)), Err(CodeError::FullIdNumber));
        let json = format!(r#"{{{BASE},"n":[110105194912310021]}}"#);
        assert_eq!(super::super::parse(&b64(&json)), Err(CodeError::FullIdNumber));
        // Not an ID: a student number, a class, a date and time, a 13-digit timestamp.
        for fine in ["2021000100", "法学 2101", "2026-12-08 10:30:15", "1700000000000", "２０２１０００１００"]
        {
            assert!(!holds_full_id_number(fine), "{fine:?}");
        }
        assert_eq!(as_read("１２\u{200B}٣"), "123");
        // A helper's attack: Hangul fillers between the digits, Chinese numerals.
        for filler in ['\u{3164}', '\u{115F}', '\u{1160}', '\u{FFA0}'] {
            let form: String = id.chars().flat_map(|c| [c, filler]).collect();
            assert!(holds_full_id_number(&form), "{form:?}");
        }
        let chinese: String =
            id.chars().map(|c| "〇一二三四五六七八九".chars().nth(c as usize - '0' as usize).unwrap()).collect();
        assert!(holds_full_id_number(&chinese), "{chinese}");
        // Its false refusals: a date-time with an offset, in ISO form too.
        for fine in ["2024-06-01 12:30:45 +0800", "2024-06-01T12:30:45.123456789Z", "法学一班"] {
            assert!(!holds_full_id_number(fine), "{fine:?}");
        }
    }

    #[test]
    fn a_control_character_in_any_field_is_refused() {
        for bad in
            ["\u{0000}", "\u{001B}[31m", "\u{001B}]0;title\u{0007}", "\u{009B}", "\u{202E}", "\u{2028}", "\u{2067}"]
        {
            let escaped = serde_json::to_string(&format!("A{bad}B")).unwrap();
            for key in ["xh", "fy", "x"] {
                let json = if key == "xh" {
                    format!(
                        r#"{{"sjc":"1700000000000","cjm":"T1","yxdm":"10697","zjhm":"0021","xm":"张*丰","xh":{escaped}}}"#
                    )
                } else {
                    format!(r#"{{{BASE},"{key}":{escaped}}}"#)
                };
                assert_eq!(super::super::parse(&b64(&json)), Err(CodeError::ControlCharacter), "{key} = {bad:?}");
            }
        }
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
