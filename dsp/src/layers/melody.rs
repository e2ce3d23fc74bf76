//! The melody: sparse generative notes from the scale.

use super::tuning::Tuning;
use super::Block;
use crate::config::MelodyConfig;
use crate::music::{Key, Scale};
use crate::rng::Rng;
use crate::voice::VoicePool;

/// On each eighth note, with a chance set by density (and the preset's notes per beat),
/// plays the next step of a random walk over the scale, bounded to `range` degrees.
/// Its note rate therefore follows tempo and density; its attack brightness follows
/// brightness.
#[derive(Clone, Debug)]
pub struct Melody {
    pool: VoicePool<8>,
    rng: Rng,
    degree: i32,
    range: i32,
    tuning: Tuning,
    chance: f32,
    decay_s: f32,
    bell: f32,
}

impl Melody {
    /// A melody in `key`/`scale` drawing from `rng`.
    pub fn new(cfg: &MelodyConfig, key: Key, scale: Scale, rng: Rng) -> Self {
        Self {
            pool: VoicePool::default(),
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
                let amp = 0.22 * (0.6 + 0.4 * self.rng.uniform()) * (0.5 + 0.5 * b.energy);
                let pan = 0.6 * self.rng.bipolar();
                let index = self.bell * (0.1 + 0.9 * b.brightness);
                self.pool.allocate().start(
                    b.sample_rate,
                    self.tuning.hz(self.degree),
                    amp,
                    0.012,
                    self.decay_s,
                    pan,
                    index,
                );
            }
        }
        self.pool.render_add(&mut left[..n], &mut right[..n]);
    }
}
