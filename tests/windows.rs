//! The Windows build (`gradcap.exe`, made by `scripts/windows.sh build`) run
//! under Wine on the station's own work, with the Linux build checking what
//! it wrote and the other way round: simulate, verify, export and
//! verify-bundle (plain and encrypted), merge, backup, prints, register,
//! roster import (GBK CSV, xlsx), decode, photo, pin, a kill during export,
//! folders with Chinese names and spaces, a path past 260 characters, the
//! default data folder under %APPDATA%, drive letters, exit codes, and the
//! window under Wine + Xvfb.
//!
//! Run by `scripts/windows.sh test` (`GRADCAP_WINDOWS_EXE` and `WINEPREFIX`
//! set, one test at a time: the tests share one Wine prefix). Ignored by a
//! plain `cargo test`, which has no Windows build; run with `--ignored` and
//! without the build, each test fails and says how to make it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

mod common;
use common::Xvfb;

const LINUX: &str = env!("CARGO_BIN_EXE_gradcap");
const WHY: &str = "needs the Windows build under Wine: scripts/windows.sh test";

/// The Windows build, run under Wine with a folder as its current folder.
struct Wine {
    exe: PathBuf,
}

fn wine() -> Wine {
    let exe = std::env::var_os("GRADCAP_WINDOWS_EXE")
        .map(PathBuf::from)
        .unwrap_or_else(|| panic!("GRADCAP_WINDOWS_EXE is not set: {WHY}"));
    assert!(exe.is_file(), "{} is missing: {WHY}", exe.display());
    Wine { exe }
}

impl Wine {
    fn command(&self, cwd: &Path, args: &[&str]) -> Command {
        let mut cmd = Command::new(wine_tool("GRADCAP_WINE", "wine"));
        cmd.arg(&self.exe)
            .args(args)
            .current_dir(cwd)
            .env("WINEDEBUG", "-all")
            .env_remove("GRADCAP_DATA_DIR")
            .env_remove("GRADCAP_PIN");
        cmd
    }

    /// Runs `gradcap.exe ARGS` in `cwd` (relative paths are inside it).
    fn run(&self, cwd: &Path, args: &[&str]) -> Output {
        self.command(cwd, args).stdin(Stdio::null()).output().unwrap()
    }

