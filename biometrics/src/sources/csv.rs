//! CSV with a header naming its columns: any subset of the fields of
//! [`super::fields`] (`time`, `hr`, `rr_ms`, `eda_us`, `resp`, `resp_rate`, `temp`,
//! `acc_x`/`acc_y`/`acc_z`, `contact`).
//!
//! ```text
//! time,hr,rr_ms,eda_us
//! 1560279825.0,72,,2.31
//! 1560279825.8,,812,
//! ```
//!
//! * The delimiter is `,`, `;` or tab, whichever the header uses most.
//! * Lines starting with `#` and blank lines are skipped.
//! * `time` is detected as relative seconds, unix seconds or unix milliseconds (see
//!   [`super::time_base`]). Without a `time` column, [`CsvOptions::rate`] gives the row rate.
//! * An empty cell (or `NA`, `null`) means "no value in this row".
//! * Unknown columns are ignored and reported once as [`super::IssueKind::Unused`].
//! * A malformed row or cell is reported with file, line, column and field, and the rest
//!   of the file is read on; NaN, infinite and implausible values are rejected the same way.
//!
//! Read on the input thread (live replay) or the control thread (offline).

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::fields::{emit_record, Cell, Field, Origin};
use super::line_source::{LineFeed, LineSource, Skip};
use super::lines::{detect_delimiter, is_missing, open_file, split_cells};
use super::source::{Pull, Source, SourceInfo, SourceIssue};
use super::time_base::TimeBase;
use crate::source_error::SourceError;

/// How to read a CSV file.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CsvOptions {
    /// Rows per second, for files without a `time` column (row *n* is at *n*/rate s).
    /// Ignored when there is a `time` column.
    pub rate: Option<f64>,
}

/// A CSV file of readings; see the [module documentation](self).
pub struct CsvSource {
    name: PathBuf,
    feed: LineFeed,
    delimiter: char,
    columns: Vec<Option<Field>>,
    header: Vec<String>,
    time_col: Option<usize>,
    rate: Option<f64>,
    rows: u64,
    time_base: TimeBase,
}

impl std::fmt::Debug for CsvSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CsvSource")
            .field("name", &self.name)
            .field("header", &self.header)
            .finish()
    }
}

impl CsvSource {
    /// Opens `path` and reads its header.
    pub fn open(path: impl AsRef<Path>, options: CsvOptions) -> Result<Self, SourceError> {
        let path = path.as_ref();
        Self::from_reader(path, open_file(path)?, options)
    }

    /// Reads CSV from `reader`, naming it `name` in errors.
    pub fn from_reader(
        name: impl Into<PathBuf>,
        reader: impl BufRead + Send + 'static,
        options: CsvOptions,
    ) -> Result<Self, SourceError> {
        let name = name.into();
        let mut feed = LineFeed::file(reader, Skip::BlankAndComments);
        let Some((number, header)) = feed.header(&name, |e| format!("cannot read: {e}"))? else {
            return Err(SourceError::file(
                &name,
                "empty file: expected a header naming the columns (e.g. time,hr,eda_us)",
            ));
        };
        let delimiter = detect_delimiter(&header);
        let cells = split_cells(&header, delimiter);
        if cells
            .iter()
            .all(|(_, c)| !c.is_empty() && c.parse::<f64>().is_ok())
        {
            return Err(SourceError::at_line(
                &name,
                number,
                "no header: the first line must name the columns (time, hr, rr_ms, eda_us, resp, resp_rate, temp, acc_x, acc_y, acc_z, contact)",
            ));
        }
        let mut columns = Vec::with_capacity(cells.len());
        let mut time_col = None;
        for (i, (col, cell)) in cells.iter().enumerate() {
            let field = Field::parse(cell);
            if let Some(f) = field {
                if columns.contains(&Some(f)) {
                    let mut e = SourceError::at_line(
                        &name,
                        number,
                        format!("column `{cell}` appears twice (as `{}`)", f.name()),
                    )
                    .with_field(f.name());
                    e.column = Some(*col);
                    return Err(e);
                }
                if f == Field::Time {
                    time_col = Some(i);
                }
            } else if !cell.is_empty() {
                let mut e =
                    SourceError::at_line(&name, number, format!("unknown column `{cell}` ignored"))
                        .with_field(*cell);
                e.column = Some(*col);
                feed.push(Pull::Issue(SourceIssue::unused(e)));
            }
            columns.push(field);
        }
        if !columns.iter().flatten().any(|f| *f != Field::Time) {
            return Err(SourceError::at_line(
                &name,
                number,
                format!(
                    "no known data column in header `{}` (expected some of hr, rr_ms, eda_us, resp, resp_rate, temp, acc_x, acc_y, acc_z, contact)",
                    header.trim()
                ),
            ));
        }
        let rate = match (time_col, options.rate) {
            (Some(_), _) => None,
            (None, Some(r)) if r.is_finite() && r > 0.0 => Some(r),
            (None, Some(r)) => {
                return Err(SourceError::file(
                    &name,
                    format!("row rate {r} Hz is not a positive number"),
                ))
            }
            (None, None) => {
                return Err(SourceError::at_line(
                    &name,
                    number,
                    "no `time` column: add one or give the row rate (rows per second)",
                ))
            }
        };
        Ok(Self {
            name,
            feed,
            delimiter,
            columns,
            header: cells.iter().map(|(_, c)| c.to_string()).collect(),
            time_col,
            rate,
            rows: 0,
            time_base: TimeBase::for_file(),
        })
    }

