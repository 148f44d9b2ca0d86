//! Print sheets (冲印排版): each photographed student's print package (e.g.
//! 8 × 二寸, or 4 × 二寸 + 8 × 一寸) laid out at 300 dpi on the fewest sheets
//! of the chosen paper, cut from the full-resolution original with the
//! deliverable's own geometry (same face placement and scale, no rotation,
//! no retouching), with gaps and corner crop marks a guillotine or a cutter
//! can follow and an optional caption strip on the sheet's edge, never on a
//! photo. Written per class in number order as one PDF (each print embedded
//! once as a JPEG, drawn as many times as the package asks) or as JPEG
//! sheets at the paper's exact pixel size with 300 dpi in the file.
//!
//! The layout is pure arithmetic on millimetres and pixels
//! ([`layout_package`]); the pixels come from [`print_image`]; the files
//! from [`write_class_prints`].

use std::path::{Path, PathBuf};

use image::RgbImage;
use pdf_writer::Content;

use super::font::FontCtx;
use super::{finish_pages, Images, Jpeg, PageSetup, PdfError};
use crate::photo::checks::Thresholds;

/// Prints are laid out and cut at this resolution.
pub const PRINT_DPI: u32 = 300;
/// Space between the paper's edge and the photos.
pub const MARGIN_MM: f32 = 4.0;
/// Space between two photos: room for a cut and the corner marks.
pub const GAP_MM: f32 = 3.0;
/// The caption strip at the sheet's bottom edge (inside the margin's place).
pub const CAPTION_MM: f32 = 5.0;
/// Corner marks start this far from a photo's corner…
const MARK_OFFSET_MM: f32 = 0.4;
/// …and are this long.
const MARK_LEN_MM: f32 = 1.1;
/// JPEG quality of the prints and of the sheets.
const PRINT_QUALITY: u8 = 95;

/// Millimetres to pixels at [`PRINT_DPI`].
pub fn mm_to_px(mm: f32) -> u32 {
    (mm * PRINT_DPI as f32 / 25.4).round().max(0.0) as u32
}

fn px_to_pt(px: u32) -> f32 {
    px as f32 * 72.0 / PRINT_DPI as f32
}

/// A named size in millimetres (a photo size or a paper), width × height
/// as it stands upright.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct NamedSize {
    pub name: String,
    pub width_mm: f32,
    pub height_mm: f32,
}

impl NamedSize {
    fn new(name: &str, width_mm: f32, height_mm: f32) -> Self {
        NamedSize { name: name.to_string(), width_mm, height_mm }
    }

    /// Width and height in pixels at [`PRINT_DPI`].
    pub fn px(&self) -> (u32, u32) {
        (mm_to_px(self.width_mm), mm_to_px(self.height_mm))
    }
}

/// The print settings of a station (settings.json `prints`).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct PrintSettings {
    /// The school's package, e.g. `8×二寸` or `4×二寸+8×一寸`.
    pub package: String,
    /// The paper, by name in `papers`.
    pub paper: String,
    /// Print the number, 学号 and masked name on the sheet's edge.
    pub caption: bool,
    /// Photo sizes (mm).
    pub sizes: Vec<NamedSize>,
    /// Papers (mm).
    pub papers: Vec<NamedSize>,
}

impl Default for PrintSettings {
    fn default() -> Self {
        PrintSettings {
            package: "8×二寸".into(),
            paper: "6寸".into(),
            caption: true,
            sizes: vec![
                NamedSize::new("一寸", 25.0, 35.0),
                NamedSize::new("二寸", 35.0, 49.0),
                NamedSize::new("大二寸", 35.0, 53.0),
                NamedSize::new("小二寸", 33.0, 48.0),
            ],
            papers: vec![
                NamedSize::new("5寸", 89.0, 127.0),
                NamedSize::new("6寸", 102.0, 152.0),
                NamedSize::new("A4", 210.0, 297.0),
            ],
        }
    }
}

