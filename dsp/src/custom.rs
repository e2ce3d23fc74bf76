//! Custom layers: an application's own sound, written as a [fundsp] graph, mixed into the
//! soundscape like the built-in layers.
//!
//! A custom layer hears the soundscape's steered parameters in two ways, and a graph may
//! use either or both:
//!
//! - **shared values**: a [`Steering`] holds one fundsp [`Shared`] per parameter; the
//!   audio thread stores the smoothed values into it at the end of every block (at most
//!   [`crate::MAX_BLOCK`] frames), lock-free. A graph reads them with fundsp's `var`
//!   (`var(&steering.brightness)`) or `var_fn`.
//! - **graph inputs**: a graph with [`STEERING_INPUTS`] inputs receives the parameters
//!   as signals, sample by sample, in the order of [`STEERING_INPUT_NAMES`] (smooth
//!   values ramp linearly across the block; the beat and breath phases advance every
//!   sample).
//!
//! Its output (one channel, sent to both sides, or two) is sanitised (NaN and infinity
//! become silence, the graph is reset, and the event is counted; samples are held within
//! ±[`OUTPUT_LIMIT`]), multiplied by its smoothed gain and on/off, mixed with the other
//! layers before the reverb, and then leveled, faded and limited with the whole mix, so
//! it cannot pass the output ceiling. Its gain and on/off are set through a
//! [`CustomLayerControl`] from any thread.
//!
//! The graph is cloned, given its sample rate and `allocate()`d when a soundscape takes
//! it (control thread); rendering it then never allocates, as long as the graph's own
//! nodes do not (fundsp's oscillators, filters, noise and `var` do not).
//!
//! ```
//! use isochord_dsp::custom::{CustomLayer, Steering};
//! use isochord_dsp::fundsp::prelude32::*;
//! use isochord_dsp::{Content, Soundscape, SoundscapeConfig};
//!
//! let steering = Steering::new();
//! // wind: noise through a moog filter whose cutoff follows brightness
//! let cutoff = var_fn(&steering.brightness, |b| 200.0 + 2_000.0 * b);
//! let wind = (noise() | cutoff | dc(0.5)) >> moog();
//! let layer = CustomLayer::new("wind", Box::new(wind), &steering, 0.7).unwrap();
//! let control = layer.control();
//!
//! let mut content = Content::none();
//! content.custom.push(layer);
//! let mut scape = Soundscape::with_content(&SoundscapeConfig::default(), &content, 48_000.0, 1);
//! let mut buf = vec![0.0f32; 2 * 4_800];
//! scape.render(&mut buf);
//! assert!(control.take_meter().peak > 0.0);
//! control.set_gain(0.2); // from any thread
//! ```

use crate::layers::breath_swell;
use crate::smoother::Smoother;
use fundsp::audiounit::AudioUnit;
use fundsp::buffer::BufferVec;
pub use fundsp::shared::Shared;
use std::fmt;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::Arc;

/// How many custom layers a soundscape mixes at most.
pub const MAX_CUSTOM_LAYERS: usize = 4;

/// How many inputs a graph that takes the steered parameters as signals has.
pub const STEERING_INPUTS: usize = 8;

/// The steered parameters, in the order a graph with [`STEERING_INPUTS`] inputs receives
/// them (the same names as the fields of [`Steering`]).
pub const STEERING_INPUT_NAMES: [&str; STEERING_INPUTS] = [
    "tempo",
    "beat_phase",
    "brightness",
    "density",
    "energy",
    "breath_phase",
    "breath_rate",
    "breath_swell",
];

/// The largest magnitude a custom layer's sample may have before its gain (+12 dBFS);
/// louder samples are held at it.
pub const OUTPUT_LIMIT: f32 = 4.0;

/// The fastest a custom layer's gain moves, per second (as a built-in layer's).
const GAIN_RATE: f32 = 0.5;
/// The fastest its on/off moves, per second (as a built-in layer's: 0.5 s).
const ON_RATE: f32 = 2.0;
/// Corner rounding of both, seconds.
const CORNER_S: f32 = 0.15;
/// The largest gain.
pub const MAX_GAIN: f32 = 1.5;

