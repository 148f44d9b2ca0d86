//! The station's rules, event by event, on real SQLite databases.

use super::shutter::{shoot_inline, ShootRefused};
use super::*;
use crate::camera::synth;
use crate::code::drill::{drill_code, DrillStudent};
use crate::store::RecordStatus;

fn info(station: &str) -> SessionInfo {
    SessionInfo {
        school_name: "测试大学".into(),
        school_code: "10697".into(),
        station: station.into(),
        date: "2026-06-01".into(),
        operator: "op".into(),
    }
}

fn student(i: usize) -> DrillStudent {
    DrillStudent::example(&format!("00210{i:05}"))
}

fn payload(i: usize) -> String {
    student(i).example_payload()
}

fn station() -> Station {
    Station::open(Store::open_in_memory_training().unwrap(), &info("2"), StationConfig::default()).unwrap()
}

fn scan(st: &mut Station, i: usize) -> Outcome {
    st.handle(Event::CodeScanned { text: payload(i), frame: None }).unwrap()
}

fn shoot(st: &mut Station, seed: u64) -> Outcome {
    shoot_inline(st, synth::portrait(960, 720, seed)).unwrap()
}

fn seq_of(o: &Outcome) -> i64 {
    match o {
        Outcome::Queued(r) | Outcome::AlreadyWaiting(r) | Outcome::AlreadyPhotographed(r) => r.seq,
        other => panic!("not a scan outcome: {other:?}"),
    }
}

#[test]
fn numbers_are_allocated_in_scan_order_and_shown_with_the_station() {
    let mut st = station();
    for i in 0..3 {
        match scan(&mut st, i) {
            Outcome::Queued(r) => {
                assert_eq!(r.seq, i as i64 + 1);
                assert_eq!(r.display_seq(), format!("2-{:04}", i + 1));
                assert_eq!(r.status, RecordStatus::Waiting);
            }
            other => panic!("{other:?}"),
        }
    }
}

#[test]
fn a_capture_binds_to_the_queue_head_only() {
    let mut st = station();
    scan(&mut st, 0);
    scan(&mut st, 1);
    let Outcome::TakeReady { record, .. } = shoot(&mut st, 1) else { panic!() };
    assert_eq!(record.seq, 1, "the first scanned is photographed first");
    let Outcome::Accepted(r) = st.handle(Event::Accept).unwrap() else { panic!() };
    assert_eq!((r.seq, r.status), (1, RecordStatus::Photographed));
    let Outcome::TakeReady { record, .. } = shoot(&mut st, 2) else { panic!() };
    assert_eq!(record.seq, 2);
}

#[test]
fn a_take_prepared_for_a_student_who_is_no_longer_head_is_not_stored() {
    let mut st = station();
    scan(&mut st, 0);
    scan(&mut st, 1);
    let head = st.head().unwrap().unwrap();
    let prepared = prepare_take(head.id, &synth::portrait(960, 720, 3), None, &StationConfig::default(), None).unwrap();
    // The operator skips the head while the take was being prepared.
    st.handle(Event::Skip { reason: "未到".into() }).unwrap();
    let err = st.handle(Event::TakePrepared(prepared)).unwrap_err();
    assert!(matches!(err, StationError::Store(StoreError::HeadChanged { .. })), "{err}");
    let second = st.head().unwrap().unwrap();
    assert!(st.store().takes(second.id).unwrap().is_empty(), "nothing bound to the new head");
    assert!(st.store().takes(head.id).unwrap().is_empty(), "nothing bound to the skipped student");
}

#[test]
fn rescanning_a_waiting_code_keeps_its_number() {
    let mut st = station();
    let first = seq_of(&scan(&mut st, 0));
    scan(&mut st, 1);
    let again = scan(&mut st, 0);
    assert!(matches!(again, Outcome::AlreadyWaiting(_)));
    assert_eq!(seq_of(&again), first);
    assert_eq!(st.store().session(st.session().id).unwrap().next_seq, 3, "no number used up");
}

#[test]
fn a_photographed_student_is_refused_with_the_earlier_number() {
    let mut st = station();
    scan(&mut st, 0);
    shoot(&mut st, 1);
    st.handle(Event::Accept).unwrap();
    let again = scan(&mut st, 0);
    let Outcome::AlreadyPhotographed(r) = &again else { panic!("{again:?}") };
    assert_eq!(r.display_seq(), "2-0001");
    assert!(r.status_at.is_some(), "the earlier time is shown");
    // A newer download of the code (same 学号, newer sjc, even another token) is the same student.
    let mut newer = drill_code(&student(0), "10697", 1_700_000_999_000);
    newer.cjm = "ANOTHERTOKEN".into();
    let o = st.handle(Event::CodeScanned { text: newer.to_payload(), frame: None }).unwrap();
    assert!(matches!(o, Outcome::AlreadyPhotographed(_)), "{o:?}");
    assert!(st.head().unwrap().is_none(), "no new record");
}

#[test]
fn the_same_student_number_at_another_school_is_another_student() {
    let mut st = station();
    scan(&mut st, 0);
    let other = drill_code(&student(0), "10698", 1_700_000_000_000);
    let o = st.handle(Event::CodeScanned { text: other.to_payload(), frame: None }).unwrap();
    assert!(matches!(o, Outcome::Queued(_)), "{o:?}");
}

#[test]
fn a_bad_code_is_an_answer_not_an_error_and_changes_nothing() {
    let mut st = station();
    let o = st.handle(Event::CodeScanned { text: "https://weixin.qq.com/x".into(), frame: None }).unwrap();
    assert!(matches!(o, Outcome::Rejected(crate::code::CodeError::Foreign(_))));
    assert!(st.head().unwrap().is_none());
    assert_eq!(st.store().session(st.session().id).unwrap().next_seq, 1);
}

