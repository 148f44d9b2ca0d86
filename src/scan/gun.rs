//! The handheld 2D scanner: it "types" the QR text as a burst of keystrokes
//! ending in Enter. A burst is recognised anywhere in the operator view, with
//! no text field focused, and never mistaken for the operator's shortcut keys
//! (a payload contains `R` and `S`; the scanner's Enter is not "accept").
//!
//! The UI does not know when a key arrived, only which frame delivered it:
//! on a slow laptop one frame takes 250 ms and brings fifty keys of a burst
//! at once, on a fast one a frame brings two or three. So time between keys
//! is never measured from frame times. What a frame does prove is silence: a
//! frame that brings no key, taken `gap` after the frame that brought the last
//! one, shows that no key came for at least that long. Keys are therefore
//! held in one group until such a frame (or the scanner's Enter) closes it:
//! - a group of at least `min_len` characters is a scan;
//! - a group of one or two keys is a person's key presses, released at once
//!   (the delay is one frame after `gap`, some 50 ms on a fast machine) —
//!   unless it follows a scan within [`GunConfig::enter_after_scan_ms`]: then
//!   it is that burst's tail after a stall, and dropped;
//! - anything in between is too fast for a person and too short for a code:
//!   it is dropped as a fragment and never fires a shortcut.
//!
//! An Enter that comes within [`GunConfig::enter_after_scan_ms`] of a scan
//! is the scanner's own (sent after a pause) and is swallowed. Pure logic over
//! frame times, so it is tested without a keyboard or a window.

/// A key as the UI reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GunKey {
    Char(char),
    Enter,
    /// A key that types nothing (PageDown, F5, Escape, …): never part of a
    /// burst, passed on at once.
    Other(String),
}

/// What the buffer recognised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GunOutput {
    /// A scanner burst: the scanned text (prefix and suffix removed).
    Scan(String),
    /// A key the operator pressed by hand.
    Key(GunKey),
    /// Keys too fast for a person and too few for a code (a scanner that
    /// stopped half-way): dropped, with their number.
    Fragment(usize),
}

/// Settings of the recogniser.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GunConfig {
    /// Silence that ends a burst. Scanners send a key every 2–10 ms (worst
    /// gap measured through X11: 27 ms).
    pub max_gap_ms: u64,
    /// Shortest burst taken as a scan (a capture code is hundreds of characters).
    pub min_len: usize,
    /// An Enter this soon after a scan is the scanner's, not the operator's.
    pub enter_after_scan_ms: u64,
    /// Characters some scanners send before / after the code (configured on
    /// the scanner); removed from the scan when present. Empty: none.
    pub prefix: String,
    pub suffix: String,
}

impl Default for GunConfig {
    fn default() -> Self {
        GunConfig {
            max_gap_ms: 50,
            min_len: 12,
            enter_after_scan_ms: 600,
            prefix: String::new(),
            suffix: String::new(),
        }
    }
}

/// The most keys taken as a person's in one group (keys that came with no
/// quiet frame between them). A person pressing three keys within three
/// 250 ms frames is read as a broken burst: never firing a burst's key as a
/// shortcut comes first.
const HUMAN_MAX_KEYS: usize = 2;

/// What a closed group of keys was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Group {
    Scan,
    Keys,
    Fragment,
}

/// Collects keys into bursts, frame by frame.
#[derive(Debug, Clone)]
pub struct GunBuffer {
    config: GunConfig,
    pending: Vec<char>,
    /// Time of the frame that brought the latest pending key.
    last_keys_at_ms: Option<f64>,
    last_scan_at_ms: Option<f64>,
}

impl GunBuffer {
    pub fn new(config: GunConfig) -> Self {
        GunBuffer { config, pending: Vec::new(), last_keys_at_ms: None, last_scan_at_ms: None }
    }

    pub fn config(&self) -> &GunConfig {
        &self.config
    }

