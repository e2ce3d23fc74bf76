//! `isochord render`: an offline session to WAV, FLAC or Ogg Opus.

use crate::adaptive::{self, AdaptiveArgs};
use crate::content::ContentArgs;
use crate::Failure;
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use isochord_engine::encode::{self, Container, Encoding};
use isochord_engine::output::{self, Existing};
use isochord_engine::session::{InputSpec, SessionPlan};
use isochord_engine::{format_duration, parse_duration, Automation, Preset};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Args)]
pub struct RenderArgs {
    /// Built-in preset (sleep, relax, focus, uplift, piano, nocturne, drift) or path to a preset .toml.
    #[arg(long, short)]
    preset: String,
    /// Length, e.g. 90s, 10m, 1h30m (default: the preset's).
    #[arg(long, short, value_parser = parse_duration)]
    duration: Option<Duration>,
    /// Output file: .wav, .flac, .opus or .ogg (without --format the extension chooses
    /// the format; any other name is a WAV).
    #[arg(long, short)]
    out: PathBuf,
    /// Seed for every random choice: the same seed renders the same file.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Keyframe file (CSV: time, then parameter columns) steering the session.
    #[arg(long, conflicts_with = "biometrics")]
    automation: Option<PathBuf>,
    /// Biometric recording steering an adaptive session: an Empatica E4 export folder
    /// (`e4:DIR` or the folder), a CSV or JSON Lines file of readings (`file:PATH` or the
    /// path), or `sim` for the simulated listener. Replayed against the virtual clock.
    #[arg(long)]
    biometrics: Option<String>,
    #[command(flatten)]
    adaptive: AdaptiveArgs,
    #[command(flatten)]
    content: ContentArgs,
    /// Output sample rate, Hz.
    #[arg(long, default_value_t = 48_000, value_parser = clap::value_parser!(u32).range(8_000..=192_000))]
    sample_rate: u32,
    /// Output format: WAV as f32, s24 or s16; FLAC as flac (24-bit) or flac16; or opus
    /// (Ogg Opus). Default: from the --out extension, else f32.
    #[arg(long, value_parser = ["f32", "s24", "s16", "flac", "flac16", "opus"])]
    format: Option<String>,
    /// Opus bit rate in kbit/s (default 96).
    #[arg(long, value_name = "KBPS", value_parser = clap::value_parser!(u32).range(6..=510))]
    bitrate: Option<u32>,
    /// Write a clinical-review report of the adaptive session into this folder (the log
    /// goes to DIR/session.jsonl unless --log is given).
    #[arg(long, value_name = "DIR", requires = "biometrics")]
    report: Option<PathBuf>,
    /// Print nothing but errors.
    #[arg(long, short)]
    quiet: bool,
}

