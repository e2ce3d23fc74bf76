//! R-peak detection in the electrocardiogram, for any sampling rate from 100 to 1000 Hz.
//!
//! The method follows Pan & Tompkins (IEEE TBME 1985) with zero-phase filtering:
//!
//! 1. **Cleaning** as NeuroKit2's `ecg_clean` (method `neurokit`): 5th-order Butterworth
//!    high-pass at 0.5 Hz, forward-backward, then a one-period 50 Hz moving average.
//!    R-peaks are placed on this signal, so their timing agrees with NeuroKit2's.
//! 2. **QRS energy**: 2nd-order Butterworth band-pass 5–15 Hz (forward-backward),
//!    derivative, squared, a centred 150 ms moving average; its square root is the
//!    detection function (amplitude scale).
//! 3. **Candidates**: local maxima of the detection function, at most one per 200 ms
//!    (the larger wins). Each candidate's R-peak is the extreme of the cleaned ECG within
//!    ±100 ms, in the lead's dominant polarity (estimated per block, with hysteresis,
//!    from the candidates that reach the beat threshold of step 4).
//! 4. **Decision**: a candidate is a beat when its height reaches `threshold` (default
//!    0.35) times the local QRS level, the median of the five highest candidates between
//!    5 s before and 2 s after it (robust to a few large artifacts and to slow amplitude
//!    changes). Within 360 ms of the previous beat a candidate under half the previous
//!    beat's height is a T wave. A gap longer than 1.5 median RR intervals is searched
//!    back for the highest rejected candidate above half the threshold.
//!
//! The signal is processed in blocks (see [`EcgDetectorConfig`]): a live stream is
//! finalised about `block + lookahead + 2 s` after the samples arrive, and a whole
//! recording gives the same peaks as the same samples streamed in any chunking.
//!
//! Runs on the input or control thread, never on the audio thread.

use super::blocks::{BlockView, Blocks};
use super::filters::{boxcar_nearest, butter, gradient, moving_average_filtfilt, Band, Sos};
use super::filters::{median, FilterError};

/// Tunable parameters of the R-peak detector.
#[derive(Clone, Debug, PartialEq)]
pub struct EcgDetectorConfig {
    /// New samples processed per block, seconds.
    pub block_s: f64,
    /// Samples kept before each block for filter settling and thresholds, seconds.
    pub context_s: f64,
    /// Samples waited for after each block before processing it, seconds.
    pub lookahead_s: f64,
    /// QRS band-pass edges, Hz.
    pub band_hz: (f64, f64),
    /// Moving-average width of the QRS energy, seconds.
    pub integration_s: f64,
    /// Beat threshold as a fraction of the local QRS level.
    pub threshold: f64,
    /// Minimum distance between candidates and between beats, seconds.
    pub refractory_s: f64,
    /// Window after a beat in which small candidates are taken for T waves, seconds.
    pub t_wave_s: f64,
    /// Search back when a gap exceeds this many median RR intervals.
    pub searchback: f64,
    /// A candidate closer to the previous beat than this fraction of the median RR
    /// interval is taken for noise unless it reaches `premature_level` times the local
    /// QRS level (premature atrial beats come at 65 % or more of the RR interval).
    pub premature: f64,
    /// Height, relative to the local QRS level, that lets a very early candidate count.
    pub premature_level: f64,
    /// Half-width of the window in which the R-peak is placed, seconds.
    pub r_window_s: f64,
    /// Power-line frequency for the cleaning moving average, Hz.
    pub powerline_hz: f64,
}

impl Default for EcgDetectorConfig {
    fn default() -> Self {
        Self {
            block_s: 5.0,
            context_s: 5.0,
            lookahead_s: 3.0,
            band_hz: (5.0, 15.0),
            integration_s: 0.15,
            threshold: 0.35,
            refractory_s: 0.2,
            t_wave_s: 0.36,
            searchback: 1.5,
            premature: 0.6,
            premature_level: 1.5,
            r_window_s: 0.1,
            powerline_hz: 50.0,
        }
    }
}

#[derive(Clone, Copy, Debug)]
struct Cand {
    /// detection-function maximum (absolute sample)
    pos: u64,
    /// R-peak on the cleaned ECG (absolute sample)
    r: u64,
    /// detection-function height
    h: f64,
}

