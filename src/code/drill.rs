//! Drill codes: capture codes in the real payload format, made from a roster,
//! for training days, demos, simulations and tests.
//!
//! Only masked data goes in: a drill code is built from a [`DrillStudent`],
//! which holds the masked name and the ID tail, never the clear values. The
//! `cjm` token is derived from the school code and student number with
//! SHA-256 (prefixed `DRILL`), so the same roster always yields the same
//! tokens and a drill token can never be mistaken for a CHSI one.

use qrcode::{Color, EcLevel, QrCode};
use serde_json::Map;
use sha2::{Digest, Sha256};

use super::CaptureCode;

/// What a drill code is made from: masked data only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DrillStudent {
    pub xh: String,
    /// Masked name.
    pub xm: String,
    /// Last four characters of the ID number.
    pub zjhm: String,
    pub class: String,
    pub college: String,
    pub level: String,
}

impl DrillStudent {
    /// A sample student of 法学 2101 with student number `xh`: for demos,
    /// documentation, tests and benchmarks.
    pub fn example(xh: &str) -> Self {
        DrillStudent {
            xh: xh.to_string(),
            xm: "欧**娜".into(),
            zjhm: "123X".into(),
            class: "法学 2101".into(),
            college: "法学院".into(),
            level: "本科".into(),
        }
    }

    /// The payload of this student's drill code for school 10697 (a fixed `sjc`).
    pub fn example_payload(&self) -> String {
        drill_code(self, "10697", 1_700_000_000_000).to_payload()
    }
}

/// Errors while rendering a drill code.
#[derive(Debug, thiserror::Error)]
pub enum DrillError {
    #[error("无法生成二维码：{0} / cannot render the QR code: {0}")]
    Qr(String),
    #[error("院校代码应为 5 位数字 / --school-code must be 5 digits: {0}")]
    SchoolCode(String),
    /// Two 学号 that make the same file name would overwrite one student's code with another's.
    #[error("学号 {0} 与 {1} 的文件名相同，无法分别保存 / student numbers {0} and {1} map to the same file name")]
    SameFileName(String, String),
    #[error("创建目录 / creating {path}: {reason}")]
    CreateDir { path: String, reason: String },
    #[error("写入 / writing {path}: {reason}")]
    Write { path: String, reason: String },
    #[error("{0}")]
    Index(String),
}

impl crate::text::Bilingual for DrillError {
    fn text(&self) -> crate::text::Text {
        use crate::text::Text;
        match self {
            Self::Qr(e) => Text::new(format!("无法生成二维码：{e}"), format!("cannot render the QR code: {e}")),
            Self::SchoolCode(c) => Text::new("院校代码应为 5 位数字", format!("--school-code must be 5 digits: {c}")),
            Self::SameFileName(a, b) => Text::new(
                format!("学号 {a} 与 {b} 的文件名相同，无法分别保存"),
                format!("student numbers {a} and {b} map to the same file name"),
            ),
            Self::CreateDir { path, reason } => {
                Text::new(format!("无法创建目录 {path}：{reason}"), format!("creating {path}: {reason}"))
            }
            Self::Write { path, reason } => {
                Text::new(format!("无法写入 {path}：{reason}"), format!("writing {path}: {reason}"))
            }
            Self::Index(e) => Text::new(format!("无法写入索引：{e}"), format!("cannot write the index: {e}")),
        }
    }
}

/// A school code (院校代码) is 5 digits.
pub fn check_school_code(school_code: &str) -> Result<(), DrillError> {
    if super::is_school_code(school_code) {
        Ok(())
    } else {
        Err(DrillError::SchoolCode(school_code.to_string()))
    }
}

/// Renders the drill codes of `students` into `out`: one `{xh}.png` each and
/// `index.csv` (file, the code's fields, payload). `sjc_ms` is the codes'
/// time stamp (ms since the epoch).
pub fn write_drill_codes(
    students: &[DrillStudent],
    out: &std::path::Path,
    school_code: &str,
    sjc_ms: i64,
) -> Result<(), DrillError> {
    check_school_code(school_code)?;
    std::fs::create_dir_all(out)
        .map_err(|e| DrillError::CreateDir { path: out.display().to_string(), reason: e.to_string() })?;
    let mut stems = std::collections::HashMap::new();
    for student in students {
        if let Some(other) = stems.insert(file_stem(&student.xh), student.xh.clone()) {
            return Err(DrillError::SameFileName(other, student.xh.clone()));
        }
    }
    let index_err = |e: csv::Error| DrillError::Index(e.to_string());
    let mut index = csv::Writer::from_writer(Vec::new());
    index.write_record(["file", "xh", "xm", "zjhm", "bh", "fy", "cc", "cjm", "payload"]).map_err(index_err)?;
    for student in students {
        let code = drill_code(student, school_code, sjc_ms);
        let payload = code.to_payload();
        let file = format!("{}.png", file_stem(&student.xh));
        let png = render_png(&payload, 8)?;
        crate::paths::write_atomic(&out.join(&file), &png)
            .map_err(|e| DrillError::Write { path: file.to_string(), reason: e.to_string() })?;
        index
            .write_record([&file, &code.xh, &code.xm, &code.zjhm, &code.bh, &code.fy, &code.cc, &code.cjm, &payload])
            .map_err(index_err)?;
    }
    let index = index.into_inner().map_err(|e| DrillError::Index(e.to_string()))?;
    crate::paths::write_atomic(&out.join("index.csv"), &index).map_err(|e| DrillError::Index(e.to_string()))?;
    Ok(())
}