    /// The column names as written in the header.
    pub fn header(&self) -> &[String] {
        &self.header
    }

    fn row(&mut self, number: usize, text: &str) {
        let origin = Origin {
            file: &self.name,
            line: Some(number),
        };
        let cells = split_cells(text, self.delimiter);
        let row_index = self.rows;
        self.rows += 1;
        if cells.len() > self.columns.len()
            && cells[self.columns.len()..]
                .iter()
                .any(|(_, c)| !c.is_empty())
        {
            self.feed
                .push(Pull::Issue(SourceIssue::malformed(origin.error(format!(
                    "row has {} cells but the header names {} columns",
                    cells.len(),
                    self.columns.len()
                )))));
            return;
        }
        let time = match (self.time_col, self.rate) {
            (Some(tc), _) => {
                let (col, cell) = cells
                    .get(tc)
                    .copied()
                    .unwrap_or((text.chars().count() + 1, ""));
                let err = |m: String| {
                    let mut e = origin.error(m).with_field("time");
                    e.column = Some(col);
                    Pull::Issue(SourceIssue::malformed(e))
                };
                if is_missing(cell) {
                    self.feed.push(err("row has no time".into()));
                    return;
                }
                let raw = match cell.parse::<f64>() {
                    Ok(v) => v,
                    Err(_) => {
                        self.feed
                            .push(err(format!("`{cell}` is not a number of seconds")));
                        return;
                    }
                };
                match self.time_base.to_session(raw) {
                    Ok(t) => t,
                    Err(m) => {
                        self.feed.push(err(m.to_string()));
                        return;
                    }
                }
            }
            (None, Some(rate)) => row_index as f64 / rate,
            (None, None) => unreachable!("checked when the header was read"),
        };
        let mut values = Vec::with_capacity(cells.len());
        for (i, (col, cell)) in cells.iter().enumerate() {
            let Some(Some(field)) = self.columns.get(i).copied() else {
                continue;
            };
            if field == Field::Time || is_missing(cell) {
                continue;
            }
            match cell.parse::<f64>() {
                Ok(value) => values.push(Cell {
                    field,
                    value,
                    column: Some(*col),
                }),
                Err(_) => {
                    let mut e = origin
                        .error(format!("`{cell}` is not a number"))
                        .with_field(field.name());
                    e.column = Some(*col);
                    self.feed.push(Pull::Issue(SourceIssue::malformed(e)));
                }
            }
        }
        emit_record(&origin, time, &values, &mut self.feed.queue);
    }
}

impl Source for CsvSource {
    fn info(&self) -> SourceInfo {
        SourceInfo {
            name: self.name.display().to_string(),
            format: "csv",
            simulated: false,
            live: false,
        }
    }

    fn pull(&mut self, wait: Duration) -> Pull {
        self.pull_lines(wait)
    }
}

impl LineSource for CsvSource {
    fn feed(&mut self) -> (&Path, &mut LineFeed) {
        (&self.name, &mut self.feed)
    }

