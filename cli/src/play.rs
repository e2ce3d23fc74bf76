//! `isochord play`: a live session on the sound card.
//!
//! The main thread is the control thread: it ticks the controller at
//! [`CONTROL_RATE_HZ`] against wall-clock session time, sends the commands, polls
//! telemetry and stream events, and reports. The audio thread belongs to the stream.

use crate::adaptive::{prepare, AdaptiveArgs, Finisher, Prepared};
use crate::Failure;
use clap::Args;
use isochord_dsp::{Command, Param};
use isochord_engine::biometrics::sources::{Replay, SourceThread, ThreadOptions, WallClock};
use isochord_engine::live::{
    DeviceChoice, LiveError, LiveEvent, LiveOutput, OutputDevice, RecordOutcome, Recorder,
    DEFAULT_BUFFER_FRAMES,
};
use isochord_engine::offline::STOP_FADE_S;
use isochord_engine::session::ChannelFeed;
use isochord_engine::{
    format_duration, new_engine_with_content, parse_duration, Automation, AutomationController,
    Controller, EngineHandle, Preset, SampleFormat, Static, Telemetry, CONTROL_RATE_HZ,
};
use serde_json::{json, Value};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Args)]
pub struct PlayArgs {
    /// Built-in preset (sleep, relax, focus, uplift, piano, nocturne, drift) or path to a preset .toml.
    #[arg(long, short)]
    preset: String,
    /// Length, e.g. 90s, 20m, 1h30m (default: the preset's). The fade-out is inside it.
    #[arg(long, short, value_parser = parse_duration)]
    duration: Option<Duration>,
    /// Output device id (see `isochord devices`; default: the system's default output).
    #[arg(long)]
    device: Option<String>,
    /// Callback size to ask the device for, frames (0: the device's default). A size the
    /// device does not support falls back to its default. After repeated underruns the
    /// stream is reopened with twice the size (up to 8192 frames), and says so.
    #[arg(long, default_value_t = DEFAULT_BUFFER_FRAMES, value_parser = clap::value_parser!(u32).range(0..=65_536))]
    buffer: u32,
    /// Also record exactly what is played to this WAV file (32-bit float).
    #[arg(long)]
    record: Option<PathBuf>,
    /// Keyframe file (CSV: time, then parameter columns) steering the session.
    #[arg(long, conflicts_with = "source")]
    automation: Option<PathBuf>,
    /// Biometric input steering an adaptive session: `sim` (a simulated listener who
    /// hears the session), `osc://127.0.0.1:12345[?preset=emotibit|hr_apps]`, `e4:DIR` or
    /// `file:PATH` (replayed at recorded pace), or `stdin` (JSON Lines).
    #[arg(long)]
    source: Option<String>,
    #[command(flatten)]
    adaptive: AdaptiveArgs,
    #[command(flatten)]
    content: crate::content::ContentArgs,
    /// Write a clinical-review report of the adaptive session into this folder when it
    /// ends (the log goes to DIR/session.jsonl unless --log is given; the --record WAV,
    /// if any, is linked from the page).
    #[arg(long, value_name = "DIR", requires = "source")]
    report: Option<PathBuf>,
    /// Seed for every random choice.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Print nothing but errors.
    #[arg(long, short, conflicts_with = "json")]
    quiet: bool,
    /// Print one JSON object per line: events as they happen, a status every second.
    #[arg(long)]
    json: bool,
}

/// How long after the planned end the session stops even if the fade-out was never
/// confirmed by telemetry.
const FADE_GRACE: Duration = Duration::from_millis(1500);
/// How long to wait for the device to ask for its first buffer.
const FIRST_AUDIO_TIMEOUT: Duration = Duration::from_secs(3);
/// Pause between attempts to reopen a lost device.
const REOPEN_PAUSE: Duration = Duration::from_millis(500);
/// Attempts on the same device before falling back to the default one.
const REOPEN_SAME: usize = 3;

