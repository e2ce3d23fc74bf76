//! The soundscape: layers, mix, reverb and the safety stage, steered by parameters.

use crate::command::Command;
use crate::compose::{Composer, Score};
use crate::config::{BreathConfig, SoundscapeConfig};
use crate::content::Content;
use crate::custom::{
    CustomLayer, CustomLayerError, SteeringBlock, SteeringValues, MAX_CUSTOM_LAYERS,
};
use crate::layers::{breath_swell, Block, BreathGuide, Loops, Melody, NoiseBed, Pad, Pulse};
use crate::leveler::Leveler;
use crate::limiter::Limiter;
use crate::master::MasterTone;
use crate::meter::Meter;
use crate::music::{Key, Scale};
use crate::params::{Layer, Param, PARAM_COUNT};
use crate::reverb::Reverb;
use crate::rng::Rng;
use crate::smoother::Smoother;
use crate::MAX_BLOCK;

const LAYERS: usize = Layer::ALL.len();

/// Seconds each parameter smoother takes to round its corners.
const CORNER_S: f32 = 0.15;

/// Seconds a layer takes to enter or leave when a section changes.
const SECTION_FADE_S: f32 = 6.0;

/// A complete, steerable soundscape. Build it off the audio thread (construction
/// allocates and calibrates loudness); after that, [`Soundscape::render`] and the
/// setters never allocate, lock, block or do I/O, so they are safe on the audio thread.
pub struct Soundscape {
    sample_rate: f32,
    cfg: SoundscapeConfig,
    params: [Smoother; PARAM_COUNT],
    values: [f32; PARAM_COUNT],
    beat_pos: f64,
    breath_phase: f32,
    pad: Pad,
    pulse: Pulse,
    melody: Melody,
    noise: NoiseBed,
    breath: BreathGuide,
    loops: Loops,
    content: Content,
    composer: Composer,
    score: Score,
    presence: [f32; LAYERS],
    reverb: Reverb,
    tone: MasterTone,
    limiter: Limiter,
    key: Key,
    scale: Scale,
    pending_key: Option<(Key, Scale)>,
    layer_gain: [f32; LAYERS],
    makeup: f32,
    leveler: Leveler,
    level: f32,
    fade_pos: f32,
    fade_rate: f32,
    layer_l: [[f32; MAX_BLOCK]; LAYERS],
    layer_r: [[f32; MAX_BLOCK]; LAYERS],
    mix_l: [f32; MAX_BLOCK],
    mix_r: [f32; MAX_BLOCK],
    wet_l: [f32; MAX_BLOCK],
    wet_r: [f32; MAX_BLOCK],
    meter: Meter,
    frames: u64,
    custom: [Option<Box<CustomLayer>>; MAX_CUSTOM_LAYERS],
    custom_l: [f32; MAX_BLOCK],
    custom_r: [f32; MAX_BLOCK],
    steering: SteeringValues,
}

fn db_to_amp(db: f32) -> f32 {
    10f32.powf(db / 20.0)
}

impl Soundscape {
    /// A soundscape for `config` at `sample_rate`, deterministic for `seed`, its output
    /// calibrated so that at its starting values its RMS level is the preset's
    /// `master.loudness_dbfs` (a 34 s render at 24 kHz at construction, about a tenth of
    /// a second). The config must have passed [`SoundscapeConfig::validate`].
    pub fn new(config: &SoundscapeConfig, sample_rate: f32, seed: u64) -> Self {
        Self::with_content(config, &Content::none(), sample_rate, seed)
    }

    /// A soundscape that plays `content` (sampled instruments for pulse and melody,
    /// items for the loops layer), calibrated like [`Soundscape::new`]. The content's
    /// audio must be at `sample_rate`; with content, calibration renders at that rate.
    pub fn with_content(
        config: &SoundscapeConfig,
        content: &Content,
        sample_rate: f32,
        seed: u64,
    ) -> Self {
        let (makeup, reference) = Self::calibrate(config, content, sample_rate, seed);
        // the probe played the custom layers too: their meters start again here
        for layer in &content.custom {
            layer.control().take_meter();
        }
        let mut s = Self::with_content_and_makeup(config, content, sample_rate, seed, makeup);
        s.leveler = Leveler::new(
            Some(reference),
            config.master.level_range_db,
            config.master.energy_db,
            config.start.energy,
        );
        s
    }

