//! Streaming long recordings from disk: decoded, resampled and gain-adjusted a chunk at
//! a time into a ring the audio thread reads, so a long track holds a few seconds of
//! memory instead of its whole length.
//!
//! Every open stream is a job in one list. A feeder thread (started with the first
//! stream) tops every ring up every 10 ms; an offline render tops them up itself before
//! each control tick ([`pump_streams`]), so what it reads never depends on timing.

use super::decode::{DecodeError, PacketReader};
use audioadapter_buffers::direct::SequentialSliceOfVecs;
use isochord_dsp::stream::{StreamOpener, StreamReader};
use ringbuf::traits::{Observer, Producer, Split};
use ringbuf::{HeapProd, HeapRb};
use rubato::{Fft, FixedSync, Resampler};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, Once, OnceLock};
use std::time::Duration;

/// Seconds of audio each stream's ring holds.
pub const RING_SECONDS: f64 = 4.0;
/// How often the feeder thread tops the rings up.
const FEED_INTERVAL: Duration = Duration::from_millis(10);
/// Frames per resampler chunk.
const CHUNK: usize = 1024;

/// A recording streamed from disk as a loop between two points.
#[derive(Clone, Debug)]
pub struct FileStream {
    /// The file.
    pub path: PathBuf,
    /// The engine's rate, Hz.
    pub to_rate: u32,
    /// Linear gain (the loudness normalisation).
    pub gain: f32,
    /// Loop start, frames at the file's rate.
    pub start: u64,
    /// Loop end, frames at the file's rate (none: the end of the file).
    pub end: Option<u64>,
}

impl FileStream {
    /// Bytes of memory a stream holds while it plays (its ring).
    pub fn ring_bytes(&self) -> usize {
        ring_frames(self.to_rate) * 2 * core::mem::size_of::<f32>()
    }
}

fn ring_frames(rate: u32) -> usize {
    (RING_SECONDS * rate as f64) as usize
}

impl StreamOpener for FileStream {
    fn open(&self) -> Option<StreamReader> {
        let (prod, cons) = HeapRb::<f32>::new(2 * ring_frames(self.to_rate)).split();
        let mut job = StreamJob {
            source: self.clone(),
            ring: prod,
            reader: None,
            resampler: None,
            input: vec![Vec::new(), Vec::new()],
            pending: Vec::new(),
            pos: 0,
            failed: None,
        };
        job.fill();
        jobs().lock().ok()?.push(job);
        start_feeder();
        Some(StreamReader::new(cons))
    }
}

/// One open stream: its decoder, resampler and the producer end of its ring.
struct StreamJob {
    source: FileStream,
    ring: HeapProd<f32>,
    reader: Option<PacketReader>,
    resampler: Option<Fft<f32>>,
    /// Decoded frames at the file's rate waiting for a full resampler chunk.
    input: Vec<Vec<f32>>,
    /// Interleaved output waiting for room in the ring.
    pending: Vec<f32>,
    /// Frames read since the file's start.
    pos: u64,
    failed: Option<DecodeError>,
}

impl StreamJob {
    /// Tops the ring up.
    fn fill(&mut self) {
        while self.failed.is_none() {
            if !self.pending.is_empty() {
                let pushed = self.ring.push_slice(&self.pending);
                self.pending.drain(..pushed);
                if !self.pending.is_empty() {
                    return; // full
                }
            }
            if let Err(e) = self.produce() {
                record_failure(StreamFailure {
                    path: self.source.path.clone(),
                    reason: e.to_string(),
                });
                self.failed = Some(e);
            }
        }
    }

    /// Decodes until one resampler chunk's worth of output is pending.
    fn produce(&mut self) -> Result<(), DecodeError> {
        while self.input[0].len() < CHUNK {
            if self.reader.is_none() {
                let r = PacketReader::open_file(&self.source.path)?;
                self.pos = 0;
                self.reader = Some(r);
            }
            let reader = self.reader.as_mut().expect("opened above");
            let rate = reader.rate();
            let chunk = match reader.next_chunk()? {
                Some(c) => c,
                None => {
                    if self.pos <= self.source.start {
                        return Err(DecodeError::Corrupt(
                            "the loop start lies past the end".into(),
                        ));
                    }
                    self.reader = None; // the end: back to the loop start
                    continue;
                }
            };
            let frames = chunk.first().map_or(0, Vec::len) as u64;
            let (from, to) = (self.pos, self.pos + frames);
            self.pos = to;
            let lo = self.source.start.clamp(from, to) - from;
            let hi = self.source.end.unwrap_or(u64::MAX).clamp(from, to) - from;
            for (c, dst) in self.input.iter_mut().enumerate() {
                // mono feeds both sides; beyond two channels, the first two
                let src = &chunk[c.min(chunk.len() - 1)];
                dst.extend_from_slice(&src[lo as usize..hi as usize]);
            }
            if self.source.end.is_some_and(|e| to >= e) {
                self.reader = None; // the loop end
            }
            if self.resampler.is_none() && rate != self.source.to_rate {
                self.resampler = Some(
                    Fft::<f32>::new(
                        rate as usize,
                        self.source.to_rate as usize,
                        CHUNK,
                        2,
                        FixedSync::Input,
                    )
                    .map_err(|e| DecodeError::Unsupported(e.to_string()))?,
                );
            }
        }
        let block: Vec<Vec<f32>> = self
            .input
            .iter_mut()
            .map(|c| c.drain(..CHUNK).collect())
            .collect();
        let out = match self.resampler.as_mut() {
            None => block,
            Some(r) => {
                let input = SequentialSliceOfVecs::new(&block, 2, CHUNK)
                    .map_err(|e| DecodeError::Corrupt(e.to_string()))?;
                let n = r.output_frames_next();
                let mut out = vec![vec![0.0f32; n]; 2];
                let mut output = SequentialSliceOfVecs::new_mut(&mut out, 2, n)
                    .map_err(|e| DecodeError::Corrupt(e.to_string()))?;
                let (_, produced) = r
                    .process_into_buffer(&input, &mut output, None)
                    .map_err(|e| DecodeError::Corrupt(e.to_string()))?;
                for c in out.iter_mut() {
                    c.truncate(produced);
                }
                out
            }
        };
        let g = self.source.gain;
        for (l, r) in out[0].iter().zip(&out[1]) {
            self.pending.push(l * g);
            self.pending.push(r * g);
        }
        Ok(())
    }
}