/// The soundscape's steered parameters as they sound now.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SteeringValues {
    /// Smoothed tempo, beats per minute (40–120).
    pub tempo: f32,
    /// Where in the current beat the clock is, 0..1 (0 on the beat).
    pub beat_phase: f32,
    /// Smoothed brightness, 0..1.
    pub brightness: f32,
    /// Smoothed harmonic density, 0..1.
    pub density: f32,
    /// Smoothed energy, 0..1.
    pub energy: f32,
    /// Where in the breath cycle the breath guide is, 0..1 (0 at the start of the
    /// in-breath).
    pub breath_phase: f32,
    /// Smoothed breath rate, breaths per minute (3–20).
    pub breath_rate: f32,
    /// The breath guide's swell, 0..1: rises over the in-breath, falls over the
    /// out-breath (a raised cosine; 1 at the top of the breath).
    pub breath_swell: f32,
}

impl Default for SteeringValues {
    fn default() -> Self {
        Self {
            tempo: 60.0,
            beat_phase: 0.0,
            brightness: 0.5,
            density: 0.5,
            energy: 0.5,
            breath_phase: 0.0,
            breath_rate: 6.0,
            breath_swell: 0.0,
        }
    }
}

impl SteeringValues {
    /// The values in the order of [`STEERING_INPUT_NAMES`]. Any thread.
    pub fn to_array(&self) -> [f32; STEERING_INPUTS] {
        [
            self.tempo,
            self.beat_phase,
            self.brightness,
            self.density,
            self.energy,
            self.breath_phase,
            self.breath_rate,
            self.breath_swell,
        ]
    }
}

/// The steered parameters as fundsp [`Shared`] values, for a graph to read with `var` or
/// `var_fn`. The soundscape stores the smoothed values at the end of every block on the
/// audio thread (relaxed atomic stores: lock-free, no allocation). Cloning shares the
/// values; build one with [`Steering::new`] (control thread, it allocates) before
/// building the graph.
///
/// Every soundscape that plays a layer built on a `Steering` writes into it: keep one
/// `Steering` per playing soundscape (a graph given [`STEERING_INPUTS`] inputs instead
/// hears only the soundscape that renders it). During a preset switch's crossfade both
/// soundscapes play the layer and write into the same `Steering` (and the same meter)
/// block by block, so a graph reading it hears the two presets' values alternate for
/// those seconds; graphs that take inputs do not.
#[derive(Clone)]
pub struct Steering {
    /// Smoothed tempo, beats per minute.
    pub tempo: Shared,
    /// Position in the current beat, 0..1.
    pub beat_phase: Shared,
    /// Smoothed brightness, 0..1.
    pub brightness: Shared,
    /// Smoothed harmonic density, 0..1.
    pub density: Shared,
    /// Smoothed energy, 0..1.
    pub energy: Shared,
    /// Position in the breath cycle, 0..1.
    pub breath_phase: Shared,
    /// Smoothed breath rate, breaths per minute.
    pub breath_rate: Shared,
    /// The breath guide's swell, 0..1 (see [`SteeringValues::breath_swell`]).
    pub breath_swell: Shared,
}

impl Default for Steering {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for Steering {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Steering").field(&self.values()).finish()
    }
}

impl Steering {
    /// New shared values, holding [`SteeringValues::default`] until a soundscape plays.
    /// Control thread (allocates).
    pub fn new() -> Self {
        let v = SteeringValues::default();
        Self {
            tempo: Shared::new(v.tempo),
            beat_phase: Shared::new(v.beat_phase),
            brightness: Shared::new(v.brightness),
            density: Shared::new(v.density),
            energy: Shared::new(v.energy),
            breath_phase: Shared::new(v.breath_phase),
            breath_rate: Shared::new(v.breath_rate),
            breath_swell: Shared::new(v.breath_swell),
        }
    }

    /// Stores `values`. Audio thread (the soundscape calls it every block); lock-free.
    pub fn publish(&self, values: &SteeringValues) {
        self.tempo.set(values.tempo);
        self.beat_phase.set(values.beat_phase);
        self.brightness.set(values.brightness);
        self.density.set(values.density);
        self.energy.set(values.energy);
        self.breath_phase.set(values.breath_phase);
        self.breath_rate.set(values.breath_rate);
        self.breath_swell.set(values.breath_swell);
    }

