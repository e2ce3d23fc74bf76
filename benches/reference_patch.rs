//! The reference soundscape ("therapeutic soundscape v1"), built from `isochord-dsp`'s
//! primitives and rendered offline at 48 kHz stereo in 64-frame blocks.
//!
//! The patch:
//! - pad: eight oscillators in one `OscBank<8>` (four polyBLEP saws, four trivially sampled
//!   triangles), amplitude 0.08 each, hard-panned;
//! - per channel a linear zero-delay-feedback Moog ladder (`Ladder`: four trapezoidal
//!   one-poles with the feedback loop solved exactly), cutoff 900 + 400·sin(2π·0.05·t) Hz
//!   updated once per block, feedback k = 1.2;
//! - pulse: one sine note per second cycling 440, 329.63, 392, 293.66 Hz, amplitude 0.15 in
//!   both channels, 5 ms linear attack then an exponential fall that reaches exactly 0 after
//!   0.945 s (a decaying exponential minus its final value, rescaled);
//! - noise bed: two independent pink noises (Kellet's three-pole filter on white noise)
//!   × 0.05·(0.6 + 0.4·sin(2π·0.02·t));
//! - reverb: the eight-line feedback delay network `Reverb` (Hadamard matrix, one-pole
//!   damping per line; size 1, RT60 3.5 s, damping 5 kHz), everything in,
//!   out = 0.7·dry + 0.3·wet.
//!
//! It prints the median real-time factor of three runs (thread CPU time), the per-block
//! cost distribution, the render's levels, and an ablation: the patch with each part
//! removed, and with fundsp 0.23's `Moog` ladder (Stilson–Smith structure with a `tanh` in
//! the last stage) and its 32-line `reverb_stereo` put in place of ours.
//!
//! Environment:
//! - `ISOCHORD_BENCH_SECONDS=N` renders N seconds instead of 600 (smoke runs);
//! - `ISOCHORD_BENCH_WAV=path` writes the full patch's render as a 32-bit float WAV.

use std::hint::black_box;
use std::time::Instant;

use fundsp::prelude32::{reverb_stereo, AudioNode, AudioUnit, BufferArray, Moog, U1, U2};
use isochord_dsp::ladder::Ladder;
use isochord_dsp::noise::Pink;
use isochord_dsp::osc::{sin_turns, wrap, OscBank};
use isochord_dsp::reverb::Reverb;
use isochord_dsp::rng::Rng;

const SR: f32 = 48_000.0;
const BLOCK: usize = 64;
const RUNS: usize = 3;
const DEFAULT_SECONDS: u64 = 600;
const TARGET_RTF: f64 = 250.0;

/// Frames between pulse notes (60 BPM); notes start on block boundaries.
const BEAT: u64 = 48_000;
const _: () = assert!(BEAT % BLOCK as u64 == 0);

