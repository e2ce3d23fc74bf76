//! The real-time engine: a [`Renderer`] for the audio thread and an [`EngineHandle`] for
//! the control thread, joined by lock-free single-producer single-consumer rings.
//!
//! ```text
//!  control thread                        audio thread
//!  EngineHandle ── commands ──────────▶  Renderer::render()
//!               ── new soundscapes ───▶    (preset switch, crossfaded)
//!               ◀── retired soundscapes ─  (dropped here, never on the audio thread)
//!               ◀── telemetry ──────────  (levels, timing, values)
//! ```
//!
//! Nothing on the audio side allocates, frees, locks, blocks or does I/O.

mod handle;
mod renderer;
mod telemetry;

pub use handle::{EngineHandle, SwitchError};
pub use renderer::{Renderer, SWITCH_CROSSFADE_S};
pub use telemetry::Telemetry;

use isochord_dsp::{Content, Soundscape, SoundscapeConfig};
use ringbuf::traits::Split;
use ringbuf::HeapRb;
use std::sync::atomic::AtomicU32;
use std::sync::Arc;

/// Slots in the command ring. At the 10 Hz control rate a tick sends at most one command
/// per parameter, so this holds many ticks even if the audio thread stalls.
pub const COMMAND_SLOTS: usize = 256;
/// Slots in the telemetry ring (one report every ~50 ms of audio).
pub const TELEMETRY_SLOTS: usize = 64;

/// Builds an engine for `config` at `sample_rate`: the control side's handle and the
/// audio side's renderer. Call on the control thread (it allocates and calibrates); then
/// move the [`Renderer`] to the audio thread.
pub fn new_engine(
    config: &SoundscapeConfig,
    sample_rate: f32,
    seed: u64,
) -> (EngineHandle, Renderer) {
    new_engine_with_content(config, &Content::none(), sample_rate, seed)
}

/// Like [`new_engine`], the soundscape playing `content` (whose audio must be at
/// `sample_rate`). Preset switches keep the same content. Control thread.
pub fn new_engine_with_content(
    config: &SoundscapeConfig,
    content: &Content,
    sample_rate: f32,
    seed: u64,
) -> (EngineHandle, Renderer) {
    let scape = Box::new(Soundscape::with_content(config, content, sample_rate, seed));
    let (cmd_tx, cmd_rx) = HeapRb::new(COMMAND_SLOTS).split();
    let (new_tx, new_rx) = HeapRb::new(2).split();
    let (old_tx, old_rx) = HeapRb::new(4).split();
    let (tel_tx, tel_rx) = HeapRb::new(TELEMETRY_SLOTS).split();
    let underruns = Arc::new(AtomicU32::new(0));
    let handle = EngineHandle::new(
        cmd_tx,
        new_tx,
        old_rx,
        tel_rx,
        underruns.clone(),
        sample_rate,
        seed,
        content.clone(),
    );
    let renderer = Renderer::new(scape, cmd_rx, new_rx, old_tx, tel_tx, underruns);
    (handle, renderer)
}
