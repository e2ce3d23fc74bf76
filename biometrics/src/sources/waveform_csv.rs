//! Raw ECG, PPG or respiration waveforms in CSV, delivered as [`Waveform`] chunks.
//!
//! The sample rate comes from [`WaveformCsvOptions::rate`] (the CLI's `--rate HZ`) or,
//! without it, from a time column (the median spacing of the first rows). Accepted layouts:
//!
//! * a single column of samples (needs the rate), with or without a header;
//! * `time,value` without a header (column 1 is time unless a rate is given);
//! * any header: the time column is `time`/`t`/`timestamp`; the sample column is
//!   [`WaveformCsvOptions::column`] (a name or a 1-based index), else one named after the
//!   kind (`ecg`, `ppg`/`bvp`/`pleth`, `resp`/`rsp`), else the only other column.
//!
//! Chunks are [`WaveformCsvOptions::chunk_seconds`] long. A rejected row (malformed or
//! non-finite sample) ends the current chunk, and so does a gap in the time column, so each
//! chunk is evenly sampled. Read on the input or control thread.

use std::collections::VecDeque;
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::fields::Field;
use super::limits::check_sample;
use super::line_source::{LineFeed, LineSource, Skip};
use super::lines::{detect_delimiter, is_missing, open_file, split_cells};
use super::source::{Pull, Source, SourceInfo, SourceIssue};
use super::time_base::TimeBase;
use crate::signal::{SensorData, WaveKind, Waveform};
use crate::source_error::SourceError;

/// How to read a waveform CSV.
#[derive(Clone, Debug, PartialEq)]
pub struct WaveformCsvOptions {
    /// What the samples are.
    pub kind: WaveKind,
    /// Samples per second; `None` to take it from a time column.
    pub rate: Option<f64>,
    /// The sample column: a header name or a 1-based index.
    pub column: Option<String>,
    /// Length of each chunk, seconds.
    pub chunk_seconds: f64,
}

impl WaveformCsvOptions {
    /// Options for `kind`, rate from the file, 1 s chunks.
    pub fn new(kind: WaveKind) -> Self {
        Self {
            kind,
            rate: None,
            column: None,
            chunk_seconds: 1.0,
        }
    }

    /// The same options with a fixed sample rate.
    pub fn with_rate(mut self, rate: f64) -> Self {
        self.rate = Some(rate);
        self
    }
}

fn kind_names(kind: WaveKind) -> &'static [&'static str] {
    match kind {
        WaveKind::Ecg => &["ecg", "ecg_mv", "mlii"],
        WaveKind::Ppg => &["ppg", "bvp", "pleth"],
        WaveKind::Resp => &["resp", "rsp", "respiration"],
    }
}

fn kind_str(kind: WaveKind) -> &'static str {
    match kind {
        WaveKind::Ecg => "ecg",
        WaveKind::Ppg => "ppg",
        WaveKind::Resp => "resp",
    }
}

enum Row {
    Sample { time: Option<f64>, value: f32 },
    Bad(SourceIssue),
}

/// A waveform CSV file; see the [module documentation](self).
pub struct WaveformCsvSource {
    name: PathBuf,
    kind: WaveKind,
    feed: LineFeed,
    delimiter: char,
    time_col: Option<usize>,
    value_col: usize,
    field: String,
    rate: Option<f64>,
    chunk_seconds: f64,
    time_base: TimeBase,
    index: u64,
    /// Rows read while the rate is still unknown.
    held: VecDeque<Row>,
    chunk_start: f64,
    chunk: Vec<f32>,
}

impl std::fmt::Debug for WaveformCsvSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WaveformCsvSource")
            .field("name", &self.name)
            .field("kind", &self.kind)
            .field("rate", &self.rate)
            .finish()
    }
}

const RATE_ROWS: usize = 33;

impl WaveformCsvSource {
    /// Opens `path`.
    pub fn open(path: impl AsRef<Path>, options: WaveformCsvOptions) -> Result<Self, SourceError> {
        let path = path.as_ref();
        Self::from_reader(path, open_file(path)?, options)
    }