/// A streaming R-peak detector for one contiguous ECG segment. Push samples in any chunk
/// sizes; beats come out in order as absolute sample indices from the segment's start.
#[derive(Clone, Debug)]
pub struct EcgDetector {
    fs: f64,
    cfg: EcgDetectorConfig,
    blocks: Blocks,
    hp: Sos,
    bp: Sos,
    ma_len: usize,
    integ: usize,
    rwin: usize,
    refractory: u64,
    t_wave: u64,
    level_back: u64,
    level_ahead: u64,
    polarity: f64,
    polarity_known: bool,
    cands: Vec<Cand>,
    decided: usize,
    last: Option<Cand>,
    rejected_since: Vec<Cand>,
    rr_hist: Vec<f64>,
    out: Vec<u64>,
    final_until: u64,
    processed: u64,
    half: usize,
    template: Vec<f64>,
    template_n: usize,
    snips: Vec<(u64, Vec<f64>)>,
}

/// Beats averaged before the template is used to place R-peaks.
const TEMPLATE_WARMUP: usize = 8;

/// `x` minus its mean, scaled to unit norm (all zeros stays zeros).
fn normalized(x: &[f64]) -> Vec<f64> {
    let m = x.iter().sum::<f64>() / x.len().max(1) as f64;
    let mut v: Vec<f64> = x.iter().map(|a| a - m).collect();
    let n = v.iter().map(|a| a * a).sum::<f64>().sqrt();
    if n > 0.0 {
        v.iter_mut().for_each(|a| *a /= n);
    }
    v
}

/// Pearson correlation of a normalised template `t` with the segment `s`.
fn correlation(t: &[f64], s: &[f64]) -> f64 {
    let n = s.len() as f64;
    let (mut sum, mut sq, mut dot) = (0.0, 0.0, 0.0);
    for (a, b) in t.iter().zip(s) {
        sum += b;
        sq += b * b;
        dot += a * b;
    }
    let var = sq - sum * sum / n;
    if var <= 0.0 {
        0.0
    } else {
        dot / var.sqrt()
    }
}

impl EcgDetector {
    /// A detector for sampling rate `fs` (Hz). Fails for rates the filters cannot serve
    /// (below about 35 Hz) or a non-positive rate.
    pub fn new(fs: f64, cfg: EcgDetectorConfig) -> Result<Self, FilterError> {
        if !(fs.is_finite() && fs >= 35.0) {
            return Err(FilterError(format!(
                "ECG sampling rate {fs} Hz is too low for R-peak detection (need >= 35 Hz)"
            )));
        }
        let hp = butter(5, Band::Highpass(0.5), fs)?;
        let bp = butter(2, Band::Bandpass(cfg.band_hz.0, cfg.band_hz.1), fs)?;
        let ma_len = if fs >= 100.0 {
            (fs / cfg.powerline_hz) as usize
        } else {
            2
        };
        let samples = |s: f64| (s * fs).round().max(1.0) as usize;
        Ok(Self {
            blocks: Blocks::new(
                samples(cfg.block_s),
                samples(cfg.context_s),
                samples(cfg.lookahead_s),
            ),
            hp,
            bp,
            ma_len,
            integ: samples(cfg.integration_s),
            rwin: samples(cfg.r_window_s),
            refractory: samples(cfg.refractory_s) as u64,
            t_wave: samples(cfg.t_wave_s) as u64,
            level_back: samples(5.0) as u64,
            level_ahead: samples(2.0) as u64,
            polarity: 1.0,
            polarity_known: false,
            cands: Vec::new(),
            decided: 0,
            last: None,
            rejected_since: Vec::new(),
            rr_hist: Vec::new(),
            out: Vec::new(),
            final_until: 0,
            processed: 0,
            half: samples(0.06),
            template: Vec::new(),
            template_n: 0,
            snips: Vec::new(),
            fs,
            cfg,
        })
    }

    /// Sampling rate, Hz.
    pub fn fs(&self) -> f64 {
        self.fs
    }

    /// Samples pushed so far.
    pub fn samples(&self) -> u64 {
        self.blocks.total()
    }

    /// Samples before this index are final: no beat before it will still be reported.
    pub fn final_until(&self) -> u64 {
        self.final_until
    }

    /// Non-finite samples seen (each replaced by the previous finite sample).
    pub fn rejected_samples(&self) -> u64 {
        self.blocks.rejected
    }

