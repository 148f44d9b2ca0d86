//! The command-line contract, driven through the real binary: flags, JSON
//! keys and exit codes that other tools rely on.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::{Command, Output};

mod common;

use base64::Engine as _;
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_gradcap");

fn run(args: &[&str]) -> Output {
    Command::new(BIN).args(args).env_remove("GRADCAP_DATA_DIR").output().unwrap()
}

fn json_lines(out: &Output) -> Vec<Value> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

fn code(out: &Output) -> i32 {
    out.status.code().unwrap()
}

const ROSTER: &str = "\u{feff}学号,姓名,身份证号,班级,学院,层次
0021010101,欧阳娜娜,36010219990101123X,法学 2101,法学院,本科
0021010102,阿依古丽·买买提,650102200001011234,法学 2101,法学院,本科
0021010103,李𠮷,440304199003072515,汉语言文学(公费师范)2101,文学院,本科
0021010104,王喆,110105194912310021,20数（1）,数学学院,专科
";
const CLEAR_VALUES: [&str; 8] = [
    "欧阳娜娜",
    "阿依古丽·买买提",
    "李𠮷",
    "王喆",
    "36010219990101123X",
    "650102200001011234",
    "440304199003072515",
    "110105194912310021",
];

fn valid_payload() -> String {
    let json = r#"{"sjc":"1700000000000","cjm":"TOKEN123","yxdm":"10697","zjhm":"123X","xh":"0021010101","cc":"本科","xllb":"普通","fy":"法学院","xm":"欧**娜","bh":"法学 2101","future":"x"}"#;
    base64::engine::general_purpose::STANDARD.encode(json)
}

#[test]
fn version_names_commit_and_build_date() {
    let out = run(&["--version"]);
    assert_eq!(code(&out), 0);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains(env!("CARGO_PKG_VERSION")) && text.contains("commit ") && text.contains("built "), "{text}");
}

#[test]
fn help_lists_the_subcommands_and_the_station_flags() {
    let out = run(&["--help"]);
    assert_eq!(code(&out), 0);
    let text = String::from_utf8_lossy(&out.stdout);
    for sub in ["decode", "codes", "simulate", "verify", "--demo", "--replay", "--exit-after"] {
        assert!(text.contains(sub), "{text}");
    }
}

#[test]
fn decode_text_prints_the_payload_keys_and_exit_codes_follow_the_inputs() {
    let good = valid_payload();
    let out = run(&["decode", "--json", "--text", &good]);
    assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stderr));
    let lines = json_lines(&out);
    assert_eq!(lines.len(), 1);
    let obj = &lines[0];
    for key in ["sjc", "cjm", "yxdm", "zjhm", "xh", "cc", "xllb", "fy", "xm", "bh", "input"] {
        assert!(obj.get(key).is_some(), "key {key} in {obj}");
    }
    assert_eq!(obj["xh"], "0021010101");
    assert_eq!(obj["future"], "x", "unknown keys are kept");

    let out = run(&["decode", "--json", "--text", &good, "https://example.com/"]);
    assert_eq!(code(&out), 1);
    let lines = json_lines(&out);
    assert_eq!(lines.len(), 2);
    assert!(lines[1]["error"].as_str().unwrap().contains("not a CHSI capture code"));
    assert_eq!(lines[1]["input"], "https://example.com/");
}

#[test]
fn usage_errors_exit_2() {
    assert_eq!(code(&run(&["decode"])), 2);
    assert_eq!(code(&run(&["decode", "--bogus"])), 2);
    assert_eq!(code(&run(&["no-such-command"])), 2);
    assert_eq!(code(&run(&["simulate"])), 2);
}

