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
    // A text file named .jpg is not a JPEG: handed on once given up on
    // (a writer may fill a file's start last), never bound.
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

/// `primary` with `preview` appended and an APP2 MPF index after its SOI
/// that lists both, as Nikon, Sony, Fuji and Canon write a large preview.
fn with_preview(primary: &[u8], preview: &[u8]) -> Vec<u8> {
    // MPF\0, then a little-endian TIFF header, one IFD with the MP entry tag
    // (0xB002, two 16-byte entries), then the entries.
    let mut tiff = Vec::new();
    tiff.extend_from_slice(b"II*\0");
    tiff.extend_from_slice(&8u32.to_le_bytes());
    tiff.extend_from_slice(&1u16.to_le_bytes());
    tiff.extend_from_slice(&0xB002u16.to_le_bytes());
    tiff.extend_from_slice(&7u16.to_le_bytes());
    tiff.extend_from_slice(&32u32.to_le_bytes());
    tiff.extend_from_slice(&26u32.to_le_bytes());
    tiff.extend_from_slice(&0u32.to_le_bytes());
    let segment_len = 2 + 4 + tiff.len() + 32;
    let tiff_at = 2 + 4 + 4; // SOI, marker and length, "MPF\0"
    let primary_len = primary.len() + 2 + segment_len;
    let entry = |size: usize, offset: usize| {
        let mut e = Vec::new();
        e.extend_from_slice(&0u32.to_le_bytes());
        e.extend_from_slice(&(size as u32).to_le_bytes());
        e.extend_from_slice(&(offset as u32).to_le_bytes());
        e.extend_from_slice(&[0; 4]);
        e
    };
    tiff.extend(entry(primary_len, 0));
    tiff.extend(entry(preview.len(), primary_len - tiff_at));
    let mut out = vec![0xFF, 0xD8, 0xFF, 0xE2];
    out.extend_from_slice(&(segment_len as u16).to_be_bytes());
    out.extend_from_slice(b"MPF\0");
    out.extend_from_slice(&tiff);
    out.extend_from_slice(&primary[2..]);
    assert_eq!(out.len(), primary_len);
    out.extend_from_slice(preview);
    out
}

#[test]
fn a_multi_picture_file_is_whole_only_with_its_preview_and_a_damaged_preview_is_seen() {
    let (primary, preview) = (camera_file(30), camera_file(31));
    let file = with_preview(&primary, &preview);
    assert_eq!(jpeg_completeness(&file), JpegCompleteness::Complete);
    assert_eq!(jpeg_damage(&file), None, "a whole preview after the photo is not damage");
    assert_eq!(crate::photo::decode_camera_jpeg(&file).unwrap().image.dimensions(), (640, 480));
    // Cut after the first image's end marker, before the preview is whole:
    // not complete, though the first image alone would be.
    let primary_len = file.len() - preview.len();
    for cut in [primary_len, primary_len + 2, file.len() - 1] {
        assert_eq!(jpeg_completeness(&file[..cut]), JpegCompleteness::Partial, "cut at {cut}");
    }
    // Garbage in the preview's image data.
    let mut damaged = file.clone();
    let sos = damaged.windows(2).rposition(|w| w == [0xFF, 0xDA]).unwrap();
    assert!(sos > primary_len);
    let mut rng = synth::SeededRng::new(3);
    let mid = sos + (damaged.len() - sos) / 2;
    for b in &mut damaged[mid..mid + 512] {
        *b = rng.next_u64() as u8;
    }
    assert!(jpeg_damage(&damaged).is_some_and(|why| why.contains("preview")));
    // Random bytes after the end marker are still damage.
    let mut tail = primary.clone();
    tail.extend_from_slice(b"\x01\x02 not a picture");
    assert!(jpeg_damage(&tail).is_some());
}

#[test]
fn a_file_rewritten_after_it_was_read_is_marked_and_the_same_bytes_are_not_handed_on_twice() {
    let dir = tempfile::tempdir().unwrap();
    let w = watch(quick(dir.path()));
    std::thread::sleep(Duration::from_millis(200));
    let path = dir.path().join("IMG_0040.JPG");
    let first = camera_file(40);
    std::fs::write(&path, &first).unwrap();
    let f = jpeg(next_file(&w, 3000));
    assert!(!f.rewritten);
    // The same bytes again (a utility touching the file): nothing new.
    std::thread::sleep(Duration::from_millis(50));
    std::fs::write(&path, &first).unwrap();
    assert!(next_file(&w, 1200).is_none());
    // Other bytes under the same name: handed on, marked rewritten.
    std::fs::write(&path, camera_file(41)).unwrap();
    let f = jpeg(next_file(&w, 3000));
    assert!(f.rewritten);
    assert_eq!(f.bytes, camera_file(41));
}

#[test]
fn a_subfolder_and_a_file_too_large_to_be_a_photo_are_named_once() {
    let dir = tempfile::tempdir().unwrap();
    let w = watch(quick(dir.path()));
    std::thread::sleep(Duration::from_millis(200));
    std::fs::create_dir(dir.path().join("100CANON")).unwrap();
    match next_file(&w, 3000) {
        Some(FolderEvent::Ignored { name }) => assert_eq!(name, "100CANON/"),
        other => panic!("{other:?}"),
    }
    // A sparse 300 MB "JPEG": named, never read into memory.
    let big = std::fs::File::create(dir.path().join("HUGE.JPG")).unwrap();
    big.set_len(300 << 20).unwrap();
    drop(big);
    match next_file(&w, 4000) {
        Some(FolderEvent::Unreadable { name, why }) => {
            assert_eq!(name, "HUGE.JPG");
            assert!(why.contains("300 MB"), "{why}");
        }
        other => panic!("{other:?}"),
    }
    assert!(next_file(&w, 1000).is_none(), "each named once");
}
