//! Isochord's biometrics: everything between a sensor and a feature vector — typed
//! samples, sources (files, streams, sockets, a simulator), beat detection, artifact
//! handling, windowed features and the resting baseline.
//!
//! Threads: sources are pulled on input threads (or, offline, on the control thread);
//! detection, features and baselines run on the control thread. Nothing here runs on the
//! audio thread, and the crate has no audio, model-inference or plotting dependencies, so
//! it can be used on its own to read and analyse recordings.
//!
//! Features: `osc` (default) adds [`sources::OscSource`], OSC over UDP (rosc, socket2).
#![warn(missing_docs)]

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
pub mod recording;
pub mod respiration;
pub mod rr_artifacts;
pub mod signal;
pub mod source_error;
pub mod sources;
pub mod wfdb;

pub use signal::{Reading, SensorData, Value, WaveKind, Waveform};
pub use source_error::SourceError;
pub use sources::{Pull, Source, SourceInfo, SourceIssue, SourceStats};
