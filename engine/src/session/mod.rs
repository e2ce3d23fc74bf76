//! Adaptive sessions: the body steers the sound. The same [`AdaptiveController`] runs live
//! (fed by a source on its input thread) and offline (fed against the virtual clock).

mod adaptive;
mod feed;
pub mod log;

pub use adaptive::{AdaptiveController, AdaptiveSetup, SessionOutcome};
pub use feed::{ChannelFeed, Feed, ReplayFeed};
pub use log::SessionLog;

/// The feature settings of adaptive sessions: 60 s windows every 5 s, and the person's
/// baseline from the session's first 5 minutes. A session may start aroused, so the
/// baseline is a reference for change, not a resting level: estimators must not read
/// a zero z-score as calm (the rule-based one also scores against population anchors).
pub fn session_features() -> crate::biometrics::features::FeatureConfig {
    crate::biometrics::features::FeatureConfig::default()
}
