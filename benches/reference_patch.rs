//! The reference soundscape ("therapeutic soundscape v1"), built from `isochord-dsp`'s
//! primitives and rendered offline at 48 kHz stereo in 64-frame blocks.
//!
//! The patch, and what each part costs per stereo frame on a 2-core x86-64 server with
//! the baseline (SSE2) target (the ablation below measures it on the machine at hand):
//! - pad, about 5.5 ns: eight oscillators in one `OscBank<8>` (four polyBLEP saws, four
//!   trivially sampled triangles), amplitude 0.08 each, hard-panned, rendered voice by
//!   voice and vectorised across time;
//! - ladder, about 4 ns: per channel the linear zero-delay-feedback Moog ladder (`Ladder`:
//!   four trapezoidal one-poles with the feedback loop solved exactly, run as an
//!   equivalent 4×4 state-space step two samples at a time), cutoff
//!   900 + 400·sin(2π·0.05·t) Hz updated once per block, feedback k = 1.2 (resonance 0.3);
//! - pulse, about 1 ns: one sine note per second cycling 440, 329.63, 392, 293.66 Hz,
//!   amplitude 0.15 in both channels, 5 ms linear attack then an exponential fall that
//!   reaches exactly 0 after 0.945 s (a decaying exponential minus its final value,
//!   rescaled);
//! - noise bed, about 3 ns: two independent pink noises (Kellet's three one-poles on
//!   xoshiro128+ white noise) × 0.05·(0.6 + 0.4·sin(2π·0.02·t));
//! - reverb, about 5.5 ns with the mix: the eight-line feedback delay network `Reverb`
//!   (Hadamard feedback matrix, one-pole damping in every line; size 1, RT60 3.5 s,
//!   damping 5 kHz), processed block-wise; everything goes in, out = 0.7·dry + 0.3·wet,
//!   with the wet trimmed to unity power gain (see `WetTrims`).
//!
//! It prints the median real-time factor of three runs (CPU time of the rendering
//! thread), the per-block cost distribution, the render's levels, and an ablation: the
//! patch with each part removed, and with fundsp 0.23's `Moog` ladder (the Stilson–Smith
//! structure with a `tanhf` in its last stage, about 28 ns) and its 32-line
//! `reverb_stereo` (about 80 ns) put in place of ours.
//!
//! Run with `cargo bench --bench reference_patch`. Environment:
//! - `ISOCHORD_BENCH_SECONDS=N` renders N seconds instead of 600 (smoke runs; without
//!   `--bench`, as under `cargo test --benches`, the default is 2 s);
//! - `ISOCHORD_BENCH_WAV=path` writes the full patch's render as a 32-bit float WAV.

use std::hint::black_box;
use std::time::Instant;

use fundsp::prelude32::{reverb_stereo, AudioNode, AudioUnit, BufferArray, Moog, U1, U2};
use isochord_dsp::ladder::Ladder;
use isochord_dsp::noise::Pink;
use isochord_dsp::osc::{sin_turns, OscBank};
use isochord_dsp::reverb::Reverb;
use isochord_dsp::rng::Rng;

const SR: f32 = 48_000.0;
const BLOCK: usize = 64;
const RUNS: usize = 3;
const DEFAULT_SECONDS: u64 = 600;
/// Seconds rendered when run as a test rather than a benchmark.
const SMOKE_SECONDS: u64 = 2;
const TARGET_RTF: f64 = 250.0;

/// Blocks between pulse notes (60 BPM: 48 000 frames); notes start on block boundaries.
const BEAT_BLOCKS: u64 = 48_000 / BLOCK as u64;
const _: () = assert!(BEAT_BLOCKS * BLOCK as u64 == 48_000);

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
const ATTACK_FRAMES: usize = 240; // 5 ms
const DECAY_FRAMES: usize = 45_360; // 0.945 s
/// The decaying exponential falls to this before the offset brings it to 0 (−60 dB).
const DECAY_FLOOR: f32 = 1e-3;
const REVERB_SIZE: f32 = 1.0;
const REVERB_RT60: f32 = 3.5;
const REVERB_DAMP_HZ: f32 = 5000.0;
const DRY: f32 = 0.7;
const WET: f32 = 0.3;
/// Seconds of pink noise used to measure each reverb's power gain.
const CALIBRATION_S: u64 = 30;

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

