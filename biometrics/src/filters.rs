//! Digital filters for physiological signals: Butterworth designs as second-order
//! sections (bilinear transform), zero-phase forward-backward filtering with the same edge
//! handling as SciPy's `sosfiltfilt`/`filtfilt` (odd extension, steady-state initial
//! conditions), moving averages and the numerical gradient.
//!
//! Everything here is plain `f64` slice processing that allocates its output; it runs on
//! the input or control thread, never on the audio thread.

use std::f64::consts::PI;
use std::fmt;

/// Why a filter could not be designed.
#[derive(Clone, Debug, PartialEq)]
pub struct FilterError(pub String);

impl fmt::Display for FilterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "filter design: {}", self.0)
    }
}

impl std::error::Error for FilterError {}

/// The pass band of a filter, in Hz.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Band {
    /// Passes below the cut-off.
    Lowpass(f64),
    /// Passes above the cut-off.
    Highpass(f64),
    /// Passes between the two cut-offs (low, high).
    Bandpass(f64, f64),
}

/// A cascade of second-order sections, each `[b0, b1, b2, a0, a1, a2]` with `a0 = 1`
/// (the layout SciPy calls `sos`).
#[derive(Clone, Debug, PartialEq)]
pub struct Sos {
    sections: Vec<[f64; 6]>,
}

#[derive(Clone, Copy, Debug)]
struct C {
    re: f64,
    im: f64,
}

impl C {
    fn new(re: f64, im: f64) -> Self {
        Self { re, im }
    }
    fn add(self, o: C) -> C {
        C::new(self.re + o.re, self.im + o.im)
    }
    fn sub(self, o: C) -> C {
        C::new(self.re - o.re, self.im - o.im)
    }
    fn mul(self, o: C) -> C {
        C::new(
            self.re * o.re - self.im * o.im,
            self.re * o.im + self.im * o.re,
        )
    }
    fn div(self, o: C) -> C {
        let d = o.re * o.re + o.im * o.im;
        C::new(
            (self.re * o.re + self.im * o.im) / d,
            (self.im * o.re - self.re * o.im) / d,
        )
    }
    fn scale(self, k: f64) -> C {
        C::new(self.re * k, self.im * k)
    }
    fn sqrt(self) -> C {
        let r = (self.re * self.re + self.im * self.im).sqrt();
        let re = ((r + self.re) / 2.0).max(0.0).sqrt();
        let im = ((r - self.re) / 2.0).max(0.0).sqrt();
        C::new(re, if self.im < 0.0 { -im } else { im })
    }
}

