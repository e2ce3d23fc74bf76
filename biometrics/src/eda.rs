//! Electrodermal activity: tonic level (SCL), phasic component and skin-conductance
//! responses (SCR), plus the sanity checks that keep a lost or saturated sensor from
//! steering anything.
//!
//! Decomposition follows NeuroKit2 0.2.13's `eda_process` (docs/domain.md conventions):
//! cleaning with a 4th-order Butterworth low-pass at 3 Hz (skipped at 6 Hz or less, e.g.
//! Empatica's 4 Hz), then tonic = 2nd-order Butterworth low-pass at 0.05 Hz and phasic =
//! 2nd-order high-pass at 0.05 Hz, both forward-backward.
//!
//! SCR peaks use an **absolute** amplitude threshold by default
//! ([`ScrThreshold::Absolute`], 0.05 µS): a response is a local maximum of the phasic
//! signal, smoothed by a 2nd-order 1 Hz low-pass (forward-backward; only when the rate
//! exceeds 2.5 Hz), whose topographic prominence reaches 0.05 µS. NeuroKit2 instead keeps
//! peaks whose prominence reaches 10 % of the *largest* prominence in the recording
//! ([`ScrThreshold::RelativeToMax`], offered for comparison): one movement artifact then
//! hides every real response, and on a quiet low-conductance wrist recording the same
//! rule counts sensor noise as responses, which is why counts differ between the two.
//!
//! Runs on the control thread.

use super::filters::{butter, local_maxima, prominences, Band, FilterError};

/// Cut-off between tonic and phasic activity, Hz.
pub const TONIC_CUTOFF_HZ: f64 = 0.05;

/// How SCR peaks are accepted.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ScrThreshold {
    /// Prominence of the smoothed phasic signal at least this many µS.
    Absolute(f64),
    /// NeuroKit2's rule: unsmoothed prominence at least this fraction of the record's
    /// largest prominence (NeuroKit2 uses 0.1). Needs the whole record.
    RelativeToMax(f64),
}

impl Default for ScrThreshold {
    fn default() -> Self {
        ScrThreshold::Absolute(0.05)
    }
}

/// Tonic and phasic components of an EDA signal, µS.
#[derive(Clone, Debug, PartialEq)]
pub struct Decomposition {
    /// The cleaned signal.
    pub clean: Vec<f64>,
    /// Slow level (SCL).
    pub tonic: Vec<f64>,
    /// Fast responses.
    pub phasic: Vec<f64>,
}

/// Splits `eda` (µS, sampled at `fs` Hz, at least 0.2 Hz) into tonic and phasic parts.
pub fn decompose(eda: &[f64], fs: f64) -> Result<Decomposition, FilterError> {
    let clean = if fs > 6.0 {
        butter(4, Band::Lowpass(3.0), fs)?.filtfilt(eda)
    } else {
        eda.to_vec()
    };
    let tonic = butter(2, Band::Lowpass(TONIC_CUTOFF_HZ), fs)?.filtfilt(&clean);
    let phasic = butter(2, Band::Highpass(TONIC_CUTOFF_HZ), fs)?.filtfilt(&clean);
    Ok(Decomposition {
        clean,
        tonic,
        phasic,
    })
}

/// One skin-conductance response.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Scr {
    /// Sample index of the peak.
    pub peak: usize,
    /// Prominence used for the threshold, µS.
    pub amplitude: f64,
}

/// SCR peaks of a phasic signal sampled at `fs` Hz.
pub fn scr_peaks(
    phasic: &[f64],
    fs: f64,
    threshold: ScrThreshold,
) -> Result<Vec<Scr>, FilterError> {
    match threshold {
        ScrThreshold::Absolute(min) => {
            let smooth = if fs > 2.5 {
                butter(2, Band::Lowpass(1.0), fs)?.filtfilt(phasic)
            } else {
                phasic.to_vec()
            };
            let peaks = local_maxima(&smooth);
            let prom = prominences(&smooth, &peaks);
            Ok(peaks
                .into_iter()
                .zip(prom)
                .filter(|(_, (p, _))| *p >= min)
                .map(|(peak, (amplitude, _))| Scr { peak, amplitude })
                .collect())
        }
        ScrThreshold::RelativeToMax(frac) => {
            let peaks = local_maxima(phasic);
            let prom = prominences(phasic, &peaks);
            let max = prom.iter().map(|p| p.0).fold(0.0, f64::max);
            Ok(peaks
                .into_iter()
                .zip(prom)
                .filter(|(_, (p, _))| max > 0.0 && p / max >= frac)
                .map(|(peak, (amplitude, _))| Scr { peak, amplitude })
                .collect())
        }
    }
}

