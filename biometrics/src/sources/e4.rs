//! Empatica E4 export folders (`ACC.csv`, `BVP.csv`, `EDA.csv`, `HR.csv`, `TEMP.csv`,
//! `IBI.csv`), as Empatica documents them in the export's `info.txt`:
//!
//! * `ACC`, `BVP`, `EDA`, `HR`, `TEMP`: row 1 is the start time (unix seconds, UTC; one
//!   cell per column), row 2 the sample rate in Hz, then one sample per row. `ACC` has three
//!   columns (x, y, z) in 1/64 g; `EDA` is in µS, `TEMP` in °C, `HR` in bpm (it starts 10 s
//!   after the others), `BVP` is the photoplethysmogram.
//! * `IBI`: row 1 is `start, IBI`, then `seconds since start, interval in s` for each
//!   detected beat, with gaps where none was detected.
//!
//! All files are put on one session time base: the earliest start time is session time 0.
//! `BVP` becomes [`WaveKind::Ppg`] [`Waveform`] chunks; `IBI` becomes [`Value::Rr`] readings
//! in ms at the time of the beat that ends each interval; `ACC` becomes [`Value::Acc`] in g.
//! Missing files are fine (Stress-Predict ships only some); a file whose header is broken
//! is reported and skipped; each bad row is reported with its file and line and reading
//! goes on. Items of all files are merged in time order (a waveform chunk counts at its
//! end, see [`super::ready_at`]).
//!
//! Read on the input thread (live replay) or the control thread (offline).

use std::collections::VecDeque;
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::limits::{check_sample, check_value};
use super::line_source::{LineFeed, LineSource, Skip};
use super::lines::{open_file, split_cells};
use super::replay::ready_at;
use super::source::{Pull, Source, SourceInfo, SourceIssue};
use crate::signal::{Reading, SensorData, Value, WaveKind, Waveform};
use crate::source_error::SourceError;

/// One file of an E4 export.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum E4File {
    /// `ACC.csv`: 3-axis acceleration, 1/64 g, 32 Hz.
    Acc,
    /// `BVP.csv`: blood volume pulse (PPG), 64 Hz.
    Bvp,
    /// `EDA.csv`: skin conductance, µS, 4 Hz.
    Eda,
    /// `HR.csv`: heart rate, bpm, 1 Hz.
    Hr,
    /// `TEMP.csv`: skin temperature, °C, 4 Hz.
    Temp,
    /// `IBI.csv`: inter-beat intervals, s.
    Ibi,
}

impl E4File {
    /// Every file, in the order they are opened.
    pub const ALL: [E4File; 6] = [
        E4File::Acc,
        E4File::Bvp,
        E4File::Eda,
        E4File::Hr,
        E4File::Temp,
        E4File::Ibi,
    ];

    /// The file's name in the export folder.
    pub fn file_name(self) -> &'static str {
        match self {
            E4File::Acc => "ACC.csv",
            E4File::Bvp => "BVP.csv",
            E4File::Eda => "EDA.csv",
            E4File::Hr => "HR.csv",
            E4File::Temp => "TEMP.csv",
            E4File::Ibi => "IBI.csv",
        }
    }

    fn columns(self) -> usize {
        match self {
            E4File::Acc => 3,
            E4File::Ibi => 2,
            _ => 1,
        }
    }
}

/// How to read an E4 export.
#[derive(Clone, Debug, PartialEq)]
pub struct E4Options {
    /// Length of each BVP waveform chunk, seconds.
    pub bvp_chunk_seconds: f64,
}

impl Default for E4Options {
    fn default() -> Self {
        Self {
            bvp_chunk_seconds: 1.0,
        }
    }
}

/// One file of an E4 export, read row by row; times are seconds from the file's own start
/// plus [`E4FileReader::set_offset`].
pub struct E4FileReader {
    kind: E4File,
    name: PathBuf,
    feed: LineFeed,
    start_unix: f64,
    rate: Option<f64>,
    offset: f64,
    index: u64,
    chunk_len: usize,
    chunk: Vec<f32>,
    chunk_start: u64,
}

impl std::fmt::Debug for E4FileReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("E4FileReader")
            .field("name", &self.name)
            .field("start_unix", &self.start_unix)
            .field("rate", &self.rate)
            .finish()
    }
}