/// Designs a digital Butterworth filter of `order` (1..=12) for sampling rate `fs`, the
/// same filter as `scipy.signal.butter(order, band, btype, output="sos", fs=fs)` (a
/// band-pass of order N has 2N poles, as in SciPy).
pub fn butter(order: usize, band: Band, fs: f64) -> Result<Sos, FilterError> {
    if !(1..=12).contains(&order) {
        return Err(FilterError(format!("order {order} outside 1..=12")));
    }
    if !(fs.is_finite() && fs > 0.0) {
        return Err(FilterError(format!(
            "sampling rate {fs} Hz is not positive"
        )));
    }
    let nyq = fs / 2.0;
    let check = |f: f64| {
        if f.is_finite() && f > 0.0 && f < nyq {
            Ok(f)
        } else {
            Err(FilterError(format!(
                "cut-off {f} Hz must lie strictly between 0 and {nyq} Hz (half of {fs} Hz)"
            )))
        }
    };
    // Pre-warp with SciPy's normalisation (fs = 2): warped = 4 tan(pi Wn / 2).
    let warp = |f: f64| 4.0 * (PI * (f / nyq) / 2.0).tan();
    let n = order;
    // Analog low-pass prototype poles: p = -exp(i pi m / (2N)), m = -N+1, -N+3, ..., N-1.
    let proto: Vec<C> = (0..n)
        .map(|k| {
            let m = -(n as f64) + 1.0 + 2.0 * k as f64;
            let th = PI * m / (2.0 * n as f64);
            C::new(-th.cos(), -th.sin())
        })
        .collect();
    // Analog poles, number of analog zeros at s = 0, gain.
    let (poles, zeros_at_zero, gain): (Vec<C>, usize, f64) = match band {
        Band::Lowpass(f) => {
            let wo = warp(check(f)?);
            (
                proto.iter().map(|p| p.scale(wo)).collect(),
                0,
                wo.powi(n as i32),
            )
        }
        Band::Highpass(f) => {
            let wo = warp(check(f)?);
            // lp2hp: p' = wo / p; k' = k * real(prod(-z) / prod(-p)) = 1 / real(prod(-p)).
            let p: Vec<C> = proto.iter().map(|p| C::new(wo, 0.0).div(*p)).collect();
            let prod = proto
                .iter()
                .fold(C::new(1.0, 0.0), |acc, p| acc.mul(p.scale(-1.0)));
            (p, n, 1.0 / prod.re)
        }
        Band::Bandpass(lo, hi) => {
            let (lo, hi) = (check(lo)?, check(hi)?);
            if lo >= hi {
                return Err(FilterError(format!(
                    "band-pass low cut-off {lo} Hz must be below the high cut-off {hi} Hz"
                )));
            }
            let (wl, wh) = (warp(lo), warp(hi));
            let bw = wh - wl;
            let wo2 = wl * wh;
            let mut p = Vec::with_capacity(2 * n);
            for q in &proto {
                let pl = q.scale(bw / 2.0);
                let root = pl.mul(pl).sub(C::new(wo2, 0.0)).sqrt();
                p.push(pl.add(root));
                p.push(pl.sub(root));
            }
            (p, n, bw.powi(n as i32))
        }
    };
    // Bilinear transform with fs = 2: z = (4 + s) / (4 - s).
    let fs2 = C::new(4.0, 0.0);
    let dpoles: Vec<C> = poles.iter().map(|p| fs2.add(*p).div(fs2.sub(*p))).collect();
    let num = (0..zeros_at_zero).fold(C::new(1.0, 0.0), |acc, _| acc.mul(fs2));
    let den = poles
        .iter()
        .fold(C::new(1.0, 0.0), |acc, p| acc.mul(fs2.sub(*p)));
    let k = gain * num.div(den).re;
    // Digital zeros: s = 0 maps to z = +1; the remaining degree maps to z = -1.
    let n_poles = dpoles.len();
    let mut zeros: Vec<f64> = vec![1.0; zeros_at_zero];
    zeros.extend(std::iter::repeat_n(-1.0, n_poles - zeros_at_zero));
    // Pair the poles: complex conjugates together, real poles two by two.
    let mut complex: Vec<C> = dpoles.iter().copied().filter(|p| p.im > 1e-12).collect();
    complex.sort_by(|a, b| a.re.total_cmp(&b.re));
    let mut real: Vec<f64> = dpoles
        .iter()
        .filter(|p| p.im.abs() <= 1e-12)
        .map(|p| p.re)
        .collect();
    real.sort_by(f64::total_cmp);
    let mut den_sections: Vec<[f64; 3]> = complex
        .iter()
        .map(|p| [1.0, -2.0 * p.re, p.re * p.re + p.im * p.im])
        .collect();
    let mut it = real.chunks(2);
    for pair in &mut it {
        if pair.len() == 2 {
            den_sections.push([1.0, -(pair[0] + pair[1]), pair[0] * pair[1]]);
        } else {
            den_sections.push([1.0, -pair[0], 0.0]);
        }
    }
    // Zeros: prefer one +1 and one -1 per section for band-pass, else two alike.
    zeros.sort_by(f64::total_cmp);
    let mut sections = Vec::with_capacity(den_sections.len());
    let (mut lo_i, mut hi_i) = (0usize, zeros.len());
    for (i, d) in den_sections.iter().enumerate() {
        let first_order = d[2] == 0.0 && i == den_sections.len() - 1 && n_poles % 2 == 1;
        let b = if first_order {
            let z = if lo_i < hi_i {
                hi_i -= 1;
                zeros[hi_i]
            } else {
                0.0
            };
            [1.0, -z, 0.0]
        } else {
            let mut zz = [0.0f64; 2];
            for (j, slot) in zz.iter_mut().enumerate() {
                if lo_i < hi_i {
                    // alternate ends so band-pass sections get (-1, +1)
                    if j == 0 {
                        *slot = zeros[lo_i];
                        lo_i += 1;
                    } else {
                        hi_i -= 1;
                        *slot = zeros[hi_i];
                    }
                }
            }
            [1.0, -(zz[0] + zz[1]), zz[0] * zz[1]]
        };
        sections.push([b[0], b[1], b[2], d[0], d[1], d[2]]);
    }
    // Put first-order sections first (as SciPy does) and apply the gain there.
    sections.sort_by_key(|s| if s[5] == 0.0 && s[2] == 0.0 { 0 } else { 1 });
    if let Some(s) = sections.first_mut() {
        s[0] *= k;
        s[1] *= k;
        s[2] *= k;
    }
    Ok(Sos { sections })
}