#[test]
fn drill_codes_render_decode_back_and_hold_no_clear_data() {
    let dir = tempfile::tempdir().unwrap();
    let roster = dir.path().join("roster.csv");
    std::fs::write(&roster, ROSTER).unwrap();
    let out_dir = dir.path().join("codes");
    let out = run(&[
        "codes",
        "--roster",
        roster.to_str().unwrap(),
        "--out",
        out_dir.to_str().unwrap(),
        "--school-code",
        "10697",
    ]);
    assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stderr));
    for xh in ["0021010101", "0021010102", "0021010103", "0021010104"] {
        assert!(out_dir.join(format!("{xh}.png")).exists(), "{xh}.png");
    }
    // No clear name or ID number anywhere in what was written.
    for entry in std::fs::read_dir(&out_dir).unwrap() {
        let bytes = std::fs::read(entry.unwrap().path()).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        for clear in CLEAR_VALUES {
            assert!(!text.contains(clear), "{clear} leaked");
        }
    }
    let index = std::fs::read_to_string(out_dir.join("index.csv")).unwrap();
    assert!(index.contains("0021010101") && index.contains("欧**娜") && index.contains("阿***·**提"));

    // Any QR reader path: our decoder reads the PNGs back into the same students.
    let out = run(&["decode", "--json", out_dir.to_str().unwrap()]);
    assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stdout));
    let lines = json_lines(&out);
    assert_eq!(lines.len(), 4);
    let names: Vec<&str> = lines.iter().map(|l| l["xm"].as_str().unwrap()).collect();
    assert_eq!(names, ["欧**娜", "阿***·**提", "李*", "王*"]);
    assert_eq!(lines[0]["xh"], "0021010101");
    assert_eq!(lines[0]["zjhm"], "123X");
    assert_eq!(lines[3]["bh"], "20数（1）");
    assert!(lines[0]["file"].as_str().unwrap().ends_with("0021010101.png"));

    // --raw gives the QR text and the decode time.
    let png = out_dir.join("0021010101.png");
    let out = run(&["decode", "--raw", "--json", png.to_str().unwrap()]);
    assert_eq!(code(&out), 0);
    let raw = &json_lines(&out)[0];
    assert!(raw["ms"].as_f64().unwrap() >= 0.0);
    let text = raw["text"].as_str().unwrap();
    let parsed = gradcap::code::parse(text).unwrap();
    assert_eq!(parsed.xh, "0021010101");
}

#[test]
fn decode_reports_images_that_are_not_capture_codes_or_not_images() {
    let dir = tempfile::tempdir().unwrap();
    let url_png = dir.path().join("url.png");
    std::fs::write(&url_png, gradcap::code::drill::render_png("https://pay.weixin.qq.com/x", 6).unwrap()).unwrap();
    let junk = dir.path().join("junk.png");
    std::fs::write(&junk, b"not an image").unwrap();
    let blank = dir.path().join("blank.png");
    image::GrayImage::from_pixel(200, 200, image::Luma([255])).save(&blank).unwrap();

    let out = run(&["decode", "--json", url_png.to_str().unwrap(), junk.to_str().unwrap(), blank.to_str().unwrap()]);
    assert_eq!(code(&out), 1);
    let lines = json_lines(&out);
    assert_eq!(lines.len(), 3);
    for l in &lines {
        assert!(l["file"].is_string() && l["error"].is_string(), "{l}");
    }
    assert!(lines[0]["error"].as_str().unwrap().contains("这不是学信网图像采集码"));
    // --raw reads any QR code, so the URL is a success there.
    let out = run(&["decode", "--raw", "--json", url_png.to_str().unwrap()]);
    assert_eq!(code(&out), 0);
    assert_eq!(json_lines(&out)[0]["text"], "https://pay.weixin.qq.com/x");
}

