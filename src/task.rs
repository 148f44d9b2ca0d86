//! The task registry: long work the operator starts (export, backup, purge,
//! a bundle check, a correction export, listing cameras, the image-store
//! check) runs as a named task on its own thread, with its latest progress
//! and its result kept in one place. The GUI asks the registry what runs and
//! polls it once a frame; one kind runs at a time, and a task whose thread
//! dies without an answer answers with an error, so nothing waits for ever.
//! No UI here: the registry wakes its owner through a callback.

use std::sync::mpsc::{Receiver, TryRecvError};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// What kind of task: its name (thread name, messages) and identity.
pub trait TaskKind: Copy + Eq + std::fmt::Debug + Send + 'static {
    fn name(&self) -> &'static str;
}

/// Why a task gave no result.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TaskError {
    #[error("{name} 正在进行中，请等它完成 / {name} is already running: wait for it to finish")]
    AlreadyRunning { name: &'static str },
    #[error("无法启动 {name} 线程：{reason} / cannot start the {name} thread: {reason}")]
    Spawn { name: &'static str, reason: String },
    #[error("{name} 线程意外中止，未完成 / the {name} thread stopped unexpectedly: not done")]
    Stopped { name: &'static str },
}

impl crate::text::Bilingual for TaskError {
    fn text(&self) -> crate::text::Text {
        use crate::text::Text;
        match self {
            Self::AlreadyRunning { name } => Text::new(
                format!("{name} 正在进行中，请等它完成"),
                format!("{name} is already running: wait for it to finish"),
            ),
            Self::Spawn { name, reason } => Text::new(
                format!("无法启动 {name} 线程：{reason}"),
                format!("cannot start the {name} thread: {reason}"),
            ),
            Self::Stopped { name } => Text::new(
                format!("{name} 线程意外中止，未完成"),
                format!("the {name} thread stopped unexpectedly: not done"),
            ),
        }
    }
}

/// Wakes the owner (the UI repaints).
pub type Wake = Arc<dyn Fn() + Send + Sync>;

/// Where a running task reports how far it is.
pub struct ProgressSink<P> {
    latest: Arc<Mutex<Option<P>>>,
    wake: Wake,
}

impl<P> std::fmt::Debug for ProgressSink<P> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProgressSink").finish_non_exhaustive()
    }
}

impl<P> ProgressSink<P> {
    /// Replaces the task's progress and wakes the owner.
    pub fn report(&self, progress: P) {
        *self.latest.lock().unwrap_or_else(PoisonError::into_inner) = Some(progress);
        (self.wake)();
    }
}

struct Running<K, R, P> {
    kind: K,
    started: Instant,
    progress: Arc<Mutex<Option<P>>>,
    result: Receiver<R>,
}

/// The tasks that run now.
pub struct Tasks<K, R, P = ()> {
    running: Vec<Running<K, R, P>>,
    wake: Wake,
}

impl<K: TaskKind, R, P> std::fmt::Debug for Tasks<K, R, P> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.running.iter().map(|r| r.kind)).finish()
    }
}

impl<K: TaskKind, R: Send + 'static, P: Clone + Send + 'static> Tasks<K, R, P> {
    pub fn new(wake: Wake) -> Self {
        Tasks { running: Vec::new(), wake }
    }

    /// Starts `job` as `kind` on a thread of that name; refused while a task
    /// of the same kind runs.
    pub fn start(
        &mut self,
        kind: K,
        job: impl FnOnce(&ProgressSink<P>) -> R + Send + 'static,
    ) -> Result<(), TaskError> {
        if self.is_running(kind) {
            return Err(TaskError::AlreadyRunning { name: kind.name() });
        }
        let (tx, result) = std::sync::mpsc::channel();
        let progress = Arc::new(Mutex::new(None));
        let sink = ProgressSink { latest: progress.clone(), wake: self.wake.clone() };
        let wake = self.wake.clone();
        std::thread::Builder::new()
            .name(kind.name().to_string())
            .spawn(move || {
                let _ = tx.send(job(&sink));
                wake();
            })
            .map_err(|e| TaskError::Spawn { name: kind.name(), reason: e.to_string() })?;
        self.running.push(Running { kind, started: Instant::now(), progress, result });
        Ok(())
    }

    /// Starts `job` as `kind`, dropping the running task of that kind if
    /// there is one: its thread finishes on its own and its answer is not
    /// taken (a check of the database that was open before a switch).
    pub fn restart(
        &mut self,
        kind: K,
        job: impl FnOnce(&ProgressSink<P>) -> R + Send + 'static,
    ) -> Result<(), TaskError> {
        self.running.retain(|r| r.kind != kind);
        self.start(kind, job)
    }

