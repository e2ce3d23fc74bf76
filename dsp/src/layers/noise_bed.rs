//! The noise bed: stereo pink or brown noise, low-passed, with slow swells.

use super::Block;
use crate::config::{NoiseColor, NoiseConfig};
use crate::noise::{Brown, Pink};
use crate::osc::{sin_turns, wrap};
use crate::rng::Rng;

#[derive(Clone, Debug)]
enum Source {
    Pink(Pink, Pink),
    Brown(Brown, Brown),
}

/// Two independent noise generators (left, right) through a two-pole low-pass whose
/// cutoff follows brightness, swelling slowly over `swell_period_s`.
#[derive(Clone, Debug)]
pub struct NoiseBed {
    source: Source,
    lp: [[f32; 2]; 2],
    cutoff_min: f32,
    cutoff_max: f32,
    swell_phase: f32,
    swell_inc_per_s: f32,
    swell_depth: f32,
}

impl NoiseBed {
    /// A noise bed drawing from `rng`.
    pub fn new(cfg: &NoiseConfig, rng: &mut Rng) -> Self {
        let a = Rng::new(rng.next_u32() as u64, 11);
        let b = Rng::new(rng.next_u32() as u64, 12);
        let source = match cfg.color {
            NoiseColor::Pink => Source::Pink(Pink::new(a), Pink::new(b)),
            NoiseColor::Brown => Source::Brown(Brown::new(a), Brown::new(b)),
        };
        Self {
            source,
            lp: [[0.0; 2]; 2],
            cutoff_min: cfg.cutoff_min_hz,
            cutoff_max: cfg.cutoff_max_hz,
            swell_phase: 0.75,
            swell_inc_per_s: 1.0 / cfg.swell_period_s,
            swell_depth: cfg.swell_depth,
        }
    }

    /// Clears filter state.
    pub fn reset(&mut self) {
        self.lp = [[0.0; 2]; 2];
    }

    /// The swell gain now (1 − depth … 1).
    pub fn swell(&self) -> f32 {
        1.0 - self.swell_depth * (0.5 - 0.5 * sin_turns(self.swell_phase))
    }

    /// Renders one block into `left`/`right` (overwriting), swell included.
    pub fn render(&mut self, b: &Block, left: &mut [f32], right: &mut [f32]) {
        let n = b.frames;
        let g0 = self.swell();
        self.swell_phase = wrap(self.swell_phase + self.swell_inc_per_s * n as f32 / b.sample_rate);
        let g1 = self.swell();
        let cutoff = self.cutoff_min * (self.cutoff_max / self.cutoff_min).powf(b.brightness);
        let a = 1.0 - (-core::f32::consts::TAU * cutoff / b.sample_rate).exp();
        let dg = (g1 - g0) / n as f32;
        let mut g = g0;
        let [mut l, mut r] = self.lp;
        for i in 0..n {
            let (x, y) = match &mut self.source {
                Source::Pink(p, q) => (p.next(), q.next()),
                Source::Brown(p, q) => (p.next(), q.next()),
            };
            l[0] += (x - l[0]) * a;
            l[1] += (l[0] - l[1]) * a;
            r[0] += (y - r[0]) * a;
            r[1] += (r[0] - r[1]) * a;
            g += dg;
            left[i] = l[1] * g;
            right[i] = r[1] * g;
        }
        self.lp = [l, r];
    }
}
