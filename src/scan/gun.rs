//! The handheld 2D scanner: it "types" the QR text as a burst of keystrokes
//! ending in Enter. A burst is recognised by its speed anywhere in the
//! operator view, with no text field focused, and never mistaken for the
//! operator's shortcut keys (the payload contains `R` and `S`; the scanner's
//! Enter is not "accept").
//!
//! Every key is held back for `max_gap_ms`: if the next one follows faster it
//! is part of a burst, otherwise it is released as a human key press. Pure
//! logic over timestamps, so it is tested without a keyboard.

use std::time::{Duration, Instant};

/// A key as the UI reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GunKey {
    Char(char),
    Enter,
    /// A key that types nothing (PageDown, F5, …): never part of a burst.
    Other(String),
}

/// What the buffer recognised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GunOutput {
    /// A scanner burst: the scanned text.
    Scan(String),
    /// A key the operator pressed by hand.
    Key(GunKey),
}

/// Settings of the recogniser.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GunConfig {
    /// Longest pause between two keys of one burst.
    pub max_gap_ms: u64,
    /// Shortest burst taken as a scan (a capture code is hundreds of characters).
    pub min_len: usize,
}

impl Default for GunConfig {
    fn default() -> Self {
        GunConfig { max_gap_ms: 35, min_len: 12 }
    }
}

/// Collects keys into bursts.
#[derive(Debug, Clone)]
pub struct GunBuffer {
    config: GunConfig,
    pending: Vec<char>,
    last_at: Option<Instant>,
    out: Vec<GunOutput>,
}

impl GunBuffer {
    pub fn new(config: GunConfig) -> Self {
        GunBuffer { config, pending: Vec::new(), last_at: None, out: Vec::new() }
    }

    fn gap(&self) -> Duration {
        Duration::from_millis(self.config.max_gap_ms)
    }

    /// Releases what is pending: a long enough burst is a scan (scanners set
    /// to send no Enter), anything shorter is human keys.
    fn flush(&mut self) {
        if self.pending.len() >= self.config.min_len {
            self.out.push(GunOutput::Scan(self.pending.drain(..).collect()));
        } else {
            let keys: Vec<GunOutput> = self.pending.drain(..).map(|c| GunOutput::Key(GunKey::Char(c))).collect();
            self.out.extend(keys);
        }
        self.last_at = None;
    }

    /// Feeds one key pressed at `at`.
    pub fn push(&mut self, key: GunKey, at: Instant) {
        if let Some(last) = self.last_at {
            if at.saturating_duration_since(last) > self.gap() {
                self.flush();
            }
        }
        match key {
            GunKey::Char(c) => {
                self.pending.push(c);
                self.last_at = Some(at);
            }
            GunKey::Other(name) => {
                self.flush();
                self.out.push(GunOutput::Key(GunKey::Other(name)));
            }
            GunKey::Enter => {
                if self.pending.len() >= self.config.min_len {
                    self.flush(); // a scan; the scanner's Enter is consumed
                } else {
                    self.flush();
                    self.out.push(GunOutput::Key(GunKey::Enter));
                }
            }
        }
    }

    /// Everything recognised by `now`: keys whose wait is over are released.
    pub fn poll(&mut self, now: Instant) -> Vec<GunOutput> {
        if let Some(last) = self.last_at {
            if now.saturating_duration_since(last) > self.gap() {
                self.flush();
            }
        }
        std::mem::take(&mut self.out)
    }

    /// True while keys are held back (the UI should repaint soon to release them).
    pub fn is_holding(&self) -> bool {
        !self.pending.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(base: Instant, t: u64) -> Instant {
        base + Duration::from_millis(t)
    }

    #[test]
    fn a_fast_burst_with_enter_is_one_scan_and_its_letters_are_not_shortcuts() {
        let t0 = Instant::now();
        let mut gun = GunBuffer::new(GunConfig::default());
        let payload = "eyJSUyI6IlMgUiJ9RSRS";
        for (i, c) in payload.chars().enumerate() {
            gun.push(GunKey::Char(c), ms(t0, i as u64 * 4));
        }
        gun.push(GunKey::Enter, ms(t0, payload.len() as u64 * 4));
        assert_eq!(gun.poll(ms(t0, 500)), vec![GunOutput::Scan(payload.into())]);
    }

    #[test]
    fn human_keys_are_released_after_the_gap() {
        let t0 = Instant::now();
        let mut gun = GunBuffer::new(GunConfig::default());
        gun.push(GunKey::Char(' '), t0);
        assert!(gun.poll(ms(t0, 10)).is_empty(), "held back while a burst could follow");
        assert!(gun.is_holding());
        assert_eq!(gun.poll(ms(t0, 40)), vec![GunOutput::Key(GunKey::Char(' '))]);
        gun.push(GunKey::Char('r'), ms(t0, 200));
        gun.push(GunKey::Char('s'), ms(t0, 400));
        gun.push(GunKey::Enter, ms(t0, 600));
        assert_eq!(
            gun.poll(ms(t0, 700)),
            vec![GunOutput::Key(GunKey::Char('r')), GunOutput::Key(GunKey::Char('s')), GunOutput::Key(GunKey::Enter)]
        );
    }

    #[test]
    fn a_burst_without_enter_is_a_scan_once_it_stops() {
        let t0 = Instant::now();
        let mut gun = GunBuffer::new(GunConfig::default());
        for (i, c) in "ABCDEFGHIJKLMNOPQRST".chars().enumerate() {
            gun.push(GunKey::Char(c), ms(t0, i as u64 * 3));
        }
        assert!(gun.poll(ms(t0, 70)).is_empty());
        assert_eq!(gun.poll(ms(t0, 200)), vec![GunOutput::Scan("ABCDEFGHIJKLMNOPQRST".into())]);
    }

    #[test]
    fn a_key_pressed_just_before_a_burst_stays_a_key() {
        let t0 = Instant::now();
        let mut gun = GunBuffer::new(GunConfig::default());
        gun.push(GunKey::Char(' '), t0);
        for (i, c) in "0123456789ABCDEF".chars().enumerate() {
            gun.push(GunKey::Char(c), ms(t0, 100 + i as u64 * 5));
        }
        gun.push(GunKey::Enter, ms(t0, 190));
        assert_eq!(
            gun.poll(ms(t0, 300)),
            vec![GunOutput::Key(GunKey::Char(' ')), GunOutput::Scan("0123456789ABCDEF".into())]
        );
    }

    #[test]
    fn two_scans_back_to_back() {
        let t0 = Instant::now();
        let mut gun = GunBuffer::new(GunConfig::default());
        let mut t = 0;
        for text in ["FIRSTCODE123456", "SECONDCODE65432"] {
            for c in text.chars() {
                gun.push(GunKey::Char(c), ms(t0, t));
                t += 2;
            }
            gun.push(GunKey::Enter, ms(t0, t));
            t += 2;
        }
        assert_eq!(
            gun.poll(ms(t0, 1000)),
            vec![GunOutput::Scan("FIRSTCODE123456".into()), GunOutput::Scan("SECONDCODE65432".into())]
        );
    }
}
