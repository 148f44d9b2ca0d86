//! The studio camera's hot folder: the tethering software (EOS Utility,
//! Nikon Camera Control, digiCamControl, Capture One, `gphoto2
//! --capture-tethered`) saves each shot there, and this watcher hands each
//! file on once it is whole.
//!
//! One named thread (`shot-folder`) watches with `notify` (inotify,
//! FSEvents, ReadDirectoryChangesW) and lists the folder every
//! [`FolderConfig::poll_ms`] as well, so a network share or a FAT card
//! reader whose events never come still works. A JPEG is handed on when it
//! is complete: its writer closed it or renamed it into place, or its size
//! and time stood still for [`FolderConfig::settle_ms`]; *and* its bytes
//! are a whole JPEG (the markers walk from SOI to a scan that ends in EOI),
//! read again if it changed while being read. A file still being written is
//! therefore never read half: a `.tmp` (or `.part`, `~`, hidden) name is not
//! looked at until it is renamed. RAW files are hashed and handed on beside
//! their JPEG; anything else is named once as ignored. The station never
//! writes, renames or deletes anything in the folder.

use std::collections::{HashMap, HashSet};
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant, SystemTime};

use sha2::{Digest as _, Sha256};

use crate::worker::{Outbox, Wake, Worker, WorkerError};

/// File extensions of the RAW files cameras write beside their JPEG.
pub const RAW_EXTENSIONS: &[&str] =
    &["cr2", "cr3", "crw", "nef", "nrw", "arw", "srf", "sr2", "raf", "orf", "rw2", "dng", "pef", "srw", "3fr", "iiq"];

/// How the watcher looks at the folder.
#[derive(Debug, Clone, PartialEq)]
pub struct FolderConfig {
    pub dir: PathBuf,
    /// The folder is listed this often, events or not.
    pub poll_ms: u64,
    /// A file whose size and time stood still this long (and that is a whole
    /// JPEG) is complete even without a close or rename event.
    pub settle_ms: u64,
    /// A JPEG that stays cut short this long is handed on as incomplete (a
    /// card or transfer error), to be shown, never bound.
    pub give_up_ms: u64,
    /// Watch with the system's file events (off: listing only).
    pub use_events: bool,
    /// Files found at start that are this old or older are left alone (an
    /// earlier day's shots); `None`: none is.
    pub ignore_before: Option<SystemTime>,
    /// Files the station already knows, by name and size: not read again at start.
    pub known: HashSet<(String, u64)>,
}

impl FolderConfig {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        FolderConfig {
            dir: dir.into(),
            poll_ms: 500,
            settle_ms: 600,
            give_up_ms: 4000,
            use_events: true,
            ignore_before: None,
            known: HashSet::new(),
        }
    }
}

/// How the folder is being watched, for the status bar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FolderState {
    Starting,
    /// Watched with file events and listed every `poll_ms`.
    Watching,
    /// Listed every `poll_ms` only (no file events for this folder).
    Polling,
    /// The folder is not there (not made yet, a drive pulled): looked for again.
    Missing,
    /// The folder is there but cannot be listed.
    Unreadable(String),
}

/// A JPEG from the folder, read whole.
#[derive(Debug, Clone)]
pub struct ArrivedFile {
    pub path: PathBuf,
    /// The file's name as the camera wrote it.
    pub name: String,
    pub bytes: Vec<u8>,
    pub sha256: String,
    pub modified: Option<SystemTime>,
    /// Found in the folder when watching began (or the folder came back),
    /// not seen arriving: never bound on its own.
    pub at_start: bool,
    /// A whole JPEG; false: not a JPEG, or cut short and left so.
    pub complete: bool,
    /// When it was found complete.
    pub found_at: Instant,
    /// The same path was handed on before with other bytes: the camera's
    /// software rewrote it (metadata, an appended preview). Never bound on
    /// its own: the first bytes were this shot's.
    pub rewritten: bool,
}

