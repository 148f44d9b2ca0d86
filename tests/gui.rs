//! The operator view, driven with egui_kittest: a replay camera, a temporary
//! database, real keystrokes. Labels are found the way a person finds them.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use egui_kittest::kittest::Queryable;
use egui_kittest::Harness;
use gradcap::app::{AppOptions, CameraChoice, Command, GradcapApp, View};
use gradcap::camera::replay::ReplayFactory;
use gradcap::camera::synth::{phone_frame, portrait, PhoneShot};
use gradcap::camera::Frame;
use gradcap::code::drill::DrillStudent;
use gradcap::scan::gun::GunConfig;
use gradcap::sound::Cue;
use gradcap::store::RecordStatus;

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
    let opts = AppOptions {
        db_path: dir.join("station.sqlite"),
        settings_path: dir.join("settings.json"),
        camera,
        exit_after: None,
        gun: GunConfig { max_gap_ms: 30, min_len: 12 },
        system_fonts: false,
        sound: gradcap::sound::Sound::Recorder(CUES.with(|c| c.clone())),
    };
    let mut h = Harness::builder()
        .with_size(egui::vec2(1400.0, 850.0))
        .build_eframe(move |cc| GradcapApp::new(&cc.egui_ctx, opts));
    h.step();
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
        assert!(start.elapsed() < Duration::from_secs(20), "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(15));
        h.step();
    }
}

/// Types like a scanner gun: the whole text at once, then Enter.
fn gun_scan(h: &mut Harness<'static, GradcapApp>, text: &str) {
    for chunk in text.as_bytes().chunks(16) {
        h.input_mut().events.push(egui::Event::Text(String::from_utf8_lossy(chunk).into_owned()));
    }
    h.key_press(egui::Key::Enter);
    h.step();
    std::thread::sleep(Duration::from_millis(50));
    h.step();
}

/// A key the operator presses by hand: egui sends a Key event, and Text for keys that type.
fn press(h: &mut Harness<'static, GradcapApp>, key: egui::Key, text: Option<&str>) {
    h.key_press(key);
    if let Some(t) = text {
        h.input_mut().events.push(egui::Event::Text(t.into()));
    }
    h.step();
    std::thread::sleep(Duration::from_millis(50));
    h.step();
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
        h.step();
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
    h.get_by_label("未到").click();
    step_until(&mut h, "skipped", |h| shows(h, "1-0001 已跳过"));

    // Records view: void needs the PIN, which is not set yet.
    let record = {
        let st = h.state().station.as_ref().unwrap();
        st.store().records(st.session().id).unwrap()[1].clone()
    };
    let ctx = h.ctx.clone();
    h.state_mut().apply(Command::Show(View::Records), &ctx);
    h.state_mut().apply(Command::Void { record: record.id, reason: "错扫".into(), pin: "0000".into() }, &ctx);
    h.step();
    assert!(shows(&h, "尚未设置操作员 PIN"));
    h.state_mut().apply(Command::SetPin("2468".into()), &ctx);
    h.state_mut().apply(Command::Void { record: record.id, reason: "错扫".into(), pin: "1111".into() }, &ctx);
    h.step();
    assert!(shows(&h, "PIN 错误"));
    h.state_mut().apply(Command::Void { record: record.id, reason: "错扫".into(), pin: "2468".into() }, &ctx);
    h.step();
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
    h.step();
    h.step();
    let ctx = h.ctx.clone();
    h.state_mut().apply(Command::Search("2021000007".into()), &ctx);
    h.step();
    h.get_by_label("1-0001").click();
    h.step();
    h.step();
    assert!(shows(&h, "主照片"), "the primary take is marked");
    assert!(shows(&h, "take_captured") && shows(&h, "accepted"), "the audit trail is listed");
    // Correction: the student's files go to the export target.
    let target = dir.path().join("usb");
    h.state_mut().ui.export_target = target.display().to_string();
    h.get_by_label("导出此学生的照片和记录（勘误）").click();
    h.step();
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
    h.step();
    h.step();
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
    h.step();
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
    h.step();
    h.step();
    let usb = dir.path().join("usb");
    std::fs::create_dir(&usb).unwrap();
    h.state_mut().ui.export_target = usb.display().to_string();
    h.step();
    h.get_by_label("导出新照片").click();
    h.step();
    step_until(&mut h, "the export", |h| shows(h, "导出完成并已校验：1 人"));
    assert!(shows(&h, "B001"), "the history lists the batch");
    let bundle = std::fs::read_dir(&usb).unwrap().next().unwrap().unwrap().path();
    assert!(gradcap::export::verify_bundle(&bundle).unwrap().ok());
    // The result stays on the view; the bundle can be checked again from it.
    assert!(shows(&h, "✓ 导出完成，已回读校验"), "the verification result");
    h.get_by_label("校验导出包").click();
    h.step();
    step_until(&mut h, "the bundle check", |h| shows(h, "✓ 导出包完整无误"));
    let photo = std::fs::read_dir(bundle.join("photos")).unwrap().next().unwrap().unwrap().path();
    std::fs::write(&photo, b"changed on the drive").unwrap();
    // Checked again: the same bundle.
    h.get_by_label("校验导出包").click();
    h.step();
    step_until(&mut h, "the second bundle check", |h| shows(h, "✗ 导出包有问题："));
    assert!(shows(&h, "content differs from its checksum"));

    // After handover: the images go, behind the PIN and a confirmation.
    let ctx = h.ctx.clone();
    h.state_mut().apply(Command::SetPin("2468".into()), &ctx);
    let tomorrow = (chrono::Local::now() + chrono::Duration::days(1)).format("%Y-%m-%d").to_string();
    h.state_mut().ui.purge_before = tomorrow;
    h.state_mut().ui.purge_pin = "2468".into();
    h.step();
    h.get_by_label("删除…").click();
    h.step();
    h.step();
    assert!(shows(&h, "此操作不可撤销"), "a last confirmation");
    assert!(shows(&h, "已导出并校验的 1 名学生的 1 张照片图像"), "it says what goes");
    h.get_by_label("确定").click();
    h.step();
    step_until(&mut h, "the purge", |h| shows(h, "已删除 1 名学生"));
    let store = gradcap::store::Store::open_read_only(&dir.path().join("station.sqlite")).unwrap();
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
    h.step();
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
    h.step();
    step_until(&mut h, "the empty roster", |h| shows(h, "尚未导入名单"));
    let mut store = gradcap::store::Store::open(&dir.path().join("station.sqlite")).unwrap();
    let row = gradcap::roster::RosterEntry::example("2021000031", "张*", "法学 2101");
    store.import_roster(&[row], "roster.csv", "2026-06-01T09:00:00+08:00").unwrap();
    step_until(&mut h, "the roster from the worker", |h| shows(h, "1 人未拍"));
    assert!(!shows(&h, "尚未导入名单"));
}
