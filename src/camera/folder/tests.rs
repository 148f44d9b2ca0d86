//! The hot folder as tethering software fills it: files written in pieces,
//! renamed into place, RAW beside JPEG, found at start, cut short.

use std::io::Write as _;

use super::*;
use crate::camera::synth;

fn camera_file(seed: u64) -> Vec<u8> {
    synth::camera_jpeg(&synth::portrait(640, 480, seed), 1, 90).unwrap()
}

fn watch(config: FolderConfig) -> FolderWatcher {
    FolderWatcher::start(config, Box::new(|| {})).unwrap()
}

fn quick(dir: &Path) -> FolderConfig {
    FolderConfig { poll_ms: 100, settle_ms: 300, give_up_ms: 1500, ..FolderConfig::new(dir) }
}

/// The next report that is not a state change, within `ms`.
fn next_file(w: &FolderWatcher, ms: u64) -> Option<FolderEvent> {
    let until = Instant::now() + Duration::from_millis(ms);
    while let Some(left) = until.checked_duration_since(Instant::now()) {
        match w.recv_timeout(left) {
            Some(FolderEvent::State(_)) => continue,
            other => return other,
        }
    }
    None
}

fn jpeg(event: Option<FolderEvent>) -> ArrivedFile {
    match event {
        Some(FolderEvent::Jpeg(f)) => *f,
        other => panic!("expected a JPEG, got {other:?}"),
    }
}

/// Writes `bytes` in `pieces` over `total_ms`, keeping the file open, as a
/// camera utility copying from the camera does.
fn write_in_pieces(path: &Path, bytes: &[u8], pieces: usize, total_ms: u64) {
    let mut f = std::fs::File::create(path).unwrap();
    for chunk in bytes.chunks(bytes.len().div_ceil(pieces)) {
        f.write_all(chunk).unwrap();
        f.flush().unwrap();
        std::thread::sleep(Duration::from_millis(total_ms / pieces as u64));
    }
}

#[test]
fn every_prefix_of_a_camera_jpeg_is_partial_and_only_the_whole_file_is_complete() {
    let bytes = camera_file(1);
    // The thumbnail's EOI is inside the APP1 segment, early in the file.
    let thumb_eoi = bytes.windows(2).position(|w| w == [0xFF, 0xD9]).unwrap();
    assert!(thumb_eoi < bytes.len() / 2, "the fixture has an embedded thumbnail");
    for cut in (0..bytes.len()).step_by(97).chain([thumb_eoi + 2, bytes.len() - 1]) {
        assert_eq!(jpeg_completeness(&bytes[..cut]), JpegCompleteness::Partial, "cut at {cut}");
    }
    assert_eq!(jpeg_completeness(&bytes), JpegCompleteness::Complete);
    let mut padded = bytes.clone();
    padded.extend([0u8; 64]);
    assert_eq!(jpeg_completeness(&padded), JpegCompleteness::Complete, "zero padding after EOI");
    assert_eq!(jpeg_completeness(b"not a photo at all"), JpegCompleteness::NotJpeg);
    assert_eq!(jpeg_completeness(&[0xFF, 0xD8, 0xFF, 0xD9]), JpegCompleteness::NotJpeg);
}

#[test]
fn a_file_written_in_pieces_over_a_second_is_handed_on_once_whole() {
    let dir = tempfile::tempdir().unwrap();
    let w = watch(quick(dir.path()));
    std::thread::sleep(Duration::from_millis(200));
    let bytes = camera_file(2);
    write_in_pieces(&dir.path().join("IMG_0001.JPG"), &bytes, 8, 1000);
    let f = jpeg(next_file(&w, 5000));
    assert_eq!(f.name, "IMG_0001.JPG");
    assert_eq!(f.bytes, bytes, "never half a file");
    assert!(f.complete && !f.at_start);
    assert_eq!(f.sha256, sha256_hex(&bytes));
    assert!(next_file(&w, 800).is_none(), "handed on once");
}

#[test]
fn a_temporary_name_is_not_looked_at_until_renamed() {
    let dir = tempfile::tempdir().unwrap();
    let w = watch(quick(dir.path()));
    std::thread::sleep(Duration::from_millis(200));
    let bytes = camera_file(3);
    let tmp = dir.path().join("IMG_0002.JPG.tmp");
    write_in_pieces(&tmp, &bytes, 4, 600);
    std::thread::sleep(Duration::from_millis(500));
    std::fs::rename(&tmp, dir.path().join("IMG_0002.JPG")).unwrap();
    let f = jpeg(next_file(&w, 3000));
    assert_eq!(f.name, "IMG_0002.JPG");
    assert_eq!(f.bytes, bytes);
    assert!(next_file(&w, 600).is_none(), "the .tmp was never reported");
}

#[test]
fn listing_alone_finds_files_where_no_events_come() {
    let dir = tempfile::tempdir().unwrap();
    let w = watch(FolderConfig { use_events: false, ..quick(dir.path()) });
    std::thread::sleep(Duration::from_millis(200));
    let bytes = camera_file(4);
    write_in_pieces(&dir.path().join("DSC_0003.jpg"), &bytes, 5, 800);
    let f = jpeg(next_file(&w, 5000));
    assert_eq!(f.bytes, bytes);
}

