//! The pad: a bass and up to six upper voices that voice-lead from chord to chord.

use super::Block;
use crate::compose::{Voicing, UPPER};
use crate::config::PadConfig;
use crate::ladder::Ladder;
use crate::music::midi_hz;
use crate::osc::{sin_turns, wrap, OscBank};
use crate::rng::Rng;
use crate::MAX_BLOCK;

/// The bass and the upper voices.
const VOICES: usize = 1 + UPPER;
const LANES: usize = 2 * VOICES;

/// A bass and up to six upper voices (two detuned oscillators each, slowly drifting)
/// through a stereo ladder low-pass. The composer hands it voicings; a voice whose note
/// changes crossfades from its old note to its new one over `glide_s` (each voice has two
/// slots, one per oscillator bank), a held common tone does not move at all, and voices
/// entering or leaving fade. The bass sits in the middle (mono); the upper voices spread
/// by `width`. Brightness sets the cutoff, the breath swell opens it a little more.
#[derive(Clone, Debug)]
pub struct Pad {
    cfg: PadConfig,
    banks: [OscBank<LANES>; 2],
    /// Note per bank and voice, MIDI.
    notes: [[f32; VOICES]; 2],
    /// Which bank holds each voice's current note.
    current: [usize; VOICES],
    /// Crossfade progress per voice (1 = done).
    xfade: [f32; VOICES],
    xfade_rate: f32,
    /// Level per voice (fades as voices enter and leave) and its target.
    level: [f32; VOICES],
    level_target: [f32; VOICES],
    pending: Option<Voicing>,
    drift_phase: [f32; LANES],
    drift_inc: [f32; LANES],
    ladder: Ladder,
    sample_rate: f32,
}

impl Pad {
    /// A pad sounding `voicing`, its voices crossfading over `glide_s` when the voicing
    /// changes.
    pub fn new(
        cfg: &PadConfig,
        voicing: &Voicing,
        sample_rate: f32,
        glide_s: f32,
        rng: &mut Rng,
    ) -> Self {
        let mut banks = [OscBank::new(sample_rate), OscBank::new(sample_rate)];
        for bank in banks.iter_mut() {
            for k in 0..LANES {
                bank.set_phase(k, rng.uniform());
            }
        }
        let mut drift_phase = [0.0; LANES];
        let mut drift_inc = [0.0; LANES];
        for k in 0..LANES {
            drift_phase[k] = rng.uniform();
            // 0.03–0.12 Hz, advanced once per block
            drift_inc[k] = (0.03 + 0.09 * rng.uniform()) * MAX_BLOCK as f32 / sample_rate;
        }
        let mut notes = [[0.0; VOICES]; 2];
        notes[0][0] = voicing.bass;
        notes[0][1..].copy_from_slice(&voicing.upper);
        notes[1] = notes[0];
        let mut level = [0.0; VOICES];
        level[0] = 1.0;
        for l in level[1..1 + voicing.count].iter_mut() {
            *l = 1.0;
        }
        Self {
            cfg: cfg.clone(),
            banks,
            notes,
            current: [0; VOICES],
            xfade: [1.0; VOICES],
            xfade_rate: 1.0 / glide_s.max(0.05),
            level,
            level_target: level,
            pending: None,
            drift_phase,
            drift_inc,
            ladder: Ladder::new(sample_rate),
            sample_rate,
        }
    }

    /// Moves to `voicing`: voices whose note changes crossfade to it, voices no longer
    /// wanted fade out, new ones fade in. A voicing that arrives while voices are still
    /// crossfading waits until they are done. Audio thread.
    pub fn set_voicing(&mut self, voicing: &Voicing) {
        if self.xfade.iter().any(|x| *x < 1.0) {
            self.pending = Some(*voicing);
            return;
        }
        self.pending = None;
        for v in 0..VOICES {
            let (note, on) = if v == 0 {
                (voicing.bass, true)
            } else {
                (voicing.upper[v - 1], v - 1 < voicing.count)
            };
            self.level_target[v] = if on { 1.0 } else { 0.0 };
            let cur = self.current[v];
            if (self.notes[cur][v] - note).abs() < 0.01 {
                continue;
            }
            if self.level[v] <= 0.0 {
                // silent: retune in place
                self.notes[cur][v] = note;
            } else {
                self.notes[1 - cur][v] = note;
                self.xfade[v] = 0.0;
            }
        }
    }

    /// Whether any voice is crossfading.
    pub fn crossfading(&self) -> bool {
        self.xfade.iter().any(|x| *x < 1.0)
    }

    /// The notes sounding (MIDI; the bass first), for tests and displays.
    pub fn notes(&self) -> [f32; VOICES] {
        core::array::from_fn(|v| self.notes[self.current[v]][v])
    }

    /// Clears filter state.
    pub fn reset(&mut self) {
        self.ladder.reset();
    }

