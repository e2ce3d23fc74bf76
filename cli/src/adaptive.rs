//! Adaptive sessions from the command line: the options shared by `render` and `play`,
//! turned into a [`SessionPlan`] (the library does the rest).

use crate::Failure;
use clap::Args;
use isochord_engine::report::ReportOptions;
use isochord_engine::session::{AdaptiveOptions, Input, ListenerKind, SessionError, SessionPlan};
use isochord_engine::Preset;
use std::path::PathBuf;
use std::time::Duration;

/// Options of adaptive sessions.
#[derive(Args, Clone, Debug, Default)]
pub struct AdaptiveArgs {
    /// Mood model (ONNX) estimating arousal (default: the bundled model; the rule-based
    /// estimator stands in when a model cannot be used).
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// Listener profile (JSON): remembers which timbre palette calmed this listener best
    /// and their breathing rate. Created if missing.
    #[arg(long)]
    pub profile: Option<PathBuf>,
    /// Timbre palette to play (default: chosen by the profile, else the preset's first).
    #[arg(long)]
    pub palette: Option<String>,
    /// dB SPL at the ear produced by a 0 dBFS RMS signal on this output (for the
    /// WHO-ITU H.870 sound allowance; without it 100 dB SPL is assumed).
    #[arg(long, value_parser = parse_db)]
    pub calibration: Option<f64>,
    /// Who is listening: adult (80 dB(A) for 40 h a week) or child (75 dB(A)).
    #[arg(long, default_value = "adult", value_parser = ["adult", "child"])]
    pub listener: String,
    /// Hard cap on the level, dB SPL (default for a child: 75).
    #[arg(long, value_parser = parse_db)]
    pub cap_db: Option<f64>,
    /// Session log: JSON Lines, one record per second (features, model output, policy
    /// decisions with reasons, parameters, level, allowance).
    #[arg(long)]
    pub log: Option<PathBuf>,
    /// Replace output files that already exist (--out, --record, --log); without it an
    /// existing file is refused. Devices and FIFOs are always written into.
    #[arg(long)]
    pub force: bool,
    /// FHIR code system (a URI) of the report's measures without a LOINC code and of its
    /// session procedure, with --report (default:
    /// urn:uuid:fcb19ff6-fa03-44b7-99d6-4ee42138e4ee).
    #[arg(long, value_name = "URI")]
    pub fhir_code_system: Option<String>,
}

impl AdaptiveArgs {
    /// For `--report DIR`: creates the folder and, unless `--log` names another file,
    /// sends the session log to DIR/session.jsonl.
    pub fn log_into_report(&mut self, dir: Option<&std::path::Path>) -> Result<(), Failure> {
        if let Some(dir) = dir {
            std::fs::create_dir_all(dir)
                .map_err(|e| Failure::input(format!("{}: {e}", dir.display())))?;
            self.log.get_or_insert_with(|| dir.join("session.jsonl"));
        }
        Ok(())
    }
}

fn parse_db(s: &str) -> Result<f64, String> {
    let v: f64 = s.parse().map_err(|_| format!("{s:?} is not a number"))?;
    if !(20.0..=140.0).contains(&v) {
        return Err(format!("{v} dB is outside 20..=140"));
    }
    Ok(v)
}

impl AdaptiveArgs {
    /// The library's options for these arguments.
    pub fn options(&self, report: Option<&std::path::Path>) -> AdaptiveOptions {
        AdaptiveOptions {
            model: self.model.clone(),
            profile: self.profile.clone(),
            palette: self.palette.clone(),
            calibration_db: self.calibration,
            listener: if self.listener == "child" {
                ListenerKind::Child
            } else {
                ListenerKind::Adult
            },
            cap_db: self.cap_db,
            log: self.log.clone(),
            force: self.force,
            report: report.map(|p| p.to_path_buf()),
            report_options: ReportOptions {
                fhir_code_system: self.fhir_code_system.clone(),
                ..ReportOptions::default()
            },
        }
    }
}

/// The plan of an adaptive session of `preset` over the input `spec`.
pub fn plan(
    preset: &Preset,
    duration: Duration,
    spec: &str,
    args: &AdaptiveArgs,
    report: Option<&std::path::Path>,
    seed: u64,
) -> Result<SessionPlan, Failure> {
    let input = Input::parse(spec).map_err(failure)?;
    SessionPlan::adaptive(preset, duration, seed, input, &args.options(report)).map_err(failure)
}

/// The exit code a session error deserves.
pub fn failure(e: SessionError) -> Failure {
    match e {
        SessionError::Invalid(m) => Failure::input(m),
        SessionError::Input(e) => Failure::input(e),
        SessionError::Palette(e) => Failure::input(e),
        e => Failure::runtime(e),
    }
}