    /// Feeds samples; returns the beats finalised by them (absolute sample indices).
    pub fn push(&mut self, samples: &[f32]) -> Vec<u64> {
        let mut blocks = std::mem::replace(&mut self.blocks, Blocks::new(1, 0, 0));
        blocks.push(samples, &mut |v| self.process(v));
        self.blocks = blocks;
        std::mem::take(&mut self.out)
    }

    /// Ends the segment; returns the remaining beats.
    pub fn finish(&mut self) -> Vec<u64> {
        let mut blocks = std::mem::replace(&mut self.blocks, Blocks::new(1, 0, 0));
        blocks.finish(&mut |v| self.process(v));
        self.blocks = blocks;
        self.decide(true);
        self.final_until = self.blocks.total();
        std::mem::take(&mut self.out)
    }

    fn process(&mut self, v: BlockView<'_>) {
        let x = v.slice;
        if x.len() < 3 {
            if v.last {
                self.decide(true);
            }
            return;
        }
        let clean = moving_average_filtfilt(&self.hp.filtfilt(x), self.ma_len);
        let bp = self.bp.filtfilt(x);
        let mut e = gradient(&bp);
        for d in e.iter_mut() {
            *d *= *d;
        }
        let feat: Vec<f64> = boxcar_nearest(&e, self.integ)
            .into_iter()
            .map(|m| m.max(0.0).sqrt())
            .collect();
        self.processed = v.region.1;
        let off = v.slice_start;
        let (ra, rb) = ((v.region.0 - off) as usize, (v.region.1 - off) as usize);
        // local maxima of the detection function inside the region
        let mut local = Vec::new();
        for i in ra.max(1)..rb.min(feat.len() - 1) {
            if feat[i] > feat[i - 1] && feat[i] >= feat[i + 1] && feat[i] > 0.0 {
                local.push(i);
            }
        }
        // polarity of the lead from this block's strongest candidates
        self.update_polarity(&clean, &feat, &local);
        for i in local {
            let r = self.locate_r(&clean, i);
            let h = self.half;
            if r >= h && r + h < clean.len() {
                self.snips
                    .push((off + r as u64, clean[r - h..=r + h].to_vec()));
            }
            self.add_candidate(Cand {
                pos: off + i as u64,
                r: off + r as u64,
                h: feat[i],
            });
        }
        self.decide(v.last);
        // beats up to the decision horizon are out, except that a search-back may still
        // insert beats after the last accepted one (bounded to 3 s back)
        let horizon = v
            .region
            .1
            .saturating_sub(self.level_ahead + self.refractory);
        let pending_floor = match self.last {
            Some(l) if !self.rejected_since.is_empty() => l.r + 1,
            _ => horizon,
        };
        let bound = horizon
            .min(pending_floor)
            .max(horizon.saturating_sub(self.level_back.min((3.0 * self.fs) as u64)));
        self.final_until = self.final_until.max(bound);
    }

    /// The R-peak of the QRS whose energy peaks at `i`: where the cleaned ECG best matches
    /// the running beat template (once it is known), refined to the extreme of the cleaned
    /// signal within a third of the template's half-width; otherwise the extreme within
    /// the search window.
    fn locate_r(&self, clean: &[f64], i: usize) -> usize {
        let lo = i.saturating_sub(self.rwin);
        let hi = (i + self.rwin + 1).min(clean.len());
        let argmax = |a: usize, b: usize| {
            let mut best = a;
            for j in a..b {
                if self.polarity * clean[j] > self.polarity * clean[best] {
                    best = j;
                }
            }
            best
        };
        let h = self.half;
        if self.template_n >= TEMPLATE_WARMUP {
            let (mut bj, mut bc) = (usize::MAX, f64::MIN);
            for j in lo.max(h)..hi.min(clean.len().saturating_sub(h)) {
                let c = correlation(&self.template, &clean[j - h..=j + h]);
                if c > bc {
                    bc = c;
                    bj = j;
                }
            }
            if bj != usize::MAX && bc >= 0.6 {
                let r = (h / 3).max(1);
                return argmax(bj.saturating_sub(r), (bj + r + 1).min(clean.len()));
            }
        }
        argmax(lo, hi)
    }