impl Sos {
    /// The sections, `[b0, b1, b2, 1, a1, a2]` each.
    pub fn sections(&self) -> &[[f64; 6]] {
        &self.sections
    }

    /// Complex frequency response magnitude at `f` Hz for sampling rate `fs`.
    pub fn gain_at(&self, f: f64, fs: f64) -> f64 {
        let w = 2.0 * PI * f / fs;
        let z1 = C::new(w.cos(), -w.sin());
        let z2 = z1.mul(z1);
        let mut h = C::new(1.0, 0.0);
        for s in &self.sections {
            let num = C::new(s[0], 0.0).add(z1.scale(s[1])).add(z2.scale(s[2]));
            let den = C::new(s[3], 0.0).add(z1.scale(s[4])).add(z2.scale(s[5]));
            h = h.mul(num.div(den));
        }
        (h.re * h.re + h.im * h.im).sqrt()
    }

    /// Steady-state section states for a unit step (SciPy's `sosfilt_zi`).
    fn zi(&self) -> Vec<[f64; 2]> {
        let mut scale = 1.0;
        self.sections
            .iter()
            .map(|s| {
                let g = (s[0] + s[1] + s[2]) / (s[3] + s[4] + s[5]);
                let z = [scale * (g - s[0]), scale * (s[2] - s[5] * g)];
                scale *= g;
                z
            })
            .collect()
    }

    /// Runs the cascade causally over `x` in place, from the given states.
    fn run(&self, x: &mut [f64], states: &mut [[f64; 2]]) {
        for (s, z) in self.sections.iter().zip(states.iter_mut()) {
            let (b0, b1, b2, a1, a2) = (s[0], s[1], s[2], s[4], s[5]);
            let (mut z0, mut z1) = (z[0], z[1]);
            for v in x.iter_mut() {
                let xi = *v;
                let y = b0 * xi + z0;
                z0 = b1 * xi - a1 * y + z1;
                z1 = b2 * xi - a2 * y;
                *v = y;
            }
            *z = [z0, z1];
        }
    }

    /// Causal filtering from rest (zero initial state).
    pub fn filter(&self, x: &[f64]) -> Vec<f64> {
        let mut y = x.to_vec();
        let mut st = vec![[0.0; 2]; self.sections.len()];
        self.run(&mut y, &mut st);
        y
    }

