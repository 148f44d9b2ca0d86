//! The assistants' sign-in check through the real binary and the real window
//! code: roster and schedule import (GBK CSV, xlsx, bad files), the report's
//! JSON contract, the PDFs, and the read-only assistants' view.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::process::{Command, Output};

use egui_kittest::kittest::Queryable;
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_gradcap");

fn run(db: &Path, args: &[&str]) -> Output {
    Command::new(BIN).arg("--db").arg(db).args(args).env_remove("GRADCAP_DATA_DIR").output().unwrap()
}

fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "exit {:?}\n{}\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Seed 000/004-style classes and head counts, clear names as the office sends them.
const ROSTER: &str = "学号,姓名,身份证号,班级,学院,专业,层次
0021010101,欧阳娜娜,36010219990101123X,法学 2101,法学院,法学,本科
0021010102,王喆,440304199003072515,法学 2101,法学院,法学,本科
0021010103,张三丰,110105194912310021,法学 2101,法学院,法学,本科
0021010201,阿依古丽·买买提,650102200001011234,汉语言文学(公费师范)2101,文学院,汉语言文学,本科
0020010101,司马相如,440304199003071234,20数（1）,数学学院,数学,专科
";

fn gbk_roster(dir: &Path) -> std::path::PathBuf {
    let (bytes, _, bad) = encoding_rs::GBK.encode(ROSTER);
    assert!(!bad);
    let path = dir.join("名单.csv");
    std::fs::write(&path, bytes).unwrap();
    path
}

#[test]
fn roster_import_from_gbk_and_xlsx_and_the_report_contract() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("station.sqlite");
    let roster = gbk_roster(dir.path());
    let out = ok(&run(&db, &["roster", "import", roster.to_str().unwrap()]));
    assert!(out.contains("5 新增 added"), "{out}");

    // An xlsx roster of another class, 学号 stored as numbers.
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    for (c, h) in ["学号", "姓名", "班级"].iter().enumerate() {
        sheet.write_string(0, c as u16, *h).unwrap();
    }
    sheet.write_number(1, 0, 2021020101.0).unwrap();
    sheet.write_string(1, 1, "赵赟堃").unwrap();
    sheet.write_string(1, 2, "法学 2102").unwrap();
    let xlsx = dir.path().join("法学2102.xlsx");
    book.save(&xlsx).unwrap();
    ok(&run(&db, &["roster", "import", xlsx.to_str().unwrap()]));

    // Photograph the first students of 法学 2101 through the whole pipeline.
    let roster_utf8 = dir.path().join("roster-utf8.csv");
    std::fs::write(&roster_utf8, ROSTER).unwrap();
    ok(&run(
        &db,
        &[
            "simulate",
            "--students",
            "2",
            "--roster",
            roster_utf8.to_str().unwrap(),
            "--station",
            "2",
            "--school-code",
            "10697",
            "--seed",
            "5",
        ],
    ));

    let json: Value = serde_json::from_str(&ok(&run(&db, &["report", "--json"]))).unwrap();
    let classes = json["classes"].as_array().unwrap();
    assert_eq!(classes.len(), 4);
    let law = classes.iter().find(|c| c["class"] == "法学 2101").unwrap();
    for key in ["class", "expected", "scanned", "photographed", "skipped", "missing", "missing_students"] {
        assert!(law.get(key).is_some(), "{key} in {law}");
    }
    assert_eq!(law["expected"], 3);
    assert_eq!(law["scanned"], 2);
    let photographed = law["photographed"].as_u64().unwrap();
    let skipped = law["skipped"].as_u64().unwrap();
    assert_eq!(photographed + skipped, 2);
    assert_eq!(law["missing"].as_u64().unwrap(), 3 - photographed);
    assert!(law["missing_students"].as_array().unwrap().iter().any(|m| m["xh"] == "0021010103" && m["xm"] == "张*丰"));
    let x2102 = classes.iter().find(|c| c["class"] == "法学 2102").unwrap();
    assert_eq!(x2102["missing_students"][0]["xh"], "2021020101", "a numeric 学号 reads back as text");
    assert_eq!(x2102["missing_students"][0]["xm"], "赵*堃");
    assert!(json["unmatched"].as_array().unwrap().is_empty());

    let one: Value = serde_json::from_str(&ok(&run(&db, &["report", "--json", "--class", "20数（1）"]))).unwrap();
    assert_eq!(one["classes"].as_array().unwrap().len(), 1);
    assert_eq!(run(&db, &["report", "--class", "no such class"]).status.code(), Some(1));

    // Nothing clear was stored.
    let bytes = std::fs::read(&db).unwrap();
    let text = String::from_utf8_lossy(&bytes);
    for clear in ["欧阳娜娜", "王喆", "张三丰", "司马相如", "赵赟堃", "36010219990101123X", "650102200001011234"]
    {
        assert!(!text.contains(clear), "{clear} is in the database");
    }
    ok(&run(&db, &["verify"]));

    // PDFs: a reconciliation sheet per class, and a class register.
    let sheets = dir.path().join("sheets");
    ok(&run(&db, &["report", "--pdf", sheets.to_str().unwrap()]));
    let pdf = sheets.join("法学 2101-核对单.pdf");
    assert!(std::fs::read(&pdf).unwrap().starts_with(b"%PDF"));
    let register = dir.path().join("register.pdf");
    let out = ok(&run(&db, &["register", "--class", "法学 2101", "--pdf", register.to_str().unwrap()]));
    assert!(out.contains("3 人"), "the whole roster: {out}");
    let blank = dir.path().join("register-blank.pdf");
    let out = ok(&run(&db, &["register", "--class", "法学 2101", "--pdf", blank.to_str().unwrap(), "--blank"]));
    assert!(out.contains("3 人"), "{out}");
    match Command::new("pdftotext").arg(&register).arg("-").output() {
        Ok(text) if text.status.success() => {
            let text = String::from_utf8_lossy(&text.stdout).replace(char::is_whitespace, "");
            assert!(text.contains("欧**娜") && text.contains("2-0001") && text.contains("签名"), "{text}");
            assert!(text.contains("状态") && text.contains("未扫码/notscanned"), "numbers and status: {text}");
            assert!(text.contains("张*丰"), "a student not scanned is on the register: {text}");
            let form = Command::new("pdftotext").arg(&blank).arg("-").output().unwrap();
            let form = String::from_utf8_lossy(&form.stdout).replace(char::is_whitespace, "");
            assert!(form.contains("张*丰") && form.contains("欧**娜") && form.contains("签名"), "{form}");
            assert!(!form.contains("2-0001") && !form.contains("状态"), "the form before sign-in is blank: {form}");
            let sheet = Command::new("pdftotext").arg(&pdf).arg("-").output().unwrap();
            let sheet = String::from_utf8_lossy(&sheet.stdout).replace(char::is_whitespace, "");
            assert!(sheet.contains("张*丰"), "the missing student is on the sheet: {sheet}");
            assert!(sheet.contains("未扫码/notscanned"), "with why (备注): {sheet}");
        }
        _ => {
            assert!(std::env::var_os("CI").is_none(), "CI must install poppler-utils (.ci/run does)");
            eprintln!("skipped the text check: pdftotext is not installed");
        }
    }
}

