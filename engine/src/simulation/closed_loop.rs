//! A session whose biometric input is the simulated listener hearing that same session:
//! wraps an [`AdaptiveController`] fed by a [`Simulator`](crate::biometrics::sources::Simulator)
//! and, after every tick, lets the [`Listener`] hear the sound the policy asks for and
//! steers the simulator with the listener's arousal and breathing. **Simulated.**
//!
//! Runs on the control thread.

use super::listener::Listener;
use crate::biometrics::sources::SimulatorHandle;
use crate::control::Controller;
use crate::policy::SessionEvent;
use crate::protocol::Protocol;
use crate::session::AdaptiveController;
use isochord_dsp::Command;

/// The adaptive controller with a simulated listener in the loop.
pub struct ListeningLoop {
    inner: AdaptiveController,
    listener: Listener,
    handle: SimulatorHandle,
    protocol: Protocol,
    palette: usize,
    fade_end: Option<f64>,
}

impl ListeningLoop {
    /// Closes the loop: `inner` must be fed by the simulator `handle` steers.
    pub fn new(
        inner: AdaptiveController,
        listener: Listener,
        handle: SimulatorHandle,
        protocol: Protocol,
        palette: usize,
    ) -> Self {
        handle.set_arousal(listener.arousal());
        Self {
            inner,
            listener,
            handle,
            protocol,
            palette,
            fade_end: None,
        }
    }

    /// The simulated listener's true arousal.
    pub fn true_arousal(&self) -> f64 {
        self.listener.arousal()
    }
}

impl Controller for ListeningLoop {
    fn tick(&mut self, time: f64, out: &mut Vec<Command>) {
        let before = out.len();
        self.inner.tick(time, out);
        for c in &out[before..] {
            if let Command::FadeOut(s) = c {
                self.fade_end.get_or_insert(time + *s as f64);
            }
        }
        let s = self.inner.status();
        let audible = self.fade_end.is_none_or(|e| time < e);
        self.listener.hear(
            time,
            &self.protocol,
            &s.sound,
            s.breath_guide,
            self.palette,
            audible,
        );
        self.handle.set_arousal(self.listener.arousal());
        self.handle.set_breath_pace(self.listener.breath_pace());
    }

    fn output(&mut self, seconds: f64, mean_square: f64, peak: f32) {
        self.inner.output(seconds, mean_square, peak);
    }

    fn take_events(&mut self) -> Vec<SessionEvent> {
        self.inner.take_events()
    }

    fn note(&mut self, event: SessionEvent) {
        Controller::note(&mut self.inner, event);
    }

    fn keeps_notes(&self) -> bool {
        Controller::keeps_notes(&self.inner)
    }

    fn status_text(&self) -> Option<String> {
        self.inner
            .status_text()
            .map(|t| format!("{t} (true {:.2})", self.listener.arousal()))
    }

    fn finish(&mut self, time: f64) {
        self.inner.finish(time);
    }
}
