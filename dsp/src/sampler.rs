//! A sampler: notes of a sampled instrument, in a fixed pool of voices.

use crate::content::{Audio, Instrument};
use std::sync::Arc;

/// Seconds over which a stolen voice fades before its new note starts.
const STEAL_S: f32 = 0.004;
/// Seconds of the fade-in that keeps a note's first sample from clicking.
const DECLICK_S: f32 = 0.001;
/// Level below which a fading voice is silent.
const SILENT: f32 = 1e-4;

#[derive(Clone, Copy, Debug, PartialEq)]
enum Stage {
    Idle,
    /// Sounding; releases after `hold` more frames.
    Hold,
    /// Let go: fading by `release_mul` per frame.
    Release,
    /// Fading fast to make room for `pending`.
    Steal,
}

/// What a note asks of a voice.
#[derive(Clone, Copy, Debug, PartialEq)]
struct NoteOn {
    zone: usize,
    release_sample: bool,
    inc: f64,
    amp: f32,
    hold: u32,
    pan: f32,
}

/// One sounding sample: a zone's note (or its release noise) read at a playback ratio
/// with 4-point cubic (Catmull-Rom) interpolation, under a hold-then-release envelope.
#[derive(Clone, Debug)]
struct SampleVoice {
    stage: Stage,
    note: NoteOn,
    pos: f64,
    level: f32,
    declick: f32,
    hold: u32,
    gain_l: f32,
    gain_r: f32,
    pending: Option<NoteOn>,
}

/// Per-frame envelope steps, fixed by the sample rate at set-up.
#[derive(Clone, Copy, Debug)]
struct Steps {
    /// A let-go note's level multiplier.
    release_mul: f32,
    /// A stolen voice's level multiplier.
    steal_mul: f32,
    /// The onset's declick ramp increment.
    declick: f32,
}

impl Default for SampleVoice {
    fn default() -> Self {
        Self {
            stage: Stage::Idle,
            note: NoteOn {
                zone: 0,
                release_sample: false,
                inc: 1.0,
                amp: 0.0,
                hold: 0,
                pan: 0.0,
            },
            pos: 0.0,
            level: 0.0,
            declick: 1.0,
            hold: 0,
            gain_l: 0.0,
            gain_r: 0.0,
            pending: None,
        }
    }
}

#[inline]
fn catmull_rom(y0: f32, y1: f32, y2: f32, y3: f32, t: f32) -> f32 {
    let a = -0.5 * y0 + 1.5 * y1 - 1.5 * y2 + 0.5 * y3;
    let b = y0 - 2.5 * y1 + 2.0 * y2 - 0.5 * y3;
    let c = 0.5 * (y2 - y0);
    ((a * t + b) * t + c) * t + y1
}

impl SampleVoice {
    fn start(&mut self, note: NoteOn) {
        let angle = (note.pan.clamp(-1.0, 1.0) + 1.0) * core::f32::consts::FRAC_PI_4;
        // equal-power balance, unity in the middle
        self.gain_l = angle.cos() * core::f32::consts::SQRT_2;
        self.gain_r = angle.sin() * core::f32::consts::SQRT_2;
        self.note = note;
        self.stage = Stage::Hold;
        self.pos = 0.0;
        self.level = 1.0;
        self.declick = 0.0;
        self.hold = note.hold;
        self.pending = None;
    }

    fn sounding(&self) -> bool {
        self.stage != Stage::Idle
    }

    fn loudness(&self) -> f32 {
        if self.sounding() {
            self.level * self.note.amp
        } else {
            0.0
        }
    }

