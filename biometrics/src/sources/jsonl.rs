//! JSON Lines: one object per line with the field names of [`super::fields`], from a file
//! or live from stdin (to pipe any other program into a session).
//!
//! ```text
//! {"time": 0.0, "hr": 72, "eda_us": 2.31}
//! {"time": 0.8, "rr_ms": 812}
//! {"acc_x": 0.01, "acc_y": -0.02, "acc_z": 0.99, "contact": true}
//! ```
//!
//! * `time` is detected as relative seconds, unix seconds or unix milliseconds (see
//!   [`super::time_base`]). From a file, a line without `time` needs
//!   [`JsonLinesOptions::rate`]; live, such a line is stamped with its arrival time, and the
//!   first time stamp is pinned to its arrival so later ones keep the sender's pace.
//! * `null` means "no value"; `contact` also takes `true`/`false`.
//! * Unknown keys are ignored and reported once each; a line that is not a JSON object,
//!   or a value of the wrong type, is reported with file, line, column and field, and
//!   reading goes on. NaN, infinite and implausible values are rejected.
//!
//! Read on the input thread (live, replay) or the control thread (offline).

use std::collections::HashSet;
use std::io::{BufRead, Read};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value as Json;

use super::fields::{emit_record, Cell, Field, Origin};
use super::line_source::{LineFeed, LineSource, Skip};
use super::lines::{open_file, LineInput, LiveLines};
use super::replay::Clock;
use super::source::{Pull, Source, SourceInfo, SourceIssue};
use super::time_base::TimeBase;
use crate::source_error::SourceError;

/// How to read JSON Lines.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct JsonLinesOptions {
    /// Lines per second, for files whose lines carry no `time` (line *n* of data is at
    /// *n*/rate s). Ignored for lines with a `time`, and for live input.
    pub rate: Option<f64>,
}

/// JSON Lines from a file, a reader or stdin; see the [module documentation](self).
pub struct JsonLinesSource {
    name: PathBuf,
    feed: LineFeed,
    live: bool,
    rate: Option<f64>,
    records: u64,
    time_base: TimeBase,
    unknown: HashSet<String>,
}

impl std::fmt::Debug for JsonLinesSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JsonLinesSource")
            .field("name", &self.name)
            .field("live", &self.live)
            .finish()
    }
}

impl JsonLinesSource {
    /// Opens a JSON Lines file.
    pub fn open(path: impl AsRef<Path>, options: JsonLinesOptions) -> Result<Self, SourceError> {
        let path = path.as_ref();
        Self::from_reader(path, open_file(path)?, options)
    }

    /// Reads JSON Lines from `reader` as a file named `name`.
    pub fn from_reader(
        name: impl Into<PathBuf>,
        reader: impl BufRead + Send + 'static,
        options: JsonLinesOptions,
    ) -> Result<Self, SourceError> {
        let name = name.into();
        if let Some(r) = options.rate {
            if !(r.is_finite() && r > 0.0) {
                return Err(SourceError::file(
                    &name,
                    format!("line rate {r} Hz is not a positive number"),
                ));
            }
        }
        Ok(Self {
            feed: LineFeed::file(reader, Skip::Blank),
            live: false,
            rate: options.rate,
            ..Self::blank(name)
        })
    }

    /// Live JSON Lines from standard input, stamped with `clock` (the session clock).
    /// A helper thread reads stdin; the source ends when stdin closes.
    pub fn stdin<C: Clock + 'static>(clock: C) -> std::io::Result<Self> {
        Self::live("stdin", std::io::stdin(), clock)
    }

    /// Live JSON Lines from any blocking reader (a pipe, a socket), read on a helper thread
    /// and stamped with `clock` on arrival.
    pub fn live<R: Read + Send + 'static, C: Clock + 'static>(
        name: impl Into<PathBuf>,
        reader: R,
        clock: C,
    ) -> std::io::Result<Self> {
        Ok(Self {
            feed: LineFeed::new(
                LineInput::Live(LiveLines::spawn(reader, clock)?),
                Skip::Blank,
            ),
            live: true,
            ..Self::blank(name.into())
        })
    }

    fn blank(name: PathBuf) -> Self {
        Self {
            name,
            feed: LineFeed::file(std::io::empty(), Skip::Blank),
            live: false,
            rate: None,
            records: 0,
            time_base: TimeBase::for_file(),
            unknown: HashSet::new(),
        }
    }

    fn parse_line(&mut self, number: usize, text: &str, arrival: Option<f64>) {
        let origin = Origin {
            file: &self.name,
            line: Some(number),
        };
        let obj = match serde_json::from_str::<Json>(text) {
            Ok(Json::Object(m)) => m,
            Ok(other) => {
                let kind = match other {
                    Json::Array(_) => "an array",
                    Json::String(_) => "a string",
                    Json::Number(_) => "a number",
                    Json::Bool(_) => "a boolean",
                    _ => "null",
                };
                self.feed.push(Pull::Issue(SourceIssue::malformed(
                    origin.error(format!("expected a JSON object, found {kind}")),
                )));
                return;
            }
            Err(e) => {
                let mut err = origin.error(format!("not valid JSON: {e}"));
                err.column = Some(e.column().max(1));
                self.feed.push(Pull::Issue(SourceIssue::malformed(err)));
                return;
            }
        };
        let record_index = self.records;
        self.records += 1;
        let mut cells = Vec::with_capacity(obj.len());
        let mut raw_time = None;
        for (key, value) in &obj {
            let Some(field) = Field::parse(key) else {
                if self.unknown.insert(key.clone()) {
                    self.feed.push(Pull::Issue(SourceIssue::unused(
                        origin
                            .error(format!("unknown key `{key}` ignored"))
                            .with_field(key.as_str()),
                    )));
                }
                continue;
            };
            let number = match value {
                Json::Null => continue,
                Json::Number(n) => n.as_f64(),
                Json::Bool(b) if field == Field::Contact => Some(if *b { 1.0 } else { 0.0 }),
                _ => None,
            };
            let Some(v) = number else {
                self.feed.push(Pull::Issue(SourceIssue::malformed(
                    origin
                        .error(format!("expected a number, found `{value}`"))
                        .with_field(key.as_str()),
                )));
                if field == Field::Time {
                    return;
                }
                continue;
            };
            if field == Field::Time {
                raw_time = Some(v);
            } else {
                cells.push(Cell {
                    field,
                    value: v,
                    column: None,
                });
            }
        }
        // Canonical field order, whatever order the object's keys came in.
        cells.sort_by_key(|c| Field::ALL.iter().position(|f| *f == c.field));
        let time = match (raw_time, arrival, self.rate) {
            (Some(raw), _, _) => {
                if let Some(a) = arrival {
                    self.time_base.set_anchor(a);
                }
                match self.time_base.to_session(raw) {
                    Ok(t) => t,
                    Err(m) => {
                        self.feed.push(Pull::Issue(SourceIssue::malformed(
                            origin.error(m.to_string()).with_field("time"),
                        )));
                        return;
                    }
                }
            }
            (None, Some(a), _) => a,
            (None, None, Some(rate)) => record_index as f64 / rate,
            (None, None, None) => {
                self.feed.push(Pull::Issue(SourceIssue::malformed(
                    origin
                        .error(
                            "line has no `time` (give a line rate for files without time stamps)",
                        )
                        .with_field("time"),
                )));
                return;
            }
        };
        emit_record(&origin, time, &cells, &mut self.feed.queue);
    }
}

