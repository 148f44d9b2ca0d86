//! The CHSI image-capture code (图像采集码): parsing, validation, masking and
//! drill-code generation.
//!
//! The payload is not officially documented; the profile supported here is the
//! one observed in the field (DOMAIN.md): Base64 of a UTF-8 JSON object whose
//! values are all strings. Anything else is refused with a reason an operator
//! can read aloud, in Chinese and English. Unknown extra keys are kept, so a
//! newer CHSI format does not stop a capture day.

pub mod drill;
pub mod guard;
pub mod mask;

use base64::Engine as _;
use serde_json::{Map, Value};

pub use mask::{id_tail, is_id_tail, is_masked_name, mask_name, mask_name_checked};

/// Longest payload accepted, in bytes. Real codes are a few hundred bytes.
pub const MAX_PAYLOAD_BYTES: usize = 4096;

/// Keys of the observed payload, in the order drill codes write them.
pub const KNOWN_KEYS: [&str; 10] = ["sjc", "cjm", "yxdm", "zjhm", "xh", "cc", "xllb", "fy", "xm", "bh"];

/// Earliest and latest plausible `sjc` (2015-01-01 .. 2100-01-01, Unix ms).
const SJC_MIN_MS: i64 = 1_420_070_400_000;
const SJC_MAX_MS: i64 = 4_102_444_800_000;

/// A code that scans but is something else: named so the operator can tell
/// the student what they are showing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ForeignCode {
    /// A web address.
    Url,
    /// A WeChat payment code or WeChat pay link.
    WeChatPay,
    /// An Alipay payment code or Alipay link.
    Alipay,
    /// An 18-digit resident ID number (the old capture mode scanned ID cards).
    IdNumber,
}

impl ForeignCode {
    fn zh(self) -> &'static str {
        match self {
            ForeignCode::Url => "这是一个网址",
            ForeignCode::WeChatPay => "这是微信支付码",
            ForeignCode::Alipay => "这是支付宝付款码",
            ForeignCode::IdNumber => "这是身份证号码",
        }
    }
    fn en(self) -> &'static str {
        match self {
            ForeignCode::Url => "this is a web address",
            ForeignCode::WeChatPay => "this is a WeChat payment code",
            ForeignCode::Alipay => "this is an Alipay payment code",
            ForeignCode::IdNumber => "this is an ID card number",
        }
    }
}

