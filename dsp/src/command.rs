//! Commands from the control side to the soundscape.

use crate::music::{Key, Scale};
use crate::params::Param;

/// One instruction for the soundscape. Small and `Copy`, so it travels through a
/// lock-free ring from the control thread to the audio thread.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Command {
    /// Move a parameter toward a value (clamped into range; NaN ignored).
    Set(Param, f32),
    /// Change key and scale at the next bar line, with a crossfade.
    Key(Key, Scale),
    /// Fade to silence over this many seconds.
    FadeOut(f32),
}