    /// Renders into `left`/`right`; returns the release note to start when the hold ends
    /// (if the zone has a release sample).
    fn render_add(
        &mut self,
        instrument: &Instrument,
        steps: Steps,
        left: &mut [f32],
        right: &mut [f32],
    ) -> Option<NoteOn> {
        let mut released = None;
        let mut i = 0;
        let n = left.len();
        while i < n {
            if self.stage == Stage::Idle {
                return released;
            }
            let Some(zone) = instrument.zones.get(self.note.zone) else {
                self.stage = Stage::Idle;
                return released;
            };
            let audio: &Audio = if self.note.release_sample {
                match &zone.release {
                    Some(a) => a,
                    None => {
                        self.stage = Stage::Idle;
                        return released;
                    }
                }
            } else {
                &zone.audio
            };
            let frames = audio.frames() as f64;
            let amp = self.note.amp;
            while i < n {
                let p = self.pos.floor();
                if p + 2.0 >= frames {
                    self.stage = Stage::Idle;
                    break;
                }
                let k = p as isize;
                let t = (self.pos - p) as f32;
                let (l0, r0) = audio.frame(k - 1);
                let (l1, r1) = audio.frame(k);
                let (l2, r2) = audio.frame(k + 1);
                let (l3, r3) = audio.frame(k + 2);
                let g = self.level * self.declick * amp;
                left[i] += catmull_rom(l0, l1, l2, l3, t) * g * self.gain_l;
                right[i] += catmull_rom(r0, r1, r2, r3, t) * g * self.gain_r;
                self.pos += self.note.inc;
                if self.declick < 1.0 {
                    self.declick = (self.declick + steps.declick).min(1.0);
                }
                i += 1;
                match self.stage {
                    Stage::Hold => {
                        if self.hold == 0 {
                            self.stage = Stage::Release;
                            if zone.release.is_some() && !self.note.release_sample {
                                released = Some(NoteOn {
                                    release_sample: true,
                                    inc: 1.0,
                                    hold: u32::MAX,
                                    ..self.note
                                });
                            }
                        } else {
                            self.hold -= 1;
                        }
                    }
                    Stage::Release => {
                        self.level *= steps.release_mul;
                        if self.level < SILENT {
                            self.stage = Stage::Idle;
                        }
                    }
                    Stage::Steal => {
                        self.level *= steps.steal_mul;
                        if self.level < SILENT {
                            match self.pending.take() {
                                Some(next) => {
                                    self.start(next);
                                    break; // another zone, perhaps
                                }
                                None => self.stage = Stage::Idle,
                            }
                        }
                    }
                    Stage::Idle => {}
                }
            }
        }
        released
    }
}

/// A fixed pool of `N` sample voices playing one instrument. A note takes a free voice;
/// when all are busy it steals the quietest releasing voice (or else the quietest), which
/// fades out over 4 ms before the new note starts. Releases end in an exponential fade
/// and, where the instrument has them, the key's release noise. Built off the audio
/// thread; [`Sampler::note`] and [`Sampler::render_add`] are audio-thread safe (no
/// allocation, locks or I/O).
#[derive(Clone, Debug)]
pub struct Sampler<const N: usize> {
    instrument: Arc<Instrument>,
    voices: [SampleVoice; N],
    sample_rate: f32,
    steps: Steps,
    release_gain: f32,
}

impl<const N: usize> Sampler<N> {
    /// A sampler of `instrument` at `sample_rate`, notes fading by 60 dB over `release_s`
    /// once let go, the release noise at `release_gain` of the note's amplitude.
    pub fn new(
        instrument: Arc<Instrument>,
        sample_rate: f32,
        release_s: f32,
        release_gain: f32,
    ) -> Self {
        Self {
            instrument,
            voices: core::array::from_fn(|_| SampleVoice::default()),
            sample_rate,
            steps: Steps {
                release_mul: (-6.907_755 / (release_s.max(0.005) * sample_rate)).exp(),
                steal_mul: (-6.907_755 / (STEAL_S * sample_rate)).exp(),
                declick: 1.0 / (DECLICK_S * sample_rate),
            },
            release_gain,
        }
    }

    /// The instrument played.
    pub fn instrument(&self) -> &Instrument {
        &self.instrument
    }

    /// Plays a note at `hz` struck at `velocity` (0..1; from the nearest zone, at the ratio
    /// that brings it to `hz`), at amplitude `amp`, let go after `hold_s`, panned −1
    /// (left) … 1 (right). Audio thread. Returns false when the instrument has no zones.
    pub fn note(&mut self, hz: f32, velocity: f32, amp: f32, hold_s: f32, pan: f32) -> bool {
        let Some(zone) = self.instrument.nearest(hz, velocity) else {
            return false;
        };
        if !(hz.is_finite() && amp.is_finite()) {
            return false;
        }
        let inc = (hz / self.instrument.zones[zone].hz) as f64;
        let hold = (hold_s.max(0.0) * self.sample_rate).min(u32::MAX as f32 / 2.0) as u32;
        self.start(NoteOn {
            zone,
            release_sample: false,
            inc,
            amp,
            hold,
            pan,
        });
        true
    }

    fn start(&mut self, note: NoteOn) {
        if let Some(v) = self.voices.iter_mut().find(|v| !v.sounding()) {
            v.start(note);
            return;
        }
        // steal: the quietest releasing voice, else the quietest
        let pick = |release_only: bool| {
            self.voices
                .iter()
                .enumerate()
                .filter(|(_, v)| !release_only || v.stage == Stage::Release)
                .min_by(|(_, a), (_, b)| a.loudness().total_cmp(&b.loudness()))
                .map(|(i, _)| i)
        };
        let Some(i) = pick(true).or_else(|| pick(false)) else {
            return;
        };
        let v = &mut self.voices[i];
        v.stage = Stage::Steal;
        v.pending = Some(note);
    }