pub fn run(mut args: PlayArgs, process_start: Instant) -> Result<ExitCode, Failure> {
    args.adaptive.log_into_report(args.report.as_deref())?;
    let preset = Preset::find(&args.preset).map_err(Failure::input)?;
    let automation = match &args.automation {
        Some(path) => Some(Automation::load(path).map_err(Failure::input)?),
        None => None,
    };
    let mut report_notes = Vec::new();
    if let Some(out) = &args.record {
        check_output_path(out, args.adaptive.force, &mut report_notes)?;
    }
    let duration = args.duration.unwrap_or(preset.duration);
    if duration < Duration::from_secs(1) {
        return Err(Failure::input("--duration must be at least 1s"));
    }
    let choice: DeviceChoice = args
        .device
        .as_deref()
        .unwrap_or("default")
        .parse()
        .expect("infallible");
    let mut report = Report::new(args.quiet, args.json);
    for n in &report_notes {
        report.note(n);
    }
    // An adaptive session: check the input and build the plan before the device opens;
    // the input starts with the session clock.
    let mut sound = preset.sound.clone();
    let mut pending: Option<Prepared> = None;
    if let Some(spec) = &args.source {
        let (plan, input, file) = prepare(
            &preset,
            duration.as_secs_f64(),
            spec,
            &args.adaptive,
            args.seed,
        )?;
        for n in &plan.notes {
            report.note(n);
        }
        sound = plan.sound.clone();
        pending = Some((plan, input, file));
    } else if args.adaptive.log.is_some() || args.adaptive.profile.is_some() {
        return Err(Failure::input(
            "--log and --profile need --source (an adaptive session)",
        ));
    }

    let stop = Arc::new(AtomicBool::new(false));
    {
        let stop = stop.clone();
        // a second Ctrl-C while fading out is ignored: the session is about to end
        let _ = ctrlc::set_handler(move || stop.store(true, Ordering::Relaxed));
    }

    // open the device first: the engine is built at its native rate
    let t0 = Instant::now();
    let device = OutputDevice::open(&choice).map_err(|e| match e {
        LiveError::NoSuchDevice { .. } => Failure::input(e),
        e => Failure::runtime(no_output(e)),
    })?;
    let device_ms = ms(t0.elapsed());
    let rate = device.sample_rate();
    let t0 = Instant::now();
    let loaded = args.content.load(&sound, rate, |n| report.note(&n))?;
    // streams open with the soundscape
    let mut stream_failures = isochord_engine::content::StreamFailures::from_now();
    let (mut handle, renderer) =
        new_engine_with_content(&sound, &loaded.content, rate as f32, args.seed);
    let engine_ms = ms(t0.elapsed());
    let (recorder, tap) = match &args.record {
        Some(path) => {
            let (r, t) =
                Recorder::start(path, rate, SampleFormat::F32).map_err(Failure::runtime)?;
            (Some(r), Some(t))
        }
        None => (None, None),
    };
    let t0 = Instant::now();
    let buffer = (args.buffer > 0).then_some(args.buffer);
    let mut live = LiveOutput::start(device, renderer, tap, buffer)
        .map_err(|e| Failure::runtime(no_output(e)))?;
    let stream_ms = ms(t0.elapsed());
    let waited = Instant::now();
    while live.first_callback().is_none() && waited.elapsed() < FIRST_AUDIO_TIMEOUT {
        std::thread::sleep(Duration::from_millis(1));
    }
    let first = live.first_callback();
    let session_start = first.unwrap_or_else(Instant::now);
    let first_audio_ms = first.map(|f| ms(f.duration_since(process_start)));

    let buffer = live.buffer();
    report.event(json!({
        "event": "started",
        "preset": preset.name,
        "device": live.device_id(),
        "device_name": live.device_name(),
        "sample_rate": rate,
        "channels": live.channels(),
        "format": live.sample_format().to_string(),
        "buffer": {"requested": buffer.requested, "fixed": buffer.fixed, "frames": buffer.frames},
        "seed": args.seed,
        "duration_s": duration.as_secs_f64(),
        "record": args.record.as_ref().map(|p| p.display().to_string()),
        "first_audio_ms": first_audio_ms,
        "startup_ms": {"device": device_ms, "engine": engine_ms, "stream": stream_ms},
    }));
    report.note(&format!(
        "playing {} ({}) on {} [{}] at {} Hz {}, {}{}; Ctrl-C fades out and stops",
        preset.name,
        format_duration(duration),
        live.device_name(),
        live.device_id(),
        rate,
        live.sample_format(),
        match (buffer.fixed, buffer.frames) {
            (true, Some(n)) => format!(
                "buffer {n} frames ({:.0} ms; grows after repeated underruns)",
                1000.0 * n as f64 / rate as f64
            ),
            (_, Some(n)) => format!("device's buffer ({n} frames)"),
            (_, None) => "device's buffer".to_string(),
        },
        match first_audio_ms {
            Some(ms) => format!(", first audio after {ms:.0} ms"),
            None => String::new(),
        }
    ));
    if first.is_none() {
        report.note("warning: the device has not asked for audio yet");
    }

    let mut finisher: Option<Finisher> = None;
    let mut controller: Box<dyn Controller> = match (pending, automation) {
        (Some((mut plan, input, file)), _) => {
            plan.note_content(&loaded);
            let clock = WallClock::starting_at(session_start);
            let options = ThreadOptions::default();
            let spawned = match file {
                Some(source) => SourceThread::spawn(Replay::new(source, clock), options),
                None => {
                    let source = input.open_live(clock).map_err(Failure::input)?;
                    SourceThread::spawn(source, options)
                }
            }
            .map_err(|e| Failure::runtime(format!("cannot start the input thread: {e}")))?;
            let (c, f) = plan.start(Box::new(ChannelFeed::new(spawned.0, spawned.1)), args.seed)?;
            finisher = Some(f);
            c
        }
        (None, Some(a)) => Box::new(AutomationController::new(a, &preset.sound)),
        (None, None) => Box::new(Static),
    };

    let session = Session {
        preset_name: preset.name.clone(),
        rate,
        duration,
        fade_s: preset
            .sound
            .master
            .fade_out_s
            .min(duration.as_secs_f32() / 3.0),
        choice,
        session_start,
    };
    let outcome = session.run(
        &mut live,
        &mut handle,
        controller.as_mut(),
        &stop,
        &mut report,
    );

    controller.finish(session_start.elapsed().as_secs_f64());
    let mut output_failed: Option<String> = None;
    if let Some(f) = finisher {
        if let Some(n) = f.outcome().map(|o| o.input_lost).filter(|n| *n > 0) {
            report.event(json!({"event": "input_lost", "items": n}));
            report.note(&format!(
                "warning: {n} input items were lost before the session could read them (the log has when)"
            ));
        }
        if let (Some(log), Some(e)) = (&args.adaptive.log, f.outcome().and_then(|o| o.log_error)) {
            output_failed = Some(format!(
                "{}: the session log could not be written: {e}",
                log.display()
            ));
        }
        let goal = preset.protocol.as_ref().map_or(0.0, |p| p.goal_arousal);
        for n in f.finish(goal) {
            report.note(&n);
        }
    }
    // stop the stream before finishing the recording: nothing reaches the tap after this
    let frames = live.frames_played();
    let underruns = live.underruns();
    drop(live.stop());
    let recorded = match recorder {
        Some(r) => Some(r.finish().map_err(Failure::runtime)?),
        None => None,
    };
    let elapsed = session_start.elapsed();
    report.clear_status();
    if let (Some(dir), Some(log), None) = (&args.report, &args.adaptive.log, &output_failed) {
        let options = isochord_engine::report::ReportOptions {
            wav: recorded.as_ref().and_then(|r| r.files.first().cloned()),
            ..Default::default()
        };
        match crate::report::write(log, dir, &options, true) {
            Ok(out) => {
                report.event(
                    json!({"event": "report", "dir": out.dir.display().to_string(),
                    "files": out.files.len()}),
                );
                report.note(&format!(
                    "report: {} ({} files)",
                    out.dir.join("report.html").display(),
                    out.files.len()
                ));
            }
            Err(f) => {
                output_failed = Some(format!("the report could not be written: {}", f.message))
            }
        }
    }
    report.event(json!({
        "event": "stopped",
        "reason": match &outcome.end {
            End::Completed => "completed",
            End::Interrupted => "interrupted",
            End::DeviceFailed(_) => "device_failed",
        },
        "elapsed_s": elapsed.as_secs_f64(),
        "frames": frames,
        "audio_s": frames as f64 / rate as f64,
        "underruns": underruns,
        "stream_missing_s": outcome.stream_missing_frames as f64 / rate as f64,
        "faded_out": outcome.faded_out,
        "rms_dbfs": outcome.level.rms_dbfs(),
        "peak_dbfs": outcome.level.peak_dbfs(),
        "record": recorded.as_ref().map(|r| json!({
            "files": r.files.iter().map(|f| f.display().to_string()).collect::<Vec<_>>(),
            "frames": r.frames,
            "dropped_samples": r.dropped_samples,
        })),
    }));
    for f in stream_failures.take_new() {
        report.event(
            json!({"event": "stream_failed", "file": f.path.display().to_string(),
            "reason": f.reason}),
        );
        report.note(&format!("warning: {f}"));
    }
    report.summary(&summary(
        &session,
        elapsed,
        underruns,
        &outcome,
        recorded.as_ref(),
    ));
    if let Some(m) = output_failed {
        return Err(Failure::runtime(format!(
            "{m}{}",
            if recorded.is_some() {
                " (the recording is complete and valid)"
            } else {
                ""
            }
        )));
    }
    match outcome.end {
        End::Completed => Ok(ExitCode::SUCCESS),
        End::Interrupted => {
            report.note(&format!(
                "stopped early at {} (faded out){}",
                format_duration(Duration::from_secs(elapsed.as_secs())),
                if recorded.is_some() {
                    "; the recording is complete up to there"
                } else {
                    ""
                }
            ));
            Ok(ExitCode::from(130))
        }
        End::DeviceFailed(msg) => Err(Failure::runtime(format!(
            "the output device failed and no other could be opened: {msg}{}",
            if recorded.is_some() {
                " (the recording is complete up to the failure)"
            } else {
                ""
            }
        ))),
    }
}

