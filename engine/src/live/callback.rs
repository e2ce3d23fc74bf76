//! The audio callback: renders into a preallocated f32 scratch and converts to the
//! device's sample format and channel count.

use super::recorder::RecordTap;
use crate::realtime::Renderer;
use cpal::{FromSample, Sample};
use crossbeam_channel::Sender;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

/// Frames rendered per step: a larger device buffer is filled in steps of this size.
pub(crate) const SCRATCH_FRAMES: usize = 1024;

/// What the audio thread owns while a stream runs, and hands back when it ends.
pub(crate) struct Parts {
    pub renderer: Renderer,
    pub tap: Option<RecordTap>,
}

/// Counters the audio thread updates and the control thread reads (relaxed atomics).
pub(crate) struct Shared {
    /// When the output was created; the clock of `first_callback_ns`.
    pub epoch: Instant,
    /// Frames handed to the device.
    pub frames: AtomicU64,
    /// Callbacks so far.
    pub callbacks: AtomicU64,
    /// Nanoseconds after `epoch` of the first callback, plus one (0: none yet).
    pub first_callback_ns: AtomicU64,
    /// Largest callback seen, frames.
    pub largest_callback: AtomicU32,
}

impl Shared {
    pub fn new(epoch: Instant) -> Self {
        Self {
            epoch,
            frames: AtomicU64::new(0),
            callbacks: AtomicU64::new(0),
            first_callback_ns: AtomicU64::new(0),
            largest_callback: AtomicU32::new(0),
        }
    }
}

/// The state a stream's data callback owns. Everything is allocated before the stream
/// starts; [`CallbackState::fill`] only renders, copies and converts.
pub(crate) struct CallbackState {
    parts: Option<Parts>,
    scratch: Box<[f32]>,
    channels: usize,
    shared: Arc<Shared>,
    give_back: Sender<Parts>,
}

impl CallbackState {
    pub fn new(parts: Parts, channels: u16, shared: Arc<Shared>, give_back: Sender<Parts>) -> Self {
        Self {
            parts: Some(parts),
            scratch: vec![0.0; 2 * SCRATCH_FRAMES].into_boxed_slice(),
            channels: channels.max(1) as usize,
            shared,
            give_back,
        }
    }

    /// Fills one device buffer. Audio thread (real-time safe).
    pub fn fill<T: Sample + FromSample<f32>>(&mut self, out: &mut [T]) {
        let ch = self.channels;
        if self.shared.callbacks.fetch_add(1, Ordering::Relaxed) == 0 {
            let ns = self
                .shared
                .epoch
                .elapsed()
                .as_nanos()
                .min(u64::MAX as u128 - 1) as u64;
            self.shared
                .first_callback_ns
                .store(ns + 1, Ordering::Relaxed);
        }
        let frames = out.len() / ch;
        self.shared
            .largest_callback
            .fetch_max(frames.min(u32::MAX as usize) as u32, Ordering::Relaxed);
        let Some(parts) = self.parts.as_mut() else {
            out.fill(T::EQUILIBRIUM);
            return;
        };
        for chunk in out.chunks_mut(SCRATCH_FRAMES * ch) {
            let n = chunk.len() / ch;
            let stereo = &mut self.scratch[..2 * n];
            parts.renderer.render(stereo);
            if let Some(tap) = parts.tap.as_mut() {
                tap.push(stereo);
            }
            write_frames(chunk, stereo, ch);
        }
        self.shared
            .frames
            .fetch_add(frames as u64, Ordering::Relaxed);
    }
}

impl Drop for CallbackState {
    /// The stream is gone: hand the renderer (and the recording tap) back to the control
    /// side, which may play them on another device.
    fn drop(&mut self) {
        if let Some(parts) = self.parts.take() {
            let _ = self.give_back.try_send(parts);
        }
    }
}