#[test]
fn files_found_at_start_are_marked_and_known_or_old_ones_are_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let old = camera_file(5);
    let known = camera_file(6);
    let new = camera_file(7);
    std::fs::write(dir.path().join("OLD.JPG"), &old).unwrap();
    std::fs::write(dir.path().join("KNOWN.JPG"), &known).unwrap();
    let before = SystemTime::now();
    std::thread::sleep(Duration::from_millis(1100));
    std::fs::write(dir.path().join("NEW.JPG"), &new).unwrap();
    // OLD is older than the session; KNOWN the station has seen by name and size.
    let mut config = quick(dir.path());
    config.ignore_before = Some(before);
    config.known.insert(("KNOWN.JPG".into(), known.len() as u64));
    std::fs::File::options()
        .write(true)
        .open(dir.path().join("KNOWN.JPG"))
        .unwrap()
        .set_modified(SystemTime::now())
        .unwrap();
    let w = watch(config);
    let f = jpeg(next_file(&w, 3000));
    assert_eq!(f.name, "NEW.JPG");
    assert!(f.at_start, "not seen arriving");
    assert!(next_file(&w, 800).is_none());
}

#[test]
fn raw_files_are_hashed_other_files_named_once_and_a_cut_file_given_up_on() {
    let dir = tempfile::tempdir().unwrap();
    let w = watch(quick(dir.path()));
    std::thread::sleep(Duration::from_millis(200));
    let raw = vec![7u8; 300_000];
    std::fs::write(dir.path().join("IMG_0010.CR3"), &raw).unwrap();
    match next_file(&w, 3000) {
        Some(FolderEvent::Raw(r)) => {
            assert_eq!(r.name, "IMG_0010.CR3");
            assert_eq!((r.sha256.as_str(), r.bytes), (sha256_hex(&raw).as_str(), raw.len() as u64));
        }
        other => panic!("{other:?}"),
    }
    std::fs::write(dir.path().join("notes.txt"), "hello").unwrap();
    match next_file(&w, 3000) {
        Some(FolderEvent::Ignored { name }) => assert_eq!(name, "notes.txt"),
        other => panic!("{other:?}"),
    }
    // A card error: the file stops half way and stays so.
    let bytes = camera_file(8);
    std::fs::write(dir.path().join("IMG_0011.JPG"), &bytes[..bytes.len() / 2]).unwrap();
    let f = jpeg(next_file(&w, 5000));
    assert!(!f.complete, "handed on as cut short, to be shown, never bound");
    // A text file named .jpg is not a JPEG: at once, no wait.
    std::fs::write(dir.path().join("IMG_0012.JPG"), "this is not a picture").unwrap();
    let f = jpeg(next_file(&w, 3000));
    assert_eq!(f.name, "IMG_0012.JPG");
    assert!(!f.complete);
}

#[test]
fn a_missing_folder_is_reported_and_watched_once_it_appears() {
    let base = tempfile::tempdir().unwrap();
    let dir = base.path().join("EOS");
    let w = watch(quick(&dir));
    let mut states = Vec::new();
    let until = Instant::now() + Duration::from_secs(2);
    while Instant::now() < until && !states.contains(&FolderState::Missing) {
        if let Some(FolderEvent::State(s)) = w.recv_timeout(Duration::from_millis(100)) {
            states.push(s);
        }
    }
    assert!(states.contains(&FolderState::Missing), "{states:?}");
    std::fs::create_dir(&dir).unwrap();
    let until = Instant::now() + Duration::from_secs(3);
    let mut watching = false;
    while Instant::now() < until && !watching {
        watching =
            matches!(w.recv_timeout(Duration::from_millis(100)), Some(FolderEvent::State(FolderState::Watching)));
    }
    assert!(watching);
    let bytes = camera_file(9);
    std::fs::write(dir.join("IMG_0020.JPG"), &bytes).unwrap();
    let f = jpeg(next_file(&w, 3000));
    assert_eq!(f.bytes, bytes);
}

#[test]
fn the_trigger_command_runs_without_being_waited_for() {
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("fired");
    run_trigger("").unwrap();
    let cmd = format!("touch {}", marker.display());
    run_trigger(&cmd).unwrap();
    let until = Instant::now() + Duration::from_secs(3);
    while !marker.exists() && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(marker.exists());
    assert!(matches!(run_trigger("/no/such/program --x"), Err(crate::camera::CameraError::Trigger(_))));
}

#[test]
fn damage_inside_the_image_data_is_seen_where_decoders_paint_over_it() {
    let whole = camera_file(30);
    assert_eq!(jpeg_damage(&whole), None);
    let mut padded = whole.clone();
    padded.extend([0; 16]);
    assert_eq!(jpeg_damage(&padded), None);
    // The real portraits (another encoder) are whole too.
    let portraits = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/testdata/portraits");
    for entry in std::fs::read_dir(&portraits).unwrap().flatten() {
        if entry.path().extension().is_some_and(|e| e == "jpg") {
            let bytes = std::fs::read(entry.path()).unwrap();
            assert_eq!(jpeg_damage(&bytes), None, "{}", entry.path().display());
        }
    }
    let sos = whole.windows(2).rposition(|w| w == [0xFF, 0xDA]).unwrap();
    let mid = sos + (whole.len() - sos) / 2;
    for seed in 0..20u64 {
        let mut rng = synth::SeededRng::new(seed);
        let mut broken = whole.clone();
        for b in &mut broken[mid..mid + 2048] {
            *b = rng.next_u64() as u8;
        }
        assert!(jpeg_damage(&broken).is_some(), "seed {seed}");
    }
    let mut trailing = whole.clone();
    trailing.extend(b"junk");
    assert!(jpeg_damage(&trailing).is_some());
    assert!(jpeg_damage(&whole[..whole.len() / 2]).is_some());
}
