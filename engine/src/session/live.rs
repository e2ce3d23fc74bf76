//! Sessions on the sound card: the engine opens the device, and the library's control
//! thread ticks the session at [`CONTROL_RATE_HZ`] against wall-clock session time,
//! sends the commands, meters what was played for the sound allowance, fades out (at the
//! end, on a stop), and reopens a lost device: the same one a few times, then the
//! default one. A device lost during the closing fade is reopened too, so the fade is
//! heard (and recorded) to its end.

use super::plan::{SessionError, SessionPlan};
use super::run::{
    DeviceEvent, End, FadeReason, Level, LiveSession, LiveSummary, SessionStatus, Update,
};
use crate::control::Controller;
use crate::live::{
    playback_event, BufferGrowth, BufferInfo, DeviceChoice, LiveError, LiveEvent, LiveOutput,
    OutputDevice, Recorder, DEFAULT_BUFFER_FRAMES,
};
use crate::offline::STOP_FADE_S;
use crate::policy::{EventKind, SessionEvent};
use crate::realtime::{new_engine_with_content, EngineHandle, Telemetry};
use crate::{SampleFormat, CONTROL_RATE_HZ};
use crossbeam_channel::Sender;
use isochord_dsp::Command;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long after the planned end the session stops even if the fade-out was never
/// confirmed by telemetry.
const FADE_GRACE: Duration = Duration::from_millis(1500);
/// How long to wait for the device to ask for its first buffer.
const FIRST_AUDIO_TIMEOUT: Duration = Duration::from_secs(3);
/// Pause between attempts to reopen a lost device.
const REOPEN_PAUSE: Duration = Duration::from_millis(500);
/// Attempts on the same device before falling back to the default one.
const REOPEN_SAME: usize = 3;

/// How a session plays on the sound card.
#[derive(Clone, Debug)]
pub struct DeviceOptions {
    /// The device.
    pub device: DeviceChoice,
    /// Callback size to ask for, frames (`None`: the device's default).
    pub buffer_frames: Option<u32>,
    /// Also record exactly what is played to this WAV file (32-bit float).
    pub record: Option<PathBuf>,
}

impl Default for DeviceOptions {
    fn default() -> Self {
        DeviceOptions {
            device: DeviceChoice::Default,
            buffer_frames: Some(DEFAULT_BUFFER_FRAMES),
            record: None,
        }
    }
}

/// How a session on a device started.
#[derive(Clone, Debug)]
pub struct Started {
    /// Device id.
    pub device_id: String,
    /// Device name.
    pub device_name: String,
    /// Sample rate, Hz.
    pub sample_rate: u32,
    /// Channels of the device.
    pub channels: u16,
    /// The device's sample format.
    pub sample_format: String,
    /// The callback size.
    pub buffer: BufferInfo,
    /// When the device first asked for audio (the session clock starts there).
    pub first_audio: Option<Instant>,
    /// Milliseconds spent opening the device, building the engine, starting the stream.
    pub startup_ms: (f64, f64, f64),
}

fn ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 1e4).round() / 10.0
}

