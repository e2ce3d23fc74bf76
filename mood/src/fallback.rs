//! A model with the rule-based estimator behind it: when the model abstains because
//! inputs it needs are missing (typically the baseline z-scores during a session's first
//! five minutes, or a sensor the model needs but the listener does not wear), the rules,
//! which also work from absolute values, give the estimate instead and say so in its
//! `estimator` name. Any other abstention (poor quality, low confidence, a failure) stands.
//!
//! Runs on the control thread.

use super::estimate::{Abstain, ArousalEstimate, ArousalEstimator};
use super::rules::RuleEstimator;
use isochord_biometrics::features::FeatureWindow;

/// `primary`, with [`RuleEstimator`] standing in for missing inputs.
pub struct WithFallback {
    primary: Box<dyn ArousalEstimator>,
    rules: RuleEstimator,
}

impl WithFallback {
    /// Wraps `primary`.
    pub fn new(primary: Box<dyn ArousalEstimator>) -> Self {
        Self {
            primary,
            rules: RuleEstimator::default(),
        }
    }
}

impl ArousalEstimator for WithFallback {
    fn estimate(&mut self, window: &FeatureWindow) -> ArousalEstimate {
        let est = self.primary.estimate(window);
        match &est.abstain {
            Some(Abstain::MissingFeatures(missing)) => {
                let mut r = self.rules.estimate(window);
                r.estimator = format!(
                    "rules (for {}: missing {})",
                    est.estimator,
                    missing.join(", ")
                );
                r
            }
            _ => est,
        }
    }

    fn name(&self) -> String {
        format!("{} (rules when inputs are missing)", self.primary.name())
    }
}