/// Adds a hint to errors that mean there is no usable sound output at all.
fn no_output(e: LiveError) -> String {
    match e {
        LiveError::Host(_) | LiveError::NoDefaultDevice | LiveError::Device { .. } => format!(
            "{e}\nhint: `isochord devices` lists the outputs; `isochord render` writes a WAV \
             file without a sound card"
        ),
        e => e.to_string(),
    }
}

/// Refuses a `--record` destination that cannot be written or exists (without
/// `--force`); notes unfinished files that killed runs left beside it.
fn check_output_path(
    out: &std::path::Path,
    force: bool,
    notes: &mut Vec<String>,
) -> Result<(), Failure> {
    use isochord_engine::output;
    let target = output::check(out, output::Existing::from_force(force)).map_err(Failure::input)?;
    if let output::Target::File(dest) = &target {
        notes.extend(
            output::clean_leftovers(dest)
                .notes()
                .into_iter()
                .map(|n| format!("note: {n}")),
        );
    }
    Ok(())
}

fn ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 1e4).round() / 10.0
}

/// Output level over a span, from telemetry reports.
#[derive(Clone, Copy, Default)]
struct Level {
    sum_sq: f64,
    reports: u64,
    peak: f32,
}

impl Level {
    fn add(&mut self, t: &Telemetry) {
        self.sum_sq += (t.rms as f64) * (t.rms as f64);
        self.reports += 1;
        self.peak = self.peak.max(t.peak);
    }

