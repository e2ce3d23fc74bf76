//! Everything between a sensor and a feature vector: typed samples, sources, beat
//! detection, artifact handling and windowed features. Runs on input and control
//! threads, never on the audio thread.

pub mod baseline;
pub mod beat_detector;
mod blocks;
pub mod ecg_peaks;
pub mod eda;
pub mod feature_types;
pub mod features;
pub mod filters;
pub mod hrv;
pub mod movement;
pub mod ppg_peaks;
pub mod respiration;
pub mod rr_artifacts;
pub mod signal;
pub mod sources;
pub mod wfdb;

pub use signal::{Reading, SensorData, Value, WaveKind, Waveform};
pub use sources::{Pull, Source, SourceInfo, SourceIssue, SourceStats};