    /// Default edge padding of SciPy's `sosfiltfilt`.
    fn padlen(&self) -> usize {
        let n = self.sections.len();
        let zb = self.sections.iter().filter(|s| s[2] == 0.0).count();
        let za = self.sections.iter().filter(|s| s[5] == 0.0).count();
        3 * (2 * n + 1 - zb.min(za))
    }

    /// Zero-phase forward-backward filtering, numerically the same as SciPy's
    /// `sosfiltfilt(sos, x)` (odd extension of `3 * ntaps` samples, steady-state initial
    /// conditions). Signals shorter than the padding are padded as far as they allow.
    pub fn filtfilt(&self, x: &[f64]) -> Vec<f64> {
        if x.len() < 2 {
            return x.to_vec();
        }
        let pad = self.padlen().min(x.len() - 1);
        let mut ext = odd_extend(x, pad);
        let zi = self.zi();
        let mut st: Vec<[f64; 2]> = zi.iter().map(|z| [z[0] * ext[0], z[1] * ext[0]]).collect();
        self.run(&mut ext, &mut st);
        ext.reverse();
        let y0 = ext[0];
        let mut st: Vec<[f64; 2]> = zi.iter().map(|z| [z[0] * y0, z[1] * y0]).collect();
        self.run(&mut ext, &mut st);
        ext.reverse();
        ext[pad..pad + x.len()].to_vec()
    }
}

/// `x` with `pad` samples of odd extension on both sides (`2 x[0] - x[pad..1]`, ...).
fn odd_extend(x: &[f64], pad: usize) -> Vec<f64> {
    let n = x.len();
    let mut ext = Vec::with_capacity(n + 2 * pad);
    let (first, last) = (x[0], x[n - 1]);
    for i in (1..=pad).rev() {
        ext.push(2.0 * first - x[i]);
    }
    ext.extend_from_slice(x);
    for i in 1..=pad {
        ext.push(2.0 * last - x[n - 1 - i]);
    }
    ext
}

/// Zero-phase moving average of `len` taps, the same as SciPy's
/// `filtfilt(np.ones(len), [len], x, method="pad")`: NeuroKit's power-line smoother.
pub fn moving_average_filtfilt(x: &[f64], len: usize) -> Vec<f64> {
    if len <= 1 || x.len() < 2 {
        return x.to_vec();
    }
    let pad = (3 * len).min(x.len() - 1);
    let mut ext = odd_extend(x, pad);
    causal_average(&mut ext, len);
    ext.reverse();
    causal_average(&mut ext, len);
    ext.reverse();
    ext[pad..pad + x.len()].to_vec()
}

/// Causal moving average in place, the past before the first sample held at its value
/// (the steady state SciPy's `lfilter_zi` gives).
fn causal_average(x: &mut [f64], len: usize) {
    let inv = 1.0 / len as f64;
    let first = x[0];
    let mut hist = vec![first; len];
    let mut sum = first * len as f64;
    for (i, v) in x.iter_mut().enumerate() {
        let slot = i % len;
        sum += *v - hist[slot];
        hist[slot] = *v;
        *v = sum * inv;
    }
}

/// Centred moving average of `size` samples with edges held (SciPy's
/// `uniform_filter1d(x, size, mode="nearest")`; NeuroKit's boxcar smoother). For an even
/// size the window reaches one sample further back than forward.
pub fn boxcar_nearest(x: &[f64], size: usize) -> Vec<f64> {
    let n = x.len();
    if n == 0 || size <= 1 {
        return x.to_vec();
    }
    let back = size / 2;
    let fwd = size - back - 1;
    let at = |i: isize| -> f64 { x[i.clamp(0, n as isize - 1) as usize] };
    let inv = 1.0 / size as f64;
    let mut sum: f64 = (-(back as isize)..=fwd as isize).map(at).sum();
    let mut out = Vec::with_capacity(n);
    for i in 0..n as isize {
        out.push(sum * inv);
        sum += at(i + fwd as isize + 1) - at(i - back as isize);
    }
    out
}

