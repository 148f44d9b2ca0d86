//! The schema, as forward migrations indexed by `PRAGMA user_version`.
//!
//! Migration `i` takes a database at version `i` to version `i + 1`. A
//! migration is never edited once released: a change is a new entry.

/// Forward migrations; `MIGRATIONS.len()` is the current schema version.
pub const MIGRATIONS: &[&str] = &[
    // v0 -> v1: sessions, the record queue, takes, the audit chain.
    r#"
CREATE TABLE sessions (
    id            INTEGER PRIMARY KEY,
    school_name   TEXT NOT NULL DEFAULT '',
    school_code   TEXT NOT NULL DEFAULT '',
    station       TEXT NOT NULL,
    session_date  TEXT NOT NULL,
    operator      TEXT NOT NULL DEFAULT '',
    created_at    TEXT NOT NULL,
    next_seq      INTEGER NOT NULL DEFAULT 1 CHECK (next_seq >= 1),
    UNIQUE (school_code, station, session_date)
);

CREATE TABLE records (
    id              INTEGER PRIMARY KEY,
    session_id      INTEGER NOT NULL REFERENCES sessions(id),
    seq             INTEGER NOT NULL CHECK (seq >= 1),
    cjm             TEXT NOT NULL,
    sjc             TEXT NOT NULL DEFAULT '',
    yxdm            TEXT NOT NULL DEFAULT '',
    zjhm            TEXT NOT NULL,
    xh              TEXT NOT NULL,
    cc              TEXT NOT NULL DEFAULT '',
    xllb            TEXT NOT NULL DEFAULT '',
    fy              TEXT NOT NULL DEFAULT '',
    xm              TEXT NOT NULL,
    bh              TEXT NOT NULL DEFAULT '',
    extra_json      TEXT NOT NULL DEFAULT '{}',
    payload         TEXT NOT NULL,
    scanned_at      TEXT NOT NULL,
    scan_thumb_jpeg BLOB,
    status          TEXT NOT NULL DEFAULT 'waiting'
                    CHECK (status IN ('waiting', 'photographed', 'skipped', 'voided')),
    status_reason   TEXT NOT NULL DEFAULT '',
    status_at       TEXT,
    -- The session whose next take re-shoots this (photographed) record; NULL: none.
    reshoot_session_id INTEGER REFERENCES sessions(id),
    UNIQUE (session_id, seq)
);
CREATE INDEX records_cjm ON records(cjm);
CREATE INDEX records_xh ON records(yxdm, xh);
CREATE INDEX records_queue ON records(session_id, status, seq);
CREATE UNIQUE INDEX records_one_reshoot ON records(reshoot_session_id) WHERE reshoot_session_id IS NOT NULL;

CREATE TABLE takes (
    id                  INTEGER PRIMARY KEY,
    record_id           INTEGER NOT NULL REFERENCES records(id),
    take_no             INTEGER NOT NULL CHECK (take_no >= 1),
    is_primary          INTEGER NOT NULL DEFAULT 0 CHECK (is_primary IN (0, 1)),
    original_jpeg       BLOB NOT NULL,
    original_sha256     TEXT NOT NULL,
    original_bytes      INTEGER NOT NULL,
    original_width      INTEGER NOT NULL,
    original_height     INTEGER NOT NULL,
    deliverable_jpeg    BLOB NOT NULL,
    deliverable_sha256  TEXT NOT NULL,
    deliverable_bytes   INTEGER NOT NULL,
    deliverable_quality INTEGER NOT NULL,
    captured_at         TEXT NOT NULL,
    rejected_at         TEXT,
    UNIQUE (record_id, take_no)
);
CREATE UNIQUE INDEX takes_one_primary ON takes(record_id) WHERE is_primary = 1;

CREATE TABLE audit (
    id         INTEGER PRIMARY KEY,
    at         TEXT NOT NULL,
    session_id INTEGER,
    record_id  INTEGER,
    take_id    INTEGER,
    action     TEXT NOT NULL,
    detail     TEXT NOT NULL,
    prev_hash  TEXT NOT NULL,
    hash       TEXT NOT NULL
);

CREATE TRIGGER audit_append_only_update BEFORE UPDATE ON audit
BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
CREATE TRIGGER audit_append_only_delete BEFORE DELETE ON audit
BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
CREATE TRIGGER records_never_deleted BEFORE DELETE ON records
BEGIN SELECT RAISE(ABORT, 'records are never deleted'); END;
CREATE TRIGGER takes_never_deleted BEFORE DELETE ON takes
BEGIN SELECT RAISE(ABORT, 'takes are never deleted'); END;
CREATE TRIGGER takes_images_immutable
BEFORE UPDATE OF record_id, take_no, original_jpeg, original_sha256, deliverable_jpeg, deliverable_sha256 ON takes
BEGIN SELECT RAISE(ABORT, 'a take''s images never change'); END;
CREATE TRIGGER records_identity_immutable
BEFORE UPDATE OF session_id, seq, cjm, xh, xm, zjhm, payload ON records
BEGIN SELECT RAISE(ABORT, 'a record''s identity never changes'); END;
"#,
    // v1 -> v2: class rosters (masked while read) and the capture schedule.
    r#"
CREATE TABLE roster (
    id          INTEGER PRIMARY KEY,
    xh          TEXT NOT NULL UNIQUE,
    xm          TEXT NOT NULL,
    zjhm        TEXT NOT NULL DEFAULT '',
    class       TEXT NOT NULL,
    college     TEXT NOT NULL DEFAULT '',
    major       TEXT NOT NULL DEFAULT '',
    level       TEXT NOT NULL DEFAULT '',
    source      TEXT NOT NULL,
    imported_at TEXT NOT NULL
);
CREATE INDEX roster_class ON roster(class);
CREATE INDEX roster_name_id ON roster(xm, zjhm);

CREATE TABLE schedule (
    id           INTEGER PRIMARY KEY,
    class        TEXT NOT NULL,
    session_date TEXT NOT NULL,
    slot         TEXT NOT NULL DEFAULT '',
    station      TEXT NOT NULL,
    head_count   INTEGER,
    source       TEXT NOT NULL,
    imported_at  TEXT NOT NULL,
    UNIQUE (class, session_date, slot, station)
);
"#,
    // v2 -> v3: verified exports and which take each exported record went out with.
    r#"
CREATE TABLE exports (
    id          INTEGER PRIMARY KEY,
    batch       TEXT NOT NULL UNIQUE,
    target      TEXT NOT NULL,
    exported_at TEXT NOT NULL,
    records     INTEGER NOT NULL,
    full        INTEGER NOT NULL CHECK (full IN (0, 1))
);
CREATE TABLE exported (
    record_id  INTEGER NOT NULL REFERENCES records(id),
    take_id    INTEGER NOT NULL REFERENCES takes(id),
    batch      TEXT NOT NULL REFERENCES exports(batch),
    photo_file TEXT NOT NULL,
    PRIMARY KEY (record_id, batch)
);
CREATE INDEX exported_take ON exported(take_id);
"#,
    // v3 -> v4: purge after handover. A take's images may be emptied (never
    // changed otherwise) once its record went out in a verified export; the
    // hashes stay, so the audit trail still says what was there.
    r#"
ALTER TABLE takes ADD COLUMN purged_at TEXT;
DROP TRIGGER takes_images_immutable;
CREATE TRIGGER takes_images_immutable
BEFORE UPDATE OF record_id, take_no, original_jpeg, original_sha256, deliverable_jpeg, deliverable_sha256 ON takes
WHEN NOT (
    NEW.record_id = OLD.record_id AND NEW.take_no = OLD.take_no
    AND NEW.original_sha256 = OLD.original_sha256 AND NEW.deliverable_sha256 = OLD.deliverable_sha256
    AND length(NEW.original_jpeg) = 0 AND length(NEW.deliverable_jpeg) = 0
    AND NEW.purged_at IS NOT NULL AND OLD.purged_at IS NULL
    AND EXISTS (SELECT 1 FROM exported e WHERE e.record_id = OLD.record_id)
)
BEGIN SELECT RAISE(ABORT, 'a take''s images never change'); END;
CREATE TRIGGER takes_purge_is_final BEFORE UPDATE OF purged_at ON takes WHEN OLD.purged_at IS NOT NULL
BEGIN SELECT RAISE(ABORT, 'a purge is final'); END;
"#,
    // v4 -> v5: the photo checks of each take (JSON, written with the take,
    // never changed) and the failed checks the operator accepted anyway.
    r#"
ALTER TABLE takes ADD COLUMN checks_json TEXT NOT NULL DEFAULT '';
ALTER TABLE takes ADD COLUMN accepted_failed TEXT NOT NULL DEFAULT '';
CREATE TRIGGER takes_checks_immutable BEFORE UPDATE OF checks_json ON takes
BEGIN SELECT RAISE(ABORT, 'a take''s checks never change'); END;
"#,
    // v5 -> v6: one session per station and day, one record per displayed
    // number and day, and the database's mode (production or training).
    // A session's station and date are its identity; school name, code and
    // operator are corrections of it. Days that already have two sessions
    // (made by earlier builds) are kept as they are and named by verify.
    r#"
CREATE INDEX sessions_station_day ON sessions(station, session_date);
CREATE TRIGGER sessions_one_per_station_day BEFORE INSERT ON sessions
WHEN EXISTS (SELECT 1 FROM sessions s WHERE s.station = NEW.station AND s.session_date = NEW.session_date)
BEGIN SELECT RAISE(ABORT, 'one session per station and day'); END;
CREATE TRIGGER sessions_identity_immutable BEFORE UPDATE OF station, session_date ON sessions
WHEN NEW.station IS NOT OLD.station OR NEW.session_date IS NOT OLD.session_date
BEGIN SELECT RAISE(ABORT, 'a session''s station and date never change'); END;
CREATE TRIGGER records_one_number_per_station_day BEFORE INSERT ON records
WHEN EXISTS (
    SELECT 1 FROM records r JOIN sessions s ON s.id = r.session_id JOIN sessions n ON n.id = NEW.session_id
    WHERE s.station = n.station AND s.session_date = n.session_date AND r.seq = NEW.seq
)
BEGIN SELECT RAISE(ABORT, 'this number is already taken at this station on this day'); END;

CREATE TABLE station_meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TRIGGER station_meta_mode_set_on_empty BEFORE INSERT ON station_meta
WHEN NEW.key = 'mode' AND EXISTS (SELECT 1 FROM records)
BEGIN SELECT RAISE(ABORT, 'the mode of a database is set before its first record'); END;
CREATE TRIGGER station_meta_mode_final_update BEFORE UPDATE ON station_meta WHEN OLD.key = 'mode'
BEGIN SELECT RAISE(ABORT, 'a database''s mode never changes'); END;
CREATE TRIGGER station_meta_mode_final_delete BEFORE DELETE ON station_meta WHEN OLD.key = 'mode'
BEGIN SELECT RAISE(ABORT, 'a database''s mode never changes'); END;
"#,
    // v6 -> v7: the scan-time thumbnail is hashed like a take's images and
    // never changed (a purge after handover may only empty it).
    r#"
ALTER TABLE records ADD COLUMN scan_thumb_sha256 TEXT;
CREATE TRIGGER records_thumb_immutable
BEFORE UPDATE OF scan_thumb_jpeg, scan_thumb_sha256 ON records
WHEN NEW.scan_thumb_sha256 IS NOT OLD.scan_thumb_sha256
  OR (NEW.scan_thumb_jpeg IS NOT NULL AND NEW.scan_thumb_jpeg IS NOT OLD.scan_thumb_jpeg)
BEGIN SELECT RAISE(ABORT, 'a scan thumbnail never changes'); END;

-- The operator PIN (Argon2id) lives here, never in a settings file.
CREATE TABLE operator_pin (
    id              INTEGER PRIMARY KEY CHECK (id = 1),
    phc             TEXT NOT NULL,
    set_at          TEXT NOT NULL,
    failures        INTEGER NOT NULL DEFAULT 0,
    last_failure_at TEXT
);
"#,
    // v7 -> v8: the files the studio camera's tethering software saved into
    // the watched folder, known by their hash so none is ever bound twice.
    r#"
CREATE TABLE camera_files (
    id          INTEGER PRIMARY KEY,
    sha256      TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    bytes       INTEGER NOT NULL,
    modified_at TEXT,
    seen_at     TEXT NOT NULL,
    session_id  INTEGER REFERENCES sessions(id),
    status      TEXT NOT NULL CHECK (status IN ('bound', 'unbound', 'discarded', 'unreadable')),
    reason      TEXT NOT NULL DEFAULT '',
    take_id     INTEGER UNIQUE REFERENCES takes(id),
    raw_name    TEXT,
    raw_sha256  TEXT,
    raw_bytes   INTEGER,
    CHECK ((status = 'bound') = (take_id IS NOT NULL))
);
CREATE INDEX camera_files_name ON camera_files(name, bytes);
CREATE TRIGGER camera_files_bound_final
BEFORE UPDATE OF status, take_id, sha256, name, bytes ON camera_files WHEN OLD.status = 'bound'
BEGIN SELECT RAISE(ABORT, 'a bound camera file stays bound to its take'); END;
CREATE TRIGGER camera_files_kept BEFORE DELETE ON camera_files
BEGIN SELECT RAISE(ABORT, 'camera files are never forgotten'); END;
"#,
];

/// The schema version this build writes.
pub const LATEST_VERSION: i64 = MIGRATIONS.len() as i64;
