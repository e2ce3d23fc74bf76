//! What a soundscape sounds like: the sound half of a preset, as data.

use crate::compose::HarmonyStyle;
use crate::music::{Key, Scale};
use crate::params::{Layer, Param};
use serde::{Deserialize, Serialize};

/// The complete description of a soundscape. Deserialised from a preset; every field
/// has a default, unknown fields are refused.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SoundscapeConfig {
    /// Tonic.
    pub key: Key,
    /// Scale of every layer.
    pub scale: Scale,
    /// Octave of the pad's tonic (scientific pitch, C4 = middle C).
    pub octave: i32,
    /// Parameter values at the start.
    pub start: StartValues,
    /// Chord progressions.
    pub harmony: HarmonyConfig,
    /// Sections over minutes.
    pub form: FormConfig,
    /// Chord voices.
    pub pad: PadConfig,
    /// Notes on the beat.
    pub pulse: PulseConfig,
    /// Sparse generative notes.
    pub melody: MelodyConfig,
    /// Recorded loops and textures.
    pub loops: LoopsConfig,
    /// Noise bed.
    pub noise: NoiseConfig,
    /// Breathing swell.
    pub breath: BreathConfig,
    /// Reverb.
    pub reverb: ReverbConfig,
    /// Loudness, ceiling and fades.
    pub master: MasterConfig,
}

impl Default for SoundscapeConfig {
    fn default() -> Self {
        Self {
            key: Key::default(),
            scale: Scale::default(),
            octave: 2,
            start: StartValues::default(),
            harmony: HarmonyConfig::default(),
            form: FormConfig::default(),
            pad: PadConfig::default(),
            pulse: PulseConfig::default(),
            melody: MelodyConfig::default(),
            loops: LoopsConfig::default(),
            noise: NoiseConfig::default(),
            breath: BreathConfig::default(),
            reverb: ReverbConfig::default(),
            master: MasterConfig::default(),
        }
    }
}

/// Starting values of the steerable parameters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StartValues {
    /// BPM.
    pub tempo: f32,
    /// 0..1.
    pub brightness: f32,
    /// 0..1.
    pub density: f32,
    /// Breaths per minute.
    pub breath_rate: f32,
    /// 0..1.
    pub energy: f32,
    /// 0..1.
    pub reverb: f32,
}

impl Default for StartValues {
    fn default() -> Self {
        Self {
            tempo: 64.0,
            brightness: 0.5,
            density: 0.5,
            breath_rate: 6.0,
            energy: 0.5,
            reverb: 0.4,
        }
    }
}

/// How the harmony moves: the progression style, how long chords last and where the
/// pad's upper voices sit.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HarmonyConfig {
    /// Which chords follow which (plagal, pastoral, modal, lively, drone).
    pub style: HarmonyStyle,
    /// Bars a chord lasts at harmonic density 0 (the calm end).
    pub bars_calm: f32,
    /// Bars a chord lasts at harmonic density 1 (the aroused end).
    pub bars_aroused: f32,
    /// Chords in a progression (2..=8), the first the tonic, the last leading home.
    pub progression: u32,
    /// Times a progression plays before a new one is made.
    pub repeats: u32,
    /// Semitones above the bass tonic where the pad's upper voices begin.
    pub upper_from: i32,
    /// Semitones the key moves for each seed: seed `n` sounds in the key moved by
    /// `seed_transpose[n % len]` (the registers follow by the nearest way), so sessions
    /// with consecutive seeds are in different keys. Empty: every seed in `key`.
    pub seed_transpose: Vec<i32>,
    /// Semitones the upper voices range over.
    pub upper_span: i32,
}

impl Default for HarmonyConfig {
    fn default() -> Self {
        Self {
            style: HarmonyStyle::Pastoral,
            bars_calm: 6.0,
            bars_aroused: 2.0,
            progression: 4,
            repeats: 2,
            upper_from: 7,
            seed_transpose: Vec::new(),
            upper_span: 24,
        }
    }
}

/// Sections: how long they last, or none (every layer always present).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FormConfig {
    /// Whether the music moves through sections.
    pub enabled: bool,
    /// Fewest bars in a section.
    pub section_bars_min: u32,
    /// Most bars in a section.
    pub section_bars_max: u32,
}

impl Default for FormConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            section_bars_min: 16,
            section_bars_max: 28,
        }
    }
}