/// Largest JPEG read from the folder: a 100-megapixel camera's finest JPEG
/// is well under this; anything bigger is reported, not read into memory.
pub const MAX_JPEG_BYTES: u64 = 256 << 20;

/// A RAW file from the folder: hashed, not kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArrivedRaw {
    pub path: PathBuf,
    pub name: String,
    pub sha256: String,
    pub bytes: u64,
}

/// What the watcher reports.
#[derive(Debug, Clone)]
pub enum FolderEvent {
    State(FolderState),
    Jpeg(Box<ArrivedFile>),
    Raw(ArrivedRaw),
    /// Not a photo (a sidecar, a text file, a subfolder): named once, left alone.
    Ignored {
        name: String,
    },
    /// A photo's file that cannot be read (no permission, too large): named
    /// once; looked at again now and then.
    Unreadable {
        name: String,
        why: String,
    },
}

/// How much of a JPEG a byte string is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JpegCompleteness {
    Complete,
    /// A prefix of what may become a JPEG.
    Partial,
    NotJpeg,
}

/// Walks a JPEG's markers from SOI: whole when its segments fit and the
/// data after the first scan ends in EOI (trailing zero padding allowed).
/// An embedded EXIF thumbnail's EOI lies inside its APP1 segment, so a file
/// cut just after it is `Partial`, not whole.
pub fn jpeg_completeness(bytes: &[u8]) -> JpegCompleteness {
    if bytes.len() < 3 {
        return if bytes.iter().zip([0xFF, 0xD8, 0xFF]).all(|(a, b)| *a == b) {
            JpegCompleteness::Partial
        } else {
            JpegCompleteness::NotJpeg
        };
    }
    if bytes[..3] != [0xFF, 0xD8, 0xFF] {
        return JpegCompleteness::NotJpeg;
    }
    let mut i = 2usize;
    // Where the file's last image ends, when an MPF segment says so.
    let mut expected_end = 0usize;
    loop {
        // Markers may be preceded by any number of 0xFF fill bytes.
        while bytes.get(i) == Some(&0xFF) && bytes.get(i + 1) == Some(&0xFF) {
            i += 1;
        }
        let (Some(&ff), Some(&marker)) = (bytes.get(i), bytes.get(i + 1)) else {
            return JpegCompleteness::Partial;
        };
        if ff != 0xFF {
            return JpegCompleteness::NotJpeg;
        }
        match marker {
            0xD9 => return JpegCompleteness::NotJpeg, // EOI before any scan
            0x01 | 0xD0..=0xD7 => {
                i += 2;
                continue;
            }
            _ => {}
        }
        let (Some(&hi), Some(&lo)) = (bytes.get(i + 2), bytes.get(i + 3)) else {
            return JpegCompleteness::Partial;
        };
        let len = usize::from(hi) << 8 | usize::from(lo);
        if len < 2 {
            return JpegCompleteness::NotJpeg;
        }
        let end = i + 2 + len;
        if end > bytes.len() {
            return JpegCompleteness::Partial;
        }
        if marker == 0xE2 {
            if let Some(mpf_end) = mpf_end(&bytes[i + 4..end], i + 8) {
                expected_end = expected_end.max(mpf_end);
            }
        }
        if marker == 0xDA {
            if bytes.len() < expected_end {
                // A multi-picture file (a camera's preview after the photo) not yet whole.
                return JpegCompleteness::Partial;
            }
            let body = &bytes[end..];
            let trimmed = body.iter().rposition(|&b| b != 0).map_or(&body[..0], |last| &body[..=last]);
            return if trimmed.ends_with(&[0xFF, 0xD9]) {
                JpegCompleteness::Complete
            } else {
                JpegCompleteness::Partial
            };
        }
        i = end;
    }
}

