//! Running a source on its own input thread, feeding a bounded crossbeam channel that the
//! control thread drains.
//!
//! The producer never blocks indefinitely: when the channel is full it waits at most
//! [`ThreadOptions::max_block`] for room, then drops the item and counts it in
//! [`SourceStats::dropped`]. Issues never wait: if there is no room they are dropped
//! (and still counted by kind). The control thread sees the channel close when the source
//! ends or the thread is stopped.

use std::io;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use crossbeam_channel::{bounded, Receiver, SendTimeoutError, Sender, TrySendError};

use super::source::{IssueKind, Pull, Source, SourceInfo, SourceIssue, SourceStats};
use crate::signal::SensorData;

/// What travels from an input thread to the control thread.
pub type SourceItem = Result<SensorData, SourceIssue>;

/// How a [`SourceThread`] runs.
#[derive(Clone, Debug)]
pub struct ThreadOptions {
    /// Channel capacity (items), when the thread creates the channel.
    pub capacity: usize,
    /// Longest wait for room in a full channel before an item is dropped.
    pub max_block: Duration,
    /// Longest single wait inside the source, which bounds how long a stop takes.
    pub poll: Duration,
    /// The thread's name.
    pub name: String,
}

impl Default for ThreadOptions {
    fn default() -> Self {
        Self {
            capacity: 8192,
            max_block: Duration::from_millis(10),
            poll: Duration::from_millis(50),
            name: "isochord-input".into(),
        }
    }
}

#[derive(Default)]
struct Shared {
    stop: AtomicBool,
    finished: AtomicBool,
    delivered: AtomicU64,
    malformed: AtomicU64,
    implausible: AtomicU64,
    unused: AtomicU64,
    io: AtomicU64,
    dropped: AtomicU64,
    lost: AtomicU64,
}

impl Shared {
    fn stats(&self) -> SourceStats {
        SourceStats {
            delivered: self.delivered.load(Ordering::Relaxed),
            malformed: self.malformed.load(Ordering::Relaxed),
            implausible: self.implausible.load(Ordering::Relaxed),
            unused: self.unused.load(Ordering::Relaxed),
            io: self.io.load(Ordering::Relaxed),
            dropped: self.dropped.load(Ordering::Relaxed),
            lost: self.lost.load(Ordering::Relaxed),
        }
    }

    fn count_issue(&self, kind: IssueKind) {
        let c = match kind {
            IssueKind::Malformed => &self.malformed,
            IssueKind::Implausible => &self.implausible,
            IssueKind::Unused => &self.unused,
            IssueKind::Io => &self.io,
        };
        c.fetch_add(1, Ordering::Relaxed);
    }
}

/// A source running on its own input thread. Dropping it stops the thread and waits for
/// it (at most about [`ThreadOptions::poll`], unless the source itself blocks longer).
/// The handle's methods may be called from any thread (usually the control thread).
pub struct SourceThread {
    shared: Arc<Shared>,
    handle: Option<JoinHandle<()>>,
    info: SourceInfo,
}

impl std::fmt::Debug for SourceThread {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SourceThread")
            .field("info", &self.info)
            .field("stats", &self.stats())
            .finish()
    }
}

impl SourceThread {
    /// Starts `source` on a new input thread with a channel of
    /// [`ThreadOptions::capacity`]; returns the handle and the receiving end.
    pub fn spawn<S: Source + 'static>(
        source: S,
        options: ThreadOptions,
    ) -> io::Result<(SourceThread, Receiver<SourceItem>)> {
        let (tx, rx) = bounded(options.capacity.max(1));
        Ok((Self::spawn_into(source, tx, options)?, rx))
    }

    /// Starts `source` on a new input thread feeding `sender` (several sources may share
    /// one channel).
    pub fn spawn_into<S: Source + 'static>(
        mut source: S,
        sender: Sender<SourceItem>,
        options: ThreadOptions,
    ) -> io::Result<SourceThread> {
        let shared = Arc::new(Shared::default());
        let info = source.info();
        let sh = shared.clone();
        let handle = std::thread::Builder::new()
            .name(options.name.clone())
            .spawn(move || {
                run(&mut source, &sender, &options, &sh);
                sh.finished.store(true, Ordering::Release);
            })?;
        Ok(SourceThread {
            shared,
            handle: Some(handle),
            info,
        })
    }

    /// What the source is.
    pub fn info(&self) -> &SourceInfo {
        &self.info
    }

    /// The counts so far.
    pub fn stats(&self) -> SourceStats {
        self.shared.stats()
    }

    /// The source has ended (or been stopped) and the thread is done sending.
    pub fn is_finished(&self) -> bool {
        self.shared.finished.load(Ordering::Acquire)
    }

    /// Stops the thread, waits for it and returns the final counts.
    pub fn stop(mut self) -> SourceStats {
        self.halt();
        self.stats()
    }

    fn halt(&mut self) {
        self.shared.stop.store(true, Ordering::Release);
        if let Some(h) = self.handle.take() {
            // A panicking source has already reported through the panic hook; the
            // counts stay readable.
            let _ = h.join();
        }
    }
}

impl Drop for SourceThread {
    fn drop(&mut self) {
        self.halt();
    }
}

/// How often the input thread reads [`Source::lost`].
const LOST_CHECK: Duration = Duration::from_millis(500);