/// The pad: a bass and up to six upper voices, two detuned oscillators each, through a
/// ladder low-pass.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PadConfig {
    /// Gain (0..1.5).
    pub gain: f32,
    /// Whether it sounds at the start.
    pub enabled: bool,
    /// Spread between each voice's two oscillators, in cents.
    pub detune_cents: f32,
    /// Depth of each oscillator's slow pitch drift, in cents.
    pub drift_cents: f32,
    /// Filter cutoff at brightness 0, Hz.
    pub cutoff_min_hz: f32,
    /// Filter cutoff at brightness 1, Hz.
    pub cutoff_max_hz: f32,
    /// Filter resonance (0..0.9; 1 would self-oscillate).
    pub resonance: f32,
    /// Share of sawtooth in the oscillator mix at brightness 1 (the rest is triangle).
    pub saw_max: f32,
    /// Stereo width of the upper voices, 0 (mono) … 1 (spread hard); the bass is mono.
    pub width: f32,
    /// Level of the bass voice relative to the upper voices' (0..2).
    pub bass: f32,
    /// Seconds a voice takes to move to its next chord tone.
    pub glide_s: f32,
}

impl Default for PadConfig {
    fn default() -> Self {
        Self {
            gain: 0.8,
            enabled: true,
            detune_cents: 8.0,
            drift_cents: 4.0,
            cutoff_min_hz: 250.0,
            cutoff_max_hz: 4000.0,
            resonance: 0.25,
            saw_max: 0.8,
            width: 0.7,
            bass: 1.0,
            glide_s: 1.5,
        }
    }
}

/// What the pulse plays.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PulseMode {
    /// A figure over the chord sounding, at a rate set by density.
    #[default]
    Chord,
    /// The `pattern` of scale degrees, one per beat, whatever the chord.
    Pattern,
}

/// The pulse: soft tuned notes on the beat.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PulseConfig {
    /// Gain (0..1.5).
    pub gain: f32,
    /// Whether it sounds at the start.
    pub enabled: bool,
    /// What it plays: a figure over the chord, or a fixed pattern.
    pub mode: PulseMode,
    /// Octave of the pattern's tonic.
    pub octave: i32,
    /// In `pattern` mode, scale degrees played in turn, one per beat (0 = tonic; up to
    /// 16).
    pub pattern: Vec<i32>,
    /// Attack, ms.
    pub attack_ms: f32,
    /// Decay to −60 dB, in beats.
    pub decay_beats: f32,
    /// Brightness of the attack (phase-modulation index at brightness 1).
    pub bell: f32,
    /// Tags of a sampled instrument from the content library to play the notes (empty:
    /// the synthesised bell). Each note is held for its decay, then let go.
    pub instrument: Vec<String>,
}

impl Default for PulseConfig {
    fn default() -> Self {
        Self {
            gain: 0.5,
            enabled: true,
            mode: PulseMode::Chord,
            octave: 4,
            pattern: vec![0, 2, 4, 2],
            attack_ms: 8.0,
            decay_beats: 1.5,
            bell: 1.2,
            instrument: Vec::new(),
        }
    }
}

/// The melody: phrases grown from motifs on an eighth-note grid.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MelodyConfig {
    /// Gain (0..1.5).
    pub gain: f32,
    /// Whether it sounds at the start.
    pub enabled: bool,
    /// Octave of its lowest tonic.
    pub octave: i32,
    /// How many scale degrees it roams over.
    pub range: i32,
    /// How busy it is: 0.5 is the reference; lower leaves longer rests between phrases
    /// (0..2).
    pub notes_per_beat: f32,
    /// Decay to −60 dB, seconds.
    pub decay_s: f32,
    /// Brightness of the attack (phase-modulation index at brightness 1).
    pub bell: f32,
    /// Tags of a sampled instrument from the content library to play the notes (empty:
    /// the synthesised bell). Each note is held for its decay, then let go.
    pub instrument: Vec<String>,
}

impl Default for MelodyConfig {
    fn default() -> Self {
        Self {
            gain: 0.4,
            enabled: true,
            octave: 5,
            range: 8,
            notes_per_beat: 0.5,
            decay_s: 3.0,
            bell: 1.8,
            instrument: Vec::new(),
        }
    }
}

