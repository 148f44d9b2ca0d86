//! Station settings the operator sets once per day or per school, kept as
//! JSON beside the database (`settings.json`). Written atomically (temp file,
//! fsync, rename) so a crash never leaves half a file; a damaged file is set
//! aside and defaults are used, with a message, never a refusal to start.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::photo::checks::Thresholds;
use crate::photo::SizeRange;
use crate::store::SessionInfo;

/// File name of the settings inside the data directory.
pub const SETTINGS_FILE_NAME: &str = "settings.json";

/// Errors reading or writing settings.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("无法保存设置 {path}：{source} / cannot save settings {path}: {source}")]
    Write { path: String, source: std::io::Error },
    #[error("设置有误：{zh} / invalid setting: {en}")]
    Invalid { zh: String, en: String },
}

impl crate::text::Bilingual for SettingsError {
    fn text(&self) -> crate::text::Text {
        use crate::text::Text;
        match self {
            Self::Write { path, source } => {
                Text::new(format!("无法保存设置 {path}：{source}"), format!("cannot save settings {path}: {source}"))
            }
            Self::Invalid { zh, en } => Text::new(format!("设置有误：{zh}"), format!("invalid setting: {en}")),
        }
    }
}

pub use crate::text::Language;

/// The operator's keys, by egui key name (`Space`, `Enter`, `R`, `PageDown`, `F5`…);
/// a foot pedal is just a key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Keys {
    pub shoot: String,
    pub accept: String,
    pub reshoot: String,
    pub skip: String,
    /// Binds the oldest studio camera file of the tray to the queue head.
    pub bind: String,
}

impl Default for Keys {
    fn default() -> Self {
        Keys { shoot: "Space".into(), accept: "Enter".into(), reshoot: "R".into(), skip: "S".into(), bind: "B".into() }
    }
}

/// What makes the photo.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ShotSource {
    /// The USB webcam, on the shutter key.
    #[default]
    Webcam,
    /// A studio camera whose tethering software saves into a folder; the
    /// webcam (or a scanner gun) still reads the codes and shows the framing.
    Folder,
}

/// The studio camera and the shot rules (both sources).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ShotSettings {
    pub source: ShotSource,
    /// The folder the tethering software saves into.
    pub folder: String,
    /// Who fires the studio camera.
    pub trigger: crate::station::ingest::ShotTrigger,
    /// With the station triggering: files this many seconds after the key bind.
    pub window_s: u32,
    /// Files this close after the last one bound are its burst (same student).
    pub burst_ms: u64,
    /// More takes than this for one student warns the operator.
    pub limit: u32,
    /// Run on the shutter key when the station triggers (program and
    /// arguments separated by spaces, e.g. `gphoto2 --trigger-capture`); empty: none.
    pub trigger_command: String,
}

impl Default for ShotSettings {
    fn default() -> Self {
        ShotSettings {
            source: ShotSource::Webcam,
            folder: String::new(),
            trigger: crate::station::ingest::ShotTrigger::Camera,
            window_s: 10,
            burst_ms: 2500,
            limit: 4,
            trigger_command: String::new(),
        }
    }
}

impl ShotSettings {
    /// The ingest rules these settings give.
    pub fn ingest_config(&self) -> crate::station::ingest::IngestConfig {
        crate::station::ingest::IngestConfig {
            trigger: self.trigger,
            window_ms: u64::from(self.window_s) * 1000,
            burst_ms: self.burst_ms,
        }
    }

    /// The folder, when the studio camera is the source.
    pub fn watched_folder(&self) -> Option<PathBuf> {
        (self.source == ShotSource::Folder && !self.folder.trim().is_empty()).then(|| PathBuf::from(self.folder.trim()))
    }
}

