//! Rosters, the schedule, and the per-class reconciliation the student
//! assistants keep: who of a class has scanned, who is photographed, who is
//! missing, and which scans match no roster row or a different class.
//!
//! Matching: a record joins its roster row by 学号, falling back to masked
//! name + last four of the ID when that pair is unique. Voided records do
//! not count. Mismatches are listed, never hidden.

use std::collections::{BTreeMap, HashMap};

use rusqlite::{params, TransactionBehavior};
use serde_json::json;

use super::audit::{self, AuditRefs};
use super::{RecordStatus, Store, StoreError};
use super::{RosterEntry, ScheduleRow};

/// What an import changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct ImportSummary {
    pub added: usize,
    pub updated: usize,
}

/// A roster student in a report.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RosterStudent {
    pub xh: String,
    pub xm: String,
    /// `not_scanned`, `waiting` or `skipped`.
    pub state: &'static str,
    /// Why it was skipped (empty otherwise).
    pub reason: String,
}

/// One class's reconciliation.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ClassReport {
    pub class: String,
    pub expected: usize,
    pub scanned: usize,
    pub photographed: usize,
    pub skipped: usize,
    pub missing: usize,
    pub missing_students: Vec<RosterStudent>,
    /// First and last acceptance time of the class's photos (RFC 3339), if any.
    pub first_capture: Option<String>,
    pub last_capture: Option<String>,
}

/// A scan that does not fit the rosters.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Unmatched {
    pub seq: String,
    pub xh: String,
    pub xm: String,
    /// The class (bh, else fy) the code carries.
    pub code_class: String,
    /// `not_on_roster` or `class_differs`.
    pub reason: &'static str,
    /// The roster's class, for `class_differs`.
    pub roster_class: String,
}

/// Where one roster student stands: the answer to the assistants' search.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StudentStanding {
    pub xh: String,
    pub xm: String,
    pub class: String,
    /// `photographed`, `waiting`, `skipped` or `not_scanned`.
    pub state: &'static str,
    /// The number of the best scan (`2-0153`); empty when not scanned.
    pub seq: String,
    /// When that record reached its state (RFC 3339), if it did.
    pub at: Option<String>,
    /// Why it was skipped.
    pub reason: String,
}

/// The assistants' report.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Report {
    pub classes: Vec<ClassReport>,
    pub unmatched: Vec<Unmatched>,
    /// Every roster student's standing (the search), not in the JSON report.
    #[serde(skip)]
    pub students: Vec<StudentStanding>,
}

impl Report {
    /// What `gradcap report` prints for people: a row per class with its
    /// missing students under it, then the scans that do not fit the rosters.
    pub fn lines(&self) -> Vec<String> {
        let mut lines =
            vec!["班级 class | 应拍 expected | 已扫码 scanned | 已拍 photographed | 跳过 skipped | 未拍 missing"
                .to_string()];
        for c in &self.classes {
            lines.push(format!(
                "{} | {} | {} | {} | {} | {}",
                c.class, c.expected, c.scanned, c.photographed, c.skipped, c.missing
            ));
            lines.extend(
                c.missing_students.iter().map(|m| format!("    未拍 missing: {} {} ({})", m.xh, m.xm, m.state)),
            );
        }
        lines.extend(self.unmatched.iter().map(|u| {
            format!(
                "不符 mismatch: {} {} {} 码上班级 code class {:?} 名单 roster {:?} ({})",
                u.seq, u.xh, u.xm, u.code_class, u.roster_class, u.reason
            )
        }));
        lines
    }
}

/// A register line: a scanned student of a class, in sequence order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegisterLine {
    /// The capture number; empty when not scanned.
    pub seq: String,
    pub xh: String,
    pub xm: String,
    pub class: String,
    /// `photographed`, `waiting`, `skipped` or `not_scanned`.
    pub state: &'static str,
    /// Why it was skipped (empty otherwise).
    pub reason: String,
    /// A scan of this class that no roster row has (only said when the
    /// class has a roster).
    pub not_on_roster: bool,
}

