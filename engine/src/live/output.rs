//! The output stream: plays a [`Renderer`] on a device, reports stream events, and moves
//! the renderer to another device when its device is lost.

use super::callback::{CallbackState, Parts, Shared};
use super::device::{DeviceChoice, OutputDevice};
use super::recorder::RecordTap;
use super::timeout::{with_limit, AUDIO_CALL_LIMIT};
use super::LiveError;
use crate::realtime::{new_engine, EngineHandle, Renderer};
use cpal::traits::{DeviceTrait, StreamTrait};
use cpal::{ErrorKind, SampleFormat};
use crossbeam_channel::{Receiver, Sender};
use isochord_dsp::SoundscapeConfig;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Callback size asked for when none is given, frames (43 ms at 48 kHz): it held with
/// no underrun under two busy loops on two shared cores where 1024 frames did not
/// (see the README's live-playback figures).
pub const DEFAULT_BUFFER_FRAMES: u32 = 2048;

/// The largest callback size [`LiveOutput::grow_after_underruns`] grows to, frames
/// (171 ms at 48 kHz).
pub const MAX_GROWN_BUFFER_FRAMES: u32 = 8192;

/// Underruns within [`UNDERRUN_SPAN`] that make [`LiveOutput::grow_after_underruns`]
/// double the buffer.
pub const UNDERRUNS_TO_GROW: usize = 2;

/// The span over which underruns are counted for growing the buffer.
pub const UNDERRUN_SPAN: Duration = Duration::from_secs(30);

/// How long the audio thread may go without asking for audio before the stream counts
/// as stalled.
const STALL_AFTER: Duration = Duration::from_secs(3);

/// How long a stream may report errors while playing nothing before it counts as lost.
const FAILING_AFTER: Duration = Duration::from_millis(1500);

/// Stream errors buffered between the audio side and the control side; later ones are
/// dropped until the control side catches up.
const EVENT_SLOTS: usize = 64;

/// How to play.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LiveOptions {
    /// The device.
    pub device: DeviceChoice,
    /// Callback size to ask for, frames; `None` takes the device's default. A size the
    /// device does not support falls back to its default.
    pub buffer_frames: Option<u32>,
}

impl Default for LiveOptions {
    fn default() -> Self {
        Self {
            device: DeviceChoice::Default,
            buffer_frames: Some(DEFAULT_BUFFER_FRAMES),
        }
    }
}

/// The callback size a stream runs with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BufferInfo {
    /// What was asked for.
    pub requested: Option<u32>,
    /// Whether the device accepted a fixed size (`false`: its default is in use).
    pub fixed: bool,
    /// The size the stream reports, frames, if it does.
    pub frames: Option<u32>,
}

/// Something that happened to the stream, seen on the control side.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LiveEvent {
    /// The device ran out of samples (an xrun); also counted in the engine's underruns.
    Underrun,
    /// The device went away or the stream became invalid; playback has stopped. Try
    /// [`LiveOutput::reopen`].
    DeviceLost(String),
    /// The host moved the stream to another device by itself; playback goes on.
    Rerouted(String),
    /// The device has not asked for audio for a while; playback is stuck. Try
    /// [`LiveOutput::reopen`].
    Stalled,
    /// Another stream error; playback goes on.
    Error(String),
}

impl LiveEvent {
    /// Whether playback has stopped and needs [`LiveOutput::reopen`].
    pub fn needs_reopen(&self) -> bool {
        matches!(self, LiveEvent::DeviceLost(_) | LiveEvent::Stalled)
    }
}

/// A running output stream and what it plays. Lives on the control thread; the
/// [`Renderer`] lives on the stream's audio thread until the stream stops, then comes
/// back here (so it can move to another device with its sound intact).
pub struct LiveOutput {
    stream: Option<cpal::Stream>,
    idle: Option<Parts>,
    device: OutputDevice,
    buffer: BufferInfo,
    requested: Option<u32>,
    sample_rate: u32,
    shared: Arc<Shared>,
    underruns: Arc<AtomicU32>,
    events_tx: Sender<cpal::Error>,
    events_rx: Receiver<cpal::Error>,
    parts_tx: Sender<Parts>,
    parts_rx: Receiver<Parts>,
    pending: VecDeque<LiveEvent>,
    last_frames: u64,
    last_progress: Instant,
    last_error: Option<String>,
    failing_since: Option<Instant>,
    lost: bool,
    underruns_seen: u32,
    underrun_times: VecDeque<Instant>,
}

