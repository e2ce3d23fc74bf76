//! The pulse: a soft tuned note on every beat.

use super::note_voices::{Note, NoteVoices};
use super::tuning::Tuning;
use super::Block;
use crate::config::PulseConfig;
use crate::content::Instrument;
use crate::music::{Key, Scale};
use std::sync::Arc;

/// One note per beat, walking through a pattern of scale degrees; velocity follows
/// energy, attack brightness follows brightness, decay follows the beat length. Played by
/// the synthesised bell or by a sampled instrument (held for the decay, brightness as a
/// low-pass).
#[derive(Clone, Debug)]
pub struct Pulse {
    voices: NoteVoices<6, 8>,
    pattern: [i32; 16],
    len: usize,
    tuning: Tuning,
    attack_s: f32,
    decay_beats: f32,
    bell: f32,
}

impl Pulse {
    /// A pulse in `key`/`scale`, played by `instrument` if given.
    pub fn new(
        cfg: &PulseConfig,
        key: Key,
        scale: Scale,
        instrument: Option<Arc<Instrument>>,
        sample_rate: f32,
    ) -> Self {
        let mut pattern = [0i32; 16];
        let len = cfg.pattern.len().clamp(1, 16);
        for (p, d) in pattern.iter_mut().zip(&cfg.pattern) {
            *p = *d;
        }
        Self {
            voices: NoteVoices::new(instrument, sample_rate),
            pattern,
            len,
            tuning: Tuning::new(key, scale, cfg.octave),
            attack_s: cfg.attack_ms * 0.001,
            decay_beats: cfg.decay_beats,
            bell: cfg.bell,
        }
    }

    /// Takes a new key and scale for the notes that follow.
    pub fn change_key(&mut self, key: Key, scale: Scale) {
        self.tuning.change_key(key, scale);
    }

    /// Renders one block into `left`/`right` (overwriting).
    pub fn render(&mut self, b: &Block, left: &mut [f32], right: &mut [f32]) {
        let n = b.frames;
        left[..n].fill(0.0);
        right[..n].fill(0.0);
        if let Some(beat) = b.beat {
            let degree = self.pattern[(beat % self.len as u64) as usize];
            let accent = if beat % 4 == 0 { 1.0 } else { 0.8 };
            let velocity = (0.45 + 0.55 * b.energy) * accent;
            let amp = 0.3 * velocity;
            let beat_s = 60.0 / b.tempo.max(1.0);
            let decay = (self.decay_beats * beat_s).clamp(0.15, 6.0);
            let pan = if beat % 2 == 0 { -0.15 } else { 0.15 };
            self.voices.play(
                b.sample_rate,
                Note {
                    hz: self.tuning.hz(degree),
                    amp,
                    velocity,
                    attack_s: self.attack_s,
                    length_s: decay,
                    pan,
                    bell_index: self.bell * (0.15 + 0.85 * b.brightness),
                },
            );
        }
        self.voices
            .render_add(b.brightness, &mut left[..n], &mut right[..n]);
    }

    /// Silences every note.
    pub fn reset(&mut self) {
        self.voices.reset();
    }
}
