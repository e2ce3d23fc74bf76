//! Coloured noise generators.

use crate::rng::Rng;

/// Pink noise (−3 dB/octave) by Paul Kellet's economy filter: three one-poles on white
/// noise, within ±0.5 dB of pink from 40 Hz to 9 kHz at 44.1–48 kHz. About unit RMS/6.
/// Audio thread; no allocation.
#[derive(Clone, Debug)]
pub struct Pink {
    rng: Rng,
    b: [f32; 3],
}

impl Pink {
    /// Pink noise from the given generator.
    pub fn new(rng: Rng) -> Self {
        Self { rng, b: [0.0; 3] }
    }

    /// Next sample (RMS about 0.13 with peaks near ±0.6). An endless stream, so not an
    /// `Iterator` (whose `next` would wrap every sample in an `Option`).
    #[allow(clippy::should_implement_trait)]
    #[inline(always)]
    pub fn next(&mut self) -> f32 {
        let w = self.rng.bipolar();
        self.b[0] = 0.99765 * self.b[0] + w * 0.099_046;
        self.b[1] = 0.963 * self.b[1] + w * 0.296_516_4;
        self.b[2] = 0.57 * self.b[2] + w * 1.052_691_3;
        (self.b[0] + self.b[1] + self.b[2] + w * 0.1848) * 0.11
    }
}

/// Brown (red) noise: leaky-integrated white noise, −6 dB/octave above ~5 Hz.
#[derive(Clone, Debug)]
pub struct Brown {
    rng: Rng,
    y: f32,
}

impl Brown {
    /// Brown noise from the given generator.
    pub fn new(rng: Rng) -> Self {
        Self { rng, y: 0.0 }
    }

    /// Next sample (RMS about 0.13). An endless stream, as [`Pink::next`].
    #[allow(clippy::should_implement_trait)]
    #[inline(always)]
    pub fn next(&mut self) -> f32 {
        self.y = self.y * 0.9993 + self.rng.bipolar() * 0.02;
        self.y * 0.9
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn band_power(x: &[f32], sr: f32, lo: f32, hi: f32) -> f32 {
        // Goertzel over a handful of bins in [lo, hi].
        let n = x.len();
        let mut total = 0.0;
        let steps = 8;
        for s in 0..steps {
            let f = lo * (hi / lo).powf(s as f32 / (steps - 1) as f32);
            let w = 2.0 * core::f32::consts::PI * f / sr;
            let (mut s1, mut s2) = (0.0f64, 0.0f64);
            let c = 2.0 * (w as f64).cos();
            for &v in x {
                let s0 = v as f64 + c * s1 - s2;
                s2 = s1;
                s1 = s0;
            }
            total += ((s1 * s1 + s2 * s2 - c * s1 * s2) / n as f64) as f32;
        }
        total / steps as f32
    }

    #[test]
    fn pink_falls_about_3_db_per_octave() {
        let mut p = Pink::new(Rng::new(3, 0));
        let x: Vec<f32> = (0..1 << 17).map(|_| p.next()).collect();
        let low = band_power(&x, 48_000.0, 200.0, 400.0);
        let high = band_power(&x, 48_000.0, 3200.0, 6400.0);
        // four octaves apart: about 12 dB
        let drop = 10.0 * (low / high).log10();
        assert!((8.0..16.0).contains(&drop), "drop {drop} dB");
        assert!(x.iter().all(|v| v.abs() < 1.0));
    }
}