    /// The values stored last. Any thread.
    pub fn values(&self) -> SteeringValues {
        SteeringValues {
            tempo: self.tempo.value(),
            beat_phase: self.beat_phase.value(),
            brightness: self.brightness.value(),
            density: self.density.value(),
            energy: self.energy.value(),
            breath_phase: self.breath_phase.value(),
            breath_rate: self.breath_rate.value(),
            breath_swell: self.breath_swell.value(),
        }
    }
}

/// One block of steering, as the soundscape computed it: values at the block's start
/// and end, and the clocks unwrapped across it.
#[derive(Clone, Copy, Debug)]
pub struct SteeringBlock {
    /// Frames in the block (≤ [`crate::MAX_BLOCK`]).
    pub frames: usize,
    /// Values at the start of the block.
    pub from: SteeringValues,
    /// Values at the end of the block.
    pub to: SteeringValues,
    /// The beat clock at the block's start and end, beats.
    pub beats: (f64, f64),
    /// The breath phase at the block's start and how far it advances over the block
    /// (cycles).
    pub breath: (f32, f32),
    /// The breath guide's in-breath share of a cycle (shapes the swell).
    pub inhale: f32,
}

/// Why a custom layer was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CustomLayerError {
    /// The name is empty or has characters other than letters, digits, `_` and `-`.
    Name(String),
    /// The graph has neither 1 nor 2 outputs.
    Outputs {
        /// The layer's name.
        name: String,
        /// Outputs the graph has.
        outputs: usize,
    },
    /// The graph has neither 0 nor [`STEERING_INPUTS`] inputs.
    Inputs {
        /// The layer's name.
        name: String,
        /// Inputs the graph has.
        inputs: usize,
    },
    /// The gain is not a number in 0..=[`MAX_GAIN`].
    Gain {
        /// The layer's name.
        name: String,
        /// The gain given, as written.
        gain: String,
    },
    /// The soundscape already mixes [`MAX_CUSTOM_LAYERS`] custom layers.
    TooMany {
        /// The layer refused.
        name: String,
    },
    /// Another custom layer already has this name.
    Duplicate(String),
}

impl fmt::Display for CustomLayerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CustomLayerError::Name(n) => write!(
                f,
                "custom layer name {n:?}: use 1 to 32 letters, digits, '_' or '-'"
            ),
            CustomLayerError::Outputs { name, outputs } => write!(
                f,
                "custom layer {name}: the graph has {outputs} outputs; it needs 1 (mono) or 2 (stereo)"
            ),
            CustomLayerError::Inputs { name, inputs } => write!(
                f,
                "custom layer {name}: the graph has {inputs} inputs; it needs 0, or {STEERING_INPUTS} to receive {}",
                STEERING_INPUT_NAMES.join(", ")
            ),
            CustomLayerError::Gain { name, gain } => write!(
                f,
                "custom layer {name}: gain {gain} is outside 0..={MAX_GAIN}"
            ),
            CustomLayerError::TooMany { name } => write!(
                f,
                "custom layer {name}: a soundscape mixes at most {MAX_CUSTOM_LAYERS} custom layers"
            ),
            CustomLayerError::Duplicate(n) => {
                write!(f, "custom layer {n}: another custom layer has this name")
            }
        }
    }
}

impl std::error::Error for CustomLayerError {}

/// What a custom layer produced since its meter was last taken: its signal at its gain,
/// before the master stage (leveler, makeup, fades, limiter).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct CustomMeter {
    /// Stereo frames rendered.
    pub frames: u64,
    /// Largest absolute sample.
    pub peak: f32,
    /// RMS over both channels (linear).
    pub rms: f32,
    /// Samples the graph produced that were NaN or infinite (silenced).
    pub non_finite_samples: u64,
    /// Blocks in which it did, after each of which the graph was reset.
    pub reset_blocks: u64,
}

impl CustomMeter {
    /// RMS in dBFS (−inf for silence). Any thread.
    pub fn rms_dbfs(&self) -> f32 {
        20.0 * self.rms.log10()
    }
}

#[derive(Default)]
struct MeterAtomics {
    frames: AtomicU64,
    peak: AtomicU32,
    sum_sq: AtomicU64,
    non_finite: AtomicU64,
    resets: AtomicU64,
}

