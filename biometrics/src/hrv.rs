//! Heart-rate variability from RR intervals: time domain (MeanNN, SDNN, RMSSD, pNN50,
//! mean HR) and frequency domain (LF, HF, LF/HF), matching NeuroKit2 0.2.13's
//! `hrv_time` and `hrv_frequency(normalize=False)` on the same series.
//!
//! Conventions (docs/domain.md, "HRV and EDA conventions"):
//! * SDNN uses ddof = 1; RMSSD = sqrt(mean(diff(RR)²)), differences only between
//!   successive intervals (see [`super::rr_artifacts`]).
//! * pNN50 comes in two conventions ([`Pnn50Convention`]); the default is the Task
//!   Force (1996) one, dividing by the number of successive *differences*. NeuroKit2
//!   0.2.x divides by the number of differences + 1 (the number of intervals of an
//!   unbroken series).
//! * Mean HR = 60000 / MeanNN (bpm).
//! * LF 0.04–0.15 Hz, HF 0.15–0.4 Hz, absolute power in ms²: the RR series is
//!   interpolated with a quadratic spline (SciPy's `interp1d(kind="quadratic")`) at
//!   100 Hz, its mean removed, and its Welch PSD taken with a Hann window of half the
//!   series, 50 % overlap, zero-padded to twice the window, density scaling; band power
//!   is the trapezoidal integral over the PSD bins inside `[low, high)`. Only for series
//!   spanning at least 120 s.
//!
//! Runs on the control thread (the spectral part allocates and runs FFTs; it never runs
//! on the audio thread).

use realfft::RealFftPlanner;

/// How pNN50 is normalised.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Pnn50Convention {
    /// Task Force (1996), hrv-analysis: `100 * NN50 / number of successive differences`.
    #[default]
    TaskForce,
    /// NeuroKit2 0.2.x: `100 * NN50 / (number of successive differences + 1)`.
    NeuroKit,
}

/// Time-domain HRV of one series. `None` where too few intervals exist.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct TimeDomain {
    /// Intervals used.
    pub n: usize,
    /// Successive differences used.
    pub n_diffs: usize,
    /// Mean interval, ms.
    pub mean_nn: Option<f64>,
    /// 60000 / MeanNN, bpm.
    pub mean_hr: Option<f64>,
    /// Standard deviation of intervals (ddof = 1), ms.
    pub sdnn: Option<f64>,
    /// Root mean square of successive differences, ms.
    pub rmssd: Option<f64>,
    /// Successive differences above 50 ms.
    pub nn50: usize,
}

impl TimeDomain {
    /// pNN50 in %, in the given convention.
    pub fn pnn50(&self, convention: Pnn50Convention) -> Option<f64> {
        if self.n_diffs == 0 {
            return None;
        }
        let den = match convention {
            Pnn50Convention::TaskForce => self.n_diffs,
            Pnn50Convention::NeuroKit => self.n_diffs + 1,
        };
        Some(100.0 * self.nn50 as f64 / den as f64)
    }
}

