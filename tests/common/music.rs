//! Music analysis of rendered audio: chroma and chords, bass, onsets and notes, EBU R128
//! loudness, spectral balance, similarity, melody statistics, layer stems and images.
//!
//! Every function takes mono audio at [`SR`] unless it says it takes interleaved stereo.
//! The functions run on the test thread; none is meant for the audio thread.

use super::SR;
use isochord::{Content, Layer, Soundscape, SoundscapeConfig};
use realfft::RealFftPlanner;
use std::path::Path;

// ---------------------------------------------------------------------------------------
// Short-time spectra
// ---------------------------------------------------------------------------------------

/// A periodic Hann window of `n` samples.
fn hann(n: usize) -> Vec<f32> {
    (0..n)
        .map(|i| 0.5 - 0.5 * (std::f32::consts::TAU * i as f32 / n as f32).cos())
        .collect()
}

/// Calls `f(frame_index, start_sample, magnitudes)` for each Hann-windowed frame of `n`
/// samples every `hop` samples (frames that would run past the end are left out). The
/// magnitudes are scaled by 2/n, so a full-scale sine centred on a bin reads 0.5.
fn for_each_frame(x: &[f32], n: usize, hop: usize, mut f: impl FnMut(usize, usize, &[f32])) {
    let mut planner = RealFftPlanner::<f32>::new();
    let fft = planner.plan_fft_forward(n);
    let window = hann(n);
    let mut input = fft.make_input_vec();
    let mut output = fft.make_output_vec();
    let mut mag = vec![0.0f32; n / 2 + 1];
    let scale = 2.0 / n as f32;
    let mut start = 0;
    let mut i = 0;
    while start + n <= x.len() {
        for ((d, s), w) in input.iter_mut().zip(&x[start..start + n]).zip(&window) {
            *d = s * w;
        }
        fft.process(&mut input, &mut output).unwrap();
        for (m, c) in mag.iter_mut().zip(&output) {
            *m = c.norm() * scale;
        }
        f(i, start, &mag);
        start += hop;
        i += 1;
    }
}

/// Average power spectrum (|X|², scaled as in `for_each_frame`) over Hann frames of `n`
/// samples, half-overlapped.
pub fn power_spectrum(x: &[f32], n: usize) -> Vec<f64> {
    let mut acc = vec![0.0f64; n / 2 + 1];
    let mut frames = 0usize;
    for_each_frame(x, n, n / 2, |_, _, m| {
        for (a, v) in acc.iter_mut().zip(m) {
            *a += (*v as f64) * (*v as f64);
        }
        frames += 1;
    });
    acc.iter_mut().for_each(|a| *a /= frames.max(1) as f64);
    acc
}

/// Spectral peaks of one magnitude frame between bins `a` and `b`: local maxima over
/// ±2 bins standing at least 6 dB above the mean magnitude of the 17 bins around them.
/// Returns (frequency in bins, refined by a parabola through the log magnitudes;
/// magnitude).
fn peaks(mag: &[f32], a: usize, b: usize) -> Vec<(f32, f32)> {
    let mut out = Vec::new();
    let a = a.max(8);
    let b = b.min(mag.len().saturating_sub(9));
    for k in a..b {
        let m = mag[k];
        if m <= 0.0 || m < mag[k - 1] || m <= mag[k + 1] || m < mag[k - 2] || m <= mag[k + 2] {
            continue;
        }
        let local = mag[k - 8..=k + 8].iter().sum::<f32>() / 17.0;
        if m < 2.0 * local {
            continue;
        }
        let (l, c, r) = (
            mag[k - 1].max(1e-12).ln(),
            m.ln(),
            mag[k + 1].max(1e-12).ln(),
        );
        let den = l - 2.0 * c + r;
        let d = if den.abs() > 1e-12 {
            (0.5 * (l - r) / den).clamp(-0.5, 0.5)
        } else {
            0.0
        };
        out.push((k as f32 + d, m));
    }
    out
}

/// MIDI note number (fractional) of a frequency.
pub fn hz_to_midi(hz: f32) -> f32 {
    69.0 + 12.0 * (hz / 440.0).log2()
}

/// The pitch class (0 = C) nearest to a frequency.
pub fn pitch_class_of(hz: f32) -> u8 {
    (hz_to_midi(hz).round() as i32).rem_euclid(12) as u8
}

/// Pitch-class names, C = 0.
pub const PITCH_NAMES: [&str; 12] = [
    "C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B",
];

// ---------------------------------------------------------------------------------------
// Chroma
// ---------------------------------------------------------------------------------------

/// A 12-bin pitch-class profile, C = 0.
pub type Chroma = [f32; 12];

/// FFT length of the chroma frames: 16384 samples (341 ms, 2.9 Hz per bin).
pub const CHROMA_FFT: usize = 16384;
/// Hop between chroma frames: 8192 samples (171 ms).
pub const CHROMA_HOP: usize = 8192;

/// Chroma per window of `window_s` seconds (consecutive, not overlapping; a last partial
/// window is dropped).
///
/// Method: Hann frames of [`CHROMA_FFT`] samples every [`CHROMA_HOP`]; in each frame the
/// spectral peaks between 55 Hz and 5 kHz (local maxima 6 dB over their surroundings,
/// frequency refined by a parabola) add their magnitude to the pitch class nearest
/// their frequency. Peak picking keeps broadband noise and the window's side lobes out
/// of the profile. A window's chroma is the sum of the frames that start inside it.
/// Not normalised (silence gives zeros); compare with [`cosine`].
pub fn chroma(x: &[f32], window_s: f32) -> Vec<Chroma> {
    let per = (window_s * SR) as usize;
    let windows = x.len() / per.max(1);
    let mut out = vec![[0.0f32; 12]; windows];
    let bin_hz = SR / CHROMA_FFT as f32;
    let (a, b) = ((55.0 / bin_hz) as usize, (5000.0 / bin_hz) as usize);
    for_each_frame(x, CHROMA_FFT, CHROMA_HOP, |_, start, mag| {
        let w = start / per.max(1);
        if w >= windows {
            return;
        }
        for (k, m) in peaks(mag, a, b) {
            out[w][pitch_class_of(k * bin_hz) as usize] += m;
        }
    });
    out
}

/// Cosine similarity of two vectors (0 when either is all zeros).
pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let (mut ab, mut aa, mut bb) = (0.0f64, 0.0f64, 0.0f64);
    for (x, y) in a.iter().zip(b) {
        ab += (*x as f64) * (*y as f64);
        aa += (*x as f64) * (*x as f64);
        bb += (*y as f64) * (*y as f64);
    }
    if aa <= 0.0 || bb <= 0.0 {
        0.0
    } else {
        (ab / (aa.sqrt() * bb.sqrt())) as f32
    }
}

/// How many consecutive windows differ: the count of `i` with
/// `cosine(w[i], w[i + 1]) < threshold` (the figure uses 10 s chroma windows and
/// 0.9).
pub fn count_changes(windows: &[Chroma], threshold: f32) -> usize {
    windows
        .windows(2)
        .filter(|p| cosine(&p[0], &p[1]) < threshold)
        .count()
}

// ---------------------------------------------------------------------------------------
// Chords
// ---------------------------------------------------------------------------------------

/// The chord qualities recognised, with their pitch classes above the root. The set
/// covers what calm modal and pentatonic harmony uses: the bare fifth, triads,
/// suspensions, sixths, the three common sevenths and added-ninth colours, and 6/9 (the
/// whole major pentatonic). Identical pitch sets under two names (C6 = Am7,
/// Csus2 = Gsus4) are told apart by the bass, when one is given.
pub const QUALITIES: [(&str, &[u8]); 12] = [
    ("", &[0, 4, 7]),
    ("m", &[0, 3, 7]),
    ("5", &[0, 7]),
    ("sus2", &[0, 2, 7]),
    ("sus4", &[0, 5, 7]),
    ("6", &[0, 4, 7, 9]),
    ("maj7", &[0, 4, 7, 11]),
    ("m7", &[0, 3, 7, 10]),
    ("7", &[0, 4, 7, 10]),
    ("add9", &[0, 2, 4, 7]),
    ("madd9", &[0, 2, 3, 7]),
    ("6/9", &[0, 2, 4, 7, 9]),
];