/// Where the last image of a multi-picture file ends (CIPA DC-007: an APP2
/// `MPF` segment whose index lists each image's size and offset from the
/// segment's TIFF header at `tiff_at`), or `None` when `payload` is not one.
fn mpf_end(payload: &[u8], tiff_at: usize) -> Option<usize> {
    let tiff = payload.strip_prefix(b"MPF\0")?;
    let little = match tiff.get(..4)? {
        [0x49, 0x49, 0x2A, 0x00] => true,
        [0x4D, 0x4D, 0x00, 0x2A] => false,
        _ => return None,
    };
    let u16_at = |at: usize| -> Option<usize> {
        let b: [u8; 2] = tiff.get(at..at + 2)?.try_into().ok()?;
        Some(usize::from(if little { u16::from_le_bytes(b) } else { u16::from_be_bytes(b) }))
    };
    let u32_at = |at: usize| -> Option<usize> {
        let b: [u8; 4] = tiff.get(at..at + 4)?.try_into().ok()?;
        usize::try_from(if little { u32::from_le_bytes(b) } else { u32::from_be_bytes(b) }).ok()
    };
    let ifd = u32_at(4)?;
    let count = u16_at(ifd)?;
    let (mut entries_at, mut entries_len) = (None, 0usize);
    for n in 0..count.min(64) {
        let tag = ifd + 2 + n * 12;
        if u16_at(tag)? == 0xB002 {
            entries_len = u32_at(tag + 4)?;
            entries_at = Some(u32_at(tag + 8)?);
        }
    }
    let entries_at = entries_at?;
    let mut end = 0usize;
    for n in 0..(entries_len / 16).min(16) {
        let entry = entries_at + n * 16;
        let (size, offset) = (u32_at(entry + 4)?, u32_at(entry + 8)?);
        if offset > 0 {
            end = end.max(tiff_at.checked_add(offset)?.checked_add(size)?);
        }
    }
    Some(end)
}

/// Where a whole JPEG's image data is damaged, if it is: a marker inside
/// the entropy-coded data of a baseline scan (random garbage almost always
/// holds one), restart markers out of order or without a restart interval,
/// or data after EOI other than the whole JPEG previews of a multi-picture
/// file (Nikon, Sony, Fuji, Canon write one). Decoders are lenient with all of these: they stop at
/// the stray marker and fill the rest of the picture, which would make a
/// broken file a "photo". A block of zero bytes is the one damage this
/// cannot see (it decodes as valid, if wrong, data).
pub fn jpeg_damage(bytes: &[u8]) -> Option<String> {
    jpeg_damage_within(bytes, 0)
}

/// Most previews read after a multi-picture file's first image.
const MAX_PREVIEWS: usize = 8;

