//! The real binary, in a real window under Xvfb (Mesa's software OpenGL):
//! - `gradcap --demo --exit-after 6` starts, runs the demo camera and the
//!   scanner on the training database, and exits cleanly by itself;
//! - a handheld scanner, emulated with `xdotool type --delay 5 PAYLOAD` +
//!   Return, types 20 capture codes while the station previews a 1920×1080
//!   replay camera at 30 fps and scans it: every code is read whole.
//!
//! CI installs xvfb-run, Xvfb and xdotool; elsewhere the tests say they were
//! skipped (and fail if CI claims to have them).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use gradcap::code::drill::DrillStudent;

mod common;
use common::Xvfb;

fn have(tool: &str) -> bool {
    let found =
        Command::new("sh").args(["-c", &format!("command -v {tool}")]).output().is_ok_and(|o| o.status.success());
    if !found {
        assert!(std::env::var_os("CI").is_none(), "CI must install {tool} (.ci/run does)");
        eprintln!("skipped: {tool} is not installed");
    }
    found
}

#[test]
fn the_station_runs_under_xvfb_and_exits_when_asked() {
    if !have("xvfb-run") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new("xvfb-run")
        .args(["-a", "-s", "-screen 0 1400x850x24", env!("CARGO_BIN_EXE_gradcap"), "--demo", "--exit-after", "6"])
        .env("GRADCAP_DATA_DIR", dir.path())
        .env("LIBGL_ALWAYS_SOFTWARE", "1")
        .output()
        .unwrap();
    assert!(out.status.success(), "exit {:?}\n{}", out.status.code(), String::from_utf8_lossy(&out.stderr));
    // The demo camera feeds the training database only; the station's own file is untouched.
    assert!(!dir.path().join("gradcap.sqlite").exists(), "the demo never writes the real database");
    let store = gradcap::store::Store::open_read_only(&dir.path().join("gradcap-training.sqlite")).unwrap();
    assert_eq!(store.mode().unwrap(), gradcap::store::Mode::Training);
    let sessions = store.sessions().unwrap();
    assert_eq!(sessions.len(), 1);
    let records = store.records(sessions[0].id).unwrap();
    assert!(!records.is_empty(), "the demo student's code was scanned from the camera");
    assert!(store.verify().unwrap().ok());
}

#[test]
fn a_scanner_gun_typing_twenty_codes_is_read_twenty_times_while_previewing_1080p() {
    if !have("Xvfb") || !have("xdotool") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    // The replay camera: 1920×1080 portraits at 30 fps (no code in view).
    let frames = dir.path().join("frames");
    std::fs::create_dir_all(&frames).unwrap();
    for i in 0..3 {
        gradcap::camera::synth::portrait(1920, 1080, i).save(frames.join(format!("f{i}.jpg"))).unwrap();
    }
    let x = Xvfb::start(140, "1920x1080x24");
    let mut station = Command::new(env!("CARGO_BIN_EXE_gradcap"))
        .args(["--training", "--replay"])
        .arg(&frames)
        .args(["--replay-fps", "30", "--exit-after", "240"])
        .env("GRADCAP_DATA_DIR", dir.path())
        .env("DISPLAY", &x.display)
        .env("LIBGL_ALWAYS_SOFTWARE", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    let window = loop {
        let out = x.xdotool(&["search", "--onlyvisible", "--name", "gradcap"]);
        let id = String::from_utf8_lossy(&out.stdout).lines().next().map(str::to_string);
        if let Some(id) = id {
            break id;
        }
        if started.elapsed() > Duration::from_secs(120) {
            // Say why: the station's own words, not only that it is missing.
            let _ = station.kill();
            let out = station.wait_with_output().unwrap();
            panic!("the station window did not appear in 120 s:\n{}", String::from_utf8_lossy(&out.stderr));
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    // Let the camera and the workers come up: the scanner meets a busy station.
    std::thread::sleep(Duration::from_secs(3));
    x.xdotool(&["windowfocus", &window]);
    let db = dir.path().join("gradcap-training.sqlite");
    let count = || {
        gradcap::store::Store::open_read_only(&db)
            .ok()
            .and_then(|s| s.sessions().ok().and_then(|ss| ss.first().map(|x| s.records(x.id).unwrap_or_default())))
            .unwrap_or_default()
    };
    let xhs: Vec<String> = (1..=20).map(|i| format!("2025{i:06}")).collect();
    for (i, xh) in xhs.iter().enumerate() {
        let payload = DrillStudent::example(xh).example_payload();
        let out = x.xdotool(&["type", "--delay", "5", &payload]);
        assert!(out.status.success(), "xdotool: {}", String::from_utf8_lossy(&out.stderr));
        x.xdotool(&["key", "Return"]);
        // The next student steps up a moment later.
        let waited = Instant::now();
        while count().len() < i + 1 && waited.elapsed() < Duration::from_secs(5) {
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    let records = count();
    let _ = station.kill();
    let output = station.wait_with_output().unwrap();
    let read: Vec<&str> = records.iter().map(|r| r.code.xh.as_str()).collect();
    assert_eq!(
        read,
        xhs.iter().map(String::as_str).collect::<Vec<_>>(),
        "20/20 scans read whole, in order\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    // Nothing else happened: no skip dialog opened, nothing shot or accepted by a key of a burst.
    let store = gradcap::store::Store::open_read_only(&db).unwrap();
    assert!(records.iter().all(|r| r.status == gradcap::store::RecordStatus::Waiting));
    assert!(records.iter().all(|r| store.takes(r.id).unwrap().is_empty()));
    assert!(store.verify().unwrap().ok());
}