/// The buffer grew: from and to (frames), and the latency it now adds.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BufferGrowth {
    /// Callback size before, frames.
    pub from: u32,
    /// Callback size now, frames.
    pub to: u32,
    /// Latency of one callback at the new size, milliseconds.
    pub latency_ms: f64,
}

impl std::fmt::Debug for LiveOutput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveOutput")
            .field("device", &self.device)
            .field("buffer", &self.buffer)
            .field("playing", &self.is_playing())
            .finish()
    }
}

impl LiveOutput {
    /// Opens the device `options` names, builds an engine for `config` at the device's
    /// native rate and starts playing it: the one-call way in. Control thread.
    pub fn play(
        config: &SoundscapeConfig,
        seed: u64,
        options: &LiveOptions,
    ) -> Result<(LiveOutput, EngineHandle), LiveError> {
        let device = OutputDevice::open(&options.device)?;
        let (handle, renderer) = new_engine(config, device.sample_rate() as f32, seed);
        let live = LiveOutput::start(device, renderer, None, options.buffer_frames)?;
        Ok((live, handle))
    }

    /// Starts playing `renderer` on `device`, pushing what is played to `record` if
    /// given. The renderer should be built at [`OutputDevice::sample_rate`]; if not, the
    /// device is asked for the renderer's rate. `buffer_frames` is the callback size to
    /// ask for (`None`: the device's default). Control thread.
    pub fn start(
        device: OutputDevice,
        renderer: Renderer,
        record: Option<RecordTap>,
        buffer_frames: Option<u32>,
    ) -> Result<LiveOutput, LiveError> {
        let sample_rate = renderer.sample_rate() as u32;
        let device = device.at_rate(sample_rate)?;
        let underruns = renderer.underrun_counter();
        let (events_tx, events_rx) = crossbeam_channel::bounded(EVENT_SLOTS);
        let (parts_tx, parts_rx) = crossbeam_channel::bounded(1);
        let mut live = LiveOutput {
            stream: None,
            idle: Some(Parts {
                renderer,
                tap: record,
            }),
            device,
            buffer: BufferInfo {
                requested: buffer_frames,
                fixed: false,
                frames: None,
            },
            requested: buffer_frames,
            sample_rate,
            shared: Arc::new(Shared::new(Instant::now())),
            underruns,
            events_tx,
            events_rx,
            parts_tx,
            parts_rx,
            pending: VecDeque::new(),
            last_frames: 0,
            last_progress: Instant::now(),
            last_error: None,
            failing_since: None,
            lost: false,
            underruns_seen: 0,
            underrun_times: VecDeque::new(),
        };
        live.underruns_seen = live.underruns();
        live.open()?;
        Ok(live)
    }

    fn open(&mut self) -> Result<(), LiveError> {
        let fixed = self
            .requested
            .filter(|&n| match self.device.buffer_range() {
                Some((min, max)) => (min..=max).contains(&n),
                None => n > 0,
            });
        let mut attempts: Vec<cpal::BufferSize> = Vec::with_capacity(2);
        if let Some(n) = fixed {
            attempts.push(cpal::BufferSize::Fixed(n));
        }
        attempts.push(cpal::BufferSize::Default);
        let mut last_err = None;
        for size in attempts {
            let parts = match self.take_parts() {
                Ok(p) => p,
                Err(e) => return Err(last_err.unwrap_or(e)),
            };
            match self.build(parts, size) {
                Ok(stream) => {
                    self.buffer = BufferInfo {
                        requested: self.requested,
                        fixed: matches!(size, cpal::BufferSize::Fixed(_)),
                        frames: stream.buffer_size().ok(),
                    };
                    self.stream = Some(stream);
                    self.lost = false;
                    self.last_error = None;
                    self.failing_since = None;
                    self.last_progress = Instant::now();
                    self.last_frames = self.frames_played();
                    return Ok(());
                }
                // the renderer is stuck with an audio system that stopped answering
                Err(e @ LiveError::NoAnswer { .. }) => return Err(e),
                Err(e) => last_err = Some(e),
            }
        }
        Err(last_err.expect("at least one attempt"))
    }

    /// The renderer and tap, whether idle here or on their way back from a stream.
    fn take_parts(&mut self) -> Result<Parts, LiveError> {
        if let Some(p) = self.idle.take() {
            return Ok(p);
        }
        self.parts_rx
            .recv_timeout(AUDIO_CALL_LIMIT)
            .map_err(|_| LiveError::StopTimeout)
    }

