//! Spreadsheets as the academic office exports them: .xlsx / .xls (calamine)
//! and .csv in UTF-8, UTF-8 with BOM, or GBK (Excel on Chinese Windows saves
//! CSV as GBK). Everything becomes text: a number Excel stored for a 学号 is
//! written back without `.0` or an exponent; dates become `YYYY-MM-DD`.

use std::collections::HashMap;
use std::io::Cursor;

use calamine::{Data, Reader};

/// What a cell was in the workbook, when that matters for its text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CellKind {
    /// A number with more digits than Excel keeps (an 18-digit ID number
    /// typed as a number ends in zeros: its tail is lost).
    ImpreciseNumber,
    /// A date (or date and time).
    Date,
}

/// A sheet as rows of text cells; the first row is the header.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Table {
    pub headers: Vec<String>,
    /// (1-based row number in the file, cells).
    pub rows: Vec<(usize, Vec<String>)>,
    /// The workbook sheet read, and the hidden ones passed over.
    pub sheet: Option<String>,
    pub hidden_sheets: Vec<String>,
    /// Cells whose workbook type matters, by (row number, column index).
    pub kinds: HashMap<(usize, usize), CellKind>,
    /// How many cells had a byte-order mark or zero-width character removed.
    pub invisible_removed: usize,
}

/// Characters a cell never needs and that make equal text differ: a BOM
/// inside a cell, zero-width spaces and joiners, the word joiner.
const INVISIBLE: [char; 5] = ['\u{feff}', '\u{200b}', '\u{200c}', '\u{200d}', '\u{2060}'];

/// Removes invisible characters from every cell; counts the cells changed.
fn strip_invisible(table: &mut Table) {
    let mut changed = 0;
    for cell in table.headers.iter_mut().chain(table.rows.iter_mut().flat_map(|(_, c)| c.iter_mut())) {
        if cell.contains(INVISIBLE) {
            *cell = cell.replace(INVISIBLE, "").trim().to_string();
            changed += 1;
        }
    }
    table.invisible_removed = changed;
}

/// Why a file is not a readable table.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TableError {
    #[error("文件为空 / the file is empty")]
    Empty,
    #[error("不是可识别的表格文件（支持 .xlsx .xls .csv）：{0} / not a spreadsheet (.xlsx .xls .csv): {0}")]
    NotASpreadsheet(String),
    #[error("CSV 格式错误（第 {row} 行）：{reason} / malformed CSV (row {row}): {reason}")]
    Csv { row: usize, reason: String },
    #[error("CSV 编码混杂：第 {row} 行与前面的行编码不同（UTF-8 与 GBK，两个文件被拼在一起？）；请统一另存为 UTF-8 / mixed encodings in the CSV: row {row} is not in the encoding of the rows before it (UTF-8 and GBK: two files joined?): save it again as one encoding")]
    MixedEncoding { row: usize },
    #[error("工作簿没有可见的工作表 / the workbook has no visible sheet")]
    NoVisibleSheet,
}

impl crate::text::Bilingual for TableError {
    fn text(&self) -> crate::text::Text {
        use crate::text::Text;
        match self {
            Self::Empty => Text::new("文件为空", "the file is empty"),
            Self::NotASpreadsheet(f0) => Text::new(format!("不是可识别的表格文件（支持 .xlsx .xls .csv）：{f0}"), format!("not a spreadsheet (.xlsx .xls .csv): {f0}")),
            Self::Csv { row, reason } => Text::new(format!("CSV 格式错误（第 {row} 行）：{reason}"), format!("malformed CSV (row {row}): {reason}")),
            Self::MixedEncoding { row } => Text::new(format!("CSV 编码混杂：第 {row} 行与前面的行编码不同（UTF-8 与 GBK，两个文件被拼在一起？）；请统一另存为 UTF-8"), format!("mixed encodings in the CSV: row {row} is not in the encoding of the rows before it (UTF-8 and GBK: two files joined?): save it again as one encoding")),
            Self::NoVisibleSheet => Text::new("工作簿没有可见的工作表", "the workbook has no visible sheet"),
        }
    }
}

