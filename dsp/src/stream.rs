//! Streamed content: long recordings read from disk into a ring off the audio thread
//! and taken from it on the audio thread, so only a few seconds are ever in memory.

use crate::MAX_BLOCK;
use ringbuf::traits::{Consumer, Observer};
use ringbuf::HeapCons;
use std::fmt;

/// Opens a stream of a recording: a new ring of interleaved stereo frames at the engine's
/// rate that something off the audio thread keeps filled. Called on the control thread
/// when a soundscape is built.
pub trait StreamOpener: Send + Sync + fmt::Debug {
    /// A reader of a fresh stream from the loop's start, or `None` if it cannot be
    /// opened now.
    fn open(&self) -> Option<StreamReader>;

    /// Tops up the rings of the streams this opener opened, now, on the caller's thread:
    /// offline renders call it before each control tick so that what they read never
    /// depends on a feeder thread's timing. The default does nothing (an opener whose
    /// streams fill themselves). Control side, never the audio thread.
    fn pump(&self) {}
}

/// The audio thread's end of a stream: it takes what has arrived and never waits.
pub struct StreamReader {
    ring: HeapCons<f32>,
    scratch: [f32; 2 * MAX_BLOCK],
    missing: u64,
}

impl fmt::Debug for StreamReader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StreamReader")
            .field("buffered", &self.ring.occupied_len())
            .field("missing_frames", &self.missing)
            .finish()
    }
}

impl StreamReader {
    /// A reader of `ring` (interleaved stereo samples).
    pub fn new(ring: HeapCons<f32>) -> Self {
        Self {
            ring,
            scratch: [0.0; 2 * MAX_BLOCK],
            missing: 0,
        }
    }

    /// Adds up to `left.len()` frames (at most [`MAX_BLOCK`]) times `gain` per frame from
    /// `gain` stepping by `step`; what has not arrived is silence and is counted
    /// ([`StreamReader::missing_frames`]). Returns the gain reached. Audio thread: no allocation, locks or waiting.
    pub fn read_add(&mut self, left: &mut [f32], right: &mut [f32], gain: f32, step: f32) -> f32 {
        let n = left.len().min(right.len()).min(MAX_BLOCK);
        let got = self.ring.pop_slice(&mut self.scratch[..2 * n]) / 2;
        self.missing += (n - got) as u64;
        let mut g = gain;
        for (i, (l, r)) in left[..got]
            .iter_mut()
            .zip(right[..got].iter_mut())
            .enumerate()
        {
            g += step;
            *l += self.scratch[2 * i] * g;
            *r += self.scratch[2 * i + 1] * g;
        }
        g + step * (n - got) as f32
    }

    /// Frames that had not arrived when they were due (played as silence).
    pub fn missing_frames(&self) -> u64 {
        self.missing
    }

    /// Frames waiting in the ring.
    pub fn buffered(&self) -> usize {
        self.ring.occupied_len() / 2
    }
}