fn jobs() -> &'static Mutex<Vec<StreamJob>> {
    static JOBS: OnceLock<Mutex<Vec<StreamJob>>> = OnceLock::new();
    JOBS.get_or_init(|| Mutex::new(Vec::new()))
}

/// Tops up every open stream's ring (and forgets streams nobody reads any more).
/// Returns how many streams are open. Called by the feeder thread and by offline renders
/// before each control tick. Control side (decodes; never on the audio thread).
pub fn pump_streams() -> usize {
    let Ok(mut jobs) = jobs().lock() else {
        return 0;
    };
    jobs.retain(|j| j.ring.read_is_held());
    for j in jobs.iter_mut() {
        j.fill();
    }
    jobs.len()
}

/// A streamed recording that stopped on an error: once what its ring holds has played,
/// it is silent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StreamFailure {
    /// The file.
    pub path: PathBuf,
    /// What went wrong.
    pub reason: String,
}

impl std::fmt::Display for StreamFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: streaming stopped ({}); the recording falls silent once what was read ahead \
             (at most {RING_SECONDS} s) has played",
            self.path.display(),
            self.reason
        )
    }
}

fn failures() -> &'static Mutex<Vec<StreamFailure>> {
    static FAILURES: OnceLock<Mutex<Vec<StreamFailure>>> = OnceLock::new();
    FAILURES.get_or_init(|| Mutex::new(Vec::new()))
}

static FAILURE_COUNT: AtomicUsize = AtomicUsize::new(0);

fn record_failure(failure: StreamFailure) {
    if let Ok(mut f) = failures().lock() {
        f.push(failure);
        FAILURE_COUNT.store(f.len(), Ordering::Release);
    }
}

/// Notices streamed recordings that fail from the moment it is made: each failure is
/// handed out once. Polling costs one atomic load while nothing fails. Control side.
#[derive(Debug)]
pub struct StreamFailures {
    seen: usize,
}

impl StreamFailures {
    /// Watches for failures from now on (earlier ones, of other sessions, are not its).
    pub fn from_now() -> Self {
        Self {
            seen: FAILURE_COUNT.load(Ordering::Acquire),
        }
    }

    /// Failures since the last call, in the order they happened.
    pub fn take_new(&mut self) -> Vec<StreamFailure> {
        if FAILURE_COUNT.load(Ordering::Acquire) <= self.seen {
            return Vec::new();
        }
        let new: Vec<StreamFailure> = failures()
            .lock()
            .map(|f| f.get(self.seen..).unwrap_or_default().to_vec())
            .unwrap_or_default();
        self.seen += new.len();
        new
    }
}

fn start_feeder() {
    static FEEDER: Once = Once::new();
    FEEDER.call_once(|| {
        let _ = std::thread::Builder::new()
            .name("isochord-stream-feeder".into())
            .spawn(|| loop {
                pump_streams();
                std::thread::sleep(FEED_INTERVAL);
            });
    });
}

/// Integrated loudness (EBU R128) of a file's frames `start..end` at its own rate,
/// decoded a packet at a time (memory stays small however long the file is), and its
/// length in frames. Control thread.
pub fn file_loudness(
    path: &std::path::Path,
    start: u64,
    end: Option<u64>,
) -> Result<(Option<f64>, u64), DecodeError> {
    let mut reader = PacketReader::open_file(path)?;
    let rate = reader.rate();
    let mut meter = ebur128::EbuR128::new(2, rate, ebur128::Mode::I)
        .map_err(|e| DecodeError::Unsupported(e.to_string()))?;
    let mut pos = 0u64;
    while let Some(chunk) = reader.next_chunk()? {
        let frames = chunk.first().map_or(0, Vec::len) as u64;
        let lo = start.clamp(pos, pos + frames) - pos;
        let hi = end.unwrap_or(u64::MAX).clamp(pos, pos + frames) - pos;
        pos += frames;
        if hi > lo {
            let l = &chunk[0][lo as usize..hi as usize];
            let r = &chunk[1.min(chunk.len() - 1)][lo as usize..hi as usize];
            meter
                .add_frames_planar_f32(&[l, r])
                .map_err(|e| DecodeError::Corrupt(e.to_string()))?;
        }
        if end.is_some_and(|e| pos >= e) {
            break;
        }
    }
    reader.check_damage()?;
    let l = meter.loudness_global().ok().filter(|l| l.is_finite());
    Ok((l, pos))
}
