//! The operator view, driven with egui_kittest: a replay camera, a temporary
//! database, real keystrokes. Labels are found the way a person finds them.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use egui_kittest::kittest::Queryable;
use egui_kittest::Harness;
use gradcap::app::dialogs::{ChosenPaths, PickKind};
use gradcap::app::{AppOptions, CameraChoice, GradcapApp};
use gradcap::camera::replay::ReplayFactory;
use gradcap::camera::synth::{phone_frame, portrait, PhoneShot};
use gradcap::camera::Frame;
use gradcap::code::drill::DrillStudent;
use gradcap::scan::gun::GunConfig;
use gradcap::sound::Cue;
use gradcap::store::RecordStatus;
use gradcap::ui::state::{Command, View};

mod common;

/// Frames in real time: egui's input clock follows the wall clock, as eframe's does.
trait Tick {
    fn tick(&mut self);
}

impl Tick for Harness<'static, GradcapApp> {
    fn tick(&mut self) {
        static START: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
        let t = START.get_or_init(Instant::now).elapsed().as_secs_f64();
        self.input_mut().time = Some(t);
        self.step();
    }
}

fn student(i: usize) -> DrillStudent {
    DrillStudent::example(&format!("20210{i:05}"))
}

fn payload(i: usize) -> String {
    student(i).example_payload()
}

thread_local! {
    static CUES: Arc<std::sync::Mutex<Vec<Cue>>> = Arc::new(std::sync::Mutex::new(Vec::new()));
}

fn cues() -> Vec<Cue> {
    CUES.with(|c| c.lock().unwrap().clone())
}

fn portrait_camera() -> CameraChoice {
    let frames = vec![Frame::new(portrait(1280, 720, 5), None)];
    CameraChoice::Factory(Arc::new(ReplayFactory::from_frames("replay", frames, 30.0, true)))
}

fn harness(dir: &std::path::Path, camera: CameraChoice) -> Harness<'static, GradcapApp> {
    harness_picking(dir, camera, Arc::new(ChosenPaths::default()))
}

/// [`harness`] whose file and folder dialogs answer with `chosen`'s paths.
fn harness_picking(
    dir: &std::path::Path,
    camera: CameraChoice,
    chosen: Arc<ChosenPaths>,
) -> Harness<'static, GradcapApp> {
    let opts = AppOptions {
        db_path: dir.join("station.sqlite"),
        settings_path: dir.join("settings.json"),
        camera,
        exit_after: None,
        gun: GunConfig::default(),
        system_fonts: false,
        sound: gradcap::sound::Sound::Recorder(CUES.with(|c| c.clone())),
        // Drill codes: the training database.
        training: true,
        picker: Some(chosen),
    };
    let mut h = Harness::builder()
        .with_size(egui::vec2(1400.0, 850.0))
        .build_eframe(move |cc| GradcapApp::new(&cc.egui_ctx, opts));
    h.tick();
    h
}

/// Steps frames (with real time passing, for the workers) until `done` or a timeout.
fn step_until(
    h: &mut Harness<'static, GradcapApp>,
    what: &str,
    mut done: impl FnMut(&Harness<'static, GradcapApp>) -> bool,
) {
    let start = Instant::now();
    while !done(h) {
        assert!(start.elapsed() < Duration::from_secs(60), "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(15));
        h.tick();
    }
}

/// Types like a scanner gun: the whole text at once, then Enter.
fn gun_scan(h: &mut Harness<'static, GradcapApp>, text: &str) {
    for chunk in text.as_bytes().chunks(16) {
        h.input_mut().events.push(egui::Event::Text(String::from_utf8_lossy(chunk).into_owned()));
    }
    h.key_press(egui::Key::Enter);
    h.tick();
    std::thread::sleep(Duration::from_millis(50));
    h.tick();
}

/// A key the operator presses by hand: egui sends a Key event, and Text for keys that type.
fn press(h: &mut Harness<'static, GradcapApp>, key: egui::Key, text: Option<&str>) {
    h.key_press(key);
    if let Some(t) = text {
        h.input_mut().events.push(egui::Event::Text(t.into()));
    }
    h.tick();
    std::thread::sleep(Duration::from_millis(50));
    h.tick();
}

fn shows(h: &Harness<'static, GradcapApp>, text: &str) -> bool {
    h.query_all_by_label_contains(text).next().is_some()
}

#[test]
fn scan_shoot_accept_photographs_the_queue_head() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = harness(dir.path(), portrait_camera());
    step_until(&mut h, "the camera picture", |h| h.state().ui.preview.is_some());

    gun_scan(&mut h, &payload(1));
    step_until(&mut h, "the number", |h| shows(h, "已取号 1-0001"));
    assert!(shows(&h, "2021000001"), "学号 of the current student is shown");
    assert!(shows(&h, "剩余"), "the free disk space is in the status bar");

    press(&mut h, egui::Key::Space, Some(" "));
    step_until(&mut h, "the photo to check", |h| h.state().ui.review.is_some());
    assert!(shows(&h, "待确认照片 1-0001"));

    press(&mut h, egui::Key::Enter, None);
    step_until(&mut h, "the accepted message", |h| shows(h, "1-0001 已拍摄完成"));

    let app = h.state();
    let st = app.station.as_ref().unwrap();
    let records = st.store().records(st.session().id).unwrap();
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].status, RecordStatus::Photographed);
    assert_eq!(records[0].code.xh, "2021000001");
    assert!(st.store().primary_take(records[0].id).unwrap().is_some());
}

#[test]
fn a_scanner_burst_is_not_taken_for_shortcuts_and_reshoot_keeps_the_first_take() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = harness(dir.path(), portrait_camera());
    step_until(&mut h, "the camera picture", |h| h.state().ui.preview.is_some());
    gun_scan(&mut h, &payload(2));
    step_until(&mut h, "the number", |h| shows(h, "1-0001"));
    assert!(!h.state().ui.skip_prompt, "the S in the payload did not open the skip prompt");
    assert!(h.state().ui.review.is_none(), "nothing was shot by the burst");

    press(&mut h, egui::Key::Space, Some(" "));
    step_until(&mut h, "the photo to check", |h| h.state().ui.review.is_some());
    press(&mut h, egui::Key::R, Some("r"));
    step_until(&mut h, "the re-shoot", |h| h.state().ui.review.is_none());
    press(&mut h, egui::Key::Space, Some(" "));
    step_until(&mut h, "the second photo", |h| h.state().ui.review.is_some());
    press(&mut h, egui::Key::Enter, None);
    step_until(&mut h, "accepted", |h| shows(h, "已拍摄完成"));
    let st = h.state().station.as_ref().unwrap();
    let record = &st.store().records(st.session().id).unwrap()[0];
    let takes = st.store().takes(record.id).unwrap();
    assert_eq!(takes.len(), 2);
    assert!(takes[0].rejected_at.is_some() && takes[1].is_primary);
}

#[test]
fn a_duplicate_and_a_bad_code_show_their_messages() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = harness(dir.path(), portrait_camera());
    step_until(&mut h, "the camera picture", |h| h.state().ui.preview.is_some());
    gun_scan(&mut h, &payload(3));
    step_until(&mut h, "the number", |h| shows(h, "已取号 1-0001"));
    gun_scan(&mut h, &payload(3));
    step_until(&mut h, "already waiting", |h| shows(h, "已在队列中，序号仍为 1-0001"));
    press(&mut h, egui::Key::Space, Some(" "));
    step_until(&mut h, "the photo", |h| h.state().ui.review.is_some());
    press(&mut h, egui::Key::Enter, None);
    step_until(&mut h, "accepted", |h| shows(h, "已拍摄完成"));
    gun_scan(&mut h, &payload(3));
    step_until(&mut h, "the duplicate", |h| shows(h, "已拍过：序号 1-0001"));

    gun_scan(&mut h, "https://weixin.qq.com/r/abcdefghijk");
    step_until(&mut h, "the rejection", |h| shows(h, "这不是学信网图像采集码"));
    assert!(shows(&h, "not a CHSI capture code"));
    // Each scan was heard: new number, waiting again, photographed again, not a code.
    assert_eq!(cues(), [Cue::Success, Cue::Duplicate, Cue::Duplicate, Cue::Rejected]);
}

