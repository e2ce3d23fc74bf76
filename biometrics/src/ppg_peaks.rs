//! Systolic-peak detection in the photoplethysmogram (PPG / blood-volume pulse) after
//! Elgendi et al. (PLoS ONE 2013), as NeuroKit2's `ppg_process` (method `elgendi`):
//!
//! 1. 2nd-order Butterworth band-pass 0.5–8 Hz, forward-backward.
//! 2. Negative samples clipped to zero, then squared.
//! 3. Two centred moving averages of the squared signal: 111 ms (systolic peak) and
//!    667 ms (beat); a wave is where the first exceeds the second plus 2 % of the mean
//!    squared signal.
//! 4. In each wave at least 111 ms long, the most prominent local maximum of the filtered
//!    signal is the pulse peak, if it comes more than 300 ms after the previous one.
//!
//! NeuroKit2 takes the mean of the squared signal over the whole recording; here it is
//! taken over each processing block with its context (the only difference), so that the
//! detector also runs on a live stream. Runs on the input or control thread.

use super::blocks::{BlockView, Blocks};
use super::filters::{boxcar_nearest, butter, most_prominent_peak, Band, FilterError, Sos};

/// Tunable parameters of the pulse detector.
#[derive(Clone, Debug, PartialEq)]
pub struct PpgDetectorConfig {
    /// New samples processed per block, seconds.
    pub block_s: f64,
    /// Context kept before each block, seconds.
    pub context_s: f64,
    /// Samples waited for after each block, seconds.
    pub lookahead_s: f64,
    /// Systolic-peak moving-average window, seconds.
    pub peak_window_s: f64,
    /// Beat moving-average window, seconds.
    pub beat_window_s: f64,
    /// Threshold offset as a fraction of the mean squared signal.
    pub beat_offset: f64,
    /// Minimum time between pulse peaks, seconds.
    pub min_delay_s: f64,
}

impl Default for PpgDetectorConfig {
    fn default() -> Self {
        Self {
            block_s: 10.0,
            context_s: 10.0,
            lookahead_s: 3.0,
            peak_window_s: 0.111,
            beat_window_s: 0.667,
            beat_offset: 0.02,
            min_delay_s: 0.3,
        }
    }
}

/// A streaming pulse-peak detector for one contiguous PPG segment; peaks come out in
/// order as absolute sample indices from the segment's start.
#[derive(Clone, Debug)]
pub struct PpgDetector {
    blocks: Blocks,
    bp: Sos,
    peak_k: usize,
    beat_k: usize,
    offset: f64,
    min_delay: u64,
    last: Option<u64>,
    out: Vec<u64>,
    final_until: u64,
    fs: f64,
}