/// A student's standing as the register and the sheet print it.
pub fn standing_text(state: &str, reason: &str) -> crate::text::Text {
    use crate::text::Text;
    match (state, reason.trim()) {
        ("photographed", _) => Text::new("已拍", "photographed"),
        ("waiting", _) => Text::new("等待拍摄", "waiting"),
        ("skipped", "") => Text::new("跳过", "skipped"),
        ("skipped", why) => Text::new(format!("跳过：{why}"), format!("skipped: {why}")),
        ("not_scanned", _) => Text::new("未扫码", "not scanned"),
        (other, _) => Text::same(other),
    }
}

impl RegisterLine {
    /// What the register's status column says.
    pub fn status_text(&self) -> crate::text::Text {
        let mut standing = standing_text(self.state, &self.reason);
        if self.state == "skipped" {
            // The reason is the operator's words, once: the column is narrow.
            standing.en = "skipped".into();
        }
        if self.not_on_roster {
            crate::text::Text::new(format!("{}（不在名单）", standing.zh), format!("{}, not on roster", standing.en))
        } else {
            standing
        }
    }
}

/// The rosters, the scans, and per scan the roster row it joins.
type MatchedScans = (Vec<RosterEntry>, Vec<ScanRow>, Vec<Option<usize>>);

struct ScanRow {
    id: super::RecordId,
    seq: String,
    xh: String,
    xm: String,
    zjhm: String,
    bh: String,
    fy: String,
    status: RecordStatus,
    status_at: Option<String>,
    status_reason: String,
}

impl RecordStatus {
    /// The standing word the reports use for a record of this status.
    fn as_str_standing(self) -> &'static str {
        match self {
            RecordStatus::Photographed => "photographed",
            RecordStatus::Waiting => "waiting",
            RecordStatus::Skipped => "skipped",
            RecordStatus::Voided => "not_scanned",
        }
    }
}

impl Store {
    /// Imports roster rows in one transaction: new 学号 are added, known ones
    /// updated (a corrected file replaces what an earlier one said).
    pub fn import_roster(
        &mut self,
        entries: &[RosterEntry],
        source: &str,
        now: &str,
    ) -> Result<ImportSummary, StoreError> {
        let tx = self.conn_mut().transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut summary = ImportSummary::default();
        for e in entries {
            let existed: bool =
                tx.query_row("SELECT COUNT(*) FROM roster WHERE xh = ?1", [&e.xh], |r| r.get::<_, i64>(0))? > 0;
            tx.execute(
                "INSERT INTO roster (xh, xm, zjhm, class, college, major, level, source, imported_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
                 ON CONFLICT(xh) DO UPDATE SET xm = excluded.xm, zjhm = excluded.zjhm, class = excluded.class,
                     college = excluded.college, major = excluded.major, level = excluded.level,
                     source = excluded.source, imported_at = excluded.imported_at",
                params![e.xh, e.xm, e.zjhm, e.class, e.college, e.major, e.level, source, now],
            )?;
            if existed {
                summary.updated += 1;
            } else {
                summary.added += 1;
            }
        }
        audit::append(
            &tx,
            now,
            AuditRefs::default(),
            "roster_imported",
            &json!({"source": source, "added": summary.added, "updated": summary.updated}),
        )?;
        tx.commit()?;
        Ok(summary)
    }

    /// Imports schedule rows in one transaction (a repeated line is updated).
    pub fn import_schedule(
        &mut self,
        rows: &[ScheduleRow],
        source: &str,
        now: &str,
    ) -> Result<ImportSummary, StoreError> {
        let tx = self.conn_mut().transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut summary = ImportSummary::default();
        for r in rows {
            let changed = tx.execute(
                "UPDATE schedule SET head_count = ?5, source = ?6, imported_at = ?7
                 WHERE class = ?1 AND session_date = ?2 AND slot = ?3 AND station = ?4",
                params![r.class, r.date, r.slot, r.station, r.head_count, source, now],
            )?;
            if changed > 0 {
                summary.updated += 1;
                continue;
            }
            tx.execute(
                "INSERT INTO schedule (class, session_date, slot, station, head_count, source, imported_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![r.class, r.date, r.slot, r.station, r.head_count, source, now],
            )?;
            summary.added += 1;
        }
        audit::append(
            &tx,
            now,
            AuditRefs::default(),
            "schedule_imported",
            &json!({"source": source, "added": summary.added, "updated": summary.updated}),
        )?;
        tx.commit()?;
        Ok(summary)
    }