#[test]
fn a_bad_roster_is_refused_whole_unless_valid_rows_only() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("station.sqlite");
    let bad = dir.path().join("bad.csv");
    std::fs::write(
        &bad,
        "学号,姓名,班级\n1,张三,法学 2101\n1,李四,法学 2101\n2,王,法学 2101\n3,赵六\n4,钱七,法学 2101\n",
    )
    .unwrap();
    let out = run(&db, &["roster", "import", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("第 3 行") && err.contains("row 3") && err.contains("第 4 行") && err.contains("第 5 行"),
        "{err}"
    );
    // Nothing from that file was imported: the file is refused before anything is written.
    assert!(!db.exists());

    let out = ok(&run(&db, &["roster", "import", "--valid-rows-only", bad.to_str().unwrap()]));
    assert!(out.contains("2 新增 added"), "{out}");
    assert!(out.contains("row 3") && out.contains("row 4") && out.contains("row 5"), "{out}");
    let json: Value = serde_json::from_str(&ok(&run(&db, &["report", "--json"]))).unwrap();
    assert_eq!(json["classes"][0]["expected"], 2);
    ok(&run(&db, &["verify"]));

    for (name, bytes) in [
        ("empty.csv", b"".to_vec()),
        ("photo.xlsx", b"PK\x03\x04 not a workbook".to_vec()),
        ("headers.csv", b"a,b,c\n1,2,3\n".to_vec()),
    ] {
        let p = dir.path().join(name);
        std::fs::write(&p, bytes).unwrap();
        let out = run(&db, &["roster", "import", p.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(1), "{name}");
        assert!(String::from_utf8_lossy(&out.stderr).contains(" / "), "{name}: bilingual message");
    }
}

#[test]
fn schedule_import_and_the_assistants_window() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("station.sqlite");
    let roster = gbk_roster(dir.path());
    ok(&run(&db, &["roster", "import", roster.to_str().unwrap()]));
    let today = chrono::Local::now().format("%Y-%m-%d").to_string();
    let schedule = dir.path().join("日程.csv");
    std::fs::write(
        &schedule,
        format!("班级,日期,时间段,机位,人数\n法学 2101,{today},00:00-23:59,1,3\n20数（1）,{today},23:59-23:59,1,1\n"),
    )
    .unwrap();
    let out = ok(&run(&db, &["schedule", "import", schedule.to_str().unwrap()]));
    assert!(out.contains("2 新增 added"), "{out}");
    let bad = dir.path().join("bad-schedule.csv");
    std::fs::write(&bad, "班级,日期,时间段,机位\n法学 2101,明天,9:00-9:50,1\n").unwrap();
    assert_eq!(run(&db, &["schedule", "import", bad.to_str().unwrap()]).status.code(), Some(1));

    // The window: the current class from the schedule, its banner and its missing students.
    let store = gradcap::store::Store::open_read_only(&db).unwrap();
    let mut h = egui_kittest::Harness::builder().with_size(egui::vec2(1100.0, 800.0)).build_eframe(move |cc| {
        gradcap::ui::assist::AssistApp::new(
            &cc.egui_ctx,
            store,
            "1",
            &today,
            gradcap::settings::Language::Chinese,
            false,
        )
    });
    h.step();
    h.step();
    assert!(h.query_all_by_label_contains("法学 2101  3 人未拍").next().is_some(), "the current class and its banner");
    assert!(h.query_all_by_label_contains("张*丰").next().is_some(), "a missing student is listed");
    assert!(h.query_all_by_label_contains("当前班级: 法学 2101").next().is_some());
    assert!(h.query_all_by_label_contains("作废").next().is_none(), "nothing in it changes data");
}