const PAD_AMP: f32 = 0.08;
/// (frequency, is a saw, goes left) for the eight pad oscillators.
const PAD: [(f32, bool, bool); 8] = [
    (109.556_13, true, true),
    (110.445_67, true, false),
    (164.334_7, true, false),
    (165.286_68, true, true),
    (219.619_1, false, true),
    (220.381_56, false, false),
    (276.540_3, false, false),
    (277.821_16, false, true),
];
const LADDER_K: f32 = 1.2;
/// fundsp's `Moog` takes a resonance in 0..1; 0.3 corresponds to k = 1.2.
const FUNDSP_Q: f32 = 0.3;
const PULSE_PITCHES: [f32; 4] = [440.0, 329.63, 392.0, 293.66];
const PULSE_AMP: f32 = 0.15;
const ATTACK_FRAMES: u32 = 240; // 5 ms
const DECAY_FRAMES: u32 = 45_360; // 0.945 s
/// The decaying exponential falls to this before the offset brings it to 0 (−60 dB).
const DECAY_FLOOR: f32 = 1e-3;
const REVERB_SIZE: f32 = 1.0;
const REVERB_RT60: f32 = 3.5;
const REVERB_DAMP_HZ: f32 = 5000.0;
const DRY: f32 = 0.7;
const WET: f32 = 0.3;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Filter {
    Ours,
    Fundsp,
    Off,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Room {
    Ours,
    Fundsp,
    Off,
}

#[derive(Clone, Copy)]
struct Variant {
    name: &'static str,
    pad: bool,
    pulse: bool,
    noise: bool,
    filter: Filter,
    room: Room,
}

const FULL: Variant = Variant {
    name: "full patch",
    pad: true,
    pulse: true,
    noise: true,
    filter: Filter::Ours,
    room: Room::Ours,
};

const ABLATIONS: [Variant; 8] = [
    Variant {
        name: "no ladder",
        filter: Filter::Off,
        ..FULL
    },
    Variant {
        name: "no reverb (dry only)",
        room: Room::Off,
        ..FULL
    },
    Variant {
        name: "no noise",
        noise: false,
        ..FULL
    },
    Variant {
        name: "no pulse",
        pulse: false,
        ..FULL
    },
    Variant {
        name: "no pad oscillators",
        pad: false,
        ..FULL
    },
    Variant {
        name: "fundsp Moog ladder",
        filter: Filter::Fundsp,
        ..FULL
    },
    Variant {
        name: "fundsp reverb_stereo",
        room: Room::Fundsp,
        ..FULL
    },
    Variant {
        name: "fundsp ladder + reverb",
        filter: Filter::Fundsp,
        room: Room::Fundsp,
        ..FULL
    },
];

/// The pulse: one sine note at a time.
struct Pulse {
    phase: f32,
    inc: f32,
    attack_left: u32,
    decay_left: u32,
    level: f32,
    expo: f32,
    decay_mul: f32,
    next: usize,
}

impl Pulse {
    fn new() -> Self {
        Self {
            phase: 0.0,
            inc: 0.0,
            attack_left: 0,
            decay_left: 0,
            level: 0.0,
            expo: 1.0,
            decay_mul: DECAY_FLOOR.powf(1.0 / DECAY_FRAMES as f32),
            next: 0,
        }
    }

    fn start(&mut self) {
        self.phase = 0.0;
        self.inc = PULSE_PITCHES[self.next] / SR;
        self.next = (self.next + 1) % PULSE_PITCHES.len();
        self.attack_left = ATTACK_FRAMES;
        self.decay_left = DECAY_FRAMES;
        self.level = 0.0;
        self.expo = 1.0;
    }

    fn render_add(&mut self, left: &mut [f32], right: &mut [f32]) {
        let attack_step = 1.0 / ATTACK_FRAMES as f32;
        let scale = PULSE_AMP / (1.0 - DECAY_FLOOR);
        for (l, r) in left.iter_mut().zip(right.iter_mut()) {
            let env = if self.attack_left > 0 {
                self.attack_left -= 1;
                self.level += attack_step;
                self.level * PULSE_AMP
            } else if self.decay_left > 0 {
                self.decay_left -= 1;
                self.expo *= self.decay_mul;
                (self.expo - DECAY_FLOOR).max(0.0) * scale
            } else {
                return;
            };
            let v = sin_turns(self.phase) * env;
            self.phase = wrap(self.phase + self.inc);
            *l += v;
            *r += v;
        }
    }
}

/// The patch, with each part switchable for the ablation.
struct Patch {
    v: Variant,
    frame: u64,
    pad: OscBank<8>,
    ladder: Ladder,
    moog: [Moog<f32, U1>; 2],
    pulse: Pulse,
    pink: [Pink; 2],
    reverb: Reverb,
    fundsp_reverb: Option<Box<dyn AudioUnit>>,
    fundsp_in: Box<BufferArray<U2>>,
    fundsp_out: Box<BufferArray<U2>>,
}

impl Patch {
    fn new(v: Variant) -> Self {
        let mut pad = OscBank::<8>::new(SR);
        for (k, &(hz, is_saw, left)) in PAD.iter().enumerate() {
            pad.set_freq(k, hz);
            if is_saw {
                pad.set_shape(k, 1.0, 0.0);
            } else {
                pad.set_shape(k, 0.0, 1.0);
            }
            let (gl, gr) = if left { (PAD_AMP, 0.0) } else { (0.0, PAD_AMP) };
            pad.jump_gains(k, gl, gr);
        }
        let mut moog = [Moog::new(900.0, FUNDSP_Q), Moog::new(900.0, FUNDSP_Q)];
        for m in moog.iter_mut() {
            m.set_sample_rate(SR as f64);
        }
        let fundsp_reverb = (v.room == Room::Fundsp).then(|| {
            let mut u: Box<dyn AudioUnit> = Box::new(reverb_stereo(10.0, REVERB_RT60, 0.5));
            u.set_sample_rate(SR as f64);
            u.allocate();
            u
        });
        Self {
            v,
            frame: 0,
            pad,
            ladder: Ladder::new(SR),
            moog,
            pulse: Pulse::new(),
            pink: [Pink::new(Rng::new(1, 0)), Pink::new(Rng::new(1, 1))],
            reverb: Reverb::new(SR, REVERB_SIZE, REVERB_RT60, REVERB_DAMP_HZ),
            fundsp_reverb,
            fundsp_in: Box::new(BufferArray::new()),
            fundsp_out: Box::new(BufferArray::new()),
        }
    }

    /// `sin(2π·hz·t)` at the start of the current block.
    fn lfo(&self, hz: f64) -> f32 {
        let turns = hz * self.frame as f64 / SR as f64;
        sin_turns(turns.fract() as f32)
    }

    fn render_block(&mut self, out_l: &mut [f32; BLOCK], out_r: &mut [f32; BLOCK]) {
        let mut l = [0.0f32; BLOCK];
        let mut r = [0.0f32; BLOCK];
        if self.v.pad {
            self.pad.render_add(&mut l, &mut r);
        }
        let cutoff = 900.0 + 400.0 * self.lfo(0.05);
        match self.v.filter {
            Filter::Ours => self.ladder.process(&mut l, &mut r, cutoff, LADDER_K),
            Filter::Fundsp => {
                for m in self.moog.iter_mut() {
                    m.set_cutoff_q(cutoff, FUNDSP_Q);
                }
                let [ml, mr] = &mut self.moog;
                for (a, b) in l.iter_mut().zip(r.iter_mut()) {
                    *a = ml.tick(&[*a].into())[0];
                    *b = mr.tick(&[*b].into())[0];
                }
            }
            Filter::Off => {}
        }
        if self.v.pulse {
            if self.frame % BEAT == 0 {
                self.pulse.start();
            }
            self.pulse.render_add(&mut l, &mut r);
        }
        if self.v.noise {
            let g = 0.05 * (0.6 + 0.4 * self.lfo(0.02));
            let [pl, pr] = &mut self.pink;
            for (a, b) in l.iter_mut().zip(r.iter_mut()) {
                *a += pl.next() * g;
                *b += pr.next() * g;
            }
        }
        match self.v.room {
            Room::Ours => {
                let mut wl = [0.0f32; BLOCK];
                let mut wr = [0.0f32; BLOCK];
                self.reverb.process(&l, &r, &mut wl, &mut wr);
                for i in 0..BLOCK {
                    out_l[i] = DRY * l[i] + WET * wl[i];
                    out_r[i] = DRY * r[i] + WET * wr[i];
                }
            }
            Room::Fundsp => {
                let unit = self.fundsp_reverb.as_mut().expect("built for this variant");
                self.fundsp_in.channel_f32_mut(0)[..BLOCK].copy_from_slice(&l);
                self.fundsp_in.channel_f32_mut(1)[..BLOCK].copy_from_slice(&r);
                unit.process(
                    BLOCK,
                    &self.fundsp_in.buffer_ref(),
                    &mut self.fundsp_out.buffer_mut(),
                );
                let wl = self.fundsp_out.channel_f32(0);
                for i in 0..BLOCK {
                    out_l[i] = DRY * l[i] + WET * wl[i];
                }
                let wr = self.fundsp_out.channel_f32(1);
                for i in 0..BLOCK {
                    out_r[i] = DRY * r[i] + WET * wr[i];
                }
            }
            Room::Off => {
                *out_l = l;
                *out_r = r;
            }
        }
        self.frame += BLOCK as u64;
    }
}

/// CPU time consumed by the calling thread, in seconds.
#[cfg(unix)]
fn thread_cpu_seconds() -> f64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec for the duration of the call.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID) failed");
    ts.tv_sec as f64 + ts.tv_nsec as f64 * 1e-9
}