    fn line(&mut self, number: usize, text: &str, _arrival: Option<f64>) {
        self.row(number, text);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signal::{Reading, SensorData, Value};
    use crate::sources::IssueKind;

    fn read(text: &str, options: CsvOptions) -> Vec<Result<SensorData, SourceIssue>> {
        CsvSource::from_reader("t.csv", std::io::Cursor::new(text.to_string()), options)
            .unwrap()
            .items()
            .collect()
    }

    fn reading(time: f64, value: Value) -> Result<SensorData, SourceIssue> {
        Ok(SensorData::Reading(Reading { time, value }))
    }

    #[test]
    fn unix_times_count_from_the_first_row() {
        let got = read(
            "# a comment\ntime,hr,rr_ms,eda_us,acc_x,acc_y,acc_z\n1560279825.0,72,,2.5,0,0,1\n\n1560279826.5,,812,,,,\n",
            CsvOptions::default(),
        );
        assert_eq!(
            got,
            vec![
                reading(0.0, Value::HeartRate(72.0)),
                reading(0.0, Value::Eda(2.5)),
                reading(0.0, Value::Acc([0.0, 0.0, 1.0])),
                reading(1.5, Value::Rr(812.0)),
            ]
        );
    }

    #[test]
    fn bad_cells_are_located_and_the_file_goes_on() {
        let got = read(
            "time;hr;eda_us;gyro\n0;70;1\n1;abc;-3\nx;70;1\n3;NaN;\n4;300;2\n5;71;1;9;9\n6;72;;\n",
            CsvOptions::default(),
        );
        let errs: Vec<String> = got
            .iter()
            .filter_map(|x| x.as_ref().err().map(|e| e.error.to_string()))
            .collect();
        assert_eq!(
            errs,
            vec![
                "t.csv:1:16: field `gyro`: unknown column `gyro` ignored",
                "t.csv:3:3: field `hr`: `abc` is not a number",
                "t.csv:3:7: field `eda_us`: EDA -3 µS is outside the plausible range 0–100 µS",
                "t.csv:4:1: field `time`: `x` is not a number of seconds",
                "t.csv:5:3: field `hr`: heart rate is NaN, not a number",
                "t.csv:6:3: field `hr`: heart rate 300 bpm is outside the plausible range 20–250 bpm",
                "t.csv:7: row has 5 cells but the header names 4 columns",
            ]
        );
        let kinds: Vec<IssueKind> = got
            .iter()
            .filter_map(|x| x.as_ref().err().map(|e| e.kind))
            .collect();
        assert_eq!(kinds[0], IssueKind::Unused);
        assert_eq!(kinds[2], IssueKind::Implausible);
        let ok: Vec<_> = got.into_iter().filter(|x| x.is_ok()).collect();
        assert_eq!(
            ok,
            vec![
                reading(0.0, Value::HeartRate(70.0)),
                reading(0.0, Value::Eda(1.0)),
                reading(4.0, Value::Eda(2.0)),
                reading(6.0, Value::HeartRate(72.0)),
            ]
        );
    }

    #[test]
    fn rate_gives_times_without_a_time_column() {
        let got = read("hr\n60\n61\n\n62\n", CsvOptions { rate: Some(2.0) });
        assert_eq!(
            got,
            vec![
                reading(0.0, Value::HeartRate(60.0)),
                reading(0.5, Value::HeartRate(61.0)),
                reading(1.0, Value::HeartRate(62.0)),
            ]
        );
    }

    #[test]
    fn header_problems_are_errors() {
        let e = |text: &str| {
            CsvSource::from_reader(
                "h.csv",
                std::io::Cursor::new(text.to_string()),
                CsvOptions::default(),
            )
            .unwrap_err()
            .to_string()
        };
        assert_eq!(
            e(""),
            "h.csv: empty file: expected a header naming the columns (e.g. time,hr,eda_us)"
        );
        assert!(e("1,2,3\n").starts_with("h.csv:1: no header"));
        assert!(e("time,foo\n").contains("no known data column"));
        assert!(e("hr\n60\n").contains("no `time` column"));
        assert_eq!(
            e("time,hr,heart_rate\n"),
            "h.csv:1:9: field `hr`: column `heart_rate` appears twice (as `hr`)"
        );
    }
}