/// A chord: root pitch class (0 = C) and an index into [`QUALITIES`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Chord {
    /// Root pitch class, 0 = C.
    pub root: u8,
    /// Index into [`QUALITIES`].
    pub quality: usize,
}

impl Chord {
    /// The chord's pitch classes.
    pub fn pitch_classes(self) -> Vec<u8> {
        QUALITIES[self.quality]
            .1
            .iter()
            .map(|i| (self.root + i) % 12)
            .collect()
    }

    /// Whether pitch class `pc` is a chord tone.
    pub fn contains(self, pc: u8) -> bool {
        self.pitch_classes().contains(&(pc % 12))
    }

    /// Its name: "D", "Am7", "Gsus2"…
    pub fn name(self) -> String {
        format!(
            "{}{}",
            PITCH_NAMES[self.root as usize], QUALITIES[self.quality].0
        )
    }
}

impl std::fmt::Display for Chord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.name())
    }
}

/// The best-matching chord for a chroma vector: the template (12 roots × [`QUALITIES`],
/// binary pitch-class sets) with the largest cosine similarity to the chroma. Only
/// templates that tie exactly (the same pitch set under two names) are resolved by
/// `bass`: the one whose root is the bass wins. `None` for a silent chroma.
pub fn chord_of(c: &Chroma, bass: Option<u8>) -> Option<Chord> {
    if c.iter().sum::<f32>() <= 1e-9 {
        return None;
    }
    let mut best: Option<(Chord, f32)> = None;
    for q in 0..QUALITIES.len() {
        for root in 0..12u8 {
            let chord = Chord { root, quality: q };
            let mut t = [0.0f32; 12];
            for pc in chord.pitch_classes() {
                t[pc as usize] = 1.0;
            }
            let s = cosine(c, &t);
            match best {
                None => best = Some((chord, s)),
                Some((b, bs)) => {
                    let tie = (s - bs).abs() <= 1e-5;
                    if (s > bs && !tie) || (tie && bass == Some(root) && bass != Some(b.root)) {
                        best = Some((chord, s));
                    }
                }
            }
        }
    }
    best.map(|(c, _)| c)
}

/// A stretch of one chord in a merged sequence.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ChordSpan {
    /// Start time in seconds.
    pub start_s: f32,
    /// Duration in seconds.
    pub dur_s: f32,
    /// The chord (`None`: silence).
    pub chord: Option<Chord>,
}

/// Chords per frame of `frame_s` seconds (chroma of that window, with the bass root of
/// the same window to name identical pitch sets; see [`chord_of`] and [`bass_roots`]).
pub fn chords(x: &[f32], frame_s: f32) -> Vec<Option<Chord>> {
    let c = chroma(x, frame_s);
    let b = bass_roots(x, frame_s);
    c.iter()
        .enumerate()
        .map(|(i, c)| chord_of(c, b.get(i).and_then(|b| b.pc)))
        .collect()
}

/// Merges per-frame chords (one every `frame_s` seconds) into spans: runs of the same
/// chord join; then, while a span shorter than `min_s` remains, the shortest such span
/// is absorbed into its longer neighbour (and equal neighbours rejoin). The result has
/// no span under `min_s` unless it is the only one.
pub fn merge_chords(frames: &[Option<Chord>], frame_s: f32, min_s: f32) -> Vec<ChordSpan> {
    let mut spans: Vec<ChordSpan> = Vec::new();
    for (i, c) in frames.iter().enumerate() {
        match spans.last_mut() {
            Some(s) if s.chord == *c => s.dur_s += frame_s,
            _ => spans.push(ChordSpan {
                start_s: i as f32 * frame_s,
                dur_s: frame_s,
                chord: *c,
            }),
        }
    }
    loop {
        if spans.len() < 2 {
            break;
        }
        let Some((i, _)) = spans
            .iter()
            .enumerate()
            .filter(|(_, s)| s.dur_s < min_s - 1e-4)
            .min_by(|a, b| a.1.dur_s.total_cmp(&b.1.dur_s))
        else {
            break;
        };
        let left = i.checked_sub(1).map(|j| spans[j].dur_s).unwrap_or(-1.0);
        let right = spans.get(i + 1).map(|s| s.dur_s).unwrap_or(-1.0);
        let into = if left >= right { i - 1 } else { i + 1 };
        let d = spans[i].dur_s;
        spans[into].dur_s += d;
        if into < i {
            spans.remove(i);
        } else {
            spans[into].start_s = spans[i].start_s;
            spans.remove(i);
        }
        // rejoin equal neighbours
        let mut j = 1;
        while j < spans.len() {
            if spans[j].chord == spans[j - 1].chord {
                spans[j - 1].dur_s += spans[j].dur_s;
                spans.remove(j);
            } else {
                j += 1;
            }
        }
    }
    spans
}

/// The distinct chords of a merged sequence (silence left out), in order of first
/// appearance.
pub fn distinct_chords(spans: &[ChordSpan]) -> Vec<Chord> {
    let mut out: Vec<Chord> = Vec::new();
    for c in spans.iter().filter_map(|s| s.chord) {
        if !out.contains(&c) {
            out.push(c);
        }
    }
    out
}

/// A harmony: chord spans whose summed chroma are alike, however they were labelled.
#[derive(Clone, Debug, PartialEq)]
pub struct Harmony {
    /// The template chord of the summed chroma (`None`: silence).
    pub chord: Option<Chord>,
    /// Its total time, seconds.
    pub dur_s: f32,
    /// The summed chroma of its spans.
    pub chroma: Chroma,
}

/// The distinct harmonies of a merged chord sequence: each span's chroma (the sum of
/// the per-frame `frames` it covers, `frame_s` each) joins the first harmony, taken
/// longest span first, whose summed chroma is within `threshold` cosine of it (0.9, the
/// threshold of [`count_changes`]), or starts a new one. Template labels can flicker
/// between near-equal names (A5 and C6 over the same pad as a melody passes); the
/// harmonies do not, so a single sustained chord counts once. Sorted longest first.
pub fn harmonies(
    frames: &[Chroma],
    spans: &[ChordSpan],
    frame_s: f32,
    threshold: f32,
) -> Vec<Harmony> {
    let mut order: Vec<&ChordSpan> = spans.iter().filter(|s| s.chord.is_some()).collect();
    order.sort_by(|a, b| b.dur_s.total_cmp(&a.dur_s));
    let mut out: Vec<Harmony> = Vec::new();
    for s in order {
        let a = (s.start_s / frame_s).round() as usize;
        let b = (((s.start_s + s.dur_s) / frame_s).round() as usize).min(frames.len());
        let mut c = [0.0f32; 12];
        for f in &frames[a.min(b)..b] {
            c.iter_mut().zip(f).for_each(|(x, y)| *x += y);
        }
        match out.iter_mut().find(|h| cosine(&h.chroma, &c) >= threshold) {
            Some(h) => {
                h.dur_s += s.dur_s;
                h.chroma.iter_mut().zip(&c).for_each(|(x, y)| *x += y);
            }
            None => out.push(Harmony {
                chord: None,
                dur_s: s.dur_s,
                chroma: c,
            }),
        }
    }
    for h in &mut out {
        h.chord = chord_of(&h.chroma, None);
    }
    out.sort_by(|a, b| b.dur_s.total_cmp(&a.dur_s));
    out
}

