//! Plays one recorded loop in time with the soundscape's beat.

use crate::content::{Follow, LoopItem};
use crate::stream::StreamReader;
use audioadapter_buffers::direct::InterleavedSlice;
use rubato::{
    Async, FixedAsync, Resampler, SincInterpolationParameters, SincInterpolationType,
    WindowFunction,
};
use std::sync::Arc;

/// Frames the variable-ratio resampler produces per call (one soundscape block).
const CHUNK: usize = crate::MAX_BLOCK;
/// The variable-ratio resampler plays between a third and three times recorded speed.
const MAX_RELATIVE: f64 = 3.0;
/// Seconds of the crossfade when a slice starts early (a faster tempo) or a texture wraps.
const JUMP_FADE_S: f32 = 0.008;
/// A slice that ends before its beat's successor (a slower tempo) sustains by reading
/// its last stretch back and forth (a ping-pong loop: the waveform stays continuous at
/// each turn and its pitch unchanged), over at most this many seconds…
const SUSTAIN_SPAN_S: f32 = 0.25;
/// …and at most this fraction of the slice,
const SUSTAIN_SPAN_OF_SLICE: f32 = 0.35;
/// decaying with this time constant (seconds), as a struck note would ring on.
const SUSTAIN_DECAY_S: f32 = 0.6;
/// Seconds of the crossfade at a texture's loop point.
const WRAP_FADE_S: f32 = 0.05;

/// One read position at recorded speed with its own gain ramp.
#[derive(Clone, Copy, Debug, Default)]
struct Head {
    active: bool,
    pos: usize,
    gain: f32,
    step: f32,
    /// Frames until the ramp ends (then `step` stops).
    ramp: u32,
    /// Frames left in the slice being played, if it is one.
    left: Option<i64>,
    /// Sustaining: reading back and forth between these positions.
    sustain: Option<(usize, usize)>,
    /// Reading backwards (while sustaining).
    backwards: bool,
    /// Level of the sustain's decay (1 until it sustains).
    level: f32,
}

impl Head {
    fn start(pos: usize, fade: u32) -> Self {
        let fade = fade.max(1);
        Self {
            active: true,
            pos,
            gain: 0.0,
            step: 1.0 / fade as f32,
            ramp: fade,
            left: None,
            sustain: None,
            backwards: false,
            level: 1.0,
        }
    }

    /// Starts sustaining the stretch `lo..hi` just read, turning back at `hi`.
    fn sustain(&mut self, lo: usize, hi: usize) {
        self.sustain = Some((lo, hi));
        self.backwards = true;
        self.pos = hi.saturating_sub(1).max(lo);
        self.left = None;
    }

    /// Moves to the next frame: forwards, or back and forth while sustaining.
    fn advance(&mut self) {
        match self.sustain {
            None => self.pos += 1,
            Some((lo, hi)) => {
                if self.backwards {
                    if self.pos <= lo {
                        self.backwards = false;
                        self.pos += 1;
                    } else {
                        self.pos -= 1;
                    }
                } else if self.pos + 1 >= hi {
                    self.backwards = true;
                    self.pos -= 1;
                } else {
                    self.pos += 1;
                }
            }
        }
    }

    fn fade_out(&mut self, frames: u32) {
        let frames = frames.max(1);
        self.step = -self.gain / frames as f32;
        self.ramp = frames;
    }
}

/// The variable-ratio path: rubato's sinc resampler with its buffers made up front.
struct Varispeed {
    resampler: Async<f32>,
    input: Vec<f32>,
    output: Vec<f32>,
    out_len: usize,
    out_read: usize,
    pos: usize,
}

impl core::fmt::Debug for Varispeed {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Varispeed").field("pos", &self.pos).finish()
    }
}

impl Varispeed {
    fn new() -> Self {
        let params = SincInterpolationParameters {
            sinc_len: 64,
            f_cutoff: None,
            oversampling_factor: 64,
            interpolation: SincInterpolationType::Linear,
            window: WindowFunction::BlackmanHarris2,
        };
        let resampler =
            Async::<f32>::new_sinc(1.0, MAX_RELATIVE, &params, CHUNK, 2, FixedAsync::Output)
                .expect("valid resampler parameters");
        let input = vec![0.0; 2 * resampler.input_frames_max()];
        let output = vec![0.0; 2 * resampler.output_frames_max()];
        Self {
            resampler,
            input,
            output,
            out_len: 0,
            out_read: 0,
            pos: 0,
        }
    }

