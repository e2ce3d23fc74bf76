//! A live session: the control thread the library runs, what it tells the host while the
//! session plays ([`Update`]), and what the session left when it ended
//! ([`LiveSummary`]).
//!
//! Two ways to hear it:
//! - the engine opens the sound card ([`LiveSession::on_device`], with the `cpal`
//!   feature): the library owns the stream, reopens a lost device and meters what was
//!   played for the sound allowance;
//! - the host owns its audio callback ([`LiveSession::with_host_audio`]) and calls
//!   [`SessionAudio::render`] from it.
//!
//! Either way the host pushes the readings it gets from its own sensors (when the plan's
//! input is [`Input::Pushed`](super::Input::Pushed)), reads [`Update`]s, may
//! [`stop`](LiveSession::stop) the session (it fades out over
//! [`STOP_FADE_S`](crate::offline::STOP_FADE_S)), and ends it with
//! [`LiveSession::finish`], which returns the log's outcome, the profile update and the
//! report.

use super::host::{
    tick_frame, HostShared, Msg, SessionAudio, HOST_COMMAND_SLOTS, HOST_METER_SLOTS,
};
use super::plan::{Ended, Input, Pacing, SessionError, SessionPlan};
use super::push::SampleSender;
use crate::biometrics::signal::SensorData;
use crate::content::{StreamFailure, StreamFailures};
use crate::control::Controller;
use crate::policy::SessionEvent;
use crate::realtime::Telemetry;
use crossbeam_channel::{Receiver, Sender};
use isochord_dsp::{Command, Meter, Param, Soundscape};
use ringbuf::traits::{Consumer, Producer, Split};
use ringbuf::HeapRb;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Why the sound is fading out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FadeReason {
    /// The host stopped the session (Ctrl-C, [`LiveSession::stop`]).
    Interrupted,
    /// The session's own decision (a sleep fade on calm, the closing phase).
    Session,
    /// The planned end.
    End,
}

impl FadeReason {
    /// `interrupted`, `session` or `end`.
    pub fn name(self) -> &'static str {
        match self {
            FadeReason::Interrupted => "interrupted",
            FadeReason::Session => "session",
            FadeReason::End => "end",
        }
    }
}

/// Something that happened to the sound output (sessions on a device).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DeviceEvent {
    /// The device ran out of audio.
    Underrun,
    /// The device is gone (unplugged, server stopped); the session reopens it.
    DeviceLost(String),
    /// The system moved the stream to another device.
    Rerouted(String),
    /// The device stopped asking for audio; the session reopens it.
    Stalled,
    /// Another stream error.
    Error(String),
}

impl DeviceEvent {
    /// `underrun`, `device_lost`, `rerouted`, `stalled` or `stream_error`.
    pub fn name(&self) -> &'static str {
        match self {
            DeviceEvent::Underrun => "underrun",
            DeviceEvent::DeviceLost(_) => "device_lost",
            DeviceEvent::Rerouted(_) => "rerouted",
            DeviceEvent::Stalled => "stalled",
            DeviceEvent::Error(_) => "stream_error",
        }
    }

    /// The message that came with it.
    pub fn message(&self) -> Option<&str> {
        match self {
            DeviceEvent::DeviceLost(m) | DeviceEvent::Rerouted(m) | DeviceEvent::Error(m) => {
                Some(m)
            }
            _ => None,
        }
    }

    /// The device must be reopened.
    pub fn needs_reopen(&self) -> bool {
        matches!(self, DeviceEvent::DeviceLost(_) | DeviceEvent::Stalled)
    }
}

/// Output level over a span, from telemetry reports or segment meters.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Level {
    sum_sq: f64,
    reports: u64,
    peak: f32,
}

impl Level {
    /// Adds a telemetry report.
    pub fn add(&mut self, t: &Telemetry) {
        self.sum_sq += (t.rms as f64) * (t.rms as f64);
        self.reports += 1;
        self.peak = self.peak.max(t.peak);
    }