/// Sets a custom layer's gain and on/off and reads its meter, from any thread, while it
/// plays (lock-free atomics; the layer's smoothers move toward what is set at the
/// built-in layers' rates: the whole gain range in 3 s, on/off in 0.5 s). Cloning shares
/// the control.
#[derive(Clone)]
pub struct CustomLayerControl {
    name: Arc<str>,
    gain: Shared,
    enabled: Shared,
    meter: Arc<MeterAtomics>,
}

impl fmt::Debug for CustomLayerControl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CustomLayerControl")
            .field("name", &self.name)
            .field("gain", &self.gain.value())
            .field("enabled", &self.enabled.value())
            .finish()
    }
}

impl CustomLayerControl {
    /// The layer's name. Any thread.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Moves the gain toward `gain` (clamped into 0..=[`MAX_GAIN`]); NaN and infinity
    /// are ignored (returns false). Any thread.
    pub fn set_gain(&self, gain: f32) -> bool {
        if !gain.is_finite() {
            return false;
        }
        self.gain.set(gain.clamp(0.0, MAX_GAIN));
        true
    }

    /// The gain asked for. Any thread.
    pub fn gain(&self) -> f32 {
        self.gain.value()
    }

    /// Fades the layer in (true) or out (false) over half a second. Any thread.
    pub fn set_enabled(&self, on: bool) {
        self.enabled.set(if on { 1.0 } else { 0.0 });
    }

    /// Whether the layer is asked to sound. Any thread.
    pub fn enabled(&self) -> bool {
        self.enabled.value() > 0.5
    }

    /// The meter since the last call (or since the soundscape was built), and a new one
    /// started. Any thread; call it from one place (a second caller takes the first's
    /// counts).
    pub fn take_meter(&self) -> CustomMeter {
        let m = &self.meter;
        let frames = m.frames.swap(0, Ordering::Relaxed);
        let sum_sq = f64::from_bits(m.sum_sq.swap(0, Ordering::Relaxed));
        CustomMeter {
            frames,
            peak: f32::from_bits(m.peak.swap(0, Ordering::Relaxed)),
            rms: if frames == 0 {
                0.0
            } else {
                (sum_sq / (2 * frames) as f64).sqrt() as f32
            },
            non_finite_samples: m.non_finite.swap(0, Ordering::Relaxed),
            reset_blocks: m.resets.swap(0, Ordering::Relaxed),
        }
    }