impl E4FileReader {
    /// Opens `kind`'s file at `path`. `Ok(None)` for an empty file (no data).
    pub fn open(
        kind: E4File,
        path: &Path,
        options: &E4Options,
    ) -> Result<Option<Self>, SourceError> {
        Self::from_reader(kind, path, open_file(path)?, options)
    }

    /// Reads `kind`'s format from `reader`, naming it `name` in errors. Reads the header
    /// rows now; `Ok(None)` for an empty file.
    pub fn from_reader(
        kind: E4File,
        name: impl Into<PathBuf>,
        reader: impl BufRead + Send + 'static,
        options: &E4Options,
    ) -> Result<Option<Self>, SourceError> {
        let name = name.into();
        let mut feed = LineFeed::file(reader, Skip::Blank);
        let Some((n1, first)) =
            feed.header(&name, |e| format!("cannot read the start time: {e}"))?
        else {
            return Ok(None);
        };
        let cells = split_cells(&first, ',');
        let (col, cell) = cells[0];
        let start_unix: f64 = cell.parse().map_err(|_| {
            let mut e = SourceError::at_line(
                &name,
                n1,
                format!(
                    "`{cell}` is not a start time (unix seconds) as row 1 of an E4 file must be"
                ),
            )
            .with_field("start");
            e.column = Some(col);
            e
        })?;
        if !(start_unix.is_finite() && (1e8..1e11).contains(&start_unix)) {
            return Err(SourceError::at_line(
                &name,
                n1,
                format!("start time {start_unix} is not unix seconds"),
            )
            .with_field("start"));
        }
        let rate = if kind == E4File::Ibi {
            None
        } else {
            let Some((n2, second)) =
                feed.header(&name, |e| format!("cannot read the sample rate: {e}"))?
            else {
                return Err(SourceError::file(
                    &name,
                    "ends after the start time: row 2 must give the sample rate",
                ));
            };
            let cells = split_cells(&second, ',');
            let (col, cell) = cells[0];
            let rate: f64 = cell.parse().unwrap_or(f64::NAN);
            if !(rate.is_finite() && rate > 0.0 && rate <= 100_000.0) {
                let mut e = SourceError::at_line(
                    &name,
                    n2,
                    format!("`{cell}` is not a sample rate in Hz as row 2 of an E4 file must be"),
                )
                .with_field("rate");
                e.column = Some(col);
                return Err(e);
            }
            Some(rate)
        };
        let chunk_len = match rate {
            Some(r) if kind == E4File::Bvp => {
                ((options.bvp_chunk_seconds * r).round() as usize).clamp(1, 1 << 20)
            }
            _ => 1,
        };
        Ok(Some(Self {
            kind,
            name,
            feed,
            start_unix,
            rate,
            offset: 0.0,
            index: 0,
            chunk_len,
            chunk: Vec::with_capacity(chunk_len),
            chunk_start: 0,
        }))
    }

    /// Which file this is.
    pub fn kind(&self) -> E4File {
        self.kind
    }

    /// The start time in row 1, unix seconds.
    pub fn start_unix(&self) -> f64 {
        self.start_unix
    }

    /// The sample rate in row 2 (none for `IBI.csv`).
    pub fn rate(&self) -> Option<f64> {
        self.rate
    }

    /// Seconds added to every time: this file's start minus the session's start.
    pub fn set_offset(&mut self, offset: f64) {
        self.offset = offset;
    }

    fn sample_time(&self, index: u64) -> f64 {
        self.offset + index as f64 / self.rate.unwrap_or(1.0)
    }

    fn flush_chunk(&mut self) {
        if self.chunk.is_empty() {
            return;
        }
        let samples = std::mem::replace(&mut self.chunk, Vec::with_capacity(self.chunk_len));
        self.feed.push(Pull::Data(SensorData::Waveform(Waveform {
            kind: WaveKind::Ppg,
            start: self.sample_time(self.chunk_start),
            rate: self.rate.unwrap_or(1.0),
            samples,
        })));
    }

    fn issue(&mut self, issue: SourceIssue) {
        self.flush_chunk();
        self.feed.push(Pull::Issue(issue));
    }