/// Why prints could not be made.
#[derive(Debug, thiserror::Error)]
pub enum PrintError {
    #[error("冲印套餐 {0:?} 无法识别（例：8×二寸 或 4×二寸+8×一寸）/ print package {0:?} not understood (e.g. 8×二寸 or 4×二寸+8×一寸)")]
    BadPackage(String),
    #[error("没有名为 {0} 的照片或相纸尺寸 / no photo or paper size named {0}")]
    UnknownSize(String),
    #[error("{photo} 放不下 {paper} 相纸 / a {photo} print does not fit on {paper} paper")]
    DoesNotFit { photo: String, paper: String },
    #[error("{seq} 的照片无法读取：{reason} / the photo of {seq} cannot be read: {reason}")]
    Photo { seq: String, reason: String },
    #[error("班级 {0} 没有已拍的学生 / no photographed students in class {0}")]
    NobodyPhotographed(String),
    #[error(transparent)]
    Pdf(#[from] PdfError),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    #[error("写入 {path} 失败：{reason} / writing {path}: {reason}")]
    Write { path: String, reason: String },
}

impl crate::text::Bilingual for PrintError {
    fn text(&self) -> crate::text::Text {
        use crate::text::Text;
        match self {
            Self::BadPackage(p) => Text::new(
                format!("冲印套餐 {p:?} 无法识别（例：8×二寸 或 4×二寸+8×一寸）"),
                format!("print package {p:?} not understood (e.g. 8×二寸 or 4×二寸+8×一寸)"),
            ),
            Self::UnknownSize(n) => {
                Text::new(format!("没有名为 {n} 的照片或相纸尺寸"), format!("no photo or paper size named {n}"))
            }
            Self::DoesNotFit { photo, paper } => Text::new(
                format!("{photo} 放不下 {paper} 相纸"),
                format!("a {photo} print does not fit on {paper} paper"),
            ),
            Self::Photo { seq, reason } => Text::new(
                format!("{seq} 的照片无法读取：{reason}"),
                format!("the photo of {seq} cannot be read: {reason}"),
            ),
            Self::NobodyPhotographed(c) => {
                Text::new(format!("班级 {c} 没有已拍的学生"), format!("no photographed students in class {c}"))
            }
            Self::Pdf(e) => e.text(),
            Self::Store(e) => e.text(),
            Self::Write { path, reason } => {
                Text::new(format!("写入 {path} 失败：{reason}"), format!("writing {path}: {reason}"))
            }
        }
    }
}

/// A package: how many prints of which size each student gets.
#[derive(Debug, Clone, PartialEq)]
pub struct Package {
    pub items: Vec<(NamedSize, u32)>,
}

impl Package {
    /// Reads `8×二寸` or `4×二寸+8×一寸` (`×`, `x`, `X` or `*`; spaces
    /// allowed) against the size table.
    pub fn parse(text: &str, sizes: &[NamedSize]) -> Result<Package, PrintError> {
        let bad = || PrintError::BadPackage(text.to_string());
        let mut items = Vec::new();
        for part in text.split(['+', '＋']).map(str::trim) {
            let (count, name) = part.split_once(['×', 'x', 'X', '*']).ok_or_else(bad)?;
            let count: u32 = count.trim().parse().map_err(|_| bad())?;
            if count == 0 || count > 64 {
                return Err(bad());
            }
            let name = name.trim();
            let size = sizes.iter().find(|s| s.name == name).ok_or_else(|| PrintError::UnknownSize(name.into()))?;
            items.push((size.clone(), count));
        }
        if items.is_empty() {
            return Err(bad());
        }
        Ok(Package { items })
    }

    /// Every print, one entry each: the index into `items`.
    fn prints(&self) -> Vec<usize> {
        self.items.iter().enumerate().flat_map(|(i, (_, n))| std::iter::repeat_n(i, *n as usize)).collect()
    }
}

/// The paper named `name` in the table.
pub fn paper_named<'a>(name: &str, papers: &'a [NamedSize]) -> Result<&'a NamedSize, PrintError> {
    papers.iter().find(|p| p.name == name).ok_or_else(|| PrintError::UnknownSize(name.into()))
}

