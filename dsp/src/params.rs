//! The steerable parameters: names, ranges and how fast each may move.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A layer of the soundscape.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Layer {
    /// Chord voices from the key and scale.
    Pad,
    /// Soft tuned notes on the beat.
    Pulse,
    /// Sparse generative notes from the scale.
    Melody,
    /// Pink or brown noise with slow swells.
    Noise,
    /// The breathing swell a listener can breathe with.
    Breath,
    /// Recorded loops and textures from the content library.
    Loops,
}

impl Layer {
    /// Every layer, in mixing order.
    pub const ALL: [Layer; 6] = [
        Layer::Pad,
        Layer::Pulse,
        Layer::Melody,
        Layer::Noise,
        Layer::Breath,
        Layer::Loops,
    ];

    /// Position in [`Layer::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }

    /// The name used in presets and automation files.
    pub fn name(self) -> &'static str {
        match self {
            Layer::Pad => "pad",
            Layer::Pulse => "pulse",
            Layer::Melody => "melody",
            Layer::Noise => "noise",
            Layer::Breath => "breath",
            Layer::Loops => "loops",
        }
    }
}

/// A parameter that can be steered while the soundscape plays.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Param {
    /// Beats per minute of the pulse and the melody's grid (40–120).
    Tempo,
    /// 0..1: filter cutoffs, oscillator mix, attack brightness.
    Brightness,
    /// 0..1: how many chord tones sound (a bare fifth … eight voices) and how busy the
    /// melody is.
    Density,
    /// Breaths per minute of the breath guide (3–20).
    BreathRate,
    /// 0..1: intensity: note velocity, noise level.
    Energy,
    /// 0..1: how much of the sound goes through the reverb.
    Reverb,
    /// 0..1.5: the gain of a layer.
    Gain(Layer),
    /// 0 or 1 (smoothed): whether a layer sounds.
    Enabled(Layer),
}

/// How many distinct parameters there are (see [`Param::index`]).
pub const PARAM_COUNT: usize = 6 + 2 * Layer::ALL.len();

impl Param {
    /// Every parameter, in index order.
    pub const ALL: [Param; PARAM_COUNT] = [
        Param::Tempo,
        Param::Brightness,
        Param::Density,
        Param::BreathRate,
        Param::Energy,
        Param::Reverb,
        Param::Gain(Layer::Pad),
        Param::Gain(Layer::Pulse),
        Param::Gain(Layer::Melody),
        Param::Gain(Layer::Noise),
        Param::Gain(Layer::Breath),
        Param::Gain(Layer::Loops),
        Param::Enabled(Layer::Pad),
        Param::Enabled(Layer::Pulse),
        Param::Enabled(Layer::Melody),
        Param::Enabled(Layer::Noise),
        Param::Enabled(Layer::Breath),
        Param::Enabled(Layer::Loops),
    ];

    /// A dense index in `0..PARAM_COUNT`.
    pub fn index(self) -> usize {
        match self {
            Param::Tempo => 0,
            Param::Brightness => 1,
            Param::Density => 2,
            Param::BreathRate => 3,
            Param::Energy => 4,
            Param::Reverb => 5,
            Param::Gain(l) => 6 + l.index(),
            Param::Enabled(l) => 6 + Layer::ALL.len() + l.index(),
        }
    }

    /// The allowed range; values outside are clamped.
    pub fn range(self) -> (f32, f32) {
        match self {
            Param::Tempo => (40.0, 120.0),
            Param::BreathRate => (3.0, 20.0),
            Param::Gain(_) => (0.0, 1.5),
            _ => (0.0, 1.0),
        }
    }

    /// The fastest it may move, in units per second. A jump of a whole range takes
    /// 4–20 s; a layer switches on or off over 0.5 s.
    pub fn max_rate(self) -> f32 {
        match self {
            Param::Tempo => 4.0,
            Param::Brightness => 0.2,
            Param::Density => 0.15,
            Param::BreathRate => 1.0,
            Param::Energy => 0.25,
            Param::Reverb => 0.2,
            Param::Gain(_) => 0.5,
            Param::Enabled(_) => 2.0,
        }
    }

    /// The name used in automation files, logs and the command line
    /// (`tempo`, `pad_gain`, `melody_enabled`…).
    pub fn name(self) -> &'static str {
        const GAIN: [&str; Layer::ALL.len()] = [
            "pad_gain",
            "pulse_gain",
            "melody_gain",
            "noise_gain",
            "breath_gain",
            "loops_gain",
        ];
        const ON: [&str; Layer::ALL.len()] = [
            "pad_enabled",
            "pulse_enabled",
            "melody_enabled",
            "noise_enabled",
            "breath_enabled",
            "loops_enabled",
        ];
        match self {
            Param::Tempo => "tempo",
            Param::Brightness => "brightness",
            Param::Density => "density",
            Param::BreathRate => "breath_rate",
            Param::Energy => "energy",
            Param::Reverb => "reverb",
            Param::Gain(l) => GAIN[l.index()],
            Param::Enabled(l) => ON[l.index()],
        }
    }

    /// The parameter called `name`, if any.
    pub fn from_name(name: &str) -> Option<Param> {
        Param::ALL.into_iter().find(|p| p.name() == name)
    }

    /// `value` clamped into range; `None` for NaN or infinity.
    pub fn clamp(self, value: f32) -> Option<f32> {
        if !value.is_finite() {
            return None;
        }
        let (lo, hi) = self.range();
        Some(value.clamp(lo, hi))
    }
}

impl fmt::Display for Param {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indices_are_dense_and_names_round_trip() {
        for (i, p) in Param::ALL.into_iter().enumerate() {
            assert_eq!(p.index(), i);
            assert_eq!(Param::from_name(p.name()), Some(p));
        }
        assert_eq!(Param::from_name("nope"), None);
        assert_eq!(Param::Tempo.clamp(500.0), Some(120.0));
        assert_eq!(Param::Tempo.clamp(f32::NAN), None);
    }
}