#[test]
fn the_camera_reads_a_code_held_up_and_the_number_appears() {
    let dir = tempfile::tempdir().unwrap();
    let shot = PhoneShot { brightness: 0.9, noise: 5, shear: 0.03, ..PhoneShot::clean(5.0) };
    let phone = phone_frame(&payload(4), 1280, 720, shot, 4).unwrap();
    let rgb = image::DynamicImage::ImageLuma8(phone).to_rgb8();
    let camera =
        CameraChoice::Factory(Arc::new(ReplayFactory::from_frames("phone", vec![Frame::new(rgb, None)], 15.0, true)));
    let mut h = harness(dir.path(), camera);
    step_until(&mut h, "the number from the camera", |h| shows(h, "已取号 1-0001"));
    // Held in view, it is not read again.
    for _ in 0..20 {
        std::thread::sleep(Duration::from_millis(20));
        h.tick();
    }
    let st = h.state().station.as_ref().unwrap();
    assert_eq!(st.store().records(st.session().id).unwrap().len(), 1);
    assert!(h.state().ui.head_thumb.is_some(), "the scan-time picture is shown beside the preview");
}

#[test]
fn skip_asks_for_a_reason_and_void_needs_the_pin() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = harness(dir.path(), portrait_camera());
    gun_scan(&mut h, &payload(5));
    gun_scan(&mut h, &payload(6));
    step_until(&mut h, "two numbers", |h| shows(h, "1-0002"));
    press(&mut h, egui::Key::S, Some("s"));
    step_until(&mut h, "the skip prompt", |h| shows(h, "跳过原因"));
    h.get_by_label("1 未到").click();
    step_until(&mut h, "skipped", |h| shows(h, "1-0001 已跳过"));

    // Records view: void needs the PIN, which is not set yet.
    let record = {
        let st = h.state().station.as_ref().unwrap();
        st.store().records(st.session().id).unwrap()[1].clone()
    };
    let ctx = h.ctx.clone();
    h.state_mut().apply(Command::Show(View::Records), &ctx);
    h.state_mut().apply(Command::Void { record: record.id, reason: "错扫".into(), pin: "0000".into() }, &ctx);
    h.tick();
    assert!(shows(&h, "尚未设置操作员 PIN"));
    h.state_mut().apply(Command::SetPin { new: "2468".into(), old: String::new() }, &ctx);
    h.state_mut().apply(Command::Void { record: record.id, reason: "错扫".into(), pin: "1111".into() }, &ctx);
    h.tick();
    assert!(shows(&h, "PIN 错误"));
    h.state_mut().apply(Command::Void { record: record.id, reason: "错扫".into(), pin: "2468".into() }, &ctx);
    h.tick();
    let st = h.state().station.as_ref().unwrap();
    assert_eq!(st.store().record(record.id).unwrap().status, RecordStatus::Voided);
}

#[test]
fn the_records_view_finds_a_record_and_shows_its_takes_and_audit() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = harness(dir.path(), portrait_camera());
    step_until(&mut h, "the camera picture", |h| h.state().ui.preview.is_some());
    gun_scan(&mut h, &payload(7));
    press(&mut h, egui::Key::Space, Some(" "));
    step_until(&mut h, "the photo", |h| h.state().ui.review.is_some());
    press(&mut h, egui::Key::Enter, None);
    step_until(&mut h, "accepted", |h| shows(h, "已拍摄完成"));
    h.get_by_label("记录").click();
    h.tick();
    h.tick();
    let ctx = h.ctx.clone();
    h.state_mut().apply(Command::Search("2021000007".into()), &ctx);
    h.tick();
    h.get_by_label("1-0001").click();
    h.tick();
    h.tick();
    assert!(shows(&h, "主照片"), "the primary take is marked");
    assert!(shows(&h, "拍摄照片") && shows(&h, "照片确认"), "the audit trail is listed, in words");
    // Correction: the student's files go to the export target.
    let target = dir.path().join("usb");
    h.state_mut().ui.export_target = target.display().to_string();
    h.get_by_label("导出此学生的照片和记录（勘误）").click();
    h.tick();
    step_until(&mut h, "the student's files", |h| shows(h, "已导出该学生的 3 个文件"));
    let folder = target.join("勘误_1-0001_2021000007");
    for f in
        ["1-0001_2021000007_take1_deliverable.jpg", "1-0001_2021000007_take1_original.jpg", "1-0001_2021000007.json"]
    {
        assert!(folder.join(f).exists(), "{f}");
    }
}

#[test]
fn settings_are_saved_and_the_language_switches() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = harness(dir.path(), CameraChoice::Off);
    let ctx = h.ctx.clone();
    let mut s = h.state().settings.clone();
    s.station = "3".into();
    s.school_code = "10697".into();
    s.language = gradcap::settings::Language::English;
    h.state_mut().apply(Command::SaveSettings(Box::new(s)), &ctx);
    h.tick();
    h.tick();
    assert!(shows(&h, "Station 3"), "the new station and the English interface");
    let (saved, _) = gradcap::settings::Settings::load(&dir.path().join("settings.json"));
    assert_eq!(saved.station, "3");
    // The station now numbers as station 3.
    gun_scan(&mut h, &payload(8));
    step_until(&mut h, "the number", |h| shows(h, "3-0001"));
    // One action backs up the whole database; the result comes back as a message.
    let backups = dir.path().join("backups");
    h.state_mut().apply(Command::Backup(backups.clone()), &ctx);
    step_until(&mut h, "the backup", |h| shows(h, "backup written and verified"));
    assert_eq!(std::fs::read_dir(&backups).unwrap().count(), 1);
    let mut bad = h.state().settings.clone();
    bad.school_code = "123".into();
    h.state_mut().apply(Command::SaveSettings(Box::new(bad)), &ctx);
    h.tick();
    assert!(shows(&h, "5 digits"));
}

/// Names use characters outside GB2312 and outside the BMP: every one must
/// have a glyph in the fonts the station installs.
#[test]
fn hard_name_characters_have_glyphs() {
    let dir = tempfile::tempdir().unwrap();
    let h = harness(dir.path(), CameraChoice::Off);
    let hard = "喆堃赟昇翀珺玥琪瑄鑫淼焱垚犇骉镕彧昀晞嫚婧祎禕頔旸暘燚龑懿璟琛瑾瑜煜晔晗曦璐婕妤嬿鋆赜沄湉洺䶮𠮷·阿依古丽买买提欧阳娜";
    let font = egui::FontId::proportional(17.0);
    let missing: Vec<char> = hard.chars().filter(|c| !h.ctx.fonts(|f| f.has_glyphs(&font, &c.to_string()))).collect();
    assert!(missing.is_empty(), "no glyph for {missing:?}");
}