/// One print on a sheet, in sheet pixels from the top left.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Placement {
    /// Index into the package's items (which size).
    pub item: usize,
    pub x: u32,
    pub y: u32,
    pub width: u32,
    pub height: u32,
}

/// One sheet of paper with its prints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SheetLayout {
    pub width: u32,
    pub height: u32,
    pub placements: Vec<Placement>,
    /// Where the caption strip starts (sheet pixels from the top), if any.
    pub caption_y: Option<u32>,
}

/// Lays one student's package out on the fewest sheets of `paper`: rows of
/// prints, largest first, each row cut off whole by a guillotine, then
/// each print from its row; the paper tried standing and lying, the one
/// with fewer sheets kept (standing on a tie). The block of prints is
/// centred on each sheet.
pub fn layout_package(package: &Package, paper: &NamedSize, caption: bool) -> Result<Vec<SheetLayout>, PrintError> {
    let (w, h) = paper.px();
    let standing = shelf_pack(package, w, h, caption);
    let lying = shelf_pack(package, h, w, caption);
    match (standing, lying) {
        (Some(a), Some(b)) => Ok(if b.len() < a.len() { b } else { a }),
        (Some(a), None) | (None, Some(a)) => Ok(a),
        (None, None) => {
            let too_big = package
                .items
                .iter()
                .max_by_key(|(s, _)| s.px().0 * s.px().1)
                .map(|(s, _)| s.name.clone())
                .unwrap_or_default();
            Err(PrintError::DoesNotFit { photo: too_big, paper: paper.name.clone() })
        }
    }
}

/// Rows of prints on `w` × `h` sheets; `None` when a print does not fit.
fn shelf_pack(package: &Package, w: u32, h: u32, caption: bool) -> Option<Vec<SheetLayout>> {
    let (margin, gap) = (mm_to_px(MARGIN_MM), mm_to_px(GAP_MM));
    let bottom_margin = if caption { margin + mm_to_px(CAPTION_MM) } else { margin };
    let (right, bottom) = (w.checked_sub(margin)?, h.checked_sub(bottom_margin)?);
    let mut prints = package.prints();
    // Tallest first, then widest: equal sizes share rows.
    prints.sort_by_key(|&i| {
        let (pw, ph) = package.items[i].0.px();
        (std::cmp::Reverse(ph), std::cmp::Reverse(pw))
    });
    let mut sheets: Vec<Vec<Placement>> = vec![Vec::new()];
    let (mut x, mut y, mut row_h) = (margin, margin, 0u32);
    for item in prints {
        let (pw, ph) = package.items[item].0.px();
        if margin + pw > right || margin + ph > bottom {
            return None;
        }
        if x + pw > right {
            // The next row.
            x = margin;
            y += row_h + gap;
            row_h = 0;
        }
        if y + ph > bottom {
            sheets.push(Vec::new());
            (x, y, row_h) = (margin, margin, 0);
        }
        sheets.last_mut()?.push(Placement { item, x, y, width: pw, height: ph });
        x += pw + gap;
        row_h = row_h.max(ph);
    }
    Some(
        sheets
            .into_iter()
            .map(|mut placements| {
                // Centre the block in the space inside the margins.
                let used_w = placements.iter().map(|p| p.x + p.width).max().unwrap_or(margin) - margin;
                let used_h = placements.iter().map(|p| p.y + p.height).max().unwrap_or(margin) - margin;
                let dx = (right - margin).saturating_sub(used_w) / 2;
                let dy = (bottom - margin).saturating_sub(used_h) / 2;
                for p in &mut placements {
                    p.x += dx;
                    p.y += dy;
                }
                SheetLayout { width: w, height: h, placements, caption_y: caption.then_some(bottom) }
            })
            .collect(),
    )
}

