//! Audible feedback for every scan, so the operator hears the answer without
//! looking: a short high beep for a new number, two mid beeps for a
//! duplicate, a low buzz for a code that is not a capture code.
//!
//! A named thread plays the cues; a station with no sound logs it once and
//! stays visual — never an error. On Linux the cues are WAV files played by
//! the desktop's own player (`pw-play`, `paplay` or `aplay`), so building
//! needs no ALSA development package; elsewhere rodio opens the default
//! output.

use std::sync::mpsc::Sender;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What a scan answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cue {
    /// A new number (or the same number again for a waiting student).
    Success,
    /// Already photographed, or already waiting.
    Duplicate,
    /// Not a capture code, or the step failed.
    Rejected,
}

impl Cue {
    /// The tones: (frequency Hz, duration ms, pause after ms).
    pub fn tones(self) -> &'static [(f32, u64, u64)] {
        match self {
            Cue::Success => &[(1320.0, 110, 0)],
            Cue::Duplicate => &[(660.0, 120, 80), (660.0, 120, 0)],
            Cue::Rejected => &[(220.0, 420, 0)],
        }
    }

    /// Total length of the cue.
    pub fn duration(self) -> Duration {
        Duration::from_millis(self.tones().iter().map(|(_, on, off)| on + off).sum())
    }
}

/// Where cues go.
#[derive(Debug, Clone, Default)]
pub enum Sound {
    /// The default audio output.
    #[default]
    Speaker,
    Silent,
    /// Cues are collected (tests).
    Recorder(Arc<Mutex<Vec<Cue>>>),
}

/// Plays cues without blocking the caller.
#[derive(Debug)]
pub struct Player {
    sound: Sound,
    tx: Option<Sender<Cue>>,
}

impl Player {
    pub fn start(sound: Sound) -> Self {
        let tx = match sound {
            Sound::Speaker => spawn_speaker(),
            _ => None,
        };
        Player { sound, tx }
    }

    pub fn play(&self, cue: Cue) {
        match &self.sound {
            Sound::Speaker => {
                if let Some(tx) = &self.tx {
                    let _ = tx.send(cue);
                }
            }
            Sound::Silent => {}
            Sound::Recorder(log) => log.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push(cue),
        }
    }
}

/// The cue as a WAV file: 16-bit mono PCM at 48 kHz, the tones at a quarter
/// of full scale with 5 ms fades (no clicks), the pauses silent.
pub fn cue_wav(cue: Cue) -> Vec<u8> {
    const RATE: u32 = 48_000;
    let mut samples: Vec<i16> = Vec::new();
    for &(hz, on_ms, off_ms) in cue.tones() {
        let on = (RATE as u64 * on_ms / 1000) as usize;
        let fade = (RATE as usize / 200).min(on / 2).max(1);
        for i in 0..on {
            let t = i as f32 / RATE as f32;
            let envelope = (i.min(on - 1 - i) as f32 / fade as f32).min(1.0);
            let v = (2.0 * std::f32::consts::PI * hz * t).sin() * 0.25 * envelope;
            samples.push((v * f32::from(i16::MAX)) as i16);
        }
        samples.extend(std::iter::repeat_n(0, (RATE as u64 * off_ms / 1000) as usize));
    }
    let data_len = (samples.len() * 2) as u32;
    let mut wav = Vec::with_capacity(44 + data_len as usize);
    wav.extend_from_slice(b"RIFF");
    wav.extend_from_slice(&(36 + data_len).to_le_bytes());
    wav.extend_from_slice(b"WAVEfmt ");
    wav.extend_from_slice(&16u32.to_le_bytes()); // fmt chunk size
    wav.extend_from_slice(&1u16.to_le_bytes()); // PCM
    wav.extend_from_slice(&1u16.to_le_bytes()); // mono
    wav.extend_from_slice(&RATE.to_le_bytes());
    wav.extend_from_slice(&(RATE * 2).to_le_bytes()); // bytes per second
    wav.extend_from_slice(&2u16.to_le_bytes()); // block align
    wav.extend_from_slice(&16u16.to_le_bytes()); // bits per sample
    wav.extend_from_slice(b"data");
    wav.extend_from_slice(&data_len.to_le_bytes());
    for s in samples {
        wav.extend_from_slice(&s.to_le_bytes());
    }
    wav
}

/// The first of the desktop's players found on `PATH`, with its arguments.
#[cfg(target_os = "linux")]
fn find_player() -> Option<(std::path::PathBuf, &'static [&'static str])> {
    const PLAYERS: [(&str, &[&str]); 3] = [("pw-play", &[]), ("paplay", &[]), ("aplay", &["-q"])];
    let path = std::env::var_os("PATH")?;
    PLAYERS.iter().find_map(|(name, args)| {
        std::env::split_paths(&path).map(|dir| dir.join(name)).find(|p| p.is_file()).map(|p| (p, *args))
    })
}

