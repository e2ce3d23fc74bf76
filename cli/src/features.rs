//! `isochord features`: windowed biometric features from a recording.

use crate::Failure;
use clap::{Args, ValueEnum};
use isochord_engine::biometrics::features::{
    Feature, FeatureConfig, FeatureExtractor, FeatureWindow,
};
use isochord_engine::biometrics::sources::{
    CsvOptions, CsvSource, E4Options, E4Source, JsonLinesOptions, JsonLinesSource, Source,
    VecSource, WaveformCsvOptions, WaveformCsvSource,
};
use isochord_engine::biometrics::{wfdb, SensorData, WaveKind, Waveform};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
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
    /// Print nothing but errors on standard error.
    #[arg(long, short)]
    quiet: bool,
}

fn guess_format(path: &Path) -> Format {
    if path.is_dir() {
        return Format::E4;
    }
    match path.extension().and_then(|e| e.to_str()) {
        Some("hea") => Format::Wfdb,
        Some("jsonl") | Some("ndjson") => Format::Jsonl,
        _ => Format::Csv,
    }
}

fn open(args: &FeaturesArgs, format: Format) -> Result<Box<dyn Source>, Failure> {
    let path = &args.input;
    let waveform = |kind| {
        let mut o = WaveformCsvOptions::new(kind);
        o.rate = args.rate;
        WaveformCsvSource::open(path, o).map(|s| Box::new(s) as Box<dyn Source>)
    };
    let source: Box<dyn Source> = match format {
        Format::Csv => {
            Box::new(CsvSource::open(path, CsvOptions { rate: args.rate }).map_err(Failure::input)?)
        }
        Format::Jsonl => Box::new(
            JsonLinesSource::open(path, JsonLinesOptions { rate: args.rate })
                .map_err(Failure::input)?,
        ),
        Format::E4 => Box::new(E4Source::open(path, E4Options::default()).map_err(Failure::input)?),
        Format::Ecg => waveform(WaveKind::Ecg).map_err(Failure::input)?,
        Format::Ppg => waveform(WaveKind::Ppg).map_err(Failure::input)?,
        Format::Wfdb => {
            let record = wfdb::read_record(path).map_err(Failure::input)?;
            let fs = record.header.fs;
            let samples = record.signals.into_iter().next().ok_or_else(|| {
                Failure::input(format!("{}: the record has no signals", path.display()))
            })?;
            // one-second chunks, as a live ECG would arrive
            let chunk = fs.round().max(1.0) as usize;
            let data: Vec<SensorData> = samples
                .chunks(chunk)
                .enumerate()
                .map(|(i, c)| {
                    SensorData::Waveform(Waveform {
                        kind: WaveKind::Ecg,
                        start: (i * chunk) as f64 / fs,
                        rate: fs,
                        samples: c.to_vec(),
                    })
                })
                .collect();
            Box::new(VecSource::from_data(path.display().to_string(), data))
        }
    };
    Ok(source)
}

fn header() -> String {
    let mut cols = vec![
        "start_s",
        "end_s",
        "quality",
        "beats",
        "rejected_beats",
        "rejected_samples",
    ]
    .into_iter()
    .map(String::from)
    .collect::<Vec<_>>();
    cols.extend(Feature::ALL.iter().map(|f| f.name().to_string()));
    cols.extend(Feature::ALL.iter().map(|f| format!("rel_{}", f.name())));
    cols.join(",")
}

fn row(w: &FeatureWindow) -> String {
    let num = |v: Option<f64>| v.map(|x| format!("{x:.6}")).unwrap_or_default();
    let mut cells = vec![
        format!("{:.3}", w.start),
        format!("{:.3}", w.end),
        format!("{:.4}", w.quality),
        w.beats.to_string(),
        w.rejected_beats.to_string(),
        w.rejected_samples.to_string(),
    ];
    cells.extend(w.features.iter().map(|(_, v)| num(v)));
    cells.extend(
        Feature::ALL
            .iter()
            .map(|f| num(w.relative.as_ref().and_then(|r| r.get(*f)))),
    );
    cells.join(",")
}

/// Windows that start before the recording does are only partly covered: leave them out.
fn full(w: &FeatureWindow) -> bool {
    w.start >= -1e-9
}

pub fn run(args: FeaturesArgs) -> Result<ExitCode, Failure> {
    if !(args.window > 0.0 && args.hop > 0.0 && args.hop <= args.window) {
        return Err(Failure::input(
            "--window and --hop must be positive, with --hop ≤ --window",
        ));
    }
    let format = args.format.unwrap_or_else(|| guess_format(&args.input));
    let mut source = open(&args, format)?;
    let config = FeatureConfig {
        window_s: args.window,
        hop_s: args.hop,
        ..FeatureConfig::default()
    };
    let mut extractor = FeatureExtractor::new(config).map_err(|e| Failure::input(e.0))?;
    let mut out: Box<dyn Write> = match &args.out {
        Some(p) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(p)
                .map_err(|e| Failure::input(format!("{}: {e}", p.display())))?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    };
    let io = |e: std::io::Error| Failure::runtime(format!("writing features: {e}"));
    writeln!(out, "{}", header()).map_err(io)?;
    let (mut windows, mut issues) = (0usize, 0usize);
    while let Some(item) = source.next() {
        match item {
            Ok(data) => {
                for w in extractor.push(&data).into_iter().filter(full) {
                    writeln!(out, "{}", row(&w)).map_err(io)?;
                    windows += 1;
                }
            }
            Err(issue) if issue.fatal => return Err(Failure::input(issue)),
            Err(issue) => {
                issues += 1;
                if !args.quiet && issues <= 20 {
                    eprintln!("warning: {issue}");
                }
            }
        }
    }
    for w in extractor.finish().into_iter().filter(full) {
        writeln!(out, "{}", row(&w)).map_err(io)?;
        windows += 1;
    }
    out.flush().map_err(io)?;
    if !args.quiet {
        eprintln!(
            "{windows} windows of {} s every {} s from {}{}",
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