    /// Like [`Soundscape::with_content`] but with a given linear makeup gain instead of
    /// calibrating, and no leveler (the mix's loudness moves with everything that changes
    /// in it): for measurements that must hold the gain fixed across configurations.
    pub fn with_content_and_makeup(
        config: &SoundscapeConfig,
        content: &Content,
        sample_rate: f32,
        seed: u64,
        makeup: f32,
    ) -> Self {
        let sr = sample_rate.clamp(8_000.0, 384_000.0);
        let cfg = config.for_seed(seed);
        let mut rng = Rng::new(seed, 0);
        let params: [Smoother; PARAM_COUNT] = core::array::from_fn(|i| {
            let p = Param::ALL[i];
            let v = p.clamp(cfg.start_value(p)).unwrap_or(p.range().0);
            Smoother::new(v, p.max_rate(), CORNER_S)
        });
        let values: [f32; PARAM_COUNT] = core::array::from_fn(|i| params[i].value());
        let composer = Composer::new(&cfg, values[Param::Density.index()], seed);
        let pad = Pad::new(&cfg.pad, composer.voicing(), sr, cfg.pad.glide_s, &mut rng);
        let pulse = Pulse::new(
            &cfg.pulse,
            cfg.key,
            cfg.scale,
            content.pulse.clone(),
            sr,
            Rng::new(seed, 4),
        );
        let melody = Melody::new(
            &cfg.melody,
            cfg.key,
            cfg.scale,
            Rng::new(seed, 3),
            content.melody.clone(),
            sr,
        );
        let start = (
            values[Param::Brightness.index()],
            values[Param::Energy.index()],
            values[Param::Density.index()],
        );
        let loops = Loops::new(&cfg.loops, &content.loops, sr, (cfg.key, cfg.scale), start);
        let noise = NoiseBed::new(&cfg.noise, &mut rng);
        let breath = BreathGuide::new(&cfg.breath, &mut rng);
        let reverb = Reverb::new(sr, cfg.reverb.size, cfg.reverb.rt60_s, cfg.reverb.damp_hz);
        let limiter = Limiter::new(sr, db_to_amp(cfg.master.ceiling_dbfs), 0.0015, 0.15);
        let tone = MasterTone::new(&cfg.master, sr);
        let score = composer.score();
        let presence = score.arrangement.presence;
        let fade_in = cfg.master.fade_in_s;
        let mut custom: [Option<Box<CustomLayer>>; MAX_CUSTOM_LAYERS] = Default::default();
        for (slot, layer) in custom.iter_mut().zip(&content.custom) {
            let mut layer = Box::new(layer.clone());
            layer.prepare(sr);
            *slot = Some(layer);
        }
        let steering = SteeringValues {
            tempo: values[Param::Tempo.index()],
            beat_phase: 0.0,
            brightness: values[Param::Brightness.index()],
            density: values[Param::Density.index()],
            energy: values[Param::Energy.index()],
            breath_phase: 0.0,
            breath_rate: values[Param::BreathRate.index()],
            breath_swell: 0.0,
        };
        let mut s = Self {
            sample_rate: sr,
            params,
            values,
            beat_pos: -1e-9,
            breath_phase: 0.0,
            pad,
            pulse,
            melody,
            noise,
            breath,
            loops,
            content: content.clone(),
            composer,
            score,
            presence,
            reverb,
            tone,
            limiter,
            key: cfg.key,
            scale: cfg.scale,
            pending_key: None,
            layer_gain: [0.0; LAYERS],
            makeup,
            leveler: Leveler::new(None, 0.0, 0.0, 0.0),
            level: 1.0,
            fade_pos: if fade_in > 0.0 { 0.0 } else { 1.0 },
            fade_rate: if fade_in > 0.0 { 1.0 / fade_in } else { 0.0 },
            layer_l: [[0.0; MAX_BLOCK]; LAYERS],
            layer_r: [[0.0; MAX_BLOCK]; LAYERS],
            mix_l: [0.0; MAX_BLOCK],
            mix_r: [0.0; MAX_BLOCK],
            wet_l: [0.0; MAX_BLOCK],
            wet_r: [0.0; MAX_BLOCK],
            meter: Meter::default(),
            frames: 0,
            custom,
            custom_l: [0.0; MAX_BLOCK],
            custom_r: [0.0; MAX_BLOCK],
            steering,
            cfg,
        };
        s.layer_gain = core::array::from_fn(|i| {
            layer_target(&s.values, &s.cfg.breath, Layer::ALL[i], 0.0) * s.presence[i]
        });
        s
    }