#[test]
fn the_export_view_exports_a_verified_bundle_while_the_station_runs() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = harness(dir.path(), portrait_camera());
    step_until(&mut h, "the camera picture", |h| h.state().ui.preview.is_some());
    gun_scan(&mut h, &payload(9));
    press(&mut h, egui::Key::Space, Some(" "));
    step_until(&mut h, "the photo", |h| h.state().ui.review.is_some());
    press(&mut h, egui::Key::Enter, None);
    step_until(&mut h, "accepted", |h| shows(h, "已拍摄完成"));
    h.get_by_label("导出").click();
    h.tick();
    h.tick();
    let usb = dir.path().join("usb");
    std::fs::create_dir(&usb).unwrap();
    h.state_mut().ui.export_target = usb.display().to_string();
    h.tick();
    h.get_by_label("导出新照片").click();
    h.tick();
    step_until(&mut h, "the export", |h| shows(h, "导出完成并已校验：1 人"));
    assert!(shows(&h, "B001"), "the history lists the batch");
    let bundle = std::fs::read_dir(&usb).unwrap().next().unwrap().unwrap().path();
    assert!(gradcap::export::verify_bundle(&bundle).unwrap().ok());
    // The result stays on the view; the bundle can be checked again from it.
    assert!(shows(&h, "✓ 导出完成，已回读校验"), "the verification result");
    h.get_by_label("校验导出包").click();
    h.tick();
    step_until(&mut h, "the bundle check", |h| shows(h, "✓ 导出包完整无误"));
    let photo = std::fs::read_dir(bundle.join("photos")).unwrap().next().unwrap().unwrap().path();
    std::fs::write(&photo, b"changed on the drive").unwrap();
    // Checked again: the same bundle.
    h.get_by_label("校验导出包").click();
    h.tick();
    step_until(&mut h, "the second bundle check", |h| shows(h, "✗ 导出包有问题："));
    assert!(shows(&h, "content differs from its checksum"));
    // Another drive chosen: its bundle is checked, never the first drive's
    // result kept (a new user's trial under Wine found it kept).
    let other = dir.path().join("usb2");
    std::fs::create_dir(&other).unwrap();
    h.state_mut().ui.export_target = other.display().to_string();
    h.tick();
    h.get_by_label("校验导出包").click();
    h.tick();
    step_until(&mut h, "the empty drive's check", |h| {
        h.state().ui.bundle_checking.is_none() && !shows(h, "content differs")
    });
    assert!(!shows(&h, "✓ 导出包完整无误"), "an empty drive is no intact bundle");
    h.state_mut().ui.export_target = usb.display().to_string();
    h.tick();
    h.get_by_label("校验导出包").click();
    h.tick();
    step_until(&mut h, "the first drive again", |h| shows(h, "content differs from its checksum"));

    // After handover: the images go, behind the PIN and a confirmation.
    let ctx = h.ctx.clone();
    h.state_mut().apply(Command::SetPin { new: "2468".into(), old: String::new() }, &ctx);
    let tomorrow = (chrono::Local::now() + chrono::Duration::days(1)).format("%Y-%m-%d").to_string();
    h.state_mut().ui.purge_before = tomorrow;
    h.state_mut().ui.purge_pin = "2468".into();
    h.tick();
    h.get_by_label("删除…").click();
    h.tick();
    h.tick();
    assert!(shows(&h, "此操作不可撤销"), "a last confirmation");
    assert!(shows(&h, "已导出并校验的 1 名学生的 1 张照片图像"), "it says what goes");
    h.get_by_label("确定").click();
    h.tick();
    step_until(&mut h, "the purge", |h| shows(h, "已删除 1 名学生"));
    let store = gradcap::store::Store::open_read_only(&dir.path().join("station-training.sqlite")).unwrap();
    assert!(store.verify().unwrap().ok());
    let record = store.search_records(&student(9).xh, 1).unwrap().remove(0);
    assert!(store.takes(record.id).unwrap().iter().all(|t| t.purged_at.is_some()));
}

/// New photo checks apply from the next shot and a photo under review keeps
/// its own; a new session saved while a photo waits starts once it is
/// accepted, never before.
#[test]
fn new_settings_apply_to_the_next_shot_and_a_session_change_waits_for_the_review() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = harness(dir.path(), portrait_camera());
    step_until(&mut h, "the camera picture", |h| h.state().ui.preview.is_some());
    gun_scan(&mut h, &payload(21));
    press(&mut h, egui::Key::Space, Some(" "));
    step_until(&mut h, "the photo", |h| h.state().ui.review.is_some());
    let tilt_threshold = |h: &Harness<'static, GradcapApp>| {
        let (review, _) = h.state().ui.review.as_ref().unwrap();
        review.assessment.checks.iter().find(|c| c.name == "eye_tilt").unwrap().threshold.clone()
    };
    assert_eq!(tilt_threshold(&h), serde_json::json!(3.0));
    let ctx = h.ctx.clone();
    let mut s = h.state().settings.clone();
    s.photo_checks.eye_tilt_max_deg = 1.5;
    s.station = "4".into();
    h.state_mut().apply(Command::SaveSettings(Box::new(s)), &ctx);
    h.tick();
    // A new station with a student still waiting: asked first.
    assert!(shows(&h, "还有 1 名学生在等待"));
    h.get_by_label("确定").click();
    h.tick();
    h.tick();
    assert_eq!(h.state().station.as_ref().unwrap().config().thresholds.eye_tilt_max_deg, 1.5);
    assert_eq!(tilt_threshold(&h), serde_json::json!(3.0), "the photo under review keeps its checks");
    assert_eq!(h.state().station.as_ref().unwrap().session().info.station, "1", "the session waits");
    assert!(shows(&h, "当前照片确认（或该学生跳过）后切换到新场次"));
    press(&mut h, egui::Key::Enter, None);
    step_until(&mut h, "the new session", |h| h.state().station.as_ref().unwrap().session().info.station == "4");
    // The next student is numbered at station 4 and checked with the new table.
    gun_scan(&mut h, &payload(22));
    step_until(&mut h, "the number", |h| shows(h, "4-0001"));
    press(&mut h, egui::Key::Space, Some(" "));
    step_until(&mut h, "the second photo", |h| h.state().ui.review.is_some());
    assert_eq!(tilt_threshold(&h), serde_json::json!(1.5));
}

/// The assistants' tab reads its figures on a worker thread and follows
/// the database: a roster imported while the tab is open shows up.
#[test]
fn the_assistants_tab_follows_the_database_from_its_worker() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = harness(dir.path(), CameraChoice::Off);
    h.get_by_label("助理核对").click();
    h.tick();
    step_until(&mut h, "the empty roster", |h| shows(h, "尚未导入名单"));
    let mut store = gradcap::store::Store::open(&dir.path().join("station-training.sqlite")).unwrap();
    let row = gradcap::roster::RosterEntry::example("2021000031", "张*", "法学 2101");
    store.import_roster(&[row], "roster.csv", "2026-06-01T09:00:00+08:00").unwrap();
    step_until(&mut h, "the roster from the worker", |h| shows(h, "1 人未拍"));
    assert!(!shows(&h, "尚未导入名单"));
    // A scan that no roster has: its own section, above the class's figures.
    h.get_by_label("拍摄").click();
    h.tick();
    gun_scan(&mut h, &payload(7));
    step_until(&mut h, "the scan", |h| h.state().station.as_ref().unwrap().head().unwrap().is_some());
    h.get_by_label("助理核对").click();
    h.tick();
    step_until(&mut h, "the unmatched scan", |h| shows(h, "与名单不符的扫码"));
    let unmatched = h.get_by_label_contains("与名单不符的扫码").rect().top();
    let banner = h.get_by_label_contains("1 人未拍").rect().top();
    assert!(unmatched < banner, "first: {unmatched} vs the class banner at {banner}");
    assert!(shows(&h, "不在名单中"));
}

use gradcap::camera::synth::SeededRng as Rng;

/// The events winit gives egui for one typed key: a Key event, and Text for
/// keys that type.
fn key_events(c: char) -> Vec<egui::Event> {
    let mut events = Vec::new();
    let name: String = c.to_uppercase().collect();
    if let Some(key) = egui::Key::from_name(&name) {
        events.push(egui::Event::Key {
            key,
            physical_key: None,
            pressed: true,
            repeat: false,
            modifiers: egui::Modifiers::NONE,
        });
    }
    events.push(egui::Event::Text(c.to_string()));
    events
}

fn enter_event() -> egui::Event {
    egui::Event::Key {
        key: egui::Key::Enter,
        physical_key: None,
        pressed: true,
        repeat: false,
        modifiers: egui::Modifiers::NONE,
    }
}

/// Feeds timed keys to the app frame by frame on a simulated clock (ms):
/// each frame brings the keys that arrived since the one before, then takes
/// `frame_ms` (plus jitter); a few more frames follow so held keys can go.
fn feed(
    h: &mut Harness<'static, GradcapApp>,
    clock_ms: &mut f64,
    keys: &[(f64, Option<char>)],
    frame_ms: f64,
    rng: &mut Rng,
) {
    let mut i = 0;
    let mut idle = 0;
    while i < keys.len() || idle < 4 {
        *clock_ms += frame_ms + rng.between(0, (frame_ms / 4.0) as u64) as f64;
        let before = i;
        while i < keys.len() && keys[i].0 <= *clock_ms {
            match keys[i].1 {
                Some(c) => h.input_mut().events.extend(key_events(c)),
                None => h.input_mut().events.push(enter_event()),
            }
            i += 1;
        }
        if i == before && i == keys.len() {
            idle += 1;
        }
        h.input_mut().time = Some(*clock_ms / 1000.0);
        h.step();
    }
}

