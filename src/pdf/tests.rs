//! The engine and the two documents, read back with poppler where it is installed.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::font::FontCtx;
use super::*;
use std::path::{Path, PathBuf};
use std::process::Command;

const FONT_PATH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/assets/fonts/GradcapSansSC-Regular.otf");

fn font() -> Vec<u8> {
    std::fs::read(FONT_PATH).expect("read font")
}

fn header() -> RegisterHeader {
    RegisterHeader {
        school: "法学院 / Law School".into(),
        class: "法学 2101".into(),
        station: "机位 2".into(),
        date: "2025-06-03".into(),
    }
}

const NAMES: [&str; 5] = ["欧**娜", "阿***·**提", "李*", "王*", "张*丰"];
const CLASSES: [&str; 3] = ["法学 2101", "汉语言文学(公费师范)2101", "20数（1）"];

fn rows(n: usize) -> Vec<RegisterRow> {
    (1..=n)
        .map(|i| RegisterRow {
            seq: format!("2-{i:04}"),
            xh: format!("2021{:08}", 10_000 + i),
            xm: NAMES[(i - 1) % NAMES.len()].into(),
            class: CLASSES[(i - 1) % CLASSES.len()].into(),
            status: String::new(),
        })
        .collect()
}

fn reconciliation(missing: usize) -> Reconciliation {
    Reconciliation {
        header: header(),
        expected: 75,
        scanned: 72,
        photographed: 70,
        skipped: 2,
        missing: (0..missing)
            .map(|i| MissingStudent {
                xh: format!("2021{:08}", 20_000 + i),
                xm: NAMES[i % NAMES.len()].into(),
                note: if i % 2 == 0 {
                    "跳过：身体不适 / skipped: unwell".into()
                } else {
                    "未扫码 / not scanned".into()
                },
            })
            .collect(),
        unmatched: Vec::new(),
        first_capture: "2025-06-03 08:31:05".into(),
        last_capture: "2025-06-03 11:02:44".into(),
    }
}

/// Page count from the page tree (`/Count n` of the `/Pages` node).
fn page_count(pdf: &[u8]) -> usize {
    let text = String::from_utf8_lossy(pdf);
    let at = text.find("/Type /Pages").expect("page tree");
    let rest = &text[at..];
    let at = rest.find("/Count ").expect("count");
    rest[at + 7..].chars().take_while(char::is_ascii_digit).collect::<String>().parse().expect("count number")
}

