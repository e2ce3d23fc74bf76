//! `isochord features`: windowed biometric features from a recording.

use crate::Failure;
use clap::{Args, ValueEnum};
use isochord_engine::biometrics::baseline::{Baseline, BaselineConfig};
use isochord_engine::biometrics::features::{FeatureConfig, FeatureWindow};
use isochord_engine::biometrics::recording::{self, ExtractError, RecordingFormat};
use isochord_engine::biometrics::sources::Source;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// CSV of readings with a header (time, hr, rr_ms, eda_us, resp, acc_x…).
    Csv,
    /// JSON Lines with the same field names.
    Jsonl,
    /// An Empatica E4 export folder.
    E4,
    /// Raw ECG samples (CSV; give --rate or a time column).
    Ecg,
    /// Raw PPG samples (CSV; give --rate or a time column).
    Ppg,
    /// A WFDB record (.hea header with format 212 or 16 data), first signal as ECG.
    Wfdb,
}

#[derive(Args)]
pub struct FeaturesArgs {
    /// Recording: a file, or an E4 export folder.
    #[arg(long, short)]
    input: PathBuf,
    /// Input format (default: from the path: folder → e4, .hea → wfdb, .jsonl → jsonl,
    /// other → csv).
    #[arg(long, value_enum)]
    format: Option<Format>,
    /// Sample rate, Hz, for waveform or reading files without a time column.
    #[arg(long)]
    rate: Option<f64>,
    /// Window length, seconds.
    #[arg(long, default_value_t = 60.0)]
    window: f64,
    /// Time between windows, seconds.
    #[arg(long, default_value_t = 5.0)]
    hop: f64,
    /// Output CSV (default: standard output).
    #[arg(long, short)]
    out: Option<PathBuf>,
    /// Labels to join to the windows: a CSV with a header naming a time column (`time`,
    /// `time_s`, `Time(sec)`, `timestamp` or `unix`: session seconds, or unix seconds for
    /// an E4 folder) and a `label` column, one row per labelled instant (e.g. per second).
    /// Adds `label` (the most frequent label in the window) and `label_purity` (its
    /// share of the window's labelled rows) columns.
    #[arg(long)]
    labels: Option<PathBuf>,
    /// Only use the label rows whose `subject` or `participant` column equals this.
    #[arg(long, requires = "labels")]
    labels_subject: Option<String>,
    #[command(flatten)]
    baseline: BaselineArgs,
    /// Print nothing but errors on standard error.
    #[arg(long, short)]
    quiet: bool,
}

/// Where the person's baseline is taken (session seconds).
#[derive(Args, Clone, Copy)]
pub struct BaselineArgs {
    /// Start of the baseline period, session seconds (default 0).
    #[arg(long, value_name = "SECONDS")]
    pub baseline_from: Option<f64>,
    /// End of the baseline period, session seconds (default 300: the first 5 minutes).
    #[arg(long, value_name = "SECONDS")]
    pub baseline_to: Option<f64>,
}

impl BaselineArgs {
    /// The baseline collector these options ask for; `None` for the default.
    pub fn baseline(&self) -> Result<Option<Baseline>, Failure> {
        if self.baseline_from.is_none() && self.baseline_to.is_none() {
            return Ok(None);
        }
        let default = BaselineConfig::default();
        let from = self.baseline_from.unwrap_or(0.0);
        let to = self.baseline_to.unwrap_or(from + default.duration_s);
        if !(from.is_finite() && to.is_finite() && from >= 0.0 && to > from) {
            return Err(Failure::input(format!(
                "the baseline period must satisfy 0 ≤ --baseline-from < --baseline-to (got {from} to {to})"
            )));
        }
        Ok(Some(Baseline::new(
            BaselineConfig {
                duration_s: to - from,
                ..default
            },
            from,
        )))
    }
}

/// Labels over time, sorted by time (session seconds once [`Labels::shift`] was applied).
pub struct Labels {
    times: Vec<f64>,
    values: Vec<String>,
}

const TIME_COLUMNS: [&str; 6] = ["time", "time_s", "time(sec)", "timestamp", "unix", "t"];

