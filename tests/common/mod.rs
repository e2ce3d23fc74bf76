//! Measurements of rendered audio, shared by the integration tests.
#![allow(dead_code)]

use isochord::{Param, Soundscape, SoundscapeConfig};

pub mod music;
use realfft::RealFftPlanner;

pub const SR: f32 = 48_000.0;

/// Renders `seconds` of `config` (calibrated, seed `seed`), calling `steer` every 100 ms
/// with the time in seconds. Returns interleaved stereo.
pub fn render_with(
    config: &SoundscapeConfig,
    seconds: f32,
    seed: u64,
    mut steer: impl FnMut(f32, &mut Soundscape),
) -> Vec<f32> {
    let mut s = Soundscape::new(config, SR, seed);
    render_scape(&mut s, seconds, &mut steer)
}

/// Renders from an existing soundscape.
pub fn render_scape(
    s: &mut Soundscape,
    seconds: f32,
    steer: &mut impl FnMut(f32, &mut Soundscape),
) -> Vec<f32> {
    let frames = (seconds * SR) as usize;
    let tick = (SR / 10.0) as usize;
    let mut out = vec![0.0f32; 2 * frames];
    for (i, chunk) in out.chunks_mut(2 * tick).enumerate() {
        steer(i as f32 * 0.1, s);
        s.render(chunk);
    }
    out
}

/// Renders with constant parameters.
pub fn render(config: &SoundscapeConfig, seconds: f32, seed: u64) -> Vec<f32> {
    render_with(config, seconds, seed, |_, _| {})
}

/// Left + right, halved.
pub fn mono(x: &[f32]) -> Vec<f32> {
    x.chunks_exact(2).map(|f| 0.5 * (f[0] + f[1])).collect()
}

/// Drops the first `seconds` of a mono signal.
pub fn skip(x: &[f32], seconds: f32) -> &[f32] {
    &x[((seconds * SR) as usize).min(x.len())..]
}

/// Average magnitude spectrum over Hann-windowed frames of `n` samples, half-overlapped.
pub fn avg_spectrum(x: &[f32], n: usize) -> Vec<f32> {
    let mut planner = RealFftPlanner::<f32>::new();
    let fft = planner.plan_fft_forward(n);
    let window: Vec<f32> = (0..n)
        .map(|i| 0.5 - 0.5 * (std::f32::consts::TAU * i as f32 / n as f32).cos())
        .collect();
    let mut acc = vec![0.0f32; n / 2 + 1];
    let mut input = fft.make_input_vec();
    let mut output = fft.make_output_vec();
    let mut frames = 0;
    let mut start = 0;
    while start + n <= x.len() {
        for i in 0..n {
            input[i] = x[start + i] * window[i];
        }
        fft.process(&mut input, &mut output).unwrap();
        for (a, c) in acc.iter_mut().zip(&output) {
            *a += c.norm();
        }
        frames += 1;
        start += n / 2;
    }
    acc.iter_mut().for_each(|a| *a /= frames.max(1) as f32);
    acc
}

/// Spectral centroid in Hz of a mono signal.
pub fn spectral_centroid(x: &[f32]) -> f32 {
    let n = 4096;
    let spec = avg_spectrum(x, n);
    let bin_hz = SR / n as f32;
    let (mut num, mut den) = (0.0f64, 0.0f64);
    for (i, m) in spec.iter().enumerate() {
        num += (i as f32 * bin_hz * m) as f64;
        den += *m as f64;
    }
    (num / den) as f32
}

/// Onsets per minute, from the loudness envelope: the signal is differentiated (which
/// tilts it +6 dB/octave, so attacks stand out over sustained low sounds), its energy
/// taken in 20 ms frames every 5 ms, and an onset counted where the energy rises more
/// than 5 dB above its minimum over the previous 60 ms, at most one per 150 ms.
pub fn onset_rate(x: &[f32]) -> f32 {
    let frame = (0.02 * SR) as usize;
    let hop = (0.005 * SR) as usize;
    let d: Vec<f32> = x.windows(2).map(|w| w[1] - w[0]).collect();
    let mut energy_db = Vec::new();
    let mut start = 0;
    while start + frame <= d.len() {
        let e = d[start..start + frame].iter().map(|v| v * v).sum::<f32>() / frame as f32;
        energy_db.push(10.0 * (e + 1e-12).log10());
        start += hop;
    }
    let back = (0.06 / 0.005) as usize;
    let gap = (0.15 / 0.005) as usize;
    let mut onsets = 0;
    let mut last: Option<usize> = None;
    let mut above = false;
    for i in back..energy_db.len() {
        let floor = energy_db[i - back..i]
            .iter()
            .cloned()
            .fold(f32::INFINITY, f32::min);
        let rising = energy_db[i] - floor > 5.0;
        if rising && !above && last.is_none_or(|l| i - l >= gap) {
            onsets += 1;
            last = Some(i);
        }
        above = rising;
    }
    onsets as f32 / (x.len() as f32 / SR / 60.0)
}