    /// Reads from `reader`, naming it `name` in errors.
    pub fn from_reader(
        name: impl Into<PathBuf>,
        reader: impl BufRead + Send + 'static,
        options: WaveformCsvOptions,
    ) -> Result<Self, SourceError> {
        let name = name.into();
        if let Some(r) = options.rate {
            if !(r.is_finite() && r > 0.0 && r <= 1e6) {
                return Err(SourceError::file(
                    &name,
                    format!("sample rate {r} Hz is not a positive number"),
                ));
            }
        }
        if !(options.chunk_seconds.is_finite() && options.chunk_seconds > 0.0) {
            return Err(SourceError::file(
                &name,
                "chunk length must be a positive number of seconds",
            ));
        }
        let mut feed = LineFeed::file(reader, Skip::BlankAndComments);
        let Some((number, first)) = feed.header(&name, |e| format!("cannot read: {e}"))? else {
            return Err(SourceError::file(&name, "empty file: no samples"));
        };
        let delimiter = detect_delimiter(&first);
        let cells = split_cells(&first, delimiter);
        let has_header = cells
            .iter()
            .any(|(_, c)| !c.is_empty() && c.parse::<f64>().is_err());
        let n = cells.len();
        let wanted = options.column.as_deref().map(str::trim);
        let by_index = wanted.and_then(|w| w.parse::<usize>().ok());
        if let Some(i) = by_index {
            if i == 0 || i > n {
                return Err(SourceError::at_line(
                    &name,
                    number,
                    format!(
                        "column {i} does not exist: the file has {n} column{}",
                        if n == 1 { "" } else { "s" }
                    ),
                ));
            }
        }
        let (time_col, value_col) = if has_header {
            let names: Vec<String> = cells.iter().map(|(_, c)| c.to_ascii_lowercase()).collect();
            let time_col = names
                .iter()
                .position(|c| Field::parse(c) == Some(Field::Time));
            let value_col = if let Some(i) = by_index {
                i - 1
            } else if let Some(w) = wanted {
                names
                    .iter()
                    .position(|c| c.eq_ignore_ascii_case(w))
                    .ok_or_else(|| {
                        SourceError::at_line(
                            &name,
                            number,
                            format!("no column named `{w}` (columns: {})", names.join(", ")),
                        )
                    })?
            } else if let Some(i) = names
                .iter()
                .position(|c| kind_names(options.kind).contains(&c.as_str()))
            {
                i
            } else {
                let others: Vec<usize> = (0..n).filter(|i| Some(*i) != time_col).collect();
                match others.as_slice() {
                    [only] => *only,
                    _ => {
                        return Err(SourceError::at_line(
                            &name,
                            number,
                            format!(
                                "several columns ({}): say which holds the {} samples",
                                names.join(", "),
                                kind_str(options.kind)
                            ),
                        ))
                    }
                }
            };
            (time_col, value_col)
        } else {
            let time_col = (options.rate.is_none() && n >= 2).then_some(0);
            let value_col = match by_index {
                Some(i) => i - 1,
                None if wanted.is_some() => {
                    return Err(SourceError::at_line(
                        &name,
                        number,
                        "the file has no header, so columns are chosen by number",
                    ))
                }
                None => n - 1,
            };
            (time_col, value_col)
        };
        if options.rate.is_none() && (time_col.is_none() || time_col == Some(value_col)) {
            return Err(SourceError::at_line(
                &name,
                number,
                "no time column: give the sample rate (e.g. --rate 250)",
            ));
        }
        let field = if has_header {
            cells[value_col].1.to_string()
        } else {
            kind_str(options.kind).to_string()
        };
        let mut s = Self {
            name,
            kind: options.kind,
            feed,
            delimiter,
            time_col: if options.rate.is_some() {
                None
            } else {
                time_col
            },
            value_col,
            field,
            rate: options.rate,
            chunk_seconds: options.chunk_seconds,
            time_base: TimeBase::for_file(),
            index: 0,
            held: VecDeque::new(),
            chunk_start: 0.0,
            chunk: Vec::new(),
        };
        if !has_header {
            s.row(number, &first);
        }
        Ok(s)
    }

    /// The sample rate, once known (given, or estimated from the first rows).
    pub fn rate(&self) -> Option<f64> {
        self.rate
    }