    /// Builds and starts a stream playing `parts`. If it fails, the parts come back to
    /// `idle` (unless the audio system stopped answering, which loses them).
    fn build(&mut self, parts: Parts, size: cpal::BufferSize) -> Result<cpal::Stream, LiveError> {
        let config = self.device.stream_config(size);
        let state = CallbackState::new(
            parts,
            config.channels,
            self.shared.clone(),
            self.parts_tx.clone(),
        );
        let device = self.device.device().clone();
        let id = self.device.id().to_string();
        let format = self.device.sample_format();
        let on_error = error_callback(self.events_tx.clone(), self.underruns.clone());
        let what = format!("opening a stream on `{id}`");
        let built = with_limit(AUDIO_CALL_LIMIT, move || {
            build_stream(&device, &id, config, format, state, on_error)
        });
        match built {
            Some(Ok(stream)) => Ok(stream),
            Some(Err(e)) => {
                // the callback state was dropped with the failed stream: the parts came
                // back
                self.idle = self.parts_rx.try_recv().ok();
                Err(e)
            }
            None => Err(LiveError::no_answer(what)),
        }
    }

    /// Stops the current stream (if any) and plays the same renderer on the device
    /// `choice` names, at the same sample rate. On failure nothing plays, the renderer is
    /// kept, and reopening can be tried again. Control thread.
    pub fn reopen(&mut self, choice: &DeviceChoice) -> Result<(), LiveError> {
        self.halt();
        let device = OutputDevice::open(choice)?.at_rate(self.sample_rate)?;
        self.device = device;
        // events of the old stream are of no interest any more
        while self.events_rx.try_recv().is_ok() {}
        self.pending.clear();
        self.open()
    }

    /// Stops the stream and takes the renderer back, if it comes back in time.
    fn halt(&mut self) {
        if let Some(stream) = self.stream.take() {
            close(stream);
        }
        if self.idle.is_none() {
            self.idle = self.parts_rx.recv_timeout(AUDIO_CALL_LIMIT).ok();
        }
    }

    /// The next stream event, if any. Never blocks. Control thread.
    ///
    /// Bursts are condensed: one [`LiveEvent::Underrun`] per call however many xruns
    /// arrived (the count is in [`LiveOutput::underruns`]), and an error repeating the
    /// previous one is not reported again until audio flows. A stream that keeps failing
    /// while no audio flows is reported as [`LiveEvent::DeviceLost`], and one that has not
    /// asked for audio for a few seconds as [`LiveEvent::Stalled`].
    pub fn next_event(&mut self) -> Option<LiveEvent> {
        if let Some(e) = self.pending.pop_front() {
            return Some(e);
        }
        let frames = self.frames_played();
        let now = Instant::now();
        if frames != self.last_frames || self.stream.is_none() {
            self.last_frames = frames;
            self.last_progress = now;
            self.last_error = None;
            self.failing_since = None;
        }
        let mut underrun = false;
        for e in self.events_rx.try_iter().take(EVENT_SLOTS) {
            match translate(e) {
                LiveEvent::Underrun => underrun = true,
                LiveEvent::Error(m) => {
                    self.failing_since.get_or_insert(now);
                    if self.last_error.as_deref() != Some(m.as_str()) {
                        self.last_error = Some(m.clone());
                        self.pending.push_back(LiveEvent::Error(m));
                    }
                }
                e => {
                    if e.needs_reopen() {
                        self.lost = true;
                    }
                    self.pending.push_back(e);
                }
            }
        }
        if underrun {
            self.pending.push_front(LiveEvent::Underrun);
        }
        if !self.lost && self.stream.is_some() {
            let quiet = now.duration_since(self.last_progress);
            if self.failing_since.is_some() && quiet > FAILING_AFTER {
                self.lost = true;
                let why = self.last_error.clone().unwrap_or_default();
                self.pending.push_back(LiveEvent::DeviceLost(format!(
                    "the stream keeps failing and plays nothing: {why}"
                )));
            } else if quiet > STALL_AFTER {
                self.lost = true;
                self.pending.push_back(LiveEvent::Stalled);
            }
        }
        self.pending.pop_front()
    }

    /// Whether a stream is open and has not been reported lost or stalled.
    pub fn is_playing(&self) -> bool {
        self.stream.is_some() && !self.lost
    }

    /// Stops playing and returns the renderer, if the audio thread handed it back in
    /// time. Dropping the output stops it too. After this no more samples reach the
    /// recording tap. Control thread.
    pub fn stop(mut self) -> Option<Renderer> {
        self.halt();
        self.idle.take().map(|p| p.renderer)
    }

    /// Frames the device has been given since the output started. Any thread.
    pub fn frames_played(&self) -> u64 {
        self.shared.frames.load(Ordering::Relaxed)
    }

    /// Callbacks so far.
    pub fn callbacks(&self) -> u64 {
        self.shared.callbacks.load(Ordering::Relaxed)
    }