/// A burst as a handheld scanner types it: 2–10 ms between keys, now and
/// then up to 27 ms (the worst gap measured through X11), Enter or not.
fn burst_keys(text: &str, start_ms: f64, rng: &mut Rng, enter: bool) -> Vec<(f64, Option<char>)> {
    let mut t = start_ms;
    let mut keys = Vec::new();
    for c in text.chars() {
        keys.push((t, Some(c)));
        t += if rng.between(0, 20) == 0 { rng.between(11, 27) } else { rng.between(2, 10) } as f64;
    }
    if enter {
        keys.push((t, None));
    }
    keys
}

/// Issue 11: on a slow laptop a burst came in over many frames and was read
/// as shortcuts and broken codes. 1 000 bursts, spread at random over frames
/// of 16, 50, 100 and 250 ms, while a photo waits for its decision: every one
/// is read whole, and no key of any burst fires a shortcut (no accept, no
/// re-shoot, no skip dialog, no shot).
#[test]
fn randomized_scanner_bursts_over_slow_frames_are_read_whole_and_fire_no_shortcut_during_a_review() {
    let bursts: usize = std::env::var("GRADCAP_TEST_BURSTS").ok().and_then(|v| v.parse().ok()).unwrap_or(1000);
    let dir = tempfile::tempdir_in(if Path::new("/dev/shm").is_dir() { "/dev/shm" } else { "." }).unwrap();
    let mut h = harness(dir.path(), portrait_camera());
    step_until(&mut h, "the camera picture", |h| h.state().ui.preview.is_some());
    gun_scan(&mut h, &payload(1));
    step_until(&mut h, "the number", |h| shows(h, "1-0001"));
    press(&mut h, egui::Key::Space, Some(" "));
    step_until(&mut h, "the photo to check", |h| h.state().ui.review.is_some());
    let take = h.state().station.as_ref().unwrap().take_under_review().unwrap().id;

    let mut rng = Rng::new(0x2545_F491_4F6C_DD1D);
    let mut clock_ms = h.ctx.input(|i| i.time) * 1000.0 + 1000.0;
    for k in 0..bursts {
        let frame_ms = [16.0, 50.0, 100.0, 250.0][k % 4];
        let text = payload(1000 + k);
        let keys = burst_keys(&text, clock_ms + rng.between(1, 40) as f64, &mut rng, k % 5 != 0);
        feed(&mut h, &mut clock_ms, &keys, frame_ms, &mut rng);
        let seq = format!("1-{:04}", k + 2);
        let fb = h.state().ui.feedback.clone().map(|f| f.text.zh).unwrap_or_default();
        assert!(fb.contains(&format!("已取号 {seq}")), "burst {k} at {frame_ms} ms frames: {fb}");
        assert!(!h.state().ui.skip_prompt, "burst {k}: the skip dialog opened");
        clock_ms += rng.between(200, 900) as f64;
    }
    let app = h.state();
    let st = app.station.as_ref().unwrap();
    assert_eq!(st.take_under_review().map(|t| t.id), Some(take), "the photo still waits for its decision");
    let records = st.store().records(st.session().id).unwrap();
    assert_eq!(records.len(), bursts + 1);
    for (k, r) in records.iter().skip(1).enumerate() {
        assert_eq!(r.code.xh, student(1000 + k).xh, "burst {k} read whole");
    }
    assert_eq!(records[0].status, RecordStatus::Waiting, "not accepted by a burst's Enter");
    let takes = st.store().takes(records[0].id).unwrap();
    assert_eq!(takes.len(), 1, "nothing shot by a burst's Space");
    assert!(takes[0].rejected_at.is_none(), "not re-shot by a burst's R");
}

/// A person's keys still act at once however slow the frames: R re-shoots,
/// S opens the skip dialog, whose number keys pick a reason and Esc cancels.
#[test]
fn a_persons_keys_act_within_a_frame_or_two_at_any_frame_time_and_the_skip_dialog_is_keyboard_driven() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = harness(dir.path(), portrait_camera());
    step_until(&mut h, "the camera picture", |h| h.state().ui.preview.is_some());
    for i in 0..4 {
        gun_scan(&mut h, &payload(40 + i));
    }
    step_until(&mut h, "four numbers", |h| shows(h, "1-0004"));
    let mut rng = Rng::new(7);
    let mut clock_ms = h.ctx.input(|i| i.time) * 1000.0 + 1000.0;
    for frame_ms in [16.0, 50.0, 100.0, 250.0] {
        // S: the skip dialog, within the gap plus one frame.
        let at = clock_ms + 1.0;
        feed(&mut h, &mut clock_ms, &[(at, Some('s'))], frame_ms, &mut rng);
        assert!(h.state().ui.skip_prompt, "S opened the skip dialog at {frame_ms} ms frames");
        // Esc cancels; shortcuts are held while it is open.
        h.key_press(egui::Key::Escape);
        clock_ms += frame_ms;
        h.input_mut().time = Some(clock_ms / 1000.0);
        h.step();
        assert!(!h.state().ui.skip_prompt, "Esc closed it");
    }
    let at = clock_ms + 1.0;
    feed(&mut h, &mut clock_ms, &[(at, Some('s'))], 50.0, &mut rng);
    assert!(shows(&h, "按 1–3 选择原因"), "the dialog says how to use it");
    let at = clock_ms + 1.0;
    feed(&mut h, &mut clock_ms, &[(at, Some('2'))], 50.0, &mut rng);
    assert!(!h.state().ui.skip_prompt);
    let st = h.state().station.as_ref().unwrap();
    let first = &st.store().records(st.session().id).unwrap()[0];
    assert_eq!(first.status, RecordStatus::Skipped);
    assert!(first.status_reason.contains("left the queue"), "key 2 is the second reason: {}", first.status_reason);
}

/// A photo with a failed (red) check is never accepted by one key: the first
/// Enter reads the failed checks out, the second within a few seconds accepts.
#[test]
fn accepting_a_photo_with_failed_checks_takes_a_second_enter() {
    let dir = tempfile::tempdir().unwrap();
    // No face in view: the checks fail.
    let frames = vec![Frame::new(image::RgbImage::from_pixel(1280, 720, image::Rgb([90, 90, 90])), None)];
    let camera = CameraChoice::Factory(Arc::new(ReplayFactory::from_frames("grey", frames, 30.0, true)));
    let mut h = harness(dir.path(), camera);
    step_until(&mut h, "the camera picture", |h| h.state().ui.preview.is_some());
    gun_scan(&mut h, &payload(50));
    press(&mut h, egui::Key::Space, Some(" "));
    step_until(&mut h, "the photo to check", |h| h.state().ui.review.is_some());
    assert!(!h.state().ui.review.as_ref().unwrap().0.assessment.failed().is_empty(), "the checks fail");
    press(&mut h, egui::Key::Enter, None);
    assert!(h.state().ui.review.is_some(), "one Enter does not accept a failed photo");
    assert!(shows(&h, "照片未通过"), "the failed checks are read out");
    assert!(shows(&h, "再按一次"), "the button says a second press accepts");
    press(&mut h, egui::Key::Enter, None);
    step_until(&mut h, "accepted", |h| shows(h, "已拍摄完成"));
    let st = h.state().station.as_ref().unwrap();
    let record = &st.store().records(st.session().id).unwrap()[0];
    assert_eq!(record.status, RecordStatus::Photographed);
    assert!(!st.store().takes(record.id).unwrap()[0].accepted_failed.is_empty(), "recorded as accepted anyway");
}

