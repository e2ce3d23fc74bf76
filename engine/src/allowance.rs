//! The sound-allowance meter, after WHO-ITU H.870 (2019/2022) safe listening.
//!
//! H.870 sets a weekly sound-dose allowance: 80 dB(A) for 40 hours a week for adults
//! (≈ 1.6 Pa²·h), 75 dB(A) for 40 hours for children (≈ 0.51 Pa²·h), with the
//! equal-energy rule (every +3 dB halves the time). The meter converts the output level
//! to sound pressure with a calibration (dB SPL produced by a 0 dBFS RMS signal on the
//! listener's headphones or speakers) and integrates p² over time.
//!
//! Without a calibration the meter assumes [`ASSUMED_CALIBRATION_DB`] (typical consumer
//! headphones at full volume) and says so: the figure is then an estimate, not a
//! measurement. The output is measured unweighted (Z), which for these low- and
//! mid-frequency soundscapes reads at or above the A-weighted level, so the dose errs on
//! the safe side.
//!
//! A hard cap ([`AllowanceConfig::cap_db_spl`], for sleep and child modes) lowers the
//! loudness target and the ceiling before the session starts so the level cannot exceed
//! it; H.870 recommends 95 dB(A) where dose is not measured and infant sleep machines
//! keep to 50 dB(A).
//!
//! Runs on the control thread.

use serde::Serialize;

/// dB SPL assumed for 0 dBFS RMS when no calibration is given.
pub const ASSUMED_CALIBRATION_DB: f64 = 100.0;

/// Reference sound pressure, Pa.
const P0: f64 = 20e-6;

/// Who is listening: decides the weekly allowance.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Listener {
    /// 80 dB(A) for 40 h a week.
    #[default]
    Adult,
    /// 75 dB(A) for 40 h a week.
    Child,
}

impl Listener {
    /// The weekly reference level, dB(A), over 40 hours.
    pub fn weekly_level_db(self) -> f64 {
        match self {
            Listener::Adult => 80.0,
            Listener::Child => 75.0,
        }
    }

    /// The weekly dose allowance, Pa²·h.
    pub fn weekly_dose_pa2h(self) -> f64 {
        pressure_sq(self.weekly_level_db()) * 40.0
    }
}

/// How the meter is set up.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct AllowanceConfig {
    /// dB SPL at the ear for a 0 dBFS RMS signal.
    pub calibration_db: f64,
    /// Whether `calibration_db` was measured (given by the user) or assumed.
    pub calibrated: bool,
    /// Who is listening.
    pub listener: Listener,
    /// Hard cap on the level, dB SPL, if any.
    pub cap_db_spl: Option<f64>,
}

impl Default for AllowanceConfig {
    fn default() -> Self {
        Self {
            calibration_db: ASSUMED_CALIBRATION_DB,
            calibrated: false,
            listener: Listener::Adult,
            cap_db_spl: None,
        }
    }
}

impl AllowanceConfig {
    /// The loudness target and ceiling (dBFS) that keep a session under the cap:
    /// `(loudness, ceiling)` lowered as needed, unchanged without a cap.
    pub fn capped(&self, loudness_dbfs: f32, ceiling_dbfs: f32) -> (f32, f32) {
        match self.cap_db_spl {
            None => (loudness_dbfs, ceiling_dbfs),
            Some(cap) => {
                let max_dbfs = (cap - self.calibration_db) as f32;
                (
                    loudness_dbfs.min(max_dbfs),
                    ceiling_dbfs.min(max_dbfs + 10.0),
                )
            }
        }
    }
}

fn pressure_sq(db_spl: f64) -> f64 {
    P0 * P0 * 10f64.powf(db_spl / 10.0)
}

/// The running dose.
#[derive(Clone, Debug, Serialize)]
pub struct SoundAllowance {
    config: AllowanceConfig,
    dose_pa2h: f64,
    seconds: f64,
    energy_s: f64,
    max_level_db: f64,
}