/// Numerical gradient (NumPy's `np.gradient`): central differences inside, one-sided at
/// the ends.
pub fn gradient(x: &[f64]) -> Vec<f64> {
    let n = x.len();
    match n {
        0 => Vec::new(),
        1 => vec![0.0],
        _ => {
            let mut g = Vec::with_capacity(n);
            g.push(x[1] - x[0]);
            for i in 1..n - 1 {
                g.push((x[i + 1] - x[i - 1]) / 2.0);
            }
            g.push(x[n - 1] - x[n - 2]);
            g
        }
    }
}

/// Local maxima of `x` (SciPy's `find_peaks` without conditions): a sample higher than its
/// left neighbour and than the first different sample to its right; on a flat top the
/// middle sample (rounded down) is reported. Indices are ascending.
pub fn local_maxima(x: &[f64]) -> Vec<usize> {
    let n = x.len();
    let mut out = Vec::new();
    if n < 3 {
        return out;
    }
    let mut i = 1;
    while i < n - 1 {
        if x[i - 1] < x[i] {
            let mut ahead = i + 1;
            while ahead < n - 1 && x[ahead] == x[i] {
                ahead += 1;
            }
            if x[ahead] < x[i] {
                out.push((i + ahead - 1) / 2);
                i = ahead;
                continue;
            }
            i = ahead;
            continue;
        }
        i += 1;
    }
    out
}

/// Topographic prominence of each peak in `peaks` (SciPy's `peak_prominences` with no
/// window): the height above the higher of the two lowest points reached before meeting a
/// higher sample (or the signal's end) on either side. Also returns the left base index.
pub fn prominences(x: &[f64], peaks: &[usize]) -> Vec<(f64, usize)> {
    peaks
        .iter()
        .map(|&p| {
            let h = x[p];
            let (mut left_min, mut left_base) = (h, p);
            let mut i = p;
            while i > 0 {
                i -= 1;
                if x[i] > h {
                    break;
                }
                if x[i] < left_min {
                    left_min = x[i];
                    left_base = i;
                }
            }
            let mut right_min = h;
            for &v in &x[p + 1..] {
                if v > h {
                    break;
                }
                if v < right_min {
                    right_min = v;
                }
            }
            (h - left_min.max(right_min), left_base)
        })
        .collect()
}

/// Index (into `x`) of the most prominent local maximum of `x`, the first one on a tie.
pub fn most_prominent_peak(x: &[f64]) -> Option<usize> {
    let peaks = local_maxima(x);
    let prom = prominences(x, &peaks);
    let mut best: Option<(usize, f64)> = None;
    for (p, (pr, _)) in peaks.iter().zip(prom) {
        if best.is_none_or(|(_, b)| pr > b) {
            best = Some((*p, pr));
        }
    }
    best.map(|(p, _)| p)
}

/// Median of a slice (average of the two middle values for an even count); `None` when
/// empty. Does not reorder the input.
pub fn median(x: &[f64]) -> Option<f64> {
    if x.is_empty() {
        return None;
    }
    let mut v = x.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    Some(if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    })
}