/// The chord sounding at time `t` (seconds) in a merged sequence.
pub fn chord_at(spans: &[ChordSpan], t: f32) -> Option<Chord> {
    spans
        .iter()
        .find(|s| t >= s.start_s && t < s.start_s + s.dur_s)
        .and_then(|s| s.chord)
}

// ---------------------------------------------------------------------------------------
// Bass
// ---------------------------------------------------------------------------------------

/// FFT length of the bass analysis: 65536 samples (1.37 s, 0.73 Hz per bin).
pub const BASS_FFT: usize = 65536;

/// The bass of one window.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Bass {
    /// The strongest pitch class below 200 Hz (`None` when there is no peak there).
    pub pc: Option<u8>,
    /// Its share of the peak magnitude below 200 Hz, 0..1.
    pub share: f32,
}

/// The bass root per window of `window_s` seconds: spectral peaks between 30 and 200 Hz
/// of Hann frames of [`BASS_FFT`] samples every half frame, each peak's magnitude added
/// to its pitch class; frames are assigned to the window holding their centre. The long
/// frame resolves semitones down to about 35 Hz.
pub fn bass_roots(x: &[f32], window_s: f32) -> Vec<Bass> {
    let per = (window_s * SR) as usize;
    let windows = x.len() / per.max(1);
    let mut acc = vec![[0.0f32; 12]; windows];
    // shorter signals get the longest power-of-two frame that fits
    let n = if x.len() >= BASS_FFT {
        BASS_FFT
    } else {
        (x.len() + 1).next_power_of_two() / 2
    }
    .max(1024);
    let bin_hz_n = SR / n as f32;
    let (a, b) = ((30.0 / bin_hz_n) as usize, (200.0 / bin_hz_n) as usize);
    for_each_frame(x, n, n / 2, |_, start, mag| {
        let w = (start + n / 2) / per.max(1);
        if w >= windows {
            return;
        }
        for (k, m) in peaks(mag, a, b) {
            acc[w][pitch_class_of(k * bin_hz_n) as usize] += m;
        }
    });
    acc.iter()
        .map(|c| {
            let total: f32 = c.iter().sum();
            if total <= 0.0 {
                return Bass {
                    pc: None,
                    share: 0.0,
                };
            }
            let (pc, m) = c
                .iter()
                .enumerate()
                .max_by(|a, b| a.1.total_cmp(b.1))
                .unwrap();
            Bass {
                pc: Some(pc as u8),
                share: m / total,
            }
        })
        .collect()
}

/// The share of windows whose bass pitch class is the root of the chord of that window
/// (windows without a chord or a bass are left out of both counts).
pub fn root_in_bass_share(chords: &[Option<Chord>], bass: &[Bass]) -> f32 {
    let mut n = 0;
    let mut hit = 0;
    for (c, b) in chords.iter().zip(bass) {
        if let (Some(c), Some(pc)) = (c, b.pc) {
            n += 1;
            if c.root == pc {
                hit += 1;
            }
        }
    }
    if n == 0 {
        0.0
    } else {
        hit as f32 / n as f32
    }
}

// ---------------------------------------------------------------------------------------
// Onsets and notes
// ---------------------------------------------------------------------------------------

/// FFT length of the onset detector: 1024 samples (21 ms).
pub const ONSET_FFT: usize = 1024;
/// Hop of the onset detector: 256 samples (5.3 ms).
pub const ONSET_HOP: usize = 256;

/// Band edges of the onset detector, in bins of [`ONSET_FFT`]: half-octave bands from
/// 516 Hz to 12 kHz, below them 94–281 and 281–516 Hz (no band narrower than four bins,
/// whose noise would flicker).
const ONSET_BANDS: [usize; 12] = [2, 6, 11, 16, 23, 32, 45, 64, 91, 128, 181, 256];

/// Onset strength: band-wise spectral flux. Each frame's power is summed in 11 bands
/// from 94 Hz to 12 kHz (`ONSET_BANDS`), compressed as ln(1 + 1000·√power), and the
/// rises since two frames before (10.7 ms, so a 12 ms attack shows in one step) are
/// added up. Bands rather than bins keep the flux of stationary noise and of beating
/// partials small. One value per
/// [`ONSET_HOP`]; value `i` belongs to the frame starting at sample `i·hop`.
pub fn onset_strength(x: &[f32]) -> Vec<f32> {
    const BANDS: usize = ONSET_BANDS.len() - 1;
    let mut prev = [[0.0f32; BANDS]; 2];
    let mut out = Vec::new();
    for_each_frame(x, ONSET_FFT, ONSET_HOP, |i, _, mag| {
        let mut flux = 0.0;
        let mut now = [0.0f32; BANDS];
        for (b, e) in ONSET_BANDS.windows(2).enumerate() {
            let p: f32 = mag[e[0]..e[1]].iter().map(|m| m * m).sum();
            now[b] = (1.0 + 1000.0 * p.sqrt()).ln();
            if i > 1 {
                flux += (now[b] - prev[0][b]).max(0.0);
            }
        }
        prev[0] = prev[1];
        prev[1] = now;
        out.push(flux);
    });
    out
}

fn percentile(v: &[f32], q: f32) -> f32 {
    if v.is_empty() {
        return 0.0;
    }
    let mut s = v.to_vec();
    s.sort_by(|a, b| a.total_cmp(b));
    s[((q * (s.len() - 1) as f32).round() as usize).min(s.len() - 1)]
}

/// Median of a slice (0 for an empty one).
pub fn median(v: &[f32]) -> f32 {
    percentile(v, 0.5)
}

/// The time of the steepest attack in `x[a..b]`: the first difference of the signal
/// (which favours attacks over sustained low sounds) in 2 ms blocks every 1 ms, in dB;
/// the block whose level rose most over the 4 ms before it, moved back to where the
/// climb began (blocks rising by more than 0.3 dB each); its start.
fn attack_time(x: &[f32], a: usize, b: usize) -> f32 {
    let (blk, hop) = (96usize, 48usize);
    let a = a.max(1);
    let b = b.min(x.len());
    let mut level = Vec::new();
    let mut s = a;
    while s + blk <= b {
        let e: f32 = (s..s + blk).map(|i| (x[i] - x[i - 1]).powi(2)).sum::<f32>() / blk as f32;
        level.push(10.0 * (e + 1e-20).log10());
        s += hop;
    }
    let mut best = (0usize, f32::MIN);
    for j in 4..level.len() {
        let rise = level[j] - level[j - 4];
        if rise > best.1 {
            best = (j, rise);
        }
    }
    // back to where that rise began: the level climbing by more than 0.3 dB a block
    let mut k = best.0;
    while k > 1 && level[k - 1] - level[k - 2] > 0.3 {
        k -= 1;
    }
    (a + k * hop) as f32 / SR
}

