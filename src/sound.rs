//! Audible feedback for every scan, so the operator hears the answer without
//! looking: a short high beep for a new number, two mid beeps for a
//! duplicate, a low buzz for a code that is not a capture code.
//!
//! A named thread owns the audio device (opened on the first cue); a station
//! with no sound device logs it once and stays silent — never an error.

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
    fn a_recorder_collects_and_silence_is_silent() {
        let log = Arc::new(Mutex::new(Vec::new()));
        let p = Player::start(Sound::Recorder(log.clone()));
        p.play(Cue::Success);
        p.play(Cue::Rejected);
        assert_eq!(*log.lock().unwrap(), vec![Cue::Success, Cue::Rejected]);
        Player::start(Sound::Silent).play(Cue::Success);
    }
}
