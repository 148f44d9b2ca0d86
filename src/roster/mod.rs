//! Class rosters (班级名单) and the capture schedule: reading them from the
//! files the academic office exports, masking while reading.
//!
//! A roster row is masked the moment it is read: the clear name becomes the
//! masked name (the capture code's rule) and the ID number its last four
//! characters. Nothing downstream ever sees the clear values, so nothing can
//! store or export them. Student numbers are text: leading zeros survive.
//! A file with any bad row is refused whole, each problem named by its row;
//! an explicit option takes only the valid rows and lists the rest.

pub mod pdf;
pub mod table;
pub mod worker;

use std::collections::HashMap;
use std::path::Path;

use crate::code::drill::DrillStudent;
use crate::code::{id_tail, mask_name_checked};
pub use table::{read_table, Table, TableError};

/// A roster row, masked.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RosterEntry {
    /// Row number in the file (the header is row 1).
    pub row: usize,
    pub xh: String,
    /// Masked name.
    pub xm: String,
    /// Last four characters of the ID number; empty when the roster has none.
    pub zjhm: String,
    pub class: String,
    pub college: String,
    pub major: String,
    pub level: String,
}

impl RosterEntry {
    /// A row of one student (学号, masked name, class; the rest empty), as
    /// the second line of a file: for examples and tests.
    pub fn example(xh: &str, xm: &str, class: &str) -> Self {
        RosterEntry {
            row: 2,
            xh: xh.into(),
            xm: xm.into(),
            zjhm: String::new(),
            class: class.into(),
            college: String::new(),
            major: String::new(),
            level: String::new(),
        }
    }

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

/// One bad row.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RowProblem {
    pub row: usize,
    pub zh: String,
    pub en: String,
}

impl std::fmt::Display for RowProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "第 {} 行：{} / row {}: {}", self.row, self.zh, self.row, self.en)
    }
}