    fn row(&mut self, number: usize, text: &str) {
        let index = self.index;
        self.index += 1;
        let cells = split_cells(text, ',');
        let expected = self.kind.columns();
        if cells.len() != expected {
            let e = SourceError::at_line(
                &self.name,
                number,
                format!(
                    "expected {expected} value{} per row, found {}",
                    if expected == 1 { "" } else { "s" },
                    cells.len()
                ),
            );
            self.issue(SourceIssue::malformed(e));
            return;
        }
        let field_names: &[&str] = match self.kind {
            E4File::Acc => &["acc_x", "acc_y", "acc_z"],
            E4File::Bvp => &["bvp"],
            E4File::Eda => &["eda"],
            E4File::Hr => &["hr"],
            E4File::Temp => &["temp"],
            E4File::Ibi => &["seconds", "ibi"],
        };
        let mut values = [0f64; 3];
        for (i, (col, cell)) in cells.iter().enumerate() {
            match cell.parse::<f64>() {
                Ok(v) => values[i] = v,
                Err(_) => {
                    let mut e = SourceError::at_line(
                        &self.name,
                        number,
                        format!("`{cell}` is not a number"),
                    )
                    .with_field(field_names[i]);
                    e.column = Some(*col);
                    self.issue(SourceIssue::malformed(e));
                    return;
                }
            }
        }
        let (time, value) = match self.kind {
            E4File::Bvp => {
                let v = values[0] as f32;
                if let Err(m) = check_sample(v) {
                    let mut e =
                        SourceError::at_line(&self.name, number, m.to_string()).with_field("bvp");
                    e.column = Some(cells[0].0);
                    self.issue(SourceIssue::implausible(e));
                    return;
                }
                if self.chunk.is_empty() {
                    self.chunk_start = index;
                }
                self.chunk.push(v);
                if self.chunk.len() >= self.chunk_len {
                    self.flush_chunk();
                }
                return;
            }
            E4File::Acc => (
                self.sample_time(index),
                Value::Acc([
                    (values[0] / 64.0) as f32,
                    (values[1] / 64.0) as f32,
                    (values[2] / 64.0) as f32,
                ]),
            ),
            E4File::Eda => (self.sample_time(index), Value::Eda(values[0] as f32)),
            E4File::Hr => (self.sample_time(index), Value::HeartRate(values[0] as f32)),
            E4File::Temp => (self.sample_time(index), Value::Temp(values[0] as f32)),
            E4File::Ibi => {
                let t = values[0];
                if !(t.is_finite() && t >= 0.0) {
                    let mut e = SourceError::at_line(
                        &self.name,
                        number,
                        format!("beat time {t} s is not a time since the start"),
                    )
                    .with_field("seconds");
                    e.column = Some(cells[0].0);
                    self.issue(SourceIssue::malformed(e));
                    return;
                }
                (self.offset + t, Value::Rr((values[1] * 1000.0) as f32))
            }
        };
        if let Err(m) = check_value(&value) {
            let field = match self.kind {
                E4File::Ibi => "ibi",
                _ => field_names[0],
            };
            let mut e = SourceError::at_line(&self.name, number, m.to_string()).with_field(field);
            e.column = Some(cells[if self.kind == E4File::Ibi { 1 } else { 0 }].0);
            self.issue(SourceIssue::implausible(e));
            return;
        }
        self.feed
            .push(Pull::Data(SensorData::Reading(Reading { time, value })));
    }
}

impl Source for E4FileReader {
    fn info(&self) -> SourceInfo {
        SourceInfo {
            name: self.name.display().to_string(),
            format: "e4",
            simulated: false,
            live: false,
        }
    }

    fn pull(&mut self, wait: Duration) -> Pull {
        self.pull_lines(wait)
    }
}

impl LineSource for E4FileReader {
    fn feed(&mut self) -> (&Path, &mut LineFeed) {
        (&self.name, &mut self.feed)
    }

    fn line(&mut self, number: usize, text: &str, _arrival: Option<f64>) {
        self.row(number, text);
    }

    fn unreadable(&mut self, issue: SourceIssue) {
        self.issue(issue);
    }

    fn finish(&mut self) {
        self.flush_chunk();
    }
}

struct Stream {
    reader: E4FileReader,
    peeked: Option<SensorData>,
    done: bool,
}

/// An E4 export folder, all files merged on one time base; see the
/// [module documentation](self).
pub struct E4Source {
    folder: PathBuf,
    streams: Vec<Stream>,
    queue: VecDeque<Pull>,
    start_unix: f64,
}

impl std::fmt::Debug for E4Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("E4Source")
            .field("folder", &self.folder)
            .field("files", &self.files())
            .field("start_unix", &self.start_unix)
            .finish()
    }
}