    /// Adds one block's counts. Audio thread.
    fn record(&self, frames: usize, peak: f32, sum_sq: f32, non_finite: u64) {
        let m = &self.meter;
        m.frames.fetch_add(frames as u64, Ordering::Relaxed);
        // non-negative floats order like their bit patterns
        m.peak.fetch_max(peak.to_bits(), Ordering::Relaxed);
        // a compare-exchange loop: the sum is a float
        let mut old = m.sum_sq.load(Ordering::Relaxed);
        loop {
            let new = (f64::from_bits(old) + sum_sq as f64).to_bits();
            match m
                .sum_sq
                .compare_exchange_weak(old, new, Ordering::Relaxed, Ordering::Relaxed)
            {
                Ok(_) => break,
                Err(x) => old = x,
            }
        }
        if non_finite > 0 {
            m.non_finite.fetch_add(non_finite, Ordering::Relaxed);
            m.resets.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// A layer whose sound is a fundsp graph. Build it on the control thread with
/// [`CustomLayer::new`], keep its [`CustomLayerControl`], and give it to a soundscape
/// (through [`crate::Content::custom`] at construction, so that the loudness calibration
/// hears it, or [`crate::Soundscape::add_custom_layer`] before the soundscape plays).
///
/// Cloning clones the graph (its `Shared` values stay shared) and shares the control.
#[derive(Clone)]
pub struct CustomLayer {
    name: Arc<str>,
    unit: Box<dyn AudioUnit>,
    steering: Steering,
    control: CustomLayerControl,
    stereo: bool,
    wants_inputs: bool,
    inputs: BufferVec,
    outputs: BufferVec,
    gain: Smoother,
    on: Smoother,
    level: f32,
    sample_rate: f32,
}

impl fmt::Debug for CustomLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CustomLayer")
            .field("name", &self.name)
            .field("inputs", &self.unit.inputs())
            .field("outputs", &self.unit.outputs())
            .field("gain", &self.gain.value())
            .finish()
    }
}

impl CustomLayer {
    /// A layer named `name` (1–32 letters, digits, `_` or `-`; it names the layer in
    /// errors and logs) playing `graph` at `gain` (0..=[`MAX_GAIN`], like a built-in
    /// layer's). `steering` is the [`Steering`] the graph's `var`s read, if any; the
    /// soundscape stores the steered parameters into it every block. The graph has 1 or 2
    /// outputs and either no inputs or [`STEERING_INPUTS`]. Control thread.
    pub fn new(
        name: &str,
        graph: Box<dyn AudioUnit>,
        steering: &Steering,
        gain: f32,
    ) -> Result<CustomLayer, CustomLayerError> {
        let valid_char = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-';
        if name.is_empty() || name.len() > 32 || !name.chars().all(valid_char) {
            return Err(CustomLayerError::Name(name.to_string()));
        }
        let outputs = graph.outputs();
        if outputs != 1 && outputs != 2 {
            return Err(CustomLayerError::Outputs {
                name: name.to_string(),
                outputs,
            });
        }
        let inputs = graph.inputs();
        if inputs != 0 && inputs != STEERING_INPUTS {
            return Err(CustomLayerError::Inputs {
                name: name.to_string(),
                inputs,
            });
        }
        if !(0.0..=MAX_GAIN).contains(&gain) {
            return Err(CustomLayerError::Gain {
                name: name.to_string(),
                gain: gain.to_string(),
            });
        }
        let name: Arc<str> = Arc::from(name);
        let control = CustomLayerControl {
            name: name.clone(),
            gain: Shared::new(gain),
            enabled: Shared::new(1.0),
            meter: Arc::new(MeterAtomics::default()),
        };
        Ok(CustomLayer {
            name,
            unit: graph,
            steering: steering.clone(),
            control,
            stereo: outputs == 2,
            wants_inputs: inputs == STEERING_INPUTS,
            inputs: BufferVec::new(inputs),
            outputs: BufferVec::new(outputs),
            gain: Smoother::new(gain, GAIN_RATE, CORNER_S),
            on: Smoother::new(1.0, ON_RATE, CORNER_S),
            level: gain,
            sample_rate: 0.0,
        })
    }

    /// The layer's name. Any thread that owns it.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Its control: gain, on/off and meter, usable from any thread while it plays.
    /// Any thread.
    pub fn control(&self) -> CustomLayerControl {
        self.control.clone()
    }

    /// The [`Steering`] the soundscape stores the parameters into. Any thread that owns
    /// it.
    pub fn steering(&self) -> &Steering {
        &self.steering
    }

    /// Whether the graph has two outputs. Any thread that owns it.
    pub fn is_stereo(&self) -> bool {
        self.stereo
    }

    /// Gives the graph its sample rate, resets it and allocates everything it needs to
    /// render, and jumps gain and on/off to what the control asks for. The soundscape
    /// calls it when it takes the layer; call it yourself only for a layer handed to
    /// [`crate::Soundscape::swap_custom_layer`]. Control thread (allocates).
    pub fn prepare(&mut self, sample_rate: f32) {
        self.sample_rate = sample_rate;
        self.unit.set_sample_rate(sample_rate as f64);
        self.unit.reset();
        self.unit.allocate();
        let gain = self.control.gain.value().clamp(0.0, MAX_GAIN);
        let on = self.control.enabled.value().clamp(0.0, 1.0);
        self.gain.reset(gain);
        self.on.reset(on);
        self.level = gain * on;
    }

    /// The sample rate it was prepared for (0 before [`CustomLayer::prepare`]). Any
    /// thread that owns it.
    pub fn sample_rate(&self) -> f32 {
        self.sample_rate
    }

    /// Clears the graph's state (after the soundscape found NaN in its mix). Audio
    /// thread.
    pub fn reset(&mut self) {
        self.unit.reset();
    }

