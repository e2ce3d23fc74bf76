//! `isochord report`: a session log (offline render or live recording) turned into a
//! report folder: summary.json, timeline.csv, plots, report.html and fhir-bundle.json.

use crate::Failure;
use clap::Args;
use isochord_engine::report::{write_report, ReportError, ReportOptions, ReportOutput};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

#[derive(Args)]
pub struct ReportArgs {
    /// The session log (JSON Lines, from `render --log` or `play --log`).
    log: PathBuf,
    /// Report folder (default: next to the log, named after it with `-report`).
    #[arg(long, short)]
    out: Option<PathBuf>,
    /// The session's WAV, for the page's audio player (linked, not copied).
    #[arg(long)]
    wav: Option<PathBuf>,
    /// FHIR reference to the patient for the export, e.g. `Patient/123`.
    #[arg(long)]
    patient: Option<String>,
    /// FHIR reference to the encounter for the export, e.g. `Encounter/456`.
    #[arg(long)]
    encounter: Option<String>,
    /// FHIR code system (a URI) of the measures without a LOINC code and of the session
    /// procedure in the export (default: urn:uuid:fcb19ff6-fa03-44b7-99d6-4ee42138e4ee).
    #[arg(long, value_name = "URI")]
    fhir_code_system: Option<String>,
    /// Print nothing but errors.
    #[arg(long, short)]
    quiet: bool,
}

pub fn run(args: ReportArgs) -> Result<ExitCode, Failure> {
    let out = args.out.clone().unwrap_or_else(|| {
        let stem = args
            .log
            .file_stem()
            .map_or("session".into(), |s| s.to_string_lossy().into_owned());
        args.log.with_file_name(format!("{stem}-report"))
    });
    let options = ReportOptions {
        wav: args.wav.clone(),
        patient: args.patient.clone(),
        encounter: args.encounter.clone(),
        fhir_code_system: args.fhir_code_system.clone(),
    };
    write(&args.log, &out, &options, args.quiet)?;
    Ok(ExitCode::SUCCESS)
}

/// Writes the report of `log` into `out`, printing where it went (unless `quiet`).
pub fn write(
    log: &Path,
    out: &Path,
    options: &ReportOptions,
    quiet: bool,
) -> Result<ReportOutput, Failure> {
    let started = Instant::now();
    show(write_report(log, out, options), out, started, quiet)
}

/// Prints where a written report went (unless `quiet`) and its warnings; a report that
/// could not be written is a failure.
pub fn show(
    written: Result<ReportOutput, ReportError>,
    out: &Path,
    started: Instant,
    quiet: bool,
) -> Result<ReportOutput, Failure> {
    let r = written.map_err(|e| {
        if e.line.is_some() {
            Failure::input(e)
        } else {
            Failure::runtime(e)
        }
    })?;
    for n in &r.notes {
        eprintln!("warning: {n}");
    }
    if !quiet {
        let partial = r.summary.session.partial;
        println!(
            "report: {} ({} files{}) in {:.2} s",
            out.join("report.html").display(),
            r.files.len(),
            if partial { ", partial session" } else { "" },
            started.elapsed().as_secs_f64()
        );
    }
    Ok(r)
}