#[test]
fn reshoot_keeps_the_rejected_take_and_accepts_the_new_one() {
    let mut st = station();
    scan(&mut st, 0);
    shoot(&mut st, 1);
    let Outcome::ReadyForReshoot(r) = st.handle(Event::Reshoot).unwrap() else { panic!() };
    assert_eq!(r.status, RecordStatus::Waiting);
    shoot(&mut st, 2);
    st.handle(Event::Accept).unwrap();
    let takes = st.store().takes(r.id).unwrap();
    assert_eq!(takes.len(), 2, "nothing is lost");
    assert_eq!(takes.iter().filter(|t| t.is_primary).count(), 1);
    assert!(takes[1].is_primary && !takes[0].is_primary);
    let actions: Vec<String> = st.store().audit_for_record(r.id).unwrap().into_iter().map(|a| a.action).collect();
    assert_eq!(actions, ["scanned", "take_captured", "take_rejected", "take_captured", "accepted"]);
}

#[test]
fn accept_needs_a_take_and_shooting_needs_a_student() {
    let mut st = station();
    assert!(matches!(st.handle(Event::Accept), Err(StationError::NothingToReview)));
    let e = shoot_inline(&mut st, synth::portrait(960, 720, 1));
    assert!(matches!(e, Err(ShootRefused::Station(StationError::NoStudent))));
    assert!(matches!(st.handle(Event::Skip { reason: "x".into() }), Err(StationError::NoStudent)));
}

#[test]
fn skip_and_void_need_a_reason_and_are_audited() {
    let mut st = station();
    scan(&mut st, 0);
    let head = st.head().unwrap().unwrap();
    assert!(matches!(
        st.handle(Event::Skip { reason: "  ".into() }),
        Err(StationError::Store(StoreError::ReasonRequired))
    ));
    let Outcome::Skipped(r) = st.handle(Event::Skip { reason: "未到".into() }).unwrap() else { panic!() };
    assert_eq!((r.status, r.status_reason.as_str()), (RecordStatus::Skipped, "未到"));
    assert!(matches!(
        st.handle(Event::Void { record: head.id, reason: String::new() }),
        Err(StationError::Store(StoreError::ReasonRequired))
    ));
    let Outcome::Voided(r) = st.handle(Event::Void { record: head.id, reason: "测试扫码".into() }).unwrap() else {
        panic!()
    };
    assert_eq!(r.status, RecordStatus::Voided);
    let actions: Vec<String> = st.store().audit_for_record(head.id).unwrap().into_iter().map(|a| a.action).collect();
    assert_eq!(actions, ["scanned", "skipped", "voided"]);
}

#[test]
fn a_skipped_student_who_comes_back_gets_a_new_number_at_the_end() {
    let mut st = station();
    scan(&mut st, 0);
    scan(&mut st, 1);
    st.handle(Event::Skip { reason: "未到".into() }).unwrap();
    let back = scan(&mut st, 0);
    assert!(matches!(back, Outcome::Queued(_)));
    assert_eq!(seq_of(&back), 3, "queues behind those already waiting");
    assert_eq!(st.head().unwrap().unwrap().seq, 2);
}

#[test]
fn an_explicit_reshoot_adds_a_take_to_the_same_record_before_the_queue() {
    let mut st = station();
    scan(&mut st, 0);
    shoot(&mut st, 1);
    let Outcome::Accepted(first) = st.handle(Event::Accept).unwrap() else { panic!() };
    scan(&mut st, 1);
    let Outcome::ReshootRequested(r) =
        st.handle(Event::RequestReshoot { record: first.id, reason: "闭眼".into() }).unwrap()
    else {
        panic!()
    };
    assert!(r.reshoot_pending);
    assert_eq!(st.head().unwrap().unwrap().id, first.id, "the re-shoot is shot next");
    // A second re-shoot request cannot pile up.
    assert!(st.handle(Event::RequestReshoot { record: first.id, reason: "again".into() }).is_err());
    let Outcome::TakeReady { record, .. } = shoot(&mut st, 5) else { panic!() };
    assert_eq!(record.id, first.id);
    st.handle(Event::Accept).unwrap();
    let r = st.store().record(first.id).unwrap();
    assert_eq!((r.status, r.reshoot_pending, r.seq), (RecordStatus::Photographed, false, 1));
    let takes = st.store().takes(first.id).unwrap();
    assert_eq!(takes.len(), 2);
    assert!(takes[1].is_primary);
    assert_eq!(st.head().unwrap().unwrap().seq, 2, "then the queue resumes");
}

#[test]
fn cancelling_a_reshoot_keeps_the_accepted_photo() {
    let mut st = station();
    scan(&mut st, 0);
    shoot(&mut st, 1);
    let Outcome::Accepted(first) = st.handle(Event::Accept).unwrap() else { panic!() };
    st.handle(Event::RequestReshoot { record: first.id, reason: "x".into() }).unwrap();
    shoot(&mut st, 2);
    st.handle(Event::CancelReshoot { record: first.id }).unwrap();
    assert!(matches!(st.handle(Event::Accept), Err(StationError::NothingToReview)));
    let primary = st.store().primary_take(first.id).unwrap().unwrap();
    assert_eq!(primary.take_no, 1);
    assert!(st.store().verify().unwrap().ok());
}