    /// Renders one block at its gain into `left` and `right` (overwritten; at least
    /// `block.frames` long), having stored the block's end values into its
    /// [`Steering`]. Audio thread: no allocation, locks or I/O.
    pub fn render(&mut self, block: &SteeringBlock, left: &mut [f32], right: &mut [f32]) {
        let n = block.frames.min(fundsp::MAX_BUFFER_SIZE);
        if n == 0 {
            return;
        }
        self.steering.publish(&block.to);
        if self.wants_inputs {
            self.fill_inputs(block, n);
        }
        self.unit
            .process(n, &self.inputs.buffer_ref(), &mut self.outputs.buffer_mut());
        let dt = n as f32 / self.sample_rate.max(1.0);
        let c = &self.control;
        self.gain.set_target(c.gain.value().clamp(0.0, MAX_GAIN));
        self.on.set_target(c.enabled.value().clamp(0.0, 1.0));
        let g0 = self.level;
        let g1 = self.gain.step(dt) * self.on.step(dt);
        self.level = g1;
        let dg = (g1 - g0) / n as f32;
        let mut bad = 0u64;
        let mut peak = 0.0f32;
        let mut sum = 0.0f32;
        let mut g = g0;
        for (o, &x) in left[..n].iter_mut().zip(&self.outputs.channel_f32(0)[..n]) {
            g += dg;
            *o = clean(x, &mut bad) * g;
        }
        if self.stereo {
            let mut g = g0;
            for (o, &x) in right[..n].iter_mut().zip(&self.outputs.channel_f32(1)[..n]) {
                g += dg;
                *o = clean(x, &mut bad) * g;
            }
        } else {
            right[..n].copy_from_slice(&left[..n]);
        }
        if bad > 0 {
            // the graph's state may hold the poison: start it again
            self.unit.reset();
        }
        for (l, r) in left[..n].iter().zip(&right[..n]) {
            peak = peak.max(l.abs()).max(r.abs());
            sum += l * l + r * r;
        }
        self.control.record(n, peak, sum, bad);
    }

