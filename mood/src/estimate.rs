//! The estimate and the estimator trait.

use isochord_biometrics::features::FeatureWindow;
use std::fmt;

/// Why an estimator declined to give an estimate the policy may act on.
#[derive(Clone, Debug, PartialEq)]
pub enum Abstain {
    /// Signal quality of the window is below the estimator's floor.
    LowQuality {
        /// The window's quality, 0..1.
        quality: f64,
    },
    /// Features the estimator needs are missing.
    MissingFeatures(Vec<String>),
    /// The estimate is too uncertain to act on.
    LowConfidence {
        /// The confidence, 0..1.
        confidence: f64,
    },
    /// The estimator failed (e.g. inference error); the text says how.
    Failed(String),
}

impl Abstain {
    /// The abstention for a window of quality `quality` and an estimate of confidence
    /// `confidence` against the estimator's floors (quality is checked first), if any.
    pub fn below_floors(
        quality: f64,
        min_quality: f64,
        confidence: f64,
        min_confidence: f64,
    ) -> Option<Abstain> {
        if quality < min_quality {
            Some(Abstain::LowQuality { quality })
        } else if confidence < min_confidence {
            Some(Abstain::LowConfidence { confidence })
        } else {
            None
        }
    }
}

impl fmt::Display for Abstain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Abstain::LowQuality { quality } => write!(f, "signal quality {quality:.2} too low"),
            Abstain::MissingFeatures(names) => write!(f, "missing {}", names.join(", ")),
            Abstain::LowConfidence { confidence } => {
                write!(f, "confidence {confidence:.2} too low")
            }
            Abstain::Failed(why) => write!(f, "estimator failed: {why}"),
        }
    }
}

/// An arousal estimate for one feature window.
#[derive(Clone, Debug, PartialEq)]
pub struct ArousalEstimate {
    /// End of the window it describes, session seconds.
    pub time: f64,
    /// Arousal 0 (calm) .. 1 (stressed): the probability of the aroused class, or the
    /// expected arousal over the classes.
    pub arousal: f64,
    /// How sure the estimate is, 0..1.
    pub confidence: f64,
    /// Class probabilities in the estimator's class order (`(name, p)`), summing to 1.
    pub probabilities: Vec<(String, f64)>,
    /// Set when the policy should not act on this estimate.
    pub abstain: Option<Abstain>,
    /// Which estimator produced it (`rules`, or a model's name and version).
    pub estimator: String,
}

impl ArousalEstimate {
    /// Whether the policy may act on it.
    pub fn usable(&self) -> bool {
        self.abstain.is_none()
    }
}

/// Turns feature windows into arousal estimates. Runs on the control thread.
pub trait ArousalEstimator: Send {
    /// Estimates arousal for `window`.
    fn estimate(&mut self, window: &FeatureWindow) -> ArousalEstimate;

    /// A short name for logs and status lines (`rules`, `stress-lr 1.0.0`).
    fn name(&self) -> String;
}