/// Why a scanned text is not an acceptable capture code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodeError {
    #[error("空白内容 / empty input")]
    Empty,
    #[error("内容过长（{len} 字节，上限 4096）/ input too long ({len} bytes, limit 4096)")]
    TooLong { len: usize },
    #[error("这不是学信网图像采集码：{} / not a CHSI capture code: {}", .0.zh(), .0.en())]
    Foreign(ForeignCode),
    #[error("这不是学信网图像采集码：不是有效的 Base64 / not a CHSI capture code: not valid Base64")]
    InvalidBase64,
    #[error("采集码内容不是有效的 UTF-8 文本 / capture code content is not valid UTF-8")]
    InvalidUtf8,
    #[error("采集码内容不是 JSON / capture code content is not JSON")]
    NotJson,
    #[error("采集码内容不是 JSON 对象 / capture code content is not a JSON object")]
    NotObject,
    #[error("采集码缺少字段 {0} / capture code lacks the field {0}")]
    MissingField(&'static str),
    #[error("采集码字段 {0} 为空 / capture code field {0} is empty")]
    EmptyField(&'static str),
    #[error("采集码字段 {0} 不是文本 / capture code field {0} is not a string")]
    NotString(String),
    // The refused value itself is never carried (it may be a clear ID number
    // or name): only its length.
    #[error("生成时间 sjc 不是毫秒时间戳（{chars} 个字符） / sjc is not a millisecond timestamp ({chars} characters)")]
    BadTimestamp { chars: usize },
    #[error("证件号后四位 zjhm 应为 4 位数字或 X（收到 {chars} 个字符） / zjhm must be exactly 4 of 0-9 or X (got {chars} characters)")]
    BadIdTail { chars: usize },
    #[error("院校代码 yxdm 应为 5 位数字（收到 {chars} 个字符） / yxdm must be 5 digits (got {chars} characters)")]
    BadSchoolCode { chars: usize },
    #[error("采集码中字段 {0} 出现了两次，已拒绝 / the field {0} appears twice in the code: refused")]
    DuplicateKey(String),
    #[error("采集码中含有完整的身份证号码，已拒绝（采集站不保存明文证件号） / the code holds a full ID number: refused (the station never stores one)")]
    FullIdNumber,
    #[error("采集码中含有控制字符，已拒绝 / the code holds a control character: refused")]
    ControlCharacter,
    /// The offending name is not carried: it may be a clear name, which must
    /// not reach the screen or a log.
    #[error("姓名未按规则脱敏（{chars} 个字） / the name is not masked by the rule ({chars} characters)")]
    NameNotMasked { chars: usize },
    #[error("这是练习用的演练码，正式采集不接受；练习请进入练习模式 / this is a training (drill) code: a real capture day does not take it; use training mode to practise")]
    DrillInProduction,
}

impl crate::text::Bilingual for CodeError {
    fn text(&self) -> crate::text::Text {
        use crate::text::Text;
        match self {
            Self::Empty => Text::new("空白内容", "empty input"),
            Self::TooLong { len } => Text::new(
                format!("内容过长（{len} 字节，上限 4096）"),
                format!("input too long ({len} bytes, limit 4096)"),
            ),
            Self::Foreign(f0) => Text::new(
                format!("这不是学信网图像采集码：{}", f0.zh()),
                format!("not a CHSI capture code: {}", f0.en()),
            ),
            Self::InvalidBase64 => {
                Text::new("这不是学信网图像采集码：不是有效的 Base64", "not a CHSI capture code: not valid Base64")
            }
            Self::InvalidUtf8 => {
                Text::new("采集码内容不是有效的 UTF-8 文本", "capture code content is not valid UTF-8")
            }
            Self::NotJson => Text::new("采集码内容不是 JSON", "capture code content is not JSON"),
            Self::NotObject => Text::new("采集码内容不是 JSON 对象", "capture code content is not a JSON object"),
            Self::MissingField(f0) => {
                Text::new(format!("采集码缺少字段 {f0}"), format!("capture code lacks the field {f0}"))
            }
            Self::EmptyField(f0) => {
                Text::new(format!("采集码字段 {f0} 为空"), format!("capture code field {f0} is empty"))
            }
            Self::NotString(f0) => {
                Text::new(format!("采集码字段 {f0} 不是文本"), format!("capture code field {f0} is not a string"))
            }
            Self::BadTimestamp { chars } => Text::new(
                format!("生成时间 sjc 不是毫秒时间戳（{chars} 个字符）"),
                format!("sjc is not a millisecond timestamp ({chars} characters)"),
            ),
            Self::BadIdTail { chars } => Text::new(
                format!("证件号后四位 zjhm 应为 4 位数字或 X（收到 {chars} 个字符）"),
                format!("zjhm must be exactly 4 of 0-9 or X (got {chars} characters)"),
            ),
            Self::BadSchoolCode { chars } => Text::new(
                format!("院校代码 yxdm 应为 5 位数字（收到 {chars} 个字符）"),
                format!("yxdm must be 5 digits (got {chars} characters)"),
            ),
            Self::DuplicateKey(f0) => Text::new(
                format!("采集码中字段 {f0} 出现了两次，已拒绝"),
                format!("the field {f0} appears twice in the code: refused"),
            ),
            Self::FullIdNumber => Text::new(
                "采集码中含有完整的身份证号码，已拒绝（采集站不保存明文证件号）",
                "the code holds a full ID number: refused (the station never stores one)",
            ),
            Self::ControlCharacter => {
                Text::new("采集码中含有控制字符，已拒绝", "the code holds a control character: refused")
            }
            Self::NameNotMasked { chars } => Text::new(
                format!("姓名未按规则脱敏（{chars} 个字）"),
                format!("the name is not masked by the rule ({chars} characters)"),
            ),
            Self::DrillInProduction => Text::new(
                "这是练习用的演练码，正式采集不接受；练习请进入练习模式",
                "this is a training (drill) code: a real capture day does not take it; use training mode to practise",
            ),
        }
    }
}

/// A parsed, validated capture code. Holds only masked data.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CaptureCode {
    /// Generation time as scanned (Unix milliseconds, as text); empty if absent.
    pub sjc: String,
    /// The opaque capture token CHSI links the photo by.
    pub cjm: String,
    /// School code (院校代码); empty if absent.
    pub yxdm: String,
    /// Last four characters of the ID number.
    pub zjhm: String,
    /// Student number (学号), always text.
    pub xh: String,
    /// Level (层次).
    pub cc: String,
    /// Education category (学历类别).
    pub xllb: String,
    /// College / faculty (分院).
    pub fy: String,
    /// Masked name.
    pub xm: String,
    /// Class number (班号), may be empty.
    pub bh: String,
    /// Keys this version does not know, kept as scanned.
    pub extra: Map<String, Value>,
}

