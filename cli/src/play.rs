//! `isochord play`: a live session on the sound card. The library runs the session (its
//! control thread, fades, allowance metering, device recovery); this prints what it
//! says.

use crate::adaptive::{self, AdaptiveArgs};
use crate::Failure;
use clap::Args;
use isochord_dsp::Param;
use isochord_engine::live::{DeviceChoice, LiveError, DEFAULT_BUFFER_FRAMES};
use isochord_engine::session::{
    DeviceEvent, DeviceOptions, End, LiveSession, LiveSummary, SessionError, SessionPlan,
    SessionStatus, Update,
};
use isochord_engine::{format_duration, parse_duration, Automation, Preset};
use serde_json::{json, Value};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
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
    // an adaptive session: check the input and build the plan before the device opens;
    // the input starts with the session clock
    let plan = match (&args.source, automation) {
        (Some(spec), _) => {
            let plan = adaptive::plan(
                &preset,
                duration,
                spec,
                &args.adaptive,
                args.report.as_deref(),
                args.seed,
            )?;
            plan.check_input().map_err(adaptive::failure)?;
            plan
        }
        (None, automation) => {
            if args.adaptive.log.is_some() || args.adaptive.profile.is_some() {
                return Err(Failure::input(
                    "--log and --profile need --source (an adaptive session)",
                ));
            }
            match automation {
                Some(a) => SessionPlan::automated(&preset, duration, args.seed, a),
                None => SessionPlan::fixed(&preset, duration, args.seed),
            }
        }
    };
    // warnings about the input before the device opens (it may not)
    let shown: Vec<String> = plan.notes().to_vec();
    for n in &shown {
        report.note(n);
    }
    let plan = plan.with_content(Some(args.content.library()?));
    let options = DeviceOptions {
        device: choice,
        buffer_frames: (args.buffer > 0).then_some(args.buffer),
        record: args.record.clone(),
    };
    let session = LiveSession::on_device(plan, &options).map_err(|e| match e {
        SessionError::Output(e @ LiveError::NoSuchDevice { .. }) => Failure::input(e),
        SessionError::Output(e) => Failure::runtime(no_output(e)),
        e => adaptive::failure(e),
    })?;
    // a second Ctrl-C while fading out is ignored: the session is about to end
    let _ = session.stop_on_ctrl_c();
    for n in session.notes().iter().filter(|n| !shown.contains(n)) {
        report.note(n);
    }
    let started = session.started().expect("a session on a device").clone();
    let first_audio_ms = started
        .first_audio
        .map(|f| ms(f.duration_since(process_start)));
    let buffer = started.buffer;
    let (device_ms, engine_ms, stream_ms) = started.startup_ms;
    let rate = started.sample_rate;
    report.event(json!({
        "event": "started",
        "preset": preset.name,
        "device": started.device_id,
        "device_name": started.device_name,
        "sample_rate": rate,
        "channels": started.channels,
        "format": started.sample_format,
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
        started.device_name,
        started.device_id,
        rate,
        started.sample_format,
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
    if started.first_audio.is_none() {
        report.note("warning: the device has not asked for audio yet");
    }

    while let Ok(update) = session.updates().recv() {
        show_update(&mut report, &update, rate);
    }
    let summary = session.finish().map_err(adaptive::failure)?;
    report.clear_status();
    let mut output_failed: Option<String> = None;
    if let Some(o) = &summary.ended.outcome {
        if o.input_lost > 0 {
            let n = o.input_lost;
            report.event(json!({"event": "input_lost", "items": n}));
            report.note(&format!(
                "warning: {n} input items were lost before the session could read them (the log has when)"
            ));
        }
        if let (Some(log), Some(e)) = (&args.adaptive.log, &o.log_error) {
            output_failed = Some(format!(
                "{}: the session log could not be written: {e}",
                log.display()
            ));
        }
    }
    for n in &summary.ended.notes {
        report.note(n);
    }
    match &summary.ended.report {
        Some(Ok(out)) => {
            for n in &out.notes {
                report.note(&format!("warning: {n}"));
            }
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
        Some(Err(e)) => {
            output_failed = Some(format!("the report could not be written: {e}"));
        }
        None => {}
    }
    let recorded = summary.recorded.as_ref();
    report.event(json!({
        "event": "stopped",
        "reason": match &summary.end {
            End::Completed => "completed",
            End::Interrupted => "interrupted",
            End::DeviceFailed(_) => "device_failed",
        },
        "elapsed_s": summary.seconds,
        "frames": summary.frames,
        "audio_s": summary.frames as f64 / rate as f64,
        "underruns": summary.underruns,
        "device_losses": summary.device_losses,
        "stream_missing_s": summary.stream_missing_frames as f64 / rate as f64,
        "faded_out": summary.faded_out,
        "rms_dbfs": summary.level.rms_dbfs(),
        "peak_dbfs": summary.level.peak_dbfs(),
        "record": recorded.map(|r| json!({
            "files": r.files.iter().map(|f| f.display().to_string()).collect::<Vec<_>>(),
            "frames": r.frames,
            "dropped_samples": r.dropped_samples,
        })),
    }));
    for f in &summary.stream_failures {
        report.event(
            json!({"event": "stream_failed", "file": f.path.display().to_string(),
            "reason": f.reason}),
        );
        report.note(&format!("warning: {f}"));
    }
    report.summary(&summary_line(&preset.name, &summary));
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
    match &summary.end {
        End::Completed => Ok(ExitCode::SUCCESS),
        End::Interrupted => {
            report.note(&format!(
                "stopped early at {} (faded out){}",
                format_duration(Duration::from_secs(summary.seconds as u64)),
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

/// Prints one update of the session: JSON events, notes, the status line.
fn show_update(report: &mut Report, update: &Update, rate: u32) {
    match update {
        Update::Event(e) => report.session_event(e),
        Update::FadeOut {
            reason,
            at_s,
            seconds,
        } => report.event(json!({"event": "fade_out", "reason": reason.name(),
            "elapsed_s": at_s, "seconds": seconds})),
        Update::Device {
            event,
            at_s,
            underruns,
        } => {
            report.event(json!({"event": event.name(), "elapsed_s": round3(*at_s),
                "message": event.message(), "underruns": underruns}));
            match event {
                DeviceEvent::Underrun => {}
                DeviceEvent::DeviceLost(m) => {
                    report.note(&format!("output device lost: {m}; reopening"))
                }
                DeviceEvent::Stalled => {
                    report.note("the output device stopped asking for audio; reopening")
                }
                DeviceEvent::Rerouted(m) => report.note(&format!("output rerouted: {m}")),
                DeviceEvent::Error(m) => report.note(&format!("stream error: {m}")),
            }
        }
        Update::ReopenFailed {
            device,
            attempt,
            message,
        } => report.event(json!({"event": "reopen_failed", "device": device,
            "attempt": attempt, "message": message})),
        Update::Reopened {
            at_s,
            device_id,
            device_name,
        } => {
            report.event(json!({"event": "reopened", "elapsed_s": round3(*at_s),
                "device": device_id, "device_name": device_name}));
            report.note(&format!("playing on {device_name} [{device_id}] again"));
        }
        Update::BufferGrown {
            at_s,
            from,
            to,
            latency_ms,
            message,
        } => {
            report.event(json!({"event": "buffer_grown", "elapsed_s": round3(*at_s),
                "from": from, "to": to, "latency_ms": latency_ms}));
            report.note(message);
        }
        Update::BufferGrowFailed { message, .. } => {
            report.note(&format!(
                "warning: the buffer could not grow: {message}; reopening"
            ));
        }
        Update::Status(s) => {
            if s.new_second {
                let mut status = status_json(s, rate);
                if let Some(text) = &s.text {
                    status["session"] = json!(text);
                }
                report.event(status);
            }
            if s.telemetry.is_some() {
                let mut line = status_line(s);
                if let Some(text) = &s.text {
                    line = format!("{line} │ {text}");
                }
                report.status(&line);
            }
        }
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

fn status_line(s: &SessionStatus) -> String {
    let total = s.total_s;
    let t = s.at_s;
    let v = |p: Param| s.telemetry.map_or(f32::NAN, |tel| tel.values[p.index()]);
    let level = s
        .second
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
        s.underruns,
    )
}

fn status_json(s: &SessionStatus, _rate: u32) -> Value {
    let v = |p: Param| s.telemetry.map(|t| round3(t.values[p.index()] as f64));
    json!({
        "event": "status",
        "elapsed_s": round3(s.at_s),
        "remaining_s": round3((s.total_s - s.at_s).max(0.0)),
        "tempo": v(Param::Tempo),
        "brightness": v(Param::Brightness),
        "density": v(Param::Density),
        "breath_rate": v(Param::BreathRate),
        "energy": v(Param::Energy),
        "rms_dbfs": s.second.rms_dbfs(),
        "peak_dbfs": s.second.peak_dbfs(),
        "underruns": s.underruns,
        "frames": s.frames,
        "render_load": s.render_load.map(round3),
    })
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

fn clock(secs: f64) -> String {
    let s = secs.max(0.0).round() as u64;
    if s >= 3600 {
        format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
    } else {
        format!("{:02}:{:02}", s / 60, s % 60)
    }
}

fn summary_line(preset: &str, summary: &LiveSummary) -> String {
    let mut s = format!(
        "played {} for {}",
        preset,
        format_duration(Duration::from_secs_f64(summary.seconds.round())),
    );
    if let (Some(rms), Some(peak)) = (summary.level.rms_dbfs(), summary.level.peak_dbfs()) {
        s += &format!("; level: RMS {rms:.1} dBFS, peak {peak:.1} dBFS");
    }
    s += &format!("; underruns: {}", summary.underruns);
    if summary.device_losses > 0 {
        s += &format!(
            "; the output device was lost {} time{}{}",
            summary.device_losses,
            if summary.device_losses == 1 { "" } else { "s" },
            if matches!(summary.end, End::DeviceFailed(_)) {
                ""
            } else {
                " and reopened"
            }
        );
    }
    if summary.stream_missing_frames > 0 {
        s += &format!(
            "; {:.1} s of streamed recordings did not arrive in time (silence played there)",
            summary.stream_missing_frames as f64 / summary.sample_rate as f64
        );
    }
    if let Some(r) = &summary.recorded {
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