/// Onset times in seconds.
///
/// Method: [`onset_strength`]; a frame is an onset when its strength is the largest
/// within ±50 ms and exceeds the largest of: the median of the strength over ±1 s plus
/// 5 times its median absolute deviation there, 4 times that median (stationary noise
/// stays under both), 25 % of the strength's 99.5th percentile over the whole signal
/// (beating partials of ringing notes stay under it), and 0.5 (silence has none); and
/// it is at least 25 % of the largest strength within ±2 s (the flicker of a decaying
/// sampled note after its attack stays under that). The onset time is then refined to the steepest 2 ms attack from 10 ms before to
/// 10 ms after the frame ([`ONSET_FFT`] samples long): clicks are placed within 1 ms,
/// soft attacks under louder sustained sound where they emerge (within 25 ms). Onsets are at least 50 ms apart.
pub fn onsets(x: &[f32]) -> Vec<f32> {
    let s = onset_strength(x);
    if s.is_empty() {
        return Vec::new();
    }
    let hop_s = ONSET_HOP as f32 / SR;
    let near = (0.05 / hop_s).round() as usize;
    let around = (1.0 / hop_s).round() as usize;
    let global = 0.25 * percentile(&s, 0.995);
    // running median and deviation over ±1 s, sampled every 10 frames to stay fast
    let stride = 10;
    let stats: Vec<(f32, f32)> = (0..s.len().div_ceil(stride))
        .map(|j| {
            let c = j * stride;
            let w = &s[c.saturating_sub(around)..(c + around + 1).min(s.len())];
            let m = median(w);
            let dev: Vec<f32> = w.iter().map(|v| (v - m).abs()).collect();
            (m, median(&dev))
        })
        .collect();
    let mut out: Vec<f32> = Vec::new();
    let pad = (0.01 * SR) as usize;
    for i in 0..s.len() {
        let lo = i.saturating_sub(near);
        let hi = (i + near + 1).min(s.len());
        let v = s[i];
        if s[lo..hi].iter().any(|&u| u > v) || s[lo..i].contains(&v) {
            continue;
        }
        let (m, mad) = stats[i / stride];
        if v <= (m + 5.0 * mad).max(4.0 * m).max(global).max(0.5) {
            continue;
        }
        let wide = &s[i.saturating_sub(2 * around)..(i + 2 * around + 1).min(s.len())];
        if v < 0.25 * wide.iter().cloned().fold(0.0, f32::max) {
            continue;
        }
        let start = i * ONSET_HOP;
        let t = attack_time(x, start.saturating_sub(pad), start + ONSET_FFT + pad);
        if out.last().is_none_or(|&p| t - p >= 0.05) {
            out.push(t);
        }
    }
    out
}

/// Onsets per minute of a signal (see [`onsets`]).
pub fn onsets_per_minute(x: &[f32]) -> f32 {
    onsets(x).len() as f32 / (x.len() as f32 / SR / 60.0)
}

/// One note of a solo stem.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct NoteEvent {
    /// Onset time in seconds.
    pub t: f32,
    /// Fundamental frequency in Hz.
    pub hz: f32,
    /// Nearest MIDI note.
    pub midi: i32,
}

/// FFT length of the note-pitch analysis: 8192 samples (171 ms, 5.9 Hz per bin).
pub const NOTE_FFT: usize = 8192;

/// Notes of a solo stem (one instrument, notes that may ring on): each onset (see
/// [`onsets`]) with the pitch of what it added.
///
/// Method: the magnitude spectrum of a Hann frame of [`NOTE_FFT`] samples starting
/// 15 ms after the onset, minus that of the frame ending 5 ms before it (clamped at 0),
/// so notes still ringing cancel. The strongest peak of the difference between 60 Hz
/// and 4 kHz (parabola-refined) is taken, then moved down to f/3 or f/2 (the lower that
/// qualifies) when the difference has a peak there (the largest within ±3 bins) of at
/// least 30 % of the strongest: the fundamental of a tone whose second or third partial
/// is the strongest. Onsets whose
/// difference has no peak above 60 Hz, or whose strongest added component is less than
/// 35 % of what sounds at that frequency after the onset (the flicker of a ringing
/// note, not a new one), or whose peak is not tonal (less than 8 times the mean
/// difference over ±50 bins, ±290 Hz: a damper thump or a release noise), are left out.
pub fn note_events(x: &[f32]) -> Vec<NoteEvent> {
    let n = NOTE_FFT;
    let mut planner = RealFftPlanner::<f32>::new();
    let fft = planner.plan_fft_forward(n);
    let window = hann(n);
    let mut input = fft.make_input_vec();
    let mut output = fft.make_output_vec();
    let mut spectrum = |start: usize| -> Vec<f32> {
        for ((d, s), w) in input.iter_mut().zip(&x[start..start + n]).zip(&window) {
            *d = s * w;
        }
        fft.process(&mut input, &mut output).unwrap();
        output.iter().map(|c| c.norm()).collect()
    };
    let bin_hz = SR / n as f32;
    let (a, b) = ((60.0 / bin_hz) as usize, (4000.0 / bin_hz) as usize);
    let mut out = Vec::new();
    for t in onsets(x) {
        let after = ((t + 0.015) * SR) as usize;
        let end_before = ((t - 0.005) * SR) as isize;
        if after + n > x.len() {
            break;
        }
        let a_spec = spectrum(after);
        let diff: Vec<f32> = if end_before - n as isize >= 0 {
            let b_spec = spectrum(end_before as usize - n);
            a_spec
                .iter()
                .zip(&b_spec)
                .map(|(p, q)| (p - q).max(0.0))
                .collect()
        } else {
            a_spec.clone()
        };
        let Some(k) = (a..b).max_by(|i, j| diff[*i].total_cmp(&diff[*j])) else {
            continue;
        };
        let peak = diff[k];
        if peak <= 0.0 || peak < 0.35 * a_spec[k] {
            continue;
        }
        // a tone, not a thump: the peak stands 8 times over the mean of ±50 bins
        let around = &diff[k.saturating_sub(50)..(k + 51).min(diff.len())];
        if peak < 8.0 * around.iter().sum::<f32>() / around.len() as f32 {
            continue;
        }
        let refine = |k: usize| -> f32 {
            let (l, c, r) = (
                diff[k - 1].max(1e-12).ln(),
                diff[k].max(1e-12).ln(),
                diff[k + 1].max(1e-12).ln(),
            );
            let den = l - 2.0 * c + r;
            let d = if den.abs() > 1e-12 {
                (0.5 * (l - r) / den).clamp(-0.5, 0.5)
            } else {
                0.0
            };
            (k as f32 + d) * bin_hz
        };
        let mut f = refine(k);
        for div in [3.0f32, 2.0] {
            let sub = f / div;
            if sub < 60.0 {
                continue;
            }
            // the largest difference within ±1 bin of f/div, if it is a peak
            let c = (sub / bin_hz).round() as usize;
            let (j, m) = (c - 1..=c + 1)
                .map(|j| (j, diff[j]))
                .max_by(|p, q| p.1.total_cmp(&q.1))
                .unwrap();
            let is_peak = (j - 3..=j + 3).all(|i| diff[i] <= m);
            if is_peak && m >= 0.3 * peak {
                f = refine(j);
                break;
            }
        }
        out.push(NoteEvent {
            t,
            hz: f,
            midi: hz_to_midi(f).round() as i32,
        });
    }
    out
}

// ---------------------------------------------------------------------------------------
// Melody statistics
// ---------------------------------------------------------------------------------------

/// Inter-onset gaps in seconds.
pub fn gaps(times: &[f32]) -> Vec<f32> {
    times.windows(2).map(|w| w[1] - w[0]).collect()
}

/// Summary of inter-onset gaps.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GapStats {
    /// How many gaps.
    pub n: usize,
    /// Median gap, seconds.
    pub median: f32,
    /// Mean gap, seconds.
    pub mean: f32,
    /// Coefficient of variation (standard deviation / mean). A geometric distribution
    /// with a small per-slot chance has a CV near 1.
    pub cv: f32,
}

/// Median, mean and coefficient of variation of a list of gaps.
pub fn gap_stats(gaps: &[f32]) -> GapStats {
    let n = gaps.len();
    if n == 0 {
        return GapStats {
            n,
            median: 0.0,
            mean: 0.0,
            cv: 0.0,
        };
    }
    let mean = gaps.iter().sum::<f32>() / n as f32;
    let var = gaps.iter().map(|g| (g - mean) * (g - mean)).sum::<f32>() / n as f32;
    GapStats {
        n,
        median: median(gaps),
        mean,
        cv: var.sqrt() / mean,
    }
}

/// How well gaps fit a geometric distribution on a grid.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GeometricFit {
    /// Gaps tested.
    pub n: usize,
    /// The fitted per-slot chance (maximum likelihood: 1 / mean slots).
    pub p: f32,
    /// Kolmogorov–Smirnov distance between the gaps' distribution (in slots) and the
    /// fitted geometric one.
    pub ks: f32,
    /// The 5 % critical distance, 1.36/√n (conservative for a discrete, fitted law).
    pub critical: f32,
}