fn jpeg_damage_within(bytes: &[u8], previews: usize) -> Option<String> {
    if bytes.len() < 4 || bytes[..2] != [0xFF, 0xD8] {
        return Some("no JPEG start marker".into());
    }
    let mut progressive = false;
    let mut restart_interval = 0u16;
    let mut i = 2usize;
    loop {
        while bytes.get(i) == Some(&0xFF) && bytes.get(i + 1) == Some(&0xFF) {
            i += 1;
        }
        let (Some(&0xFF), Some(&marker)) = (bytes.get(i), bytes.get(i + 1)) else {
            return Some(format!("no marker at byte {i}"));
        };
        if marker == 0xD9 {
            return Some("the image ends before its data".into());
        }
        let (Some(&hi), Some(&lo)) = (bytes.get(i + 2), bytes.get(i + 3)) else {
            return Some("cut short".into());
        };
        let len = usize::from(hi) << 8 | usize::from(lo);
        let end = i + 2 + len;
        if len < 2 || end > bytes.len() {
            return Some(format!("segment {marker:02X} at byte {i} runs past the end"));
        }
        match marker {
            0xC2 | 0xC6 | 0xCA | 0xCE => progressive = true,
            0xDD if len >= 4 => restart_interval = u16::from(bytes[i + 4]) << 8 | u16::from(bytes[i + 5]),
            _ => {}
        }
        if marker != 0xDA {
            i = end;
            continue;
        }
        // The entropy-coded data of this scan.
        let mut j = end;
        let mut next_rst = 0u8;
        loop {
            let Some(off) = bytes[j..].iter().position(|&b| b == 0xFF) else {
                return Some("the image data has no end marker".into());
            };
            j += off;
            match bytes.get(j + 1).copied() {
                Some(0x00) => j += 2,
                Some(0xFF) => j += 1,
                Some(m @ 0xD0..=0xD7) => {
                    if restart_interval == 0 {
                        return Some(format!("a restart marker without a restart interval at byte {j}"));
                    }
                    if m != 0xD0 + next_rst {
                        return Some(format!("restart marker RST{} out of order at byte {j}", m - 0xD0));
                    }
                    next_rst = (next_rst + 1) % 8;
                    j += 2;
                }
                Some(0xD9) => {
                    let rest = &bytes[j + 2..];
                    if rest.iter().all(|&b| b == 0) {
                        return None;
                    }
                    // The previews of a multi-picture file: each a whole, sound JPEG.
                    let preview_at = rest.iter().position(|&b| b != 0).unwrap_or(0);
                    let preview = &rest[preview_at..];
                    if previews < MAX_PREVIEWS
                        && preview.starts_with(&[0xFF, 0xD8, 0xFF])
                        && jpeg_completeness(preview) == JpegCompleteness::Complete
                    {
                        return jpeg_damage_within(preview, previews + 1)
                            .map(|why| format!("its preview image: {why}"));
                    }
                    return Some(format!("{} bytes after the end marker", rest.len()));
                }
                Some(m) if progressive && matches!(m, 0xC4 | 0xDA | 0xDB | 0xDD | 0xFE | 0xE0..=0xEF) => {
                    // Between the scans of a progressive image: read on from here.
                    i = j;
                    break;
                }
                Some(m) => return Some(format!("a stray marker {m:02X} inside the image data at byte {j}")),
                None => return Some("cut short".into()),
            }
        }
    }
}

/// What kind of file a name is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Jpeg,
    Raw,
    /// Still being written under a temporary name, or hidden: not looked at.
    Temporary,
    Other,
}

fn kind_of(name: &str) -> Kind {
    if name.starts_with('.') || name.starts_with('~') {
        return Kind::Temporary;
    }
    let ext = Path::new(name).extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).unwrap_or_default();
    match ext.as_str() {
        "jpg" | "jpeg" | "jpe" => Kind::Jpeg,
        "tmp" | "temp" | "part" | "partial" | "crdownload" | "download" | "filepart" => Kind::Temporary,
        e if RAW_EXTENSIONS.contains(&e) => Kind::Raw,
        _ => Kind::Other,
    }
}

/// What the watcher knows of one file.
#[derive(Debug, Clone)]
struct Seen {
    size: u64,
    modified: Option<SystemTime>,
    /// When size or time last changed.
    changed_at: Instant,
    /// A close-after-write or rename-into-place event came since the last change.
    closed: bool,
    /// Found in the first listing: not seen arriving.
    at_start: bool,
    /// Handed on at this size and time (or left alone): nothing more to do
    /// until it changes.
    done: bool,
    /// Looked at and found cut short: not read again before this.
    next_look: Option<Instant>,
    /// The hash of the bytes last handed on from this path.
    handed_on: Option<String>,
    /// Reading it has failed since then (no permission…).
    failing_since: Option<Instant>,
    /// Its failure to be read was reported.
    failure_reported: bool,
}

/// The watcher thread and what it reports.
pub struct FolderWatcher {
    worker: Worker<FolderEvent>,
    dir: PathBuf,
}

impl std::fmt::Debug for FolderWatcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FolderWatcher").field("dir", &self.dir).finish_non_exhaustive()
    }
}