/// Everything the settings view edits.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// Camera position (机位), e.g. `2`.
    pub station: String,
    pub school_name: String,
    /// 院校代码, 5 digits or empty.
    pub school_code: String,
    pub operator: String,
    /// `YYYY-MM-DD`; empty means today.
    pub session_date: String,
    /// Camera by name; empty: the first camera.
    pub camera_name: String,
    pub camera_width: u32,
    pub camera_height: u32,
    pub camera_fps: u32,
    pub min_kb: u32,
    pub max_kb: u32,
    pub keys: Keys,
    pub language: Language,
    /// How long a code in view is not re-reported.
    pub scan_hold_ms: u64,
    /// Photo file names in an export, e.g. `{xh}.jpg`.
    pub photo_name_template: String,
    /// age recipient (public key) exports are encrypted to; empty: plain.
    pub export_recipient: String,
    /// Thresholds of the photo checks.
    pub photo_checks: Thresholds,
    /// The studio camera (hot folder) and the shot limit.
    pub shots: ShotSettings,
    /// The webcam's exposure, locked (the camera's own units); `None`: automatic.
    pub camera_exposure: Option<i64>,
    /// The webcam's white balance, locked (kelvin); `None`: automatic.
    pub camera_white_balance: Option<i64>,
    /// Print sheets: the school's package, the paper, the size table.
    pub prints: crate::pdf::prints::PrintSettings,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            station: "1".into(),
            school_name: String::new(),
            school_code: String::new(),
            operator: String::new(),
            session_date: String::new(),
            camera_name: String::new(),
            camera_width: 1920,
            camera_height: 1080,
            camera_fps: 30,
            min_kb: 20,
            max_kb: 40,
            keys: Keys::default(),
            language: Language::Chinese,
            scan_hold_ms: crate::scan::worker::DEFAULT_HOLD_MS,
            photo_name_template: crate::export::DEFAULT_NAME_TEMPLATE.into(),
            export_recipient: String::new(),
            photo_checks: Thresholds::default(),
            shots: ShotSettings::default(),
            camera_exposure: None,
            camera_white_balance: None,
            prints: crate::pdf::prints::PrintSettings::default(),
        }
    }
}

impl Settings {
    /// The session these settings open.
    pub fn session_info(&self) -> SessionInfo {
        let date = if self.session_date.trim().is_empty() {
            chrono::Local::now().format("%Y-%m-%d").to_string()
        } else {
            self.session_date.trim().to_string()
        };
        SessionInfo {
            school_name: self.school_name.trim().to_string(),
            school_code: self.school_code.trim().to_string(),
            station: self.station.trim().to_string(),
            date,
            operator: self.operator.trim().to_string(),
        }
    }

    /// What the station core needs from the settings.
    pub fn station_config(&self) -> crate::station::StationConfig {
        crate::station::StationConfig { size_range: self.size_range(), thresholds: self.photo_checks }
    }

    pub fn size_range(&self) -> SizeRange {
        SizeRange { min_bytes: self.min_kb as usize * 1024, max_bytes: self.max_kb as usize * 1024 }
    }