impl GeometricFit {
    /// Whether the gaps are consistent with memoryless coin tosses on the grid.
    pub fn looks_geometric(&self) -> bool {
        self.ks <= self.critical
    }
}

/// Tests whether gaps look geometric: each gap becomes a count of grid slots
/// (`round(gap / grid_s)`, at least 1); a geometric law P(k) = p(1−p)^(k−1) is fitted
/// by maximum likelihood, and the largest distance between the two cumulative
/// distributions (KS) is compared with 1.36/√n. Coin tosses on the grid (a memoryless
/// random melody on an eighth-note grid) pass; phrased melodies, with short gaps inside
/// phrases and long rests between, do not.
pub fn geometric_fit(gaps: &[f32], grid_s: f32) -> GeometricFit {
    let k: Vec<u32> = gaps
        .iter()
        .map(|g| ((g / grid_s).round() as u32).max(1))
        .collect();
    let n = k.len();
    if n == 0 {
        return GeometricFit {
            n,
            p: 0.0,
            ks: 0.0,
            critical: f32::INFINITY,
        };
    }
    let mean = k.iter().map(|&v| v as f64).sum::<f64>() / n as f64;
    let p = 1.0 / mean;
    let kmax = *k.iter().max().unwrap();
    let mut ks = 0.0f64;
    for j in 1..=kmax {
        let emp = k.iter().filter(|&&v| v <= j).count() as f64 / n as f64;
        let model = 1.0 - (1.0 - p).powi(j as i32);
        ks = ks.max((emp - model).abs());
    }
    GeometricFit {
        n,
        p: p as f32,
        ks: ks as f32,
        critical: 1.36 / (n as f32).sqrt(),
    }
}

/// Melodic intervals counted in scale steps.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct IntervalStats {
    /// Intervals counted.
    pub n: usize,
    /// Repeated notes (0 steps).
    pub repeated: usize,
    /// Steps of one scale degree.
    pub steps: usize,
    /// Skips of two scale degrees.
    pub skips: usize,
    /// Leaps of three or more scale degrees.
    pub leaps: usize,
}

impl IntervalStats {
    /// The share of intervals that are repeated notes or leaps of ≥ 3 steps.
    pub fn repeated_or_leap_share(&self) -> f32 {
        if self.n == 0 {
            0.0
        } else {
            (self.repeated + self.leaps) as f32 / self.n as f32
        }
    }
}

/// The scale-degree index of a MIDI note: octaves above the tonic times the scale's
/// length plus the position of the scale tone nearest its pitch class (lower on a tie).
pub fn scale_degree(midi: i32, tonic_pc: u8, scale: &[i32]) -> i32 {
    let rel = midi - tonic_pc as i32;
    let octave = rel.div_euclid(12);
    let pc = rel.rem_euclid(12);
    let mut best = (0usize, i32::MAX, 0i32);
    for (i, &s) in scale.iter().enumerate() {
        for wrap in [-12, 0, 12] {
            let d = (s + wrap - pc).abs();
            if d < best.1 {
                best = (i, d, wrap / 12);
            }
        }
    }
    (octave + best.2) * scale.len() as i32 + best.0 as i32
}

/// Intervals between consecutive notes, in steps of the scale given by `tonic_pc` and
/// its semitone `scale` (e.g. `[0, 2, 4, 7, 9]`).
pub fn interval_stats(midis: &[i32], tonic_pc: u8, scale: &[i32]) -> IntervalStats {
    let mut s = IntervalStats::default();
    for w in midis.windows(2) {
        let d = (scale_degree(w[1], tonic_pc, scale) - scale_degree(w[0], tonic_pc, scale)).abs();
        s.n += 1;
        match d {
            0 => s.repeated += 1,
            1 => s.steps += 1,
            2 => s.skips += 1,
            _ => s.leaps += 1,
        }
    }
    s
}

/// Whether notes at phrase ends land on chord tones.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Cadences {
    /// Phrase-final notes (with a chord sounding).
    pub phrase_ends: usize,
    /// Of those, notes on a chord tone.
    pub on_chord_tone: usize,
    /// The share of all notes (with a chord sounding) on a chord tone, for comparison.
    pub all_notes_share: f32,
}

impl Cadences {
    /// The share of phrase-final notes on a chord tone.
    pub fn share(&self) -> f32 {
        if self.phrase_ends == 0 {
            0.0
        } else {
            self.on_chord_tone as f32 / self.phrase_ends as f32
        }
    }
}

/// Phrase-final notes on chord tones: a note ends a phrase when the gap to the next note
/// is at least twice the median gap (the last note is left out: its rest is unknown).
/// The chord is the one sounding at the note's onset in `chords`.
pub fn cadences(notes: &[NoteEvent], chords: &[ChordSpan]) -> Cadences {
    let g = gaps(&notes.iter().map(|n| n.t).collect::<Vec<_>>());
    let med = median(&g);
    let pc = |n: &NoteEvent| n.midi.rem_euclid(12) as u8;
    let mut ends = 0;
    let mut on = 0;
    for (i, gap) in g.iter().enumerate() {
        if *gap >= 2.0 * med {
            if let Some(c) = chord_at(chords, notes[i].t) {
                ends += 1;
                if c.contains(pc(&notes[i])) {
                    on += 1;
                }
            }
        }
    }
    let mut all = 0;
    let mut all_on = 0;
    for n in notes {
        if let Some(c) = chord_at(chords, n.t) {
            all += 1;
            if c.contains(pc(n)) {
                all_on += 1;
            }
        }
    }
    Cadences {
        phrase_ends: ends,
        on_chord_tone: on,
        all_notes_share: if all == 0 {
            0.0
        } else {
            all_on as f32 / all as f32
        },
    }
}

// ---------------------------------------------------------------------------------------
// Loudness
// ---------------------------------------------------------------------------------------

/// Rate of the loudness series: one value per 100 ms.
pub const LOUDNESS_RATE_HZ: f32 = 10.0;

/// EBU R128 loudness of interleaved stereo.
#[derive(Clone, Debug, PartialEq)]
pub struct Loudness {
    /// Integrated (gated) loudness, LUFS.
    pub integrated: f64,
    /// Momentary loudness (400 ms window), every 100 ms, LUFS (floored at −120).
    pub momentary: Vec<f32>,
    /// Short-term loudness (3 s window), every 100 ms, LUFS (floored at −120).
    pub short_term: Vec<f32>,
    /// Loudness range (LRA), LU.
    pub range: f64,
}

/// EBU R128 loudness of interleaved stereo at [`SR`] (the `ebur128` crate, modes I, M,
/// S and LRA), the momentary and short-term values read after every 100 ms.
pub fn loudness(stereo: &[f32]) -> Loudness {
    use ebur128::{EbuR128, Mode};
    let mut m =
        EbuR128::new(2, SR as u32, Mode::I | Mode::M | Mode::S | Mode::LRA).expect("a valid meter");
    let step = 2 * (SR / LOUDNESS_RATE_HZ) as usize;
    let mut momentary = Vec::new();
    let mut short_term = Vec::new();
    for chunk in stereo.chunks_exact(step) {
        m.add_frames_f32(chunk).unwrap();
        momentary.push((m.loudness_momentary().unwrap() as f32).max(-120.0));
        short_term.push((m.loudness_shortterm().unwrap() as f32).max(-120.0));
    }
    Loudness {
        integrated: m.loudness_global().unwrap(),
        momentary,
        short_term,
        range: m.loudness_range().unwrap_or(0.0),
    }
}