/// The rectangle of the (upright) original a print of `size` is cut from:
/// the deliverable's rectangle `crop` with the same width, centre and top
/// (so the face sits where it sits in the deliverable, at the same scale),
/// made as tall as the print's shape asks; where the original ends first,
/// narrowed about the same centre instead.
pub fn print_rect(crop: [u32; 4], size: &NamedSize, original: (u32, u32)) -> [u32; 4] {
    let [x, y, w, h] = crop.map(f64::from);
    let (ow, oh) = (f64::from(original.0), f64::from(original.1));
    let aspect = f64::from(size.width_mm) / f64::from(size.height_mm);
    let cx = x + w / 2.0;
    let (mut nw, mut nh) = if aspect <= w / h { (w, w / aspect) } else { (h * aspect, h) };
    if y + nh > oh {
        nh = oh - y;
        nw = nh * aspect;
    }
    if nw > ow {
        nw = ow;
        nh = nw / aspect;
    }
    let nx = (cx - nw / 2.0).clamp(0.0, (ow - nw).max(0.0));
    [nx.round() as u32, y.round() as u32, nw.round().max(1.0) as u32, nh.round().max(1.0) as u32]
}

/// A print of `size` cut from `original` (upright) by the deliverable's
/// rectangle `crop`, at [`PRINT_DPI`].
pub fn print_image(original: &RgbImage, crop: [u32; 4], size: &NamedSize) -> RgbImage {
    let [x, y, w, h] = print_rect(crop, size, original.dimensions());
    let w = w.min(original.width().saturating_sub(x)).max(1);
    let h = h.min(original.height().saturating_sub(y)).max(1);
    let view = image::imageops::crop_imm(original, x, y, w, h).to_image();
    let (pw, ph) = size.px();
    image::imageops::resize(&view, pw, ph, image::imageops::FilterType::Lanczos3)
}

/// One student's prints to lay out.
#[derive(Debug, Clone)]
pub struct StudentPrints {
    /// Capture number, e.g. `2-0153`.
    pub seq: String,
    /// The caption: number, 学号, masked name.
    pub caption: String,
    /// One picture per package item, at its print size.
    pub images: Vec<RgbImage>,
}

/// A corner mark's segments in sheet pixels: (x0, y0, x1, y1), each outside
/// the print, on the lines of its edges.
fn corner_marks(p: &Placement) -> Vec<(u32, u32, u32, u32)> {
    let (off, len) = (mm_to_px(MARK_OFFSET_MM), mm_to_px(MARK_LEN_MM));
    let (l, t, r, b) = (p.x, p.y, p.x + p.width, p.y + p.height);
    let mut marks = Vec::new();
    for (cx, cy, sx, sy) in [(l, t, -1i64, -1i64), (r, t, 1, -1), (l, b, -1, 1), (r, b, 1, 1)] {
        let at = |v: u32, s: i64, d: u32| (i64::from(v) + s * i64::from(d)).max(0) as u32;
        // Along the top or bottom edge's line, outwards; then the side's.
        marks.push((at(cx, sx, off), cy, at(cx, sx, off + len), cy));
        marks.push((cx, at(cy, sy, off), cx, at(cy, sy, off + len)));
    }
    marks
}

/// A JPEG sheet: white paper, the prints, the corner marks, the caption.
pub fn render_sheet_jpeg(layout: &SheetLayout, student: &StudentPrints) -> Result<Vec<u8>, PrintError> {
    let mut sheet = RgbImage::from_pixel(layout.width, layout.height, image::Rgb([255, 255, 255]));
    for p in &layout.placements {
        if let Some(img) = student.images.get(p.item) {
            image::imageops::replace(&mut sheet, img, i64::from(p.x), i64::from(p.y));
        }
        for (x0, y0, x1, y1) in corner_marks(p) {
            draw_line(&mut sheet, x0, y0, x1, y1);
        }
    }
    if let Some(y) = layout.caption_y {
        draw_caption(&mut sheet, &student.caption, mm_to_px(MARGIN_MM), y + mm_to_px(1.0), mm_to_px(3.0));
    }
    crate::photo::encode_jpeg(&sheet, PRINT_QUALITY)
        .map_err(|e| PrintError::Photo { seq: student.seq.clone(), reason: e.to_string() })
}