impl LiveSession {
    /// Opens the device, builds the engine at its native rate (content loaded at that
    /// rate), starts the stream and the session's control thread. Returns once the
    /// device has asked for its first audio (or after 3 s). Control thread.
    ///
    /// ```no_run
    /// use isochord_engine::session::{DeviceOptions, LiveSession, SessionPlan, Update};
    /// use isochord_engine::Preset;
    /// use std::time::Duration;
    ///
    /// let preset = Preset::find("relax")?;
    /// let plan = SessionPlan::fixed(&preset, Duration::from_secs(60), 1);
    /// let session = LiveSession::on_device(plan, &DeviceOptions::default())?;
    /// session.stop_on_ctrl_c()?;
    /// while let Ok(update) = session.updates().recv() {
    ///     if let Update::Event(e) = update {
    ///         println!("{e}");
    ///     }
    /// }
    /// let summary = session.finish()?;
    /// println!("played {:.0} s", summary.seconds);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn on_device(
        mut plan: SessionPlan,
        options: &DeviceOptions,
    ) -> Result<LiveSession, SessionError> {
        let t0 = Instant::now();
        let device = OutputDevice::open(&options.device)?;
        let device_ms = ms(t0.elapsed());
        let rate = device.sample_rate();
        let t0 = Instant::now();
        let loaded = plan.load_content(rate);
        let notes: Vec<String> = plan
            .notes()
            .iter()
            .cloned()
            .chain(loaded.notices.iter().map(|n| format!("warning: {n}")))
            .collect();
        // watching from before the streams open (with the engine)
        let stream_failures = loaded.streams.failures();
        let (handle, renderer) =
            new_engine_with_content(&plan.sound, &loaded.content, rate as f32, plan.seed);
        let engine_ms = ms(t0.elapsed());
        let (recorder, tap) = match &options.record {
            Some(path) => {
                let (r, t) = Recorder::start(path, rate, SampleFormat::F32)?;
                (Some(r), Some(t))
            }
            None => (None, None),
        };
        let t0 = Instant::now();
        let live = LiveOutput::start(device, renderer, tap, options.buffer_frames)?;
        let stream_ms = ms(t0.elapsed());
        let waited = Instant::now();
        while live.first_callback().is_none() && waited.elapsed() < FIRST_AUDIO_TIMEOUT {
            std::thread::sleep(Duration::from_millis(1));
        }
        let first = live.first_callback();
        let session_start = first.unwrap_or_else(Instant::now);
        let started = Started {
            device_id: live.device_id().to_string(),
            device_name: live.device_name().to_string(),
            sample_rate: rate,
            channels: live.channels(),
            sample_format: live.sample_format().to_string(),
            buffer: live.buffer(),
            first_audio: first,
            startup_ms: (device_ms, engine_ms, stream_ms),
        };
        let duration = plan.duration;
        let fade_s = plan.fade_s();
        let (controller, end, sender, params) =
            plan.live_controller(session_start, &loaded.streams)?;
        let stop = Arc::new(AtomicBool::new(false));
        let (tx, rx) = crossbeam_channel::unbounded();
        let run = DeviceRun {
            rate,
            duration,
            fade_s,
            choice: options.device.clone(),
            session_start,
        };
        let stop2 = stop.clone();
        let thread = std::thread::Builder::new()
            .name("isochord-session".into())
            .spawn(move || {
                let mut live = live;
                let mut handle = handle;
                let mut controller = controller;
                let outcome = run.run(&mut live, &mut handle, controller.as_mut(), &stop2, &tx);
                let seconds = session_start.elapsed().as_secs_f64();
                controller.finish(seconds);
                // stop the stream before finishing the recording: nothing reaches the
                // tap after this
                let frames = live.frames_played();
                let underruns = live.underruns();
                drop(live.stop());
                let recorded = match recorder {
                    Some(r) => Some(r.finish()?),
                    None => None,
                };
                let mut end = end;
                end.set_report_wav(recorded.as_ref().and_then(|r| r.files.first().cloned()));
                let mut stream_failures = stream_failures;
                Ok(LiveSummary {
                    end: outcome.end,
                    faded_out: outcome.faded_out,
                    level: outcome.level,
                    frames,
                    sample_rate: rate,
                    seconds,
                    underruns,
                    stream_missing_frames: outcome.stream_missing_frames,
                    device_losses: outcome.device_losses,
                    late_ticks: 0,
                    stream_failures: stream_failures.take_new(),
                    ended: end.finish(seconds),
                    recorded,
                })
            })
            .map_err(|e| SessionError::Failed(format!("cannot start the session thread: {e}")))?;
        Ok(LiveSession {
            updates: rx,
            stop,
            sender,
            params,
            thread: Some(thread),
            notes,
            clock: super::run::SessionClock::Wall(session_start),
            started: Some(started),
        })
    }

    /// How the session on a device started (`None` for sessions in the host's
    /// callback).
    pub fn started(&self) -> Option<&Started> {
        self.started.as_ref()
    }
}

