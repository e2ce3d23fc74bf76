//! Notes of a sampled instrument for the note layers, with brightness as a low-pass.

use crate::content::Instrument;
use crate::ladder::Ladder;
use crate::sampler::Sampler;
use std::sync::Arc;

/// Seconds a sampled note takes to fade once let go.
const RELEASE_S: f32 = 0.45;
/// Release noise relative to the note.
const RELEASE_GAIN: f32 = 0.5;
/// Low-pass cutoff at brightness 0 and 1, Hz: a felt-soft piano … the full recording.
const CUTOFF_HZ: (f32, f32) = (1_200.0, 18_000.0);

/// A note layer's sampled voice: a [`Sampler`] of up to `N` notes through a low-pass set
/// by brightness. Audio thread after construction.
#[derive(Clone, Debug)]
pub struct SampledNotes<const N: usize> {
    sampler: Sampler<N>,
    filter: Ladder,
}

impl<const N: usize> SampledNotes<N> {
    /// Notes of `instrument` at `sample_rate`.
    pub fn new(instrument: Arc<Instrument>, sample_rate: f32) -> Self {
        Self {
            sampler: Sampler::new(instrument, sample_rate, RELEASE_S, RELEASE_GAIN),
            filter: Ladder::new(sample_rate),
        }
    }

    /// Plays a note at `hz` struck at `velocity` (0..1), amplitude `amp`, let go after
    /// `hold_s`, panned by `pan`.
    pub fn note(&mut self, hz: f32, velocity: f32, amp: f32, hold_s: f32, pan: f32) {
        self.sampler.note(hz, velocity, amp, hold_s, pan);
    }

    /// Adds the sounding notes, filtered for `brightness`, into `left`/`right` (which
    /// must hold only this layer's sound: the filter runs over them).
    pub fn render_add(&mut self, brightness: f32, left: &mut [f32], right: &mut [f32]) {
        self.sampler.render_add(left, right);
        let (lo, hi) = CUTOFF_HZ;
        let cutoff = lo * (hi / lo).powf(brightness.clamp(0.0, 1.0));
        self.filter.process(left, right, cutoff, 0.0);
    }

    /// Silences every note.
    pub fn reset(&mut self) {
        self.sampler.reset();
        self.filter.reset();
    }

    /// How many voices sound.
    pub fn active(&self) -> usize {
        self.sampler.active()
    }
}
