//! Line input for the text formats: numbered lines from a file or reader, or from a live
//! stream (stdin) read on a helper thread and stamped with its arrival time.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;
use std::time::Duration;

use crossbeam_channel::{bounded, Receiver, RecvTimeoutError};

use super::replay::Clock;
use crate::source_error::SourceError;

/// Opens the file at `path` for reading, with an error naming it when that fails.
pub(crate) fn open_file(path: &Path) -> Result<BufReader<File>, SourceError> {
    File::open(path)
        .map(BufReader::new)
        .map_err(|e| SourceError::file(path, format!("cannot open: {e}")))
}

/// One line: its 1-based number and its text (or why it is not text).
pub(crate) struct Line {
    pub number: usize,
    pub text: Result<String, String>,
    /// Session time at which a live line arrived.
    pub arrival: Option<f64>,
}

/// What reading the next line gave.
pub(crate) enum NextLine {
    Line(Line),
    /// Nothing arrived within the wait (live only).
    Pending,
    /// End of input.
    End,
    /// Reading failed; the input cannot go on.
    Failed(io::Error),
}

fn to_text(mut bytes: Vec<u8>) -> Result<String, String> {
    if bytes.last() == Some(&b'\n') {
        bytes.pop();
    }
    if bytes.last() == Some(&b'\r') {
        bytes.pop();
    }
    String::from_utf8(bytes).map_err(|e| {
        format!(
            "line is not valid UTF-8 text (bad byte at offset {})",
            e.utf8_error().valid_up_to()
        )
    })
}

/// Numbered lines from a blocking reader (files, in-memory text).
pub(crate) struct LineReader {
    inner: Box<dyn BufRead + Send>,
    number: usize,
    done: bool,
}

impl LineReader {
    pub(crate) fn new(inner: Box<dyn BufRead + Send>) -> Self {
        Self {
            inner,
            number: 0,
            done: false,
        }
    }

    pub(crate) fn next_line(&mut self) -> NextLine {
        if self.done {
            return NextLine::End;
        }
        let mut buf = Vec::new();
        match self.inner.read_until(b'\n', &mut buf) {
            Ok(0) => {
                self.done = true;
                NextLine::End
            }
            Ok(_) => {
                self.number += 1;
                NextLine::Line(Line {
                    number: self.number,
                    text: to_text(buf),
                    arrival: None,
                })
            }
            Err(e) => {
                self.done = true;
                NextLine::Failed(e)
            }
        }
    }
}

struct LiveLine {
    arrival: f64,
    bytes: io::Result<Vec<u8>>,
}

/// Lines read from a blocking reader on a helper thread, so that waiting for the next
/// line is bounded. The helper thread ends at end of input (or when this is dropped and
/// the next line arrives).
pub(crate) struct LiveLines {
    rx: Receiver<LiveLine>,
    number: usize,
    done: bool,
}

impl LiveLines {
    pub(crate) fn spawn<R, C>(reader: R, clock: C) -> io::Result<Self>
    where
        R: Read + Send + 'static,
        C: Clock + 'static,
    {
        let (tx, rx) = bounded::<LiveLine>(1024);
        std::thread::Builder::new()
            .name("isochord-lines".into())
            .spawn(move || {
                let mut r = io::BufReader::new(reader);
                loop {
                    let mut buf = Vec::new();
                    let res = r.read_until(b'\n', &mut buf);
                    let arrival = clock.now();
                    let (item, last) = match res {
                        Ok(0) => return,
                        Ok(_) => (Ok(buf), false),
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                        Err(e) => (Err(e), true),
                    };
                    if tx
                        .send(LiveLine {
                            arrival,
                            bytes: item,
                        })
                        .is_err()
                        || last
                    {
                        return;
                    }
                }
            })?;
        Ok(Self {
            rx,
            number: 0,
            done: false,
        })
    }

    pub(crate) fn next_line(&mut self, wait: Duration) -> NextLine {
        if self.done {
            return NextLine::End;
        }
        match self.rx.recv_timeout(wait) {
            Ok(LiveLine {
                arrival,
                bytes: Ok(b),
            }) => {
                self.number += 1;
                NextLine::Line(Line {
                    number: self.number,
                    text: to_text(b),
                    arrival: Some(arrival),
                })
            }
            Ok(LiveLine { bytes: Err(e), .. }) => {
                self.done = true;
                NextLine::Failed(e)
            }
            Err(RecvTimeoutError::Timeout) => NextLine::Pending,
            Err(RecvTimeoutError::Disconnected) => {
                self.done = true;
                NextLine::End
            }
        }
    }
}

/// Either kind of line input.
pub(crate) enum LineInput {
    File(LineReader),
    Live(LiveLines),
}

impl LineInput {
    pub(crate) fn next_line(&mut self, wait: Duration) -> NextLine {
        match self {
            LineInput::File(r) => r.next_line(),
            LineInput::Live(l) => l.next_line(wait),
        }
    }
}

/// Splits a delimited line into trimmed cells with the 1-based character column at which
/// each starts; a cell wrapped in double quotes loses them (no quoted delimiters).
pub(crate) fn split_cells(line: &str, delimiter: char) -> Vec<(usize, &str)> {
    let mut cells = Vec::new();
    let mut start_byte = 0;
    let mut start_col = 1;
    for (col, (i, ch)) in (1..).zip(line.char_indices()) {
        if ch == delimiter {
            cells.push((start_col, &line[start_byte..i]));
            start_byte = i + ch.len_utf8();
            start_col = col + 1;
        }
    }
    cells.push((start_col, &line[start_byte..]));
    cells
        .into_iter()
        .map(|(c, s)| {
            let lead = s.len() - s.trim_start().len();
            let col = c + s[..lead].chars().count();
            let t = s.trim();
            let t = t
                .strip_prefix('"')
                .and_then(|x| x.strip_suffix('"'))
                .unwrap_or(t);
            (col, t)
        })
        .collect()
}

/// Picks the delimiter of a header line: the most frequent of `,`, `;` and tab (comma when
/// there is none).
pub(crate) fn detect_delimiter(header: &str) -> char {
    let count = |c| header.matches(c).count();
    let mut best = (',', count(','));
    for c in [';', '\t'] {
        if count(c) > best.1 {
            best = (c, count(c));
        }
    }
    best.0
}

/// A cell that stands for "no value".
pub(crate) fn is_missing(cell: &str) -> bool {
    cell.is_empty() || cell.eq_ignore_ascii_case("na") || cell.eq_ignore_ascii_case("null")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_cells_with_columns() {
        let c = split_cells("1.5, 72,\"x\" ,", ',');
        assert_eq!(c, vec![(1, "1.5"), (6, "72"), (9, "x"), (14, "")]);
        assert_eq!(detect_delimiter("time;hr;eda_us"), ';');
        assert_eq!(detect_delimiter("time\thr"), '\t');
        assert_eq!(detect_delimiter("time"), ',');
    }

    #[test]
    fn numbers_lines_and_flags_bad_text() {
        let data: &[u8] = b"a\r\nb\xff\nc";
        let mut r = LineReader::new(Box::new(data));
        let mut got = Vec::new();
        while let NextLine::Line(l) = r.next_line() {
            got.push((l.number, l.text.is_ok()));
        }
        assert_eq!(got, vec![(1, true), (2, false), (3, true)]);
    }
}
