//! Adaptive sessions: the body steers the sound. The same [`AdaptiveController`] runs live
//! (fed by a source on its input thread) and offline (fed against the virtual clock).

mod adaptive;
mod feed;
pub mod log;

pub use adaptive::{AdaptiveController, AdaptiveSetup, SessionOutcome};
pub use feed::{ChannelFeed, Feed, ReplayFeed};
pub use log::SessionLog;

/// The feature settings of adaptive sessions: 60 s windows every 5 s, and no
/// session-start baseline (a session may start stressed, so its first minutes are no
/// resting reference).
pub fn session_features() -> crate::biometrics::features::FeatureConfig {
    let mut f = crate::biometrics::features::FeatureConfig::default();
    f.baseline.duration_s = 0.0;
    f
}