    fn run_with_stdin(&self, cwd: &Path, args: &[&str], stdin: &str) -> Output {
        let mut child = self
            .command(cwd, args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        std::io::Write::write_all(child.stdin.as_mut().unwrap(), stdin.as_bytes()).unwrap();
        drop(child.stdin.take());
        child.wait_with_output().unwrap()
    }
}

/// Wine's commands: those `scripts/windows.sh` names (the chroot's Wine), or
/// the ones on PATH.
fn wine_tool(var: &str, default: &str) -> PathBuf {
    std::env::var_os(var).map(PathBuf::from).unwrap_or_else(|| PathBuf::from(default))
}

/// The Linux build, in `cwd`.
fn linux(cwd: &Path, args: &[&str]) -> Output {
    Command::new(LINUX).args(args).current_dir(cwd).env_remove("GRADCAP_DATA_DIR").output().unwrap()
}

fn ok(what: &str, out: &Output) -> String {
    assert!(
        out.status.success(),
        "{what}: exit {:?}\n{}\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).unwrap_or_else(|_| panic!("{what}: stdout is not UTF-8"))
}

fn json(what: &str, out: &Output) -> Value {
    let text = ok(what, out);
    serde_json::from_str(text.trim()).unwrap_or_else(|e| panic!("{what}: not JSON ({e}): {text}"))
}

/// A working folder whose name has Chinese characters and a space, as an
/// operator's desktop folder does.
fn day_folder() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let day = tmp.path().join("采集 日");
    std::fs::create_dir_all(&day).unwrap();
    (tmp, day)
}

fn bundles_in(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

const ROSTER: &str = "学号,姓名,身份证号,班级,学院,专业,层次
0021010101,欧阳娜娜,36010219990101123X,法学 2101,法学院,法学,本科
0021010102,王喆,440304199003072515,法学 2101,法学院,法学,本科
0021010103,张三丰,110105194912310021,法学 2101,法学院,法学,本科
0021010201,阿依古丽·买买提,650102200001011234,汉语言文学2101,文学院,汉语言文学,本科
";

#[test]
#[ignore = "needs the Windows build under Wine: scripts/windows.sh test"]
fn a_day_on_windows_verifies_on_linux_and_a_linux_day_verifies_on_windows() {
    let wine = wine();
    let (_tmp, day) = day_folder();
    // Windows: a day of 20 students in a folder named 采集 日.
    let sim = json("simulate (Windows)", &wine.run(&day, &["--db", "站点.sqlite", "simulate", "--students", "20"]));
    assert_eq!(sim["students"], 20, "{sim}");
    assert!(sim["photographed"].as_u64().unwrap() >= 15, "{sim}");
    assert_eq!(sim["decode_failures"], 0, "{sim}");
    // The Linux build reads what Windows wrote, and Windows its own.
    ok("verify (Linux) of the Windows database", &linux(&day, &["--db", "站点.sqlite", "verify"]));
    ok("verify (Windows)", &wine.run(&day, &["--db", "站点.sqlite", "verify"]));
    // Windows continues the session; Linux continues it again.
    json("simulate (Windows, continued)", &wine.run(&day, &["--db", "站点.sqlite", "simulate", "--students", "5"]));
    json("simulate (Linux, continued)", &linux(&day, &["--db", "站点.sqlite", "simulate", "--students", "5"]));
    let report = json("verify --json (Windows)", &wine.run(&day, &["--db", "站点.sqlite", "verify", "--json"]));
    assert_eq!(report["findings"].as_array().map(Vec::len), Some(0), "{report}");
    assert_eq!(report["records"], 30, "{report}");

    // The other way: a Linux database verified and continued by Windows.
    let first = json(
        "simulate (Linux)",
        &linux(&day, &["--db", "linux.sqlite", "simulate", "--students", "10", "--station", "2"]),
    );
    ok("verify (Windows) of the Linux database", &wine.run(&day, &["--db", "linux.sqlite", "verify"]));
    let more = json(
        "simulate (Windows on Linux's)",
        &wine.run(&day, &["--db", "linux.sqlite", "simulate", "--students", "3", "--station", "2"]),
    );
    assert!(
        more["session_seq_next"].as_i64().unwrap() > first["session_seq_next"].as_i64().unwrap(),
        "Windows carries on Linux's numbering: {first} then {more}"
    );
    assert_eq!(more["session_seq_next"], sim_next(&day, "linux.sqlite"), "{more}");
    ok("verify (Linux)", &linux(&day, &["--db", "linux.sqlite", "verify"]));

    // The studio camera's folder: each portrait written into it as a tethering
    // program writes (a .tmp renamed), found by ReadDirectoryChangesW and
    // the listing, bound to the student at the head of the queue.
    std::fs::create_dir_all(day.join("影室 相机")).unwrap();
    let studio = json(
        "simulate --shots-folder (Windows)",
        &wine.run(&day, &["--db", "影室.sqlite", "simulate", "--students", "6", "--shots-folder", "影室 相机"]),
    );
    assert!(studio["photographed"].as_u64().unwrap() >= 4, "{studio}");
    ok("verify (Linux) of the studio database", &linux(&day, &["--db", "影室.sqlite", "verify"]));
    assert!(std::fs::read_dir(day.join("影室 相机")).unwrap().count() >= 4, "the camera's files stay in its folder");

    // A damaged database is refused by the Windows build with exit 1, as on Linux.
    let mut bytes = std::fs::read(day.join("linux.sqlite")).unwrap();
    bytes[100..4096].fill(0x5a);
    std::fs::write(day.join("damaged.sqlite"), &bytes).unwrap();
    let bad = wine.run(&day, &["--db", "damaged.sqlite", "verify"]);
    assert_eq!(bad.status.code(), Some(1), "{}", String::from_utf8_lossy(&bad.stderr));
}

/// The next number the Linux build would hand out at that database's session.
fn sim_next(day: &Path, db: &str) -> Value {
    let conn = rusqlite::Connection::open(day.join(db)).unwrap();
    let next: i64 = conn.query_row("SELECT MAX(next_seq) FROM sessions", [], |r| r.get(0)).unwrap();
    Value::from(next)
}

#[test]
#[ignore = "needs the Windows build under Wine: scripts/windows.sh test"]
fn exports_encrypted_or_not_and_merges_cross_between_the_two_builds() {
    let wine = wine();
    let (_tmp, day) = day_folder();
    json("simulate (Windows)", &wine.run(&day, &["--db", "一号.sqlite", "simulate", "--students", "12"]));
    json(
        "simulate (Linux)",
        &linux(&day, &["--db", "二号.sqlite", "simulate", "--students", "9", "--station", "2", "--seed", "77"]),
    );
    std::fs::create_dir_all(day.join("U盘 E")).unwrap();

    // Windows exports; both builds and sha256sum check the bundle.
    ok("export (Windows)", &wine.run(&day, &["--db", "一号.sqlite", "export", "--to", "U盘 E"]));
    let win_bundle = bundles_in(&day.join("U盘 E")).pop().unwrap();
    let win_path = format!("U盘 E/{win_bundle}");
    let checked = json("verify-bundle (Linux)", &linux(&day, &["verify-bundle", &win_path, "--json"]));
    assert_eq!(checked["findings"].as_array().unwrap().len(), 0, "{checked}");
    assert_eq!(checked["encrypted"], false);
    let sums = Command::new("sha256sum")
        .args(["-c", "--quiet", "SHA256SUMS"])
        .current_dir(day.join(&win_path))
        .output()
        .unwrap();
    assert!(sums.status.success(), "sha256sum -c: {}", String::from_utf8_lossy(&sums.stdout));
    // Linux exports; Windows checks it, by a relative path and by a drive-letter path.
    std::fs::create_dir_all(day.join("linux-usb")).unwrap();
    ok("export (Linux)", &linux(&day, &["--db", "二号.sqlite", "export", "--to", "linux-usb"]));
    let linux_bundle = bundles_in(&day.join("linux-usb")).pop().unwrap();
    let rel = format!("linux-usb\\{linux_bundle}");
    let win_checked = json("verify-bundle (Windows)", &wine.run(&day, &["verify-bundle", &rel, "--json"]));
    assert_eq!(win_checked["findings"].as_array().unwrap().len(), 0, "{win_checked}");
    let z = format!("Z:{}", day.join("linux-usb").join(&linux_bundle).display()).replace('/', "\\");
    ok("verify-bundle (Windows, Z: path)", &wine.run(&day, &["verify-bundle", &z]));
    // A changed photo is found by the Windows build.
    let tampered = day.join("tampered");
    copy_dir(&day.join(&win_path), &tampered);
    let photo = std::fs::read_dir(tampered.join("photos")).unwrap().next().unwrap().unwrap().path();
    let mut bytes = std::fs::read(&photo).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x40;
    std::fs::write(&photo, bytes).unwrap();
    assert_eq!(wine.run(&day, &["verify-bundle", "tampered"]).status.code(), Some(1));

    // Merge on Windows, checked on Linux; merge on Linux of the Windows bundle.
    std::fs::create_dir_all(day.join("合并")).unwrap();
    let merged = json(
        "merge (Windows)",
        &wine.run(
            &day,
            &["merge", &win_path, &format!("linux-usb/{linux_bundle}"), "--to", "合并", "--json", "--keep-duplicates"],
        ),
    );
    assert_eq!(merged["bundles"], 2, "{merged}");
    // The drill students are the same at both stations: listed, not lost.
    assert!(!merged["duplicates"].as_array().unwrap().is_empty(), "{merged}");
    let merged_name = bundles_in(&day.join("合并")).pop().unwrap();
    ok("verify-bundle (Linux) of the Windows merge", &linux(&day, &["verify-bundle", &format!("合并/{merged_name}")]));
    std::fs::create_dir_all(day.join("merge-linux")).unwrap();
    ok("merge (Linux)", &linux(&day, &["merge", &win_path, "--to", "merge-linux"]));

    // Encrypted: the key made on Windows, the bundle written on Windows,
    // checked and opened on Linux and by the standard age tool.
    let recipient = ok("keygen (Windows)", &wine.run(&day, &["keygen", "--out", "密钥.txt"])).trim().to_string();
    assert!(recipient.starts_with("age1"), "{recipient}");
    std::fs::create_dir_all(day.join("加密")).unwrap();
    ok(
        "export --encrypt-to (Windows)",
        &wine.run(&day, &["--db", "一号.sqlite", "export", "--to", "加密", "--full", "--encrypt-to", &recipient]),
    );
    let enc = bundles_in(&day.join("加密")).pop().unwrap();
    let enc_path = format!("加密/{enc}");
    let checked = json("verify-bundle (Linux) encrypted", &linux(&day, &["verify-bundle", &enc_path, "--json"]));
    assert_eq!(checked["encrypted"], true, "{checked}");
    assert_eq!(checked["findings"].as_array().unwrap().len(), 0, "{checked}");
    std::fs::create_dir_all(day.join("opened")).unwrap();
    ok("decrypt (Linux)", &linux(&day, &["decrypt", &enc_path, "--identity", "密钥.txt", "--to", "opened"]));
    let opened = bundles_in(&day.join("opened")).pop().unwrap();
    ok(
        "verify-bundle (Windows) of the decrypted bundle",
        &wine.run(&day, &["verify-bundle", &format!("opened/{opened}")]),
    );
    if Command::new("age").arg("--version").output().is_ok() {
        let tar = Command::new("age")
            .args(["-d", "-i", "密钥.txt", &format!("{enc_path}/bundle.tar.age")])
            .current_dir(&day)
            .output()
            .unwrap();
        assert!(tar.status.success(), "age -d: {}", String::from_utf8_lossy(&tar.stderr));
        assert!(tar.stdout.len() > 10_000);
    } else {
        assert!(std::env::var_os("CI").is_none(), "CI must install age (.ci/run does)");
    }
    // And Windows decrypts a Linux-encrypted one.
    std::fs::create_dir_all(day.join("加密2")).unwrap();
    ok(
        "export --encrypt-to (Linux)",
        &linux(&day, &["--db", "二号.sqlite", "export", "--to", "加密2", "--full", "--encrypt-to", &recipient]),
    );
    let enc2 = bundles_in(&day.join("加密2")).pop().unwrap();
    std::fs::create_dir_all(day.join("opened2")).unwrap();
    ok(
        "decrypt (Windows)",
        &wine.run(&day, &["decrypt", &format!("加密2/{enc2}"), "--identity", "密钥.txt", "--to", "opened2"]),
    );
    let opened2 = bundles_in(&day.join("opened2")).pop().unwrap();
    ok("verify-bundle (Linux)", &linux(&day, &["verify-bundle", &format!("opened2/{opened2}")]));
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let dest = to.join(e.file_name());
        if e.path().is_dir() {
            copy_dir(&e.path(), &dest);
        } else {
            std::fs::copy(e.path(), dest).unwrap();
        }
    }
}

#[test]
#[ignore = "needs the Windows build under Wine: scripts/windows.sh test"]
fn backup_rosters_prints_register_and_pin_on_windows() {
    let wine = wine();
    let (_tmp, day) = day_folder();
    // A GBK roster as the office's Excel saves it, and an xlsx with numeric 学号.
    let (gbk, _, bad) = encoding_rs::GBK.encode(ROSTER);
    assert!(!bad);
    std::fs::write(day.join("名单 GBK.csv"), gbk).unwrap();
    let out =
        ok("roster import GBK (Windows)", &wine.run(&day, &["--db", "站.sqlite", "roster", "import", "名单 GBK.csv"]));
    assert!(out.contains("4 新增 added"), "{out}");
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    for (c, h) in ["学号", "姓名", "班级"].iter().enumerate() {
        sheet.write_string(0, c as u16, *h).unwrap();
    }
    sheet.write_number(1, 0, 2021020101.0).unwrap();
    sheet.write_string(1, 1, "赵赟堃").unwrap();
    sheet.write_string(1, 2, "法学 2102").unwrap();
    book.save(day.join("法学2102.xlsx")).unwrap();
    ok("roster import xlsx (Windows)", &wine.run(&day, &["--db", "站.sqlite", "roster", "import", "法学2102.xlsx"]));
    std::fs::write(day.join("roster.csv"), ROSTER).unwrap();
    json(
        "simulate --roster (Windows)",
        &wine.run(&day, &["--db", "站.sqlite", "simulate", "--students", "4", "--roster", "roster.csv", "--seed", "3"]),
    );
    let report = json("report --json (Windows)", &wine.run(&day, &["--db", "站.sqlite", "report", "--json"]));
    let classes = report["classes"].as_array().unwrap();
    let x2102 = classes.iter().find(|c| c["class"] == "法学 2102").unwrap();
    assert_eq!(x2102["missing_students"][0]["xh"], "2021020101", "{report}");
    assert_eq!(x2102["missing_students"][0]["xm"], "赵*堃", "{report}");
    let stored = String::from_utf8_lossy(&std::fs::read(day.join("站.sqlite")).unwrap()).into_owned();
    for clear in ["欧阳娜娜", "张三丰", "赵赟堃", "36010219990101123X"] {
        assert!(!stored.contains(clear), "{clear} is in the Windows database");
    }

    // Backup into a folder with a Chinese name; the copy verifies on Linux.
    let out = ok("backup (Windows)", &wine.run(&day, &["--db", "站.sqlite", "backup", "--to", "备份 文件夹"]));
    let backups: Vec<_> = std::fs::read_dir(day.join("备份 文件夹")).unwrap().flatten().map(|e| e.path()).collect();
    assert_eq!(backups.len(), 1, "{out}: {backups:?}");
    assert!(backups[0].extension().is_some_and(|e| e == "sqlite"), "{backups:?}");
    ok("verify (Linux) of the Windows backup", &linux(&day, &["--db", backups[0].to_str().unwrap(), "verify"]));

    // The register and the prints of the photographed class.
    let out = ok(
        "register (Windows)",
        &wine.run(&day, &["--db", "站.sqlite", "register", "--class", "法学 2101", "--pdf", "登记表 2101.pdf"]),
    );
    assert!(out.contains("3 人"), "{out}");
    let class = classes.iter().find(|c| c["photographed"].as_u64().unwrap_or(0) > 0).unwrap()["class"]
        .as_str()
        .unwrap()
        .to_string();
    let out =
        ok("prints (Windows)", &wine.run(&day, &["--db", "站.sqlite", "prints", "--class", &class, "--to", "冲印"]));
    assert!(out.contains("冲印 / prints"), "{out}");
    let mut pdfs: Vec<PathBuf> = std::fs::read_dir(day.join("冲印")).unwrap().flatten().map(|e| e.path()).collect();
    pdfs.push(day.join("登记表 2101.pdf"));
    for pdf in &pdfs {
        let bytes = std::fs::read(pdf).unwrap();
        assert!(bytes.starts_with(b"%PDF") && bytes.trim_ascii_end().ends_with(b"%%EOF"), "{} is whole", pdf.display());
        match Command::new("pdftotext").arg(pdf).arg("-").output() {
            Ok(t) if t.status.success() => assert!(!t.stdout.is_empty(), "{}", pdf.display()),
            _ => assert!(std::env::var_os("CI").is_none(), "CI must install poppler-utils"),
        }
    }
    let text = Command::new("pdftotext").arg(day.join("登记表 2101.pdf")).arg("-").output();
    if let Some(text) = text.ok().filter(|t| t.status.success()) {
        let text = String::from_utf8_lossy(&text.stdout).replace(char::is_whitespace, "");
        assert!(text.contains("欧**娜") && text.contains("签名"), "{text}");
    }
    ok(
        "prints --format jpg (Windows)",
        &wine.run(&day, &["--db", "站.sqlite", "prints", "--class", &class, "--to", "冲印 jpg", "--format", "jpg"]),
    );
    for jpg in std::fs::read_dir(day.join("冲印 jpg")).unwrap().flatten() {
        image::open(jpg.path()).unwrap_or_else(|e| panic!("{}: {e}", jpg.path().display()));
    }

    // The operator PIN from piped stdin, the wrong current PIN refused.
    ok("pin set (Windows)", &wine.run_with_stdin(&day, &["--db", "站.sqlite", "pin", "set"], "2468\n2468\n"));
    let wrong = wine.run_with_stdin(&day, &["--db", "站.sqlite", "pin", "set"], "1111\n1357\n1357\n");
    assert_eq!(wrong.status.code(), Some(1), "{}", String::from_utf8_lossy(&wrong.stderr));
    ok(
        "pin set with the current PIN (Windows)",
        &wine.run_with_stdin(&day, &["--db", "站.sqlite", "pin", "set"], "2468\n1357\n1357\n"),
    );
    ok("verify (Linux)", &linux(&day, &["--db", "站.sqlite", "verify"]));
}

#[test]
#[ignore = "needs the Windows build under Wine: scripts/windows.sh test"]
fn decode_and_photo_agree_with_the_linux_build() {
    let wine = wine();
    let (_tmp, day) = day_folder();
    std::fs::write(day.join("roster.csv"), ROSTER).unwrap();
    ok("codes (Linux)", &linux(&day, &["codes", "--roster", "roster.csv", "--out", "采集码"]));
    let pngs: Vec<String> = {
        let mut v: Vec<String> = std::fs::read_dir(day.join("采集码"))
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".png"))
            .map(|n| format!("采集码/{n}"))
            .collect();
        v.sort();
        v
    };
    assert_eq!(pngs.len(), 4);
    let mut args = vec!["decode", "--json"];
    args.extend(pngs.iter().map(String::as_str));
    let win = ok("decode (Windows)", &wine.run(&day, &args));
    let lin = ok("decode (Linux)", &linux(&day, &args));
    let strip = |text: &str| -> Vec<Value> {
        text.lines()
            .map(|l| {
                let mut v: Value = serde_json::from_str(l).unwrap();
                v.as_object_mut().unwrap().remove("file");
                v
            })
            .collect()
    };
    assert_eq!(strip(&win), strip(&lin), "the same codes read by both builds");
    assert!(strip(&win).iter().all(|v| v.get("error").is_none()), "{win}");
    // A file that is not an image: exit 1 on both.
    std::fs::write(day.join("not an image.png"), b"hello").unwrap();
    assert_eq!(wine.run(&day, &["decode", "not an image.png"]).status.code(), Some(1));
    // A usage error: exit 2, as on Linux.
    assert_eq!(wine.run(&day, &["decode", "--no-such-flag"]).status.code(), Some(2));

    // The photo checks on a real portrait: the same verdicts on both builds.
    let portrait = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/testdata/portraits/biden.jpg");
    std::fs::copy(&portrait, day.join("照片 1.jpg")).unwrap();
    let win = json("photo (Windows)", &wine.run(&day, &["photo", "--json", "--out", "出片", "照片 1.jpg"]));
    let lin = json("photo (Linux)", &linux(&day, &["photo", "--json", "--out", "out-linux", "照片 1.jpg"]));
    let verdicts = |v: &Value| -> Vec<(String, String)> {
        let checks = v.pointer("/checks").or_else(|| v.pointer("/0/checks")).cloned().unwrap_or(Value::Null);
        checks
            .as_array()
            .map(|a| a.iter().map(|c| (c["name"].to_string(), format!("{} {}", c["pass"], c["level"]))).collect())
            .unwrap_or_default()
    };
    assert!(!verdicts(&lin).is_empty(), "the photo output has checks: {lin}");
    assert_eq!(verdicts(&win), verdicts(&lin), "{win}\n{lin}");
    let delivered: Vec<_> = std::fs::read_dir(day.join("出片")).unwrap().flatten().map(|e| e.path()).collect();
    assert_eq!(delivered.len(), 1);
    let img = image::open(&delivered[0]).unwrap();
    assert_eq!((img.width(), img.height()), (480, 640));
}