/// Issue 11: a school name or code corrected mid-day restarted numbering at
/// 1-0001 and lost the waiting queue. Now it corrects the session (audited);
/// a new station asks first, keeps the waiting students in a queue that is
/// shown, and a student who rescans there gets one new number, the old one
/// closed as skipped.
#[test]
fn settings_changed_mid_day_keep_numbers_and_queue_and_a_new_station_asks_first() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = harness(dir.path(), CameraChoice::Off);
    let ctx = h.ctx.clone();
    for i in 0..3 {
        gun_scan(&mut h, &payload(60 + i));
    }
    step_until(&mut h, "three numbers", |h| shows(h, "1-0003"));
    let session = h.state().station.as_ref().unwrap().session().id;
    // School name, code and operator: a correction, not a new session.
    let mut s = h.state().settings.clone();
    s.school_name = "中国政法大学".into();
    s.school_code = "10053".into();
    s.operator = "王*".into();
    h.state_mut().apply(Command::SaveSettings(Box::new(s)), &ctx);
    h.tick();
    assert!(shows(&h, "本场次信息已更正"), "said so");
    let st = h.state().station.as_ref().unwrap();
    assert_eq!(st.session().id, session, "the same session");
    assert_eq!(st.session().info.school_code, "10053");
    assert_eq!(h.state().ui.snapshot.waiting.len(), 3, "nobody left the queue");
    gun_scan(&mut h, &payload(63));
    step_until(&mut h, "the next number", |h| shows(h, "已取号 1-0004"));
    let audit = h.state().station.as_ref().unwrap().store().audit_log().unwrap();
    assert!(audit.iter().any(|a| a.action == "session_corrected" && a.detail.contains("10053")), "audited");

    // A new station: asked first, saying what happens to the four waiting.
    let mut s = h.state().settings.clone();
    s.station = "2".into();
    h.state_mut().apply(Command::SaveSettings(Box::new(s.clone())), &ctx);
    h.tick();
    assert!(shows(&h, "还有 4 名学生在等待"), "the confirmation says who is waiting");
    assert_eq!(h.state().station.as_ref().unwrap().session().info.station, "1", "nothing changed yet");
    h.get_by_label("确定").click();
    h.tick();
    h.tick();
    let st = h.state().station.as_ref().unwrap();
    assert_eq!(st.session().info.station, "2");
    assert!(shows(&h, "其他场次仍在等待"), "the old queue is shown");
    assert!(shows(&h, "4 人"));
    // One of them rescans here: one new number, the old one closed with where they went.
    gun_scan(&mut h, &payload(61));
    step_until(&mut h, "the new number", |h| shows(h, "已取号 2-0001"));
    let st = h.state().station.as_ref().unwrap();
    let old = st.store().search_records("1-0002", 10).unwrap();
    assert_eq!(old[0].status, RecordStatus::Skipped);
    assert!(old[0].status_reason.contains("2-0001"), "{}", old[0].status_reason);
    // Back to station 1: its numbering goes on.
    let mut s = h.state().settings.clone();
    s.station = "1".into();
    h.state_mut().apply(Command::SaveSettings(Box::new(s)), &ctx);
    h.tick();
    h.get_by_label("确定").click();
    h.tick();
    h.tick();
    gun_scan(&mut h, &payload(64));
    step_until(&mut h, "station 1 goes on", |h| shows(h, "已取号 1-0005"));
    // A new date is a new session too: asked first, the day's queue kept.
    let mut s = h.state().settings.clone();
    s.session_date = "2099-01-02".into();
    h.state_mut().apply(Command::SaveSettings(Box::new(s)), &ctx);
    h.tick();
    assert!(shows(&h, "在等待"), "asked first");
    h.get_by_label("确定").click();
    h.tick();
    h.tick();
    assert_eq!(h.state().station.as_ref().unwrap().session().info.date, "2099-01-02");
    gun_scan(&mut h, &payload(65));
    step_until(&mut h, "the new day's first number", |h| shows(h, "已取号 1-0001"));
    let st = h.state().station.as_ref().unwrap();
    let waiting_elsewhere: i64 = st.store().waiting_elsewhere(st.session().id).unwrap().iter().map(|(_, n)| n).sum();
    // Station 1: 1-0001, 1-0003, 1-0004, 1-0005; station 2: 2-0001.
    assert_eq!(waiting_elsewhere, 5, "the other sessions' waiting students are all still there");
    let report = h.state().station.as_ref().unwrap().store().verify().unwrap();
    assert!(report.ok(), "{:?}", report.findings);
}

/// Issue 11: with no camera the station silently took the demo camera and
/// scanned drill students into the real database. Now it says so, captures
/// nothing, refuses drill codes, and training runs on its own database with
/// a banner on every screen.
#[test]
fn no_camera_means_no_capture_and_training_has_its_own_database_and_banner() {
    let dir = tempfile::tempdir().unwrap();
    let opts = AppOptions {
        db_path: dir.path().join("station.sqlite"),
        settings_path: dir.path().join("settings.json"),
        camera: CameraChoice::Auto,
        exit_after: None,
        gun: GunConfig::default(),
        system_fonts: false,
        sound: gradcap::sound::Sound::Recorder(CUES.with(|c| c.clone())),
        training: false,
        picker: None,
    };
    let mut h = Harness::builder()
        .with_size(egui::vec2(1400.0, 850.0))
        .build_eframe(move |cc| GradcapApp::new(&cc.egui_ctx, opts));
    h.tick();
    if !gradcap::camera::usb::list_cameras().is_empty() {
        eprintln!("skipped: this machine has a camera");
        return;
    }
    assert!(shows(&h, "未检测到摄像头"), "the no-camera screen");
    assert!(h.state().ui.preview.is_none(), "no demo picture");
    assert!(!shows(&h, "练习模式 / TRAINING"));
    // A drill code is refused by the real database.
    gun_scan(&mut h, &payload(70));
    step_until(&mut h, "the refusal", |h| shows(h, "这是练习用的演练码"));
    let st = h.state().station.as_ref().unwrap();
    assert!(st.store().records(st.session().id).unwrap().is_empty());
    // Training: its own file, the demo camera, the banner on every view.
    h.get_by_label("开始练习（演示摄像头，单独的练习数据库）").click();
    h.tick();
    h.tick();
    assert!(h.state().training());
    assert!(dir.path().join("station-training.sqlite").exists());
    let ctx = h.ctx.clone();
    for view in [View::Operator, View::Records, View::Assist, View::Export, View::Settings] {
        h.state_mut().apply(Command::Show(view), &ctx);
        h.tick();
        h.tick();
        assert!(shows(&h, "练习模式 / TRAINING"), "the banner on {view:?}");
    }
    h.state_mut().apply(Command::Show(View::Operator), &ctx);
    h.tick();
    gun_scan(&mut h, &payload(71));
    step_until(&mut h, "a drill number", |h| shows(h, "学号 2021000071"));
    // A real-format code is taken in training only with a warning.
    let real =
        gradcap::code::CaptureCode { cjm: "CHSI0000REAL0001".into(), ..gradcap::code::parse(&payload(72)).unwrap() };
    h.input_mut().events.push(egui::Event::Text(real.to_payload()));
    h.key_press(egui::Key::Enter);
    h.tick();
    // The demo camera goes on scanning its own students, and on a busy machine
    // their answers may replace the warning on the band within a frame: it is
    // then among the earlier messages the band still shows.
    let warning = |h: &Harness<'static, GradcapApp>| {
        h.state().ui.messages().find(|f| f.text.zh.contains("这是真实学生的采集码")).cloned()
    };
    step_until(&mut h, "the warning for a real code", |h| warning(h).is_some());
    let fb = warning(&h).unwrap();
    assert!(
        fb.text.zh.contains("这是真实学生的采集码") && fb.text.en.contains("real student's code"),
        "{}",
        fb.text.zh
    );
    assert_eq!(fb.kind, gradcap::ui::state::FeedbackKind::Duplicate, "amber, not green");
    // Leaving training: back on the real database, which still holds nothing.
    h.get_by_label("退出练习").click();
    h.tick();
    h.tick();
    assert!(!h.state().training());
    assert!(!shows(&h, "练习模式 / TRAINING"));
    let real_db = gradcap::store::Store::open_read_only(&dir.path().join("station.sqlite")).unwrap();
    assert_eq!(real_db.mode().unwrap(), gradcap::store::Mode::Production);
    assert_eq!(real_db.verify().unwrap().records, 0, "training never touched the real database");
}