/// Per-breath loudness swing, LU: the momentary series (10 per second) is cut into
/// breath cycles of `period_s` starting at `skip_s` (a whole number of periods from the
/// start keeps the cycles on the breath clock, which starts at 0); for each complete
/// cycle the maximum minus the minimum; the median over cycles.
pub fn breath_swing(momentary: &[f32], period_s: f32, skip_s: f32) -> f32 {
    let per = period_s * LOUDNESS_RATE_HZ;
    let mut swings = Vec::new();
    let mut c = 0;
    loop {
        let a = (skip_s * LOUDNESS_RATE_HZ + c as f32 * per).round() as usize;
        let b = (skip_s * LOUDNESS_RATE_HZ + (c + 1) as f32 * per).round() as usize;
        if b > momentary.len() || a >= b {
            break;
        }
        let w = &momentary[a..b];
        let hi = w.iter().cloned().fold(f32::MIN, f32::max);
        let lo = w.iter().cloned().fold(f32::MAX, f32::min);
        swings.push(hi - lo);
        c += 1;
    }
    median(&swings)
}

/// Breath-locked loudness swing, LU: the momentary series (10 per second) from `skip_s`
/// on, averaged by phase of the breath cycle (`period_s`, on the breath clock that starts
/// at 0) in 20 bins, as a power mean; the maximum minus the minimum of that average. What
/// the breath adds to the loudness, with the notes and chords that do not follow it
/// averaged away (a per-cycle maximum minus minimum counts those too).
pub fn breath_locked_swing(momentary: &[f32], period_s: f32, skip_s: f32) -> f32 {
    const BINS: usize = 20;
    let mut sum = [0.0f64; BINS];
    let mut count = [0usize; BINS];
    let start = (skip_s * LOUDNESS_RATE_HZ).round() as usize;
    for (i, &l) in momentary.iter().enumerate().skip(start) {
        if !l.is_finite() || l < -70.0 {
            continue;
        }
        let t = i as f32 / LOUDNESS_RATE_HZ;
        let phase = (t / period_s).fract();
        let b = ((phase * BINS as f32) as usize).min(BINS - 1);
        sum[b] += 10f64.powf(l as f64 / 10.0);
        count[b] += 1;
    }
    let avg: Vec<f64> = sum
        .iter()
        .zip(&count)
        .filter(|(_, &c)| c > 0)
        .map(|(s, &c)| 10.0 * (s / c as f64).log10())
        .collect();
    if avg.len() < BINS {
        return 0.0;
    }
    let hi = avg.iter().cloned().fold(f64::MIN, f64::max);
    let lo = avg.iter().cloned().fold(f64::MAX, f64::min);
    (hi - lo) as f32
}

/// The share of loudness fluctuation at the breath rate: the periodogram of the
/// momentary series (LUFS, from `skip_s` on, mean removed, Hann-windowed, zero-padded
/// to a power of two) summed in bands of ±10 % around 1, 2 and 3 times the breath frequency, divided
/// by the total power above DC.
pub fn breath_fluctuation_share(momentary: &[f32], period_s: f32, skip_s: f32) -> f32 {
    let x = &momentary[((skip_s * LOUDNESS_RATE_HZ) as usize).min(momentary.len())..];
    if x.len() < 8 {
        return 0.0;
    }
    let mean = x.iter().sum::<f32>() / x.len() as f32;
    let n = (2 * x.len()).next_power_of_two();
    let mut planner = RealFftPlanner::<f32>::new();
    let fft = planner.plan_fft_forward(n);
    let mut input = fft.make_input_vec();
    let w = hann(x.len());
    for ((d, s), w) in input.iter_mut().zip(x).zip(&w) {
        *d = (s - mean) * w;
    }
    let mut out = fft.make_output_vec();
    fft.process(&mut input, &mut out).unwrap();
    let df = LOUDNESS_RATE_HZ / n as f32;
    let fb = 1.0 / period_s;
    let (mut band, mut total) = (0.0f64, 0.0f64);
    for (k, c) in out.iter().enumerate().skip(1) {
        let f = k as f32 * df;
        let p = c.norm_sqr() as f64;
        total += p;
        if (1..=3).any(|h| (f - h as f32 * fb).abs() <= 0.1 * fb) {
            band += p;
        }
    }
    if total <= 0.0 {
        0.0
    } else {
        (band / total) as f32
    }
}

// ---------------------------------------------------------------------------------------
// Balance
// ---------------------------------------------------------------------------------------

/// Side level relative to mid below `cutoff_hz`, dB: mid = (L+R)/2, side = (L−R)/2, their
/// average power spectra (Hann, 16384 samples) summed from 20 Hz to the cutoff.
/// Identical channels give −∞ (reported as −120).
pub fn low_side_db(stereo: &[f32], cutoff_hz: f32) -> f32 {
    let mid: Vec<f32> = stereo
        .chunks_exact(2)
        .map(|f| 0.5 * (f[0] + f[1]))
        .collect();
    let side: Vec<f32> = stereo
        .chunks_exact(2)
        .map(|f| 0.5 * (f[0] - f[1]))
        .collect();
    let n = 16384;
    let bin_hz = SR / n as f32;
    let (a, b) = ((20.0 / bin_hz) as usize, (cutoff_hz / bin_hz) as usize);
    let pm: f64 = power_spectrum(&mid, n)[a..=b].iter().sum();
    let ps: f64 = power_spectrum(&side, n)[a..=b].iter().sum();
    if pm <= 0.0 {
        return 0.0;
    }
    ((10.0 * (ps / pm).log10()) as f32).max(-120.0)
}

/// Octave band centres of the balance analysis, Hz.
pub const OCTAVE_BANDS: [f32; 8] = [63.0, 125.0, 250.0, 500.0, 1000.0, 2000.0, 4000.0, 8000.0];

/// Spectral balance of a mono signal.
#[derive(Clone, Debug, PartialEq)]
pub struct Balance {
    /// Mean power spectral density per octave band of [`OCTAVE_BANDS`], dB (arbitrary
    /// reference).
    pub band_db: Vec<f32>,
    /// Least-squares slope of `band_db` against octaves, dB/octave (pink noise: −3).
    pub slope_db_per_oct: f32,
    /// Each band's deviation from the −3 dB/octave line through the bands' mean, dB.
    pub pink_deviation_db: Vec<f32>,
    /// Mean density of 200–500 Hz relative to that pink line at its centre (316 Hz), dB.
    pub low_mid_excess_db: f32,
}

/// Spectral balance: the average power spectrum (Hann, 8192 samples, half-overlapped),
/// its mean density per octave band (edges at the centre ÷ and × √2), the slope of those
/// levels in dB/octave, and the deviations from a pink (−3 dB/octave) line.
pub fn spectral_balance(x: &[f32]) -> Balance {
    let n = 8192;
    let spec = power_spectrum(x, n);
    let bin_hz = SR / n as f32;
    let density = |lo: f32, hi: f32| -> f32 {
        let a = (lo / bin_hz).ceil() as usize;
        let b = ((hi / bin_hz).floor() as usize).min(spec.len() - 1);
        let s: f64 = spec[a..=b].iter().sum::<f64>() / (b + 1 - a) as f64;
        (10.0 * s.max(1e-30).log10()) as f32
    };
    let band_db: Vec<f32> = OCTAVE_BANDS
        .iter()
        .map(|&fc| density(fc / 2f32.sqrt(), fc * 2f32.sqrt()))
        .collect();
    let oct: Vec<f32> = OCTAVE_BANDS.iter().map(|f| (f / 1000.0).log2()).collect();
    let n_b = band_db.len() as f32;
    let mx = oct.iter().sum::<f32>() / n_b;
    let my = band_db.iter().sum::<f32>() / n_b;
    let sxy: f32 = oct
        .iter()
        .zip(&band_db)
        .map(|(x, y)| (x - mx) * (y - my))
        .sum();
    let sxx: f32 = oct.iter().map(|x| (x - mx) * (x - mx)).sum();
    let slope = sxy / sxx;
    // pink line: y = c − 3·oct, with c so that the deviations average zero
    let c = my + 3.0 * mx;
    let pink_deviation_db: Vec<f32> = oct
        .iter()
        .zip(&band_db)
        .map(|(o, y)| y - (c - 3.0 * o))
        .collect();
    let low_mid = density(200.0, 500.0);
    let low_mid_excess_db = low_mid - (c - 3.0 * (316.0f32 / 1000.0).log2());
    Balance {
        band_db,
        slope_db_per_oct: slope,
        pink_deviation_db,
        low_mid_excess_db,
    }
}

