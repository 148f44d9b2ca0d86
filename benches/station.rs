//! The running station, measured from outside: the real binary in a real
//! window under Xvfb. Run: `cargo bench --bench station` (needs xvfb-run).
//!
//! - RSS while previewing 1920×1080 frames at 30 fps (replay camera), max of
//!   samples every 250 ms over 12 s (target ≤ 250 MB);
//! - cold start to the first camera frame on screen with 20 000 records in
//!   the database (target ≤ 1 s), median of 5 starts;
//! - scan to number: decode time and the delay from the end of the decode to
//!   the UI taking the code (drawn in that same frame), from the app's timing log.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::print_stdout, clippy::print_stderr)]

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use gradcap::camera::synth::{phone_frame, portrait, PhoneShot};
use gradcap::code::drill::{drill_code, DrillStudent};
use gradcap::station::{Event, Station, StationConfig};
use gradcap::store::{SessionInfo, Store};

const BIN: &str = env!("CARGO_BIN_EXE_gradcap");

fn main() {
    if Command::new("xvfb-run").arg("--help").output().is_err() {
        eprintln!("xvfb-run is not installed: apt-get install xvfb xauth");
        return;
    }
    rss_and_scan_latency();
    idle_cpu_with_camera_open();
    cold_start_with_20000_records();
}

fn student(i: usize) -> DrillStudent {
    DrillStudent::example(&format!("2021{i:06}"))
}

fn rss_kb(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status.lines().find(|l| l.starts_with("VmRSS:"))?.split_whitespace().nth(1)?.parse().ok()
}

/// The gradcap process whose command line mentions `marker`.
fn find_pid(marker: &str) -> Option<u32> {
    for entry in std::fs::read_dir("/proc").ok()?.flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else { continue };
        let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        let cmdline = String::from_utf8_lossy(&cmdline);
        if cmdline.starts_with(BIN) && cmdline.contains(marker) {
            return Some(pid);
        }
    }
    None
}

fn station_cmd(data_dir: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new("xvfb-run");
    cmd.args(["-a", "-s", "-screen 0 1920x1080x24", BIN])
        .args(args)
        .env("GRADCAP_DATA_DIR", data_dir)
        .env("GRADCAP_LOG", "gradcap::timing=info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    cmd
}

fn rss_and_scan_latency() {
    let dir = tempfile::tempdir().unwrap();
    let frames = dir.path().join("frames");
    std::fs::create_dir(&frames).unwrap();
    // 2 s of portrait, then 1 s of a phone with a code, at 1080p: 90 JPEG frames.
    let face = gradcap::photo::encode_jpeg(&portrait(1920, 1080, 1), 90).unwrap();
    let shot = PhoneShot { noise: 5, brightness: 0.9, ..PhoneShot::clean(6.0) };
    let payload = drill_code(&student(1), "10697", 1_700_000_000_000).to_payload();
    let phone = image::DynamicImage::ImageLuma8(phone_frame(&payload, 1920, 1080, shot, 1).unwrap()).to_rgb8();
    let phone = gradcap::photo::encode_jpeg(&phone, 90).unwrap();
    for i in 0..90 {
        std::fs::write(frames.join(format!("{i:03}.jpg")), if i < 60 { &face } else { &phone }).unwrap();
    }
    let data = dir.path().join("data");
    let frames_arg = frames.to_str().unwrap();
    let child = station_cmd(&data, &["--training", "--replay", frames_arg, "--replay-fps", "30", "--exit-after", "14"])
        .spawn()
        .unwrap();
    let start = Instant::now();
    let mut max_kb = 0;
    let mut samples = 0;
    while start.elapsed() < Duration::from_secs(13) {
        std::thread::sleep(Duration::from_millis(250));
        if let Some(kb) = find_pid(frames_arg).and_then(rss_kb) {
            max_kb = max_kb.max(kb);
            samples += 1;
        }
    }
    let out = child.wait_with_output().unwrap();
    let log = String::from_utf8_lossy(&out.stderr);
    println!("RSS previewing 1920x1080 at 30 fps: max {:.0} MB over {samples} samples", max_kb as f64 / 1024.0);
    for line in log.lines().filter(|l| l.contains("code decoded")).take(3) {
        println!("scan to number: {}", line.split("timing:").last().unwrap_or(line).trim());
    }
    // The UI thread per frame while previewing 1080p at 30 fps with the
    // scan and framing workers running (the first window is start-up).
    let windows: Vec<&str> = log.lines().filter(|l| l.contains("ui frames:")).collect();
    for line in windows.iter().skip(1) {
        println!("UI frame time (software OpenGL): {}", line.split("ui frames:").last().unwrap_or(line).trim());
    }
}

/// CPU time of the station process (user + system), in clock ticks.
fn cpu_ticks(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    Some(fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?)
}

/// Station CPU use idle with a camera open: a 1080p portrait replayed at
/// 30 fps, nobody scanning, over 8 s (100 % = one core).
fn idle_cpu_with_camera_open() {
    let dir = tempfile::tempdir().unwrap();
    let frames = dir.path().join("idle-frames");
    std::fs::create_dir(&frames).unwrap();
    let face = gradcap::photo::encode_jpeg(&portrait(1920, 1080, 2), 90).unwrap();
    for i in 0..30 {
        std::fs::write(frames.join(format!("{i:03}.jpg")), &face).unwrap();
    }
    let data = dir.path().join("data");
    let frames_arg = frames.to_str().unwrap();
    let child = station_cmd(&data, &["--training", "--replay", frames_arg, "--replay-fps", "30", "--exit-after", "13"])
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_secs(4));
    let pid = find_pid(frames_arg);
    let ticks_per_s = 100.0; // Linux USER_HZ
    if let Some((pid, before)) = pid.and_then(|p| cpu_ticks(p).map(|t| (p, t))) {
        let t0 = Instant::now();
        std::thread::sleep(Duration::from_secs(8));
        if let Some(after) = cpu_ticks(pid) {
            let pct = (after - before) as f64 / ticks_per_s / t0.elapsed().as_secs_f64() * 100.0;
            println!("station CPU idle with a 1080p camera open at 30 fps: {pct:.0} % of one core");
        }
    }
    let _ = child.wait_with_output();
}