    /// Checks what the operator typed; the message says which field is wrong.
    pub fn validate(&self) -> Result<(), SettingsError> {
        let bad = |zh: &str, en: &str| Err(SettingsError::Invalid { zh: zh.into(), en: en.into() });
        let station = self.station.trim();
        if station.is_empty() || station.chars().count() > 8 || station.contains(['/', '\\']) {
            return bad("机位号应为 1–8 个字符", "the station id must be 1–8 characters");
        }
        let code = self.school_code.trim();
        if !(code.is_empty() || crate::code::is_school_code(code)) {
            return bad("院校代码应为 5 位数字", "the school code must be 5 digits");
        }
        let date = self.session_date.trim();
        if !date.is_empty() && chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d").is_err() {
            return bad("日期格式应为 YYYY-MM-DD", "the date must be YYYY-MM-DD");
        }
        if self.min_kb == 0 || self.min_kb > self.max_kb {
            return bad("照片大小范围无效", "the photo size range is invalid");
        }
        if !thresholds_ok(&self.photo_checks) {
            return bad(
                "照片检查阈值无效（负数，或下限大于上限）",
                "a photo-check threshold is invalid (negative, or its minimum above its maximum)",
            );
        }
        if let Err(e) = crate::export::check_template(&self.photo_name_template) {
            return bad(&format!("照片文件名模板有误：{e}"), &format!("bad photo file-name template: {e}"));
        }
        if self.shots.source == ShotSource::Folder && self.shots.folder.trim().is_empty() {
            return bad("请选择相机照片文件夹", "choose the studio camera's folder");
        }
        if self.shots.limit == 0 || self.shots.window_s == 0 {
            return bad("张数上限和快门窗口须大于 0", "the shot limit and the shutter window must be above 0");
        }
        let prints = &self.prints;
        let package = crate::pdf::prints::Package::parse(&prints.package, &prints.sizes);
        let paper = crate::pdf::prints::paper_named(&prints.paper, &prints.papers);
        match (package, paper) {
            (Ok(package), Ok(paper)) => {
                if let Err(e) = crate::pdf::prints::layout_package(&package, paper, prints.caption) {
                    let t = crate::text::Bilingual::text(&e);
                    return bad(&t.zh, &t.en);
                }
            }
            (Err(e), _) | (_, Err(e)) => {
                let t = crate::text::Bilingual::text(&e);
                return bad(&t.zh, &t.en);
            }
        }
        if !self.export_recipient.trim().is_empty() && crate::export::check_recipient(&self.export_recipient).is_err() {
            return bad("加密公钥应以 age1 开头", "the encryption key must be an age recipient (age1…)");
        }
        Ok(())
    }

    /// Loads settings; a missing file gives defaults, a damaged one is renamed
    /// aside (`settings.json.damaged`) and reported in the second value.
    pub fn load(path: &Path) -> (Settings, Option<String>) {
        Self::load_with(path, true)
    }

    /// As [`Settings::load`], for processes that only read (`gradcap assist`,
    /// reports): a damaged file is left exactly where it is.
    pub fn load_read_only(path: &Path) -> (Settings, Option<String>) {
        Self::load_with(path, false)
    }

    fn load_with(path: &Path, set_damaged_aside: bool) -> (Settings, Option<String>) {
        let Ok(text) = std::fs::read_to_string(path) else {
            return (Settings::default(), None);
        };
        match serde_json::from_str::<Settings>(&text) {
            // A hand-edited table that makes no sense is not used: the
            // defaults are, and the station says so.
            Ok(mut s) if !thresholds_ok(&s.photo_checks) => {
                s.photo_checks = Thresholds::default();
                let msg = "照片检查阈值无效，已改用默认值 / the photo-check thresholds in the settings were invalid; \
                           the defaults are used"
                    .to_string();
                (s, Some(msg))
            }
            Ok(s) => (s, None),
            Err(e) if !set_damaged_aside => (
                Settings::default(),
                Some(format!(
                    "设置文件损坏，本窗口使用默认设置 / settings are damaged; this window uses the defaults: {e}"
                )),
            ),
            Err(e) => {
                let aside = path.with_extension("json.damaged");
                let _ = std::fs::rename(path, &aside);
                let msg = format!(
                    "设置文件损坏，已改用默认设置（原文件另存为 {}）/ settings were damaged and reset (kept as {}): {e}",
                    aside.display(),
                    aside.display()
                );
                (Settings::default(), Some(msg))
            }
        }
    }

    /// Saves atomically.
    pub fn save(&self, path: &Path) -> Result<(), SettingsError> {
        let err = |source| SettingsError::Write { path: path.display().to_string(), source };
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(err)?;
        }
        let json = serde_json::to_vec_pretty(self).map_err(|e| err(std::io::Error::other(e)))?;
        crate::paths::write_atomic(path, &json).map_err(err)
    }
}