fn out_dir() -> PathBuf {
    let dir = std::env::temp_dir().join("gradcap-pdf-tests");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn have(tool: &str) -> bool {
    Command::new(tool).arg("-v").output().is_ok()
}

fn pdftotext(path: &Path) -> Option<String> {
    if !have("pdftotext") {
        eprintln!("pdftotext not found (apt-get install -y poppler-utils); skipping text round-trip");
        return None;
    }
    let out = Command::new("pdftotext").args(["-layout", "-enc", "UTF-8"]).arg(path).arg("-").output().unwrap();
    assert!(out.status.success(), "pdftotext failed: {}", String::from_utf8_lossy(&out.stderr));
    Some(String::from_utf8(out.stdout).unwrap())
}

/// Whether `needle` occurs in `text`, ignoring whitespace: pdftotext drops
/// the narrow spaces between CJK characters and digits ("第 3 页" -> "第3页").
fn has(text: &str, needle: &str) -> bool {
    let squash = |s: &str| s.chars().filter(|c| !c.is_whitespace()).collect::<String>();
    squash(text).contains(&squash(needle))
}

/// Page 1 as a PNG next to the PDF, for looking at (needs pdftoppm).
fn preview(path: &Path) {
    if !have("pdftoppm") {
        eprintln!("pdftoppm not found; no PNG preview");
        return;
    }
    let prefix = path.with_extension("");
    let status = Command::new("pdftoppm")
        .args(["-png", "-r", "60", "-f", "1", "-l", "1", "-singlefile"])
        .arg(path)
        .arg(&prefix)
        .status()
        .unwrap();
    assert!(status.success());
}

#[test]
fn register_75_rows() {
    let font = font();
    let rows = rows(75);
    let pdf = register_pdf(&header(), &rows, &font).unwrap();
    assert!(pdf.starts_with(b"%PDF"));
    assert_eq!(REGISTER_ROWS_PER_PAGE, 26);
    assert_eq!(page_count(&pdf), 3);
    assert!(pdf.len() < 1_000_000, "register is {} bytes", pdf.len());
    eprintln!("register: {} bytes, {} pages", pdf.len(), page_count(&pdf));

    let path = out_dir().join("register.pdf");
    std::fs::write(&path, &pdf).unwrap();
    preview(&path);
    if let Some(text) = pdftotext(&path) {
        for needle in [
            "欧**娜",
            "阿***·**提",
            "2-0075",
            "2-0001",
            "签名",
            "汉语言文学(公费师范)2101",
            "20数（1）",
            "第 3 页 / 共 3 页",
            "学历照片采集登记表",
        ] {
            assert!(has(&text, needle), "{needle:?} not in text:\n{text}");
        }
    }
}

#[test]
fn register_is_deterministic_and_small_sets_are_small() {
    let font = font();
    let a = register_pdf(&header(), &rows(3), &font).unwrap();
    let b = register_pdf(&header(), &rows(3), &font).unwrap();
    assert_eq!(a, b);
    assert_eq!(page_count(&a), 1);
    assert!(a.len() < 200_000, "{} bytes", a.len());
}

#[test]
fn register_without_rows_has_one_page() {
    let pdf = register_pdf(&header(), &[], &font()).unwrap();
    assert_eq!(page_count(&pdf), 1);
}

#[test]
fn reconciliation_sheet() {
    let font = font();
    let pdf = reconciliation_pdf(&reconciliation(5), &font).unwrap();
    assert!(pdf.starts_with(b"%PDF"));
    assert_eq!(page_count(&pdf), 1);
    assert!(pdf.len() < 1_000_000);
    eprintln!("reconciliation: {} bytes, {} pages", pdf.len(), page_count(&pdf));

    let path = out_dir().join("reconciliation.pdf");
    std::fs::write(&path, &pdf).unwrap();
    preview(&path);
    if let Some(text) = pdftotext(&path) {
        for needle in [
            "应拍",
            "已扫码",
            "未到",
            "欧**娜",
            "202100020000",
            "摄影师 / Photographer",
            "学院老师 / Teacher",
            "08:31:05",
            "11:02:44",
            "第 1 页 / 共 1 页",
        ] {
            assert!(has(&text, needle), "{needle:?} not in text:\n{text}");
        }
    }
}

#[test]
fn reconciliation_with_many_missing_spans_pages() {
    let font = font();
    let pdf = reconciliation_pdf(&reconciliation(60), &font).unwrap();
    let pages = page_count(&pdf);
    assert!(pages >= 2, "{pages} pages");
    let path = out_dir().join("reconciliation-60.pdf");
    std::fs::write(&path, &pdf).unwrap();
    if let Some(text) = pdftotext(&path) {
        assert!(has(&text, "202100020059"));
        assert!(has(&text, &format!("第 {pages} 页 / 共 {pages} 页")));
        assert!(has(&text, "学院老师 / Teacher"));
    }
}

#[test]
fn missing_characters_become_question_marks() {
    // U+2A6D6 (CJK Ext. B) is not in the font.
    let rows = vec![RegisterRow {
        seq: "1-0001".into(),
        xh: "1".into(),
        xm: "王\u{2A6D6}".into(),
        class: "x".into(),
        ..Default::default()
    }];
    let pdf = register_pdf(&header(), &rows, &font()).unwrap();
    assert!(pdf.starts_with(b"%PDF"));
    let path = out_dir().join("missing-glyph.pdf");
    std::fs::write(&path, &pdf).unwrap();
    if let Some(text) = pdftotext(&path) {
        assert!(has(&text, "王?"), "{text}");
    }
}

#[test]
fn sixty_distinct_full_names_stay_small() {
    // Worst case for the subset: 60 unmasked names, ~180 different hanzi.
    let rows: Vec<RegisterRow> = (0..60u32)
        .map(|i| {
            let name: String = (0..3).filter_map(|k| char::from_u32(0x4E00 + 97 * (3 * i + k) + 13)).collect();
            RegisterRow {
                seq: format!("3-{:04}", i + 1),
                xh: format!("2022{:08}", i),
                xm: name,
                class: CLASSES[i as usize % CLASSES.len()].into(),
                ..Default::default()
            }
        })
        .collect();
    let pdf = register_pdf(&header(), &rows, &font()).unwrap();
    eprintln!("60 distinct names: {} bytes, {} pages", pdf.len(), page_count(&pdf));
    assert_eq!(page_count(&pdf), 3);
    assert!(pdf.len() < 300_000, "{} bytes", pdf.len());
}

#[test]
fn truetype_fonts_work_too() {
    let path = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";
    let Ok(ttf) = std::fs::read(path) else {
        eprintln!("{path} not found; skipping the TrueType test");
        return;
    };
    let rows = vec![RegisterRow {
        seq: "1-0001".into(),
        xh: "2021001".into(),
        xm: "Zoë Müller".into(),
        class: "Law 2101".into(),
        ..Default::default()
    }];
    let pdf = register_pdf(&header(), &rows, &ttf).unwrap();
    assert!(pdf.len() < 100_000, "{} bytes", pdf.len());
    let out = out_dir().join("truetype.pdf");
    std::fs::write(&out, &pdf).unwrap();
    if let Some(text) = pdftotext(&out) {
        assert!(has(&text, "Zoë Müller"), "{text}");
        assert!(has(&text, "2021001"), "{text}");
    }
}

#[test]
fn overlong_cells_shrink_then_get_an_ellipsis() {
    let rows = vec![RegisterRow {
        seq: "1-0001".into(),
        xh: "2021001".into(),
        xm: "阿卜杜热合曼***·**买买提艾力".into(),
        class: "汉语言文学(公费师范)(中外合作办学)2101班第一组".into(),
        ..Default::default()
    }];
    let pdf = register_pdf(&header(), &rows, &font()).unwrap();
    let path = out_dir().join("overlong.pdf");
    std::fs::write(&path, &pdf).unwrap();
    if let Some(text) = pdftotext(&path) {
        assert!(text.contains('…'), "{text}");
        assert!(has(&text, "汉语言文学(公费师范)"), "{text}");
    }
}

#[test]
fn bad_font_is_an_error() {
    let err = register_pdf(&header(), &rows(1), b"not a font").unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("字体") && msg.contains("font"), "{msg}");
}