impl FolderWatcher {
    /// Starts watching `config.dir`; `wake` is called with each report.
    pub fn start(config: FolderConfig, wake: Wake) -> Result<Self, WorkerError> {
        let dir = config.dir.clone();
        let worker = Worker::spawn("shot-folder", wake, move |out| Watch::new(config).run(&out))?;
        Ok(FolderWatcher { worker, dir })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The reports since the last call.
    pub fn drain(&self) -> Vec<FolderEvent> {
        self.worker.drain()
    }

    /// Waits up to `timeout` for the next report (tests, headless tools).
    pub fn recv_timeout(&self, timeout: Duration) -> Option<FolderEvent> {
        self.worker.recv_timeout(timeout)
    }
}

/// The watcher's state, on its thread.
struct Watch {
    config: FolderConfig,
    seen: HashMap<PathBuf, Seen>,
    ignored: HashSet<String>,
    state: FolderState,
    /// The folder has been listed once since watching (re)began.
    listed: bool,
    events: Option<(notify::RecommendedWatcher, Receiver<notify::Result<notify::Event>>)>,
}

impl Watch {
    fn new(config: FolderConfig) -> Self {
        Watch {
            config,
            seen: HashMap::new(),
            ignored: HashSet::new(),
            state: FolderState::Starting,
            listed: false,
            events: None,
        }
    }

    fn run(mut self, out: &Outbox<FolderEvent>) {
        let poll = Duration::from_millis(self.config.poll_ms.max(20));
        let mut last_list: Option<Instant> = None;
        while !out.stopping() {
            // With file events, the listing is a safety net and runs less often.
            let list_every = if self.events.is_some() { poll * 4 } else { poll };
            if last_list.is_none_or(|t| t.elapsed() >= list_every) {
                last_list = Some(Instant::now());
                self.list(out);
            }
            // Wait for an event, or the next listing, or a file settling.
            let wait = self.next_wait(poll);
            let event = match &self.events {
                Some((_, rx)) => match rx.recv_timeout(wait) {
                    Ok(event) => Some(event),
                    Err(RecvTimeoutError::Timeout) => None,
                    Err(RecvTimeoutError::Disconnected) => {
                        self.events = None;
                        None
                    }
                },
                None => {
                    std::thread::sleep(wait);
                    None
                }
            };
            if let Some(event) = event {
                self.on_event(event);
                // Take in every event already queued before looking at files.
                while let Some(Ok(more)) = self.events.as_ref().and_then(|(_, rx)| rx.try_recv().ok()) {
                    self.on_event(Ok(more));
                }
            }
            if !self.check_files(out) {
                return;
            }
        }
    }

    fn next_wait(&self, poll: Duration) -> Duration {
        let settle = Duration::from_millis(self.config.settle_ms);
        let now = Instant::now();
        let soonest = self
            .seen
            .values()
            .filter(|s| !s.done)
            .map(|s| {
                // Ready when closed or settled, and not before its next look.
                let settled = if s.closed { Duration::ZERO } else { settle.saturating_sub(s.changed_at.elapsed()) };
                let look = s.next_look.map_or(Duration::ZERO, |t| t.saturating_duration_since(now));
                settled.max(look)
            })
            .min()
            .unwrap_or(poll);
        soonest.clamp(Duration::from_millis(5), poll)
    }

    fn set_state(&mut self, state: FolderState, out: &Outbox<FolderEvent>) {
        if self.state != state {
            self.state = state.clone();
            out.send(FolderEvent::State(state));
        }
    }

    /// Lists the folder: new and changed files become candidates; the event
    /// watch is (re)started when the folder is there.
    fn list(&mut self, out: &Outbox<FolderEvent>) {
        let entries = match std::fs::read_dir(&self.config.dir) {
            Ok(entries) => entries,
            Err(e) => {
                let state = if e.kind() == std::io::ErrorKind::NotFound || !self.config.dir.exists() {
                    FolderState::Missing
                } else {
                    FolderState::Unreadable(e.to_string())
                };
                // When it comes back, what is in it was not seen arriving.
                self.events = None;
                self.listed = false;
                self.seen.clear();
                self.set_state(state, out);
                return;
            }
        };
        if self.events.is_none() && self.config.use_events {
            self.events = start_events(&self.config.dir);
        }
        let at_start = !self.listed;
        let now = Instant::now();
        let mut present = HashSet::new();
        for entry in entries.flatten() {
            let path = entry.path();
            present.insert(path.clone());
            let Some(name) = path.file_name().and_then(|n| n.to_str()).map(str::to_string) else { continue };
            let Ok(meta) = entry.metadata() else { continue };
            if meta.is_dir() && kind_of(&name) != Kind::Temporary {
                // Tethering software that files shots into subfolders must be
                // pointed at the subfolder: say so once.
                let shown = format!("{name}/");
                if self.ignored.insert(shown.clone()) {
                    out.send(FolderEvent::Ignored { name: shown });
                }
                continue;
            }
            if !meta.is_file() {
                continue;
            }
            self.note(path, &name, meta.len(), meta.modified().ok(), at_start, now);
        }
        // A file gone from the folder is forgotten: one that comes back under
        // its name is a new file.
        self.seen.retain(|path, _| present.contains(path));
        self.listed = true;
        let state = if self.events.is_some() { FolderState::Watching } else { FolderState::Polling };
        self.set_state(state, out);
    }