/// Issue 11: the English switch covers record states and audit actions, and
/// a records search that finds nothing says so and clears the last record.
#[test]
fn english_records_and_an_empty_search() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = harness(dir.path(), CameraChoice::Off);
    let ctx = h.ctx.clone();
    gun_scan(&mut h, &payload(80));
    let mut s = h.state().settings.clone();
    s.language = gradcap::settings::Language::English;
    h.state_mut().apply(Command::SaveSettings(Box::new(s)), &ctx);
    h.state_mut().apply(Command::Show(View::Records), &ctx);
    h.state_mut().apply(Command::Search("1-0001".into()), &ctx);
    let id = h.state().ui.results[0].id;
    h.state_mut().apply(Command::Select(id), &ctx);
    h.tick();
    h.tick();
    assert!(shows(&h, "waiting"), "the state in English");
    assert!(shows(&h, "scanned, numbered"), "the audit action as words");
    assert!(!shows(&h, "待拍"));
    h.state_mut().apply(Command::Search("9-9999".into()), &ctx);
    h.tick();
    h.tick();
    assert!(shows(&h, "no record found for \"9-9999\""));
    assert!(h.state().ui.detail.is_none(), "the previous record is cleared");
}

/// Issue 17: damage in the image store's pages, found by the station's
/// check on its worker after opening, stops every capture with the reason.
#[test]
fn a_damaged_image_store_found_after_opening_stops_captures() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("station-training.sqlite");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_gradcap"))
        .arg("--db")
        .arg(&db)
        .args(["simulate", "--students", "4", "--seed", "3"])
        .output()
        .unwrap();
    assert!(out.status.success());
    common::damage_root_page(&db, "takes", 48, 0x33);
    let mut h = harness(dir.path(), CameraChoice::Off);
    step_until(&mut h, "the check's answer", |h| shows(h, "damaged"));
    let before = h.state().ui.snapshot.counts.waiting;
    gun_scan(&mut h, &payload(90));
    assert_eq!(h.state().ui.snapshot.counts.waiting, before, "no number handed out");
    assert!(shows(&h, "restore the latest backup"));
}

/// The views are drawn from state alone: a hand-made state, no station, no
/// database, draws the bar and the message band, and a click answers with
/// the command the app would apply.
#[test]
fn the_bar_and_the_message_band_are_drawn_from_state_alone() {
    use gradcap::settings::Language;
    use gradcap::text::Text;
    use gradcap::ui::state::{Feedback, FeedbackKind, UiState};
    let mut state = UiState::default();
    state.snapshot.counts.waiting = 7;
    state.snapshot.counts.photographed = 41;
    state.camera_label = "replay — 30 fps".into();
    state.feedback =
        Some(Feedback::new(FeedbackKind::Success, "0042", Text::new("已取号 0042", "number 0042")).scanned("✚"));
    let commands = Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = commands.clone();
    let mut h = Harness::builder().with_size(egui::vec2(1366.0, 400.0)).build(move |ctx| {
        let bar = gradcap::ui::StatusBar {
            view: View::Operator,
            ui: &state,
            startup_error: Some("数据库损坏 / database damaged"),
            lang: Language::English,
        };
        let mut out = Vec::new();
        gradcap::ui::status_bar(ctx, &bar, &mut out);
        gradcap::ui::feedback_panel(ctx, &state, Language::English);
        sink.lock().unwrap().extend(out);
    });
    h.run();
    h.get_by_label_contains("waiting 7");
    h.get_by_label_contains("photographed 41");
    h.get_by_label_contains("replay — 30 fps");
    h.get_by_label("数据库损坏 / database damaged");
    // English first, large; Chinese underneath.
    h.get_by_label("number 0042");
    h.get_by_label("已取号 0042");
    h.get_by_label("Settings").click();
    h.run();
    let got = commands.lock().unwrap().clone();
    assert!(matches!(got.as_slice(), [Command::Show(View::Settings)]), "{got:?}");
}

/// The window's long work runs as named tasks in one registry: one of a kind
/// at a time, the window working on meanwhile, each result a message.
#[test]
fn long_work_runs_as_named_tasks_one_of_a_kind_at_a_time() {
    use gradcap::app::Task;
    let dir = tempfile::tempdir().unwrap();
    let mut h = harness(dir.path(), portrait_camera());
    let ctx = h.ctx.clone();
    step_until(&mut h, "the camera picture", |h| h.state().ui.preview.is_some());
    gun_scan(&mut h, &payload(11));
    press(&mut h, egui::Key::Space, Some(" "));
    step_until(&mut h, "the photo", |h| h.state().ui.review.is_some());
    press(&mut h, egui::Key::Enter, None);
    step_until(&mut h, "accepted", |h| shows(h, "已拍摄完成"));
    let found = h.state().station.as_ref().unwrap().search(&student(11).xh, 10).unwrap();
    let record = found.first().expect("the photographed record").id;
    // Two backups asked for at once: one runs, the second is not started.
    let backups = dir.path().join("backups");
    h.state_mut().apply(Command::Backup(backups.clone()), &ctx);
    h.state_mut().apply(Command::Backup(backups.clone()), &ctx);
    let running = h.state().running_tasks();
    assert!(running.iter().filter(|t| **t == Task::Backup).count() <= 1, "{running:?}");
    step_until(&mut h, "the backup", |h| shows(h, "备份完成并已校验"));
    assert_eq!(std::fs::read_dir(&backups).unwrap().count(), 1, "one backup, not two");
    // A correction export for the record, on its own task; its result is a message.
    h.state_mut().ui.export_target = dir.path().join("corrections").display().to_string();
    std::fs::create_dir_all(dir.path().join("corrections")).unwrap();
    h.state_mut().apply(Command::ExportStudent(record), &ctx);
    step_until(&mut h, "the correction", |h| shows(h, "已导出该学生的"));
    assert!(h.state().running_tasks().iter().all(|t| *t != Task::Correction), "finished tasks leave the registry");
    let written: Vec<_> = std::fs::read_dir(dir.path().join("corrections")).unwrap().flatten().collect();
    assert_eq!(written.len(), 1, "one folder for the student");
    assert!(written[0].file_name().to_string_lossy().starts_with("勘误_"));
}

/// Settings that make the studio camera's folder the shot source.
fn studio_settings(dir: &Path, shots: &Path, limit: u32) {
    let mut s = gradcap::settings::Settings::default();
    s.shots.source = gradcap::settings::ShotSource::Folder;
    s.shots.folder = shots.display().to_string();
    s.shots.limit = limit;
    s.save(&dir.join("settings.json")).unwrap();
}

/// A camera file saved the way tethering software saves it: `.tmp`, then renamed.
fn drop_shot(shots: &Path, name: &str, seed: u64) {
    let bytes = gradcap::camera::synth::camera_jpeg_noted(&portrait(1280, 720, seed), 1, 92, &format!("{name} {seed}"))
        .unwrap();
    let tmp = shots.join(format!("{name}.tmp"));
    std::fs::write(&tmp, bytes).unwrap();
    std::fs::rename(&tmp, shots.join(name)).unwrap();
}

fn tray_len(h: &Harness<'static, GradcapApp>) -> usize {
    h.state().ui.studio.as_ref().map_or(0, |s| s.tray.len())
}