    fn fill_inputs(&mut self, block: &SteeringBlock, n: usize) {
        let from = block.from.to_array();
        let to = block.to.to_array();
        let inv = 1.0 / n as f32;
        let (b0, b1) = block.beats;
        let (p0, dp) = block.breath;
        for ch in 0..STEERING_INPUTS {
            let out = &mut self.inputs.channel_f32_mut(ch)[..n];
            match STEERING_INPUT_NAMES[ch] {
                "beat_phase" => {
                    for (i, x) in out.iter_mut().enumerate() {
                        let t = (i + 1) as f64 * inv as f64;
                        *x = (b0 + (b1 - b0) * t).max(0.0).fract() as f32;
                    }
                }
                "breath_phase" => {
                    for (i, x) in out.iter_mut().enumerate() {
                        *x = (p0 + dp * (i + 1) as f32 * inv).fract();
                    }
                }
                "breath_swell" => {
                    for (i, x) in out.iter_mut().enumerate() {
                        let phase = (p0 + dp * (i + 1) as f32 * inv).fract();
                        *x = breath_swell(phase, block.inhale);
                    }
                }
                _ => {
                    let (a, b) = (from[ch], to[ch]);
                    let d = (b - a) * inv;
                    for (i, x) in out.iter_mut().enumerate() {
                        *x = a + d * (i + 1) as f32;
                    }
                }
            }
        }
    }
}

/// `x` if finite (held within ±[`OUTPUT_LIMIT`]), else silence, counted.
#[inline]
fn clean(x: f32, bad: &mut u64) -> f32 {
    if x.is_finite() {
        x.clamp(-OUTPUT_LIMIT, OUTPUT_LIMIT)
    } else {
        *bad += 1;
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use fundsp::prelude32::*;

    fn block(from: SteeringValues, to: SteeringValues) -> SteeringBlock {
        SteeringBlock {
            frames: 64,
            from,
            to,
            beats: (0.9, 1.1),
            breath: (0.95, 0.1),
            inhale: 0.4,
        }
    }

    #[test]
    fn refuses_bad_graphs_with_the_layer_named() {
        let s = Steering::new();
        let e =
            CustomLayer::new("tri", Box::new(noise() ^ noise() ^ noise()), &s, 1.0).unwrap_err();
        assert_eq!(
            e.to_string(),
            "custom layer tri: the graph has 3 outputs; it needs 1 (mono) or 2 (stereo)"
        );
        let e = CustomLayer::new("f", Box::new(lowpass_hz(1000.0, 1.0)), &s, 1.0).unwrap_err();
        assert!(
            matches!(e, CustomLayerError::Inputs { inputs: 1, .. }),
            "{e}"
        );
        assert!(e.to_string().contains("brightness"), "{e}");
        let e = CustomLayer::new("a b", Box::new(noise()), &s, 1.0).unwrap_err();
        assert_eq!(e, CustomLayerError::Name("a b".into()));
        let e = CustomLayer::new("loud", Box::new(noise()), &s, 2.0).unwrap_err();
        assert_eq!(
            e.to_string(),
            "custom layer loud: gain 2 is outside 0..=1.5"
        );
        assert!(CustomLayer::new("n", Box::new(noise()), &s, f32::NAN).is_err());
    }

    #[test]
    fn inputs_carry_the_steering_sample_by_sample_and_shared_values_the_block_end() {
        let s = Steering::new();
        // a graph that passes brightness (input 2) and the beat phase (input 1) out
        let graph = map(|i: &Frame<f32, U8>| (i[2], i[1]));
        let mut layer = CustomLayer::new("probe", Box::new(graph), &s, 1.0).unwrap();
        layer.prepare(48_000.0);
        let from = SteeringValues {
            brightness: 0.2,
            ..Default::default()
        };
        let to = SteeringValues {
            brightness: 0.6,
            beat_phase: 0.1,
            ..Default::default()
        };
        let (mut l, mut r) = ([0.0f32; 64], [0.0f32; 64]);
        layer.render(&block(from, to), &mut l, &mut r);
        assert!((l[0] - (0.2 + 0.4 / 64.0)).abs() < 1e-6, "{}", l[0]);
        assert!((l[63] - 0.6).abs() < 1e-6);
        // the beat wraps at 1.0 inside the block
        assert!(
            r[0] > 0.9 && r[63] < 0.11 && r[63] > 0.09,
            "{} {}",
            r[0],
            r[63]
        );
        assert_eq!(s.values().brightness, 0.6);
        let m = layer.control().take_meter();
        assert_eq!(m.frames, 64);
        // the louder side is the beat phase just before it wraps
        let most = r.iter().fold(0.6f32, |m, v| m.max(*v));
        assert!((m.peak - most).abs() < 1e-6, "{} {most}", m.peak);
    }

    #[test]
    fn non_finite_output_is_silenced_counted_and_the_graph_reset() {
        let s = Steering::new();
        // 1/0: infinite
        let graph = dc(0.0) >> map(|x: &Frame<f32, U1>| 1.0 / x[0]);
        let mut layer = CustomLayer::new("bad", Box::new(graph), &s, 1.0).unwrap();
        layer.prepare(48_000.0);
        let (mut l, mut r) = ([0.0f32; 64], [0.0f32; 64]);
        let v = SteeringValues::default();
        layer.render(&block(v, v), &mut l, &mut r);
        assert!(l
            .iter()
            .chain(&r)
            .all(|x| x.is_finite() && x.abs() <= OUTPUT_LIMIT));
        let m = layer.control().take_meter();
        assert_eq!(m.non_finite_samples, 64);
        assert_eq!(m.reset_blocks, 1);
    }

    #[test]
    fn gain_and_on_off_move_at_the_built_in_layers_rates() {
        let s = Steering::new();
        let mut layer = CustomLayer::new("dc", Box::new(dc(1.0)), &s, 1.0).unwrap();
        layer.prepare(48_000.0);
        let c = layer.control();
        let v = SteeringValues::default();
        let (mut l, mut r) = ([0.0f32; 64], [0.0f32; 64]);
        layer.render(&block(v, v), &mut l, &mut r);
        assert!((l[63] - 1.0).abs() < 1e-6);
        c.set_enabled(false);
        assert!(!c.set_gain(f32::NAN));
        // 0.25 s later it is on its way down but not audibly gone; the ramp takes 0.5 s
        // and the corner's 0.15 s time constant rounds its end: −40 dB by 1.25 s,
        // −80 dB by 2.25 s
        for _ in 0..(12_000 / 64) {
            layer.render(&block(v, v), &mut l, &mut r);
        }
        assert!(l[63] > 0.2 && l[63] < 0.8, "{}", l[63]);
        for _ in 0..(48_000 / 64) {
            layer.render(&block(v, v), &mut l, &mut r);
        }
        assert!(l[63].abs() < 1e-2, "{}", l[63]);
        for _ in 0..(48_000 / 64) {
            layer.render(&block(v, v), &mut l, &mut r);
        }
        assert!(l[63].abs() < 1e-4, "{}", l[63]);
    }
}
