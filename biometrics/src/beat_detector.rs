//! What the ECG ([`super::ecg_peaks::EcgDetector`]) and PPG
//! ([`super::ppg_peaks::PpgDetector`]) detectors have in common: samples in, finalised
//! beat indices out. The feature extractor drives either through this trait.
//!
//! Runs on the control thread (or an input thread): detectors allocate.

use super::ecg_peaks::{EcgDetector, EcgDetectorConfig};
use super::filters::FilterError;
use super::ppg_peaks::{PpgDetector, PpgDetectorConfig};
use super::signal::WaveKind;

/// A streaming beat detector over one contiguous waveform segment.
pub trait BeatDetector: Send + std::fmt::Debug {
    /// Sampling rate, Hz.
    fn fs(&self) -> f64;
    /// Samples pushed so far.
    fn samples(&self) -> u64;
    /// Samples before this index are final: no beat before it will still be reported.
    fn final_until(&self) -> u64;
    /// Non-finite samples seen (each replaced by the previous finite sample).
    fn rejected_samples(&self) -> u64;
    /// Feeds samples; returns the beats finalised by them (absolute sample indices).
    fn push(&mut self, samples: &[f32]) -> Vec<u64>;
    /// Ends the segment; returns the remaining beats.
    fn finish(&mut self) -> Vec<u64>;
}

macro_rules! delegate {
    ($t:ty) => {
        impl BeatDetector for $t {
            fn fs(&self) -> f64 {
                <$t>::fs(self)
            }
            fn samples(&self) -> u64 {
                <$t>::samples(self)
            }
            fn final_until(&self) -> u64 {
                <$t>::final_until(self)
            }
            fn rejected_samples(&self) -> u64 {
                <$t>::rejected_samples(self)
            }
            fn push(&mut self, samples: &[f32]) -> Vec<u64> {
                <$t>::push(self, samples)
            }
            fn finish(&mut self) -> Vec<u64> {
                <$t>::finish(self)
            }
        }
    };
}

delegate!(EcgDetector);
delegate!(PpgDetector);

/// The detector for a waveform of `kind` (ECG or PPG) sampled at `fs`; `None` for a
/// respiration waveform, which has no beats.
pub fn detector_for(
    kind: WaveKind,
    fs: f64,
    ecg: &EcgDetectorConfig,
    ppg: &PpgDetectorConfig,
) -> Option<Result<Box<dyn BeatDetector>, FilterError>> {
    match kind {
        WaveKind::Ecg => {
            Some(EcgDetector::new(fs, ecg.clone()).map(|d| Box::new(d) as Box<dyn BeatDetector>))
        }
        WaveKind::Ppg => {
            Some(PpgDetector::new(fs, ppg.clone()).map(|d| Box::new(d) as Box<dyn BeatDetector>))
        }
        WaveKind::Resp => None,
    }
}
