//! The breath guide: a soft tone (and, if asked, a breath of air) to breathe with.

use super::Block;
use crate::compose::Score;
use crate::config::BreathConfig;
use crate::music::midi_hz;
use crate::noise::Pink;
use crate::osc::{sin_turns, wrap};
use crate::rng::Rng;

/// The breath swell at breath phase `phase` (0..1): a raised-cosine rise over the
/// in-breath (the first `inhale` of the cycle) and a raised-cosine fall over the
/// out-breath. 0 at the start of each in-breath, 1 at its end; smooth at both joins.
#[inline]
pub fn breath_swell(phase: f32, inhale: f32) -> f32 {
    let h = inhale.clamp(0.05, 0.95);
    if phase < h {
        0.5 - 0.5 * (core::f32::consts::PI * phase / h).cos()
    } else {
        0.5 + 0.5 * (core::f32::consts::PI * (phase - h) / (1.0 - h)).cos()
    }
}

/// A soft tonal swell on the chord's root and fifth that rises on the in-breath and
/// falls on the out-breath (its second harmonic opening as it rises), and optionally band-passed pink
/// noise that does the same (like air drawn in). The tone takes the chord sounding only
/// near the bottom of the breath, so it never jumps while it is heard. The swell itself
/// is computed by the soundscape (it also moves the pad's level and filter).
#[derive(Clone, Debug)]
pub struct BreathGuide {
    noise: [Pink; 2],
    // state-variable filter state per channel (ic1eq, ic2eq), then a one-pole low-pass
    svf: [[f32; 2]; 2],
    lp: [f32; 2],
    center: f32,
    tone: f32,
    air: f32,
    tone_tonic: i32,
    notes: [f32; 2],
    phase: [f32; 2],
}

impl BreathGuide {
    /// A breath guide drawing from `rng`.
    pub fn new(cfg: &BreathConfig, rng: &mut Rng) -> Self {
        Self {
            noise: [
                Pink::new(Rng::new(rng.next_u32() as u64, 21)),
                Pink::new(Rng::new(rng.next_u32() as u64, 22)),
            ],
            svf: [[0.0; 2]; 2],
            lp: [0.0; 2],
            center: cfg.center_hz,
            tone: cfg.tone,
            air: cfg.air,
            tone_tonic: 12 * (cfg.tone_octave + 1),
            notes: [0.0; 2],
            phase: [0.0, 0.25],
        }
    }

    /// Clears filter state.
    pub fn reset(&mut self) {
        self.svf = [[0.0; 2]; 2];
        self.lp = [0.0; 2];
    }

    /// Renders one block into `left`/`right` (overwriting); `swell` is the swell at the
    /// start and end of the block. Output level follows swell².
    pub fn render(
        &mut self,
        b: &Block,
        score: &Score,
        swell: [f32; 2],
        left: &mut [f32],
        right: &mut [f32],
    ) {
        let n = b.frames;
        left[..n].fill(0.0);
        right[..n].fill(0.0);
        if self.tone > 0.0 {
            self.render_tone(b, score, swell, left, right);
        }
        if self.air > 0.0 {
            self.render_air(b, swell, left, right);
        }
    }

    fn render_tone(
        &mut self,
        b: &Block,
        score: &Score,
        swell: [f32; 2],
        left: &mut [f32],
        right: &mut [f32],
    ) {
        let n = b.frames;
        if swell[0].max(swell[1]) < 0.02 || self.notes[0] == 0.0 {
            // near silence: take the chord sounding (root and fifth in the tone's octave)
            let pc = (score.key.pitch_class() as i32 + score.chord.root).rem_euclid(12);
            let root = self.tone_tonic + pc;
            self.notes = [
                midi_hz(root as f32),
                midi_hz((root + score.chord.tones[1]) as f32),
            ];
        }
        let g0 = swell[0] * swell[0] * self.tone * 0.12;
        let g1 = swell[1] * swell[1] * self.tone * 0.12;
        let h = 0.25 * (0.5 * (swell[0] + swell[1])) * (0.5 + b.brightness);
        let dg = (g1 - g0) / n as f32;
        let inc = [self.notes[0] / b.sample_rate, self.notes[1] / b.sample_rate];
        let mut g = g0;
        for i in 0..n {
            g += dg;
            let mut x = 0.0;
            for (phase, inc) in self.phase.iter_mut().zip(inc) {
                *phase = wrap(*phase + inc);
                let p = *phase;
                x += sin_turns(p) + h * sin_turns(wrap(2.0 * p));
            }
            let y = x * g;
            left[i] += y;
            right[i] += y;
        }
    }

    fn render_air(&mut self, b: &Block, swell: [f32; 2], left: &mut [f32], right: &mut [f32]) {
        let n = b.frames;
        let mid = 0.5 * (swell[0] + swell[1]);
        let fc =
            (self.center * (0.6 + 0.8 * mid) * (0.8 + 0.4 * b.brightness)).min(b.sample_rate * 0.4);
        // TPT state-variable band-pass (Simper), Q = 1.4
        let g = (core::f32::consts::PI * fc / b.sample_rate).tan();
        let k = 1.0 / 1.4;
        let a1 = 1.0 / (1.0 + g * (g + k));
        let a2 = g * a1;
        let a3 = g * a2;
        // the band-pass skirts fall only 6 dB/octave: a one-pole at 3× the centre keeps
        // the air soft rather than hissing
        let lp_a = 1.0
            - (-core::f32::consts::TAU * (3.0 * fc).min(b.sample_rate * 0.45) / b.sample_rate)
                .exp();
        let g0 = swell[0] * swell[0] * self.air;
        let g1 = swell[1] * swell[1] * self.air;
        let dg = (g1 - g0) / n as f32;
        for (ch, out) in [&mut *left, &mut *right].into_iter().enumerate() {
            let [mut ic1, mut ic2] = self.svf[ch];
            let mut lp = self.lp[ch];
            let mut gain = g0;
            for o in out[..n].iter_mut() {
                let x = self.noise[ch].next();
                let v3 = x - ic2;
                let v1 = a1 * ic1 + a2 * v3;
                let v2 = ic2 + a2 * ic1 + a3 * v3;
                ic1 = 2.0 * v1 - ic1;
                ic2 = 2.0 * v2 - ic2;
                lp += (v1 - lp) * lp_a;
                gain += dg;
                *o += lp * 2.5 * gain;
            }
            self.svf[ch] = [ic1, ic2];
            self.lp[ch] = lp;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn swell_rises_over_the_inhale_and_is_continuous() {
        assert!(breath_swell(0.0, 0.4) < 1e-6);
        assert!((breath_swell(0.4, 0.4) - 1.0).abs() < 1e-6);
        assert!(breath_swell(0.999, 0.4) < 1e-3);
        let mut prev = breath_swell(0.0, 0.4);
        for i in 1..=1000 {
            let s = breath_swell(i as f32 / 1000.0, 0.4);
            assert!((s - prev).abs() < 0.01);
            prev = s;
        }
    }
}