/// Limits that tell a working EDA sensor from a lost, saturated or stuck one.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EdaLimits {
    /// Below this the electrodes are taken to be off the skin, µS (Empatica reads 0).
    pub min_us: f64,
    /// At or above this the sensor is saturated, µS (Empatica E4 range 0.01–100 µS).
    pub max_us: f64,
    /// A run of identical readings at least this long is a stuck sensor, seconds.
    pub flat_s: f64,
}

impl Default for EdaLimits {
    fn default() -> Self {
        Self {
            min_us: 0.01,
            max_us: 100.0,
            flat_s: 10.0,
        }
    }
}

/// Marks samples that cannot be trusted: not finite, out of range, or part of a flat run
/// of at least `limits.flat_s` (`times` in seconds, one per sample).
pub fn invalid_samples(values: &[f64], times: &[f64], limits: &EdaLimits) -> Vec<bool> {
    let n = values.len();
    let mut bad: Vec<bool> = values
        .iter()
        .map(|v| !v.is_finite() || *v < limits.min_us || *v >= limits.max_us)
        .collect();
    let mut i = 0;
    while i < n {
        let mut j = i + 1;
        while j < n && values[j] == values[i] {
            j += 1;
        }
        if j - i > 1 && times[j - 1] - times[i] >= limits.flat_s {
            bad[i..j].iter_mut().for_each(|b| *b = true);
        }
        i = j;
    }
    bad
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tonic_follows_level_and_scrs_are_found_by_absolute_amplitude() {
        let fs = 4.0;
        let n = 600 * 4;
        // 2 uS level drifting to 3 uS, with SCRs (0.3 uS) every 60 s and one tiny 0.01 uS bump
        let mut x: Vec<f64> = (0..n).map(|i| 2.0 + i as f64 / n as f64).collect();
        for k in 0..9 {
            let on = (30 + 60 * k) as f64;
            for (i, v) in x.iter_mut().enumerate() {
                let t = i as f64 / fs - on;
                if t > 0.0 {
                    *v += 0.3 * (1.0 - (-t / 0.75).exp()) * (-t / 3.0).exp() * 2.0;
                }
            }
        }
        for (i, v) in x.iter_mut().enumerate() {
            let t = i as f64 / fs - 575.0;
            *v += 0.01 * (-(t * t) / 2.0).exp();
        }
        let d = decompose(&x, fs).unwrap();
        let mean_t = d.tonic.iter().sum::<f64>() / n as f64;
        let mean_x = x.iter().sum::<f64>() / n as f64;
        assert!((mean_t - mean_x).abs() < 0.02, "{mean_t} vs {mean_x}");
        let s = scr_peaks(&d.phasic, fs, ScrThreshold::default()).unwrap();
        assert_eq!(s.len(), 9, "{s:?}");
        assert!(decompose(&x, 0.0).is_err());
    }

    #[test]
    fn flat_saturated_and_lost_samples_are_flagged() {
        let times: Vec<f64> = (0..100).map(|i| i as f64 * 0.25).collect();
        let mut v: Vec<f64> = (0..100).map(|i| 1.0 + 0.001 * i as f64).collect();
        v[10..60].iter_mut().for_each(|x| *x = 1.5); // 12.25 s flat
        v[70] = 0.0;
        v[71] = f64::NAN;
        v[72] = 150.0;
        let bad = invalid_samples(&v, &times, &EdaLimits::default());
        assert!(bad[10..60].iter().all(|b| *b));
        assert!(bad[70] && bad[71] && bad[72]);
        assert_eq!(bad.iter().filter(|b| **b).count(), 53);
    }
}
