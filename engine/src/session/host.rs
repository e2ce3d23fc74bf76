//! Sessions inside the host's own audio callback.
//!
//! The host calls [`SessionAudio::render`] from its callback (audio thread, real-time
//! safe). The session's control thread ticks the controller at
//! [`CONTROL_RATE_HZ`](crate::CONTROL_RATE_HZ) on the clock of the frames rendered, and
//! hands each tick's commands over a lock-free ring with the frame they are due at. The
//! audio side renders exactly as [`crate::OfflineSession`] does: the same blocks, the
//! commands at the same frames, the closing fade at the same frame. When every tick's
//! commands arrive in time, a session is bit-identical to the offline render of the same
//! plan and input.
//!
//! ```text
//!  control thread (library)                 audio thread (host's callback)
//!  controller.tick(k) ── commands of k ──▶   SessionAudio::render()
//!  controller.output() ◀── segment meters ──   (frames, level)
//! ```
//!
//! A callback bound to a sound card's clock calls [`SessionAudio::render`], which never
//! waits: commands that arrive late are applied at the next block (and counted, see
//! [`super::LiveSummary::late_ticks`]). A host that renders faster than real time (into a
//! file, say) calls [`SessionAudio::render_ready`], which stops at a tick whose commands
//! have not arrived yet, so that nothing is ever late.

use crate::offline::STOP_FADE_S;
use crate::CONTROL_RATE_HZ;
use isochord_dsp::{Command, Meter, Soundscape, MAX_BLOCK};
use ringbuf::traits::{Consumer, Producer};
use ringbuf::{HeapCons, HeapProd};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

/// Slots in the command ring between the control thread and the audio side.
pub(crate) const HOST_COMMAND_SLOTS: usize = 4096;
/// Slots in the meter ring (one meter per rendered segment, up to three a tick).
pub(crate) const HOST_METER_SLOTS: usize = 1024;

/// A message on the command ring: a command, or the end of a tick's commands.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Msg {
    Cmd(Command),
    EndOfTick,
}

/// State both sides read.
#[derive(Debug)]
pub(crate) struct HostShared {
    /// Ticks whose commands are all on the ring (tick k is ready when this exceeds k).
    pub ticks_ready: AtomicU64,
    /// Frames rendered.
    pub frames: AtomicU64,
    /// The session's length in frames (shrinks when stopped or faded out early).
    pub total: AtomicU64,
    /// The audio side has rendered the whole session.
    pub finished: AtomicBool,
    /// Ticks whose commands were not there when their frame came.
    pub late: AtomicU64,
    /// Stop (fade out over [`STOP_FADE_S`] and end).
    pub stop: Arc<AtomicBool>,
    /// Set by the audio side once it has seen the stop.
    pub interrupted: AtomicBool,
}

/// The audio side of a session run in the host's callback. Every method is real-time
/// safe (no allocation, freeing, locks, blocking, I/O or logging): audio thread.
pub struct SessionAudio {
    scape: Box<Soundscape>,
    sr: f64,
    carry: [f32; 2 * MAX_BLOCK],
    carry_len: usize,
    carry_pos: usize,
    done: u64,
    total: u64,
    fade_start: u64,
    fading: bool,
    interrupted: bool,
    /// Index of the next tick.
    tick: u64,
    /// Frame of the next tick.
    next_tick: u64,
    seg_left: u64,
    applied: u64,
    commands: HeapCons<Msg>,
    meters: HeapProd<Meter>,
    held_meter: Option<Meter>,
    shared: Arc<HostShared>,
}

/// Frame of tick `k` at `sr`, as the offline renderer places it.
pub(crate) fn tick_frame(k: u64, sr: f64) -> u64 {
    (k as f64 * sr / CONTROL_RATE_HZ).round() as u64
}

impl SessionAudio {
    /// Control thread: built by [`super::LiveSession::with_host_audio`].
    pub(crate) fn new(
        scape: Box<Soundscape>,
        duration_s: f64,
        fade_s: f32,
        commands: HeapCons<Msg>,
        meters: HeapProd<Meter>,
        shared: Arc<HostShared>,
    ) -> SessionAudio {
        let sr = scape.sample_rate() as f64;
        let total = (duration_s * sr).round() as u64;
        let fade_start = total.saturating_sub((fade_s as f64 * sr).round() as u64);
        shared.total.store(total, Ordering::Release);
        SessionAudio {
            scape,
            sr,
            carry: [0.0; 2 * MAX_BLOCK],
            carry_len: 0,
            carry_pos: 0,
            done: 0,
            total,
            fade_start,
            fading: false,
            interrupted: false,
            tick: 0,
            next_tick: 0,
            seg_left: 0,
            applied: 0,
            commands,
            meters,
            held_meter: None,
            shared,
        }
    }

    /// Sample rate, Hz.
    pub fn sample_rate(&self) -> u32 {
        self.sr as u32
    }