/// Distinct tonal peaks between `lo` and `hi` Hz: local maxima of a long-window spectrum
/// within 30 dB of the strongest, merged when closer than 30 cents.
pub fn tonal_peaks(x: &[f32], lo: f32, hi: f32) -> Vec<f32> {
    let n = 1 << 16;
    let spec = avg_spectrum(x, n);
    let bin_hz = SR / n as f32;
    let a = (lo / bin_hz) as usize;
    let b = (hi / bin_hz) as usize;
    let max = spec[a..b].iter().cloned().fold(0.0, f32::max);
    let floor = max * 10f32.powf(-30.0 / 20.0);
    let mut peaks: Vec<f32> = Vec::new();
    for i in a.max(2)..b {
        let m = spec[i];
        if m > floor && m >= spec[i - 1] && m > spec[i + 1] && m >= spec[i - 2] && m > spec[i + 2] {
            let f = i as f32 * bin_hz;
            match peaks.last() {
                Some(&p) if 1200.0 * (f / p).log2() < 30.0 => {}
                _ => peaks.push(f),
            }
        }
    }
    peaks
}

/// RMS envelope in frames of `frame_s` seconds.
pub fn envelope(x: &[f32], frame_s: f32) -> Vec<f32> {
    let n = (frame_s * SR) as usize;
    x.chunks_exact(n)
        .map(|c| (c.iter().map(|v| v * v).sum::<f32>() / n as f32).sqrt())
        .collect()
}

/// The period in seconds of the strongest repetition of the loudness envelope between
/// `min_s` and `max_s`: the autocorrelation of the 50 ms RMS envelope kept to that band,
/// its drift slower than `max_s` (a chord change, a section) taken out by a centred moving
/// average over `max_s`, and its beat-level detail faster than `min_s` / 2.5 (note
/// attacks) smoothed by one over that span, so neither passes for a breathing period;
/// the first autocorrelation peak within 80 % of the strongest is taken.
pub fn envelope_period(x: &[f32], min_s: f32, max_s: f32) -> f32 {
    let frame = 0.05;
    let env = envelope(x, frame);
    let average = |v: &[f32], half: usize| -> Vec<f32> {
        (0..v.len())
            .map(|i| {
                let (a, b) = (i.saturating_sub(half), (i + half + 1).min(v.len()));
                v[a..b].iter().sum::<f32>() / (b - a) as f32
            })
            .collect()
    };
    let smooth = average(&env, ((min_s / 2.5 / frame) as usize / 2).max(1));
    let drift = average(&env, ((max_s / frame) as usize / 2).max(1));
    let e: Vec<f32> = smooth.iter().zip(&drift).map(|(s, d)| s - d).collect();
    let lo = (min_s / frame) as usize;
    let hi = ((max_s / frame) as usize).min(e.len() / 2);
    let r: Vec<f32> = (lo.saturating_sub(1)..=hi + 1)
        .map(|lag| {
            e[..e.len() - lag]
                .iter()
                .zip(&e[lag..])
                .map(|(a, b)| a * b)
                .sum::<f32>()
                / e.len() as f32
        })
        .collect();
    // the first peak at least half as strong as the strongest: a periodic envelope
    // correlates as well at twice its period, and better when alternate cycles differ
    // in strength (music moving under a swell), and that is not its period
    let strongest = r[1..r.len() - 1].iter().cloned().fold(f32::MIN, f32::max);
    for i in 1..r.len() - 1 {
        if r[i] >= r[i - 1] && r[i] >= r[i + 1] && r[i] >= 0.5 * strongest {
            return (lo + i - 1) as f32 * frame;
        }
    }
    lo as f32 * frame
}