    /// One UI frame: the keys it brought, in order, and the time (ms on any
    /// steady clock) at which its input was taken. Returns what is recognised.
    pub fn frame(&mut self, keys: impl IntoIterator<Item = GunKey>, now_ms: f64) -> Vec<GunOutput> {
        let mut out = Vec::new();
        let mut any = false;
        for key in keys {
            any = true;
            match key {
                GunKey::Char(c) => self.pending.push(c),
                GunKey::Other(name) => out.push(GunOutput::Key(GunKey::Other(name))),
                GunKey::Enter => {
                    if self.pending.is_empty() {
                        let scanners =
                            self.last_scan_at_ms.is_some_and(|t| now_ms - t <= self.config.enter_after_scan_ms as f64);
                        if scanners {
                            self.last_scan_at_ms = None; // one Enter per scan
                        } else {
                            out.push(GunOutput::Key(GunKey::Enter));
                        }
                    } else {
                        match self.close_group(now_ms, &mut out) {
                            Group::Keys => out.push(GunOutput::Key(GunKey::Enter)),
                            // This Enter ended the scan (or the broken burst): it is the scanner's.
                            Group::Scan | Group::Fragment => self.last_scan_at_ms = None,
                        }
                    }
                }
            }
        }
        if any {
            self.last_keys_at_ms = Some(now_ms);
        } else if let Some(last) = self.last_keys_at_ms {
            if !self.pending.is_empty() && now_ms - last > self.config.max_gap_ms as f64 {
                self.close_group(now_ms, &mut out);
            }
        }
        out
    }

    /// Ends the pending group and says what it was.
    fn close_group(&mut self, now_ms: f64, out: &mut Vec<GunOutput>) -> Group {
        let n = self.pending.len();
        if n >= self.config.min_len {
            let text: String = self.pending.drain(..).collect();
            out.push(GunOutput::Scan(self.strip(text)));
            self.last_scan_at_ms = Some(now_ms);
            Group::Scan
        } else if n <= HUMAN_MAX_KEYS && !self.scanned_recently(now_ms) {
            out.extend(self.pending.drain(..).map(|c| GunOutput::Key(GunKey::Char(c))));
            Group::Keys
        } else {
            self.pending.clear();
            out.push(GunOutput::Fragment(n));
            self.last_scan_at_ms = Some(now_ms);
            Group::Fragment
        }
    }

    /// Within [`GunConfig::enter_after_scan_ms`] of a scan: a key or two now
    /// is the tail of that burst (the scanner stalled before its last
    /// characters), never a person's.
    fn scanned_recently(&self, now_ms: f64) -> bool {
        self.last_scan_at_ms.is_some_and(|t| now_ms - t <= self.config.enter_after_scan_ms as f64)
    }

    fn strip(&self, text: String) -> String {
        let mut s = text.as_str();
        if !self.config.prefix.is_empty() {
            s = s.strip_prefix(self.config.prefix.as_str()).unwrap_or(s);
        }
        if !self.config.suffix.is_empty() {
            s = s.strip_suffix(self.config.suffix.as_str()).unwrap_or(s);
        }
        s.to_string()
    }

