//! Recordings on disk and their feature table: opening a recording by path (the format
//! from the path or given), running the windowed features over it, and the table's
//! columns (`start_s`, `end_s`, `quality`, `beats`, `rejected_beats`,
//! `rejected_samples`, each [`Feature`] by name, then each feature relative to the
//! person's baseline as `rel_NAME`). `isochord features` and the Python package both
//! read recordings through here.
//!
//! Runs on the control/batch side.

use crate::baseline::Baseline;
use crate::feature_types::{Feature, FeatureWindow};
use crate::features::{FeatureConfig, FeatureExtractor};
use crate::signal::{SensorData, WaveKind, Waveform};
use crate::source_error::SourceError;
use crate::sources::{
    CsvOptions, CsvSource, E4Options, E4Source, JsonLinesOptions, JsonLinesSource, Source,
    SourceIssue, VecSource, WaveformCsvOptions, WaveformCsvSource,
};
use crate::wfdb;
use std::path::Path;

/// The format of a recording file or folder.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RecordingFormat {
    /// CSV of readings with a header (time, hr, rr_ms, eda_us, resp, acc_x…).
    Csv,
    /// JSON Lines with the same field names.
    Jsonl,
    /// An Empatica E4 export folder.
    E4,
    /// Raw ECG samples (CSV; give a rate or a time column).
    Ecg,
    /// Raw PPG samples (CSV; give a rate or a time column).
    Ppg,
    /// A WFDB record (.hea header with format 212 or 16 data), first signal as ECG.
    Wfdb,
}

impl RecordingFormat {
    /// The format of `path`: a folder is an E4 export, `.hea` a WFDB record, `.jsonl` or
    /// `.ndjson` JSON Lines, anything else CSV.
    pub fn guess(path: &Path) -> RecordingFormat {
        if path.is_dir() {
            return RecordingFormat::E4;
        }
        match path.extension().and_then(|e| e.to_str()) {
            Some("hea") => RecordingFormat::Wfdb,
            Some("jsonl") | Some("ndjson") => RecordingFormat::Jsonl,
            _ => RecordingFormat::Csv,
        }
    }

    /// The format named `name` (`csv`, `jsonl`, `e4`, `ecg`, `ppg`, `wfdb`).
    pub fn from_name(name: &str) -> Option<RecordingFormat> {
        Some(match name {
            "csv" => RecordingFormat::Csv,
            "jsonl" => RecordingFormat::Jsonl,
            "e4" => RecordingFormat::E4,
            "ecg" => RecordingFormat::Ecg,
            "ppg" => RecordingFormat::Ppg,
            "wfdb" => RecordingFormat::Wfdb,
            _ => return None,
        })
    }
}