    /// Renders one block into `left`/`right` (overwriting); `swell` (0..1) is the breath
    /// swell, which opens the filter by `breath_filter` octaves at its top.
    pub fn render(
        &mut self,
        b: &Block,
        swell: f32,
        breath_filter: f32,
        left: &mut [f32],
        right: &mut [f32],
    ) {
        let n = b.frames;
        let (left, right) = (&mut left[..n], &mut right[..n]);
        left.fill(0.0);
        right.fill(0.0);
        let dt = n as f32 / b.sample_rate;
        let step = dt * self.xfade_rate;
        for v in 0..VOICES {
            let l = &mut self.level[v];
            *l = if self.level_target[v] > *l {
                (*l + step).min(1.0)
            } else {
                (*l - step).max(0.0)
            };
        }
        // the upper voices share a constant power; the bass is its own
        let upper_power: f32 = self.level[1..].iter().map(|l| l * l).sum();
        let upper_norm = 0.15 / upper_power.max(1.0).sqrt();
        let bass_gain = 0.14 * self.cfg.bass;
        let saw = self.cfg.saw_max * b.brightness;
        let tri = 1.0 - saw;
        let half_detune = self.cfg.detune_cents * 0.005; // semitones
        for k in 0..LANES {
            self.drift_phase[k] = wrap(self.drift_phase[k] + self.drift_inc[k]);
        }
        for v in 0..VOICES {
            let (to_old, to_new) = if self.xfade[v] < 1.0 {
                self.xfade[v] = (self.xfade[v] + step).min(1.0);
                if self.xfade[v] >= 1.0 {
                    // done: the new slot is current, the old one silent
                    self.current[v] = 1 - self.current[v];
                    (1.0, 0.0)
                } else {
                    let a = self.xfade[v] * core::f32::consts::FRAC_PI_2;
                    (a.cos(), a.sin())
                }
            } else {
                (1.0, 0.0)
            };
            let g = self.level[v]
                * if v == 0 {
                    bass_gain
                } else {
                    upper_norm / (1.0 + 0.08 * (v - 1) as f32)
                };
            let side = if v % 2 == 0 { -1.0 } else { 1.0 };
            // the bass is mono; upper voices spread outward as they rise
            let width = if v == 0 { 0.0 } else { self.cfg.width };
            let centre = side * width * (0.25 + 0.75 * (v as f32 - 1.0).max(0.0) / 5.0);
            let detune = half_detune;
            // the detune is given at middle C and widens for lower notes, so every voice
            // beats at about the same rate (low voices would otherwise swell slowly)
            let note = self.notes[self.current[v]][v];
            let spread = (2.0f32).powf((60.0 - note) / 12.0).clamp(0.5, 2.5);
            for (bank, mix) in [(self.current[v], to_old), (1 - self.current[v], to_new)] {
                for o in 0..2 {
                    let k = 2 * v + o;
                    let sign = if o == 0 { -1.0 } else { 1.0 };
                    // both oscillators of a voice drift together, so their detune (and
                    // the beating it makes) stays constant instead of slowing to a deep,
                    // slow swell whenever the drifts cross
                    let drift = self.cfg.drift_cents * 0.01 * sin_turns(self.drift_phase[2 * v]);
                    // the second oscillator is quieter, which bounds the beating's depth;
                    // the bass's second oscillator sounds the octave instead of a detune
                    let (pitch, level) = match (v, o) {
                        (0, 1) => (self.notes[bank][v] + 12.0 + drift, 0.35),
                        (0, _) => (self.notes[bank][v] + drift, 1.0),
                        (_, 1) => (self.notes[bank][v] + detune * spread + drift, 0.45),
                        _ => (self.notes[bank][v] - detune * spread + drift, 1.0),
                    };
                    let osc = &mut self.banks[bank];
                    osc.set_freq(k, midi_hz(pitch));
                    osc.set_shape(k, saw, tri);
                    let pan = (centre + sign * 0.15 * width).clamp(-1.0, 1.0);
                    let angle = (pan + 1.0) * core::f32::consts::FRAC_PI_4;
                    let gain = g * mix * level;
                    osc.set_gains(k, gain * angle.cos(), gain * angle.sin());
                }
            }
        }
        for bank in self.banks.iter_mut() {
            bank.render_add(left, right);
        }
        if !self.crossfading() {
            if let Some(v) = self.pending.take() {
                self.set_voicing(&v);
            }
        }
        let swell_oct = breath_filter * (swell - 0.5);
        let cutoff = self.cfg.cutoff_min_hz
            * (self.cfg.cutoff_max_hz / self.cfg.cutoff_min_hz).powf(b.brightness)
            * swell_oct.exp2();
        self.ladder.process(
            left,
            right,
            cutoff.min(self.sample_rate * 0.45),
            4.0 * self.cfg.resonance,
        );
    }
}
