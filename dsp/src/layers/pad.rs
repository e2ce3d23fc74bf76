//! The pad: chord voices whose number follows harmonic density.

use super::Block;
use crate::config::PadConfig;
use crate::ladder::Ladder;
use crate::music::{midi_hz, Key, Scale};
use crate::osc::{sin_turns, wrap, OscBank};
use crate::rng::Rng;
use crate::MAX_BLOCK;

const VOICES: usize = 8;
const LANES: usize = 2 * VOICES;

/// Up to eight chord voices (two detuned oscillators each, slowly drifting) through a
/// stereo ladder low-pass. Density 0 sounds a bare fifth; each step of 1/6 brings in the
/// next chord tone, faded in as density moves. A key change crossfades between two banks.
#[derive(Clone, Debug)]
pub struct Pad {
    cfg: PadConfig,
    banks: [OscBank<LANES>; 2],
    notes: [[f32; VOICES]; 2],
    active: usize,
    xfade: Option<f32>,
    xfade_rate: f32,
    drift_phase: [f32; LANES],
    drift_inc: [f32; LANES],
    ladder: Ladder,
    sample_rate: f32,
}

impl Pad {
    /// A pad in `key`/`scale` with its tonic in `octave`.
    pub fn new(
        cfg: &PadConfig,
        key: Key,
        scale: Scale,
        octave: i32,
        sample_rate: f32,
        crossfade_s: f32,
        rng: &mut Rng,
    ) -> Self {
        let mut banks = [OscBank::new(sample_rate), OscBank::new(sample_rate)];
        for bank in banks.iter_mut() {
            for k in 0..LANES {
                bank.set_phase(k, rng.uniform());
            }
        }
        let mut drift_phase = [0.0; LANES];
        let mut drift_inc = [0.0; LANES];
        for k in 0..LANES {
            drift_phase[k] = rng.uniform();
            // 0.03–0.12 Hz, advanced once per block
            drift_inc[k] = (0.03 + 0.09 * rng.uniform()) * MAX_BLOCK as f32 / sample_rate;
        }
        let mut pad = Self {
            cfg: cfg.clone(),
            banks,
            notes: [[0.0; VOICES]; 2],
            active: 0,
            xfade: None,
            xfade_rate: 1.0 / crossfade_s.max(0.1),
            drift_phase,
            drift_inc,
            ladder: Ladder::new(sample_rate),
            sample_rate,
        };
        pad.notes[0] = Self::chord(key, scale, octave);
        pad
    }

    fn chord(key: Key, scale: Scale, octave: i32) -> [f32; VOICES] {
        let root = key.midi(octave) as f32;
        scale.chord_tones().map(|t| root + t as f32)
    }

    /// Starts a crossfade to a new key or scale; false while one is already running.
    pub fn change_key(&mut self, key: Key, scale: Scale, octave: i32) -> bool {
        if self.xfade.is_some() {
            return false;
        }
        let other = 1 - self.active;
        self.notes[other] = Self::chord(key, scale, octave);
        for k in 0..LANES {
            self.banks[other].jump_gains(k, 0.0, 0.0);
        }
        self.xfade = Some(0.0);
        true
    }

    /// Whether a key crossfade is running.
    pub fn crossfading(&self) -> bool {
        self.xfade.is_some()
    }

    /// Clears filter state.
    pub fn reset(&mut self) {
        self.ladder.reset();
    }

    /// Renders one block into `left`/`right` (overwriting).
    pub fn render(&mut self, b: &Block, left: &mut [f32], right: &mut [f32]) {
        let n = b.frames;
        let (left, right) = (&mut left[..n], &mut right[..n]);
        left.fill(0.0);
        right.fill(0.0);
        let dt = n as f32 / b.sample_rate;
        let (mix_old, mix_new) = match self.xfade.as_mut() {
            Some(x) => {
                *x = (*x + dt * self.xfade_rate).min(1.0);
                let a = *x * core::f32::consts::FRAC_PI_2;
                (a.cos(), a.sin())
            }
            None => (1.0, 0.0),
        };
        // voice levels from density: 2 voices at 0, 8 at 1, each fading in over 1/6
        let count = 2.0 + 6.0 * b.density.clamp(0.0, 1.0);
        let mut level = [0.0f32; VOICES];
        let mut energy = 0.0;
        for (i, lv) in level.iter_mut().enumerate() {
            *lv = (count - i as f32).clamp(0.0, 1.0) / (1.0 + 0.12 * i as f32);
            energy += *lv * *lv;
        }
        let norm = 0.16 / energy.sqrt().max(1e-3);
        let saw = self.cfg.saw_max * b.brightness;
        let tri = 1.0 - saw;
        let half_detune = self.cfg.detune_cents * 0.005; // semitones
        for k in 0..LANES {
            self.drift_phase[k] = wrap(self.drift_phase[k] + self.drift_inc[k]);
        }
        let plan = [(self.active, mix_old), (1 - self.active, mix_new)];
        let banks = if self.xfade.is_some() { 2 } else { 1 };
        for &(bank_idx, mix) in &plan[..banks] {
            let notes = self.notes[bank_idx];
            let bank = &mut self.banks[bank_idx];
            for v in 0..VOICES {
                let side = if v % 2 == 0 { -1.0 } else { 1.0 };
                let centre = side * self.cfg.width * (0.25 + 0.75 * v as f32 / 7.0);
                for o in 0..2 {
                    let k = 2 * v + o;
                    let sign = if o == 0 { -1.0 } else { 1.0 };
                    let drift = self.cfg.drift_cents * 0.01 * sin_turns(self.drift_phase[k]);
                    bank.set_freq(k, midi_hz(notes[v] + sign * half_detune + drift));
                    bank.set_shape(k, saw, tri);
                    let pan = (centre + sign * 0.15 * self.cfg.width).clamp(-1.0, 1.0);
                    let angle = (pan + 1.0) * core::f32::consts::FRAC_PI_4;
                    let g = level[v] * norm * mix;
                    bank.set_gains(k, g * angle.cos(), g * angle.sin());
                }
            }
            bank.render_add(left, right);
        }
        if let Some(x) = self.xfade {
            if x >= 1.0 {
                self.active = 1 - self.active;
                self.xfade = None;
            }
        }
        let cutoff = self.cfg.cutoff_min_hz
            * (self.cfg.cutoff_max_hz / self.cfg.cutoff_min_hz).powf(b.brightness);
        self.ladder.process(
            left,
            right,
            cutoff.min(self.sample_rate * 0.45),
            4.0 * self.cfg.resonance,
        );
    }
}