/// A black line 2 px wide (0.17 mm), horizontal or vertical.
fn draw_line(img: &mut RgbImage, x0: u32, y0: u32, x1: u32, y1: u32) {
    let (xa, xb) = (x0.min(x1), x0.max(x1));
    let (ya, yb) = (y0.min(y1), y0.max(y1));
    for y in ya..=yb.max(ya + 1) {
        for x in xa..=xb.max(xa + 1) {
            if x < img.width() && y < img.height() {
                img.put_pixel(x, y, image::Rgb([0, 0, 0]));
            }
        }
    }
}

/// `text` in the station's font, `px` tall, its top left at (`x`, `y`).
fn draw_caption(img: &mut RgbImage, text: &str, x: u32, y: u32, px: u32) {
    use ab_glyph::{Font as _, FontRef, PxScale, ScaleFont as _};
    let Ok(font) = FontRef::try_from_slice(crate::assets::CJK_FONT) else { return };
    let scaled = font.as_scaled(PxScale::from(px as f32));
    let mut pen = x as f32;
    let baseline = y as f32 + scaled.ascent();
    for ch in text.chars() {
        let id = font.glyph_id(ch);
        let glyph = id.with_scale_and_position(PxScale::from(px as f32), ab_glyph::point(pen, baseline));
        pen += scaled.h_advance(id);
        let Some(outlined) = font.outline_glyph(glyph) else { continue };
        let bounds = outlined.px_bounds();
        outlined.draw(|gx, gy, coverage| {
            let (px_x, px_y) = (bounds.min.x as i64 + i64::from(gx), bounds.min.y as i64 + i64::from(gy));
            if px_x < 0 || px_y < 0 || px_x >= i64::from(img.width()) || px_y >= i64::from(img.height()) {
                return;
            }
            let pixel = img.get_pixel_mut(px_x as u32, px_y as u32);
            for c in &mut pixel.0 {
                *c = (f32::from(*c) * (1.0 - coverage)).round() as u8;
            }
        });
    }
}

/// The PDF of a class's sheets: every print embedded once as a JPEG and
/// drawn where the layout puts it; marks as lines; captions as text.
pub fn prints_pdf(
    sheets: &[(SheetLayout, usize)],
    students: &[StudentPrints],
    title: &str,
) -> Result<Vec<u8>, PrintError> {
    let mut f = FontCtx::new(crate::assets::CJK_FONT)?;
    let mut images = Images::default();
    let mut refs = Vec::new();
    for (n, s) in students.iter().enumerate() {
        let mut these = Vec::new();
        for img in &s.images {
            let jpeg = crate::photo::encode_jpeg(img, PRINT_QUALITY)
                .map_err(|e| PrintError::Photo { seq: s.seq.clone(), reason: e.to_string() })?;
            these.push(images.add(Jpeg::new(jpeg)?));
        }
        refs.push((n, these));
    }
    let mut pages = Vec::new();
    let (mut width_pt, mut height_pt) = (0.0f32, 0.0f32);
    for (layout, student) in sheets {
        let (w_pt, h_pt) = (px_to_pt(layout.width), px_to_pt(layout.height));
        (width_pt, height_pt) = (w_pt, h_pt);
        let mut c = Content::new();
        let these = refs.get(*student).map(|(_, r)| r.as_slice()).unwrap_or_default();
        for p in &layout.placements {
            if let Some(image) = these.get(p.item) {
                let y = h_pt - px_to_pt(p.y + p.height);
                images.draw(&mut c, *image, px_to_pt(p.x), y, px_to_pt(p.width), px_to_pt(p.height));
            }
        }
        c.set_stroke_gray(0.0);
        c.set_line_width(0.5);
        for p in &layout.placements {
            for (x0, y0, x1, y1) in corner_marks(p) {
                c.move_to(px_to_pt(x0), h_pt - px_to_pt(y0));
                c.line_to(px_to_pt(x1), h_pt - px_to_pt(y1));
            }
        }
        c.stroke();
        if let (Some(y), Some(s)) = (layout.caption_y, students.get(*student)) {
            let baseline = h_pt - px_to_pt(y + mm_to_px(3.2));
            f.text(&mut c, &s.caption, px_to_pt(mm_to_px(MARGIN_MM)), baseline, 8.0, 0.0);
        }
        pages.push(c);
    }
    // Every sheet of one run is of one paper, standing or lying alike.
    let setup = PageSetup { width_pt, height_pt, footers: false };
    Ok(finish_pages(f, pages, &images, title, setup)?)
}

