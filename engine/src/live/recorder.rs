//! Recording what is played: the audio thread pushes the samples it plays into a
//! preallocated ring; a writer thread pops them and writes a WAV file.

use super::LiveError;
use crate::wav::{SampleFormat, WavSink};
use ringbuf::traits::{Consumer, Observer, Producer, Split};
use ringbuf::{HeapCons, HeapProd, HeapRb};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

/// Seconds of audio the ring between the audio thread and the writer holds by default:
/// the writer may stall (slow disk) this long before samples are dropped.
pub const DEFAULT_RING_SECONDS: f32 = 4.0;

/// How often the writer thread drains the ring.
const WRITER_PERIOD: Duration = Duration::from_millis(20);

/// The audio thread's end of a recording: hand it to [`super::LiveOutput::start`].
/// Pushing never blocks or allocates; what does not fit is dropped and counted.
pub struct RecordTap {
    ring: HeapProd<f32>,
    dropped: Arc<AtomicU64>,
}

impl RecordTap {
    /// Appends interleaved stereo samples; whole frames only, so a full ring never
    /// swaps the channels. Samples that do not fit are counted as dropped. Audio thread
    /// (real-time safe).
    pub fn push(&mut self, interleaved: &[f32]) {
        let room = self.ring.vacant_len() & !1;
        let n = interleaved.len().min(room) & !1;
        let pushed = if n > 0 {
            self.ring.push_slice(&interleaved[..n])
        } else {
            0
        };
        let lost = interleaved.len() - pushed;
        if lost > 0 {
            self.dropped.fetch_add(lost as u64, Ordering::Relaxed);
        }
    }
}

/// What a finished recording holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordOutcome {
    /// The WAV files written (more than one past 4 GB; see [`WavSink`]).
    pub files: Vec<PathBuf>,
    /// Stereo frames written.
    pub frames: u64,
    /// Samples the audio thread could not push because the ring was full.
    pub dropped_samples: u64,
}

/// The control side of a recording: owns the writer thread. [`Recorder::finish`]
/// writes what is still in the ring and finalises the WAV; dropping a recorder
/// without finishing it discards the recording (no half-written file is left).
pub struct Recorder {
    thread: Option<JoinHandle<Result<Vec<PathBuf>, crate::wav::WavError>>>,
    stop: Arc<AtomicBool>,
    abort: Arc<AtomicBool>,
    dropped: Arc<AtomicU64>,
    written: Arc<AtomicU64>,
}

impl Recorder {
    /// Creates the WAV (at `dest`, `sample_rate`, `format`) and the ring
    /// ([`DEFAULT_RING_SECONDS`] long), starts the writer thread and returns the
    /// recorder with the tap for the audio thread. Control thread.
    pub fn start(
        dest: &Path,
        sample_rate: u32,
        format: SampleFormat,
    ) -> Result<(Recorder, RecordTap), LiveError> {
        Self::with_ring(dest, sample_rate, format, DEFAULT_RING_SECONDS)
    }

    /// Like [`Recorder::start`] with a ring of `ring_seconds`. Control thread.
    pub fn with_ring(
        dest: &Path,
        sample_rate: u32,
        format: SampleFormat,
        ring_seconds: f32,
    ) -> Result<(Recorder, RecordTap), LiveError> {
        let sink = WavSink::create(dest, sample_rate, format)?;
        let frames = ((ring_seconds.max(0.01) * sample_rate as f32) as usize).max(1024);
        let (prod, cons) = HeapRb::<f32>::new(2 * frames).split();
        let stop = Arc::new(AtomicBool::new(false));
        let abort = Arc::new(AtomicBool::new(false));
        let dropped = Arc::new(AtomicU64::new(0));
        let written = Arc::new(AtomicU64::new(0));
        let chunk = 2 * (sample_rate as usize / 10).max(256);
        let thread = {
            let (stop, abort, written) = (stop.clone(), abort.clone(), written.clone());
            std::thread::Builder::new()
                .name("isochord-recorder".into())
                .spawn(move || write_loop(sink, cons, chunk, &stop, &abort, &written))
                .map_err(|e| LiveError::Recorder(format!("cannot start the writer: {e}")))?
        };
        let tap = RecordTap {
            ring: prod,
            dropped: dropped.clone(),
        };
        let recorder = Recorder {
            thread: Some(thread),
            stop,
            abort,
            dropped,
            written,
        };
        Ok((recorder, tap))
    }