    fn restart(&mut self, pos: usize) {
        self.resampler.reset();
        self.out_len = 0;
        self.out_read = 0;
        self.pos = pos;
    }

    /// Adds `left.len()` frames read at `ratio` (output frames per recorded frame).
    fn render_add(&mut self, item: &LoopItem, ratio: f64, left: &mut [f32], right: &mut [f32]) {
        use rubato::Adjustable;
        let ratio = ratio.clamp(1.0 / MAX_RELATIVE, MAX_RELATIVE);
        let samples = item.audio.samples();
        for (l, r) in left.iter_mut().zip(right.iter_mut()) {
            if self.out_read >= self.out_len {
                // a ratio in bounds is never refused
                let _ = self.resampler.set_resample_ratio(ratio, true);
                let need = self.resampler.input_frames_next();
                for k in 0..need {
                    if self.pos >= item.end {
                        self.pos = item.start;
                    }
                    let src = 2 * self.pos;
                    self.input[2 * k] = samples[src];
                    self.input[2 * k + 1] = samples[src + 1];
                    self.pos += 1;
                }
                let produced = match (
                    InterleavedSlice::new(&self.input[..], 2, need),
                    InterleavedSlice::new_mut(&mut self.output[..], 2, CHUNK),
                ) {
                    (Ok(inp), Ok(mut out)) => self
                        .resampler
                        .process_into_buffer(&inp, &mut out, None)
                        .map_or(0, |(_, o)| o),
                    _ => 0,
                };
                if produced == 0 {
                    return;
                }
                self.out_len = produced;
                self.out_read = 0;
            }
            let k = 2 * self.out_read;
            *l += self.output[k];
            *r += self.output[k + 1];
            self.out_read += 1;
        }
    }
}

/// Plays one [`LoopItem`] in time with the beat, following the tempo as the item says
/// ([`Follow`]): slices re-triggered on each beat, a variable-ratio resampler (rubato's
/// sinc `Async`, built here with all its buffers), or free-running for textures. Built off
/// the audio thread; [`LoopPlayer::render_add`] is audio-thread safe.
#[derive(Debug)]
pub struct LoopPlayer {
    item: Arc<LoopItem>,
    sample_rate: f32,
    /// Per-frame factor of a sustain's decay.
    sustain_decay: f32,
    /// Frames a slice's sustain reads back and forth over.
    sustain_span: usize,
    heads: [Head; 2],
    varispeed: Option<Box<Varispeed>>,
    /// Varispeed: whether it sounds.
    running: bool,
    /// A streamed item's reader.
    reader: Option<StreamReader>,
}

impl LoopPlayer {
    /// A player of `item` at `sample_rate` (the item's audio must be at that rate). A
    /// streamed item's stream is opened here.
    pub fn new(item: Arc<LoopItem>, sample_rate: f32) -> Self {
        let varispeed = (item.follow == Follow::Varispeed && item.stream.is_none())
            .then(|| Box::new(Varispeed::new()));
        let reader = item.stream.as_ref().and_then(|s| s.open());
        let sustain_span = (SUSTAIN_SPAN_S * sample_rate)
            .min(SUSTAIN_SPAN_OF_SLICE * item.beat_frames() as f32)
            as usize;
        Self {
            reader,
            item,
            sample_rate,
            sustain_decay: (-1.0 / (SUSTAIN_DECAY_S * sample_rate)).exp(),
            sustain_span,
            heads: [Head::default(); 2],
            varispeed,
            running: false,
        }
    }

    /// The item played.
    pub fn item(&self) -> &LoopItem {
        &self.item
    }

    /// Whether anything sounds.
    pub fn sounding(&self) -> bool {
        self.running || self.heads.iter().any(|h| h.active)
    }

    /// For a streamed item: frames that had not arrived when due (played as silence).
    pub fn missing_frames(&self) -> u64 {
        self.reader.as_ref().map_or(0, StreamReader::missing_frames)
    }