/// `img` as a file of `format`, in memory.
fn encoded(img: impl Into<image::DynamicImage>, format: image::ImageFormat) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    img.into().write_to(&mut out, format).unwrap();
    out.into_inner()
}

fn jpeg_of(img: &image::RgbImage) -> Vec<u8> {
    encoded(img.clone(), image::ImageFormat::Jpeg)
}

/// Poppler's tools, required on CI (which installs them), skipped elsewhere without.
fn poppler(tool: &str) -> bool {
    if have(tool) {
        return true;
    }
    assert!(std::env::var_os("CI").is_none(), "{tool} is missing on CI (poppler-utils)");
    eprintln!("{tool} not found (apt-get install -y poppler-utils); skipping");
    false
}

#[test]
fn a_jpeg_is_placed_as_it_is_and_prints_where_it_was_put() {
    let font = font();
    // A red picture with a blue top half: the reader must not flip it.
    let img =
        image::RgbImage::from_fn(40, 60, |_, y| if y < 30 { image::Rgb([0, 0, 255]) } else { image::Rgb([255, 0, 0]) });
    let bytes = jpeg_of(&img);
    let jpeg = Jpeg::new(bytes.clone()).unwrap();
    assert_eq!(jpeg.size(), (40, 60));
    let mut images = Images::default();
    let photo = images.add(jpeg);
    let mut f = FontCtx::new(&font).unwrap();
    let mut c = Content::new();
    draw_title(&mut f, &mut c, "照片", "Photo");
    // 2 × 3 inches at (1 in, 1 in) from the lower left corner.
    images.draw(&mut c, photo, 72.0, 72.0, 144.0, 216.0);
    let pdf = finish_document(f, vec![c], &images, "photo").unwrap();
    assert!(pdf.windows(bytes.len()).any(|w| w == bytes.as_slice()), "the JPEG's bytes, unchanged");
    assert!(String::from_utf8_lossy(&pdf).contains("/DCTDecode"));
    let path = out_dir().join("image.pdf");
    std::fs::write(&path, &pdf).unwrap();

    if poppler("pdfimages") {
        let out = Command::new("pdfimages").arg("-list").arg(&path).output().unwrap();
        let list = String::from_utf8_lossy(&out.stdout);
        let rows: Vec<Vec<&str>> = list.lines().skip(2).map(|l| l.split_whitespace().collect()).collect();
        assert_eq!(rows.len(), 1, "{list}");
        // page num type width height color comp bpc enc ...
        assert_eq!(&rows[0][3..9], ["40", "60", "rgb", "3", "8", "jpeg"], "{list}");
    }
    if poppler("pdftoppm") {
        // 72 dpi: one pixel a point; the page is 842 points high.
        let prefix = out_dir().join("image-page");
        let status = Command::new("pdftoppm")
            .args(["-r", "72", "-singlefile", "-png"])
            .arg(&path)
            .arg(&prefix)
            .status()
            .unwrap();
        assert!(status.success());
        let page = image::open(prefix.with_extension("png")).unwrap().to_rgb8();
        let at = |x: u32, y_from_bottom: u32| page.get_pixel(x, page.height() - y_from_bottom).0;
        let near = |p: [u8; 3], q: [u8; 3]| p.iter().zip(q).all(|(a, b)| a.abs_diff(b) < 60);
        assert!(near(at(144, 72 + 54), [255, 0, 0]), "the lower half red: {:?}", at(144, 126));
        assert!(near(at(144, 72 + 162), [0, 0, 255]), "the upper half blue: {:?}", at(144, 234));
        assert!(near(at(40, 40), [255, 255, 255]), "white outside the box: {:?}", at(40, 40));
        assert!(near(at(230, 150), [255, 255, 255]), "white right of the box: {:?}", at(230, 150));
    }
}