    /// Adds every sounding voice to `left` and `right`. Audio thread.
    pub fn render_add(&mut self, left: &mut [f32], right: &mut [f32]) {
        for i in 0..N {
            let released = self.voices[i].render_add(&self.instrument, self.steps, left, right);
            if let Some(mut r) = released {
                // only into a free voice: release noise never steals a note
                r.amp *= self.release_gain;
                if let Some(v) = self.voices.iter_mut().find(|v| !v.sounding()) {
                    v.start(r);
                }
            }
        }
    }

    /// How many voices sound.
    pub fn active(&self) -> usize {
        self.voices.iter().filter(|v| v.sounding()).count()
    }

    /// Silences every voice (after a NaN, say).
    pub fn reset(&mut self) {
        for v in self.voices.iter_mut() {
            *v = SampleVoice::default();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::content::Zone;

    fn sine_zone(hz: f32, sr: f32, secs: f32) -> Zone {
        let n = (secs * sr) as usize;
        let mut v = Vec::with_capacity(2 * n);
        for i in 0..n {
            let s = (core::f32::consts::TAU * hz * i as f32 / sr).sin() * 0.5;
            v.extend([s, s]);
        }
        Zone {
            hz,
            velocity: 1.0,
            audio: Audio::from_interleaved(v),
            release: Some(Audio::from_interleaved(vec![0.1; 2 * 480])),
        }
    }

    fn instrument(sr: f32) -> Arc<Instrument> {
        Arc::new(Instrument {
            id: "test".into(),
            zones: vec![sine_zone(220.0, sr, 2.0), sine_zone(440.0, sr, 2.0)],
        })
    }

    #[test]
    fn picks_the_nearest_zone_in_pitch() {
        let inst = instrument(48_000.0);
        assert_eq!(inst.nearest(300.0, 1.0), Some(0)); // 300 Hz is nearer 220 in cents
        assert_eq!(inst.nearest(320.0, 1.0), Some(1));
        assert_eq!(inst.nearest(5000.0, 1.0), Some(1));
    }

    #[test]
    fn picks_the_velocity_layer_unless_its_nearest_note_is_far() {
        let sr = 48_000.0;
        let soft = |hz| Zone {
            velocity: 0.3,
            ..sine_zone(hz, sr, 0.1)
        };
        let loud = |hz| Zone {
            velocity: 0.9,
            ..sine_zone(hz, sr, 0.1)
        };
        // soft A3 and A4, loud A3 only
        let inst = Instrument {
            id: "layers".into(),
            zones: vec![soft(220.0), soft(440.0), loud(220.0)],
        };
        assert_eq!(inst.nearest(220.0, 0.2), Some(0));
        assert_eq!(inst.nearest(220.0, 1.0), Some(2));
        // loud A4: the soft A4 (0.6 of the range away: 14.4 semitones' worth) loses to
        // the loud A3 an octave down (12)
        assert_eq!(inst.nearest(440.0, 0.9), Some(2));
        // mezzo-loud A4: the soft A4 (0.4: 9.6) beats the loud A3 (12 + 2.4)
        assert_eq!(inst.nearest(440.0, 0.7), Some(1));
    }

    #[test]
    fn a_note_holds_then_releases_into_silence() {
        let sr = 48_000.0;
        let mut s = Sampler::<4>::new(instrument(sr), sr, 0.1, 0.5);
        assert!(s.note(440.0, 1.0, 1.0, 0.2, 0.0));
        let mut l = vec![0.0; 48_000];
        let mut r = vec![0.0; 48_000];
        for (a, b) in l.chunks_mut(64).zip(r.chunks_mut(64)) {
            s.render_add(a, b);
        }
        let peak = |x: &[f32]| x.iter().fold(0.0f32, |m, v| m.max(v.abs()));
        assert!(peak(&l[1000..9000]) > 0.45, "held");
        assert!(peak(&l[20_000..]) < 1e-3, "released");
        assert_eq!(s.active(), 0);
    }

    #[test]
    fn a_full_pool_steals_without_a_click() {
        let sr = 48_000.0;
        let mut s = Sampler::<2>::new(instrument(sr), sr, 1.0, 0.0);
        let mut l = vec![0.0; 4800];
        let mut r = vec![0.0; 4800];
        for k in 0..6 {
            s.note(220.0 * (1.0 + k as f32 * 0.1), 1.0, 1.0, 5.0, 0.0);
            l.fill(0.0);
            r.fill(0.0);
            for (a, b) in l.chunks_mut(64).zip(r.chunks_mut(64)) {
                s.render_add(a, b);
            }
            let jump = l.windows(2).fold(0.0f32, |m, w| m.max((w[1] - w[0]).abs()));
            // a 1 kHz-ish sine at amplitude ≤ 1 moves ≤ 0.1 per sample at 48 kHz
            assert!(jump < 0.15, "note {k}: step {jump}");
            assert!(s.active() <= 2);
        }
    }
}