#[test]
fn stored_images_match_their_hashes_and_the_database_verifies() {
    let mut st = station();
    for i in 0..4 {
        scan(&mut st, i);
    }
    for i in 0..3 {
        shoot(&mut st, i);
        st.handle(Event::Accept).unwrap();
    }
    st.handle(Event::Skip { reason: "未到".into() }).unwrap();
    let report = st.store().verify().unwrap();
    assert!(report.ok(), "{:?}", report.findings);
    assert_eq!((report.records, report.photographed, report.takes), (4, 3, 3));
    let rec = st.store().records(st.session().id).unwrap();
    let take = st.store().primary_take(rec[0].id).unwrap().unwrap();
    let (orig, deliv) = st.store().take_images(take.id).unwrap();
    assert_eq!(crate::store::sha256_hex(&orig), take.original_sha256);
    assert_eq!(crate::store::sha256_hex(&deliv), take.deliverable_sha256);
    assert_eq!((take.original_width, take.original_height), (960, 720));
}

#[test]
fn the_scan_thumbnail_is_kept_when_a_frame_comes_with_the_scan() {
    let mut st = station();
    let o = st.handle(Event::CodeScanned { text: payload(0), frame: Some(synth::portrait(640, 480, 1)) }).unwrap();
    let Outcome::Queued(r) = o else { panic!() };
    assert!(r.has_scan_thumb);
    let thumb = st.store().scan_thumb(r.id).unwrap().unwrap();
    let img = crate::photo::decode_jpeg(&thumb).unwrap();
    assert_eq!(img.width().max(img.height()), SCAN_THUMB_MAX_SIDE);
}

#[test]
fn sequence_numbers_survive_a_restart_and_are_never_reused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.sqlite");
    {
        let mut st = Station::open(Store::open_training(&path).unwrap(), &info("3"), StationConfig::default()).unwrap();
        scan(&mut st, 0);
        scan(&mut st, 1);
        st.handle(Event::Void { record: st.head().unwrap().unwrap().id, reason: "错扫".into() }).unwrap();
    }
    let mut st = Station::open(Store::open_training(&path).unwrap(), &info("3"), StationConfig::default()).unwrap();
    assert_eq!(seq_of(&scan(&mut st, 2)), 3);
    assert_eq!(seq_of(&scan(&mut st, 0)), 4, "a voided student's rescan gets a fresh number");
}

#[test]
fn audit_rows_cannot_be_changed_or_removed_and_records_cannot_be_deleted() {
    let mut st = station();
    scan(&mut st, 0);
    shoot(&mut st, 1);
    st.handle(Event::Accept).unwrap();
    let conn = st.store().conn();
    assert!(conn.execute("UPDATE audit SET action = 'x'", []).is_err());
    assert!(conn.execute("DELETE FROM audit", []).is_err());
    assert!(conn.execute("DELETE FROM records", []).is_err());
    assert!(conn.execute("DELETE FROM takes", []).is_err());
    assert!(conn.execute("UPDATE takes SET deliverable_jpeg = x'00'", []).is_err());
    assert!(conn.execute("UPDATE records SET cjm = 'other'", []).is_err());
}

#[test]
fn verify_finds_a_broken_chain_a_changed_photo_and_a_clear_name() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v.sqlite");
    {
        let mut st = Station::open(Store::open_training(&path).unwrap(), &info("1"), StationConfig::default()).unwrap();
        scan(&mut st, 0);
        shoot(&mut st, 1);
        st.handle(Event::Accept).unwrap();
        scan(&mut st, 1);
    }
    // Tamper the way a bad actor (or a broken disk) would: around the triggers.
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch(
        "DROP TRIGGER audit_append_only_update; DROP TRIGGER takes_images_immutable; DROP TRIGGER records_identity_immutable;
         UPDATE audit SET detail = '{}' WHERE id = 2;
         UPDATE takes SET deliverable_jpeg = x'FFD8FFD9';
         UPDATE records SET xm = '欧阳娜娜' WHERE seq = 2;",
    )
    .unwrap();
    drop(conn);
    let report = Store::open_read_only(&path).unwrap().verify().unwrap();
    let checks: Vec<&str> = report.findings.iter().map(|f| f.check).collect();
    for expected in ["audit_chain", "images", "masking"] {
        assert!(checks.contains(&expected), "{expected} in {:?}", report.findings);
    }
}

#[test]
fn a_full_disk_saves_nothing_partial_and_the_station_recovers() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("full.sqlite");
    let mut st = Station::open(Store::open_training(&path).unwrap(), &info("1"), StationConfig::default()).unwrap();
    scan(&mut st, 0);
    // Cap the file just above its current size: a 1080p take does not fit.
    let pages: u64 = st.store().conn().query_row("PRAGMA page_count", [], |r| r.get(0)).unwrap();
    st.store().set_max_page_count(Some(pages + 2)).unwrap();
    let frame = synth::portrait(1920, 1080, 1);
    let err = shoot_inline(&mut st, frame.clone()).unwrap_err();
    assert!(matches!(err, ShootRefused::Station(StationError::Store(StoreError::DiskFull))), "{err}");
    assert!(err.to_string().contains("磁盘已满") && err.to_string().contains("disk full"));
    let head = st.head().unwrap().unwrap();
    assert!(st.store().takes(head.id).unwrap().is_empty(), "no partial take");
    assert_eq!(head.status, RecordStatus::Waiting);
    // Scanning still answers from what is stored; a new scan may fail cleanly.
    let _ = st.handle(Event::CodeScanned { text: payload(1), frame: None });
    // Space returns.
    st.store().set_max_page_count(None).unwrap();
    shoot_inline(&mut st, frame).unwrap();
    st.handle(Event::Accept).unwrap();
    assert!(st.store().verify().unwrap().ok());
}