/// What to print and how.
#[derive(Debug, Clone)]
pub struct PrintOptions {
    pub package: Package,
    pub paper: NamedSize,
    pub caption: bool,
    /// JPEG sheets (for photo-lab printers) instead of one PDF.
    pub jpeg_sheets: bool,
    /// To find the deliverable's rectangle of photos stored before it was
    /// recorded (the same face placement the station used).
    pub thresholds: Thresholds,
}

/// What was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrintReport {
    pub students: usize,
    pub sheets: usize,
    pub files: Vec<PathBuf>,
}

/// A student's photo for printing: their number, caption words and the
/// original's bytes with the deliverable's rectangle if it was recorded.
#[derive(Debug, Clone)]
pub struct PrintSource {
    pub seq: String,
    pub xh: String,
    /// Masked.
    pub xm: String,
    pub original_jpeg: Vec<u8>,
    pub crop: Option<[u32; 4]>,
}

/// The rectangle of `source`'s deliverable in its upright original.
fn deliverable_rect(original: &RgbImage, crop: Option<[u32; 4]>, thresholds: &Thresholds) -> [u32; 4] {
    let fits = |c: &[u32; 4]| c[0] + c[2] <= original.width() && c[1] + c[3] <= original.height() && c[2] > 0;
    if let Some(c) = crop.filter(fits) {
        return c;
    }
    // Stored before the rectangle was: found again the way the station found it.
    match crate::photo::check_frame(original, thresholds) {
        Ok(checked) => [checked.crop.x, checked.crop.y, checked.crop.width, checked.crop.height],
        Err(_) => {
            let c = crate::photo::centred_crop(original.width(), original.height());
            [c.x, c.y, c.width, c.height]
        }
    }
}

/// Makes one student's prints from `source`.
pub fn student_prints(source: &PrintSource, options: &PrintOptions) -> Result<StudentPrints, PrintError> {
    let original = crate::photo::decode_camera_jpeg(&source.original_jpeg)
        .map_err(|e| PrintError::Photo { seq: source.seq.clone(), reason: e.to_string() })?
        .image;
    let crop = deliverable_rect(&original, source.crop, &options.thresholds);
    let images = options.package.items.iter().map(|(size, _)| print_image(&original, crop, size)).collect();
    Ok(StudentPrints {
        seq: source.seq.clone(),
        caption: format!("{}  {}  {}", source.seq, source.xh, source.xm),
        images,
    })
}