/// Why a roster or schedule could not be read. Nothing from such a file is used.
#[derive(Debug, thiserror::Error)]
pub enum RosterError {
    #[error("无法读取 {path}：{source} / cannot read {path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error(transparent)]
    Table(#[from] TableError),
    #[error("缺少列：{0} / missing column: {0}")]
    MissingColumn(&'static str),
    #[error("没有数据行 / no data rows")]
    NoRows,
    #[error("{} 行有问题，文件未导入：{} / {} bad rows, nothing imported", .0.len(), list(.0), .0.len())]
    BadRows(Vec<RowProblem>),
}

fn list(problems: &[RowProblem]) -> String {
    let shown: Vec<String> = problems.iter().take(20).map(ToString::to_string).collect();
    let more = problems.len().saturating_sub(20);
    if more > 0 {
        format!("{}；…另有 {more} 行 / …{more} more", shown.join("；"))
    } else {
        shown.join("；")
    }
}

/// Strict: any bad row refuses the file. Lenient: bad rows are listed and skipped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowPolicy {
    Strict,
    ValidRowsOnly,
}

/// A roster as read: the good rows, and (lenient only) the rows left out.
#[derive(Debug, Clone, Default)]
pub struct RosterImport {
    pub entries: Vec<RosterEntry>,
    pub rejected: Vec<RowProblem>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Column {
    Xh,
    Name,
    IdNumber,
    Class,
    College,
    Major,
    Level,
}

fn norm_header(header: &str) -> String {
    header.trim().trim_start_matches('\u{feff}').to_lowercase().replace([' ', '_', '　'], "")
}

fn roster_column(header: &str) -> Option<Column> {
    Some(match norm_header(header).as_str() {
        "学号" | "xh" | "studentid" | "studentnumber" | "studentno" => Column::Xh,
        "姓名" | "xm" | "name" | "fullname" => Column::Name,
        "身份证号" | "身份证号码" | "证件号码" | "证件号" | "zjhm" | "idnumber" | "id" => {
            Column::IdNumber
        }
        "班级" | "班号" | "班级名称" | "bh" | "class" => Column::Class,
        "学院" | "分院" | "院系" | "fy" | "college" | "faculty" => Column::College,
        "专业" | "major" => Column::Major,
        "层次" | "cc" | "level" => Column::Level,
        _ => return None,
    })
}

/// Reads a roster file (.xlsx, .xls, .csv in UTF-8 / BOM / GBK), strictly.
pub fn read_roster(path: &Path) -> Result<Vec<RosterEntry>, RosterError> {
    Ok(read_roster_with(path, RowPolicy::Strict)?.entries)
}

/// Reads a roster file with the given row policy.
pub fn read_roster_with(path: &Path, policy: RowPolicy) -> Result<RosterImport, RosterError> {
    let bytes = std::fs::read(path).map_err(|source| RosterError::Io { path: path.display().to_string(), source })?;
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    parse_roster(&read_table(&name, &bytes)?, policy)
}

/// Parses roster rows from a table.
pub fn parse_roster(table: &Table, policy: RowPolicy) -> Result<RosterImport, RosterError> {
    let mut index: HashMap<Column, usize> = HashMap::new();
    for (i, h) in table.headers.iter().enumerate() {
        if let Some(col) = roster_column(h) {
            index.entry(col).or_insert(i);
        }
    }
    let xh_col = *index.get(&Column::Xh).ok_or(RosterError::MissingColumn("学号 / student_id"))?;
    let name_col = *index.get(&Column::Name).ok_or(RosterError::MissingColumn("姓名 / name"))?;
    let class_col = *index.get(&Column::Class).ok_or(RosterError::MissingColumn("班级 / class"))?;
    let needed = xh_col.max(name_col).max(class_col) + 1;

    // Excel drops the leading zeros of a 学号 stored as a number: when the
    // column's text values share one length, shorter all-digit values are
    // padded back to it.
    let widths: Vec<usize> =
        table.rows.iter().filter_map(|(_, c)| c.get(xh_col)).filter(|x| x.starts_with('0')).map(|x| x.len()).collect();
    let pad_to = widths.first().copied().filter(|w| widths.iter().all(|x| x == w));

    let mut out = RosterImport::default();
    let mut problems = Vec::new();
    let mut seen: HashMap<String, usize> = HashMap::new();
    for (row, cells) in &table.rows {
        let row = *row;
        let problem = |zh: String, en: String| RowProblem { row, zh, en };
        let cell =
            |col: Option<usize>| col.and_then(|c| cells.get(c)).map(|s| s.trim().to_string()).unwrap_or_default();
        if cells.len() < needed {
            problems
                .push(problem(format!("单元格不足（{} 个）", cells.len()), format!("too few cells ({})", cells.len())));
            continue;
        }
        let mut xh = cell(Some(xh_col));
        if let Some(w) = pad_to {
            if xh.len() < w && xh.bytes().all(|b| b.is_ascii_digit()) {
                xh = format!("{xh:0>w$}");
            }
        }
        if xh.is_empty() {
            problems.push(problem("学号为空".into(), "the student number is empty".into()));
            continue;
        }
        if let Some(first) = seen.get(&xh) {
            problems.push(problem(
                format!("学号 {xh} 与第 {first} 行重复"),
                format!("student number {xh} repeats row {first}"),
            ));
            continue;
        }
        seen.insert(xh.clone(), row);
        let Some(xm) = mask_name_checked(&cell(Some(name_col))) else {
            problems.push(problem(
                "姓名为空、只有一个字或已脱敏，无法按规则脱敏".into(),
                "the name is empty, one character or already masked: it cannot be masked by the rule".into(),
            ));
            continue;
        };
        let class = cell(Some(class_col));
        if class.is_empty() {
            problems.push(problem("班级为空".into(), "the class is empty".into()));
            continue;
        }
        let id = cell(index.get(&Column::IdNumber).copied());
        let zjhm = if id.is_empty() {
            String::new()
        } else if let Some(t) = id_tail(&id) {
            t
        } else {
            problems.push(problem(
                "身份证号末四位应为数字或 X".into(),
                "the ID number must end in four digits or X".into(),
            ));
            continue;
        };
        out.entries.push(RosterEntry {
            row,
            xh,
            xm,
            zjhm,
            class,
            college: cell(index.get(&Column::College).copied()),
            major: cell(index.get(&Column::Major).copied()),
            level: cell(index.get(&Column::Level).copied()),
        });
    }
    match policy {
        RowPolicy::Strict if !problems.is_empty() => return Err(RosterError::BadRows(problems)),
        RowPolicy::Strict => {}
        RowPolicy::ValidRowsOnly => out.rejected = problems,
    }
    if out.entries.is_empty() && out.rejected.is_empty() {
        return Err(RosterError::NoRows);
    }
    Ok(out)
}

/// One line of the capture schedule: a class at a station in a time slot.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ScheduleRow {
    pub row: usize,
    pub class: String,
    /// `YYYY-MM-DD`.
    pub date: String,
    /// As written, e.g. `09:00-09:50`.
    pub slot: String,
    pub station: String,
    pub head_count: Option<u32>,
}

impl ScheduleRow {
    /// Start of the slot as minutes after midnight, for ordering and "now".
    pub fn start_minutes(&self) -> Option<u32> {
        let first = self.slot.split(['-', '~', '～', '—', '–', '至']).next()?.trim().replace('：', ":");
        let (h, m) = first.split_once(':')?;
        Some(h.trim().parse::<u32>().ok()? * 60 + m.trim().parse::<u32>().ok()?)
    }