/// The loops layer: recorded loops and textures from the content library.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LoopsConfig {
    /// Gain (0..1.5).
    pub gain: f32,
    /// Whether it sounds at the start.
    pub enabled: bool,
    /// Tags an item must all carry to be chosen (empty: the layer stays silent).
    pub tags: Vec<String>,
    /// Items sounding at once at full density (1..=4); one at density 0.
    pub layers: usize,
    /// Bars an item plays at least before the layer moves to a better-matching one.
    pub switch_bars: u32,
    /// Seconds of the crossfade between items.
    pub crossfade_s: f32,
    /// Low-pass cutoff at brightness 0, Hz.
    pub cutoff_min_hz: f32,
    /// Low-pass cutoff at brightness 1, Hz.
    pub cutoff_max_hz: f32,
}

impl Default for LoopsConfig {
    fn default() -> Self {
        Self {
            gain: 0.5,
            enabled: true,
            tags: Vec::new(),
            layers: 2,
            switch_bars: 8,
            crossfade_s: 4.0,
            cutoff_min_hz: 700.0,
            cutoff_max_hz: 14_000.0,
        }
    }
}

/// Noise colour.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoiseColor {
    /// −3 dB/octave.
    #[default]
    Pink,
    /// −6 dB/octave: darker, like distant surf.
    Brown,
}

/// The noise bed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NoiseConfig {
    /// Gain (0..1.5).
    pub gain: f32,
    /// Whether it sounds at the start.
    pub enabled: bool,
    /// Colour.
    pub color: NoiseColor,
    /// Low-pass cutoff at brightness 0, Hz.
    pub cutoff_min_hz: f32,
    /// Low-pass cutoff at brightness 1, Hz.
    pub cutoff_max_hz: f32,
    /// Depth of its slow swell, 0..1.
    pub swell_depth: f32,
    /// Period of the swell, seconds.
    pub swell_period_s: f32,
}

impl Default for NoiseConfig {
    fn default() -> Self {
        Self {
            gain: 0.3,
            enabled: true,
            color: NoiseColor::Pink,
            cutoff_min_hz: 400.0,
            cutoff_max_hz: 6000.0,
            swell_depth: 0.5,
            swell_period_s: 40.0,
        }
    }
}

/// The breath guide: a swell rising on the in-breath and falling on the out-breath,
/// carried by a soft tone, the pad's level and filter, and optionally by noise.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BreathConfig {
    /// Gain of its own swell (tone and air) (0..1.5).
    pub gain: f32,
    /// Whether it sounds at the start.
    pub enabled: bool,
    /// Share of each breath given to the in-breath (the rest is the out-breath).
    pub inhale: f32,
    /// How far the pad's loudness follows the swell, 0..1.
    pub pad_depth: f32,
    /// How far the other layers' loudness follows the swell, 0..1 (the whole soundscape
    /// breathes a little).
    pub mix_depth: f32,
    /// Centre of the airy noise band at mid-breath, Hz.
    pub center_hz: f32,
    /// Level of the tonal swell (the chord's root and fifth), 0..1.
    pub tone: f32,
    /// Octave of the tonal swell.
    pub tone_octave: i32,
    /// Level of the band-passed noise swell (air), 0..1.
    pub air: f32,
    /// Octaves the pad's filter opens at the top of the in-breath (0..2).
    pub filter_octaves: f32,
}

impl Default for BreathConfig {
    fn default() -> Self {
        Self {
            gain: 0.5,
            enabled: true,
            inhale: 0.4,
            pad_depth: 0.25,
            mix_depth: 0.2,
            center_hz: 900.0,
            tone: 1.0,
            tone_octave: 4,
            air: 0.0,
            filter_octaves: 0.6,
        }
    }
}

/// The reverb.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReverbConfig {
    /// Room size, 0.5..2 (scales the delay lines).
    pub size: f32,
    /// Decay time to −60 dB, seconds.
    pub rt60_s: f32,
    /// Damping cutoff, Hz.
    pub damp_hz: f32,
}

impl Default for ReverbConfig {
    fn default() -> Self {
        Self {
            size: 1.0,
            rt60_s: 3.5,
            damp_hz: 5000.0,
        }
    }
}

