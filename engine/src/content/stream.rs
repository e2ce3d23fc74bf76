//! Streaming long recordings from disk: decoded, resampled and gain-adjusted a chunk at
//! a time into a ring the audio thread reads, so a long track holds a few seconds of
//! memory instead of its whole length.
//!
//! Streams belong to a [`StreamSet`]: one per loaded content, so each engine owns its
//! streams and hears only its own failures. A set's feeder thread (started with its
//! first stream) tops its rings up every 10 ms and ends once the set is dropped; an
//! offline render tops them up itself before each control tick
//! ([`StreamOpener::pump`]), so what it reads never depends on timing.

use super::decode::{DecodeError, PacketReader};
use audioadapter_buffers::direct::SequentialSliceOfVecs;
use isochord_dsp::stream::{StreamOpener, StreamReader};
use ringbuf::traits::{Observer, Producer, Split};
use ringbuf::{HeapProd, HeapRb};
use rubato::{Fft, FixedSync, Resampler};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Once, Weak};
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

/// A [`FileStream`] bound to the [`StreamSet`] that feeds it: what a loaded loop holds
/// as its [`StreamOpener`].
#[derive(Clone, Debug)]
pub struct SetStream {
    /// The recording.
    pub source: FileStream,
    /// The set its streams join.
    pub set: StreamSet,
}

impl StreamOpener for SetStream {
    fn open(&self) -> Option<StreamReader> {
        self.set.open(&self.source)
    }

    fn pump(&self) {
        self.set.pump();
    }
}

/// The streams of one loaded content (one engine): their jobs, their failures and the
/// feeder thread that keeps their rings filled. Clones share the set; the feeder ends
/// when the last clone is dropped. Control side.
#[derive(Clone, Debug, Default)]
pub struct StreamSet {
    inner: Arc<SetInner>,
}

struct SetInner {
    jobs: Mutex<Vec<StreamJob>>,
    failures: Mutex<Vec<StreamFailure>>,
    failure_count: AtomicUsize,
    feeder: Once,
}

impl Default for SetInner {
    fn default() -> Self {
        Self {
            jobs: Mutex::new(Vec::new()),
            failures: Mutex::new(Vec::new()),
            failure_count: AtomicUsize::new(0),
            feeder: Once::new(),
        }
    }
}

impl std::fmt::Debug for SetInner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamSet")
            .field("streams", &self.jobs.lock().map_or(0, |j| j.len()))
            .field("failures", &self.failure_count.load(Ordering::Acquire))
            .finish()
    }
}

impl StreamSet {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Opens a stream of `source` from its loop start, fills its ring, and starts the
    /// set's feeder if it is not running. Control thread.
    pub fn open(&self, source: &FileStream) -> Option<StreamReader> {
        let (prod, cons) = HeapRb::<f32>::new(2 * ring_frames(source.to_rate)).split();
        let mut job = StreamJob {
            source: source.clone(),
            ring: prod,
            reader: None,
            resampler: None,
            input: vec![Vec::new(), Vec::new()],
            pending: Vec::new(),
            pos: 0,
            failed: None,
        };
        job.fill(&self.inner);
        self.inner.jobs.lock().ok()?.push(job);
        self.start_feeder();
        Some(StreamReader::new(cons))
    }

    /// Tops up every open stream's ring (and forgets streams nobody reads any more).
    /// Returns how many streams are open. Called by the feeder thread and by offline
    /// renders before each control tick. Control side (decodes; never on the audio
    /// thread).
    pub fn pump(&self) -> usize {
        pump(&self.inner)
    }

    /// Streams open now.
    pub fn len(&self) -> usize {
        self.inner.jobs.lock().map_or(0, |j| j.len())
    }

    /// Whether no stream is open.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A watcher of this set's failures from now on.
    pub fn failures(&self) -> StreamFailures {
        StreamFailures {
            seen: self.inner.failure_count.load(Ordering::Acquire),
            set: Some(self.clone()),
        }
    }

    /// A handle that does not keep the set alive: to see that it (and with it its
    /// feeder thread) has ended.
    pub fn downgrade(&self) -> WeakStreamSet {
        WeakStreamSet(Arc::downgrade(&self.inner))
    }

    fn start_feeder(&self) {
        self.inner.feeder.call_once(|| {
            let weak = Arc::downgrade(&self.inner);
            let _ = std::thread::Builder::new()
                .name("isochord-stream-feeder".into())
                .spawn(move || feed_until_dropped(weak));
        });
    }
}

/// A handle that does not keep a [`StreamSet`] alive.
#[derive(Clone, Debug)]
pub struct WeakStreamSet(Weak<SetInner>);

impl WeakStreamSet {
    /// Whether the set still exists (someone holds it, or its feeder is mid-pump).
    pub fn is_alive(&self) -> bool {
        self.0.strong_count() > 0
    }
}

fn feed_until_dropped(set: Weak<SetInner>) {
    loop {
        match set.upgrade() {
            Some(inner) => {
                pump(&inner);
            }
            None => return,
        }
        std::thread::sleep(FEED_INTERVAL);
    }
}

fn pump(inner: &SetInner) -> usize {
    let Ok(mut jobs) = inner.jobs.lock() else {
        return 0;
    };
    jobs.retain(|j| j.ring.read_is_held());
    for j in jobs.iter_mut() {
        j.fill(inner);
    }
    jobs.len()
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
    /// Tops the ring up; a failure is recorded in `set`.
    fn fill(&mut self, set: &SetInner) {
        while self.failed.is_none() {
            if !self.pending.is_empty() {
                let pushed = self.ring.push_slice(&self.pending);
                self.pending.drain(..pushed);
                if !self.pending.is_empty() {
                    return; // full
                }
            }
            if let Err(e) = self.produce() {
                if let Ok(mut f) = set.failures.lock() {
                    f.push(StreamFailure {
                        path: self.source.path.clone(),
                        reason: e.to_string(),
                    });
                    set.failure_count.store(f.len(), Ordering::Release);
                }
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

/// Notices the failures of one [`StreamSet`]'s streams from the moment it is made
/// ([`StreamSet::failures`]): each failure is handed out once. Polling costs one atomic
/// load while nothing fails. Control side.
#[derive(Debug, Default)]
pub struct StreamFailures {
    seen: usize,
    set: Option<StreamSet>,
}

impl StreamFailures {
    /// A watcher of nothing (a session without streamed content).
    pub fn none() -> Self {
        Self::default()
    }

    /// Failures since the last call, in the order they happened.
    pub fn take_new(&mut self) -> Vec<StreamFailure> {
        let Some(set) = &self.set else {
            return Vec::new();
        };
        if set.inner.failure_count.load(Ordering::Acquire) <= self.seen {
            return Vec::new();
        }
        let new: Vec<StreamFailure> = set
            .inner
            .failures
            .lock()
            .map(|f| f.get(self.seen..).unwrap_or_default().to_vec())
            .unwrap_or_default();
        self.seen += new.len();
        new
    }
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
