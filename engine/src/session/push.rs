//! Readings the host pushes itself: a [`SampleSender`] the host keeps (on any thread) and
//! the [`PushFeed`] the session's control tick drains. Readings carry session times
//! (seconds since the session started); each is released to the session once the session
//! clock reaches it, exactly as a recording replayed offline is.

use super::feed::Feed;
use super::plan::Pacing;
use crate::biometrics::signal::SensorData;
use crate::biometrics::sources::{
    Pull, Replay, Source, SourceInfo, SourceIssue, SourceItem, VirtualClock,
};
use crossbeam_channel::{Receiver, RecvTimeoutError, Sender, TryRecvError};
use std::time::Duration;

/// Sends readings into a running session. Cheap to clone; usable from any thread except
/// the audio thread (it may allocate). The session's input ends when every clone is
/// dropped.
#[derive(Clone, Debug)]
pub struct SampleSender {
    tx: Sender<SourceItem>,
}

impl SampleSender {
    /// Pushes a reading (heart rate, an RR interval, EDA, …) stamped with session time.
    /// Returns false once the session has ended. Host thread.
    pub fn push(&self, sample: SensorData) -> bool {
        self.tx.send(Ok(sample)).is_ok()
    }

    /// Pushes a reading or an issue (a rejected row, say), as a [`Source`] yields them:
    /// the session logs issues as it does for its own inputs. Host thread.
    pub fn push_item(&self, item: SourceItem) -> bool {
        self.tx.send(item).is_ok()
    }

    /// Pushes an issue. Host thread.
    pub fn push_issue(&self, issue: SourceIssue) -> bool {
        self.tx.send(Err(issue)).is_ok()
    }
}

/// The receiving end as a [`Source`]. With [`Pacing::Recorded`] it waits for the next
/// item (as a file does: it never answers "nothing yet"); with [`Pacing::Live`] it
/// answers at once.
struct PushSource {
    rx: Receiver<SourceItem>,
    info: SourceInfo,
    wait: bool,
}

impl Source for PushSource {
    fn info(&self) -> SourceInfo {
        self.info.clone()
    }

    fn pull(&mut self, wait: Duration) -> Pull {
        let got = if self.wait {
            self.rx.recv().map_err(|_| RecvTimeoutError::Disconnected)
        } else if wait.is_zero() {
            self.rx.try_recv().map_err(|e| match e {
                TryRecvError::Empty => RecvTimeoutError::Timeout,
                TryRecvError::Disconnected => RecvTimeoutError::Disconnected,
            })
        } else {
            self.rx.recv_timeout(wait)
        };
        match got {
            Ok(Ok(d)) => Pull::Data(d),
            Ok(Err(i)) => Pull::Issue(i),
            Err(RecvTimeoutError::Timeout) => Pull::Pending,
            Err(RecvTimeoutError::Disconnected) => Pull::End,
        }
    }
}

/// A session's feed of pushed readings. Drained on the control thread.
pub struct PushFeed {
    replay: Replay<PushSource, VirtualClock>,
    info: SourceInfo,
}

impl PushFeed {
    /// A feed described by `info`, and the sender that fills it.
    pub fn new(info: SourceInfo, pacing: Pacing) -> (PushFeed, SampleSender) {
        let (tx, rx) = crossbeam_channel::unbounded();
        let source = PushSource {
            rx,
            info: info.clone(),
            wait: pacing == Pacing::Recorded,
        };
        (
            PushFeed {
                replay: Replay::new(source, VirtualClock::new()),
                info,
            },
            SampleSender { tx },
        )
    }
}

impl Feed for PushFeed {
    fn drain(&mut self, time: f64, out: &mut Vec<SourceItem>) {
        self.replay.clock().set(time);
        self.replay.drain_due(out);
    }
    fn info(&self) -> SourceInfo {
        self.info.clone()
    }
    fn finished(&self) -> bool {
        self.replay.is_finished()
    }
}