/// Opens the recording at `path` in `format` (`rate`: sample rate, Hz, for files without
/// a time column); also returns its start in unix seconds where the format has one
/// (E4).
pub fn open(
    path: &Path,
    format: RecordingFormat,
    rate: Option<f64>,
) -> Result<(Box<dyn Source>, Option<f64>), SourceError> {
    let mut start_unix = None;
    let waveform = |kind| {
        let mut o = WaveformCsvOptions::new(kind);
        o.rate = rate;
        WaveformCsvSource::open(path, o).map(|s| Box::new(s) as Box<dyn Source>)
    };
    let source: Box<dyn Source> = match format {
        RecordingFormat::Csv => Box::new(CsvSource::open(path, CsvOptions { rate })?),
        RecordingFormat::Jsonl => Box::new(JsonLinesSource::open(path, JsonLinesOptions { rate })?),
        RecordingFormat::E4 => {
            let s = E4Source::open(path, E4Options::default())?;
            start_unix = Some(s.start_unix());
            Box::new(s)
        }
        RecordingFormat::Ecg => waveform(WaveKind::Ecg)?,
        RecordingFormat::Ppg => waveform(WaveKind::Ppg)?,
        RecordingFormat::Wfdb => {
            let record = wfdb::read_record(path)?;
            let fs = record.header.fs;
            let samples = record
                .signals
                .into_iter()
                .next()
                .ok_or_else(|| SourceError::file(path, "the record has no signals"))?;
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
    Ok((source, start_unix))
}

/// The feature table's columns, in order (see the [module documentation](self)).
pub fn window_columns() -> Vec<String> {
    let mut cols: Vec<String> = [
        "start_s",
        "end_s",
        "quality",
        "beats",
        "rejected_beats",
        "rejected_samples",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    cols.extend(Feature::ALL.iter().map(|f| f.name().to_string()));
    cols.extend(Feature::ALL.iter().map(|f| format!("rel_{}", f.name())));
    cols
}

/// One window's row of the feature table, in the order of [`window_columns`]; `None`
/// where a feature was not measured (or no baseline is known yet).
pub fn window_values(w: &FeatureWindow) -> Vec<Option<f64>> {
    let mut v = vec![
        Some(w.start),
        Some(w.end),
        Some(w.quality),
        Some(w.beats as f64),
        Some(w.rejected_beats as f64),
        Some(w.rejected_samples as f64),
    ];
    v.extend(w.features.iter().map(|(_, x)| x));
    v.extend(
        Feature::ALL
            .iter()
            .map(|f| w.relative.as_ref().and_then(|r| r.get(*f))),
    );
    v
}

/// Whether a window is wholly inside the recording: windows that start before it does
/// are only partly covered and are left out of the table.
pub fn is_full(w: &FeatureWindow) -> bool {
    w.start >= -1e-9
}

/// Runs the windowed features over `source` with `config` (and `baseline`, if not the
/// default), calling `each` for every full window in time order and `issue` for every
/// item the source rejected. Stops at the source's first fatal issue, returned as the
/// error; otherwise returns the count of rejected items.
pub fn extract<E>(
    source: &mut dyn Source,
    config: FeatureConfig,
    baseline: Option<Baseline>,
    mut each: impl FnMut(FeatureWindow) -> Result<(), E>,
    mut issue: impl FnMut(&SourceIssue),
) -> Result<usize, ExtractError<E>> {
    let mut extractor = FeatureExtractor::new(config).map_err(|e| ExtractError::Config(e.0))?;
    if let Some(b) = baseline {
        extractor.set_baseline(b);
    }
    let mut issues = 0usize;
    while let Some(item) = source.next() {
        match item {
            Ok(data) => {
                for w in extractor.push(&data).into_iter().filter(is_full) {
                    each(w).map_err(ExtractError::Caller)?;
                }
            }
            Err(i) if i.fatal => return Err(ExtractError::Source(i)),
            Err(i) => {
                issues += 1;
                issue(&i);
            }
        }
    }
    for w in extractor.finish().into_iter().filter(is_full) {
        each(w).map_err(ExtractError::Caller)?;
    }
    Ok(issues)
}

/// Why [`extract`] stopped.
#[derive(Debug)]
pub enum ExtractError<E> {
    /// The feature settings are invalid (window, hop).
    Config(String),
    /// The source could not go on.
    Source(SourceIssue),
    /// The caller's `each` failed.
    Caller(E),
}

impl<E: std::fmt::Display> std::fmt::Display for ExtractError<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ExtractError::Config(m) => f.write_str(m),
            ExtractError::Source(i) => write!(f, "{i}"),
            ExtractError::Caller(e) => write!(f, "{e}"),
        }
    }
}

impl<E: std::fmt::Debug + std::fmt::Display> std::error::Error for ExtractError<E> {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signal::{Reading, Value};

    #[test]
    fn columns_match_values() {
        let mut data = Vec::new();
        let mut t = 0.0;
        while t < 200.0 {
            t += 0.8;
            data.push(SensorData::Reading(Reading {
                time: t,
                value: Value::Rr(800.0),
            }));
        }
        let mut src = VecSource::from_data("test", data);
        let mut rows = Vec::new();
        let issues = extract::<()>(
            &mut src,
            FeatureConfig::default(),
            None,
            |w| {
                rows.push(window_values(&w));
                Ok(())
            },
            |_| {},
        )
        .unwrap();
        assert_eq!(issues, 0);
        assert!(rows.len() > 10, "{} windows", rows.len());
        let cols = window_columns();
        let mean_hr = cols.iter().position(|c| c == "mean_hr").unwrap();
        for r in &rows {
            assert_eq!(r.len(), cols.len());
            let hr = r[mean_hr].unwrap();
            assert!((hr - 75.0).abs() < 0.01, "mean_hr {hr}");
        }
    }

    #[test]
    fn guesses_formats() {
        assert_eq!(
            RecordingFormat::guess(Path::new("x.jsonl")),
            RecordingFormat::Jsonl
        );
        assert_eq!(
            RecordingFormat::guess(Path::new("x.hea")),
            RecordingFormat::Wfdb
        );
        assert_eq!(
            RecordingFormat::guess(Path::new("x.csv")),
            RecordingFormat::Csv
        );
        assert_eq!(RecordingFormat::from_name("e4"), Some(RecordingFormat::E4));
        assert_eq!(RecordingFormat::from_name("wav"), None);
    }
}