/// Every threshold a number ≥ 0, every range's minimum at most its maximum.
fn thresholds_ok(t: &Thresholds) -> bool {
    let ranges = [t.eye_height_px, t.face_width_px, t.head_top_px, t.exposure];
    let singles = [
        t.eye_tilt_max_deg,
        t.sharpness_min,
        t.background_distance_max,
        t.background_spread_max,
        t.amber_margin,
        t.eyes_open_min_pct,
        t.mouth_open_max_pct,
        t.teeth_max_pct,
        t.head_yaw_max_deg,
        t.head_pitch_max_deg,
        t.illumination_uniformity_min_pct,
        t.exposure_clipping_max_pct,
        t.glasses_glare_max_pct,
        t.clothing_distance_min,
    ];
    let percents = [
        t.eyes_open_min_pct,
        t.mouth_open_max_pct,
        t.teeth_max_pct,
        t.illumination_uniformity_min_pct,
        t.exposure_clipping_max_pct,
        t.glasses_glare_max_pct,
    ];
    ranges.iter().flatten().chain(singles.iter()).all(|v| v.is_finite() && *v >= 0.0)
        && ranges.iter().all(|[lo, hi]| lo <= hi)
        && t.amber_margin < 0.5
        && percents.iter().all(|v| *v <= 100.0)
        && t.head_yaw_max_deg <= 90.0
        && t.head_pitch_max_deg <= 90.0
        // No two RGB colours are farther apart than 441.7.
        && t.clothing_distance_min <= 441.0
        && t.background_distance_max <= 442.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_round_trip_and_missing_fields_take_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(SETTINGS_FILE_NAME);
        let s = Settings { station: "3".into(), school_code: "10697".into(), ..Settings::default() };
        s.save(&path).unwrap();
        let (back, warning) = Settings::load(&path);
        assert_eq!(back, s);
        assert!(warning.is_none());
        std::fs::write(&path, r#"{"station": "7"}"#).unwrap();
        let (partial, _) = Settings::load(&path);
        assert_eq!(partial.station, "7");
        assert_eq!(partial.keys, Keys::default());
    }

    #[test]
    fn a_damaged_file_is_set_aside_with_a_message() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(SETTINGS_FILE_NAME);
        std::fs::write(&path, "{ not json").unwrap();
        let (s, warning) = Settings::load(&path);
        assert_eq!(s, Settings::default());
        assert!(warning.unwrap().contains("damaged"));
        assert!(path.with_extension("json.damaged").exists());
    }

    #[test]
    fn a_read_only_process_leaves_a_damaged_file_where_it_is() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(SETTINGS_FILE_NAME);
        std::fs::write(&path, "{ not json").unwrap();
        let (s, warning) = Settings::load_read_only(&path);
        assert_eq!(s, Settings::default());
        assert!(warning.is_some());
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "{ not json", "not renamed, not written");
        assert!(!path.with_extension("json.damaged").exists());
    }

    #[test]
    fn validation_names_the_field() {
        let ok = Settings::default();
        assert!(ok.validate().is_ok());
        for bad in [
            Settings { station: String::new(), ..Settings::default() },
            Settings { school_code: "1069".into(), ..Settings::default() },
            Settings { session_date: "2026/06/01".into(), ..Settings::default() },
            Settings { min_kb: 50, max_kb: 40, ..Settings::default() },
        ] {
            assert!(bad.validate().is_err(), "{bad:?}");
        }
        let prints = |package: &str, paper: &str| {
            let mut s = Settings::default();
            s.prints.package = package.into();
            s.prints.paper = paper.into();
            s.validate()
        };
        assert!(prints("4×二寸+8×一寸", "5寸").is_ok());
        for (package, paper, says) in [("8×三寸", "6寸", "三寸"), ("二寸", "6寸", "package"), ("8×二寸", "7寸", "7寸")]
        {
            let e = prints(package, paper).unwrap_err().to_string();
            assert!(e.contains(says), "{e}");
        }
    }

    #[test]
    fn photo_check_thresholds_are_saved_and_checked() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(SETTINGS_FILE_NAME);
        let mut s = Settings::default();
        s.photo_checks.eye_tilt_max_deg = 2.0;
        s.validate().unwrap();
        s.save(&path).unwrap();
        assert_eq!(Settings::load(&path).0.photo_checks.eye_tilt_max_deg, 2.0);
        s.photo_checks.exposure = [200.0, 100.0];
        assert!(s.validate().is_err(), "minimum above maximum");
        // A hand-edited file with an impossible table: defaults, and a message.
        let mut text: serde_json::Value = serde_json::to_value(Settings::default()).unwrap();
        text["photo_checks"]["eye_height_px"] = serde_json::json!([300.0, 200.0]);
        std::fs::write(&path, text.to_string()).unwrap();
        let (loaded, warning) = Settings::load(&path);
        assert_eq!(loaded.photo_checks, crate::photo::checks::Thresholds::default());
        assert!(warning.unwrap().contains("thresholds"));
        s.photo_checks = crate::photo::checks::Thresholds { sharpness_min: -1.0, ..Default::default() };
        assert!(s.validate().is_err(), "negative");
        s.photo_checks = crate::photo::checks::Thresholds { eyes_open_min_pct: 120.0, ..Default::default() };
        assert!(s.validate().is_err(), "a share above 100 %");
        s.photo_checks = crate::photo::checks::Thresholds { clothing_distance_min: 445.0, ..Default::default() };
        assert!(s.validate().is_err(), "farther than any two colours");
        s.photo_checks = crate::photo::checks::Thresholds { head_yaw_max_deg: f32::NAN, ..Default::default() };
        assert!(s.validate().is_err(), "not a number");
        // A file from before the student's checks keeps its own table and
        // gets the new thresholds' defaults.
        let mut old: serde_json::Value = serde_json::to_value(Settings::default()).unwrap();
        old["photo_checks"].as_object_mut().unwrap().remove("eyes_open_min_pct");
        old["photo_checks"]["eye_tilt_max_deg"] = serde_json::json!(4.0);
        std::fs::write(&path, old.to_string()).unwrap();
        let (loaded, warning) = Settings::load(&path);
        assert!(warning.is_none(), "{warning:?}");
        assert_eq!(loaded.photo_checks.eye_tilt_max_deg, 4.0);
        assert_eq!(
            loaded.photo_checks.eyes_open_min_pct,
            crate::photo::checks::Thresholds::default().eyes_open_min_pct
        );
        // An older file without the table gets the defaults.
        std::fs::write(&path, r#"{"station": "3"}"#).unwrap();
        assert_eq!(Settings::load(&path).0.photo_checks, crate::photo::checks::Thresholds::default());
    }
}