    /// The makeup gain that brings the starting sound to its target and the mean square
    /// of the mix the leveler holds it to.
    fn calibrate(
        config: &SoundscapeConfig,
        content: &Content,
        sample_rate: f32,
        seed: u64,
    ) -> (f32, f32) {
        // without recordings, half the rate is plenty and twice as fast
        let sr = if content.is_empty() {
            24_000.0
        } else {
            sample_rate
        };
        let block = (sr / 10.0) as usize;
        let mut cfg = config.clone();
        cfg.master.fade_in_s = 0.0;
        // streamed items are normalised like the rest; the probe does not open them
        let content = content.without_streams();
        let mut probe = Self::with_content_and_makeup(&cfg, &content, sr, seed, 1.0);
        let mut buf = vec![0.0f32; 2 * block];
        for _ in 0..40 {
            probe.render(&mut buf);
        }
        probe.take_meter();
        probe.leveler = Leveler::new(None, 0.0, 0.0, 0.0);
        // half a minute: long enough to hear several phrases and chords
        for _ in 0..300 {
            probe.render(&mut buf);
        }
        let rms = probe.take_meter().rms();
        let reference = probe.leveler.mean_power();
        if rms <= 1e-9 {
            return (1.0, reference);
        }
        let want = db_to_amp(config.master.loudness_dbfs);
        ((want / rms).clamp(1.0 / 16.0, 16.0), reference)
    }

    /// The linear makeup gain that brings the starting sound to its loudness target.
    pub fn makeup(&self) -> f32 {
        self.makeup
    }

    /// Sample rate, Hz.
    pub fn sample_rate(&self) -> f32 {
        self.sample_rate
    }

    /// The configuration it was built from.
    pub fn config(&self) -> &SoundscapeConfig {
        &self.cfg
    }

    /// The content it plays.
    pub fn content(&self) -> &Content {
        &self.content
    }

    /// The ids of the loops layer's items chosen now. Any thread that owns the soundscape.
    pub fn loops_chosen(&self) -> impl Iterator<Item = &str> {
        self.loops.chosen()
    }

    /// Frames of streamed recordings that had not arrived when due and played as
    /// silence, since the soundscape was built (see [`crate::stream::StreamReader`]).
    /// Any thread that owns the soundscape.
    pub fn stream_missing_frames(&self) -> u64 {
        self.loops.stream_missing_frames()
    }

    /// Sets the target of `param`; it moves there at its bounded rate. Values are clamped
    /// into range; NaN and infinity are ignored (returns false). Audio thread.
    pub fn set(&mut self, param: Param, value: f32) -> bool {
        match param.clamp(value) {
            Some(v) => {
                self.params[param.index()].set_target(v);
                true
            }
            None => false,
        }
    }

    /// The current (smoothed) value of `param`. Any thread that owns the soundscape.
    pub fn value(&self, param: Param) -> f32 {
        self.values[param.index()]
    }

    /// The target `param` is moving toward.
    pub fn target(&self, param: Param) -> f32 {
        self.params[param.index()].target()
    }

    /// Asks for a new key and scale. At the next bar line (every fourth beat) the
    /// harmony starts again on the new tonic, the pad's voices move to it, and pulse,
    /// melody and loops take it for their next notes. Audio thread.
    pub fn set_key(&mut self, key: Key, scale: Scale) {
        self.pending_key = Some((key, scale));
    }

    /// Beats since the soundscape started: the clock the pulse, the melody and the loops
    /// follow (a new beat starts at each whole number), for anything that must keep time
    /// with them. Any thread that owns the soundscape.
    pub fn beat_position(&self) -> f64 {
        self.beat_pos.max(0.0)
    }

    /// The key and scale sounding now.
    pub fn key(&self) -> (Key, Scale) {
        (self.key, self.scale)
    }

    /// What the music is doing now: chord, voicing, section. Any thread that owns the
    /// soundscape.
    pub fn score(&self) -> &Score {
        &self.score
    }