    /// When the device first asked for audio (the first buffer was rendered), if it has.
    pub fn first_callback(&self) -> Option<Instant> {
        match self.shared.first_callback_ns.load(Ordering::Relaxed) {
            0 => None,
            ns => Some(self.shared.epoch + Duration::from_nanos(ns - 1)),
        }
    }

    /// Largest callback seen, frames.
    pub fn largest_callback(&self) -> u32 {
        self.shared.largest_callback.load(Ordering::Relaxed)
    }

    /// Underruns (xruns) the device reported since the engine started.
    pub fn underruns(&self) -> u32 {
        self.underruns.load(Ordering::Relaxed)
    }

    /// The device's id.
    pub fn device_id(&self) -> &str {
        self.device.id()
    }

    /// The device's name.
    pub fn device_name(&self) -> &str {
        self.device.name()
    }

    /// Sample rate, Hz.
    pub fn sample_rate(&self) -> u32 {
        self.sample_rate
    }

    /// Channels the device is fed.
    pub fn channels(&self) -> u16 {
        self.device.channels()
    }

    /// The device's sample format.
    pub fn sample_format(&self) -> SampleFormat {
        self.device.sample_format()
    }

    /// The callback size in use.
    pub fn buffer(&self) -> BufferInfo {
        self.buffer
    }

    /// Latency one callback adds at the size in use, milliseconds (`None` when the
    /// device does not say its size).
    pub fn buffer_latency_ms(&self) -> Option<f64> {
        self.buffer
            .frames
            .map(|n| 1000.0 * n as f64 / self.sample_rate as f64)
    }

    /// Grows the buffer after repeated underruns: when [`UNDERRUNS_TO_GROW`] underruns
    /// came within [`UNDERRUN_SPAN`] (and none since the last growth was acted on), the
    /// stream is reopened on the same device with twice the callback size, up to
    /// [`MAX_GROWN_BUFFER_FRAMES`] and the device's largest (twice the size asked for;
    /// a device may grant less). The reopening itself is
    /// one short gap; the renderer and its sound carry on. Returns the growth, if any.
    /// Call it from the control loop, after [`LiveOutput::next_event`]. Control thread.
    pub fn grow_after_underruns(&mut self) -> Result<Option<BufferGrowth>, LiveError> {
        let now = Instant::now();
        let count = self.underruns();
        let new = count.saturating_sub(self.underruns_seen);
        self.underruns_seen = count;
        for _ in 0..new.min(64) {
            self.underrun_times.push_back(now);
        }
        while self
            .underrun_times
            .front()
            .is_some_and(|t| now.duration_since(*t) > UNDERRUN_SPAN)
        {
            self.underrun_times.pop_front();
        }
        if self.underrun_times.len() < UNDERRUNS_TO_GROW || !self.is_playing() {
            return Ok(None);
        }
        // double what was asked for (a device may grant less than it is asked, so
        // doubling what it granted could fall short of double)
        let asked = self
            .requested
            .or(self.buffer.frames)
            .unwrap_or(DEFAULT_BUFFER_FRAMES)
            .max(1);
        let current = self.buffer.frames.unwrap_or(asked);
        let ceiling = self
            .device
            .buffer_range()
            .map_or(MAX_GROWN_BUFFER_FRAMES, |(_, max)| {
                max.min(MAX_GROWN_BUFFER_FRAMES)
            });
        let next = (asked.saturating_mul(2)).min(ceiling);
        if next <= asked {
            self.underrun_times.clear();
            return Ok(None);
        }
        self.halt();
        self.requested = Some(next);
        self.open()?;
        self.underrun_times.clear();
        self.underruns_seen = self.underruns();
        Ok(Some(BufferGrowth {
            from: current,
            to: self.buffer.frames.unwrap_or(next),
            latency_ms: 1000.0 * self.buffer.frames.unwrap_or(next) as f64
                / self.sample_rate as f64,
        }))
    }
}

/// A stream event as a session event at session time `time` (for the session log and
/// the report): underruns (a gap the listener heard; `underruns` is the count so far),
/// device losses and stalls (flagged for review), reroutes and other stream errors.
/// Control thread.
pub fn playback_event(event: &LiveEvent, time: f64, underruns: u32) -> crate::policy::SessionEvent {
    use crate::policy::{EventKind, SessionEvent};
    let e = |m: String| SessionEvent::new(time, EventKind::Playback, m);
    match event {
        LiveEvent::Underrun => e(format!(
            "output underrun ({underruns} so far): the device ran out of samples and the listener heard a gap"
        )),
        LiveEvent::DeviceLost(why) => e(format!("output device lost: {why}")).for_review(),
        LiveEvent::Stalled => {
            e("the output device stopped asking for audio (stalled)".into()).for_review()
        }
        LiveEvent::Rerouted(to) => e(format!("the system moved the output to {to}")),
        LiveEvent::Error(m) => e(format!("output error: {m}")),
    }
}