    /// The schedule of one station on one date, by start time.
    pub fn schedule_for(&self, station: &str, date: &str) -> Result<Vec<ScheduleRow>, StoreError> {
        let mut stmt = self.conn().prepare(
            "SELECT id, class, session_date, slot, station, head_count FROM schedule
             WHERE station = ?1 AND session_date = ?2",
        )?;
        let rows = stmt.query_map(params![station, date], |r| {
            Ok(ScheduleRow {
                row: r.get::<_, i64>(0)? as usize,
                class: r.get(1)?,
                date: r.get(2)?,
                slot: r.get(3)?,
                station: r.get(4)?,
                head_count: r.get(5)?,
            })
        })?;
        let mut rows: Vec<ScheduleRow> = rows.collect::<Result<_, _>>()?;
        rows.sort_by_key(|r| (r.start_minutes().unwrap_or(u32::MAX), r.class.clone()));
        Ok(rows)
    }

    /// All roster rows.
    pub fn roster(&self) -> Result<Vec<RosterEntry>, StoreError> {
        let mut stmt = self
            .conn()
            .prepare("SELECT id, xh, xm, zjhm, class, college, major, level FROM roster ORDER BY class, xh")?;
        let rows = stmt.query_map([], |r| {
            Ok(RosterEntry {
                row: r.get::<_, i64>(0)? as usize,
                xh: r.get(1)?,
                xm: r.get(2)?,
                zjhm: r.get(3)?,
                class: r.get(4)?,
                college: r.get(5)?,
                major: r.get(6)?,
                level: r.get(7)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn scan_rows(&self) -> Result<Vec<ScanRow>, StoreError> {
        let mut stmt = self.conn().prepare(
            "SELECT s.station, r.seq, r.xh, r.xm, r.zjhm, r.bh, r.fy, r.status, r.status_at, r.status_reason, r.id
             FROM records r JOIN sessions s ON s.id = r.session_id
             WHERE r.status != 'voided' ORDER BY r.session_id, r.seq",
        )?;
        let rows = stmt.query_map([], |r| {
            let station: String = r.get(0)?;
            let seq: i64 = r.get(1)?;
            let status: String = r.get(7)?;
            Ok(ScanRow {
                id: r.get(10)?,
                seq: super::display_seq(&station, seq),
                xh: r.get(2)?,
                xm: r.get(3)?,
                zjhm: r.get(4)?,
                bh: r.get(5)?,
                fy: r.get(6)?,
                status: RecordStatus::parse(&status).unwrap_or(RecordStatus::Voided),
                status_at: r.get(8)?,
                status_reason: r.get(9)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The rosters, every (non-voided) scan, and the roster row each joins.
    fn matched_scans(&self) -> Result<MatchedScans, StoreError> {
        let roster = self.roster()?;
        let scans = self.scan_rows()?;
        let matched = Self::match_scans(&roster, &scans);
        Ok((roster, scans, matched))
    }

    /// Matches every (non-voided) scan to the rosters; returns, per scan, the
    /// roster index it joins (if any).
    fn match_scans(roster: &[RosterEntry], scans: &[ScanRow]) -> Vec<Option<usize>> {
        let by_xh: HashMap<&str, usize> = roster.iter().enumerate().map(|(i, e)| (e.xh.as_str(), i)).collect();
        let mut by_name_id: HashMap<(&str, &str), Vec<usize>> = HashMap::new();
        for (i, e) in roster.iter().enumerate() {
            if !e.zjhm.is_empty() {
                by_name_id.entry((e.xm.as_str(), e.zjhm.as_str())).or_default().push(i);
            }
        }
        scans
            .iter()
            .map(|s| {
                by_xh.get(s.xh.as_str()).copied().or_else(|| {
                    match by_name_id.get(&(s.xm.as_str(), s.zjhm.as_str())).map(Vec::as_slice) {
                        Some([only]) => Some(*only),
                        _ => None,
                    }
                })
            })
            .collect()
    }

    /// The reconciliation per class (all classes, or only `class`).
    pub fn report(&self, class: Option<&str>) -> Result<Report, StoreError> {
        let (roster, scans, matched) = self.matched_scans()?;
        // Per roster student: the best state across their scans.
        let mut best: Vec<Option<(RecordStatus, Option<String>)>> = vec![None; roster.len()];
        let mut best_scan: Vec<Option<usize>> = vec![None; roster.len()];
        let rank = |s: RecordStatus| match s {
            RecordStatus::Photographed => 3,
            RecordStatus::Waiting => 2,
            RecordStatus::Skipped => 1,
            RecordStatus::Voided => 0,
        };
        let mut unmatched = Vec::new();
        for (scan_index, (scan, m)) in scans.iter().zip(&matched).enumerate() {
            let code_class = if scan.bh.is_empty() { scan.fy.clone() } else { scan.bh.clone() };
            match m {
                None => unmatched.push(Unmatched {
                    seq: scan.seq.clone(),
                    xh: scan.xh.clone(),
                    xm: scan.xm.clone(),
                    code_class,
                    reason: "not_on_roster",
                    roster_class: String::new(),
                }),
                Some(i) => {
                    let e = &roster[*i];
                    let differs = if !scan.bh.is_empty() {
                        scan.bh.trim() != e.class.trim()
                    } else {
                        !scan.fy.is_empty() && !e.college.is_empty() && scan.fy.trim() != e.college.trim()
                    };
                    if differs {
                        unmatched.push(Unmatched {
                            seq: scan.seq.clone(),
                            xh: scan.xh.clone(),
                            xm: scan.xm.clone(),
                            code_class,
                            reason: "class_differs",
                            roster_class: e.class.clone(),
                        });
                    }
                    let better = best[*i].as_ref().is_none_or(|(s, _)| rank(scan.status) > rank(*s));
                    if better {
                        best[*i] = Some((scan.status, scan.status_at.clone()));
                        best_scan[*i] = Some(scan_index);
                    }
                }
            }
        }
        let mut classes: BTreeMap<&str, ClassReport> = BTreeMap::new();
        let mut students = Vec::new();
        for (i, e) in roster.iter().enumerate() {
            if class.is_some_and(|c| c != e.class) {
                continue;
            }
            let scan = best_scan[i].map(|k| &scans[k]).filter(|s| s.status != RecordStatus::Voided);
            students.push(StudentStanding {
                xh: e.xh.clone(),
                xm: e.xm.clone(),
                class: e.class.clone(),
                state: match scan.map(|s| s.status) {
                    Some(RecordStatus::Photographed) => "photographed",
                    Some(RecordStatus::Waiting) => "waiting",
                    Some(RecordStatus::Skipped) => "skipped",
                    _ => "not_scanned",
                },
                seq: scan.map(|s| s.seq.clone()).unwrap_or_default(),
                at: scan.and_then(|s| s.status_at.clone()),
                reason: scan.map(|s| s.status_reason.clone()).unwrap_or_default(),
            });
            let c = classes.entry(e.class.as_str()).or_insert_with(|| ClassReport {
                class: e.class.clone(),
                expected: 0,
                scanned: 0,
                photographed: 0,
                skipped: 0,
                missing: 0,
                missing_students: Vec::new(),
                first_capture: None,
                last_capture: None,
            });
            c.expected += 1;
            let state = match &best[i] {
                None => "not_scanned",
                Some((RecordStatus::Photographed, at)) => {
                    c.scanned += 1;
                    c.photographed += 1;
                    if let Some(at) = at {
                        if c.first_capture.as_ref().is_none_or(|f| at < f) {
                            c.first_capture = Some(at.clone());
                        }
                        if c.last_capture.as_ref().is_none_or(|l| at > l) {
                            c.last_capture = Some(at.clone());
                        }
                    }
                    continue;
                }
                Some((RecordStatus::Waiting, _)) => {
                    c.scanned += 1;
                    "waiting"
                }
                Some((RecordStatus::Skipped, _)) => {
                    c.scanned += 1;
                    c.skipped += 1;
                    "skipped"
                }
                Some((RecordStatus::Voided, _)) => "not_scanned",
            };
            c.missing += 1;
            let reason = match state {
                "skipped" => best_scan[i].map(|k| scans[k].status_reason.clone()).unwrap_or_default(),
                _ => String::new(),
            };
            c.missing_students.push(RosterStudent { xh: e.xh.clone(), xm: e.xm.clone(), state, reason });
        }
        if let Some(c) = class {
            unmatched.retain(|u| u.code_class == c || u.roster_class == c);
        }
        Ok(Report { classes: classes.into_values().collect(), unmatched, students })
    }

    /// The register of a class. With a roster: every roster student of the
    /// class in 学号 order with their best scan's number and standing, then
    /// the class's scans that no roster row has, in number order. Without
    /// one: the class's scans in number order.
    pub fn register_lines(&self, class: &str) -> Result<Vec<RegisterLine>, StoreError> {
        let report = self.report(Some(class))?;
        let mut lines: Vec<RegisterLine> = report
            .students
            .iter()
            .filter(|s| s.class == class)
            .map(|s| RegisterLine {
                seq: s.seq.clone(),
                xh: s.xh.clone(),
                xm: s.xm.clone(),
                class: s.class.clone(),
                state: s.state,
                reason: if s.state == "skipped" { s.reason.clone() } else { String::new() },
                not_on_roster: false,
            })
            .collect();
        lines.sort_by(|a, b| a.xh.cmp(&b.xh));
        let has_roster = !lines.is_empty();
        let (_, scans, matched) = self.matched_scans()?;
        for (scan, m) in scans.iter().zip(&matched) {
            // A scan joined to a roster row is on that row's class's register.
            if m.is_none() && scan.bh == class {
                lines.push(RegisterLine {
                    seq: scan.seq.clone(),
                    xh: scan.xh.clone(),
                    xm: scan.xm.clone(),
                    class: scan.bh.clone(),
                    state: scan.status.as_str_standing(),
                    reason: if scan.status == RecordStatus::Skipped {
                        scan.status_reason.clone()
                    } else {
                        String::new()
                    },
                    not_on_roster: has_roster,
                });
            }
        }
        Ok(lines)
    }

    /// The photographed records of `class` in number order: those joined to
    /// a roster row of the class, and the class's scans no roster has.
    pub fn photographed_in_class(&self, class: &str) -> Result<Vec<super::RecordId>, StoreError> {
        let (roster, scans, matched) = self.matched_scans()?;
        Ok(scans
            .iter()
            .zip(&matched)
            .filter(|(s, m)| {
                s.status == RecordStatus::Photographed && m.map_or(s.bh == class, |i| roster[i].class == class)
            })
            .map(|(s, _)| s.id)
            .collect())
    }

    /// The classes with photographed students (a roster row's class, else
    /// the code's), sorted: what print sheets can be made for.
    pub fn photographed_classes(&self) -> Result<Vec<String>, StoreError> {
        let (roster, scans, matched) = self.matched_scans()?;
        let classes: std::collections::BTreeSet<String> = scans
            .iter()
            .zip(&matched)
            .filter(|(s, _)| s.status == RecordStatus::Photographed)
            .map(|(s, m)| m.map_or(s.bh.clone(), |i| roster[i].class.clone()))
            .filter(|c| !c.trim().is_empty())
            .collect();
        Ok(classes.into_iter().collect())
    }
}