impl CaptureCode {
    /// True for a drill code (training, demos, simulations): its token is
    /// `DRILL…`, which CHSI never issues.
    pub fn is_drill(&self) -> bool {
        self.cjm.starts_with(drill::DRILL_PREFIX)
    }

    /// `sjc` as milliseconds, when present.
    pub fn sjc_ms(&self) -> Option<i64> {
        self.sjc.parse().ok()
    }

    /// The code as a JSON object under the payload's own key names
    /// (known keys first, in payload order, then the extra keys).
    pub fn to_json(&self) -> Map<String, Value> {
        let mut m = Map::new();
        for key in KNOWN_KEYS {
            m.insert(key.to_string(), Value::String(self.field(key).to_string()));
        }
        for (k, v) in &self.extra {
            m.insert(k.clone(), v.clone());
        }
        m
    }

    /// The payload text a CHSI-style QR code carries for this code.
    pub fn to_payload(&self) -> String {
        let json = Value::Object(self.to_json()).to_string();
        base64::engine::general_purpose::STANDARD.encode(json.as_bytes())
    }

    /// A known field by its payload key; empty for unknown keys.
    pub fn field(&self, key: &str) -> &str {
        match key {
            "sjc" => &self.sjc,
            "cjm" => &self.cjm,
            "yxdm" => &self.yxdm,
            "zjhm" => &self.zjhm,
            "xh" => &self.xh,
            "cc" => &self.cc,
            "xllb" => &self.xllb,
            "fy" => &self.fy,
            "xm" => &self.xm,
            "bh" => &self.bh,
            _ => "",
        }
    }

    /// The class this code names: `bh` when present, otherwise empty.
    pub fn class_label(&self) -> &str {
        &self.bh
    }
}

/// Parses a scanned text into a capture code, or says why it is not one.
pub fn parse(text: &str) -> Result<CaptureCode, CodeError> {
    if text.len() > MAX_PAYLOAD_BYTES {
        return Err(CodeError::TooLong { len: text.len() });
    }
    // Scanner guns add CR/LF; some phones wrap long texts.
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    if compact.is_empty() {
        return Err(CodeError::Empty);
    }
    if let Some(kind) = classify_foreign(&compact) {
        return Err(CodeError::Foreign(kind));
    }
    let bytes = decode_base64(&compact).ok_or(CodeError::InvalidBase64)?;
    let json = std::str::from_utf8(&bytes).map_err(|_| CodeError::InvalidUtf8)?;
    let Value::Object(obj) = guard::parse_json_unique(json)? else {
        return Err(CodeError::NotObject);
    };
    guard::refuse_full_id_numbers(&Value::Object(obj.clone()))?;
    from_object(obj)
}