/// Wall-clock seconds since the first call (no thread CPU clock on this platform).
#[cfg(not(unix))]
fn thread_cpu_seconds() -> f64 {
    use std::sync::OnceLock;
    static START: OnceLock<Instant> = OnceLock::new();
    START.get_or_init(Instant::now).elapsed().as_secs_f64()
}

/// Renders `blocks` blocks of variant `v`; returns the CPU seconds spent rendering.
fn cpu_run(v: Variant, blocks: u64) -> f64 {
    let mut patch = Patch::new(v);
    let mut l = [0.0f32; BLOCK];
    let mut r = [0.0f32; BLOCK];
    let t0 = thread_cpu_seconds();
    for _ in 0..blocks {
        patch.render_block(&mut l, &mut r);
        black_box((&l, &r));
    }
    thread_cpu_seconds() - t0
}

struct Timing {
    /// CPU seconds of each run.
    runs: Vec<f64>,
    median: f64,
}

fn timing(v: Variant, blocks: u64) -> Timing {
    let mut runs: Vec<f64> = (0..RUNS).map(|_| cpu_run(v, blocks)).collect();
    let mut sorted = runs.clone();
    sorted.sort_by(f64::total_cmp);
    let median = sorted[sorted.len() / 2];
    runs.shrink_to_fit();
    Timing { runs, median }
}

