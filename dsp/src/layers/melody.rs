//! The melody: sparse generative notes from the scale.

use super::note_voices::{Note, NoteVoices};
use super::tuning::Tuning;
use super::Block;
use crate::config::MelodyConfig;
use crate::content::Instrument;
use crate::music::{Key, Scale};
use crate::rng::Rng;
use std::sync::Arc;

/// On each eighth note, with a chance set by density (and the preset's notes per beat),
/// plays the next step of a random walk over the scale, bounded to `range` degrees.
/// Its note rate therefore follows tempo and density; its attack brightness follows
/// brightness. Played by the synthesised bell or by a sampled instrument.
#[derive(Clone, Debug)]
pub struct Melody {
    voices: NoteVoices<8, 12>,
    rng: Rng,
    degree: i32,
    range: i32,
    tuning: Tuning,
    chance: f32,
    decay_s: f32,
    bell: f32,
}

impl Melody {
    /// A melody in `key`/`scale` drawing from `rng`, played by `instrument` if given.
    pub fn new(
        cfg: &MelodyConfig,
        key: Key,
        scale: Scale,
        rng: Rng,
        instrument: Option<Arc<Instrument>>,
        sample_rate: f32,
    ) -> Self {
        Self {
            voices: NoteVoices::new(instrument, sample_rate),
            rng,
            degree: cfg.range / 2,
            range: cfg.range.max(1),
            tuning: Tuning::new(key, scale, cfg.octave),
            chance: (cfg.notes_per_beat / 2.0).clamp(0.0, 1.0),
            decay_s: cfg.decay_s,
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
        if b.eighth.is_some() {
            let p = self.chance * (0.1 + 0.9 * b.density);
            if self.rng.uniform() < p {
                let step = [-2, -1, -1, 1, 1, 2][self.rng.below(6) as usize];
                let mut d = self.degree + step;
                if d < 0 || d > self.range {
                    d = self.degree - step;
                }
                self.degree = d.clamp(0, self.range);
                let velocity = (0.6 + 0.4 * self.rng.uniform()) * (0.5 + 0.5 * b.energy);
                let amp = 0.22 * velocity;
                let pan = 0.6 * self.rng.bipolar();
                self.voices.play(
                    b.sample_rate,
                    Note {
                        hz: self.tuning.hz(self.degree),
                        amp,
                        velocity,
                        attack_s: 0.012,
                        length_s: self.decay_s,
                        pan,
                        bell_index: self.bell * (0.1 + 0.9 * b.brightness),
                    },
                );
            }
        }
        self.voices
            .render_add(b.brightness, &mut left[..n], &mut right[..n]);
    }

    /// Silences every note.
    pub fn reset(&mut self) {
        self.voices.reset();
    }
}