#[test]
fn a_read_only_database_refuses_writes_with_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ro.sqlite");
    {
        let mut st = Station::open(Store::open_training(&path).unwrap(), &info("1"), StationConfig::default()).unwrap();
        scan(&mut st, 0);
    }
    let mut ro = Store::open_read_only(&path).unwrap();
    let code = crate::code::parse(&payload(1)).unwrap();
    let err = ro.scan(1, &code, &payload(1), None, "2026-06-01T10:00:00+08:00").unwrap_err();
    assert!(matches!(err, StoreError::ReadOnly), "{err}");
    assert!(err.is_transient());
    assert_eq!(ro.records(1).unwrap().len(), 1, "nothing was added");
}

#[test]
fn a_reshoot_pending_in_one_session_never_takes_another_sessions_photo() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("days.sqlite");
    let first = {
        let mut day1 =
            Station::open(Store::open_training(&path).unwrap(), &info("2"), StationConfig::default()).unwrap();
        scan(&mut day1, 0);
        shoot(&mut day1, 1);
        let Outcome::Accepted(r) = day1.handle(Event::Accept).unwrap() else { panic!() };
        day1.handle(Event::RequestReshoot { record: r.id, reason: "闭眼".into() }).unwrap();
        r
    };
    // The next day, the station starts a new session on the same database.
    let mut day2_info = info("2");
    day2_info.date = "2026-06-02".into();
    let mut day2 = Station::open(Store::open_training(&path).unwrap(), &day2_info, StationConfig::default()).unwrap();
    let Outcome::Queued(today) = scan(&mut day2, 5) else { panic!() };
    let Outcome::TakeReady { record, .. } = shoot(&mut day2, 9) else { panic!() };
    assert_eq!(record.id, today.id, "today's student, not yesterday's pending re-shoot");
    day2.handle(Event::Accept).unwrap();
    let kept = day2.store().primary_take(first.id).unwrap().unwrap();
    assert_eq!(kept.take_no, 1, "yesterday's photo is untouched");
}

#[test]
fn no_reshoot_request_while_a_take_is_under_review_and_reshoot_answers_with_the_head() {
    let mut st = station();
    scan(&mut st, 0);
    shoot(&mut st, 1);
    let Outcome::Accepted(p) = st.handle(Event::Accept).unwrap() else { panic!() };
    scan(&mut st, 1);
    shoot(&mut st, 2);
    let e = st.handle(Event::RequestReshoot { record: p.id, reason: "x".into() }).unwrap_err();
    assert!(matches!(e, StationError::ReviewPending), "{e}");
    let Outcome::ReadyForReshoot(head) = st.handle(Event::Reshoot).unwrap() else { panic!() };
    assert_eq!(head.seq, 2);
}

#[test]
fn a_rejected_take_can_never_be_accepted() {
    let mut st = station();
    scan(&mut st, 0);
    let Outcome::TakeReady { take, .. } = shoot(&mut st, 1) else { panic!() };
    st.handle(Event::Reshoot).unwrap();
    let sid = st.session().id;
    let err = st.store.accept_take(sid, take.id, &serde_json::json!({}), &now()).unwrap_err();
    assert!(matches!(err, StoreError::NotAllowed { .. }), "{err}");
    assert!(st.store().takes(take.record_id).unwrap()[0].rejected_at.is_some());
}

#[test]
fn accepting_an_out_of_range_photo_is_recorded() {
    let tight = StationConfig { size_range: SizeRange { min_bytes: 100, max_bytes: 2000 }, ..StationConfig::default() };
    let mut st = Station::open(Store::open_in_memory_training().unwrap(), &info("2"), tight).unwrap();
    scan(&mut st, 0);
    let Outcome::TakeReady { fit, record, .. } = shoot(&mut st, 1) else { panic!() };
    assert_eq!(fit, SizeFit::AboveMax);
    st.handle(Event::Accept).unwrap();
    let accepted = st.store().audit_for_record(record.id).unwrap().pop().unwrap();
    assert!(accepted.detail.contains("above_max"), "{}", accepted.detail);
}

#[test]
fn a_truncated_camera_jpeg_is_not_kept_as_the_original() {
    let frame = synth::portrait(640, 480, 4);
    let good = crate::photo::encode_jpeg(&frame, 90).unwrap();
    let truncated = good[..good.len() / 3].to_vec();
    let p = prepare_take(1, &frame, Some(truncated.clone()), &StationConfig::default(), None).unwrap();
    assert!(p.images.original_jpeg != truncated, "the truncated JPEG was kept");
    assert!(crate::photo::decode_jpeg(&p.images.original_jpeg).is_ok());
    let p = prepare_take(1, &frame, Some(good.clone()), &StationConfig::default(), None).unwrap();
    assert!(p.images.original_jpeg == good, "a good camera JPEG is kept as is");
}

/// Every check of `verify` can fail: break each invariant behind the
/// triggers' backs and see it named.
#[test]
fn verify_names_each_broken_invariant() {
    let build = |dir: &std::path::Path| {
        let path = dir.join("b.sqlite");
        let mut st = Station::open(Store::open_training(&path).unwrap(), &info("1"), StationConfig::default()).unwrap();
        for i in 0..3 {
            scan(&mut st, i);
        }
        for i in 0..2 {
            shoot(&mut st, i);
            if i == 1 {
                st.handle(Event::Reshoot).unwrap();
                shoot(&mut st, 7);
            }
            st.handle(Event::Accept).unwrap();
        }
        assert!(st.store().verify().unwrap().ok());
        path
    };
    let cases: [(&str, &str); 6] = [
        ("seq", "UPDATE records SET seq = 99 WHERE seq = 3;"),
        ("primary_take", "UPDATE takes SET is_primary = 0;"),
        ("primary_take", "DROP INDEX takes_one_primary; UPDATE takes SET is_primary = 1;"),
        ("audit_links", "DELETE FROM audit WHERE action = 'scanned' AND id = (SELECT MAX(id) FROM audit WHERE action = 'scanned');"),
        ("audit_links", "UPDATE takes SET is_primary = 0 WHERE is_primary = 1 AND take_no = 2; UPDATE takes SET is_primary = 1, rejected_at = NULL WHERE take_no = 1 AND record_id = (SELECT record_id FROM takes WHERE take_no = 2);"),
        ("images", "UPDATE takes SET deliverable_quality = 40;"),
    ];
    for (check, sql) in cases {
        let dir = tempfile::tempdir().unwrap();
        let path = build(dir.path());
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch(
            "DROP TRIGGER records_identity_immutable; DROP TRIGGER audit_append_only_delete;
             DROP TRIGGER takes_images_immutable;",
        )
        .unwrap();
        conn.execute_batch(sql).unwrap();
        drop(conn);
        let report = Store::open_read_only(&path).unwrap().verify().unwrap();
        assert!(report.findings.iter().any(|f| f.check == check), "{check} after {sql}: {:?}", report.findings);
    }
}