    /// The leveler's gain now, dB (0 without a leveler). Any thread that owns the
    /// soundscape.
    pub fn leveler_gain_db(&self) -> f32 {
        self.leveler.gain_db()
    }

    /// The pad's notes sounding now (MIDI; the bass first, silent voices included).
    pub fn pad_notes(&self) -> [f32; 7] {
        self.pad.notes()
    }

    /// Adds a custom layer (a fundsp graph; see [`crate::custom`]) in the first free slot
    /// and returns the slot. The graph is cloned, prepared for this sample rate and
    /// allocated here, so call this on the control thread, before the soundscape is
    /// handed to the audio thread. The loudness calibration did not hear it; the leveler
    /// holds the mix within the preset's level range (give it through
    /// [`Content::custom`] to have the calibration hear it). Refused when
    /// [`MAX_CUSTOM_LAYERS`] are there already or one has the same name.
    pub fn add_custom_layer(&mut self, layer: &CustomLayer) -> Result<usize, CustomLayerError> {
        if self.custom_layers().any(|l| l.name() == layer.name()) {
            return Err(CustomLayerError::Duplicate(layer.name().to_string()));
        }
        let Some(slot) = self.custom.iter().position(Option::is_none) else {
            return Err(CustomLayerError::TooMany {
                name: layer.name().to_string(),
            });
        };
        let mut layer = Box::new(layer.clone());
        layer.prepare(self.sample_rate);
        self.custom[slot] = Some(layer);
        Ok(slot)
    }

    /// Puts `layer` (or nothing) in custom-layer slot `slot` (`< MAX_CUSTOM_LAYERS`) and
    /// returns what was there. Audio thread: it only moves pointers, so `layer` must have
    /// been [`CustomLayer::prepare`]d at this soundscape's sample rate on the control
    /// thread, and the layer returned must be sent back to be dropped there. A layer
    /// swapped in starts at its gain without a fade; fade the old one out first
    /// ([`crate::CustomLayerControl::set_enabled`]) to avoid a click. Slots out of range
    /// give `layer` back.
    pub fn swap_custom_layer(
        &mut self,
        slot: usize,
        layer: Option<Box<CustomLayer>>,
    ) -> Option<Box<CustomLayer>> {
        match self.custom.get_mut(slot) {
            Some(s) => core::mem::replace(s, layer),
            None => layer,
        }
    }

    /// The custom layers playing, in slot order. Any thread that owns the soundscape.
    pub fn custom_layers(&self) -> impl Iterator<Item = &CustomLayer> {
        self.custom.iter().flatten().map(|b| &**b)
    }

    /// The steered parameters as the custom layers heard them at the end of the last
    /// block. Any thread that owns the soundscape.
    pub fn steering(&self) -> SteeringValues {
        self.steering
    }

    /// Applies a command from the control side. Audio thread. Returns false if it was
    /// refused (a non-finite value).
    pub fn apply(&mut self, command: Command) -> bool {
        match command {
            Command::Set(p, v) => self.set(p, v),
            Command::Key(k, s) => {
                self.set_key(k, s);
                true
            }
            Command::FadeOut(s) if s.is_finite() => {
                self.fade_out(s);
                true
            }
            Command::FadeOut(_) => false,
        }
    }

    /// Fades out to silence, reaching it `seconds` from now (raised cosine). A fade
    /// already under way that would end sooner is kept. Audio thread.
    pub fn fade_out(&mut self, seconds: f32) {
        if seconds <= 0.0 {
            self.fade_pos = 0.0;
            self.fade_rate = 0.0;
        } else {
            let rate = -self.fade_pos.max(1e-6) / seconds;
            if self.fade_rate >= 0.0 || rate < self.fade_rate {
                self.fade_rate = rate;
            }
        }
    }

    /// Whether a fade-out has reached silence.
    pub fn faded_out(&self) -> bool {
        self.fade_pos <= 0.0 && self.fade_rate <= 0.0
    }

    /// Frames rendered so far.
    pub fn frames(&self) -> u64 {
        self.frames
    }

    /// Returns the output meter since the last call and starts a new one.
    pub fn take_meter(&mut self) -> Meter {
        core::mem::take(&mut self.meter)
    }