    /// Adds a meter of rendered output.
    pub fn add_meter(&mut self, m: &Meter) {
        if m.frames > 0 {
            self.sum_sq += m.sum_sq / (2 * m.frames) as f64;
            self.reports += 1;
            self.peak = self.peak.max(m.peak);
        }
    }

    /// Adds another span.
    pub fn merge(&mut self, other: &Level) {
        self.sum_sq += other.sum_sq;
        self.reports += other.reports;
        self.peak = self.peak.max(other.peak);
    }

    /// RMS level, dBFS (one decimal), if anything was measured.
    pub fn rms_dbfs(&self) -> Option<f64> {
        (self.reports > 0)
            .then(|| 20.0 * (self.sum_sq / self.reports as f64).sqrt().max(1e-6).log10())
            .map(round1)
    }

    /// Peak level, dBFS (one decimal), if anything was measured.
    pub fn peak_dbfs(&self) -> Option<f64> {
        (self.reports > 0).then(|| round1(20.0 * (self.peak as f64).max(1e-6).log10()))
    }
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

/// The session's state at a control tick, for a status line.
#[derive(Clone, Debug)]
pub struct SessionStatus {
    /// Session time, seconds.
    pub at_s: f64,
    /// Planned length, seconds.
    pub total_s: f64,
    /// The newest telemetry (sessions on a device).
    pub telemetry: Option<Telemetry>,
    /// Level over the current second.
    pub second: Level,
    /// Underruns so far.
    pub underruns: u32,
    /// Frames played.
    pub frames: u64,
    /// Share of real time the audio thread spends rendering.
    pub render_load: Option<f64>,
    /// What the controller is doing (phase, action, arousal, breath, allowance).
    pub text: Option<String>,
    /// A new second of session time began at this tick (a second's status).
    pub new_second: bool,
}

/// What a live session tells its host while it plays. Read on any thread.
#[derive(Clone, Debug)]
pub enum Update {
    /// A decision with its reason, an escalation, a sensor or safety notice.
    Event(SessionEvent),
    /// The sound began to fade out.
    FadeOut {
        /// Why.
        reason: FadeReason,
        /// Session time, seconds.
        at_s: f64,
        /// Length of the fade, seconds.
        seconds: f32,
    },
    /// Something happened to the sound output.
    Device {
        /// What.
        event: DeviceEvent,
        /// Session time, seconds.
        at_s: f64,
        /// Underruns so far.
        underruns: u32,
    },
    /// An attempt to reopen the device failed.
    ReopenFailed {
        /// The device tried.
        device: String,
        /// Attempt number, from 1.
        attempt: usize,
        /// Why it failed.
        message: String,
    },
    /// The device plays again after it was lost.
    Reopened {
        /// Session time, seconds.
        at_s: f64,
        /// Device id.
        device_id: String,
        /// Device name.
        device_name: String,
    },
    /// After repeated underruns the output was reopened with a larger buffer (it adds
    /// latency).
    BufferGrown {
        /// Session time, seconds.
        at_s: f64,
        /// Callback size before, frames.
        from: u32,
        /// Callback size now, frames.
        to: u32,
        /// Latency of one callback at the new size, milliseconds.
        latency_ms: f64,
        /// What happened, as the log has it.
        message: String,
    },
    /// The buffer could not grow; the session reopens the device.
    BufferGrowFailed {
        /// Session time, seconds.
        at_s: f64,
        /// Why.
        message: String,
    },
    /// The state at a control tick (10 a second).
    Status(SessionStatus),
}

/// How a live session ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum End {
    /// It played to its end.
    Completed,
    /// It was stopped (and faded out).
    Interrupted,
    /// The device failed and no other could be opened.
    DeviceFailed(String),
}