impl Drop for LiveOutput {
    fn drop(&mut self) {
        if let Some(stream) = self.stream.take() {
            close(stream);
        }
    }
}

/// Closes a stream, giving up after a few seconds if the audio system does not answer
/// (the stream is then left to a helper thread).
fn close(stream: cpal::Stream) {
    let _ = with_limit(AUDIO_CALL_LIMIT, move || drop(stream));
}

/// Builds a stream of the device's sample format around `state` and starts it. Runs on
/// a helper thread (see [`with_limit`]).
fn build_stream(
    device: &cpal::Device,
    id: &str,
    config: cpal::StreamConfig,
    format: SampleFormat,
    state: CallbackState,
    on_error: impl FnMut(cpal::Error) + Send + 'static,
) -> Result<cpal::Stream, LiveError> {
    macro_rules! build_as {
        ($t:ty) => {
            device.build_output_stream::<$t, _, _>(
                config,
                {
                    let mut state = state;
                    move |out: &mut [$t], _: &cpal::OutputCallbackInfo| state.fill(out)
                },
                on_error,
                Some(AUDIO_CALL_LIMIT),
            )
        };
    }
    let built = match format {
        SampleFormat::F32 => build_as!(f32),
        SampleFormat::F64 => build_as!(f64),
        SampleFormat::I8 => build_as!(i8),
        SampleFormat::I16 => build_as!(i16),
        SampleFormat::I24 => build_as!(cpal::I24),
        SampleFormat::I32 => build_as!(i32),
        SampleFormat::I64 => build_as!(i64),
        SampleFormat::U8 => build_as!(u8),
        SampleFormat::U16 => build_as!(u16),
        SampleFormat::U24 => build_as!(cpal::U24),
        SampleFormat::U32 => build_as!(u32),
        SampleFormat::U64 => build_as!(u64),
        other => {
            return Err(LiveError::UnsupportedFormat {
                device: id.to_string(),
                format: other.to_string(),
            })
        }
    };
    let stream = built.map_err(|e| LiveError::device(id, e))?;
    stream.play().map_err(|e| LiveError::device(id, e))?;
    Ok(stream)
}

/// The stream's error callback: counts xruns and passes every error to the control side
/// without blocking (a full channel drops it).
fn error_callback(
    events: Sender<cpal::Error>,
    underruns: Arc<AtomicU32>,
) -> impl FnMut(cpal::Error) + Send + 'static {
    move |e: cpal::Error| {
        if e.kind() == ErrorKind::Xrun {
            underruns.fetch_add(1, Ordering::Relaxed);
        }
        let _ = events.try_send(e);
    }
}

fn translate(e: cpal::Error) -> LiveEvent {
    match e.kind() {
        ErrorKind::Xrun => LiveEvent::Underrun,
        ErrorKind::DeviceNotAvailable
        | ErrorKind::StreamInvalidated
        | ErrorKind::HostUnavailable => LiveEvent::DeviceLost(e.to_string()),
        ErrorKind::DeviceChanged => LiveEvent::Rerouted(e.to_string()),
        _ => LiveEvent::Error(e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_translate_to_events() {
        assert_eq!(translate(ErrorKind::Xrun.into()), LiveEvent::Underrun);
        assert!(translate(ErrorKind::DeviceNotAvailable.into()).needs_reopen());
        assert!(translate(ErrorKind::StreamInvalidated.into()).needs_reopen());
        assert!(!translate(ErrorKind::DeviceChanged.into()).needs_reopen());
        assert_eq!(
            translate(cpal::Error::with_message(ErrorKind::BackendError, "boom")),
            LiveEvent::Error("boom".into())
        );
    }

    #[test]
    fn the_error_callback_counts_xruns_and_never_blocks() {
        let (tx, rx) = crossbeam_channel::bounded(EVENT_SLOTS);
        let underruns = Arc::new(AtomicU32::new(0));
        let mut cb = error_callback(tx, underruns.clone());
        for _ in 0..(EVENT_SLOTS + 10) {
            cb(ErrorKind::Xrun.into());
        }
        assert_eq!(underruns.load(Ordering::Relaxed), EVENT_SLOTS as u32 + 10);
        assert_eq!(rx.len(), EVENT_SLOTS);
    }
}