/// Reads `bytes` of a file named `name` (the extension picks the format; a
/// file with no known extension is tried as a workbook, then as CSV).
pub fn read_table(name: &str, bytes: &[u8]) -> Result<Table, TableError> {
    if bytes.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(TableError::Empty);
    }
    let lower = name.to_ascii_lowercase();
    let is_zip = bytes.starts_with(b"PK\x03\x04");
    let is_ole = bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]);
    if lower.ends_with(".xlsx") || lower.ends_with(".xls") || lower.ends_with(".xlsm") || is_zip || is_ole {
        return read_workbook(bytes);
    }
    if bytes.contains(&0) {
        return Err(TableError::NotASpreadsheet(name.to_string()));
    }
    if let Some(row) = mixed_encoding_row(bytes) {
        return Err(TableError::MixedEncoding { row });
    }
    let mut table = read_csv(&decode_text(bytes))?;
    strip_invisible(&mut table);
    Ok(table)
}

/// The first line in the other encoding, in a file where some lines with
/// Chinese text are UTF-8 and others are not (GBK): two encodings in one
/// file, which no single decoding reads right — whichever comes first.
fn mixed_encoding_row(bytes: &[u8]) -> Option<usize> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if std::str::from_utf8(bytes).is_ok() {
        return None;
    }
    let mut first_kind: Option<bool> = None;
    for (i, line) in bytes.split(|&b| b == b'\n').enumerate() {
        if line.is_ascii() {
            continue;
        }
        let utf8 = std::str::from_utf8(line).is_ok();
        match first_kind {
            None => first_kind = Some(utf8),
            Some(kind) if kind != utf8 => return Some(i + 1),
            Some(_) => {}
        }
    }
    None
}

/// UTF-8 (BOM stripped) when valid, otherwise GBK.
pub fn decode_text(bytes: &[u8]) -> String {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_string(),
        Err(_) => encoding_rs::GBK.decode(bytes).0.into_owned(),
    }
}

fn read_csv(text: &str) -> Result<Table, TableError> {
    let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(text.as_bytes());
    let mut rows = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let record = record.map_err(|e| TableError::Csv { row: i + 1, reason: e.to_string() })?;
        rows.push((i + 1, record.iter().map(|c| c.trim().to_string()).collect::<Vec<_>>()));
    }
    split_header(rows)
}

fn split_header(rows: Vec<(usize, Vec<String>)>) -> Result<Table, TableError> {
    let mut rows = rows.into_iter().skip_while(|(_, cells)| cells.iter().all(String::is_empty));
    let (_, headers) = rows.next().ok_or(TableError::Empty)?;
    let rows: Vec<_> = rows.filter(|(_, cells)| !cells.iter().all(String::is_empty)).collect();
    Ok(Table { headers, rows, ..Table::default() })
}

fn cell_kind(cell: &Data) -> Option<CellKind> {
    match cell {
        Data::Float(f) if f.abs() >= 1e15 => Some(CellKind::ImpreciseNumber),
        Data::Int(i) if i.unsigned_abs() >= 1_000_000_000_000_000 => Some(CellKind::ImpreciseNumber),
        Data::DateTime(_) | Data::DateTimeIso(_) => Some(CellKind::Date),
        _ => None,
    }
}

fn cell_text(cell: &Data) -> String {
    match cell {
        Data::Empty => String::new(),
        Data::String(s) => s.trim().to_string(),
        Data::Int(i) => i.to_string(),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        Data::Float(f) => f.to_string(),
        Data::Bool(b) => b.to_string(),
        Data::DateTime(dt) => match dt.as_datetime() {
            Some(d) if d.time() == chrono::NaiveTime::MIN => d.format("%Y-%m-%d").to_string(),
            Some(d) => d.format("%Y-%m-%d %H:%M").to_string(),
            None => dt.as_f64().to_string(),
        },
        Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
        Data::Error(e) => format!("#{e:?}"),
    }
}

