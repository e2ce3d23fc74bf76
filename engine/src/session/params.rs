//! Parameters the host sets on a live session: sent from any thread, applied at the
//! next control tick after the controller's own commands, and logged as events.

use crate::control::Controller;
use crate::policy::{EventKind, SessionEvent};
use crossbeam_channel::{Receiver, Sender};
use isochord_dsp::{Command, Param};

/// Sends the host's parameter settings to the session's control thread.
#[derive(Clone, Debug)]
pub(crate) struct ParamSender {
    tx: Sender<(Param, f32)>,
}

impl ParamSender {
    /// Queues `param` = `value` (clamped); false for a value that is not finite or once
    /// the session has ended.
    pub(crate) fn set(&self, param: Param, value: f32) -> bool {
        match param.clamp(value) {
            Some(v) => self.tx.send((param, v)).is_ok(),
            None => false,
        }
    }
}

/// A controller with the host's settings added to each tick.
pub(crate) struct HostParams {
    inner: Box<dyn Controller>,
    rx: Receiver<(Param, f32)>,
    /// Events the inner controller does not keep.
    pending: Vec<SessionEvent>,
}

impl HostParams {
    /// Wraps `inner`; returns the controller and the sender of settings.
    pub(crate) fn wrap(inner: Box<dyn Controller>) -> (Box<dyn Controller>, ParamSender) {
        let (tx, rx) = crossbeam_channel::unbounded();
        (
            Box::new(HostParams {
                inner,
                rx,
                pending: Vec::new(),
            }),
            ParamSender { tx },
        )
    }
}

impl Controller for HostParams {
    fn tick(&mut self, time: f64, out: &mut Vec<Command>) {
        self.inner.tick(time, out);
        while let Ok((param, value)) = self.rx.try_recv() {
            out.push(Command::Set(param, value));
            let e = SessionEvent::new(
                time,
                EventKind::Host,
                format!("the host set {} to {value}", param.name()),
            );
            if self.inner.keeps_notes() {
                self.inner.note(e);
            } else {
                self.pending.push(e);
            }
        }
    }

    fn output(&mut self, seconds: f64, mean_square: f64, peak: f32) {
        self.inner.output(seconds, mean_square, peak);
    }

    fn take_events(&mut self) -> Vec<SessionEvent> {
        let mut events = self.inner.take_events();
        events.append(&mut self.pending);
        events
    }

    fn note(&mut self, event: SessionEvent) {
        self.inner.note(event);
    }

    fn keeps_notes(&self) -> bool {
        self.inner.keeps_notes()
    }

    fn status_text(&self) -> Option<String> {
        self.inner.status_text()
    }

    fn finish(&mut self, time: f64) {
        self.inner.finish(time);
    }
}