    fn parse_row(&mut self, number: usize, text: &str) -> Row {
        let cells = split_cells(text, self.delimiter);
        let located = |col: Option<usize>, field: &str, m: String| {
            let mut e = SourceError::at_line(&self.name, number, m).with_field(field);
            e.column = col;
            e
        };
        let time = match self.time_col {
            None => None,
            Some(tc) => {
                let (col, cell) = cells.get(tc).copied().unwrap_or((1, ""));
                let raw = match cell.parse::<f64>() {
                    Ok(v) if !is_missing(cell) => v,
                    _ => {
                        return Row::Bad(SourceIssue::malformed(located(
                            Some(col),
                            "time",
                            format!("`{cell}` is not a number of seconds"),
                        )))
                    }
                };
                match self.time_base.to_session(raw) {
                    Ok(t) => Some(t),
                    Err(m) => {
                        return Row::Bad(SourceIssue::malformed(located(
                            Some(col),
                            "time",
                            m.to_string(),
                        )))
                    }
                }
            }
        };
        let Some(&(col, cell)) = cells.get(self.value_col) else {
            return Row::Bad(SourceIssue::malformed(located(
                None,
                &self.field,
                format!(
                    "row has {} cells, no column {}",
                    cells.len(),
                    self.value_col + 1
                ),
            )));
        };
        let value = match cell.parse::<f64>() {
            Ok(v) if !is_missing(cell) => v as f32,
            _ => {
                return Row::Bad(SourceIssue::malformed(located(
                    Some(col),
                    &self.field,
                    format!("`{cell}` is not a number"),
                )))
            }
        };
        if let Err(m) = check_sample(value) {
            return Row::Bad(SourceIssue::implausible(located(
                Some(col),
                &self.field,
                m.to_string(),
            )));
        }
        Row::Sample { time, value }
    }

    fn row(&mut self, number: usize, text: &str) {
        let row = self.parse_row(number, text);
        if self.rate.is_some() {
            self.chunk_row(row);
            return;
        }
        self.held.push_back(row);
        let times = self
            .held
            .iter()
            .filter(|r| matches!(r, Row::Sample { .. }))
            .count();
        if times >= RATE_ROWS {
            self.settle_rate();
        }
    }

    /// Estimates the rate from the held rows and releases them.
    fn settle_rate(&mut self) {
        let times: Vec<f64> = self
            .held
            .iter()
            .filter_map(|r| match r {
                Row::Sample { time, .. } => *time,
                Row::Bad(_) => None,
            })
            .collect();
        let mut diffs: Vec<f64> = times
            .windows(2)
            .map(|w| w[1] - w[0])
            .filter(|d| *d > 0.0)
            .collect();
        diffs.sort_by(f64::total_cmp);
        match diffs.get(diffs.len() / 2) {
            Some(&d) if (1.0 / d).is_finite() && 1.0 / d <= 1e6 => self.rate = Some(1.0 / d),
            _ => {
                self.feed.push(Pull::Issue(
                    SourceIssue::malformed(
                        SourceError::file(&self.name, "cannot tell the sample rate: fewer than two increasing time stamps (give the rate)")
                            .with_field("time"),
                    )
                    .into_fatal(),
                ));
                self.held.clear();
                self.feed.ended = true;
                return;
            }
        }
        while let Some(r) = self.held.pop_front() {
            self.chunk_row(r);
        }
    }

    fn flush(&mut self) {
        if self.chunk.is_empty() {
            return;
        }
        let rate = self.rate.unwrap_or(1.0);
        let samples = std::mem::take(&mut self.chunk);
        self.feed.push(Pull::Data(SensorData::Waveform(Waveform {
            kind: self.kind,
            start: self.chunk_start,
            rate,
            samples,
        })));
    }

    fn chunk_row(&mut self, row: Row) {
        let rate = self.rate.expect("rate is known when chunking");
        let index = self.index;
        self.index += 1;
        match row {
            Row::Bad(issue) => {
                self.flush();
                self.feed.push(Pull::Issue(issue));
            }
            Row::Sample { time, value } => {
                let t = time.unwrap_or(index as f64 / rate);
                if !self.chunk.is_empty() {
                    let expected = self.chunk_start + self.chunk.len() as f64 / rate;
                    if (t - expected).abs() > 0.5 / rate {
                        self.flush();
                    }
                }
                if self.chunk.is_empty() {
                    self.chunk_start = t;
                }
                self.chunk.push(value);
                let len = ((self.chunk_seconds * rate).round() as usize).max(1);
                if self.chunk.len() >= len {
                    self.flush();
                }
            }
        }
    }
}

impl Source for WaveformCsvSource {
    fn info(&self) -> SourceInfo {
        SourceInfo {
            name: self.name.display().to_string(),
            format: "waveform-csv",
            simulated: false,
            live: false,
        }
    }