#[test]
fn simulate_with_a_roster_uses_its_students_and_verify_passes() {
    let dir = tempfile::tempdir().unwrap();
    let roster = dir.path().join("roster.csv");
    std::fs::write(&roster, ROSTER).unwrap();
    let db = dir.path().join("station.sqlite");
    let out = run(&[
        "simulate",
        "--db",
        db.to_str().unwrap(),
        "--students",
        "10",
        "--roster",
        roster.to_str().unwrap(),
        "--station",
        "2",
        "--school-code",
        "10697",
    ]);
    assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stderr));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    for key in ["students", "photographed", "skipped", "reshoots", "duplicates_refused", "students_per_s", "stages"] {
        assert!(report.get(key).is_some(), "{key} in {report}");
    }
    for stage in ["decode", "allocate", "deliverable", "commit"] {
        assert!(report["stages"][stage]["median_ms"].is_number() && report["stages"][stage]["p95_ms"].is_number());
    }
    assert_eq!(report["students"], 4, "the roster has four students");

    let store = gradcap::store::Store::open_read_only(&db).unwrap();
    let session = &store.sessions().unwrap()[0];
    let xhs: Vec<String> = store.records(session.id).unwrap().into_iter().map(|r| r.code.xh).collect();
    assert_eq!(xhs, ["0021010101", "0021010102", "0021010103", "0021010104"]);
    drop(store);
    let db_bytes = std::fs::read(&db).unwrap();
    let db_text = String::from_utf8_lossy(&db_bytes);
    for clear in CLEAR_VALUES {
        assert!(!db_text.contains(clear), "{clear} is in the database");
    }

    let out = run(&["verify", "--db", db.to_str().unwrap()]);
    assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stdout));
    let out = run(&["verify", "--json", "--db", db.to_str().unwrap()]);
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["findings"], serde_json::json!([]));
}

#[test]
fn verify_fails_on_a_missing_or_damaged_database() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("none.sqlite");
    assert_eq!(code(&run(&["verify", "--db", missing.to_str().unwrap()])), 1);
    let junk = dir.path().join("junk.sqlite");
    std::fs::write(&junk, vec![0x42u8; 8192]).unwrap();
    let out = run(&["verify", "--db", junk.to_str().unwrap()]);
    assert_eq!(code(&out), 1);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("error"), "{stderr}");
}

#[test]
fn the_data_directory_comes_from_the_environment_when_no_db_is_given() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(BIN)
        .args(["simulate", "--students", "2", "--seed", "4"])
        .env("GRADCAP_DATA_DIR", dir.path())
        .output()
        .unwrap();
    assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stderr));
    // Simulated (drill) students go to the station's training file, never its real one.
    assert!(dir.path().join("gradcap-training.sqlite").exists());
    assert!(!dir.path().join("gradcap.sqlite").exists());
    let other = tempfile::tempdir().unwrap();
    let out = Command::new(BIN)
        .args(["verify", "--data-dir"])
        .arg(other.path())
        .env("GRADCAP_DATA_DIR", dir.path())
        .output()
        .unwrap();
    assert_eq!(code(&out), 1, "--data-dir wins over the environment: no database there");
}

/// A real full disk: a 1 MiB tmpfs. Needs root (CI runs as root); elsewhere
/// the in-process test with `max_page_count` covers the same path.
#[test]
fn a_full_disk_fails_cleanly_and_the_station_continues_when_space_returns() {
    let dir = tempfile::tempdir().unwrap();
    let Some(fs) = common::Tmpfs::mount(dir.path(), "tmpfs", "1m") else { return };
    let mnt = fs.0.clone();
    let db = mnt.join("station.sqlite");
    let out = run(&["simulate", "--db", db.to_str().unwrap(), "--students", "200", "--date", "2026-06-01"]);
    assert_eq!(code(&out), 1, "1 MiB cannot hold 200 students");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("磁盘已满") && stderr.contains("disk full"), "{stderr}");
    let out = run(&["verify", "--db", db.to_str().unwrap()]);
    assert_eq!(code(&out), 0, "nothing partial: {}", String::from_utf8_lossy(&out.stdout));
    let before = gradcap::store::Store::open_read_only(&db).unwrap().verify().unwrap().photographed;

    fs.grow("64m");
    let out = run(&["simulate", "--db", db.to_str().unwrap(), "--students", "5", "--date", "2026-06-01"]);
    assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stderr));
    let after = gradcap::store::Store::open_read_only(&db).unwrap().verify().unwrap();
    assert!(after.ok());
    assert!(after.photographed > before, "the session continued");
}

