//! Respiration rate, from a respiration waveform when there is one, otherwise from the
//! respiratory sinus arrhythmia in the RR (or pulse) intervals.
//!
//! * **Waveform**: band-pass 0.05–0.8 Hz (3–48 breaths/min; 2nd-order Butterworth,
//!   forward-backward), then breaths are the local maxima whose prominence reaches 30 %
//!   of the median prominence of the clear ones (the top half) and which are at least
//!   1.25 s apart; rate = 60 / median breath interval.
//! * **RSA**: the RR series resampled at 4 Hz (quadratic spline), mean removed, Welch
//!   PSD (Hann window of up to 64 s, 50 % overlap); rate = 60 × the frequency of the
//!   highest spectral peak (a density above both neighbouring bins) within 0.1–0.5 Hz
//!   (6–30 breaths/min; slower breathing shows up in the LF band and is not separable
//!   from baroreflex oscillations there). Requiring a peak matters: in a 60 s window the
//!   largest density in the band is often just the upper skirt of the LF power at the
//!   band's lower edge, which would report 6 breaths/min whatever the breathing. Pulse
//!   intervals from a PPG work the same way.
//!
//! Runs on the control thread.

use super::filters::{butter, local_maxima, median, prominences, Band, FilterError};
use super::hrv::{resample_rr, Psd};
use realfft::RealFftPlanner;

/// Breaths per minute from a respiration waveform `x` sampled at `fs` Hz (at least
/// 20 s of signal); `None` when no regular breathing is found.
pub fn rate_from_waveform(x: &[f64], fs: f64) -> Result<Option<f64>, FilterError> {
    if (x.len() as f64) < 20.0 * fs {
        return Ok(None);
    }
    let f = butter(2, Band::Bandpass(0.05, 0.8), fs)?.filtfilt(x);
    let peaks = local_maxima(&f);
    let prom = prominences(&f, &peaks);
    let mut ps: Vec<f64> = prom.iter().map(|p| p.0).collect();
    ps.sort_by(|a, b| b.total_cmp(a));
    let Some(ref_p) = median(&ps[..ps.len().div_ceil(2)]) else {
        return Ok(None);
    };
    if ref_p <= 0.0 {
        return Ok(None);
    }
    let min_gap = (1.25 * fs) as usize;
    let mut kept: Vec<usize> = Vec::new();
    for (p, (pr, _)) in peaks.iter().zip(&prom) {
        if *pr < 0.3 * ref_p {
            continue;
        }
        match kept.last() {
            Some(&l) if p - l < min_gap => {
                if f[*p] > f[l] {
                    kept.pop();
                    kept.push(*p);
                }
            }
            _ => kept.push(*p),
        }
    }
    let gaps: Vec<f64> = kept.windows(2).map(|w| (w[1] - w[0]) as f64 / fs).collect();
    if gaps.len() < 2 {
        return Ok(None);
    }
    Ok(median(&gaps)
        .map(|g| 60.0 / g)
        .filter(|r| (2.0..=60.0).contains(r)))
}

/// Breaths per minute from respiratory sinus arrhythmia: RR intervals `rr_ms` ending
/// at `times_s`, spanning at least 30 s.
pub fn rate_from_rr(rr_ms: &[f64], times_s: &[f64]) -> Option<f64> {
    let n = rr_ms.len();
    if n < 10 || times_s[n - 1] - times_s[0] < 30.0 {
        return None;
    }
    let fs = 4.0;
    let sig = resample_rr(rr_ms, times_s, fs)?;
    let psd = welch(&sig, fs, (64.0 * fs) as usize)?;
    psd.peak(0.1, 0.5).map(|f| 60.0 * f)
}

/// Plain Welch PSD (Hann, 50 % overlap, mean removed) with segments of up to `seg`
/// samples zero-padded to 4x for a finer peak frequency.
fn welch(x: &[f64], fs: f64, seg: usize) -> Option<Psd> {
    let n = x.len();
    let seg = seg.min(n);
    if seg < 16 {
        return None;
    }
    let mean = x.iter().sum::<f64>() / n as f64;
    let nfft = 4 * seg;
    let step = (seg / 2).max(1);
    let win: Vec<f64> = (0..seg)
        .map(|i| 0.5 - 0.5 * (2.0 * std::f64::consts::PI * i as f64 / seg as f64).cos())
        .collect();
    let mut planner = RealFftPlanner::<f64>::new();
    let fft = planner.plan_fft_forward(nfft);
    let mut input = fft.make_input_vec();
    let mut out = fft.make_output_vec();
    let mut acc = vec![0.0; nfft / 2 + 1];
    let mut s = 0;
    while s + seg <= n {
        input.iter_mut().for_each(|v| *v = 0.0);
        for i in 0..seg {
            input[i] = (x[s + i] - mean) * win[i];
        }
        fft.process(&mut input, &mut out).ok()?;
        for (a, c) in acc.iter_mut().zip(&out) {
            *a += c.norm_sqr();
        }
        s += step;
    }
    Some(Psd {
        freq: (0..acc.len())
            .map(|k| k as f64 * fs / nfft as f64)
            .collect(),
        power: acc,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waveform_and_rsa_rates_are_recovered() {
        let fs = 25.0;
        for bpm in [6.0, 12.0, 20.0] {
            let f = bpm / 60.0;
            let x: Vec<f64> = (0..(120.0 * fs) as usize)
                .map(|i| {
                    let t = i as f64 / fs;
                    (2.0 * std::f64::consts::PI * f * t).sin() + 0.05 * (7.0 * t).sin() + 0.01 * t
                })
                .collect();
            let r = rate_from_waveform(&x, fs).unwrap().unwrap();
            assert!((r - bpm).abs() < 0.5, "{bpm}: {r}");
        }
        // RR modulated at 15 breaths/min
        let (mut t, mut rr, mut times) = (0.0, Vec::new(), Vec::new());
        while t < 120.0 {
            let r = 800.0 + 30.0 * (2.0 * std::f64::consts::PI * 0.25 * t).sin();
            t += r / 1000.0;
            rr.push(r);
            times.push(t);
        }
        let r = rate_from_rr(&rr, &times).unwrap();
        assert!((r - 15.0).abs() < 0.6, "{r}");
        // a strong oscillation just below the band (0.08 Hz), whose skirt reaches into
        // it, and weaker breathing at 15 breaths/min: the breathing peak is reported,
        // not the band's lower edge
        let (mut t, mut rr, mut times) = (0.0, Vec::new(), Vec::new());
        while t < 60.0 {
            let r = 800.0
                + 80.0 * (2.0 * std::f64::consts::PI * 0.08 * t).sin()
                + 10.0 * (2.0 * std::f64::consts::PI * 0.25 * t).sin();
            t += r / 1000.0;
            rr.push(r);
            times.push(t);
        }
        let r = rate_from_rr(&rr, &times).unwrap();
        assert!((r - 15.0).abs() < 0.6, "{r}");
        assert_eq!(rate_from_waveform(&[0.0; 100], fs).unwrap(), None);
        assert_eq!(rate_from_waveform(&vec![1.0; 1000], fs).unwrap(), None);
    }
}