    /// End of the slot as minutes after midnight.
    pub fn end_minutes(&self) -> Option<u32> {
        let last = self.slot.rsplit(['-', '~', '～', '—', '–', '至']).next()?.trim().replace('：', ":");
        let (h, m) = last.split_once(':')?;
        Some(h.trim().parse::<u32>().ok()? * 60 + m.trim().parse::<u32>().ok()?)
    }
}

/// `2023-03-02`, `2023/3/2`, `2023.3.2` or `2023年3月2日` → `2023-03-02`.
pub fn normalize_date(s: &str) -> Option<String> {
    let cleaned: String = s.trim().chars().map(|c| if c.is_ascii_digit() { c } else { ' ' }).collect();
    let parts: Vec<u32> = cleaned.split_whitespace().filter_map(|p| p.parse().ok()).collect();
    let [y, m, d] = parts.get(..3)? else { return None };
    chrono::NaiveDate::from_ymd_opt(*y as i32, *m, *d).map(|d| d.format("%Y-%m-%d").to_string())
}

/// Reads a schedule file: columns 班级, 日期, 时间段, 机位, 人数 (or English).
pub fn read_schedule(path: &Path) -> Result<Vec<ScheduleRow>, RosterError> {
    let bytes = std::fs::read(path).map_err(|source| RosterError::Io { path: path.display().to_string(), source })?;
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    parse_schedule(&read_table(&name, &bytes)?)
}

/// Parses schedule rows; any bad row refuses the file.
pub fn parse_schedule(table: &Table) -> Result<Vec<ScheduleRow>, RosterError> {
    let find = |names: &[&str]| table.headers.iter().position(|h| names.contains(&norm_header(h).as_str()));
    let class = find(&["班级", "班号", "班级名称", "class"]).ok_or(RosterError::MissingColumn("班级 / class"))?;
    let date = find(&["日期", "拍摄日期", "date"]).ok_or(RosterError::MissingColumn("日期 / date"))?;
    let slot = find(&["时间", "时间段", "时段", "拍摄时间", "slot", "time"])
        .ok_or(RosterError::MissingColumn("时间段 / slot"))?;
    let station = find(&["机位", "station"]).ok_or(RosterError::MissingColumn("机位 / station"))?;
    let count = find(&["人数", "应拍人数", "headcount", "count"]);
    let mut rows = Vec::new();
    let mut problems = Vec::new();
    for (row, cells) in &table.rows {
        let cell = |c: usize| cells.get(c).map(|s| s.trim().to_string()).unwrap_or_default();
        let problem = |zh: &str, en: &str| RowProblem { row: *row, zh: zh.into(), en: en.into() };
        let Some(d) = normalize_date(&cell(date)) else {
            problems.push(problem("日期无法识别", "the date is not recognised"));
            continue;
        };
        if cell(class).is_empty() || cell(station).is_empty() {
            problems.push(problem("班级或机位为空", "the class or station is empty"));
            continue;
        }
        let head_count = match count.map(cell).filter(|c| !c.is_empty()) {
            None => None,
            Some(c) => match c.parse::<u32>() {
                Ok(n) => Some(n),
                Err(_) => {
                    problems.push(problem("人数不是数字", "the head count is not a number"));
                    continue;
                }
            },
        };
        rows.push(ScheduleRow {
            row: *row,
            class: cell(class),
            date: d,
            slot: cell(slot),
            station: cell(station).trim_start_matches("机位").trim().to_string(),
            head_count,
        });
    }
    if !problems.is_empty() {
        return Err(RosterError::BadRows(problems));
    }
    if rows.is_empty() {
        return Err(RosterError::NoRows);
    }
    Ok(rows)
}

#[cfg(test)]
mod tests;
