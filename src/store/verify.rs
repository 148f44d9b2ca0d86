//! `gradcap verify`: proves a station database is whole.
//!
//! Checks: SQLite's own integrity check; sequence numbers unique and
//! increasing per session and below the session counter; every photographed
//! record has exactly one primary take; every take's stored SHA-256 matches its
//! bytes and both images decode; the audit chain is unbroken; no clear name
//! anywhere (records, payloads, audit details).

use std::collections::HashMap;

use rusqlite::params;

use super::types::sha256_hex;
use super::{Store, StoreError, GENESIS_HASH};
use crate::code;

/// One thing that is wrong.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Finding {
    pub check: &'static str,
    pub message: String,
}

/// The outcome of a verification.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct VerifyReport {
    pub sessions: i64,
    pub records: i64,
    pub photographed: i64,
    pub takes: i64,
    pub audit_rows: i64,
    pub findings: Vec<Finding>,
}

impl VerifyReport {
    pub fn ok(&self) -> bool {
        self.findings.is_empty()
    }

    fn add(&mut self, check: &'static str, message: String) {
        self.findings.push(Finding { check, message });
    }

    /// What `gradcap verify` prints for people: the counts of the database
    /// at `path`, then `ok` or every `FAIL` of each check, in [`CHECKS`] order.
    pub fn lines(&self, path: &std::path::Path) -> Vec<String> {
        let mut lines = vec![format!(
            "{}: {} sessions, {} records ({} photographed), {} takes, {} audit rows",
            path.display(),
            self.sessions,
            self.records,
            self.photographed,
            self.takes,
            self.audit_rows
        )];
        for check in CHECKS {
            let failed: Vec<_> = self.findings.iter().filter(|f| f.check == check).collect();
            if failed.is_empty() {
                lines.push(format!("ok    {check}"));
            }
            lines.extend(failed.iter().map(|f| format!("FAIL  {check}: {}", f.message)));
        }
        lines
    }
}

/// The checks, by name, in the order they run.
pub const CHECKS: [&str; 8] =
    ["integrity", "seq", "primary_take", "images", "audit_chain", "audit_links", "masking", "witness"];