    /// Adds an accepted beat's waveform around its R-peak to the template.
    fn learn(&mut self, r: u64) {
        let Some(k) = self.snips.iter().position(|s| s.0 == r) else {
            return;
        };
        let snip = normalized(&self.snips[k].1);
        if self.template_n < TEMPLATE_WARMUP {
            let n = self.template_n as f64;
            if self.template.is_empty() {
                self.template = snip;
            } else {
                for (t, s) in self.template.iter_mut().zip(&snip) {
                    *t = (*t * n + s) / (n + 1.0);
                }
            }
            self.template_n += 1;
        } else if correlation(&self.template, &self.snips[k].1) >= 0.7 {
            for (t, s) in self.template.iter_mut().zip(&snip) {
                *t = 0.9 * *t + 0.1 * s;
            }
            self.template_n += 1;
        } else {
            return;
        }
        self.template = normalized(&self.template);
    }

    /// Judges the lead's polarity from this block's QRS complexes: the local maxima of
    /// the detection function that reach `threshold` times the block's QRS level (the
    /// median of its five highest), as a beat must; the median of their positive
    /// extremes on the cleaned ECG is compared with that of their negative ones. T waves
    /// and noise, whose maxima outnumber the beats several times but stay far below
    /// that threshold, are left out: a cut relative to the upper quartile of all maxima
    /// let them in, and on a lead with a tall R, a deep S and a biphasic T wave they
    /// outweighed the R waves and the peaks went to the S waves.
    fn update_polarity(&mut self, clean: &[f64], feat: &[f64], local: &[usize]) {
        if local.is_empty() {
            return;
        }
        let mut hs: Vec<f64> = local.iter().map(|&i| feat[i]).collect();
        hs.sort_by(|a, b| b.total_cmp(a));
        let top = &hs[..hs.len().min(5)];
        let cut = self.cfg.threshold * top[top.len() / 2];
        let (mut pos, mut neg) = (Vec::new(), Vec::new());
        for &i in local {
            if feat[i] < cut {
                continue;
            }
            let lo = i.saturating_sub(self.rwin);
            let hi = (i + self.rwin + 1).min(clean.len());
            let w = &clean[lo..hi];
            pos.push(w.iter().copied().fold(f64::MIN, f64::max));
            neg.push(-w.iter().copied().fold(f64::MAX, f64::min));
        }
        let (Some(p), Some(n)) = (median(&pos), median(&neg)) else {
            return;
        };
        if !self.polarity_known {
            self.polarity = if n > p { -1.0 } else { 1.0 };
            self.polarity_known = true;
        } else if self.polarity > 0.0 && n > 1.5 * p {
            self.polarity = -1.0;
        } else if self.polarity < 0.0 && p > 1.5 * n {
            self.polarity = 1.0;
        }
    }

    fn add_candidate(&mut self, c: Cand) {
        // at most one candidate per refractory period: the higher wins
        while let Some(prev) = self.cands.last() {
            if self.cands.len() <= self.decided || c.pos - prev.pos >= self.refractory {
                break;
            }
            if prev.h >= c.h {
                return;
            }
            self.cands.pop();
        }
        self.cands.push(c);
    }

    fn level(&self, c: &Cand) -> f64 {
        let lo = c.pos.saturating_sub(self.level_back);
        let hi = c.pos + self.level_ahead;
        let mut top = [0.0f64; 5];
        let mut n = 0;
        for k in self.cands.iter().filter(|k| k.pos >= lo && k.pos <= hi) {
            // keep the five highest
            if n < 5 {
                top[n] = k.h;
                n += 1;
            } else {
                let (mi, mv) =
                    top.iter()
                        .enumerate()
                        .fold((0, f64::MAX), |a, (i, &v)| if v < a.1 { (i, v) } else { a });
                if k.h > mv {
                    top[mi] = k.h;
                }
            }
        }
        let t = &mut top[..n];
        t.sort_by(f64::total_cmp);
        if n == 0 {
            0.0
        } else if n % 2 == 1 {
            t[n / 2]
        } else {
            (t[n / 2 - 1] + t[n / 2]) / 2.0
        }
    }