    /// Fills `out` (interleaved stereo) with the session; silence once it has ended.
    /// Never waits. Audio thread.
    pub fn render(&mut self, out: &mut [f32]) {
        let n = self.fill(out, false);
        out[n..].fill(0.0);
    }

    /// Fills `out` as far as it can without a tick's commands being late; returns the
    /// samples of the session written (interleaved, so twice the frames). Zero before
    /// the end means "the control thread has not decided the next tick yet": call again
    /// shortly. Once [`SessionAudio::is_finished`], the rest of `out` is silence. For
    /// hosts not bound to a sound card's clock. Audio thread (or the host's rendering
    /// thread).
    pub fn render_ready(&mut self, out: &mut [f32]) -> usize {
        let n = self.fill(out, true);
        if self.is_finished() {
            out[n..].fill(0.0);
        }
        n
    }

    /// The whole session has been rendered.
    pub fn is_finished(&self) -> bool {
        self.done >= self.total && self.carry_pos >= self.carry_len
    }

    /// Frames rendered so far.
    pub fn frames(&self) -> u64 {
        self.done
    }

    fn fill(&mut self, out: &mut [f32], wait: bool) -> usize {
        let mut pos = 0;
        while pos < out.len() {
            if self.carry_pos < self.carry_len {
                let n = (self.carry_len - self.carry_pos).min(out.len() - pos);
                out[pos..pos + n].copy_from_slice(&self.carry[self.carry_pos..self.carry_pos + n]);
                self.carry_pos += n;
                pos += n;
                continue;
            }
            if self.done >= self.total {
                break;
            }
            if !self.next_block(wait) {
                break;
            }
        }
        pos
    }

    /// Applies the commands of every tick up to (not including) `upto` that are ready.
    fn apply_ready(&mut self, upto: u64) {
        let ready = self.shared.ticks_ready.load(Ordering::Acquire);
        while self.applied < upto.min(ready) {
            while let Some(m) = self.commands.try_pop() {
                match m {
                    Msg::Cmd(c) => {
                        self.scape.apply(c);
                    }
                    Msg::EndOfTick => break,
                }
            }
            self.applied += 1;
        }
    }

    /// Renders the next block into the carry buffer. Returns false (rendering nothing)
    /// when `wait` and the tick due now is not ready.
    fn next_block(&mut self, wait: bool) -> bool {
        if self.seg_left == 0 {
            // a segment starts: exactly the steps of the offline renderer's loop
            if self.done == self.next_tick
                && wait
                && self.shared.ticks_ready.load(Ordering::Acquire) <= self.tick
                && !self.shared.finished.load(Ordering::Relaxed)
            {
                return false;
            }
            if !self.interrupted && self.shared.stop.load(Ordering::Relaxed) {
                self.interrupted = true;
                self.shared.interrupted.store(true, Ordering::Release);
                let stop_frames = (STOP_FADE_S as f64 * self.sr).round() as u64;
                if self.total - self.done > stop_frames {
                    self.total = self.done + stop_frames;
                    self.shared.total.store(self.total, Ordering::Release);
                    self.scape.fade_out(STOP_FADE_S);
                    self.fading = true;
                }
            }
            if self.done == self.next_tick {
                if self.shared.ticks_ready.load(Ordering::Acquire) <= self.tick {
                    self.shared.late.fetch_add(1, Ordering::Relaxed);
                }
                self.apply_ready(self.tick + 1);
                self.tick += 1;
                self.next_tick = tick_frame(self.tick, self.sr);
            }
            if !self.fading && self.done >= self.fade_start {
                self.scape
                    .fade_out(((self.total - self.done) as f64 / self.sr) as f32);
                self.fading = true;
            }
            let mut end = self.next_tick.min(self.total);
            if !self.fading && self.fade_start > self.done {
                end = end.min(self.fade_start);
            }
            self.seg_left = end - self.done;
        } else {
            // commands of a late tick go in as soon as they arrive
            self.apply_ready(self.tick);
        }
        let n = (self.seg_left as usize).min(MAX_BLOCK);
        self.scape.render(&mut self.carry[..2 * n]);
        self.carry_len = 2 * n;
        self.carry_pos = 0;
        self.done += n as u64;
        self.seg_left -= n as u64;
        self.shared.frames.store(self.done, Ordering::Release);
        if self.seg_left == 0 {
            let m = self.scape.take_meter();
            if self.scape.faded_out() && self.done < self.total {
                // the controller faded the session out early (a sleep fade on calm)
                self.total = self.done;
                self.shared.total.store(self.total, Ordering::Release);
            }
            if self.done >= self.total {
                self.shared.finished.store(true, Ordering::Release);
            }
            if m.frames > 0 {
                let m = match self.held_meter.take() {
                    Some(mut h) => {
                        // the ring was full: this meter joins the one held back
                        h.merge(&m);
                        h
                    }
                    None => m,
                };
                if let Err(m) = self.meters.try_push(m) {
                    self.held_meter = Some(m);
                }
            }
        }
        true
    }
}