impl Labels {
    /// Reads a label CSV (see `--labels`), keeping the rows of `subject` if given.
    pub fn load(path: &Path, subject: Option<&str>) -> Result<Labels, Failure> {
        let bad = |m: String| Failure::input(format!("{}: {m}", path.display()));
        let text = std::fs::read_to_string(path).map_err(|e| bad(e.to_string()))?;
        let mut lines = text.lines().enumerate();
        let (_, head) = lines
            .next()
            .ok_or_else(|| bad("empty (expected a header with time and label columns)".into()))?;
        let cols: Vec<String> = head
            .split(',')
            .map(|c| c.trim().trim_matches('"').to_ascii_lowercase())
            .collect();
        let find = |names: &[&str]| cols.iter().position(|c| names.contains(&c.as_str()));
        let t_col = find(&TIME_COLUMNS).ok_or_else(|| {
            bad(format!(
                "no time column (expected one of {})",
                TIME_COLUMNS.join(", ")
            ))
        })?;
        let l_col = find(&["label"]).ok_or_else(|| bad("no `label` column".into()))?;
        let s_col = find(&["subject", "participant"]);
        if subject.is_some() && s_col.is_none() {
            return Err(bad(
                "--labels-subject needs a `subject` or `participant` column".into(),
            ));
        }
        let mut rows: Vec<(f64, String)> = Vec::new();
        for (i, line) in lines {
            if line.trim().is_empty() {
                continue;
            }
            let cells: Vec<&str> = line
                .split(',')
                .map(|c| c.trim().trim_matches('"'))
                .collect();
            if let (Some(want), Some(c)) = (subject, s_col) {
                if cells.get(c).copied() != Some(want) {
                    continue;
                }
            }
            let t: f64 = cells
                .get(t_col)
                .and_then(|c| c.parse().ok())
                .filter(|t: &f64| t.is_finite())
                .ok_or_else(|| bad(format!("line {}: no valid time", i + 1)))?;
            let label = cells.get(l_col).copied().unwrap_or("");
            if !label.is_empty() {
                rows.push((t, label.to_string()));
            }
        }
        if rows.is_empty() {
            return Err(bad(match subject {
                Some(s) => format!("no labelled rows for subject {s}"),
                None => "no labelled rows".into(),
            }));
        }
        rows.sort_by(|a, b| a.0.total_cmp(&b.0));
        let (times, values) = rows.into_iter().unzip();
        Ok(Labels { times, values })
    }

    /// Whether the times look like unix seconds rather than session seconds.
    pub fn unix(&self) -> bool {
        self.times.first().is_some_and(|t| *t > 1e8)
    }

    /// Subtracts `origin` from every time.
    pub fn shift(&mut self, origin: f64) {
        for t in &mut self.times {
            *t -= origin;
        }
    }

    /// The most frequent label among the rows in `[start, end)` and its share of them.
    pub fn window(&self, start: f64, end: f64) -> Option<(&str, f64)> {
        let a = self.times.partition_point(|t| *t < start);
        let b = self.times.partition_point(|t| *t < end);
        if a >= b {
            return None;
        }
        let mut counts: Vec<(&str, usize)> = Vec::new();
        for v in &self.values[a..b] {
            match counts.iter_mut().find(|(l, _)| *l == v.as_str()) {
                Some(c) => c.1 += 1,
                None => counts.push((v, 1)),
            }
        }
        // most frequent; ties go to the label that sorts first
        counts.sort_by(|x, y| y.1.cmp(&x.1).then(x.0.cmp(y.0)));
        Some((counts[0].0, counts[0].1 as f64 / (b - a) as f64))
    }
}

impl Format {
    fn library(self) -> RecordingFormat {
        match self {
            Format::Csv => RecordingFormat::Csv,
            Format::Jsonl => RecordingFormat::Jsonl,
            Format::E4 => RecordingFormat::E4,
            Format::Ecg => RecordingFormat::Ecg,
            Format::Ppg => RecordingFormat::Ppg,
            Format::Wfdb => RecordingFormat::Wfdb,
        }
    }
}

/// The format of a recording, from its path.
pub fn guess_format(path: &Path) -> Format {
    match RecordingFormat::guess(path) {
        RecordingFormat::Csv => Format::Csv,
        RecordingFormat::Jsonl => Format::Jsonl,
        RecordingFormat::E4 => Format::E4,
        RecordingFormat::Ecg => Format::Ecg,
        RecordingFormat::Ppg => Format::Ppg,
        RecordingFormat::Wfdb => Format::Wfdb,
    }
}

/// Opens a recording; also returns its start in unix seconds where the format has one
/// (E4).
pub fn open(
    path: &Path,
    format: Format,
    rate: Option<f64>,
) -> Result<(Box<dyn Source>, Option<f64>), Failure> {
    recording::open(path, format.library(), rate).map_err(Failure::input)
}

fn header(labels: bool) -> String {
    let mut cols = recording::window_columns();
    if labels {
        cols.extend(["label".to_string(), "label_purity".to_string()]);
    }
    cols.join(",")
}

