//! Print sheets: sizes to the pixel at 300 dpi, prints per sheet for each
//! package and paper, marks and caption where they belong, the cut from the
//! original with the deliverable's geometry, a class in number order.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;

fn table() -> PrintSettings {
    PrintSettings::default()
}

fn package(text: &str) -> Package {
    Package::parse(text, &table().sizes).unwrap()
}

fn paper(name: &str) -> NamedSize {
    paper_named(name, &table().papers).unwrap().clone()
}

#[test]
fn sizes_are_to_the_pixel_at_300_dpi() {
    let px = |name: &str| {
        let t = table();
        t.sizes.iter().chain(&t.papers).find(|s| s.name == name).unwrap().px()
    };
    // mm × 300 / 25.4, rounded: within 1 px of the exact figure.
    for (name, w, h) in [
        ("一寸", 295, 413),
        ("二寸", 413, 579),
        ("大二寸", 413, 626),
        ("小二寸", 390, 567),
        ("5寸", 1051, 1500),
        ("6寸", 1205, 1795),
        ("A4", 2480, 3508),
    ] {
        assert_eq!(px(name), (w, h), "{name}");
    }
}

#[test]
fn packages_are_read_as_the_notices_write_them() {
    let p = package("4×二寸+8×一寸");
    let got: Vec<(&str, u32)> = p.items.iter().map(|(s, n)| (s.name.as_str(), *n)).collect();
    assert_eq!(got, [("二寸", 4), ("一寸", 8)]);
    assert_eq!(package(" 8 x 二寸 ").items[0].1, 8);
    assert!(matches!(Package::parse("8×三寸", &table().sizes), Err(PrintError::UnknownSize(n)) if n == "三寸"));
    for bad in ["", "二寸", "0×二寸", "x×二寸", "8×二寸+"] {
        assert!(Package::parse(bad, &table().sizes).is_err(), "{bad:?}");
    }
}

/// Every print inside the margins, off the caption strip, none overlapping,
/// at least the gap apart, each of its size, and all of them placed.
fn check_layout(p: &Package, paper: &NamedSize, sheets: &[SheetLayout]) {
    let (margin, gap) = (mm_to_px(MARGIN_MM), mm_to_px(GAP_MM));
    let total: usize = sheets.iter().map(|s| s.placements.len()).sum();
    assert_eq!(total, p.prints().len(), "every print placed");
    for s in sheets {
        let (w, h) = paper.px();
        assert!((s.width, s.height) == (w, h) || (s.width, s.height) == (h, w));
        let bottom = s.caption_y.unwrap_or(s.height - margin);
        for (i, a) in s.placements.iter().enumerate() {
            assert_eq!((a.width, a.height), p.items[a.item].0.px());
            assert!(a.x >= margin && a.y >= margin && a.x + a.width <= s.width - margin && a.y + a.height <= bottom);
            for b in &s.placements[i + 1..] {
                let apart_x = a.x + a.width + gap <= b.x || b.x + b.width + gap <= a.x;
                let apart_y = a.y + a.height + gap <= b.y || b.y + b.height + gap <= a.y;
                assert!(apart_x || apart_y, "{a:?} and {b:?} closer than the gap");
            }
        }
    }
}

#[test]
fn each_package_takes_the_fewest_sheets_of_each_paper() {
    // Prints per sheet, sheet by sheet, for each package and paper; worked
    // by hand: 4 mm margins, 3 mm gaps, a 5 mm caption strip (e.g. 6寸 is
    // 1111 px wide inside: two 413 px 二寸 or three 295 px 一寸 a row).
    let cases: [(&str, &str, &[usize]); 12] = [
        ("8×二寸", "5寸", &[4, 4]),
        ("8×二寸", "6寸", &[4, 4]),
        ("8×二寸", "A4", &[8]),
        ("8×一寸", "5寸", &[8]),
        ("8×一寸", "6寸", &[8]),
        ("4×二寸+8×一寸", "5寸", &[4, 8]),
        ("4×二寸+8×一寸", "6寸", &[7, 5]),
        ("4×二寸+8×一寸", "A4", &[12]),
        ("4×大二寸", "6寸", &[4]),
        ("4×小二寸", "5寸", &[4]),
        ("16×一寸", "6寸", &[9, 7]),
        ("2×二寸", "5寸", &[2]),
    ];
    for (text, paper_name, per_sheet) in cases {
        let (p, paper) = (package(text), paper(paper_name));
        let sheets = layout_package(&p, &paper, true).unwrap();
        check_layout(&p, &paper, &sheets);
        let got: Vec<usize> = sheets.iter().map(|s| s.placements.len()).collect();
        assert_eq!(got, per_sheet, "{text} on {paper_name}");
        // No orientation would have used fewer sheets.
        let (w, h) = paper.px();
        for (w, h) in [(w, h), (h, w)] {
            if let Some(other) = shelf_pack(&p, w, h, true) {
                assert!(other.len() >= sheets.len(), "{text} on {paper_name}: {w}×{h} needs {}", other.len());
            }
        }
    }
    let huge = Package { items: vec![(NamedSize::new("大", 120.0, 160.0), 1)] };
    assert!(matches!(layout_package(&huge, &paper("5寸"), true), Err(PrintError::DoesNotFit { .. })));
}