#[test]
fn only_an_8_bit_grey_or_colour_jpeg_is_taken_and_broken_bytes_never_panic() {
    let grey = encoded(image::GrayImage::from_pixel(8, 5, image::Luma([90])), image::ImageFormat::Jpeg);
    assert_eq!(Jpeg::new(grey.clone()).unwrap().size(), (8, 5));
    let png = encoded(image::GrayImage::from_pixel(8, 5, image::Luma([90])), image::ImageFormat::Png);
    let e = Jpeg::new(png).unwrap_err();
    assert!(matches!(e, PdfError::Image(_)));
    assert!(crate::text::Bilingual::text(&e).en.contains("not a JPEG"));
    // Every truncation and a run of corrupted bytes: an error or a size, never a panic.
    let rgb = jpeg_of(&image::RgbImage::from_pixel(16, 16, image::Rgb([1, 2, 3])));
    for cut in 0..rgb.len().min(400) {
        let _ = Jpeg::new(rgb[..cut].to_vec());
    }
    let mut state = 0x9E37_79B9_u32;
    for _ in 0..2000 {
        let mut bytes = rgb.clone();
        for _ in 0..4 {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            let at = 2 + (state as usize) % 200.min(bytes.len() - 2);
            bytes[at] = (state >> 8) as u8;
        }
        let _ = Jpeg::new(bytes);
    }
    // Lossless (SOF3) and arithmetic-coded (SOF9) JPEGs: refused, readers do not show them.
    for sof in [0xC3u8, 0xC9] {
        let mut other = rgb.clone();
        let at = other.windows(2).position(|w| w == [0xFF, 0xC0]).unwrap();
        other[at + 1] = sof;
        assert!(matches!(Jpeg::new(other), Err(PdfError::Image(_))), "SOF {sof:#x}");
    }
    // A zero-size frame header is refused.
    let mut zero = rgb.clone();
    let sof = zero.windows(2).position(|w| w == [0xFF, 0xC0]).unwrap();
    zero[sof + 5..sof + 9].copy_from_slice(&[0, 0, 0, 0]);
    assert!(Jpeg::new(zero).is_err());
}