impl Store {
    /// Runs every check; a finding never stops the others.
    pub fn verify(&self) -> Result<VerifyReport, StoreError> {
        let mut report = VerifyReport::default();
        let conn = self.conn();

        // integrity
        let mut stmt = conn.prepare("PRAGMA integrity_check")?;
        let lines: Vec<String> = stmt.query_map([], |r| r.get(0))?.collect::<Result<_, _>>()?;
        if lines != ["ok"] {
            for line in lines {
                report.add("integrity", line);
            }
        }

        let mut stmt = conn.prepare("PRAGMA foreign_key_check")?;
        let orphans: Vec<(String, i64)> =
            stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<Result<_, _>>()?;
        for (table, rowid) in orphans {
            report.add("integrity", format!("{table} row {rowid} refers to a row that does not exist"));
        }

        report.sessions = conn.query_row("SELECT COUNT(*) FROM sessions", [], |r| r.get(0))?;
        report.records = conn.query_row("SELECT COUNT(*) FROM records", [], |r| r.get(0))?;
        report.photographed =
            conn.query_row("SELECT COUNT(*) FROM records WHERE status = 'photographed'", [], |r| r.get(0))?;
        report.takes = conn.query_row("SELECT COUNT(*) FROM takes", [], |r| r.get(0))?;
        report.audit_rows = conn.query_row("SELECT COUNT(*) FROM audit", [], |r| r.get(0))?;

        // seq: unique, increasing in scan (row) order, below the counter.
        let next_seq: HashMap<i64, i64> = conn
            .prepare("SELECT id, next_seq FROM sessions")?
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<_, _>>()?;
        let mut last_seq: HashMap<i64, i64> = HashMap::new();
        let mut stmt = conn.prepare("SELECT id, session_id, seq FROM records ORDER BY id")?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?, r.get::<_, i64>(2)?)))?;
        for row in rows {
            let (id, session, seq) = row?;
            if let Some(&prev) = last_seq.get(&session) {
                if seq <= prev {
                    report.add("seq", format!("record {id}: seq {seq} after {prev} in session {session}"));
                }
            }
            last_seq.insert(session, seq);
            match next_seq.get(&session) {
                Some(&next) if seq >= next => {
                    report.add("seq", format!("record {id}: seq {seq} not below the session counter {next}"))
                }
                None => report.add("seq", format!("record {id}: session {session} does not exist")),
                _ => {}
            }
        }

        // seq: a displayed number names one record per station and day, for
        // ever (an earlier build split a day into two sessions on a settings change).
        let mut stmt = conn.prepare(
            "SELECT s.station, s.session_date, r.seq, group_concat(r.id, ', ')
             FROM records r JOIN sessions s ON s.id = r.session_id
             GROUP BY s.station, s.session_date, r.seq HAVING COUNT(*) > 1 ORDER BY s.session_date, s.station, r.seq",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, i64>(2)?, r.get::<_, String>(3)?))
        })?;
        for row in rows {
            let (station, date, seq, ids) = row?;
            report.add(
                "seq",
                format!(
                    "number {} is on more than one record at station {station} on {date} (records {ids})",
                    super::display_seq(&station, seq)
                ),
            );
        }

        // primary_take: photographed ⇔ exactly one primary take (voided records may keep theirs).
        let mut stmt = conn.prepare(
            "SELECT r.id, r.seq, r.status, (SELECT COUNT(*) FROM takes t WHERE t.record_id = r.id AND t.is_primary = 1),
                    r.reshoot_session_id IS NOT NULL,
                    (SELECT COUNT(*) FROM takes t WHERE t.record_id = r.id AND t.is_primary = 1 AND t.rejected_at IS NOT NULL)
             FROM records r",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, i64>(3)?,
                r.get::<_, bool>(4)?,
                r.get::<_, i64>(5)?,
            ))
        })?;
        for row in rows {
            let (id, seq, status, primaries, reshoot, rejected_primary) = row?;
            if reshoot && status != "photographed" {
                report.add("primary_take", format!("record {id} (seq {seq}, {status}) has a re-shoot pending"));
            }
            if rejected_primary > 0 {
                report.add("primary_take", format!("record {id} (seq {seq}): its primary take was rejected"));
            }
            let bad = match status.as_str() {
                "photographed" => primaries != 1,
                "voided" => primaries > 1,
                _ => primaries != 0,
            };
            if bad {
                report.add("primary_take", format!("record {id} (seq {seq}, {status}) has {primaries} primary takes"));
            }
        }

        // images: every take's bytes match their hash and decode.
        let mut stmt = conn.prepare("SELECT id, deliverable_quality FROM takes WHERE deliverable_quality < 60")?;
        let low: Vec<(i64, i64)> = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<Result<_, _>>()?;
        for (id, q) in low {
            report.add("images", format!("take {id}: JPEG quality {q} is below 60"));
        }
        let ids: Vec<i64> =
            conn.prepare("SELECT id FROM takes ORDER BY id")?.query_map([], |r| r.get(0))?.collect::<Result<_, _>>()?;
        for id in ids {
            type Row = (Vec<u8>, String, Vec<u8>, String, i64, i64, Option<String>, bool);
            let (orig, orig_sha, deliv, deliv_sha, orig_len, deliv_len, purged_at, exported): Row = conn.query_row(
                "SELECT original_jpeg, original_sha256, deliverable_jpeg, deliverable_sha256, original_bytes,
                        deliverable_bytes, purged_at,
                        EXISTS (SELECT 1 FROM exported e WHERE e.record_id = takes.record_id)
                 FROM takes WHERE id = ?1",
                params![id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?, r.get(7)?)),
            )?;
            if purged_at.is_some() {
                // Deleted after handover: nothing left to check but that it
                // is empty and went out in a verified export first.
                if !orig.is_empty() || !deliv.is_empty() {
                    report.add("images", format!("take {id}: marked purged but still holds image data"));
                }
                if !exported {
                    report.add("images", format!("take {id}: purged but its record was never exported"));
                }
                continue;
            }
            for (what, bytes, sha, len) in
                [("original", &orig, &orig_sha, orig_len), ("deliverable", &deliv, &deliv_sha, deliv_len)]
            {
                if sha256_hex(bytes) != *sha {
                    report.add("images", format!("take {id}: {what} SHA-256 does not match its bytes"));
                }
                if bytes.len() as i64 != len {
                    report.add("images", format!("take {id}: {what} is {} bytes, recorded {len}", bytes.len()));
                }
                match image::load_from_memory_with_format(bytes, image::ImageFormat::Jpeg) {
                    Ok(img) if what == "deliverable" && (img.width(), img.height()) != (480, 640) => report.add(
                        "images",
                        format!("take {id}: deliverable is {}x{}, not 480x640", img.width(), img.height()),
                    ),
                    Ok(_) => {}
                    Err(e) => report.add("images", format!("take {id}: {what} does not decode: {e}")),
                }
            }
        }

        // images: a studio camera file bound to a take is that take's original.
        // (A database read before its migration has no such table yet.)
        let has_camera_files: bool = conn.query_row(
            "SELECT EXISTS (SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'camera_files')",
            [],
            |r| r.get(0),
        )?;
        let bound: Vec<(i64, i64, String, Option<String>)> = if has_camera_files {
            conn.prepare(
                "SELECT c.id, c.take_id, c.sha256, t.original_sha256 FROM camera_files c
                 LEFT JOIN takes t ON t.id = c.take_id WHERE c.status = 'bound'",
            )?
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
            .collect::<Result<_, _>>()?
        } else {
            Vec::new()
        };
        for (id, take, sha, original) in bound {
            match original {
                None => report.add("images", format!("camera file {id}: bound to take {take}, which does not exist")),
                Some(o) if o != sha => {
                    report.add("images", format!("camera file {id}: take {take}'s original is not the camera's file"))
                }
                Some(_) => {}
            }
        }

        // audit_chain
        let mut prev = GENESIS_HASH.to_string();
        for entry in self.audit_log()? {
            if entry.prev_hash != prev {
                report.add("audit_chain", format!("audit row {}: chain broken (prev_hash does not match)", entry.id));
            }
            if entry.expected_hash() != entry.hash {
                report.add("audit_chain", format!("audit row {}: content does not match its hash", entry.id));
            }
            if let Ok(serde_json::Value::Object(detail)) = serde_json::from_str::<serde_json::Value>(&entry.detail) {
                if let Some(serde_json::Value::String(xm)) = detail.get("xm") {
                    if !code::is_masked_name(xm) {
                        report.add("masking", format!("audit row {}: unmasked name", entry.id));
                    }
                }
            }
            prev = entry.hash;
        }

        self.verify_audit_links(&mut report)?;

        // images: scan thumbnails match their hash and decode.
        let mut stmt = conn
            .prepare("SELECT id, scan_thumb_jpeg, scan_thumb_sha256 FROM records WHERE scan_thumb_jpeg IS NOT NULL")?;
        let rows = stmt.query_map([], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, rusqlite::types::Value>(1)?, r.get::<_, Option<String>>(2)?))
        })?;
        for row in rows {
            let (id, value, hash) = row?;
            let rusqlite::types::Value::Blob(jpeg) = value else {
                report.add("images", format!("record {id}: scan thumbnail is not image data"));
                continue;
            };
            match hash {
                Some(h) if super::sha256_hex(&jpeg) != h => {
                    report.add("images", format!("record {id}: scan thumbnail SHA-256 does not match its bytes"))
                }
                // Thumbnails stored before they were hashed: decoding is all there is to check.
                _ => {
                    if let Err(e) = image::load_from_memory(&jpeg) {
                        report.add("images", format!("record {id}: scan thumbnail does not decode: {e}"));
                    }
                }
            }
        }

        // witness: the database is not behind what its witness saw committed.
        if let Some(detail) = self.behind_witness()? {
            report.add("witness", format!("committed captures are missing: {detail}"));
        }

        // masking: stored names and the names inside stored payloads.
        // Roster rows by their row id: a 学号 holding an ID must not be echoed.
        let mut stmt = conn.prepare("SELECT id, xh, xm, class, college, major, level, zjhm FROM roster")?;
        let rows = stmt.query_map([], |r| {
            let mut texts = Vec::with_capacity(7);
            for i in 1..=7 {
                texts.push(r.get::<_, String>(i)?);
            }
            Ok((r.get::<_, i64>(0)?, texts))
        })?;
        for row in rows {
            let (id, texts) = row?;
            let [xh, xm, ..] = texts.as_slice() else { continue };
            let clear_id = texts.iter().any(|t| !code::guard::stored_text_is_safe(t));
            if clear_id {
                report.add("masking", format!("roster row {id}: a stored field holds a full ID number"));
            } else if !code::is_masked_name(xm) {
                report.add("masking", format!("roster {xh}: the stored name is not masked"));
            }
            if texts.iter().any(|t| code::guard::has_control_character(t)) {
                report.add("masking", format!("roster row {id}: a stored field holds a control character"));
            }
        }
        // What is stored, field by field — not a re-parse that could be
        // fooled the same way as the scan: the name masked, the ID tail four
        // characters, no full ID number in any stored text, unknown keys of
        // the safe kind only, and the stored payload exactly the checked fields.
        let mut stmt = conn
            .prepare("SELECT id, sjc, cjm, yxdm, zjhm, xh, cc, xllb, fy, xm, bh, extra_json, payload FROM records")?;
        let rows = stmt.query_map([], |r| {
            let mut texts = Vec::with_capacity(12);
            for i in 1..=12 {
                texts.push(r.get::<_, String>(i)?);
            }
            Ok((r.get::<_, i64>(0)?, texts))
        })?;
        for row in rows {
            let (id, t) = row?;
            let [sjc, cjm, yxdm, zjhm, xh, cc, xllb, fy, xm, bh, extra_json, payload] = t.as_slice() else {
                continue;
            };
            if !code::is_masked_name(xm) {
                report.add("masking", format!("record {id}: the stored name is not masked"));
            }
            if !code::is_id_tail(zjhm) {
                report.add("masking", format!("record {id}: the stored ID tail is not four characters"));
            }
            // The token is opaque (hex digits in a row are no ID number); the
            // payload is checked by the guard itself below.
            let unsafe_text = t[..11].iter().enumerate().any(|(i, s)| {
                if i == 1 {
                    code::guard::token_holds_full_id_number(s)
                } else {
                    !code::guard::stored_text_is_safe(s)
                }
            });
            // Numbers of any JSON type too (a float as large as an ID), by the guard's own rule.
            let extra_value: serde_json::Value = serde_json::from_str(extra_json).unwrap_or_default();
            let unsafe_extra =
                matches!(code::guard::refuse_full_id_numbers(&extra_value), Err(code::CodeError::FullIdNumber));
            if unsafe_text || unsafe_extra {
                report.add("masking", format!("record {id}: a stored field holds a full ID number"));
            }
            if t[..11].iter().any(|s| code::guard::has_control_character(s))
                || code::guard::refuse_full_id_numbers(&extra_value) == Err(code::CodeError::ControlCharacter)
            {
                report.add("masking", format!("record {id}: a stored field holds a control character"));
            }
            let extra: serde_json::Map<String, serde_json::Value> =
                serde_json::from_str(extra_json).unwrap_or_default();
            if code::guard::safe_extras(extra.clone()).len() != extra.len() {
                report.add("masking", format!("record {id}: an unknown field that could hold a name is stored"));
            }
            let stored = code::CaptureCode {
                sjc: sjc.clone(),
                cjm: cjm.clone(),
                yxdm: yxdm.clone(),
                zjhm: zjhm.clone(),
                xh: xh.clone(),
                cc: cc.clone(),
                xllb: xllb.clone(),
                fy: fy.clone(),
                xm: xm.clone(),
                bh: bh.clone(),
                extra,
            };
            match code::parse(payload) {
                Ok(c) if c == stored => {}
                Ok(_) => {
                    report.add("masking", format!("record {id}: the stored payload differs from the stored fields"))
                }
                Err(e) => {
                    report.add("masking", format!("record {id}: the stored payload is refused by the guard: {e}"))
                }
            }
        }
        Ok(report)
    }

    /// The data agrees with the audit log: every record was scanned, every
    /// take captured with the hashes it has now, and every photographed
    /// record's primary take is the one its last acceptance names.
    fn verify_audit_links(&self, report: &mut VerifyReport) -> Result<(), StoreError> {
        let conn = self.conn();
        let mut scanned: HashMap<i64, ()> = HashMap::new();
        let mut captured: HashMap<i64, (String, String)> = HashMap::new();
        let mut accepted: HashMap<i64, i64> = HashMap::new();
        for entry in self.audit_log()? {
            let detail: serde_json::Value = serde_json::from_str(&entry.detail).unwrap_or_default();
            match (entry.action.as_str(), entry.record_id, entry.take_id) {
                ("scanned", Some(r), _) => {
                    scanned.insert(r, ());
                }
                ("take_captured", _, Some(t)) => {
                    let sha = |k: &str| detail.get(k).and_then(|v| v.as_str()).unwrap_or_default().to_string();
                    captured.insert(t, (sha("original_sha256"), sha("deliverable_sha256")));
                }
                ("accepted" | "reshoot_accepted", Some(r), Some(t)) => {
                    accepted.insert(r, t);
                }
                _ => {}
            }
        }
        let records: Vec<(i64, String)> = conn
            .prepare("SELECT id, status FROM records ORDER BY id")?
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<_, _>>()?;
        for (id, status) in &records {
            if !scanned.contains_key(id) {
                report.add("audit_links", format!("record {id} has no scan in the audit log"));
            }
            if status == "photographed" {
                let primary: Option<i64> = conn
                    .query_row("SELECT id FROM takes WHERE record_id = ?1 AND is_primary = 1", [id], |r| r.get(0))
                    .ok();
                if primary.is_some() && primary != accepted.get(id).copied() {
                    report.add(
                        "audit_links",
                        format!("record {id}: the primary take is not the one the audit log says was accepted"),
                    );
                }
            }
        }
        let takes: Vec<(i64, String, String)> = conn
            .prepare("SELECT id, original_sha256, deliverable_sha256 FROM takes ORDER BY id")?
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
            .collect::<Result<_, _>>()?;
        for (id, orig, deliv) in takes {
            match captured.get(&id) {
                None => report.add("audit_links", format!("take {id} has no capture in the audit log")),
                Some((a, b)) if *a != orig || *b != deliv => {
                    report.add("audit_links", format!("take {id}: its hashes differ from those audited at capture"))
                }
                Some(_) => {}
            }
        }
        Ok(())
    }
}