/// The drill capture code for a student of the school `school_code`.
pub fn drill_code(student: &DrillStudent, school_code: &str, sjc_ms: i64) -> CaptureCode {
    CaptureCode {
        sjc: sjc_ms.to_string(),
        cjm: drill_token(school_code, &student.xh),
        yxdm: school_code.to_string(),
        zjhm: if student.zjhm.is_empty() { drill_id_tail(&student.xh) } else { student.zjhm.clone() },
        xh: student.xh.clone(),
        cc: student.level.clone(),
        xllb: "普通".to_string(),
        fy: student.college.clone(),
        xm: student.xm.clone(),
        bh: student.class.clone(),
        extra: Map::new(),
    }
}

/// A stand-in ID tail for a drill code whose roster has no ID numbers: four
/// digits derived from the 学号 (a capture code always carries one).
pub fn drill_id_tail(xh: &str) -> String {
    let digest = Sha256::digest(format!("gradcap-drill-id|{xh}").as_bytes());
    format!("{:04}", u16::from_be_bytes([digest[0], digest[1]]) % 10_000)
}

/// The prefix of every drill token.
pub const DRILL_PREFIX: &str = "DRILL";

/// The deterministic drill `cjm` for a student.
pub fn drill_token(school_code: &str, xh: &str) -> String {
    let digest = Sha256::digest(format!("gradcap-drill|{school_code}|{xh}").as_bytes());
    let hex: String = digest.iter().take(12).map(|b| format!("{b:02X}")).collect();
    format!("{DRILL_PREFIX}{hex}")
}

/// A QR code as a module matrix: `true` is dark. Side length in modules, no quiet zone.
#[derive(Debug, Clone)]
pub struct QrMatrix {
    pub side: usize,
    pub dark: Vec<bool>,
}

impl QrMatrix {
    /// Encodes `text` at error-correction level M (what phone apps use for codes this size).
    pub fn encode(text: &str) -> Result<Self, DrillError> {
        let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M)
            .map_err(|e| DrillError::Qr(e.to_string()))?;
        let side = code.width();
        let dark = code.to_colors().into_iter().map(|c| c == Color::Dark).collect();
        Ok(Self { side, dark })
    }

    /// Whether the module at (`x`, `y`) is dark; outside the matrix is light.
    pub fn is_dark(&self, x: isize, y: isize) -> bool {
        if x < 0 || y < 0 || x as usize >= self.side || y as usize >= self.side {
            return false;
        }
        self.dark[y as usize * self.side + x as usize]
    }

    /// Renders to an 8-bit grey image with `module_px` pixels a module and a
    /// four-module quiet zone.
    pub fn to_luma(&self, module_px: u32) -> image::GrayImage {
        let module_px = module_px.max(1);
        let quiet = 4u32;
        let px = (self.side as u32 + 2 * quiet) * module_px;
        image::GrayImage::from_fn(px, px, |x, y| {
            let mx = (x / module_px) as isize - quiet as isize;
            let my = (y / module_px) as isize - quiet as isize;
            image::Luma([if self.is_dark(mx, my) { 0 } else { 255 }])
        })
    }
}

/// A PNG of the QR code for `text`, readable by any QR reader.
pub fn render_png(text: &str, module_px: u32) -> Result<Vec<u8>, DrillError> {
    let img = QrMatrix::encode(text)?.to_luma(module_px);
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).map_err(|e| DrillError::Qr(e.to_string()))?;
    Ok(out.into_inner())
}

/// A file name for a student number: keeps letters, digits, `-` and `_`.
pub fn file_stem(xh: &str) -> String {
    xh.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn student() -> DrillStudent {
        DrillStudent {
            xh: "0021010101".into(),
            xm: "欧**娜".into(),
            zjhm: "123X".into(),
            class: "法学 2101".into(),
            college: "法学院".into(),
            level: "本科".into(),
        }
    }

    #[test]
    fn drill_codes_parse_as_capture_codes() {
        let code = drill_code(&student(), "10697", 1_700_000_000_000);
        let parsed = super::super::parse(&code.to_payload()).unwrap();
        assert_eq!(parsed, code);
        assert!(parsed.cjm.starts_with("DRILL"));
        assert_eq!(parsed.xh, "0021010101");
    }

    #[test]
    fn a_roster_without_id_numbers_still_makes_valid_codes() {
        let mut s = student();
        s.zjhm.clear();
        let code = drill_code(&s, "10697", 1_700_000_000_000);
        assert_eq!(code.zjhm, drill_id_tail(&s.xh));
        assert!(super::super::parse(&code.to_payload()).is_ok());
    }

    #[test]
    fn tokens_are_deterministic_and_distinct() {
        assert_eq!(drill_token("10697", "1"), drill_token("10697", "1"));
        assert_ne!(drill_token("10697", "1"), drill_token("10697", "2"));
        assert_ne!(drill_token("10697", "1"), drill_token("10698", "1"));
    }

    #[test]
    fn rendered_code_has_quiet_zone_and_finder_pattern() {
        let m = QrMatrix::encode("hello").unwrap();
        let img = m.to_luma(3);
        assert_eq!(img.width(), (m.side as u32 + 8) * 3);
        assert_eq!(img.get_pixel(0, 0)[0], 255, "quiet zone is light");
        assert_eq!(img.get_pixel(12, 12)[0], 0, "finder pattern corner is dark");
    }

    #[test]
    fn file_stems_are_safe() {
        assert_eq!(file_stem("2021/01 a"), "2021_01_a");
        assert_eq!(file_stem("0021010101"), "0021010101");
    }
}