/// What a live session left when it ended.
#[derive(Debug)]
pub struct LiveSummary {
    /// How it ended.
    pub end: End,
    /// The sound had faded out when it stopped.
    pub faded_out: bool,
    /// Output level over the whole session.
    pub level: Level,
    /// Frames played.
    pub frames: u64,
    /// Sample rate, Hz.
    pub sample_rate: u32,
    /// How long it played, seconds (fade included).
    pub seconds: f64,
    /// Underruns (sessions on a device).
    pub underruns: u32,
    /// Frames of streamed recordings that did not arrive in time (silence played).
    pub stream_missing_frames: u64,
    /// Times the device was lost (and reopened, unless the session ended on it).
    pub device_losses: u32,
    /// Ticks whose commands reached the audio after their frame (host callbacks).
    pub late_ticks: u64,
    /// Streamed recordings that failed during the session.
    pub stream_failures: Vec<StreamFailure>,
    /// The outcome, profile update and report.
    pub ended: Ended,
    /// The recording of what was played, when one was asked for.
    #[cfg(feature = "cpal")]
    pub recorded: Option<crate::live::RecordOutcome>,
}

/// A running live session: see the [module documentation](crate::session). Its methods run on the
/// host's control thread (any thread but the audio thread).
pub struct LiveSession {
    pub(crate) updates: Receiver<Update>,
    pub(crate) stop: Arc<AtomicBool>,
    pub(crate) sender: Option<SampleSender>,
    pub(crate) params: super::params::ParamSender,
    pub(crate) thread: Option<JoinHandle<Result<LiveSummary, SessionError>>>,
    pub(crate) notes: Vec<String>,
    pub(crate) clock: SessionClock,
    #[cfg(feature = "cpal")]
    pub(crate) started: Option<super::live::Started>,
}

/// Where a live session's time comes from.
pub(crate) enum SessionClock {
    /// Frames rendered by the host's callback.
    Frames(Arc<HostShared>, f64),
    /// The wall clock from the device's first callback.
    #[cfg_attr(not(feature = "cpal"), allow(dead_code))]
    Wall(Instant),
}

