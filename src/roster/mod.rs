//! Class rosters (班级名单) and the capture schedule: reading them from the
//! files the academic office exports, masking while reading.
//!
//! A roster row is masked the moment it is read: the clear name becomes the
//! masked name (the capture code's rule) and the ID number its last four
//! characters. Nothing downstream ever sees the clear values, so nothing can
//! store or export them. Student numbers are text: leading zeros survive.
//! A file with any bad row is refused whole, each problem named by its row;
//! an explicit option takes only the valid rows and lists the rest.

pub mod table;
pub mod worker;

use std::collections::HashMap;
use std::path::Path;

use crate::code::{id_tail, mask_name_checked};
pub use crate::store::{RosterEntry, ScheduleRow};
pub use table::{read_table, Table, TableError};

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
    #[error("{field} 有两列（{columns}），无法确定用哪一列，文件未导入 / two columns hold {field} ({columns}): which one is meant is unclear, nothing imported")]
    DuplicateColumn { field: &'static str, columns: String },
    #[error("没有数据行 / no data rows")]
    NoRows,
    #[error("{} 行有问题，文件未导入：{} / {} bad rows, nothing imported", .0.len(), list(.0), .0.len())]
    BadRows(Vec<RowProblem>),
}

impl crate::text::Bilingual for RosterError {
    fn text(&self) -> crate::text::Text {
        use crate::text::Text;
        match self {
            Self::Io { path, source } => {
                Text::new(format!("无法读取 {path}：{source}"), format!("cannot read {path}: {source}"))
            }
            Self::Table(f0) => f0.text(),
            Self::MissingColumn(f0) => Text::new(format!("缺少列：{f0}"), format!("missing column: {f0}")),
            Self::DuplicateColumn { field, columns } => Text::new(
                format!("{field} 有两列（{columns}），无法确定用哪一列，文件未导入"),
                format!("two columns hold {field} ({columns}): which one is meant is unclear, nothing imported"),
            ),
            Self::NoRows => Text::new("没有数据行", "no data rows"),
            Self::BadRows(f0) => Text::new(
                format!("{} 行有问题，文件未导入：{}", f0.len(), list(f0)),
                format!("{} bad rows, nothing imported", f0.len()),
            ),
        }
    }
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

/// A roster as read: the good rows, (lenient only) the rows left out, and
/// what the import decided — which sheet, which columns and why — for the
/// import summary.
#[derive(Debug, Clone, Default)]
pub struct RosterImport {
    pub entries: Vec<RosterEntry>,
    pub rejected: Vec<RowProblem>,
    /// One line each, both languages.
    pub notes: Vec<String>,
}

/// `A`, `B`, … `AA` for a 0-based column index (as Excel names them).
pub fn column_letter(index: usize) -> String {
    let mut n = index + 1;
    let mut out = Vec::new();
    while n > 0 {
        let rem = (n - 1) % 26;
        out.push(b'A' + rem as u8);
        n = (n - 1) / 26;
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

impl Column {
    fn label(self) -> &'static str {
        match self {
            Column::Xh => "学号 / student_id",
            Column::Name => "姓名 / name",
            Column::IdNumber => "身份证号 / id_number",
            Column::Class => "班级 / class",
            Column::College => "学院 / college",
            Column::Major => "专业 / major",
            Column::Level => "层次 / level",
        }
    }
}

/// A 学号 that is a date (`2021-01-01`, `2021/1/1`): a column Excel turned
/// into dates, or the wrong column.
fn looks_like_date(s: &str) -> bool {
    let parts: Vec<&str> = s.split(['-', '/', '.']).collect();
    parts.len() == 3
        && parts[0].len() == 4
        && parts.iter().all(|p| !p.is_empty() && p.len() <= 4 && p.bytes().all(|b| b.is_ascii_digit()))
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
        // Not a bare `id`: that is a row counter as often as not.
        "身份证号" | "身份证号码" | "证件号码" | "证件号" | "zjhm" | "idnumber" | "idcard" | "idcardnumber" => {
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
    let mut notes = Vec::new();
    if let Some(sheet) = &table.sheet {
        if table.hidden_sheets.is_empty() {
            notes.push(format!("读取工作表“{sheet}” / read the sheet \"{sheet}\""));
        } else {
            let hidden = table.hidden_sheets.join("、");
            notes.push(format!(
                "读取可见工作表“{sheet}”，跳过隐藏的工作表 {hidden} / read the visible sheet \"{sheet}\"; hidden sheets skipped: {hidden}"
            ));
        }
    }
    if table.invisible_removed > 0 {
        let n = table.invisible_removed;
        notes.push(format!(
            "已去掉 {n} 个单元格中的不可见字符（BOM、零宽空格） / removed invisible characters (BOM, zero-width) from {n} cells"
        ));
    }
    // Which column holds each field. Two columns for one field are refused,
    // except a Chinese header beside an English one (姓名 beside a pinyin
    // `name`): the Chinese one is used, and the summary says so.
    let mut by_field: HashMap<Column, Vec<usize>> = HashMap::new();
    for (i, h) in table.headers.iter().enumerate() {
        if let Some(col) = roster_column(h) {
            by_field.entry(col).or_default().push(i);
        }
    }
    let mut index: HashMap<Column, usize> = HashMap::new();
    let mut fields: Vec<_> = by_field.into_iter().collect();
    fields.sort_by_key(|(_, cols)| cols[0]);
    for (field, cols) in fields {
        let chinese: Vec<usize> = cols.iter().copied().filter(|&c| !table.headers[c].is_ascii()).collect();
        let chosen = match (cols.len(), chinese.len()) {
            (1, _) => cols[0],
            (_, 1) => {
                let ignored: Vec<String> = cols
                    .iter()
                    .filter(|&&c| c != chinese[0])
                    .map(|&c| format!("{} \"{}\"", column_letter(c), table.headers[c]))
                    .collect();
                notes.push(format!(
                    "{}：使用中文列 {}“{}”，忽略英文列 {} / {}: used the Chinese column {} \"{}\", ignored the English column {}",
                    field.label(),
                    column_letter(chinese[0]),
                    table.headers[chinese[0]],
                    ignored.join(", "),
                    field.label(),
                    column_letter(chinese[0]),
                    table.headers[chinese[0]],
                    ignored.join(", ")
                ));
                chinese[0]
            }
            _ => {
                let columns: Vec<String> =
                    cols.iter().map(|&c| format!("{} \"{}\"", column_letter(c), table.headers[c])).collect();
                return Err(RosterError::DuplicateColumn { field: field.label(), columns: columns.join(", ") });
            }
        };
        index.insert(field, chosen);
    }
    let mut used: Vec<(usize, Column)> = index.iter().map(|(f, c)| (*c, *f)).collect();
    used.sort_unstable_by_key(|(c, _)| *c);
    let shown: Vec<String> = used
        .iter()
        .map(|(c, f)| format!("{} {}", column_letter(*c), f.label().split(" / ").next().unwrap_or("")))
        .collect();
    notes.push(format!("使用的列 / columns used: {}", shown.join(", ")));
    let ignored: Vec<String> = table
        .headers
        .iter()
        .enumerate()
        .filter(|(i, h)| !h.is_empty() && !used.iter().any(|(c, _)| c == i) && roster_column(h).is_none())
        .map(|(i, h)| format!("{} \"{h}\"", column_letter(i)))
        .collect();
    if !ignored.is_empty() {
        notes.push(format!("未使用的列 / columns not used: {}", ignored.join(", ")));
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
        // The header row again: two files joined into one.
        if roster_column(&cell(Some(xh_col))) == Some(Column::Xh)
            || roster_column(&cell(Some(name_col))) == Some(Column::Name)
        {
            problems.push(problem(
                "这一行是表头（两个文件被拼在一起？）".into(),
                "this row is a header row (two files joined?)".into(),
            ));
            continue;
        }
        let key_cols = [Some(xh_col), Some(name_col), Some(class_col), index.get(&Column::IdNumber).copied()];
        if let Some(c) = key_cols.iter().flatten().find(|&&c| cells.get(c).is_some_and(|v| v.contains(['\n', '\r']))) {
            let col = column_letter(*c);
            problems.push(problem(
                format!("{col} 列的单元格里有换行"),
                format!("the cell in column {col} holds a line break"),
            ));
            continue;
        }
        // Every stored column through the masking guard (issue 26, item 3): a
        // full ID number in the 学号, 班级 or 学院 column (a name glued to it
        // or not) or a control character refuses the row; the value is never
        // shown, only its column.
        let mut stored: Vec<(usize, Column)> =
            index.iter().filter(|(f, _)| **f != Column::IdNumber).map(|(f, c)| (*c, *f)).collect();
        stored.sort_unstable_by_key(|(c, _)| *c);
        let unsafe_cell = stored.iter().find_map(|&(c, field)| {
            let value = cells.get(c)?;
            if crate::code::guard::holds_full_id_number(value) {
                Some((c, field, ("含有完整的身份证号码", "holds a full ID number")))
            } else if crate::code::guard::has_control_character(value) {
                Some((c, field, ("含有控制字符", "holds a control character")))
            } else {
                None
            }
        });
        if let Some((c, field, (zh, en))) = unsafe_cell {
            let col = column_letter(c);
            let (field_zh, field_en) = field.label().split_once(" / ").unwrap_or((field.label(), field.label()));
            problems.push(problem(
                format!("{col} 列（{field_zh}）{zh}，此行不导入"),
                format!("column {col} ({field_en}) {en}: the row is refused"),
            ));
            continue;
        }
        let kind = |c: Option<usize>| c.and_then(|c| table.kinds.get(&(row, c)).copied());
        if let Some(id_col) = index.get(&Column::IdNumber).copied() {
            if kind(Some(id_col)) == Some(table::CellKind::ImpreciseNumber) {
                let col = column_letter(id_col);
                problems.push(problem(
                    format!("{col} 列的身份证号在 Excel 中存成了数字，末几位已丢失；请把该列设为文本后重新填写"),
                    format!("the ID number in column {col} is stored as a number in Excel and its last digits are lost: format the column as text and enter them again"),
                ));
                continue;
            }
        }
        let xh_letter = column_letter(xh_col);
        match kind(Some(xh_col)) {
            Some(table::CellKind::ImpreciseNumber) => {
                problems.push(problem(
                    format!("{xh_letter} 列的学号在 Excel 中存成了数字，末几位已丢失"),
                    format!("the student number in column {xh_letter} is stored as a number in Excel and its last digits are lost"),
                ));
                continue;
            }
            Some(table::CellKind::Date) => {
                problems.push(problem(
                    format!("{xh_letter} 列的学号是日期"),
                    format!("the student number in column {xh_letter} is a date"),
                ));
                continue;
            }
            None => {}
        }
        if looks_like_date(&cell(Some(xh_col))) {
            problems.push(problem(
                format!("{xh_letter} 列的学号是日期"),
                format!("the student number in column {xh_letter} is a date"),
            ));
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
    out.notes = notes;
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
