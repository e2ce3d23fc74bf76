//! A stereo four-pole resonant low-pass: the linear zero-delay-feedback (TPT) Moog ladder.

/// Stereo linear ladder low-pass, after Zavalishin, *The Art of VA Filter Design* (2018),
/// ch. 5: four trapezoidal one-poles in series with the feedback loop solved exactly, so
/// cutoff and resonance respond as the analogue prototype's up to near Nyquist. Without
/// per-stage saturation it costs a few multiply-adds per sample (the serial chain is the
/// whole price); coefficients are recomputed once per block. Audio thread; no allocation.
#[derive(Clone, Debug)]
pub struct Ladder {
    s: [[f32; 4]; 2],
    sample_rate: f32,
}

impl Ladder {
    /// A filter at rest for `sample_rate`.
    pub fn new(sample_rate: f32) -> Self {
        Self {
            s: [[0.0; 4]; 2],
            sample_rate,
        }
    }

    /// Clears the state (after a NaN, say).
    pub fn reset(&mut self) {
        self.s = [[0.0; 4]; 2];
    }

    /// Filters `left` and `right` in place with `cutoff_hz` and feedback `k` (0 = none,
    /// 4 = self-oscillation; 1.2 is "resonance 0.3").
    pub fn process(&mut self, left: &mut [f32], right: &mut [f32], cutoff_hz: f32, k: f32) {
        let fc = cutoff_hz.clamp(10.0, self.sample_rate * 0.45);
        let g = (core::f32::consts::PI * fc / self.sample_rate).tan();
        let big_g = g / (1.0 + g);
        let beta = 1.0 / (1.0 + g);
        let g2 = big_g * big_g;
        let g3 = g2 * big_g;
        let g4 = g2 * g2;
        let k = k.clamp(0.0, 3.99);
        let inv_den = 1.0 / (1.0 + k * g4);
        let [mut a, mut b] = self.s;
        for (l, r) in left.iter_mut().zip(right.iter_mut()) {
            *l = Self::tick(&mut a, *l, big_g, beta, g2, g3, k, inv_den);
            *r = Self::tick(&mut b, *r, big_g, beta, g2, g3, k, inv_den);
        }
        self.s = [a, b];
    }

    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    fn tick(
        s: &mut [f32; 4],
        x: f32,
        g: f32,
        beta: f32,
        g2: f32,
        g3: f32,
        k: f32,
        inv_den: f32,
    ) -> f32 {
        let sum = (g3 * s[0] + g2 * s[1] + g * s[2] + s[3]) * beta;
        let mut u = (x - k * sum) * inv_den;
        for st in s.iter_mut() {
            let v = (u - *st) * g;
            let y = v + *st;
            *st = y + v;
            u = y;
        }
        u
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::osc::sin_turns;

    fn gain_at(hz: f32, cutoff: f32, k: f32) -> f32 {
        let sr = 48_000.0;
        let mut f = Ladder::new(sr);
        let n = 48_000;
        let mut l: Vec<f32> = (0..n)
            .map(|i| sin_turns((i as f32 * hz / sr).fract()))
            .collect();
        let mut r = l.clone();
        for (cl, cr) in l.chunks_mut(64).zip(r.chunks_mut(64)) {
            f.process(cl, cr, cutoff, k);
        }
        let tail = &l[n / 2..];
        (tail.iter().map(|v| v * v).sum::<f32>() / tail.len() as f32 * 2.0).sqrt()
    }

    #[test]
    fn four_poles_roll_off_24_db_per_octave() {
        let pass = gain_at(100.0, 1000.0, 0.0);
        let g4k = gain_at(4000.0, 1000.0, 0.0);
        let g8k = gain_at(8000.0, 1000.0, 0.0);
        assert!((pass - 1.0).abs() < 0.02, "passband {pass}");
        let slope = 20.0 * (g4k / g8k).log10();
        assert!((20.0..28.0).contains(&slope), "slope {slope} dB/oct");
    }

    #[test]
    fn resonance_lowers_passband_and_peaks_near_cutoff() {
        // Linear ladder: DC gain 1/(1+k); the peak near cutoff rises with k.
        let pass = gain_at(50.0, 1000.0, 3.0);
        assert!((pass - 0.25).abs() < 0.02, "passband {pass}");
        assert!(gain_at(1000.0, 1000.0, 3.0) > pass * 1.5);
    }
}
