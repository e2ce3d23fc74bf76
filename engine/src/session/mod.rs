//! Adaptive sessions: the body steers the sound. The same [`AdaptiveController`] runs live
//! (fed by a source on its input thread) and offline (fed against the virtual clock).

mod adaptive;
mod feed;
pub mod log;

pub use adaptive::{AdaptiveController, AdaptiveSetup, SessionOutcome};
pub use feed::{ChannelFeed, Feed, ReplayFeed};
pub use log::SessionLog;