/// Issue 11: the search by 学号 gives five distinct answers.
#[test]
fn the_search_by_student_number_says_photographed_waiting_skipped_not_scanned_or_not_on_a_roster() {
    use gradcap::code::drill::DrillStudent;
    use gradcap::settings::Language;
    use gradcap::station::{Event, Station, StationConfig};
    use gradcap::ui::assist::search_answer;
    let mut store = gradcap::store::Store::open_in_memory_training().unwrap();
    let rows: Vec<gradcap::roster::RosterEntry> = ["0021010101", "0021010102", "0021010103", "0021010104"]
        .iter()
        .map(|xh| gradcap::roster::RosterEntry::example(xh, "欧**娜", "法学 2101"))
        .collect();
    store.import_roster(&rows, "roster.csv", "2026-06-01T09:00:00+08:00").unwrap();
    let info = gradcap::store::SessionInfo {
        school_name: String::new(),
        school_code: "10697".into(),
        station: "2".into(),
        date: "2026-06-01".into(),
        operator: String::new(),
    };
    let mut st = Station::open(store, &info, StationConfig::default()).unwrap();
    let code = |xh: &str| {
        let mut s = DrillStudent::example(xh);
        s.class = "法学 2101".into();
        s.example_payload()
    };
    for xh in ["0021010101", "0021010102", "0021010103", "0099999999"] {
        st.handle(Event::CodeScanned { text: code(xh), frame: None }).unwrap();
    }
    gradcap::station::shutter::shoot_inline(&mut st, gradcap::camera::synth::portrait(960, 720, 1)).unwrap();
    st.handle(Event::Accept).unwrap();
    st.handle(Event::Skip { reason: "未到 / no-show".into() }).unwrap();
    let report = st.store().report(None).unwrap();
    let en = |xh: &str| search_answer(&report, xh, Language::English);
    assert!(en("0021010101").contains("photographed as 2-0001 at "), "{}", en("0021010101"));
    assert!(en("0021010102").contains("skipped (未到 / no-show), number 2-0002"), "{}", en("0021010102"));
    assert!(en("0021010103").contains("waiting as 2-0003"), "{}", en("0021010103"));
    assert!(en("0021010104").contains("not scanned"), "{}", en("0021010104"));
    assert!(en("0099999999").contains("not on any roster (scanned as 2-0004)"), "{}", en("0099999999"));
    assert!(en("0000000000").ends_with("not on any roster"), "{}", en("0000000000"));
    let zh = search_answer(&report, "0021010101", Language::Chinese);
    assert!(zh.contains("已拍：序号 2-0001"), "{zh}");
}