/// The text of page `page` only.
fn page_text(path: &Path, page: usize) -> Option<String> {
    if !have("pdftotext") {
        return None;
    }
    let n = page.to_string();
    let out =
        Command::new("pdftotext").args(["-f", &n, "-l", &n, "-enc", "UTF-8"]).arg(path).arg("-").output().unwrap();
    Some(String::from_utf8(out.stdout).unwrap())
}

#[test]
fn a_register_after_capture_has_a_status_column_and_the_form_before_sign_in_none() {
    let mut after = rows(3);
    after[0].status = "已拍 / photographed".into();
    after[1].status = "跳过：身体不适 / skipped".into();
    after[2].seq = String::new();
    after[2].status = "未扫码 / not scanned".into();
    let path = out_dir().join("register-status.pdf");
    std::fs::write(&path, register_pdf(&header(), &after, &font()).unwrap()).unwrap();
    preview(&path);
    let form: Vec<RegisterRow> =
        rows(3).into_iter().map(|r| RegisterRow { seq: String::new(), status: String::new(), ..r }).collect();
    let blank = out_dir().join("register-blank.pdf");
    std::fs::write(&blank, register_pdf(&header(), &form, &font()).unwrap()).unwrap();
    if let (Some(text), Some(form)) = (pdftotext(&path), pdftotext(&blank)) {
        for needle in ["状态", "Status", "跳过：身体不适", "未扫码", "2-0001", "签名"] {
            assert!(has(&text, needle), "{needle:?} not in:\n{text}");
        }
        assert!(!has(&form, "状态") && !has(&form, "2-0001"), "{form}");
        assert!(has(&form, "202100010003") && has(&form, "签名"), "{form}");
    }
}

#[test]
fn a_long_missing_list_keeps_the_counts_and_the_signatures_together_and_unmatched_scans_come_first() {
    let mut r = reconciliation(60);
    r.unmatched = vec![UnmatchedScan {
        seq: "2-0077".into(),
        xh: "9999".into(),
        xm: "赵*".into(),
        why: "不在名单中 / not on any roster".into(),
    }];
    let pdf = reconciliation_pdf(&r, &font()).unwrap();
    let path = out_dir().join("reconciliation-long.pdf");
    std::fs::write(&path, &pdf).unwrap();
    preview(&path);
    let pages = page_count(&pdf);
    assert!(pages >= 2, "{pages}");
    let Some(first) = page_text(&path, 1) else { return };
    for needle in
        ["应拍", "摄影师 / Photographer", "学院老师 / Teacher", "未匹配名单的扫码", "2-0077", "跳过：身体不适"]
    {
        assert!(has(&first, needle), "{needle:?} not on page 1:\n{first}");
    }
    let squash = |s: &str| s.chars().filter(|c| !c.is_whitespace()).collect::<String>();
    let first = squash(&first);
    let (unmatched, missing) = (first.find("未匹配名单的扫码").unwrap(), first.find("未到学生名单").unwrap());
    assert!(unmatched < missing, "the unmatched scans first");
    let last = page_text(&path, pages).unwrap();
    assert!(has(&last, "202100020059"), "the list continues to its end");
    assert!(!has(&last, "学院老师"), "the signatures are not alone on a later page");
    // A short list: counts, lists, then the signatures, on one page.
    let short = reconciliation_pdf(&reconciliation(5), &font()).unwrap();
    assert_eq!(page_count(&short), 1);
}