impl E4Source {
    /// Opens the export in `folder`. An error if no file can be read at all; a broken
    /// file among good ones is reported as the first items and skipped.
    pub fn open(folder: impl AsRef<Path>, options: E4Options) -> Result<Self, SourceError> {
        let folder = folder.as_ref();
        if !folder.is_dir() {
            return Err(SourceError::file(
                folder,
                "not a folder (expected an Empatica E4 export folder)",
            ));
        }
        let mut readers = Vec::new();
        let mut problems = Vec::new();
        let mut found = 0;
        for kind in E4File::ALL {
            let path = folder.join(kind.file_name());
            if !path.exists() {
                continue;
            }
            found += 1;
            match E4FileReader::open(kind, &path, &options) {
                Ok(Some(r)) => readers.push(r),
                Ok(None) => {}
                Err(e) => problems.push(e),
            }
        }
        if readers.is_empty() {
            return Err(match (found, problems.into_iter().next()) {
                (0, _) => SourceError::file(
                    folder,
                    "no E4 files here (expected some of ACC.csv, BVP.csv, EDA.csv, HR.csv, TEMP.csv, IBI.csv)",
                ),
                (_, Some(e)) => e,
                (_, None) => SourceError::file(folder, "every E4 file here is empty"),
            });
        }
        Ok(Self::from_readers(folder, readers, problems))
    }

    /// Merges already opened files (e.g. from memory); `problems` are reported first.
    pub fn from_readers(
        folder: impl Into<PathBuf>,
        mut readers: Vec<E4FileReader>,
        problems: Vec<SourceError>,
    ) -> Self {
        let start_unix = readers
            .iter()
            .map(|r| r.start_unix)
            .fold(f64::INFINITY, f64::min);
        for r in &mut readers {
            r.set_offset(r.start_unix - start_unix);
        }
        Self {
            folder: folder.into(),
            streams: readers
                .into_iter()
                .map(|reader| Stream {
                    reader,
                    peeked: None,
                    done: false,
                })
                .collect(),
            queue: problems
                .into_iter()
                .map(|e| Pull::Issue(SourceIssue::malformed(e)))
                .collect(),
            start_unix,
        }
    }

    /// The earliest start time of the files, unix seconds: session time 0.
    pub fn start_unix(&self) -> f64 {
        self.start_unix
    }

    /// The files being read, with their start offsets in session seconds.
    pub fn files(&self) -> Vec<(E4File, f64)> {
        self.streams
            .iter()
            .map(|s| (s.reader.kind, s.reader.start_unix - self.start_unix))
            .collect()
    }
}

impl Source for E4Source {
    fn info(&self) -> SourceInfo {
        SourceInfo {
            name: self.folder.display().to_string(),
            format: "e4",
            simulated: false,
            live: false,
        }
    }