    fn merge(&mut self, other: &Level) {
        self.sum_sq += other.sum_sq;
        self.reports += other.reports;
        self.peak = self.peak.max(other.peak);
    }

    fn rms_dbfs(&self) -> Option<f64> {
        (self.reports > 0)
            .then(|| 20.0 * (self.sum_sq / self.reports as f64).sqrt().max(1e-6).log10())
            .map(round1)
    }

    fn peak_dbfs(&self) -> Option<f64> {
        (self.reports > 0).then(|| round1(20.0 * (self.peak as f64).max(1e-6).log10()))
    }
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

enum End {
    Completed,
    Interrupted,
    DeviceFailed(String),
}

struct Outcome {
    end: End,
    faded_out: bool,
    level: Level,
    /// Frames of streamed recordings that were missing (see
    /// [`Telemetry::stream_missing_frames`]).
    stream_missing_frames: u64,
}

struct Session {
    preset_name: String,
    rate: u32,
    duration: Duration,
    fade_s: f32,
    choice: DeviceChoice,
    session_start: Instant,
}

impl Session {
    fn run(
        &self,
        live: &mut LiveOutput,
        handle: &mut EngineHandle,
        controller: &mut dyn Controller,
        stop: &AtomicBool,
        report: &mut Report,
    ) -> Outcome {
        let period = Duration::from_secs_f64(1.0 / CONTROL_RATE_HZ);
        let total = self.duration.as_secs_f64();
        let fade_start = total - self.fade_s as f64;
        let mut cmds: Vec<Command> = Vec::with_capacity(64);
        let mut tick = 0u64;
        // (session time the fade ends at, reason)
        let mut fading: Option<f64> = None;
        let mut interrupted = false;
        let mut faded_out = false;
        let mut second = Level::default();
        let mut whole = Level::default();
        let mut latest: Option<Telemetry> = None;
        let mut next_status = 1.0f64;
        loop {
            let now = Instant::now();
            let t = now.duration_since(self.session_start).as_secs_f64();

            if !interrupted && stop.load(Ordering::Relaxed) {
                interrupted = true;
                let stop_end = t + STOP_FADE_S as f64;
                if fading.is_none_or(|end| end > stop_end) {
                    handle.fade_out(STOP_FADE_S);
                    fading = Some(stop_end);
                    report.event(json!({"event": "fade_out", "reason": "interrupted",
                        "elapsed_s": t, "seconds": STOP_FADE_S}));
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
                        report.event(json!({"event": "fade_out", "reason": "session",
                            "elapsed_s": t, "seconds": secs}));
                    }
                }
            }
            for e in controller.take_events() {
                report.session_event(&e);
            }
            if fading.is_none() && t >= fade_start {
                let secs = (total - t).max(0.0) as f32;
                handle.fade_out(secs);
                fading = Some(total);
                report.event(json!({"event": "fade_out", "reason": "end",
                    "elapsed_s": t, "seconds": secs}));
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
                report_event(report, &event, t, live.underruns());
                // underruns and losses are what the listener heard: into the log too
                controller.note(isochord_engine::live::playback_event(
                    &event,
                    t,
                    live.underruns(),
                ));
                if lost {
                    if fading.is_some() {
                        // the session is ending anyway
                        whole.merge(&second);
                        return Outcome {
                            end: end_of(interrupted),
                            faded_out,
                            level: whole,
                            stream_missing_frames: stream_missing_frames(latest.as_ref()),
                        };
                    }
                    if let Err(msg) = self.recover(live, stop, report) {
                        whole.merge(&second);
                        return Outcome {
                            end: End::DeviceFailed(msg),
                            faded_out,
                            level: whole,
                            stream_missing_frames: stream_missing_frames(latest.as_ref()),
                        };
                    }
                    report_reopened(report, live, t);
                    controller.note(isochord_engine::policy::SessionEvent::new(
                        t,
                        isochord_engine::policy::EventKind::Playback,
                        format!(
                            "output reopened on {} [{}]",
                            live.device_name(),
                            live.device_id()
                        ),
                    ));
                }
            }
            // repeated underruns: a larger buffer, with the latency it adds shown (also
            // during a long closing fade, not in its last seconds)
            if fading.is_none_or(|end| end - t > 3.0) {
                match live.grow_after_underruns() {
                    Ok(Some(g)) => {
                        let m = format!(
                            "output buffer grew from {} to {} frames ({:.0} ms) after repeated underruns",
                            g.from, g.to, g.latency_ms
                        );
                        report.event(json!({"event": "buffer_grown", "elapsed_s": round3(t),
                            "from": g.from, "to": g.to, "latency_ms": g.latency_ms}));
                        report.note(&m);
                        controller.note(isochord_engine::policy::SessionEvent::new(
                            t,
                            isochord_engine::policy::EventKind::Playback,
                            m,
                        ));
                    }
                    Ok(None) => {}
                    Err(e) => {
                        report.note(&format!(
                            "warning: the buffer could not grow: {e}; reopening"
                        ));
                        if let Err(msg) = self.recover(live, stop, report) {
                            whole.merge(&second);
                            return Outcome {
                                end: End::DeviceFailed(msg),
                                faded_out,
                                level: whole,
                                stream_missing_frames: stream_missing_frames(latest.as_ref()),
                            };
                        }
                        report_reopened(report, live, t);
                    }
                }
            }

            if t >= next_status {
                next_status += 1.0;
                let mut status = status_json(t, total, latest.as_ref(), &second, live);
                if let Some(text) = controller.status_text() {
                    status["session"] = json!(text);
                }
                report.event(status);
                whole.merge(&second);
                second = Level::default();
            }
            if let Some(tel) = latest.as_ref() {
                let mut line = self.status_line(t, tel, &second, live.underruns());
                if let Some(text) = controller.status_text() {
                    line = format!("{line} │ {text}");
                }
                report.status(&line);
            }

            if let Some(end) = fading {
                if faded_out || t >= end + FADE_GRACE.as_secs_f64() {
                    whole.merge(&second);
                    return Outcome {
                        end: end_of(interrupted),
                        faded_out,
                        level: whole,
                        stream_missing_frames: stream_missing_frames(latest.as_ref()),
                    };
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

    /// Reopens the device after it was lost: the same one a few times, then the
    /// default one.
    fn recover(
        &self,
        live: &mut LiveOutput,
        stop: &AtomicBool,
        report: &mut Report,
    ) -> Result<(), String> {
        let mut tries = vec![self.choice.clone(); REOPEN_SAME];
        if self.choice != DeviceChoice::Default {
            tries.extend([DeviceChoice::Default, DeviceChoice::Default]);
        }
        let mut last = String::from("no attempt made");
        for (i, choice) in tries.iter().enumerate() {
            if stop.load(Ordering::Relaxed) {
                return Err(format!("interrupted while reopening ({last})"));
            }
            if i > 0 {
                std::thread::sleep(REOPEN_PAUSE);
            }
            match live.reopen(choice) {
                Ok(()) => return Ok(()),
                Err(e) => {
                    last = e.to_string();
                    report.event(
                        json!({"event": "reopen_failed", "device": choice.to_string(),
                        "attempt": i + 1, "message": last}),
                    );
                }
            }
        }
        Err(last)
    }

    fn status_line(&self, t: f64, tel: &Telemetry, second: &Level, underruns: u32) -> String {
        let total = self.duration.as_secs_f64();
        let v = |p: Param| tel.values[p.index()];
        let level = second
            .rms_dbfs()
            .map(|db| format!("{db:5.1} dBFS"))
            .unwrap_or_else(|| "  --- dBFS".into());
        format!(
            "▶ {}/{} −{}  tempo {:.0}  bright {:.2}  density {:.2}  breath {:.1}/min  {}  underruns {}",
            clock(t),
            clock(total),
            clock((total - t).max(0.0)),
            v(Param::Tempo),
            v(Param::Brightness),
            v(Param::Density),
            v(Param::BreathRate),
            level,
            underruns,
        )
    }
}

fn stream_missing_frames(latest: Option<&Telemetry>) -> u64 {
    latest.map_or(0, |t| t.stream_missing_frames)
}

fn end_of(interrupted: bool) -> End {
    if interrupted {
        End::Interrupted
    } else {
        End::Completed
    }
}

fn status_json(
    t: f64,
    total: f64,
    tel: Option<&Telemetry>,
    second: &Level,
    live: &LiveOutput,
) -> Value {
    let v = |p: Param| tel.map(|t| round3(t.values[p.index()] as f64));
    json!({
        "event": "status",
        "elapsed_s": round3(t),
        "remaining_s": round3((total - t).max(0.0)),
        "tempo": v(Param::Tempo),
        "brightness": v(Param::Brightness),
        "density": v(Param::Density),
        "breath_rate": v(Param::BreathRate),
        "energy": v(Param::Energy),
        "rms_dbfs": second.rms_dbfs(),
        "peak_dbfs": second.peak_dbfs(),
        "underruns": live.underruns(),
        "frames": live.frames_played(),
        "render_load": tel.map(|t| round3(t.render_ns_per_frame as f64 * live.sample_rate() as f64 / 1e9)),
    })
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

fn report_event(report: &mut Report, event: &LiveEvent, t: f64, underruns: u32) {
    let (name, message) = match event {
        LiveEvent::Underrun => ("underrun", None),
        LiveEvent::DeviceLost(m) => ("device_lost", Some(m.as_str())),
        LiveEvent::Rerouted(m) => ("rerouted", Some(m.as_str())),
        LiveEvent::Stalled => ("stalled", None),
        LiveEvent::Error(m) => ("stream_error", Some(m.as_str())),
    };
    report.event(
        json!({"event": name, "elapsed_s": round3(t), "message": message,
        "underruns": underruns}),
    );
    match event {
        LiveEvent::Underrun => {}
        LiveEvent::DeviceLost(m) => report.note(&format!("output device lost: {m}; reopening")),
        LiveEvent::Stalled => report.note("the output device stopped asking for audio; reopening"),
        LiveEvent::Rerouted(m) => report.note(&format!("output rerouted: {m}")),
        LiveEvent::Error(m) => report.note(&format!("stream error: {m}")),
    }
}

fn report_reopened(report: &mut Report, live: &LiveOutput, t: f64) {
    report.event(json!({"event": "reopened", "elapsed_s": round3(t),
        "device": live.device_id(), "device_name": live.device_name()}));
    report.note(&format!(
        "playing on {} [{}] again",
        live.device_name(),
        live.device_id()
    ));
}

fn clock(secs: f64) -> String {
    let s = secs.max(0.0).round() as u64;
    if s >= 3600 {
        format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
    } else {
        format!("{:02}:{:02}", s / 60, s % 60)
    }
}

fn summary(
    session: &Session,
    elapsed: Duration,
    underruns: u32,
    outcome: &Outcome,
    recorded: Option<&RecordOutcome>,
) -> String {
    let mut s = format!(
        "played {} for {}",
        session.preset_name,
        format_duration(Duration::from_secs_f64(elapsed.as_secs_f64().round())),
    );
    if let (Some(rms), Some(peak)) = (outcome.level.rms_dbfs(), outcome.level.peak_dbfs()) {
        s += &format!("; level: RMS {rms:.1} dBFS, peak {peak:.1} dBFS");
    }
    s += &format!("; underruns: {underruns}");
    if outcome.stream_missing_frames > 0 {
        s += &format!(
            "; {:.1} s of streamed recordings did not arrive in time (silence played there)",
            outcome.stream_missing_frames as f64 / session.rate as f64
        );
    }
    if let Some(r) = recorded {
        let names: Vec<String> = r.files.iter().map(|f| f.display().to_string()).collect();
        s += &format!("\nrecorded → {}", names.join(", "));
        if r.dropped_samples > 0 {
            s += &format!(
                " ({} samples could not be written in time and are missing)",
                r.dropped_samples
            );
        }
    }
    s
}

/// Where reports go: JSON lines on stdout, a status line redrawn on a terminal's stderr,
/// plain notes, or nothing.
struct Report {
    quiet: bool,
    json: bool,
    live_status: bool,
    status_shown: bool,
}

impl Report {
    fn new(quiet: bool, json: bool) -> Self {
        Self {
            quiet,
            json,
            live_status: !quiet && !json && std::io::stderr().is_terminal(),
            status_shown: false,
        }
    }

    fn event(&mut self, value: Value) {
        if self.json {
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "{value}");
            let _ = out.flush();
        }
    }

    fn session_event(&mut self, e: &isochord_engine::policy::SessionEvent) {
        self.event(json!({
            "event": "session",
            "kind": e.kind.name(),
            "time_s": e.time,
            "message": e.message,
            "review": e.review,
        }));
        self.note(&e.to_string());
    }

    fn note(&mut self, text: &str) {
        if self.quiet || self.json {
            return;
        }
        self.clear_status();
        eprintln!("{text}");
    }

    fn status(&mut self, line: &str) {
        if self.live_status {
            // one line, never wrapped, or redrawing in place would leave debris
            let width = console::Term::stderr()
                .size_checked()
                .map_or(80, |(_, cols)| cols as usize);
            let line = console::truncate_str(line, width.saturating_sub(1), "…");
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "\r\x1b[2K{line}");
            let _ = err.flush();
            self.status_shown = true;
        }
    }

    fn clear_status(&mut self) {
        if self.status_shown {
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "\r\x1b[2K");
            let _ = err.flush();
            self.status_shown = false;
        }
    }

    fn summary(&mut self, text: &str) {
        if !self.quiet && !self.json {
            self.clear_status();
            println!("{text}");
        }
    }
}