/// Loudness, ceiling and fades.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MasterConfig {
    /// RMS level the soundscape is calibrated to at its starting values, dBFS.
    pub loudness_dbfs: f32,
    /// Sample-peak ceiling of the limiter, dBFS.
    pub ceiling_dbfs: f32,
    /// Fade-in at start, seconds.
    pub fade_in_s: f32,
    /// Fade-out at the end, seconds.
    pub fade_out_s: f32,
    /// Crossfade of the pad when key or scale changes, seconds.
    pub key_crossfade_s: f32,
    /// Below this frequency the mix is made mono (its side signal high-passed), Hz.
    pub mono_below_hz: f32,
    /// Low shelf (below about 120 Hz) of the mix, dB.
    pub low_db: f32,
    /// Bell-shaped cut or boost of the low mids (centred at 320 Hz), dB.
    pub low_mid_db: f32,
    /// High shelf (above about 4 kHz) of the mix, dB.
    pub high_db: f32,
    /// How far the leveler may turn the mix up or down to hold its loudness steady, dB
    /// (0: no leveler).
    pub level_range_db: f32,
    /// How much louder the leveler lets the mix be per unit of energy above the starting
    /// energy (and quieter below it), dB.
    pub energy_db: f32,
}

impl Default for MasterConfig {
    fn default() -> Self {
        Self {
            loudness_dbfs: -24.0,
            ceiling_dbfs: -1.0,
            fade_in_s: 4.0,
            fade_out_s: 10.0,
            key_crossfade_s: 4.0,
            mono_below_hz: 150.0,
            low_db: 0.0,
            low_mid_db: 0.0,
            high_db: 0.0,
            level_range_db: 6.0,
            energy_db: 6.0,
        }
    }
}

/// A value in a configuration that is out of its range, with the dotted path of the
/// field (`pad.cutoff_min_hz`).
#[derive(Clone, Debug, PartialEq)]
pub struct ConfigError {
    /// Dotted path of the field.
    pub field: String,
    /// What is wrong with it.
    pub message: String,
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "field `{}`: {}", self.field, self.message)
    }
}

impl std::error::Error for ConfigError {}

fn check(field: &str, v: f32, lo: f32, hi: f32) -> Result<(), ConfigError> {
    if v.is_finite() && (lo..=hi).contains(&v) {
        Ok(())
    } else {
        Err(ConfigError {
            field: field.to_string(),
            message: format!("{v} is outside {lo}..={hi}"),
        })
    }
}

fn check_i(field: &str, v: i32, lo: i32, hi: i32) -> Result<(), ConfigError> {
    check(field, v as f32, lo as f32, hi as f32)
}

impl SoundscapeConfig {
    /// The sound for `seed`: the key moved by the seed's entry of
    /// [`HarmonyConfig::seed_transpose`], every layer's octave following where the tonic
    /// crosses C (so the registers move by at most six semitones). Control thread.
    pub fn for_seed(&self, seed: u64) -> SoundscapeConfig {
        let list = &self.harmony.seed_transpose;
        let mut cfg = self.clone();
        if list.is_empty() {
            return cfg;
        }
        let shift = list[(seed % list.len() as u64) as usize].clamp(-6, 6);
        let pc = self.key.pitch_class() as i32 + shift;
        let octaves = pc.div_euclid(12);
        cfg.key = Key::new(pc.rem_euclid(12) as u8);
        cfg.octave = (cfg.octave + octaves).clamp(0, 5);
        cfg.pulse.octave = (cfg.pulse.octave + octaves).clamp(1, 7);
        cfg.melody.octave = (cfg.melody.octave + octaves).clamp(1, 7);
        cfg.breath.tone_octave = (cfg.breath.tone_octave + octaves).clamp(2, 6);
        cfg
    }