    /// Records what a listing or an event found of one file.
    fn note(
        &mut self,
        path: PathBuf,
        name: &str,
        size: u64,
        modified: Option<SystemTime>,
        at_start: bool,
        now: Instant,
    ) {
        match self.seen.get_mut(&path) {
            Some(s) if s.size == size && s.modified == modified => {}
            Some(s) => {
                s.size = size;
                s.modified = modified;
                s.changed_at = now;
                s.closed = false;
                s.done = false;
                s.next_look = None;
                s.failing_since = None;
                s.failure_reported = false;
            }
            None => {
                let kind = kind_of(name);
                let old = at_start
                    && (self.config.known.contains(&(name.to_string(), size))
                        || matches!((self.config.ignore_before, modified), (Some(before), Some(m)) if m <= before));
                self.seen.insert(
                    path,
                    Seen {
                        size,
                        modified,
                        changed_at: now,
                        closed: false,
                        at_start,
                        done: old || kind == Kind::Temporary,
                        next_look: None,
                        handed_on: None,
                        failing_since: None,
                        failure_reported: false,
                    },
                );
            }
        }
    }

    fn on_event(&mut self, event: notify::Result<notify::Event>) {
        use notify::event::{AccessKind, AccessMode, EventKind, ModifyKind, RenameMode};
        let Ok(event) = event else { return };
        let closes = matches!(
            event.kind,
            EventKind::Access(AccessKind::Close(AccessMode::Write))
                | EventKind::Modify(ModifyKind::Name(RenameMode::To | RenameMode::Both | RenameMode::Any))
        );
        if matches!(event.kind, EventKind::Access(_)) && !closes {
            return;
        }
        let now = Instant::now();
        for path in &event.paths {
            // A rename (both paths given) lands on the last one.
            if !path.parent().is_some_and(|p| same_dir(p, &self.config.dir)) {
                continue;
            }
            let Some(name) = path.file_name().and_then(|n| n.to_str()).map(str::to_string) else { continue };
            let Ok(meta) = std::fs::metadata(path) else {
                self.seen.remove(path);
                continue;
            };
            if !meta.is_file() {
                continue;
            }
            self.note(path.clone(), &name, meta.len(), meta.modified().ok(), false, now);
            if let Some(s) = self.seen.get_mut(path) {
                let written = matches!(event.kind, EventKind::Modify(ModifyKind::Data(_)) | EventKind::Create(_));
                // Written again after being handed on, even at the same size
                // and time: looked at again (the same bytes are not handed on twice).
                if s.done && (written || closes) && s.handed_on.is_some() {
                    s.done = false;
                    s.changed_at = now;
                    s.next_look = None;
                }
                if closes {
                    s.closed = true;
                }
                if written {
                    s.closed = false;
                }
            }
        }
    }