/// Quantile with linear interpolation between order statistics (NumPy's and pandas'
/// default), `q` in 0..=1, of already sorted values.
pub fn quantile_sorted(sorted: &[f64], q: f64) -> f64 {
    let n = sorted.len();
    if n == 0 {
        return f64::NAN;
    }
    let pos = q.clamp(0.0, 1.0) * (n - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = pos.ceil() as usize;
    let frac = pos - lo as f64;
    sorted[lo] + (sorted[hi] - sorted[lo]) * frac
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn butterworth_is_flat_in_band_and_minus_3_db_at_cutoff() {
        for order in 1..=6 {
            let lp = butter(order, Band::Lowpass(5.0), 100.0).unwrap();
            assert!((lp.gain_at(0.0, 100.0) - 1.0).abs() < 1e-9);
            assert!((lp.gain_at(5.0, 100.0) - 0.5f64.sqrt()).abs() < 1e-9);
            assert!(lp.gain_at(25.0, 100.0) < 0.2);
            let hp = butter(order, Band::Highpass(0.5), 360.0).unwrap();
            assert!(hp.gain_at(0.0, 360.0) < 1e-9);
            assert!((hp.gain_at(0.5, 360.0) - 0.5f64.sqrt()).abs() < 1e-9);
            assert!((hp.gain_at(100.0, 360.0) - 1.0).abs() < 1e-4);
            let bp = butter(order, Band::Bandpass(5.0, 15.0), 360.0).unwrap();
            assert!((bp.gain_at(5.0, 360.0) - 0.5f64.sqrt()).abs() < 1e-9);
            assert!((bp.gain_at(15.0, 360.0) - 0.5f64.sqrt()).abs() < 1e-9);
            assert!((bp.gain_at((5.0f64 * 15.0).sqrt(), 360.0) - 1.0).abs() < 0.05);
        }
        assert!(butter(2, Band::Lowpass(60.0), 100.0).is_err());
        assert!(butter(0, Band::Lowpass(6.0), 100.0).is_err());
        assert!(butter(2, Band::Bandpass(9.0, 3.0), 100.0).is_err());
    }

    #[test]
    fn filtfilt_is_zero_phase_and_keeps_dc() {
        let fs = 100.0;
        let lp = butter(4, Band::Lowpass(3.0), fs).unwrap();
        let x: Vec<f64> = (0..2000)
            .map(|i| 2.0 + (2.0 * PI * 0.5 * i as f64 / fs).sin())
            .collect();
        let y = lp.filtfilt(&x);
        // a 0.5 Hz sine passes a 3 Hz low-pass unchanged and unshifted
        for i in 200..1800 {
            assert!((y[i] - x[i]).abs() < 2e-3, "{i}: {} vs {}", y[i], x[i]);
        }
        let hp = butter(2, Band::Highpass(0.05), 4.0).unwrap();
        let c = hp.filtfilt(&[3.0; 400]);
        assert!(c.iter().all(|v| v.abs() < 1e-9));
    }

    #[test]
    fn moving_average_and_boxcar_match_their_definitions() {
        let x = [1.0, 2.0, 6.0, 4.0, 5.0];
        let b = boxcar_nearest(&x, 3);
        assert!((b[0] - (1.0 + 1.0 + 2.0) / 3.0).abs() < 1e-12);
        assert!((b[2] - 4.0).abs() < 1e-12);
        assert!((b[4] - (4.0 + 5.0 + 5.0) / 3.0).abs() < 1e-12);
        let b2 = boxcar_nearest(&x, 2);
        assert!((b2[1] - 1.5).abs() < 1e-12);
        let m = moving_average_filtfilt(&[2.0; 50], 7);
        assert!(m.iter().all(|v| (v - 2.0).abs() < 1e-12));
        assert_eq!(gradient(&[1.0, 4.0, 9.0]), vec![3.0, 4.0, 5.0]);
    }

    #[test]
    fn peaks_and_prominences_follow_scipy() {
        let x = [0.0, 2.0, 1.0, 3.0, 3.0, 3.0, 0.0, 1.0, 0.5];
        assert_eq!(local_maxima(&x), vec![1, 4, 7]);
        let p = prominences(&x, &[1, 4, 7]);
        assert_eq!(p[0].0, 1.0);
        assert_eq!(p[1].0, 3.0);
        assert_eq!(p[2].0, 0.5);
        assert_eq!(most_prominent_peak(&x), Some(4));
        assert_eq!(median(&[3.0, 1.0, 2.0, 10.0]), Some(2.5));
        assert_eq!(quantile_sorted(&[1.0, 2.0, 3.0, 4.0], 0.25), 1.75);
    }
}