    /// True while keys are held back (the UI should repaint after the gap to
    /// release them).
    pub fn is_holding(&self) -> bool {
        !self.pending.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::camera::synth::SeededRng as Rng;

    /// A timed key stream fed to the buffer frame by frame: each frame brings
    /// the keys that arrived since the previous one.
    fn run_frames(
        keys: &[(f64, GunKey)],
        frame_ms: f64,
        jitter_ms: u64,
        rng: &mut Rng,
        config: GunConfig,
    ) -> Vec<GunOutput> {
        let mut gun = GunBuffer::new(config);
        let mut out = Vec::new();
        let mut t = 0.0;
        let mut i = 0;
        let end = keys.last().map_or(0.0, |k| k.0) + 1000.0;
        while t <= end {
            let mut batch = Vec::new();
            while i < keys.len() && keys[i].0 <= t {
                batch.push(keys[i].1.clone());
                i += 1;
            }
            out.extend(gun.frame(batch, t));
            // A frame lasts its own time; an idle UI wakes after the gap (repaint request).
            let idle = !gun.is_holding() && i < keys.len();
            t += if idle { frame_ms.max(keys[i].0 - t) } else { frame_ms + rng.between(0, jitter_ms) as f64 };
        }
        out
    }

    fn payload(rng: &mut Rng) -> String {
        // Base64 letters, with many S, R and digits: the keys that are shortcuts.
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/SRSR";
        let len = rng.between(200, 420) as usize;
        (0..len).map(|_| ALPHABET[rng.between(0, ALPHABET.len() as u64 - 1) as usize] as char).collect()
    }

    /// A burst as a scanner types it: gaps of 2–10 ms, now and then up to 27 ms.
    fn burst(text: &str, start: f64, rng: &mut Rng, enter: bool) -> (Vec<(f64, GunKey)>, f64) {
        let mut t = start;
        let mut keys = Vec::new();
        for c in text.chars() {
            keys.push((t, GunKey::Char(c)));
            t += if rng.between(0, 20) == 0 { rng.between(11, 27) } else { rng.between(2, 10) } as f64;
        }
        if enter {
            keys.push((t, GunKey::Enter));
        }
        (keys, t)
    }

    #[test]
    fn randomized_bursts_over_slow_and_fast_frames_are_read_whole_and_fire_no_key() {
        let mut rng = Rng::new(0x9E37_79B9_7F4A_7C15);
        let mut bursts = 0;
        for frame_ms in [16.0f64, 50.0, 100.0, 250.0] {
            for _round in 0..10 {
                let mut keys = Vec::new();
                let mut texts = Vec::new();
                let mut t = 0.0;
                for _ in 0..30 {
                    let text = payload(&mut rng);
                    let enter = rng.between(0, 4) != 0;
                    let (k, end) = burst(&text, t, &mut rng, enter);
                    keys.extend(k);
                    texts.push(text);
                    // The next student steps up 0.7 s to several seconds later. (A
                    // scanner that sends no Enter needs two frames of silence
                    // between codes: on 250 ms frames, codes 0.4 s apart merge.)
                    t = end + rng.between(700, 3000) as f64;
                }
                bursts += texts.len();
                let out = run_frames(&keys, frame_ms, (frame_ms / 4.0) as u64, &mut rng, GunConfig::default());
                let expected: Vec<GunOutput> = texts.into_iter().map(GunOutput::Scan).collect();
                assert_eq!(out, expected, "frames of {frame_ms} ms");
            }
        }
        assert_eq!(bursts, 1200);
    }

    #[test]
    fn a_persons_keys_fire_after_one_quiet_frame_at_any_frame_time() {
        for frame_ms in [16.0f64, 50.0, 100.0, 250.0] {
            let mut gun = GunBuffer::new(GunConfig::default());
            assert!(gun.frame([GunKey::Char('s')], 0.0).is_empty(), "held while a burst could follow");
            assert!(gun.is_holding());
            let mut t = 0.0;
            let mut out = Vec::new();
            while out.is_empty() {
                t += frame_ms.min(55.0); // the UI asks to be woken after the gap
                out = gun.frame([], t);
            }
            assert_eq!(out, vec![GunOutput::Key(GunKey::Char('s'))]);
            assert!(t <= 50.0 + frame_ms.min(55.0), "released {t} ms after the frame that brought it");
            // Enter and a key that types nothing are never held.
            assert_eq!(gun.frame([GunKey::Enter], t + 500.0), vec![GunOutput::Key(GunKey::Enter)]);
            assert_eq!(
                gun.frame([GunKey::Other("PageDown".into())], t + 900.0),
                vec![GunOutput::Key(GunKey::Other("PageDown".into()))]
            );
        }
    }

    #[test]
    fn two_keys_in_one_slow_frame_are_a_persons_and_keep_their_order() {
        let mut gun = GunBuffer::new(GunConfig::default());
        assert_eq!(
            gun.frame([GunKey::Char('r'), GunKey::Enter], 0.0),
            vec![GunOutput::Key(GunKey::Char('r')), GunOutput::Key(GunKey::Enter)]
        );
        assert!(gun.frame([GunKey::Char('s'), GunKey::Char('1')], 300.0).is_empty());
        assert_eq!(gun.frame([], 600.0), vec![GunOutput::Key(GunKey::Char('s')), GunOutput::Key(GunKey::Char('1'))]);
    }

    #[test]
    fn an_enter_the_scanner_sends_after_a_pause_is_swallowed() {
        let mut gun = GunBuffer::new(GunConfig::default());
        let code: Vec<GunKey> = "eyJSUyI6IlMgUiJ9RSRS".chars().map(GunKey::Char).collect();
        assert!(gun.frame(code, 0.0).is_empty());
        assert_eq!(gun.frame([], 80.0), vec![GunOutput::Scan("eyJSUyI6IlMgUiJ9RSRS".into())]);
        assert!(gun.frame([GunKey::Enter], 200.0).is_empty(), "the scanner's late Enter is not accept");
        assert_eq!(gun.frame([GunKey::Enter], 2000.0), vec![GunOutput::Key(GunKey::Enter)], "the operator's is");
    }

    #[test]
    fn the_tail_of_a_stalled_burst_is_not_a_persons_keys() {
        let mut gun = GunBuffer::new(GunConfig::default());
        let head: Vec<GunKey> = "eyJSUyI6IlMgUiJ9RSRSABC".chars().map(GunKey::Char).collect();
        assert!(gun.frame(head, 0.0).is_empty());
        assert!(matches!(gun.frame([], 80.0)[..], [GunOutput::Scan(_)]));
        // The last two characters and the Enter after a stall: no key fires.
        let out = gun.frame([GunKey::Char('='), GunKey::Char('R'), GunKey::Enter], 150.0);
        assert_eq!(out, vec![GunOutput::Fragment(2)]);
        // A tail with no Enter, after a scanner that sends none.
        let mut gun = GunBuffer::new(GunConfig::default());
        let head: Vec<GunKey> = "eyJSUyI6IlMgUiJ9RSRSABC".chars().map(GunKey::Char).collect();
        assert!(gun.frame(head, 0.0).is_empty());
        assert!(matches!(gun.frame([], 80.0)[..], [GunOutput::Scan(_)]));
        assert!(gun.frame([GunKey::Char('S')], 150.0).is_empty());
        assert_eq!(gun.frame([], 250.0), vec![GunOutput::Fragment(1)]);
        // Later a person's S is a key again.
        assert!(gun.frame([GunKey::Char('s')], 2000.0).is_empty());
        assert_eq!(gun.frame([], 2100.0), vec![GunOutput::Key(GunKey::Char('s'))]);
    }

    #[test]
    fn a_broken_burst_is_a_fragment_not_shortcuts() {
        let mut gun = GunBuffer::new(GunConfig::default());
        let keys: Vec<GunKey> = "SRSRS".chars().map(GunKey::Char).chain([GunKey::Enter]).collect();
        assert_eq!(gun.frame(keys, 0.0), vec![GunOutput::Fragment(5)]);
        assert!(gun.frame([], 500.0).is_empty());
        let keys: Vec<GunKey> = "RRSSR".chars().map(GunKey::Char).collect();
        assert!(gun.frame(keys, 1000.0).is_empty());
        assert_eq!(gun.frame([], 1100.0), vec![GunOutput::Fragment(5)]);
    }

    #[test]
    fn prefix_and_suffix_are_removed() {
        let config = GunConfig { prefix: "#".into(), suffix: "~".into(), ..GunConfig::default() };
        let mut gun = GunBuffer::new(config);
        let keys: Vec<GunKey> = "#ABCDEFGHIJKLMNOP~".chars().map(GunKey::Char).chain([GunKey::Enter]).collect();
        assert_eq!(gun.frame(keys, 0.0), vec![GunOutput::Scan("ABCDEFGHIJKLMNOP".into())]);
    }

    #[test]
    fn two_scans_back_to_back_in_one_frame() {
        let mut gun = GunBuffer::new(GunConfig::default());
        let keys: Vec<GunKey> = "FIRSTCODE123456"
            .chars()
            .map(GunKey::Char)
            .chain([GunKey::Enter])
            .chain("SECONDCODE65432".chars().map(GunKey::Char))
            .chain([GunKey::Enter])
            .collect();
        assert_eq!(
            gun.frame(keys, 0.0),
            vec![GunOutput::Scan("FIRSTCODE123456".into()), GunOutput::Scan("SECONDCODE65432".into())]
        );
    }
}
