//! Class rosters (班级名单): reading them and masking while reading.
//!
//! A roster row is masked the moment it is read: the clear name becomes the
//! masked name (the capture code's rule) and the ID number its last four
//! characters. Nothing downstream ever sees the clear values, so nothing can
//! store or export them. Student numbers are text: leading zeros survive.
//!
//! This module reads UTF-8 CSV (with or without BOM) today; the assistants'
//! sign-in check extends it to GBK CSV and .xlsx.

use std::collections::HashMap;
use std::path::Path;

use crate::code::drill::DrillStudent;
use crate::code::{id_tail, mask_name_checked};

/// A roster row, masked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RosterEntry {
    /// 1-based data row number in the file (the header is row 1).
    pub row: usize,
    pub xh: String,
    /// Masked name.
    pub xm: String,
    /// Last four characters of the ID number; empty when the roster has none.
    pub zjhm: String,
    pub class: String,
    pub college: String,
    pub level: String,
}

impl RosterEntry {
    /// The masked data a drill code is made from.
    pub fn to_drill_student(&self) -> DrillStudent {
        DrillStudent {
            xh: self.xh.clone(),
            xm: self.xm.clone(),
            zjhm: self.zjhm.clone(),
            class: self.class.clone(),
            college: self.college.clone(),
            level: self.level.clone(),
        }
    }
}