/// The first visible worksheet (a stale copy the office hid stays hidden:
/// what Excel shows is what is read), with the hidden ones named.
fn read_workbook(bytes: &[u8]) -> Result<Table, TableError> {
    let mut book = calamine::open_workbook_auto_from_rs(Cursor::new(bytes.to_vec()))
        .map_err(|e| TableError::NotASpreadsheet(e.to_string()))?;
    let sheets = book.sheets_metadata().to_vec();
    if sheets.is_empty() {
        return Err(TableError::Empty);
    }
    let hidden_sheets: Vec<String> =
        sheets.iter().filter(|s| s.visible != calamine::SheetVisible::Visible).map(|s| s.name.clone()).collect();
    let chosen = sheets
        .iter()
        .find(|s| s.visible == calamine::SheetVisible::Visible && s.typ == calamine::SheetType::WorkSheet)
        .ok_or(TableError::NoVisibleSheet)?
        .name
        .clone();
    let range = book.worksheet_range(&chosen).map_err(|e| TableError::NotASpreadsheet(e.to_string()))?;
    let start_row = range.start().map_or(0, |(r, _)| r as usize);
    let start_col = range.start().map_or(0, |(_, c)| c as usize);
    let mut kinds = HashMap::new();
    let mut rows = Vec::new();
    for (i, row) in range.rows().enumerate() {
        let number = start_row + i + 1;
        for (c, cell) in row.iter().enumerate() {
            if let Some(kind) = cell_kind(cell) {
                kinds.insert((number, start_col + c), kind);
            }
        }
        // Cells are placed by their column in the sheet, not the range.
        let mut cells = vec![String::new(); start_col];
        cells.extend(row.iter().map(cell_text));
        rows.push((number, cells));
    }
    let mut table = split_header(rows)?;
    table.sheet = Some(chosen);
    table.hidden_sheets = hidden_sheets;
    table.kinds = kinds;
    strip_invisible(&mut table);
    Ok(table)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_utf8_bom_and_gbk_csv_alike() {
        let text = "学号,姓名\n0021,张三\n";
        let utf8 = read_table("a.csv", text.as_bytes()).unwrap();
        let bom = read_table("a.csv", &[b"\xEF\xBB\xBF".as_slice(), text.as_bytes()].concat()).unwrap();
        let (gbk, _, _) = encoding_rs::GBK.encode(text);
        let gbk = read_table("a.csv", &gbk).unwrap();
        assert_eq!(utf8, bom);
        assert_eq!(utf8, gbk);
        assert_eq!(utf8.headers, ["学号", "姓名"]);
        assert_eq!(utf8.rows, vec![(2, vec!["0021".to_string(), "张三".to_string()])]);
    }

    #[test]
    fn reads_xlsx_numbers_as_text_and_dates_as_dates() {
        let mut book = rust_xlsxwriter::Workbook::new();
        let sheet = book.add_worksheet();
        sheet.write_string(0, 0, "学号").unwrap();
        sheet.write_string(0, 1, "日期").unwrap();
        sheet.write_number(1, 0, 2021010101.0).unwrap();
        let date = rust_xlsxwriter::ExcelDateTime::from_ymd(2023, 3, 2).unwrap();
        let fmt = rust_xlsxwriter::Format::new().set_num_format("yyyy-mm-dd");
        sheet.write_datetime_with_format(1, 1, &date, &fmt).unwrap();
        let bytes = book.save_to_buffer().unwrap();
        let t = read_table("r.xlsx", &bytes).unwrap();
        assert_eq!(t.rows[0].1, ["2021010101", "2023-03-02"]);
    }

    #[test]
    fn refuses_what_is_not_a_table() {
        assert_eq!(read_table("a.csv", b""), Err(TableError::Empty));
        assert!(matches!(read_table("a.xlsx", b"PK\x03\x04garbage"), Err(TableError::NotASpreadsheet(_))));
        assert!(matches!(read_table("photo.jpg", &[0xFF, 0xD8, 0, 0, 1]), Err(TableError::NotASpreadsheet(_))));
    }
}
