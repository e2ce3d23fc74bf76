//! A slow leveler: keeps the mix's loudness steady over minutes while chords, voicings
//! and sections change, and makes it follow energy, so a calming move never gets louder.

/// Seconds over which the mix's power is averaged (several breaths, so the breathing
/// swell passes through).
const AVERAGE_S: f32 = 15.0;
/// Fastest gain change, dB per second.
const SLEW_DB_PER_S: f32 = 0.4;

/// Compares the mix's power, averaged over 15 s, with a reference (the mix's power at
/// the preset's starting values, measured at calibration) moved by `energy_db` per unit
/// of energy away from the starting energy, and turns the gain toward the difference at
/// 0.4 dB/s at most, within ±`range_db`. Without a reference it passes the mix
/// unchanged. Audio thread; no allocation.
#[derive(Clone, Debug)]
pub struct Leveler {
    reference: Option<f32>,
    power: f32,
    gain_db: f32,
    range_db: f32,
    energy_db: f32,
    energy0: f32,
    sum: f64,
    blocks: u64,
}

impl Leveler {
    /// A leveler toward `reference` (mean square of the mix at the starting values; none:
    /// off), `range_db` either way, `energy_db` per unit of energy from `energy0`.
    pub fn new(reference: Option<f32>, range_db: f32, energy_db: f32, energy0: f32) -> Self {
        let reference = reference.filter(|r| r.is_finite() && *r > 1e-12 && range_db > 0.0);
        Self {
            reference,
            power: reference.unwrap_or(0.0),
            gain_db: 0.0,
            range_db,
            energy_db,
            energy0,
            sum: 0.0,
            blocks: 0,
        }
    }

    /// Takes in one block of the mix (`left`, `right`) lasting `dt` seconds.
    pub fn measure(&mut self, left: &[f32], right: &[f32], dt: f32) {
        let n = left.len().max(1) as f32;
        let p = left.iter().chain(right).map(|x| x * x).sum::<f32>() / (2.0 * n);
        if !p.is_finite() {
            return;
        }
        self.sum += p as f64;
        self.blocks += 1;
        self.power += (p - self.power) * (dt / AVERAGE_S).min(1.0);
    }

    /// The mean square of everything measured since it was built (for calibration).
    pub fn mean_power(&self) -> f32 {
        if self.blocks == 0 {
            0.0
        } else {
            (self.sum / self.blocks as f64) as f32
        }
    }

    /// The linear gain for the next block at `energy`, `dt` seconds on.
    pub fn gain(&mut self, energy: f32, dt: f32) -> f32 {
        let Some(reference) = self.reference else {
            return 1.0;
        };
        let target = reference * 10f32.powf(self.energy_db * (energy - self.energy0) / 10.0);
        let want =
            (10.0 * (target / self.power.max(1e-12)).log10()).clamp(-self.range_db, self.range_db);
        let step = SLEW_DB_PER_S * dt;
        self.gain_db += (want - self.gain_db).clamp(-step, step);
        10f32.powf(self.gain_db / 20.0)
    }

    /// The gain now, dB.
    pub fn gain_db(&self) -> f32 {
        self.gain_db
    }

    /// Forgets the average (after a NaN, say): back to the reference, gain unchanged.
    pub fn reset(&mut self) {
        self.power = self.reference.unwrap_or(0.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holds_loudness_steady_and_follows_energy() {
        let mut l = Leveler::new(Some(0.01), 6.0, 6.0, 0.5);
        let quiet = vec![0.05f32; 64]; // 0.0025: 6 dB under the reference
        let dt = 64.0 / 48_000.0;
        let mut g = 1.0;
        for _ in 0..(120.0 / dt) as usize {
            l.measure(&quiet, &quiet, dt);
            g = l.gain(0.5, dt);
        }
        assert!((20.0 * g.log10() - 6.0).abs() < 0.3, "{}", 20.0 * g.log10());
        // a calmer energy asks for less
        for _ in 0..(60.0 / dt) as usize {
            l.measure(&quiet, &quiet, dt);
            g = l.gain(0.0, dt);
        }
        assert!((20.0 * g.log10() - 3.0).abs() < 0.3, "{}", 20.0 * g.log10());
        let mut off = Leveler::new(None, 6.0, 6.0, 0.5);
        off.measure(&quiet, &quiet, dt);
        assert_eq!(off.gain(1.0, dt), 1.0);
    }
}