#[test]
fn an_unbound_camera_shot_is_bound_by_hand_or_discarded_and_stays_in_the_folder() {
    let dir = tempfile::tempdir().unwrap();
    let shots = dir.path().join("EOS");
    std::fs::create_dir(&shots).unwrap();
    studio_settings(dir.path(), &shots, 4);
    let mut h = harness(dir.path(), portrait_camera());
    step_until(&mut h, "the folder watched", |h| shows(h, "监视中"));
    assert!(shows(&h, "相机（文件夹）"));

    // No student at the head: the shot waits in the tray, amber.
    drop_shot(&shots, "IMG_0001.JPG", 1);
    step_until(&mut h, "the shot in the tray", |h| tray_len(h) == 1);
    step_until(&mut h, "the tray drawn", |h| shows(h, "待绑定的相机照片 1"));
    assert!(shows(&h, "IMG_0001.JPG"));
    assert!(h.state().ui.messages().any(|m| m.text.zh.contains("已放入待绑定区")));

    // A student comes; the operator binds the shot to them with one click.
    gun_scan(&mut h, &payload(1));
    step_until(&mut h, "the number", |h| shows(h, "已取号 1-0001"));
    h.get_by_label("绑定到当前学生 [B]").click();
    h.tick();
    step_until(&mut h, "the photo to check", |h| h.state().ui.review.is_some());
    assert!(shows(&h, "待确认照片 1-0001"));
    assert_eq!(tray_len(&h), 0);
    press(&mut h, egui::Key::Enter, None);
    step_until(&mut h, "the accepted message", |h| shows(h, "1-0001 已拍摄完成"));
    {
        let st = h.state().station.as_ref().unwrap();
        let record = &st.store().records(st.session().id).unwrap()[0];
        let audit = st.store().audit_for_record(record.id).unwrap();
        let captured = audit.iter().find(|a| a.action == "take_captured").unwrap();
        assert!(captured.detail.contains("\"by_operator\":true"), "audited as the operator's choice");
        let take = st.store().primary_take(record.id).unwrap().unwrap();
        let original = st.store().take_images(take.id).unwrap().0;
        assert_eq!(original, std::fs::read(shots.join("IMG_0001.JPG")).unwrap(), "the camera's file, byte for byte");
    }

    // Another stray shot: set aside.
    drop_shot(&shots, "IMG_0002.JPG", 2);
    step_until(&mut h, "the second shot in the tray", |h| tray_len(h) == 1);
    step_until(&mut h, "the tray drawn", |h| shows(h, "IMG_0002.JPG"));
    h.get_by_label("放弃").click();
    h.tick();
    step_until(&mut h, "the tray empty", |h| tray_len(h) == 0);
    assert!(h.state().ui.messages().any(|m| m.text.zh.contains("已放弃相机照片 IMG_0002.JPG")));
    let st = h.state().station.as_ref().unwrap();
    let row = st
        .store()
        .camera_file_by_hash(&gradcap::camera::folder::sha256_hex(&std::fs::read(shots.join("IMG_0002.JPG")).unwrap()))
        .unwrap()
        .unwrap();
    assert_eq!(row.status, gradcap::store::CameraFileStatus::Discarded);
    assert!(shots.join("IMG_0002.JPG").exists(), "never deleted");
}

#[test]
fn the_bind_key_binds_the_oldest_shot_and_a_burst_past_the_limit_sounds_the_alarm() {
    let dir = tempfile::tempdir().unwrap();
    let shots = dir.path().join("EOS");
    std::fs::create_dir(&shots).unwrap();
    studio_settings(dir.path(), &shots, 2);
    let mut h = harness(dir.path(), portrait_camera());
    step_until(&mut h, "the folder watched", |h| shows(h, "监视中"));
    drop_shot(&shots, "IMG_0010.JPG", 10);
    step_until(&mut h, "the shot in the tray", |h| tray_len(h) == 1);
    gun_scan(&mut h, &payload(2));
    step_until(&mut h, "the number", |h| shows(h, "已取号 1-0001"));
    // The shutter key does not photograph with the webcam: the camera does.
    press(&mut h, egui::Key::Space, Some(" "));
    assert!(h.state().ui.messages().any(|m| m.text.zh.contains("请按相机快门")));
    assert!(h.state().ui.review.is_none());
    press(&mut h, egui::Key::B, Some("b"));
    step_until(&mut h, "the photo to check", |h| h.state().ui.review.is_some());
    assert_eq!(tray_len(&h), 0);
    press(&mut h, egui::Key::Enter, None);
    step_until(&mut h, "the accepted message", |h| shows(h, "1-0001 已拍摄完成"));
    // The next student; the camera fires a burst of three: three takes of
    // them, past the limit of 2.
    gun_scan(&mut h, &payload(3));
    step_until(&mut h, "the number", |h| shows(h, "已取号 1-0002"));
    for (i, name) in ["IMG_0011.JPG", "IMG_0012.JPG", "IMG_0013.JPG"].into_iter().enumerate() {
        drop_shot(&shots, name, 11 + i as u64);
        std::thread::sleep(Duration::from_millis(300));
        h.tick();
    }
    step_until(&mut h, "the third take", |h| h.state().ui.review.as_ref().is_some_and(|(r, _)| r.take.take_no == 3));
    assert!(h.state().ui.messages().any(|m| m.text.zh.contains("已拍 3 张（超过 2 张）")), "the shot-limit alarm");
    assert!(cues().contains(&Cue::Duplicate));
    assert_eq!(tray_len(&h), 0, "a burst stays with its student");
    assert!(shows(&h, "待确认照片 1-0002"));
}

#[test]
fn a_missing_camera_folder_is_said_plainly_and_watched_once_it_is_there() {
    let dir = tempfile::tempdir().unwrap();
    let shots = dir.path().join("EOS");
    studio_settings(dir.path(), &shots, 4);
    let mut h = harness(dir.path(), portrait_camera());
    step_until(&mut h, "the missing folder", |h| shows(h, "文件夹不存在"));
    std::fs::create_dir(&shots).unwrap();
    step_until(&mut h, "the folder watched", |h| shows(h, "监视中"));
    gun_scan(&mut h, &payload(4));
    step_until(&mut h, "the number", |h| shows(h, "已取号 1-0001"));
    drop_shot(&shots, "IMG_0100.JPG", 100);
    step_until(&mut h, "the photo to check", |h| h.state().ui.review.is_some());
    step_until(&mut h, "the last file", |h| shows(h, "最近文件 IMG_0100.JPG"));
}

/// Scans student `i` as the day's first, shoots and accepts: one photographed record.
fn photograph_first(h: &mut Harness<'static, GradcapApp>, i: usize) {
    step_until(h, "the camera picture", |h| h.state().ui.preview.is_some());
    gun_scan(h, &payload(i));
    step_until(h, "the number", |h| shows(h, "1-0001"));
    press(h, egui::Key::Space, Some(" "));
    step_until(h, "the photo to check", |h| h.state().ui.review.is_some());
    press(h, egui::Key::Enter, None);
    step_until(h, "the accepted message", |h| shows(h, "1-0001 已拍摄完成"));
}

/// The export view makes a class's print sheets with the settings' package
/// and paper, on a task, into `prints/` under the target folder.
#[test]
fn print_sheets_are_made_from_the_export_view() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = harness(dir.path(), portrait_camera());
    photograph_first(&mut h, 41);
    h.get_by_label("导出").click();
    h.tick();
    let target = dir.path().join("usb");
    h.state_mut().ui.export_target = target.display().to_string();
    h.tick();
    assert!(shows(&h, "套餐 8×二寸"), "the settings' package is shown");
    h.get_by_label("JPEG 相纸文件（冲印店）").click();
    h.tick();
    h.get_by_label("生成冲印排版").click();
    step_until(&mut h, "the sheets", |h| shows(h, "冲印排版完成"));
    let sheets: Vec<_> = std::fs::read_dir(target.join("prints")).unwrap().flatten().collect();
    assert_eq!(sheets.len(), 2, "8×二寸 on 6寸: two sheets");
    let img = image::open(sheets[0].path()).unwrap();
    assert_eq!((img.width(), img.height()), (1205, 1795));
}