/// Largest sample-to-sample step in either channel of interleaved stereo.
pub fn max_step(x: &[f32]) -> f32 {
    let mut worst = 0.0f32;
    for ch in 0..2 {
        let mut prev = x[ch];
        for f in x.chunks_exact(2).skip(1) {
            worst = worst.max((f[ch] - prev).abs());
            prev = f[ch];
        }
    }
    worst
}

/// Largest absolute sample.
pub fn peak(x: &[f32]) -> f32 {
    x.iter().fold(0.0f32, |m, v| m.max(v.abs()))
}

/// RMS in dBFS.
pub fn rms_db(x: &[f32]) -> f32 {
    let ms = x.iter().map(|v| (v * v) as f64).sum::<f64>() / x.len() as f64;
    10.0 * ms.log10() as f32
}

/// A copy of `config` whose starting value of `param` is `value`.
pub fn with_start(config: &SoundscapeConfig, param: Param, value: f32) -> SoundscapeConfig {
    let mut c = config.clone();
    match param {
        Param::Tempo => c.start.tempo = value,
        Param::Brightness => c.start.brightness = value,
        Param::Density => c.start.density = value,
        Param::BreathRate => c.start.breath_rate = value,
        Param::Energy => c.start.energy = value,
        Param::Reverb => c.start.reverb = value,
        _ => panic!("not a start value: {param}"),
    }
    c
}

/// The built-in preset's sound.
pub fn preset(name: &str) -> SoundscapeConfig {
    let mut sound = isochord::Preset::find(name).unwrap().sound;
    // in the preset's own key for every seed, so a test can name the notes it expects
    sound.harmony.seed_transpose.clear();
    sound
}

/// The strongest frequency between `lo` and `hi` Hz in a mono signal: a Blackman window,
/// zero-padded 16×, the peak bin refined by a parabola through the log magnitudes.
pub fn peak_frequency(x: &[f32], lo: f32, hi: f32) -> f32 {
    let n = x.len();
    let nfft = (16 * n).next_power_of_two();
    let mut planner = RealFftPlanner::<f32>::new();
    let fft = planner.plan_fft_forward(nfft);
    let mut input = fft.make_input_vec();
    for (i, (d, s)) in input.iter_mut().zip(x).enumerate() {
        let t = std::f32::consts::TAU * i as f32 / n as f32;
        *d = s * (0.42 - 0.5 * t.cos() + 0.08 * (2.0 * t).cos());
    }
    let mut spec = fft.make_output_vec();
    fft.process(&mut input, &mut spec).unwrap();
    let bin_hz = SR / nfft as f32;
    let mag: Vec<f32> = spec.iter().map(|c| c.norm().max(1e-20).ln()).collect();
    let a = (lo / bin_hz) as usize;
    let b = ((hi / bin_hz) as usize).min(mag.len() - 2);
    let k = (a..=b).max_by(|i, j| mag[*i].total_cmp(&mag[*j])).unwrap();
    let (l, c, r) = (mag[k - 1], mag[k], mag[k + 1]);
    let d = 0.5 * (l - r) / (l - 2.0 * c + r);
    (k as f32 + d) * bin_hz
}

/// The bundled content a config asks for, loaded at the tests' rate.
pub fn content_for(config: &SoundscapeConfig) -> isochord::Content {
    let loaded = isochord::ContentLibrary::bundled().load_for(config, SR as u32);
    assert!(loaded.notices.is_empty(), "{:?}", loaded.notices);
    loaded.content
}

/// Renders `seconds` of `config` playing `content` (calibrated, seed `seed`).
pub fn render_content(
    config: &SoundscapeConfig,
    content: &isochord::Content,
    seconds: f32,
    seed: u64,
) -> Vec<f32> {
    let mut s = Soundscape::with_content(config, content, SR, seed);
    render_scape(&mut s, seconds, &mut |_, _| {})
}

/// Only the given layers sound (the others disabled in the config).
pub fn only_layers(config: &SoundscapeConfig, layers: &[isochord::Layer]) -> SoundscapeConfig {
    use isochord::Layer;
    let mut c = config.clone();
    for l in Layer::ALL {
        let on = layers.contains(&l);
        match l {
            Layer::Pad => c.pad.enabled = on,
            Layer::Pulse => c.pulse.enabled = on,
            Layer::Melody => c.melody.enabled = on,
            Layer::Noise => c.noise.enabled = on,
            Layer::Breath => c.breath.enabled = on,
            Layer::Loops => c.loops.enabled = on,
        }
    }
    c
}
