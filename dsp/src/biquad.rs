//! Second-order filter sections (RBJ audio-EQ cookbook), for the mix's equaliser and
//! its mono low end.

/// Coefficients of one second-order section, normalised (a0 = 1).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Coefficients {
    b: [f32; 3],
    a: [f32; 2],
}

impl Coefficients {
    /// Passes everything unchanged.
    pub const IDENTITY: Self = Self {
        b: [1.0, 0.0, 0.0],
        a: [0.0, 0.0],
    };

    fn normalise(b: [f64; 3], a: [f64; 3]) -> Self {
        Self {
            b: [
                (b[0] / a[0]) as f32,
                (b[1] / a[0]) as f32,
                (b[2] / a[0]) as f32,
            ],
            a: [(a[1] / a[0]) as f32, (a[2] / a[0]) as f32],
        }
    }

    fn omega(hz: f32, sample_rate: f32) -> (f64, f64) {
        let w = core::f64::consts::TAU * (hz as f64).clamp(1.0, 0.45 * sample_rate as f64)
            / sample_rate as f64;
        (w.cos(), w.sin())
    }

    /// A high-pass at `hz` with quality `q` (0.7071 for Butterworth).
    pub fn high_pass(hz: f32, q: f32, sample_rate: f32) -> Self {
        let (c, s) = Self::omega(hz, sample_rate);
        let alpha = s / (2.0 * q as f64);
        Self::normalise(
            [(1.0 + c) / 2.0, -(1.0 + c), (1.0 + c) / 2.0],
            [1.0 + alpha, -2.0 * c, 1.0 - alpha],
        )
    }

    /// A bell (peaking) filter at `hz`, `db` of gain, quality `q`.
    pub fn peak(hz: f32, q: f32, db: f32, sample_rate: f32) -> Self {
        if db == 0.0 {
            return Self::IDENTITY;
        }
        let a = 10f64.powf(db as f64 / 40.0);
        let (c, s) = Self::omega(hz, sample_rate);
        let alpha = s / (2.0 * q as f64);
        Self::normalise(
            [1.0 + alpha * a, -2.0 * c, 1.0 - alpha * a],
            [1.0 + alpha / a, -2.0 * c, 1.0 - alpha / a],
        )
    }

    /// A low (`high` false) or high shelf at `hz` with `db` of gain and slope 1.
    pub fn shelf(hz: f32, db: f32, high: bool, sample_rate: f32) -> Self {
        if db == 0.0 {
            return Self::IDENTITY;
        }
        let a = 10f64.powf(db as f64 / 40.0);
        let (c, s) = Self::omega(hz, sample_rate);
        let alpha = s / 2.0 * 2f64.sqrt();
        let sq = 2.0 * a.sqrt() * alpha;
        if high {
            Self::normalise(
                [
                    a * ((a + 1.0) + (a - 1.0) * c + sq),
                    -2.0 * a * ((a - 1.0) + (a + 1.0) * c),
                    a * ((a + 1.0) + (a - 1.0) * c - sq),
                ],
                [
                    (a + 1.0) - (a - 1.0) * c + sq,
                    2.0 * ((a - 1.0) - (a + 1.0) * c),
                    (a + 1.0) - (a - 1.0) * c - sq,
                ],
            )
        } else {
            Self::normalise(
                [
                    a * ((a + 1.0) - (a - 1.0) * c + sq),
                    2.0 * a * ((a - 1.0) - (a + 1.0) * c),
                    a * ((a + 1.0) - (a - 1.0) * c - sq),
                ],
                [
                    (a + 1.0) + (a - 1.0) * c + sq,
                    -2.0 * ((a - 1.0) + (a + 1.0) * c),
                    (a + 1.0) + (a - 1.0) * c - sq,
                ],
            )
        }
    }

    /// Whether it passes everything unchanged.
    pub fn is_identity(&self) -> bool {
        *self == Self::IDENTITY
    }
}

/// One channel of a second-order section (transposed direct form II). Audio thread.
#[derive(Clone, Copy, Debug, Default)]
pub struct Biquad {
    s: [f32; 2],
}

impl Biquad {
    /// Filters `x` in place with `k`.
    #[inline]
    pub fn process(&mut self, k: &Coefficients, x: &mut [f32]) {
        let [mut s1, mut s2] = self.s;
        for v in x.iter_mut() {
            let i = *v;
            let o = k.b[0] * i + s1;
            s1 = k.b[1] * i - k.a[0] * o + s2;
            s2 = k.b[2] * i - k.a[1] * o;
            *v = o;
        }
        // flush what would decay into denormals
        if s1.abs() < 1e-20 {
            s1 = 0.0;
        }
        if s2.abs() < 1e-20 {
            s2 = 0.0;
        }
        self.s = [s1, s2];
    }

    /// Clears the state.
    pub fn reset(&mut self) {
        self.s = [0.0; 2];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gain_db(k: &Coefficients, hz: f32, sr: f32) -> f32 {
        let mut f = Biquad::default();
        let n = (sr * 2.0) as usize;
        let mut x: Vec<f32> = (0..n)
            .map(|i| (core::f32::consts::TAU * hz * i as f32 / sr).sin())
            .collect();
        f.process(k, &mut x);
        let tail = &x[n / 2..];
        let rms = (tail.iter().map(|v| v * v).sum::<f32>() / tail.len() as f32).sqrt();
        20.0 * (rms * 2f32.sqrt()).log10()
    }

    #[test]
    fn responses_match_their_design() {
        let sr = 48_000.0;
        let hp = Coefficients::high_pass(150.0, core::f32::consts::FRAC_1_SQRT_2, sr);
        assert!((gain_db(&hp, 150.0, sr) + 3.0).abs() < 0.3);
        assert!(gain_db(&hp, 37.5, sr) < -23.0);
        assert!(gain_db(&hp, 2000.0, sr).abs() < 0.1);
        let pk = Coefficients::peak(320.0, 0.9, -4.0, sr);
        assert!((gain_db(&pk, 320.0, sr) + 4.0).abs() < 0.2);
        assert!(gain_db(&pk, 5000.0, sr).abs() < 0.3);
        let hs = Coefficients::shelf(4000.0, 3.0, true, sr);
        assert!((gain_db(&hs, 15000.0, sr) - 3.0).abs() < 0.4);
        assert!(gain_db(&hs, 200.0, sr).abs() < 0.1);
        let ls = Coefficients::shelf(120.0, -3.0, false, sr);
        assert!((gain_db(&ls, 30.0, sr) + 3.0).abs() < 0.4);
        assert!(gain_db(&ls, 3000.0, sr).abs() < 0.1);
        assert!(Coefficients::peak(320.0, 0.9, 0.0, sr).is_identity());
    }
}