impl Source for JsonLinesSource {
    fn info(&self) -> SourceInfo {
        SourceInfo {
            name: self.name.display().to_string(),
            format: "jsonl",
            simulated: false,
            live: self.live,
        }
    }

    fn pull(&mut self, wait: Duration) -> Pull {
        self.pull_lines(wait)
    }
}

impl LineSource for JsonLinesSource {
    fn feed(&mut self) -> (&Path, &mut LineFeed) {
        (&self.name, &mut self.feed)
    }

    fn line(&mut self, number: usize, text: &str, arrival: Option<f64>) {
        self.parse_line(number, text, arrival);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signal::{Reading, SensorData, Value};
    use crate::sources::VirtualClock;

    fn reading(time: f64, value: Value) -> Result<SensorData, SourceIssue> {
        Ok(SensorData::Reading(Reading { time, value }))
    }

    fn read(text: &str) -> Vec<Result<SensorData, SourceIssue>> {
        JsonLinesSource::from_reader(
            "t.jsonl",
            std::io::Cursor::new(text.to_string()),
            JsonLinesOptions::default(),
        )
        .unwrap()
        .items()
        .collect()
    }

    #[test]
    fn reads_objects_and_reports_bad_lines() {
        let got = read(concat!(
            "{\"time\": 1560279825, \"hr\": 72, \"eda_us\": null}\n",
            "\n",
            "{\"time\": 1560279826.25, \"rr_ms\": 812, \"contact\": false, \"note\": \"x\"}\n",
            "[1,2]\n",
            "{\"time\": 1560279827, \"hr\": \"fast\"}\n",
            "{\"time\": 1560279827, \"hr\": 1e400}\n",
            "{\"hr\": 70}\n",
            "{\"time\": 1560279828, \"hr\": 19, \"note\": 1}\n",
        ));
        let errs: Vec<String> = got
            .iter()
            .filter_map(|x| x.as_ref().err().map(|e| e.error.to_string()))
            .collect();
        assert_eq!(errs.len(), 6, "{errs:#?}");
        assert_eq!(
            errs[0],
            "t.jsonl:3: field `note`: unknown key `note` ignored"
        );
        assert_eq!(errs[1], "t.jsonl:4: expected a JSON object, found an array");
        assert_eq!(
            errs[2],
            "t.jsonl:5: field `hr`: expected a number, found `\"fast\"`"
        );
        assert!(errs[3].starts_with("t.jsonl:6:"), "{}", errs[3]);
        assert!(errs[4].starts_with("t.jsonl:7: field `time`: line has no `time`"));
        assert!(errs[5].contains("heart rate 19 bpm"));
        let ok: Vec<_> = got.into_iter().filter(|x| x.is_ok()).collect();
        assert_eq!(
            ok,
            vec![
                reading(0.0, Value::HeartRate(72.0)),
                reading(1.25, Value::Rr(812.0)),
                reading(1.25, Value::ContactLost),
            ]
        );
    }

    #[test]
    fn live_lines_are_stamped_on_arrival() {
        let clock = VirtualClock::new();
        clock.set(42.0);
        let text = "{\"hr\": 70}\n{\"time\": 1000, \"hr\": 71}\n{\"time\": 1002, \"hr\": 72}\n";
        let mut s = JsonLinesSource::live("pipe", std::io::Cursor::new(text), clock).unwrap();
        assert!(s.info().live);
        let got: Vec<_> = std::iter::from_fn(|| Source::next(&mut s)).collect();
        assert_eq!(
            got,
            vec![
                reading(42.0, Value::HeartRate(70.0)),
                reading(42.0, Value::HeartRate(71.0)),
                reading(44.0, Value::HeartRate(72.0)),
            ]
        );
    }
}