    fn pull(&mut self, _wait: Duration) -> Pull {
        if let Some(p) = self.queue.pop_front() {
            return p;
        }
        for s in &mut self.streams {
            while s.peeked.is_none() && !s.done {
                match s.reader.pull(Duration::ZERO) {
                    Pull::Data(d) => s.peeked = Some(d),
                    Pull::Issue(mut i) => {
                        // One unreadable file does not end the others.
                        i.fatal = false;
                        return Pull::Issue(i);
                    }
                    Pull::End | Pull::Pending => s.done = true,
                }
            }
        }
        let next = self
            .streams
            .iter_mut()
            .filter(|s| s.peeked.is_some())
            .min_by(|a, b| {
                let ta = a.peeked.as_ref().map(ready_at).unwrap_or(f64::INFINITY);
                let tb = b.peeked.as_ref().map(ready_at).unwrap_or(f64::INFINITY);
                ta.total_cmp(&tb)
            });
        match next.and_then(|s| s.peeked.take()) {
            Some(d) => Pull::Data(d),
            None => Pull::End,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sources::IssueKind;

    fn reader(kind: E4File, text: &str) -> E4FileReader {
        E4FileReader::from_reader(
            kind,
            kind.file_name(),
            std::io::Cursor::new(text.to_string()),
            &E4Options::default(),
        )
        .unwrap()
        .unwrap()
    }

    #[test]
    fn files_share_one_time_base_and_merge_in_order() {
        let eda = reader(E4File::Eda, "1000000000.0\n2.0\n0.5\n0.6\n0.7\n");
        let hr = reader(E4File::Hr, "1000000001.0\n1.0\n70\n71\n");
        let ibi = reader(E4File::Ibi, "1000000000.0, IBI\n0.75,0.75\n1.6,0.85\n");
        let acc = reader(
            E4File::Acc,
            "1000000000.0, 1000000000.0, 1000000000.0\n1.0, 1.0, 1.0\n0,32,-64\n",
        );
        let bvp = reader(E4File::Bvp, "1000000000.00\n4.0\n1\n2\n3\n4\n5\n");
        let mut s = E4Source::from_readers("e4", vec![acc, bvp, eda, hr, ibi], vec![]);
        assert_eq!(s.start_unix(), 1e9);
        let got: Vec<_> = std::iter::from_fn(|| Source::next(&mut s))
            .map(|x| x.unwrap())
            .collect();
        let r = |time, value| SensorData::Reading(Reading { time, value });
        let w = |start, samples: Vec<f32>| {
            SensorData::Waveform(Waveform {
                kind: WaveKind::Ppg,
                start,
                rate: 4.0,
                samples,
            })
        };
        assert_eq!(
            got,
            vec![
                r(0.0, Value::Acc([0.0, 0.5, -1.0])),
                r(0.0, Value::Eda(0.5)),
                r(0.5, Value::Eda(0.6)),
                r(0.75, Value::Rr(750.0)),
                w(0.0, vec![1.0, 2.0, 3.0, 4.0]),
                r(1.0, Value::Eda(0.7)),
                r(1.0, Value::HeartRate(70.0)),
                w(1.0, vec![5.0]),
                r(1.6, Value::Rr(850.0)),
                r(2.0, Value::HeartRate(71.0)),
            ]
        );
    }

    #[test]
    fn bad_rows_are_reported_with_file_and_line() {
        let mut ibi = reader(
            E4File::Ibi,
            "1000000000.0, IBI\n0.75,0.05\n1.6,x\n2.4,0.8\n3.0\n",
        );
        let got: Vec<_> = std::iter::from_fn(|| Source::next(&mut ibi)).collect();
        let errs: Vec<(IssueKind, String)> = got
            .iter()
            .filter_map(|x| x.as_ref().err().map(|e| (e.kind, e.error.to_string())))
            .collect();
        assert_eq!(
            errs,
            vec![
                (IssueKind::Implausible, "IBI.csv:2:6: field `ibi`: RR interval 50 ms is outside the plausible range 200–3000 ms".to_string()),
                (IssueKind::Malformed, "IBI.csv:3:5: field `ibi`: `x` is not a number".to_string()),
                (IssueKind::Malformed, "IBI.csv:5: expected 2 values per row, found 1".to_string()),
            ]
        );
        assert_eq!(got.iter().filter(|x| x.is_ok()).count(), 1);

        let mut bvp = reader(E4File::Bvp, "1000000000\n2\n1\nnan\n3\n4\n");
        let got: Vec<_> = std::iter::from_fn(|| Source::next(&mut bvp)).collect();
        assert_eq!(got.len(), 3);
        assert!(
            matches!(&got[0], Ok(SensorData::Waveform(w)) if w.samples == vec![1.0] && w.start == 0.0)
        );
        assert!(got[1].is_err());
        assert!(
            matches!(&got[2], Ok(SensorData::Waveform(w)) if w.samples == vec![3.0, 4.0] && w.start == 1.0)
        );
    }

    #[test]
    fn broken_headers_are_clear_errors() {
        let e = |kind: E4File, text: &str| {
            E4FileReader::from_reader(
                kind,
                kind.file_name(),
                std::io::Cursor::new(text.to_string()),
                &E4Options::default(),
            )
            .unwrap_err()
            .to_string()
        };
        assert_eq!(
            e(E4File::Eda, "start\n4\n"),
            "EDA.csv:1:1: field `start`: `start` is not a start time (unix seconds) as row 1 of an E4 file must be"
        );
        assert_eq!(
            e(E4File::Eda, "1000000000\n-4\n"),
            "EDA.csv:2:1: field `rate`: `-4` is not a sample rate in Hz as row 2 of an E4 file must be"
        );
        assert!(e(E4File::Hr, "1000000000\n").contains("row 2 must give the sample rate"));
        assert!(e(E4File::Temp, "12\n4\n").contains("not unix seconds"));
        assert!(E4FileReader::from_reader(
            E4File::Ibi,
            "IBI.csv",
            std::io::Cursor::new(String::new()),
            &E4Options::default()
        )
        .unwrap()
        .is_none());
    }
}
