//! Isochord's audio-thread DSP: a layered, steerable therapeutic soundscape (pad, pulse,
//! melody, noise bed, breath guide, recorded loops; pulse and melody synthesised or
//! sampled) with reverb and a safety stage (loudness calibration,
//! look-ahead limiter with a ceiling, NaN guard, fades).
//!
//! Everything here is built once off the audio thread and then rendered on it without
//! allocating, locking, blocking or doing I/O. The building blocks (oscillators, ladder
//! filter, reverb, noise, voices, limiter) are public so that benchmarks and other
//! patches can use them. An application adds its own sound as a [`custom`] layer: a
//! [fundsp](https://docs.rs/fundsp/0.23) graph that hears the steered parameters and is
//! mixed, leveled and limited like the built-in layers (fundsp is re-exported as
//! [`fundsp`], so its version always matches).
#![warn(missing_docs)]

pub mod biquad;
pub mod command;
pub mod compose;
pub mod config;
pub mod content;
pub mod custom;
pub mod ladder;
pub mod layers;
pub mod leveler;
pub mod limiter;
pub mod loop_player;
pub mod master;
pub mod meter;
pub mod music;
pub mod noise;
pub mod osc;
pub mod params;
pub mod reverb;
pub mod rng;
pub mod sampler;
pub mod smoother;
pub mod soundscape;
pub mod stream;
pub mod voice;

pub use command::Command;
pub use config::SoundscapeConfig;
pub use content::Content;
pub use custom::{CustomLayer, CustomLayerControl, Steering};
pub use fundsp;
pub use meter::Meter;
pub use music::{Key, Scale};
pub use params::{Layer, Param, PARAM_COUNT};
pub use soundscape::Soundscape;

/// The largest block the soundscape renders at once, in frames. Hosts may ask for any
/// length; it is split into blocks of at most this many frames.
pub const MAX_BLOCK: usize = 64;