/// Why a roster could not be read. Nothing from a file with an error is used.
#[derive(Debug, thiserror::Error)]
pub enum RosterError {
    #[error("无法读取名单 {path}：{source} / cannot read roster {path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error("名单不是 UTF-8 文本 / the roster is not UTF-8 text")]
    NotText,
    #[error("名单为空 / the roster is empty")]
    Empty,
    #[error("名单缺少列：{0} / the roster lacks the column: {0}")]
    MissingColumn(&'static str),
    #[error("第 {row} 行：{problem_zh} / row {row}: {problem_en}")]
    Row { row: usize, problem_zh: String, problem_en: String },
    #[error("名单格式错误：{0} / malformed roster: {0}")]
    Csv(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Column {
    Xh,
    Name,
    IdNumber,
    Class,
    College,
    Level,
}

fn column_for(header: &str) -> Option<Column> {
    let h = header.trim().trim_start_matches('\u{feff}').to_lowercase();
    let h = h.as_str();
    Some(match h {
        "学号" | "xh" | "student_id" | "student id" | "student number" | "student_no" => Column::Xh,
        "姓名" | "xm" | "name" | "full name" => Column::Name,
        "身份证号" | "身份证号码" | "证件号码" | "zjhm" | "id_number" | "id number" | "id" => {
            Column::IdNumber
        }
        "班级" | "班号" | "bh" | "class" => Column::Class,
        "学院" | "分院" | "院系" | "fy" | "college" | "faculty" => Column::College,
        "层次" | "cc" | "level" => Column::Level,
        _ => return None,
    })
}

/// Reads a roster CSV. Every problem names its row; any problem fails the whole file.
pub fn read_csv(path: &Path) -> Result<Vec<RosterEntry>, RosterError> {
    let bytes = std::fs::read(path).map_err(|source| RosterError::Io { path: path.display().to_string(), source })?;
    parse_csv(&bytes)
}

/// Parses roster CSV bytes (UTF-8, optional BOM).
pub fn parse_csv(bytes: &[u8]) -> Result<Vec<RosterEntry>, RosterError> {
    let text = std::str::from_utf8(bytes).map_err(|_| RosterError::NotText)?;
    let text = text.trim_start_matches('\u{feff}');
    if text.trim().is_empty() {
        return Err(RosterError::Empty);
    }
    let mut reader = csv::ReaderBuilder::new().flexible(true).trim(csv::Trim::All).from_reader(text.as_bytes());
    let headers = reader.headers().map_err(|e| RosterError::Csv(e.to_string()))?.clone();
    let mut index: HashMap<Column, usize> = HashMap::new();
    for (i, h) in headers.iter().enumerate() {
        if let Some(col) = column_for(h) {
            index.entry(col).or_insert(i);
        }
    }
    let xh_col = *index.get(&Column::Xh).ok_or(RosterError::MissingColumn("学号 / student_id"))?;
    let name_col = *index.get(&Column::Name).ok_or(RosterError::MissingColumn("姓名 / name"))?;

    let mut entries = Vec::new();
    let mut seen: HashMap<String, usize> = HashMap::new();
    for (i, record) in reader.records().enumerate() {
        let row = i + 2;
        let record = record.map_err(|e| RosterError::Csv(e.to_string()))?;
        if record.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        let cell = |col: Option<usize>| col.and_then(|c| record.get(c)).unwrap_or("").trim().to_string();
        let row_err = |zh: String, en: String| RosterError::Row { row, problem_zh: zh, problem_en: en };
        if record.len() <= xh_col.max(name_col) {
            return Err(row_err("单元格不足".into(), "too few cells".into()));
        }
        let xh = cell(Some(xh_col));
        if xh.is_empty() {
            return Err(row_err("学号为空".into(), "student number is empty".into()));
        }
        if let Some(first) = seen.insert(xh.clone(), row) {
            return Err(row_err(
                format!("学号 {xh} 与第 {first} 行重复"),
                format!("student number {xh} repeats row {first}"),
            ));
        }
        let name = cell(Some(name_col));
        let xm = mask_name_checked(&name).ok_or_else(|| {
            row_err(
                "姓名为空、只有一个字或已脱敏，无法按规则脱敏".into(),
                "the name is empty, a single character or already masked, and cannot be masked by the rule".into(),
            )
        })?;
        let id = cell(index.get(&Column::IdNumber).copied());
        let zjhm = if id.is_empty() {
            String::new()
        } else {
            id_tail(&id).ok_or_else(|| {
                row_err("身份证号末四位应为数字或 X".into(), "the ID number must end in four digits or X".into())
            })?
        };
        entries.push(RosterEntry {
            row,
            xh,
            xm,
            zjhm,
            class: cell(index.get(&Column::Class).copied()),
            college: cell(index.get(&Column::College).copied()),
            level: cell(index.get(&Column::Level).copied()),
        });
    }
    if entries.is_empty() {
        return Err(RosterError::Empty);
    }
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_chinese_headers_and_masks_while_reading() {
        let csv = "\u{feff}学号,姓名,身份证号,班级,学院,层次\n0021010101,欧阳娜娜,36010219990101123x,法学 2101,法学院,本科\n0021010102,王喆,440304199003072515,法学 2101,法学院,本科\n";
        let rows = parse_csv(csv.as_bytes()).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].xh, "0021010101");
        assert_eq!(rows[0].xm, "欧**娜");
        assert_eq!(rows[0].zjhm, "123X");
        assert_eq!(rows[1].xm, "王*");
        assert_eq!(rows[1].class, "法学 2101");
        let debug = format!("{rows:?}");
        assert!(!debug.contains("欧阳娜娜") && !debug.contains("36010219990101123"));
    }

    #[test]
    fn reads_english_headers_in_any_order() {
        let csv = "name,class,student_id,id_number\n阿依古丽·买买提,20数（1）,2020001,650102200001011234\n";
        let rows = parse_csv(csv.as_bytes()).unwrap();
        assert_eq!(rows[0].xm, "阿***·**提");
        assert_eq!(rows[0].class, "20数（1）");
        assert_eq!(rows[0].zjhm, "1234");
    }

    #[test]
    fn names_the_bad_row() {
        let dup = "学号,姓名\n1,张三\n1,李四\n";
        assert!(matches!(parse_csv(dup.as_bytes()), Err(RosterError::Row { row: 3, .. })));
        let single = "学号,姓名\n1,张\n";
        assert!(matches!(parse_csv(single.as_bytes()), Err(RosterError::Row { row: 2, .. })));
        let short = "学号,姓名,班级\n1\n";
        assert!(matches!(parse_csv(short.as_bytes()), Err(RosterError::Row { row: 2, .. })));
        let bad_id = "学号,姓名,身份证号\n1,张三,12\n";
        assert!(matches!(parse_csv(bad_id.as_bytes()), Err(RosterError::Row { row: 2, .. })));
        assert!(matches!(parse_csv(b"a,b\n1,2\n"), Err(RosterError::MissingColumn(_))));
        assert!(matches!(parse_csv(b""), Err(RosterError::Empty)));
        assert!(matches!(parse_csv(&[0xc4, 0xe3, 0xba, 0xc3]), Err(RosterError::NotText)));
    }
}
