//! Reading a session log for a report: every line is parsed and checked, and a problem
//! is reported with the file, the line number and what is wrong. A log without its
//! closing summary line is a partial session (the process stopped before the end), as is
//! one whose summary came before the planned duration (stopped early, e.g. by Ctrl-C).
//!
//! Runs on the control/batch side.

use super::timeline::{parse_second, Decision, Row};
use crate::log_schema::{LogHeader, LogSummary, LOG_FORMAT_VERSION};
use isochord_biometrics::SourceError;
use serde_json::Value as Json;
use std::path::{Path, PathBuf};

/// A log that cannot be reported on, or a report that cannot be written: the file, the
/// 1-based line of the log when the problem is on one line, and what is wrong. The same
/// type as a source's errors ([`SourceError`]).
pub type ReportError = SourceError;

/// A session log, read and checked.
#[derive(Clone, Debug)]
pub struct SessionData {
    /// The log file.
    pub path: PathBuf,
    /// The header record (session facts).
    pub header: LogHeader,
    /// One row per logged second, in time order.
    pub rows: Vec<Row>,
    /// Every decision logged, sorted by time (stable: same-time decisions keep the log's
    /// order).
    pub decisions: Vec<Decision>,
    /// The closing summary record; `None` when the process stopped before writing it.
    pub summary: Option<LogSummary>,
    /// The 1-based number of a torn last line that was left out (the process was killed
    /// while writing it), if there was one.
    pub torn_line: Option<usize>,
}

impl SessionData {
    /// Planned session length, seconds (from the header).
    pub fn planned_s(&self) -> Option<f64> {
        self.header.duration_s
    }

    /// Session time of the last logged second (0 when none was).
    pub fn end_s(&self) -> f64 {
        self.rows.last().map_or(0.0, |r| r.t)
    }

    /// Why the session is partial, or `None` when it ran to its planned end.
    pub fn partial_reason(&self) -> Option<String> {
        let Some(s) = &self.summary else {
            return Some(format!(
                "the log ends at {:.0} s without its summary line: the session stopped before its end{}",
                self.end_s(),
                match self.torn_line {
                    Some(n) => format!(" (its last line, {n}, was cut off mid-record and is left out)"),
                    None => String::new(),
                }
            ));
        };
        let t = s.t;
        match self.planned_s() {
            Some(p) if t + 0.5 < p => {
                Some(format!("stopped early at {t:.0} s of the planned {p:.0} s"))
            }
            _ => None,
        }
    }

    /// Whether the session replayed a recording (rendered after the fact) rather than
    /// measuring the listener as it played.
    pub fn is_replay(&self) -> bool {
        self.header.replay == Some(true)
    }

    /// When the physiological data were recorded (RFC 3339 UTC): the recording's own
    /// start time for a replay that has one (`recording_started_at`), the session's
    /// start for a live or simulated one; `None` for a replay of a recording without a
    /// start time.
    pub fn recording_start(&self) -> Option<String> {
        if let Some(t) = &self.header.recording_started_at {
            return Some(t.clone());
        }
        if self.is_replay() {
            None
        } else {
            self.header.started_at.clone()
        }
    }

    /// When the session's data were recorded, in words: the recording's start, or for
    /// a replay, that it is a replay and when it was rendered, beside the recording's
    /// own start where it has one.
    pub fn when_recorded(&self) -> String {
        let rendered = || {
            self.header
                .started_at
                .clone()
                .unwrap_or_else(|| "at a time not logged".into())
        };
        match (self.recording_start(), self.is_replay()) {
            (Some(t), true) => format!("recorded {t}; replayed {}", rendered()),
            (Some(t), false) => t,
            (None, true) => format!(
                "replay of a recording without a start time; rendered {}",
                rendered()
            ),
            (None, false) => "start time not logged".into(),
        }
    }

    /// A header field, by its name in the log, as text (`None` when absent or null).
    pub fn fact(&self, key: &str) -> Option<String> {
        let header = serde_json::to_value(&self.header).ok()?;
        match header.get(key)? {
            Json::Null => None,
            Json::String(s) => Some(s.clone()),
            v => Some(v.to_string()),
        }
    }
}

/// Reads the session log at `path`.
pub fn read_log(path: &Path) -> Result<SessionData, ReportError> {
    let text = std::fs::read(path).map_err(|e| SourceError::io(path, e))?;
    let text = String::from_utf8(text).map_err(|e| {
        let line = text_line_of(&e.as_bytes()[..e.utf8_error().valid_up_to()]);
        SourceError::at_line(path, line, "not UTF-8 text")
    })?;
    parse_log(path, &text)
}