    /// Samples dropped so far because the ring was full. Any thread.
    pub fn dropped_samples(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// Stereo frames written to the file so far. Any thread.
    pub fn frames_written(&self) -> u64 {
        self.written.load(Ordering::Relaxed)
    }

    /// Writes what is left in the ring, finalises the WAV and moves it into place. Call
    /// after the stream has stopped ([`super::LiveOutput::stop`]): samples pushed after
    /// this may be lost. Control thread.
    pub fn finish(mut self) -> Result<RecordOutcome, LiveError> {
        self.stop.store(true, Ordering::Release);
        let thread = self.thread.take().expect("the writer runs until finished");
        let files = thread
            .join()
            .map_err(|_| LiveError::Recorder("the writer thread panicked".into()))??;
        Ok(RecordOutcome {
            files,
            frames: self.frames_written(),
            dropped_samples: self.dropped_samples(),
        })
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        if let Some(t) = self.thread.take() {
            self.abort.store(true, Ordering::Release);
            let _ = t.join();
        }
    }
}

fn write_loop(
    mut sink: WavSink,
    mut ring: HeapCons<f32>,
    chunk: usize,
    stop: &AtomicBool,
    abort: &AtomicBool,
    written: &AtomicU64,
) -> Result<Vec<PathBuf>, crate::wav::WavError> {
    let mut buf = vec![0.0f32; chunk];
    loop {
        if abort.load(Ordering::Acquire) {
            // dropping the sink removes its partial file
            return Ok(Vec::new());
        }
        // read the flag before draining: whatever was pushed before it was set is written
        let stopping = stop.load(Ordering::Acquire);
        loop {
            let n = ring.occupied_len().min(buf.len()) & !1;
            if n == 0 {
                break;
            }
            let got = ring.pop_slice(&mut buf[..n]);
            sink.write(&buf[..got])?;
            written.fetch_add((got / 2) as u64, Ordering::Relaxed);
        }
        if stopping {
            return sink.finish();
        }
        std::thread::sleep(WRITER_PERIOD);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_what_is_pushed_and_counts_what_does_not_fit() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rec.wav");
        // a 0.05 s ring at 8 kHz: 1024 frames (the minimum)
        let (rec, mut tap) = Recorder::with_ring(&path, 8000, SampleFormat::F32, 0.05).unwrap();
        let data: Vec<f32> = (0..2 * 500).map(|i| i as f32 / 1000.0).collect();
        tap.push(&data);
        // wait for the writer to drain it
        let t0 = std::time::Instant::now();
        while rec.frames_written() < 500 && t0.elapsed() < Duration::from_secs(5) {
            std::thread::sleep(Duration::from_millis(5));
        }
        // more than the ring holds at once: the rest is dropped, in whole frames
        let big = vec![0.25f32; 2 * 3000];
        tap.push(&big);
        assert_eq!(rec.dropped_samples(), 2 * (3000 - 1024));
        drop(tap);
        let out = rec.finish().unwrap();
        assert_eq!(out.files, vec![path.clone()]);
        assert_eq!(out.frames, 500 + 1024);
        let mut r = hound::WavReader::open(&path).unwrap();
        assert_eq!(r.duration(), 1524);
        let samples: Vec<f32> = r.samples::<f32>().map(|s| s.unwrap()).collect();
        assert_eq!(&samples[..1000], &data[..]);
        assert!(samples[1000..].iter().all(|&s| s == 0.25));
    }

    #[test]
    fn a_full_ring_never_splits_a_frame() {
        let (prod, mut cons) = HeapRb::<f32>::new(2 * 1024).split();
        let dropped = Arc::new(AtomicU64::new(0));
        let mut tap = RecordTap {
            ring: prod,
            dropped: dropped.clone(),
        };
        tap.push(&vec![0.5f32; 2 * 1023]);
        // room for one of these two frames
        tap.push(&[1.0, -1.0, 1.0, -1.0]);
        assert_eq!(dropped.load(Ordering::Relaxed), 2);
        assert_eq!(cons.occupied_len(), 2 * 1024);
        let mut all = vec![0.0f32; 2 * 1024];
        cons.pop_slice(&mut all);
        assert_eq!(&all[2 * 1023..], &[1.0, -1.0]);
    }

    #[test]
    fn a_dropped_recorder_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("gone.wav");
        let (rec, mut tap) = Recorder::start(&path, 8000, SampleFormat::F32).unwrap();
        tap.push(&[0.1; 200]);
        drop(rec);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}