impl LiveSession {
    /// Starts `plan` inside the host's own audio callback at `sample_rate`: returns the
    /// session (keep it on a control thread) and the [`SessionAudio`] to render from
    /// the callback. The library's control thread ticks the session on the clock of the
    /// frames rendered. Control thread.
    ///
    /// ```
    /// use isochord_engine::session::{Input, LiveSession, Pacing, SessionPlan, AdaptiveOptions};
    /// use isochord_engine::biometrics::signal::{Reading, SensorData, Value};
    /// use isochord_engine::biometrics::sources::SourceInfo;
    /// use isochord_engine::Preset;
    /// use std::time::Duration;
    ///
    /// let preset = Preset::find("relax").unwrap();
    /// let input = Input::Pushed {
    ///     info: SourceInfo { name: "watch".into(), format: "app", simulated: false, live: true },
    ///     pacing: Pacing::Recorded,
    /// };
    /// let plan = SessionPlan::adaptive(&preset, Duration::from_secs(5), 1, input,
    ///     &AdaptiveOptions::default()).unwrap().with_content(None);
    /// let (mut session, mut audio) = LiveSession::with_host_audio(plan, 8_000).unwrap();
    /// let hr = session.take_sender().unwrap();
    /// std::thread::spawn(move || {
    ///     for s in 0..10 {
    ///         hr.push(SensorData::Reading(Reading { time: s as f64, value: Value::HeartRate(70.0) }));
    ///     }
    /// });
    /// let mut buf = [0.0f32; 2 * 256];
    /// let mut frames = 0;
    /// while !audio.is_finished() {
    ///     let n = audio.render_ready(&mut buf); // the host's callback
    ///     if n == 0 { std::thread::yield_now() }
    ///     frames += n / 2;
    /// }
    /// let summary = session.finish().unwrap();
    /// assert_eq!(summary.frames, 5 * 8_000);
    /// assert_eq!(summary.late_ticks, 0);
    /// ```
    pub fn with_host_audio(
        mut plan: SessionPlan,
        sample_rate: u32,
    ) -> Result<(LiveSession, SessionAudio), SessionError> {
        let loaded = plan.load_content(sample_rate);
        let notes: Vec<String> = plan
            .notes()
            .iter()
            .cloned()
            .chain(loaded.notices.iter().map(|n| format!("warning: {n}")))
            .collect();
        let recorded = matches!(
            plan.input(),
            Some(Input::Pushed {
                pacing: Pacing::Recorded,
                ..
            })
        );
        let duration_s = plan.duration.as_secs_f64();
        let fade_s = plan.fade_s();
        // watching from before the streams open (with the soundscape)
        let stream_failures = loaded.streams.failures();
        let scape = Box::new(Soundscape::with_content(
            &plan.sound,
            &loaded.content,
            sample_rate as f32,
            plan.seed,
        ));
        let (controller, end, sender, params) =
            plan.live_controller(Instant::now(), &loaded.streams)?;
        let stop = Arc::new(AtomicBool::new(false));
        let shared = Arc::new(HostShared {
            ticks_ready: AtomicU64::new(0),
            frames: AtomicU64::new(0),
            total: AtomicU64::new(0),
            finished: AtomicBool::new(false),
            late: AtomicU64::new(0),
            stop: stop.clone(),
            interrupted: AtomicBool::new(false),
        });
        let (cmd_tx, cmd_rx) = HeapRb::<Msg>::new(HOST_COMMAND_SLOTS).split();
        let (meter_tx, meter_rx) = HeapRb::<Meter>::new(HOST_METER_SLOTS).split();
        let audio = SessionAudio::new(scape, duration_s, fade_s, cmd_rx, meter_tx, shared.clone());
        let (tx, rx) = crossbeam_channel::unbounded();
        let clock_shared = shared.clone();
        let control = HostControl {
            controller,
            shared,
            commands: cmd_tx,
            meters: meter_rx,
            updates: tx,
            sr: sample_rate as f64,
            total_s: duration_s,
            fade_start_s: duration_s - fade_s as f64,
            lookahead_ticks: if recorded { 0 } else { 2 },
            stream_failures,
        };
        let thread = std::thread::Builder::new()
            .name("isochord-session".into())
            .spawn(move || Ok(control.run(end)))
            .map_err(|e| SessionError::Failed(format!("cannot start the session thread: {e}")))?;
        Ok((
            LiveSession {
                updates: rx,
                stop,
                sender,
                params,
                thread: Some(thread),
                notes,
                clock: SessionClock::Frames(clock_shared, sample_rate as f64),
                #[cfg(feature = "cpal")]
                started: None,
            },
            audio,
        ))
    }

    /// Where to push readings, when the plan's input is
    /// [`Input::Pushed`](super::Input::Pushed): move it (or clones) into the threads
    /// that read the sensors. Handed out once; the input ends when it and its clones are
    /// dropped (a [`Pacing::Recorded`] session waits for readings until then).
    pub fn take_sender(&mut self) -> Option<SampleSender> {
        self.sender.take()
    }

    /// Pushes one reading stamped with session time (see [`SampleSender::push`]).
    /// Returns false when the session takes no pushed readings, has ended, or the sender
    /// was taken.
    pub fn push(&self, sample: SensorData) -> bool {
        self.sender.as_ref().is_some_and(|s| s.push(sample))
    }

    /// Closes the pushed input: the session logs that the input ended. Later pushes are
    /// refused. (Clones of the sender keep it open until they are dropped.)
    pub fn close_input(&mut self) {
        self.sender = None;
    }

    /// Sets `param` to `value` (clamped into its range) at the next control tick, as
    /// the host's own decision: the session logs it as an event of kind `host`. In an
    /// adaptive session the controller may move the parameter again at a later tick.
    /// Returns false for a value that is not finite, or once the session has ended.
    /// Any thread but the audio thread (it may allocate).
    pub fn set_param(&self, param: Param, value: f32) -> bool {
        self.params.set(param, value)
    }