fn grey_source(seq: &str) -> StudentPrints {
    let p = package("4×二寸+8×一寸");
    let images =
        p.items.iter().map(|(s, _)| RgbImage::from_pixel(s.px().0, s.px().1, image::Rgb([120, 160, 200]))).collect();
    StudentPrints { seq: seq.into(), caption: format!("{seq}  2021000001  欧**娜"), images }
}

#[test]
fn corner_marks_sit_outside_each_print_on_its_edges_and_the_caption_off_every_photo() {
    let p = package("4×二寸+8×一寸");
    let sheets = layout_package(&p, &paper("6寸"), true).unwrap();
    let student = grey_source("2-0007");
    let jpeg = render_sheet_jpeg(&sheets[0], &student).unwrap();
    // 300 dpi in the file (JFIF density, inches).
    let jfif = jpeg.windows(5).position(|w| w == b"JFIF\0").unwrap();
    assert_eq!(&jpeg[jfif + 7..jfif + 12], &[1, 0x01, 0x2C, 0x01, 0x2C]);
    let img = image::load_from_memory(&jpeg).unwrap().to_rgb8();
    assert_eq!(img.dimensions(), (sheets[0].width, sheets[0].height));
    let dark = |x: u32, y: u32| img.get_pixel(x, y).0.iter().all(|&c| c < 90);
    let (off, len) = (mm_to_px(MARK_OFFSET_MM), mm_to_px(MARK_LEN_MM));
    let inside = |x: u32, y: u32| {
        sheets[0].placements.iter().any(|q| x >= q.x && x < q.x + q.width && y >= q.y && y < q.y + q.height)
    };
    for q in &sheets[0].placements {
        // The top-left corner's marks: left of it on the top edge's line, above it on the left edge's.
        let (mx, my) = (q.x - off - len / 2, q.y);
        assert!(dark(mx, my) && !inside(mx, my), "mark left of {q:?}");
        let (mx, my) = (q.x, q.y - off - len / 2);
        assert!(dark(mx, my) && !inside(mx, my), "mark above {q:?}");
        // The bottom-right corner's.
        let (mx, my) = (q.x + q.width + off + len / 2, q.y + q.height);
        assert!(dark(mx, my), "mark right of {q:?}");
        // The print itself is untouched at its corners and centre.
        for (x, y) in
            [(q.x + 2, q.y + 2), (q.x + q.width - 3, q.y + q.height - 3), (q.x + q.width / 2, q.y + q.height / 2)]
        {
            assert!(!dark(x, y), "a mark on the print at {x},{y}");
        }
    }
    for corner in corner_marks(&sheets[0].placements[0]) {
        let (x0, y0, x1, y1) = corner;
        assert!(!inside((x0 + x1) / 2, (y0 + y1) / 2), "{corner:?}");
    }
    // The caption: dark text in its strip, below every print.
    let strip = sheets[0].caption_y.unwrap();
    assert!(sheets[0].placements.iter().all(|q| q.y + q.height <= strip));
    let text_px = (strip..img.height())
        .flat_map(|y| (0..img.width() / 2).map(move |x| (x, y)))
        .filter(|&(x, y)| dark(x, y))
        .count();
    assert!(text_px > 200, "the caption is printed: {text_px} dark pixels");
    // Without a caption, no strip.
    let plain = layout_package(&p, &paper("6寸"), false).unwrap();
    assert!(plain.iter().all(|s| s.caption_y.is_none()));
}