impl From<LiveEvent> for DeviceEvent {
    fn from(e: LiveEvent) -> DeviceEvent {
        match e {
            LiveEvent::Underrun => DeviceEvent::Underrun,
            LiveEvent::DeviceLost(m) => DeviceEvent::DeviceLost(m),
            LiveEvent::Rerouted(m) => DeviceEvent::Rerouted(m),
            LiveEvent::Stalled => DeviceEvent::Stalled,
            LiveEvent::Error(m) => DeviceEvent::Error(m),
        }
    }
}

impl From<&DeviceEvent> for LiveEvent {
    fn from(e: &DeviceEvent) -> Self {
        match e.clone() {
            DeviceEvent::Underrun => LiveEvent::Underrun,
            DeviceEvent::DeviceLost(m) => LiveEvent::DeviceLost(m),
            DeviceEvent::Rerouted(m) => LiveEvent::Rerouted(m),
            DeviceEvent::Stalled => LiveEvent::Stalled,
            DeviceEvent::Error(m) => LiveEvent::Error(m),
        }
    }
}

/// The sound output a device session drives: [`LiveOutput`], or a stand-in in tests.
pub(crate) trait Output {
    fn next_event(&mut self) -> Option<DeviceEvent>;
    fn reopen(&mut self, choice: &DeviceChoice) -> Result<(), LiveError>;
    /// Reopens the stream with a larger buffer after repeated underruns (see
    /// [`LiveOutput::grow_after_underruns`]).
    fn grow_after_underruns(&mut self) -> Result<Option<BufferGrowth>, LiveError>;
    fn underruns(&self) -> u32;
    fn frames_played(&self) -> u64;
    fn sample_rate(&self) -> u32;
    fn device_id(&self) -> String;
    fn device_name(&self) -> String;
}

impl Output for LiveOutput {
    fn next_event(&mut self) -> Option<DeviceEvent> {
        LiveOutput::next_event(self).map(DeviceEvent::from)
    }
    fn reopen(&mut self, choice: &DeviceChoice) -> Result<(), LiveError> {
        LiveOutput::reopen(self, choice)
    }
    fn grow_after_underruns(&mut self) -> Result<Option<BufferGrowth>, LiveError> {
        LiveOutput::grow_after_underruns(self)
    }
    fn underruns(&self) -> u32 {
        LiveOutput::underruns(self)
    }
    fn frames_played(&self) -> u64 {
        LiveOutput::frames_played(self)
    }
    fn sample_rate(&self) -> u32 {
        LiveOutput::sample_rate(self)
    }
    fn device_id(&self) -> String {
        LiveOutput::device_id(self).to_string()
    }
    fn device_name(&self) -> String {
        LiveOutput::device_name(self).to_string()
    }
}

/// How the device loop ended.
pub(crate) struct RunOutcome {
    pub end: End,
    pub faded_out: bool,
    pub level: Level,
    pub stream_missing_frames: u64,
    pub device_losses: u32,
}

/// The device loop's settings.
pub(crate) struct DeviceRun {
    pub rate: u32,
    pub duration: Duration,
    pub fade_s: f32,
    pub choice: DeviceChoice,
    pub session_start: Instant,
}

