//! Feeds: how a session's control tick receives biometric data. Offline, a [`ReplayFeed`]
//! releases a source's items against the virtual clock; live, a [`ChannelFeed`] drains
//! the channel of a source running on its input thread. Both hand the session the same
//! items at (nearly) the same session times.

use crate::biometrics::sources::{
    Replay, Source, SourceInfo, SourceItem, SourceStats, SourceThread, VirtualClock,
};
use crossbeam_channel::{Receiver, TryRecvError};

/// Where a session's biometric data come from. Drained on the control thread.
pub trait Feed: Send {
    /// Appends what has arrived up to session time `time`.
    fn drain(&mut self, time: f64, out: &mut Vec<SourceItem>);
    /// What the source is.
    fn info(&self) -> SourceInfo;
    /// The source has ended and everything was delivered.
    fn finished(&self) -> bool;
    /// Delivery counters, where the feed keeps them.
    fn stats(&self) -> Option<SourceStats> {
        None
    }
}

/// A source paced by a virtual clock (offline sessions).
pub struct ReplayFeed {
    replay: Replay<Box<dyn Source>, VirtualClock>,
    info: SourceInfo,
}

impl ReplayFeed {
    /// Paces `source` by its own virtual clock, set by [`Feed::drain`].
    pub fn new(source: Box<dyn Source>) -> Self {
        let info = source.info();
        Self {
            replay: Replay::new(source, VirtualClock::new()),
            info,
        }
    }
}

impl Feed for ReplayFeed {
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

/// A source on its own input thread (live sessions).
pub struct ChannelFeed {
    thread: Option<SourceThread>,
    rx: Receiver<SourceItem>,
    info: SourceInfo,
    closed: bool,
}

impl ChannelFeed {
    /// Drains `rx`, fed by `thread`.
    pub fn new(thread: SourceThread, rx: Receiver<SourceItem>) -> Self {
        let info = thread.info().clone();
        Self {
            thread: Some(thread),
            rx,
            info,
            closed: false,
        }
    }
}

impl Feed for ChannelFeed {
    fn drain(&mut self, _time: f64, out: &mut Vec<SourceItem>) {
        loop {
            match self.rx.try_recv() {
                Ok(item) => out.push(item),
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Disconnected) => {
                    self.closed = true;
                    break;
                }
            }
        }
    }
    fn info(&self) -> SourceInfo {
        self.info.clone()
    }
    fn finished(&self) -> bool {
        self.closed
    }
    fn stats(&self) -> Option<SourceStats> {
        self.thread.as_ref().map(|t| t.stats())
    }
}

impl Drop for ChannelFeed {
    fn drop(&mut self) {
        if let Some(t) = self.thread.take() {
            t.stop();
        }
    }
}