fn row(w: &FeatureWindow, labels: Option<&Labels>) -> String {
    let num = |v: Option<f64>| v.map(|x| format!("{x:.6}")).unwrap_or_default();
    let mut cells = vec![
        format!("{:.3}", w.start),
        format!("{:.3}", w.end),
        format!("{:.4}", w.quality),
        w.beats.to_string(),
        w.rejected_beats.to_string(),
        w.rejected_samples.to_string(),
    ];
    // the feature columns follow the six above, in the library's order
    cells.extend(recording::window_values(w).into_iter().skip(6).map(num));
    if let Some(labels) = labels {
        match labels.window(w.start, w.end) {
            Some((l, purity)) => cells.extend([l.to_string(), format!("{purity:.3}")]),
            None => cells.extend([String::new(), String::new()]),
        }
    }
    cells.join(",")
}

/// What [`extract`] needs to know.
pub struct Extraction<'a> {
    /// The recording.
    pub input: &'a Path,
    /// Its format.
    pub format: Format,
    /// Sample rate for files without a time column.
    pub rate: Option<f64>,
    /// Window length, seconds.
    pub window: f64,
    /// Hop, seconds.
    pub hop: f64,
    /// Baseline period, if not the default.
    pub baseline: BaselineArgs,
    /// Print the first rejected items on standard error.
    pub warn: bool,
}

/// Runs the Rust feature code over a recording, calling `each` for every full window.
/// Returns the recording's start in unix seconds (E4) and the count of rejected items.
pub fn extract(
    x: &Extraction,
    each: impl FnMut(FeatureWindow) -> Result<(), Failure>,
) -> Result<(Option<f64>, usize), Failure> {
    if !(x.window > 0.0 && x.hop > 0.0 && x.hop <= x.window) {
        return Err(Failure::input(
            "--window and --hop must be positive, with --hop ≤ --window",
        ));
    }
    let baseline = x.baseline.baseline()?;
    let (mut source, start_unix) = open(x.input, x.format, x.rate)?;
    let config = FeatureConfig {
        window_s: x.window,
        hop_s: x.hop,
        ..FeatureConfig::default()
    };
    let mut shown = 0usize;
    let issues = recording::extract(source.as_mut(), config, baseline, each, |issue| {
        shown += 1;
        if x.warn && shown <= 20 {
            eprintln!("warning: {issue}");
        }
    })
    .map_err(|e| match e {
        ExtractError::Caller(f) => f,
        ExtractError::Config(m) => Failure::input(m),
        ExtractError::Source(issue) => Failure::input(issue),
    })?;
    Ok((start_unix, issues))
}

/// Puts label times on the recording's session time base.
pub fn align_labels(
    labels: &mut Labels,
    start_unix: Option<f64>,
    path: &Path,
) -> Result<(), Failure> {
    if labels.unix() {
        let origin = start_unix.ok_or_else(|| {
            Failure::input(format!(
                "the labels are in unix seconds, but {} has no start time (only E4 folders do): give session seconds",
                path.display()
            ))
        })?;
        labels.shift(origin);
    }
    Ok(())
}

pub fn run(args: FeaturesArgs) -> Result<ExitCode, Failure> {
    let format = args.format.unwrap_or_else(|| guess_format(&args.input));
    let mut labels = match &args.labels {
        Some(p) => Some(Labels::load(p, args.labels_subject.as_deref())?),
        None => None,
    };
    let x = Extraction {
        input: &args.input,
        format,
        rate: args.rate,
        window: args.window,
        hop: args.hop,
        baseline: args.baseline,
        warn: !args.quiet,
    };
    let io = |e: std::io::Error| Failure::runtime(format!("writing features: {e}"));
    // label times may be unix seconds: they are aligned once the recording's start is
    // known, so the windows are collected first
    let mut windows = Vec::new();
    let (start_unix, issues) = extract(&x, |w| {
        windows.push(w);
        Ok(())
    })?;
    if let Some(l) = labels.as_mut() {
        align_labels(l, start_unix, &args.input)?;
    }
    let mut out: Box<dyn Write> = match &args.out {
        Some(p) => Box::new(std::io::BufWriter::new(
            isochord_engine::output::open_direct(p, isochord_engine::output::Existing::Replace)
                .map_err(Failure::input)?
                .0,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    };
    writeln!(out, "{}", header(labels.is_some())).map_err(io)?;
    for w in &windows {
        writeln!(out, "{}", row(w, labels.as_ref())).map_err(io)?;
    }
    out.flush().map_err(io)?;
    if !args.quiet {
        eprintln!(
            "{} windows of {} s every {} s from {}{}",
            windows.len(),
            args.window,
            args.hop,
            args.input.display(),
            if issues > 0 {
                format!("; {issues} rejected items (first 20 shown)")
            } else {
                String::new()
            }
        );
    }
    Ok(ExitCode::SUCCESS)
}