#[test]
#[ignore = "needs the Windows build under Wine: scripts/windows.sh test"]
fn a_killed_export_leaves_nothing_under_a_final_name_and_a_rerun_completes() {
    let wine = wine();
    let (_tmp, day) = day_folder();
    json("simulate (Windows)", &wine.run(&day, &["--db", "站.sqlite", "simulate", "--students", "150"]));
    std::fs::create_dir_all(day.join("drive")).unwrap();
    let mut rng = 0x9e37_79b9_u32;
    for round in 0..3 {
        let mut child = wine
            .command(&day, &["--db", "站.sqlite", "export", "--to", "drive", "--full"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // Kill it once a few photos are on the drive, a little later each round.
        rng ^= rng << 13;
        rng ^= rng >> 17;
        rng ^= rng << 5;
        let wanted = 2 + (rng % 40) as usize;
        let started = Instant::now();
        loop {
            let written = partial_photos(&day.join("drive"));
            if written >= wanted || started.elapsed() > Duration::from_secs(60) {
                break;
            }
            if child.try_wait().unwrap().is_some() {
                break;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        if round % 2 == 0 {
            // TerminateProcess through Wine's own taskkill.
            let kill = Command::new(wine_tool("GRADCAP_WINE", "wine"))
                .args(["taskkill", "/F", "/IM", "gradcap.exe"])
                .env("WINEDEBUG", "-all")
                .output()
                .unwrap();
            let _ = kill;
            let _ = child.kill();
        } else {
            let _ = child.kill(); // SIGKILL to the process that is gradcap.exe
        }
        let _ = child.wait();
        // Wine's server lets go of the process's files before the next run.
        let _ = Command::new(wine_tool("GRADCAP_WINESERVER", "wineserver")).arg("-w").status();
        for name in bundles_in(&day.join("drive")) {
            if !name.ends_with(".partial") {
                ok(
                    "verify-bundle (Linux) of a finished bundle",
                    &linux(&day, &["verify-bundle", &format!("drive/{name}")]),
                );
            }
        }
        ok("verify (Linux) after the kill", &linux(&day, &["--db", "站.sqlite", "verify"]));
    }
    ok("export again (Windows)", &wine.run(&day, &["--db", "站.sqlite", "export", "--to", "drive", "--full"]));
    let finished: Vec<String> =
        bundles_in(&day.join("drive")).into_iter().filter(|n| !n.ends_with(".partial")).collect();
    assert!(!finished.is_empty());
    for name in finished {
        ok("verify-bundle (Linux)", &linux(&day, &["verify-bundle", &format!("drive/{name}")]));
    }
    ok("verify (Windows)", &wine.run(&day, &["--db", "站.sqlite", "verify"]));
}

fn partial_photos(drive: &Path) -> usize {
    std::fs::read_dir(drive)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with(".partial"))
        .map(|e| std::fs::read_dir(e.path().join("photos")).map(|d| d.count()).unwrap_or(0))
        .sum()
}

#[test]
#[ignore = "needs the Windows build under Wine: scripts/windows.sh test"]
fn the_data_folder_is_under_appdata_and_long_paths_work() {
    let wine = wine();
    let (_tmp, day) = day_folder();
    // No --db, no --data-dir: the station's folder under %APPDATA%.
    let prefix = PathBuf::from(std::env::var_os("WINEPREFIX").expect("WINEPREFIX: scripts/windows.sh test sets it"));
    // simulate's drill codes go to the training database beside the station's,
    // in %APPDATA%\gradcap\gradcap\data (the prefix may hold an earlier day).
    let data = prefix.join("drive_c/users").join(whoami_in_wine(&prefix)).join("AppData/Roaming/gradcap/gradcap/data");
    let db = data.join("gradcap-training.sqlite");
    let records = |db: &Path| -> i64 {
        rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .and_then(|c| c.query_row("SELECT COUNT(*) FROM records", [], |r| r.get(0)))
            .unwrap_or(0)
    };
    let before = records(&db);
    let out = json("simulate (Windows, default data folder)", &wine.run(&day, &["simulate", "--students", "2"]));
    assert_eq!(out["students"], 2);
    assert_eq!(records(&db), before + 2, "the default database is {}", db.display());
    ok("verify (Linux) of the %APPDATA% database", &linux(&day, &["--db", db.to_str().unwrap(), "verify"]));

    // --data-dir with a Windows path of more than 260 characters.
    let mut long = String::from("数据");
    while long.len() < 300 {
        long.push_str("\\很长的文件夹名称 long folder name");
    }
    let out = wine.run(&day, &["--data-dir", &long, "simulate", "--students", "2"]);
    json("simulate (Windows, a path over 260 characters)", &out);
    let unix_long = day.join(long.replace('\\', "/"));
    assert!(unix_long.join("gradcap-training.sqlite").is_file(), "the database is at the long path");
    let long_db = format!("{long}\\gradcap-training.sqlite");
    assert!(long_db.len() > 260, "{}", long_db.len());
    ok("verify (Windows, long path)", &wine.run(&day, &["--db", &long_db, "verify"]));
    ok("backup (Windows, long path)", &wine.run(&day, &["--db", &long_db, "backup", "--to", &format!("{long}\\备份")]));
}

/// The Wine user's folder name under `drive_c/users` (not `Public`).
fn whoami_in_wine(prefix: &Path) -> String {
    std::fs::read_dir(prefix.join("drive_c/users"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .find(|n| n != "Public")
        .expect("a Wine user folder")
}

#[test]
#[ignore = "needs the Windows build under Wine: scripts/windows.sh test"]
fn chinese_output_is_utf8_and_the_version_names_the_build() {
    let wine = wine();
    let (_tmp, day) = day_folder();
    let out = ok("--version (Windows)", &wine.run(&day, &["--version"]));
    assert!(out.starts_with("gradcap "), "{out}");
    let help = ok("--help (Windows)", &wine.run(&day, &["--help"]));
    assert!(help.contains("学历照片采集站"), "Chinese in the help, as UTF-8: {help}");
    // An error in both languages on stderr, exit 1.
    let err = wine.run(&day, &["--db", "missing-folder\\x\\y.sqlite", "verify"]);
    assert_eq!(err.status.code(), Some(1));
    let text = String::from_utf8(err.stderr).expect("stderr is UTF-8");
    assert!(text.contains("错误 / error"), "{text}");
}

/// The station's window, training on the demo camera, under Wine on `x`:
/// the process and the window's id, once it shows.
fn open_window(wine: &Wine, day: &Path, x: &Xvfb) -> (std::process::Child, String) {
    let mut station = wine
        .command(day, &["--data-dir", "数据", "--demo", "--exit-after", "150"])
        .env("DISPLAY", &x.display)
        .env("LIBGL_ALWAYS_SOFTWARE", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    let window = loop {
        let out = x.xdotool(&["search", "--onlyvisible", "--name", "gradcap"]);
        if let Some(id) = String::from_utf8_lossy(&out.stdout).lines().next().map(str::to_string) {
            break id;
        }
        if started.elapsed() > Duration::from_secs(90) || station.try_wait().unwrap().is_some() {
            let _ = station.kill();
            let out = station.wait_with_output().unwrap();
            panic!("the window did not appear under Wine:\n{}", String::from_utf8_lossy(&out.stderr));
        }
        std::thread::sleep(Duration::from_millis(250));
    };
    std::thread::sleep(Duration::from_secs(4));
    x.xdotool(&["windowfocus", &window]);
    (station, window)
}

/// One number from the training database of `day` (0 while it cannot be read).
fn count(day: &Path, sql: &str) -> i64 {
    let db = day.join("数据/gradcap-training.sqlite");
    rusqlite::Connection::open_with_flags(&db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .and_then(|c| c.query_row(sql, [], |r| r.get(0)))
        .unwrap_or(0)
}

/// Waits up to `secs` for `done`.
fn wait_for(secs: u64, mut done: impl FnMut() -> bool) -> bool {
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(secs) {
        if done() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    done()
}

/// The station's window under Wine + Xvfb (Wine's OpenGL on Mesa's software
/// rasteriser), 1366×768: it opens, training starts on the demo camera, and
/// capture codes typed into it as a scanner gun types them are read.
#[test]
#[ignore = "needs the Windows build under Wine: scripts/windows.sh test"]
fn the_window_opens_under_wine_and_reads_codes_typed_into_it() {
    let wine = wine();
    let (_tmp, day) = day_folder();
    std::fs::write(day.join("roster.csv"), ROSTER).unwrap();
    ok("codes (Linux)", &linux(&day, &["codes", "--roster", "roster.csv", "--out", "codes"]));
    let index = std::fs::read_to_string(day.join("codes/index.csv")).unwrap();
    let mut reader = csv::Reader::from_reader(index.as_bytes());
    let rows: Vec<(String, String)> = reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            (r[1].to_string(), r[8].trim_start_matches('\'').to_string())
        })
        .collect();
    assert_eq!(rows.len(), 4);

    let x = Xvfb::start(200, "1366x768x24");
    let (mut station, _window) = open_window(&wine, &day, &x);
    let db = day.join("数据/gradcap-training.sqlite");
    let scanned = || -> Vec<String> {
        let Ok(conn) = rusqlite::Connection::open_with_flags(&db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY) else {
            return Vec::new();
        };
        let Ok(mut stmt) = conn.prepare("SELECT xh FROM records ORDER BY id") else {
            return Vec::new();
        };
        stmt.query_map([], |r| r.get::<_, Option<String>>(0))
            .map(|rows| rows.flatten().flatten().collect())
            .unwrap_or_default()
    };
    // A code not read within 10 s is scanned again once, as a student would
    // (a burst split by a pause is lost today: issue 27, item 4).
    let mut rescans = 0;
    for (xh, payload) in &rows {
        for attempt in 0..2 {
            let out = x.xdotool(&["type", "--delay", "5", payload]);
            assert!(out.status.success(), "xdotool: {}", String::from_utf8_lossy(&out.stderr));
            x.xdotool(&["key", "Return"]);
            let waited = Instant::now();
            while !scanned().contains(xh) && waited.elapsed() < Duration::from_secs(10) {
                std::thread::sleep(Duration::from_millis(100));
            }
            if scanned().contains(xh) {
                break;
            }
            if attempt == 0 {
                rescans += 1;
            }
        }
    }
    eprintln!("codes typed into the Wine window: {} of {} read at the first scan", rows.len() - rescans, rows.len());
    let read = scanned();
    if let Some(shot) = std::env::var_os("GRADCAP_WINE_SCREENSHOT") {
        let _ = Command::new("import").args(["-window", "root"]).arg(shot).env("DISPLAY", &x.display).status();
    }
    let _ = station.kill();
    let out = station.wait_with_output().unwrap();
    for (xh, _) in &rows {
        assert!(
            read.contains(xh),
            "{xh} typed into the window was read: {read:?}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// Windows cannot replace a file another program holds open without
/// sharing its deletion (an antivirus scan, a backup tool): the witness,
/// replaced after every commit, is held by a Windows program for about two
/// seconds while the station commits, and every commit still lands.
#[test]
#[ignore = "needs the Windows build under Wine: scripts/windows.sh test"]
fn a_file_held_open_by_another_program_is_replaced_once_it_lets_go() {
    let wine = wine();
    let (_tmp, day) = day_folder();
    json("simulate (Windows)", &wine.run(&day, &["--db", "站.sqlite", "simulate", "--students", "2"]));
    let witness = day.join("站.sqlite.witness");
    assert!(witness.is_file(), "the witness beside the database");
    let before = std::fs::read(&witness).unwrap();
    // cmd.exe holds its input file open (read sharing only) while ping waits.
    let mut holder = Command::new(wine_tool("GRADCAP_WINE", "wine"))
        .args(["cmd", "/c", "ping -n 4 127.0.0.1 > nul < 站.sqlite.witness"])
        .current_dir(&day)
        .env("WINEDEBUG", "-all")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1200));
    // Proof that the file is held: Windows' own move over it fails now.
    std::fs::write(day.join("other.txt"), b"x").unwrap();
    let moved = Command::new(wine_tool("GRADCAP_WINE", "wine"))
        .args(["cmd", "/c", "copy /y other.txt probe.txt > nul && move /y probe.txt 站.sqlite.witness"])
        .current_dir(&day)
        .env("WINEDEBUG", "-all")
        .output()
        .unwrap();
    let held = !moved.status.success();
    let out = wine.run(&day, &["--db", "站.sqlite", "simulate", "--students", "3"]);
    let _ = holder.wait();
    assert!(held, "the holder did not hold the witness (the test proves nothing)");
    json("simulate (Windows) while the witness is held", &out);
    let after = std::fs::read(&witness).unwrap();
    assert_ne!(before, after, "the witness moved on");
    ok("verify (Linux)", &linux(&day, &["--db", "站.sqlite", "verify"]));
    ok("verify (Windows)", &wine.run(&day, &["--db", "站.sqlite", "verify"]));
    assert!(!day.join("站.sqlite.witness.partial").exists(), "no partial left");
}

/// The export view under Wine: a photo taken and accepted in the window,
/// the target folder typed into 目标文件夹 (what the 使用说明 tells the
/// operator), and 导出新照片 writes a bundle there that the Linux build
/// verifies while the station keeps scanning. Positions are the window's own
/// at 1366×768 (the tabs, the folder field, 浏览…, 导出新照片).
#[test]
#[ignore = "needs the Windows build under Wine: scripts/windows.sh test"]
fn the_export_view_exports_to_a_typed_folder_under_wine() {
    export_view_day(false);
}

/// The open fault, reproduced: the 浏览… folder dialog (the shell's, through
/// rfd) opened, cancelled from its own button, and the window stops under
/// Wine + Xvfb (its main thread inside Wine's PeekMessage, which loops on an
/// internal message; README, "Known under Wine"). Run only with
/// GRADCAP_WINE_KNOWN_FAULTS=1 until it is fixed: then the dialog is opened
/// and cancelled twice, a folder chosen in it, and the export lands there.
#[test]
#[ignore = "needs the Windows build under Wine: scripts/windows.sh test"]
fn known_wine_fault_the_folder_dialog_stops_the_window() {
    if std::env::var_os("GRADCAP_WINE_KNOWN_FAULTS").is_none() {
        eprintln!("not run: an open fault under Wine (set GRADCAP_WINE_KNOWN_FAULTS=1 to reproduce it)");
        return;
    }
    export_view_day(true);
}

/// A day in the window up to an export from the export view, the folder
/// typed (`dialogs` false) or chosen in the folder dialog.
fn export_view_day(dialogs: bool) {
    let wine = wine();
    let (_tmp, day) = day_folder();
    let usb_tmp = tempfile::tempdir().unwrap();
    let usb = usb_tmp.path().join("usb");
    std::fs::create_dir(&usb).unwrap();
    let x = Xvfb::start(230, "1366x768x24");
    let (mut station, window) = open_window(&wine, &day, &x);
    let click = |at: (u32, u32)| {
        x.xdotool(&["mousemove", "--window", &window, &at.0.to_string(), &at.1.to_string(), "click", "1"]);
        std::thread::sleep(Duration::from_millis(800));
    };
    let dialog = || -> Option<String> {
        let out = x.xdotool(&["search", "--onlyvisible", "--name", "Select Folder"]);
        String::from_utf8_lossy(&out.stdout).lines().next().map(str::to_string)
    };
    let fail = |station: &mut std::process::Child, what: &str| -> ! {
        if let Some(shot) = std::env::var_os("GRADCAP_WINE_SCREENSHOT") {
            let _ = Command::new("import").args(["-window", "root"]).arg(shot).env("DISPLAY", &x.display).status();
        }
        let _ = station.kill();
        panic!("{what}");
    };
    let (shoot_tab, export_tab, folder_field, browse, export_new) =
        ((24, 61), (169, 61), (320, 134), (594, 134), (41, 176));
    // The dialog's buttons (Wine opens it at the window's corner).
    let (open, cancel) = ((561, 473), (622, 473));

    // A student scanned from the demo camera, photographed and accepted.
    if !wait_for(60, || count(&day, "SELECT count(*) FROM records") >= 1) {
        fail(&mut station, "the demo camera's first student was scanned");
    }
    click(shoot_tab);
    x.xdotool(&["windowfocus", &window]);
    x.xdotool(&["key", "space"]);
    if !wait_for(30, || count(&day, "SELECT count(*) FROM takes") >= 1) {
        fail(&mut station, "Space took a photo");
    }
    std::thread::sleep(Duration::from_secs(2));
    x.xdotool(&["key", "Return"]);
    if !wait_for(30, || count(&day, "SELECT count(*) FROM records WHERE status = 'photographed'") >= 1) {
        fail(&mut station, "Enter accepted the photo");
    }

    click(export_tab);
    let typed = format!("Z:{}", usb.display().to_string().replace('/', "\\"));
    if !dialogs {
        click(folder_field);
        x.xdotool(&["key", "ctrl+a"]);
        x.xdotool(&["type", "--delay", "20", &typed]);
        std::thread::sleep(Duration::from_millis(500));
    }
    for round in 0..if dialogs { 3 } else { 0 } {
        click(browse);
        if !wait_for(30, || dialog().is_some()) {
            let before = count(&day, "SELECT count(*) FROM records");
            let scanning = wait_for(15, || count(&day, "SELECT count(*) FROM records") > before);
            fail(
                &mut station,
                &format!("浏览… opened the folder dialog (round {round}); the station scans on: {scanning}"),
            );
        }
        let before = count(&day, "SELECT count(*) FROM records");
        if !wait_for(15, || count(&day, "SELECT count(*) FROM records") > before) {
            fail(&mut station, "the station scanned on while the dialog was open");
        }
        // A click into its file-name field, as the operator's would (Wine
        // puts the dialog where the window is: the same corner).
        click((452, 445));
        if round < 2 {
            click(cancel);
        } else {
            x.xdotool(&["type", "--delay", "20", &typed]);
            std::thread::sleep(Duration::from_millis(500));
            click(open);
        }
        if !wait_for(15, || dialog().is_none()) {
            fail(&mut station, &format!("the dialog closed (round {round})"));
        }
        let before = count(&day, "SELECT count(*) FROM records");
        if !wait_for(15, || count(&day, "SELECT count(*) FROM records") > before) {
            fail(&mut station, &format!("the station scanned on after the dialog closed (round {round})"));
        }
    }
    click(export_new);
    let bundle = || bundles_in(&usb).into_iter().find(|b| usb.join(b).join("SHA256SUMS").is_file());
    if !wait_for(60, || bundle().is_some()) {
        fail(&mut station, "导出新照片 wrote a bundle into the folder chosen in the dialog");
    }
    let before = count(&day, "SELECT count(*) FROM records");
    if !wait_for(15, || count(&day, "SELECT count(*) FROM records") > before) {
        fail(&mut station, "the station scanned on after the export");
    }
    let _ = station.kill();
    let _ = station.wait();
    let name = bundle().unwrap();
    let report = json("verify-bundle (Linux)", &linux(&usb, &["verify-bundle", &name, "--json"]));
    assert_eq!(report["findings"].as_array().unwrap().len(), 0, "{report}");
    assert_eq!(report["records"], 1, "the one accepted student: {report}");
}
