//! The assistants' figures — the per-class report and this station's
//! schedule — read on a named worker thread with its own read-only
//! connection, every couple of seconds, so that neither the station's UI
//! thread nor the assistants' window ever waits on a query over a whole
//! day's records.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use super::ScheduleRow;
use crate::store::{Report, Store, StoreError};
pub use crate::worker::WorkerError;
use crate::worker::{Wake, Worker};

/// How often the figures are read again.
pub const DEFAULT_INTERVAL_MS: u64 = 2000;

/// One reading of the figures.
#[derive(Debug, Clone)]
pub struct AssistData {
    pub report: Report,
    pub schedule: Vec<ScheduleRow>,
}

/// The running worker; it stops when dropped (within 50 ms, or after the
/// reading under way, without the UI waiting for it).
#[derive(Debug)]
pub struct ReportWorker {
    worker: Worker<Result<AssistData, StoreError>>,
}

/// Reads the figures once.
pub fn read(store: &Store, station: &str, date: &str) -> Result<AssistData, StoreError> {
    let report = store.report(None)?;
    let schedule = store.schedule_for(station, date)?;
    Ok(AssistData { report, schedule })
}

impl ReportWorker {
    /// Reads the figures of the database at `db` for `station` on `date`
    /// every `interval_ms`; `wake` is called after each reading.
    pub fn start(
        db: PathBuf,
        station: String,
        date: String,
        interval_ms: u64,
        wake: Wake,
    ) -> Result<Self, WorkerError> {
        let worker = Worker::spawn("assist-report", wake, move |out| {
            let mut store: Option<Store> = None;
            while !out.stopping() {
                let started = Instant::now();
                if store.is_none() {
                    match Store::open_read_only(&db) {
                        Ok(s) => store = Some(s),
                        Err(e) => {
                            if !out.send(Err(e)) {
                                return;
                            }
                        }
                    }
                }
                if let Some(s) = &store {
                    if !out.send(read(s, &station, &date)) {
                        return;
                    }
                }
                while !out.stopping() && started.elapsed() < Duration::from_millis(interval_ms) {
                    std::thread::sleep(Duration::from_millis(50));
                }
            }
        })?;
        Ok(ReportWorker { worker: worker.detached_on_drop() })
    }

    /// The newest reading since the last call, if any.
    pub fn latest(&self) -> Option<Result<AssistData, StoreError>> {
        self.worker.latest()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::Ordering;
    use std::sync::Arc;

    #[test]
    fn the_worker_reads_the_figures_again_on_its_own_thread() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("station.sqlite");
        let mut store = Store::open(&db).unwrap();
        let woken = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counter = woken.clone();
        let wake = Box::new(move || {
            counter.fetch_add(1, Ordering::Relaxed);
        });
        let worker = ReportWorker::start(db.clone(), "1".into(), "2026-06-01".into(), 100, wake).unwrap();
        let wait = |worker: &ReportWorker| {
            let started = Instant::now();
            loop {
                if let Some(r) = worker.latest() {
                    return r;
                }
                assert!(started.elapsed() < Duration::from_secs(20), "no reading");
                std::thread::sleep(Duration::from_millis(20));
            }
        };
        let first = wait(&worker).unwrap();
        assert!(first.report.classes.is_empty());
        if cfg!(target_os = "linux") {
            let names: Vec<String> = std::fs::read_dir("/proc/self/task")
                .into_iter()
                .flatten()
                .flatten()
                .filter_map(|t| std::fs::read_to_string(t.path().join("comm")).ok())
                .map(|n| n.trim().to_string())
                .collect();
            assert!(names.iter().any(|n| n == "assist-report"), "{names:?}");
        }
        // A roster imported meanwhile shows up in a later reading.
        let row = crate::roster::RosterEntry::example("2021001", "张*", "法学 2101");
        store.import_roster(&[row], "roster.csv", "2026-06-01T09:00:00+08:00").unwrap();
        let started = Instant::now();
        loop {
            if let Some(Ok(data)) = worker.latest() {
                if data.report.classes.len() == 1 {
                    break;
                }
            }
            assert!(started.elapsed() < Duration::from_secs(20), "the roster never showed");
            std::thread::sleep(Duration::from_millis(20));
        }
        assert!(woken.load(Ordering::Relaxed) >= 2);
    }
}