impl PpgDetector {
    /// A detector for sampling rate `fs` (Hz), at least 20 Hz.
    pub fn new(fs: f64, cfg: PpgDetectorConfig) -> Result<Self, FilterError> {
        if !(fs.is_finite() && fs >= 20.0) {
            return Err(FilterError(format!(
                "PPG sampling rate {fs} Hz is too low for pulse detection (need >= 20 Hz)"
            )));
        }
        let samples = |s: f64| (s * fs).round().max(1.0) as usize;
        Ok(Self {
            blocks: Blocks::new(
                samples(cfg.block_s),
                samples(cfg.context_s),
                samples(cfg.lookahead_s),
            ),
            bp: butter(2, Band::Bandpass(0.5, 8.0), fs)?,
            peak_k: samples(cfg.peak_window_s),
            beat_k: samples(cfg.beat_window_s),
            offset: cfg.beat_offset,
            min_delay: samples(cfg.min_delay_s) as u64,
            last: None,
            out: Vec::new(),
            final_until: 0,
            fs,
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

    /// Samples before this index are final.
    pub fn final_until(&self) -> u64 {
        self.final_until
    }

    /// Non-finite samples seen (each replaced by the previous finite sample).
    pub fn rejected_samples(&self) -> u64 {
        self.blocks.rejected
    }

    /// Feeds samples; returns the pulse peaks finalised by them.
    pub fn push(&mut self, samples: &[f32]) -> Vec<u64> {
        let mut blocks = std::mem::replace(&mut self.blocks, Blocks::new(1, 0, 0));
        blocks.push(samples, &mut |v| self.process(v));
        self.blocks = blocks;
        std::mem::take(&mut self.out)
    }

    /// Ends the segment; returns the remaining peaks.
    pub fn finish(&mut self) -> Vec<u64> {
        let mut blocks = std::mem::replace(&mut self.blocks, Blocks::new(1, 0, 0));
        blocks.finish(&mut |v| self.process(v));
        self.final_until = blocks.total();
        self.blocks = blocks;
        std::mem::take(&mut self.out)
    }

    fn process(&mut self, v: BlockView<'_>) {
        let x = v.slice;
        self.final_until = v.region.1;
        if x.len() < 3 {
            return;
        }
        let f = self.bp.filtfilt(x);
        let sq: Vec<f64> = f
            .iter()
            .map(|&a| if a > 0.0 { a * a } else { 0.0 })
            .collect();
        let mean = sq.iter().sum::<f64>() / sq.len() as f64;
        let ma_peak = boxcar_nearest(&sq, self.peak_k);
        let ma_beat = boxcar_nearest(&sq, self.beat_k);
        let wave: Vec<bool> = ma_peak
            .iter()
            .zip(&ma_beat)
            .map(|(p, b)| *p > b + self.offset * mean)
            .collect();
        let off = v.slice_start;
        let (ra, rb) = ((v.region.0 - off) as usize, (v.region.1 - off) as usize);
        // waves that start inside the region (a wave is owned by the block of its start)
        let mut i = ra.max(1);
        while i < rb {
            if wave[i] && !wave[i - 1] {
                let beg = i;
                let mut end = i;
                while end < wave.len() && wave[end] {
                    end += 1;
                }
                // NeuroKit's wave spans from the last sample below threshold to the last
                // sample above it, end exclusive
                let (b0, e0) = (beg - 1, end - 1);
                if e0 - b0 >= self.peak_k {
                    if let Some(p) = most_prominent_peak(&f[b0..e0]) {
                        let peak = off + (b0 + p) as u64;
                        if self.last.is_none_or(|l| peak - l > self.min_delay) {
                            self.out.push(peak);
                            self.last = Some(peak);
                        }
                    }
                }
                i = end;
            } else {
                i += 1;
            }
        }
    }
}

/// Detects pulse peaks in a whole PPG recording sampled at `fs` Hz (default parameters);
/// the same as streaming it through a [`PpgDetector`].
pub fn detect_pulse_peaks(ppg: &[f32], fs: f64) -> Result<Vec<u64>, FilterError> {
    let mut d = PpgDetector::new(fs, PpgDetectorConfig::default())?;
    let mut p = d.push(ppg);
    p.extend(d.finish());
    Ok(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_synthetic_pulses_and_survives_bad_input() {
        let fs = 64.0;
        let period = 0.85;
        let n = (60.0 * fs) as usize;
        let x: Vec<f32> = (0..n)
            .map(|i| {
                let t = i as f64 / fs;
                let ph = (t % period) / period;
                // fast systolic upstroke, slow decay, a small dicrotic bump
                let pulse = (-(ph - 0.2).powi(2) / 0.005).exp()
                    + 0.2 * (-(ph - 0.55).powi(2) / 0.004).exp();
                (pulse + 0.2 * (t * 0.3).sin()) as f32
            })
            .collect();
        let p = detect_pulse_peaks(&x, fs).unwrap();
        let expect = (60.0 / period) as usize;
        assert!(p.len().abs_diff(expect) <= 1, "{} vs {expect}", p.len());
        let d: Vec<u64> = p.windows(2).map(|w| w[1] - w[0]).collect();
        assert!(
            d.iter().all(|&s| (s as f64 - period * fs).abs() <= 2.0),
            "{d:?}"
        );
        assert!(detect_pulse_peaks(&[f32::NAN; 500], fs).unwrap().is_empty());
        assert!(detect_pulse_peaks(&[], fs).unwrap().is_empty());
        assert!(PpgDetector::new(4.0, PpgDetectorConfig::default()).is_err());
    }
}