    /// Asks the session to fade out (over [`STOP_FADE_S`](crate::offline::STOP_FADE_S))
    /// and end. Any thread.
    pub fn stop(&self) {
        self.stop.store(true, Ordering::Relaxed);
    }

    /// The flag [`LiveSession::stop`] sets, for a signal handler.
    pub fn stop_flag(&self) -> Arc<AtomicBool> {
        self.stop.clone()
    }

    /// Stops the session (fading out) on Ctrl-C. A second Ctrl-C while it fades is
    /// ignored. One handler per process: fails if another is installed.
    pub fn stop_on_ctrl_c(&self) -> Result<(), SessionError> {
        let stop = self.stop.clone();
        ctrlc::set_handler(move || stop.store(true, Ordering::Relaxed))
            .map_err(|e| SessionError::Failed(format!("cannot handle Ctrl-C: {e}")))
    }

    /// Session time now, seconds: what to stamp pushed readings with. In the host's
    /// callback it is the time of the frames rendered so far; on a device, the time since
    /// the device first asked for audio.
    pub fn time(&self) -> f64 {
        match &self.clock {
            SessionClock::Frames(shared, sr) => shared.frames.load(Ordering::Relaxed) as f64 / sr,
            SessionClock::Wall(start) => start.elapsed().as_secs_f64(),
        }
    }

    /// Warnings from before the start (an unusable model or profile, content left out).
    pub fn notes(&self) -> &[String] {
        &self.notes
    }

    /// The next update, waiting at most `timeout`; `None` on timeout or once the
    /// session has ended and every update was read.
    pub fn next_update(&self, timeout: Duration) -> Option<Update> {
        self.updates.recv_timeout(timeout).ok()
    }

    /// The channel of updates (for `select!` or iteration: it closes when the session
    /// ends).
    pub fn updates(&self) -> &Receiver<Update> {
        &self.updates
    }

    /// The session is still playing.
    pub fn is_running(&self) -> bool {
        self.thread.as_ref().is_some_and(|t| !t.is_finished())
    }

    /// Waits for the session to end ([`LiveSession::stop`] first to end it early) and
    /// returns what it left: the outcome, the profile update, the report.
    pub fn finish(mut self) -> Result<LiveSummary, SessionError> {
        self.sender = None;
        let thread = self.thread.take().expect("finished once");
        thread
            .join()
            .map_err(|_| SessionError::Failed("the session thread panicked".into()))?
    }
}

impl Drop for LiveSession {
    fn drop(&mut self) {
        if let Some(t) = self.thread.take() {
            self.stop.store(true, Ordering::Relaxed);
            self.sender = None;
            let _ = t.join();
        }
    }
}

/// The control thread of a session in the host's callback.
struct HostControl {
    controller: Box<dyn Controller>,
    shared: Arc<HostShared>,
    commands: ringbuf::HeapProd<Msg>,
    meters: ringbuf::HeapCons<Meter>,
    updates: Sender<Update>,
    sr: f64,
    total_s: f64,
    fade_start_s: f64,
    lookahead_ticks: u64,
    stream_failures: StreamFailures,
}