mod reconciliation {
    use super::*;
    use crate::roster::RosterEntry;

    fn entry(xh: &str, xm: &str, zjhm: &str, class: &str) -> RosterEntry {
        RosterEntry {
            row: 2,
            xh: xh.into(),
            xm: xm.into(),
            zjhm: zjhm.into(),
            class: class.into(),
            college: "法学院".into(),
            major: String::new(),
            level: "本科".into(),
        }
    }

    fn code_for(xh: &str, xm: &str, zjhm: &str, class: &str) -> String {
        let s = DrillStudent {
            xh: xh.into(),
            xm: xm.into(),
            zjhm: zjhm.into(),
            class: class.into(),
            college: "法学院".into(),
            level: "本科".into(),
        };
        drill_code(&s, "10697", 1_700_000_000_000).to_payload()
    }

    #[test]
    fn the_report_counts_each_class_and_lists_the_missing_and_the_mismatches() {
        let mut st = station();
        let roster = vec![
            entry("0021", "欧**娜", "123X", "法学 2101"),
            entry("0022", "王*", "0001", "法学 2101"),
            entry("0023", "李*", "0002", "法学 2101"),
            entry("0024", "张*丰", "0003", "法学 2101"),
            entry("0031", "阿***·**提", "0004", "20数（1）"),
        ];
        let summary = st.store.import_roster(&roster, "test.csv", &now()).unwrap();
        assert_eq!((summary.added, summary.updated), (5, 0));
        let scan_text = |st: &mut Station, text: String| st.handle(Event::CodeScanned { text, frame: None }).unwrap();
        // 0021 photographed; 0022 skipped; 0023 waiting; 0024 not scanned.
        scan_text(&mut st, code_for("0021", "欧**娜", "123X", "法学 2101"));
        shoot(&mut st, 1);
        st.handle(Event::Accept).unwrap();
        scan_text(&mut st, code_for("0022", "王*", "0001", "法学 2101"));
        st.handle(Event::Skip { reason: "未到".into() }).unwrap();
        // 0023's code carries another 学号 format: matched by masked name + ID tail.
        scan_text(&mut st, code_for("X0023", "李*", "0002", "法学 2101"));
        // On no roster; and a roster student whose code names another class.
        scan_text(&mut st, code_for("9999", "赵*", "0009", "法学 2101"));
        scan_text(&mut st, code_for("0031", "阿***·**提", "0004", "20数（2）"));

        let report = st.store().report(None).unwrap();
        let law = report.classes.iter().find(|c| c.class == "法学 2101").unwrap();
        assert_eq!((law.expected, law.scanned, law.photographed, law.skipped, law.missing), (4, 3, 1, 1, 3));
        let missing: Vec<(&str, &str)> = law.missing_students.iter().map(|m| (m.xh.as_str(), m.state)).collect();
        assert_eq!(missing, [("0022", "skipped"), ("0023", "waiting"), ("0024", "not_scanned")]);
        assert!(law.first_capture.is_some());
        let reasons: Vec<(&str, &str)> = report.unmatched.iter().map(|u| (u.xh.as_str(), u.reason)).collect();
        assert_eq!(reasons, [("9999", "not_on_roster"), ("0031", "class_differs")]);
        assert_eq!(report.unmatched[1].roster_class, "20数（1）");

        // One class only; the register lists the class's roster in 学号
        // order with each student's number and standing, then the class's
        // scans that no roster has.
        let only = st.store().report(Some("20数（1）")).unwrap();
        assert_eq!(only.classes.len(), 1);
        let lines = st.store().register_lines("法学 2101").unwrap();
        let got: Vec<(&str, &str, String, bool)> = lines
            .iter()
            .map(|l| (l.xh.as_str(), l.seq.as_str(), l.status_text().to_string(), l.not_on_roster))
            .collect();
        assert_eq!(
            got,
            [
                ("0021", "2-0001", "已拍 / photographed".to_string(), false),
                ("0022", "2-0002", "跳过：未到 / skipped".to_string(), false),
                ("0023", "2-0003", "等待拍摄 / waiting".to_string(), false),
                ("0024", "", "未扫码 / not scanned".to_string(), false),
                ("9999", "2-0004", "等待拍摄（不在名单） / waiting, not on roster".to_string(), true),
            ]
        );
        // The sheet's notes say why each missing student is missing.
        let notes: Vec<String> =
            law.missing_students.iter().map(|m| crate::store::standing_text(m.state, &m.reason).to_string()).collect();
        assert_eq!(notes, ["跳过：未到 / skipped: 未到", "等待拍摄 / waiting", "未扫码 / not scanned"]);
    }