    pub fn is_running(&self, kind: K) -> bool {
        self.running.iter().any(|r| r.kind == kind)
    }

    /// The latest progress of the running task of `kind`.
    pub fn progress(&self, kind: K) -> Option<P> {
        let running = self.running.iter().find(|r| r.kind == kind)?;
        running.progress.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// What runs now and for how long (a status line).
    pub fn running(&self) -> Vec<(K, Duration)> {
        self.running.iter().map(|r| (r.kind, r.started.elapsed())).collect()
    }

    /// The tasks that have finished since the last poll, with their results.
    pub fn poll(&mut self) -> Vec<(K, Result<R, TaskError>)> {
        let mut done = Vec::new();
        self.running.retain(|r| match r.result.try_recv() {
            Ok(result) => {
                done.push((r.kind, Ok(result)));
                false
            }
            Err(TryRecvError::Empty) => true,
            Err(TryRecvError::Disconnected) => {
                done.push((r.kind, Err(TaskError::Stopped { name: r.kind.name() })));
                false
            }
        });
        done
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    enum Kind {
        Export,
        Backup,
    }

    impl TaskKind for Kind {
        fn name(&self) -> &'static str {
            match self {
                Kind::Export => "export",
                Kind::Backup => "backup",
            }
        }
    }

    fn wait_for<R: Send + 'static, P: Clone + Send + 'static>(
        tasks: &mut Tasks<Kind, R, P>,
    ) -> Vec<(Kind, Result<R, TaskError>)> {
        let started = Instant::now();
        loop {
            let done = tasks.poll();
            if !done.is_empty() {
                return done;
            }
            assert!(started.elapsed() < Duration::from_secs(10), "no task finished");
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    #[test]
    fn a_task_runs_once_per_kind_reports_progress_and_its_result() {
        let wakes = Arc::new(AtomicUsize::new(0));
        let w = wakes.clone();
        let mut tasks: Tasks<Kind, u32, (u32, u32)> =
            Tasks::new(Arc::new(move || _ = w.fetch_add(1, Ordering::SeqCst)));
        let (go_tx, go) = std::sync::mpsc::channel::<()>();
        let (reported_tx, reported) = std::sync::mpsc::channel::<()>();
        tasks
            .start(Kind::Export, move |progress| {
                progress.report((1, 2));
                let _ = reported_tx.send(());
                let _ = go.recv();
                42
            })
            .unwrap();
        reported.recv_timeout(Duration::from_secs(10)).unwrap();
        assert!(tasks.is_running(Kind::Export));
        assert!(!tasks.is_running(Kind::Backup));
        assert_eq!(tasks.progress(Kind::Export), Some((1, 2)));
        assert_eq!(tasks.running().len(), 1);
        assert_eq!(
            tasks.start(Kind::Export, |_| 0),
            Err(TaskError::AlreadyRunning { name: "export" }),
            "a second export while one runs is refused"
        );
        assert!(tasks.poll().is_empty(), "still running");
        go_tx.send(()).unwrap();
        let done = wait_for(&mut tasks);
        assert_eq!(done, vec![(Kind::Export, Ok(42))]);
        assert!(!tasks.is_running(Kind::Export));
        assert!(wakes.load(Ordering::SeqCst) >= 2, "woken by the progress and by the end");
        tasks.start(Kind::Export, |_| 7).unwrap();
        assert_eq!(wait_for(&mut tasks), vec![(Kind::Export, Ok(7))], "the kind runs again once done");
        // A restart drops the running one's answer: only the new one is taken.
        let (slow_go, slow) = std::sync::mpsc::channel::<()>();
        tasks
            .start(Kind::Backup, move |_| {
                let _ = slow.recv();
                1
            })
            .unwrap();
        tasks.restart(Kind::Backup, |_| 2).unwrap();
        let _ = slow_go.send(());
        assert_eq!(wait_for(&mut tasks), vec![(Kind::Backup, Ok(2))]);
        std::thread::sleep(Duration::from_millis(50));
        assert!(tasks.poll().is_empty(), "the dropped task's answer is never taken");
    }

    #[test]
    fn a_task_that_dies_without_an_answer_answers_with_an_error() {
        let mut tasks: Tasks<Kind, u32> = Tasks::new(Arc::new(|| {}));
        tasks
            .start(Kind::Backup, |_| -> u32 {
                // A panic inside a job ends its thread without an answer.
                std::panic::resume_unwind(Box::new("disk gone"));
            })
            .unwrap();
        let done = wait_for(&mut tasks);
        assert_eq!(done, vec![(Kind::Backup, Err(TaskError::Stopped { name: "backup" }))]);
        assert!(done[0].1.as_ref().unwrap_err().to_string().contains("backup thread stopped unexpectedly"));
    }
}
