//! Spreadsheets as the academic office exports them: .xlsx / .xls (calamine)
//! and .csv in UTF-8, UTF-8 with BOM, or GBK (Excel on Chinese Windows saves
//! CSV as GBK). Everything becomes text: a number Excel stored for a 学号 is
//! written back without `.0` or an exponent; dates become `YYYY-MM-DD`.

use std::io::Cursor;

use calamine::{Data, Reader};

/// A sheet as rows of text cells; the first row is the header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    pub headers: Vec<String>,
    /// (1-based row number in the file, cells).
    pub rows: Vec<(usize, Vec<String>)>,
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
    read_csv(&decode_text(bytes))
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
    Ok(Table { headers, rows })
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

fn read_workbook(bytes: &[u8]) -> Result<Table, TableError> {
    let mut book = calamine::open_workbook_auto_from_rs(Cursor::new(bytes.to_vec()))
        .map_err(|e| TableError::NotASpreadsheet(e.to_string()))?;
    let first = book.sheet_names().into_iter().next().ok_or(TableError::Empty)?;
    let range = book.worksheet_range(&first).map_err(|e| TableError::NotASpreadsheet(e.to_string()))?;
    let start_row = range.start().map_or(0, |(r, _)| r as usize);
    let rows: Vec<(usize, Vec<String>)> =
        range.rows().enumerate().map(|(i, row)| (start_row + i + 1, row.iter().map(cell_text).collect())).collect();
    split_header(rows)
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