    /// Renders interleaved stereo into `out` (any even length). Audio thread: no
    /// allocation, locks or I/O; denormals are flushed to zero while it runs.
    pub fn render(&mut self, out: &mut [f32]) {
        // SAFETY: the guard restores MXCSR when the closure returns; no code in the
        // closure depends on denormal arithmetic.
        unsafe {
            no_denormals::no_denormals(|| {
                for chunk in out.chunks_mut(2 * MAX_BLOCK) {
                    let n = chunk.len() / 2;
                    self.render_block(n);
                    for (i, frame) in chunk.chunks_exact_mut(2).enumerate() {
                        frame[0] = self.mix_l[i];
                        frame[1] = self.mix_r[i];
                    }
                }
            })
        }
    }

    /// Renders into separate left and right buffers. Buffers should have equal lengths:
    /// if they do not, the common length is rendered and the rest of the longer one is
    /// filled with silence (never left holding stale samples). Audio thread: no
    /// allocation, locks or I/O; denormals are flushed to zero while it runs.
    pub fn render_planar(&mut self, left: &mut [f32], right: &mut [f32]) {
        let n = left.len().min(right.len());
        let (left, left_rest) = left.split_at_mut(n);
        let (right, right_rest) = right.split_at_mut(n);
        left_rest.fill(0.0);
        right_rest.fill(0.0);
        // SAFETY: as in `render`: the guard restores MXCSR when the closure returns, and
        // no code in the closure depends on denormal arithmetic.
        unsafe {
            no_denormals::no_denormals(|| {
                for (l, r) in left.chunks_mut(MAX_BLOCK).zip(right.chunks_mut(MAX_BLOCK)) {
                    let n = l.len();
                    self.render_block(n);
                    l.copy_from_slice(&self.mix_l[..n]);
                    r.copy_from_slice(&self.mix_r[..n]);
                }
            })
        }
    }