    #[test]
    fn a_voided_scan_does_not_count_and_a_reimport_updates() {
        let mut st = station();
        st.store.import_roster(&[entry("0021", "欧**娜", "123X", "法学 2101")], "a.csv", &now()).unwrap();
        st.handle(Event::CodeScanned { text: code_for("0021", "欧**娜", "123X", "法学 2101"), frame: None }).unwrap();
        let head = st.head().unwrap().unwrap();
        st.handle(Event::Void { record: head.id, reason: "错扫".into() }).unwrap();
        let c = &st.store().report(None).unwrap().classes[0];
        assert_eq!((c.scanned, c.missing), (0, 1));
        let s = st.store.import_roster(&[entry("0021", "欧**娜", "123X", "法学 2102")], "b.csv", &now()).unwrap();
        assert_eq!((s.added, s.updated), (0, 1));
        assert_eq!(st.store().report(None).unwrap().classes[0].class, "法学 2102");
        assert!(st.store().verify().unwrap().ok(), "imports are audited and masked");
    }
}

/// A take carries its photo checks from the moment it is stored; accepting
/// one with failed checks records them on the take and in the audit row.
#[test]
fn accepting_a_photo_with_failed_checks_records_them_on_the_take() {
    let mut st = station();
    scan(&mut st, 0);
    // A blank grey frame: no face, a wrong background.
    let frame = RgbImage::from_pixel(960, 720, image::Rgb([128, 128, 128]));
    let Outcome::TakeReady { take, assessment, .. } = shoot_inline(&mut st, frame).unwrap() else { panic!() };
    let failed = assessment.failed();
    assert!(failed.contains(&"face_count".to_string()) && failed.contains(&"background".to_string()), "{failed:?}");
    assert!(!assessment.auto_crop);
    let stored = st.store().takes(take.record_id).unwrap().remove(0);
    let from_db: crate::photo::checks::Assessment = serde_json::from_str(&stored.checks_json).unwrap();
    assert_eq!(from_db, *assessment);
    assert!(stored.accepted_failed.is_empty());
    st.handle(Event::Accept).unwrap();
    let stored = st.store().takes(take.record_id).unwrap().remove(0);
    assert_eq!(stored.accepted_failed, failed.join(","));
    let audit = st.store().audit_for_record(take.record_id).unwrap();
    let accepted = audit.iter().find(|a| a.action == "accepted").unwrap();
    assert!(
        accepted.detail.contains("accepted_failed") && accepted.detail.contains("face_count"),
        "{}",
        accepted.detail
    );
    // The checks of a stored take never change.
    let changed = st.store().conn().execute("UPDATE takes SET checks_json = '[]' WHERE id = ?1", [take.id]);
    assert!(changed.is_err());
}

/// A code in the real format whose token CHSI could have issued (not DRILL…).
fn real_payload(i: usize) -> String {
    let mut code = crate::code::parse(&payload(i)).unwrap();
    code.cjm = format!("CHSI{i:012}");
    code.to_payload()
}

#[test]
fn a_production_database_refuses_drill_codes_and_training_takes_them() {
    let mut real = Station::open(Store::open_in_memory().unwrap(), &info("1"), StationConfig::default()).unwrap();
    assert_eq!(real.mode(), Mode::Production);
    match scan(&mut real, 0) {
        Outcome::Rejected(CodeError::DrillInProduction) => {}
        other => panic!("a drill code on real data: {other:?}"),
    }
    assert!(real.head().unwrap().is_none(), "no number consumed");
    // The store refuses it too, whoever calls it.
    let code = crate::code::parse(&payload(0)).unwrap();
    let sid = real.session().id;
    let mut store = Store::open_in_memory().unwrap();
    let s = store.open_session(&info("1"), "2026-06-01T09:00:00+08:00").unwrap();
    assert!(matches!(store.scan(s.id, &code, &payload(0), None, "t"), Err(StoreError::DrillInProduction)));
    let _ = sid;
    // A real code is what production is for.
    assert!(matches!(
        real.handle(Event::CodeScanned { text: real_payload(1), frame: None }).unwrap(),
        Outcome::Queued(_)
    ));
    // Training takes both.
    let mut training = station();
    assert_eq!(training.mode(), Mode::Training);
    assert!(matches!(scan(&mut training, 0), Outcome::Queued(_)));
    assert!(matches!(
        training.handle(Event::CodeScanned { text: real_payload(2), frame: None }).unwrap(),
        Outcome::Queued(_)
    ));
}

#[test]
fn a_database_with_real_records_never_becomes_a_training_database() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("real.sqlite");
    {
        let mut st = Station::open(Store::open(&path).unwrap(), &info("1"), StationConfig::default()).unwrap();
        st.handle(Event::CodeScanned { text: real_payload(1), frame: None }).unwrap();
    }
    assert!(matches!(Store::open_training(&path), Err(StoreError::NotATrainingDatabase)));
    // And a training database stays one: its mode cannot be changed or removed.
    let tpath = dir.path().join("training.sqlite");
    let t = Store::open_training(&tpath).unwrap();
    assert!(t.conn().execute("UPDATE station_meta SET value = 'production' WHERE key = 'mode'", []).is_err());
    assert!(t.conn().execute("DELETE FROM station_meta WHERE key = 'mode'", []).is_err());
    assert_eq!(Store::open(&tpath).unwrap().mode().unwrap(), Mode::Training);
}