impl SoundAllowance {
    /// A meter at zero.
    pub fn new(config: AllowanceConfig) -> Self {
        Self {
            config,
            dose_pa2h: 0.0,
            seconds: 0.0,
            energy_s: 0.0,
            max_level_db: f64::NEG_INFINITY,
        }
    }

    /// The setup.
    pub fn config(&self) -> &AllowanceConfig {
        &self.config
    }

    /// Adds `seconds` of output at mean-square level `rms` (linear, full scale 1).
    pub fn add(&mut self, seconds: f64, rms: f64) {
        if !(seconds.is_finite() && seconds > 0.0 && rms.is_finite() && rms >= 0.0) {
            return;
        }
        let ms = rms * rms;
        let p2 = pressure_sq(self.config.calibration_db) * ms;
        self.dose_pa2h += p2 * seconds / 3600.0;
        self.seconds += seconds;
        self.energy_s += ms * seconds;
        if ms > 0.0 {
            self.max_level_db = self.max_level_db.max(self.level_db(rms));
        }
    }

    /// The SPL of an output at RMS `rms`, dB.
    pub fn level_db(&self, rms: f64) -> f64 {
        self.config.calibration_db + 20.0 * rms.max(1e-12).log10()
    }

    /// Dose so far, Pa²·h.
    pub fn dose_pa2h(&self) -> f64 {
        self.dose_pa2h
    }

    /// Share of the weekly allowance used so far (1 = all of it).
    pub fn used(&self) -> f64 {
        self.dose_pa2h / self.config.listener.weekly_dose_pa2h()
    }

    /// Equivalent continuous level over the time metered, dB SPL.
    pub fn leq_db(&self) -> Option<f64> {
        (self.seconds > 0.0 && self.energy_s > 0.0)
            .then(|| self.config.calibration_db + 10.0 * (self.energy_s / self.seconds).log10())
    }

    /// Loudest metered stretch, dB SPL.
    pub fn max_level_db(&self) -> Option<f64> {
        self.max_level_db.is_finite().then_some(self.max_level_db)
    }

    /// Seconds metered.
    pub fn seconds(&self) -> f64 {
        self.seconds
    }

    /// Hours of listening a week at the current `leq` before the allowance is used up.
    pub fn weekly_hours_at_leq(&self) -> Option<f64> {
        self.leq_db()
            .map(|l| self.config.listener.weekly_dose_pa2h() / pressure_sq(l))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn who_itu_weekly_allowances() {
        assert!((Listener::Adult.weekly_dose_pa2h() - 1.6).abs() < 1e-9);
        assert!((Listener::Child.weekly_dose_pa2h() - 0.506).abs() < 1e-3);
    }

    #[test]
    fn forty_hours_at_80_db_is_the_whole_allowance_and_3_db_halves_it() {
        let cal = AllowanceConfig {
            calibration_db: 100.0,
            calibrated: true,
            ..Default::default()
        };
        let mut m = SoundAllowance::new(cal);
        let rms_80 = 10f64.powf(-20.0 / 20.0); // -20 dBFS → 80 dB SPL
        m.add(40.0 * 3600.0, rms_80);
        assert!((m.used() - 1.0).abs() < 1e-9, "{}", m.used());
        assert!((m.leq_db().unwrap() - 80.0).abs() < 1e-9);
        let mut m = SoundAllowance::new(cal);
        m.add(20.0 * 3600.0, rms_80 * 10f64.powf(3.0103 / 20.0));
        assert!((m.used() - 1.0).abs() < 1e-4, "{}", m.used());
        assert!((m.weekly_hours_at_leq().unwrap() - 20.0).abs() < 0.01);
    }

    #[test]
    fn cap_lowers_loudness_and_ceiling() {
        let c = AllowanceConfig {
            calibration_db: 100.0,
            calibrated: true,
            cap_db_spl: Some(60.0),
            ..Default::default()
        };
        assert_eq!(c.capped(-24.0, -1.0), (-40.0, -30.0));
        assert_eq!(
            AllowanceConfig::default().capped(-24.0, -1.0),
            (-24.0, -1.0)
        );
    }
}