fn run<S: Source>(
    source: &mut S,
    sender: &Sender<SourceItem>,
    options: &ThreadOptions,
    shared: &Shared,
) {
    let mut lost_checked = std::time::Instant::now();
    while !shared.stop.load(Ordering::Acquire) {
        // losses before reading (a kernel counter): looked at twice a second
        if lost_checked.elapsed() >= LOST_CHECK {
            lost_checked = std::time::Instant::now();
            shared.lost.store(source.lost(), Ordering::Relaxed);
        }
        match source.pull(options.poll) {
            Pull::Data(d) => {
                let sent = if options.max_block.is_zero() {
                    match sender.try_send(Ok(d)) {
                        Ok(()) => Ok(true),
                        Err(TrySendError::Full(_)) => Ok(false),
                        Err(TrySendError::Disconnected(_)) => Err(()),
                    }
                } else {
                    match sender.send_timeout(Ok(d), options.max_block) {
                        Ok(()) => Ok(true),
                        Err(SendTimeoutError::Timeout(_)) => Ok(false),
                        Err(SendTimeoutError::Disconnected(_)) => Err(()),
                    }
                };
                match sent {
                    Ok(true) => shared.delivered.fetch_add(1, Ordering::Relaxed),
                    Ok(false) => shared.dropped.fetch_add(1, Ordering::Relaxed),
                    Err(()) => return,
                };
            }
            Pull::Issue(i) => {
                shared.count_issue(i.kind);
                let fatal = i.fatal;
                if let Err(TrySendError::Disconnected(_)) = sender.try_send(Err(i)) {
                    return;
                }
                if fatal {
                    return;
                }
            }
            Pull::Pending => {}
            Pull::End => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signal::{Reading, Value};
    use crate::source_error::SourceError;
    use crate::sources::VecSource;
    use std::path::Path;
    use std::time::Instant;

    fn hr(t: f64) -> SensorData {
        SensorData::Reading(Reading {
            time: t,
            value: Value::HeartRate(60.0),
        })
    }

    #[test]
    fn delivers_everything_then_closes_the_channel() {
        let items: Vec<_> = (0..1000)
            .map(|i| {
                if i % 100 == 7 {
                    Err(SourceIssue::malformed(SourceError::at_line(
                        Path::new("m"),
                        i,
                        "bad",
                    )))
                } else {
                    Ok(hr(i as f64))
                }
            })
            .collect();
        let (t, rx) =
            SourceThread::spawn(VecSource::new("m", items), ThreadOptions::default()).unwrap();
        let got: Vec<_> = rx.iter().collect();
        assert_eq!(got.len(), 1000);
        assert_eq!(got.iter().filter(|x| x.is_err()).count(), 10);
        let st = t.stop();
        assert_eq!((st.delivered, st.malformed, st.dropped), (990, 10, 0));
    }

    #[test]
    fn a_full_channel_drops_instead_of_blocking_forever() {
        let items: Vec<_> = (0..50).map(|i| Ok(hr(i as f64))).collect();
        let opts = ThreadOptions {
            capacity: 4,
            max_block: Duration::from_millis(1),
            ..ThreadOptions::default()
        };
        let start = Instant::now();
        let (t, rx) = SourceThread::spawn(VecSource::new("m", items), opts).unwrap();
        // Nobody reads: the producer must still finish, dropping what does not fit.
        while !t.is_finished() {
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "producer blocked"
            );
            std::thread::sleep(Duration::from_millis(1));
        }
        let st = t.stop();
        assert_eq!(st.delivered, 4);
        assert_eq!(st.dropped, 46);
        assert_eq!(rx.try_iter().count(), 4);
    }

    #[test]
    fn several_sources_can_feed_one_channel() {
        let (tx, rx) = crossbeam_channel::bounded(16);
        let a = VecSource::from_data("a", (0..100).map(|i| hr(i as f64)));
        let b = VecSource::from_data("b", (0..50).map(|i| hr(1000.0 + i as f64)));
        let ta = SourceThread::spawn_into(a, tx.clone(), ThreadOptions::default()).unwrap();
        let tb = SourceThread::spawn_into(b, tx, ThreadOptions::default()).unwrap();
        assert_eq!(ta.info().name, "a");
        // The channel closes once both have ended.
        let got: Vec<_> = rx.iter().map(|x| x.unwrap().time()).collect();
        assert_eq!(got.len(), 150);
        assert_eq!(got.iter().filter(|t| **t >= 1000.0).count(), 50);
        // Each source's own order is kept.
        let a_times: Vec<f64> = got.iter().copied().filter(|t| *t < 1000.0).collect();
        assert!(a_times.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(ta.stop().delivered + tb.stop().delivered, 150);
    }

    #[test]
    fn stop_ends_a_live_source_promptly() {
        use crate::sources::{Replay, WallClock};
        // Items far in the future: the replay just waits.
        let src = VecSource::from_data("m", vec![hr(0.0), hr(3600.0)]);
        let (t, rx) = SourceThread::spawn(
            Replay::new(src, WallClock::start_now()),
            ThreadOptions::default(),
        )
        .unwrap();
        assert_eq!(
            rx.recv_timeout(Duration::from_secs(5)).unwrap(),
            Ok(hr(0.0))
        );
        let start = Instant::now();
        let st = t.stop();
        assert!(start.elapsed() < Duration::from_secs(2));
        assert_eq!(st.delivered, 1);
        assert!(rx.recv_timeout(Duration::from_millis(10)).is_err());
    }
}