#[cfg(target_os = "linux")]
fn spawn_speaker() -> Option<Sender<Cue>> {
    let (tx, rx) = std::sync::mpsc::channel::<Cue>();
    std::thread::Builder::new()
        .name("sound".into())
        .spawn(move || {
            let Some((player, args)) = find_player() else {
                tracing::warn!("no sound player (pw-play, paplay, aplay) found: scan feedback is visual only");
                for _ in rx {}
                return;
            };
            let dir = std::env::temp_dir().join(format!("gradcap-cues-{}", std::process::id()));
            let mut files = std::collections::HashMap::new();
            let mut failed = false;
            for cue in rx {
                let file = match files.get(&(cue as u8)) {
                    Some(f) => std::path::PathBuf::clone(f),
                    None => {
                        let f = dir.join(format!("{cue:?}.wav"));
                        if std::fs::create_dir_all(&dir).and_then(|()| std::fs::write(&f, cue_wav(cue))).is_err() {
                            continue;
                        }
                        files.insert(cue as u8, f.clone());
                        f
                    }
                };
                let played = std::process::Command::new(&player)
                    .args(args)
                    .arg(&file)
                    .stdin(std::process::Stdio::null())
                    .stdout(std::process::Stdio::null())
                    .stderr(std::process::Stdio::null())
                    .status();
                if !played.is_ok_and(|s| s.success()) && !failed {
                    failed = true;
                    tracing::warn!("{} could not play the scan cue: scan feedback is visual only", player.display());
                }
            }
            let _ = std::fs::remove_dir_all(&dir);
        })
        .ok()
        .map(|_| tx)
}

#[cfg(not(target_os = "linux"))]
fn spawn_speaker() -> Option<Sender<Cue>> {
    let (tx, rx) = std::sync::mpsc::channel::<Cue>();
    std::thread::Builder::new()
        .name("sound".into())
        .spawn(move || {
            use rodio::source::{Function, SignalGenerator, Source};
            let mut sink = None;
            let mut unavailable = false;
            for cue in rx {
                if sink.is_none() && !unavailable {
                    match rodio::DeviceSinkBuilder::open_default_sink() {
                        Ok(s) => sink = Some(s),
                        Err(e) => {
                            unavailable = true;
                            tracing::warn!("no sound output ({e}): scan feedback is visual only");
                        }
                    }
                }
                let Some(sink) = &sink else { continue };
                let Some(rate) = std::num::NonZero::new(48_000) else { continue };
                for &(hz, on_ms, off_ms) in cue.tones() {
                    sink.mixer().add(
                        SignalGenerator::new(rate, hz, Function::Sine)
                            .amplify(0.25)
                            .take_duration(Duration::from_millis(on_ms)),
                    );
                    std::thread::sleep(Duration::from_millis(on_ms + off_ms));
                }
            }
        })
        .ok()
        .map(|_| tx)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cues_are_distinct_and_short() {
        let all = [Cue::Success, Cue::Duplicate, Cue::Rejected];
        for a in all {
            assert!(a.duration() <= Duration::from_millis(500), "{a:?} must not hold up the next scan");
            for b in all {
                if a != b {
                    assert_ne!(a.tones(), b.tones());
                }
            }
        }
    }

    #[test]
    fn each_cue_is_a_valid_wav_of_its_own_length() {
        for cue in [Cue::Success, Cue::Duplicate, Cue::Rejected] {
            let wav = cue_wav(cue);
            assert_eq!(&wav[..4], b"RIFF");
            assert_eq!(&wav[8..16], b"WAVEfmt ");
            let data_len = u32::from_le_bytes([wav[40], wav[41], wav[42], wav[43]]) as usize;
            assert_eq!(wav.len(), 44 + data_len);
            let ms = data_len as u64 / 2 * 1000 / 48_000;
            assert!(ms.abs_diff(cue.duration().as_millis() as u64) <= 1, "{cue:?}: {ms} ms");
            let peak = wav[44..].chunks(2).map(|b| i16::from_le_bytes([b[0], b[1]]).unsigned_abs()).max().unwrap();
            assert!(peak > 7000 && peak < 9000, "a quarter of full scale: {peak}");
        }
    }

    #[test]
    fn a_recorder_collects_and_silence_is_silent() {
        let log = Arc::new(Mutex::new(Vec::new()));
        let p = Player::start(Sound::Recorder(log.clone()));
        p.play(Cue::Success);
        p.play(Cue::Rejected);
        assert_eq!(*log.lock().unwrap(), vec![Cue::Success, Cue::Rejected]);
        Player::start(Sound::Silent).play(Cue::Success);
    }
}