/// What one probed run of the full patch measured.
struct Probe {
    block_ns: Vec<u32>,
    sum_sq: [f64; 2],
    peak: f32,
    frames: u64,
}

/// Renders the full patch timing every block with a monotonic clock, accumulating levels
/// and optionally writing the WAV (outside the timed region).
fn probe_run(blocks: u64, wav: Option<&str>) -> Probe {
    let mut writer = wav.map(|path| {
        let spec = hound::WavSpec {
            channels: 2,
            sample_rate: SR as u32,
            bits_per_sample: 32,
            sample_format: hound::SampleFormat::Float,
        };
        hound::WavWriter::create(path, spec).expect("create WAV")
    });
    let mut patch = Patch::new(FULL);
    let mut l = [0.0f32; BLOCK];
    let mut r = [0.0f32; BLOCK];
    let mut block_ns = Vec::with_capacity(blocks as usize);
    let mut sum_sq = [0.0f64; 2];
    let mut peak = 0.0f32;
    for _ in 0..blocks {
        let t = Instant::now();
        patch.render_block(&mut l, &mut r);
        let ns = t.elapsed().as_nanos();
        block_ns.push(ns.min(u32::MAX as u128) as u32);
        for (s, ch) in sum_sq.iter_mut().zip([&l, &r]) {
            *s += ch.iter().map(|&x| (x as f64) * (x as f64)).sum::<f64>();
        }
        peak = l.iter().chain(r.iter()).fold(peak, |m, &x| m.max(x.abs()));
        if let Some(w) = writer.as_mut() {
            for (&a, &b) in l.iter().zip(r.iter()) {
                w.write_sample(a).expect("write WAV");
                w.write_sample(b).expect("write WAV");
            }
        }
    }
    if let Some(w) = writer {
        w.finalize().expect("finalize WAV");
    }
    Probe {
        block_ns,
        sum_sq,
        peak,
        frames: blocks * BLOCK as u64,
    }
}

