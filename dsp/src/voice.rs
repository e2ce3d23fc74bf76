//! Tuned note voices with soft envelopes, in a fixed pool.

use crate::osc::{fract_pos, sin_turns, wrap};

/// One note: a sine phase-modulated by itself (a soft bell when the index is high, a pure
/// tone when it is zero), under an envelope that rises linearly over `attack` and then
/// falls exponentially by 60 dB over `decay`. Audio thread; no allocation.
#[derive(Clone, Debug, Default)]
pub struct ToneVoice {
    phase: f32,
    inc: f32,
    level: f32,
    attack_step: f32,
    decay_mul: f32,
    rising: bool,
    active: bool,
    amp: f32,
    pan_l: f32,
    pan_r: f32,
    index: f32,
    index_decay: f32,
    age: u32,
}

impl ToneVoice {
    /// Starts a note. `pan` is −1 (left) … 1 (right); `index` the brightness of the attack
    /// (0 = sine).
    #[allow(clippy::too_many_arguments)]
    pub fn start(
        &mut self,
        sample_rate: f32,
        hz: f32,
        amp: f32,
        attack_s: f32,
        decay_s: f32,
        pan: f32,
        index: f32,
    ) {
        self.phase = 0.0;
        self.inc = (hz / sample_rate).clamp(0.0, 0.45);
        self.level = 0.0;
        self.attack_step = 1.0 / (attack_s.max(0.0005) * sample_rate);
        self.decay_mul = (-6.907_755 / (decay_s.max(0.01) * sample_rate)).exp();
        self.rising = true;
        self.active = true;
        self.amp = amp;
        let angle = (pan.clamp(-1.0, 1.0) + 1.0) * core::f32::consts::FRAC_PI_4;
        self.pan_l = angle.cos();
        self.pan_r = angle.sin();
        self.index = index.max(0.0);
        // the index falls twice as fast as the level: bright onset, mellow tail
        self.index_decay = self.decay_mul * self.decay_mul;
        self.age = 0;
    }

    /// Whether the note still sounds.
    pub fn active(&self) -> bool {
        self.active
    }

    /// How loud it is now (for voice stealing).
    pub fn level(&self) -> f32 {
        if self.active {
            self.level * self.amp
        } else {
            0.0
        }
    }

    /// Samples since the note started.
    pub fn age(&self) -> u32 {
        self.age
    }

    /// Adds the note to `left` and `right`.
    pub fn render_add(&mut self, left: &mut [f32], right: &mut [f32]) {
        if !self.active {
            return;
        }
        let mut phase = self.phase;
        let mut level = self.level;
        let mut index = self.index;
        for (l, r) in left.iter_mut().zip(right.iter_mut()) {
            if self.rising {
                level += self.attack_step;
                if level >= 1.0 {
                    level = 1.0;
                    self.rising = false;
                }
            } else {
                level *= self.decay_mul;
                index *= self.index_decay;
            }
            phase = wrap(phase + self.inc);
            let m = index * sin_turns(phase);
            let pm = fract_pos(phase + m * (1.0 / core::f32::consts::TAU));
            let v = sin_turns(pm) * level * self.amp;
            *l += v * self.pan_l;
            *r += v * self.pan_r;
        }
        self.age = self.age.saturating_add(left.len() as u32);
        self.phase = phase;
        self.level = level;
        self.index = index;
        if !self.rising && level < 1e-4 {
            self.active = false;
        }
    }
}

/// A fixed pool of voices; a new note takes a free voice or steals the quietest.
#[derive(Clone, Debug)]
pub struct VoicePool<const N: usize> {
    voices: [ToneVoice; N],
}

impl<const N: usize> Default for VoicePool<N> {
    fn default() -> Self {
        Self {
            voices: core::array::from_fn(|_| ToneVoice::default()),
        }
    }
}

impl<const N: usize> VoicePool<N> {
    /// The voice to use for a new note.
    pub fn allocate(&mut self) -> &mut ToneVoice {
        let mut best = 0;
        let mut best_level = f32::INFINITY;
        for (i, v) in self.voices.iter().enumerate() {
            if !v.active() {
                best = i;
                break;
            }
            if v.level() < best_level {
                best_level = v.level();
                best = i;
            }
        }
        &mut self.voices[best]
    }

    /// Adds every sounding voice to `left` and `right`.
    pub fn render_add(&mut self, left: &mut [f32], right: &mut [f32]) {
        for v in self.voices.iter_mut() {
            v.render_add(left, right);
        }
    }

    /// How many voices sound.
    pub fn active(&self) -> usize {
        self.voices.iter().filter(|v| v.active()).count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn note_rises_then_decays_60_db_over_decay_time() {
        let sr = 48_000.0;
        let mut v = ToneVoice::default();
        v.start(sr, 440.0, 1.0, 0.005, 1.0, 0.0, 0.0);
        let mut l = vec![0.0; 48_000];
        let mut r = vec![0.0; 48_000];
        for (a, b) in l.chunks_mut(64).zip(r.chunks_mut(64)) {
            v.render_add(a, b);
        }
        let peak = |x: &[f32]| x.iter().fold(0.0f32, |m, s| m.max(s.abs()));
        let early = peak(&l[240..960]);
        let late = peak(&l[46_000..47_000]);
        assert!(early > 0.6, "{early}");
        assert!(late < early * 0.0015, "{late}");
        assert!(peak(&l[..24]) < 0.1, "attack must be gradual");
    }

    #[test]
    fn pool_steals_the_quietest_voice() {
        let sr = 48_000.0;
        let mut pool = VoicePool::<2>::default();
        pool.allocate().start(sr, 220.0, 1.0, 0.001, 2.0, 0.0, 0.0);
        pool.allocate().start(sr, 330.0, 0.1, 0.001, 2.0, 0.0, 0.0);
        let mut l = vec![0.0; 256];
        let mut r = vec![0.0; 256];
        pool.render_add(&mut l, &mut r);
        assert_eq!(pool.active(), 2);
        let v = pool.allocate();
        assert!(v.level() < 0.2);
    }
}