    /// Checks every value against its range; the first offence names its field.
    pub fn validate(&self) -> Result<(), ConfigError> {
        check_i("octave", self.octave, 0, 5)?;
        let s = &self.start;
        for (name, v, p) in [
            ("start.tempo", s.tempo, Param::Tempo),
            ("start.brightness", s.brightness, Param::Brightness),
            ("start.density", s.density, Param::Density),
            ("start.breath_rate", s.breath_rate, Param::BreathRate),
            ("start.energy", s.energy, Param::Energy),
            ("start.reverb", s.reverb, Param::Reverb),
        ] {
            let (lo, hi) = p.range();
            check(name, v, lo, hi)?;
        }
        let gmax = Param::Gain(Layer::Pad).range().1;
        for (layer, gain) in [
            ("pad", self.pad.gain),
            ("pulse", self.pulse.gain),
            ("melody", self.melody.gain),
            ("noise", self.noise.gain),
            ("breath", self.breath.gain),
            ("loops", self.loops.gain),
        ] {
            check(&format!("{layer}.gain"), gain, 0.0, gmax)?;
        }
        let p = &self.pad;
        check("pad.detune_cents", p.detune_cents, 0.0, 50.0)?;
        check("pad.drift_cents", p.drift_cents, 0.0, 30.0)?;
        check("pad.cutoff_min_hz", p.cutoff_min_hz, 20.0, 20_000.0)?;
        check(
            "pad.cutoff_max_hz",
            p.cutoff_max_hz,
            p.cutoff_min_hz,
            20_000.0,
        )?;
        check("pad.resonance", p.resonance, 0.0, 0.9)?;
        check("pad.saw_max", p.saw_max, 0.0, 1.0)?;
        check("pad.width", p.width, 0.0, 1.0)?;
        check("pad.bass", p.bass, 0.0, 2.0)?;
        check("pad.glide_s", p.glide_s, 0.05, 10.0)?;
        let h = &self.harmony;
        check("harmony.bars_calm", h.bars_calm, 1.0, 32.0)?;
        check("harmony.bars_aroused", h.bars_aroused, 1.0, 32.0)?;
        check_i("harmony.progression", h.progression.min(1000) as i32, 2, 8)?;
        check_i("harmony.repeats", h.repeats.min(1000) as i32, 1, 16)?;
        check_i("harmony.upper_from", h.upper_from, 3, 36)?;
        check_i("harmony.upper_span", h.upper_span, 12, 36)?;
        if h.seed_transpose.len() > 12 {
            return Err(ConfigError {
                field: "harmony.seed_transpose".into(),
                message: format!("{} entries; at most 12", h.seed_transpose.len()),
            });
        }
        for (i, &t) in h.seed_transpose.iter().enumerate() {
            check_i(&format!("harmony.seed_transpose.{i}"), t, -6, 6)?;
        }
        let f = &self.form;
        check_i(
            "form.section_bars_min",
            f.section_bars_min.min(1000) as i32,
            2,
            256,
        )?;
        check_i(
            "form.section_bars_max",
            f.section_bars_max.min(1000) as i32,
            f.section_bars_min.min(256) as i32,
            256,
        )?;
        let u = &self.pulse;
        check_i("pulse.octave", u.octave, 1, 7)?;
        if u.pattern.is_empty() || u.pattern.len() > 16 {
            return Err(ConfigError {
                field: "pulse.pattern".into(),
                message: format!("needs 1 to 16 scale degrees, has {}", u.pattern.len()),
            });
        }
        for d in &u.pattern {
            check_i("pulse.pattern", *d, -14, 21)?;
        }
        check("pulse.attack_ms", u.attack_ms, 1.0, 500.0)?;
        check("pulse.decay_beats", u.decay_beats, 0.1, 8.0)?;
        check("pulse.bell", u.bell, 0.0, 4.0)?;
        let m = &self.melody;
        check_i("melody.octave", m.octave, 1, 7)?;
        check_i("melody.range", m.range, 1, 21)?;
        check("melody.notes_per_beat", m.notes_per_beat, 0.0, 2.0)?;
        check("melody.decay_s", m.decay_s, 0.1, 20.0)?;
        check("melody.bell", m.bell, 0.0, 4.0)?;
        let l = &self.loops;
        check_i("loops.layers", l.layers.min(1000) as i32, 1, 4)?;
        check_i("loops.switch_bars", l.switch_bars.min(1000) as i32, 1, 256)?;
        check("loops.crossfade_s", l.crossfade_s, 0.05, 60.0)?;
        check("loops.cutoff_min_hz", l.cutoff_min_hz, 20.0, 20_000.0)?;
        check(
            "loops.cutoff_max_hz",
            l.cutoff_max_hz,
            l.cutoff_min_hz,
            20_000.0,
        )?;
        let n = &self.noise;
        check("noise.cutoff_min_hz", n.cutoff_min_hz, 20.0, 20_000.0)?;
        check(
            "noise.cutoff_max_hz",
            n.cutoff_max_hz,
            n.cutoff_min_hz,
            20_000.0,
        )?;
        check("noise.swell_depth", n.swell_depth, 0.0, 1.0)?;
        check("noise.swell_period_s", n.swell_period_s, 2.0, 600.0)?;
        let b = &self.breath;
        check("breath.inhale", b.inhale, 0.2, 0.8)?;
        check("breath.pad_depth", b.pad_depth, 0.0, 1.0)?;
        check("breath.mix_depth", b.mix_depth, 0.0, 1.0)?;
        check("breath.center_hz", b.center_hz, 100.0, 8000.0)?;
        check("breath.tone", b.tone, 0.0, 1.0)?;
        check_i("breath.tone_octave", b.tone_octave, 2, 6)?;
        check("breath.air", b.air, 0.0, 1.0)?;
        check("breath.filter_octaves", b.filter_octaves, 0.0, 2.0)?;
        let r = &self.reverb;
        check("reverb.size", r.size, 0.25, 2.0)?;
        check("reverb.rt60_s", r.rt60_s, 0.1, 30.0)?;
        check("reverb.damp_hz", r.damp_hz, 200.0, 20_000.0)?;
        let ms = &self.master;
        check("master.loudness_dbfs", ms.loudness_dbfs, -60.0, -6.0)?;
        check("master.ceiling_dbfs", ms.ceiling_dbfs, -40.0, 0.0)?;
        check("master.fade_in_s", ms.fade_in_s, 0.0, 120.0)?;
        check("master.fade_out_s", ms.fade_out_s, 0.0, 600.0)?;
        check("master.key_crossfade_s", ms.key_crossfade_s, 0.1, 30.0)?;
        check("master.mono_below_hz", ms.mono_below_hz, 0.0, 400.0)?;
        check("master.low_db", ms.low_db, -12.0, 6.0)?;
        check("master.low_mid_db", ms.low_mid_db, -12.0, 6.0)?;
        check("master.high_db", ms.high_db, -12.0, 12.0)?;
        check("master.level_range_db", ms.level_range_db, 0.0, 12.0)?;
        check("master.energy_db", ms.energy_db, 0.0, 12.0)?;
        Ok(())
    }