/// 1, 2, …, `BLOCK` as floats: frame offsets within a block.
const RAMP: [f32; BLOCK] = {
    let mut r = [0.0; BLOCK];
    let mut i = 0;
    while i < BLOCK {
        r[i] = (i + 1) as f32;
        i += 1;
    }
    r
};

/// The fractional part of `x` for `x` in `[0, 2^22)`, by rounding with 1.5·2^23 (float
/// arithmetic only, so it vectorises).
#[inline(always)]
fn fract(x: f32) -> f32 {
    const ROUND: f32 = 12_582_912.0;
    let f = x - ((x + ROUND) - ROUND);
    if f < 0.0 {
        f + 1.0
    } else {
        f
    }
}

/// The pulse: one sine note at a time, rendered a block at a time: the envelope for the
/// block is filled from tables (the attack as a ramp, the decay as the exponential's
/// state times its first 64 powers), then the sine, so every loop vectorises.
struct Pulse {
    phase: f32,
    inc: f32,
    attack_left: usize,
    decay_left: usize,
    level: f32,
    expo: f32,
    /// `m^1 … m^BLOCK` for the per-frame decay factor `m`.
    decay_pow: [f32; BLOCK],
    next: usize,
}

impl Pulse {
    fn new() -> Self {
        let decay_mul = DECAY_FLOOR.powf(1.0 / DECAY_FRAMES as f32);
        let mut decay_pow = [0.0; BLOCK];
        let mut q = 1.0f32;
        for p in decay_pow.iter_mut() {
            q *= decay_mul;
            *p = q;
        }
        Self {
            phase: 0.0,
            inc: 0.0,
            attack_left: 0,
            decay_left: 0,
            level: 0.0,
            expo: 1.0,
            decay_pow,
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

    fn render_add(&mut self, left: &mut [f32; BLOCK], right: &mut [f32; BLOCK]) {
        let attack = self.attack_left.min(BLOCK);
        let decay = self.decay_left.min(BLOCK - attack);
        let used = attack + decay;
        if used == 0 {
            return;
        }
        let mut env = [0.0f32; BLOCK];
        let step = PULSE_AMP / ATTACK_FRAMES as f32;
        for (e, &j) in env[..attack].iter_mut().zip(&RAMP) {
            *e = self.level + j * step;
        }
        self.level += attack as f32 * step;
        self.attack_left -= attack;
        // (m^n − floor)/(1 − floor): 1 at the peak, exactly 0 after DECAY_FRAMES
        let scale = PULSE_AMP / (1.0 - DECAY_FLOOR);
        let e0 = self.expo;
        for (e, &q) in env[attack..used].iter_mut().zip(&self.decay_pow) {
            let v = (e0 * q - DECAY_FLOOR) * scale;
            *e = if v > 0.0 { v } else { 0.0 };
        }
        if decay > 0 {
            self.expo = e0 * self.decay_pow[decay - 1];
            self.decay_left -= decay;
        }
        let (p0, inc) = (self.phase, self.inc);
        for (((l, r), &e), &j) in left
            .iter_mut()
            .zip(right.iter_mut())
            .zip(&env[..used])
            .zip(&RAMP)
        {
            let v = sin_turns(fract(p0 + j * inc)) * e;
            *l += v;
            *r += v;
        }
        self.phase = fract(p0 + used as f32 * inc);
    }
}

/// The patch, with each part switchable for the ablation.
struct Patch {
    v: Variant,
    frame: u64,
    /// Blocks until the next pulse note.
    until_beat: u64,
    /// `WET` times the trim that brings the chosen reverb to unity power gain.
    wet: f32,
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
    fn new(v: Variant, trims: WetTrims) -> Self {
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
        let fundsp_reverb = (v.room == Room::Fundsp).then(Self::fundsp_reverb);
        Self {
            v,
            frame: 0,
            until_beat: 0,
            wet: WET
                * match v.room {
                    Room::Fundsp => trims.fundsp,
                    _ => trims.ours,
                },
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

    /// fundsp's 32-line FDN with the same decay time (10 m room, damping 0.5).
    fn fundsp_reverb() -> Box<dyn AudioUnit> {
        let mut u: Box<dyn AudioUnit> = Box::new(reverb_stereo(10.0, REVERB_RT60, 0.5));
        u.set_sample_rate(SR as f64);
        u.allocate();
        u
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
            if self.until_beat == 0 {
                self.pulse.start();
                self.until_beat = BEAT_BLOCKS;
            }
            self.until_beat -= 1;
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
                    out_l[i] = DRY * l[i] + self.wet * wl[i];
                    out_r[i] = DRY * r[i] + self.wet * wr[i];
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
                    out_l[i] = DRY * l[i] + self.wet * wl[i];
                }
                let wr = self.fundsp_out.channel_f32(1);
                for i in 0..BLOCK {
                    out_r[i] = DRY * r[i] + self.wet * wr[i];
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

/// Wet-signal trims that bring each reverb to unity power gain on pink noise.
///
/// The reverbs differ widely in how loud their wet output is: ours feeds each input into
/// four of its eight lines at unity and sums four lines per side, so with a 3.5 s RT60
/// its output on pink noise is about 12 dB above its input, while fundsp's
/// `reverb_stereo` scales its 32 lines by 1/16. Trimming both to unity gain before the
/// 0.3 wet mix makes the levels comparable with the peers' renders. Costs nothing per
/// sample: the trim is folded into the wet gain.
#[derive(Clone, Copy)]
struct WetTrims {
    ours: f32,
    fundsp: f32,
}

impl WetTrims {
    fn measure() -> Self {
        let mut ours = Reverb::new(SR, REVERB_SIZE, REVERB_RT60, REVERB_DAMP_HZ);
        let mut theirs = Patch::fundsp_reverb();
        let mut fin = Box::new(BufferArray::<U2>::new());
        let mut fout = Box::new(BufferArray::<U2>::new());
        Self {
            ours: unity_trim(|l, r, wl, wr| ours.process(l, r, wl, wr)),
            fundsp: unity_trim(|l, r, wl, wr| {
                fin.channel_f32_mut(0)[..BLOCK].copy_from_slice(l);
                fin.channel_f32_mut(1)[..BLOCK].copy_from_slice(r);
                theirs.process(BLOCK, &fin.buffer_ref(), &mut fout.buffer_mut());
                wl.copy_from_slice(&fout.channel_f32(0)[..BLOCK]);
                wr.copy_from_slice(&fout.channel_f32(1)[..BLOCK]);
            }),
        }
    }
}

/// Feeds independent pink noise to both inputs of `reverb` for `CALIBRATION_S` seconds
/// and returns `1/sqrt(power gain)`, the gain measured after the first fifth.
fn unity_trim(mut reverb: impl FnMut(&[f32], &[f32], &mut [f32], &mut [f32])) -> f32 {
    let mut pink = [Pink::new(Rng::new(2, 0)), Pink::new(Rng::new(2, 1))];
    let blocks = CALIBRATION_S * SR as u64 / BLOCK as u64;
    let (mut p_in, mut p_out) = (0.0f64, 0.0f64);
    for b in 0..blocks {
        let mut l = [0.0f32; BLOCK];
        let mut r = [0.0f32; BLOCK];
        for (a, c) in l.iter_mut().zip(r.iter_mut()) {
            *a = pink[0].next();
            *c = pink[1].next();
        }
        let mut wl = [0.0f32; BLOCK];
        let mut wr = [0.0f32; BLOCK];
        reverb(&l, &r, &mut wl, &mut wr);
        if b >= blocks / 5 {
            let energy = |x: &[f32]| x.iter().map(|&v| (v as f64) * (v as f64)).sum::<f64>();
            p_in += energy(&l) + energy(&r);
            p_out += energy(&wl) + energy(&wr);
        }
    }
    (p_in / p_out.max(1e-30)).sqrt() as f32
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
fn cpu_run(v: Variant, trims: WetTrims, blocks: u64) -> f64 {
    let mut patch = Patch::new(v, trims);
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

fn timing(v: Variant, trims: WetTrims, blocks: u64) -> Timing {
    let runs: Vec<f64> = (0..RUNS).map(|_| cpu_run(v, trims, blocks)).collect();
    let mut sorted = runs.clone();
    sorted.sort_by(f64::total_cmp);
    let median = sorted[sorted.len() / 2];
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
fn probe_run(trims: WetTrims, blocks: u64, wav: Option<&str>) -> Probe {
    let mut writer = wav.map(|path| {
        let spec = hound::WavSpec {
            channels: 2,
            sample_rate: SR as u32,
            bits_per_sample: 32,
            sample_format: hound::SampleFormat::Float,
        };
        hound::WavWriter::create(path, spec).expect("create WAV")
    });
    let mut patch = Patch::new(FULL, trims);
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
    // `cargo bench` passes `--bench`; without it (`cargo test --benches`) this is a smoke
    // run of a few seconds.
    let benching = std::env::args().any(|a| a == "--bench");
    let seconds = std::env::var("ISOCHORD_BENCH_SECONDS")
        .ok()
        .and_then(|s| s.trim().parse::<u64>().ok())
        .filter(|&s| s > 0)
        .unwrap_or(if benching {
            DEFAULT_SECONDS
        } else {
            SMOKE_SECONDS
        });
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

    if !benching {
        println!("smoke run (no --bench): the figures below are not the benchmark's");
    }

    let trims = WetTrims::measure();
    println!(
        "wet trims to unity power gain on pink noise: ours {:.1} dB, fundsp reverb_stereo {:.1} dB",
        db(trims.ours as f64),
        db(trims.fundsp as f64)
    );

    let full = timing(FULL, trims, blocks);
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

    let probe = probe_run(trims, blocks, wav.as_deref());
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
    println!("ablation (median of {RUNS} runs each; change = ns per frame against the full patch)");
    println!(
        "  {:<24} {:>8} {:>10} {:>8}",
        "variant", "RTF", "ns/frame", "change"
    );
    let full_ns = ns_per_frame(full.median);
    println!(
        "  {:<24} {:>8.1} {:>10.1} {:>8}",
        FULL.name,
        rtf(full.median),
        full_ns,
        "-"
    );
    let mut ns = [0.0f64; ABLATIONS.len()];
    for (v, ns) in ABLATIONS.iter().zip(ns.iter_mut()) {
        *ns = ns_per_frame(timing(*v, trims, blocks).median);
        println!(
            "  {:<24} {:>8.1} {:>10.1} {:>+8.1}",
            v.name,
            rtf(*ns * frames as f64 * 1e-9),
            *ns,
            *ns - full_ns
        );
    }
    let [no_ladder, no_reverb, no_noise, no_pulse, no_pad, fundsp_ladder, fundsp_reverb, _] = ns;
    let parts = [
        ("pad: OscBank<8>, polyBLEP saw + triangle", full_ns - no_pad),
        (
            "ladder: linear ZDF, matrix form (ours)",
            full_ns - no_ladder,
        ),
        (
            "ladder: fundsp Moog (tanh stage)",
            fundsp_ladder - no_ladder,
        ),
        ("reverb: 8-line FDN + mix (ours)", full_ns - no_reverb),
        (
            "reverb: fundsp reverb_stereo + mix",
            fundsp_reverb - no_reverb,
        ),
        ("noise: 2 x Kellet pink", full_ns - no_noise),
        ("pulse: sine note, table envelope", full_ns - no_pulse),
    ];
    println!();
    println!("cost of each part (ns per stereo frame: the variant with it minus the one without)");
    for (name, cost) in parts {
        println!("  {name:<42} {cost:>6.1}");
    }
    println!(
        "  (differences of separate runs: within a few tenths of a ns, they need not add up \
         to the total)"
    );
}
