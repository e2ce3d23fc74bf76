//! Isochord's arousal estimation: from a window of biometric features
//! ([`isochord_biometrics::features::FeatureWindow`]) to how aroused (stressed ↔ calm)
//! the listener is, and how sure that estimate is.
//!
//! Threads: runs on the control thread at the feature hop (every 5 s by default), never
//! on the audio thread. Model inference (tract) happens here, on the control thread.
//!
//! [`ArousalEstimator`] is what the policy consumes; [`OnnxEstimator`] runs a trained
//! model (the bundled `stress-lr`, or the user's own) with tract; [`RuleEstimator`] is the
//! transparent rule-based estimator that stands in when a model cannot be used.
//! [`load_estimator`] picks between them.
#![warn(missing_docs)]

mod estimate;
mod fallback;
pub mod onnx;
mod rules;

pub use estimate::{Abstain, ArousalEstimate, ArousalEstimator};
pub use fallback::WithFallback;
pub use onnx::{
    load_estimator, ModelContract, ModelError, Normalisation, OnnxEstimator, BUNDLED_MODEL,
};
pub use rules::{RuleConfig, RuleEstimator};