    /// Hands on every candidate that is complete; false when the app is gone.
    fn check_files(&mut self, out: &Outbox<FolderEvent>) -> bool {
        let settle = Duration::from_millis(self.config.settle_ms);
        let give_up = Duration::from_millis(self.config.give_up_ms);
        let now = Instant::now();
        let ready: Vec<PathBuf> = self
            .seen
            .iter()
            .filter(|(_, s)| {
                !s.done && (s.closed || s.changed_at.elapsed() >= settle) && s.next_look.is_none_or(|t| now >= t)
            })
            .map(|(p, _)| p.clone())
            .collect();
        let poll = Duration::from_millis(self.config.poll_ms.max(20));
        for path in ready {
            let Some(name) = path.file_name().and_then(|n| n.to_str()).map(str::to_string) else { continue };
            let Some(seen) = self.seen.get(&path).cloned() else { continue };
            let event = match kind_of(&name) {
                Kind::Temporary => None,
                Kind::Other => {
                    let first = self.ignored.insert(name.clone());
                    first.then(|| FolderEvent::Ignored { name: name.clone() })
                }
                Kind::Raw => match hash_file(&path) {
                    Ok((sha256, _)) if seen.handed_on.as_deref() == Some(sha256.as_str()) => None,
                    Ok((sha256, bytes)) if bytes == seen.size => {
                        self.seen_mut(&path, |s| s.handed_on = Some(sha256.clone()));
                        Some(FolderEvent::Raw(ArrivedRaw { path: path.clone(), name: name.clone(), sha256, bytes }))
                    }
                    Ok(_) => {
                        // Changed while being read: look again later.
                        self.touch(&path);
                        continue;
                    }
                    Err(e) => {
                        if let Some(report) = self.read_failed(&path, &name, &e.to_string(), give_up) {
                            if !out.send(report) {
                                return false;
                            }
                        }
                        continue;
                    }
                },
                Kind::Jpeg if seen.size > MAX_JPEG_BYTES => {
                    let why = format!("{} MB, larger than a camera's JPEG", seen.size >> 20);
                    self.seen_mut(&path, |s| s.failure_reported = true);
                    Some(FolderEvent::Unreadable { name: name.clone(), why })
                }
                Kind::Jpeg => {
                    let bytes = match read_file(&path) {
                        Ok(bytes) => bytes,
                        Err(e) => {
                            if let Some(report) = self.read_failed(&path, &name, &e.to_string(), give_up) {
                                if !out.send(report) {
                                    return false;
                                }
                            }
                            continue;
                        }
                    };
                    let same = std::fs::metadata(&path)
                        .is_ok_and(|m| m.len() == bytes.len() as u64 && m.modified().ok() == seen.modified);
                    if !same || bytes.len() as u64 != seen.size {
                        self.touch(&path);
                        continue;
                    }
                    let completeness = jpeg_completeness(&bytes);
                    let stuck = seen.changed_at.elapsed() >= give_up;
                    match completeness {
                        // Not whole yet (a writer may fill the file's start last).
                        JpegCompleteness::Partial | JpegCompleteness::NotJpeg if !stuck => {
                            // Not whole yet: wait for the next change (or give up).
                            if let Some(s) = self.seen.get_mut(&path) {
                                s.closed = false;
                                s.next_look = Some(Instant::now() + poll);
                            }
                            continue;
                        }
                        _ => {}
                    }
                    let sha256 = sha256_hex(&bytes);
                    if seen.handed_on.as_deref() == Some(sha256.as_str()) {
                        // Written again with the same bytes: nothing new.
                        self.seen_mut(&path, |s| s.done = true);
                        continue;
                    }
                    let rewritten = seen.handed_on.is_some();
                    self.seen_mut(&path, |s| s.handed_on = Some(sha256.clone()));
                    Some(FolderEvent::Jpeg(Box::new(ArrivedFile {
                        path: path.clone(),
                        name: name.clone(),
                        bytes,
                        sha256,
                        modified: seen.modified,
                        at_start: seen.at_start,
                        complete: completeness == JpegCompleteness::Complete,
                        found_at: Instant::now(),
                        rewritten,
                    })))
                }
            };
            if let Some(s) = self.seen.get_mut(&path) {
                s.done = true;
            }
            if let Some(event) = event {
                if !out.send(event) {
                    return false;
                }
            }
        }
        true
    }