    fn pull(&mut self, wait: Duration) -> Pull {
        self.pull_lines(wait)
    }
}

impl LineSource for WaveformCsvSource {
    fn feed(&mut self) -> (&Path, &mut LineFeed) {
        (&self.name, &mut self.feed)
    }

    fn line(&mut self, number: usize, text: &str, _arrival: Option<f64>) {
        self.row(number, text);
    }

    /// A line that is not text is a rejected row.
    fn unreadable(&mut self, issue: SourceIssue) {
        if self.rate.is_some() {
            self.chunk_row(Row::Bad(issue));
        } else {
            self.held.push_back(Row::Bad(issue));
        }
    }

    /// Settles the rate if it is still unknown, and delivers the last chunk.
    fn finish(&mut self) {
        if self.rate.is_none() {
            self.settle_rate();
        }
        self.flush();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str, o: WaveformCsvOptions) -> Vec<Result<SensorData, SourceIssue>> {
        WaveformCsvSource::from_reader("w.csv", std::io::Cursor::new(text.to_string()), o)
            .unwrap()
            .items()
            .collect()
    }

    fn wave(
        kind: WaveKind,
        start: f64,
        rate: f64,
        samples: Vec<f32>,
    ) -> Result<SensorData, SourceIssue> {
        Ok(SensorData::Waveform(Waveform {
            kind,
            start,
            rate,
            samples,
        }))
    }

    #[test]
    fn single_column_with_a_given_rate() {
        let o = WaveformCsvOptions {
            chunk_seconds: 1.0,
            ..WaveformCsvOptions::new(WaveKind::Ecg).with_rate(2.0)
        };
        let got = read("0.1\n0.2\n0.3\nbad\n0.5\n0.6\n", o);
        assert_eq!(got.len(), 4);
        assert_eq!(got[0], wave(WaveKind::Ecg, 0.0, 2.0, vec![0.1, 0.2]));
        assert_eq!(got[1], wave(WaveKind::Ecg, 1.0, 2.0, vec![0.3]));
        assert_eq!(
            got[2].as_ref().unwrap_err().error.to_string(),
            "w.csv:4:1: field `ecg`: `bad` is not a number"
        );
        assert_eq!(got[3], wave(WaveKind::Ecg, 2.0, 2.0, vec![0.5, 0.6]));
    }

    #[test]
    fn rate_from_a_time_column_and_gaps_split_chunks() {
        let mut text = String::from("time,ppg,other\n");
        for i in 0..40 {
            // A gap: rows 20..25 missing.
            if (20..25).contains(&i) {
                continue;
            }
            text.push_str(&format!("{},{},9\n", 1_600_000_000.0 + i as f64 * 0.1, i));
        }
        let o = WaveformCsvOptions {
            chunk_seconds: 10.0,
            ..WaveformCsvOptions::new(WaveKind::Ppg)
        };
        let got = read(&text, o);
        assert_eq!(got.len(), 2, "{got:?}");
        match (&got[0], &got[1]) {
            (Ok(SensorData::Waveform(a)), Ok(SensorData::Waveform(b))) => {
                assert!((a.rate - 10.0).abs() < 1e-3, "{}", a.rate);
                assert_eq!(a.start, 0.0);
                assert_eq!(a.samples.len(), 20);
                assert!((b.start - 2.5).abs() < 1e-6);
                assert_eq!(b.samples.len(), 15);
                assert_eq!(b.samples[0], 25.0);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn layout_problems_are_clear() {
        let e = |text: &str, o: WaveformCsvOptions| {
            WaveformCsvSource::from_reader("w.csv", std::io::Cursor::new(text.to_string()), o)
                .unwrap_err()
                .to_string()
        };
        assert_eq!(
            e("1\n2\n", WaveformCsvOptions::new(WaveKind::Resp)),
            "w.csv:1: no time column: give the sample rate (e.g. --rate 250)"
        );
        assert!(e(
            "a,b,c\n",
            WaveformCsvOptions::new(WaveKind::Resp).with_rate(10.0)
        )
        .contains("several columns (a, b, c)"));
        assert!(e(
            "1,2\n",
            WaveformCsvOptions {
                column: Some("3".into()),
                ..WaveformCsvOptions::new(WaveKind::Ecg)
            }
        )
        .contains("column 3 does not exist"));
        assert!(e("", WaveformCsvOptions::new(WaveKind::Ecg)).contains("empty file"));
    }
}