/// Validates a JSON object as a capture code.
pub fn from_object(mut obj: Map<String, Value>) -> Result<CaptureCode, CodeError> {
    // Every known key that is present must be a string.
    // Every value is a string (DOMAIN.md): `null` is refused like a number.
    let mut take = |key: &'static str| -> Result<Option<String>, CodeError> {
        match obj.remove(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.trim().to_string())),
            Some(_) => Err(CodeError::NotString(key.to_string())),
        }
    };
    let sjc = take("sjc")?;
    let cjm = take("cjm")?;
    let yxdm = take("yxdm")?;
    let zjhm = take("zjhm")?;
    let xh = take("xh")?;
    let cc = take("cc")?;
    let xllb = take("xllb")?;
    let fy = take("fy")?;
    let xm = take("xm")?;
    let bh = take("bh")?;

    let required = |key: &'static str, v: Option<String>| -> Result<String, CodeError> {
        match v {
            None => Err(CodeError::MissingField(key)),
            Some(s) if s.is_empty() => Err(CodeError::EmptyField(key)),
            Some(s) => Ok(s),
        }
    };
    let cjm = required("cjm", cjm)?;
    let xm = required("xm", xm)?;
    let zjhm = required("zjhm", zjhm)?;
    let xh = required("xh", xh)?;

    let sjc = sjc.unwrap_or_default();
    if !sjc.is_empty() && !is_millisecond_timestamp(&sjc) {
        return Err(CodeError::BadTimestamp { chars: sjc.chars().count() });
    }
    if !is_id_tail(&zjhm) {
        return Err(CodeError::BadIdTail { chars: zjhm.chars().count() });
    }
    let yxdm = yxdm.unwrap_or_default();
    if !(yxdm.is_empty() || is_school_code(&yxdm)) {
        return Err(CodeError::BadSchoolCode { chars: yxdm.chars().count() });
    }
    if !is_masked_name(&xm) {
        return Err(CodeError::NameNotMasked { chars: xm.chars().count() });
    }
    Ok(CaptureCode {
        sjc,
        cjm,
        yxdm,
        zjhm,
        xh,
        cc: cc.unwrap_or_default(),
        xllb: xllb.unwrap_or_default(),
        fy: fy.unwrap_or_default(),
        xm,
        bh: bh.unwrap_or_default(),
        extra: guard::safe_extras(obj),
    })
}

/// What may be echoed of a payload `text` that `parse` refused with `e`:
/// the text itself only when it never decoded into a code's fields
/// (anything past Base64 may hold a clear name or ID number), else `(withheld)`.
pub fn refused_input_shown<'a>(text: &'a str, e: &CodeError) -> &'a str {
    match e {
        CodeError::Empty | CodeError::Foreign(_) | CodeError::InvalidBase64 => text,
        _ => "(withheld)",
    }
}

/// True for a 院校代码: exactly five digits.
pub fn is_school_code(s: &str) -> bool {
    s.len() == 5 && s.bytes().all(|b| b.is_ascii_digit())
}

fn is_millisecond_timestamp(s: &str) -> bool {
    s.len() == 13
        && s.bytes().all(|b| b.is_ascii_digit())
        && s.parse::<i64>().is_ok_and(|v| (SJC_MIN_MS..SJC_MAX_MS).contains(&v))
}

fn decode_base64(s: &str) -> Option<Vec<u8>> {
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
    [STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD].iter().find_map(|engine| engine.decode(s).ok())
}

/// Names the common wrong codes students show instead of the capture code.
pub fn classify_foreign(compact: &str) -> Option<ForeignCode> {
    let lower = compact.to_ascii_lowercase();
    if lower.starts_with("wxp://") || lower.starts_with("weixin://") || lower.contains("wx.tenpay.com") {
        return Some(ForeignCode::WeChatPay);
    }
    if lower.contains("alipay") || lower.starts_with("alipays://") {
        return Some(ForeignCode::Alipay);
    }
    if lower.contains("://") || lower.starts_with("www.") {
        return Some(ForeignCode::Url);
    }
    let digits = compact.bytes().all(|b| b.is_ascii_digit());
    if compact.len() == 18 && is_resident_id(compact) {
        return Some(ForeignCode::IdNumber);
    }
    if digits {
        let prefix: u32 = compact.get(..2).and_then(|p| p.parse().ok()).unwrap_or(0);
        // 微信付款码: 18 digits starting 10–15. 支付宝付款码: 16–24 digits starting 25–30.
        if compact.len() == 18 && (10..=15).contains(&prefix) {
            return Some(ForeignCode::WeChatPay);
        }
        if (16..=24).contains(&compact.len()) && (25..=30).contains(&prefix) {
            return Some(ForeignCode::Alipay);
        }
    }
    None
}