fn text_line_of(bytes: &[u8]) -> usize {
    bytes.iter().filter(|b| **b == b'\n').count() + 1
}

/// Parses the text of a session log (`path` names it in errors).
pub fn parse_log(path: &Path, text: &str) -> Result<SessionData, ReportError> {
    let lines: Vec<&str> = text.lines().collect();
    if lines.iter().all(|l| l.trim().is_empty()) {
        return Err(SourceError::at_line(
            path,
            1,
            "empty file: not a session log",
        ));
    }
    let ends_with_newline = text.ends_with('\n');
    let mut header: Option<LogHeader> = None;
    let mut rows: Vec<Row> = Vec::new();
    let mut decisions = Vec::new();
    let mut summary = None;
    let mut torn_line = None;
    for (i, line) in lines.iter().enumerate() {
        let n = i + 1;
        if line.trim().is_empty() {
            continue;
        }
        let last = i + 1 == lines.len();
        let value: Json = match serde_json::from_str(line) {
            Ok(v) => v,
            // a killed process leaves at most its last line cut off mid-record: that
            // record is left out and the session reported as partial
            Err(e) if last && !ends_with_newline && e.is_eof() && header.is_some() => {
                torn_line = Some(n);
                break;
            }
            Err(e) => {
                return Err(SourceError::at_line(
                    path,
                    n,
                    format!("not valid JSON: {e}"),
                ))
            }
        };
        let Json::Object(rec) = value else {
            return Err(SourceError::at_line(
                path,
                n,
                "a record must be a JSON object",
            ));
        };
        let kind = rec
            .get("record")
            .and_then(Json::as_str)
            .ok_or_else(|| {
                SourceError::at_line(path, n, "missing \"record\" (header, second or summary)")
            })?
            .to_string();
        if summary.is_some() {
            return Err(SourceError::at_line(
                path,
                n,
                format!(
                    "a \"{kind}\" record after the summary (the summary must be the last line)"
                ),
            ));
        }
        match (kind.as_str(), header.is_some()) {
            ("header", false) => {
                let v = rec
                    .get("format_version")
                    .and_then(Json::as_u64)
                    .ok_or_else(|| {
                        SourceError::at_line(path, n, "header without a numeric \"format_version\"")
                    })?;
                if v > LOG_FORMAT_VERSION as u64 {
                    return Err(SourceError::at_line(
                        path,
                        n,
                        format!("log format version {v} is newer than this program reads ({LOG_FORMAT_VERSION}); update isochord"),
                    ));
                }
                let mut rec = rec;
                rec.remove("record");
                header = Some(
                    serde_json::from_value(Json::Object(rec))
                        .map_err(|e| SourceError::at_line(path, n, format!("header: {e}")))?,
                );
            }
            ("header", true) => {
                return Err(SourceError::at_line(path, n, "a second header record"));
            }
            (_, false) => {
                return Err(SourceError::at_line(
                    path,
                    n,
                    format!("the first record must be the header, not \"{kind}\""),
                ));
            }
            ("second", true) => {
                let second = parse_second(&rec).map_err(|m| SourceError::at_line(path, n, m.0))?;
                let row = Row::from_second(&second);
                if let Some(prev) = rows.last() {
                    if row.t <= prev.t {
                        return Err(SourceError::at_line(
                            path,
                            n,
                            format!("time goes backwards: t = {} after t = {}", row.t, prev.t),
                        ));
                    }
                }
                decisions.extend(second.decisions.iter().flatten().map(Decision::from));
                rows.push(row);
            }
            ("summary", true) => {
                if rec.get("t").and_then(Json::as_f64).is_none() {
                    return Err(SourceError::at_line(
                        path,
                        n,
                        "summary without a numeric \"t\"",
                    ));
                }
                let mut rec = rec;
                rec.remove("record");
                let s: LogSummary = serde_json::from_value(Json::Object(rec))
                    .map_err(|e| SourceError::at_line(path, n, format!("summary: {e}")))?;
                decisions.extend(s.decisions.iter().map(Decision::from));
                summary = Some(s);
            }
            (other, true) => {
                return Err(SourceError::at_line(
                    path,
                    n,
                    format!("unknown record \"{other}\" (expected second or summary)"),
                ));
            }
        }
    }
    let header = header.expect("a non-empty log has a first record");
    // decisions are logged with the second they were written in, some with an earlier
    // time of their own (an estimate's window end): the report lists them in time order
    decisions.sort_by(|a, b| a.time.total_cmp(&b.time));
    Ok(SessionData {
        path: path.to_path_buf(),
        header,
        rows,
        decisions,
        summary,
        torn_line,
    })
}