    /// The starting value of `param`.
    pub fn start_value(&self, param: Param) -> f32 {
        let on = |b: bool| if b { 1.0 } else { 0.0 };
        match param {
            Param::Tempo => self.start.tempo,
            Param::Brightness => self.start.brightness,
            Param::Density => self.start.density,
            Param::BreathRate => self.start.breath_rate,
            Param::Energy => self.start.energy,
            Param::Reverb => self.start.reverb,
            Param::Gain(Layer::Pad) => self.pad.gain,
            Param::Gain(Layer::Pulse) => self.pulse.gain,
            Param::Gain(Layer::Melody) => self.melody.gain,
            Param::Gain(Layer::Noise) => self.noise.gain,
            Param::Gain(Layer::Breath) => self.breath.gain,
            Param::Gain(Layer::Loops) => self.loops.gain,
            Param::Enabled(Layer::Pad) => on(self.pad.enabled),
            Param::Enabled(Layer::Pulse) => on(self.pulse.enabled),
            Param::Enabled(Layer::Melody) => on(self.melody.enabled),
            Param::Enabled(Layer::Noise) => on(self.noise.enabled),
            Param::Enabled(Layer::Breath) => on(self.breath.enabled),
            Param::Enabled(Layer::Loops) => on(self.loops.enabled),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_offences_name_their_field() {
        assert!(SoundscapeConfig::default().validate().is_ok());
        let mut c = SoundscapeConfig::default();
        c.pad.cutoff_max_hz = 100.0;
        assert_eq!(c.validate().unwrap_err().field, "pad.cutoff_max_hz");
        let mut c = SoundscapeConfig::default();
        c.start.tempo = f32::NAN;
        assert_eq!(c.validate().unwrap_err().field, "start.tempo");
    }

    #[test]
    fn seeds_move_the_key_and_the_registers_follow_the_tonic() {
        let mut c = SoundscapeConfig {
            key: "A".parse().unwrap(),
            ..Default::default()
        };
        // no list: every seed in the preset's key
        assert_eq!(c.for_seed(7), c);
        c.harmony.seed_transpose = vec![0, 3, -2];
        assert_eq!(c.for_seed(0), c);
        // A + 3 = C, across C: every octave one up, so the tonic rises 3 semitones
        let up = c.for_seed(1);
        assert_eq!(up.key, Key::new(0));
        assert_eq!(up.key.midi(up.octave), c.key.midi(c.octave) + 3);
        assert_eq!(
            up.key.midi(up.melody.octave),
            c.key.midi(c.melody.octave) + 3,
            "the melody follows"
        );
        let down = c.for_seed(5);
        assert_eq!(down.key, Key::new(7));
        assert_eq!(down.key.midi(down.octave), c.key.midi(c.octave) - 2);
        assert!(up.validate().is_ok() && down.validate().is_ok());
        c.harmony.seed_transpose = vec![0, 7];
        assert_eq!(c.validate().unwrap_err().field, "harmony.seed_transpose.1");
    }
}