    fn frames(&self, seconds: f32) -> u32 {
        (seconds * self.sample_rate) as u32
    }

    /// Where beat `beat` starts in the recording.
    fn beat_position(&self, beat: u64) -> usize {
        let item = &self.item;
        if item.beats == 0 {
            return item.start;
        }
        let k = (beat % item.beats as u64) as f64;
        item.start + (k * item.beat_frames()).round() as usize
    }

    /// Starts a new head at `pos`, the old one (if any) fading out.
    fn jump(&mut self, pos: usize, fade_in: u32, fade_out: u32) {
        let (a, b) = self.heads.split_at_mut(1);
        let (cur, old) = if a[0].active && (!b[0].active || a[0].gain >= b[0].gain) {
            (&mut a[0], &mut b[0])
        } else {
            (&mut b[0], &mut a[0])
        };
        // the louder head fades; the other slot starts the new position
        if cur.active {
            cur.fade_out(fade_out);
        }
        *old = Head::start(pos, fade_in);
    }

    /// Renders one block: `tempo` BPM, `beat` the beat starting in this block (if one
    /// does), `to_next_beat` frames from the block's end to the next beat. Adds into
    /// `left`/`right`. Audio thread.
    pub fn render_add(
        &mut self,
        tempo: f32,
        beat: Option<u64>,
        to_next_beat: f32,
        left: &mut [f32],
        right: &mut [f32],
    ) {
        let n = left.len().min(right.len());
        if let Some(reader) = self.reader.as_mut() {
            // a long recording: it plays on at its own pace, paused while not chosen
            reader.read_add(&mut left[..n], &mut right[..n], 1.0, 0.0);
            return;
        }
        let (start, end, beats, follow) = {
            let i = &self.item;
            (i.start, i.end, i.beats, i.follow)
        };
        let len = end - start;
        if len < 4 {
            return;
        }
        match follow {
            Follow::Varispeed => {
                if let Some(b) = beat {
                    if !self.running {
                        let pos = self.beat_position(b);
                        if let Some(v) = self.varispeed.as_mut() {
                            v.restart(pos);
                        }
                        self.running = true;
                    }
                }
                if !self.running {
                    return;
                }
                let native = beats as f64 * 60.0 * self.sample_rate as f64 / len as f64;
                let ratio = native / tempo.max(1.0) as f64;
                if let Some(v) = self.varispeed.as_mut() {
                    v.render_add(&self.item, ratio, &mut left[..n], &mut right[..n]);
                }
                return;
            }
            Follow::Slices => {
                if let Some(b) = beat {
                    let target = self.beat_position(b);
                    let slice = self.item.beat_frames().round() as i64;
                    // how far a head is past the slice's start, across the loop point
                    let past = |pos: usize| {
                        let d = (pos as i64 - target as i64).rem_euclid(len as i64);
                        if d > len as i64 / 2 {
                            d - len as i64
                        } else {
                            d
                        }
                    };
                    let near = self.heads.iter().any(|h| {
                        h.active
                            && h.step >= 0.0
                            && h.sustain.is_none()
                            && past(h.pos).abs() <= 2 * crate::MAX_BLOCK as i64
                    });
                    if !near {
                        self.jump(target, self.frames(0.002), self.frames(JUMP_FADE_S));
                    }
                    for h in self
                        .heads
                        .iter_mut()
                        .filter(|h| h.active && h.step >= 0.0 && h.sustain.is_none())
                    {
                        h.left = Some(slice - past(h.pos));
                    }
                }
            }
            Follow::Free => {
                if !self.heads.iter().any(|h| h.active) {
                    self.heads[0] = Head::start(start, self.frames(WRAP_FADE_S));
                }
                let wrap = self.frames(WRAP_FADE_S) as usize;
                let due = self
                    .heads
                    .iter()
                    .any(|h| h.active && h.step >= 0.0 && h.pos + wrap >= end);
                if due {
                    self.jump(start, wrap as u32, wrap as u32);
                }
            }
        }
        let samples = self.item.audio.samples();
        // a slice ending this long or more before the next beat sustains
        let sustain_after = (2 * crate::MAX_BLOCK) as f32;
        let span = self.sustain_span;
        let decay = self.sustain_decay;
        for h in self.heads.iter_mut().filter(|h| h.active) {
            for (i, (l, r)) in left[..n].iter_mut().zip(right[..n].iter_mut()).enumerate() {
                if h.pos >= end {
                    if follow == Follow::Slices {
                        h.pos = start + (h.pos - end);
                    } else {
                        h.active = false;
                        break;
                    }
                }
                if h.ramp > 0 {
                    h.gain = (h.gain + h.step).clamp(0.0, 1.0);
                    h.ramp -= 1;
                    if h.ramp == 0 && h.step < 0.0 {
                        h.gain = 0.0;
                    }
                }
                let k = 2 * h.pos;
                let g = h.gain * h.level;
                *l += samples[k] * g;
                *r += samples[k + 1] * g;
                h.advance();
                if h.sustain.is_some() {
                    h.level *= decay;
                } else if let Some(left) = h.left.as_mut() {
                    *left -= 1;
                    let to_beat = to_next_beat + (n - i) as f32;
                    if *left == 0
                        && h.step >= 0.0
                        && to_beat > sustain_after
                        && span >= 4
                        && h.pos >= start + span
                    {
                        h.sustain(h.pos - span, h.pos);
                    }
                }
            }
            if h.step < 0.0 && h.ramp == 0 {
                h.active = false;
            }
        }
    }