/// Time-domain HRV of `rr_ms`. `successive[i]` says whether `rr_ms[i]` and
/// `rr_ms[i + 1]` are consecutive beats; `None` means all are.
pub fn time_domain(rr_ms: &[f64], successive: Option<&[bool]>) -> TimeDomain {
    let n = rr_ms.len();
    let mut td = TimeDomain {
        n,
        ..TimeDomain::default()
    };
    if n == 0 {
        return td;
    }
    let mean = rr_ms.iter().sum::<f64>() / n as f64;
    td.mean_nn = Some(mean).filter(|m| m.is_finite() && *m > 0.0);
    td.mean_hr = td.mean_nn.map(|m| 60000.0 / m);
    if n >= 2 {
        let var = rr_ms.iter().map(|r| (r - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
        td.sdnn = Some(var.sqrt()).filter(|v| v.is_finite());
    }
    let mut sq = 0.0;
    for i in 0..n.saturating_sub(1) {
        if successive.is_some_and(|s| !s.get(i).copied().unwrap_or(false)) {
            continue;
        }
        let d = rr_ms[i + 1] - rr_ms[i];
        sq += d * d;
        td.n_diffs += 1;
        if d.abs() > 50.0 {
            td.nn50 += 1;
        }
    }
    if td.n_diffs > 0 {
        td.rmssd = Some((sq / td.n_diffs as f64).sqrt()).filter(|v| v.is_finite());
    }
    td
}

/// Frequency bands and interpolation of the spectral analysis.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SpectralConfig {
    /// Rate of the evenly resampled RR series, Hz.
    pub interpolation_hz: f64,
    /// Very-low-frequency band, Hz.
    pub vlf: (f64, f64),
    /// Low-frequency band, Hz.
    pub lf: (f64, f64),
    /// High-frequency band, Hz.
    pub hf: (f64, f64),
    /// Very-high-frequency band, Hz.
    pub vhf: (f64, f64),
    /// Shortest series analysed, seconds.
    pub min_duration_s: f64,
}

impl Default for SpectralConfig {
    fn default() -> Self {
        Self {
            interpolation_hz: 100.0,
            vlf: (0.0033, 0.04),
            lf: (0.04, 0.15),
            hf: (0.15, 0.4),
            vhf: (0.4, 0.5),
            min_duration_s: 120.0,
        }
    }
}

/// Frequency-domain HRV, absolute powers in ms².
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FrequencyDomain {
    /// Very-low-frequency power (bins above the lowest resolvable frequency only).
    pub vlf: Option<f64>,
    /// Low-frequency power, ms².
    pub lf: Option<f64>,
    /// High-frequency power, ms².
    pub hf: Option<f64>,
    /// Very-high-frequency power, ms².
    pub vhf: Option<f64>,
    /// Sum of the band powers, ms².
    pub total: f64,
    /// LF / HF.
    pub lf_hf: Option<f64>,
    /// LF / total.
    pub lfn: Option<f64>,
    /// HF / total.
    pub hfn: Option<f64>,
}

/// A power spectral density.
#[derive(Clone, Debug, PartialEq)]
pub struct Psd {
    /// Bin frequencies, Hz.
    pub freq: Vec<f64>,
    /// Density per bin, units² / Hz.
    pub power: Vec<f64>,
}

impl Psd {
    /// Trapezoidal integral over the bins with `lo <= f < hi` (NeuroKit2's band power);
    /// `None` when it is zero or no bin falls inside.
    pub fn band(&self, lo: f64, hi: f64) -> Option<f64> {
        let (mut p, mut prev): (f64, Option<(f64, f64)>) = (0.0, None);
        for (&f, &v) in self.freq.iter().zip(&self.power) {
            if f >= lo && f < hi {
                if let Some((pf, pv)) = prev {
                    p += (f - pf) * (v + pv) / 2.0;
                }
                prev = Some((f, v));
            }
        }
        Some(p).filter(|p| *p != 0.0 && p.is_finite())
    }

    /// Frequency of the highest spectral peak within `[lo, hi]`: the largest density
    /// that is also larger than both neighbouring bins (which may lie outside the
    /// band). A density that only rises towards a band edge, the skirt of a peak
    /// outside the band, is not a peak; `None` when the band holds none.
    pub fn peak(&self, lo: f64, hi: f64) -> Option<f64> {
        let p = &self.power;
        (1..p.len().saturating_sub(1))
            .filter(|&k| self.freq[k] >= lo && self.freq[k] <= hi)
            .filter(|&k| p[k] > p[k - 1] && p[k] > p[k + 1])
            .max_by(|&a, &b| p[a].total_cmp(&p[b]))
            .map(|k| self.freq[k])
    }
}

/// Quadratic-spline interpolation through `(x, y)` (strictly increasing `x`, at least 3
/// points) evaluated at `x_new`; outside `[x0, xn]` the end values are held. The spline
/// is SciPy's `make_interp_spline(k=2)` (knots at the data midpoints), so results equal
/// `interp1d(kind="quadratic", bounds_error=False, fill_value=(y0, yn))`.
pub fn quadratic_spline(x: &[f64], y: &[f64], x_new: &[f64]) -> Option<Vec<f64>> {
    let n = x.len();
    if n < 3 || y.len() != n || x.windows(2).any(|w| w[1] <= w[0] || !w[1].is_finite()) {
        return None;
    }
    // knots: x0 x0 x0, midpoints (x_j + x_{j+1}) / 2 for j = 1..n-3, xn xn xn
    let mut t = Vec::with_capacity(n + 3);
    t.extend([x[0]; 3]);
    for j in 1..n - 2 {
        t.push((x[j] + x[j + 1]) / 2.0);
    }
    t.extend([x[n - 1]; 3]);
    // basis values at u in span l (t[l] <= u < t[l+1]): B_{l-2}, B_{l-1}, B_l
    let basis = |l: usize, u: f64| -> [f64; 3] {
        let left1 = u - t[l];
        let left2 = u - t[l - 1];
        let right1 = t[l + 1] - u;
        let right2 = t[l + 2] - u;
        let mut nb = [1.0, 0.0, 0.0];
        // degree 1
        let temp = nb[0] / (right1 + left1);
        nb[0] = right1 * temp;
        nb[1] = left1 * temp;
        // degree 2
        let temp0 = nb[0] / (right1 + left2);
        let a0 = right1 * temp0;
        let saved = left2 * temp0;
        let temp1 = nb[1] / (right2 + left1);
        let a1 = saved + right2 * temp1;
        let a2 = left1 * temp1;
        [a0, a1, a2]
    };
    // span of u: last l in 2..=n-1 with t[l] <= u
    let span = |u: f64| -> usize {
        let mut lo = 2;
        let mut hi = n - 1;
        while lo < hi {
            let mid = (lo + hi).div_ceil(2);
            if t[mid] <= u {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        lo
    };
    // collocation rows are tridiagonal: row i has columns i-1, i, i+1 (clipped)
    let mut sub = vec![0.0; n];
    let mut dia = vec![0.0; n];
    let mut sup = vec![0.0; n];
    let mut extra_row0 = 0.0; // row 0 column 2
    let mut extra_rown = 0.0; // row n-1 column n-3
    for i in 0..n {
        let l = span(x[i]);
        let b = basis(l, x[i]);
        let c0 = l - 2;
        for (k, v) in b.iter().enumerate() {
            let col = c0 + k;
            if col + 1 == i {
                sub[i] = *v;
            } else if col == i {
                dia[i] = *v;
            } else if col == i + 1 {
                sup[i] = *v;
            } else if i == 0 && col == 2 {
                extra_row0 = *v;
            } else if i == n - 1 && col + 3 == n {
                extra_rown = *v;
            }
        }
    }
    if extra_row0.abs() > 1e-12 || extra_rown.abs() > 1e-12 {
        return None; // cannot happen with these knots
    }
    // Thomas algorithm (collocation matrices of B-splines need no pivoting)
    let mut c = vec![0.0; n];
    let mut d = vec![0.0; n];
    for i in 0..n {
        let m = dia[i] - if i > 0 { sub[i] * c[i - 1] } else { 0.0 };
        if m == 0.0 || !m.is_finite() {
            return None;
        }
        c[i] = sup[i] / m;
        d[i] = (y[i] - if i > 0 { sub[i] * d[i - 1] } else { 0.0 }) / m;
    }
    let mut coef = vec![0.0; n];
    for i in (0..n).rev() {
        coef[i] = d[i] - if i + 1 < n { c[i] * coef[i + 1] } else { 0.0 };
    }
    Some(
        x_new
            .iter()
            .map(|&u| {
                if u < x[0] {
                    y[0]
                } else if u > x[n - 1] {
                    y[n - 1]
                } else {
                    let l = span(u);
                    let b = basis(l, u);
                    b[0] * coef[l - 2] + b[1] * coef[l - 1] + b[2] * coef[l]
                }
            })
            .collect(),
    )
}

/// Welch PSD as NeuroKit2's `signal_psd(method="welch")` with default `min_frequency`:
/// the mean is removed; the window is half the signal (Hann, periodic), overlap 50 %, FFT
/// length twice the window, density scaling, one-sided; bins below
/// `4 fs / len` and above `max_frequency` are dropped.
pub fn welch_nk(signal: &[f64], fs: f64, max_frequency: f64) -> Option<Psd> {
    let n = signal.len();
    if n < 8 {
        return None;
    }
    let mean = signal.iter().sum::<f64>() / n as f64;
    let x: Vec<f64> = signal.iter().map(|v| v - mean).collect();
    let min_frequency = (2.0 * fs) / (n as f64 / 2.0);
    let mut nperseg = ((2.0 / min_frequency) * fs) as usize;
    if nperseg as f64 > n as f64 / 2.0 {
        nperseg = n / 2;
    }
    let nfft = 2 * nperseg;
    let noverlap = nperseg / 2;
    let step = nperseg - noverlap;
    let nseg = (n - nperseg) / step + 1;
    let win: Vec<f64> = (0..nperseg)
        .map(|i| 0.5 - 0.5 * (2.0 * std::f64::consts::PI * i as f64 / nperseg as f64).cos())
        .collect();
    let scale = 1.0 / (fs * win.iter().map(|w| w * w).sum::<f64>());
    let mut planner = RealFftPlanner::<f64>::new();
    let fft = planner.plan_fft_forward(nfft);
    let mut input = fft.make_input_vec();
    let mut spec = fft.make_output_vec();
    let mut acc = vec![0.0; nfft / 2 + 1];
    for s in 0..nseg {
        let seg = &x[s * step..s * step + nperseg];
        input.iter_mut().for_each(|v| *v = 0.0);
        for ((o, v), w) in input.iter_mut().zip(seg).zip(&win) {
            *o = v * w;
        }
        fft.process(&mut input, &mut spec).ok()?;
        for (a, c) in acc.iter_mut().zip(&spec) {
            *a += c.norm_sqr();
        }
    }
    let last = acc.len() - 1;
    let (mut freq, mut power) = (Vec::new(), Vec::new());
    for (k, a) in acc.iter().enumerate() {
        let f = k as f64 * fs / nfft as f64;
        if f < min_frequency || f > max_frequency {
            continue;
        }
        let mut p = a * scale / nseg as f64;
        if k != 0 && k != last {
            p *= 2.0;
        }
        freq.push(f);
        power.push(p);
    }
    Some(Psd { freq, power })
}

/// The evenly resampled RR series: `times_s` are the end times of the intervals
/// `rr_ms`; samples at `times_s[0] + k / rate` up to the last time (NumPy `arange`).
pub fn resample_rr(rr_ms: &[f64], times_s: &[f64], rate: f64) -> Option<Vec<f64>> {
    let n = rr_ms.len();
    if n < 3 || times_s.len() != n {
        return None;
    }
    let (t0, t1) = (times_s[0], times_s[n - 1]);
    let step = 1.0 / rate;
    let stop = t1 + step;
    let count = ((stop - t0) / step).ceil().max(0.0) as usize;
    let grid: Vec<f64> = (0..count).map(|k| t0 + k as f64 * step).collect();
    quadratic_spline(times_s, rr_ms, &grid)
}

/// Frequency-domain HRV of intervals `rr_ms` ending at `times_s` (seconds, increasing).
/// `None` when the series spans less than `cfg.min_duration_s` or cannot be
/// interpolated.
pub fn frequency_domain(
    rr_ms: &[f64],
    times_s: &[f64],
    cfg: &SpectralConfig,
) -> Option<FrequencyDomain> {
    let n = rr_ms.len();
    if n < 3 || times_s.len() != n {
        return None;
    }
    // NeuroKit's duration rule counts the whole series, first interval included
    if times_s[n - 1] - times_s[0] + rr_ms[0] / 1000.0 < cfg.min_duration_s {
        return None;
    }
    let sig = resample_rr(rr_ms, times_s, cfg.interpolation_hz)?;
    let psd = welch_nk(&sig, cfg.interpolation_hz, cfg.vhf.1)?;
    let vlf = psd.band(cfg.vlf.0, cfg.vlf.1);
    let lf = psd.band(cfg.lf.0, cfg.lf.1);
    let hf = psd.band(cfg.hf.0, cfg.hf.1);
    let vhf = psd.band(cfg.vhf.0, cfg.vhf.1);
    let total: f64 = [vlf, lf, hf, vhf].iter().flatten().sum();
    let ratio = |a: Option<f64>, b: Option<f64>| match (a, b) {
        (Some(a), Some(b)) if b > 0.0 => Some(a / b).filter(|v| v.is_finite()),
        _ => None,
    };
    Some(FrequencyDomain {
        vlf,
        lf,
        hf,
        vhf,
        total,
        lf_hf: ratio(lf, hf),
        lfn: ratio(lf, Some(total)),
        hfn: ratio(hf, Some(total)),
    })
}

/// Frequency-domain HRV of an unbroken series given by its intervals only, timed as
/// NeuroKit2 does from peaks (`times = cumsum(rr) / 1000`).
pub fn frequency_domain_of_intervals(
    rr_ms: &[f64],
    cfg: &SpectralConfig,
) -> Option<FrequencyDomain> {
    let mut t = 0.0;
    let times: Vec<f64> = rr_ms
        .iter()
        .map(|r| {
            t += r / 1000.0;
            t
        })
        .collect();
    frequency_domain(rr_ms, &times, cfg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_domain_definitions() {
        let rr = [800.0, 860.0, 790.0, 800.0];
        let td = time_domain(&rr, None);
        assert_eq!(td.n_diffs, 3);
        assert!((td.mean_nn.unwrap() - 812.5).abs() < 1e-9);
        let sd =
            ((12.5f64.powi(2) + 47.5f64.powi(2) + 22.5f64.powi(2) + 12.5f64.powi(2)) / 3.0).sqrt();
        assert!((td.sdnn.unwrap() - sd).abs() < 1e-9);
        let rmssd = ((60.0f64.powi(2) + 70.0f64.powi(2) + 10.0f64.powi(2)) / 3.0).sqrt();
        assert!((td.rmssd.unwrap() - rmssd).abs() < 1e-9);
        assert_eq!(td.nn50, 2);
        assert!((td.pnn50(Pnn50Convention::TaskForce).unwrap() - 200.0 / 3.0).abs() < 1e-9);
        assert!((td.pnn50(Pnn50Convention::NeuroKit).unwrap() - 50.0).abs() < 1e-9);
        // a gap between the 2nd and 3rd interval removes that difference
        let td = time_domain(&rr, Some(&[true, false, true]));
        assert_eq!(td.n_diffs, 2);
        assert_eq!(time_domain(&[], None).mean_nn, None);
        assert_eq!(time_domain(&[800.0], None).sdnn, None);
    }

    #[test]
    fn quadratic_spline_reproduces_quadratics_and_holds_ends() {
        let x = [0.0, 0.7, 1.5, 2.0, 3.1, 4.0];
        let y: Vec<f64> = x.iter().map(|v| 2.0 * v * v - v + 3.0).collect();
        let xn = [-1.0, 0.3, 1.0, 2.5, 3.9, 5.0];
        let got = quadratic_spline(&x, &y, &xn).unwrap();
        for (u, g) in xn.iter().zip(&got).skip(1).take(4) {
            assert!((g - (2.0 * u * u - u + 3.0)).abs() < 1e-9, "{u}: {g}");
        }
        assert_eq!(got[0], y[0]);
        assert_eq!(got[5], y[5]);
        assert!(quadratic_spline(&[0.0, 1.0], &[1.0, 2.0], &[0.5]).is_none());
        assert!(quadratic_spline(&[0.0, 1.0, 1.0], &[1.0, 2.0, 3.0], &[0.5]).is_none());
    }

    #[test]
    fn a_sinusoidal_rr_modulation_lands_in_its_band() {
        // RR modulated at 0.25 Hz (HF) with 40 ms amplitude over 300 s
        let mut t = 0.0;
        let (mut rr, mut times) = (Vec::new(), Vec::new());
        while t < 300.0 {
            let r = 850.0 + 40.0 * (2.0 * std::f64::consts::PI * 0.25 * t).sin();
            t += r / 1000.0;
            rr.push(r);
            times.push(t);
        }
        let f = frequency_domain(&rr, &times, &SpectralConfig::default()).unwrap();
        let (lf, hf) = (f.lf.unwrap(), f.hf.unwrap());
        assert!(hf > 20.0 * lf, "lf {lf} hf {hf}");
        // a sine of amplitude A has power A^2 / 2
        assert!((hf - 800.0).abs() / 800.0 < 0.15, "hf {hf}");
        assert!(frequency_domain(&rr[..100], &times[..100], &SpectralConfig::default()).is_none());
    }
}