pub fn run(mut args: RenderArgs) -> Result<ExitCode, Failure> {
    args.adaptive.log_into_report(args.report.as_deref())?;
    let preset = Preset::find(&args.preset).map_err(Failure::input)?;
    let automation = match &args.automation {
        Some(path) => Some(Automation::load(path).map_err(Failure::input)?),
        None => None,
    };
    let given = match &args.format {
        Some(f) => Some(f.parse::<Encoding>().map_err(Failure::input)?),
        None => None,
    };
    let encoding = Encoding::for_output(given, &args.out, args.bitrate.map(|k| k * 1000))
        .map_err(Failure::input)?;
    let target = output::check(&args.out, Existing::from_force(args.adaptive.force))
        .map_err(Failure::input)?;
    // with the WAV on standard output, everything else goes to standard error
    let to_stdout = target.is_stdout();
    macro_rules! say {
        ($($t:tt)*) => {
            if to_stdout { eprintln!($($t)*) } else { println!($($t)*) }
        };
    }
    if let output::Target::File(dest) = &target {
        for n in output::clean_leftovers(dest).notes() {
            if !args.quiet {
                eprintln!("note: {n}");
            }
        }
    }
    let duration = args.duration.unwrap_or(preset.duration);
    if duration < Duration::from_secs(1) {
        return Err(Failure::input("--duration must be at least 1s"));
    }
    let quiet = args.quiet;
    let plan = match (&args.biometrics, automation) {
        (Some(spec), _) => {
            if spec.parse::<InputSpec>().is_ok_and(|i| i.is_live()) {
                return Err(Failure::input(format!(
                    "--biometrics {spec}: a live input cannot be rendered offline; record it to a file, or use `isochord play --source`"
                )));
            }
            let plan = adaptive::plan(
                &preset,
                duration,
                spec,
                &args.adaptive,
                args.report.as_deref(),
                args.seed,
            )?;
            // warnings even with --quiet: they say what the session lacks
            for n in plan.notes() {
                if !quiet || n.starts_with("warning") {
                    eprintln!("{n}");
                }
            }
            plan
        }
        (None, Some(a)) => SessionPlan::automated(&preset, duration, args.seed, a),
        (None, None) => {
            if args.adaptive.log.is_some() || args.adaptive.profile.is_some() {
                return Err(Failure::input(
                    "--log and --profile need --biometrics (an adaptive session)",
                ));
            }
            SessionPlan::fixed(&preset, duration, args.seed)
        }
    };
    let adaptive = plan.is_adaptive();
    let plan = plan.with_content(Some(args.content.library()?));
    if !quiet {
        for n in args.content.warnings(&plan.sound) {
            eprintln!("{n}");
        }
    }

    let stop = Arc::new(AtomicBool::new(false));
    {
        let stop = stop.clone();
        // a second Ctrl-C while fading out is ignored: the file is about to be complete
        let _ = ctrlc::set_handler(move || stop.store(true, Ordering::Relaxed));
    }

    let (session, mut end) = plan.offline(args.sample_rate).map_err(adaptive::failure)?;
    if !quiet {
        for n in end.notes() {
            eprintln!("{n}");
        }
    }
    let total = session.total_frames();
    let mut sink =
        encode::create(&args.out, args.sample_rate, encoding).map_err(Failure::runtime)?;
    let bar = if !args.quiet && std::io::stderr().is_terminal() {
        let bar = ProgressBar::new(total);
        bar.set_style(
            ProgressStyle::with_template(
                "{spinner} rendering {msg} [{bar:30}] {percent:>3}% eta {eta}",
            )
            .expect("valid template")
            .progress_chars("=> "),
        );
        bar.set_message(preset.name.clone());
        Some(bar)
    } else {
        None
    };
    let started = Instant::now();
    let sr = args.sample_rate as f64;
    let outcome = session
        .render(
            |buf| sink.write(buf),
            &stop,
            |done, total| {
                if let Some(b) = &bar {
                    b.set_length(total);
                    b.set_position(done);
                }
            },
        )
        .map_err(Failure::runtime)?;
    let files = sink.finish().map_err(Failure::runtime)?;
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    let elapsed = started.elapsed().as_secs_f64();
    let rendered = Duration::from_secs_f64(outcome.frames as f64 / sr);
    if !args.quiet {
        let names: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
        say!(
            "rendered {} ({}) at {} Hz {} → {}",
            preset.name,
            format_duration(rendered),
            args.sample_rate,
            encoding.describe(),
            names.join(", ")
        );
        if files.len() > 1 {
            say!(
                "split into {} parts: one WAV file holds at most 4 GB",
                files.len()
            );
        }
        let m = &outcome.meter;
        say!(
            "level: RMS {:.1} dBFS, peak {:.1} dBFS (ceiling {:.1} dBFS){}",
            m.rms_dbfs(),
            m.peak_dbfs(),
            preset.sound.master.ceiling_dbfs,
            if m.limiter_min_gain < 0.999 {
                format!(
                    ", limiter reduced peaks by up to {:.1} dB",
                    -20.0 * m.limiter_min_gain.log10()
                )
            } else {
                String::new()
            }
        );
        say!(
            "time: {:.2} s ({:.0}× real time){}",
            elapsed,
            rendered.as_secs_f64() / elapsed.max(1e-9),
            if outcome.commands > 0 {
                format!(", {} parameter changes", outcome.commands)
            } else {
                String::new()
            }
        );
    }
    // warnings even with --quiet: the file lacks what the session meant to play
    let failed = end.take_stream_failures();
    for f in &failed {
        eprintln!("warning: {f}");
    }
    if outcome.stream_missing_frames > 0 && failed.is_empty() {
        eprintln!(
            "warning: {:.1} s of streamed recordings did not arrive in time (silence played there)",
            outcome.stream_missing_frames as f64 / sr
        );
    }
    let session_outcome = end.outcome();
    if adaptive {
        if let (Some(o), false) = (&session_outcome, args.quiet) {
            let a = |x: Option<f64>| x.map_or("--".to_string(), |v| format!("{v:.2}"));
            say!(
                "session: arousal {} at the start → {} at the end ({} of {} estimates usable); {} events, {} escalations; breathing baseline {}; sound allowance used {:.2} % (Leq {})",
                a(o.arousal_start),
                a(o.arousal_end),
                o.usable_estimates.0,
                o.usable_estimates.1,
                o.events,
                o.escalations,
                o.breath_baseline.map_or("not measured".into(), |b| format!("{b:.1}/min")),
                100.0 * o.allowance_used,
                o.leq_db.map_or("--".into(), |l| format!("{l:.1} dB SPL")),
            );
        }
        if let (Some(o), Some(spec)) = (&session_outcome, &args.biometrics) {
            if let Some(line) = input_loss_line(spec, o) {
                eprintln!("{line}");
            }
            if o.input_items == 0 {
                return Err(Failure::input(format!(
                    "{spec}: no usable readings ({} rejected, {} ignored): nothing steered the session; the log lists the rejected rows",
                    o.input_rejected, o.input_ignored
                )));
            }
        }
    }
    end.set_report_wav(files.first().cloned());
    let report_started = Instant::now();
    let ended = end.finish(outcome.frames as f64 / sr);
    for n in &ended.notes {
        if !args.quiet || n.starts_with("warning") {
            eprintln!("{n}");
        }
    }
    if let (Some(log), Some(e)) = (
        &args.adaptive.log,
        session_outcome.as_ref().and_then(|o| o.log_error.clone()),
    ) {
        return Err(Failure::runtime(format!(
            "{}: the session log could not be written: {e}; {} is complete and valid, the log is not",
            log.display(),
            files
                .iter()
                .map(|f| f.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    if let (Some(log), false, true) = (&args.adaptive.log, args.quiet, adaptive) {
        say!("log: {}", log.display());
    }
    if let (Some(dir), Some(r)) = (&args.report, ended.report) {
        crate::report::show(r, dir, report_started, args.quiet)?;
    }
    if outcome.interrupted {
        eprintln!(
            "stopped early at {}: the {} is complete and valid up to there (faded out)",
            format_duration(rendered),
            match encoding.container() {
                Container::Wav => "WAV",
                Container::Flac => "FLAC file",
                Container::Opus => "Opus file",
            }
        );
        return Ok(ExitCode::from(130));
    }
    Ok(ExitCode::SUCCESS)
}

/// One line on what the input lost (rejected and ignored rows), or `None` when nothing was.
pub fn input_loss_line(spec: &str, o: &isochord_engine::session::SessionOutcome) -> Option<String> {
    if o.input_rejected == 0 && o.input_ignored == 0 {
        return None;
    }
    let total = o.input_items + o.input_rejected;
    Some(format!(
        "warning: {spec}: {} of {} readings rejected ({:.1} %: malformed, implausible or out of order){}; the log lists them",
        o.input_rejected,
        total,
        100.0 * o.input_rejected as f64 / total.max(1) as f64,
        if o.input_ignored > 0 {
            format!(", {} ignored (unknown columns or keys)", o.input_ignored)
        } else {
            String::new()
        }
    ))
}