    fn seen_mut(&mut self, path: &Path, change: impl FnOnce(&mut Seen)) {
        if let Some(s) = self.seen.get_mut(path) {
            change(s);
        }
    }

    /// A file could not be read: looked at again after the settle time, and
    /// once it has failed for `give_up`, reported once and looked at every
    /// few seconds from then on. The report, when it is due.
    fn read_failed(&mut self, path: &Path, name: &str, why: &str, give_up: Duration) -> Option<FolderEvent> {
        let now = Instant::now();
        let s = self.seen.get_mut(path)?;
        let since = *s.failing_since.get_or_insert(now);
        s.closed = false;
        s.changed_at = now;
        if now.saturating_duration_since(since) < give_up {
            s.next_look = None;
            return None;
        }
        s.next_look = Some(now + Duration::from_secs(5));
        if s.failure_reported {
            return None;
        }
        s.failure_reported = true;
        Some(FolderEvent::Unreadable { name: name.to_string(), why: why.to_string() })
    }

    /// Looks at a file again after the settle time.
    fn touch(&mut self, path: &Path) {
        if let Some(s) = self.seen.get_mut(path) {
            s.changed_at = Instant::now();
            s.closed = false;
            s.next_look = None;
        }
    }
}

/// Runs the trigger command (program and arguments separated by spaces,
/// e.g. `gphoto2 --trigger-capture`) without waiting for it; empty: nothing.
/// Its exit is collected on a thread of its own.
pub fn run_trigger(command: &str) -> Result<(), super::CameraError> {
    let mut parts = command.split_whitespace();
    let Some(program) = parts.next() else { return Ok(()) };
    let mut child = std::process::Command::new(program)
        .args(parts)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .spawn()
        .map_err(|e| super::CameraError::Trigger(format!("{program}: {e}")))?;
    let name = program.to_string();
    let reaped = std::thread::Builder::new().name("shot-trigger".into()).spawn(move || match child.wait() {
        Ok(status) if !status.success() => tracing::warn!("the trigger command {name} ended with {status}"),
        Ok(_) => {}
        Err(e) => tracing::warn!("the trigger command {name}: {e}"),
    });
    reaped.map(|_| ()).map_err(|e| super::CameraError::Thread(e.to_string()))
}

fn same_dir(a: &Path, b: &Path) -> bool {
    a == b || matches!((a.canonicalize(), b.canonicalize()), (Ok(x), Ok(y)) if x == y)
}

type EventWatch = (notify::RecommendedWatcher, Receiver<notify::Result<notify::Event>>);

fn start_events(dir: &Path) -> Option<EventWatch> {
    use notify::Watcher as _;
    let (tx, rx) = std::sync::mpsc::channel();
    let mut watcher = match notify::recommended_watcher(tx) {
        Ok(w) => w,
        Err(e) => {
            tracing::warn!("no file events for {}: {e}; listing only", dir.display());
            return None;
        }
    };
    match watcher.watch(dir, notify::RecursiveMode::NonRecursive) {
        Ok(()) => Some((watcher, rx)),
        Err(e) => {
            tracing::warn!("no file events for {}: {e}; listing only", dir.display());
            None
        }
    }
}

fn read_file(path: &Path) -> std::io::Result<Vec<u8>> {
    let mut file = std::fs::File::open(path)?;
    let mut bytes = Vec::with_capacity(file.metadata().map(|m| m.len() as usize).unwrap_or(0));
    file.read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// SHA-256 of a file, read in pieces (a RAW file is not kept in memory).
pub fn hash_file(path: &Path) -> std::io::Result<(String, u64)> {
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut total = 0u64;
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        total += n as u64;
    }
    Ok((hex(&hasher.finalize()), total))
}

/// SHA-256 of bytes, as lowercase hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

fn hex(digest: &[u8]) -> String {
    use std::fmt::Write as _;
    digest.iter().fold(String::with_capacity(64), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

#[cfg(test)]
mod tests;