impl DeviceRun {
    /// Ticks the session until it has faded out (or the device failed for good).
    pub(crate) fn run(
        &self,
        live: &mut dyn Output,
        handle: &mut EngineHandle,
        controller: &mut dyn Controller,
        stop: &AtomicBool,
        updates: &Sender<Update>,
    ) -> RunOutcome {
        let send = |u: Update| {
            let _ = updates.send(u);
        };
        let period = Duration::from_secs_f64(1.0 / CONTROL_RATE_HZ);
        let total = self.duration.as_secs_f64();
        let fade_start = total - self.fade_s as f64;
        let mut cmds: Vec<Command> = Vec::with_capacity(64);
        let mut tick = 0u64;
        // session time the fade ends at
        let mut fading: Option<f64> = None;
        let mut interrupted = false;
        let mut faded_out = false;
        let mut second = Level::default();
        let mut whole = Level::default();
        let mut latest: Option<Telemetry> = None;
        let mut next_status = 1.0f64;
        let mut device_losses = 0u32;
        let end_with = |end: End,
                        faded_out: bool,
                        whole: &mut Level,
                        second: &Level,
                        latest: Option<&Telemetry>,
                        device_losses: u32| {
            whole.merge(second);
            RunOutcome {
                end,
                faded_out,
                level: *whole,
                stream_missing_frames: latest.map_or(0, |t| t.stream_missing_frames),
                device_losses,
            }
        };
        loop {
            let now = Instant::now();
            let t = now.duration_since(self.session_start).as_secs_f64();

            if !interrupted && stop.load(Ordering::Relaxed) {
                interrupted = true;
                let stop_end = t + STOP_FADE_S as f64;
                if fading.is_none_or(|end| end > stop_end) {
                    handle.fade_out(STOP_FADE_S);
                    fading = Some(stop_end);
                    send(Update::FadeOut {
                        reason: FadeReason::Interrupted,
                        at_s: t,
                        seconds: STOP_FADE_S,
                    });
                }
            }
            // the controller keeps deciding through the closing fade, as offline
            cmds.clear();
            controller.tick(t, &mut cmds);
            for c in &cmds {
                handle.send(*c);
                if let Command::FadeOut(secs) = c {
                    // the session's own fade (a sleep fade on calm, the closing phase)
                    let end = t + *secs as f64;
                    if fading.is_none_or(|f| end < f) {
                        fading = Some(end);
                        send(Update::FadeOut {
                            reason: FadeReason::Session,
                            at_s: t,
                            seconds: *secs,
                        });
                    }
                }
            }
            for e in controller.take_events() {
                send(Update::Event(e));
            }
            if fading.is_none() && t >= fade_start {
                let secs = (total - t).max(0.0) as f32;
                handle.fade_out(secs);
                fading = Some(total);
                send(Update::FadeOut {
                    reason: FadeReason::End,
                    at_s: t,
                    seconds: secs,
                });
            }
            handle.flush();

            if let Some(tel) = handle.poll() {
                second.add(&tel);
                faded_out = tel.faded_out;
                if let Some(prev) = latest.as_ref() {
                    let frames = tel.frames.saturating_sub(prev.frames);
                    if frames > 0 {
                        let rms = tel.rms as f64;
                        controller.output(frames as f64 / self.rate as f64, rms * rms, tel.peak);
                    }
                }
                latest = Some(tel);
            }
            while let Some(event) = live.next_event() {
                let lost = event.needs_reopen();
                // underruns and losses are what the listener heard: into the log too
                controller.note(playback_event(
                    &LiveEvent::from(&event),
                    t,
                    live.underruns(),
                ));
                send(Update::Device {
                    event,
                    at_s: t,
                    underruns: live.underruns(),
                });
                if lost {
                    // reopened even while fading out: the listener (and the recording)
                    // hear the fade to its end
                    device_losses += 1;
                    if let Err(msg) = self.recover(live, stop, updates) {
                        return end_with(
                            End::DeviceFailed(msg),
                            faded_out,
                            &mut whole,
                            &second,
                            latest.as_ref(),
                            device_losses,
                        );
                    }
                    self.reopened(live, controller, updates, t);
                }
            }
            // repeated underruns: a larger buffer, with the latency it adds shown (also
            // during a long closing fade, not in its last seconds)
            if fading.is_none_or(|end| end - t > 3.0) {
                match live.grow_after_underruns() {
                    Ok(Some(g)) => {
                        let message = format!(
                            "output buffer grew from {} to {} frames ({:.0} ms) after repeated underruns",
                            g.from, g.to, g.latency_ms
                        );
                        controller.note(SessionEvent::new(t, EventKind::Playback, message.clone()));
                        send(Update::BufferGrown {
                            at_s: t,
                            from: g.from,
                            to: g.to,
                            latency_ms: g.latency_ms,
                            message,
                        });
                    }
                    Ok(None) => {}
                    Err(e) => {
                        send(Update::BufferGrowFailed {
                            at_s: t,
                            message: e.to_string(),
                        });
                        if let Err(msg) = self.recover(live, stop, updates) {
                            return end_with(
                                End::DeviceFailed(msg),
                                faded_out,
                                &mut whole,
                                &second,
                                latest.as_ref(),
                                device_losses,
                            );
                        }
                        self.reopened(live, controller, updates, t);
                    }
                }
            }

            let new_second = t >= next_status;
            send(Update::Status(SessionStatus {
                at_s: t,
                total_s: total,
                telemetry: latest,
                second,
                underruns: live.underruns(),
                frames: live.frames_played(),
                render_load: latest
                    .map(|t| t.render_ns_per_frame as f64 * live.sample_rate() as f64 / 1e9),
                text: controller.status_text(),
                new_second,
            }));
            if new_second {
                next_status += 1.0;
                whole.merge(&second);
                second = Level::default();
            }

            if let Some(end) = fading {
                if faded_out || t >= end + FADE_GRACE.as_secs_f64() {
                    let end = if interrupted {
                        End::Interrupted
                    } else {
                        End::Completed
                    };
                    return end_with(
                        end,
                        faded_out,
                        &mut whole,
                        &second,
                        latest.as_ref(),
                        device_losses,
                    );
                }
            }

            tick += 1;
            let next = self.session_start + period.mul_f64(tick as f64);
            let now = Instant::now();
            if next > now {
                std::thread::sleep(next - now);
            } else {
                // fell behind (a long stall): carry on from now
                tick =
                    (now.duration_since(self.session_start).as_secs_f64() * CONTROL_RATE_HZ) as u64;
            }
        }
    }

