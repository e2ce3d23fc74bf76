//! Isochord's session reports for clinical review: a finished (or interrupted) adaptive
//! session's log turned into `summary.json`, `timeline.csv`, plots (PNG and SVG), a
//! self-contained `report.html` and a FHIR R4 `fhir-bundle.json`. It also holds the
//! session log's schema ([`log_schema`]), which the engine writes and this crate reads.
//!
//! Threads: runs on the control/batch side, after a session (the engine writes its log
//! on the control thread with these types); nothing here touches the audio thread.
//!
//! - [`log_schema`]: the log's records (header, seconds, closing summary).
//! - [`read`]: parses and checks the log (errors name the file and line).
//! - [`timeline`]: the per-second timeline and its CSV.
//! - [`summary`]: the session's figures (every one defined in its module docs).
//! - [`plots`]: the figures drawn with plotters.
//! - [`html`]: the page a clinician opens.
//! - [`fhir`]: the FHIR R4 Bundle.
//! - [`duration`], [`utc`], [`output`]: duration and timestamp text, and writing files
//!   whole (through a temporary file renamed into place).
#![warn(missing_docs)]

pub mod duration;
pub mod fhir;
pub mod html;
pub mod log_schema;
pub mod output;
pub mod plots;
pub mod read;
pub mod summary;
pub mod timeline;
pub mod utc;

pub use duration::{format_duration, parse_duration};

pub use read::{read_log, ReportError, SessionData};
pub use summary::Summary;

use std::path::{Path, PathBuf};

/// Version of the report's `summary.json` layout.
pub const REPORT_FORMAT_VERSION: u32 = 1;

/// What a report is written with, besides the log.
#[derive(Clone, Debug, Default)]
pub struct ReportOptions {
    /// The session's WAV, for the page's audio player (linked by a path relative to the
    /// report folder, never embedded).
    pub wav: Option<PathBuf>,
    /// FHIR reference to the patient (e.g. `Patient/123`); never invented when absent.
    pub patient: Option<String>,
    /// FHIR reference to the encounter (e.g. `Encounter/456`).
    pub encounter: Option<String>,
    /// The FHIR code system of the measures that have no LOINC code and of the session
    /// procedure (a URI); `None` for [`fhir::DEFAULT_CODE_SYSTEM`].
    pub fhir_code_system: Option<String>,
}

impl ReportOptions {
    /// The FHIR code system in use: [`ReportOptions::fhir_code_system`], else
    /// [`fhir::DEFAULT_CODE_SYSTEM`].
    pub fn code_system(&self) -> &str {
        self.fhir_code_system
            .as_deref()
            .unwrap_or(fhir::DEFAULT_CODE_SYSTEM)
    }
}

/// What [`write_report`] wrote.
#[derive(Clone, Debug)]
pub struct ReportOutput {
    /// The report folder.
    pub dir: PathBuf,
    /// The figures of `summary.json`.
    pub summary: Summary,
    /// Files written, in the folder.
    pub files: Vec<PathBuf>,
    /// Notes on what could not be produced (plots without a font, …).
    pub notes: Vec<String>,
}

/// Reads the session log at `log` and writes the report into `out_dir` (created if
/// missing): `summary.json`, `timeline.csv`, `plot-*.png` / `plot-*.svg`, `report.html`
/// and `fhir-bundle.json`.
pub fn write_report(
    log: &Path,
    out_dir: &Path,
    options: &ReportOptions,
) -> Result<ReportOutput, ReportError> {
    let data = read_log(log)?;
    let io = |p: &Path, e: std::io::Error| ReportError::io(p, e);
    std::fs::create_dir_all(out_dir).map_err(|e| io(out_dir, e))?;
    let mut files = Vec::new();
    let mut notes = Vec::new();
    if let Some(n) = data.torn_line {
        notes.push(format!(
            "{}:{n}: the last line was cut off mid-record (the process was killed while writing it); it is left out and the session is reported as partial",
            log.display()
        ));
    }
    let mut write = |name: &str, bytes: &[u8]| -> Result<(), ReportError> {
        // a report's files are derived from the log: written again on every run, through
        // a temporary file renamed into place (devices and FIFOs written into, symbolic
        // links followed, anything else refused)
        let p = out_dir.join(name);
        crate::output::write_whole(&p, bytes, crate::output::Existing::Replace)
            .map_err(|e| ReportError::file(&p, e.message))?;
        files.push(p);
        Ok(())
    };

    let summary = summary::summarise(&data);
    let mut text = serde_json::to_string_pretty(&summary.to_json()).expect("JSON values serialise");
    text.push('\n');
    write("summary.json", text.as_bytes())?;
    write("timeline.csv", timeline::to_csv(&data.rows).as_bytes())?;

    let figures = match plots::draw_all(&data) {
        Ok(figs) => {
            for f in &figs {
                write(&format!("plot-{}.svg", f.name), f.svg.as_bytes())?;
                write(&format!("plot-{}.png", f.name), &f.png)?;
            }
            figs
        }
        Err(e) => {
            notes.push(format!("plots not drawn: {e}"));
            Vec::new()
        }
    };

    let wav = options.wav.as_ref().map(|w| relative_path(w, out_dir));
    let page = html::render(
        &data,
        &summary,
        &figures,
        wav.as_deref(),
        options.patient.as_deref(),
        &notes,
    );
    write("report.html", page.as_bytes())?;

    let bundle = fhir::bundle(&data, &summary, options);
    let mut text = serde_json::to_string_pretty(&bundle).expect("JSON values serialise");
    text.push('\n');
    write("fhir-bundle.json", text.as_bytes())?;

    Ok(ReportOutput {
        dir: out_dir.to_path_buf(),
        summary,
        files,
        notes,
    })
}

/// `target` as a path relative to the folder `from` (both made absolute first); as given
/// when that is not possible.
pub fn relative_path(target: &Path, from: &Path) -> String {
    let abs = |p: &Path| {
        std::fs::canonicalize(p).ok().or_else(|| {
            let parent = p.parent().filter(|q| !q.as_os_str().is_empty())?;
            Some(std::fs::canonicalize(parent).ok()?.join(p.file_name()?))
        })
    };
    let (Some(t), Some(f)) = (abs(target), abs(from)) else {
        return target.display().to_string();
    };
    let tc: Vec<_> = t.components().collect();
    let fc: Vec<_> = f.components().collect();
    let common = tc.iter().zip(&fc).take_while(|(a, b)| a == b).count();
    let mut parts: Vec<String> = vec!["..".into(); fc.len() - common];
    parts.extend(
        tc[common..]
            .iter()
            .map(|c| c.as_os_str().to_string_lossy().into_owned()),
    );
    parts.join("/")
}