    fn decide(&mut self, all: bool) {
        let horizon = self.processed.saturating_sub(self.level_ahead);
        while self.decided < self.cands.len() {
            let c = self.cands[self.decided];
            if !all && c.pos > horizon {
                break;
            }
            let level = self.level(&c);
            self.decided += 1;
            let thr = self.cfg.threshold * level;
            let mrr = self.median_rr();
            let is_beat = c.h >= thr
                && match self.last {
                    None => true,
                    Some(l) => {
                        let d = c.r.saturating_sub(l.r);
                        c.r > l.r
                            && d >= self.refractory
                            && !(d < self.t_wave && c.h < 0.5 * l.h)
                            && !(mrr > 0.0
                                && (d as f64) < self.cfg.premature * mrr
                                && c.h < self.cfg.premature_level * level)
                    }
                };
            if is_beat {
                self.accept(c, thr);
            } else {
                self.rejected_since.push(c);
            }
        }
        // forget decided candidates that no longer enter any level window
        let keep_from =
            horizon.saturating_sub(self.level_back + self.level_ahead + self.refractory);
        let drop = self.cands[..self.decided]
            .iter()
            .take_while(|c| c.pos < keep_from)
            .count();
        if drop > 0 {
            self.cands.drain(..drop);
            self.decided -= drop;
        }
        let floor = keep_from.min(self.last.map_or(u64::MAX, |l| l.r));
        let old = self.snips.iter().take_while(|s| s.0 < floor).count();
        if old > 0 {
            self.snips.drain(..old);
        }
    }

    /// Median of the recent RR intervals (samples), 0 until three are known.
    fn median_rr(&self) -> f64 {
        if self.rr_hist.len() >= 3 {
            median(&self.rr_hist).unwrap_or(0.0)
        } else {
            0.0
        }
    }

    fn accept(&mut self, c: Cand, thr: f64) {
        if let Some(l) = self.last {
            let floor = self.final_until;
            let mut found = Vec::new();
            let mrr = self.median_rr();
            if mrr > 0.0 {
                let min_gap = (self.cfg.premature * mrr) as u64;
                let mut gaps = vec![(l, c)];
                while let Some((a, b)) = gaps.pop() {
                    if ((b.r - a.r) as f64) <= self.cfg.searchback * mrr {
                        continue;
                    }
                    let best = self
                        .rejected_since
                        .iter()
                        .filter(|k| {
                            k.r >= floor
                                && k.r > a.r
                                && k.r < b.r
                                && k.r - a.r >= self.refractory.max(min_gap)
                                && b.r - k.r >= self.refractory.max(min_gap)
                                && k.h >= 0.5 * thr
                                && !(k.r - a.r < self.t_wave && k.h < 0.5 * a.h)
                        })
                        .max_by(|x, y| x.h.total_cmp(&y.h))
                        .copied();
                    if let Some(k) = best {
                        found.push(k);
                        gaps.push((a, k));
                        gaps.push((k, b));
                    }
                }
            }
            found.sort_by_key(|k| k.r);
            let mut prev = l;
            for k in found.into_iter().chain(std::iter::once(c)) {
                self.rr_hist.push((k.r - prev.r) as f64);
                if self.rr_hist.len() > 8 {
                    self.rr_hist.remove(0);
                }
                self.out.push(k.r);
                self.learn(k.r);
                prev = k;
            }
        } else {
            self.out.push(c.r);
            self.learn(c.r);
        }
        self.rejected_since.clear();
        self.last = Some(c);
    }
}

/// Detects R-peaks in a whole ECG recording sampled at `fs` Hz with the default
/// parameters; returns sample indices. The same as streaming the samples through an
/// [`EcgDetector`].
pub fn detect_r_peaks(ecg: &[f32], fs: f64) -> Result<Vec<u64>, FilterError> {
    detect_r_peaks_with(ecg, fs, EcgDetectorConfig::default())
}

/// [`detect_r_peaks`] with explicit parameters.
pub fn detect_r_peaks_with(
    ecg: &[f32],
    fs: f64,
    cfg: EcgDetectorConfig,
) -> Result<Vec<u64>, FilterError> {
    let mut d = EcgDetector::new(fs, cfg)?;
    let mut peaks = d.push(ecg);
    peaks.extend(d.finish());
    Ok(peaks)
}