    fn render_block(&mut self, n: usize) {
        debug_assert!(n <= MAX_BLOCK);
        let dt = n as f32 / self.sample_rate;
        for (v, s) in self.values.iter_mut().zip(self.params.iter_mut()) {
            *v = s.step(dt);
        }
        let tempo = self.values[Param::Tempo.index()];
        // the beat clock
        let start = self.beat_pos;
        let end = start + (tempo as f64 / 60.0) * dt as f64;
        self.beat_pos = end;
        let beat = (end.floor() > start.floor()).then(|| end.floor() as u64);
        let eighth =
            ((2.0 * end).floor() > (2.0 * start).floor()).then(|| (2.0 * end).floor() as u64);
        let density = self.values[Param::Density.index()];
        if let Some(b) = beat {
            if b % 4 == 0 && b > 0 {
                if let Some((key, scale)) = self.pending_key.take() {
                    self.composer.change_key(key, scale);
                    self.pulse.change_key(key, scale);
                    self.melody.change_key(key, scale);
                    self.loops.change_key(key, scale);
                    self.key = key;
                    self.scale = scale;
                }
                let events = self.composer.bar(density);
                if events.voicing {
                    self.pad.set_voicing(self.composer.voicing());
                }
                self.score = self.composer.score();
                if events.chord {
                    self.loops.change_chord(self.score.chord_mask());
                }
            }
        }
        // layers enter and leave with the sections
        let step = dt / SECTION_FADE_S;
        for (p, want) in self
            .presence
            .iter_mut()
            .zip(self.score.arrangement.presence)
        {
            *p = if want > *p {
                (*p + step).min(want)
            } else {
                (*p - step).max(want)
            };
        }
        // the breath clock
        let inhale = self.cfg.breath.inhale;
        let swell0 = breath_swell(self.breath_phase, inhale);
        let rate = self.values[Param::BreathRate.index()] / 60.0;
        let breath_from = self.breath_phase;
        self.breath_phase = (self.breath_phase + rate * dt).fract();
        let swell1 = breath_swell(self.breath_phase, inhale);
        let breathing = self.values[Param::Enabled(Layer::Breath).index()];

        let block = Block {
            frames: n,
            sample_rate: self.sample_rate,
            tempo,
            brightness: self.values[Param::Brightness.index()],
            density: self.values[Param::Density.index()],
            energy: self.values[Param::Energy.index()],
            beat,
            eighth,
            beat_pos: end,
        };
        let [pl, ul, ml, nl, bl, ll] = &mut self.layer_l;
        let [pr, ur, mr, nr, br, lr] = &mut self.layer_r;
        let score = &self.score;
        self.pad.render(
            &block,
            swell1,
            self.cfg.breath.filter_octaves * breathing,
            pl,
            pr,
        );
        self.melody.render(&block, score, ml, mr);
        // the pulse answers the melody only while the melody is heard
        let singing = self.melody.singing()
            && self.values[Param::Enabled(Layer::Melody).index()] > 0.5
            && self.values[Param::Gain(Layer::Melody).index()] > 0.0;
        self.pulse.render(&block, score, singing, ul, ur);
        self.noise.render(&block, nl, nr);
        self.breath.render(&block, score, [swell0, swell1], bl, br);
        self.loops.render(&block, ll, lr);
        // what the custom layers hear
        let steer_from = self.steering;
        self.steering = SteeringValues {
            tempo,
            beat_phase: end.max(0.0).fract() as f32,
            brightness: block.brightness,
            density: block.density,
            energy: block.energy,
            breath_phase: self.breath_phase,
            breath_rate: self.values[Param::BreathRate.index()],
            breath_swell: swell1,
        };
        let steer = SteeringBlock {
            frames: n,
            from: steer_from,
            to: self.steering,
            beats: (start, end),
            breath: (breath_from, rate * dt),
            inhale,
        };

        // mix with per-sample gain ramps
        let (ml, mr) = (&mut self.mix_l[..n], &mut self.mix_r[..n]);
        ml.fill(0.0);
        mr.fill(0.0);
        let inv_n = 1.0 / n as f32;
        for (i, layer) in Layer::ALL.into_iter().enumerate() {
            let g0 = self.layer_gain[i];
            let g1 = layer_target(&self.values, &self.cfg.breath, layer, swell1) * self.presence[i];
            self.layer_gain[i] = g1;
            let dg = (g1 - g0) * inv_n;
            if layer == Layer::Breath {
                // the breath guide stays out of the reverb: a soft tone's level through a
                // long room would rise and fall with the room's modes from note to note
                let mut g = g0;
                for (x, y) in self.layer_l[i][..n]
                    .iter_mut()
                    .zip(self.layer_r[i][..n].iter_mut())
                {
                    g += dg;
                    *x *= g;
                    *y *= g;
                }
                continue;
            }
            if g0 == 0.0 && g1 == 0.0 {
                continue;
            }
            let mut g = g0;
            for ((o, p), (x, y)) in ml
                .iter_mut()
                .zip(mr.iter_mut())
                .zip(self.layer_l[i][..n].iter().zip(&self.layer_r[i][..n]))
            {
                g += dg;
                *o += x * g;
                *p += y * g;
            }
        }
        // custom layers: rendered at their own gain, mixed like the others
        for layer in self.custom.iter_mut().flatten() {
            let (cl, cr) = (&mut self.custom_l[..n], &mut self.custom_r[..n]);
            layer.render(&steer, cl, cr);
            for ((o, p), (x, y)) in ml.iter_mut().zip(mr.iter_mut()).zip(cl.iter().zip(&*cr)) {
                *o += x;
                *p += y;
            }
        }
        // reverb: everything but the breath guide goes in
        self.reverb
            .process(ml, mr, &mut self.wet_l[..n], &mut self.wet_r[..n]);
        let amount = self.values[Param::Reverb.index()];
        let dry = 1.0 - 0.4 * amount;
        let wet = 0.45 * amount;
        for i in 0..n {
            ml[i] = ml[i] * dry + self.wet_l[i] * wet;
            mr[i] = mr[i] * dry + self.wet_r[i] * wet;
        }
        // the leveler hears the music with its room, not the breath guide
        self.leveler.measure(ml, mr, dt);
        let level0 = self.level;
        self.level = self.leveler.gain(self.values[Param::Energy.index()], dt);
        let dlevel = (self.level - level0) * inv_n;
        // fade and makeup
        let f0 = fade_gain(self.fade_pos);
        self.fade_pos = (self.fade_pos + self.fade_rate * dt).clamp(0.0, 1.0);
        let f1 = fade_gain(self.fade_pos);
        let df = (f1 - f0) * inv_n;
        let mut f = f0;
        let mut lv = level0;
        let mut finite = 0.0f32;
        let breath_l = &self.layer_l[Layer::Breath.index()];
        let breath_r = &self.layer_r[Layer::Breath.index()];
        for i in 0..n {
            f += df;
            lv += dlevel;
            let g = f * self.makeup * lv;
            ml[i] = (ml[i] + breath_l[i]) * g;
            mr[i] = (mr[i] + breath_r[i]) * g;
        }
        self.tone.process(ml, mr);
        for i in 0..n {
            finite += ml[i].abs() + mr[i].abs();
        }
        if !finite.is_finite() {
            // Never pass NaN or infinity on: silence this block and clear every state
            // that could hold the poison.
            ml.fill(0.0);
            mr.fill(0.0);
            self.reverb.reset();
            self.pad.reset();
            self.noise.reset();
            self.breath.reset();
            self.pulse.reset();
            self.melody.reset();
            self.loops.reset();
            for layer in self.custom.iter_mut().flatten() {
                layer.reset();
            }
            self.limiter.reset();
            self.tone.reset();
            self.leveler.reset();
            self.meter.nan_blocks += 1;
        }
        self.limiter.process(ml, mr);
        self.meter.add(ml, mr);
        self.meter.limiter_min_gain = self
            .meter
            .limiter_min_gain
            .min(self.limiter.take_min_gain());
        self.frames += n as u64;
    }
}

