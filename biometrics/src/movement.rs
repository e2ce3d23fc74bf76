//! Movement from accelerometer readings: statistics of the acceleration magnitude.
//!
//! For readings in g: the mean and standard deviation of |a| (a still wearer reads a
//! mean near 1 g and a small SD), and ENMO, the mean of max(|a| - 1 g, 0) (van Hees et
//! al. 2013), a common activity measure. Readings whose magnitude is not finite or above
//! `MAX_G` are rejected. Runs on the control thread.

/// Largest plausible acceleration magnitude, g (wrist sensors range ±8 or ±16 g).
pub const MAX_G: f64 = 16.0;

/// Acceleration-magnitude statistics over a window.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Movement {
    /// Readings used.
    pub n: usize,
    /// Readings rejected.
    pub rejected: usize,
    /// Mean |a|, g.
    pub mean_g: Option<f64>,
    /// Standard deviation of |a| (ddof = 1), g.
    pub sd_g: Option<f64>,
    /// Mean of max(|a| - 1, 0), g.
    pub enmo_g: Option<f64>,
}

/// Whether a reading is usable; returns its magnitude.
pub fn magnitude(a: [f32; 3]) -> Option<f64> {
    let m = a
        .iter()
        .map(|v| (*v as f64) * (*v as f64))
        .sum::<f64>()
        .sqrt();
    (m.is_finite() && m <= MAX_G).then_some(m)
}

/// Statistics of the readings `acc` (x, y, z in g).
pub fn movement<'a>(acc: impl IntoIterator<Item = &'a [f32; 3]>) -> Movement {
    let mut m = Movement::default();
    let (mut sum, mut sq, mut enmo) = (0.0, 0.0, 0.0);
    for a in acc {
        match magnitude(*a) {
            Some(g) => {
                m.n += 1;
                sum += g;
                sq += g * g;
                enmo += (g - 1.0).max(0.0);
            }
            None => m.rejected += 1,
        }
    }
    if m.n > 0 {
        let n = m.n as f64;
        let mean = sum / n;
        m.mean_g = Some(mean);
        m.enmo_g = Some(enmo / n);
        if m.n > 1 {
            m.sd_g = Some(((sq - n * mean * mean) / (n - 1.0)).max(0.0).sqrt());
        }
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn still_and_moving_wearers_differ_and_bad_readings_are_rejected() {
        let still = [[0.0, 0.0, 1.0f32]; 50];
        let m = movement(still.iter());
        assert!((m.mean_g.unwrap() - 1.0).abs() < 1e-9);
        assert!(m.sd_g.unwrap() < 1e-9 && m.enmo_g.unwrap() < 1e-9);
        let moving: Vec<[f32; 3]> = (0..50)
            .map(|i| [0.0, 0.5 * (i as f32 * 0.7).sin(), 1.0])
            .chain([[f32::NAN, 0.0, 0.0], [40.0, 0.0, 0.0]])
            .collect();
        let m = movement(moving.iter());
        assert_eq!((m.n, m.rejected), (50, 2));
        assert!(m.sd_g.unwrap() > 0.02 && m.enmo_g.unwrap() > 0.02);
        assert_eq!(movement([].iter()).mean_g, None);
    }
}