/// GB 11643 resident ID: 17 digits and a check character (digit or X).
fn is_resident_id(s: &str) -> bool {
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    const CHECK: &[u8; 11] = b"10X98765432";
    let b = s.as_bytes();
    if b.len() != 18 || !b[..17].iter().all(u8::is_ascii_digit) {
        return false;
    }
    let sum: u32 = b[..17].iter().zip(WEIGHTS).map(|(d, w)| u32::from(d - b'0') * w).sum();
    let expected = CHECK[(sum % 11) as usize];
    b[17].to_ascii_uppercase() == expected
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(s: &str) -> String {
        base64::engine::general_purpose::STANDARD.encode(s.as_bytes())
    }

    fn sample_json() -> Value {
        serde_json::json!({
            "sjc": "1700000000000", "cjm": "A1B2C3D4E5F6", "yxdm": "10697", "zjhm": "123X",
            "xh": "0021010101", "cc": "本科", "xllb": "普通", "fy": "法学院", "xm": "欧**娜", "bh": "法学 2101"
        })
    }

    fn with(key: &str, v: Value) -> String {
        let mut j = sample_json();
        j[key] = v;
        b64(&j.to_string())
    }

    fn without(key: &str) -> String {
        let mut j = sample_json();
        j.as_object_mut().map(|o| o.remove(key));
        b64(&j.to_string())
    }

    #[test]
    fn parses_the_observed_payload() {
        let code = parse(&b64(&sample_json().to_string())).unwrap();
        assert_eq!(code.cjm, "A1B2C3D4E5F6");
        assert_eq!(code.xh, "0021010101", "leading zeros survive");
        assert_eq!(code.xm, "欧**娜");
        assert_eq!(code.sjc_ms(), Some(1_700_000_000_000));
        assert!(code.extra.is_empty());
    }

    #[test]
    fn round_trips_through_the_payload() {
        let code = parse(&b64(&sample_json().to_string())).unwrap();
        assert_eq!(parse(&code.to_payload()).unwrap(), code);
    }

    #[test]
    fn keeps_unknown_keys_and_accepts_empty_bh() {
        let mut j = sample_json();
        j["bh"] = Value::String(String::new());
        j["newkey"] = serde_json::json!("v2");
        j["nested"] = serde_json::json!({"v": 2});
        let code = parse(&b64(&j.to_string())).unwrap();
        assert_eq!(code.bh, "");
        assert_eq!(code.extra["newkey"], serde_json::json!("v2"));
        assert!(!code.extra.contains_key("nested"), "a nested value could hold a name: dropped");
        assert_eq!(parse(&code.to_payload()).unwrap(), code);
    }

    #[test]
    fn tolerates_scanner_line_endings_and_missing_padding() {
        let p = b64(&sample_json().to_string());
        assert!(parse(&format!("{p}\r\n")).is_ok());
        let unpadded = p.trim_end_matches('=');
        assert!(parse(unpadded).is_ok());
    }

    #[test]
    fn rejects_each_malformed_payload_with_its_own_reason() {
        use CodeError::*;
        let cases: Vec<(String, CodeError)> = vec![
            (String::new(), Empty),
            ("  \r\n".into(), Empty),
            ("A".repeat(5000), TooLong { len: 5000 }),
            ("%%%not base64%%%".into(), InvalidBase64),
            (base64::engine::general_purpose::STANDARD.encode([0xff, 0xfe, 0xfd]), InvalidUtf8),
            (b64("hello world"), NotJson),
            (b64("[1,2,3]"), NotObject),
            (b64("\"text\""), NotObject),
            (without("cjm"), MissingField("cjm")),
            (without("xm"), MissingField("xm")),
            (without("zjhm"), MissingField("zjhm")),
            (without("xh"), MissingField("xh")),
            (with("cjm", "".into()), EmptyField("cjm")),
            (with("xm", " ".into()), EmptyField("xm")),
            (with("zjhm", "".into()), EmptyField("zjhm")),
            (with("xh", "".into()), EmptyField("xh")),
            (with("xh", serde_json::json!(2021001)), NotString("xh".into())),
            (with("bh", serde_json::json!(["a"])), NotString("bh".into())),
            (with("sjc", "1700000000".into()), BadTimestamp { chars: 10 }),
            (with("sjc", "yesterday".into()), BadTimestamp { chars: 9 }),
            (with("sjc", "9999999999999".into()), BadTimestamp { chars: 13 }),
            (with("zjhm", "12345".into()), BadIdTail { chars: 5 }),
            (with("zjhm", "12A4".into()), BadIdTail { chars: 4 }),
            (with("zjhm", "123x".into()), BadIdTail { chars: 4 }),
            (with("yxdm", "1069".into()), BadSchoolCode { chars: 4 }),
            (with("yxdm", "1069A".into()), BadSchoolCode { chars: 5 }),
            (with("xm", "张三丰".into()), NameNotMasked { chars: 3 }),
            (with("xm", "*".into()), NameNotMasked { chars: 1 }),
            (with("xm", "李四".into()), NameNotMasked { chars: 2 }),
        ];
        for (input, expected) in cases {
            assert_eq!(parse(&input), Err(expected), "input {:?}", input.chars().take(40).collect::<String>());
        }
    }

    #[test]
    fn names_the_common_wrong_codes() {
        use ForeignCode::*;
        let cases = [
            ("https://www.chsi.com.cn/", Url),
            ("http://example.com/a?b=c", Url),
            ("wxp://f2f0abcdefghijklmn", WeChatPay),
            ("weixin://wxpay/bizpayurl?pr=abc", WeChatPay),
            ("134567890123456789", WeChatPay),
            ("https://qr.alipay.com/fkx12345", Alipay),
            ("281234567890123456", Alipay),
            ("11010519491231002X", IdNumber),
            ("440304199003072515", IdNumber),
        ];
        for (text, kind) in cases {
            assert_eq!(parse(text), Err(CodeError::Foreign(kind)), "{text}");
        }
    }

    #[test]
    fn every_reason_is_bilingual() {
        let errors = [
            CodeError::Empty,
            CodeError::Foreign(ForeignCode::IdNumber),
            CodeError::InvalidBase64,
            CodeError::MissingField("cjm"),
            CodeError::NameNotMasked { chars: 3 },
        ];
        assert!(!CodeError::NameNotMasked { chars: 3 }.to_string().contains("张"));
        for e in errors {
            let text = e.to_string();
            assert!(text.contains(" / "), "{text}");
            assert!(text.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)), "{text}");
            assert!(text.chars().any(|c| c.is_ascii_alphabetic()), "{text}");
        }
        assert!(CodeError::Foreign(ForeignCode::Url).to_string().contains("这不是学信网图像采集码"));
    }

    /// Arbitrary input never panics: random bytes, random Base64 of random
    /// bytes, and mutated valid payloads.
    #[test]
    fn arbitrary_input_never_panics() {
        let mut rng = crate::camera::synth::SeededRng::new(99);
        let valid = b64(&sample_json().to_string());
        for i in 0..20_000 {
            let len = (rng.next_u64() % 300) as usize;
            let bytes: Vec<u8> = (0..len).map(|_| rng.next_u64() as u8).collect();
            let text = match i % 3 {
                0 => String::from_utf8_lossy(&bytes).into_owned(),
                1 => base64::engine::general_purpose::STANDARD.encode(&bytes),
                _ => {
                    let mut v: Vec<char> = valid.chars().collect();
                    let at = (rng.next_u64() as usize) % v.len();
                    v[at] = char::from(b'A' + (rng.next_u64() % 26) as u8);
                    v.into_iter().collect()
                }
            };
            let _ = parse(&text);
        }
    }

    #[test]
    fn resident_id_checksum() {
        assert!(is_resident_id("11010519491231002X"));
        assert!(!is_resident_id("110105194912310020"));
        assert!(is_resident_id("440304199003072515"));
    }
}