/// Writes stereo frames to a buffer of `ch` channels: mono gets the mid, channels past
/// the second get silence, and a trailing partial frame is silenced.
fn write_frames<T: Sample + FromSample<f32>>(out: &mut [T], stereo: &[f32], ch: usize) {
    let whole = out.len() / ch * ch;
    let (frames, rest) = out.split_at_mut(whole);
    match ch {
        1 => {
            for (o, s) in frames.iter_mut().zip(stereo.chunks_exact(2)) {
                *o = T::from_sample((s[0] + s[1]) * 0.5);
            }
        }
        2 => {
            for (o, s) in frames.iter_mut().zip(stereo) {
                *o = T::from_sample(*s);
            }
        }
        _ => {
            for (o, s) in frames.chunks_exact_mut(ch).zip(stereo.chunks_exact(2)) {
                o[0] = T::from_sample(s[0]);
                o[1] = T::from_sample(s[1]);
                o[2..].fill(T::EQUILIBRIUM);
            }
        }
    }
    rest.fill(T::EQUILIBRIUM);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::realtime::new_engine;
    use assert_no_alloc::{assert_no_alloc, AllocDisabler};
    use isochord_dsp::SoundscapeConfig;

    #[global_allocator]
    static ALLOCATOR: AllocDisabler = AllocDisabler;

    fn state(channels: u16, tap: Option<RecordTap>) -> CallbackState {
        let (_handle, renderer) = new_engine(&SoundscapeConfig::default(), 48_000.0, 1);
        let (tx, _rx) = crossbeam_channel::bounded(1);
        CallbackState::new(
            Parts { renderer, tap },
            channels,
            Arc::new(Shared::new(Instant::now())),
            tx,
        )
    }

    fn no_alloc_fill<T: Sample + FromSample<f32>>(channels: u16, sizes: &[usize]) {
        let dir = tempfile::tempdir().unwrap();
        let (rec, tap) = super::super::Recorder::start(
            &dir.path().join("t.wav"),
            48_000,
            crate::wav::SampleFormat::F32,
        )
        .unwrap();
        let mut st = state(channels, Some(tap));
        for &frames in sizes {
            let mut buf = vec![T::EQUILIBRIUM; frames * channels as usize];
            for _ in 0..3 {
                assert_no_alloc(|| st.fill(&mut buf));
            }
        }
        drop(st);
        rec.finish().unwrap();
    }

    #[test]
    fn every_format_and_layout_fills_without_allocating() {
        // sizes below, at and above the scratch, and not a multiple of it
        let sizes = [1, 64, 1024, 1500, 4096 + 7];
        no_alloc_fill::<f32>(2, &sizes);
        no_alloc_fill::<i16>(2, &sizes);
        no_alloc_fill::<i32>(2, &sizes);
        no_alloc_fill::<u16>(2, &sizes);
        no_alloc_fill::<f64>(1, &sizes);
        no_alloc_fill::<cpal::I24>(6, &sizes);
        no_alloc_fill::<u8>(2, &sizes);
    }

    #[test]
    fn conversion_and_channel_mapping() {
        let stereo = [0.5f32, -0.5, 1.0, 0.0];
        let mut mono = [0i16; 2];
        write_frames(&mut mono, &stereo, 1);
        assert_eq!(mono, [0, 16384]);
        let mut st = [0u16; 4];
        write_frames(&mut st, &stereo, 2);
        assert_eq!(st, [49152, 16384, 65535, 32768]);
        let mut quad = [1.0f32; 9]; // two frames and a stray sample
        write_frames(&mut quad, &stereo, 4);
        assert_eq!(quad, [0.5, -0.5, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0]);
    }

    #[test]
    fn large_buffers_play_continuously_and_are_counted() {
        // the same frames, whether asked for in one buffer larger than the scratch or in
        // many small ones (block boundaries kept at multiples of MAX_BLOCK)
        let mut a = state(2, None);
        let mut b = state(2, None);
        let mut big = vec![0.0f32; 2 * 5120];
        a.fill(&mut big);
        let mut small = Vec::new();
        let mut buf = vec![0.0f32; 2 * 512];
        for _ in 0..10 {
            b.fill(&mut buf);
            small.extend_from_slice(&buf);
        }
        assert_eq!(big, small);
        assert!(big.iter().any(|&s| s != 0.0));
        assert_eq!(a.shared.frames.load(Ordering::Relaxed), 5120);
        assert_eq!(b.shared.callbacks.load(Ordering::Relaxed), 10);
        assert_eq!(b.shared.largest_callback.load(Ordering::Relaxed), 512);
        assert!(a.shared.first_callback_ns.load(Ordering::Relaxed) > 0);
    }

    #[test]
    fn the_renderer_comes_back_when_the_state_is_dropped() {
        let (_handle, renderer) = new_engine(&SoundscapeConfig::default(), 48_000.0, 1);
        let (tx, rx) = crossbeam_channel::bounded(1);
        let st = CallbackState::new(
            Parts {
                renderer,
                tap: None,
            },
            2,
            Arc::new(Shared::new(Instant::now())),
            tx,
        );
        drop(st);
        let parts = rx.try_recv().expect("handed back");
        assert_eq!(parts.renderer.sample_rate(), 48_000.0);
    }
}
