//! Sessions: a [`SessionPlan`] (preset, what steers it, the listener's profile and
//! palette, the level cap, log and report) run offline ([`SessionPlan::offline`]), on
//! the sound card ([`LiveSession::on_device`]) or inside the host's own audio callback
//! ([`LiveSession::with_host_audio`] with its [`SessionAudio`]).
//!
//! In adaptive sessions the body steers the sound. The same [`AdaptiveController`] runs
//! live (fed by a source on its input thread, or by readings the host pushes through a
//! [`SampleSender`]) and offline (fed against the virtual clock).

mod adaptive;
mod feed;
mod host;
pub mod input;
#[cfg(feature = "cpal")]
mod live;
pub mod log;
mod outcome;
mod params;
mod plan;
mod push;
mod run;

pub use adaptive::{AdaptiveController, AdaptiveSetup};
pub use feed::{ChannelFeed, Feed, ReplayFeed};
pub use host::SessionAudio;
pub use input::{InputError, InputSpec};
#[cfg(feature = "cpal")]
pub use live::{DeviceOptions, Started};
pub use log::SessionLog;
pub use outcome::SessionOutcome;
pub use plan::{
    estimator, AdaptiveOptions, Ended, Input, ListenerKind, Pacing, SessionEnd, SessionError,
    SessionPlan,
};
pub use push::{PushFeed, SampleSender};
pub use run::{
    DeviceEvent, End, FadeReason, Level, LiveSession, LiveSummary, SessionStatus, Update,
};

/// The feature settings of adaptive sessions: 60 s windows every 5 s, and the person's
/// baseline from the session's first 5 minutes. A session may start aroused, so the
/// baseline is a reference for change, not a resting level: estimators must not read
/// a zero z-score as calm (the rule-based one also scores against population anchors).
pub fn session_features() -> crate::biometrics::features::FeatureConfig {
    crate::biometrics::features::FeatureConfig::default()
}
