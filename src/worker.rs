//! One kind of background worker for the station's long-lived threads (the
//! QR decoder, the framing hints, the assistants' reader, the photo
//! worker): a named thread that sends what it makes down a channel, wakes
//! the UI after each send, and is stopped and joined when its handle is
//! dropped. The UI never waits on a worker; a worker never outlives the
//! screen that started it.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

/// Called after each result is sent (the UI repaints at once).
pub type Wake = Box<dyn Fn() + Send>;

/// A worker could not be started.
#[derive(Debug, thiserror::Error)]
#[error("无法启动 {name} 线程：{reason} / cannot start the {name} thread: {reason}")]
pub struct WorkerError {
    pub name: String,
    pub reason: String,
}

impl crate::text::Bilingual for WorkerError {
    fn text(&self) -> crate::text::Text {
        let (name, reason) = (&self.name, &self.reason);
        crate::text::Text::new(
            format!("无法启动 {name} 线程：{reason}"),
            format!("cannot start the {name} thread: {reason}"),
        )
    }
}

/// The worker's side: where it sends results and how it learns to stop.
pub struct Outbox<T> {
    tx: Sender<T>,
    stop: Arc<AtomicBool>,
    wake: Wake,
}

impl<T> std::fmt::Debug for Outbox<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Outbox").field("stopping", &self.stopping()).finish_non_exhaustive()
    }
}

impl<T> Outbox<T> {
    /// Sends one result and wakes the UI; false once nobody listens (the
    /// worker should return).
    pub fn send(&self, value: T) -> bool {
        let sent = self.tx.send(value).is_ok();
        if sent {
            (self.wake)();
        }
        sent
    }

    /// True once the handle was dropped: the worker should return.
    pub fn stopping(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }

    /// The next job from `jobs`, waiting at most `poll_ms` at a time so a
    /// stop is seen; None once stopping or when the sender is gone.
    pub fn next_job<J>(&self, jobs: &Receiver<J>, poll_ms: u64) -> Option<J> {
        while !self.stopping() {
            match jobs.recv_timeout(Duration::from_millis(poll_ms)) {
                Ok(job) => return Some(job),
                Err(RecvTimeoutError::Timeout) => continue,
                Err(RecvTimeoutError::Disconnected) => return None,
            }
        }
        None
    }
}

/// The running worker: its results, and the thread stopped on drop.
pub struct Worker<T> {
    name: String,
    rx: Receiver<T>,
    stop: Arc<AtomicBool>,
    handle: Option<JoinHandle<()>>,
    join_on_drop: bool,
}

impl<T> std::fmt::Debug for Worker<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Worker").field("name", &self.name).finish_non_exhaustive()
    }
}

impl<T: Send + 'static> Worker<T> {
    /// Starts `body` on a thread named `name`.
    pub fn spawn(name: &str, wake: Wake, body: impl FnOnce(Outbox<T>) + Send + 'static) -> Result<Self, WorkerError> {
        let (tx, rx) = std::sync::mpsc::channel();
        let stop = Arc::new(AtomicBool::new(false));
        let outbox = Outbox { tx, stop: stop.clone(), wake };
        let handle = std::thread::Builder::new()
            .name(name.to_string())
            .spawn(move || body(outbox))
            .map_err(|e| WorkerError { name: name.to_string(), reason: e.to_string() })?;
        Ok(Worker { name: name.to_string(), rx, stop, handle: Some(handle), join_on_drop: true })
    }

    /// Dropping the handle only asks the thread to stop: for a worker whose
    /// step may take long (a query over a whole day) and that holds nothing
    /// the next one needs, so a view switch never waits for it.
    pub fn detached_on_drop(mut self) -> Self {
        self.join_on_drop = false;
        self
    }
}

impl<T> Worker<T> {
    /// The next result, if any (never blocks).
    pub fn try_recv(&self) -> Option<T> {
        self.rx.try_recv().ok()
    }

    /// Every result that has come, in order.
    pub fn drain(&self) -> Vec<T> {
        self.rx.try_iter().collect()
    }

    /// The newest result since the last call (older ones are stale).
    pub fn latest(&self) -> Option<T> {
        self.rx.try_iter().last()
    }

    /// Waits up to `timeout` for the next result (tests, headless tools).
    pub fn recv_timeout(&self, timeout: Duration) -> Option<T> {
        self.rx.recv_timeout(timeout).ok()
    }

    /// True while the thread runs.
    pub fn is_running(&self) -> bool {
        self.handle.as_ref().is_some_and(|h| !h.is_finished())
    }

    pub fn name(&self) -> &str {
        &self.name
    }
}

impl<T> Drop for Worker<T> {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(h) = self.handle.take().filter(|_| self.join_on_drop) {
            let _ = h.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    #[test]
    fn results_arrive_in_order_each_wakes_and_drop_stops_the_thread() {
        let wakes = Arc::new(AtomicUsize::new(0));
        let w = wakes.clone();
        let (jobs_tx, jobs) = std::sync::mpsc::channel::<u32>();
        let worker = Worker::spawn("doubler", Box::new(move || _ = w.fetch_add(1, Ordering::SeqCst)), move |out| {
            while let Some(n) = out.next_job(&jobs, 20) {
                if !out.send(n * 2) {
                    return;
                }
            }
        })
        .unwrap();
        for n in 1..=3 {
            jobs_tx.send(n).unwrap();
        }
        let got: Vec<u32> = (0..3).filter_map(|_| worker.recv_timeout(Duration::from_secs(5))).collect();
        assert_eq!(got, [2, 4, 6]);
        // Each send wakes, right after the result is on its way.
        let started = std::time::Instant::now();
        while wakes.load(Ordering::SeqCst) < 3 && started.elapsed() < Duration::from_secs(5) {
            std::thread::sleep(Duration::from_millis(1));
        }
        assert_eq!(wakes.load(Ordering::SeqCst), 3);
        assert!(worker.is_running(), "waits for the next job");
        // The sender still lives: only the stop flag can end the thread, and drop joins it.
        drop(worker);
        drop(jobs_tx);
    }

    #[test]
    fn latest_skips_stale_results() {
        let worker = Worker::spawn("counter", Box::new(|| {}), |out| {
            for n in 0..5 {
                out.send(n);
            }
        })
        .unwrap();
        while worker.is_running() {
            std::thread::sleep(Duration::from_millis(5));
        }
        assert_eq!(worker.latest(), Some(4));
        assert_eq!(worker.latest(), None);
    }
}