#[test]
fn a_print_is_cut_from_the_original_with_the_deliverables_width_centre_and_top() {
    let crop = [1200, 300, 1800, 2400]; // 3:4, in a 6000 × 4000 original
    for name in ["一寸", "二寸", "大二寸", "小二寸"] {
        let size = table().sizes.into_iter().find(|s| s.name == name).unwrap();
        let [x, y, w, h] = print_rect(crop, &size, (6000, 4000));
        assert_eq!((x, y, w), (1200, 300, 1800), "{name}: same face placement and scale");
        let want = (1800.0 * size.height_mm / size.width_mm).round() as u32;
        assert!(h.abs_diff(want) <= 1, "{name}: {h} vs {want}");
        assert!(w > size.px().0, "{name}: cut from more pixels than it prints, never upscaled");
    }
    // Where the original ends below, narrowed about the same centre.
    let size = table().sizes.into_iter().find(|s| s.name == "大二寸").unwrap();
    let [x, y, w, h] = print_rect([1200, 1500, 1800, 2400], &size, (6000, 4000));
    assert_eq!((y, y + h), (1500, 4000));
    assert!(((x + w / 2) as i64 - 2100).abs() <= 1, "the centre stays");
    assert!((w as f32 / h as f32 - 35.0 / 53.0).abs() < 0.002);
    // The print's pixels are the original's: a marker at the rectangle's
    // top left corner lands at the print's.
    let mut original = RgbImage::from_pixel(600, 400, image::Rgb([200, 200, 200]));
    for y in 30..40 {
        for x in 120..130 {
            original.put_pixel(x, y, image::Rgb([255, 0, 0]));
        }
    }
    let size = table().sizes.into_iter().find(|s| s.name == "二寸").unwrap();
    let print = print_image(&original, [120, 30, 180, 240], &size);
    assert_eq!(print.dimensions(), (413, 579));
    let p = print.get_pixel(5, 5).0;
    assert!(p[0] > 200 && p[1] < 90, "{p:?}");
}

#[test]
fn a_class_prints_in_number_order_as_a_pdf_or_as_jpeg_sheets() {
    let dir = tempfile::tempdir().unwrap();
    let original = crate::camera::synth::camera_jpeg(&crate::camera::synth::portrait(1800, 1200, 4), 1, 90).unwrap();
    let sources: Vec<PrintSource> = ["2-0003", "2-0010", "2-0011"]
        .iter()
        .map(|seq| PrintSource {
            seq: seq.to_string(),
            xh: "2021000001".into(),
            xm: "欧**娜".into(),
            original_jpeg: original.clone(),
            crop: Some([300, 0, 900, 1200]),
        })
        .collect();
    let mut options = PrintOptions {
        package: package("8×二寸"),
        paper: paper("6寸"),
        caption: true,
        jpeg_sheets: true,
        thresholds: Thresholds::default(),
    };
    let report =
        write_prints("法学 2101", sources.iter().cloned().map(Ok), &options, dir.path(), &mut |_, _| {}).unwrap();
    assert_eq!((report.students, report.sheets), (3, 6));
    let names: Vec<String> =
        report.files.iter().map(|f| f.file_name().unwrap().to_string_lossy().into_owned()).collect();
    assert_eq!(names[..3], ["法学 2101-2-0003-1.jpg", "法学 2101-2-0003-2.jpg", "法学 2101-2-0010-1.jpg"]);
    let img = image::open(&report.files[0]).unwrap();
    assert_eq!((img.width(), img.height()), (1205, 1795));
    options.jpeg_sheets = false;
    let report =
        write_prints("法学 2101", sources.iter().cloned().map(Ok), &options, dir.path(), &mut |_, _| {}).unwrap();
    let pdf = std::fs::read(&report.files[0]).unwrap();
    let text = String::from_utf8_lossy(&pdf);
    // Each student's print embedded once, drawn four times on each of two sheets.
    assert_eq!(text.matches("/Subtype /Image").count(), 3);
    let pages = text.matches("/Type /Page").count() - text.matches("/Type /Pages").count();
    assert_eq!(pages, 6, "two sheets a student");
    if let Ok(out) = std::process::Command::new("pdftotext").arg(&report.files[0]).arg("-").output() {
        let text = String::from_utf8_lossy(&out.stdout);
        let at = |seq: &str| text.find(seq).unwrap_or_else(|| panic!("{seq} not in {text}"));
        assert!(at("2-0003") < at("2-0010") && at("2-0010") < at("2-0011"), "number order");
    }
    assert!(matches!(
        write_prints("x", std::iter::empty::<Result<PrintSource, PrintError>>(), &options, dir.path(), &mut |_, _| {}),
        Err(PrintError::NobodyPhotographed(_))
    ));
}
