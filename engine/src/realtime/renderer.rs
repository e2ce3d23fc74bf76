//! The audio side.

use super::telemetry::Telemetry;
use isochord_dsp::{Command, Meter, Soundscape, MAX_BLOCK};
use ringbuf::traits::{Consumer, Producer};
use ringbuf::{HeapCons, HeapProd};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Instant;

/// Owns the sounding soundscape and renders it. Lives on the audio thread: every method
/// here is real-time safe (no allocation, freeing, locks, blocking, I/O or logging).
pub struct Renderer {
    current: Box<Soundscape>,
    incoming: Option<Box<Soundscape>>,
    xfade: f32,
    xfade_step: f32,
    retiring: Option<Box<Soundscape>>,
    commands: HeapCons<Command>,
    switches: HeapCons<Box<Soundscape>>,
    retired: HeapProd<Box<Soundscape>>,
    telemetry: HeapProd<Telemetry>,
    underruns: Arc<AtomicU32>,
    scratch: [f32; 2 * MAX_BLOCK],
    meter: Meter,
    span_frames: u64,
    span_ns: u64,
    render_ns_max: u32,
    report_every: u64,
    commands_applied: u64,
    nan_blocks: u32,
    /// Streamed-recording frames missed by soundscapes already switched away from.
    stream_missing_before: u64,
    frames: u64,
}

/// Seconds a preset switch crossfades over.
pub const SWITCH_CROSSFADE_S: f32 = 3.0;

impl Renderer {
    pub(super) fn new(
        current: Box<Soundscape>,
        commands: HeapCons<Command>,
        switches: HeapCons<Box<Soundscape>>,
        retired: HeapProd<Box<Soundscape>>,
        telemetry: HeapProd<Telemetry>,
        underruns: Arc<AtomicU32>,
    ) -> Self {
        let report_every = (current.sample_rate() * 0.05) as u64;
        Self {
            current,
            incoming: None,
            xfade: 0.0,
            xfade_step: 0.0,
            retiring: None,
            commands,
            switches,
            retired,
            telemetry,
            underruns,
            scratch: [0.0; 2 * MAX_BLOCK],
            meter: Meter::default(),
            span_frames: 0,
            span_ns: 0,
            render_ns_max: 0,
            report_every,
            commands_applied: 0,
            nan_blocks: 0,
            stream_missing_before: 0,
            frames: 0,
        }
    }

    /// Sample rate, Hz.
    pub fn sample_rate(&self) -> f32 {
        self.current.sample_rate()
    }

    /// Records an underrun the host noticed (audio thread or the host's error callback).
    pub fn report_underrun(&self) {
        self.underruns.fetch_add(1, Ordering::Relaxed);
    }

    /// A shared counter the host may bump from another thread when it sees an underrun.
    pub fn underrun_counter(&self) -> Arc<AtomicU32> {
        self.underruns.clone()
    }

    /// Renders interleaved stereo into `out` at the engine's rate: applies the pending
    /// commands, renders in blocks of at most [`MAX_BLOCK`] frames, and reports
    /// telemetry. Audio thread.
    pub fn render(&mut self, out: &mut [f32]) {
        let started = Instant::now();
        self.take_switch();
        while let Some(cmd) = self.commands.try_pop() {
            self.current.apply(cmd);
            if let Some(next) = self.incoming.as_mut() {
                next.apply(cmd);
            }
            self.commands_applied += 1;
        }
        match self.incoming.is_some() {
            false => self.current.render(out),
            true => self.render_crossfade(out),
        }
        let mut m = self.current.take_meter();
        if let Some(next) = self.incoming.as_mut() {
            m.nan_blocks += next.take_meter().nan_blocks;
        }
        self.nan_blocks += m.nan_blocks;
        // the output itself, crossfade included, is what is metered
        for f in out.chunks_exact(2) {
            self.meter.peak = self.meter.peak.max(f[0].abs()).max(f[1].abs());
            self.meter.sum_sq += (f[0] * f[0] + f[1] * f[1]) as f64;
        }
        self.meter.frames += (out.len() / 2) as u64;
        self.frames += (out.len() / 2) as u64;
        self.meter.limiter_min_gain = self.meter.limiter_min_gain.min(m.limiter_min_gain);
        let ns = started.elapsed().as_nanos().min(u32::MAX as u128) as u32;
        self.render_ns_max = self.render_ns_max.max(ns);
        self.span_ns += ns as u64;
        self.span_frames += (out.len() / 2) as u64;
        if self.span_frames >= self.report_every {
            self.report();
        }
    }

    fn take_switch(&mut self) {
        // hand back a soundscape whose crossfade ended, when the return ring has room
        if let Some(old) = self.retiring.take() {
            if let Err(old) = self.retired.try_push(old) {
                self.retiring = Some(old);
            }
        }
        if self.incoming.is_none() && self.retiring.is_none() {
            if let Some(next) = self.switches.try_pop() {
                self.incoming = Some(next);
                self.xfade = 0.0;
                self.xfade_step = 1.0 / (SWITCH_CROSSFADE_S * self.current.sample_rate());
            }
        }
    }

    fn render_crossfade(&mut self, out: &mut [f32]) {
        for chunk in out.chunks_mut(2 * MAX_BLOCK) {
            let n = chunk.len();
            self.current.render(chunk);
            let Some(next) = self.incoming.as_mut() else {
                continue;
            };
            next.render(&mut self.scratch[..n]);
            for (o, f) in chunk
                .chunks_exact_mut(2)
                .zip(self.scratch[..n].chunks_exact(2))
            {
                self.xfade = (self.xfade + self.xfade_step).min(1.0);
                // equal-power crossfade
                let a = self.xfade * core::f32::consts::FRAC_PI_2;
                let (g_old, g_new) = (a.cos(), a.sin());
                o[0] = o[0] * g_old + f[0] * g_new;
                o[1] = o[1] * g_old + f[1] * g_new;
            }
            if self.xfade >= 1.0 {
                let next = self.incoming.take().expect("crossfading");
                let old = core::mem::replace(&mut self.current, next);
                self.stream_missing_before += old.stream_missing_frames();
                self.retiring = Some(old);
                // remaining chunks render from the new soundscape alone
            }
        }
    }

    fn report(&mut self) {
        let values = core::array::from_fn(|i| self.current.value(isochord_dsp::Param::ALL[i]));
        let t = Telemetry {
            frames: self.frames,
            peak: self.meter.peak,
            rms: self.meter.rms(),
            render_ns_max: self.render_ns_max,
            render_ns_per_frame: self.span_ns as f32 / self.span_frames.max(1) as f32,
            commands_applied: self.commands_applied,
            underruns: self.underruns.load(Ordering::Relaxed),
            nan_blocks: self.nan_blocks,
            stream_missing_frames: self.stream_missing_before
                + self.current.stream_missing_frames()
                + self
                    .incoming
                    .as_ref()
                    .map_or(0, |s| s.stream_missing_frames()),
            limiter_gain: self.meter.limiter_min_gain,
            values,
            key: self.current.key(),
            switching: self.incoming.is_some(),
            faded_out: self.current.faded_out(),
        };
        // a full ring means nobody is reading: drop the report rather than wait
        let _ = self.telemetry.try_push(t);
        self.meter = Meter::default();
        self.span_frames = 0;
        self.span_ns = 0;
        self.render_ns_max = 0;
    }
}