fn db(x: f64) -> f64 {
    20.0 * x.max(1e-12).log10()
}

fn percentile(sorted: &[u32], q: f64) -> u32 {
    let idx = ((sorted.len() as f64 - 1.0) * q).round() as usize;
    sorted[idx.min(sorted.len() - 1)]
}

fn main() {
    // `cargo bench` passes `--bench`; this harness takes no arguments.
    let seconds = std::env::var("ISOCHORD_BENCH_SECONDS")
        .ok()
        .and_then(|s| s.trim().parse::<u64>().ok())
        .filter(|&s| s > 0)
        .unwrap_or(DEFAULT_SECONDS);
    let wav = std::env::var("ISOCHORD_BENCH_WAV")
        .ok()
        .filter(|s| !s.is_empty());
    let blocks = seconds * SR as u64 / BLOCK as u64;
    let frames = blocks * BLOCK as u64;
    let audio_s = frames as f64 / SR as f64;
    let rtf = |cpu: f64| audio_s / cpu;
    let ns_per_frame = |cpu: f64| cpu * 1e9 / frames as f64;

    println!(
        "reference patch \"therapeutic soundscape v1\": {} Hz stereo, {audio_s} s, \
         {BLOCK}-frame blocks, {RUNS} runs, thread CPU time",
        SR as u32
    );

    let full = timing(FULL, blocks);
    let runs: Vec<String> = full.runs.iter().map(|c| format!("{c:.3}")).collect();
    println!();
    println!("full patch");
    println!("  CPU seconds per run: {}", runs.join(", "));
    println!(
        "  median RTF {:.1}, {:.1} ns per stereo frame (target RTF >= {TARGET_RTF}: {})",
        rtf(full.median),
        ns_per_frame(full.median),
        if rtf(full.median) >= TARGET_RTF {
            "met"
        } else {
            "NOT met"
        }
    );

    let probe = probe_run(blocks, wav.as_deref());
    let mut sorted = probe.block_ns.clone();
    sorted.sort_unstable();
    let us = |ns: u32| ns as f64 / 1000.0;
    let budget_us = BLOCK as f64 / SR as f64 * 1e6;
    println!(
        "  per-block cost, {BLOCK} frames (wall clock, {} blocks, budget {budget_us:.0} us):",
        sorted.len()
    );
    println!(
        "    p50 {:.2} us   p99 {:.2} us   p99.9 {:.2} us   max {:.2} us",
        us(percentile(&sorted, 0.5)),
        us(percentile(&sorted, 0.99)),
        us(percentile(&sorted, 0.999)),
        us(*sorted.last().unwrap_or(&0)),
    );
    let rms = |s: f64| (s / probe.frames as f64).sqrt();
    let both = ((probe.sum_sq[0] + probe.sum_sq[1]) / (2 * probe.frames) as f64).sqrt();
    println!(
        "  levels: RMS {:.1} dBFS (L {:.1}, R {:.1}), peak {:.1} dBFS",
        db(both),
        db(rms(probe.sum_sq[0])),
        db(rms(probe.sum_sq[1])),
        db(probe.peak as f64)
    );
    if let Some(path) = &wav {
        println!("  wrote {path} (32-bit float)");
    }

    println!();
    println!("ablation (median of {RUNS} runs each; delta = cost of the part, + means slower)");
    println!(
        "  {:<24} {:>8} {:>10} {:>12}",
        "variant", "RTF", "ns/frame", "delta ns"
    );
    let full_ns = ns_per_frame(full.median);
    println!(
        "  {:<24} {:>8.1} {:>10.1} {:>12}",
        FULL.name,
        rtf(full.median),
        full_ns,
        "-"
    );
    for v in ABLATIONS {
        let t = timing(v, blocks);
        let ns = ns_per_frame(t.median);
        println!(
            "  {:<24} {:>8.1} {:>10.1} {:>+12.1}",
            v.name,
            rtf(t.median),
            ns,
            ns - full_ns
        );
    }
}