fn cold_start_with_20000_records() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    // `--demo` starts on the training database.
    let db = data.join("gradcap-training.sqlite");
    let today = chrono::Local::now().format("%Y-%m-%d").to_string();
    {
        let info = SessionInfo {
            school_name: String::new(),
            school_code: String::new(),
            station: "1".into(),
            date: today.clone(),
            operator: String::new(),
        };
        let mut st = Station::open(Store::open_training(&db).unwrap(), &info, StationConfig::default()).unwrap();
        let payload = drill_code(&student(0), "10697", 1_700_000_000_000).to_payload();
        st.handle(Event::CodeScanned { text: payload, frame: None }).unwrap();
    }
    // 20 000 photographed records with small takes, written in one transaction.
    let t = Instant::now();
    let mut conn = rusqlite::Connection::open(&db).unwrap();
    let deliverable = gradcap::photo::encode_jpeg(&portrait(480, 640, 3), 80).unwrap();
    let original = gradcap::photo::encode_jpeg(&portrait(640, 360, 3), 80).unwrap();
    let tx = conn.transaction().unwrap();
    {
        let mut rec = tx
            .prepare(
                "INSERT INTO records (session_id, seq, cjm, sjc, yxdm, zjhm, xh, xm, bh, payload, scanned_at, status, status_at)
                 SELECT 1, ?1, ?2, '1700000000000', '10697', '123X', ?3, '欧**娜', '法学 2101', 'x', '2026-06-01T09:00:00+08:00', 'photographed', '2026-06-01T09:00:10+08:00'",
            )
            .unwrap();
        let mut take = tx
            .prepare(
                "INSERT INTO takes (record_id, take_no, is_primary, original_jpeg, original_sha256, original_bytes, original_width,
                                    original_height, deliverable_jpeg, deliverable_sha256, deliverable_bytes, deliverable_quality, captured_at)
                 VALUES (?1, 1, 1, ?2, 'x', 0, 640, 360, ?3, 'x', 0, 80, '2026-06-01T09:00:05+08:00')",
            )
            .unwrap();
        for i in 2..=20_001i64 {
            rec.execute(rusqlite::params![i, format!("BENCH{i}"), format!("2099{i:06}")]).unwrap();
            take.execute(rusqlite::params![tx.last_insert_rowid(), original, deliverable]).unwrap();
        }
    }
    tx.execute("UPDATE sessions SET next_seq = 20002", []).unwrap();
    tx.commit().unwrap();
    drop(conn);
    let size_mb = std::fs::metadata(&db).map(|m| m.len()).unwrap_or(0) as f64 / 1e6;
    println!("filled 20 000 records ({size_mb:.0} MB) in {:.1} s", t.elapsed().as_secs_f64());

    let mut times = Vec::new();
    for _ in 0..5 {
        let out = station_cmd(&data, &["--demo", "--exit-after", "3"]).output().unwrap();
        let log = String::from_utf8_lossy(&out.stderr);
        let ms = log
            .lines()
            .find_map(|l| l.split("first camera frame on screen ").nth(1))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|n| n.parse::<u64>().ok());
        match ms {
            Some(ms) => times.push(ms),
            None => eprintln!("no first-frame line in:\n{log}"),
        }
    }
    times.sort_unstable();
    if let Some(median) = times.get(times.len() / 2) {
        println!("cold start to first camera frame with 20 000 records: median {median} ms of {times:?}");
    }
}