/// Raised-cosine fade gain at fade position `pos` (0 silent … 1 full).
fn fade_gain(pos: f32) -> f32 {
    0.5 - 0.5 * (core::f32::consts::PI * pos).cos()
}

/// The gain a layer should have now: its gain times its on/off; the breath swell (while
/// the breath guide is on) moves the pad by the preset's `pad_depth` and the other
/// note and texture layers by its `mix_depth`; the noise bed and the loops follow energy.
fn layer_target(
    values: &[f32; PARAM_COUNT],
    breath: &BreathConfig,
    layer: Layer,
    swell: f32,
) -> f32 {
    let gain = values[Param::Gain(layer).index()];
    let on = values[Param::Enabled(layer).index()];
    let breathing = values[Param::Enabled(Layer::Breath).index()];
    let depth = match layer {
        Layer::Pad => breath.pad_depth,
        Layer::Breath => 0.0,
        _ => breath.mix_depth,
    } * breathing;
    let swelling = 1.0 - depth * (1.0 - swell);
    let extra = match layer {
        Layer::Noise | Layer::Loops => 0.5 + 0.5 * values[Param::Energy.index()],
        _ => 1.0,
    };
    gain * on * extra * swelling
}

#[cfg(test)]
mod planar_tests {
    use super::*;

    #[test]
    fn planar_buffers_of_unequal_length_render_the_common_part_and_silence_the_rest() {
        let config = SoundscapeConfig::default();
        let mut interleaved = Soundscape::new(&config, 48_000.0, 5);
        let mut planar = Soundscape::new(&config, 48_000.0, 5);
        let mut both = vec![0.0f32; 2 * 1000];
        // a second of audio first, so that the sound is not silent
        for _ in 0..48 {
            interleaved.render(&mut both);
            let (mut l, mut r) = (vec![0.0f32; 1000], vec![0.0f32; 1000]);
            planar.render_planar(&mut l, &mut r);
        }
        interleaved.render(&mut both[..2 * 700]);
        let mut left = vec![9.0f32; 700];
        let mut right = vec![9.0f32; 1000];
        planar.render_planar(&mut left, &mut right);
        for i in 0..700 {
            assert_eq!(left[i].to_bits(), both[2 * i].to_bits());
            assert_eq!(right[i].to_bits(), both[2 * i + 1].to_bits());
        }
        assert!(
            left.iter().any(|s| s.abs() > 1e-4),
            "the sound is not silent"
        );
        assert!(
            right[700..].iter().all(|&s| s == 0.0),
            "the rest is silence"
        );
        // the longer one may be either
        let mut left = vec![9.0f32; 300];
        let mut right = vec![9.0f32; 200];
        planar.render_planar(&mut left, &mut right);
        assert!(left[200..].iter().all(|&s| s == 0.0));
        assert_eq!(planar.frames(), interleaved.frames() + 200);
    }
}
