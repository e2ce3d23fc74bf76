//! Arousal estimation: from a window of biometric features to how aroused (stressed ↔
//! calm) the listener is, and how sure that estimate is. Runs on the control thread at
//! the feature hop (every 5 s by default), never on the audio thread.
//!
//! [`ArousalEstimator`] is what the policy consumes; [`RuleEstimator`] is the transparent
//! rule-based estimator that stands in when no model is given.

mod estimate;
mod rules;

pub use estimate::{Abstain, ArousalEstimate, ArousalEstimator};
pub use rules::{RuleConfig, RuleEstimator};