/// Spectral centroid in Hz per frame of `frame_s` seconds (mean magnitude spectrum of
/// Hann frames of 4096 samples within it, half-overlapped).
pub fn centroid_series(x: &[f32], frame_s: f32) -> Vec<f32> {
    let per = (frame_s * SR) as usize;
    x.chunks_exact(per).map(super::spectral_centroid).collect()
}

// ---------------------------------------------------------------------------------------
// Similarity
// ---------------------------------------------------------------------------------------

/// Third-octave band edges for the spectral half of the features: 22 bands from 63 Hz to
/// 8 kHz.
fn third_octave_powers(spec: &[f64], bin_hz: f32) -> Vec<f32> {
    (0..22)
        .map(|i| {
            let fc = 63.0 * 2f32.powf(i as f32 / 3.0);
            let a = ((fc * 2f32.powf(-1.0 / 6.0)) / bin_hz).ceil() as usize;
            let b = ((fc * 2f32.powf(1.0 / 6.0)) / bin_hz).floor() as usize;
            let b = b.max(a).min(spec.len() - 1);
            spec[a..=b].iter().sum::<f64>() as f32
        })
        .collect()
}

fn unit(v: &mut [f32]) {
    let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if n > 0.0 {
        v.iter_mut().for_each(|x| *x /= n);
    }
}

/// Feature vector of a stretch of audio, for similarity: its chroma (12 values, see
/// [`chroma`]) and the square roots of its third-octave band powers from 63 Hz to 8 kHz
/// (22 values), each half scaled to unit length and both by 1/√2. The cosine of two
/// such vectors is the mean of their harmonic and their spectral cosines.
pub fn features(x: &[f32]) -> Vec<f32> {
    let mut c = chroma(x, x.len() as f32 / SR)
        .first()
        .copied()
        .unwrap_or([0.0; 12])
        .to_vec();
    let n = 8192;
    let spec = power_spectrum(x, n);
    let mut s: Vec<f32> = third_octave_powers(&spec, SR / n as f32)
        .iter()
        .map(|p| p.sqrt())
        .collect();
    unit(&mut c);
    unit(&mut s);
    c.iter()
        .chain(&s)
        .map(|v| v * std::f32::consts::FRAC_1_SQRT_2)
        .collect()
}

/// [`features`] per window of `window_s` seconds.
pub fn window_features(x: &[f32], window_s: f32) -> Vec<Vec<f32>> {
    x.chunks_exact((window_s * SR) as usize)
        .map(features)
        .collect()
}

/// The self-similarity matrix (cosines) of a list of feature vectors.
pub fn self_similarity(f: &[Vec<f32>]) -> Vec<Vec<f32>> {
    f.iter()
        .map(|a| f.iter().map(|b| cosine(a, b)).collect())
        .collect()
}

/// The stretch `[a_s, a_s + len_s)` of a mono signal (clamped to its length).
pub fn stretch(x: &[f32], a_s: f32, len_s: f32) -> &[f32] {
    let a = ((a_s * SR) as usize).min(x.len());
    let b = (((a_s + len_s) * SR) as usize).min(x.len());
    &x[a..b]
}

/// Similarity of minute `a` of `x` and minute `b` of `y` (0-based minutes; pass the same
/// signal twice for "minute a vs minute b" of one render): the cosine of their
/// [`features`].
pub fn minute_similarity(x: &[f32], a: usize, y: &[f32], b: usize) -> f32 {
    cosine(
        &features(stretch(x, 60.0 * a as f32, 60.0)),
        &features(stretch(y, 60.0 * b as f32, 60.0)),
    )
}

/// Similarity of two renders: the mean cosine of their time-aligned [`features`] windows
/// of `window_s` seconds.
pub fn render_similarity(x: &[f32], y: &[f32], window_s: f32) -> f32 {
    let a = window_features(x, window_s);
    let b = window_features(y, window_s);
    let n = a.len().min(b.len());
    if n == 0 {
        return 0.0;
    }
    a.iter().zip(&b).map(|(p, q)| cosine(p, q)).sum::<f32>() / n as f32
}

// ---------------------------------------------------------------------------------------
// Stems
// ---------------------------------------------------------------------------------------

/// Renders the layers `layers` of `config` alone, as they sound in the full mix:
/// interleaved stereo, `seconds` long, seed `seed`, playing `content`.
///
/// Every layer renders every block whatever its gain (so the random streams and voice
/// allocation do not change), and the mix is linear up to the limiter. The other layers'
/// gains are set to 0 — rather than disabling them, because whether the breath guide is
/// enabled also decides the pad's breathing swell — and the makeup gain is the full
/// mix's, so a stem is at the level it has in the mix. The stems of all layers add up to
/// the full render while the limiter is idle and the slow leveler is off
/// (`master.level_range_db = 0`); with it on, each stem is levelled on its own.
pub fn render_stem(
    config: &SoundscapeConfig,
    content: &Content,
    layers: &[Layer],
    seconds: f32,
    seed: u64,
) -> Vec<f32> {
    let makeup = Soundscape::with_content(config, content, SR, seed).makeup();
    let mut c = config.clone();
    for l in Layer::ALL {
        if layers.contains(&l) {
            continue;
        }
        match l {
            Layer::Pad => c.pad.gain = 0.0,
            Layer::Pulse => c.pulse.gain = 0.0,
            // the pulse rests for the melody's phrases only while the melody is heard
            // (gain above 0): a melody turned down to -240 dB keeps the pulse as it is in
            // the full mix and adds nothing measurable
            Layer::Melody => c.melody.gain = 1e-12,
            Layer::Noise => c.noise.gain = 0.0,
            Layer::Breath => c.breath.gain = 0.0,
            Layer::Loops => c.loops.gain = 0.0,
        }
    }
    let mut s = Soundscape::with_content_and_makeup(&c, content, SR, seed, makeup);
    super::render_scape(&mut s, seconds, &mut |_, _| {})
}

// ---------------------------------------------------------------------------------------
// Images
// ---------------------------------------------------------------------------------------

/// A colour map from black through purple, red and orange to pale yellow (like
/// "inferno"), for `v` in 0..1, in 64 steps.
fn colour(v: f32) -> [u8; 3] {
    const STOPS: [[f32; 3]; 6] = [
        [0.0, 0.0, 4.0],
        [40.0, 11.0, 84.0],
        [120.0, 28.0, 109.0],
        [212.0, 72.0, 66.0],
        [251.0, 155.0, 6.0],
        [252.0, 255.0, 164.0],
    ];
    // 64 levels: plenty to read, and the PNG compresses
    let v = (v.clamp(0.0, 1.0) * 63.0).round() / 63.0 * (STOPS.len() - 1) as f32;
    let i = (v.floor() as usize).min(STOPS.len() - 2);
    let f = v - i as f32;
    let mut out = [0u8; 3];
    for c in 0..3 {
        out[c] = (STOPS[i][c] + f * (STOPS[i + 1][c] - STOPS[i][c])).round() as u8;
    }
    out
}