/// The office tasks without a terminal: each through its dialog (here a
/// chosen path), the work on a task, the result in the window. A bad roster
/// is refused with its rows named; then a good one, a schedule, the
/// register and the sheet of the class.
#[test]
fn office_tasks_run_from_the_assistants_tab_through_file_dialogs() {
    let dir = tempfile::tempdir().unwrap();
    let chosen = Arc::new(ChosenPaths::default());
    let mut h = harness_picking(dir.path(), CameraChoice::Off, chosen.clone());
    h.get_by_label("助理核对").click();
    h.tick();
    step_until(&mut h, "the empty roster", |h| shows(h, "尚未导入名单"));

    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, "学号,姓名,班级\n1,张三,法学 2101\n1,李四,法学 2101\n2,王,法学 2101\n").unwrap();
    chosen.push(bad);
    h.get_by_label("导入名单…").click();
    step_until(&mut h, "the refusal", |h| shows(h, "名单未导入"));
    assert!(shows(&h, "第 3 行"), "the bad row is named by its number");
    assert!(matches!(&chosen.asked()[0].1, PickKind::OpenFile { extensions } if extensions.contains(&"xlsx")));

    let good = dir.path().join("roster.csv");
    std::fs::write(&good, "学号,姓名,身份证号,班级\n2021000031,张三丰,110105194912310021,法学 2101\n").unwrap();
    chosen.push(good);
    h.get_by_label("导入名单…").click();
    step_until(&mut h, "the import", |h| shows(h, "名单已导入：1 新增"));
    step_until(&mut h, "the class's figures", |h| shows(h, "1 人未拍"));

    let schedule = dir.path().join("schedule.csv");
    std::fs::write(&schedule, "班级,日期,时间段,机位\n法学 2101,2026-06-01,9:00~9:50,1\n").unwrap();
    chosen.push(schedule);
    h.get_by_label("导入日程…").click();
    step_until(&mut h, "the schedule", |h| shows(h, "日程已导入：1 新增"));

    let register = dir.path().join("out").join("register.pdf");
    chosen.push(register.clone());
    step_until(&mut h, "the class's buttons", |h| shows(h, "登记表 PDF…"));
    h.get_by_label("登记表 PDF…").click();
    step_until(&mut h, "the register", |h| shows(h, "登记表已生成（1 人）"));
    assert!(std::fs::read(&register).unwrap().starts_with(b"%PDF"));
    assert!(matches!(&chosen.asked().last().unwrap().1, PickKind::SaveFile { name } if name == "法学 2101-登记表.pdf"));

    let sheet = dir.path().join("sheet.pdf");
    chosen.push(sheet.clone());
    h.get_by_label("核对单 PDF…").click();
    step_until(&mut h, "the sheet", |h| shows(h, "核对单已生成"));
    assert!(std::fs::read(&sheet).unwrap().starts_with(b"%PDF"));

    // A cancelled dialog does nothing.
    h.get_by_label("导入日程…").click();
    for _ in 0..10 {
        h.tick();
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(shows(&h, "核对单已生成"), "the last result stays");

    // A desktop without the XDG portal: no dialog can open, and the window
    // says so and names the command that does the same, instead of doing
    // nothing as a cancel would.
    chosen.push_error(gradcap::app::dialogs::PickError::NoPortal);
    h.get_by_label("导入名单…").click();
    step_until(&mut h, "the missing portal", |h| shows(h, "xdg-desktop-portal"));
    // And the next dialog opens again.
    chosen.push(dir.path().join("roster.csv"));
    h.get_by_label("导入名单…").click();
    step_until(&mut h, "the import after it", |h| shows(h, "名单已导入：0 新增"));
}

/// The export target and the print sheets' folder are picked in dialogs too.
#[test]
fn the_export_target_and_the_prints_folder_come_from_folder_dialogs() {
    let dir = tempfile::tempdir().unwrap();
    let chosen = Arc::new(ChosenPaths::default());
    let mut h = harness_picking(dir.path(), portrait_camera(), chosen.clone());
    photograph_first(&mut h, 42);
    h.get_by_label("导出").click();
    step_until(&mut h, "the export view", |h| shows(h, "浏览…"));
    let usb = dir.path().join("stick");
    chosen.push(usb.clone());
    h.get_by_label("浏览…").click();
    step_until(&mut h, "the picked target", |h| h.state().ui.export_target == usb.display().to_string());
    assert_eq!(chosen.asked()[0].1, PickKind::Folder);
    let prints = dir.path().join("lab");
    chosen.push(prints.clone());
    h.get_by_label("选择文件夹生成…").click();
    step_until(&mut h, "the sheets", |h| shows(h, "冲印排版完成"));
    let pdf: Vec<_> = std::fs::read_dir(&prints).unwrap().flatten().collect();
    assert_eq!(pdf.len(), 1, "one PDF for the class");
    // One student's photos and record (the lookup's correction) into a picked folder.
    let ctx = h.ctx.clone();
    let record = h.state().station.as_ref().unwrap().search(&student(42).xh, 10).unwrap()[0].id;
    h.state_mut().apply(Command::Show(View::Records), &ctx);
    h.state_mut().apply(Command::Select(record), &ctx);
    step_until(&mut h, "the record", |h| shows(h, "导出此学生到文件夹…"));
    let folder = dir.path().join("for-the-office");
    std::fs::create_dir(&folder).unwrap();
    chosen.push(folder.clone());
    h.get_by_label("导出此学生到文件夹…").click();
    step_until(&mut h, "the correction", |h| shows(h, "已导出该学生的"));
    let written: Vec<_> = std::fs::read_dir(&folder).unwrap().flatten().collect();
    assert!(written[0].file_name().to_string_lossy().starts_with("勘误_"));
}

/// The office's bundle tools through their dialogs: a key pair, an
/// encrypted bundle decrypted (bundle, key, destination: three dialogs),
/// two stations' bundles merged (several folders picked at once).
#[test]
fn keys_decryption_and_merging_run_from_the_export_view() {
    let dir = tempfile::tempdir().unwrap();
    let bin = env!("CARGO_BIN_EXE_gradcap");
    let run = |args: &[&str]| {
        let out = std::process::Command::new(bin).args(args).env_remove("GRADCAP_DATA_DIR").output().unwrap();
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let chosen = Arc::new(ChosenPaths::default());
    let mut h = harness_picking(dir.path(), CameraChoice::Off, chosen.clone());
    h.get_by_label("导出").click();
    step_until(&mut h, "the export view", |h| shows(h, "生成加密密钥…"));

    let identity = dir.path().join("office-key.txt");
    chosen.push(identity.clone());
    h.get_by_label("生成加密密钥…").click();
    step_until(&mut h, "the key pair", |h| shows(h, "密钥已生成"));
    let recipient = h.state().ui.office_outcome.as_ref().unwrap().lines[0].clone();
    assert!(recipient.starts_with("age1"), "{recipient}");
    assert!(std::fs::read_to_string(&identity).unwrap().contains("AGE-SECRET-KEY-1"));

    // Two stations' days, one exported encrypted to that key.
    let (a, b) = (dir.path().join("a.sqlite"), dir.path().join("b.sqlite"));
    let (usb_a, usb_b) = (dir.path().join("usb-a"), dir.path().join("usb-b"));
    // Another school's drill students at station 2 (they repeat per school otherwise).
    for (db, usb, station, school) in [(&a, &usb_a, "1", "10001"), (&b, &usb_b, "2", "10002")] {
        std::fs::create_dir(usb).unwrap();
        let db = db.to_str().unwrap();
        let sim =
            ["simulate", "--students", "2", "--station", station, "--date", "2026-06-01", "--school-code", school];
        run(&[&["--db", db][..], &sim[..]].concat());
        run(&["--db", db, "export", "--to", usb.to_str().unwrap()]);
    }
    let encrypted = dir.path().join("usb-enc");
    std::fs::create_dir(&encrypted).unwrap();
    run(&[
        "--db",
        a.to_str().unwrap(),
        "export",
        "--full",
        "--to",
        encrypted.to_str().unwrap(),
        "--encrypt-to",
        &recipient,
    ]);
    let only = |d: &Path| std::fs::read_dir(d).unwrap().flatten().next().unwrap().path();

    let restored = dir.path().join("restored");
    chosen.push(only(&encrypted));
    chosen.push(identity.clone());
    chosen.push(restored.clone());
    h.get_by_label("解密导出包…").click();
    step_until(&mut h, "the decrypted bundle", |h| shows(h, "导出包已解密并校验"));
    let asked: Vec<PickKind> = chosen.asked().into_iter().map(|(_, k)| k).collect();
    assert_eq!(
        asked[1..4],
        [PickKind::Folder, PickKind::OpenFile { extensions: &["txt", "key", "age"] }, PickKind::Folder]
    );
    assert!(std::fs::read_dir(&restored).unwrap().count() > 0);

    // A folder picked in a dialog exists.
    let merged = dir.path().join("merged");
    std::fs::create_dir(&merged).unwrap();
    chosen.push_many(vec![only(&usb_a), only(&usb_b)]);
    chosen.push(merged.clone());
    h.get_by_label("合并各机位导出包…").click();
    step_until(&mut h, "the merge's answer", |h| shows(h, "导出包已合并并校验") || shows(h, "导出包未合并"));
    assert!(shows(&h, "导出包已合并并校验"), "{:?}", h.state().ui.office_outcome);
    assert_eq!(chosen.asked()[4].1, PickKind::Folders);
    let bundle = only(&merged);
    assert_eq!(gradcap::export::read_manifest(&bundle).unwrap().len(), 4, "both stations' students");
}