/// Issue 11: `gradcap report | head -1` panicked on the closed stdout. The
/// reader here is gone before the command writes: every command ends
/// cleanly (exit 0, no panic, nothing on stderr about it).
#[test]
fn a_closed_stdout_ends_every_command_quietly() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("s.sqlite");
    let db = db.to_str().unwrap();
    assert_eq!(code(&run(&["--db", db, "simulate", "--students", "3", "--seed", "4"])), 0);
    let roster = dir.path().join("roster.csv");
    std::fs::write(&roster, ROSTER).unwrap();
    let roster = roster.to_str().unwrap();
    let payload = valid_payload();
    let commands: Vec<Vec<&str>> = vec![
        vec!["--db", db, "report"],
        vec!["--db", db, "report", "--json"],
        vec!["--db", db, "verify"],
        vec!["--db", db, "verify", "--json"],
        vec!["--db", db, "lookup", "1-0001"],
        vec!["--db", db, "roster", "import", roster],
        vec!["decode", "--json", "--text", &payload],
        vec!["--help"],
        vec!["--version"],
    ];
    for args in commands {
        let quoted: Vec<String> = args.iter().map(|a| format!("'{a}'")).collect();
        // `true` exits at once; the command writes 0.3 s later into a pipe nobody reads.
        let script = format!("(sleep 0.3; exec '{BIN}' {}) | true; exit ${{PIPESTATUS[0]}}", quoted.join(" "));
        let out = Command::new("bash").args(["-c", &script]).env_remove("GRADCAP_DATA_DIR").output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("panicked"), "{args:?} panicked: {stderr}");
        assert_eq!(out.status.code(), Some(0), "{args:?}: {stderr}");
    }
}

/// Issue 11: exports from a training database say so in the bundle name and
/// the manifest; a production database's do not.
#[test]
fn training_exports_are_marked_in_the_bundle_name_and_manifest() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.sqlite");
    let db = db.to_str().unwrap();
    assert_eq!(code(&run(&["--db", db, "simulate", "--students", "2", "--seed", "5"])), 0);
    let usb = dir.path().join("usb");
    std::fs::create_dir(&usb).unwrap();
    let out = run(&["--db", db, "export", "--to", usb.to_str().unwrap()]);
    assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stderr));
    let bundle = std::fs::read_dir(&usb).unwrap().flatten().map(|e| e.path()).find(|p| p.is_dir()).unwrap();
    let name = bundle.file_name().unwrap().to_string_lossy().into_owned();
    assert!(name.starts_with("TRAINING_练习_"), "{name}");
    let manifest: Value = serde_json::from_slice(&std::fs::read(bundle.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["training"], Value::Bool(true), "{manifest}");
}

/// Issue 11: any value of a capture code that is not a string — `null` too — is refused.
#[test]
fn a_null_sjc_is_refused_like_any_non_string_value() {
    let json = r#"{"sjc":null,"cjm":"TOKEN123","yxdm":"10697","zjhm":"123X","xh":"0021010101","xm":"欧**娜"}"#;
    let err = gradcap::code::parse(&base64::engine::general_purpose::STANDARD.encode(json)).unwrap_err();
    assert!(matches!(err, gradcap::code::CodeError::NotString(ref k) if k == "sjc"), "{err}");
    for key in ["bh", "cc", "fy"] {
        let json = format!(r#"{{"cjm":"T1","zjhm":"123X","xh":"1","xm":"欧**娜","{key}":null}}"#);
        assert!(gradcap::code::parse(&base64::engine::general_purpose::STANDARD.encode(json)).is_err(), "{key}: null");
    }
}