#[test]
fn school_name_code_and_operator_correct_the_session_numbering_and_queue_go_on() {
    let mut st = station();
    for i in 0..3 {
        scan(&mut st, i);
    }
    let id = st.session().id;
    let mut corrected = info("2");
    corrected.school_name = "中国政法大学".into();
    corrected.school_code = "10053".into();
    corrected.operator = "新操作员".into();
    st.correct_session(&corrected).unwrap();
    assert_eq!(st.session().id, id);
    assert_eq!(st.session().info, corrected);
    assert_eq!(seq_of(&scan(&mut st, 3)), 4, "numbering goes on");
    assert_eq!(st.store().waiting(id, 50).unwrap().len(), 4, "nobody left the queue");
    // Reopening with the corrected or the old values: the same session, never a new one.
    let store = st.store;
    let reopened = Station::open(store, &info("2"), StationConfig::default()).unwrap();
    assert_eq!(reopened.session().id, id);
    assert_eq!(reopened.session().next_seq, 5);
    let audit = reopened.store().audit_log().unwrap();
    let corrections: Vec<_> = audit.iter().filter(|a| a.action == "session_corrected").collect();
    assert_eq!(corrections.len(), 2, "both corrections audited");
    assert!(corrections[0].detail.contains("\"before\"") && corrections[0].detail.contains("10053"));
    // A new station is not a correction.
    let mut st = reopened;
    assert!(matches!(st.correct_session(&info("3")), Err(StationError::NotACorrection)));
    // The database refuses a second session for the same station and day.
    let dup = st.store().conn().execute(
        "INSERT INTO sessions (school_code, station, session_date, created_at) VALUES ('99999', '2', '2026-06-01', 'x')",
        [],
    );
    assert!(dup.is_err(), "one session per station and day");
}

#[test]
fn a_student_waiting_at_another_station_who_rescans_here_gets_one_new_number() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.sqlite");
    let mut one = Station::open(Store::open_training(&path).unwrap(), &info("1"), StationConfig::default()).unwrap();
    scan(&mut one, 0);
    scan(&mut one, 1);
    drop(one);
    let mut two = Station::open(Store::open_training(&path).unwrap(), &info("2"), StationConfig::default()).unwrap();
    let elsewhere = two.store().waiting_elsewhere(two.session().id).unwrap();
    assert_eq!(elsewhere.len(), 1);
    assert_eq!((elsewhere[0].0.info.station.as_str(), elsewhere[0].1), ("1", 2), "station 1's queue is shown");
    let Outcome::Queued(new) = scan(&mut two, 1) else { panic!("a new number here") };
    assert_eq!(new.display_seq(), "2-0001");
    let old = two.store().search_records("1-0002", 5).unwrap();
    assert_eq!(old[0].status, RecordStatus::Skipped);
    assert!(old[0].status_reason.contains("2-0001"));
    assert_eq!(two.store().waiting_elsewhere(two.session().id).unwrap()[0].1, 1);
    assert!(two.store().verify().unwrap().ok());
}

#[test]
fn verify_fails_on_two_records_with_one_number_at_a_station_on_a_day() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("dup.sqlite");
    {
        let mut st = Station::open(Store::open_training(&path).unwrap(), &info("1"), StationConfig::default()).unwrap();
        scan(&mut st, 0);
    }
    // What an earlier build did on a settings change: a second session, numbering from 1 again.
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch(
        "DROP TRIGGER sessions_one_per_station_day; DROP TRIGGER records_one_number_per_station_day;
         INSERT INTO sessions (school_code, station, session_date, created_at, next_seq)
             SELECT '99999', station, session_date, created_at, 2 FROM sessions;
         INSERT INTO records (session_id, seq, cjm, zjhm, xh, xm, payload, scanned_at)
             SELECT (SELECT max(id) FROM sessions), 1, 'OTHER', zjhm, 'other', xm, payload, scanned_at FROM records;",
    )
    .unwrap();
    drop(conn);
    let report = Store::open_read_only(&path).unwrap().verify().unwrap();
    assert!(
        report.findings.iter().any(|f| f.check == "seq" && f.message.contains("1-0001 is on more than one record")),
        "{:?}",
        report.findings
    );
    // Such a day continues above every number it already has.
    let st = Station::open(Store::open(&path).unwrap(), &info("1"), StationConfig::default()).unwrap();
    assert_eq!(st.session().next_seq, 2);
}

mod capture_pipeline {
    //! The shutter and the photo worker: the path the station's window
    //! takes from a key press to a committed take, driven here end to end.
    use super::*;
    use crate::camera::Frame;
    use crate::station::shutter::{ShootRefused, Shutter};
    use std::time::{Duration, Instant};

    fn frame(seed: u64) -> Option<Frame> {
        Some(Frame::new(synth::portrait(960, 720, seed), None))
    }

