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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::control::Static;

    #[test]
    fn a_setting_becomes_a_command_at_the_next_tick_and_an_event() {
        let (mut c, params) = HostParams::wrap(Box::new(Static));
        let mut out = Vec::new();
        c.tick(0.0, &mut out);
        assert!(out.is_empty());
        assert!(params.set(Param::Tempo, 500.0));
        assert!(!params.set(Param::Reverb, f32::NAN));
        c.tick(0.1, &mut out);
        assert_eq!(out, vec![Command::Set(Param::Tempo, 120.0)]);
        let events = c.take_events();
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].kind, EventKind::Host);
        assert_eq!(events[0].time, 0.1);
        assert_eq!(events[0].message, "the host set tempo to 120");
        assert!(c.take_events().is_empty());
        drop(c);
        assert!(
            !params.set(Param::Tempo, 60.0),
            "refused once the session has ended"
        );
    }
}