/// Writes the prints of `sources` (one class, in number order) into `dir`:
/// `{class}-冲印.pdf`, or `{class}-{seq}-{n}.jpg` per sheet.
///
/// `sources` are read one at a time (a class of 24 MP originals is never in
/// memory at once); only the prints, at print size, are kept for the PDF.
pub fn write_prints(
    class: &str,
    sources: impl ExactSizeIterator<Item = Result<PrintSource, PrintError>>,
    options: &PrintOptions,
    dir: &Path,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<PrintReport, PrintError> {
    let total = sources.len();
    if total == 0 {
        return Err(PrintError::NobodyPhotographed(class.to_string()));
    }
    let layouts = layout_package(&options.package, &options.paper, options.caption)?;
    std::fs::create_dir_all(dir).map_err(|e| write_error(dir, &e))?;
    let safe_class = crate::paths::safe_name(class);
    let mut report = PrintReport { students: total, sheets: 0, files: Vec::new() };
    let mut students = Vec::new();
    let mut sheets = Vec::new();
    for (n, source) in sources.enumerate() {
        let source = source?;
        let prints = student_prints(&source, options)?;
        if options.jpeg_sheets {
            for (k, layout) in layouts.iter().enumerate() {
                let path = dir.join(format!("{safe_class}-{}-{}.jpg", crate::paths::safe_name(&source.seq), k + 1));
                let bytes = render_sheet_jpeg(layout, &prints)?;
                crate::paths::write_atomic(&path, &bytes).map_err(|e| write_error(&path, &e))?;
                report.files.push(path);
            }
        } else {
            sheets.extend(layouts.iter().map(|l| (l.clone(), n)));
            students.push(prints);
        }
        report.sheets += layouts.len();
        progress(n + 1, total);
    }
    if !options.jpeg_sheets {
        let title = format!("冲印 {class} / Prints");
        let bytes = prints_pdf(&sheets, &students, &title)?;
        let path = dir.join(format!("{safe_class}-冲印.pdf"));
        crate::paths::write_atomic(&path, &bytes).map_err(|e| write_error(&path, &e))?;
        report.files.push(path);
    }
    Ok(report)
}

fn write_error(path: &Path, e: &std::io::Error) -> PrintError {
    PrintError::Write { path: path.display().to_string(), reason: e.to_string() }
}

/// The photographed students of `class` in the station database, in number
/// order, as print sources.
pub fn class_sources<'a>(
    store: &'a crate::store::Store,
    class: &str,
) -> Result<impl ExactSizeIterator<Item = Result<PrintSource, PrintError>> + 'a, PrintError> {
    let ids = store.photographed_in_class(class)?;
    Ok(ids.into_iter().map(move |id| {
        let record = store.record(id)?;
        let take = store.primary_take(id)?.ok_or(crate::store::StoreError::NotFound {
            what_zh: "主照片",
            what_en: "primary take",
            id,
        })?;
        let (original, _) = store.take_images(take.id)?;
        let crop =
            serde_json::from_str::<crate::photo::checks::Assessment>(&take.checks_json).ok().and_then(|a| a.crop);
        Ok(PrintSource {
            seq: record.display_seq(),
            xh: record.code.xh.clone(),
            xm: record.code.xm.clone(),
            original_jpeg: original,
            crop,
        })
    }))
}

/// The students of `class` (the codes' 班级) in an export bundle, in its
/// manifest's number order, as print sources: the office prints from a USB
/// stick without the station's database. Each original is checked against
/// the manifest's hash; the deliverable's rectangle is found again in it.
pub fn bundle_sources<'a>(
    bundle: &'a Path,
    class: &str,
) -> Result<impl ExactSizeIterator<Item = Result<PrintSource, PrintError>> + 'a, PrintError> {
    let unreadable = |seq: &str, reason: String| PrintError::Photo { seq: seq.to_string(), reason };
    let mut rows = crate::export::read_manifest(bundle).map_err(|e| unreadable("manifest.json", e.to_string()))?;
    rows.retain(|r| r.get("bh").is_some_and(|b| b == class));
    Ok(rows.into_iter().map(move |row| {
        let field = |k: &str| row.get(k).cloned().unwrap_or_default();
        let seq = field("seq");
        // The manifest names the photo (`photos/F`); its original is `originals/F`.
        let photo = field("photo_file");
        let rel = format!("originals/{}", photo.strip_prefix("photos/").unwrap_or(&photo));
        let bytes = crate::export::bundle::read_bundle_file(bundle, &rel)
            .map_err(|e| unreadable(&seq, format!("{rel}: {e}")))?;
        if crate::store::sha256_hex(&bytes) != field("original_sha256") {
            return Err(unreadable(&seq, format!("{rel}: 与清单的哈希不符 / does not match the manifest's hash")));
        }
        Ok(PrintSource { seq, xh: field("xh"), xm: field("xm"), original_jpeg: bytes, crop: None })
    }))
}

#[cfg(test)]
mod tests;