impl HostControl {
    fn run(mut self, end: super::plan::SessionEnd) -> LiveSummary {
        let mut cmds: Vec<Command> = Vec::with_capacity(64);
        let mut k = 0u64;
        let mut metered = 0u64;
        let mut whole = Level::default();
        let mut second = Level::default();
        let mut next_second = 1.0f64;
        let mut fading = false;
        let mut idle = 0u32;
        loop {
            let mut progressed = false;
            while let Some(m) = self.meters.try_pop() {
                self.controller.output(
                    m.frames as f64 / self.sr,
                    m.sum_sq / (2 * m.frames) as f64,
                    m.peak,
                );
                metered += m.frames;
                second.add_meter(&m);
                progressed = true;
            }
            let finished = self.shared.finished.load(Ordering::Acquire);
            if finished && self.meters.try_peek().is_none() {
                break;
            }
            if Arc::strong_count(&self.shared) <= 2 {
                // the host dropped its SessionAudio (the session's clock holds the
                // other reference): nothing will play any more
                break;
            }
            let f_k = tick_frame(k, self.sr);
            let total = self.shared.total.load(Ordering::Acquire);
            let due = if self.lookahead_ticks == 0 {
                metered >= f_k
            } else {
                let frames = self.shared.frames.load(Ordering::Acquire);
                frames + tick_frame(self.lookahead_ticks, self.sr) >= f_k
            };
            if due && f_k < total.max(1) && !finished {
                let t = f_k as f64 / self.sr;
                cmds.clear();
                self.controller.tick(t, &mut cmds);
                for c in &cmds {
                    if let Command::FadeOut(secs) = c {
                        if !fading {
                            fading = true;
                            let _ = self.updates.send(Update::FadeOut {
                                reason: FadeReason::Session,
                                at_s: t,
                                seconds: *secs,
                            });
                        }
                    }
                    self.send(Msg::Cmd(*c));
                }
                self.send(Msg::EndOfTick);
                self.shared.ticks_ready.store(k + 1, Ordering::Release);
                k += 1;
                for e in self.controller.take_events() {
                    let _ = self.updates.send(Update::Event(e));
                }
                if !fading && self.shared.interrupted.load(Ordering::Acquire) {
                    fading = true;
                    let _ = self.updates.send(Update::FadeOut {
                        reason: FadeReason::Interrupted,
                        at_s: t,
                        seconds: crate::offline::STOP_FADE_S,
                    });
                }
                if !fading && t >= self.fade_start_s {
                    fading = true;
                    let _ = self.updates.send(Update::FadeOut {
                        reason: FadeReason::End,
                        at_s: t,
                        seconds: (self.total_s - t).max(0.0) as f32,
                    });
                }
                let new_second = t >= next_second;
                let _ = self.updates.send(Update::Status(SessionStatus {
                    at_s: t,
                    total_s: self.total_s,
                    telemetry: None,
                    second,
                    underruns: 0,
                    frames: self.shared.frames.load(Ordering::Relaxed),
                    render_load: None,
                    text: self.controller.status_text(),
                    new_second,
                }));
                if new_second {
                    next_second += 1.0;
                    whole.merge(&second);
                    second = Level::default();
                }
                progressed = true;
            }
            if progressed {
                idle = 0;
            } else {
                idle = idle.saturating_add(1);
                if idle < 200 {
                    std::thread::yield_now();
                } else {
                    std::thread::sleep(Duration::from_micros(200));
                }
            }
        }
        whole.merge(&second);
        let frames = self.shared.frames.load(Ordering::Acquire);
        let seconds = frames as f64 / self.sr;
        self.controller.finish(seconds);
        let interrupted = self.shared.interrupted.load(Ordering::Acquire);
        LiveSummary {
            end: if interrupted {
                End::Interrupted
            } else {
                End::Completed
            },
            faded_out: true,
            level: whole,
            frames,
            sample_rate: self.sr as u32,
            seconds,
            underruns: 0,
            stream_missing_frames: 0,
            device_losses: 0,
            late_ticks: self.shared.late.load(Ordering::Relaxed),
            stream_failures: self.stream_failures.take_new(),
            ended: end.finish(seconds),
            #[cfg(feature = "cpal")]
            recorded: None,
        }
    }

    /// Pushes onto the command ring, waiting while it is full (the audio side empties it
    /// as it plays).
    fn send(&mut self, m: Msg) {
        let mut m = m;
        loop {
            match self.commands.try_push(m) {
                Ok(()) => return,
                Err(back) => {
                    if self.shared.finished.load(Ordering::Acquire) {
                        return;
                    }
                    m = back;
                    std::thread::sleep(Duration::from_micros(500));
                }
            }
        }
    }
}
