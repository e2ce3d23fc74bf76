//! The control side.

use super::telemetry::Telemetry;
use isochord_dsp::{
    Command, Content, Key, Param, Scale, Soundscape, SoundscapeConfig, PARAM_COUNT,
};
use ringbuf::traits::{Consumer, Observer, Producer};
use ringbuf::{HeapCons, HeapProd};
use std::sync::atomic::AtomicU32;
use std::sync::Arc;

/// Why a preset switch was not started.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum SwitchError {
    /// A switch is still crossfading; try again when it ends (see
    /// [`Telemetry::switching`]).
    #[error("a preset switch is already in progress")]
    Busy,
}

/// Steers a running engine. Lives on the control thread (it may allocate); it is the only
/// writer of the command ring.
///
/// Full rings never block and never lose the latest value: every setter records its
/// value as pending, then [`EngineHandle::flush`] pushes what fits. A parameter set again
/// before its earlier value got through simply replaces it (newest wins), so after a
/// stall the audio thread receives each parameter's latest target once.
pub struct EngineHandle {
    commands: HeapProd<Command>,
    switches: HeapProd<Box<Soundscape>>,
    retired: HeapCons<Box<Soundscape>>,
    telemetry: HeapCons<Telemetry>,
    underruns: Arc<AtomicU32>,
    pending: [Option<f32>; PARAM_COUNT],
    pending_key: Option<(Key, Scale)>,
    pending_fade: Option<f32>,
    latest: Option<Telemetry>,
    sample_rate: f32,
    seed: u64,
    content: Content,
    coalesced: u64,
}

impl EngineHandle {
    #[allow(clippy::too_many_arguments)]
    pub(super) fn new(
        commands: HeapProd<Command>,
        switches: HeapProd<Box<Soundscape>>,
        retired: HeapCons<Box<Soundscape>>,
        telemetry: HeapCons<Telemetry>,
        underruns: Arc<AtomicU32>,
        sample_rate: f32,
        seed: u64,
        content: Content,
    ) -> Self {
        Self {
            commands,
            switches,
            retired,
            telemetry,
            underruns,
            pending: [None; PARAM_COUNT],
            pending_key: None,
            pending_fade: None,
            latest: None,
            sample_rate,
            seed,
            content,
            coalesced: 0,
        }
    }

    /// Sets the target of `param` (clamped into range). NaN and infinity are refused
    /// (returns false) and never reach the audio thread. Control thread.
    pub fn set(&mut self, param: Param, value: f32) -> bool {
        let Some(v) = param.clamp(value) else {
            return false;
        };
        if self.pending[param.index()].replace(v).is_some() {
            self.coalesced += 1;
        }
        self.flush();
        true
    }

    /// Asks for a key and scale change (heard at the next bar line). Control thread.
    pub fn set_key(&mut self, key: Key, scale: Scale) {
        self.pending_key = Some((key, scale));
        self.flush();
    }

    /// Fades the sound out over `seconds`. Control thread.
    pub fn fade_out(&mut self, seconds: f32) {
        if seconds.is_finite() {
            self.pending_fade = Some(seconds.max(0.0));
            self.flush();
        }
    }

    /// Sends a command (as the setters do). Control thread.
    pub fn send(&mut self, command: Command) -> bool {
        match command {
            Command::Set(p, v) => self.set(p, v),
            Command::Key(k, s) => {
                self.set_key(k, s);
                true
            }
            Command::FadeOut(s) => {
                self.fade_out(s);
                s.is_finite()
            }
        }
    }

    /// Crossfades (over [`SWITCH_CROSSFADE_S`](super::SWITCH_CROSSFADE_S) seconds) to a new soundscape built from
    /// `config`. Builds and
    /// calibrates it here, on the control thread, then hands it over. Control thread.
    pub fn switch_to(&mut self, config: &SoundscapeConfig) -> Result<(), SwitchError> {
        self.collect_garbage();
        if self.switches.is_full() || self.latest.is_some_and(|t| t.switching) {
            return Err(SwitchError::Busy);
        }
        let scape = Box::new(Soundscape::with_content(
            config,
            &self.content,
            self.sample_rate,
            self.seed,
        ));
        self.switches.try_push(scape).map_err(|_| SwitchError::Busy)
    }

    /// Pushes pending commands into the ring, as many as fit; returns how many are still
    /// pending. Control thread (called by every setter, and worth calling every tick).
    pub fn flush(&mut self) -> usize {
        for i in 0..PARAM_COUNT {
            if let Some(v) = self.pending[i] {
                if self
                    .commands
                    .try_push(Command::Set(Param::ALL[i], v))
                    .is_err()
                {
                    break;
                }
                self.pending[i] = None;
            }
        }
        if let Some((k, s)) = self.pending_key {
            if self.commands.try_push(Command::Key(k, s)).is_ok() {
                self.pending_key = None;
            }
        }
        if let Some(f) = self.pending_fade {
            if self.commands.try_push(Command::FadeOut(f)).is_ok() {
                self.pending_fade = None;
            }
        }
        self.pending.iter().filter(|p| p.is_some()).count()
            + self.pending_key.is_some() as usize
            + self.pending_fade.is_some() as usize
    }

    /// How many times a pending value was replaced by a newer one before it got through.
    pub fn coalesced(&self) -> u64 {
        self.coalesced
    }

    /// Drains telemetry and returns the newest report, if any arrived since the last
    /// call. Also frees soundscapes the audio thread has retired. Control thread.
    pub fn poll(&mut self) -> Option<Telemetry> {
        self.collect_garbage();
        let mut newest = None;
        while let Some(t) = self.telemetry.try_pop() {
            newest = Some(t);
        }
        if newest.is_some() {
            self.latest = newest;
        }
        newest
    }

    /// The newest telemetry seen so far.
    pub fn latest(&self) -> Option<&Telemetry> {
        self.latest.as_ref()
    }

    /// Underruns reported by the host so far.
    pub fn underruns(&self) -> u32 {
        self.underruns.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Drops soundscapes the audio thread handed back after a switch. Control thread.
    pub fn collect_garbage(&mut self) {
        while let Some(old) = self.retired.try_pop() {
            drop(old);
        }
    }
}