/// 3×5 glyphs for the axis labels (`#` is 5 wide), one row per value, high bit left.
fn glyph(ch: char) -> [u8; 5] {
    match ch {
        '0' => [7, 5, 5, 5, 7],
        '1' => [2, 6, 2, 2, 7],
        '2' => [7, 1, 7, 4, 7],
        '3' => [7, 1, 7, 1, 7],
        '4' => [5, 5, 7, 1, 1],
        '5' => [7, 4, 7, 1, 7],
        '6' => [7, 4, 7, 5, 7],
        '7' => [7, 1, 1, 2, 2],
        '8' => [7, 5, 7, 5, 7],
        '9' => [7, 5, 7, 1, 7],
        'k' => [4, 5, 6, 5, 5],
        'm' => [0, 6, 7, 5, 5],
        'H' => [5, 5, 7, 5, 5],
        'z' => [0, 7, 1, 2, 7],
        'A' => [2, 5, 7, 5, 5],
        'B' => [6, 5, 6, 5, 6],
        'C' => [3, 4, 4, 4, 3],
        'D' => [6, 5, 5, 5, 6],
        'E' => [7, 4, 6, 4, 7],
        'F' => [7, 4, 6, 4, 4],
        'G' => [3, 4, 5, 5, 3],
        // five columns wide
        '#' => [10, 31, 10, 31, 10],
        _ => [0; 5],
    }
}

/// An RGB image being drawn.
struct Canvas {
    w: usize,
    h: usize,
    px: Vec<u8>,
}

impl Canvas {
    fn new(w: usize, h: usize) -> Self {
        Self {
            w,
            h,
            px: vec![24; 3 * w * h],
        }
    }
    fn set(&mut self, x: usize, y: usize, c: [u8; 3]) {
        if x < self.w && y < self.h {
            let i = 3 * (y * self.w + x);
            self.px[i..i + 3].copy_from_slice(&c);
        }
    }
    /// Text at (x, y), top-left, glyphs scaled ×2.
    fn text(&mut self, x: usize, y: usize, s: &str) {
        for (n, ch) in s.chars().enumerate() {
            let g = glyph(ch);
            let width = if ch == '#' { 5 } else { 3 };
            for (r, bits) in g.iter().enumerate() {
                for col in 0..width {
                    if bits & ((1 << (width - 1)) >> col) != 0 {
                        for dy in 0..2 {
                            for dx in 0..2 {
                                self.set(x + n * 8 + 2 * col + dx, y + 2 * r + dy, [230; 3]);
                            }
                        }
                    }
                }
            }
        }
    }
    fn save(&self, path: &Path) {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).unwrap();
        }
        let file = std::fs::File::create(path).unwrap();
        let mut enc =
            png::Encoder::new(std::io::BufWriter::new(file), self.w as u32, self.h as u32);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        enc.set_compression(png::Compression::Best);
        let mut wr = enc.write_header().unwrap();
        wr.write_image_data(&self.px).unwrap();
    }
}

const LEFT: usize = 34;
const BOTTOM: usize = 14;

/// Minute ticks and labels under a plot area `[LEFT, w) × [0, h − BOTTOM)` for a signal of
/// `seconds`.
fn time_axis(c: &mut Canvas, seconds: f32) {
    let pw = c.w - LEFT;
    let y0 = c.h - BOTTOM;
    let minutes = (seconds / 60.0).floor() as usize;
    for m in 0..=minutes {
        let x = LEFT + ((m as f32 * 60.0 / seconds) * pw as f32) as usize;
        for y in y0..y0 + 3 {
            c.set(x.min(c.w - 1), y, [230; 3]);
        }
        if m > 0 && m < minutes || minutes <= 1 {
            let label = format!("{m}");
            c.text(x.saturating_sub(3), y0 + 3, &label);
        }
    }
    c.text(c.w - 10, y0 + 3, "m");
}

/// Writes a spectrogram of a mono signal as a `w`×`h` PNG: time across (minute ticks
/// below), frequency up on a log axis from 40 Hz to 16 kHz (ticks at 100 Hz, 1 kHz and
/// 10 kHz), power per pixel column averaged over Hann frames of 8192 samples, shown over
/// the top 70 dB.
pub fn write_spectrogram_png(path: &Path, x: &[f32], w: usize, h: usize) {
    let n = 8192;
    let pw = w - LEFT;
    let ph = h - BOTTOM;
    let per_col = x.len() / pw;
    let bin_hz = SR / n as f32;
    let (f_lo, f_hi) = (40.0f32, 16_000.0f32);
    let row_hz = |r: f32| f_lo * (f_hi / f_lo).powf(r / ph as f32);
    let mut cols: Vec<Vec<f32>> = Vec::with_capacity(pw);
    for c in 0..pw {
        let seg = &x[c * per_col..((c + 1) * per_col).max(c * per_col + n).min(x.len())];
        let spec = if seg.len() >= n {
            power_spectrum(seg, n)
        } else {
            vec![0.0; n / 2 + 1]
        };
        let col: Vec<f32> = (0..ph)
            .map(|r| {
                let (a, b) = (row_hz(r as f32), row_hz(r as f32 + 1.0));
                let ka = (a / bin_hz).round() as usize;
                let kb = ((b / bin_hz).round() as usize).max(ka);
                let p =
                    spec[ka..=kb.min(spec.len() - 1)].iter().sum::<f64>() / (kb + 1 - ka) as f64;
                (10.0 * p.max(1e-30).log10()) as f32
            })
            .collect();
        cols.push(col);
    }
    let top = cols.iter().flatten().cloned().fold(f32::MIN, f32::max);
    let mut canvas = Canvas::new(w, h);
    for (c, col) in cols.iter().enumerate() {
        for (r, v) in col.iter().enumerate() {
            canvas.set(LEFT + c, ph - 1 - r, colour((v - (top - 70.0)) / 70.0));
        }
    }
    for (f, label) in [(100.0f32, "100"), (1000.0, "1k"), (10_000.0, "10k")] {
        let r = (ph as f32 * (f / f_lo).ln() / (f_hi / f_lo).ln()) as usize;
        let y = ph - 1 - r;
        for x in LEFT - 4..LEFT {
            canvas.set(x, y, [230; 3]);
        }
        canvas.text(2, y.saturating_sub(4), label);
    }
    time_axis(&mut canvas, x.len() as f32 / SR);
    canvas.save(path);
}

/// Writes a chromagram of a mono signal as a `w`×`h` PNG: time across (minute ticks
/// below), the twelve pitch classes up from C (labelled), each column's chroma
/// ([`chroma`] over the column's stretch, summed with the two columns either side)
/// scaled so its largest class is 1.
pub fn write_chromagram_png(path: &Path, x: &[f32], w: usize, h: usize) {
    let pw = w - LEFT;
    let ph = h - BOTTOM;
    let col_s = x.len() as f32 / SR / pw as f32;
    let ch = chroma(x, col_s.max(CHROMA_FFT as f32 / SR));
    let mut canvas = Canvas::new(w, h);
    let row_h = ph as f32 / 12.0;
    for c in 0..pw {
        let t = c as f32 * col_s;
        let i = ((t / col_s.max(CHROMA_FFT as f32 / SR)) as usize).min(ch.len().saturating_sub(1));
        // smoothed over ±2 columns
        let mut v = [0.0f32; 12];
        for w in &ch[i.saturating_sub(2)..(i + 3).min(ch.len())] {
            v.iter_mut().zip(w).for_each(|(a, b)| *a += b);
        }
        let max = v.iter().cloned().fold(0.0f32, f32::max);
        for y in 0..ph {
            let pc = 11 - ((y as f32 / row_h) as usize).min(11);
            let val = if max > 0.0 { v[pc] / max } else { 0.0 };
            canvas.set(LEFT + c, y, colour(val));
        }
    }
    for (pc, name) in PITCH_NAMES.iter().enumerate() {
        let y = ph as f32 - (pc as f32 + 0.5) * row_h;
        canvas.text(4, (y as usize).saturating_sub(5), name);
    }
    time_axis(&mut canvas, x.len() as f32 / SR);
    canvas.save(path);
}