    /// Stops at once (when no longer chosen, or after a NaN); it starts again on a beat
    /// (a streamed item resumes where it was). Audio thread.
    pub fn stop(&mut self) {
        self.running = false;
        self.heads = [Head::default(); 2];
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::content::Audio;

    /// A loop of `beats` clicks at `bpm`.
    fn clicks(bpm: f32, beats: u32, follow: Follow, sr: f32) -> Arc<LoopItem> {
        let beat = (60.0 / bpm * sr) as usize;
        let len = beat * beats as usize;
        let mut v = vec![0.0f32; 2 * len];
        for b in 0..beats as usize {
            for i in 0..200 {
                let s = (1.0 - i as f32 / 200.0) * 0.5 * ((i as f32) * 0.3).sin();
                v[2 * (b * beat + i)] = s;
                v[2 * (b * beat + i) + 1] = s;
            }
        }
        Arc::new(LoopItem {
            id: "clicks".into(),
            audio: Audio::from_interleaved(v),
            start: 0,
            end: len,
            beats,
            follow,
            brightness: 0.5,
            energy: 0.5,
            key: None,
            stream: None,
        })
    }

    /// Onsets per minute when played at `tempo`.
    fn onset_rate(follow: Follow, tempo: f32) -> f32 {
        let sr = 48_000.0;
        let mut p = LoopPlayer::new(clicks(60.0, 4, follow, sr), sr);
        let secs = 20.0;
        let blocks = (secs * sr / 64.0) as usize;
        let mut beat_pos = -1e-9f64;
        let mut env = Vec::new();
        for _ in 0..blocks {
            let start = beat_pos;
            beat_pos += tempo as f64 / 60.0 * 64.0 / sr as f64;
            let beat = (beat_pos.floor() > start.floor()).then(|| beat_pos.floor() as u64);
            let to_next =
                ((beat_pos.floor() + 1.0 - beat_pos) * 60.0 / tempo as f64 * sr as f64) as f32;
            let mut l = [0.0f32; 64];
            let mut r = [0.0f32; 64];
            p.render_add(tempo, beat, to_next, &mut l, &mut r);
            env.push(l.iter().fold(0.0f32, |m, v| m.max(v.abs())));
        }
        let onsets = core::iter::once(0.0)
            .chain(env.iter().copied())
            .collect::<Vec<_>>()
            .windows(2)
            .filter(|w| w[1] > 0.1 && w[0] < 0.05)
            .count();
        onsets as f32 / (secs / 60.0)
    }

    #[test]
    fn slices_and_varispeed_follow_tempo() {
        for follow in [Follow::Slices, Follow::Varispeed] {
            for tempo in [48.0, 60.0, 72.0] {
                let rate = onset_rate(follow, tempo);
                assert!(
                    (rate - tempo).abs() <= 3.0,
                    "{follow:?} at {tempo}: {rate}/min"
                );
            }
        }
    }
}