/// Matches detected peaks to reference beats (both ascending sample indices) within
/// `tolerance` samples, one-to-one, nearest first. Returns (true positives, false
/// negatives, false positives).
pub fn match_beats(reference: &[u64], detected: &[u64], tolerance: u64) -> (usize, usize, usize) {
    let mut used = vec![false; detected.len()];
    let mut tp = 0;
    for &s in reference {
        let k = detected.partition_point(|&p| p < s);
        let mut best: Option<usize> = None;
        for c in [k.wrapping_sub(1), k, k + 1] {
            if c < detected.len()
                && !used[c]
                && detected[c].abs_diff(s) <= tolerance
                && best.is_none_or(|b| detected[c].abs_diff(s) < detected[b].abs_diff(s))
            {
                best = Some(c);
            }
        }
        if let Some(b) = best {
            used[b] = true;
            tp += 1;
        }
    }
    (tp, reference.len() - tp, detected.len() - tp)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A synthetic ECG: narrow Gaussian R waves, broad T waves, baseline wander, noise.
    fn synth(fs: f64, rr: &[f64], invert: bool) -> (Vec<f32>, Vec<u64>) {
        let total: f64 = rr.iter().sum::<f64>() + 2.0;
        let n = (total * fs) as usize;
        let mut x = vec![0.0f64; n];
        let mut t = 1.0;
        let mut beats = Vec::new();
        let mut seed = 12345u64;
        for &r in rr {
            beats.push((t * fs).round() as u64);
            for (i, v) in x.iter_mut().enumerate() {
                let ti = i as f64 / fs;
                *v += (-(ti - t).powi(2) / (2.0 * 0.012f64.powi(2))).exp()
                    + 0.3 * (-(ti - t - 0.25).powi(2) / (2.0 * 0.04f64.powi(2))).exp();
            }
            t += r;
        }
        let s: Vec<f32> = x
            .iter()
            .enumerate()
            .map(|(i, v)| {
                seed = seed
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let noise = ((seed >> 33) as f64 / (1u64 << 31) as f64 - 0.5) * 0.05;
                let wander = 0.3 * (2.0 * std::f64::consts::PI * 0.2 * i as f64 / fs).sin();
                let y = if invert { -v } else { *v };
                (y + wander + noise) as f32
            })
            .collect();
        (s, beats)
    }

    #[test]
    fn finds_every_synthetic_beat_at_several_rates_and_polarities() {
        let rr: Vec<f64> = (0..60)
            .map(|i| 0.8 + 0.1 * ((i as f64) * 0.7).sin())
            .collect();
        for fs in [100.0, 250.0, 360.0, 1000.0] {
            for invert in [false, true] {
                let (x, truth) = synth(fs, &rr, invert);
                let peaks = detect_r_peaks(&x, fs).unwrap();
                let tol = (0.02 * fs).ceil() as u64;
                let (tp, fn_, fp) = match_beats(&truth, &peaks, tol);
                assert_eq!((fn_, fp), (0, 0), "fs {fs} invert {invert}: tp {tp}");
            }
        }
    }

    #[test]
    fn streaming_in_small_chunks_equals_whole_record() {
        let rr: Vec<f64> = (0..40)
            .map(|i| 0.7 + 0.2 * ((i as f64) * 1.3).sin().abs())
            .collect();
        let (x, _) = synth(250.0, &rr, false);
        let whole = detect_r_peaks(&x, 250.0).unwrap();
        let mut d = EcgDetector::new(250.0, EcgDetectorConfig::default()).unwrap();
        let mut got = Vec::new();
        for c in x.chunks(37) {
            got.extend(d.push(c));
            assert!(got.windows(2).all(|w| w[0] < w[1]));
        }
        got.extend(d.finish());
        assert_eq!(whole, got);
    }

    #[test]
    fn flat_noise_and_bad_input_do_not_panic() {
        assert!(detect_r_peaks(&[0.0; 5000], 250.0).unwrap().is_empty());
        let nan = vec![f32::NAN; 3000];
        assert!(detect_r_peaks(&nan, 250.0).unwrap().is_empty());
        assert!(detect_r_peaks(&[1.0, 2.0], 250.0).unwrap().is_empty());
        assert!(detect_r_peaks(&[], 250.0).unwrap().is_empty());
        assert!(EcgDetector::new(10.0, EcgDetectorConfig::default()).is_err());
        assert!(EcgDetector::new(f64::NAN, EcgDetectorConfig::default()).is_err());
    }

    #[test]
    fn matching_counts_one_to_one() {
        assert_eq!(
            match_beats(&[100, 200, 300], &[101, 250, 302, 400], 5),
            (2, 1, 2)
        );
    }
}
