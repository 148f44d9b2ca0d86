//! A class's printed documents from the station database: the register
//! (登记表) and the reconciliation sheets (核对单), header from the newest
//! session. The CLI's `register` and `report --pdf` only print around these.

use std::path::Path;

use super::pdf::{self, MissingStudent, Reconciliation, RegisterHeader, RegisterRow};
use crate::store::{ClassReport, Report, Store, StoreError};

/// Errors making a class's documents.
#[derive(Debug, thiserror::Error)]
pub enum DocumentError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Pdf(#[from] pdf::PdfError),
    #[error("名单中没有班级 {0} / no class {0} in the rosters")]
    NoClass(String),
    #[error("写入 / writing {path}: {reason}")]
    Write { path: String, reason: String },
}

impl crate::text::Bilingual for DocumentError {
    fn text(&self) -> crate::text::Text {
        use crate::text::Text;
        match self {
            Self::Store(f0) => f0.text(),
            Self::Pdf(f0) => f0.text(),
            Self::NoClass(f0) => Text::new(format!("名单中没有班级 {f0}"), format!("no class {f0} in the rosters")),
            Self::Write { path, reason } => Text::new("写入", format!("writing {path}: {reason}")),
        }
    }
}

/// The reconciliation of one class (`Some`) or of all; a named class the
/// rosters do not have is an error.
pub fn class_report(store: &Store, class: Option<&str>) -> Result<Report, DocumentError> {
    let report = store.report(class)?;
    match class {
        Some(c) if report.classes.is_empty() => Err(DocumentError::NoClass(c.to_string())),
        _ => Ok(report),
    }
}

/// School, station and date for a class's documents: from the newest session.
pub fn document_header(store: &Store, class: &str) -> RegisterHeader {
    let session = store.sessions().ok().and_then(|s| s.into_iter().last());
    RegisterHeader {
        school: session.as_ref().map(|s| s.info.school_name.clone()).unwrap_or_default(),
        class: class.to_string(),
        station: session.as_ref().map(|s| s.info.station.clone()).unwrap_or_default(),
        date: session.as_ref().map(|s| s.info.date.clone()).unwrap_or_default(),
    }
}

/// The register of `class` as a PDF, and the number of students on it.
pub fn class_register(store: &Store, class: &str) -> Result<(Vec<u8>, usize), DocumentError> {
    let rows: Vec<RegisterRow> = store
        .register_lines(class)?
        .into_iter()
        .map(|l| RegisterRow { seq: l.seq, xh: l.xh, xm: l.xm, class: l.class })
        .collect();
    let bytes = pdf::register_pdf(&document_header(store, class), &rows, crate::assets::CJK_FONT)?;
    Ok((bytes, rows.len()))
}

/// The reconciliation sheet of one class as a PDF.
pub fn reconciliation_sheet(store: &Store, c: &ClassReport) -> Result<Vec<u8>, DocumentError> {
    // `2024-06-01T09:12:30…` → `09:12:30`.
    let short = |t: &Option<String>| t.as_deref().map(|t| t.get(11..19).unwrap_or(t).to_string()).unwrap_or_default();
    let r = Reconciliation {
        header: document_header(store, &c.class),
        expected: c.expected as u32,
        scanned: c.scanned as u32,
        photographed: c.photographed as u32,
        skipped: c.skipped as u32,
        missing: c.missing_students.iter().map(|m| MissingStudent { xh: m.xh.clone(), xm: m.xm.clone() }).collect(),
        first_capture: short(&c.first_capture),
        last_capture: short(&c.last_capture),
    };
    Ok(pdf::reconciliation_pdf(&r, crate::assets::CJK_FONT)?)
}

/// Writes the sheets of `report`: the first class's into the file `out`
/// when `one_class`, else one `{class}-核对单.pdf` per class into the folder `out`.
pub fn write_reconciliation_sheets(
    store: &Store,
    report: &Report,
    one_class: bool,
    out: &Path,
) -> Result<(), DocumentError> {
    if one_class {
        if let Some(c) = report.classes.first() {
            write_file(out, &reconciliation_sheet(store, c)?)?;
        }
    } else {
        std::fs::create_dir_all(out).map_err(|e| write_err(out, e))?;
        for c in &report.classes {
            let file = out.join(format!("{}-核对单.pdf", crate::paths::safe_name(&c.class)));
            write_file(&file, &reconciliation_sheet(store, c)?)?;
        }
    }
    Ok(())
}

/// Writes `bytes` to `path`, making its folder first.
pub fn write_file(path: &Path, bytes: &[u8]) -> Result<(), DocumentError> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| write_err(dir, e))?;
    }
    std::fs::write(path, bytes).map_err(|e| write_err(path, e))
}

fn write_err(path: &Path, e: std::io::Error) -> DocumentError {
    DocumentError::Write { path: path.display().to_string(), reason: e.to_string() }
}