    /// Collects until the shot under way is committed (or refused).
    fn collect(shutter: &mut Shutter, st: &mut Station) -> Vec<Result<Outcome, StationError>> {
        let started = Instant::now();
        loop {
            let out = shutter.collect(st);
            if !out.is_empty() {
                return out;
            }
            assert!(started.elapsed() < Duration::from_secs(60), "the photo worker never answered");
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    #[test]
    fn a_press_binds_to_the_head_and_the_take_commits_through_the_one_path() {
        let mut st = station();
        let mut shutter = Shutter::start(Box::new(|| {})).unwrap();
        assert!(matches!(shutter.press(&mut st, frame(1)), Err(ShootRefused::Station(StationError::NoStudent))));
        scan(&mut st, 0);
        scan(&mut st, 1);
        assert!(matches!(shutter.press(&mut st, None), Err(ShootRefused::NoPicture)), "no picture, no shot");
        let head = st.head().unwrap().unwrap();
        assert_eq!(shutter.press(&mut st, frame(1)).unwrap(), head.id);
        assert!(shutter.busy());
        assert!(matches!(shutter.press(&mut st, frame(2)), Err(ShootRefused::Busy)), "one shot at a time");
        let out = collect(&mut shutter, &mut st);
        assert!(!shutter.busy());
        match &out[..] {
            [Ok(Outcome::TakeReady { record, .. })] => assert_eq!(record.id, head.id),
            other => panic!("{other:?}"),
        }
        assert!(
            matches!(shutter.press(&mut st, frame(3)), Err(ShootRefused::ReviewPending)),
            "the photo under review is decided first"
        );
        let accepted = st.handle(Event::Accept).unwrap();
        assert!(matches!(accepted, Outcome::Accepted(r) if r.id == head.id));
        assert!(st.store().verify().unwrap().ok());
    }

    #[test]
    fn a_take_for_a_student_skipped_while_it_was_prepared_is_never_stored() {
        let mut st = station();
        let mut shutter = Shutter::start(Box::new(|| {})).unwrap();
        scan(&mut st, 0);
        scan(&mut st, 1);
        let first = shutter.press(&mut st, frame(4)).unwrap();
        st.handle(Event::Skip { reason: "left".into() }).unwrap();
        let out = collect(&mut shutter, &mut st);
        assert!(matches!(&out[..], [Err(_)]), "refused, not stored for the next student: {out:?}");
        assert!(st.store().takes(first).unwrap().is_empty());
        let next = st.head().unwrap().unwrap();
        assert!(st.store().takes(next.id).unwrap().is_empty(), "never on the wrong student");
    }

    #[test]
    fn a_new_station_waits_for_the_photo_under_review_and_the_shot_under_way() {
        let mut st = station();
        let mut shutter = Shutter::start(Box::new(|| {})).unwrap();
        scan(&mut st, 0);
        scan(&mut st, 1);
        let old = st.session().id;
        // A shot under way: the change waits.
        shutter.press(&mut st, frame(5)).unwrap();
        assert_eq!(st.change_session(&info("3")).unwrap(), SessionChange::AfterReview);
        assert_eq!(st.session().id, old);
        assert_eq!(st.pending_session().map(|i| i.station.as_str()), Some("3"));
        // The take arrives for the old session's head and waits for its decision.
        let out = collect(&mut shutter, &mut st);
        assert!(matches!(&out[..], [Ok(Outcome::TakeReady { .. })]), "{out:?}");
        assert_eq!(st.session().id, old, "still the old session while its photo is reviewed");
        // A re-shoot stays in the old session.
        st.handle(Event::Reshoot).unwrap();
        assert_eq!(st.session().id, old);
        shoot(&mut st, 6);
        let accepted = st.handle(Event::Accept).unwrap();
        assert!(matches!(accepted, Outcome::Accepted(r) if r.session_id == old));
        // Accepted: the new session starts, the other student stays waiting in the old one.
        assert_ne!(st.session().id, old);
        assert_eq!(st.session().info.station, "3");
        assert!(st.pending_session().is_none());
        assert_eq!(st.store().waiting(old, 50).unwrap().len(), 1);
        assert_eq!(seq_of(&scan(&mut st, 2)), 1, "numbering starts again at the new station");
        // Idle: a change starts at once; a correction is a correction.
        assert_eq!(st.change_session(&info("4")).unwrap(), SessionChange::Started);
        let mut corrected = info("4");
        corrected.operator = "新操作员".into();
        assert_eq!(st.change_session(&corrected).unwrap(), SessionChange::Corrected);
        assert_eq!(st.change_session(&corrected).unwrap(), SessionChange::Unchanged);
        assert!(st.store().verify().unwrap().ok());
    }
}

#[test]
fn a_pin_gated_event_applies_nothing_without_the_right_pin() {
    let mut st = station();
    scan(&mut st, 0);
    let head = st.head().unwrap().unwrap();
    let void = |reason: &str| Event::Void { record: head.id, reason: reason.into() };
    assert!(matches!(st.handle_with_pin(void("错扫"), "2468"), Err(StationError::Store(StoreError::NoPin))));
    st.set_pin("2468", None).unwrap();
    assert!(matches!(st.handle_with_pin(void("错扫"), "1111"), Err(StationError::Store(StoreError::WrongPin { .. }))));
    assert_eq!(st.store().record(head.id).unwrap().status, RecordStatus::Waiting, "nothing applied");
    // The first wrong tries cost no wait: the right PIN voids at once.
    let voided = st.handle_with_pin(void("错扫"), "2468").unwrap();
    assert!(matches!(voided, Outcome::Voided(r) if r.status == RecordStatus::Voided));
}

#[test]
fn a_backdrop_that_drifts_from_the_sessions_first_photos_is_measured() {
    let mut st = station();
    let drift_of = |o: &Outcome| match o {
        Outcome::TakeReady { backdrop_drift, .. } => *backdrop_drift,
        other => panic!("{other:?}"),
    };
    scan(&mut st, 1);
    assert_eq!(drift_of(&shoot(&mut st, 1)), None, "nothing to compare with before the first accept");
    st.handle(Event::Accept).unwrap();
    for i in 2..=3 {
        scan(&mut st, i);
        let d = drift_of(&shoot(&mut st, i as u64)).unwrap();
        assert!(d < BACKDROP_DRIFT_MAX, "same light: {d}");
        st.handle(Event::Accept).unwrap();
    }
    assert!(st.backdrop_reference().is_some());
    // The automatic exposure darkens the whole picture (a white shirt).
    scan(&mut st, 4);
    let mut frame = synth::portrait(960, 720, 4);
    for p in frame.pixels_mut() {
        p.0 = p.0.map(|c| (f32::from(c) * 0.75) as u8);
    }
    let d = drift_of(&shoot_inline(&mut st, frame).unwrap()).unwrap();
    assert!(d > BACKDROP_DRIFT_MAX, "darkened: {d}");
}