    /// Tells the host and the log that the device plays again.
    fn reopened(
        &self,
        live: &dyn Output,
        controller: &mut dyn Controller,
        updates: &Sender<Update>,
        t: f64,
    ) {
        controller.note(SessionEvent::new(
            t,
            EventKind::Playback,
            format!(
                "output reopened on {} [{}]",
                live.device_name(),
                live.device_id()
            ),
        ));
        let _ = updates.send(Update::Reopened {
            at_s: t,
            device_id: live.device_id(),
            device_name: live.device_name(),
        });
    }

    /// Reopens the device after it was lost: the same one a few times, then the
    /// default one.
    fn recover(
        &self,
        live: &mut dyn Output,
        stop: &AtomicBool,
        updates: &Sender<Update>,
    ) -> Result<(), String> {
        let mut tries = vec![self.choice.clone(); REOPEN_SAME];
        if self.choice != DeviceChoice::Default {
            tries.extend([DeviceChoice::Default, DeviceChoice::Default]);
        }
        let mut last = String::from("no attempt made");
        for (i, choice) in tries.iter().enumerate() {
            if stop.load(Ordering::Relaxed) && i > 0 {
                return Err(format!("interrupted while reopening ({last})"));
            }
            if i > 0 {
                std::thread::sleep(REOPEN_PAUSE);
            }
            match live.reopen(choice) {
                Ok(()) => return Ok(()),
                Err(e) => {
                    last = e.to_string();
                    let _ = updates.send(Update::ReopenFailed {
                        device: choice.to_string(),
                        attempt: i + 1,
                        message: last.clone(),
                    });
                }
            }
        }
        Err(last)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::realtime::new_engine;
    use crate::{Preset, Static};
    use std::sync::atomic::AtomicU64;

    /// A device that plays in real time on its own thread and is lost once, at a given
    /// session time.
    struct FlakyDevice {
        playing: Arc<AtomicBool>,
        quit: Arc<AtomicBool>,
        frames: Arc<AtomicU64>,
        lose_at: Instant,
        lost: bool,
        reopened: u32,
        thread: Option<std::thread::JoinHandle<()>>,
    }

    impl FlakyDevice {
        fn new(mut renderer: crate::Renderer, rate: u32, lose_at: Instant) -> FlakyDevice {
            let playing = Arc::new(AtomicBool::new(true));
            let quit = Arc::new(AtomicBool::new(false));
            let frames = Arc::new(AtomicU64::new(0));
            let (p, q, f) = (playing.clone(), quit.clone(), frames.clone());
            let thread = std::thread::spawn(move || {
                let block = rate as usize / 100;
                let mut buf = vec![0.0f32; 2 * block];
                let start = Instant::now();
                let mut played = 0u64;
                while !q.load(Ordering::Relaxed) {
                    if p.load(Ordering::Relaxed) {
                        renderer.render(&mut buf);
                        played += block as u64;
                        f.store(played, Ordering::Relaxed);
                    }
                    // the device's clock: 10 ms a block
                    let due = start + Duration::from_millis(10) * (played / block as u64) as u32;
                    let now = Instant::now();
                    std::thread::sleep(if due > now {
                        due - now
                    } else {
                        Duration::from_millis(1)
                    });
                }
            });
            FlakyDevice {
                playing,
                quit,
                frames,
                lose_at,
                lost: false,
                reopened: 0,
                thread: Some(thread),
            }
        }
    }

    impl Drop for FlakyDevice {
        fn drop(&mut self) {
            self.quit.store(true, Ordering::Relaxed);
            if let Some(t) = self.thread.take() {
                let _ = t.join();
            }
        }
    }

    impl Output for FlakyDevice {
        fn next_event(&mut self) -> Option<DeviceEvent> {
            if !self.lost && Instant::now() >= self.lose_at {
                self.lost = true;
                self.playing.store(false, Ordering::Relaxed);
                return Some(DeviceEvent::DeviceLost("unplugged".into()));
            }
            None
        }
        fn reopen(&mut self, _choice: &DeviceChoice) -> Result<(), LiveError> {
            self.reopened += 1;
            self.playing.store(true, Ordering::Relaxed);
            Ok(())
        }
        fn grow_after_underruns(&mut self) -> Result<Option<BufferGrowth>, LiveError> {
            Ok(None)
        }
        fn underruns(&self) -> u32 {
            0
        }
        fn frames_played(&self) -> u64 {
            self.frames.load(Ordering::Relaxed)
        }
        fn sample_rate(&self) -> u32 {
            8_000
        }
        fn device_id(&self) -> String {
            "flaky".into()
        }
        fn device_name(&self) -> String {
            "Flaky".into()
        }
    }

    #[test]
    fn a_device_lost_during_the_closing_fade_is_reopened_and_the_fade_finishes() {
        let rate = 8_000;
        let preset = Preset::find("relax").unwrap();
        let (mut handle, renderer) = new_engine(&preset.sound, rate as f32, 1);
        let start = Instant::now();
        // a 3 s session fading out over its last second: the device goes at 2.3 s
        let run = DeviceRun {
            rate,
            duration: Duration::from_secs(3),
            fade_s: 1.0,
            choice: DeviceChoice::Default,
            session_start: start,
        };
        let mut device = FlakyDevice::new(renderer, rate, start + Duration::from_millis(2300));
        let (tx, rx) = crossbeam_channel::unbounded();
        let stop = AtomicBool::new(false);
        let outcome = run.run(&mut device, &mut handle, &mut Static, &stop, &tx);
        drop(tx);
        let updates: Vec<Update> = rx.iter().collect();

        assert_eq!(device.reopened, 1, "the lost device was reopened");
        assert_eq!(outcome.device_losses, 1);
        assert_eq!(outcome.end, End::Completed);
        assert!(outcome.faded_out, "the fade was heard to its end");
        // the fade began before the loss, and the session ended after it
        let fade_at = updates
            .iter()
            .find_map(|u| match u {
                Update::FadeOut { at_s, .. } => Some(*at_s),
                _ => None,
            })
            .expect("a closing fade");
        assert!((1.9..2.3).contains(&fade_at), "fade at {fade_at}");
        assert!(updates.iter().any(|u| matches!(
            u,
            Update::Device {
                event: DeviceEvent::DeviceLost(_),
                ..
            }
        )));
        assert!(updates.iter().any(|u| matches!(u, Update::Reopened { .. })));
        assert!(start.elapsed() >= Duration::from_secs(3));
    }
}
